/* test_verify.c - signatures per algorithm family, key fit, key choice. */
#include <stdarg.h>
#include <string.h>
#include <apr_strings.h>
#include "suites.h"
#include "mint.h"
#include "jws.h"
#include "keyset.h"
#include "verify.h"

#define T MINT_TRUSTED
#define A MINT_ATTACKER

static const cka_alg_t fam[] = {
    CKA_ALG_RS256, CKA_ALG_RS384, CKA_ALG_RS512,
    CKA_ALG_PS256, CKA_ALG_PS384, CKA_ALG_PS512,
    CKA_ALG_ES256, CKA_ALG_ES384, CKA_ALG_ES512,
    CKA_ALG_EDDSA,
    CKA_ALG_HS256, CKA_ALG_HS384, CKA_ALG_HS512,
};
#define NFAM TU_NELTS(fam)

/* A key set from JWK texts; aborts the test when it does not parse. */
static cka_keyset_t *set_of(int n, ...)
{
    va_list ap;
    char *doc = "{\"keys\":[", *err = NULL;
    cka_keyset_t *ks;
    int i;
    va_start(ap, n);
    for (i = 0; i < n; i++)
        doc = apr_pstrcat(tu_pool, doc, i ? "," : "", va_arg(ap, const char *), NULL);
    va_end(ap);
    doc = apr_pstrcat(tu_pool, doc, "]}", NULL);
    ks = cka_keyset_parse_json(tu_pool, doc, strlen(doc), &err);
    ck_assert_msg(ks != NULL, "key set: %s", err ? err : "");
    return ks;
}

static const char *hdr_for(cka_alg_t alg, const char *kid)
{
    return mint_header(tu_pool, mint_alg_name(alg), kid, NULL);
}

static const char *payload(void)
{
    return mint_claims(tu_pool, "https://idp.example.com", "\"api\"", 600, NULL);
}

/* ---- every family x every tampering --------------------------------- */
typedef enum {
    TM_NONE, TM_FLIP_FIRST, TM_FLIP_MID, TM_FLIP_LAST, TM_TRUNC1, TM_EXTEND1,
    TM_HALF, TM_ZEROS, TM_EMPTYISH, TM_ATTACKER, TM_PAYLOAD, TM_HEADER,
    TM_OTHER_SIG, TM_COUNT
} tamper_t;
static const struct { const char *name; cka_reason_t want; } tampers[TM_COUNT] = {
    [TM_NONE]       = { "untouched",                     CKA_OK            },
    [TM_FLIP_FIRST] = { "first signature byte flipped",  CKA_BAD_SIGNATURE },
    [TM_FLIP_MID]   = { "middle signature byte flipped", CKA_BAD_SIGNATURE },
    [TM_FLIP_LAST]  = { "last signature byte flipped",   CKA_BAD_SIGNATURE },
    [TM_TRUNC1]     = { "signature one byte short",      CKA_BAD_SIGNATURE },
    [TM_EXTEND1]    = { "signature one byte longer",     CKA_BAD_SIGNATURE },
    [TM_HALF]       = { "signature truncated to half",   CKA_BAD_SIGNATURE },
    [TM_ZEROS]      = { "signature all zero bytes",      CKA_BAD_SIGNATURE },
    [TM_EMPTYISH]   = { "signature of one byte",         CKA_BAD_SIGNATURE },
    [TM_ATTACKER]   = { "signed by the attacker's key",  CKA_BAD_SIGNATURE },
    [TM_PAYLOAD]    = { "payload swapped",               CKA_BAD_SIGNATURE },
    [TM_HEADER]     = { "header swapped",                CKA_BAD_SIGNATURE },
    [TM_OTHER_SIG]  = { "signature of another token",    CKA_BAD_SIGNATURE },
};

