/* b64url.h - strict, canonical base64url (RFC 7515 §2: no padding). */
#ifndef CKA_B64URL_H
#define CKA_B64URL_H
#include <stddef.h>
#include <apr_pools.h>

/* Decode len bytes of base64url into a pool buffer (NUL-terminated for
 * convenience; *out_len excludes it). Rejects padding, characters outside
 * the alphabet, a length of 1 mod 4 and non-zero trailing bits, so each
 * byte string has exactly one accepted encoding. Returns 0 on success. */
int cka_b64url_decode(apr_pool_t *p, const char *in, size_t len,
                      unsigned char **out, size_t *out_len);

/* Encode into a pool string, no padding. */
char *cka_b64url_encode(apr_pool_t *p, const unsigned char *in, size_t len);

#endif
