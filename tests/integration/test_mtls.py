"""Certificate-bound access tokens (RFC 8705, issue 16) through real
mod_ssl: a token whose claims carry cnf["x5t#S256"] is accepted only over a
TLS connection whose client certificate has that SHA-256 thumbprint,
whatever the configuration; otherwise 401 binding_missing. Client
certificates are self-signed, made at test time, and httpd asks for them
with `SSLVerifyClient optional_no_ca` (harness.Httpd(tls=True)); the same
vhost is served over plain HTTP on a second port.

A malformed binding (cnf not an object, x5t#S256 not 43 characters of
canonical base64url) is refused the same way: binding_missing.
"""
import os
import re
import uuid

import pytest

import test_dpop as td
from harness import CLUSTERS, ClientCert, assert_denied, protect

STATUS = """
<Location "/conduktor-auth-status">
  SetHandler conduktor-auth-status
  Require ip 127.0.0.1
</Location>"""
DEBUG_RE = re.compile(r"\[conduktor_auth:debug\] .*mTLS: token bound to certificate "
                      r"x5t#S256 (\S+), connection presents (\S+?)(:|$)")


@pytest.fixture(scope="module")
def certs(workdir):
    d = os.path.join(workdir, "client-certs-%s" % uuid.uuid4().hex[:8])
    return {"alice": ClientCert(d, "alice"), "mallory": ClientCert(d, "mallory")}


BINDING = """
<Location "/mtls/">
  ProxyPass "{backend}/"
  %s
</Location>
<Location "/any/">
  ProxyPass "{backend}/"
  %s
</Location>""" % (protect("ConduktorAuthRequireBinding mtls"),
                  protect("ConduktorAuthRequireBinding any"))


@pytest.fixture(scope="module")
def tls_httpd(shared_httpd):
    return shared_httpd(protect(), server=STATUS + BINDING, tls=True)


def mint(h, **kw):
    """A token of its own (jti): equal claims minted in the same second
    would be the very same token, maybe cached already."""
    return h.mint(jti=uuid.uuid4().hex, **kw)


def bound(h, cert, **kw):
    return mint(h, cnf={"x5t#S256": cert.x5t}, **kw)


def refused(h, r, tok, backend=None, before=None):
    assert_denied(r, 401, error="invalid_token", token=tok)
    assert h.last_access()["error"] == "binding_missing"
    if backend is not None:
        assert len(backend.requests()) == before, "a refused request reached the backend"


def hits(h):
    r = h.get("/conduktor-auth-status?format=json")
    assert r.status == 200, r
    return r.json()["cache"]["hits"]


# -- the right certificate, and the others ---------------------------------------
def test_right_certificate_gets_200_with_identity(tls_httpd, certs):
    h = tls_httpd
    tok = bound(h, certs["alice"], email="alice@example.test", sub="alice-1")
    r = h.get(token=tok, cert=certs["alice"].pair)
    assert r.status == 200, r
    assert r.echo["token"] == "valid"
    assert r.echo["identity"]["email"] == "alice@example.test"
    log = h.last_access()
    assert (log["user"], log["subject"], log["error"]) == ("alice@example.test", "alice-1", "-")


def test_other_certificate_is_refused(tls_httpd, certs, backend):
    h = tls_httpd
    tok = bound(h, certs["alice"])
    before = len(backend.requests())
    refused(h, h.get(token=tok, cert=certs["mallory"].pair), tok, backend, before)
    # the debug line names both thumbprints, nothing of the certificate
    lines = [DEBUG_RE.search(l) for l in h.read_error_log().splitlines()]
    seen = [(m.group(1), m.group(2)) for m in lines if m]
    assert (certs["alice"].x5t, certs["mallory"].x5t) in seen, seen


def test_no_certificate_over_tls_is_refused(tls_httpd, certs, backend):
    h = tls_httpd
    tok = bound(h, certs["alice"])
    before = len(backend.requests())
    refused(h, h.get(token=tok), tok, backend, before)
    assert re.search(r"mTLS: token bound to certificate x5t#S256 %s, connection presents "
                     r"none: no client certificate was presented"
                     % re.escape(certs["alice"].x5t), h.read_error_log())


