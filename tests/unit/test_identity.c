/* test_identity.c - the identity handed on; header-safe values. */
#include <string.h>
#include <strings.h>
#include <apr_strings.h>
#include <jansson.h>
#include "suites.h"
#include "identity.h"

static apr_array_header_t *words(const char *s)
{
    apr_array_header_t *a = apr_array_make(tu_pool, 4, sizeof(const char *));
    char *last, *copy = apr_pstrdup(tu_pool, s), *w;
    for (w = apr_strtok(copy, " ", &last); w; w = apr_strtok(NULL, " ", &last))
        APR_ARRAY_PUSH(a, const char *) = w;
    return a;
}

#define AX "\"a@x\""
static const struct {
    const char *claims;
    const char *user_claims;   /* space-separated */
    const char *groups_claim;
    cka_reason_t r;
    const char *user, *email, *groups;
    int overage;
} ids[] = {
    /* REMOTE_USER: the first user claim present as a non-empty string */
    { "{\"email\":" AX ",\"sub\":\"s\"}", "email", "groups", CKA_OK, "a@x", "a@x", NULL, 0 },
    { "{\"preferred_username\":\"alice\",\"email\":" AX "}", "preferred_username email", "groups",
      CKA_OK, "alice", "a@x", NULL, 0 },
    { "{\"email\":" AX "}", "preferred_username email", "groups", CKA_OK, "a@x", "a@x", NULL, 0 },
    { "{\"preferred_username\":\"\",\"email\":" AX "}", "preferred_username email", "groups",
      CKA_OK, "a@x", "a@x", NULL, 0 },
    { "{\"preferred_username\":5,\"email\":" AX "}", "preferred_username email", "groups",
      CKA_OK, "a@x", "a@x", NULL, 0 },
    { "{\"preferred_username\":null,\"email\":" AX "}", "preferred_username email", "groups",
      CKA_OK, "a@x", "a@x", NULL, 0 },
    { "{\"ext\":{\"login\":\"bob\"},\"email\":" AX "}", "ext.login email", "groups",
      CKA_OK, "bob", "a@x", NULL, 0 },
    { "{\"sub\":\"s\"}",              "email",     "groups", CKA_NO_USER, NULL, NULL, NULL, 0 },
    { "{\"email\":\"\"}",             "email",     "groups", CKA_NO_USER, NULL, NULL, NULL, 0 },
    { "{\"email\":null}",             "email",     "groups", CKA_NO_USER, NULL, NULL, NULL, 0 },
    { "{\"email\":[" AX "]}",         "email",     "groups", CKA_NO_USER, NULL, NULL, NULL, 0 },
    { "{\"email\":{\"v\":" AX "}}",   "email",     "groups", CKA_NO_USER, NULL, NULL, NULL, 0 },
    { "{\"upn\":\"u\",\"email\":" AX "}", "oid sub", "groups", CKA_NO_USER, NULL, NULL, NULL, 0 },
    /* email: NULL when absent or not a string */
    { "{\"upn\":\"u@x\",\"email\":true}",      "upn", "groups", CKA_OK, "u@x", NULL, NULL, 0 },
    { "{\"upn\":\"u@x\",\"email\":[" AX "]}",  "upn", "groups", CKA_OK, "u@x", NULL, NULL, 0 },
    { "{\"upn\":\"u@x\",\"email\":42}",        "upn", "groups", CKA_OK, "u@x", NULL, NULL, 0 },
    { "{\"upn\":\"u@x\",\"email\":null}",      "upn", "groups", CKA_OK, "u@x", NULL, NULL, 0 },
    { "{\"upn\":\"u@x\"}",                     "upn", "groups", CKA_OK, "u@x", NULL, NULL, 0 },
    /* groups: array, single string, empty, by path */
    { "{\"email\":" AX ",\"groups\":[\"g1\",\"g2\"]}", "email", "groups", CKA_OK, "a@x", "a@x", "g1,g2", 0 },
    { "{\"email\":" AX ",\"groups\":\"solo\"}",       "email", "groups", CKA_OK, "a@x", "a@x", "solo", 0 },
    { "{\"email\":" AX ",\"groups\":[]}",             "email", "groups", CKA_OK, "a@x", "a@x", "", 0 },
    { "{\"email\":" AX ",\"groups\":[\"a,b\",\"c\"]}", "email", "groups", CKA_OK, "a@x", "a@x", "a\\,b,c", 0 },
    /* a single string is one group, escaped like an array member */
    { "{\"email\":" AX ",\"groups\":\"admins,kafka-admins\"}", "email", "groups", CKA_OK,
      "a@x", "a@x", "admins\\,kafka-admins", 0 },
    { "{\"email\":" AX ",\"groups\":[\"admins,kafka-admins\"]}", "email", "groups", CKA_OK,
      "a@x", "a@x", "admins\\,kafka-admins", 0 },
    { "{\"email\":" AX ",\"groups\":\"back\\\\slash\"}", "email", "groups", CKA_OK,
      "a@x", "a@x", "back\\\\slash", 0 },
    { "{\"email\":" AX ",\"groups\":null}", "email", "groups", CKA_OK, "a@x", "a@x", NULL, 0 },
    { "{\"email\":" AX ",\"cognito:groups\":[\"c\"]}", "email", "cognito:groups", CKA_OK, "a@x", "a@x", "c", 0 },
    { "{\"email\":" AX ",\"https://example.com/groups\":[\"u\"]}", "email",
      "https://example.com/groups", CKA_OK, "a@x", "a@x", "u", 0 },
    { "{\"email\":" AX ",\"realm_access\":{\"roles\":[\"r1\",\"r2\"]}}", "email",
      "realm_access.roles", CKA_OK, "a@x", "a@x", "r1,r2", 0 },
    { "{\"email\":" AX ",\"resource_access\":{\"conduktor\":{\"roles\":[\"k\"]}}}", "email",
      "resource_access.conduktor.roles", CKA_OK, "a@x", "a@x", "k", 0 },
    /* Azure AD groups overage: _claim_names.groups present, groups absent */
    { "{\"email\":" AX ",\"_claim_names\":{\"groups\":\"src1\"},"
      "\"_claim_sources\":{\"src1\":{\"endpoint\":\"https://graph.example\"}}}",
      "email", "groups", CKA_OK, "a@x", "a@x", NULL, 1 },
    { "{\"email\":" AX ",\"groups\":[\"g\"],\"_claim_names\":{\"groups\":\"src1\"}}",
      "email", "groups", CKA_OK, "a@x", "a@x", "g", 0 },
    { "{\"email\":" AX ",\"_claim_names\":{\"other\":\"src1\"}}",
      "email", "groups", CKA_OK, "a@x", "a@x", NULL, 0 },
    { "{\"email\":" AX ",\"_claim_names\":\"groups\"}",
      "email", "groups", CKA_OK, "a@x", "a@x", NULL, 0 },
};

