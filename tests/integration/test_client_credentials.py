"""ConduktorAuthClientCredentials (issue 14, point 4; SPEC "Credentials
other than IdP JWTs"): `Authorization: Basic client_id:secret` exchanged at
the IdP's token endpoint (client_credentials grant, client_secret_basic),
the access token checked like any token and forwarded to the backend as
`Authorization: Bearer <token>`.

A real httpd with real mod_proxy in front of the Conduktor stand-in, the
TLS test IdP (tests/idp/idp_server.py) serving discovery, JWKS and a token
endpoint that mints JWTs with its own key, counting every request; a real
redis-server for the two-host test. What the tests see: the IdP's count of
token requests and what it was sent, the backend's echo of the headers it
got, the access log's CONDUKTOR_AUTH_ERROR and user, the status page's
client_credentials counters, the shared cache's bytes.
"""
import base64
import re
import threading
import time

import pytest

import harness
from harness import AUDIENCE, assert_denied, headers_named, protect
from idp_fixtures import (  # noqa: F401  (pki and idp are fixtures)
    PATH, SigningKey, client_token_minter, idp, jwks, pki, remote_issuer, send)
from test_cache import CacheServer, cache_server  # noqa: F401  (a fixture)
from test_keys_remote import assert_unavailable
from test_valgrind import vg_factory  # noqa: F401  (a fixture)

CLIENT = "ci-pipeline"
SECRET = "ci-pipeline-secret-7c1f0a9d2e"        # >= 16 characters: the log
OTHER = "terraform"                              # check looks for it
OTHER_SECRET = "terraform-secret-4b8e6d2a91c3"
TOKEN_PATH = "/realms/cc/protocol/openid-connect/token"

STATUS = """
<Location "/conduktor-auth-status">
  SetHandler conduktor-auth-status
  Require ip 127.0.0.1
</Location>"""

# One process with threads: single-flight within a process is what is
# promised (event MPM whatever $CKA_MPM says).
ONE_PROCESS = """\
StartServers 1
ServerLimit 1
ThreadsPerChild 32
MaxRequestWorkers 32
MinSpareThreads 1
MaxSpareThreads 32
"""
FOUR_PROCESSES = """\
StartServers 4
ServerLimit 4
ThreadsPerChild 8
MaxRequestWorkers 32
MinSpareThreads 8
MaxSpareThreads 32
"""


