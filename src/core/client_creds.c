/* client_creds.c - the client credentials grant, pure parts (see the .h). */
#include "client_creds.h"
#include "b64url.h"
#include "cka_limits.h"
#include "json_util.h"
#include "frame.h"
#include <stdlib.h>
#include <string.h>
#include <apr_cstr.h>
#include <apr_strings.h>
#include <apr_lib.h>
#include <apr_escape.h>

/* ---- the client's Basic value ------------------------------------------------*/

/* application/x-www-form-urlencoded decoding of one part ('+' a space,
 * %XX a byte; a bad or cut escape, or an escaped NUL, refused): APR's.
 * apr_unescape_url stops at a NUL byte even within the length it is
 * given, so a part holding one is refused here first (it would be cut
 * short, not refused). */
static int form_decode(apr_pool_t *p, const char *in, size_t len, char **out,
                       size_t *out_len)
{
    char *o = apr_palloc(p, len + 1);
    apr_size_t n = 0;
    if (memchr(in, '\0', len) != NULL)
        return -1;
    apr_status_t rv = apr_unescape_url(o, in, (apr_ssize_t)len, NULL, NULL, 1, &n);
    if (rv == APR_NOTFOUND) {            /* nothing to unescape: as it is */
        memcpy(o, in, len);
        n = len + 1;
    }
    else if (rv != APR_SUCCESS || n == 0)
        return -1;
    o[n - 1] = '\0';                     /* n counts the terminator */
    *out = o;
    *out_len = n - 1;
    return 0;
}

/* Valid UTF-8 (no overlong forms, no surrogates, at most U+10FFFF) and no
 * control character (C0, DEL, C1). */
static int clean_utf8(const unsigned char *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        unsigned char c = s[i];
        if (c < 0x80) {
            if (c < 0x20 || c == 0x7f)
                return 0;
            i++;
            continue;
        }
        size_t n;
        unsigned long cp;
        if (c >= 0xc2 && c <= 0xdf) { n = 1; cp = c & 0x1f; }
        else if (c >= 0xe0 && c <= 0xef) { n = 2; cp = c & 0x0f; }
        else if (c >= 0xf0 && c <= 0xf4) { n = 3; cp = c & 0x07; }
        else
            return 0;
        if (len - i <= n)
            return 0;
        for (size_t k = 1; k <= n; k++) {
            if ((s[i + k] & 0xc0) != 0x80)
                return 0;
            cp = (cp << 6) | (s[i + k] & 0x3f);
        }
        if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10ffff
            || (cp >= 0xd800 && cp <= 0xdfff) || (cp >= 0x80 && cp <= 0x9f))
            return 0;
        i += n + 1;
    }
    return 1;
}

int cka_cc_basic_decode(apr_pool_t *p, const char *b64, size_t len,
                        cka_cc_pair_t *out, const char **why)
{
    unsigned char *raw;
    size_t n;
    memset(out, 0, sizeof(*out));
    if (len == 0) {
        *why = "empty Basic credentials";
        return -1;
    }
    if (len > CKA_CC_MAX_BASIC) {
        *why = "Basic credentials too long";
        return -1;
    }
    if (cka_b64_decode(p, b64, len, &raw, &n) != 0) {
        *why = "Basic credentials are not base64";
        return -1;
    }
    const unsigned char *colon = memchr(raw, ':', n);
    if (colon == NULL) {
        *why = "Basic credentials without a colon (client_id:secret)";
        return -1;
    }
    size_t il = (size_t)(colon - raw);
    char *id, *secret;
    size_t idl, sl;
    if (form_decode(p, (const char *)raw, il, &id, &idl) != 0
        || form_decode(p, (const char *)colon + 1, n - il - 1, &secret, &sl) != 0) {
        *why = "Basic credentials with a bad %-escape";
        return -1;
    }
    if (idl == 0) {
        *why = "empty client_id";
        return -1;
    }
    if (idl > CKA_CC_MAX_PART || sl > CKA_CC_MAX_PART) {
        *why = "client_id or secret too long";
        return -1;
    }
    if (!clean_utf8((const unsigned char *)id, idl)
        || !clean_utf8((const unsigned char *)secret, sl)) {
        *why = "client_id or secret is not UTF-8 text (or holds a control character)";
        return -1;
    }
    out->id = id;
    out->id_len = idl;
    out->secret = secret;
    out->secret_len = sl;
    return 0;
}

/* ---- the request ------------------------------------------------------------*/

/* Not apr_pescape_urlencoded: APR writes %xx in lower case, where RFC
 * 3986 §2.1 asks producers for upper case (and the requests the module
 * sends stay byte for byte what they were); it also stops at a NUL. */
const char *cka_cc_form_encode(apr_pool_t *p, const char *s, size_t len)
{
    static const char hex[] = "0123456789ABCDEF";
    char *o = apr_palloc(p, len * 3 + 1), *w = o;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (apr_isalnum(c) || c == '*' || c == '-' || c == '.' || c == '_')
            *w++ = (char)c;
        else if (c == ' ')
            *w++ = '+';
        else {
            *w++ = '%';
            *w++ = hex[c >> 4];
            *w++ = hex[c & 15];
        }
    }
    *w = '\0';
    return o;
}

