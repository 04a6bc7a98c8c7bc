/* keyset.c - JWK / JWKS / PEM -> verification keys: an OpenSSL EVP_PKEY
 * for RSA, EC and Ed25519 keys (with its verification contexts, prepared by
 * verify.c), the secret bytes for oct keys. RSA, EC and oct keys are also
 * imported into cjose, as a check and for its view. */
#include "keyset.h"
#include "verify.h"
#include "b64url.h"
#include "json_util.h"
#include "cka_limits.h"
#include <string.h>
#include <apr_strings.h>
#include <apr_file_io.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/decoder.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#define MIN_RSA_BITS 2048

static apr_status_t jwk_cleanup(void *v)
{
    cjose_jwk_release((cjose_jwk_t *)v);
    return APR_SUCCESS;
}

static apr_status_t pkey_cleanup(void *v)
{
    EVP_PKEY_free((EVP_PKEY *)v);
    return APR_SUCCESS;
}

static const char *str_member(const json_t *o, const char *name)
{
    json_t *v = json_object_get(o, name);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

static size_t b64_len(apr_pool_t *p, const char *s)
{
    unsigned char *buf;
    size_t n;
    if (s == NULL || cka_b64url_decode(p, s, strlen(s), &buf, &n) != 0)
        return 0;
    /* ignore leading zero bytes for sizes of big integers */
    size_t z = 0;
    while (z < n && buf[z] == 0)
        z++;
    return n - z;
}

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

/* RSA public key from the big-endian modulus and exponent. */
static EVP_PKEY *rsa_pkey(const unsigned char *n, size_t nlen,
                          const unsigned char *e, size_t elen)
{
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
    return pk;
}

/* EC public key from coordinates of exactly the curve's size (size bytes
 * each, checked by the caller). */
static EVP_PKEY *ec_pkey(cka_crv_t crv, const unsigned char *x,
                         const unsigned char *y, size_t size)
{
    const char *group = crv == CKA_CRV_P256 ? "prime256v1"
                      : crv == CKA_CRV_P384 ? "secp384r1" : "secp521r1";
    unsigned char point[1 + 2 * 66];
    EVP_PKEY *pk = NULL;
    OSSL_PARAM_BLD *bld;
    if (size == 0 || size > 66)
        return NULL;
    point[0] = 0x04;                     /* uncompressed: 04 || x || y */
    memcpy(point + 1, x, size);
    memcpy(point + 1 + size, y, size);
    bld = OSSL_PARAM_BLD_new();
    if (bld != NULL
        && OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, group, 0)
        && OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point,
                                            1 + 2 * size))
        pk = pkey_from_params("EC", bld);
    OSSL_PARAM_BLD_free(bld);
    return pk;
}

