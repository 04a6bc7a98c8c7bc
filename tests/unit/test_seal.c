/* test_seal.c - sealed cache records (seal.c, record.c) and the core's
 * check of a cache hit (cka_validate_hit): what a writer to the cache can
 * and cannot do. */
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <apr_strings.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include "suites.h"
#include "seal.h"
#include "record.h"
#include "validate.h"
#include "json_util.h"

static const unsigned char secret_a[40] = "0123456789abcdef0123456789abcdef-host-a";
static const unsigned char secret_b[40] = "0123456789abcdef0123456789abcdef-host-b";

static const cka_seal_t *seal_of(const unsigned char *secret, size_t len)
{
    const char *err = NULL;
    const cka_seal_t *s = cka_seal_create(tu_pool, secret, len, &err);
    ck_assert_msg(s != NULL, "seal: %s", err ? err : "");
    return s;
}

static void name_of(const cka_seal_t *s, cka_seal_kind_t kind, const char *data,
                    unsigned char out[CKA_SEAL_NAME_LEN])
{
    ck_assert_int_eq(cka_seal_name(s, kind, data, strlen(data), out), 0);
}

/* ---- names ------------------------------------------------------------------*/

/* The name is HMAC-SHA256(HKDF-SHA256(secret, salt, "lookup name key"),
 * kind || data), computed here again on OpenSSL's one-shot API. */
START_TEST(name_is_hmac_under_derived_key)
{
    unsigned char key[32], want[32], got[32];
    size_t wl = 0;
    static const char salt[] = "mod_conduktor_auth cache v1", info[] = "lookup name key";
    EVP_KDF *kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
    EVP_KDF_CTX *kc = EVP_KDF_CTX_new(kdf);
    OSSL_PARAM prm[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)"SHA256", 0),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)secret_a, sizeof(secret_a)),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)salt, sizeof(salt) - 1),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *)info, sizeof(info) - 1),
        OSSL_PARAM_construct_end() };
    ck_assert_int_eq(EVP_KDF_derive(kc, key, sizeof(key), prm), 1);
    EVP_KDF_CTX_free(kc);
    EVP_KDF_free(kdf);
    const char *tok = "eyJhbGciOiJSUzI1NiJ9.e30.c2ln";
    char *msg = apr_pstrcat(tu_pool, "T", tok, NULL);
    ck_assert_ptr_nonnull(EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, key, sizeof(key),
                                    (unsigned char *)msg, strlen(msg), want, sizeof(want), &wl));
    name_of(seal_of(secret_a, sizeof(secret_a)), CKA_SEAL_TOKEN, tok, got);
    ck_assert_int_eq(wl, 32);
    ck_assert_mem_eq(got, want, 32);
}
END_TEST

START_TEST(names_differ_by_secret_kind_and_data)
{
    const cka_seal_t *a = seal_of(secret_a, sizeof(secret_a));
    const cka_seal_t *b = seal_of(secret_b, sizeof(secret_b));
    unsigned char n1[32], n2[32], n3[32], n4[32], n5[32];
    name_of(a, CKA_SEAL_TOKEN, "x.y.z", n1);
    name_of(a, CKA_SEAL_TOKEN, "x.y.z", n2);
    name_of(b, CKA_SEAL_TOKEN, "x.y.z", n3);
    name_of(a, CKA_SEAL_KEYSET, "x.y.z", n4);
    name_of(a, CKA_SEAL_TOKEN, "x.y.Z", n5);
    ck_assert_mem_eq(n1, n2, 32);
    ck_assert(memcmp(n1, n3, 32) != 0);
    ck_assert(memcmp(n1, n4, 32) != 0);
    ck_assert(memcmp(n1, n5, 32) != 0);
    /* Not the plain SHA-256 of the token (usable offline by a reader). */
    unsigned char h[32];
    ck_assert_int_eq(cka_token_hash("x.y.z", 5, h), 0);
    ck_assert(memcmp(n1, h, 32) != 0);
}
END_TEST

