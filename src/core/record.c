/* record.c - a validated token <-> record bytes, sealed (see record.h). */
#include "record.h"
#include "cka_limits.h"
#include "json_util.h"
#include <pthread.h>
#include <string.h>
#include <apr_strings.h>
#include <openssl/evp.h>

#define MAGIC "CKR3"
#define FIXED (4 + 1 + 8 + CKA_BIND_LEN + CKA_THUMB_LEN)

/* SHA-256 fetched from the provider once per process: with EVP_sha256(),
 * every EVP_Digest fetches the implementation again. Never freed: it lives
 * as long as the process. */
static EVP_MD *sha_md;
static pthread_once_t sha_md_once = PTHREAD_ONCE_INIT;

static void sha_md_fetch(void)
{
    sha_md = EVP_MD_fetch(NULL, "SHA256", NULL);
}

int cka_token_hash(const char *data, size_t len, unsigned char out[CKA_HASH_LEN])
{
    unsigned int n = 0;
    pthread_once(&sha_md_once, sha_md_fetch);
    if (EVP_Digest(data, len, out, &n, sha_md != NULL ? sha_md : EVP_sha256(), NULL) != 1
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
    if (tl > CKA_TYP_MAX || kl > CKA_KID_MAX || rec->payload == NULL
        || rec->payload_len == 0 || rec->payload_len > CKA_MAX_TOKEN_LEN
        || rec->alg <= CKA_ALG_UNKNOWN || rec->alg >= CKA_ALG_COUNT || rec->until <= 0)
        return -1;
    size_t n = FIXED + 1 + tl + 1 + kl + rec->payload_len;
    unsigned char *b = apr_palloc(p, n), *w = b;
    memcpy(w, MAGIC, 4);
    w += 4;
    *w++ = (unsigned char)rec->alg;
    for (int i = 7; i >= 0; i--)
        *w++ = (unsigned char)((unsigned long long)rec->until >> (8 * i));
    memcpy(w, rec->binding, CKA_BIND_LEN);
    w += CKA_BIND_LEN;
    memcpy(w, rec->thumb, CKA_THUMB_LEN);
    w += CKA_THUMB_LEN;
    *w++ = (unsigned char)tl;
    memcpy(w, rec->typ ? rec->typ : "", tl);
    w += tl;
    *w++ = (unsigned char)kl;
    memcpy(w, rec->kid ? rec->kid : "", kl);
    w += kl;
    memcpy(w, rec->payload, rec->payload_len);
    *out = b;
    *out_len = n;
    return 0;
}

int cka_record_decode(const unsigned char *b, size_t len, apr_pool_t *p,
                      cka_record_t *out)
{
    memset(out, 0, sizeof(*out));
    if (len < FIXED + 2 || memcmp(b, MAGIC, 4) != 0)
        return -1;
    const unsigned char *r = b + 4, *end = b + len;
    if (*r == CKA_ALG_UNKNOWN || *r >= CKA_ALG_COUNT)
        return -1;
    out->alg = (cka_alg_t)*r++;
    unsigned long long until = 0;
    for (int i = 0; i < 8; i++)
        until = (until << 8) | *r++;
    if (until == 0 || until > (unsigned long long)CKA_MAX_NUMERIC_DATE)
        return -1;
    out->until = (long long)until;
    memcpy(out->binding, r, CKA_BIND_LEN);
    r += CKA_BIND_LEN;
    memcpy(out->thumb, r, CKA_THUMB_LEN);
    r += CKA_THUMB_LEN;
    size_t tl = *r++;
    if (tl > CKA_TYP_MAX || (size_t)(end - r) < tl + 1 || memchr(r, '\0', tl) != NULL)
        return -1;
    out->typ = tl ? apr_pstrmemdup(p, (const char *)r, tl) : NULL;
    r += tl;
    size_t kl = *r++;
    if (kl > CKA_KID_MAX || (size_t)(end - r) < kl + 1 || memchr(r, '\0', kl) != NULL)
        return -1;
    out->kid = kl ? apr_pstrmemdup(p, (const char *)r, kl) : NULL;
    r += kl;
    size_t pl = (size_t)(end - r);
    if (pl == 0 || pl > CKA_MAX_TOKEN_LEN)
        return -1;
    out->payload = apr_pstrmemdup(p, (const char *)r, pl);
    out->payload_len = pl;
    return 0;
}

int cka_record_seal(const cka_seal_t *s, apr_pool_t *p,
                    const unsigned char name[CKA_SEAL_NAME_LEN],
                    const cka_record_t *rec, unsigned char **out, size_t *out_len)
{
    unsigned char *pt;
    size_t n;
    if (cka_record_encode(p, rec, &pt, &n) != 0)
        return -1;
    return cka_seal(s, p, CKA_SEAL_TOKEN, name, pt, n, out, out_len);
}

int cka_record_open(const cka_seal_t *s, apr_pool_t *p,
                    const unsigned char name[CKA_SEAL_NAME_LEN],
                    const unsigned char *buf, size_t len, cka_record_t *out)
{
    unsigned char *pt;
    size_t n;
    if (cka_unseal(s, p, CKA_SEAL_TOKEN, name, buf, len, &pt, &n) != 0
        || cka_record_decode(pt, n, p, out) != 0)
        return -1;
    out->claims = cka_json_parse_object(p, out->payload, out->payload_len, NULL);
    return out->claims != NULL ? 0 : -1;
}