/* Turn one JWK into a key, or say (static text) why it is skipped. */
static const char *parse_one(apr_pool_t *p, json_t *jwk, cka_key_t **out)
{
    if (!json_is_object(jwk))
        return "key is not a JSON object";
    const char *kty = str_member(jwk, "kty");
    if (kty == NULL)
        return "key has no kty";
    json_t *use = json_object_get(jwk, "use");
    if (use != NULL && !(json_is_string(use) && strcmp(json_string_value(use), "sig") == 0))
        return "key use is not sig";
    json_t *ops = json_object_get(jwk, "key_ops");
    if (ops != NULL) {
        int verify = 0;
        size_t i;
        json_t *op;
        if (!json_is_array(ops))
            return "key_ops is not an array";
        json_array_foreach(ops, i, op)
            if (json_is_string(op) && strcmp(json_string_value(op), "verify") == 0)
                verify = 1;
        if (!verify)
            return "key_ops does not include verify";
    }
    json_t *kidv = json_object_get(jwk, "kid");
    if (kidv != NULL && !json_is_string(kidv))
        return "kid is not a string";
    cka_key_t *k = apr_pcalloc(p, sizeof(*k));
    k->kid = kidv ? apr_pstrdup(p, json_string_value(kidv)) : NULL;
    json_t *algv = json_object_get(jwk, "alg");
    if (algv != NULL) {
        if (!json_is_string(algv))
            return "alg is not a string";
        k->alg = cka_alg_from_name(json_string_value(algv));
        if (k->alg == CKA_ALG_UNKNOWN)
            return "alg is not a signature algorithm";
    }

    if (strcmp(kty, "OKP") == 0) {
        const char *crv = str_member(jwk, "crv"), *x = str_member(jwk, "x");
        unsigned char *raw;
        size_t rawlen;
        if (crv == NULL || strcmp(crv, "Ed25519") != 0)
            return "OKP curve is not Ed25519";
        if (x == NULL || cka_b64url_decode(p, x, strlen(x), &raw, &rawlen) != 0 || rawlen != 32)
            return "Ed25519 key x is not 32 bytes of base64url";
        k->pkey = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, raw, rawlen);
        if (k->pkey == NULL)
            return "Ed25519 key is not valid";
        apr_pool_cleanup_register(p, k->pkey, pkey_cleanup, apr_pool_cleanup_null);
        k->kty = CKA_KTY_OKP;
        k->crv = CKA_CRV_ED25519;
    }
    else if (strcmp(kty, "RSA") == 0 || strcmp(kty, "EC") == 0 || strcmp(kty, "oct") == 0) {
        if (strcmp(kty, "RSA") == 0) {
            k->kty = CKA_KTY_RSA;
            k->bits = (int)b64_len(p, str_member(jwk, "n")) * 8;
            if (k->bits < MIN_RSA_BITS)
                return "RSA key shorter than 2048 bits or without n";
            if (str_member(jwk, "e") == NULL)
                return "RSA key without e";
        }
        else if (strcmp(kty, "EC") == 0) {
            const char *crv = str_member(jwk, "crv");
            k->kty = CKA_KTY_EC;
            if (crv == NULL)
                return "EC key without crv";
            if (strcmp(crv, "P-256") == 0)
                k->crv = CKA_CRV_P256;
            else if (strcmp(crv, "P-384") == 0)
                k->crv = CKA_CRV_P384;
            else if (strcmp(crv, "P-521") == 0)
                k->crv = CKA_CRV_P521;
            else
                return "EC curve is not P-256, P-384 or P-521";
            if (str_member(jwk, "x") == NULL || str_member(jwk, "y") == NULL)
                return "EC key without x or y";
        }
        else {
            /* An HMAC secret is a byte string: leading zero bytes count. */
            const char *kv = str_member(jwk, "k");
            unsigned char *raw;
            size_t rawlen = 0;
            k->kty = CKA_KTY_OCT;
            if (kv == NULL || cka_b64url_decode(p, kv, strlen(kv), &raw, &rawlen) != 0
                || rawlen == 0)
                return "oct key without k";
            k->bits = (int)rawlen * 8;
            k->secret = raw;
            k->secret_len = rawlen;
        }
        /* cjose asserts (aborts the process) on some malformed members, so
         * it only ever sees a public-only JWK whose fields passed our strict
         * decoder with exact sizes. */
        json_t *clean = json_object();
        cka_json_pool_own(p, clean);
        json_object_set_new(clean, "kty", json_string(kty));
        const char *fields[3] = { NULL, NULL, NULL };
        unsigned char *val[3] = { NULL, NULL, NULL };
        size_t vlen[3] = { 0, 0, 0 };
        size_t want = 0;
        if (k->kty == CKA_KTY_RSA) { fields[0] = "n"; fields[1] = "e"; }
        else if (k->kty == CKA_KTY_EC) {
            fields[0] = "x"; fields[1] = "y";
            want = k->crv == CKA_CRV_P256 ? 32 : k->crv == CKA_CRV_P384 ? 48 : 66;
            json_object_set_new(clean, "crv", json_string(str_member(jwk, "crv")));
        }
        else fields[0] = "k";
        for (int f = 0; f < 3 && fields[f]; f++) {
            const char *v = str_member(jwk, fields[f]);
            unsigned char *raw;
            size_t rawlen;
            if (v == NULL || cka_b64url_decode(p, v, strlen(v), &raw, &rawlen) != 0
                || rawlen == 0 || (want && rawlen != want)
                || (k->kty == CKA_KTY_RSA && fields[f][0] == 'e' && rawlen > 8))
                return "key member is not canonical base64url of the right size";
            json_object_set_new(clean, fields[f], json_string(v));
            val[f] = raw;
            vlen[f] = rawlen;
        }
        if (k->kty == CKA_KTY_RSA || k->kty == CKA_KTY_EC) {
            k->pkey = k->kty == CKA_KTY_RSA ? rsa_pkey(val[0], vlen[0], val[1], vlen[1])
                                            : ec_pkey(k->crv, val[0], val[1], want);
            if (k->pkey == NULL)
                return k->kty == CKA_KTY_RSA ? "RSA key rejected by OpenSSL"
                                             : "EC key is not a valid point of its curve";
            apr_pool_cleanup_register(p, k->pkey, pkey_cleanup, apr_pool_cleanup_null);
        }
        cjose_err cerr;
        k->jwk = cjose_jwk_import_json((cjose_header_t *)clean, &cerr);
        if (k->jwk == NULL)
            return "key rejected by cjose";
        apr_pool_cleanup_register(p, k->jwk, jwk_cleanup, apr_pool_cleanup_null);
    }
    else
        return "kty is not RSA, EC, OKP or oct";

    if (k->alg != CKA_ALG_UNKNOWN && !cka_key_fits_alg(k, k->alg))
        return "alg does not fit the key type";
    if (cka_verify_prepare(p, k) != 0)
        return "key refused by OpenSSL for its algorithms";
    *out = k;
    return NULL;
}

