/* bench_core.c - micro-benchmark of the validation core (issue 5).
 *
 * Built by `make bench-core` (an EXTRA_PROGRAMS target, never installed,
 * not part of `make check`). Everything is made at run time: an RSA-2048,
 * an EC P-256 and an Ed25519 key (OpenSSL), their public JWKs (parsed by
 * the core's own cka_keyset_parse_json, as the module does), and signed
 * tokens (OpenSSL EVP signing, base64url written here).
 *
 * For RS256, ES256 and EdDSA it prints, side by side:
 *   raw/s       EVP_DigestVerifyInit + EVP_DigestVerify on the same key and
 *               signing input, in this process (the "limit");
 *   cold/s      cka_validate_token on a fixed key source, every call a full
 *               parse + signature + claims check (rotating over distinct
 *               tokens; "same" = one token again and again), pool cleared
 *               per call like a request pool;
 *   cold/raw    how close the core gets to the limit;
 *   cached/s    the module's hit path: cka_seal_name (HMAC-SHA256 under
 *               the cache key) + cka_tcache_get (the per-process front) +
 *               cka_validate_hit (binding, the very key still in the set by
 *               thumbprint, alg, typ, time, audience) + release.
 *
 * Usage:
 *   bench_core [-t SECONDS] [-n DISTINCT]
 *   bench_core --callgrind cached|cold|raw RS256|ES256|EdDSA ITERATIONS
 *       runs only that loop (function bench_loop_<mode>) ITERATIONS times
 *       after the set-up, for
 *       valgrind --tool=callgrind --toggle-collect=bench_loop_<mode> ...
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <apr_general.h>
#include <apr_pools.h>
#include <apr_strings.h>
#include <apr_tables.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/opensslv.h>
#include <jansson.h>

#include "alg.h"
#include "claims.h"
#include "jws.h"
#include "keyset.h"
#include "reason.h"
#include "record.h"
#include "tcache.h"
#include "validate.h"

#define ISSUER      "https://idp.bench.test/realms/conduktor"
#define AUDIENCE    "conduktor"
#define FRONT_SLOTS 8192        /* as src/httpd/token_cache.c */

typedef struct {
    cka_alg_t      alg;
    const char    *name;
    EVP_PKEY      *pkey;
    const EVP_MD  *md;                 /* NULL for EdDSA                  */
    cka_keyset_t  *ks;
    int            n;                  /* distinct tokens                  */
    char         **tok;
    size_t        *len;
    /* the raw verify input: token 0's signing input, its signature as
     * OpenSSL wants it (DER for ECDSA) */
    const unsigned char *msg;
    size_t         msg_len;
    unsigned char *rawsig;
    size_t         rawsig_len;
} bench_alg_t;

static apr_pool_t   *gpool;
static cka_policy_t  policy;
static cka_tcache_t *front;
static int          *resident;         /* token indexes found in the front */
static int           nresident;
static volatile unsigned long sink;    /* keeps loops from being elided   */

static void die(const char *what)
{
    fprintf(stderr, "bench_core: %s failed\n", what);
    ERR_print_errors_fp(stderr);
    exit(2);
}

