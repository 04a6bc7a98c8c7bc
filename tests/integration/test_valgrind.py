"""httpd under valgrind memcheck (issue 6, item 3).

One httpd, single process (`apache2 -X`, event MPM), runs under

    valgrind --tool=memcheck --error-exitcode=97 --leak-check=no
             --track-origins=no --num-callers=40 --vgdb=no
             --xml=yes --xml-file=... --log-file=...

(--vgdb=no: httpd switches to `nobody` and valgrind could not remove its
vgdb FIFOs from /tmp afterwards.)

with a configuration made by harness.Httpd (so the same generated
httpd.conf as every other integration test), and gets a representative
set of requests, each through a different path of the module: a valid
RS256 token, the same token again (a cache hit), a valid ES256 token, an
expired token, a bad signature, a malformed token, an `alg: none` token,
no token, a CORS preflight, a group denial (403), a token of an issuer
whose keys come from the TLS test IdP (remote JWKS fetch: libcurl +
OpenSSL inside the module), and the status page (Prometheus and JSON).

After httpd has stopped, valgrind's XML report is parsed. An error fails
the test when any of its stacks (where it happened, or where the block was
allocated / freed) has a frame in mod_conduktor_auth.so or in the module's
own sources (src/: libckacore is linked into the .so). Errors whose stacks
are only httpd / APR / OpenSSL / libc / libcurl internals are printed (run
with -s to see them) but do not fail the test: they are not ours to fix.

valgrind is installed with apt-get when missing (root). The whole test is
bounded: ~20-60 s on an idle 2-core machine; startup waits up to 120 s and
the module's IdP fetch timeout is 60 s, because memcheck runs httpd (and
the TLS handshake of the key fetch) 20-50 times slower.
"""
import http.client
import os
import shutil
import signal
import subprocess
import time
import uuid
import xml.etree.ElementTree as ET

import pytest

import harness
import test_mpm
from harness import APACHE, CLUSTERS, assert_denied, protect
from idp_fixtures import SigningKey, idp, jwks, pki, remote_issuer  # noqa: F401

ERROR_EXITCODE = 97
STARTUP_WAIT = 120        # seconds: valgrind + httpd + OpenSSL init on a loaded machine
STOP_WAIT = 60
REQUEST_TIMEOUT = 90      # seconds per request (harness.Httpd.request uses 15)
ORIGIN = "https://backstage.example.test"
OURS_OBJ = ("mod_conduktor_auth.so", "libckacore")
OURS_DIR = os.path.join(harness.TOP, "src")

# The status page and a group-protected location, as in test_mpm.py.
SERVER = test_mpm.SERVER


def valgrind_binary():
    path = shutil.which("valgrind")
    if path:
        return path
    if os.geteuid() != 0:
        pytest.skip("valgrind missing and not root to apt-get install it")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    subprocess.run(["apt-get", "update", "-qq"], env=env, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, timeout=600, check=False)
    p = subprocess.run(["apt-get", "install", "-y", "-qq", "--no-install-recommends",
                        "valgrind"], env=env, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True, timeout=900)
    path = shutil.which("valgrind")
    if not path:
        pytest.fail("cannot install valgrind:\n" + p.stdout[-2000:])
    return path


# -- valgrind's XML report ---------------------------------------------------------------
class Frame:
    def __init__(self, el):
        g = lambda tag: (el.findtext(tag) or "")  # noqa: E731
        self.obj, self.fn, self.dir, self.file = g("obj"), g("fn"), g("dir"), g("file")
        self.line = g("line")

    @property
    def ours(self):
        return (any(o in self.obj for o in OURS_OBJ)
                or (self.dir and os.path.abspath(self.dir).startswith(OURS_DIR)))

    def __str__(self):
        where = ("%s:%s" % (os.path.join(self.dir, self.file) if self.dir else self.file,
                            self.line)) if self.file else os.path.basename(self.obj)
        return "%s (%s)" % (self.fn or "???", where)


