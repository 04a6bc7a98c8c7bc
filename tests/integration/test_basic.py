"""The basic contract: 401 without a token, 200 with one, what the client
and the backend see, and failing closed when the configuration is
incomplete (SPEC "Responses", "Turning it on")."""
import re

from harness import (AUDIENCE, CLUSTERS, ISSUER, assert_denied,
                     assert_no_token, free_port, protect)


def test_no_token_gets_bare_bearer_challenge(httpd, backend):
    h = httpd(protect())
    before = len(backend.requests())
    r = h.get()
    assert_denied(r, 401)
    assert r.header("WWW-Authenticate") == 'Bearer realm="Conduktor"'
    assert h.last_access()["error"] == "no_token"
    assert len(backend.requests()) == before, "a refused request reached the backend"


def test_realm_is_the_authname(httpd):
    h = httpd(protect(realm="Kafka API"))
    assert_denied(h.get(), 401, realm="Kafka API")


def test_valid_token_reaches_conduktor(httpd):
    h = httpd(protect())
    tok = h.mint(email="alice@example.test", groups=["platform-team", "devs"])
    r = h.get(token=tok)
    assert r.status == 200, r
    body = r.json()
    assert [c["metadata"]["name"] for c in body["clusters"]] == ["local-kafka", "staging-kafka"]
    echo = body["echo"]
    assert echo["token"] == "valid", "Conduktor could not re-validate the token"
    assert echo["identity"]["email"] == "alice@example.test"
    assert echo["path"] == CLUSTERS


def test_success_is_recorded_in_access_log(httpd):
    h = httpd(protect())
    tok = h.mint(sub="u-42", email="alice@example.test", groups=["a", "b"], exp=2000000000)
    assert h.get(token=tok).status == 200
    want = {"user": "alice@example.test", "remote_user": "alice@example.test",
            "email": "alice@example.test", "groups": "a,b", "subject": "u-42",
            "issuer": ISSUER, "expires": "2000000000", "error": "-"}
    log = h.last_access()
    assert {k: log[k] for k in want} == want


def test_post_with_body_is_proxied(httpd):
    h = httpd(protect())
    r = h.request("POST", "/api/public/console/v2/topic", token=h.mint(),
                  headers={"Content-Type": "application/json"}, body='{"name":"t1"}')
    assert r.status == 200, r
    assert r.echo["method"] == "POST"
    assert r.echo["body"] == '{"name":"t1"}'


def test_bad_token_gets_invalid_token_json(httpd, keys):
    h = httpd(protect())
    tok = h.mint(aud="somebody-else")
    r = h.get(token=tok)
    assert_denied(r, 401, error="invalid_token", token=tok)
    assert h.last_access()["error"] == "wrong_audience"


def test_authorization_without_bearer_scheme(httpd):
    h = httpd(protect())
    tok = h.mint()
    for value in (tok, "Basic dXNlcjpwYXNz", "Token " + tok, "Bearer", "Bearer "):
        r = h.get(headers={"Authorization": value})
        assert r.status == 401, (value[:20], r)
        assert r.header("WWW-Authenticate").startswith('Bearer realm="Conduktor"')
        assert_no_token(r, tok)


def test_two_authorization_headers_are_refused(httpd):
    h = httpd(protect())
    good, other = h.mint(), h.mint(email="mallory@example.test")
    r = h.get(headers=[("Authorization", "Bearer " + good), ("Authorization", "Bearer " + other)])
    assert r.status == 401, r
    assert_no_token(r, good)


def test_realm_is_quoted_safely(httpd):
    # AuthName 'Kafka "prod"' (single quotes in httpd.conf): the realm's
    # double quotes must be escaped inside the challenge's quoted-string.
    h = httpd(protect().replace('AuthName "Conduktor"', """AuthName 'Kafka "prod"'"""))
    r = h.get()
    assert r.header("WWW-Authenticate") == r'Bearer realm="Kafka \"prod\""'
    assert_denied(r, 401, realm='Kafka "prod"')


def test_bearer_scheme_is_case_insensitive(httpd):
    h = httpd(protect())
    tok = h.mint()
    for scheme in ("bearer", "BEARER", "BeArEr"):
        assert h.get(token=tok, scheme=scheme).status == 200, scheme


def test_error_document_replaces_the_json_body(httpd):
    h = httpd(protect('ErrorDocument 401 "please sign in"',
                      'ErrorDocument 403 "not for you"',
                      require="Require conduktor-group admins"))
    r = h.get()
    assert r.status == 401
    assert r.text.strip() == "please sign in"
    assert r.header("WWW-Authenticate") == 'Bearer realm="Conduktor"'
    r = h.get(token=h.mint(groups=["devs"]))
    assert r.status == 403
    assert r.text.strip() == "not for you"


def test_no_audience_configured_fails_closed(httpd, backend):
    h = httpd(protect(audience=None), expect_log=[r"conduktor_auth:error"])
    before = len(backend.requests())
    r = h.get(token=h.mint())
    assert r.status == 500, r
    assert len(backend.requests()) == before
    errors = [l for l in h.read_error_log().splitlines() if "conduktor_auth:error" in l]
    assert errors and any(re.search(r"(?i)audience", l) for l in errors), errors


def test_no_issuer_configured_fails_closed(httpd, backend):
    h = httpd(protect(), issuers=[], expect_log=[r"conduktor_auth:error"])
    before = len(backend.requests())
    r = h.get(token=h.mint())
    assert r.status == 500, r
    assert len(backend.requests()) == before
    errors = [l for l in h.read_error_log().splitlines() if "conduktor_auth:error" in l]
    assert errors and any(re.search(r"(?i)issuer", l) for l in errors), errors


def test_keys_never_obtained_gives_503_retry_after(httpd, backend):
    dead = "https://127.0.0.1:%d/jwks.json" % free_port()
    h = httpd(protect(), issuers=["ConduktorAuthIssuer %s %s" % (ISSUER, dead),
                                  "ConduktorAuthHTTPTimeout 2"],
              expect_log=[r"conduktor_auth:(warn|error)"])
    before = len(backend.requests())
    r = h.get(token=h.mint())
    assert r.status == 503, r
    assert r.header("Retry-After"), dict(r.headers)
    assert len(backend.requests()) == before


def test_token_from_untrusted_issuer_is_401_not_503(httpd):
    h = httpd(protect())
    r = h.get(token=h.mint(iss="https://evil.example.test"))
    assert_denied(r, 401, error="invalid_token")


def test_debug_log_never_holds_the_token(httpd):
    # The fixture checks every log for every token sent (the module logs at
    # trace8 in every test); this test sends a mix of good and bad ones.
    h = httpd(protect())
    good = h.mint()
    assert h.get(token=good).status == 200
    assert h.get(token=good[:-4] + "AAAA").status == 401
    assert h.get(token=h.mint(exp=1)).status == 401
    assert h.get(token=h.mint(aud=AUDIENCE + "x")).status == 401
    assert h.get(token="x" * 64).status == 401
