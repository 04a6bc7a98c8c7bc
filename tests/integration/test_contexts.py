"""Where the directives apply (SPEC "Directives": D = <Directory>,
<Location>, <Files>, <If>, and .htaccess with AllowOverride AuthConfig;
S = server config / virtual host), and the module under every MPM."""
import pytest

from conftest import OTHER_AUDIENCE
from harness import AUDIENCE, ISSUER, assert_denied, protect

STATIC = """
<Directory "{root}/htdocs/static">
  AllowOverride AuthConfig
  Require all granted
</Directory>"""
HTACCESS = """\
AuthType conduktor-jwt
AuthName "Files"
ConduktorAuthAudience %s
ConduktorAuthGroupsClaim realm_access.roles
Require conduktor-group readers
""" % AUDIENCE


def test_htaccess_with_auth_config(httpd):
    h = httpd("", server=STATIC, htdocs={"static/.htaccess": HTACCESS,
                                         "static/hello.txt": "hello\n"})
    assert_denied(h.get("/static/hello.txt"), 401, realm="Files")
    ok = h.mint(drop=["groups"], realm_access={"roles": ["readers"]})
    r = h.get("/static/hello.txt", token=ok)
    assert r.status == 200, r
    assert r.text == "hello\n"
    assert h.last_access()["user"] == "alice@example.test"
    r = h.get("/static/hello.txt", token=h.mint(realm_access={"roles": ["writers"]}))
    assert_denied(r, 403, error="insufficient_scope", realm="Files")


def test_server_directive_refused_in_htaccess(httpd):
    # ConduktorAuthIssuer is S only: httpd answers 500 and logs why.
    bad = HTACCESS + "ConduktorAuthIssuer https://evil.test file:/tmp/evil.json\n"
    h = httpd("", server=STATIC, htdocs={"static/.htaccess": bad, "static/hello.txt": "x"},
              expect_log=[r"\[core:alert\] .*ConduktorAuthIssuer not allowed here"])
    assert h.get("/static/hello.txt", token=h.mint(realm_access={"roles": ["readers"]})).status == 500
    assert "ConduktorAuthIssuer not allowed here" in h.read_error_log()


def test_files_section(httpd):
    h = httpd("", server=STATIC + """
        <Files "secret.txt">
          AuthType conduktor-jwt
          ConduktorAuthAudience %s
          Require valid-user
        </Files>""" % AUDIENCE, htdocs={"static/secret.txt": "s\n", "static/open.txt": "o\n"})
    assert h.get("/static/open.txt").status == 200
    assert h.get("/static/secret.txt").status == 401
    assert h.get("/static/secret.txt", token=h.mint()).status == 200


def test_if_section(httpd):
    # <If> may change a D directive for some requests only.
    h = httpd(protect() + """
        <If "%%{QUERY_STRING} == 'other'">
          ConduktorAuthAudience %s
        </If>""" % OTHER_AUDIENCE)
    tok = h.mint(aud=AUDIENCE)
    assert h.get("/api/x", token=tok).status == 200
    r = h.get("/api/x?other", token=tok)
    assert_denied(r, 401, error="invalid_token")
    assert h.last_access()["error"] == "wrong_audience"
    assert h.get("/api/x?other", token=h.mint(aud=OTHER_AUDIENCE)).status == 200


def test_nested_location_overrides_parent(httpd):
    h = httpd(protect("ConduktorAuthIdentityHeader user X-User"), server="""
        <Location "/api/public/console/v2/topic">
          ConduktorAuthUserClaim sub
          ConduktorAuthIdentityHeader user X-Who
        </Location>""")
    tok = h.mint(sub="s-1")
    r = h.get(token=tok)
    assert r.status == 200 and r.echo["headers"].get("x-user") == "alice@example.test"
    r = h.get("/api/public/console/v2/topic", token=tok)
    assert r.status == 200, r
    assert r.echo["headers"].get("x-who") == "s-1"
    assert h.last_access()["user"] == "s-1"


def test_issuers_per_virtual_host(httpd):
    # Issuers are S: a token of an issuer trusted in another vhost only is refused.
    h = httpd(protect(), issuers=["ConduktorAuthIssuer https://other.example.test "
                                  "file:{keys}/jwks.json"])
    assert h.get("/echo", token=h.mint(iss="https://other.example.test")).status == 200
    assert_denied(h.get("/echo", token=h.mint(iss=ISSUER)), 401, error="invalid_token")


@pytest.mark.parametrize("mpm", ["event", "worker", "prefork"])
def test_every_mpm(httpd, mpm):
    h = httpd(protect(require="Require conduktor-group platform-team"), mpm=mpm)
    assert h.get(token=h.mint()).status == 200
    assert h.get(token=h.mint(key="ed")).status == 200
    assert_denied(h.get(), 401)
    assert_denied(h.get(token=h.mint(exp=1)), 401, error="invalid_token")
    assert_denied(h.get(token=h.mint(groups=["x"])), 403, error="insufficient_scope")
