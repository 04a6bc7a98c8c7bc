/* verify.h - check a JWS signature with one key; which keys fit which
 * algorithm; choose keys from a set. */
#ifndef CKA_VERIFY_H
#define CKA_VERIFY_H
#include <apr_pools.h>
#include "jws.h"
#include "key.h"
#include "keyset.h"
#include "reason.h"

/* At most this many keys are tried for one token (a token without kid, or
 * whose kid falls back to the keys without kid): a set of many large RSA
 * keys must not turn one request into seconds of CPU. */
#define CKA_MAX_KEYS_TRIED 16

/* Does alg fit this key's type (and curve, and the JWK's own alg)? RFC
 * 7518 §3.2: an HMAC key at least as long as the hash. */
int cka_key_fits_alg(const cka_key_t *k, cka_alg_t alg);

/* Verify jws's signature with key k. Precondition not assumed: a key that
 * does not fit jws->alg gives CKA_KEY_MISMATCH. Signature sizes are checked
 * exactly (ES256: 64 bytes raw r||s, ...). CKA_OK or CKA_BAD_SIGNATURE.
 * The key is used as it is: the sanity rules are the parser's. */
cka_reason_t cka_verify_with_key(const cka_jws_t *jws, const cka_key_t *k);

/* Choose and verify against a key set (SPEC "Trust"):
 * - a kid that usable keys have: those keys (none fitting alg:
 *   CKA_KEY_MISMATCH);
 * - a kid no usable key has: the keys without kid that fit alg, at most
 *   CKA_MAX_KEYS_TRIED; when none verifies, CKA_UNSUPPORTED_KEY if the kid
 *   is that of a skipped key (a refetch would not help), else
 *   CKA_UNKNOWN_KEY;
 * - no kid: the first CKA_MAX_KEYS_TRIED keys that fit alg (none:
 *   CKA_UNKNOWN_KEY).
 * *used gets the key that verified (optional; unchanged on failure). */
cka_reason_t cka_verify_with_set(const cka_jws_t *jws, const cka_keyset_t *ks,
                                 const cka_key_t **used);

/* Set up, once, k's verification contexts (k->vctx) for every algorithm k
 * fits; called by the key-set parser on each key it keeps, so a parsed key
 * set is only ever read while tokens are verified, by any number of
 * threads. The contexts are freed with p. 0, or -1 when OpenSSL refuses
 * the key for one of those algorithms. */
int cka_verify_prepare(apr_pool_t *p, cka_key_t *k);

/* The same for one algorithm only (a key used once, such as a DPoP
 * proof's jwk: the contexts of algorithms it will not be asked for would
 * be made for nothing). 0, or -1 when alg does not fit k, is HMAC, or
 * OpenSSL refuses it. */
int cka_verify_prepare_alg(apr_pool_t *p, cka_key_t *k, cka_alg_t alg);

#endif
