"""Token checks: signatures, keys, algorithms, time and audience claims,
and the input limits (SPEC "Trust", "Token checks", "Limits on input").
Every refusal must be a 401 with error="invalid_token", never a 500."""
import json
import time

import pytest
from jwcrypto import jwk

from conftest import ISSUER2, PEM_ISSUER
from harness import AUDIENCE, ISSUER, assert_denied, mint, protect

b64 = mint.b64url
b64d = mint.b64url_decode


def now():
    return int(time.time())


def resign(keys, header, payload, key="rsa", alg="RS256"):
    return mint.sign(keys.private[key], alg, header, payload)


def hdr(alg="RS256", kid="rsa-1", **more):
    return dict({"alg": alg, "typ": "JWT", "kid": kid}, **more)


def tampered(keys):
    h, p, s = keys.token().split(".")
    claims = json.loads(b64d(p))
    claims["email"] = "mallory@example.test"
    return "%s.%s.%s" % (h, b64(json.dumps(claims)), s)


def noncanonical_sig(keys):
    # An ES256 signature is 64 bytes: 86 base64url characters whose last
    # one carries 4 unused bits; setting one gives the same bytes to a
    # lenient decoder.
    h, p, s = keys.token(key="ec").split(".")
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    last = alphabet[alphabet.index(s[-1]) | 1]
    return "%s.%s.%s" % (h, p, s[:-1] + last)


def standard_alphabet(keys):
    # The same signature written with '+' and '/' (base64, not base64url).
    while True:
        tok = keys.token()
        h, p, s = tok.split(".")
        if "-" in s or "_" in s:
            return "%s.%s.%s" % (h, p, s.replace("-", "+").replace("_", "/"))


def hs_with_rsa_public_key(keys):
    # Classic confusion: the RSA public key (PEM bytes) used as HMAC secret.
    with open(keys.path("rsa.pem"), "rb") as f:
        secret = jwk.JWK(kty="oct", k=b64(f.read()))
    return mint.sign(secret, "HS256", hdr("HS256"), mint.default_claims())


def embedded_jwk(keys):
    rogue = keys.private["rogue-rsa"]
    pub = json.loads(rogue.export_public())
    return resign(keys, hdr(kid="attacker", jwk=pub), mint.default_claims(),
                  key="rogue-rsa")


def nested(depth):
    v = "deep"
    for _ in range(depth):
        v = {"a": v}
    return v


BAD_TOKENS = {
    # shape
    "garbage": lambda k: "not-a-jwt-at-all-but-long-enough",
    "two_segments": lambda k: ".".join(k.token().split(".")[:2]),
    "four_segments": lambda k: k.token() + ".AAAA",
    "jwe_five_segments": lambda k: "%s.%s.%s.%s.%s" % (
        b64('{"alg":"RSA-OAEP","enc":"A256GCM"}'), "AAAA", "AAAA", "AAAA", "AAAA"),
    "empty_signature": lambda k: k.token().rsplit(".", 1)[0] + ".",
    "padded_signature": lambda k: k.token() + "==",
    "noncanonical_base64": noncanonical_sig,
    "standard_base64_alphabet": standard_alphabet,
    "header_not_json": lambda k: resign(k, "not json", mint.default_claims()),
    "payload_not_json": lambda k: resign(k, hdr(), "hello"),
    "payload_is_array": lambda k: resign(k, hdr(), "[1,2,3]"),
    "claims_nested_40_deep": lambda k: k.token(deep=nested(40)),
    "too_long_17k": lambda k: k.token(padding="x" * 17 * 1024),
    "duplicate_alg_header": lambda k: resign(
        k, '{"alg":"RS256","typ":"JWT","kid":"rsa-1","alg":"none"}',
        mint.default_claims()),
    # algorithms and keys
    "alg_none": lambda k: k.token(alg="none"),
    "alg_None": lambda k: mint.sign(None, "none", hdr("None"), mint.default_claims()),
    "hs256_with_rsa_public_key": hs_with_rsa_public_key,
    "rs256_header_on_ec_key": lambda k: resign(k, hdr("RS256", "ec-1"), mint.default_claims()),
    "es256_header_on_rsa_key": lambda k: resign(k, hdr("ES256", "rsa-1"), mint.default_claims(),
                                                key="ec", alg="ES256"),
    "unknown_kid": lambda k: k.token(kid="no-such-key"),
    "key_published_for_encryption": lambda k: k.token(key="rsa-enc"),
    "alg_differs_from_jwk_alg": lambda k: k.token(key="rsa-ps", alg="RS256"),
    "embedded_jwk_header": embedded_jwk,
    "jku_header": lambda k: k.token(key="rogue-rsa", kid="attacker",
                                    header={"jku": "http://127.0.0.1:9/jwks.json"}),
    "x5u_header": lambda k: k.token(key="rogue-rsa", kid="attacker",
                                    header={"x5u": "http://127.0.0.1:9/cert.pem"}),
    "unknown_crit": lambda k: k.token(header={"crit": ["urn:example:x"], "urn:example:x": 1}),
    "crit_b64_false": lambda k: k.token(header={"crit": ["b64"], "b64": False}),
    "crit_not_array": lambda k: k.token(header={"crit": "exp"}),
    # claims
    "wrong_issuer": lambda k: k.token(iss="https://evil.example.test"),
    "issuer_with_trailing_slash": lambda k: k.token(iss=ISSUER + "/"),
    "issuer_prefix": lambda k: k.token(iss=ISSUER[:-1]),
    "issuer_missing": lambda k: k.token(drop=["iss"]),
    "audience_missing": lambda k: k.token(drop=["aud"]),
    "audience_prefix": lambda k: k.token(aud=AUDIENCE[:-1]),
    "audience_array_without_ours": lambda k: k.token(aud=["a", "b"]),
    "exp_missing": lambda k: k.token(drop=["exp"]),
    "exp_string": lambda k: k.token(exp=str(now() + 300)),
    "exp_huge": lambda k: k.token(exp=10 ** 20),
    "exp_negative": lambda k: k.token(exp=-1),
    "exp_bool": lambda k: k.token(exp=True),
    "nbf_future": lambda k: k.token(nbf=now() + 600),
    "nbf_string": lambda k: k.token(nbf="soon"),
    "iat_future": lambda k: k.token(iat=now() + 600),
    "iat_object": lambda k: k.token(iat={"t": 1}),
}

