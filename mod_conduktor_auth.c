/* mod_conduktor_auth.c - the front door: module record and hook order.
 *
 * Validates OAuth 2.0 / OIDC bearer JWTs at the httpd edge and hands the
 * caller's identity on to Require, logs and mod_proxy. The token logic
 * lives in src/core (no httpd headers); src/httpd holds the glue. */
#define CKA_FRONT_DOOR 1   /* AP_DECLARE_MODULE below does APLOG_USE_MODULE */
#include "config.h"
#include "config_introspect.h"
#include "config_cors.h"
#include "key_store.h"
#include "metrics.h"
#include "token_cache.h"
#include "shared_cache.h"
#include "client_exchange.h"
#include "introspect.h"
#include "authn.h"
#include "authz.h"
#include "authz_stepup.h"
#include "audit_hook.h"
#include "cors_hook.h"
#include "credential_hook.h"
#include "dpop_hook.h"
#include "id_headers.h"
#include "resource_md.h"
#include "respond.h"
#include "status.h"
#include "replay.h"

static int pre_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp)
{
    if (cka_key_store_pre_config(pconf) != APR_SUCCESS
        || cka_shared_cache_pre_config(pconf) != APR_SUCCESS
        || cka_replay_pre_config(pconf, plog, ptemp) != OK)
        return HTTP_INTERNAL_SERVER_ERROR;
    return cka_audit_pre_config(pconf, plog, ptemp);     /* the %^CA log item */
}

static int post_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp,
                       server_rec *s)
{
    int rv = cka_shared_cache_post_config(pconf, s);
    if (rv == OK)
        rv = cka_replay_post_config(pconf, plog, ptemp, s);
    if (rv == OK)
        rv = cka_key_store_post_config(pconf, s);
    if (rv == OK)
        rv = cka_metrics_post_config(s);
    if (rv == OK)
        rv = cka_audit_post_config(pconf, plog, ptemp, s);
    if (rv == OK)
        rv = cka_client_creds_post_config(pconf, s);
    if (rv == OK)
        rv = cka_introspect_post_config(pconf, s);   /* after the key store's bindings */
    return rv;
}

/* After all the configuration is read (also for `apachectl -t`). */
static int check_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp,
                        server_rec *s)
{
    int rv = cka_shared_cache_check_config(ptemp, s);
    if (rv == OK)
        rv = cka_check_introspect(ptemp, s);
    return rv == OK ? cka_check_cors_scopes(ptemp, s) : rv;
}

static void child_init(apr_pool_t *pchild, server_rec *s)
{
    cka_key_store_child_init(pchild, s);
    cka_shared_cache_child_init(pchild, s);
    cka_token_cache_child_init(pchild, s);
    cka_client_creds_child_init(pchild, s);
    cka_introspect_child_init(pchild, s);
    cka_dpop_child_init(pchild, s);
    cka_replay_child_init(pchild, s);
}

/* Every hook, provider and filter of the module, in the order a request
 * meets them. */
