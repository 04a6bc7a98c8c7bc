/* tcache.h - the per-process front of the validated-token cache: parsed
 * claims kept in memory, keyed by the token hash, so a hit costs a hash and
 * a lookup (no signature, no JSON parse). Direct-mapped, striped locks. */
#ifndef CKA_TCACHE_H
#define CKA_TCACHE_H
#include <jansson.h>
#include <apr_pools.h>
#include "alg.h"
#include "record.h"

typedef struct cka_tcache_t cka_tcache_t;

/* nslots entries; 0 disables. Freed with pool p. */
cka_tcache_t *cka_tcache_create(apr_pool_t *p, unsigned nslots);

typedef struct {
    json_t    *claims;          /* a reference the caller releases        */
    cka_alg_t  alg;
    char       typ[CKA_TYP_MAX + 1];   /* "" when none                     */
    char       kid[CKA_KID_MAX + 1];   /* "" when none                     */
} cka_tcache_hit_t;

/* 1 on a hit that is still usable at now (entry until > now). */
int cka_tcache_get(cka_tcache_t *c, const unsigned char hash[CKA_HASH_LEN],
                   long long now, cka_tcache_hit_t *hit);

/* Keep claims (takes its own reference) until 'until' (Unix seconds). */
void cka_tcache_put(cka_tcache_t *c, const unsigned char hash[CKA_HASH_LEN],
                    json_t *claims, cka_alg_t alg, const char *typ,
                    const char *kid, long long until);

#endif
