/* mtls.h - RFC 8705 certificate-bound tokens: the client certificate of
 * the connection, read from mod_ssl, against the token's cnf x5t#S256. */
#ifndef CKA_MTLS_H
#define CKA_MTLS_H
#include "mod_cka.h"

/* CKA_OK when the claims carry no certificate binding, or when this
 * request's TLS connection presented the certificate they are bound to
 * (then *proven is 1, else 0: for a rule that requires certificate-bound
 * tokens); else CKA_BINDING_MISSING with *detail (static text for the
 * refusal's log line). Whatever the configuration; needs nothing from it.
 * Logs at debug the thumbprints compared (never token or certificate
 * bytes). */
cka_reason_t cka_mtls_check(request_rec *r, const json_t *claims, int *proven,
                            const char **detail);

#endif
