/* test_dpop.c - the DPoP proof verifier (src/core/dpop.c): one defect per
 * line, each proof minted by mint.c (its own base64url, JWK export and
 * signatures) from a template; the htu normalisation; nonces; replay
 * names. */
#include <string.h>
#include <apr_strings.h>
#include <openssl/evp.h>
#include "suites.h"
#include "dpop.h"
#include "seal.h"

#define URL "https://api.example.test/v1/x"
#define TOK "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhIn0.c2ln"
#define HDR "{\"typ\":\"dpop+jwt\",\"alg\":\"@ALG@\",\"jwk\":@JWK@}"
#define CL(extra) "{\"htm\":\"GET\",\"htu\":\"" URL "\",\"iat\":$+0,\"jti\":\"j-1\"," \
                  "\"ath\":\"@ATH@\"" extra "}"

enum { JKT_OWN = 0, JKT_OTHER, JKT_NONE };
enum { NONCE_OFF = 0, NONCE_CURRENT, NONCE_PREVIOUS, NONCE_STALE, NONCE_MISSING,
       NONCE_FORGED };

typedef struct {
    const char   *name;
    mint_kind_t   kind;       /* signs the proof; its public JWK is @JWK@ */
    const char   *alg;        /* header alg (also signs, when known)        */
    const char   *hdr;        /* header template                           */
    const char   *claims;     /* claims template ($+n: now + n)            */
    int           jkt;        /* the token's cnf.jkt                        */
    int           nonce;
    int           tamper;     /* 1: flip a signature bit                     */
    cka_reason_t  want;
    cka_dpop_defect_t defect;
} proof_case_t;

