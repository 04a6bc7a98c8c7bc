/* cors.h - CORS decisions: origin patterns, preflight checks. */
#ifndef CKA_CORS_H
#define CKA_CORS_H
#include <apr_pools.h>
#include <apr_tables.h>

typedef struct {
    int         any;        /* "*"                                         */
    int         is_null;    /* "null"                                      */
    int         wildcard;   /* a subdomain pattern (asterisk-dot-domain) */
    const char *scheme;     /* lower case                                  */
    const char *host;       /* lower case; for a wildcard the domain part  */
    int         port;       /* explicit or the scheme's default            */
} cka_origin_t;

/* Parse a configured origin: "*", "null", "scheme://host[:port]" or
 * "scheme://" "*" ".domain[:port]". No path, query, user info or trailing
 * slash. Returns NULL, or an error text (pool) saying what is wrong. */
const char *cka_origin_parse(apr_pool_t *p, const char *s, cka_origin_t *out);

/* Does the request's Origin header value match the configured pattern?
 * Scheme and host compare case-insensitively, default ports are implied,
 * "*.example.com" needs at least one label before ".example.com". */
int cka_origin_matches(const cka_origin_t *pat, const char *origin);

typedef struct {
    const apr_array_header_t *origins;   /* of cka_origin_t *                */
    const apr_array_header_t *methods;   /* of const char *                  */
    const apr_array_header_t *headers;   /* of const char *; "*" any but Authorization */
    int credentials;
} cka_cors_policy_t;

/* The pattern matching origin, or NULL. */
const cka_origin_t *cka_cors_find_origin(const cka_cors_policy_t *pol, const char *origin);

typedef enum {
    CKA_PREFLIGHT_OK = 0,
    CKA_PREFLIGHT_BAD_ORIGIN,
    CKA_PREFLIGHT_BAD_METHOD,
    CKA_PREFLIGHT_BAD_HEADER
} cka_preflight_t;

/* Decide a preflight. req_headers is the Access-Control-Request-Headers
 * value (a comma list, any case and spacing) or NULL. */
cka_preflight_t cka_cors_preflight(const cka_cors_policy_t *pol, const char *origin,
                                   const char *req_method, const char *req_headers);

#endif
