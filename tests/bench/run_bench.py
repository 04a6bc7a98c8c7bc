#!/usr/bin/python3
"""Side-by-side benchmark of mod_conduktor_auth (issue 5).

Run through tests/bench/run_bench.sh (it installs and builds first). Loopback
only; every server and file lives in a temporary directory removed at the
end (--keep keeps it).

Sections:
  core   tests/bench/bench_core: core validations/s cold and cached next to
         raw OpenSSL EVP_DigestVerify/s in the same process, and
         valgrind --tool=callgrind instructions per validation.
  http   one httpd config family (event MPM, 2 children x 32 threads,
         keep-alive, no access log), started in eight variants that differ
         only in the auth lines:
           A  no auth
           B  mod_conduktor_auth, one RS256 token repeated
           C  mod_conduktor_auth, 2,000 distinct RS256 tokens in rotation
           D  mod_conduktor_auth, 2,000 distinct ES256 tokens in rotation
           E  mod_auth_openidc (AuthType oauth20, OIDCOAuthVerifyCertFiles,
              same RSA key), one RS256 token
           F  mod_auth_openidc, the 2,000 RS256 tokens of C
           G  mod_oauth2 (AuthType oauth2, OAuth2TokenVerify jwk <the
              rsa-1 public JWK> verify.exp=required), one RS256 token
           H  mod_oauth2, the 2,000 RS256 tokens of C
           K  mod_conduktor_auth, one client's `Authorization: Basic
              client_id:secret` (ConduktorAuthClientCredentials): exchanged
              once at a local TLS token endpoint (tests/idp/idp_server.py,
              an RS256 token of the test key, living 6 h), then the cached
              exchange and the token's cached validation on every request;
              the backend gets `Bearer <token>`
           I  mod_conduktor_auth, one opaque token (ConduktorAuthOpaqueTokens
              introspect): introspected once at a local TLS introspection
              endpoint (tests/idp/idp_server.py, client_secret_basic), then
              the cached answer (ConduktorAuthIntrospectTTL 3600) on every
              request; after the rounds, the cold path: --cold-calls fresh
              tokens one after the other (each a call to the endpoint) next
              to the cached token, the added latency per call printed
         each for a small local file and for the same file proxied
         (mod_proxy_http, pooled keep-alive) to a backend httpd of the same
         family. wrk runs tests/bench/tokens.lua for every variant (A too,
         with the one-token file). --rounds rounds of short runs go over the
         variants, in reverse order every other round; the table shows the
         median of each figure, and each ratio is the median of the ratios
         within a round (both figures measured a minute apart at most), so
         a slow drift in what else the machine does cancels out.
         Ratios: B/A, C/A, K/A, B/E, C/F, B/G, C/H, and the issue's figure
         "B / best(E,G)" (and "C / best(F,H)"): in each round, B over the
         higher of the two competitors' figures of that round.
         Before measuring, every auth variant must give a valid token 200,
         no token 401 and a bad signature 401 (check_variant).
         What the competitors do per request, as configured here:
           E/F  mod_auth_openidc 2.4.12 verifies the JWT's signature on
                every request (its cache holds introspection results, not
                locally verified JWTs); exp checked when present; no iss or
                aud check.
           G/H  mod_oauth2 3.3.1 (liboauth2 1.4.5): exp required, iat
                checked when present (10 s slack ahead), no iss or aud check
                (it has no expected-value option); its default result cache
                is on: the "default" cache, shared memory, 1,000 entries
                under one mutex, keyed by the SHA-256 of the token, holding
                the claims JSON for 300 s (claims not re-checked on a hit).
                So G is mostly cache hits, and H (2,000 tokens in rotation,
                more than 1,000 entries) mostly misses, each store evicting
                the least recently used entry (it logs a warning for that).
           B/C/D mod_conduktor_auth: issuer, audience, exp/nbf/iat checked;
                its sealed token cache on (the module's defaults).
  dpop   (issue 16) tests/bench/bench_dpop: the core's DPoP proof
         verification/s next to raw OpenSSL ES256 verify/s in the same
         process (target >= 0.85); then one server (B's configuration plus
         ConduktorAuthDPoPWindow 3600) measured with one ES256 token as
         Bearer, and with that token bound (cnf.jkt) as DPoP, one fresh
         pre-minted ES256 proof per request (--dpop-proofs of them, each sent
         once: the wrk threads take disjoint shares): the request-rate ratio.
  perf   perf record of the httpd children of A, B, C, E and G during one run:
         their CPU samples by shared object, and the top user-space symbols.
  rss    a fresh instance of variant C with --rss-tokens distinct tokens
         (more than the per-process front cache holds, so misses, stores
         and evictions go on all the time): the RSS of every child after
         start, after a warm-up of 10 passes over the tokens, and after
         --rss-requests more requests; the change after warm-up must stay
         within 5% (issue 5 asks it across 1,000,000 requests:
         --rss-requests 1000000, about 2 minutes more).
         --malloc-arena-max N repeats it with httpd under MALLOC_ARENA_MAX=N.

On a shared machine: the script runs at nice -15 and gives its httpd
servers' scheduling autogroups the same level (root only; --nice 0 turns
that off), and before each figure it prints how much CPU other processes
were using; --wait-idle SECONDS waits for a quieter moment.
"""
import argparse
import base64
import datetime
import hashlib
import http.client
import json
import multiprocessing
import os
import platform
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(TOP, "tests", "tools"))
import mint  # noqa: E402

APACHE = os.environ.get("CKA_APACHE", "/usr/sbin/apache2")
MODDIR = os.environ.get("CKA_MODDIR", "/usr/lib/apache2/modules")
MODULE = os.environ.get("CKA_MODULE", os.path.join(TOP, ".libs", "mod_conduktor_auth.so"))
ORIG_MODULE = MODULE
# The module of the main before the second wave (issue 24), built by
# run_bench.sh from `git archive 747b18c`: variants O and Q.
OLD_COMMIT = "747b18c"
OLD_MODULE = os.environ.get("CKA_OLD_MODULE", "")
OPENIDC = os.path.join(MODDIR, "mod_auth_openidc.so")
OAUTH2 = os.path.join(MODDIR, "mod_oauth2.so")
BENCH_CORE = os.path.join(TOP, "tests", "bench", "bench_core")
BENCH_DPOP = os.path.join(TOP, "tests", "bench", "bench_dpop")
LUA = os.path.join(HERE, "tokens.lua")
ISSUER = mint.DEFAULT_ISSUER
AUDIENCE = mint.DEFAULT_AUDIENCE
SMALL_FILE_BYTES = 1024

BASE_MODULES = ["mpm_event", "authn_core", "authz_core", "authz_user", "authz_host",
                "mime", "proxy", "proxy_http", "socache_shmcb"]

CONF = """\
# Generated by tests/bench/run_bench.py: variant {variant}
ServerRoot "{root}"
DefaultRuntimeDir "{root}/run"
PidFile "{root}/run/httpd.pid"
Listen 127.0.0.1:{port}
ServerName 127.0.0.1
User nobody
Group nogroup
{loadmodules}
ErrorLog "{root}/logs/error_log"
LogLevel warn
TypesConfig /etc/mime.types
Timeout 30
KeepAlive On
MaxKeepAliveRequests 0
{mpm}
MaxConnectionsPerChild 0
DocumentRoot "{root}/htdocs"
<Directory />
  AllowOverride None
  Require all denied
</Directory>
<Directory "{root}/htdocs">
  Require all granted
</Directory>
ProxyRequests Off
ProxyPass "/proxy/" "http://127.0.0.1:{backend_port}/"
{server}
<Location "/">
{location}
</Location>
{status}
"""

