/* reason.h - why a request was refused: stable codes, text and HTTP answer.
 * Part of the core: no httpd header. */
#ifndef CKA_REASON_H
#define CKA_REASON_H

/* Keep in step with the table in reason.c. */
typedef enum {
    CKA_OK = 0,
    CKA_NO_TOKEN,           /* no credential at all                       */
    CKA_BAD_REQUEST,        /* Authorization present but not "Bearer x"   */
    CKA_TOKEN_TOO_LARGE,    /* over CKA_MAX_TOKEN_LEN                      */
    CKA_MALFORMED,          /* segments, base64url, JSON, types           */
    CKA_ALG_NOT_ALLOWED,    /* none, unknown, or not in the allow-list    */
    CKA_UNSUPPORTED_HEADER, /* crit, b64, zip                             */
    CKA_WRONG_TYPE,         /* typ not in ConduktorAuthRequireType        */
    CKA_WRONG_ISSUER,       /* iss missing or not a configured issuer     */
    CKA_UNKNOWN_KEY,        /* no key with that kid / of that type        */
    CKA_KEY_MISMATCH,       /* alg does not fit the key                   */
    CKA_BAD_SIGNATURE,
    CKA_TOKEN_EXPIRED,
    CKA_NOT_YET_VALID,      /* nbf in the future                          */
    CKA_ISSUED_IN_FUTURE,   /* iat in the future                          */
    CKA_BAD_TIME_CLAIM,     /* exp missing, exp/nbf/iat not a NumericDate */
    CKA_WRONG_AUDIENCE,
    CKA_NO_USER,            /* none of ConduktorAuthUserClaim present     */
    CKA_KEYS_UNAVAILABLE,   /* issuer keys never obtained -> 503          */
    CKA_GROUP_DENIED,       /* authz: Require conduktor-group             */
    CKA_CLAIM_DENIED,       /* authz: Require conduktor-claim / other     */
    CKA_NOT_CONFIGURED,     /* no issuer / audience for the location      */
    CKA_INTERNAL,
    CKA_REASON_COUNT
} cka_reason_t;

/* Short stable code, e.g. "token_expired" (CONDUKTOR_AUTH_ERROR, metrics). */
const char *cka_reason_code(cka_reason_t r);
/* Short human text for error_description; never contains token data. */
const char *cka_reason_text(cka_reason_t r);
/* HTTP status the module answers with: 401, 403, 503 or 500. */
int cka_reason_status(cka_reason_t r);
/* RFC 6750 error code: "invalid_token", "invalid_request",
 * "insufficient_scope", or NULL (no token: bare challenge; 5xx). */
const char *cka_reason_oauth_error(cka_reason_t r);

#endif
