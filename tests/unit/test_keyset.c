/* test_keyset.c - JWK / JWKS / PEM parsing, skipped keys, key fit. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <apr_file_io.h>
#include <apr_strings.h>
#include "suites.h"
#include "mint.h"
#include "keyset.h"
#include "jws.h"
#include "verify.h"
#include "cka_limits.h"
#include <openssl/bn.h>

static const cka_key_t *key_at(const cka_keyset_t *ks, int i)
{
    return APR_ARRAY_IDX(ks->keys, i, const cka_key_t *);
}

static cka_keyset_t *parse_json(const char *doc, cka_err_t *err)
{
    cka_keyset_t *ks = NULL;
    *err = (cka_err_t)CKA_ERR_INIT;
    cka_keyset_parse_json(tu_pool, doc, strlen(doc), &ks, err);
    return ks;
}

static const char *b64_bytes(size_t n, unsigned char fill)
{
    unsigned char buf[128];
    memset(buf, fill, sizeof(buf));
    return mint_b64url(tu_pool, buf, n);
}

/* ---- one JWK of each kind ------------------------------------------- */
static const struct {
    mint_kind_t kind;
    const char *extra;
    const char *kid;
    cka_kty_t kty;
    cka_crv_t crv;
    cka_alg_t alg;
    int bits;            /* 0: not checked */
} one[] = {
    { MINT_RSA,     "\"kid\":\"r\",\"alg\":\"RS256\",\"use\":\"sig\"", "r", CKA_KTY_RSA, CKA_CRV_NONE, CKA_ALG_RS256, 2048 },
    { MINT_RSA,     NULL,                               NULL, CKA_KTY_RSA, CKA_CRV_NONE,    CKA_ALG_UNKNOWN, 2048 },
    { MINT_RSA,     "\"alg\":\"PS512\"",                NULL, CKA_KTY_RSA, CKA_CRV_NONE,    CKA_ALG_PS512,   2048 },
    { MINT_P256,    "\"kid\":\"e1\"",                   "e1", CKA_KTY_EC,  CKA_CRV_P256,    CKA_ALG_UNKNOWN, 0 },
    { MINT_P384,    "\"kid\":\"e2\",\"alg\":\"ES384\"", "e2", CKA_KTY_EC,  CKA_CRV_P384,    CKA_ALG_ES384,   0 },
    { MINT_P521,    "\"use\":\"sig\"",                  NULL, CKA_KTY_EC,  CKA_CRV_P521,    CKA_ALG_UNKNOWN, 0 },
    { MINT_ED25519, "\"kid\":\"ed\",\"alg\":\"EdDSA\"", "ed", CKA_KTY_OKP, CKA_CRV_ED25519, CKA_ALG_EDDSA,   0 },
    { MINT_HMAC,    "\"kid\":\"h\",\"alg\":\"HS256\"",  "h",  CKA_KTY_OCT, CKA_CRV_NONE,    CKA_ALG_HS256,   512 },
    { MINT_RSA,     "\"kid\":\"\"",                     "",   CKA_KTY_RSA, CKA_CRV_NONE,    CKA_ALG_UNKNOWN, 2048 },
    { MINT_RSA,     "\"key_ops\":[\"verify\"],\"x5t\":\"abc\",\"ext\":true", NULL, CKA_KTY_RSA, CKA_CRV_NONE, CKA_ALG_UNKNOWN, 2048 },
};

START_TEST(single_jwk)
{
    cka_err_t err = CKA_ERR_INIT;
    const char *doc = mint_jwk(tu_pool, mint_key(one[_i].kind, MINT_TRUSTED), one[_i].extra);
    cka_keyset_t *ks;
    const cka_key_t *k;
    int wrapped;
    for (wrapped = 0; wrapped < 2; wrapped++) {
        ks = parse_json(wrapped ? mint_jwks(tu_pool, 1, doc) : doc, &err);
        ck_assert_msg(ks != NULL, "row %d: %s", _i, cka_err_text(&err));
        ck_assert_int_eq(ks->keys->nelts, 1);
        ck_assert_int_eq(ks->skipped, 0);
        k = key_at(ks, 0);
        ck_assert_pstr_eq(k->kid, one[_i].kid);
        ck_assert_int_eq(k->kty, one[_i].kty);
        ck_assert_int_eq(k->crv, one[_i].crv);
        ck_assert_int_eq(k->alg, one[_i].alg);
        if (one[_i].bits)
            ck_assert_int_eq(k->bits, one[_i].bits);
        if (one[_i].kty == CKA_KTY_OCT)
            ck_assert_ptr_nonnull(k->secret);
        else
            ck_assert_ptr_nonnull(k->pkey);
    }
}
END_TEST

