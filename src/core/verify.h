/* verify.h - check a JWS signature with one key, and set up once what a
 * key needs for it. (Which keys of a set are tried: keyset.h; which
 * algorithms fit a key: key.h.) */
#ifndef CKA_VERIFY_H
#define CKA_VERIFY_H
#include <apr_pools.h>
#include "jws.h"
#include "key.h"
#include "err.h"

/* Verify jws's signature with key k. Precondition not assumed: a key that
 * does not fit jws->alg gives CKA_KEY_MISMATCH. Signature sizes are checked
 * exactly (ES256: 64 bytes raw r||s, ...). CKA_OK or CKA_BAD_SIGNATURE.
 * The key is used as it is: the sanity rules are the parser's. */
cka_reason_t cka_verify_with_key(const cka_jws_t *jws, const cka_key_t *k);

/* JOSE's ECDSA signature r||s (each half of len, at most 66 bytes) as the
 * DER ECDSA-Sig-Value OpenSSL wants: its length, or 0 when len is odd or
 * too long, or r or s is zero (the CVE-2022-21449 class). */
#define CKA_ECDSA_DER_MAX 144
size_t cka_ecdsa_der(const unsigned char *raw, size_t len,
                     unsigned char der[CKA_ECDSA_DER_MAX]);

/* The other way: DER (exactly len bytes) -> r||s, each left-padded to
 * half bytes, into raw (2 * half bytes). 0 or -1. */
int cka_ecdsa_raw(const unsigned char *der, size_t len, size_t half, unsigned char *raw);

/* Set up, once, k's verification contexts (k->vctx) for every algorithm k
 * fits; called by the key-set parser on each key it keeps, so a parsed key
 * set is only ever read while tokens are verified, by any number of
 * threads. The contexts are freed with p. CKA_OK, or CKA_CRYPTO_FAILED
 * when OpenSSL refuses the key for one of those algorithms. */
cka_reason_t cka_verify_prepare(apr_pool_t *p, cka_key_t *k, cka_err_t *err);

/* The same for one algorithm only (a key used once, such as a DPoP
 * proof's jwk: the contexts of algorithms it will not be asked for would
 * be made for nothing). 0, or -1 when alg does not fit k, is HMAC, or
 * OpenSSL refuses it. */
int cka_verify_prepare_alg(apr_pool_t *p, cka_key_t *k, cka_alg_t alg);

#endif