def test_plain_http_is_refused(tls_httpd, certs, backend):
    h = tls_httpd
    tok = bound(h, certs["alice"])
    before = len(backend.requests())
    refused(h, h.get(token=tok, plain=True), tok, backend, before)
    assert "connection presents none: the connection is not TLS" in h.read_error_log()
    # the plain vhost is the same scope: an unbound token passes there
    assert h.get(token=mint(h), plain=True).status == 200


def test_without_mod_ssl_a_bound_token_is_refused(httpd, certs):
    """No mod_ssl loaded at all: no connection has a certificate."""
    h = httpd(protect())
    tok = bound(h, certs["alice"])
    refused(h, h.get(token=tok), tok)
    # (httpd 2.4.49 and later provide mod_ssl's optional functions in the
    # core: the connection is then simply not TLS)
    assert re.search(r"connection presents none: (mod_ssl is not loaded|the connection "
                     r"is not TLS)", h.read_error_log())
    assert h.get(token=mint(h)).status == 200


@pytest.mark.parametrize("who", [None, "alice", "mallory"])
def test_unbound_token_is_unaffected(tls_httpd, certs, who):
    h = tls_httpd
    r = h.get(token=mint(h), cert=certs[who].pair if who else None)
    assert r.status == 200, r
    assert r.echo["token"] == "valid"


def test_sha1_x5t_is_no_certificate_binding(tls_httpd, certs):
    """cnf x5t (a SHA-1 name) is not x5t#S256: no certificate proves it, and
    a cnf with no binding the module can check is never a bearer token."""
    h = tls_httpd
    tok = mint(h, cnf={"x5t": certs["alice"].x5t})
    refused(h, h.get(token=tok, cert=certs["alice"].pair), tok)


# -- a cached token is checked again -----------------------------------------------
def test_cache_hit_is_checked_against_the_connection(tls_httpd, certs):
    h = tls_httpd
    tok = bound(h, certs["alice"])
    assert h.get(token=tok, cert=certs["alice"].pair).status == 200     # stored
    n = hits(h)
    refused(h, h.get(token=tok, cert=certs["mallory"].pair), tok)
    assert hits(h) == n + 1, "the refused request was not a cache hit"
    refused(h, h.get(token=tok), tok)
    refused(h, h.get(token=tok, plain=True), tok)
    assert hits(h) == n + 3
    r = h.get(token=tok, cert=certs["alice"].pair)
    assert r.status == 200, r
    assert hits(h) == n + 4


# -- malformed bindings ---------------------------------------------------------
def _malformed(x5t):
    std = x5t.replace("-", "+").replace("_", "/")
    return [
        ("cnf a string", x5t),
        ("cnf null", None),
        ("cnf an array", [{"x5t#S256": x5t}]),
        ("x5t#S256 a number", {"x5t#S256": 1}),
        ("x5t#S256 an array", {"x5t#S256": [x5t]}),
        ("x5t#S256 empty", {"x5t#S256": ""}),
        ("x5t#S256 padded", {"x5t#S256": x5t + "="}),
        ("x5t#S256 one character more", {"x5t#S256": x5t + "A"}),
        ("x5t#S256 one character less", {"x5t#S256": x5t[:-1]}),
        ("x5t#S256 in hex", {"x5t#S256": "ab" * 32}),
        ("x5t#S256 in base64, not base64url", {"x5t#S256": std if std != x5t else x5t[:-1] + "+"}),
    ]


@pytest.mark.parametrize("case", range(11))
def test_malformed_binding_is_refused_even_with_the_certificate(tls_httpd, certs, case):
    h = tls_httpd
    name, cnf = _malformed(certs["alice"].x5t)[case]
    tok = mint(h, cnf=cnf)
    r = h.get(token=tok, cert=certs["alice"].pair)
    assert_denied(r, 401, error="invalid_token", token=tok)
    assert h.last_access()["error"] == "binding_missing", name


