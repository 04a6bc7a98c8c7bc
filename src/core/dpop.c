/* dpop.c - RFC 9449 DPoP proofs (see dpop.h). The proof is parsed by the
 * token parser (jws.c), its jwk imported by the key-set code (keyset.c,
 * key.c: sanity rules, RFC 7638 thumbprint) and its signature checked by
 * verify.c: the checks below are the proof's own. */
#include "dpop.h"
#include "jws.h"
#include "keyset.h"
#include "verify.h"
#include "b64url.h"
#include "cka_limits.h"
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <apr_strings.h>
#include <apr_thread_mutex.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

static const char *const defect_codes[] = {
#define CKA_X_DEFECT(name, code, text) code,
    CKA_DPOP_DEFECTS(CKA_X_DEFECT)
#undef CKA_X_DEFECT
};
static const char *const defect_texts[] = {
#define CKA_X_DEFECT(name, code, text) text,
    CKA_DPOP_DEFECTS(CKA_X_DEFECT)
#undef CKA_X_DEFECT
};

const char *cka_dpop_defect_code(cka_dpop_defect_t d)
{
    return (int)d >= 0 && d < CKA_DPD_COUNT ? defect_codes[d] : "unknown";
}

const char *cka_dpop_defect_text(cka_dpop_defect_t d)
{
    return (int)d >= 0 && d < CKA_DPD_COUNT ? defect_texts[d] : "unknown";
}

/* ---- htu ----------------------------------------------------------------- */

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static int unreserved(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
        || c == '-' || c == '.' || c == '_' || c == '~';
}

static char lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* Append in[0..n) to *w, percent-encodings normalised; -1 on a bad one. */
static int put_normalised(char **w, const char *in, size_t n, int fold_case)
{
    static const char hex[] = "0123456789ABCDEF";
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)in[i];
        if (c == '%') {
            int hi, lo;
            if (i + 2 >= n || (hi = hexval(in[i + 1])) < 0 || (lo = hexval(in[i + 2])) < 0)
                return -1;
            unsigned char v = (unsigned char)(hi * 16 + lo);
            if (unreserved(v))
                *(*w)++ = fold_case ? lower((char)v) : (char)v;
            else {
                *(*w)++ = '%';
                *(*w)++ = hex[v >> 4];
                *(*w)++ = hex[v & 15];
            }
            i += 2;
        }
        else if (c <= 0x20 || c >= 0x7f)
            return -1;
        else
            *(*w)++ = fold_case ? lower((char)c) : (char)c;
    }
    return 0;
}

char *cka_dpop_norm_url(apr_pool_t *p, const char *url, size_t len)
{
    if (url == NULL || len == 0 || len > CKA_DPOP_MAX_URL)
        return NULL;
    const char *end = url + len;
    /* Query and fragment are not compared (RFC 9449 §4.3). */
    const char *qf = url;
    while (qf < end && *qf != '?' && *qf != '#')
        qf++;
    end = qf;
    const char *colon = memchr(url, ':', (size_t)(end - url));
    if (colon == NULL || end - colon < 3 || colon[1] != '/' || colon[2] != '/')
        return NULL;
    size_t slen = (size_t)(colon - url);
    int https;
    if (slen == 5 && strncasecmp(url, "https", 5) == 0)
        https = 1;
    else if (slen == 4 && strncasecmp(url, "http", 4) == 0)
        https = 0;
    else
        return NULL;
    const char *auth = colon + 3, *path = auth;
    while (path < end && *path != '/')
        path++;
    if (path == auth || memchr(auth, '@', (size_t)(path - auth)) != NULL)
        return NULL;                          /* no host, or userinfo */
    /* host[:port], the host possibly an IP-literal [...] */
    const char *hend = path, *port = NULL;
    if (*auth == '[') {
        const char *rb = memchr(auth, ']', (size_t)(path - auth));
        if (rb == NULL)
            return NULL;
        hend = rb + 1;
        if (hend < path) {
            if (*hend != ':')
                return NULL;
            port = hend + 1;
        }
    }
    else {
        const char *c = memchr(auth, ':', (size_t)(path - auth));
        if (c != NULL) {
            hend = c;
            port = c + 1;
        }
    }
    if (hend == auth)
        return NULL;
    long portnum = -1;
    if (port != NULL && port < path) {
        portnum = 0;
        for (const char *q = port; q < path; q++) {
            if (*q < '0' || *q > '9' || portnum > 65535)
                return NULL;
            portnum = portnum * 10 + (*q - '0');
        }
        if (portnum < 1 || portnum > 65535)
            return NULL;
    }
    if (portnum == (https ? 443 : 80))
        portnum = -1;

    /* Each percent-encoding grows at most to itself: len + "/" + port. */
    char *out = apr_palloc(p, len + 16), *w = out;
    memcpy(w, https ? "https://" : "http://", https ? 8 : 7);
    w += https ? 8 : 7;
    if (put_normalised(&w, auth, (size_t)(hend - auth), 1) != 0)
        return NULL;
    if (portnum > 0)
        w += apr_snprintf(w, 8, ":%ld", portnum);
    if (path == end)
        *w++ = '/';
    else if (put_normalised(&w, path, (size_t)(end - path), 0) != 0)
        return NULL;
    *w = '\0';
    return out;
}

