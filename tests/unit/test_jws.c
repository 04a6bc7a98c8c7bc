/* test_jws.c - compact JWS parsing, input limits, alg names, strict JSON. */
#include <string.h>
#include <apr_strings.h>
#include "suites.h"
#include "mint.h"
#include "alg.h"
#include "jws.h"
#include "json_util.h"
#include "cka_limits.h"

#define NO_ALT (-1)

/* The header's b64 length is 3 mod 4 and the payload's 2 mod 4, so both
 * have a real padding form and a non-canonical form. */
#define T_HEADER  "{\"alg\":\"RS256\",\"kid\":\"k1\"}"
#define T_PAYLOAD "{\"sub\":\"u12\"}"
#define T_SIG     "c2lnIQ"        /* "sig!": 6 chars, padded form "c2lnIQ==" */

/* Expand a template: H, P, S are the segments above, '<' and '>' the
 * non-canonical forms of H and P; any other character is kept. */
static char *expand(apr_pool_t *p, const char *t)
{
    const char *h = mint_b64url_str(p, T_HEADER), *pl = mint_b64url_str(p, T_PAYLOAD);
    char *out = "";
    for (; *t; t++) {
        switch (*t) {
        case 'H': out = apr_pstrcat(p, out, h, NULL); break;
        case 'P': out = apr_pstrcat(p, out, pl, NULL); break;
        case 'S': out = apr_pstrcat(p, out, T_SIG, NULL); break;
        case '<': out = apr_pstrcat(p, out, mint_noncanonical(p, h), NULL); break;
        case '>': out = apr_pstrcat(p, out, mint_noncanonical(p, pl), NULL); break;
        default:  out = apr_pstrcat(p, out, apr_pstrndup(p, t, 1), NULL); break;
        }
    }
    return out;
}

static cka_reason_t parse(const char *tok, size_t len, cka_jws_t *jws)
{
    const char *detail = NULL;
    memset(jws, 0, sizeof(*jws));
    return cka_jws_parse(tu_pool, tok, len, jws, &detail);
}

/* ---- the token's shape ---------------------------------------------- */
static const struct { const char *tmpl; cka_reason_t want; } shape[] = {
    { "H.P.S",         CKA_OK        },
    { "",              CKA_MALFORMED },   /* nothing                      */
    { "H",             CKA_MALFORMED },   /* 1 segment                    */
    { "H.P",           CKA_MALFORMED },   /* 2 segments                   */
    { "H.P.S.S",       CKA_MALFORMED },   /* 4 segments                   */
    { "H.P.S.S.S",     CKA_MALFORMED },   /* 5 segments: JWE shape        */
    { ".P.S",          CKA_MALFORMED },   /* empty header                 */
    { "H..S",          CKA_MALFORMED },   /* empty payload                */
    { "H.P.",          CKA_MALFORMED },   /* empty signature              */
    { "..",            CKA_MALFORMED },
    { "H.P.S.",        CKA_MALFORMED },   /* trailing dot                 */
    { ".H.P.S",        CKA_MALFORMED },   /* leading dot                  */
    { "H.P..S",        CKA_MALFORMED },
    { " H.P.S",        CKA_MALFORMED },   /* whitespace                   */
    { "H.P.S ",        CKA_MALFORMED },
    { "H.P.S\n",       CKA_MALFORMED },
    { "H.P.S\r\n",     CKA_MALFORMED },
    { "H.P.S\t",       CKA_MALFORMED },
    { "H. P.S",        CKA_MALFORMED },
    { "H.P\n.S",       CKA_MALFORMED },
    { "H=.P.S",        CKA_MALFORMED },   /* padding                      */
    { "H.P==.S",       CKA_MALFORMED },
    { "H.P.S==",       CKA_MALFORMED },
    { "H.P.S=",        CKA_MALFORMED },
    { "H.P.S%3D%3D",   CKA_MALFORMED },
    { "<.P.S",         CKA_MALFORMED },   /* non-canonical trailing bits  */
    { "H.>.S",         CKA_MALFORMED },
    { "H.P.c2lnIR",    CKA_MALFORMED },
    { "H.P.c2lnI",     CKA_MALFORMED },   /* length 1 mod 4               */
    { "H.P.c2ln+Q",    CKA_MALFORMED },   /* standard alphabet            */
    { "H.P.c2ln/Q",    CKA_MALFORMED },
    { "H.P.c2\xc3\xa9Q", CKA_MALFORMED }, /* non-ASCII                    */
};

