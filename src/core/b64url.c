/* b64url.c - base64 on APR's apr_encode, with the strictness the SPEC
 * needs around it: one accepted encoding per byte string.
 *
 * APR 1.7's decoder (apr_decode_base64_binary) is lenient whatever the
 * flags: with APR_ENCODE_BASE64URL it still takes '+' and '/', and '='
 * padding; it ignores non-zero trailing bits ("QR" and "QQ" both give
 * "A"). A JWS segment, a JWK member or a Basic value must have exactly one
 * encoding (RFC 7515 §2, RFC 7518 §6, the SPEC's limits), so the thin
 * check below refuses all of that first, and APR does the decoding. */
#include "b64url.h"
#include <string.h>
#include <apr_encode.h>
#include <apr_strings.h>

/* Value of one character of the alphabet (url: -_ for 62, 63; standard:
 * +/), or -1. A pure function: no table to initialise. */
static int value(unsigned char c, int url)
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == (url ? '-' : '+')) return 62;
    if (c == (url ? '_' : '/')) return 63;
    return -1;
}

/* n characters of the alphabet, the last one canonical: a final group of
 * 2 (3) characters carries 4 (2) bits beyond the bytes it encodes, and
 * they must be zero. */
static int canonical(const char *in, size_t n, int url)
{
    if (n % 4 == 1)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (value((unsigned char)in[i], url) < 0)
            return 0;
    if (n % 4 == 2 && (value((unsigned char)in[n - 1], url) & 0x0f) != 0)
        return 0;
    if (n % 4 == 3 && (value((unsigned char)in[n - 1], url) & 0x03) != 0)
        return 0;
    return 1;
}

static int decode(apr_pool_t *p, const char *in, size_t len, int flags,
                  unsigned char **out, size_t *out_len)
{
    apr_size_t n = 0;
    if (len == 0) {                       /* APR wants some input */
        *out = apr_pcalloc(p, 1);
        *out_len = 0;
        return 0;
    }
    const unsigned char *b = apr_pdecode_base64_binary(p, in, (apr_ssize_t)len, flags, &n);
    if (b == NULL)
        return -1;
    *out = (unsigned char *)b;           /* NUL-terminated by APR */
    *out_len = n;
    return 0;
}

int cka_b64url_decode(apr_pool_t *p, const char *in, size_t len,
                      unsigned char **out, size_t *out_len)
{
    if (!canonical(in, len, 1))
        return -1;
    return decode(p, in, len, APR_ENCODE_BASE64URL, out, out_len);
}

int cka_b64_decode(apr_pool_t *p, const char *in, size_t len,
                   unsigned char **out, size_t *out_len)
{
    if (len == 0 || len % 4 != 0)
        return -1;
    size_t pad = in[len - 1] == '=' ? (in[len - 2] == '=' ? 2 : 1) : 0;
    if (!canonical(in, len - pad, 0))
        return -1;
    return decode(p, in, len, APR_ENCODE_NONE, out, out_len);
}

char *cka_b64url_encode(apr_pool_t *p, const unsigned char *in, size_t len)
{
    return (char *)apr_pencode_base64_binary(p, in, (apr_ssize_t)len, APR_ENCODE_BASE64URL,
                                             NULL);
}

char *cka_b64_encode(apr_pool_t *p, const unsigned char *in, size_t len)
{
    return (char *)apr_pencode_base64_binary(p, in, (apr_ssize_t)len, APR_ENCODE_NONE, NULL);
}
