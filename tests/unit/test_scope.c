/* test_scope.c - scope / scp parsing, acr, auth_time, token lifetime, and
 * the Bearer challenge's quoting (src/core/scope.c, claims.c). */
#include <string.h>
#include <apr_strings.h>
#include "suites.h"
#include "scope.h"
#include "claims.h"
#include "validate.h"

/* Space-separated words as an array of const char * ("" -> empty). */
static apr_array_header_t *words(const char *s)
{
    apr_array_header_t *a = apr_array_make(tu_pool, 4, sizeof(const char *));
    char *last, *copy = apr_pstrdup(tu_pool, s), *w;
    for (w = apr_strtok(copy, " ", &last); w; w = apr_strtok(NULL, " ", &last))
        APR_ARRAY_PUSH(a, const char *) = w;
    return a;
}

/* ---- scope / scp ------------------------------------------------------ */
static const struct { const char *claims; const char *want; int grant; } scopes[] = {
    /* the scope string (RFC 8693 / RFC 9068), split on spaces */
    { "{\"scope\":\"openid conduktor:read\"}",      "conduktor:read",  1 },
    { "{\"scope\":\"conduktor:read\"}",             "conduktor:read",  1 },
    { "{\"scope\":\"  a   b  \"}",                  "b",               1 },
    { "{\"scope\":\"a b c\"}",                      "x c",             1 },
    /* prefix, suffix and case traps */
    { "{\"scope\":\"ab\"}",                         "a",               0 },
    { "{\"scope\":\"a\"}",                          "ab",              0 },
    { "{\"scope\":\"xa\"}",                         "a",               0 },
    { "{\"scope\":\"ab cd\"}",                      "b",               0 },
    { "{\"scope\":\"A\"}",                          "a",               0 },
    { "{\"scope\":\"read:all\"}",                   "read",            0 },
    { "{\"scope\":\"a b\"}",                        "a b",             1 },
    /* a tab is not a separator: "a\tb" is one (invalid) word */
    { "{\"scope\":\"a\\tb\"}",                      "a",               0 },
    /* scp: a string (Entra ID) or an array (Okta) */
    { "{\"scp\":\"access_as_user\"}",               "access_as_user",  1 },
    { "{\"scp\":\"User.Read access_as_user\"}",     "access_as_user",  1 },
    { "{\"scp\":[\"openid\",\"conduktor\"]}",       "conduktor",       1 },
    { "{\"scp\":[\"openid conduktor\"]}",           "conduktor",       0 },
    { "{\"scp\":[\"conduktorx\"]}",                 "conduktor",       0 },
    { "{\"scope\":[\"a\",\"b\"]}",                  "b",               1 },
    /* both claims are read */
    { "{\"scope\":\"openid\",\"scp\":[\"b\"]}",     "b",               1 },
    { "{\"scope\":\"b\",\"scp\":[\"openid\"]}",     "b",               1 },
    /* other types never grant, nor crash */
    { "{\"scp\":[1,true,null,{\"a\":1},[\"a\"],\"a\"]}", "a",          1 },
    { "{\"scp\":[1,true,null,{\"a\":1},[\"a\"]]}",  "a",               0 },
    { "{\"scope\":1}",                              "1",               0 },
    { "{\"scope\":true}",                           "true",            0 },
    { "{\"scope\":{\"a\":\"a\"}}",                  "a",               0 },
    { "{\"scope\":null}",                           "null",            0 },
    { "{\"scope\":\"\"}",                           "a",               0 },
    { "{\"scp\":[]}",                               "a",               0 },
    /* missing */
    { "{}",                                         "a",               0 },
    { "{\"scopes\":\"a\"}",                         "a",               0 },
    { "[\"a\"]",                                    "a",               0 },
};

START_TEST(scope_grant)
{
    json_t *c = tu_json(scopes[_i].claims);
    ck_assert_msg(cka_scopes_grant(c, words(scopes[_i].want)) == scopes[_i].grant,
                  "%s wanting '%s': expected %s", scopes[_i].claims, scopes[_i].want,
                  scopes[_i].grant ? "granted" : "denied");
}
END_TEST

static const struct { const char *s; int ok; } tokens[] = {
    { "openid", 1 }, { "conduktor:read", 1 }, { "https://api.example.com/read", 1 },
    { "a!#[]~", 1 }, { "", 0 }, { "a b", 0 }, { "a\"b", 0 }, { "a\\b", 0 },
    { "a\tb", 0 }, { "caf\xc3\xa9", 0 }, { "a\x7f", 0 },
};

START_TEST(scope_token)
{
    ck_assert_msg(cka_scope_token_valid(tokens[_i].s) == tokens[_i].ok, "'%s'", tokens[_i].s);
}
END_TEST

