/* test_verify_openssl.c - the core's direct use of OpenSSL in its corners:
 * PSS parameters, ECDSA scalars out of range, prepared contexts per key,
 * the error queue, keys shared by threads; and the token hash (SHA-256
 * fetched once). */
#include <pthread.h>
#include <string.h>
#include <apr_strings.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include "suites.h"
#include "mint.h"
#include "jws.h"
#include "keyset.h"
#include "verify.h"
#include "record.h"

#define T MINT_TRUSTED

static const char *token_for(cka_alg_t alg)
{
    const mint_key_t *k = mint_key(mint_kind_for_alg(alg), T);
    return mint_token(tu_pool, k, alg, mint_header(tu_pool, mint_alg_name(alg), NULL, NULL),
                      mint_claims(tu_pool, "https://idp.example.com", "\"api\"", 600, NULL));
}

/* header.payload of a token, as signed. */
static const char *signing_input(const char *tok)
{
    return apr_pstrcat(tu_pool, mint_segment(tu_pool, tok, 0), ".",
                       mint_segment(tu_pool, tok, 1), NULL);
}

/* ---- PSS: salt length and MGF1 digest are fixed by RFC 7518 §3.5 ----- */
static const struct {
    const char *name; cka_alg_t alg; int salt; const char *mgf1; cka_reason_t want;
} pss[] = {
    /* salt: bytes, or RSA_PSS_SALTLEN_DIGEST; mgf1 NULL: the alg's hash */
    { "PS256 salt 32 (digest), control",  CKA_ALG_PS256, RSA_PSS_SALTLEN_DIGEST, NULL, CKA_OK },
    { "PS384 salt 48 (digest), control",  CKA_ALG_PS384, RSA_PSS_SALTLEN_DIGEST, NULL, CKA_OK },
    { "PS512 salt 64 (digest), control",  CKA_ALG_PS512, RSA_PSS_SALTLEN_DIGEST, NULL, CKA_OK },
    { "PS256 salt 0",                     CKA_ALG_PS256, 0,    NULL,     CKA_BAD_SIGNATURE },
    { "PS256 salt 20",                    CKA_ALG_PS256, 20,   NULL,     CKA_BAD_SIGNATURE },
    { "PS256 salt 31",                    CKA_ALG_PS256, 31,   NULL,     CKA_BAD_SIGNATURE },
    { "PS256 salt 33",                    CKA_ALG_PS256, 33,   NULL,     CKA_BAD_SIGNATURE },
    { "PS256 salt 64",                    CKA_ALG_PS256, 64,   NULL,     CKA_BAD_SIGNATURE },
    { "PS256 salt maximal",               CKA_ALG_PS256, RSA_PSS_SALTLEN_MAX, NULL, CKA_BAD_SIGNATURE },
    { "PS384 salt 32",                    CKA_ALG_PS384, 32,   NULL,     CKA_BAD_SIGNATURE },
    { "PS512 salt 32",                    CKA_ALG_PS512, 32,   NULL,     CKA_BAD_SIGNATURE },
    { "PS256 MGF1 with SHA-1",            CKA_ALG_PS256, RSA_PSS_SALTLEN_DIGEST, "SHA1",   CKA_BAD_SIGNATURE },
    { "PS256 MGF1 with SHA-384",          CKA_ALG_PS256, RSA_PSS_SALTLEN_DIGEST, "SHA384", CKA_BAD_SIGNATURE },
    { "PS512 MGF1 with SHA-256",          CKA_ALG_PS512, RSA_PSS_SALTLEN_DIGEST, "SHA256", CKA_BAD_SIGNATURE },
};

