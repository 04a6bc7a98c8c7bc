#!/usr/bin/python3
"""Write the seed corpora of the fuzz targets: tests/fuzz/corpus/<target>/.

    /usr/bin/python3 tests/fuzz/make_seeds.py [--out tests/fuzz/corpus] [--only TARGET...]

The seeds are checked in; run this again only to change them (it clears
each target's directory first). They are small and hold no secret: keys
made here are throw-away and never the ones a fuzz target trusts (those
are generated when the target starts), so no seed carries a valid
signature. See tests/fuzz/README.md for each target's input format.
"""
import argparse
import base64
import hashlib
import json
import os
import shutil
import struct

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import NameOID
import datetime

ISS = "https://idp.test/realms/conduktor"
ISS_PEM = "https://pem.test"
EXP = 1700000300       # the targets' clock is 1700000000
IAT = 1699999990


def b64(data):
    if isinstance(data, str):
        data = data.encode()
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def js(obj):
    return json.dumps(obj, separators=(",", ":"))


def claims(**over):
    c = {"iss": ISS, "aud": "conduktor", "sub": "user-1", "email": "alice@example.test",
         "groups": ["platform-team", "kafka,admins"], "iat": IAT, "exp": EXP}
    c.update(over)
    return {k: v for k, v in c.items() if v is not None}