static double now_sec(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- encodings ------------------------------------------------------------ */

static char *b64url(apr_pool_t *p, const unsigned char *in, size_t len)
{
    static const char abc[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
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
    }
    else if (len - i == 2) {
        unsigned long v = ((unsigned long)in[i] << 16) | ((unsigned long)in[i + 1] << 8);
        *o++ = abc[(v >> 18) & 63];
        *o++ = abc[(v >> 12) & 63];
        *o++ = abc[(v >> 6) & 63];
    }
    *o = '\0';
    return out;
}

static char *b64url_str(apr_pool_t *p, const char *s)
{
    return b64url(p, (const unsigned char *)s, strlen(s));
}

static char *bn_b64(apr_pool_t *p, EVP_PKEY *k, const char *param, int pad)
{
    BIGNUM *bn = NULL;
    if (EVP_PKEY_get_bn_param(k, param, &bn) != 1)
        die("EVP_PKEY_get_bn_param");
    int n = pad ? pad : BN_num_bytes(bn);
    unsigned char *buf = apr_palloc(p, (apr_size_t)n);
    if (BN_bn2binpad(bn, buf, n) < 0)
        die("BN_bn2binpad");
    BN_free(bn);
    return b64url(p, buf, (size_t)n);
}

/* ---- keys and tokens ------------------------------------------------------ */

static char *public_jwk(apr_pool_t *p, const bench_alg_t *b, const char *kid)
{
    switch (b->alg) {
    case CKA_ALG_RS256:
        return apr_psprintf(p, "{\"keys\":[{\"kty\":\"RSA\",\"kid\":\"%s\",\"use\":\"sig\","
                            "\"n\":\"%s\",\"e\":\"%s\"}]}", kid,
                            bn_b64(p, b->pkey, OSSL_PKEY_PARAM_RSA_N, 0),
                            bn_b64(p, b->pkey, OSSL_PKEY_PARAM_RSA_E, 0));
    case CKA_ALG_ES256:
        return apr_psprintf(p, "{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\",\"kid\":\"%s\","
                            "\"use\":\"sig\",\"x\":\"%s\",\"y\":\"%s\"}]}", kid,
                            bn_b64(p, b->pkey, OSSL_PKEY_PARAM_EC_PUB_X, 32),
                            bn_b64(p, b->pkey, OSSL_PKEY_PARAM_EC_PUB_Y, 32));
    default: {
        unsigned char raw[32];
        size_t rl = sizeof(raw);
        if (EVP_PKEY_get_raw_public_key(b->pkey, raw, &rl) != 1)
            die("EVP_PKEY_get_raw_public_key");
        return apr_psprintf(p, "{\"keys\":[{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"kid\":\"%s\","
                            "\"use\":\"sig\",\"x\":\"%s\"}]}", kid, b64url(p, raw, rl));
    }
    }
}

/* Sign; *der gets OpenSSL's own form (DER for ECDSA), *jose the JWS form. */
static void sign(apr_pool_t *p, const bench_alg_t *b, const char *data, size_t len,
                 unsigned char **der, size_t *der_len,
                 unsigned char **jose, size_t *jose_len)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    size_t n = 0;
    if (ctx == NULL || EVP_DigestSignInit(ctx, NULL, b->md, NULL, b->pkey) != 1
        || EVP_DigestSign(ctx, NULL, &n, (const unsigned char *)data, len) != 1)
        die("EVP_DigestSignInit");
    unsigned char *buf = apr_palloc(p, n);
    if (EVP_DigestSign(ctx, buf, &n, (const unsigned char *)data, len) != 1)
        die("EVP_DigestSign");
    EVP_MD_CTX_free(ctx);
    *der = buf;
    *der_len = n;
    if (b->alg != CKA_ALG_ES256) {
        *jose = buf;
        *jose_len = n;
        return;
    }
    const unsigned char *q = buf;
    const BIGNUM *r, *s;
    ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &q, (long)n);
    if (es == NULL)
        die("d2i_ECDSA_SIG");
    ECDSA_SIG_get0(es, &r, &s);
    unsigned char *raw = apr_palloc(p, 64);
    if (BN_bn2binpad(r, raw, 32) < 0 || BN_bn2binpad(s, raw + 32, 32) < 0)
        die("BN_bn2binpad");
    ECDSA_SIG_free(es);
    *jose = raw;
    *jose_len = 64;
}