START_TEST(family_tamper)
{
    cka_alg_t alg = fam[_i % NFAM];
    tamper_t tm = (tamper_t)(_i / NFAM);
    const mint_key_t *k = mint_key(mint_kind_for_alg(alg), T);
    const char *tok = mint_token(tu_pool, k, alg, hdr_for(alg, "k1"), payload());
    const char *other = mint_token(tu_pool, k, alg, hdr_for(alg, "k1"),
                                   "{\"sub\":\"admin\",\"exp\":9999999999}");
    const size_t n = mint_sig_len(alg);
    unsigned char *zeros = apr_pcalloc(tu_pool, n);
    char ctx[128];

    ck_assert_ptr_nonnull(tok);
    switch (tm) {
    case TM_NONE:       break;
    case TM_FLIP_FIRST: tok = mint_flip_sig(tu_pool, tok, 0); break;
    case TM_FLIP_MID:   tok = mint_flip_sig(tu_pool, tok, (long)n / 2); break;
    case TM_FLIP_LAST:  tok = mint_flip_sig(tu_pool, tok, -1); break;
    case TM_TRUNC1:     tok = mint_resize_sig(tu_pool, tok, -1); break;
    case TM_EXTEND1:    tok = mint_resize_sig(tu_pool, tok, 1); break;
    case TM_HALF:       tok = mint_resize_sig(tu_pool, tok, -(long)n / 2); break;
    case TM_ZEROS:      tok = mint_set_sig(tu_pool, tok, zeros, n); break;
    case TM_EMPTYISH:   tok = mint_set_sig(tu_pool, tok, zeros, 1); break;
    case TM_ATTACKER:
        tok = mint_token(tu_pool, mint_key(mint_kind_for_alg(alg), A), alg,
                         hdr_for(alg, "k1"), payload());
        break;
    case TM_PAYLOAD:
        tok = mint_set_segment(tu_pool, tok, 1, mint_segment(tu_pool, other, 1));
        break;
    case TM_HEADER:
        tok = mint_set_segment(tu_pool, tok, 0,
                               mint_b64url_str(tu_pool, hdr_for(alg, "k2")));
        break;
    case TM_OTHER_SIG:
        tok = mint_set_segment(tu_pool, tok, 2, mint_segment(tu_pool, other, 2));
        break;
    default: break;
    }
    apr_snprintf(ctx, sizeof(ctx), "%s, %s", mint_alg_name(alg), tampers[tm].name);
    tu_assert_reason(cka_verify_with_key(tu_parsed(tok), tu_one_key(k, "\"kid\":\"k1\"")),
                     tampers[tm].want, ctx);
}
END_TEST

/* ---- signatures in the wrong form ----------------------------------- */
/* ES: JOSE wants raw r||s of exactly 2 x coordinate size. */
static const unsigned char p256_n[32] = {
    0xFF, 0xFF, 0xFF, 0xFF, 0x00, 0x00, 0x00, 0x00, 0xFF, 0xFF, 0xFF, 0xFF,
    0xFF, 0xFF, 0xFF, 0xFF, 0xBC, 0xE6, 0xFA, 0xAD, 0xA7, 0x17, 0x9E, 0x84,
    0xF3, 0xB9, 0xCA, 0xC2, 0xFC, 0x63, 0x25, 0x51
};

typedef enum { SF_RS0, SF_N, SF_DER, SF_SWAP, SF_R0, SF_S0, SF_FF, SF_PAD0,
               SF_HASH, SF_PADDING, SF_HMAC_TRUNC } sigform_t;
