/* config_cred.h - the directives of config_cred.c (the table is in directives.c). */
#ifndef CKA_CONFIG_CRED_H
#define CKA_CONFIG_CRED_H
#include "config.h"

const char *cka_set_opaque_tokens(cmd_parms *cmd, void *dcv, const char *arg, const char *iss);
const char *cka_set_client_credentials(cmd_parms *cmd, void *dcv, int argc, char *const argv[]);

#endif
