/* test_audit.c - the audit event: ECS fields, valid JSON and UTF-8 whatever
 * the bytes, bounded size, verified claims only. */
#include <string.h>
#include <apr_strings.h>
#include <jansson.h>
#include "suites.h"
#include "audit.h"

/* ---- making strings valid UTF-8 --------------------------------------- */

static const struct {
    const char *in;
    size_t      n;          /* 0: strlen(in) */
    size_t      max;
    const char *out;
    int         cut;
} utf8[] = {
    { "plain",                 0, 64, "plain", 0 },
    { "caf\xC3\xA9",           0, 64, "caf\xC3\xA9", 0 },                     /* é kept */
    { "\xF0\x9F\x98\x80",      0, 64, "\xF0\x9F\x98\x80", 0 },               /* U+1F600 */
    { "a\xFF" "b",             0, 64, "a\xEF\xBF\xBD" "b", 0 },              /* stray byte */
    { "\xC3",                  0, 64, "\xEF\xBF\xBD", 0 },                    /* truncated seq */
    { "\xC0\xAF",              0, 64, "\xEF\xBF\xBD\xEF\xBF\xBD", 0 },        /* overlong '/' */
    { "\xE0\x80\xAF",          0, 64, "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD", 0 },
    { "\xED\xA0\x80",          0, 64, "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD", 0 }, /* surrogate */
    { "\xF4\x90\x80\x80",      0, 64, "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD", 0 },
    { "\xF8\x88\x80\x80\x80",  0, 64,
      "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD", 0 },
    { "a\0b",                  3, 64, "a\0b", 0 },                            /* NUL is UTF-8 */
    { "abcdef",                0, 4,  "abcd", 1 },
    { "ab\xC3\xA9",            0, 3,  "ab", 1 },                              /* not mid-char */
    { "a\xFF",                 0, 3,  "a", 1 },                               /* U+FFFD won't fit */
    { "",                      0, 0,  "", 0 },
};

START_TEST(test_utf8)
{
    size_t n = utf8[_i].n ? utf8[_i].n : strlen(utf8[_i].in);
    size_t len = 99, want = utf8[_i].n && strlen(utf8[_i].out) < n ? n : strlen(utf8[_i].out);
    int cut = 0;
    char *o = cka_audit_utf8(tu_pool, utf8[_i].in, n, utf8[_i].max, &len, &cut);
    ck_assert_msg(len == want && memcmp(o, utf8[_i].out, want) == 0,
                  "row %d: got %zu bytes", _i, len);
    ck_assert_msg(cut == utf8[_i].cut, "row %d: cut %d", _i, cut);
    ck_assert_msg(len <= utf8[_i].max, "row %d: over max", _i);
}
END_TEST

/* ---- the event ----------------------------------------------------------- */

static json_t *parse(const char *s)
{
    json_error_t e;
    ck_assert_ptr_nonnull(s);
    ck_assert_msg(strlen(s) <= CKA_AUDIT_MAX, "event of %zu bytes", strlen(s));
    /* No raw control character of any kind: C0, DEL, C1, U+2028/9. */
    for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
        ck_assert_msg(*c >= 0x20 && *c != 0x7f, "raw control character in the event");
        ck_assert_msg(!(c[0] == 0xC2 && c[1] >= 0x80 && c[1] <= 0x9F), "raw C1 control");
        ck_assert_msg(!(c[0] == 0xE2 && c[1] == 0x80 && (c[2] == 0xA8 || c[2] == 0xA9)),
                      "raw line or paragraph separator");
    }
    json_t *v = json_loads(s, JSON_REJECT_DUPLICATES, &e);
    ck_assert_msg(v != NULL, "event is not JSON: %s: %s", e.text, s);
    ck_assert(json_is_object(v));
    return v;
}

