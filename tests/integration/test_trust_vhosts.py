"""Trust bound to the configuration that declared it (issue 13, points 2,
3 and 7; SPEC "Trust: issuers and keys"): two virtual hosts of one httpd
that name the same issuer with different keys keep separate key sets, a
key trusted by one is never used by the other whatever order requests
come in, and an unknown kid sent to one does not change what the other
accepts. Also: a key-set document identical to the one held is not a new
version (nothing is parsed again; skipped keys are logged once per
version), and every fetch counts toward ConduktorAuthJWKSMissRefetch.

The second (and third) virtual host is written into the main server's
part of the configuration (harness global_, on the same port) and reached
with a Host header; the first is the harness's own vhost (ServerName
127.0.0.1). Tokens are minted at test time; keys "at the IdP" live in the
local TLS test IdP, which counts every fetch.
"""
import json
import os
import re
import shutil
import subprocess
import time

import pytest

import harness
from harness import ISSUER, assert_denied, protect
from idp_fixtures import (  # noqa: F401  (pki and idp are fixtures)
    PATH, UNAVAILABLE_PATTERN, LogCursor, SigningKey, fail_pattern, fetch_successes,
    idp, jwks, pki, remote_issuer)
from test_cache import cache_server  # noqa: F401  (a fixture)

STATUS = """
<Location "/conduktor-auth-status">
  SetHandler conduktor-auth-status
  Require ip 127.0.0.1
</Location>"""

A = None            # the harness's vhost: no Host header needed
B = "b.test"
C = "c.test"


def vhost(name, issuers):
    """Another <VirtualHost> on the harness's port, protected like the
    first one, with its own issuer lines and a status page."""
    return """
<VirtualHost 127.0.0.1:{port}>
  ServerName %s
%s
  ProxyPass "/conduktor-auth-status" "!"
  ProxyPass "/" "{backend}/"
  <Location "/">
%s
  </Location>
%s
</VirtualHost>""" % (name, harness.indent("\n".join(issuers), 2),
                     harness.indent(protect(), 4), harness.indent(STATUS, 2))


def get(h, token, host=A, path=PATH):
    return h.get(path, token=token, headers={"Host": host} if host else {})


def issuer_row(h, iss, host=A):
    r = get(h, None, host, "/conduktor-auth-status?format=json")
    assert r.status == 200, r
    rows = [row for row in r.json()["issuers"] if row["issuer"] == iss]
    assert len(rows) == 1, r.json()
    return rows[0]


def wait_count(ip, path, n, timeout=3.0):
    """The IdP logs a request just after answering it."""
    deadline = time.time() + timeout
    while ip.count(path) < n and time.time() < deadline:
        time.sleep(0.05)
    return ip.count(path)


def write_jwks(directory, name, *keys):
    path = os.path.join(directory, name)
    with open(path, "w") as f:
        json.dump(jwks(*keys), f)
    os.chmod(path, 0o644)
    return path


class Steps:
    """Requests with the answer each must get; every mismatch is kept (not
    just the first), so a failure names all that went wrong."""

    def __init__(self, h):
        self.h = h
        self.wrong = []

    def expect(self, what, host, token, status, error=None):
        r = get(self.h, token, host)
        got = self.h.last_access()["error"]
        if r.status != status or (error is not None and got != error):
            self.wrong.append("%s at %s: %d %s (expected %d %s)" % (
                what, host or "A", r.status, got, status, error or ""))
        elif status == 401:
            assert_denied(r, 401, "invalid_token")
        return r

    def check(self):
        assert not self.wrong, "\n".join(self.wrong)


# -- local keys (file:) ---------------------------------------------------------------------
# The validated-token cache on (shmcb, the default) and off: with it off
# only the key sets decide; with it on, a hit must not cross vhosts either.
CACHES = {"shmcb": "", "nocache": "ConduktorAuthCache none\n"}


