/* fuzz_dpop.c - DPoP proofs (src/core/dpop.c): the strict parse, the jwk
 * import, the signature and every claim check, the htu normalisation and
 * the nonces.
 *
 * The first input byte picks what the rest is:
 *   mode % 4 == 0  a raw proof, checked for a token bound (cnf.jkt) to a
 *                  P-256 key made at start-up: no input can carry its
 *                  signature, so an accepted raw proof is a forgery and
 *                  aborts.
 *   mode % 4 == 1  "header JSON \0 claims JSON": the target puts the bound
 *                  key's public jwk first in the header object and signs
 *                  with that key (ES256), so the fuzzer reaches the claim
 *                  checks. An accepted proof must say typ dpop+jwt and alg
 *                  ES256, htm GET, an htu equal (normalised) to the
 *                  request's, a jti of 1 to 256 bytes and the token's ath.
 *   mode % 4 == 2  a URL for cka_dpop_norm_url: a result starts with
 *                  http:// or https://, holds no '?', '#', blank or control
 *                  character, and normalising it again gives it back.
 *   mode % 4 == 3  a nonce: only one this seal made for now (or the step
 *                  before) is accepted.
 * mode & 0x80 asks for a nonce; mode & 0x40 checks modes 0 and 1 through
 * the proof-key cache (4 slots, kept across inputs), whose verdicts must
 * be those of a fresh import.
 */
#include <stdlib.h>
#include <string.h>
#include <apr_strings.h>
#include <openssl/evp.h>
#include "fuzz_common.h"
#include "dpop.h"
#include "jws.h"
#include "keyset.h"
#include "seal.h"

#define NOW 1700000000LL
#define URL "https://api.example.test/v1/x"
#define TOK "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhIn0.c2ln"

static const char *jwk_text, *jkt, *ath;
static const cka_seal_t *seal;
static cka_dpop_keys_t *keys;      /* the module's proof-key cache, 4 slots */

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fz_init_begin();
    fz_apr_init();
    fz_keys_init();
    jwk_text = fz_jwk(fz_root, FZ_P256, NULL, NULL, NULL);
    cka_keyset_t *ks = NULL;
    cka_keyset_parse_json(fz_root, jwk_text, strlen(jwk_text), &ks, NULL);
    FZ_CHECK(ks != NULL && ks->keys->nelts == 1, "the bound key does not parse");
    jkt = cka_thumb_text(fz_root, APR_ARRAY_IDX(ks->keys, 0, cka_key_t *)->thumb);
    unsigned char md[32];
    unsigned int n = 0;
    EVP_Digest(TOK, strlen(TOK), md, &n, EVP_sha256(), NULL);
    ath = fz_b64url(fz_root, md, n);
    unsigned char secret[32];
    memset(secret, 0x5a, sizeof(secret));
    seal = cka_seal_create(fz_root, secret, sizeof(secret), NULL);
    FZ_CHECK(seal != NULL, "no seal");
    keys = cka_dpop_keys_create(fz_root, 4);
    FZ_CHECK(keys != NULL, "no key cache");
    fz_init_end();
    return 0;
}

static cka_dpop_check_t check_for(int nonce, int cached)
{
    cka_dpop_check_t c = {
        .algs = CKA_DPOP_ALGS_DEFAULT, .method = "GET", .url = URL,
        .token = TOK, .token_len = strlen(TOK), .jkt = jkt, .now = NOW,
        .window = 60, .skew = 60, .nonce_seal = nonce ? seal : NULL,
        .keys = cached ? keys : NULL,
    };
    return c;
}