# The measured servers: two children of 64 threads, never replaced (the
# configuration of issue 24).
MPM_FRONT = """KeepAliveTimeout 30
StartServers 2
ServerLimit 2
ThreadsPerChild 64
MaxRequestWorkers 128
MinSpareThreads 1
MaxSpareThreads 128"""
# The backend of the proxied figures serves every front in turn, and each
# front keeps a pool of up to 64 keep-alive connections to it: more room,
# and idle connections closed soon, so no front waits for a worker there.
MPM_BACKEND = """KeepAliveTimeout 3
StartServers 2
ServerLimit 2
ThreadsPerChild 128
MaxRequestWorkers 256
MinSpareThreads 1
MaxSpareThreads 256"""

STATUS = """<Location "/conduktor-auth-status">
  AuthType None
  SetHandler conduktor-auth-status
  Require ip 127.0.0.1
</Location>"""

VARIANTS = {
    # name: (label, auth module, token set)
    "A": ("no auth", None, "one"),
    "B": ("mod_conduktor_auth, 1 token", "cka", "one"),
    "C": ("mod_conduktor_auth, 2,000 RS256", "cka", "rs"),
    "D": ("mod_conduktor_auth, 2,000 ES256", "cka", "es"),
    "E": ("mod_auth_openidc, 1 token", "oidc", "one"),
    "F": ("mod_auth_openidc, 2,000 RS256", "oidc", "rs"),
    "G": ("mod_oauth2, 1 token", "oauth2", "one"),
    "H": ("mod_oauth2, 2,000 RS256", "oauth2", "rs"),
    "K": ("mod_conduktor_auth, client credentials", "cka", "basic"),
    "P": ("mod_conduktor_auth, API key passed on", "cka", "apikey"),
    "I": ("mod_conduktor_auth, opaque introspected", "cka", "opaque"),
    "U": ("mod_conduktor_auth, 1 token, audit %^CA", "cka", "one"),
    "O": ("mod_conduktor_auth 747b18c, 1 token", "cka", "one"),
    "Q": ("mod_conduktor_auth 747b18c, 2,000 RS256", "cka", "rs"),
}
# Token sets sent with another scheme than Bearer (tokens.lua, Server.get).
SCHEMES = {"basic": "Basic"}
CC_CLIENT, CC_SECRET = "bench-ci", "bench-ci-secret-5d0c9e2b7f"
CC_PATH = "/realms/bench/protocol/openid-connect/token"
IS_PATH = "/realms/bench/protocol/openid-connect/token/introspect"
IS_CLIENT, IS_SECRET = "bench-gateway", "bench-gateway-secret-8e1b4c7a"
ALL_TARGETS = [("file", "/small.txt"), ("proxy", "/proxy/small.txt")]
TARGETS = ALL_TARGETS       # --targets
# (name, numerator, denominator(s), target): with several denominators, the
# ratio of a round is over the highest of their figures in that round.
RATIOS = [("B/A", "B", "A", 0.92), ("C/A", "C", "A", 0.75), ("K/A", "K", "A", 0.90),
          ("P/A", "P", "A", 0.95), ("I/A", "I", "A", 0.90), ("U/A", "U", "A", 0.85),
          ("B/E", "B", "E", 1.6),
          ("C/F", "C", "F", 1.3), ("B/G", "B", "G", 1.6), ("C/H", "C", "H", 1.3),
          ("B/best(E,G)", "B", "EG", 1.6), ("C/best(F,H)", "C", "FH", 1.3),
          ("D/A", "D", "A", None),
          ("O/A", "O", "A", None), ("Q/A", "Q", "A", None),
          ("O/best(E,G)", "O", "EG", None), ("Q/best(F,H)", "Q", "FH", None),
          ("B/O", "B", "O", None), ("C/Q", "C", "Q", None)]
# Side by side (issue 24): today's module and 747b18c's, same run, same rounds.
SIDE_BY_SIDE = [("one token repeated / no auth", "B/A", "O/A", 0.92),
                ("2,000 distinct RS256 / no auth", "C/A", "Q/A", 0.75),
                ("one token / better peer", "B/best(E,G)", "O/best(E,G)", 1.6),
                ("2,000 RS256 / better peer", "C/best(F,H)", "Q/best(F,H)", 1.3)]


# ---- output ------------------------------------------------------------------
class Out:
    def __init__(self, path):
        self.f = open(path, "w") if path else None

    def __call__(self, text=""):
        print(text, flush=True)
        if self.f:
            self.f.write(text + "\n")
            self.f.flush()


def sh(cmd, **kw):
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, **kw)


def first_line(cmd):
    try:
        return sh(cmd).stdout.strip().splitlines()[0]
    except (OSError, IndexError):
        return "?"


def machine_header(out, args):
    cpu = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem = "?"
    with open("/proc/meminfo") as f:
        m = re.search(r"MemTotal:\s+(\d+) kB", f.read())
        if m:
            mem = "%.1f GiB" % (int(m.group(1)) / 1048576)
    osname = "?"
    if os.path.exists("/etc/os-release"):
        with open("/etc/os-release") as f:
            m = re.search(r'PRETTY_NAME="([^"]*)"', f.read())
            osname = m.group(1) if m else "?"
    openidc = sh(["dpkg-query", "-W", "-f=${Version}", "libapache2-mod-auth-openidc"]).stdout
    oauth2 = sh(["dpkg-query", "-W", "-f=${Version}", "libapache2-mod-oauth2"]).stdout
    liboauth2 = sh(["dpkg-query", "-W", "-f=${Version}", "liboauth2-apache0"]).stdout
    out("mod_conduktor_auth benchmark (tests/bench/run_bench.sh)")
    out("date:     %s" % datetime.datetime.now(datetime.timezone.utc)
        .strftime("%Y-%m-%d %H:%M:%S UTC"))
    out("machine:  %d cores (nproc), %s, %s RAM; %s, kernel %s"
        % (os.cpu_count(), cpu, mem, osname, platform.release()))
    out("software: %s; mod_auth_openidc %s; mod_oauth2 %s (liboauth2 %s); %s; %s"
        % (first_line([APACHE, "-v"]).replace("Server version: ", ""), openidc or "?",
           oauth2 or "?", liboauth2 or "?",
           first_line(["openssl", "version"]), first_line(["wrk", "-v"]).split(" [")[0]))
    rev = sh(["git", "-C", TOP, "describe", "--always", "--dirty"]).stdout.strip()
    shown = os.path.relpath(ORIG_MODULE, TOP)
    out("module:   %s (git %s)" % (ORIG_MODULE if shown.startswith("..") else shown,
                                   rev or "?"))
    out("load:     %s (1/5/15 min load average at start); CPU used by other processes "
        "now: %.0f%%" % (loadavg(), 100 * cpu_busy(1.0)))
    out("settings: wrk -t%d -c%d -d%ds per figure (after a %ds warm-up), %d round(s); "
        "rss: %d tokens, %d requests; nice %d (autogroups too)"
        % (args.threads, args.connections, args.duration, args.warmup, args.rounds,
           args.rss_tokens, args.rss_requests, os.nice(0)))
    out()


def cpu_busy(secs=0.5):
    """Fraction of all CPUs busy over secs (from /proc/stat). Measured while
    the benchmark's own servers are idle, it is what others use."""
    def sample():
        with open("/proc/stat") as f:
            v = [int(x) for x in f.readline().split()[1:]]
        idle = v[3] + (v[4] if len(v) > 4 else 0)
        return sum(v), idle
    t1, i1 = sample()
    time.sleep(secs)
    t2, i2 = sample()
    return 1.0 - (i2 - i1) / max(1, t2 - t1)


def wait_idle(args, out):
    """Before a figure: how busy the machine is without us; with
    --wait-idle, wait (up to that many seconds) until others use < 15%."""
    busy = cpu_busy()
    deadline = time.time() + args.wait_idle
    while busy > 0.15 and time.time() < deadline:
        time.sleep(2)
        busy = cpu_busy()
    return busy


NICE = 0


