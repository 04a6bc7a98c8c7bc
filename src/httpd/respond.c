/* respond.c - the 401 / 403 / 503 / 500 answers: the challenge (challenge.c), JSON
 * body (unless an ErrorDocument is set), CONDUKTOR_AUTH_ERROR. */
#include "respond.h"
#include "challenge.h"
#include "request.h"
#include "config.h"
#include "scope.h"
#include <util_filter.h>
#include <mod_core.h>   /* ap_response_code_string: is an ErrorDocument set? */



static const char *json_body(request_rec *r, cka_reason_t why)
{
    const char *err = cka_reason_oauth_error(why);
    if (err == NULL) {
        int st = cka_reason_status(why);
        err = st == 401 ? "unauthorized" : st == 503 ? "temporarily_unavailable"
                                                     : "server_error";
    }
    json_t *o = json_pack("{s:s, s:s}", "error", err,
                          "error_description", cka_reason_text(why));
    char *s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    /* ap_custom_response marks text (vs a URL) with a leading quote itself. */
    char *body = apr_pstrcat(r->pool, s ? s : "{}", "\n", NULL);
    free(s);
    return body;
}

/* The core sets "text/html" after insert_error_filter; this filter runs
 * before the header filter and puts our type back. */
apr_status_t cka_json_error_filter(ap_filter_t *f, apr_bucket_brigade *bb)
{
    ap_set_content_type(f->r, "application/json");
    ap_remove_output_filter(f);
    return ap_pass_brigade(f->next, bb);
}

int cka_note_auth_failure(request_rec *r, const char *auth_type)
{
    if (ap_cstr_casecmp(auth_type, CKA_AUTH_TYPE) != 0)
        return DECLINED;
    /* mod_authz_core calls this when Require denies an authenticated user
     * and AuthzSendForbiddenOnFailure is Off; the error filter below turns
     * that 401 into the 403 the SPEC asks for. */
    cka_req_t *rq = cka_req(r);
    if (rq->authn_ok && rq->reason == CKA_OK)
        rq->reason = CKA_CLAIM_DENIED;
    return OK;
}

void cka_insert_error_filter(request_rec *r)
{
    cka_req_t *rq = ap_get_module_config(r->request_config, &conduktor_auth_module);
    if (rq == NULL || r->main != NULL)
        return;
    int status = r->status;
    cka_reason_t why = rq->reason;

    if (rq->authn_ok && (status == HTTP_UNAUTHORIZED || status == HTTP_FORBIDDEN)) {
        /* A valid token that Require refused: 403 insufficient_scope
         * (or 401 step-up, RFC 9470), whatever AuthzSendForbiddenOnFailure
         * says. */
        why = cka_authz_denial(rq);
        rq->reason = why;
        r->status = cka_reason_status(why);
        r->status_line = NULL;
        apr_table_unset(r->err_headers_out, "WWW-Authenticate");
        apr_table_setn(r->err_headers_out, "WWW-Authenticate", cka_challenge(r, why));
    }
    else if (!rq->authn_ok && why != CKA_OK && status == cka_reason_status(why))
        ;   /* the challenge / Retry-After were set when the token was refused */
    else if (!rq->authn_ok && why == CKA_OK && status == HTTP_FORBIDDEN
             && rq->cred_kind == CKA_CRED_OPAQUE) {
        /* An opaque credential passed on unverified, denied before
         * authentication by a rule that needs no identity (Require ip
         * out of range): not admitted from here. */
        why = rq->reason = CKA_CREDENTIAL_DENIED;
        apr_table_setn(r->err_headers_out, "WWW-Authenticate", cka_challenge(r, why));
    }
    else
        return;

    apr_table_setn(r->subprocess_env, "CONDUKTOR_AUTH_ERROR", cka_reason_code(why));
    /* The body is looked up under the status the core started with
     * (status), while the answer goes out as r->status. An administrator's
     * ErrorDocument text for the final status wins; otherwise our JSON. */
    const char *doc = ap_response_code_string(r, ap_index_of_response(r->status));
    if (doc != NULL && doc[0] == '"') {
        if (r->status != status)
            ap_custom_response(r, status, doc + 1);
    }
    else if (doc == NULL || r->status != status) {
        ap_custom_response(r, status, json_body(r, why));
        ap_add_output_filter(CKA_JSON_ERROR_FILTER, NULL, r, r->connection);
    }
}

/* A local ErrorDocument (a URL path) is served by an internal redirect:
 * insert_error_filter never runs, the new request shares err_headers_out
 * and inherits the status. Make its answer the same as ours would be: a
 * Require denial is 403 insufficient_scope (401 for a step-up), the
 * challenge is in place. */
int cka_error_document_fixups(request_rec *r)
{
    if (r->prev == NULL || r->main != NULL)
        return DECLINED;
    const request_rec *orig = r->prev;
    while (orig->prev)
        orig = orig->prev;
    const cka_req_t *rq = ap_get_module_config(orig->request_config, &conduktor_auth_module);
    if (rq == NULL)
        return DECLINED;
    if (rq->authn_ok && (r->status == HTTP_UNAUTHORIZED || r->status == HTTP_FORBIDDEN)) {
        cka_reason_t why = cka_authz_denial(rq);
        r->status = cka_reason_status(why);
        r->status_line = NULL;
        apr_table_unset(r->err_headers_out, "WWW-Authenticate");
        /* The challenge of the original request: its scope's realm, scopes,
         * acr_values and resource metadata. */
        apr_table_setn(r->err_headers_out, "WWW-Authenticate",
                       cka_challenge((request_rec *)orig, why));
        apr_table_setn(orig->subprocess_env, "CONDUKTOR_AUTH_ERROR", cka_reason_code(why));
        /* mod_log_config reads the last request of the chain */
        apr_table_setn(r->subprocess_env, "CONDUKTOR_AUTH_ERROR", cka_reason_code(why));
    }
    return DECLINED;
}

/* ---- refusing a request in check_authn ------------------------------------ */

int cka_refuse(request_rec *r, cka_reason_t why, const char *detail)
{
    cka_req(r)->reason = why;
    /* Set now, not only in the error filter: a local ErrorDocument is
     * served by an internal redirect that shares err_headers_out. */
    if (cka_reason_status(why) == 401 || cka_reason_status(why) == 403) {
        apr_table_setn(r->err_headers_out, "WWW-Authenticate", cka_challenge(r, why));
        cka_dpop_challenges(r, why);     /* DPoP: beside or instead of Bearer */
    }
    else if (cka_reason_status(why) == 503)
        apr_table_setn(r->err_headers_out, "Retry-After", "30");
    apr_table_setn(r->subprocess_env, "CONDUKTOR_AUTH_ERROR", cka_reason_code(why));
    /* A misconfiguration (500) is an error on every request; a refused
     * token or missing keys (503: the fetch failure is logged once per
     * attempt by the key store) is routine at info. */
    int level = cka_reason_status(why) == 500 ? APLOG_ERR : APLOG_INFO;
    ap_log_rerror(APLOG_MARK, level, 0, r, CKA_LOG_PREFIX "refused: %s (%s)",
                  cka_reason_code(why), detail ? detail : cka_reason_text(why));
    return cka_reason_status(why) == 500 ? HTTP_INTERNAL_SERVER_ERROR
         : cka_reason_status(why) == 503 ? HTTP_SERVICE_UNAVAILABLE
         : cka_reason_status(why) == 403 ? HTTP_FORBIDDEN
         : HTTP_UNAUTHORIZED;
}
