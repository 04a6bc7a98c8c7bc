/* test_keysane.c - the key sanity rules (SPEC "Trust": RSA modulus 2048 to
 * 8192 bits, odd e from 3 to 2^32, EC on its curve, Ed25519 not of small
 * order), the forgeries they stop, RFC 7638 thumbprints, the list of
 * skipped keys and its log line. */
#include <string.h>
#include <apr_strings.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/param_build.h>
#include <openssl/rand.h>
#include "suites.h"
#include "mint.h"
#include "keyset.h"
#include "verify.h"
#include "cka_limits.h"

#define T MINT_TRUSTED

static cka_keyset_t *parse(const char *doc, cka_err_t *err)
{
    cka_keyset_t *ks = NULL;
    *err = (cka_err_t)CKA_ERR_INIT;
    cka_keyset_parse_json(tu_pool, doc, strlen(doc), &ks, err);
    return ks;
}

static const cka_key_skip_t *skip_at(const cka_keyset_t *ks, int i)
{
    return &APR_ARRAY_IDX(ks->skips, i, cka_key_skip_t);
}

/* An odd modulus of exactly bits bits (top bit set): not a product of two
 * primes, which no parser can tell, and none of the rules asks. */
static unsigned char *odd_modulus(int bits, size_t *len)
{
    size_t n = ((size_t)bits + 7) / 8;
    unsigned char *m = apr_palloc(tu_pool, n);
    ck_assert_int_eq(RAND_bytes(m, (int)n), 1);
    m[0] &= (unsigned char)(0xff >> (n * 8 - (size_t)bits));
    m[0] |= (unsigned char)(0x80 >> (n * 8 - (size_t)bits));
    m[n - 1] |= 1;
    *len = n;
    return m;
}

/* e as big-endian bytes without leading zeros. */
static size_t e_bytes(unsigned long long e, unsigned char out[8])
{
    size_t n = 0;
    unsigned char tmp[8];
    for (; e != 0; e >>= 8)
        tmp[n++] = (unsigned char)(e & 0xff);
    for (size_t i = 0; i < n; i++)
        out[i] = tmp[n - 1 - i];
    return n;
}

/* ---- RSA: modulus size and exponent --------------------------------- */
static const struct {
    const char *name;
    int bits;                  /* 0: the trusted mint key's 2048-bit modulus */
    unsigned long long e;
    const char *why;           /* NULL: accepted */
} rsa[] = {
    { "1024-bit modulus",        1024, 65537, "RSA modulus under 2048 bits" },
    { "2047-bit modulus",        2047, 65537, "RSA modulus under 2048 bits" },
    { "2048-bit modulus",        2048, 65537, NULL },
    { "2049-bit modulus",        2049, 65537, NULL },
    { "3072-bit modulus",        3072, 65537, NULL },
    { "8192-bit modulus",        8192, 65537, NULL },
    { "8193-bit modulus",        8193, 65537, "RSA modulus over 8192 bits" },
    { "16384-bit modulus",      16384, 65537, "RSA modulus over 8192 bits" },
    { "e = 0",                      0, 0,     "RSA exponent below 3" },
    { "e = 1",                      0, 1,     "RSA exponent below 3" },
    { "e = 2",                      0, 2,     "RSA exponent below 3" },
    { "e = 3",                      0, 3,     NULL },
    { "e = 4",                      0, 4,     "RSA exponent is even" },
    { "e = 17",                     0, 17,    NULL },
    { "e = 65536",                  0, 65536, "RSA exponent is even" },
    { "e = 65537",                  0, 65537, NULL },
    { "e = 2^32 - 1",               0, 4294967295ULL, NULL },
    { "e = 2^32",                   0, 4294967296ULL, "RSA exponent is even" },
    { "e = 2^32 + 1",               0, 4294967297ULL, "RSA exponent above 2^32" },
    { "e = 2^40 + 1",               0, 1099511627777ULL, "RSA exponent above 2^32" },
    { "e = 2^64 - 1",               0, 18446744073709551615ULL, "RSA exponent above 2^32" },
};

