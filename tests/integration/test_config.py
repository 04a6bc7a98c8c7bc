"""Configuration is validated when read: `apache2 -t` refuses a bad value
and names the directive and the value (SPEC "Directives")."""
import pytest

from harness import ISSUER, protect

GOOD_ISSUER = "ConduktorAuthIssuer %s file:{keys}/jwks.json" % ISSUER

# (id, where, snippet, words the error must contain)
#   where: "location" (inside the protected <Location>), "server" (vhost)
#   or "global" (main server config).
BAD = [
    ("unknown_algorithm", "server", "ConduktorAuthAlgorithms RS256 XY999",
     ["ConduktorAuthAlgorithms", "XY999"]),
    ("algorithm_none", "server", "ConduktorAuthAlgorithms none",
     ["ConduktorAuthAlgorithms", "none"]),
    ("algorithm_wrong_case", "server", "ConduktorAuthAlgorithms rs256",
     ["ConduktorAuthAlgorithms", "rs256"]),
    ("skew_not_a_number", "location", "ConduktorAuthClockSkew abc",
     ["ConduktorAuthClockSkew", "abc"]),
    ("skew_trailing_junk", "location", "ConduktorAuthClockSkew 10x",
     ["ConduktorAuthClockSkew", "10x"]),
    ("skew_negative", "location", "ConduktorAuthClockSkew -1",
     ["ConduktorAuthClockSkew", "-1"]),
    ("refresh_not_a_number", "server", "ConduktorAuthJWKSRefresh soon",
     ["ConduktorAuthJWKSRefresh", "soon"]),
    ("miss_refetch_negative", "server", "ConduktorAuthJWKSMissRefetch -60",
     ["ConduktorAuthJWKSMissRefetch", "-60"]),
    ("timeout_not_a_number", "server", "ConduktorAuthHTTPTimeout fast",
     ["ConduktorAuthHTTPTimeout", "fast"]),
    ("timeout_huge", "server", "ConduktorAuthHTTPTimeout 99999999999999999999",
     ["ConduktorAuthHTTPTimeout"]),
    ("cache_ttl_negative", "global", "ConduktorAuthCacheTTL -5",
     ["ConduktorAuthCacheTTL", "-5"]),
    ("cache_unknown_provider", "global", "ConduktorAuthCache nosuchcache",
     ["ConduktorAuthCache", "nosuchcache"]),
    ("missing_key_file", "server", "ConduktorAuthIssuer https://x.test file:/nonexistent/jwks.json",
     ["ConduktorAuthIssuer", "/nonexistent/jwks.json"]),
    ("key_file_not_keys", "server", "ConduktorAuthIssuer https://x.test file:/etc/hostname",
     ["ConduktorAuthIssuer", "/etc/hostname"]),
    ("key_url_plain_http", "server", "ConduktorAuthIssuer https://x.test http://x.test/jwks",
     ["ConduktorAuthIssuer", "http://x.test/jwks"]),
    ("key_source_unknown_scheme", "server", "ConduktorAuthIssuer https://x.test ftp://x.test/jwks",
     ["ConduktorAuthIssuer", "ftp://x.test/jwks"]),
    ("issuer_in_location", "location", GOOD_ISSUER, ["ConduktorAuthIssuer"]),
    ("audience_star_mixed", "location", "ConduktorAuthAudience * conduktor",
     ["ConduktorAuthAudience", "*"]),
    ("forward_token_not_a_flag", "location", "ConduktorAuthForwardToken Maybe",
     ["ConduktorAuthForwardToken"]),
    ("identity_field_unknown", "location", "ConduktorAuthIdentityHeader nickname X-Nick",
     ["ConduktorAuthIdentityHeader", "nickname"]),
    ("identity_header_bad_name", "location", 'ConduktorAuthIdentityHeader user "X User"',
     ["ConduktorAuthIdentityHeader", "X User"]),
    ("identity_claim_empty_path", "location", "ConduktorAuthIdentityHeader claim: X-C",
     ["ConduktorAuthIdentityHeader"]),
    ("separator_empty", "location", 'ConduktorAuthGroupsSeparator ""',
     ["ConduktorAuthGroupsSeparator"]),
    ("token_header_empty", "location", 'ConduktorAuthTokenHeader ""',
     ["ConduktorAuthTokenHeader"]),
    ("token_header_bad_name", "location", 'ConduktorAuthTokenHeader "X:Token"',
     ["ConduktorAuthTokenHeader", "X:Token"]),
    ("claim_env_bad_var", "location", 'ConduktorAuthClaimEnv tenant "BAD VAR"',
     ["ConduktorAuthClaimEnv", "BAD VAR"]),
    ("require_type_missing", "location", "ConduktorAuthRequireType",
     ["ConduktorAuthRequireType"]),
    ("cors_star_with_credentials", "location",
     "ConduktorAuthCORSAllowOrigin *\nConduktorAuthCORSAllowCredentials On",
     ["ConduktorAuthCORS"]),
    ("cors_origin_not_an_origin", "location", "ConduktorAuthCORSAllowOrigin backstage",
     ["ConduktorAuthCORSAllowOrigin", "backstage"]),
    ("cors_origin_with_path", "location",
     "ConduktorAuthCORSAllowOrigin https://backstage.example.test/app",
     ["ConduktorAuthCORSAllowOrigin", "https://backstage.example.test/app"]),
    ("cors_max_age_not_a_number", "location", "ConduktorAuthCORSMaxAge ten",
     ["ConduktorAuthCORSMaxAge", "ten"]),
    ("require_group_without_groups", "location", "Require conduktor-group",
     ["conduktor-group"]),
    ("require_claim_without_value", "location", "Require conduktor-claim email_verified",
     ["conduktor-claim"]),
]


