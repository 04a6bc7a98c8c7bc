/* metrics.h - counters shared by all child processes (shared memory). */
#ifndef CKA_METRICS_H
#define CKA_METRICS_H
#include "mod_cka.h"

typedef struct {
    apr_uint64_t allowed;
    apr_uint64_t denied[CKA_REASON_COUNT];
    apr_uint64_t cache_hits, cache_misses;
    apr_uint64_t cache_rejected;   /* shared records that did not open */
    apr_uint64_t preflights, preflights_refused;
} cka_counters_t;

int  cka_metrics_post_config(server_rec *s);
void cka_count_allowed(void);
void cka_count_denied(cka_reason_t why);
void cka_count_cache(int hit);
void cka_count_cache_rejected(void);
void cka_count_preflight(int answered);
/* A copy of the counters (zeros when unavailable). */
void cka_metrics_snapshot(cka_counters_t *out);
/* log_transaction: count the request's outcome once. */
int cka_metrics_log_transaction(request_rec *r);

#endif