static const proof_case_t cases[] = {
    { "good ES256", MINT_P256, "ES256", HDR, CL(""), 0, 0, 0, CKA_OK, CKA_DPD_NONE },
    { "good ES384", MINT_P384, "ES384", HDR, CL(""), 0, 0, 0, CKA_OK, CKA_DPD_NONE },
    { "good PS256", MINT_RSA, "PS256", HDR, CL(""), 0, 0, 0, CKA_OK, CKA_DPD_NONE },
    { "good RS256", MINT_RSA, "RS256", HDR, CL(""), 0, 0, 0, CKA_OK, CKA_DPD_NONE },
    { "good EdDSA", MINT_ED25519, "EdDSA", HDR, CL(""), 0, 0, 0, CKA_OK, CKA_DPD_NONE },
    { "htu case, default port, query, fragment", MINT_P256, "ES256", HDR,
      "{\"htm\":\"GET\",\"htu\":\"HTTPS://API.Example.TEST:443/v1/x?a=1#f\",\"iat\":$+0,"
      "\"jti\":\"j\",\"ath\":\"@ATH@\"}", 0, 0, 0, CKA_OK, CKA_DPD_NONE },
    { "htu unreserved percent-encoded", MINT_P256, "ES256", HDR,
      "{\"htm\":\"GET\",\"htu\":\"https://api.example.test/v1/%78\",\"iat\":$+0,"
      "\"jti\":\"j\",\"ath\":\"@ATH@\"}", 0, 0, 0, CKA_OK, CKA_DPD_NONE },
    { "iat within window + skew", MINT_P256, "ES256", HDR,
      "{\"htm\":\"GET\",\"htu\":\"" URL "\",\"iat\":$-65,\"jti\":\"j\",\"ath\":\"@ATH@\"}",
      0, 0, 0, CKA_OK, CKA_DPD_NONE },
    { "iat as a real number", MINT_P256, "ES256", HDR,
      "{\"htm\":\"GET\",\"htu\":\"" URL "\",\"iat\":$+0.5,\"jti\":\"j\",\"ath\":\"@ATH@\"}",
      0, 0, 0, CKA_OK, CKA_DPD_NONE },
    /* typ */
    { "typ JWT", MINT_P256, "ES256", "{\"typ\":\"JWT\",\"alg\":\"ES256\",\"jwk\":@JWK@}",
      CL(""), 0, 0, 0, CKA_DPOP_INVALID, CKA_DPD_TYP },
    { "typ missing", MINT_P256, "ES256", "{\"alg\":\"ES256\",\"jwk\":@JWK@}",
      CL(""), 0, 0, 0, CKA_DPOP_INVALID, CKA_DPD_TYP },
    { "typ in upper case", MINT_P256, "ES256", "{\"typ\":\"DPOP+JWT\",\"alg\":\"ES256\",\"jwk\":@JWK@}",
      CL(""), 0, 0, 0, CKA_DPOP_INVALID, CKA_DPD_TYP },
    /* alg */
    { "alg ES512 not allowed", MINT_P521, "ES512", HDR, CL(""), 0, 0, 0,
      CKA_DPOP_INVALID, CKA_DPD_ALG },
    { "alg HS256", MINT_HMAC, "HS256", HDR, CL(""), 0, 0, 0, CKA_DPOP_INVALID, CKA_DPD_ALG },
    { "alg none", MINT_P256, "none", HDR, CL(""), 0, 0, 0, CKA_DPOP_INVALID, CKA_DPD_ALG },
    { "alg RS256 over an EC jwk", MINT_P256, "RS256", HDR, CL(""), 0, 0, 0,
      CKA_DPOP_INVALID, CKA_DPD_JWK },
    /* jwk */
    { "jwk missing", MINT_P256, "ES256", "{\"typ\":\"dpop+jwt\",\"alg\":\"ES256\"}",
      CL(""), 0, 0, 0, CKA_DPOP_INVALID, CKA_DPD_JWK },
    { "jwk a string", MINT_P256, "ES256", "{\"typ\":\"dpop+jwt\",\"alg\":\"ES256\",\"jwk\":\"x\"}",
      CL(""), 0, 0, 0, CKA_DPOP_INVALID, CKA_DPD_JWK },
    { "jwk with d", MINT_P256, "ES256",
      "{\"typ\":\"dpop+jwt\",\"alg\":\"ES256\",\"jwk\":@JWKD@}", CL(""), 0, 0, 0,
      CKA_DPOP_INVALID, CKA_DPD_JWK_PRIVATE },
    { "jwk oct", MINT_P256, "ES256",
      "{\"typ\":\"dpop+jwt\",\"alg\":\"ES256\",\"jwk\":{\"kty\":\"oct\",\"k\":\"c2VjcmV0c2VjcmV0\"}}",
      CL(""), 0, 0, 0, CKA_DPOP_INVALID, CKA_DPD_JWK_PRIVATE },
    { "jwk unknown kty", MINT_P256, "ES256",
      "{\"typ\":\"dpop+jwt\",\"alg\":\"ES256\",\"jwk\":{\"kty\":\"XX\"}}",
      CL(""), 0, 0, 0, CKA_DPOP_INVALID, CKA_DPD_JWK },
    { "jwk of another key", MINT_P256, "ES256",
      "{\"typ\":\"dpop+jwt\",\"alg\":\"ES256\",\"jwk\":@JWKOTHER@}", CL(""), 0, 0, 0,
      CKA_DPOP_INVALID, CKA_DPD_SIGNATURE },
    /* signature */
    { "signature flipped", MINT_P256, "ES256", HDR, CL(""), 0, 0, 1,
      CKA_DPOP_INVALID, CKA_DPD_SIGNATURE },
    /* htm */
    { "htm POST", MINT_P256, "ES256", HDR,
      "{\"htm\":\"POST\",\"htu\":\"" URL "\",\"iat\":$+0,\"jti\":\"j\",\"ath\":\"@ATH@\"}",
      0, 0, 0, CKA_DPOP_INVALID, CKA_DPD_HTM },
    { "htm lower case", MINT_P256, "ES256", HDR,
      "{\"htm\":\"get\",\"htu\":\"" URL "\",\"iat\":$+0,\"jti\":\"j\",\"ath\":\"@ATH@\"}",
      0, 0, 0, CKA_DPOP_INVALID, CKA_DPD_HTM },
    { "htm missing", MINT_P256, "ES256", HDR,
      "{\"htu\":\"" URL "\",\"iat\":$+0,\"jti\":\"j\",\"ath\":\"@ATH@\"}",
      0, 0, 0, CKA_DPOP_INVALID, CKA_DPD_HTM },
    /* htu */
    { "htu other path", MINT_P256, "ES256", HDR,
      "{\"htm\":\"GET\",\"htu\":\"" URL "y\",\"iat\":$+0,\"jti\":\"j\",\"ath\":\"@ATH@\"}",
      0, 0, 0, CKA_DPOP_INVALID, CKA_DPD_HTU },
    { "htu other host", MINT_P256, "ES256", HDR,
      "{\"htm\":\"GET\",\"htu\":\"https://evil.example.test/v1/x\",\"iat\":$+0,\"jti\":\"j\",\"ath\":\"@ATH@\"}",
      0, 0, 0, CKA_DPOP_INVALID, CKA_DPD_HTU },
    { "htu http", MINT_P256, "ES256", HDR,
      "{\"htm\":\"GET\",\"htu\":\"http://api.example.test/v1/x\",\"iat\":$+0,\"jti\":\"j\",\"ath\":\"@ATH@\"}",
      0, 0, 0, CKA_DPOP_INVALID, CKA_DPD_HTU },
    { "htu other port", MINT_P256, "ES256", HDR,
      "{\"htm\":\"GET\",\"htu\":\"https://api.example.test:8443/v1/x\",\"iat\":$+0,\"jti\":\"j\",\"ath\":\"@ATH@\"}",
      0, 0, 0, CKA_DPOP_INVALID, CKA_DPD_HTU },
    { "htu path case", MINT_P256, "ES256", HDR,
      "{\"htm\":\"GET\",\"htu\":\"https://api.example.test/V1/x\",\"iat\":$+0,\"jti\":\"j\",\"ath\":\"@ATH@\"}",
      0, 0, 0, CKA_DPOP_INVALID, CKA_DPD_HTU },
    { "htu with userinfo", MINT_P256, "ES256", HDR,
      "{\"htm\":\"GET\",\"htu\":\"https://u@api.example.test/v1/x\",\"iat\":$+0,\"jti\":\"j\",\"ath\":\"@ATH@\"}",
      0, 0, 0, CKA_DPOP_INVALID, CKA_DPD_HTU },
    { "htu missing", MINT_P256, "ES256", HDR,
      "{\"htm\":\"GET\",\"iat\":$+0,\"jti\":\"j\",\"ath\":\"@ATH@\"}",
      0, 0, 0, CKA_DPOP_INVALID, CKA_DPD_HTU },
    { "htu a number", MINT_P256, "ES256", HDR,
      "{\"htm\":\"GET\",\"htu\":1,\"iat\":$+0,\"jti\":\"j\",\"ath\":\"@ATH@\"}",
      0, 0, 0, CKA_DPOP_INVALID, CKA_DPD_HTU },
    /* iat */
    { "iat too old", MINT_P256, "ES256", HDR,
      "{\"htm\":\"GET\",\"htu\":\"" URL "\",\"iat\":$-71,\"jti\":\"j\",\"ath\":\"@ATH@\"}",
      0, 0, 0, CKA_DPOP_INVALID, CKA_DPD_IAT },
    { "iat in the future", MINT_P256, "ES256", HDR,
      "{\"htm\":\"GET\",\"htu\":\"" URL "\",\"iat\":$+71,\"jti\":\"j\",\"ath\":\"@ATH@\"}",
      0, 0, 0, CKA_DPOP_INVALID, CKA_DPD_IAT },
    { "iat missing", MINT_P256, "ES256", HDR,
      "{\"htm\":\"GET\",\"htu\":\"" URL "\",\"jti\":\"j\",\"ath\":\"@ATH@\"}",
      0, 0, 0, CKA_DPOP_INVALID, CKA_DPD_IAT },
    { "iat a string", MINT_P256, "ES256", HDR,
      "{\"htm\":\"GET\",\"htu\":\"" URL "\",\"iat\":\"1\",\"jti\":\"j\",\"ath\":\"@ATH@\"}",
      0, 0, 0, CKA_DPOP_INVALID, CKA_DPD_IAT },
    { "iat negative", MINT_P256, "ES256", HDR,
      "{\"htm\":\"GET\",\"htu\":\"" URL "\",\"iat\":-1,\"jti\":\"j\",\"ath\":\"@ATH@\"}",
      0, 0, 0, CKA_DPOP_INVALID, CKA_DPD_IAT },
    /* jti */
    { "jti missing", MINT_P256, "ES256", HDR,
      "{\"htm\":\"GET\",\"htu\":\"" URL "\",\"iat\":$+0,\"ath\":\"@ATH@\"}",
      0, 0, 0, CKA_DPOP_INVALID, CKA_DPD_JTI },
    { "jti empty", MINT_P256, "ES256", HDR,
      "{\"htm\":\"GET\",\"htu\":\"" URL "\",\"iat\":$+0,\"jti\":\"\",\"ath\":\"@ATH@\"}",
      0, 0, 0, CKA_DPOP_INVALID, CKA_DPD_JTI },
    { "jti a number", MINT_P256, "ES256", HDR,
      "{\"htm\":\"GET\",\"htu\":\"" URL "\",\"iat\":$+0,\"jti\":7,\"ath\":\"@ATH@\"}",
      0, 0, 0, CKA_DPOP_INVALID, CKA_DPD_JTI },
    { "jti of 257 bytes", MINT_P256, "ES256", HDR,
      "{\"htm\":\"GET\",\"htu\":\"" URL "\",\"iat\":$+0,\"jti\":\"@JTI257@\",\"ath\":\"@ATH@\"}",
      0, 0, 0, CKA_DPOP_INVALID, CKA_DPD_JTI },
    /* ath */
    { "ath missing", MINT_P256, "ES256", HDR,
      "{\"htm\":\"GET\",\"htu\":\"" URL "\",\"iat\":$+0,\"jti\":\"j\"}",
      0, 0, 0, CKA_DPOP_INVALID, CKA_DPD_ATH },
    { "ath of another token", MINT_P256, "ES256", HDR,
      "{\"htm\":\"GET\",\"htu\":\"" URL "\",\"iat\":$+0,\"jti\":\"j\",\"ath\":\"@ATHOTHER@\"}",
      0, 0, 0, CKA_DPOP_INVALID, CKA_DPD_ATH },
    /* cnf.jkt */
    { "cnf.jkt of another key", MINT_P256, "ES256", HDR, CL(""), JKT_OTHER, 0, 0,
      CKA_DPOP_INVALID, CKA_DPD_JKT },
    { "token without cnf.jkt", MINT_P256, "ES256", HDR, CL(""), JKT_NONE, 0, 0,
      CKA_DPOP_INVALID, CKA_DPD_UNBOUND },
    /* nonce */
    { "nonce current", MINT_P256, "ES256", HDR, CL(",\"nonce\":\"@NONCE@\""), 0,
      NONCE_CURRENT, 0, CKA_OK, CKA_DPD_NONE },
    { "nonce of the previous step", MINT_P256, "ES256", HDR, CL(",\"nonce\":\"@NONCE@\""), 0,
      NONCE_PREVIOUS, 0, CKA_OK, CKA_DPD_NONE },
    { "nonce two steps old", MINT_P256, "ES256", HDR, CL(",\"nonce\":\"@NONCE@\""), 0,
      NONCE_STALE, 0, CKA_DPOP_NONCE, CKA_DPD_NONCE },
    { "nonce missing", MINT_P256, "ES256", HDR, CL(""), 0, NONCE_MISSING, 0,
      CKA_DPOP_NONCE, CKA_DPD_NONCE },
    { "nonce of another secret", MINT_P256, "ES256", HDR, CL(",\"nonce\":\"@NONCE@\""), 0,
      NONCE_FORGED, 0, CKA_DPOP_NONCE, CKA_DPD_NONCE },
    /* shape */
    { "crit header", MINT_P256, "ES256",
      "{\"typ\":\"dpop+jwt\",\"alg\":\"ES256\",\"crit\":[\"x\"],\"x\":1,\"jwk\":@JWK@}",
      CL(""), 0, 0, 0, CKA_DPOP_INVALID, CKA_DPD_MALFORMED },
    { "duplicate claim", MINT_P256, "ES256", HDR,
      "{\"htm\":\"GET\",\"htm\":\"GET\",\"htu\":\"" URL "\",\"iat\":$+0,\"jti\":\"j\",\"ath\":\"@ATH@\"}",
      0, 0, 0, CKA_DPOP_INVALID, CKA_DPD_MALFORMED },
    { "proof over 8 KiB", MINT_P256, "ES256", HDR, CL(",\"pad\":\"@PAD9000@\""), 0, 0, 0,
      CKA_DPOP_INVALID, CKA_DPD_SIZE },
};

