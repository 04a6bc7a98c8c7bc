/* test_client_creds.c - the client credentials grant, pure parts
 * (client_creds.c): the client's Basic value, the request, the token
 * endpoint's answer, the reuse time, the keyed name and the sealed record. */
#include <string.h>
#include <apr_strings.h>
#include <apr_base64.h>
#include "suites.h"
#include "client_creds.h"
#include "b64url.h"
#include "seal.h"

/* Standard base64 of text, with padding, made here with APR (not the code
 * under test). */
static const char *b64(const char *text, size_t n)
{
    char *o = apr_palloc(tu_pool, (apr_size_t)apr_base64_encode_len((int)n));
    apr_base64_encode(o, text, (int)n);
    return o;
}

/* ---- the Basic value ---------------------------------------------------------*/

static const struct {
    const char *raw;      /* what the client base64-encodes                  */
    size_t      raw_len;  /* 0: strlen(raw)                                  */
    const char *id;       /* expected client_id, NULL: refused               */
    const char *secret;
} basic[] = {
    { "ci-pipeline:s3cret",            0, "ci-pipeline", "s3cret" },
    { "ci:",                           0, "ci", "" },                 /* empty secret: the IdP decides */
    { "ci:a:b:c",                      0, "ci", "a:b:c" },            /* first colon splits */
    { "my+client:p%40ss+word",         0, "my client", "p@ss word" }, /* §2.3.1 form-urlencoded */
    { "id%3Awith-colon:x",             0, "id:with-colon", "x" },
    { "caf%C3%A9:x",                   0, "caf\xc3\xa9", "x" },       /* UTF-8 after decoding */
    { "caf\xc3\xa9:x",                 0, "caf\xc3\xa9", "x" },       /* raw UTF-8 */
    { ":secret",                       0, NULL, NULL },               /* empty id */
    { "no-colon-here",                 0, NULL, NULL },
    { "ci:bad%zzescape",               0, NULL, NULL },
    { "ci:cut%4",                      0, NULL, NULL },
    { "ci:cut%",                       0, NULL, NULL },
    { "ci:tab\there",                  0, NULL, NULL },               /* control character */
    { "ci:nl%0Ahere",                  0, NULL, NULL },               /* control after decoding */
    { "ci:del\x7f",                    0, NULL, NULL },
    { "ci:nul\0x",                     8, NULL, NULL },
    { "ci:nul%00x",                    0, NULL, NULL },               /* escaped NUL */
    { "ci:latin1\xe9",                 0, NULL, NULL },               /* not UTF-8 */
    { "ci:%C0%AF",                     0, NULL, NULL },               /* overlong */
    { "ci:%ED%A0%80",                  0, NULL, NULL },               /* surrogate */
    { "ci:%C2%85",                     0, NULL, NULL },               /* C1 control */
};

START_TEST(basic_table)
{
    size_t n = basic[_i].raw_len ? basic[_i].raw_len : strlen(basic[_i].raw);
    const char *enc = b64(basic[_i].raw, n);
    cka_cc_pair_t pair;
    const char *why = NULL;
    int rv = cka_cc_basic_decode(tu_pool, enc, strlen(enc), &pair, &why);
    if (basic[_i].id == NULL) {
        ck_assert_msg(rv != 0, "row %d accepted", _i);
        ck_assert_ptr_nonnull(why);
        ck_assert_ptr_null(strstr(why, basic[_i].raw + 3));  /* no input echoed */
        return;
    }
    ck_assert_msg(rv == 0, "row %d refused: %s", _i, why);
    ck_assert_str_eq(pair.id, basic[_i].id);
    ck_assert_uint_eq(pair.id_len, strlen(basic[_i].id));
    ck_assert_str_eq(pair.secret, basic[_i].secret);
    ck_assert_uint_eq(pair.secret_len, strlen(basic[_i].secret));
}
END_TEST

