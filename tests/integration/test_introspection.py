"""RFC 7662 introspection (issue 15; SPEC "Introspection (RFC 7662)" and
`ConduktorAuthOpaqueTokens introspect <issuer>`): opaque tokens asked about
at the IdP's introspection endpoint with each of the four client
authentications, answers checked as JWT claims are and remembered in the
sealed token cache, ConduktorAuthIntrospectJWT for revocation of JWTs,
failing closed with 503.

A real httpd in front of the Conduktor stand-in; the TLS test IdP
(tests/idp/idp_server.py) with an introspection endpoint that checks each
client authentication (a wrong one gets 401 invalid_client), answers as
each test steers it per token and counts the calls per token; a real
redis-server for the two-host test.
"""
import json
import os
import re
import threading
import time
import uuid

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from jwcrypto import jwk

import harness
from harness import AUDIENCE, assert_denied, headers_named, protect
from idp_fixtures import (  # noqa: F401  (pki and idp are fixtures)
    PATH, SigningKey, idp, jwks, pki, remote_issuer)
from test_cache import CacheServer, cache_server  # noqa: F401  (a fixture)
from test_client_credentials import FOUR_PROCESSES, ONE_PROCESS, STATUS, redis_call
from test_keys_remote import assert_unavailable
from test_valgrind import vg_factory  # noqa: F401  (a fixture)

IS_PATH = "/realms/is/protocol/openid-connect/token/introspect"
SECRET = "rs-basic-secret-9d2e7c1f0a4b"         # >= 16 characters: the log
POST_SECRET = "rs-post-secret-5a8f3e1c7b2d"      # check looks for them
FAILED = r"\[conduktor_auth:error\] .*introspection for issuer \S+ at \S+ failed: "
TTL = 3


def opaque():
    return "opq-" + uuid.uuid4().hex + uuid.uuid4().hex[:8]


class Env:
    """The TLS IdP: discovery, JWKS, and an introspection endpoint that
    knows one client per client authentication."""

    def __init__(self, idp_factory, pki, workdir):
        self.pki = pki
        self.idp = idp_factory()
        self.idp.accept_client_certs(pki.ca_file)
        self.iss = self.idp.url + "/realms/is"
        self.key = SigningKey("is-1")
        jwks_path = self.idp.publish_discovery(self.iss)
        self.idp.publish_jwks(jwks_path, jwks(self.key), max_age=300)
        disc = self.idp.routes["/realms/is/.well-known/openid-configuration"]
        disc.body = dict(disc.body, introspection_endpoint=self.idp.url + IS_PATH)
        self.endpoint = self.idp.url + IS_PATH
        d = harness.make_tempdir(os.path.join(workdir, "is-"))
        self.dir = d
        self.secret_file = self._write("basic.secret", SECRET + "\n")
        self.post_file = self._write("post.secret", POST_SECRET)
        self.wrong_file = self._write("wrong.secret", "not-the-secret-of-rs-basic")
        k = ec.generate_private_key(ec.SECP256R1())
        self.key_file = self._write("rs.key", k.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption()).decode())
        pub = jwk.JWK.from_pem(k.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
        other = ec.generate_private_key(ec.SECP256R1())
        self.other_key_file = self._write("other.key", other.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption()).decode())
        self.cert, self.cert_key = pki.ca.issue("rs-tls", client=True)
        self.other_cert, self.other_cert_key = pki.ca.issue("rs-stranger", client=True)
        self.ep = self.idp.introspection_endpoint(IS_PATH, {
            "rs-basic": {"auth": "basic", "secret": SECRET},
            "rs-post": {"auth": "post", "secret": POST_SECRET},
            "rs-jwt": {"auth": "jwt", "jwk": pub},
            "rs-tls": {"auth": "tls", "cn": "rs-tls"},
        }, issuer=self.iss)

    def _write(self, name, text):
        path = os.path.join(self.dir, name)
        with open(path, "w") as f:
            f.write(text)
        os.chmod(path, 0o600)           # root only: read at config time
        return path

    def auth_args(self, auth):
        return {
            "basic": "client_id=rs-basic secret=file:%s" % self.secret_file,
            "post": "client_id=rs-post secret=file:%s auth=post" % self.post_file,
            "jwt": "client_id=rs-jwt private_key=file:%s" % self.key_file,
            "tls": "client_id=rs-tls client_cert=file:%s client_key=file:%s"
                   % (self.cert, self.cert_key),
        }[auth]

    def active(self, tok, **claims):
        now = int(time.time())
        ans = {"active": True, "aud": AUDIENCE, "exp": now + 300, "iat": now,
               "sub": "user-7", "email": "alice@example.test", "username": "alice",
               "groups": ["platform-team"], "client_id": "backstage", "scope": "read"}
        ans.update(claims)
        self.ep.answers[tok] = {k: v for k, v in ans.items() if v is not None}
        return tok

    def calls(self, tok=None):
        return sum(self.ep.calls.values()) if tok is None else self.ep.calls.get(tok, 0)


