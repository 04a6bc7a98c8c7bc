"""Keys that cannot be trusted, and which keys a token is tried against
(issue 13, points 6 and 7; SPEC "Trust is bound to the configuration that
declared it").

Degenerate public keys let anyone sign: under an RSA key with e = 1 the
"signature" is the bare PKCS#1 v1.5 encoding of the digest; under the
Ed25519 neutral element A = 01 00..00, R = 01 00..00 with S = 0 verifies
every message. A 1024-bit RSA key is too weak, a 16384-bit one too costly.
Each is published next to a good key, from a `file:` JWKS and from the TLS
test IdP: the forged tokens get 401 (unsupported_key: the kid is that of a
skipped key), the good key's token 200 on the same server, and the skipped
keys are logged once per key set. A `file:` PEM key (no kid) verifies a
token that carries a kid. An Ed448 key's kid gives unsupported_key and no
refetch at the IdP. Every token is minted here, at test time.
"""
import hashlib
import json
import os
import re
import secrets
import time

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed448, padding, rsa

import harness
from conftest import PEM_ISSUER
from harness import ISSUER, assert_denied, mint, protect
from idp_fixtures import (  # noqa: F401  (pki and idp are fixtures)
    PATH, SigningKey, idp, pki, remote_issuer)

b64 = mint.b64url
DIGEST_INFO_SHA256 = bytes.fromhex("3031300d060960864801650304020105000420")
# Number of degenerate keys in DEGENERATE (all skipped by the module).
N_DEGENERATE = 4


def _compact(header, claims, sig):
    si = "%s.%s" % (b64(json.dumps(header, separators=(",", ":"))),
                    b64(json.dumps(claims, separators=(",", ":"))))
    return si, "%s.%s" % (si, b64(sig)) if sig is not None else si


def _claims(iss):
    return mint.default_claims(iss=iss, email="mallory@example.test",
                               groups=["kafka-admins"])


def _header(alg, kid):
    h = {"alg": alg, "typ": "JWT"}
    if kid is not None:
        h["kid"] = kid
    return h


class Degenerate:
    """The untrustworthy keys (public JWKs) and tokens that pass under them
    when nothing checks the keys."""

    def __init__(self):
        self.rsa_n = rsa.generate_private_key(65537, 2048).public_key().public_numbers().n
        self.weak1024 = rsa.generate_private_key(65537, 1024)
        big = secrets.randbits(16384) | (1 << 16383) | 1
        self.jwks = [
            {"kty": "RSA", "kid": "weak-e1", "use": "sig",
             "n": b64(self.rsa_n.to_bytes(256, "big")), "e": "AQ"},
            {"kty": "OKP", "crv": "Ed25519", "kid": "weak-ed", "use": "sig",
             "x": b64(b"\x01" + b"\x00" * 31)},
            {"kty": "RSA", "kid": "weak-1024", "use": "sig",
             "n": b64(self.weak1024.public_key().public_numbers().n.to_bytes(128, "big")),
             "e": "AQAB"},
            {"kty": "RSA", "kid": "weak-16k", "use": "sig",
             "n": b64(big.to_bytes(2048, "big")), "e": "AQAB"},
        ]

    def e1_token(self, iss, kid="weak-e1"):
        """RS256 under e = 1: the signature is EM = 00 01 FF.. 00 DigestInfo H."""
        si, _ = _compact(_header("RS256", kid), _claims(iss), None)
        t = DIGEST_INFO_SHA256 + hashlib.sha256(si.encode()).digest()
        em = b"\x00\x01" + b"\xff" * (256 - len(t) - 3) + b"\x00" + t
        return "%s.%s" % (si, b64(em))

    def ed_token(self, iss, kid="weak-ed"):
        """EdDSA under the neutral element: R = 01 00..00, S = 0."""
        return _compact(_header("EdDSA", kid), _claims(iss),
                        b"\x01" + b"\x00" * 63)[1]

    def weak1024_token(self, iss, kid="weak-1024"):
        si, _ = _compact(_header("RS256", kid), _claims(iss), None)
        sig = self.weak1024.sign(si.encode(), padding.PKCS1v15(), hashes.SHA256())
        return "%s.%s" % (si, b64(sig))

    def big_token(self, iss, kid="weak-16k"):
        return _compact(_header("RS256", kid), _claims(iss), os.urandom(2048))[1]

    def forged(self, iss):
        """(name, token, expected reason) of every token to be refused."""
        return [
            ("rsa_e1", self.e1_token(iss), "unsupported_key"),
            ("ed25519_small_order", self.ed_token(iss), "unsupported_key"),
            ("rsa_1024", self.weak1024_token(iss), "unsupported_key"),
            ("rsa_16384", self.big_token(iss), "unsupported_key"),
            # without kid: no trusted key of the type verifies them
            ("rsa_e1_no_kid", self.e1_token(iss, kid=None), None),
            ("ed25519_small_order_no_kid", self.ed_token(iss, kid=None), None),
        ]


