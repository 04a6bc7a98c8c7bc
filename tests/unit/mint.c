/* mint.c - test-time keys and tokens (see mint.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <apr_strings.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/encoder.h>
#include <openssl/err.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include "mint.h"

static mint_key_t keys[MINT_KIND_COUNT][2];
static int keys_ready;

static void die(const char *what)
{
    fprintf(stderr, "mint: %s failed\n", what);
    ERR_print_errors_fp(stderr);
    abort();
}

static void gen(mint_key_t *k, mint_kind_t kind)
{
    k->kind = kind;
    k->pkey = NULL;
    k->secret_len = 0;
    switch (kind) {
    case MINT_RSA:
        k->pkey = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
        break;
    case MINT_P256:
        k->pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
        break;
    case MINT_P384:
        k->pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
        break;
    case MINT_P521:
        k->pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-521");
        break;
    case MINT_ED25519:
        k->pkey = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
        break;
    case MINT_HMAC:
        if (RAND_bytes(k->secret, (int)sizeof(k->secret)) != 1)
            die("RAND_bytes");
        k->secret_len = sizeof(k->secret);
        return;
    default:
        die("unknown kind");
    }
    if (!k->pkey)
        die("EVP_PKEY_Q_keygen");
}

void mint_init(void)
{
    int kind, which;
    if (keys_ready)
        return;
    for (kind = 0; kind < MINT_KIND_COUNT; kind++)
        for (which = 0; which < 2; which++)
            gen(&keys[kind][which], (mint_kind_t)kind);
    keys_ready = 1;
}

const mint_key_t *mint_key(mint_kind_t kind, int which)
{
    mint_init();
    return &keys[kind][which ? 1 : 0];
}

mint_kind_t mint_kind_for_alg(cka_alg_t alg)
{
    switch (alg) {
    case CKA_ALG_ES256: return MINT_P256;
    case CKA_ALG_ES384: return MINT_P384;
    case CKA_ALG_ES512: return MINT_P521;
    case CKA_ALG_EDDSA: return MINT_ED25519;
    case CKA_ALG_HS256: case CKA_ALG_HS384: case CKA_ALG_HS512:
        return MINT_HMAC;
    default: return MINT_RSA;
    }
}

const char *mint_alg_name(cka_alg_t alg)
{
    static const char *const names[CKA_ALG_COUNT] = {
        "?", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512",
        "ES256", "ES384", "ES512", "EdDSA", "HS256", "HS384", "HS512"
    };
    return (unsigned)alg < CKA_ALG_COUNT ? names[alg] : "?";
}

static const EVP_MD *alg_md(cka_alg_t alg)
{
    switch (alg) {
    case CKA_ALG_RS256: case CKA_ALG_PS256: case CKA_ALG_ES256:
    case CKA_ALG_HS256: return EVP_sha256();
    case CKA_ALG_RS384: case CKA_ALG_PS384: case CKA_ALG_ES384:
    case CKA_ALG_HS384: return EVP_sha384();
    case CKA_ALG_RS512: case CKA_ALG_PS512: case CKA_ALG_ES512:
    case CKA_ALG_HS512: return EVP_sha512();
    default: return NULL;
    }
}

static size_t ec_coord_len(cka_alg_t alg)
{
    switch (alg) {
    case CKA_ALG_ES256: return 32;
    case CKA_ALG_ES384: return 48;
    case CKA_ALG_ES512: return 66;
    default: return 0;
    }
}

size_t mint_sig_len(cka_alg_t alg)
{
    switch (alg) {
    case CKA_ALG_ES256: case CKA_ALG_ES384: case CKA_ALG_ES512:
        return 2 * ec_coord_len(alg);
    case CKA_ALG_EDDSA: return 64;
    case CKA_ALG_HS256: return 32;
    case CKA_ALG_HS384: return 48;
    case CKA_ALG_HS512: return 64;
    default: return 256;   /* RSA-2048 */
    }
}

long long mint_now(void)
{
    return (long long)time(NULL);
}

/* --- encodings ------------------------------------------------------- */

