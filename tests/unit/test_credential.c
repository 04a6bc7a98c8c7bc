/* test_credential.c - sorting a credential into a kind (credential.h): one
 * credential per table row, built at test time. */
#include <string.h>
#include <apr_strings.h>
#include <apr_encode.h>
#include "suites.h"
#include "credential.h"
#include "cka_limits.h"

#define TRUSTED "https://idp.test/realms/conduktor"

static int trusted(void *ctx, const char *iss)
{
    (void)ctx;
    return strcmp(iss, TRUSTED) == 0 || strcmp(iss, "https://second.test") == 0;
}

/* Segment encodings: the strict one of JWS, and the looser ones a JWT
 * path refuses but the sorting must still recognise. */
enum { URL, URL_PADDED, STD_PADDED, RAW };

static const char *seg(const char *text, int enc)
{
    if (enc == RAW)
        return text;
    apr_size_t n = 0;
    int flags = enc == URL ? APR_ENCODE_BASE64URL
              : enc == URL_PADDED ? APR_ENCODE_URL : APR_ENCODE_NONE;
    return apr_pencode_base64(tu_pool, text, APR_ENCODE_STRING, flags, &n);
}

static const char *jws(const char *h, const char *p, int enc)
{
    return apr_pstrcat(tu_pool, seg(h, enc), ".", seg(p, enc), ".c2lnbmF0dXJl", NULL);
}

#define HDR "{\"alg\":\"RS256\",\"kid\":\"k1\"}"
#define PAY(iss) "{\"iss\":\"" iss "\",\"sub\":\"u\"}"

typedef struct {
    const char     *name;
    const char     *(*make)(void);
    cka_reason_t    why;
    cka_cred_kind_t kind;
} row_t;

#define R(fn, body) static const char *fn(void) { return body; }
R(jwt_trusted,        jws(HDR, PAY(TRUSTED), URL))
R(jwt_second_issuer,  jws(HDR, PAY("https://second.test"), URL))
R(jwt_untrusted,      jws(HDR, PAY("https://console.conduktor.test"), URL))
R(jwt_iss_prefix,     jws(HDR, PAY("https://idp.test/realms/conduktorx"), URL))
R(jwt_iss_case,       jws(HDR, PAY("HTTPS://idp.test/realms/conduktor"), URL))
R(jwt_no_iss,         jws(HDR, "{\"sub\":\"u\"}", URL))
R(jwt_iss_number,     jws(HDR, "{\"iss\":7}", URL))
R(jwt_iss_array,      jws(HDR, "{\"iss\":[\"" TRUSTED "\"]}", URL))
R(jwt_padded,         jws(HDR, PAY(TRUSTED), URL_PADDED))
R(jwt_std_alphabet,   jws(HDR, PAY(TRUSTED), STD_PADDED))
R(jwt_bad_header,     jws("not json", PAY(TRUSTED), URL))
R(jwt_no_sig,         apr_pstrcat(tu_pool, seg(HDR, URL), ".", seg(PAY(TRUSTED), URL), ".", NULL))
R(jws_payload_garbage, jws(HDR, "not json at all", URL))
R(jws_payload_dup,    jws(HDR, "{\"iss\":\"x\",\"iss\":\"" TRUSTED "\"}", URL))
R(jws_payload_raw,    apr_pstrcat(tu_pool, seg(HDR, URL), ".%%%.sig", NULL))
R(jws_header_no_alg,  jws("{\"kid\":\"k1\"}", "not json", URL))
R(three_junk,         "abc.def.ghi")
R(four_segments,      apr_pstrcat(tu_pool, jws(HDR, PAY(TRUSTED), URL), ".x", NULL))
R(jwe_five,           apr_pstrcat(tu_pool, seg("{\"alg\":\"RSA-OAEP\",\"enc\":\"A256GCM\"}", URL),
                                  ".a.b.c.d", NULL))
