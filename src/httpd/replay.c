/* replay.c - ConduktorAuthReplayCache: the DPoP replay store (see the .h). */
#include "replay.h"
#include "config.h"
#include "replay_table.h"
#include <ap_mpm.h>
#include <apr_shm.h>
#include <apr_thread_mutex.h>
#include <apr_atomic.h>
#include <errno.h>
#include <pthread.h>
#include <hiredis/hiredis.h>
#include <libmemcached/memcached.h>

#define NET_TIMEOUT_MS   1000    /* connect and each answer                   */
#define NET_IDLE_MAX     16      /* idle connections kept per process         */
#define DOWN_HOLD_SEC    1       /* after a failure: refused without asking   */
#define SHM_USERDATA     "conduktor_auth-replay-shm"
#define KEY_PREFIX       "conduktor-auth-replay:"
#define LOCK_BYTES       128     /* the table's lock, at the start of the
                                    segment (before the table)            */

typedef enum { RS_UNSET = 0, RS_OFF, RS_SHM, RS_REDIS, RS_MEMCACHE } rs_kind_t;

/* What the directive (or the default) says; reset in pre_config. */
static struct {
    rs_kind_t   kind;
    apr_size_t  bytes;
    const char *host;
    int         port;
    const char *spec;           /* for logs                                  */
} rc;

/* The shared-memory table: made once, in the process pool, and kept by
 * every later generation (graceful restarts keep the records). Its lock
 * lives in the segment itself - a process-shared, robust pthread mutex -
 * so that children of the old and the new generation, still serving side
 * by side after a graceful restart, take the very same lock, and a child
 * that dies holding it does not wedge the others. */
typedef struct {
    apr_shm_t          *shm;
    pthread_mutex_t    *lock;
    void               *table;
    apr_size_t          bytes;      /* of the table                         */
} shm_store_t;
static shm_store_t *store;      /* this generation's view of the kept table */

/* Network stores: idle connections of this process. */
static apr_thread_mutex_t *net_mutex;
static void               *idle[NET_IDLE_MAX];
static int                 idle_n;

/* Outage and "full" state of this process (one log line each). */
static volatile apr_uint32_t down_until, down_logged, full_logged;

const char *cka_replay_spec(void) { return rc.spec ? rc.spec : "none"; }

/* ---- the directive ---------------------------------------------------------- */

/* host:port (or [v6]:port); port optional (dflt). NULL, or why not. */
static const char *parse_server(apr_pool_t *p, const char *s, int dflt, const char **host,
                                int *port)
{
    const char *end = s + strcspn(s, ",");   /* socache specs may list more */
    const char *colon = NULL;
    if (*s == '[') {
        const char *rb = memchr(s, ']', (size_t)(end - s));
        if (rb == NULL)
            return "an IPv6 address needs its closing ]";
        *host = apr_pstrmemdup(p, s + 1, (apr_size_t)(rb - s - 1));
        colon = rb + 1 < end && rb[1] == ':' ? rb + 1 : NULL;
        if (rb + 1 < end && colon == NULL)
            return "junk after the IPv6 address";
    }
    else {
        for (const char *c = s; c < end; c++)
            if (*c == ':')
                colon = c;
        *host = apr_pstrmemdup(p, s, (apr_size_t)((colon ? colon : end) - s));
    }
    if (**host == '\0')
        return "no host";
    *port = dflt;
    if (colon != NULL) {
        char *e;
        const char *ps = apr_pstrmemdup(p, colon + 1, (apr_size_t)(end - colon - 1));
        apr_int64_t v = apr_strtoi64(ps, &e, 10);
        if (*ps == '\0' || *e != '\0' || v < 1 || v > 65535)
            return "the port is not a number from 1 to 65535";
        *port = (int)v;
    }
    return NULL;
}

