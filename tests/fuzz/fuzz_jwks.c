/* fuzz_jwks.c - key documents: cka_keyset_parse_json (JWKS or one JWK),
 * cka_keyset_parse_remote (the same, oct keys refused) and
 * cka_keyset_parse_pem (public keys, certificates), on the same input.
 *
 * Every key that parses is then asked whether it fits each algorithm and
 * used to verify fixed tokens signed at start-up by keys the input cannot
 * know: no fuzzed key set may verify them, and a key may only ever be
 * tried for an alg that fits its type. */
#include <stdlib.h>
#include <string.h>
#include <apr_strings.h>
#include "fuzz_common.h"
#include "keyset.h"
#include "keyrec.h"
#include "cka_limits.h"
#include "verify.h"
#include "jws.h"

static cka_jws_t fixed[CKA_ALG_COUNT];
static int have_fixed[CKA_ALG_COUNT];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fz_init_begin();
    fz_apr_init();
    fz_keys_init();
    /* One token per algorithm, with and without a kid the input may name. */
    const char *claims = "{\"iss\":\"https://idp.test\",\"exp\":1700000300}";
    for (int a = 1; a < CKA_ALG_COUNT; a++) {
        const char *hdr = apr_psprintf(fz_root, "{\"alg\":\"%s\"%s}", cka_alg_name((cka_alg_t)a),
                                       a % 2 ? ",\"kid\":\"k1\"" : "");
        char *tok = fz_token(fz_root, fz_kind_for_alg((cka_alg_t)a), (cka_alg_t)a,
                             hdr, strlen(hdr), claims, strlen(claims));
        const char *detail;
        if (tok && cka_jws_parse(fz_root, tok, strlen(tok), &fixed[a], &detail) == CKA_OK)
            have_fixed[a] = 1;
        else
            fz_fail(__FILE__, __LINE__, "fixed token did not parse");
    }
    fz_init_end();
    return 0;
}

static int kty_fits(const cka_key_t *k, cka_alg_t a)
{
    switch (a) {
    case CKA_ALG_RS256: case CKA_ALG_RS384: case CKA_ALG_RS512:
    case CKA_ALG_PS256: case CKA_ALG_PS384: case CKA_ALG_PS512:
        return k->kty == CKA_KTY_RSA;
    case CKA_ALG_ES256: case CKA_ALG_ES384: case CKA_ALG_ES512:
        return k->kty == CKA_KTY_EC;
    case CKA_ALG_EDDSA:
        return k->kty == CKA_KTY_OKP;
    default:
        return k->kty == CKA_KTY_OCT;
    }
}

