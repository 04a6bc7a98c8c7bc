"""What the shared cache holds is bound and sealed (SPEC "Caches and scale";
issue 13 point 4), tried as an attacker who can write to the cache would.

Two httpd hosts share a real redis-server with one ConduktorAuthCacheSecret
file. The test knows that secret, so it can compute the lookup name of any
token (HKDF-SHA256 + HMAC-SHA256, written here again with python3-
cryptography) and put bytes exactly where the module will look: it plants
records, flips bytes of real ones, copies one token's record under another
token's name, and reads every value for personal data. Each attack is
followed by a valid token on the same servers, which still passes.
"""
import hashlib
import hmac
import os
import struct
import time
import uuid

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

import harness
from harness import assert_denied, headers_named, protect
from idp_fixtures import (  # noqa: F401  (pki and idp are fixtures)
    SigningKey, idp, idp_server, jwks, pki, remote_issuer, send)
from test_cache import (STATUS, cache_server, counters, entry, fresh_token,  # noqa: F401
                        make_secret_file, shared_httpd)

NAMESPACE = b"conduktor-auth-tokens:"     # mod_socache_redis's key prefix


def rejected(h):
    r = h.get("/conduktor-auth-status?format=json")
    assert r.status == 200, r
    return r.json()["cache"]["records_rejected"]


def lookup_name(secret, token):
    """The module's lookup name of a token (src/core/seal.c)."""
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"mod_conduktor_auth cache v1",
               info=b"lookup name key").derive(secret)
    return hmac.new(key, b"T" + token.encode(), hashlib.sha256).digest()


class Redis:
    """Raw RESP access to the test's redis-server (the attacker's view)."""

    def __init__(self, cache):
        self.cache = cache

    def _cmd(self, *args):
        out = b"*%d\r\n" % len(args)
        for a in args:
            a = a if isinstance(a, bytes) else str(a).encode()
            out += b"$%d\r\n%s\r\n" % (len(a), a)
        return out

    def _bulk_done(self, b):
        if not b.endswith(b"\r\n"):
            return False
        if b.startswith(b"$-1") or not b.startswith(b"$"):
            return True
        n = int(b[1:b.index(b"\r\n")])
        return len(b) >= b.index(b"\r\n") + 2 + n + 2

    def keys(self):
        reply = self.cache._talk(self._cmd(b"KEYS", b"*"),
                                 lambda b: b.endswith(b"\r\n") and
                                 b.count(b"\r\n") >= 1 + 2 * int(b[1:b.index(b"\r\n")]))
        lines = reply.split(b"\r\n")
        return [line for line in lines[1:] if line and not line.startswith(b"$")]

    def get(self, key):
        reply = self.cache._talk(self._cmd(b"GET", key), self._bulk_done)
        if reply.startswith(b"$-1"):
            return None
        head = reply.index(b"\r\n")
        n = int(reply[1:head])
        return reply[head + 2:head + 2 + n]

    def set(self, key, value, ttl=300):
        reply = self.cache._talk(self._cmd(b"SET", key, value, b"EX", ttl),
                                 lambda b: b.endswith(b"\r\n"))
        assert reply.startswith(b"+OK"), reply


def token_key(secret, token):
    return NAMESPACE + lookup_name(secret, token).hex().encode()


@pytest.fixture
def pair(httpd, cache_server):
    """Two hosts sharing one redis and one secret; (h1, h2, redis, secret)."""
    cache = cache_server("redis")
    with open(cache.secret_file, "rb") as f:
        secret = f.read()
    h1 = shared_httpd(httpd, cache, location=protect(
        'ConduktorAuthIdentityHeader groups X-Auth-Groups'))
    h2 = shared_httpd(httpd, cache, location=protect(
        'ConduktorAuthIdentityHeader groups X-Auth-Groups'))
    return h1, h2, Redis(cache), secret, cache


def test_the_module_looks_where_the_test_computes(pair):
    """The test's own name computation matches the module's (else every
    attack below would miss for the wrong reason)."""
    h1, h2, redis, secret, _ = pair
    tok = fresh_token(h1)
    assert h1.get(token=tok).status == 200
    assert redis.get(token_key(secret, tok)) is not None, redis.keys()
    # And the name is not the plain SHA-256 of the token (usable offline).
    assert redis.get(NAMESPACE + hashlib.sha256(tok.encode()).hexdigest().encode()) is None


