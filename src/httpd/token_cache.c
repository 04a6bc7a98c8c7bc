/* token_cache.c - validated-token cache over socache, with a per-process
 * front. Keyed by SHA-256 of the token; stores the verified claims (never
 * the token). Every hit is re-checked against the current configuration by
 * the caller (issuer, alg, typ, time, audience, Require). A cache that is
 * busy, down or full only costs a full verification. */
#include "token_cache.h"
#include "json_util.h"
#include "tcache.h"
#include "cka_limits.h"
#include <ap_socache.h>
#include <ap_provider.h>
#include <apr_global_mutex.h>
#include <util_mutex.h>
#include <apr_atomic.h>

#define FRONT_SLOTS 8192
/* After the shared cache fails (server down, connection refused), this
 * process leaves it alone for this many seconds: requests are verified in
 * full and the socache provider does not log a line per request. */
#define SHARED_BACKOFF_SEC 5

/* Global (main server) settings, fixed at config time. */
static struct {
    int                          disabled;      /* "none"                    */
    const char                  *spec;          /* as written, for logs      */
    const ap_socache_provider_t *provider;
    ap_socache_instance_t       *inst;
    int                          ttl;           /* seconds                   */
    apr_global_mutex_t          *mutex;         /* for NOTMPSAFE providers   */
    cka_tcache_t                *front;         /* per process (child_init)  */
} tc = { 0, NULL, NULL, NULL, 300, NULL, NULL };

int cka_token_cache_enabled(void)
{
    return !tc.disabled;
}

const char *cka_set_cache(cmd_parms *cmd, void *dc, const char *arg)
{
    const char *e = ap_check_cmd_context(cmd, GLOBAL_ONLY);
    if (e)
        return e;
    if (strcasecmp(arg, "none") == 0) {
        tc.disabled = 1;
        tc.provider = NULL;
        return NULL;
    }
    const char *sep = ap_strchr_c(arg, ':');
    char *name = sep ? apr_pstrmemdup(cmd->pool, arg, (apr_size_t)(sep - arg))
                     : apr_pstrdup(cmd->pool, arg);
    const ap_socache_provider_t *prov = ap_lookup_provider(AP_SOCACHE_PROVIDER_GROUP, name,
                                                           AP_SOCACHE_PROVIDER_VERSION);
    if (prov == NULL)
        return apr_psprintf(cmd->pool, "%s: unknown socache provider '%s'; accepted: none, "
                            "shmcb, redis:host:port, memcache:host:port, ... (load the "
                            "matching mod_socache_%s first)", cmd->cmd->name, name, name);
    ap_socache_instance_t *inst = NULL;
    const char *err = prov->create(&inst, sep ? sep + 1 : NULL, cmd->temp_pool, cmd->pool);
    if (err)
        return apr_psprintf(cmd->pool, "%s: %s", cmd->cmd->name, err);
    tc.disabled = 0;
    tc.provider = prov;
    tc.inst = inst;
    tc.spec = apr_pstrdup(cmd->pool, arg);
    return NULL;
}

const char *cka_set_cache_ttl(cmd_parms *cmd, void *dc, const char *arg)
{
    const char *e = ap_check_cmd_context(cmd, GLOBAL_ONLY);
    if (e)
        return e;
    char *end;
    apr_int64_t v = apr_strtoi64(arg, &end, 10);
    if (*arg == '\0' || *end != '\0' || v < 1 || v > 86400)
        return apr_psprintf(cmd->pool, "%s: invalid number of seconds '%s'; accepted: "
                            "a whole number from 1 to 86400", cmd->cmd->name, arg);
    tc.ttl = (int)v;
    return NULL;
}

int cka_token_cache_pre_config(apr_pool_t *pconf)
{
    /* Settings come back to their defaults at every (re)read. */
    tc.disabled = 0;
    tc.spec = NULL;
    tc.provider = NULL;
    tc.inst = NULL;
    tc.ttl = 300;
    tc.mutex = NULL;
    return ap_mutex_register(pconf, CKA_CACHE_MUTEX, NULL, APR_LOCK_DEFAULT, 0);
}

static apr_status_t destroy_cache(void *v)
{
    server_rec *s = v;
    if (tc.provider && tc.inst)
        tc.provider->destroy(tc.inst, s);
    return APR_SUCCESS;
}

