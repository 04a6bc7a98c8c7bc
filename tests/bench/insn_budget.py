#!/usr/bin/python3
"""Instructions per request, counted (issue 24): a guard that does not
depend on a quiet machine. Run through build/insn_budget.sh.

What is counted (valgrind --tool=callgrind, so a count, not a time):
  http.noauth     instructions per request of one httpd -X (prefork, one
                  process, one thread) serving a 1 KiB file with no auth;
  http.cached     the same file behind mod_conduktor_auth with one RS256
                  token, validated once and then taken from the token cache,
                  minus http.noauth: what the module adds to a cached request
                  (no CustomLog, so no audit event);
  http.audit      the same cached request with a CustomLog writing %^CA,
                  minus http.noauth;
  core.cached     tests/bench/bench_core's cached RS256 validation (keyed
                  name, front lookup, key still in the set, claims re-check);
  core.cold       its full RS256 validation (parse, verify, claims).
The httpd figures are taken on one keep-alive connection after a warm-up;
callgrind collects inside ap_process_request only and dumps after each
request, so start-up, warm-up and the wait between requests are not counted.

With --budgets FILE, each figure is compared with its budget ("name value"
lines, # comments): a figure more than --tolerance (10%) over its budget
fails the check, naming the figure, the budget and the ratio. Raising a
budget is a reviewed commit that says why.
"""
import argparse
import glob
import http.client
import os
import re
import shutil
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
BENCH_CORE = os.path.join(TOP, "tests", "bench", "bench_core")

CONF = """\
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
KeepAlive On
MaxKeepAliveRequests 0
KeepAliveTimeout 300
Timeout 300
DocumentRoot "{root}/htdocs"
<Directory />
  AllowOverride None
  Require all denied
</Directory>
<Directory "{root}/htdocs">
  Require all granted
</Directory>
ConduktorAuthIssuer {issuer} file:{jwks}
<Location "/auth/">
  AuthType conduktor-jwt
  AuthName "Conduktor"
  ConduktorAuthAudience {audience}
  Require valid-user
</Location>
{log}
"""
MODULES = ["mpm_prefork", "authn_core", "authz_core", "authz_user", "mime",
           "socache_shmcb"]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def callgrind_total(path, wait=30.0):
    """The total of a dump; callgrind may still be writing it."""
    deadline = time.time() + wait
    while True:
        with open(path) as f:
            for line in f:
                if line.startswith(("summary:", "totals:")):
                    return int(line.split()[1])
        if time.time() > deadline:
            raise RuntimeError("no total in " + path)
        time.sleep(0.1)


