/* audit_hook.c - the audit event of every request the module decided, in the
 * request variable CONDUKTOR_AUTH_AUDIT, and the mod_log_config item %^CA
 * that writes it as valid JSON (%{CONDUKTOR_AUTH_AUDIT}e would escape its
 * quotes). The JSON itself is built by the core (src/core/audit.c).
 *
 * The event is made at logging time, when everything is known: allowed,
 * refused by check_authn (cka_refuse) or by Require, a preflight answered
 * or refused in header_parser, a credential passed through; and only where
 * something reads it: the %^CA item's handler makes it when a log format
 * asks (once per request, remembered), and log_transaction (before
 * mod_log_config's) sets the variable only when the server's configuration
 * mentions CONDUKTOR_AUTH_AUDIT anywhere (`CustomLog ... env=
 * CONDUKTOR_AUTH_AUDIT`, %{CONDUKTOR_AUTH_AUDIT}e, SetEnvIf ...), as found
 * in post_config. No mention and no %^CA: no event is made. */
#include "audit_hook.h"
#include "request.h"
#include "config.h"
#include "audit.h"
#include <mod_log_config.h>
#include <util_cfgtree.h>

#define AUDIT_VAR "CONDUKTOR_AUTH_AUDIT"
#define AUDIT_KEY "conduktor_auth_audit"   /* r->pool userdata: the event made */
#define LOG_TAG "^CA"

/* Did the module decide this request? Its check_authn ran (accepted or
 * refused), it answered a preflight, or a credential was sorted by kind. */
static const cka_req_t *decided(const request_rec *r)
{
    const cka_req_t *rq = ap_get_module_config(r->request_config, &conduktor_auth_module);
    if (rq == NULL)
        return NULL;
    if (rq->preflight || rq->authn_ok || rq->reason != CKA_OK
        || apr_table_get(r->subprocess_env, "CONDUKTOR_AUTH_CREDENTIAL") != NULL)
        return rq;
    return NULL;
}

/* A credential was presented and checked: refusals other than these. */
static int token_checked(cka_reason_t why)
{
    return why != CKA_OK && why != CKA_NO_TOKEN && why != CKA_BAD_REQUEST
        && why != CKA_NOT_CONFIGURED && why != CKA_INTERNAL;
}

static const char *env2(const request_rec *a, const request_rec *b, const char *name)
{
    const char *v = apr_table_get(a->subprocess_env, name);
    return v != NULL ? v : apr_table_get(b->subprocess_env, name);
}

/* The event of the request (any of its internal redirects), made once and
 * put in the original request's CONDUKTOR_AUTH_AUDIT; NULL when the
 * module decided nothing. What %^CA writes is always this event, kept
 * apart from the variable: a value that configuration put in the variable
 * (SetEnvIf, RewriteRule [E=]) is replaced or removed, never written. */
static const char *audit_event(request_rec *r)
{
    while (r->prev)
        r = r->prev;
    if (r->main != NULL)
        return NULL;
    void *made = NULL;
    apr_pool_userdata_get(&made, AUDIT_KEY, r->pool);
    if (made != NULL)
        return *(const char *)made ? made : NULL;
    /* The request that was decided: the original, or one it was
     * internally redirected to (e.g. by mod_rewrite). */
    request_rec *d = r;
    const cka_req_t *rq = NULL;
    for (; d != NULL && (rq = decided(d)) == NULL; d = d->next)
        ;
    if (rq == NULL) {
        apr_table_unset(r->subprocess_env, AUDIT_VAR);
        apr_pool_userdata_setn("", AUDIT_KEY, NULL, r->pool);
        return NULL;
    }
    const request_rec *last = r;
    while (last->next)
        last = last->next;

    cka_audit_t ev;
    memset(&ev, 0, sizeof(ev));
    ev.time_us = (long long)r->request_time;
    ev.status = last->status;
    ev.client_ip = r->connection->client_ip;
    ev.method = r->method;
    ev.path = r->uri;
    ev.server = r->server->server_hostname;

    /* Failure: the module refused. Its reason: the request state for a
     * refused credential (cka_refuse), else CONDUKTOR_AUTH_ERROR as the
     * preflight check or the error filter (a Require that denied) set it. */
    if (!rq->authn_ok && !rq->preflight && rq->reason != CKA_OK)
        ev.reason = cka_reason_code(rq->reason);     /* the module's own record */
    else
        ev.reason = env2(d, r, "CONDUKTOR_AUTH_ERROR");
    ev.success = ev.reason == NULL;

    ev.credential = env2(d, r, "CONDUKTOR_AUTH_CREDENTIAL");
    if (ev.credential == NULL && !rq->preflight && (rq->authn_ok || token_checked(rq->reason)))
        ev.credential = "jwt";
    if (rq->authn_ok) {
        /* Verified claims only: a refused token says nothing of who. */
        const cka_dir_conf_t *dc = ap_get_module_config(d->per_dir_config,
                                                        &conduktor_auth_module);
        ev.user = d->user;
        ev.kid = rq->kid;
        ev.claims = rq->claims;
        ev.email_claim = dc ? cka_email_claim(dc) : NULL;
        ev.groups_claim = dc ? cka_groups_claim(dc) : NULL;
    }
    const char *json = cka_audit_json(r->pool, &ev);
    apr_table_setn(r->subprocess_env, AUDIT_VAR, json);
    apr_pool_userdata_setn(json, AUDIT_KEY, NULL, r->pool);
    return json;
}

/* Does the configuration mention the variable? Found in post_config; the
 * children inherit it. Conservative: any directive argument anywhere in the
 * configuration files (any case: request variables are looked up without
 * it) turns it on. .htaccess files are read later and are not seen, but
 * nothing there runs at logging time. */
static int env_wanted;

static int mentions(const ap_directive_t *d)
{
    for (; d != NULL; d = d->next)
        if ((d->args != NULL && ap_strcasestr(d->args, AUDIT_VAR) != NULL)
            || (d->directive != NULL && ap_strcasestr(d->directive, AUDIT_VAR) != NULL)
            || mentions(d->first_child))
            return 1;
    return 0;
}

int cka_audit_post_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp,
                             server_rec *s)
{
    env_wanted = mentions(ap_conftree);
    ap_log_error(APLOG_MARK, APLOG_DEBUG, 0, s, CKA_LOG_PREFIX "audit: %s",
                 env_wanted ? "the configuration mentions " AUDIT_VAR ": set at "
                 "logging time" : "no mention of " AUDIT_VAR ": the event is made only "
                 "where a log format writes %^CA");
    return OK;
}

/* log_transaction, before mod_log_config writes (APR_HOOK_FIRST): the
 * variable is there for `env=CONDUKTOR_AUTH_AUDIT` and %{...}e, where the
 * configuration mentions it. */
int cka_audit_log_transaction(request_rec *r)
{
    if (env_wanted)
        audit_event(r);
    return DECLINED;
}

/* %^CA: the event as it is (valid JSON, one line); "-" when the module
 * decided nothing. */
static const char *log_item(request_rec *r, char *arg)
{
    (void)arg;
    return audit_event(r);
}

int cka_audit_pre_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp)
{
    /* Absent without mod_log_config: then there is no format to use it. */
    APR_OPTIONAL_FN_TYPE(ap_register_log_handler) *reg =
        APR_RETRIEVE_OPTIONAL_FN(ap_register_log_handler);
    if (reg != NULL)
        reg(pconf, (char *)LOG_TAG, log_item, 1);
    return OK;
}