@pytest.fixture
def env(idp, pki, workdir):
    return Env(idp, pki, workdir)


def is_httpd(httpd, env, auth="basic", endpoint=None, extra=(), require="Require valid-user",
             ttl=TTL, timeout=2, srv_extra=(), introspect=True, audience=AUDIENCE, **kw):
    lines = remote_issuer(env.pki, env.iss, timeout=timeout)
    if introspect:
        lines.append("ConduktorAuthIntrospect %s %s %s" % (
            env.iss, endpoint or env.endpoint, env.auth_args(auth)))
    lines.append("ConduktorAuthIntrospectTTL %d" % ttl)
    lines += list(srv_extra)
    location = protect("ConduktorAuthOpaqueTokens introspect %s" % env.iss, *extra,
                       require=require, audience=audience)
    h = httpd(location, issuers=lines, server=STATUS, **kw)
    h.secrets.update([SECRET, POST_SECRET])
    return h


def get(h, tok, ordered=True, path=PATH):
    h.secrets.add(tok)
    start = time.monotonic()
    r = h.request("GET", path, token=tok, ordered=ordered)
    r.elapsed = time.monotonic() - start
    return r


def status_json(h):
    r = h.get("/conduktor-auth-status?format=json")
    assert r.status == 200, r
    return r.json()


# -- the four client authentications ---------------------------------------------------
@pytest.mark.parametrize("auth", ["basic", "post", "jwt", "tls"])
def test_each_client_authentication_admits_and_is_cached(httpd, env, auth):
    h = is_httpd(httpd, env, auth)
    tok = env.active(opaque())
    r1, r2 = get(h, tok), get(h, tok)
    assert r1.status == 200 and r2.status == 200, (r1, r2)
    assert env.calls(tok) == 1, "the answer was not reused"
    seen = env.ep.seen[-1]
    assert seen["ok"] and seen["auth"] == auth, seen
    assert seen["form"]["token"] == tok and seen["form"]["token_type_hint"] == "access_token"
    if auth == "basic":
        assert "client_secret" not in seen["form"] and "client_id" not in seen["form"]
    e = h.last_access()
    assert (e["user"], e["issuer"], e["credential"], e["error"]) == \
        ("alice@example.test", env.iss, "introspected", "-"), e
    # The backend gets the opaque token as it came.
    assert headers_named(r2.echo, "Authorization") == ["Bearer " + tok]


@pytest.mark.parametrize("auth,wrong", [
    ("basic", "secret"),       # a secret the IdP does not know
    ("post", "method"),        # rs-basic's secret sent as client_secret_post
    ("jwt", "key"),            # an assertion signed with another key
    ("tls", "cert"),           # a certificate of another client
])
def test_refused_client_authentication_is_503(httpd, env, auth, wrong):
    """The IdP answers 401 invalid_client: that is not an answer about the
    token, so the module fails closed (503), never 401 nor 200."""
    if wrong == "secret":
        args = "client_id=rs-basic secret=file:%s" % env.wrong_file
    elif wrong == "method":
        args = "client_id=rs-basic secret=file:%s auth=post" % env.secret_file
    elif wrong == "key":
        args = "client_id=rs-jwt private_key=file:%s" % env.other_key_file
    else:
        args = "client_id=rs-tls client_cert=file:%s client_key=file:%s" % (
            env.other_cert, env.other_cert_key)
    env.auth_args = lambda a, args=args: args
    h = is_httpd(httpd, env, auth, expect_log=[FAILED])
    h.secrets.add("not-the-secret-of-rs-basic")
    tok = env.active(opaque())
    r = get(h, tok)
    assert_unavailable(r)
    assert h.last_access()["error"] == "introspection_unavailable"
    assert env.ep.seen[-1]["ok"] is False, env.ep.seen[-1]
    assert any(re.search(FAILED + r".*HTTP status 401", l)
               for l in h.read_error_log().splitlines())


