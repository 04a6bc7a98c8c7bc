/* config_cors.h - the directives of config_cors.c (the table is in directives.c). */
#ifndef CKA_CONFIG_CORS_H
#define CKA_CONFIG_CORS_H
#include "config.h"

const char *cka_set_cors_origin(cmd_parms *cmd, void *dcv, const char *arg);
const char *cka_set_cors_methods(cmd_parms *cmd, void *dcv, const char *arg);
const char *cka_set_cors_headers(cmd_parms *cmd, void *dcv, const char *arg);
const char *cka_set_cors_expose(cmd_parms *cmd, void *dcv, const char *arg);
const char *cka_set_cors_credentials(cmd_parms *cmd, void *dcv, int on);
const char *cka_set_cors_max_age(cmd_parms *cmd, void *dcv, const char *arg);
/* check_config: ConduktorAuthCORSAllowCredentials On in one scope that
 * inherits ConduktorAuthCORSAllowOrigin * from another (a server's
 * defaults, or an enclosing literal <Location>). The same-scope case is
 * refused by the directives themselves. Only combinations certain to merge
 * for at least the inner scope's own path are refused; regex or wildcard
 * <Location>s and <Directory> sections that set CORS make it uncertain,
 * and the request-time rule (never `*` with credentials) still holds
 * then. OK, or !OK with the reason logged. */
int cka_check_cors_scopes(apr_pool_t *ptemp, server_rec *s);

#endif
