/* config_token.h - the directives of config_token.c (the table is in directives.c). */
#ifndef CKA_CONFIG_TOKEN_H
#define CKA_CONFIG_TOKEN_H
#include "config.h"

const char *cka_set_audience(cmd_parms *cmd, void *dcv, const char *arg);
const char *cka_set_skew(cmd_parms *cmd, void *dcv, const char *arg);
const char *cka_set_require_type(cmd_parms *cmd, void *dcv, const char *arg);
const char *cka_set_token_header(cmd_parms *cmd, void *dcv, const char *arg);
const char *cka_set_forward_token(cmd_parms *cmd, void *dcv, int on);
const char *cka_set_max_age(cmd_parms *cmd, void *dcv, const char *arg);
const char *cka_set_max_lifetime(cmd_parms *cmd, void *dcv, const char *arg);

#endif
