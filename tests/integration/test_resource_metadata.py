"""RFC 9728 protected-resource metadata: ConduktorAuthResource, the document
the module serves at /.well-known/oauth-protected-resource<path>, and
resource_metadata="..." on every 401 of the scope (SPEC "Scopes, step-up,
token lifetime, resource metadata")."""
import time

import pytest

from harness import ISSUER, assert_denied, challenge_params, protect
from idp_fixtures import (  # noqa: F401  (pki and idp are fixtures)
    PATH, SigningKey, idp, jwks, pki, remote_issuer)

PEM_ISSUER = "https://pem.example.test"
WK = "/.well-known/oauth-protected-resource"
API_RES = "https://api.example.test/api/"
API_MD = "https://api.example.test" + WK + "/api/"

API_LOCATION = """
<Location "/api/">
  ConduktorAuthResource %s
  <RequireAll>
    Require conduktor-scope conduktor:read conduktor:write
    <Limit DELETE>
      Require conduktor-scope conduktor:admin conduktor:read
    </Limit>
  </RequireAll>
  ConduktorAuthMaxAge 600
</Location>
<Location "/other/">
  Require conduktor-scope elsewhere
</Location>""" % API_RES


@pytest.fixture(scope="module")
def md_h(shared_httpd):
    return shared_httpd(protect(), server=API_LOCATION, issuers=[
        "ConduktorAuthIssuer %s file:{keys}/jwks.json" % ISSUER,
        "ConduktorAuthIssuer %s file:{keys}/rsa.pem" % PEM_ISSUER])


def test_document_members(md_h, backend):
    h = md_h
    before = len(backend.requests())
    r = h.get(WK + "/api/")
    assert r.status == 200, r
    assert (r.header("Content-Type") or "").split(";")[0] == "application/json"
    assert r.json() == {
        "resource": API_RES,
        "authorization_servers": [ISSUER, PEM_ISSUER],
        "bearer_methods_supported": ["header"],
        "scopes_supported": ["conduktor:read", "conduktor:write", "conduktor:admin"],
    }
    # answered by the module, without a token, before <Location "/">'s
    # Require valid-user and its ProxyPass
    assert len(backend.requests()) == before
    assert h.last_access()["error"] == "-"


BINDING_MEMBERS = ("dpop_signing_alg_values_supported", "dpop_bound_access_tokens_required",
                   "tls_client_certificate_bound_access_tokens")


def test_document_has_no_binding_members_without_require_binding(md_h):
    doc = md_h.get(WK + "/api/").json()
    for name in BINDING_MEMBERS:
        assert name not in doc


@pytest.mark.parametrize("lines, want", [
    (["ConduktorAuthRequireBinding none"], {}),
    (["ConduktorAuthRequireBinding dpop"],
     {"dpop_signing_alg_values_supported": ["ES256", "ES384", "PS256", "RS256", "EdDSA"],
      "dpop_bound_access_tokens_required": True}),
    (["ConduktorAuthRequireBinding dpop", "ConduktorAuthDPoPAlgorithms EdDSA ES256"],
     {"dpop_signing_alg_values_supported": ["ES256", "EdDSA"],
      "dpop_bound_access_tokens_required": True}),
    (["ConduktorAuthRequireBinding mtls"],
     {"tls_client_certificate_bound_access_tokens": True}),
    (["ConduktorAuthRequireBinding any"],
     {"dpop_signing_alg_values_supported": ["ES256", "ES384", "PS256", "RS256", "EdDSA"],
      "dpop_bound_access_tokens_required": False,
      "tls_client_certificate_bound_access_tokens": True}),
], ids=["none", "dpop", "dpop-algs", "mtls", "any"])
def test_binding_members_follow_require_binding(httpd, lines, want):
    h = httpd(protect(), server='<Location "/api/">\nConduktorAuthResource %s\n%s\n</Location>'
              % (API_RES, "\n".join(lines)))
    doc = h.get(WK + "/api/").json()
    assert {k: v for k, v in doc.items() if k in BINDING_MEMBERS} == want, doc


@pytest.mark.parametrize("path", [WK, WK + "/api", WK + "/api/x", WK + "/api//",
                                  WK + "/other/", WK + "x/api/", WK.upper() + "/api/"])
def test_other_well_known_paths_are_not_served(md_h, path):
    # Not a resource's metadata URL: the request goes where the
    # configuration sends it (here <Location "/">: a token is needed).
    r = md_h.get(path)
    assert r.status == 401, (path, r)