# The reason codes the SPEC names (others are only required to be present).
REASONS = {
    "tampered_payload": "bad_signature",
    "rogue_key_same_kid": "bad_signature",
    "expired": "token_expired",
    "wrong_audience": "wrong_audience",
}
BAD_TOKENS.update({
    "tampered_payload": tampered,
    "rogue_key_same_kid": lambda k: k.token(key="rogue-rsa"),
    "rogue_ec_key_same_kid": lambda k: k.token(key="rogue-ec"),
    "expired": lambda k: k.token(iat=now() - 900, exp=now() - 600),
    "wrong_audience": lambda k: k.token(aud="some-other-api"),
})


@pytest.fixture(scope="module")
def h(shared_httpd):
    return shared_httpd(protect())


@pytest.mark.parametrize("kind", sorted(BAD_TOKENS))
def test_bad_token_is_refused(h, keys, backend, kind):
    tok = BAD_TOKENS[kind](keys)
    before = len(backend.requests())
    r = h.get(token=tok)
    assert_denied(r, 401, error="invalid_token", token=tok)
    log = h.last_access()
    assert log["error"] not in ("-", ""), log
    if kind in REASONS:
        assert log["error"] == REASONS[kind]
    assert log["user"] == "-" and log["email"] == "-"
    assert len(backend.requests()) == before, "a refused request reached the backend"


GOOD_TOKENS = {
    "RS256": dict(key="rsa"), "RS384": dict(key="rsa", alg="RS384"),
    "RS512": dict(key="rsa", alg="RS512"), "PS256": dict(key="rsa", alg="PS256"),
    "PS512": dict(key="rsa", alg="PS512"), "ES256": dict(key="ec"),
    "EdDSA": dict(key="ed"), "PS256_on_PS256_pinned_key": dict(key="rsa-ps"),
    "rsa_without_kid": dict(key="rsa", kid=None),
    "ec_without_kid": dict(key="ec", kid=None),
    "ed_without_kid": dict(key="ed", kid=None),
    "audience_array_with_ours": dict(aud=["other", AUDIENCE]),
    "expired_within_skew": dict(exp=-30),
    "nbf_within_skew": dict(nbf=+30),
    "iat_within_skew": dict(iat=+30),
    "typ_at_jwt": dict(header={"typ": "at+jwt"}),
    "no_typ": dict(header={"typ": None}),
}


@pytest.mark.parametrize("kind", sorted(GOOD_TOKENS))
def test_good_token_is_accepted(h, kind):
    kw = dict(GOOD_TOKENS[kind])
    for claim in ("exp", "nbf", "iat"):     # relative times
        if claim in kw:
            kw[claim] += now()
    r = h.get(token=h.mint(**kw))
    assert r.status == 200, r
    assert r.echo["identity"]["email"] == "alice@example.test"


def test_clock_skew_zero(httpd):
    h = httpd(protect("ConduktorAuthClockSkew 0"))
    r = h.get(token=h.mint(exp=now() - 5))
    assert_denied(r, 401, error="invalid_token")
    assert h.last_access()["error"] == "token_expired"
    assert h.get(token=h.mint(nbf=now() + 30)).status == 401
    assert h.get(token=h.mint()).status == 200


def test_large_clock_skew(httpd):
    h = httpd(protect("ConduktorAuthClockSkew 600"))
    # /echo: the stub (like Conduktor) would refuse the expired token on /api.
    assert h.get("/echo", token=h.mint(exp=now() - 300)).status == 200
    assert h.get("/echo", token=h.mint(exp=now() - 900)).status == 401


