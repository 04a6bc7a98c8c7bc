#!/usr/bin/env node
// Drive Debian's headless Chromium through the CORS cases of
// tests/integration/test_browser.py.
//
//   node cors_browser.js CASES.json
//
// CASES.json: {"chromium": "/usr/bin/chromium", "userDataDir": "/tmp/...",
//              "timeoutMs": 60000,
//              "cases": [{"name", "page", "url", "init", "expect"}, ...]}
//
// Chromium is started by chromium.js with the flags a closed network needs,
// a fresh profile and a DevTools port; playwright-core only attaches to it
// over the DevTools protocol (no browser of its own is downloaded). Each
// case gets a fresh browser context (no preflight or HTTP cache carried
// over), loads its page (the Backstage stand-in, on the origin under test)
// and calls window.runCase() in it: the fetch() and the checks happen in the
// page. Prints one JSON object on stdout: {"chromium": version, "results":
// [{name, origin, got, failures}]}. Exit status 0 when it ran (whatever the
// verdicts), 2 on a setup failure, 3 on the overall time limit.
"use strict";

const { run } = require("./chromium");

run("cors_browser", {}, async (browser, cfg, log) => {
  const version = browser.version();
  const results = [];
  for (const c of cfg.cases) {
    const context = await browser.newContext();
    const page = await context.newPage();
    page.setDefaultTimeout(15000);
    const consoleLines = [];
    page.on("console", (m) => consoleLines.push(m.type() + ": " + m.text()));
    let r;
    try {
      await page.goto(c.page, { waitUntil: "load" });
      r = await page.evaluate((arg) => window.runCase(arg), c);
    } catch (e) {
      r = { origin: null, got: null, failures: ["driver: " + String(e.message || e)] };
    }
    r.name = c.name;
    r.console = consoleLines;
    log(c.name + " from " + r.origin + ": " +
        (r.failures.length ? "FAIL " + r.failures.join("; ") : "ok"));
    results.push(r);
    await context.close();
  }
  return { chromium: version, results: results };
});
