"""RFC 9470 step-up: Require conduktor-acr and ConduktorAuthMaxAge, each and
together, combined with <RequireAll>/<RequireAny>, <Limit> and <If>; and
ConduktorAuthMaxTokenLifetime (SPEC "Scopes, step-up, token lifetime,
resource metadata", "Responses")."""
import time

import pytest

from harness import assert_denied, challenge_params, protect

IUA = "insufficient_user_authentication"


def now():
    return int(time.time())


def assert_step_up(h, r, reason, acr_values=None, max_age=None, token=None):
    """A 401 insufficient_user_authentication with exactly the parameters
    the failed checks ask for, and the reason in CONDUKTOR_AUTH_ERROR."""
    params = assert_denied(r, 401, error=IUA, token=token)
    if acr_values is None:
        assert "acr_values" not in params, params
    else:
        assert params.get("acr_values") == acr_values, params
    if max_age is None:
        assert "max_age" not in params, params
    else:
        assert params.get("max_age") == str(max_age), params
    assert "scope" not in params, params
    assert h.last_access()["error"] == reason
    return params


# ---- Require conduktor-acr ----------------------------------------------------------
@pytest.fixture(scope="module")
def acr_h(shared_httpd):
    return shared_httpd(protect(require="Require conduktor-acr gold urn:example:mfa"))


@pytest.mark.parametrize("acr", ["gold", "urn:example:mfa"])
def test_acr_listed_grants(acr_h, acr):
    assert acr_h.get(token=acr_h.mint(acr=acr)).status == 200


@pytest.mark.parametrize("claims", [
    dict(acr="silver"), dict(acr="Gold"), dict(acr="gol"), dict(acr="gold "),
    dict(acr="gold urn:example:mfa"), dict(drop=["acr"]),
    # other types: a refusal like any other, never a 500
    dict(acr=["gold"]), dict(acr=1), dict(acr=None), dict(acr={"gold": True}),
])
def test_acr_not_listed_asks_for_step_up(acr_h, backend, claims):
    h = acr_h
    before = len(backend.requests())
    tok = h.mint(**claims)
    r = h.get(token=tok)
    assert_step_up(h, r, "acr_denied", acr_values="gold urn:example:mfa", token=tok)
    assert r.json()["error"] == IUA
    assert h.last_access()["user"] == "alice@example.test"
    assert len(backend.requests()) == before


def test_acr_without_token_is_plain_401(acr_h):
    params = assert_denied(acr_h.get(), 401)
    assert "acr_values" not in params
    assert acr_h.last_access()["error"] == "no_token"


def test_acr_quoting_in_challenge(httpd):
    # An acr value with a double quote or backslash is quoted, not spliced.
    h = httpd(protect(require=r'Require conduktor-acr "a\"b" c\\d'))
    r = h.get(token=h.mint(acr="x"))
    assert r.status == 401
    raw = r.header("WWW-Authenticate")
    assert 'acr_values="a\\"b c\\\\d"' in raw, raw
    _, params = challenge_params(raw)
    assert params["acr_values"] == 'a"b c\\d'
    assert h.get(token=h.mint(acr='a"b')).status == 200


def test_acr_forbidden_on_failure_still_step_up(httpd):
    # AuthzSendForbiddenOnFailure makes httpd answer 403; a step-up is 401.
    h = httpd(protect("AuthzSendForbiddenOnFailure On",
                      require="Require conduktor-acr gold"))
    assert_step_up(h, h.get(token=h.mint(acr="bronze")), "acr_denied", acr_values="gold")


# ---- ConduktorAuthMaxAge --------------------------------------------------------------
@pytest.fixture(scope="module")
def age_h(shared_httpd):
    return shared_httpd(protect("ConduktorAuthMaxAge 300", "ConduktorAuthClockSkew 0"))


@pytest.mark.parametrize("ago", [0, 100, 295])
def test_max_age_recent_enough(age_h, ago):
    assert age_h.get(token=age_h.mint(auth_time=now() - ago)).status == 200


