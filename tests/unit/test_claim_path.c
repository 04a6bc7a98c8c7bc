/* test_claim_path.c - claim lookup by path, text rendering, matching. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <apr_strings.h>
#include <apr_tables.h>
#include <jansson.h>
#include "suites.h"
#include "claim_path.h"

static const char *const DOC =
    "{\"cognito:groups\":[\"a\",\"b\"],"
    "\"https://example.com/groups\":[\"g1\"],"
    "\"realm_access\":{\"roles\":[\"r1\",\"r2\"]},"
    "\"resource_access\":{\"conduktor\":{\"roles\":[\"c1\"]},\"other\":{\"roles\":[\"o1\"]}},"
    "\"a.b\":\"whole\",\"a\":{\"b\":\"nested\",\"c\":{\"d\":1}},"
    "\"x\":{\"y.z\":\"dotted-inner\"},"
    "\"p.q\":{\"r\":\"dotted-outer\"},"
    "\"s\":\"str\",\"n\":null,\"arr\":[{\"k\":1}]}";

/* The whole name wins over a path through objects. */
static const char *const DOC_URL =
    "{\"https://example\":{\"com/groups\":[\"wrong\"]},"
    "\"https://example.com/groups\":[\"right\"]}";

static const struct { const char *doc; const char *path; const char *want; } looks[] = {
    /* want: compact JSON of the value found, or NULL for not found */
    { NULL, "cognito:groups",                  "[\"a\",\"b\"]"          },
    { NULL, "https://example.com/groups",      "[\"g1\"]"               },
    { NULL, "realm_access.roles",              "[\"r1\",\"r2\"]"        },
    { NULL, "resource_access.conduktor.roles", "[\"c1\"]"               },
    { NULL, "resource_access.other.roles",     "[\"o1\"]"               },
    { NULL, "realm_access",                    "{\"roles\":[\"r1\",\"r2\"]}" },
    { NULL, "a.b",                             "\"whole\""              },
    { NULL, "a.c.d",                           "1"                      },
    { NULL, "a.c",                             "{\"d\":1}"              },
    { NULL, "x.y.z",                           "\"dotted-inner\""       },
    { NULL, "p.q.r",                           "\"dotted-outer\""       },
    { NULL, "s",                               "\"str\""                },
    { NULL, "n",                               "null"                   },
    { DOC_URL, "https://example.com/groups",   "[\"right\"]"            },
    /* not found */
    { NULL, "resource_access.missing.roles",   NULL },
    { NULL, "realm_access.roles.x",            NULL },
    { NULL, "s.t",                             NULL },   /* through a string */
    { NULL, "arr.0",                           NULL },   /* no array index  */
    { NULL, "arr.0.k",                         NULL },
    { NULL, "missing",                         NULL },
    { NULL, "Realm_access.roles",              NULL },   /* exact names     */
    { NULL, "realm_access.Roles",              NULL },
    { NULL, "realm_access.role",               NULL },
    { NULL, "realm",                           NULL },   /* no prefixes     */
    { NULL, "cognito",                         NULL },
    { NULL, "cognito:group",                   NULL },
    { NULL, "https://example",                 NULL },
    { NULL, "realm_access.",                   NULL },
    { NULL, ".realm_access",                   NULL },
    { NULL, "realm_access..roles",             NULL },
    { NULL, "",                                NULL },
};

START_TEST(lookup)
{
    json_t *doc = tu_json(looks[_i].doc ? looks[_i].doc : DOC);
    json_t *v = cka_claim_lookup(doc, looks[_i].path);
    if (looks[_i].want == NULL) {
        ck_assert_msg(v == NULL, "path '%s' should not be found", looks[_i].path);
    } else {
        char *got;
        ck_assert_msg(v != NULL, "path '%s' not found", looks[_i].path);
        got = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
        ck_assert_str_eq(got, looks[_i].want);
        free(got);
    }
}
END_TEST

