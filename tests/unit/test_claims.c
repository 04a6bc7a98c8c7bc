/* test_claims.c - NumericDate, exp/nbf/iat with skew, aud, typ. */
#include <string.h>
#include <apr_strings.h>
#include "suites.h"
#include "mint.h"
#include "claims.h"
#include "cka_limits.h"

static long long now;

static void claims_setup(void)
{
    tu_pool_setup();
    now = mint_now();
}

static apr_status_t json_release(void *v)
{
    json_decref((json_t *)v);
    return APR_SUCCESS;
}

/* Parse a claims template ("$+60" is now + 60) as a JSON object. */
static json_t *claims_of(const char *tmpl)
{
    const char *text = mint_times(tu_pool, tmpl, now);
    json_error_t e;
    json_t *v = json_loads(text, JSON_REJECT_DUPLICATES, &e);
    ck_assert_msg(v != NULL, "test JSON %s: %s", text, e.text);
    apr_pool_cleanup_register(tu_pool, v, json_release, apr_pool_cleanup_null);
    return v;
}

/* Space-separated words as an array of const char * ("" -> empty). */
static apr_array_header_t *words(const char *s)
{
    apr_array_header_t *a = apr_array_make(tu_pool, 4, sizeof(const char *));
    char *last, *copy = apr_pstrdup(tu_pool, s), *w;
    for (w = apr_strtok(copy, " ", &last); w; w = apr_strtok(NULL, " ", &last))
        APR_ARRAY_PUSH(a, const char *) = w;
    return a;
}

/* ---- NumericDate ---------------------------------------------------- */
static const struct { const char *json; int want; long long value; } dates[] = {
    { "{}",                             1, 0 },
    { "{\"other\":1}",                  1, 0 },
    { "{\"t\":0}",                      0, 0 },
    { "{\"t\":1700000000}",             0, 1700000000LL },
    { "{\"t\":253402300799}",           0, CKA_MAX_NUMERIC_DATE },
    { "{\"t\":253402300800}",          -1, 0 },
    { "{\"t\":9223372036854775807}",   -1, 0 },
    { "{\"t\":-1}",                    -1, 0 },
    { "{\"t\":-9223372036854775808}",  -1, 0 },
    { "{\"t\":1.0}",                   -1, 0 },
    { "{\"t\":1700000000.5}",          -1, 0 },
    { "{\"t\":1e10}",                  -1, 0 },
    { "{\"t\":1e300}",                 -1, 0 },
    { "{\"t\":-1e300}",                -1, 0 },
    { "{\"t\":\"1700000000\"}",        -1, 0 },
    { "{\"t\":\"\"}",                  -1, 0 },
    { "{\"t\":null}",                  -1, 0 },
    { "{\"t\":true}",                  -1, 0 },
    { "{\"t\":[1700000000]}",          -1, 0 },
    { "{\"t\":{\"v\":1}}",             -1, 0 },
};

START_TEST(numeric_date)
{
    long long v = -42;
    int got = cka_numeric_date(claims_of(dates[_i].json), "t", &v);
    ck_assert_msg(got == dates[_i].want, "%s: got %d, expected %d", dates[_i].json,
                  got, dates[_i].want);
    if (got == 0)
        ck_assert_int_eq(v, dates[_i].value);
}
END_TEST

