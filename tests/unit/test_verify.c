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
    char *doc = "{\"keys\":[";
    cka_err_t err = CKA_ERR_INIT;
    cka_keyset_t *ks;
    int i;
    va_start(ap, n);
    for (i = 0; i < n; i++)
        doc = apr_pstrcat(tu_pool, doc, i ? "," : "", va_arg(ap, const char *), NULL);
    va_end(ap);
    doc = apr_pstrcat(tu_pool, doc, "]}", NULL);
    ks = KS_json(doc, strlen(doc), &err);
    ck_assert_msg(ks != NULL, "key set: %s", cka_err_text(&err));
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

/* Rotation: two keys share a kid; the one that verifies is used. */
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
                     hdr_for(CKA_ALG_ES256, NULL), payload());
    tu_assert_reason(cka_verify_with_set(tu_parsed(tok), ks, &used), CKA_OK, "no kid");
    ck_assert_ptr_eq(used, APR_ARRAY_IDX(ks->keys, 2, const cka_key_t *));
}
END_TEST

/* ---- a kid no key has: the keys without kid (SPEC "Trust") ----------- */
/* The set: RSA T "r1", P-256 T (no kid), Ed25519 T (no kid), P-384 T "e3".
 * used: index of the key that verified, -1: none. */
static const struct { const char *name; cka_alg_t alg; int which; const char *kid;
                      cka_reason_t want; int used; } miss[] = {
    { "ES256, unknown kid -> the P-256 key without kid", CKA_ALG_ES256, T, "idp-2024", CKA_OK, 1 },
    { "EdDSA, unknown kid -> the Ed25519 key without kid", CKA_ALG_EDDSA, T, "x", CKA_OK, 2 },
    { "ES256, no kid",                           CKA_ALG_ES256, T, NULL,   CKA_OK,            1 },
    { "ES384, its own kid",                      CKA_ALG_ES384, T, "e3",   CKA_OK,            3 },
    { "ES384, unknown kid: its key has a kid",   CKA_ALG_ES384, T, "x",    CKA_UNKNOWN_KEY,   -1 },
    { "RS256, unknown kid: its key has a kid",   CKA_ALG_RS256, T, "x",    CKA_UNKNOWN_KEY,   -1 },
    { "ES256, kid of the RSA key: no fallback",  CKA_ALG_ES256, T, "r1",   CKA_KEY_MISMATCH,  -1 },
    { "ES256 by the attacker, unknown kid",      CKA_ALG_ES256, A, "x",    CKA_UNKNOWN_KEY,   -1 },
    { "ES256 by the attacker, no kid",           CKA_ALG_ES256, A, NULL,   CKA_BAD_SIGNATURE, -1 },
    { "EdDSA by the attacker, unknown kid",      CKA_ALG_EDDSA, A, "x",    CKA_UNKNOWN_KEY,   -1 },
    { "ES512, unknown kid, no P-521 key",        CKA_ALG_ES512, T, "x",    CKA_UNKNOWN_KEY,   -1 },
};

START_TEST(kid_miss_fallback)
{
    cka_keyset_t *ks = set_of(4,
        mint_jwk(tu_pool, mint_key(MINT_RSA, T), "\"kid\":\"r1\""),
        mint_jwk(tu_pool, mint_key(MINT_P256, T), NULL),
        mint_jwk(tu_pool, mint_key(MINT_ED25519, T), NULL),
        mint_jwk(tu_pool, mint_key(MINT_P384, T), "\"kid\":\"e3\""));
    cka_alg_t alg = miss[_i].alg;
    const char *tok = mint_token(tu_pool, mint_key(mint_kind_for_alg(alg), miss[_i].which), alg,
                                 hdr_for(alg, miss[_i].kid), payload());
    const cka_key_t *used = NULL;
    tu_assert_reason(cka_verify_with_set(tu_parsed(tok), ks, &used), miss[_i].want, miss[_i].name);
    if (miss[_i].used >= 0)
        ck_assert_ptr_eq(used, APR_ARRAY_IDX(ks->keys, miss[_i].used, const cka_key_t *));
    else
        ck_assert_ptr_null(used);
}
END_TEST

