"""A real browser calls Conduktor through httpd with CORS (issue 4).

Debian's Chromium, headless, loads tests/browser/backstage.html - a
stand-in for a Backstage frontend - from one loopback origin and calls
fetch() with `Authorization: Bearer <token>` on httpd's origin (another
port). The checks run inside the page, on what the page can read:

  allowed origin, valid token        -> the cluster JSON of the stand-in Conduktor
  allowed origin, JSON POST          -> idem (preflight for POST + Content-Type)
  allowed origin, bad token          -> status 401 and WWW-Authenticate readable
  allowed origin, no token           -> status 401 and WWW-Authenticate readable
  allowed origin, group missing      -> status 403 and WWW-Authenticate readable
  other port / other host name       -> fetch() rejects with a TypeError (CORS)
  credentials: 'include'             -> works only where
                                        ConduktorAuthCORSAllowCredentials On

Chromium (apt) and playwright-core (npm, into tests/browser/node_modules)
are installed by the test when missing; it is skipped, saying why, only
when they cannot be installed. playwright-core only attaches to the
Chromium started by tests/browser/cors_browser.js over the DevTools
protocol: no browser is downloaded.
"""
import json
import os
import shutil
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from harness import TOP, make_tempdir, protect

BROWSER_DIR = os.path.join(TOP, "tests", "browser")
CHROMIUM = "/usr/bin/chromium"
PAGE = "backstage.html"
CLUSTERS = "/api/public/console/v2/kafka-cluster"
SCENARIO_TIMEOUT = 75          # seconds for the whole browser run
NO_ACAO = "No 'Access-Control-Allow-Origin' header"


# -- getting the tools -------------------------------------------------------

def _run(cmd, timeout, env=None, cwd=None):
    try:
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           text=True, timeout=timeout, env=env, cwd=cwd)
        return p.returncode, p.stdout
    except (OSError, subprocess.TimeoutExpired) as e:
        return -1, str(e)


def _apt_install(packages):
    """apt-get install, with one `apt-get update` when the lists are
    missing or stale. Returns None or why it failed."""
    if os.geteuid() != 0:
        return "not root: cannot apt-get install %s" % " ".join(packages)
    if not shutil.which("apt-get"):
        return "no apt-get on this machine"
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    cmd = ["apt-get", "-o", "DPkg::Lock::Timeout=120", "install", "-y",
           "--no-install-recommends"] + list(packages)
    rc, out = _run(cmd, 900, env=env)
    if rc != 0:
        _run(["apt-get", "-o", "DPkg::Lock::Timeout=120", "update"], 600, env=env)
        rc, out = _run(cmd, 900, env=env)
    if rc != 0:
        return "`%s` failed (rc %d):\n%s" % (" ".join(cmd), rc, out[-2000:])
    return None


def _node_ok():
    return shutil.which("node") and shutil.which("npm")


def _playwright_installed():
    want = json.load(open(os.path.join(BROWSER_DIR, "package.json")))["dependencies"]["playwright-core"]
    have = os.path.join(BROWSER_DIR, "node_modules", "playwright-core", "package.json")
    try:
        return json.load(open(have)).get("version") == want
    except (OSError, ValueError):
        return False


def _ensure_tools():
    """Return None when Chromium, node and playwright-core are ready, else
    why they cannot be had."""
    if not os.access(CHROMIUM, os.X_OK):
        why = _apt_install(["chromium"])
        if why or not os.access(CHROMIUM, os.X_OK):
            return "Chromium cannot be installed from Debian: %s" % (why or "no " + CHROMIUM)
    if not _node_ok():
        why = _apt_install(["nodejs", "npm"])
        if why or not _node_ok():
            return "node/npm cannot be installed: %s" % (why or "not on PATH after install")
    if not _playwright_installed():
        env = dict(os.environ, PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD="1")
        lock = os.path.exists(os.path.join(BROWSER_DIR, "package-lock.json"))
        cmd = ["npm", "ci" if lock else "install", "--no-audit", "--no-fund"]
        rc, out = _run(cmd, 600, env=env, cwd=BROWSER_DIR)
        if rc != 0 or not _playwright_installed():
            return "`%s` in %s failed (rc %d):\n%s" % (" ".join(cmd), BROWSER_DIR, rc, out[-2000:])
    return None


@pytest.fixture(scope="module")
def browser_tools(request):
    why = _ensure_tools()
    if why:
        reporter = request.config.pluginmanager.get_plugin("terminalreporter")
        msg = "test_browser.py SKIPPED: " + why
        if reporter:
            reporter.write_line(msg)
        else:
            print(msg)
        pytest.skip(why)
    return CHROMIUM


# -- the Backstage stand-in --------------------------------------------------

class PageServer:
    """Serves backstage.html (only) on 127.0.0.1:<port>, in a thread."""

    def __init__(self):
        with open(os.path.join(BROWSER_DIR, PAGE), "rb") as f:
            page = f.read()

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_GET(self):
                if self.path == "/favicon.ico":
                    self.send_response(204)
                    self.end_headers()
                    return
                if self.path.split("?")[0] != "/" + PAGE:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(page)))
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
                self.wfile.write(page)

        self.srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.srv.daemon_threads = True
        self.port = self.srv.server_address[1]
        threading.Thread(target=self.srv.serve_forever, daemon=True).start()

    def url(self, host="127.0.0.1"):
        return "http://%s:%d/%s" % (host, self.port, PAGE)

    def stop(self):
        self.srv.shutdown()
        self.srv.server_close()


