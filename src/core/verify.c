/* verify.c - one signature, one key, straight on OpenSSL 3: RS (PKCS#1
 * v1.5), PS (PSS, salt = digest length, MGF1 with the same digest), ES
 * (JOSE raw r||s turned into DER), EdDSA, and HS (HMAC, compared in
 * constant time). Each key's contexts are prepared when its set is
 * parsed (cka_verify_prepare). The strict parse in jws.c has run before:
 * jws holds the decoded signature and the signing input, nothing is decoded
 * again. Which keys of a set are tried is keyset.c's; which algorithms fit
 * which key, key.c's. */
#include "verify.h"
#include <string.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

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
    default:            return ((size_t)k->bits + 7) / 8;   /* RSA: modulus size */
    }
}

/* The digest of alg. OpenSSL's built-in EVP_sha256() & co. are static
 * objects: nothing to fetch or free here. They serve when a key's contexts
 * are prepared (EVP_DigestVerifyInit takes the name; the provider fetches
 * its implementation then, once per context) and name HMAC's digest. */
static const EVP_MD *digest_of(cka_alg_t alg)
{
    switch (alg) {
    case CKA_ALG_RS256: case CKA_ALG_PS256: case CKA_ALG_ES256: case CKA_ALG_HS256:
        return EVP_sha256();
    case CKA_ALG_RS384: case CKA_ALG_PS384: case CKA_ALG_ES384: case CKA_ALG_HS384:
        return EVP_sha384();
    case CKA_ALG_RS512: case CKA_ALG_PS512: case CKA_ALG_ES512: case CKA_ALG_HS512:
        return EVP_sha512();
    default:
        return NULL;                        /* EdDSA: no separate digest */
    }
}

static int is_hmac(cka_alg_t alg)
{
    return alg == CKA_ALG_HS256 || alg == CKA_ALG_HS384 || alg == CKA_ALG_HS512;
}

static apr_status_t mdctx_cleanup(void *v)
{
    EVP_MD_CTX_free((EVP_MD_CTX *)v);
    return APR_SUCCESS;
}

/* A verification context for pkey and alg: digest, and for RSA the padding.
 * In OpenSSL 3.0, EVP_DigestVerifyInit makes a key context and fetches the
 * signature and digest implementations, some 25,000 instructions, 8% of a
 * whole RSA-2048 verification; copying a prepared context costs a few
 * thousand. A copy only reads its source (EVP_MD_CTX_copy_ex takes it
 * const: see openssl-threads(7)), so all threads share the prepared one. */
static EVP_MD_CTX *verify_ctx_new(EVP_PKEY *pkey, cka_alg_t alg)
{
    const EVP_MD *md = digest_of(alg);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pctx = NULL;
    int ok = ctx != NULL && EVP_DigestVerifyInit(ctx, &pctx, md, NULL, pkey) == 1;
    switch (alg) {
    case CKA_ALG_RS256: case CKA_ALG_RS384: case CKA_ALG_RS512:
        ok = ok && EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) == 1;
        break;
    case CKA_ALG_PS256: case CKA_ALG_PS384: case CKA_ALG_PS512:
        /* RFC 7518 §3.5: MGF1 with the same hash, a salt as long as the
         * hash; SALTLEN_DIGEST makes any other salt length fail to verify. */
        ok = ok && EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1
            && EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) == 1
            && EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, md) == 1;
        break;
    default:
        break;
    }
    if (!ok) {
        EVP_MD_CTX_free(ctx);
        return NULL;
    }
    return ctx;
}

cka_reason_t cka_verify_prepare(apr_pool_t *p, cka_key_t *k, cka_err_t *err)
{
    cka_reason_t rv = CKA_OK;
    if (k->pkey == NULL)
        return CKA_OK;                      /* oct: HMAC needs no context */
    ERR_set_mark();
    for (int a = CKA_ALG_UNKNOWN + 1; a < CKA_ALG_COUNT && rv == CKA_OK; a++) {
        if (is_hmac((cka_alg_t)a) || !cka_key_fits_alg(k, (cka_alg_t)a))
            continue;
        EVP_MD_CTX *ctx = verify_ctx_new(k->pkey, (cka_alg_t)a);
        if (ctx == NULL) {
            rv = cka_failf(err, p, CKA_CRYPTO_FAILED, "OpenSSL refuses the key for %s",
                           cka_alg_name((cka_alg_t)a));
            break;
        }
        apr_pool_cleanup_register(p, ctx, mdctx_cleanup, apr_pool_cleanup_null);
        k->vctx[a] = ctx;
    }
    ERR_pop_to_mark();
    return rv;
}

int cka_verify_prepare_alg(apr_pool_t *p, cka_key_t *k, cka_alg_t alg)
{
    if (k->pkey == NULL || is_hmac(alg) || !cka_key_fits_alg(k, alg))
        return -1;
    if (k->vctx[alg] != NULL)
        return 0;
    ERR_set_mark();
    EVP_MD_CTX *ctx = verify_ctx_new(k->pkey, alg);
    ERR_pop_to_mark();
    if (ctx == NULL)
        return -1;
    apr_pool_cleanup_register(p, ctx, mdctx_cleanup, apr_pool_cleanup_null);
    k->vctx[alg] = ctx;
    return 0;
}

