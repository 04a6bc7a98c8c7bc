/* mtls.h - RFC 8705 certificate-bound tokens: the client certificate of
 * the connection, read from mod_ssl, against the token's cnf x5t#S256. */
#ifndef CKA_MTLS_H
#define CKA_MTLS_H
#include "mod_cka.h"

/* CKA_OK when the claims carry no certificate binding, or when this
 * request's TLS connection presented the certificate they are bound to
 * (remembered for the request: cka_mtls_check then answers from it); else
 * CKA_BINDING_MISSING with *detail (static text for the refusal's log
 * line). Whatever the configuration and the Authorization scheme; needs
 * nothing from the configuration. Logs at debug the thumbprints compared
 * (never token or certificate bytes). */
cka_reason_t cka_mtls_verify(request_rec *r, const json_t *claims, const char **detail);

/* The certificate check of a token bound by cnf["x5t#S256"], for the
 * binding rules: CKA_OK when this request's connection has that certificate
 * (remembered from cka_mtls_verify), else CKA_BINDING_MISSING with
 * *detail. */
cka_reason_t cka_mtls_check(request_rec *r, const char *x5t, const char **detail);

#endif