char *mint_b64url(apr_pool_t *p, const void *data, size_t len)
{
    static const char abc[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    const unsigned char *in = data;
    char *out = apr_palloc(p, len / 3 * 4 + 5), *o = out;
    size_t i;
    for (i = 0; i + 2 < len; i += 3) {
        unsigned long v = ((unsigned long)in[i] << 16) |
                          ((unsigned long)in[i + 1] << 8) | in[i + 2];
        *o++ = abc[(v >> 18) & 63];
        *o++ = abc[(v >> 12) & 63];
        *o++ = abc[(v >> 6) & 63];
        *o++ = abc[v & 63];
    }
    if (len - i == 1) {
        unsigned long v = (unsigned long)in[i] << 16;
        *o++ = abc[(v >> 18) & 63];
        *o++ = abc[(v >> 12) & 63];
    } else if (len - i == 2) {
        unsigned long v = ((unsigned long)in[i] << 16) |
                          ((unsigned long)in[i + 1] << 8);
        *o++ = abc[(v >> 18) & 63];
        *o++ = abc[(v >> 12) & 63];
        *o++ = abc[(v >> 6) & 63];
    }
    *o = '\0';
    return out;
}

char *mint_b64url_str(apr_pool_t *p, const char *s)
{
    return mint_b64url(p, s, strlen(s));
}

char *mint_b64std(apr_pool_t *p, const void *data, size_t len)
{
    char *out = apr_palloc(p, (len + 2) / 3 * 4 + 1);
    EVP_EncodeBlock((unsigned char *)out, data, (int)len);
    return out;
}

/* Decode base64url leniently (mint's own inverse, for tampering only). */
static unsigned char *b64url_dec(apr_pool_t *p, const char *s, size_t *len)
{
    size_t n = strlen(s), i, o = 0;
    unsigned char *out = apr_palloc(p, n * 3 / 4 + 3);
    unsigned long acc = 0;
    int bits = 0;
    for (i = 0; i < n; i++) {
        const char c = s[i];
        int v;
        if (c >= 'A' && c <= 'Z') v = c - 'A';
        else if (c >= 'a' && c <= 'z') v = c - 'a' + 26;
        else if (c >= '0' && c <= '9') v = c - '0' + 52;
        else if (c == '-') v = 62;
        else if (c == '_') v = 63;
        else break;
        acc = (acc << 6) | (unsigned long)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (unsigned char)((acc >> bits) & 0xff);
        }
    }
    *len = o;
    return out;
}

/* --- key export ------------------------------------------------------ */

static char *bn_b64(apr_pool_t *p, const BIGNUM *bn, size_t pad)
{
    size_t n = pad ? pad : (size_t)BN_num_bytes(bn);
    unsigned char *buf = apr_palloc(p, n ? n : 1);
    if (BN_bn2binpad(bn, buf, (int)n) < 0)
        die("BN_bn2binpad");
    return mint_b64url(p, buf, n);
}

static char *bn_param_b64(apr_pool_t *p, const EVP_PKEY *k, const char *name,
                          size_t pad)
{
    BIGNUM *bn = NULL;
    char *s;
    if (EVP_PKEY_get_bn_param(k, name, &bn) != 1)
        die("EVP_PKEY_get_bn_param");
    s = bn_b64(p, bn, pad);
    BN_free(bn);
    return s;
}

