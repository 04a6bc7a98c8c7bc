"""DPoP (RFC 9449), SPEC "Sender-constrained tokens: DPoP and mTLS": proofs
minted at test time with python3-jwcrypto against a real httpd; tokens
carry cnf.jkt (the RFC 7638 thumbprint of the proof key). Every check of
the SPEC's list refused with the DPoP challenge, the good variants
accepted, bound tokens never accepted as bearer tokens, replays refused in
the same process, in another process and on another host sharing redis,
nonces valid across hosts sharing the cache secret."""
import base64
import hashlib
import json
import time
import uuid

import pytest
from jwcrypto import jwk

import harness
from harness import CLUSTERS, challenge_params, protect
from test_cache import STATUS, cache_server, make_secret_file, shared_httpd  # noqa: F401

ALGS = "ES256 ES384 PS256 RS256 EdDSA"
P521 = jwk.JWK.generate(kty="EC", crv="P-521")


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def ath(token):
    return b64url(hashlib.sha256(token.encode()).digest())


@pytest.fixture(scope="module")
def ec_key():
    return jwk.JWK.generate(kty="EC", crv="P-256")


@pytest.fixture(scope="module")
def other_key():
    return jwk.JWK.generate(kty="EC", crv="P-256")


def proof(key, token, url, method="GET", alg="ES256", typ="dpop+jwt", iat=None,
          jti=None, header_jwk=None, header=None, drop=(), **claims):
    """A DPoP proof for (method, url) bound to token; drop: claims left out."""
    hdr = {"typ": typ, "alg": alg,
           "jwk": header_jwk if header_jwk is not None else key.export_public(as_dict=True)}
    hdr.update(header or {})
    hdr = {k: v for k, v in hdr.items() if v is not None}
    body = {"htm": method, "htu": url, "iat": int(time.time()) if iat is None else iat,
            "jti": jti or uuid.uuid4().hex, "ath": ath(token)}
    body.update(claims)
    for name in drop:
        body.pop(name, None)
    return harness.mint.sign(key, alg, hdr, body)


def bound(h, key, **kw):
    """A token bound to key (cnf.jkt)."""
    return h.mint(cnf={"jkt": key.thumbprint()}, **kw)


def dpop_get(h, tok, prf, path=CLUSTERS, headers=(), method="GET"):
    hdrs = list(headers) + ([("DPoP", prf)] if prf is not None else [])
    return h.request(method, path, token=tok, scheme="DPoP", headers=hdrs)


def challenges(r):
    """{scheme: params} of every WWW-Authenticate challenge."""
    out = {}
    for value in r.headers.get_all("WWW-Authenticate") or []:
        scheme, params = challenge_params(value)
        out[scheme] = params
    return out


def assert_dpop_refused(r, error="invalid_dpop_proof"):
    assert r.status == 401, r
    ch = challenges(r)
    assert "DPoP" in ch, r.header("WWW-Authenticate")
    assert ch["DPoP"].get("algs") == ALGS, ch
    assert ch["DPoP"].get("error") == error, ch
    assert ch["DPoP"].get("error_description"), ch
    assert r.json()["error"] == error
    return ch


def assert_unavailable(r):
    """SPEC: a replay store that is full or does not answer: 503 with
    Retry-After (dpop_replay_check_unavailable), never an accepted proof."""
    assert r.status == 503, r
    assert r.header("Retry-After"), r
    assert r.json()["error"], r


def url(h, path=CLUSTERS):
    return h.url + path


# -- accepted ---------------------------------------------------------------------------
def test_good_proof_accepted_backend_gets_bearer_and_no_dpop(httpd, ec_key):
    h = httpd(protect())
    tok = bound(h, ec_key)
    r = dpop_get(h, tok, proof(ec_key, tok, url(h)))
    assert r.status == 200, r
    echo = r.echo
    assert echo["headers"]["authorization"] == "Bearer " + tok
    assert "dpop" not in echo["headers"]
    assert echo["token"] == "valid"