def fake_token(header, payload, sig_len):
    h = header if isinstance(header, (str, bytes)) else js(header)
    p = payload if isinstance(payload, (str, bytes)) else js(payload)
    sig = hashlib.sha512((h if isinstance(h, str) else h.decode("latin-1")).encode()).digest()
    sig = (sig * (sig_len // len(sig) + 1))[:sig_len]
    return "%s.%s.%s" % (b64(h), b64(p), b64(sig))


# -- fuzz_token ------------------------------------------------------------
SIGNERS = ["HS256", "HS384", "HS512", "EdDSA", "ES256", "ES384", "RS256", "PS256"]
KIDS = {"HS256": "hs-1", "HS384": "hs-1", "HS512": "hs-1", "EdDSA": "ed-1",
        "ES256": "ec-1", "ES384": "ec-384", "RS256": "rsa-1", "PS256": "rsa-ps"}
SIGLEN = {"RS256": 256, "PS256": 256, "ES256": 64, "ES384": 96, "ES512": 132,
          "EdDSA": 64, "HS256": 32, "HS384": 48, "HS512": 64}


def token_seeds():
    seeds = {}
    # mode 0: raw tokens (signatures are junk of the right length)
    raw = {
        "rs256": fake_token({"alg": "RS256", "typ": "JWT", "kid": "rsa-1"}, claims(), 256),
        "es256_nokid": fake_token({"alg": "ES256"}, claims(), 64),
        "eddsa": fake_token({"alg": "EdDSA", "kid": "ed-1"}, claims(), 64),
        "hs256": fake_token({"alg": "HS256", "kid": "hs-1"}, claims(), 32),
        "none": "%s.%s." % (b64(js({"alg": "none"})), b64(js(claims()))),
        "crit": fake_token({"alg": "RS256", "crit": ["exp"], "exp": 1}, claims(), 256),
        "jwk_header": fake_token({"alg": "RS256", "jwk": {"kty": "oct", "k": "AAAA"}}, claims(), 256),
        "jwe": "%s.AAAA.AAAA.AAAA.AAAA" % b64(js({"alg": "RSA-OAEP", "enc": "A256GCM"})),
        "dup": fake_token('{"alg":"RS256","alg":"none"}', claims(), 256),
        "pem_issuer": fake_token({"alg": "RS256"}, claims(iss=ISS_PEM), 256),
        "down_issuer": fake_token({"alg": "ES256"}, claims(iss="https://down.test"), 64),
        "unknown_kid": fake_token({"alg": "RS256", "kid": "rsa-9"}, claims(), 256),
        "deep": fake_token({"alg": "RS256"}, "{\"a\":" * 31 + "1" + "}" * 31, 256),
    }
    for name, tok in raw.items():
        seeds["raw_" + name] = b"\x00" + tok.encode()
    seeds["raw_strict_typ"] = b"\x80" + fake_token(
        {"alg": "ES256", "typ": "at+jwt"}, claims(), 64).encode()
    # mode 1: header \0 payload, signed by the target
    for i, alg in enumerate(SIGNERS):
        mode = 1 | (i << 2)
        hdr = {"alg": alg, "typ": "JWT", "kid": KIDS[alg]}
        seeds["signed_%s" % alg] = bytes([mode]) + js(hdr).encode() + b"\0" + js(claims()).encode()
        seeds["signed_%s_nokid" % alg] = (bytes([mode]) + js({"alg": alg}).encode() + b"\0"
                                          + js(claims(aud=["x", "api://other"], nbf=IAT)).encode())
        seeds["signed_%s_strict" % alg] = (bytes([mode | 0x80]) + js({"alg": alg, "typ": "at+jwt"}).encode()
                                           + b"\0" + js(claims(aud=None)).encode())
    m = 1 | (6 << 2)
    seeds["signed_rs256_rotated_kid"] = bytes([m]) + js({"alg": "RS256", "kid": "rsa-2"}).encode() \
        + b"\0" + js(claims()).encode()
    seeds["signed_rs256_pem"] = bytes([m]) + js({"alg": "RS256"}).encode() + b"\0" \
        + js(claims(iss=ISS_PEM)).encode()
    seeds["signed_rs256_tail"] = bytes([m]) + js({"alg": "RS256", "kid": "rsa-1"}).encode() + b"\0" \
        + js(claims()).encode() + b"\0A"
    seeds["signed_hs256_as_rs"] = bytes([1]) + js({"alg": "RS256", "kid": "rsa-1"}).encode() + b"\0" \
        + js(claims()).encode()
    seeds["signed_hs256_expired"] = bytes([1]) + js({"alg": "HS256"}).encode() + b"\0" \
        + js(claims(exp=1699999000)).encode()
    seeds["signed_hs256_claims"] = bytes([1]) + js({"alg": "HS256", "kid": "hs-1"}).encode() + b"\0" \
        + js(claims(preferred_username="bob", realm_access={"roles": ["a", "b"]},
                    **{"cognito:groups": ["x"], "https://example.com/groups": ["y", 1, None]},
                    a={"b": {"c": True}})).encode()
    # mode 2: cache record plaintexts
    for name, data in record_plaintexts().items():
        seeds[name] = (b"\x82" if name == "record_strict" else b"\x02") + data
    # mode 3: token cache
    seeds["tcache_claims"] = b"\x03" + js(claims(typ="at+jwt", kid="rsa-1")).encode()
    seeds["tcache_hit"] = b"\x03" + js({"iss": ISS, "x": "yz"}).encode()
    return seeds


def record(alg, typ, kid, payload, until=EXP, binding=b"\xb1" * 32, thumb=b"\x7e" * 32):
    """A record's plaintext (src/core/record.h): "CKR3", alg, until
    (8 bytes big-endian), binding, thumbprint, typ length + typ, kid length
    + kid, payload."""
    return (b"CKR3" + bytes([alg]) + struct.pack(">Q", until) + binding + thumb
            + bytes([len(typ)]) + typ + bytes([len(kid)]) + kid + payload)


def record_plaintexts():
    payload = js(claims()).encode()
    return {
        "record_rs256": record(1, b"JWT", b"rsa-1", payload),
        "record_notyp_nokid": record(7, b"", b"", payload),
        "record_strict": record(7, b"at+jwt", b"ec-1", js(claims(aud=None)).encode()),
        "record_old_format": b"CKR2" + bytes([1, 3]) + b"JWT" + bytes([0]) + payload,
    }


def seal_seeds():
    seeds = {}
    for name, data in record_plaintexts().items():
        seeds["plain_" + name] = b"\x01" + data
    # What a writer to the cache might plant: an unsealed record, a record
    # with the seal's magic and a made-up tag, an empty value.
    seeds["planted_plain"] = b"\x00" + record(1, b"", b"", js(claims()).encode())
    seeds["planted_magic"] = b"\x00CKS1" + bytes(12) + record(1, b"", b"", b"{}") + bytes(16)
    seeds["planted_empty"] = b"\x00"
    return seeds


# -- key documents ------------------------------------------------------------
def int_b64(n, size=None):
    size = size or (n.bit_length() + 7) // 8
    return b64(n.to_bytes(size, "big"))


def jwk_of(pub, kid=None, **extra):
    if isinstance(pub, rsa.RSAPublicKey):
        nums = pub.public_numbers()
        d = {"kty": "RSA", "n": int_b64(nums.n), "e": int_b64(nums.e)}
    elif isinstance(pub, ec.EllipticCurvePublicKey):
        nums = pub.public_numbers()
        size = (pub.curve.key_size + 7) // 8
        crv = {"secp256r1": "P-256", "secp384r1": "P-384", "secp521r1": "P-521"}[pub.curve.name]
        d = {"kty": "EC", "crv": crv, "x": int_b64(nums.x, size), "y": int_b64(nums.y, size)}
    else:
        raw = pub.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        d = {"kty": "OKP", "crv": "Ed25519", "x": b64(raw)}
    if kid:
        d["kid"] = kid
    d.update(extra)
    return d


def pem(pub, fmt=serialization.PublicFormat.SubjectPublicKeyInfo):
    return pub.public_bytes(serialization.Encoding.PEM, fmt)


def cert(priv):
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "idp.test")])
    t = datetime.datetime(2024, 1, 1)
    c = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
         .public_key(priv.public_key()).serial_number(1)
         .not_valid_before(t).not_valid_after(t + datetime.timedelta(days=3650))
         .sign(priv, None if isinstance(priv, ed25519.Ed25519PrivateKey) else hashes.SHA256()))
    return c.public_bytes(serialization.Encoding.PEM)


