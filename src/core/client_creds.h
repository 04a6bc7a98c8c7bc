/* client_creds.h - the OAuth 2.0 client credentials grant (RFC 6749 §4.4)
 * as ConduktorAuthClientCredentials does it: the client's
 * "Authorization: Basic" value read strictly, the request body made, the
 * token endpoint's answer parsed strictly, and the sealed record under
 * which an exchanged token (or a refusal) is remembered. Part of the core:
 * no httpd header, no I/O (the POST is cka_fetch_post in fetch.h). */
#ifndef CKA_CLIENT_CREDS_H
#define CKA_CLIENT_CREDS_H
#include <stddef.h>
#include <apr_pools.h>
#include "seal.h"

#define CKA_CC_MAX_BASIC   4096          /* base64 characters of the value */
#define CKA_CC_MAX_PART    1024          /* bytes of client_id or secret,
                                            decoded                        */
#define CKA_CC_MAX_ANSWER  (64 * 1024)   /* bytes of a token-endpoint answer */
#define CKA_CC_REUSE_MARGIN 30           /* reuse until this long before exp */
#define CKA_CC_REFUSED_TTL  5            /* a refused pair is not retried  */

/* The client's pair, decoded (RFC 6749 §2.3.1: each part
 * x-www-form-urlencoded inside the Basic value). NUL-terminated. */
typedef struct {
    const char *id;
    size_t      id_len;
    const char *secret;
    size_t      secret_len;
} cka_cc_pair_t;

/* What the directive asks the token endpoint for. NULL: not sent. */
typedef struct {
    const char *endpoint;       /* https:// URL                             */
    const char *scope;
    const char *resource;       /* RFC 8707                                 */
    const char *audience;
} cka_cc_target_t;

/* Decode the credentials of "Authorization: Basic <b64>" (b64: len bytes,
 * without the scheme). Strict: standard base64 with its padding, nothing
 * else; "id:secret" split at the first colon; each part form-urldecoded
 * ('+' is a space, %XX a byte); the id not empty; both valid UTF-8 without
 * control characters, at most CKA_CC_MAX_PART bytes. 0, or -1 with *why (a
 * static text that names no byte of the input). */
int cka_cc_basic_decode(apr_pool_t *p, const char *b64, size_t len,
                        cka_cc_pair_t *out, const char **why);

/* The Authorization value sent to the token endpoint: "Basic " +
 * base64(formenc(id) ":" formenc(secret)) (client_secret_basic). */
const char *cka_cc_basic_header(apr_pool_t *p, const cka_cc_pair_t *pair);

/* application/x-www-form-urlencoded of s (alphanumerics and "*-._" kept,
 * space as '+', every other byte %XX). */
const char *cka_cc_form_encode(apr_pool_t *p, const char *s, size_t len);

/* The request body: grant_type=client_credentials, then scope, resource
 * and audience when set. */
const char *cka_cc_request_body(apr_pool_t *p, const cka_cc_target_t *t);

typedef enum {
    CKA_CC_TOKEN = 1,     /* an access token                                */
    CKA_CC_REFUSED,       /* the IdP refused this client (invalid_client...)*/
    CKA_CC_BAD            /* anything else: an answer that cannot be used   */
} cka_cc_outcome_t;

typedef struct {
    const char *token;          /* CKA_CC_TOKEN: the access token          */
    size_t      token_len;
    long long   expires_in;     /* -1 when absent                          */
    const char *error;          /* CKA_CC_REFUSED (and BAD when the IdP
                                   sent one): the OAuth error code, log-safe
                                   (visible ASCII, at most 64 characters)  */
    const char *why;            /* CKA_CC_BAD: why, for the log (names no
                                   token or secret)                         */
} cka_cc_answer_t;

/* Parse the token endpoint's answer to a client-credentials request.
 * status: the HTTP status (200 for a token; 400 or 401 with an OAuth error
 * object for a refusal). The body must be one JSON object (strict parser,
 * at most CKA_CC_MAX_ANSWER bytes). A token answer needs access_token (a
 * non-empty string of visible ASCII, at most CKA_MAX_TOKEN_LEN bytes),
 * token_type "Bearer" in any case (DPoP, N_A and others are refused) and,
 * when present, expires_in a positive integer. Refusals are the errors
 * about the client: invalid_client, unauthorized_client, invalid_grant,
 * invalid_scope, access_denied; any other error is CKA_CC_BAD. */
cka_cc_outcome_t cka_cc_parse_answer(apr_pool_t *p, long status, const char *body,
                                     size_t len, cka_cc_answer_t *out);

/* The exp claim of tok when it is a JWS-shaped token whose payload is a
 * JSON object with an integer exp (read, not verified: only to decide how
 * long to reuse it; the token is verified on every use). -1 otherwise. */
long long cka_cc_token_exp(apr_pool_t *p, const char *tok, size_t len);

/* Until when (Unix seconds) an exchanged token may be reused: the earlier
 * of its exp and now + expires_in, less CKA_CC_REUSE_MARGIN. 0 when it may
 * not be reused (neither known, or too close). */
long long cka_cc_reuse_until(long long now, long long exp, long long expires_in);

/* The keyed lookup name of (target, pair): HMAC (seal.h, kind
 * CKA_SEAL_CLIENT) over every field, each length-prefixed. 0 or -1. */
int cka_cc_name(const cka_seal_t *s, const cka_cc_target_t *t, const cka_cc_pair_t *pair,
                unsigned char out[CKA_SEAL_NAME_LEN]);

/* What is remembered under that name: a token, a refusal, or a marker
 * that lets other processes and hosts wait for one exchange (mark 'P': an
 * exchange is under way; 'F': the last one failed). */
typedef struct {
    int          mark;          /* 0, or 'P' / 'F' (then no token)          */
    int          refused;       /* 1: the IdP refused the pair             */
    long long    until;         /* Unix seconds                             */
    const char  *token;         /* refused == 0                             */
    size_t       token_len;
} cka_cc_record_t;

/* Plaintext "CKC1", kind ('T' token, 'R' refused, 'P' pending, 'F'
 * failed), until (8 bytes, big-endian), the token ('T' only). Sealed for kind CKA_SEAL_CLIENT under the name. */
int cka_cc_record_seal(const cka_seal_t *s, apr_pool_t *p,
                       const unsigned char name[CKA_SEAL_NAME_LEN],
                       const cka_cc_record_t *rec, unsigned char **out, size_t *out_len);
/* Open and check exactly (a token as strict as from the IdP). 0 or -1. */
int cka_cc_record_open(const cka_seal_t *s, apr_pool_t *p,
                       const unsigned char name[CKA_SEAL_NAME_LEN],
                       const unsigned char *buf, size_t len, cka_cc_record_t *out);

/* A string of visible ASCII (0x21..0x7e), 1 to CKA_MAX_TOKEN_LEN bytes. */
int cka_cc_token_ok(const char *tok, size_t len);

#endif