/* ---- a JWKS with one good key and one to be skipped ----------------- */
#define RSA_PUB(p) mint_jwk((p), mint_key(MINT_RSA, MINT_TRUSTED), NULL)
static const struct { const char *why; int kind; const char *extra; const char *raw; } skip[] = {
    /* kind >= 0: mint_jwk(kind, extra); kind < 0: raw JWK text */
    { "use enc",               MINT_RSA,     "\"use\":\"enc\"",                NULL },
    { "use SIG (case)",        MINT_RSA,     "\"use\":\"SIG\"",                NULL },
    { "use not a string",      MINT_P256,    "\"use\":1",                      NULL },
    { "key_ops encrypt",       MINT_RSA,     "\"key_ops\":[\"encrypt\"]",      NULL },
    { "key_ops sign only",     MINT_P256,    "\"key_ops\":[\"sign\"]",         NULL },
    { "key_ops empty",         MINT_ED25519, "\"key_ops\":[]",                 NULL },
    { "key_ops VERIFY (case)", MINT_RSA,     "\"key_ops\":[\"VERIFY\"]",       NULL },
    { "alg RSA-OAEP",          MINT_RSA,     "\"alg\":\"RSA-OAEP\"",           NULL },
    { "alg none",              MINT_RSA,     "\"alg\":\"none\"",               NULL },
    { "alg ES256 on RSA",      MINT_RSA,     "\"alg\":\"ES256\"",              NULL },
    { "alg ES384 on P-256",    MINT_P256,    "\"alg\":\"ES384\"",              NULL },
    { "alg RS256 on oct",      MINT_HMAC,    "\"alg\":\"RS256\"",              NULL },
    { "kid not a string",      MINT_P384,    "\"kid\":5",                      NULL },
    { "unknown kty",           -1, NULL, "{\"kty\":\"XYZ\",\"kid\":\"x\",\"n\":\"AQAB\"}" },
    { "kty missing",           -1, NULL, "{\"kid\":\"x\",\"crv\":\"P-256\"}" },
    { "kty lower case",        -1, NULL, "{\"kty\":\"rsa\",\"n\":\"AQAB\",\"e\":\"AQAB\"}" },
    { "EC P-192",              -1, NULL, "{\"kty\":\"EC\",\"crv\":\"P-192\",\"x\":\"AAAA\",\"y\":\"AAAA\"}" },
    { "EC secp256k1",          -1, NULL, "{\"kty\":\"EC\",\"crv\":\"secp256k1\",\"x\":\"AAAA\",\"y\":\"AAAA\"}" },
    { "OKP X25519",            -1, NULL, "{\"kty\":\"OKP\",\"crv\":\"X25519\",\"x\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"}" },
    { "OKP Ed448",             -1, NULL, "{\"kty\":\"OKP\",\"crv\":\"Ed448\",\"x\":\"AAAA\"}" },
    { "RSA without n",         -1, NULL, "{\"kty\":\"RSA\",\"e\":\"AQAB\"}" },
    { "EC without y",          -1, NULL, "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"}" },
    { "oct without k",         -1, NULL, "{\"kty\":\"oct\"}" },
    { "not an object",         -1, NULL, "\"a string\"" },
    { "null",                  -1, NULL, "null" },
};

static const char *skip_jwk(int i)
{
    if (skip[i].kind >= 0)
        return mint_jwk(tu_pool, mint_key((mint_kind_t)skip[i].kind, MINT_TRUSTED),
                        skip[i].extra);
    return skip[i].raw;
}

START_TEST(jwks_skips_unusable)
{
    cka_err_t err = CKA_ERR_INIT;
    const char *good = mint_jwk(tu_pool, mint_key(MINT_RSA, MINT_ATTACKER), "\"kid\":\"good\"");
    cka_keyset_t *ks = parse_json(mint_jwks(tu_pool, 2, skip_jwk(_i), good), &err);
    ck_assert_msg(ks != NULL, "%s: %s", skip[_i].why, cka_err_text(&err));
    ck_assert_msg(ks->keys->nelts == 1, "%s: kept %d keys", skip[_i].why, ks->keys->nelts);
    ck_assert_int_eq(ks->skipped, 1);
    ck_assert_int_eq(ks->skips->nelts, 1);
    ck_assert_ptr_nonnull(APR_ARRAY_IDX(ks->skips, 0, cka_key_skip_t).why);
    ck_assert_int_eq(ks->untrusted, 0);
    ck_assert_pstr_eq(key_at(ks, 0)->kid, "good");
}
END_TEST

