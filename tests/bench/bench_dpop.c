/* bench_dpop.c - micro-benchmark of the DPoP proof verifier (issue 16).
 *
 * Built by `make bench-dpop` (an EXTRA_PROGRAMS target like bench_core,
 * never installed, not part of `make check`). An EC P-256 key is made at
 * run time and N distinct ES256 proofs (each its own jti, the key's public
 * jwk in the header) are signed with OpenSSL before measuring.
 *
 * Prints, one thread, each figure over -t seconds:
 *   raw/s        EVP_DigestVerifyInit + EVP_DigestVerify on a key made
 *                once, over each proof's signing input (DER signature made
 *                beforehand): OpenSSL's ES256 verification alone;
 *   raw+import/s the same, with the public key imported from its x, y
 *                every time (EVP_PKEY_fromdata), as any verifier of a
 *                proof's jwk must;
 *   import/s     cka_dpop_verify without a key cache: strict parse,
 *                typ/alg, jwk import through the key-set code (sanity
 *                rules, RFC 7638 thumbprint), signature through verify.c,
 *                htm, htu (normalised), iat, jti, ath, cnf.jkt; pool
 *                cleared per call like a request;
 *   core/s       the same with the per-process key cache the module uses
 *                (one client key, as one client's proofs have): the jwk is
 *                imported once, then its prepared context copied;
 *   core/raw     the figure (target >= 0.85).
 *
 * Usage: bench_dpop [-t SECONDS] [-n PROOFS]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <apr_general.h>
#include <apr_pools.h>
#include <apr_strings.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include "dpop.h"
#include "keyset.h"

#define URL "https://api.bench.test/api/public/console/v2/kafka-cluster"
#define TOK "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJiZW5jaCJ9.c2lnbmF0dXJl"

static char *b64url(apr_pool_t *p, const unsigned char *d, size_t n)
{
    static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    char *o = apr_palloc(p, n * 4 / 3 + 4), *w = o;
    size_t i = 0;
    for (; i + 2 < n; i += 3) {
        unsigned v = (unsigned)d[i] << 16 | (unsigned)d[i + 1] << 8 | d[i + 2];
        *w++ = a[v >> 18]; *w++ = a[(v >> 12) & 63]; *w++ = a[(v >> 6) & 63]; *w++ = a[v & 63];
    }
    if (n - i == 1) {
        unsigned v = (unsigned)d[i] << 16;
        *w++ = a[v >> 18]; *w++ = a[(v >> 12) & 63];
    }
    else if (n - i == 2) {
        unsigned v = (unsigned)d[i] << 16 | (unsigned)d[i + 1] << 8;
        *w++ = a[v >> 18]; *w++ = a[(v >> 12) & 63]; *w++ = a[(v >> 6) & 63];
    }
    *w = '\0';
    return o;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

typedef struct {
    const char *proof;
    const unsigned char *msg;
    size_t msg_len;
    unsigned char der[80];
    size_t der_len;
} proof_t;

static EVP_PKEY *pkey;
static unsigned char xy[65];        /* 04 || x || y */
static proof_t *proofs;
static int nproofs;

static void die(const char *m)
{
    fprintf(stderr, "bench_dpop: %s\n", m);
    exit(1);
}

static void make_proofs(apr_pool_t *p, int n, long long now, const char *jwk)
{
    proofs = apr_pcalloc(p, sizeof(*proofs) * (size_t)n);
    nproofs = n;
    unsigned char md[32];
    unsigned int mdl;
    EVP_Digest(TOK, strlen(TOK), md, &mdl, EVP_sha256(), NULL);
    const char *ath = b64url(p, md, mdl);
    const char *hdr = apr_psprintf(p, "{\"typ\":\"dpop+jwt\",\"alg\":\"ES256\",\"jwk\":%s}", jwk);
    const char *h64 = b64url(p, (const unsigned char *)hdr, strlen(hdr));
    for (int i = 0; i < n; i++) {
        const char *cl = apr_psprintf(p, "{\"jti\":\"bench-%08d-%s\",\"htm\":\"GET\",\"htu\":\"%s\","
                                      "\"iat\":%" APR_INT64_T_FMT ",\"ath\":\"%s\"}", i, "x", URL, (apr_int64_t)now, ath);
        char *si = apr_pstrcat(p, h64, ".", b64url(p, (const unsigned char *)cl, strlen(cl)), NULL);
        EVP_MD_CTX *c = EVP_MD_CTX_new();
        size_t dl = sizeof(proofs[i].der);
        if (EVP_DigestSignInit(c, NULL, EVP_sha256(), NULL, pkey) != 1
            || EVP_DigestSign(c, proofs[i].der, &dl, (unsigned char *)si, strlen(si)) != 1)
            die("sign");
        EVP_MD_CTX_free(c);
        proofs[i].der_len = dl;
        const unsigned char *q = proofs[i].der;
        ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &q, (long)dl);
        unsigned char raw[64];
        if (es == NULL || BN_bn2binpad(ECDSA_SIG_get0_r(es), raw, 32) != 32
            || BN_bn2binpad(ECDSA_SIG_get0_s(es), raw + 32, 32) != 32)
            die("r||s");
        ECDSA_SIG_free(es);
        proofs[i].msg = (const unsigned char *)si;
        proofs[i].msg_len = strlen(si);
        proofs[i].proof = apr_pstrcat(p, si, ".", b64url(p, raw, 64), NULL);
    }
}

