/* key_store.c - per-issuer key sets shared by all child processes.
 *
 * Shared memory holds bytes, never pointers: one slot per remote issuer
 * with the last good JWKS document, a version number and the fetch state.
 * Fetching is single-flight across processes (a flag set under the global
 * mutex, taken with trylock so requests never queue behind it) and the
 * network I/O happens with no lock held. Each process parses a document
 * once per version and shares the parsed set between its threads with a
 * reference count, so a set being replaced is freed only after the last
 * request using it ends. */
#include "key_store.h"
#include "token_cache.h"
#include "fetch.h"
#include "keyrec.h"
#include "cka_limits.h"
#include <apr_shm.h>
#include <apr_global_mutex.h>
#include <apr_thread_mutex.h>
#include <apr_atomic.h>
#include <util_mutex.h>
#include <curl/curl.h>

#define URI_MAX 2048
#define SHM_MAGIC 0x434b4132u   /* "CKA2" */
/* How long a key set stays in the shared cache after it turns stale, as a
 * last good set for hosts whose own fetch fails. */
#define SHARED_STALE_KEEP apr_time_from_sec(86400)

typedef struct {
    char          iss[URI_MAX];        /* owner; "" = free                */
    char          source[URI_MAX];     /* configured JWKS URL or ""       */
    char          jwks_uri[URI_MAX];   /* source, or found by discovery   */
    apr_uint32_t  version;             /* 0 = never obtained              */
    apr_uint32_t  fetching;            /* single-flight flag              */
    apr_time_t    fetch_started;
    apr_time_t    fetched_at;          /* last success                    */
    apr_time_t    fresh_until;
    apr_time_t    last_attempt;        /* last attempt of any kind        */
    apr_time_t    last_miss_fetch;     /* last attempt caused by a kid    */
    apr_uint32_t  fetch_ok, fetch_failed, keys_loaded;
    apr_uint32_t  from_shared;         /* sets taken from ConduktorAuthCache */
    apr_size_t    len;
    char          doc[CKA_MAX_DOC_LEN];
} slot_t;

typedef struct {
    apr_uint32_t magic;
    apr_uint32_t nslots;
    slot_t       slots[CKA_MAX_REMOTE_ISSUERS];
} shared_t;

/* Process-wide state. The shared segment lives in the process pool so a
 * graceful restart keeps the keys; the mutex is re-made per generation. */
static shared_t *shared;
static apr_global_mutex_t *gmutex;

/* Per-process parsed sets. */
typedef struct held_t {
    apr_uint32_t   refs;
    apr_uint32_t   version;
    apr_pool_t    *pool;
    cka_keyset_t  *ks;
} held_t;
static held_t *local[CKA_MAX_REMOTE_ISSUERS];
static apr_thread_mutex_t *local_mutex;

/* ---- helpers ---------------------------------------------------------------*/
static apr_time_t load_time(const apr_time_t *t)
{
    return __atomic_load_n(t, __ATOMIC_ACQUIRE);
}

static void store_time(apr_time_t *t, apr_time_t v)
{
    __atomic_store_n(t, v, __ATOMIC_RELEASE);
}

static void held_release(held_t *h)
{
    if (h != NULL && apr_atomic_dec32(&h->refs) == 0)
        apr_pool_destroy(h->pool);
}

static apr_status_t held_cleanup(void *v)
{
    held_release(v);
    return APR_SUCCESS;
}

static void local_lock(void)
{
    if (local_mutex)
        apr_thread_mutex_lock(local_mutex);
}

static void local_unlock(void)
{
    if (local_mutex)
        apr_thread_mutex_unlock(local_mutex);
}

/* ---- parsing a shared document into this process ----------------------------*/

/* Parse doc into a new held set. NULL with *err on failure. */
static held_t *parse_doc(const char *doc, apr_size_t len, apr_uint32_t version,
                         char **err, apr_pool_t *errpool)
{
    apr_allocator_t *al;
    apr_pool_t *p;
    if (apr_allocator_create(&al) != APR_SUCCESS)
        return NULL;
    if (apr_pool_create_unmanaged_ex(&p, NULL, al) != APR_SUCCESS) {
        apr_allocator_destroy(al);
        return NULL;
    }
    apr_allocator_owner_set(al, p);
    char *why = NULL;
    cka_keyset_t *ks = cka_keyset_parse_json(p, doc, len, &why);
    if (ks != NULL) {
        /* HMAC keys are trusted only from a local file. */
        cka_keyset_drop_kty(ks, CKA_KTY_OCT);
        if (ks->keys->nelts == 0) {
            ks = NULL;
            why = "no usable signature key (oct keys are not taken from remote sets)";
        }
    }
    if (ks == NULL) {
        *err = apr_pstrdup(errpool, why ? why : "unparsable");
        apr_pool_destroy(p);
        return NULL;
    }
    held_t *h = apr_pcalloc(p, sizeof(*h));
    h->refs = 1;
    h->version = version;
    h->pool = p;
    h->ks = ks;
    return h;
}

