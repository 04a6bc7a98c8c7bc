"""The DPoP replay store (SPEC "Sender-constrained tokens", README "DPoP
replay store"): a proof is accepted at most once on all hosts sharing the
store, for the whole window, across graceful restarts - under a parallel
burst of copies at one host and at two hosts (Redis, memcached, shared
memory), while a flood of other traffic fills the token cache, and across
`apachectl graceful`. A full table refuses new proofs (503) rather than
forgetting old ones; a store that does not answer fails closed with one
log line, not one per request."""
import re
import subprocess
import threading
import time

import pytest

import harness
from harness import protect
from test_cache import STATUS, cache_server, make_secret_file, shared_httpd  # noqa: F401
from test_dpop import bound, dpop_get, ec_key, proof, url  # noqa: F401
from test_valgrind import vg_factory  # noqa: F401  (a fixture)

BURST = 24
# Enough threads for a burst to be a burst on every MPM.
BURST_MPM = """
<IfModule mpm_event_module>
  ThreadsPerChild 25
  MaxRequestWorkers 100
</IfModule>
<IfModule mpm_worker_module>
  ThreadsPerChild 25
  MaxRequestWorkers 100
</IfModule>
<IfModule mpm_prefork_module>
  StartServers 12
  MinSpareServers 12
  MaxSpareServers 24
  MaxRequestWorkers 48
</IfModule>
"""


def burst(targets, tok, prf, n=BURST):
    """Send n copies of one proof at once, spread over targets (httpds);
    return the statuses and the CONDUKTOR_AUTH_ERROR codes of the answers."""
    go = threading.Barrier(n)
    out = [None] * n

    def one(i):
        h = targets[i % len(targets)]
        go.wait(10)
        try:
            out[i] = h.request("GET", harness.CLUSTERS, token=tok, scheme="DPoP",
                               headers=[("DPoP", prf)], ordered=False)
        except Exception as e:   # noqa: BLE001 - reported below
            out[i] = e
    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    errors = [r for r in out if not isinstance(r, harness.Response)]
    assert not errors, errors
    return [r.status for r in out], out


def replay_host(httpd, cache, location=None, **kw):
    glob = cache.global_conf() + "\n" + BURST_MPM
    return httpd(location or protect(), server=STATUS, global_=glob, **kw)


def refusals(h):
    return h.get("/conduktor-auth-status?format=json").json()["dpop"]


# -- a parallel burst of one proof ------------------------------------------------------
@pytest.mark.parametrize("kind", ["redis", "memcache"])
def test_burst_of_one_proof_at_one_host_accepted_once(httpd, cache_server, ec_key, kind):
    cache = cache_server(kind)
    h = replay_host(httpd, cache)
    tok = bound(h, ec_key)
    for _ in range(3):                    # three bursts, three fresh proofs
        prf = proof(ec_key, tok, url(h))
        statuses, answers = burst([h], tok, prf)
        assert statuses.count(200) == 1, statuses
        assert statuses.count(401) == BURST - 1, statuses
        for r in answers:
            if r.status == 401:
                assert r.json()["error"] == "invalid_dpop_proof"
    st = refusals(h)
    assert st["accepted"] == 3
    assert st["refused"]["replay"] == 3 * (BURST - 1)


def test_burst_of_one_proof_at_one_host_shared_memory(httpd, ec_key):
    h = httpd(protect(), server=STATUS, global_=BURST_MPM)
    tok = bound(h, ec_key)
    for _ in range(3):
        statuses, _ = burst([h], tok, proof(ec_key, tok, url(h)))
        assert statuses.count(200) == 1, statuses
        assert statuses.count(401) == BURST - 1, statuses


