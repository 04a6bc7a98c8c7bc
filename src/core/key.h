/* key.h - one verification key, as the key-set parser (keyset.c) makes it
 * and the verifier (verify.c) reads it. Part of the core: no httpd header. */
#ifndef CKA_KEY_H
#define CKA_KEY_H
#include <stddef.h>
#include <openssl/evp.h>
#include "alg.h"

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

#endif