static const struct { const char *name; cka_alg_t alg; sigform_t form; } forms[] = {
    { "ES256 r = s = 0",            CKA_ALG_ES256, SF_RS0 },
    { "ES384 r = s = 0",            CKA_ALG_ES384, SF_RS0 },
    { "ES512 r = s = 0",            CKA_ALG_ES512, SF_RS0 },
    { "ES256 r = s = n",            CKA_ALG_ES256, SF_N },
    { "ES256 DER signature",        CKA_ALG_ES256, SF_DER },
    { "ES384 DER signature",        CKA_ALG_ES384, SF_DER },
    { "ES512 DER signature",        CKA_ALG_ES512, SF_DER },
    { "ES256 s || r",               CKA_ALG_ES256, SF_SWAP },
    { "ES256 r = 0",                CKA_ALG_ES256, SF_R0 },
    { "ES256 s = 0",                CKA_ALG_ES256, SF_S0 },
    { "ES256 all 0xff",             CKA_ALG_ES256, SF_FF },
    { "ES256 leading zero added",   CKA_ALG_ES256, SF_PAD0 },
    { "RS256 leading zero added",   CKA_ALG_RS256, SF_PAD0 },
    { "EdDSA leading zero added",   CKA_ALG_EDDSA, SF_PAD0 },
    { "RS256 header, RS384 hash",   CKA_ALG_RS256, SF_HASH },
    { "RS512 header, RS384 hash",   CKA_ALG_RS512, SF_HASH },
    { "ES256 header, SHA-384 hash", CKA_ALG_ES256, SF_HASH },
    { "HS256 header, HS384 mac",    CKA_ALG_HS256, SF_HASH },
    { "PS256 header, RS256 pad",    CKA_ALG_PS256, SF_PADDING },
    { "RS256 header, PS256 pad",    CKA_ALG_RS256, SF_PADDING },
    { "HS256 mac truncated to 16",  CKA_ALG_HS256, SF_HMAC_TRUNC },
    { "HS512 mac truncated to 32",  CKA_ALG_HS512, SF_HMAC_TRUNC },
};

START_TEST(wrong_signature_form)
{
    cka_alg_t alg = forms[_i].alg;
    const mint_key_t *k = mint_key(mint_kind_for_alg(alg), T);
    const char *hdr = hdr_for(alg, NULL), *pl = payload();
    const char *tok = mint_token(tu_pool, k, alg, hdr, pl);
    size_t n = mint_sig_len(alg), half = n / 2, len;
    unsigned char *sig = mint_sig_bytes(tu_pool, tok, &len);
    unsigned char *buf = apr_pcalloc(tu_pool, n + 1);

    switch (forms[_i].form) {
    case SF_RS0:  tok = mint_set_sig(tu_pool, tok, buf, n); break;
    case SF_N:
        memcpy(buf, p256_n, 32);
        memcpy(buf + 32, p256_n, 32);
        tok = mint_set_sig(tu_pool, tok, buf, n);
        break;
    case SF_DER:  tok = mint_token_der(tu_pool, k, alg, hdr, pl); break;
    case SF_SWAP:
        memcpy(buf, sig + half, half);
        memcpy(buf + half, sig, half);
        tok = mint_set_sig(tu_pool, tok, buf, n);
        break;
    case SF_R0:
        memcpy(buf + half, sig + half, half);
        tok = mint_set_sig(tu_pool, tok, buf, n);
        break;
    case SF_S0:
        memcpy(buf, sig, half);
        tok = mint_set_sig(tu_pool, tok, buf, n);
        break;
    case SF_FF:
        memset(buf, 0xff, n);
        tok = mint_set_sig(tu_pool, tok, buf, n);
        break;
    case SF_PAD0:
        memcpy(buf + 1, sig, n);
        tok = mint_set_sig(tu_pool, tok, buf, n + 1);
        break;
    case SF_HASH: {
        cka_alg_t other = alg == CKA_ALG_RS256 ? CKA_ALG_RS384
                        : alg == CKA_ALG_RS512 ? CKA_ALG_RS384
                        : alg == CKA_ALG_HS256 ? CKA_ALG_HS384 : CKA_ALG_ES384;
        const mint_key_t *signer = alg == CKA_ALG_ES256 ? NULL : k;
        if (signer) {
            tok = mint_token(tu_pool, signer, other, hdr, pl);
        } else {
            /* SHA-384 over the input, signed with the P-256 key: build by
             * hand, since mint picks the hash from the alg. */
            const char *input = apr_pstrcat(tu_pool, mint_b64url_str(tu_pool, hdr), ".",
                                            mint_b64url_str(tu_pool, pl), NULL);
            unsigned char dg[48];
            unsigned int dl = 0;
            EVP_MD_CTX *c = EVP_MD_CTX_new();
            EVP_DigestInit_ex(c, EVP_sha384(), NULL);
            EVP_DigestUpdate(c, input, strlen(input));
            EVP_DigestFinal_ex(c, dg, &dl);
            EVP_MD_CTX_free(c);
            /* sign the 48-byte digest as a message with ES256: the verifier
             * hashes the input with SHA-256, so this cannot verify */
            ck_assert_int_eq(mint_sign(tu_pool, k, alg, dg, dl, 0, &sig, &len), 0);
            tok = mint_set_sig(tu_pool, tok, sig, len);
        }
        if (alg == CKA_ALG_HS256)   /* HS384 is 48 bytes: keep the length right */
            tok = mint_resize_sig(tu_pool, tok, -16);
        break;
    }
    case SF_PADDING:
        tok = mint_token(tu_pool, k, alg == CKA_ALG_PS256 ? CKA_ALG_RS256 : CKA_ALG_PS256,
                         hdr, pl);
        break;
    case SF_HMAC_TRUNC:
        tok = mint_resize_sig(tu_pool, tok, -(long)half);
        break;
    }
    tu_assert_reason(cka_verify_with_key(tu_parsed(tok), tu_one_key(k, NULL)),
                     CKA_BAD_SIGNATURE, forms[_i].name);
}
END_TEST

