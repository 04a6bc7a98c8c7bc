/* record.c - cache record <-> bytes; the token hash. */
#include "record.h"
#include "cka_limits.h"
#include <pthread.h>
#include <string.h>
#include <apr_strings.h>
#include <openssl/evp.h>

/* SHA-256 fetched from the provider once per process: with EVP_sha256(),
 * every EVP_Digest fetches the implementation again, which costs about a
 * third of hashing a typical token. Never freed: it lives as long as the
 * process (OpenSSL's cleanup at exit copes with a held reference; a module
 * unloaded and loaded again by a restart fetches anew and leaves the old
 * one, a few hundred bytes). */
static EVP_MD *token_md;
static pthread_once_t token_md_once = PTHREAD_ONCE_INIT;

static void token_md_fetch(void)
{
    token_md = EVP_MD_fetch(NULL, "SHA256", NULL);
}

int cka_token_hash(const char *token, size_t len, unsigned char out[CKA_HASH_LEN])
{
    unsigned int n = 0;
    pthread_once(&token_md_once, token_md_fetch);
    if (EVP_Digest(token, len, out, &n, token_md != NULL ? token_md : EVP_sha256(), NULL) != 1
        || n != CKA_HASH_LEN) {
        memset(out, 0, CKA_HASH_LEN);
        return -1;
    }
    return 0;
}

int cka_record_encode(apr_pool_t *p, const cka_record_t *rec,
                      unsigned char **out, size_t *out_len)
{
    size_t tl = rec->typ ? strlen(rec->typ) : 0;
    size_t kl = rec->kid ? strlen(rec->kid) : 0;
    if (tl > CKA_TYP_MAX || kl > CKA_KID_MAX || rec->payload_len > CKA_MAX_TOKEN_LEN)
        return -1;
    size_t n = 4 + 1 + 1 + tl + 1 + kl + rec->payload_len;
    unsigned char *b = apr_palloc(p, n);
    memcpy(b, "CKR2", 4);
    b[4] = (unsigned char)rec->alg;
    b[5] = (unsigned char)tl;
    if (tl)
        memcpy(b + 6, rec->typ, tl);
    b[6 + tl] = (unsigned char)kl;
    if (kl)
        memcpy(b + 7 + tl, rec->kid, kl);
    memcpy(b + 7 + tl + kl, rec->payload, rec->payload_len);
    *out = b;
    *out_len = n;
    return 0;
}

int cka_record_decode(const unsigned char *b, size_t len, apr_pool_t *p,
                      cka_record_t *out)
{
    if (len < 7 || memcmp(b, "CKR2", 4) != 0)
        return -1;
    if (b[4] == 0 || b[4] >= CKA_ALG_COUNT)
        return -1;
    size_t tl = b[5];
    if (tl > CKA_TYP_MAX || 7 + tl > len)
        return -1;
    size_t kl = b[6 + tl];
    size_t head = 7 + tl + kl;
    if (kl > CKA_KID_MAX || head >= len)
        return -1;
    /* typ and kid were C strings when encoded: a NUL means a forged or
     * corrupted record. */
    if (memchr(b + 6, '\0', tl) != NULL || memchr(b + 7 + tl, '\0', kl) != NULL)
        return -1;
    out->alg = (cka_alg_t)b[4];
    out->typ = tl ? apr_pstrmemdup(p, (const char *)b + 6, tl) : NULL;
    out->kid = kl ? apr_pstrmemdup(p, (const char *)b + 7 + tl, kl) : NULL;
    out->payload = apr_pstrmemdup(p, (const char *)b + head, len - head);
    out->payload_len = len - head;
    return 0;
}