@pytest.mark.parametrize("cache", list(CACHES))
@pytest.mark.parametrize("kids", ["same_kid", "other_kid"])
def test_local_keys_same_issuer_two_vhosts(httpd, workdir, kids, cache):
    """A staging key for a production issuer name: vhost A trusts ISSUER
    with key a, vhost B the same issuer string with key b. A token signed
    by a passes at A only, one signed by b at B only: in both orders, again
    and again (a cached acceptance at one vhost never counts at the
    other), and for tokens first seen at the wrong vhost."""
    d = harness.make_tempdir(os.path.join(workdir, "vhost-keys-"))
    ka = SigningKey("k-1")
    kb = SigningKey("k-1" if kids == "same_kid" else "k-2")
    path_a = write_jwks(d, "a.json", ka)
    path_b = write_jwks(d, "b.json", kb)
    h = httpd(protect(), issuers=["ConduktorAuthIssuer %s file:%s" % (ISSUER, path_a)],
              global_=CACHES[cache]
              + vhost(B, ["ConduktorAuthIssuer %s file:%s" % (ISSUER, path_b)]))
    refusal = "bad_signature" if kids == "same_kid" else "unknown_key"
    s = Steps(h)
    ta, tb = ka.token(ISSUER), kb.token(ISSUER)
    for i in range(3):
        s.expect("a's token (round %d)" % i, A, ta, 200)
        s.expect("a's token (round %d)" % i, B, ta, 401, refusal)
        s.expect("b's token (round %d)" % i, B, tb, 200)
        s.expect("b's token (round %d)" % i, A, tb, 401, refusal)
    # Tokens seen first where they are not trusted, then where they are,
    # then where they are not again.
    ta2, tb2 = ka.token(ISSUER), kb.token(ISSUER)
    s.expect("new a token", B, ta2, 401, refusal)
    s.expect("new b token", A, tb2, 401, refusal)
    s.expect("new a token", A, ta2, 200)
    s.expect("new b token", B, tb2, 200)
    s.expect("new a token, after A took it", B, ta2, 401, refusal)
    s.expect("new b token, after B took it", A, tb2, 401, refusal)
    s.check()


# -- remote keys ---------------------------------------------------------------------------
@pytest.mark.parametrize("cache", list(CACHES))
def test_remote_keys_same_issuer_two_jwks_urls(httpd, idp, pki, cache):
    """The same issuer string at two vhosts, each with its own JWKS URL at
    the IdP (the same kid, different keys): each vhost fetches its own set
    (counted at the IdP) and only ever accepts its own tokens; an unknown
    kid sent to A (A refetches) does not change what B accepts. The status
    page of each vhost shows its own key set."""
    ip = idp()
    iss = ip.url + "/shared"
    ka, kb, unknown = SigningKey("k-1"), SigningKey("k-1"), SigningKey("k-9")
    ip.publish_jwks("/a/jwks", jwks(ka), max_age=3600)
    ip.publish_jwks("/b/jwks", jwks(kb), max_age=3600)
    h = httpd(protect(), server=STATUS,
              issuers=remote_issuer(pki, iss, ip.url + "/a/jwks", miss=1),
              global_=CACHES[cache]
              + vhost(B, remote_issuer(pki, iss, ip.url + "/b/jwks", miss=1)))
    s = Steps(h)
    ta, tb = ka.token(iss), kb.token(iss)

    s.expect("a's token", A, ta, 200)
    s.expect("b's token", B, tb, 200)
    assert (wait_count(ip, "/a/jwks", 1), wait_count(ip, "/b/jwks", 1)) == (1, 1)
    s.expect("a's token", B, ta, 401, "bad_signature")
    s.expect("b's token", A, tb, 401, "bad_signature")

    # A refetches for an unknown kid; B's keys stay B's.
    time.sleep(1.1)
    s.expect("unknown kid", A, unknown.token(iss), 401, "unknown_key")
    assert wait_count(ip, "/a/jwks", 2) == 2, "the unknown kid did not refetch A's keys"
    for _ in range(2):
        s.expect("a's token after A's refetch", B, ka.token(iss), 401, "bad_signature")
        s.expect("b's token after A's refetch", B, kb.token(iss), 200)
        s.expect("a's token after A's refetch", A, ka.token(iss), 200)
        s.expect("b's token after A's refetch", A, kb.token(iss), 401, "bad_signature")
    # And the other way round.
    time.sleep(1.1)
    s.expect("unknown kid", B, unknown.token(iss), 401, "unknown_key")
    assert wait_count(ip, "/b/jwks", 2) == 2, "the unknown kid did not refetch B's keys"
    s.expect("a's token after B's refetch", A, ka.token(iss), 200)
    s.expect("b's token after B's refetch", A, kb.token(iss), 401, "bad_signature")
    s.expect("a's token after B's refetch", B, ka.token(iss), 401, "bad_signature")
    s.check()
    time.sleep(0.3)
    assert (ip.count("/a/jwks"), ip.count("/b/jwks")) == (2, 2), ip.entries()

    # Each vhost's status page: its own key set (fetched twice each, one key).
    ra, rb = issuer_row(h, iss, A), issuer_row(h, iss, B)
    assert (ra["fetches_ok"], ra["keys_loaded"], ra["source"]) == (2, 1, "jwks"), ra
    assert (rb["fetches_ok"], rb["keys_loaded"], rb["source"]) == (2, 1, "jwks"), rb
    # The fetch lines name where each set came from.
    ok = [l for l in h.read_error_log().splitlines() if "fetched 1 keys for issuer" in l]
    assert sum(l.endswith(" from " + ip.url + "/a/jwks") for l in ok) == 2, ok
    assert sum(l.endswith(" from " + ip.url + "/b/jwks") for l in ok) == 2, ok