class Httpd:
    def __init__(self, work, keys, token, audit):
        self.root = os.path.join(work, "httpd-audit" if audit else "httpd")
        for sub in ("logs", "run", "htdocs/auth", "cg"):
            os.makedirs(os.path.join(self.root, sub), exist_ok=True)
        for d in (self.root, os.path.join(self.root, "htdocs"),
                  os.path.join(self.root, "htdocs", "auth"), os.path.join(self.root, "logs")):
            os.chmod(d, 0o755)
        for sub in ("logs", "cg"):      # written by the child as nobody
            os.chmod(os.path.join(self.root, sub), 0o777)
        body = ("0123456789abcdef" * 64)[:1023] + "\n"
        for rel in ("small.txt", "auth/small.txt"):
            with open(os.path.join(self.root, "htdocs", rel), "w") as f:
                f.write(body)
        self.port = free_port()
        mods = ["LoadModule %s_module %s/mod_%s.so" % (m, MODDIR, m) for m in MODULES]
        mods.append("LoadModule conduktor_auth_module %s" % MODULE)
        log = ('CustomLog "%s/logs/audit.log" "%%^CA" env=CONDUKTOR_AUTH_AUDIT' % self.root
               if audit else "")
        self.conf = os.path.join(self.root, "httpd.conf")
        with open(self.conf, "w") as f:
            f.write(CONF.format(root=self.root, port=self.port, loadmodules="\n".join(mods),
                                issuer=mint.DEFAULT_ISSUER, audience=mint.DEFAULT_AUDIENCE,
                                jwks=keys.path("jwks.json"), log=log))
        self.token = token
        self.proc = None
        self.conn = None

    def start(self):
        env = {k: v for k, v in os.environ.items() if not k.startswith("APACHE_")}
        out = os.path.join(self.root, "cg", "callgrind.out.%p")
        self.proc = subprocess.Popen(
            ["valgrind", "--tool=callgrind", "--callgrind-out-file=" + out,
             "--collect-atstart=no", "--toggle-collect=ap_process_request",
             "--dump-after=ap_process_request", APACHE, "-X", "-f", self.conf],
            env=env, stdout=subprocess.DEVNULL, stderr=open(os.path.join(self.root, "vg.err"), "w"))
        deadline = time.time() + 120
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("httpd under valgrind exited:\n" + self.error_log())
            try:
                socket.create_connection(("127.0.0.1", self.port), 0.5).close()
                break
            except OSError:
                time.sleep(0.3)
        else:
            raise RuntimeError("httpd under valgrind did not come up")
        self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)

    def error_log(self):
        try:
            with open(os.path.join(self.root, "logs", "error_log")) as f:
                return f.read()[-3000:]
        except OSError:
            return ""

    def get(self, path, token=None):
        headers = {"Authorization": "Bearer " + token} if token else {}
        self.conn.request("GET", path, headers=headers)
        r = self.conn.getresponse()
        r.read()
        if r.status != 200:
            raise RuntimeError("GET %s: %d\n%s" % (path, r.status, self.error_log()))

    def dumps(self):
        return sorted(glob.glob(os.path.join(self.root, "cg", "callgrind.out.*.*")),
                      key=lambda p: int(p.rsplit(".", 1)[1]))

    def measure(self, path, token, n):
        """Instructions per request over n requests: callgrind counts inside
        ap_process_request only and dumps (and zeroes) after each one."""
        before = len(self.dumps())
        for _ in range(n):
            self.get(path, token)
        deadline = time.time() + 60
        while len(self.dumps()) < before + n and time.time() < deadline:
            time.sleep(0.1)
        files = self.dumps()[before:before + n]
        if len(files) != n:
            raise RuntimeError("expected %d callgrind dumps, found %d" % (n, len(files)))
        total = sum(callgrind_total(f) for f in files)
        if not os.environ.get("CKA_INSN_KEEP_DUMPS"):
            for f in files:
                os.unlink(f)
        return total / n

    def stop(self):
        if self.conn:
            self.conn.close()
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def http_figures(work, n, warm, audit_too=True):
    keys = mint.make_keys(os.path.join(work, "keys"))
    token = keys.token(exp=int(time.time()) + 6 * 3600)
    figures = {}
    for audit in (False, True) if audit_too else (False,):
        h = Httpd(work, keys, token, audit)
        try:
            h.start()
            for _ in range(warm):
                h.get("/small.txt")
                h.get("/auth/small.txt", token)
            base = h.measure("/small.txt", None, n)
            cached = h.measure("/auth/small.txt", token, n)
        finally:
            h.stop()
        if not audit:
            figures["http.noauth"] = base
            figures["http.cached"] = cached - base
        else:
            figures["http.audit"] = cached - base
    return figures


def core_figure(work, mode, iters):
    out = os.path.join(work, "callgrind.core.%s" % mode)
    p = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=" + out,
                        "--toggle-collect=bench_loop_" + mode, BENCH_CORE, "--callgrind",
                        mode, "RS256", str(iters)],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                       timeout=1200)
    if p.returncode != 0:
        raise RuntimeError("bench_core under callgrind failed:\n" + p.stdout[-2000:])
    return callgrind_total(out) / iters


def read_budgets(path):
    budgets = {}
    with open(path) as f:
        for line in f:
            line = line.split("#", 1)[0].strip()
            if line:
                name, value = line.split()
                budgets[name] = float(value)
    return budgets


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--budgets", help="compare with this file; fail over budget")
    ap.add_argument("--tolerance", type=float, default=0.10)
    ap.add_argument("-n", type=int, default=300, help="measured requests per figure")
    ap.add_argument("--warm", type=int, default=30, help="warm-up requests per location")
    ap.add_argument("--core-iters", type=int, default=2000)
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--no-audit", action="store_true",
                    help="leave http.audit out (a module without %%^CA, e.g. 747b18c)")
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="cka-insn-")
    os.chmod(work, 0o755)
    try:
        figures = http_figures(work, args.n, args.warm, not args.no_audit)
        figures["core.cached"] = core_figure(work, "cached", args.core_iters)
        figures["core.cold"] = core_figure(work, "cold", max(20, args.core_iters // 20))
    finally:
        if args.keep:
            print("work directory kept: " + work)
        else:
            shutil.rmtree(work, ignore_errors=True)
    budgets = read_budgets(args.budgets) if args.budgets else {}
    failed = []
    print("%-12s %12s %12s %7s" % ("figure", "instr", "budget", "ratio"))
    for name in ("http.noauth", "http.cached", "http.audit", "core.cached", "core.cold"):
        if name not in figures:
            continue
        v = figures[name]
        b = budgets.get(name)
        ratio = v / b if b else None
        verdict = ""
        if b is not None and ratio > 1 + args.tolerance:
            verdict = "  OVER BUDGET (more than +%d%%)" % round(100 * args.tolerance)
            failed.append(name)
        print("%-12s %12.0f %12s %7s%s" % (name, v, "%.0f" % b if b else "-",
                                          "%.3f" % ratio if ratio else "-", verdict))
    if failed:
        print("instruction budget exceeded: " + ", ".join(failed))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
