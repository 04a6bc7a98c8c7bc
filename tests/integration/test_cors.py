"""CORS answered at the edge (SPEC "CORS"; issue 4), as seen on the wire.

One httpd (module-scoped) serves several <Location>s, each with its own
CORS policy; the tests that need a server of their own (key fetch failing,
policies split across nested scopes) start one. A preflight never needs a
token and never reaches the backend; every other response to an allowed
origin, errors included, carries the CORS headers; disallowed origins get
none at all.
"""
import json
import os
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from harness import TOP, ISSUER, assert_denied, challenge_params, free_port, protect

BACKSTAGE = "https://backstage.example.test"
DEV = "http://localhost:3000"
WILD = "https://*.example.com"
CORS = "ConduktorAuthCORSAllowOrigin %s %s %s" % (BACKSTAGE, WILD, DEV)
DEFAULT_METHODS = {"get", "head", "post", "put", "patch", "delete"}
# Headers a client slips in to impersonate someone (see /cors-id).
FORGED = [("X-User", "admin@example.test"), ("X_User", "admin@example.test"),
          ("x-user", "root@example.test")]


def loc(path, *lines, require="Require valid-user"):
    return '<Location "%s">\n%s\n</Location>' % (path, protect(*lines, require=require))


# Every request logged with the identity headers as httpd holds them when it
# logs, i.e. after the module ran (GlobalLog: the vhost keeps its own log).
HDR_LOG = ('GlobalLog "{root}/logs/hdr_log" '
           '"%m\\t%U\\t%>s\\t%{X-User}i\\t%{X_User}i\\t%{X-Other}i"')