static void setup_alg(bench_alg_t *b, int ntok)
{
    switch (b->alg) {
    case CKA_ALG_RS256:
        b->pkey = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
        b->md = EVP_sha256();
        break;
    case CKA_ALG_ES256:
        b->pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
        b->md = EVP_sha256();
        break;
    default:
        b->pkey = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
        b->md = NULL;
    }
    if (b->pkey == NULL)
        die("EVP_PKEY_Q_keygen");
    const char *kid = "bench-1";
    const char *jwks = public_jwk(gpool, b, kid);
    cka_err_t err = CKA_ERR_INIT;
    if (cka_keyset_parse_json(gpool, jwks, strlen(jwks), &b->ks, &err) != CKA_OK) {
        fprintf(stderr, "bench_core: key set: %s\n", cka_err_text(&err));
        exit(2);
    }

    long long now = (long long)time(NULL);
    char *hdr = b64url_str(gpool, apr_psprintf(gpool,
        "{\"alg\":\"%s\",\"typ\":\"JWT\",\"kid\":\"%s\"}", b->name, kid));
    b->n = ntok;
    b->tok = apr_pcalloc(gpool, sizeof(char *) * (size_t)ntok);
    b->len = apr_pcalloc(gpool, sizeof(size_t) * (size_t)ntok);
    for (int i = 0; i < ntok; i++) {
        /* A claims set of the size a Keycloak / Entra access token has. */
        char *claims = apr_psprintf(gpool,
            "{\"iss\":\"%s\",\"aud\":[\"%s\",\"account\"],\"sub\":\"user-%06d\","
            "\"email\":\"user%06d@example.test\",\"preferred_username\":\"user%06d\","
            "\"groups\":[\"platform-team\",\"kafka-admins\",\"developers\"],"
            "\"scope\":\"openid email profile\",\"azp\":\"backstage\","
            "\"jti\":\"%08x-bench\",\"iat\":%" APR_INT64_T_FMT ",\"nbf\":%" APR_INT64_T_FMT
            ",\"exp\":%" APR_INT64_T_FMT "}",
            ISSUER, AUDIENCE, i, i, i, (unsigned)i * 2654435761u, (apr_int64_t)now,
            (apr_int64_t)now, (apr_int64_t)(now + 7200));
        char *input = apr_pstrcat(gpool, hdr, ".", b64url_str(gpool, claims), NULL);
        unsigned char *der, *jose;
        size_t der_len, jose_len;
        sign(gpool, b, input, strlen(input), &der, &der_len, &jose, &jose_len);
        b->tok[i] = apr_pstrcat(gpool, input, ".", b64url(gpool, jose, jose_len), NULL);
        b->len[i] = strlen(b->tok[i]);
        if (i == 0) {
            b->msg = (const unsigned char *)input;
            b->msg_len = strlen(input);
            b->rawsig = der;
            b->rawsig_len = der_len;
        }
    }
}

/* ---- the core's pieces ---------------------------------------------------- */

static const cka_keyset_t *fixed_get(void *ctx, apr_pool_t *p, const char *iss,
                                     int refresh, cka_reason_t *why)
{
    (void)p;
    (void)refresh;
    if (strcmp(iss, ISSUER) != 0) {
        *why = CKA_WRONG_ISSUER;
        return NULL;
    }
    return ctx;
}

static void setup_policy(void)
{
    apr_array_header_t *aud = apr_array_make(gpool, 1, sizeof(const char *));
    APR_ARRAY_PUSH(aud, const char *) = AUDIENCE;
    policy.algs = CKA_ALG_SET_DEFAULT;
    policy.audiences = aud;
    policy.any_audience = 0;
    policy.types = NULL;
    policy.skew = 60;
}

static cka_reason_t cold_one(const bench_alg_t *b, apr_pool_t *rp, int i)
{
    cka_key_source_t src = { b->ks, fixed_get };
    cka_verdict_t v;
    cka_reason_t r = cka_validate_token(rp, b->tok[i], b->len[i], &policy, &src,
                                        (long long)time(NULL), &v);
    apr_pool_clear(rp);
    return r;
}

/* The seal the module makes at start-up (a random key per start), the
 * binding of the fixed issuer configuration, and a pool per cached call
 * (as a request's). */
static const cka_seal_t *seal;
static const unsigned char bench_binding[CKA_BIND_LEN] = { 0xb1 };
static apr_pool_t *hitpool;

