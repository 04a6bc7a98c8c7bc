/* keyset.h - JWK / JWKS / PEM -> ready-to-use verification keys. */
#ifndef CKA_KEYSET_H
#define CKA_KEYSET_H
#include <stddef.h>
#include <apr_pools.h>
#include <apr_tables.h>
#include <openssl/evp.h>
#include <cjose/jwk.h>
#include "alg.h"

typedef enum { CKA_KTY_RSA = 1, CKA_KTY_EC, CKA_KTY_OKP, CKA_KTY_OCT } cka_kty_t;
typedef enum { CKA_CRV_NONE = 0, CKA_CRV_P256, CKA_CRV_P384, CKA_CRV_P521,
               CKA_CRV_ED25519 } cka_crv_t;

typedef struct {
    const char  *kid;        /* NULL when the JWK has none                 */
    cka_kty_t    kty;
    cka_crv_t    crv;        /* EC / OKP curve                             */
    cka_alg_t    alg;        /* the JWK's own alg, or CKA_ALG_UNKNOWN      */
    int          bits;       /* RSA modulus / oct key size                 */
    EVP_PKEY    *pkey;       /* RSA, EC, OKP Ed25519 (OpenSSL)             */
    /* For each alg the key fits (HS excepted): a verification context set
     * up once by cka_verify_prepare (key, digest, padding), only ever
     * copied afterwards, never used directly; NULL for the others. */
    EVP_MD_CTX  *vctx[CKA_ALG_COUNT];
    const unsigned char *secret;  /* oct: the HMAC key bytes               */
    size_t       secret_len;
    cjose_jwk_t *jwk;        /* RSA, EC, oct: the same key as cjose reads
                              * it (a parse-time check; not used to verify) */
} cka_key_t;

typedef struct {
    apr_pool_t          *pool;     /* everything below lives here          */
    apr_array_header_t  *keys;     /* of cka_key_t *                       */
    int                  skipped;  /* keys not usable for verification     */
    const char          *skip_why; /* first reason a key was skipped       */
} cka_keyset_t;

/* Parse a JWKS document ({"keys": [...]}) or a single JWK. Keys that are
 * not for verification (use other than "sig", key_ops without "verify",
 * unknown kty / crv, private-only shapes) are skipped and counted; a set
 * with no usable key is an error. Returns NULL with *err set. */
cka_keyset_t *cka_keyset_parse_json(apr_pool_t *p, const char *buf, size_t len,
                                    char **err);

/* A PEM public key ("PUBLIC KEY", "RSA PUBLIC KEY") or certificate. */
cka_keyset_t *cka_keyset_parse_pem(apr_pool_t *p, const char *buf, size_t len,
                                   char **err);

/* Read a file and parse it as JWKS JSON or PEM (decided by content). */
cka_keyset_t *cka_keyset_load_file(apr_pool_t *p, const char *path, char **err);

/* Remove every key of type kty (remote sets never carry HMAC secrets we
 * would trust); returns how many were removed. */
int cka_keyset_drop_kty(cka_keyset_t *ks, cka_kty_t kty);

/* Does the set (still) hold a key that could have verified a token with
 * this kid (NULL: none) and alg? Used on validated-token cache hits, so a
 * withdrawn key also retires the tokens it signed. */
int cka_keyset_has_key(const cka_keyset_t *ks, const char *kid, cka_alg_t alg);

/* Does alg fit this key's type (and curve, and the JWK's own alg)? */
int cka_key_fits_alg(const cka_key_t *k, cka_alg_t alg);

#endif