START_TEST(pss_parameters)
{
    cka_alg_t alg = pss[_i].alg;
    const mint_key_t *k = mint_key(MINT_RSA, T);
    const char *tok = token_for(alg), *in = signing_input(tok);
    const char *md = alg == CKA_ALG_PS256 ? "SHA256" : alg == CKA_ALG_PS384 ? "SHA384" : "SHA512";
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pctx = NULL;
    unsigned char sig[512];
    size_t n = sizeof(sig);
    ck_assert_int_eq(EVP_DigestSignInit_ex(ctx, &pctx, md, NULL, NULL, k->pkey, NULL), 1);
    ck_assert_int_eq(EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING), 1);
    ck_assert_int_eq(EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, pss[_i].salt), 1);
    ck_assert_int_eq(EVP_PKEY_CTX_set_rsa_mgf1_md_name(pctx, pss[_i].mgf1 ? pss[_i].mgf1 : md,
                                                       NULL), 1);
    ck_assert_int_eq(EVP_DigestSign(ctx, sig, &n, (const unsigned char *)in, strlen(in)), 1);
    EVP_MD_CTX_free(ctx);
    ck_assert_uint_eq(n, 256);
    tok = mint_set_sig(tu_pool, tok, sig, n);
    tu_assert_reason(cka_verify_with_key(tu_parsed(tok), tu_one_key(k, NULL)), pss[_i].want,
                     pss[_i].name);
}
END_TEST

/* ---- the padding of one family is never accepted for the other ------- */
static const struct { cka_alg_t header; cka_alg_t signed_as; } cross[] = {
    { CKA_ALG_RS256, CKA_ALG_PS256 }, { CKA_ALG_PS256, CKA_ALG_RS256 },
    { CKA_ALG_RS384, CKA_ALG_PS384 }, { CKA_ALG_PS384, CKA_ALG_RS384 },
    { CKA_ALG_RS512, CKA_ALG_PS512 }, { CKA_ALG_PS512, CKA_ALG_RS512 },
    { CKA_ALG_PS256, CKA_ALG_PS384 }, { CKA_ALG_RS384, CKA_ALG_RS512 },
};

START_TEST(rsa_padding_cross)
{
    const mint_key_t *k = mint_key(MINT_RSA, T);
    const char *tok = token_for(cross[_i].header), *in = signing_input(tok);
    unsigned char *sig;
    size_t n;
    char ctx[64];
    ck_assert_int_eq(mint_sign(tu_pool, k, cross[_i].signed_as, in, strlen(in), 0, &sig, &n), 0);
    tok = mint_set_sig(tu_pool, tok, sig, n);
    apr_snprintf(ctx, sizeof(ctx), "%s header, %s signature",
                 mint_alg_name(cross[_i].header), mint_alg_name(cross[_i].signed_as));
    tu_assert_reason(cka_verify_with_key(tu_parsed(tok), tu_one_key(k, NULL)), CKA_BAD_SIGNATURE, ctx);
}
END_TEST

/* ---- ECDSA: r and s must lie in [1, n-1] ------------------------------ */
typedef enum { EC_R_IS_N, EC_S_IS_N, EC_R_PLUS_N, EC_S_PLUS_N, EC_S_IS_1,
               EC_R_IS_N_MINUS_R } ecform_t;
static const struct { const char *name; cka_alg_t alg; ecform_t form; } ecs[] = {
    { "ES256 s = n",       CKA_ALG_ES256, EC_S_IS_N },
    { "ES256 r = n",       CKA_ALG_ES256, EC_R_IS_N },
    { "ES384 s = n",       CKA_ALG_ES384, EC_S_IS_N },
    { "ES384 r = n",       CKA_ALG_ES384, EC_R_IS_N },
    { "ES512 s = n",       CKA_ALG_ES512, EC_S_IS_N },
    { "ES512 r = n",       CKA_ALG_ES512, EC_R_IS_N },
    /* P-521: 66 bytes hold r + n, an unreduced form of a valid r */
    { "ES512 r + n",       CKA_ALG_ES512, EC_R_PLUS_N },
    { "ES512 s + n",       CKA_ALG_ES512, EC_S_PLUS_N },
    { "ES256 s = 1",       CKA_ALG_ES256, EC_S_IS_1 },
    { "ES256 r = n - r",   CKA_ALG_ES256, EC_R_IS_N_MINUS_R },
};

