/* shared_cache.c - the socache provider behind ConduktorAuthCache, its
 * secret and seal, and sealed access for the other stores (see the .h). */
#include "shared_cache.h"
#include "config.h"
#include "metrics.h"
#include <ap_socache.h>
#include <ap_provider.h>
#include <apr_global_mutex.h>
#include <util_mutex.h>
#include <apr_atomic.h>
#include <openssl/crypto.h>

/* After the shared cache fails (server down, connection refused), this
 * process leaves it alone for this many seconds: requests are verified in
 * full and the socache provider does not log a line per request. */
#define SHARED_BACKOFF_SEC 5

/* This generation's cache, from the main server's settings (config.h):
 * the provider instance, the seal and the mutex; set in post_config. */
static struct {
    int                          off;           /* "none"                    */
    const char                  *spec;          /* as written, for logs      */
    const ap_socache_provider_t *provider;
    ap_socache_instance_t       *inst;
    int                          ttl;           /* seconds                   */
    const cka_seal_t            *seal;
    apr_global_mutex_t          *mutex;         /* for NOTMPSAFE providers   */
} sc;

int cka_cache_enabled(void) { return !sc.off && sc.seal != NULL; }
int cka_cache_ttl(void) { return sc.ttl; }
const cka_seal_t *cka_cache_seal(void) { return sc.off ? NULL : sc.seal; }

static cka_srv_conf_t *srv_conf(server_rec *s)
{
    return ap_get_module_config(s->module_config, &conduktor_auth_module);
}

/* Providers that reach other hosts: their records need a shared secret. */
static int is_network(const char *spec)
{
    size_t n = spec ? strcspn(spec, ":") : 0;
    return (n == 5 && ap_cstr_casecmpn(spec, "redis", n) == 0)
        || (n == 8 && ap_cstr_casecmpn(spec, "memcache", n) == 0)
        || (n == 2 && ap_cstr_casecmpn(spec, "dc", n) == 0);
}

