"""Keys from the identity provider (issue 3; SPEC "Trust: issuers and
keys"): HTTPS JWKS and OIDC discovery from a local IdP with a test CA made
at test time, rotation, the unknown-kid flood, outages, several issuers,
TLS failures and a graceful restart. Every test runs a real httpd; the IdP
(tests/idp/idp_server.py) runs in this process and logs each request, so
fetches are counted where they arrive, across all httpd processes.

The one test that needs a key set to go stale (the shortest freshness is
60 s) uses an httpd started when this module starts and runs last, so it
waits only for what the other tests have not already spent.
"""
import random
import re
import subprocess
import threading
import time

import pytest

import harness
from harness import APACHE, assert_denied, challenge_params, protect
from idp_fixtures import (  # noqa: F401  (pki and idp are fixtures)
    PATH, UNAVAILABLE_PATTERN, LogCursor, SigningKey, fail_pattern,
    fetch_failures, fetch_successes, hammer, idp, idp_server, jwks, keys_loaded,
    pids_of, pki, remote_issuer, send, wait_for)

# A request that did not wait on the IdP answers far below FAST; one that
# waited on a fetch takes at least the timeout (2 s here) while the IdP
# delays 3-4 s. SLACK is what the machine may add to a bounded wait. The
# margins are wide so a loaded machine does not turn them into flakes.
FAST = 1.5
SLACK = 1.5

# Numbers the final report quotes (printed with -s, and in the junit xml).
REPORT = {}


def report(record_property, name, value):
    REPORT[name] = value
    record_property(name, value)
    print("\n[keys-remote] %s = %s" % (name, value))


def assert_unavailable(r):
    """503 with Retry-After and a JSON body: keys never obtained."""
    assert r.status == 503, r
    ra = r.header("Retry-After")
    assert ra is not None and re.fullmatch(r"[1-9]\d*", ra.strip()), \
        "Retry-After missing or not delta-seconds: %r" % ra
    ctype = (r.header("Content-Type") or "").split(";")[0].strip()
    assert ctype == "application/json", r.header("Content-Type")
    body = r.json()
    assert isinstance(body.get("error"), str) and body["error"], body
    _, params = challenge_params(r.header("WWW-Authenticate"))
    assert params.get("error") != "invalid_token", \
        "a token whose keys are not available is not an invalid token"


def assert_invalid(r):
    assert_denied(r, 401, "invalid_token")


def refused(h, token, code):
    """A request that must get 401 invalid_token with CONDUKTOR_AUTH_ERROR
    = code (read from the access log, so sequential use only)."""
    r = h.get(PATH, token=token)
    assert_denied(r, 401, "invalid_token")
    assert h.last_access()["error"] == code, h.last_access()
    return r


def keycloak_realm(idp_, name="conduktor"):
    return idp_.url + "/realms/" + name


# -- discovery and direct JWKS -------------------------------------------------------
def test_discovery_then_jwks_then_token_accepted(httpd, idp, pki):
    ip = idp()
    iss = keycloak_realm(ip)
    key = SigningKey("kc-1", kty="RSA")
    jwks_path = ip.publish_discovery(iss)
    ip.publish_jwks(jwks_path, jwks(key), max_age=300)
    disc_path = "/realms/conduktor/.well-known/openid-configuration"

    h = httpd(protect(), issuers=remote_issuer(pki, iss, timeout=5, miss=60))
    tok = key.token(iss, email="bob@example.test")
    r = send(h, tok)
    assert r.status == 200, r
    assert r.echo["path"] == PATH
    log = h.last_access()
    assert (log["user"], log["issuer"], log["error"]) == ("bob@example.test", iss, "-")

    reqs = ip.entries()
    assert [e.path for e in reqs] == [disc_path, jwks_path], \
        "expected one discovery request, then one JWKS request: %r" % reqs

    # Keys are fresh: more tokens, no more fetches, no waiting.
    for _ in range(5):
        r = send(h, key.token(iss))
        assert r.status == 200, r
        assert r.elapsed < FAST, "a request waited %.2fs with fresh keys" % r.elapsed
    assert ip.count() == 2, ip.entries()
    assert fetch_successes(h.read_error_log().splitlines(), iss)[:1] == \
        [(iss, "refresh", 300)]