char *mint_jwk(apr_pool_t *p, const mint_key_t *k, const char *extra)
{
    const char *body = NULL, *crv = NULL;
    size_t coord = 0;
    switch (k->kind) {
    case MINT_RSA:
        body = apr_psprintf(p, "\"kty\":\"RSA\",\"n\":\"%s\",\"e\":\"%s\"",
                            bn_param_b64(p, k->pkey, OSSL_PKEY_PARAM_RSA_N, 0),
                            bn_param_b64(p, k->pkey, OSSL_PKEY_PARAM_RSA_E, 0));
        break;
    case MINT_P256: crv = "P-256"; coord = 32; break;
    case MINT_P384: crv = "P-384"; coord = 48; break;
    case MINT_P521: crv = "P-521"; coord = 66; break;
    case MINT_ED25519: {
        unsigned char raw[32];
        size_t rl = sizeof(raw);
        if (EVP_PKEY_get_raw_public_key(k->pkey, raw, &rl) != 1)
            die("EVP_PKEY_get_raw_public_key");
        body = apr_psprintf(p, "\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"%s\"",
                            mint_b64url(p, raw, rl));
        break;
    }
    case MINT_HMAC:
        body = apr_psprintf(p, "\"kty\":\"oct\",\"k\":\"%s\"",
                            mint_b64url(p, k->secret, k->secret_len));
        break;
    default:
        die("mint_jwk kind");
    }
    if (crv)
        body = apr_psprintf(p, "\"kty\":\"EC\",\"crv\":\"%s\",\"x\":\"%s\",\"y\":\"%s\"",
                            crv,
                            bn_param_b64(p, k->pkey, OSSL_PKEY_PARAM_EC_PUB_X, coord),
                            bn_param_b64(p, k->pkey, OSSL_PKEY_PARAM_EC_PUB_Y, coord));
    if (extra && *extra)
        return apr_psprintf(p, "{%s,%s}", body, extra);
    return apr_psprintf(p, "{%s}", body);
}

char *mint_jwks(apr_pool_t *p, int n, ...)
{
    va_list ap;
    char *out = apr_pstrdup(p, "{\"keys\":[");
    int i;
    va_start(ap, n);
    for (i = 0; i < n; i++)
        out = apr_pstrcat(p, out, i ? "," : "", va_arg(ap, const char *), NULL);
    va_end(ap);
    return apr_pstrcat(p, out, "]}", NULL);
}

static char *bio_text(apr_pool_t *p, BIO *b)
{
    char *data = NULL;
    long n = BIO_get_mem_data(b, &data);
    char *out = apr_pstrmemdup(p, data, (apr_size_t)n);
    BIO_free(b);
    return out;
}

char *mint_pem_public(apr_pool_t *p, const mint_key_t *k)
{
    BIO *b = BIO_new(BIO_s_mem());
    if (!b || PEM_write_bio_PUBKEY(b, k->pkey) != 1)
        die("PEM_write_bio_PUBKEY");
    return bio_text(p, b);
}

char *mint_pem_rsa_pkcs1(apr_pool_t *p, const mint_key_t *k)
{
    OSSL_ENCODER_CTX *ectx;
    unsigned char *data = NULL;
    size_t dlen = 0;
    char *out;
    ectx = OSSL_ENCODER_CTX_new_for_pkey(k->pkey, OSSL_KEYMGMT_SELECT_PUBLIC_KEY,
                                         "PEM", "type-specific", NULL);
    if (!ectx || OSSL_ENCODER_to_data(ectx, &data, &dlen) != 1)
        die("OSSL_ENCODER_to_data");
    out = apr_pstrmemdup(p, (const char *)data, dlen);
    OPENSSL_free(data);
    OSSL_ENCODER_CTX_free(ectx);
    return out;
}

static X509 *make_cert(const mint_key_t *k)
{
    X509 *x = X509_new();
    X509_NAME *name;
    const EVP_MD *md = k->kind == MINT_ED25519 ? NULL : EVP_sha256();
    if (!x)
        die("X509_new");
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
    X509_gmtime_adj(X509_getm_notBefore(x), -3600);
    X509_gmtime_adj(X509_getm_notAfter(x), 86400L * 365);
    name = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               (const unsigned char *)"mint test key", -1, -1, 0);
    X509_set_issuer_name(x, name);
    if (X509_set_pubkey(x, k->pkey) != 1 || X509_sign(x, k->pkey, md) <= 0)
        die("X509_sign");
    return x;
}

char *mint_pem_cert(apr_pool_t *p, const mint_key_t *k)
{
    X509 *x = make_cert(k);
    BIO *b = BIO_new(BIO_s_mem());
    if (!b || PEM_write_bio_X509(b, x) != 1)
        die("PEM_write_bio_X509");
    X509_free(x);
    return bio_text(p, b);
}

char *mint_cert_b64der(apr_pool_t *p, const mint_key_t *k)
{
    X509 *x = make_cert(k);
    unsigned char *der = NULL;
    int n = i2d_X509(x, &der);
    char *out;
    if (n <= 0)
        die("i2d_X509");
    out = mint_b64std(p, der, (size_t)n);
    OPENSSL_free(der);
    X509_free(x);
    return out;
}

