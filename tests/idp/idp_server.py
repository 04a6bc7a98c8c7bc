#!/usr/bin/python3
"""A local identity provider for the tests: OIDC discovery and JWKS over
HTTPS, with a test PKI made at test time.

Only the Python standard library, `cryptography` (python3-cryptography) for
the certificates and nothing else. Loopback only.

Library use (what tests/integration/idp_fixtures.py does):

    pki = Pki("/tmp/x/pki")                  # test CA + a server certificate
    idp = IdP(pki).start()                   # https://127.0.0.1:<port>
    iss = idp.url + "/realms/a"
    idp.publish_discovery(iss)               # <iss>/.well-known/openid-configuration
    idp.publish_jwks("/realms/a/jwks", {"keys": [...]}, max_age=300)
    idp.route("/realms/a/jwks").status = 500          # change it at runtime
    idp.route("/realms/a/jwks").delay = 4.0           # answer late
    idp.stop(); idp.start()                  # down, and up again on the same port
    idp.count("/realms/a/jwks")              # requests seen (the access log)

A token endpoint (OAuth 2.0 client credentials, client_secret_basic):

    ep = idp.token_endpoint("/realms/a/token", mint=lambda claims: "<jwt>",
                            clients={"ci": "secret"}, lifetime=300)
    ep.set(delay=4.0)        # or status=500, close=True, body=..., answer=...
    ep.issued                # access tokens handed out, in order
    ep.seen                  # what each request carried (form, client)

A DPoP token endpoint (RFC 9449) for a page in a browser (CORS):

    ep = idp.dpop_token_endpoint("/realms/a/dpop-token", mint=..., clients=["app"],
                                 origins=["http://127.0.0.1:8000"])

Every request is recorded in `idp.log` (Entry: time, method, path, status,
event "request") when it arrives; a TLS handshake that fails is recorded as
event "tls-error: <why>", a connection that set up TLS and then sent no
request as "no-request". So a test can count fetches and tell a refused
certificate from a request that never came.

Each route answers with what its attributes say at the moment the request
arrives (see Route): status, body, content type, Cache-Control, extra
headers, a delay before answering, a slow trickle of the body, chunked
transfer, or closing the connection without an answer.

Command line (to look at it by hand, and for build/demo.sh):

    idp_server.py --dir DIR [--port 0] [--jwks FILE]
                  [--client ID:SECRET ...] [--audience AUD]

makes DIR/ca.pem, serves discovery for https://127.0.0.1:PORT/realms/test
and FILE (default: an empty key set) as its JWKS, and prints
"listening on https://127.0.0.1:PORT (issuer ..., CA ...)". With --client
it also serves the token endpoint of discovery for those clients: it
makes its own signing key (EC P-256, kid "demo-idp-1"), publishes it in
the JWKS (written to DIR/jwks.json too, for a backend that checks tokens)
and mints access tokens for the audience AUD (python3-jwcrypto).
"""
import argparse
import datetime
import ipaddress
import json
import os
import socket
import ssl
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

LOOPBACK = "127.0.0.1"


# -- test PKI ------------------------------------------------------------------
def _write(path, data, mode):
    with open(path, "wb") as f:
        f.write(data)
    os.chmod(path, mode)


def _name(cn):
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "cka tests"),
                      x509.NameAttribute(NameOID.COMMON_NAME, cn)])


