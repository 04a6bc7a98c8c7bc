"""The validated-token cache (issue 5; SPEC "Caches and scale").

shmcb by default on one host; redis:host:port and memcache:host:port (httpd's
mod_socache_redis / mod_socache_memcache) shared by several httpd hosts. The
shared-cache tests start a real redis-server / memcached (Debian packages,
installed with apt-get when missing) on a free loopback port, without
persistence, and stop it afterwards.

What a test can see of the cache is the status page's counters
(conduktor_auth_cache_hits_total / _misses_total, counted per httpd
instance across its processes) and the keys in the shared cache itself.

The harness has no parameter for extra modules: the LoadModule line of the
socache provider goes into `global_=`, which the harness writes after its
own LoadModule lines and before the virtual host.
"""
import hashlib
import http.client
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
import uuid

import pytest

import harness
from harness import AUDIENCE, ISSUER, assert_denied, protect

STATUS = """
<Location "/conduktor-auth-status">
  SetHandler conduktor-auth-status
  Require ip 127.0.0.1
</Location>"""

SOCACHE_MODULE = {
    "redis": "LoadModule socache_redis_module %s/mod_socache_redis.so" % harness.MODDIR,
    "memcache": "LoadModule socache_memcache_module %s/mod_socache_memcache.so"
                % harness.MODDIR,
}
OTHER_AUDIENCE = "api://other"


# -- helpers -------------------------------------------------------------------------
def counters(h):
    """(hits, misses) from the status page's JSON. (Cache lookups are
    counted before the answer goes out, so no need to wait for logging.)"""
    r = h.get("/conduktor-auth-status?format=json")
    assert r.status == 200, r
    c = r.json()["cache"]
    return c["hits"], c["misses"]


def entry(h, path=harness.CLUSTERS):
    """The access-log entry of the last request to path. (Not
    Httpd.last_access(): httpd may write a status-page request's line after
    the line of the request that followed it.)"""
    deadline = time.time() + 3
    while True:
        entries = h.access_entries()
        if len(entries) >= h._sent or time.time() > deadline:
            break
        time.sleep(0.02)
    found = [e for e in entries if e["path"] == path]
    assert found, "no access-log line for %s" % path
    return found[-1]


def fresh_token(h, **kw):
    """A token no other test has sent (its own jti): equal claims minted in
    the same second would give the very same RS256 token, already cached."""
    return h.mint(jti=uuid.uuid4().hex, **kw)


def ensure_package(binary, package):
    """The path of binary, installing the Debian package when missing."""
    path = shutil.which(binary) or (os.path.exists("/usr/bin/" + binary) and "/usr/bin/" + binary)
    if path:
        return path
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    subprocess.run(["apt-get", "update", "-qq"], env=env, check=False,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=600)
    p = subprocess.run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", package],
                       env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                       timeout=900)
    path = shutil.which(binary) or "/usr/bin/" + binary
    if p.returncode != 0 or not os.path.exists(path):
        pytest.fail("cannot install %s (apt-get install %s):\n%s" % (binary, package, p.stdout[-2000:]))
    return path


def _port_open(port):
    try:
        socket.create_connection(("127.0.0.1", port), 0.2).close()
        return True
    except OSError:
        return False


def make_secret_file(directory, data=None):
    """A ConduktorAuthCacheSecret file: 32 random bytes (or data), mode 600."""
    path = os.path.join(directory, "cache-%s.key" % uuid.uuid4().hex[:8])
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(os.urandom(32) if data is None else data)
    return path