unsigned char *mint_spki_der(apr_pool_t *p, const mint_key_t *k, size_t *len)
{
    unsigned char *der = NULL, *out;
    int n = i2d_PUBKEY(k->pkey, &der);
    if (n <= 0)
        die("i2d_PUBKEY");
    out = apr_pmemdup(p, der, (apr_size_t)n);
    OPENSSL_free(der);
    *len = (size_t)n;
    return out;
}

/* --- signing --------------------------------------------------------- */

int mint_hmac(apr_pool_t *p, const void *secret, size_t slen, cka_alg_t alg,
              const void *data, size_t len,
              unsigned char **sig, size_t *sig_len)
{
    unsigned char buf[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    const EVP_MD *md = alg_md(alg);
    if (alg != CKA_ALG_HS256 && alg != CKA_ALG_HS384 && alg != CKA_ALG_HS512)
        return -1;
    if (!HMAC(md, secret, (int)slen, data, len, buf, &n))
        return -1;
    *sig = apr_pmemdup(p, buf, n);
    *sig_len = n;
    return 0;
}

static int kind_signs(mint_kind_t kind, cka_alg_t alg)
{
    return mint_kind_for_alg(alg) == kind;
}

int mint_sign(apr_pool_t *p, const mint_key_t *k, cka_alg_t alg,
              const void *data, size_t len, int der,
              unsigned char **sig, size_t *sig_len)
{
    EVP_MD_CTX *ctx;
    EVP_PKEY_CTX *pctx = NULL;
    unsigned char *buf;
    size_t n = 0;
    int rc = -1;

    if (!kind_signs(k->kind, alg))
        return -1;
    if (k->kind == MINT_HMAC)
        return mint_hmac(p, k->secret, k->secret_len, alg, data, len, sig, sig_len);
    if (!(ctx = EVP_MD_CTX_new()))
        return -1;
    if (EVP_DigestSignInit(ctx, &pctx, alg == CKA_ALG_EDDSA ? NULL : alg_md(alg),
                           NULL, k->pkey) != 1)
        goto out;
    if (alg == CKA_ALG_PS256 || alg == CKA_ALG_PS384 || alg == CKA_ALG_PS512) {
        if (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
            EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) != 1)
            goto out;
    }
    if (EVP_DigestSign(ctx, NULL, &n, data, len) != 1)
        goto out;
    buf = apr_palloc(p, n);
    if (EVP_DigestSign(ctx, buf, &n, data, len) != 1)
        goto out;
    if (ec_coord_len(alg) && !der) {
        const unsigned char *q = buf;
        const BIGNUM *r, *s;
        size_t c = ec_coord_len(alg);
        ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &q, (long)n);
        unsigned char *raw = apr_palloc(p, 2 * c);
        if (!es)
            goto out;
        ECDSA_SIG_get0(es, &r, &s);
        BN_bn2binpad(r, raw, (int)c);
        BN_bn2binpad(s, raw + c, (int)c);
        ECDSA_SIG_free(es);
        buf = raw;
        n = 2 * c;
    }
    *sig = buf;
    *sig_len = n;
    rc = 0;
out:
    EVP_MD_CTX_free(ctx);
    return rc;
}

char *mint_compact(apr_pool_t *p, const char *header_json,
                   const char *payload_json,
                   const unsigned char *sig, size_t sig_len)
{
    return apr_pstrcat(p, mint_b64url_str(p, header_json), ".",
                       mint_b64url_str(p, payload_json), ".",
                       mint_b64url(p, sig, sig_len), NULL);
}

static char *token_with(apr_pool_t *p, const mint_key_t *k, const void *secret,
                        size_t slen, cka_alg_t alg, int der,
                        const char *header_json, const char *payload_json)
{
    char *input = apr_pstrcat(p, mint_b64url_str(p, header_json), ".",
                              mint_b64url_str(p, payload_json), NULL);
    unsigned char *sig;
    size_t sig_len;
    int rc = k ? mint_sign(p, k, alg, input, strlen(input), der, &sig, &sig_len)
               : mint_hmac(p, secret, slen, alg, input, strlen(input),
                           &sig, &sig_len);
    if (rc != 0)
        return NULL;
    return apr_pstrcat(p, input, ".", mint_b64url(p, sig, sig_len), NULL);
}

