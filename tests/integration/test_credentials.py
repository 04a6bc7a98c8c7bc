"""Every credential Conduktor accepts, sorted before anything else (SPEC
"Credentials other than IdP JWTs"): `ConduktorAuthOpaqueTokens refuse|pass`,
`Require conduktor-credential`, CONDUKTOR_AUTH_CREDENTIAL.

The stand-in for Conduktor checks what it receives the way Conduktor does:
IdP JWTs, its own API keys (mint.API_KEY_NAMES) and tokens Console issued
itself (mint.CONSOLE_ISSUER), so a credential passed on unverified is still
checked behind the module."""
import base64
import json

import pytest

from harness import assert_denied, protect

OPAQUE_PASS = "ConduktorAuthOpaqueTokens pass"
ID_HEADERS = ("ConduktorAuthIdentityHeader user X-User",
              "ConduktorAuthIdentityHeader email X-Auth-Email")
FORGED = {"X-User": "mallory", "X-Auth-Email": "mallory@example.test"}
CI_RULE = """<RequireAll>
  Require conduktor-credential opaque
  Require ip 127.0.0.1
</RequireAll>"""
OUTSIDE_RULE = """<RequireAll>
  Require conduktor-credential opaque
  Require ip 192.0.2.0/24
</RequireAll>"""
BROWSER_OR_CI = """<RequireAny>
  Require conduktor-group platform-team
  <RequireAll>
    Require conduktor-credential opaque
    Require ip 127.0.0.1
  </RequireAll>
</RequireAny>"""


def reached(backend, before):
    return len(backend.requests()) - before


@pytest.fixture(scope="module")
def refuse_h(shared_httpd):
    return shared_httpd(protect(require="Require valid-user"))


@pytest.fixture(scope="module")
def ci_h(shared_httpd):
    return shared_httpd(protect(OPAQUE_PASS, *ID_HEADERS, require=BROWSER_OR_CI))


# -- refuse (the default) -----------------------------------------------------
@pytest.mark.parametrize("which", ["api_key", "console_token", "other_opaque"])
def test_refuse_is_the_default(refuse_h, keys, backend, which):
    h = refuse_h
    cred = {"api_key": lambda: keys.api_key("ci-pipeline"),
            "console_token": lambda: keys.console_token(),
            "other_opaque": lambda: "2YotnFZFEjr1zCsicMWpAA"}[which]()
    before = len(backend.requests())
    r = h.get(token=cred)
    assert_denied(r, 401, error="invalid_token", token=cred)
    assert r.json()["error_description"] == "not a JWT from a trusted issuer"
    log = h.last_access()
    assert log["error"] == "opaque_token_refused"
    assert log["credential"] == "opaque"
    assert reached(backend, before) == 0
    # The same server still admits a valid JWT, and says which kind it was.
    assert h.get(token=h.mint()).status == 200
    assert h.last_access()["credential"] == "jwt"


# -- pass ---------------------------------------------------------------------
@pytest.mark.parametrize("name", ["ci-pipeline", "orders-app"])
def test_pass_forwards_the_key_byte_for_byte_without_identity(ci_h, keys, backend, name):
    h = ci_h
    key = keys.api_key(name)
    assert "=" in key and "+" in key and "/" in key    # the awkward characters
    before = len(backend.requests())
    r = h.get(token=key, headers=FORGED)
    assert r.status == 200, r
    echo = r.echo
    assert echo["headers"]["authorization"] == "Bearer " + key
    assert echo["token"] == "valid"                      # the stand-in knows it
    assert echo["identity"]["api_key"] == name
    for forged in ("x-user", "x-auth-email"):            # stripped, none set
        assert forged not in echo["headers"]
    log = h.last_access()
    assert log["credential"] == "opaque"
    assert log["user"] == "-" and log["remote_user"] == "-"
    assert log["email"] == "-" and log["error"] == "-"
    assert reached(backend, before) == 1


def test_pass_leaves_verification_to_the_backend(ci_h, backend):
    """An unknown key passes the module (which cannot tell) and the
    stand-in, checking it as Conduktor does, refuses it."""
    h = ci_h
    before = len(backend.requests())
    r = h.get(token="AAAAAAAAAAA=.bm90LWEta2V5LWNvbmR1a3Rvci1rbm93cw==")
    assert r.status == 401
    assert r.json()["msg"].startswith("invalid or missing token")
    assert reached(backend, before) == 1


def test_pass_jwt_still_gets_identity(ci_h, backend):
    h = ci_h
    r = h.get(token=h.mint(), headers=FORGED)
    assert r.status == 200
    assert r.echo["headers"]["x-user"] == "alice@example.test"
    log = h.last_access()
    assert log["credential"] == "jwt" and log["user"] == "alice@example.test"


