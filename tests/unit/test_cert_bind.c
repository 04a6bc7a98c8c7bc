/* test_cert_bind.c - RFC 8705 certificate binding (src/core/cert_bind.c):
 * cnf x5t#S256 parsing, one case per line, and the check against
 * certificates made here (EC P-256, self-signed). */
#include <string.h>
#include <apr_strings.h>
#include <openssl/bio.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include "suites.h"
#include "b64url.h"
#include "cert_bind.h"

/* A self-signed certificate in PEM (a pool string); its SHA-256 over the
 * DER as X509_digest computes it (not the code under test) in thumb. */
static const char *make_cert(const char *cn, unsigned char thumb[CKA_X5T_LEN])
{
    EVP_PKEY *k = EVP_EC_gen("P-256");
    ck_assert_ptr_nonnull(k);
    X509 *x = X509_new();
    ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
    X509_gmtime_adj(X509_getm_notBefore(x), -3600);
    X509_gmtime_adj(X509_getm_notAfter(x), 3600);
    X509_set_pubkey(x, k);
    X509_NAME *n = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
    X509_set_issuer_name(x, n);
    ck_assert_int_gt(X509_sign(x, k, EVP_sha256()), 0);
    unsigned int len = 0;
    ck_assert_int_eq(X509_digest(x, EVP_sha256(), thumb, &len), 1);
    ck_assert_uint_eq(len, CKA_X5T_LEN);
    BIO *b = BIO_new(BIO_s_mem());
    PEM_write_bio_X509(b, x);
    char *data = NULL;
    long dlen = BIO_get_mem_data(b, &data);
    const char *pem = apr_pstrmemdup(tu_pool, data, (apr_size_t)dlen);
    BIO_free(b);
    X509_free(x);
    EVP_PKEY_free(k);
    return pem;
}

/* ---- the claim ---------------------------------------------------------- */
#define T43 "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8"   /* bytes 0..31 */
static const struct { const char *claims; cka_x5t_claim_t want; } claims[] = {
    { "{}",                                              CKA_X5T_NONE },
    { "{\"sub\":\"a\"}",                                 CKA_X5T_NONE },
    { "{\"cnf\":{}}",                                    CKA_X5T_NONE },
    { "{\"cnf\":{\"jkt\":\"" T43 "\"}}",                 CKA_X5T_NONE },
    { "{\"cnf\":{\"x5t#S256\":\"" T43 "\"}}",            CKA_X5T_BOUND },
    { "{\"cnf\":{\"jkt\":\"x\",\"x5t#S256\":\"" T43 "\"}}", CKA_X5T_BOUND },
    /* names are exact */
    { "{\"cnf\":{\"x5t#s256\":\"" T43 "\"}}",            CKA_X5T_NONE },
    { "{\"cnf\":{\"x5t\":\"" T43 "\"}}",                 CKA_X5T_NONE },
    { "{\"CNF\":{\"x5t#S256\":\"" T43 "\"}}",            CKA_X5T_NONE },
    /* cnf of another type */
    { "{\"cnf\":\"" T43 "\"}",                           CKA_X5T_MALFORMED },
    { "{\"cnf\":null}",                                  CKA_X5T_MALFORMED },
    { "{\"cnf\":[{\"x5t#S256\":\"" T43 "\"}]}",          CKA_X5T_MALFORMED },
    { "{\"cnf\":1}",                                     CKA_X5T_MALFORMED },
    /* x5t#S256 not a thumbprint */
    { "{\"cnf\":{\"x5t#S256\":\"\"}}",                   CKA_X5T_MALFORMED },
    { "{\"cnf\":{\"x5t#S256\":null}}",                   CKA_X5T_MALFORMED },
    { "{\"cnf\":{\"x5t#S256\":1}}",                      CKA_X5T_MALFORMED },
    { "{\"cnf\":{\"x5t#S256\":[\"" T43 "\"]}}",          CKA_X5T_MALFORMED },
    { "{\"cnf\":{\"x5t#S256\":\"" T43 "=\"}}",           CKA_X5T_MALFORMED },
    { "{\"cnf\":{\"x5t#S256\":\"" T43 "A\"}}",           CKA_X5T_MALFORMED },
    { "{\"cnf\":{\"x5t#S256\":\"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh\"}}", CKA_X5T_MALFORMED },
    /* base64 (not url) alphabet, and non-zero trailing bits */
    { "{\"cnf\":{\"x5t#S256\":\"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh+\"}}", CKA_X5T_MALFORMED },
    { "{\"cnf\":{\"x5t#S256\":\"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh9\"}}", CKA_X5T_MALFORMED },
    /* hex of a SHA-256 (64 characters), as some write x5t */
    { "{\"cnf\":{\"x5t#S256\":\"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\"}}",
      CKA_X5T_MALFORMED },
};