@pytest.mark.parametrize("doc_issuer", ["{iss}/", "https://other-idp.test/realms/conduktor"],
                         ids=["trailing_slash", "other_issuer"])
def test_discovery_issuer_mismatch_is_refused(httpd, idp, pki, doc_issuer):
    ip = idp()
    iss = keycloak_realm(ip)
    key = SigningKey("kc-1")
    jwks_path = ip.publish_discovery(iss, doc_issuer=doc_issuer.format(iss=iss))
    ip.publish_jwks(jwks_path, jwks(key))

    h = httpd(protect(), issuers=remote_issuer(pki, iss, timeout=5, miss=60),
              expect_log=[fail_pattern(iss, "discovery"), UNAVAILABLE_PATTERN])
    r = h.get(PATH, token=key.token(iss))
    assert_unavailable(r)
    assert h.last_access()["error"] == "keys_unavailable"
    assert ip.count(jwks_path) == 0, "the jwks_uri of a mismatching document was used"
    fails = fetch_failures(h.read_error_log().splitlines(), iss)
    assert len(fails) == 1, fails
    _, stage, reason = fails[0]
    assert stage == "discovery"
    assert "issuer" in reason and "does not equal" in reason, reason


def test_direct_jwks_url(httpd, idp, pki):
    ip = idp()
    iss = ip.url + "/oauth2/default"
    key = SigningKey("okta-1", kty="RSA")
    ip.publish_jwks("/oauth2/default/v1/keys", jwks(key))    # no Cache-Control
    h = httpd(protect(), issuers=remote_issuer(
        pki, iss, ip.url + "/oauth2/default/v1/keys", timeout=5, miss=60, refresh=900))
    r = send(h, key.token(iss))
    assert r.status == 200, r
    assert [e.path for e in ip.entries()] == ["/oauth2/default/v1/keys"], \
        "a configured JWKS URL needs no discovery"
    # Without max-age, ConduktorAuthJWKSRefresh is the freshness.
    assert fetch_successes(h.read_error_log().splitlines(), iss) == [(iss, "refresh", 900)]


def test_keys_not_for_verification_are_skipped(httpd, idp, pki):
    """use: enc, key_ops without verify and an unknown kty are skipped; the
    rest of the set is used (issue 3, item 6)."""
    ip = idp()
    iss = ip.url + "/tenant"
    good = SigningKey("sig-1")
    enc = SigningKey("enc-1")
    ops = SigningKey("ops-1")
    doc = {"keys": [
        enc.public(use="enc", alg=None),
        ops.public(use=None, key_ops=["encrypt", "wrapKey"]),
        {"kty": "XYZ", "kid": "future-1", "use": "sig", "x": "AAAA"},
        good.public(),
    ]}
    ip.publish_jwks("/tenant/jwks", doc, max_age=300)
    h = httpd(protect(), issuers=remote_issuer(pki, iss, ip.url + "/tenant/jwks", miss=60))
    r = send(h, good.token(iss))
    assert r.status == 200, r
    assert keys_loaded(h.read_error_log().splitlines(), iss) == [1], \
        "only the signature key is loaded"
    # Their kids are in the set, as keys not for signatures: unsupported,
    # not unknown (no refetch for them).
    for k in (enc, ops):
        refused(h, k.token(iss), "unsupported_key")