/* Base64 itself: only the standard alphabet with canonical padding. */
static const char *const bad_b64[] = {
    "",                     /* empty */
    "Y2k6eA",               /* "ci:x" without its padding */
    "Y2k6eA=",              /* short padding */
    "Y2k6eA===",
    "Y2k6eB==",             /* non-zero trailing bits */
    "Y2k6e=A=",             /* '=' inside */
    "Y2k6eA==Y2k6eA==",     /* padding in the middle */
    "Y2k-eA==",             /* base64url alphabet */
    "Y2k6 eA==",            /* space */
    "Y2k6eA==\n",
};

START_TEST(basic_bad_base64)
{
    cka_cc_pair_t pair;
    const char *why = NULL;
    ck_assert_msg(cka_cc_basic_decode(tu_pool, bad_b64[_i], strlen(bad_b64[_i]), &pair,
                                      &why) != 0, "accepted %s", bad_b64[_i]);
}
END_TEST

START_TEST(basic_lengths)
{
    /* client_id of CKA_CC_MAX_PART bytes passes, one more does not; the
     * encoded value is capped too. */
    char *id = apr_palloc(tu_pool, CKA_CC_MAX_PART + 2);
    memset(id, 'a', CKA_CC_MAX_PART + 1);
    id[CKA_CC_MAX_PART] = '\0';
    const char *ok = b64(apr_pstrcat(tu_pool, id, ":x", NULL), CKA_CC_MAX_PART + 2);
    cka_cc_pair_t pair;
    const char *why = NULL;
    ck_assert_int_eq(cka_cc_basic_decode(tu_pool, ok, strlen(ok), &pair, &why), 0);
    id[CKA_CC_MAX_PART] = 'a';
    id[CKA_CC_MAX_PART + 1] = '\0';
    const char *bad = b64(apr_pstrcat(tu_pool, id, ":x", NULL), CKA_CC_MAX_PART + 3);
    ck_assert_int_ne(cka_cc_basic_decode(tu_pool, bad, strlen(bad), &pair, &why), 0);
    char *huge = apr_palloc(tu_pool, CKA_CC_MAX_BASIC + 5);
    memset(huge, 'A', CKA_CC_MAX_BASIC + 4);
    huge[CKA_CC_MAX_BASIC + 4] = '\0';
    ck_assert_int_ne(cka_cc_basic_decode(tu_pool, huge, strlen(huge), &pair, &why), 0);
    ck_assert_str_eq(why, "Basic credentials too long");
}
END_TEST

/* ---- the request ---------------------------------------------------------------*/

START_TEST(header_round_trips)
{
    /* What is sent to the IdP is the §2.3.1 form of the decoded parts:
     * decoding it gives the same pair back. */
    static const char *const raws[] = { "ci:s3cret", "my+client:p%40ss+word", "a:b:c",
                                        "caf%C3%A9:%2B%2F%3D" };
    for (int i = 0; i < TU_NELTS(raws); i++) {
        const char *enc = b64(raws[i], strlen(raws[i]));
        cka_cc_pair_t a, b;
        const char *why = NULL;
        ck_assert_int_eq(cka_cc_basic_decode(tu_pool, enc, strlen(enc), &a, &why), 0);
        const char *h = cka_cc_basic_header(tu_pool, &a);
        ck_assert_msg(strncmp(h, "Basic ", 6) == 0, "%s", h);
        ck_assert_int_eq(cka_cc_basic_decode(tu_pool, h + 6, strlen(h + 6), &b, &why), 0);
        ck_assert_str_eq(a.id, b.id);
        ck_assert_str_eq(a.secret, b.secret);
    }
    /* A plain pair is sent as it came. */
    cka_cc_pair_t p = { "ci", 2, "s3cret", 6 };
    ck_assert_str_eq(cka_cc_basic_header(tu_pool, &p),
                     apr_pstrcat(tu_pool, "Basic ", b64("ci:s3cret", 9), NULL));
}
END_TEST

START_TEST(request_bodies)
{
    cka_cc_target_t t = { "https://idp/token", NULL, NULL, NULL };
    ck_assert_str_eq(cka_cc_request_body(tu_pool, &t), "grant_type=client_credentials");
    t.scope = "read write";
    t.resource = "https://conduktor.example.com/api";
    t.audience = "conduktor&admin=1";
    ck_assert_str_eq(cka_cc_request_body(tu_pool, &t),
                     "grant_type=client_credentials&scope=read+write"
                     "&resource=https%3A%2F%2Fconduktor.example.com%2Fapi"
                     "&audience=conduktor%26admin%3D1");
    ck_assert_str_eq(cka_cc_form_encode(tu_pool, "aZ09*-._ ~\xc3\xa9", 12),
                     "aZ09*-._+%7E%C3%A9");
}
END_TEST