static void exercise(cka_keyset_t *ks)
{
    FZ_CHECK(ks->keys->nelts > 0, "a key set without keys was returned");
    FZ_CHECK(ks->keys->nelts <= 256, "more keys kept than CKA_MAX_KEYS");
    for (int i = 0; i < ks->keys->nelts; i++) {
        const cka_key_t *k = APR_ARRAY_IDX(ks->keys, i, const cka_key_t *);
        FZ_CHECK(k->kty >= CKA_KTY_RSA && k->kty <= CKA_KTY_OCT, "key type out of range");
        FZ_CHECK(k->kty == CKA_KTY_OCT ? k->secret != NULL : k->pkey != NULL,
                 "a kept key without key material");
        FZ_CHECK(k->kty != CKA_KTY_RSA || (k->bits >= 2048 && k->bits <= 8192),
                 "an RSA key under 2048 or over 8192 bits was kept");
        FZ_CHECK(cka_keyset_find_thumb(ks, k->thumb) != NULL, "a kept key not found by thumbprint");
        for (int a = 1; a < CKA_ALG_COUNT; a++)
            if (cka_key_fits_alg(k, (cka_alg_t)a)) {
                FZ_CHECK(kty_fits(k, (cka_alg_t)a), "a key fits an alg of another key type");
                FZ_CHECK(k->alg == CKA_ALG_UNKNOWN || k->alg == (cka_alg_t)a,
                         "a key fits an alg other than its own alg");
            }
    }
    for (int a = 1; a < CKA_ALG_COUNT; a++) {
        if (!have_fixed[a])
            continue;
        const cka_key_t *used = NULL;
        cka_reason_t r = cka_verify_with_set(&fixed[a], ks, &used);
        FZ_CHECK(r != CKA_OK, "a fuzzed key set verified a token it did not sign");
        FZ_CHECK(r == CKA_UNKNOWN_KEY || r == CKA_KEY_MISMATCH || r == CKA_BAD_SIGNATURE
                 || r == CKA_MALFORMED || r == CKA_UNSUPPORTED_KEY,
                 "verify returned an unexpected reason");
    }
    FZ_CHECK(ks->skipped == ks->skips->nelts + ks->over_cap, "skips not all counted");
    const char *line = cka_keyset_describe_skips(ks->pool, ks);
    FZ_CHECK((line == NULL) == (ks->skipped == 0), "skip line and count disagree");
    for (const char *c = line; c != NULL && *c; c++)
        FZ_CHECK((unsigned char)*c >= 0x20 && (unsigned char)*c < 0x7f,
                 "a skip line with a byte that is not printable ASCII");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p;
    apr_pool_create(&p, fz_root);
    /* Exact-size copy, no terminator: the parsers take a length. */
    char *buf = malloc(size ? size : 1);
    memcpy(buf, data, size);
    cka_err_t err = CKA_ERR_INIT;
    cka_keyset_t *ks = NULL;
    cka_reason_t r = cka_keyset_parse_json(p, buf, size, &ks, &err);
    FZ_CHECK((r == CKA_OK) == (ks != NULL), "JSON key set: code and result disagree");
    if (ks != NULL) {
        exercise(ks);
        cka_keyset_drop_kty(ks, CKA_KTY_OCT);
        for (int i = 0; i < ks->keys->nelts; i++)
            FZ_CHECK(APR_ARRAY_IDX(ks->keys, i, cka_key_t *)->kty != CKA_KTY_OCT,
                     "drop_kty left an oct key");
    }
    else
        FZ_CHECK(err.reason == CKA_KEYSET_INVALID && err.detail != NULL && *err.detail,
                 "JSON key set refused without a reason");
    cka_keyset_parse_remote(p, buf, size, &ks, &err);
    if (ks != NULL) {
        exercise(ks);
        for (int i = 0; i < ks->keys->nelts; i++)
            FZ_CHECK(APR_ARRAY_IDX(ks->keys, i, cka_key_t *)->kty != CKA_KTY_OCT,
                     "a remote set kept an oct key");
    }
    cka_keyset_parse_pem(p, buf, size, &ks, &err);
    if (ks != NULL)
        exercise(ks);
    else
        FZ_CHECK(err.reason == CKA_KEYSET_INVALID && err.detail != NULL && *err.detail,
                 "PEM key set refused without a reason");
    /* The same bytes as a shared-cache key-set record: framing checked
     * exactly; what decodes encodes back to the very same bytes. */
    cka_keyrec_t rec;
    if (cka_keyrec_decode(data, size, CKA_MAX_DOC_LEN, p, &rec, NULL) == 0) {
        FZ_CHECK(rec.fetched_at > 0 && rec.fresh_until > 0 && rec.doc_len > 0
                 && strlen(rec.jwks_uri) <= CKA_KEYREC_URI_MAX, "keyrec fields out of range");
        unsigned char *again;
        size_t n;
        FZ_CHECK(cka_keyrec_encode(p, &rec, CKA_MAX_DOC_LEN, &again, &n, NULL) == 0
                 && n == size && memcmp(again, data, size) == 0, "keyrec round trip differs");
        if (cka_keyset_parse_json(p, rec.doc, rec.doc_len, &ks, &err) == CKA_OK)
            exercise(ks);
    }
    free(buf);
    apr_pool_destroy(p);
    return 0;
}