@pytest.mark.parametrize("claims", [
    dict(auth_time=-400), dict(auth_time=-3600), dict(drop=["auth_time"]),
    dict(auth_time="recent"), dict(auth_time=1.5), dict(auth_time=None), dict(auth_time=[1]),
])
def test_max_age_too_old_or_missing(age_h, backend, claims):
    h = age_h
    if isinstance(claims.get("auth_time"), int):
        claims = dict(auth_time=now() + claims["auth_time"])
    before = len(backend.requests())
    tok = h.mint(**claims)
    assert_step_up(h, h.get(token=tok), "auth_too_old", max_age=300, token=tok)
    # granted by Require valid-user, refused all the same: never proxied
    assert len(backend.requests()) == before


def test_max_age_clock_skew_applies(httpd):
    h = httpd(protect("ConduktorAuthMaxAge 300", "ConduktorAuthClockSkew 60"))
    assert h.get(token=h.mint(auth_time=now() - 340)).status == 200
    assert h.get(token=h.mint(auth_time=now() - 420)).status == 401


def test_max_age_and_group_denial(httpd):
    # Both fail: the step-up is asked for first (403 would not help).
    h = httpd(protect("ConduktorAuthMaxAge 60",
                      require="Require conduktor-group kafka-admins"))
    assert_step_up(h, h.get(token=h.mint(auth_time=now() - 600, groups=["x"])),
                   "auth_too_old", max_age=60)
    assert_denied(h.get(token=h.mint(auth_time=now(), groups=["x"])), 403,
                  error="insufficient_scope")
    assert h.get(token=h.mint(auth_time=now(), groups=["kafka-admins"])).status == 200


# ---- together ---------------------------------------------------------------------
@pytest.fixture(scope="module")
def both_h(shared_httpd):
    return shared_httpd(protect("ConduktorAuthMaxAge 120", "ConduktorAuthClockSkew 0",
                                require="Require conduktor-acr mfa"))


def test_together_both_fail(both_h):
    h = both_h
    assert_step_up(h, h.get(token=h.mint(acr="pwd", auth_time=now() - 900)),
                   "step_up_required", acr_values="mfa", max_age=120)


def test_together_only_age_fails(both_h):
    h = both_h
    assert_step_up(h, h.get(token=h.mint(acr="mfa", auth_time=now() - 900)),
                   "auth_too_old", max_age=120)


def test_together_only_acr_fails(both_h):
    h = both_h
    assert_step_up(h, h.get(token=h.mint(acr="pwd", auth_time=now())),
                   "acr_denied", acr_values="mfa")


def test_together_both_met(both_h):
    h = both_h
    assert h.get(token=h.mint(acr="mfa", auth_time=now() - 10)).status == 200


# ---- <RequireAll> / <RequireAny> / <Limit> / <If> -----------------------------------------
def test_require_any_acr_or_group(httpd):
    h = httpd(protect(require="""
        <RequireAny>
          Require conduktor-acr mfa
          Require conduktor-group kafka-admins
        </RequireAny>"""))
    assert h.get(token=h.mint(acr="pwd", groups=["kafka-admins"])).status == 200
    assert h.get(token=h.mint(acr="mfa", groups=["devs"])).status == 200
    assert_step_up(h, h.get(token=h.mint(acr="pwd", groups=["devs"])), "acr_denied",
                   acr_values="mfa")


def test_require_all_acr_and_group(httpd):
    h = httpd(protect(require="""
        <RequireAll>
          Require conduktor-group platform-team
          Require conduktor-acr mfa
        </RequireAll>"""))
    assert h.get(token=h.mint(acr="mfa")).status == 200
    assert_step_up(h, h.get(token=h.mint(acr="pwd")), "acr_denied", acr_values="mfa")
    assert_denied(h.get(token=h.mint(acr="mfa", groups=["devs"])), 403,
                  error="insufficient_scope")