/* ---- the answer -------------------------------------------------------------------*/

#define JWT_LIKE "eyJhbGciOiJFUzI1NiJ9.eyJleHAiOjE5MDAwMDAwMDB9.c2ln"
static const struct {
    long status;
    const char *body;
    cka_cc_outcome_t want;
    const char *token;      /* TOKEN: the token; REFUSED: the error code */
    long long expires_in;
} answers[] = {
    { 200, "{\"access_token\":\"abc\",\"token_type\":\"Bearer\",\"expires_in\":300}",
      CKA_CC_TOKEN, "abc", 300 },
    { 200, "{\"access_token\":\"abc\",\"token_type\":\"bearer\"}", CKA_CC_TOKEN, "abc", -1 },
    { 200, "{\"access_token\":\"" JWT_LIKE "\",\"token_type\":\"BEARER\",\"scope\":\"x\","
           "\"refresh_expires_in\":0,\"not-before-policy\":0}", CKA_CC_TOKEN, JWT_LIKE, -1 },
    { 200, "{\"access_token\":\"AWpw1sZZC20=.29Qb9+/==\",\"token_type\":\"Bearer\"}",
      CKA_CC_TOKEN, "AWpw1sZZC20=.29Qb9+/==", -1 },
    { 200, "{\"access_token\":\"abc\",\"token_type\":\"DPoP\"}", CKA_CC_BAD, NULL, -1 },
    { 200, "{\"access_token\":\"abc\",\"token_type\":\"N_A\"}", CKA_CC_BAD, NULL, -1 },
    { 200, "{\"access_token\":\"abc\"}", CKA_CC_BAD, NULL, -1 },
    { 200, "{\"access_token\":\"abc\",\"token_type\":7}", CKA_CC_BAD, NULL, -1 },
    { 200, "{\"access_token\":\"\",\"token_type\":\"Bearer\"}", CKA_CC_BAD, NULL, -1 },
    { 200, "{\"access_token\":\"a b\",\"token_type\":\"Bearer\"}", CKA_CC_BAD, NULL, -1 },
    { 200, "{\"access_token\":\"a\\u00e9\",\"token_type\":\"Bearer\"}", CKA_CC_BAD, NULL, -1 },
    { 200, "{\"access_token\":\"a\\nb\",\"token_type\":\"Bearer\"}", CKA_CC_BAD, NULL, -1 },
    { 200, "{\"access_token\":42,\"token_type\":\"Bearer\"}", CKA_CC_BAD, NULL, -1 },
    { 200, "{\"token_type\":\"Bearer\"}", CKA_CC_BAD, NULL, -1 },
    { 200, "{\"access_token\":\"abc\",\"token_type\":\"Bearer\",\"expires_in\":0}",
      CKA_CC_BAD, NULL, -1 },
    { 200, "{\"access_token\":\"abc\",\"token_type\":\"Bearer\",\"expires_in\":-5}",
      CKA_CC_BAD, NULL, -1 },
    { 200, "{\"access_token\":\"abc\",\"token_type\":\"Bearer\",\"expires_in\":\"300\"}",
      CKA_CC_BAD, NULL, -1 },
    { 200, "{\"access_token\":\"abc\",\"token_type\":\"Bearer\",\"expires_in\":1.5}",
      CKA_CC_BAD, NULL, -1 },
    { 200, "{\"access_token\":\"abc\",\"access_token\":\"def\",\"token_type\":\"Bearer\"}",
      CKA_CC_BAD, NULL, -1 },                                          /* duplicate member */
    { 200, "[\"abc\"]", CKA_CC_BAD, NULL, -1 },
    { 200, "access_token=abc&token_type=bearer", CKA_CC_BAD, NULL, -1 },
    { 200, "", CKA_CC_BAD, NULL, -1 },
    { 200, "{\"error\":\"invalid_client\"}", CKA_CC_BAD, NULL, -1 },   /* 200 is not a refusal */
    { 200, "{\"access_token\":\"abc\",\"token_type\":\"Bearer\",\"error\":\"x\"}",
      CKA_CC_BAD, NULL, -1 },
    { 401, "{\"error\":\"invalid_client\",\"error_description\":\"bad secret\"}",
      CKA_CC_REFUSED, "invalid_client", -1 },
    { 400, "{\"error\":\"unauthorized_client\"}", CKA_CC_REFUSED, "unauthorized_client", -1 },
    { 400, "{\"error\":\"invalid_grant\"}", CKA_CC_REFUSED, "invalid_grant", -1 },
    { 400, "{\"error\":\"invalid_scope\"}", CKA_CC_REFUSED, "invalid_scope", -1 },
    { 400, "{\"error\":\"access_denied\"}", CKA_CC_REFUSED, "access_denied", -1 },
    { 400, "{\"error\":\"unsupported_grant_type\"}", CKA_CC_BAD, NULL, -1 },   /* ours to fix */
    { 400, "{\"error\":\"invalid_request\"}", CKA_CC_BAD, NULL, -1 },
    { 400, "{\"error\":\"\\u0001evil\"}", CKA_CC_BAD, NULL, -1 },
    { 400, "{\"error\":42}", CKA_CC_BAD, NULL, -1 },
    { 401, "<html>nope</html>", CKA_CC_BAD, NULL, -1 },
    { 401, "", CKA_CC_BAD, NULL, -1 },
    { 500, "{\"error\":\"invalid_client\"}", CKA_CC_BAD, NULL, -1 },  /* a 500 is the IdP failing */
    { 302, "", CKA_CC_BAD, NULL, -1 },
    { 503, "{}", CKA_CC_BAD, NULL, -1 },
};

