/* fuzz_token.c - token parsing + validation against a fixed key set.
 *
 * The first input byte picks what the rest is:
 *   mode & 3 == 0  a raw compact token, validated as it is. Keys are made at
 *                  start-up, so no input can carry a valid signature: an
 *                  accepted raw token is a forgery and aborts.
 *   mode & 3 == 1  "header JSON \0 payload JSON [\0 tail]": the target
 *                  base64url-encodes both and signs them with the key the
 *                  bits (mode >> 2) & 7 choose (HS256 HS384 HS512 EdDSA
 *                  ES256 ES384 RS256 PS256), so the fuzzer reaches key
 *                  choice, verification and the claim checks; tail bytes are
 *                  appended to the token (a changed signature must fail).
 *                  An accepted token must use the alg it was signed with.
 *   mode & 3 == 2  a cache record's plaintext (cka_record_decode: one
 *                  encoding per record), its payload through the strict
 *                  JSON parser and the per-request claim checks (sealing
 *                  itself: fuzz_seal).
 *   mode & 3 == 3  the per-process token cache: the rest as claims JSON,
 *                  put and got back under its name.
 * mode & 0x80 selects a second policy (no HMAC, typ required, any audience,
 * no clock skew). Every refusal must be a 401/503 reason, never 500.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <apr_strings.h>
#include <apr_tables.h>
#include "fuzz_common.h"
#include "validate.h"
#include "claims.h"
#include "identity.h"
#include "json_util.h"
#include "record.h"
#include "tcache.h"
#include "reason.h"
#include "cka_limits.h"

#define ISS_MAIN "https://idp.test/realms/conduktor"
#define ISS_PEM  "https://pem.test"
#define ISS_DOWN "https://down.test"
#define NOW      1700000000LL

static const cka_keyset_t *ks_main, *ks_fresh, *ks_pem;
static cka_policy_t pol_main, pol_strict;
static cka_key_source_t source;
static cka_identity_spec_t spec;
static cka_tcache_t *tcache;

static const cka_alg_t signers[8] = {
    CKA_ALG_HS256, CKA_ALG_HS384, CKA_ALG_HS512, CKA_ALG_EDDSA,
    CKA_ALG_ES256, CKA_ALG_ES384, CKA_ALG_RS256, CKA_ALG_PS256,
};

static const cka_keyset_t *ks_get(void *ctx, apr_pool_t *p, const char *iss,
                                  int refresh, cka_reason_t *why)
{
    (void)ctx;
    (void)p;
    if (strcmp(iss, ISS_MAIN) == 0)
        return refresh ? ks_fresh : ks_main;
    if (strcmp(iss, ISS_PEM) == 0)
        return ks_pem;
    *why = strcmp(iss, ISS_DOWN) == 0 ? CKA_KEYS_UNAVAILABLE : CKA_WRONG_ISSUER;
    return NULL;
}

static apr_array_header_t *strings(apr_pool_t *p, const char *const *v)
{
    apr_array_header_t *a = apr_array_make(p, 4, sizeof(const char *));
    for (; *v; v++)
        APR_ARRAY_PUSH(a, const char *) = *v;
    return a;
}

static const cka_keyset_t *parse_set(const char *jwks, int want_keys)
{
    cka_err_t err = CKA_ERR_INIT;
    cka_keyset_t *ks = NULL;
    cka_keyset_parse_json(fz_root, jwks, strlen(jwks), &ks, &err);
    if (ks == NULL || ks->keys->nelts != want_keys) {
        fprintf(stderr, "fuzz_token: key set: %s (%d keys)\n", cka_err_text(&err),
                ks ? ks->keys->nelts : -1);
        fz_fail(__FILE__, __LINE__, "fixed key set did not parse as expected");
    }
    return ks;
}

static void self_test(void);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fz_init_begin();
    fz_apr_init();
    fz_keys_init();
    apr_pool_t *p = fz_root;
    /* The issuer's published keys: every kind, a PS256- and an RS256-pinned
     * RSA key, and keys that must never verify (use enc, key_ops sign). */
    const char *jwks = apr_pstrcat(p, "{\"keys\":[",
        fz_jwk(p, FZ_RSA, "rsa-1", NULL, "sig"), ",",
        fz_jwk(p, FZ_RSA, "rsa-ps", "PS256", "sig"), ",",
        fz_jwk(p, FZ_RSA, "rsa-rs", "RS256", NULL), ",",
        fz_jwk(p, FZ_RSA, "rsa-enc", NULL, "enc"), ",",
        fz_jwk(p, FZ_P256, "ec-1", NULL, "sig"), ",",
        fz_jwk(p, FZ_P384, "ec-384", NULL, NULL), ",",
        fz_jwk(p, FZ_P521, "ec-521", "ES512", NULL), ",",
        fz_jwk(p, FZ_ED25519, "ed-1", NULL, "sig"), ",",
        fz_jwk(p, FZ_HMAC, "hs-1", NULL, "sig"), ",",
        "{\"kty\":\"EC\",\"crv\":\"P-256\",\"kid\":\"ops\",\"key_ops\":[\"sign\"],\"x\":\"AA\",\"y\":\"AA\"}",
        "]}", NULL);
    ks_main = parse_set(jwks, 8);
    /* After a "refetch": the same keys under rotated kids as well. */
    const char *fresh = apr_pstrcat(p, "{\"keys\":[",
        fz_jwk(p, FZ_RSA, "rsa-1", NULL, NULL), ",",
        fz_jwk(p, FZ_RSA, "rsa-2", NULL, NULL), ",",
        fz_jwk(p, FZ_P256, "ec-2", NULL, NULL), ",",
        fz_jwk(p, FZ_HMAC, "hs-2", "HS512", NULL),
        "]}", NULL);
    ks_fresh = parse_set(fresh, 4);
    char *pem = fz_pem_public(p, FZ_RSA);
    cka_keyset_t *pem_set = NULL;
    cka_keyset_parse_pem(p, pem, strlen(pem), &pem_set, NULL);
    ks_pem = pem_set;
    if (ks_pem == NULL)
        fz_fail(__FILE__, __LINE__, "PEM key set");

    static const char *const auds[] = { "conduktor", "api://other", NULL };
    static const char *const types[] = { "at+jwt", NULL };
    pol_main.algs = CKA_ALG_SET_DEFAULT | CKA_ALG_BIT(CKA_ALG_HS256)
                  | CKA_ALG_BIT(CKA_ALG_HS384) | CKA_ALG_BIT(CKA_ALG_HS512);
    pol_main.audiences = strings(p, auds);
    pol_main.skew = 60;
    pol_strict.algs = CKA_ALG_SET_DEFAULT;
    pol_strict.audiences = strings(p, auds);
    pol_strict.any_audience = 1;
    pol_strict.types = strings(p, types);
    pol_strict.skew = 0;
    source.ctx = NULL;
    source.get = ks_get;

    static const char *const users[] = { "preferred_username", "email", "sub", NULL };
    static const char *const extra[] = { "realm_access.roles", "cognito:groups",
        "resource_access.conduktor.roles", "https://example.com/groups", "a.b", NULL };
    spec.user_claims = strings(p, users);
    spec.email_claim = "email";
    spec.groups_claim = "groups";
    spec.separator = ",";
    spec.extra_paths = strings(p, extra);
    tcache = cka_tcache_create(p, 16);
    fz_init_end();
    self_test();
    return 0;
}

