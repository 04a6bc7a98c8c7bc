/* seal.c - AEAD records and keyed lookup names (see seal.h). */
#include "seal.h"
#include <string.h>
#include <apr_file_io.h>
#include <apr_strings.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>

#define MAGIC "CKS1"
#define NONCE_LEN 12
#define TAG_LEN 16
#define KEY_LEN 32
#define SHA_BLOCK 64

struct cka_seal_t {
    unsigned char enc_key[KEY_LEN];
    /* HMAC-SHA256 of the name key, its inner and outer pads already
     * hashed: a name costs two context copies and the data, not a fetch
     * and a key schedule per call. Only copied from, never used directly. */
    EVP_MD_CTX   *inner, *outer;
    EVP_MD       *sha256;
    EVP_CIPHER   *aes;
};

static apr_status_t seal_cleanup(void *v)
{
    cka_seal_t *s = v;
    OPENSSL_cleanse(s->enc_key, sizeof(s->enc_key));
    EVP_MD_CTX_free(s->inner);
    EVP_MD_CTX_free(s->outer);
    EVP_MD_free(s->sha256);
    EVP_CIPHER_free(s->aes);
    return APR_SUCCESS;
}

/* HKDF-SHA256 (RFC 5869) of the secret, one key per info label. */
static int hkdf(const unsigned char *secret, size_t len, const char *info,
                unsigned char *out, size_t out_len)
{
    static const char salt[] = "mod_conduktor_auth cache v1";
    EVP_KDF *kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
    EVP_KDF_CTX *ctx = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
    OSSL_PARAM params[5], *q = params;
    *q++ = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)"SHA256", 0);
    *q++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)secret, len);
    *q++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)salt,
                                             sizeof(salt) - 1);
    *q++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *)info,
                                             strlen(info));
    *q = OSSL_PARAM_construct_end();
    int ok = ctx != NULL && EVP_KDF_derive(ctx, out, out_len, params) == 1;
    EVP_KDF_CTX_free(ctx);
    EVP_KDF_free(kdf);
    return ok ? 0 : -1;
}

/* One HMAC pad state: SHA-256 over (key XOR pad), as a context to copy. */
static EVP_MD_CTX *pad_ctx(const EVP_MD *md, const unsigned char *key, unsigned char pad)
{
    unsigned char block[SHA_BLOCK];
    memset(block, 0, sizeof(block));
    memcpy(block, key, KEY_LEN);
    for (size_t i = 0; i < sizeof(block); i++)
        block[i] ^= pad;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int ok = ctx != NULL && EVP_DigestInit_ex(ctx, md, NULL) == 1
        && EVP_DigestUpdate(ctx, block, sizeof(block)) == 1;
    OPENSSL_cleanse(block, sizeof(block));
    if (!ok) {
        EVP_MD_CTX_free(ctx);
        return NULL;
    }
    return ctx;
}

cka_seal_t *cka_seal_create(apr_pool_t *p, const unsigned char *secret, size_t len,
                            const char **err)
{
    unsigned char name_key[KEY_LEN];
    if (secret == NULL || len < CKA_SEAL_MIN_SECRET) {
        *err = "the cache secret is shorter than 32 bytes";
        return NULL;
    }
    cka_seal_t *s = apr_pcalloc(p, sizeof(*s));
    apr_pool_cleanup_register(p, s, seal_cleanup, apr_pool_cleanup_null);
    s->sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
    s->aes = EVP_CIPHER_fetch(NULL, "AES-256-GCM", NULL);
    if (s->sha256 == NULL || s->aes == NULL
        || hkdf(secret, len, "record encryption key", s->enc_key, KEY_LEN) != 0
        || hkdf(secret, len, "lookup name key", name_key, KEY_LEN) != 0) {
        *err = "OpenSSL cannot derive the cache keys (HKDF-SHA256, AES-256-GCM)";
        return NULL;
    }
    s->inner = pad_ctx(s->sha256, name_key, 0x36);
    s->outer = pad_ctx(s->sha256, name_key, 0x5c);
    OPENSSL_cleanse(name_key, sizeof(name_key));
    if (s->inner == NULL || s->outer == NULL) {
        *err = "OpenSSL cannot set up HMAC-SHA256";
        return NULL;
    }
    return s;
}