def test_step_up_only_for_delete_with_limit(httpd):
    # Require conduktor-acr and ConduktorAuthMaxAge inside <Limit DELETE>:
    # reading needs a valid token, deleting a strong and recent login.
    h = httpd(protect("""
        <Limit DELETE>
          ConduktorAuthMaxAge 300
        </Limit>""", require="""
        <RequireAll>
          Require conduktor-group platform-team
          <Limit DELETE>
            Require conduktor-acr mfa
          </Limit>
        </RequireAll>"""))
    weak_old = h.mint(acr="pwd", auth_time=now() - 3600)
    assert h.get(token=weak_old).status == 200
    assert h.request("POST", "/api/x", token=weak_old, body="{}").status != 401
    assert_step_up(h, h.request("DELETE", "/api/x", token=weak_old), "step_up_required",
                   acr_values="mfa", max_age=300)
    strong_old = h.mint(acr="mfa", auth_time=now() - 3600)
    assert_step_up(h, h.request("DELETE", "/api/x", token=strong_old), "auth_too_old",
                   max_age=300)
    strong_new = h.mint(acr="mfa", auth_time=now())
    assert h.request("DELETE", "/api/x", token=strong_new).status not in (401, 403)


def test_max_age_limit_except(httpd):
    h = httpd(protect("""
        <LimitExcept GET HEAD>
          ConduktorAuthMaxAge 60
        </LimitExcept>"""))
    old = h.mint(auth_time=now() - 3600)
    assert h.get(token=old).status == 200
    assert h.request("HEAD", "/api/public/console/v2/kafka-cluster", token=old).status == 200
    assert_step_up(h, h.request("PUT", "/api/x", token=old, body="{}"), "auth_too_old",
                   max_age=60)


def test_max_age_strictest_rule_for_the_method(httpd):
    h = httpd(protect("""
        ConduktorAuthMaxAge 3600
        <Limit DELETE>
          ConduktorAuthMaxAge 120
        </Limit>"""))
    tok = h.mint(auth_time=now() - 600)
    assert h.get(token=tok).status == 200
    assert_step_up(h, h.request("DELETE", "/api/x", token=tok), "auth_too_old", max_age=120)
    assert_step_up(h, h.get(token=h.mint(auth_time=now() - 7200)), "auth_too_old",
                   max_age=3600)


def test_step_up_inside_if(httpd):
    h = httpd(protect("""
        <If "%{QUERY_STRING} =~ /admin/">
          ConduktorAuthMaxAge 60
          AuthMerging And
          Require conduktor-acr mfa
        </If>"""))
    tok = h.mint(acr="pwd", auth_time=now() - 3600)
    path = "/api/public/console/v2/kafka-cluster"
    assert h.get(path + "?view=list", token=tok).status == 200
    assert_step_up(h, h.get(path + "?admin=1", token=tok), "step_up_required",
                   acr_values="mfa", max_age=60)
    assert h.get(path + "?admin=1", token=h.mint(acr="mfa", auth_time=now())).status == 200


def test_nested_location_turns_max_age_off(httpd):
    h = httpd(protect("ConduktorAuthMaxAge 60"), server="""
        <Location "/api/public/console/v2/kafka-cluster">
          ConduktorAuthMaxAge off
        </Location>""")
    tok = h.mint(auth_time=now() - 3600)
    assert h.get(token=tok).status == 200
    assert h.get("/api/other", token=tok).status == 401


def test_step_up_counted_per_reason(httpd):
    h = httpd(protect("ConduktorAuthMaxAge 60", require="Require conduktor-acr mfa"),
              server="""
        <Location "/conduktor-auth-status">
          SetHandler conduktor-auth-status
          Require all granted
        </Location>""")
    h.get(token=h.mint(acr="pwd", auth_time=now()))
    h.get(token=h.mint(acr="mfa", auth_time=now() - 3600))
    h.get(token=h.mint(acr="pwd", auth_time=now() - 3600))
    text = h.get("/conduktor-auth-status").text
    for reason in ("acr_denied", "auth_too_old", "step_up_required"):
        lines = [l for l in text.splitlines() if 'reason="%s"' % reason in l
                 and not l.startswith("#")]
        assert lines and lines[0].endswith(" 1"), (reason, lines)


