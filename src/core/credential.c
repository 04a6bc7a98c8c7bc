/* credential.c - sort a credential into a kind (see credential.h). */
#include "credential.h"
#include "cka_limits.h"
#include "json_util.h"
#include <string.h>
#include <apr_strings.h>

static const char *const kind_names[CKA_CRED_KIND_COUNT] = {
    [CKA_CRED_NONE] = NULL,
#define CKA_X_KIND(name, text) [CKA_CRED_##name] = text,
    CKA_CRED_KINDS(CKA_X_KIND)
#undef CKA_X_KIND
};

const char *cka_cred_kind_name(cka_cred_kind_t k)
{
    return (int)k > 0 && k < CKA_CRED_KIND_COUNT ? kind_names[k] : NULL;
}

cka_cred_kind_t cka_cred_kind_parse(const char *name)
{
    for (int k = 1; name != NULL && k < CKA_CRED_KIND_COUNT; k++)
        if (strcmp(name, kind_names[k]) == 0)
            return (cka_cred_kind_t)k;
    return CKA_CRED_NONE;
}

static int b64_value(char c)
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '-' || c == '+') return 62;
    if (c == '_' || c == '/') return 63;
    return -1;
}

/* One segment decoded leniently: either base64 alphabet, padding and what
 * follows it ignored, trailing bits ignored. NULL when a character is
 * outside both alphabets or nothing decodes. */
static const unsigned char *lenient_decode(apr_pool_t *p, const char *seg, size_t len,
                                           size_t *out_len)
{
    unsigned char *out = apr_palloc(p, len * 3 / 4 + 1);
    size_t n = 0;
    unsigned acc = 0;
    int bits = 0;
    for (size_t i = 0; i < len && seg[i] != '='; i++) {
        int v = b64_value(seg[i]);
        if (v < 0)
            return NULL;
        acc = (acc << 6) | (unsigned)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[n++] = (unsigned char)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    *out_len = n;
    return n ? out : NULL;
}

/* JSON text that opens an object (after blanks): what a JWS part is. */
static int opens_object(const unsigned char *b, size_t n)
{
    size_t i = 0;
    while (i < n && (b[i] == ' ' || b[i] == '\t' || b[i] == '\r' || b[i] == '\n'))
        i++;
    return i < n && b[i] == '{';
}

/* A segment decoded into an object; *opens says it looked like one. */
static json_t *segment_object(apr_pool_t *p, const char *seg, size_t len, int *opens)
{
    size_t n = 0;
    const unsigned char *b = lenient_decode(p, seg, len, &n);
    *opens = b != NULL && opens_object(b, n);
    return *opens ? cka_json_parse_object(p, (const char *)b, n, NULL) : NULL;
}

static int is_jwt_of_trusted(apr_pool_t *p, const char *cred, size_t len,
                             cka_trusted_fn trusted, void *ctx, cka_jws_parts_t *parts)
{
    int nseg = 1;
    for (size_t i = 0; i < len; i++)
        nseg += cred[i] == '.';
    int jose_header = 0, payload_opens = 0;
    const char *seg = cred, *end = cred + len;
    for (int i = 0; i < nseg; i++) {
        const char *dot = memchr(seg, '.', (size_t)(end - seg));
        size_t n = dot ? (size_t)(dot - seg) : (size_t)(end - seg);
        int opens = 0;
        json_t *o = segment_object(p, seg, n, &opens);
        if (parts != NULL && nseg == 3 && i < 2)
            *(i == 0 ? &parts->header : &parts->claims) = o;
        json_t *iss = json_object_get(o, "iss");
        /* Claims of a trusted issuer in any part, whatever the shape
         * around them (segments added, removed or swapped): a JWT. */
        if (json_is_string(iss) && trusted != NULL && trusted(ctx, json_string_value(iss)))
            return 1;
        if (nseg == 3 && i == 0)
            jose_header = o != NULL && json_object_get(o, "alg") != NULL;
        if (nseg == 3 && i == 1) {
            /* A payload object that does not read strictly (duplicate
             * names, too deep): its iss cannot be ruled out. */
            if (opens && o == NULL)
                return 1;
            payload_opens = opens;
        }
        seg = dot ? dot + 1 : end;
    }
    /* A JOSE header over a payload that is no object: a broken JWS, whose
     * issuer cannot be ruled out either. */
    return nseg == 3 && jose_header && !payload_opens;
}

/* Bytes a credential may not hold: 1 a blank or a comma (two
 * credentials), 2 anything else outside visible ASCII. */
static const unsigned char refused[256] = {
    [0 ... 8] = 2, ['\t'] = 1, [10 ... 0x1f] = 2, [' '] = 1, [','] = 1,
    [0x7f ... 0xff] = 2,
};

cka_reason_t cka_cred_screen(const char *cred, size_t len)
{
    if (cred == NULL || len == 0)
        return CKA_BAD_REQUEST;
    if (len > CKA_MAX_TOKEN_LEN)
        return CKA_TOKEN_TOO_LARGE;
    const unsigned char *u = (const unsigned char *)cred;
    unsigned any = 0;
    for (size_t i = 0; i < len; i++)
        any |= refused[u[i]];
    if (any == 0)
        return CKA_OK;
    for (size_t i = 0; i < len; i++) {   /* the first refused byte decides */
        unsigned char c = (unsigned char)cred[i];
        if (c == ' ' || c == '\t' || c == ',')
            return CKA_BAD_REQUEST;
        if (c < 0x21 || c > 0x7e)
            return CKA_MALFORMED;
    }
    return CKA_OK;
}

cka_reason_t cka_cred_classify(apr_pool_t *p, const char *cred, size_t len,
                               cka_trusted_fn trusted, void *ctx,
                               cka_cred_kind_t *kind)
{
    return cka_cred_classify_parts(p, cred, len, trusted, ctx, kind, NULL);
}

cka_reason_t cka_cred_classify_parts(apr_pool_t *p, const char *cred, size_t len,
                                     cka_trusted_fn trusted, void *ctx,
                                     cka_cred_kind_t *kind, cka_jws_parts_t *parts)
{
    *kind = CKA_CRED_NONE;
    if (parts != NULL)
        parts->header = parts->claims = NULL;
    cka_reason_t why = cka_cred_screen(cred, len);
    if (why != CKA_OK)
        return why;
    *kind = is_jwt_of_trusted(p, cred, len, trusted, ctx, parts) ? CKA_CRED_JWT
                                                                   : CKA_CRED_OPAQUE;
    return CKA_OK;
}