/* ---- exp / nbf / iat ------------------------------------------------- */
static const struct { const char *json; long long skew; cka_reason_t want; } times[] = {
    /* exp and the skew boundary: valid while now - skew < exp */
    { "{\"exp\":$+3600}",                  60, CKA_OK               },
    { "{\"exp\":$+0}",                     60, CKA_OK               },
    { "{\"exp\":$-59}",                    60, CKA_OK               },
    { "{\"exp\":$-60}",                    60, CKA_TOKEN_EXPIRED    },
    { "{\"exp\":$-61}",                    60, CKA_TOKEN_EXPIRED    },
    { "{\"exp\":$+1}",                      0, CKA_OK               },
    { "{\"exp\":$+0}",                      0, CKA_TOKEN_EXPIRED    },
    { "{\"exp\":$-1}",                      0, CKA_TOKEN_EXPIRED    },
    { "{\"exp\":$-299}",                  300, CKA_OK               },
    { "{\"exp\":$-300}",                  300, CKA_TOKEN_EXPIRED    },
    { "{\"exp\":0}",                       60, CKA_TOKEN_EXPIRED    },
    { "{\"exp\":253402300799}",            60, CKA_OK               },
    /* exp required, and a NumericDate */
    { "{}",                                60, CKA_BAD_TIME_CLAIM   },
    { "{\"iat\":$+0,\"nbf\":$+0}",         60, CKA_BAD_TIME_CLAIM   },
    { "{\"exp\":\"$+3600\"}",              60, CKA_BAD_TIME_CLAIM   },
    { "{\"exp\":$+3600.0}",                60, CKA_BAD_TIME_CLAIM   },
    { "{\"exp\":$+3600.5}",                60, CKA_BAD_TIME_CLAIM   },
    { "{\"exp\":-1}",                      60, CKA_BAD_TIME_CLAIM   },
    { "{\"exp\":1e300}",                   60, CKA_BAD_TIME_CLAIM   },
    { "{\"exp\":253402300800}",            60, CKA_BAD_TIME_CLAIM   },
    { "{\"exp\":9223372036854775807}",     60, CKA_BAD_TIME_CLAIM   },
    { "{\"exp\":null}",                    60, CKA_BAD_TIME_CLAIM   },
    { "{\"exp\":true}",                    60, CKA_BAD_TIME_CLAIM   },
    { "{\"exp\":[$+3600]}",                60, CKA_BAD_TIME_CLAIM   },
    { "{\"exp\":{}}",                      60, CKA_BAD_TIME_CLAIM   },
    /* nbf <= now + skew */
    { "{\"exp\":$+3600,\"nbf\":$+60}",     60, CKA_OK               },
    { "{\"exp\":$+3600,\"nbf\":$+61}",     60, CKA_NOT_YET_VALID    },
    { "{\"exp\":$+3600,\"nbf\":$+0}",       0, CKA_OK               },
    { "{\"exp\":$+3600,\"nbf\":$+1}",       0, CKA_NOT_YET_VALID    },
    { "{\"exp\":$+3600,\"nbf\":0}",        60, CKA_OK               },
    { "{\"exp\":$+3600,\"nbf\":\"$+0\"}",  60, CKA_BAD_TIME_CLAIM   },
    { "{\"exp\":$+3600,\"nbf\":1.5}",      60, CKA_BAD_TIME_CLAIM   },
    { "{\"exp\":$+3600,\"nbf\":-5}",       60, CKA_BAD_TIME_CLAIM   },
    { "{\"exp\":$+3600,\"nbf\":1e300}",    60, CKA_BAD_TIME_CLAIM   },
    { "{\"exp\":$+3600,\"nbf\":null}",     60, CKA_BAD_TIME_CLAIM   },
    /* iat <= now + skew; an old iat is fine */
    { "{\"exp\":$+3600,\"iat\":$+60}",     60, CKA_OK               },
    { "{\"exp\":$+3600,\"iat\":$+61}",     60, CKA_ISSUED_IN_FUTURE },
    { "{\"exp\":$+3600,\"iat\":$+1}",       0, CKA_ISSUED_IN_FUTURE },
    { "{\"exp\":$+3600,\"iat\":$-864000}", 60, CKA_OK               },
    { "{\"exp\":$+3600,\"iat\":\"now\"}",  60, CKA_BAD_TIME_CLAIM   },
    { "{\"exp\":$+3600,\"iat\":1e300}",    60, CKA_BAD_TIME_CLAIM   },
    { "{\"exp\":$+3600,\"iat\":-1}",       60, CKA_BAD_TIME_CLAIM   },
    { "{\"exp\":$+3600,\"iat\":$+0.25}",   60, CKA_BAD_TIME_CLAIM   },
    { "{\"exp\":$+3600,\"iat\":false}",    60, CKA_BAD_TIME_CLAIM   },
    /* all three, all fine */
    { "{\"exp\":$+3600,\"nbf\":$-10,\"iat\":$-10}", 60, CKA_OK      },
};

