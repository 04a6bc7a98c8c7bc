#!/usr/bin/python3
"""Mint test keys and signed JWTs for mod_conduktor_auth.

Library (used by the integration tests):

    keys = make_keys("/tmp/k")                 # writes JWKS, PEM files
    keys = KeyDir("/tmp/k")                    # loads them again
    tok = keys.token(email="a@b.test", groups=["x"], alg="ES256")

Command line (used by build/demo.sh):

    mint.py keys DIR
    mint.py token DIR --email a@b.test --groups x,y [--key ec] [--exp 300]
                      [--aud conduktor] [--iss URL] [--claim k=json ...]

Files written by `keys` (all world-readable, so an httpd running as
`nobody` may read them; these are throw-away test keys):

    jwks.json            public keys rsa-1, ec-1, ed-1, rsa-ps (alg PS256),
                         rsa-enc (use enc: never to be used to verify)
    jwks-rsa.json ...    one key kind per file (rsa, ec, ed)
    oct.jwks.json        a symmetric key (kid hs-1) for HS256 tests
    rsa.pem ec.pem ed.pem  public keys as PEM (no kid)
    rsa-cert.pem         self-signed certificate of the rsa-1 key
    private.json         every private key (kid -> JWK), for minting
"""
import argparse
import base64
import datetime
import json
import os
import sys
import time

from jwcrypto import jwk
from jwcrypto.jwa import JWA

DEFAULT_ISSUER = "https://idp.test/realms/conduktor"
DEFAULT_AUDIENCE = "conduktor"
# Console's own tokens (issued at its login) and the API keys it checks
# itself: the stand-in knows both (tests/backend/conduktor_stub.py).
CONSOLE_ISSUER = "https://console.conduktor.test"
API_KEY_NAMES = (("ci-pipeline", "admin"), ("terraform", "admin"),
                 ("orders-app", "application-instance"))

# key name -> (kid in the JWKS, default alg, how to generate)
KEY_KINDS = {
    "rsa": ("rsa-1", "RS256", dict(kty="RSA", size=2048)),
    "ec": ("ec-1", "ES256", dict(kty="EC", crv="P-256")),
    "ed": ("ed-1", "EdDSA", dict(kty="OKP", crv="Ed25519")),
    "rsa-ps": ("rsa-ps", "PS256", dict(kty="RSA", size=2048)),
    "rsa-enc": ("rsa-enc", "RS256", dict(kty="RSA", size=2048)),
    # Never published: signatures by these keys must be refused.
    "rogue-rsa": ("rsa-1", "RS256", dict(kty="RSA", size=2048)),
    "rogue-ec": ("ec-1", "ES256", dict(kty="EC", crv="P-256")),
}
PUBLISHED = ("rsa", "ec", "ed", "rsa-ps", "rsa-enc")
HS_SECRET_KID = "hs-1"


def b64url(data):
    if isinstance(data, str):
        data = data.encode()
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _write(path, text, mode=0o644):
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, mode)


def _public_jwk(name, key):
    pub = json.loads(key.export_public())
    pub["use"] = "enc" if name == "rsa-enc" else "sig"
    if name == "rsa-ps":
        pub["alg"] = "PS256"
    return pub