/* The same key alone: a set with no usable key is an error. */
START_TEST(jwks_all_unusable)
{
    cka_err_t err = CKA_ERR_INIT;
    cka_keyset_t *ks = parse_json(mint_jwks(tu_pool, 1, skip_jwk(_i)), &err);
    ck_assert_msg(ks == NULL, "%s: accepted", skip[_i].why);
    ck_assert_int_eq(err.reason, CKA_KEYSET_INVALID);
    ck_assert_ptr_nonnull(err.detail);
}
END_TEST

/* An EC point that is not on the curve. */
START_TEST(ec_point_off_curve)
{
    cka_err_t err = CKA_ERR_INIT;
    char *jwk = mint_jwk(tu_pool, mint_key(MINT_P256, MINT_TRUSTED), NULL);
    json_t *o = json_loads(jwk, 0, NULL);
    char *bad;
    cka_keyset_t *ks;
    json_object_set_new(o, "y", json_string(b64_bytes(32, 0x11)));
    bad = json_dumps(o, JSON_COMPACT);
    ks = parse_json(mint_jwks(tu_pool, 2, bad, RSA_PUB(tu_pool)), &err);
    free(bad);
    json_decref(o);
    ck_assert_ptr_nonnull(ks);
    ck_assert_int_eq(ks->keys->nelts, 1);
    ck_assert_int_eq(key_at(ks, 0)->kty, CKA_KTY_RSA);
    ck_assert_int_eq(ks->skipped, 1);
}
END_TEST

/* Some IdPs encode n as a signed big-endian integer, with a 0x00 first:
 * still a 2048-bit key that verifies 256-byte signatures. */
START_TEST(rsa_n_sign_byte)
{
    const mint_key_t *rsa = mint_key(MINT_RSA, MINT_TRUSTED);
    json_t *o = json_loads(mint_jwk(tu_pool, rsa, "\"kid\":\"r\""), 0, NULL);
    size_t nl;
    unsigned char *n = apr_palloc(tu_pool, 300);
    char *doc;
    cka_err_t err = CKA_ERR_INIT;
    cka_keyset_t *ks;
    cka_jws_t jws;
    const char *detail, *tok;
    /* decode n through a round trip of mint's own encoder */
    BIGNUM *bn = NULL;
    ck_assert_int_eq(EVP_PKEY_get_bn_param(rsa->pkey, "n", &bn), 1);
    nl = (size_t)BN_num_bytes(bn);
    n[0] = 0x00;
    BN_bn2bin(bn, n + 1);
    BN_free(bn);
    json_object_set_new(o, "n", json_string(mint_b64url(tu_pool, n, nl + 1)));
    doc = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    ks = parse_json(apr_pstrdup(tu_pool, doc), &err);
    free(doc);
    ck_assert_msg(ks != NULL, "%s", cka_err_text(&err));
    ck_assert_int_eq(key_at(ks, 0)->bits, 2048);
    tok = mint_token(tu_pool, rsa, CKA_ALG_RS256, "{\"alg\":\"RS256\",\"kid\":\"r\"}", "{}");
    tu_assert_reason(cka_jws_parse(tu_pool, tok, strlen(tok), &jws, &detail), CKA_OK, "parse");
    tu_assert_reason(cka_verify_with_set(&jws, ks, NULL), CKA_OK, "n with a sign byte");
}
END_TEST

/* ---- documents that are not a key set ------------------------------- */
static const char *const bad_docs[] = {
    "",
    "not json",
    "[]",
    "[{\"kty\":\"oct\",\"k\":\"AAAA\"}]",
    "{}",
    "{\"keys\":[]}",
    "{\"keys\":\"x\"}",
    "{\"keys\":{}}",
    "{\"keys\":null}",
    "{\"keys\":[],\"keys\":[]}",
    "{\"keys\":[{\"kty\":\"RSA\",\"use\":\"enc\",\"n\":\"AQAB\",\"e\":\"AQAB\"}]}",
    "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n",
};

START_TEST(jwks_errors)
{
    cka_err_t err = CKA_ERR_INIT;
    ck_assert_msg(parse_json(bad_docs[_i], &err) == NULL, "accepted: %s", bad_docs[_i]);
    ck_assert_int_eq(err.reason, CKA_KEYSET_INVALID);
}
END_TEST

