/* validate.h - the whole token check: parse, pick keys, verify, claims. */
#ifndef CKA_VALIDATE_H
#define CKA_VALIDATE_H
#include <jansson.h>
#include <apr_pools.h>
#include <apr_tables.h>
#include "alg.h"
#include "jws.h"
#include "keyset.h"
#include "reason.h"
#include "record.h"

/* Where the keys of an issuer come from (the glue's key store, or a fixed
 * set in tests). get() returns the current key set for iss, or NULL with
 * *why = CKA_WRONG_ISSUER (not a trusted issuer) or CKA_KEYS_UNAVAILABLE
 * (never obtained). When a token names a kid the set does not have,
 * validate calls get() once more with refresh = 1 so the store may refetch
 * (rate-limited by the store). */
typedef struct {
    void *ctx;
    const cka_keyset_t *(*get)(void *ctx, apr_pool_t *p, const char *iss,
                               int refresh, cka_reason_t *why);
} cka_key_source_t;

typedef struct {
    cka_alg_set_t              algs;      /* allowed algorithms           */
    const apr_array_header_t  *audiences; /* const char *                 */
    int                        any_audience;
    const apr_array_header_t  *types;     /* const char *, NULL = any     */
    long long                  skew;      /* seconds                      */
    long long                  max_lifetime; /* exp - iat limit; 0 = off  */
} cka_policy_t;

typedef struct {
    cka_jws_t        jws;    /* header and claims, valid after parse      */
    const char      *iss;
    long long        exp;
    const cka_key_t *key;    /* the key that verified the signature       */
    const char      *detail; /* static text for the debug log, or NULL    */
} cka_verdict_t;

/* Signature and issuer only (what a cache entry can skip). */
cka_reason_t cka_validate_token(apr_pool_t *p, const char *token, size_t len,
                                const cka_policy_t *pol,
                                const cka_key_source_t *keys, long long now,
                                cka_verdict_t *out);
/* The same with the sorting's parsed parts handed on (cka_jws_parse_parts;
 * parts may be NULL). */
cka_reason_t cka_validate_token_parts(apr_pool_t *p, const char *token, size_t len,
                                      const cka_jws_parts_t *parts, const cka_policy_t *pol,
                                      const cka_key_source_t *keys, long long now,
                                      cka_verdict_t *out);

/* A cache hit (front or shared record), checked with the same rule set as
 * a fresh token, minus what the cache vouches for (the signature):
 *   1. usable here at all? The issuer configuration of this server that
 *      trusts the hit's iss (binding_here: its binding id, NULL when iss is
 *      not trusted here) must be the one that verified it, and its current
 *      key set must still hold the very key (by thumbprint, fitting alg).
 *      Otherwise the hit is not used: returns 0 and the caller verifies the
 *      token in full (another configuration's acceptance counts for nothing).
 *   2. the rules of this location and this moment: alg allowed, typ, time,
 *      audience. Returns 1 with *why CKA_OK or the refusal.
 * out (optional) gets iss and exp like cka_validate_token's verdict. */
int cka_validate_hit(apr_pool_t *p, const cka_record_t *hit,
                     const unsigned char *binding_here, const cka_policy_t *pol,
                     const cka_key_source_t *keys, long long now,
                     cka_reason_t *why, cka_verdict_t *out);

/* The per-request claim checks (time, lifetime, audience), also re-applied on a
 * cache hit. */
cka_reason_t cka_validate_claims(const json_t *claims, const cka_policy_t *pol,
                                 long long now, long long *exp_out);

#endif
