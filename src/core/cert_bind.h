/* cert_bind.h - RFC 8705 certificate-bound access tokens: the token's
 * cnf["x5t#S256"] against the client certificate of the connection.
 * Part of the core: no httpd header. The glue (src/httpd/mtls.c) reads the
 * certificate from mod_ssl and decides what to log and answer. */
#ifndef CKA_CERT_BIND_H
#define CKA_CERT_BIND_H
#include <stddef.h>
#include <apr_pools.h>
#include <jansson.h>
#include "reason.h"

/* Bytes of an x5t#S256 thumbprint (SHA-256 of the certificate's DER). */
#define CKA_X5T_LEN 32

/* What the claims ask for. */
typedef enum {
    CKA_X5T_NONE = 0,    /* no cnf, or a cnf without x5t#S256            */
    CKA_X5T_BOUND,       /* cnf["x5t#S256"]: a well-formed thumbprint    */
    CKA_X5T_MALFORMED    /* cnf not an object, or x5t#S256 not 43
                          * characters of canonical base64url          */
} cka_x5t_claim_t;

/* Read the certificate binding of a claims set; on CKA_X5T_BOUND, want
 * holds the decoded thumbprint. */
cka_x5t_claim_t cka_x5t_claim(apr_pool_t *p, const json_t *claims,
                              unsigned char want[CKA_X5T_LEN]);

/* Decode an x5t#S256 text (43 characters of canonical base64url) into
 * want: 0, or -1 when it is not one. */
int cka_x5t_decode(apr_pool_t *p, const char *text, size_t len,
                   unsigned char want[CKA_X5T_LEN]);

/* The certificate in pem (NULL or "": none) against the thumbprint want,
 * compared in constant time: CKA_OK or CKA_BINDING_MISSING with *detail;
 * *have (may be NULL) as for cka_x5t_check. */
cka_reason_t cka_x5t_match(apr_pool_t *p, const unsigned char want[CKA_X5T_LEN],
                           const char *pem, const char **detail, const char **have);

/* The same with the certificate's thumbprint taken beforehand (e.g. once
 * per connection): presented 0 when the connection has none; got NULL
 * when the one presented could not be read. */
cka_reason_t cka_x5t_compare(apr_pool_t *p, const unsigned char want[CKA_X5T_LEN],
                             int presented, const unsigned char *got,
                             const char **detail, const char **have);

/* SHA-256 of the DER of the first certificate of a PEM text (what mod_ssl
 * gives as SSL_CLIENT_CERT). 0 on success, -1 if it holds none. */
int cka_x5t_of_pem(const char *pem, size_t len, unsigned char out[CKA_X5T_LEN]);

/* The whole check (RFC 8705 §3): CKA_OK when the claims carry no
 * certificate binding, or when pem (NULL or "" when the connection has no
 * client certificate) is the bound certificate, compared in constant
 * time; else CKA_BINDING_MISSING, with *detail (static text, no token
 * data) saying why. *have (may be NULL) gets the base64url thumbprint of
 * the certificate presented, when there was one, for a log line. */
cka_reason_t cka_x5t_check(apr_pool_t *p, const json_t *claims, const char *pem,
                           const char **detail, const char **have);

#endif
