"""The conduktor-auth-status handler (SPEC "Status"; issue 5): Prometheus
text and JSON (?format=json), counted across all httpd processes: requests
allowed, denied per reason, cache hits and misses, key fetches ok / failed
per issuer, keys loaded and key-set age per issuer, preflights answered.

Each test starts its own httpd, so its counters start at zero, sends a
known sequence of requests and reads the exact figures back.
"""
import http.client
import re
import time
import uuid

import harness
from harness import AUDIENCE, CLUSTERS, ISSUER, protect
from idp_fixtures import (  # noqa: F401  (pki and idp are fixtures)
    PATH, UNAVAILABLE_PATTERN, SigningKey, fail_pattern, idp, jwks, pki, remote_issuer)

STATUS = """
<Location "/conduktor-auth-status">
  SetHandler conduktor-auth-status
  Require ip 127.0.0.1
</Location>"""
ORIGIN = "https://backstage.example.test"
CORS = "ConduktorAuthCORSAllowOrigin " + ORIGIN
ADMINS = """
<Location "/admins/">
  AuthType conduktor-jwt
  AuthName "Conduktor"
  ConduktorAuthAudience %s
  Require conduktor-group admins
</Location>
<Location "/verified/">
  AuthType conduktor-jwt
  AuthName "Conduktor"
  ConduktorAuthAudience %s
  Require conduktor-claim email_verified true
</Location>""" % (AUDIENCE, AUDIENCE)

# Metric families and their types.
FAMILIES = {
    "conduktor_auth_requests_allowed_total": "counter",
    "conduktor_auth_requests_denied_total": "counter",
    "conduktor_auth_cache_hits_total": "counter",
    "conduktor_auth_cache_misses_total": "counter",
    "conduktor_auth_cache_records_rejected_total": "counter",
    "conduktor_auth_preflights_total": "counter",
    "conduktor_auth_requests_passed_total": "counter",
    "conduktor_auth_credentials_total": "counter",
    "conduktor_auth_client_credentials_total": "counter",
    "conduktor_auth_dpop_proofs_total": "counter",
    "conduktor_auth_dpop_proofs_refused_total": "counter",
    "conduktor_auth_key_fetches_total": "counter",
    "conduktor_auth_keys_loaded": "gauge",
    "conduktor_auth_key_set_age_seconds": "gauge",
}
SAMPLE = re.compile(r'^([a-zA-Z_:][\w:]*)(\{(?:[a-zA-Z_]\w*="(?:[^"\\]|\\.)*",?)*\})? '
                    r'(-?\d+(?:\.\d+)?(?:e[+-]?\d+)?)$')


# -- readers -------------------------------------------------------------------------------
def settle(h):
    """Wait until every request sent so far is in the access log. Requests
    are counted at logging time, after the client has its answer; the
    module's log_transaction hook runs before mod_log_config writes the
    line, so once the line is there the counters include the request."""
    deadline = time.time() + 5
    while len(h.access_entries()) < h._sent and time.time() < deadline:
        time.sleep(0.02)


def scrape(h):
    """The Prometheus text, checked line by line -> {"name{labels}": value}."""
    settle(h)
    r = h.get("/conduktor-auth-status")
    assert r.status == 200, r
    assert r.header("Content-Type").startswith("text/plain"), r.header("Content-Type")
    assert "version=0.0.4" in r.header("Content-Type")
    assert r.header("Cache-Control") == "no-store"
    out, helps, types = {}, set(), {}
    for line in r.text.splitlines():
        if line.startswith("# HELP "):
            helps.add(line.split()[2])
        elif line.startswith("# TYPE "):
            _, _, name, kind = line.split()
            types[name] = kind
        else:
            m = SAMPLE.match(line)
            assert m, "not Prometheus text: %r" % line
            key = m.group(1) + (m.group(2) or "")
            assert key not in out, "sample repeated: %r" % line
            assert m.group(1) in types, "sample before its # TYPE: %r" % line
            out[key] = float(m.group(3))
    assert types == FAMILIES, types
    assert helps == set(FAMILIES), helps
    return out


