/* verify.c - one signature, one key: RS/PS/ES/HS through cjose, EdDSA
 * through OpenSSL. The strict parse in jws.c has run before; cjose sees
 * only tokens that passed it. */
#include "verify.h"
#include <string.h>
#include <cjose/jws.h>
#include <openssl/evp.h>

/* Exact signature length each algorithm produces for this key. */
static size_t expected_sig_len(const cka_key_t *k, cka_alg_t alg)
{
    switch (alg) {
    case CKA_ALG_ES256: return 64;
    case CKA_ALG_ES384: return 96;
    case CKA_ALG_ES512: return 132;
    case CKA_ALG_EDDSA: return 64;
    case CKA_ALG_HS256: return 32;
    case CKA_ALG_HS384: return 48;
    case CKA_ALG_HS512: return 64;
    default:            return (size_t)k->bits / 8;   /* RSA: modulus size */
    }
}

static cka_reason_t verify_eddsa(const cka_jws_t *jws, const cka_key_t *k)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int ok = 0;
    if (ctx != NULL
        && EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, k->pkey) == 1)
        ok = EVP_DigestVerify(ctx, jws->sig, jws->sig_len,
                              (const unsigned char *)jws->signing_input,
                              jws->signing_input_len) == 1;
    EVP_MD_CTX_free(ctx);
    return ok ? CKA_OK : CKA_BAD_SIGNATURE;
}

static cka_reason_t verify_cjose(const cka_jws_t *jws, const cka_key_t *k)
{
    cjose_err err;
    cjose_jws_t *cj = cjose_jws_import(jws->compact, jws->compact_len, &err);
    if (cj == NULL)
        return CKA_MALFORMED;
    bool ok = cjose_jws_verify(cj, k->jwk, &err);
    cjose_jws_release(cj);
    return ok ? CKA_OK : CKA_BAD_SIGNATURE;
}

cka_reason_t cka_verify_with_key(const cka_jws_t *jws, const cka_key_t *k)
{
    if (!cka_key_fits_alg(k, jws->alg))
        return CKA_KEY_MISMATCH;
    if (jws->sig_len != expected_sig_len(k, jws->alg))
        return CKA_BAD_SIGNATURE;
    if (jws->alg == CKA_ALG_EDDSA)
        return k->pkey ? verify_eddsa(jws, k) : CKA_KEY_MISMATCH;
    return k->jwk ? verify_cjose(jws, k) : CKA_KEY_MISMATCH;
}

cka_reason_t cka_verify_with_set(const cka_jws_t *jws, const cka_keyset_t *ks,
                                 const cka_key_t **used)
{
    int candidates = 0, fitting = 0;
    cka_reason_t last = CKA_UNKNOWN_KEY;
    for (int i = 0; i < ks->keys->nelts; i++) {
        const cka_key_t *k = APR_ARRAY_IDX(ks->keys, i, const cka_key_t *);
        if (jws->kid != NULL && (k->kid == NULL || strcmp(k->kid, jws->kid) != 0))
            continue;
        candidates++;
        if (!cka_key_fits_alg(k, jws->alg))
            continue;
        fitting++;
        last = cka_verify_with_key(jws, k);
        if (last == CKA_OK) {
            if (used != NULL)
                *used = k;
            return CKA_OK;
        }
    }
    if (candidates == 0)
        return CKA_UNKNOWN_KEY;
    if (fitting == 0)
        return jws->kid != NULL ? CKA_KEY_MISMATCH : CKA_UNKNOWN_KEY;
    return last;
}