@pytest.mark.parametrize("variant", [
    "HTTP://127.0.0.1:{port}{path}",                       # scheme case
    "http://127.0.0.1:{port}{path}?x=1#frag",              # query/fragment ignored
    "http://127.0.0.1:{port}/api/public/console/v2/kafka%2dcluster",  # unreserved decoded
])
def test_htu_normalised_variants_accepted(httpd, ec_key, variant):
    h = httpd(protect())
    tok = bound(h, ec_key)
    htu = variant.format(port=h.port, path=CLUSTERS)
    r = dpop_get(h, tok, proof(ec_key, tok, htu))
    assert r.status == 200, r


def test_default_port_and_host_case_normalised(httpd, ec_key):
    h = httpd(protect())
    tok = bound(h, ec_key)
    # The client sent Host: API.example.TEST:80 ; its htu drops the port.
    r = dpop_get(h, tok, proof(ec_key, tok, "http://api.example.test" + CLUSTERS),
                 headers=[("Host", "API.example.TEST:80")])
    assert r.status == 200, r


def test_percent_encoding_case_normalised(httpd, ec_key):
    h = httpd(protect())
    tok = bound(h, ec_key)
    # ':' is reserved: it stays encoded, only its hex digits' case differs
    r = dpop_get(h, tok, proof(ec_key, tok, url(h, CLUSTERS + "%3a1")), path=CLUSTERS + "%3A1")
    assert r.status != 401, r
    assert h.last_access()["error"] == "-", h.last_access()


def test_query_in_request_not_in_htu(httpd, ec_key):
    h = httpd(protect())
    tok = bound(h, ec_key)
    r = dpop_get(h, tok, proof(ec_key, tok, url(h)), path=CLUSTERS + "?page=2")
    assert r.status == 200, r
    assert r.echo["query"] == "page=2"


def test_other_algorithms_accepted(httpd):
    h = httpd(protect())
    for kind, alg in (("RSA", "PS256"), ("RSA", "RS256"), ("OKP", "EdDSA"), ("EC", "ES384")):
        key = (jwk.JWK.generate(kty="RSA", size=2048) if kind == "RSA"
               else jwk.JWK.generate(kty="OKP", crv="Ed25519") if kind == "OKP"
               else jwk.JWK.generate(kty="EC", crv="P-384"))
        tok = bound(h, key)
        r = dpop_get(h, tok, proof(key, tok, url(h), alg=alg))
        assert r.status == 200, (alg, r)


def test_public_url_behind_a_tls_terminating_proxy(httpd, ec_key):
    h = httpd(protect("ConduktorAuthPublicURL https://api.example.test"))
    tok = bound(h, ec_key)
    r = dpop_get(h, tok, proof(ec_key, tok, "https://api.example.test" + CLUSTERS))
    assert r.status == 200, r
    r = dpop_get(h, tok, proof(ec_key, tok, url(h)))
    assert_dpop_refused(r)
    h.expect_log  # noqa: B018


