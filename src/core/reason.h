/* reason.h - why a request was refused: stable codes, text and HTTP answer.
 * Part of the core: no httpd header. One list, CKA_REASONS: the enum, the
 * table in reason.c, the metrics and the tests' names all come from it, so
 * a new reason is one line here. A second list, CKA_FAULTS, names what the
 * core says about things that are not a request (a key, a key document, a
 * fetch, a cached record): the same enum, after CKA_REASON_COUNT, so no
 * metric, status row or answer is made of them. err.h carries either kind
 * with a detail text. */
#ifndef CKA_REASON_H
#define CKA_REASON_H

/* X(name, code, text, HTTP status, RFC 6750 error or NULL) */
#define CKA_INV "invalid_token"
#define CKA_IUA "insufficient_user_authentication"   /* RFC 9470 */
#define CKA_REASONS(X) \
    X(OK,               "ok",                  "ok",                                   200, NULL) \
    X(NO_TOKEN,         "no_token",            "no bearer token in the request",       401, NULL) \
    X(BAD_REQUEST,      "bad_request",         "malformed Authorization header",       401, "invalid_request") \
    X(TOKEN_TOO_LARGE,  "token_too_large",     "token is too large",                   401, CKA_INV) \
    X(MALFORMED,        "malformed_token",     "token is malformed",                   401, CKA_INV) \
    X(ALG_NOT_ALLOWED,  "alg_not_allowed",     "signing algorithm is not allowed",     401, CKA_INV) \
    X(UNSUPPORTED_HEADER, "unsupported_header", "token header is not supported",       401, CKA_INV) \
    X(WRONG_TYPE,       "wrong_type",          "token type is not accepted",           401, CKA_INV) \
    X(WRONG_ISSUER,     "wrong_issuer",        "token issuer is not trusted",          401, CKA_INV) \
    X(UNKNOWN_KEY,      "unknown_key",         "token signing key is unknown",         401, CKA_INV) \
    X(KEY_MISMATCH,     "key_mismatch",        "algorithm does not fit the key",       401, CKA_INV) \
    X(BAD_SIGNATURE,    "bad_signature",       "token signature is invalid",           401, CKA_INV) \
    X(TOKEN_EXPIRED,    "token_expired",       "token has expired",                    401, CKA_INV) \
    X(NOT_YET_VALID,    "token_not_yet_valid", "token is not valid yet",               401, CKA_INV) \
    X(ISSUED_IN_FUTURE, "issued_in_future",    "token was issued in the future",       401, CKA_INV) \
    X(BAD_TIME_CLAIM,   "bad_time_claim",      "exp, nbf or iat is missing or invalid", 401, CKA_INV) \
    X(WRONG_AUDIENCE,   "wrong_audience",      "token audience is not accepted",       401, CKA_INV) \
    X(NO_USER,          "no_user_claim",       "token has no user claim",              401, CKA_INV) \
    X(KEYS_UNAVAILABLE, "keys_unavailable",    "issuer keys are not available yet",    503, NULL) \
    X(GROUP_DENIED,     "group_denied",        "required group missing",               403, "insufficient_scope") \
    X(CLAIM_DENIED,     "claim_denied",        "required claim missing",               403, "insufficient_scope") \
    X(NOT_CONFIGURED,   "not_configured",      "authentication is not configured",     500, NULL) \
    X(INTERNAL,         "internal_error",      "internal error",                       500, NULL) \
    X(UNSUPPORTED_KEY,  "unsupported_key",     "token signing key is not supported",   401, CKA_INV) \
    X(OPAQUE_REFUSED,   "opaque_token_refused", "not a JWT from a trusted issuer",     401, CKA_INV) \
    X(CREDENTIAL_DENIED, "credential_denied",  "this kind of credential is not admitted here", 403, "insufficient_scope") \
    X(BAD_CLIENT_CREDENTIALS, "bad_client_credentials", "malformed client credentials", 401, "invalid_request") \
    X(CLIENT_CREDENTIALS_REFUSED, "client_credentials_refused", "the identity provider refused the client credentials", 401, CKA_INV) \
    X(TOKEN_ENDPOINT_UNAVAILABLE, "token_endpoint_unavailable", "the token endpoint is not available", 503, NULL) \
    X(SCOPE_DENIED,     "scope_denied",        "required scope missing",               403, "insufficient_scope") \
    X(ACR_DENIED,       "acr_denied",          "a stronger authentication is required", 401, CKA_IUA) \
    X(AUTH_TOO_OLD,     "auth_too_old",        "a more recent authentication is required", 401, CKA_IUA) \
    X(STEP_UP,          "step_up_required",    "a stronger and more recent authentication is required", 401, CKA_IUA) \
    X(TOKEN_LIFETIME_TOO_LONG, "token_lifetime_too_long", "token lifetime is too long or iat is missing", 401, CKA_INV) \
    X(TOKEN_INACTIVE,   "token_inactive",      "token is not active",                  401, CKA_INV) \
    X(INTROSPECTION_UNAVAILABLE, "introspection_unavailable", "the introspection endpoint is not available", 503, NULL) \
    X(BINDING_MISSING,  "binding_missing",     "token is bound to a key or certificate that the request does not prove", 401, CKA_INV) \
    X(BINDING_REQUIRED, "binding_required",    "a sender-constrained token is required here", 401, CKA_INV) \
    X(DPOP_INVALID,     "dpop_invalid",        "DPoP proof is invalid",                401, "invalid_dpop_proof") \
    X(DPOP_REPLAY,      "dpop_replay",         "DPoP proof was used before",           401, "invalid_dpop_proof") \
    X(DPOP_NONCE,       "use_dpop_nonce",      "a DPoP nonce is required",             401, "use_dpop_nonce") \
    X(DPOP_UNAVAILABLE, "dpop_replay_check_unavailable", "the DPoP replay check is not available", 503, NULL)