/* A second seal for forged nonces; the test's own seal for the others. */
static const cka_seal_t *seal_of(unsigned char fill)
{
    unsigned char secret[32];
    memset(secret, fill, sizeof(secret));
    const char *why = NULL;
    const cka_seal_t *s = cka_seal_create(tu_pool, secret, sizeof(secret), &why);
    ck_assert_msg(s != NULL, "seal: %s", why ? why : "");
    return s;
}

static char *subst(const char *text, const char *what, const char *with)
{
    const char *at;
    char *out = apr_pstrdup(tu_pool, text);
    while ((at = strstr(out, what)) != NULL)
        out = apr_pstrcat(tu_pool, apr_pstrmemdup(tu_pool, out, (apr_size_t)(at - out)),
                          with, at + strlen(what), NULL);
    return out;
}

static char *sha256_b64(const char *s)
{
    unsigned char md[32];
    unsigned int n = 0;
    EVP_Digest(s, strlen(s), md, &n, EVP_sha256(), NULL);
    return mint_b64url(tu_pool, md, n);
}

static char *repeat(char c, size_t n)
{
    char *s = apr_palloc(tu_pool, n + 1);
    memset(s, c, n);
    s[n] = '\0';
    return s;
}

START_TEST(proof_checks)
{
    const proof_case_t *tc = &cases[_i];
    long long now = mint_now();
    const mint_key_t *k = mint_key(tc->kind, MINT_TRUSTED);
    const cka_seal_t *seal = seal_of(7);
    cka_alg_t alg = cka_alg_from_name(tc->alg);

    const char *hdr = subst(tc->hdr, "@ALG@", tc->alg);
    if (strstr(hdr, "@JWK@"))
        hdr = subst(hdr, "@JWK@", mint_jwk(tu_pool, k, NULL));
    if (strstr(hdr, "@JWKD@"))
        hdr = subst(hdr, "@JWKD@", mint_jwk(tu_pool, k, "\"d\":\"AAAA\""));
    if (strstr(hdr, "@JWKOTHER@"))
        hdr = subst(hdr, "@JWKOTHER@", mint_jwk(tu_pool, mint_key(tc->kind, MINT_ATTACKER), NULL));
    const char *cl = mint_times(tu_pool, tc->claims, now);
    cl = subst(cl, "@ATH@", sha256_b64(TOK));
    cl = subst(cl, "@ATHOTHER@", sha256_b64(TOK "x"));
    cl = subst(cl, "@JTI257@", repeat('j', 257));
    cl = subst(cl, "@PAD9000@", repeat('p', 9000));
    if (strstr(cl, "@NONCE@")) {
        long long at = tc->nonce == NONCE_PREVIOUS ? now - CKA_DPOP_NONCE_STEP
                     : tc->nonce == NONCE_STALE ? now - 2 * CKA_DPOP_NONCE_STEP : now;
        const char *n = cka_dpop_nonce_make(tu_pool, tc->nonce == NONCE_FORGED ? seal_of(8) : seal,
                                            at);
        ck_assert_ptr_nonnull(n);
        cl = subst(cl, "@NONCE@", n);
    }

    char *proof;
    if (alg == CKA_ALG_UNKNOWN)         /* "none": no signature */
        proof = apr_pstrcat(tu_pool, mint_b64url_str(tu_pool, hdr), ".",
                            mint_b64url_str(tu_pool, cl), ".AAAA", NULL);
    else if (tc->kind == MINT_HMAC)
        proof = mint_token_secret(tu_pool, k->secret, k->secret_len, alg, hdr, cl);
    else
        proof = mint_token(tu_pool, k, alg == CKA_ALG_RS256 && tc->kind != MINT_RSA
                           ? CKA_ALG_ES256 : alg, hdr, cl);
    ck_assert_ptr_nonnull(proof);
    if (tc->tamper)
        proof = mint_flip_sig(tu_pool, proof, 3);

    const char *jkt = NULL;
    if (tc->jkt == JKT_OWN && tc->kind != MINT_HMAC)
        jkt = cka_thumb_text(tu_pool, tu_one_key(k, NULL)->thumb);
    else if (tc->jkt == JKT_OWN)
        jkt = "x";
    else if (tc->jkt == JKT_OTHER)
        jkt = cka_thumb_text(tu_pool, tu_one_key(mint_key(MINT_P256, MINT_ATTACKER), NULL)->thumb);

    cka_dpop_check_t c = {
        .algs = CKA_DPOP_ALGS_DEFAULT, .method = "GET", .url = URL "?q=1",
        .token = TOK, .token_len = strlen(TOK), .jkt = jkt, .now = now,
        .window = 60, .skew = 10,
        .nonce_seal = tc->nonce != NONCE_OFF ? seal : NULL,
    };
    /* Without the key cache, then with it: a miss (the jwk imported and
     * kept), then a hit (the kept key's context copied): the same verdict
     * every time. */
    cka_dpop_keys_t *kc = cka_dpop_keys_create(tu_pool, 1);
    static const char *const how[] = { "no key cache", "key cache miss", "key cache hit" };
    for (int run = 0; run < 3; run++) {
        c.keys = run == 0 ? NULL : kc;
        cka_dpop_result_t res;
        cka_reason_t got = cka_dpop_verify(tu_pool, proof, strlen(proof), &c, &res);
        ck_assert_msg(got == tc->want && res.defect == tc->defect,
                      "%s (%s): got %s / %s (%s), want %s / %s", tc->name, how[run],
                      tu_reason_name(got), cka_dpop_defect_code(res.defect),
                      res.detail ? res.detail : "-", tu_reason_name(tc->want),
                      cka_dpop_defect_code(tc->defect));
        if (got == CKA_OK) {
            ck_assert_ptr_nonnull(res.jti);
            ck_assert_str_eq(cka_thumb_text(tu_pool, res.thumb), jkt);
        }
    }
}
END_TEST