static const char *str_at(json_t *o, const char *path)
{
    char *copy = apr_pstrdup(tu_pool, path), *last, *part;
    json_t *v = o;
    for (part = apr_strtok(copy, "/", &last); part && v; part = apr_strtok(NULL, "/", &last))
        v = json_object_get(v, part);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

static cka_audit_t allowed(void)
{
    cka_audit_t ev;
    memset(&ev, 0, sizeof(ev));
    ev.time_us = 1765015815123456LL;           /* 2025-12-06T10:10:15.123456Z */
    ev.success = 1;
    ev.status = 200;
    ev.user = "alice@example.com";
    ev.client_ip = "127.0.0.1";
    ev.method = "GET";
    ev.path = "/api/public/console/v2/kafka-cluster";
    ev.server = "edge.example.com";
    ev.credential = "jwt";
    ev.kid = "k1";
    ev.claims = tu_json("{\"iss\":\"https://idp.example\",\"sub\":\"u-1\",\"jti\":\"j-1\","
                        "\"azp\":\"backstage\",\"client_id\":\"cli\",\"exp\":1765019415,"
                        "\"email\":\"alice@example.com\",\"groups\":[\"a\",\"b\",7],"
                        "\"aud\":\"api\"}");
    return ev;
}

START_TEST(test_allowed_fields)
{
    cka_audit_t ev = allowed();
    json_t *o = parse(cka_audit_json(tu_pool, &ev));
    ck_assert_str_eq(str_at(o, "@timestamp"), "2025-12-06T10:10:15.123Z");
    ck_assert_str_eq(str_at(o, "event/outcome"), "success");
    ck_assert_ptr_null(json_object_get(json_object_get(o, "event"), "reason"));
    ck_assert_str_eq(str_at(o, "user/name"), "alice@example.com");
    ck_assert_str_eq(str_at(o, "user/email"), "alice@example.com");
    ck_assert_str_eq(str_at(o, "client/ip"), "127.0.0.1");
    ck_assert_str_eq(str_at(o, "http/request/method"), "GET");
    ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(json_object_get(
        o, "http"), "response"), "status_code")), 200);
    ck_assert_str_eq(str_at(o, "url/path"), "/api/public/console/v2/kafka-cluster");
    ck_assert_str_eq(str_at(o, "server/address"), "edge.example.com");
    ck_assert_str_eq(str_at(o, "credential"), "jwt");
    ck_assert_str_eq(str_at(o, "kid"), "k1");
    ck_assert_str_eq(str_at(o, "iss"), "https://idp.example");
    ck_assert_str_eq(str_at(o, "sub"), "u-1");
    ck_assert_str_eq(str_at(o, "jti"), "j-1");
    ck_assert_str_eq(str_at(o, "azp"), "backstage");
    ck_assert_str_eq(str_at(o, "client_id"), "cli");
    ck_assert_int_eq(json_integer_value(json_object_get(o, "exp")), 1765019415);
    json_t *g = json_object_get(o, "groups");     /* string members only */
    ck_assert_int_eq(json_array_size(g), 2);
    ck_assert_str_eq(json_string_value(json_array_get(g, 1)), "b");
    ck_assert_ptr_null(json_object_get(o, "aud"));
    ck_assert_ptr_null(json_object_get(o, "truncated"));
    json_decref(o);
}
END_TEST

START_TEST(test_failure_without_claims)
{
    cka_audit_t ev = allowed();
    ev.success = 0;
    ev.reason = "bad_signature";
    ev.status = 401;
    ev.user = NULL;
    ev.kid = NULL;
    ev.claims = NULL;      /* a refused token: nothing of who */
    json_t *o = parse(cka_audit_json(tu_pool, &ev));
    ck_assert_str_eq(str_at(o, "event/outcome"), "failure");
    ck_assert_str_eq(str_at(o, "event/reason"), "bad_signature");
    static const char *const absent[] = { "user", "groups", "iss", "sub", "jti", "azp",
                                          "client_id", "exp", "kid" };
    for (int i = 0; i < TU_NELTS(absent); i++)
        ck_assert_msg(json_object_get(o, absent[i]) == NULL, "%s present", absent[i]);
    ck_assert_str_eq(str_at(o, "credential"), "jwt");
    json_decref(o);
}
END_TEST

/* Claims with quotes, backslashes, control characters and NUL come back
 * exactly; bytes that are not UTF-8 (path, user) become U+FFFD. */
START_TEST(test_hostile_bytes)
{
    cka_audit_t ev = allowed();
    ev.claims = tu_json("{\"sub\":\"q\\\"b\\\\c\\u0001\\n\\u007fz\",\"email\":\"x\\\"}\\r\\n{\","
                        "\"groups\":[\"g\\\"1\",\"\\u001b[31m\"],\"jti\":\"\\u2028\","
                        "\"azp\":\"\\u0085\\u2029\"}");
    ev.path = "/a\xFF\"b\\c\n\x01";
    ev.user = "u\xC3(\x7F";
    const char *s = cka_audit_json(tu_pool, &ev);
    json_t *o = parse(s);
    json_t *sub = json_object_get(o, "sub");
    ck_assert_int_eq(json_string_length(sub), 9);
    ck_assert(memcmp(json_string_value(sub), "q\"b\\c\x01\n\x7fz", 9) == 0);
    ck_assert_str_eq(str_at(o, "user/email"), "x\"}\r\n{");
    ck_assert_str_eq(json_string_value(json_array_get(json_object_get(o, "groups"), 0)), "g\"1");
    ck_assert_str_eq(json_string_value(json_array_get(json_object_get(o, "groups"), 1)), "\x1b[31m");
    ck_assert_str_eq(str_at(o, "jti"), "\xE2\x80\xA8");
    ck_assert_str_eq(str_at(o, "azp"), "\xC2\x85\xE2\x80\xA9");
    ck_assert_ptr_nonnull(strstr(s, "\"jti\":\"\\u2028\""));
    ck_assert_str_eq(str_at(o, "url/path"), "/a\xEF\xBF\xBD\"b\\c\n\x01");
    ck_assert_str_eq(str_at(o, "user/name"), "u\xEF\xBF\xBD(\x7F");
    json_decref(o);
}
END_TEST

