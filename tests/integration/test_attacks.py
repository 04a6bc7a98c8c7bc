"""The attack battery (issue 6): hostile tokens through a real httpd.

Every attack is refused the way the SPEC has it ("Trust", "Token checks",
"Limits on input", "Responses"): 401 with error="invalid_token" (a header
that is not one bearer credential: error="invalid_request"), never a 500,
never reaching the backend, and no piece of the token in any log line (the
harness checks the logs when the servers stop). Tokens are minted here, at
test time, with jwcrypto (tests/tools/mint.py) and hashlib/hmac.

Servers:
  main  the default allow-list; ISSUER with the published keys
        (jwks.json), ISSUER2 with one RSA key pinned to alg RS256 (kid
        rsa-rs); locations that hand the identity on as headers.
  hs    ConduktorAuthAlgorithms RS256 ES256 HS256 HS384 HS512 and ISSUER's
        published keys plus a local oct key (kid hs-1): HMAC really is on
        (a genuine HS256 token passes), yet the RSA and EC public keys are
        never usable as HMAC secrets. (ConduktorAuthAlgorithms is a server
        directive, so the "second location" is a second server.)
A few requests that httpd itself refuses (header over
LimitRequestFieldSize, folded or control-character header lines) run on a
server of their own: only "no 5xx, no crash, still serving" is asserted.
"""
import base64
import concurrent.futures
import hashlib
import hmac
import json
import os
import socket
import time
import zlib

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from conftest import ISSUER2
from harness import (AUDIENCE, ISSUER, assert_denied, challenge_params,
                     headers_named, mint, protect)

b64 = mint.b64url
b64d = mint.b64url_decode

# Order of the P-256 group (FIPS 186-4, D.1.2.3).
P256_N = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
DROP = object()
HS_ALGS = ["HS256", "HS384", "HS512"]
HASHES = {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}
ENV_HEADERS = "\n".join('RequestHeader set X-Env-%s "%%{%s}e"' % (n, v) for n, v in [
    ("User", "REMOTE_USER"), ("Email", "CONDUKTOR_AUTH_EMAIL"),
    ("Groups", "CONDUKTOR_AUTH_GROUPS")])


def now():
    return int(time.time())


# -- building tokens -----------------------------------------------------------
def raw(part):
    """dict -> compact JSON bytes; str/bytes used verbatim."""
    if isinstance(part, dict):
        part = json.dumps(part, separators=(",", ":"))
    return part.encode("utf-8", "surrogatepass") if isinstance(part, str) else part


def claims(**over):
    c = mint.default_claims()
    c.update(over)
    return {k: v for k, v in c.items() if v is not DROP}


def hdr(alg="RS256", kid="rsa-1", **more):
    h = {"alg": alg, "typ": "JWT"}
    if kid is not None:
        h["kid"] = kid
    h.update(more)
    return {k: v for k, v in h.items() if v is not DROP}


def signed(keys, header, payload, key="rsa", alg="RS256"):
    """Header and payload exactly as given, validly signed by key."""
    return mint.sign(keys.private[key], alg, raw(header), raw(payload))


def hmac_token(secret, alg, header, payload):
    si = "%s.%s" % (b64(raw(header)), b64(raw(payload)))
    return "%s.%s" % (si, b64(hmac.new(secret, si.encode(), HASHES[alg]).digest()))


def with_sig(token, fn):
    """token with its signature bytes replaced by fn(signature bytes)."""
    h, p, s = token.split(".")
    return "%s.%s.%s" % (h, p, b64(fn(b64d(s))))


def with_segment(token, i, seg):
    parts = token.split(".")
    parts[i] = seg
    return ".".join(parts)


def es_token(keys, fn, kid="ec-1"):
    """A genuine ES256 token whose signature (r, s) is replaced by fn(r, s)."""
    tok = keys.token(key="ec", kid=kid)
    h, p, s = tok.split(".")
    sig = b64d(s)
    r, s_ = int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big")
    return "%s.%s.%s" % (h, p, b64(fn(r, s_)))


def rs(r, s, size=32):
    return r.to_bytes(size, "big") + s.to_bytes(size, "big")


