/* fetch.h - bounded HTTPS fetch from the IdP (libcurl) and the OIDC
 * discovery document. Only the fetcher does I/O; the rest of the core is
 * pure. Failures in err.h's shape. */
#ifndef CKA_FETCH_H
#define CKA_FETCH_H
#include <stddef.h>
#include <apr_pools.h>
#include "err.h"

/* libcurl's process-wide set-up (curl_global_init), once per process
 * however often it is called; call it before the fork, from one thread
 * (post_config). */
void cka_fetch_init(void);

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
} cka_fetch_result_t;

/* GET url: https only (redirects too, at most 3), TLS peer and host always
 * verified, no signals, a fresh curl handle per call (nothing shared across
 * fork or threads). CKA_OK on HTTP 200 with a body; otherwise
 * CKA_FETCH_FAILED, the detail a short reason for the log (no body
 * content). */
cka_reason_t cka_fetch(apr_pool_t *p, const char *url, const cka_fetch_opts_t *o,
                       cka_fetch_result_t *out, cka_err_t *err);

/* POST form (application/x-www-form-urlencoded) to url with the header
 * "Authorization: <authorization>" (NULL: none), under the same rules as
 * cka_fetch (https only, TLS verified, o's CA file, size cap and total
 * time limit) but never following a redirect: the credential goes to url
 * and nowhere else. CKA_OK when an HTTP answer arrived, whatever its
 * status (out->status, out->body and out->len, the body possibly empty),
 * CKA_FETCH_FAILED when none did (or it was larger than the cap). */
cka_reason_t cka_fetch_post(apr_pool_t *p, const char *url, const cka_fetch_opts_t *o,
                            const char *authorization, const char *form,
                            cka_fetch_result_t *out, cka_err_t *err);

/* Parse "Cache-Control" for max-age; -1 when absent, 0 for no-store /
 * no-cache. */
long cka_cache_control_max_age(const char *value);

/* The one reader of a discovery document (RFC 8414 / OIDC Discovery): one
 * JSON object under the strict parser, its "issuer" equal to iss exactly,
 * and member (e.g. "jwks_uri", "introspection_endpoint") an https URL with
 * a host part, at most CKA_DISCOVERY_URL_MAX bytes, no fragment, no space
 * or control character. CKA_OK with *url (pool), or CKA_DISCOVERY_INVALID
 * (the detail names the member, never more than 200 bytes of the issuer). */
#define CKA_DISCOVERY_URL_MAX 2048
cka_reason_t cka_discovery_read(apr_pool_t *p, const char *doc, size_t len, const char *iss,
                                const char *member, const char **url, cka_err_t *err);


/* The discovery URL of an issuer: iss + "/.well-known/openid-configuration"
 * (one slash between them). */
const char *cka_discovery_url(apr_pool_t *p, const char *iss);

#endif