@pytest.fixture
def pages():
    allowed, other = PageServer(), PageServer()
    yield allowed, other
    allowed.stop()
    other.stop()


# -- the test ----------------------------------------------------------------

def test_backstage_page_calls_conduktor_through_httpd(browser_tools, httpd, backend,
                                                      pages, workdir):
    allowed, other = pages
    origin = "http://127.0.0.1:%d" % allowed.port
    cors = "ConduktorAuthCORSAllowOrigin %s" % origin
    h = httpd(protect(cors), server="""
        <Location "/cred/">
          ProxyPass "{backend}/"
          %s
        </Location>
        <Location "/ops/">
          %s
        </Location>""" % (
        protect(cors, "ConduktorAuthCORSAllowCredentials On"),
        protect(cors, require="Require conduktor-group ops")))
    valid, bad = h.mint(), h.mint(key="rogue-rsa")
    bearer = lambda tok: {"Authorization": "Bearer " + tok}   # noqa: E731
    api = h.url + CLUSTERS
    both = ["local-kafka", "staging-kafka"]
    realm = r'^Bearer realm="Conduktor"'
    cases = [
        dict(name="allowed origin, valid token: the JSON arrives",
             page=allowed.url(), url=api, init=dict(headers=bearer(valid)),
             expect=dict(status=200, clusters=both)),
        dict(name="allowed origin, POST with a JSON body: the JSON arrives",
             page=allowed.url(), url=api,
             init=dict(method="POST", body="{}",
                       headers=dict(bearer(valid), **{"Content-Type": "application/json"})),
             expect=dict(status=200, clusters=both)),
        dict(name="allowed origin, bad token: 401 and WWW-Authenticate readable",
             page=allowed.url(), url=api, init=dict(headers=bearer(bad)),
             expect=dict(status=401, jsonError="invalid_token",
                         wwwAuthenticate=realm + r'.*error="invalid_token"')),
        dict(name="allowed origin, no token: 401 and WWW-Authenticate readable",
             page=allowed.url(), url=api, init={},
             expect=dict(status=401, wwwAuthenticate=realm + "$")),
        dict(name="allowed origin, group missing: 403 and WWW-Authenticate readable",
             page=allowed.url(), url=h.url + "/ops/clusters", init=dict(headers=bearer(valid)),
             expect=dict(status=403, jsonError="insufficient_scope",
                         wwwAuthenticate=realm + r'.*error="insufficient_scope"')),
        dict(name="disallowed origin (other port): CORS error",
             page=other.url(), url=api, init=dict(headers=bearer(valid)),
             expect=dict(error="TypeError"), blocked=NO_ACAO),
        dict(name="disallowed origin (localhost, same port): CORS error",
             page=allowed.url("localhost"), url=api, init=dict(headers=bearer(valid)),
             expect=dict(error="TypeError"), blocked=NO_ACAO),
        dict(name="credentials include, AllowCredentials Off: CORS error",
             page=allowed.url(), url=api,
             init=dict(headers=bearer(valid), credentials="include"),
             expect=dict(error="TypeError"), blocked="Access-Control-Allow-Credentials"),
        dict(name="credentials include, AllowCredentials On: the JSON arrives",
             page=allowed.url(), url=h.url + "/cred" + CLUSTERS,
             init=dict(headers=bearer(valid), credentials="include"),
             expect=dict(status=200, clusters=both)),
    ]
    profile = make_tempdir(os.path.join(workdir, "chromium-profile-"))
    spec = os.path.join(workdir, "browser-cases.json")
    with open(spec, "w") as f:
        json.dump(dict(chromium=browser_tools, userDataDir=profile,
                       timeoutMs=SCENARIO_TIMEOUT * 1000, cases=cases), f)
    before = len(backend.requests())
    try:
        p = subprocess.run(["node", os.path.join(BROWSER_DIR, "cors_browser.js"), spec],
                           cwd=BROWSER_DIR, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True, timeout=SCENARIO_TIMEOUT + 10)
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    print(p.stderr)
    assert p.returncode == 0, "browser driver failed (rc %d):\n%s" % (p.returncode, p.stderr)
    out = json.loads(p.stdout.strip().splitlines()[-1])
    print("Chromium %s" % out["chromium"])
    results = {r["name"]: r for r in out["results"]}
    assert list(results) == [c["name"] for c in cases]

    failed = {n: (r["failures"], r["got"], r["console"]) for n, r in results.items()
              if r["failures"]}
    assert not failed, json.dumps(failed, indent=1)
    for c in cases:
        r = results[c["name"]]
        assert r["origin"] == c["page"].rsplit("/", 1)[0], r
        # A rejected fetch() is a CORS refusal (Chromium says why on the
        # page's console), not a network failure; nothing else is refused.
        blocked = [l for l in r["console"] if "blocked by CORS policy" in l]
        if c.get("blocked"):
            assert blocked and c["blocked"] in blocked[0], (c["name"], r["console"])
        else:
            assert not blocked, (c["name"], r["console"])

    # The browser really made preflights, httpd answered them, and only the
    # three calls that were allowed reached the stand-in Conduktor.
    reached = backend.requests()[before:]
    assert reached == ["GET " + CLUSTERS, "POST " + CLUSTERS, "GET " + CLUSTERS], reached
    deadline = time.time() + 5
    while True:     # httpd writes its access log after answering
        options = sorted(e["status"] for e in h.access_entries() if e["method"] == "OPTIONS")
        if len(options) >= 7 or time.time() > deadline:
            break
        time.sleep(0.05)
    assert options.count(403) == 2, options        # the two disallowed origins
    assert options.count(204) >= 5, options