/* ---- key does not fit the token's alg -------------------------------- */
static const struct { cka_alg_t alg; mint_kind_t key; const char *jwk_alg; cka_reason_t want; } fits[] = {
    { CKA_ALG_PS256, MINT_RSA,     "\"alg\":\"RS256\"", CKA_KEY_MISMATCH },  /* PS token, RS256 JWK */
    { CKA_ALG_RS384, MINT_RSA,     "\"alg\":\"RS256\"", CKA_KEY_MISMATCH },
    { CKA_ALG_RS256, MINT_RSA,     "\"alg\":\"PS256\"", CKA_KEY_MISMATCH },
    { CKA_ALG_RS256, MINT_RSA,     "\"alg\":\"RS256\"", CKA_OK           },
    { CKA_ALG_PS384, MINT_RSA,     "\"alg\":\"PS384\"", CKA_OK           },
    { CKA_ALG_ES256, MINT_P256,    "\"alg\":\"ES256\"", CKA_OK           },
    { CKA_ALG_HS256, MINT_HMAC,    "\"alg\":\"HS256\"", CKA_OK           },
    { CKA_ALG_HS384, MINT_HMAC,    "\"alg\":\"HS256\"", CKA_KEY_MISMATCH },
    { CKA_ALG_RS256, MINT_P256,    NULL,                CKA_KEY_MISMATCH },
    { CKA_ALG_PS256, MINT_ED25519, NULL,                CKA_KEY_MISMATCH },
    { CKA_ALG_RS256, MINT_HMAC,    NULL,                CKA_KEY_MISMATCH },
    { CKA_ALG_ES256, MINT_RSA,     NULL,                CKA_KEY_MISMATCH },
    { CKA_ALG_ES256, MINT_P384,    NULL,                CKA_KEY_MISMATCH },
    { CKA_ALG_ES384, MINT_P256,    NULL,                CKA_KEY_MISMATCH },
    { CKA_ALG_ES512, MINT_P384,    NULL,                CKA_KEY_MISMATCH },
    { CKA_ALG_ES256, MINT_P521,    NULL,                CKA_KEY_MISMATCH },
    { CKA_ALG_ES256, MINT_ED25519, NULL,                CKA_KEY_MISMATCH },
    { CKA_ALG_EDDSA, MINT_P256,    NULL,                CKA_KEY_MISMATCH },
    { CKA_ALG_EDDSA, MINT_RSA,     NULL,                CKA_KEY_MISMATCH },
    { CKA_ALG_EDDSA, MINT_HMAC,    NULL,                CKA_KEY_MISMATCH },
    { CKA_ALG_HS256, MINT_RSA,     NULL,                CKA_KEY_MISMATCH },
    { CKA_ALG_HS256, MINT_P256,    NULL,                CKA_KEY_MISMATCH },
    { CKA_ALG_HS512, MINT_ED25519, NULL,                CKA_KEY_MISMATCH },
};