/* ---- the key cache ------------------------------------------------------ */

typedef struct {
    int            used;
    unsigned char  id[32];
    cka_key_t      key;         /* kty, crv, alg, bits, thumb; no pkey    */
    cka_alg_t      alg;
    EVP_MD_CTX    *vctx;        /* prepared for alg; holds the key        */
} key_slot_t;

struct cka_dpop_keys_t {
    int                  nslots;
    key_slot_t          *slots;
#if APR_HAS_THREADS
    apr_thread_mutex_t  *mutex;
#endif
};

static apr_status_t keys_cleanup(void *v)
{
    cka_dpop_keys_t *kc = v;
    for (int i = 0; i < kc->nslots; i++)
        EVP_MD_CTX_free(kc->slots[i].vctx);
    return APR_SUCCESS;
}

cka_dpop_keys_t *cka_dpop_keys_create(apr_pool_t *p, int slots)
{
    cka_dpop_keys_t *kc = apr_pcalloc(p, sizeof(*kc));
    kc->nslots = slots > 0 ? slots : 1;
    kc->slots = apr_pcalloc(p, sizeof(key_slot_t) * (size_t)kc->nslots);
#if APR_HAS_THREADS
    if (apr_thread_mutex_create(&kc->mutex, APR_THREAD_MUTEX_DEFAULT, p) != APR_SUCCESS)
        return NULL;
#endif
    apr_pool_cleanup_register(p, kc, keys_cleanup, apr_pool_cleanup_null);
    return kc;
}

static void keys_lock(cka_dpop_keys_t *kc)
{
#if APR_HAS_THREADS
    apr_thread_mutex_lock(kc->mutex);
#else
    (void)kc;
#endif
}

static void keys_unlock(cka_dpop_keys_t *kc)
{
#if APR_HAS_THREADS
    apr_thread_mutex_unlock(kc->mutex);
#else
    (void)kc;
#endif
}

static apr_status_t mdctx_free(void *v)
{
    EVP_MD_CTX_free(v);
    return APR_SUCCESS;
}

/* The id of (jwk, alg): SHA-256 over the alg name and the jwk's JSON with
 * its members sorted. 0, or -1. */
static int key_id(const json_t *jwk, const char *alg, unsigned char id[32])
{
    char *text = json_dumps(jwk, JSON_COMPACT | JSON_SORT_KEYS);
    unsigned int n = 0;
    int ok = 0;
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    if (text != NULL && c != NULL)
        ok = EVP_DigestInit_ex(c, EVP_sha256(), NULL) == 1
            && EVP_DigestUpdate(c, alg, strlen(alg) + 1) == 1
            && EVP_DigestUpdate(c, text, strlen(text)) == 1
            && EVP_DigestFinal_ex(c, id, &n) == 1 && n == 32;
    EVP_MD_CTX_free(c);
    free(text);
    return ok ? 0 : -1;
}