static cka_keyset_t *new_set(apr_pool_t *p)
{
    cka_keyset_t *ks = apr_pcalloc(p, sizeof(*ks));
    ks->pool = p;
    ks->keys = apr_array_make(p, 4, sizeof(cka_key_t *));
    return ks;
}

static cka_keyset_t *finish(cka_keyset_t *ks, char **err)
{
    if (ks->keys->nelts == 0) {
        *err = apr_psprintf(ks->pool, "no usable signature key%s%s",
                            ks->skip_why ? " (" : "",
                            ks->skip_why ? apr_pstrcat(ks->pool, ks->skip_why, ")", NULL) : "");
        return NULL;
    }
    return ks;
}

static void add_json_key(cka_keyset_t *ks, json_t *jwk)
{
    cka_key_t *k = NULL;
    const char *why = parse_one(ks->pool, jwk, &k);
    if (why != NULL || ks->keys->nelts >= CKA_MAX_KEYS) {
        ks->skipped++;
        if (ks->skip_why == NULL)
            ks->skip_why = why ? why : "too many keys";
        return;
    }
    APR_ARRAY_PUSH(ks->keys, cka_key_t *) = k;
}

cka_keyset_t *cka_keyset_parse_json(apr_pool_t *p, const char *buf, size_t len,
                                    char **err)
{
    const char *why = NULL;
    if (len > CKA_MAX_DOC_LEN) {
        *err = apr_pstrdup(p, "key document larger than 1 MiB");
        return NULL;
    }
    json_t *doc = cka_json_parse_object(p, buf, len, &why);
    if (doc == NULL) {
        *err = apr_psprintf(p, "key document: %s", why);
        return NULL;
    }
    cka_keyset_t *ks = new_set(p);
    json_t *keys = json_object_get(doc, "keys");
    if (keys != NULL) {
        size_t i;
        json_t *jwk;
        if (!json_is_array(keys)) {
            *err = apr_pstrdup(p, "JWKS keys is not an array");
            return NULL;
        }
        json_array_foreach(keys, i, jwk)
            add_json_key(ks, jwk);
    }
    else if (json_object_get(doc, "kty") != NULL)
        add_json_key(ks, doc);
    else {
        *err = apr_pstrdup(p, "neither a JWKS (keys) nor a JWK (kty)");
        return NULL;
    }
    return finish(ks, err);
}