def jwks_seeds():
    r = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    p256 = ec.generate_private_key(ec.SECP256R1())
    p384 = ec.generate_private_key(ec.SECP384R1())
    p521 = ec.generate_private_key(ec.SECP521R1())
    ed = ed25519.Ed25519PrivateKey.generate()
    oct_ = {"kty": "oct", "kid": "hs-1", "k": b64(os.urandom(32)), "alg": "HS256"}
    seeds = {
        "jwks_all": js({"keys": [jwk_of(r.public_key(), "k1", use="sig"),
                                 jwk_of(p256.public_key(), "k2", alg="ES256"),
                                 jwk_of(p384.public_key(), "k3"),
                                 jwk_of(p521.public_key(), "k4", key_ops=["verify"]),
                                 jwk_of(ed.public_key(), "k5", alg="EdDSA"), oct_]}),
        "jwks_skips": js({"keys": [jwk_of(r.public_key(), "enc", use="enc"),
                                   jwk_of(p256.public_key(), "ops", key_ops=["sign"]),
                                   {"kty": "RSA", "n": "AQAB", "e": "AQAB"},
                                   {"kty": "EC", "crv": "secp256k1", "x": "AA", "y": "AA"},
                                   {"kty": "oct"}, "not a key",
                                   jwk_of(p256.public_key(), "k1", alg="RS256")]}),
        "jwk_single_rsa": js(jwk_of(r.public_key(), "k1", alg="PS256")),
        "jwk_single_ed": js(jwk_of(ed.public_key())),
        "jwk_single_oct": js({"kty": "oct", "k": b64(os.urandom(64))}),
        "jwks_ec_bad_point": js({"keys": [{"kty": "EC", "crv": "P-256", "kid": "k1",
                                           "x": b64(b"\x01" * 32), "y": b64(b"\x02" * 32)}]}),
        "jwks_rsa_e1": js({"keys": [dict(jwk_of(r.public_key(), "k1"), e="AQ")]}),
        "pem_rsa": pem(r.public_key()),
        "pem_rsa_pkcs1": pem(r.public_key(), serialization.PublicFormat.PKCS1),
        "pem_ec": pem(p384.public_key()),
        "pem_ed": pem(ed.public_key()),
        "pem_cert_rsa": cert(r),
        "pem_cert_two": cert(p256) + cert(ed),
    }
    # A shared-cache key-set record (src/core/keyrec.h) around a JWKS.
    doc = js({"keys": [jwk_of(p256.public_key(), "k2", alg="ES256")]}).encode()
    uri = b"https://idp.example.test/realms/a/protocol/openid-connect/certs"
    seeds["keyrec_ec"] = (b"CKK1" + struct.pack(">qq", 1795000000000000, 1795000300000000)
                          + struct.pack(">H", len(uri)) + uri
                          + struct.pack(">I", len(doc)) + doc)
    return {k: v if isinstance(v, bytes) else v.encode() for k, v in seeds.items()}


