/* dpop_hook.h - sender-constrained tokens in httpd (dpop_hook.c; core: dpop.c). */
#ifndef CKA_DPOP_HOOK_H
#define CKA_DPOP_HOOK_H
#include "config.h"

/* The binding rules and the DPoP proof of a verified token (CKA_OK, or
 * why refused, with a detail for the log; on CKA_OK the backend's
 * Authorization is Bearer and DPoP is gone). */
cka_reason_t cka_binding_check(request_rec *r, const cka_dir_conf_t *dc,
                               const char *tok, size_t len, const json_t *claims,
                               const char **detail);
void cka_dpop_child_init(apr_pool_t *pchild, server_rec *s);

/* ConduktorAuthRequireBinding, ConduktorAuthDPoPAlgorithms,
 * ConduktorAuthDPoPWindow, ConduktorAuthDPoPNonce, ConduktorAuthPublicURL */
const char *cka_set_require_binding(cmd_parms *cmd, void *dc, const char *arg);
const char *cka_set_dpop_algs(cmd_parms *cmd, void *dc, const char *arg);
const char *cka_set_dpop_window(cmd_parms *cmd, void *dc, const char *arg);
const char *cka_set_dpop_nonce(cmd_parms *cmd, void *dc, int on);
const char *cka_set_public_url(cmd_parms *cmd, void *dc, const char *arg);

#endif
