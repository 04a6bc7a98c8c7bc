/* mtls.c - RFC 8705 certificate-bound tokens: the client certificate comes
 * from mod_ssl through its optional functions (no mod_ssl header needed,
 * nor mod_ssl itself: without it no connection has a certificate); the
 * comparison is the core's (cert_bind.c). */
#include "mtls.h"
#include "cert_bind.h"
#include <apr_optional.h>
#include <string.h>

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

/* The connection's client certificate and its thumbprint, taken once per
 * connection (c->conn_config): each request compares mod_ssl's PEM with
 * the one remembered (a renegotiation may present another certificate)
 * and takes the thumbprint again only when it differs. */
typedef struct {
    const char   *pem;
    int           read;                 /* x5t holds its thumbprint     */
    unsigned char x5t[CKA_X5T_LEN];
} conn_cert_t;

static const conn_cert_t *client_cert(request_rec *r, const char **why)
{
    const char *pem = client_cert_pem(r, why);
    if (pem == NULL)
        return NULL;
    conn_rec *c = r->connection;
    conn_cert_t *cc = ap_get_module_config(c->conn_config, &conduktor_auth_module);
    if (cc == NULL || strcmp(cc->pem, pem) != 0) {
        cc = apr_pcalloc(c->pool, sizeof(*cc));
        cc->pem = apr_pstrdup(c->pool, pem);
        cc->read = cka_x5t_of_pem(pem, strlen(pem), cc->x5t) == 0;
        ap_set_module_config(c->conn_config, &conduktor_auth_module, cc);
    }
    return cc;
}

static cka_reason_t match(request_rec *r, const unsigned char want[CKA_X5T_LEN],
                          const conn_cert_t *cc, const char **detail, const char **have)
{
    return cka_x5t_compare(r->pool, want, cc != NULL, cc && cc->read ? cc->x5t : NULL,
                           detail, have);
}

/* The thumbprint cka_mtls_verify proved for this request (r->pool's
 * userdata: per request, never shared). */
#define PROVEN_KEY "conduktor_auth-mtls-proven"

static void log_verdict(request_rec *r, cka_reason_t rv, const char *wanted,
                        const char *have, const conn_cert_t *pem, const char *why)
{
    if (rv == CKA_OK)
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, CKA_LOG_PREFIX
                      "mTLS: the client certificate matches the token's cnf "
                      "x5t#S256 %s", wanted);
    else
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, CKA_LOG_PREFIX
                      "mTLS: token bound to certificate x5t#S256 %s, connection "
                      "presents %s%s%s", wanted, have ? have : "none",
                      pem == NULL && *why ? ": " : "", pem == NULL ? why : "");
}

cka_reason_t cka_mtls_verify(request_rec *r, const json_t *claims, const char **detail)
{
    unsigned char want[CKA_X5T_LEN];
    *detail = NULL;
    cka_x5t_claim_t kind = cka_x5t_claim(r->pool, claims, want);
    if (kind == CKA_X5T_NONE)
        return CKA_OK;          /* not certificate-bound: mod_ssl not asked */
    const char *why = "", *have = NULL;
    const conn_cert_t *pem = kind == CKA_X5T_BOUND ? client_cert(r, &why) : NULL;
    cka_reason_t rv = kind == CKA_X5T_BOUND ? match(r, want, pem, detail, &have)
        : cka_x5t_check(r->pool, claims, NULL, detail, &have);   /* malformed */
    const char *wanted = kind == CKA_X5T_BOUND
        ? json_string_value(json_object_get(json_object_get(claims, "cnf"), "x5t#S256"))
        : "(malformed)";
    log_verdict(r, rv, wanted, have, pem, why);
    if (rv == CKA_OK)
        apr_pool_userdata_setn(wanted, PROVEN_KEY, NULL, r->pool);
    return rv;
}

/* The binding rules (dpop_hook.c) ask about the x5t#S256 of a token that
 * cka_mtls_verify has already passed for this request (check_authn runs it
 * first); anything else is checked here and now. */
cka_reason_t cka_mtls_check(request_rec *r, const char *x5t, const char **detail)
{
    void *proven = NULL;
    *detail = NULL;
    if (apr_pool_userdata_get(&proven, PROVEN_KEY, r->pool) == APR_SUCCESS
        && proven != NULL && strcmp(proven, x5t) == 0)
        return CKA_OK;
    unsigned char want[CKA_X5T_LEN];
    if (cka_x5t_decode(r->pool, x5t, strlen(x5t), want) != 0) {
        *detail = "the token's cnf x5t#S256 is not a base64url SHA-256 thumbprint "
                  "(43 characters)";
        log_verdict(r, CKA_BINDING_MISSING, "(malformed)", NULL, NULL, "");
        return CKA_BINDING_MISSING;
    }
    const char *why = "", *have = NULL;
    const conn_cert_t *pem = client_cert(r, &why);
    cka_reason_t rv = match(r, want, pem, detail, &have);
    log_verdict(r, rv, x5t, have, pem, why);
    if (rv == CKA_OK)
        apr_pool_userdata_setn(x5t, PROVEN_KEY, NULL, r->pool);
    return rv;
}