START_TEST(token_shape)
{
    cka_jws_t jws;
    char *tok = expand(tu_pool, shape[_i].tmpl);
    char ctx[64];
    apr_snprintf(ctx, sizeof(ctx), "shape row %d", _i);
    tu_assert_reason(parse(tok, strlen(tok), &jws), shape[_i].want, ctx);
}
END_TEST

/* ---- header and payload contents ------------------------------------ */
static const struct {
    const char *header, *payload;
    cka_reason_t want;
    int alt;            /* a second acceptable code, or NO_ALT */
} content[] = {
    /* accepted: any supported alg name (the allow-list is applied later) */
    { "{\"alg\":\"RS256\"}",  T_PAYLOAD, CKA_OK, NO_ALT },
    { "{\"alg\":\"PS512\"}",  T_PAYLOAD, CKA_OK, NO_ALT },
    { "{\"alg\":\"ES384\"}",  T_PAYLOAD, CKA_OK, NO_ALT },
    { "{\"alg\":\"EdDSA\"}",  T_PAYLOAD, CKA_OK, NO_ALT },
    { "{\"alg\":\"HS256\"}",  T_PAYLOAD, CKA_OK, NO_ALT },
    { "{\"alg\":\"RS256\",\"typ\":\"at+jwt\",\"kid\":\"x\"}", T_PAYLOAD, CKA_OK, NO_ALT },
    { "{\"alg\":\"RS256\",\"cty\":\"JWT\"}", T_PAYLOAD, CKA_OK, NO_ALT },
    { "{\"alg\":\"RS256\"}",  "{}", CKA_OK, NO_ALT },
    /* alg: none in any case, empty, unknown, wrong case */
    { "{\"alg\":\"none\"}",   T_PAYLOAD, CKA_ALG_NOT_ALLOWED, NO_ALT },
    { "{\"alg\":\"None\"}",   T_PAYLOAD, CKA_ALG_NOT_ALLOWED, NO_ALT },
    { "{\"alg\":\"NONE\"}",   T_PAYLOAD, CKA_ALG_NOT_ALLOWED, NO_ALT },
    { "{\"alg\":\"nOnE\"}",   T_PAYLOAD, CKA_ALG_NOT_ALLOWED, NO_ALT },
    { "{\"alg\":\"\"}",       T_PAYLOAD, CKA_ALG_NOT_ALLOWED, NO_ALT },
    { "{\"alg\":\"rs256\"}",  T_PAYLOAD, CKA_ALG_NOT_ALLOWED, NO_ALT },
    { "{\"alg\":\"RS256 \"}", T_PAYLOAD, CKA_ALG_NOT_ALLOWED, NO_ALT },
    { "{\"alg\":\"RS2560\"}", T_PAYLOAD, CKA_ALG_NOT_ALLOWED, NO_ALT },
    { "{\"alg\":\"RS25\"}",   T_PAYLOAD, CKA_ALG_NOT_ALLOWED, NO_ALT },
    { "{\"alg\":\"EDDSA\"}",  T_PAYLOAD, CKA_ALG_NOT_ALLOWED, NO_ALT },
    { "{\"alg\":\"Ed25519\"}", T_PAYLOAD, CKA_ALG_NOT_ALLOWED, NO_ALT },
    { "{\"alg\":\"ES256K\"}", T_PAYLOAD, CKA_ALG_NOT_ALLOWED, NO_ALT },
    { "{\"alg\":\"RSA-OAEP\"}", T_PAYLOAD, CKA_ALG_NOT_ALLOWED, NO_ALT },
    /* alg missing: the header does not say which code; both refuse */
    { "{}",                   T_PAYLOAD, CKA_MALFORMED, CKA_ALG_NOT_ALLOWED },
    { "{\"typ\":\"JWT\"}",    T_PAYLOAD, CKA_MALFORMED, CKA_ALG_NOT_ALLOWED },
    /* wrong types */
    { "{\"alg\":null}",       T_PAYLOAD, CKA_MALFORMED, NO_ALT },
    { "{\"alg\":256}",        T_PAYLOAD, CKA_MALFORMED, NO_ALT },
    { "{\"alg\":[\"RS256\"]}", T_PAYLOAD, CKA_MALFORMED, NO_ALT },
    { "{\"alg\":\"RS256\",\"kid\":5}",     T_PAYLOAD, CKA_MALFORMED, NO_ALT },
    { "{\"alg\":\"RS256\",\"kid\":null}",  T_PAYLOAD, CKA_MALFORMED, NO_ALT },
    { "{\"alg\":\"RS256\",\"typ\":true}",  T_PAYLOAD, CKA_MALFORMED, NO_ALT },
    /* headers the module does not implement */
    { "{\"alg\":\"RS256\",\"crit\":[\"exp\"]}",  T_PAYLOAD, CKA_UNSUPPORTED_HEADER, NO_ALT },
    { "{\"alg\":\"RS256\",\"crit\":[\"b64\"],\"b64\":false}", T_PAYLOAD, CKA_UNSUPPORTED_HEADER, NO_ALT },
    { "{\"alg\":\"RS256\",\"crit\":[]}",         T_PAYLOAD, CKA_UNSUPPORTED_HEADER, NO_ALT },
    { "{\"alg\":\"RS256\",\"b64\":false}",       T_PAYLOAD, CKA_UNSUPPORTED_HEADER, NO_ALT },
    { "{\"alg\":\"RS256\",\"b64\":true}",        T_PAYLOAD, CKA_UNSUPPORTED_HEADER, NO_ALT },
    { "{\"alg\":\"RS256\",\"zip\":\"DEF\"}",     T_PAYLOAD, CKA_UNSUPPORTED_HEADER, NO_ALT },
    { "{\"alg\":\"RS256\",\"enc\":\"A128GCM\"}", T_PAYLOAD, CKA_MALFORMED, NO_ALT },
    /* key material in the header: ignored, not an error */
    { "{\"alg\":\"RS256\",\"jwk\":{\"kty\":\"oct\",\"k\":\"AAAA\"}}", T_PAYLOAD, CKA_OK, NO_ALT },
    { "{\"alg\":\"RS256\",\"jku\":\"https://evil.example/jwks\"}",   T_PAYLOAD, CKA_OK, NO_ALT },
    { "{\"alg\":\"RS256\",\"x5u\":\"https://evil.example/cert\"}",   T_PAYLOAD, CKA_OK, NO_ALT },
    { "{\"alg\":\"RS256\",\"x5c\":[\"MIIBAA==\"]}",                  T_PAYLOAD, CKA_OK, NO_ALT },
    /* duplicate names */
    { "{\"alg\":\"RS256\",\"alg\":\"none\"}",    T_PAYLOAD, CKA_MALFORMED, NO_ALT },
    { "{\"alg\":\"none\",\"alg\":\"RS256\"}",    T_PAYLOAD, CKA_MALFORMED, NO_ALT },
    { "{\"alg\":\"RS256\",\"kid\":\"a\",\"kid\":\"b\"}", T_PAYLOAD, CKA_MALFORMED, NO_ALT },
    { "{\"alg\":\"RS256\"}", "{\"sub\":\"a\",\"sub\":\"b\"}", CKA_MALFORMED, NO_ALT },
    { "{\"alg\":\"RS256\"}", "{\"exp\":1,\"exp\":9999999999}", CKA_MALFORMED, NO_ALT },
    /* not a JSON object */
    { "[\"RS256\"]",           T_PAYLOAD, CKA_MALFORMED, NO_ALT },
    { "\"RS256\"",             T_PAYLOAD, CKA_MALFORMED, NO_ALT },
    { "null",                  T_PAYLOAD, CKA_MALFORMED, NO_ALT },
    { "{\"alg\":\"RS256\"",    T_PAYLOAD, CKA_MALFORMED, NO_ALT },
    { "{\"alg\":\"RS256\"}x",  T_PAYLOAD, CKA_MALFORMED, NO_ALT },
    { "{\"alg\":\"RS256\"}{}", T_PAYLOAD, CKA_MALFORMED, NO_ALT },
    { "{'alg':'RS256'}",       T_PAYLOAD, CKA_MALFORMED, NO_ALT },
    { "{\"alg\":\"RS256\"}", "[]",          CKA_MALFORMED, NO_ALT },
    { "{\"alg\":\"RS256\"}", "\"claims\"",  CKA_MALFORMED, NO_ALT },
    { "{\"alg\":\"RS256\"}", "42",          CKA_MALFORMED, NO_ALT },
    { "{\"alg\":\"RS256\"}", "null",        CKA_MALFORMED, NO_ALT },
    { "{\"alg\":\"RS256\"}", "{\"a\":1",    CKA_MALFORMED, NO_ALT },
    { "{\"alg\":\"RS256\"}", "{\"exp\":99999999999999999999}", CKA_MALFORMED, NO_ALT },
    { "{\"alg\":\"RS256\"}", "{\"exp\":1e99999}", CKA_MALFORMED, NO_ALT },
    /* NUL and invalid UTF-8 */
    { "{\"alg\":\"RS256\\u0000\"}",            T_PAYLOAD, CKA_MALFORMED, NO_ALT },
    { "{\"alg\":\"RS256\",\"x\":\"\xff\"}",    T_PAYLOAD, CKA_MALFORMED, NO_ALT },
    { "{\"alg\":\"RS256\"}", "{\"sub\":\"a\\u0000b\"}",     CKA_MALFORMED, NO_ALT },
    { "{\"alg\":\"RS256\"}", "{\"sub\":\"\xc3\x28\"}",      CKA_MALFORMED, NO_ALT },
    { "{\"alg\":\"RS256\"}", "{\"sub\":\"\xc0\xaf\"}",      CKA_MALFORMED, NO_ALT },
    { "{\"alg\":\"RS256\"}", "{\"sub\":\"\xed\xa0\x80\"}",  CKA_MALFORMED, NO_ALT },
    { "{\"alg\":\"RS256\"}", "{\"sub\":\"\\udc00\"}",       CKA_MALFORMED, NO_ALT },
    { "{\"alg\":\"RS256\"}", "{\"sub\":\"caf\xc3\xa9\"}",   CKA_OK,        NO_ALT },
};

