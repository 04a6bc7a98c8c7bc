/* introspection.h - RFC 7662 token introspection as ConduktorAuthIntrospect
 * does it, the pure parts: the request body for each client
 * authentication, the RFC 7523 client assertion (private_key_jwt), the
 * strict reading of the endpoint's answer, the per-request checks of an
 * active answer (the same claim rules as a JWT), and the sealed record
 * under which an answer is remembered in the token cache. Part of the
 * core: no httpd header, no I/O (the POST is cka_fetch_post in fetch.h).
 *
 * An active answer becomes the token's claims: the JSON object the
 * identity extractor and the Require providers read, as they read a JWT's
 * payload (one code path). */
#ifndef CKA_INTROSPECT_H
#define CKA_INTROSPECT_H
#include <stddef.h>
#include <jansson.h>
#include <apr_pools.h>
#include <openssl/evp.h>
#include "reason.h"
#include "seal.h"
#include "validate.h"

#define CKA_IS_MAX_ANSWER    (64 * 1024)  /* bytes of an endpoint's answer  */
#define CKA_IS_INACTIVE_TTL  10           /* an inactive answer is reused   */
#define CKA_IS_ASSERTION_TTL 60           /* exp - iat of a client assertion */
#define CKA_IS_BIND_LEN      32           /* an introspection binding id    */

/* How the module authenticates to the introspection endpoint. */
typedef enum {
    CKA_IS_AUTH_BASIC = 1,    /* client_secret_basic                          */
    CKA_IS_AUTH_POST,         /* client_secret_post                           */
    CKA_IS_AUTH_JWT,          /* private_key_jwt (RFC 7523)                   */
    CKA_IS_AUTH_TLS           /* tls_client_auth (RFC 8705 §2)                */
} cka_is_auth_t;

/* "client_secret_basic", ... (for logs and the status page). */
const char *cka_is_auth_name(cka_is_auth_t a);

/* The POST body: token=<tok>&token_type_hint=access_token, then what the
 * client authentication puts in the form: client_id and client_secret
 * (POST), client_id, client_assertion_type and client_assertion (JWT),
 * client_id (TLS); nothing for BASIC (the pair goes in the header,
 * cka_cc_basic_header). Every value form-urlencoded. */
const char *cka_is_request_body(apr_pool_t *p, const char *tok, size_t len,
                                cka_is_auth_t auth, const char *client_id,
                                const char *secret, size_t secret_len,
                                const char *assertion);

/* ---- what the directive names, read once (as root) ------------------------*/

/* A client secret file: a regular file of at most 4096 bytes; one trailing
 * line end (LF or CRLF) is not part of the secret; the rest must be
 * non-empty printable text (no control character). 0 with *secret (from
 * p, wiped when p is cleared) or -1 with *why (names the path, never the
 * content). */
int cka_is_read_secret(apr_pool_t *p, const char *path, const char **secret,
                       size_t *len, const char **why);

/* A TLS client certificate and its private key, both PEM (at most 1 MiB
 * each): the certificate must parse, the key must be a private key that
 * belongs to it. 0 with both files' bytes (from p; the key's wiped when p
 * is cleared) or -1 with *why (names the paths only). */
int cka_is_load_client_cert(apr_pool_t *p, const char *cert_path, const char *key_path,
                            const char **cert_pem, size_t *cert_len,
                            const char **key_pem, size_t *key_len, const char **why);

/* ---- private_key_jwt --------------------------------------------------------*/

/* Read a PEM private key for client assertions: RSA of 2048 to 8192 bits
 * (RS256), EC P-256 / P-384 / P-521 (ES256 / ES384 / ES512) or Ed25519
 * (EdDSA); anything else refused. The key is tried once (a signature made
 * and verified). *alg gets the JWS algorithm name. NULL with *why (from p;
 * names the path, never the key) on failure. The key is freed with p. */
EVP_PKEY *cka_is_load_private_key(apr_pool_t *p, const char *path, const char **alg,
                                  const char **why);

/* A fresh client assertion (RFC 7523 §3): header {"alg":<alg>,"typ":"JWT"},
 * claims iss = sub = client_id, aud, jti (128 random bits, base64url), iat
 * = now, exp = now + CKA_IS_ASSERTION_TTL; signed with key. NULL with
 * *why (static text) when signing fails. */
const char *cka_is_client_assertion(apr_pool_t *p, EVP_PKEY *key, const char *alg,
                                    const char *client_id, const char *aud,
                                    long long now, const char **why);

/* ---- the answer -------------------------------------------------------------*/

typedef enum {
    CKA_IS_ACTIVE = 1,        /* "active": true; *claims is the answer       */
    CKA_IS_INACTIVE,          /* "active": false                             */
    CKA_IS_BAD                /* no usable answer: fail closed (503)         */
} cka_is_outcome_t;