const char *cka_set_replay_cache(cmd_parms *cmd, void *dc, const char *arg)
{
    const char *e = ap_check_cmd_context(cmd, GLOBAL_ONLY);
    if (e)
        return e;
    const char *accepted = "accepted: shmcb, shmcb:<bytes> (4096 to 1073741824), "
                           "redis:<host>:<port>, memcache:<host>:<port>";
    const char *why = NULL;
    if (ap_cstr_casecmp(arg, "shmcb") == 0) {
        rc.kind = RS_SHM;
        rc.bytes = CKA_REPLAY_DEFAULT_BYTES;
    }
    else if (ap_cstr_casecmpn(arg, "shmcb:", 6) == 0) {
        char *end;
        apr_int64_t v = apr_strtoi64(arg + 6, &end, 10);
        if (arg[6] == '\0' || *end != '\0' || v < 4096 || v > 1073741824)
            why = "the size is not a number of bytes from 4096 to 1073741824";
        rc.kind = RS_SHM;
        rc.bytes = (apr_size_t)v;
    }
    else if (ap_cstr_casecmpn(arg, "redis:", 6) == 0) {
        rc.kind = RS_REDIS;
        why = parse_server(cmd->pool, arg + 6, 6379, &rc.host, &rc.port);
    }
    else if (ap_cstr_casecmpn(arg, "memcache:", 9) == 0) {
        rc.kind = RS_MEMCACHE;
        why = parse_server(cmd->pool, arg + 9, 11211, &rc.host, &rc.port);
    }
    else
        why = "unknown store";
    if (why == NULL && (rc.kind == RS_REDIS || rc.kind == RS_MEMCACHE)
        && ap_strchr_c(arg, ',') != NULL)
        why = "one server only";
    if (why != NULL) {
        rc.kind = RS_UNSET;
        return apr_psprintf(cmd->pool, "%s: invalid store '%s' (%s); %s", cmd->cmd->name,
                            arg, why, accepted);
    }
    return NULL;
}

/* ---- lifecycle ------------------------------------------------------------------ */

int cka_replay_pre_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp)
{
    memset(&rc, 0, sizeof(rc));
    store = NULL;
    return OK;
}

/* The default: from ConduktorAuthCache. */
static void resolve_default(apr_pool_t *p, server_rec *s)
{
    const cka_srv_conf_t *c = ap_get_module_config(s->module_config, &conduktor_auth_module);
    const char *spec = c->cache_spec;
    if (cka_srv_cache_off(c)) {
        rc.kind = RS_OFF;
        return;
    }
    rc.kind = RS_SHM;
    rc.bytes = CKA_REPLAY_DEFAULT_BYTES;
    if (spec == NULL || ap_cstr_casecmpn(spec, "shmcb", 5) == 0)
        return;
    const char *host;
    int port;
    if (ap_cstr_casecmpn(spec, "redis:", 6) == 0
        && parse_server(p, spec + 6, 6379, &host, &port) == NULL) {
        rc.kind = RS_REDIS;
        rc.host = host;
        rc.port = port;
    }
    else if (ap_cstr_casecmpn(spec, "memcache:", 9) == 0
             && parse_server(p, spec + 9, 11211, &host, &port) == NULL) {
        rc.kind = RS_MEMCACHE;
        rc.host = host;
        rc.port = port;
    }
    else
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s, CKA_LOG_PREFIX
                     "ConduktorAuthCache %s: DPoP replays are checked on this host only "
                     "(shared memory); set ConduktorAuthReplayCache redis:<host:port> or "
                     "memcache:<host:port> to share them", spec);
}

static apr_status_t forget_store(void *v)
{
    store = NULL;
    return APR_SUCCESS;
}