class Ca:
    """A certificate authority: key and self-signed certificate.
    `path` is the PEM certificate (world-readable: httpd children run as
    nobody and read it through ConduktorAuthCAFile)."""

    def __init__(self, directory, cn):
        os.makedirs(directory, exist_ok=True)
        os.chmod(directory, 0o755)
        self.dir = directory
        self.key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.datetime.now(datetime.timezone.utc)
        ski = x509.SubjectKeyIdentifier.from_public_key(self.key.public_key())
        self.cert = (
            x509.CertificateBuilder()
            .subject_name(_name(cn)).issuer_name(_name(cn))
            .public_key(self.key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1))
            .not_valid_after(now + datetime.timedelta(days=2))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(
                digital_signature=True, key_cert_sign=True, crl_sign=True,
                content_commitment=False, key_encipherment=False,
                data_encipherment=False, key_agreement=False,
                encipher_only=False, decipher_only=False), critical=True)
            .add_extension(ski, critical=False)
            .sign(self.key, hashes.SHA256()))
        self.path = os.path.join(directory, "ca.pem")
        _write(self.path, self.cert.public_bytes(serialization.Encoding.PEM), 0o644)

    def issue(self, name, hosts=(LOOPBACK, "localhost"), days=2, client=False):
        """A server certificate for hosts (IP addresses or DNS names), or
        with client=True a TLS client certificate (clientAuth);
        returns (cert_path, key_path)."""
        key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.datetime.now(datetime.timezone.utc)
        sans = []
        for h in hosts:
            try:
                sans.append(x509.IPAddress(ipaddress.ip_address(h)))
            except ValueError:
                sans.append(x509.DNSName(h))
        cert = (
            x509.CertificateBuilder()
            .subject_name(_name(name)).issuer_name(self.cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1))
            .not_valid_after(now + datetime.timedelta(days=days))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.SubjectAlternativeName(sans), critical=False)
            .add_extension(x509.ExtendedKeyUsage(
                [ExtendedKeyUsageOID.CLIENT_AUTH if client else ExtendedKeyUsageOID.SERVER_AUTH]),
                critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                           critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                self.key.public_key()), critical=False)
            .sign(self.key, hashes.SHA256()))
        cert_path = os.path.join(self.dir, name + ".crt")
        key_path = os.path.join(self.dir, name + ".key")
        _write(cert_path, cert.public_bytes(serialization.Encoding.PEM), 0o644)
        _write(key_path, key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()), 0o600)
        return cert_path, key_path


class Pki:
    """What the tests need: the test CA (trusted by httpd through
    ConduktorAuthCAFile) with a certificate for 127.0.0.1, a certificate
    from that CA for another name only, and a second CA nobody trusts with a
    certificate for 127.0.0.1."""

    def __init__(self, directory):
        self.ca = Ca(os.path.join(directory, "ca"), "cka test CA")
        self.ca_file = self.ca.path
        self.server = self.ca.issue("idp")
        self.wrong_host = self.ca.issue("wrong-host", hosts=("idp.elsewhere.test",))
        self.rogue_ca = Ca(os.path.join(directory, "rogue-ca"), "untrusted CA")
        self.untrusted = self.rogue_ca.issue("idp")


# -- what the IdP answers ---------------------------------------------------------
class Route:
    """The answer for one path; attributes may be changed at any time.

    status, body (bytes, str, or anything JSON-serialisable), content_type,
    cache_control (None: no Cache-Control header), cache_control_last (send
    it as the last header line, after Connection), headers (extra, dict),
    delay (seconds before anything is sent), drip (seconds between body
    chunks of drip_size bytes: a slow trickle), chunked (no Content-Length),
    close (drop the connection after reading the request, no answer).
    """

    def __init__(self, body=b"", status=200, content_type="application/json",
                 cache_control=None, headers=None, delay=0.0, drip=0.0,
                 drip_size=64, chunked=False, close=False, cache_control_last=False):
        self.body = body
        self.status = status
        self.content_type = content_type
        self.cache_control = cache_control
        self.cache_control_last = cache_control_last
        self.headers = dict(headers or {})
        self.delay = delay
        self.drip = drip
        self.drip_size = drip_size
        self.chunked = chunked
        self.close = close

    def set(self, **kw):
        for name, value in kw.items():
            if not hasattr(self, name):
                raise AttributeError(name)
            setattr(self, name, value)
        return self

    def payload(self):
        b = self.body
        if isinstance(b, bytes):
            return b
        if isinstance(b, str):
            return b.encode()
        return json.dumps(b).encode()