/* Several keys, same and different kinds, all kept in order. */
START_TEST(jwks_mixed)
{
    cka_err_t err = CKA_ERR_INIT;
    const char *doc = mint_jwks(tu_pool, 7,
        mint_jwk(tu_pool, mint_key(MINT_RSA, 0), "\"kid\":\"a\""),
        mint_jwk(tu_pool, mint_key(MINT_RSA, 1), "\"kid\":\"b\",\"use\":\"enc\""),
        mint_jwk(tu_pool, mint_key(MINT_P256, 0), "\"kid\":\"c\""),
        mint_jwk(tu_pool, mint_key(MINT_ED25519, 0), "\"kid\":\"d\""),
        "{\"kty\":\"WAT\",\"kid\":\"e\"}",
        mint_jwk(tu_pool, mint_key(MINT_HMAC, 0), "\"kid\":\"f\""),
        mint_jwk(tu_pool, mint_key(MINT_P521, 0), "\"kid\":\"g\",\"key_ops\":[\"sign\",\"verify\"]"));
    cka_keyset_t *ks = parse_json(doc, &err);
    static const char *const kids[] = { "a", "c", "d", "f", "g" };
    int i;
    ck_assert_ptr_nonnull(ks);
    ck_assert_int_eq(ks->keys->nelts, 5);
    ck_assert_int_eq(ks->skipped, 2);
    for (i = 0; i < 5; i++)
        ck_assert_pstr_eq(key_at(ks, i)->kid, kids[i]);
}
END_TEST

START_TEST(jwks_key_cap)
{
    cka_err_t err = CKA_ERR_INIT;
    char *doc = "{\"keys\":[";
    cka_keyset_t *ks;
    int i;
    for (i = 0; i < CKA_MAX_KEYS + 44; i++)
        doc = apr_psprintf(tu_pool, "%s%s{\"kty\":\"oct\",\"kid\":\"k%d\",\"k\":\"%s\"}",
                           doc, i ? "," : "", i, b64_bytes(32, (unsigned char)(i % 200 + 1)));
    doc = apr_pstrcat(tu_pool, doc, "]}", NULL);
    ks = parse_json(doc, &err);
    ck_assert_ptr_nonnull(ks);
    ck_assert_int_eq(ks->keys->nelts, CKA_MAX_KEYS);
    ck_assert_int_eq(ks->over_cap, 44);
    ck_assert_int_eq(ks->skipped, 44);
    ck_assert_pstr_eq(key_at(ks, 0)->kid, "k0");
    ck_assert_pstr_eq(key_at(ks, CKA_MAX_KEYS - 1)->kid, "k255");
}
END_TEST

/* Unusable keys inside the cap still count toward it: the cap bounds the
 * entries read, not the keys kept. */
START_TEST(jwks_key_cap_counts_entries)
{
    cka_err_t err = CKA_ERR_INIT;
    char *doc = "{\"keys\":[";
    cka_keyset_t *ks;
    for (int i = 0; i < CKA_MAX_KEYS; i++)
        doc = apr_pstrcat(tu_pool, doc, i ? "," : "", "{\"kty\":\"XYZ\"}", NULL);
    doc = apr_pstrcat(tu_pool, doc, ",", RSA_PUB(tu_pool), "]}", NULL);
    ks = parse_json(doc, &err);
    ck_assert_ptr_null(ks);
    ck_assert_int_eq(err.reason, CKA_KEYSET_INVALID);
}
END_TEST

