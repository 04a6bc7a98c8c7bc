/* dpop_hook.c - sender-constrained tokens in httpd: the DPoP directives, the
 * binding rules of a verified token (cnf.jkt, cnf["x5t#S256"],
 * ConduktorAuthRequireBinding), the DPoP header and its proof (core:
 * dpop.c), the replay store (replay.c) and nonces, the DPoP
 * challenge, and what the backend receives (Authorization: Bearer, no
 * DPoP header). The certificate of an x5t#S256 token is checked by the
 * mTLS code through cka_mtls_check. */
#include "dpop_hook.h"
#include "request.h"
#include "config.h"
#include "shared_cache.h"
#include "replay.h"
#include "metrics.h"
#include "scope.h"
#include "dpop.h"
#include "mtls.h"
#include <apr_uri.h>


/* Proof keys imported in this process (core: cka_dpop_keys_t). */
#define PROOF_KEY_SLOTS 1024
static cka_dpop_keys_t *proof_keys;

void cka_dpop_child_init(apr_pool_t *pchild, server_rec *s)
{
    proof_keys = cka_dpop_keys_create(pchild, PROOF_KEY_SLOTS);
}

/* ---- directives ------------------------------------------------------------ */

const char *cka_set_require_binding(cmd_parms *cmd, void *dcv, const char *arg)
{
    cka_dir_conf_t *c = dcv;
    static const char *const names[] = { "none", "dpop", "mtls", "any" };
    for (int i = 0; i < 4; i++)
        if (ap_cstr_casecmp(arg, names[i]) == 0) {
            c->require_binding = i;
            return NULL;
        }
    return apr_psprintf(cmd->pool, "%s: invalid value '%s'; accepted: none, dpop, mtls, any",
                        cmd->cmd->name, arg);
}

const char *cka_set_dpop_algs(cmd_parms *cmd, void *dcv, const char *arg)
{
    cka_dir_conf_t *c = dcv;
    cka_alg_t a = cka_alg_from_name(arg);
    if (a == CKA_ALG_UNKNOWN || a == CKA_ALG_HS256 || a == CKA_ALG_HS384
        || a == CKA_ALG_HS512)
        return apr_psprintf(cmd->pool, "%s: algorithm '%s' is not allowed for DPoP proofs; "
                            "accepted: RS256 RS384 RS512 PS256 PS384 PS512 ES256 ES384 "
                            "ES512 EdDSA (asymmetric only)", cmd->cmd->name, arg);
    if (c->dpop_algs == CKA_UNSET)
        c->dpop_algs = 0;
    c->dpop_algs |= (int)CKA_ALG_BIT(a);
    return NULL;
}

const char *cka_set_dpop_window(cmd_parms *cmd, void *dcv, const char *arg)
{
    cka_dir_conf_t *c = dcv;
    char *end;
    errno = 0;
    apr_int64_t v = apr_strtoi64(arg, &end, 10);
    if (*arg == '\0' || *end != '\0' || errno != 0 || v < 1 || v > 3600)
        return apr_psprintf(cmd->pool, "%s: invalid number of seconds '%s'; accepted: a "
                            "whole number from 1 to 3600", cmd->cmd->name, arg);
    c->dpop_window = (int)v;
    return NULL;
}

const char *cka_set_dpop_nonce(cmd_parms *cmd, void *dcv, int on)
{
    ((cka_dir_conf_t *)dcv)->dpop_nonce = on ? 1 : 0;
    return NULL;
}