static int shm_post_config(apr_pool_t *pconf, server_rec *s)
{
    apr_pool_t *pp = s->process->pool;
    shm_store_t *kept = NULL;
    apr_pool_userdata_get((void **)&kept, SHM_USERDATA, pp);
    if (kept == NULL) {
        kept = apr_pcalloc(pp, sizeof(*kept));
        apr_status_t rv = apr_shm_create(&kept->shm, LOCK_BYTES + rc.bytes, NULL, pp);
        if (rv != APR_SUCCESS) {
            ap_log_error(APLOG_MARK, APLOG_EMERG, rv, s, CKA_LOG_PREFIX
                         "ConduktorAuthReplayCache %s: cannot make %" APR_SIZE_T_FMT
                         " bytes of shared memory", rc.spec, rc.bytes);
            return HTTP_INTERNAL_SERVER_ERROR;
        }
        unsigned char *base = apr_shm_baseaddr_get(kept->shm);
        kept->lock = (pthread_mutex_t *)base;
        kept->table = base + LOCK_BYTES;
        kept->bytes = apr_shm_size_get(kept->shm) - LOCK_BYTES;
        pthread_mutexattr_t a;
        int e = pthread_mutexattr_init(&a);
        if (e == 0)
            e = pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
        if (e == 0)
            e = pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
        if (e == 0)
            e = pthread_mutex_init(kept->lock, &a);
        pthread_mutexattr_destroy(&a);
        if (e != 0 || cka_rt_init(kept->table, kept->bytes) != 0) {
            ap_log_error(APLOG_MARK, APLOG_EMERG, e, s, CKA_LOG_PREFIX
                         "ConduktorAuthReplayCache: cannot set up the table and its lock");
            return HTTP_INTERNAL_SERVER_ERROR;
        }
        apr_pool_userdata_set(kept, SHM_USERDATA, apr_pool_cleanup_null, pp);
    }
    else if (kept->bytes < rc.bytes || cka_rt_slots_for(kept->bytes)
             != cka_rt_slots_for(rc.bytes))
        ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, s, CKA_LOG_PREFIX
                     "ConduktorAuthReplayCache: the table keeps its size of %" APR_SIZE_T_FMT
                     " bytes (and its records) across this graceful restart; a new size "
                     "takes effect at the next full restart", kept->bytes);
    if (!cka_rt_valid(kept->table, kept->bytes))
        return HTTP_INTERNAL_SERVER_ERROR;
    store = kept;
    apr_pool_cleanup_register(pconf, NULL, forget_store, apr_pool_cleanup_null);
    return OK;
}

int cka_replay_post_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp,
                              server_rec *s)
{
    if (rc.kind == RS_UNSET)
        resolve_default(pconf, s);
    switch (rc.kind) {
    case RS_SHM:
        rc.spec = apr_psprintf(pconf, "shmcb:%" APR_SIZE_T_FMT, rc.bytes);
        /* The first pass (before httpd detaches) serves nothing: the table
         * is made in the generation that will fork the children. */
        if (ap_state_query(AP_SQ_MAIN_STATE) == AP_SQ_MS_CREATE_PRE_CONFIG)
            return OK;
        return shm_post_config(pconf, s);
    case RS_REDIS:
        rc.spec = apr_psprintf(pconf, "redis:%s:%d", rc.host, rc.port);
        return OK;
    case RS_MEMCACHE:
        rc.spec = apr_psprintf(pconf, "memcache:%s:%d", rc.host, rc.port);
        return OK;
    default:
        rc.spec = "none";
        return OK;
    }
}

static apr_status_t net_cleanup(void *v)
{
    for (int i = 0; i < idle_n; i++) {
        if (rc.kind == RS_REDIS)
            redisFree(idle[i]);
        else
            memcached_free(idle[i]);
    }
    idle_n = 0;
    net_mutex = NULL;
    return APR_SUCCESS;
}

void cka_replay_child_init(apr_pool_t *pchild, server_rec *s)
{
    apr_atomic_set32(&down_until, 0);
    apr_atomic_set32(&down_logged, 0);
    apr_atomic_set32(&full_logged, 0);
    if (rc.kind == RS_REDIS || rc.kind == RS_MEMCACHE) {
        idle_n = 0;
        if (apr_thread_mutex_create(&net_mutex, APR_THREAD_MUTEX_DEFAULT, pchild)
            != APR_SUCCESS)
            net_mutex = NULL;
        else
            apr_pool_cleanup_register(pchild, NULL, net_cleanup, apr_pool_cleanup_null);
    }
}

/* ---- outages --------------------------------------------------------------------- */