def discovery_seeds():
    doc = {"issuer": ISS, "jwks_uri": ISS + "/protocol/openid-connect/certs",
           "authorization_endpoint": ISS + "/auth",
           "id_token_signing_alg_values_supported": ["RS256", "ES256"]}
    return {
        "doc": (ISS + "\0" + js(doc)).encode(),
        "doc_slash": ("https://idp.test/\0" + js({"issuer": "https://idp.test/",
                                                  "jwks_uri": "HTTPS://idp.test/k"})).encode(),
        "doc_http": (ISS + "\0" + js(dict(doc, jwks_uri="http://idp.test/k"))).encode(),
        "doc_other_iss": (ISS + "\0" + js(dict(doc, issuer=ISS + "/"))).encode(),
        "doc_only": js(doc).encode(),
        "cache_control": b"public, max-age=3600, must-revalidate",
        "cache_control_nostore": b"no-store",
        "cache_control_neg": b"max-age=-1, max-age=99999999999999999999",
    }


def claim_path_seeds():
    def s(path, sep, want, obj):
        return ("%s\0%s\0%s\0" % (path, sep, want)).encode() + (
            obj if isinstance(obj, bytes) else js(obj).encode())
    return {
        "groups": s("groups", ",", "admin", {"groups": ["admin", "a,b", "c\\d"]}),
        "realm_roles": s("realm_access.roles", ";", "kafka-admin",
                         {"realm_access": {"roles": ["kafka-admin", "x;y"]}}),
        "resource": s("resource_access.conduktor.roles", ",", "r",
                      {"resource_access": {"conduktor": {"roles": ["r", 1, True, None, {"a": [1]}]}}}),
        "cognito": s("cognito:groups", " | ", "g", {"cognito:groups": ["g", "h | i", "j |"]}),
        "url": s("https://example.com/groups", ",", "x", {"https://example.com/groups": "x"}),
        "dotted_whole": s("team.roles", ",", "nested",
                          {"team.roles": ["whole"], "team": {"roles": ["nested"]}}),
        "dots_split": s("a.b.c.d", "::", "v", {"a.b": {"c": {"d": ["v", "w:x", "y::z"]}},
                                              "a": {"b.c": {"e": 1}}}),
        "colons": s("groups", "::", "a", {"groups": ["a:b", "c", ":d"]}),
        "scalar": s("email_verified", ",", "true", {"email_verified": True, "email": "a@b"}),
        "number": s("level", ",", "3", {"level": 3, "ratio": 0.5, "email": "a@b"}),
        "control": s("name", ",", "x", {"name": "a\r\nX-Injected: 1\u007f", "email": "a@b"}),
        "empty": s("", ",", "", {"": "empty name"}),
        "nonstring": s("groups", "--", "1", {"groups": [1, 2.5, False, [], {}, "--"]}),
    }


def cors_seeds():
    return {
        "exact": b"https://app.example.com\nhttps://app.example.com\nGET\nAuthorization",
        "wild": b"https://*.example.com\nhttps://a.b.example.com:443\nPOST\ncontent-type, authorization",
        "wild_evil": b"https://*.example.com\nhttps://evil-example.com\nGET\n",
        "suffix_evil": b"https://app.example.com\nhttps://app.example.com.evil.net\nGET\n",
        "port": b"http://localhost:3000\nhttp://LOCALHOST:3000\nPUT\nX-Custom",
        "ipv6": b"http://[::1]:8080\nhttp://[::1]:8080\nGET\n",
        "null": b"null\nnull\nGET\n",
        "star": b"*\nhttps://x.test\nDELETE\n",
        "path": b"https://a.test/\nhttps://a.test/x\nGET\n",
        "userinfo": b"https://a.test\nhttps://user@a.test\nGET\n",
        "headers": b"https://a.test\nhttps://a.test\nPOST\n , ,\tAuthorization ,Content-Type,,x-y",
    }


