/* challenge.c - what a 401 or 403 says in WWW-Authenticate: the RFC 6750
 * Bearer challenge (with the scope, acr_values, max_age and
 * resource_metadata that apply), the RFC 9449 DPoP challenge beside or
 * instead of it, and the reason of a Require denial (step-up, RFC 9470). */
#include "challenge.h"
#include "request.h"
#include "config.h"
#include "scope.h"

static const char *realm(request_rec *r)
{
    /* ap_auth_name() already escapes double quotes (mod_authn_core uses
     * ap_escape_quotes), so only control characters and a trailing lone
     * backslash, which would swallow the closing quote, are handled. */
    const char *name = ap_auth_name(r);
    if (name == NULL || *name == '\0')
        return "\"Conduktor\"";
    size_t n = strlen(name);
    char *o = apr_palloc(r->pool, n + 3), *w = o;
    *w++ = '"';
    for (const char *t = name; *t; t++)
        *w++ = ((unsigned char)*t < 0x20 || *t == 0x7f) ? '?' : *t;
    size_t bs = 0;
    while (w - bs - 1 > o && w[-1 - (long)bs] == '\\')
        bs++;
    if (bs % 2)
        w--;
    *w++ = '"';
    *w = '\0';
    return o;
}

const char *cka_challenge(request_rec *r, cka_reason_t why)
{
    apr_pool_t *p = r->pool;
    const cka_req_t *rq = cka_req(r);
    const char *c = apr_pstrcat(p, "Bearer realm=", realm(r), NULL);
    const char *err = cka_reason_oauth_error(why);
    if (err != NULL) {
        c = cka_auth_param(p, c, "error", err);
        c = cka_auth_param(p, c, "error_description", cka_reason_text(why));
    }
    /* RFC 6750 §3: the scopes the Require line asked for; RFC 9470 §3:
     * what authentication would do. */
    if (why == CKA_SCOPE_DENIED && rq->scope_wanted != NULL)
        c = cka_auth_param(p, c, "scope", rq->scope_wanted);
    if ((why == CKA_ACR_DENIED || why == CKA_STEP_UP) && rq->acr_wanted != NULL)
        c = cka_auth_param(p, c, "acr_values", rq->acr_wanted);
    if ((why == CKA_AUTH_TOO_OLD || why == CKA_STEP_UP) && rq->max_age_failed)
        c = cka_auth_param(p, c, "max_age", apr_itoa(p, rq->max_age_wanted));
    /* RFC 9728 §5.1: every 401 of a scope with ConduktorAuthResource. */
    const cka_dir_conf_t *dc = ap_get_module_config(r->per_dir_config, &conduktor_auth_module);
    if (cka_reason_status(why) == 401 && dc != NULL && dc->resource != NULL)
        c = cka_auth_param(p, c, "resource_metadata", dc->resource->md_url);
    return c;
}

cka_reason_t cka_authz_denial(const cka_req_t *rq)
{
    int acr = rq->acr_wanted != NULL, age = rq->max_age_failed;
    if (acr && age)
        return CKA_STEP_UP;
    if (acr)
        return CKA_ACR_DENIED;
    if (age)
        return CKA_AUTH_TOO_OLD;
    if (rq->reason == CKA_GROUP_DENIED || rq->reason == CKA_SCOPE_DENIED
        || rq->reason == CKA_CREDENTIAL_DENIED)
        return rq->reason;
    return CKA_CLAIM_DENIED;
}

static int is_dpop_reason(cka_reason_t why)
{
    return why == CKA_DPOP_INVALID || why == CKA_DPOP_REPLAY || why == CKA_DPOP_NONCE
        || why == CKA_DPOP_UNAVAILABLE;
}

/* The order the SPEC writes them in (ES, PS, RS, EdDSA). */
const cka_alg_t cka_dpop_alg_order[CKA_DPOP_NALGS] = {
    CKA_ALG_ES256, CKA_ALG_ES384, CKA_ALG_ES512, CKA_ALG_PS256, CKA_ALG_PS384,
    CKA_ALG_PS512, CKA_ALG_RS256, CKA_ALG_RS384, CKA_ALG_RS512, CKA_ALG_EDDSA
};

static const char *algs_text(apr_pool_t *p, cka_alg_set_t algs)
{
    const char *s = NULL;
    for (int i = 0; i < CKA_DPOP_NALGS; i++) {
        cka_alg_t a = cka_dpop_alg_order[i];
        if (algs & CKA_ALG_BIT(a))
            s = s ? apr_pstrcat(p, s, " ", cka_alg_name(a), NULL) : cka_alg_name(a);
    }
    return s ? s : "";
}

/* RFC 9449 §7.1: WWW-Authenticate: DPoP algs="...", with the error where
 * the DPoP scheme (or a proof) was what failed; the Bearer challenge too
 * where bearer tokens are admitted (ConduktorAuthRequireBinding none,
 * mtls, any). A scope that says nothing of binding keeps its Bearer-only
 * answers for bearer requests. */
void cka_dpop_challenges(request_rec *r, cka_reason_t why)
{
    const cka_dir_conf_t *dc = ap_get_module_config(r->per_dir_config, &conduktor_auth_module);
    if (dc == NULL || cka_reason_status(why) != 401)
        return;
    const cka_req_t *rq = cka_req(r);
    int mode = cka_require_binding(dc);
    int dpop_err = is_dpop_reason(why) || rq->dpop_scheme;
    int show = dpop_err || mode == CKA_BIND_DPOP || mode == CKA_BIND_ANY
        || (mode == CKA_BIND_NONE && (why == CKA_BINDING_MISSING || why == CKA_BINDING_REQUIRED));
    if (!show)
        return;
    apr_pool_t *p = r->pool;
    const char *c = cka_auth_param(p, "DPoP", "algs",
                                   algs_text(p, (cka_alg_set_t)cka_dpop_algs(dc)));
    const char *err = cka_reason_oauth_error(why);
    if (dpop_err && err != NULL) {
        c = cka_auth_param(p, c, "error", err);
        c = cka_auth_param(p, c, "error_description", cka_reason_text(why));
    }
    if (mode == CKA_BIND_DPOP) {
        apr_table_setn(r->err_headers_out, "WWW-Authenticate", c);
        return;
    }
    if (dpop_err) {
        apr_table_setn(r->err_headers_out, "WWW-Authenticate", c);
        apr_table_addn(r->err_headers_out, "WWW-Authenticate", cka_challenge(r, CKA_NO_TOKEN));
    }
    else
        apr_table_addn(r->err_headers_out, "WWW-Authenticate", c);
}