def test_cross_origin_readable(md_h):
    h = md_h
    r = h.get(WK + "/api/", headers={"Origin": "https://agent.example.net"})
    assert r.status == 200
    assert r.header("Access-Control-Allow-Origin") == "*"
    assert r.header("Access-Control-Allow-Credentials") is None
    pre = h.request("OPTIONS", WK + "/api/", headers={
        "Origin": "https://agent.example.net", "Access-Control-Request-Method": "GET"})
    assert pre.status == 204, pre
    assert pre.header("Access-Control-Allow-Origin") == "*"
    assert "GET" in pre.header("Access-Control-Allow-Methods")


def test_methods(md_h, backend):
    h = md_h
    before = len(backend.requests())
    head = h.request("HEAD", WK + "/api/")
    assert head.status == 200 and head.body == b""
    post = h.request("POST", WK + "/api/", body="{}")
    assert post.status == 405, post
    assert "GET" in (post.header("Allow") or "")
    assert len(backend.requests()) == before


def now():
    return int(time.time())


# Every 401 of the scope, whatever its cause.
UNAUTHORIZED = {
    "no_token": lambda h: None,
    "malformed": lambda h: "not.a.token",
    "expired": lambda h: h.mint(iat=now() - 900, exp=now() - 600, scope="conduktor:read"),
    "wrong_audience": lambda h: h.mint(aud="someone-else", scope="conduktor:read"),
    "wrong_issuer": lambda h: h.mint(iss="https://evil.test", scope="conduktor:read"),
    "step_up": lambda h: h.mint(scope="conduktor:read", auth_time=now() - 3600),
}


@pytest.mark.parametrize("case", sorted(UNAUTHORIZED))
def test_resource_metadata_on_every_401_of_the_scope(md_h, case):
    h = md_h
    tok = UNAUTHORIZED[case](h)
    r = h.get("/api/clusters", token=tok)
    assert r.status == 401, (case, r)
    _, params = challenge_params(r.header("WWW-Authenticate"))
    assert params.get("resource_metadata") == API_MD, (case, params)


def test_no_resource_metadata_on_403_or_success(md_h):
    h = md_h
    r = h.get("/api/clusters", token=h.mint(scope="openid", auth_time=now()))
    params = assert_denied(r, 403, error="insufficient_scope")
    assert "resource_metadata" not in params
    ok = h.get("/api/clusters", token=h.mint(scope="conduktor:read", auth_time=now()))
    assert ok.status not in (401, 403)
    assert ok.header("WWW-Authenticate") is None


@pytest.mark.parametrize("path", ["/other/x", "/api", "/apix/y", "/"])
def test_no_resource_metadata_outside_the_scope(md_h, path):
    r = md_h.get(path)
    params = assert_denied(r, 401)
    assert "resource_metadata" not in params, (path, params)


# (resource, <Location>, metadata path, metadata URL)
URLS = [
    ("https://api.example.test/", "/", WK, "https://api.example.test" + WK),
    ("https://api.example.test", "/", WK, "https://api.example.test" + WK),
    ("https://api.example.test/api", "/api", WK + "/api", "https://api.example.test" + WK + "/api"),
    ("https://api.example.test/api/", "/api/", WK + "/api/", "https://api.example.test" + WK + "/api/"),
    ("https://API.example.test:8443/api/v2/", "/api/v2/", WK + "/api/v2/",
     "https://API.example.test:8443" + WK + "/api/v2/"),
    # a resource wider than its <Location>
    ("https://api.example.test/api/", "/api/public/", WK + "/api/",
     "https://api.example.test" + WK + "/api/"),
]


@pytest.mark.parametrize("resource,location,md_path,md_url", URLS,
                         ids=[u[0] + "@" + u[1] for u in URLS])
def test_url_construction(httpd, resource, location, md_path, md_url):
    if location == "/":
        h = httpd(protect("ConduktorAuthResource " + resource))
    else:
        h = httpd(protect(), server='<Location "%s">\nConduktorAuthResource %s\n</Location>'
                  % (location, resource))
    r = h.get(md_path)
    assert r.status == 200, r
    doc = r.json()
    assert doc["resource"] == resource
    assert doc["authorization_servers"] == [ISSUER]
    assert "scopes_supported" not in doc       # no conduktor-scope line there
    r = h.get(location.rstrip("/") + "/x")
    _, params = challenge_params(r.header("WWW-Authenticate"))
    assert r.status == 401 and params["resource_metadata"] == md_url, params


def test_served_despite_a_denying_location(httpd):
    h = httpd(protect("ConduktorAuthResource https://api.example.test/"), server="""
        <Location "/.well-known/">
          Require all denied
        </Location>""")
    assert h.get(WK).status == 200