# -- refused: every defect of the SPEC's list ------------------------------------------------
DEFECTS = {
    "typ":          lambda k, t, u: proof(k, t, u, typ="JWT"),
    "typ_missing":  lambda k, t, u: proof(k, t, u, typ=None),
    "alg_hs256":    lambda k, t, u: harness.mint.sign(
        jwk.JWK.generate(kty="oct", size=256), "HS256",
        {"typ": "dpop+jwt", "alg": "HS256", "jwk": k.export_public(as_dict=True)},
        {"htm": "GET", "htu": u, "iat": int(time.time()), "jti": uuid.uuid4().hex,
         "ath": ath(t)}),
    "alg_none":     lambda k, t, u: harness.mint.sign(
        None, "none", {"typ": "dpop+jwt", "alg": "none", "jwk": k.export_public(as_dict=True)},
        {"htm": "GET", "htu": u, "iat": int(time.time()), "jti": uuid.uuid4().hex,
         "ath": ath(t)}),
    "alg_not_listed": lambda k, t, u: proof(P521, t, u, alg="ES512"),
    "jwk_missing":  lambda k, t, u: proof(k, t, u, header={"jwk": None}),
    "jwk_private":  lambda k, t, u: proof(k, t, u, header_jwk=json.loads(k.export_private())),
    "jwk_oct":      lambda k, t, u: proof(k, t, u, header_jwk={"kty": "oct", "k": b64url(b"x" * 32)}),
    "jwk_other":    lambda k, t, u: proof(k, t, u, header_jwk=jwk.JWK.generate(
        kty="EC", crv="P-256").export_public(as_dict=True)),
    "signature":    lambda k, t, u: proof(k, t, u)[:-4] + ("AAAA" if not proof(k, t, u).endswith("AAAA") else "BBBB"),
    "htm":          lambda k, t, u: proof(k, t, u, method="POST"),
    "htm_missing":  lambda k, t, u: proof(k, t, u, drop=("htm",)),
    "htu_path":     lambda k, t, u: proof(k, t, u + "x"),
    "htu_host":     lambda k, t, u: proof(k, t, u.replace("127.0.0.1", "127.0.0.2")),
    "htu_scheme":   lambda k, t, u: proof(k, t, u.replace("http:", "https:")),
    "htu_missing":  lambda k, t, u: proof(k, t, u, drop=("htu",)),
    "iat_old":      lambda k, t, u: proof(k, t, u, iat=int(time.time()) - 600),
    "iat_future":   lambda k, t, u: proof(k, t, u, iat=int(time.time()) + 600),
    "iat_missing":  lambda k, t, u: proof(k, t, u, drop=("iat",)),
    "iat_string":   lambda k, t, u: proof(k, t, u, iat=str(int(time.time()))),
    "ath_other":    lambda k, t, u: proof(k, t, u, ath=ath(t + "x")),
    "ath_missing":  lambda k, t, u: proof(k, t, u, drop=("ath",)),
    "jti_missing":  lambda k, t, u: proof(k, t, u, drop=("jti",)),
    "jti_long":     lambda k, t, u: proof(k, t, u, jti="j" * 300),
    "not_a_jws":    lambda k, t, u: "not-a-proof",
    "non_canonical_b64": lambda k, t, u: proof(k, t, u) + "=",
    "too_large":    lambda k, t, u: proof(k, t, u, pad="x" * 9000),
}


def test_every_defective_proof_refused(httpd, ec_key):
    """One server, one request per defect (each named in the failure);
    a good proof after them all is still accepted."""
    h = httpd(protect())
    tok = bound(h, ec_key)
    failures = []
    for defect in sorted(DEFECTS):
        prf = DEFECTS[defect](ec_key, tok, url(h))
        r = dpop_get(h, tok, prf)
        try:
            ch = assert_dpop_refused(r)
            assert "Bearer" in ch, "bearer tokens are admitted here: Bearer challenge too"
            assert h.last_access()["error"] == "dpop_invalid", h.last_access()
        except AssertionError as e:
            failures.append("%s: %s" % (defect, e))
    assert not failures, "\n".join(failures)
    assert dpop_get(h, tok, proof(ec_key, tok, url(h))).status == 200


def test_no_dpop_header_refused(httpd, ec_key):
    h = httpd(protect())
    tok = bound(h, ec_key)
    assert_dpop_refused(dpop_get(h, tok, None))


def test_two_dpop_headers_refused(httpd, ec_key):
    h = httpd(protect())
    tok = bound(h, ec_key)
    r = h.request("GET", CLUSTERS, token=tok, scheme="DPoP",
                  headers=[("DPoP", proof(ec_key, tok, url(h))),
                           ("DPoP", proof(ec_key, tok, url(h)))])
    assert_dpop_refused(r)


def test_proof_of_another_key_than_cnf_jkt_refused(httpd, ec_key, other_key):
    h = httpd(protect())
    tok = bound(h, ec_key)
    assert_dpop_refused(dpop_get(h, tok, proof(other_key, tok, url(h))))