START_TEST(ecdsa_scalars)
{
    cka_alg_t alg = ecs[_i].alg;
    const mint_key_t *k = mint_key(mint_kind_for_alg(alg), T);
    const char *tok = token_for(alg);
    size_t len, half;
    unsigned char *sig = mint_sig_bytes(tu_pool, tok, &len);
    BIGNUM *n = NULL, *v = BN_new();
    int at;
    ck_assert_int_eq(EVP_PKEY_get_bn_param(k->pkey, OSSL_PKEY_PARAM_EC_ORDER, &n), 1);
    half = len / 2;
    at = (ecs[_i].form == EC_S_IS_N || ecs[_i].form == EC_S_PLUS_N
          || ecs[_i].form == EC_S_IS_1) ? (int)half : 0;
    switch (ecs[_i].form) {
    case EC_R_IS_N: case EC_S_IS_N:
        ck_assert_ptr_nonnull(BN_copy(v, n));
        break;
    case EC_R_PLUS_N: case EC_S_PLUS_N:
        ck_assert_ptr_nonnull(BN_bin2bn(sig + at, (int)half, v));
        ck_assert_int_eq(BN_add(v, v, n), 1);
        break;
    case EC_S_IS_1:
        ck_assert_int_eq(BN_set_word(v, 1), 1);
        break;
    case EC_R_IS_N_MINUS_R:
        ck_assert_ptr_nonnull(BN_bin2bn(sig, (int)half, v));
        ck_assert_int_eq(BN_sub(v, n, v), 1);
        break;
    }
    ck_assert_int_eq(BN_bn2binpad(v, sig + at, (int)half), (int)half);
    BN_free(v);
    BN_free(n);
    tok = mint_set_sig(tu_pool, tok, sig, len);
    tu_assert_reason(cka_verify_with_key(tu_parsed(tok), tu_one_key(k, NULL)), CKA_BAD_SIGNATURE,
                     ecs[_i].name);
}
END_TEST

/* ---- every key has an OpenSSL key; contexts only for the algs it fits - */
static const struct {
    mint_kind_t kind; const char *extra; cka_alg_t fits[7];
} prep[] = {
    { MINT_RSA,     NULL,              { CKA_ALG_RS256, CKA_ALG_RS384, CKA_ALG_RS512,
                                         CKA_ALG_PS256, CKA_ALG_PS384, CKA_ALG_PS512 } },
    { MINT_RSA,     "\"alg\":\"PS384\"", { CKA_ALG_PS384 } },
    { MINT_P256,    NULL,              { CKA_ALG_ES256 } },
    { MINT_P384,    NULL,              { CKA_ALG_ES384 } },
    { MINT_P521,    "\"alg\":\"ES512\"", { CKA_ALG_ES512 } },
    { MINT_ED25519, NULL,              { CKA_ALG_EDDSA } },
    { MINT_HMAC,    NULL,              { CKA_ALG_UNKNOWN } },   /* none: HMAC */
};

START_TEST(prepared_contexts)
{
    const cka_key_t *k = tu_one_key(mint_key(prep[_i].kind, T), prep[_i].extra);
    int want[CKA_ALG_COUNT] = { 0 };
    for (int i = 0; i < 7 && prep[_i].fits[i] != CKA_ALG_UNKNOWN; i++)
        want[prep[_i].fits[i]] = 1;
    if (prep[_i].kind == MINT_HMAC) {
        ck_assert_ptr_null(k->pkey);
        ck_assert_ptr_nonnull(k->secret);
        ck_assert_uint_eq(k->secret_len, 64);
    }
    else
        ck_assert_ptr_nonnull(k->pkey);
    for (int a = 0; a < CKA_ALG_COUNT; a++)
        ck_assert_msg((k->vctx[a] != NULL) == want[a], "row %d, %s: context %s", _i,
                      a ? mint_alg_name((cka_alg_t)a) : "(unknown)",
                      k->vctx[a] ? "present" : "missing");
}
END_TEST