/* ---- remote sets: no HMAC keys --------------------------------------- */
START_TEST(remote_drops_oct)
{
    cka_err_t err = CKA_ERR_INIT;
    const char *doc = mint_jwks(tu_pool, 2,
        mint_jwk(tu_pool, mint_key(MINT_HMAC, MINT_TRUSTED), "\"kid\":\"h\""),
        mint_jwk(tu_pool, mint_key(MINT_P256, MINT_TRUSTED), "\"kid\":\"e\""));
    cka_keyset_t *local = KS_json(doc, strlen(doc), &err);
    cka_keyset_t *remote = KS_remote(doc, strlen(doc), &err);
    ck_assert_ptr_nonnull(local);
    ck_assert_int_eq(local->keys->nelts, 2);
    ck_assert_ptr_nonnull(remote);
    ck_assert_int_eq(remote->keys->nelts, 1);
    ck_assert_int_eq(key_at(remote, 0)->kty, CKA_KTY_EC);
    ck_assert_int_eq(remote->skipped, 1);
    ck_assert_pstr_eq(APR_ARRAY_IDX(remote->skips, 0, cka_key_skip_t).kid, "h");
    ck_assert_int_eq(APR_ARRAY_IDX(remote->skips, 0, cka_key_skip_t).reason, CKA_KEY_UNUSABLE);
    ck_assert_str_eq(APR_ARRAY_IDX(remote->skips, 0, cka_key_skip_t).why,
                     "oct (HMAC) key in a remote key set");
    ck_assert_int_eq(cka_keyset_kid_skipped(remote, "h"), 1);
    /* only oct keys: no usable key */
    doc = mint_jwks(tu_pool, 1, mint_jwk(tu_pool, mint_key(MINT_HMAC, MINT_TRUSTED), NULL));
    ck_assert_ptr_null(KS_remote(doc, strlen(doc), &err));
    ck_assert_int_eq(err.reason, CKA_KEYSET_INVALID);
    ck_assert_ptr_nonnull(strstr(err.detail, "oct (HMAC) key in a remote key set"));
    /* a broken oct key is not even decoded: the same reason */
    doc = "{\"keys\":[{\"kty\":\"oct\",\"k\":\"!!\"}]}";
    ck_assert_ptr_null(KS_remote(doc, strlen(doc), &err));
    ck_assert_int_eq(err.reason, CKA_KEYSET_INVALID);
    ck_assert_ptr_nonnull(strstr(err.detail, "oct (HMAC) key in a remote key set"));
    /* drop_kty (until key_store.c uses parse_remote) records its skips */
    ck_assert_int_eq(cka_keyset_drop_kty(local, CKA_KTY_OCT), 1);
    ck_assert_int_eq(local->keys->nelts, 1);
    ck_assert_int_eq(local->skipped, 1);
    ck_assert_int_eq(local->skips->nelts, 1);
}
END_TEST

/* An HMAC secret is a byte string, not a big integer: a leading zero byte
 * counts (a random 32-byte secret starts with 0x00 once in 256). */
static const struct { size_t len; int bits; unsigned fits; } octz[] = {
    { 32, 256, CKA_ALG_BIT(CKA_ALG_HS256) },
    { 48, 384, CKA_ALG_BIT(CKA_ALG_HS256) | CKA_ALG_BIT(CKA_ALG_HS384) },
    { 64, 512, CKA_ALG_BIT(CKA_ALG_HS256) | CKA_ALG_BIT(CKA_ALG_HS384) | CKA_ALG_BIT(CKA_ALG_HS512) },
};

START_TEST(oct_leading_zero)
{
    unsigned char secret[64];
    cka_err_t err = CKA_ERR_INIT;
    cka_keyset_t *ks;
    int a;
    memset(secret, 0x5a, sizeof(secret));
    secret[0] = 0x00;
    ks = parse_json(apr_psprintf(tu_pool, "{\"kty\":\"oct\",\"kid\":\"z\",\"k\":\"%s\"}",
                                 mint_b64url(tu_pool, secret, octz[_i].len)), &err);
    ck_assert_msg(ks != NULL, "%d-byte secret starting with 0x00 refused: %s",
                  (int)octz[_i].len, cka_err_text(&err));
    ck_assert_int_eq(key_at(ks, 0)->bits, octz[_i].bits);
    for (a = CKA_ALG_HS256; a <= CKA_ALG_HS512; a++)
        ck_assert_msg(!!cka_key_fits_alg(key_at(ks, 0), (cka_alg_t)a) ==
                      ((octz[_i].fits & CKA_ALG_BIT(a)) != 0),
                      "%d-byte secret starting with 0x00 and %s", (int)octz[_i].len,
                      mint_alg_name((cka_alg_t)a));
}
END_TEST

