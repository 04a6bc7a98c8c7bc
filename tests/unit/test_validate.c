/* test_validate.c - the whole check with a key source; reason table. */
#include <string.h>
#include <apr_strings.h>
#include "suites.h"
#include "mint.h"
#include "validate.h"
#include "cka_limits.h"

#define ISS "https://idp.example.com"
#define T MINT_TRUSTED
#define A MINT_ATTACKER
#define HS_ALL (CKA_ALG_BIT(CKA_ALG_HS256) | CKA_ALG_BIT(CKA_ALG_HS384) | CKA_ALG_BIT(CKA_ALG_HS512))
#define DEF CKA_ALG_SET_DEFAULT

/* ---- a key source that counts its calls ----------------------------- */
typedef struct {
    const char *iss;
    const cka_keyset_t *ks;         /* what get(refresh = 0) returns     */
    const cka_keyset_t *refreshed;  /* what get(refresh = 1) returns     */
    int unavailable;
    int calls, refresh_calls;
} source_t;

static const cka_keyset_t *source_get(void *ctx, apr_pool_t *p, const char *iss,
                                      int refresh, cka_reason_t *why)
{
    source_t *s = ctx;
    s->calls++;
    if (refresh)
        s->refresh_calls++;
    if (iss == NULL || strcmp(iss, s->iss) != 0) {
        *why = CKA_WRONG_ISSUER;
        return NULL;
    }
    if (s->unavailable) {
        *why = CKA_KEYS_UNAVAILABLE;
        return NULL;
    }
    return refresh && s->refreshed ? s->refreshed : s->ks;
}

static source_t src;
static cka_key_source_t keysrc;
static cka_policy_t pol;
static long long now;

static const cka_keyset_t *keyset(const char *doc)
{
    cka_err_t err = CKA_ERR_INIT;
    const cka_keyset_t *ks = KS_json(doc, strlen(doc), &err);
    ck_assert_msg(ks != NULL, "key set: %s", cka_err_text(&err));
    return ks;
}

static const char *trusted_jwks(const char *more)
{
    const char *doc = mint_jwks(tu_pool, 7,
        mint_jwk(tu_pool, mint_key(MINT_RSA, T), "\"kid\":\"rsa\""),
        mint_jwk(tu_pool, mint_key(MINT_RSA, T), "\"kid\":\"rsa-rs256\",\"alg\":\"RS256\""),
        mint_jwk(tu_pool, mint_key(MINT_P256, T), "\"kid\":\"p256\""),
        mint_jwk(tu_pool, mint_key(MINT_P384, T), "\"kid\":\"p384\""),
        mint_jwk(tu_pool, mint_key(MINT_P521, T), "\"kid\":\"p521\""),
        mint_jwk(tu_pool, mint_key(MINT_ED25519, T), "\"kid\":\"ed\""),
        mint_jwk(tu_pool, mint_key(MINT_HMAC, T), "\"kid\":\"oct\""));
    if (more)   /* splice one more JWK in before the closing "]}" */
        doc = apr_pstrcat(tu_pool, apr_pstrndup(tu_pool, doc, strlen(doc) - 2), ",",
                          more, "]}", NULL);
    return doc;
}

static void validate_setup(void)
{
    apr_array_header_t *auds;
    tu_pool_setup();
    now = mint_now();
    memset(&src, 0, sizeof(src));
    src.iss = ISS;
    src.ks = keyset(trusted_jwks(NULL));
    keysrc.ctx = &src;
    keysrc.get = source_get;
    auds = apr_array_make(tu_pool, 2, sizeof(const char *));
    APR_ARRAY_PUSH(auds, const char *) = "api";
    APR_ARRAY_PUSH(auds, const char *) = "other";
    memset(&pol, 0, sizeof(pol));
    pol.algs = DEF;
    pol.audiences = auds;
    pol.any_audience = 0;
    pol.types = NULL;
    pol.skew = 60;
}

static cka_reason_t run(const char *tok, cka_verdict_t *v)
{
    cka_verdict_t local;
    ck_assert_ptr_nonnull(tok);
    return cka_validate_token(tu_pool, tok, strlen(tok), &pol, &keysrc, now, v ? v : &local);
}