START_TEST(rsa_rules)
{
    size_t nl, el;
    unsigned char eb[8];
    const unsigned char *n = rsa[_i].bits ? odd_modulus(rsa[_i].bits, &nl)
                                          : mint_rsa_n(tu_pool, mint_key(MINT_RSA, T), &nl);
    cka_err_t err = CKA_ERR_INIT;
    el = e_bytes(rsa[_i].e, eb);
    if (el == 0)
        eb[el++] = 0;                     /* e = 0 is the byte 00 */
    const char *bad = mint_jwk_rsa_raw(tu_pool, n, nl, eb, el, "\"kid\":\"r\"");
    const char *good = mint_jwk(tu_pool, mint_key(MINT_P256, T), "\"kid\":\"ok\"");
    cka_keyset_t *ks = parse(mint_jwks(tu_pool, 2, bad, good), &err);
    ck_assert_msg(ks != NULL, "%s: %s", rsa[_i].name, cka_err_text(&err));
    if (rsa[_i].why == NULL) {
        ck_assert_msg(ks->keys->nelts == 2 && ks->skipped == 0, "%s: refused (%s)", rsa[_i].name,
                      ks->skips->nelts ? skip_at(ks, 0)->why : "?");
        const cka_key_t *k = APR_ARRAY_IDX(ks->keys, 0, const cka_key_t *);
        ck_assert_int_eq(k->bits, rsa[_i].bits ? rsa[_i].bits : 2048);
        ck_assert_ptr_nonnull(k->vctx[CKA_ALG_RS256]);
    }
    else {
        ck_assert_msg(ks->keys->nelts == 1, "%s: accepted", rsa[_i].name);
        ck_assert_int_eq(ks->skipped, 1);
        ck_assert_int_eq(ks->untrusted, 1);
        ck_assert_pstr_eq(skip_at(ks, 0)->kid, "r");
        ck_assert_int_eq(skip_at(ks, 0)->reason, CKA_KEY_UNTRUSTED);
        ck_assert_str_eq(skip_at(ks, 0)->why, rsa[_i].why);
    }
}
END_TEST

/* Leading zero bytes in n or e do not change the numbers. */
START_TEST(rsa_leading_zeros)
{
    size_t nl;
    const unsigned char *n = mint_rsa_n(tu_pool, mint_key(MINT_RSA, T), &nl);
    unsigned char *n0 = apr_pcalloc(tu_pool, nl + 2);
    static const unsigned char e0[] = { 0, 0, 1, 0, 1 };
    static const unsigned char e1[] = { 0, 0, 0, 0, 0, 1 };
    cka_err_t err = CKA_ERR_INIT;
    memcpy(n0 + 2, n, nl);
    cka_keyset_t *ks = parse(mint_jwk_rsa_raw(tu_pool, n0, nl + 2, e0, sizeof(e0), NULL), &err);
    ck_assert_msg(ks != NULL, "%s", cka_err_text(&err));
    ck_assert_int_eq(APR_ARRAY_IDX(ks->keys, 0, const cka_key_t *)->bits, 2048);
    ks = parse(mint_jwk_rsa_raw(tu_pool, n0, nl + 2, e1, sizeof(e1), NULL), &err);
    ck_assert_ptr_null(ks);                       /* e = 1 written long */
    ck_assert_int_eq(err.reason, CKA_KEYSET_INVALID);
    /* the builder's own code: a sanity rule (which one, the detail says) */
    cka_key_t k = { 0 };
    ck_assert_int_eq(cka_key_rsa(tu_pool, &k, n0, nl + 2, e1, sizeof(e1), &err), CKA_KEY_UNTRUSTED);
    ck_assert_str_eq(err.detail, "RSA exponent below 3");
}
END_TEST

/* A PEM key goes through the same rules: a 1024-bit RSA public key or
 * certificate is refused, a 2048-bit one taken. */
static const struct { const char *name; size_t bits; int cert; const char *err; } pems[] = {
    { "PEM public key, RSA 1024",  1024, 0, "RSA modulus under 2048 bits" },
    { "certificate, RSA 1024",     1024, 1, "RSA modulus under 2048 bits" },
    { "PEM public key, RSA 2048",  2048, 0, NULL },
};

