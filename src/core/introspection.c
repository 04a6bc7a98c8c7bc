/* introspection.c - RFC 7662 introspection, pure parts (see introspection.h). */
#include "introspection.h"
#include "b64url.h"
#include "claims.h"
#include "client_creds.h"
#include "cka_limits.h"
#include "json_util.h"
#include "record.h"
#include "frame.h"
#include "verify.h"
#include <string.h>
#include <strings.h>
#include <stdlib.h>
#include <apr_strings.h>
#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/crypto.h>
#include <stdio.h>

const char *cka_is_auth_name(cka_is_auth_t a)
{
    switch (a) {
    case CKA_IS_AUTH_BASIC: return "client_secret_basic";
    case CKA_IS_AUTH_POST:  return "client_secret_post";
    case CKA_IS_AUTH_JWT:   return "private_key_jwt";
    case CKA_IS_AUTH_TLS:   return "tls_client_auth";
    }
    return "?";
}

#define ASSERTION_TYPE "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

static const char *enc(apr_pool_t *p, const char *s)
{
    return cka_cc_form_encode(p, s, strlen(s));
}

const char *cka_is_request_body(apr_pool_t *p, const char *tok, size_t len,
                                cka_is_auth_t auth, const char *client_id,
                                const char *secret, size_t secret_len,
                                const char *assertion)
{
    const char *b = apr_pstrcat(p, "token=", cka_cc_form_encode(p, tok, len),
                                "&token_type_hint=access_token", NULL);
    switch (auth) {
    case CKA_IS_AUTH_POST:
        return apr_pstrcat(p, b, "&client_id=", enc(p, client_id), "&client_secret=",
                           cka_cc_form_encode(p, secret, secret_len), NULL);
    case CKA_IS_AUTH_JWT:
        return apr_pstrcat(p, b, "&client_id=", enc(p, client_id),
                           "&client_assertion_type=", enc(p, ASSERTION_TYPE),
                           "&client_assertion=", enc(p, assertion ? assertion : ""), NULL);
    case CKA_IS_AUTH_TLS:
        return apr_pstrcat(p, b, "&client_id=", enc(p, client_id), NULL);
    default:
        return b;
    }
}

/* ---- files named by the directive -------------------------------------------*/

typedef struct { void *buf; size_t len; } wipe_t;

static apr_status_t wipe_cleanup(void *v)
{
    wipe_t *w = v;
    OPENSSL_cleanse(w->buf, w->len);
    return APR_SUCCESS;
}

/* The whole of a regular file of at most max bytes, NUL-terminated, in p
 * (wiped when p is cleared). 0, -1 (cannot read) or -2 (too large). */
static int slurp(apr_pool_t *p, const char *path, size_t max, char **out, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return -1;
    char *buf = apr_palloc(p, max + 2);
    size_t n = fread(buf, 1, max + 1, f);
    int bad = ferror(f);
    fclose(f);
    wipe_t *w = apr_palloc(p, sizeof(*w));
    w->buf = buf;
    w->len = max + 2;
    apr_pool_cleanup_register(p, w, wipe_cleanup, apr_pool_cleanup_null);
    if (bad)
        return -1;
    if (n > max)
        return -2;
    buf[n] = '\0';
    *out = buf;
    *len = n;
    return 0;
}

int cka_is_read_secret(apr_pool_t *p, const char *path, const char **secret,
                       size_t *len, const char **why)
{
    char *buf;
    size_t n;
    int rv = slurp(p, path, 4096, &buf, &n);
    if (rv != 0) {
        *why = apr_psprintf(p, rv == -2 ? "the secret file %s is larger than 4096 bytes"
                                        : "cannot read the secret file %s", path);
        return -1;
    }
    if (n > 0 && buf[n - 1] == '\n')
        n--;
    if (n > 0 && buf[n - 1] == '\r')
        n--;
    buf[n] = '\0';
    if (n == 0) {
        *why = apr_psprintf(p, "the secret file %s is empty", path);
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)buf[i] < 0x20 || buf[i] == 0x7f) {
            *why = apr_psprintf(p, "the secret file %s holds a control character or "
                                "more than one line", path);
            return -1;
        }
    *secret = buf;
    *len = n;
    return 0;
}

