/* record.c - a validated token <-> record bytes, sealed (see record.h). */
#include "record.h"
#include "cka_limits.h"
#include "json_util.h"
#include "frame.h"
#include <pthread.h>
#include <string.h>
#include <apr_strings.h>
#include <openssl/evp.h>

#define MAGIC "CKR3"
#define FIXED (CKA_FRAME_HEAD_LEN + CKA_BIND_LEN + CKA_THUMB_LEN)

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

cka_reason_t cka_record_encode(apr_pool_t *p, const cka_record_t *rec,
                               unsigned char **out, size_t *out_len, cka_err_t *err)
{
    size_t tl = rec->typ ? strlen(rec->typ) : 0;
    size_t kl = rec->kid ? strlen(rec->kid) : 0;
    if (tl > CKA_TYP_MAX || kl > CKA_KID_MAX || rec->payload == NULL
        || rec->payload_len == 0 || rec->payload_len > CKA_MAX_TOKEN_LEN
        || rec->alg <= CKA_ALG_UNKNOWN || rec->alg >= CKA_ALG_COUNT || rec->until <= 0)
        return cka_fail(err, CKA_RECORD_TOO_LARGE, "typ, kid or payload does not fit");
    cka_frame_w_t w;
    cka_frame_w_init(&w, p, FIXED + 1 + tl + 1 + kl + rec->payload_len);
    cka_frame_put_head(&w, MAGIC, (unsigned)rec->alg, rec->until);
    cka_frame_put(&w, rec->binding, CKA_BIND_LEN);
    cka_frame_put(&w, rec->thumb, CKA_THUMB_LEN);
    cka_frame_put_u8(&w, (unsigned)tl);
    cka_frame_put(&w, rec->typ, tl);
    cka_frame_put_u8(&w, (unsigned)kl);
    cka_frame_put(&w, rec->kid, kl);
    cka_frame_put(&w, rec->payload, rec->payload_len);
    return cka_frame_w_done(&w, out, out_len) == 0
        ? CKA_OK : cka_fail(err, CKA_INTERNAL, "record framing");
}

cka_reason_t cka_record_decode(const unsigned char *b, size_t len, apr_pool_t *p,
                               cka_record_t *out, cka_err_t *err)
{
    cka_frame_r_t r;
    memset(out, 0, sizeof(*out));
    cka_frame_r_init(&r, b, len);
    unsigned alg = cka_frame_get_head(&r, MAGIC, &out->until);
    cka_frame_check(&r, alg > CKA_ALG_UNKNOWN && alg < CKA_ALG_COUNT);
    out->alg = (cka_alg_t)alg;
    const unsigned char *bind = cka_frame_get(&r, CKA_BIND_LEN);
    const unsigned char *thumb = cka_frame_get(&r, CKA_THUMB_LEN);
    size_t tl = cka_frame_get_u8(&r);
    cka_frame_check(&r, tl <= CKA_TYP_MAX);
    out->typ = cka_frame_get_text(&r, tl, p);
    size_t kl = cka_frame_get_u8(&r);
    cka_frame_check(&r, kl <= CKA_KID_MAX);
    out->kid = cka_frame_get_text(&r, kl, p);
    size_t pl = cka_frame_left(&r);
    cka_frame_check(&r, pl > 0 && pl <= CKA_MAX_TOKEN_LEN);
    const unsigned char *payload = cka_frame_get(&r, pl);   /* bytes: the JSON parser judges */
    if (cka_frame_r_done(&r) != 0) {
        memset(out, 0, sizeof(*out));
        return cka_fail(err, CKA_RECORD_INVALID, "token record framing");
    }
    memcpy(out->binding, bind, CKA_BIND_LEN);
    memcpy(out->thumb, thumb, CKA_THUMB_LEN);
    out->payload = apr_pstrmemdup(p, (const char *)payload, pl);
    out->payload_len = pl;
    if (tl == 0)
        out->typ = NULL;
    if (kl == 0)
        out->kid = NULL;
    return CKA_OK;
}

int cka_record_seal(const cka_seal_t *s, apr_pool_t *p,
                    const unsigned char name[CKA_SEAL_NAME_LEN],
                    const cka_record_t *rec, unsigned char **out, size_t *out_len)
{
    unsigned char *pt;
    size_t n;
    if (cka_record_encode(p, rec, &pt, &n, NULL) != CKA_OK)
        return -1;
    return cka_seal(s, p, CKA_SEAL_TOKEN, name, pt, n, out, out_len);   /* framed already */
}

int cka_record_open(const cka_seal_t *s, apr_pool_t *p,
                    const unsigned char name[CKA_SEAL_NAME_LEN],
                    const unsigned char *buf, size_t len, cka_record_t *out)
{
    unsigned char *pt;
    size_t n;
    if (cka_unseal(s, p, CKA_SEAL_TOKEN, name, buf, len, &pt, &n) != 0
        || cka_record_decode(pt, n, p, out, NULL) != CKA_OK)
        return -1;
    out->claims = cka_json_parse_object(p, out->payload, out->payload_len, NULL);
    return out->claims != NULL ? 0 : -1;
}