class TokenEndpoint(Route):
    """A token endpoint: the client credentials grant with
    client_secret_basic (RFC 6749 §4.4, §2.3.1), for a few known clients.

    mint(claims) -> str signs an access token; the endpoint passes it iss
    is the caller's business (mint's), and the claims sub and client_id
    (the client), azp, aud (the requested audience, else `audience`),
    scope (when asked), iat, exp (now + lifetime) and jti.

    Failure modes, as for Route: status (not None: answer that status
    with `body` instead of a token), delay, close, drip. `answer` (a
    dict) replaces the successful JSON answer (e.g. token_type DPoP).
    `issued` lists the tokens handed out; `seen` one dict per request:
    client, secret_ok, form (dict), authorization scheme.
    """

    def __init__(self, mint, clients, lifetime=300, audience=None):
        super().__init__(body=b"", status=None)
        self.mint = mint
        self.clients = dict(clients)
        self.lifetime = lifetime
        self.audience = audience
        self.answer = None
        self.issued = []
        self.seen = []
        self.lock = threading.Lock()

    def handle(self, authorization, form):
        """(status, JSON-able body) for one request."""
        import base64
        import urllib.parse
        client, secret = None, None
        scheme, _, value = (authorization or "").partition(" ")
        if scheme.lower() == "basic":
            try:
                raw = base64.b64decode(value.strip(), validate=True).decode()
                cid, _, sec = raw.partition(":")
                client = urllib.parse.unquote_plus(cid)
                secret = urllib.parse.unquote_plus(sec)
            except (ValueError, UnicodeDecodeError):
                pass
        ok = client in self.clients and self.clients[client] == secret
        with self.lock:
            self.seen.append({"client": client, "secret_ok": ok, "form": form,
                              "scheme": scheme})
        if form.get("grant_type") != "client_credentials":
            return 400, {"error": "unsupported_grant_type"}
        if not ok:
            return 401, {"error": "invalid_client",
                         "error_description": "Invalid client or Invalid client credentials"}
        now = int(time.time())
        claims = {"sub": client, "client_id": client, "azp": client,
                  "iat": now, "exp": now + self.lifetime,
                  "jti": "%s-%d-%d" % (client, now, len(self.issued))}
        aud = form.get("audience") or self.audience
        if aud:
            claims["aud"] = aud
        if form.get("scope"):
            claims["scope"] = form["scope"]
        tok = self.mint(claims)
        with self.lock:
            self.issued.append(tok)
        if self.answer is not None:
            return 200, dict(self.answer, access_token=tok)
        return 200, {"access_token": tok, "token_type": "Bearer",
                     "expires_in": self.lifetime, "scope": form.get("scope", "")}


