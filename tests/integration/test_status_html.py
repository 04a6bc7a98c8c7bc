"""The status page for people (SPEC "Status"; issue 18): ?format=html, and
the default when a browser asks for text/html - the same counters as the
Prometheus and JSON formats, per issuer the key-set age, last fetch result
and error, keys loaded; cache hit ratio; refusals per reason; no script or
external asset; every name escaped. Opened in Debian's headless Chromium:
the screenshot must show the issuer rows, and no script error may occur.
Also: every metric named in conf/grafana-dashboard.json's queries is on
the status page.
"""
import html
import json
import os
import re
import shutil
import subprocess
import time
import uuid
from html.parser import HTMLParser

import pytest

import harness
from harness import CLUSTERS, ISSUER, TOP, make_tempdir, protect
from idp_fixtures import (  # noqa: F401  (pki and idp are fixtures)
    PATH, UNAVAILABLE_PATTERN, SigningKey, fail_pattern, idp, jwks, pki, remote_issuer)
from test_browser import BROWSER_DIR, _apt_install, browser_tools  # noqa: F401
from test_status import STATUS, scrape, settle, status_json

BROWSER_ACCEPT = ("text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,"
                  "image/webp,image/apng,*/*;q=0.8")
PROMETHEUS_ACCEPT = ("application/openmetrics-text;version=1.0.0,application/openmetrics-text;"
                     "version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1")
# A file issuer whose name is markup: it must show as text, never as HTML.
MARKUP_ISSUER = "https://html.test/<script>alert(1)</script><b>&amp;'\u00e9"
DASHBOARD = os.path.join(TOP, "conf", "grafana-dashboard.json")


class PageValues(HTMLParser):
    """data-json="path" -> text, issuer rows, script tags and external
    references of a page."""

    def __init__(self):
        super().__init__()
        self.values, self.rows, self.scripts, self.refs = {}, [], 0, []
        self._key = None
        self._row = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "script":
            self.scripts += 1
        for name in ("src", "href"):
            if a.get(name) and not a[name].startswith("?"):
                self.refs.append(a[name])
        if "data-json" in a:
            self._key = a["data-json"]
            self.values[self._key] = ""
        if tag == "tr" and "issuer" in (a.get("class") or "").split():
            self._row = {"class": a["class"], "text": ""}
            self.rows.append(self._row)

    def handle_endtag(self, tag):
        if tag in ("td", "span"):
            self._key = None
        if tag == "tr":
            self._row = None

    def handle_data(self, data):
        if self._key is not None:
            self.values[self._key] += data
        if self._row is not None:
            self._row["text"] += data


def json_value(doc, path):
    v = doc
    for part in path.split("."):
        v = v[int(part)] if isinstance(v, list) else v[part]
    return v


def assert_same_counters(values, doc):
    """Every figure on the page is the JSON format's, and every JSON
    counter is on the page."""
    assert values, "no counters on the page"
    for path, text in values.items():
        assert int(text) == json_value(doc, path), (path, text)
    for reason, n in doc["denied"].items():
        assert values["denied." + reason] == str(n)
    for group in ("cache", "preflights"):
        for key, n in doc[group].items():
            assert values["%s.%s" % (group, key)] == str(n)
    assert values["allowed"] == str(doc["allowed"])
    for i, row in enumerate(doc["issuers"]):
        for key in ("keys_loaded", "fetches_ok", "fetches_failed", "from_shared_cache"):
            assert values["issuers.%d.%s" % (i, key)] == str(row[key])


def page(h, query="?format=html", headers=()):
    settle(h)
    r = h.get("/conduktor-auth-status" + query, headers=headers)
    assert r.status == 200, r
    return r


def some_traffic(h):
    tok = h.mint(jti=uuid.uuid4().hex)
    assert h.get(token=tok).status == 200        # miss
    assert h.get(token=tok).status == 200        # hit
    assert h.get(token=tok).status == 200        # hit
    assert h.get().status == 401                 # no_token
    assert h.get(token=h.mint(key="rogue-rsa")).status == 401
    assert h.get(token=h.mint(exp=int(time.time()) - 600)).status == 401