START_TEST(pem_rules)
{
    mint_key_t mk = { MINT_RSA, EVP_PKEY_Q_keygen(NULL, NULL, "RSA", pems[_i].bits), { 0 }, 0 };
    ck_assert_ptr_nonnull(mk.pkey);
    const char *text = pems[_i].cert ? mint_pem_cert(tu_pool, &mk) : mint_pem_public(tu_pool, &mk);
    cka_err_t err = CKA_ERR_INIT;
    cka_keyset_t *ks = KS_pem(text, strlen(text), &err);
    EVP_PKEY_free(mk.pkey);
    if (pems[_i].err == NULL) {
        ck_assert_msg(ks != NULL, "%s: %s", pems[_i].name, cka_err_text(&err));
        ck_assert_int_eq(APR_ARRAY_IDX(ks->keys, 0, const cka_key_t *)->bits, (int)pems[_i].bits);
    }
    else {
        ck_assert_msg(ks == NULL, "%s: accepted", pems[_i].name);
        ck_assert_int_eq(err.reason, CKA_KEYSET_INVALID);
        ck_assert_ptr_nonnull(strstr(err.detail, pems[_i].err));
    }
}
END_TEST

/* ---- Ed25519: the small-order points, every encoding ---------------- */
/* y of the eight points of small order (little-endian), and the
 * non-canonical y + p of the two that have one. Each row is tried with
 * the sign bit of x clear and set. */
static const struct { const char *name; unsigned char y[32]; } small[] = {
    { "y = 0 (order 4)", { 0 } },
    { "y = 1 (neutral element)", { 1 } },
    { "y of order 8 (a)",
      { 0x26, 0xe8, 0x95, 0x8f, 0xc2, 0xb2, 0x27, 0xb0, 0x45, 0xc3, 0xf4, 0x89,
        0xf2, 0xef, 0x98, 0xf0, 0xd5, 0xdf, 0xac, 0x05, 0xd3, 0xc6, 0x33, 0x39,
        0xb1, 0x38, 0x02, 0x88, 0x6d, 0x53, 0xfc, 0x05 } },
    { "y of order 8 (b)",
      { 0xc7, 0x17, 0x6a, 0x70, 0x3d, 0x4d, 0xd8, 0x4f, 0xba, 0x3c, 0x0b, 0x76,
        0x0d, 0x10, 0x67, 0x0f, 0x2a, 0x20, 0x53, 0xfa, 0x2c, 0x39, 0xcc, 0xc6,
        0x4e, 0xc7, 0xfd, 0x77, 0x92, 0xac, 0x03, 0x7a } },
    { "y = p - 1 (order 2)",
      { 0xec, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f } },
    { "y = p (0, non-canonical)",
      { 0xed, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f } },
    { "y = p + 1 (1, non-canonical)",
      { 0xee, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f } },
};

START_TEST(ed25519_small_order)
{
    unsigned char x[32];
    cka_err_t err = CKA_ERR_INIT;
    memcpy(x, small[_i / 2].y, 32);
    if (_i % 2)
        x[31] |= 0x80;                            /* the sign bit of x */
    const char *bad = mint_jwk_okp_raw(tu_pool, x, "\"kid\":\"tiny\"");
    const char *good = mint_jwk(tu_pool, mint_key(MINT_ED25519, T), "\"kid\":\"ok\"");
    cka_keyset_t *ks = parse(mint_jwks(tu_pool, 2, bad, good), &err);
    ck_assert_msg(ks != NULL, "%s: %s", small[_i / 2].name, cka_err_text(&err));
    ck_assert_msg(ks->keys->nelts == 1, "%s, sign %d: accepted", small[_i / 2].name, _i % 2);
    ck_assert_pstr_eq(APR_ARRAY_IDX(ks->keys, 0, const cka_key_t *)->kid, "ok");
    ck_assert_int_eq(ks->skipped, 1);
    ck_assert_pstr_eq(skip_at(ks, 0)->kid, "tiny");
    ck_assert_int_eq(skip_at(ks, 0)->reason, CKA_KEY_UNTRUSTED);
    ck_assert_str_eq(skip_at(ks, 0)->why, "Ed25519 key of small order");
    ck_assert_int_eq(ks->untrusted, 1);
}
END_TEST