START_TEST(answer_table)
{
    cka_cc_answer_t a;
    const char *body = answers[_i].body;
    cka_cc_outcome_t got = cka_cc_parse_answer(tu_pool, answers[_i].status, body,
                                               strlen(body), &a);
    ck_assert_msg(got == answers[_i].want, "row %d (%s): got %d, expected %d", _i, body,
                  (int)got, (int)answers[_i].want);
    if (got == CKA_CC_TOKEN) {
        ck_assert_str_eq(a.token, answers[_i].token);
        ck_assert_uint_eq(a.token_len, strlen(answers[_i].token));
        ck_assert_int_eq(a.expires_in, answers[_i].expires_in);
    }
    else if (got == CKA_CC_REFUSED)
        ck_assert_str_eq(a.error, answers[_i].token);
    else {
        ck_assert_ptr_nonnull(a.why);
        ck_assert_ptr_null(strstr(a.why, "abc"));      /* no token in the reason */
    }
}
END_TEST

START_TEST(answer_limits)
{
    /* An access token of CKA_MAX_TOKEN_LEN bytes passes, one more byte does
     * not; an answer over 64 KiB is refused whatever it holds. */
    size_t n = 16384;
    char *tok = apr_palloc(tu_pool, n + 2);
    memset(tok, 'x', n + 1);
    tok[n] = '\0';
    const char *ok = apr_psprintf(tu_pool, "{\"access_token\":\"%s\",\"token_type\":\"Bearer\"}",
                                  tok);
    cka_cc_answer_t a;
    ck_assert_int_eq(cka_cc_parse_answer(tu_pool, 200, ok, strlen(ok), &a), CKA_CC_TOKEN);
    tok[n] = 'x';
    tok[n + 1] = '\0';
    const char *big = apr_psprintf(tu_pool, "{\"access_token\":\"%s\",\"token_type\":\"Bearer\"}",
                                   tok);
    ck_assert_int_eq(cka_cc_parse_answer(tu_pool, 200, big, strlen(big), &a), CKA_CC_BAD);
    size_t pad = CKA_CC_MAX_ANSWER;
    char *filler = apr_palloc(tu_pool, pad + 1);
    memset(filler, 'y', pad);
    filler[pad] = '\0';
    const char *huge = apr_psprintf(tu_pool, "{\"access_token\":\"abc\",\"token_type\":\"Bearer\","
                                    "\"x\":\"%s\"}", filler);
    ck_assert_int_eq(cka_cc_parse_answer(tu_pool, 200, huge, strlen(huge), &a), CKA_CC_BAD);
    ck_assert_str_eq(a.why, "answer larger than 64 KiB");
}
END_TEST

