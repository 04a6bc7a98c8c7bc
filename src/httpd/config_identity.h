/* config_identity.h - the directives of config_identity.c (the table is in directives.c). */
#ifndef CKA_CONFIG_IDENTITY_H
#define CKA_CONFIG_IDENTITY_H
#include "config.h"

const char *cka_set_user_claim(cmd_parms *cmd, void *dcv, const char *arg);
const char *cka_set_email_claim(cmd_parms *cmd, void *dcv, const char *arg);
const char *cka_set_groups_claim(cmd_parms *cmd, void *dcv, const char *arg);
const char *cka_set_separator(cmd_parms *cmd, void *dcv, const char *arg);
const char *cka_set_claim_env(cmd_parms *cmd, void *dcv, const char *claim, const char *var);
const char *cka_set_identity_header(cmd_parms *cmd, void *dcv, const char *field, const char *header);

#endif
