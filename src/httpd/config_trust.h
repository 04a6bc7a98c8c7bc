/* config_trust.h - the directives of config_trust.c (the table is in directives.c). */
#ifndef CKA_CONFIG_TRUST_H
#define CKA_CONFIG_TRUST_H
#include "config.h"

const char *cka_set_issuer(cmd_parms *cmd, void *dc, const char *iss, const char *keys);
const char *cka_set_algorithms(cmd_parms *cmd, void *dc, const char *arg);
const char *cka_set_ca_file(cmd_parms *cmd, void *dc, const char *arg);
const char *cka_set_jwks_refresh(cmd_parms *cmd, void *dc, const char *arg);
const char *cka_set_miss_refetch(cmd_parms *cmd, void *dc, const char *arg);
const char *cka_set_http_timeout(cmd_parms *cmd, void *dc, const char *arg);

#endif