/* ---- how long it is reused ------------------------------------------------------------*/

static const char *jwt_with(const char *payload)
{
    return apr_pstrcat(tu_pool, "eyJhbGciOiJFUzI1NiJ9.",
                       cka_b64url_encode(tu_pool, (const unsigned char *)payload,
                                         strlen(payload)), ".c2ln", NULL);
}

START_TEST(token_exp)
{
    const char *t = jwt_with("{\"exp\":1900000000,\"sub\":\"x\"}");
    ck_assert_int_eq(cka_cc_token_exp(tu_pool, t, strlen(t)), 1900000000LL);
    static const char *const none[] = { "{\"sub\":\"x\"}", "{\"exp\":\"1900000000\"}",
                                        "{\"exp\":1.5e9}", "{\"exp\":-1}", "[1]", "not json",
                                        "{\"exp\":1,\"exp\":2}" };
    for (int i = 0; i < TU_NELTS(none); i++) {
        t = jwt_with(none[i]);
        ck_assert_msg(cka_cc_token_exp(tu_pool, t, strlen(t)) == -1, "%s", none[i]);
    }
    static const char *const shapes[] = { "opaque-token", "a.b", "a.b.c.d", "a.!!!.c", "" };
    for (int i = 0; i < TU_NELTS(shapes); i++)
        ck_assert_int_eq(cka_cc_token_exp(tu_pool, shapes[i], strlen(shapes[i])), -1);
}
END_TEST

START_TEST(reuse_until)
{
    long long now = 1000000;
    ck_assert_int_eq(cka_cc_reuse_until(now, now + 300, -1), now + 270);
    ck_assert_int_eq(cka_cc_reuse_until(now, -1, 300), now + 270);
    ck_assert_int_eq(cka_cc_reuse_until(now, now + 300, 100), now + 70);  /* the earlier */
    ck_assert_int_eq(cka_cc_reuse_until(now, now + 100, 300), now + 70);
    ck_assert_int_eq(cka_cc_reuse_until(now, -1, -1), 0);                 /* unknown: not reused */
    ck_assert_int_eq(cka_cc_reuse_until(now, now + 30, -1), 0);           /* too close */
    ck_assert_int_eq(cka_cc_reuse_until(now, now + 31, -1), now + 1);
    ck_assert_int_eq(cka_cc_reuse_until(now, now - 5, -1), 0);
}
END_TEST

/* ---- the keyed name and the record -------------------------------------------------------*/

static const unsigned char secret_a[32] = "0123456789abcdef0123456789abcdef";
static const unsigned char secret_b[32] = "fedcba9876543210fedcba9876543210";

static const cka_seal_t *seal_of(const unsigned char *s)
{
    const char *err = NULL;
    const cka_seal_t *seal = cka_seal_create(tu_pool, s, 32, &err);
    ck_assert_msg(seal != NULL, "%s", err ? err : "");
    return seal;
}

