/* fuzz_common.c - keys, JWKs and signatures for the fuzz targets, straight
 * on OpenSSL (see fuzz_common.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <apr_general.h>
#include <apr_strings.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include "fuzz_common.h"
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#include <sanitizer/lsan_interface.h>
#endif
#endif

apr_pool_t *fz_root;
static EVP_PKEY *pkeys[FZ_KIND_COUNT];
static unsigned char hmac_secret[64];
static int keys_ready;

void fz_fail(const char *file, int line, const char *msg)
{
    fprintf(stderr, "\n*** fuzz invariant violated at %s:%d: %s\n", file, line, msg);
    fflush(stderr);
    abort();
}

void fz_apr_init(void)
{
    if (fz_root != NULL)
        return;
    if (apr_initialize() != APR_SUCCESS)
        fz_fail(__FILE__, __LINE__, "apr_initialize");
    atexit(apr_terminate);
    if (apr_pool_create(&fz_root, NULL) != APR_SUCCESS)
        fz_fail(__FILE__, __LINE__, "apr_pool_create");
}

void fz_init_begin(void)
{
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
    __lsan_disable();
#endif
#endif
}

void fz_init_end(void)
{
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
    __lsan_enable();
#endif
#endif
}

void fz_keep(const void *p)
{
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
    __lsan_ignore_object(p);
#endif
#endif
    (void)p;
}

void fz_keys_init(void)
{
    if (keys_ready)
        return;
    pkeys[FZ_RSA] = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
    pkeys[FZ_P256] = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    pkeys[FZ_P384] = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
    pkeys[FZ_P521] = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-521");
    pkeys[FZ_ED25519] = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    for (int k = 0; k < FZ_HMAC; k++)
        if (pkeys[k] == NULL) {
            ERR_print_errors_fp(stderr);
            fz_fail(__FILE__, __LINE__, "key generation");
        }
    if (RAND_bytes(hmac_secret, sizeof(hmac_secret)) != 1)
        fz_fail(__FILE__, __LINE__, "RAND_bytes");
    keys_ready = 1;
}

EVP_PKEY *fz_pkey(fz_kind_t kind)
{
    return kind < FZ_HMAC ? pkeys[kind] : NULL;
}

const unsigned char *fz_secret(size_t *len)
{
    *len = sizeof(hmac_secret);
    return hmac_secret;
}

fz_kind_t fz_kind_for_alg(cka_alg_t alg)
{
    switch (alg) {
    case CKA_ALG_ES256: return FZ_P256;
    case CKA_ALG_ES384: return FZ_P384;
    case CKA_ALG_ES512: return FZ_P521;
    case CKA_ALG_EDDSA: return FZ_ED25519;
    case CKA_ALG_HS256: case CKA_ALG_HS384: case CKA_ALG_HS512: return FZ_HMAC;
    default: return FZ_RSA;
    }
}

char *fz_b64url(apr_pool_t *p, const void *data, size_t len)
{
    static const char a[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    const unsigned char *in = data;
    char *out = apr_palloc(p, len / 3 * 4 + 5), *o = out;
    size_t i = 0;
    for (; i + 3 <= len; i += 3) {
        unsigned long v = (unsigned long)in[i] << 16 | (unsigned long)in[i + 1] << 8 | in[i + 2];
        *o++ = a[v >> 18 & 63]; *o++ = a[v >> 12 & 63];
        *o++ = a[v >> 6 & 63];  *o++ = a[v & 63];
    }
    if (len - i == 1) {
        unsigned long v = (unsigned long)in[i] << 16;
        *o++ = a[v >> 18 & 63]; *o++ = a[v >> 12 & 63];
    }
    else if (len - i == 2) {
        unsigned long v = (unsigned long)in[i] << 16 | (unsigned long)in[i + 1] << 8;
        *o++ = a[v >> 18 & 63]; *o++ = a[v >> 12 & 63]; *o++ = a[v >> 6 & 63];
    }
    *o = '\0';
    return out;
}

static char *bn_b64(apr_pool_t *p, EVP_PKEY *k, const char *param, int pad)
{
    BIGNUM *bn = NULL;
    if (!EVP_PKEY_get_bn_param(k, param, &bn))
        fz_fail(__FILE__, __LINE__, "EVP_PKEY_get_bn_param");
    int n = BN_num_bytes(bn);
    int size = pad > n ? pad : n;
    unsigned char *buf = apr_pcalloc(p, (apr_size_t)size + 1);
    BN_bn2binpad(bn, buf, size);
    BN_free(bn);
    return fz_b64url(p, buf, (size_t)size);
}

char *fz_jwk(apr_pool_t *p, fz_kind_t kind, const char *kid, const char *alg,
             const char *use)
{
    const char *body;
    EVP_PKEY *k = fz_pkey(kind);
    switch (kind) {
    case FZ_RSA:
        body = apr_psprintf(p, "\"kty\":\"RSA\",\"n\":\"%s\",\"e\":\"%s\"",
                            bn_b64(p, k, OSSL_PKEY_PARAM_RSA_N, 0),
                            bn_b64(p, k, OSSL_PKEY_PARAM_RSA_E, 0));
        break;
    case FZ_P256: case FZ_P384: case FZ_P521: {
        int size = kind == FZ_P256 ? 32 : kind == FZ_P384 ? 48 : 66;
        const char *crv = kind == FZ_P256 ? "P-256" : kind == FZ_P384 ? "P-384" : "P-521";
        body = apr_psprintf(p, "\"kty\":\"EC\",\"crv\":\"%s\",\"x\":\"%s\",\"y\":\"%s\"", crv,
                            bn_b64(p, k, OSSL_PKEY_PARAM_EC_PUB_X, size),
                            bn_b64(p, k, OSSL_PKEY_PARAM_EC_PUB_Y, size));
        break;
    }
    case FZ_ED25519: {
        unsigned char raw[32];
        size_t rl = sizeof(raw);
        if (!EVP_PKEY_get_raw_public_key(k, raw, &rl) || rl != 32)
            fz_fail(__FILE__, __LINE__, "Ed25519 raw key");
        body = apr_psprintf(p, "\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"%s\"",
                            fz_b64url(p, raw, rl));
        break;
    }
    default:
        body = apr_psprintf(p, "\"kty\":\"oct\",\"k\":\"%s\"",
                            fz_b64url(p, hmac_secret, sizeof(hmac_secret)));
        break;
    }
    return apr_pstrcat(p, "{", body,
                       kid ? apr_psprintf(p, ",\"kid\":\"%s\"", kid) : "",
                       alg ? apr_psprintf(p, ",\"alg\":\"%s\"", alg) : "",
                       use ? apr_psprintf(p, ",\"use\":\"%s\"", use) : "",
                       "}", NULL);
}

char *fz_pem_public(apr_pool_t *p, fz_kind_t kind)
{
    BIO *b = BIO_new(BIO_s_mem());
    char *data, *out = NULL;
    if (b != NULL && PEM_write_bio_PUBKEY(b, fz_pkey(kind))) {
        long n = BIO_get_mem_data(b, &data);
        out = apr_pstrmemdup(p, data, (apr_size_t)n);
    }
    BIO_free(b);
    if (out == NULL)
        fz_fail(__FILE__, __LINE__, "PEM_write_bio_PUBKEY");
    return out;
}

static const EVP_MD *md_of(cka_alg_t alg)
{
    switch (alg) {
    case CKA_ALG_RS384: case CKA_ALG_PS384: case CKA_ALG_ES384: case CKA_ALG_HS384:
        return EVP_sha384();
    case CKA_ALG_RS512: case CKA_ALG_PS512: case CKA_ALG_ES512: case CKA_ALG_HS512:
        return EVP_sha512();
    case CKA_ALG_EDDSA:
        return NULL;
    default:
        return EVP_sha256();
    }
}

int fz_sign(apr_pool_t *p, fz_kind_t kind, cka_alg_t alg, const void *data,
            size_t len, unsigned char **sig, size_t *sig_len)
{
    if (kind == FZ_HMAC) {
        unsigned int n = EVP_MAX_MD_SIZE;
        *sig = apr_palloc(p, EVP_MAX_MD_SIZE);
        if (HMAC(md_of(alg), hmac_secret, sizeof(hmac_secret), data, len, *sig, &n) == NULL)
            return -1;
        *sig_len = n;
        return 0;
    }
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pctx = NULL;
    unsigned char *der = NULL;
    size_t n = 0;
    int rc = -1;
    if (ctx == NULL || EVP_DigestSignInit(ctx, &pctx, md_of(alg), NULL, fz_pkey(kind)) != 1)
        goto out;
    if (alg == CKA_ALG_PS256 || alg == CKA_ALG_PS384 || alg == CKA_ALG_PS512) {
        if (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1
            || EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) != 1)
            goto out;
    }
    if (EVP_DigestSign(ctx, NULL, &n, data, len) != 1)
        goto out;
    der = apr_palloc(p, n);
    if (EVP_DigestSign(ctx, der, &n, data, len) != 1)
        goto out;
    if (kind == FZ_P256 || kind == FZ_P384 || kind == FZ_P521) {
        int size = kind == FZ_P256 ? 32 : kind == FZ_P384 ? 48 : 66;
        const unsigned char *q = der;
        ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &q, (long)n);
        if (es == NULL)
            goto out;
        *sig = apr_palloc(p, (apr_size_t)size * 2);
        BN_bn2binpad(ECDSA_SIG_get0_r(es), *sig, size);
        BN_bn2binpad(ECDSA_SIG_get0_s(es), *sig + size, size);
        ECDSA_SIG_free(es);
        *sig_len = (size_t)size * 2;
    }
    else {
        *sig = der;
        *sig_len = n;
    }
    rc = 0;
out:
    EVP_MD_CTX_free(ctx);
    return rc;
}

char *fz_token(apr_pool_t *p, fz_kind_t kind, cka_alg_t alg,
               const void *header, size_t hlen, const void *payload, size_t plen)
{
    char *si = apr_pstrcat(p, fz_b64url(p, header, hlen), ".",
                           fz_b64url(p, payload, plen), NULL);
    unsigned char *sig;
    size_t sl;
    if (fz_sign(p, kind, alg, si, strlen(si), &sig, &sl) != 0)
        return NULL;
    return apr_pstrcat(p, si, ".", fz_b64url(p, sig, sl), NULL);
}

int fz_split(const uint8_t *buf, size_t len, const uint8_t **a, size_t *alen,
             const uint8_t **rest, size_t *rest_len)
{
    const uint8_t *nul = memchr(buf, 0, len);
    *a = buf;
    if (nul == NULL) {
        *alen = len;
        *rest = buf + len;
        *rest_len = 0;
        return 0;
    }
    *alen = (size_t)(nul - buf);
    *rest = nul + 1;
    *rest_len = len - *alen - 1;
    return 1;
}

char *fz_strndup(apr_pool_t *p, const void *data, size_t len)
{
    return apr_pstrmemdup(p, data, len);
}