/* ---- rendering as text ---------------------------------------------- */
static const struct { const char *json; const char *sep; const char *want; } texts[] = {
    { "\"plain\"",                  ",",  "plain"              },
    { "\"a,b\"",                    ",",  "a,b"                },  /* a string as is */
    { "\"\"",                       ",",  ""                   },
    { "\"caf\\u00e9\"",             ",",  "caf\xc3\xa9"        },
    { "[\"a\",\"b\"]",              ",",  "a,b"                },
    { "[\"a\"]",                    ",",  "a"                  },
    { "[]",                         ",",  ""                   },
    { "[\"a,b\",\"c\"]",            ",",  "a\\,b,c"            },  /* separator escaped */
    { "[\"a\\\\b\",\"c\"]",         ",",  "a\\\\b,c"           },  /* backslash escaped */
    { "[\"a\\\\\",\"b\"]",          ",",  "a\\\\,b"            },  /* trailing backslash */
    { "[\"\\\\,\",\",\"]",          ",",  "\\\\\\,,\\,"        },
    { "[\"x; y\",\"z\"]",           "; ", "x\\; y; z"          },  /* multi-char sep */
    { "[\"x;y\",\"z\"]",            "; ", "x\\;y; z"           },  /* sep's first char: escaped */
    { "[\"a||b\",\"c\"]",           "||", "a\\|\\|b||c"        },
    { "[\"a|b\"]",                  "||", "a\\|b"              },
    { "[\"a:\",\"b\"]",             "::", "a\\:::b"            },  /* overlap: unambiguous */
    { "[\"a\",\":b\"]",             "::", "a::\\:b"            },
    { "[\"a b\",\"c\"]",            " ",  "a\\ b c"            },
    { "[1,true,false,\"x\"]",       ",",  "1,true,false,x"     },  /* non-strings */
    { "[1.5,-7]",                   ",",  "1.5,-7"             },
    { "[{\"k\":\"v\"}]",            ",",  "{\"k\":\"v\"}"      },
    { "[[1,2]]",                    ",",  "[1\\,2]"            },  /* nested: escaped */
    { "[[\"a\"],\"b\"]",            ";",  "[\"a\"];b"          },
    { "42",                         ",",  "42"                 },
    { "-7",                         ",",  "-7"                 },
    { "1.5",                        ",",  "1.5"                },
    { "true",                       ",",  "true"               },
    { "false",                      ",",  "false"              },
    { "{\"a\":1,\"b\":[1,2]}",      ",",  "{\"a\":1,\"b\":[1,2]}" },  /* object: compact */
    { "null",                       ",",  NULL                 },
};

START_TEST(to_text)
{
    char *got = cka_claim_to_text(tu_pool, tu_json(texts[_i].json), texts[_i].sep);
    if (texts[_i].want == NULL)
        ck_assert_msg(got == NULL, "%s: got '%s'", texts[_i].json, got);
    else
        ck_assert_msg(got != NULL && strcmp(got, texts[_i].want) == 0,
                      "%s sep '%s': got '%s', expected '%s'", texts[_i].json,
                      texts[_i].sep, got ? got : "(null)", texts[_i].want);
}
END_TEST

/* Joined text splits back into exactly the members (on unescaped
 * separators, unescaping \x to x). */
static apr_array_header_t *split_escaped(const char *s, char sep)
{
    apr_array_header_t *out = apr_array_make(tu_pool, 16, sizeof(char *));
    char *cur = apr_palloc(tu_pool, strlen(s) + 1), *c = cur;
    for (; *s; s++) {
        if (*s == '\\' && s[1]) {
            *c++ = *++s;
        } else if (*s == sep) {
            *c = '\0';
            APR_ARRAY_PUSH(out, char *) = cur;
            cur = c = apr_palloc(tu_pool, strlen(s) + 1);
        } else {
            *c++ = *s;
        }
    }
    *c = '\0';
    APR_ARRAY_PUSH(out, char *) = cur;
    return out;
}

