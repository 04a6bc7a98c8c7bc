"""Key sets shared between hosts through ConduktorAuthCache (SPEC "Caches
and scale": the shared cache holds validated tokens *and fetched key sets*).

Two or three httpd instances (the "hosts") share a real redis-server or
memcached and trust one issuer whose keys come from the TLS test IdP. The
first host to need the keys fetches them from the IdP and puts the
document in the shared cache; the others take it from there, parse it
with the same strict parser, and never contact the IdP while it is fresh.
A host started while the IdP is down still gets the keys. A garbled entry
in the shared cache is ignored (the host fetches from the IdP itself).
"""
import re
import time

import pytest

from harness import protect
from idp_fixtures import (  # noqa: F401  (pki and idp are fixtures)
    PATH, SigningKey, fail_pattern, fetch_failures, idp, jwks, pki, remote_issuer, send)
from test_cache import SOCACHE_MODULE, STATUS, cache_server  # noqa: F401 (fixture)

JWKS_PATH = "/realms/shared/jwks"
TOOK_RE = r"\[conduktor_auth:info\] .*took 1 keys for issuer %s from the shared cache"


def host(httpd, cache, pki, iss, ip, **kw):  # noqa: F811
    glob = cache.global_conf()
    return httpd(protect(), server=STATUS, global_=glob,
                 issuers=remote_issuer(pki, iss, ip.url + JWKS_PATH, timeout=5, miss=60),
                 **kw)


def issuer_status(h, iss):
    r = h.get("/conduktor-auth-status?format=json")
    assert r.status == 200, r
    rows = [row for row in r.json()["issuers"] if row["issuer"] == iss]
    assert len(rows) == 1, r.json()
    return rows[0]


def wait_idp_count(ip, path, n, timeout=3.0):
    """The IdP logs a request just after answering it."""
    deadline = time.time() + timeout
    while ip.count(path) < n and time.time() < deadline:
        time.sleep(0.05)
    return ip.count(path)


@pytest.mark.parametrize("kind", ["redis", "memcache"])
def test_key_set_fetched_by_one_host_serves_the_others(httpd, idp, pki, cache_server, kind):  # noqa: F811
    cache = cache_server(kind)
    ip = idp()
    iss = ip.url + "/realms/shared"
    key = SigningKey("sh-1")
    ip.publish_jwks(JWKS_PATH, jwks(key), max_age=300)
    h1 = host(httpd, cache, pki, iss, ip)
    h2 = host(httpd, cache, pki, iss, ip)

    assert send(h1, key.token(iss)).status == 200
    assert wait_idp_count(ip, JWKS_PATH, 1) == 1
    s1 = issuer_status(h1, iss)
    assert (s1["fetches_ok"], s1["from_shared_cache"]) == (1, 0), s1

    # Host 2 finds the set host 1 fetched: the IdP sees no second fetch.
    r = send(h2, key.token(iss))
    assert r.status == 200, r
    time.sleep(0.3)
    assert ip.count(JWKS_PATH) == 1, "host 2 fetched the keys from the IdP itself"
    s2 = issuer_status(h2, iss)
    assert (s2["fetches_ok"], s2["fetches_failed"], s2["from_shared_cache"],
            s2["keys_loaded"]) == (0, 0, 1, 1), s2
    assert s2["key_set_age_seconds"] is not None and s2["key_set_age_seconds"] <= 5, s2
    assert re.search(TOOK_RE % re.escape(iss), h2.read_error_log()), h2.read_error_log()[-2000:]

    # Keys from the shared cache verify like any others: a token signed by
    # another key under the published kid is refused.
    rogue = SigningKey("sh-1")
    r = send(h2, rogue.token(iss))
    assert r.status == 401, r

    # The IdP goes down; a host started now still gets the keys.
    ip.stop()
    h3 = host(httpd, cache, pki, iss, ip)
    r = send(h3, key.token(iss))
    assert r.status == 200, r
    s3 = issuer_status(h3, iss)
    assert (s3["fetches_ok"], s3["fetches_failed"], s3["from_shared_cache"]) == (0, 0, 1), s3
    assert fetch_failures(h3.read_error_log().splitlines(), iss) == []


def test_garbled_shared_entry_is_ignored(httpd, idp, pki, cache_server):  # noqa: F811
    """What the shared cache returns is sealed, framed and parsed strictly:
    an entry that does not open with the cache secret makes the host fetch
    from the IdP itself (and say so), never a crash or a 5xx."""
    cache = cache_server("redis")
    ip = idp()
    iss = ip.url + "/realms/shared"
    key = SigningKey("sh-2")
    ip.publish_jwks(JWKS_PATH, jwks(key), max_age=300)
    h1 = host(httpd, cache, pki, iss, ip)
    assert send(h1, key.token(iss)).status == 200
    assert wait_idp_count(ip, JWKS_PATH, 1) == 1

    # Redis holds the key set and the validated token, both sealed; every
    # entry is overwritten with junk (a writer to the cache).
    names = cache._talk(b"KEYS *\r\n", lambda b: b.count(b"\r\n") >= 1 + 2 * 2)
    keys = [n for n in names.split(b"\r\n")[1:] if n and not n.startswith(b"$")]
    assert len(keys) == 2, keys
    junk = b"not a key set record"
    for k in keys:
        reply = cache._talk(b"*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n"
                            % (len(k), k, len(junk), junk),
                            lambda b: b.endswith(b"\r\n"))
        assert reply.startswith(b"+OK"), reply

    h2 = host(httpd, cache, pki, iss, ip, expect_log=[
        r"\[conduktor_auth:warn\] .*shared cache .*: a key-set record does not open with "
        r"this ConduktorAuthCacheSecret"])
    r = send(h2, key.token(iss))
    assert r.status == 200, r
    assert wait_idp_count(ip, JWKS_PATH, 2) == 2, "host 2 did not fetch the keys itself"
    s2 = issuer_status(h2, iss)
    assert (s2["fetches_ok"], s2["from_shared_cache"]) == (1, 0), s2
    assert re.search(r"a key-set record does not open with this ConduktorAuthCacheSecret",
                     h2.read_error_log())
