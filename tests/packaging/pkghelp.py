"""Helpers for the packaging tests: a private httpd for the conf/ examples,
a loopback echo backend, the `make dist` tarball, and small utilities.

Nothing here touches the system apache; tests/packaging/test_deb.py does
that itself, and puts everything back.
"""
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.abspath(os.path.join(HERE, "..", ".."))
CONF = os.path.join(TOP, "conf")
sys.path.insert(0, os.path.join(TOP, "tests", "tools"))

import mint  # noqa: E402  (tests/tools/mint.py: test keys and tokens)

APACHE = os.environ.get("CKA_APACHE", "/usr/sbin/apache2")
MODDIR = os.environ.get("CKA_MODDIR", "/usr/lib/apache2/modules")
MODULE = os.environ.get("CKA_MODULE",
                        os.path.join(TOP, ".libs", "mod_conduktor_auth.so"))
# Where the examples send the API; the tests point it at a local echo server.
EXAMPLE_BACKEND = "http://conduktor.internal:8080"
PACKAGE = "libapache2-mod-conduktor-auth"

SYSTEM_MODULES = ["mpm_event", "unixd", "log_config", "authn_core", "authz_core",
                  "authz_host", "authz_user", "env", "setenvif", "mime",
                  "headers", "proxy", "proxy_http", "socache_shmcb"]

# Like the integration harness: any warn/error line not declared fails.
BAD_LOG_LINE = re.compile(r"^\[[^\]]*\] \[[\w.]*:(warn|error|crit|alert|emerg)\]")
ALWAYS_EXPECTED = [r"AH01630: client denied by server configuration",
                   r"AH01631: user .*: authorization failure"]


def run(cmd, timeout=600, check=True, env=None, cwd=None, input=None):
    """Run a command; return CompletedProcess with stdout+stderr in .stdout."""
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       text=True, timeout=timeout, env=env, cwd=cwd, input=input)
    if check and p.returncode != 0:
        raise AssertionError("command failed (rc %d): %s\n%s"
                             % (p.returncode, " ".join(cmd), p.stdout[-6000:]))
    return p


def clean_env(**extra):
    """The environment without APACHE_* (apache2ctl's envvars), plus extra."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("APACHE_")}
    env.update(extra)
    return env


def make_tempdir(prefix):
    """A directory httpd's unprivileged children may read."""
    path = tempfile.mkdtemp(prefix=prefix)
    os.chmod(path, 0o755)
    return path


def free_port(lo=None, hi=None):
    """A free loopback port: any, or the first free one in [lo, hi)."""
    candidates = [0] if lo is None else range(lo, hi)
    for port in candidates:
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return s.getsockname()[1]
    raise RuntimeError("no free port in %s..%s" % (lo, hi))


def port_open(port):
    try:
        socket.create_connection(("127.0.0.1", port), 0.2).close()
        return True
    except OSError:
        return False


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is not alive.
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


def get(port, path, token=None, headers=None, method="GET"):
    """One HTTP request to 127.0.0.1:port; returns (status, headers, body)."""
    hdrs = dict(headers or {})
    if token is not None:
        hdrs["Authorization"] = "Bearer " + token
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=15)
    try:
        conn.request(method, path, headers=hdrs)
        r = conn.getresponse()
        return r.status, dict((k.lower(), v) for k, v in r.getheaders()), r.read()
    finally:
        conn.close()


# ---- directives the module defines (src/httpd/directives.c, cka_cmds) ------
def module_directives():
    with open(os.path.join(TOP, "src", "httpd", "directives.c")) as f:
        text = f.read()
    table = text[text.index("cka_cmds[]"):]
    return set(re.findall(r'AP_INIT_\w+\(\s*"(ConduktorAuth\w+)"', table))


# ---- the examples ------------------------------------------------------------
ISSUER_LINE = re.compile(r"^(\s*ConduktorAuthIssuer\s+)(\S+)(?:[ \t]+\S+)?[ \t]*$",
                         re.MULTILINE)


def example_files():
    """conf/*.conf except the mods-available one, sorted."""
    return sorted(f for f in os.listdir(CONF)
                  if f.endswith(".conf") and f != "conduktor_auth.conf")


def read_example(name):
    with open(os.path.join(CONF, name)) as f:
        return f.read()


def example_issuers(text):
    return [m.group(2) for m in ISSUER_LINE.finditer(text)]