# ---- ConduktorAuthMaxTokenLifetime ------------------------------------------------------
@pytest.fixture(scope="module")
def life_h(shared_httpd):
    return shared_httpd(protect("ConduktorAuthMaxTokenLifetime 600"), server="""
        <Location "/api/unlimited">
          ConduktorAuthMaxTokenLifetime off
        </Location>""")


def test_lifetime_at_limit(life_h):
    t = now()
    assert life_h.get(token=life_h.mint(iat=t, exp=t + 600)).status == 200


@pytest.mark.parametrize("claims", [
    lambda t: dict(iat=t, exp=t + 601),
    lambda t: dict(iat=t - 86000, exp=t + 400),       # a day-long token
    lambda t: dict(exp=t + 300, drop=["iat"]),         # no iat: lifetime unknown
])
def test_lifetime_too_long_or_unknown(life_h, backend, claims):
    h = life_h
    before = len(backend.requests())
    tok = h.mint(**claims(now()))
    r = h.get(token=tok)
    params = assert_denied(r, 401, error="invalid_token", token=tok)
    assert "lifetime" in params["error_description"]
    assert h.last_access()["error"] == "token_lifetime_too_long"
    assert h.last_access()["user"] == "-"
    assert len(backend.requests()) == before


def test_lifetime_bad_iat_is_bad_time_claim(life_h):
    h = life_h
    assert_denied(h.get(token=h.mint(iat="yesterday")), 401, error="invalid_token")
    assert h.last_access()["error"] == "bad_time_claim"


def test_lifetime_applies_to_cached_tokens(life_h):
    # Accepted (and cached) where there is no limit, refused where there is.
    h = life_h
    t = now()
    tok = h.mint(iat=t - 7200, exp=t + 300)
    assert h.get("/api/unlimited/x", token=tok).status != 401
    assert h.last_access()["error"] == "-"
    assert_denied(h.get(token=tok), 401, error="invalid_token")
    assert h.last_access()["error"] == "token_lifetime_too_long"
    assert h.get("/api/unlimited/x", token=h.mint(exp=now() + 300, drop=["iat"])).status != 401


def test_step_up_with_a_local_error_document(httpd):
    # A local ErrorDocument is served by an internal redirect: the answer
    # keeps the step-up status and challenge (with resource_metadata), the
    # body is the administrator's.
    h = httpd(protect("ConduktorAuthMaxAge 60", "ConduktorAuthResource https://api.example.test/",
                      "ErrorDocument 401 /errdocs/401.json", "ErrorDocument 403 /errdocs/403.json",
                      require="Require conduktor-acr mfa"),
              server="""
        <Location "/errdocs/">
          ProxyPass "!"
          Require all granted
        </Location>
        Alias "/errdocs/" "{root}/htdocs/errdocs/"
        <Directory "{root}/htdocs/errdocs">
          Require all granted
        </Directory>""",
              htdocs={"errdocs/401.json": '{"custom": 401}\n',
                      "errdocs/403.json": '{"custom": 403}\n'})
    for claims, reason, want in [
            (dict(acr="pwd", auth_time=now()), "acr_denied", {"acr_values": "mfa"}),
            (dict(acr="mfa", auth_time=now() - 600), "auth_too_old", {"max_age": "60"}),
            (dict(acr="pwd", auth_time=now() - 600), "step_up_required",
             {"acr_values": "mfa", "max_age": "60"})]:
        r = h.get(token=h.mint(**claims))
        assert r.status == 401, (reason, r)
        assert r.json() == {"custom": 401}
        _, params = challenge_params(r.header("WWW-Authenticate"))
        assert params["error"] == IUA, params
        for name, value in want.items():
            assert params.get(name) == value, (reason, params)
        assert params["resource_metadata"] == \
            "https://api.example.test/.well-known/oauth-protected-resource"
        assert h.last_access()["error"] == reason