/* Bring this process's parsed copy up to the shared version. */
static void refresh_local(request_rec *r, int idx, slot_t *sl)
{
    apr_uint32_t v = apr_atomic_read32(&sl->version);
    if (v == 0)
        return;
    local_lock();
    int current = local[idx] && local[idx]->version == v;
    local_unlock();
    if (current)
        return;
    /* Copy the document out under the global mutex (a memcpy), parse it
     * without any lock. */
    char *copy = NULL;
    apr_size_t len = 0;
    if (apr_global_mutex_lock(gmutex) != APR_SUCCESS)
        return;
    v = sl->version;
    len = sl->len;
    copy = apr_pmemdup(r->pool, sl->doc, len);
    apr_global_mutex_unlock(gmutex);
    char *err = NULL;
    held_t *h = parse_doc(copy, len, v, &err, r->pool);
    if (h == NULL) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, CKA_LOG_PREFIX
                      "shared key set of issuer %s does not parse: %s",
                      ap_escape_logitem(r->pool, sl->iss), err);
        return;
    }
    local_lock();
    held_t *old = NULL;
    if (local[idx] == NULL || local[idx]->version != v) {
        old = local[idx];
        local[idx] = h;
        h = NULL;
    }
    local_unlock();
    held_release(old);
    held_release(h);       /* another thread was quicker: drop ours */
}

/* The parsed set for this request, referenced until the request ends. */
static const cka_keyset_t *use_local(request_rec *r, int idx)
{
    local_lock();
    held_t *h = local[idx];
    if (h != NULL)
        apr_atomic_inc32(&h->refs);
    local_unlock();
    if (h == NULL)
        return NULL;
    apr_pool_cleanup_register(r->pool, h, held_cleanup, apr_pool_cleanup_null);
    return h->ks;
}

/* ---- fetching ---------------------------------------------------------------*/

static apr_time_t retry_interval(const cka_srv_conf_t *s)
{
    int miss = s->miss_refetch == CKA_UNSET ? 60 : s->miss_refetch;
    return apr_time_from_sec(miss < 30 ? miss : 30);
}

/* Decide, under the global mutex taken with trylock, whether this request
 * fetches. Returns 1 when it owns the fetch. */
static int claim_fetch(slot_t *sl, const cka_srv_conf_t *s, int miss, apr_time_t now,
                       apr_time_t request_time)
{
    int timeout = s->http_timeout == CKA_UNSET ? 5 : s->http_timeout;
    int miss_iv = s->miss_refetch == CKA_UNSET ? 60 : s->miss_refetch;
    int mine = 0;
    if (apr_global_mutex_trylock(gmutex) != APR_SUCCESS)
        return 0;                   /* someone else is deciding: don't queue */
    int busy = sl->fetching && now - sl->fetch_started < apr_time_from_sec(2 * timeout + 5);
    if (!busy) {
        if (miss)   /* once per interval, and not when a fetch already
                       happened since this request started */
            mine = now - sl->last_miss_fetch >= apr_time_from_sec(miss_iv)
                   && sl->last_attempt < request_time;
        else
            mine = (sl->version == 0 || now >= sl->fresh_until)
                   && now - sl->last_attempt >= retry_interval(s);
        if (mine) {
            sl->fetching = 1;
            sl->fetch_started = now;
            store_time(&sl->last_attempt, now);
            if (miss)
                store_time(&sl->last_miss_fetch, now);
        }
    }
    apr_global_mutex_unlock(gmutex);
    return mine;
}

static long remaining_ms(apr_time_t deadline)
{
    apr_time_t left = deadline - apr_time_now();
    return left > apr_time_from_msec(100) ? (long)apr_time_as_msec(left) : 100;
}

/* ---- sharing key sets between hosts (ConduktorAuthCache) ---------------------*/

