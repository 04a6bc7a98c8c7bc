/* keyrec.h - a fetched key set as bytes, for a cache shared by several
 * httpd hosts: when it was fetched, until when it is fresh, the JWKS URL it
 * came from and the document itself. Whoever reads one parses the document
 * again with the strict key-set parser; this only frames it. */
#ifndef CKA_KEYREC_H
#define CKA_KEYREC_H
#include <stddef.h>
#include <stdint.h>
#include <apr_pools.h>

#define CKA_KEYREC_KEY_LEN 33      /* 'K' + SHA-256: never a token key (32) */
#define CKA_KEYREC_URI_MAX 2047

typedef struct {
    int64_t     fetched_at;      /* apr_time_t: microseconds since the epoch */
    int64_t     fresh_until;
    const char *jwks_uri;        /* NUL-terminated, no NUL inside            */
    const char *doc;             /* the JWKS document as fetched             */
    size_t      doc_len;
} cka_keyrec_t;

/* The cache key of an issuer's key set: 'K' + SHA-256 of the issuer and
 * its configured key source ("" for discovery). 0, or -1 when it cannot
 * be made (then there is no key: do not use the shared cache). */
int cka_keyrec_key(const char *iss, const char *source,
                   unsigned char out[CKA_KEYREC_KEY_LEN]);

/* "CKK1", fetched_at and fresh_until (8 bytes each, big-endian), URI length
 * (2 bytes) + URI, document length (4 bytes) + document. -1 when a field
 * does not fit (URI too long, document over max_doc). */
int cka_keyrec_encode(apr_pool_t *p, const cka_keyrec_t *rec, size_t max_doc,
                      unsigned char **out, size_t *out_len);

/* Check the framing exactly (magic, lengths, no NUL in the URI, times
 * positive, document within max_doc, nothing left over). 0 or -1. The
 * strings point into p. */
int cka_keyrec_decode(const unsigned char *buf, size_t len, size_t max_doc,
                      apr_pool_t *p, cka_keyrec_t *out);

#endif