START_TEST(extract)
{
    cka_identity_spec_t spec;
    cka_identity_t id;
    cka_reason_t r;
    char ctx[96];

    memset(&spec, 0, sizeof(spec));
    spec.user_claims = words(ids[_i].user_claims);
    spec.email_claim = "email";
    spec.groups_claim = ids[_i].groups_claim;
    spec.separator = ",";
    spec.extra_paths = words("");
    r = cka_identity_extract(tu_pool, tu_json(ids[_i].claims), &spec, &id);
    apr_snprintf(ctx, sizeof(ctx), "identity row %d", _i);
    tu_assert_reason(r, ids[_i].r, ctx);
    if (r != CKA_OK)
        return;
    ck_assert_pstr_eq(id.user, ids[_i].user);
    ck_assert_pstr_eq(id.email, ids[_i].email);
    ck_assert_pstr_eq(id.groups, ids[_i].groups);
    ck_assert_int_eq(id.groups_overage, ids[_i].overage);
}
END_TEST

/* subject, issuer, expires, extras and a custom separator. */
START_TEST(extract_all_fields)
{
    cka_identity_spec_t spec;
    cka_identity_t id;
    json_t *claims = tu_json(
        "{\"iss\":\"https://idp.example.com\",\"sub\":\"0001\",\"exp\":1900000000,"
        "\"mail\":\"m@x\",\"email\":\"e@x\",\"roles\":[\"x;y\",\"z\"],"
        "\"realm_access\":{\"roles\":[\"r1\",\"r2\"]},\"tenant\":\"t1\","
        "\"obj\":{\"a\":1},\"n\":7,\"flag\":false}");

    memset(&spec, 0, sizeof(spec));
    spec.user_claims = words("sub");
    spec.email_claim = "mail";
    spec.groups_claim = "roles";
    spec.separator = ";";
    spec.extra_paths = words("realm_access.roles missing tenant obj n flag");
    tu_assert_reason(cka_identity_extract(tu_pool, claims, &spec, &id), CKA_OK, "extract");
    ck_assert_pstr_eq(id.user, "0001");
    ck_assert_pstr_eq(id.email, "m@x");
    ck_assert_pstr_eq(id.subject, "0001");
    ck_assert_pstr_eq(id.issuer, "https://idp.example.com");
    ck_assert_int_eq(id.expires, 1900000000LL);
    ck_assert_pstr_eq(id.groups, "x\\;y;z");
    ck_assert_int_eq(id.groups_overage, 0);
    ck_assert_ptr_nonnull(id.extra);
    ck_assert_pstr_eq(apr_table_get(id.extra, "realm_access.roles"), "r1;r2");
    ck_assert_ptr_null(apr_table_get(id.extra, "missing"));
    ck_assert_pstr_eq(apr_table_get(id.extra, "tenant"), "t1");
    ck_assert_pstr_eq(apr_table_get(id.extra, "obj"), "{\"a\":1}");
    ck_assert_pstr_eq(apr_table_get(id.extra, "n"), "7");
    ck_assert_pstr_eq(apr_table_get(id.extra, "flag"), "false");
}
END_TEST

