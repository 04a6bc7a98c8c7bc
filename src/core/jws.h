/* jws.h - split a compact JWS, decode it strictly, read the protected header. */
#ifndef CKA_JWS_H
#define CKA_JWS_H
#include <stddef.h>
#include <jansson.h>
#include <apr_pools.h>
#include "alg.h"
#include "reason.h"

typedef struct {
    const char    *signing_input;     /* header.payload (points into token) */
    size_t         signing_input_len;
    const char    *compact;           /* the whole token (not copied)       */
    size_t         compact_len;
    json_t        *header;            /* owned by the pool                  */
    json_t        *claims;            /* owned by the pool                  */
    const char    *payload;           /* decoded payload JSON (the record)  */
    size_t         payload_len;
    unsigned char *sig;
    size_t         sig_len;
    cka_alg_t      alg;
    const char    *alg_name;
    const char    *kid;               /* NULL when absent                   */
    const char    *typ;               /* NULL when absent                   */
} cka_jws_t;

/* What the credential's sorting already parsed (credential.h): the header
 * and payload objects of a three-segment credential, each NULL when it was
 * not parsed or did not parse. Handed on so the token is not parsed twice. */
typedef struct {
    json_t *header;
    json_t *claims;
} cka_jws_parts_t;

/* Parse a compact JWS: exactly three non-empty... segments (a JWE's five are
 * refused), canonical base64url, header and payload JSON objects within the
 * depth limit, no duplicate names. Header rules: alg a string naming a
 * supported algorithm (missing, "none" in any case, or unknown is
 * CKA_ALG_NOT_ALLOWED; not a string is CKA_MALFORMED), kid and
 * typ strings when present, any crit / b64 / zip -> CKA_UNSUPPORTED_HEADER,
 * enc -> CKA_MALFORMED. Key material in the header (jwk, jku, x5u, x5c) is
 * ignored, never used. On failure *detail (static text) says what. */
cka_reason_t cka_jws_parse(apr_pool_t *p, const char *token, size_t len,
                           cka_jws_t *out, const char **detail);

/* The same, taking the objects of parts (may be NULL) instead of parsing
 * again: the segments are still decoded strictly, and an object is taken
 * only from a segment that decodes canonically, whose lenient decoding
 * (the sorting's) is then the same bytes, parsed by the same strict
 * parser. The result is what cka_jws_parse gives. */
cka_reason_t cka_jws_parse_parts(apr_pool_t *p, const char *token, size_t len,
                                 const cka_jws_parts_t *parts, cka_jws_t *out,
                                 const char **detail);

#endif