def test_html_format_counts_and_escaping(httpd):
    h = httpd(protect(), server=STATUS,
              issuers=["ConduktorAuthIssuer %s file:{keys}/jwks.json" % ISSUER,
                       "ConduktorAuthIssuer %s file:{keys}/jwks.json" % MARKUP_ISSUER])
    some_traffic(h)
    r = page(h)
    assert r.header("Content-Type") == "text/html; charset=utf-8"
    assert r.header("Cache-Control") == "no-store"
    csp = r.header("Content-Security-Policy")
    assert "default-src 'none'" in csp and "script-src" not in csp, csp
    body = r.text
    p = PageValues()
    p.feed(body)
    assert p.scripts == 0 and p.refs == [], (p.scripts, p.refs)
    assert "<script>alert" not in body and "<b>&amp;" not in body
    # The markup issuer shows as its own text.
    assert any(MARKUP_ISSUER in row["text"] for row in p.rows), p.rows
    doc = status_json(h)
    assert_same_counters(p.values, doc)
    assert doc["cache"] == {"hits": 2, "misses": 3, "records_rejected": 0}
    ratio = re.search(r'id="hit-ratio">([^<]*)<', body).group(1)
    assert ratio == "40.0%", ratio
    assert [row["class"] for row in p.rows] == ["file issuer", "file issuer"]
    assert 'class="n" id="denied-total">3<' in body


def test_format_follows_accept(httpd):
    h = httpd(protect(), server=STATUS)
    r = page(h, "", headers={"Accept": BROWSER_ACCEPT})
    assert r.header("Content-Type").startswith("text/html"), r.header("Content-Type")
    assert "Accept" in r.header("Vary")
    for accept in (PROMETHEUS_ACCEPT, "*/*", "text/plain", "text/html;q=0.1, text/plain"):
        r = page(h, "", headers={"Accept": accept})
        assert r.header("Content-Type").startswith("text/plain"), (accept, r.header("Content-Type"))
    r = page(h, "?format=json", headers={"Accept": BROWSER_ACCEPT})
    assert r.header("Content-Type").startswith("application/json")
    r = page(h, "?format=prometheus", headers={"Accept": BROWSER_ACCEPT})
    assert r.header("Content-Type").startswith("text/plain")
    r = h.get("/conduktor-auth-status?format=<svg>")
    assert r.status == 400 and "<svg>" not in r.text, r
    scrape(h)              # the Prometheus text is still as test_status.py has it


def test_page_in_chromium(browser_tools, httpd, idp, pki, workdir):  # noqa: F811
    """Three issuers - a file one, a remote one that answers, one whose
    fetch fails - seen in a real browser."""
    ip = idp()
    iss_ok = ip.url + "/ok"
    k1 = SigningKey("k1")
    ip.publish_jwks("/ok/keys", jwks(k1), max_age=300)
    iss_down = "https://127.0.0.1:%d/down" % harness.free_port()
    h = httpd(protect(), server=STATUS,
              issuers=["ConduktorAuthIssuer %s file:{keys}/jwks.json" % ISSUER]
              + remote_issuer(pki, iss_ok, ip.url + "/ok/keys", timeout=2, miss=60)
              + ["ConduktorAuthIssuer %s %s/keys" % (iss_down, iss_down)],
              expect_log=[fail_pattern(iss_down), UNAVAILABLE_PATTERN])
    some_traffic(h)
    assert h.get(PATH, token=k1.token(iss_ok)).status == 200
    assert h.get(PATH, token=k1.token(iss_down)).status == 503
    settle(h)

    if _pil() is None:
        pytest.skip("python3-pil cannot be installed")
    profile = make_tempdir(os.path.join(workdir, "chromium-status-"))
    shot = os.path.join(workdir, "status-page-%d.png" % h.port)
    spec = os.path.join(workdir, "status-page.json")
    with open(spec, "w") as f:
        json.dump(dict(chromium=browser_tools, userDataDir=profile, screenshot=shot,
                       url=h.url + "/conduktor-auth-status", timeoutMs=60000), f)
    try:
        p = subprocess.run(["node", os.path.join(BROWSER_DIR, "status_page.js"), spec],
                           cwd=BROWSER_DIR, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True, timeout=80)
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    assert p.returncode == 0, "browser driver failed (rc %d):\n%s" % (p.returncode, p.stderr)
    out = json.loads(p.stdout.strip().splitlines()[-1])
    print("Chromium %s, screenshot %s" % (out["chromium"], shot))
    assert out["status"] == 200 and out["contentType"].startswith("text/html"), out
    assert out["pageErrors"] == [] and out["scripts"] == 0, out
    # Chromium asks for /favicon.ico on its own (401 under the protected
    # "/" here): not an asset of the page. Nothing else is loaded.
    favicon = h.url + "/favicon.ico"
    assert not [l for l in out["console"] if l.startswith(("error", "warning"))
                and not l.endswith("(%s)" % favicon)], out["console"]
    assert [u for u in out["requests"] if u != favicon] == [h.url + "/conduktor-auth-status"], \
        out["requests"]

    rows = {r["cells"][0]: r for r in out["issuers"]}
    assert set(rows) == {ISSUER, iss_ok, iss_down}, rows
    assert all(r["visible"] for r in rows.values())
    assert rows[ISSUER]["class"].split()[0] == "file"
    assert rows[iss_ok]["class"].split()[0] == "ok"
    assert rows[iss_ok]["cells"][3] == "1"                     # keys loaded
    assert rows[iss_down]["class"].split()[0] == "failed"
    assert rows[iss_down]["cells"][3] == "0"
    assert rows[iss_down]["cells"][4] == "never"               # no key set, no age
    assert "jwks:" in rows[iss_down]["cells"][6], rows[iss_down]   # the last error
    assert rows[iss_ok]["cells"][6] == ""

    doc = status_json(h)
    assert_same_counters(out["values"], doc)
    by_iss = {r["issuer"]: r for r in doc["issuers"]}
    assert by_iss[iss_down]["last_fetch"] == "failed" and by_iss[iss_down]["last_error"]
    assert by_iss[iss_ok]["last_fetch"] == "ok" and "last_error" not in by_iss[iss_ok]
    assert by_iss[ISSUER]["last_fetch"] == "file"

    # The screenshot shows the three rows: one state cell of each colour.
    colours = {"file": (0x15, 0x65, 0xc0), "ok": (0x2e, 0x7d, 0x32), "failed": (0xc6, 0x28, 0x28)}
    for r in rows.values():
        want = "rgb(%d, %d, %d)" % colours[r["class"].split()[0]]
        assert r["stateColor"] == want, r
    bands = _colour_bands(shot, colours.values())
    assert all(n == 1 for n in bands.values()), bands