/* ---- header-safe values --------------------------------------------- */
static const struct { const char *in; const char *out; int same; } safe[] = {
    /* out compared ignoring case: the hex digits' case is not fixed */
    { "plain",              "plain",                 1 },
    { "",                   "",                      1 },
    { "a\\b",               "a\\b",                  1 },
    { "a\\x0d",             "a\\x0d",                1 },
    { "caf\xc3\xa9",        "caf\xc3\xa9",           1 },
    { "a, b; c=\"d\"",      "a, b; c=\"d\"",         1 },
    { "a\r\nb",             "a\\x0d\\x0ab",          0 },
    { "a\nSet-Cookie: x=1", "a\\x0aSet-Cookie: x=1", 0 },
    { "\r",                 "\\x0d",                 0 },
    { "\n",                 "\\x0a",                 0 },
    { "tab\there",          "tab\\x09here",          0 },
    { "a\\\nb",             "a\\\\x0ab",             0 },   /* backslash kept */
    { "\x1b[31mred",        "\\x1b[31mred",          0 },
    { "\x01\x1f",           "\\x01\\x1f",            0 },
    { "x\r\n\r\nbody",      "x\\x0d\\x0a\\x0d\\x0abody", 0 },
};

START_TEST(header_safe)
{
    const char *got = cka_header_safe(tu_pool, safe[_i].in);
    size_t i;
    ck_assert_ptr_nonnull(got);
    ck_assert_msg(strcasecmp(got, safe[_i].out) == 0, "row %d: got '%s'", _i, got);
    if (safe[_i].same)
        ck_assert_ptr_eq(got, safe[_i].in);
    for (i = 0; got[i]; i++)
        ck_assert_msg((unsigned char)got[i] >= 0x20, "control byte left at %zu", i);
}
END_TEST

Suite *suite_identity(void)
{
    Suite *s = suite_create("identity");
    TCase *tc = tcase_create("identity");
    tcase_add_checked_fixture(tc, tu_pool_setup, tu_pool_teardown);
    tcase_add_loop_test(tc, extract, 0, TU_NELTS(ids));
    tcase_add_test(tc, extract_all_fields);
    tcase_add_loop_test(tc, header_safe, 0, TU_NELTS(safe));
    suite_add_tcase(s, tc);
    return s;
}