/* scheme://host[:port] only: the origin clients see. */
const char *cka_set_public_url(cmd_parms *cmd, void *dcv, const char *arg)
{
    cka_dir_conf_t *c = dcv;
    apr_uri_t u;
    const char *why = NULL;
    size_t n = strlen(arg);
    if (apr_uri_parse(cmd->temp_pool, arg, &u) != APR_SUCCESS || u.scheme == NULL
        || (ap_cstr_casecmp(u.scheme, "https") != 0 && ap_cstr_casecmp(u.scheme, "http") != 0)
        || u.hostname == NULL || *u.hostname == '\0')
        why = "not an http(s) URL with a host";
    else if (u.user != NULL || u.password != NULL || ap_strchr_c(arg, '@') != NULL)
        why = "userinfo is not allowed";
    else if (u.query != NULL || u.fragment != NULL || ap_strchr_c(arg, '?') != NULL
             || ap_strchr_c(arg, '#') != NULL)
        why = "a query or fragment is not allowed";
    else if (u.path != NULL && *u.path != '\0' && strcmp(u.path, "/") != 0)
        why = "a path is not allowed";
    else if (u.port_str != NULL && (u.port == 0 || *u.port_str == '\0'))
        why = "invalid port";
    if (why == NULL) {
        while (n > 0 && arg[n - 1] == '/')
            n--;
        const char *base = apr_pstrmemdup(cmd->pool, arg, n);
        if (cka_dpop_norm_url(cmd->temp_pool, apr_pstrcat(cmd->temp_pool, base, "/", NULL),
                              n + 1) == NULL)
            why = "not a valid origin";
        else
            c->public_url = base;
    }
    if (why != NULL)
        return apr_psprintf(cmd->pool, "%s: invalid URL '%s' (%s); accepted: "
                            "scheme://host[:port], e.g. https://api.example.com",
                            cmd->cmd->name, arg, why);
    return NULL;
}

/* ---- the request ------------------------------------------------------------- */

/* The URL the proof's htu must name: ConduktorAuthPublicURL, or the
 * request's scheme and the host and port its Host header gave; then the
 * path as the client sent it (the core drops the query). */
static const char *request_url(request_rec *r, const cka_dir_conf_t *dc)
{
    const char *path = r->unparsed_uri ? r->unparsed_uri : r->uri;
    if (path == NULL)
        return NULL;
    if (*path != '/') {
        /* absolute-form (RFC 9112 §3.2.2): scheme://authority/path */
        const char *a = strstr(path, "://");
        if (a == NULL)
            return NULL;
        if (dc->public_url == NULL)
            return path;
        const char *slash = ap_strchr_c(a + 3, '/');
        path = slash ? slash : "/";
    }
    if (dc->public_url != NULL)
        return apr_pstrcat(r->pool, dc->public_url, path, NULL);
    const char *host = apr_table_get(r->headers_in, "Host");
    if (host == NULL || *host == '\0')
        host = apr_psprintf(r->pool, "%s:%u", ap_get_server_name(r),
                            (unsigned)ap_get_server_port(r));
    return apr_pstrcat(r->pool, ap_http_scheme(r), "://", host, path, NULL);
}

typedef struct {
    int n;
    const char *v;
} header_count_t;

static int count_header(void *ctx, const char *key, const char *val)
{
    header_count_t *hc = ctx;
    hc->n++;
    hc->v = val;
    return 1;
}

/* The request that began it all: a subrequest's or an internal
 * redirect's proof was checked there, against that request's URL. */
static const request_rec *original(const request_rec *r)
{
    for (;;) {
        if (r->main)
            r = r->main;
        else if (r->prev)
            r = r->prev;
        else
            return r;
    }
}

/* Did the client's request this one derives from (an internal redirect,
 * a subrequest) prove this very token with a DPoP proof? Its verdict is
 * kept in its request state: the Authorization header the redirect reads
 * was already rewritten to Bearer, and its proof was for that request's
 * URL. */
static int proven_before(const request_rec *r, const char *tok, size_t len)
{
    const request_rec *o = original(r);
    const cka_req_t *orq = o != r ? ap_get_module_config(o->request_config,
                                                         &conduktor_auth_module) : NULL;
    return orq != NULL && orq->dpop_ok && orq->dpop_token != NULL
        && orq->dpop_token_len == len && memcmp(orq->dpop_token, tok, len) == 0;
}

static cka_reason_t dpop_refused(request_rec *r, cka_reason_t why, cka_dpop_defect_t d,
                                 const char *detail, const char **out)
{
    cka_count_dpop_refused(d);
    *out = apr_psprintf(r->pool, "DPoP proof refused: %s (%s)", cka_dpop_defect_code(d),
                        detail ? detail : cka_dpop_defect_text(d));
    return why;
}