/* A key set another host fetched, from the shared cache: only one newer
 * than this host's, fresh when need_fresh, from the configured JWKS URL
 * (or an https one found by discovery), and parsing with the strict key-set
 * parser. NULL otherwise. */
static held_t *shared_candidate(request_rec *r, const cka_issuer_t *is, slot_t *sl,
                                int need_fresh, cka_keyrec_t *rec)
{
    unsigned char key[CKA_KEYREC_KEY_LEN];
    unsigned len = CKA_MAX_DOC_LEN + CKA_KEYREC_URI_MAX + 64;
    unsigned char *buf = apr_palloc(r->pool, len);
    if (cka_keyrec_key(is->iss, is->kind == CKA_KEYS_URL ? is->source : "", key) != 0
        || !cka_shared_get(r, key, sizeof(key), buf, &len))
        return NULL;
    if (cka_keyrec_decode(buf, len, CKA_MAX_DOC_LEN, r->pool, rec) != 0) {
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, CKA_LOG_PREFIX
                      "shared cache entry for the key set of issuer %s is not a key "
                      "set record; ignored", ap_escape_logitem(r->pool, is->iss));
        return NULL;
    }
    apr_time_t now = apr_time_now();
    if (rec->fetched_at <= sl->fetched_at || rec->fetched_at > now + apr_time_from_sec(60)
        || (need_fresh && now >= rec->fresh_until))
        return NULL;
    const char *uri = rec->jwks_uri;
    if (is->kind == CKA_KEYS_URL ? strcmp(uri, is->source) != 0
                                 : (strncmp(uri, "https://", 8) != 0 || strlen(uri) >= URI_MAX)) {
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, CKA_LOG_PREFIX
                      "shared key set of issuer %s came from %s, not from this issuer's "
                      "key source; ignored", ap_escape_logitem(r->pool, is->iss),
                      ap_escape_logitem(r->pool, uri));
        return NULL;
    }
    char *perr = NULL;
    held_t *h = parse_doc(rec->doc, rec->doc_len, 0, &perr, r->pool);
    if (h == NULL)
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, CKA_LOG_PREFIX
                      "shared key set of issuer %s does not parse (%s); ignored",
                      ap_escape_logitem(r->pool, is->iss), ap_escape_logitem(r->pool, perr));
    return h;
}

/* Publish a set this host fetched, for the other hosts. */
static void shared_publish(request_rec *r, const cka_issuer_t *is, const cka_keyrec_t *rec)
{
    unsigned char key[CKA_KEYREC_KEY_LEN], *bytes;
    size_t n;
    if (cka_keyrec_encode(r->pool, rec, CKA_MAX_DOC_LEN, &bytes, &n) != 0
        || cka_keyrec_key(is->iss, is->kind == CKA_KEYS_URL ? is->source : "", key) != 0)
        return;
    cka_shared_put(r, key, sizeof(key), rec->fresh_until + SHARED_STALE_KEEP, bytes,
                   (unsigned)n);
}

/* Under the global mutex: make doc the issuer's key set. */
static void install_locked(slot_t *sl, const char *doc, apr_size_t len, const char *uri,
                           const held_t *h, apr_time_t fetched_at, apr_time_t fresh_until)
{
    memcpy(sl->doc, doc, len);
    sl->len = len;
    apr_cpystrn(sl->jwks_uri, uri, URI_MAX);
    sl->keys_loaded = (apr_uint32_t)h->ks->keys->nelts;
    sl->fetched_at = fetched_at;
    store_time(&sl->fresh_until, fresh_until);
    apr_atomic_inc32(&sl->version);
}

/* Fetch (discovery first when the issuer has no JWKS URL yet), validate,
 * and publish. All within one ConduktorAuthHTTPTimeout. A regular fetch
 * first looks for a fresher set another host put in the shared cache; when
 * the IdP fails, a newer set from there (even a stale one) is taken. */