static const char *good_claims(void)
{
    return mint_claims(tu_pool, ISS, "\"api\"", 600, NULL);
}

/* ---- the main table ------------------------------------------------- */
typedef enum { HX_NONE, HX_JWK, HX_JKU, HX_X5U, HX_X5C } hx_t;
typedef enum { SEC_KEY, SEC_RSA_PEM, SEC_RSA_DER, SEC_RSA_JWK } sec_t;
typedef struct {
    cka_alg_t alg; int which; sec_t sec; const char *kid; hx_t hx;
    cka_alg_set_t algs; cka_reason_t want;
} vrow_t;

static const vrow_t rows[] = {
    /* accept: every family, by kid and without kid */
    { CKA_ALG_RS256, T, SEC_KEY, "rsa",       HX_NONE, DEF, CKA_OK },
    { CKA_ALG_RS384, T, SEC_KEY, "rsa",       HX_NONE, DEF, CKA_OK },
    { CKA_ALG_RS512, T, SEC_KEY, "rsa",       HX_NONE, DEF, CKA_OK },
    { CKA_ALG_PS256, T, SEC_KEY, "rsa",       HX_NONE, DEF, CKA_OK },
    { CKA_ALG_PS384, T, SEC_KEY, "rsa",       HX_NONE, DEF, CKA_OK },
    { CKA_ALG_PS512, T, SEC_KEY, "rsa",       HX_NONE, DEF, CKA_OK },
    { CKA_ALG_ES256, T, SEC_KEY, "p256",      HX_NONE, DEF, CKA_OK },
    { CKA_ALG_ES384, T, SEC_KEY, "p384",      HX_NONE, DEF, CKA_OK },
    { CKA_ALG_ES512, T, SEC_KEY, "p521",      HX_NONE, DEF, CKA_OK },
    { CKA_ALG_EDDSA, T, SEC_KEY, "ed",        HX_NONE, DEF, CKA_OK },
    { CKA_ALG_RS256, T, SEC_KEY, "rsa-rs256", HX_NONE, DEF, CKA_OK },
    { CKA_ALG_RS256, T, SEC_KEY, NULL,        HX_NONE, DEF, CKA_OK },
    { CKA_ALG_PS512, T, SEC_KEY, NULL,        HX_NONE, DEF, CKA_OK },
    { CKA_ALG_ES256, T, SEC_KEY, NULL,        HX_NONE, DEF, CKA_OK },
    { CKA_ALG_ES384, T, SEC_KEY, NULL,        HX_NONE, DEF, CKA_OK },
    { CKA_ALG_ES512, T, SEC_KEY, NULL,        HX_NONE, DEF, CKA_OK },
    { CKA_ALG_EDDSA, T, SEC_KEY, NULL,        HX_NONE, DEF, CKA_OK },
    /* HS only when listed, with the oct key */
    { CKA_ALG_HS256, T, SEC_KEY, "oct",       HX_NONE, DEF | HS_ALL, CKA_OK },
    { CKA_ALG_HS384, T, SEC_KEY, "oct",       HX_NONE, DEF | HS_ALL, CKA_OK },
    { CKA_ALG_HS512, T, SEC_KEY, "oct",       HX_NONE, DEF | HS_ALL, CKA_OK },
    { CKA_ALG_HS256, T, SEC_KEY, NULL,        HX_NONE, CKA_ALG_BIT(CKA_ALG_HS256), CKA_OK },
    { CKA_ALG_HS256, T, SEC_KEY, "oct",       HX_NONE, DEF, CKA_ALG_NOT_ALLOWED },
    { CKA_ALG_HS512, T, SEC_KEY, "oct",       HX_NONE, DEF | CKA_ALG_BIT(CKA_ALG_HS256), CKA_ALG_NOT_ALLOWED },
    /* the allow-list */
    { CKA_ALG_RS256, T, SEC_KEY, "rsa",       HX_NONE, CKA_ALG_BIT(CKA_ALG_ES256), CKA_ALG_NOT_ALLOWED },
    { CKA_ALG_PS256, T, SEC_KEY, "rsa",       HX_NONE, CKA_ALG_BIT(CKA_ALG_RS256), CKA_ALG_NOT_ALLOWED },
    { CKA_ALG_EDDSA, T, SEC_KEY, "ed",        HX_NONE, CKA_ALG_BIT(CKA_ALG_RS256) | CKA_ALG_BIT(CKA_ALG_ES256), CKA_ALG_NOT_ALLOWED },
    { CKA_ALG_ES512, T, SEC_KEY, "p521",      HX_NONE, CKA_ALG_BIT(CKA_ALG_ES256) | CKA_ALG_BIT(CKA_ALG_ES384), CKA_ALG_NOT_ALLOWED },
    /* HS256 keyed with the RSA public key (algorithm confusion) */
    { CKA_ALG_HS256, T, SEC_RSA_PEM, "rsa",   HX_NONE, DEF | HS_ALL, CKA_KEY_MISMATCH },
    { CKA_ALG_HS256, T, SEC_RSA_DER, "rsa",   HX_NONE, DEF | HS_ALL, CKA_KEY_MISMATCH },
    { CKA_ALG_HS256, T, SEC_RSA_JWK, "rsa",   HX_NONE, DEF | HS_ALL, CKA_KEY_MISMATCH },
    { CKA_ALG_HS512, T, SEC_RSA_PEM, "rsa-rs256", HX_NONE, DEF | HS_ALL, CKA_KEY_MISMATCH },
    { CKA_ALG_HS256, T, SEC_RSA_PEM, NULL,    HX_NONE, DEF | HS_ALL, CKA_BAD_SIGNATURE },
    { CKA_ALG_HS256, T, SEC_RSA_PEM, "rsa",   HX_NONE, DEF, CKA_ALG_NOT_ALLOWED },
    /* the key must fit the alg */
    { CKA_ALG_PS256, T, SEC_KEY, "rsa-rs256", HX_NONE, DEF, CKA_KEY_MISMATCH },
    { CKA_ALG_RS384, T, SEC_KEY, "rsa-rs256", HX_NONE, DEF, CKA_KEY_MISMATCH },
    { CKA_ALG_ES256, T, SEC_KEY, "rsa",       HX_NONE, DEF, CKA_KEY_MISMATCH },
    { CKA_ALG_ES384, T, SEC_KEY, "p256",      HX_NONE, DEF, CKA_KEY_MISMATCH },
    { CKA_ALG_EDDSA, T, SEC_KEY, "p256",      HX_NONE, DEF, CKA_KEY_MISMATCH },
    { CKA_ALG_RS256, T, SEC_KEY, "ed",        HX_NONE, DEF, CKA_KEY_MISMATCH },
    { CKA_ALG_RS256, T, SEC_KEY, "oct",       HX_NONE, DEF, CKA_KEY_MISMATCH },
    /* the attacker's signatures */
    { CKA_ALG_RS256, A, SEC_KEY, "rsa",       HX_NONE, DEF, CKA_BAD_SIGNATURE },
    { CKA_ALG_RS256, A, SEC_KEY, NULL,        HX_NONE, DEF, CKA_BAD_SIGNATURE },
    { CKA_ALG_PS256, A, SEC_KEY, "rsa",       HX_NONE, DEF, CKA_BAD_SIGNATURE },
    { CKA_ALG_ES256, A, SEC_KEY, "p256",      HX_NONE, DEF, CKA_BAD_SIGNATURE },
    { CKA_ALG_ES512, A, SEC_KEY, NULL,        HX_NONE, DEF, CKA_BAD_SIGNATURE },
    { CKA_ALG_EDDSA, A, SEC_KEY, NULL,        HX_NONE, DEF, CKA_BAD_SIGNATURE },
    { CKA_ALG_HS256, A, SEC_KEY, "oct",       HX_NONE, DEF | HS_ALL, CKA_BAD_SIGNATURE },
    /* key material in the header is never trusted ... */
    { CKA_ALG_RS256, A, SEC_KEY, "rsa",       HX_JWK,  DEF, CKA_BAD_SIGNATURE },
    { CKA_ALG_RS256, A, SEC_KEY, NULL,        HX_JWK,  DEF, CKA_BAD_SIGNATURE },
    { CKA_ALG_RS256, A, SEC_KEY, "rsa",       HX_JKU,  DEF, CKA_BAD_SIGNATURE },
    { CKA_ALG_RS256, A, SEC_KEY, "rsa",       HX_X5U,  DEF, CKA_BAD_SIGNATURE },
    { CKA_ALG_RS256, A, SEC_KEY, "rsa",       HX_X5C,  DEF, CKA_BAD_SIGNATURE },
    { CKA_ALG_RS256, A, SEC_KEY, NULL,        HX_X5C,  DEF, CKA_BAD_SIGNATURE },
    { CKA_ALG_ES256, A, SEC_KEY, NULL,        HX_JWK,  DEF, CKA_BAD_SIGNATURE },
    { CKA_ALG_EDDSA, A, SEC_KEY, "ed",        HX_JWK,  DEF, CKA_BAD_SIGNATURE },
    { CKA_ALG_HS256, A, SEC_KEY, NULL,        HX_JWK,  DEF | HS_ALL, CKA_BAD_SIGNATURE },
    { CKA_ALG_RS256, A, SEC_KEY, "evil",      HX_JWK,  DEF, CKA_UNKNOWN_KEY },
    /* ... and ignored on an honest token */
    { CKA_ALG_RS256, T, SEC_KEY, "rsa",       HX_JWK,  DEF, CKA_OK },
    { CKA_ALG_RS256, T, SEC_KEY, "rsa",       HX_X5C,  DEF, CKA_OK },
    { CKA_ALG_ES256, T, SEC_KEY, "p256",      HX_JKU,  DEF, CKA_OK },
};

