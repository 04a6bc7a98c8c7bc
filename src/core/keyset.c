/* keyset.c - JWK / JWKS / PEM documents -> key sets: each JWK member
 * decoded once, by the project's strict base64url decoder, and handed to
 * the builder of its key type (key.c: sanity rules, thumbprint), shared by
 * JWKs and PEM keys; skipped keys recorded; lookups by kid and thumbprint;
 * which keys of a set a token is tried against (key fitness is key.c's,
 * one signature with one key verify.c's).
 *
 * No JOSE library: keys are verified on OpenSSL 3 directly. cjose (Debian
 * 12: 0.6.2) was a dependency once; it cannot hold an Ed25519 (OKP) key,
 * and imports keys the sanity rules below refuse (README, Dependencies). */
#include "keyset.h"
#include "verify.h"
#include "err.h"
#include "b64url.h"
#include "json_util.h"
#include "cka_limits.h"
#include <string.h>
#include <apr_encode.h>
#include <apr_strings.h>
#include <apr_file_io.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/decoder.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#define MAX_SKIPS_NAMED 8       /* keys named in the skip line */
#define MAX_KID_SHOWN 40        /* bytes of a kid shown in the skip line */

/* ---- JWK members -> builders --------------------------------------------- */

static const char *str_member(const json_t *o, const char *name)
{
    json_t *v = json_object_get(o, name);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

/* Member name of jwk decoded (once) by the strict decoder; 0, or -1 when
 * missing, not a string, not canonical base64url or empty. */
static int b64_member(apr_pool_t *p, const json_t *jwk, const char *name,
                      const unsigned char **out, size_t *len)
{
    json_t *v = json_object_get(jwk, name);
    unsigned char *buf;
    if (!json_is_string(v)
        || cka_b64url_decode(p, json_string_value(v), json_string_length(v), &buf, len) != 0
        || *len == 0)
        return -1;
    *out = buf;
    return 0;
}

static cka_reason_t unusable(cka_err_t *err, const char *why)
{
    return cka_fail(err, CKA_KEY_UNUSABLE, why);
}

static cka_reason_t jwk_rsa(apr_pool_t *p, const json_t *jwk, cka_key_t *k, cka_err_t *err)
{
    const unsigned char *n, *e;
    size_t nl, el;
    if (b64_member(p, jwk, "n", &n, &nl) != 0)
        return unusable(err, "RSA key n missing or not base64url");
    if (b64_member(p, jwk, "e", &e, &el) != 0)
        return unusable(err, "RSA key e missing or not base64url");
    return cka_key_rsa(p, k, n, nl, e, el, err);
}

static cka_reason_t jwk_ec(apr_pool_t *p, const json_t *jwk, cka_key_t *k, cka_err_t *err)
{
    const char *crv = str_member(jwk, "crv");
    const unsigned char *x, *y;
    size_t xl, yl;
    cka_crv_t c = CKA_CRV_NONE;
    if (crv != NULL && strcmp(crv, "P-256") == 0)
        c = CKA_CRV_P256;
    else if (crv != NULL && strcmp(crv, "P-384") == 0)
        c = CKA_CRV_P384;
    else if (crv != NULL && strcmp(crv, "P-521") == 0)
        c = CKA_CRV_P521;
    else
        return unusable(err, "EC curve is not P-256, P-384 or P-521");
    if (b64_member(p, jwk, "x", &x, &xl) != 0 || b64_member(p, jwk, "y", &y, &yl) != 0)
        return unusable(err, "EC key x or y missing or not base64url");
    return cka_key_ec(p, k, c, x, xl, y, yl, err);
}

static cka_reason_t jwk_okp(apr_pool_t *p, const json_t *jwk, cka_key_t *k, cka_err_t *err)
{
    const char *crv = str_member(jwk, "crv");
    const unsigned char *x;
    size_t xl;
    if (crv == NULL || strcmp(crv, "Ed25519") != 0)
        return unusable(err, "OKP curve is not Ed25519");
    if (b64_member(p, jwk, "x", &x, &xl) != 0)
        return unusable(err, "Ed25519 key x missing or not base64url");
    return cka_key_okp(p, k, x, xl, err);
}

static cka_reason_t jwk_oct(apr_pool_t *p, const json_t *jwk, cka_key_t *k, cka_err_t *err)
{
    const unsigned char *s;
    size_t sl;
    if (b64_member(p, jwk, "k", &s, &sl) != 0)
        return unusable(err, "oct key k missing or not base64url");
    return cka_key_oct(p, k, s, sl, err);
}

/* The members every kind shares: use, key_ops, alg (kid is read by the
 * caller, so a skipped key is still named). */
static cka_reason_t jwk_common(const json_t *jwk, cka_key_t *k, cka_err_t *err)
{
    json_t *use = json_object_get(jwk, "use");
    if (use != NULL && !(json_is_string(use) && strcmp(json_string_value(use), "sig") == 0))
        return unusable(err, "key use is not sig");
    json_t *ops = json_object_get(jwk, "key_ops");
    if (ops != NULL) {
        int verify = 0;
        size_t i;
        json_t *op;
        if (!json_is_array(ops))
            return unusable(err, "key_ops is not an array");
        json_array_foreach(ops, i, op)
            if (json_is_string(op) && strcmp(json_string_value(op), "verify") == 0)
                verify = 1;
        if (!verify)
            return unusable(err, "key_ops does not include verify");
    }
    json_t *algv = json_object_get(jwk, "alg");
    if (algv != NULL) {
        if (!json_is_string(algv))
            return unusable(err, "alg is not a string");
        k->alg = cka_alg_from_name(json_string_value(algv));
        if (k->alg == CKA_ALG_UNKNOWN)
            return unusable(err, "alg is not a signature algorithm");
    }
    return CKA_OK;
}

/* ---- the set ------------------------------------------------------------- */

static cka_keyset_t *new_set(apr_pool_t *p)
{
    cka_keyset_t *ks = apr_pcalloc(p, sizeof(*ks));
    ks->pool = p;
    ks->keys = apr_array_make(p, 4, sizeof(cka_key_t *));
    ks->skips = apr_array_make(p, 1, sizeof(cka_key_skip_t));
    return ks;
}

static void add_skip(cka_keyset_t *ks, const char *kid, const cka_err_t *why)
{
    cka_key_skip_t *s = apr_array_push(ks->skips);
    s->kid = kid;
    s->reason = why->reason;
    s->why = cka_err_text(why);
    ks->skipped++;
    if (why->reason == CKA_KEY_UNTRUSTED)
        ks->untrusted++;
}

static void add_skip_why(cka_keyset_t *ks, const char *kid, const char *why)
{
    const cka_err_t e = { CKA_KEY_UNUSABLE, why };
    add_skip(ks, kid, &e);
}

/* Keep k, or record why not: the checks every key passes last. */
static void add_key(cka_keyset_t *ks, cka_key_t *k, cka_reason_t r, const cka_err_t *why)
{
    cka_err_t e = *why;
    if (r == CKA_OK && k->alg != CKA_ALG_UNKNOWN && !cka_key_fits_alg(k, k->alg))
        r = unusable(&e, "alg does not fit the key type");
    if (r == CKA_OK && cka_verify_prepare(ks->pool, k, NULL) != CKA_OK)
        r = unusable(&e, "key refused by OpenSSL for its algorithms");
    if (r != CKA_OK)
        add_skip(ks, k->kid, &e);
    else
        APR_ARRAY_PUSH(ks->keys, cka_key_t *) = k;
}

cka_reason_t cka_jwk_key(apr_pool_t *p, const json_t *jwk, int allow_oct, cka_key_t *k,
                         cka_err_t *err)
{
    const char *kty = str_member(jwk, "kty");
    cka_reason_t r = jwk_common(jwk, k, err);
    if (r != CKA_OK)
        return r;
    if (kty == NULL)
        return unusable(err, "key has no kty");
    if (strcmp(kty, "RSA") == 0)
        return jwk_rsa(p, jwk, k, err);
    if (strcmp(kty, "EC") == 0)
        return jwk_ec(p, jwk, k, err);
    if (strcmp(kty, "OKP") == 0)
        return jwk_okp(p, jwk, k, err);
    if (strcmp(kty, "oct") == 0)
        return allow_oct ? jwk_oct(p, jwk, k, err)
                         : unusable(err, "oct (HMAC) key in a remote key set");
    return unusable(err, "kty is not RSA, EC, OKP or oct");
}

const char *cka_key_from_jwk(apr_pool_t *p, const json_t *jwk, int allow_oct, cka_key_t *k)
{
    cka_err_t e = CKA_ERR_INIT;
    return cka_jwk_key(p, jwk, allow_oct, k, &e) == CKA_OK ? NULL : cka_err_text(&e);
}

/* One JWK of a document. allow_oct 0: an oct key is skipped unread. */
static void add_jwk(cka_keyset_t *ks, const json_t *jwk, int allow_oct)
{
    apr_pool_t *p = ks->pool;
    if (!json_is_object(jwk)) {
        add_skip_why(ks, NULL, "key is not a JSON object");
        return;
    }
    cka_key_t *k = apr_pcalloc(p, sizeof(*k));
    json_t *kidv = json_object_get(jwk, "kid");
    if (kidv != NULL && !json_is_string(kidv)) {
        add_skip_why(ks, NULL, "kid is not a string");
        return;
    }
    k->kid = kidv ? apr_pstrmemdup(p, json_string_value(kidv), json_string_length(kidv)) : NULL;
    cka_err_t e = CKA_ERR_INIT;
    cka_reason_t r = cka_jwk_key(p, jwk, allow_oct, k, &e);
    add_key(ks, k, r, &e);
}

static cka_reason_t finish(cka_keyset_t *ks, cka_keyset_t **out, cka_err_t *err)
{
    if (ks->keys->nelts == 0) {
        const char *why = ks->skips->nelts > 0
            ? APR_ARRAY_IDX(ks->skips, 0, cka_key_skip_t).why : NULL;
        return cka_failf(err, ks->pool, CKA_KEYSET_INVALID, "no usable signature key%s%s%s",
                         why ? " (" : "", why ? why : "", why ? ")" : "");
    }
    *out = ks;
    return CKA_OK;
}

static cka_reason_t parse_doc(apr_pool_t *p, const char *buf, size_t len,
                              int allow_oct, cka_keyset_t **out, cka_err_t *err)
{
    const char *why = NULL;
    *out = NULL;
    if (len > CKA_MAX_DOC_LEN)
        return cka_fail(err, CKA_KEYSET_INVALID, "key document larger than 1 MiB");
    json_t *doc = cka_json_parse_object(p, buf, len, &why);
    if (doc == NULL)
        return cka_failf(err, p, CKA_KEYSET_INVALID, "key document: %s", why);
    cka_keyset_t *ks = new_set(p);
    json_t *keys = json_object_get(doc, "keys");
    if (keys != NULL) {
        if (!json_is_array(keys))
            return cka_fail(err, CKA_KEYSET_INVALID, "JWKS keys is not an array");
        /* The cap before any parsing: the keys past it are counted only. */
        size_t n = json_array_size(keys);
        for (size_t i = 0; i < n && i < CKA_MAX_KEYS; i++)
            add_jwk(ks, json_array_get(keys, i), allow_oct);
        if (n > CKA_MAX_KEYS) {
            ks->over_cap = (int)(n - CKA_MAX_KEYS);
            ks->skipped += ks->over_cap;
        }
    }
    else if (json_object_get(doc, "kty") != NULL)
        add_jwk(ks, doc, allow_oct);
    else
        return cka_fail(err, CKA_KEYSET_INVALID, "neither a JWKS (keys) nor a JWK (kty)");
    return finish(ks, out, err);
}

cka_reason_t cka_keyset_parse_json(apr_pool_t *p, const char *buf, size_t len,
                                   cka_keyset_t **out, cka_err_t *err)
{
    return parse_doc(p, buf, len, 1, out, err);
}

cka_reason_t cka_keyset_parse_remote(apr_pool_t *p, const char *buf, size_t len,
                                     cka_keyset_t **out, cka_err_t *err)
{
    return parse_doc(p, buf, len, 0, out, err);
}

/* ---- PEM ----------------------------------------------------------------- */

/* Big-endian bytes of an OpenSSL BIGNUM parameter, left-padded to pad. */
static unsigned char *bn_param(apr_pool_t *p, const EVP_PKEY *pk, const char *name,
                               int pad, size_t *len)
{
    BIGNUM *bn = NULL;
    unsigned char *buf = NULL;
    if (EVP_PKEY_get_bn_param(pk, name, &bn) == 1) {
        int n = BN_num_bytes(bn), size = pad > n ? pad : n;
        buf = apr_pcalloc(p, (apr_size_t)size + 1);
        if (BN_bn2binpad(bn, buf, size) == size)
            *len = (size_t)size;
        else
            buf = NULL;
    }
    BN_free(bn);
    return buf;
}

/* A public key from a PEM file, through the same builders as a JWK. */
static void add_pkey(cka_keyset_t *ks, const EVP_PKEY *pk)
{
    apr_pool_t *p = ks->pool;
    cka_key_t *k = apr_pcalloc(p, sizeof(*k));
    cka_err_t why = CKA_ERR_INIT;
    cka_reason_t r = unusable(&why, "PEM key is not RSA, EC P-256/P-384/P-521 or Ed25519");
    if (EVP_PKEY_is_a(pk, "RSA")) {
        size_t nl = 0, el = 0;
        unsigned char *n = bn_param(p, pk, OSSL_PKEY_PARAM_RSA_N, 0, &nl);
        unsigned char *e = bn_param(p, pk, OSSL_PKEY_PARAM_RSA_E, 0, &el);
        r = n && e ? cka_key_rsa(p, k, n, nl, e, el, &why)
                   : unusable(&why, "PEM RSA key without n or e");
    }
    else if (EVP_PKEY_is_a(pk, "EC")) {
        char group[64];
        size_t glen = 0;
        cka_crv_t c = CKA_CRV_NONE;
        if (EVP_PKEY_get_utf8_string_param(pk, OSSL_PKEY_PARAM_GROUP_NAME, group,
                                           sizeof(group), &glen)) {
            if (strcmp(group, "prime256v1") == 0) c = CKA_CRV_P256;
            else if (strcmp(group, "secp384r1") == 0) c = CKA_CRV_P384;
            else if (strcmp(group, "secp521r1") == 0) c = CKA_CRV_P521;
        }
        if (c != CKA_CRV_NONE) {
            size_t xl = 0, yl = 0;
            int size = (int)cka_crv_size(c);
            unsigned char *x = bn_param(p, pk, OSSL_PKEY_PARAM_EC_PUB_X, size, &xl);
            unsigned char *y = bn_param(p, pk, OSSL_PKEY_PARAM_EC_PUB_Y, size, &yl);
            r = x && y ? cka_key_ec(p, k, c, x, xl, y, yl, &why)
                       : unusable(&why, "PEM EC key without a point");
        }
        else
            r = unusable(&why, "EC curve is not P-256, P-384 or P-521");
    }
    else if (EVP_PKEY_is_a(pk, "ED25519")) {
        unsigned char raw[32];
        size_t rawlen = sizeof(raw);
        r = EVP_PKEY_get_raw_public_key(pk, raw, &rawlen) == 1
            ? cka_key_okp(p, k, apr_pmemdup(p, raw, rawlen), rawlen, &why)
            : unusable(&why, "PEM Ed25519 key unreadable");
    }
    add_key(ks, k, r, &why);
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

cka_reason_t cka_keyset_parse_pem(apr_pool_t *p, const char *buf, size_t len,
                                  cka_keyset_t **out, cka_err_t *err)
{
    cka_keyset_t *ks = new_set(p);
    *out = NULL;
    if (len > CKA_MAX_DOC_LEN || len > INT_MAX)
        return cka_fail(err, CKA_KEYSET_INVALID, "PEM file larger than 1 MiB");
    if (memmem(buf, len, "-----BEGIN CERTIFICATE-----", 27) != NULL) {
        BIO *bio = BIO_new_mem_buf(buf, (int)len);
        X509 *x;
        int seen = 0;
        while (bio != NULL && (x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
            if (seen++ >= CKA_MAX_KEYS) {
                ks->over_cap++;
                ks->skipped++;
            }
            else {
                EVP_PKEY *pk = X509_get0_pubkey(x);
                if (pk != NULL)
                    add_pkey(ks, pk);
                else
                    add_skip_why(ks, NULL, "certificate without a usable public key");
            }
            X509_free(x);
        }
        BIO_free(bio);
    }
    else {
        EVP_PKEY *pk = decode_public_key(buf, len);
        if (pk == NULL)
            return cka_fail(err, CKA_KEYSET_INVALID, "not a PEM public key or certificate");
        add_pkey(ks, pk);
        EVP_PKEY_free(pk);
    }
    return finish(ks, out, err);
}

cka_reason_t cka_keyset_load_file(apr_pool_t *p, const char *path, cka_keyset_t **out,
                                  cka_err_t *err)
{
    apr_file_t *f;
    apr_finfo_t fi;
    *out = NULL;
    apr_status_t rv = apr_file_open(&f, path, APR_FOPEN_READ | APR_FOPEN_BINARY,
                                    APR_OS_DEFAULT, p);
    if (rv != APR_SUCCESS) {
        char ebuf[128];
        return cka_failf(err, p, CKA_FILE_UNREADABLE, "cannot open %s: %s", path,
                         apr_strerror(rv, ebuf, sizeof(ebuf)));
    }
    if (apr_file_info_get(&fi, APR_FINFO_SIZE, f) != APR_SUCCESS
        || fi.size > CKA_MAX_DOC_LEN) {
        apr_file_close(f);
        return cka_failf(err, p, CKA_FILE_UNREADABLE,
                         "%s is not a regular file of at most 1 MiB", path);
    }
    char *buf = apr_palloc(p, (apr_size_t)fi.size + 1);
    apr_size_t n = (apr_size_t)fi.size;
    rv = apr_file_read_full(f, buf, n, &n);
    apr_file_close(f);
    if (rv != APR_SUCCESS && !(APR_STATUS_IS_EOF(rv) && n == 0 && fi.size == 0))
        return cka_failf(err, p, CKA_FILE_UNREADABLE, "cannot read %s", path);
    buf[n] = '\0';
    size_t i = 0;
    while (i < n && (buf[i] == ' ' || buf[i] == '\t' || buf[i] == '\r' || buf[i] == '\n'))
        i++;
    cka_reason_t r = (i < n && buf[i] == '{')
        ? cka_keyset_parse_json(p, buf, n, out, err)
        : cka_keyset_parse_pem(p, buf, n, out, err);
    if (r != CKA_OK)
        cka_err_prefix(err, p, path);
    return r;
}

/* ---- looking keys up ----------------------------------------------------- */

int cka_keyset_drop_kty(cka_keyset_t *ks, cka_kty_t kty)
{
    int kept = 0, dropped = 0;
    for (int i = 0; i < ks->keys->nelts; i++) {
        cka_key_t *k = APR_ARRAY_IDX(ks->keys, i, cka_key_t *);
        if (k->kty == kty) {
            dropped++;
            add_skip_why(ks, k->kid, kty == CKA_KTY_OCT ? "oct (HMAC) key in a remote key set"
                                                        : "key type not taken here");
        }
        else
            APR_ARRAY_IDX(ks->keys, kept++, cka_key_t *) = k;
    }
    ks->keys->nelts = kept;
    return dropped;
}

static int has_kid(const cka_keyset_t *ks, const char *kid)
{
    for (int i = 0; i < ks->keys->nelts; i++) {
        const cka_key_t *k = APR_ARRAY_IDX(ks->keys, i, const cka_key_t *);
        if (k->kid != NULL && strcmp(k->kid, kid) == 0)
            return 1;
    }
    return 0;
}

int cka_keyset_has_key(const cka_keyset_t *ks, const char *kid, cka_alg_t alg)
{
    if (ks == NULL)
        return 0;
    /* A kid no key has falls back to the keys without kid. */
    int named = kid != NULL && has_kid(ks, kid);
    for (int i = 0; i < ks->keys->nelts; i++) {
        const cka_key_t *k = APR_ARRAY_IDX(ks->keys, i, const cka_key_t *);
        if (named && (k->kid == NULL || strcmp(k->kid, kid) != 0))
            continue;
        if (kid != NULL && !named && k->kid != NULL)
            continue;
        if (cka_key_fits_alg(k, alg))
            return 1;
    }
    return 0;
}

const cka_key_t *cka_keyset_find_thumb(const cka_keyset_t *ks,
                                       const unsigned char thumb[CKA_THUMB_LEN])
{
    for (int i = 0; ks != NULL && i < ks->keys->nelts; i++) {
        const cka_key_t *k = APR_ARRAY_IDX(ks->keys, i, const cka_key_t *);
        if (memcmp(k->thumb, thumb, CKA_THUMB_LEN) == 0)
            return k;
    }
    return NULL;
}

int cka_keyset_kid_skipped(const cka_keyset_t *ks, const char *kid)
{
    if (ks == NULL || kid == NULL || has_kid(ks, kid))
        return 0;
    for (int i = 0; i < ks->skips->nelts; i++) {
        const cka_key_skip_t *s = &APR_ARRAY_IDX(ks->skips, i, cka_key_skip_t);
        if (s->kid != NULL && strcmp(s->kid, kid) == 0)
            return 1;
    }
    return 0;
}

/* A kid for a log line: printable ASCII except " and \ as is, any other
 * byte as \xHH, cut after MAX_KID_SHOWN bytes. */
static const char *log_kid(apr_pool_t *p, const char *kid)
{
    size_t n = strlen(kid), shown = n > MAX_KID_SHOWN ? MAX_KID_SHOWN : n;
    char *out = apr_palloc(p, shown * 4 + 8), *w = out;
    for (size_t i = 0; i < shown; i++) {
        unsigned char c = (unsigned char)kid[i];
        if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\')
            *w++ = (char)c;
        else
            w += apr_snprintf(w, 5, "\\x%02x", c);
    }
    if (shown < n) {
        memcpy(w, "...", 3);
        w += 3;
    }
    *w = '\0';
    return out;
}

const char *cka_keyset_describe_skips(apr_pool_t *p, const cka_keyset_t *ks)
{
    if (ks == NULL || ks->skipped == 0)
        return NULL;
    const apr_array_header_t *sk = ks->skips;
    char *line = apr_psprintf(p, "%d key%s skipped", ks->skipped, ks->skipped == 1 ? "" : "s");
    for (int i = 0; i < sk->nelts && i < MAX_SKIPS_NAMED; i++) {
        const cka_key_skip_t *s = &APR_ARRAY_IDX(sk, i, cka_key_skip_t);
        line = apr_pstrcat(p, line, i ? "; " : ": ",
                           s->kid ? apr_pstrcat(p, "kid \"", log_kid(p, s->kid), "\"", NULL)
                                  : "(no kid)",
                           ": ", s->why, NULL);
    }
    if (sk->nelts > MAX_SKIPS_NAMED)
        line = apr_psprintf(p, "%s; and %d more", line, sk->nelts - MAX_SKIPS_NAMED);
    if (ks->over_cap > 0)
        line = apr_psprintf(p, "%s%s%d past the %d-key cap (not read)", line,
                            sk->nelts ? "; " : ": ", ks->over_cap, CKA_MAX_KEYS);
    return line;
}

/* ---- choosing the keys a token is tried against -------------------------- */

/* Try k unless CKA_MAX_KEYS_TRIED keys were tried already. */
static int try_key(const cka_jws_t *jws, const cka_key_t *k, int *tried,
                   cka_reason_t *last)
{
    if (*tried >= CKA_MAX_KEYS_TRIED)
        return 0;
    (*tried)++;
    *last = cka_verify_with_key(jws, k);
    return *last == CKA_OK;
}

cka_reason_t cka_verify_with_set(const cka_jws_t *jws, const cka_keyset_t *ks,
                                 const cka_key_t **used)
{
    int named = 0, tried = 0;
    cka_reason_t last = CKA_UNKNOWN_KEY;
    const cka_key_t *k = NULL;
    /* A kid that usable keys have: only those. */
    for (int i = 0; jws->kid != NULL && i < ks->keys->nelts; i++) {
        k = APR_ARRAY_IDX(ks->keys, i, const cka_key_t *);
        if (k->kid == NULL || strcmp(k->kid, jws->kid) != 0)
            continue;
        named++;
        if (cka_key_fits_alg(k, jws->alg) && try_key(jws, k, &tried, &last))
            goto verified;
    }
    if (named > 0)
        return tried == 0 ? CKA_KEY_MISMATCH : last;
    /* No kid: the keys that fit; a kid no key has: the keys without kid
     * that fit (a file: PEM key has none; every IdP token has a kid). */
    for (int i = 0; i < ks->keys->nelts; i++) {
        k = APR_ARRAY_IDX(ks->keys, i, const cka_key_t *);
        if (jws->kid != NULL && k->kid != NULL)
            continue;
        if (cka_key_fits_alg(k, jws->alg) && try_key(jws, k, &tried, &last))
            goto verified;
    }
    if (jws->kid != NULL)       /* unknown: perhaps a rotation, or a key we refused */
        return cka_keyset_kid_skipped(ks, jws->kid) ? CKA_UNSUPPORTED_KEY : CKA_UNKNOWN_KEY;
    return tried == 0 ? CKA_UNKNOWN_KEY : last;

verified:
    if (used != NULL)
        *used = k;
    return CKA_OK;
}
