/* cors_hook.c - CORS at the edge: preflights answered before
 * authentication (never reaching the backend); CORS headers on every
 * response to an allowed origin, errors included. */
#include "cors_hook.h"
#include "request.h"
#include "config.h"
#include "cors.h"
#include <util_filter.h>


static const char *join(apr_pool_t *p, const apr_array_header_t *a)
{
    return apr_array_pstrcat(p, a, ',');
}

static void fill_policy(const cka_dir_conf_t *dc, cka_cors_policy_t *pol)
{
    pol->origins = dc->cors_origins;
    pol->methods = cka_cors_methods(dc);
    pol->headers = cka_cors_headers(dc);
    pol->credentials = dc->cors_credentials == 1;
}

/* Allow-Origin: the origin itself, or "*" for a "*" pattern without
 * credentials (a browser refuses "*" together with credentials). */
static void allow_origin(request_rec *r, const cka_dir_conf_t *dc,
                         const cka_origin_t *o, const char *origin)
{
    int cred = dc->cors_credentials == 1 && !o->any;
    apr_table_setn(r->err_headers_out, "Access-Control-Allow-Origin",
                   o->any && !cred ? "*" : origin);
    if (cred)
        apr_table_setn(r->err_headers_out, "Access-Control-Allow-Credentials", "true");
}

static const char *preflight_reason(cka_preflight_t d)
{
    switch (d) {
    case CKA_PREFLIGHT_BAD_ORIGIN: return "cors_origin_denied";
    case CKA_PREFLIGHT_BAD_METHOD: return "cors_method_denied";
    case CKA_PREFLIGHT_BAD_HEADER: return "cors_header_denied";
    default: return "ok";
    }
}

int cka_cors_request(request_rec *r, const cka_dir_conf_t *dc)
{
    if (dc->cors_origins == NULL || dc->cors_origins->nelts == 0)
        return DECLINED;
    apr_table_mergen(r->err_headers_out, "Vary", "Origin");
    /* In a CORS scope only the module answers CORS: a backend's own
     * headers are dropped for every request, allowed origin or not. */
    cka_req(r)->cors_scope = 1;
    const char *origin = apr_table_get(r->headers_in, "Origin");
    if (origin == NULL)
        return DECLINED;
    cka_cors_policy_t pol;
    fill_policy(dc, &pol);
    const char *acrm = apr_table_get(r->headers_in, "Access-Control-Request-Method");

    if (r->method_number == M_OPTIONS && acrm != NULL) {
        const char *acrh = apr_table_get(r->headers_in, "Access-Control-Request-Headers");
        cka_preflight_t d = cka_cors_preflight(&pol, origin, acrm, acrh);
        cka_req(r)->preflight = 1;
        if (d != CKA_PREFLIGHT_OK) {
            apr_table_setn(r->subprocess_env, "CONDUKTOR_AUTH_ERROR", preflight_reason(d));
            ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, CKA_LOG_PREFIX
                          "preflight refused: %s (origin %s, method %s)",
                          preflight_reason(d), ap_escape_logitem(r->pool, origin),
                          ap_escape_logitem(r->pool, acrm));
            return HTTP_FORBIDDEN;
        }
        allow_origin(r, dc, cka_cors_find_origin(&pol, origin), origin);
        apr_table_setn(r->err_headers_out, "Access-Control-Allow-Methods",
                       join(r->pool, pol.methods));
        /* With "*" listed, echo what was asked (it passed the check, and
         * "*" would not cover Authorization or work with credentials). */
        int star = 0;
        for (int i = 0; i < pol.headers->nelts; i++)
            star |= strcmp(APR_ARRAY_IDX(pol.headers, i, const char *), "*") == 0;
        if (star && acrh != NULL)
            apr_table_setn(r->err_headers_out, "Access-Control-Allow-Headers", acrh);
        else
            apr_table_setn(r->err_headers_out, "Access-Control-Allow-Headers",
                           join(r->pool, pol.headers));
        apr_table_setn(r->err_headers_out, "Access-Control-Max-Age",
                       apr_itoa(r->pool, cka_cors_max_age(dc)));
        apr_table_mergen(r->err_headers_out, "Vary",
                         "Access-Control-Request-Method, Access-Control-Request-Headers");
        r->status = HTTP_NO_CONTENT;
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, CKA_LOG_PREFIX
                      "preflight answered for origin %s", ap_escape_logitem(r->pool, origin));
        return DONE;      /* answered here: no auth, no handler, no backend */
    }

    const cka_origin_t *o = cka_cors_find_origin(&pol, origin);
    if (o == NULL)
        return DECLINED;
    allow_origin(r, dc, o, origin);
    const apr_array_header_t *expose = cka_cors_expose(dc);
    if (expose->nelts > 0)
        apr_table_setn(r->err_headers_out, "Access-Control-Expose-Headers",
                       join(r->pool, expose));
    return DECLINED;
}

/* A backend (or a handler) may send CORS headers of its own: ours are the
 * answer, so theirs are dropped to avoid duplicates a browser refuses. */
apr_status_t cka_cors_filter(ap_filter_t *f, apr_bucket_brigade *bb)
{
    static const char *const names[] = {
        "Access-Control-Allow-Origin", "Access-Control-Allow-Credentials",
        "Access-Control-Expose-Headers", "Access-Control-Allow-Methods",
        "Access-Control-Allow-Headers", "Access-Control-Max-Age", NULL
    };
    for (int i = 0; names[i]; i++)
        apr_table_unset(f->r->headers_out, names[i]);
    ap_remove_output_filter(f);
    return ap_pass_brigade(f->next, bb);
}

void cka_cors_insert_filter(request_rec *r)
{
    cka_req_t *rq = ap_get_module_config(r->request_config, &conduktor_auth_module);
    if (rq != NULL && rq->cors_scope)
        ap_add_output_filter(CKA_CORS_FILTER, NULL, r, r->connection);
}