static void accepted_proof_is_sound(apr_pool_t *p, const char *proof)
{
    cka_jws_t jws;
    FZ_CHECK(cka_jws_parse(p, proof, strlen(proof), &jws, NULL) == CKA_OK,
             "accepted proof does not parse");
    FZ_CHECK(jws.typ && strcmp(jws.typ, "dpop+jwt") == 0, "accepted without typ dpop+jwt");
    FZ_CHECK(jws.alg == CKA_ALG_ES256, "accepted with another alg than it was signed with");
    json_t *htm = json_object_get(jws.claims, "htm");
    FZ_CHECK(json_is_string(htm) && strcmp(json_string_value(htm), "GET") == 0,
             "accepted with another htm");
    json_t *htu = json_object_get(jws.claims, "htu");
    FZ_CHECK(json_is_string(htu), "accepted without htu");
    const char *n = cka_dpop_norm_url(p, json_string_value(htu), json_string_length(htu));
    FZ_CHECK(n && strcmp(n, URL) == 0, "accepted with another htu");
    json_t *jti = json_object_get(jws.claims, "jti");
    FZ_CHECK(json_is_string(jti) && json_string_length(jti) >= 1
             && json_string_length(jti) <= CKA_DPOP_MAX_JTI, "accepted with a bad jti");
    json_t *a = json_object_get(jws.claims, "ath");
    FZ_CHECK(json_is_string(a) && strcmp(json_string_value(a), ath) == 0,
             "accepted with another ath");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    apr_pool_t *p;
    apr_pool_create(&p, fz_root);
    int mode = data[0] % 4, nonce = (data[0] & 0x80) != 0, cached = (data[0] & 0x40) != 0;
    data++;
    size--;
    cka_dpop_result_t res;
    if (mode == 0) {
        cka_dpop_check_t c = check_for(nonce, cached);
        cka_reason_t r = cka_dpop_verify(p, (const char *)data, size, &c, &res);
        if (cached) {
            cka_dpop_result_t fresh;
            c.keys = NULL;
            FZ_CHECK(cka_dpop_verify(p, (const char *)data, size, &c, &fresh) == r
                     && fresh.defect == res.defect, "the key cache changed a verdict");
        }
        FZ_CHECK(r != CKA_OK, "a raw input was accepted as a proof of the bound key");
        FZ_CHECK(r == CKA_DPOP_INVALID || r == CKA_DPOP_NONCE, "unexpected reason");
    }
    else if (mode == 1) {
        const uint8_t *h, *cl;
        size_t hl, cll;
        fz_split(data, size, &h, &hl, &cl, &cll);
        const char *hdr = fz_strndup(p, h, hl);
        if (hl > 0 && hdr[0] == '{')
            hdr = apr_pstrcat(p, "{\"jwk\":", jwk_text, hl > 1 && hdr[1] != '}' ? "," : "",
                              hdr + 1, NULL);
        char *proof = fz_token(p, FZ_P256, CKA_ALG_ES256, hdr, strlen(hdr), cl, cll);
        if (proof != NULL) {
            cka_dpop_check_t c = check_for(nonce, cached);
            cka_reason_t r = cka_dpop_verify(p, proof, strlen(proof), &c, &res);
            if (r == CKA_OK)
                accepted_proof_is_sound(p, proof);
            if (cached) {
                cka_dpop_result_t fresh;
                c.keys = NULL;
                FZ_CHECK(cka_dpop_verify(p, proof, strlen(proof), &c, &fresh) == r
                         && fresh.defect == res.defect, "the key cache changed a verdict");
            }
        }
    }
    else if (mode == 2) {
        const char *n = cka_dpop_norm_url(p, (const char *)data, size);
        if (n != NULL) {
            FZ_CHECK(strncmp(n, "http://", 7) == 0 || strncmp(n, "https://", 8) == 0,
                     "normalised URL of another scheme");
            for (const char *q = n; *q; q++)
                FZ_CHECK(*q != '?' && *q != '#' && (unsigned char)*q > 0x20
                         && (unsigned char)*q < 0x7f, "normalised URL keeps ?, # or a blank");
            const char *again = cka_dpop_norm_url(p, n, strlen(n));
            FZ_CHECK(again && strcmp(again, n) == 0, "normalisation is not idempotent");
        }
    }
    else {
        int ok = cka_dpop_nonce_check(seal, (const char *)data, size, NOW);
        if (ok) {
            const char *cur = cka_dpop_nonce_make(p, seal, NOW);
            const char *prev = cka_dpop_nonce_make(p, seal, NOW - CKA_DPOP_NONCE_STEP);
            FZ_CHECK((size == strlen(cur) && memcmp(data, cur, size) == 0)
                     || (size == strlen(prev) && memcmp(data, prev, size) == 0),
                     "a nonce this seal did not make was accepted");
        }
    }
    apr_pool_destroy(p);
    return 0;
}