class CacheServer:
    """A redis-server or memcached of our own on 127.0.0.1, no persistence.
    stop() and start() keep the port."""

    def __init__(self, kind, workdir):
        self.kind = kind
        self.port = harness.free_port()
        self.dir = tempfile.mkdtemp(prefix="%s-" % kind, dir=workdir)
        self.proc = None
        if kind == "redis":
            self.binary = ensure_package("redis-server", "redis-server")
        else:
            self.binary = ensure_package("memcached", "memcached")

    @property
    def spec(self):
        """The ConduktorAuthCache argument."""
        return "%s:127.0.0.1:%d" % (self.kind, self.port)

    @property
    def secret_file(self):
        """The ConduktorAuthCacheSecret file every host sharing this cache
        uses: 32 random bytes, mode 600, made once per cache server."""
        if getattr(self, "_secret", None) is None:
            self._secret = make_secret_file(self.dir)
        return self._secret

    def global_conf(self, secret=None):
        """The global snippet of a host sharing this cache: the socache
        module, ConduktorAuthCache and ConduktorAuthCacheSecret (secret: a
        path of another file, or "" for none)."""
        secret = self.secret_file if secret is None else secret
        return "%s\nConduktorAuthCache %s%s" % (
            SOCACHE_MODULE[self.kind], self.spec,
            "\nConduktorAuthCacheSecret file:%s" % secret if secret else "")

    def start(self):
        if self.kind == "redis":
            cmd = [self.binary, "--bind", "127.0.0.1", "--port", str(self.port),
                   "--save", "", "--appendonly", "no", "--dir", self.dir,
                   "--daemonize", "no", "--logfile", os.path.join(self.dir, "redis.log")]
        else:
            cmd = [self.binary, "-l", "127.0.0.1", "-p", str(self.port), "-U", "0",
                   "-m", "64", "-u", "nobody"]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 10
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("%s exited with %s" % (self.kind, self.proc.returncode))
            if _port_open(self.port) and self.ping():
                return self
            time.sleep(0.05)
        raise RuntimeError("%s did not come up on port %d" % (self.kind, self.port))

    def stop(self):
        if self.proc is None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc = None
        deadline = time.time() + 5
        while _port_open(self.port) and time.time() < deadline:
            time.sleep(0.05)

    # -- a minimal client, enough to look inside
    def _talk(self, payload, done):
        with socket.create_connection(("127.0.0.1", self.port), 2) as s:
            s.sendall(payload)
            buf = b""
            while not done(buf):
                chunk = s.recv(65536)
                if not chunk:
                    break
                buf += chunk
            return buf

    def ping(self):
        try:
            if self.kind == "redis":
                return self._talk(b"PING\r\n", lambda b: b.endswith(b"\r\n")) == b"+PONG\r\n"
            return self._talk(b"version\r\n", lambda b: b.endswith(b"\r\n")).startswith(b"VERSION")
        except OSError:
            return False

    def items(self):
        """How many entries the cache holds."""
        if self.kind == "redis":
            reply = self._talk(b"DBSIZE\r\n", lambda b: b.endswith(b"\r\n"))
            assert reply.startswith(b":"), reply
            return int(reply[1:].strip())
        reply = self._talk(b"stats\r\n", lambda b: b.endswith(b"END\r\n")).decode()
        for line in reply.splitlines():
            if line.startswith("STAT curr_items "):
                return int(line.split()[2])
        raise AssertionError("no curr_items in memcached stats: %r" % reply)


@pytest.fixture
def cache_server(workdir):
    """cache_server(kind) -> a started CacheServer; all are stopped after
    the test."""
    made = []

    def factory(kind):
        c = CacheServer(kind, workdir)
        made.append(c)
        return c.start()

    yield factory
    for c in made:
        c.stop()


def shared_httpd(httpd, cache, location=None, issuers=None, secret=None, **kw):
    """An httpd whose token cache is `cache` (a CacheServer, or a spec),
    with the cache's secret file (or secret=: another path)."""
    if isinstance(cache, str):
        kind = cache.split(":", 1)[0]
        glob = "%s\nConduktorAuthCache %s\nConduktorAuthCacheSecret file:%s" % (
            SOCACHE_MODULE[kind], cache, secret or make_secret_file(tempfile.mkdtemp()))
    else:
        glob = cache.global_conf(secret)
    return httpd(protect() if location is None else location, server=STATUS,
                 global_=glob, issuers=issuers, **kw)


