/* reason.c - the table of refusal reasons. */
#include "reason.h"
#include <stddef.h>

typedef struct {
    const char *code;
    const char *text;
    int         status;
    const char *oauth;
} reason_row_t;

#define INV "invalid_token"
static const reason_row_t rows[CKA_REASON_COUNT] = {
    [CKA_OK]                 = { "ok",                 "ok",                                 200, NULL },
    [CKA_NO_TOKEN]           = { "no_token",           "no bearer token in the request",     401, NULL },
    [CKA_BAD_REQUEST]        = { "bad_request",        "malformed Authorization header",     401, "invalid_request" },
    [CKA_TOKEN_TOO_LARGE]    = { "token_too_large",    "token is too large",                 401, INV },
    [CKA_MALFORMED]          = { "malformed_token",    "token is malformed",                 401, INV },
    [CKA_ALG_NOT_ALLOWED]    = { "alg_not_allowed",    "signing algorithm is not allowed",   401, INV },
    [CKA_UNSUPPORTED_HEADER] = { "unsupported_header", "token header is not supported",      401, INV },
    [CKA_WRONG_TYPE]         = { "wrong_type",         "token type is not accepted",         401, INV },
    [CKA_WRONG_ISSUER]       = { "wrong_issuer",       "token issuer is not trusted",        401, INV },
    [CKA_UNKNOWN_KEY]        = { "unknown_key",        "token signing key is unknown",       401, INV },
    [CKA_KEY_MISMATCH]       = { "key_mismatch",       "algorithm does not fit the key",     401, INV },
    [CKA_BAD_SIGNATURE]      = { "bad_signature",      "token signature is invalid",         401, INV },
    [CKA_TOKEN_EXPIRED]      = { "token_expired",      "token has expired",                  401, INV },
    [CKA_NOT_YET_VALID]      = { "token_not_yet_valid","token is not valid yet",             401, INV },
    [CKA_ISSUED_IN_FUTURE]   = { "issued_in_future",   "token was issued in the future",     401, INV },
    [CKA_BAD_TIME_CLAIM]     = { "bad_time_claim",     "exp, nbf or iat is missing or invalid", 401, INV },
    [CKA_WRONG_AUDIENCE]     = { "wrong_audience",     "token audience is not accepted",     401, INV },
    [CKA_NO_USER]            = { "no_user_claim",      "token has no user claim",            401, INV },
    [CKA_KEYS_UNAVAILABLE]   = { "keys_unavailable",   "issuer keys are not available yet",  503, NULL },
    [CKA_GROUP_DENIED]       = { "group_denied",       "required group missing",             403, "insufficient_scope" },
    [CKA_CLAIM_DENIED]       = { "claim_denied",       "required claim missing",             403, "insufficient_scope" },
    [CKA_NOT_CONFIGURED]     = { "not_configured",     "authentication is not configured",   500, NULL },
    [CKA_INTERNAL]           = { "internal_error",     "internal error",                     500, NULL },
};

static const reason_row_t *row(cka_reason_t r)
{
    if ((int)r < 0 || r >= CKA_REASON_COUNT || rows[r].code == NULL)
        return &rows[CKA_INTERNAL];
    return &rows[r];
}

const char *cka_reason_code(cka_reason_t r) { return row(r)->code; }
const char *cka_reason_text(cka_reason_t r) { return row(r)->text; }
int cka_reason_status(cka_reason_t r) { return row(r)->status; }
const char *cka_reason_oauth_error(cka_reason_t r) { return row(r)->oauth; }
