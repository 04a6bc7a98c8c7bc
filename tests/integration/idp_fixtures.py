"""Fixtures and helpers for the tests that fetch keys from a local IdP
(tests/idp/idp_server.py): the test PKI, IdP instances, signing keys that
live "at the IdP", a fast client that measures each request, and readers
for the key-fetch lines of httpd's error log.

Imported by the test modules that use them (not a conftest):

    from idp_fixtures import pki, idp, SigningKey, send, fetch_failures
"""
import json
import os
import re
import sys
import threading
import time
import uuid

import pytest
from jwcrypto import jwk

import harness
from harness import AUDIENCE

sys.path.insert(0, os.path.join(harness.TOP, "tests", "idp"))
import idp_server  # noqa: E402

# A path the backend stub answers 200 with an echo whatever the token (its
# /api/ paths re-validate the token against the harness keys, not ours).
PATH = "/keys-test/echo"

# The module's line for one failed fetch attempt.
FAIL_RE = re.compile(r"\[conduktor_auth:error\] .*key fetch for issuer (\S+) "
                     r"failed at (\w+): (.*)$")
OK_RE = re.compile(r"\[conduktor_auth:info\] .*fetched (\d+) keys for issuer (\S+) "
                   r"\(([^,]+), fresh for (\d+)s")


def fail_pattern(iss, stage=r"\w+"):
    """expect_log pattern for the fetch-failure lines of issuer iss."""
    return r"\[conduktor_auth:error\] .*key fetch for issuer %s failed at %s: " % (
        re.escape(iss), stage)


# The per-request error line of a 503 (keys never obtained).
UNAVAILABLE_PATTERN = r"\[conduktor_auth:error\] .*refused: keys_unavailable"


# -- fixtures ---------------------------------------------------------------------
@pytest.fixture(scope="session")
def pki(workdir):
    """The test CA (ConduktorAuthCAFile) and server certificates."""
    return idp_server.Pki(os.path.join(workdir, "pki"))


@pytest.fixture
def idp(pki):
    """idp(cert="server", start=True) -> a running idp_server.IdP; all are
    stopped after the test."""
    made = []

    def factory(cert="server", start=True):
        i = idp_server.IdP(pki, cert=cert)
        made.append(i)
        return i.start() if start else i

    yield factory
    for i in made:
        i.stop()


def remote_issuer(pki, iss, keys=None, timeout=2, miss=1, refresh=None, ca=True,
                  extra=()):
    """The `issuers=` lines of harness.Httpd for one remote issuer."""
    lines = ["ConduktorAuthIssuer %s%s" % (iss, " " + keys if keys else "")]
    if ca:
        lines.append("ConduktorAuthCAFile %s" % pki.ca_file)
    if timeout is not None:
        lines.append("ConduktorAuthHTTPTimeout %d" % timeout)
    if miss is not None:
        lines.append("ConduktorAuthJWKSMissRefetch %d" % miss)
    if refresh is not None:
        lines.append("ConduktorAuthJWKSRefresh %d" % refresh)
    return lines + list(extra)


# -- keys held by the IdP -------------------------------------------------------------
class SigningKey:
    """A signing key of the IdP: its public JWK and tokens signed with it."""

    def __init__(self, kid, kty="EC"):
        if kty == "EC":
            self.jwk = jwk.JWK.generate(kty="EC", crv="P-256", kid=kid)
            self.alg = "ES256"
        elif kty == "RSA":
            self.jwk = jwk.JWK.generate(kty="RSA", size=2048, kid=kid)
            self.alg = "RS256"
        else:
            raise ValueError(kty)
        self.kid = kid

    def public(self, **extra):
        d = json.loads(self.jwk.export_public())
        d.update({"use": "sig", "alg": self.alg})
        d.update(extra)
        return {k: v for k, v in d.items() if v is not None}

    def token(self, iss, kid=Ellipsis, **claims):
        """A fresh token (own jti) for issuer iss; kid=None leaves it out,
        any other value replaces the key's kid in the header."""
        now = int(time.time())
        body = {"iss": iss, "aud": AUDIENCE, "sub": "user-" + self.kid,
                "email": "alice@example.test", "groups": ["platform-team"],
                "iat": now, "exp": now + 300, "jti": uuid.uuid4().hex}
        body.update(claims)
        hdr = {"alg": self.alg, "typ": "JWT"}
        kid = self.kid if kid is Ellipsis else kid
        if kid is not None:
            hdr["kid"] = kid
        return harness.mint.sign(self.jwk, self.alg, hdr, body)