START_TEST(short_secret_refused)
{
    const char *err = NULL;
    ck_assert_ptr_null(cka_seal_create(tu_pool, secret_a, 31, &err));
    ck_assert_ptr_nonnull(err);
    ck_assert_ptr_nonnull(cka_seal_create(tu_pool, secret_a, 32, &err));
}
END_TEST

/* ---- seal / unseal -----------------------------------------------------------*/

static const char pt_text[] = "{\"email\":\"alice@example.com\",\"groups\":[\"kafka-admins\"]}";

START_TEST(round_trip_and_no_plaintext)
{
    const cka_seal_t *s = seal_of(secret_a, sizeof(secret_a));
    unsigned char name[32], *out, *back;
    size_t n, bn;
    name_of(s, CKA_SEAL_TEST, "k", name);
    ck_assert_int_eq(cka_seal(s, tu_pool, CKA_SEAL_TEST, name, (const unsigned char *)pt_text,
                              strlen(pt_text), &out, &n), 0);
    ck_assert_uint_eq(n, strlen(pt_text) + CKA_SEAL_OVERHEAD);
    ck_assert_ptr_null(memmem(out, n, "alice", 5));
    ck_assert_ptr_null(memmem(out, n, "kafka", 5));
    ck_assert_int_eq(cka_unseal(s, tu_pool, CKA_SEAL_TEST, name, out, n, &back, &bn), 0);
    ck_assert_uint_eq(bn, strlen(pt_text));
    ck_assert_mem_eq(back, pt_text, bn);
    /* Two seals of the same plaintext differ (fresh nonce). */
    unsigned char *out2;
    size_t n2;
    ck_assert_int_eq(cka_seal(s, tu_pool, CKA_SEAL_TEST, name, (const unsigned char *)pt_text,
                              strlen(pt_text), &out2, &n2), 0);
    ck_assert(memcmp(out, out2, n) != 0);
}
END_TEST

/* Every byte, every bit position class: any change is refused. */
START_TEST(any_flipped_byte_refused)
{
    const cka_seal_t *s = seal_of(secret_a, sizeof(secret_a));
    unsigned char name[32], *out, *back;
    size_t n, bn;
    name_of(s, CKA_SEAL_TEST, "k", name);
    ck_assert_int_eq(cka_seal(s, tu_pool, CKA_SEAL_TEST, name, (const unsigned char *)pt_text,
                              strlen(pt_text), &out, &n), 0);
    for (size_t i = 0; i < n; i++) {
        for (int bit = 0; bit < 8; bit += 3) {
            unsigned char *c = apr_pmemdup(tu_pool, out, n);
            c[i] ^= (unsigned char)(1u << bit);
            ck_assert_msg(cka_unseal(s, tu_pool, CKA_SEAL_TEST, name, c, n, &back, &bn) != 0,
                          "byte %zu bit %d flipped still opens", i, bit);
        }
    }
}
END_TEST

START_TEST(truncated_extended_moved_refused)
{
    const cka_seal_t *s = seal_of(secret_a, sizeof(secret_a));
    const cka_seal_t *other = seal_of(secret_b, sizeof(secret_b));
    unsigned char name[32], name2[32], *out, *back;
    size_t n, bn;
    name_of(s, CKA_SEAL_TEST, "k", name);
    name_of(s, CKA_SEAL_TEST, "k2", name2);
    ck_assert_int_eq(cka_seal(s, tu_pool, CKA_SEAL_TEST, name, (const unsigned char *)pt_text,
                              strlen(pt_text), &out, &n), 0);
    for (size_t cut = 0; cut < n; cut++)
        ck_assert_int_ne(cka_unseal(s, tu_pool, CKA_SEAL_TEST, name, out, cut, &back, &bn), 0);
    unsigned char *longer = apr_palloc(tu_pool, n + 1);
    memcpy(longer, out, n);
    longer[n] = 0;
    ck_assert_int_ne(cka_unseal(s, tu_pool, CKA_SEAL_TEST, name, longer, n + 1, &back, &bn), 0);
    /* Copied under another name, read as another kind, or by a host with
     * another secret. */
    ck_assert_int_ne(cka_unseal(s, tu_pool, CKA_SEAL_TEST, name2, out, n, &back, &bn), 0);
    ck_assert_int_ne(cka_unseal(s, tu_pool, CKA_SEAL_KEYSET, name, out, n, &back, &bn), 0);
    ck_assert_int_ne(cka_unseal(other, tu_pool, CKA_SEAL_TEST, name, out, n, &back, &bn), 0);
    /* Sanity: the untouched record still opens. */
    ck_assert_int_eq(cka_unseal(s, tu_pool, CKA_SEAL_TEST, name, out, n, &back, &bn), 0);
}
END_TEST