def test_unbound_token_with_dpop_scheme_refused(httpd, ec_key):
    h = httpd(protect())
    tok = h.mint()
    r = dpop_get(h, tok, proof(ec_key, tok, url(h)))
    assert r.status == 401, r
    assert "DPoP" in challenges(r)


# -- bound tokens are never bearer tokens ---------------------------------------------------
def test_bound_token_as_bearer_is_binding_missing(httpd, ec_key):
    h = httpd(protect())
    tok = bound(h, ec_key)
    r = h.get(token=tok)
    assert r.status == 401, r
    assert r.json()["error"] == "invalid_token"
    assert h.last_access()["error"] == "binding_missing"
    # even with a valid proof beside it: the Bearer scheme proves nothing
    r = h.get(token=tok, headers=[("DPoP", proof(ec_key, tok, url(h)))])
    assert r.status == 401 and h.last_access()["error"] == "binding_missing", r


def test_bound_token_as_bearer_refused_on_a_cache_hit(httpd, ec_key):
    h = httpd(protect())
    tok = bound(h, ec_key)
    assert dpop_get(h, tok, proof(ec_key, tok, url(h))).status == 200
    r = h.get(token=tok)
    assert r.status == 401 and h.last_access()["error"] == "binding_missing", r


def test_dpop_header_on_bearer_request_ignored_and_not_forwarded(httpd, ec_key):
    h = httpd(protect())
    tok = h.mint()
    r = h.get(token=tok, headers=[("DPoP", "anything-at-all")])
    assert r.status == 200, r
    assert "dpop" not in r.echo["headers"]


def test_certificate_bound_token_as_bearer_refused(httpd):
    h = httpd(protect())
    tok = h.mint(cnf={"x5t#S256": b64url(hashlib.sha256(b"cert").digest())})
    r = h.get(token=tok)
    assert r.status == 401 and h.last_access()["error"] == "binding_missing", r


# -- replay ---------------------------------------------------------------------------------
def test_replay_to_the_same_server_refused(httpd, ec_key):
    h = httpd(protect(), server=STATUS)
    tok = bound(h, ec_key)
    prf = proof(ec_key, tok, url(h))
    assert dpop_get(h, tok, prf).status == 200
    for _ in range(4):      # several connections: other processes / threads too
        r = dpop_get(h, tok, prf)
        assert_dpop_refused(r)
        assert h.last_access()["error"] == "dpop_replay"
    st = h.get("/conduktor-auth-status?format=json").json()
    assert st["dpop"]["accepted"] == 1
    assert st["dpop"]["refused"]["replay"] == 4


def test_replay_to_another_process_refused(httpd, ec_key):
    """prefork: every connection may land on another child process; the
    shmcb replay cache is shared by them all."""
    h = httpd(protect(), mpm="prefork")
    tok = bound(h, ec_key)
    prfs = [proof(ec_key, tok, url(h)) for _ in range(6)]
    for p in prfs:
        assert dpop_get(h, tok, p).status == 200
    pids = set()
    for p in prfs:
        r = dpop_get(h, tok, p)
        assert_dpop_refused(r)
        pids.add(h.last_access()["pid"])
    pids |= {e["pid"] for e in h.access_entries()}
    assert len(pids) >= 2, "all requests went to one process: %s" % pids


def test_replay_to_another_host_sharing_redis_refused(httpd, cache_server, ec_key):
    cache = cache_server("redis")
    h1 = shared_httpd(httpd, cache)
    h2 = shared_httpd(httpd, cache,
                      location=protect("ConduktorAuthPublicURL http://127.0.0.1:%d" % h1.port))
    tok = bound(h1, ec_key)
    prf = proof(ec_key, tok, url(h1))
    assert dpop_get(h1, tok, prf).status == 200
    r = dpop_get(h2, tok, prf)
    assert_dpop_refused(r)
    assert h2.last_access()["error"] == "dpop_replay"
    # a fresh proof is fine on host 2
    assert dpop_get(h2, tok, proof(ec_key, tok, url(h1))).status == 200