START_TEST(key_fit)
{
    const mint_key_t *signer = mint_key(mint_kind_for_alg(fits[_i].alg), T);
    const char *tok = mint_token(tu_pool, signer, fits[_i].alg,
                                 hdr_for(fits[_i].alg, NULL), payload());
    char ctx[96];
    apr_snprintf(ctx, sizeof(ctx), "row %d: %s token", _i, mint_alg_name(fits[_i].alg));
    tu_assert_reason(cka_verify_with_key(tu_parsed(tok),
                                         tu_one_key(mint_key(fits[_i].key, T), fits[_i].jwk_alg)),
                     fits[_i].want, ctx);
}
END_TEST

/* The classic confusion: HS256 keyed with the RSA public key's bytes. */
START_TEST(hs256_with_rsa_public_key)
{
    const mint_key_t *rsa = mint_key(MINT_RSA, T);
    const char *pem = mint_pem_public(tu_pool, rsa);
    const char *jwk = mint_jwk(tu_pool, rsa, NULL);
    size_t dl;
    const unsigned char *der = mint_spki_der(tu_pool, rsa, &dl);
    const char *secrets[3];
    size_t lens[3];
    int i;
    secrets[0] = pem; lens[0] = strlen(pem);
    secrets[1] = (const char *)der; lens[1] = dl;
    secrets[2] = jwk; lens[2] = strlen(jwk);
    for (i = 0; i < 3; i++) {
        const char *tok = mint_token_secret(tu_pool, secrets[i], lens[i], CKA_ALG_HS256,
                                            hdr_for(CKA_ALG_HS256, NULL), payload());
        tu_assert_reason(cka_verify_with_key(tu_parsed(tok), tu_one_key(rsa, NULL)),
                         CKA_KEY_MISMATCH, "HS256 keyed with RSA public bytes");
    }
}
END_TEST

/* ---- choosing keys from a set --------------------------------------- */
typedef struct { cka_alg_t alg; mint_kind_t kind; int which; const char *kid;
                 cka_reason_t want; const char *used_kid; } pick_t;
static const pick_t picks[] = {
    { CKA_ALG_RS256, MINT_RSA,     T, "r1",   CKA_OK,            "r1" },
    { CKA_ALG_ES256, MINT_P256,    T, "e1",   CKA_OK,            "e1" },
    { CKA_ALG_EDDSA, MINT_ED25519, T, "d1",   CKA_OK,            "d1" },
    { CKA_ALG_ES256, MINT_P256,    T, NULL,   CKA_OK,            "e1" },  /* no kid: by type */
    { CKA_ALG_PS512, MINT_RSA,     T, NULL,   CKA_OK,            "r1" },
    { CKA_ALG_RS256, MINT_RSA,     A, NULL,   CKA_OK,            "r2" },  /* second RSA key */
    { CKA_ALG_RS256, MINT_RSA,     A, "r2",   CKA_OK,            "r2" },
    { CKA_ALG_RS256, MINT_RSA,     T, "nope", CKA_UNKNOWN_KEY,   NULL },
    { CKA_ALG_RS256, MINT_RSA,     T, "R1",   CKA_UNKNOWN_KEY,   NULL },  /* exact kid */
    { CKA_ALG_RS256, MINT_RSA,     T, "r",    CKA_UNKNOWN_KEY,   NULL },
    { CKA_ALG_RS256, MINT_RSA,     T, "r1 ",  CKA_UNKNOWN_KEY,   NULL },
    { CKA_ALG_RS256, MINT_RSA,     T, "",     CKA_UNKNOWN_KEY,   NULL },
    { CKA_ALG_ES256, MINT_P256,    T, "r1",   CKA_KEY_MISMATCH,  NULL },  /* kid of another type */
    { CKA_ALG_ES384, MINT_P384,    T, "e1",   CKA_KEY_MISMATCH,  NULL },
    { CKA_ALG_ES384, MINT_P384,    T, NULL,   CKA_UNKNOWN_KEY,   NULL },  /* no key of that type */
    { CKA_ALG_HS256, MINT_HMAC,    T, NULL,   CKA_UNKNOWN_KEY,   NULL },
    { CKA_ALG_RS256, MINT_RSA,     A, "r1",   CKA_BAD_SIGNATURE, NULL },
    { CKA_ALG_EDDSA, MINT_ED25519, A, NULL,   CKA_BAD_SIGNATURE, NULL },
    { CKA_ALG_ES256, MINT_P256,    A, NULL,   CKA_BAD_SIGNATURE, NULL },
};

