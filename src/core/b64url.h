/* b64url.h - the core's one base64 (on APR's apr_encode): strict,
 * canonical base64url (RFC 7515 §2: no padding) and standard base64 (RFC
 * 4648 §4, with its padding, for HTTP Basic). */
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

/* Standard base64 with its padding ('=' only at the end, a length that is
 * a multiple of 4, not empty); the same strictness otherwise (alphabet,
 * zero trailing bits). 0 on success. */
int cka_b64_decode(apr_pool_t *p, const char *in, size_t len,
                   unsigned char **out, size_t *out_len);

/* Encode into a pool string, standard alphabet, padded. */
char *cka_b64_encode(apr_pool_t *p, const unsigned char *in, size_t len);

#endif