static const char *fresh_nonce(request_rec *r)
{
    return cka_dpop_nonce_make(r->pool, cka_cache_seal(), (long long)apr_time_sec(r->request_time));
}

/* The proof of the DPoP header for a token bound to jkt (NULL: unbound). */
static cka_reason_t check_proof(request_rec *r, const cka_dir_conf_t *dc, const char *tok,
                                size_t len, const char *jkt, const char **detail)
{
    header_count_t hc = { 0, NULL };
    apr_table_do(count_header, &hc, r->headers_in, "DPoP", NULL);
    if (hc.n != 1)
        return dpop_refused(r, CKA_DPOP_INVALID, CKA_DPD_HEADER,
                            hc.n == 0 ? "no DPoP header" : "more than one DPoP header",
                            detail);
    const cka_seal_t *seal = cka_cache_seal();
    int nonce = cka_dpop_nonce(dc) == 1;
    if (nonce && seal == NULL)
        return dpop_refused(r, CKA_DPOP_UNAVAILABLE, CKA_DPD_UNAVAILABLE,
                            "ConduktorAuthDPoPNonce needs ConduktorAuthCache (its secret "
                            "makes the nonces)", detail);
    cka_dpop_check_t c = {
        .algs = (cka_alg_set_t)cka_dpop_algs(dc),
        .method = r->method,
        .url = request_url(r, dc),
        .token = tok, .token_len = len,
        .jkt = jkt,
        .now = (long long)apr_time_sec(r->request_time),
        .window = cka_dpop_window(dc),
        .skew = cka_clock_skew(dc),
        .nonce_seal = nonce ? seal : NULL,
        .keys = proof_keys,
    };
    cka_dpop_result_t res;
    cka_reason_t why = cka_dpop_verify(r->pool, hc.v, strlen(hc.v), &c, &res);
    if (why == CKA_DPOP_NONCE) {
        const char *n = fresh_nonce(r);
        if (n != NULL)
            apr_table_setn(r->err_headers_out, "DPoP-Nonce", n);
        return dpop_refused(r, why, res.defect, res.detail, detail);
    }
    if (why != CKA_OK)
        return dpop_refused(r, why, res.defect, res.detail, detail);

    /* Replay: the jti (keyed with the cache secret, with the key's
     * thumbprint) remembered for the window and the skew on both sides. */
    unsigned char name[CKA_SEAL_NAME_LEN], *sealed = NULL;
    size_t sealed_len = 0;
    unsigned char iat[8];
    for (int i = 0; i < 8; i++)
        iat[i] = (unsigned char)((unsigned long long)res.iat >> (56 - 8 * i));
    if (seal == NULL || cka_dpop_replay_name(seal, &res, name) != 0
        || cka_seal(seal, r->pool, CKA_SEAL_DPOP, name, iat, sizeof(iat), &sealed,
                    &sealed_len) != 0)
        return dpop_refused(r, CKA_DPOP_UNAVAILABLE, CKA_DPD_UNAVAILABLE,
                            "no ConduktorAuthCache to remember proofs in (ConduktorAuthCache "
                            "none)", detail);
    int ttl = 2 * (c.window + c.skew) + 1;
    cka_replay_result_t seen = cka_replay_add(r, name, ttl, sealed, (unsigned)sealed_len);
    if (seen == CKA_REPLAY_FULL)
        return dpop_refused(r, CKA_DPOP_UNAVAILABLE, CKA_DPD_UNAVAILABLE,
                            apr_psprintf(r->pool, "the replay store %s is full: DPoP "
                                         "requests are refused until records expire",
                                         cka_replay_spec()), detail);
    if (seen == CKA_REPLAY_DOWN)
        return dpop_refused(r, CKA_DPOP_UNAVAILABLE, CKA_DPD_UNAVAILABLE,
                            apr_psprintf(r->pool, "the replay store %s is not answering: "
                                         "DPoP requests are refused until it does",
                                         cka_replay_spec()), detail);
    if (seen == CKA_REPLAY_SEEN)
        return dpop_refused(r, CKA_DPOP_REPLAY, CKA_DPD_REPLAY, NULL, detail);
    cka_count(dpop_accepted);
    if (nonce) {
        const char *n = fresh_nonce(r);
        if (n != NULL)
            apr_table_setn(r->err_headers_out, "DPoP-Nonce", n);
    }
    return CKA_OK;
}

