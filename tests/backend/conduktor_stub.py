#!/usr/bin/python3
"""A stand-in for Conduktor Console's REST API, for tests and the demo.

Like Conduktor, it re-validates the bearer credential it is sent and
answers 401 JSON when it is not valid. Conduktor accepts three kinds on
the same header, and so does the stand-in: a JWT of a trusted IdP
(signature against a JWKS file, iss, aud, exp), one of its own API keys
(--api-keys: a JSON object of key -> {"name", "type"}, read on every
request, compared exactly), and a token Console issued itself at login
(--console-jwks / --console-issuer: signature, iss, exp). Paths:

  /api/public/console/v2/kafka-cluster   the cluster list (token required)
  /api/...                               echo (token required)
  anything else                          echo (no token required)

Every answer carries an "echo" object: method, path, query, the request
headers exactly as received, the token status and the identity seen in the
token (email, groups, sub, iss). Each request is appended as "METHOD PATH"
to --access-log so tests can check what reached the backend.

    conduktor_stub.py --jwks keys/jwks.json --issuer ISS [--audience AUD] \\
                      [--port 0] [--access-log FILE] [--port-file FILE]

With --port 0 a free port is chosen; "listening on 127.0.0.1:PORT" is
printed on stdout either way.
"""
import argparse
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

from jwcrypto import jwk, jwt

ALGS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512",
        "ES256", "ES384", "ES512", "EdDSA", "HS256", "HS384", "HS512"]
CLUSTERS_PATH = "/api/public/console/v2/kafka-cluster"
CLUSTERS = [
    {"apiVersion": "v2", "kind": "KafkaCluster",
     "metadata": {"name": "local-kafka"},
     "spec": {"displayName": "Local Kafka",
              "bootstrapServers": "kafka.internal:9092"}},
    {"apiVersion": "v2", "kind": "KafkaCluster",
     "metadata": {"name": "staging-kafka"},
     "spec": {"displayName": "Staging Kafka",
              "bootstrapServers": "kafka.staging.internal:9092"}},
]


class TokenChecker:
    """Validates a bearer token the way Conduktor would."""

    def __init__(self, jwks_files, issuers, audiences, leeway=60,
                 api_keys_file=None, console_jwks=None, console_issuer=None):
        self.api_keys_file = api_keys_file
        self.console_jwks = console_jwks
        self.console_issuer = console_issuer
        self.jwks_files = jwks_files
        self.issuers = set(issuers)
        self.audiences = set(audiences)
        self.leeway = leeway

    def _keyset(self):
        # Re-read on every call: tests may rotate keys while we run.
        keys = jwk.JWKSet()
        for path in self.jwks_files:
            with open(path) as f:
                for k in json.load(f)["keys"]:
                    keys.add(jwk.JWK(**k))
        return keys

    def check(self, token):
        """Return (claims, None) when valid, else (None, reason)."""
        if "." not in token or token.count(".") != 2 or "=" in token:
            return self._check_api_key(token)
        claims, why = self._check_jwt(token)
        if claims is None and self.console_jwks:
            console, cwhy = self._check_console(token)
            if console is not None:
                return console, None
        return claims, why

    def _check_api_key(self, token):
        try:
            with open(self.api_keys_file) as f:
                known = json.load(f)
        except (OSError, TypeError, ValueError):
            known = {}
        entry = known.get(token)
        if not isinstance(entry, dict):
            return None, "unknown API key"
        return {"api_key": entry.get("name"), "api_key_type": entry.get("type")}, None

    def _check_console(self, token):
        keys = jwk.JWKSet()
        try:
            with open(self.console_jwks) as f:
                for k in json.load(f)["keys"]:
                    keys.add(jwk.JWK(**k))
            claims = json.loads(jwt.JWT(jwt=token, key=keys, algs=ALGS,
                                        check_claims={}).claims)
        except Exception as e:
            return None, "bad Console token: %s" % type(e).__name__
        if not isinstance(claims, dict) or claims.get("iss") != self.console_issuer:
            return None, "wrong issuer"
        exp = claims.get("exp")
        if not isinstance(exp, (int, float)) or exp + self.leeway < time.time():
            return None, "expired"
        return dict(claims, console=True), None

    def _check_jwt(self, token):
        try:
            parsed = jwt.JWT(jwt=token, key=self._keyset(), algs=ALGS,
                             check_claims={})
            claims = json.loads(parsed.claims)
        except Exception as e:  # jwcrypto raises many kinds
            return None, "bad token: %s" % type(e).__name__
        if not isinstance(claims, dict):
            return None, "claims not an object"
        iss = claims.get("iss")
        if not isinstance(iss, str) or iss not in self.issuers:
            return None, "wrong issuer"
        aud = claims.get("aud")
        auds = aud if isinstance(aud, list) else [aud]
        if not any(isinstance(a, str) and a in self.audiences for a in auds):
            return None, "wrong audience"
        exp = claims.get("exp")
        if not isinstance(exp, (int, float)) or exp + self.leeway < time.time():
            return None, "expired"
        return claims, None