def test_planted_records_never_log_anyone_in(pair):
    """The review's attack: a record written under the name of
    `Bearer letmein` (or of a forged JWS) in the old clear format, or with
    the seal's magic and a made-up tag, logs nobody in."""
    h1, h2, redis, secret, _ = pair
    claims = (b'{"iss":"%s","aud":"%s","exp":%d,"email":"mallory@evil.test",'
              b'"groups":["kafka-admins"]}' % (harness.ISSUER.encode(), harness.AUDIENCE.encode(),
                                                int(time.time()) + 3600))
    clear_v2 = b"CKR2" + bytes([1, 0, 0]) + claims
    clear_v3 = (b"CKR3" + bytes([1]) + struct.pack(">Q", int(time.time()) + 3600)
                + bytes(64) + bytes([0, 0]) + claims)
    fake_seal = b"CKS1" + os.urandom(12) + clear_v3 + os.urandom(16)
    good = fresh_token(h1)
    forged = good.rsplit(".", 1)[0] + "." + "A" * 342          # JWS-shaped, bad signature
    for cred in ("letmein", forged):
        for value in (clear_v2, clear_v3, fake_seal):
            for key in (token_key(secret, cred),
                        NAMESPACE + hashlib.sha256(cred.encode()).hexdigest().encode()):
                redis.set(key, value)
            r = h2.get(token=cred)
            assert_denied(r, 401, "invalid_token")
            assert entry(h2)["remote_user"] == "-"
            assert "mallory" not in r.text
    # The forged JWS's planted (unopenable) records were found and rejected;
    # "letmein" is not shaped like a JWS, so it is never looked up at all.
    assert rejected(h2) == 3
    assert h2.get(token=good).status == 200


def test_flipped_byte_anywhere_is_a_miss(pair):
    """A real record with one byte changed (magic, nonce, body, tag) does
    not open: counted as rejected, the token is verified in full (a valid
    one still passes, and nothing of the changed record is used)."""
    h1, h2, redis, secret, _ = pair
    for pos in (0, 5, 20, 60, -17, -1):
        tok = fresh_token(h1, groups=["readers"])
        assert h1.get(token=tok).status == 200
        key = token_key(secret, tok)
        value = bytearray(redis.get(key))
        value[pos] ^= 0x20
        redis.set(key, bytes(value))
        before = rejected(h2), counters(h2)
        r = h2.get(token=tok)
        assert r.status == 200, r
        assert rejected(h2) == before[0] + 1, pos
        hits, misses = counters(h2)
        assert (hits, misses) == (before[1][0], before[1][1] + 1), pos
        assert entry(h2)["groups"] == "readers"


def test_a_record_copied_to_another_token_is_refused(pair):
    """Alice's sealed record copied under Bob's name (and under a forged
    token's name) does not open there: Bob stays Bob, the forgery stays
    refused."""
    h1, h2, redis, secret, _ = pair
    alice = fresh_token(h1, email="alice@example.test", groups=["kafka-admins"])
    bob = fresh_token(h1, email="bob@example.test", groups=["readers"])
    assert h1.get(token=alice).status == 200
    assert h1.get(token=bob).status == 200
    alice_rec = redis.get(token_key(secret, alice))
    redis.set(token_key(secret, bob), alice_rec)
    r = h2.get(token=bob)
    assert r.status == 200, r
    e = entry(h2)
    assert (e["email"], e["groups"]) == ("bob@example.test", "readers")
    assert headers_named(r.echo, "X-Auth-Groups") == ["readers"]
    forged = bob.rsplit(".", 1)[0] + "." + "A" * 342
    redis.set(token_key(secret, forged), alice_rec)
    assert_denied(h2.get(token=forged), 401, "invalid_token")
    assert entry(h2)["error"] == "bad_signature"
    assert rejected(h2) == 2


def test_a_host_with_another_secret_opens_nothing(httpd, cache_server):
    """A host configured with another secret on the same cache (or an old
    one after rotation) finds nothing usable: every token verified in full,
    each record found counted as rejected, never a login."""
    cache = cache_server("redis")
    h1 = shared_httpd(httpd, cache)
    other = make_secret_file(cache.dir)
    h3 = shared_httpd(httpd, cache, secret=other)
    tok = fresh_token(h1)
    assert h1.get(token=tok).status == 200
    assert h3.get(token=tok).status == 200
    assert counters(h3) == (0, 1)
    # h3 has a name key of its own: it looks under another name and finds
    # nothing (rejected 0), or a record it cannot open (rejected 1) — never
    # a hit.
    assert rejected(h3) in (0, 1)


