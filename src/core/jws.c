/* jws.c - split a compact JWS, decode strictly, read the protected header. */
#include "jws.h"
#include "b64url.h"
#include "json_util.h"
#include "cka_limits.h"
#include <string.h>
#include <strings.h>

#define FAIL(r, d) do { *detail = (d); return (r); } while (0)

/* Header members whose presence we refuse outright: they change how the
 * token must be processed and we implement none of them. */
static cka_reason_t check_header_members(json_t *h, const char **detail)
{
    json_t *v;
    if (json_object_get(h, "enc") != NULL)
        FAIL(CKA_MALFORMED, "JWE is not accepted");
    if ((v = json_object_get(h, "crit")) != NULL) {
        /* RFC 7515 §4.1.11: crit lists extensions the recipient must
         * understand; we understand none, so any crit is refused. */
        FAIL(CKA_UNSUPPORTED_HEADER, "crit names an unsupported extension");
    }
    if (json_object_get(h, "b64") != NULL)
        FAIL(CKA_UNSUPPORTED_HEADER, "b64 header is not supported");
    if (json_object_get(h, "zip") != NULL)
        FAIL(CKA_UNSUPPORTED_HEADER, "zip header is not supported");
    return CKA_OK;
}

cka_reason_t cka_jws_parse(apr_pool_t *p, const char *token, size_t len,
                           cka_jws_t *out, const char **detail)
{
    return cka_jws_parse_parts(p, token, len, NULL, out, detail);
}

cka_reason_t cka_jws_parse_parts(apr_pool_t *p, const char *token, size_t len,
                                 const cka_jws_parts_t *parts, cka_jws_t *out,
                                 const char **detail)
{
    const char *dummy;
    if (detail == NULL)
        detail = &dummy;
    *detail = NULL;
    memset(out, 0, sizeof(*out));
    if (len > CKA_MAX_TOKEN_LEN)
        FAIL(CKA_TOKEN_TOO_LARGE, "token longer than 16 KiB");
    if (len == 0)
        FAIL(CKA_MALFORMED, "empty token");

    /* Exactly two dots; anything else (JWE's four, a missing segment) is
     * malformed. The alphabet check in the decoder rejects whitespace. */
    const char *d1 = memchr(token, '.', len);
    if (d1 == NULL)
        FAIL(CKA_MALFORMED, "token does not have three segments");
    const char *d2 = memchr(d1 + 1, '.', len - (size_t)(d1 + 1 - token));
    if (d2 == NULL || memchr(d2 + 1, '.', len - (size_t)(d2 + 1 - token)) != NULL)
        FAIL(CKA_MALFORMED, "token does not have three segments");

    size_t hlen = (size_t)(d1 - token);
    size_t plen = (size_t)(d2 - d1 - 1);
    size_t slen = len - (size_t)(d2 + 1 - token);
    if (hlen == 0 || plen == 0 || slen == 0)
        FAIL(CKA_MALFORMED, "token has an empty segment");

    unsigned char *hbuf, *pbuf;
    size_t hbuf_len, pbuf_len;
    if (cka_b64url_decode(p, token, hlen, &hbuf, &hbuf_len) != 0)
        FAIL(CKA_MALFORMED, "header is not canonical base64url");
    if (cka_b64url_decode(p, d1 + 1, plen, &pbuf, &pbuf_len) != 0)
        FAIL(CKA_MALFORMED, "payload is not canonical base64url");
    if (cka_b64url_decode(p, d2 + 1, slen, &out->sig, &out->sig_len) != 0)
        FAIL(CKA_MALFORMED, "signature is not canonical base64url");

    const char *why = NULL;
    out->header = parts && parts->header ? parts->header
        : cka_json_parse_object(p, (const char *)hbuf, hbuf_len, &why);
    if (out->header == NULL)
        FAIL(CKA_MALFORMED, "header is not a valid JSON object");

    json_t *alg = json_object_get(out->header, "alg");
    if (alg == NULL)
        FAIL(CKA_ALG_NOT_ALLOWED, "alg missing");
    if (!json_is_string(alg))
        FAIL(CKA_MALFORMED, "alg is not a string");
    out->alg_name = json_string_value(alg);
    out->alg = cka_alg_from_name(out->alg_name);
    if (out->alg == CKA_ALG_UNKNOWN)
        FAIL(CKA_ALG_NOT_ALLOWED, strcasecmp(out->alg_name, "none") == 0
             ? "alg none is never accepted" : "alg is not a supported algorithm");

    cka_reason_t r = check_header_members(out->header, detail);
    if (r != CKA_OK)
        return r;

    json_t *kid = json_object_get(out->header, "kid");
    if (kid != NULL) {
        if (!json_is_string(kid))
            FAIL(CKA_MALFORMED, "kid is not a string");
        out->kid = json_string_value(kid);
    }
    json_t *typ = json_object_get(out->header, "typ");
    if (typ != NULL) {
        if (!json_is_string(typ))
            FAIL(CKA_MALFORMED, "typ is not a string");
        out->typ = json_string_value(typ);
    }

    out->claims = parts && parts->claims ? parts->claims
        : cka_json_parse_object(p, (const char *)pbuf, pbuf_len, &why);
    if (out->claims == NULL)
        FAIL(CKA_MALFORMED, "payload is not a valid JSON object");

    out->payload = (const char *)pbuf;
    out->payload_len = pbuf_len;
    out->compact = token;
    out->compact_len = len;
    out->signing_input = token;
    out->signing_input_len = (size_t)(d2 - token);
    return CKA_OK;
}
