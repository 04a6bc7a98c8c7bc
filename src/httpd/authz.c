/* authz.c - Require conduktor-group / conduktor-claim / conduktor-credential.
 * Arguments are parsed once at config time; the claims come from this
 * request's verified token, the kind from credential_hook.c. */
#include "authz.h"
#include "credential_hook.h"
#include "request.h"
#include "config.h"
#include "claim_path.h"
#include <mod_auth.h>

typedef struct {
    const char         *path;     /* claim path; NULL: the groups claim    */
    apr_array_header_t *values;   /* const char *: any one matches         */
} cka_require_t;

static const char *parse_words(cmd_parms *cmd, const char *line, int with_path,
                               const void **parsed)
{
    cka_require_t *req = apr_pcalloc(cmd->pool, sizeof(*req));
    const char *t = line;
    char *w;
    req->values = apr_array_make(cmd->pool, 2, sizeof(const char *));
    while (*t && (w = ap_getword_conf(cmd->pool, &t)) && *w) {
        if (with_path && req->path == NULL)
            req->path = w;
        else
            APR_ARRAY_PUSH(req->values, const char *) = w;
    }
    if (req->values->nelts == 0)
        return with_path
            ? "Require conduktor-claim: needs a claim path and at least one value, "
              "e.g. Require conduktor-claim email_verified true"
            : "Require conduktor-group: needs at least one group name";
    *parsed = req;
    return NULL;
}

static const char *parse_group(cmd_parms *cmd, const char *line, const void **parsed)
{
    return parse_words(cmd, line, 0, parsed);
}

static const char *parse_claim(cmd_parms *cmd, const char *line, const void **parsed)
{
    return parse_words(cmd, line, 1, parsed);
}

static authz_status check(request_rec *r, const cka_require_t *req, cka_reason_t deny)
{
    if (r->user == NULL)
        return AUTHZ_DENIED_NO_USER;
    cka_req_t *rq = cka_req(r);
    if (!rq->authn_ok || rq->claims == NULL) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, CKA_LOG_PREFIX
                      "Require conduktor-%s needs AuthType %s in the same scope",
                      deny == CKA_GROUP_DENIED ? "group" : "claim", CKA_AUTH_TYPE);
        return AUTHZ_DENIED;
    }
    const char *path = req->path;
    if (path == NULL) {
        const cka_dir_conf_t *dc = ap_get_module_config(r->per_dir_config,
                                                        &conduktor_auth_module);
        path = cka_groups_claim(dc);
    }
    const json_t *v = cka_claim_lookup(rq->claims, path);
    for (int i = 0; v && i < req->values->nelts; i++)
        if (cka_claim_matches(v, APR_ARRAY_IDX(req->values, i, const char *)))
            return AUTHZ_GRANTED;
    /* Remembered for the 403 answer; another branch of <RequireAny> may
     * still grant, so nothing is announced here. */
    rq->reason = deny;
    ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, CKA_LOG_PREFIX
                  "%s: user %s lacks %s", cka_reason_code(deny),
                  ap_escape_logitem(r->pool, r->user),
                  ap_escape_logitem(r->pool, path));
    return AUTHZ_DENIED;
}

static authz_status group_check(request_rec *r, const char *line, const void *parsed)
{
    return check(r, parsed, CKA_GROUP_DENIED);
}

static authz_status claim_check(request_rec *r, const char *line, const void *parsed)
{
    return check(r, parsed, CKA_CLAIM_DENIED);
}

/* ---- Require conduktor-credential <kind>... ------------------------------ */

typedef struct {
    int kinds[CKA_CRED_KIND_COUNT];   /* non-zero: listed */
} cka_require_cred_t;

static const char *parse_credential(cmd_parms *cmd, const char *line, const void **parsed)
{
    cka_require_cred_t *req = apr_pcalloc(cmd->pool, sizeof(*req));
    const char *t = line;
    char *w;
    int n = 0;
    while (*t && (w = ap_getword_conf(cmd->pool, &t)) && *w) {
        cka_cred_kind_t k = cka_cred_kind_parse(w);
        if (k == CKA_CRED_BASIC)
            return "Require conduktor-credential: basic is never admitted as such: a Basic "
                   "credential is exchanged (client_credentials, with "
                   "ConduktorAuthClientCredentials) or refused";
        if (k == CKA_CRED_NONE)
            return apr_psprintf(cmd->pool, "Require conduktor-credential: '%s' is not one of "
                                "jwt, opaque, introspected, client_credentials", w);
        req->kinds[k] = 1;
        n++;
    }
    if (n == 0)
        return "Require conduktor-credential: needs at least one kind: jwt, opaque, "
               "introspected, client_credentials";
    *parsed = req;
    return NULL;
}

/* Like valid-user, the kind of a credential that needs checking is known
 * only once it is checked: before authentication this answers "no user
 * yet", never a plain denial. The exception is an opaque credential that
 * this scope passes on unverified: it has no user to wait for, so a rule
 * that lists opaque grants it here, before authentication (which would
 * refuse it). */
static authz_status credential_check(request_rec *r, const char *line, const void *parsed)
{
    const cka_require_cred_t *req = parsed;
    const char *type = ap_auth_type(r);
    if (type == NULL || ap_cstr_casecmp(type, CKA_AUTH_TYPE) != 0) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, CKA_LOG_PREFIX
                      "Require conduktor-credential needs AuthType %s in the same scope",
                      CKA_AUTH_TYPE);
        return AUTHZ_DENIED;
    }
    cka_req_t *rq = cka_credential(r);
    if (r->user == NULL) {
        const cka_dir_conf_t *dc = ap_get_module_config(r->per_dir_config,
                                                        &conduktor_auth_module);
        if (rq->cred_reason == CKA_OK && rq->cred_kind == CKA_CRED_OPAQUE
            && cka_opaque_tokens(dc) == CKA_OPAQUE_PASS && req->kinds[CKA_CRED_OPAQUE])
            return AUTHZ_GRANTED;
        return AUTHZ_DENIED_NO_USER;
    }
    if (!rq->authn_ok) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, CKA_LOG_PREFIX
                      "Require conduktor-credential: user %s was not authenticated by "
                      "AuthType %s", ap_escape_logitem(r->pool, r->user), CKA_AUTH_TYPE);
        return AUTHZ_DENIED;
    }
    if ((int)rq->cred_kind > 0 && rq->cred_kind < CKA_CRED_KIND_COUNT
        && req->kinds[rq->cred_kind])
        return AUTHZ_GRANTED;
    /* Another rule's denial (a group, a claim) says more: kept. */
    if (rq->reason == CKA_OK)
        rq->reason = CKA_CREDENTIAL_DENIED;
    ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, CKA_LOG_PREFIX
                  "credential_denied: the credential of %s is of kind %s, not listed",
                  ap_escape_logitem(r->pool, r->user),
                  cka_cred_kind_name(rq->cred_kind) ? cka_cred_kind_name(rq->cred_kind) : "-");
    return AUTHZ_DENIED;
}

const authz_provider cka_credential_provider = { credential_check, parse_credential };
const authz_provider cka_group_provider = { group_check, parse_group };
const authz_provider cka_claim_provider = { claim_check, parse_claim };