def test_same_jwks_url_other_ca_file_is_another_key_set(httpd, idp, pki, workdir):
    """One issuer and JWKS URL at three vhosts that differ only in
    ConduktorAuthCAFile: A and B trust the IdP's CA (B through a copy of the
    file, so another configuration), C a CA that did not sign the IdP's
    certificate. A and B each fetch (two fetches at the IdP); C never gets
    the keys A and B fetched over a link C's configuration does not trust:
    its tokens get 503, not 200."""
    ip = idp()
    iss = ip.url + "/ca"
    url = ip.url + "/ca/jwks"
    key = SigningKey("c-1")
    ip.publish_jwks("/ca/jwks", jwks(key), max_age=3600)
    d = harness.make_tempdir(os.path.join(workdir, "vhost-ca-"))
    ca_copy = os.path.join(d, "same-ca.pem")
    shutil.copy(pki.ca_file, ca_copy)
    os.chmod(ca_copy, 0o644)

    def lines(ca):
        return ["ConduktorAuthIssuer %s %s" % (iss, url), "ConduktorAuthCAFile %s" % ca,
                "ConduktorAuthHTTPTimeout 2", "ConduktorAuthJWKSMissRefetch 60"]

    h = httpd(protect(), issuers=lines(pki.ca_file),
              global_=vhost(B, lines(ca_copy)) + vhost(C, lines(pki.rogue_ca.path)),
              expect_log=[fail_pattern(iss, "jwks"), UNAVAILABLE_PATTERN])
    s = Steps(h)
    s.expect("token", A, key.token(iss), 200)
    assert wait_count(ip, "/ca/jwks", 1) == 1
    s.expect("token", B, key.token(iss), 200)
    assert wait_count(ip, "/ca/jwks", 2) == 2, "B used the set A fetched under A's CA file"
    s.expect("token", C, key.token(iss), 503, "keys_unavailable")
    for host in (A, B):
        s.expect("token again", host, key.token(iss), 200)
    s.expect("token again", C, key.token(iss), 503, "keys_unavailable")
    s.check()
    time.sleep(0.3)
    assert ip.count("/ca/jwks") == 2, ip.entries()
    tls = ip.entries(event="tls-error")
    assert len(tls) == 1, "C's one attempt, refused at the TLS level: %r" % ip.entries(event=None)


# -- versions: an identical document is not a new one ------------------------------------------
SKIP_RE = r"\[conduktor_auth:notice\] .*key set version (\d+) of issuer %s \(from [^)]*\): .*skipped"
PARSE_RE = re.compile(r"\[pid (\d+).*parsed key set version (\d+) of issuer (\S+) in this process")


