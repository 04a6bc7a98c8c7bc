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

const fs = require("fs");
const { spawn } = require("child_process");
const { chromium } = require("playwright-core");

const FLAGS = [
  "--no-sandbox", "--headless", "--disable-gpu", "--no-first-run",
  "--disable-background-networking", "--disable-component-update",
  "--disable-sync", "--disable-quic", "--hide-scrollbars",
];

const cfg = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
let proc = null;

function log(msg) {
  process.stderr.write("[status_page] " + msg + "\n");
}

function finish(code, out) {
  if (out) process.stdout.write(JSON.stringify(out) + "\n");
  if (!proc || proc.exitCode !== null || proc.signalCode !== null) process.exit(code);
  proc.removeAllListeners("exit");
  proc.on("exit", () => process.exit(code));
  try { proc.kill("SIGTERM"); } catch (e) { process.exit(code); }
  setTimeout(() => {
    try { proc.kill("SIGKILL"); } catch (e) { /* gone */ }
    process.exit(code);
  }, 3000);
}

setTimeout(() => { log("overall time limit reached"); finish(3); },
           cfg.timeoutMs || 60000).unref();

function startChromium() {
  return new Promise((resolve, reject) => {
    const args = FLAGS.concat([
      "--user-data-dir=" + cfg.userDataDir,
      "--remote-debugging-address=127.0.0.1",
      "--remote-debugging-port=0",
      "about:blank",
    ]);
    proc = spawn(cfg.chromium, args, { stdio: ["ignore", "ignore", "pipe"] });
    let err = "";
    const timer = setTimeout(() => reject(new Error("no DevTools endpoint after 30 s:\n" + err)), 30000);
    proc.stderr.on("data", (chunk) => {
      err += chunk.toString();
      const m = err.match(/DevTools listening on (ws:\/\/\S+)/);
      if (m) { clearTimeout(timer); resolve(m[1]); }
    });
    proc.on("exit", (code, sig) => {
      clearTimeout(timer);
      reject(new Error("chromium exited (" + (code === null ? sig : code) + "):\n" + err));
    });
    proc.on("error", (e) => { clearTimeout(timer); reject(e); });
  });
}

async function main() {
  let ws;
  try {
    ws = await startChromium();
  } catch (e) {
    log(String(e.stack || e));
    finish(2);
    return;
  }
  const browser = await chromium.connectOverCDP(ws, { timeout: 15000 });
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
  await browser.close().catch(() => {});
  finish(0, Object.assign({
    chromium: browser.version(), status: resp.status(),
    contentType: resp.headers()["content-type"], requests, console: consoleLines,
    pageErrors,
  }, seen));
}

main().catch((e) => { log(String(e.stack || e)); finish(2); });
