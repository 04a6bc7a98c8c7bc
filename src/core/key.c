/* key.c - one verification key from its raw members: an OpenSSL EVP_PKEY
 * for RSA, EC and Ed25519 (its verification contexts are prepared by
 * verify.c when the set keeps it), the secret bytes for oct, and the RFC
 * 7638 thumbprint. The sanity rules of the SPEC ("Trust") are applied here,
 * before OpenSSL sees the numbers. Part of the core: no httpd header. */
#include "key.h"
#include <string.h>
#include <apr_encode.h>
#include <apr_strings.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/param_build.h>

#define MIN_RSA_BITS 2048
#define MAX_RSA_BITS 8192

/* The sanity rules (SPEC "Trust"): keys that could be used but must not
 * be trusted, refused as CKA_KEY_UNTRUSTED (counted in ks->untrusted);
 * every other refusal is CKA_KEY_UNUSABLE. */
static const char WHY_RSA_SHORT[] = "RSA modulus under 2048 bits";
static const char WHY_RSA_LONG[] = "RSA modulus over 8192 bits";
static const char WHY_E_SMALL[] = "RSA exponent below 3";
static const char WHY_E_BIG[] = "RSA exponent above 2^32";
static const char WHY_E_EVEN[] = "RSA exponent is even";
static const char WHY_EC_CURVE[] = "EC point not on its curve";
static const char WHY_ED_SMALL[] = "Ed25519 key of small order";

static cka_reason_t untrusted(cka_err_t *err, const char *why)
{
    return cka_fail(err, CKA_KEY_UNTRUSTED, why);
}

static cka_reason_t unusable(cka_err_t *err, const char *why)
{
    return cka_fail(err, CKA_KEY_UNUSABLE, why);
}

/* The thumbprint, the last step of every builder. */
static cka_reason_t thumbed(int rv, cka_err_t *err)
{
    return rv == 0 ? CKA_OK : cka_fail(err, CKA_CRYPTO_FAILED, "no thumbprint");
}

static apr_status_t pkey_cleanup(void *v)
{
    EVP_PKEY_free((EVP_PKEY *)v);
    return APR_SUCCESS;
}

/* ---- RFC 7638 thumbprints ------------------------------------------------ */

static const char *b64(apr_pool_t *p, const unsigned char *d, size_t n)
{
    return apr_pencode_base64_binary(p, d, (apr_ssize_t)n, APR_ENCODE_BASE64URL, NULL);
}

/* SHA-256 over the concatenation of parts (NULL-terminated list): the
 * canonical JSON of the required members, written in order, no copy. */
static int thumb_of(unsigned char out[CKA_THUMB_LEN], const char *const *parts)
{
    unsigned int len = 0;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int ok = ctx != NULL && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1;
    for (; ok && *parts != NULL; parts++)
        ok = EVP_DigestUpdate(ctx, *parts, strlen(*parts)) == 1;
    ok = ok && EVP_DigestFinal_ex(ctx, out, &len) == 1 && len == CKA_THUMB_LEN;
    EVP_MD_CTX_free(ctx);
    return ok ? 0 : -1;
}

char *cka_thumb_text(apr_pool_t *p, const unsigned char thumb[CKA_THUMB_LEN])
{
    return apr_pstrdup(p, b64(p, thumb, CKA_THUMB_LEN));
}

/* ---- the builders: raw members -> a checked key -------------------------- */

/* An EVP_PKEY of type "RSA" or "EC" from the parameters in bld. For EC,
 * the public-key check too: not the point at infinity, coordinates below p,
 * on the curve. (The "quick" check leaves out n * Q = O, which a point on
 * P-256, P-384 or P-521 always meets: their cofactor is 1.) NULL when
 * OpenSSL refuses. */
static EVP_PKEY *pkey_from_params(const char *type, OSSL_PARAM_BLD *bld)
{
    EVP_PKEY *pk = NULL;
    OSSL_PARAM *params = OSSL_PARAM_BLD_to_param(bld);
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);
    if (params == NULL || ctx == NULL || EVP_PKEY_fromdata_init(ctx) != 1
        || EVP_PKEY_fromdata(ctx, &pk, EVP_PKEY_PUBLIC_KEY, params) != 1)
        pk = NULL;
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    if (pk != NULL && strcmp(type, "EC") == 0) {
        EVP_PKEY_CTX *chk = EVP_PKEY_CTX_new_from_pkey(NULL, pk, NULL);
        int ok = chk != NULL && EVP_PKEY_public_check_quick(chk) == 1;
        EVP_PKEY_CTX_free(chk);
        if (!ok) {
            EVP_PKEY_free(pk);
            pk = NULL;
        }
    }
    return pk;
}

static void own_pkey(apr_pool_t *p, cka_key_t *k, EVP_PKEY *pk)
{
    k->pkey = pk;
    apr_pool_cleanup_register(p, pk, pkey_cleanup, apr_pool_cleanup_null);
}

/* Leading zero bytes off a big-endian integer (some IdPs write n as a
 * signed integer, with a 0x00 first). */
