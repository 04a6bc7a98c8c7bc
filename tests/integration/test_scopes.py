"""Require conduktor-scope: the scope string, scp as a string (Entra ID)
or an array (Okta), exact matching, and the 403 insufficient_scope answer
with the scopes asked for (SPEC "Scopes, step-up, token lifetime, resource
metadata", "Responses")."""
import pytest

from harness import assert_denied, challenge_params, protect


@pytest.fixture(scope="module")
def scope_h(shared_httpd):
    return shared_httpd(protect(require="Require conduktor-scope conduktor:read conduktor:admin"))


@pytest.mark.parametrize("claims", [
    dict(scope="conduktor:read"),
    dict(scope="openid email conduktor:read"),
    dict(scope="openid  conduktor:admin "),
    dict(scp="conduktor:read"),                       # Entra ID: a string
    dict(scp="User.Read conduktor:admin"),
    dict(scp=["openid", "conduktor:read"]),           # Okta: an array
    dict(scope=["conduktor:admin"]),
    dict(scope="openid", scp=["conduktor:read"]),     # both claims are read
    dict(scp=[1, None, {"a": "conduktor:read"}, "conduktor:read"]),
])
def test_scope_grants(scope_h, claims):
    h = scope_h
    r = h.get(token=h.mint(**claims))
    assert r.status == 200, (claims, r)
    assert h.last_access()["error"] == "-"


@pytest.mark.parametrize("claims", [
    # prefix, suffix and case traps
    dict(scope="conduktor"), dict(scope="conduktor:rea"), dict(scope="conduktor:reads"),
    dict(scope="xconduktor:read"), dict(scope="Conduktor:Read"), dict(scope="conduktor:read:all"),
    dict(scp=["conduktor:read openid"]),              # an array member is one scope
    dict(scope="conduktor:read\tx"),                  # a tab does not separate
    dict(scope="conduktor:read,openid"),
    # missing
    dict(), dict(scope=""), dict(scp=[]), dict(scopes="conduktor:read"),
    # other types: never grant, never a 500
    dict(scope=1), dict(scope=True), dict(scope=None), dict(scope={"conduktor:read": 1}),
    dict(scp=[1, True, None, ["conduktor:read"], {"conduktor:read": 1}]),
    dict(scp=12.5),
])
def test_scope_denied(scope_h, backend, claims):
    h = scope_h
    before = len(backend.requests())
    tok = h.mint(**claims)
    r = h.get(token=tok)
    params = assert_denied(r, 403, error="insufficient_scope", token=tok)
    assert params["scope"] == "conduktor:read conduktor:admin", params
    log = h.last_access()
    assert log["error"] == "scope_denied"
    assert log["user"] == "alice@example.test"
    assert len(backend.requests()) == before


def test_scope_without_token_is_401(scope_h):
    params = assert_denied(scope_h.get(), 401)
    assert "scope" not in params
    assert scope_h.last_access()["error"] == "no_token"


def test_scope_of_the_line_that_denied(httpd):
    # In <RequireAll>, the scope= of the challenge is that of the line
    # that said no.
    h = httpd(protect(require="""
        <RequireAll>
          Require conduktor-scope openid
          Require conduktor-scope kafka:write
        </RequireAll>"""))
    assert h.get(token=h.mint(scope="openid kafka:write")).status == 200
    params = assert_denied(h.get(token=h.mint(scope="openid")), 403,
                           error="insufficient_scope")
    assert params["scope"] == "kafka:write"
    params = assert_denied(h.get(token=h.mint(scope="kafka:write")), 403,
                           error="insufficient_scope")
    assert params["scope"] == "openid"


def test_scope_or_group(httpd):
    h = httpd(protect(require="""
        <RequireAny>
          Require conduktor-scope conduktor:admin
          Require conduktor-group kafka-admins
        </RequireAny>"""))
    assert h.get(token=h.mint(scope="conduktor:admin", groups=[])).status == 200
    assert h.get(token=h.mint(scope="", groups=["kafka-admins"])).status == 200
    assert_denied(h.get(token=h.mint(scope="openid", groups=[])), 403,
                  error="insufficient_scope")


def test_scope_per_method_with_limit(httpd):
    h = httpd(protect(require="""
        <RequireAll>
          Require conduktor-scope conduktor:read conduktor:write
          <LimitExcept GET HEAD OPTIONS>
            Require conduktor-scope conduktor:write
          </LimitExcept>
        </RequireAll>"""))
    reader = h.mint(scope="conduktor:read")
    assert h.get(token=reader).status == 200
    params = assert_denied(h.request("POST", "/api/x", token=reader, body="{}"), 403,
                           error="insufficient_scope")
    assert params["scope"] == "conduktor:write"
    writer = h.mint(scope="conduktor:write")
    assert h.request("POST", "/api/x", token=writer, body="{}").status not in (401, 403)


def test_scope_inside_if(httpd):
    h = httpd(protect("""
        <If "%{REQUEST_URI} =~ m#/admin/#">
          AuthMerging And
          Require conduktor-scope conduktor:admin
        </If>"""))
    tok = h.mint(scope="conduktor:read")
    assert h.get(token=tok).status == 200
    assert_denied(h.get("/api/admin/users", token=tok), 403, error="insufficient_scope")
    assert h.get("/api/admin/users", token=h.mint(scope="conduktor:admin")).status != 403


def test_scope_challenge_is_exact_header(scope_h):
    h = scope_h
    r = h.get(token=h.mint(scope="openid"))
    raw = r.header("WWW-Authenticate")
    assert raw == ('Bearer realm="Conduktor", error="insufficient_scope", '
                   'error_description="required scope missing", '
                   'scope="conduktor:read conduktor:admin"'), raw
    scheme, params = challenge_params(raw)
    assert scheme == "Bearer" and "resource_metadata" not in params