R(two_segments,       apr_pstrcat(tu_pool, seg(HDR, URL), ".", seg(PAY(TRUSTED), URL), NULL))
R(swapped,            apr_pstrcat(tu_pool, seg(PAY(TRUSTED), URL), ".", seg(HDR, URL), ".c2ln", NULL))
R(claims_alone,       seg(PAY(TRUSTED), URL))
R(header_alone,       seg(HDR, URL))
R(api_key,            "AWpw1sZZC20=.29Qb9+/x0ZNl4dYqG1xkpF3VJ1lkDJ2NdLt5Zkj7Tw==")
R(api_key_no_dot,     "cdk_3f9a8b7c6d5e4f3a2b1c")
R(okta_opaque,        "2YotnFZFEjr1zCsicMWpAA")
R(tilde_and_friends,  "a~b!c#d$e%f&g'h(i)j*k+l/m:n;o<p=q>r?s@t[u]v^w_x`y{z|}")
R(one_char,           "x")
R(dots_only,          "..")
R(comma,              "key1,key2")
R(space,              "key1 key2")
R(tab,                "key1\tkey2")
R(control,            "key\x01")
R(del,                "key\x7f")
R(control_then_comma, "key\x01,key2")
R(comma_then_control, "key,\x01key2")
R(latin1,             "caf\xe9")
R(utf8,               "caf\xc3\xa9")
R(empty,              "")
#undef R

/* A payload object too deep to read strictly, under a header that is no
 * JOSE header: still a JWT (its iss cannot be ruled out). */
static const char *jws_payload_deep(void)
{
    char *p = apr_pstrcat(tu_pool, "{\"iss\":\"" TRUSTED "\",\"x\":", NULL);
    for (int i = 0; i < 40; i++)
        p = apr_pstrcat(tu_pool, p, "[", NULL);
    for (int i = 0; i < 40; i++)
        p = apr_pstrcat(tu_pool, p, "]", NULL);
    return jws("junk", apr_pstrcat(tu_pool, p, "}", NULL), URL);
}

static const char *max_len(void)
{
    char *s = apr_palloc(tu_pool, CKA_MAX_TOKEN_LEN + 1);
    memset(s, 'a', CKA_MAX_TOKEN_LEN);
    s[CKA_MAX_TOKEN_LEN] = '\0';
    return s;
}

static const char *too_long(void)
{
    char *s = apr_palloc(tu_pool, CKA_MAX_TOKEN_LEN + 2);
    memset(s, 'a', CKA_MAX_TOKEN_LEN + 1);
    s[CKA_MAX_TOKEN_LEN + 1] = '\0';
    return s;
}