class IntrospectionEndpoint(Route):
    """An RFC 7662 introspection endpoint for a few known clients, each with
    one client authentication (the others are refused with 401
    invalid_client, RFC 6749 §5.2):

        clients = {"rs-basic": {"auth": "basic", "secret": "..."},
                   "rs-post":  {"auth": "post", "secret": "..."},
                   "rs-jwt":   {"auth": "jwt", "jwk": <jwcrypto public JWK>},
                   "rs-tls":   {"auth": "tls", "cn": "<certificate CN>"}}

    private_key_jwt (RFC 7523): the assertion's signature, iss = sub =
    client_id, aud = this endpoint's URL (or `issuer`), exp in the future
    and at most 300 s after iat, a jti never seen before. tls_client_auth
    (RFC 8705 §2): a client certificate from the test CA (IdP.accept_client_certs)
    whose CN is the registered one, and client_id in the form.

    Answers are steered per token: `answers[token]` is the JSON answer (a
    dict: {"active": True, ...}), or has the special members "_status"
    (answer that status), "_delay" (seconds before answering), "_raw"
    (bytes/str sent as the body as they are); an unknown token is
    {"active": false}. `calls[token]` counts the calls per token; `seen`
    lists what each call carried (client, auth, ok, form, reason)."""

    def __init__(self, clients, url, issuer=None):
        super().__init__(body=b"", status=None)
        self.clients = dict(clients)
        self.url = url
        self.issuer = issuer
        self.answers = {}
        self.calls = {}
        self.seen = []
        self.jtis = set()
        self.lock = threading.Lock()

    def _client(self, authorization, form, peercert):
        """(client_id, method) authenticated, or (client_id or None, None, why)."""
        import base64
        import urllib.parse
        scheme, _, value = (authorization or "").partition(" ")
        if scheme.lower() == "basic":
            try:
                raw = base64.b64decode(value.strip(), validate=True).decode()
            except (ValueError, UnicodeDecodeError):
                return None, None, "bad basic"
            cid, _, sec = raw.partition(":")
            cid, sec = urllib.parse.unquote_plus(cid), urllib.parse.unquote_plus(sec)
            spec = self.clients.get(cid)
            if spec and spec["auth"] == "basic" and spec["secret"] == sec:
                return cid, "basic", None
            return cid, None, "basic refused"
        cid = form.get("client_id")
        spec = self.clients.get(cid)
        if spec is None:
            return cid, None, "unknown client"
        if "client_secret" in form:
            if spec["auth"] == "post" and spec["secret"] == form["client_secret"]:
                return cid, "post", None
            return cid, None, "post refused"
        if "client_assertion" in form:
            if spec["auth"] != "jwt" or form.get("client_assertion_type") != \
                    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer":
                return cid, None, "assertion not expected"
            from jwcrypto import jwt as jjwt
            try:
                t = jjwt.JWT(jwt=form["client_assertion"], key=spec["jwk"],
                             check_claims={"exp": None})
                c = json.loads(t.claims)
            except Exception as e:  # noqa: BLE001 - any failure is a refusal
                return cid, None, "assertion: %s" % e
            now = time.time()
            aud = c.get("aud")
            if c.get("iss") != cid or c.get("sub") != cid:
                return cid, None, "assertion iss/sub"
            if aud not in (self.url, self.issuer):
                return cid, None, "assertion aud %r" % aud
            if not (c.get("exp", 0) > now and c["exp"] - c.get("iat", 0) <= 300):
                return cid, None, "assertion exp"
            with self.lock:
                if c.get("jti") in self.jtis or not c.get("jti"):
                    return cid, None, "assertion jti replayed"
                self.jtis.add(c["jti"])
            return cid, "jwt", None
        if spec["auth"] == "tls":
            cn = None
            for rdn in (peercert or {}).get("subject", ()):
                for k, v in rdn:
                    if k == "commonName":
                        cn = v
            if cn is not None and cn == spec["cn"]:
                return cid, "tls", None
            return cid, None, "no or wrong client certificate (%s)" % cn
        return cid, None, "no client authentication"

    def handle(self, authorization, form, peercert):
        """(status, body bytes, delay) for one request."""
        cid, method, why = self._client(authorization, form, peercert)
        tok = form.get("token")
        with self.lock:
            self.seen.append({"client": cid, "auth": method, "ok": method is not None,
                              "form": form, "reason": why})
        if method is None:
            return 401, json.dumps({"error": "invalid_client"}).encode(), 0
        if not tok:
            return 400, json.dumps({"error": "invalid_request"}).encode(), 0
        with self.lock:
            self.calls[tok] = self.calls.get(tok, 0) + 1
            ans = self.answers.get(tok, {"active": False})
        ans = dict(ans)
        delay = ans.pop("_delay", 0)
        status = ans.pop("_status", 200)
        raw = ans.pop("_raw", None)
        if raw is not None:
            return status, raw.encode() if isinstance(raw, str) else raw, delay
        return status, json.dumps(ans).encode(), delay