static void set_b64_bn(apr_pool_t *p, json_t *o, const char *name,
                       const BIGNUM *bn, int pad)
{
    int n = BN_num_bytes(bn);
    int size = pad > n ? pad : n;
    unsigned char *buf = apr_pcalloc(p, (apr_size_t)size + 1);
    BN_bn2binpad(bn, buf, size);
    json_object_set_new(o, name, json_string(cka_b64url_encode(p, buf, (size_t)size)));
}

/* Express an OpenSSL public key as a JWK so PEM and JWKS share one path. */
static json_t *pkey_to_jwk(apr_pool_t *p, EVP_PKEY *pk)
{
    json_t *o = json_object();
    BIGNUM *a = NULL, *b = NULL;
    if (EVP_PKEY_is_a(pk, "RSA")) {
        if (EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_RSA_N, &a)
            && EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_RSA_E, &b)) {
            json_object_set_new(o, "kty", json_string("RSA"));
            set_b64_bn(p, o, "n", a, 0);
            set_b64_bn(p, o, "e", b, 0);
        }
    }
    else if (EVP_PKEY_is_a(pk, "EC")) {
        char group[64];
        size_t glen = 0;
        const char *crv = NULL;
        int size = 0;
        if (EVP_PKEY_get_utf8_string_param(pk, OSSL_PKEY_PARAM_GROUP_NAME, group,
                                           sizeof(group), &glen)) {
            if (strcmp(group, "prime256v1") == 0) { crv = "P-256"; size = 32; }
            else if (strcmp(group, "secp384r1") == 0) { crv = "P-384"; size = 48; }
            else if (strcmp(group, "secp521r1") == 0) { crv = "P-521"; size = 66; }
        }
        if (crv != NULL && EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_EC_PUB_X, &a)
            && EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_EC_PUB_Y, &b)) {
            json_object_set_new(o, "kty", json_string("EC"));
            json_object_set_new(o, "crv", json_string(crv));
            set_b64_bn(p, o, "x", a, size);
            set_b64_bn(p, o, "y", b, size);
        }
    }
    else if (EVP_PKEY_is_a(pk, "ED25519")) {
        unsigned char raw[32];
        size_t rawlen = sizeof(raw);
        if (EVP_PKEY_get_raw_public_key(pk, raw, &rawlen) && rawlen == 32) {
            json_object_set_new(o, "kty", json_string("OKP"));
            json_object_set_new(o, "crv", json_string("Ed25519"));
            json_object_set_new(o, "x", json_string(cka_b64url_encode(p, raw, rawlen)));
        }
    }
    BN_free(a);
    BN_free(b);
    return cka_json_pool_own(p, o);
}

static EVP_PKEY *decode_public_key(const char *buf, size_t len)
{
    EVP_PKEY *pk = NULL;
    OSSL_DECODER_CTX *dctx = OSSL_DECODER_CTX_new_for_pkey(
        &pk, "PEM", NULL, NULL, EVP_PKEY_PUBLIC_KEY, NULL, NULL);
    if (dctx == NULL)
        return NULL;
    const unsigned char *data = (const unsigned char *)buf;
    size_t left = len;
    if (!OSSL_DECODER_from_data(dctx, &data, &left))
        pk = NULL;
    OSSL_DECODER_CTX_free(dctx);
    return pk;
}