/* ---- the secret file -----------------------------------------------------------*/

static const char *write_file(const char *content, size_t len, mode_t mode)
{
    char *path = apr_psprintf(tu_pool, "/tmp/cka-seal-test-%ld", (long)getpid());
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(content, 1, len, f), len);
    fclose(f);
    ck_assert_int_eq(chmod(path, mode), 0);
    return path;
}

START_TEST(secret_file_rules)
{
    static const struct { size_t len; mode_t mode; int ok; } rows[] = {
        { 32,   0600, 1 },
        { 32,   0400, 1 },
        { 4096, 0600, 1 },
        { 31,   0600, 0 },      /* too short                     */
        { 4097, 0600, 0 },      /* too long                      */
        { 48,   0640, 0 },      /* group may read                */
        { 48,   0604, 0 },      /* others may read               */
        { 48,   0620, 0 },      /* group may write               */
    };
    char *buf = apr_palloc(tu_pool, 4097);
    memset(buf, 'x', 4097);
    for (int i = 0; i < TU_NELTS(rows); i++) {
        const char *path = write_file(buf, rows[i].len, rows[i].mode);
        size_t len = 0;
        const char *err = NULL;
        const unsigned char *got = cka_seal_read_secret(tu_pool, path, &len, &err);
        ck_assert_msg((got != NULL) == rows[i].ok, "row %d: %s", i, err ? err : "accepted");
        if (got != NULL)
            ck_assert_uint_eq(len, rows[i].len);
        else
            ck_assert_ptr_null(strstr(err, "xxxx"));   /* never the content */
        unlink(path);
    }
    size_t len;
    const char *err = NULL;
    ck_assert_ptr_null(cka_seal_read_secret(tu_pool, "/nonexistent/secret", &len, &err));
    ck_assert_ptr_null(cka_seal_read_secret(tu_pool, "/tmp", &len, &err));
}
END_TEST

/* ---- token records ----------------------------------------------------------------*/

static cka_record_t sample_record(void)
{
    cka_record_t r;
    memset(&r, 0, sizeof(r));
    r.alg = CKA_ALG_RS256;
    r.typ = "at+jwt";
    r.kid = "key-1";
    memset(r.binding, 0xB1, sizeof(r.binding));
    memset(r.thumb, 0x7E, sizeof(r.thumb));
    r.until = 1900000000LL;
    r.payload = "{\"iss\":\"https://idp.example\",\"email\":\"alice@example.com\"}";
    r.payload_len = strlen(r.payload);
    return r;
}

