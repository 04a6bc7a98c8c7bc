/* mtls.c - RFC 8705 certificate-bound tokens: the client certificate comes
 * from mod_ssl through its optional functions (no mod_ssl header needed,
 * nor mod_ssl itself: without it no connection has a certificate); the
 * comparison is the core's (cert_bind.c). */
#include "mtls.h"
#include "cert_bind.h"
#include "b64url.h"
#include <apr_optional.h>

/* mod_ssl's optional functions, as its mod_ssl.h declares them (the
 * header is not in every distribution's development package; the
 * signatures have been stable since httpd 2.0). From httpd 2.4.49 the core
 * provides them itself, over its ap_ssl_* hooks (mod_ssl, mod_tls). */
APR_DECLARE_OPTIONAL_FN(char *, ssl_var_lookup,
                        (apr_pool_t *, server_rec *, conn_rec *, request_rec *, char *));
APR_DECLARE_OPTIONAL_FN(int, ssl_is_https, (conn_rec *));

/* The PEM of the connection's client certificate, or NULL: not TLS, no
 * mod_ssl, or none presented. With SSLVerifyClient optional_no_ca a
 * certificate no CA vouches for is given too, as RFC 8705 §2.2 needs. */
static const char *client_cert_pem(request_rec *r, const char **why)
{
    APR_OPTIONAL_FN_TYPE(ssl_is_https) *is_https = APR_RETRIEVE_OPTIONAL_FN(ssl_is_https);
    APR_OPTIONAL_FN_TYPE(ssl_var_lookup) *lookup = APR_RETRIEVE_OPTIONAL_FN(ssl_var_lookup);
    if (is_https == NULL || lookup == NULL) {
        *why = "mod_ssl is not loaded";
        return NULL;
    }
    conn_rec *c = r->connection;
    if (!is_https(c)) {
        *why = "the connection is not TLS";
        return NULL;
    }
    static char var[] = "SSL_CLIENT_CERT";
    const char *pem = lookup(r->pool, r->server, c, r, var);
    if (pem == NULL || *pem == '\0') {
        *why = "no client certificate was presented";
        return NULL;
    }
    return pem;
}

cka_reason_t cka_mtls_check(request_rec *r, const json_t *claims, int *proven,
                            const char **detail)
{
    unsigned char want[CKA_X5T_LEN];
    *detail = NULL;
    *proven = 0;
    cka_x5t_claim_t kind = cka_x5t_claim(r->pool, claims, want);
    if (kind == CKA_X5T_NONE)
        return CKA_OK;          /* not certificate-bound: mod_ssl not asked */
    const char *why = "", *have = NULL;
    const char *pem = kind == CKA_X5T_BOUND ? client_cert_pem(r, &why) : NULL;
    cka_reason_t rv = cka_x5t_check(r->pool, claims, pem, detail, &have);
    const char *wanted = kind == CKA_X5T_BOUND ? cka_b64url_encode(r->pool, want, CKA_X5T_LEN)
                                               : "(malformed)";
    if (rv == CKA_OK) {
        *proven = 1;
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, CKA_LOG_PREFIX
                      "mTLS: the client certificate matches the token's cnf "
                      "x5t#S256 %s", wanted);
    }
    else
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, CKA_LOG_PREFIX
                      "mTLS: token bound to certificate x5t#S256 %s, connection "
                      "presents %s%s%s", wanted, have ? have : "none",
                      pem == NULL && *why ? ": " : "", pem == NULL ? why : "");
    return rv;
}