START_TEST(names)
{
    const cka_seal_t *s = seal_of(secret_a);
    cka_cc_target_t t = { "https://idp/token", "read", NULL, NULL };
    cka_cc_pair_t p = { "ci", 2, "s3cret", 6 };
    unsigned char base[32], n[32];
    ck_assert_int_eq(cka_cc_name(s, &t, &p, base), 0);
    ck_assert_int_eq(cka_cc_name(s, &t, &p, n), 0);
    ck_assert_mem_eq(base, n, 32);
    /* Every field counts; an absent parameter is not an empty one; moving
     * bytes between id and secret changes the name. */
    cka_cc_target_t t2 = t;
    cka_cc_pair_t p2 = p;
    t2.endpoint = "https://idp/token2";
    ck_assert_int_eq(cka_cc_name(s, &t2, &p, n), 0);
    ck_assert(memcmp(base, n, 32) != 0);
    t2 = t; t2.scope = NULL;
    ck_assert_int_eq(cka_cc_name(s, &t2, &p, n), 0);
    ck_assert(memcmp(base, n, 32) != 0);
    t2 = t; t2.resource = "";
    ck_assert_int_eq(cka_cc_name(s, &t2, &p, n), 0);
    ck_assert(memcmp(base, n, 32) != 0);
    t2 = t; t2.audience = "read"; t2.scope = NULL;
    ck_assert_int_eq(cka_cc_name(s, &t2, &p, n), 0);
    ck_assert(memcmp(base, n, 32) != 0);
    p2.secret = "s3creT";
    ck_assert_int_eq(cka_cc_name(s, &t, &p2, n), 0);
    ck_assert(memcmp(base, n, 32) != 0);
    cka_cc_pair_t p3 = { "cis", 3, "3cret", 5 };
    ck_assert_int_eq(cka_cc_name(s, &t, &p3, n), 0);
    ck_assert(memcmp(base, n, 32) != 0);
    /* Another cache secret: another name. */
    ck_assert_int_eq(cka_cc_name(seal_of(secret_b), &t, &p, n), 0);
    ck_assert(memcmp(base, n, 32) != 0);
}
END_TEST

START_TEST(records)
{
    const cka_seal_t *s = seal_of(secret_a), *other = seal_of(secret_b);
    unsigned char name[32], name2[32];
    cka_cc_target_t t = { "https://idp/token", NULL, NULL, NULL };
    cka_cc_pair_t p = { "ci", 2, "s3cret", 6 }, p2 = { "ci", 2, "wrong", 5 };
    ck_assert_int_eq(cka_cc_name(s, &t, &p, name), 0);
    ck_assert_int_eq(cka_cc_name(s, &t, &p2, name2), 0);
    cka_cc_record_t rec = { 0, 0, 1900000000LL, JWT_LIKE, strlen(JWT_LIKE) }, back;
    unsigned char *b;
    size_t n;
    ck_assert_int_eq(cka_cc_record_seal(s, tu_pool, name, &rec, &b, &n), 0);
    for (size_t i = 0; i + 3 <= n; i++)                          /* sealed, not in clear */
        ck_assert_msg(memcmp(b + i, "eyJ", 3) != 0, "token bytes in the sealed record");
    ck_assert_int_eq(cka_cc_record_open(s, tu_pool, name, b, n, &back), 0);
    ck_assert_int_eq(back.refused, 0);
    ck_assert_int_eq(back.until, 1900000000LL);
    ck_assert_str_eq(back.token, JWT_LIKE);
    /* Under another name, with another secret, or changed: nothing. */
    ck_assert_int_ne(cka_cc_record_open(s, tu_pool, name2, b, n, &back), 0);
    ck_assert_int_ne(cka_cc_record_open(other, tu_pool, name, b, n, &back), 0);
    for (size_t i = 0; i < n; i++) {
        unsigned char *c = apr_pmemdup(tu_pool, b, n);
        c[i] ^= 1;
        ck_assert_int_ne(cka_cc_record_open(s, tu_pool, name, c, n, &back), 0);
    }
    ck_assert_int_ne(cka_cc_record_open(s, tu_pool, name, b, n - 1, &back), 0);
    /* A token record does not open as another kind's (the token cache). */
    unsigned char *pt;
    size_t ptn;
    ck_assert_int_ne(cka_unseal(s, tu_pool, CKA_SEAL_TOKEN, name, b, n, &pt, &ptn), 0);

    /* A refusal: no token in it. */
    cka_cc_record_t no = { 0, 1, 1900000005LL, NULL, 0 };
    ck_assert_int_eq(cka_cc_record_seal(s, tu_pool, name2, &no, &b, &n), 0);
    ck_assert_int_eq(cka_cc_record_open(s, tu_pool, name2, b, n, &back), 0);
    ck_assert_int_eq(back.refused, 1);
    ck_assert_int_eq(back.until, 1900000005LL);
    ck_assert_ptr_null(back.token);
    ck_assert_int_eq(back.mark, 0);
    /* Markers: pending and failed, no token even when one is given. */
    for (int m = 0; m < 2; m++) {
        cka_cc_record_t mk = { m ? 'F' : 'P', 0, 1900000007LL, "ignored", 7 };
        ck_assert_int_eq(cka_cc_record_seal(s, tu_pool, name, &mk, &b, &n), 0);
        ck_assert_int_eq(cka_cc_record_open(s, tu_pool, name, b, n, &back), 0);
        ck_assert_int_eq(back.mark, m ? 'F' : 'P');
        ck_assert_int_eq(back.refused, 0);
        ck_assert_ptr_null(back.token);
        ck_assert_int_eq(back.until, 1900000007LL);
    }
    cka_cc_record_t odd = { 'X', 0, 1900000007LL, NULL, 0 };
    ck_assert_int_ne(cka_cc_record_seal(s, tu_pool, name, &odd, &b, &n), 0);
    /* What cannot be a record is not sealed. */
    cka_cc_record_t bad = { 0, 0, 1900000000LL, "a b", 3 };
    ck_assert_int_ne(cka_cc_record_seal(s, tu_pool, name, &bad, &b, &n), 0);
    bad.token = "abc";
    bad.until = 0;
    ck_assert_int_ne(cka_cc_record_seal(s, tu_pool, name, &bad, &b, &n), 0);
}
END_TEST

