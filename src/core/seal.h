/* seal.h - what the shared cache holds is sealed: records encrypted and
 * authenticated with AES-256-GCM, and looked up under keyed names, both
 * from keys derived (HKDF-SHA256) from ConduktorAuthCacheSecret. A reader
 * of the cache learns nothing (no token hash usable offline, no identity);
 * a writer cannot make a record that opens, nor move one to another name.
 * Part of the core: no httpd header. */
#ifndef CKA_SEAL_H
#define CKA_SEAL_H
#include <stddef.h>
#include <apr_pools.h>

#define CKA_SEAL_NAME_LEN   32      /* a lookup name: HMAC-SHA256           */
#define CKA_SEAL_MIN_SECRET 32      /* bytes of secret at least             */
#define CKA_SEAL_MAX_SECRET 4096
#define CKA_SEAL_OVERHEAD   (4 + 12 + 16)  /* magic, nonce, tag             */

/* What a name or record is for: part of both the name and the record's
 * authenticated data, so one kind's record never opens as another's. */
typedef enum { CKA_SEAL_TOKEN = 'T', CKA_SEAL_KEYSET = 'K', CKA_SEAL_CLIENT = 'C',
               CKA_SEAL_INTROSPECT = 'I', CKA_SEAL_TEST = 'X',
               CKA_SEAL_DPOP = 'D', CKA_SEAL_NONCE = 'N' } cka_seal_kind_t;  /* DPoP: jti, nonce */

typedef struct cka_seal_t cka_seal_t;

/* Derive the keys from secret (at least CKA_SEAL_MIN_SECRET bytes). The
 * secret itself is not kept. Freed (and wiped) with p. NULL with *err (a
 * static text) when OpenSSL fails or the secret is too short. */
cka_seal_t *cka_seal_create(apr_pool_t *p, const unsigned char *secret, size_t len,
                            const char **err);

/* A fresh random secret (shmcb: one per start). 0 or -1. */
int cka_seal_random_secret(unsigned char *out, size_t len);

/* A seal from a fresh random key of this process alone (names and records
 * that must not be comparable with any other process's), the key wiped
 * after use; NULL when no random key can be had. */
const cka_seal_t *cka_seal_ephemeral(apr_pool_t *p);

/* Read a secret file: a regular file of CKA_SEAL_MIN_SECRET to
 * CKA_SEAL_MAX_SECRET bytes, readable by its owner only (no group or other
 * permission bits). Its bytes, as they are, are the secret. NULL with *err
 * (allocated from p; names the path, never the content). */
const unsigned char *cka_seal_read_secret(apr_pool_t *p, const char *path, size_t *len,
                                          const char **err);

/* The lookup name of data (a token, a key-set identity) for kind:
 * HMAC-SHA256 under the name key. Safe from any number of threads. 0, or
 * -1 (out zeroed: the caller must not use the cache then). */
int cka_seal_name(const cka_seal_t *s, cka_seal_kind_t kind, const void *data, size_t len,
                  unsigned char out[CKA_SEAL_NAME_LEN]);

/* Seal plaintext for the record stored under name: "CKS1", a random
 * 12-byte nonce, the ciphertext, the 16-byte tag; the kind and the name are
 * authenticated with it. 0 with *out (from p), or -1. */
int cka_seal(const cka_seal_t *s, apr_pool_t *p, cka_seal_kind_t kind,
             const unsigned char name[CKA_SEAL_NAME_LEN],
             const unsigned char *pt, size_t pt_len, unsigned char **out, size_t *out_len);

/* Open a record read from under name. 0 with the plaintext in *pt (from p,
 * NUL-terminated for convenience; *pt_len excludes it), or -1 when the
 * record is not one this secret sealed for this kind and this name (any
 * changed, added or missing byte). */
int cka_unseal(const cka_seal_t *s, apr_pool_t *p, cka_seal_kind_t kind,
               const unsigned char name[CKA_SEAL_NAME_LEN],
               const unsigned char *in, size_t in_len, unsigned char **pt, size_t *pt_len);

#endif