START_TEST(header_and_payload)
{
    cka_jws_t jws;
    unsigned char sig[4] = { 's', 'i', 'g', '!' };
    char *tok = mint_compact(tu_pool, content[_i].header, content[_i].payload,
                             sig, sizeof(sig));
    cka_reason_t got = parse(tok, strlen(tok), &jws);
    char ctx[512];
    apr_snprintf(ctx, sizeof(ctx), "row %d %s . %s", _i, content[_i].header,
                 content[_i].payload);
    if (content[_i].alt != NO_ALT && got == (cka_reason_t)content[_i].alt)
        return;
    tu_assert_reason(got, content[_i].want, ctx);
}
END_TEST

/* What a successful parse hands back. */
START_TEST(parse_fields)
{
    cka_jws_t jws;
    const char *hdr = "{\"alg\":\"RS256\",\"kid\":\"k-1\",\"typ\":\"at+jwt\"}";
    const char *pl = "{\"sub\":\"u1\",\"n\":7}";
    char *tok = mint_token(tu_pool, mint_key(MINT_RSA, MINT_TRUSTED),
                           CKA_ALG_RS256, hdr, pl);
    size_t sl, input_len = (size_t)(strrchr(tok, '.') - tok);
    unsigned char *sig = mint_sig_bytes(tu_pool, tok, &sl);

    tu_assert_reason(parse(tok, strlen(tok), &jws), CKA_OK, "parse");
    ck_assert_int_eq(jws.alg, CKA_ALG_RS256);
    ck_assert_str_eq(jws.alg_name, "RS256");
    ck_assert_pstr_eq(jws.kid, "k-1");
    ck_assert_pstr_eq(jws.typ, "at+jwt");
    ck_assert_ptr_eq(jws.compact, tok);
    ck_assert_uint_eq(jws.compact_len, strlen(tok));
    ck_assert_uint_eq(jws.signing_input_len, input_len);
    ck_assert_mem_eq(jws.signing_input, tok, input_len);
    ck_assert_uint_eq(jws.sig_len, 256);
    ck_assert_uint_eq(sl, 256);
    ck_assert_mem_eq(jws.sig, sig, sl);
    ck_assert_ptr_nonnull(jws.header);
    ck_assert_ptr_nonnull(jws.claims);
    ck_assert_str_eq(json_string_value(json_object_get(jws.claims, "sub")), "u1");
    ck_assert_int_eq(json_integer_value(json_object_get(jws.claims, "n")), 7);
    ck_assert_str_eq(json_string_value(json_object_get(jws.header, "alg")), "RS256");
}
END_TEST