def test_identical_jwks_is_not_a_new_version(httpd, idp, pki):
    """A refetch that brings the same document back (here for an unknown
    kid) only extends its freshness: the version stays 1, no process parses
    it again and its skipped key is not logged again. A changed document is
    version 2: logged once, parsed at most once per process."""
    ip = idp()
    iss = ip.url + "/same"
    key, enc, added = SigningKey("s-1"), SigningKey("e-1"), SigningKey("s-2")
    doc = {"keys": [enc.public(use="enc", alg=None), key.public()]}
    ip.publish_jwks("/same/jwks", doc, max_age=3600)
    h = httpd(protect(), issuers=remote_issuer(pki, iss, ip.url + "/same/jwks", miss=1))

    for _ in range(6):
        assert get(h, key.token(iss)).status == 200
    time.sleep(1.1)
    cursor = LogCursor(h)
    r = get(h, SigningKey("zz").token(iss))
    assert_denied(r, 401, "invalid_token")
    assert wait_count(ip, "/same/jwks", 2) == 2, "no refetch for the unknown kid"
    for _ in range(6):
        assert get(h, key.token(iss)).status == 200
    log = h.read_error_log()
    fetched = [l for l in log.splitlines() if "fetched 1 keys for issuer %s" % iss in l]
    assert len(fetched) == 2, fetched
    assert "version 1)" in fetched[0], fetched[0]
    assert "version 1, unchanged)" in fetched[1], fetched[1]
    # (A process that had not needed the keys yet may parse version 1 now.)
    assert not [l for l in cursor.lines() if PARSE_RE.search(l)
                and PARSE_RE.search(l).group(2) != "1"], "the identical document was re-parsed"
    skips = re.findall(SKIP_RE % re.escape(iss), log)
    assert skips == ["1"], "skipped keys not logged exactly once for version 1: %r" % skips

    # A changed document: version 2, skipped key logged once more, parsed
    # at most once in each process.
    ip.publish_jwks("/same/jwks", {"keys": doc["keys"] + [added.public()]}, max_age=3600)
    time.sleep(1.1)
    assert get(h, added.token(iss)).status == 200
    for _ in range(10):
        assert get(h, key.token(iss)).status == 200
        assert get(h, added.token(iss)).status == 200
    log = h.read_error_log()
    last = fetch_successes(log.splitlines(), iss)[-1]
    assert last[1] == "unknown kid", last
    assert re.search(r"fetched 2 keys for issuer %s .*version 2\)" % re.escape(iss), log)
    assert re.findall(SKIP_RE % re.escape(iss), log) == ["1", "2"]
    parses = [(m.group(1), m.group(2)) for m in map(PARSE_RE.search, log.splitlines()) if m]
    assert len(parses) == len(set(parses)), "a process parsed one version twice: %r" % parses


# -- ConduktorAuthJWKSMissRefetch counts every fetch ------------------------------------------
def test_routine_fetch_counts_toward_miss_refetch(httpd, idp, pki):
    """README: "at most this often per issuer ... (any fetch counts)". A
    token with an unknown kid right after a regular fetch does not cause
    another one; once the interval since that fetch is over, it does."""
    miss = 3
    ip = idp()
    iss = ip.url + "/miss"
    key, unknown = SigningKey("m-1"), SigningKey("m-2")
    ip.publish_jwks("/miss/jwks", jwks(key), max_age=3600)
    h = httpd(protect(), issuers=remote_issuer(pki, iss, ip.url + "/miss/jwks", miss=miss))
    assert get(h, key.token(iss)).status == 200          # the regular (first) fetch
    first = wait_count(ip, "/miss/jwks", 1)
    t0 = ip.entries("/miss/jwks")[0].t
    assert first == 1
    for _ in range(3):
        r = get(h, unknown.token(iss))
        assert_denied(r, 401, "invalid_token")
        assert h.last_access()["error"] == "unknown_key"
    time.sleep(0.3)
    assert ip.count("/miss/jwks") == 1, \
        "an unknown kid refetched within ConduktorAuthJWKSMissRefetch of a regular fetch"
    time.sleep(max(0.0, t0 + miss + 0.2 - time.time()))
    ip.publish_jwks("/miss/jwks", jwks(key, unknown), max_age=3600)
    assert get(h, unknown.token(iss)).status == 200
    assert wait_count(ip, "/miss/jwks", 2) == 2


# -- a restart that changes the key source ------------------------------------------------------
def _generations(h):
    return len(re.findall(r"resuming normal operations", h.read_error_log()))