/* ---- htu normalisation --------------------------------------------------- */
static const struct { const char *in, *out; } urls[] = {
    { "https://api.example.test/v1/x", "https://api.example.test/v1/x" },
    { "HTTPS://API.EXAMPLE.test/v1/x", "https://api.example.test/v1/x" },
    { "https://api.example.test:443/v1/x", "https://api.example.test/v1/x" },
    { "http://api.example.test:80/v1/x", "http://api.example.test/v1/x" },
    { "http://api.example.test:443/v1/x", "http://api.example.test:443/v1/x" },
    { "https://api.example.test:8443/v1", "https://api.example.test:8443/v1" },
    { "https://api.example.test:08443/v1", "https://api.example.test:8443/v1" },
    { "https://api.example.test", "https://api.example.test/" },
    { "https://api.example.test?x", "https://api.example.test/" },
    { "https://api.example.test/a?b=c#d", "https://api.example.test/a" },
    { "https://api.example.test/a#d?x", "https://api.example.test/a" },
    { "https://api.example.test/%7euser", "https://api.example.test/~user" },
    { "https://api.example.test/%41%2d%5F", "https://api.example.test/A-_" },
    { "https://api.example.test/a%2fb", "https://api.example.test/a%2Fb" },
    { "https://api.example.test/a%3a", "https://api.example.test/a%3A" },
    { "https://API.example.test/Path/X", "https://api.example.test/Path/X" },
    { "https://[::1]:443/a", "https://[::1]/a" },
    { "https://[::1]:8443/a", "https://[::1]:8443/a" },
    { "https://127.0.0.1:80/a", "https://127.0.0.1:80/a" },
    /* refused */
    { "ftp://api.example.test/a", NULL },
    { "api.example.test/a", NULL },
    { "https:/api.example.test/a", NULL },
    { "https:///a", NULL },
    { "https://u:p@api.example.test/a", NULL },
    { "https://api.example.test:/a", "https://api.example.test/a" },   /* empty port: RFC 3986 §6.2.3 */
    { "https://api.example.test:0/a", NULL },
    { "https://api.example.test:65536/a", NULL },
    { "https://api.example.test:99999999999999999999/a", NULL },
    { "https://api.example.test:8x/a", NULL },
    { "https://api.example.test/a%2", NULL },
    { "https://api.example.test/a%zz", NULL },
    { "https://api.example.test/a b", NULL },
    { "https://api.example.test/a\x01", NULL },
    { "https://[::1/a", NULL },
    { "https://[::1]x/a", NULL },
    { "", NULL },
};