/* A hit: a key for this request, with its own copy of the context. */
static cka_key_t *keys_get(apr_pool_t *p, cka_dpop_keys_t *kc, const unsigned char id[32],
                           cka_alg_t alg)
{
    key_slot_t *s = &kc->slots[(id[0] | id[1] << 8) % kc->nslots];
    cka_key_t *k = NULL;
    EVP_MD_CTX *ctx = NULL;
    keys_lock(kc);
    if (s->used && s->alg == alg && memcmp(s->id, id, 32) == 0) {
        ctx = EVP_MD_CTX_new();
        if (ctx != NULL && EVP_MD_CTX_copy_ex(ctx, s->vctx) == 1) {
            k = apr_palloc(p, sizeof(*k));
            *k = s->key;
        }
    }
    keys_unlock(kc);
    if (ctx != NULL)
        apr_pool_cleanup_register(p, ctx, mdctx_free, apr_pool_cleanup_null);
    if (k != NULL)
        k->vctx[alg] = ctx;
    return k;
}

static void keys_put(cka_dpop_keys_t *kc, const unsigned char id[32], const cka_key_t *k,
                     cka_alg_t alg)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (ctx == NULL || EVP_MD_CTX_copy_ex(ctx, k->vctx[alg]) != 1) {
        EVP_MD_CTX_free(ctx);
        return;
    }
    key_slot_t *s = &kc->slots[(id[0] | id[1] << 8) % kc->nslots];
    EVP_MD_CTX *old;
    keys_lock(kc);
    old = s->vctx;
    s->used = 1;
    memcpy(s->id, id, 32);
    s->key = *k;
    memset(s->key.vctx, 0, sizeof(s->key.vctx));
    s->key.pkey = NULL;
    s->key.kid = NULL;
    s->alg = alg;
    s->vctx = ctx;
    keys_unlock(kc);
    EVP_MD_CTX_free(old);
}

/* ---- the proof --------------------------------------------------------- */

#define DEFECT(d, text) do { out->defect = (d); out->detail = (text); \
                             return CKA_DPOP_INVALID; } while (0)

/* RFC 9449 §4.2: the jwk header holds the public key only. */
static const char *const private_members[] = { "d", "p", "q", "dp", "dq", "qi", "oth", "k" };

