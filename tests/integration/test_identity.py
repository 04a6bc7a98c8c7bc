"""The identity handed on: environment variables, identity headers that
clients cannot forge, groups and claim paths, the forwarded token and the
token header (SPEC "Identity handed on", "Token checks")."""
import pytest

from conftest import ISSUER
from harness import assert_denied, headers_named, protect

# RequestHeader runs in fixups, after authentication: %{VAR}e is what the
# module put in the request environment.
ENV_TO_HEADERS = "\n".join(
    'RequestHeader set X-Env-%s "%%{%s}e"' % (name, var) for name, var in [
        ("User", "REMOTE_USER"), ("Email", "CONDUKTOR_AUTH_EMAIL"),
        ("Groups", "CONDUKTOR_AUTH_GROUPS"), ("Subject", "CONDUKTOR_AUTH_SUBJECT"),
        ("Issuer", "CONDUKTOR_AUTH_ISSUER"), ("Expires", "CONDUKTOR_AUTH_EXPIRES"),
    ])


@pytest.fixture(scope="module")
def env_h(shared_httpd):
    return shared_httpd(protect(ENV_TO_HEADERS))


def env_seen(r):
    """The X-Env-* headers the backend received, by short name."""
    return {k[len("x-env-"):]: v for k, v in r.echo["headers"].items()
            if k.startswith("x-env-")}


def test_environment_reaches_the_backend(httpd):
    h = httpd(protect(ENV_TO_HEADERS))
    tok = h.mint(sub="u-7", email="bob@example.test", groups=["g1", "g2"], exp=2000000001)
    r = h.get(token=tok)
    assert r.status == 200, r
    assert env_seen(r) == {
        "user": "bob@example.test", "email": "bob@example.test", "groups": "g1,g2",
        "subject": "u-7", "issuer": ISSUER, "expires": "2000000001"}


def test_user_claim_order(httpd):
    h = httpd(protect("ConduktorAuthUserClaim preferred_username email"))
    r = h.get(token=h.mint(preferred_username="bob", email="bob@example.test"))
    assert r.status == 200, r
    assert h.last_access()["user"] == "bob"
    assert h.last_access()["email"] == "bob@example.test"
    assert h.get(token=h.mint(email="carol@example.test")).status == 200
    assert h.last_access()["user"] == "carol@example.test"


def test_no_user_claim_is_refused(httpd):
    h = httpd(protect())
    tok = h.mint(drop=["email"])
    assert_denied(h.get(token=tok), 401, error="invalid_token")
    h2 = httpd(protect("ConduktorAuthUserClaim sub"))
    assert h2.get(token=h2.mint(drop=["email"])).status == 200
    assert h2.last_access()["user"] == "user-0001"
    assert h2.last_access()["email"] in ("-", "")


def test_email_claim(httpd):
    h = httpd(protect("ConduktorAuthEmailClaim upn", "ConduktorAuthUserClaim upn"))
    assert h.get(token=h.mint(upn="dave@corp.example", drop=["email"])).status == 200
    log = h.last_access()
    assert log["email"] == "dave@corp.example" and log["user"] == "dave@corp.example"


@pytest.mark.parametrize("groups,want", [
    (["a", "b"], "a,b"),
    ("solo", "solo"),
    (["team,with,commas", "x"], r"team\,with\,commas,x"),
    (["back\\slash", "y"], r"back\\slash,y"),
    ([], ""),
])
def test_groups_joined_and_escaped(env_h, groups, want):
    h = env_h
    r = h.get(token=h.mint(groups=groups))
    assert r.status == 200, r
    assert env_seen(r)["groups"] == want


def test_groups_absent(httpd):
    h = httpd(protect())
    assert h.get(token=h.mint(drop=["groups"])).status == 200
    assert h.last_access()["groups"] in ("-", "")


def test_groups_separator(httpd):
    h = httpd(protect(ENV_TO_HEADERS, 'ConduktorAuthGroupsSeparator ";"'))
    r = h.get(token=h.mint(groups=["x", "a;b", "c,d"]))
    assert r.status == 200, r
    assert env_seen(r)["groups"] == r"x;a\;b;c,d"