const char *cka_set_cache(cmd_parms *cmd, void *dc, const char *arg)
{
    const char *e = ap_check_cmd_context(cmd, GLOBAL_ONLY);
    if (e)
        return e;
    cka_srv_conf_t *c = srv_conf(cmd->server);
    if (ap_cstr_casecmp(arg, "none") == 0) {
        c->cache_off = 1;
        c->cache_provider = NULL;
        c->cache_instance = NULL;
        c->cache_spec = "none";
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
    c->cache_off = 0;
    c->cache_provider = prov;
    c->cache_instance = inst;
    c->cache_spec = apr_pstrdup(cmd->pool, arg);
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
    srv_conf(cmd->server)->cache_ttl = (int)v;
    return NULL;
}

static apr_status_t wipe_secret(void *v)
{
    cka_cache_secret_t *sec = v;
    OPENSSL_cleanse((void *)sec->bytes, sec->len);
    return APR_SUCCESS;
}

/* Read as root when the configuration is read: the file may be readable by
 * root only. Its content goes nowhere but into the key derivation, and is
 * wiped when the configuration is freed. */
const char *cka_set_cache_secret(cmd_parms *cmd, void *dc, const char *arg)
{
    const char *e = ap_check_cmd_context(cmd, GLOBAL_ONLY);
    if (e)
        return e;
    if (strncmp(arg, "file:", 5) != 0 || arg[5] == '\0')
        return apr_psprintf(cmd->pool, "%s: invalid secret source '%s'; accepted: "
                            "file:/path/to/secret (at least 32 random bytes, mode 600)",
                            cmd->cmd->name, arg);
    const char *path = ap_server_root_relative(cmd->pool, arg + 5);
    const char *why = NULL;
    size_t len = 0;
    const unsigned char *bytes = path ? cka_seal_read_secret(cmd->pool, path, &len, &why)
                                      : NULL;
    if (bytes == NULL)
        return apr_psprintf(cmd->pool, "%s: %s", cmd->cmd->name,
                            why ? why : "invalid path");
    cka_cache_secret_t *sec = apr_palloc(cmd->pool, sizeof(*sec));
    sec->path = path;
    sec->bytes = bytes;
    sec->len = len;
    apr_pool_cleanup_register(cmd->pool, sec, wipe_secret, apr_pool_cleanup_null);
    srv_conf(cmd->server)->cache_secret = sec;
    return NULL;
}

int cka_shared_cache_pre_config(apr_pool_t *pconf)
{
    memset(&sc, 0, sizeof(sc));
    return ap_mutex_register(pconf, CKA_CACHE_MUTEX, NULL, APR_LOCK_DEFAULT, 0);
}

int cka_shared_cache_check_config(apr_pool_t *ptemp, server_rec *s)
{
    const cka_srv_conf_t *c = srv_conf(s);
    if (!cka_srv_cache_off(c) && is_network(c->cache_spec) && c->cache_secret == NULL) {
        ap_log_error(APLOG_MARK, APLOG_EMERG, 0, s, CKA_LOG_PREFIX
                     "ConduktorAuthCache %s is shared with other hosts: "
                     "ConduktorAuthCacheSecret file:<path> is required with it (the same "
                     "file of at least 32 random bytes on every host sharing the cache, "
                     "e.g. openssl rand -out /etc/apache2/conduktor-cache.key 32; chmod 600)",
                     c->cache_spec);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    return OK;
}

#define RANDOM_SECRET_KEY "conduktor_auth-random-cache-secret"
#define RANDOM_SECRET_LEN 32

static apr_status_t destroy_cache(void *v)
{
    server_rec *s = v;
    if (sc.provider && sc.inst)
        sc.provider->destroy(sc.inst, s);
    return APR_SUCCESS;
}

int cka_shared_cache_post_config(apr_pool_t *pconf, server_rec *s)
{
    const cka_srv_conf_t *c = srv_conf(s);
    sc.off = cka_srv_cache_off(c);
    sc.ttl = cka_srv_cache_ttl(c);
    if (sc.off)
        return OK;
    sc.provider = c->cache_provider;
    sc.inst = c->cache_instance;
    sc.spec = c->cache_spec;
    /* The seal: from the secret file, or a random key made once, in the
     * first generation, and kept in the process pool: graceful restarts
     * keep the names of DPoP replay records (replay.c keeps the records)
     * and the nonces made before them. */
    const unsigned char *secret = c->cache_secret ? c->cache_secret->bytes : NULL;
    size_t secret_len = c->cache_secret ? c->cache_secret->len : 0;
    if (secret == NULL) {
        unsigned char *kept = NULL;
        apr_pool_userdata_get((void **)&kept, RANDOM_SECRET_KEY, s->process->pool);
        if (kept == NULL) {
            kept = apr_palloc(s->process->pool, RANDOM_SECRET_LEN);
            if (cka_seal_random_secret(kept, RANDOM_SECRET_LEN) != 0) {
                ap_log_error(APLOG_MARK, APLOG_EMERG, 0, s, CKA_LOG_PREFIX
                             "cannot make a random cache key (OpenSSL RAND_bytes failed)");
                return HTTP_INTERNAL_SERVER_ERROR;
            }
            /* No cleanup of ours on the process pool: it is destroyed at
             * exit, after httpd has unloaded this module. */
            apr_pool_userdata_set(kept, RANDOM_SECRET_KEY, apr_pool_cleanup_null,
                                  s->process->pool);
        }
        secret = kept;
        secret_len = RANDOM_SECRET_LEN;
    }
    const char *why = NULL;
    sc.seal = cka_seal_create(pconf, secret, secret_len, &why);
    if (sc.seal == NULL) {
        ap_log_error(APLOG_MARK, APLOG_EMERG, 0, s, CKA_LOG_PREFIX
                     "ConduktorAuthCacheSecret: %s", why);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    if (sc.provider == NULL) {
        /* The default: shmcb when its module is loaded. */
        sc.provider = ap_lookup_provider(AP_SOCACHE_PROVIDER_GROUP, "shmcb",
                                         AP_SOCACHE_PROVIDER_VERSION);
        if (sc.provider == NULL) {
            ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, s, CKA_LOG_PREFIX
                         "mod_socache_shmcb is not loaded: validated tokens are cached "
                         "per process only (load it, or set ConduktorAuthCache)");
            return OK;
        }
        const char *err = sc.provider->create(&sc.inst, NULL, pconf, pconf);
        if (err) {
            ap_log_error(APLOG_MARK, APLOG_EMERG, 0, s, CKA_LOG_PREFIX "shmcb: %s", err);
            return HTTP_INTERNAL_SERVER_ERROR;
        }
        sc.spec = "shmcb";
    }
    struct ap_socache_hints hints = { .avg_id_len = CKA_SEAL_NAME_LEN, .avg_obj_size = 1024,
                                      .expiry_interval = 30 };
    apr_status_t rv = sc.provider->init(sc.inst, "conduktor-auth-tokens", &hints, s, pconf);
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_EMERG, rv, s, CKA_LOG_PREFIX
                     "ConduktorAuthCache %s: cannot initialise the cache", sc.spec);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    apr_pool_cleanup_register(pconf, s, destroy_cache, apr_pool_cleanup_null);
    if (sc.provider->flags & AP_SOCACHE_FLAG_NOTMPSAFE) {
        rv = ap_global_mutex_create(&sc.mutex, NULL, CKA_CACHE_MUTEX, NULL, s, pconf, 0);
        if (rv != APR_SUCCESS)
            return HTTP_INTERNAL_SERVER_ERROR;
    }
    return OK;
}

void cka_shared_cache_child_init(apr_pool_t *pchild, server_rec *s)
{
    if (sc.off || sc.mutex == NULL)
        return;
    apr_status_t rv = apr_global_mutex_child_init(&sc.mutex,
                                                  apr_global_mutex_lockfile(sc.mutex), pchild);
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s, CKA_LOG_PREFIX
                     "cannot attach to the token-cache mutex; shared cache off in this child");
        sc.provider = NULL;
    }
}