def test_cache_down_fails_closed(httpd, ec_key, tmp_path):
    glob = ("LoadModule socache_redis_module %s/mod_socache_redis.so\n"
            "ConduktorAuthCache redis:127.0.0.1:%d\nConduktorAuthCacheSecret file:%s"
            % (harness.MODDIR, harness.free_port(), make_secret_file(str(tmp_path))))
    h = httpd(protect(), global_=glob, expect_log=[r"shared cache .* failed",
                                                   r"socache_redis", r"AH\d+.*redis",
                                                   r"DPoP replay store .* does not answer"])
    tok = bound(h, ec_key)
    r = dpop_get(h, tok, proof(ec_key, tok, url(h)))
    assert_unavailable(r)
    assert h.last_access()["error"] == "dpop_replay_check_unavailable"
    # bearer tokens are unaffected
    assert h.get(token=h.mint()).status == 200


# -- nonces ---------------------------------------------------------------------------------
def test_nonce_required_then_accepted_across_hosts(httpd, cache_server, ec_key):
    cache = cache_server("redis")
    loc = protect("ConduktorAuthDPoPNonce On")
    h1 = shared_httpd(httpd, cache, location=loc)
    h2 = shared_httpd(httpd, cache, location=protect(
        "ConduktorAuthDPoPNonce On", "ConduktorAuthPublicURL http://127.0.0.1:%d" % h1.port))
    tok = bound(h1, ec_key)
    r = dpop_get(h1, tok, proof(ec_key, tok, url(h1)))
    assert_dpop_refused(r, error="use_dpop_nonce")
    nonce = r.header("DPoP-Nonce")
    assert nonce
    r = dpop_get(h1, tok, proof(ec_key, tok, url(h1), nonce=nonce))
    assert r.status == 200, r
    assert r.header("DPoP-Nonce"), "a fresh nonce on success too"
    # the nonce of host 1 is good on host 2 (same secret)
    r = dpop_get(h2, tok, proof(ec_key, tok, url(h1), nonce=nonce))
    assert r.status == 200, r
    # a made-up nonce is not
    r = dpop_get(h2, tok, proof(ec_key, tok, url(h1), nonce=b64url(b"\0" * 24)))
    assert_dpop_refused(r, error="use_dpop_nonce")


def test_nonce_of_another_secret_refused(httpd, ec_key):
    h1 = httpd(protect("ConduktorAuthDPoPNonce On"))
    h2 = httpd(protect("ConduktorAuthDPoPNonce On"))
    tok = bound(h1, ec_key)
    nonce = dpop_get(h1, tok, proof(ec_key, tok, url(h1))).header("DPoP-Nonce")
    assert nonce
    r = dpop_get(h2, tok, proof(ec_key, tok, url(h2), nonce=nonce))
    assert_dpop_refused(r, error="use_dpop_nonce")


# -- RequireBinding -------------------------------------------------------------------------
def test_require_binding_dpop(httpd, ec_key):
    h = httpd(protect("ConduktorAuthRequireBinding dpop"))
    r = h.get(token=h.mint())
    assert r.status == 401 and h.last_access()["error"] == "binding_required", r
    ch = challenges(r)
    assert list(ch) == ["DPoP"], "bearer tokens are not admitted: DPoP challenge only"
    r = h.get()
    assert list(challenges(r)) == ["DPoP"], r.header("WWW-Authenticate")
    tok = bound(h, ec_key)
    assert dpop_get(h, tok, proof(ec_key, tok, url(h))).status == 200
    x5t = h.mint(cnf={"x5t#S256": b64url(hashlib.sha256(b"c").digest())})
    # a certificate-bound token sent as bearer without certificate: refused
    assert h.get(token=x5t).status == 401


