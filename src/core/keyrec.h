/* keyrec.h - a fetched key set as bytes, for a cache shared by several
 * httpd hosts: when it was fetched, until when it is fresh, the JWKS URL it
 * came from and the document itself. Whoever reads one parses the document
 * again with the strict key-set parser; this only frames it.
 *
 * Also the identity of an issuer configuration (a "binding": issuer, key
 * source and CA file), which names a key set wherever it is kept. */
#ifndef CKA_KEYREC_H
#define CKA_KEYREC_H
#include <stddef.h>
#include <stdint.h>
#include <apr_pools.h>
#include "err.h"

#define CKA_BINDING_ID_LEN 32      /* SHA-256                               */
#define CKA_KEYREC_KEY_LEN 33      /* 'K' + binding id: never a token key (32) */
#define CKA_KEYREC_URI_MAX 2047

typedef struct {
    int64_t     fetched_at;      /* apr_time_t: microseconds since the epoch */
    int64_t     fresh_until;
    const char *jwks_uri;        /* NUL-terminated, no NUL inside            */
    const char *doc;             /* the JWKS document as fetched             */
    size_t      doc_len;
} cka_keyrec_t;

/* The identity of one issuer configuration: SHA-256 over a version label
 * and, each with a 4-byte big-endian length in front, the issuer, the kind
 * of key source ("file", "jwks", "discovery"), the source (file path, JWKS
 * URL, "" for discovery) and the CA file the fetches trust ("" for the
 * system store). NULL counts as "". Two configurations with the same id
 * see the same keys; any difference in one field gives another id.
 * 0, or -1 when it cannot be computed. */
int cka_binding_id(const char *iss, const char *kind, const char *source,
                   const char *ca_file, unsigned char out[CKA_BINDING_ID_LEN]);

/* The shared-cache key of the key set of one binding: 'K' + its id (so a
 * host with another key source or CA file never reads it). */
void cka_keyrec_key(const unsigned char id[CKA_BINDING_ID_LEN],
                    unsigned char out[CKA_KEYREC_KEY_LEN]);

/* "CKK1", fetched_at and fresh_until (8 bytes each, big-endian), URI length
 * (2 bytes) + URI, document length (4 bytes) + document (frame.h).
 * CKA_RECORD_TOO_LARGE when a field does not fit (URI too long, document
 * over max_doc). */
cka_reason_t cka_keyrec_encode(apr_pool_t *p, const cka_keyrec_t *rec, size_t max_doc,
                               unsigned char **out, size_t *out_len, cka_err_t *err);

/* Check the framing exactly (magic, lengths, no NUL in the URI, times
 * positive, document within max_doc, nothing left over). CKA_OK or
 * CKA_RECORD_INVALID. The strings point into p. */
cka_reason_t cka_keyrec_decode(const unsigned char *buf, size_t len, size_t max_doc,
                               apr_pool_t *p, cka_keyrec_t *out, cka_err_t *err);

#endif
