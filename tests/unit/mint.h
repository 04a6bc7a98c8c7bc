/* mint.h - test-time keys and tokens, made with OpenSSL 3 at run time.
 *
 * No key or token is checked in: every key is generated when the test
 * program starts (mint_init(), before Check forks, so every test process
 * shares the same keys) and every token is signed while the test runs,
 * with exp/iat taken from time(NULL).
 *
 * mint does not use the code under test: its base64url, JWK export and
 * signatures are written here again on purpose, straight on OpenSSL.
 * Everything returned lives in the apr pool passed in. */
#ifndef TU_MINT_H
#define TU_MINT_H
#include <stddef.h>
#include <apr_pools.h>
#include <openssl/evp.h>
#include "alg.h"

typedef enum {
    MINT_RSA = 0,   /* RSA-2048                */
    MINT_P256,      /* EC P-256                */
    MINT_P384,      /* EC P-384                */
    MINT_P521,      /* EC P-521                */
    MINT_ED25519,   /* OKP Ed25519             */
    MINT_HMAC,      /* 64 random bytes (oct)   */
    MINT_KIND_COUNT
} mint_kind_t;

/* Which copy of a kind: the trusted one published to the code under test,
 * or the attacker's, never published. */
#define MINT_TRUSTED  0
#define MINT_ATTACKER 1

typedef struct {
    mint_kind_t    kind;
    EVP_PKEY      *pkey;          /* NULL for MINT_HMAC */
    unsigned char  secret[64];    /* MINT_HMAC only     */
    size_t         secret_len;
} mint_key_t;

/* Generate every key (both copies of every kind). Call once, before the
 * test runner forks. Aborts the program when OpenSSL fails. */
void mint_init(void);
const mint_key_t *mint_key(mint_kind_t kind, int which);
/* The key kind that signs alg (RS/PS -> RSA, ES256 -> P-256, ...). */
mint_kind_t mint_kind_for_alg(cka_alg_t alg);
const char *mint_alg_name(cka_alg_t alg);
/* Length of a correct signature for alg (RSA-2048: 256, ES256: 64, ...). */
size_t mint_sig_len(cka_alg_t alg);

long long mint_now(void);

/* --- encodings ------------------------------------------------------- */
char *mint_b64url(apr_pool_t *p, const void *data, size_t len);
char *mint_b64url_str(apr_pool_t *p, const char *s);
/* Standard base64 with padding (as x5c uses). */
char *mint_b64std(apr_pool_t *p, const void *data, size_t len);

/* --- public key export ----------------------------------------------- */
/* A JWK for k's public part (the secret for MINT_HMAC). extra: NULL, or
 * more members as JSON text without braces, e.g. "\"kid\":\"a\"". */
char *mint_jwk(apr_pool_t *p, const mint_key_t *k, const char *extra);
/* {"keys":[jwk1,jwk2,...]} from n JWK texts. */
char *mint_jwks(apr_pool_t *p, int n, ...);
/* PEM "PUBLIC KEY" (SubjectPublicKeyInfo). */
char *mint_pem_public(apr_pool_t *p, const mint_key_t *k);
/* PEM "RSA PUBLIC KEY" (PKCS#1), RSA only. */
char *mint_pem_rsa_pkcs1(apr_pool_t *p, const mint_key_t *k);
/* A self-signed certificate for k, PEM, or DER in standard base64. */
char *mint_pem_cert(apr_pool_t *p, const mint_key_t *k);
char *mint_cert_b64der(apr_pool_t *p, const mint_key_t *k);
/* The DER SubjectPublicKeyInfo bytes. */
unsigned char *mint_spki_der(apr_pool_t *p, const mint_key_t *k, size_t *len);

/* --- signing --------------------------------------------------------- */
/* Sign data with k for alg. der != 0 keeps an ECDSA signature in DER
 * instead of JOSE's raw r||s. Returns 0 on success. */
int mint_sign(apr_pool_t *p, const mint_key_t *k, cka_alg_t alg,
              const void *data, size_t len, int der,
              unsigned char **sig, size_t *sig_len);
/* HMAC with an arbitrary secret (for HS tokens keyed with public bytes). */
int mint_hmac(apr_pool_t *p, const void *secret, size_t slen, cka_alg_t alg,
              const void *data, size_t len,
              unsigned char **sig, size_t *sig_len);

