"""Require conduktor-group / conduktor-claim, alone and combined with
httpd's own providers (SPEC "Authorization", "Responses")."""
import pytest

from harness import assert_denied, protect


# One server per policy for the parametrized tests below.
@pytest.fixture(scope="module")
def group_h(shared_httpd):
    return shared_httpd(protect(require="Require conduktor-group platform-team"))


@pytest.fixture(scope="module")
def verified_h(shared_httpd):
    return shared_httpd(protect(require="Require conduktor-claim email_verified true"))


@pytest.fixture(scope="module")
def roles_h(shared_httpd):
    return shared_httpd(protect(require="Require conduktor-claim realm_access.roles kafka-admin"))


def test_group_any_of(httpd, backend):
    h = httpd(protect(require="Require conduktor-group platform-team kafka-admins"))
    assert h.get(token=h.mint(groups=["kafka-admins"])).status == 200
    assert h.get(token=h.mint(groups=["x", "platform-team"])).status == 200
    before = len(backend.requests())
    tok = h.mint(groups=["developers"])
    r = h.get(token=tok)
    assert_denied(r, 403, error="insufficient_scope", token=tok)
    log = h.last_access()
    assert log["error"] == "group_denied"
    assert log["user"] == "alice@example.test"   # authenticated, not authorized
    assert len(backend.requests()) == before


def test_group_rule_without_token_is_401(httpd):
    h = httpd(protect(require="Require conduktor-group platform-team"))
    assert_denied(h.get(), 401)
    assert h.last_access()["error"] == "no_token"


@pytest.mark.parametrize("groups", [
    ["Platform-Team"], ["platform"], ["platform-team-x"], ["xplatform-team"],
    "platform-team,other", [], ["platform-team "]])
def test_group_match_is_exact(group_h, groups):
    h = group_h
    r = h.get(token=h.mint(groups=groups))
    assert r.status == 403, (groups, r)


@pytest.mark.parametrize("claims", [dict(drop=["groups"]), dict(groups=[]),
                                    dict(groups=""), dict(groups=None)])
def test_group_without_groups(group_h, claims):
    h = group_h
    assert_denied(h.get(token=h.mint(**claims)), 403, error="insufficient_scope")
    assert h.last_access()["error"] == "group_denied"


def test_group_containing_separator_is_not_split(httpd):
    h = httpd(protect(require='Require conduktor-group "a,b"'))
    assert h.get(token=h.mint(groups=["a,b"])).status == 200
    h2 = httpd(protect(require="Require conduktor-group a"))
    assert h2.get(token=h2.mint(groups=["a,b"])).status == 403


def test_group_from_nested_claim(httpd):
    h = httpd(protect("ConduktorAuthGroupsClaim realm_access.roles",
                      require="Require conduktor-group kafka-admin"))
    ok = h.mint(drop=["groups"], realm_access={"roles": ["kafka-admin"]})
    assert h.get(token=ok).status == 200
    # The default "groups" claim is not consulted any more.
    assert h.get(token=h.mint(groups=["kafka-admin"])).status == 403


@pytest.mark.parametrize("value,status", [
    (True, 200), (False, 403), ("yes", 403), (None, 403)])
def test_claim_email_verified(verified_h, value, status):
    h = verified_h
    tok = h.mint(email_verified=value) if value is not None else h.mint()
    r = h.get(token=tok)
    if status == 200:
        assert r.status == 200, r
    else:
        assert_denied(r, 403, error="insufficient_scope")
        assert h.last_access()["error"] not in ("-", "")


@pytest.mark.parametrize("claims,status", [
    ({"realm_access": {"roles": ["viewer", "kafka-admin"]}}, 200),
    ({"realm_access": {"roles": "kafka-admin"}}, 200),
    ({"realm_access": {"roles": ["viewer"]}}, 403),
    ({"realm_access": {"roles": ["kafka-admins"]}}, 403),
    ({"realm_access": {}}, 403),
    ({"realm_access.roles": ["kafka-admin"]}, 200),       # whole name first
])
def test_claim_array_contains(roles_h, claims, status):
    h = roles_h
    assert h.get(token=h.mint(**claims)).status == status


def test_claim_one_of_several_values(httpd):
    h = httpd(protect(require="Require conduktor-claim tenant acme globex"))
    assert h.get(token=h.mint(tenant="globex")).status == 200
    assert h.get(token=h.mint(tenant="initech")).status == 403


def test_claim_number(httpd):
    h = httpd(protect(require="Require conduktor-claim level 3"))
    assert h.get(token=h.mint(level=3)).status == 200
    assert h.get(token=h.mint(level=4)).status == 403


def test_require_all_with_valid_user_and_expr(httpd):
    h = httpd(protect(require="""
        <RequireAll>
          Require valid-user
          Require conduktor-group platform-team
          Require expr "%{REQUEST_METHOD} in {'GET', 'HEAD'}"
        </RequireAll>"""))
    tok = h.mint(groups=["platform-team"])
    assert h.get(token=tok).status == 200
    assert h.request("POST", "/api/x", token=tok, body="{}").status == 403
    assert h.get(token=h.mint(groups=["devs"])).status == 403
    assert_denied(h.get(), 401)


def test_require_any_with_expr_on_remote_user(httpd):
    # A false `Require expr` that uses REMOTE_USER answers "denied, no user"
    # in httpd (AH01629 and a 401 from mod_authz_core); the module still
    # answers 403 to a caller whose token was valid.
    h = httpd(expect_log=[r"AH01629: authorization failure \(no authenticated user\)"],
              location=protect(require="""
        <RequireAny>
          Require conduktor-group kafka-admins
          Require expr "%{REMOTE_USER} == 'bob@example.test'"
        </RequireAny>"""))
    assert h.get(token=h.mint(email="bob@example.test", groups=[])).status == 200
    assert h.get(token=h.mint(email="eve@example.test", groups=["kafka-admins"])).status == 200
    tok = h.mint(email="eve@example.test", groups=[])
    assert_denied(h.get(token=tok), 403, error="insufficient_scope")


def test_require_not_group(httpd):
    h = httpd(protect(require="""
        <RequireAll>
          Require valid-user
          Require not conduktor-group suspended
        </RequireAll>"""))
    assert h.get(token=h.mint(groups=["devs"])).status == 200
    assert h.get(token=h.mint(groups=["devs", "suspended"])).status == 403


def test_group_and_claim_together(httpd):
    h = httpd(protect(require="""
        <RequireAll>
          Require conduktor-group platform-team
          Require conduktor-claim email_verified true
        </RequireAll>"""))
    assert h.get(token=h.mint(email_verified=True)).status == 200
    assert h.get(token=h.mint(email_verified=False)).status == 403
    assert h.get(token=h.mint(email_verified=True, groups=["x"])).status == 403


def test_rules_per_location(httpd):
    h = httpd(protect(), server="""
        <Location "/api/public/console/v2/admin">
          Require conduktor-group kafka-admins
        </Location>""")
    tok = h.mint(groups=["platform-team"])
    assert h.get(token=tok).status == 200
    assert h.get("/api/public/console/v2/admin/users", token=tok).status == 403
    admin = h.mint(groups=["kafka-admins"])
    assert h.get("/api/public/console/v2/admin/users", token=admin).status == 200