/* A single-string groups claim is one group; a claim path reaches nested
 * roles; a missing claim leaves the field out. */
START_TEST(test_groups_paths)
{
    cka_audit_t ev = allowed();
    ev.claims = tu_json("{\"realm_access\":{\"roles\":[\"r1\"]},\"cognito:groups\":\"a,b\","
                        "\"mail\":\"m@x\"}");
    ev.groups_claim = "realm_access.roles";
    ev.email_claim = "mail";
    json_t *o = parse(cka_audit_json(tu_pool, &ev));
    ck_assert_str_eq(json_string_value(json_array_get(json_object_get(o, "groups"), 0)), "r1");
    ck_assert_str_eq(str_at(o, "user/email"), "m@x");
    ck_assert_ptr_null(json_object_get(o, "iss"));
    json_decref(o);
    ev.groups_claim = "cognito:groups";
    o = parse(cka_audit_json(tu_pool, &ev));
    ck_assert_int_eq(json_array_size(json_object_get(o, "groups")), 1);
    ck_assert_str_eq(json_string_value(json_array_get(json_object_get(o, "groups"), 0)), "a,b");
    json_decref(o);
    ev.groups_claim = "nope";
    o = parse(cka_audit_json(tu_pool, &ev));
    ck_assert_ptr_null(json_object_get(o, "groups"));
    json_decref(o);
}
END_TEST

/* Huge values of the worst kind (every byte a control character, or not
 * UTF-8), thousands of groups: still one valid object within the bound,
 * marked truncated, outcome and reason intact. */
START_TEST(test_bounded)
{
    size_t big = 100000;
    char *ctl = apr_palloc(tu_pool, big + 1), *bad = apr_palloc(tu_pool, big + 1);
    memset(ctl, 0x01, big);
    ctl[big] = '\0';
    memset(bad, 0xFF, big);
    bad[big] = '\0';
    json_t *claims = json_object(), *groups = json_array();
    for (int i = 0; i < 5000; i++)
        json_array_append_new(groups, json_string(ctl + big - 200));
    json_object_set_new(claims, "groups", groups);
    static const char *const names[] = { "iss", "sub", "jti", "azp", "client_id", "email" };
    for (int i = 0; i < TU_NELTS(names); i++)
        json_object_set_new(claims, names[i], json_string(ctl));
    cka_audit_t ev = allowed();
    ev.claims = claims;
    ev.success = 0;
    ev.reason = "group_denied";
    ev.user = ev.client_ip = ev.method = ev.server = ev.credential = ev.kid = ctl;
    ev.path = bad;
    json_t *o = parse(cka_audit_json(tu_pool, &ev));
    ck_assert(json_is_true(json_object_get(o, "truncated")));
    ck_assert_str_eq(str_at(o, "event/outcome"), "failure");
    ck_assert_str_eq(str_at(o, "event/reason"), "group_denied");
    ck_assert(json_array_size(json_object_get(o, "groups")) >= 1);
    json_decref(o);
    json_decref(claims);

    /* Roomy values are kept whole when they fit. */
    ev = allowed();
    ev.path = apr_pstrcat(tu_pool, "/", apr_psprintf(tu_pool, "%0900d", 7), NULL);
    o = parse(cka_audit_json(tu_pool, &ev));
    ck_assert_int_eq(strlen(str_at(o, "url/path")), 901);
    ck_assert_ptr_null(json_object_get(o, "truncated"));
    json_decref(o);
}
END_TEST

Suite *suite_audit(void)
{
    Suite *s = suite_create("audit");
    TCase *tc = tcase_create("audit");
    tcase_add_checked_fixture(tc, tu_pool_setup, tu_pool_teardown);
    tcase_add_loop_test(tc, test_utf8, 0, TU_NELTS(utf8));
    tcase_add_test(tc, test_allowed_fields);
    tcase_add_test(tc, test_failure_without_claims);
    tcase_add_test(tc, test_hostile_bytes);
    tcase_add_test(tc, test_groups_paths);
    tcase_add_test(tc, test_bounded);
    suite_add_tcase(s, tc);
    return s;
}
