#!/usr/bin/python3
"""Load and faults (issue 6, item 4): wrk against a real httpd with the
module, on loopback, bounded in time. Run it through tests/load/run_load.sh
(which installs wrk when missing and builds the module first).

Servers (all on 127.0.0.1, in a temporary directory removed at the end):
  front    httpd, event MPM, the freshly built module. /api/... is
           protected and proxied (mod_proxy_http, pooled keep-alive) to the
           backend; /static/hello.txt is a protected local file;
           /remote/... is protected and proxied like /api/. Issuers: the
           test issuer with a local JWKS file, and an issuer whose keys
           come from the TLS test IdP (remote JWKS, Cache-Control
           max-age=60, ConduktorAuthJWKSMissRefetch 5). mod_headers echoes
           the request's X-Load-Kind header on every answer (401/403 too).
  backend  a second httpd (no auth) answering 200 with a small JSON file.
  IdP      tests/idp/idp_server.py in this process (HTTPS, test CA).

Phase 1 (--duration, default 60 s): wrk, --connections (64) on --threads
  (2), --timeout 10 s, every request on a new connection (Connection:
  close; see "Keep-alive" below), tests/load/load.lua rotating through a mix of
  tokens of the local issuer on /api/ and /static/: valid (-> 200), expired,
  forged (signed by keys that are not the published ones with a published
  kid; alg none; HS256 keyed with the RSA public key; a payload changed
  under a valid signature; a truncated signature) and malformed (1, 2, 4, 5
  segments, non-JSON header, non-canonical base64url, an over-long token,
  no token at all) (-> 401). `apache2 -k graceful` is sent at --graceful
  (20 s and 40 s).
Phase 2 (--phase2, default 75 s), on keep-alive connections: the same with tokens of the IdP's issuer
  on /remote/ and /static/: valid (-> 200), expired, forged, unknown kid and
  malformed (-> 401). The keys are fetched (one warm-up request) just before
  wrk starts; the IdP is stopped --idp-stop (5) s into the phase. The key set
  turns stale 60 s after its last fetch: from then on the module's refresh
  attempts fail (the IdP is down) and the last good key set must stay in
  use, so valid tokens keep passing with a stale key set for the last ~10 s
  of the phase (needs --phase2 >= --idp-stop + 65 or so).

Keep-alive. Two httpd behaviours, independent of this module (measured
with the module left out of the same configuration: the same wrk "read"
errors), make wrk count socket errors on keep-alive connections, because
wrk sends the next request at once and never retries one whose connection
the server closed before answering (an HTTP client should, RFC 9112 9.3.1):
  - the event MPM closes idle keep-alive connections when all threads of a
    process are busy: the front gets ThreadsPerChild >= --connections;
  - a graceful restart closes the old generation's idle keep-alive
    connections (the request wrk just wrote on one is never read): so
    phase 1, which has the graceful restarts, sends Connection: close (64
    connections open at any time, each carries one request; httpd must
    answer every connection it accepted, old generation or new).
    --phase1-keepalive runs phase 1 on keep-alive connections to see it.

Violations (any one makes the exit status 1): a 5xx; a wrk socket error
(connect, read, write, timeout); an answer whose status is not the one of
its token kind (valid 200, every other kind 401), seen by wrk (the echoed
kind) or in the front's access log (which logs the request's kind); an
answer without the echoed kind; a graceful restart that did not happen
(the error log's AH00493 and new child processes); a child crash or a
[crit]/[alert]/[emerg] line, or a module [error] line other than the
expected key-fetch failures once the IdP is down; a piece of a token in a
log; a phase-2 valid token refused; an IdP fetch after the IdP was stopped.

Prints a summary table; --out FILE also writes everything printed to FILE.
"""
import argparse
import collections
import datetime
import hashlib
import hmac
import http.client
import json
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(TOP, "tests", "tools"))
sys.path.insert(0, os.path.join(TOP, "tests", "idp"))
import mint  # noqa: E402
import idp_server  # noqa: E402
from jwcrypto import jwk  # noqa: E402

APACHE = os.environ.get("CKA_APACHE", "/usr/sbin/apache2")
MODDIR = os.environ.get("CKA_MODDIR", "/usr/lib/apache2/modules")
MODULE = os.environ.get("CKA_MODULE", os.path.join(TOP, ".libs", "mod_conduktor_auth.so"))
LUA = os.path.join(HERE, "load.lua")
ISSUER = mint.DEFAULT_ISSUER
AUDIENCE = mint.DEFAULT_AUDIENCE
EXPECTED = {"valid": 200}              # every other kind: 401
MODULES = ["mpm_event", "unixd", "authn_core", "authz_core", "authz_host", "authz_user", "mime",
           "alias", "headers", "log_config", "proxy", "proxy_http", "socache_shmcb"]

OUT = []


def say(text=""):
    print(text, flush=True)
    OUT.append(text)


def expected_status(kind):
    return EXPECTED.get(kind.split("-", 1)[1] if kind.startswith("idp-") else kind, 401)


def clean_env():
    return {k: v for k, v in os.environ.items() if not k.startswith("APACHE_")}