START_TEST(join_roundtrip)
{
    static const char *const members[] = {
        "plain", "with,comma", "back\\slash", "\\", ",", "\\,", ",,\\\\", "end\\",
    };
    json_t *arr = json_array();
    apr_array_header_t *back;
    char *text;
    int i;
    for (i = 0; i < TU_NELTS(members); i++)
        json_array_append_new(arr, json_string(members[i]));
    text = cka_claim_to_text(tu_pool, arr, ",");
    json_decref(arr);
    ck_assert_ptr_nonnull(text);
    back = split_escaped(text, ',');
    ck_assert_int_eq(back->nelts, TU_NELTS(members));
    for (i = 0; i < TU_NELTS(members); i++)
        ck_assert_str_eq(APR_ARRAY_IDX(back, i, char *), members[i]);
}
END_TEST

/* ---- list text (groups): a single value is a list of one ------------- */
static const struct { const char *json; const char *sep; const char *want; } lists[] = {
    { "\"admins,kafka-admins\"",   ",",  "admins\\,kafka-admins" },  /* one group */
    { "[\"admins,kafka-admins\"]", ",",  "admins\\,kafka-admins" },  /* the same */
    { "[\"admins\",\"kafka-admins\"]", ",", "admins,kafka-admins" },   /* two */
    { "\"solo\"",                  ",",  "solo"                    },
    { "\"\"",                      ",",  ""                        },
    { "\"back\\\\slash\"",         ",",  "back\\\\slash"          },
    { "\"a;b\"",                   ";",  "a\\;b"                  },
    { "\"a,b\"",                   ";",  "a,b"                     },
    { "\"a:\"",                    "::", "a\\:"                   },
    { "\"x | y\"",                 " | ", "x\\ |\\ y"              },
    { "7",                         ",",  "7"                       },
    { "true",                      ",",  "true"                    },
    { "{\"a\":1,\"b\":2}",          ",",  "{\"a\":1\\,\"b\":2}"      },  /* as an array member */
    { "[{\"a\":1,\"b\":2}]",        ",",  "{\"a\":1\\,\"b\":2}"      },
    { "[]",                        ",",  ""                        },
    { "[null,\"g\"]",              ",",  "g"                       },
    { "null",                      ",",  NULL                      },
};

START_TEST(list_text)
{
    char *got = cka_claim_to_list_text(tu_pool, tu_json(lists[_i].json), lists[_i].sep);
    if (lists[_i].want == NULL)
        ck_assert_msg(got == NULL, "%s: got '%s'", lists[_i].json, got);
    else
        ck_assert_msg(got != NULL && strcmp(got, lists[_i].want) == 0,
                      "%s sep '%s': got '%s', expected '%s'", lists[_i].json,
                      lists[_i].sep, got ? got : "(null)", lists[_i].want);
}
END_TEST

/* A single string and the one-member array of it render the same. */
START_TEST(list_text_single_equals_array)
{
    static const char *const members[] = { "plain", "a,b", "\\", ",", "x\\,y", "" };
    for (int i = 0; i < TU_NELTS(members); i++) {
        json_t *one = json_string(members[i]), *arr = json_array();
        json_array_append(arr, one);
        char *a = cka_claim_to_list_text(tu_pool, one, ",");
        char *b = cka_claim_to_list_text(tu_pool, arr, ",");
        json_decref(one);
        json_decref(arr);
        ck_assert_ptr_nonnull(a);
        ck_assert_ptr_nonnull(b);
        ck_assert_str_eq(a, b);
        ck_assert_int_eq(split_escaped(a, ',')->nelts, 1);
    }
}
END_TEST