START_TEST(htu_norm)
{
    const char *got = cka_dpop_norm_url(tu_pool, urls[_i].in, strlen(urls[_i].in));
    if (urls[_i].out == NULL)
        ck_assert_msg(got == NULL, "%s: accepted as %s", urls[_i].in, got);
    else {
        ck_assert_msg(got != NULL, "%s: refused", urls[_i].in);
        ck_assert_str_eq(got, urls[_i].out);
    }
}
END_TEST

START_TEST(nonce_shape)
{
    const cka_seal_t *s = seal_of(1);
    long long now = 1700000000;
    char *n = cka_dpop_nonce_make(tu_pool, s, now);
    ck_assert_ptr_nonnull(n);
    ck_assert_uint_eq(strlen(n), 32);
    ck_assert_int_eq(cka_dpop_nonce_check(s, n, strlen(n), now), 1);
    ck_assert_int_eq(cka_dpop_nonce_check(s, n, strlen(n), now + CKA_DPOP_NONCE_STEP), 1);
    ck_assert_int_eq(cka_dpop_nonce_check(s, n, strlen(n), now + 2 * CKA_DPOP_NONCE_STEP), 0);
    ck_assert_int_eq(cka_dpop_nonce_check(s, n, strlen(n), now - CKA_DPOP_NONCE_STEP), 0);
    ck_assert_int_eq(cka_dpop_nonce_check(seal_of(2), n, strlen(n), now), 0);
    n[31] = n[31] == 'A' ? 'B' : 'A';
    ck_assert_int_eq(cka_dpop_nonce_check(s, n, strlen(n), now), 0);
    ck_assert_int_eq(cka_dpop_nonce_check(s, "short", 5, now), 0);
    ck_assert_int_eq(cka_dpop_nonce_check(NULL, n, strlen(n), now), 0);
}
END_TEST