int cka_seal_random_secret(unsigned char *out, size_t len)
{
    return RAND_bytes(out, (int)len) == 1 ? 0 : -1;
}

const unsigned char *cka_seal_read_secret(apr_pool_t *p, const char *path, size_t *len,
                                          const char **err)
{
    apr_file_t *f;
    apr_finfo_t fi;
    char ebuf[120];
    apr_status_t rv = apr_file_open(&f, path, APR_FOPEN_READ | APR_FOPEN_BINARY,
                                    APR_OS_DEFAULT, p);
    if (rv != APR_SUCCESS) {
        *err = apr_psprintf(p, "cannot open %s: %s", path, apr_strerror(rv, ebuf, sizeof(ebuf)));
        return NULL;
    }
    rv = apr_file_info_get(&fi, APR_FINFO_TYPE | APR_FINFO_SIZE | APR_FINFO_PROT, f);
    if (rv != APR_SUCCESS || fi.filetype != APR_REG) {
        apr_file_close(f);
        *err = apr_psprintf(p, "%s is not a regular file", path);
        return NULL;
    }
    if (fi.protection & (APR_GREAD | APR_GWRITE | APR_WREAD | APR_WWRITE)) {
        apr_file_close(f);
        *err = apr_psprintf(p, "%s may be read or written by others than its owner "
                            "(group or other permission bits set); chmod 600 (or 400) it",
                            path);
        return NULL;
    }
    if (fi.size < CKA_SEAL_MIN_SECRET || fi.size > CKA_SEAL_MAX_SECRET) {
        apr_file_close(f);
        *err = apr_psprintf(p, "%s holds %" APR_OFF_T_FMT " bytes; a cache secret is %d "
                            "to %d bytes (e.g. openssl rand -out FILE 32)", path, fi.size,
                            CKA_SEAL_MIN_SECRET, CKA_SEAL_MAX_SECRET);
        return NULL;
    }
    unsigned char *buf = apr_palloc(p, (apr_size_t)fi.size);
    apr_size_t n = (apr_size_t)fi.size;
    rv = apr_file_read_full(f, buf, n, &n);
    apr_file_close(f);
    if (rv != APR_SUCCESS || n != (apr_size_t)fi.size) {
        *err = apr_psprintf(p, "cannot read %s", path);
        return NULL;
    }
    *len = n;
    return buf;
}

int cka_seal_name(const cka_seal_t *s, cka_seal_kind_t kind, const void *data, size_t len,
                  unsigned char out[CKA_SEAL_NAME_LEN])
{
    unsigned char inner[32], k = (unsigned char)kind;
    unsigned int n = 0, m = 0;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int ok = ctx != NULL && EVP_MD_CTX_copy_ex(ctx, s->inner) == 1
        && EVP_DigestUpdate(ctx, &k, 1) == 1
        && EVP_DigestUpdate(ctx, data, len) == 1
        && EVP_DigestFinal_ex(ctx, inner, &n) == 1 && n == sizeof(inner)
        && EVP_MD_CTX_copy_ex(ctx, s->outer) == 1
        && EVP_DigestUpdate(ctx, inner, sizeof(inner)) == 1
        && EVP_DigestFinal_ex(ctx, out, &m) == 1 && m == CKA_SEAL_NAME_LEN;
    EVP_MD_CTX_free(ctx);
    if (!ok)
        memset(out, 0, CKA_SEAL_NAME_LEN);
    return ok ? 0 : -1;
}

