/* fetch.h - bounded HTTPS fetch from the IdP (libcurl) and the OIDC
 * discovery document. Only the fetcher does I/O; the rest of the core is
 * pure. The glue calls it through cka_fetch_fn so tests can swap it. */
#ifndef CKA_FETCH_H
#define CKA_FETCH_H
#include <stddef.h>
#include <apr_pools.h>

typedef struct {
    long        timeout_ms;    /* total time limit, connect included      */
    const char *ca_file;       /* NULL: the system store                   */
    size_t      max_bytes;     /* larger bodies are refused                */
    /* A TLS client certificate and its key, PEM bytes (tls_client_auth,
     * RFC 8705 §2); NULL: none. Only cka_fetch_post sends them. */
    const char *client_cert;
    size_t      client_cert_len;
    const char *client_key;
    size_t      client_key_len;
} cka_fetch_opts_t;

typedef struct {
    long        status;        /* HTTP status, 0 when none arrived         */
    char       *body;          /* NUL-terminated, in the pool              */
    size_t      len;
    long        max_age;       /* Cache-Control max-age, -1 when absent    */
    const char *error;         /* NULL on a 200 with a body; else a short
                                  reason for the log (no body content)     */
} cka_fetch_result_t;

/* GET url: https only (redirects too, at most 3), TLS peer and host always
 * verified, no signals, a fresh curl handle per call (nothing shared across
 * fork or threads). Returns 0 on HTTP 200 with a body, -1 otherwise. */
int cka_fetch(apr_pool_t *p, const char *url, const cka_fetch_opts_t *o,
              cka_fetch_result_t *out);

/* POST form (application/x-www-form-urlencoded) to url with the header
 * "Authorization: <authorization>" (NULL: none), under the same rules as
 * cka_fetch (https only, TLS verified, o's CA file, size cap and total
 * time limit) but never following a redirect: the credential goes to url
 * and nowhere else. Returns 0 when an HTTP answer arrived, whatever its
 * status (out->status, out->body and out->len, the body possibly empty),
 * -1 with out->error when none did (or it was larger than the cap). */
int cka_fetch_post(apr_pool_t *p, const char *url, const cka_fetch_opts_t *o,
                   const char *authorization, const char *form, cka_fetch_result_t *out);

/* The fetch function the glue uses; tests may replace it. */
typedef int (*cka_fetch_fn)(apr_pool_t *p, const char *url,
                            const cka_fetch_opts_t *o, cka_fetch_result_t *out);

/* Parse "Cache-Control" for max-age; -1 when absent, 0 for no-store /
 * no-cache. */
long cka_cache_control_max_age(const char *value);

/* Check a discovery document: its "issuer" must equal iss exactly and its
 * "jwks_uri" must be an https URL. Returns the jwks_uri (pool) or NULL with
 * *err (pool) saying why. */
const char *cka_discovery_jwks_uri(apr_pool_t *p, const char *doc, size_t len,
                                   const char *iss, const char **err);

/* The discovery URL of an issuer: iss + "/.well-known/openid-configuration"
 * (one slash between them). */
const char *cka_discovery_url(apr_pool_t *p, const char *iss);

#endif