START_TEST(pick_from_set)
{
    const pick_t *c = &picks[_i];
    cka_keyset_t *ks = set_of(4,
        mint_jwk(tu_pool, mint_key(MINT_RSA, T), "\"kid\":\"r1\""),
        mint_jwk(tu_pool, mint_key(MINT_P256, T), "\"kid\":\"e1\""),
        mint_jwk(tu_pool, mint_key(MINT_ED25519, T), "\"kid\":\"d1\""),
        mint_jwk(tu_pool, mint_key(MINT_RSA, A), "\"kid\":\"r2\""));
    const char *tok = mint_token(tu_pool, mint_key(c->kind, c->which), c->alg,
                                 hdr_for(c->alg, c->kid), payload());
    const cka_key_t *used = NULL;
    char ctx[96];
    apr_snprintf(ctx, sizeof(ctx), "pick row %d", _i);
    tu_assert_reason(cka_verify_with_set(tu_parsed(tok), ks, &used), c->want, ctx);
    if (c->used_kid) {
        ck_assert_ptr_nonnull(used);
        ck_assert_pstr_eq(used->kid, c->used_kid);
    }
}
END_TEST

/* Rotation: two keys share a kid; the one that verifies is used. Keys
 * without a kid are not candidates for a token that names one. */
START_TEST(pick_shared_kid)
{
    cka_keyset_t *ks = set_of(3,
        mint_jwk(tu_pool, mint_key(MINT_RSA, T), "\"kid\":\"same\""),
        mint_jwk(tu_pool, mint_key(MINT_RSA, A), "\"kid\":\"same\""),
        mint_jwk(tu_pool, mint_key(MINT_P256, T), NULL));
    const cka_key_t *used = NULL;
    const char *tok = mint_token(tu_pool, mint_key(MINT_RSA, A), CKA_ALG_RS256,
                                 hdr_for(CKA_ALG_RS256, "same"), payload());
    tu_assert_reason(cka_verify_with_set(tu_parsed(tok), ks, &used), CKA_OK, "shared kid");
    ck_assert_ptr_eq(used, APR_ARRAY_IDX(ks->keys, 1, const cka_key_t *));
    tok = mint_token(tu_pool, mint_key(MINT_P256, T), CKA_ALG_ES256,
                     hdr_for(CKA_ALG_ES256, "e1"), payload());
    tu_assert_reason(cka_verify_with_set(tu_parsed(tok), ks, &used), CKA_UNKNOWN_KEY,
                     "kid given, key without kid");
    tok = mint_token(tu_pool, mint_key(MINT_P256, T), CKA_ALG_ES256,
                     hdr_for(CKA_ALG_ES256, NULL), payload());
    tu_assert_reason(cka_verify_with_set(tu_parsed(tok), ks, &used), CKA_OK, "no kid");
    ck_assert_ptr_eq(used, APR_ARRAY_IDX(ks->keys, 2, const cka_key_t *));
}
END_TEST

Suite *suite_verify(void)
{
    Suite *s = suite_create("verify");
    TCase *tc = tcase_create("families");
    TCase *fit = tcase_create("fit+pick");

    tcase_add_checked_fixture(tc, tu_pool_setup, tu_pool_teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_loop_test(tc, family_tamper, 0, NFAM * TM_COUNT);
    tcase_add_loop_test(tc, wrong_signature_form, 0, TU_NELTS(forms));
    suite_add_tcase(s, tc);

    tcase_add_checked_fixture(fit, tu_pool_setup, tu_pool_teardown);
    tcase_set_timeout(fit, 30);
    tcase_add_loop_test(fit, key_fit, 0, TU_NELTS(fits));
    tcase_add_test(fit, hs256_with_rsa_public_key);
    tcase_add_loop_test(fit, pick_from_set, 0, TU_NELTS(picks));
    tcase_add_test(fit, pick_shared_kid);
    suite_add_tcase(s, fit);
    return s;
}