/* Points next to the blocklisted ones are ordinary keys (when they are
 * points at all): the list is compared exactly, not by prefix. */
START_TEST(ed25519_neighbours)
{
    unsigned char x[32] = { 0 };
    cka_err_t err = CKA_ERR_INIT;
    int kept = 0;
    for (int v = 2; v < 12; v++) {
        x[0] = (unsigned char)v;
        cka_keyset_t *ks = parse(mint_jwk_okp_raw(tu_pool, x, NULL), &err);
        if (ks != NULL)
            kept++;
        else {
            ck_assert_int_eq(err.reason, CKA_KEYSET_INVALID);
            ck_assert_int_eq(cka_key_okp(tu_pool, &(cka_key_t){ 0 }, x, sizeof(x), &err),
                             CKA_KEY_UNUSABLE);          /* not a small-order rule */
        }
    }
    ck_assert_int_gt(kept, 0);
}
END_TEST

/* ---- the forgeries the rules stop ------------------------------------ */
static apr_status_t free_pkey(void *v)
{
    EVP_PKEY_free(v);
    return APR_SUCCESS;
}

/* A key built directly, as the parser would if it had no sanity rules. */
static const cka_key_t *raw_key(cka_kty_t kty, cka_crv_t crv, EVP_PKEY *pk, int bits)
{
    cka_key_t *k = apr_pcalloc(tu_pool, sizeof(*k));
    ck_assert_ptr_nonnull(pk);
    apr_pool_cleanup_register(tu_pool, pk, free_pkey, apr_pool_cleanup_null);
    k->kty = kty;
    k->crv = crv;
    k->pkey = pk;
    k->bits = bits;
    ck_assert_int_eq(cka_verify_prepare(tu_pool, k, NULL), CKA_OK);
    return k;
}

static EVP_PKEY *rsa_pkey(const unsigned char *n, size_t nl, unsigned long e)
{
    EVP_PKEY *pk = NULL;
    BIGNUM *bn = BN_bin2bn(n, (int)nl, NULL), *be = BN_new();
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    OSSL_PARAM *params = NULL;
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
    BN_set_word(be, e);
    if (OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn)
        && OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, be)
        && (params = OSSL_PARAM_BLD_to_param(bld)) != NULL
        && EVP_PKEY_fromdata_init(ctx) == 1)
        EVP_PKEY_fromdata(ctx, &pk, EVP_PKEY_PUBLIC_KEY, params);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    EVP_PKEY_CTX_free(ctx);
    BN_free(bn);
    BN_free(be);
    return pk;
}

static const char *claims(void)
{
    return mint_claims(tu_pool, "https://idp.example.com", "\"api\"", 600,
                       "\"groups\":[\"kafka-admins\"]");
}

/* Under e = 1, s^e mod n = s: the "signature" is the PKCS#1 encoding of
 * the digest itself, which anyone can write. */
static const char *forged_rs256(const char *kid, size_t nl)
{
    const char *hdr = mint_header(tu_pool, "RS256", kid, NULL), *pl = claims();
    const char *input = apr_pstrcat(tu_pool, mint_b64url_str(tu_pool, hdr), ".",
                                    mint_b64url_str(tu_pool, pl), NULL);
    unsigned char *em = apr_palloc(tu_pool, nl);
    ck_assert_int_eq(mint_pkcs1_encoding(input, strlen(input), em, nl), 0);
    return mint_compact(tu_pool, hdr, pl, em, nl);
}