/* 10,000 members, every 1000th containing the separator. */
START_TEST(ten_thousand_members)
{
    json_t *arr = json_array();
    apr_array_header_t *want = apr_array_make(tu_pool, 200000, 1);
    char *text;
    int i;
    for (i = 0; i < 10000; i++) {
        char name[32];
        const char *w;
        snprintf(name, sizeof(name), i % 1000 ? "group-%d" : "g,%d", i);
        json_array_append_new(arr, json_string(name));
        if (i)
            APR_ARRAY_PUSH(want, char) = ',';
        for (w = name; *w; w++) {
            if (*w == ',')
                APR_ARRAY_PUSH(want, char) = '\\';
            APR_ARRAY_PUSH(want, char) = *w;
        }
    }
    APR_ARRAY_PUSH(want, char) = '\0';
    text = cka_claim_to_text(tu_pool, arr, ",");
    json_decref(arr);
    ck_assert_ptr_nonnull(text);
    ck_assert_uint_eq(strlen(text), strlen(want->elts));
    ck_assert_int_eq(strcmp(text, want->elts), 0);
    ck_assert_int_eq(split_escaped(text, ',')->nelts, 10000);
}
END_TEST

/* ---- matching ------------------------------------------------------- */
static const struct { const char *json; const char *want; int match; } matches[] = {
    { "\"x\"",                     "x",           1 },
    { "\"x\"",                     "X",           0 },
    { "\"x\"",                     "x ",          0 },
    { "\"x\"",                     "",            0 },
    { "\"\"",                      "",            1 },
    { "\"admin\"",                 "ad",          0 },   /* no prefixes */
    { "\"ad\"",                    "admin",       0 },
    { "true",                      "true",        1 },
    { "true",                      "True",        0 },
    { "true",                      "1",           0 },
    { "false",                     "false",       1 },
    { "false",                     "0",           0 },
    { "1",                         "1",           1 },
    { "1",                         "1.0",         0 },
    { "1",                         "01",          0 },
    { "-3",                        "-3",          1 },
    { "1.5",                       "1.5",         1 },   /* numbers as text */
    { "[\"a\",\"b\"]",             "b",           1 },
    { "[\"a\",\"b\"]",             "c",           0 },
    { "[\"a\",\"b\"]",             "a,b",         0 },
    { "[\"kafka-admin\"]",         "kafka-admin", 1 },
    { "[\"kafka-admins\"]",        "kafka-admin", 0 },
    { "[\"kafka-admin\"]",         "kafka-admins", 0 },
    { "[true]",                    "true",        1 },
    { "[1,2]",                     "2",           1 },
    { "[]",                        "",            0 },
    { "[[\"a\"]]",                 "a",           0 },   /* no deep search */
    { "{\"a\":1}",                 "a",           0 },
};

START_TEST(matching)
{
    int got = cka_claim_matches(tu_json(matches[_i].json), matches[_i].want);
    ck_assert_msg(!!got == matches[_i].match, "%s vs '%s': got %d, expected %d",
                  matches[_i].json, matches[_i].want, got, matches[_i].match);
}
END_TEST

START_TEST(matching_null_value)
{
    ck_assert_int_eq(cka_claim_matches(NULL, "x"), 0);
}
END_TEST

Suite *suite_claim_path(void)
{
    Suite *s = suite_create("claim_path");
    TCase *tc = tcase_create("claim_path");
    tcase_add_checked_fixture(tc, tu_pool_setup, tu_pool_teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_loop_test(tc, lookup, 0, TU_NELTS(looks));
    tcase_add_loop_test(tc, to_text, 0, TU_NELTS(texts));
    tcase_add_test(tc, join_roundtrip);
    tcase_add_loop_test(tc, list_text, 0, TU_NELTS(lists));
    tcase_add_test(tc, list_text_single_equals_array);
    tcase_add_test(tc, ten_thousand_members);
    tcase_add_loop_test(tc, matching, 0, TU_NELTS(matches));
    tcase_add_test(tc, matching_null_value);
    suite_add_tcase(s, tc);
    return s;
}