def burst(h, n=16):
    """n requests of the same pair at once; their replies."""
    out = []
    lock = threading.Lock()

    def run():
        r = get(h, ordered=False)
        with lock:
            out.append(r)

    ts = [threading.Thread(target=run) for _ in range(n)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(30)
    h._wait_logged(5)
    return out

# The module's lines for a failed exchange (error level, one per attempt).
FAILED = r"\[conduktor_auth:error\] .*client credentials of \S+: (token endpoint|unusable answer)"


def basic(client, secret):
    return base64.b64encode(("%s:%s" % (client, secret)).encode()).decode()


class Env:
    """A TLS IdP with discovery, JWKS and a token endpoint for two clients."""

    def __init__(self, idp_factory, lifetime=300):
        self.idp = idp_factory()
        self.iss = self.idp.url + "/realms/cc"
        self.key = SigningKey("cc-1")
        jwks_path = self.idp.publish_discovery(self.iss)
        self.idp.publish_jwks(jwks_path, jwks(self.key), max_age=300)
        self.ep = self.idp.token_endpoint(
            TOKEN_PATH, client_token_minter(self.key, self.iss, aud=AUDIENCE),
            clients={CLIENT: SECRET, OTHER: OTHER_SECRET}, lifetime=lifetime)
        self.endpoint = self.idp.url + TOKEN_PATH

    def exchanges(self):
        return self.idp.count(TOKEN_PATH)


@pytest.fixture
def env(idp):
    return Env(idp)


def cc_httpd(httpd, pki, env, args="", timeout=2, extra=(), require="Require valid-user",
             **kw):
    location = protect("ConduktorAuthUserClaim client_id sub",
                       "ConduktorAuthClientCredentials %s%s" % (env.endpoint, args),
                       *extra, require=require)
    h = httpd(location, issuers=remote_issuer(pki, env.iss, timeout=timeout),
              server=STATUS, **kw)
    h.secrets.update([SECRET, OTHER_SECRET])
    return h


def get(h, client=CLIENT, secret=SECRET, ordered=True):
    start = time.monotonic()
    r = h.request("GET", PATH, token=basic(client, secret), scheme="Basic", ordered=ordered)
    r.elapsed = time.monotonic() - start
    return r


def forget_tokens(h, env):
    """Every token the IdP issued must stay out of the logs too."""
    h.secrets.update(env.ep.issued)


def counters(h):
    r = h.get("/conduktor-auth-status?format=json")
    assert r.status == 200, r
    return r.json()["client_credentials"]


def assert_forwarded(r, token):
    """The backend got the exchanged token as a Bearer, never the Basic."""
    assert r.status == 200, r
    auth = headers_named(r.echo, "Authorization")
    assert auth == ["Bearer " + token], auth
    for _, value in r.echo["header_list"]:
        assert SECRET not in value and basic(CLIENT, SECRET) not in value


# -- the exchange ----------------------------------------------------------------------
def test_one_exchange_for_many_requests_bearer_forwarded(httpd, pki, env):
    h = cc_httpd(httpd, pki, env, " scope=kafka:read")
    replies = [get(h) for _ in range(6)]
    forget_tokens(h, env)
    assert env.exchanges() == 1, "the exchanged token was not reused"
    assert len(env.ep.issued) == 1
    for r in replies:
        assert_forwarded(r, env.ep.issued[0])
    # What the IdP was sent: client_secret_basic, the grant and the scope.
    seen = env.ep.seen[0]
    assert seen["scheme"] == "Basic" and seen["client"] == CLIENT and seen["secret_ok"], seen
    assert seen["form"] == {"grant_type": "client_credentials", "scope": "kafka:read"}, seen
    # The token was checked like any other: the identity is the client's.
    e = h.last_access()
    assert (e["user"], e["issuer"], e["error"]) == (CLIENT, env.iss, "-"), e
    assert counters(h) == {"exchanged": 1, "reused": 5, "refused": 0, "failed": 0}


def test_resource_and_audience_are_sent(httpd, pki, env):
    h = cc_httpd(httpd, pki, env, " resource=https://conduktor.example.test/api "
                 "audience=%s" % AUDIENCE)
    r = get(h)
    forget_tokens(h, env)
    assert_forwarded(r, env.ep.issued[0])
    assert env.ep.seen[0]["form"] == {"grant_type": "client_credentials",
                                      "resource": "https://conduktor.example.test/api",
                                      "audience": AUDIENCE}


def test_each_pair_its_own_token(httpd, pki, env):
    """Two clients, two exchanges and two tokens; neither is served the
    other's."""
    h = cc_httpd(httpd, pki, env)
    a1, b1, a2, b2 = get(h), get(h, OTHER, OTHER_SECRET), get(h), get(h, OTHER, OTHER_SECRET)
    forget_tokens(h, env)
    assert env.exchanges() == 2
    assert_forwarded(a1, env.ep.issued[0])
    assert_forwarded(a2, env.ep.issued[0])
    assert_forwarded(b1, env.ep.issued[1])
    assert_forwarded(b2, env.ep.issued[1])


def test_forward_token_off_removes_both(httpd, pki, env):
    """ConduktorAuthForwardToken Off: the backend gets no Authorization at
    all, neither the Basic value nor the exchanged token."""
    h = cc_httpd(httpd, pki, env, extra=["ConduktorAuthForwardToken Off"])
    r = get(h)
    forget_tokens(h, env)
    assert r.status == 200, r
    assert headers_named(r.echo, "Authorization") == []
    assert h.last_access()["user"] == CLIENT


def test_exchanged_token_still_checked(httpd, pki, env):
    """The token the IdP hands out goes through every check: one for
    another audience is refused (401 wrong_audience), not forwarded."""
    h = cc_httpd(httpd, pki, env, " audience=api://somewhere-else")
    r = get(h)
    forget_tokens(h, env)
    assert_denied(r, 401, "invalid_token")
    assert h.last_access()["error"] == "wrong_audience"


def test_concurrent_requests_one_exchange_per_process(httpd, pki, env):
    """16 requests at once while the IdP takes 1 s to answer: one process,
    one exchange; the others waited for it."""
    env.ep.set(delay=1.0)
    h = cc_httpd(httpd, pki, env, global_=ONE_PROCESS, mpm="event")
    assert get(h, OTHER, OTHER_SECRET).status == 200     # the issuer's keys first
    out = burst(h)
    forget_tokens(h, env)
    assert len(out) == 16
    assert [r.status for r in out] == [200] * 16, [r for r in out if r.status != 200][:2]
    assert env.exchanges() == 2, "%d exchanges for one pair" % (env.exchanges() - 1)
    pids = {e["pid"] for e in h.access_entries() if e["path"] == PATH}
    assert len(pids) == 1, pids
    assert counters(h)["reused"] == 15


def test_concurrent_requests_across_processes_at_most_one_per_process(httpd, pki, env):
    """16 requests at once over several processes: the pending marker in the
    shared cache (shmcb) makes the other processes wait for the first
    exchange; it is no lock, so at most one exchange per process is what
    can be promised (1-2 were seen on a 2-core machine)."""
    env.ep.set(delay=1.0)
    conf = FOUR_PROCESSES if harness.default_mpm() != "prefork" else ""
    h = cc_httpd(httpd, pki, env, global_=conf)
    # The issuer's keys first (a burst before any key set was obtained
    # gets 503 from the key store's own single-flight fetch).
    assert get(h, OTHER, OTHER_SECRET).status == 200
    out = burst(h)
    forget_tokens(h, env)
    assert [r.status for r in out] == [200] * 16
    pids = {e["pid"] for e in h.access_entries() if e["path"] == PATH}
    assert 1 <= env.exchanges() - 1 <= len(pids), (env.exchanges() - 1, pids)
    print("\n[client-credentials] burst over %d processes: %d exchange(s)" % (len(pids), env.exchanges() - 1))


def test_renewed_after_expiry(httpd, pki, idp):
    """A token living 33 s is reused until 30 s before its exp (3 s), then
    exchanged again; the backend gets the new one."""
    env = Env(idp, lifetime=33)
    h = cc_httpd(httpd, pki, env)
    start = time.time()
    first = get(h)
    second = get(h)
    assert time.time() - start < 2, "too slow a machine for this test's timing"
    assert env.exchanges() == 1
    time.sleep(max(0.0, start + 4.2 - time.time()))
    third = get(h)
    forget_tokens(h, env)
    assert env.exchanges() == 2, "not exchanged again 30 s before exp"
    assert_forwarded(first, env.ep.issued[0])
    assert_forwarded(second, env.ep.issued[0])
    assert_forwarded(third, env.ep.issued[1])
    assert env.ep.issued[0] != env.ep.issued[1]


# -- refusals and failures -----------------------------------------------------------------
def test_wrong_secret_refused_and_not_retried_for_5s(httpd, pki, env, backend):
    # A refusal is remembered per process (never shared): one process.
    h = cc_httpd(httpd, pki, env, global_=ONE_PROCESS, mpm="event")
    wrong = "not-the-secret-of-ci-pipeline"
    h.secrets.add(wrong)
    before = len(backend.requests())
    r = get(h, CLIENT, wrong)
    assert_denied(r, 401, "invalid_token")
    assert h.last_access()["error"] == "client_credentials_refused"
    for piece in (wrong, basic(CLIENT, wrong)):      # nothing of it echoed
        assert piece not in r.text + str(r.headers), "the credential in the answer"
    t0 = time.time()
    for _ in range(3):
        assert_denied(get(h, CLIENT, wrong), 401, "invalid_token")
    assert env.exchanges() == 1, "a refused pair was sent to the IdP again within 5 s"
    # The right secret is not held back by the wrong one's refusal.
    good = get(h)
    forget_tokens(h, env)
    assert_forwarded(good, env.ep.issued[0])
    assert env.exchanges() == 2
    assert len(backend.requests()) == before + 1, "a refused request reached the backend"
    # After the 5 s the IdP is asked again.
    time.sleep(max(0.0, t0 + 5.5 - time.time()))
    assert_denied(get(h, CLIENT, wrong), 401, "invalid_token")
    assert env.exchanges() == 3
    c = counters(h)
    assert (c["refused"], c["exchanged"]) == (5, 1), c


def test_idp_down_is_503_with_retry_after(httpd, pki, env):
    h = cc_httpd(httpd, pki, env, expect_log=[FAILED])
    assert get(h).status == 200          # keys fetched while the IdP was up
    env.idp.stop()
    h2_client, h2_secret = OTHER, OTHER_SECRET        # a pair not exchanged yet
    r = get(h, h2_client, h2_secret)
    assert_unavailable(r)
    assert h.last_access()["error"] == "token_endpoint_unavailable"
    assert r.elapsed < 3, r.elapsed
    # The pair exchanged before keeps working: its token is reused.
    assert get(h).status == 200
    forget_tokens(h, env)
    assert any(re.search(FAILED, l) for l in h.read_error_log().splitlines())


def test_slow_idp_bounded_by_http_timeout(httpd, pki, env):
    h = cc_httpd(httpd, pki, env, timeout=2, expect_log=[FAILED])
    assert get(h, OTHER, OTHER_SECRET).status == 200     # keys fetched
    env.ep.set(delay=6.0)
    r = get(h)
    assert_unavailable(r)
    assert h.last_access()["error"] == "token_endpoint_unavailable"
    assert 1.5 <= r.elapsed < 2 + 1.5, "waited %.2f s with ConduktorAuthHTTPTimeout 2" % r.elapsed
    env.ep.set(delay=0.0)
    time.sleep(1.2)                      # the failure is held for 1 s
    assert get(h).status == 200
    forget_tokens(h, env)


@pytest.mark.parametrize("mode", ["status500", "html200", "dpop", "no_token_type",
                                  "unsupported_grant_type", "close"])
def test_unusable_answers_are_503(httpd, pki, env, mode):
    h = cc_httpd(httpd, pki, env, expect_log=[FAILED])
    if mode == "status500":
        env.ep.set(status=500, body={"error": "server_error"})
    elif mode == "html200":
        env.ep.set(status=200, body="<html>login</html>", content_type="text/html")
    elif mode == "dpop":
        env.ep.answer = {"token_type": "DPoP", "expires_in": 300}
    elif mode == "no_token_type":
        env.ep.answer = {"expires_in": 300}
    elif mode == "unsupported_grant_type":
        env.ep.set(status=400, body={"error": "unsupported_grant_type"})
    else:
        env.ep.set(close=True)
    r = get(h)
    forget_tokens(h, env)
    assert_unavailable(r)
    assert h.last_access()["error"] == "token_endpoint_unavailable"
    assert env.exchanges() == 1


@pytest.mark.parametrize("value", [
    "not base64!",                                  # not base64
    base64.b64encode(b"no-colon").decode(),
    base64.b64encode(b":only-a-secret").decode(),   # empty client_id
    base64.b64encode(b"ci:bad\x01control").decode(),
    base64.b64encode(b"ci:latin1-\xe9").decode(),   # not UTF-8
    base64.b64encode(b"ci:%zz").decode(),           # bad %-escape
    "",                                             # "Basic" alone
])
def test_malformed_basic_is_401_without_asking_the_idp(httpd, pki, env, value):
    h = cc_httpd(httpd, pki, env)
    r = h.request("GET", PATH, headers={"Authorization": ("Basic " + value).strip()})
    assert_denied(r, 401, "invalid_request")
    assert h.last_access()["error"] == "bad_client_credentials"
    assert env.exchanges() == 0


def test_without_the_directive_basic_is_no_token(httpd, pki, env):
    h = httpd(protect(), issuers=remote_issuer(pki, env.iss))
    h.secrets.add(SECRET)
    r = get(h)
    assert_denied(r, 401)
    assert h.last_access()["error"] == "no_token"
    assert env.exchanges() == 0


# -- two hosts sharing Redis ---------------------------------------------------------------
def test_two_httpd_sharing_redis_one_exchange(httpd, pki, env, cache_server):
    cache = cache_server("redis")
    h1 = cc_httpd(httpd, pki, env, global_=cache.global_conf())
    h2 = cc_httpd(httpd, pki, env, global_=cache.global_conf())
    r1 = get(h1)
    r2 = get(h2)
    r3 = get(h2)
    forget_tokens(h1, env)
    forget_tokens(h2, env)
    assert env.exchanges() == 1, "host 2 exchanged the pair again"
    for r in (r1, r2, r3):
        assert_forwarded(r, env.ep.issued[0])
    assert counters(h2)["reused"] == 2 and counters(h2)["exchanged"] == 0
    # A refusal is not shared: a pair nobody presented successfully writes
    # nothing to the shared store (each host asks once).
    wrong = "wrong-secret-for-the-ci-pipeline"
    h1.secrets.add(wrong)
    h2.secrets.add(wrong)
    before = cache.items()
    assert_denied(get(h1, CLIENT, wrong), 401, "invalid_token")
    assert_denied(get(h2, CLIENT, wrong), 401, "invalid_token")
    assert env.exchanges() == 3
    assert cache.items() == before, "a refusal was written to redis"
    # The shared cache holds neither the pair nor the token in clear.
    keys = redis_call(cache, b"KEYS", b"*")
    dump = b"".join(redis_call(cache, b"GET", k) or b"" for k in keys)
    keys = b"".join(keys)
    assert b"CKS1" in dump
    tok = env.ep.issued[0]
    for piece in [SECRET, wrong, CLIENT, basic(CLIENT, SECRET)] + tok.split("."):
        assert piece.encode() not in dump and piece.encode() not in keys, piece


def _resp(buf, at=0):
    """One RESP value from buf at `at`: (value, next) or None if incomplete."""
    end = buf.find(b"\r\n", at)
    if end < 0:
        return None
    kind, head = buf[at:at + 1], buf[at + 1:end]
    if kind in (b"+", b"-", b":"):
        return head, end + 2
    n = int(head)
    if kind == b"$":
        if n < 0:
            return None, end + 2
        return (buf[end + 2:end + 2 + n], end + 4 + n) if len(buf) >= end + 4 + n else None
    items, pos = [], end + 2
    for _ in range(n):
        got = _resp(buf, pos)
        if got is None:
            return None
        items.append(got[0])
        pos = got[1]
    return items, pos


def redis_call(cache, *args):
    """One Redis command with binary-safe arguments; its parsed reply."""
    cmd = b"*%d\r\n" % len(args) + b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in args)
    reply = cache._talk(cmd, lambda b: _resp(b) is not None)
    return _resp(reply)[0]