class Handler(BaseHTTPRequestHandler):
    server_version = "conduktor-stub/1"
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # quiet; we keep our own log
        pass

    def _record(self):
        log = self.server.access_log
        if log:
            with self.server.log_lock, open(log, "a") as f:
                f.write("%s %s\n" % (self.command, self.path))

    def _token(self):
        auth = self.headers.get("Authorization")
        if not auth:
            return None
        scheme, _, rest = auth.partition(" ")
        return rest.strip() if scheme.lower() == "bearer" else None

    def _answer(self, status, body):
        data = json.dumps(body, indent=1).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def _handle(self):
        self._record()
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode("utf-8", "replace") if length else ""
        url = urlsplit(self.path)
        token = self._token()
        claims, why = (None, "absent") if token is None \
            else self.server.checker.check(token)
        echo = {
            "method": self.command,
            "path": url.path,
            "query": url.query,
            "headers": {k.lower(): v for k, v in self.headers.items()},
            "header_list": [[k, v] for k, v in self.headers.items()],
            "token": "valid" if claims else why,
            "identity": None if not claims else {
                "email": claims.get("email"),
                "groups": claims.get("groups"),
                "sub": claims.get("sub"),
                "iss": claims.get("iss"),
                "api_key": claims.get("api_key"),
                "api_key_type": claims.get("api_key_type"),
                "console": claims.get("console", False),
            },
            "body": body,
        }
        if url.path.startswith("/api/") and not claims:
            self._answer(401, {"title": "Unauthorized",
                               "msg": "invalid or missing token (%s)" % why,
                               "echo": echo})
        elif url.path == CLUSTERS_PATH:
            self._answer(200, {"clusters": CLUSTERS, "echo": echo})
        else:
            self._answer(200, {"echo": echo})

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = \
        do_OPTIONS = _handle


def make_server(port, jwks_files, issuers, audiences, access_log=None,
                api_keys=None, console_jwks=None, console_issuer=None):
    srv = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    srv.daemon_threads = True
    srv.checker = TokenChecker(jwks_files, issuers, audiences,
                               api_keys_file=api_keys, console_jwks=console_jwks,
                               console_issuer=console_issuer)
    srv.access_log = access_log
    srv.log_lock = threading.Lock()
    return srv


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--jwks", action="append", required=True,
                    help="JWKS file (repeatable)")
    ap.add_argument("--issuer", action="append", required=True,
                    help="trusted iss (repeatable)")
    ap.add_argument("--audience", action="append",
                    help="accepted aud (repeatable; default conduktor)")
    ap.add_argument("--api-keys", help="JSON object: API key -> {name, type}")
    ap.add_argument("--console-jwks", help="JWKS of Console's own tokens")
    ap.add_argument("--console-issuer", help="iss of Console's own tokens")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--access-log")
    ap.add_argument("--port-file")
    args = ap.parse_args(argv)
    srv = make_server(args.port, args.jwks, args.issuer,
                      args.audience or ["conduktor"],
                      args.access_log, api_keys=args.api_keys,
                      console_jwks=args.console_jwks,
                      console_issuer=args.console_issuer)
    port = srv.server_address[1]
    if args.port_file:
        with open(args.port_file, "w") as f:
            f.write("%d\n" % port)
    print("listening on 127.0.0.1:%d" % port, flush=True)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