START_TEST(forgery_rsa_e1)
{
    size_t nl;
    const unsigned char *n = mint_rsa_n(tu_pool, mint_key(MINT_RSA, T), &nl);
    cka_err_t err = CKA_ERR_INIT;
    /* Without the rule: the forgery verifies (the test can fail). */
    const cka_key_t *weak = raw_key(CKA_KTY_RSA, CKA_CRV_NONE, rsa_pkey(n, nl, 1), 2048);
    tu_assert_reason(cka_verify_with_key(tu_parsed(forged_rs256("weak", nl)), weak), CKA_OK,
                     "e = 1 key built directly verifies the forgery");
    /* e = 3 under the same modulus: the same bytes do not verify. */
    const cka_key_t *e3 = raw_key(CKA_KTY_RSA, CKA_CRV_NONE, rsa_pkey(n, nl, 3), 2048);
    tu_assert_reason(cka_verify_with_key(tu_parsed(forged_rs256("weak", nl)), e3),
                     CKA_BAD_SIGNATURE, "e = 3");
    /* Through a key set: the key is skipped, its kid is unsupported. */
    static const unsigned char one[] = { 1 };
    cka_keyset_t *ks = parse(mint_jwks(tu_pool, 2,
        mint_jwk_rsa_raw(tu_pool, n, nl, one, 1, "\"kid\":\"weak\""),
        mint_jwk(tu_pool, mint_key(MINT_RSA, MINT_ATTACKER), "\"kid\":\"good\"")), &err);
    ck_assert_msg(ks != NULL, "%s", cka_err_text(&err));
    ck_assert_int_eq(ks->keys->nelts, 1);
    tu_assert_reason(cka_verify_with_set(tu_parsed(forged_rs256("weak", nl)), ks, NULL),
                     CKA_UNSUPPORTED_KEY, "forgery under the skipped kid");
    tu_assert_reason(cka_verify_with_set(tu_parsed(forged_rs256(NULL, nl)), ks, NULL),
                     CKA_BAD_SIGNATURE, "forgery without kid");
    tu_assert_reason(cka_verify_with_set(tu_parsed(forged_rs256("good", nl)), ks, NULL),
                     CKA_BAD_SIGNATURE, "forgery under the good kid");
    /* and a real token of the good key still passes */
    const char *tok = mint_token(tu_pool, mint_key(MINT_RSA, MINT_ATTACKER), CKA_ALG_RS256,
                                 mint_header(tu_pool, "RS256", "good", NULL), claims());
    tu_assert_reason(cka_verify_with_set(tu_parsed(tok), ks, NULL), CKA_OK, "good key");
}
END_TEST

/* Under A = the neutral element, [S]B = R + [h]A = R for S = 0, R = the
 * neutral element: the same 64 bytes sign every message. */
START_TEST(forgery_ed25519_small_order)
{
    unsigned char a[32] = { 1 }, sig[64] = { 1 };
    cka_err_t err = CKA_ERR_INIT;
    const char *hdr_k = mint_header(tu_pool, "EdDSA", "tiny", NULL);
    const char *forged = mint_compact(tu_pool, hdr_k, claims(), sig, sizeof(sig));
    const char *forged_nokid = mint_compact(tu_pool, mint_header(tu_pool, "EdDSA", NULL, NULL),
                                            claims(), sig, sizeof(sig));
    const cka_key_t *weak = raw_key(CKA_KTY_OKP, CKA_CRV_ED25519,
        EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, a, sizeof(a)), 0);
    tu_assert_reason(cka_verify_with_key(tu_parsed(forged), weak), CKA_OK,
                     "small-order key built directly verifies the forgery");
    tu_assert_reason(cka_verify_with_key(tu_parsed(forged),
                                         tu_one_key(mint_key(MINT_ED25519, T), NULL)),
                     CKA_BAD_SIGNATURE, "an ordinary key");
    cka_keyset_t *ks = parse(mint_jwks(tu_pool, 2, mint_jwk_okp_raw(tu_pool, a, "\"kid\":\"tiny\""),
        mint_jwk(tu_pool, mint_key(MINT_ED25519, T), "\"kid\":\"good\"")), &err);
    ck_assert_msg(ks != NULL, "%s", cka_err_text(&err));
    ck_assert_int_eq(ks->keys->nelts, 1);
    tu_assert_reason(cka_verify_with_set(tu_parsed(forged), ks, NULL), CKA_UNSUPPORTED_KEY,
                     "forgery under the skipped kid");
    tu_assert_reason(cka_verify_with_set(tu_parsed(forged_nokid), ks, NULL), CKA_BAD_SIGNATURE,
                     "forgery without kid");
    const char *tok = mint_token(tu_pool, mint_key(MINT_ED25519, T), CKA_ALG_EDDSA,
                                 mint_header(tu_pool, "EdDSA", "good", NULL), claims());
    tu_assert_reason(cka_verify_with_set(tu_parsed(tok), ks, NULL), CKA_OK, "good key");
}
END_TEST

