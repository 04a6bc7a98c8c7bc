/* config_introspect.h - the directives of config_introspect.c (the table is in directives.c). */
#ifndef CKA_CONFIG_INTROSPECT_H
#define CKA_CONFIG_INTROSPECT_H
#include "config.h"

const char *cka_set_introspect(cmd_parms *cmd, void *dcv, int argc, char *const argv[]);
const char *cka_set_introspect_jwt(cmd_parms *cmd, void *dcv, int on);
const char *cka_set_introspect_ttl(cmd_parms *cmd, void *dc, const char *arg);
/* check_config: every ConduktorAuthIntrospect names a ConduktorAuthIssuer
 * of its server, and every ConduktorAuthOpaqueTokens introspect <issuer> of
 * a server's sections has a ConduktorAuthIntrospect. OK, or !OK logged. */
int cka_check_introspect(apr_pool_t *ptemp, server_rec *s);

#endif