START_TEST(record_round_trip)
{
    const cka_seal_t *s = seal_of(secret_a, sizeof(secret_a));
    unsigned char name[32], *out;
    size_t n;
    cka_record_t r = sample_record(), back;
    name_of(s, CKA_SEAL_TOKEN, "a.b.c", name);
    ck_assert_int_eq(cka_record_seal(s, tu_pool, name, &r, &out, &n), 0);
    ck_assert_ptr_null(memmem(out, n, "alice", 5));
    ck_assert_ptr_null(memmem(out, n, "key-1", 5));
    ck_assert_int_eq(cka_record_open(s, tu_pool, name, out, n, &back), 0);
    ck_assert_int_eq(back.alg, r.alg);
    ck_assert_str_eq(back.typ, "at+jwt");
    ck_assert_str_eq(back.kid, "key-1");
    ck_assert_mem_eq(back.binding, r.binding, CKA_BIND_LEN);
    ck_assert_mem_eq(back.thumb, r.thumb, CKA_THUMB_LEN);
    ck_assert_int_eq(back.until, r.until);
    ck_assert_ptr_nonnull(back.claims);
    ck_assert_str_eq(json_string_value(json_object_get(back.claims, "email")),
                     "alice@example.com");
    /* Copied to another token's name: refused. */
    unsigned char other[32];
    name_of(s, CKA_SEAL_TOKEN, "letmein", other);
    ck_assert_int_ne(cka_record_open(s, tu_pool, other, out, n, &back), 0);
    /* A record sealed with the right secret but claims that are not JSON
     * (cannot happen from the module; the parse still runs). */
    cka_record_t bad = sample_record();
    bad.payload = "{not json";
    bad.payload_len = strlen(bad.payload);
    ck_assert_int_eq(cka_record_seal(s, tu_pool, name, &bad, &out, &n), 0);
    ck_assert_int_ne(cka_record_open(s, tu_pool, name, out, n, &back), 0);
}
END_TEST

START_TEST(record_any_flipped_byte_refused)
{
    const cka_seal_t *s = seal_of(secret_a, sizeof(secret_a));
    unsigned char name[32], *out;
    size_t n;
    cka_record_t r = sample_record(), back;
    name_of(s, CKA_SEAL_TOKEN, "a.b.c", name);
    ck_assert_int_eq(cka_record_seal(s, tu_pool, name, &r, &out, &n), 0);
    for (size_t i = 0; i < n; i++) {
        unsigned char *c = apr_pmemdup(tu_pool, out, n);
        c[i] ^= 0x01;
        ck_assert_msg(cka_record_open(s, tu_pool, name, c, n, &back) != 0,
                      "record byte %zu flipped still opens", i);
    }
}
END_TEST

/* Plaintext framing: a decoder that is strict on its own (the seal is the
 * first wall, this the second). */
START_TEST(record_framing_strict)
{
    cka_record_t r = sample_record(), back;
    unsigned char *b;
    size_t n;
    ck_assert_int_eq(cka_record_encode(tu_pool, &r, &b, &n, NULL), CKA_OK);
    ck_assert_int_eq(cka_record_decode(b, n, tu_pool, &back, NULL), CKA_OK);
    for (size_t cut = 0; cut < n - r.payload_len; cut++)
        ck_assert_int_eq(cka_record_decode(b, cut, tu_pool, &back, NULL), CKA_RECORD_INVALID);
    unsigned char *c = apr_pmemdup(tu_pool, b, n);
    c[4] = 0;                                           /* alg unknown   */
    ck_assert_int_eq(cka_record_decode(c, n, tu_pool, &back, NULL), CKA_RECORD_INVALID);
    c = apr_pmemdup(tu_pool, b, n);
    memset(c + 5, 0, 8);                                /* until = 0     */
    ck_assert_int_eq(cka_record_decode(c, n, tu_pool, &back, NULL), CKA_RECORD_INVALID);
    c = apr_pmemdup(tu_pool, b, n);
    c[5 + 8 + 64 + 1] = '\0';                           /* NUL in typ    */
    ck_assert_int_eq(cka_record_decode(c, n, tu_pool, &back, NULL), CKA_RECORD_INVALID);
    cka_record_t longkid = sample_record();
    longkid.kid = apr_pstrndup(tu_pool, "kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk"
                               "kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk", 128);
    ck_assert_int_eq(cka_record_encode(tu_pool, &longkid, &b, &n, NULL), CKA_RECORD_TOO_LARGE);
}
END_TEST

/* ---- the hit check (cka_validate_hit) ------------------------------------------------*/

typedef struct { const cka_keyset_t *ks; } hit_src_t;

static const cka_keyset_t *hit_get(void *ctx, apr_pool_t *p, const char *iss, int refresh,
                                   cka_reason_t *why)
{
    hit_src_t *s = ctx;
    if (s->ks == NULL)
        *why = CKA_KEYS_UNAVAILABLE;
    return s->ks;
}