def test_per_virtual_host(httpd):
    # Each host serves its own resources with its own issuers.
    h = httpd(protect(), server=API_LOCATION, global_="""
        <VirtualHost 127.0.0.1:{port}>
          ServerName other.example.test
          ConduktorAuthIssuer https://other-idp.example.test file:{keys}/jwks.json
          <Location "/">
            AuthType conduktor-jwt
            ConduktorAuthAudience conduktor
            ConduktorAuthResource https://other.example.test/
            Require conduktor-scope other:read
          </Location>
        </VirtualHost>""")
    mine = h.get(WK + "/api/")
    assert mine.status == 200 and mine.json()["authorization_servers"] == [ISSUER]
    assert h.get(WK).status == 401                  # not a resource of this host
    other = h.get(WK, headers={"Host": "other.example.test"})
    assert other.status == 200, other
    assert other.json() == {"resource": "https://other.example.test/",
                            "authorization_servers": ["https://other-idp.example.test"],
                            "bearer_methods_supported": ["header"],
                            "scopes_supported": ["other:read"]}
    assert h.get(WK + "/api/", headers={"Host": "other.example.test"}).status == 401


# ---- apachectl -t ----------------------------------------------------------------
def in_location(path, *lines):
    return dict(location=protect(), server='<Location "%s">\n%s\n</Location>'
                % (path, "\n".join(lines)))


BAD = [
    ("plain_http", dict(location=protect("ConduktorAuthResource http://api.example.test/")),
     ["ConduktorAuthResource", "http://api.example.test/", "https"]),
    ("fragment", dict(location=protect("ConduktorAuthResource https://api.example.test/#x")),
     ["ConduktorAuthResource", "https://api.example.test/#x"]),
    ("query", dict(location=protect("ConduktorAuthResource https://api.example.test/?a=1")),
     ["ConduktorAuthResource", "https://api.example.test/?a=1"]),
    ("relative", dict(location=protect("ConduktorAuthResource /api/")),
     ["ConduktorAuthResource", "/api/"]),
    ("userinfo", dict(location=protect("ConduktorAuthResource https://u@api.example.test/")),
     ["ConduktorAuthResource", "https://u@api.example.test/"]),
    ("no_host", dict(location=protect("ConduktorAuthResource https:///api/")),
     ["ConduktorAuthResource", "https:///api/"]),
    ("dot_segment", dict(location=protect("ConduktorAuthResource https://h.test/a/../b")),
     ["ConduktorAuthResource", "https://h.test/a/../b"]),
    ("path_elsewhere", in_location("/api/", "ConduktorAuthResource https://h.test/other/"),
     ["ConduktorAuthResource", "https://h.test/other/", "/api/"]),
    ("path_narrower", in_location("/api/", "ConduktorAuthResource https://h.test/api/v2/"),
     ["ConduktorAuthResource", "https://h.test/api/v2/"]),
    ("path_prefix_not_segment", in_location("/apix", "ConduktorAuthResource https://h.test/api"),
     ["ConduktorAuthResource", "https://h.test/api"]),
    ("root_location_needs_root", dict(location=protect("ConduktorAuthResource https://h.test/api/")),
     ["ConduktorAuthResource", "https://h.test/api/"]),
    ("location_match_mismatch", dict(location=protect(), server=(
        '<LocationMatch "^/api/">\nConduktorAuthResource https://h.test/other/\n</LocationMatch>')),
     ["ConduktorAuthResource", "https://h.test/other/"]),
    ("in_directory", dict(location=protect(), server=(
        '<Directory "/tmp">\nConduktorAuthResource https://h.test/\n</Directory>')),
     ["ConduktorAuthResource", "<Directory"]),
    ("max_age_word", dict(location=protect("ConduktorAuthMaxAge soon")),
     ["ConduktorAuthMaxAge", "soon"]),
    ("max_age_negative", dict(location=protect("ConduktorAuthMaxAge -1")),
     ["ConduktorAuthMaxAge", "-1"]),
    ("max_age_huge", dict(location=protect("ConduktorAuthMaxAge 99999999999")),
     ["ConduktorAuthMaxAge", "99999999999"]),
    ("lifetime_zero", dict(location=protect("ConduktorAuthMaxTokenLifetime 0")),
     ["ConduktorAuthMaxTokenLifetime", "0"]),
    ("lifetime_word", dict(location=protect("ConduktorAuthMaxTokenLifetime 1h")),
     ["ConduktorAuthMaxTokenLifetime", "1h"]),
    ("lifetime_in_limit", dict(location=protect(
        "<Limit DELETE>\nConduktorAuthMaxTokenLifetime 300\n</Limit>")),
     ["ConduktorAuthMaxTokenLifetime", "<Limit>"]),
    ("resource_in_limit", dict(location=protect(
        "<Limit DELETE>\nConduktorAuthResource https://h.test/\n</Limit>")),
     ["ConduktorAuthResource", "<Limit>"]),
    ("resource_two_urls", dict(location=protect(
        "ConduktorAuthResource https://h.test/ https://h.test/x")),
     ["ConduktorAuthResource"]),
    ("scope_empty", dict(location=protect(require="Require conduktor-scope")),
     ["conduktor-scope"]),
    ("scope_quote", dict(location=protect(require=r'Require conduktor-scope "a\"b"')),
     ["conduktor-scope", 'a"b']),
    ("scope_space", dict(location=protect(require='Require conduktor-scope "a b"')),
     ["conduktor-scope", "a b"]),
    ("scope_non_ascii", dict(location=protect(require="Require conduktor-scope caf\u00e9")),
     ["conduktor-scope"]),
    ("acr_empty", dict(location=protect(require="Require conduktor-acr")),
     ["conduktor-acr"]),
    ("acr_space", dict(location=protect(require='Require conduktor-acr "a b"')),
     ["conduktor-acr", "a b"]),
]


