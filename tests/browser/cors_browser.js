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
// Chromium is started here with the flags a closed network needs, a fresh
// profile and a DevTools port; playwright-core only attaches to it over the
// DevTools protocol (no browser of its own is downloaded or launched). Each
// case gets a fresh browser context (no preflight or HTTP cache carried
// over), loads its page (the Backstage stand-in, on the origin under test)
// and calls window.runCase() in it: the fetch() and the checks happen in the
// page. Prints one JSON object on stdout: {"chromium": version, "results":
// [{name, origin, got, failures}]}. Exit status 0 when it ran (whatever the
// verdicts), 2 on a setup failure, 3 on the overall time limit.
"use strict";

const fs = require("fs");
const { spawn } = require("child_process");
const { chromium } = require("playwright-core");

const FLAGS = [
  "--no-sandbox", "--headless", "--disable-gpu", "--no-first-run",
  "--disable-background-networking", "--disable-component-update",
  "--disable-sync", "--disable-quic",
];

const cfg = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
let proc = null;

function log(msg) {
  process.stderr.write("[cors_browser] " + msg + "\n");
}

// Stop Chromium (SIGTERM, then SIGKILL after 3 s) and exit.
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
    log("starting " + cfg.chromium + " " + args.join(" "));
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
  const version = browser.version();
  log("attached to Chromium " + version);
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
  await browser.close().catch(() => {});
  finish(0, { chromium: version, results: results });
}

main().catch((e) => { log(String(e.stack || e)); finish(2); });