# -- rotation ---------------------------------------------------------------------------
def test_rotation_new_key_on_first_request_old_key_until_withdrawn(httpd, idp, pki):
    ip = idp()
    iss = keycloak_realm(ip)
    old, new, newer = SigningKey("2026-01"), SigningKey("2026-02"), SigningKey("2026-03")
    jwks_path = ip.publish_discovery(iss)
    ip.publish_jwks(jwks_path, jwks(old), max_age=3600)
    h = httpd(protect(), issuers=remote_issuer(pki, iss, miss=1))

    assert send(h, old.token(iss)).status == 200
    assert ip.count(jwks_path) == 1

    # The IdP publishes the new key and starts signing with it. Any fetch
    # counts toward ConduktorAuthJWKSMissRefetch (the first, regular one
    # too: see test_trust_vhosts.py), so the kid-miss refetch comes once
    # that second is over.
    ip.publish_jwks(jwks_path, jwks(old, new), max_age=3600)
    time.sleep(1.1)
    r = send(h, new.token(iss))
    assert r.status == 200, ("a token signed with the newly published key must pass"
                             " on its first request", r)
    assert ip.count(jwks_path) == 2, "one refetch for the unknown kid"
    assert fetch_successes(h.read_error_log().splitlines(), iss)[-1][1] == "unknown kid"

    # The old key is still published: its tokens still pass, no fetch.
    for _ in range(3):
        assert send(h, old.token(iss)).status == 200
    assert ip.count(jwks_path) == 2

    # Next rotation: the old key is withdrawn; the set is refreshed (by the
    # unknown kid of the newest key, once the MissRefetch second is over).
    ip.publish_jwks(jwks_path, jwks(new, newer), max_age=3600)
    time.sleep(1.1)
    assert send(h, newer.token(iss)).status == 200
    assert ip.count(jwks_path) == 3
    refused(h, old.token(iss), "unknown_key")
    assert send(h, new.token(iss)).status == 200
    # Discovery is not repeated for a kid miss (its jwks_uri is kept).
    assert ip.count(iss[len(ip.url):] + "/.well-known/openid-configuration") == 1


# -- the unknown-kid flood ---------------------------------------------------------------
# Several processes from the start (threaded MPMs: 4 x 4 threads; prefork:
# 8 processes), so a flood is spread over processes.
FLOOD_MPM = """\
StartServers 4
ServerLimit 4
ThreadsPerChild 4
MaxRequestWorkers 16
MinSpareThreads 4
MaxSpareThreads 16
""" if harness.default_mpm() != "prefork" else """\
StartServers 8
MinSpareServers 8
MaxSpareServers 16
MaxRequestWorkers 16
"""