/* The authenticated data of a record: its magic, kind and name. */
static int set_aad(EVP_CIPHER_CTX *c, cka_seal_kind_t kind, const unsigned char *name)
{
    unsigned char aad[4 + 1 + CKA_SEAL_NAME_LEN];
    int n;
    memcpy(aad, MAGIC, 4);
    aad[4] = (unsigned char)kind;
    memcpy(aad + 5, name, CKA_SEAL_NAME_LEN);
    return EVP_CipherUpdate(c, NULL, &n, aad, (int)sizeof(aad)) == 1;
}

int cka_seal(const cka_seal_t *s, apr_pool_t *p, cka_seal_kind_t kind,
             const unsigned char name[CKA_SEAL_NAME_LEN],
             const unsigned char *pt, size_t pt_len, unsigned char **out, size_t *out_len)
{
    if (pt_len > (size_t)INT32_MAX - CKA_SEAL_OVERHEAD)
        return -1;
    unsigned char *b = apr_palloc(p, CKA_SEAL_OVERHEAD + pt_len);
    unsigned char *nonce = b + 4, *ct = b + 4 + NONCE_LEN, *tag = ct + pt_len;
    int n = 0, fin = 0;
    memcpy(b, MAGIC, 4);
    if (RAND_bytes(nonce, NONCE_LEN) != 1)
        return -1;
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    int ok = c != NULL
        && EVP_EncryptInit_ex2(c, s->aes, s->enc_key, nonce, NULL) == 1
        && set_aad(c, kind, name)
        && EVP_EncryptUpdate(c, ct, &n, pt, (int)pt_len) == 1
        && EVP_EncryptFinal_ex(c, ct + n, &fin) == 1 && (size_t)(n + fin) == pt_len
        && EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, TAG_LEN, tag) == 1;
    EVP_CIPHER_CTX_free(c);
    if (!ok)
        return -1;
    *out = b;
    *out_len = CKA_SEAL_OVERHEAD + pt_len;
    return 0;
}

int cka_unseal(const cka_seal_t *s, apr_pool_t *p, cka_seal_kind_t kind,
               const unsigned char name[CKA_SEAL_NAME_LEN],
               const unsigned char *in, size_t in_len, unsigned char **pt, size_t *pt_len)
{
    if (in == NULL || in_len < CKA_SEAL_OVERHEAD || in_len > (size_t)INT32_MAX
        || memcmp(in, MAGIC, 4) != 0)
        return -1;
    size_t ct_len = in_len - CKA_SEAL_OVERHEAD;
    const unsigned char *nonce = in + 4, *ct = in + 4 + NONCE_LEN, *tag = ct + ct_len;
    unsigned char *b = apr_palloc(p, ct_len + 1);
    unsigned char tagbuf[TAG_LEN];
    int n = 0, fin = 0;
    memcpy(tagbuf, tag, TAG_LEN);
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    int ok = c != NULL
        && EVP_DecryptInit_ex2(c, s->aes, s->enc_key, nonce, NULL) == 1
        && set_aad(c, kind, name)
        && EVP_DecryptUpdate(c, b, &n, ct, (int)ct_len) == 1
        && EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, TAG_LEN, tagbuf) == 1
        && EVP_DecryptFinal_ex(c, b + n, &fin) == 1 && (size_t)(n + fin) == ct_len;
    EVP_CIPHER_CTX_free(c);
    if (!ok) {
        OPENSSL_cleanse(b, ct_len);
        return -1;
    }
    b[ct_len] = '\0';
    *pt = b;
    *pt_len = ct_len;
    return 0;
}

const cka_seal_t *cka_seal_ephemeral(apr_pool_t *p)
{
    unsigned char rnd[32];
    const char *why = NULL;
    const cka_seal_t *s = NULL;
    if (cka_seal_random_secret(rnd, sizeof(rnd)) == 0)
        s = cka_seal_create(p, rnd, sizeof(rnd), &why);
    OPENSSL_cleanse(rnd, sizeof(rnd));
    return s;
}