START_TEST(replay_name)
{
    const cka_seal_t *s = seal_of(1);
    cka_dpop_result_t a, b;
    unsigned char na[CKA_SEAL_NAME_LEN], nb[CKA_SEAL_NAME_LEN];
    memset(&a, 0, sizeof(a));
    a.jti = "j-1";
    a.jti_len = 3;
    b = a;
    ck_assert_int_eq(cka_dpop_replay_name(s, &a, na), 0);
    ck_assert_int_eq(cka_dpop_replay_name(s, &b, nb), 0);
    ck_assert_mem_eq(na, nb, sizeof(na));
    b.thumb[0] ^= 1;                           /* another key, same jti */
    ck_assert_int_eq(cka_dpop_replay_name(s, &b, nb), 0);
    ck_assert(memcmp(na, nb, sizeof(na)) != 0);
    ck_assert_int_eq(cka_dpop_replay_name(seal_of(2), &a, nb), 0);   /* another secret */
    ck_assert(memcmp(na, nb, sizeof(na)) != 0);
    /* the name says nothing of the jti in clear */
    ck_assert_ptr_null(memmem(na, sizeof(na), "j-1", 3));
}
END_TEST

/* A key cache holding one key: another jwk evicts it; a jwk that differs
 * in any member (here its alg) is another entry, imported and checked
 * again; a proof signed by another key under a cached jwk still fails. */
