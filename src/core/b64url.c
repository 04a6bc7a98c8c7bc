/* b64url.c - strict base64url: one accepted encoding per byte string. */
#include "b64url.h"
#include <apr_encode.h>
#include <apr_strings.h>

/* Value of one base64url character, or -1. A pure function: no table to
 * initialise, so nothing to race on between threads. */
static int dec(unsigned char c)
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '-') return 62;
    if (c == '_') return 63;
    return -1;
}

int cka_b64url_decode(apr_pool_t *p, const char *in, size_t len,
                      unsigned char **out, size_t *out_len)
{
    if (len % 4 == 1)
        return -1;
    size_t n = len / 4 * 3 + (len % 4 ? len % 4 - 1 : 0);
    unsigned char *buf = apr_palloc(p, n + 1);
    size_t o = 0;
    unsigned int acc = 0;
    int bits = 0;
    for (size_t i = 0; i < len; i++) {
        int v = dec((unsigned char)in[i]);
        if (v < 0)
            return -1;
        acc = (acc << 6) | (unsigned int)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            buf[o++] = (unsigned char)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    if (acc != 0)           /* non-zero trailing bits: non-canonical */
        return -1;
    buf[o] = '\0';
    *out = buf;
    *out_len = o;
    return 0;
}

char *cka_b64url_encode(apr_pool_t *p, const unsigned char *in, size_t len)
{
    return (char *)apr_pencode_base64_binary(p, in, (apr_ssize_t)len, APR_ENCODE_BASE64URL,
                                             NULL);
}