/* Fill the front with every token (as the module does after a full
 * verification) and note which ones stayed resident (direct-mapped:
 * collisions evict). */
static void prefill_front(const bench_alg_t *b, apr_pool_t *rp)
{
    unsigned char secret[32];
    const char *err = NULL;
    front = cka_tcache_create(gpool, FRONT_SLOTS);
    if (front == NULL)
        die("cka_tcache_create");
    if (seal == NULL && (cka_seal_random_secret(secret, sizeof(secret)) != 0
                         || (seal = cka_seal_create(gpool, secret, sizeof(secret), &err)) == NULL))
        die("cka_seal_create");
    if (hitpool == NULL && apr_pool_create(&hitpool, gpool) != APR_SUCCESS)
        die("apr_pool_create");
    cka_key_source_t src = { b->ks, fixed_get };
    long long now = (long long)time(NULL);
    for (int i = 0; i < b->n; i++) {
        cka_verdict_t v;
        unsigned char h[CKA_SEAL_NAME_LEN];
        cka_reason_t r = cka_validate_token(rp, b->tok[i], b->len[i], &policy, &src, now, &v);
        if (r != CKA_OK) {
            fprintf(stderr, "bench_core: %s token %d does not validate: %s (%s)\n", b->name,
                    i, cka_reason_code(r), v.detail ? v.detail : "-");
            exit(2);
        }
        cka_seal_name(seal, CKA_SEAL_TOKEN, b->tok[i], b->len[i], h);
        cka_record_t rec = { .alg = v.jws.alg, .typ = v.jws.typ, .kid = v.jws.kid,
                             .until = v.exp, .claims = v.jws.claims };
        memcpy(rec.binding, bench_binding, CKA_BIND_LEN);
        memcpy(rec.thumb, v.key->thumb, CKA_THUMB_LEN);
        cka_tcache_put(front, h, &rec);
        apr_pool_clear(rp);
    }
    resident = apr_pcalloc(gpool, sizeof(int) * (size_t)b->n);
    nresident = 0;
    for (int i = 0; i < b->n; i++) {
        unsigned char h[CKA_SEAL_NAME_LEN];
        cka_record_t hit;
        cka_seal_name(seal, CKA_SEAL_TOKEN, b->tok[i], b->len[i], h);
        if (cka_tcache_get(front, h, now, rp, &hit))
            resident[nresident++] = i;
    }
    apr_pool_clear(rp);
}

/* One cached validation, as src/httpd/authn.c does on a hit: the keyed
 * lookup name, the front lookup, then the core's hit check
 * (cka_validate_hit: the binding, the very key still in the issuer's
 * current set, alg allowed, typ, time and audience), less the binding
 * lookup in the server config (a short list walk). */
static cka_reason_t cached_one(const bench_alg_t *b, int i, long long now)
{
    unsigned char h[CKA_SEAL_NAME_LEN];
    cka_record_t hit;
    cka_reason_t r = CKA_INTERNAL;
    cka_seal_name(seal, CKA_SEAL_TOKEN, b->tok[i], b->len[i], h);
    if (cka_tcache_get(front, h, now, hitpool, &hit)) {
        cka_key_source_t src = { b->ks, fixed_get };
        if (!cka_validate_hit(hitpool, &hit, bench_binding, &policy, &src, now, &r, NULL))
            r = CKA_INTERNAL;
    }
    apr_pool_clear(hitpool);
    return r;
}

static int raw_one(const bench_alg_t *b, EVP_MD_CTX *ctx)
{
    int ok = EVP_DigestVerifyInit(ctx, NULL, b->md, NULL, b->pkey) == 1
          && EVP_DigestVerify(ctx, b->rawsig, b->rawsig_len, b->msg, b->msg_len) == 1;
    EVP_MD_CTX_reset(ctx);
    return ok;
}

/* ---- loops (noinline: callgrind toggles collection on these names) ------ */

