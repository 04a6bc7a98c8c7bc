/* tcache.h - the per-process front of the validated-token cache: parsed
 * claims kept in memory under the token's lookup name, so a hit costs a
 * keyed hash and a lookup (no signature, no JSON parse). Each entry keeps
 * its binding and key thumbprint, checked on every hit like a shared
 * record's. Direct-mapped, striped locks. */
#ifndef CKA_TCACHE_H
#define CKA_TCACHE_H
#include <jansson.h>
#include <apr_pools.h>
#include "alg.h"
#include "record.h"

typedef struct cka_tcache_t cka_tcache_t;

/* nslots entries; 0 disables. Freed with pool p. */
cka_tcache_t *cka_tcache_create(apr_pool_t *p, unsigned nslots);

/* 1 on a hit still usable at now (now < until): *out gets copies of the
 * entry; out->claims is a reference released with p; payload is NULL. */
int cka_tcache_get(cka_tcache_t *c, const unsigned char name[CKA_SEAL_NAME_LEN],
                   long long now, apr_pool_t *p, cka_record_t *out);

/* Keep rec (its claims: a reference is taken) until rec->until. A typ or
 * kid too long to keep is not cached. */
void cka_tcache_put(cka_tcache_t *c, const unsigned char name[CKA_SEAL_NAME_LEN],
                    const cka_record_t *rec);

#endif