/* ---- RFC 7638 thumbprints -------------------------------------------- */
/* RFC 7638 §3.1 and RFC 8037 appendix A.3. */
static const struct { const char *jwk; const char *thumb; } rfc[] = {
    { "{\"kty\":\"RSA\",\"n\":\"0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zw"
      "u1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w"
      "6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbI"
      "SD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awap"
      "JzKnqDKgw\",\"e\":\"AQAB\",\"alg\":\"RS256\",\"kid\":\"2011-04-29\"}",
      "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs" },
    { "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo\"}",
      "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k" },
};

START_TEST(thumbprint_rfc)
{
    cka_err_t err = CKA_ERR_INIT;
    cka_keyset_t *ks = parse(rfc[_i].jwk, &err);
    ck_assert_msg(ks != NULL, "%s", cka_err_text(&err));
    const cka_key_t *k = APR_ARRAY_IDX(ks->keys, 0, const cka_key_t *);
    ck_assert_str_eq(cka_thumb_text(tu_pool, k->thumb), rfc[_i].thumb);
    ck_assert_str_eq(mint_thumbprint(tu_pool, rfc[_i].jwk), rfc[_i].thumb);   /* the oracle */
}
END_TEST

/* Each kind: the thumbprint is mint's, whatever kid / alg / use say, and
 * a PEM of the same key has the same one. */
START_TEST(thumbprint_kinds)
{
    const mint_key_t *mk = mint_key((mint_kind_t)_i, T);
    const char *plain = mint_jwk(tu_pool, mk, NULL);
    const char *dressed = mint_jwk(tu_pool, mk, "\"kid\":\"x\",\"use\":\"sig\"");
    cka_err_t err = CKA_ERR_INIT;
    cka_keyset_t *a = parse(plain, &err), *b = parse(dressed, &err);
    ck_assert_ptr_nonnull(a);
    ck_assert_ptr_nonnull(b);
    const cka_key_t *ka = APR_ARRAY_IDX(a->keys, 0, const cka_key_t *);
    const cka_key_t *kb = APR_ARRAY_IDX(b->keys, 0, const cka_key_t *);
    ck_assert_str_eq(cka_thumb_text(tu_pool, ka->thumb), mint_thumbprint(tu_pool, plain));
    ck_assert_int_eq(memcmp(ka->thumb, kb->thumb, CKA_THUMB_LEN), 0);
    ck_assert_ptr_eq(cka_keyset_find_thumb(b, ka->thumb), kb);
    if (mk->kind != MINT_HMAC) {
        const char *pem = mint_pem_public(tu_pool, mk);
        cka_keyset_t *c = KS_pem(pem, strlen(pem), &err);
        ck_assert_ptr_nonnull(c);
        ck_assert_ptr_nonnull(cka_keyset_find_thumb(c, ka->thumb));
    }
    /* the other copy of the kind is another key */
    cka_keyset_t *o = parse(mint_jwk(tu_pool, mint_key((mint_kind_t)_i, MINT_ATTACKER), NULL), &err);
    ck_assert_ptr_nonnull(o);
    ck_assert_ptr_null(cka_keyset_find_thumb(o, ka->thumb));
}
END_TEST

/* A set that no longer holds a key: NULL; the thumbprint of an n written
 * with a sign byte is the minimal one. */
