/* dpop.h - RFC 9449 DPoP proofs: every check of the SPEC's list on one
 * proof, the htu normalisation, the replay-cache name of a proof and the
 * stateless server nonces. The proof's jwk goes through the token
 * verifier's own key import (keyset.c, key.c) and signature code
 * (verify.c): one verifier, not two. Part of the core: no httpd header. */
#ifndef CKA_DPOP_H
#define CKA_DPOP_H
#include <stddef.h>
#include <apr_pools.h>
#include "alg.h"
#include "key.h"
#include "reason.h"
#include "seal.h"

#define CKA_DPOP_MAX_LEN      8192  /* bytes of a proof (a jwk of RSA-4096 fits) */
#define CKA_DPOP_MAX_JTI      256   /* bytes of its jti                      */
#define CKA_DPOP_MAX_URL      8192  /* bytes of an htu or a request URL      */
#define CKA_DPOP_NONCE_STEP   60    /* seconds of one nonce time step        */

/* The proof algorithms of the SPEC's default (ConduktorAuthDPoPAlgorithms). */
#define CKA_DPOP_ALGS_DEFAULT \
    (CKA_ALG_BIT(CKA_ALG_ES256) | CKA_ALG_BIT(CKA_ALG_ES384) | CKA_ALG_BIT(CKA_ALG_PS256) | \
     CKA_ALG_BIT(CKA_ALG_RS256) | CKA_ALG_BIT(CKA_ALG_EDDSA))

/* What was wrong with a refused proof: X(name, code, text). The codes
 * label the status page's counters; the texts go to the log (no proof
 * data in them). Replays and an unusable replay cache are counted apart. */
#define CKA_DPOP_DEFECTS(X) \
    X(NONE,        "none",          "no defect") \
    X(HEADER,      "header",        "no DPoP header, or more than one") \
    X(SIZE,        "size",          "proof too large") \
    X(MALFORMED,   "malformed",     "proof is not a well-formed compact JWS") \
    X(TYP,         "typ",           "typ is not dpop+jwt") \
    X(ALG,         "alg",           "alg is not an allowed asymmetric algorithm") \
    X(JWK,         "jwk",           "jwk header missing or not a usable public key") \
    X(JWK_PRIVATE, "jwk_private",   "jwk header holds private key material") \
    X(SIGNATURE,   "signature",     "proof signature is invalid") \
    X(HTM,         "htm",           "htm does not match the request method") \
    X(HTU,         "htu",           "htu does not match the request URL") \
    X(IAT,         "iat",           "iat missing or outside the window") \
    X(JTI,         "jti",           "jti missing, not a string or too long") \
    X(ATH,         "ath",           "ath missing or not the hash of the token") \
    X(JKT,         "jkt",           "the token's cnf.jkt is not the thumbprint of the proof's key") \
    X(UNBOUND,     "unbound",       "a token without cnf.jkt sent with the DPoP scheme") \
    X(NONCE,       "nonce",         "nonce missing, stale or not ours") \
    X(REPLAY,      "replay",        "proof (jti) was used before") \
    X(UNAVAILABLE, "unavailable",   "the replay cache is not usable")

typedef enum {
#define CKA_X_DEFECT(name, code, text) CKA_DPD_##name,
    CKA_DPOP_DEFECTS(CKA_X_DEFECT)
#undef CKA_X_DEFECT
    CKA_DPD_COUNT
} cka_dpop_defect_t;

const char *cka_dpop_defect_code(cka_dpop_defect_t d);
const char *cka_dpop_defect_text(cka_dpop_defect_t d);

