/* fuzz_common.h - shared by the libFuzzer targets in tests/fuzz/.
 *
 * APR is initialised once; each iteration works in its own pool (a child of
 * fz_root) that the target destroys at the end of the iteration, so the
 * jansson objects tied to it are released every time and LeakSanitizer
 * sees any real leak.
 *
 * Keys are generated with OpenSSL when the fuzzer starts, so no seed and no
 * crash input can hold a valid signature: a raw fuzz input that validates
 * is a forged token, and the targets abort on it.
 *
 * This file does not use the code under test to make keys, JWKs or
 * signatures (base64url included): it is written straight on OpenSSL. */
#ifndef FUZZ_COMMON_H
#define FUZZ_COMMON_H
#include <stddef.h>
#include <stdint.h>
#include <apr_pools.h>
#include <openssl/evp.h>
#include "alg.h"

/* Fail loudly: libFuzzer records the input as a crash. */
#define FZ_CHECK(cond, msg) do { if (!(cond)) fz_fail(__FILE__, __LINE__, msg); } while (0)
void fz_fail(const char *file, int line, const char *msg) __attribute__((noreturn));

/* apr_initialize and the root pool; idempotent. */
void fz_apr_init(void);

/* Around start-up work whose results live for the whole run (key sets,
 * fixed tokens in fz_root): APR pools may take their memory from mmap,
 * which LeakSanitizer does not scan, so objects only pointed to from pool
 * memory would be reported as leaks. What is allocated in between is
 * marked as not leaked (and scanned as a root). */
void fz_init_begin(void);
void fz_init_end(void);
/* The same for one object kept across iterations (e.g. in a cache). */
void fz_keep(const void *p);
extern apr_pool_t *fz_root;

typedef enum {
    FZ_RSA = 0,     /* RSA-2048                       */
    FZ_P256,        /* EC P-256                       */
    FZ_P384,        /* EC P-384                       */
    FZ_P521,        /* EC P-521                       */
    FZ_ED25519,     /* OKP Ed25519                    */
    FZ_HMAC,        /* 64 random bytes (oct)          */
    FZ_KIND_COUNT
} fz_kind_t;

/* Generate every key (once). */
void fz_keys_init(void);
EVP_PKEY *fz_pkey(fz_kind_t kind);          /* NULL for FZ_HMAC */
const unsigned char *fz_secret(size_t *len);

/* The key kind that signs alg. */
fz_kind_t fz_kind_for_alg(cka_alg_t alg);

/* base64url without padding, in pool p. */
char *fz_b64url(apr_pool_t *p, const void *data, size_t len);

/* Public JWK text of kind; kid/alg/use NULL to leave out. */
char *fz_jwk(apr_pool_t *p, fz_kind_t kind, const char *kid, const char *alg,
             const char *use);
/* PEM SubjectPublicKeyInfo of kind (not HMAC). */
char *fz_pem_public(apr_pool_t *p, fz_kind_t kind);

/* JOSE signature (raw r||s for ECDSA) of data with the key of kind for alg.
 * Returns 0 on success. */
int fz_sign(apr_pool_t *p, fz_kind_t kind, cka_alg_t alg, const void *data,
            size_t len, unsigned char **sig, size_t *sig_len);

/* b64(header).b64(payload).b64(sig) signed with kind for alg; NULL on
 * failure. header/payload are bytes, used verbatim. */
char *fz_token(apr_pool_t *p, fz_kind_t kind, cka_alg_t alg,
               const void *header, size_t hlen, const void *payload, size_t plen);

/* Split buf at the first NUL: *a = [buf, nul), *rest after it. Returns 0
 * when no NUL was found (then *a is all of buf and *rest_len is 0). */
int fz_split(const uint8_t *buf, size_t len, const uint8_t **a, size_t *alen,
             const uint8_t **rest, size_t *rest_len);

/* A NUL-terminated copy in pool p. */
char *fz_strndup(apr_pool_t *p, const void *data, size_t len);

#endif