const char *cka_cc_basic_header(apr_pool_t *p, const cka_cc_pair_t *pair)
{
    const char *both = apr_pstrcat(p, cka_cc_form_encode(p, pair->id, pair->id_len), ":",
                                   cka_cc_form_encode(p, pair->secret, pair->secret_len),
                                   NULL);
    return apr_pstrcat(p, "Basic ", cka_b64_encode(p, (const unsigned char *)both,
                                               strlen(both)), NULL);
}

static const char *param(apr_pool_t *p, const char *name, const char *v)
{
    return v ? apr_pstrcat(p, "&", name, "=", cka_cc_form_encode(p, v, strlen(v)), NULL)
             : "";
}

const char *cka_cc_request_body(apr_pool_t *p, const cka_cc_target_t *t)
{
    return apr_pstrcat(p, "grant_type=client_credentials", param(p, "scope", t->scope),
                       param(p, "resource", t->resource), param(p, "audience", t->audience),
                       NULL);
}

/* ---- the answer --------------------------------------------------------------*/

int cka_cc_token_ok(const char *tok, size_t len)
{
    if (tok == NULL || len == 0 || len > CKA_MAX_TOKEN_LEN)
        return 0;
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)tok[i] < 0x21 || (unsigned char)tok[i] > 0x7e)
            return 0;
    return 1;
}

/* An OAuth error code as RFC 6749 §5.2 allows it (%x20-21 / %x23-5B /
 * %x5D-7E), short: safe to log. */
static int error_code_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 64)
        return 0;
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == '"' || *s == '\\' || (unsigned char)*s > 0x7e)
            return 0;
    return 1;
}

static const char *const refusals[] = {
    "invalid_client", "unauthorized_client", "invalid_grant", "invalid_scope",
    "access_denied", NULL
};

cka_cc_outcome_t cka_cc_parse_answer(apr_pool_t *p, long status, const char *body,
                                     size_t len, cka_cc_answer_t *out)
{
    memset(out, 0, sizeof(*out));
    out->expires_in = -1;
    if (status != 200 && status != 400 && status != 401) {
        out->why = apr_psprintf(p, "HTTP status %ld", status);
        return CKA_CC_BAD;
    }
    if (body == NULL || len == 0) {
        out->why = apr_psprintf(p, "empty answer (HTTP status %ld)", status);
        return CKA_CC_BAD;
    }
    if (len > CKA_CC_MAX_ANSWER) {
        out->why = "answer larger than 64 KiB";
        return CKA_CC_BAD;
    }
    const char *jwhy = NULL;
    json_t *o = cka_json_parse_object(p, body, len, &jwhy);
    if (o == NULL) {
        out->why = apr_psprintf(p, "answer is not a JSON object (%s; HTTP status %ld)",
                                jwhy ? jwhy : "unparsable", status);
        return CKA_CC_BAD;
    }
    json_t *err = json_object_get(o, "error");
    if (status != 200) {
        if (!json_is_string(err) || !error_code_ok(json_string_value(err))) {
            out->why = apr_psprintf(p, "HTTP status %ld without an OAuth error code", status);
            return CKA_CC_BAD;
        }
        out->error = apr_pstrdup(p, json_string_value(err));
        for (int i = 0; refusals[i]; i++)
            if (strcmp(out->error, refusals[i]) == 0)
                return CKA_CC_REFUSED;
        out->why = apr_psprintf(p, "the token endpoint answered error %s", out->error);
        return CKA_CC_BAD;
    }
    if (err != NULL) {
        out->why = "HTTP status 200 with an error member";
        return CKA_CC_BAD;
    }
    json_t *at = json_object_get(o, "access_token");
    if (!json_is_string(at)
        || !cka_cc_token_ok(json_string_value(at), json_string_length(at))) {
        out->why = "access_token missing, empty, too long or not visible ASCII";
        return CKA_CC_BAD;
    }
    json_t *tt = json_object_get(o, "token_type");
    if (!json_is_string(tt) || apr_cstr_casecmp(json_string_value(tt), "Bearer") != 0) {
        out->why = json_is_string(tt) && error_code_ok(json_string_value(tt))
            ? apr_psprintf(p, "token_type %s is not Bearer", json_string_value(tt))
            : "token_type missing or not Bearer";
        return CKA_CC_BAD;
    }
    json_t *ei = json_object_get(o, "expires_in");
    if (ei != NULL) {
        if (!json_is_integer(ei) || json_integer_value(ei) <= 0
            || json_integer_value(ei) > CKA_MAX_NUMERIC_DATE) {
            out->why = "expires_in is not a positive integer";
            return CKA_CC_BAD;
        }
        out->expires_in = (long long)json_integer_value(ei);
    }
    out->token = apr_pstrmemdup(p, json_string_value(at), json_string_length(at));
    out->token_len = json_string_length(at);
    return CKA_CC_TOKEN;
}