/* Read the endpoint's answer: HTTP 200, at most CKA_IS_MAX_ANSWER bytes,
 * one JSON object under the strict parser (duplicate names, NUL, depth
 * over CKA_MAX_JSON_DEPTH refused), "active" a JSON boolean. ACTIVE with
 * *claims (from p): the answer, with "iss" set to issuer when the answer
 * has none (an "iss" that is there is kept as it is and judged by
 * cka_is_check). BAD with *why (from p; names no token or secret). */
cka_is_outcome_t cka_is_parse_answer(apr_pool_t *p, long status, const char *body,
                                     size_t len, const char *issuer, json_t **claims,
                                     const char **why);

/* Does an answer's token_type name an access token? (Bearer, DPoP,
 * access_token, the RFC 8693 access-token URN, at+jwt; case-insensitive.)
 * Anything else - refresh_token, Refresh, ID, Offline, a non-string (NULL)
 * - is not: an answer saying so is inactive. An answer without
 * token_type is taken as about an access token. */
int cka_is_access_token_type(const char *t);

/* The checks of an active answer, applied on every request (fresh or
 * cached), with the rules of the location asking: "active" is true; "iss"
 * equals issuer (CKA_WRONG_ISSUER); exp, when present, and nbf, iat as
 * for a JWT with pol->skew (exp is not required); the lifetime limit
 * (pol->max_lifetime: exp and iat then required); aud as for a JWT (an
 * answer without aud passes only pol->any_audience). pol NULL: "active"
 * and "iss" only (ConduktorAuthIntrospectJWT: the JWT's own claims were
 * checked). */
cka_reason_t cka_is_check(const json_t *claims, const char *issuer, const cka_policy_t *pol,
                          long long now);

/* Until when (Unix seconds) an answer may be reused: active, the earlier
 * of its exp (when an integer) and now + ttl; inactive, now + the earlier
 * of CKA_IS_INACTIVE_TTL and ttl. At least now + 1 when ttl > 0. */
long long cka_is_reuse_until(const json_t *claims, int active, long long now, int ttl);

/* ---- the cache ---------------------------------------------------------------*/

/* The identity of one introspection configuration: SHA-256 over a label,
 * the issuer's binding id (key_store.h), the endpoint (or "discover"), the
 * client_id and the client authentication. An answer obtained under one
 * is never used under another. 0 or -1. */
int cka_is_binding_id(const unsigned char *issuer_binding, size_t blen,
                      const char *endpoint, const char *client_id, cka_is_auth_t auth,
                      unsigned char out[CKA_IS_BIND_LEN]);

/* The keyed lookup name of a token's answer under a binding: HMAC (kind
 * CKA_SEAL_INTROSPECT) over the binding id and the token. 0 or -1. */
int cka_is_name(const cka_seal_t *s, const unsigned char binding[CKA_IS_BIND_LEN],
                const char *tok, size_t len, unsigned char out[CKA_SEAL_NAME_LEN]);

/* What is remembered under that name. */
typedef struct {
    int            state;      /* 'A' active, 'I' inactive, 'P' a call is
                                  under way, 'F' the last call failed      */
    long long      until;      /* Unix seconds                            */
    long long      at;         /* when the IdP answered (Unix seconds):
                                  each reader caps the reuse by its own
                                  ConduktorAuthIntrospectTTL from here   */
    unsigned char  binding[CKA_IS_BIND_LEN];
    const char    *answer;     /* 'A': the answer's compact JSON           */
    size_t         answer_len;
    json_t        *claims;     /* 'A', after open: parsed strictly         */
} cka_is_record_t;

/* Until when a reader with its own ttl may reuse a record answered at
 * `at` and stored until `until`: the earlier of until and at + ttl
 * (active) or at + min(ttl, CKA_IS_INACTIVE_TTL) (inactive). */
long long cka_is_reader_until(const cka_is_record_t *rec, int ttl);


/* Plaintext "CKI2", state, until and at (8 bytes each, big-endian), binding, answer
 * ('A' only); sealed for kind CKA_SEAL_INTROSPECT under the name. */
int cka_is_record_seal(const cka_seal_t *s, apr_pool_t *p,
                       const unsigned char name[CKA_SEAL_NAME_LEN],
                       const cka_is_record_t *rec, unsigned char **out, size_t *out_len);
/* Open and check exactly; an 'A' record's answer is parsed again strictly
 * into claims. 0 or -1. */
int cka_is_record_open(const cka_seal_t *s, apr_pool_t *p,
                       const unsigned char name[CKA_SEAL_NAME_LEN],
                       const unsigned char *buf, size_t len, cka_is_record_t *out);

#endif