__attribute__((noinline)) void bench_loop_cached(const bench_alg_t *b, long iters);
__attribute__((noinline)) void bench_loop_cold(const bench_alg_t *b, apr_pool_t *rp, long iters);
__attribute__((noinline)) void bench_loop_raw(const bench_alg_t *b, EVP_MD_CTX *ctx, long iters);

__attribute__((noinline)) void bench_loop_cached(const bench_alg_t *b, long iters)
{
    long long now = (long long)time(NULL);
    unsigned long bad = 0;
    for (long k = 0; k < iters; k++)
        bad += cached_one(b, resident[k % nresident], now) != CKA_OK;
    sink += bad;
}

__attribute__((noinline)) void bench_loop_cold(const bench_alg_t *b, apr_pool_t *rp, long iters)
{
    unsigned long bad = 0;
    for (long k = 0; k < iters; k++)
        bad += cold_one(b, rp, (int)(k % b->n)) != CKA_OK;
    sink += bad;
}

__attribute__((noinline)) void bench_loop_raw(const bench_alg_t *b, EVP_MD_CTX *ctx, long iters)
{
    unsigned long bad = 0;
    for (long k = 0; k < iters; k++)
        bad += !raw_one(b, ctx);
    sink += bad;
}

/* ---- timing --------------------------------------------------------------- */

typedef enum { M_RAW, M_COLD, M_COLD_SAME, M_CACHED, M_COUNT } mode_t_;

/* Run one mode for about `secs` seconds; add operations and time to *ops
 * and *elapsed. Every result is checked: a failure aborts (the figures
 * would be meaningless). */
static void run_mode(const bench_alg_t *b, mode_t_ m, double secs, apr_pool_t *rp,
                     EVP_MD_CTX *ctx, double *ops, double *elapsed)
{
    long long now = (long long)time(NULL);
    long done = 0;
    double t0 = now_sec(), t = t0;
    while (t - t0 < secs) {
        for (int k = 0; k < 16; k++, done++) {
            int ok;
            switch (m) {
            case M_RAW:       ok = raw_one(b, ctx); break;
            case M_COLD:      ok = cold_one(b, rp, (int)(done % b->n)) == CKA_OK; break;
            case M_COLD_SAME: ok = cold_one(b, rp, 0) == CKA_OK; break;
            default:          ok = cached_one(b, resident[done % nresident], now) == CKA_OK;
            }
            if (!ok) {
                fprintf(stderr, "bench_core: %s: a validation failed (mode %d)\n",
                        b->name, (int)m);
                exit(2);
            }
        }
        t = now_sec();
    }
    *ops += (double)done;
    *elapsed += t - t0;
}

/* Rates of all modes, measured in interleaved slices so that a change in
 * the machine's load during the run hits every mode alike and the ratios
 * stay meaningful. */
#define SLICES 20
static void rates(const bench_alg_t *b, double secs, apr_pool_t *rp, EVP_MD_CTX *ctx,
                  double out[M_COUNT])
{
    double ops[M_COUNT] = { 0 }, el[M_COUNT] = { 0 };
    for (int s = 0; s < SLICES; s++)
        for (int m = 0; m < M_COUNT; m++)
            run_mode(b, (mode_t_)m, secs / SLICES, rp, ctx, &ops[m], &el[m]);
    for (int m = 0; m < M_COUNT; m++)
        out[m] = ops[m] / el[m];
}

static void usage(void)
{
    fprintf(stderr,
            "usage: bench_core [-t SECONDS] [-n DISTINCT_TOKENS]\n"
            "       bench_core --callgrind cached|cold|raw RS256|ES256|EdDSA ITERATIONS\n");
    exit(2);
}

static bench_alg_t algs[] = {
    { .alg = CKA_ALG_RS256, .name = "RS256" },
    { .alg = CKA_ALG_ES256, .name = "ES256" },
    { .alg = CKA_ALG_EDDSA, .name = "EdDSA" },
};
#define NALGS (int)(sizeof(algs) / sizeof(algs[0]))