def client_token_minter(key, iss, **extra):
    """mint(claims) for an idp_server.TokenEndpoint: access tokens for
    clients, signed with key (a SigningKey) as issuer iss; extra claims
    (e.g. aud) are added unless the request set them."""
    def mint(claims):
        body = dict(extra)
        body.update(claims)
        body["iss"] = iss
        hdr = {"alg": key.alg, "typ": "at+jwt", "kid": key.kid}
        return harness.mint.sign(key.jwk, key.alg, hdr, body)
    return mint


def jwks(*keys, extra=()):
    return {"keys": [k.public() for k in keys] + list(extra)}


# -- requests ---------------------------------------------------------------------------
def send(h, token=None, path=PATH):
    """One GET through Httpd.request, timed: the Response gets .elapsed
    (seconds). Safe from several threads; but after concurrent use do not
    rely on Httpd.last_access() in the same test (its request count is
    not kept under a lock)."""
    start = time.monotonic()
    r = h.request("GET", path, token=token, ordered=False)
    r.elapsed = time.monotonic() - start
    return r


def hammer(h, make_token, threads, seconds, path=PATH, pause=0.0):
    """From `threads` threads, send make_token(i) tokens for `seconds`;
    returns every Reply (or exception) with its thread index."""
    out = []
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds

    def run(i):
        while time.monotonic() < stop_at:
            try:
                r = send(h, make_token(i), path=path)
            except Exception as e:     # noqa: BLE001 - reported by the test
                r = e
            with lock:
                out.append((i, r))
            if pause:
                time.sleep(pause)

    ts = [threading.Thread(target=run, args=(i,)) for i in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(seconds + 60)
    return out


# -- the error log --------------------------------------------------------------------
class LogCursor:
    """Lines appended to an httpd error log since the cursor was made."""

    def __init__(self, h):
        self.h = h
        self.start = len(h.read_error_log().splitlines())

    def lines(self):
        return self.h.read_error_log().splitlines()[self.start:]


def fetch_failures(lines, iss=None):
    """(issuer, stage, reason) of each fetch-failure line."""
    out = []
    for line in lines:
        m = FAIL_RE.search(line)
        if m and (iss is None or m.group(1) == iss):
            out.append((m.group(1), m.group(2), m.group(3)))
    return out


def fetch_successes(lines, iss=None):
    """(issuer, cause, fresh seconds) of each successful fetch line."""
    out = []
    for line in lines:
        m = OK_RE.search(line)
        if m and (iss is None or m.group(2) == iss):
            out.append((m.group(2), m.group(3), int(m.group(4))))
    return out


def keys_loaded(lines, iss):
    """The number of keys of each successful fetch of issuer iss."""
    return [int(m.group(1)) for m in map(OK_RE.search, lines)
            if m and m.group(2) == iss]


def wait_for(predicate, timeout, interval=0.1):
    """Poll predicate() until it returns something true; return that, or
    the last value after timeout."""
    deadline = time.monotonic() + timeout
    while True:
        v = predicate()
        if v or time.monotonic() >= deadline:
            return v
        time.sleep(interval)


def pids_of(lines, pattern):
    """Distinct httpd child pids of the lines matching pattern."""
    rx = re.compile(pattern)
    pids = set()
    for line in lines:
        if rx.search(line):
            m = re.search(r"\[pid (\d+)", line)
            if m:
                pids.add(int(m.group(1)))
    return pids