/* ---- PEM ------------------------------------------------------------ */
enum { PEM_PUB, PEM_CERT, PEM_PKCS1 };
static const struct { mint_kind_t kind; int form; cka_kty_t kty; cka_crv_t crv; cka_alg_t alg; } pems[] = {
    { MINT_RSA,     PEM_PUB,   CKA_KTY_RSA, CKA_CRV_NONE,    CKA_ALG_RS256 },
    { MINT_RSA,     PEM_PKCS1, CKA_KTY_RSA, CKA_CRV_NONE,    CKA_ALG_PS256 },
    { MINT_RSA,     PEM_CERT,  CKA_KTY_RSA, CKA_CRV_NONE,    CKA_ALG_RS512 },
    { MINT_P256,    PEM_PUB,   CKA_KTY_EC,  CKA_CRV_P256,    CKA_ALG_ES256 },
    { MINT_P256,    PEM_CERT,  CKA_KTY_EC,  CKA_CRV_P256,    CKA_ALG_ES256 },
    { MINT_P384,    PEM_PUB,   CKA_KTY_EC,  CKA_CRV_P384,    CKA_ALG_ES384 },
    { MINT_P521,    PEM_PUB,   CKA_KTY_EC,  CKA_CRV_P521,    CKA_ALG_ES512 },
    { MINT_P521,    PEM_CERT,  CKA_KTY_EC,  CKA_CRV_P521,    CKA_ALG_ES512 },
    { MINT_ED25519, PEM_PUB,   CKA_KTY_OKP, CKA_CRV_ED25519, CKA_ALG_EDDSA },
    { MINT_ED25519, PEM_CERT,  CKA_KTY_OKP, CKA_CRV_ED25519, CKA_ALG_EDDSA },
};

static const char *pem_text(int i)
{
    const mint_key_t *k = mint_key(pems[i].kind, MINT_TRUSTED);
    switch (pems[i].form) {
    case PEM_CERT:  return mint_pem_cert(tu_pool, k);
    case PEM_PKCS1: return mint_pem_rsa_pkcs1(tu_pool, k);
    default:        return mint_pem_public(tu_pool, k);
    }
}

/* A PEM key is parsed, has the right type, and verifies a real token. */
START_TEST(pem_keys)
{
    cka_err_t err = CKA_ERR_INIT;
    const char *pem = pem_text(_i);
    cka_keyset_t *ks = KS_pem(pem, strlen(pem), &err);
    const char *tok;
    cka_jws_t jws;
    const char *detail;
    if (pems[_i].form == PEM_PKCS1)
        ck_assert_ptr_nonnull(strstr(pem, "BEGIN RSA PUBLIC KEY"));
    ck_assert_msg(ks != NULL, "row %d: %s", _i, cka_err_text(&err));
    ck_assert_int_eq(ks->keys->nelts, 1);
    ck_assert_ptr_null(key_at(ks, 0)->kid);
    ck_assert_int_eq(key_at(ks, 0)->kty, pems[_i].kty);
    ck_assert_int_eq(key_at(ks, 0)->crv, pems[_i].crv);
    ck_assert_int_eq(key_at(ks, 0)->alg, CKA_ALG_UNKNOWN);

    tok = mint_token(tu_pool, mint_key(pems[_i].kind, MINT_TRUSTED), pems[_i].alg,
                     apr_psprintf(tu_pool, "{\"alg\":\"%s\"}", mint_alg_name(pems[_i].alg)),
                     "{\"sub\":\"x\"}");
    ck_assert_ptr_nonnull(tok);
    tu_assert_reason(cka_jws_parse(tu_pool, tok, strlen(tok), &jws, &detail), CKA_OK, "parse");
    tu_assert_reason(cka_verify_with_set(&jws, ks, NULL), CKA_OK, "verify with PEM key");
    /* and the attacker's token does not */
    tok = mint_token(tu_pool, mint_key(pems[_i].kind, MINT_ATTACKER), pems[_i].alg,
                     apr_psprintf(tu_pool, "{\"alg\":\"%s\"}", mint_alg_name(pems[_i].alg)),
                     "{\"sub\":\"x\"}");
    tu_assert_reason(cka_jws_parse(tu_pool, tok, strlen(tok), &jws, &detail), CKA_OK, "parse");
    tu_assert_reason(cka_verify_with_set(&jws, ks, NULL), CKA_BAD_SIGNATURE, "attacker");
}
END_TEST

START_TEST(pem_errors)
{
    cka_err_t err = CKA_ERR_INIT;
    const char *pub = mint_pem_public(tu_pool, mint_key(MINT_RSA, MINT_TRUSTED));
    const char *cert = mint_pem_cert(tu_pool, mint_key(MINT_P256, MINT_TRUSTED));
    const char *bad[] = {
        "",
        "garbage",
        "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n",
        "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
        apr_pstrndup(tu_pool, pub, strlen(pub) / 2),      /* truncated */
        apr_pstrndup(tu_pool, cert, strlen(cert) / 2),
        mint_jwks(tu_pool, 1, RSA_PUB(tu_pool)),           /* JSON, not PEM */
    };
    int i;
    for (i = 0; i < TU_NELTS(bad); i++) {
        ck_assert_msg(KS_pem(bad[i], strlen(bad[i]), &err) == NULL,
                      "PEM row %d accepted", i);
        ck_assert_int_eq(err.reason, CKA_KEYSET_INVALID);
    }
}
END_TEST