# -- fuzz_credential -------------------------------------------------------
def credential_seeds():
    hdr = {"alg": "RS256", "kid": "rsa-1"}
    std = lambda o: base64.b64encode(js(o).encode()).decode()
    return {
        "jwt": fake_token(hdr, claims(), 256).encode(),
        "jwt_console": fake_token(hdr, claims(iss="https://console.conduktor.test"), 64).encode(),
        "jwt_std_padded": ("%s.%s.c2ln" % (std(hdr), std(claims()))).encode(),
        "jws_bad_payload": ("%s.%s.c2ln" % (b64(js(hdr)), b64("not json"))).encode(),
        "jwe": ("%s.a.b.c.d" % b64(js({"alg": "RSA-OAEP", "enc": "A256GCM"}))).encode(),
        "api_key": b"AWpw1sZZC20=.29Qb9+/x0ZNl4dYqG1xkpF3VJ1lkDJ2NdLt5Zkj7Tw==",
        "okta": b"2YotnFZFEjr1zCsicMWpAA",
        "comma": b"a,b",
        "space": b"a b",
        "latin1": b"caf\xe9",
        "dots": b"..",
    }


def audit_seeds():
    """user, client ip, method, path, server, credential, kid, reason,
    email claim path, groups claim path, then the claims (see fuzz_audit.c)."""
    def seed(flag, fields, claims_text):
        return bytes([flag]) + b"\n".join(fields) + b"\n" + claims_text
    full = js(dict(claims(), jti="j-1", azp="backstage", client_id="cli")).encode()
    return {
        "allowed": seed(0xff, [b"alice@example.test", b"127.0.0.1", b"GET",
                               b"/api/public/console/v2/kafka-cluster", b"edge.test",
                               b"jwt", b"rsa-1", b"", b"email", b"groups"], full),
        "refused": seed(0xfe, [b"", b"10.0.0.1", b"GET", b"/x", b"edge.test", b"jwt", b"",
                               b"bad_signature", b"", b""], b""),
        "hostile": seed(0x41, [b"u\xff\x7f\x01", b"::1", b"P\xc2\x85ST", b"/a\xe2\x80\xa8b",
                               b"\"<>", b"jwt", b"k\\", b"", b"realm_access.roles",
                               b"cognito:groups"],
                        b'{"realm_access":{"roles":["a\\"b","\\u0001"]},"email":"x\\u2029"}'),
    }


def dpop_seeds():
    """First byte: mode (see fuzz_dpop.c); 0x80 asks for a nonce."""
    hdr = b'{"typ":"dpop+jwt","alg":"ES256"}'
    good = (b'{"htm":"GET","htu":"https://api.example.test/v1/x","iat":1700000000,'
            b'"jti":"j-1","ath":"9kWuS8w6QHv4o0HK_6tqlmjcLrJ9r4vKv1ylWMxGk1E"}')
    return {
        "raw_shape": b"\x00" + b"eyJ0eXAiOiJkcG9wK2p3dCIsImFsZyI6IkVTMjU2In0.e30.AAAA",
        "signed_good_shape": b"\x01" + hdr + b"\x00" + good,
        "signed_nonce": b"\x81" + hdr + b"\x00" + good[:-1] + b',"nonce":"x"}',
        "signed_key_cache": b"\x41" + hdr + b"\x00" + good,
        "signed_query_htu": b"\x01" + hdr + b"\x00" + good.replace(b"/v1/x", b"/v1/%78?a#b"),
        "url_plain": b"\x02https://API.example.test:443/a%7e%2f?q#f",
        "url_ipv6": b"\x02http://[::1]:80/",
        "nonce": b"\x03" + b"A" * 32,
    }


TARGETS = {
    "fuzz_dpop": dpop_seeds,
    "fuzz_token": token_seeds,
    "fuzz_jwks": jwks_seeds,
    "fuzz_discovery": discovery_seeds,
    "fuzz_claim_path": claim_path_seeds,
    "fuzz_cors": cors_seeds,
    "fuzz_seal": seal_seeds,
    "fuzz_credential": credential_seeds,
    "fuzz_audit": audit_seeds,
}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus"))
    ap.add_argument("--only", nargs="*", help="targets to write (default: all)")
    args = ap.parse_args()
    for target, make in TARGETS.items():
        if args.only and target not in args.only:
            continue
        d = os.path.join(args.out, target)
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)
        for name, data in sorted(make().items()):
            with open(os.path.join(d, name), "wb") as f:
                f.write(data)
        print("%-16s %3d seeds" % (target, len(os.listdir(d))))


if __name__ == "__main__":
    main()