static int callgrind_mode(const char *mode, const char *alg, const char *iters_s)
{
    long iters = atol(iters_s);
    bench_alg_t *b = NULL;
    for (int i = 0; i < NALGS; i++)
        if (strcmp(algs[i].name, alg) == 0)
            b = &algs[i];
    if (b == NULL || iters <= 0)
        usage();
    apr_pool_t *rp;
    apr_pool_create(&rp, gpool);
    setup_alg(b, 256);
    prefill_front(b, rp);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    /* a few calls outside the measured functions, so lazy initialisation
     * (provider fetches, first allocations) is not counted */
    long long now = (long long)time(NULL);
    for (int k = 0; k < 16; k++) {
        if (cached_one(b, resident[k % nresident], now) != CKA_OK
            || cold_one(b, rp, k % b->n) != CKA_OK || !raw_one(b, ctx)) {
            fprintf(stderr, "bench_core: %s: a validation failed\n", b->name);
            return 2;
        }
    }
    sink = 0;
    if (strcmp(mode, "cached") == 0)
        bench_loop_cached(b, iters);
    else if (strcmp(mode, "cold") == 0)
        bench_loop_cold(b, rp, iters);
    else if (strcmp(mode, "raw") == 0)
        bench_loop_raw(b, ctx, iters);
    else
        usage();
    EVP_MD_CTX_free(ctx);
    printf("mode=%s alg=%s iterations=%ld failures=%lu\n", mode, alg, iters, sink);
    return sink == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
    double secs = 1.0;
    int ntok = 1000;

    apr_initialize();
    atexit(apr_terminate);
    apr_pool_create(&gpool, NULL);
    setup_policy();

    if (argc == 5 && strcmp(argv[1], "--callgrind") == 0)
        return callgrind_mode(argv[2], argv[3], argv[4]);
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-t") == 0 && i + 1 < argc)
            secs = atof(argv[++i]);
        else if (strcmp(argv[i], "-n") == 0 && i + 1 < argc)
            ntok = atoi(argv[++i]);
        else
            usage();
    }
    if (secs <= 0 || ntok < 1)
        usage();

    printf("bench_core: %s, jansson %s; %d distinct tokens per algorithm, "
           "%.1f s per figure (in %d interleaved slices), 1 thread\n",
           OpenSSL_version(OPENSSL_VERSION), JANSSON_VERSION, ntok, secs, SLICES);
    printf("%-6s %12s %12s %12s %9s %12s %8s %10s\n", "alg", "raw verify/s",
           "cold/s", "cold same/s", "cold/raw", "cached/s", "resident", "cached/cold");
    apr_pool_t *rp;
    apr_pool_create(&rp, gpool);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (ctx == NULL)
        die("EVP_MD_CTX_new");
    for (int a = 0; a < NALGS; a++) {
        bench_alg_t *b = &algs[a];
        setup_alg(b, ntok);
        prefill_front(b, rp);
        double r[M_COUNT];
        rates(b, secs / 10, rp, ctx, r);    /* warm-up: lazy fetches, caches */
        rates(b, secs, rp, ctx, r);
        printf("%-6s %12.0f %12.0f %12.0f %9.2f %12.0f %8d %10.0fx\n", b->name, r[M_RAW],
               r[M_COLD], r[M_COLD_SAME], r[M_COLD] / r[M_RAW], r[M_CACHED], nresident,
               r[M_CACHED] / r[M_COLD]);
        fflush(stdout);
    }
    EVP_MD_CTX_free(ctx);
    printf("raw = EVP_DigestVerifyInit+EVP_DigestVerify, same key and message; "
           "cold = cka_validate_token, full parse+verify+claims;\n"
           "cached = cka_seal_name + cka_tcache_get + cka_validate_hit "
           "(over the tokens resident in an %d-slot front).\n", FRONT_SLOTS);
    return 0;
}
