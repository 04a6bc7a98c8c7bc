/* request.c - what one request learned (cka_req_t, see request.h), kept in
 * r->request_config: created on first use, never in shared configuration. */
#include "request.h"
#include "mod_cka.h"

cka_req_t *cka_req(request_rec *r)
{
    cka_req_t *rq = ap_get_module_config(r->request_config, &conduktor_auth_module);
    if (rq == NULL) {
        rq = apr_pcalloc(r->pool, sizeof(*rq));
        ap_set_module_config(r->request_config, &conduktor_auth_module, rq);
    }
    return rq;
}