def test_two_httpd_sharing_redis_burst(httpd, pki, env, cache_server):
    """8 requests at once on each of two hosts sharing Redis, the IdP taking
    1 s: the pending marker lets one host wait for the other's exchange (a
    marker is no lock: at most one exchange per host is promised)."""
    cache = cache_server("redis")
    glob = cache.global_conf() + "\n" + ONE_PROCESS
    h1 = cc_httpd(httpd, pki, env, global_=glob, mpm="event")
    h2 = cc_httpd(httpd, pki, env, global_=glob, mpm="event")
    for h in (h1, h2):                   # the issuer's keys first, on each host
        assert get(h, OTHER, OTHER_SECRET).status == 200
    env.ep.set(delay=1.0)
    out = []
    ts = [threading.Thread(target=lambda h=h: out.extend(burst(h, 8))) for h in (h1, h2)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(60)
    forget_tokens(h1, env)
    forget_tokens(h2, env)
    assert [r.status for r in out] == [200] * 16, [r for r in out if r.status != 200][:2]
    n = env.exchanges() - 1
    print("\n[client-credentials] burst over two hosts sharing Redis: %d exchange(s)" % n)
    assert 1 <= n <= 2, n


def test_cache_none_still_reused_within_a_process(httpd, pki, env):
    """ConduktorAuthCache none: no shared cache, the pair is still exchanged
    once per process (names from a key of the process's own)."""
    h = cc_httpd(httpd, pki, env, global_="ConduktorAuthCache none\n" + ONE_PROCESS,
                 mpm="event")
    replies = [get(h) for _ in range(4)]
    forget_tokens(h, env)
    assert env.exchanges() == 1
    for r in replies:
        assert_forwarded(r, env.ep.issued[0])


# -- memcheck -----------------------------------------------------------------------------
def test_exchange_paths_under_memcheck(vg_factory, pki, env):
    """httpd -X under valgrind memcheck (tests/integration/test_valgrind.py):
    an exchange, a reuse, a refusal, the remembered refusal, a malformed
    Basic value and a failing endpoint; no memcheck error in the module."""
    from test_valgrind import check_memcheck
    issuers = remote_issuer(pki, env.iss, timeout=60, miss=60)
    location = protect("ConduktorAuthUserClaim client_id sub",
                       "ConduktorAuthClientCredentials %s scope=kafka:read" % env.endpoint)
    v = vg_factory(issuers, location, STATUS)
    v.h.secrets.update([SECRET, OTHER_SECRET])
    failure = None
    try:
        r = get(v.h)
        assert r.status == 200, r
        assert_forwarded(r, env.ep.issued[0])
        assert get(v.h).status == 200
        assert get(v.h, OTHER, "wrong-secret-of-terraform-client").status == 401
        assert get(v.h, OTHER, "wrong-secret-of-terraform-client").status == 401
        r = v.h.request("GET", PATH, headers={"Authorization": "Basic bm8tY29sb24="})
        assert r.status == 401, r
        env.ep.set(status=500, body={"error": "server_error"})
        v.h.expect_log(FAILED)
        assert get(v.h, OTHER, OTHER_SECRET).status == 503
        assert env.exchanges() == 3, env.exchanges()
    except Exception as e:      # noqa: BLE001 - re-raised by check_memcheck
        failure = e
    v.h.secrets.add("wrong-secret-of-terraform-client")
    forget_tokens(v.h, env)
    check_memcheck(v, failure)


# -- the directive ---------------------------------------------------------------------------
@pytest.mark.parametrize("args,what", [
    ("", "token endpoint is missing"),
    ("http://idp.example.test/token", "invalid token endpoint"),
    ("https://", "invalid token endpoint"),
    ("idp.example.test/token", "invalid token endpoint"),
    ("https://idp.example.test/token scope=", "empty or invalid value"),
    ("https://idp.example.test/token colour=blue", "unknown parameter"),
    ("https://idp.example.test/token scope", "invalid parameter"),
    ("https://idp.example.test/token scope=a scope=b", "given twice"),
    ("https://idp.example.test/token resource=not-a-uri", "not an absolute URI"),
    ("https://idp.example.test/token resource=https://x.test/#frag", "not an absolute URI"),
])
def test_bad_directive_values_refused_at_config_time(apachectl_t, args, what):
    rc, out = apachectl_t(protect("ConduktorAuthClientCredentials " + args))
    assert rc != 0, out
    assert "ConduktorAuthClientCredentials" in out, out
    assert what in out, out


def test_good_directive_values_pass_config_check(apachectl_t):
    rc, out = apachectl_t(protect(
        'ConduktorAuthClientCredentials https://idp.example.test/token "scope=a b" '
        "resource=urn:conduktor:api audience=conduktor"))
    assert rc == 0, out


def test_kind_is_client_credentials_and_require_names_it(httpd, pki, env, keys):
    """An exchanged token is of kind client_credentials (not jwt): the log
    says so, and Require conduktor-credential tells the two apart."""
    h = cc_httpd(httpd, pki, env, extra=["ConduktorAuthOpaqueTokens pass"],
                 require="Require conduktor-credential client_credentials")
    r = get(h)
    assert r.status == 200, r
    forget_tokens(h, env)
    log = h.last_access()
    assert log["credential"] == "client_credentials" and log["error"] == "-"
    # A JWT of the same issuer, sent as a bearer token, is a jwt: denied.
    direct = env.ep.issued[-1]
    r = h.get(PATH, token=direct)
    assert_denied(r, 403, error="insufficient_scope", token=direct)
    assert h.last_access()["credential"] == "jwt"
    assert h.last_access()["error"] == "credential_denied"

    only_jwt = cc_httpd(httpd, pki, env, require="Require conduktor-credential jwt")
    r = get(only_jwt)
    assert_denied(r, 403, error="insufficient_scope")
    forget_tokens(only_jwt, env)
    assert only_jwt.last_access()["credential"] == "client_credentials"
    assert only_jwt.get(PATH, token=env.ep.issued[-1]).status == 200


# -- issue 23: refused secrets limited across pairs -------------------------------------------
def test_refused_secrets_limited_per_client_id(httpd, pki, env):
    """Anyone can try secrets through httpd: after 5 refusals for one
    client_id within 60 s the module refuses new pairs of that client_id
    itself, without asking the IdP (whose per-IP lockout would block the
    real clients behind httpd). Other client_ids are not affected."""
    h = cc_httpd(httpd, pki, env, global_=ONE_PROCESS, mpm="event")
    assert get(h, OTHER, OTHER_SECRET).status == 200       # keys, and a token held
    base = env.exchanges()
    for i in range(8):
        wrong = "wrong-secret-%02d-for-the-pipeline" % i
        h.secrets.add(wrong)
        assert_denied(get(h, CLIENT, wrong), 401, "invalid_token")
        assert h.last_access()["error"] == "client_credentials_refused"
    assert env.exchanges() == base + 5, env.exchanges() - base
    assert get(h, OTHER, OTHER_SECRET).status == 200        # held token: reused
    forget_tokens(h, env)
    assert "refused without asking the IdP" in h.read_error_log()


def test_refused_secrets_limited_per_client_address(httpd, pki, env):
    h = cc_httpd(httpd, pki, env, global_=ONE_PROCESS, mpm="event")
    assert get(h, OTHER, OTHER_SECRET).status == 200
    base = env.exchanges()
    for i in range(14):
        client = "someone-%02d" % i
        assert_denied(get(h, client, "guess-%02d-of-a-secret" % i), 401, "invalid_token")
    assert env.exchanges() == base + 10, env.exchanges() - base
    # a pair whose token is already held still passes
    assert get(h, OTHER, OTHER_SECRET).status == 200
    forget_tokens(h, env)
    assert counters(h)["refused"] == 14