def render(where, snippet):
    if where == "location":
        return dict(location=protect(snippet))
    if where == "server":
        return dict(location=protect(), server=snippet)
    return dict(location=protect(), global_=snippet)


@pytest.mark.parametrize("case", BAD, ids=[c[0] for c in BAD])
def test_bad_value_is_refused_by_name(apachectl_t, case):
    _, where, snippet, words = case
    rc, out = apachectl_t(**render(where, snippet))
    assert rc != 0, "accepted: %s\n%s" % (snippet, out)
    assert "Syntax OK" not in out
    for word in words:
        assert word in out, "%r not named in:\n%s" % (word, out)


def test_full_good_configuration_is_accepted(apachectl_t):
    rc, out = apachectl_t(location=protect("""
        ConduktorAuthClockSkew 30
        ConduktorAuthRequireType at+jwt JWT
        ConduktorAuthTokenHeader Authorization
        ConduktorAuthUserClaim preferred_username email
        ConduktorAuthEmailClaim email
        ConduktorAuthGroupsClaim realm_access.roles
        ConduktorAuthGroupsSeparator ;
        ConduktorAuthClaimEnv tenant.id CKA_TENANT
        ConduktorAuthIdentityHeader user X-User
        ConduktorAuthIdentityHeader claim:tenant.id X-Tenant
        ConduktorAuthForwardToken Off
        ConduktorAuthCORSAllowOrigin https://backstage.example.test https://*.example.com
        ConduktorAuthCORSAllowMethods GET POST
        ConduktorAuthCORSAllowHeaders Authorization Content-Type
        ConduktorAuthCORSExposeHeaders WWW-Authenticate
        ConduktorAuthCORSAllowCredentials On
        ConduktorAuthCORSMaxAge 300""", audience="conduktor api://other",
        require="Require conduktor-claim email_verified true"),
        server="""
        ConduktorAuthAlgorithms RS256 ES256 EdDSA
        ConduktorAuthJWKSRefresh 600
        ConduktorAuthJWKSMissRefetch 30
        ConduktorAuthHTTPTimeout 3
        ConduktorAuthIssuer https://pem.example.test file:{keys}/rsa.pem""",
        global_="ConduktorAuthCache shmcb\nConduktorAuthCacheTTL 120")
    assert rc == 0, out
    assert "Syntax OK" in out


def test_star_audience_alone_is_accepted(apachectl_t):
    rc, out = apachectl_t(location=protect(audience="*"))
    assert rc == 0, out


def test_cache_none_is_accepted(apachectl_t):
    rc, out = apachectl_t(location=protect(), global_="ConduktorAuthCache none")
    assert rc == 0, out