def test_groups_multi_character_separator(httpd):
    h = httpd(protect(ENV_TO_HEADERS, 'ConduktorAuthGroupsSeparator " | "'))
    r = h.get(token=h.mint(groups=["x", "y"]))
    assert env_seen(r)["groups"] == "x | y"


@pytest.mark.parametrize("path,claims", [
    ("realm_access.roles", {"realm_access": {"roles": ["kafka-admin", "viewer"]}}),
    ("resource_access.conduktor.roles",
     {"resource_access": {"conduktor": {"roles": ["kafka-admin", "viewer"]}}}),
    ("cognito:groups", {"cognito:groups": ["kafka-admin", "viewer"]}),
    ("https://example.com/groups", {"https://example.com/groups": ["kafka-admin", "viewer"]}),
    # a whole name containing dots wins over the nested path
    ("team.roles", {"team.roles": ["kafka-admin", "viewer"], "team": {"roles": ["nested"]}}),
])
def test_groups_claim_paths(httpd, path, claims):
    h = httpd(protect(ENV_TO_HEADERS, 'ConduktorAuthGroupsClaim "%s"' % path))
    r = h.get(token=h.mint(drop=["groups"], **claims))
    assert r.status == 200, r
    assert env_seen(r)["groups"] == "kafka-admin,viewer"
    assert h.last_access()["groups"] == "kafka-admin,viewer"


def test_claim_env(httpd):
    h = httpd(protect("ConduktorAuthClaimEnv tenant.id CKA_TENANT",
                      "ConduktorAuthClaimEnv roles CKA_ROLES",
                      "ConduktorAuthClaimEnv ctx CKA_CTX",
                      "ConduktorAuthClaimEnv email_verified CKA_VERIFIED",
                      "ConduktorAuthClaimEnv level CKA_LEVEL",
                      "ConduktorAuthClaimEnv absent CKA_ABSENT"),
              log_env=["CKA_TENANT", "CKA_ROLES", "CKA_CTX", "CKA_VERIFIED",
                       "CKA_LEVEL", "CKA_ABSENT"])
    tok = h.mint(tenant={"id": "acme"}, roles=["r1", "r,2"], ctx={"a": 1, "b": [True]},
                 email_verified=True, level=3)
    assert h.get(token=tok).status == 200
    log = h.last_access()
    assert log["env:CKA_TENANT"] == "acme"
    assert log["env:CKA_ROLES"] == r"r1,r\\,2"    # access log escapes the backslash
    assert log["env:CKA_CTX"] == r'{\"a\":1,\"b\":[true]}'
    assert log["env:CKA_VERIFIED"] == "true"
    assert log["env:CKA_LEVEL"] == "3"
    assert log["env:CKA_ABSENT"] == "-"


def test_azure_groups_overage(httpd):
    h = httpd(protect(ENV_TO_HEADERS), expect_log=[r"(?i)overage"])
    tok = h.mint(drop=["groups"], _claim_names={"groups": "src1"},
                 _claim_sources={"src1": {"endpoint": "https://graph.example.test/v1/getMemberObjects"}})
    assert h.get(token=tok).status == 200
    assert h.last_access()["overage"] == "1"
    assert "overage" in h.read_error_log().lower(), "overage not logged"
    # Without overage the variable is not set.
    assert h.get(token=h.mint()).status == 200
    assert h.last_access()["overage"] == "-"


IDENTITY_HEADERS = "\n".join([
    "ConduktorAuthIdentityHeader user X-User",
    "ConduktorAuthIdentityHeader email X-Auth-Email",
    "ConduktorAuthIdentityHeader groups X-Auth-Groups",
    "ConduktorAuthIdentityHeader subject X-Auth-Subject",
    "ConduktorAuthIdentityHeader claim:tenant.id X-Tenant",
])
FORGED = [("X-User", "evil1"), ("x-user", "evil2"), ("X_User", "evil3"),
          ("X-USER", "evil4"), ("x_uSeR", "evil5"), ("X-Auth_Groups", "admins"),
          ("x-tenant", "other-tenant")]


