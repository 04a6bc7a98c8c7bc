/* credential.h - sort a request's credential into one kind before anything
 * else is done with it (SPEC "Credentials other than IdP JWTs"). Part of the
 * core: no httpd header. */
#ifndef CKA_CREDENTIAL_H
#define CKA_CREDENTIAL_H
#include <stddef.h>
#include <apr_pools.h>
#include "reason.h"
#include "jws.h"

/* X(name, text): the kinds, in the order of the SPEC; the names are the
 * values of CONDUKTOR_AUTH_CREDENTIAL and of Require conduktor-credential. */
#define CKA_CRED_KINDS(X) \
    X(JWT,                "jwt")                \
    X(OPAQUE,             "opaque")             \
    X(INTROSPECTED,       "introspected")       \
    X(CLIENT_CREDENTIALS, "client_credentials") \
    X(BASIC,              "basic")

typedef enum {
    CKA_CRED_NONE = 0,
#define CKA_X_KIND(name, text) CKA_CRED_##name,
    CKA_CRED_KINDS(CKA_X_KIND)
#undef CKA_X_KIND
    CKA_CRED_KIND_COUNT
} cka_cred_kind_t;

/* "jwt", "opaque", ...; NULL for CKA_CRED_NONE or out of range. */
const char *cka_cred_kind_name(cka_cred_kind_t k);
/* The kind named (exactly, lower case), or CKA_CRED_NONE. */
cka_cred_kind_t cka_cred_kind_parse(const char *name);

/* Says whether iss is an issuer this configuration trusts. */
typedef int (*cka_trusted_fn)(void *ctx, const char *iss);

/* Sort a bearer credential (the bytes after "Bearer ", blanks trimmed):
 *   CKA_OK, *kind = CKA_CRED_JWT: a part (between dots) that reads as a
 *     JSON object with a string "iss" that trusted() accepts, whatever the
 *     shape around it (the compact JWS of a trusted issuer, or one with
 *     segments added, removed or swapped); or three segments whose middle
 *     opens a JSON object that does not read strictly (duplicate names,
 *     too deep), or whose header is a JOSE header (an object with "alg")
 *     over a middle that is no object. An unreadable JWS may come from a
 *     trusted issuer, so it is checked (and refused) as a JWT, never
 *     passed on. Decoding here is lenient (either base64 alphabet, padding
 *     and trailing bits ignored): the strict checks come after, on the JWT
 *     path;
 *   CKA_OK, *kind = CKA_CRED_OPAQUE: anything else of visible ASCII
 *     (0x21-0x7e) without commas, at most CKA_MAX_TOKEN_LEN bytes;
 *   CKA_TOKEN_TOO_LARGE: longer than that;
 *   CKA_BAD_REQUEST: empty, or a space, tab or comma (two credentials);
 *   CKA_MALFORMED: any other byte outside visible ASCII.
 * Nothing here trusts the credential: the kind only says which path checks
 * it. p holds temporary decodings. */
/* The byte rules of cka_cred_classify alone (empty, too large, blanks or
 * commas, bytes outside visible ASCII): CKA_OK when the credential may be
 * sorted at all. */
cka_reason_t cka_cred_screen(const char *cred, size_t len);

cka_reason_t cka_cred_classify(apr_pool_t *p, const char *cred, size_t len,
                               cka_trusted_fn trusted, void *ctx,
                               cka_cred_kind_t *kind);
/* The same, keeping (parts, may be NULL) the header and payload objects
 * of a three-segment credential for the JWT path (cka_jws_parse_parts). */
cka_reason_t cka_cred_classify_parts(apr_pool_t *p, const char *cred, size_t len,
                                     cka_trusted_fn trusted, void *ctx,
                                     cka_cred_kind_t *kind, cka_jws_parts_t *parts);

#endif