static void do_fetch(request_rec *r, const cka_issuer_t *is, slot_t *sl,
                     const cka_srv_conf_t *s, int miss)
{
    int timeout = s->http_timeout == CKA_UNSET ? 5 : s->http_timeout;
    apr_time_t start = apr_time_now();
    apr_time_t deadline = start + apr_time_from_sec(timeout);
    cka_fetch_opts_t o = { .ca_file = s->ca_file, .max_bytes = CKA_MAX_DOC_LEN };
    cka_fetch_result_t res;
    const char *err = NULL, *stage = "jwks";
    const char *jwks_uri = is->kind == CKA_KEYS_URL ? is->source : NULL;
    cka_keyrec_t srec;
    held_t *sh = NULL;

    if (!miss && (sh = shared_candidate(r, is, sl, 1, &srec)) != NULL) {
        apr_global_mutex_lock(gmutex);
        install_locked(sl, srec.doc, srec.doc_len, srec.jwks_uri, sh, srec.fetched_at,
                       srec.fresh_until);
        sl->from_shared++;
        sl->fetching = 0;
        apr_global_mutex_unlock(gmutex);
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, CKA_LOG_PREFIX
                      "took %d keys for issuer %s from the shared cache (fetched %"
                      APR_TIME_T_FMT " s ago by another host, fresh for %" APR_TIME_T_FMT
                      " s more)", sh->ks->keys->nelts, ap_escape_logitem(r->pool, is->iss),
                      apr_time_sec(start - srec.fetched_at),
                      apr_time_sec(srec.fresh_until - start));
        held_release(sh);
        return;
    }

    if (jwks_uri == NULL) {
        /* Discovery: on every regular refresh; a kid-miss refetch reuses
         * the jwks_uri found last time when there is one. */
        if (miss && sl->jwks_uri[0])
            jwks_uri = apr_pstrdup(r->pool, sl->jwks_uri);
        else {
            stage = "discovery";
            o.timeout_ms = remaining_ms(deadline);
            if (cka_fetch(r->pool, cka_discovery_url(r->pool, is->iss), &o, &res) != 0)
                err = res.error;
            else if ((jwks_uri = cka_discovery_jwks_uri(r->pool, res.body, res.len,
                                                        is->iss, &err)) == NULL)
                ;
            else if (strlen(jwks_uri) >= URI_MAX) {
                err = "jwks_uri is too long";
                jwks_uri = NULL;
            }
        }
    }
    held_t *h = NULL;
    char *perr = NULL;
    long max_age = -1;
    if (err == NULL) {
        stage = "jwks";
        o.timeout_ms = remaining_ms(deadline);
        if (cka_fetch(r->pool, jwks_uri, &o, &res) != 0)
            err = res.error;
        else if ((h = parse_doc(res.body, res.len, 0, &perr, r->pool)) == NULL)
            err = apr_pstrcat(r->pool, "unusable key set: ", perr, NULL);
        else
            max_age = res.max_age;
    }
    if (err != NULL)
        sh = shared_candidate(r, is, sl, 0, &srec);

    int refresh = s->jwks_refresh == CKA_UNSET ? 3600 : s->jwks_refresh;
    long fresh = max_age >= 0 ? (max_age < 60 ? 60 : max_age > 86400 ? 86400 : max_age)
                              : refresh;
    cka_keyrec_t mine = { 0 };
    apr_global_mutex_lock(gmutex);
    if (err == NULL) {
        apr_time_t now = apr_time_now();
        install_locked(sl, res.body, res.len, jwks_uri, h, now, now + apr_time_from_sec(fresh));
        sl->fetch_ok++;
        mine.fetched_at = now;
        mine.fresh_until = now + apr_time_from_sec(fresh);
    }
    else {
        sl->fetch_failed++;
        if (sh != NULL) {
            install_locked(sl, srec.doc, srec.doc_len, srec.jwks_uri, sh, srec.fetched_at,
                           srec.fresh_until);
            sl->from_shared++;
        }
    }
    sl->fetching = 0;
    apr_global_mutex_unlock(gmutex);

    if (h != NULL) {
        mine.jwks_uri = jwks_uri;
        mine.doc = res.body;
        mine.doc_len = res.len;
        shared_publish(r, is, &mine);
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, CKA_LOG_PREFIX
                      "fetched %d keys for issuer %s (%s, fresh for %lds, %" APR_TIME_T_FMT " ms)",
                      h->ks->keys->nelts, ap_escape_logitem(r->pool, is->iss),
                      miss ? "unknown kid" : "refresh", fresh,
                      apr_time_as_msec(apr_time_now() - start));
        held_release(h);
    }
    else
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, CKA_LOG_PREFIX
                      "key fetch for issuer %s failed at %s: %s%s",
                      ap_escape_logitem(r->pool, is->iss), stage,
                      ap_escape_logitem(r->pool, err),
                      sh != NULL ? apr_psprintf(r->pool, " (a newer key set fetched %"
                                                APR_TIME_T_FMT " s ago by another host is "
                                                "taken from the shared cache)",
                                                apr_time_sec(start - srec.fetched_at))
                      : sl->version ? " (the last good key set stays in use)" : "");
    if (sh != NULL && err != NULL)
        held_release(sh);
}

