/* key.h - one verification key, as the key-set parser (keyset.c) makes it
 * and the verifier (verify.c) reads it: its type, its builders with the
 * sanity rules, and which algorithms it fits. Part of the core: no httpd
 * header. */
#ifndef CKA_KEY_H
#define CKA_KEY_H
#include <stddef.h>
#include <apr_pools.h>
#include <openssl/evp.h>
#include "alg.h"
#include "err.h"

typedef enum { CKA_KTY_RSA = 1, CKA_KTY_EC, CKA_KTY_OKP, CKA_KTY_OCT } cka_kty_t;
typedef enum { CKA_CRV_NONE = 0, CKA_CRV_P256, CKA_CRV_P384, CKA_CRV_P521,
               CKA_CRV_ED25519 } cka_crv_t;

/* Bytes of an RFC 7638 JWK thumbprint (SHA-256). */
#define CKA_THUMB_LEN 32

typedef struct {
    const char  *kid;        /* NULL when the JWK has none                 */
    cka_kty_t    kty;
    cka_crv_t    crv;        /* EC / OKP curve                             */
    cka_alg_t    alg;        /* the JWK's own alg, or CKA_ALG_UNKNOWN      */
    int          bits;       /* RSA: exact bit length of the modulus;
                              * oct: 8 x the secret's length              */
    EVP_PKEY    *pkey;       /* RSA, EC, OKP Ed25519 (OpenSSL)             */
    /* For each alg the key fits (HS excepted): a verification context set
     * up once by cka_verify_prepare (key, digest, padding), only ever
     * copied afterwards, never used directly; NULL for the others. */
    EVP_MD_CTX  *vctx[CKA_ALG_COUNT];
    const unsigned char *secret;  /* oct: the HMAC key bytes               */
    size_t       secret_len;
    /* RFC 7638 thumbprint of the public key (SHA-256 over the required
     * members in lexicographic order: RSA {e,kty,n}, EC {crv,kty,x,y},
     * OKP {crv,kty,x}, oct {k,kty}); the same key has the same thumbprint
     * whatever its kid, alg or use, and whichever source it came from. */
    unsigned char thumb[CKA_THUMB_LEN];
} cka_key_t;

/* Builders: fill k (kty, crv, bits, pkey or secret, thumb) from the raw
 * big-endian members, applying the sanity rules (err.h's convention).
 * CKA_KEY_UNTRUSTED: a sanity rule refused a key that could be used but
 * must not be trusted (RSA modulus under 2048 or over 8192 bits; e even,
 * below 3 or above 2^32; an EC point off its curve; an Ed25519 point of
 * small order); CKA_KEY_UNUSABLE: any other shape that is not a key;
 * CKA_CRYPTO_FAILED: no thumbprint. The detail is a static text naming no
 * key byte. k's kid and alg are the caller's. Objects live in p. */
cka_reason_t cka_key_rsa(apr_pool_t *p, cka_key_t *k,
                         const unsigned char *n, size_t nlen,
                         const unsigned char *e, size_t elen, cka_err_t *err);
cka_reason_t cka_key_ec(apr_pool_t *p, cka_key_t *k, cka_crv_t crv,
                        const unsigned char *x, size_t xlen,
                        const unsigned char *y, size_t ylen, cka_err_t *err);
cka_reason_t cka_key_okp(apr_pool_t *p, cka_key_t *k, const unsigned char *x, size_t xlen,
                         cka_err_t *err);
cka_reason_t cka_key_oct(apr_pool_t *p, cka_key_t *k, const unsigned char *s, size_t slen,
                         cka_err_t *err);

/* Does alg fit this key's type (and curve, and the JWK's own alg)? RFC
 * 7518 §3.2: an HMAC key at least as long as the hash. */
int cka_key_fits_alg(const cka_key_t *k, cka_alg_t alg);

/* Coordinate size in bytes of an EC curve (0 for others). */
size_t cka_crv_size(cka_crv_t crv);

/* RFC 7638 thumbprint as base64url text (43 characters). */
char *cka_thumb_text(apr_pool_t *p, const unsigned char thumb[CKA_THUMB_LEN]);

#endif
