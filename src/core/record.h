/* record.h - a validated token as the cache keeps it: the algorithm, typ
 * and kid of its header, the issuer configuration that verified it (its
 * binding id) and the RFC 7638 thumbprint of the verifying key, until when
 * it may be reused, and the verified claims. In a shared cache only ever
 * sealed (seal.h) under the token's keyed lookup name; bytes, never
 * pointers. */
#ifndef CKA_RECORD_H
#define CKA_RECORD_H
#include <stddef.h>
#include <jansson.h>
#include <apr_pools.h>
#include "alg.h"
#include "err.h"
#include "seal.h"

#define CKA_HASH_LEN  32
#define CKA_BIND_LEN  32     /* a binding id: SHA-256 (see key_store.h)    */
#ifndef CKA_THUMB_LEN
#define CKA_THUMB_LEN 32     /* an RFC 7638 SHA-256 thumbprint (key.h)      */
#endif
#define CKA_TYP_MAX   63
#define CKA_KID_MAX   127

/* SHA-256 of data (not a cache key: tokens are looked up under keyed
 * names, cka_seal_name). 0, or -1 when OpenSSL fails (out is zeroed). */
int cka_token_hash(const char *data, size_t len, unsigned char out[CKA_HASH_LEN]);

typedef struct {
    cka_alg_t      alg;
    const char    *typ;            /* NULL when the header had none        */
    const char    *kid;            /* NULL when the header had none        */
    unsigned char  binding[CKA_BIND_LEN];
    unsigned char  thumb[CKA_THUMB_LEN];
    long long      until;          /* Unix seconds; reused before it only  */
    const char    *payload;        /* verified claims JSON (encode/decode) */
    size_t         payload_len;
    const json_t  *claims;         /* the same, parsed (front, hit check)  */
} cka_record_t;

/* The plaintext of a record: "CKR3", alg (1 byte), until (8 bytes,
 * big-endian), binding, thumbprint, typ length (1) + typ, kid length (1) +
 * kid, payload (frame.h). CKA_RECORD_TOO_LARGE when it cannot be cached
 * (typ, kid or payload too long). */
cka_reason_t cka_record_encode(apr_pool_t *p, const cka_record_t *rec,
                               unsigned char **out, size_t *out_len, cka_err_t *err);

/* Check the framing exactly (magic, alg, lengths, no NUL in typ or kid,
 * until positive, a payload). The payload still goes through the strict
 * JSON parser before use. CKA_OK or CKA_RECORD_INVALID; claims is left
 * NULL. */
cka_reason_t cka_record_decode(const unsigned char *buf, size_t len, apr_pool_t *p,
                               cka_record_t *out, cka_err_t *err);

/* Encode and seal for the record stored under name; open and decode one
 * read from under name (any change anywhere, a record of another name or
 * another secret: -1), then parse its claims strictly (-1 when they do not
 * parse as a JSON object within the limits). 0 or -1: the earlier shape,
 * kept while token_cache.c (issue 24) is being changed; a record that does
 * not open has one cause only (CKA_RECORD_INVALID). */
int cka_record_seal(const cka_seal_t *s, apr_pool_t *p,
                    const unsigned char name[CKA_SEAL_NAME_LEN],
                    const cka_record_t *rec, unsigned char **out, size_t *out_len);
int cka_record_open(const cka_seal_t *s, apr_pool_t *p,
                    const unsigned char name[CKA_SEAL_NAME_LEN],
                    const unsigned char *buf, size_t len, cka_record_t *out);

#endif