static void register_hooks(apr_pool_t *p)
{
    ap_hook_pre_config(pre_config, NULL, NULL, APR_HOOK_MIDDLE);
    /* After the socache providers have set themselves up. */
    static const char *const after_socache[] = { "mod_socache_shmcb.c", NULL };
    ap_hook_post_config(post_config, NULL, after_socache, APR_HOOK_MIDDLE);
    ap_hook_check_config(check_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_child_init(child_init, NULL, NULL, APR_HOOK_MIDDLE);

    /* RFC 9728 metadata is answered before anything else looks. */
    ap_hook_quick_handler(cka_resource_md_handler, NULL, NULL, APR_HOOK_FIRST);
    /* Client copies of identity headers go before anything reads them, on
     * every path (post_perdir_config runs for subrequests and internal
     * redirects too); then CORS preflights are answered, before
     * authentication. */
    ap_hook_post_perdir_config(cka_id_headers_post_perdir, NULL, NULL, APR_HOOK_REALLY_FIRST);
    ap_hook_header_parser(cka_header_parser, NULL, NULL, APR_HOOK_FIRST);
    ap_hook_check_authn(cka_check_authn, NULL, NULL, APR_HOOK_MIDDLE,
                        AP_AUTH_INTERNAL_PER_CONF);
    ap_hook_note_auth_failure(cka_note_auth_failure, NULL, NULL, APR_HOOK_MIDDLE);

    /* Require providers; ConduktorAuthMaxAge before mod_authz_core's own
     * check_authz (APR_HOOK_MIDDLE). */
    ap_register_auth_provider(p, AUTHZ_PROVIDER_GROUP, "conduktor-group",
                              AUTHZ_PROVIDER_VERSION, &cka_group_provider,
                              AP_AUTH_INTERNAL_PER_CONF);
    ap_register_auth_provider(p, AUTHZ_PROVIDER_GROUP, "conduktor-claim",
                              AUTHZ_PROVIDER_VERSION, &cka_claim_provider,
                              AP_AUTH_INTERNAL_PER_CONF);
    ap_register_auth_provider(p, AUTHZ_PROVIDER_GROUP, "conduktor-credential",
                              AUTHZ_PROVIDER_VERSION, &cka_credential_provider,
                              AP_AUTH_INTERNAL_PER_CONF);
    ap_register_auth_provider(p, AUTHZ_PROVIDER_GROUP, "conduktor-scope",
                              AUTHZ_PROVIDER_VERSION, &cka_scope_provider,
                              AP_AUTH_INTERNAL_PER_CONF);
    ap_register_auth_provider(p, AUTHZ_PROVIDER_GROUP, "conduktor-acr",
                              AUTHZ_PROVIDER_VERSION, &cka_acr_provider,
                              AP_AUTH_INTERNAL_PER_CONF);
    ap_hook_check_authz(cka_max_age_check, NULL, NULL, APR_HOOK_FIRST,
                        AP_AUTH_INTERNAL_PER_CONF);

    /* fixups: the max-age rule where no Require judged, the JSON error
     * body's ErrorDocument check, the credential's kind for the log, and
     * last (after mod_dir's fast redirect at APR_HOOK_LAST) identity
     * headers stripped again. */
    ap_hook_fixups(cka_max_age_fixup, NULL, NULL, APR_HOOK_REALLY_FIRST);
    ap_hook_fixups(cka_error_document_fixups, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_fixups(cka_credential_fixups, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_fixups(cka_id_headers_fixups, NULL, NULL, APR_HOOK_REALLY_LAST);

    /* Responses: the JSON error body, the CORS headers. */
    ap_hook_insert_error_filter(cka_insert_error_filter, NULL, NULL, APR_HOOK_MIDDLE);
    ap_register_output_filter(CKA_JSON_ERROR_FILTER, cka_json_error_filter, NULL,
                              AP_FTYPE_CONTENT_SET);
    ap_hook_insert_filter(cka_cors_insert_filter, NULL, NULL, APR_HOOK_MIDDLE);
    ap_register_output_filter(CKA_CORS_FILTER, cka_cors_filter, NULL, AP_FTYPE_CONTENT_SET);
    ap_hook_handler(cka_status_handler, NULL, NULL, APR_HOOK_MIDDLE);

    /* Logging: counters, then the audit event, before mod_log_config. */
    ap_hook_log_transaction(cka_metrics_log_transaction, NULL, NULL, APR_HOOK_FIRST);
    ap_hook_log_transaction(cka_audit_log_transaction, NULL, NULL, APR_HOOK_FIRST);
}

AP_DECLARE_MODULE(conduktor_auth) = {
    STANDARD20_MODULE_STUFF,
    cka_create_dir_conf,
    cka_merge_dir_conf,
    cka_create_srv_conf,
    cka_merge_srv_conf,
    cka_cmds,
    register_hooks
#if defined(AP_MODULE_FLAG_ALWAYS_MERGE)
    , AP_MODULE_FLAG_ALWAYS_MERGE
#endif
};