START_TEST(parse_no_kid_no_typ)
{
    cka_jws_t jws;
    char *tok = mint_token(tu_pool, mint_key(MINT_P256, MINT_TRUSTED),
                           CKA_ALG_ES256, "{\"alg\":\"ES256\"}", "{}");
    tu_assert_reason(parse(tok, strlen(tok), &jws), CKA_OK, "parse");
    ck_assert_int_eq(jws.alg, CKA_ALG_ES256);
    ck_assert_ptr_null(jws.kid);
    ck_assert_ptr_null(jws.typ);
    ck_assert_uint_eq(jws.sig_len, 64);
}
END_TEST

/* Only len bytes are read: what follows is not part of the token. */
START_TEST(parse_honours_len)
{
    cka_jws_t jws;
    char *tok = expand(tu_pool, "H.P.S");
    char *longer = apr_pstrcat(tu_pool, tok, ".zzzz", NULL);
    tu_assert_reason(parse(longer, strlen(tok), &jws), CKA_OK, "prefix");
    ck_assert_uint_eq(jws.sig_len, 4);
    ck_assert_mem_eq(jws.sig, "sig!", 4);
    tu_assert_reason(parse(longer, strlen(longer), &jws), CKA_MALFORMED, "whole");
}
END_TEST

/* ---- limits: token size and JSON depth ------------------------------ */
static const struct { size_t len; cka_reason_t want; } sizes[] = {
    { 100,                    CKA_OK              },
    { CKA_MAX_TOKEN_LEN - 1,  CKA_OK              },
    { CKA_MAX_TOKEN_LEN,      CKA_OK              },
    { CKA_MAX_TOKEN_LEN + 1,  CKA_TOKEN_TOO_LARGE },
    { CKA_MAX_TOKEN_LEN + 2,  CKA_TOKEN_TOO_LARGE },
    { 100000,                 CKA_TOKEN_TOO_LARGE },
};