# -- several hosts share one cache -----------------------------------------------------------
@pytest.mark.parametrize("kind", ["redis", "memcache"])
def test_token_validated_on_one_host_is_a_hit_on_the_other(httpd, cache_server, kind):
    cache = cache_server(kind)
    h1 = shared_httpd(httpd, cache)
    h2 = shared_httpd(httpd, cache)
    tok = fresh_token(h1, email="carol@example.test", groups=["platform-team", "ops"])
    before = cache.items()

    r = h1.get(token=tok)
    assert r.status == 200, r
    assert counters(h1) == (0, 1), "first sight of the token on host 1: one miss"
    assert cache.items() == before + 1, "host 1 stored nothing in the shared %s" % kind

    r = h2.get(token=tok)
    assert r.status == 200, r
    # The identity handed on comes from the cached claims, complete.
    log = entry(h2)
    assert (log["user"], log["email"], log["groups"], log["issuer"]) == \
        ("carol@example.test", "carol@example.test", "platform-team,ops", ISSUER), log
    assert r.echo["path"] == harness.CLUSTERS
    assert counters(h2) == (1, 0), \
        "host 2 verified the token again instead of finding it in the shared %s" % kind

    # A token that nobody stored: a miss on host 2, which host 1 then finds.
    tok2 = fresh_token(h2)
    assert h2.get(token=tok2).status == 200
    assert counters(h2) == (1, 1)
    assert h1.get(token=tok2).status == 200
    assert counters(h1) == (1, 1)


@pytest.mark.parametrize("kind", ["redis", "memcache"])
def test_other_host_with_other_rules_refuses_a_cached_token(httpd, cache_server, kind):
    """The cache keeps what was verified, not the verdict: a host with a
    different audience refuses the token it finds in the shared cache (its
    own rules, decided on the hit); a host that does not trust the issuer
    does not honour the record at all (no configuration of its own verified
    it: a miss, then refused by the full check)."""
    cache = cache_server(kind)
    h1 = shared_httpd(httpd, cache)
    h_aud = shared_httpd(httpd, cache, location=protect(audience=OTHER_AUDIENCE))
    h_iss = shared_httpd(httpd, cache, issuers=[
        "ConduktorAuthIssuer https://pem.example.test file:{keys}/rsa.pem"])
    tok = fresh_token(h1)
    assert h1.get(token=tok).status == 200

    assert_denied(h_aud.get(token=tok), 401, "invalid_token")
    assert entry(h_aud)["error"] == "wrong_audience"
    assert counters(h_aud) == (1, 0), "the refusal was not decided on a cache hit"

    # Not even a JWT there (its issuer is not one that host trusts): sorted
    # as opaque and refused without looking in the cache.
    assert_denied(h_iss.get(token=tok), 401, "invalid_token")
    assert entry(h_iss)["error"] == "opaque_token_refused"
    assert counters(h_iss) == (0, 0), "a token of an untrusted issuer was looked up"


def test_the_shared_cache_holds_no_token(httpd, cache_server):
    """Keys are keyed hashes of the token (not its SHA-256, which a reader
    could compute from a token seen elsewhere); values are sealed: never
    the token, its signature, nor the email or groups in clear."""
    cache = cache_server("redis")
    h = shared_httpd(httpd, cache)
    tok = fresh_token(h)
    assert h.get(token=tok).status == 200
    keys = cache._talk(b"KEYS *\r\n", lambda b: b.count(b"\r\n") >= 3)
    assert b"\r\n" in keys
    lines = keys.split(b"\r\n")
    assert lines[0] == b"*1", keys
    dump = b""
    for line in lines[1:]:
        if line and not line.startswith(b"$"):
            n = len(line)
            dump += cache._talk(b"*2\r\n$3\r\nGET\r\n$%d\r\n%s\r\n" % (n, line),
                                lambda b: b.count(b"\r\n") >= 2)
    header, payload, sig = tok.split(".")
    for piece in (tok, header, payload, sig, sig[:32]):
        assert piece.encode() not in dump and piece.encode() not in keys
    assert b"CKS1" in dump, "no sealed record in the shared cache"
    for clear in (b"alice@example.test", b"alice", b"example.test", b"idp.test",
                  hashlib.sha256(tok.encode()).digest(),
                  hashlib.sha256(tok.encode()).hexdigest().encode()):
        assert clear not in dump and clear not in keys, clear


