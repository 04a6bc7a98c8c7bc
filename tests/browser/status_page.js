#!/usr/bin/env node
// Open the conduktor-auth-status page for people in Debian's headless
// Chromium, as an administrator would, for tests/integration/test_status_html.py.
//
//   node status_page.js SPEC.json
//
// SPEC.json: {"chromium": "/usr/bin/chromium", "userDataDir": "/tmp/...",
//             "url": "http://127.0.0.1:PORT/conduktor-auth-status",
//             "screenshot": "/tmp/.../status.png", "timeoutMs": 60000}
//
// Chromium is started with a fresh profile and a DevTools port;
// playwright-core only attaches to it (no browser is downloaded). The page
// is loaded with the browser's own Accept header (no ?format=), a
// full-page screenshot is written, and what a person sees is read back.
// Prints one JSON object on stdout: {chromium, status, contentType,
// requests (every URL the page loaded), console (messages), pageErrors
// (uncaught script errors), values ({data-json: text}), issuers ([{class,
// cells, visible}]), hitRatio, title}. Exit status 0 when it ran, 2 on a
// setup failure, 3 on the overall time limit.
"use strict";

const { run } = require("./chromium");

run("status_page", { flags: ["--hide-scrollbars"] }, async (browser, cfg) => {
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  const page = await context.newPage();
  page.setDefaultTimeout(15000);
  const consoleLines = [], pageErrors = [], requests = [];
  page.on("console", (m) => consoleLines.push(m.type() + ": " + m.text() +
                                              " (" + (m.location().url || "") + ")"));
  page.on("pageerror", (e) => pageErrors.push(String(e.message || e)));
  page.on("request", (req) => requests.push(req.url()));
  const resp = await page.goto(cfg.url, { waitUntil: "load" });
  await page.screenshot({ path: cfg.screenshot, fullPage: true });
  const seen = await page.evaluate(() => {
    const values = {};
    for (const el of document.querySelectorAll("[data-json]"))
      values[el.getAttribute("data-json")] = el.textContent;
    const issuers = [];
    for (const tr of document.querySelectorAll("#issuers tr.issuer")) {
      const box = tr.getBoundingClientRect();
      issuers.push({
        class: tr.className,
        cells: Array.from(tr.cells).map((td) => td.innerText),
        visible: box.width > 0 && box.height > 0,
        stateColor: getComputedStyle(tr.querySelector("td.state")).backgroundColor,
      });
    }
    const ratio = document.getElementById("hit-ratio");
    return { values, issuers, hitRatio: ratio ? ratio.textContent : null,
             title: document.title, scripts: document.scripts.length };
  });
  return Object.assign({
    chromium: browser.version(), status: resp.status(),
    contentType: resp.headers()["content-type"], requests, console: consoleLines,
    pageErrors,
  }, seen);
});