def test_graceful_restart_to_another_key_source(httpd, idp, pki):
    """The shared-memory slots outlive a graceful restart. When the
    configuration now names another JWKS URL for the issuer, the new
    generation starts from nothing for it: the old source's keys (and the
    tokens they verified) no longer pass, the new source is fetched."""
    ip = idp()
    iss = ip.url + "/moving"
    ka, kb = SigningKey("k-1"), SigningKey("k-1")
    ip.publish_jwks("/a/jwks", jwks(ka), max_age=3600)
    ip.publish_jwks("/b/jwks", jwks(kb), max_age=3600)
    h = httpd(protect(), issuers=remote_issuer(pki, iss, ip.url + "/a/jwks", miss=60))
    old_token = ka.token(iss)
    assert get(h, old_token).status == 200
    r = get(h, kb.token(iss))
    assert_denied(r, 401, "invalid_token")

    with open(h.conf) as f:
        text = f.read()
    with open(h.conf, "w") as f:
        f.write(text.replace(ip.url + "/a/jwks", ip.url + "/b/jwks"))
    gen = _generations(h)
    p = subprocess.run([harness.APACHE, "-f", h.conf, "-k", "graceful"],
                       env=harness._clean_env(), stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True, timeout=30)
    assert p.returncode == 0, p.stdout
    deadline = time.time() + 10
    while _generations(h) == gen and time.time() < deadline:
        time.sleep(0.1)
    assert _generations(h) > gen, "no new generation"

    deadline = time.time() + 10
    while get(h, kb.token(iss)).status != 200 and time.time() < deadline:
        time.sleep(0.2)
    s = Steps(h)
    for _ in range(3):
        s.expect("b's token after the restart", A, kb.token(iss), 200)
        s.expect("a's token after the restart", A, ka.token(iss), 401, "bad_signature")
        s.expect("a's token accepted before the restart", A, old_token, 401, "bad_signature")
    s.check()
    assert (ip.count("/a/jwks"), wait_count(ip, "/b/jwks", 1)) == (1, 1), ip.entries()


# -- key sets shared between hosts (ConduktorAuthCache) -----------------------------------------
def test_shared_key_set_is_taken_only_by_the_same_configuration(httpd, idp, pki, workdir,
                                                                cache_server):  # noqa: F811
    """Hosts sharing a Redis: a key set one host fetched is taken from the
    shared cache only by hosts whose configuration is the same (issuer, key
    source and CA file). A host that names another CA file fetches for
    itself, and one whose CA file does not trust the IdP never gets the
    keys the others fetched."""
    cache = cache_server("redis")
    ip = idp()
    iss = ip.url + "/realms/hosts"
    url = ip.url + "/realms/hosts/jwks"
    key = SigningKey("h-1")
    ip.publish_jwks("/realms/hosts/jwks", jwks(key), max_age=300)
    d = harness.make_tempdir(os.path.join(workdir, "hosts-ca-"))
    ca_copy = os.path.join(d, "same-ca.pem")
    shutil.copy(pki.ca_file, ca_copy)
    os.chmod(ca_copy, 0o644)
    took = re.compile(r"took 1 keys for issuer %s from the shared cache" % re.escape(iss))

    def host(ca, **kw):
        return httpd(protect(), global_=cache.global_conf(), issuers=[
            "ConduktorAuthIssuer %s %s" % (iss, url), "ConduktorAuthCAFile %s" % ca,
            "ConduktorAuthHTTPTimeout 2", "ConduktorAuthJWKSMissRefetch 60"], **kw)

    h1 = host(pki.ca_file)
    assert get(h1, key.token(iss)).status == 200
    assert wait_count(ip, "/realms/hosts/jwks", 1) == 1
    # The same configuration on another host: from the shared cache.
    h2 = host(pki.ca_file)
    assert get(h2, key.token(iss)).status == 200
    time.sleep(0.3)
    assert ip.count("/realms/hosts/jwks") == 1, "host 2 fetched although host 1 had"
    assert took.search(h2.read_error_log())
    # Another CA file (the same certificates): another configuration.
    h3 = host(ca_copy)
    assert get(h3, key.token(iss)).status == 200
    assert wait_count(ip, "/realms/hosts/jwks", 2) == 2, "host 3 took another binding's set"
    assert not took.search(h3.read_error_log())
    # A CA file that does not trust the IdP: never the others' keys.
    h4 = host(pki.rogue_ca.path, expect_log=[fail_pattern(iss, "jwks"), UNAVAILABLE_PATTERN])
    for _ in range(2):
        r = get(h4, key.token(iss))
        assert r.status == 503, r
        assert h4.last_access()["error"] == "keys_unavailable"
    assert not took.search(h4.read_error_log())
    time.sleep(0.3)
    assert ip.count("/realms/hosts/jwks") == 2