def test_identity_headers_sent(httpd):
    h = httpd(protect(IDENTITY_HEADERS))
    tok = h.mint(email="erin@example.test", sub="s-9", groups=["g1", "g,2"],
                 tenant={"id": "acme"})
    r = h.get(token=tok)
    assert r.status == 200, r
    seen = {name: headers_named(r.echo, name) for name in
            ("X-User", "X-Auth-Email", "X-Auth-Groups", "X-Auth-Subject", "X-Tenant")}
    assert seen == {"X-User": ["erin@example.test"], "X-Auth-Email": ["erin@example.test"],
                    "X-Auth-Groups": [r"g1,g\,2"], "X-Auth-Subject": ["s-9"],
                    "X-Tenant": ["acme"]}


def test_forged_identity_headers_removed(httpd):
    h = httpd(protect(IDENTITY_HEADERS))
    r = h.get(token=h.mint(email="erin@example.test", groups=["g1"], tenant={"id": "acme"}),
              headers=FORGED)
    assert r.status == 200, r
    assert headers_named(r.echo, "X-User") == ["erin@example.test"]
    assert headers_named(r.echo, "X-Auth-Groups") == ["g1"]
    assert headers_named(r.echo, "X-Tenant") == ["acme"]


def test_identity_header_of_absent_claim_still_strips_forgery(httpd):
    h = httpd(protect(IDENTITY_HEADERS))
    r = h.get(token=h.mint(), headers=FORGED)       # no tenant claim
    assert r.status == 200, r
    assert headers_named(r.echo, "X-Tenant") == []


def test_forged_headers_removed_without_authentication(httpd):
    # A request let through without a token (Require ip) must not carry
    # forged identity either: the headers go from every request in scope.
    h = httpd(protect(IDENTITY_HEADERS, require="Require ip 127.0.0.1"))
    r = h.get("/echo", headers=FORGED)
    assert r.status == 200, r
    for name in ("X-User", "X-Auth-Groups", "X-Tenant"):
        assert headers_named(r.echo, name) == [], name


def test_header_injection_through_claims_is_neutralised(httpd):
    h = httpd(protect(IDENTITY_HEADERS, ENV_TO_HEADERS))
    r = h.get(token=h.mint(email="x@example.test\r\nX-Injected: yes", groups=["a\nb"]))
    if r.status == 200:
        names = [k.lower() for k, _ in r.echo["header_list"]]
        assert "x-injected" not in names
        for _, value in r.echo["header_list"]:
            assert "\n" not in value and "\r" not in value
    else:
        assert r.status == 401, r


def test_token_forwarded_by_default(httpd):
    h = httpd(protect())
    tok = h.mint()
    r = h.get("/echo", token=tok)
    assert r.status == 200, r
    assert r.echo["headers"]["authorization"] == "Bearer " + tok


def test_forward_token_off(httpd):
    h = httpd(protect("ConduktorAuthForwardToken Off"))
    r = h.get("/echo", token=h.mint())
    assert r.status == 200, r
    assert headers_named(r.echo, "Authorization") == []
    assert r.echo["token"] == "absent"


def test_token_header_raw_and_bearer(httpd):
    h = httpd(protect("ConduktorAuthTokenHeader X-Token"))
    tok = h.mint()
    r = h.get("/echo", headers={"X-Token": tok})
    assert r.status == 200, r
    assert h.last_access()["user"] == "alice@example.test"
    assert h.get("/echo", headers={"X-Token": "Bearer " + tok}).status == 200
    # Authorization is not where this location looks.
    r = h.get("/echo", token=tok)
    assert_denied(r, 401)
    assert h.last_access()["error"] == "no_token"
    assert_denied(h.get("/echo", headers={"X-Token": tok[:-6] + "AAAAAA"}), 401,
                  error="invalid_token")
