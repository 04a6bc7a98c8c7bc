/* directives.c - every directive of the module in one table, the order
 * `httpd -L` lists them in. Each family parses its own arguments: trust
 * and keys in config_trust.c, token checks in config_token.c, identity in
 * config_identity.c, other credentials in config_cred.c, introspection in
 * config_introspect.c, CORS in config_cors.c, the caches in
 * shared_cache.c, DPoP and mTLS in dpop_hook.c, RFC 9728 in resource_md.c. */
#include "config.h"
#include "config_trust.h"
#include "config_token.h"
#include "config_identity.h"
#include "config_cred.h"
#include "config_introspect.h"
#include "config_cors.h"
#include "shared_cache.h"
#include "dpop_hook.h"
#include "replay.h"
#include "resource_md.h"

#define D OR_AUTHCFG
const command_rec cka_cmds[] = {
    AP_INIT_TAKE12("ConduktorAuthIssuer", cka_set_issuer, NULL, RSRC_CONF,
        "an issuer (iss) to trust and where its keys are: https:// JWKS URL, file:/path, or nothing for discovery"),
    AP_INIT_ITERATE("ConduktorAuthAlgorithms", cka_set_algorithms, NULL, RSRC_CONF,
        "allowed JWS algorithms"),
    AP_INIT_TAKE1("ConduktorAuthJWKSRefresh", cka_set_jwks_refresh, NULL, RSRC_CONF,
        "seconds a fetched key set stays fresh without Cache-Control max-age"),
    AP_INIT_TAKE1("ConduktorAuthJWKSMissRefetch", cka_set_miss_refetch, NULL, RSRC_CONF,
        "least seconds between refetches caused by an unknown kid, per issuer"),
    AP_INIT_TAKE1("ConduktorAuthHTTPTimeout", cka_set_http_timeout, NULL, RSRC_CONF,
        "total time limit of one fetch from the IdP, in seconds"),
    AP_INIT_TAKE_ARGV("ConduktorAuthIntrospect", cka_set_introspect, NULL, RSRC_CONF,
        "<issuer> <https://endpoint>|discover client_id=<id> (secret=file:<path> | "
        "private_key=file:<pem> | client_cert=file:<pem> client_key=file:<pem>) "
        "[auth=basic|post]: RFC 7662 introspection at that issuer"),
    AP_INIT_TAKE1("ConduktorAuthIntrospectTTL", cka_set_introspect_ttl, NULL, RSRC_CONF,
        "longest reuse of an introspection answer, in seconds (inactive: at most 10)"),
    AP_INIT_TAKE1("ConduktorAuthCAFile", cka_set_ca_file, NULL, RSRC_CONF,
        "trust anchors (PEM) for fetches from the IdP"),
    AP_INIT_TAKE1("ConduktorAuthCache", cka_set_cache, NULL, RSRC_CONF,
        "where validated tokens are shared: an socache provider[:args] (shmcb, redis:host:port, memcache:host:port) or none"),
    AP_INIT_TAKE1("ConduktorAuthCacheTTL", cka_set_cache_ttl, NULL, RSRC_CONF,
        "longest time in seconds a validation result is reused"),
    AP_INIT_TAKE1("ConduktorAuthCacheSecret", cka_set_cache_secret, NULL, RSRC_CONF,
        "file:/path holding at least 32 random bytes (mode 600) with which cache records are sealed; required with redis or memcache"),
    AP_INIT_TAKE1("ConduktorAuthReplayCache", cka_set_replay_cache, NULL, RSRC_CONF,
        "where DPoP proofs are recorded once: shmcb[:<bytes>], redis:<host:port> or memcache:<host:port>"),
    AP_INIT_ITERATE("ConduktorAuthAudience", cka_set_audience, NULL, D,
        "accepted aud values, or * to disable the check"),
    AP_INIT_TAKE1("ConduktorAuthClockSkew", cka_set_skew, NULL, D,
        "leeway in seconds for exp, nbf and iat"),
    AP_INIT_ITERATE("ConduktorAuthRequireType", cka_set_require_type, NULL, D,
        "accepted JWT header typ values"),
    AP_INIT_TAKE1("ConduktorAuthTokenHeader", cka_set_token_header, NULL, D,
        "header that carries the token"),
    AP_INIT_ITERATE("ConduktorAuthUserClaim", cka_set_user_claim, NULL, D,
        "claims for REMOTE_USER, the first present wins"),
    AP_INIT_TAKE1("ConduktorAuthEmailClaim", cka_set_email_claim, NULL, D,
        "claim for CONDUKTOR_AUTH_EMAIL"),
    AP_INIT_TAKE1("ConduktorAuthGroupsClaim", cka_set_groups_claim, NULL, D,
        "claim path for CONDUKTOR_AUTH_GROUPS"),
    AP_INIT_TAKE1("ConduktorAuthGroupsSeparator", cka_set_separator, NULL, D,
        "separator used to join groups"),
    AP_INIT_TAKE2("ConduktorAuthClaimEnv", cka_set_claim_env, NULL, D,
        "a claim path and the environment variable to put it in"),
    AP_INIT_TAKE2("ConduktorAuthIdentityHeader", cka_set_identity_header, NULL, D,
        "an identity field (user, email, groups, subject, claim:<path>) and the request header for the backend"),
    AP_INIT_TAKE12("ConduktorAuthOpaqueTokens", cka_set_opaque_tokens, NULL, D,
                  "refuse | pass | introspect <issuer>: what to do with a bearer credential "
                  "that is not a JWT from a trusted issuer (API keys, Console's own tokens, "
                  "an IdP's opaque access tokens)"),
    AP_INIT_FLAG("ConduktorAuthIntrospectJWT", cka_set_introspect_jwt, NULL, D,
        "also introspect the JWTs of issuers with ConduktorAuthIntrospect, after their "
        "own checks (revocation)"),
    AP_INIT_FLAG("ConduktorAuthForwardToken", cka_set_forward_token, NULL, D,
        "keep the token header for the backend"),
    AP_INIT_ITERATE("ConduktorAuthCORSAllowOrigin", cka_set_cors_origin, NULL, D,
        "origins allowed to call from a browser; turns CORS on for the scope"),
    AP_INIT_ITERATE("ConduktorAuthCORSAllowMethods", cka_set_cors_methods, NULL, D,
        "methods allowed in a CORS preflight"),
    AP_INIT_ITERATE("ConduktorAuthCORSAllowHeaders", cka_set_cors_headers, NULL, D,
        "request headers allowed in a CORS preflight"),
    AP_INIT_ITERATE("ConduktorAuthCORSExposeHeaders", cka_set_cors_expose, NULL, D,
        "response headers a page may read"),
    AP_INIT_FLAG("ConduktorAuthCORSAllowCredentials", cka_set_cors_credentials, NULL, D,
        "allow credentialed CORS requests"),
    AP_INIT_TAKE1("ConduktorAuthCORSMaxAge", cka_set_cors_max_age, NULL, D,
        "seconds a browser may cache a preflight answer"),
    AP_INIT_TAKE_ARGV("ConduktorAuthClientCredentials", cka_set_client_credentials, NULL, D,
        "exchange Authorization: Basic client_id:secret at this https:// token endpoint "
        "(client_credentials grant) [scope=] [resource=] [audience=]"),
    AP_INIT_TAKE1("ConduktorAuthMaxAge", cka_set_max_age, NULL, D,
        "RFC 9470: seconds since the user authenticated (auth_time), or off; inside <Limit> for those methods"),
    AP_INIT_TAKE1("ConduktorAuthMaxTokenLifetime", cka_set_max_lifetime, NULL, D,
        "longest exp - iat accepted, in seconds (iat then required), or off"),
    AP_INIT_TAKE1("ConduktorAuthResource", cka_set_resource, NULL, D,
        "RFC 9728 resource identifier of this scope: an https URL; its metadata is served"),
    AP_INIT_TAKE1("ConduktorAuthRequireBinding", cka_set_require_binding, NULL, D,
        "none | dpop | mtls | any: which sender-constrained tokens this scope requires"),
    AP_INIT_ITERATE("ConduktorAuthDPoPAlgorithms", cka_set_dpop_algs, NULL, D,
        "algorithms allowed for DPoP proofs (asymmetric only)"),
    AP_INIT_TAKE1("ConduktorAuthDPoPWindow", cka_set_dpop_window, NULL, D,
        "seconds a DPoP proof's iat may be from now (clock skew on top)"),
    AP_INIT_FLAG("ConduktorAuthDPoPNonce", cka_set_dpop_nonce, NULL, D,
        "require server nonces in DPoP proofs (RFC 9449 section 8)"),
    AP_INIT_TAKE1("ConduktorAuthPublicURL", cka_set_public_url, NULL, RSRC_CONF | D,
        "scheme://host[:port] clients use, for a DPoP proof's htu behind a TLS-terminating proxy"),
    { NULL }
};