int cka_is_load_client_cert(apr_pool_t *p, const char *cert_path, const char *key_path,
                            const char **cert_pem, size_t *cert_len,
                            const char **key_pem, size_t *key_len, const char **why)
{
    char *c, *k;
    size_t cn, kn;
    if (slurp(p, cert_path, 1024 * 1024, &c, &cn) != 0) {
        *why = apr_psprintf(p, "cannot read the client certificate file %s (or it is "
                            "larger than 1 MiB)", cert_path);
        return -1;
    }
    if (slurp(p, key_path, 1024 * 1024, &k, &kn) != 0) {
        *why = apr_psprintf(p, "cannot read the client key file %s (or it is larger "
                            "than 1 MiB)", key_path);
        return -1;
    }
    BIO *cb = BIO_new_mem_buf(c, (int)cn), *kb = BIO_new_mem_buf(k, (int)kn);
    X509 *x = cb ? PEM_read_bio_X509(cb, NULL, NULL, NULL) : NULL;
    EVP_PKEY *pk = kb ? PEM_read_bio_PrivateKey(kb, NULL, NULL, NULL) : NULL;
    int match = x != NULL && pk != NULL && X509_check_private_key(x, pk) == 1;
    BIO_free(cb);
    BIO_free(kb);
    X509_free(x);
    EVP_PKEY_free(pk);
    if (x == NULL || pk == NULL || !match) {
        *why = x == NULL ? apr_psprintf(p, "%s holds no PEM certificate", cert_path)
             : pk == NULL ? apr_psprintf(p, "%s holds no unencrypted PEM private key",
                                         key_path)
             : apr_psprintf(p, "the key in %s does not belong to the certificate in %s",
                            key_path, cert_path);
        return -1;
    }
    *cert_pem = c;
    *cert_len = cn;
    *key_pem = k;
    *key_len = kn;
    return 0;
}

/* ---- private_key_jwt ----------------------------------------------------------*/

static apr_status_t pkey_cleanup(void *k)
{
    EVP_PKEY_free(k);
    return APR_SUCCESS;
}

/* The JWS algorithm for key, or NULL. */
static const char *alg_for(EVP_PKEY *k)
{
    switch (EVP_PKEY_get_base_id(k)) {
    case EVP_PKEY_RSA: {
        int bits = EVP_PKEY_get_bits(k);
        return bits >= 2048 && bits <= 8192 ? "RS256" : NULL;
    }
    case EVP_PKEY_EC: {
        char curve[64];
        size_t n = 0;
        if (EVP_PKEY_get_utf8_string_param(k, OSSL_PKEY_PARAM_GROUP_NAME, curve,
                                           sizeof(curve), &n) != 1)
            return NULL;
        if (strcmp(curve, "prime256v1") == 0 || strcmp(curve, "P-256") == 0)
            return "ES256";
        if (strcmp(curve, "secp384r1") == 0 || strcmp(curve, "P-384") == 0)
            return "ES384";
        if (strcmp(curve, "secp521r1") == 0 || strcmp(curve, "P-521") == 0)
            return "ES512";
        return NULL;
    }
    case EVP_PKEY_ED25519:
        return "EdDSA";
    default:
        return NULL;
    }
}

static const EVP_MD *md_for(const char *alg)
{
    if (strcmp(alg, "EdDSA") == 0)
        return NULL;
    if (strcmp(alg, "ES384") == 0)
        return EVP_sha384();
    if (strcmp(alg, "ES512") == 0)
        return EVP_sha512();
    return EVP_sha256();
}

/* Bytes of r and of s in a JOSE ECDSA signature for alg. */
static size_t ec_half(const char *alg)
{
    return strcmp(alg, "ES256") == 0 ? 32 : strcmp(alg, "ES384") == 0 ? 48 : 66;
}

/* Sign in with key; a JOSE signature (ECDSA as raw r||s). 0 or -1. */
static int sign(apr_pool_t *p, EVP_PKEY *key, const char *alg, const unsigned char *in,
                size_t len, unsigned char **sig, size_t *sig_len)
{
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    size_t n = 0;
    unsigned char *der = NULL;
    int ok = c != NULL && EVP_DigestSignInit(c, NULL, md_for(alg), NULL, key) == 1
        && EVP_DigestSign(c, NULL, &n, in, len) == 1
        && (der = malloc(n)) != NULL
        && EVP_DigestSign(c, der, &n, in, len) == 1;
    EVP_MD_CTX_free(c);
    if (!ok) {
        free(der);
        return -1;
    }
    if (alg[0] != 'E' || alg[1] != 'S') {
        *sig = apr_pmemdup(p, der, n);
        *sig_len = n;
        free(der);
        return 0;
    }
    size_t half = ec_half(alg);
    unsigned char *raw = apr_pcalloc(p, 2 * half);
    ok = cka_ecdsa_raw(der, n, half, raw) == 0;
    free(der);
    if (!ok)
        return -1;
    *sig = raw;
    *sig_len = 2 * half;
    return 0;
}