def test_require_binding_mtls(httpd, ec_key):
    h = httpd(protect("ConduktorAuthRequireBinding mtls"))
    r = h.get(token=h.mint())
    assert r.status == 401 and h.last_access()["error"] == "binding_required", r
    tok = bound(h, ec_key)
    r = dpop_get(h, tok, proof(ec_key, tok, url(h)))
    assert r.status == 401 and h.last_access()["error"] == "binding_required", r
    x5t = h.mint(cnf={"x5t#S256": b64url(hashlib.sha256(b"c").digest())})
    r = h.get(token=x5t)     # no client certificate on this connection
    assert r.status == 401 and h.last_access()["error"] == "binding_missing", r


def test_require_binding_any(httpd, ec_key):
    h = httpd(protect("ConduktorAuthRequireBinding any"))
    r = h.get(token=h.mint())
    assert r.status == 401 and h.last_access()["error"] == "binding_required", r
    ch = challenges(r)
    assert "DPoP" in ch and "Bearer" in ch, r.header("WWW-Authenticate")
    tok = bound(h, ec_key)
    assert dpop_get(h, tok, proof(ec_key, tok, url(h))).status == 200


def test_require_binding_none_admits_bearer(httpd):
    h = httpd(protect("ConduktorAuthRequireBinding none"))
    assert h.get(token=h.mint()).status == 200


def test_dpop_algorithms_restricts_proofs(httpd):
    h = httpd(protect("ConduktorAuthDPoPAlgorithms EdDSA"))
    ec = jwk.JWK.generate(kty="EC", crv="P-256")
    tok = bound(h, ec)
    r = dpop_get(h, tok, proof(ec, tok, url(h)))
    assert r.status == 401
    assert challenges(r)["DPoP"]["algs"] == "EdDSA"
    ed = jwk.JWK.generate(kty="OKP", crv="Ed25519")
    tok = bound(h, ed)
    assert dpop_get(h, tok, proof(ed, tok, url(h), alg="EdDSA")).status == 200


def test_window(httpd, ec_key):
    h = httpd(protect("ConduktorAuthDPoPWindow 5", "ConduktorAuthClockSkew 0"))
    tok = bound(h, ec_key)
    assert_dpop_refused(dpop_get(h, tok, proof(ec_key, tok, url(h), iat=int(time.time()) - 30)))
    assert dpop_get(h, tok, proof(ec_key, tok, url(h))).status == 200


# -- CORS -----------------------------------------------------------------------------------
def test_cors_preflight_allows_dpop_and_exposes_nonce(httpd, ec_key):
    h = httpd(protect("ConduktorAuthCORSAllowOrigin https://app.example.test"))
    r = h.request("OPTIONS", CLUSTERS, headers=[
        ("Origin", "https://app.example.test"), ("Access-Control-Request-Method", "GET"),
        ("Access-Control-Request-Headers", "authorization, dpop")])
    assert r.status == 204, r
    assert "dpop" in r.header("Access-Control-Allow-Headers").lower()
    tok = bound(h, ec_key)
    r = dpop_get(h, tok, proof(ec_key, tok, url(h)), headers=[("Origin", "https://app.example.test")])
    assert r.status == 200
    assert "dpop-nonce" in r.header("Access-Control-Expose-Headers").lower()


def test_cors_explicit_lists_replace_the_defaults(httpd):
    h = httpd(protect("ConduktorAuthCORSAllowOrigin https://app.example.test",
                      "ConduktorAuthCORSAllowHeaders Authorization"))
    r = h.request("OPTIONS", CLUSTERS, headers=[
        ("Origin", "https://app.example.test"), ("Access-Control-Request-Method", "GET"),
        ("Access-Control-Request-Headers", "authorization, dpop")])
    assert r.status == 403, r