static const row_t rows[] = {
    /* a JWT of a configured issuer, however it is encoded: checked as one */
    { "jwt_trusted",         jwt_trusted,         CKA_OK, CKA_CRED_JWT },
    { "jwt_second_issuer",   jwt_second_issuer,   CKA_OK, CKA_CRED_JWT },
    { "jwt_padded",          jwt_padded,          CKA_OK, CKA_CRED_JWT },
    { "jwt_std_alphabet",    jwt_std_alphabet,    CKA_OK, CKA_CRED_JWT },
    { "jwt_bad_header",      jwt_bad_header,      CKA_OK, CKA_CRED_JWT },
    { "jwt_no_sig",          jwt_no_sig,          CKA_OK, CKA_CRED_JWT },
    /* a JWS whose payload does not read: cannot be ruled out, checked */
    { "jws_payload_garbage", jws_payload_garbage, CKA_OK, CKA_CRED_JWT },
    { "jws_payload_dup",     jws_payload_dup,     CKA_OK, CKA_CRED_JWT },
    { "jws_payload_raw",     jws_payload_raw,     CKA_OK, CKA_CRED_JWT },
    { "jws_payload_deep",    jws_payload_deep,    CKA_OK, CKA_CRED_JWT },
    /* trusted claims in a mangled shape: still refused as a JWT */
    { "four_segments",       four_segments,       CKA_OK, CKA_CRED_JWT },
    { "two_segments",        two_segments,        CKA_OK, CKA_CRED_JWT },
    { "swapped",             swapped,             CKA_OK, CKA_CRED_JWT },
    { "claims_alone",        claims_alone,        CKA_OK, CKA_CRED_JWT },
    /* a JWS of another issuer (Console's own tokens): opaque */
    { "jwt_untrusted",       jwt_untrusted,       CKA_OK, CKA_CRED_OPAQUE },
    { "jwt_iss_prefix",      jwt_iss_prefix,      CKA_OK, CKA_CRED_OPAQUE },
    { "jwt_iss_case",        jwt_iss_case,        CKA_OK, CKA_CRED_OPAQUE },
    { "jwt_no_iss",          jwt_no_iss,          CKA_OK, CKA_CRED_OPAQUE },
    { "jwt_iss_number",      jwt_iss_number,      CKA_OK, CKA_CRED_OPAQUE },
    { "jwt_iss_array",       jwt_iss_array,       CKA_OK, CKA_CRED_OPAQUE },
    /* not a JWS at all */
    { "jws_header_no_alg",   jws_header_no_alg,   CKA_OK, CKA_CRED_OPAQUE },
    { "three_junk",          three_junk,          CKA_OK, CKA_CRED_OPAQUE },

    { "jwe_five",            jwe_five,            CKA_OK, CKA_CRED_OPAQUE },

    { "header_alone",        header_alone,        CKA_OK, CKA_CRED_OPAQUE },
    { "api_key",             api_key,             CKA_OK, CKA_CRED_OPAQUE },
    { "api_key_no_dot",      api_key_no_dot,      CKA_OK, CKA_CRED_OPAQUE },
    { "okta_opaque",         okta_opaque,         CKA_OK, CKA_CRED_OPAQUE },
    { "tilde_and_friends",   tilde_and_friends,   CKA_OK, CKA_CRED_OPAQUE },
    { "one_char",            one_char,            CKA_OK, CKA_CRED_OPAQUE },
    { "dots_only",           dots_only,           CKA_OK, CKA_CRED_OPAQUE },
    { "max_len",             max_len,             CKA_OK, CKA_CRED_OPAQUE },
    /* refused before any kind */
    { "too_long",            too_long,            CKA_TOKEN_TOO_LARGE, CKA_CRED_NONE },
    { "comma",               comma,               CKA_BAD_REQUEST, CKA_CRED_NONE },
    { "space",               space,               CKA_BAD_REQUEST, CKA_CRED_NONE },
    { "tab",                 tab,                 CKA_BAD_REQUEST, CKA_CRED_NONE },
    { "empty",               empty,               CKA_BAD_REQUEST, CKA_CRED_NONE },
    { "control",             control,             CKA_MALFORMED, CKA_CRED_NONE },
    { "del",                 del,                 CKA_MALFORMED, CKA_CRED_NONE },
    { "latin1",              latin1,              CKA_MALFORMED, CKA_CRED_NONE },
    { "utf8",                utf8,                CKA_MALFORMED, CKA_CRED_NONE },
    /* the first refused byte decides */
    { "control_then_comma",  control_then_comma,  CKA_MALFORMED, CKA_CRED_NONE },
    { "comma_then_control",  comma_then_control,  CKA_BAD_REQUEST, CKA_CRED_NONE },
};