/* Verify a DER/raw signature made by sign() (the key check at config time). */
static int verify_own(EVP_PKEY *key, const char *alg, const unsigned char *in, size_t len,
                      const unsigned char *sig, size_t sig_len)
{
    unsigned char der[CKA_ECDSA_DER_MAX];
    if (alg[0] == 'E' && alg[1] == 'S') {
        if ((sig_len = cka_ecdsa_der(sig, sig_len, der)) == 0)
            return 0;
        sig = der;
    }
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    int ok = c != NULL && EVP_DigestVerifyInit(c, NULL, md_for(alg), NULL, key) == 1
        && EVP_DigestVerify(c, sig, sig_len, in, len) == 1;
    EVP_MD_CTX_free(c);
    return ok;
}

EVP_PKEY *cka_is_load_private_key(apr_pool_t *p, const char *path, const char **alg,
                                  const char **why)
{
    BIO *b = BIO_new_file(path, "r");
    if (b == NULL) {
        *why = apr_psprintf(p, "cannot read the private key file %s", path);
        return NULL;
    }
    EVP_PKEY *k = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);
    BIO_free(b);
    if (k == NULL) {
        *why = apr_psprintf(p, "%s holds no PEM private key (unencrypted PKCS#8, "
                            "PKCS#1 or SEC1)", path);
        return NULL;
    }
    apr_pool_cleanup_register(p, k, pkey_cleanup, apr_pool_cleanup_null);
    const char *a = alg_for(k);
    if (a == NULL) {
        *why = apr_psprintf(p, "the private key in %s is not usable for a client "
                            "assertion: RSA of 2048 to 8192 bits, EC P-256, P-384 or "
                            "P-521, or Ed25519", path);
        return NULL;
    }
    static const unsigned char probe[] = "conduktor-auth key check";
    unsigned char *sig;
    size_t n;
    if (sign(p, k, a, probe, sizeof(probe) - 1, &sig, &n) != 0
        || !verify_own(k, a, probe, sizeof(probe) - 1, sig, n)) {
        *why = apr_psprintf(p, "the private key in %s cannot sign (a test signature "
                            "failed)", path);
        return NULL;
    }
    *alg = a;
    return k;
}

const char *cka_is_client_assertion(apr_pool_t *p, EVP_PKEY *key, const char *alg,
                                    const char *client_id, const char *aud,
                                    long long now, const char **why)
{
    unsigned char rnd[16];
    if (RAND_bytes(rnd, sizeof(rnd)) != 1) {
        *why = "no random bytes for the assertion's jti";
        return NULL;
    }
    json_t *h = json_pack("{s:s, s:s}", "alg", alg, "typ", "JWT");
    json_t *c = json_pack("{s:s, s:s, s:s, s:s, s:I, s:I}", "iss", client_id,
                          "sub", client_id, "aud", aud,
                          "jti", cka_b64url_encode(p, rnd, sizeof(rnd)),
                          "iat", (json_int_t)now,
                          "exp", (json_int_t)(now + CKA_IS_ASSERTION_TTL));
    if (h == NULL || c == NULL) {
        json_decref(h);
        json_decref(c);
        *why = "cannot build the assertion";
        return NULL;
    }
    cka_json_pool_own(p, h);
    cka_json_pool_own(p, c);
    const char *hs = cka_json_compact(p, h), *cs = cka_json_compact(p, c);
    const char *input = apr_pstrcat(p, cka_b64url_encode(p, (const unsigned char *)hs,
                                                         strlen(hs)), ".",
                                    cka_b64url_encode(p, (const unsigned char *)cs,
                                                      strlen(cs)), NULL);
    unsigned char *sig;
    size_t n;
    if (sign(p, key, alg, (const unsigned char *)input, strlen(input), &sig, &n) != 0) {
        *why = "signing the client assertion failed";
        return NULL;
    }
    return apr_pstrcat(p, input, ".", cka_b64url_encode(p, sig, n), NULL);
}

/* ---- the answer ----------------------------------------------------------------*/