# -- status ---------------------------------------------------------------------------------
def test_status_counts_refusals_per_defect(httpd, ec_key):
    h = httpd(protect(), server=STATUS)
    tok = bound(h, ec_key)
    dpop_get(h, tok, proof(ec_key, tok, url(h), method="PUT"))
    dpop_get(h, tok, proof(ec_key, tok, url(h), typ="JWT"))
    st = h.get("/conduktor-auth-status?format=json").json()
    assert st["dpop"]["refused"]["htm"] == 1
    assert st["dpop"]["refused"]["typ"] == 1
    prom = h.get("/conduktor-auth-status").text
    assert 'conduktor_auth_dpop_proofs_refused_total{defect="htm"} 1' in prom
    assert 'conduktor_auth_dpop_proofs_total{result="accepted"} 0' in prom
    html = h.get("/conduktor-auth-status?format=html").text
    assert 'data-json="dpop.refused.htm">1<' in html, html[-1500:]


# -- configuration --------------------------------------------------------------------------
@pytest.mark.parametrize("line, needle", [
    ("ConduktorAuthRequireBinding strict", "ConduktorAuthRequireBinding"),
    ("ConduktorAuthDPoPAlgorithms HS256", "ConduktorAuthDPoPAlgorithms"),
    ("ConduktorAuthDPoPAlgorithms none", "ConduktorAuthDPoPAlgorithms"),
    ("ConduktorAuthDPoPWindow 0", "ConduktorAuthDPoPWindow"),
    ("ConduktorAuthDPoPWindow abc", "ConduktorAuthDPoPWindow"),
    ("ConduktorAuthDPoPNonce maybe", "ConduktorAuthDPoPNonce"),
    ("ConduktorAuthPublicURL https://api.example.test/path", "ConduktorAuthPublicURL"),
    ("ConduktorAuthPublicURL https://u@api.example.test", "ConduktorAuthPublicURL"),
    ("ConduktorAuthPublicURL https://api.example.test?x=1", "ConduktorAuthPublicURL"),
    ("ConduktorAuthPublicURL ftp://api.example.test", "ConduktorAuthPublicURL"),
    ("ConduktorAuthPublicURL api.example.test", "ConduktorAuthPublicURL"),
])
def test_bad_directive_values_refused_at_apachectl_t(workdir, keys, backend, module_path,
                                                     line, needle):
    h = harness.Httpd(workdir, keys, backend, location=protect(line), module=module_path)
    rc, out = h.check_config()
    assert rc != 0, out
    assert needle in out, out


# -- more ----------------------------------------------------------------------------------
def test_cache_none_fails_closed(httpd, ec_key):
    h = httpd(protect(), global_="ConduktorAuthCache none")
    tok = bound(h, ec_key)
    r = dpop_get(h, tok, proof(ec_key, tok, url(h)))
    assert_unavailable(r)
    assert h.last_access()["error"] == "dpop_replay_check_unavailable"
    assert h.get(token=h.mint()).status == 200


def test_defect_logged_without_proof_material(httpd, ec_key):
    h = httpd(protect())
    tok = bound(h, ec_key)
    prf = proof(ec_key, tok, url(h), method="DELETE")
    dpop_get(h, tok, prf)
    h.last_access()
    log = h.read_error_log()
    assert "DPoP proof refused: htm (htm is not the request method)" in log, log[-2000:]
    # (the harness fails the test if the token or the proof is in any log line)


def test_forward_token_off_backend_gets_neither(httpd, ec_key):
    h = httpd(protect("ConduktorAuthForwardToken Off"))
    tok = bound(h, ec_key)
    r = dpop_get(h, tok, proof(ec_key, tok, url(h)))
    # the module let it through; the stand-in backend, seeing no token, says 401 itself
    assert h.last_access()["error"] == "-", h.last_access()
    assert r.echo["token"] == "absent"
    assert "authorization" not in r.echo["headers"]
    assert "dpop" not in r.echo["headers"]


def test_post_with_its_own_proof(httpd, ec_key):
    h = httpd(protect())
    tok = bound(h, ec_key)
    r = dpop_get(h, tok, proof(ec_key, tok, url(h), method="POST"), method="POST")
    assert r.status == 200, r
    r = dpop_get(h, tok, proof(ec_key, tok, url(h), method="GET"), method="POST")
    assert_dpop_refused(r)


