"""The credential sorted by the token cache (issue 24): a credential the
validated-token cache holds - made by this server's configuration of one of
its trusted issuers, with a key still in that issuer's set - is a JWT of a
trusted issuer without being decoded and parsed again; anything else goes
through the full sorting, so a hit made elsewhere never changes the kind a
credential sorts to here.

Two virtual hosts of one httpd share the shared cache (shmcb, the
default): A (the harness's) trusts ISSUER, B trusts only another issuer and
passes opaque credentials on (ConduktorAuthOpaqueTokens pass). A token of
ISSUER is a JWT at A - from the cache once A has verified it - and stays
opaque at B whether A cached it before or not: at B its issuer is not
trusted, which is what the full sorting finds. (The same issuer with
other keys at another vhost: test_trust_vhosts.py's
test_local_keys_same_issuer_two_vhosts, with the cache on.)
"""
import re

from harness import ISSUER, protect

OTHER = "https://other-idp.test/realms/elsewhere"
LINE = re.compile(r"credential sorted by the token cache: a JWT of trusted issuer (\S+)")


def vhost_b():
    return """
<VirtualHost 127.0.0.1:{port}>
  ServerName b.test
  ConduktorAuthIssuer %s file:{keys}/jwks.json
  ProxyPass "/" "{backend}/"
  <Location "/">
    AuthType conduktor-jwt
    AuthName "Conduktor"
    ConduktorAuthAudience {audience}
    ConduktorAuthOpaqueTokens pass
    Require conduktor-credential opaque
  </Location>
</VirtualHost>""" % OTHER


def sorted_by_cache(h):
    return LINE.findall(h.read_error_log())


def test_cached_jwt_sorted_by_the_cache_only_where_its_issuer_is_trusted(httpd):
    h = httpd(protect(), global_=vhost_b(), log_env=["CONDUKTOR_AUTH_CREDENTIAL"])
    tok = h.mint()

    # B first: not yet cached anywhere; ISSUER is not trusted at B, so the
    # full sorting makes it opaque, passed on.
    r = h.get(token=tok, headers={"Host": "b.test"})
    assert r.status == 200, r
    assert h.last_access()["env:CONDUKTOR_AUTH_CREDENTIAL"] == "opaque"
    assert sorted_by_cache(h) == []

    # A: a miss (full sorting, full verification), then hits: sorted by
    # the cache, still a JWT.
    r = h.get(token=tok)
    assert r.status == 200, r
    assert h.last_access()["env:CONDUKTOR_AUTH_CREDENTIAL"] == "jwt"
    assert sorted_by_cache(h) == []
    for i in range(3):
        r = h.get(token=tok)
        assert r.status == 200, r
        assert h.last_access()["env:CONDUKTOR_AUTH_CREDENTIAL"] == "jwt"
    assert sorted_by_cache(h) == [ISSUER] * 3

    # B again, with A's record in the shared cache and in the front of the
    # child that served A: its issuer is not one of B's, so the record
    # counts for nothing and the kind is what the full sorting says.
    for i in range(3):
        r = h.get(token=tok, headers={"Host": "b.test"})
        assert r.status == 200, r
        assert h.last_access()["env:CONDUKTOR_AUTH_CREDENTIAL"] == "opaque"
    assert sorted_by_cache(h) == [ISSUER] * 3


def test_refused_token_is_never_sorted_by_the_cache(httpd):
    """A token with a bad signature is never cached, so every request sorts
    it in full (a JWT of a trusted issuer, refused), never from the cache."""
    h = httpd(protect(), log_env=["CONDUKTOR_AUTH_CREDENTIAL"])
    good = h.mint()
    head, payload, sig = good.split(".")
    bad = ".".join([head, payload, sig[:-4] + ("AAAA" if sig[-4:] != "AAAA" else "BBBB")])
    for i in range(3):
        r = h.get(token=bad)
        assert r.status == 401, r
        assert h.last_access()["env:CONDUKTOR_AUTH_CREDENTIAL"] == "jwt"
    assert sorted_by_cache(h) == []

