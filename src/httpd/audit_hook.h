/* audit_hook.h - the audit event in CONDUKTOR_AUTH_AUDIT and the log item
 * %^CA (audit_hook.c; core: audit.c). */
#ifndef CKA_AUDIT_HOOK_H
#define CKA_AUDIT_HOOK_H
#include "mod_cka.h"

/* pre_config: registers %^CA with mod_log_config (when loaded). */
int cka_audit_pre_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp);
/* post_config: does the configuration mention CONDUKTOR_AUTH_AUDIT? */
int cka_audit_post_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp,
                          server_rec *s);
/* log_transaction, before mod_log_config writes: the variable, where the
 * configuration mentions it. */
int cka_audit_log_transaction(request_rec *r);

#endif
