/* metrics.c - request counters in shared memory, updated with atomic adds
 * (no lock). The segment lives in the process pool so counts survive
 * graceful restarts. */
#include "metrics.h"
#include "challenge.h"
#include "request.h"
#include <apr_shm.h>
#include <apr_atomic.h>

static cka_counters_t *ctr;

int cka_metrics_post_config(server_rec *s)
{
    static const char *key = "conduktor_auth_counters";
    apr_pool_t *proc = s->process->pool;
    void *data = NULL;
    apr_pool_userdata_get(&data, key, proc);
    if (data == NULL) {
        apr_shm_t *shm;
        apr_status_t rv = apr_shm_create(&shm, sizeof(cka_counters_t), NULL, proc);
        if (rv != APR_SUCCESS) {
            ap_log_error(APLOG_MARK, APLOG_WARNING, rv, s, CKA_LOG_PREFIX
                         "no shared memory for counters; the status page will show zeros");
            return OK;
        }
        data = apr_shm_baseaddr_get(shm);
        memset(data, 0, sizeof(cka_counters_t));
        apr_pool_userdata_set(data, key, apr_pool_cleanup_null, proc);
    }
    ctr = data;
    return OK;
}

const cka_counter_row_t cka_counter_rows[] = {
#define CKA_X_ROW(member, family, label, group, key, help) \
    { offsetof(cka_counters_t, member), family, label, group, key, help },
    CKA_COUNTERS(CKA_X_ROW)
#undef CKA_X_ROW
};
const int cka_counter_nrows = sizeof(cka_counter_rows) / sizeof(cka_counter_rows[0]);

static void add_at(size_t offset)
{
    if (ctr)
        apr_atomic_inc64((volatile apr_uint64_t *)((char *)ctr + offset));
}

void cka_count_at(size_t offset)
{
    add_at(offset);
}

void cka_count_denied(cka_reason_t why)
{
    if ((int)why > 0 && why < CKA_REASON_COUNT)
        add_at(offsetof(cka_counters_t, denied) + (size_t)why * sizeof(apr_uint64_t));
}

void cka_count_introspect(int slot, int result)
{
    if (slot >= 0 && slot < CKA_MAX_INTROSPECT_ISSUERS && result >= 0
        && result < CKA_IS_R_COUNT)
        add_at(offsetof(cka_counters_t, introspect)
               + ((size_t)slot * CKA_IS_R_COUNT + (size_t)result) * sizeof(apr_uint64_t));
}

int cka_introspect_failing(int slot, int failing)
{
    if (ctr == NULL || slot < 0 || slot >= CKA_MAX_INTROSPECT_ISSUERS)
        return 1;
    volatile apr_uint64_t *f = &ctr->introspect_failing[slot];
    return failing ? apr_atomic_cas64(f, 1, 0) == 0 : apr_atomic_cas64(f, 0, 1) == 1;
}

void cka_count_dpop_refused(cka_dpop_defect_t d)
{
    if ((int)d > 0 && d < CKA_DPD_COUNT)
        add_at(offsetof(cka_counters_t, dpop_refused) + (size_t)d * sizeof(apr_uint64_t));
}

void cka_metrics_snapshot(cka_counters_t *out)
{
    if (ctr == NULL) {
        memset(out, 0, sizeof(*out));
        return;
    }
    apr_uint64_t *src = (apr_uint64_t *)ctr, *dst = (apr_uint64_t *)out;
    for (size_t i = 0; i < sizeof(*out) / sizeof(apr_uint64_t); i++)
        dst[i] = apr_atomic_read64(&src[i]);
}

int cka_metrics_log_transaction(request_rec *r)
{
    cka_req_t *rq = ap_get_module_config(r->request_config, &conduktor_auth_module);
    if (rq == NULL || r->main != NULL)
        return DECLINED;
    const request_rec *last = r;
    while (last->next)
        last = last->next;
    int status = last->status;
    switch (rq->cred_kind) {
    case CKA_CRED_JWT:                cka_count(cred_jwt); break;
    case CKA_CRED_OPAQUE:             cka_count(cred_opaque); break;
    case CKA_CRED_CLIENT_CREDENTIALS: cka_count(cred_client_credentials); break;
    case CKA_CRED_BASIC:              cka_count(cred_basic); break;
    case CKA_CRED_INTROSPECTED:       cka_count(cred_introspected); break;
    default:                          break;
    }
    if (rq->preflight) {
        if (status == HTTP_NO_CONTENT)
            cka_count(preflights);
        else
            cka_count(preflights_refused);
    }
    else if (rq->authn_ok && status != HTTP_UNAUTHORIZED && status != HTTP_FORBIDDEN)
        cka_count(allowed);
    else if (rq->authn_ok)
        cka_count_denied(cka_authz_denial(rq));
    else if (rq->reason != CKA_OK)
        cka_count_denied(rq->reason);
    else if (rq->cred_kind == CKA_CRED_OPAQUE && status < 400)
        cka_count(passed);
    return DECLINED;
}