def boost(pid):
    """Give pid's scheduling autogroup the --nice level. With autogroups
    (Linux's default for desktop-like kernels), a process's nice value only
    counts inside its own session, and httpd makes a session of its own
    when it detaches: its autogroup gets the level, not the process."""
    if not NICE or os.geteuid() != 0:
        return
    try:
        with open("/proc/%d/autogroup" % pid, "w") as f:
            f.write(str(NICE))
    except OSError:
        pass


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


# ---- tokens ------------------------------------------------------------------
def _mint_batch(job):
    keydir, key, start, count, exp = job
    keys = mint.KeyDir(keydir)
    now = int(time.time())
    out = []
    for i in range(start, start + count):
        claims = mint.default_claims(sub="user-%06d" % i, email="user%06d@example.test" % i,
                                     jti="bench-%08d" % i, iat=now, exp=now + exp)
        out.append(keys.token(claims=claims, key=key))
    return out


def mint_tokens(keydir, key, count, path, exp=6 * 3600):
    """count distinct tokens signed by key, one a line, into path."""
    procs = max(1, min(os.cpu_count() or 1, 4))
    step = (count + procs - 1) // procs
    jobs = [(keydir, key, s, min(step, count - s), exp) for s in range(0, count, step)]
    with multiprocessing.Pool(procs) as pool:
        toks = [t for batch in pool.map(_mint_batch, jobs) for t in batch]
    assert len(set(toks)) == count
    with open(path, "w") as f:
        f.write("\n".join(toks) + "\n")
    os.chmod(path, 0o644)
    return toks


# ---- httpd -----------------------------------------------------------------------
def rsa_jwk(keys):
    """The public JWK of rsa-1 (the key of every RS256 token), one line of
    compact JSON with no single quote, for a single-quoted httpd argument."""
    with open(keys.path("jwks-rsa.json")) as f:
        k = json.load(f)["keys"][0]
    text = json.dumps(k, separators=(",", ":"))
    assert "'" not in text and k.get("kid") == "rsa-1"
    return text


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """One httpd of the family."""

    # Set by http_section when K runs: (token endpoint URL, CA file).
    token_endpoint = None
    # Set by http_section when I runs: (introspection URL, CA file, secret file).
    introspection = None

    def __init__(self, workdir, variant, keys, backend_port, name=None, env=None):
        self.variant = variant
        self.extra_env = env or {}
        self.root = os.path.join(workdir, "httpd-" + (name or variant))
        for sub in ("logs", "run", "htdocs"):
            os.makedirs(os.path.join(self.root, sub), exist_ok=True)
        os.chmod(self.root, 0o755)
        with open(os.path.join(self.root, "htdocs", "small.txt"), "w") as f:
            f.write(("0123456789abcdef" * 64)[:SMALL_FILE_BYTES - 1] + "\n")
        self.port = free_port()
        kind = VARIANTS[variant][1] if variant in VARIANTS else None
        mods = ["LoadModule %s_module %s/mod_%s.so" % (m, MODDIR, m) for m in BASE_MODULES]
        server, status = "", ""
        if kind == "cka":
            mods.append("LoadModule conduktor_auth_module %s"
                        % (OLD_MODULE if variant in "OQ" else MODULE))
            server = "ConduktorAuthIssuer %s file:%s" % (ISSUER, keys.path("jwks.json"))
            location = ("  AuthType conduktor-jwt\n  AuthName \"Conduktor\"\n"
                        "  ConduktorAuthAudience %s\n  Require valid-user" % AUDIENCE)
            status = STATUS
            if variant == "P":
                location = location.replace(
                    "Require valid-user", "ConduktorAuthOpaqueTokens pass\n"
                    "  Require conduktor-credential opaque")
            if variant == "I":
                url, ca, secret = Server.introspection
                server += ("\nConduktorAuthCAFile %s\nConduktorAuthIntrospect %s %s "
                           "client_id=%s secret=file:%s\nConduktorAuthIntrospectTTL 3600"
                           % (ca, ISSUER, url, IS_CLIENT, secret))
                location = location.replace(
                    "Require valid-user", "ConduktorAuthOpaqueTokens introspect %s\n"
                    "  Require valid-user" % ISSUER)
            if variant == "U":
                status += ('\nCustomLog "%s/logs/audit.json" "%%^CA" env=CONDUKTOR_AUTH_AUDIT'
                           % self.root)
            if variant == "K":
                url, ca = Server.token_endpoint
                server += "\nConduktorAuthCAFile %s" % ca
                location += "\n  ConduktorAuthClientCredentials %s" % url
        elif kind == "oidc":
            mods.append("LoadModule auth_openidc_module %s" % OPENIDC)
            server = "OIDCOAuthVerifyCertFiles rsa-1#%s" % keys.path("rsa-cert.pem")
            location = "  AuthType oauth20\n  Require valid-user"
        elif kind == "oauth2":
            mods.append("LoadModule oauth2_module %s" % OAUTH2)
            location = ("  AuthType oauth2\n  OAuth2TokenVerify jwk '%s' verify.exp=required\n"
                        "  Require valid-user" % rsa_jwk(keys))
        else:
            location = "  Require all granted"
        self.conf = os.path.join(self.root, "httpd.conf")
        with open(self.conf, "w") as f:
            f.write(CONF.format(variant=variant, root=self.root, port=self.port,
                                mpm=MPM_BACKEND if variant == "backend" else MPM_FRONT,
                                loadmodules="\n".join(mods), backend_port=backend_port,
                                server=server, location=location, status=status))
        os.chmod(self.conf, 0o644)
        self.pid = None

    def url(self, path):
        return "http://127.0.0.1:%d%s" % (self.port, path)

    def start(self):
        env = {k: v for k, v in os.environ.items() if not k.startswith("APACHE_")}
        env.update(self.extra_env)
        p = sh([APACHE, "-f", self.conf, "-k", "start"], env=env, timeout=60)
        if p.returncode != 0:
            raise RuntimeError("httpd %s did not start:\n%s\n%s"
                               % (self.variant, p.stdout, self.error_log()))
        pidfile = os.path.join(self.root, "run", "httpd.pid")
        deadline = time.time() + 15
        while time.time() < deadline:
            if os.path.exists(pidfile):
                try:
                    socket.create_connection(("127.0.0.1", self.port), 0.2).close()
                    with open(pidfile) as f:
                        self.pid = int(f.read().strip())
                    boost(self.pid)
                    if len(self.children()) >= 2:
                        return self
                except (OSError, ValueError):
                    pass
            time.sleep(0.05)
        raise RuntimeError("httpd %s did not come up:\n%s" % (self.variant, self.error_log()))

    def stop(self):
        if self.pid is None:
            return
        sh([APACHE, "-f", self.conf, "-k", "stop"], timeout=60)
        deadline = time.time() + 15
        while time.time() < deadline:
            try:
                os.kill(self.pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.05)
        self.pid = None

    def error_log(self):
        try:
            with open(os.path.join(self.root, "logs", "error_log"), errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def children(self, what="VmRSS"):
        """{pid: kB} of the worker processes: VmRSS, or RssAnon (private
        memory: heap, stacks), or RssShmem (the shared-memory segments:
        socache shmcb, key store, counters, as far as touched)."""
        out = {}
        for d in os.listdir("/proc"):
            if not d.isdigit():
                continue
            try:
                with open("/proc/%s/status" % d) as f:
                    st = f.read()
            except OSError:
                continue
            m = re.search(r"^PPid:\s+(\d+)", st, re.M)
            if m and int(m.group(1)) == self.pid:
                r = re.search(r"^%s:\s+(\d+) kB" % what, st, re.M)
                out[int(d)] = int(r.group(1)) if r else 0
        return out

    def get(self, path, token=None, scheme="Bearer"):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            headers = {"Authorization": scheme + " " + token} if token else {}
            c.request("GET", path, headers=headers)
            r = c.getresponse()
            return r.status, r.read()
        finally:
            c.close()

    def counters(self):
        status, body = self.get("/conduktor-auth-status?format=json")
        if status != 200:
            return None
        d = json.loads(body)
        return {"allowed": d["allowed"], "hits": d["cache"]["hits"],
                "misses": d["cache"]["misses"],
                "denied": sum(d["denied"].values())}


# ---- wrk ---------------------------------------------------------------------------
def wrk(args, url, tokens, duration, scheme="Bearer", partition=False):
    env = dict(os.environ, CKA_BENCH_TOKENS=tokens, CKA_BENCH_SCHEME=scheme)
    if partition:
        env["CKA_BENCH_PARTITION"] = str(args.threads)
    p = sh(["wrk", "-t%d" % args.threads, "-c%d" % args.connections, "-d%ds" % duration,
            "--latency", "--timeout", "10s", "-s", LUA, url], env=env,
           timeout=duration + 60)
    text = p.stdout
    m = re.search(r"Requests/sec:\s+([\d.]+)", text)
    if p.returncode != 0 or not m:
        raise RuntimeError("wrk failed:\n" + text)
    res = {"rps": float(m.group(1)), "text": text}
    m = re.search(r"(\d+) requests in", text)
    res["requests"] = int(m.group(1)) if m else 0
    m = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text)
    res["non2xx"] = int(m.group(1)) if m else 0
    m = re.search(r"Socket errors: (.*)", text)
    res["sockerr"] = m.group(1).strip() if m else ""
    for q in ("50", "99"):
        m = re.search(r"^\s+%s%%\s+([\d.]+)(us|ms|s)\s*$" % q, text, re.M)
        res["p" + q] = (float(m.group(1)) * {"us": 1e-3, "ms": 1, "s": 1e3}[m.group(2)]
                        if m else float("nan"))
    return res