def _pil():
    try:
        import PIL.Image  # noqa: F401
        return PIL
    except ImportError:
        if _apt_install(["python3-pil"]) is not None:
            return None
        import PIL.Image  # noqa: F401
        return PIL


def _colour_bands(path, colours):
    """For each colour, how many separate horizontal bands of the
    screenshot hold a run of at least 6 pixels of it (a table cell: its
    padding is coloured on every pixel row, text or not)."""
    from PIL import Image
    img = Image.open(path).convert("RGB")
    w, hgt = img.size
    data = img.tobytes()
    out = {}
    for c in colours:
        run = bytes(c) * 6
        rows_with = []
        for y in range(hgt):
            row = data[y * w * 3:(y + 1) * w * 3]
            i = row.find(run)
            while i != -1 and i % 3:
                i = row.find(run, i + 1)
            if i != -1:
                rows_with.append(y)
        out[c] = sum(1 for i, y in enumerate(rows_with) if i == 0 or rows_with[i - 1] != y - 1)
    return out


def test_dashboard_queries_name_real_metrics(httpd):
    """Every metric a panel of conf/grafana-dashboard.json queries is one
    the status page exports (a typo or a renamed metric shows up here)."""
    with open(DASHBOARD) as f:
        dash = json.load(f)
    exprs = []

    def walk(panels):
        for panel in panels:
            exprs.extend(t["expr"] for t in panel.get("targets", []) if t.get("expr"))
            walk(panel.get("panels", []))
    walk(dash["panels"])
    assert len(exprs) >= 6, exprs
    named = set()
    for e in exprs:
        named |= set(re.findall(r"\b(conduktor_auth_[a-z_]+)\b", e))
    assert named, exprs
    h = httpd(protect(), server=STATUS)
    r = page(h, "?format=prometheus")
    exported = set(re.findall(r"^# TYPE (\S+) ", r.text, re.M))
    missing = named - exported
    assert not missing, "dashboard queries metrics the module does not export: %s" % missing
    # The panels the issue asks for: allowed and refused per reason, cache
    # hit ratio, key fetches and key-set age per issuer, preflights.
    for family in ("conduktor_auth_requests_allowed_total", "conduktor_auth_requests_denied_total",
                   "conduktor_auth_cache_hits_total", "conduktor_auth_cache_misses_total",
                   "conduktor_auth_key_fetches_total", "conduktor_auth_key_set_age_seconds",
                   "conduktor_auth_keys_loaded", "conduktor_auth_preflights_total"):
        assert family in named, family
    titles = [p.get("title") for p in dash["panels"]]
    assert all(titles), titles