/* PEM and certificate keys go through the same path. */
START_TEST(pem_keys_verify)
{
    static const cka_alg_t algs[] = { CKA_ALG_RS256, CKA_ALG_PS512, CKA_ALG_ES384,
                                      CKA_ALG_ES512, CKA_ALG_EDDSA };
    for (int i = 0; i < TU_NELTS(algs); i++) {
        const mint_key_t *k = mint_key(mint_kind_for_alg(algs[i]), T);
        const char *pems[2] = { mint_pem_public(tu_pool, k), mint_pem_cert(tu_pool, k) };
        for (int j = 0; j < 2; j++) {
            cka_err_t err = CKA_ERR_INIT;
            cka_keyset_t *ks = KS_pem(pems[j], strlen(pems[j]), &err);
            ck_assert_msg(ks != NULL, "%s: %s", mint_alg_name(algs[i]), cka_err_text(&err));
            tu_assert_reason(cka_verify_with_set(tu_parsed(token_for(algs[i])), ks, NULL), CKA_OK,
                             j ? "certificate" : "PEM public key");
        }
    }
}
END_TEST

/* ---- the OpenSSL error queue: ours cleaned, the caller's kept --------- */
START_TEST(error_queue_untouched)
{
    static const cka_alg_t algs[] = { CKA_ALG_RS256, CKA_ALG_PS256, CKA_ALG_ES256,
                                      CKA_ALG_EDDSA, CKA_ALG_HS256 };
    for (int i = 0; i < TU_NELTS(algs); i++) {
        const cka_key_t *k = tu_one_key(mint_key(mint_kind_for_alg(algs[i]), T), NULL);
        cka_jws_t *good = tu_parsed(token_for(algs[i]));
        cka_jws_t *bad = tu_parsed(mint_flip_sig(tu_pool, token_for(algs[i]), 3));
        ERR_clear_error();
        tu_assert_reason(cka_verify_with_key(bad, k), CKA_BAD_SIGNATURE, mint_alg_name(algs[i]));
        ck_assert_msg(ERR_peek_error() == 0, "%s: failed verification left errors",
                      mint_alg_name(algs[i]));
        ERR_raise(ERR_LIB_USER, 42);          /* an error of the caller's */
        tu_assert_reason(cka_verify_with_key(bad, k), CKA_BAD_SIGNATURE, mint_alg_name(algs[i]));
        tu_assert_reason(cka_verify_with_key(good, k), CKA_OK, mint_alg_name(algs[i]));
        ck_assert_int_eq(ERR_GET_REASON(ERR_peek_last_error()), 42);
        ck_assert_int_eq(ERR_GET_REASON(ERR_get_error()), 42);
        ck_assert_int_eq(ERR_peek_error(), 0);
    }
}
END_TEST

/* ---- one key set, several threads: the prepared contexts are shared --- */
#define THREADS 4
#define ROUNDS  40
static const cka_alg_t mt_algs[] = { CKA_ALG_RS256, CKA_ALG_PS384, CKA_ALG_ES256,
                                     CKA_ALG_ES512, CKA_ALG_EDDSA };
#define NMT TU_NELTS(mt_algs)
typedef struct {
    const cka_keyset_t *ks;
    cka_jws_t          *good[NMT], *bad[NMT];
    int                 wrong;             /* results other than expected */
} mt_arg_t;

static void *mt_run(void *v)
{
    mt_arg_t *a = v;
    for (int r = 0; r < ROUNDS; r++)
        for (int i = 0; i < NMT; i++) {
            if (cka_verify_with_set(a->good[i], a->ks, NULL) != CKA_OK)
                a->wrong++;
            if (cka_verify_with_set(a->bad[i], a->ks, NULL) != CKA_BAD_SIGNATURE)
                a->wrong++;
        }
    return NULL;
}