START_TEST(token_size)
{
    cka_jws_t jws;
    char *tok = mint_token_of_len(tu_pool, NULL, CKA_ALG_RS256, "k1",
                                  "{\"sub\":\"u1\"", sizes[_i].len);
    char ctx[64];
    ck_assert_msg(tok != NULL, "cannot mint a token of %zu bytes", sizes[_i].len);
    apr_snprintf(ctx, sizeof(ctx), "token of %" APR_SIZE_T_FMT " bytes",
                 (apr_size_t)sizes[_i].len);
    tu_assert_reason(parse(tok, strlen(tok), &jws), sizes[_i].want, ctx);
}
END_TEST

/* {"d":[[...]]}: the object is level 1, each array one more. */
static char *nested(apr_pool_t *p, const char *prefix, int depth)
{
    int arrays = depth - 1, i;
    char *open = apr_palloc(p, (apr_size_t)arrays + 1);
    char *close = apr_palloc(p, (apr_size_t)arrays + 1);
    for (i = 0; i < arrays; i++) {
        open[i] = '[';
        close[i] = ']';
    }
    open[arrays] = close[arrays] = '\0';
    return apr_pstrcat(p, "{", prefix, "\"d\":", open, close, "}", NULL);
}

static const struct { int in_header; int depth; cka_reason_t want; } depths[] = {
    { 0, 2,                      CKA_OK        },
    { 0, CKA_MAX_JSON_DEPTH,     CKA_OK        },
    { 0, CKA_MAX_JSON_DEPTH + 1, CKA_MALFORMED },
    { 0, 200,                    CKA_MALFORMED },
    { 0, 5000,                   CKA_MALFORMED },
    { 1, CKA_MAX_JSON_DEPTH,     CKA_OK        },
    { 1, CKA_MAX_JSON_DEPTH + 1, CKA_MALFORMED },
};