/* ---- acr ---------------------------------------------------------------- */
static const struct { const char *claims; const char *want; int grant; } acrs[] = {
    { "{\"acr\":\"gold\"}",                 "silver gold", 1 },
    { "{\"acr\":\"gold\"}",                 "gol",         0 },
    { "{\"acr\":\"go\"}",                   "gold",        0 },
    { "{\"acr\":\"Gold\"}",                 "gold",        0 },
    { "{\"acr\":\"silver gold\"}",          "gold",        0 },
    { "{\"acr\":[\"gold\"]}",               "gold",        0 },
    { "{\"acr\":1}",                        "1",           0 },
    { "{\"acr\":null}",                     "gold",        0 },
    { "{}",                                 "gold",        0 },
    { "{\"amr\":[\"gold\"]}",               "gold",        0 },
    { "{\"acr\":\"urn:mace:incommon:iap:silver\"}", "urn:mace:incommon:iap:silver", 1 },
};

START_TEST(acr_grant)
{
    json_t *c = tu_json(acrs[_i].claims);
    ck_assert_msg(cka_acr_grant(c, words(acrs[_i].want)) == acrs[_i].grant,
                  "%s wanting '%s'", acrs[_i].claims, acrs[_i].want);
}
END_TEST

/* ---- auth_time (now = 10000) -------------------------------------------- */
static const struct { const char *claims; long long max_age, skew; int ok; } ages[] = {
    { "{\"auth_time\":9700}",      300, 0,  1 },     /* exactly max_age old */
    { "{\"auth_time\":9699}",      300, 0,  0 },     /* one second more     */
    { "{\"auth_time\":9699}",      300, 1,  1 },     /* skew applies        */
    { "{\"auth_time\":10000}",     0,   0,  1 },
    { "{\"auth_time\":10050}",     300, 0,  1 },     /* in the future: iat's job */
    { "{}",                        300, 60, 0 },
    { "{\"auth_time\":\"9900\"}",  300, 0,  0 },
    { "{\"auth_time\":9900.5}",    300, 0,  0 },
    { "{\"auth_time\":-1}",        300, 0,  0 },
    { "{\"auth_time\":null}",      300, 0,  0 },
    { "{\"auth_time\":1e300}",     300, 0,  0 },
    { "{\"auth_time\":99999999999999}", 300, 0, 0 },
};

START_TEST(auth_time)
{
    json_t *c = tu_json(ages[_i].claims);
    ck_assert_msg(cka_auth_time_ok(c, 10000, ages[_i].max_age, ages[_i].skew) == ages[_i].ok,
                  "%s max_age %lld skew %lld", ages[_i].claims, ages[_i].max_age, ages[_i].skew);
}
END_TEST

/* ---- token lifetime ----------------------------------------------------- */
static const struct { const char *claims; long long max; cka_reason_t r; } lifetimes[] = {
    { "{\"iat\":1000,\"exp\":1300}",    300, CKA_OK },                  /* at the limit */
    { "{\"iat\":1000,\"exp\":1301}",    300, CKA_TOKEN_LIFETIME_TOO_LONG },
    { "{\"iat\":1000,\"exp\":1001}",    300, CKA_OK },
    { "{\"iat\":1000,\"exp\":900}",     300, CKA_OK },                  /* exp's job */
    { "{\"exp\":1300}",                 300, CKA_TOKEN_LIFETIME_TOO_LONG }, /* no iat */
    { "{\"exp\":1300}",                 0,   CKA_OK },                  /* off */
    { "{\"iat\":0,\"exp\":86400000}",   0,   CKA_OK },
    { "{\"iat\":\"1000\",\"exp\":1300}", 300, CKA_BAD_TIME_CLAIM },
    { "{\"iat\":1000.0,\"exp\":1300}",  300, CKA_BAD_TIME_CLAIM },
    { "{\"iat\":1000}",                 300, CKA_BAD_TIME_CLAIM },
    { "{\"iat\":null,\"exp\":1300}",    300, CKA_BAD_TIME_CLAIM },
};

START_TEST(lifetime)
{
    json_t *c = tu_json(lifetimes[_i].claims);
    char ctx[160];
    apr_snprintf(ctx, sizeof(ctx), "%s max %lld", lifetimes[_i].claims, lifetimes[_i].max);
    tu_assert_reason(cka_claims_check_lifetime(c, lifetimes[_i].max), lifetimes[_i].r, ctx);
}
END_TEST

/* The limit is one of the claim checks a fresh token and a cache hit share
 * (cka_validate_claims), after the time checks. */