static void went_down(request_rec *r, const char *what)
{
    apr_uint32_t now = (apr_uint32_t)apr_time_sec(apr_time_now());
    apr_atomic_set32(&down_until, now + DOWN_HOLD_SEC);
    if (apr_atomic_cas32(&down_logged, 1, 0) == 0)
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, CKA_LOG_PREFIX
                      "DPoP replay store %s does not answer (%s): DPoP requests are refused "
                      "(503) until it does; logged once per outage",
                      rc.spec, ap_escape_logitem(r->pool, what));
}

static void answered(request_rec *r)
{
    if (apr_atomic_read32(&down_logged) && apr_atomic_cas32(&down_logged, 0, 1) == 1)
        ap_log_rerror(APLOG_MARK, APLOG_NOTICE, 0, r, CKA_LOG_PREFIX
                      "DPoP replay store %s answers again", rc.spec);
}

static int held_down(void)
{
    apr_uint32_t until = apr_atomic_read32(&down_until);
    apr_uint32_t now = (apr_uint32_t)apr_time_sec(apr_time_now());
    return until != 0 && (apr_int32_t)(now - until) < 0;
}

/* ---- the stores -------------------------------------------------------------------- */

static cka_replay_result_t shm_add(request_rec *r, const unsigned char *name, int ttl)
{
    if (store == NULL)
        return CKA_REPLAY_DOWN;
    int e = pthread_mutex_lock(store->lock);
    if (e == EOWNERDEAD)          /* a child died holding it: the table is */
        e = pthread_mutex_consistent(store->lock);    /* slots, still valid */
    if (e != 0) {
        went_down(r, "the table's lock cannot be taken");
        return CKA_REPLAY_DOWN;
    }
    apr_int64_t now = apr_time_sec(apr_time_now());
    cka_rt_result_t res = cka_rt_add(store->table, name, now, now + ttl);
    pthread_mutex_unlock(store->lock);
    if (res == CKA_RT_FULL) {
        if (apr_atomic_cas32(&full_logged, 1, 0) == 0)
            ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, CKA_LOG_PREFIX
                          "DPoP replay store %s is full: new DPoP proofs are refused (503) "
                          "until records expire (no record is evicted early); raise "
                          "ConduktorAuthReplayCache shmcb:<bytes>", rc.spec);
        return CKA_REPLAY_FULL;
    }
    if (res == CKA_RT_ADDED && apr_atomic_read32(&full_logged))
        apr_atomic_set32(&full_logged, 0);
    return res == CKA_RT_ADDED ? CKA_REPLAY_NEW : CKA_REPLAY_SEEN;
}

static void *take_conn(void)
{
    void *c = NULL;
    if (net_mutex == NULL)
        return NULL;
    apr_thread_mutex_lock(net_mutex);
    if (idle_n > 0)
        c = idle[--idle_n];
    apr_thread_mutex_unlock(net_mutex);
    return c;
}

static void give_back(void *c)
{
    int kept = 0;
    apr_thread_mutex_lock(net_mutex);
    if (idle_n < NET_IDLE_MAX) {
        idle[idle_n++] = c;
        kept = 1;
    }
    apr_thread_mutex_unlock(net_mutex);
    if (!kept) {
        if (rc.kind == RS_REDIS)
            redisFree(c);
        else
            memcached_free(c);
    }
}

static void hex_key(const unsigned char *name, char *out)
{
    static const char hx[] = "0123456789abcdef";
    size_t n = sizeof(KEY_PREFIX) - 1;
    memcpy(out, KEY_PREFIX, n);
    for (int i = 0; i < CKA_SEAL_NAME_LEN; i++) {
        out[n++] = hx[name[i] >> 4];
        out[n++] = hx[name[i] & 15];
    }
    out[n] = '\0';
}

#define KEY_LEN (sizeof(KEY_PREFIX) - 1 + 2 * CKA_SEAL_NAME_LEN)