class DPoPTokenEndpoint(Route):
    """An RFC 9449 token endpoint for public clients (a page in a browser):
    `grant_type=client_credentials&client_id=<a known client>` with a
    `DPoP` proof header, checked minimally - typ dpop+jwt, an asymmetric
    alg, a public-only jwk, the signature under it, htm POST, htu this
    endpoint's URL, iat within 60 s, a jti never seen before - and answered
    with an access token whose cnf.jkt is the RFC 7638 thumbprint of the
    proof's jwk, token_type DPoP. CORS for `origins` (preflight with the
    DPoP header; the answer readable). Not client credentials in the
    RFC 6749 sense (a public client has no secret): a test stand-in.

    mint(claims) -> str signs the token; it gets sub, client_id, iat, exp,
    jti, cnf and `claims` (extra ones, e.g. email). `issued` lists
    (token, jkt); `seen` one dict per request (client, ok, why)."""

    ALGS = {"ES256", "ES384", "ES512", "PS256", "RS256", "EdDSA"}

    def __init__(self, mint, url, clients, origins=(), lifetime=300, claims=None):
        super().__init__(body=b"", status=None)
        self.mint = mint
        self.url = url
        self.clients = set(clients)
        self.origins = set(origins)
        self.lifetime = lifetime
        self.claims = dict(claims or {})
        self.issued = []
        self.seen = []
        self.jtis = set()
        self.lock = threading.Lock()

    def cors(self, origin, preflight=False):
        """Response headers for a request from origin (none if not allowed)."""
        if origin not in self.origins:
            return {}
        h = {"Access-Control-Allow-Origin": origin, "Vary": "Origin"}
        if preflight:
            h.update({"Access-Control-Allow-Methods": "POST",
                      "Access-Control-Allow-Headers": "DPoP, Content-Type",
                      "Access-Control-Max-Age": "0"})
        return h

    def check_proof(self, proof):
        """(jkt, None) for an acceptable proof, else (None, why)."""
        from jwcrypto import jwk, jws
        try:
            t = jws.JWS()
            t.deserialize(proof)
            hdr = t.jose_header
            if hdr.get("typ") != "dpop+jwt":
                return None, "typ"
            if hdr.get("alg") not in self.ALGS:
                return None, "alg"
            pub = hdr.get("jwk")
            if not isinstance(pub, dict) or any(m in pub for m in ("d", "p", "q", "k")):
                return None, "jwk"
            key = jwk.JWK(**pub)
            t.verify(key, alg=hdr["alg"])
            c = json.loads(t.payload)
        except Exception as e:  # noqa: BLE001 - any failure is a refusal
            return None, "proof: %s" % e
        if c.get("htm") != "POST" or c.get("htu") != self.url:
            return None, "htm/htu"
        if not isinstance(c.get("iat"), int) or abs(c["iat"] - time.time()) > 60:
            return None, "iat"
        jti = c.get("jti")
        with self.lock:
            if not isinstance(jti, str) or not jti or jti in self.jtis:
                return None, "jti"
            self.jtis.add(jti)
        return key.thumbprint(), None

    def handle(self, form, proofs):
        """(status, JSON-able body) for one request; proofs: its DPoP
        header values."""
        client = form.get("client_id")
        why = None
        if form.get("grant_type") != "client_credentials" or client not in self.clients:
            status, body, why = 400, {"error": "invalid_client"}, "client"
        elif len(proofs) != 1:
            status, body, why = 400, {"error": "invalid_dpop_proof"}, "no single proof"
        else:
            jkt, why = self.check_proof(proofs[0])
            if jkt is None:
                status, body = 400, {"error": "invalid_dpop_proof"}
            else:
                now = int(time.time())
                claims = dict(self.claims, sub=client, client_id=client, iat=now,
                              exp=now + self.lifetime, cnf={"jkt": jkt},
                              jti="%s-dpop-%d-%d" % (client, now, len(self.issued)))
                tok = self.mint(claims)
                with self.lock:
                    self.issued.append((tok, jkt))
                status, body = 200, {"access_token": tok, "token_type": "DPoP",
                                     "expires_in": self.lifetime}
        with self.lock:
            self.seen.append({"client": client, "ok": why is None, "why": why})
        return status, body


class Entry:
    __slots__ = ("t", "method", "path", "status", "event", "peer")

    def __init__(self, t, method, path, status, event, peer):
        self.t, self.method, self.path = t, method, path
        self.status, self.event, self.peer = status, event, peer

    def __repr__(self):
        return "<%.3f %s %s %s %s>" % (self.t, self.method, self.path,
                                      self.status, self.event)


