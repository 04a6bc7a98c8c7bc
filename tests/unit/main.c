/* main.c - run every unit suite; exit non-zero on any failure. */
#include <stdlib.h>
#include <string.h>
#include <apr_general.h>
#include <apr_strings.h>
#include <jansson.h>
#include "suites.h"

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

const cka_key_t *tu_one_key(const mint_key_t *k, const char *extra)
{
    const char *jwk = mint_jwk(tu_pool, k, extra);
    const char *doc = apr_pstrcat(tu_pool, "{\"keys\":[", jwk, "]}", NULL);
    cka_err_t err = CKA_ERR_INIT;
    cka_keyset_t *ks = KS_json(doc, strlen(doc), &err);
    ck_assert_msg(ks != NULL, "key set: %s", cka_err_text(&err));
    ck_assert_int_eq(ks->keys->nelts, 1);
    return APR_ARRAY_IDX(ks->keys, 0, const cka_key_t *);
}

cka_jws_t *tu_parsed(const char *tok)
{
    cka_jws_t *jws = apr_pcalloc(tu_pool, sizeof(*jws));
    const char *detail = NULL;
    ck_assert_ptr_nonnull(tok);
    tu_assert_reason(cka_jws_parse(tu_pool, tok, strlen(tok), jws, &detail), CKA_OK,
                     "parse of a minted token");
    return jws;
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
    srunner_add_suite(sr, suite_seal());
    srunner_add_suite(sr, suite_keysane());
    srunner_add_suite(sr, suite_credential());
    srunner_add_suite(sr, suite_client_creds());
    srunner_add_suite(sr, suite_audit());
    srunner_add_suite(sr, suite_scope());
    srunner_add_suite(sr, suite_introspect());
    srunner_add_suite(sr, suite_dpop());
    srunner_add_suite(sr, suite_cert_bind());
    srunner_add_suite(sr, suite_replay_table());
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    apr_terminate();
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