static cka_replay_result_t redis_add(request_rec *r, const char *key, int ttl,
                                     const unsigned char *val, unsigned len)
{
    redisContext *c = take_conn();
    struct timeval tv = { NET_TIMEOUT_MS / 1000, (NET_TIMEOUT_MS % 1000) * 1000 };
    if (c == NULL) {
        if (net_mutex == NULL)
            return CKA_REPLAY_DOWN;
        c = redisConnectWithTimeout(rc.host, rc.port, tv);
        if (c == NULL || c->err) {
            went_down(r, c ? c->errstr : "cannot allocate a connection");
            if (c)
                redisFree(c);
            return CKA_REPLAY_DOWN;
        }
        redisSetTimeout(c, tv);
    }
    redisReply *rep = redisCommand(c, "SET %b %b NX PX %lld", key, (size_t)KEY_LEN, val,
                                   (size_t)len, (long long)ttl * 1000);
    cka_replay_result_t res = CKA_REPLAY_DOWN;
    const char *why = c->err ? c->errstr : "no answer";
    if (rep != NULL) {
        if (rep->type == REDIS_REPLY_STATUS && rep->str && strcmp(rep->str, "OK") == 0)
            res = CKA_REPLAY_NEW;
        else if (rep->type == REDIS_REPLY_NIL)
            res = CKA_REPLAY_SEEN;
        else
            why = rep->type == REDIS_REPLY_ERROR ? "an error answer" : "an unexpected answer";
        freeReplyObject(rep);
    }
    if (res == CKA_REPLAY_DOWN) {
        went_down(r, why);
        redisFree(c);
        return res;
    }
    give_back(c);
    return res;
}

static cka_replay_result_t memcache_add(request_rec *r, const char *key, int ttl,
                                        const unsigned char *val, unsigned len)
{
    memcached_st *m = take_conn();
    if (m == NULL) {
        if (net_mutex == NULL)
            return CKA_REPLAY_DOWN;
        m = memcached_create(NULL);
        if (m == NULL || memcached_server_add(m, rc.host, (in_port_t)rc.port)
                         != MEMCACHED_SUCCESS) {
            went_down(r, "cannot set up a connection");
            if (m)
                memcached_free(m);
            return CKA_REPLAY_DOWN;
        }
        memcached_behavior_set(m, MEMCACHED_BEHAVIOR_CONNECT_TIMEOUT, NET_TIMEOUT_MS);
        memcached_behavior_set(m, MEMCACHED_BEHAVIOR_POLL_TIMEOUT, NET_TIMEOUT_MS);
        memcached_behavior_set(m, MEMCACHED_BEHAVIOR_SND_TIMEOUT, NET_TIMEOUT_MS * 1000);
        memcached_behavior_set(m, MEMCACHED_BEHAVIOR_RCV_TIMEOUT, NET_TIMEOUT_MS * 1000);
        memcached_behavior_set(m, MEMCACHED_BEHAVIOR_RETRY_TIMEOUT, 1);
    }
    memcached_return_t rv = memcached_add(m, key, KEY_LEN, (const char *)val, len,
                                          (time_t)ttl, 0);
    if (rv == MEMCACHED_SUCCESS || rv == MEMCACHED_NOTSTORED || rv == MEMCACHED_DATA_EXISTS) {
        give_back(m);
        return rv == MEMCACHED_SUCCESS ? CKA_REPLAY_NEW : CKA_REPLAY_SEEN;
    }
    went_down(r, memcached_strerror(m, rv));
    memcached_free(m);
    return CKA_REPLAY_DOWN;
}

cka_replay_result_t cka_replay_add(request_rec *r, const unsigned char name[CKA_SEAL_NAME_LEN],
                                   int ttl, const unsigned char *sealed, unsigned sealed_len)
{
    char key[KEY_LEN + 1];
    cka_replay_result_t res;
    if (ttl < 1)
        ttl = 1;
    switch (rc.kind) {
    case RS_SHM:
        return shm_add(r, name, ttl);
    case RS_REDIS:
    case RS_MEMCACHE:
        if (held_down())
            return CKA_REPLAY_DOWN;
        hex_key(name, key);
        res = rc.kind == RS_REDIS ? redis_add(r, key, ttl, sealed, sealed_len)
                                  : memcache_add(r, key, ttl, sealed, sealed_len);
        if (res != CKA_REPLAY_DOWN)
            answered(r);
        return res;
    default:
        return CKA_REPLAY_DOWN;
    }
}