# ---- sections -------------------------------------------------------------------------
def core_section(out, args):
    out("== core micro-benchmark (tests/bench/bench_core -t %g; one thread)" % args.core_seconds)
    p = sh([BENCH_CORE, "-t", str(args.core_seconds)], timeout=600)
    for line in p.stdout.rstrip().splitlines():
        out("   " + line)
    if p.returncode != 0:
        raise RuntimeError("bench_core failed")
    m = re.search(r"^RS256\s+\S+\s+\S+\s+\S+\s+([\d.]+)", p.stdout, re.M)
    if m:
        v = float(m.group(1))
        out("   target: core cold RS256 >= 0.85 x raw verify: %.2f -> %s"
            % (v, "met" if v >= 0.85 else "MISSED by %.0f%%" % ((0.85 - v) / 0.85 * 100)))
    out()


def dpop_core_section(out, args):
    out("== DPoP proof verification (tests/bench/bench_dpop -t %g; one thread)"
        % args.core_seconds)
    if not os.path.exists(BENCH_DPOP):
        out("   missing %s: make bench-dpop" % os.path.relpath(BENCH_DPOP, TOP))
        out()
        return
    p = sh([BENCH_DPOP, "-t", str(args.core_seconds)], timeout=600)
    for line in p.stdout.rstrip().splitlines():
        out("   " + line)
    if p.returncode != 0:
        raise RuntimeError("bench_dpop failed")
    out()


def _mint_proofs(job):
    key_json, tok, url, start, count = job
    from jwcrypto import jwk as _jwk
    key = _jwk.JWK.from_json(key_json)
    pub = key.export_public(as_dict=True)
    ath = base64.urlsafe_b64encode(hashlib.sha256(tok.encode()).digest()).rstrip(b"=").decode()
    now = int(time.time())
    hdr = {"typ": "dpop+jwt", "alg": "ES256", "jwk": pub}
    return [mint.sign(key, "ES256", hdr, {"htm": "GET", "htu": url, "iat": now, "ath": ath,
                                         "jti": "bench-%d" % i})
            for i in range(start, start + count)]


def dpop_http_section(out, args, workdir, keys):
    """Bearer vs DPoP on one server (variant B's configuration plus
    ConduktorAuthDPoPWindow 3600): the same ES256 token each request (a
    token-cache hit either way); DPoP adds one ES256 proof per request,
    pre-minted, each sent once (its jti goes to the replay cache)."""
    from jwcrypto import jwk as _jwk
    out("== DPoP workload: one token (cache hit), bearer vs DPoP with one fresh ES256 "
        "proof per request (file target, %d s, %d connections)"
        % (args.duration, args.connections))
    srv = Server(workdir, "B", keys, 9, name="dpop")
    with open(srv.conf) as f:
        conf = f.read().replace("  Require valid-user",
                                "  ConduktorAuthDPoPWindow 3600\n  Require valid-user", 1)
    with open(srv.conf, "w") as f:
        f.write(conf)
    key = _jwk.JWK.generate(kty="EC", crv="P-256")
    now = int(time.time())
    bearer = keys.token(claims=mint.default_claims(iat=now, exp=now + 3 * 3600), key="ec")
    bound = keys.token(claims=mint.default_claims(iat=now, exp=now + 3 * 3600,
                                                  cnf={"jkt": key.thumbprint()}), key="ec")
    url = srv.url("/small.txt")
    n = args.dpop_proofs
    procs = max(1, min(os.cpu_count() or 1, 4))
    step = (n + procs - 1) // procs
    jobs = [(key.export(), bound, url, s0, min(step, n - s0)) for s0 in range(0, n, step)]
    with multiprocessing.Pool(procs) as pool:
        proofs = [p for batch in pool.map(_mint_proofs, jobs) for p in batch]
    files = {}
    for name, lines in (("bearer", [bearer]), ("dpop", ["%s\t%s" % (bound, p) for p in proofs])):
        files[name] = os.path.join(workdir, "dpop-%s.txt" % name)
        with open(files[name], "w") as f:
            f.write("\n".join(lines) + "\n")
        os.chmod(files[name], 0o644)
    srv.start()
    try:
        st, _ = srv.get("/small.txt", bearer)
        assert st == 200, "bearer token refused: %s" % st
        res = {}
        for name, scheme in (("bearer", "Bearer"), ("dpop", "DPoP")):
            res[name] = wrk(args, url, files[name], args.duration, scheme=scheme,
                            partition=(name == "dpop"))
        for name in ("bearer", "dpop"):
            r = res[name]
            out("   %-7s %10.0f req/s  p50 %6.2f ms  p99 %6.2f ms  non-2xx %d of %d"
                % (name, r["rps"], r["p50"], r["p99"], r["non2xx"], r["requests"]))
        if res["dpop"]["requests"] > n:
            out("   (more requests than proofs: %d > %d; the wrapped ones were replays, "
                "refused: raise --dpop-proofs)" % (res["dpop"]["requests"], n))
        out("   DPoP / bearer request rate: %.2f" % (res["dpop"]["rps"] / res["bearer"]["rps"]))
    finally:
        srv.stop()
    out()


def callgrind_ir(workdir, mode, alg, iters, functions=()):
    """Instructions per iteration of bench_loop_<mode>, and the inclusive
    share of some functions inside it."""
    outf = os.path.join(workdir, "callgrind.%s.%s.out" % (mode, alg))
    p = sh(["valgrind", "--tool=callgrind", "--callgrind-out-file=" + outf,
            "--toggle-collect=bench_loop_" + mode, BENCH_CORE, "--callgrind", mode, alg,
            str(iters)], timeout=1200)
    if p.returncode != 0:
        raise RuntimeError("callgrind failed:\n" + p.stdout[-2000:])
    ann = sh(["callgrind_annotate", "--inclusive=yes", "--threshold=100", outf]).stdout
    m = re.search(r"^\s*([\d,]+) \([\d. ]+%\)\s+PROGRAM TOTALS", ann, re.M)
    total = int(m.group(1).replace(",", ""))
    shares = {}
    for fn in functions:
        for line in ann.splitlines():
            mm = re.match(r"^\s*([\d,]+) \(\s*[\d.]+%\)\s+\S*?:" + re.escape(fn)
                          + r"(?:\.[\w.]+)?(?:'\d+)? \[", line)
            if mm:
                shares[fn] = int(mm.group(1).replace(",", "")) / total
                break
    return total / iters, shares, outf