/* ---- the key source -----------------------------------------------------------*/

typedef struct {
    request_rec          *r;
    const cka_srv_conf_t *s;
} store_ctx_t;

static const cka_keyset_t *store_get(void *ctxv, apr_pool_t *p, const char *iss,
                                     int refresh, cka_reason_t *why)
{
    store_ctx_t *ctx = ctxv;
    const cka_issuer_t *is = cka_find_issuer(ctx->s, iss);
    if (is == NULL) {
        *why = CKA_WRONG_ISSUER;
        return NULL;
    }
    if (is->static_keys != NULL)
        return is->static_keys;      /* a local file does not change */
    if (shared == NULL || is->slot < 0) {
        *why = CKA_KEYS_UNAVAILABLE;
        return NULL;
    }
    slot_t *sl = &shared->slots[is->slot];
    apr_time_t now = apr_time_now();
    int stale = apr_atomic_read32(&sl->version) == 0 || now >= load_time(&sl->fresh_until);
    if ((stale || refresh)
        && claim_fetch(sl, ctx->s, refresh && !stale, now, ctx->r->request_time))
        do_fetch(ctx->r, is, sl, ctx->s, refresh && !stale);
    refresh_local(ctx->r, is->slot, sl);
    const cka_keyset_t *ks = use_local(ctx->r, is->slot);
    if (ks == NULL)
        *why = CKA_KEYS_UNAVAILABLE;
    return ks;
}

void cka_key_store_source(request_rec *r, const cka_srv_conf_t *s,
                          cka_key_source_t *out)
{
    store_ctx_t *ctx = apr_palloc(r->pool, sizeof(*ctx));
    ctx->r = r;
    ctx->s = s;
    out->ctx = ctx;
    out->get = store_get;
}

/* ---- lifecycle ------------------------------------------------------------------*/

int cka_key_store_pre_config(apr_pool_t *pconf)
{
    return ap_mutex_register(pconf, CKA_KEYS_MUTEX, NULL, APR_LOCK_DEFAULT, 0);
}

static slot_t *assign_slot(const cka_issuer_t *is, server_rec *s, apr_pool_t *p)
{
    const char *source = is->kind == CKA_KEYS_URL ? is->source : "";
    int free_idx = -1;
    for (int i = 0; i < CKA_MAX_REMOTE_ISSUERS; i++) {
        slot_t *sl = &shared->slots[i];
        if (strcmp(sl->iss, is->iss) == 0) {
            if (strcmp(sl->source, source) != 0) {
                /* Same issuer, other key source: start over. */
                memset(sl, 0, sizeof(*sl) - sizeof(sl->doc));
                apr_cpystrn(sl->iss, is->iss, URI_MAX);
                apr_cpystrn(sl->source, source, URI_MAX);
            }
            ((cka_issuer_t *)is)->slot = i;
            return sl;
        }
        if (sl->iss[0] == '\0' && free_idx < 0)
            free_idx = i;
    }
    if (free_idx < 0)
        return NULL;
    slot_t *sl = &shared->slots[free_idx];
    memset(sl, 0, sizeof(*sl) - sizeof(sl->doc));
    apr_cpystrn(sl->iss, is->iss, URI_MAX);
    apr_cpystrn(sl->source, source, URI_MAX);
    ((cka_issuer_t *)is)->slot = free_idx;
    return sl;
}