def test_unknown_kid_flood_fetches_at_most_once_per_interval(httpd, idp, pki,
                                                             record_property):
    miss, seconds, threads = 2, 5.0, 8
    ip = idp()
    iss = ip.url + "/flood"
    key = SigningKey("real-1")
    ip.publish_jwks("/flood/jwks", jwks(key), max_age=3600)
    h = httpd(protect(), global_=FLOOD_MPM, loglevel="info",
              issuers=remote_issuer(pki, iss, ip.url + "/flood/jwks", miss=miss))
    first = time.time()
    assert send(h, key.token(iss)).status == 200          # the first fetch
    assert ip.count() == 1
    cursor = LogCursor(h)

    def token(i):
        # Mostly random kids; every fourth request a good token.
        if random.random() < 0.25:
            return key.token(iss)
        return key.token(iss, kid="%016x" % random.getrandbits(64))

    start = time.time()
    results = hammer(h, token, threads, seconds, pause=0.02)
    end = time.time()
    errors = [r for _, r in results if isinstance(r, Exception)]
    assert not errors, errors[:3]
    replies = [r for _, r in results]
    fetches = ip.entries("/flood/jwks")                    # the first one too
    report(record_property, "flood_requests", len(replies))
    report(record_property, "flood_unknown_kid_requests",
           sum(1 for r in replies if r.status == 401))
    report(record_property, "flood_seconds", round(end - start, 2))
    report(record_property, "flood_jwks_fetches", len(fetches) - 1)

    bad = [r for r in replies if r.status not in (200, 401)]
    assert not bad, bad[:3]
    assert any(r.status == 401 for r in replies) and any(r.status == 200 for r in replies)
    # The SPEC limits refetches caused by unknown kids to one per interval
    # (any fetch counts, the first, regular one too).
    flood = fetches[1:]
    allowed = int((end - start) // miss) + 1
    assert 1 <= len(flood) <= allowed, \
        "%d kid-miss JWKS fetches in %.1fs with ConduktorAuthJWKSMissRefetch %d (at most %d)" % (
            len(flood), end - start, miss, allowed)
    gaps = [b.t - a.t for a, b in zip(fetches, fetches[1:])]
    assert all(g >= miss - 0.5 for g in gaps), \
        "refetches closer than ConduktorAuthJWKSMissRefetch: %r" % gaps
    # Several httpd processes took part, and still the IdP saw that few.
    lines = cursor.lines()
    pids = pids_of(lines, r"refused: unknown_key")
    report(record_property, "flood_httpd_processes", len(pids))
    assert len(pids) >= 2, "the flood reached only one process: %r" % pids
    # Good tokens never waited for the IdP.
    slowest_good = max(r.elapsed for r in replies if r.status == 200)
    assert slowest_good < FAST, slowest_good
    assert fetch_failures(lines) == []


# -- outages ------------------------------------------------------------------------------
def _big_jwks(key, size=2 * 1024 * 1024):
    doc = jwks(key)
    pad = size - len(str(doc))
    doc["keys"].append({"kty": "oct", "kid": "padding", "use": "enc", "k": "A" * pad})
    return doc


# mode -> (how to break the IdP, the reason the log line must give)
OUTAGES = {
    "down": (lambda ip, r: ip.stop(), r"connect"),
    "http_500": (lambda ip, r: r.set(status=500, body={"error": "oops"}),
                 r"HTTP status 500"),
    "garbage": (lambda ip, r: r.set(body=b"<html><body>Bad Gateway</body></html>"),
                r"unusable key set"),
    "no_usable_keys": (lambda ip, r: r.set(body={"keys": [{"kty": "XYZ", "kid": "a"}]}),
                       r"unusable key set"),
    "doc_2MiB": (lambda ip, r: r.set(body=_big_jwks(SigningKey("pad"))),
                 r"larger than 1 MiB"),
    "doc_2MiB_chunked": (lambda ip, r: r.set(body=_big_jwks(SigningKey("pad")), chunked=True),
                         r"larger than 1 MiB"),
    "slow": (lambda ip, r: r.set(delay=4.0), r"[Tt]ime(out|d out)"),
    "trickle": (lambda ip, r: r.set(drip=0.2, drip_size=16), r"[Tt]ime(out|d out)"),
    "hangup": (lambda ip, r: r.set(close=True), r"nothing|[Ee]mpty|closed"),
}


@pytest.mark.parametrize("mode", list(OUTAGES))
def test_outage_keeps_last_good_keys(httpd, idp, pki, mode, record_property):
    timeout, miss, seconds = 2, 1, 3.0
    ip = idp()
    iss = ip.url + "/outage"
    key, next_key = SigningKey("live-1"), SigningKey("live-2")
    route = ip.publish_jwks("/outage/jwks", jwks(key), max_age=3600)
    h = httpd(protect(), loglevel="info",
              issuers=remote_issuer(pki, iss, ip.url + "/outage/jwks",
                                    timeout=timeout, miss=miss),
              expect_log=[fail_pattern(iss, "jwks")])
    assert send(h, key.token(iss)).status == 200
    cursor = LogCursor(h)
    before = ip.count("/outage/jwks")

    break_it, reason_re = OUTAGES[mode]
    break_it(ip, route)
    # 4 connections with good tokens, 2 with tokens of a key the IdP would
    # publish next (unknown kid: each may cause a refetch attempt).
    results = hammer(h, lambda i: key.token(iss) if i < 4 else next_key.token(iss),
                     6, seconds, pause=0.05)
    assert not [r for _, r in results if isinstance(r, Exception)]
    good = [r for i, r in results if i < 4]
    unknown = [r for i, r in results if i >= 4]

    assert good and all(r.status == 200 for r in good), \
        [r for r in good if r.status != 200][:3]
    for r in unknown:
        assert_invalid(r)
    longest = max(r.elapsed for _, r in results)
    longest_good = max(r.elapsed for r in good)
    report(record_property, "outage_%s_longest_wait_s" % mode, round(longest, 3))
    assert longest_good < FAST, "a request with a known key waited %.2fs" % longest_good
    assert longest <= timeout + SLACK, \
        "a request waited %.2fs (ConduktorAuthHTTPTimeout %d)" % (longest, timeout)

    fails = fetch_failures(cursor.lines(), iss)
    assert fails, "no log line for the failed fetches"
    for _, stage, reason in fails:
        assert stage == "jwks"
        assert re.search(reason_re, reason), reason
        assert "last good key set stays in use" in reason, reason
    # One line per attempt, never one per request.
    if mode != "down":
        seen = ip.count("/outage/jwks") - before
        assert len(fails) == seen, \
            "%d failure lines for %d attempts the IdP saw: %r / %r" % (
                len(fails), seen, ip.entries("/outage/jwks", event=None),
                [l for l in cursor.lines() if "outage failed" in l])
    assert len(fails) <= int(seconds / miss) + 1, fails
    assert len(fails) < len(unknown), "failures logged per request"

    # The IdP recovers, now with the next key: accepted without a restart.
    if mode == "down":
        ip.start()
    ip.publish_jwks("/outage/jwks", jwks(key, next_key), max_age=3600,
                    delay=0.0, drip=0.0, chunked=False, close=False)
    time.sleep(miss + 0.1)
    r = send(h, next_key.token(iss))
    assert r.status == 200, r


def test_slow_idp_longest_wait(httpd, idp, pki, record_property):
    """A slow IdP: the whole fetch (discovery + JWKS) stays within one
    ConduktorAuthHTTPTimeout, both for a first fetch (keys never obtained)
    and for a refetch; requests with known keys and requests for another
    issuer do not wait at all."""
    timeout = 2
    ip = idp()
    iss = keycloak_realm(ip)
    other = ip.url + "/other"
    key, next_key, other_key = SigningKey("s-1"), SigningKey("s-2"), SigningKey("o-1")
    jwks_path = ip.publish_discovery(iss)
    disc = ip.route(iss[len(ip.url):] + "/.well-known/openid-configuration")
    ip.publish_jwks(jwks_path, jwks(key), max_age=3600)
    ip.publish_jwks("/other/jwks", jwks(other_key), max_age=3600)
    h = httpd(protect(), loglevel="info",
              issuers=remote_issuer(pki, iss, timeout=timeout, miss=1)
              + ["ConduktorAuthIssuer %s %s/other/jwks" % (other, ip.url)],
              expect_log=[fail_pattern(iss), UNAVAILABLE_PATTERN])
    assert send(h, other_key.token(other)).status == 200

    # 1. First fetch: discovery answers after 1.5 s, the JWKS after 3 s.
    disc.set(delay=1.5)
    ip.route(jwks_path).set(delay=3.0)
    first = hammer(h, lambda i: other_key.token(other) if i % 2 else key.token(iss),
                   4, 3.0, pause=0.05)
    assert not [r for _, r in first if isinstance(r, Exception)]
    for i, r in first:
        if i % 2:
            assert r.status == 200 and r.elapsed < FAST, r
        else:
            assert_unavailable(r)
    fails = fetch_failures(h.read_error_log().splitlines(), iss)
    assert fails and all(stage == "jwks" and re.search("[Tt]ime", why)
                         for _, stage, why in fails), fails

    # 2. The IdP is quick again: keys are obtained (retry after 1 s).
    disc.set(delay=0.0)
    ip.route(jwks_path).set(delay=0.0)
    assert wait_for(lambda: send(h, key.token(iss)).status == 200, timeout=4)
    cursor = LogCursor(h)

    # 3. Refetch for an unknown kid against a JWKS that answers after 3 s.
    ip.route(jwks_path).set(delay=3.0)

    def tok(i):
        return [key.token(iss), other_key.token(other), next_key.token(iss)][i % 3]

    results = hammer(h, tok, 6, 3.0, pause=0.05)
    assert not [r for _, r in results if isinstance(r, Exception)]
    fast = [r for i, r in results if i % 3 != 2]
    assert all(r.status == 200 for r in fast)
    assert max(r.elapsed for r in fast) < FAST
    for i, r in results:
        if i % 3 == 2:
            assert_invalid(r)
    assert fetch_failures(cursor.lines(), iss)

    longest = max(r.elapsed for _, r in first + results)
    report(record_property, "slow_idp_longest_wait_s", round(longest, 3))
    report(record_property, "slow_idp_longest_wait_first_fetch_s",
           round(max(r.elapsed for _, r in first), 3))
    report(record_property, "slow_idp_longest_wait_refetch_s",
           round(max(r.elapsed for _, r in results), 3))
    assert longest <= timeout + 0.5, \
        "a request waited %.2fs with ConduktorAuthHTTPTimeout %d" % (longest, timeout)


# -- IdP unreachable at start ------------------------------------------------------------
def test_idp_unreachable_at_start_then_up(httpd, idp, pki):
    ip = idp(start=False)
    iss = keycloak_realm(ip)
    key = SigningKey("kc-1")
    jwks_path = ip.publish_discovery(iss)
    ip.publish_jwks(jwks_path, jwks(key), max_age=3600)
    h = httpd(protect(), issuers=remote_issuer(pki, iss, miss=2),
              expect_log=[fail_pattern(iss, "discovery"), UNAVAILABLE_PATTERN])
    assert h.pid, "httpd must start while the IdP is unreachable"

    replies = [send(h, key.token(iss)) for _ in range(8)]
    for r in replies:
        assert_unavailable(r)
        assert r.elapsed < FAST, r.elapsed
    assert h.get(PATH, token=key.token(iss)).status == 503
    assert h.last_access()["error"] == "keys_unavailable"
    fails = fetch_failures(h.read_error_log().splitlines(), iss)
    assert len(fails) == 1, "one attempt, one line, for 8 requests: %r" % fails
    assert re.search("connect", fails[0][2], re.I), fails

    ip.start()
    t0 = time.monotonic()
    r = wait_for(lambda: (lambda x: x if x.status == 200 else None)(send(h, key.token(iss))),
                 timeout=6, interval=0.2)
    assert r and r.status == 200, "tokens did not pass once the IdP was up"
    # Retried after min(MissRefetch, 30) = 2 s, not later.
    assert time.monotonic() - t0 < 4.0
    assert ip.count(jwks_path) == 1


# -- several issuers -----------------------------------------------------------------------
def test_two_issuers_each_verifies_only_its_own_tokens(httpd, idp, pki):
    ip = idp()
    iss_a = keycloak_realm(ip, "team-a")         # by discovery
    iss_b = ip.url + "/tenant-b/v2.0"            # by JWKS URL
    # The same kid at both IdPs, different keys.
    a, b, b2 = SigningKey("k1"), SigningKey("k1"), SigningKey("b-2")
    ja = ip.publish_discovery(iss_a)
    ip.publish_jwks(ja, jwks(a), max_age=3600)
    ip.publish_jwks("/tenant-b/keys", jwks(b, b2), max_age=3600)
    h = httpd(protect(), issuers=remote_issuer(pki, iss_a, miss=1) + [
        "ConduktorAuthIssuer %s %s/tenant-b/keys" % (iss_b, ip.url)])

    r = send(h, a.token(iss_a))
    assert r.status == 200, r
    assert h.last_access()["issuer"] == iss_a
    r = send(h, b.token(iss_b))
    assert r.status == 200, r
    assert h.last_access()["issuer"] == iss_b
    assert send(h, b2.token(iss_b)).status == 200

    # Signed by B's key, claiming A (same kid): bad signature.
    refused(h, b.token(iss_a), "bad_signature")
    # B's other key for A: unknown at A even after A's keys are refetched.
    time.sleep(1.1)
    n = ip.count(ja)
    refused(h, b2.token(iss_a), "unknown_key")
    assert ip.count(ja) == n + 1, "the unknown kid did not cause a refetch of A's keys"
    # And the other way round.
    refused(h, a.token(iss_b), "bad_signature")
    # An issuer that is not configured: not a JWT of a trusted issuer.
    refused(h, a.token(ip.url + "/realms/team-c"), "opaque_token_refused")
    assert ip.count("/tenant-b/keys") == 1


# -- TLS --------------------------------------------------------------------------------------
@pytest.mark.parametrize("case", ["untrusted_ca", "wrong_host", "system_store"])
def test_tls_failure_is_refused_and_logged(httpd, idp, pki, case):
    cert = {"untrusted_ca": "untrusted", "wrong_host": "wrong_host",
            "system_store": "server"}[case]
    ip = idp(cert=cert)
    iss = ip.url + "/tls"
    key = SigningKey("t-1")
    ip.publish_jwks("/tls/jwks", jwks(key))
    h = httpd(protect(), issuers=remote_issuer(pki, iss, ip.url + "/tls/jwks", miss=60,
                                               ca=case != "system_store"),
              expect_log=[fail_pattern(iss, "jwks"), UNAVAILABLE_PATTERN])
    for _ in range(3):
        assert_unavailable(send(h, key.token(iss)))
    assert ip.count("/tls/jwks") == 0, "a document was fetched over an unverified TLS link"
    # The IdP saw the connection, refused at the TLS level.
    conns = ip.entries(event=None)
    assert conns and all(e.event != "request" for e in conns), conns
    fails = fetch_failures(h.read_error_log().splitlines(), iss)
    assert len(fails) == 1, fails
    reason = fails[0][2]
    assert re.search(r"SSL|certificate|TLS", reason), reason


# -- graceful restart ---------------------------------------------------------------------------
def _generations(h):
    return len(re.findall(r"resuming normal operations", h.read_error_log()))


def test_graceful_restart_keeps_serving_while_idp_is_down(httpd, idp, pki):
    ip = idp()
    iss = keycloak_realm(ip)
    key, unknown = SigningKey("g-1"), SigningKey("g-2")
    jwks_path = ip.publish_discovery(iss)
    ip.publish_jwks(jwks_path, jwks(key), max_age=3600)
    h = httpd(protect(), global_=FLOOD_MPM, loglevel="info",
              issuers=remote_issuer(pki, iss, miss=1),
              expect_log=[fail_pattern(iss, "jwks")])
    assert send(h, key.token(iss)).status == 200
    results = hammer(h, lambda i: key.token(iss), 4, 1.0)
    assert all(r.status == 200 for _, r in results)
    assert ip.count(jwks_path) == 1
    ip.stop()

    gen = _generations(h)
    p = subprocess.run([APACHE, "-f", h.conf, "-k", "graceful"], env=harness._clean_env(),
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=30)
    assert p.returncode == 0, p.stdout
    assert wait_for(lambda: _generations(h) > gen, timeout=10), "no new generation"
    cursor = LogCursor(h)

    results = hammer(h, lambda i: key.token(iss), 6, 1.5)
    assert not [r for _, r in results if isinstance(r, Exception)]
    statuses = [r.status for _, r in results]
    assert statuses and set(statuses) == {200}, statuses
    assert fetch_failures(cursor.lines()) == [], "keys were fresh: nothing to fetch"
    # The IdP is down: an unknown kid is refused after one failed attempt,
    # known keys keep passing.
    assert_invalid(send(h, unknown.token(iss)))
    assert send(h, key.token(iss)).status == 200
    assert len(fetch_failures(cursor.lines(), iss)) == 1


# -- freshness from max-age, refresh during an outage, withdrawal by refresh ----------------
# Runs last: its httpd starts with the module, so the 60 s a key set needs
# to go stale (max-age is clamped to 60..86400) mostly overlap other tests.
STALE_MISS = 2


class _Poller:
    """Sends a good token every 0.5 s and keeps (time, status, elapsed)."""

    def __init__(self, h, key, iss):
        self.h, self.key, self.iss = h, key, iss
        self.results = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        while not self._stop.wait(0.5):
            try:
                r = send(self.h, self.key.token(self.iss))
                self.results.append((time.time(), r.status, r.elapsed))
            except Exception as e:     # noqa: BLE001
                self.results.append((time.time(), repr(e), 0.0))

    def stop(self):
        self._stop.set()
        self._thread.join(10)


@pytest.fixture(scope="module", autouse=True)
def stale_env(shared_httpd, pki):
    ip = idp_server.IdP(pki).start()
    iss = ip.url + "/stale"
    old, new = SigningKey("old-1"), SigningKey("new-1")
    # max-age=5 is below the floor: it must count as 60.
    route = ip.publish_jwks("/stale/jwks", jwks(old), max_age=5)
    h = shared_httpd(protect(), issuers=remote_issuer(
        pki, iss, ip.url + "/stale/jwks", miss=STALE_MISS, timeout=2),
        expect_log=[fail_pattern(iss, "jwks")])
    r = send(h, old.token(iss))
    assert r.status == 200, r
    t0 = time.time()
    # The IdP starts failing at once; it does not matter while keys are fresh.
    route.set(status=500, body={"error": "maintenance"})
    poller = _Poller(h, old, iss)
    env = dict(ip=ip, iss=iss, old=old, new=new, route=route, h=h, t0=t0, poller=poller)
    yield env
    poller.stop()
    ip.stop()


def test_zz_refresh_at_max_age_during_outage_then_key_withdrawn(stale_env, record_property):
    e = stale_env
    ip, iss, h, t0, poller = e["ip"], e["iss"], e["h"], e["t0"], e["poller"]
    assert fetch_successes(h.read_error_log().splitlines(), iss)[:1] == \
        [(iss, "refresh", 60)], "max-age=5 must be clamped to 60 s"

    # Wait (if the other tests did not take long enough) until the set has
    # been stale for a few retry intervals, the IdP answering 500 all along.
    stale_at = t0 + 60
    time.sleep(max(0.0, stale_at + 2 * STALE_MISS + 0.8 - time.time()))
    poller.stop()
    record_property("stale_test_waited_s", round(time.time() - t0, 1))
    entries = ip.entries("/stale/jwks")
    assert entries[0].status == 200
    attempts = entries[1:]

    # While fresh, nothing was fetched and no request waited.
    early = [a for a in attempts if a.t < stale_at - 0.5]
    assert not early, "fetched before max-age (clamped to 60 s) ran out: %r" % early
    fresh_phase = [x for x in poller.results if x[0] < stale_at - 1]
    assert fresh_phase and all(s == 200 for _, s, _ in fresh_phase), fresh_phase[-5:]
    assert max(el for _, _, el in fresh_phase) < 5.0

    # Once stale, with the IdP failing: the set stays in use; attempts come
    # at most every min(MissRefetch, 30) s, each logged once.
    assert attempts and attempts[0].t < stale_at + 2, \
        "no refresh attempt when max-age ran out: %r" % attempts
    assert all(a.status == 500 for a in attempts)
    gaps = [b.t - a.t for a, b in zip(attempts, attempts[1:])]
    assert gaps and all(g >= STALE_MISS - 0.5 for g in gaps), gaps
    stale_phase = [x for x in poller.results if x[0] >= stale_at - 1]
    assert stale_phase and all(s == 200 for _, s, _ in stale_phase), \
        [x for x in stale_phase if x[1] != 200][:5]
    fails = fetch_failures(h.read_error_log().splitlines(), iss)
    assert len(fails) == len(attempts), (fails, attempts)
    assert all("HTTP status 500" in r and "last good key set" in r for _, _, r in fails)

    # The IdP is back, with the old key withdrawn: the next refresh drops it.
    ip.publish_jwks("/stale/jwks", jwks(e["new"]), max_age=300)
    r = wait_for(lambda: (lambda x: x if x.status == 401 else None)(send(h, e["old"].token(iss))),
                 timeout=STALE_MISS + 3, interval=0.25)
    assert r is not None, "the old key still passes after the refresh"
    assert_invalid(r)
    assert send(h, e["new"].token(iss)).status == 200
    assert fetch_successes(h.read_error_log().splitlines(), iss)[-1] == (iss, "refresh", 300)