/* Verify sig over the signing input with a copy of the prepared context. */
static int evp_verify(const cka_jws_t *jws, const EVP_MD_CTX *prepared,
                      const unsigned char *sig, size_t sig_len)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int ok = ctx != NULL && EVP_MD_CTX_copy_ex(ctx, prepared) == 1
        && EVP_DigestVerify(ctx, sig, sig_len,
                            (const unsigned char *)jws->signing_input,
                            jws->signing_input_len) == 1;
    EVP_MD_CTX_free(ctx);
    return ok;
}

/* JOSE's ECDSA signature is r||s, each exactly the coordinate size (the
 * total length was checked: 64, 96 or 132 bytes); OpenSSL wants a DER
 * ECDSA-Sig-Value. r = 0 or s = 0 is refused here, before OpenSSL sees it
 * (the CVE-2022-21449 class; OpenSSL refuses it too, as r, s >= n). */
size_t cka_ecdsa_der(const unsigned char *raw, size_t len,
                     unsigned char der[CKA_ECDSA_DER_MAX])
{
    const size_t half = len / 2;
    /* i2d writes unchecked: with half <= 66, two INTEGERs of at most
     * 66 + 1 bytes and a 2-byte header each, in a SEQUENCE with a 3-byte
     * header, take at most 141 bytes. */
    unsigned char *out = der;
    if (half == 0 || half > 66 || len % 2 != 0)
        return 0;
    ECDSA_SIG *es = ECDSA_SIG_new();
    BIGNUM *r = BN_bin2bn(raw, (int)half, NULL);
    BIGNUM *s = BN_bin2bn(raw + half, (int)half, NULL);
    int n = 0;
    if (es != NULL && r != NULL && s != NULL && !BN_is_zero(r) && !BN_is_zero(s)
        && ECDSA_SIG_set0(es, r, s) == 1) {
        r = s = NULL;                       /* es owns them now */
        n = i2d_ECDSA_SIG(es, &out);
    }
    BN_free(r);
    BN_free(s);
    ECDSA_SIG_free(es);
    return n > 0 ? (size_t)n : 0;
}

int cka_ecdsa_raw(const unsigned char *der, size_t len, size_t half, unsigned char *raw)
{
    const unsigned char *d = der;
    ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &d, (long)len);
    const BIGNUM *r = NULL, *s = NULL;
    if (es != NULL)
        ECDSA_SIG_get0(es, &r, &s);
    int ok = es != NULL && d == der + len
        && BN_bn2binpad(r, raw, (int)half) == (int)half
        && BN_bn2binpad(s, raw + half, (int)half) == (int)half;
    ECDSA_SIG_free(es);
    return ok ? 0 : -1;
}

static int verify_ecdsa(const cka_jws_t *jws, const EVP_MD_CTX *prepared)
{
    unsigned char der[CKA_ECDSA_DER_MAX];
    size_t len = cka_ecdsa_der(jws->sig, jws->sig_len, der);
    return len > 0 && evp_verify(jws, prepared, der, len);
}

/* HMAC of the signing input, compared in constant time with the signature
 * (whose length, the full MAC length, was checked before). */
static int verify_hmac(const cka_jws_t *jws, const cka_key_t *k)
{
    unsigned char mac[EVP_MAX_MD_SIZE];
    size_t mac_len = 0;
    int ok = k->secret != NULL
        && EVP_Q_mac(NULL, "HMAC", NULL, EVP_MD_get0_name(digest_of(jws->alg)), NULL,
                     k->secret, k->secret_len,
                     (const unsigned char *)jws->signing_input, jws->signing_input_len,
                     mac, sizeof(mac), &mac_len) != NULL
        && mac_len == jws->sig_len
        && CRYPTO_memcmp(mac, jws->sig, mac_len) == 0;
    OPENSSL_cleanse(mac, sizeof(mac));
    return ok;
}

cka_reason_t cka_verify_with_key(const cka_jws_t *jws, const cka_key_t *k)
{
    if (!cka_key_fits_alg(k, jws->alg))
        return CKA_KEY_MISMATCH;
    if (jws->sig_len != expected_sig_len(k, jws->alg))
        return CKA_BAD_SIGNATURE;
    const EVP_MD_CTX *prepared = is_hmac(jws->alg) ? NULL : k->vctx[jws->alg];
    if (is_hmac(jws->alg) ? k->secret == NULL : prepared == NULL)
        return CKA_KEY_MISMATCH;

    int ok;
    /* A failed verification leaves errors on this thread's OpenSSL error
     * queue; they are ours, not for whoever reads the queue next. */
    ERR_set_mark();
    switch (jws->alg) {
    case CKA_ALG_ES256: case CKA_ALG_ES384: case CKA_ALG_ES512:
        ok = verify_ecdsa(jws, prepared);
        break;
    case CKA_ALG_HS256: case CKA_ALG_HS384: case CKA_ALG_HS512:
        ok = verify_hmac(jws, k);
        break;
    default:                                /* RS, PS, EdDSA */
        ok = evp_verify(jws, prepared, jws->sig, jws->sig_len);
        break;
    }
    ERR_pop_to_mark();
    return ok ? CKA_OK : CKA_BAD_SIGNATURE;
}