@pytest.mark.parametrize("kind", ["redis", "memcache"])
def test_burst_of_one_proof_across_two_hosts_accepted_once(httpd, cache_server, ec_key,
                                                           kind):
    cache = cache_server(kind)
    h1 = replay_host(httpd, cache)
    h2 = replay_host(httpd, cache, location=protect(
        "ConduktorAuthPublicURL http://127.0.0.1:%d" % h1.port))
    tok = bound(h1, ec_key)
    for _ in range(3):
        statuses, _ = burst([h1, h2], tok, proof(ec_key, tok, url(h1)))
        assert statuses.count(200) == 1, statuses
        assert statuses.count(401) == BURST - 1, statuses
    assert refusals(h1)["accepted"] + refusals(h2)["accepted"] == 3


def test_explicit_replay_store_beside_a_shmcb_token_cache(httpd, cache_server, ec_key):
    """ConduktorAuthReplayCache redis: while tokens are cached per host."""
    cache = cache_server("redis")
    glob = ("ConduktorAuthReplayCache redis:127.0.0.1:%d\nConduktorAuthCacheSecret file:%s\n"
            % (cache.port, cache.secret_file)) + BURST_MPM
    h1 = httpd(protect(), server=STATUS, global_=glob)
    h2 = httpd(protect("ConduktorAuthPublicURL http://127.0.0.1:%d" % h1.port),
               server=STATUS, global_=glob)
    tok = bound(h1, ec_key)
    before = cache.items()
    statuses, _ = burst([h1, h2], tok, proof(ec_key, tok, url(h1)))
    assert statuses.count(200) == 1, statuses
    assert cache.items() == before + 1, "one replay record in redis"