START_TEST(time_claims)
{
    long long exp = -1;
    char ctx[160];
    cka_reason_t got = cka_claims_check_time(claims_of(times[_i].json), now,
                                             times[_i].skew, &exp);
    apr_snprintf(ctx, sizeof(ctx), "%s skew %" APR_INT64_T_FMT, times[_i].json,
                 (apr_int64_t)times[_i].skew);
    tu_assert_reason(got, times[_i].want, ctx);
    if (got == CKA_OK) {
        long long want_exp = 0;
        ck_assert_int_eq(cka_numeric_date(claims_of(times[_i].json), "exp", &want_exp), 0);
        ck_assert_int_eq(exp, want_exp);
    }
}
END_TEST

/* ---- aud ------------------------------------------------------------ */
static const struct { const char *json; const char *want; int any; cka_reason_t r; } auds[] = {
    { "{\"aud\":\"api\"}",                "api",       0, CKA_OK             },
    { "{\"aud\":\"api\"}",                "x api",     0, CKA_OK             },
    { "{\"aud\":[\"x\",\"api\"]}",        "api",       0, CKA_OK             },
    { "{\"aud\":[\"api\"]}",              "y api",     0, CKA_OK             },
    { "{\"aud\":\"https://api.example.com\"}", "https://api.example.com", 0, CKA_OK },
    { "{\"aud\":\"API\"}",                "api",       0, CKA_WRONG_AUDIENCE },
    { "{\"aud\":\"api \"}",               "api",       0, CKA_WRONG_AUDIENCE },
    { "{\"aud\":\"ap\"}",                 "api",       0, CKA_WRONG_AUDIENCE },
    { "{\"aud\":\"api2\"}",               "api",       0, CKA_WRONG_AUDIENCE },
    { "{\"aud\":\"\"}",                   "api",       0, CKA_WRONG_AUDIENCE },
    { "{\"aud\":\"https://api.example.com/\"}", "https://api.example.com", 0, CKA_WRONG_AUDIENCE },
    { "{\"aud\":[\"x\",\"y\"]}",          "api",       0, CKA_WRONG_AUDIENCE },
    { "{\"aud\":[]}",                     "api",       0, CKA_WRONG_AUDIENCE },
    { "{\"aud\":[1,2]}",                  "api",       0, CKA_WRONG_AUDIENCE },
    { "{\"aud\":[\"api\",1]}",            "api",       0, CKA_WRONG_AUDIENCE },
    { "{\"aud\":[null,\"api\"]}",         "api",       0, CKA_WRONG_AUDIENCE },
    { "{\"aud\":[[\"api\"]]}",            "api",       0, CKA_WRONG_AUDIENCE },
    { "{\"aud\":{\"api\":true}}",         "api",       0, CKA_WRONG_AUDIENCE },
    { "{\"aud\":null}",                   "api",       0, CKA_WRONG_AUDIENCE },
    { "{\"aud\":1}",                      "1",         0, CKA_WRONG_AUDIENCE },
    { "{\"aud\":true}",                   "true",      0, CKA_WRONG_AUDIENCE },
    { "{}",                               "api",       0, CKA_WRONG_AUDIENCE },
    { "{\"aud\":\"api\"}",                "",          0, CKA_WRONG_AUDIENCE },
    /* any_audience: the check is off */
    { "{\"aud\":\"api\"}",                "other",     1, CKA_OK             },
    { "{}",                               "",          1, CKA_OK             },
    { "{\"aud\":[]}",                     "",          1, CKA_OK             },
    { "{\"aud\":{}}",                     "",          1, CKA_OK             },
};

START_TEST(audience)
{
    char ctx[160];
    apr_snprintf(ctx, sizeof(ctx), "%s want '%s' any %d", auds[_i].json, auds[_i].want,
                 auds[_i].any);
    tu_assert_reason(cka_claims_check_aud(claims_of(auds[_i].json), words(auds[_i].want),
                                          auds[_i].any), auds[_i].r, ctx);
}
END_TEST