@pytest.mark.parametrize("case", BAD, ids=[c[0] for c in BAD])
def test_bad_value_is_refused_by_name(apachectl_t, case):
    _, kw, words = case
    rc, out = apachectl_t(**kw)
    assert rc != 0, out
    assert "Syntax OK" not in out
    for word in words:
        assert word in out, "%r not named in:\n%s" % (word, out)


def test_good_configuration_is_accepted(apachectl_t):
    rc, out = apachectl_t(location=protect(
        "ConduktorAuthResource https://api.example.test/",
        "ConduktorAuthMaxAge 0", "ConduktorAuthMaxTokenLifetime 3600",
        "<Limit DELETE>\nConduktorAuthMaxAge off\n</Limit>",
        require="Require conduktor-scope a:b https://x.test/s !#$%&'()*+,-./:;<=>?@[]^_`{|}~"),
        server="""
        <LocationMatch "^/api/v[0-9]+/">
          ConduktorAuthResource https://api.example.test/api/v1/
          Require conduktor-acr urn:mace:incommon:iap:silver "a\\"b"
        </LocationMatch>
        <Location "/api/">
          ConduktorAuthResource https://api.example.test/
        </Location>""")
    assert rc == 0, out
    assert "Syntax OK" in out


# ---- end to end with the TLS test IdP ---------------------------------------------
def test_with_the_tls_idp(httpd, idp, pki):
    """Keys by OIDC discovery over real TLS: the document names that issuer;
    a token signed at the IdP is asked to step up, with the metadata URL in
    the challenge; after a step-up it passes, scope and all."""
    ip = idp()
    iss = ip.url + "/realms/stepup"
    key = SigningKey("su-1")
    ip.publish_jwks(ip.publish_discovery(iss), jwks(key), max_age=300)
    h = httpd(protect("ConduktorAuthResource https://api.example.test/",
                      "<Limit DELETE>\nConduktorAuthMaxAge 300\n</Limit>",
                      require="""
        <RequireAll>
          Require conduktor-scope conduktor:read
          <Limit DELETE>
            Require conduktor-acr mfa
          </Limit>
        </RequireAll>"""), issuers=remote_issuer(pki, iss, timeout=5, miss=60))
    doc = h.get(WK).json()
    assert doc["authorization_servers"] == [iss]
    assert doc["scopes_supported"] == ["conduktor:read"]
    weak = key.token(iss, scope="openid conduktor:read", acr="pwd", auth_time=now() - 3600)
    assert h.get(PATH, token=weak).status == 200
    r = h.request("DELETE", PATH, token=weak)
    params = assert_denied(r, 401, error="insufficient_user_authentication", token=weak)
    assert (params["acr_values"], params["max_age"]) == ("mfa", "300")
    assert params["resource_metadata"] == "https://api.example.test" + WK
    strong = key.token(iss, scope="conduktor:read", acr="mfa", auth_time=now())
    assert h.request("DELETE", PATH, token=strong).status == 200
    no_scope = key.token(iss, scope="openid", acr="mfa", auth_time=now())
    params = assert_denied(h.request("DELETE", PATH, token=no_scope), 403,
                           error="insufficient_scope")
    assert params["scope"] == "conduktor:read"
