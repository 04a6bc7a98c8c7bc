/* record.h - what the validated-token cache keeps, as bytes: the token's
 * hash as key; the alg, typ and the verified claims as value. Shared
 * caches hold these bytes, never pointers. */
#ifndef CKA_RECORD_H
#define CKA_RECORD_H
#include <stddef.h>
#include <apr_pools.h>
#include "alg.h"

#define CKA_HASH_LEN 32
#define CKA_TYP_MAX  63
#define CKA_KID_MAX  127

/* SHA-256 of the compact token: the cache key (the token itself is never
 * stored). 0, or -1 when OpenSSL fails (out is then zeroed and must not be
 * used as a key: the caller skips the cache). */
int cka_token_hash(const char *token, size_t len, unsigned char out[CKA_HASH_LEN]);

typedef struct {
    cka_alg_t   alg;
    const char *typ;          /* NULL when the header had none            */
    const char *kid;          /* NULL when the header had none            */
    const char *payload;      /* verified claims JSON                      */
    size_t      payload_len;
} cka_record_t;

/* Encode: "CKR2", alg (1 byte), typ length (1 byte) + typ, kid length
 * (1 byte) + kid, payload. Returns 0, or -1 when the record cannot be
 * cached (typ or kid too long). */
int cka_record_encode(apr_pool_t *p, const cka_record_t *rec,
                      unsigned char **out, size_t *out_len);

/* Decode and check the framing; the payload still goes through the strict
 * JSON parser before use. Returns 0 or -1. */
int cka_record_decode(const unsigned char *buf, size_t len, apr_pool_t *p,
                      cka_record_t *out);

#endif