class _Handler(BaseHTTPRequestHandler):
    server_version = "cka-test-idp/1"
    protocol_version = "HTTP/1.1"
    timeout = 15

    def log_message(self, fmt, *args):  # the IdP keeps its own log
        pass

    def do_GET(self):
        idp = self.server.idp
        path = self.path.split("?", 1)[0]
        route = idp.routes.get(path)
        status = route.status if route else 404
        self.requests_seen = getattr(self, "requests_seen", 0) + 1
        idp._record(self.command, path, status, "request", self.client_address)
        if route is None:
            return self._send(404, b'{"error":"not found"}', "application/json")
        if route.delay and idp._stopping.wait(route.delay):
            return                      # IdP shut down while we waited
        if route.close:
            self.close_connection = True
            return
        self._send(route.status, route.payload(), route.content_type, route)

    do_HEAD = do_GET

    def do_POST(self):
        import urllib.parse
        idp = self.server.idp
        path = self.path.split("?", 1)[0]
        route = idp.routes.get(path)
        if isinstance(route, DPoPTokenEndpoint):
            return self._dpop_token(route, path)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length > 0 else b""
        self.requests_seen = getattr(self, "requests_seen", 0) + 1
        if isinstance(route, IntrospectionEndpoint):
            idp._record(self.command, path, 200, "request", self.client_address)
            if route.delay and idp._stopping.wait(route.delay):
                return
            if route.close:
                self.close_connection = True
                return
            if route.status is not None:
                return self._send(route.status, route.payload(), route.content_type, route)
            try:
                form = dict(urllib.parse.parse_qsl(raw.decode(), keep_blank_values=True,
                                                   strict_parsing=bool(raw)))
            except (ValueError, UnicodeDecodeError):
                form = {}
            status, body, delay = route.handle(self.headers.get("Authorization"), form,
                                               self.connection.getpeercert())
            if delay and idp._stopping.wait(delay):
                return
            return self._send(status, body, "application/json", route)
        if not isinstance(route, TokenEndpoint):
            idp._record(self.command, path, 404, "request", self.client_address)
            return self._send(404, b'{"error":"not found"}', "application/json")
        idp._record(self.command, path, route.status or 200, "request", self.client_address)
        if route.delay and idp._stopping.wait(route.delay):
            return
        if route.close:
            self.close_connection = True
            return
        if route.status is not None:
            return self._send(route.status, route.payload(), route.content_type, route)
        try:
            form = dict(urllib.parse.parse_qsl(raw.decode(), keep_blank_values=True,
                                               strict_parsing=bool(raw)))
        except (ValueError, UnicodeDecodeError):
            form = {}
        status, body = route.handle(self.headers.get("Authorization"), form)
        self._send(status, json.dumps(body).encode(), "application/json", route)

    def do_OPTIONS(self):
        """CORS preflights, for a DPoPTokenEndpoint only."""
        idp = self.server.idp
        path = self.path.split("?", 1)[0]
        route = idp.routes.get(path)
        self.requests_seen = getattr(self, "requests_seen", 0) + 1
        ok = isinstance(route, DPoPTokenEndpoint)
        headers = route.cors(self.headers.get("Origin"), preflight=True) if ok else {}
        status = 204 if headers else 403 if ok else 404
        idp._record(self.command, path, status, "request", self.client_address)
        self._send(status, b"", "text/plain", Route(headers=headers))

    def _dpop_token(self, route, path):
        import urllib.parse
        idp = self.server.idp
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length > 0 else b""
        self.requests_seen = getattr(self, "requests_seen", 0) + 1
        try:
            form = dict(urllib.parse.parse_qsl(raw.decode(), keep_blank_values=True))
        except (ValueError, UnicodeDecodeError):
            form = {}
        status, body = route.handle(form, self.headers.get_all("DPoP") or [])
        idp._record(self.command, path, status, "request", self.client_address)
        self._send(status, json.dumps(body).encode(), "application/json",
                   Route(headers=dict(route.cors(self.headers.get("Origin")),
                                      **{"Cache-Control": "no-store"})))

    def _send(self, status, body, ctype, route=None):
        try:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            last = route is not None and route.cache_control_last
            if route is not None and route.cache_control is not None and not last:
                self.send_header("Cache-Control", route.cache_control)
            for name, value in (route.headers if route else {}).items():
                self.send_header(name, value)
            chunked = route is not None and route.chunked
            if chunked:
                self.send_header("Transfer-Encoding", "chunked")
            else:
                self.send_header("Content-Length", str(len(body)))
            self.send_header("Connection", "close")
            if last and route.cache_control is not None:
                self.send_header("Cache-Control", route.cache_control)
            self.end_headers()
            self.close_connection = True
            if self.command == "HEAD":
                return
            step = route.drip_size if route is not None and route.drip else 65536
            for i in range(0, len(body), step):
                piece = body[i:i + step]
                if chunked:
                    piece = b"%x\r\n%s\r\n" % (len(piece), piece)
                self.wfile.write(piece)
                if route is not None and route.drip:
                    self.wfile.flush()
                    if self.server.idp._stopping.wait(route.drip):
                        return
            if chunked:
                self.wfile.write(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError, OSError):
            pass                        # the client gave up: that's its right


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64

    def __init__(self, idp, port, ssl_ctx):
        self.idp = idp
        self.ssl_ctx = ssl_ctx
        super().__init__((LOOPBACK, port), _Handler)

    def finish_request(self, request, client_address):
        # TLS handshake here, in the connection's own thread, so a client
        # that stalls or refuses the certificate never blocks accept().
        request.settimeout(15)
        try:
            tls = self.ssl_ctx.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError) as e:
            self.idp._record("-", "-", 0, "tls-error: %s" % e, client_address)
            return
        try:
            handler = self.RequestHandlerClass(tls, client_address, self)
            if not getattr(handler, "requests_seen", 0):
                # TLS was set up but no request followed (e.g. the client
                # checked the certificate's name after the handshake).
                self.idp._record("-", "-", 0, "no-request", client_address)
        finally:
            try:
                tls.close()
            except OSError:
                pass

    def handle_error(self, request, client_address):
        pass                            # e.g. a reset connection: not news