class VgError:
    def __init__(self, el):
        self.kind = el.findtext("kind") or "?"
        self.what = (el.findtext("what") or el.findtext("xwhat/text") or "").strip()
        # The stacks in document order: where it happened, then (for heap
        # errors) where the block was freed / allocated, each after an
        # <auxwhat>.
        self.stacks = [[Frame(f) for f in st.findall("frame")] for st in el.findall("stack")]
        self.auxwhat = [a.text or "" for a in el.findall("auxwhat")]

    @property
    def ours(self):
        return any(f.ours for st in self.stacks for f in st)

    def __str__(self):
        out = ["%s: %s" % (self.kind, self.what)]
        for i, st in enumerate(self.stacks):
            if i:
                out.append("  %s" % (self.auxwhat[i - 1] if i - 1 < len(self.auxwhat) else "--"))
            for j, f in enumerate(st[:25]):
                out.append("    %s %s%s" % ("at" if j == 0 else "by", f,
                                            "   <== module" if f.ours else ""))
        return "\n".join(out)


def parse_report(path):
    """The errors of a valgrind --xml-file (each with its count)."""
    root = ET.parse(path).getroot()
    errors = {el.findtext("unique"): VgError(el) for el in root.findall("error")}
    counts = {}
    for pair in root.findall("errorcounts/pair"):
        counts[pair.findtext("unique")] = int(pair.findtext("count") or 1)
    return [(e, counts.get(u, 1)) for u, e in errors.items()]