cka_reason_t cka_binding_check(request_rec *r, const cka_dir_conf_t *dc, const char *tok,
                               size_t len, const json_t *claims, const char **detail)
{
    cka_req_t *rq = cka_req(r);
    int mode = cka_require_binding(dc);
    *detail = NULL;

    /* What the token is bound to. A cnf this module cannot prove (not an
     * object, jkt not a string, another confirmation method) binds it to
     * something the request cannot show: never a bearer token. */
    const json_t *cnf = json_object_get(claims, "cnf");
    const json_t *jktv = json_is_object(cnf) ? json_object_get(cnf, "jkt") : NULL;
    const json_t *x5tv = json_is_object(cnf) ? json_object_get(cnf, "x5t#S256") : NULL;
    const char *jkt = json_is_string(jktv) ? json_string_value(jktv) : NULL;
    const char *x5t = json_is_string(x5tv) ? json_string_value(x5tv) : NULL;
    if (cnf != NULL && (!json_is_object(cnf) || (jktv && !jkt) || (x5tv && !x5t)
                        || (!jkt && !x5t))) {
        *detail = "the token's cnf claim is not a binding this module can check";
        return CKA_BINDING_MISSING;
    }

    if (rq->dpop_scheme) {
        cka_reason_t why = CKA_OK;
        if (jkt != NULL && proven_before(r, tok, len))
            ;       /* proven for the client's request this one derives from */
        else if (jkt == NULL)
            why = dpop_refused(r, CKA_DPOP_INVALID, CKA_DPD_UNBOUND, NULL, detail);
        else
            why = check_proof(r, dc, tok, len, jkt, detail);
        if (why != CKA_OK)
            return why;
        rq->dpop_ok = 1;
        rq->dpop_token = apr_pstrmemdup(r->pool, tok, len);
        rq->dpop_token_len = len;
    }
    else if (jkt != NULL && proven_before(r, tok, len)) {
        /* An internal redirect or subrequest of a DPoP request: its
         * Authorization is the Bearer form this module wrote; the same
         * answer as the first pass. */
        rq->dpop_ok = 1;
        rq->dpop_token = apr_pstrmemdup(r->pool, tok, len);
        rq->dpop_token_len = len;
    }
    else if (jkt != NULL) {
        *detail = "a DPoP-bound token (cnf.jkt) sent without a DPoP proof";
        return CKA_BINDING_MISSING;
    }
    /* A token bound both ways needs both proofs. */
    if (x5t != NULL) {
        cka_reason_t why = cka_mtls_check(r, x5t, detail);
        if (why != CKA_OK)
            return why;
    }

    /* What this scope requires. */
    int ok = mode == CKA_BIND_NONE
        || (mode == CKA_BIND_DPOP && jkt != NULL)
        || (mode == CKA_BIND_MTLS && x5t != NULL)
        || (mode == CKA_BIND_ANY && (jkt != NULL || x5t != NULL));
    if (!ok) {
        *detail = mode == CKA_BIND_DPOP ? "ConduktorAuthRequireBinding dpop: the token has no cnf.jkt"
                : mode == CKA_BIND_MTLS ? "ConduktorAuthRequireBinding mtls: the token has no cnf x5t#S256"
                : "ConduktorAuthRequireBinding any: the token is not bound";
        return CKA_BINDING_REQUIRED;
    }

    /* The backend knows bearer tokens only, and never sees a proof. */
    if (rq->dpop_scheme && cka_forward_token(dc)
        && ap_cstr_casecmp(cka_token_header(dc), "Authorization") == 0)
        apr_table_setn(r->headers_in, "Authorization",
                       apr_pstrmemdup(r->pool, apr_pstrcat(r->pool, "Bearer ", tok, NULL),
                                      len + 7));
    apr_table_unset(r->headers_in, "DPoP");
    return CKA_OK;
}