START_TEST(thumbprint_lookup)
{
    size_t nl;
    const unsigned char *n = mint_rsa_n(tu_pool, mint_key(MINT_RSA, T), &nl);
    unsigned char *n0 = apr_pcalloc(tu_pool, nl + 1);
    static const unsigned char e[] = { 1, 0, 1 };
    cka_err_t err = CKA_ERR_INIT;
    memcpy(n0 + 1, n, nl);
    cka_keyset_t *signed_n = parse(mint_jwk_rsa_raw(tu_pool, n0, nl + 1, e, 3, NULL), &err);
    cka_keyset_t *plain = parse(mint_jwk(tu_pool, mint_key(MINT_RSA, T), NULL), &err);
    cka_keyset_t *rotated = parse(mint_jwks(tu_pool, 2,
        mint_jwk(tu_pool, mint_key(MINT_P256, T), "\"kid\":\"new\""),
        mint_jwk(tu_pool, mint_key(MINT_RSA, MINT_ATTACKER), "\"kid\":\"old\"")), &err);
    const cka_key_t *k = APR_ARRAY_IDX(plain->keys, 0, const cka_key_t *);
    ck_assert_ptr_nonnull(cka_keyset_find_thumb(signed_n, k->thumb));
    ck_assert_ptr_null(cka_keyset_find_thumb(rotated, k->thumb));
    ck_assert_ptr_null(cka_keyset_find_thumb(NULL, k->thumb));
}
END_TEST

/* ---- the skip list and its log line ---------------------------------- */
static const char *e1_jwk(const char *extra)
{
    size_t nl;
    static const unsigned char one[] = { 1 };
    const unsigned char *n = mint_rsa_n(tu_pool, mint_key(MINT_RSA, T), &nl);
    return mint_jwk_rsa_raw(tu_pool, n, nl, one, 1, extra);
}

START_TEST(describe_none)
{
    cka_err_t err = CKA_ERR_INIT;
    cka_keyset_t *ks = parse(mint_jwk(tu_pool, mint_key(MINT_RSA, T), NULL), &err);
    ck_assert_ptr_null(cka_keyset_describe_skips(tu_pool, ks));
    ck_assert_ptr_null(cka_keyset_describe_skips(tu_pool, NULL));
}
END_TEST

static const struct { const char *extra; const char *want; } desc[] = {
    { "\"kid\":\"old\"",
      "1 key skipped: kid \"old\": RSA exponent below 3" },
    { NULL,
      "1 key skipped: (no kid): RSA exponent below 3" },
    { "\"kid\":\"a\\\"b\\\\c\\nd\\u0001\"",
      "1 key skipped: kid \"a\\x22b\\x5cc\\x0ad\\x01\": RSA exponent below 3" },
    { "\"kid\":\"\\u00e9t\\u00e9\"",
      "1 key skipped: kid \"\\xc3\\xa9t\\xc3\\xa9\": RSA exponent below 3" },
    { "\"kid\":\"0123456789012345678901234567890123456789-and-more\"",
      "1 key skipped: kid \"0123456789012345678901234567890123456789...\": RSA exponent below 3" },
};

START_TEST(describe_one)
{
    cka_err_t err = CKA_ERR_INIT;
    const char *good = mint_jwk(tu_pool, mint_key(MINT_P256, T), NULL);
    cka_keyset_t *ks = parse(mint_jwks(tu_pool, 2, e1_jwk(desc[_i].extra), good), &err);
    ck_assert_msg(ks != NULL, "%s", cka_err_text(&err));
    ck_assert_str_eq(cka_keyset_describe_skips(tu_pool, ks), desc[_i].want);
}
END_TEST

/* Many skips: eight named, the rest counted; the cap; no key material. */
START_TEST(describe_many)
{
    cka_err_t err = CKA_ERR_INIT;
    size_t nl;
    const unsigned char *n = mint_rsa_n(tu_pool, mint_key(MINT_RSA, T), &nl);
    const char *n64 = mint_b64url(tu_pool, n, nl);
    apr_array_header_t *parts = apr_array_make(tu_pool, 11, sizeof(char *));
    for (int i = 0; i < 10; i++)
        APR_ARRAY_PUSH(parts, const char *) = e1_jwk(apr_psprintf(tu_pool, "\"kid\":\"w%d\"", i));
    APR_ARRAY_PUSH(parts, const char *) = mint_jwk(tu_pool, mint_key(MINT_P256, T), NULL);
    const char *doc = apr_pstrcat(tu_pool, "{\"keys\":[", apr_array_pstrcat(tu_pool, parts, ','),
                                  "]}", NULL);
    cka_keyset_t *ks = parse(doc, &err);
    ck_assert_msg(ks != NULL, "%s", cka_err_text(&err));
    const char *line = cka_keyset_describe_skips(tu_pool, ks);
    ck_assert_ptr_nonnull(line);
    ck_assert_ptr_nonnull(strstr(line, "10 keys skipped: kid \"w0\": RSA exponent below 3;"));
    ck_assert_ptr_nonnull(strstr(line, "kid \"w7\""));
    ck_assert_ptr_null(strstr(line, "kid \"w8\""));
    ck_assert_ptr_nonnull(strstr(line, "; and 2 more"));
    ck_assert_ptr_null(strstr(line, apr_pstrndup(tu_pool, n64, 16)));
    ck_assert_int_eq(ks->untrusted, 10);
}
END_TEST

