/* main.c - run every unit suite; exit non-zero on any failure. */
#include <stdlib.h>
#include <apr_general.h>
#include <jansson.h>
#include "suites.h"
#include "mint.h"

apr_pool_t *tu_pool;

void tu_pool_setup(void)
{
    if (apr_pool_create(&tu_pool, NULL) != APR_SUCCESS)
        ck_abort_msg("apr_pool_create failed");
}

void tu_pool_teardown(void)
{
    apr_pool_destroy(tu_pool);
    tu_pool = NULL;
}

static apr_status_t json_release(void *v)
{
    json_decref((json_t *)v);
    return APR_SUCCESS;
}

json_t *tu_json(const char *text)
{
    json_error_t e;
    json_t *v = json_loads(text, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &e);
    ck_assert_msg(v != NULL, "test JSON does not parse: %s: %s", text, e.text);
    apr_pool_cleanup_register(tu_pool, v, json_release, apr_pool_cleanup_null);
    return v;
}

int main(void)
{
    SRunner *sr;
    int failed;

    if (apr_initialize() != APR_SUCCESS)
        return EXIT_FAILURE;
    /* Keys are made once here, before Check forks a process per test. */
    mint_init();

    sr = srunner_create(suite_b64url());
    srunner_add_suite(sr, suite_jws());
    srunner_add_suite(sr, suite_keyset());
    srunner_add_suite(sr, suite_verify());
    srunner_add_suite(sr, suite_verify_openssl());
    srunner_add_suite(sr, suite_claims());
    srunner_add_suite(sr, suite_claim_path());
    srunner_add_suite(sr, suite_identity());
    srunner_add_suite(sr, suite_validate());
    srunner_add_suite(sr, suite_keyrec());
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    apr_terminate();
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