char *mint_token(apr_pool_t *p, const mint_key_t *k, cka_alg_t alg,
                 const char *header_json, const char *payload_json)
{
    return token_with(p, k, NULL, 0, alg, 0, header_json, payload_json);
}

char *mint_token_der(apr_pool_t *p, const mint_key_t *k, cka_alg_t alg,
                     const char *header_json, const char *payload_json)
{
    return token_with(p, k, NULL, 0, alg, 1, header_json, payload_json);
}

char *mint_token_secret(apr_pool_t *p, const void *secret, size_t slen,
                        cka_alg_t alg, const char *header_json,
                        const char *payload_json)
{
    return token_with(p, NULL, secret, slen, alg, 0, header_json, payload_json);
}

char *mint_header(apr_pool_t *p, const char *alg, const char *kid,
                  const char *extra)
{
    return apr_pstrcat(p, "{\"alg\":\"", alg, "\"",
                       kid ? ",\"kid\":\"" : "", kid ? kid : "", kid ? "\"" : "",
                       extra && *extra ? "," : "", extra ? extra : "", "}", NULL);
}

char *mint_claims(apr_pool_t *p, const char *iss, const char *aud_json,
                  long long exp_delta, const char *extra)
{
    long long now = mint_now();
    return apr_psprintf(p,
        "{\"iss\":\"%s\"%s%s,\"sub\":\"user-1\",\"email\":\"alice@example.com\","
        "\"iat\":%" APR_INT64_T_FMT ",\"exp\":%" APR_INT64_T_FMT "%s%s}",
        iss, aud_json ? ",\"aud\":" : "", aud_json ? aud_json : "",
        (apr_int64_t)now, (apr_int64_t)(now + exp_delta),
        extra && *extra ? "," : "", extra ? extra : "");
}

/* --- tampering ------------------------------------------------------- */

static int split(apr_pool_t *p, const char *token, char **seg, int max)
{
    char *copy = apr_pstrdup(p, token), *s = copy;
    int n = 0;
    for (;;) {
        char *dot = strchr(s, '.');
        if (n == max)
            return -1;
        seg[n++] = s;
        if (!dot)
            break;
        *dot = '\0';
        s = dot + 1;
    }
    return n;
}

static char *join(apr_pool_t *p, char **seg, int n)
{
    char *out = seg[0];
    int i;
    for (i = 1; i < n; i++)
        out = apr_pstrcat(p, out, ".", seg[i], NULL);
    return out;
}

char *mint_segment(apr_pool_t *p, const char *token, int i)
{
    char *seg[8];
    int n = split(p, token, seg, 8);
    return i >= 0 && i < n ? seg[i] : NULL;
}

char *mint_set_segment(apr_pool_t *p, const char *token, int i,
                       const char *seg_text)
{
    char *seg[8];
    int n = split(p, token, seg, 8);
    if (i < 0 || i >= n)
        return NULL;
    seg[i] = apr_pstrdup(p, seg_text);
    return join(p, seg, n);
}

char *mint_swap_segments(apr_pool_t *p, const char *token, int i, int j)
{
    char *seg[8], *t;
    int n = split(p, token, seg, 8);
    if (i < 0 || j < 0 || i >= n || j >= n)
        return NULL;
    t = seg[i];
    seg[i] = seg[j];
    seg[j] = t;
    return join(p, seg, n);
}

unsigned char *mint_sig_bytes(apr_pool_t *p, const char *token, size_t *len)
{
    const char *s = mint_segment(p, token, 2);
    return s ? b64url_dec(p, s, len) : NULL;
}

char *mint_set_sig(apr_pool_t *p, const char *token,
                   const unsigned char *sig, size_t len)
{
    return mint_set_segment(p, token, 2, mint_b64url(p, sig, len));
}