/* Compact JWS: b64(header_json).b64(payload_json).b64(signature), signed
 * with k using alg whatever header_json says. NULL on failure. */
char *mint_token(apr_pool_t *p, const mint_key_t *k, cka_alg_t alg,
                 const char *header_json, const char *payload_json);
char *mint_token_der(apr_pool_t *p, const mint_key_t *k, cka_alg_t alg,
                     const char *header_json, const char *payload_json);
char *mint_token_secret(apr_pool_t *p, const void *secret, size_t slen,
                        cka_alg_t alg, const char *header_json,
                        const char *payload_json);
/* b64(header).b64(payload).b64(sig) with the given signature bytes. */
char *mint_compact(apr_pool_t *p, const char *header_json,
                   const char *payload_json,
                   const unsigned char *sig, size_t sig_len);

/* A JWS header {"alg":..,"kid":..<,extra>}; kid NULL: none. */
char *mint_header(apr_pool_t *p, const char *alg, const char *kid,
                  const char *extra);
/* A claims set with iss, aud (JSON text, NULL: none), sub, email, iat=now,
 * exp=now+exp_delta, plus extra members (JSON text without braces). */
char *mint_claims(apr_pool_t *p, const char *iss, const char *aud_json,
                  long long exp_delta, const char *extra);

/* A token of exactly target bytes: header {"alg":..,"kid":kid,"x":".."},
 * payload claims_open (a JSON object without its closing brace) plus a
 * "pad" member. k NULL: a 4-byte dummy signature (for parse-only tests).
 * NULL when target cannot be reached. */
char *mint_token_of_len(apr_pool_t *p, const mint_key_t *k, cka_alg_t alg,
                        const char *kid, const char *claims_open, size_t target);

/* tmpl with every "$<signed integer>" replaced by now + that integer:
 * mint_times(p, "{\"exp\":$+60}", now) -> {"exp":<now+60>}. */
char *mint_times(apr_pool_t *p, const char *tmpl, long long now);

/* --- tampering ------------------------------------------------------- */
/* Segment i (0-based) of a dotted token, or NULL. */
char *mint_segment(apr_pool_t *p, const char *token, int i);
/* token with segment i replaced by seg (text as is). */
char *mint_set_segment(apr_pool_t *p, const char *token, int i,
                       const char *seg);
/* Segments i and j exchanged. */
char *mint_swap_segments(apr_pool_t *p, const char *token, int i, int j);
/* The decoded signature bytes of token. */
unsigned char *mint_sig_bytes(apr_pool_t *p, const char *token, size_t *len);
/* Signature replaced by these bytes. */
char *mint_set_sig(apr_pool_t *p, const char *token,
                   const unsigned char *sig, size_t len);
/* One bit flipped in signature byte idx (idx < 0: from the end). */
char *mint_flip_sig(apr_pool_t *p, const char *token, long idx);
/* Signature shortened (delta < 0) or extended with zero bytes (> 0). */
char *mint_resize_sig(apr_pool_t *p, const char *token, long delta);
/* seg (base64url without padding, length not 0 mod 4) with its last
 * character changed so that its unused low bits are not zero: a lenient
 * decoder reads the same bytes, a canonical one refuses it. */
char *mint_noncanonical(apr_pool_t *p, const char *seg);

/* --- degenerate keys and thumbprints ---------------------------------- */
/* The RSA modulus of k, big-endian, no leading zero. */
unsigned char *mint_rsa_n(apr_pool_t *p, const mint_key_t *k, size_t *len);
/* An RSA JWK from raw n and e (any values: e = 1, a 1024-bit n...). */
char *mint_jwk_rsa_raw(apr_pool_t *p, const unsigned char *n, size_t nl,
                       const unsigned char *e, size_t el, const char *extra);
/* An Ed25519 JWK with these 32 bytes as x (any point, small order too). */
char *mint_jwk_okp_raw(apr_pool_t *p, const unsigned char x[32], const char *extra);
/* The bare PKCS#1 v1.5 encoding (RFC 8017 §9.2) of SHA-256(data), k bytes:
 * what an RS256 signature is under an RSA key with e = 1. 0 on success. */
int mint_pkcs1_encoding(const void *data, size_t len, unsigned char *em, size_t k);
/* RFC 7638 thumbprint (base64url) of a JWK written by mint (flat JSON
 * object), computed here again from its members; NULL on failure. */
char *mint_thumbprint(apr_pool_t *p, const char *jwk);

#endif
