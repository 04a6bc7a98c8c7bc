#!/usr/bin/python3
"""DPoP proof-replay bursts under load (issue 23): nothing accepted twice.

On 127.0.0.1 only, bounded in time (--duration, default 30 s, plus about
15 s of set-up and checks; an alarm stops everything after 5 minutes):

  front    httpd (event MPM) with the freshly built module protecting a
           proxied /api/ (the same configuration as run_load.py) and the
           DPoP replay store given by --store: shmcb (the default, this
           host's shared-memory table), redis or memcache (a redis-server
           or memcached of its own on a free loopback port);
  backend  a second httpd answering 200;
  load     wrk (--connections, Connection: close) rotating through
           run_load.py's phase-1 mix of valid, expired, forged and
           malformed bearer tokens for the whole run;
  bursts   meanwhile, every --every seconds a fresh DPoP proof for a token
           bound to the proof key (cnf.jkt) is sent --copies times at once
           (one thread per copy, a barrier before sending);
  restart  `apache2 -k graceful` at the middle of the run;
  replay   at the end, every proof used is sent once more.

Violations (exit status 1): a proof answered 200 more than once, or never;
a copy answered anything but 200 or 401 dpop_replay (a 503 means the
store failed); a replayed proof accepted after the run or after the
graceful restart; a wrk socket error, a 5xx, or a bearer answer wrong for
its token kind; a graceful restart that did not happen.
"""
import argparse
import datetime
import hashlib
import http.client
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import run_load as rl  # noqa: E402
from run_load import mint, jwk  # noqa: E402

OUT = []


def say(text=""):
    print(text, flush=True)
    OUT.append(text)


def ath(token):
    return mint.b64url(hashlib.sha256(token.encode()).digest())


def proof(key, token, url):
    hdr = {"typ": "dpop+jwt", "alg": "ES256", "jwk": key.export_public(as_dict=True)}
    body = {"htm": "GET", "htu": url, "iat": int(time.time()), "jti": uuid.uuid4().hex,
            "ath": ath(token)}
    return mint.sign(key, "ES256", hdr, body)


def send(port, path, token, prf, timeout=30):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        c.request("GET", path, headers={"Authorization": "DPoP " + token, "DPoP": prf,
                                        "X-Load-Kind": "dpop", "Connection": "close"})
        r = c.getresponse()
        r.read()
        return r.status
    except OSError as e:
        return "error: %s" % e
    finally:
        c.close()