char *mint_flip_sig(apr_pool_t *p, const char *token, long idx)
{
    size_t len;
    unsigned char *sig = mint_sig_bytes(p, token, &len);
    size_t at;
    if (!sig || !len)
        return NULL;
    at = idx < 0 ? len - (size_t)(-idx) : (size_t)idx;
    if (at >= len)
        return NULL;
    sig[at] ^= 0x01;
    return mint_set_sig(p, token, sig, len);
}

char *mint_resize_sig(apr_pool_t *p, const char *token, long delta)
{
    size_t len, n;
    unsigned char *sig = mint_sig_bytes(p, token, &len), *out;
    if (!sig || (delta < 0 && (size_t)(-delta) > len))
        return NULL;
    n = (size_t)((long)len + delta);
    out = apr_pcalloc(p, n + 1);
    memcpy(out, sig, n < len ? n : len);
    return mint_set_sig(p, token, out, n);
}

char *mint_noncanonical(apr_pool_t *p, const char *seg)
{
    static const char abc[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    size_t n = strlen(seg);
    char *out;
    const char *at;
    if (n == 0 || n % 4 == 0 || n % 4 == 1)
        return NULL;
    out = apr_pstrdup(p, seg);
    at = strchr(abc, out[n - 1]);
    if (!at)
        return NULL;
    /* 2 chars carry 1 byte (4 spare bits), 3 chars 2 bytes (2 spare bits):
     * setting the lowest spare bit changes no decoded byte. */
    out[n - 1] = abc[(at - abc) | 1];
    return out;
}

/* --- tokens of an exact length --------------------------------------- */

static size_t b64len(size_t n)
{
    return (n * 4 + 2) / 3;
}

char *mint_token_of_len(apr_pool_t *p, const mint_key_t *k, cka_alg_t alg,
                        const char *kid, const char *claims_open, size_t target)
{
    static const unsigned char fake_sig[4] = { 's', 'i', 'g', '!' };
    size_t slen = k ? b64len(mint_sig_len(alg)) : b64len(sizeof(fake_sig));
    size_t open_len = strlen(claims_open);
    int bare = open_len > 0 && claims_open[open_len - 1] == '{';
    size_t base = open_len + strlen(",\"pad\":\"\"}") - (bare ? 1 : 0);
    int hp;

    for (hp = 0; hp < 3; hp++) {
        char *header = apr_psprintf(p, "{\"alg\":\"%s\",\"kid\":\"%s\",\"x\":\"%.*s\"}",
                                    mint_alg_name(alg), kid, hp, "xxx");
        size_t hl = b64len(strlen(header)), rem, n;
        char *payload, *fill, *tok;
        if (hl + 2 + slen >= target)
            return NULL;
        rem = target - hl - 2 - slen;
        if (rem % 4 == 1)
            continue;
        n = rem / 4 * 3 + (rem % 4 == 2 ? 1 : rem % 4 == 3 ? 2 : 0);
        if (n < base)
            continue;
        fill = apr_palloc(p, n - base + 1);
        memset(fill, 'a', n - base);
        fill[n - base] = '\0';
        payload = apr_pstrcat(p, claims_open, bare ? "" : ",",
                              "\"pad\":\"", fill, "\"}", NULL);
        tok = k ? mint_token(p, k, alg, header, payload)
                : mint_compact(p, header, payload, fake_sig, sizeof(fake_sig));
        return tok && strlen(tok) == target ? tok : NULL;
    }
    return NULL;
}

char *mint_times(apr_pool_t *p, const char *tmpl, long long now)
{
    char *out = "";
    const char *s = tmpl;
    while (*s) {
        const char *d = strchr(s, '$');
        char *end;
        long long off;
        if (!d)
            return apr_pstrcat(p, out, s, NULL);
        out = apr_pstrcat(p, out, apr_pstrndup(p, s, (apr_size_t)(d - s)), NULL);
        off = strtoll(d + 1, &end, 10);
        out = apr_psprintf(p, "%s%" APR_INT64_T_FMT, out, (apr_int64_t)(now + off));
        s = end;
    }
    return out;
}

/* --- degenerate keys and RFC 7638 thumbprints (see mint.h) ------------- */
unsigned char *mint_rsa_n(apr_pool_t *p, const mint_key_t *k, size_t *len)
{
    BIGNUM *bn = NULL;
    unsigned char *out;
    if (EVP_PKEY_get_bn_param(k->pkey, OSSL_PKEY_PARAM_RSA_N, &bn) != 1)
        die("EVP_PKEY_get_bn_param n");
    *len = (size_t)BN_num_bytes(bn);
    out = apr_palloc(p, *len);
    BN_bn2bin(bn, out);
    BN_free(bn);
    return out;
}

char *mint_jwk_rsa_raw(apr_pool_t *p, const unsigned char *n, size_t nl,
                       const unsigned char *e, size_t el, const char *extra)
{
    char *body = apr_psprintf(p, "\"kty\":\"RSA\",\"n\":\"%s\",\"e\":\"%s\"",
                              mint_b64url(p, n, nl), mint_b64url(p, e, el));
    return extra && *extra ? apr_psprintf(p, "{%s,%s}", body, extra)
                           : apr_psprintf(p, "{%s}", body);
}

char *mint_jwk_okp_raw(apr_pool_t *p, const unsigned char x[32], const char *extra)
{
    char *body = apr_psprintf(p, "\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"%s\"",
                              mint_b64url(p, x, 32));
    return extra && *extra ? apr_psprintf(p, "{%s,%s}", body, extra)
                           : apr_psprintf(p, "{%s}", body);
}

int mint_pkcs1_encoding(const void *data, size_t len, unsigned char *em, size_t k)
{
    /* RFC 8017 §9.2: 00 01 FF..FF 00 DigestInfo(SHA-256) H */
    static const unsigned char prefix[19] = {
        0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03,
        0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20
    };
    unsigned int hl = 0;
    if (k < 11 + sizeof(prefix) + 32)
        return -1;
    memset(em, 0xff, k);
    em[0] = 0x00;
    em[1] = 0x01;
    em[k - 32 - sizeof(prefix) - 1] = 0x00;
    memcpy(em + k - 32 - sizeof(prefix), prefix, sizeof(prefix));
    return EVP_Digest(data, len, em + k - 32, &hl, EVP_sha256(), NULL) == 1 && hl == 32 ? 0 : -1;
}

/* The string value of "name":"..." in a flat JSON object written by mint
 * (no escapes in base64url or kty/crv names), or NULL. */
static char *flat_member(apr_pool_t *p, const char *json, const char *name)
{
    const char *key = apr_psprintf(p, "\"%s\":\"", name), *at = strstr(json, key), *end;
    if (at == NULL)
        return NULL;
    at += strlen(key);
    end = strchr(at, '"');
    return end ? apr_pstrndup(p, at, (apr_size_t)(end - at)) : NULL;
}

char *mint_thumbprint(apr_pool_t *p, const char *jwk)
{
    const char *kty = flat_member(p, jwk, "kty"), *canon = NULL;
    unsigned char h[32];
    unsigned int hl = 0;
    if (kty == NULL)
        return NULL;
    if (strcmp(kty, "RSA") == 0)
        canon = apr_psprintf(p, "{\"e\":\"%s\",\"kty\":\"RSA\",\"n\":\"%s\"}",
                             flat_member(p, jwk, "e"), flat_member(p, jwk, "n"));
    else if (strcmp(kty, "EC") == 0)
        canon = apr_psprintf(p, "{\"crv\":\"%s\",\"kty\":\"EC\",\"x\":\"%s\",\"y\":\"%s\"}",
                             flat_member(p, jwk, "crv"), flat_member(p, jwk, "x"),
                             flat_member(p, jwk, "y"));
    else if (strcmp(kty, "OKP") == 0)
        canon = apr_psprintf(p, "{\"crv\":\"%s\",\"kty\":\"OKP\",\"x\":\"%s\"}",
                             flat_member(p, jwk, "crv"), flat_member(p, jwk, "x"));
    else if (strcmp(kty, "oct") == 0)
        canon = apr_psprintf(p, "{\"k\":\"%s\",\"kty\":\"oct\"}", flat_member(p, jwk, "k"));
    if (canon == NULL || EVP_Digest(canon, strlen(canon), h, &hl, EVP_sha256(), NULL) != 1)
        return NULL;
    return mint_b64url(p, h, hl);
}
