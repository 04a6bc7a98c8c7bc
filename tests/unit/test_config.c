/* test_config.c - the configuration records' create and merge, for every
 * member of CKA_SRV_MEMBERS and CKA_DIR_MEMBERS (src/httpd/config.h): each
 * starts unset, a child's setting wins over its parent's (lists replace,
 * ADD lists append: identity headers must stay stripped in nested scopes),
 * an unset child inherits, and the getters give the default of the list.
 * Built with the httpd headers and src/httpd/config.c itself; the few
 * httpd and glue functions config.c names (directive handlers, logging)
 * are never called here and stand in as stubs that abort. */
#include <stdint.h>
#include <stdlib.h>
#include <check.h>
#include <apr_general.h>
#include <apr_strings.h>
#include "config.h"

/* ---- stand-ins for what config.c links against --------------------------- */
module AP_MODULE_DECLARE_DATA conduktor_auth_module;

#define NEVER(what) do { fprintf(stderr, "test_config: %s called\n", what); abort(); } while (0)
AP_DECLARE(void) ap_log_error_(const char *file, int line, int module_index, int level,
                               apr_status_t status, const server_rec *s, const char *fmt, ...)
{ NEVER("ap_log_error"); }
AP_DECLARE(char *) ap_server_root_relative(apr_pool_t *p, const char *fname)
{ NEVER("ap_server_root_relative"); }
AP_DECLARE(const char *) ap_scan_http_token(const char *ptr) { NEVER("ap_scan_http_token"); }
AP_DECLARE(int) ap_cstr_casecmp(const char *s1, const char *s2) { NEVER("ap_cstr_casecmp"); }
AP_DECLARE(int) ap_cstr_casecmpn(const char *s1, const char *s2, apr_size_t n)
{ NEVER("ap_cstr_casecmpn"); }
const char *cka_set_cache(cmd_parms *cmd, void *dc, const char *arg) { NEVER("cka_set_cache"); }
const char *cka_set_cache_ttl(cmd_parms *cmd, void *dc, const char *arg) { NEVER("cka_set_cache_ttl"); }
const char *cka_set_cache_secret(cmd_parms *cmd, void *dc, const char *arg) { NEVER("cka_set_cache_secret"); }
const char *cka_set_replay_cache(cmd_parms *cmd, void *dc, const char *arg) { NEVER("cka_set_replay_cache"); }
const char *cka_set_resource(cmd_parms *cmd, void *dc, const char *arg) { NEVER("cka_set_resource"); }
const char *cka_set_require_binding(cmd_parms *cmd, void *dc, const char *arg) { NEVER("cka_set_require_binding"); }
const char *cka_set_dpop_algs(cmd_parms *cmd, void *dc, const char *arg) { NEVER("cka_set_dpop_algs"); }
const char *cka_set_dpop_window(cmd_parms *cmd, void *dc, const char *arg) { NEVER("cka_set_dpop_window"); }
const char *cka_set_dpop_nonce(cmd_parms *cmd, void *dc, int on) { NEVER("cka_set_dpop_nonce"); }
const char *cka_set_public_url(cmd_parms *cmd, void *dc, const char *arg) { NEVER("cka_set_public_url"); }

static apr_pool_t *pool;

static void setup(void) { ck_assert_int_eq(apr_pool_create(&pool, NULL), APR_SUCCESS); }
static void teardown(void) { apr_pool_destroy(pool); }

/* A set value per kind, distinct for parent (1) and child (2). */
static char marks[3];
static apr_array_header_t *list_of(int which)
{
    apr_array_header_t *a = apr_array_make(pool, 1, sizeof(const char *));
    APR_ARRAY_PUSH(a, const char *) = which == 1 ? "parent" : "child";
    return a;
}
#define VAL_INT(type, which)  ((type)(40 + (which)))
#define VAL_BITS(type, which) ((type)(1u << (which)))
#define VAL_STR(type, which)  ((type)(uintptr_t)&marks[which])
#define VAL_LIST(type, which) list_of(which)
#define VAL_ADD(type, which)  list_of(which)
#define UNSET_INT_V  CKA_UNSET
#define UNSET_BITS_V 0
#define UNSET_STR_V  NULL
#define UNSET_LIST_V NULL
#define UNSET_ADD_V  NULL

static int is_unset_int(long v) { return v == CKA_UNSET; }