@pytest.fixture(scope="module")
def degenerate():
    return Degenerate()


def _refused(h, token, reason):
    r = h.get(PATH, token=token)
    assert_denied(r, 401, "invalid_token", token=token)
    got = h.last_access()["error"]
    if reason is not None:
        assert got == reason, h.last_access()
    else:
        assert got in ("unknown_key", "bad_signature"), h.last_access()
    return r


def _write(dirpath, name, text):
    path = os.path.join(dirpath, name)
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, 0o644)
    return path


@pytest.fixture
def keydir(workdir):
    return harness.make_tempdir(os.path.join(workdir, "trust-keys-"))


def _file_skip_lines(h, iss, path):
    rx = re.compile(r"\[conduktor_auth:\w+\] .*keys of issuer %s from %s: (\d+) keys? skipped"
                    % (re.escape(iss), re.escape(path)))
    return [m for m in map(rx.search, h.read_error_log().splitlines()) if m]


def _remote_skip_lines(h, iss):
    rx = re.compile(r"\[conduktor_auth:\w+\] .*key set version (\d+) of issuer %s "
                    r"\(from [^)]*\): (\d+) keys? skipped" % re.escape(iss))
    return [m for m in map(rx.search, h.read_error_log().splitlines()) if m]


def _assert_skip_line_names(line):
    """The line names each skipped key (cka_keyset_describe_skips) with the
    rule that refused it."""
    for kid, why in (("weak-e1", "RSA exponent below 3"),
                     ("weak-ed", "Ed25519 key of small order"),
                     ("weak-1024", "RSA modulus under 2048 bits"),
                     ("weak-16k", "RSA modulus over 8192 bits")):
        assert 'kid "%s": %s' % (kid, why) in line, line


def _no_key_material(h, jwks):
    text = h.read_error_log()
    for k in jwks:
        for member in ("n", "x"):
            if member in k:
                assert k[member][:24] not in text, "key material in the error log"


# -- degenerate keys from a file: JWKS ------------------------------------------------
def _file_server(httpd, keys, keydir, degenerate):
    good = json.loads(keys.private["ec"].export_public())
    good["use"] = "sig"
    doc = {"keys": degenerate.jwks + [good]}
    path = _write(keydir, "degenerate.jwks.json", json.dumps(doc))
    h = httpd(protect(), issuers=["ConduktorAuthIssuer %s file:%s" % (ISSUER, path)])
    return h, path, doc


def test_file_degenerate_keys_refused_good_key_passes(httpd, keys, keydir, degenerate):
    h, _, doc = _file_server(httpd, keys, keydir, degenerate)
    for name, tok, reason in degenerate.forged(ISSUER):
        _refused(h, tok, reason)
    r = h.get(PATH, token=h.mint(key="ec"))
    assert r.status == 200, r
    assert h.last_access()["error"] == "-"
    _no_key_material(h, doc["keys"])


def test_file_degenerate_keys_logged_once(httpd, keys, keydir, degenerate):
    """One line for the file's key set (config time, not for the dry-run
    read of the configuration, not per request)."""
    h, path, _ = _file_server(httpd, keys, keydir, degenerate)
    for _, tok, reason in degenerate.forged(ISSUER)[:2]:
        _refused(h, tok, reason)
    assert h.get(PATH, token=h.mint(key="ec")).status == 200
    lines = _file_skip_lines(h, ISSUER, path)
    assert len(lines) == 1, "expected one skip line for the file's keys, got %d:\n%s" % (
        len(lines), h.read_error_log()[-3000:])
    assert int(lines[0].group(1)) == N_DEGENERATE, lines[0].group(0)
    _assert_skip_line_names(lines[0].string)
    print("\n[trust-keys] file skip line: " + lines[0].string)


# -- degenerate keys from the TLS test IdP ----------------------------------------------
def _remote_server(httpd, idp_, pki_, degenerate, extra_keys=(), miss=1):
    iss = idp_.url + "/realms/trust"
    good = SigningKey("good-ec")
    doc = {"keys": degenerate.jwks + list(extra_keys) + [good.public()]}
    idp_.publish_jwks("/realms/trust/jwks", doc, max_age=300)
    h = httpd(protect(), issuers=remote_issuer(pki_, iss, idp_.url + "/realms/trust/jwks",
                                               timeout=5, miss=miss))
    return h, iss, good, doc