START_TEST(shared_across_threads)
{
    const char *doc = mint_jwks(tu_pool, 5,
        mint_jwk(tu_pool, mint_key(MINT_RSA, T), NULL),
        mint_jwk(tu_pool, mint_key(MINT_P256, T), NULL),
        mint_jwk(tu_pool, mint_key(MINT_P384, T), NULL),
        mint_jwk(tu_pool, mint_key(MINT_P521, T), NULL),
        mint_jwk(tu_pool, mint_key(MINT_ED25519, T), NULL));
    cka_err_t err = CKA_ERR_INIT;
    cka_keyset_t *ks = KS_json(doc, strlen(doc), &err);
    mt_arg_t arg[THREADS];
    pthread_t th[THREADS];
    ck_assert_msg(ks != NULL, "%s", cka_err_text(&err));
    for (int t = 0; t < THREADS; t++) {
        arg[t].ks = ks;
        arg[t].wrong = 0;
        for (int i = 0; i < NMT; i++) {
            /* each thread its own parsed tokens: jws parsing is not shared */
            arg[t].good[i] = tu_parsed(token_for(mt_algs[i]));
            arg[t].bad[i] = tu_parsed(mint_flip_sig(tu_pool, token_for(mt_algs[i]), -2));
        }
    }
    for (int t = 0; t < THREADS; t++)
        ck_assert_int_eq(pthread_create(&th[t], NULL, mt_run, &arg[t]), 0);
    for (int t = 0; t < THREADS; t++) {
        ck_assert_int_eq(pthread_join(th[t], NULL), 0);
        ck_assert_msg(arg[t].wrong == 0, "thread %d: %d wrong results", t, arg[t].wrong);
    }
}
END_TEST

/* ---- the token hash: SHA-256, the same from any thread, first call too - */
static const struct { const char *in; const char *hex; } sha[] = {
    { "",    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" },
    { "abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" },
    { "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
             "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1" },
};

static void *hash_run(void *v)
{
    int *wrong = v;
    for (int r = 0; r < 200; r++)
        for (int i = 0; i < TU_NELTS(sha); i++) {
            unsigned char h[CKA_HASH_LEN];
            char hex[2 * CKA_HASH_LEN + 1];
            ck_assert_int_eq(cka_token_hash(sha[i].in, strlen(sha[i].in), h), 0);
            for (int j = 0; j < CKA_HASH_LEN; j++)
                snprintf(hex + 2 * j, 3, "%02x", h[j]);
            if (strcmp(hex, sha[i].hex) != 0)
                (*wrong)++;
        }
    return NULL;
}

START_TEST(token_hash)
{
    /* a fresh test process: the threads race for the first fetch */
    int wrong[THREADS] = { 0 };
    pthread_t th[THREADS];
    for (int t = 0; t < THREADS; t++)
        ck_assert_int_eq(pthread_create(&th[t], NULL, hash_run, &wrong[t]), 0);
    for (int t = 0; t < THREADS; t++) {
        ck_assert_int_eq(pthread_join(th[t], NULL), 0);
        ck_assert_msg(wrong[t] == 0, "thread %d: %d wrong hashes", t, wrong[t]);
    }
}
END_TEST

Suite *suite_verify_openssl(void)
{
    Suite *s = suite_create("verify_openssl");
    TCase *tc = tcase_create("corners");
    tcase_add_checked_fixture(tc, tu_pool_setup, tu_pool_teardown);
    tcase_add_loop_test(tc, pss_parameters, 0, TU_NELTS(pss));
    tcase_add_loop_test(tc, rsa_padding_cross, 0, TU_NELTS(cross));
    tcase_add_loop_test(tc, ecdsa_scalars, 0, TU_NELTS(ecs));
    tcase_add_loop_test(tc, prepared_contexts, 0, TU_NELTS(prep));
    tcase_add_test(tc, pem_keys_verify);
    tcase_add_test(tc, error_queue_untouched);
    tcase_add_test(tc, shared_across_threads);
    tcase_add_test(tc, token_hash);
    suite_add_tcase(s, tc);
    return s;
}