class IdP:
    """An HTTPS server on 127.0.0.1 that serves routes the test controls.

    cert: "server" (from the trusted test CA, default), "untrusted" (from a
    CA httpd does not trust) or "wrong_host" (trusted CA, other host name),
    or a (cert_path, key_path) pair. port: 0 picks a free one, kept across
    stop()/start() so the URL stays the same.
    """

    def __init__(self, pki, cert="server", port=0):
        if isinstance(cert, str):
            cert = {"server": pki.server, "untrusted": pki.untrusted,
                    "wrong_host": pki.wrong_host}[cert]
        self.ssl_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ssl_ctx.load_cert_chain(*cert)
        self.port = port or _free_port()
        self.url = "https://%s:%d" % (LOOPBACK, self.port)
        self.routes = {}
        self.log = []
        self._lock = threading.Lock()
        self._server = None
        self._thread = None
        self._stopping = threading.Event()

    # -- life cycle
    def start(self):
        if self._server is not None:
            return self
        self._stopping.clear()
        deadline = time.time() + 5
        while True:
            try:
                self._server = _Server(self, self.port, self.ssl_ctx)
                break
            except OSError:
                if time.time() > deadline:
                    raise
                time.sleep(0.05)
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.05},
                                        name="idp-%d" % self.port, daemon=True)
        self._thread.start()
        return self

    def stop(self):
        """Stop listening: connections are refused until start()."""
        if self._server is None:
            return
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)
        self._server = None

    @property
    def running(self):
        return self._server is not None

    # -- content
    def route(self, path, **kw):
        """The Route for path (created on first use); kw sets attributes."""
        with self._lock:
            r = self.routes.get(path)
            if r is None:
                r = self.routes[path] = Route()
        return r.set(**kw)

    def token_endpoint(self, path, mint, clients, lifetime=300, audience=None):
        """Serve a TokenEndpoint at path (POST); returns it."""
        ep = TokenEndpoint(mint, clients, lifetime=lifetime, audience=audience)
        with self._lock:
            self.routes[path] = ep
        return ep

    def introspection_endpoint(self, path, clients, issuer=None):
        """Serve an IntrospectionEndpoint at path (POST); returns it."""
        ep = IntrospectionEndpoint(clients, self.url + path, issuer=issuer)
        with self._lock:
            self.routes[path] = ep
        return ep

    def dpop_token_endpoint(self, path, mint, clients, origins=(), lifetime=300,
                            claims=None):
        """Serve a DPoPTokenEndpoint at path (POST, OPTIONS); returns it."""
        ep = DPoPTokenEndpoint(mint, self.url + path, clients, origins=origins,
                               lifetime=lifetime, claims=claims)
        with self._lock:
            self.routes[path] = ep
        return ep

    def accept_client_certs(self, ca_path):
        """Ask every new connection for a TLS client certificate (optional),
        verified against ca_path (tls_client_auth)."""
        self.ssl_ctx.load_verify_locations(ca_path)
        self.ssl_ctx.verify_mode = ssl.CERT_OPTIONAL

    def publish_jwks(self, path, jwks, max_age=None, **kw):
        cc = None if max_age is None else "public, max-age=%d" % max_age
        return self.route(path, body=jwks, status=200, cache_control=cc, **kw)

    def publish_discovery(self, issuer, jwks_path=None, doc_issuer=None, **kw):
        """Discovery for issuer (which must start with self.url): its
        `issuer` is doc_issuer (default: issuer itself), its jwks_uri is
        url+jwks_path (default <issuer path>/protocol/openid-connect/certs,
        Keycloak's layout). Returns the JWKS path."""
        assert issuer.startswith(self.url + "/"), issuer
        base = issuer[len(self.url):].rstrip("/")
        jwks_path = jwks_path or base + "/protocol/openid-connect/certs"
        doc = {
            "issuer": issuer if doc_issuer is None else doc_issuer,
            "authorization_endpoint": issuer + "/protocol/openid-connect/auth",
            "token_endpoint": issuer + "/protocol/openid-connect/token",
            "jwks_uri": self.url + jwks_path,
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256", "ES256"],
        }
        self.route(base + "/.well-known/openid-configuration", body=doc, status=200, **kw)
        return jwks_path

    # -- the access log
    def _record(self, method, path, status, event, peer):
        with self._lock:
            self.log.append(Entry(time.time(), method, path, status, event,
                                  peer[1] if peer else None))

    def entries(self, path=None, since=0.0, until=None, event="request"):
        """Log entries (for path, in [since, until), of event kind; event
        None = any, "tls-error" matches any TLS failure)."""
        with self._lock:
            log = list(self.log)
        return [e for e in log
                if (path is None or e.path == path) and e.t >= since
                and (until is None or e.t < until)
                and (event is None or e.event.startswith(event))]

    def count(self, path=None, since=0.0, until=None, event="request"):
        return len(self.entries(path, since, until, event))