/* A file: PEM key (no kid) verifies the tokens of a real IdP, which all
 * carry a kid; and the key that verified is reported. */
START_TEST(pem_key_token_with_kid)
{
    static const mint_kind_t kinds[] = { MINT_RSA, MINT_P256, MINT_ED25519 };
    for (int i = 0; i < TU_NELTS(kinds); i++) {
        const mint_key_t *k = mint_key(kinds[i], T);
        const char *pem = mint_pem_public(tu_pool, k);
        cka_err_t err = CKA_ERR_INIT;
        cka_keyset_t *ks = KS_pem(pem, strlen(pem), &err);
        cka_alg_t alg = kinds[i] == MINT_RSA ? CKA_ALG_PS256
                      : kinds[i] == MINT_P256 ? CKA_ALG_ES256 : CKA_ALG_EDDSA;
        const cka_key_t *used = NULL;
        ck_assert_ptr_nonnull(ks);
        tu_assert_reason(cka_verify_with_set(tu_parsed(mint_token(tu_pool, k, alg,
                             hdr_for(alg, "idp-key-1"), payload())), ks, &used),
                         CKA_OK, mint_alg_name(alg));
        ck_assert_ptr_eq(used, APR_ARRAY_IDX(ks->keys, 0, const cka_key_t *));
        ck_assert_int_eq(cka_keyset_has_key(ks, "idp-key-1", alg), 1);
        tu_assert_reason(cka_verify_with_set(tu_parsed(mint_token(tu_pool, mint_key(kinds[i], A),
                             alg, hdr_for(alg, "idp-key-1"), payload())), ks, NULL),
                         CKA_UNKNOWN_KEY, "attacker");
    }
}
END_TEST

/* ---- at most 16 keys tried ------------------------------------------- */
/* 20 HMAC keys; the token is signed by the key at index at. */
static const struct { const char *name; int with_kids; const char *kid; int at;
                      cka_reason_t want; } cap16[] = {
    { "no kid, signer is key 1",             0, NULL,  0,  CKA_OK },
    { "no kid, signer is key 16",            0, NULL,  15, CKA_OK },
    { "no kid, signer is key 17",            0, NULL,  16, CKA_BAD_SIGNATURE },
    { "no kid, signer is key 20",            0, NULL,  19, CKA_BAD_SIGNATURE },
    { "unknown kid, signer is key 16",       0, "x",   15, CKA_OK },
    { "unknown kid, signer is key 17",       0, "x",   16, CKA_UNKNOWN_KEY },
    { "20 keys share the kid, signer 16",    1, "k",   15, CKA_OK },
    { "20 keys share the kid, signer 17",    1, "k",   16, CKA_BAD_SIGNATURE },
};

START_TEST(at_most_16_keys)
{
    unsigned char secrets[20][32];
    const char *jwk[20];
    char *doc = "{\"keys\":[";
    cka_err_t err = CKA_ERR_INIT;
    for (int i = 0; i < 20; i++) {
        memset(secrets[i], 0x41 + i, sizeof(secrets[i]));
        jwk[i] = apr_psprintf(tu_pool, "{\"kty\":\"oct\",\"k\":\"%s\"%s}",
                              mint_b64url(tu_pool, secrets[i], 32),
                              cap16[_i].with_kids ? ",\"kid\":\"k\"" : "");
        doc = apr_pstrcat(tu_pool, doc, i ? "," : "", jwk[i], NULL);
    }
    doc = apr_pstrcat(tu_pool, doc, "]}", NULL);
    cka_keyset_t *ks = KS_json(doc, strlen(doc), &err);
    ck_assert_msg(ks != NULL, "%s", cka_err_text(&err));
    ck_assert_int_eq(ks->keys->nelts, 20);
    const char *tok = mint_token_secret(tu_pool, secrets[cap16[_i].at], 32, CKA_ALG_HS256,
                                        hdr_for(CKA_ALG_HS256, cap16[_i].kid), payload());
    tu_assert_reason(cka_verify_with_set(tu_parsed(tok), ks, NULL), cap16[_i].want, cap16[_i].name);
}
END_TEST