def test_thumbprint_compared_exactly(tls_httpd, certs):
    h = tls_httpd
    x5t = certs["alice"].x5t
    flipped = x5t[:10] + ("A" if x5t[10] != "A" else "B") + x5t[11:]   # 6 bits of byte 7-8
    tok = mint(h, cnf={"x5t#S256": flipped})
    refused(h, h.get(token=tok, cert=certs["alice"].pair), tok)


def test_no_certificate_material_in_logs(tls_httpd, certs):
    """The error log names thumbprints only: no PEM, no piece of a
    certificate's base64."""
    h = tls_httpd
    tok = bound(h, certs["alice"])
    assert h.get(token=tok, cert=certs["alice"].pair).status == 200
    h.get(token=tok, cert=certs["mallory"].pair)
    text = h.read_error_log()
    assert "BEGIN CERTIFICATE" not in text
    for c in certs.values():
        body = "".join(open(c.path).read().splitlines()[1:-1])
        for i in range(0, len(body) - 24, 24):
            assert body[i:i + 24] not in text


def test_refusals_are_counted_on_the_status_page(tls_httpd, certs):
    h = tls_httpd

    def denied():
        r = h.get("/conduktor-auth-status?format=json")
        assert r.status == 200, r
        return r.json()["denied"].get("binding_missing", 0)

    n = denied()
    tok = bound(h, certs["alice"])
    refused(h, h.get(token=tok, cert=certs["mallory"].pair), tok)
    refused(h, h.get(token=tok, plain=True), tok)
    assert h.get(token=tok, cert=certs["alice"].pair).status == 200
    assert denied() == n + 2


# -- with DPoP and ConduktorAuthRequireBinding (dpop.c) -------------------------------
def test_require_binding_mtls(tls_httpd, certs, ec_key):
    h = tls_httpd
    path = "/mtls" + CLUSTERS
    r = h.get(path, token=bound(h, certs["alice"]), cert=certs["alice"].pair)
    assert r.status == 200, r
    # a token bound to nothing, even over TLS with a certificate
    tok = mint(h)
    assert_denied(h.get(path, token=tok, cert=certs["alice"].pair), 401,
                  error="invalid_token", token=tok)
    assert h.last_access()["error"] == "binding_required"
    # bound, but without its certificate: the binding is not proven
    tok = bound(h, certs["alice"])
    refused(h, h.get(path, token=tok), tok)
    # DPoP-bound and proven: not what this scope asks for
    tok = mint(h, cnf={"jkt": ec_key.thumbprint()})
    r = td.dpop_get(h, tok, td.proof(ec_key, tok, h.url + path), path=path)
    assert r.status == 401, r
    assert h.last_access()["error"] == "binding_required"


def test_require_binding_any_takes_a_certificate(tls_httpd, certs):
    h = tls_httpd
    path = "/any" + CLUSTERS
    assert h.get(path, token=bound(h, certs["alice"]), cert=certs["alice"].pair).status == 200
    tok = mint(h)
    assert h.get(path, token=tok, cert=certs["alice"].pair).status == 401
    assert h.last_access()["error"] == "binding_required"


@pytest.fixture(scope="module")
def ec_key():
    return td.jwk.JWK.generate(kty="EC", crv="P-256")


def test_token_bound_to_key_and_certificate_needs_both(tls_httpd, certs, ec_key):
    """cnf with jkt and x5t#S256: a DPoP proof does not excuse the missing
    certificate, nor the certificate the missing proof."""
    h = tls_httpd
    tok = mint(h, cnf={"jkt": ec_key.thumbprint(), "x5t#S256": certs["alice"].x5t})
    url = h.url + CLUSTERS

    def dpop(cert=None):
        hdrs = [("DPoP", td.proof(ec_key, tok, url))]
        return h.request("GET", CLUSTERS, token=tok, scheme="DPoP", headers=hdrs, cert=cert)

    r = dpop(cert=certs["alice"].pair)
    assert r.status == 200, r
    assert r.echo["headers"]["authorization"] == "Bearer " + tok
    for cert in (None, certs["mallory"].pair):
        r = dpop(cert=cert)
        assert r.status == 401, r
        assert h.last_access()["error"] == "binding_missing"
    # the certificate without the proof
    refused(h, h.get(token=tok, cert=certs["alice"].pair), tok)