int cka_token_cache_post_config(apr_pool_t *pconf, server_rec *s)
{
    if (tc.disabled)
        return OK;
    if (tc.provider == NULL) {
        /* The default: shmcb when its module is loaded. */
        tc.provider = ap_lookup_provider(AP_SOCACHE_PROVIDER_GROUP, "shmcb",
                                         AP_SOCACHE_PROVIDER_VERSION);
        if (tc.provider == NULL) {
            ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, s, CKA_LOG_PREFIX
                         "mod_socache_shmcb is not loaded: validated tokens are cached "
                         "per process only (load it, or set ConduktorAuthCache)");
            return OK;
        }
        const char *err = tc.provider->create(&tc.inst, NULL, pconf, pconf);
        if (err) {
            ap_log_error(APLOG_MARK, APLOG_EMERG, 0, s, CKA_LOG_PREFIX "shmcb: %s", err);
            return HTTP_INTERNAL_SERVER_ERROR;
        }
        tc.spec = "shmcb";
    }
    struct ap_socache_hints hints = { .avg_id_len = CKA_HASH_LEN, .avg_obj_size = 1024,
                                      .expiry_interval = 30 };
    apr_status_t rv = tc.provider->init(tc.inst, "conduktor-auth-tokens", &hints, s, pconf);
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_EMERG, rv, s, CKA_LOG_PREFIX
                     "ConduktorAuthCache %s: cannot initialise the cache", tc.spec);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    apr_pool_cleanup_register(pconf, s, destroy_cache, apr_pool_cleanup_null);
    if (tc.provider->flags & AP_SOCACHE_FLAG_NOTMPSAFE) {
        rv = ap_global_mutex_create(&tc.mutex, NULL, CKA_CACHE_MUTEX, NULL, s, pconf, 0);
        if (rv != APR_SUCCESS)
            return HTTP_INTERNAL_SERVER_ERROR;
    }
    return OK;
}

void cka_token_cache_child_init(apr_pool_t *pchild, server_rec *s)
{
    if (tc.disabled)
        return;
    if (tc.mutex) {
        apr_status_t rv = apr_global_mutex_child_init(&tc.mutex,
                                                      apr_global_mutex_lockfile(tc.mutex), pchild);
        if (rv != APR_SUCCESS) {
            ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s, CKA_LOG_PREFIX
                         "cannot attach to the token-cache mutex; shared cache off in this child");
            tc.provider = NULL;
        }
    }
    tc.front = cka_tcache_create(pchild, FRONT_SLOTS);
}

static apr_status_t release_json(void *v)
{
    json_decref((json_t *)v);
    return APR_SUCCESS;
}

/* Run op on the shared cache unless its lock is busy. */
static int shared_lock(void)
{
    if (tc.mutex == NULL)
        return 1;
    return apr_global_mutex_trylock(tc.mutex) == APR_SUCCESS;
}

static void shared_unlock(void)
{
    if (tc.mutex)
        apr_global_mutex_unlock(tc.mutex);
}

/* Per process: the second (since the epoch, truncated to 32 bits) until
 * which the shared cache is skipped; 0: in use. */
static volatile apr_uint32_t shared_down_until;

static int shared_usable(apr_uint32_t now)
{
    apr_uint32_t until = apr_atomic_read32(&shared_down_until);
    return until == 0 || (apr_int32_t)(now - until) >= 0;
}

/* The shared cache failed: skip it for a while. One thread per outage
 * logs it (the one whose compare-and-swap wins). */
static void shared_failed(request_rec *r, apr_uint32_t now, apr_status_t rv, const char *op)
{
    apr_uint32_t old = apr_atomic_read32(&shared_down_until);
    if (old != 0 && (apr_int32_t)(now - old) < 0)
        return;                                   /* already backing off */
    apr_uint32_t until = now + SHARED_BACKOFF_SEC;
    if (until == 0)
        until = 1;
    if (apr_atomic_cas32(&shared_down_until, until, old) == old)
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, rv, r, CKA_LOG_PREFIX
                      "shared token cache %s failed on %s; this process verifies "
                      "tokens in full without it for %d s", tc.spec, op, SHARED_BACKOFF_SEC);
}