/* The cap is applied before parsing: entries past it are counted, never
 * read (a broken or degenerate key there leaves no skip record). */
START_TEST(cap_before_parsing)
{
    cka_err_t err = CKA_ERR_INIT;
    const char *good = mint_jwk(tu_pool, mint_key(MINT_HMAC, T), NULL);
    const char *bad = e1_jwk("\"kid\":\"late\"");
    apr_array_header_t *parts = apr_array_make(tu_pool, CKA_MAX_KEYS + 3, sizeof(char *));
    for (int i = 0; i < CKA_MAX_KEYS; i++)
        APR_ARRAY_PUSH(parts, const char *) = good;
    APR_ARRAY_PUSH(parts, const char *) = bad;
    APR_ARRAY_PUSH(parts, const char *) = "\"not an object\"";
    APR_ARRAY_PUSH(parts, const char *) = good;
    const char *doc = apr_pstrcat(tu_pool, "{\"keys\":[", apr_array_pstrcat(tu_pool, parts, ','),
                                  "]}", NULL);
    cka_keyset_t *ks = parse(doc, &err);
    ck_assert_msg(ks != NULL, "%s", cka_err_text(&err));
    ck_assert_int_eq(ks->keys->nelts, CKA_MAX_KEYS);
    ck_assert_int_eq(ks->skips->nelts, 0);
    ck_assert_int_eq(ks->over_cap, 3);
    ck_assert_int_eq(ks->skipped, 3);
    ck_assert_int_eq(ks->untrusted, 0);
    ck_assert_str_eq(cka_keyset_describe_skips(tu_pool, ks),
                     "3 keys skipped: 3 past the 256-key cap (not read)");
    ck_assert_int_eq(cka_keyset_kid_skipped(ks, "late"), 0);
}
END_TEST

Suite *suite_keysane(void)
{
    Suite *s = suite_create("keysane");
    TCase *tc = tcase_create("rules");
    TCase *th = tcase_create("thumbprints+skips");

    tcase_add_checked_fixture(tc, tu_pool_setup, tu_pool_teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, rsa_rules, 0, TU_NELTS(rsa));
    tcase_add_test(tc, rsa_leading_zeros);
    tcase_add_loop_test(tc, pem_rules, 0, TU_NELTS(pems));
    tcase_add_loop_test(tc, ed25519_small_order, 0, 2 * TU_NELTS(small));
    tcase_add_test(tc, ed25519_neighbours);
    tcase_add_test(tc, forgery_rsa_e1);
    tcase_add_test(tc, forgery_ed25519_small_order);
    suite_add_tcase(s, tc);

    tcase_add_checked_fixture(th, tu_pool_setup, tu_pool_teardown);
    tcase_set_timeout(th, 60);
    tcase_add_loop_test(th, thumbprint_rfc, 0, TU_NELTS(rfc));
    tcase_add_loop_test(th, thumbprint_kinds, 0, MINT_KIND_COUNT);
    tcase_add_test(th, thumbprint_lookup);
    tcase_add_test(th, describe_none);
    tcase_add_loop_test(th, describe_one, 0, TU_NELTS(desc));
    tcase_add_test(th, describe_many);
    tcase_add_test(th, cap_before_parsing);
    suite_add_tcase(s, th);
    return s;
}