def localize(text, key_file, backend_url=None):
    """The example with local keys standing in for the IdP: every
    `ConduktorAuthIssuer <iss> [<https url>]` gets `file:<key_file>`, and
    the example backend URL becomes backend_url."""
    text = ISSUER_LINE.sub(lambda m: "%s%s file:%s" % (m.group(1), m.group(2),
                                                       key_file), text)
    if backend_url:
        text = text.replace(EXAMPLE_BACKEND, backend_url)
    return text


HTTPD_WORDS = {"AuthType", "AuthName", "Require", "ProxyPass", "SetHandler",
               "<Location", "</Location>", "<RequireAny>", "</RequireAny>",
               "<RequireAll>", "</RequireAll>"}


def uncomment_directives(text):
    """Turn the commented directives of a reference file (`#Directive args`,
    `#    #Directive args`, `#<Location ...>`) into live ones; comment prose
    stays as it is."""
    words = module_directives() | HTTPD_WORDS
    out = []
    for line in text.splitlines():
        m = re.match(r"^(\s*)#\s*(?:#\s*)?(\S+)(.*)$", line)
        if m and m.group(2) in words:
            out.append(m.group(1) + m.group(2) + m.group(3))
        else:
            out.append(line)
    return "\n".join(out) + "\n"


# ---- a loopback echo backend ---------------------------------------------------
class EchoBackend:
    """Answers 200 with JSON {path, headers} to anything; records requests."""

    def __init__(self):
        seen = self.seen = []

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _answer(self):
                body = json.dumps({"path": self.path,
                                   "headers": dict(self.headers.items())}).encode()
                seen.append((self.command, self.path, dict(self.headers.items())))
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            do_GET = do_POST = do_HEAD = do_PUT = do_DELETE = _answer

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.url = "http://127.0.0.1:%d" % self.port
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


# ---- a private httpd -------------------------------------------------------------
MAIN_CONF = """\
# Generated by tests/packaging/pkghelp.py
ServerRoot "@ROOT@"
DefaultRuntimeDir "@ROOT@/run"
PidFile "@ROOT@/run/httpd.pid"
Listen 127.0.0.1:@PORT@
ServerName 127.0.0.1
User nobody
Group nogroup
@LOADMODULES@
ErrorLog "@ROOT@/logs/error_log"
LogLevel info
LogFormat "%m %U%q %>s user=%u groups=%{CONDUKTOR_AUTH_GROUPS}e error=%{CONDUKTOR_AUTH_ERROR}e overage=%{CONDUKTOR_AUTH_GROUPS_OVERAGE}e" pkgtest
CustomLog "@ROOT@/logs/access_log" pkgtest
TypesConfig /etc/mime.types
Timeout 10
DocumentRoot "@ROOT@/htdocs"
<Directory />
    AllowOverride None
    Require all denied
</Directory>
ProxyRequests Off
ProxyTimeout 10

@INCLUDES@
"""

_BUILTIN = []


def builtin_modules():
    if not _BUILTIN:
        out = run([APACHE, "-l"], env=clean_env()).stdout
        _BUILTIN.extend(re.findall(r"mod_(\w+)\.c", out) or ["-"])
    return _BUILTIN