/* ---- access ---------------------------------------------------------------*/

static int shared_lock(void)
{
    return sc.mutex == NULL || apr_global_mutex_trylock(sc.mutex) == APR_SUCCESS;
}

static void shared_unlock(void)
{
    if (sc.mutex)
        apr_global_mutex_unlock(sc.mutex);
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
                      "shared cache %s failed on %s; this process works without it "
                      "for %d s", sc.spec, op, SHARED_BACKOFF_SEC);
}

int cka_shared_lookup(request_rec *r, const unsigned char name[CKA_SEAL_NAME_LEN],
                      unsigned char **val, unsigned *len, unsigned max)
{
    apr_uint32_t now = (apr_uint32_t)apr_time_sec(apr_time_now());
    if (sc.off || sc.provider == NULL || sc.seal == NULL || !shared_usable(now)
        || !shared_lock())
        return 0;
    unsigned char *buf = apr_palloc(r->pool, max);
    unsigned n = max;
    apr_status_t rv = sc.provider->retrieve(sc.inst, r->server, name, CKA_SEAL_NAME_LEN,
                                            buf, &n, r->pool);
    shared_unlock();
    if (rv == APR_SUCCESS) {
        *val = buf;
        *len = n;
        return 1;
    }
    /* A miss is APR_NOTFOUND; a record too large for buf is not ours;
     * anything else is the cache failing. */
    if (!APR_STATUS_IS_NOTFOUND(rv) && !APR_STATUS_IS_ENOENT(rv)
        && !APR_STATUS_IS_ENOSPC(rv))
        shared_failed(r, now, rv, "lookup");
    return 0;
}

void cka_shared_store(request_rec *r, const unsigned char name[CKA_SEAL_NAME_LEN],
                      apr_time_t expiry, const unsigned char *val, unsigned len)
{
    apr_uint32_t now = (apr_uint32_t)apr_time_sec(apr_time_now());
    if (sc.off || sc.provider == NULL || sc.seal == NULL || !shared_usable(now)
        || !shared_lock())
        return;
    apr_status_t rv = sc.provider->store(sc.inst, r->server, name, CKA_SEAL_NAME_LEN,
                                         expiry, (unsigned char *)val, len, r->pool);
    shared_unlock();
    /* ENOSPC: this entry does not fit (shmcb); the cache itself is fine. */
    if (rv != APR_SUCCESS && !APR_STATUS_IS_ENOSPC(rv))
        shared_failed(r, now, rv, "store");
}

int cka_shared_get(request_rec *r, const unsigned char *key, unsigned keylen,
                   unsigned char *buf, unsigned *len)
{
    unsigned char name[CKA_SEAL_NAME_LEN], *sealed, *pt;
    unsigned n;
    size_t ptlen;
    if (sc.seal == NULL
        || cka_seal_name(sc.seal, CKA_SEAL_KEYSET, key, keylen, name) != 0
        || !cka_shared_lookup(r, name, &sealed, &n, *len + CKA_SEAL_OVERHEAD))
        return 0;
    if (cka_unseal(sc.seal, r->pool, CKA_SEAL_KEYSET, name, sealed, n, &pt, &ptlen) != 0
        || ptlen > *len) {
        cka_count(cache_rejected);
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, CKA_LOG_PREFIX
                      "shared cache %s: a key-set record does not open with this "
                      "ConduktorAuthCacheSecret (another secret, or written by someone "
                      "else); ignored", sc.spec);
        return 0;
    }
    memcpy(buf, pt, ptlen);
    *len = (unsigned)ptlen;
    return 1;
}

void cka_shared_put(request_rec *r, const unsigned char *key, unsigned keylen,
                    apr_time_t expiry, const unsigned char *val, unsigned len)
{
    unsigned char name[CKA_SEAL_NAME_LEN], *sealed;
    size_t n;
    if (sc.seal == NULL
        || cka_seal_name(sc.seal, CKA_SEAL_KEYSET, key, keylen, name) != 0
        || cka_seal(sc.seal, r->pool, CKA_SEAL_KEYSET, name, val, len, &sealed, &n) != 0)
        return;
    cka_shared_store(r, name, expiry, sealed, (unsigned)n);
}