def test_remote_degenerate_keys_refused_without_refetch(httpd, idp, pki, degenerate):
    ip = idp()
    h, iss, good, doc = _remote_server(httpd, ip, pki, degenerate)
    r = h.get(PATH, token=good.token(iss))
    assert r.status == 200, r
    assert ip.count() == 1, ip.entries()
    time.sleep(1.2)                     # past ConduktorAuthJWKSMissRefetch 1
    for _, tok, reason in degenerate.forged(iss):
        _refused(h, tok, reason)
    # a kid that is present (as a skipped key) is not a reason to refetch
    assert ip.count() == 1, "a skipped key's kid caused a refetch: %r" % ip.entries()
    assert h.get(PATH, token=good.token(iss)).status == 200
    # control: a kid the set does not hold at all does refetch
    _refused(h, good.token(iss, kid="rotated-away"), "unknown_key")
    assert ip.count() == 2, ip.entries()
    _no_key_material(h, doc["keys"])


def test_remote_degenerate_keys_logged_once(httpd, idp, pki, degenerate):
    ip = idp()
    h, iss, good, _ = _remote_server(httpd, ip, pki, degenerate)
    for _ in range(3):
        assert h.get(PATH, token=good.token(iss)).status == 200
    for _, tok, reason in degenerate.forged(iss)[:4]:
        _refused(h, tok, reason)
    lines = _remote_skip_lines(h, iss)
    assert len(lines) == 1, "expected one skip line for key set version 1, got %d:\n%s" % (
        len(lines), h.read_error_log()[-3000:])
    assert int(lines[0].group(2)) == N_DEGENERATE, lines[0].group(0)
    _assert_skip_line_names(lines[0].string)
    print("\n[trust-keys] remote skip line: " + lines[0].string)


# -- an unsupported key type: Ed448 ---------------------------------------------------------
def _ed448():
    priv = ed448.Ed448PrivateKey.generate()
    raw = priv.public_key().public_bytes(serialization.Encoding.Raw,
                                         serialization.PublicFormat.Raw)
    return priv, {"kty": "OKP", "crv": "Ed448", "kid": "K", "use": "sig", "x": b64(raw)}


def _ed448_token(priv, iss, kid="K"):
    si, _ = _compact(_header("EdDSA", kid), mint.default_claims(iss=iss), None)
    return "%s.%s" % (si, b64(priv.sign(si.encode())))


def test_ed448_kid_is_unsupported_and_not_refetched(httpd, idp, pki):
    ip = idp()
    priv, pub = _ed448()
    iss = ip.url + "/realms/ed448"
    good = SigningKey("good-ec")
    ip.publish_jwks("/realms/ed448/jwks", {"keys": [pub, good.public()]}, max_age=300)
    h = httpd(protect(), issuers=remote_issuer(pki, iss, ip.url + "/realms/ed448/jwks",
                                               timeout=5, miss=1))
    assert h.get(PATH, token=good.token(iss)).status == 200
    assert ip.count() == 1
    time.sleep(1.2)
    for _ in range(3):
        _refused(h, _ed448_token(priv, iss), "unsupported_key")
    assert ip.count() == 1, "an unsupported key's kid caused a refetch: %r" % ip.entries()
    assert h.get(PATH, token=good.token(iss)).status == 200


def test_ed448_kid_from_file(httpd, keys, keydir):
    priv, pub = _ed448()
    good = json.loads(keys.private["ec"].export_public())
    path = _write(keydir, "ed448.jwks.json", json.dumps({"keys": [pub, good]}))
    h = httpd(protect(), issuers=["ConduktorAuthIssuer %s file:%s" % (ISSUER, path)])
    _refused(h, _ed448_token(priv, ISSUER), "unsupported_key")
    assert h.get(PATH, token=h.mint(key="ec")).status == 200


# -- a file: PEM key and real IdP tokens (which carry a kid) -----------------------------------
@pytest.mark.parametrize("pem,key,alg", [
    ("rsa.pem", "rsa", "RS256"), ("rsa-cert.pem", "rsa", "PS256"),
    ("ec.pem", "ec", "ES256"), ("ed.pem", "ed", "EdDSA")])
def test_pem_key_verifies_token_with_kid(httpd, pem, key, alg):
    h = httpd(protect(), issuers=["ConduktorAuthIssuer %s file:{keys}/%s" % (PEM_ISSUER, pem)])
    tok = h.mint(iss=PEM_ISSUER, key=key, alg=alg)          # kid rsa-1 / ec-1 / ed-1
    assert json.loads(mint.b64url_decode(tok.split(".")[0]))["kid"]
    r = h.get(PATH, token=tok)
    assert r.status == 200, r
    assert h.last_access()["issuer"] == PEM_ISSUER
    rogue = {"rsa": "rogue-rsa", "ec": "rogue-ec"}.get(key)
    if rogue:               # the same kid, another key: refused
        _refused(h, h.mint(iss=PEM_ISSUER, key=rogue, alg=alg), None)