static const char *str_claim(const json_t *o, const char *name)
{
    json_t *v = json_object_get(o, name);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

/* base64url SHA-256 of the token, for ath. */
static char *token_hash(apr_pool_t *p, const char *tok, size_t len)
{
    unsigned char md[32];
    unsigned int mdlen = 0;
    if (EVP_Digest(tok, len, md, &mdlen, EVP_sha256(), NULL) != 1 || mdlen != 32)
        return NULL;
    return cka_b64url_encode(p, md, mdlen);
}

static int text_eq(const char *a, const char *b)
{
    size_t n = strlen(a);
    return n == strlen(b) && CRYPTO_memcmp(a, b, n) == 0;
}

cka_reason_t cka_dpop_verify(apr_pool_t *p, const char *proof, size_t len,
                             const cka_dpop_check_t *c, cka_dpop_result_t *out)
{
    memset(out, 0, sizeof(*out));
    if (proof == NULL || len == 0)
        DEFECT(CKA_DPD_HEADER, "empty DPoP header");
    if (len > CKA_DPOP_MAX_LEN)
        DEFECT(CKA_DPD_SIZE, "proof longer than 8 KiB");

    cka_jws_t jws;
    const char *why = NULL;
    cka_reason_t r = cka_jws_parse(p, proof, len, &jws, &why);
    if (r == CKA_ALG_NOT_ALLOWED)
        DEFECT(CKA_DPD_ALG, why);
    if (r != CKA_OK)
        DEFECT(CKA_DPD_MALFORMED, why ? why : "not a compact JWS");
    out->alg = jws.alg;
    if (jws.typ == NULL || strcmp(jws.typ, "dpop+jwt") != 0)
        DEFECT(CKA_DPD_TYP, "typ is not dpop+jwt");
    if (!(c->algs & CKA_ALG_BIT(jws.alg)) || jws.alg >= CKA_ALG_HS256)
        DEFECT(CKA_DPD_ALG, "alg is not one of ConduktorAuthDPoPAlgorithms");

    json_t *jwk = json_object_get(jws.header, "jwk");
    if (!json_is_object(jwk))
        DEFECT(CKA_DPD_JWK, "jwk header missing or not an object");
    for (size_t i = 0; i < sizeof(private_members) / sizeof(private_members[0]); i++)
        if (json_object_get(jwk, private_members[i]) != NULL)
            DEFECT(CKA_DPD_JWK_PRIVATE, "jwk header holds a private key member");
    unsigned char id[32];
    int cacheable = c->keys != NULL && key_id(jwk, jws.alg_name, id) == 0;
    cka_key_t *k = cacheable ? keys_get(p, c->keys, id, jws.alg) : NULL;
    if (k == NULL) {
        k = apr_pcalloc(p, sizeof(*k));
        const char *kwhy = cka_key_from_jwk(p, jwk, 0, k);
        if (kwhy != NULL)
            DEFECT(CKA_DPD_JWK, kwhy);
        if (!cka_key_fits_alg(k, jws.alg))
            DEFECT(CKA_DPD_JWK, "alg does not fit the jwk");
        if (cka_verify_prepare_alg(p, k, jws.alg) != 0)
            DEFECT(CKA_DPD_JWK, "jwk refused by OpenSSL");
        if (cacheable)
            keys_put(c->keys, id, k, jws.alg);
    }
    if (cka_verify_with_key(&jws, k) != CKA_OK)
        DEFECT(CKA_DPD_SIGNATURE, "signature does not verify under the jwk");
    memcpy(out->thumb, k->thumb, CKA_THUMB_LEN);

    const json_t *cl = jws.claims;
    const char *htm = str_claim(cl, "htm");
    if (htm == NULL || c->method == NULL || strcmp(htm, c->method) != 0)
        DEFECT(CKA_DPD_HTM, htm ? "htm is not the request method" : "htm missing");
    json_t *htuv = json_object_get(cl, "htu");
    if (!json_is_string(htuv))
        DEFECT(CKA_DPD_HTU, "htu missing or not a string");
    const char *htu = cka_dpop_norm_url(p, json_string_value(htuv), json_string_length(htuv));
    const char *want = c->url ? cka_dpop_norm_url(p, c->url, strlen(c->url)) : NULL;
    if (htu == NULL)
        DEFECT(CKA_DPD_HTU, "htu is not an http(s) URL");
    if (want == NULL || strcmp(htu, want) != 0)
        DEFECT(CKA_DPD_HTU, "htu is not the request URL");

    json_t *iat = json_object_get(cl, "iat");
    double t;
    if (json_is_integer(iat))
        t = (double)json_integer_value(iat);
    else if (json_is_real(iat))
        t = json_real_value(iat);
    else
        DEFECT(CKA_DPD_IAT, "iat missing or not a number");
    if (!(t >= 0 && t <= (double)CKA_MAX_NUMERIC_DATE))
        DEFECT(CKA_DPD_IAT, "iat out of range");
    long long lim = (long long)c->window + c->skew;
    if (t > (double)(c->now + lim) || t < (double)(c->now - lim))
        DEFECT(CKA_DPD_IAT, t > (double)c->now ? "iat is too far in the future"
                                                : "iat is older than the window");
    out->iat = (long long)t;

    json_t *jti = json_object_get(cl, "jti");
    if (!json_is_string(jti) || json_string_length(jti) == 0)
        DEFECT(CKA_DPD_JTI, "jti missing or not a string");
    if (json_string_length(jti) > CKA_DPOP_MAX_JTI)
        DEFECT(CKA_DPD_JTI, "jti longer than 256 bytes");
    out->jti = json_string_value(jti);
    out->jti_len = json_string_length(jti);

    const char *ath = str_claim(cl, "ath");
    const char *hash = c->token ? token_hash(p, c->token, c->token_len) : NULL;
    if (ath == NULL)
        DEFECT(CKA_DPD_ATH, "ath missing");
    if (hash == NULL || !text_eq(ath, hash))
        DEFECT(CKA_DPD_ATH, "ath is not the hash of the access token");

    if (c->jkt == NULL)
        DEFECT(CKA_DPD_UNBOUND, "token has no cnf.jkt");
    if (!text_eq(c->jkt, cka_thumb_text(p, out->thumb)))
        DEFECT(CKA_DPD_JKT, "cnf.jkt is not the thumbprint of the proof's jwk");

    if (c->nonce_seal != NULL) {
        json_t *nonce = json_object_get(cl, "nonce");
        if (!json_is_string(nonce)
            || !cka_dpop_nonce_check(c->nonce_seal, json_string_value(nonce),
                                     json_string_length(nonce), c->now)) {
            out->defect = CKA_DPD_NONCE;
            out->detail = nonce ? "nonce is not current" : "nonce missing";
            return CKA_DPOP_NONCE;
        }
    }
    out->defect = CKA_DPD_NONE;
    return CKA_OK;
}

/* ---- replay names and nonces --------------------------------------------- */

int cka_dpop_replay_name(const cka_seal_t *s, const cka_dpop_result_t *res,
                         unsigned char name[CKA_SEAL_NAME_LEN])
{
    unsigned char buf[CKA_THUMB_LEN + CKA_DPOP_MAX_JTI];
    if (s == NULL || res->jti == NULL || res->jti_len > CKA_DPOP_MAX_JTI)
        return -1;
    memcpy(buf, res->thumb, CKA_THUMB_LEN);
    memcpy(buf + CKA_THUMB_LEN, res->jti, res->jti_len);
    return cka_seal_name(s, CKA_SEAL_DPOP, buf, CKA_THUMB_LEN + res->jti_len, name);
}

#define NONCE_MAC 16
#define NONCE_RAW (8 + NONCE_MAC)

static int nonce_raw(const cka_seal_t *s, unsigned long long step,
                     unsigned char raw[NONCE_RAW])
{
    unsigned char mac[CKA_SEAL_NAME_LEN];
    for (int i = 0; i < 8; i++)
        raw[i] = (unsigned char)(step >> (56 - 8 * i));
    if (cka_seal_name(s, CKA_SEAL_NONCE, raw, 8, mac) != 0)
        return -1;
    memcpy(raw + 8, mac, NONCE_MAC);
    return 0;
}

char *cka_dpop_nonce_make(apr_pool_t *p, const cka_seal_t *s, long long now)
{
    unsigned char raw[NONCE_RAW];
    if (s == NULL || now < 0
        || nonce_raw(s, (unsigned long long)now / CKA_DPOP_NONCE_STEP, raw) != 0)
        return NULL;
    return cka_b64url_encode(p, raw, sizeof(raw));
}

int cka_dpop_nonce_check(const cka_seal_t *s, const char *nonce, size_t len, long long now)
{
    unsigned char want[NONCE_RAW], got[NONCE_RAW];
    if (s == NULL || nonce == NULL || now < 0 || len != 32)
        return 0;
    /* Decode into a fixed buffer without a pool: 32 characters, 24 bytes. */
    size_t n = 0;
    unsigned acc = 0;
    int bits = 0;
    for (size_t i = 0; i < len; i++) {
        char ch = nonce[i];
        int v = ch >= 'A' && ch <= 'Z' ? ch - 'A' : ch >= 'a' && ch <= 'z' ? ch - 'a' + 26
              : ch >= '0' && ch <= '9' ? ch - '0' + 52 : ch == '-' ? 62 : ch == '_' ? 63 : -1;
        if (v < 0)
            return 0;
        acc = (acc << 6) | (unsigned)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            got[n++] = (unsigned char)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    if (n != NONCE_RAW)
        return 0;
    unsigned long long step = 0;
    for (int i = 0; i < 8; i++)
        step = (step << 8) | got[i];
    unsigned long long cur = (unsigned long long)now / CKA_DPOP_NONCE_STEP;
    if (step != cur && step + 1 != cur)
        return 0;
    return nonce_raw(s, step, want) == 0 && CRYPTO_memcmp(want, got, NONCE_RAW) == 0;
}