START_TEST(claim_kind)
{
    unsigned char want[CKA_X5T_LEN];
    memset(want, 0xee, sizeof want);
    cka_x5t_claim_t got = cka_x5t_claim(tu_pool, tu_json(claims[_i].claims), want);
    ck_assert_msg(got == claims[_i].want, "%s: got %d, expected %d", claims[_i].claims,
                  (int)got, (int)claims[_i].want);
    if (got == CKA_X5T_BOUND)
        for (int i = 0; i < CKA_X5T_LEN; i++)
            ck_assert_uint_eq(want[i], (unsigned)i);
}
END_TEST

/* ---- the check against real certificates --------------------------------- */
static const char *bound_to(const unsigned char thumb[CKA_X5T_LEN])
{
    return apr_psprintf(tu_pool, "{\"sub\":\"a\",\"cnf\":{\"x5t#S256\":\"%s\"}}",
                        cka_b64url_encode(tu_pool, thumb, CKA_X5T_LEN));
}

START_TEST(check_certificates)
{
    unsigned char ta[CKA_X5T_LEN], tb[CKA_X5T_LEN], got[CKA_X5T_LEN];
    const char *a = make_cert("client-a", ta), *b = make_cert("client-b", tb);
    const char *detail, *have;
    ck_assert_int_eq(cka_x5t_of_pem(a, strlen(a), got), 0);
    ck_assert_mem_eq(got, ta, CKA_X5T_LEN);

    json_t *ca = tu_json(bound_to(ta));
    /* the right certificate */
    tu_assert_reason(cka_x5t_check(tu_pool, ca, a, &detail, &have), CKA_OK, "right cert");
    ck_assert_ptr_null(detail);
    ck_assert_str_eq(have, cka_b64url_encode(tu_pool, ta, CKA_X5T_LEN));
    /* another certificate */
    tu_assert_reason(cka_x5t_check(tu_pool, ca, b, &detail, &have), CKA_BINDING_MISSING,
                     "other cert");
    ck_assert_ptr_nonnull(detail);
    ck_assert_str_eq(have, cka_b64url_encode(tu_pool, tb, CKA_X5T_LEN));
    /* none, or not a certificate */
    tu_assert_reason(cka_x5t_check(tu_pool, ca, NULL, &detail, &have), CKA_BINDING_MISSING,
                     "no cert");
    ck_assert_ptr_null(have);
    tu_assert_reason(cka_x5t_check(tu_pool, ca, "", &detail, NULL), CKA_BINDING_MISSING,
                     "empty cert");
    tu_assert_reason(cka_x5t_check(tu_pool, ca, "-----BEGIN CERTIFICATE-----\nAAAA\n"
                                   "-----END CERTIFICATE-----\n", &detail, NULL),
                     CKA_BINDING_MISSING, "garbage cert");
    /* one bit off in the claim */
    unsigned char off[CKA_X5T_LEN];
    memcpy(off, ta, sizeof off);
    off[CKA_X5T_LEN - 1] ^= 1;
    tu_assert_reason(cka_x5t_check(tu_pool, tu_json(bound_to(off)), a, &detail, NULL),
                     CKA_BINDING_MISSING, "one bit off");
    /* unbound tokens pass whatever the connection */
    tu_assert_reason(cka_x5t_check(tu_pool, tu_json("{\"sub\":\"a\"}"), NULL, &detail, NULL),
                     CKA_OK, "unbound, no cert");
    tu_assert_reason(cka_x5t_check(tu_pool, tu_json("{\"cnf\":{\"jkt\":\"x\"}}"), b, &detail,
                                   NULL), CKA_OK, "DPoP-bound only: not ours");
    /* a malformed binding never passes, even with a certificate */
    tu_assert_reason(cka_x5t_check(tu_pool, tu_json("{\"cnf\":\"x\"}"), a, &detail, NULL),
                     CKA_BINDING_MISSING, "cnf a string");
}
END_TEST

Suite *suite_cert_bind(void)
{
    Suite *s = suite_create("cert_bind");
    TCase *tc = tcase_create("cert_bind");
    tcase_add_checked_fixture(tc, tu_pool_setup, tu_pool_teardown);
    tcase_add_loop_test(tc, claim_kind, 0, TU_NELTS(claims));
    tcase_add_test(tc, check_certificates);
    suite_add_tcase(s, tc);
    return s;
}
