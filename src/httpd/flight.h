/* flight.h - one call per key at a time, with pending and failed markers:
 * the single-flight front that introspection (introspect.c) and the
 * client-credentials exchange (client_exchange.c) share.
 *
 * A front is a per-process table of slots, direct-mapped on a keyed name
 * (an HMAC: cka_seal_name), under one mutex and one condition. A slot
 * holds what the last call for its name gave - a state chosen by the
 * caller ('A' active, 'I' inactive, 'T' token, 'R' refused, 'F' failed,
 * ...), until when it holds, when it was answered, and a value (bytes,
 * malloc'ed, wiped when replaced) - and whether a call for the name is
 * under way (the pending marker). Concurrent requests for one name wait
 * for that call instead of making their own.
 *
 * Across processes and hosts the caller shares only positive results,
 * sealed, through the shared cache (shared_cache.h): pending, failed and
 * negative results stay in the process that saw them, so traffic that
 * nobody presented successfully cannot fill a shared store. */
#ifndef CKA_FLIGHT_H
#define CKA_FLIGHT_H
#include "mod_cka.h"
#include "seal.h"

typedef struct cka_flight_t cka_flight_t;

/* A front of nslots slots in pchild (NULL when the lock cannot be made:
 * the caller then goes without reuse or single flight). */
cka_flight_t *cka_flight_create(apr_pool_t *pchild, int nslots);

typedef struct {
    int          state;     /* the caller's; 0: nothing                  */
    long long    until;     /* Unix seconds: holds while now < until     */
    long long    at;        /* Unix seconds: when it was answered        */
    const char  *val;       /* the caller's bytes (NULL, 0: none)        */
    size_t       len;
} cka_flight_val_t;

/* Is a kept value still good for this reader (its own TTL, say)? now is
 * the current second; ctx the caller's. */
typedef int (*cka_flight_live_fn)(const cka_flight_val_t *v, long long now, void *ctx);

typedef enum {
    CKA_FLIGHT_HIT,         /* *out holds a live value (val copied to p) */
    CKA_FLIGHT_CALL,        /* the caller calls, then cka_flight_end      */
    CKA_FLIGHT_ALONE,       /* another name's call holds the slot: the
                               caller calls without single flight and
                               does not call cka_flight_end              */
    CKA_FLIGHT_TIMEOUT      /* another call for the name outlasted the
                               deadline                                  */
} cka_flight_begin_t;

/* Begin a request for name: a live value (live() may be NULL: until
 * decides), else wait while a call for name is under way (until
 * deadline), else take the slot for this caller's call. */
cka_flight_begin_t cka_flight_begin(cka_flight_t *f, const unsigned char name[CKA_SEAL_NAME_LEN],
                                    apr_time_t deadline, cka_flight_live_fn live, void *ctx,
                                    apr_pool_t *p, cka_flight_val_t *out);

/* End this caller's call (after CKA_FLIGHT_CALL): keep v (NULL or state
 * 0: keep nothing) and wake the requests waiting for it. */
void cka_flight_end(cka_flight_t *f, const unsigned char name[CKA_SEAL_NAME_LEN],
                    const cka_flight_val_t *v);

/* Keep v for name without a call of one's own (a result another process
 * or host shared), unless a call for another name holds the slot. */
void cka_flight_put(cka_flight_t *f, const unsigned char name[CKA_SEAL_NAME_LEN],
                    const cka_flight_val_t *v);

#endif
