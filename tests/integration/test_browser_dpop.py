"""A real browser proves DPoP (RFC 9449) through CORS (issue 16).

Debian's Chromium, headless, loads tests/browser/dpop_app.html from one
loopback origin. In the page: a NON-extractable WebCrypto ECDSA P-256 key;
a DPoP-bound access token for it from the test IdP's DPoP token endpoint
(tests/idp/idp_server.py DPoPTokenEndpoint, over HTTPS, through CORS with a
preflight for the DPoP header); then calls to the API on httpd's origin
(another port) with `Authorization: DPoP <token>` and a proof signed in the
page for each call (htm, htu, iat, jti, ath), through the module's CORS
(preflight with `dpop`). With ConduktorAuthDPoPNonce On the first call gets
401 use_dpop_nonce and the page reads the nonce from the exposed DPoP-Nonce
header; the retry gets the JSON. Then the same token without the key - as
a plain bearer token, or with a proof by another key - and an accepted proof
replayed, are refused. Everything asserted is what the page could read, plus
httpd's access log and what the backend received.

Chromium, node and playwright-core are got as test_browser.py gets them.
"""
import base64
import json
import os
import shutil
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

import test_browser as tb
from harness import CLUSTERS, TOP, challenge_params, headers_named, make_tempdir, protect, tls_ca

sys.path.insert(0, os.path.join(TOP, "tests", "idp"))
import idp_server  # noqa: E402

PAGE = "dpop_app.html"
TOKEN_PATH = "/realms/spa/protocol/openid-connect/token"
CLIENT = "conduktor-spa"
TIMEOUT = 75


@pytest.fixture(scope="module")
def browser_tools(request):
    why = tb._ensure_tools()
    if why:
        reporter = request.config.pluginmanager.get_plugin("terminalreporter")
        msg = "test_browser_dpop.py SKIPPED: " + why
        if reporter:
            reporter.write_line(msg)
        pytest.skip(why)
    return tb.CHROMIUM


class PageServer:
    """Serves dpop_app.html (only) on 127.0.0.1:<port>, in a thread."""

    def __init__(self):
        with open(os.path.join(tb.BROWSER_DIR, PAGE), "rb") as f:
            page = f.read()

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_GET(self):
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
        self.origin = "http://127.0.0.1:%d" % self.port
        self.url = self.origin + "/" + PAGE
        threading.Thread(target=self.srv.serve_forever, daemon=True).start()

    def stop(self):
        self.srv.shutdown()
        self.srv.server_close()


@pytest.fixture
def page():
    p = PageServer()
    yield p
    p.stop()


@pytest.fixture
def idp(workdir):
    i = idp_server.IdP(None, cert=tls_ca(workdir).server).start()
    yield i
    i.stop()


def claims_of(token):
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def run_browser(chromium, workdir, page_url, scenario):
    profile = make_tempdir(os.path.join(workdir, "chromium-profile-"))
    spec = os.path.join(workdir, "browser-dpop.json")
    with open(spec, "w") as f:
        json.dump(dict(chromium=chromium, userDataDir=profile, timeoutMs=TIMEOUT * 1000,
                       page=page_url, scenario=scenario), f)
    try:
        p = subprocess.run(["node", os.path.join(tb.BROWSER_DIR, "dpop_browser.js"), spec],
                           cwd=tb.BROWSER_DIR, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True, timeout=TIMEOUT + 10)
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    print(p.stderr)
    assert p.returncode == 0, "browser driver failed (rc %d):\n%s" % (p.returncode, p.stderr)
    return json.loads(p.stdout.strip().splitlines()[-1])


def test_page_with_a_non_extractable_key_proves_dpop_through_cors(
        browser_tools, httpd, backend, idp, page, workdir):
    h = httpd(protect("ConduktorAuthCORSAllowOrigin %s" % page.origin,
                      "ConduktorAuthDPoPNonce On"))
    ep = idp.dpop_token_endpoint(TOKEN_PATH, mint=lambda c: h.mint(**c), clients=[CLIENT],
                                 origins=[page.origin], claims={"email": "spa@example.test"})
    api = h.url + CLUSTERS
    before = len(backend.requests())
    out = run_browser(browser_tools, workdir, page.url,
                      dict(tokenUrl=idp.url + TOKEN_PATH, clientId=CLIENT, apiUrl=api))
    print("Chromium %s" % out["chromium"])
    res = out["result"]
    assert "driverError" not in res, res
    assert res["origin"] == page.origin and res["secureContext"] is True, res

    # The key never leaves WebCrypto.
    assert res["privateKeyExtractable"] is False, res
    assert res["privateKeyExport"] == "InvalidAccessError", res

    # The IdP issued one token bound to the page's key (checked its proof).
    assert res["token"].get("status") == 200 and res["token"].get("tokenType") == "DPoP", res
    tok = res.pop("accessToken")
    h.secrets.add(tok)
    assert [t for t, _ in ep.issued] == [tok], ep.seen
    assert claims_of(tok)["cnf"] == {"jkt": ep.issued[0][1]}
    assert ep.seen == [{"client": CLIENT, "ok": True, "why": None}]
    methods = [e.method for e in idp.entries(TOKEN_PATH)]
    assert methods == ["OPTIONS", "POST"], methods      # the browser's preflight for DPoP

    # First call: no nonce yet -> 401 use_dpop_nonce, nonce readable.
    first = res["first"]
    assert first.get("status") == 401, first
    assert "use_dpop_nonce" in (first["wwwAuthenticate"] or ""), first
    assert first["dpopNonce"], "DPoP-Nonce not readable by the page: %r" % first

    # Retry with the nonce, and one more call: the JSON arrives.
    for step in ("retry", "again"):
        r = res[step]
        assert r.get("status") == 200, (step, r)
        names = [c["metadata"]["name"] for c in r["json"]["clusters"]]
        assert names == ["local-kafka", "staging-kafka"], (step, names)
        echo = r["json"]["echo"]
        assert echo["token"] == "valid"
        assert echo["identity"]["email"] == "spa@example.test"
        # The backend gets a bearer token and no DPoP header.
        assert headers_named(echo, "Authorization") == ["Bearer " + tok], step
        assert headers_named(echo, "DPoP") == [], step

    # Without the key: every attempt is refused, and the page can read why.
    for step in ("replayedProof", "asBearer", "otherKey"):
        r = res[step]
        assert r.get("status") == 401, (step, r)
        assert r["wwwAuthenticate"], (step, r)
    # the bound token as a plain bearer token: invalid_token, readable
    _, params = challenge_params(res["asBearer"]["wwwAuthenticate"])
    assert params.get("error") == "invalid_token", res["asBearer"]

    # httpd: preflights answered (204), and what each call was refused for.
    entries = h.access_entries()
    options = [e for e in entries if e["method"] == "OPTIONS"]
    assert options and all(e["status"] == 204 for e in options), options
    gets = [(e["status"], e["error"]) for e in entries if e["method"] == "GET"]
    assert gets[0] == (401, "use_dpop_nonce"), gets
    assert gets[1:3] == [(200, "-"), (200, "-")], gets
    assert gets[3][0] == 401 and gets[3][1] == "dpop_replay", gets
    assert gets[4] == (401, "binding_missing"), gets
    # another key's proof: the binding does not match (RFC 9449 §7.1 lets
    # this be invalid_dpop_proof or invalid_token)
    assert gets[5][0] == 401 and gets[5][1] in ("dpop_invalid", "binding_missing"), gets
    assert len(backend.requests()) - before == 2, backend.requests()[before:]