def callgrind_section(out, args, workdir):
    out("== instructions per validation (valgrind --tool=callgrind, RS256, "
        "collection on the measured loop only)")
    n = args.callgrind_iters
    cached, cs, _ = callgrind_ir(workdir, "cached", "RS256", n,
                                 ["cka_seal_name", "cka_tcache_get", "cka_keyset_find_thumb",
                                  "cka_validate_claims"])
    out("   cached validation: %.0f instructions (Ir / %d iterations)" % (cached, n))
    out("      of which the keyed name of the token (cka_seal_name, HMAC-SHA256) %.0f%%, "
        "front lookup (cka_tcache_get) %.0f%%, the very key still in the set "
        "(cka_keyset_find_thumb) %.0f%%, claims re-check (cka_validate_claims) %.0f%%"
        % (100 * cs.get("cka_seal_name", 0), 100 * cs.get("cka_tcache_get", 0),
           100 * cs.get("cka_keyset_find_thumb", 0), 100 * cs.get("cka_validate_claims", 0)))
    hash_ir = cached * cs.get("cka_seal_name", 0)
    out("      i.e. %.0f instructions besides the HMAC" % (cached - hash_ir))
    nc = max(20, n // 20)
    cold, cc, _ = callgrind_ir(workdir, "cold", "RS256", nc,
                               ["cka_jws_parse", "cjose_jws_import", "cjose_jws_verify",
                                "RSA_verify", "apr_pool_clear"])
    raw, rc, _ = callgrind_ir(workdir, "raw", "RS256", nc,
                              ["RSA_verify", "EVP_DigestVerifyInit"])
    out("   cold validation:   %.0f instructions; raw EVP_DigestVerify: %.0f (ratio %.2f)"
        % (cold, raw, raw / cold))
    out("      cold: RSA_verify (the modular exponentiation) %.0f%%, strict parse "
        "(cka_jws_parse: base64url + 2 JSON objects) %.0f%%, cjose_jws_import "
        "(cjose decodes and parses the token again) %.0f%%, the rest of "
        "cjose_jws_verify %.0f%%, pool clear %.0f%%"
        % (100 * cc.get("RSA_verify", 0), 100 * cc.get("cka_jws_parse", 0),
           100 * cc.get("cjose_jws_import", 0),
           100 * (cc.get("cjose_jws_verify", 0) - cc.get("RSA_verify", 0)),
           100 * cc.get("apr_pool_clear", 0)))
    out("      raw:  RSA_verify %.0f%%, EVP_DigestVerifyInit %.0f%%"
        % (100 * rc.get("RSA_verify", 0), 100 * rc.get("EVP_DigestVerifyInit", 0)))
    out("   (valgrind's CPU model has no SHA-NI, so SHA-256 costs more instructions "
        "here than on the host)")
    out()


def start_token_endpoint(workdir, keys):
    """The TLS token endpoint of variant K (tests/idp/idp_server.py, in this
    process): client CC_CLIENT gets an RS256 token of the test key for
    ISSUER/AUDIENCE, living 6 h. Sets Server.token_endpoint."""
    sys.path.insert(0, os.path.join(TOP, "tests", "idp"))
    import idp_server
    pki = idp_server.Pki(os.path.join(workdir, "pki"))
    idp = idp_server.IdP(pki).start()
    kd = mint.KeyDir(keys.dir)

    def mint_cc(claims):
        c = mint.default_claims(sub=claims["sub"], email="%s@clients.example.test" % claims["sub"],
                                jti=claims["jti"], iat=claims["iat"],
                                exp=claims["iat"] + 6 * 3600)
        return kd.token(claims=c, key="rsa")

    idp.token_endpoint(CC_PATH, mint_cc, clients={CC_CLIENT: CC_SECRET}, lifetime=6 * 3600)
    Server.token_endpoint = (idp.url + CC_PATH, pki.ca_file)
    return idp


def start_introspection_endpoint(workdir, tokens):
    """The TLS introspection endpoint of variant I (tests/idp/idp_server.py,
    in this process): client IS_CLIENT (client_secret_basic); tokens are
    active for ISSUER/AUDIENCE for 6 h. Sets Server.introspection; returns
    (idp, endpoint)."""
    sys.path.insert(0, os.path.join(TOP, "tests", "idp"))
    import idp_server
    pki = idp_server.Pki(os.path.join(workdir, "pki-is"))
    idp = idp_server.IdP(pki).start()
    ep = idp.introspection_endpoint(IS_PATH, {IS_CLIENT: {"auth": "basic",
                                                          "secret": IS_SECRET}})
    for t in tokens:
        ep.answers[t] = active_answer()
    secret = os.path.join(workdir, "introspect.secret")
    with open(secret, "w") as f:
        f.write(IS_SECRET + "\n")
    os.chmod(secret, 0o600)
    Server.introspection = (idp.url + IS_PATH, pki.ca_file, secret)
    return idp, ep


def active_answer():
    now = int(time.time())
    return {"active": True, "iss": ISSUER, "aud": AUDIENCE, "sub": "bench-user",
            "email": "bench@example.test", "groups": ["bench"], "iat": now,
            "exp": now + 6 * 3600, "scope": "read"}


def introspection_cold(out, srv, ep, calls):
    """The cold path of variant I: `calls` fresh tokens one after the other
    (each a call to the local endpoint), next to the cached token."""
    def timed(tok):
        t = time.monotonic()
        st, _ = srv.get("/small.txt", tok)
        return time.monotonic() - t, st
    cached_tok = next(iter(ep.answers))
    timed(cached_tok)
    cached = sorted(timed(cached_tok)[0] for _ in range(calls))
    cold, bad = [], 0
    before = sum(ep.calls.values())
    for i in range(calls):
        tok = "bench-cold-%d-%s" % (i, os.urandom(12).hex())
        ep.answers[tok] = active_answer()
        d, st = timed(tok)
        bad += st != 200
        cold.append(d)
    cold.sort()
    made = sum(ep.calls.values()) - before
    med = lambda xs: xs[len(xs) // 2]
    out("   I cold path: %d fresh tokens, %d call(s) to the local TLS endpoint, %d not 200;"
        % (calls, made, bad))
    out("     median %.2f ms (p90 %.2f ms) vs cached %.2f ms: %.2f ms added per call "
        "(TLS handshake + POST + a Python endpoint)"
        % (1e3 * med(cold), 1e3 * cold[int(len(cold) * 0.9)], 1e3 * med(cached),
           1e3 * (med(cold) - med(cached))))


def check_variant(srv, variant, tokens):
    """Before measuring: auth is really enforced and the tokens pass."""
    kind = VARIANTS[variant][1]
    scheme = SCHEMES.get(VARIANTS[variant][2], "Bearer")
    for _, path in TARGETS:
        st, _ = srv.get(path, tokens[0], scheme)
        if st != 200:
            raise RuntimeError("variant %s %s: a valid token got %d:\n%s"
                               % (variant, path, st, srv.error_log()[-2000:]))
        if kind:
            st, _ = srv.get(path)
            if st != 401:
                raise RuntimeError("variant %s %s: no token got %d" % (variant, path, st))
            bad = tokens[0][:-8] + ("AAAAAAAA" if not tokens[0].endswith("AAAAAAAA") else "BBBBBBBB")
            if scheme == "Basic":       # a wrong secret: refused by the IdP
                bad = base64.b64encode(("%s:wrong" % CC_CLIENT).encode()).decode()
            if variant == "P":          # an API key passes unverified: a JWT
                good = Server.one_token  # of the issuer must still be checked
                bad = good[:-8] + ("AAAAAAAA" if not good.endswith("AAAAAAAA") else "BBBBBBBB")
            st, _ = srv.get(path, bad, scheme)
            if st != 401:
                raise RuntimeError("variant %s %s: a bad signature got %d" % (variant, path, st))


def http_section(out, args, workdir, keys, token_files, token_lists):
    out("== requests/s: one httpd family (event MPM, 2 children x 64 threads, keep-alive, "
        "AllowOverride None, socache_shmcb, no access log), wrk -t%d -c%d -d%ds, %d-byte file"
        % (args.threads, args.connections, args.duration, SMALL_FILE_BYTES))
    backend = Server(workdir, "backend", keys, 9).start()
    servers = {}
    results = {}
    log_start = {}
    idp = start_token_endpoint(workdir, keys) if "K" in args.variants else None
    is_idp, is_ep = (start_introspection_endpoint(workdir, token_lists["opaque"])
                     if "I" in args.variants else (None, None))
    try:
        variants = [v for v in VARIANTS if v in args.variants]
        for v in variants:
            servers[v] = Server(workdir, v, keys, backend.port).start()
            check_variant(servers[v], v, token_lists[VARIANTS[v][2]])
            # the checks' refusals are logged (mod_auth_openidc at error level)
            log_start[v] = len(servers[v].error_log())
        for rnd in range(args.rounds):
            order = variants if rnd % 2 == 0 else list(reversed(variants))
            for tname, path in TARGETS:
                for v in order:
                    srv = servers[v]
                    tf = token_files[VARIANTS[v][2]]
                    others = wait_idle(args, out)
                    scheme = SCHEMES.get(VARIANTS[v][2], "Bearer")
                    if args.warmup:
                        wrk(args, srv.url(path), tf, args.warmup, scheme)
                    before = srv.counters() if VARIANTS[v][1] == "cka" else None
                    r = wrk(args, srv.url(path), tf, args.duration, scheme)
                    r["others"] = others
                    after = srv.counters() if VARIANTS[v][1] == "cka" else None
                    if before and after:
                        r["counters"] = {k: after[k] - before[k] for k in after}
                    results.setdefault((v, tname), []).append(r)
                    flag = ""
                    if r["non2xx"] or r["sockerr"] or not r["requests"]:
                        flag = "  (!! non-2xx %d, socket errors %s)" % (r["non2xx"], r["sockerr"])
                        if args.verbose:
                            out(r["text"])
                    out("   round %d  %-5s %s %9.0f req/s  p99 %6.2f ms   (CPU used by "
                        "others just before: %3.0f%%)%s"
                        % (rnd + 1, tname, v, r["rps"], r["p99"], 100 * others, flag))
        if "I" in servers:
            introspection_cold(out, servers["I"], is_ep, args.cold_calls)
        for v in variants:
            log = servers[v].error_log()[log_start[v]:]
            bad = [l for l in log.splitlines()
                   if re.search(r":(error|crit|alert|emerg)\]", l)]
            if bad:
                out("   !! %s error_log: %d error lines, first: %s" % (v, len(bad), bad[0][:200]))
    finally:
        for s in servers.values():
            s.stop()
        backend.stop()
        if idp is not None:
            out("   K: %d exchange(s) at the token endpoint in all" % idp.count(CC_PATH))
            idp.stop()
        if is_idp is not None:
            out("   I: %d call(s) at the introspection endpoint in all" % is_idp.count(IS_PATH))
            is_idp.stop()
    out()

    def valid(r):
        return r["requests"] > 0 and not r["non2xx"] and not r["sockerr"]

    bad = sum(not valid(r) for rs in results.values() for r in rs)
    if bad:
        out("   !! %d figure(s) with errors or no answers, left out of the medians" % bad)

    def median(xs):
        xs = sorted(xs)
        n = len(xs)
        return xs[n // 2] if n % 2 else (xs[n // 2 - 1] + xs[n // 2]) / 2

    out("   median of %d round(s) [lowest - highest]:" % args.rounds)
    out("   %-42s %s   %s"
        % ("variant", " ".join("%22s %7s" % (t + " req/s", "p99 ms") for t, _ in TARGETS),
           "cache hits (%s)" % " / ".join(t for t, _ in TARGETS)))
    for v in VARIANTS:
        if v not in args.variants:
            continue
        cells = []
        hits = []
        for t, _ in TARGETS:
            rs = [r for r in results[(v, t)] if valid(r)] or results[(v, t)]
            rps = [r["rps"] for r in rs]
            cells.append("%6.0f [%6.0f-%6.0f]" % (median(rps), min(rps), max(rps)))
            cells.append("%7.1f" % median([r["p99"] for r in rs]))
            cs = [r["counters"] for r in rs if r.get("counters")]
            h = sum(c["hits"] for c in cs)
            m = sum(c["misses"] for c in cs)
            if h + m:
                hits.append("%.1f%%" % (100.0 * h / (h + m)))
            elif v == "P":
                hits.append("none (not verified)")
            elif v == "I":
                hits.append("n/a (introspection cache)")
            elif VARIANTS[v][1] == "cka":
                hits.append("?")
        out("   %s %-40s %s   %s"
            % (v, VARIANTS[v][0], " ".join("%22s %7s" % (cells[2 * i], cells[2 * i + 1])
                                          for i in range(len(TARGETS))), " / ".join(hits)))
    out()
    out("   ratios: median over the rounds of the ratio within each round "
        "(both figures of a ratio are measured minutes apart at most)")
    out("   %-12s %s   %s" % ("ratio", " ".join("%20s" % t for t, _ in TARGETS), "target"))
    ratio_vals = {}
    for name, a, b, target in RATIOS:
        if a not in args.variants or any(v not in args.variants for v in b):
            continue
        vals, cells = [], []
        for t, _ in TARGETS:
            # round by round: a's figure over the best of b's figures
            rr = [x["rps"] / max(y["rps"] for y in ys)
                  for x, *ys in zip(results[(a, t)], *(results[(v, t)] for v in b))
                  if valid(x) and all(valid(y) for y in ys)] or [float("nan")]
            vals.append(median(rr))
            cells.append("%5.2f [%4.2f-%4.2f]" % (median(rr), min(rr), max(rr)))
        if target:
            verdict = ", ".join("%s %s" % (t, "met" if x >= target else
                                             "MISSED by %.0f%%" % ((target - x) / target * 100))
                                for (t, _), x in zip(TARGETS, vals))
            tgt = ">= %.2f (%s)" % (target, verdict)
        else:
            tgt = "(no target)"
        out("   %-12s %s   %s" % (name, " ".join("%20s" % c for c in cells), tgt))
        ratio_vals[name] = vals
    out()
    if "O" in args.variants or "Q" in args.variants:
        out("   side by side (%s): this module and %s's, medians of the ratios within "
            "each round" % (TARGETS[0][0], OLD_COMMIT))
        out("   %-34s %10s %10s   %s" % ("", "this", OLD_COMMIT, "target (this)"))
        for label, mine, old, target in SIDE_BY_SIDE:
            if mine in ratio_vals or old in ratio_vals:
                m = ratio_vals.get(mine, [float("nan")])[0]
                o = ratio_vals.get(old, [float("nan")])[0]
                out("   %-34s %10.2f %10.2f   >= %.2f %s" % (label, m, o, target,
                                                         "met" if m >= target else "MISSED"))
        out()
    return results


def perf_section(out, args, workdir, keys, token_files):
    """Where the httpd children spend their cycles, by shared object, for
    A, B, C, E and G on the small file (perf record -p <children>)."""
    if not shutil.which("perf"):
        out("== profile: perf not installed (apt-get install linux-perf); skipped")
        out()
        return
    variants = [v for v in "ABCEG" if v in args.variants]
    out("== where the time goes: perf record of the httpd children during a %ds wrk "
        "run on the small file (share of their samples by shared object)" % args.duration)
    backend = Server(workdir, "backend", keys, 9, name="perf-backend").start()
    tables, syms = {}, {}
    try:
        for v in variants:
            srv = Server(workdir, v, keys, backend.port, name="perf-" + v).start()
            try:
                tf = token_files[VARIANTS[v][2]]
                wrk(args, srv.url("/small.txt"), tf, max(1, args.warmup))
                data = os.path.join(workdir, "perf-%s.data" % v)
                pids = ",".join(str(p) for p in srv.children())
                rec = subprocess.Popen(["perf", "record", "-q", "-F", "999", "-o", data, "-p", pids,
                                        "--", "sleep", str(args.duration)],
                                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                r = wrk(args, srv.url("/small.txt"), tf, args.duration)
                rec.wait(args.duration + 30)
                rep = sh(["perf", "report", "-i", data, "--stdio", "--sort", "dso",
                          "--percent-limit", "0.3"]).stdout
                tables[v] = {}
                for line in rep.splitlines():
                    m = re.match(r"^\s+([\d.]+)%\s+(\S.*?)\s*$", line)
                    if m:
                        tables[v][m.group(2)] = float(m.group(1))
                rep = sh(["perf", "report", "-i", data, "--stdio", "--sort", "dso,sym",
                          "--percent-limit", "0.3"]).stdout
                syms[v] = [re.sub(r"\s+", " ", l.strip()) for l in rep.splitlines()
                           if re.match(r"^\s+[\d.]+%", l) and "[kernel" not in l][:10]
                tables[v]["_rps"] = r["rps"]
            finally:
                srv.stop()
    finally:
        backend.stop()
    dsos = sorted({d for t in tables.values() for d in t if d != "_rps"},
                  key=lambda d: -max(t.get(d, 0) for t in tables.values()))
    out("   %-34s" % "shared object" + "".join("%10s" % v for v in variants))
    for d in dsos[:14]:
        out("   %-34s" % d[:34] + "".join("%9.1f%%" % tables[v].get(d, 0) for v in variants))
    out("   %-34s" % "(req/s during the profile)" + "".join("%10.0f" % tables[v]["_rps"]
                                                           for v in variants))
    for v in variants:
        if v != "A":
            out("   top user-space symbols, %s (%s), %% of all samples:" % (v, VARIANTS[v][0]))
            for l in syms[v]:
                out("      " + l)
    out()


def rss_section(out, args, workdir, keys, tokens_path, arena_max=None):
    env = {"MALLOC_ARENA_MAX": str(arena_max)} if arena_max else {}
    out("== RSS of each httpd child: variant C config, %d distinct RS256 tokens in rotation "
        "(front cache: 8192 slots a child), %d requests after warm-up%s"
        % (args.rss_tokens, args.rss_requests,
           "; httpd run with MALLOC_ARENA_MAX=%d" % arena_max if arena_max else
           "; glibc malloc defaults"))
    backend = Server(workdir, "backend", keys, 9, name="rss-backend").start()
    srv = Server(workdir, "C", keys, backend.port, name="rss-%s" % (arena_max or "default"),
                 env=env).start()
    try:
        def rss():
            return srv.children()

        def detail():
            anon, shm = srv.children("RssAnon"), srv.children("RssShmem")
            return anon, shm, "private (RssAnon) %s; shared memory (RssShmem) %s" % (
                fmt_rss(anon), fmt_rss(shm))
        r0 = rss()
        out("   after start:   %s" % fmt_rss(r0))
        out("                  %s" % detail()[2])

        def run_until(n_requests, label):
            c0 = srv.counters()["allowed"]
            done = 0
            t0 = time.time()
            rate = 3000.0
            while done < n_requests:
                left = n_requests - done
                dur = int(max(1, min(10, round(left / rate))))
                t1 = time.time()
                r = wrk(args, srv.url("/small.txt"), tokens_path, dur)
                rate = max(100.0, r["requests"] / max(0.5, time.time() - t1))
                if r["non2xx"] or r["sockerr"]:
                    out("   !! non-2xx %d, socket errors %s" % (r["non2xx"], r["sockerr"]))
                done = srv.counters()["allowed"] - c0
                if args.verbose:
                    out("      %s: %d requests, RSS %s" % (label, done, fmt_rss(rss())))
            return done, time.time() - t0

        c_start = srv.counters()
        # Warm-up: every child sees every token about 5 times, so the front
        # caches are as full as they get.
        done, secs = run_until(10 * args.rss_tokens, "warm-up")
        r1 = rss()
        a1, s1, d1 = detail()
        out("   after warm-up: %s   (%d requests, %.0f s)" % (fmt_rss(r1), done, secs))
        out("                  %s" % d1)
        c_mid = srv.counters()
        done, secs = run_until(args.rss_requests, "run")
        r2 = rss()
        a2, s2, d2 = detail()
        c_end = srv.counters()
        out("   after the run: %s   (%d requests, %.0f s, %.0f req/s)"
            % (fmt_rss(r2), done, secs, done / secs))
        out("                  %s" % d2)
        hits = c_end["hits"] - c_mid["hits"]
        misses = c_end["misses"] - c_mid["misses"]
        out("   during the run: cache hits %d, misses (full verifications) %d (%.0f%% misses);"
            " denied %d" % (hits, misses, 100.0 * misses / max(1, hits + misses),
                            c_end["denied"] - c_start["denied"]))
        worst = 0.0
        for pid in sorted(r1):
            if pid not in r2:
                out("   !! child %d was replaced during the run" % pid)
                continue
            ch = 100.0 * (r2[pid] - r1[pid]) / r1[pid]
            worst = max(worst, abs(ch))
            out("   child %d: %d kB -> %d kB (%+.1f%%; private %+d kB, shared memory %+d kB); "
                "from start %d kB (%+.1f%%)"
                % (pid, r1[pid], r2[pid], ch, a2.get(pid, 0) - a1.get(pid, 0),
                   s2.get(pid, 0) - s1.get(pid, 0), r0.get(pid, 0),
                   100.0 * (r2[pid] - r0[pid]) / r0[pid] if r0.get(pid) else float("nan")))
        out("   target: within 5%% after warm-up: worst %.1f%% -> %s%s"
            % (worst, "met" if worst <= 5 else "MISSED",
               "" if args.rss_requests >= 1000000 else
               " (over %d requests; the issue's figure is for --rss-requests 1000000)"
               % args.rss_requests))
    finally:
        srv.stop()
        backend.stop()
    out()


def fmt_rss(d):
    return ", ".join("%d: %d kB" % (pid, kb) for pid, kb in sorted(d.items()))


def main():
    global MODULE, ORIG_MODULE, BENCH_CORE, BENCH_DPOP, TARGETS, OLD_MODULE
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 epilog=__doc__.split("\n\n", 1)[1],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--duration", type=int, default=5, help="seconds per wrk figure (5)")
    ap.add_argument("--warmup", type=int, default=1, help="seconds of wrk before each figure (1)")
    ap.add_argument("--rounds", type=int, default=5, help="rounds over the variants (5)")
    ap.add_argument("--threads", type=int, default=2, help="wrk threads (2)")
    ap.add_argument("--connections", type=int, default=32, help="wrk connections (32)")
    ap.add_argument("--tokens", type=int, default=2000, help="distinct tokens of C, D, F (2000)")
    ap.add_argument("--cold-calls", type=int, default=200,
                    help="fresh opaque tokens of variant I's cold-path figure (200)")
    ap.add_argument("--targets", default="file",
                    help="comma list of file, proxy (file: the 1 KiB file of issue 24)")
    ap.add_argument("--old-module", default=OLD_MODULE, metavar="PATH",
                    help="the %s module of variants O and Q ($CKA_OLD_MODULE; run_bench.sh "
                         "builds it)" % OLD_COMMIT)
    ap.add_argument("--variants", default="".join(VARIANTS),
                    help="subset of %s to run (all)" % "".join(VARIANTS))
    ap.add_argument("--module", default=MODULE, metavar="PATH",
                    help="mod_conduktor_auth.so to measure (%s; or $CKA_MODULE)"
                         % os.path.relpath(MODULE, TOP))
    ap.add_argument("--bench-core", default=BENCH_CORE, metavar="PATH",
                    help="the bench_core binary (%s)" % os.path.relpath(BENCH_CORE, TOP))
    ap.add_argument("--bench-dpop", default=BENCH_DPOP, metavar="PATH",
                    help="the bench_dpop binary (%s)" % os.path.relpath(BENCH_DPOP, TOP))
    ap.add_argument("--rss-tokens", type=int, default=20000,
                    help="distinct tokens of the RSS run (20000)")
    ap.add_argument("--rss-requests", type=int, default=300000,
                    help="requests of the RSS run after warm-up (300000; the issue's "
                         "target is stated for 1000000)")
    ap.add_argument("--malloc-arena-max", type=int, default=0, metavar="N",
                    help="run the RSS check once more with httpd under MALLOC_ARENA_MAX=N "
                         "(glibc keeps one malloc arena per thread by default, up to 8 a "
                         "core; fewer arenas, less RSS drift)")
    ap.add_argument("--rss-arena-only", action="store_true",
                    help="with --malloc-arena-max: only that RSS run")
    ap.add_argument("--core-seconds", type=float, default=2.0,
                    help="seconds per core micro-benchmark figure (2)")
    ap.add_argument("--callgrind-iters", type=int, default=2000,
                    help="cached validations under callgrind (2000)")
    ap.add_argument("--skip", default="", help="comma list of sections to skip: "
                    "core,dpop,callgrind,http,perf,rss")
    ap.add_argument("--dpop-proofs", type=int, default=40000,
                    help="DPoP proofs minted for the DPoP workload, each sent once (40000)")
    ap.add_argument("--wait-idle", type=int, default=0, metavar="SECONDS",
                    help="before each figure wait up to SECONDS for the machine to be "
                         "idle (others < 15%% CPU); for shared machines (0)")
    ap.add_argument("--nice", type=int, default=-15,
                    help="run at this nice level, and give the servers' scheduling "
                         "autogroups the same (root only), so that other work on a shared "
                         "machine disturbs the figures less; 0 to leave it (-15)")
    ap.add_argument("--out", help="also write the report to this file")
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory")
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args()
    skip = set(filter(None, args.skip.split(",")))
    unknown = set(args.variants) - set(VARIANTS)
    if unknown:
        sys.exit("unknown variant(s) %s: choose from %s" % ("".join(sorted(unknown)),
                                                           "".join(VARIANTS)))
    MODULE = ORIG_MODULE = os.path.abspath(args.module)
    TARGETS = [t for t in ALL_TARGETS if t[0] in args.targets.split(",")]
    if not TARGETS:
        sys.exit("--targets: file, proxy or both")
    OLD_MODULE = os.path.abspath(args.old_module) if args.old_module else ""
    if set("OQ") & set(args.variants) and not os.path.exists(OLD_MODULE):
        print("no %s module (--old-module): variants O and Q left out" % OLD_COMMIT)
        args.variants = "".join(v for v in args.variants if v not in "OQ")
    BENCH_CORE = os.path.abspath(args.bench_core)
    BENCH_DPOP = os.path.abspath(args.bench_dpop)

    for tool in ("wrk", APACHE, "valgrind"):
        if not shutil.which(tool):
            sys.exit("missing %s: run tests/bench/run_bench.sh (it installs it)" % tool)
    needed = [MODULE]
    if not {"core", "callgrind"} <= skip:
        needed.append(BENCH_CORE)
    if "http" not in skip:
        needed += [OPENIDC] if set("EF") & set(args.variants) else []
        needed += [OAUTH2] if set("GH") & set(args.variants) else []
    for f in needed:
        if not os.path.exists(f):
            sys.exit("missing %s: run tests/bench/run_bench.sh (it builds / installs it)" % f)

    # Stopped by a signal: still stop every server (the finally clauses).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    signal.signal(signal.SIGINT, signal.default_int_handler)
    global NICE
    if args.nice and os.geteuid() == 0:
        NICE = args.nice
        os.nice(args.nice)
        boost(os.getpid())
    out = Out(args.out)
    workdir = tempfile.mkdtemp(prefix="/tmp/cka-bench-")
    os.chmod(workdir, 0o755)
    # A copy of the module: a rebuild in the tree during the run changes nothing.
    copy = os.path.join(workdir, "mod_conduktor_auth.so")
    shutil.copy2(MODULE, copy)
    os.chmod(copy, 0o755)
    MODULE = copy
    if OLD_MODULE:
        old_copy = os.path.join(workdir, "mod_conduktor_auth-%s.so" % OLD_COMMIT)
        shutil.copy2(OLD_MODULE, old_copy)
        os.chmod(old_copy, 0o755)
        OLD_MODULE = old_copy
    t0 = time.time()
    try:
        machine_header(out, args)
        if "core" not in skip:
            core_section(out, args)
        if "dpop" not in skip:
            dpop_core_section(out, args)
        if "callgrind" not in skip:
            callgrind_section(out, args, workdir)
        keys = mint.make_keys(os.path.join(workdir, "keys"))
        if "dpop" not in skip:
            dpop_http_section(out, args, workdir, keys)
        if "http" in skip and "rss" in skip:
            return
        token_files, token_lists = {}, {}
        if "http" not in skip:
            for name, key, n in (("one", "rsa", 1), ("rs", "rsa", args.tokens),
                                 ("es", "ec", args.tokens)):
                token_files[name] = os.path.join(workdir, "tokens-%s.txt" % name)
                token_lists[name] = mint_tokens(keys.dir, key, n, token_files[name])
            Server.one_token = token_lists["one"][0]
            token_files["apikey"] = os.path.join(workdir, "tokens-apikey.txt")
            token_lists["apikey"] = [mint._api_key()]
            with open(token_files["apikey"], "w") as f:
                f.write(token_lists["apikey"][0] + "\n")
            os.chmod(token_files["apikey"], 0o644)
            token_files["opaque"] = os.path.join(workdir, "tokens-opaque.txt")
            token_lists["opaque"] = ["bench-opaque-" + os.urandom(16).hex()]
            with open(token_files["opaque"], "w") as f:
                f.write(token_lists["opaque"][0] + "\n")
            os.chmod(token_files["opaque"], 0o644)
            token_files["basic"] = os.path.join(workdir, "tokens-basic.txt")
            token_lists["basic"] = [base64.b64encode(
                ("%s:%s" % (CC_CLIENT, CC_SECRET)).encode()).decode()]
            with open(token_files["basic"], "w") as f:
                f.write(token_lists["basic"][0] + "\n")
            os.chmod(token_files["basic"], 0o644)
            http_section(out, args, workdir, keys, token_files, token_lists)
            if "perf" not in skip:
                perf_section(out, args, workdir, keys, token_files)
        if "rss" not in skip:
            path = os.path.join(workdir, "tokens-rss.txt")
            mint_tokens(keys.dir, "rsa", args.rss_tokens, path)
            if not args.rss_arena_only:
                rss_section(out, args, workdir, keys, path)
            if args.malloc_arena_max:
                rss_section(out, args, workdir, keys, path, args.malloc_arena_max)
        out("load at the end: %s; total time %.0f s" % (loadavg(), time.time() - t0))
    finally:
        if args.keep:
            print("kept " + workdir)
        else:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
