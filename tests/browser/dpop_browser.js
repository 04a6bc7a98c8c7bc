#!/usr/bin/env node
// A real browser proves DPoP (RFC 9449) through CORS:
// tests/integration/test_browser_dpop.py.
//
//   node dpop_browser.js SCENARIO.json
//
// SCENARIO.json: {"chromium": "/usr/bin/chromium", "userDataDir": "/tmp/...",
//                 "timeoutMs": 60000, "page": "http://127.0.0.1:P/dpop_app.html",
//                 "scenario": {"tokenUrl", "clientId", "apiUrl"}}
//
// Chromium is started by chromium.js; playwright-core attaches over the
// DevTools protocol. The page (dpop_app.html) makes a non-extractable
// WebCrypto key, gets a DPoP-bound token from the test IdP and calls the
// API with proofs it signs itself: window.runDpop() does it all in the
// page and returns what it could read. The test IdP serves HTTPS with a
// certificate from a CA made at test time: this browser context ignores
// certificate errors (the page itself is on http://127.0.0.1, a secure
// context as every loopback origin is). Prints one JSON object on stdout:
// {"chromium": version, "result": {...}, "console": [...]}. Exit status 0
// when it ran, 2 on a setup failure, 3 on the overall time limit.
"use strict";

const { run } = require("./chromium");

run("dpop_browser", {}, async (browser, cfg, log) => {
  const version = browser.version();
  const context = await browser.newContext({ ignoreHTTPSErrors: true });
  const page = await context.newPage();
  page.setDefaultTimeout(20000);
  const consoleLines = [];
  page.on("console", (m) => consoleLines.push(m.type() + ": " + m.text()));
  let result;
  try {
    await page.goto(cfg.page, { waitUntil: "load" });
    result = await page.evaluate((arg) => window.runDpop(arg), cfg.scenario);
  } catch (e) {
    result = { driverError: String(e.message || e) };
  }
  // What each step got, without the token or the bodies.
  const brief = {};
  for (const [k, v] of Object.entries(result || {}))
    brief[k] = (v && typeof v === "object") ? (v.status || v.error) : (k === "accessToken" ? "(token)" : v);
  log("result: " + JSON.stringify(brief));
  await context.close();
  return { chromium: version, result: result, console: consoleLines };
});