static const char *header_extra(hx_t hx, const mint_key_t *attacker)
{
    switch (hx) {
    case HX_JWK: return apr_pstrcat(tu_pool, "\"jwk\":", mint_jwk(tu_pool, attacker, NULL), NULL);
    case HX_JKU: return "\"jku\":\"https://attacker.example/jwks.json\"";
    case HX_X5U: return "\"x5u\":\"https://attacker.example/cert.pem\"";
    case HX_X5C:
        return apr_pstrcat(tu_pool, "\"x5c\":[\"",
                           mint_cert_b64der(tu_pool, mint_key(MINT_RSA, A)), "\"]", NULL);
    default: return NULL;
    }
}

START_TEST(validate_table)
{
    const vrow_t *c = &rows[_i];
    const mint_key_t *k = mint_key(mint_kind_for_alg(c->alg), c->which);
    const mint_key_t *evil = mint_key(mint_kind_for_alg(c->alg), A);
    const char *hdr = mint_header(tu_pool, mint_alg_name(c->alg), c->kid,
                                  header_extra(c->hx, evil->kind == MINT_HMAC
                                               ? mint_key(MINT_RSA, A) : evil));
    const char *pl = good_claims(), *tok = NULL;
    const mint_key_t *rsa = mint_key(MINT_RSA, T);
    cka_verdict_t v;
    cka_reason_t got;
    char ctx[96];

    switch (c->sec) {
    case SEC_KEY: tok = mint_token(tu_pool, k, c->alg, hdr, pl); break;
    case SEC_RSA_PEM: {
        const char *pem = mint_pem_public(tu_pool, rsa);
        tok = mint_token_secret(tu_pool, pem, strlen(pem), c->alg, hdr, pl);
        break;
    }
    case SEC_RSA_DER: {
        size_t dl;
        const unsigned char *der = mint_spki_der(tu_pool, rsa, &dl);
        tok = mint_token_secret(tu_pool, der, dl, c->alg, hdr, pl);
        break;
    }
    case SEC_RSA_JWK: {
        const char *jwk = mint_jwk(tu_pool, rsa, NULL);
        tok = mint_token_secret(tu_pool, jwk, strlen(jwk), c->alg, hdr, pl);
        break;
    }
    }
    pol.algs = c->algs;
    got = run(tok, &v);
    apr_snprintf(ctx, sizeof(ctx), "validate row %d (%s, kid %s)", _i,
                 mint_alg_name(c->alg), c->kid ? c->kid : "-");
    tu_assert_reason(got, c->want, ctx);
    if (got == CKA_OK) {
        ck_assert_pstr_eq(v.iss, ISS);
        ck_assert_ptr_nonnull(v.jws.claims);
        ck_assert_str_eq(json_string_value(json_object_get(v.jws.claims, "sub")), "user-1");
    }
    /* a refetch is asked for only when a named kid is unknown */
    ck_assert_int_eq(src.refresh_calls,
                     c->want == CKA_UNKNOWN_KEY && c->kid ? 1 : 0);
}
END_TEST