/* Plaintexts sealed correctly but framed wrong (as a writer holding the
 * secret could make them) are refused by the strict open. */
START_TEST(record_framing)
{
    const cka_seal_t *s = seal_of(secret_a);
    unsigned char name[32];
    memset(name, 7, sizeof(name));
    static const struct { const char *pt; size_t n; } bad[] = {
        { "CKC1T\0\0\0\0\0\0\0\0abc", 16 },          /* until 0 */
        { "CKC1X\0\0\0\0\x71\0\0\0abc", 16 },        /* unknown kind */
        { "CKC0T\0\0\0\0\x71\0\0\0abc", 16 },        /* magic */
        { "CKC1T\0\0\0\0\x71\0\0\0", 13 },           /* token record without a token */
        { "CKC1T\0\0\0\0\x71\0\0\0a b", 16 },        /* token not visible ASCII */
        { "CKC1R\0\0\0\0\x71\0\0\0abc", 16 },        /* refusal carrying bytes */
        { "CKC1P\0\0\0\0\x71\0\0\0abc", 16 },        /* marker carrying bytes */
        { "CKC1F\0\0\0\0\x71\0\0\0abc", 16 },
        { "CKC1\0\0\0\0\0\x71\0\0\0", 13 },          /* kind NUL */
        { "CKC1T\0\0\0", 8 },                        /* short */
        { "CKC1T\xff\xff\xff\xff\xff\xff\xff\xff" "abc", 16 },  /* until out of range */
    };
    for (int i = 0; i < TU_NELTS(bad); i++) {
        unsigned char *b;
        size_t n;
        cka_cc_record_t back;
        ck_assert_int_eq(cka_seal(s, tu_pool, CKA_SEAL_CLIENT, name,
                                  (const unsigned char *)bad[i].pt, bad[i].n, &b, &n), 0);
        ck_assert_msg(cka_cc_record_open(s, tu_pool, name, b, n, &back) != 0, "row %d", i);
    }
}
END_TEST

Suite *suite_client_creds(void)
{
    Suite *s = suite_create("client_creds");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, tu_pool_setup, tu_pool_teardown);
    tcase_add_loop_test(tc, basic_table, 0, TU_NELTS(basic));
    tcase_add_loop_test(tc, basic_bad_base64, 0, TU_NELTS(bad_b64));
    tcase_add_test(tc, basic_lengths);
    tcase_add_test(tc, header_round_trips);
    tcase_add_test(tc, request_bodies);
    tcase_add_loop_test(tc, answer_table, 0, TU_NELTS(answers));
    tcase_add_test(tc, answer_limits);
    tcase_add_test(tc, token_exp);
    tcase_add_test(tc, reuse_until);
    tcase_add_test(tc, names);
    tcase_add_test(tc, records);
    tcase_add_test(tc, record_framing);
    suite_add_tcase(s, tc);
    return s;
}