int cka_is_access_token_type(const char *t)
{
    static const char *const ok[] = {
        "bearer", "dpop", "access_token", "urn:ietf:params:oauth:token-type:access_token",
        "at+jwt", "application/at+jwt", NULL
    };
    if (t == NULL)
        return 0;
    for (int i = 0; ok[i]; i++)
        if (strcasecmp(t, ok[i]) == 0)
            return 1;
    return 0;
}

cka_is_outcome_t cka_is_parse_answer(apr_pool_t *p, long status, const char *body,
                                     size_t len, const char *issuer, json_t **claims,
                                     const char **why)
{
    *claims = NULL;
    *why = NULL;
    if (status != 200) {
        *why = apr_psprintf(p, "HTTP status %ld", status);
        return CKA_IS_BAD;
    }
    if (body == NULL || len == 0) {
        *why = "empty answer";
        return CKA_IS_BAD;
    }
    if (len > CKA_IS_MAX_ANSWER) {
        *why = "answer larger than 64 KiB";
        return CKA_IS_BAD;
    }
    const char *jwhy = NULL;
    json_t *o = cka_json_parse_object(p, body, len, &jwhy);
    if (o == NULL) {
        *why = apr_psprintf(p, "answer is not a JSON object (%s)", jwhy ? jwhy : "unparsable");
        return CKA_IS_BAD;
    }
    json_t *active = json_object_get(o, "active");
    if (!json_is_boolean(active)) {
        *why = active == NULL ? "answer without \"active\""
                              : "answer's \"active\" is not a JSON boolean";
        return CKA_IS_BAD;
    }
    if (!json_is_true(active))
        return CKA_IS_INACTIVE;
    /* An IdP that answers active:true for a refresh token (or an ID
     * token) says what it is in token_type: not an access token, so not
     * a credential for this API. */
    json_t *tt = json_object_get(o, "token_type");
    if (tt != NULL && !cka_is_access_token_type(json_is_string(tt) ? json_string_value(tt)
                                                                    : NULL))
        return CKA_IS_INACTIVE;
    if (json_object_get(o, "iss") == NULL
        && json_object_set_new(o, "iss", json_string(issuer)) != 0) {
        *why = "cannot record the issuer";
        return CKA_IS_BAD;
    }
    *claims = o;
    return CKA_IS_ACTIVE;
}

cka_reason_t cka_is_check(const json_t *claims, const char *issuer, const cka_policy_t *pol,
                          long long now)
{
    if (!json_is_true(json_object_get(claims, "active")))
        return CKA_TOKEN_INACTIVE;
    json_t *iss = json_object_get(claims, "iss");
    if (!json_is_string(iss) || strcmp(json_string_value(iss), issuer) != 0)
        return CKA_WRONG_ISSUER;
    if (pol == NULL)
        return CKA_OK;
    /* The claim checks of a JWT (claims.c), exp optional. */
    cka_reason_t why = cka_claims_check_times(claims, now, pol->skew, 0, NULL);
    if (why == CKA_OK)
        why = cka_claims_check_lifetime(claims, pol->max_lifetime);
    if (why != CKA_OK)
        return why;
    return cka_claims_check_aud(claims, pol->audiences, pol->any_audience);
}

long long cka_is_reuse_until(const json_t *claims, int active, long long now, int ttl)
{
    if (ttl <= 0)
        return now + 1;
    if (!active)
        return now + (ttl < CKA_IS_INACTIVE_TTL ? ttl : CKA_IS_INACTIVE_TTL);
    long long until = now + ttl, exp = 0;
    if (cka_numeric_date(claims, "exp", &exp) == 0 && exp < until)
        until = exp;
    return until > now ? until : now + 1;
}

long long cka_is_reader_until(const cka_is_record_t *rec, int ttl)
{
    if (ttl <= 0)
        ttl = 1;
    if (rec->state != 'A' && ttl > CKA_IS_INACTIVE_TTL)
        ttl = CKA_IS_INACTIVE_TTL;
    long long cap = rec->at + ttl;
    return rec->until < cap ? rec->until : cap;
}

/* ---- the cache -----------------------------------------------------------------*/