/* ---- issuer and key source ------------------------------------------ */
static const struct { const char *claims; int unavailable; cka_reason_t want; } issuers[] = {
    { "{\"iss\":\"" ISS "\",\"aud\":\"api\",\"exp\":$+600}",        0, CKA_OK               },
    { "{\"iss\":\"https://evil.example\",\"aud\":\"api\",\"exp\":$+600}", 0, CKA_WRONG_ISSUER },
    { "{\"iss\":\"" ISS "/\",\"aud\":\"api\",\"exp\":$+600}",       0, CKA_WRONG_ISSUER     },
    { "{\"iss\":\"HTTPS://IDP.EXAMPLE.COM\",\"aud\":\"api\",\"exp\":$+600}", 0, CKA_WRONG_ISSUER },
    { "{\"aud\":\"api\",\"exp\":$+600}",                             0, CKA_WRONG_ISSUER     },
    { "{\"iss\":\"\",\"aud\":\"api\",\"exp\":$+600}",                0, CKA_WRONG_ISSUER     },
    { "{\"iss\":42,\"aud\":\"api\",\"exp\":$+600}",                  0, CKA_WRONG_ISSUER     },
    { "{\"iss\":[\"" ISS "\"],\"aud\":\"api\",\"exp\":$+600}",       0, CKA_WRONG_ISSUER     },
    { "{\"iss\":null,\"aud\":\"api\",\"exp\":$+600}",                0, CKA_WRONG_ISSUER     },
    { "{\"iss\":\"" ISS "\",\"aud\":\"api\",\"exp\":$+600}",        1, CKA_KEYS_UNAVAILABLE },
};