/* ---- files ---------------------------------------------------------- */
static const char *write_temp(const char *text, size_t len)
{
    const char *dir;
    char *path;
    apr_file_t *f;
    apr_size_t n = len;
    ck_assert_int_eq(apr_temp_dir_get(&dir, tu_pool), APR_SUCCESS);
    path = apr_pstrcat(tu_pool, dir, "/cka-unit-XXXXXX", NULL);
    ck_assert_int_eq(apr_file_mktemp(&f, path, APR_FOPEN_CREATE | APR_FOPEN_READ |
                                     APR_FOPEN_WRITE | APR_FOPEN_EXCL, tu_pool),
                     APR_SUCCESS);
    ck_assert_int_eq(apr_file_write_full(f, text, len, &n), APR_SUCCESS);
    apr_file_close(f);
    return path;
}

static const struct { const char *what; int ok; cka_kty_t kty; } files[] = {
    { "jwks",            1, CKA_KTY_RSA },
    { "jwks-leading-ws", 1, CKA_KTY_RSA },
    { "single-jwk",      1, CKA_KTY_EC  },
    { "pem-public",      1, CKA_KTY_EC  },
    { "pem-cert",        1, CKA_KTY_RSA },
    { "empty",           0, 0 },
    { "garbage",         0, 0 },
    { "over-1MiB",       0, 0 },
    { "missing",         0, 0 },
};

START_TEST(load_file)
{
    const char *rsa = RSA_PUB(tu_pool);
    const char *ec = mint_jwk(tu_pool, mint_key(MINT_P256, MINT_TRUSTED), NULL);
    const char *text = NULL, *path;
    size_t len;
    cka_err_t err = CKA_ERR_INIT;
    cka_keyset_t *ks;
    switch (_i) {
    case 0: text = mint_jwks(tu_pool, 1, rsa); break;
    case 1: text = apr_pstrcat(tu_pool, "\n  \r\n\t", mint_jwks(tu_pool, 1, rsa), "\n", NULL); break;
    case 2: text = ec; break;
    case 3: text = mint_pem_public(tu_pool, mint_key(MINT_P256, MINT_TRUSTED)); break;
    case 4: text = mint_pem_cert(tu_pool, mint_key(MINT_RSA, MINT_TRUSTED)); break;
    case 5: text = ""; break;
    case 6: text = "\x01\x02 not a key"; break;
    case 7: {
        char *big = apr_palloc(tu_pool, CKA_MAX_DOC_LEN + 2);
        const char *jw = mint_jwks(tu_pool, 1, rsa);
        memset(big, ' ', CKA_MAX_DOC_LEN + 1);
        memcpy(big, jw, strlen(jw));          /* valid JSON, then spaces */
        big[CKA_MAX_DOC_LEN + 1] = '\0';
        text = big;
        break;
    }
    default: break;
    }
    if (text) {
        len = strlen(text);
        path = write_temp(text, len);
    } else {
        path = "/nonexistent/cka-unit/keys.json";
    }
    ks = KS_file(path, &err);
    if (text)
        unlink(path);
    if (files[_i].ok) {
        ck_assert_msg(ks != NULL, "%s: %s", files[_i].what, cka_err_text(&err));
        ck_assert_int_eq(ks->keys->nelts, 1);
        ck_assert_int_eq(key_at(ks, 0)->kty, files[_i].kty);
    } else {
        ck_assert_msg(ks == NULL, "%s: accepted", files[_i].what);
        ck_assert_msg(err.reason == CKA_FILE_UNREADABLE || err.reason == CKA_KEYSET_INVALID,
                      "%s: %s", files[_i].what, cka_reason_code(err.reason));
    }
}
END_TEST