START_TEST(lifetime_in_validate_claims)
{
    long long t = 1700000000LL;
    cka_policy_t pol = { .any_audience = 1, .skew = 60 };
    const char *text = apr_psprintf(tu_pool, "{\"iat\":%" APR_INT64_T_FMT ",\"exp\":%"
                                    APR_INT64_T_FMT ",\"aud\":\"x\"}",
                                    (apr_int64_t)t, (apr_int64_t)(t + 3600));
    json_t *c = tu_json(text);
    tu_assert_reason(cka_validate_claims(c, &pol, t, NULL), CKA_OK, "no limit");
    pol.max_lifetime = 3600;
    tu_assert_reason(cka_validate_claims(c, &pol, t, NULL), CKA_OK, "at the limit");
    pol.max_lifetime = 3599;
    tu_assert_reason(cka_validate_claims(c, &pol, t, NULL), CKA_TOKEN_LIFETIME_TOO_LONG,
                     "one second over");
    /* an expired token is refused as expired first */
    tu_assert_reason(cka_validate_claims(c, &pol, t + 7200, NULL), CKA_TOKEN_EXPIRED,
                     "expired and too long");
}
END_TEST

/* ---- the challenge's quoting ------------------------------------------- */
static const struct { const char *value, *quoted; } quotes[] = {
    { "a b",           "\"a b\"" },
    { "",              "\"\"" },
    { "say \"hi\"",    "\"say \\\"hi\\\"\"" },
    { "back\\slash",   "\"back\\\\slash\"" },
    { "\\",            "\"\\\\\"" },
    { "\\\"",          "\"\\\\\\\"\"" },
    { "end\\",         "\"end\\\\\"" },
    { "line\r\nX: y",  "\"line??X: y\"" },
    { "tab\there",     "\"tab?here\"" },
    { "del\x7f",       "\"del?\"" },
    { "caf\xc3\xa9",   "\"caf\xc3\xa9\"" },
};

START_TEST(quoting)
{
    ck_assert_str_eq(cka_quoted_string(tu_pool, quotes[_i].value), quotes[_i].quoted);
}
END_TEST

/* Every value the builder quotes comes back whole when the challenge is
 * read as a client reads it (quoted-pair undone): nothing leaks into a
 * parameter of its own. */
static const char *unquote_param(const char *challenge, const char *name)
{
    const char *p = strstr(challenge, apr_pstrcat(tu_pool, name, "=\"", NULL));
    ck_assert_ptr_nonnull(p);
    p += strlen(name) + 2;
    char *o = apr_palloc(tu_pool, strlen(p) + 1), *w = o;
    for (; *p && *p != '"'; p++) {
        if (*p == '\\' && p[1])
            p++;
        *w++ = *p;
    }
    ck_assert_int_eq(*p, '"');
    *w = '\0';
    return o;
}

START_TEST(challenge_builder)
{
    const char *c = cka_auth_param(tu_pool, "Bearer", "realm", "Conduktor");
    ck_assert_str_eq(c, "Bearer realm=\"Conduktor\"");
    c = cka_auth_param(tu_pool, c, "error", "insufficient_scope");
    c = cka_auth_param(tu_pool, c, "scope", "a:read b");
    ck_assert_str_eq(c, "Bearer realm=\"Conduktor\", error=\"insufficient_scope\", "
                        "scope=\"a:read b\"");
    const char *acr = "gold\", error=\"x\\";
    c = cka_auth_param(tu_pool, c, "acr_values", acr);
    c = cka_auth_param(tu_pool, c, "max_age", "300");
    ck_assert_str_eq(unquote_param(c, "acr_values"), acr);
    ck_assert_str_eq(unquote_param(c, "max_age"), "300");
    ck_assert_str_eq(unquote_param(c, "error"), "insufficient_scope");
    /* the injected error= is inside acr_values, not a parameter */
    ck_assert_ptr_null(strstr(c, "\", error=\"x"));
}
END_TEST

START_TEST(join)
{
    ck_assert_str_eq(cka_words_join(tu_pool, words("a b:c d")), "a b:c d");
    ck_assert_str_eq(cka_words_join(tu_pool, words("")), "");
    ck_assert_str_eq(cka_words_join(tu_pool, NULL), "");
}
END_TEST

Suite *suite_scope(void)
{
    Suite *s = suite_create("scope");
    TCase *tc = tcase_create("scope");
    tcase_add_checked_fixture(tc, tu_pool_setup, tu_pool_teardown);
    tcase_add_loop_test(tc, scope_grant, 0, TU_NELTS(scopes));
    tcase_add_loop_test(tc, scope_token, 0, TU_NELTS(tokens));
    tcase_add_loop_test(tc, acr_grant, 0, TU_NELTS(acrs));
    tcase_add_loop_test(tc, auth_time, 0, TU_NELTS(ages));
    tcase_add_loop_test(tc, lifetime, 0, TU_NELTS(lifetimes));
    tcase_add_test(tc, lifetime_in_validate_claims);
    tcase_add_loop_test(tc, quoting, 0, TU_NELTS(quotes));
    tcase_add_test(tc, challenge_builder);
    tcase_add_test(tc, join);
    suite_add_tcase(s, tc);
    return s;
}