static void minimal(const unsigned char **d, size_t *n)
{
    while (*n > 0 && **d == 0) {
        (*d)++;
        (*n)--;
    }
}

/* RSA from the big-endian modulus and exponent. Refused: a modulus under
 * 2048 or over 8192 bits (exact bit length), an exponent that is even,
 * below 3 or above 2^32 (e = 1 makes the signature the bare PKCS#1
 * encoding of the digest: anyone could sign). Checked before OpenSSL sees
 * the numbers, so a 16384-bit modulus costs nothing. */
cka_reason_t cka_key_rsa(apr_pool_t *p, cka_key_t *k,
                         const unsigned char *n, size_t nlen,
                         const unsigned char *e, size_t elen, cka_err_t *err)
{
    unsigned long long ev = 0;
    minimal(&n, &nlen);
    minimal(&e, &elen);
    if (nlen == 0)
        return untrusted(err, WHY_RSA_SHORT);
    if (nlen > MAX_RSA_BITS / 8 + 1)
        return untrusted(err, WHY_RSA_LONG);
    int top = 0;
    for (unsigned c = n[0]; c != 0; c >>= 1)
        top++;
    k->bits = (int)(nlen - 1) * 8 + top;
    if (k->bits < MIN_RSA_BITS)
        return untrusted(err, WHY_RSA_SHORT);
    if (k->bits > MAX_RSA_BITS)
        return untrusted(err, WHY_RSA_LONG);
    if (elen > 5)
        return untrusted(err, WHY_E_BIG);
    for (size_t i = 0; i < elen; i++)
        ev = ev << 8 | e[i];
    if (ev < 3)
        return untrusted(err, WHY_E_SMALL);
    if (ev > 4294967296ULL)
        return untrusted(err, WHY_E_BIG);
    if (ev % 2 == 0)
        return untrusted(err, WHY_E_EVEN);

    EVP_PKEY *pk = NULL;
    BIGNUM *bn = BN_bin2bn(n, (int)nlen, NULL), *be = BN_bin2bn(e, (int)elen, NULL);
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    if (bn != NULL && be != NULL && bld != NULL
        && OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn)
        && OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, be))
        pk = pkey_from_params("RSA", bld);
    OSSL_PARAM_BLD_free(bld);
    BN_free(bn);
    BN_free(be);
    if (pk == NULL)
        return unusable(err, "RSA key rejected by OpenSSL");
    own_pkey(p, k, pk);
    k->kty = CKA_KTY_RSA;
    const char *parts[] = { "{\"e\":\"", b64(p, e, elen), "\",\"kty\":\"RSA\",\"n\":\"",
                            b64(p, n, nlen), "\"}", NULL };
    return thumbed(thumb_of(k->thumb, parts), err);
}

static const char *crv_name(cka_crv_t crv)
{
    switch (crv) {
    case CKA_CRV_P256: return "P-256";
    case CKA_CRV_P384: return "P-384";
    case CKA_CRV_P521: return "P-521";
    case CKA_CRV_ED25519: return "Ed25519";
    default: return NULL;
    }
}

/* Coordinate size of an EC curve in bytes. */
size_t cka_crv_size(cka_crv_t crv)
{
    return crv == CKA_CRV_P256 ? 32 : crv == CKA_CRV_P384 ? 48 : crv == CKA_CRV_P521 ? 66 : 0;
}

/* EC from coordinates of exactly the curve's size (RFC 7518 §6.2.1.2);
 * the point must be on the curve. */
cka_reason_t cka_key_ec(apr_pool_t *p, cka_key_t *k, cka_crv_t crv,
                        const unsigned char *x, size_t xlen,
                        const unsigned char *y, size_t ylen, cka_err_t *err)
{
    const size_t size = cka_crv_size(crv);
    const char *group = crv == CKA_CRV_P256 ? "prime256v1"
                      : crv == CKA_CRV_P384 ? "secp384r1" : "secp521r1";
    unsigned char point[1 + 2 * 66];
    if (size == 0 || xlen != size || ylen != size)
        return unusable(err, "EC key x or y is not of the curve's size");
    point[0] = 0x04;                     /* uncompressed: 04 || x || y */
    memcpy(point + 1, x, size);
    memcpy(point + 1 + size, y, size);
    EVP_PKEY *pk = NULL;
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    if (bld != NULL
        && OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, group, 0)
        && OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point,
                                            1 + 2 * size))
        pk = pkey_from_params("EC", bld);
    OSSL_PARAM_BLD_free(bld);
    if (pk == NULL)
        return untrusted(err, WHY_EC_CURVE);
    own_pkey(p, k, pk);
    k->kty = CKA_KTY_EC;
    k->crv = crv;
    const char *parts[] = { "{\"crv\":\"", crv_name(crv), "\",\"kty\":\"EC\",\"x\":\"",
                            b64(p, x, size), "\",\"y\":\"", b64(p, y, size), "\"}", NULL };
    return thumbed(thumb_of(k->thumb, parts), err);
}