/* ---- does an alg fit a key ------------------------------------------ */
#define B(a) CKA_ALG_BIT(CKA_ALG_##a)
#define RSA_ALL (B(RS256) | B(RS384) | B(RS512) | B(PS256) | B(PS384) | B(PS512))
static const struct { const char *what; int kind; const char *extra; int oct_bytes; unsigned fits; } fit[] = {
    { "RSA",                MINT_RSA,     NULL,               0, RSA_ALL },
    { "RSA alg RS256",      MINT_RSA,     "\"alg\":\"RS256\"", 0, B(RS256) },
    { "RSA alg PS384",      MINT_RSA,     "\"alg\":\"PS384\"", 0, B(PS384) },
    { "P-256",              MINT_P256,    NULL,               0, B(ES256) },
    { "P-256 alg ES256",    MINT_P256,    "\"alg\":\"ES256\"", 0, B(ES256) },
    { "P-384",              MINT_P384,    NULL,               0, B(ES384) },
    { "P-521",              MINT_P521,    NULL,               0, B(ES512) },
    { "Ed25519",            MINT_ED25519, NULL,               0, B(EDDSA) },
    { "oct 512 bits",       MINT_HMAC,    NULL,               0, B(HS256) | B(HS384) | B(HS512) },
    { "oct 512 alg HS384",  MINT_HMAC,    "\"alg\":\"HS384\"", 0, B(HS384) },
    /* RFC 7518 §3.2: an HMAC key at least as long as the hash output */
    { "oct 384 bits",       -1, NULL, 48, B(HS256) | B(HS384) },
    { "oct 256 bits",       -1, NULL, 32, B(HS256) },
    { "oct 128 bits",       -1, NULL, 16, 0 },
};

START_TEST(key_fits_alg)
{
    cka_err_t err = CKA_ERR_INIT;
    const char *jwk = fit[_i].kind >= 0
        ? mint_jwk(tu_pool, mint_key((mint_kind_t)fit[_i].kind, MINT_TRUSTED), fit[_i].extra)
        : apr_psprintf(tu_pool, "{\"kty\":\"oct\",\"k\":\"%s\"}",
                       b64_bytes((size_t)fit[_i].oct_bytes, 0x5a));
    cka_keyset_t *ks = parse_json(jwk, &err);
    int a;
    if (fit[_i].fits == 0 && ks == NULL)
        return;   /* a key that fits nothing may as well be skipped */
    ck_assert_msg(ks != NULL, "%s: %s", fit[_i].what, cka_err_text(&err));
    for (a = CKA_ALG_UNKNOWN; a < CKA_ALG_COUNT; a++) {
        int want = (fit[_i].fits & CKA_ALG_BIT(a)) != 0;
        ck_assert_msg(!!cka_key_fits_alg(key_at(ks, 0), (cka_alg_t)a) == want,
                      "%s with %s: expected %s", fit[_i].what,
                      mint_alg_name((cka_alg_t)a), want ? "fits" : "does not fit");
    }
}
END_TEST

Suite *suite_keyset(void)
{
    Suite *s = suite_create("keyset");
    TCase *tc = tcase_create("jwks");
    TCase *pem = tcase_create("pem+file");
    TCase *fits = tcase_create("fits");

    tcase_add_checked_fixture(tc, tu_pool_setup, tu_pool_teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_loop_test(tc, single_jwk, 0, TU_NELTS(one));
    tcase_add_loop_test(tc, jwks_skips_unusable, 0, TU_NELTS(skip));
    tcase_add_loop_test(tc, jwks_all_unusable, 0, TU_NELTS(skip));
    tcase_add_test(tc, ec_point_off_curve);
    tcase_add_test(tc, rsa_n_sign_byte);
    tcase_add_loop_test(tc, jwks_errors, 0, TU_NELTS(bad_docs));
    tcase_add_test(tc, jwks_mixed);
    tcase_add_test(tc, jwks_key_cap);
    tcase_add_test(tc, jwks_key_cap_counts_entries);
    tcase_add_test(tc, remote_drops_oct);
    suite_add_tcase(s, tc);

    tcase_add_checked_fixture(pem, tu_pool_setup, tu_pool_teardown);
    tcase_set_timeout(pem, 30);
    tcase_add_loop_test(pem, pem_keys, 0, TU_NELTS(pems));
    tcase_add_test(pem, pem_errors);
    tcase_add_loop_test(pem, load_file, 0, TU_NELTS(files));
    suite_add_tcase(s, pem);

    tcase_add_checked_fixture(fits, tu_pool_setup, tu_pool_teardown);
    tcase_add_loop_test(fits, key_fits_alg, 0, TU_NELTS(fit));
    tcase_add_loop_test(fits, oct_leading_zero, 0, TU_NELTS(octz));
    suite_add_tcase(s, fits);
    return s;
}
