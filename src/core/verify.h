/* verify.h - check a JWS signature with one key; choose keys from a set. */
#ifndef CKA_VERIFY_H
#define CKA_VERIFY_H
#include "jws.h"
#include "keyset.h"
#include "reason.h"

/* Verify jws's signature with key k. Precondition not assumed: a key that
 * does not fit jws->alg gives CKA_KEY_MISMATCH. Signature sizes are checked
 * exactly (ES256: 64 bytes raw r||s, ...). CKA_OK or CKA_BAD_SIGNATURE. */
cka_reason_t cka_verify_with_key(const cka_jws_t *jws, const cka_key_t *k);

/* Choose and verify against a key set. With a kid: the keys with exactly
 * that kid (none -> CKA_UNKNOWN_KEY). Without: every key that fits alg.
 * *used gets the key that verified (optional). */
cka_reason_t cka_verify_with_set(const cka_jws_t *jws, const cka_keyset_t *ks,
                                 const cka_key_t **used);

/* Set up, once, k's verification contexts (k->vctx) for every algorithm k
 * fits; called by the key-set parser on each key it keeps, so a parsed key
 * set is only ever read while tokens are verified, by any number of
 * threads. The contexts are freed with p. 0, or -1 when OpenSSL refuses
 * the key for one of those algorithms. */
int cka_verify_prepare(apr_pool_t *p, cka_key_t *k);

#endif