START_TEST(issuer_and_source)
{
    const char *tok = mint_token(tu_pool, mint_key(MINT_RSA, T), CKA_ALG_RS256,
                                 mint_header(tu_pool, "RS256", "rsa", NULL),
                                 mint_times(tu_pool, issuers[_i].claims, now));
    char ctx[64];
    src.unavailable = issuers[_i].unavailable;
    apr_snprintf(ctx, sizeof(ctx), "issuer row %d", _i);
    tu_assert_reason(run(tok, NULL), issuers[_i].want, ctx);
    ck_assert_int_eq(src.refresh_calls, 0);
}
END_TEST

/* ---- an unknown kid: exactly one refetch ----------------------------- */
START_TEST(unknown_kid_refetch)
{
    const mint_key_t *rotated = mint_key(MINT_RSA, A);
    const char *tok = mint_token(tu_pool, rotated, CKA_ALG_RS256,
                                 mint_header(tu_pool, "RS256", "rotated", NULL), good_claims());
    /* not in the refreshed set either */
    tu_assert_reason(run(tok, NULL), CKA_UNKNOWN_KEY, "unknown kid, nothing new");
    ck_assert_int_eq(src.refresh_calls, 1);
    ck_assert_int_eq(src.calls, 2);

    /* the refreshed set has it */
    src.calls = src.refresh_calls = 0;
    src.refreshed = keyset(trusted_jwks(mint_jwk(tu_pool, rotated, "\"kid\":\"rotated\"")));
    tu_assert_reason(run(tok, NULL), CKA_OK, "unknown kid, found after refetch");
    ck_assert_int_eq(src.refresh_calls, 1);
    ck_assert_int_eq(src.calls, 2);

    /* a known kid does not refetch */
    src.calls = src.refresh_calls = 0;
    tok = mint_token(tu_pool, mint_key(MINT_P256, T), CKA_ALG_ES256,
                     mint_header(tu_pool, "ES256", "p256", NULL), good_claims());
    tu_assert_reason(run(tok, NULL), CKA_OK, "known kid");
    ck_assert_int_eq(src.calls, 1);
    ck_assert_int_eq(src.refresh_calls, 0);

    /* nor does a bad signature under a known kid */
    tok = mint_flip_sig(tu_pool, tok, 5);
    tu_assert_reason(run(tok, NULL), CKA_BAD_SIGNATURE, "known kid, bad signature");
    ck_assert_int_eq(src.refresh_calls, 0);
}
END_TEST