def test_algorithm_allow_list(httpd):
    h = httpd(protect(), server="ConduktorAuthAlgorithms ES256 EdDSA")
    assert h.get(token=h.mint(key="rsa")).status == 401
    assert h.get(token=h.mint(key="ec")).status == 200
    assert h.get(token=h.mint(key="ed")).status == 200


def test_hmac_only_when_listed_and_key_is_local_oct(httpd):
    oct_issuer = "ConduktorAuthIssuer %s file:{keys}/oct.jwks.json" % ISSUER
    h = httpd(protect(), issuers=[oct_issuer, "ConduktorAuthAlgorithms HS256"])
    assert h.get(token=h.mint(key="hs")).status == 200
    h2 = httpd(protect(), issuers=[oct_issuer])
    assert h2.get(token=h2.mint(key="hs")).status == 401


def test_hmac_listed_does_not_open_rsa_key_confusion(httpd, keys):
    h = httpd(protect(), server="ConduktorAuthAlgorithms RS256 HS256")
    assert h.get(token=hs_with_rsa_public_key(keys)).status == 401


def test_require_type(httpd):
    h = httpd(protect("ConduktorAuthRequireType at+jwt"))
    assert h.get(token=h.mint(header={"typ": "at+jwt"})).status == 200
    assert_denied(h.get(token=h.mint()), 401, error="invalid_token")       # typ JWT
    assert h.get(token=h.mint(header={"typ": None})).status == 401


def test_any_audience_with_star(httpd):
    h = httpd(protect(audience="*"))
    r = h.get("/echo", token=h.mint(aud="whatever-api"))
    assert r.status == 200, r
    assert h.get("/echo", token=h.mint(drop=["aud"])).status == 200


def test_several_audiences(httpd):
    h = httpd(protect(audience="api://other %s" % AUDIENCE))
    assert h.get(token=h.mint(aud=AUDIENCE)).status == 200
    assert h.get(token=h.mint(aud="api://other")).status == 200
    assert h.get(token=h.mint(aud="api://third")).status == 401


def test_each_issuer_uses_its_own_keys(httpd):
    h = httpd(protect(), issuers=[
        "ConduktorAuthIssuer %s file:{keys}/jwks-rsa.json" % ISSUER,
        "ConduktorAuthIssuer %s file:{keys}/jwks-ec.json" % ISSUER2])
    r = h.get(token=h.mint(iss=ISSUER2, key="ec"))
    assert r.status == 200, r
    assert h.last_access()["issuer"] == ISSUER2
    assert h.get(token=h.mint(iss=ISSUER, key="rsa")).status == 200
    # A key of the other issuer does not do.
    assert h.get(token=h.mint(iss=ISSUER2, key="rsa")).status == 401
    assert h.get(token=h.mint(iss=ISSUER, key="ec")).status == 401


@pytest.mark.parametrize("pem,key,alg", [
    ("rsa.pem", "rsa", "RS256"), ("rsa-cert.pem", "rsa", "PS256"),
    ("ec.pem", "ec", "ES256"), ("ed.pem", "ed", "EdDSA")])
def test_pem_key_file(httpd, pem, key, alg):
    h = httpd(protect(), issuers=["ConduktorAuthIssuer %s file:{keys}/%s" % (PEM_ISSUER, pem)])
    r = h.get(token=h.mint(iss=PEM_ISSUER, key=key, alg=alg, kid=None))
    assert r.status == 200, r
    other = "ec" if key != "ec" else "rsa"
    assert h.get(token=h.mint(iss=PEM_ISSUER, key=other, kid=None)).status == 401
    rogue = {"rsa": "rogue-rsa", "ec": "rogue-ec"}.get(key)
    if rogue:
        assert h.get(token=h.mint(iss=PEM_ISSUER, key=rogue, alg=alg, kid=None)).status == 401


def test_cached_token_still_checked_per_location(httpd):
    # A validated token is cached; audience and Require are re-applied on a hit.
    h = httpd(protect(), server="""
        <Location "/other">
          ConduktorAuthAudience api://other
        </Location>
        <Location "/admin">
          Require conduktor-group kafka-admins
        </Location>""")
    tok = h.mint(aud=AUDIENCE, groups=["devs"])
    assert h.get(token=tok).status == 200
    assert h.get("/other/x", token=tok).status == 401
    assert h.last_access()["error"] == "wrong_audience"
    assert h.get("/admin/x", token=tok).status == 403
    assert h.get(token=tok).status == 200


def test_cached_token_expires_on_time(httpd):
    h = httpd(protect("ConduktorAuthClockSkew 0"))
    tok = h.mint(exp=now() + 2)
    assert h.get(token=tok).status == 200
    time.sleep(3.2)
    r = h.get(token=tok)
    assert_denied(r, 401, error="invalid_token")
    assert h.last_access()["error"] == "token_expired"
