/* token_cache.c - validated tokens: the per-process front over sealed
 * records in the shared cache (see token_cache.h). A cache that is busy,
 * down, full or tampered with only costs a full verification. */
#include "token_cache.h"
#include "shared_cache.h"
#include "metrics.h"
#include "tcache.h"
#include "cka_limits.h"
#include "key_store.h"

#define FRONT_SLOTS 8192

static cka_tcache_t *front;      /* per process (child_init) */

void cka_token_cache_child_init(apr_pool_t *pchild, server_rec *s)
{
    front = cka_cache_enabled() ? cka_tcache_create(pchild, FRONT_SLOTS) : NULL;
}

/* Three non-empty segments. The alphabet is not scanned: a name is the
 * keyed hash of the very bytes, and a record is only ever stored for a
 * token that passed the strict parse (base64url segments), so a credential
 * of other bytes finds none. */
static int jws_shaped(const char *tok, size_t len)
{
    const char *end = tok + len;
    const char *d1 = memchr(tok, '.', len);
    const char *d2 = d1 ? memchr(d1 + 1, '.', (size_t)(end - d1 - 1)) : NULL;
    return d2 != NULL && d1 != tok && d2 != d1 + 1 && d2 + 1 != end
        && memchr(d2 + 1, '.', (size_t)(end - d2 - 1)) == NULL;
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

void cka_token_probe(request_rec *r, const cka_srv_conf_t *sc, const cka_policy_t *pol,
                     const char *tok, size_t len, cka_token_probe_t *out)
{
    memset(out, 0, sizeof(*out));
    out->tok = tok;
    out->len = len;
    out->named = cka_token_cache_name(tok, len, out->name) == 0;
    if (!out->named || !cka_token_cache_lookup(r, out->name, &out->hit))
        return;
    const json_t *jiss = json_object_get(out->hit.claims, "iss");
    const cka_binding_t *b = json_is_string(jiss)
        ? cka_find_binding(sc, json_string_value(jiss)) : NULL;
    if (b == NULL)
        return;         /* not an issuer of this server: the hit counts for nothing */
    cka_key_source_t keys;
    cka_key_store_source(r, sc, &keys);
    out->usable = cka_validate_hit(r->pool, &out->hit, b->id, pol, &keys,
                                   (long long)apr_time_sec(r->request_time), &out->why, NULL);
    if (out->usable)
        out->iss = json_string_value(jiss);
}