/* No key of the token's type, no kid: unknown key, no refetch. */
START_TEST(no_key_of_type)
{
    const char *pem = mint_pem_public(tu_pool, mint_key(MINT_RSA, T));
    const char *tok = mint_token_secret(tu_pool, pem, strlen(pem), CKA_ALG_HS256,
                                        mint_header(tu_pool, "HS256", NULL, NULL), good_claims());
    src.ks = keyset(mint_jwks(tu_pool, 1, mint_jwk(tu_pool, mint_key(MINT_RSA, T), "\"kid\":\"rsa\"")));
    pol.algs = DEF | HS_ALL;
    tu_assert_reason(run(tok, NULL), CKA_UNKNOWN_KEY, "HS256 with only an RSA key");
    ck_assert_int_eq(src.refresh_calls, 0);
    tok = mint_token(tu_pool, mint_key(MINT_ED25519, T), CKA_ALG_EDDSA,
                     mint_header(tu_pool, "EdDSA", NULL, NULL), good_claims());
    tu_assert_reason(run(tok, NULL), CKA_UNKNOWN_KEY, "EdDSA with only an RSA key");
}
END_TEST

/* ---- refused before any key is looked at ----------------------------- */
static const struct { const char *header; const char *sig; cka_reason_t want; } early[] = {
    /* sig: NULL = a real RS256 signature; else that text as the segment */
    { "{\"alg\":\"none\"}",                NULL,     CKA_ALG_NOT_ALLOWED    },
    { "{\"alg\":\"None\",\"kid\":\"rsa\"}", NULL,    CKA_ALG_NOT_ALLOWED    },
    { "{\"alg\":\"NONE\"}",                NULL,     CKA_ALG_NOT_ALLOWED    },
    { "{\"alg\":\"\"}",                    NULL,     CKA_ALG_NOT_ALLOWED    },
    { "{\"alg\":\"RS256\",\"crit\":[\"exp\"]}", NULL, CKA_UNSUPPORTED_HEADER },
    { "{\"alg\":\"RS256\",\"b64\":false}",  NULL,    CKA_UNSUPPORTED_HEADER },
    { "{\"alg\":\"RS256\",\"zip\":\"DEF\"}", NULL,   CKA_UNSUPPORTED_HEADER },
    { "{\"alg\":\"RS256\",\"alg\":\"RS256\"}", NULL, CKA_MALFORMED          },
    { "{\"alg\":\"RS256\"}",               "",       CKA_MALFORMED          },
    { "{\"alg\":\"RS256\"}",               "c2lnIQ==", CKA_MALFORMED        },
};

START_TEST(refused_early)
{
    const char *tok = mint_token(tu_pool, mint_key(MINT_RSA, T), CKA_ALG_RS256,
                                 early[_i].header, good_claims());
    char ctx[64];
    if (early[_i].sig)
        tok = apr_pstrcat(tu_pool, apr_pstrndup(tu_pool, tok, (apr_size_t)(strrchr(tok, '.') - tok)),
                          ".", early[_i].sig, NULL);
    apr_snprintf(ctx, sizeof(ctx), "early row %d", _i);
    tu_assert_reason(run(tok, NULL), early[_i].want, ctx);
    ck_assert_int_eq(src.refresh_calls, 0);
}
END_TEST

/* ES256 oddities through the whole path. */
START_TEST(es256_forms)
{
    const mint_key_t *k = mint_key(MINT_P256, T);
    const char *hdr = mint_header(tu_pool, "ES256", "p256", NULL);
    unsigned char zeros[64];
    const char *tok = mint_token(tu_pool, k, CKA_ALG_ES256, hdr, good_claims());
    memset(zeros, 0, sizeof(zeros));
    tu_assert_reason(run(mint_set_sig(tu_pool, tok, zeros, 64), NULL), CKA_BAD_SIGNATURE, "r=s=0");
    tu_assert_reason(run(mint_token_der(tu_pool, k, CKA_ALG_ES256, hdr, good_claims()), NULL),
                     CKA_BAD_SIGNATURE, "DER");
    tu_assert_reason(run(mint_resize_sig(tu_pool, tok, -1), NULL), CKA_BAD_SIGNATURE, "63 bytes");
    tu_assert_reason(run(mint_resize_sig(tu_pool, tok, 1), NULL), CKA_BAD_SIGNATURE, "65 bytes");
    {
        /* the claims become the header: no alg. jws.h does not say whether
         * a missing alg is CKA_MALFORMED or CKA_ALG_NOT_ALLOWED; either refuses */
        cka_reason_t r = run(mint_swap_segments(tu_pool, tok, 0, 1), NULL);
        ck_assert_msg(r == CKA_MALFORMED || r == CKA_ALG_NOT_ALLOWED,
                      "header and payload swapped: got %s", tu_reason_name(r));
    }
    tu_assert_reason(run(tok, NULL), CKA_OK, "untouched");
}
END_TEST