def test_discover_finds_the_endpoint(httpd, env):
    h = is_httpd(httpd, env, endpoint="discover")
    tok = env.active(opaque())
    assert get(h, tok).status == 200
    assert env.calls(tok) == 1


# -- what the answer says -----------------------------------------------------------------
# (case, answer members changed, status, CONDUKTOR_AUTH_ERROR); exp/nbf
# relative to now. One httpd for all: each row is its own token.
ANSWERS = [
    ("inactive", {"active": False}, 401, "token_inactive"),
    ("expired", {"exp": -400}, 401, "token_expired"),
    ("wrong_audience", {"aud": "api://elsewhere"}, 401, "wrong_audience"),
    ("no_audience", {"aud": None}, 401, "wrong_audience"),
    ("wrong_issuer", {"iss": "https://evil.example.test"}, 401, "wrong_issuer"),
    ("not_yet_valid", {"nbf": 4000}, 401, "token_not_yet_valid"),
    ("exp_not_a_number", {"exp": "tomorrow"}, 401, "bad_time_claim"),
    ("no_exp", {"exp": None}, 200, "-"),
    ("own_issuer", {"iss": "{iss}"}, 200, "-"),
]


def test_answers(httpd, env):
    h = is_httpd(httpd, env)
    now = int(time.time())
    for case, answer, status, error in ANSWERS:
        tok = opaque()
        if case == "inactive":
            env.ep.answers[tok] = answer
        else:
            a = {}
            for k, v in answer.items():
                if k in ("exp", "nbf") and isinstance(v, int):
                    v = now + v
                a[k] = env.iss if v == "{iss}" else v
            env.active(tok, **a)
        r = get(h, tok)
        e = h.last_access()
        if status == 200:
            assert r.status == 200, (case, r)
        else:
            assert r.status == status, (case, r)
            assert_denied(r, status, "invalid_token", token=tok)
        assert e["error"] == error, (case, e)
        assert env.calls(tok) == 1, case


def test_answer_without_aud_passes_only_audience_star(httpd, env):
    h = is_httpd(httpd, env, audience="*")
    tok = env.active(opaque(), aud=None)
    assert get(h, tok).status == 200


def test_identity_and_require_group(httpd, env):
    h = is_httpd(httpd, env, extra=["ConduktorAuthIdentityHeader email X-Auth-Email",
                                    "ConduktorAuthIdentityHeader groups X-Auth-Groups",
                                    "ConduktorAuthClaimEnv scope CKA_SCOPE",
                                    "ConduktorAuthUserClaim username"],
                 require="Require conduktor-group platform-team")
    tok = env.active(opaque(), groups=["platform-team", "kafka-admins"])
    r = get(h, tok)
    assert r.status == 200, r
    assert headers_named(r.echo, "X-Auth-Email") == ["alice@example.test"]
    assert headers_named(r.echo, "X-Auth-Groups") == ["platform-team,kafka-admins"]
    e = h.last_access()
    assert (e["user"], e["subject"], e["groups"]) == \
        ("alice", "user-7", "platform-team,kafka-admins"), e
    other = env.active(opaque(), groups=["marketing"])
    r = get(h, other)
    assert_denied(r, 403, "insufficient_scope", token=other)
    assert h.last_access()["error"] == "group_denied"


def test_require_credential_introspected(httpd, env):
    h = is_httpd(httpd, env, require="Require conduktor-credential introspected")
    tok = env.active(opaque())
    assert get(h, tok).status == 200
    assert h.last_access()["credential"] == "introspected"
    # A JWT of the same issuer is a jwt, not introspected: denied.
    jwt = env.key.token(env.iss)
    r = get(h, jwt)
    assert_denied(r, 403, "insufficient_scope", token=jwt)
    e = h.last_access()
    assert (e["credential"], e["error"]) == ("jwt", "credential_denied"), e


# -- caching ----------------------------------------------------------------------------------
def test_revocation_visible_within_the_ttl(httpd, env):
    h = is_httpd(httpd, env, ttl=2)
    tok = env.active(opaque())
    t0 = time.monotonic()
    assert get(h, tok).status == 200
    env.ep.answers[tok] = {"active": False}          # revoked at the IdP
    assert get(h, tok).status == 200                 # the cached answer, within the TTL
    assert env.calls(tok) == 1
    time.sleep(max(0.0, t0 + 2 + 1.1 - time.monotonic()))
    r = get(h, tok)
    assert_denied(r, 401, "invalid_token", token=tok)
    assert h.last_access()["error"] == "token_inactive"
    assert env.calls(tok) == 2