/* ---- typ (header) --------------------------------------------------- */
#define ANY_TYPE NULL   /* no ConduktorAuthRequireType: a NULL array */
static const struct { const char *typ; const char *want; cka_reason_t r; } typs[] = {
    { "JWT",      ANY_TYPE,     CKA_OK         },
    { NULL,       ANY_TYPE,     CKA_OK         },
    { "anything", "",           CKA_OK         },   /* empty list: any */
    { NULL,       "",           CKA_OK         },
    { "at+jwt",   "at+jwt",     CKA_OK         },
    { "AT+JWT",   "at+jwt",     CKA_OK         },
    { "At+Jwt",   "at+jwt",     CKA_OK         },
    { "at+jwt",   "AT+JWT",     CKA_OK         },
    { "jwt",      "at+jwt JWT", CKA_OK         },
    { "at+JWT",   "JWT at+jwt", CKA_OK         },
    { "JWT",      "at+jwt",     CKA_WRONG_TYPE },
    { NULL,       "at+jwt",     CKA_WRONG_TYPE },
    { "",         "at+jwt",     CKA_WRONG_TYPE },
    { "at+jwtx",  "at+jwt",     CKA_WRONG_TYPE },
    { "at+jw",    "at+jwt",     CKA_WRONG_TYPE },
    { " at+jwt",  "at+jwt",     CKA_WRONG_TYPE },
    { "at+jwt ",  "at+jwt",     CKA_WRONG_TYPE },
    { "at-jwt",   "at+jwt",     CKA_WRONG_TYPE },
    /* media types (RFC 7515 §4.1.9): "application/" optional on either side */
    { "at+jwt",             "application/at+jwt", CKA_OK         },
    { "application/at+jwt", "at+jwt",             CKA_OK         },
    { "application/at+jwt", "application/at+jwt", CKA_OK         },
    { "AT+JWT",             "application/at+jwt", CKA_OK         },
    { "Application/At+Jwt", "at+jwt",             CKA_OK         },
    { "APPLICATION/AT+JWT", "Application/at+JWT", CKA_OK         },
    { "jwt",                "application/at+jwt application/jwt", CKA_OK },
    { "JWT",                "application/at+jwt", CKA_WRONG_TYPE },
    { "application/jwt",    "at+jwt",             CKA_WRONG_TYPE },
    { "text/at+jwt",        "at+jwt",             CKA_WRONG_TYPE },
    { "at+jwt",             "text/at+jwt",        CKA_WRONG_TYPE },
    { "text/at+jwt",        "text/at+jwt",        CKA_OK         },
    { "application/",       "at+jwt",             CKA_WRONG_TYPE },
    { "application/",       "application/",       CKA_WRONG_TYPE },
    { "at+jwt",             "application/",       CKA_WRONG_TYPE },
    { "/at+jwt",            "at+jwt",             CKA_WRONG_TYPE },
    { "/at+jwt",            "/at+jwt",            CKA_WRONG_TYPE },
    { "application",        "application/",       CKA_WRONG_TYPE },
    { "application/application/at+jwt", "at+jwt", CKA_WRONG_TYPE },
    { "application/at+jwt", "application/application/at+jwt", CKA_WRONG_TYPE },
    { "applicatio/at+jwt",  "at+jwt",             CKA_WRONG_TYPE },
    { "application/at+jw",  "application/at+jwt", CKA_WRONG_TYPE },
    { "application /at+jwt", "at+jwt",            CKA_WRONG_TYPE },
    { "application/at+jwt; q=1", "at+jwt",        CKA_WRONG_TYPE },
};

START_TEST(typ)
{
    char ctx[128];
    apr_snprintf(ctx, sizeof(ctx), "typ '%s' want '%s'", typs[_i].typ ? typs[_i].typ : "(none)",
                 typs[_i].want ? typs[_i].want : "(any)");
    tu_assert_reason(cka_check_typ(typs[_i].typ, typs[_i].want ? words(typs[_i].want) : NULL),
                     typs[_i].r, ctx);
}
END_TEST

Suite *suite_claims(void)
{
    Suite *s = suite_create("claims");
    TCase *tc = tcase_create("claims");
    tcase_add_checked_fixture(tc, claims_setup, tu_pool_teardown);
    tcase_add_loop_test(tc, numeric_date, 0, TU_NELTS(dates));
    tcase_add_loop_test(tc, time_claims, 0, TU_NELTS(times));
    tcase_add_loop_test(tc, audience, 0, TU_NELTS(auds));
    tcase_add_loop_test(tc, typ, 0, TU_NELTS(typs));
    suite_add_tcase(s, tc);
    return s;
}