START_TEST(classify_table)
{
    const row_t *row = &rows[_i];
    const char *cred = row->make();
    cka_cred_kind_t kind = (cka_cred_kind_t)99;
    cka_reason_t why = cka_cred_classify(tu_pool, cred, strlen(cred), trusted, NULL, &kind);
    ck_assert_msg(why == row->why, "%s: reason %s, expected %s", row->name,
                  cka_reason_code(why), cka_reason_code(row->why));
    ck_assert_msg(kind == row->kind, "%s: kind %d, expected %d", row->name, kind, row->kind);
    /* the parts kept for the JWT path give what a parse of its own gives */
    cka_jws_parts_t parts;
    cka_cred_kind_t kind2 = CKA_CRED_NONE;
    ck_assert_int_eq(cka_cred_classify_parts(tu_pool, cred, strlen(cred), trusted, NULL,
                                             &kind2, &parts), row->why);
    ck_assert_int_eq(kind2, row->kind);
    cka_jws_t a, b;
    const char *da = NULL, *db = NULL;
    cka_reason_t ra = cka_jws_parse(tu_pool, cred, strlen(cred), &a, &da);
    cka_reason_t rb = cka_jws_parse_parts(tu_pool, cred, strlen(cred), &parts, &b, &db);
    ck_assert_msg(ra == rb, "%s: parse %s, with parts %s", row->name, cka_reason_code(ra),
                  cka_reason_code(rb));
    if (ra == CKA_OK) {
        ck_assert_msg(json_equal(a.header, b.header) && json_equal(a.claims, b.claims),
                      "%s: parts differ from a parse", row->name);
        ck_assert_int_eq(a.alg, b.alg);
        ck_assert_int_eq(a.payload_len, b.payload_len);
    }
    /* the byte rules alone (what the glue asks before the token cache) */
    why = cka_cred_screen(cred, strlen(cred));
    ck_assert_msg(why == row->why, "%s: screen %s, expected %s", row->name,
                  cka_reason_code(why), cka_reason_code(row->why));
}
END_TEST

/* Without a trusted issuer list nothing is a JWT of a trusted issuer, but
 * an unreadable JWS is still not passed as opaque. */
START_TEST(no_trusted_issuers)
{
    cka_cred_kind_t kind;
    const char *t = jwt_trusted();
    ck_assert_int_eq(cka_cred_classify(tu_pool, t, strlen(t), NULL, NULL, &kind), CKA_OK);
    ck_assert_int_eq(kind, CKA_CRED_OPAQUE);
    t = jws_payload_garbage();
    ck_assert_int_eq(cka_cred_classify(tu_pool, t, strlen(t), NULL, NULL, &kind), CKA_OK);
    ck_assert_int_eq(kind, CKA_CRED_JWT);
}
END_TEST

/* Only len bytes are looked at: what follows is not part of it. */
START_TEST(length_is_respected)
{
    cka_cred_kind_t kind;
    const char *t = apr_pstrcat(tu_pool, okta_opaque(), " trailing,junk", NULL);
    ck_assert_int_eq(cka_cred_classify(tu_pool, t, strlen(okta_opaque()), trusted, NULL,
                                       &kind), CKA_OK);
    ck_assert_int_eq(kind, CKA_CRED_OPAQUE);
    ck_assert_int_eq(cka_cred_classify(tu_pool, NULL, 0, trusted, NULL, &kind),
                     CKA_BAD_REQUEST);
}
END_TEST

START_TEST(kind_names)
{
    static const char *const names[] = { "jwt", "opaque", "introspected",
                                         "client_credentials", "basic" };
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        cka_cred_kind_t k = cka_cred_kind_parse(names[i]);
        ck_assert_int_ne(k, CKA_CRED_NONE);
        ck_assert_str_eq(cka_cred_kind_name(k), names[i]);
    }
    ck_assert_int_eq(cka_cred_kind_parse("JWT"), CKA_CRED_NONE);
    ck_assert_int_eq(cka_cred_kind_parse("jwt "), CKA_CRED_NONE);
    ck_assert_int_eq(cka_cred_kind_parse(""), CKA_CRED_NONE);
    ck_assert_int_eq(cka_cred_kind_parse(NULL), CKA_CRED_NONE);
    ck_assert_ptr_null(cka_cred_kind_name(CKA_CRED_NONE));
    ck_assert_ptr_null(cka_cred_kind_name(CKA_CRED_KIND_COUNT));
}
END_TEST

Suite *suite_credential(void)
{
    Suite *s = suite_create("credential");
    TCase *tc = tcase_create("classify");
    tcase_add_checked_fixture(tc, tu_pool_setup, tu_pool_teardown);
    tcase_add_loop_test(tc, classify_table, 0, (int)(sizeof(rows) / sizeof(rows[0])));
    tcase_add_test(tc, no_trusted_issuers);
    tcase_add_test(tc, length_is_respected);
    tcase_add_test(tc, kind_names);
    suite_add_tcase(s, tc);
    return s;
}