/* X(name, code, text): faults outside a request's answer (answered as 500
 * when one ever reaches a request). */
#define CKA_FAULTS(X) \
    X(KEY_UNUSABLE,      "key_unusable",        "key is not one for signature verification") \
    X(KEY_UNTRUSTED,     "key_untrusted",       "key fails a sanity rule") \
    X(KEYSET_INVALID,    "keyset_invalid",      "key document holds no usable key") \
    X(FILE_UNREADABLE,   "file_unreadable",     "file cannot be read") \
    X(FETCH_FAILED,      "fetch_failed",        "fetch from the identity provider failed") \
    X(DISCOVERY_INVALID, "discovery_invalid",   "discovery document is not usable") \
    X(RECORD_INVALID,    "record_invalid",      "record is not well framed") \
    X(RECORD_TOO_LARGE,  "record_too_large",    "a field does not fit the record") \
    X(CRYPTO_FAILED,     "crypto_failed",       "OpenSSL failed")

typedef enum {
#define CKA_X_ENUM(name, code, text, status, oauth) CKA_##name,
    CKA_REASONS(CKA_X_ENUM)
#undef CKA_X_ENUM
    CKA_REASON_COUNT,
#define CKA_X_FAULT(name, code, text) CKA_##name,
    CKA_FAULTS(CKA_X_FAULT)
#undef CKA_X_FAULT
    CKA_CODE_COUNT
} cka_reason_t;

/* Short stable code, e.g. "token_expired" (CONDUKTOR_AUTH_ERROR, metrics);
 * a fault's too ("keyset_invalid"). */
const char *cka_reason_code(cka_reason_t r);
/* Short human text for error_description; never contains token data. */
const char *cka_reason_text(cka_reason_t r);
/* HTTP status the module answers with: 401, 403, 503 or 500. */
int cka_reason_status(cka_reason_t r);
/* RFC 6750 error code: "invalid_token", "invalid_request",
 * "insufficient_scope", RFC 9470 "insufficient_user_authentication", or NULL (no token: bare challenge; 5xx). */
const char *cka_reason_oauth_error(cka_reason_t r);

#endif