START_TEST(key_cache)
{
    long long now = mint_now();
    const mint_key_t *mine = mint_key(MINT_P256, MINT_TRUSTED);
    const mint_key_t *theirs = mint_key(MINT_P256, MINT_ATTACKER);
    const char *jwk = mint_jwk(tu_pool, mine, NULL);
    const char *cl = subst(mint_times(tu_pool, CL(""), now), "@ATH@", sha256_b64(TOK));
    const char *hdr = apr_psprintf(tu_pool, "{\"typ\":\"dpop+jwt\",\"alg\":\"ES256\",\"jwk\":%s}", jwk);
    const char *hdr384 = apr_psprintf(tu_pool, "{\"typ\":\"dpop+jwt\",\"alg\":\"ES256\",\"jwk\":%s}",
                                      mint_jwk(tu_pool, mine, "\"alg\":\"ES384\""));
    cka_dpop_keys_t *kc = cka_dpop_keys_create(tu_pool, 1);
    cka_dpop_check_t c = {
        .algs = CKA_DPOP_ALGS_DEFAULT, .method = "GET", .url = URL, .token = TOK,
        .token_len = strlen(TOK), .now = now, .window = 60, .skew = 10, .keys = kc,
        .jkt = cka_thumb_text(tu_pool, tu_one_key(mine, NULL)->thumb),
    };
    cka_dpop_result_t res;
    const char *good = mint_token(tu_pool, mine, CKA_ALG_ES256, hdr, cl);
    const char *forged = mint_token(tu_pool, theirs, CKA_ALG_ES256, hdr, cl);
    const char *other = mint_token(tu_pool, mine, CKA_ALG_ES256, hdr384, cl);
    ck_assert_int_eq(cka_dpop_verify(tu_pool, good, strlen(good), &c, &res), CKA_OK);
    ck_assert_int_eq(cka_dpop_verify(tu_pool, forged, strlen(forged), &c, &res), CKA_DPOP_INVALID);
    ck_assert_int_eq(res.defect, CKA_DPD_SIGNATURE);
    ck_assert_int_eq(cka_dpop_verify(tu_pool, other, strlen(other), &c, &res), CKA_DPOP_INVALID);
    ck_assert_int_eq(res.defect, CKA_DPD_JWK);
    ck_assert_int_eq(cka_dpop_verify(tu_pool, good, strlen(good), &c, &res), CKA_OK);
    ck_assert_int_eq(cka_dpop_verify(tu_pool, good, strlen(good), &c, &res), CKA_OK);
}
END_TEST

START_TEST(defect_codes_unique)
{
    for (int i = 0; i < CKA_DPD_COUNT; i++)
        for (int j = i + 1; j < CKA_DPD_COUNT; j++)
            ck_assert_str_ne(cka_dpop_defect_code((cka_dpop_defect_t)i),
                             cka_dpop_defect_code((cka_dpop_defect_t)j));
    ck_assert_str_eq(cka_dpop_defect_code(CKA_DPD_COUNT), "unknown");
}
END_TEST

Suite *suite_dpop(void)
{
    Suite *s = suite_create("dpop");
    TCase *tc = tcase_create("dpop");
    tcase_add_checked_fixture(tc, tu_pool_setup, tu_pool_teardown);
    tcase_add_loop_test(tc, proof_checks, 0, TU_NELTS(cases));
    tcase_add_loop_test(tc, htu_norm, 0, TU_NELTS(urls));
    tcase_add_test(tc, nonce_shape);
    tcase_add_test(tc, replay_name);
    tcase_add_test(tc, key_cache);
    tcase_add_test(tc, defect_codes_unique);
    suite_add_tcase(s, tc);
    return s;
}