static int is_token_reason(cka_reason_t r)
{
    switch (r) {
    case CKA_TOKEN_TOO_LARGE: case CKA_MALFORMED: case CKA_ALG_NOT_ALLOWED:
    case CKA_UNSUPPORTED_HEADER: case CKA_WRONG_TYPE: case CKA_WRONG_ISSUER:
    case CKA_UNKNOWN_KEY: case CKA_KEY_MISMATCH: case CKA_BAD_SIGNATURE:
    case CKA_TOKEN_EXPIRED: case CKA_NOT_YET_VALID: case CKA_ISSUED_IN_FUTURE:
    case CKA_BAD_TIME_CLAIM: case CKA_WRONG_AUDIENCE: case CKA_KEYS_UNAVAILABLE:
        return 1;
    default:
        return 0;
    }
}

static void check_refusal(cka_reason_t r)
{
    FZ_CHECK(is_token_reason(r), "validation refused with a reason that is not a token reason");
    int st = cka_reason_status(r);
    FZ_CHECK(st == 401 || st == 503, "a refused token must answer 401 (or 503)");
    FZ_CHECK(cka_reason_code(r) != NULL && cka_reason_text(r) != NULL, "reason text");
}

static void check_safe(const char *s)
{
    if (s == NULL)
        return;
    for (const unsigned char *c = (const unsigned char *)s; *c; c++)
        FZ_CHECK(*c >= 0x20 && *c != 0x7f, "cka_header_safe left a control character");
}