/* Proof keys already imported, per process: a client signs its proofs
 * with one key for a long time, and importing it (EC point checks, the
 * RFC 7638 thumbprint, OpenSSL's key and verification context set-up)
 * costs about half a verification. Looked up by the SHA-256 of the jwk
 * header's canonical JSON (sorted members, all of them) and the alg, so a
 * jwk is imported again whenever any member differs; an entry holds the
 * key's kind, its thumbprint and a prepared verification context, copied
 * for each use (the key itself is never shared with a request). Slots are
 * direct-mapped; a new key evicts the one in its slot. Safe from any
 * number of threads (one mutex held for a lookup or an insert, never
 * during a verification). */
typedef struct cka_dpop_keys_t cka_dpop_keys_t;
cka_dpop_keys_t *cka_dpop_keys_create(apr_pool_t *p, int slots);

/* What one proof is checked against. */
typedef struct {
    cka_alg_set_t  algs;        /* allowed proof algorithms (asymmetric)    */
    const char    *method;      /* the request's method                     */
    const char    *url;         /* scheme://host[:port]/path of the request
                                 * (query and fragment, if any, ignored)    */
    const char    *token;       /* the access token, for ath                */
    size_t         token_len;
    const char    *jkt;         /* the token's cnf.jkt (NULL: not bound:
                                 * CKA_DPD_UNBOUND)                         */
    long long      now;
    int            window;      /* ConduktorAuthDPoPWindow                  */
    int            skew;        /* ConduktorAuthClockSkew                   */
    const cka_seal_t *nonce_seal; /* non-NULL: a current nonce is required */
    cka_dpop_keys_t  *keys;     /* NULL: import the jwk every time          */
} cka_dpop_check_t;

/* What a proof told. */
typedef struct {
    cka_dpop_defect_t defect;   /* CKA_DPD_NONE when accepted             */
    const char   *detail;       /* static text: what exactly (for the log) */
    cka_alg_t     alg;
    const char   *jti;          /* accepted proof: its jti                  */
    size_t        jti_len;
    unsigned char thumb[CKA_THUMB_LEN]; /* of its jwk                      */
    long long     iat;
} cka_dpop_result_t;

/* Check one proof (the value of the DPoP header) against c, in this
 * order: size, compact JWS (jws.c's strict parser), typ, alg, jwk (public
 * only, imported by keyset.c), signature (verify.c), htm, htu, iat, jti,
 * ath, cnf.jkt, nonce. CKA_OK; CKA_DPOP_NONCE (a proof good but for its
 * nonce); CKA_DPOP_INVALID with out->defect and out->detail. The replay
 * check is the caller's (cka_dpop_replay_name). */
cka_reason_t cka_dpop_verify(apr_pool_t *p, const char *proof, size_t len,
                             const cka_dpop_check_t *c, cka_dpop_result_t *out);

/* RFC 3986 §6.2.2 normalisation of an http(s) URL for the htu
 * comparison: scheme and host in lower case, the default port (80, 443)
 * dropped, an empty path made "/", percent-encodings of unreserved
 * characters decoded and the others' hex digits in upper case; query and
 * fragment dropped. NULL for anything else (another scheme, userinfo, a
 * bad port or percent-encoding, a control character or blank, too long). */
char *cka_dpop_norm_url(apr_pool_t *p, const char *url, size_t len);

/* The replay cache's lookup name of an accepted proof: keyed (seal name
 * key) over its key's thumbprint and its jti, so nothing in the cache says
 * which jti or key it was. 0, or -1. */
int cka_dpop_replay_name(const cka_seal_t *s, const cka_dpop_result_t *res,
                         unsigned char name[CKA_SEAL_NAME_LEN]);

/* Stateless nonces: the time step (now / CKA_DPOP_NONCE_STEP) and a MAC
 * of it under the seal's name key, base64url (32 characters); valid on
 * every host sharing the cache secret, for the current and the previous
 * step. make: NULL when the MAC fails. check: 1 when nonce is current. */
char *cka_dpop_nonce_make(apr_pool_t *p, const cka_seal_t *s, long long now);
int   cka_dpop_nonce_check(const cka_seal_t *s, const char *nonce, size_t len,
                           long long now);

#endif