def status_json(h):
    settle(h)
    r = h.get("/conduktor-auth-status?format=json")
    assert r.status == 200, r
    assert r.header("Content-Type").startswith("application/json")
    assert r.header("Cache-Control") == "no-store"
    return r.json()


def denied(m):
    """{reason: count} of the denied family."""
    out = {}
    for k, v in m.items():
        mm = re.fullmatch(r'conduktor_auth_requests_denied_total\{reason="(\w+)"\}', k)
        if mm:
            out[mm.group(1)] = v
    return out


def issuer_label(iss):
    return iss.replace("\\", "\\\\").replace('"', '\\"')


def fresh_token(h, **kw):
    return h.mint(jti=uuid.uuid4().hex, **kw)


def preflight(h, origin=ORIGIN):
    return h.request("OPTIONS", "/api/x", headers={
        "Origin": origin, "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "authorization"})


# -- a known sequence, read back in both formats ---------------------------------------------------
EXPECTED_DENIED = {"no_token": 2, "bad_request": 1, "malformed_token": 1,
                   "opaque_token_refused": 2, "alg_not_allowed": 1, "bad_signature": 1,
                   "token_expired": 2, "wrong_audience": 1, "group_denied": 1,
                   "claim_denied": 1}
# Requests per credential kind in that sequence (no_token and bad_request
# carry none).
EXPECTED_KINDS = {"jwt": 12, "opaque": 2, "client_credentials": 0, "basic": 0,
                  "introspected": 0}


def known_sequence(h):
    """Send the sequence; return nothing, the counts are EXPECTED_*."""
    a, b = fresh_token(h, groups=["platform-team"]), fresh_token(h)
    for _ in range(3):                                      # 1 miss, 2 hits
        assert h.get(token=a).status == 200
    assert h.get(token=b).status == 200                     # 1 miss
    for _ in range(2):
        assert h.get().status == 401                        # no_token (no lookup)
    assert h.get(headers={"Authorization": "Bearer abc def"}).status == 401   # bad_request
    assert h.get(token="abc.def").status == 401             # opaque_token_refused (no lookup)
    assert h.get(token=fresh_token(h) + "=").status == 401  # malformed (three segments: a miss)
    assert h.get(token=fresh_token(h, key="hs")).status == 401   # HS256: alg_not_allowed (miss)
    assert h.get(token=fresh_token(h, key="rogue-rsa")).status == 401        # bad_signature (miss)
    for _ in range(2):                                      # token_expired (2 misses)
        assert h.get(token=fresh_token(h, exp=int(time.time()) - 600)).status == 401
    assert h.get(token=fresh_token(h, aud="someone-else")).status == 401     # (miss)
    # Not a JWT of a trusted issuer: opaque, refused (no lookup).
    assert h.get(token=fresh_token(h, iss="https://evil.example.test")).status == 401
    assert h.get("/admins/x", token=a).status == 403        # group_denied (hit)
    assert h.get("/verified/x", token=a).status == 403      # claim_denied (hit)
    for _ in range(2):
        assert preflight(h).status == 204                   # answered
    assert preflight(h, "https://evil.example.test").status == 403           # refused


EXPECTED = {"allowed": 4, "hits": 4, "misses": 8, "answered": 2, "refused": 1}


def test_prometheus_after_a_known_sequence(httpd):
    h = httpd(protect(CORS), server=STATUS + ADMINS)
    zero = scrape(h)
    assert zero["conduktor_auth_requests_allowed_total"] == 0
    assert set(denied(zero).values()) == {0}
    known_sequence(h)
    m = scrape(h)
    assert m["conduktor_auth_requests_allowed_total"] == EXPECTED["allowed"]
    got = denied(m)
    assert set(EXPECTED_DENIED) <= set(got), "reasons missing: %s" % (set(EXPECTED_DENIED) - set(got))
    assert "ok" not in got, "ok is not a reason for a refusal"
    assert {k: v for k, v in got.items() if v} == EXPECTED_DENIED
    assert m["conduktor_auth_cache_hits_total"] == EXPECTED["hits"]
    assert m["conduktor_auth_cache_misses_total"] == EXPECTED["misses"]
    assert m["conduktor_auth_cache_records_rejected_total"] == 0
    assert m['conduktor_auth_preflights_total{result="answered"}'] == EXPECTED["answered"]
    assert m['conduktor_auth_preflights_total{result="refused"}'] == EXPECTED["refused"]
    for kind, n in EXPECTED_KINDS.items():
        assert m['conduktor_auth_credentials_total{kind="%s"}' % kind] == n, kind
    assert m["conduktor_auth_requests_passed_total"] == 0
    iss = issuer_label(ISSUER)
    assert m['conduktor_auth_keys_loaded{issuer="%s",source="file"}' % iss] == 4
    assert m['conduktor_auth_key_fetches_total{issuer="%s",result="ok"}' % iss] == 0
    assert m['conduktor_auth_key_fetches_total{issuer="%s",result="failed"}' % iss] == 0
    assert 0 <= m['conduktor_auth_key_set_age_seconds{issuer="%s"}' % iss] < 600

    # Reading the status page counts nothing.
    again = scrape(h)
    for k, v in m.items():
        if "key_set_age_seconds" not in k:
            assert again[k] == v, k


def test_json_after_the_same_sequence(httpd):
    h = httpd(protect(CORS), server=STATUS + ADMINS)
    known_sequence(h)
    doc = status_json(h)
    assert set(doc) == {"allowed", "denied", "cache", "preflights", "passed", "credentials",
                        "client_credentials", "dpop", "issuers", "introspection"}, doc.keys()
    assert doc["introspection"] == []        # no ConduktorAuthIntrospect here
    assert doc["credentials"] == EXPECTED_KINDS
    assert doc["passed"] == 0
    assert doc["allowed"] == EXPECTED["allowed"]
    assert {k: v for k, v in doc["denied"].items() if v} == EXPECTED_DENIED
    assert doc["cache"] == {"hits": EXPECTED["hits"], "misses": EXPECTED["misses"],
                            "records_rejected": 0}
    assert doc["preflights"] == {"answered": EXPECTED["answered"],
                                 "refused": EXPECTED["refused"]}
    (row,) = doc["issuers"]
    assert row["issuer"] == ISSUER and row["source"] == "file"
    assert row["keys_loaded"] == 4      # rsa-1 ec-1 ed-1 rsa-ps; not rsa-enc
    assert (row["fetches_ok"], row["fetches_failed"]) == (0, 0)
    assert isinstance(row["key_set_age_seconds"], int) and row["key_set_age_seconds"] >= 0

    # Both formats tell the same.
    m = scrape(h)
    assert denied(m) == {k: float(v) for k, v in doc["denied"].items()}
    assert m["conduktor_auth_requests_allowed_total"] == doc["allowed"]


def test_counts_across_processes(httpd):
    # prefork: three connections held open at once are served by three
    # processes, so the counters must be shared to add up.
    h = httpd(protect(CORS), server=STATUS, mpm="prefork",
              global_="StartServers 4\nMinSpareServers 4")
    tok = fresh_token(h)
    conns = [http.client.HTTPConnection("127.0.0.1", h.port, timeout=10) for _ in range(3)]
    for _ in range(4):
        for c in conns:
            c.request("GET", CLUSTERS, headers={"Authorization": "Bearer " + tok})
            r = c.getresponse()
            r.read()
            assert r.status == 200
    for c in conns:
        c.close()
    h._sent += 12
    for _ in range(5):
        assert h.get().status == 401
    for _ in range(3):
        assert h.get(token=fresh_token(h, exp=int(time.time()) - 600)).status == 401
    for _ in range(2):
        assert preflight(h).status == 204
    assert len({e["pid"] for e in h.access_entries()[:12]}) == 3
    m = scrape(h)
    assert m["conduktor_auth_requests_allowed_total"] == 12
    assert m['conduktor_auth_requests_denied_total{reason="no_token"}'] == 5
    assert m['conduktor_auth_requests_denied_total{reason="token_expired"}'] == 3
    assert m['conduktor_auth_preflights_total{result="answered"}'] == 2
    # One token on three processes: verified once (shmcb), found 11 times.
    assert m["conduktor_auth_cache_misses_total"] == 1 + 3
    assert m["conduktor_auth_cache_hits_total"] == 11


def test_remote_issuers_fetches_keys_and_age(httpd, idp, pki):
    ip = idp()
    iss_ok = ip.url + "/ok"
    k1, k2 = SigningKey("k1"), SigningKey("k2", kty="RSA")
    ip.publish_jwks("/ok/keys", jwks(k1, k2), max_age=300)
    down_port = harness.free_port()                   # nothing listens there
    iss_down = "https://127.0.0.1:%d/down" % down_port
    h = httpd(protect(), server=STATUS,
              issuers=remote_issuer(pki, iss_ok, ip.url + "/ok/keys", timeout=2, miss=60)
              + ["ConduktorAuthIssuer %s %s/keys" % (iss_down, iss_down)],
              expect_log=[fail_pattern(iss_down), UNAVAILABLE_PATTERN])
    assert h.get(PATH, token=k1.token(iss_ok)).status == 200
    assert h.get(PATH, token=k2.token(iss_ok)).status == 200
    assert h.get(PATH, token=k1.token(iss_down)).status == 503

    m = scrape(h)
    ok, down = issuer_label(iss_ok), issuer_label(iss_down)
    fetched = ip.count("/ok/keys")
    assert fetched >= 1
    assert m['conduktor_auth_key_fetches_total{issuer="%s",result="ok"}' % ok] == fetched
    assert m['conduktor_auth_key_fetches_total{issuer="%s",result="failed"}' % ok] == 0
    assert m['conduktor_auth_keys_loaded{issuer="%s",source="jwks"}' % ok] == 2
    age = m['conduktor_auth_key_set_age_seconds{issuer="%s"}' % ok]
    assert 0 <= age < 60
    assert m['conduktor_auth_key_fetches_total{issuer="%s",result="ok"}' % down] == 0
    assert m['conduktor_auth_key_fetches_total{issuer="%s",result="failed"}' % down] >= 1
    assert m['conduktor_auth_keys_loaded{issuer="%s",source="jwks"}' % down] == 0
    assert 'conduktor_auth_key_set_age_seconds{issuer="%s"}' % down not in m, \
        "an age for a key set never obtained"
    assert m['conduktor_auth_requests_denied_total{reason="keys_unavailable"}'] == 1
    assert m["conduktor_auth_requests_allowed_total"] == 2
    # file issuer of the harness default is not configured here
    assert not any(issuer_label(ISSUER) in k for k in m)

    time.sleep(2.1)
    assert scrape(h)['conduktor_auth_key_set_age_seconds{issuer="%s"}' % ok] >= age + 2

    doc = status_json(h)
    rows = {r["issuer"]: r for r in doc["issuers"]}
    assert set(rows) == {iss_ok, iss_down}
    assert rows[iss_ok]["source"] == "jwks" and rows[iss_ok]["keys_loaded"] == 2
    assert rows[iss_ok]["fetches_ok"] == fetched and rows[iss_ok]["fetches_failed"] == 0
    assert rows[iss_ok]["key_set_age_seconds"] >= age + 2
    assert rows[iss_down]["fetches_ok"] == 0 and rows[iss_down]["fetches_failed"] >= 1
    assert rows[iss_down]["keys_loaded"] == 0
    assert rows[iss_down]["key_set_age_seconds"] is None


def test_status_is_not_proxied_and_needs_no_token(httpd, backend):
    h = httpd(protect(), server=STATUS)
    before = len(backend.requests())
    scrape(h)
    status_json(h)
    assert len(backend.requests()) == before


def test_status_answers_get_only(httpd):
    h = httpd(protect(), server=STATUS)
    r = h.request("POST", "/conduktor-auth-status", body="x")
    assert r.status == 405, r
    assert status_json(h)["allowed"] == 0