int cka_token_cache_lookup(request_rec *r, const unsigned char hash[CKA_HASH_LEN],
                           cka_cached_t *out)
{
    if (tc.disabled)
        return 0;
    long long now = (long long)apr_time_sec(r->request_time);
    cka_tcache_hit_t hit;
    if (cka_tcache_get(tc.front, hash, now, &hit)) {
        apr_pool_cleanup_register(r->pool, hit.claims, release_json, apr_pool_cleanup_null);
        out->claims = hit.claims;
        out->alg = hit.alg;
        out->typ = hit.typ[0] ? apr_pstrdup(r->pool, hit.typ) : NULL;
        out->kid = hit.kid[0] ? apr_pstrdup(r->pool, hit.kid) : NULL;
        return 1;
    }
    if (tc.provider == NULL || !shared_usable((apr_uint32_t)now) || !shared_lock())
        return 0;
    unsigned char buf[CKA_MAX_TOKEN_LEN + 128];
    unsigned int len = sizeof(buf);
    apr_status_t rv = tc.provider->retrieve(tc.inst, r->server, hash, CKA_HASH_LEN,
                                            buf, &len, r->pool);
    shared_unlock();
    if (rv != APR_SUCCESS) {
        /* A miss is APR_NOTFOUND; anything else is the cache failing. */
        if (!APR_STATUS_IS_NOTFOUND(rv) && !APR_STATUS_IS_ENOENT(rv))
            shared_failed(r, (apr_uint32_t)now, rv, "lookup");
        return 0;
    }
    cka_record_t rec;
    if (cka_record_decode(buf, len, r->pool, &rec) != 0)
        return 0;
    json_t *claims = cka_json_parse_object(r->pool, rec.payload, rec.payload_len, NULL);
    if (claims == NULL)
        return 0;
    json_t *exp = json_object_get(claims, "exp");
    long long until = json_is_integer(exp) ? (long long)json_integer_value(exp) : 0;
    if (until > now + tc.ttl)
        until = now + tc.ttl;
    cka_tcache_put(tc.front, hash, claims, rec.alg, rec.typ, rec.kid, until);
    out->claims = claims;
    out->alg = rec.alg;
    out->typ = rec.typ;
    out->kid = rec.kid;
    return 1;
}

void cka_token_cache_store(request_rec *r, const unsigned char hash[CKA_HASH_LEN],
                           const cka_jws_t *jws, long long exp)
{
    if (tc.disabled)
        return;
    long long now = (long long)apr_time_sec(r->request_time);
    long long until = exp < now + tc.ttl ? exp : now + tc.ttl;
    if (until <= now)
        return;
    cka_tcache_put(tc.front, hash, jws->claims, jws->alg, jws->typ, jws->kid, until);
    if (tc.provider == NULL || !shared_usable((apr_uint32_t)now))
        return;
    cka_record_t rec = { .alg = jws->alg, .typ = jws->typ, .kid = jws->kid,
                         .payload = jws->payload,
                         .payload_len = jws->payload_len };
    unsigned char *bytes;
    size_t n;
    if (cka_record_encode(r->pool, &rec, &bytes, &n) != 0 || !shared_lock())
        return;
    apr_status_t rv = tc.provider->store(tc.inst, r->server, hash, CKA_HASH_LEN,
                                         apr_time_from_sec(until), bytes, (unsigned)n, r->pool);
    shared_unlock();
    /* ENOSPC: this entry does not fit (shmcb); the cache itself is fine. */
    if (rv != APR_SUCCESS && !APR_STATUS_IS_ENOSPC(rv))
        shared_failed(r, (apr_uint32_t)now, rv, "store");
}

/* ---- the shared cache for other entries (key sets) ---------------------------*/

int cka_shared_get(request_rec *r, const unsigned char *key, unsigned keylen,
                   unsigned char *buf, unsigned *len)
{
    apr_uint32_t now = (apr_uint32_t)apr_time_sec(apr_time_now());
    if (tc.disabled || tc.provider == NULL || !shared_usable(now) || !shared_lock())
        return 0;
    apr_status_t rv = tc.provider->retrieve(tc.inst, r->server, key, keylen, buf, len,
                                            r->pool);
    shared_unlock();
    if (rv == APR_SUCCESS)
        return 1;
    if (!APR_STATUS_IS_NOTFOUND(rv) && !APR_STATUS_IS_ENOENT(rv)
        && !APR_STATUS_IS_ENOSPC(rv))
        shared_failed(r, now, rv, "lookup");
    return 0;
}

void cka_shared_put(request_rec *r, const unsigned char *key, unsigned keylen,
                    apr_time_t expiry, const unsigned char *val, unsigned len)
{
    apr_uint32_t now = (apr_uint32_t)apr_time_sec(apr_time_now());
    if (tc.disabled || tc.provider == NULL || !shared_usable(now) || !shared_lock())
        return;
    apr_status_t rv = tc.provider->store(tc.inst, r->server, key, keylen, expiry,
                                         (unsigned char *)val, len, r->pool);
    shared_unlock();
    if (rv != APR_SUCCESS && !APR_STATUS_IS_ENOSPC(rv))
        shared_failed(r, now, rv, "store");
}