# -- a shared cache that is down -----------------------------------------------------------------
# What httpd's socache providers log when their server is unreachable.
DOWN_LOG = [r"\[socache_redis:(error|warn|crit)\]", r"\[socache_memcache:(error|warn|crit)\]",
            r"\[(redis|memcache):(error|warn)\]",
            r"\[conduktor_auth:warn\] .*shared cache \S+ failed on (lookup|store); this "
            r"process works without it for 5 s"]
BAD_LEVEL = re.compile(r"\[(\w+):(error|warn|crit|alert|emerg)\]")


@pytest.mark.parametrize("kind", ["redis", "memcache"])
def test_cache_down_from_the_start_costs_only_full_verification(httpd, kind):
    port = harness.free_port()      # nothing listens there
    h = shared_httpd(httpd, "%s:127.0.0.1:%d" % (kind, port), expect_log=DOWN_LOG)
    toks = [fresh_token(h) for _ in range(6)]
    began = time.monotonic()
    for tok in toks + toks + toks:
        start = time.monotonic()
        r = h.get(token=tok)
        assert r.status == 200, r
        assert time.monotonic() - start < 3, "a request waited for the unreachable cache"
    assert_denied(h.get(token=fresh_token(h, aud="someone-else")), 401, "invalid_token")
    assert all(e["status"] < 500 for e in h.access_entries())
    # Backing off: not log lines per request (without it, every request
    # logs a failed lookup and a failed store). In each 5 s each process
    # tries the cache once: the provider's line and ours (a few threads of
    # a process may race that attempt).
    windows = 1 + int((time.monotonic() - began) // 5)
    lines = [l for l in h.read_error_log().splitlines() if BAD_LEVEL.search(l)]
    warned = [l for l in lines if "[conduktor_auth:warn]" in l]
    entries = h.access_entries()
    pids = {e["pid"] for e in entries}
    assert 1 <= len(warned) <= (len(pids) + 2) * windows, lines
    assert len(lines) <= (2 * len(pids) + 4) * windows < 2 * len(entries), \
        "%d warn/error lines for %d requests in %d processes:\n%s" % (
            len(lines), len(entries), len(pids), "\n".join(lines))


@pytest.mark.parametrize("kind", ["redis", "memcache"])
def test_cache_going_down_and_back(httpd, cache_server, kind):
    cache = cache_server(kind)
    h = shared_httpd(httpd, cache, expect_log=DOWN_LOG)
    seen = fresh_token(h)
    assert h.get(token=seen).status == 200
    cache.stop()

    # Down: new tokens are verified in full, known ones too; no 5xx.
    for _ in range(3):
        tok = fresh_token(h)
        for _ in range(2):
            start = time.monotonic()
            r = h.get(token=tok)
            assert r.status == 200, r
            assert time.monotonic() - start < 3, "a request waited for the dead cache"
    assert h.get(token=seen).status == 200
    expired = fresh_token(h, exp=int(time.time()) - 600)
    assert_denied(h.get(token=expired), 401, "invalid_token")
    assert entry(h)["error"] == "token_expired"
    assert all(e["status"] < 500 for e in h.access_entries()), \
        [e for e in h.access_entries() if e["status"] >= 500]

    # Back (empty, as a restarted cache is): used again.
    cache.start()
    assert cache.items() == 0
    deadline = time.time() + 10
    while cache.items() == 0 and time.time() < deadline:
        assert h.get(token=fresh_token(h)).status == 200
    assert cache.items() >= 1, "the module stopped using the %s after it came back" % kind


# -- one host: shmcb by default ----------------------------------------------------------------------
def test_shmcb_by_default_one_miss_then_hits(httpd):
    h = httpd(protect(), server=STATUS)
    tok = fresh_token(h)
    for i in range(5):
        assert h.get(token=tok).status == 200
        assert counters(h) == (i, 1), "request %d" % (i + 1)


def test_shmcb_is_shared_by_the_processes(httpd):
    """prefork: connections held open at once are served by different
    processes; each has its own front cache, shmcb is shared, so the token
    is verified once in all."""
    h = httpd(protect(), server=STATUS, mpm="prefork",
              global_="StartServers 4\nMinSpareServers 4")
    tok = fresh_token(h)
    conns = [http.client.HTTPConnection("127.0.0.1", h.port, timeout=10) for _ in range(3)]
    for _ in range(2):
        for c in conns:
            c.request("GET", harness.CLUSTERS, headers={"Authorization": "Bearer " + tok})
            r = c.getresponse()
            r.read()
            assert r.status == 200
    for c in conns:
        c.close()
    h._sent += 6
    pids = {e["pid"] for e in h.access_entries()}
    assert len(pids) == 3, "the three connections were not served by three processes"
    assert counters(h) == (5, 1)


def test_cache_none_verifies_every_time(httpd):
    h = httpd(protect(), server=STATUS, global_="ConduktorAuthCache none")
    tok = fresh_token(h)
    for _ in range(3):
        assert h.get(token=tok).status == 200
    assert counters(h) == (0, 0), "ConduktorAuthCache none still looks in a cache"


# -- what a hit may not skip ------------------------------------------------------------------------------
def test_expired_token_is_never_served_from_the_cache(httpd):
    h = httpd(protect("ConduktorAuthClockSkew 0"), server=STATUS)
    exp = int(time.time()) + 3
    tok = fresh_token(h, exp=exp)
    assert h.get(token=tok).status == 200
    assert h.get(token=tok).status == 200
    assert counters(h) == (1, 1)
    while time.time() < exp + 0.2:
        time.sleep(0.1)
    r = h.get(token=tok)
    assert_denied(r, 401, "invalid_token")
    assert entry(h)["error"] == "token_expired"


def test_ttl_bounds_the_reuse(httpd):
    """ConduktorAuthCacheTTL 1: after the TTL the token is verified again
    (a second miss), however far its exp."""
    h = httpd(protect(), server=STATUS, global_="ConduktorAuthCacheTTL 1")
    tok = fresh_token(h)
    assert h.get(token=tok).status == 200
    assert counters(h) == (0, 1)
    time.sleep(2.2)
    assert h.get(token=tok).status == 200
    assert counters(h) == (0, 2), "the entry outlived ConduktorAuthCacheTTL"


def test_audience_is_applied_again_on_a_hit(httpd):
    other = """
<Location "/other/">
  AuthType conduktor-jwt
  AuthName "Conduktor"
  ConduktorAuthAudience %s
  Require valid-user
</Location>""" % OTHER_AUDIENCE
    h = httpd(protect(), server=STATUS + other)
    tok = fresh_token(h)                 # aud: conduktor
    assert h.get(token=tok).status == 200
    assert counters(h) == (0, 1)
    r = h.get("/other/x", token=tok)
    assert_denied(r, 401, "invalid_token")
    assert entry(h, "/other/x")["error"] == "wrong_audience"
    assert counters(h) == (1, 1), "the refusal was not decided on a cache hit"
    # and the other way round
    tok2 = fresh_token(h, aud=OTHER_AUDIENCE)
    assert h.get("/other/x", token=tok2).status == 200
    assert_denied(h.get(token=tok2), 401, "invalid_token")
    assert entry(h)["error"] == "wrong_audience"
    assert counters(h) == (2, 2)


def test_require_is_applied_again_on_a_hit(httpd):
    admins = """
<Location "/admins/">
  AuthType conduktor-jwt
  AuthName "Conduktor"
  ConduktorAuthAudience %s
  Require conduktor-group admins
</Location>""" % AUDIENCE
    h = httpd(protect(), server=STATUS + admins)
    tok = fresh_token(h, groups=["platform-team"])
    assert h.get(token=tok).status == 200
    r = h.get("/admins/x", token=tok)
    assert_denied(r, 403, "insufficient_scope")
    assert counters(h) == (1, 1)
    admin = fresh_token(h, groups=["admins"])
    assert h.get(token=admin).status == 200
    assert h.get("/admins/x", token=admin).status == 200
    assert counters(h) == (2, 2)
