/* resource_md.h - RFC 9728 protected-resource metadata (resource_md.c). */
#ifndef CKA_RESOURCE_MD_H
#define CKA_RESOURCE_MD_H
#include "config.h"

/* quick_handler: the metadata document at its well-known URL. */
int cka_resource_md_handler(request_rec *r, int lookup);

/* ConduktorAuthResource */
const char *cka_set_resource(cmd_parms *cmd, void *dc, const char *arg);
/* Remember a Require conduktor-scope line's scopes for the metadata of the
 * resource of its section (nothing in .htaccess). */
void cka_resource_note_scopes(cmd_parms *cmd, const apr_array_header_t *scopes);

#endif
