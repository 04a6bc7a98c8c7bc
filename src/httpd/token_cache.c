/* token_cache.c - validated tokens: the per-process front over sealed
 * records in the shared cache (see token_cache.h). A cache that is busy,
 * down, full or tampered with only costs a full verification. */
#include "token_cache.h"
#include "shared_cache.h"
#include "metrics.h"
#include "tcache.h"
#include "cka_limits.h"

#define FRONT_SLOTS 8192

static cka_tcache_t *front;      /* per process (child_init) */

void cka_token_cache_child_init(apr_pool_t *pchild, server_rec *s)
{
    front = cka_cache_enabled() ? cka_tcache_create(pchild, FRONT_SLOTS) : NULL;
}

static int b64url_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
           || c == '-' || c == '_';
}

/* Three non-empty segments of the base64url alphabet. */
static int jws_shaped(const char *tok, size_t len)
{
    int dots = 0;
    size_t seg = 0;
    for (size_t i = 0; i < len; i++) {
        if (tok[i] == '.') {
            if (seg == 0 || ++dots > 2)
                return 0;
            seg = 0;
        }
        else if (!b64url_char(tok[i]))
            return 0;
        else
            seg++;
    }
    return dots == 2 && seg > 0;
}

int cka_token_cache_name(const char *tok, size_t len, unsigned char name[CKA_SEAL_NAME_LEN])
{
    const cka_seal_t *seal = cka_cache_seal();
    if (seal == NULL || !cka_cache_enabled() || !jws_shaped(tok, len))
        return -1;
    return cka_seal_name(seal, CKA_SEAL_TOKEN, tok, len, name);
}

int cka_token_cache_lookup(request_rec *r, const unsigned char name[CKA_SEAL_NAME_LEN],
                           cka_record_t *out)
{
    long long now = (long long)apr_time_sec(r->request_time);
    if (cka_tcache_get(front, name, now, r->pool, out))
        return 1;
    unsigned char *val;
    unsigned len;
    if (!cka_shared_lookup(r, name, &val, &len, CKA_MAX_TOKEN_LEN + 512))
        return 0;
    if (cka_record_open(cka_cache_seal(), r->pool, name, val, len, out) != 0) {
        cka_count(cache_rejected);
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, CKA_LOG_PREFIX
                      "shared cache: a token record does not open with this "
                      "ConduktorAuthCacheSecret (another secret, or written by someone "
                      "else); treated as a miss");
        return 0;
    }
    if (out->until <= now)
        return 0;
    /* The front keeps it until the record's own end: a read never extends
     * a validation result's life. */
    cka_tcache_put(front, name, out);
    return 1;
}

void cka_token_cache_store(request_rec *r, const unsigned char name[CKA_SEAL_NAME_LEN],
                           const cka_record_t *rec)
{
    long long now = (long long)apr_time_sec(r->request_time);
    if (rec->until <= now)
        return;
    cka_tcache_put(front, name, rec);
    unsigned char *bytes;
    size_t n;
    if (cka_record_seal(cka_cache_seal(), r->pool, name, rec, &bytes, &n) == 0)
        cka_shared_store(r, name, apr_time_from_sec(rec->until), bytes, (unsigned)n);
}