def test_jwt_outside_the_group_says_group_denied(ci_h, backend):
    """Both branches deny a JWT of another group: the group rule's reason
    is the one reported, not the credential kind's."""
    h = ci_h
    before = len(backend.requests())
    assert_denied(h.get(token=h.mint(groups=["marketing"])), 403, error="insufficient_scope")
    assert h.last_access()["error"] == "group_denied"
    assert reached(backend, before) == 0


@pytest.mark.parametrize("rule", ["Require valid-user",
                                  "Require conduktor-group platform-team",
                                  "Require conduktor-claim sub user-0001",
                                  "Require conduktor-credential jwt"])
def test_identity_rules_never_grant_an_opaque_credential(httpd, keys, backend, rule):
    h = httpd(protect(OPAQUE_PASS, require=rule))
    key = keys.api_key("ci-pipeline")
    before = len(backend.requests())
    r = h.get(token=key)
    assert_denied(r, 403, error="insufficient_scope", token=key)
    log = h.last_access()
    assert log["error"] == "credential_denied"
    assert log["credential"] == "opaque" and log["user"] == "-"
    assert reached(backend, before) == 0
    assert h.get(token=h.mint()).status == 200          # JWTs still pass it


def test_require_ip_in_and_out_of_range(httpd, keys, backend):
    key = keys.api_key("terraform")
    inside = httpd(protect(OPAQUE_PASS, require=CI_RULE))
    assert inside.get(token=key).status == 200
    outside = httpd(protect(OPAQUE_PASS, require=OUTSIDE_RULE))
    before = len(backend.requests())
    r = outside.get(token=key)
    assert_denied(r, 403, error="insufficient_scope", token=key)
    assert reached(backend, before) == 0
    log = outside.last_access()
    assert log["credential"] == "opaque" and log["error"] == "credential_denied"


def test_require_expr_combination(httpd, keys):
    h = httpd(protect(OPAQUE_PASS, require="""<RequireAll>
  Require conduktor-credential opaque
  Require expr %{REQUEST_METHOD} == 'GET'
</RequireAll>"""))
    key = keys.api_key("ci-pipeline")
    assert h.get(token=key).status == 200
    assert h.request("DELETE", "/api/public/console/v2/kafka-cluster/x",
                     token=key).status == 403


@pytest.mark.parametrize("bad", ["expired", "bad_signature", "wrong_audience",
                                 "unreadable_payload"])
def test_a_failing_jwt_of_a_trusted_issuer_is_never_passed(ci_h, keys, backend, bad):
    h = ci_h
    good = h.mint()
    head, payload, sig = good.split(".")
    tok = {"expired": lambda: h.mint(exp=1000, iat=900),
           "bad_signature": lambda: "%s.%s.%s" % (head, payload, sig[:-4] + "AAAA"),
           "wrong_audience": lambda: h.mint(aud="someone-else"),
           "unreadable_payload": lambda: "%s.%s.%s" % (head, "bm90IGpzb24", sig),
           }[bad]()
    h.secrets.add(tok)
    before = len(backend.requests())
    r = h.get(token=tok)
    assert_denied(r, 401, error="invalid_token", token=tok)
    log = h.last_access()
    assert log["credential"] == "jwt", log
    assert log["error"] != "opaque_token_refused"
    assert reached(backend, before) == 0


def test_console_token_passes_as_opaque_only_under_pass(ci_h, refuse_h, keys, backend):
    tok = keys.console_token(email="bob@example.test")
    r = ci_h.get(token=tok)
    assert r.status == 200, r
    assert r.echo["identity"]["console"] is True          # checked behind us
    assert r.echo["headers"]["authorization"] == "Bearer " + tok
    assert ci_h.last_access()["credential"] == "opaque"
    assert ci_h.last_access()["email"] == "-"             # never its claims
    assert refuse_h.get(token=tok).status == 401


def test_require_credential_jwt_grants_jwts(httpd, keys):
    h = httpd(protect(OPAQUE_PASS, require="Require conduktor-credential jwt"))
    assert h.get(token=h.mint()).status == 200
    assert h.get(token=keys.api_key("ci-pipeline")).status == 403


def test_require_credential_without_token_is_401(httpd):
    h = httpd(protect(OPAQUE_PASS, require="Require conduktor-credential opaque"))
    assert_denied(h.get(), 401)
    assert h.last_access()["error"] == "no_token"
    assert h.last_access()["credential"] == "-"