/* ---- typ, size ------------------------------------------------------- */
static const struct { const char *typ; const char *required; cka_reason_t want; } types[] = {
    { "at+jwt", "at+jwt",  CKA_OK         },
    { "AT+JWT", "at+jwt",  CKA_OK         },
    { "JWT",    NULL,      CKA_OK         },
    { NULL,     NULL,      CKA_OK         },
    { "JWT",    "at+jwt",  CKA_WRONG_TYPE },
    { NULL,     "at+jwt",  CKA_WRONG_TYPE },
};

START_TEST(require_type)
{
    const char *extra = types[_i].typ
        ? apr_psprintf(tu_pool, "\"typ\":\"%s\"", types[_i].typ) : NULL;
    const char *tok = mint_token(tu_pool, mint_key(MINT_RSA, T), CKA_ALG_RS256,
                                 mint_header(tu_pool, "RS256", "rsa", extra), good_claims());
    apr_array_header_t *req = apr_array_make(tu_pool, 1, sizeof(const char *));
    if (types[_i].required)
        APR_ARRAY_PUSH(req, const char *) = types[_i].required;
    pol.types = types[_i].required ? req : NULL;
    tu_assert_reason(run(tok, NULL), types[_i].want, "typ");
}
END_TEST

START_TEST(token_size_signed)
{
    const char *open = apr_psprintf(tu_pool, "{\"iss\":\"%s\",\"aud\":\"api\",\"exp\":%" APR_INT64_T_FMT,
                                    ISS, (apr_int64_t)(now + 600));
    const char *ok = mint_token_of_len(tu_pool, mint_key(MINT_RSA, T), CKA_ALG_RS256, "rsa",
                                       open, CKA_MAX_TOKEN_LEN);
    const char *big = mint_token_of_len(tu_pool, mint_key(MINT_RSA, T), CKA_ALG_RS256, "rsa",
                                        open, CKA_MAX_TOKEN_LEN + 1);
    ck_assert_ptr_nonnull(ok);
    ck_assert_ptr_nonnull(big);
    tu_assert_reason(run(ok, NULL), CKA_OK, "16384 bytes");
    tu_assert_reason(run(big, NULL), CKA_TOKEN_TOO_LARGE, "16385 bytes");
}
END_TEST

/* ---- the per-request claim checks ------------------------------------ */
static const struct { const char *claims; int any; cka_reason_t want; } vclaims[] = {
    { "{\"exp\":$+600,\"aud\":\"api\"}",                 0, CKA_OK               },
    { "{\"exp\":$+600,\"aud\":[\"x\",\"other\"]}",       0, CKA_OK               },
    { "{\"exp\":$-600,\"aud\":\"api\"}",                 0, CKA_TOKEN_EXPIRED    },
    { "{\"exp\":$-60,\"aud\":\"api\"}",                  0, CKA_TOKEN_EXPIRED    },
    { "{\"exp\":$-59,\"aud\":\"api\"}",                  0, CKA_OK               },
    { "{\"aud\":\"api\"}",                               0, CKA_BAD_TIME_CLAIM   },
    { "{\"exp\":\"$+600\",\"aud\":\"api\"}",             0, CKA_BAD_TIME_CLAIM   },
    { "{\"exp\":$+600,\"nbf\":$+600,\"aud\":\"api\"}",   0, CKA_NOT_YET_VALID    },
    { "{\"exp\":$+600,\"iat\":$+600,\"aud\":\"api\"}",   0, CKA_ISSUED_IN_FUTURE },
    { "{\"exp\":$+600,\"aud\":\"nope\"}",                0, CKA_WRONG_AUDIENCE   },
    { "{\"exp\":$+600}",                                 0, CKA_WRONG_AUDIENCE   },
    { "{\"exp\":$+600,\"aud\":[]}",                      0, CKA_WRONG_AUDIENCE   },
    { "{\"exp\":$+600}",                                 1, CKA_OK               },
    { "{\"exp\":$+600,\"aud\":\"nope\"}",                1, CKA_OK               },
};