def test_token_bound_both_ways_needs_the_certificate_too(httpd, ec_key):
    """cnf.jkt and cnf["x5t#S256"]: a valid DPoP proof alone is not enough
    (no client certificate on this plain-HTTP connection)."""
    h = httpd(protect())
    tok = h.mint(cnf={"jkt": ec_key.thumbprint(),
                      "x5t#S256": b64url(hashlib.sha256(b"cert").digest())})
    r = dpop_get(h, tok, proof(ec_key, tok, url(h)))
    assert r.status == 401 and h.last_access()["error"] == "binding_missing", r


def test_cnf_of_another_method_is_never_bearer(httpd):
    h = httpd(protect())
    r = h.get(token=h.mint(cnf={"jwk": {"kty": "EC"}}))
    assert r.status == 401 and h.last_access()["error"] == "binding_missing", r
    r = h.get(token=h.mint(cnf="x"))
    assert r.status == 401 and h.last_access()["error"] == "binding_missing", r


# -- an internal redirect gives the first pass's answer ------------------------------------
ERRDOC_SERVER = """
ErrorDocument 401 /static/errdocs/403.json
ErrorDocument 403 /static/errdocs/403.json
<Location "/admins/">
  Require conduktor-group admins
</Location>
<Location "/static/errdocs/">
%s
</Location>"""


def test_internal_redirect_to_a_protected_page_keeps_the_dpop_verdict(httpd, ec_key):
    """A 403 whose ErrorDocument lives in a protected location: the internal
    redirect authenticates again, reading an Authorization header this
    module already rewrote to Bearer. It must see the proof the first pass
    accepted (kept in the request state), not a bound token sent as
    bearer (binding_missing), and not ask for the used proof again."""
    h = httpd(protect(), server=ERRDOC_SERVER % harness.indent(protect(), 2),
              htdocs={"static/errdocs/403.json": '{"custom": 403}\n'})
    tok = bound(h, ec_key, groups=["users"])
    r = dpop_get(h, tok, proof(ec_key, tok, url(h, "/admins/x")), path="/admins/x")
    assert r.status == 403, r
    assert r.json() == {"custom": 403}, r.text
    assert "binding_missing" not in h.read_error_log()
    assert "dpop_replay" not in h.read_error_log()
    # the same for a bearer token that is not bound (unchanged)
    r = h.get("/admins/x", token=h.mint(groups=["users"]))
    assert r.status == 403 and r.json() == {"custom": 403}, r.text
    # a bound token sent as bearer is still refused (401: its status, the
    # administrator's page)
    r = h.get("/admins/x", token=tok)
    assert r.status == 401, r
    assert h.last_access()["error"] == "binding_missing"


# -- ConduktorAuthTokenHeader: no unchecked Authorization reaches the backend ---------------
def test_authorization_beside_another_token_header_is_removed(httpd):
    """With ConduktorAuthTokenHeader X-Token the module checks X-Token; an
    Authorization header sent beside it was checked by nobody, and the
    backend (which re-validates Authorization) must not take it for the
    caller's credential."""
    h = httpd(protect("ConduktorAuthTokenHeader X-Token"))
    good, other = h.mint(), h.mint(email="mallory@example.test", sub="mallory")
    for extra in ("Bearer " + other, "Basic dXNlcjpwYXNz"):
        r = h.get(headers=[("X-Token", good), ("Authorization", extra)])
        # the module admitted the request; the stand-in, which re-validates
        # Authorization only, now finds none (and says so in its echo)
        assert h.last_access()["error"] == "-" and h.last_access()["user"] != "-"
        echo = r.json()["echo"]
        assert "authorization" not in {n.lower() for n, _ in echo["header_list"]}, echo
        assert echo["headers"].get("x-token") == good     # the checked one, forwarded
