/* authz_stepup.c - Require conduktor-scope, Require conduktor-acr and
 * ConduktorAuthMaxAge (RFC 9470), all decided at authorization time so
 * that they combine with <RequireAll>/<RequireAny>, <Limit>/<LimitExcept>
 * and <If> as any httpd authorization does:
 *   - the two providers are ordinary authz providers; a denial remembers
 *     what was asked for (cka_req_t) and challenge.c turns it into the
 *     answer: 403 insufficient_scope with scope="...", or 401
 *     insufficient_user_authentication with acr_values="...";
 *   - ConduktorAuthMaxAge is checked first thing in check_authz (before
 *     mod_authz_core), for the methods of the <Limit> it was written in.
 *     A failure is remembered, not answered at once: when Require denies
 *     too, the one answer carries acr_values and max_age together; when
 *     Require grants, the request is refused in fixups, before any handler.
 * Arguments are checked once at config time; the claims are this request's
 * verified token (set by check_authn). */
#include "authz_stepup.h"
#include "resource_md.h"
#include "request.h"
#include "config.h"
#include "scope.h"
#include <mod_auth.h>

typedef struct {
    apr_array_header_t *values;   /* const char *: any one grants */
    const char         *joined;   /* for the challenge            */
} cka_words_t;

static const char *parse_list(cmd_parms *cmd, const char *line, const char *name,
                              int scopes, const void **parsed)
{
    cka_words_t *req = apr_pcalloc(cmd->pool, sizeof(*req));
    const char *t = line;
    char *w;
    req->values = apr_array_make(cmd->pool, 2, sizeof(const char *));
    while (*t && (w = ap_getword_conf(cmd->pool, &t)) && *w) {
        int bad = 0;
        if (scopes)
            bad = !cka_scope_token_valid(w);
        else
            for (const char *c = w; *c; c++)
                if ((unsigned char)*c <= 0x20 || *c == 0x7f)
                    bad = 1;
        if (bad)
            return apr_psprintf(cmd->pool, "Require %s: invalid value '%s'; accepted: %s",
                                name, w, scopes
                                ? "scope names of printable ASCII without spaces, '\"' or '\\' (RFC 6749)"
                                : "acr values without spaces or control characters");
        APR_ARRAY_PUSH(req->values, const char *) = w;
    }
    if (req->values->nelts == 0)
        return apr_psprintf(cmd->pool, "Require %s: needs at least one value, e.g. "
                            "Require %s %s", name, name,
                            scopes ? "conduktor:read" : "urn:example:mfa");
    req->joined = cka_words_join(cmd->pool, req->values);
    if (scopes)
        cka_resource_note_scopes(cmd, req->values);
    *parsed = req;
    return NULL;
}

static const char *parse_scope(cmd_parms *cmd, const char *line, const void **parsed)
{
    return parse_list(cmd, line, "conduktor-scope", 1, parsed);
}

static const char *parse_acr(cmd_parms *cmd, const char *line, const void **parsed)
{
    return parse_list(cmd, line, "conduktor-acr", 0, parsed);
}

/* The verified claims, or NULL (then the answer is already decided). */
static const json_t *claims_of(request_rec *r, const char *name, authz_status *st)
{
    if (r->user == NULL) {
        *st = AUTHZ_DENIED_NO_USER;
        return NULL;
    }
    cka_req_t *rq = cka_req(r);
    if (!rq->authn_ok || rq->claims == NULL) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, CKA_LOG_PREFIX
                      "Require %s needs AuthType %s in the same scope", name, CKA_AUTH_TYPE);
        *st = AUTHZ_DENIED;
        return NULL;
    }
    return rq->claims;
}

static authz_status scope_check(request_rec *r, const char *line, const void *parsed)
{
    const cka_words_t *req = parsed;
    authz_status st;
    const json_t *claims = claims_of(r, "conduktor-scope", &st);
    if (claims == NULL)
        return st;
    if (cka_scopes_grant(claims, req->values))
        return AUTHZ_GRANTED;
    /* Remembered for the answer; another branch of <RequireAny> may
     * still grant. */
    cka_req_t *rq = cka_req(r);
    rq->reason = CKA_SCOPE_DENIED;
    rq->scope_wanted = req->joined;
    ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, CKA_LOG_PREFIX
                  "scope_denied: user %s holds none of the scopes %s",
                  ap_escape_logitem(r->pool, r->user), req->joined);
    return AUTHZ_DENIED;
}

static authz_status acr_check(request_rec *r, const char *line, const void *parsed)
{
    const cka_words_t *req = parsed;
    authz_status st;
    const json_t *claims = claims_of(r, "conduktor-acr", &st);
    if (claims == NULL)
        return st;
    if (cka_acr_grant(claims, req->values))
        return AUTHZ_GRANTED;
    cka_req_t *rq = cka_req(r);
    rq->reason = CKA_ACR_DENIED;
    rq->acr_wanted = req->joined;
    ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, CKA_LOG_PREFIX
                  "acr_denied: user %s did not authenticate with %s",
                  ap_escape_logitem(r->pool, r->user),
                  ap_escape_logitem(r->pool, req->joined));
    return AUTHZ_DENIED;
}

/* ---- ConduktorAuthMaxAge ---------------------------------------------------- */

/* The strictest rule for this request's method, or -1 for none. */
static int max_age_for(const cka_dir_conf_t *dc, int method_number)
{
    int best = -1;
    apr_int64_t bit = AP_METHOD_BIT << method_number;
    for (int i = 0; dc->max_age && i < dc->max_age->nelts; i++) {
        const cka_max_age_t *m = APR_ARRAY_IDX(dc->max_age, i, const cka_max_age_t *);
        if (m->seconds >= 0 && (m->methods & bit) && (best < 0 || m->seconds < best))
            best = m->seconds;
    }
    return best;
}

int cka_max_age_check(request_rec *r)
{
    cka_req_t *rq = ap_get_module_config(r->request_config, &conduktor_auth_module);
    const cka_dir_conf_t *dc = ap_get_module_config(r->per_dir_config, &conduktor_auth_module);
    if (rq == NULL || !rq->authn_ok || rq->claims == NULL || dc == NULL)
        return DECLINED;
    int limit = max_age_for(dc, r->method_number);
    if (limit < 0)
        return DECLINED;
    long long now = (long long)apr_time_sec(r->request_time);
    if (!cka_auth_time_ok(rq->claims, now, limit, cka_clock_skew(dc))) {
        rq->max_age_failed = 1;
        rq->max_age_wanted = limit;
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, CKA_LOG_PREFIX
                      "auth_too_old: user %s authenticated more than %d s ago "
                      "(or auth_time is missing)", ap_escape_logitem(r->pool, r->user), limit);
    }
    return DECLINED;        /* Require decides next; see the top of the file */
}

/* Require granted, but the authentication is too old: refuse before any
 * handler (or mod_proxy) sees the request. */
int cka_max_age_fixup(request_rec *r)
{
    cka_req_t *rq = ap_get_module_config(r->request_config, &conduktor_auth_module);
    if (rq == NULL || !rq->authn_ok || !rq->max_age_failed)
        return DECLINED;      /* (a subrequest that authenticated is refused too) */
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, CKA_LOG_PREFIX
                  "refused: %s (ConduktorAuthMaxAge %d)",
                  cka_reason_code(CKA_AUTH_TOO_OLD), rq->max_age_wanted);
    return HTTP_UNAUTHORIZED;
}

const authz_provider cka_scope_provider = { scope_check, parse_scope };
const authz_provider cka_acr_provider = { acr_check, parse_acr };
