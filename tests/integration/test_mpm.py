"""The worker and prefork MPMs (issue 6, item 4; SPEC "all three MPMs").

Every other integration test runs on the event MPM (the harness default).
Here a representative set of scenarios runs on worker and on prefork, each
httpd configured with several small child processes so that requests held
open at once on keep-alive connections are served by different processes:

- a valid token: 200, identity in the access log;
- denials: no token, expired, bad signature (401), group denial (403);
- a CORS preflight answered by the module (204, never at the backend);
- one token on several processes: verified once, every later request is a
  cache hit (the shared shmcb cache), counted across processes;
- keys from the TLS test IdP (remote JWKS): fetched once for all the
  processes, tokens signed with them pass everywhere.

The whole integration suite can also be run on another MPM:
    CKA_MPM=worker /usr/bin/python3 -m pytest -q tests/integration
    CKA_MPM=prefork /usr/bin/python3 -m pytest -q tests/integration
"""
import http.client
import uuid

import pytest

from harness import AUDIENCE, CLUSTERS, assert_denied, protect
from idp_fixtures import PATH, SigningKey, idp, jwks, pki, remote_issuer  # noqa: F401

ORIGIN = "https://backstage.example.test"
SERVER = """
<Location "/conduktor-auth-status">
  SetHandler conduktor-auth-status
  Require ip 127.0.0.1
</Location>
<Location "/admins/">
  AuthType conduktor-jwt
  AuthName "Conduktor"
  ConduktorAuthAudience %s
  Require conduktor-group admins
</Location>""" % AUDIENCE

# Small processes, so that a few connections held open need several of
# them; a long keep-alive, so that a slow machine does not close them.
MPM_CONF = {
    "worker": """
StartServers 3
ServerLimit 3
ThreadsPerChild 2
MaxRequestWorkers 6
MinSpareThreads 2
MaxSpareThreads 6
KeepAliveTimeout 30""",
    "prefork": """
StartServers 4
MinSpareServers 4
MaxSpareServers 8
KeepAliveTimeout 30""",
}
CONNS = 4
MPMS = ["worker", "prefork"]


def spread(h, path, tokens, rounds=3):
    """Send tokens over CONNS keep-alive connections held open at once
    (round after round); return the statuses and the set of child pids
    that answered (from the access log)."""
    if callable(tokens):
        make = tokens
    else:
        make = lambda i: tokens  # noqa: E731
    h._wait_logged(3.0)
    before = h._sent
    conns = [http.client.HTTPConnection("127.0.0.1", h.port, timeout=15)
             for _ in range(CONNS)]
    statuses = []
    try:
        for rnd in range(rounds):
            for i, c in enumerate(conns):
                tok = make(rnd * CONNS + i)
                h.secrets.add(tok)
                c.request("GET", path, headers={"Authorization": "Bearer " + tok})
                r = c.getresponse()
                r.read()
                statuses.append(r.status)
    finally:
        for c in conns:
            c.close()
    h._sent += len(statuses)
    entries = h._wait_logged(5.0) or h.access_entries()
    pids = {e["pid"] for e in entries[before:]}
    return statuses, pids


def cache_counters(h):
    r = h.get("/conduktor-auth-status?format=json")
    assert r.status == 200, r
    c = r.json()["cache"]
    return c["hits"], c["misses"]


@pytest.mark.parametrize("mpm", MPMS)
def test_scenarios(httpd, mpm):
    h = httpd(protect("ConduktorAuthCORSAllowOrigin " + ORIGIN), server=SERVER,
              mpm=mpm, global_=MPM_CONF[mpm])
    assert "LoadModule mpm_%s_module" % mpm in open(h.conf).read()

    # Valid: through to the backend, identity in the access log.
    r = h.get(token=h.mint(jti=uuid.uuid4().hex, email="carol@example.test"))
    assert r.status == 200, r
    assert r.echo["path"] == CLUSTERS
    log = h.last_access()
    assert (log["user"], log["email"], log["error"]) == \
        ("carol@example.test", "carol@example.test", "-")

    # Denials.
    assert_denied(h.get(), 401)
    assert h.last_access()["error"] == "no_token"
    assert_denied(h.get(token=h.mint(exp=1)), 401, "invalid_token")
    assert h.last_access()["error"] == "token_expired"
    assert_denied(h.get(token=h.mint(key="rogue-ec", jti=uuid.uuid4().hex)), 401,
                  "invalid_token")
    assert h.last_access()["error"] == "bad_signature"
    assert_denied(h.get("/admins/x", token=h.mint(groups=["devs"])), 403,
                  "insufficient_scope")
    assert h.last_access()["error"] == "group_denied"
    assert h.get("/admins/x", token=h.mint(groups=["admins"])).status == 200

    # Preflight: answered by the module, not at the backend.
    seen = len(h.backend.requests())
    r = h.request("OPTIONS", "/mpm/preflight", headers=[
        ("Origin", ORIGIN), ("Access-Control-Request-Method", "DELETE"),
        ("Access-Control-Request-Headers", "authorization, content-type")])
    assert r.status == 204, r
    assert r.header("Access-Control-Allow-Origin") == ORIGIN
    assert "/mpm/preflight" not in "\n".join(h.backend.requests()[seen:])
    r = h.get(token=h.mint(), headers={"Origin": ORIGIN})
    assert r.status == 200 and r.header("Access-Control-Allow-Origin") == ORIGIN


@pytest.mark.parametrize("mpm", MPMS)
def test_cache_hits_across_processes(httpd, mpm):
    h = httpd(protect(), server=SERVER, mpm=mpm, global_=MPM_CONF[mpm])
    hits0, misses0 = cache_counters(h)
    tok = h.mint(jti=uuid.uuid4().hex)
    statuses, pids = spread(h, CLUSTERS, tok, rounds=3)
    assert statuses == [200] * len(statuses), statuses
    assert len(pids) >= 2, "the connections were served by one process only: %s" % pids
    hits, misses = cache_counters(h)
    # Verified once: every request after the first found it in a cache
    # (its own process's, or the shared one).
    assert hits - hits0 == len(statuses) - 1, (hits, misses, hits0, misses0, pids)
    assert misses - misses0 >= 1


@pytest.mark.parametrize("mpm", MPMS)
def test_remote_keys_fetched_once_across_processes(httpd, idp, pki, mpm):  # noqa: F811
    ip = idp()
    iss = ip.url + "/realms/mpm"
    key = SigningKey("mpm-1")
    ip.publish_jwks("/realms/mpm/jwks", jwks(key), max_age=300)
    h = httpd(protect(), mpm=mpm, global_=MPM_CONF[mpm],
              issuers=remote_issuer(pki, iss, ip.url + "/realms/mpm/jwks", timeout=5,
                                    miss=60))
    statuses, pids = spread(h, PATH, lambda i: key.token(iss), rounds=3)
    assert statuses == [200] * len(statuses), statuses
    assert len(pids) >= 2, "the connections were served by one process only: %s" % pids
    assert ip.count("/realms/mpm/jwks") == 1, \
        "keys fetched %d times for %d processes: %r" % (
            ip.count("/realms/mpm/jwks"), len(pids), ip.entries())
    # A token of a key the IdP never published: refused on every process.
    rogue = SigningKey("mpm-1")
    statuses, _ = spread(h, PATH, lambda i: rogue.token(iss), rounds=1)
    assert statuses == [401] * CONNS, statuses
    assert ip.count("/realms/mpm/jwks") == 1
