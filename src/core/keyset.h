/* keyset.h - JWK / JWKS / PEM -> ready-to-use verification keys, the keys
 * that were not taken (with why), and which keys of a set a token is tried
 * against. Failures in err.h's shape. */
#ifndef CKA_KEYSET_H
#define CKA_KEYSET_H
#include <stddef.h>
#include <apr_pools.h>
#include <apr_tables.h>
#include <jansson.h>
#include "alg.h"
#include "err.h"
#include "jws.h"
#include "key.h"

/* At most this many keys are tried for one token (a token without kid, or
 * whose kid falls back to the keys without kid): a set of many large RSA
 * keys must not turn one request into seconds of CPU. */
#define CKA_MAX_KEYS_TRIED 16

/* One key of the document that is not used (skipped): its kid (NULL when
 * it has none, or it was not read) and why (static text, no key data). */
typedef struct {
    const char   *kid;
    cka_reason_t  reason;   /* CKA_KEY_UNTRUSTED or CKA_KEY_UNUSABLE      */
    const char   *why;
} cka_key_skip_t;

typedef struct {
    apr_pool_t          *pool;     /* everything below lives here          */
    apr_array_header_t  *keys;     /* of cka_key_t *                       */
    int                  skipped;  /* keys not used: skips + over_cap      */
    apr_array_header_t  *skips;    /* of cka_key_skip_t, document order    */
    int                  over_cap; /* keys past CKA_MAX_KEYS, not even read */
    int                  untrusted;/* skips by a sanity rule (a key that
                                    * would verify but must not be trusted:
                                    * worth a warning, unlike "use enc")   */
} cka_keyset_t;

/* Parse a JWKS document ({"keys": [...]}) or a single JWK. Only the first
 * CKA_MAX_KEYS entries of "keys" are read; the rest are counted (over_cap)
 * without being parsed. Keys that are not for verification (use other than
 * "sig", key_ops without "verify", unknown kty / crv, private-only shapes)
 * and keys that cannot be trusted (RSA modulus under 2048 or over 8192
 * bits; RSA e even, below 3 or above 2^32; an EC point off its curve; an
 * Ed25519 point of small order) are skipped and recorded in skips; a set
 * with no usable key is an error. CKA_OK with *out, or CKA_KEYSET_INVALID
 * (*out NULL). */
cka_reason_t cka_keyset_parse_json(apr_pool_t *p, const char *buf, size_t len,
                                   cka_keyset_t **out, cka_err_t *err);

/* The same for a document fetched from an IdP: oct (HMAC) keys are never
 * taken from it (recorded as skipped, their secret not even decoded). */
cka_reason_t cka_keyset_parse_remote(apr_pool_t *p, const char *buf, size_t len,
                                     cka_keyset_t **out, cka_err_t *err);

/* A PEM public key ("PUBLIC KEY", "RSA PUBLIC KEY") or certificate(s); the
 * same sanity rules as for a JWK. */
cka_reason_t cka_keyset_parse_pem(apr_pool_t *p, const char *buf, size_t len,
                                  cka_keyset_t **out, cka_err_t *err);

/* One JWK object -> k (kty, crv, bits, pkey or secret, thumb; alg from
 * the JWK's own alg): the members every kind shares (use, key_ops, alg),
 * then the builder of its kty with its sanity rules. k's verification
 * contexts are not prepared (cka_verify_prepare, cka_verify_prepare_alg).
 * allow_oct 0: an oct key is refused unread. CKA_OK, or the builder's
 * code (key.h) with a static detail naming no key data. The DPoP verifier
 * (dpop.c) takes a proof's jwk header through here: one key import for
 * tokens and proofs. */
cka_reason_t cka_jwk_key(apr_pool_t *p, const json_t *jwk, int allow_oct, cka_key_t *k,
                         cka_err_t *err);
/* The same in the earlier shape (NULL, or the detail), for dpop.c until it
 * moves to cka_jwk_key. */
const char *cka_key_from_jwk(apr_pool_t *p, const json_t *jwk, int allow_oct, cka_key_t *k);

/* Read a file and parse it as JWKS JSON or PEM (decided by content).
 * CKA_FILE_UNREADABLE or CKA_KEYSET_INVALID, the detail naming the path. */
cka_reason_t cka_keyset_load_file(apr_pool_t *p, const char *path, cka_keyset_t **out,
                                  cka_err_t *err);

/* Remove every key of type kty, recording each as skipped; returns how
 * many were removed. (Kept until key_store.c uses cka_keyset_parse_remote.) */
int cka_keyset_drop_kty(cka_keyset_t *ks, cka_kty_t kty);

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

/* Does the set (still) hold a key that could have verified a token with
 * this kid (NULL: none) and alg, by the rules of cka_verify_with_set (a
 * kid no key has falls back to the keys without kid)? */
int cka_keyset_has_key(const cka_keyset_t *ks, const char *kid, cka_alg_t alg);

/* The key of the set with this RFC 7638 thumbprint, or NULL when the set
 * (no longer) holds it. */
const cka_key_t *cka_keyset_find_thumb(const cka_keyset_t *ks,
                                       const unsigned char thumb[CKA_THUMB_LEN]);

/* Is kid the kid of a key that was skipped (and of no usable key)? */
int cka_keyset_kid_skipped(const cka_keyset_t *ks, const char *kid);

/* One log-safe line naming the keys that were skipped and why, e.g.
 * `2 keys skipped: kid "old": RSA modulus under 2048 bits; (no kid):
 * Ed25519 key of small order` (kids escaped and cut at 40 characters, at
 * most 8 keys named, never key material); NULL when none was. */
const char *cka_keyset_describe_skips(apr_pool_t *p, const cka_keyset_t *ks);

#endif