def _self_signed_cert(key):
    """A PEM certificate for the RSA jwcrypto key (via `cryptography`)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.x509.oid import NameOID

    priv = serialization.load_pem_private_key(
        key.export_to_pem(private_key=True, password=None), password=None)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "idp.test")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(priv.public_key()).serial_number(1)
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=30))
            .sign(priv, hashes.SHA256()))
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def make_keys(directory):
    """Generate every key and write the files listed above; return a KeyDir."""
    os.makedirs(directory, exist_ok=True)
    os.chmod(directory, 0o755)
    private = {}
    for name, (kid, _alg, params) in KEY_KINDS.items():
        private[name] = jwk.JWK.generate(kid=kid, **params)
    secret = jwk.JWK(kty="oct", kid=HS_SECRET_KID, k=b64url(os.urandom(32)))
    private["hs"] = secret

    def jwks(names):
        return json.dumps({"keys": [_public_jwk(n, private[n]) for n in names]},
                          indent=2)

    _write(os.path.join(directory, "jwks.json"), jwks(PUBLISHED))
    for name in ("rsa", "ec", "ed"):
        _write(os.path.join(directory, "jwks-%s.json" % name), jwks([name]))
        pem = private[name].export_to_pem(private_key=False).decode()
        _write(os.path.join(directory, "%s.pem" % name), pem)
    oct_pub = json.loads(secret.export())
    oct_pub["use"] = "sig"
    _write(os.path.join(directory, "oct.jwks.json"),
           json.dumps({"keys": [oct_pub]}, indent=2))
    _write(os.path.join(directory, "rsa-cert.pem"),
           _self_signed_cert(private["rsa"]))
    private["console"] = jwk.JWK.generate(kid="console-1", kty="EC", crv="P-256")
    _write(os.path.join(directory, "console.jwks.json"),
           json.dumps({"keys": [_public_jwk("console", private["console"])]}, indent=2))
    _write(os.path.join(directory, "api-keys.json"),
           json.dumps({_api_key(): {"name": n, "type": t} for n, t in API_KEY_NAMES},
                      indent=2), mode=0o600)
    _write(os.path.join(directory, "private.json"),
           json.dumps({n: json.loads(k.export()) for n, k in private.items()}),
           mode=0o600)
    return KeyDir(directory)


def _api_key():
    """A key shaped like Conduktor's: standard base64 of a short id, a dot,
    standard base64 of the secret, so "=" sits in the middle and at the end;
    drawn until it also holds "+" and "/" (pass-through must keep them)."""
    while True:
        key = "%s.%s" % (base64.b64encode(os.urandom(8)).decode(),
                         base64.b64encode(os.urandom(31)).decode())
        if "+" in key and "/" in key:
            return key


def sign(key, alg, header, payload):
    """Compact JWS over exactly the given header and payload.

    header / payload: a dict (serialised as JSON) or str/bytes used verbatim,
    so a test can send duplicate names, odd spacing or non-JSON. Both are
    always base64url-encoded (whatever a "b64" header member says).
    key: a jwcrypto JWK, or None for an empty signature (alg "none").
    """
    def raw(part):
        if isinstance(part, dict):
            part = json.dumps(part, separators=(",", ":"))
        return part.encode() if isinstance(part, str) else part

    signing_input = "%s.%s" % (b64url(raw(header)), b64url(raw(payload)))
    if key is None:
        return signing_input + "."
    signature = JWA.signing_alg(alg).sign(key, signing_input.encode())
    return "%s.%s" % (signing_input, b64url(signature))


def default_claims(**overrides):
    now = int(time.time())
    claims = {
        "iss": DEFAULT_ISSUER,
        "aud": DEFAULT_AUDIENCE,
        "sub": "user-0001",
        "email": "alice@example.test",
        "groups": ["platform-team"],
        "iat": now,
        "exp": now + 300,
    }
    claims.update(overrides)
    return claims


class KeyDir:
    """A directory written by make_keys(): paths and minting."""

    def __init__(self, directory):
        self.dir = os.path.abspath(directory)
        with open(self.path("private.json")) as f:
            self.private = {n: jwk.JWK(**d) for n, d in json.load(f).items()}

    def path(self, name):
        return os.path.join(self.dir, name)

    @property
    def jwks(self):
        return self.path("jwks.json")

    def api_key(self, name):
        """The API key the stand-in knows by this name (API_KEY_NAMES)."""
        with open(self.path("api-keys.json")) as f:
            return next(k for k, v in json.load(f).items() if v["name"] == name)

    def console_token(self, **claims):
        """A token as Console issues it at login: its own issuer and key."""
        now = int(time.time())
        body = {"iss": CONSOLE_ISSUER, "sub": "alice@example.test",
                "email": "alice@example.test", "iat": now, "exp": now + 300}
        body.update(claims)
        return sign(self.private["console"], "ES256",
                    {"alg": "ES256", "typ": "JWT", "kid": "console-1"}, body)

    def token(self, claims=None, header=None, alg=None, key="rsa",
              kid=Ellipsis, drop=(), **claim_overrides):
        """Mint a signed token.

        claims: the whole claims set (default_claims() when None);
        claim_overrides: changes to it (email=..., groups=..., exp=...);
        drop: claim names to remove; header: extra header members;
        alg: default per key kind ("none" gives an unsigned token);
        kid: default the key's kid; None leaves kid out.
        """
        body = dict(claims if claims is not None else default_claims())
        body.update(claim_overrides)
        for name in drop:
            body.pop(name, None)
        jwk_key = self.private[key]
        alg = alg or KEY_KINDS.get(key, (None, "HS256"))[1]
        hdr = {"alg": alg, "typ": "JWT"}
        if kid is Ellipsis:
            kid = jwk_key.get("kid")
        if kid is not None:
            hdr["kid"] = kid
        hdr.update(header or {})
        hdr = {k: v for k, v in hdr.items() if v is not None}
        return sign(None if alg == "none" else jwk_key, alg, hdr, body)


def _claim_arg(text):
    name, _, value = text.partition("=")
    try:
        return name, json.loads(value)
    except ValueError:
        return name, value


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    k = sub.add_parser("keys", help="generate test keys into DIR")
    k.add_argument("dir")
    t = sub.add_parser("token", help="print a signed token")
    t.add_argument("dir")
    t.add_argument("--key", default="rsa", choices=sorted(KEY_KINDS) + ["hs"])
    t.add_argument("--alg")
    t.add_argument("--iss", default=DEFAULT_ISSUER)
    t.add_argument("--aud", default=DEFAULT_AUDIENCE)
    t.add_argument("--sub", default="user-0001")
    t.add_argument("--email", default="alice@example.test")
    t.add_argument("--groups", default="platform-team",
                   help="comma-separated; empty for none")
    t.add_argument("--exp", type=int, default=300,
                   help="seconds from now (negative: already expired)")
    t.add_argument("--claim", action="append", default=[], metavar="NAME=JSON",
                   help="extra claim; value parsed as JSON, else a string")
    args = ap.parse_args(argv)
    if args.cmd == "keys":
        make_keys(args.dir)
        print(os.path.abspath(args.dir))
        return 0
    keys = KeyDir(args.dir)
    claims = default_claims(iss=args.iss, aud=args.aud, sub=args.sub,
                            email=args.email,
                            groups=[g for g in args.groups.split(",") if g])
    claims["exp"] = claims["iat"] + args.exp
    claims.update(dict(_claim_arg(c) for c in args.claim))
    print(keys.token(claims=claims, key=args.key, alg=args.alg))
    return 0


if __name__ == "__main__":
    sys.exit(main())
