/* metrics.c - request counters in shared memory, updated with atomic adds
 * (no lock). The segment lives in the process pool so counts survive
 * graceful restarts. */
#include "metrics.h"
#include <apr_shm.h>

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

#define ADD(field) do { if (ctr) __atomic_fetch_add(&ctr->field, 1, __ATOMIC_RELAXED); } while (0)

void cka_count_allowed(void) { ADD(allowed); }
void cka_count_cache(int hit) { if (hit) ADD(cache_hits); else ADD(cache_misses); }
void cka_count_cache_rejected(void) { ADD(cache_rejected); }
void cka_count_preflight(int answered) { if (answered) ADD(preflights); else ADD(preflights_refused); }

void cka_count_denied(cka_reason_t why)
{
    if ((int)why > 0 && why < CKA_REASON_COUNT)
        ADD(denied[why]);
}

void cka_metrics_snapshot(cka_counters_t *out)
{
    if (ctr == NULL) {
        memset(out, 0, sizeof(*out));
        return;
    }
    apr_uint64_t *src = (apr_uint64_t *)ctr, *dst = (apr_uint64_t *)out;
    for (size_t i = 0; i < sizeof(*out) / sizeof(apr_uint64_t); i++)
        dst[i] = __atomic_load_n(&src[i], __ATOMIC_RELAXED);
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
    if (rq->preflight)
        cka_count_preflight(status == HTTP_NO_CONTENT);
    else if (rq->authn_ok && status != HTTP_UNAUTHORIZED && status != HTTP_FORBIDDEN)
        cka_count_allowed();
    else if (rq->authn_ok)
        cka_count_denied(rq->reason == CKA_GROUP_DENIED ? CKA_GROUP_DENIED : CKA_CLAIM_DENIED);
    else if (rq->reason != CKA_OK)
        cka_count_denied(rq->reason);
    return DECLINED;
}
