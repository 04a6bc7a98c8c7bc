/* cors_hook.h - CORS in httpd (cors_hook.c; core: cors.c): preflights
 * answered before authentication, the CORS headers on every response. */
#ifndef CKA_CORS_HOOK_H
#define CKA_CORS_HOOK_H
#include "mod_cka.h"
#include <util_filter.h>

struct cka_dir_conf_t;
/* header_parser: a preflight answered (or refused) here; DECLINED else. */
int cka_cors_request(request_rec *r, const struct cka_dir_conf_t *dc);
/* insert_filter, and the output filter that replaces a backend's CORS
 * headers with the module's. */
void cka_cors_insert_filter(request_rec *r);
#define CKA_CORS_FILTER "CONDUKTOR_AUTH_CORS"
apr_status_t cka_cors_filter(ap_filter_t *f, apr_bucket_brigade *bb);

#endif