class Httpd:
    """httpd with its own ServerRoot on a loopback port, including the given
    configuration files after a minimal main configuration."""

    def __init__(self, workdir, includes, module=MODULE, modules=()):
        self.root = make_tempdir(os.path.join(workdir, "httpd-"))
        for sub in ("logs", "run", "htdocs"):
            os.makedirs(os.path.join(self.root, sub), mode=0o755)
        self.port = free_port()
        self.conf = os.path.join(self.root, "httpd.conf")
        self.error_log = os.path.join(self.root, "logs", "error_log")
        self.access_log = os.path.join(self.root, "logs", "access_log")
        # ${APACHE_LOG_DIR} in an example (the Debian convention).
        self.env = clean_env(APACHE_LOG_DIR=os.path.join(self.root, "logs"))
        self.pid = None
        self.expected = [re.compile(p) for p in ALWAYS_EXPECTED]
        loads = ["LoadModule %s_module %s/mod_%s.so" % (m, MODDIR, m)
                 for m in SYSTEM_MODULES + list(modules) if m not in builtin_modules()]
        loads.append("LoadModule conduktor_auth_module %s" % module)
        paths = []
        for i, text in enumerate(includes):
            path = os.path.join(self.root, "include-%d.conf" % i)
            with open(path, "w") as f:
                f.write(text)
            paths.append(path)
        with open(self.conf, "w") as f:
            f.write(MAIN_CONF.replace("@LOADMODULES@", "\n".join(loads))
                    .replace("@INCLUDES@", "\n".join('Include "%s"' % p for p in paths))
                    .replace("@ROOT@", self.root)
                    .replace("@PORT@", str(self.port)))

    def configtest(self):
        p = run([APACHE, "-t", "-f", self.conf], env=self.env, check=False, timeout=60)
        return p.returncode, p.stdout

    def start(self):
        p = run([APACHE, "-f", self.conf, "-k", "start"], env=self.env,
                check=False, timeout=60)
        if p.returncode != 0:
            raise AssertionError("httpd did not start:\n%s\n%s"
                                 % (p.stdout, self.read(self.error_log)))
        pidfile = os.path.join(self.root, "run", "httpd.pid")
        deadline = time.time() + 15
        while time.time() < deadline:
            if os.path.exists(pidfile) and port_open(self.port):
                with open(pidfile) as f:
                    self.pid = int(f.read().strip())
                return self
            time.sleep(0.05)
        raise AssertionError("httpd did not come up:\n" + self.read(self.error_log))

    def stop(self):
        if self.pid is None:
            return
        run([APACHE, "-f", self.conf, "-k", "stop"], env=self.env, check=False,
            timeout=60)
        deadline = time.time() + 15
        while time.time() < deadline and alive(self.pid):
            time.sleep(0.05)
        if alive(self.pid):
            os.kill(self.pid, signal.SIGKILL)
        self.pid = None

    def get(self, path, token=None, **kw):
        return get(self.port, path, token=token, **kw)

    @staticmethod
    def read(path):
        try:
            with open(path, errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def access_lines(self, count, timeout=5.0):
        """The first `count` access-log lines (httpd writes them after
        answering, so wait for them)."""
        deadline = time.time() + timeout
        while True:
            lines = self.read(self.access_log).splitlines()
            if len(lines) >= count or time.time() > deadline:
                return lines
            time.sleep(0.02)

    def log_problems(self, secrets=()):
        problems = []
        text = self.read(self.error_log)
        for line in text.splitlines():
            if BAD_LOG_LINE.match(line) and not any(p.search(line) for p in self.expected):
                problems.append("unexpected log line: " + line)
        logs = text
        for name in os.listdir(os.path.join(self.root, "logs")):
            logs += self.read(os.path.join(self.root, "logs", name))
        for secret in secrets:
            for piece in [secret] + secret.split("."):
                if len(piece) >= 16 and piece in logs:
                    problems.append("token material in a log: %s..." % piece[:12])
                    break
        return problems


# ---- source tree and `make dist` -------------------------------------------------
def source_files(top=TOP):
    """The files of the source tree: git's tracked and untracked-but-not-
    ignored files (what a fresh clone plus work in progress holds)."""
    p = run(["git", "-C", top, "ls-files", "-z", "--cached", "--others",
             "--exclude-standard"], check=False)
    if p.returncode != 0:
        raise AssertionError("cannot list the source files (not a git checkout?); "
                             "set CKA_DIST_TARBALL to a `make dist` tarball\n"
                             + p.stdout)
    return [f for f in p.stdout.split("\0")
            if f and os.path.lexists(os.path.join(top, f)) and not _not_source(top, f)]


# Present in a working tree but not source: installed npm packages, fuzzer
# output and crash inputs, compiled programs.
NOT_SOURCE = re.compile(r"(^|/)node_modules/|^build/fuzz-out/"
                        r"|^(crash|leak|oom|timeout|slow-unit)-[0-9a-f]+$")


def _not_source(top, rel):
    if NOT_SOURCE.search(rel):
        return True
    path = os.path.join(top, rel)
    if os.path.islink(path) or not os.path.isfile(path):
        return False
    with open(path, "rb") as f:
        return f.read(4) == b"\x7fELF"


def copy_tree(dest, top=TOP):
    for rel in source_files(top):
        src = os.path.join(top, rel)
        dst = os.path.join(dest, rel)
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        shutil.copy2(src, dst, follow_symlinks=False)
    return dest


def make_dist(workdir, top=TOP):
    """Copy the source tree, autoreconf, configure, `make dist`; return the
    tarball's path. The source tree itself is not touched."""
    src = copy_tree(os.path.join(workdir, "src"), top)
    run(["autoreconf", "-fi"], cwd=src, timeout=300)
    run(["./configure"], cwd=src, timeout=300)
    run(["make", "dist"], cwd=src, timeout=300)
    tarballs = [f for f in os.listdir(src) if re.match(r"mod_conduktor_auth-.*\.tar\.gz$", f)]
    assert len(tarballs) == 1, tarballs
    return os.path.join(src, tarballs[0])