class OwnCorsBackend:
    """A backend that sends CORS headers of its own (a Conduktor configured
    with CORS, or a framework default): the edge must not let them through
    next to, or instead of, its own."""

    HEADERS = [
        ("Access-Control-Allow-Origin", "*"),
        ("Access-Control-Allow-Credentials", "true"),
        ("Access-Control-Expose-Headers", "X-Backend-Secret"),
        ("Access-Control-Allow-Methods", "PUT, DELETE, TRACE"),
        ("Access-Control-Allow-Headers", "X-Anything"),
        ("Access-Control-Max-Age", "86400"),
    ]

    def __init__(self):
        self.seen = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def _handle(self):
                outer.seen.append("%s %s" % (self.command, self.path))
                data = json.dumps({"own": "cors"}).encode()
                self.send_response(200)
                for name, value in outer.HEADERS:
                    self.send_header(name, value)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_OPTIONS = do_PUT = do_DELETE = _handle

        self.srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.srv.daemon_threads = True
        self.url = "http://127.0.0.1:%d" % self.srv.server_address[1]
        self.thread = threading.Thread(target=self.srv.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.srv.shutdown()
        self.srv.server_close()


@pytest.fixture(scope="module")
def own_cors_backend():
    b = OwnCorsBackend()
    yield b
    b.stop()


@pytest.fixture(scope="module")
def h(shared_httpd, own_cors_backend):
    server = "\n".join([
        loc("/cors", CORS),
        loc("/cors-cred", CORS, "ConduktorAuthCORSAllowCredentials On",
            "ConduktorAuthCORSMaxAge 60", "ConduktorAuthCORSAllowMethods GET POST",
            "ConduktorAuthCORSExposeHeaders WWW-Authenticate X-Request-Id"),
        loc("/cors-null", "ConduktorAuthCORSAllowOrigin null %s" % BACKSTAGE),
        loc("/cors-ports", "ConduktorAuthCORSAllowOrigin https://*.example.com:8443"
            " http://a.example.com"),
        loc("/cors-star-hdr", CORS, "ConduktorAuthCORSAllowHeaders *"),
        loc("/cors-star-hdr-authz", CORS, "ConduktorAuthCORSAllowHeaders * Authorization"),
        loc("/cors-id", CORS, "ConduktorAuthIdentityHeader user X-User"),
        loc("/cors-group", CORS, require="Require conduktor-group platform-team"),
        loc("/no-cors"),
        loc("/cors-any", "ConduktorAuthCORSAllowOrigin *"),
        loc("/cors-errdoc", CORS, "ErrorDocument 401 /errdocs/401.json",
            "ErrorDocument 403 /errdocs/403.json",
            require="Require conduktor-group platform-team"),
        '<Location "/errdocs/">\nProxyPass "!"\nRequire all granted\n</Location>',
        'Alias "/errdocs/" "{root}/htdocs/errdocs/"',
        '<Directory "{root}/htdocs/errdocs">\nRequire all granted\n</Directory>',
        '<Location "/own-cors">\nProxyPass "%s/own-cors"\n%s\n</Location>'
        % (own_cors_backend.url, protect(CORS)),
    ])
    s = shared_httpd("", server=server, global_=HDR_LOG)
    os.makedirs(os.path.join(s.root, "htdocs", "errdocs"), mode=0o755)
    for status in (401, 403):
        with open(os.path.join(s.root, "htdocs", "errdocs", "%d.json" % status), "w") as f:
            f.write('{"custom": %d}\n' % status)
    return s


def preflight(h, path="/cors/api/x", origin=BACKSTAGE, method="GET",
              req_headers="authorization", extra=()):
    headers = [("Origin", origin), ("Access-Control-Request-Method", method)]
    if req_headers is not None:
        headers.append(("Access-Control-Request-Headers", req_headers))
    return h.request("OPTIONS", path, headers=headers + list(extra))


def words(value):
    return {w.strip().lower() for w in (value or "").split(",") if w.strip()}


def cors_headers(r):
    return [(k, v) for k, v in r.headers.items() if k.lower().startswith("access-control-")]


def assert_no_cors(r):
    assert cors_headers(r) == [], cors_headers(r)


def vary(r):
    out = set()
    for v in r.headers.get_all("Vary") or []:
        out |= words(v)
    return out


def hdr_log(h, paths, timeout=5.0):
    """The GlobalLog lines (method, path, status, X-User, X_User, X-Other)
    of these paths, by path, once all are written."""
    deadline = time.time() + timeout
    while True:
        try:
            with open(h.root + "/logs/hdr_log") as f:
                lines = [tuple(line.split("\t")) for line in f.read().splitlines()]
        except FileNotFoundError:
            lines = []
        got = {line[1]: line for line in lines if line[1] in paths}
        if len(got) == len(paths) or time.time() > deadline:
            return got


@pytest.fixture
def backend_untouched(backend):
    """Asserts (after the test) that nothing reached the Conduktor stand-in."""
    before = len(backend.requests())
    yield
    new = backend.requests()[before:]
    assert new == [], "reached the backend: %r" % new


# -- preflight answered ------------------------------------------------------

def test_preflight_allowed_is_204_with_cors_headers(h, backend_untouched):
    r = preflight(h, req_headers="authorization")
    assert r.status == 204, r
    assert r.body == b""
    assert r.headers.get_all("Access-Control-Allow-Origin") == [BACKSTAGE]
    assert words(r.header("Access-Control-Allow-Methods")) == DEFAULT_METHODS
    assert words(r.header("Access-Control-Allow-Headers")) >= {"authorization", "content-type"}
    assert r.header("Access-Control-Max-Age") == "600"
    assert "origin" in vary(r)
    assert r.header("Access-Control-Allow-Credentials") is None
    assert r.header("WWW-Authenticate") is None


def wait_access(h, paths, timeout=5.0):
    """Access-log entries of these paths, once all are there (each is
    written after its answer, in whichever child served it)."""
    deadline = time.time() + timeout
    while True:
        got = {e["path"]: e for e in h.access_entries() if e["path"] in paths}
        if len(got) == len(paths) or time.time() > deadline:
            return got
        time.sleep(0.05)


def test_preflight_not_logged_at_backend(h, backend):
    before = len(backend.requests())
    cases = [(dict(method=m, req_headers="authorization, content-type"), 204, "-")
             for m in ("GET", "POST", "DELETE", "PATCH")]
    cases += [(dict(origin="https://evil-example.com"), 403, "cors_origin_denied"),
              (dict(method="TRACE"), 403, "cors_method_denied"),
              (dict(req_headers="x-nope"), 403, "cors_header_denied")]
    paths = []
    for i, (kw, status, _) in enumerate(cases):
        paths.append("/cors/api/preflight-%d" % i)
        assert preflight(h, path=paths[-1], **kw).status == status, kw
    new = backend.requests()[before:]
    assert not [l for l in new if l.startswith("OPTIONS")], new
    assert new == [], new
    # ... while httpd itself did see and answer them.
    seen = wait_access(h, paths)
    got = [(seen[p]["method"], seen[p]["status"], seen[p]["error"]) if p in seen else None
           for p in paths]
    assert got == [("OPTIONS", st, err) for _, st, err in cases], got


@pytest.mark.parametrize("method", ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"])
def test_preflight_default_methods(h, backend_untouched, method):
    r = preflight(h, method=method)
    assert r.status == 204, r


@pytest.mark.parametrize("case,kw", [
    ("origin", dict(origin="https://evil-example.com")),
    ("method", dict(method="TRACE")),
    ("method_not_in_list", dict(path="/cors-cred/x", method="DELETE")),
    ("header", dict(req_headers="authorization, x-custom")),
    ("header_only", dict(req_headers="x-custom")),
])
def test_preflight_refused_is_403_without_cors_headers(h, backend_untouched, case, kw):
    r = preflight(h, **kw)
    assert r.status == 403, r
    assert_no_cors(r)
    assert r.header("WWW-Authenticate") is None


def test_preflight_configured_methods_max_age_credentials(h, backend_untouched):
    r = preflight(h, path="/cors-cred/x", method="POST")
    assert r.status == 204, r
    assert words(r.header("Access-Control-Allow-Methods")) == {"get", "post"}
    assert r.header("Access-Control-Max-Age") == "60"
    assert r.headers.get_all("Access-Control-Allow-Origin") == [BACKSTAGE]
    assert r.header("Access-Control-Allow-Credentials") == "true"


@pytest.mark.parametrize("req_headers", [
    "Authorization, content-type", "authorization,content-type",
    "AUTHORIZATION", " authorization ,  Content-Type ", "content-type",
    "authorization,,content-type", ""])
def test_request_headers_matched_case_insensitively(h, backend_untouched, req_headers):
    r = preflight(h, req_headers=req_headers)
    assert r.status == 204, (req_headers, r)


def test_preflight_without_request_headers(h, backend_untouched):
    assert preflight(h, req_headers=None).status == 204


@pytest.mark.parametrize("req_headers", [
    "x-authorization", "authorization-x", "authorizatio", "authorization x",
    "authorization, content-type, x-api-key"])
def test_request_headers_matched_exactly(h, backend_untouched, req_headers):
    r = preflight(h, req_headers=req_headers)
    assert r.status == 403, (req_headers, r)
    assert_no_cors(r)


def test_star_in_allow_headers_does_not_cover_authorization(h, backend_untouched):
    r = preflight(h, path="/cors-star-hdr/x", req_headers="x-custom, content-type")
    assert r.status == 204, r
    assert words(r.header("Access-Control-Allow-Headers")) >= {"x-custom", "content-type"}
    for asked in ("authorization", "x-custom, Authorization"):
        r = preflight(h, path="/cors-star-hdr/x", req_headers=asked)
        assert r.status == 403, (asked, r)
        assert_no_cors(r)
    r = preflight(h, path="/cors-star-hdr-authz/x", req_headers="authorization, x-custom")
    assert r.status == 204, r
    assert "authorization" in words(r.header("Access-Control-Allow-Headers"))


# -- origin matching ---------------------------------------------------------

@pytest.mark.parametrize("origin", [
    BACKSTAGE, "https://a.example.com", "https://kafka.example.com", DEV])
def test_origin_allowed(h, backend_untouched, origin):
    r = preflight(h, origin=origin)
    assert r.status == 204, r
    assert r.headers.get_all("Access-Control-Allow-Origin") == [origin]


@pytest.mark.parametrize("origin", [
    # https://*.example.com
    "https://evil-example.com", "https://example.com.evil.net",
    "http://a.example.com", "https://a.example.com:8443", "https://example.com",
    "https://a.example.com.", "https://a.example.com/", "https://a.example.com.evil.net",
    "https://aexample.com", "https://.example.com", "https://*.example.com",
    # exact origins
    "http://backstage.example.test", "https://backstage.example.test:8443",
    "https://x.backstage.example.test", "https://backstage.example.test.evil.net",
    "https://backstage.example.tes", "https://backstage.example.test/",
    "https://backstage.example.test/app", "https://user@backstage.example.test",
    "http://localhost:3001", "http://localhost", "https://localhost:3000",
    # neither
    "null", "", "*", "backstage.example.test", "file://",
    BACKSTAGE + ", null",  # (kept under 40 characters: see harness secrets)
])
def test_origin_refused(h, backend_untouched, origin):
    r = preflight(h, origin=origin)
    assert r.status == 403, (origin, r)
    assert_no_cors(r)


@pytest.mark.parametrize("origin,status", [
    ("https://a.example.com:8443", 204), ("https://b.c.example.com:8443", 204),
    ("https://a.example.com", 403), ("https://example.com:8443", 403),
    ("http://a.example.com", 204), ("http://a.example.com:8080", 403),
    ("http://b.example.com", 403)])
def test_origin_with_port_or_scheme_only_when_listed(h, backend_untouched, origin, status):
    r = preflight(h, path="/cors-ports/x", origin=origin)
    assert r.status == status, (origin, r)
    if status == 403:
        assert_no_cors(r)


def test_null_origin_only_when_listed(h, backend):
    before = len(backend.requests())
    r = preflight(h, path="/cors-null/x", origin="null")
    assert r.status == 204, r
    assert r.headers.get_all("Access-Control-Allow-Origin") == ["null"]
    r = preflight(h, path="/cors/x", origin="null")
    assert r.status == 403, r
    assert_no_cors(r)
    assert backend.requests()[before:] == []
    r = h.get("/cors/x", headers={"Origin": "null"}, token=h.mint())
    assert r.status == 200, r
    assert_no_cors(r)


# -- every other response to an allowed origin -------------------------------

def assert_cors_for(r, origin, expose=("www-authenticate",), credentials=False):
    assert r.headers.get_all("Access-Control-Allow-Origin") == [origin], r.headers.items()
    assert words(r.header("Access-Control-Expose-Headers")) >= set(expose), r.headers.items()
    assert "origin" in vary(r), r.headers.items()
    if credentials:
        assert r.header("Access-Control-Allow-Credentials") == "true"
    else:
        assert r.header("Access-Control-Allow-Credentials") is None


def test_401_403_200_carry_cors_for_allowed_origin(h):
    path = "/cors-group/api/clusters"
    origin = [("Origin", BACKSTAGE)]
    r = h.get(path, headers=origin)
    assert_denied(r, 401)
    assert_cors_for(r, BACKSTAGE)
    r = h.get(path, headers=origin, token=h.mint(exp=1000))
    assert_denied(r, 401, error="invalid_token")
    assert_cors_for(r, BACKSTAGE)
    r = h.get(path, headers=origin, token=h.mint(groups=["someone-else"]))
    assert_denied(r, 403, error="insufficient_scope")
    assert_cors_for(r, BACKSTAGE)
    r = h.get(path, headers=origin, token=h.mint())
    assert r.status == 200, r
    assert_cors_for(r, BACKSTAGE)
    assert r.echo["path"] == path


def test_error_responses_with_credentials_and_own_expose_list(h):
    origin = [("Origin", "https://a.example.com")]
    for r, status in [(h.get("/cors-cred/x", headers=origin), 401),
                      (h.get("/cors-cred/x", headers=origin, token=h.mint()), 200)]:
        assert r.status == status, r
        assert_cors_for(r, "https://a.example.com", credentials=True,
                        expose=("www-authenticate", "x-request-id"))


def test_credentials_header_only_when_on(h):
    r = h.get("/cors/x", headers={"Origin": BACKSTAGE}, token=h.mint())
    assert r.status == 200
    assert r.header("Access-Control-Allow-Credentials") is None
    r = h.request("POST", "/cors/x", headers={"Origin": BACKSTAGE}, body="{}")
    assert r.status == 401
    assert r.header("Access-Control-Allow-Credentials") is None
    r = h.get("/cors-cred/x", headers={"Origin": BACKSTAGE}, token=h.mint())
    assert r.header("Access-Control-Allow-Credentials") == "true"


@pytest.mark.parametrize("origin", ["https://evil-example.com", "https://example.com.evil.net",
                                    "null", "http://a.example.com"])
def test_disallowed_origin_gets_no_cors_headers(h, origin):
    o = [("Origin", origin)]
    r = h.get("/cors-group/x", headers=o)
    assert_denied(r, 401)
    assert_no_cors(r)
    assert "origin" in vary(r)
    r = h.get("/cors-group/x", headers=o, token=h.mint(groups=["x"]))
    assert_denied(r, 403, error="insufficient_scope")
    assert_no_cors(r)
    r = h.get("/cors-group/x", headers=o, token=h.mint())
    assert r.status == 200, r
    assert_no_cors(r)
    assert "origin" in vary(r)


def test_error_document_keeps_cors_headers(h):
    # An administrator's ErrorDocument (an internal redirect to a local
    # file) still answers a page on an allowed origin readably.
    o = [("Origin", BACKSTAGE)]
    r = h.get("/cors-errdoc/x", headers=o)
    assert r.status == 401, r
    assert r.json() == {"custom": 401}
    assert_cors_for(r, BACKSTAGE)
    r = h.get("/cors-errdoc/x", headers=[("Origin", "https://evil-example.com")])
    assert r.status == 401, r
    assert_no_cors(r)


def test_error_document_keeps_challenge_and_status(h):
    # SPEC "Responses": the JSON body gives way to an administrator's
    # ErrorDocument, the status and the challenge do not - and they are
    # what the page on an allowed origin reads.
    o = [("Origin", BACKSTAGE)]
    r = h.get("/cors-errdoc/x", headers=o)
    assert (r.status, r.json()) == (401, {"custom": 401}), r
    scheme, params = challenge_params(r.header("WWW-Authenticate"))
    assert scheme == "Bearer" and params.get("realm") == "Conduktor", r.headers.items()
    r = h.get("/cors-errdoc/x", headers=o, token=h.mint(groups=["someone-else"]))
    assert r.status == 403, (r, r.headers.items())
    scheme, params = challenge_params(r.header("WWW-Authenticate"))
    assert params.get("error") == "insufficient_scope", r.headers.items()
    assert_cors_for(r, BACKSTAGE)


def test_two_origin_headers_are_not_an_allowed_origin(h, backend_untouched):
    r = h.request("OPTIONS", "/cors/x", headers=[
        ("Origin", BACKSTAGE), ("Origin", "https://evil-example.com"),
        ("Access-Control-Request-Method", "GET")])
    assert r.status == 403, r
    assert_no_cors(r)


def test_star_origin_without_credentials(h, backend_untouched):
    for origin in ("https://anything.test", "http://127.0.0.1:9999"):
        r = preflight(h, path="/cors-any/x", origin=origin)
        assert r.status == 204, r
        assert r.header("Access-Control-Allow-Origin") in ("*", origin), cors_headers(r)
        assert r.header("Access-Control-Allow-Credentials") is None


def test_vary_origin_without_origin_header(h):
    # The answer depends on Origin even when none was sent (a cache must not
    # hand this response to a cross-origin caller).
    for r in (h.get("/cors/x"), h.get("/cors/x", token=h.mint())):
        assert r.status in (200, 401), r
        assert "origin" in vary(r), r.headers.items()
        assert_no_cors(r)


def test_no_cors_directives_no_cors_at_all(h):
    r = preflight(h, path="/no-cors/x")
    assert_denied(r, 401)
    assert_no_cors(r)
    r = h.get("/no-cors/x", headers={"Origin": BACKSTAGE}, token=h.mint())
    assert r.status == 200
    assert_no_cors(r)


# -- OPTIONS that is not a preflight -----------------------------------------

def test_options_without_request_method_goes_through_authentication(h, backend):
    before = len(backend.requests())
    r = h.request("OPTIONS", "/cors/api/x", headers={"Origin": BACKSTAGE})
    assert_denied(r, 401)
    assert_cors_for(r, BACKSTAGE)
    r = h.request("OPTIONS", "/cors/api/x", headers={"Access-Control-Request-Method": "GET"})
    assert_denied(r, 401)
    r = h.request("OPTIONS", "/cors/api/x")
    assert_denied(r, 401)
    assert backend.requests()[before:] == []
    # With a token it is an ordinary request and is passed on.
    r = h.request("OPTIONS", "/cors/api/x", headers={"Origin": BACKSTAGE}, token=h.mint())
    assert r.status == 200, r
    assert r.echo["method"] == "OPTIONS"
    assert backend.requests()[before:] == ["OPTIONS /cors/api/x"]


# -- identity headers and preflights -----------------------------------------

def test_identity_headers_stripped_from_preflights(h, backend_untouched):
    ok = preflight(h, path="/cors-id/ok", extra=FORGED + [("X-Other", "kept")])
    assert ok.status == 204, ok
    bad = preflight(h, path="/cors-id/refused", origin="https://evil.test",
                    extra=FORGED + [("X-Other", "kept")])
    assert bad.status == 403, bad
    assert_no_cors(bad)
    # Control: where no identity header is configured, the log sees them.
    ctl = preflight(h, path="/cors/control", extra=FORGED + [("X-Other", "kept")])
    assert ctl.status == 204
    log = hdr_log(h, ["/cors-id/ok", "/cors-id/refused", "/cors/control"])
    assert log["/cors-id/ok"][2:] == ("204", "-", "-", "kept"), log["/cors-id/ok"]
    assert log["/cors-id/refused"][2:] == ("403", "-", "-", "kept"), log["/cors-id/refused"]
    assert log["/cors/control"][3] != "-", log["/cors/control"]


def test_identity_headers_on_actual_request_are_the_modules(h):
    r = h.get("/cors-id/x", headers=[("Origin", BACKSTAGE)] + FORGED,
              token=h.mint(email="bob@example.test"))
    assert r.status == 200, r
    seen = [v for k, v in r.echo["header_list"] if k.lower().replace("_", "-") == "x-user"]
    assert seen == ["bob@example.test"], seen
    assert_cors_for(r, BACKSTAGE)


# -- a backend with CORS headers of its own ----------------------------------

def test_backend_cors_headers_replaced_by_the_edge(h, own_cors_backend):
    r = h.get("/own-cors/x", headers={"Origin": BACKSTAGE}, token=h.mint())
    assert r.status == 200, r
    assert r.json() == {"own": "cors"}
    assert r.headers.get_all("Access-Control-Allow-Origin") == [BACKSTAGE], cors_headers(r)
    assert r.header("Access-Control-Allow-Credentials") is None, cors_headers(r)
    # the default list (SPEC: DPoP-Nonce exposed when CORS is on)
    assert words(r.header("Access-Control-Expose-Headers")) == {"www-authenticate",
                                                                "dpop-nonce"}, \
        cors_headers(r)
    for name in ("Access-Control-Allow-Methods", "Access-Control-Allow-Headers",
                 "Access-Control-Max-Age"):
        assert r.header(name) is None, cors_headers(r)


def test_backend_preflight_never_asked(h, own_cors_backend):
    before = len(own_cors_backend.seen)
    r = preflight(h, path="/own-cors/x")
    assert r.status == 204, r
    assert r.headers.get_all("Access-Control-Allow-Origin") == [BACKSTAGE]
    assert r.header("Access-Control-Max-Age") == "600"
    assert own_cors_backend.seen[before:] == []


def test_backend_cors_headers_not_passed_to_disallowed_origin(h, own_cors_backend):
    # SPEC/issue 4: "Disallowed origins get no CORS headers at all" - not
    # even ones the backend made up.
    r = h.get("/own-cors/x", headers={"Origin": "https://evil-example.com"}, token=h.mint())
    assert r.status == 200, r
    assert_no_cors(r)


# -- servers of their own ----------------------------------------------------

def test_503_carries_cors_headers(httpd, backend):
    dead = "https://127.0.0.1:%d/jwks.json" % free_port()
    s = httpd(protect(CORS), issuers=["ConduktorAuthIssuer %s %s" % (ISSUER, dead),
                                      "ConduktorAuthHTTPTimeout 2"],
              expect_log=[r"conduktor_auth:(warn|error)"])
    before = len(backend.requests())
    r = s.get(headers={"Origin": BACKSTAGE}, token=s.mint())
    assert r.status == 503, r
    assert_cors_for(r, BACKSTAGE)
    r = s.get(headers={"Origin": "https://evil-example.com"}, token=s.mint())
    assert r.status == 503, r
    assert_no_cors(r)
    assert len(backend.requests()) == before


def test_star_origin_and_credentials_in_nested_scopes(apachectl_t):
    # `*` in an enclosing <Location>, AllowCredentials On in a nested one:
    # they merge for the inner path, so the configuration is refused when
    # read (also by `apachectl -t`), naming both scopes.
    rc, out = apachectl_t(protect("ConduktorAuthCORSAllowOrigin *"),
                          server=loc("/inner", "ConduktorAuthCORSAllowCredentials On"))
    assert rc != 0, out
    assert "ConduktorAuthCORSAllowCredentials On in <Location /inner> takes " \
           "ConduktorAuthCORSAllowOrigin * from <Location />" in out, out
    # Deeper nesting, the `*` two levels up.
    rc, out = apachectl_t(protect(), server=loc("/api", "ConduktorAuthCORSAllowOrigin *")
                          + "\n" + loc("/api/v1/admin", "ConduktorAuthCORSAllowCredentials On"))
    assert rc != 0 and "<Location /api/v1/admin>" in out and "<Location /api>" in out, out


@pytest.mark.parametrize("name,server", [
    # A scope in between lists its own origins: those are what merge.
    ("explicit_origins_in_between",
     loc("/api", "ConduktorAuthCORSAllowOrigin " + BACKSTAGE)
     + "\n" + loc("/api/x", "ConduktorAuthCORSAllowCredentials On")),
    # Siblings never merge; nor does /apix with /api (segment boundary).
    ("siblings", loc("/public", "ConduktorAuthCORSAllowOrigin *")
     + "\n" + loc("/private", "ConduktorAuthCORSAllowOrigin " + BACKSTAGE,
                   "ConduktorAuthCORSAllowCredentials On")),
    ("segment_boundary", loc("/api", "ConduktorAuthCORSAllowOrigin *")
     + "\n" + loc("/apix", "ConduktorAuthCORSAllowOrigin " + BACKSTAGE,
                   "ConduktorAuthCORSAllowCredentials On")),
    # A later scope turns credentials off again for the same path.
    ("credentials_off_later", loc("/inner", "ConduktorAuthCORSAllowCredentials On")
     + "\n" + loc("/inner", "ConduktorAuthCORSAllowCredentials Off")),
])
def test_star_and_credentials_that_do_not_merge_are_accepted(httpd, name, server):
    s = httpd(protect("ConduktorAuthCORSAllowOrigin *"), server=server)
    # Wherever credentials are granted, it is to a listed origin, never `*`.
    for path in ("/x", "/api/x", "/public/x", "/private/x", "/apix/x", "/inner/x"):
        for origin in (BACKSTAGE, "https://any.test"):
            r = s.get(path, headers={"Origin": origin}, token=s.mint())
            acao = r.header("Access-Control-Allow-Origin")
            acac = r.header("Access-Control-Allow-Credentials")
            if acac == "true":
                assert acao == BACKSTAGE, (path, origin, cors_headers(r))
            if acao == "*":
                assert acac is None, (path, origin, cors_headers(r))
    if name == "explicit_origins_in_between":
        r = s.get("/api/x", headers={"Origin": BACKSTAGE}, token=s.mint())
        assert r.header("Access-Control-Allow-Credentials") == "true", cors_headers(r)


# -- configuration checked when read -----------------------------------------

BAD_CONFIG = [
    ("star_then_credentials",
     "ConduktorAuthCORSAllowOrigin *\nConduktorAuthCORSAllowCredentials On", ["ConduktorAuthCORS"]),
    ("credentials_then_star",
     "ConduktorAuthCORSAllowCredentials On\nConduktorAuthCORSAllowOrigin *", ["ConduktorAuthCORS"]),
    ("star_among_others_with_credentials",
     "ConduktorAuthCORSAllowOrigin https://a.example.test *\n"
     "ConduktorAuthCORSAllowCredentials On", ["ConduktorAuthCORS"]),
    ("origin_with_path", "ConduktorAuthCORSAllowOrigin https://backstage.example.com/app",
     ["ConduktorAuthCORSAllowOrigin", "https://backstage.example.com/app"]),
    ("origin_trailing_slash", "ConduktorAuthCORSAllowOrigin https://backstage.example.com/",
     ["ConduktorAuthCORSAllowOrigin", "https://backstage.example.com/"]),
    ("origin_with_query", "ConduktorAuthCORSAllowOrigin https://backstage.example.com?x=1",
     ["ConduktorAuthCORSAllowOrigin"]),
    ("origin_with_user", "ConduktorAuthCORSAllowOrigin https://u@backstage.example.com",
     ["ConduktorAuthCORSAllowOrigin"]),
    ("origin_without_scheme", "ConduktorAuthCORSAllowOrigin backstage.example.com",
     ["ConduktorAuthCORSAllowOrigin", "backstage.example.com"]),
    ("wildcard_without_scheme", "ConduktorAuthCORSAllowOrigin *.example.com",
     ["ConduktorAuthCORSAllowOrigin", "*.example.com"]),
    ("wildcard_in_middle", "ConduktorAuthCORSAllowOrigin https://a.*.com",
     ["ConduktorAuthCORSAllowOrigin", "https://a.*.com"]),
    ("wildcard_twice", "ConduktorAuthCORSAllowOrigin https://*.*.example.com",
     ["ConduktorAuthCORSAllowOrigin"]),
    ("wildcard_glued", "ConduktorAuthCORSAllowOrigin https://*example.com",
     ["ConduktorAuthCORSAllowOrigin"]),
    ("wildcard_last", "ConduktorAuthCORSAllowOrigin https://example.*",
     ["ConduktorAuthCORSAllowOrigin"]),
    ("port_zero", "ConduktorAuthCORSAllowOrigin https://a.example.com:0",
     ["ConduktorAuthCORSAllowOrigin"]),
    ("port_too_big", "ConduktorAuthCORSAllowOrigin https://a.example.com:65536",
     ["ConduktorAuthCORSAllowOrigin"]),
    ("port_not_a_number", "ConduktorAuthCORSAllowOrigin https://a.example.com:https",
     ["ConduktorAuthCORSAllowOrigin"]),
    ("max_age_word", "ConduktorAuthCORSMaxAge ten", ["ConduktorAuthCORSMaxAge", "ten"]),
    ("max_age_negative", "ConduktorAuthCORSMaxAge -1", ["ConduktorAuthCORSMaxAge", "-1"]),
    ("max_age_unit", "ConduktorAuthCORSMaxAge 10s", ["ConduktorAuthCORSMaxAge", "10s"]),
    ("max_age_fraction", "ConduktorAuthCORSMaxAge 1.5", ["ConduktorAuthCORSMaxAge", "1.5"]),
    ("max_age_empty", 'ConduktorAuthCORSMaxAge ""', ["ConduktorAuthCORSMaxAge"]),
    ("credentials_not_a_flag", "ConduktorAuthCORSAllowCredentials yes",
     ["ConduktorAuthCORSAllowCredentials"]),
    ("allow_header_bad_name", 'ConduktorAuthCORSAllowHeaders "X Bad"',
     ["ConduktorAuthCORSAllowHeaders"]),
]


@pytest.mark.parametrize("case", BAD_CONFIG, ids=[c[0] for c in BAD_CONFIG])
def test_bad_cors_config_refused(apachectl_t, case):
    _, snippet, names = case
    rc, out = apachectl_t(location=protect(snippet))
    assert rc != 0, "accepted: %s\n%s" % (snippet, out)
    assert "Syntax OK" not in out
    for word in names:
        assert word in out, "%r not named in:\n%s" % (word, out)


def test_good_cors_config_accepted(apachectl_t):
    rc, out = apachectl_t(location=protect(
        "ConduktorAuthCORSAllowOrigin https://backstage.example.com https://*.example.com"
        " http://localhost:3000 https://*.corp.example:8443 http://[::1]:7007 null",
        "ConduktorAuthCORSAllowMethods GET POST",
        "ConduktorAuthCORSAllowHeaders Authorization Content-Type X-Request-Id",
        "ConduktorAuthCORSExposeHeaders WWW-Authenticate Retry-After",
        "ConduktorAuthCORSAllowCredentials On",
        "ConduktorAuthCORSMaxAge 0"))
    assert rc == 0, out
    rc, out = apachectl_t(location=protect("ConduktorAuthCORSAllowOrigin *",
                                           "ConduktorAuthCORSAllowCredentials Off"))
    assert rc == 0, out


def test_backstage_example_config_is_accepted(apachectl_t):
    # conf/backstage.conf, as shipped (its TLS part needs mod_ssl and a
    # certificate, and is skipped here by its <IfModule ssl_module>).
    example = os.path.join(TOP, "conf", "backstage.conf")
    rc, out = apachectl_t(location=protect(), global_="Include %s" % example)
    assert rc == 0, out
    assert "Syntax OK" in out