def _free_port():
    with socket.socket() as s:
        s.bind((LOOPBACK, 0))
        return s.getsockname()[1]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dir", required=True, help="where the test PKI is written")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--jwks", help="JWKS file to serve (default: no keys)")
    ap.add_argument("--client", action="append", default=[],
                    help="ID:SECRET of a client of the token endpoint (repeatable)")
    ap.add_argument("--audience", help="aud of the access tokens it mints")
    args = ap.parse_args(argv)
    pki = Pki(args.dir)
    idp = IdP(pki, port=args.port).start()
    iss = idp.url + "/realms/test"
    jwks_path = idp.publish_discovery(iss)
    jwks = {"keys": []}
    if args.jwks:
        with open(args.jwks) as f:
            jwks = json.load(f)
    if args.client:
        from jwcrypto import jwk, jws
        key = jwk.JWK.generate(kty="EC", crv="P-256", kid="demo-idp-1")
        pub = json.loads(key.export_public())
        pub.update(use="sig", alg="ES256")
        jwks = {"keys": jwks["keys"] + [pub]}
        with open(os.path.join(args.dir, "jwks.json"), "w") as f:
            json.dump(jwks, f)

        def mint(claims):
            body = dict(claims, iss=iss)
            t = jws.JWS(json.dumps(body).encode())
            t.add_signature(key, None, json.dumps({"alg": "ES256", "typ": "at+jwt",
                                                   "kid": "demo-idp-1"}))
            return t.serialize(compact=True)
        clients = dict(c.split(":", 1) for c in args.client)
        idp.token_endpoint(iss[len(idp.url):] + "/protocol/openid-connect/token", mint,
                           clients, lifetime=300, audience=args.audience)
    idp.publish_jwks(jwks_path, jwks, max_age=300)
    print("listening on %s (issuer %s, CA %s)" % (idp.url, iss, pki.ca_file), flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        idp.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