/* What the glue does with verified claims: identity, env-safe values. */
static void hand_on(apr_pool_t *p, const json_t *claims)
{
    cka_identity_t id;
    cka_reason_t r = cka_identity_extract(p, claims, &spec, &id);
    if (r != CKA_OK) {
        FZ_CHECK(r == CKA_NO_USER, "identity: unexpected reason");
        return;
    }
    FZ_CHECK(id.user != NULL && *id.user, "identity: OK without a user");
    check_safe(cka_header_safe(p, id.user));
    check_safe(cka_header_safe(p, id.email ? id.email : ""));
    check_safe(cka_header_safe(p, id.groups ? id.groups : ""));
    const apr_array_header_t *arr = apr_table_elts(id.extra);
    const apr_table_entry_t *e = (const apr_table_entry_t *)arr->elts;
    for (int i = 0; i < arr->nelts; i++)
        check_safe(cka_header_safe(p, e[i].val));
}

/* Re-check an accepted token's claims without the code under test. */
static void check_accepted(const cka_verdict_t *v, const cka_policy_t *pol)
{
    FZ_CHECK(pol->algs & CKA_ALG_BIT(v->jws.alg), "accepted an alg outside the allow-list");
    json_t *exp = json_object_get(v->jws.claims, "exp");
    FZ_CHECK(json_is_integer(exp), "accepted a token without an integer exp");
    FZ_CHECK(NOW - pol->skew < json_integer_value(exp), "accepted an expired token");
    FZ_CHECK(json_integer_value(exp) <= CKA_MAX_NUMERIC_DATE, "accepted an out-of-range exp");
    json_t *nbf = json_object_get(v->jws.claims, "nbf");
    FZ_CHECK(nbf == NULL || (json_is_integer(nbf) && json_integer_value(nbf) >= 0
                             && json_integer_value(nbf) <= NOW + pol->skew),
             "accepted a bad or future nbf");
    json_t *iat = json_object_get(v->jws.claims, "iat");
    FZ_CHECK(iat == NULL || (json_is_integer(iat) && json_integer_value(iat) >= 0
                             && json_integer_value(iat) <= NOW + pol->skew),
             "accepted a bad or future iat");
    if (!pol->any_audience) {
        json_t *aud = json_object_get(v->jws.claims, "aud");
        int ok = 0;
        if (json_is_string(aud))
            ok = strcmp(json_string_value(aud), "conduktor") == 0
              || strcmp(json_string_value(aud), "api://other") == 0;
        else if (json_is_array(aud)) {
            size_t i;
            json_t *m;
            json_array_foreach(aud, i, m) {
                FZ_CHECK(json_is_string(m), "accepted an aud array with a non-string");
                if (strcmp(json_string_value(m), "conduktor") == 0
                    || strcmp(json_string_value(m), "api://other") == 0)
                    ok = 1;
            }
        }
        FZ_CHECK(ok, "accepted a token for another audience");
    }
    if (pol->types != NULL)
        FZ_CHECK(v->jws.typ && (strcasecmp(v->jws.typ, "at+jwt") == 0
                                || strcasecmp(v->jws.typ, "application/at+jwt") == 0),
                 "accepted a typ outside RequireType");
    FZ_CHECK(json_object_get(v->jws.header, "crit") == NULL, "accepted crit");
    FZ_CHECK(json_object_get(v->jws.header, "b64") == NULL, "accepted b64");
    FZ_CHECK(json_object_get(v->jws.header, "zip") == NULL, "accepted zip");
    FZ_CHECK(json_object_get(v->jws.header, "enc") == NULL, "accepted enc");
    FZ_CHECK(v->iss != NULL, "accepted without iss");
}

static void do_raw(apr_pool_t *p, const uint8_t *data, size_t size, const cka_policy_t *pol)
{
    /* An exact-size heap copy without a terminator: reading past len is
     * caught by ASan. */
    char *tok = malloc(size ? size : 1);
    memcpy(tok, data, size);
    cka_verdict_t v;
    cka_reason_t r = cka_validate_token(p, tok, size, pol, &source, NOW, &v);
    FZ_CHECK(r != CKA_OK, "a token no key signed was accepted (forgery)");
    check_refusal(r);
    free(tok);
}