def test_every_value_is_free_of_personal_data(pair):
    """A reader of the cache learns nothing about who is logged in: no
    email, group, subject, issuer or claim value, token or token hash, in
    any key or value."""
    h1, h2, redis, secret, _ = pair
    toks = [fresh_token(h1, email="carol.%d@corp.example" % i, sub="sub-%d-xyz" % i,
                        groups=["grp-secret-%d" % i, "kafka-admins"]) for i in range(3)]
    for t in toks:
        assert h1.get(token=t).status == 200
    keys = redis.keys()
    assert len(keys) >= 3, keys
    blob = (b"".join(k[len(NAMESPACE):] if k.startswith(NAMESPACE) else k for k in keys)
            + b"".join(redis.get(k) or b"" for k in keys))
    needles = [b"carol", b"corp.example", b"grp-secret", b"kafka-admins", b"sub-0-xyz",
               harness.ISSUER.encode(), harness.AUDIENCE.encode()]
    for t in toks:
        needles += [t.encode(), t.split(".")[2][:24].encode(),
                    hashlib.sha256(t.encode()).digest(),
                    hashlib.sha256(t.encode()).hexdigest().encode()]
    for n in needles:
        assert n not in blob, n


def test_a_read_never_extends_the_ttl(httpd, cache_server):
    """ConduktorAuthCacheTTL counts from the first validation: a host that
    reads the record later keeps it only for what is left (the old code
    kept it for a whole TTL from the read)."""
    cache = cache_server("redis")
    glob_ttl = "ConduktorAuthCacheTTL 4"
    h1 = httpd(protect(), server=STATUS, global_=cache.global_conf() + "\n" + glob_ttl)
    h2 = httpd(protect(), server=STATUS, global_=cache.global_conf() + "\n" + glob_ttl)
    tok = fresh_token(h1)
    t0 = time.time()
    assert h1.get(token=tok).status == 200
    time.sleep(max(0, t0 + 2.2 - time.time()))
    assert h2.get(token=tok).status == 200
    assert counters(h2) == (1, 0), "host 2 did not read the shared record"
    time.sleep(max(0, t0 + 5.2 - time.time()))
    assert h2.get(token=tok).status == 200
    assert counters(h2) == (1, 1), "host 2 kept the record past the first validation's TTL"


def test_cache_secret_directive_errors(apachectl_t, workdir):
    """A network cache without a secret, and secret files that are too
    short or readable by others, are refused when the configuration is read,
    naming the directive."""
    redis_mod = ("LoadModule socache_redis_module %s/mod_socache_redis.so\n"
                 "ConduktorAuthCache redis:127.0.0.1:1" % harness.MODDIR)
    rc, out = apachectl_t(location=protect(), global_=redis_mod)
    assert rc != 0 and "ConduktorAuthCacheSecret" in out and "required" in out, out
    d = harness.make_tempdir(os.path.join(workdir, "sec-"))
    short = make_secret_file(d, b"x" * 31)
    loose = make_secret_file(d, os.urandom(32))
    os.chmod(loose, 0o644)
    for path, words in ((short, "32"), (loose, "chmod 600"),
                        (os.path.join(d, "missing"), "cannot open")):
        rc, out = apachectl_t(location=protect(),
                              global_=redis_mod + "\nConduktorAuthCacheSecret file:" + path)
        assert rc != 0 and "ConduktorAuthCacheSecret" in out and words in out, out
        assert "x" * 16 not in out, "the secret's content is in the error"
    rc, out = apachectl_t(location=protect(), global_="ConduktorAuthCacheSecret " + short)
    assert rc != 0 and "file:" in out, out
    good = make_secret_file(d)
    rc, out = apachectl_t(location=protect(),
                          global_=redis_mod + "\nConduktorAuthCacheSecret file:" + good)
    assert rc == 0, out


def test_a_withdrawn_key_retires_its_cached_kidless_tokens(httpd, idp, pki):  # noqa: F811
    """A kid-less token signed with a key the IdP has since withdrawn stops
    passing at once, although another key of the same type remains (the
    cache record names the very key, by thumbprint; the old check only asked
    for "a key of that type")."""
    ip = idp()
    iss = ip.url + "/realms/rotate"
    old, other, newer = SigningKey("k-old"), SigningKey("k-other"), SigningKey("k-newer")
    path = ip.publish_discovery(iss)
    ip.publish_jwks(path, jwks(old, other), max_age=3600)
    h = httpd(protect(), server=STATUS, issuers=remote_issuer(pki, iss, miss=1))
    tok = old.token(iss, kid=None)
    assert send(h, tok).status == 200
    assert send(h, tok).status == 200
    assert counters(h)[0] >= 1, "the kid-less token was not served from the cache"
    # The IdP withdraws the old key; a token with a new kid makes the module
    # refetch (once the MissRefetch second is over).
    ip.publish_jwks(path, jwks(other, newer), max_age=3600)
    time.sleep(1.1)
    assert send(h, newer.token(iss)).status == 200
    r = send(h, tok)
    assert_denied(r, 401, "invalid_token")
    assert h.last_access()["error"] == "bad_signature", h.last_access()
    # The remaining keys still work, with and without kid.
    assert send(h, other.token(iss, kid=None)).status == 200
    assert send(h, other.token(iss)).status == 200