def free_port():
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def builtin_modules():
    out = subprocess.run([APACHE, "-l"], stdout=subprocess.PIPE, text=True,
                         env=clean_env()).stdout
    return set(re.findall(r"mod_(\w+)\.c", out))


def b64(data):
    return mint.b64url(data)


# -- the servers ---------------------------------------------------------------------------
class Httpd:
    def __init__(self, root, port, body, modules, extra_modules=()):
        self.root, self.port = root, port
        for sub in ("logs", "run", "htdocs"):
            os.makedirs(os.path.join(root, sub), mode=0o755, exist_ok=True)
        os.chmod(root, 0o755)
        self.conf = os.path.join(root, "httpd.conf")
        self.error_log = os.path.join(root, "logs", "error_log")
        self.access_log = os.path.join(root, "logs", "access_log")
        builtin = builtin_modules()
        load = "\n".join("LoadModule %s_module %s/mod_%s.so" % (m, MODDIR, m)
                         for m in modules if m not in builtin)
        load += "".join("\nLoadModule %s %s" % m for m in extra_modules)
        text = ("ServerRoot \"%s\"\nDefaultRuntimeDir \"%s/run\"\nPidFile \"%s/run/httpd.pid\"\n"
                "Listen 127.0.0.1:%d\nServerName 127.0.0.1\nUser nobody\nGroup nogroup\n%s\n"
                "ErrorLog \"%s\"\n" % (root, root, root, port, load, self.error_log)) + body
        with open(self.conf, "w") as f:
            f.write(text)
        os.chmod(self.conf, 0o644)
        self.pid = None

    def ctl(self, *args, timeout=60):
        return subprocess.run([APACHE, "-f", self.conf] + list(args), env=clean_env(),
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                              timeout=timeout)

    def start(self):
        p = self.ctl("-k", "start")
        if p.returncode != 0:
            raise RuntimeError("httpd did not start (%s):\n%s\n%s" % (self.conf, p.stdout,
                                                                     self.read_error_log()))
        deadline = time.time() + 30
        pidfile = os.path.join(self.root, "run", "httpd.pid")
        while time.time() < deadline:
            if os.path.exists(pidfile) and port_open(self.port):
                with open(pidfile) as f:
                    self.pid = int(f.read().strip())
                return self
            time.sleep(0.1)
        raise RuntimeError("httpd did not come up:\n" + self.read_error_log())

    def stop(self):
        if self.pid is None:
            return
        try:
            os.kill(self.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        deadline = time.time() + 20
        while time.time() < deadline and alive(self.pid):
            time.sleep(0.1)
        if alive(self.pid):
            os.kill(self.pid, signal.SIGKILL)
        self.pid = None

    def read_error_log(self):
        try:
            with open(self.error_log, errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""


def port_open(port):
    import socket
    try:
        socket.create_connection(("127.0.0.1", port), 0.3).close()
        return True
    except OSError:
        return False


def alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False


# The backend keeps every pooled connection of the front's mod_proxy open:
# all its threads exist from the start and are never retired, with room for
# more connections than the front can pool (2 x 64 threads, more after a
# graceful restart). With fewer, the event MPM closes idle keep-alive
# connections when a process is busy, and mod_proxy, reusing one at that
# moment, answers 502 (AH01102 "error reading status line") - seen twice in
# 477,000 requests on a loaded machine with 2 x 32 backend threads.
BACKEND_CONF = """
LogLevel warn
TypesConfig /etc/mime.types
StartServers 4
ServerLimit 4
ThreadLimit 64
ThreadsPerChild 64
MaxRequestWorkers 256
MinSpareThreads 256
MaxSpareThreads 256
AsyncRequestWorkerFactor 4
KeepAlive On
MaxKeepAliveRequests 0
KeepAliveTimeout 120
Timeout 30
DocumentRoot "{root}/htdocs"
<Directory />
  Require all denied
</Directory>
<Directory "{root}/htdocs">
  Require all granted
</Directory>
AliasMatch "^/(api|remote)/" "{root}/htdocs/ok.json"
"""

FRONT_CONF = """
LogLevel notice
TypesConfig /etc/mime.types
LogFormat "%{{X-Load-Kind}}i\\t%>s\\t%{{CONDUKTOR_AUTH_ERROR}}e\\t%P\\t%{{sec}}t\\t%U" load
CustomLog "{root}/logs/access_log" load
StartServers 2
ServerLimit 8
ThreadLimit {threads}
ThreadsPerChild {threads}
MaxRequestWorkers {max_workers}
MinSpareThreads {threads}
MaxSpareThreads {max_workers}
KeepAlive On
KeepAliveTimeout 30
Timeout 30
LimitRequestFieldSize 65536
ProxyRequests Off
ProxyTimeout 30
DocumentRoot "{root}/htdocs"
<Directory />
  AllowOverride None
  Require all denied
</Directory>
<Directory "{root}/htdocs">
  Require all granted
</Directory>
Header always echo "^X-Load-Kind$"

ConduktorAuthIssuer {issuer} file:{keys}/jwks.json
ConduktorAuthIssuer {idp_issuer} {idp_jwks}
ConduktorAuthCAFile {ca}
ConduktorAuthHTTPTimeout 2
ConduktorAuthJWKSMissRefetch 5

ProxyPass "/api/" "http://127.0.0.1:{backend}/api/" ttl=20
ProxyPass "/remote/" "http://127.0.0.1:{backend}/remote/" ttl=20

<LocationMatch "^/(api|remote|static)/">
  AuthType conduktor-jwt
  AuthName "Conduktor"
  ConduktorAuthAudience {audience}
  Require valid-user
</LocationMatch>
<Location "/conduktor-auth-status">
  SetHandler conduktor-auth-status
  Require ip 127.0.0.1
</Location>
"""


# -- tokens ----------------------------------------------------------------------------------
class RemoteKey:
    """An EC key held by the IdP (published) or not (rogue)."""

    def __init__(self, kid):
        self.kid = kid
        self.jwk = jwk.JWK.generate(kty="EC", crv="P-256", kid=kid)

    def public(self):
        d = json.loads(self.jwk.export_public())
        d.update({"use": "sig", "alg": "ES256"})
        return d

    def token(self, iss, kid=None, **claims):
        now = int(time.time())
        body = {"iss": iss, "aud": AUDIENCE, "sub": "user-remote", "email": "remote@example.test",
                "groups": ["platform-team"], "iat": now, "exp": now + 1800,
                "jti": uuid.uuid4().hex}
        body.update(claims)
        return mint.sign(self.jwk, "ES256", {"alg": "ES256", "typ": "JWT",
                                              "kid": kid or self.kid}, body)


def forge_variants(valid_token, rsa_pem, i):
    """Tokens that look right but are not signed by a published key."""
    h, p, s = valid_token.split(".")
    body = json.loads(mint.b64url_decode(p))
    body["email"] = "mallory-%d@example.test" % i
    tampered = "%s.%s.%s" % (h, b64(json.dumps(body, separators=(",", ":"))), s)
    hs_hdr = b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": "rsa-1"}))
    signing_input = "%s.%s" % (hs_hdr, p)
    hs = "%s.%s" % (signing_input, b64(hmac.new(rsa_pem, signing_input.encode(),
                                                hashlib.sha256).digest()))
    none = "%s.%s." % (b64(json.dumps({"alg": "none", "typ": "JWT"})), p)
    truncated = "%s.%s.%s" % (h, p, s[:len(s) // 2])
    return [tampered, hs, none, truncated]


MALFORMED_SHAPES = 10


def malformed(valid_token, i):
    h, p, s = valid_token.split(".")
    shape = i % MALFORMED_SHAPES
    if shape == 0:
        return "abc%d" % i                                   # 1 segment
    if shape == 1:
        return "%s.%s" % (h, p)                              # 2 segments
    if shape == 2:
        return "%s.%s.%s.%s" % (h, p, s, s)                  # 4 segments
    if shape == 3:
        return "%s.%s.%s.%s.%s" % (h, p, s, p, s)            # 5 (JWE shape)
    if shape == 4:
        return "%s.%s.%s" % (b64("not json %d" % i), p, s)   # header not JSON
    if shape == 5:
        return "%s=.%s.%s" % (h, p, s)                       # padded base64url
    if shape == 6:
        return "%s.%s.%s" % (h.replace("e", "+", 1), p, s)   # not base64url
    if shape == 7:
        return "%s.%s.%s" % (h, b64("x" * (17 * 1024)), s)   # over 16 KiB
    if shape == 8:
        return "%s.%s.%s" % (b64(b"[1,2,3]"), p, s)          # header not an object
    return ""                                                # no token at all


def write_requests(path, entries):
    with open(path, "w") as f:
        for kind, urlpath, tok in entries:
            assert "\t" not in tok and "\n" not in tok
            f.write("%s\t%s\t%s\n" % (kind, urlpath, tok))


def phase1_requests(keys, n_valid):
    """(kind, path, token) in rotation: half valid, the rest expired,
    forged and malformed; /api/ (proxied) and /static/ (a file)."""
    now = int(time.time())
    rsa_pem = open(keys.path("rsa.pem"), "rb").read()
    key_kinds = ["rsa", "ec", "ed"]
    valid = [keys.token(key=key_kinds[i % 3], jti=uuid.uuid4().hex, exp=now + 1800,
                        email="user%d@example.test" % i) for i in range(n_valid)]
    expired = [keys.token(key=key_kinds[i % 3], jti=uuid.uuid4().hex, iat=now - 7200,
                          exp=now - 3600) for i in range(n_valid // 4)]
    forged = []
    for i in range(n_valid // 4):
        forged.append(keys.token(key="rogue-rsa" if i % 2 else "rogue-ec",
                                 jti=uuid.uuid4().hex, exp=now + 1800))
        forged.extend(forge_variants(valid[i], rsa_pem, i))
    bad = [malformed(valid[i], i) for i in range(max(n_valid // 4, MALFORMED_SHAPES))]
    pools = {"valid": valid, "expired": expired, "forged": forged, "malformed": bad}
    pattern = ["valid", "expired", "valid", "forged", "valid", "malformed"]
    out, idx = [], collections.Counter()
    for j in range(max(len(valid) * 2, 600)):
        kind = pattern[j % len(pattern)]
        pool = pools[kind]
        tok = pool[idx[kind] % len(pool)]
        idx[kind] += 1
        path = "/static/hello.txt" if j % 3 == 2 else "/api/clusters/%d" % (j % 97)
        out.append((kind, path, tok))
    return out, [t for pool in pools.values() for t in pool]


def phase2_requests(idp_key, rogue, iss, n_valid):
    now = int(time.time())
    valid = [idp_key.token(iss, email="r%d@example.test" % i) for i in range(n_valid)]
    expired = [idp_key.token(iss, iat=now - 7200, exp=now - 3600) for _ in range(n_valid // 4)]
    forged = [rogue.token(iss, kid=idp_key.kid) for _ in range(n_valid // 4)]
    forged += ["%s.%s." % (b64(json.dumps({"alg": "none", "kid": idp_key.kid})),
                           valid[0].split(".")[1])]
    unknown = [rogue.token(iss) for _ in range(n_valid // 8)]       # kid never published
    bad = [malformed(valid[i], i) for i in range(MALFORMED_SHAPES)]
    pools = {"idp-valid": valid, "idp-expired": expired, "idp-forged": forged,
             "idp-unknown-kid": unknown, "idp-malformed": bad}
    pattern = ["idp-valid", "idp-expired", "idp-valid", "idp-forged", "idp-valid",
               "idp-unknown-kid", "idp-valid", "idp-malformed"]
    out, idx = [], collections.Counter()
    for j in range(max(len(valid) * 2, 600)):
        kind = pattern[j % len(pattern)]
        pool = pools[kind]
        tok = pool[idx[kind] % len(pool)]
        idx[kind] += 1
        path = "/static/hello.txt" if j % 3 == 2 else "/remote/clusters/%d" % (j % 97)
        out.append((kind, path, tok))
    return out, [t for pool in pools.values() for t in pool]


# -- one request by hand ------------------------------------------------------------------------
def get(port, path, token=None, kind="probe", timeout=30):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        headers = {"X-Load-Kind": kind, "Connection": "close"}
        if token is not None:
            headers["Authorization"] = "Bearer " + token
        c.request("GET", path, headers=headers)
        r = c.getresponse()
        return r.status, r.read()
    finally:
        c.close()


# -- wrk -------------------------------------------------------------------------------------------
class WrkRun:
    def __init__(self, args, url, reqfile, seconds, close=False):
        self.cmd = [args.wrk, "-t%d" % args.threads, "-c%d" % args.connections,
                    "-d%ds" % seconds, "--timeout", "%ds" % args.wrk_timeout,
                    "-s", LUA, url]
        self.env = dict(os.environ, CKA_LOAD_REQUESTS=reqfile, CKA_LOAD_CLOSE="1" if close else "0")
        self.seconds = seconds
        self.proc = None

    def start(self):
        self.t0 = time.time()
        self.proc = subprocess.Popen(self.cmd, env=self.env, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True)
        return self

    def wait(self):
        try:
            out, _ = self.proc.communicate(timeout=self.seconds + 60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            out, _ = self.proc.communicate()
            out += "\n(wrk killed: did not stop by itself)"
        self.t1 = time.time()
        self.rc = self.proc.returncode
        self.output = out
        self.counts = collections.Counter()
        self.errors = {}
        self.summary = {}
        self.latency = {}
        for line in out.splitlines():
            parts = line.split()
            if line.startswith("CKA-COUNT ") and len(parts) == 4:
                self.counts[(parts[1], int(parts[2]))] += int(parts[3])
            elif line.startswith("CKA-ERRORS "):
                self.errors = {k: int(v) for k, v in (p.split("=") for p in parts[1:])}
            elif line.startswith("CKA-SUMMARY "):
                self.summary = {k: int(v) for k, v in (p.split("=") for p in parts[1:])}
            elif line.startswith("CKA-LATENCY "):
                self.latency = {k: int(v) for k, v in (p.split("=") for p in parts[1:])}
        return self


def access_entries(path, start_line=0):
    """(kind, status, error, pid, unix seconds, path) of each access-log line."""
    out = []
    with open(path, errors="replace") as f:
        for n, line in enumerate(f):
            if n < start_line:
                continue
            p = line.rstrip("\n").split("\t")
            if len(p) == 6:
                out.append((p[0], int(p[1]), p[2], p[3], int(p[4]), p[5]))
    return out


def count_lines(path):
    try:
        with open(path, "rb") as f:
            return sum(1 for _ in f)
    except FileNotFoundError:
        return 0


def wait_quiet(path, seconds=10):
    """Wait until the access log stops growing (the last answers logged)."""
    last, still = -1, 0
    deadline = time.time() + seconds
    while time.time() < deadline:
        n = count_lines(path)
        still = still + 1 if n == last else 0
        if still >= 3:
            return n
        last = n
        time.sleep(0.2)
    return count_lines(path)


def status_json(port):
    st, body = get(port, "/conduktor-auth-status?format=json", kind="status")
    if st != 200:
        raise RuntimeError("status page answered %d" % st)
    return json.loads(body)


# -- checks ----------------------------------------------------------------------------------------
class Verdict:
    def __init__(self):
        self.violations = []
        self.notes = []

    def fail(self, text):
        self.violations.append(text)
        say("  VIOLATION: " + text)

    def note(self, text):
        self.notes.append(text)
        say("  note: " + text)


def check_wrk(v, name, run, kinds):
    e = run.errors
    if not run.summary:
        v.fail("%s: wrk printed no summary (rc %s):\n%s" % (name, run.rc, run.output[-2000:]))
        return
    for k in ("connect", "read", "write", "timeout"):
        if e.get(k, 0):
            v.fail("%s: %d socket %s errors" % (name, e[k], k))
    counted = sum(run.counts.values())
    if counted != run.summary["requests"]:
        v.fail("%s: %d answers counted by kind, wrk counted %d requests"
               % (name, counted, run.summary["requests"]))
    for (kind, status), n in sorted(run.counts.items()):
        if status >= 500:
            v.fail("%s: %d x %d for %s tokens" % (name, n, status, kind))
        elif kind not in kinds:
            v.fail("%s: %d answers (%d) without the echoed kind" % (name, n, status))
        elif status != expected_status(kind):
            v.fail("%s: %d x %d for %s tokens (expected %d)"
                   % (name, n, status, kind, expected_status(kind)))
    for kind in kinds:
        if not any(k == kind for k, _ in run.counts):
            v.fail("%s: no answer at all for %s tokens" % (name, kind))


def check_access_log(v, name, entries, kinds):
    by = collections.Counter((e[0], e[1]) for e in entries)
    for (kind, status), n in sorted(by.items()):
        if kind not in kinds:
            if kind not in ("probe", "status"):
                v.fail("%s: access log: %d x %d of unknown kind %r" % (name, n, status, kind))
            continue
        if status != expected_status(kind):
            v.fail("%s: access log: %d x %d for %s tokens (expected %d)"
                   % (name, n, status, kind, expected_status(kind)))
    return by


def error_log_problems(v, text, idp_stop_time, idp_issuer):
    fetch_fail = re.compile(r"\[conduktor_auth:error\] .*key fetch for issuer %s failed at "
                            % re.escape(idp_issuer))
    fails_after, fails_before = 0, 0
    for line in text.splitlines():
        m = re.match(r"^\[(\w+ \w+ +\d+ [\d:.]+ \d+)\]", line)
        when = (datetime.datetime.strptime(m.group(1), "%a %b %d %H:%M:%S.%f %Y").timestamp()
                if m else 0)
        if re.search(r"AH00052: child pid \d+ exit signal|Segmentation fault|"
                     r"\[[\w.]*:(crit|alert|emerg)\]", line):
            v.fail("error log: " + line[:300])
        elif fetch_fail.search(line):
            if idp_stop_time is not None and when >= idp_stop_time - 0.5:
                fails_after += 1
            else:
                fails_before += 1
                v.fail("error log: key fetch failed while the IdP was up: " + line[:300])
        elif re.search(r"\[conduktor_auth:(error|warn)\]", line):
            v.fail("error log: " + line[:300])
        elif re.search(r"\[[\w.]*:(error|warn)\]", line):
            v.note("error log (httpd, not the module): " + line[:300])
    return fails_after


def check_secrets(v, texts, secrets):
    """No token segment (24+ characters) in a log: the logs' base64url
    words are compared with the segments of every token sent."""
    pieces = set()
    for t in secrets:
        pieces.update(p for p in t.split(".") if len(p) >= 24)
    for name, text in texts:
        words = set(re.findall(r"[A-Za-z0-9_-]{24,}", text))
        found = [w for w in words if w in pieces or any(p in w for p in pieces if len(w) > len(p))]
        if found:
            v.fail("token material in %s: %s..." % (name, found[0][:12]))


# -- main ----------------------------------------------------------------------------------------------
def machine():
    model = "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    try:
        load = "%.2f %.2f %.2f" % os.getloadavg()
    except OSError:
        load = "?"
    apache = subprocess.run([APACHE, "-v"], stdout=subprocess.PIPE, text=True,
                            env=clean_env()).stdout.splitlines()[0]
    wrk = subprocess.run(["wrk", "--version"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         text=True).stdout.splitlines()[0].split(" Copyright")[0]
    return ("nproc %d, CPU %s, %s, kernel %s, load average %s\n%s; %s"
            % (os.cpu_count(), model, platform.platform(), platform.release(), load, apache,
               wrk))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--duration", type=int, default=60, help="phase 1 seconds (60)")
    ap.add_argument("--graceful", default="20,40",
                    help="seconds into phase 1 for apache2 -k graceful (20,40; '' for none)")
    ap.add_argument("--phase2", type=int, default=75, help="phase 2 seconds (75)")
    ap.add_argument("--idp-stop", type=int, default=5,
                    help="seconds into phase 2 when the IdP is stopped (5)")
    ap.add_argument("--connections", type=int, default=64)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--wrk-timeout", type=int, default=10,
                    help="wrk's per-request timeout, seconds (10)")
    ap.add_argument("--tokens", type=int, default=400, help="distinct valid tokens per phase")
    ap.add_argument("--phase1-keepalive", action="store_true",
                    help="phase 1 on keep-alive connections (default: Connection: close on "
                         "every request; see the docstring: keep-alive connections race "
                         "httpd's graceful restart, with or without this module)")
    ap.add_argument("--out", help="also write the report to this file")
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = ap.parse_args(argv)
    args.wrk = shutil.which("wrk") or "/usr/bin/wrk"
    graceful_at = [float(x) for x in args.graceful.split(",") if x.strip()]

    started = time.time()
    # Stops by itself: whatever hangs, the run ends (and cleans up) after this.
    limit = args.duration + args.phase2 + 300

    def give_up(signum, frame):
        raise SystemExit("run_load.py: %s after %d s, stopping" % (
            "time limit" if signum == signal.SIGALRM else "signal %d" % signum,
            time.time() - started))

    signal.signal(signal.SIGALRM, give_up)
    signal.signal(signal.SIGTERM, give_up)
    signal.alarm(limit)
    say("== mod_conduktor_auth load and fault run (tests/load/run_load.py)")
    say("date     %s" % datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC"))
    say("machine  %s" % machine())
    say("settings wrk -t%d -c%d --timeout %ds; phase 1 %d s (%s), graceful at %s s; phase 2 %d s "
        "(keep-alive), IdP stopped at %d s" % (
            args.threads, args.connections, args.wrk_timeout, args.duration,
            "keep-alive" if args.phase1_keepalive else "Connection: close, a new connection "
            "per request", args.graceful or "-", args.phase2, args.idp_stop))
    if not os.path.exists(MODULE):
        say("module not built: %s" % MODULE)
        return 2

    tmp = tempfile.mkdtemp(prefix="cka-load-", dir="/tmp")
    os.chmod(tmp, 0o755)
    v = Verdict()
    servers = []
    idp = None
    wrks = []
    try:
        keys = mint.make_keys(os.path.join(tmp, "keys"))
        pki = idp_server.Pki(os.path.join(tmp, "pki"))
        idp = idp_server.IdP(pki).start()
        idp_issuer = idp.url + "/realms/load"
        jwks_path = "/realms/load/jwks"
        idp_key, rogue = RemoteKey("load-1"), RemoteKey("rotated-away")
        idp.publish_jwks(jwks_path, {"keys": [idp_key.public()]}, max_age=60)

        broot = os.path.join(tmp, "backend")
        bport = free_port()
        backend = Httpd(broot, bport, BACKEND_CONF.format(root=broot),
                        ["mpm_event", "unixd", "authz_core", "alias", "mime"])
        with open(os.path.join(broot, "htdocs", "ok.json"), "w") as f:
            f.write('{"ok": true, "clusters": ["local"]}\n')
        froot = os.path.join(tmp, "front")
        fport = free_port()
        front = Httpd(froot, fport, FRONT_CONF.format(
            root=froot, issuer=ISSUER, keys=keys.dir, idp_issuer=idp_issuer,
            idp_jwks=idp.url + jwks_path, ca=pki.ca_file, backend=bport, audience=AUDIENCE,
            threads=max(64, args.connections), max_workers=8 * max(64, args.connections)),
            MODULES, [("conduktor_auth_module", MODULE)])
        os.makedirs(os.path.join(froot, "htdocs", "static"), mode=0o755)
        with open(os.path.join(froot, "htdocs", "static", "hello.txt"), "w") as f:
            f.write("hello\n")
        for path in (os.path.join(froot, "htdocs", "static"),):
            os.chmod(path, 0o755)
        p = front.ctl("-t")
        if p.returncode != 0:
            say("front configuration refused:\n" + p.stdout)
            return 2
        servers.append(backend.start())
        servers.append(front.start())
        url = "http://127.0.0.1:%d" % fport

        # ---------------- phase 1 --------------------------------------------------------
        reqs1, secrets1 = phase1_requests(keys, args.tokens)
        kinds1 = sorted({k for k, _, _ in reqs1})
        file1 = os.path.join(tmp, "phase1.tsv")
        write_requests(file1, reqs1)
        say("")
        say("-- phase 1: local issuer, /api/ (proxied) and /static/ (file); %d requests in "
            "rotation (%s)" % (len(reqs1), ", ".join(
                "%s %d" % (k, sum(1 for x in reqs1 if x[0] == k)) for k in kinds1)))
        # Sanity: one of each kind by hand, before the load.
        for kind in kinds1:
            sample = next(x for x in reqs1 if x[0] == kind)
            st, _ = get(fport, sample[1], sample[2], kind="probe")
            if st != expected_status(kind):
                v.fail("phase 1 probe: %s token on %s answered %d" % (kind, sample[1], st))
        log_start = wait_quiet(front.access_log, 5)
        wrk1 = WrkRun(args, url, file1, args.duration, close=not args.phase1_keepalive).start()
        wrks.append(wrk1)
        graceful_done = []

        def graceful():
            for at in graceful_at:
                delay = wrk1.t0 + at - time.time()
                if delay > 0:
                    time.sleep(delay)
                t = time.time()
                r = front.ctl("-k", "graceful")
                graceful_done.append((t - wrk1.t0, r.returncode, r.stdout.strip()))

        gt = threading.Thread(target=graceful, daemon=True)
        gt.start()
        wrk1.wait()
        gt.join(30)
        wait_quiet(front.access_log, 10)
        entries1 = access_entries(front.access_log, log_start)
        say("wrk phase 1:\n" + "\n".join("  " + l for l in wrk1.output.splitlines()
                                         if not l.startswith("CKA-")))
        check_wrk(v, "phase 1", wrk1, kinds1)
        load_entries1 = [e for e in entries1 if e[0] in kinds1]
        by1 = check_access_log(v, "phase 1", load_entries1, kinds1)

        # Graceful restarts: asked, logged, and new children serving.
        elog = front.read_error_log()
        restarts = len(re.findall(r"AH00493: SIGUSR1 received", elog))
        for at, rc, out in graceful_done:
            if rc != 0:
                v.fail("apache2 -k graceful at %.1f s: rc %d %s" % (at, rc, out))
        if len(graceful_done) != len(graceful_at) or restarts != len(graceful_at):
            v.fail("graceful restarts: %d asked, %d sent, %d logged (AH00493)"
                   % (len(graceful_at), len(graceful_done), restarts))
        gens = []
        bounds = [wrk1.t0] + [wrk1.t0 + at for at, _, _ in graceful_done] + [wrk1.t1]
        for a, b in zip(bounds, bounds[1:]):
            # requests clearly inside one generation: from 3 s after a restart to
            # 1 s before the next (the log has whole seconds of the request's start)
            pids = {e[3] for e in load_entries1
                    if a + (3 if a != wrk1.t0 else 0) <= e[4] and e[4] + 1 < b}
            gens.append(pids)
        short = [n for n, (a, b) in enumerate(zip(bounds, bounds[1:])) if n and b - a < 6]
        for n in range(1, len(gens)):
            if n in short:
                v.note("graceful restart %d: too little time before the next event to see "
                       "which processes answer" % n)
            elif not gens[n]:
                v.fail("no request logged between graceful restart %d and the next event" % n)
            elif not gens[n] - set().union(*gens[:n]):
                v.fail("after graceful restart %d only processes of an older generation "
                       "answered: the restart did not take effect" % n)
            elif gens[n] & set().union(*gens[:n]):
                v.note("after graceful restart %d, processes of an older generation still "
                       "answered: %s" % (n, sorted(gens[n] & set().union(*gens[:n]))))

        # ---------------- phase 2 --------------------------------------------------------
        reqs2, secrets2 = phase2_requests(idp_key, rogue, idp_issuer, args.tokens)
        kinds2 = sorted({k for k, _, _ in reqs2})
        file2 = os.path.join(tmp, "phase2.tsv")
        write_requests(file2, reqs2)
        say("")
        say("-- phase 2: keys from the TLS test IdP (%s), /remote/ (proxied) and /static/; %d "
            "requests in rotation (%s)" % (idp_issuer, len(reqs2), ", ".join(
                "%s %d" % (k, sum(1 for x in reqs2 if x[0] == k)) for k in kinds2)))
        st, _ = get(fport, "/remote/warmup", idp_key.token(idp_issuer), kind="probe")
        fetched = idp.count(jwks_path)
        if st != 200 or fetched != 1:
            v.fail("phase 2 warm-up: valid IdP token answered %d, IdP served %d JWKS requests "
                   "(expected 200 after 1)" % (st, fetched))
        st0 = status_json(fport)
        log_start2 = wait_quiet(front.access_log, 5)
        wrk2 = WrkRun(args, url, file2, args.phase2).start()
        wrks.append(wrk2)
        stop_at = wrk2.t0 + args.idp_stop
        time.sleep(max(0.0, stop_at - time.time()))
        served_before_stop = idp.count(jwks_path)
        idp.stop()
        idp_stop_time = time.time()
        wrk2.wait()
        wait_quiet(front.access_log, 10)
        st1 = status_json(fport)
        end_time = time.time()
        entries2 = access_entries(front.access_log, log_start2)
        say("wrk phase 2:\n" + "\n".join("  " + l for l in wrk2.output.splitlines()
                                         if not l.startswith("CKA-")))
        check_wrk(v, "phase 2", wrk2, kinds2)
        load_entries2 = [e for e in entries2 if e[0] in kinds2]
        by2 = check_access_log(v, "phase 2", load_entries2, kinds2)
        if idp.count(jwks_path) != served_before_stop:
            v.fail("the IdP served requests after it was stopped?")
        row = next((r for r in st1["issuers"] if r["issuer"] == idp_issuer), None)
        row0 = next((r for r in st0["issuers"] if r["issuer"] == idp_issuer), None)
        fails_logged = error_log_problems(v, front.read_error_log(), idp_stop_time, idp_issuer)
        stale_from = None
        stale_valid = []
        if row is None or row["key_set_age_seconds"] is None:
            v.fail("status page has no key set for the IdP issuer: %r" % st1)
        else:
            last_ok = end_time - row["key_set_age_seconds"]
            stale_from = last_ok + 60
            stale_valid = [e for e in load_entries2 if e[0] == "idp-valid" and e[4] >= stale_from + 1]
            if stale_from + 1 < wrk2.t1 - 2:
                if not stale_valid:
                    v.fail("no valid IdP token logged after the key set turned stale")
                elif any(e[1] != 200 for e in stale_valid):
                    v.fail("valid IdP tokens refused with a stale key set and the IdP down")
            elif args.phase2 >= args.idp_stop + 65:
                v.fail("the key set never turned stale during phase 2 (last fetch %.0f s "
                       "before its end)" % row["key_set_age_seconds"])
            else:
                v.note("phase 2 too short for the key set to turn stale while the IdP is down")
        after_stop_valid = [e for e in load_entries2 if e[0] == "idp-valid" and e[4] > idp_stop_time + 1]
        if not after_stop_valid or any(e[1] != 200 for e in after_stop_valid):
            v.fail("valid IdP tokens after the IdP stopped: %d logged, %d not 200"
                   % (len(after_stop_valid), sum(1 for e in after_stop_valid if e[1] != 200)))

        check_secrets(v, [("the front's error log", front.read_error_log()),
                          ("the front's access log", open(front.access_log, errors="replace").read())],
                      secrets1 + secrets2)
        final = status_json(fport)

        # ---------------- summary --------------------------------------------------------
        say("")
        say("== summary")
        for name, run, by, kinds in (("phase 1", wrk1, by1, kinds1), ("phase 2", wrk2, by2, kinds2)):
            secs = run.summary.get("duration_us", 1) / 1e6
            reqs = run.summary.get("requests", 0)
            lat = run.latency
            say("%s: %d requests in %.1f s = %.0f req/s; latency p50 %.1f ms, p99 %.1f ms, "
                "max %.1f ms" % (name, reqs, secs, reqs / secs if secs else 0,
                                 lat.get("p50_us", 0) / 1e3, lat.get("p99_us", 0) / 1e3,
                                 lat.get("max_us", 0) / 1e3))
            e = run.errors
            say("  socket errors: connect %d, read %d, write %d, timeout %d; non-2xx answers %d "
                "(the 401s expected)" % (e.get("connect", -1), e.get("read", -1),
                                         e.get("write", -1), e.get("timeout", -1),
                                         e.get("status", -1)))
            say("  %-18s %9s %20s %22s  %s" % ("token kind", "expected", "wrk: answers", "access log: answers", "ok"))
            for kind in kinds:
                w = {s: n for (k, s), n in run.counts.items() if k == kind}
                a = {s: n for (k, s), n in by.items() if k == kind}
                fmt = lambda d: " ".join("%d x%d" % (s, n) for s, n in sorted(d.items())) or "-"  # noqa: E731
                ok = set(w) == {expected_status(kind)} and set(a) == {expected_status(kind)}
                say("  %-18s %9d %20s %22s  %s" % (kind, expected_status(kind), fmt(w), fmt(a),
                                                   "yes" if ok else "NO"))
            fivexx = sum(n for (k, s), n in run.counts.items() if s >= 500)
            say("  5xx: %d" % fivexx)
        say("graceful restarts: %s; AH00493 logged %d; child pids per generation: %s"
            % (", ".join("at %.1f s rc %d" % (at, rc) for at, rc, _ in graceful_done) or "none",
               restarts, " | ".join(str(len(g)) for g in gens)))
        say("IdP: JWKS served %d time(s) while up (1 warm-up fetch before phase 2, %d refetch(es) "
            "for the unknown kid), stopped %.1f s into phase 2; %d failed refresh/refetch "
            "attempts logged while down (status page: fetches ok %s -> %s, failed %s -> %s)"
            % (served_before_stop, served_before_stop - 1, idp_stop_time - wrk2.t0, fails_logged,
               row0 and row0["fetches_ok"], row and row["fetches_ok"],
               row0 and row0["fetches_failed"], row and row["fetches_failed"]))
        if stale_from is not None:
            say("IdP down: %d valid IdP tokens answered after the stop (all 200: %s); key set "
                "stale from %.1f s into phase 2, %d valid tokens answered with the stale set "
                "(all 200: %s); key set age at the end %s s"
                % (len(after_stop_valid), all(e[1] == 200 for e in after_stop_valid),
                   stale_from - wrk2.t0, len(stale_valid),
                   all(e[1] == 200 for e in stale_valid), row["key_set_age_seconds"]))
        say("status page at the end: allowed %d, cache hits %d, misses %d, denied %s"
            % (final["allowed"], final["cache"]["hits"], final["cache"]["misses"],
               {k: n for k, n in final["denied"].items() if n}))
        say("run took %.0f s; load average at the end %.2f %.2f %.2f (the machine is shared: "
            "req/s and latency depend on what else runs)" % ((time.time() - started,) + os.getloadavg()))
        if v.notes:
            say("notes (%d): reported, not violations" % len(v.notes))
        if v.violations:
            say("RESULT: FAIL, %d violation(s):" % len(v.violations))
            for x in v.violations:
                say("  - " + x)
        else:
            say("RESULT: PASS (no 5xx, no socket error, every answer right for its token, "
                "%d graceful restarts without a failed request, valid tokens kept passing with "
                "the IdP down)" % len(graceful_done))
        return 1 if v.violations else 0
    finally:
        signal.alarm(0)
        for w in wrks:
            if w.proc is not None and w.proc.poll() is None:
                w.proc.kill()
                w.proc.wait()
        for s in reversed(servers):
            s.stop()
        if idp is not None:
            idp.stop()
        if args.out:
            with open(args.out, "w") as f:
                f.write("\n".join(OUT) + "\n")
        if args.keep:
            print("kept %s" % tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