def burst(port, path, token, prf, copies):
    go = threading.Barrier(copies)
    out = [None] * copies

    def one(i):
        try:
            go.wait(10)
        except threading.BrokenBarrierError:
            pass
        out[i] = send(port, path, token, prf)
    ts = [threading.Thread(target=one, args=(i,)) for i in range(copies)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(60)
    return out


class Store:
    """redis-server or memcached of our own, no persistence."""

    def __init__(self, kind, tmp):
        self.kind, self.port, self.proc = kind, rl.free_port(), None
        d = tempfile.mkdtemp(prefix=kind + "-", dir=tmp)
        if kind == "redis":
            self.cmd = ["redis-server", "--bind", "127.0.0.1", "--port", str(self.port),
                        "--save", "", "--appendonly", "no", "--dir", d]
        else:
            self.cmd = ["memcached", "-l", "127.0.0.1", "-p", str(self.port), "-U", "0",
                        "-m", "64", "-u", "nobody"]

    def start(self):
        self.proc = subprocess.Popen(self.cmd, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        deadline = time.time() + 10
        while time.time() < deadline and not rl.port_open(self.port):
            time.sleep(0.05)
        return self

    def stop(self):
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(10)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--duration", type=int, default=30, help="seconds of load (30)")
    ap.add_argument("--store", choices=["shmcb", "redis", "memcache"], default="shmcb")
    ap.add_argument("--copies", type=int, default=16, help="copies of each proof (16)")
    ap.add_argument("--every", type=float, default=0.25, help="seconds between bursts")
    ap.add_argument("--connections", type=int, default=32)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--wrk-timeout", type=int, default=10)
    ap.add_argument("--tokens", type=int, default=200)
    ap.add_argument("--out", help="also write the report to this file")
    args = ap.parse_args(argv)
    args.wrk = shutil.which("wrk") or "/usr/bin/wrk"
    started = time.time()

    def give_up(signum, frame):
        raise SystemExit("replay_load.py: stopped after %d s" % (time.time() - started))
    signal.signal(signal.SIGALRM, give_up)
    signal.alarm(args.duration + 300)

    say("== DPoP proof-replay bursts under load (tests/load/replay_load.py)")
    say("date     %s" % datetime.datetime.now(datetime.timezone.utc).strftime(
        "%Y-%m-%d %H:%M:%S UTC"))
    say("machine  %s" % rl.machine())
    say("settings store %s; wrk -t%d -c%d %d s (Connection: close); a burst of %d copies of "
        "one proof every %.2f s; apache2 -k graceful at %d s" % (
            args.store, args.threads, args.connections, args.duration, args.copies,
            args.every, args.duration // 2))
    tmp = tempfile.mkdtemp(prefix="cka-replay-load-", dir="/tmp")
    os.chmod(tmp, 0o755)
    servers, store, wrk = [], None, None
    violations = []
    try:
        keys = mint.make_keys(os.path.join(tmp, "keys"))
        glob = ""
        if args.store != "shmcb":
            store = Store(args.store, tmp).start()
            secret = os.path.join(tmp, "cache.key")
            with open(secret, "wb") as f:
                f.write(os.urandom(32))
            os.chmod(secret, 0o600)
            glob = ("ConduktorAuthReplayCache %s:127.0.0.1:%d\nConduktorAuthCacheSecret "
                    "file:%s\n" % (args.store, store.port, secret))
        broot, bport = os.path.join(tmp, "backend"), rl.free_port()
        backend = rl.Httpd(broot, bport, rl.BACKEND_CONF.format(root=broot),
                           ["mpm_event", "unixd", "authz_core", "alias", "mime"])
        with open(os.path.join(broot, "htdocs", "ok.json"), "w") as f:
            f.write('{"ok": true}\n')
        froot, fport = os.path.join(tmp, "front"), rl.free_port()
        conf = rl.FRONT_CONF.format(
            root=froot, issuer=rl.ISSUER, keys=keys.dir, idp_issuer="https://unused.test",
            idp_jwks="https://127.0.0.1:9/jwks", ca="/etc/ssl/certs/ca-certificates.crt",
            backend=bport, audience=rl.AUDIENCE, threads=max(64, args.connections),
            max_workers=8 * max(64, args.connections))
        front = rl.Httpd(froot, fport, glob + conf, rl.MODULES,
                         [("conduktor_auth_module", rl.MODULE)])
        os.makedirs(os.path.join(froot, "htdocs", "static"), mode=0o755)
        with open(os.path.join(froot, "htdocs", "static", "hello.txt"), "w") as f:
            f.write("hello\n")
        servers.append(backend.start())
        servers.append(front.start())
        url = "http://127.0.0.1:%d" % fport

        reqs, _ = rl.phase1_requests(keys, args.tokens)
        kinds = sorted({k for k, _, _ in reqs})
        reqfile = os.path.join(tmp, "load.tsv")
        rl.write_requests(reqfile, reqs)
        key = jwk.JWK.generate(kty="EC", crv="P-256")
        tok = keys.token(cnf={"jkt": key.thumbprint()})
        path = "/api/replay"
        htu = url + path
        # warm-up: the front answers a DPoP request before the load
        if send(fport, path, tok, proof(key, tok, htu)) != 200:
            violations.append("warm-up DPoP request not answered 200")

        wrk = rl.WrkRun(args, url, reqfile, args.duration, close=True).start()
        results = []              # (time, proof, [statuses])
        graceful = {}

        def restart():
            time.sleep(max(0.0, wrk.t0 + args.duration / 2 - time.time()))
            graceful["t"] = time.time()
            graceful["rc"] = front.ctl("-k", "graceful").returncode
        gt = threading.Thread(target=restart, daemon=True)
        gt.start()
        while time.time() < wrk.t0 + args.duration - 1:
            prf = proof(key, tok, htu)
            results.append((time.time(), prf, burst(fport, path, tok, prf, args.copies)))
            time.sleep(args.every)
        gt.join(30)
        wrk.wait()
        time.sleep(1)
        replays = [(prf, send(fport, path, tok, prf)) for _, prf, _ in results]

        accepted = [s.count(200) for _, _, s in results]
        other = [x for _, _, s in results for x in s if x not in (200, 401)]
        twice = sum(1 for n in accepted if n > 1)
        never = sum(1 for n in accepted if n == 0)
        replay_ok = sum(1 for _, s in replays if s == 200)
        if twice:
            violations.append("%d proof(s) accepted more than once" % twice)
        if never:
            violations.append("%d proof(s) never accepted" % never)
        if other:
            violations.append("copies answered neither 200 nor 401: %s" % sorted(
                set(map(str, other))))
        if replay_ok:
            violations.append("%d used proof(s) accepted again when replayed" % replay_ok)
        if graceful.get("rc") != 0:
            violations.append("apache2 -k graceful failed or was not sent")
        restarts = front.read_error_log().count("AH00493: SIGUSR1 received")
        if restarts != 1:
            violations.append("graceful restarts logged: %d (want 1)" % restarts)
        before = [t for t, _, _ in results if t < graceful.get("t", 0)]
        after = [t for t, _, _ in results if t >= graceful.get("t", 0)]

        say("")
        say("wrk:\n" + "\n".join("  " + ln for ln in wrk.output.splitlines()
                                 if not ln.startswith("CKA-")))
        v = rl.Verdict()
        rl.check_wrk(v, "bearer load", wrk, kinds)
        violations += v.violations
        secs = wrk.summary.get("duration_us", 1) / 1e6
        say("")
        say("== summary")
        say("bearer load: %d requests in %.1f s = %.0f req/s; socket errors %s"
            % (wrk.summary.get("requests", 0), secs, wrk.summary.get("requests", 0) / secs,
               wrk.errors))
        say("proofs: %d bursts of %d copies (%d before the graceful restart, %d after): "
            "accepted once %d, more than once %d, never %d; copies refused as replays %d"
            % (len(results), args.copies, len(before), len(after),
               sum(1 for n in accepted if n == 1), twice, never,
               sum(s.count(401) for _, _, s in results)))
        say("replayed after the run (across the graceful restart for the first %d): %d sent, "
            "%d accepted" % (len(before), len(replays), replay_ok))
        say("run took %.0f s; load average %.2f %.2f %.2f" % ((time.time() - started,)
                                                             + os.getloadavg()))
        if violations:
            say("RESULT: FAIL, %d violation(s):" % len(violations))
            for x in violations:
                say("  - " + x)
        else:
            say("RESULT: PASS (every proof accepted exactly once, every replay refused, "
                "under load and across a graceful restart)")
        return 1 if violations else 0
    finally:
        signal.alarm(0)
        if wrk is not None and wrk.proc is not None and wrk.proc.poll() is None:
            wrk.proc.kill()
            wrk.proc.wait()
        for s in reversed(servers):
            s.stop()
        if store is not None:
            store.stop()
        if args.out:
            with open(args.out, "w") as f:
                f.write("\n".join(OUT) + "\n")
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
