/* authz.c - Require conduktor-group / conduktor-claim. Arguments are parsed
 * once at config time; the claims come from this request's verified token. */
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

static const authz_provider group_provider = { group_check, parse_group };
static const authz_provider claim_provider = { claim_check, parse_claim };

void cka_register_authz_providers(apr_pool_t *p)
{
    ap_register_auth_provider(p, AUTHZ_PROVIDER_GROUP, "conduktor-group",
                              AUTHZ_PROVIDER_VERSION, &group_provider,
                              AP_AUTH_INTERNAL_PER_CONF);
    ap_register_auth_provider(p, AUTHZ_PROVIDER_GROUP, "conduktor-claim",
                              AUTHZ_PROVIDER_VERSION, &claim_provider,
                              AP_AUTH_INTERNAL_PER_CONF);
}