@pytest.mark.parametrize("cred,error", [
    ("key\x01", "malformed_token"),
    ("caf\xe9", "malformed_token"),
    ("a" * 16385, "token_too_large"),
])
def test_bad_bytes_are_refused_under_pass(ci_h, backend, cred, error):
    h = ci_h
    before = len(backend.requests())
    r = h.request("GET", "/api/x", headers=[("Authorization", "Bearer " + cred)])
    assert r.status in (400, 401), r
    if r.status == 401:
        assert h.last_access()["error"] == error
    assert reached(backend, before) == 0


def test_basic_without_client_credentials_is_no_token(ci_h, backend):
    h = ci_h
    basic = base64.b64encode(b"my-ci-client:s3cret-value-0123456789").decode()
    before = len(backend.requests())
    r = h.get(token=basic, scheme="Basic")
    assert_denied(r, 401)
    log = h.last_access()
    assert log["error"] == "no_token" and log["credential"] == "basic"
    assert reached(backend, before) == 0


def test_status_counts_requests_per_kind(httpd, keys):
    h = httpd(protect(OPAQUE_PASS, require=BROWSER_OR_CI), server="""
<Location "/conduktor-auth-status">
  SetHandler conduktor-auth-status
  Require ip 127.0.0.1
</Location>""")
    for _ in range(3):
        assert h.get(token=keys.api_key("ci-pipeline")).status == 200
    for _ in range(2):
        assert h.get(token=h.mint()).status == 200
    basic = base64.b64encode(b"id:secret").decode()
    assert h.get(token=basic, scheme="Basic").status == 401
    status = json.loads(h.get("/conduktor-auth-status?format=json").body)
    assert status["credentials"]["opaque"] == 3
    assert status["credentials"]["jwt"] == 2
    assert status["credentials"]["basic"] == 1
    assert status["passed"] == 3
    assert status["allowed"] == 2
    text = h.get("/conduktor-auth-status").text
    assert 'conduktor_auth_credentials_total{kind="opaque"} 3' in text
    assert "conduktor_auth_requests_passed_total 3" in text


# -- configuration errors -------------------------------------------------------
@pytest.mark.parametrize("line,words", [
    ("ConduktorAuthOpaqueTokens maybe", ["ConduktorAuthOpaqueTokens", "maybe"]),
    ("ConduktorAuthOpaqueTokens introspect https://idp.test/realms/conduktor",
     ["ConduktorAuthOpaqueTokens"]),
    ("ConduktorAuthOpaqueTokens", ["ConduktorAuthOpaqueTokens"]),
])
def test_bad_opaque_tokens_values(apachectl_t, line, words):
    rc, out = apachectl_t(protect(line))
    assert rc != 0
    for w in words:
        assert w in out, out


@pytest.mark.parametrize("rule,words", [
    ("Require conduktor-credential", ["conduktor-credential", "at least one"]),
    ("Require conduktor-credential api-key", ["conduktor-credential", "api-key"]),
    ("Require conduktor-credential basic", ["conduktor-credential", "basic"]),
    ("Require conduktor-credential JWT", ["conduktor-credential", "JWT"]),
])
def test_bad_require_credential(apachectl_t, rule, words):
    rc, out = apachectl_t(protect(OPAQUE_PASS, require=rule))
    assert rc != 0
    for w in words:
        assert w in out, out


def test_audit_event_of_each_kind(httpd, keys):
    """One audit event (%^CA) per request: a passed-through API key is a
    success with kind opaque and no user; the same key out of range a
    failure (credential_denied); a JWT names its user; an unknown Basic
    credential is a failure of kind basic. No event holds the key."""
    from test_audit import AUDIT, audit_lines, parse
    h = httpd(protect(OPAQUE_PASS, require=BROWSER_OR_CI),
              server='<Location "/outside/">\n' + protect(OPAQUE_PASS, require=OUTSIDE_RULE)
              + "\n</Location>", global_=AUDIT)
    key = keys.api_key("ci-pipeline")
    assert h.get(token=key).status == 200
    assert h.get("/outside/x", token=key).status == 403
    assert h.get(token=h.mint()).status == 200
    assert h.get(token=base64.b64encode(b"id:secret-0123456789abcdef").decode(),
                 scheme="Basic").status == 401
    events = [parse(l) for l in audit_lines(h, 4)]
    assert len(events) == 4, events
    passed, outside, jwt, basic = events
    assert passed["event"]["outcome"] == "success" and passed["credential"] == "opaque"
    assert "user" not in passed or not passed["user"].get("name"), passed
    assert outside["event"]["outcome"] == "failure"
    assert outside["event"]["reason"] == "credential_denied" and outside["credential"] == "opaque"
    assert jwt["credential"] == "jwt" and jwt["user"]["name"] == "alice@example.test"
    assert basic["credential"] == "basic" and basic["event"]["reason"] == "no_token"
    text = open(h.root + "/logs/audit.json").read()
    assert key not in text and key.split(".")[1] not in text