# -- a flood of other traffic does not make room -----------------------------------------
def test_flood_of_tokens_does_not_evict_a_used_proof(httpd, ec_key):
    """The token cache (shmcb, its default size) is filled many times over
    by distinct tokens while the proof's record is kept in its own store."""
    h = httpd(protect(), server=STATUS, global_=BURST_MPM, loglevel="info")
    tok = bound(h, ec_key)
    prf = proof(ec_key, tok, url(h))
    assert dpop_get(h, tok, prf).status == 200
    tokens = [h.keys.token(sub="flood-%d" % i, email="f%d@example.test" % i,
                           groups=["g%d" % j for j in range(20)]) for i in range(1500)]
    h.secrets.update(tokens)
    failures = []

    def sender(part):
        for t in part:
            r = h.request("GET", harness.CLUSTERS, token=t, ordered=False)
            if r.status != 200:
                failures.append(r.status)
    threads = [threading.Thread(target=sender, args=(tokens[i::4],)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not failures, failures[:5]
    for _ in range(3):
        r = dpop_get(h, tok, prf)
        assert r.status == 401, r
        assert h.last_access()["error"] == "dpop_replay"


# -- graceful restarts ----------------------------------------------------------------------
def generations(h):
    return len(re.findall(r"resuming normal operations", h.read_error_log()))


def graceful(h):
    gen = generations(h)
    p = subprocess.run([harness.APACHE, "-f", h.conf, "-k", "graceful"],
                       env=harness._clean_env(), stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True, timeout=30)
    assert p.returncode == 0, p.stdout
    deadline = time.time() + 10
    while generations(h) <= gen and time.time() < deadline:
        time.sleep(0.05)
    assert generations(h) > gen, "no new generation"
    time.sleep(0.3)        # the new children take the listeners


def test_graceful_restart_between_use_and_replay(httpd, ec_key):
    h = httpd(protect("ConduktorAuthDPoPNonce On"), server=STATUS)
    tok = bound(h, ec_key)
    r = dpop_get(h, tok, proof(ec_key, tok, url(h)))
    nonce = r.header("DPoP-Nonce")
    assert r.status == 401 and nonce
    prf = proof(ec_key, tok, url(h), nonce=nonce)
    r = dpop_get(h, tok, prf)
    assert r.status == 200, r
    later = r.header("DPoP-Nonce")
    graceful(h)
    for _ in range(4):      # every child of the new generation
        r = dpop_get(h, tok, prf)
        assert r.status == 401, r
        assert h.last_access()["error"] == "dpop_replay"
    # the nonce made before the restart is still good
    r = dpop_get(h, tok, proof(ec_key, tok, url(h), nonce=later))
    assert r.status == 200, r


# -- a full table, a store that does not answer ----------------------------------------------
def test_full_table_refuses_new_proofs_and_keeps_old_ones(httpd, ec_key):
    h = httpd(protect(), server=STATUS, global_="ConduktorAuthReplayCache shmcb:4096",
              expect_log=[r"DPoP replay store shmcb:4096 is full"])
    tok = bound(h, ec_key)
    first = proof(ec_key, tok, url(h))
    assert dpop_get(h, tok, first).status == 200
    statuses = []
    for _ in range(130):    # 4096 bytes hold 101 records
        r = dpop_get(h, tok, proof(ec_key, tok, url(h)))
        statuses.append(r.status)
        if r.status == 503:
            assert r.header("Retry-After")
            assert h.last_access()["error"] == "dpop_replay_check_unavailable"
    assert 503 in statuses, statuses
    assert 60 <= statuses.count(200) <= 101, statuses
    r = dpop_get(h, tok, first)
    assert r.status == 401 and h.last_access()["error"] == "dpop_replay"
    st = refusals(h)
    assert st["refused"]["unavailable"] == statuses.count(503)
    # bearer tokens are unaffected
    assert h.get(token=h.mint()).status == 200


@pytest.mark.parametrize("kind", ["redis", "memcache"])
def test_store_down_fails_closed_with_one_log_line(httpd, ec_key, kind, tmp_path):
    port = harness.free_port()
    glob = "ConduktorAuthReplayCache %s:127.0.0.1:%d\nConduktorAuthCacheSecret file:%s" % (
        kind, port, make_secret_file(str(tmp_path)))
    h = httpd(protect(), global_=glob, expect_log=[r"DPoP replay store .* does not answer"])
    tok = bound(h, ec_key)
    pids = set()
    for _ in range(12):
        r = dpop_get(h, tok, proof(ec_key, tok, url(h)))
        assert r.status == 503, r
        assert r.header("Retry-After")
        assert h.last_access()["error"] == "dpop_replay_check_unavailable"
        pids.add(h.last_access()["pid"])
        time.sleep(0.15)
    lines = [ln for ln in h.read_error_log().splitlines() if "does not answer" in ln]
    assert 1 <= len(lines) <= len(pids), lines
    assert h.get(token=h.mint()).status == 200


def test_replay_cache_directive_checked(apachectl_t):
    for bad in ("shmcb:12", "shmcb:lots", "redis:", "redis:host:0", "memcache:h:99999",
                "mongodb:localhost", "redis:a:1,b:2"):
        rc, out = apachectl_t(protect(), global_="ConduktorAuthReplayCache %s" % bad)
        assert rc != 0, bad
        assert "ConduktorAuthReplayCache" in out and bad in out, out
        assert "accepted: shmcb" in out, out
    rc, out = apachectl_t(protect(), global_="ConduktorAuthReplayCache shmcb:65536")
    assert rc == 0, out


def test_replay_store_under_memcheck(vg_factory, ec_key):  # noqa: F811
    """httpd -X under valgrind memcheck: a proof accepted, replayed, and a
    second one, through the shared-memory table; no memcheck error in the
    module (and none at exit, where the table outlives the module)."""
    from test_valgrind import check_memcheck
    v = vg_factory(["ConduktorAuthIssuer %s file:{keys}/jwks.json" % harness.ISSUER],
                   protect(), STATUS)
    failure = None
    try:
        tok = bound(v.h, ec_key)
        prf = proof(ec_key, tok, url(v.h))
        assert dpop_get(v.h, tok, prf).status == 200
        assert dpop_get(v.h, tok, prf).status == 401
        assert dpop_get(v.h, tok, proof(ec_key, tok, url(v.h))).status == 200
    except Exception as e:      # noqa: BLE001 - re-raised by check_memcheck
        failure = e
    check_memcheck(v, failure)