/* The y coordinates (little-endian, sign bit of x left out) of the eight
 * Ed25519 points of small order, and the non-canonical encodings y + p of
 * the two that have one; the same list as libsodium's
 * ge25519_has_small_order. Under such a key A, R = A-multiple, S = 0
 * "verifies" any message: (e.g. A = 01 00..00, R = 01 00..00, S = 0). */
static const unsigned char ed25519_small_order[7][32] = {
    /* 0 (order 4) */
    { 0 },
    /* 1 (order 1: the neutral element) */
    { 0x01 },
    /* 2707385501144840649318225287225658788936804267575313519463743609750303402022 (order 8) */
    { 0x26, 0xe8, 0x95, 0x8f, 0xc2, 0xb2, 0x27, 0xb0, 0x45, 0xc3, 0xf4, 0x89,
      0xf2, 0xef, 0x98, 0xf0, 0xd5, 0xdf, 0xac, 0x05, 0xd3, 0xc6, 0x33, 0x39,
      0xb1, 0x38, 0x02, 0x88, 0x6d, 0x53, 0xfc, 0x05 },
    /* 55188659117513257062467267217118295137698188065244968500265048394206261417927 (order 8) */
    { 0xc7, 0x17, 0x6a, 0x70, 0x3d, 0x4d, 0xd8, 0x4f, 0xba, 0x3c, 0x0b, 0x76,
      0x0d, 0x10, 0x67, 0x0f, 0x2a, 0x20, 0x53, 0xfa, 0x2c, 0x39, 0xcc, 0xc6,
      0x4e, 0xc7, 0xfd, 0x77, 0x92, 0xac, 0x03, 0x7a },
    /* p - 1 (order 2) */
    { 0xec, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
      0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
      0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f },
    /* p (= 0, non-canonical) */
    { 0xed, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
      0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
      0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f },
    /* p + 1 (= 1, non-canonical) */
    { 0xee, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
      0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
      0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f },
};

static int ed25519_small_order_point(const unsigned char a[32])
{
    for (size_t i = 0; i < sizeof(ed25519_small_order) / 32; i++)
        if (memcmp(a, ed25519_small_order[i], 31) == 0
            && (a[31] & 0x7f) == ed25519_small_order[i][31])
            return 1;
    return 0;
}

cka_reason_t cka_key_okp(apr_pool_t *p, cka_key_t *k, const unsigned char *x, size_t xlen,
                         cka_err_t *err)
{
    if (xlen != 32)
        return unusable(err, "Ed25519 key x is not 32 bytes");
    if (ed25519_small_order_point(x))
        return untrusted(err, WHY_ED_SMALL);
    EVP_PKEY *pk = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, x, xlen);
    if (pk == NULL)
        return unusable(err, "Ed25519 key is not valid");
    own_pkey(p, k, pk);
    k->kty = CKA_KTY_OKP;
    k->crv = CKA_CRV_ED25519;
    const char *parts[] = { "{\"crv\":\"Ed25519\",\"kty\":\"OKP\",\"x\":\"",
                            b64(p, x, xlen), "\"}", NULL };
    return thumbed(thumb_of(k->thumb, parts), err);
}

/* An HMAC secret is a byte string: leading zero bytes count. */
cka_reason_t cka_key_oct(apr_pool_t *p, cka_key_t *k, const unsigned char *s, size_t slen,
                         cka_err_t *err)
{
    if (slen == 0)
        return unusable(err, "oct key k is empty");
    k->kty = CKA_KTY_OCT;
    k->bits = (int)slen * 8;
    k->secret = s;
    k->secret_len = slen;
    const char *parts[] = { "{\"k\":\"", b64(p, s, slen), "\",\"kty\":\"oct\"}", NULL };
    return thumbed(thumb_of(k->thumb, parts), err);
}

/* ---- fitness ------------------------------------------------------------- */

int cka_key_fits_alg(const cka_key_t *k, cka_alg_t alg)
{
    if (k->alg != CKA_ALG_UNKNOWN && k->alg != alg)
        return 0;
    switch (alg) {
    case CKA_ALG_RS256: case CKA_ALG_RS384: case CKA_ALG_RS512:
    case CKA_ALG_PS256: case CKA_ALG_PS384: case CKA_ALG_PS512:
        return k->kty == CKA_KTY_RSA;
    case CKA_ALG_ES256: return k->kty == CKA_KTY_EC && k->crv == CKA_CRV_P256;
    case CKA_ALG_ES384: return k->kty == CKA_KTY_EC && k->crv == CKA_CRV_P384;
    case CKA_ALG_ES512: return k->kty == CKA_KTY_EC && k->crv == CKA_CRV_P521;
    case CKA_ALG_EDDSA: return k->kty == CKA_KTY_OKP && k->crv == CKA_CRV_ED25519;
    /* RFC 7518 §3.2: the HMAC key must be at least as long as the hash. */
    case CKA_ALG_HS256: return k->kty == CKA_KTY_OCT && k->bits >= 256;
    case CKA_ALG_HS384: return k->kty == CKA_KTY_OCT && k->bits >= 384;
    case CKA_ALG_HS512: return k->kty == CKA_KTY_OCT && k->bits >= 512;
    default: return 0;
    }
}