static void do_signed(apr_pool_t *p, uint8_t mode, const uint8_t *data, size_t size,
                      const cka_policy_t *pol)
{
    const uint8_t *h, *rest, *pl, *tail;
    size_t hl, rl, pll, tl;
    fz_split(data, size, &h, &hl, &rest, &rl);
    fz_split(rest, rl, &pl, &pll, &tail, &tl);
    cka_alg_t alg = signers[(mode >> 2) & 7];
    char *tok = fz_token(p, fz_kind_for_alg(alg), alg, h, hl, pl, pll);
    FZ_CHECK(tok != NULL, "signing failed");
    size_t n = strlen(tok);
    char *buf = malloc(n + tl + 1);
    memcpy(buf, tok, n);
    memcpy(buf + n, tail, tl);
    cka_verdict_t v;
    cka_reason_t r = cka_validate_token(p, buf, n + tl, pol, &source, NOW, &v);
    if (r == CKA_OK) {
        FZ_CHECK(tl == 0, "a token with a changed signature was accepted");
        FZ_CHECK(v.jws.alg == alg, "accepted with an alg other than the one that signed (alg confusion)");
        FZ_CHECK(strcmp(v.iss, ISS_PEM) != 0 || fz_kind_for_alg(alg) == FZ_RSA,
                 "the PEM issuer accepted a key it does not have");
        FZ_CHECK(strcmp(v.iss, ISS_MAIN) == 0 || strcmp(v.iss, ISS_PEM) == 0,
                 "accepted an untrusted issuer");
        check_accepted(&v, pol);
        FZ_CHECK(cka_validate_claims(v.jws.claims, pol, NOW, NULL) == CKA_OK,
                 "claims valid once, not twice");
        hand_on(p, v.jws.claims);
    }
    else
        check_refusal(r);
    free(buf);
}

static void do_record(apr_pool_t *p, const uint8_t *data, size_t size, const cka_policy_t *pol)
{
    unsigned char *copy = malloc(size ? size : 1);
    memcpy(copy, data, size);
    cka_record_t rec;
    if (cka_record_decode(copy, size, p, &rec, NULL) == 0) {
        FZ_CHECK(rec.alg > CKA_ALG_UNKNOWN && rec.alg < CKA_ALG_COUNT, "record alg range");
        FZ_CHECK(rec.typ == NULL || strlen(rec.typ) <= CKA_TYP_MAX, "record typ length");
        FZ_CHECK(rec.kid == NULL || strlen(rec.kid) <= CKA_KID_MAX, "record kid length");
        FZ_CHECK(rec.until > 0, "record until positive");
        unsigned char *enc;
        size_t elen;
        if (cka_record_encode(p, &rec, &enc, &elen, NULL) == 0) {
            FZ_CHECK(elen == size && memcmp(enc, copy, size) == 0,
                     "a decoded record encodes to other bytes (two encodings of one record)");
        }
        json_t *claims = cka_json_parse_object(p, rec.payload, rec.payload_len, NULL);
        if (claims != NULL) {
            long long exp = 0;
            cka_reason_t r = cka_validate_claims(claims, pol, NOW, &exp);
            if (r != CKA_OK)
                check_refusal(r);
            (void)cka_check_typ(rec.typ, pol->types);
            hand_on(p, claims);
        }
    }
    free(copy);
}