# -- httpd under valgrind ----------------------------------------------------------------
class ValgrindHttpd:
    """A harness.Httpd (config and logs) run as `valgrind ... apache2 -X`."""

    def __init__(self, h, valgrind):
        self.h = h
        self.xml = os.path.join(h.root, "logs", "valgrind.xml")
        self.text = os.path.join(h.root, "logs", "valgrind.log")
        self.cmd = [valgrind, "--tool=memcheck", "--error-exitcode=%d" % ERROR_EXITCODE,
                    "--leak-check=no", "--track-origins=no", "--num-callers=40",
                    "--child-silent-after-fork=yes", "--vgdb=no", "--xml=yes", "--xml-file=" + self.xml,
                    "--log-file=" + self.text, APACHE, "-X", "-f", h.conf]
        self.proc = None
        self.rc = None

    def start(self):
        t0 = time.monotonic()
        self.proc = subprocess.Popen(self.cmd, env=harness._clean_env(),
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        while time.monotonic() - t0 < STARTUP_WAIT:
            if self.proc.poll() is not None:
                raise RuntimeError("httpd under valgrind exited (rc %s) at startup:\n%s\n%s"
                                   % (self.proc.returncode, self.proc.stdout.read().decode(),
                                      self.h.read_error_log()))
            if self.h._port_open():
                self.h.pid = self.proc.pid
                print("\n[valgrind] httpd -X up after %.1f s" % (time.monotonic() - t0))
                return self
            time.sleep(0.2)
        self.proc.kill()
        self.proc.wait()
        raise RuntimeError("httpd under valgrind did not listen within %d s:\n%s"
                           % (STARTUP_WAIT, self.h.read_error_log()))

    def stop(self):
        if self.proc is None or self.rc is not None:
            return self.rc
        self.h._wait_logged(5.0)
        self.h._stop_time = time.time()
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.rc = self.proc.wait(STOP_WAIT)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError("httpd under valgrind did not stop within %d s" % STOP_WAIT)
        self.h.pid = None
        return self.rc


class _PatientConnection(http.client.HTTPConnection):
    """harness.Httpd.request's connection, with a timeout fit for memcheck
    (the first requests of a process run OpenSSL and cjose set-up code
    20-50x slower; on a loaded machine that can pass 15 s)."""

    def __init__(self, host, port=None, timeout=None, **kw):
        super().__init__(host, port, timeout=REQUEST_TIMEOUT, **kw)


def start_under_valgrind(request, workdir, keys, backend, module_path, issuers,
                         location, server, started):
    """A harness.Httpd with this configuration, started as `valgrind ...
    apache2 -X`; appended to started (stopped by the fixture)."""
    valgrind = valgrind_binary()
    h = harness.Httpd(workdir, keys, backend, location=location, server=server,
                      issuers=issuers, module=module_path, mpm="event",
                      htdocs={"static/hello.txt": "hello\n"})
    request.node.cka_httpds = getattr(request.node, "cka_httpds", []) + [h]
    v = ValgrindHttpd(h, valgrind)
    started.append(v)
    v.start()
    return v


@pytest.fixture
def vg_factory(request, workdir, keys, backend, module_path, monkeypatch):
    """vg_factory(issuers, location, server) -> a started ValgrindHttpd."""
    monkeypatch.setattr(harness.http.client, "HTTPConnection", _PatientConnection)
    started = []
    yield lambda issuers, location, server: start_under_valgrind(
        request, workdir, keys, backend, module_path, issuers, location, server, started)
    for v in started:
        if v.rc is None:
            try:
                v.stop()
            except AssertionError:
                pass


@pytest.fixture
def vg_httpd(vg_factory, pki, idp):  # noqa: F811
    """(ValgrindHttpd, remote issuer, its SigningKey, the IdP, jwks path)."""
    ip = idp()
    iss = ip.url + "/realms/valgrind"
    jwks_path = "/realms/valgrind/jwks"
    remote_key = SigningKey("vg-1")
    ip.publish_jwks(jwks_path, jwks(remote_key), max_age=300)
    issuers = (["ConduktorAuthIssuer %s file:{keys}/jwks.json" % harness.ISSUER]
               + remote_issuer(pki, iss, ip.url + jwks_path, timeout=60, miss=60))
    v = vg_factory(issuers, protect("ConduktorAuthCORSAllowOrigin " + ORIGIN), SERVER)
    return v, iss, remote_key, ip, jwks_path


def run_requests(h, iss, remote_key, ip, jwks_path, results):
    """The representative requests; each answer checked as it comes."""
    last = [time.monotonic()]

    def check(name, r, status):
        now = time.monotonic()
        results.append((name, r.status, now - last[0]))
        print("[valgrind]   %-34s %d  %5.2f s" % (name, r.status, now - last[0]))
        last[0] = now
        assert r.status == status, (name, r)
        return r

    valid = h.mint(jti=uuid.uuid4().hex)
    r = check("valid RS256", h.get(token=valid), 200)
    assert r.echo["path"] == CLUSTERS
    check("valid RS256 again (cache hit)", h.get(token=valid), 200)
    check("valid ES256", h.get(token=h.mint(key="ec", jti=uuid.uuid4().hex)), 200)

    now = int(time.time())
    expired = h.mint(iat=now - 3600, exp=now - 1800)
    assert_denied(check("expired", h.get(token=expired), 401), 401, "invalid_token")
    forged = h.mint(key="rogue-rsa", jti=uuid.uuid4().hex)     # kid rsa-1, other key
    assert_denied(check("bad signature", h.get(token=forged), 401), 401, "invalid_token")
    assert_denied(check("malformed", h.get(token="not.a-jwt"), 401), 401, "invalid_token")
    none_tok = h.mint(alg="none")
    assert_denied(check("alg none", h.get(token=none_tok), 401), 401, "invalid_token")
    assert_denied(check("no token", h.get(), 401), 401)

    r = check("CORS preflight", h.request("OPTIONS", CLUSTERS, headers=[
        ("Origin", ORIGIN), ("Access-Control-Request-Method", "GET"),
        ("Access-Control-Request-Headers", "authorization")]), 204)
    assert r.header("Access-Control-Allow-Origin") == ORIGIN
    r = check("CORS request with token", h.get(token=valid, headers={"Origin": ORIGIN}), 200)
    assert r.header("Access-Control-Allow-Origin") == ORIGIN

    denied = h.mint(groups=["not-admins"], jti=uuid.uuid4().hex)
    assert_denied(check("group denial", h.get("/admins/x", token=denied), 403), 403,
                  "insufficient_scope")

    remote_tok = remote_key.token(iss)
    h.secrets.add(remote_tok)
    check("remote JWKS (TLS IdP) token", h.get("/keys-test/echo", token=remote_tok), 200)
    check("remote JWKS, keys cached", h.get("/keys-test/echo",
                                            token=remote_key.token(iss)), 200)
    assert ip.count(jwks_path) == 1, ip.entries()

    check("static file", h.get("/static/hello.txt", token=valid), 200)
    r = check("status page (Prometheus)", h.get("/conduktor-auth-status"), 200)
    assert "conduktor_auth_cache_hits_total" in r.text
    r = check("status page (JSON)", h.get("/conduktor-auth-status?format=json"), 200)
    assert r.json()["cache"]["hits"] >= 1, r.json()


def check_memcheck(v, failure):
    """Stop httpd, read valgrind's report: fail on an error with a module
    frame (foreign ones are printed), then re-raise a wrong answer, then
    check the exit code and the error log."""
    h = v.h
    rc = v.stop()
    assert os.path.exists(v.xml), "no valgrind report"
    try:
        errors = parse_report(v.xml)
    except ET.ParseError as e:
        with open(v.text, errors="replace") as f:
            pytest.fail("valgrind's XML report is unreadable (%s); its log:\n%s"
                        % (e, f.read()[-5000:]))
    ours = [(e, n) for e, n in errors if e.ours]
    foreign = [(e, n) for e, n in errors if not e.ours]
    print("[valgrind] httpd exit code %s; errors: %d in module code, %d outside it "
          "(httpd/APR/OpenSSL/libc/libcurl internals: reported, not failed)"
          % (rc, len(ours), len(foreign)))
    for e, n in foreign:
        print("[valgrind] NOT OURS (x%d) %s" % (n, e))
    for e, n in ours:
        print("[valgrind] MODULE ERROR (x%d) %s" % (n, e))
    assert not ours, "valgrind memcheck errors in the module:\n\n" + \
        "\n\n".join("(x%d) %s" % (n, e) for e, n in ours)
    if failure is not None:
        raise failure
    if rc == ERROR_EXITCODE:
        assert errors, "valgrind exited with --error-exitcode but the XML has no error"
    else:
        assert rc == 0, "httpd under valgrind exited with %s:\n%s" % (
            rc, h.read_error_log()[-3000:])
    problems = h.log_problems()
    assert not problems, "\n".join(problems)


def test_requests_under_memcheck_no_module_errors(vg_httpd):
    v, iss, remote_key, ip, jwks_path = vg_httpd
    t0 = time.monotonic()
    results = []
    # A wrong answer (or a crash: no answer) is reported after valgrind's
    # findings, which usually explain it.
    failure = None
    try:
        run_requests(v.h, iss, remote_key, ip, jwks_path, results)
    except Exception as e:      # noqa: BLE001 - re-raised by check_memcheck
        failure = e
    print("[valgrind] %d requests in %.1f s" % (len(results), time.monotonic() - t0))
    check_memcheck(v, failure)


@pytest.mark.parametrize("server", ["main", "hs"])
def test_attack_battery_under_memcheck(vg_factory, workdir, keys, backend, server):
    """Every case of the attack battery (test_attacks.CASES) for this
    server configuration, sent to httpd -X under memcheck: each refused as
    test_attacks expects (401, its error, its reason code, nothing at the
    backend), and no memcheck error in the module."""
    import test_attacks as ta
    conf = ta.server_configs(ta.make_keyfiles(workdir, keys))[server]
    v = vg_factory(conf["issuers"], conf["location"], conf["server"])
    kinds = sorted(k for k, c in ta.CASES.items() if c["server"] == server)
    assert len(kinds) > 20, kinds
    t0 = time.monotonic()
    failure = None
    done = 0
    try:
        # One valid request first: the process's first verification runs
        # OpenSSL's set-up code, slow under memcheck.
        assert v.h.get(token=v.h.mint(jti=uuid.uuid4().hex)).status == 200
        for kind in kinds:
            c = ta.CASES[kind]
            tok = c["build"](keys)
            before = len(backend.requests())
            r = v.h.get(c["path"] or "/api/attack", token=tok)
            ta.refused(v.h, backend, tok, r, error=c["error"], codes=c["codes"])
            assert len(backend.requests()) == before, (kind, "reached the backend")
            done += 1
    except Exception as e:      # noqa: BLE001 - re-raised by check_memcheck
        failure = AssertionError("case %s: %s" % (kinds[done] if done < len(kinds) else "?", e))
        failure.__cause__ = e
    print("\n[valgrind] attack battery (%s): %d of %d cases refused as expected in %.1f s"
          % (server, done, len(kinds), time.monotonic() - t0))
    check_memcheck(v, failure)