/* ---- a kid that only a skipped key has: unsupported, not unknown ------ */
static const struct { const char *name; const char *jwk; cka_alg_t alg; const char *kid;
                      cka_reason_t want; } unsup[] = {
    { "Ed448 key",           "{\"kty\":\"OKP\",\"crv\":\"Ed448\",\"kid\":\"K\",\"x\":\"AAAA\"}",
      CKA_ALG_EDDSA, "K", CKA_UNSUPPORTED_KEY },
    { "secp256k1 key",       "{\"kty\":\"EC\",\"crv\":\"secp256k1\",\"kid\":\"K\",\"x\":\"AAAA\",\"y\":\"AAAA\"}",
      CKA_ALG_ES256, "K", CKA_UNSUPPORTED_KEY },
    { "key with use enc",    NULL, CKA_ALG_RS256, "K", CKA_UNSUPPORTED_KEY },
    { "other kid than the skipped one", "{\"kty\":\"OKP\",\"crv\":\"Ed448\",\"kid\":\"K\",\"x\":\"AAAA\"}",
      CKA_ALG_EDDSA, "L", CKA_UNKNOWN_KEY },
    { "skipped key without kid", "{\"kty\":\"OKP\",\"crv\":\"Ed448\",\"x\":\"AAAA\"}",
      CKA_ALG_EDDSA, "K", CKA_UNKNOWN_KEY },
};

START_TEST(unsupported_kid)
{
    const char *skipped = unsup[_i].jwk ? unsup[_i].jwk
        : mint_jwk(tu_pool, mint_key(MINT_RSA, T), "\"kid\":\"K\",\"use\":\"enc\"");
    cka_keyset_t *ks = set_of(2, skipped,
                              mint_jwk(tu_pool, mint_key(MINT_P384, T), "\"kid\":\"good\""));
    cka_alg_t alg = unsup[_i].alg;
    const char *tok = mint_token(tu_pool, mint_key(mint_kind_for_alg(alg), T), alg,
                                 hdr_for(alg, unsup[_i].kid), payload());
    ck_assert_int_eq(ks->keys->nelts, 1);
    tu_assert_reason(cka_verify_with_set(tu_parsed(tok), ks, NULL), unsup[_i].want, unsup[_i].name);
    ck_assert_int_eq(cka_keyset_kid_skipped(ks, unsup[_i].kid), unsup[_i].want == CKA_UNSUPPORTED_KEY);
}
END_TEST

/* A kid shared by a skipped and a usable key is the usable key's. */
START_TEST(kid_both_skipped_and_usable)
{
    cka_keyset_t *ks = set_of(2,
        "{\"kty\":\"OKP\",\"crv\":\"Ed448\",\"kid\":\"K\",\"x\":\"AAAA\"}",
        mint_jwk(tu_pool, mint_key(MINT_ED25519, T), "\"kid\":\"K\""));
    const char *tok = mint_token(tu_pool, mint_key(MINT_ED25519, A), CKA_ALG_EDDSA,
                                 hdr_for(CKA_ALG_EDDSA, "K"), payload());
    tu_assert_reason(cka_verify_with_set(tu_parsed(tok), ks, NULL), CKA_BAD_SIGNATURE, "attacker");
    ck_assert_int_eq(cka_keyset_kid_skipped(ks, "K"), 0);
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
    tcase_add_loop_test(fit, kid_miss_fallback, 0, TU_NELTS(miss));
    tcase_add_test(fit, pem_key_token_with_kid);
    tcase_add_loop_test(fit, at_most_16_keys, 0, TU_NELTS(cap16));
    tcase_add_loop_test(fit, unsupported_kid, 0, TU_NELTS(unsup));
    tcase_add_test(fit, kid_both_skipped_and_usable);
    suite_add_tcase(s, fit);
    return s;
}