START_TEST(json_depth_limit)
{
    cka_jws_t jws;
    unsigned char sig[4] = { 's', 'i', 'g', '!' };
    const char *hdr = depths[_i].in_header
        ? nested(tu_pool, "\"alg\":\"RS256\",", depths[_i].depth)
        : "{\"alg\":\"RS256\"}";
    const char *pl = depths[_i].in_header ? "{}" : nested(tu_pool, "", depths[_i].depth);
    char *tok = mint_compact(tu_pool, hdr, pl, sig, sizeof(sig));
    char ctx[64];
    apr_snprintf(ctx, sizeof(ctx), "%s depth %d",
                 depths[_i].in_header ? "header" : "claims", depths[_i].depth);
    if (strlen(tok) > CKA_MAX_TOKEN_LEN)
        tu_assert_reason(parse(tok, strlen(tok), &jws), CKA_TOKEN_TOO_LARGE, ctx);
    else
        tu_assert_reason(parse(tok, strlen(tok), &jws), depths[_i].want, ctx);
}
END_TEST

/* ---- alg names ------------------------------------------------------ */
START_TEST(alg_names_roundtrip)
{
    int a;
    for (a = CKA_ALG_UNKNOWN + 1; a < CKA_ALG_COUNT; a++) {
        ck_assert_int_eq(cka_alg_from_name(mint_alg_name((cka_alg_t)a)), a);
        ck_assert_str_eq(cka_alg_name((cka_alg_t)a), mint_alg_name((cka_alg_t)a));
        ck_assert_ptr_nonnull(strstr(cka_alg_all_names(), mint_alg_name((cka_alg_t)a)));
    }
    ck_assert_ptr_null(strstr(cka_alg_all_names(), "none"));
}
END_TEST

static const char *const unknown_algs[] = {
    "none", "None", "NONE", "", "rs256", "Rs256", "RS256 ", " RS256", "RS25",
    "RS2560", "EDDSA", "eddsa", "Ed25519", "ES256K", "HS1", "RSA-OAEP",
    "PS256\n",
};

START_TEST(alg_unknown_names)
{
    ck_assert_msg(cka_alg_from_name(unknown_algs[_i]) == CKA_ALG_UNKNOWN,
                  "'%s' should be unknown", unknown_algs[_i]);
}
END_TEST