def test_active_answer_reused_no_longer_than_its_exp(httpd, env):
    h = is_httpd(httpd, env, ttl=60, extra=["ConduktorAuthClockSkew 0"])
    tok = env.active(opaque(), exp=int(time.time()) + 2)
    assert get(h, tok).status == 200
    time.sleep(2.2)
    r = get(h, tok)
    assert_denied(r, 401, "invalid_token", token=tok)
    assert h.last_access()["error"] == "token_expired"


def test_negative_caching(httpd, env):
    # Inactive answers are kept per process (never shared): one process.
    h = is_httpd(httpd, env, ttl=2, global_=ONE_PROCESS, mpm="event")
    tok = opaque()
    env.ep.answers[tok] = {"active": False}
    t0 = time.monotonic()
    for _ in range(3):
        assert_denied(get(h, tok), 401, "invalid_token", token=tok)
    assert env.calls(tok) == 1, "an inactive answer was not remembered"
    env.active(tok)
    time.sleep(max(0.0, t0 + 2 + 1.1 - time.monotonic()))
    assert get(h, tok).status == 200
    assert env.calls(tok) == 2


def test_concurrent_identical_requests_one_call(httpd, env):
    h = is_httpd(httpd, env, global_=ONE_PROCESS, mpm="event")
    tok = env.active(opaque(), _delay=1.0)
    h.secrets.add(tok)
    out = []
    lock = threading.Lock()

    def run():
        r = get(h, tok, ordered=False)
        with lock:
            out.append(r.status)

    ts = [threading.Thread(target=run) for _ in range(16)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(30)
    assert out == [200] * 16, out
    assert env.calls(tok) == 1, "%d calls for one token" % env.calls(tok)


def test_concurrent_requests_across_processes_at_most_one_per_process(httpd, env):
    conf = FOUR_PROCESSES if harness.default_mpm() != "prefork" else ""
    h = is_httpd(httpd, env, global_=conf)
    tok = env.active(opaque(), _delay=1.0)
    h.secrets.add(tok)
    out = []
    ts = [threading.Thread(target=lambda: out.append(get(h, tok, ordered=False).status))
          for _ in range(16)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(30)
    h._wait_logged(5)
    pids = {e["pid"] for e in h.access_entries() if e["path"] == PATH}
    assert out == [200] * 16, out
    assert 1 <= env.calls(tok) <= len(pids), (env.calls(tok), pids)


def test_two_httpd_sharing_redis_share_answers(httpd, env, cache_server):
    cache = cache_server("redis")
    h1 = is_httpd(httpd, env, global_=cache.global_conf())
    h2 = is_httpd(httpd, env, global_=cache.global_conf())
    tok = env.active(opaque())
    assert get(h1, tok).status == 200
    assert get(h2, tok).status == 200
    assert env.calls(tok) == 1, "host 2 asked the IdP again"
    # An inactive answer is about a token nobody presented successfully:
    # kept per process, never written to the shared store (SPEC).
    inactive = opaque()
    env.ep.answers[inactive] = {"active": False}
    before = cache.items()
    assert_denied(get(h1, inactive), 401, "invalid_token")
    assert_denied(get(h2, inactive), 401, "invalid_token")
    assert env.calls(inactive) == 2, "an inactive answer was shared"
    assert cache.items() == before, "an inactive answer was written to redis"
    # A host asking as another client (another introspection binding)
    # does not honour the records of the first.
    h3 = is_httpd(httpd, env, "post", global_=cache.global_conf())
    assert get(h3, tok).status == 200
    assert env.calls(tok) == 2, "a record of another introspection configuration was used"
    # Nothing readable in the cache: no token, no identity.
    keys = redis_call(cache, b"KEYS", b"*")
    dump = b"".join(redis_call(cache, b"GET", k) or b"" for k in keys) + b"".join(keys)
    for piece in [tok, inactive, "alice@example.test", "platform-team", SECRET]:
        assert piece.encode() not in dump, piece


# -- failing closed ------------------------------------------------------------------------------
@pytest.mark.parametrize("mode", ["down", "slow", "status500", "not_json", "oversized",
                                  "active_string", "close"])
def test_failures_are_503_with_retry_after(httpd, env, mode):
    h = is_httpd(httpd, env, timeout=1, expect_log=[FAILED])
    tok = opaque()
    env.active(tok)
    if mode == "down":
        env.idp.stop()
    elif mode == "slow":
        env.ep.answers[tok]["_delay"] = 3
    elif mode == "status500":
        env.ep.answers[tok]["_status"] = 500
    elif mode == "not_json":
        env.ep.answers[tok] = {"_raw": "<html>active</html>"}
    elif mode == "oversized":
        env.ep.answers[tok] = {"_raw": json.dumps({"active": True, "pad": "x" * 70000})}
    elif mode == "active_string":
        env.ep.answers[tok] = {"active": "true"}
    else:
        env.ep.set(close=True)
    r = get(h, tok)
    assert_unavailable(r)
    assert h.last_access()["error"] == "introspection_unavailable"
    assert r.elapsed < 1 + 1.5, r.elapsed
    errors = [l for l in h.read_error_log().splitlines() if re.search(FAILED, l)]
    assert len(errors) == 1, errors


def test_failure_burst_logged_once_across_processes(httpd, env):
    """Failing calls from several processes, past the 1 s hold: one error
    line for the burst; counted per issuer on the status page."""
    conf = FOUR_PROCESSES if harness.default_mpm() != "prefork" else ""
    h = is_httpd(httpd, env, global_=conf, expect_log=[FAILED])
    toks = [env.active(opaque(), _status=500) for _ in range(6)]
    out = []
    ts = [threading.Thread(target=lambda t=t: out.append(get(h, t, ordered=False).status))
          for t in toks[:3]]
    for t in ts:
        t.start()
    for t in ts:
        t.join(30)
    time.sleep(1.1)
    out += [get(h, t, ordered=False).status for t in toks[3:]]
    assert out == [503] * 6, out
    errors = [l for l in h.read_error_log().splitlines() if re.search(FAILED, l)]
    assert len(errors) == 1, errors
    c = status_json(h)["introspection"]
    assert c[0]["issuer"] == env.iss and c[0]["failed"] >= 2, c


def test_recovers_after_failure_and_counts(httpd, env):
    h = is_httpd(httpd, env, expect_log=[FAILED])
    bad = opaque()
    env.active(bad, _status=500)
    assert get(h, bad).status == 503
    time.sleep(1.1)                     # the failure is held for 1 s
    tok = env.active(opaque())
    assert get(h, tok).status == 200
    assert get(h, tok).status == 200
    gone = opaque()
    env.ep.answers[gone] = {"active": False}
    assert get(h, gone).status == 401
    c = status_json(h)["introspection"][0]
    assert (c["active"], c["inactive"], c["failed"], c["cached"]) == (1, 1, 1, 1), c
    text = h.get("/conduktor-auth-status").text
    assert 'conduktor_auth_introspection_total{issuer="%s",result="active"} 1' % env.iss in text
    assert 'conduktor_auth_introspection_total{issuer="%s",result="failed"} 1' % env.iss in text
    assert re.search(r"\[conduktor_auth:notice\] .*introspection for issuer \S+ at \S+ "
                     r"answers again", h.read_error_log())


def test_no_secret_or_token_in_the_logs_at_debug(httpd, env):
    """LogLevel trace8 for the module (the harness default): the secrets
    and tokens are in h.secrets, which the harness looks for in every log
    line after the test; here also explicitly, with a failure logged."""
    h = is_httpd(httpd, env, "post", expect_log=[FAILED])
    tok = env.active(opaque())
    assert get(h, tok).status == 200
    bad = env.active(opaque(), _status=500)
    assert get(h, bad).status == 503
    log = h.read_error_log()
    assert "introspection for issuer" in log
    for s in (SECRET, POST_SECRET, tok, bad):
        assert s not in log


# -- ConduktorAuthIntrospectJWT ---------------------------------------------------------------------
def test_introspect_jwt_revokes_a_jwt(httpd, env):
    h = is_httpd(httpd, env, ttl=1, extra=["ConduktorAuthIntrospectJWT On"])
    jwt = env.key.token(env.iss)
    env.ep.answers[jwt] = {"active": True}
    assert get(h, jwt).status == 200
    assert env.calls(jwt) == 1
    assert h.last_access()["credential"] == "jwt"
    env.ep.answers[jwt] = {"active": False}
    time.sleep(1.6)
    r = get(h, jwt)
    assert_denied(r, 401, "invalid_token", token=jwt)
    assert h.last_access()["error"] == "token_inactive"
    # Without the directive the same JWT is not introspected.
    plain = is_httpd(httpd, env)
    assert get(plain, jwt).status == 200
    assert env.calls(jwt) == 2


def test_opaque_token_without_introspect_mode_is_refused(httpd, env):
    """ConduktorAuthIntrospect alone does not admit opaque tokens: the
    location must say introspect."""
    location = protect()
    lines = remote_issuer(env.pki, env.iss, timeout=2) + [
        "ConduktorAuthIntrospect %s %s %s" % (env.iss, env.endpoint, env.auth_args("basic"))]
    h = httpd(location, issuers=lines)
    h.secrets.add(SECRET)
    tok = env.active(opaque())
    assert_denied(get(h, tok), 401, "invalid_token")
    assert h.last_access()["error"] == "opaque_token_refused"
    assert env.calls() == 0


# -- memcheck ----------------------------------------------------------------------------------
@pytest.mark.parametrize("auth", ["jwt", "tls"])
def test_introspection_paths_under_memcheck(vg_factory, env, auth):  # noqa: F811
    """httpd -X under valgrind memcheck: an active answer and its reuse, an
    inactive one, a refused answer (wrong audience), a failing endpoint,
    with the client authentications that use OpenSSL beyond TLS (a signed
    assertion) or curl's certificate blobs; no memcheck error in the module."""
    from test_valgrind import check_memcheck
    issuers = remote_issuer(env.pki, env.iss, timeout=60, miss=60) + [
        "ConduktorAuthIntrospect %s %s %s" % (env.iss, env.endpoint, env.auth_args(auth))]
    location = protect("ConduktorAuthOpaqueTokens introspect %s" % env.iss)
    v = vg_factory(issuers, location, STATUS)
    v.h.secrets.update([SECRET, POST_SECRET])
    failure = None
    try:
        tok = env.active(opaque())
        assert get(v.h, tok).status == 200
        assert get(v.h, tok).status == 200
        gone = opaque()
        env.ep.answers[gone] = {"active": False}
        assert get(v.h, gone).status == 401
        assert get(v.h, env.active(opaque(), aud="elsewhere")).status == 401
        v.h.expect_log(FAILED)
        assert get(v.h, env.active(opaque(), _status=500)).status == 503
        assert env.calls() == 4, env.calls()
    except Exception as e:      # noqa: BLE001 - re-raised by check_memcheck
        failure = e
    check_memcheck(v, failure)


# -- the directives ----------------------------------------------------------------------------------
def test_bad_directive_values_refused_at_config_time(apachectl_t, env, tmp_path):
    iss = env.iss
    base = remote_issuer(env.pki, iss)
    big = tmp_path / "big.secret"
    big.write_text("x" * 5000)
    cases = [
        ("%s http://idp.test/i %s" % (iss, env.auth_args("basic")), "invalid introspection endpoint"),
        ("%s %s" % (iss, env.endpoint), "too few arguments"),
        ("%s %s secret=file:%s" % (iss, env.endpoint, env.secret_file), "client_id=<id> is missing"),
        ("%s %s client_id=x" % (iss, env.endpoint), "exactly one client authentication"),
        ("%s %s client_id=x secret=file:%s private_key=file:%s"
         % (iss, env.endpoint, env.secret_file, env.key_file), "exactly one client authentication"),
        ("%s %s client_id=x secret=%s" % (iss, env.endpoint, SECRET), "must come from a file"),
        ("%s %s client_id=x secret=file:/nonexistent" % (iss, env.endpoint), "cannot read the secret file"),
        ("%s %s client_id=x secret=file:%s" % (iss, env.endpoint, big), "larger than 4096"),
        ("%s %s client_id=x secret=file:%s auth=jwt" % (iss, env.endpoint, env.secret_file), "unknown client authentication"),
        ("%s %s client_id=x private_key=file:%s auth=post" % (iss, env.endpoint, env.key_file), "auth= goes with secret="),
        ("%s %s client_id=x private_key=file:%s" % (iss, env.endpoint, env.secret_file), "holds no PEM private key"),
        ("%s %s client_id=x client_cert=file:%s" % (iss, env.endpoint, env.cert), "needs both"),
        ("%s %s client_id=x client_cert=file:%s client_key=file:%s"
         % (iss, env.endpoint, env.cert, env.other_cert_key), "does not belong"),
        ("%s %s client_id=x colour=blue" % (iss, env.endpoint), "unknown parameter"),
        ("https://not-configured.test %s %s" % (env.endpoint, env.auth_args("basic")), "not a ConduktorAuthIssuer"),
    ]
    for args, what in cases:
        rc, out = apachectl_t("", issuers=base + ["ConduktorAuthIntrospect " + args])
        assert rc != 0, (args, out)
        assert "ConduktorAuthIntrospect" in out, (args, out)
        assert what in out, (args, what, out)
        assert SECRET not in out
    for line, what in [("ConduktorAuthIntrospectTTL 0", "invalid number of seconds"),
                       ("ConduktorAuthIntrospectTTL soon", "invalid number of seconds")]:
        rc, out = apachectl_t("", issuers=base + [line])
        assert rc != 0 and what in out, out
    for loc, what in [
        (protect("ConduktorAuthOpaqueTokens introspect"), "needs the issuer"),
        (protect("ConduktorAuthOpaqueTokens pass %s" % iss), "only introspect takes an issuer"),
        (protect("ConduktorAuthOpaqueTokens introspect %s" % iss), "no ConduktorAuthIntrospect"),
        (protect("ConduktorAuthIntrospectJWT maybe"), "ConduktorAuthIntrospectJWT"),
    ]:
        rc, out = apachectl_t(loc, issuers=base)
        assert rc != 0 and what in out, (loc, out)


def test_good_directive_values_pass_config_check(apachectl_t, env):
    base = remote_issuer(env.pki, env.iss)
    for auth in ("basic", "post", "jwt", "tls"):
        rc, out = apachectl_t(protect("ConduktorAuthOpaqueTokens introspect %s" % env.iss,
                                      "ConduktorAuthIntrospectJWT On"),
                              issuers=base + ["ConduktorAuthIntrospect %s discover %s"
                                              % (env.iss, env.auth_args(auth)),
                                              "ConduktorAuthIntrospectTTL 30"])
        assert rc == 0, (auth, out)


# -- issue 23: revocation as fast as the strictest reader, failures held narrowly -----------------
@pytest.mark.parametrize("token_type", ["refresh_token", "Refresh", "ID",
                                        "urn:ietf:params:oauth:token-type:refresh_token"])
def test_answer_for_a_refresh_token_is_inactive(httpd, env, token_type):
    h = is_httpd(httpd, env)
    tok = env.active(opaque(), token_type=token_type)
    assert_denied(get(h, tok), 401, "invalid_token", token=tok)
    assert h.last_access()["error"] == "token_inactive"
    ok = env.active(opaque(), token_type="Bearer")
    assert get(h, ok).status == 200


def test_each_reader_caps_a_shared_answer_by_its_own_ttl(httpd, env, cache_server):
    """Two hosts sharing redis, one with ConduktorAuthIntrospectTTL 30, one
    with 1: a token revoked at the IdP stops working on the strict host
    within its TTL, although the lenient one stored the answer for 30 s."""
    cache = cache_server("redis")
    lenient = is_httpd(httpd, env, ttl=30, global_=cache.global_conf())
    strict = is_httpd(httpd, env, ttl=1, global_=cache.global_conf())
    tok = env.active(opaque())
    assert get(lenient, tok).status == 200
    assert get(strict, tok).status == 200          # the shared answer, fresh
    assert env.calls(tok) == 1
    env.ep.answers[tok] = {"active": False}        # revoked
    time.sleep(1.6)
    r = get(strict, tok)
    assert_denied(r, 401, "invalid_token", token=tok)
    assert strict.last_access()["error"] == "token_inactive"
    assert env.calls(tok) == 2
    assert get(lenient, tok).status == 200, "the lenient host keeps its own 30 s"


def test_two_vhosts_with_different_ttls(httpd, env):
    """The same in one httpd: two virtual hosts, same issuer and client,
    TTL 30 and TTL 1 (one process: the per-process front is shared)."""
    ttl1 = ("<VirtualHost 127.0.0.1:{port}>\n  ServerName strict.test\n%s\n"
            "  ConduktorAuthIntrospect %s %s %s\n  ConduktorAuthIntrospectTTL 1\n"
            "  ProxyPass / {backend}/\n  <Location />\n%s\n  </Location>\n</VirtualHost>"
            % ("\n".join("  " + l for l in remote_issuer(env.pki, env.iss, timeout=2)),
               env.iss, env.endpoint, env.auth_args("basic"),
               protect("ConduktorAuthOpaqueTokens introspect %s" % env.iss)))
    h = is_httpd(httpd, env, ttl=30, global_=ONE_PROCESS + "\n" + ttl1, mpm="event")
    tok = env.active(opaque())
    assert get(h, tok).status == 200
    r = h.request("GET", PATH, token=tok, headers={"Host": "strict.test"})
    assert r.status == 200, r
    assert env.calls(tok) == 1
    env.ep.answers[tok] = {"active": False}
    time.sleep(1.6)
    r = h.request("GET", PATH, token=tok, headers={"Host": "strict.test"})
    assert r.status == 401, r
    assert env.calls(tok) == 2
    # the newer answer (inactive) is what this process now knows, for both
    r = get(h, tok)
    assert r.status == 401, r


def test_a_failing_token_holds_only_itself(httpd, env):
    """An answer about one token (4xx, not JSON) holds that token for 1 s;
    the issuer's other tokens go on. A 5xx holds the issuer."""
    h = is_httpd(httpd, env, expect_log=[FAILED], global_=ONE_PROCESS, mpm="event")
    bad = env.active(opaque(), _status=400)
    good = env.active(opaque())
    assert get(h, bad).status == 503
    r = get(h, good)
    assert r.status == 200, r
    assert get(h, bad).status == 503
    assert env.calls(bad) == 1, "the failed token was asked again within its hold"
    junk = opaque()
    env.ep.answers[junk] = {"_raw": "<html>no</html>"}
    assert get(h, junk).status == 503
    assert get(h, env.active(opaque())).status == 200
    # an anonymous client repeating its failing token does not keep a
    # legitimate user at 503
    out = []
    for _ in range(5):
        assert get(h, bad).status == 503
        out.append(get(h, env.active(opaque())).status)
    assert out == [200] * 5, out


def test_failing_endpoint_holds_the_issuer_briefly(httpd, env):
    # the hold is per process: one process
    h = is_httpd(httpd, env, expect_log=[FAILED], global_=ONE_PROCESS, mpm="event")
    assert get(h, env.active(opaque(), _status=502)).status == 503
    assert get(h, env.active(opaque())).status == 503    # held: 5xx is the endpoint's
    time.sleep(1.1)
    assert get(h, env.active(opaque())).status == 200


def test_anonymous_tokens_write_nothing_to_the_shared_store(httpd, env, cache_server):
    cache = cache_server("redis")
    h = is_httpd(httpd, env, global_=cache.global_conf(), expect_log=[FAILED])
    before = cache.items()
    for _ in range(30):
        assert get(h, opaque()).status == 401              # unknown: inactive
    slow = env.active(opaque(), _status=404)
    assert get(h, slow).status == 503                       # failed
    assert cache.items() == before, "anonymous traffic wrote to the shared store"
    assert get(h, env.active(opaque())).status == 200
    assert cache.items() == before + 1                      # an active answer is shared


def test_introspect_jwt_without_introspect_refused_at_config(apachectl_t, env):
    lines = remote_issuer(env.pki, env.iss)
    rc, out = apachectl_t(protect("ConduktorAuthIntrospectJWT On"), issuers=lines)
    assert rc != 0, out
    assert "ConduktorAuthIntrospectJWT On" in out and env.iss in out, out
    assert "ConduktorAuthIntrospect" in out and "accepted" in out, out
    # with it, fine
    rc, out = apachectl_t(protect("ConduktorAuthIntrospectJWT On"), issuers=lines + [
        "ConduktorAuthIntrospect %s %s %s" % (env.iss, env.endpoint, env.auth_args("basic"))])
    assert rc == 0, out


def test_introspect_jwt_from_htaccess_without_introspect_fails_closed(httpd, env):
    """A .htaccess that turns ConduktorAuthIntrospectJWT On where the issuer
    has no ConduktorAuthIntrospect: 500 not_configured, never admitted
    unintrospected."""
    lines = remote_issuer(env.pki, env.iss, timeout=2)
    h = httpd(protect(), issuers=lines, server="""
  <Location "/htx">
    ProxyPass "!"
  </Location>
  Alias "/htx" "{root}/htdocs/htx"
  <Directory "{root}/htdocs/htx">
    AllowOverride AuthConfig
    AuthType conduktor-jwt
    ConduktorAuthAudience %s
    Require valid-user
  </Directory>""" % AUDIENCE, htdocs={"htx/.htaccess": "ConduktorAuthIntrospectJWT On\n",
                                      "htx/index.json": "{}\n"},
              expect_log=[r"no ConduktorAuthIntrospect for issuer",
                          r"refused: not_configured"])
    jwt = env.key.token(env.iss)
    h.secrets.add(jwt)
    r = h.get("/htx/index.json", token=jwt)
    assert r.status == 500, r
    assert h.last_access()["error"] == "not_configured"
    assert env.calls() == 0