static int raw_verify(const proof_t *pr, EVP_PKEY *k)
{
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    int ok = EVP_DigestVerifyInit(c, NULL, EVP_sha256(), NULL, k) == 1
        && EVP_DigestVerify(c, pr->der, pr->der_len, pr->msg, pr->msg_len) == 1;
    EVP_MD_CTX_free(c);
    return ok;
}

static EVP_PKEY *import_key(void)
{
    OSSL_PARAM_BLD *b = OSSL_PARAM_BLD_new();
    OSSL_PARAM_BLD_push_utf8_string(b, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0);
    OSSL_PARAM_BLD_push_octet_string(b, OSSL_PKEY_PARAM_PUB_KEY, xy, sizeof(xy));
    OSSL_PARAM *params = OSSL_PARAM_BLD_to_param(b);
    EVP_PKEY_CTX *pc = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
    EVP_PKEY *k = NULL;
    if (pc == NULL || EVP_PKEY_fromdata_init(pc) != 1
        || EVP_PKEY_fromdata(pc, &k, EVP_PKEY_PUBLIC_KEY, params) != 1)
        die("import");
    EVP_PKEY_CTX_free(pc);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(b);
    return k;
}

int main(int argc, char **argv)
{
    double secs = 2.0;
    int n = 2000;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-t") == 0 && i + 1 < argc)
            secs = atof(argv[++i]);
        else if (strcmp(argv[i], "-n") == 0 && i + 1 < argc)
            n = atoi(argv[++i]);
        else {
            fprintf(stderr, "usage: bench_dpop [-t SECONDS] [-n PROOFS]\n");
            return 2;
        }
    }
    apr_initialize();
    apr_pool_t *gp, *rp;
    apr_pool_create(&gp, NULL);
    apr_pool_create(&rp, gp);
    pkey = EVP_EC_gen("P-256");
    size_t xyl = 0;
    if (pkey == NULL || EVP_PKEY_get_octet_string_param(pkey, OSSL_PKEY_PARAM_PUB_KEY, xy,
                                                        sizeof(xy), &xyl) != 1 || xyl != 65)
        die("key");
    const char *jwk = apr_psprintf(gp, "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"%s\",\"y\":\"%s\"}",
                                   b64url(gp, xy + 1, 32), b64url(gp, xy + 33, 32));
    cka_keyset_t *ks = NULL;
    if (cka_keyset_parse_json(gp, jwk, strlen(jwk), &ks, NULL) != CKA_OK)
        die("jwk");
    const char *jkt = cka_thumb_text(gp, APR_ARRAY_IDX(ks->keys, 0, cka_key_t *)->thumb);
    long long t0 = (long long)time(NULL);
    make_proofs(gp, n, t0, jwk);

    cka_dpop_check_t c = { .algs = CKA_DPOP_ALGS_DEFAULT, .method = "GET", .url = URL,
                           .token = TOK, .token_len = strlen(TOK), .jkt = jkt, .now = t0,
                           .window = 3600, .skew = 60, .nonce_seal = NULL };
    cka_dpop_result_t res;
    /* every proof must pass, and the raw figure must verify too */
    for (int i = 0; i < n; i++) {
        if (cka_dpop_verify(rp, proofs[i].proof, strlen(proofs[i].proof), &c, &res) != CKA_OK)
            die(apr_psprintf(gp, "proof %d refused: %s", i, res.detail ? res.detail : "?"));
        if (!raw_verify(&proofs[i], pkey))
            die("raw verify failed");
        apr_pool_clear(rp);
    }

    cka_dpop_keys_t *kc = cka_dpop_keys_create(gp, 64);
    double rates[4];
    for (int mode = 0; mode < 4; mode++) {
        c.keys = mode == 3 ? kc : NULL;
        long count = 0;
        double start = now_s(), end = start + secs, t;
        do {
            for (int k = 0; k < 64; k++, count++) {
                const proof_t *pr = &proofs[count % n];
                if (mode == 0) {
                    if (!raw_verify(pr, pkey))
                        die("raw");
                }
                else if (mode == 1) {
                    EVP_PKEY *ik = import_key();
                    if (!raw_verify(pr, ik))
                        die("raw+import");
                    EVP_PKEY_free(ik);
                }
                else {     /* 2: no key cache; 3: with it */
                    if (cka_dpop_verify(rp, pr->proof, strlen(pr->proof), &c, &res) != CKA_OK)
                        die("core");
                    apr_pool_clear(rp);
                }
            }
            t = now_s();
        } while (t < end);
        rates[mode] = count / (t - start);
    }
    printf("%-6s %10s %13s %10s %10s %12s %10s\n", "alg", "raw/s", "raw+import/s",
           "import/s", "core/s", "import/raw", "core/raw");
    printf("%-6s %10.0f %13.0f %10.0f %10.0f %12.2f %10.2f\n", "ES256", rates[0], rates[1],
           rates[2], rates[3], rates[2] / rates[0], rates[3] / rates[0]);
    printf("target: core DPoP proof verification >= 0.85 x raw ES256 verify: %.2f -> %s "
           "(a new client key each proof: %.2f)\n", rates[3] / rates[0],
           rates[3] / rates[0] >= 0.85 ? "met" : "MISSED", rates[2] / rates[0]);
    apr_pool_destroy(gp);
    EVP_PKEY_free(pkey);
    apr_terminate();
    return 0;
}