/* ---- strict JSON ---------------------------------------------------- */
/* len -1: strlen(text) */
static const struct { const char *text; int len; int ok; } objs[] = {
    { "{}",                          -1, 1 },
    { "{\"a\":[1,{\"b\":null}]}",    -1, 1 },
    { "{\"a\":1}zzz",                7,  1 },   /* only len bytes       */
    { " {\"a\":1} ",                 -1, 1 },   /* JSON whitespace      */
    { "[]",                          -1, 0 },
    { "1",                           -1, 0 },
    { "\"s\"",                       -1, 0 },
    { "",                            0,  0 },
    { "{\"a\":1,\"a\":1}",           -1, 0 },   /* duplicate            */
    { "{\"a\":{\"b\":1,\"b\":2}}",   -1, 0 },   /* nested duplicate     */
    { "{\"a\":\"\\u0000\"}",         -1, 0 },   /* NUL                  */
    { "{\"a\\u0000\":1}",            -1, 0 },   /* NUL in a name        */
    { "{}{}",                        -1, 0 },
    { "{} x",                        -1, 0 },
    { "{\"a\":1,}",                  -1, 0 },
    { "{\"a\":NaN}",                 -1, 0 },
};

START_TEST(json_parse_object)
{
    const char *why = NULL;
    size_t len = objs[_i].len < 0 ? strlen(objs[_i].text) : (size_t)objs[_i].len;
    json_t *v = cka_json_parse_object(tu_pool, objs[_i].text, len, &why);
    ck_assert_msg((v != NULL) == objs[_i].ok, "row %d (%s): %s", _i, objs[_i].text,
                  v ? "accepted" : "refused");
    if (v)
        ck_assert(json_is_object(v));
}
END_TEST

START_TEST(json_depth_and_compact)
{
    json_t *v = cka_json_pool_own(tu_pool, json_loads("{\"a\":[[],{\"b\":[1]}],\"c\":\"x\"}", 0, NULL));
    json_t *s = cka_json_pool_own(tu_pool, json_integer(3));
    const char *deep = nested(tu_pool, "", CKA_MAX_JSON_DEPTH);
    const char *deeper = nested(tu_pool, "", CKA_MAX_JSON_DEPTH + 1);

    ck_assert_int_eq(cka_json_depth(s), 0);
    ck_assert_int_eq(cka_json_depth(v), 4);
    ck_assert_str_eq(cka_json_compact(tu_pool, v), "{\"a\":[[],{\"b\":[1]}],\"c\":\"x\"}");
    v = cka_json_parse_object(tu_pool, deep, strlen(deep), NULL);
    ck_assert_ptr_nonnull(v);
    ck_assert_int_eq(cka_json_depth(v), CKA_MAX_JSON_DEPTH);
    ck_assert_ptr_null(cka_json_parse_object(tu_pool, deeper, strlen(deeper), NULL));
}
END_TEST

Suite *suite_jws(void)
{
    Suite *s = suite_create("jws");
    TCase *tc = tcase_create("parse");
    TCase *lim = tcase_create("limits");
    TCase *misc = tcase_create("alg+json");

    tcase_add_checked_fixture(tc, tu_pool_setup, tu_pool_teardown);
    tcase_add_loop_test(tc, token_shape, 0, TU_NELTS(shape));
    tcase_add_loop_test(tc, header_and_payload, 0, TU_NELTS(content));
    tcase_add_test(tc, parse_fields);
    tcase_add_test(tc, parse_no_kid_no_typ);
    tcase_add_test(tc, parse_honours_len);
    suite_add_tcase(s, tc);

    tcase_add_checked_fixture(lim, tu_pool_setup, tu_pool_teardown);
    tcase_add_loop_test(lim, token_size, 0, TU_NELTS(sizes));
    tcase_add_loop_test(lim, json_depth_limit, 0, TU_NELTS(depths));
    suite_add_tcase(s, lim);

    tcase_add_checked_fixture(misc, tu_pool_setup, tu_pool_teardown);
    tcase_add_test(misc, alg_names_roundtrip);
    tcase_add_loop_test(misc, alg_unknown_names, 0, TU_NELTS(unknown_algs));
    tcase_add_loop_test(misc, json_parse_object, 0, TU_NELTS(objs));
    tcase_add_test(misc, json_depth_and_compact);
    suite_add_tcase(s, misc);
    return s;
}