int cka_key_store_post_config(apr_pool_t *pconf, server_rec *s)
{
    int remote = 0;
    for (server_rec *v = s; v; v = v->next) {
        cka_srv_conf_t *sc = ap_get_module_config(v->module_config, &conduktor_auth_module);
        for (int i = 0; sc->issuers && i < sc->issuers->nelts; i++) {
            cka_issuer_t *is = APR_ARRAY_IDX(sc->issuers, i, cka_issuer_t *);
            is->slot = -1;
            if (is->kind != CKA_KEYS_FILE)
                remote++;
        }
    }
    if (remote == 0)
        return OK;

    /* The segment belongs to the process pool: it outlives restarts. */
    apr_pool_t *proc = s->process->pool;
    static const char *key = "conduktor_auth_keys_shm";
    void *data = NULL;
    apr_pool_userdata_get(&data, key, proc);
    if (data != NULL && (((shared_t *)data)->magic != SHM_MAGIC
                         || ((shared_t *)data)->nslots != CKA_MAX_REMOTE_ISSUERS))
        data = NULL;    /* made by another version of the module: start over */
    if (data == NULL) {
        apr_shm_t *shm;
        apr_status_t rv = apr_shm_create(&shm, sizeof(shared_t), NULL, proc);
        if (rv != APR_SUCCESS) {
            ap_log_error(APLOG_MARK, APLOG_EMERG, rv, s, CKA_LOG_PREFIX
                         "cannot create shared memory for key sets (%" APR_SIZE_T_FMT " bytes)",
                         sizeof(shared_t));
            return HTTP_INTERNAL_SERVER_ERROR;
        }
        data = apr_shm_baseaddr_get(shm);
        memset(data, 0, sizeof(shared_t) - sizeof(((shared_t *)0)->slots));
        for (int i = 0; i < CKA_MAX_REMOTE_ISSUERS; i++)
            memset(&((shared_t *)data)->slots[i], 0, offsetof(slot_t, doc));
        ((shared_t *)data)->magic = SHM_MAGIC;
        ((shared_t *)data)->nslots = CKA_MAX_REMOTE_ISSUERS;
        apr_pool_userdata_set(data, key, apr_pool_cleanup_null, proc);
    }
    shared = data;

    int used[CKA_MAX_REMOTE_ISSUERS] = { 0 };
    for (server_rec *v = s; v; v = v->next) {
        cka_srv_conf_t *sc = ap_get_module_config(v->module_config, &conduktor_auth_module);
        for (int i = 0; sc->issuers && i < sc->issuers->nelts; i++) {
            cka_issuer_t *is = APR_ARRAY_IDX(sc->issuers, i, cka_issuer_t *);
            if (is->kind == CKA_KEYS_FILE)
                continue;
            if (assign_slot(is, v, pconf) != NULL) {
                used[is->slot] = 1;
                continue;
            }
            {
                ap_log_error(APLOG_MARK, APLOG_EMERG, 0, v, CKA_LOG_PREFIX
                             "ConduktorAuthIssuer: at most %d issuers with remote keys",
                             CKA_MAX_REMOTE_ISSUERS);
                return HTTP_INTERNAL_SERVER_ERROR;
            }
        }
    }

    /* Issuers dropped from the configuration give their slot back. */
    for (int i = 0; i < CKA_MAX_REMOTE_ISSUERS; i++)
        if (!used[i])
            shared->slots[i].iss[0] = '\0';

    apr_status_t rv = ap_global_mutex_create(&gmutex, NULL, CKA_KEYS_MUTEX, NULL, s, pconf, 0);
    if (rv != APR_SUCCESS)
        return HTTP_INTERNAL_SERVER_ERROR;

    static int curl_ready;
    if (!curl_ready) {
        curl_global_init(CURL_GLOBAL_DEFAULT);   /* before fork, single thread */
        curl_ready = 1;
    }
    return OK;
}

void cka_key_store_child_init(apr_pool_t *pchild, server_rec *s)
{
    if (gmutex == NULL)
        return;
    apr_status_t rv = apr_global_mutex_child_init(&gmutex,
                                                  apr_global_mutex_lockfile(gmutex), pchild);
    if (rv != APR_SUCCESS)
        ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s, CKA_LOG_PREFIX
                     "cannot attach to the key-set mutex in this child");
    apr_thread_mutex_create(&local_mutex, APR_THREAD_MUTEX_DEFAULT, pchild);
    for (int i = 0; i < CKA_MAX_REMOTE_ISSUERS; i++)
        local[i] = NULL;
}

int cka_key_store_status(apr_pool_t *p, cka_key_status_t *out, int max)
{
    int n = 0;
    for (int i = 0; shared && i < CKA_MAX_REMOTE_ISSUERS && n < max; i++) {
        slot_t *sl = &shared->slots[i];
        if (sl->iss[0] == '\0')
            continue;
        out[n].iss = apr_pstrdup(p, sl->iss);
        out[n].fetch_ok = sl->fetch_ok;
        out[n].fetch_failed = sl->fetch_failed;
        out[n].keys_loaded = sl->keys_loaded;
        out[n].fetched_at = sl->fetched_at;
        out[n].from_shared = sl->from_shared;
        n++;
    }
    return n;
}