def noncanonical(seg):
    """seg with the unused low bits of its last character set (same bytes
    to a lenient decoder); seg's length must not be 0 mod 4."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    assert len(seg) % 4 in (2, 3)
    return seg[:-1] + alphabet[alphabet.index(seg[-1]) | 1]


def length_1_mod_4(seg):
    """seg lengthened to a length no base64 encoding has (1 mod 4)."""
    return seg + "A" * (((1 - len(seg)) % 4) or 4)


def header_with_spare_bits(alg="RS256"):
    """A header whose base64url has unused bits in its last character."""
    h = hdr(alg)
    while len(b64(raw(h))) % 4 == 0:
        h["typ"] += " "
    return h


def noncanonical_header(keys):
    h = header_with_spare_bits()
    tok = signed(keys, h, claims())
    return with_segment(tok, 0, noncanonical(tok.split(".")[0]))


def noncanonical_payload(keys):
    c = claims()
    while len(b64(raw(c))) % 4 == 0:
        c["pad"] = c.get("pad", "") + "x"
    tok = signed(keys, hdr(), c)
    return with_segment(tok, 1, noncanonical(tok.split(".")[1]))


def padded_segment(keys, i):
    h, c = hdr(), claims()
    seg = lambda: b64(raw(h if i == 0 else c))  # noqa: E731
    while len(seg()) % 4 == 0:          # make padding necessary
        if i == 0:
            h["typ"] += " "
        else:
            c["pad"] = c.get("pad", "") + "x"
    tok = signed(keys, h, c)
    part = tok.split(".")[i]
    return with_segment(tok, i, part + "=" * (-len(part) % 4))


def standard_alphabet(keys, i):
    """Segment i written with '+' '/' (base64, not base64url)."""
    n = 0
    while True:
        tok = signed(keys, hdr(x="?" * n), claims(n="?" * n))
        part = tok.split(".")[i]
        if "-" in part or "_" in part:
            return with_segment(tok, i, part.replace("-", "+").replace("_", "/"))
        n += 1


def nested(depth, leaf="deep", array=False):
    v = leaf
    for _ in range(depth):
        v = [v] if array else {"a": v}
    return v


def token_of_len(keys, target):
    """A validly signed RS256 token of exactly target characters."""
    base = claims()
    for typ in ("JWT", "JWT ", "JWT  ", "JWT   "):
        for n in range(max(0, (target - 700) * 3 // 4 - 8), target):
            tok = signed(keys, hdr(typ=typ), dict(base, pad="x" * n))
            if len(tok) == target:
                return tok
            if len(tok) > target:
                break
    raise AssertionError("cannot mint a token of %d characters" % target)


def rogue_cert_der_b64(keys):
    pem = mint._self_signed_cert(keys.private["rogue-rsa"])
    der = x509.load_pem_x509_certificate(pem.encode()).public_bytes(serialization.Encoding.DER)
    return base64.b64encode(der).decode()


def public_der(keys, key):
    pub = keys.private[key].get_op_key("verify")
    return pub.public_bytes(serialization.Encoding.DER,
                            serialization.PublicFormat.SubjectPublicKeyInfo)


def read(keys, name):
    with open(keys.path(name), "rb") as f:
        return f.read()


# What an attacker may use as the HMAC secret: the published public keys.
HMAC_SECRETS = {
    "rsa_pem": lambda k: read(k, "rsa.pem"),
    "rsa_jwk": lambda k: k.private["rsa"].export_public().encode(),
    "rsa_der": lambda k: public_der(k, "rsa"),
    "ec_pem": lambda k: read(k, "ec.pem"),
    "ec_jwk": lambda k: k.private["ec"].export_public().encode(),
}
SECRET_KID = {"rsa": "rsa-1", "ec": "ec-1"}


# -- the cases ------------------------------------------------------------------
# Each case: server ("main" or "hs"), path, builder(keys) -> token, the OAuth
# error expected, and the CONDUKTOR_AUTH_ERROR codes accepted (None: any).
CASES = {}


def case(name, build, codes=None, server="main", error="invalid_token", path=None):
    assert name not in CASES, name
    CASES[name] = dict(build=build, codes=set(codes) if codes else None,
                       server=server, error=error, path=path)


MALFORMED = {"malformed_token"}
ALG = {"alg_not_allowed"}
SIG = {"bad_signature"}
TIME = {"bad_time_claim"}
AUD = {"wrong_audience"}
# Not a JWT of a trusted issuer (no part holds trusted claims): sorted as
# an opaque credential, which the default ConduktorAuthOpaqueTokens refuse
# refuses.
NOT_JWT = {"opaque_token_refused"}
ISS = NOT_JWT

# alg none and friends: with no signature, and with a genuine RSA signature.
for name, value in [("none", "none"), ("None", "None"), ("NONE", "NONE"),
                    ("nOnE", "nOnE"), ("empty", "")]:
    case("alg_%s_unsigned" % name,
         lambda k, v=value: "%s.%s." % (b64(raw(hdr(v, None))), b64(raw(claims()))),
         MALFORMED | ALG)
    case("alg_%s_with_rsa_signature" % name,
         lambda k, v=value: signed(k, hdr(v), claims()), ALG)
for name, value in [("missing", DROP), ("null", None), ("number", 256),
                    ("array", ["RS256"]), ("object", {"RS256": True}), ("bool", True)]:
    case("alg_%s" % name, lambda k, v=value: signed(k, hdr(v), claims()), MALFORMED | ALG)
case("alg_none_unsigned_no_typ",
     lambda k: "%s.%s." % (b64('{"alg":"none"}'), b64(raw(claims()))), MALFORMED | ALG)

# HS256/384/512 keyed with the published RSA/EC public keys (PEM, JWK, DER).
for sname in HMAC_SECRETS:
    for alg in HS_ALGS:
        kid = SECRET_KID[sname.split("_")[0]]
        build = (lambda k, s=sname, a=alg, kid=kid:
                 hmac_token(HMAC_SECRETS[s](k), a, hdr(a, kid), claims()))
        case("%s_keyed_with_%s" % (alg, sname), build, ALG)
        case("%s_keyed_with_%s_hmac_allowed" % (alg, sname), build,
             {"key_mismatch", "bad_signature", "unknown_key"}, server="hs")
        case("%s_keyed_with_%s_no_kid_hmac_allowed" % (alg, sname),
             lambda k, s=sname, a=alg: hmac_token(HMAC_SECRETS[s](k), a, hdr(a, None), claims()),
             {"bad_signature", "unknown_key"}, server="hs")
case("HS256_named_oct_kid_keyed_with_rsa_pem",
     lambda k: hmac_token(read(k, "rsa.pem"), "HS256", hdr("HS256", "hs-1"), claims()),
     SIG, server="hs")

# Algorithms outside the allow-list (hs server: RS256 ES256 HS256 HS384 HS512),
# validly signed by the right key.
for alg, key, kid in [("PS256", "rsa", "rsa-1"), ("PS384", "rsa", "rsa-1"),
                      ("PS512", "rsa", "rsa-1"), ("RS384", "rsa", "rsa-1"),
                      ("RS512", "rsa", "rsa-1"), ("EdDSA", "ed", "ed-1")]:
    case("alg_%s_not_in_allow_list" % alg,
         lambda k, a=alg, key=key, kid=kid: signed(k, hdr(a, kid), claims(), key=key, alg=a),
         ALG, server="hs")
for name, value in [("lowercase_rs256", "rs256"), ("trailing_space", "RS256 "),
                    ("es256k", "ES256K"), ("jwe_alg_rsa_oaep", "RSA-OAEP"),
                    ("hs1024", "HS1024"), ("rs1", "RS1"), ("eddsa_upper", "EDDSA"),
                    ("ed25519", "Ed25519")]:
    case("alg_unknown_%s" % name, lambda k, v=value: signed(k, hdr(v), claims()), ALG)

# A PS token for an RSA JWK pinned to RS256 (ISSUER2, kid rsa-rs).
for alg in ["PS256", "PS384", "PS512", "RS384"]:
    case("%s_for_RS256_pinned_key" % alg,
         lambda k, a=alg: signed(k, hdr(a, "rsa-rs"), claims(iss=ISSUER2), alg=a),
         {"key_mismatch"})
case("PS256_for_RS256_pinned_key_no_kid",
     lambda k: signed(k, hdr("PS256", None), claims(iss=ISSUER2), alg="PS256"),
     {"unknown_key", "key_mismatch"})

# ES256 signatures that must never verify (CVE-2022-21449 and friends).
n = P256_N
for name, fn in [
        ("r0_s0", lambda r, s: rs(0, 0)),
        ("r0", lambda r, s: rs(0, s)),
        ("s0", lambda r, s: rs(r, 0)),
        ("r_eq_n", lambda r, s: rs(n, s)),
        ("s_eq_n", lambda r, s: rs(r, n)),
        ("r_s_eq_n", lambda r, s: rs(n, n)),
        ("r_n_plus_1", lambda r, s: rs(n + 1, s)),
        ("s_n_plus_1", lambda r, s: rs(r, n + 1)),
        ("r_s_all_ones", lambda r, s: rs(2 ** 256 - 1, 2 ** 256 - 1)),
        ("r_s_swapped", lambda r, s: rs(s, r)),
        ("len_63", lambda r, s: rs(r, s)[:63]),
        ("len_65", lambda r, s: rs(r, s) + b"\0"),
        ("len_65_leading_zero", lambda r, s: b"\0" + rs(r, s)),
        ("len_32", lambda r, s: rs(r, s)[:32]),
        ("len_96_es384_size", lambda r, s: rs(r, s, 48)),
        ("len_66_padded_scalars", lambda r, s: rs(r, s, 33)),
        ("der_instead_of_raw", lambda r, s: encode_dss_signature(r, s)),
]:
    case("es256_%s" % name, lambda k, fn=fn: es_token(k, fn), SIG)
case("es256_r0_s0_no_kid", lambda k: es_token(k, lambda r, s: rs(0, 0), kid=None),
     SIG | {"unknown_key"})
case("es256_der_no_kid", lambda k: es_token(k, encode_dss_signature, kid=None),
     SIG | {"unknown_key"})
case("es384_header_p256_signature",
     lambda k: with_segment(k.token(key="ec"), 0, b64(raw(hdr("ES384", "ec-1")))),
     {"key_mismatch", "bad_signature"})

# Truncated and extended signatures.
for key, kw in [("rs256", dict()), ("es256", dict(key="ec")), ("eddsa", dict(key="ed")),
                ("ps256", dict(alg="PS256"))]:
    case("%s_sig_truncated_1_byte" % key, lambda k, kw=kw: with_sig(k.token(**kw), lambda s: s[:-1]), SIG)
    case("%s_sig_extended_1_byte" % key, lambda k, kw=kw: with_sig(k.token(**kw), lambda s: s + b"\0"), SIG)
    case("%s_sig_half" % key, lambda k, kw=kw: with_sig(k.token(**kw), lambda s: s[:len(s) // 2]), SIG)
    case("%s_sig_doubled" % key, lambda k, kw=kw: with_sig(k.token(**kw), lambda s: s + s), SIG)
case("rs256_sig_one_char_more", lambda k: k.token() + "A", MALFORMED | SIG)
case("rs256_sig_one_char_less", lambda k: k.token()[:-1], MALFORMED | SIG)
case("rs256_sig_single_byte", lambda k: with_sig(k.token(), lambda s: s[:1]), SIG)
case("rs256_sig_leading_zero", lambda k: with_sig(k.token(), lambda s: b"\0" + s), SIG)
case("rs256_sig_bit_flipped", lambda k: with_sig(k.token(), lambda s: s[:-1] + bytes([s[-1] ^ 1])), SIG)
case("rs256_sig_of_other_token",
     lambda k: with_segment(k.token(), 2, k.token(email="x@y.test").split(".")[2]), SIG)

# Key material in the token's own header: never trusted.
for hname in ["jwk", "jku", "x5u", "x5c"]:
    for kname, kid in [("attacker_kid", "attacker"), ("published_kid", "rsa-1"), ("no_kid", None)]:
        def build(k, hname=hname, kid=kid):
            value = {
                "jwk": lambda: json.loads(k.private["rogue-rsa"].export_public()),
                "jku": lambda: "http://127.0.0.1:9/attacker/jwks.json",
                "x5u": lambda: "http://127.0.0.1:9/attacker/cert.pem",
                "x5c": lambda: [rogue_cert_der_b64(k)],
            }[hname]()
            return signed(k, hdr("RS256", kid, **{hname: value}), claims(), key="rogue-rsa")
        case("header_%s_%s" % (hname, kname), build, SIG | {"unknown_key"})
case("header_jwk_ec_attacker",
     lambda k: signed(k, hdr("ES256", None, jwk=json.loads(k.private["rogue-ec"].export_public())),
                      claims(), key="rogue-ec", alg="ES256"), SIG)
case("header_jwk_published_key_rogue_signature",
     lambda k: signed(k, hdr(jwk=json.loads(k.private["rsa"].export_public())),
                      claims(), key="rogue-rsa"), SIG)
case("header_jwk_oct_secret",
     lambda k: hmac_token(b"attacker-secret-attacker-secret!", "HS256",
                          hdr("HS256", None, jwk={"kty": "oct", "k": b64(b"attacker-secret-attacker-secret!")}),
                          claims()), {"bad_signature", "unknown_key"}, server="hs")

# kid values: path traversal, NUL, SQL, very long, wrong types.
for name, value, codes in [
        ("dotdot", "../../../../../../etc/passwd", {"unknown_key"}),
        ("dotdot_jwks", "../jwks.json", {"unknown_key"}),
        ("dev_zero", "/dev/zero", {"unknown_key"}),
        ("file_url", "file:///etc/passwd", {"unknown_key"}),
        ("nul_escaped", "rsa-1\u0000", MALFORMED),
        ("nul_only", "\u0000", MALFORMED),
        ("sql_or", "' OR '1'='1", {"unknown_key"}),
        ("sql_comment", "rsa-1' --", {"unknown_key"}),
        ("sql_drop", "x'; DROP TABLE keys; --", {"unknown_key"}),
        ("10_KiB", "A" * 10240, {"unknown_key"}),
        ("empty", "", {"unknown_key"}),
        ("trailing_space", "rsa-1 ", {"unknown_key"}),
        ("number", 1, MALFORMED),
        ("array", ["rsa-1"], MALFORMED),
        ("object", {"kid": "rsa-1"}, MALFORMED),
        ("format_string", "%s%s%s%n%n", {"unknown_key"}),
        ("crlf", "rsa-1\r\nX-Injected: 1", {"unknown_key"})]:
    case("kid_%s" % name, lambda k, v=value: signed(k, hdr(kid=v), claims()), codes)
case("kid_null", lambda k: signed(k, dict(hdr(), kid=None), claims()), MALFORMED)
case("kid_10_KiB_utf8",
     lambda k: signed(k, b'{"alg":"RS256","kid":"' + "\u00e9".encode() * 5120 + b'"}', claims()),
     {"unknown_key"})
case("kid_raw_nul_byte",
     lambda k: signed(k, b'{"alg":"RS256","kid":"rsa-1\x00"}', claims()), MALFORMED)

# crit, b64, zip.
UNSUP = {"unsupported_header"}
case("crit_unknown_name", lambda k: signed(k, hdr(crit=["urn:example:x"], **{"urn:example:x": 1}), claims()), UNSUP)
case("crit_registered_name", lambda k: signed(k, hdr(crit=["exp"], exp=now() + 60), claims()), UNSUP)
case("crit_empty_array", lambda k: signed(k, hdr(crit=[]), claims()), UNSUP | MALFORMED)
case("crit_not_array", lambda k: signed(k, hdr(crit="urn:example:x"), claims()), UNSUP | MALFORMED)
case("crit_names_absent_member", lambda k: signed(k, hdr(crit=["urn:absent"]), claims()), UNSUP)
case("crit_b64_false", lambda k: signed(k, hdr(crit=["b64"], b64=False), claims()), UNSUP)
case("b64_false_without_crit", lambda k: signed(k, hdr(b64=False), claims()), UNSUP)
case("b64_true", lambda k: signed(k, hdr(b64=True), claims()), UNSUP)


def b64_false_unencoded(k):
    h = b64(raw(hdr(crit=["b64"], b64=False)))
    payload = raw(claims()).decode()
    sig = mint.JWA.signing_alg("RS256").sign(k.private["rsa"], ("%s.%s" % (h, payload)).encode())
    return "%s.%s.%s" % (h, payload, b64(sig))


# The unencoded payload holds commas: one bearer credential it is not.
case("b64_false_unencoded_payload", b64_false_unencoded, None, error=("invalid_token", "invalid_request"))


def deflated(k, zip_value="DEF"):
    z = zlib.compressobj(9, zlib.DEFLATED, -15)
    body = z.compress(raw(claims())) + z.flush()
    return signed(k, hdr(zip=zip_value), body)


case("zip_def", deflated, UNSUP)
case("zip_gzip", lambda k: deflated(k, "GZIP"), UNSUP)
case("zip_plain_payload", lambda k: signed(k, hdr(zip="DEF"), claims()), UNSUP)

# Segments.
JWE_HDR = b64('{"alg":"RSA-OAEP","enc":"A256GCM","kid":"rsa-1"}')
case("segments_1", lambda k: k.token().split(".")[0], NOT_JWT)
case("segments_1_garbage", lambda k: "not-a-jwt-at-all-but-long-enough", NOT_JWT)
case("segments_2", lambda k: ".".join(k.token().split(".")[:2]), MALFORMED)
case("segments_4", lambda k: k.token() + "." + b64(b"more"), MALFORMED)
case("segments_4_trailing_dot", lambda k: k.token() + ".", MALFORMED)
case("segments_5", lambda k: k.token() + ".AAAA.AAAA", MALFORMED)
case("jwe_5_segments", lambda k: "%s.%s.%s.%s.%s" % (JWE_HDR, b64(os.urandom(256)), b64(os.urandom(12)),
                                                     b64(os.urandom(64)), b64(os.urandom(16))), NOT_JWT)
case("jwe_dir_5_segments", lambda k: "%s..%s.%s.%s" % (b64('{"alg":"dir","enc":"A128GCM"}'),
                                                       b64(os.urandom(12)), b64(os.urandom(40)),
                                                       b64(os.urandom(16))), NOT_JWT)
case("jwe_header_in_3_segments", lambda k: signed(k, hdr(enc="A256GCM"), claims()), MALFORMED)
case("empty_header_segment", lambda k: with_segment(k.token(), 0, ""), MALFORMED)
case("empty_payload_segment", lambda k: with_segment(k.token(), 1, ""), MALFORMED)
case("empty_signature_segment", lambda k: with_segment(k.token(), 2, ""), MALFORMED)
case("only_dots_2", lambda k: "..", NOT_JWT)
case("only_dots_3", lambda k: "...", NOT_JWT)
case("only_dot", lambda k: ".", NOT_JWT)
case("segments_swapped", lambda k: "%s.%s.%s" % tuple(k.token().split(".")[i] for i in (1, 0, 2)),
     MALFORMED | ALG)

# Base64url that is not the one canonical encoding.
case("padded_header", lambda k: padded_segment(k, 0), MALFORMED)
case("padded_payload", lambda k: padded_segment(k, 1), MALFORMED)
case("padded_signature_1", lambda k: k.token(key="ec") + "=", MALFORMED)
case("padded_signature_2", lambda k: k.token() + "==", MALFORMED)
case("noncanonical_header", noncanonical_header, MALFORMED)
case("noncanonical_payload", noncanonical_payload, MALFORMED)
case("noncanonical_signature",
     lambda k: with_segment(k.token(key="ec"), 2, noncanonical(k.token(key="ec").split(".")[2])), MALFORMED)
case("standard_alphabet_header", lambda k: standard_alphabet(k, 0), MALFORMED)
case("standard_alphabet_payload", lambda k: standard_alphabet(k, 1), MALFORMED)
case("standard_alphabet_signature", lambda k: standard_alphabet(k, 2), MALFORMED)
case("segment_length_1_mod_4", lambda k: with_segment(k.token(), 1, length_1_mod_4(k.token().split(".")[1])),
     MALFORMED)
case("percent_encoded_dot", lambda k: k.token().replace(".", "%2E", 1), NOT_JWT)

# Whitespace and bytes that do not belong in a token.
case("space_inside", lambda k: (lambda t: t[:60] + " " + t[60:])(k.token()), {"bad_request"},
     error="invalid_request")
case("tab_inside", lambda k: (lambda t: t[:60] + "\t" + t[60:])(k.token()), {"bad_request"},
     error="invalid_request")
case("space_after_dot", lambda k: k.token().replace(".", ". ", 1), {"bad_request"}, error="invalid_request")
case("two_tokens_comma", lambda k: k.token() + "," + k.token(), {"bad_request"}, error="invalid_request")
case("nbsp_inside", lambda k: (lambda t: t[:60] + "\xa0" + t[60:])(k.token()), MALFORMED)
case("latin1_byte_inside", lambda k: (lambda t: t[:60] + "\xff" + t[60:])(k.token()), MALFORMED)

# Not UTF-8 inside the JSON (validly signed).
case("header_invalid_utf8", lambda k: signed(k, b'{"alg":"RS256","kid":"rsa-1","typ":"JWT\xff"}', claims()), MALFORMED)
case("payload_invalid_utf8",
     lambda k: signed(k, hdr(), raw(claims(email="EMAIL")).replace(b"EMAIL", b"al\xc3\x28ce@x.test")), MALFORMED)
case("payload_overlong_utf8",
     lambda k: signed(k, hdr(), raw(claims(email="EMAIL")).replace(b"EMAIL", b"a\xc0\xafb@x.test")), MALFORMED)
case("payload_utf8_surrogate",
     lambda k: signed(k, hdr(), raw(claims(email="EMAIL")).replace(b"EMAIL", b"a\xed\xa0\x80b@x.test")), MALFORMED)
case("payload_lone_surrogate_escape",
     lambda k: signed(k, hdr(), raw(claims(email="EMAIL")).replace(b"EMAIL", b"a\\ud800b@x.test")), MALFORMED)
case("payload_latin1",
     lambda k: signed(k, hdr(), raw(claims(email="EMAIL")).replace(b"EMAIL", b"j\xe9r\xf4me@x.test")), MALFORMED)
case("payload_utf16",
     lambda k: signed(k, hdr(), json.dumps(claims()).encode("utf-16")), MALFORMED)

# JSON that is not one object.
for part, i in [("header", 0), ("payload", 1)]:
    for name, text in [("array", "[]"), ("string", '"x"'), ("number", "1"), ("null", "null"),
                       ("true", "true"), ("two_objects", "{}{}"), ("trailing_garbage", None),
                       ("bom", None), ("comment", None), ("single_quotes", "{'alg':'RS256'}"),
                       ("nan", '{"alg":"RS256","x":NaN}'), ("not_json", "hello")]:
        def build(k, i=i, name=name, text=text):
            good = raw(hdr()) if i == 0 else raw(claims())
            body = {"trailing_garbage": good + b" x",
                    "bom": b"\xef\xbb\xbf" + good,
                    "comment": good[:-1] + b"/* c */}"}.get(name, text.encode() if text else None)
            return signed(k, body, claims()) if i == 0 else signed(k, hdr(), body)
        case("%s_json_%s" % (part, name), build, MALFORMED | ALG)

# Duplicate member names.
case("duplicate_alg_header", lambda k: signed(k, b'{"alg":"RS256","typ":"JWT","kid":"rsa-1","alg":"none"}', claims()), MALFORMED)
case("duplicate_alg_same_value", lambda k: signed(k, b'{"alg":"RS256","alg":"RS256","kid":"rsa-1"}', claims()), MALFORMED)
case("duplicate_kid_header", lambda k: signed(k, b'{"alg":"RS256","kid":"attacker","kid":"rsa-1"}', claims()), MALFORMED)
case("duplicate_typ_header", lambda k: signed(k, b'{"alg":"RS256","kid":"rsa-1","typ":"JWT","typ":"at+jwt"}', claims()), MALFORMED)


def dup_claim(name, first, second):
    def build(k):
        c = claims()
        c[name] = "FIRST"
        text = raw(c).replace(b'"FIRST"', json.dumps(first).encode() + b',"'
                              + name.encode() + b'":' + json.dumps(second).encode())
        return signed(k, hdr(), text)
    return build


case("duplicate_exp_claim", dup_claim("exp", 1, now() + 300), MALFORMED)
case("duplicate_exp_claim_expired_last", lambda k: dup_claim("exp", now() + 300, 1)(k), MALFORMED)
case("duplicate_aud_claim", dup_claim("aud", "someone-else", AUDIENCE), MALFORMED)
case("duplicate_iss_claim", dup_claim("iss", "https://evil.test", ISSUER), MALFORMED)
case("duplicate_email_claim", dup_claim("email", "mallory@evil.test", "alice@example.test"), MALFORMED)

# Nesting beyond 32 levels.
case("claims_nested_33_levels", lambda k: signed(k, hdr(), claims(deep=nested(32))), MALFORMED)
case("claims_arrays_nested_33_levels", lambda k: signed(k, hdr(), claims(deep=nested(32, array=True))), MALFORMED)
case("claims_nested_1000_levels",
     lambda k: signed(k, hdr(), raw(claims(deep="DEEP")).replace(b'"DEEP"', b'{"a":' * 1000 + b"1" + b"}" * 1000)),
     MALFORMED)
case("claims_arrays_nested_5000_levels",
     lambda k: signed(k, hdr(), raw(claims(deep="DEEP")).replace(b'"DEEP"', b"[" * 5000 + b"]" * 5000)),
     MALFORMED)
case("header_nested_33_levels", lambda k: signed(k, hdr(x=nested(32)), claims()), MALFORMED)
case("groups_nested_33_levels", lambda k: signed(k, hdr(), claims(groups=nested(32, array=True))), MALFORMED)

# Size.
case("token_16_KiB_plus_1", lambda k: token_of_len(k, 16385), {"token_too_large"})
case("token_60_KiB", lambda k: k.token(pad="x" * 45000), {"token_too_large"})
case("groups_10000_one_char_members", lambda k: k.token(groups=["g"] * 10000), {"token_too_large"})

# exp / nbf / iat.
T = now() + 300
for claim in ["exp", "nbf", "iat"]:
    past = now() - 10
    for name, value in [("string", str(T if claim == "exp" else past)), ("float", (T if claim == "exp" else past) + 0.5),
                        ("float_integral", float(T if claim == "exp" else past)), ("negative", -1),
                        ("1e300", 1e300), ("minus_1e300", -1e300), ("bool", True), ("null", None),
                        ("array", [T]), ("object", {"t": T}), ("year_10000", 253402300800),
                        ("int64_max", 2 ** 63 - 1)]:
        case("%s_%s" % (claim, name), lambda k, c=claim, v=value: k.token(**{c: v}), TIME)
    case("%s_uint64_overflow" % claim, lambda k, c=claim: k.token(**{c: 2 ** 64}), MALFORMED | TIME)
case("exp_missing", lambda k: k.token(drop=["exp"]), TIME)
case("exp_zero", lambda k: k.token(exp=0), {"token_expired"})
case("nbf_future", lambda k: k.token(nbf=now() + 600), {"token_not_yet_valid"})
case("iat_future", lambda k: k.token(iat=now() + 600), {"issued_in_future"})
case("exp_expired_beyond_skew", lambda k: k.token(exp=now() - 120), {"token_expired"})

# aud.
for name, value in [("empty_array", []), ("array_of_numbers", [1, 2]),
                    ("ours_and_a_number", [AUDIENCE, 1]), ("object", {"aud": AUDIENCE}),
                    ("null", None), ("empty_string", ""), ("number", 1), ("nested_array", [[AUDIENCE]]),
                    ("upper_case", AUDIENCE.upper()), ("trailing_space", AUDIENCE + " "),
                    ("prefix", AUDIENCE + "x"), ("bool", True)]:
    case("aud_%s" % name, lambda k, v=value: k.token(aud=v), AUD)

# iss.
for name, value in [("trailing_slash", ISSUER + "/"), ("upper_case", ISSUER.upper()),
                    ("upper_case_host", ISSUER.replace("idp.test", "IDP.TEST")),
                    ("http_scheme", ISSUER.replace("https:", "http:")),
                    ("leading_space", " " + ISSUER), ("fragment", ISSUER + "#"),
                    ("null", None), ("number", 1), ("array", [ISSUER]), ("object", {"iss": ISSUER}),
                    ("other_issuers_key", DROP)]:
    if value is DROP:
        # ISSUER2's key set has only rsa-rs: a token naming ISSUER2 but
        # signed for ISSUER's kid is not found there.
        case("iss_%s" % name, lambda k: k.token(iss=ISSUER2, key="ec"), {"unknown_key", "key_mismatch"})
    else:
        case("iss_%s" % name, lambda k, v=value: k.token(iss=v), ISS)
case("iss_missing", lambda k: k.token(drop=["iss"]), ISS)
case("iss_nul_escaped", lambda k: k.token(iss=ISSUER + "\u0000"), MALFORMED)

# email (the default user claim) not a string: no user.
for name, value in [("number", 1), ("bool", True), ("array", ["alice@example.test"]),
                    ("object", {"value": "alice@example.test"}), ("null", None), ("empty", "")]:
    case("email_%s" % name, lambda k, v=value: k.token(email=v), {"no_user_claim"})

# Where the Authorization header itself is wrong.
case("bearer_without_token", lambda k: "", {"bad_request"}, error="invalid_request")


# -- the checks -------------------------------------------------------------------
def write_json(path, obj):
    with open(path, "w") as f:
        json.dump(obj, f)
    os.chmod(path, 0o644)


def make_keyfiles(workdir, keys):
    """Extra key files, readable by the httpd child; returns their folder."""
    d = os.path.join(workdir, "attack-keys")
    os.makedirs(d, exist_ok=True)
    os.chmod(d, 0o755)
    with open(keys.jwks) as f:
        published = json.load(f)["keys"]
    oct_key = json.loads(keys.private["hs"].export())
    oct_key["use"] = "sig"
    rsa_rs = dict(json.loads(keys.private["rsa"].export_public()), kid="rsa-rs", alg="RS256", use="sig")
    write_json(os.path.join(d, "with-oct.jwks.json"), {"keys": published + [oct_key]})
    write_json(os.path.join(d, "rs-pinned.jwks.json"), {"keys": [rsa_rs]})
    return d


def server_configs(keyfiles):
    """{"main"|"hs": dict(location=, issuers=, server=)} of the servers
    the cases name (also used by test_valgrind.py)."""
    main = dict(
        location=protect(),
        issuers=["ConduktorAuthIssuer %s file:{keys}/jwks.json" % ISSUER,
                 "ConduktorAuthIssuer %s file:%s/rs-pinned.jwks.json" % (ISSUER2, keyfiles)],
        server="""
            <Location "/bysub">
              ConduktorAuthUserClaim sub
              %(env)s
            </Location>
            <Location "/groups">
              %(env)s
            </Location>
            <Location "/groups-semi">
              ConduktorAuthGroupsSeparator ";"
              %(env)s
            </Location>
            <Location "/groups-colons">
              ConduktorAuthGroupsSeparator "::"
              %(env)s
            </Location>
            <Location "/groups-pipe">
              ConduktorAuthGroupsSeparator " | "
              %(env)s
            </Location>
            """ % {"env": ENV_HEADERS})
    hs = dict(
        location=protect(),
        issuers=["ConduktorAuthIssuer %s file:%s/with-oct.jwks.json" % (ISSUER, keyfiles)],
        server="ConduktorAuthAlgorithms RS256 ES256 HS256 HS384 HS512")
    return {"main": main, "hs": hs}


@pytest.fixture(scope="module")
def keyfiles(workdir, keys):
    return make_keyfiles(workdir, keys)


@pytest.fixture(scope="module")
def servers(shared_httpd, keyfiles):
    return {name: shared_httpd(c["location"], issuers=c["issuers"], server=c["server"])
            for name, c in server_configs(keyfiles).items()}


def refused(h, backend, tok, r, error="invalid_token", codes=None):
    """The SPEC's refusal: 401, Bearer challenge with error, JSON body, no
    token echoed, a reason code in the access log, nothing at the backend."""
    assert r.status < 500, r
    errors = error if isinstance(error, tuple) else (error,)
    _, params = challenge_params(r.header("WWW-Authenticate"))
    assert params.get("error") in errors, r.header("WWW-Authenticate")
    assert_denied(r, 401, error=params.get("error"), token=tok)
    log = h.last_access()
    assert log["status"] == 401, log
    assert log["error"] not in ("-", ""), log
    if codes is not None:
        assert log["error"] in codes, "reason %s, expected one of %s" % (log["error"], sorted(codes))
    assert log["user"] == "-" and log["email"] == "-", log
    return log


@pytest.mark.parametrize("kind", sorted(CASES))
def test_attack_is_refused(servers, keys, backend, kind):
    c = CASES[kind]
    h = servers[c["server"]]
    tok = c["build"](keys)
    before = len(backend.requests())
    r = h.get(c["path"] or "/api/attack", token=tok)
    refused(h, backend, tok, r, error=c["error"], codes=c["codes"])
    assert len(backend.requests()) == before, "a refused request reached the backend"


# -- controls: the same servers accept what they should ---------------------------
def test_controls_hs_server_accepts_a_genuine_hmac_token(servers, keys):
    """HMAC is really enabled on the hs server: the HS attacks above fail
    because the public keys are never HMAC secrets, not because HS256 is off."""
    h = servers["hs"]
    r = h.get("/echo", token=h.mint(key="hs", alg="HS256", kid="hs-1"))
    assert r.status == 200, r
    assert h.get("/echo", token=h.mint(key="rsa")).status == 200
    assert h.get("/echo", token=h.mint(key="ec")).status == 200


def test_controls_rs256_pinned_key_accepts_rs256(servers, keys):
    h = servers["main"]
    tok = signed(keys, hdr("RS256", "rsa-rs"), claims(iss=ISSUER2))
    r = h.get("/echo", token=tok)
    assert r.status == 200, r
    assert h.last_access()["issuer"] == ISSUER2


@pytest.mark.parametrize("kind", ["ws_before_and_after", "lowercase_scheme", "tab_separator",
                                  "exactly_16_KiB", "claims_32_levels", "brackets_in_strings",
                                  "high_s_es256"])
def test_controls_edges_that_are_accepted(servers, keys, kind):
    h = servers["main"]
    scheme, tok = "Bearer", keys.token()
    if kind == "ws_before_and_after":
        tok = "  %s \t" % tok
    elif kind == "lowercase_scheme":
        scheme = "bearer"
    elif kind == "tab_separator":
        scheme = "Bearer\t"
    elif kind == "exactly_16_KiB":
        tok = token_of_len(keys, 16384)
    elif kind == "claims_32_levels":
        tok = signed(keys, hdr(), claims(deep=nested(31)))
    elif kind == "brackets_in_strings":
        tok = signed(keys, hdr(), claims(deep="[{" * 3000))
    elif kind == "high_s_es256":
        # (r, n - s) is the other valid ECDSA signature of the same message:
        # a mathematically valid signature, not a forgery.
        tok = es_token(keys, lambda r, s: rs(r, P256_N - s))
    h.secrets.add(tok.strip())
    r = h.request("GET", "/echo", headers=[("Authorization", "%s %s" % (scheme, tok))])
    assert r.status == 200, r


def test_non_bearer_scheme_is_no_token(servers, keys):
    h = servers["main"]
    r = h.request("GET", "/api/attack", headers=[("Authorization", "Basic YWxpY2U6cGFzcw==")])
    assert_denied(r, 401, error=None)
    assert h.last_access()["error"] == "no_token"


def test_two_authorization_headers(servers, keys, backend):
    h = servers["main"]
    t1, t2 = keys.token(), keys.token(email="bob@example.test")
    h.secrets.update([t1, t2])
    before = len(backend.requests())
    r = h.request("GET", "/api/attack", headers=[("Authorization", "Bearer " + t1),
                                                 ("Authorization", "Bearer " + t2)])
    refused(h, backend, t1, r, error="invalid_request", codes={"bad_request"})
    assert len(backend.requests()) == before


# -- identity values that try to break out ----------------------------------------
@pytest.mark.parametrize("path,groups,want", [
    ("/groups", ["team,with,commas", "x"], r"team\,with\,commas,x"),
    ("/groups", ["back\\slash,", "y"], r"back\\slash\,,y"),
    ("/groups", [",", ",,", ""], r"\,,\,\,,"),
    ("/groups-semi", ["a;b", "c,d", ";"], r"a\;b;c,d;\;"),
    ("/groups", [1, 2.5, True, False, None, {"a": [1, "b"]}, ["x", "y"]],
     r'1,2.5,true,false,{"a":[1\,"b"]},["x"\,"y"]'),
    ("/groups", "a,b", r"a\,b"),      # one group, escaped like an array member
    ("/groups", {"admin": True}, '{"admin":true}'),
    ("/groups", 42, "42"),
], ids=["separator_in_name", "backslash_before_separator", "only_separators",
        "custom_separator_in_name", "non_string_members", "single_string_with_separator",
        "object", "number"])
def test_groups_hostile_values_reach_backend_unambiguous(servers, keys, path, groups, want):
    h = servers["main"]
    r = h.get(path + "/echo", token=h.mint(groups=groups))
    assert r.status == 200, r
    assert headers_named(r.echo, "X-Env-Groups") == [want]


@pytest.mark.parametrize("path,first,second", [
    ("/groups-colons", ["a:", "b"], ["a", ":b"]),
    ("/groups-pipe", ["a |", "b"], ["a", "| b"]),
], ids=["colons", "spaced_pipe"])
def test_groups_self_overlapping_separator_is_unambiguous(servers, keys, path, first, second):
    h = servers["main"]
    a = h.get(path + "/echo", token=h.mint(groups=first))
    b = h.get(path + "/echo", token=h.mint(groups=second))
    assert a.status == b.status == 200
    assert headers_named(a.echo, "X-Env-Groups") != headers_named(b.echo, "X-Env-Groups")


def test_groups_control_characters_cannot_inject_headers(servers, keys):
    h = servers["main"]
    r = h.get("/groups/echo", token=h.mint(groups=["a\r\nX-Injected: 1", "b\nX-Injected2: 2", "c\x00d"]))
    # \u0000 is refused by the strict JSON parser: a 401, never a split header.
    assert r.status == 401, r
    r = h.get("/groups/echo", token=h.mint(groups=["a\r\nX-Injected: 1", "b\x7fc", "d\te"]))
    assert r.status == 200, r
    assert headers_named(r.echo, "X-Injected") == []
    (value,) = headers_named(r.echo, "X-Env-Groups")
    assert not any(ord(ch) < 0x20 or ord(ch) == 0x7f for ch in value), value
    assert value.startswith("a\\x0d\\x0aX-Injected: 1,"), value


@pytest.mark.parametrize("email", [1, True, ["alice@example.test"], {"v": "a@b"}, None, ""],
                         ids=["number", "bool", "array", "object", "null", "empty"])
def test_email_not_a_string_with_user_from_sub(servers, keys, email):
    h = servers["main"]
    r = h.get("/bysub/echo", token=h.mint(email=email))
    assert r.status == 200, r
    log = h.last_access()
    assert log["user"] == "user-0001"
    assert log["email"] in ("-", ""), log


def test_groups_as_many_as_fit_in_16_KiB(servers, keys):
    """10,000 members cannot fit in a 16 KiB token (refused above as
    token_too_large); the largest list that fits goes through intact."""
    h = servers["main"]
    lo, hi = 1, 10000
    while lo < hi:                       # the most "gNNNN" members that fit
        mid = (lo + hi + 1) // 2
        if len(keys.token(groups=["g%d" % i for i in range(mid)])) <= 16384:
            lo = mid
        else:
            hi = mid - 1
    groups = ["g%d" % i for i in range(lo)]
    r = h.get("/groups/echo", token=h.mint(groups=groups))
    assert r.status == 200, r
    assert headers_named(r.echo, "X-Env-Groups") == [",".join(groups)]
    assert lo > 1000


# -- the shared configuration is never changed by a request -------------------------
def test_interleaved_attacks_and_valid_tokens_concurrently(servers, keys):
    """Attacks and valid tokens at once on the event MPM: every answer is
    the one for its own token (no request loosens the checks of another)."""
    h = servers["main"]
    good = [keys.token(email="u%d@example.test" % i) for i in range(8)]
    bad = [CASES[k]["build"](keys) for k in ("alg_none_with_rsa_signature", "es256_r0_s0",
                                             "HS256_keyed_with_rsa_pem", "header_jwk_attacker_kid",
                                             "kid_dotdot", "exp_string")]
    work = [(t, 200) for t in good] * 6 + [(t, 401) for t in bad] * 8
    for t, _ in work:
        h.secrets.add(t)
    sent = h._sent

    def one(item):
        tok, want = item
        return want, h.request("GET", "/echo", token=tok).status

    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        results = list(pool.map(one, work))
    wrong = [(w, got) for w, got in results if w != got]
    assert not wrong, wrong[:10]
    h._sent = sent + len(work)      # threads raced on the counter: set it exactly
    h.last_access()                 # and wait until every line is written


# -- requests httpd refuses before the module sees them ------------------------------
def raw_request(h, header_lines, path="/api/attack"):
    """Send one request over a plain socket; (status or None, raw bytes)."""
    data = ("GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n" % path
            + "".join(line + "\r\n" for line in header_lines)
            + "Connection: close\r\n\r\n").encode("latin-1")
    resp = b""
    with socket.create_connection(("127.0.0.1", h.port), timeout=20) as s:
        try:
            s.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            pass
        try:
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                resp += chunk
        except ConnectionResetError:
            pass
    status = int(resp.split(b" ", 2)[1]) if resp.startswith(b"HTTP/1.") else None
    return status, resp


@pytest.mark.parametrize("kind", ["header_line_1_MiB", "token_1_MiB", "groups_10000_realistic",
                                  "folded_header_line", "form_feed_inside", "nul_inside"])
def test_requests_httpd_refuses_itself(httpd, keys, kind):
    h = httpd(protect())
    tok = keys.token()
    if kind == "header_line_1_MiB":
        lines = ["Authorization: Bearer " + tok, "X-Big: " + "x" * (1 << 20)]
    elif kind == "token_1_MiB":
        lines = ["Authorization: Bearer " + tok + "A" * (1 << 20)]
    elif kind == "groups_10000_realistic":
        tok = keys.token(groups=["group-%05d" % i for i in range(10000)])
        lines = ["Authorization: Bearer " + tok]
    elif kind == "folded_header_line":
        lines = ["Authorization: Bearer " + tok[:40], " " + tok[40:]]
    elif kind == "form_feed_inside":
        lines = ["Authorization: Bearer " + tok[:40] + "\x0c" + tok[40:]]
    else:
        lines = ["Authorization: Bearer " + tok[:40] + "\x00" + tok[40:]]
    for line in lines:
        h.secrets.add(line.split(" ")[-1].strip())
        h.secrets.add(tok)
    status, resp = raw_request(h, lines)
    assert status is not None, resp[:200]
    assert status < 500, resp[:300]
    if kind == "folded_header_line":
        # httpd may unfold the line into "Bearer <a> <b>": one credential
        # it is not (401 invalid_request); or refuse the fold itself (400).
        assert status in (400, 401), resp[:300]
    else:
        assert status == 400, resp[:300]
    # httpd is still up and still checks tokens
    assert h.get("/echo", token=h.mint()).status == 200
    assert h.get("/echo", token=CASES["alg_none_unsigned"]["build"](keys)).status == 401