static void do_tcache(apr_pool_t *p, const uint8_t *data, size_t size)
{
    unsigned char name[CKA_SEAL_NAME_LEN];
    FZ_CHECK(cka_token_hash((const char *)data, size, name) == 0, "token hash failed");
    json_t *claims = cka_json_parse_object(p, (const char *)data, size, NULL);
    if (claims == NULL)
        return;
    cka_record_t rec;
    memset(&rec, 0, sizeof(rec));
    rec.typ = json_string_value(json_object_get(claims, "typ"));
    rec.kid = json_string_value(json_object_get(claims, "kid"));
    rec.alg = (cka_alg_t)(1 + size % (CKA_ALG_COUNT - 1));
    rec.until = NOW + (long long)(size % 3) - 1;
    rec.claims = claims;
    memset(rec.binding, (int)(size & 0xff), CKA_BIND_LEN);
    memcpy(rec.thumb, name, CKA_THUMB_LEN);
    fz_keep(claims);   /* the cache's reference lives in pool memory */
    cka_tcache_put(tcache, name, &rec);
    cka_record_t hit;
    if (cka_tcache_get(tcache, name, NOW, p, &hit)) {
        FZ_CHECK(size % 3 == 2, "cache hit at or after its until");
        FZ_CHECK(rec.typ == NULL || strlen(rec.typ) <= CKA_TYP_MAX, "cache kept an over-long typ");
        FZ_CHECK(rec.kid == NULL || strlen(rec.kid) <= CKA_KID_MAX, "cache kept an over-long kid");
        FZ_CHECK((hit.kid == NULL) == (rec.kid == NULL || !*rec.kid)
                 && (hit.kid == NULL || strcmp(hit.kid, rec.kid) == 0), "cache returned another kid");
        FZ_CHECK(json_equal((json_t *)hit.claims, claims), "cache returned other claims");
        FZ_CHECK(hit.alg == rec.alg, "cache returned another alg");
        FZ_CHECK(hit.until == rec.until, "cache returned another until");
        FZ_CHECK(memcmp(hit.binding, rec.binding, CKA_BIND_LEN) == 0
                 && memcmp(hit.thumb, rec.thumb, CKA_THUMB_LEN) == 0,
                 "cache returned another binding or key");
        FZ_CHECK((hit.typ == NULL) == (rec.typ == NULL || !*rec.typ)
                 && (hit.typ == NULL || strcmp(hit.typ, rec.typ) == 0), "cache returned another typ");
    }
    /* A neighbouring name: at most a hit on another entry, never a crash. */
    name[0] ^= 1;
    (void)cka_tcache_get(tcache, name, NOW - 10, p, &hit);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t mode = data[0];
    data++;
    size--;
    apr_pool_t *p;
    apr_pool_create(&p, fz_root);
    const cka_policy_t *pol = (mode & 0x80) ? &pol_strict : &pol_main;
    switch (mode & 3) {
    case 0: do_raw(p, data, size, pol); break;
    case 1: do_signed(p, mode, data, size, pol); break;
    case 2: do_record(p, data, size, pol); break;
    default: do_tcache(p, data, size); break;
    }
    apr_pool_destroy(p);
    return 0;
}

/* The harness must be able to produce accepted tokens, or mode 1 would
 * silently test nothing past the signature. */
static void self_test(void)
{
    apr_pool_t *p;
    apr_pool_create(&p, fz_root);
    const char *claims = "{\"iss\":\"" ISS_MAIN "\",\"aud\":\"conduktor\",\"sub\":\"u\","
                         "\"email\":\"a@b.test\",\"groups\":[\"g1\",\"g,2\"],"
                         "\"exp\":1700000300,\"iat\":1699999990}";
    static const struct { cka_alg_t alg; const char *kid; cka_reason_t want; } cases[] = {
        { CKA_ALG_RS256, "rsa-1", CKA_OK },      { CKA_ALG_PS256, "rsa-ps", CKA_OK },
        { CKA_ALG_RS256, "rsa-ps", CKA_KEY_MISMATCH }, { CKA_ALG_PS256, "rsa-rs", CKA_KEY_MISMATCH },
        { CKA_ALG_ES256, "ec-1", CKA_OK },       { CKA_ALG_ES384, "ec-384", CKA_OK },
        { CKA_ALG_EDDSA, "ed-1", CKA_OK },       { CKA_ALG_HS256, "hs-1", CKA_OK },
        { CKA_ALG_HS512, NULL, CKA_OK },         { CKA_ALG_ES256, NULL, CKA_OK },
        { CKA_ALG_RS256, "rsa-2", CKA_OK },      { CKA_ALG_RS256, "rsa-enc", CKA_UNSUPPORTED_KEY },
        { CKA_ALG_HS256, "rsa-1", CKA_KEY_MISMATCH },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *hdr = cases[i].kid
            ? apr_psprintf(p, "{\"alg\":\"%s\",\"kid\":\"%s\"}", cka_alg_name(cases[i].alg), cases[i].kid)
            : apr_psprintf(p, "{\"alg\":\"%s\"}", cka_alg_name(cases[i].alg));
        char *tok = fz_token(p, fz_kind_for_alg(cases[i].alg), cases[i].alg,
                             hdr, strlen(hdr), claims, strlen(claims));
        cka_verdict_t v;
        cka_reason_t r = cka_validate_token(p, tok, strlen(tok), &pol_main, &source, NOW, &v);
        if (r != cases[i].want) {
            fprintf(stderr, "fuzz_token self-test %zu (%s kid %s): got %s, want %s\n", i,
                    cka_alg_name(cases[i].alg), cases[i].kid ? cases[i].kid : "-",
                    cka_reason_code(r), cka_reason_code(cases[i].want));
            fz_fail(__FILE__, __LINE__, "self-test");
        }
    }
    apr_pool_destroy(p);
}