static const cka_keyset_t *set_of(const char *doc)
{
    cka_err_t err = CKA_ERR_INIT;
    const cka_keyset_t *ks = KS_json(doc, strlen(doc), &err);
    ck_assert_msg(ks != NULL, "set: %s", cka_err_text(&err));
    return ks;
}

START_TEST(hit_check_table)
{
    const char *iss = "https://idp.example";
    const mint_key_t *rsa = mint_key(MINT_RSA, MINT_TRUSTED);
    const mint_key_t *rsa2 = mint_key(MINT_RSA, MINT_ATTACKER);
    const mint_key_t *ec = mint_key(MINT_P256, MINT_TRUSTED);
    const cka_keyset_t *with = set_of(mint_jwks(tu_pool, 2,
        mint_jwk(tu_pool, rsa, "\"kid\":\"r1\""), mint_jwk(tu_pool, ec, "\"kid\":\"e1\"")));
    const cka_keyset_t *without = set_of(mint_jwks(tu_pool, 1,
        mint_jwk(tu_pool, rsa2, "\"kid\":\"r1\"")));    /* same kid, another key */
    const cka_key_t *k = NULL;
    for (int i = 0; i < with->keys->nelts; i++)
        if (strcmp(APR_ARRAY_IDX(with->keys, i, const cka_key_t *)->kid, "r1") == 0)
            k = APR_ARRAY_IDX(with->keys, i, const cka_key_t *);
    ck_assert_ptr_nonnull(k);
    long long now = mint_now();
    apr_array_header_t *aud = apr_array_make(tu_pool, 1, sizeof(const char *));
    APR_ARRAY_PUSH(aud, const char *) = "api://conduktor";
    apr_array_header_t *types = apr_array_make(tu_pool, 1, sizeof(const char *));
    APR_ARRAY_PUSH(types, const char *) = "at+jwt";
    unsigned char here[CKA_BIND_LEN], elsewhere[CKA_BIND_LEN];
    memset(here, 0xB1, sizeof(here));
    memset(elsewhere, 0xB2, sizeof(elsewhere));

    const char *good = apr_psprintf(tu_pool, "{\"iss\":\"%s\",\"aud\":\"api://conduktor\","
                                    "\"exp\":%" APR_INT64_T_FMT ",\"email\":\"a@b\"}", iss, (apr_int64_t)(now + 60));
    const char *expired = apr_psprintf(tu_pool, "{\"iss\":\"%s\",\"aud\":\"api://conduktor\","
                                       "\"exp\":%" APR_INT64_T_FMT "}", iss, (apr_int64_t)(now - 600));
    const char *other_aud = apr_psprintf(tu_pool, "{\"iss\":\"%s\",\"aud\":\"api://x\","
                                         "\"exp\":%" APR_INT64_T_FMT "}", iss, (apr_int64_t)(now + 60));
    const char *no_iss = apr_psprintf(tu_pool, "{\"aud\":\"api://conduktor\",\"exp\":%" APR_INT64_T_FMT "}",
                                      (apr_int64_t)(now + 60));
    static const unsigned char zero[CKA_THUMB_LEN];
    struct {
        const char *claims; cka_alg_t alg; const char *typ; int bind_here; int set_with;
        int real_thumb; cka_alg_set_t algs; int types; int usable; cka_reason_t why;
        const char *ctx;
    } rows[] = {
        { good,      CKA_ALG_RS256, NULL,     1, 1, 1, CKA_ALG_SET_DEFAULT, 0, 1, CKA_OK,              "valid hit" },
        { good,      CKA_ALG_RS256, "at+jwt", 1, 1, 1, CKA_ALG_SET_DEFAULT, 1, 1, CKA_OK,              "typ required and present" },
        { good,      CKA_ALG_RS256, NULL,     0, 1, 1, CKA_ALG_SET_DEFAULT, 0, 0, CKA_OK,              "made by another configuration" },
        { good,      CKA_ALG_RS256, NULL,     2, 1, 1, CKA_ALG_SET_DEFAULT, 0, 0, CKA_OK,              "issuer not trusted here" },
        { good,      CKA_ALG_RS256, NULL,     1, 0, 1, CKA_ALG_SET_DEFAULT, 0, 0, CKA_OK,              "key withdrawn (same kid, other key)" },
        { good,      CKA_ALG_RS256, NULL,     1, 2, 1, CKA_ALG_SET_DEFAULT, 0, 0, CKA_OK,              "keys unavailable" },
        { good,      CKA_ALG_RS256, NULL,     1, 1, 0, CKA_ALG_SET_DEFAULT, 0, 0, CKA_OK,              "unknown thumbprint" },
        { good,      CKA_ALG_ES256, NULL,     1, 1, 1, CKA_ALG_SET_DEFAULT, 0, 0, CKA_OK,              "alg does not fit that key" },
        { no_iss,    CKA_ALG_RS256, NULL,     1, 1, 1, CKA_ALG_SET_DEFAULT, 0, 0, CKA_OK,              "no iss" },
        { good,      CKA_ALG_RS256, NULL,     1, 1, 1, CKA_ALG_BIT(CKA_ALG_ES256), 0, 1, CKA_ALG_NOT_ALLOWED, "alg no longer allowed here" },
        { good,      CKA_ALG_RS256, NULL,     1, 1, 1, CKA_ALG_SET_DEFAULT, 1, 1, CKA_WRONG_TYPE,    "typ required, none" },
        { expired,   CKA_ALG_RS256, NULL,     1, 1, 1, CKA_ALG_SET_DEFAULT, 0, 1, CKA_TOKEN_EXPIRED, "expired since" },
        { other_aud, CKA_ALG_RS256, NULL,     1, 1, 1, CKA_ALG_SET_DEFAULT, 0, 1, CKA_WRONG_AUDIENCE, "audience of another location" },
    };
    for (int i = 0; i < TU_NELTS(rows); i++) {
        cka_record_t hit;
        memset(&hit, 0, sizeof(hit));
        hit.claims = tu_json(rows[i].claims);
        hit.alg = rows[i].alg;
        hit.typ = rows[i].typ;
        memcpy(hit.binding, here, CKA_BIND_LEN);
        memcpy(hit.thumb, rows[i].real_thumb ? k->thumb : zero, CKA_THUMB_LEN);
        hit.until = now + 60;
        hit_src_t src = { rows[i].set_with == 1 ? with : rows[i].set_with == 0 ? without : NULL };
        cka_key_source_t keys = { &src, hit_get };
        cka_policy_t pol = { .algs = rows[i].algs, .audiences = aud, .any_audience = 0,
                             .types = rows[i].types ? types : NULL, .skew = 0 };
        const unsigned char *b = rows[i].bind_here == 1 ? here
                               : rows[i].bind_here == 0 ? elsewhere : NULL;
        cka_reason_t why = CKA_INTERNAL;
        int usable = cka_validate_hit(tu_pool, &hit, b, &pol, &keys, now, &why, NULL);
        ck_assert_msg(usable == rows[i].usable, "%s: usable %d", rows[i].ctx, usable);
        if (usable)
            tu_assert_reason(why, rows[i].why, rows[i].ctx);
    }
}
END_TEST

Suite *suite_seal(void)
{
    Suite *s = suite_create("seal");
    TCase *tc = tcase_create("seal");
    tcase_add_checked_fixture(tc, tu_pool_setup, tu_pool_teardown);
    tcase_add_test(tc, name_is_hmac_under_derived_key);
    tcase_add_test(tc, names_differ_by_secret_kind_and_data);
    tcase_add_test(tc, short_secret_refused);
    tcase_add_test(tc, round_trip_and_no_plaintext);
    tcase_add_test(tc, any_flipped_byte_refused);
    tcase_add_test(tc, truncated_extended_moved_refused);
    tcase_add_test(tc, secret_file_rules);
    tcase_add_test(tc, record_round_trip);
    tcase_add_test(tc, record_any_flipped_byte_refused);
    tcase_add_test(tc, record_framing_strict);
    tcase_add_test(tc, hit_check_table);
    suite_add_tcase(s, tc);
    return s;
}