START_TEST(claims_checks)
{
    long long exp = -1;
    cka_reason_t got;
    pol.any_audience = vclaims[_i].any;
    got = cka_validate_claims(tu_json(mint_times(tu_pool, vclaims[_i].claims, now)), &pol, now, &exp);
    tu_assert_reason(got, vclaims[_i].want, vclaims[_i].claims);
    if (got == CKA_OK)
        ck_assert_int_eq(exp, now + 600 - (strstr(vclaims[_i].claims, "$-59") ? 659 : 0));
}
END_TEST

/* ---- the reason table ------------------------------------------------ */
START_TEST(reason_table)
{
    static const struct { cka_reason_t r; const char *code; int status; } spec[] = {
        { CKA_TOKEN_EXPIRED,    "token_expired",  401 },
        { CKA_BAD_SIGNATURE,    "bad_signature",  401 },
        { CKA_WRONG_AUDIENCE,   "wrong_audience", 401 },
        { CKA_NO_TOKEN,         "no_token",       401 },
        { CKA_GROUP_DENIED,     "group_denied",   403 },
        { CKA_KEYS_UNAVAILABLE, NULL,             503 },
        { CKA_CLAIM_DENIED,     NULL,             403 },
        { CKA_INTERNAL,         NULL,             500 },
    };
    int i, j;
    for (i = 0; i < TU_NELTS(spec); i++) {
        if (spec[i].code)
            ck_assert_str_eq(cka_reason_code(spec[i].r), spec[i].code);
        ck_assert_int_eq(cka_reason_status(spec[i].r), spec[i].status);
    }
    ck_assert_ptr_null(cka_reason_oauth_error(CKA_NO_TOKEN));
    ck_assert_str_eq(cka_reason_oauth_error(CKA_GROUP_DENIED), "insufficient_scope");
    for (i = CKA_TOKEN_TOO_LARGE; i <= CKA_WRONG_AUDIENCE; i++) {
        ck_assert_int_eq(cka_reason_status((cka_reason_t)i), 401);
        ck_assert_str_eq(cka_reason_oauth_error((cka_reason_t)i), "invalid_token");
    }
    for (i = 1; i < CKA_REASON_COUNT; i++) {
        ck_assert_ptr_nonnull(cka_reason_code((cka_reason_t)i));
        ck_assert_ptr_nonnull(cka_reason_text((cka_reason_t)i));
        for (j = 1; j < i; j++)
            ck_assert_str_ne(cka_reason_code((cka_reason_t)i), cka_reason_code((cka_reason_t)j));
    }
}
END_TEST

Suite *suite_validate(void)
{
    Suite *s = suite_create("validate");
    TCase *tc = tcase_create("token");
    TCase *cl = tcase_create("claims+reasons");

    tcase_add_checked_fixture(tc, validate_setup, tu_pool_teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_loop_test(tc, validate_table, 0, TU_NELTS(rows));
    tcase_add_loop_test(tc, issuer_and_source, 0, TU_NELTS(issuers));
    tcase_add_test(tc, unknown_kid_refetch);
    tcase_add_test(tc, no_key_of_type);
    tcase_add_loop_test(tc, refused_early, 0, TU_NELTS(early));
    tcase_add_test(tc, es256_forms);
    tcase_add_loop_test(tc, require_type, 0, TU_NELTS(types));
    tcase_add_test(tc, token_size_signed);
    suite_add_tcase(s, tc);

    tcase_add_checked_fixture(cl, validate_setup, tu_pool_teardown);
    tcase_add_loop_test(cl, claims_checks, 0, TU_NELTS(vclaims));
    tcase_add_test(cl, reason_table);
    suite_add_tcase(s, cl);
    return s;
}
