// chromium.js - what every browser driver here shares: Debian's headless
// Chromium started with a fresh profile and a DevTools port on loopback,
// playwright-core attached to it over CDP (no browser is downloaded), an
// overall time limit, and a clean stop.
//
//   const { run } = require("./chromium");
//   run("name", { flags: [...] }, async (browser, cfg, log) => result);
//
// The driver's argument is a JSON file with at least {"chromium": path,
// "userDataDir": dir, "timeoutMs": n}; body's result is printed as one JSON
// object on stdout. Exit status 0 when it ran, 2 on a setup or driver
// failure, 3 on the overall time limit.
"use strict";

const fs = require("fs");
const { spawn } = require("child_process");
const { chromium } = require("playwright-core");

const FLAGS = [
  "--no-sandbox", "--headless", "--disable-gpu", "--no-first-run",
  "--disable-background-networking", "--disable-component-update",
  "--disable-sync", "--disable-quic",
];

function run(name, opts, body) {
  const cfg = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
  let proc = null;

  function log(msg) {
    process.stderr.write("[" + name + "] " + msg + "\n");
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
      const args = FLAGS.concat(opts.flags || [], [
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
    log("attached to Chromium " + browser.version());
    const out = await body(browser, cfg, log);
    await browser.close().catch(() => {});
    finish(0, out);
  }

  main().catch((e) => { log(String(e.stack || e)); finish(2); });
}

module.exports = { run };