/* After merge(parent, child): what the member must be. */
#define EXPECT_CHILD(kind, m, p, c, name) \
    ck_assert_msg(memcmp(&(m)->name, &(c)->name, sizeof((m)->name)) == 0, \
                  #name ": the child's setting did not win")
#define EXPECT_PARENT(kind, m, p, c, name) \
    ck_assert_msg(memcmp(&(m)->name, &(p)->name, sizeof((m)->name)) == 0, \
                  #name ": an unset child did not inherit")

static void check_add(const apr_array_header_t *m, const char *ctx)
{
    ck_assert_msg(m != NULL && m->nelts == 2, "%s: ADD list is not parent + child", ctx);
    ck_assert_str_eq(APR_ARRAY_IDX(m, 0, const char *), "parent");
    ck_assert_str_eq(APR_ARRAY_IDX(m, 1, const char *), "child");
}

START_TEST(srv_members_create_merge_defaults)
{
    cka_srv_conf_t *unset = cka_create_srv_conf(pool, NULL);
    cka_srv_conf_t *parent = cka_create_srv_conf(pool, NULL);
    cka_srv_conf_t *child = cka_create_srv_conf(pool, NULL);
    int members = 0;
    /* created unset */
#define X_UNSET(kind, type, name, def) \
    ck_assert_msg(memcmp(&(type){ (type)UNSET_##kind##_V }, &unset->name, sizeof(type)) == 0, \
                  #name " is not unset when created"); members++;
    CKA_SRV_MEMBERS(X_UNSET)
#undef X_UNSET
    /* parent set, child set: the child wins */
#define X_SET(kind, type, name, def) parent->name = VAL_##kind(type, 1); child->name = VAL_##kind(type, 2);
    CKA_SRV_MEMBERS(X_SET)
#undef X_SET
    cka_srv_conf_t *m = cka_merge_srv_conf(pool, parent, child);
#define SRV_INT(name)  EXPECT_CHILD(INT, m, parent, child, name);
#define SRV_BITS(name) EXPECT_CHILD(BITS, m, parent, child, name);
#define SRV_STR(name)  EXPECT_CHILD(STR, m, parent, child, name);
#define SRV_LIST(name) EXPECT_CHILD(LIST, m, parent, child, name);
#define SRV_ADD(name)  check_add(m->name, #name);
#define X_WINS(kind, type, name, def) SRV_##kind(name)
    CKA_SRV_MEMBERS(X_WINS)
#undef X_WINS
    /* child unset: inherits */
    m = cka_merge_srv_conf(pool, parent, unset);
#define X_INHERITS(kind, type, name, def) EXPECT_PARENT(kind, m, parent, unset, name);
    CKA_SRV_MEMBERS(X_INHERITS)
#undef X_INHERITS
    ck_assert_ptr_null(m->bindings);     /* never inherited: per server */
    /* the getters' defaults */
    ck_assert_int_eq(cka_srv_algs(unset), CKA_ALG_SET_DEFAULT);
    ck_assert_int_eq(cka_srv_jwks_refresh(unset), 3600);
    ck_assert_int_eq(cka_srv_miss_refetch(unset), 60);
    ck_assert_int_eq(cka_srv_http_timeout(unset), 5);
    ck_assert_int_eq(cka_srv_cache_ttl(unset), 300);
    ck_assert_int_eq(cka_srv_cache_off(unset), 0);
    ck_assert_ptr_null(cka_srv_ca_file(unset));
    ck_assert_int_eq(cka_srv_jwks_refresh(parent), 41);
    ck_assert_int_ge(members, 12);
    (void)is_unset_int;
}
END_TEST

START_TEST(dir_members_create_merge_defaults)
{
    cka_dir_conf_t *unset = cka_create_dir_conf(pool, NULL);
    cka_dir_conf_t *parent = cka_create_dir_conf(pool, NULL);
    cka_dir_conf_t *child = cka_create_dir_conf(pool, NULL);
#define X_UNSET(kind, type, name, def) \
    ck_assert_msg(memcmp(&(type){ (type)UNSET_##kind##_V }, &unset->name, sizeof(type)) == 0, \
                  #name " is not unset when created");
    CKA_DIR_MEMBERS(X_UNSET)
#undef X_UNSET
#define X_SET(kind, type, name, def) parent->name = VAL_##kind(type, 1); child->name = VAL_##kind(type, 2);
    CKA_DIR_MEMBERS(X_SET)
#undef X_SET
    cka_dir_conf_t *m = cka_merge_dir_conf(pool, parent, child);
#define CHECK_INT(name)  EXPECT_CHILD(INT, m, parent, child, name);
#define CHECK_STR(name)  EXPECT_CHILD(STR, m, parent, child, name);
#define CHECK_LIST(name) EXPECT_CHILD(LIST, m, parent, child, name);
#define CHECK_ADD(name)  check_add(m->name, #name);
#define X_WINS(kind, type, name, def) CHECK_##kind(name)
    CKA_DIR_MEMBERS(X_WINS)
#undef X_WINS
    m = cka_merge_dir_conf(pool, parent, unset);
#define X_INHERITS(kind, type, name, def) EXPECT_PARENT(kind, m, parent, unset, name);
    CKA_DIR_MEMBERS(X_INHERITS)
#undef X_INHERITS
    /* getters: the defaults of the list, written once */
    ck_assert_int_eq(cka_clock_skew(unset), 60);
    ck_assert_str_eq(cka_token_header(unset), "Authorization");
    ck_assert_str_eq(cka_email_claim(unset), "email");
    ck_assert_str_eq(cka_groups_claim(unset), "groups");
    ck_assert_str_eq(cka_groups_separator(unset), ",");
    ck_assert_int_eq(cka_forward_token(unset), 1);
    ck_assert_int_eq(cka_cors_max_age(unset), 600);
    ck_assert_int_eq(cka_cors_credentials(unset), 0);
    ck_assert_int_eq(cka_max_token_lifetime(unset), 0);
    ck_assert_ptr_null(cka_resource(unset));
    ck_assert_int_eq(cka_clock_skew(parent), 41);
    const apr_array_header_t *uc = cka_user_claims(unset);
    ck_assert_int_eq(uc->nelts, 1);
    ck_assert_str_eq(APR_ARRAY_IDX(uc, 0, const char *), "email");
}
END_TEST

int main(void)
{
    if (apr_initialize() != APR_SUCCESS)
        return EXIT_FAILURE;
    Suite *s = suite_create("config");
    TCase *tc = tcase_create("config");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, srv_members_create_merge_defaults);
    tcase_add_test(tc, dir_members_create_merge_defaults);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    apr_terminate();
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