int cka_is_binding_id(const unsigned char *issuer_binding, size_t blen,
                      const char *endpoint, const char *client_id, cka_is_auth_t auth,
                      unsigned char out[CKA_IS_BIND_LEN])
{
    static const char label[] = "conduktor-auth introspection binding 1";
    const char *an = cka_is_auth_name(auth);
    const char *ep = endpoint ? endpoint : "discover";
    size_t total = sizeof(label) + 4 * 4 + blen + strlen(ep) + strlen(client_id) + strlen(an);
    unsigned char *buf = malloc(total);
    if (buf == NULL)
        return -1;
    cka_frame_w_t w;
    cka_frame_w_over(&w, buf, total);
    cka_frame_put(&w, label, sizeof(label));
    cka_frame_put_field(&w, issuer_binding, blen);
    cka_frame_put_field(&w, ep, strlen(ep));
    cka_frame_put_field(&w, client_id, strlen(client_id));
    cka_frame_put_field(&w, an, strlen(an));
    int rv = w.bad ? -1 : cka_token_hash((const char *)buf, w.len, out);
    free(buf);
    return rv;
}

int cka_is_name(const cka_seal_t *s, const unsigned char binding[CKA_IS_BIND_LEN],
                const char *tok, size_t len, unsigned char out[CKA_SEAL_NAME_LEN])
{
    if (len > CKA_MAX_TOKEN_LEN)
        return -1;
    unsigned char *buf = malloc(CKA_IS_BIND_LEN + len + 1);
    if (buf == NULL)
        return -1;
    memcpy(buf, binding, CKA_IS_BIND_LEN);
    memcpy(buf + CKA_IS_BIND_LEN, tok, len);
    int rv = cka_seal_name(s, CKA_SEAL_INTROSPECT, buf, CKA_IS_BIND_LEN + len, out);
    free(buf);
    return rv;
}

#define IS_MAGIC "CKI2"

int cka_is_record_seal(const cka_seal_t *s, apr_pool_t *p,
                       const unsigned char name[CKA_SEAL_NAME_LEN],
                       const cka_is_record_t *rec, unsigned char **out, size_t *out_len)
{
    int st = rec->state;
    if (st != 'A' && st != 'I' && st != 'P' && st != 'F')
        return -1;
    size_t al = st == 'A' ? rec->answer_len : 0;
    if (rec->until <= 0 || rec->until > CKA_MAX_NUMERIC_DATE
        || rec->at < 0 || rec->at > rec->until
        || (st == 'A' && (rec->answer == NULL || al == 0 || al > CKA_IS_MAX_ANSWER)))
        return -1;
    cka_frame_w_t w;
    cka_frame_w_init(&w, p, CKA_FRAME_HEAD_LEN + 8 + CKA_IS_BIND_LEN + al);
    cka_frame_put_head(&w, IS_MAGIC, (unsigned)st, rec->until);
    cka_frame_put_u64(&w, (uint64_t)rec->at);      /* when the IdP answered */
    cka_frame_put(&w, rec->binding, CKA_IS_BIND_LEN);
    cka_frame_put(&w, rec->answer, al);
    return cka_frame_seal(&w, s, p, CKA_SEAL_INTROSPECT, name, out, out_len);
}

int cka_is_record_open(const cka_seal_t *s, apr_pool_t *p,
                       const unsigned char name[CKA_SEAL_NAME_LEN],
                       const unsigned char *buf, size_t len, cka_is_record_t *out)
{
    cka_frame_r_t r;
    long long until;
    memset(out, 0, sizeof(*out));
    if (cka_frame_open(&r, s, p, CKA_SEAL_INTROSPECT, name, buf, len) != 0)
        return -1;
    int st = (int)cka_frame_get_head(&r, IS_MAGIC, &until);
    cka_frame_check(&r, st == 'A' || st == 'I' || st == 'P' || st == 'F');
    uint64_t at = cka_frame_get_u64(&r);
    cka_frame_check(&r, at <= (uint64_t)until);
    const unsigned char *bind = cka_frame_get(&r, CKA_IS_BIND_LEN);
    size_t al = cka_frame_left(&r);
    const char *answer = (const char *)cka_frame_get(&r, al);
    cka_frame_check(&r, st == 'A' ? al > 0 && al <= CKA_IS_MAX_ANSWER : al == 0);
    if (cka_frame_r_done(&r) != 0)
        return -1;
    out->state = st;
    out->until = until;
    out->at = (long long)at;
    memcpy(out->binding, bind, CKA_IS_BIND_LEN);
    if (st != 'A')
        return 0;
    out->answer = answer;
    out->answer_len = al;
    out->claims = cka_json_parse_object(p, out->answer, al, NULL);
    if (out->claims == NULL || !json_is_true(json_object_get(out->claims, "active")))
        return -1;
    return 0;
}
