/* id_headers.h - identity headers (id_headers.c): client copies stripped on
 * every path, the module's values set with no variant left. */
#ifndef CKA_ID_HEADERS_H
#define CKA_ID_HEADERS_H
#include "mod_cka.h"
#include "identity.h"

struct cka_dir_conf_t;
/* post_perdir_config (every request, subrequest and internal redirect)
 * and fixups (after mod_dir's fast redirect): strip client copies. */
int cka_id_headers_post_perdir(request_rec *r);
int cka_id_headers_fixups(request_rec *r);
void cka_id_headers_set(request_rec *r, const struct cka_dir_conf_t *dc,
                        const cka_identity_t *id);

#endif
