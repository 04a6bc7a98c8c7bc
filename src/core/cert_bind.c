/* cert_bind.c - RFC 8705 §3 certificate-bound access tokens: the claims'
 * cnf["x5t#S256"] against the SHA-256 thumbprint of the client
 * certificate's DER. Part of the core: no httpd header. */
#include <string.h>
#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include "cert_bind.h"
#include "b64url.h"

/* 32 bytes in base64url without padding. */
#define X5T_TEXT_LEN 43

cka_x5t_claim_t cka_x5t_claim(apr_pool_t *p, const json_t *claims,
                              unsigned char want[CKA_X5T_LEN])
{
    const json_t *cnf = json_is_object(claims) ? json_object_get(claims, "cnf") : NULL;
    if (cnf == NULL)
        return CKA_X5T_NONE;
    /* RFC 7800 §3.1: cnf is a JSON object. Anything else claims a
     * confirmation nobody can check: refused rather than ignored. */
    if (!json_is_object(cnf))
        return CKA_X5T_MALFORMED;
    const json_t *x5t = json_object_get(cnf, "x5t#S256");
    if (x5t == NULL)
        return CKA_X5T_NONE;
    if (!json_is_string(x5t)
        || cka_x5t_decode(p, json_string_value(x5t), json_string_length(x5t), want) != 0)
        return CKA_X5T_MALFORMED;
    return CKA_X5T_BOUND;
}

int cka_x5t_decode(apr_pool_t *p, const char *text, size_t len,
                   unsigned char want[CKA_X5T_LEN])
{
    unsigned char *raw = NULL;
    size_t n = 0;
    if (text == NULL || len != X5T_TEXT_LEN
        || cka_b64url_decode(p, text, len, &raw, &n) != 0 || n != CKA_X5T_LEN)
        return -1;
    memcpy(want, raw, CKA_X5T_LEN);
    return 0;
}

int cka_x5t_of_pem(const char *pem, size_t len, unsigned char out[CKA_X5T_LEN])
{
    if (pem == NULL || len == 0 || len > (size_t)1 << 20)
        return -1;
    BIO *bio = BIO_new_mem_buf(pem, (int)len);
    if (bio == NULL)
        return -1;
    X509 *x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
    BIO_free(bio);
    if (x == NULL)
        return -1;
    unsigned char *der = NULL;
    int dlen = i2d_X509(x, &der);
    X509_free(x);
    int rc = -1;
    unsigned int olen = 0;
    if (dlen > 0 && EVP_Digest(der, (size_t)dlen, out, &olen, EVP_sha256(), NULL) == 1
        && olen == CKA_X5T_LEN)
        rc = 0;
    OPENSSL_free(der);
    return rc;
}

cka_reason_t cka_x5t_check(apr_pool_t *p, const json_t *claims, const char *pem,
                           const char **detail, const char **have)
{
    unsigned char want[CKA_X5T_LEN];
    *detail = NULL;
    if (have != NULL)
        *have = NULL;
    switch (cka_x5t_claim(p, claims, want)) {
    case CKA_X5T_NONE:
        return CKA_OK;
    case CKA_X5T_MALFORMED:
        *detail = "the token's cnf is not an object, or its x5t#S256 is not a "
                  "base64url SHA-256 thumbprint (43 characters)";
        return CKA_BINDING_MISSING;
    case CKA_X5T_BOUND:
        break;
    }
    return cka_x5t_match(p, want, pem, detail, have);
}

cka_reason_t cka_x5t_compare(apr_pool_t *p, const unsigned char want[CKA_X5T_LEN],
                             int presented, const unsigned char *got,
                             const char **detail, const char **have)
{
    *detail = NULL;
    if (have != NULL)
        *have = NULL;
    if (!presented) {
        *detail = "the token is bound to a client certificate (cnf x5t#S256) and the "
                  "connection has none (not TLS, or no certificate presented)";
        return CKA_BINDING_MISSING;
    }
    if (got == NULL) {
        *detail = "the token is bound to a client certificate (cnf x5t#S256) and the "
                  "connection's certificate could not be read";
        return CKA_BINDING_MISSING;
    }
    if (have != NULL)
        *have = cka_b64url_encode(p, got, CKA_X5T_LEN);
    if (CRYPTO_memcmp(want, got, CKA_X5T_LEN) != 0) {
        *detail = "the token is bound to another client certificate "
                  "(cnf x5t#S256 differs from the connection's)";
        return CKA_BINDING_MISSING;
    }
    return CKA_OK;
}

cka_reason_t cka_x5t_match(apr_pool_t *p, const unsigned char want[CKA_X5T_LEN],
                           const char *pem, const char **detail, const char **have)
{
    unsigned char got[CKA_X5T_LEN];
    int presented = pem != NULL && *pem != '\0';
    int read = presented && cka_x5t_of_pem(pem, strlen(pem), got) == 0;
    return cka_x5t_compare(p, want, presented, read ? got : NULL, detail, have);
}