cka_keyset_t *cka_keyset_parse_pem(apr_pool_t *p, const char *buf, size_t len,
                                   char **err)
{
    cka_keyset_t *ks = new_set(p);
    if (len > CKA_MAX_DOC_LEN || len > INT_MAX) {
        *err = apr_pstrdup(p, "PEM file larger than 1 MiB");
        return NULL;
    }
    if (memmem(buf, len, "-----BEGIN CERTIFICATE-----", 27) != NULL) {
        BIO *bio = BIO_new_mem_buf(buf, (int)len);
        X509 *x;
        while (bio != NULL && (x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
            EVP_PKEY *pk = X509_get_pubkey(x);
            if (pk != NULL) {
                add_json_key(ks, pkey_to_jwk(p, pk));
                EVP_PKEY_free(pk);
            }
            X509_free(x);
        }
        BIO_free(bio);
    }
    else {
        EVP_PKEY *pk = decode_public_key(buf, len);
        if (pk == NULL) {
            *err = apr_pstrdup(p, "not a PEM public key or certificate");
            return NULL;
        }
        add_json_key(ks, pkey_to_jwk(p, pk));
        EVP_PKEY_free(pk);
    }
    return finish(ks, err);
}

cka_keyset_t *cka_keyset_load_file(apr_pool_t *p, const char *path, char **err)
{
    apr_file_t *f;
    apr_finfo_t fi;
    apr_status_t rv = apr_file_open(&f, path, APR_FOPEN_READ | APR_FOPEN_BINARY,
                                    APR_OS_DEFAULT, p);
    if (rv != APR_SUCCESS) {
        char ebuf[128];
        *err = apr_psprintf(p, "cannot open %s: %s", path,
                            apr_strerror(rv, ebuf, sizeof(ebuf)));
        return NULL;
    }
    if (apr_file_info_get(&fi, APR_FINFO_SIZE, f) != APR_SUCCESS
        || fi.size > CKA_MAX_DOC_LEN) {
        apr_file_close(f);
        *err = apr_psprintf(p, "%s is not a regular file of at most 1 MiB", path);
        return NULL;
    }
    char *buf = apr_palloc(p, (apr_size_t)fi.size + 1);
    apr_size_t n = (apr_size_t)fi.size;
    rv = apr_file_read_full(f, buf, n, &n);
    apr_file_close(f);
    if (rv != APR_SUCCESS && !(APR_STATUS_IS_EOF(rv) && n == 0 && fi.size == 0)) {
        *err = apr_psprintf(p, "cannot read %s", path);
        return NULL;
    }
    buf[n] = '\0';
    size_t i = 0;
    while (i < n && (buf[i] == ' ' || buf[i] == '\t' || buf[i] == '\r' || buf[i] == '\n'))
        i++;
    cka_keyset_t *ks = (i < n && buf[i] == '{')
        ? cka_keyset_parse_json(p, buf, n, err)
        : cka_keyset_parse_pem(p, buf, n, err);
    if (ks == NULL)
        *err = apr_psprintf(p, "%s: %s", path, *err);
    return ks;
}

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

int cka_keyset_drop_kty(cka_keyset_t *ks, cka_kty_t kty)
{
    int kept = 0, dropped = 0;
    for (int i = 0; i < ks->keys->nelts; i++) {
        cka_key_t *k = APR_ARRAY_IDX(ks->keys, i, cka_key_t *);
        if (k->kty == kty)
            dropped++;
        else
            APR_ARRAY_IDX(ks->keys, kept++, cka_key_t *) = k;
    }
    ks->keys->nelts = kept;
    ks->skipped += dropped;
    return dropped;
}

int cka_keyset_has_key(const cka_keyset_t *ks, const char *kid, cka_alg_t alg)
{
    for (int i = 0; ks && i < ks->keys->nelts; i++) {
        const cka_key_t *k = APR_ARRAY_IDX(ks->keys, i, const cka_key_t *);
        if (kid != NULL && (k->kid == NULL || strcmp(k->kid, kid) != 0))
            continue;
        if (cka_key_fits_alg(k, alg))
            return 1;
    }
    return 0;
}