long long cka_cc_token_exp(apr_pool_t *p, const char *tok, size_t len)
{
    const char *d1 = memchr(tok, '.', len);
    if (d1 == NULL)
        return -1;
    const char *pl = d1 + 1;
    const char *d2 = memchr(pl, '.', len - (size_t)(pl - tok));
    if (d2 == NULL || memchr(d2 + 1, '.', len - (size_t)(d2 + 1 - tok)) != NULL)
        return -1;
    unsigned char *raw;
    size_t n;
    if (cka_b64url_decode(p, pl, (size_t)(d2 - pl), &raw, &n) != 0)
        return -1;
    json_t *o = cka_json_parse_object(p, (const char *)raw, n, NULL);
    json_t *exp = o ? json_object_get(o, "exp") : NULL;
    if (!json_is_integer(exp) || json_integer_value(exp) <= 0
        || json_integer_value(exp) > CKA_MAX_NUMERIC_DATE)
        return -1;
    return (long long)json_integer_value(exp);
}

long long cka_cc_reuse_until(long long now, long long exp, long long expires_in)
{
    long long end = -1;
    if (exp > 0)
        end = exp;
    if (expires_in > 0 && (end < 0 || now + expires_in < end))
        end = now + expires_in;
    if (end < 0)
        return 0;
    end -= CKA_CC_REUSE_MARGIN;
    return end > now ? end : 0;
}

/* ---- the cache ---------------------------------------------------------------*/

int cka_cc_name(const cka_seal_t *s, const cka_cc_target_t *t, const cka_cc_pair_t *pair,
                unsigned char out[CKA_SEAL_NAME_LEN])
{
    const char *f[4] = { t->endpoint, t->scope, t->resource, t->audience };
    size_t total = 6 * 5 + pair->id_len + pair->secret_len;
    for (int i = 0; i < 4; i++)
        total += f[i] ? strlen(f[i]) : 0;
    unsigned char *buf = malloc(total);
    if (buf == NULL) {
        memset(out, 0, CKA_SEAL_NAME_LEN);
        return -1;
    }
    cka_frame_w_t w;
    cka_frame_w_over(&w, buf, total);
    /* An absent parameter and an empty one differ: a presence byte each. */
    for (int i = 0; i < 4; i++) {
        cka_frame_put_u8(&w, f[i] ? 1 : 0);
        cka_frame_put_field(&w, f[i], f[i] ? strlen(f[i]) : 0);
    }
    cka_frame_put_u8(&w, 1);
    cka_frame_put_field(&w, pair->id, pair->id_len);
    cka_frame_put_u8(&w, 1);
    cka_frame_put_field(&w, pair->secret, pair->secret_len);
    int rv = w.bad ? -1 : cka_seal_name(s, CKA_SEAL_CLIENT, buf, w.len, out);
    memset(buf, 0, total);       /* the secret was in it */
    free(buf);
    return rv;
}

#define CC_MAGIC "CKC1"

int cka_cc_record_seal(const cka_seal_t *s, apr_pool_t *p,
                       const unsigned char name[CKA_SEAL_NAME_LEN],
                       const cka_cc_record_t *rec, unsigned char **out, size_t *out_len)
{
    int kind = rec->mark == 'P' || rec->mark == 'F' ? rec->mark : rec->refused ? 'R' : 'T';
    size_t tl = kind == 'T' ? rec->token_len : 0;
    if (rec->until <= 0 || (rec->mark != 0 && kind != rec->mark)
        || (kind == 'T' && !cka_cc_token_ok(rec->token, rec->token_len)))
        return -1;
    cka_frame_w_t w;
    cka_frame_w_init(&w, p, CKA_FRAME_HEAD_LEN + tl);
    cka_frame_put_head(&w, CC_MAGIC, (unsigned)kind, rec->until);
    cka_frame_put(&w, rec->token, tl);
    return cka_frame_seal(&w, s, p, CKA_SEAL_CLIENT, name, out, out_len);
}

int cka_cc_record_open(const cka_seal_t *s, apr_pool_t *p,
                       const unsigned char name[CKA_SEAL_NAME_LEN],
                       const unsigned char *buf, size_t len, cka_cc_record_t *out)
{
    cka_frame_r_t r;
    long long until;
    memset(out, 0, sizeof(*out));
    if (cka_frame_open(&r, s, p, CKA_SEAL_CLIENT, name, buf, len) != 0)
        return -1;
    int kind = (int)cka_frame_get_head(&r, CC_MAGIC, &until);
    cka_frame_check(&r, kind == 'T' || kind == 'R' || kind == 'P' || kind == 'F');
    size_t tl = cka_frame_left(&r);
    const char *tok = (const char *)cka_frame_get(&r, tl);  /* NUL-terminated by cka_unseal */
    cka_frame_check(&r, kind == 'T' ? cka_cc_token_ok(tok, tl) : tl == 0);
    if (cka_frame_r_done(&r) != 0)
        return -1;
    out->until = until;
    out->refused = kind == 'R';
    out->mark = kind == 'P' || kind == 'F' ? kind : 0;
    if (kind == 'T') {
        out->token = tok;
        out->token_len = tl;
    }
    return 0;
}
