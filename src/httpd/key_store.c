/* key_store.c - key sets per issuer configuration, shared by all child
 * processes.
 *
 * A binding is one issuer as one server trusts it (issuer, key source, CA
 * file; see key_store.h). Shared memory holds bytes, never pointers: one
 * slot per remote binding id with the last good JWKS document, a version
 * number and the fetch state. Servers whose bindings have the same id share
 * a slot; different ids never do. Fetching is single-flight across
 * processes (a flag set under the global mutex, taken with trylock so
 * requests never queue behind it) and the network I/O happens with no lock
 * held. A document identical to the one held only extends its freshness:
 * the version stays, nothing is parsed again. Each process parses a
 * document once per version (the fetching process keeps the set it parsed
 * to check the fetch) and shares the parsed set between its threads with a
 * reference count, so a set being replaced is freed only after the last
 * request using it ends. */
#include "key_store.h"
#include "binding.h"
#include "shared_cache.h"     /* cka_shared_get / cka_shared_put (sealed) */
#include "fetch.h"
#include "keyrec.h"
#include "cka_limits.h"
#include <apr_shm.h>
#include <apr_global_mutex.h>
#include <apr_thread_mutex.h>
#include <apr_atomic.h>
#include <apr_hash.h>
#include <http_core.h>
#include <util_mutex.h>

#define URI_MAX 2048
#define ERR_MAX 256              /* last fetch error on the status page */
#define CA_MAX 1024              /* shown on the status page; cut if longer */
#define SHM_MAGIC 0x434b4133u    /* "CKA3": slots keyed by binding id      */
/* How long a key set stays in the shared cache after it turns stale, as a
 * last good set for hosts whose own fetch fails. */
#define SHARED_STALE_KEEP apr_time_from_sec(86400)

/* Times are apr_time_t kept as apr_uint64_t for apr_atomic_*64: read
 * without the mutex on the request path. */
typedef struct {
    unsigned char id[CKA_BINDING_ID_LEN];   /* owner, when in_use         */
    apr_uint32_t  in_use;
    char          iss[URI_MAX];        /* for the status page and logs    */
    char          kind[16];            /* "jwks" or "discovery"           */
    char          source[URI_MAX];     /* configured JWKS URL or ""       */
    char          ca_file[CA_MAX];     /* "" = the system store           */
    char          jwks_uri[URI_MAX];   /* source, or found by discovery   */
    apr_uint32_t  version;             /* 0 = never obtained              */
    apr_uint32_t  fetching;            /* single-flight flag              */
    apr_uint64_t  fetch_started;
    apr_uint64_t  fetched_at;          /* last success                    */
    apr_uint64_t  fresh_until;
    apr_uint64_t  last_attempt;        /* last fetch of any kind: also the
                                          kid-miss rate limit's clock      */
    apr_uint32_t  fetch_ok, fetch_failed, keys_loaded;
    apr_uint32_t  last_failed;         /* the last fetch failed           */
    char          last_error[ERR_MAX]; /* why, for the status page; ""    */
    apr_uint32_t  from_shared;         /* sets taken from ConduktorAuthCache */
    apr_uint32_t  parses;              /* documents parsed, all processes */
    apr_size_t    len;
    char          doc[CKA_MAX_DOC_LEN];
} slot_t;

typedef struct {
    apr_uint32_t magic;
    apr_uint32_t nslots;
    apr_uint32_t slot_size;
    slot_t       slots[CKA_MAX_REMOTE_ISSUERS];
} shared_t;

/* Process-wide state. The shared segment lives in the process pool so a
 * graceful restart keeps the keys; the mutex is re-made per generation. */
static shared_t *shared;
static apr_global_mutex_t *gmutex;

/* Per-process parsed sets, by slot. */
typedef struct held_t {
    apr_uint32_t   refs;
    apr_uint32_t   version;
    apr_pool_t    *pool;
    cka_keyset_t  *ks;
} held_t;
static held_t *local[CKA_MAX_REMOTE_ISSUERS];
static apr_thread_mutex_t *local_mutex;

/* ---- helpers ---------------------------------------------------------------*/
static apr_time_t get_time(volatile apr_uint64_t *t)
{
    return (apr_time_t)apr_atomic_read64(t);
}

static void set_time(volatile apr_uint64_t *t, apr_time_t v)
{
    apr_atomic_set64(t, (apr_uint64_t)v);
}

static int owns(const slot_t *sl, const cka_binding_t *b)
{
    return sl->in_use && memcmp(sl->id, b->id, CKA_BINDING_ID_LEN) == 0;
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

/* Make h this process's parsed set of slot idx (unless it already holds
 * that version); drops the reference of whichever set is not kept. */
static void local_keep(int idx, held_t *h)
{
    held_t *old = NULL;
    local_lock();
    if (local[idx] == NULL || local[idx]->version != h->version) {
        old = local[idx];
        local[idx] = h;
        h = NULL;
    }
    local_unlock();
    held_release(old);
    held_release(h);
}

/* ---- parsing a document into this process ------------------------------------*/

/* Parse doc into a new held set (counted in the slot). NULL with *err (its
 * detail from errpool) on failure. */
static held_t *parse_doc(slot_t *sl, const char *doc, apr_size_t len,
                         apr_uint32_t version, cka_err_t *err, apr_pool_t *errpool)
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
    apr_atomic_inc32(&sl->parses);
    /* HMAC keys are trusted only from a local file: the remote parser
     * skips oct keys without decoding their secret. */
    cka_keyset_t *ks = NULL;
    if (cka_keyset_parse_remote(p, doc, len, &ks, err) != CKA_OK) {
        err->detail = apr_pstrdup(errpool, cka_err_text(err));   /* p goes now */
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
static void refresh_local(request_rec *r, const cka_binding_t *b, slot_t *sl)
{
    apr_uint32_t v = apr_atomic_read32(&sl->version);
    if (v == 0)
        return;
    local_lock();
    int current = local[b->slot] && local[b->slot]->version == v;
    local_unlock();
    if (current)
        return;
    /* Copy the document out under the global mutex (a memcpy), parse it
     * without any lock. */
    if (apr_global_mutex_lock(gmutex) != APR_SUCCESS)
        return;
    if (!owns(sl, b)) {          /* given to another configuration by a
                                    restart: keep what this process has */
        apr_global_mutex_unlock(gmutex);
        return;
    }
    v = sl->version;
    apr_size_t len = sl->len;
    char *copy = apr_pmemdup(r->pool, sl->doc, len);
    apr_global_mutex_unlock(gmutex);
    cka_err_t err = { CKA_INTERNAL, "unparsable" };
    held_t *h = parse_doc(sl, copy, len, v, &err, r->pool);
    if (h == NULL) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, CKA_LOG_PREFIX
                      "shared key set of issuer %s does not parse: %s",
                      ap_escape_logitem(r->pool, b->is->iss), cka_err_line(r->pool, &err));
        return;
    }
    ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, CKA_LOG_PREFIX
                  "parsed key set version %u of issuer %s in this process",
                  (unsigned)v, ap_escape_logitem(r->pool, b->is->iss));
    local_keep(b->slot, h);
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
    int miss = cka_srv_miss_refetch(s);
    return apr_time_from_sec(miss < 30 ? miss : 30);
}

/* Decide, under the global mutex taken with trylock, whether this request
 * fetches. Returns 1 when it owns the fetch. Any fetch counts toward
 * ConduktorAuthJWKSMissRefetch: a kid miss refetches only when no fetch of
 * any kind happened within that interval (nor since this request began). */
static int claim_fetch(slot_t *sl, const cka_binding_t *b, const cka_srv_conf_t *s,
                       int miss, apr_time_t now, apr_time_t request_time)
{
    int timeout = cka_srv_http_timeout(s);
    int miss_iv = cka_srv_miss_refetch(s);
    int mine = 0;
    if (apr_global_mutex_trylock(gmutex) != APR_SUCCESS)
        return 0;                   /* someone else is deciding: don't queue */
    int busy = sl->fetching
               && now - get_time(&sl->fetch_started) < apr_time_from_sec(2 * timeout + 5);
    if (owns(sl, b) && !busy) {
        apr_time_t last = get_time(&sl->last_attempt);
        if (miss)
            mine = now - last >= apr_time_from_sec(miss_iv) && last < request_time;
        else
            mine = (sl->version == 0 || now >= get_time(&sl->fresh_until))
                   && now - last >= retry_interval(s);
        if (mine) {
            sl->fetching = 1;
            set_time(&sl->fetch_started, now);
            set_time(&sl->last_attempt, now);
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

/* Log the keys of a new key-set version that are not used: once per
 * version, by the process that obtained it. */
static void log_skips(request_rec *r, const cka_binding_t *b, const cka_keyset_t *ks,
                      apr_uint32_t version, const char *uri)
{
    const char *skips = cka_keyset_describe_skips(r->pool, ks);   /* log-safe */
    if (skips == NULL)
        return;
    ap_log_rerror(APLOG_MARK, APLOG_NOTICE, 0, r, CKA_LOG_PREFIX
                  "key set version %u of issuer %s (from %s): %s; not used for "
                  "verification", (unsigned)version, ap_escape_logitem(r->pool, b->is->iss),
                  ap_escape_logitem(r->pool, uri), skips);
}

typedef enum { ADOPT_BAD = 0, ADOPT_NEW, ADOPT_SAME } adopt_t;

/* Make doc the binding's key set. A document identical to the one held is
 * not a new version: its times are updated, nothing is parsed. Another one
 * is parsed here (the check of the fetch), installed under the next
 * version and kept as this process's parsed set, so no process parses it
 * twice. *version and *nkeys describe the set in use afterwards. */
static adopt_t adopt(request_rec *r, const cka_binding_t *b, slot_t *sl,
                     const char *doc, apr_size_t len, const char *uri,
                     apr_time_t fetched_at, apr_time_t fresh_until, int from_shared,
                     apr_uint32_t *version, unsigned *nkeys, const char **err)
{
    static const char *given_away = "the key-set slot now belongs to another "
                                    "configuration (restarted)";
    apr_global_mutex_lock(gmutex);
    if (!owns(sl, b)) {
        apr_global_mutex_unlock(gmutex);
        *err = given_away;
        return ADOPT_BAD;
    }
    if (sl->version != 0 && sl->len == len && memcmp(sl->doc, doc, len) == 0) {
        set_time(&sl->fetched_at, fetched_at);
        set_time(&sl->fresh_until, fresh_until);
        apr_cpystrn(sl->jwks_uri, uri, URI_MAX);
        if (from_shared)
            sl->from_shared++;
        *version = sl->version;
        *nkeys = sl->keys_loaded;
        apr_global_mutex_unlock(gmutex);
        return ADOPT_SAME;
    }
    apr_global_mutex_unlock(gmutex);

    cka_err_t perr = { CKA_INTERNAL, "unparsable" };
    held_t *h = parse_doc(sl, doc, len, 0, &perr, r->pool);
    if (h == NULL) {
        *err = cka_err_text(&perr);
        return ADOPT_BAD;
    }
    apr_global_mutex_lock(gmutex);
    if (!owns(sl, b)) {
        apr_global_mutex_unlock(gmutex);
        held_release(h);
        *err = given_away;
        return ADOPT_BAD;
    }
    memcpy(sl->doc, doc, len);
    sl->len = len;
    apr_cpystrn(sl->jwks_uri, uri, URI_MAX);
    sl->keys_loaded = (apr_uint32_t)h->ks->keys->nelts;
    set_time(&sl->fetched_at, fetched_at);
    set_time(&sl->fresh_until, fresh_until);
    apr_uint32_t v = sl->version + 1 ? sl->version + 1 : 1;
    apr_atomic_set32(&sl->version, v);
    if (from_shared)
        sl->from_shared++;
    apr_global_mutex_unlock(gmutex);

    h->version = v;
    *version = v;
    *nkeys = (unsigned)h->ks->keys->nelts;
    log_skips(r, b, h->ks, v, uri);
    local_keep(b->slot, h);
    return ADOPT_NEW;
}

/* ---- sharing key sets between hosts (ConduktorAuthCache) ---------------------*/

/* A key set another host fetched for the same binding, from the shared
 * cache: only one newer than this host's, fresh when need_fresh, from the
 * configured JWKS URL (or an https one found by discovery). 1 with *rec
 * set; the document is parsed (strictly) only if it is adopted. */
static int shared_record(request_rec *r, const cka_binding_t *b, slot_t *sl,
                         int need_fresh, cka_keyrec_t *rec)
{
    const cka_issuer_t *is = b->is;
    unsigned char key[CKA_KEYREC_KEY_LEN];
    unsigned len = CKA_MAX_DOC_LEN + CKA_KEYREC_URI_MAX + 64;
    unsigned char *buf = apr_palloc(r->pool, len);
    cka_keyrec_key(b->id, key);
    if (!cka_shared_get(r, key, sizeof(key), buf, &len))
        return 0;
    if (cka_keyrec_decode(buf, len, CKA_MAX_DOC_LEN, r->pool, rec, NULL) != CKA_OK) {
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, CKA_LOG_PREFIX
                      "shared cache entry for the key set of issuer %s is not a key "
                      "set record; ignored", ap_escape_logitem(r->pool, is->iss));
        return 0;
    }
    apr_time_t now = apr_time_now();
    if (rec->fetched_at <= get_time(&sl->fetched_at)
        || rec->fetched_at > now + apr_time_from_sec(60)
        || (need_fresh && now >= rec->fresh_until))
        return 0;
    const char *uri = rec->jwks_uri;
    if (is->kind == CKA_KEYS_URL ? strcmp(uri, is->source) != 0
                                 : (strncmp(uri, "https://", 8) != 0 || strlen(uri) >= URI_MAX)) {
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, CKA_LOG_PREFIX
                      "shared key set of issuer %s came from %s, not from this issuer's "
                      "key source; ignored", ap_escape_logitem(r->pool, is->iss),
                      ap_escape_logitem(r->pool, uri));
        return 0;
    }
    return 1;
}

/* Publish a set this host fetched, for the other hosts with this binding. */
static void shared_publish(request_rec *r, const cka_binding_t *b, const cka_keyrec_t *rec)
{
    unsigned char key[CKA_KEYREC_KEY_LEN], *bytes;
    size_t n;
    if (cka_keyrec_encode(r->pool, rec, CKA_MAX_DOC_LEN, &bytes, &n, NULL) != CKA_OK)
        return;
    cka_keyrec_key(b->id, key);
    cka_shared_put(r, key, sizeof(key), rec->fresh_until + SHARED_STALE_KEEP, bytes,
                   (unsigned)n);
}

static const char *version_note(apr_pool_t *p, adopt_t a, apr_uint32_t v)
{
    return apr_psprintf(p, "version %u%s", (unsigned)v, a == ADOPT_SAME ? ", unchanged" : "");
}

/* The issuer's jwks_uri from its discovery document; NULL with *err. */
static const char *discover_jwks_uri(request_rec *r, const cka_issuer_t *is,
                                     cka_fetch_opts_t *o, apr_time_t deadline, cka_err_t *err)
{
    cka_fetch_result_t res;
    const char *uri = NULL;
    o->timeout_ms = remaining_ms(deadline);
    if (cka_fetch(r->pool, cka_discovery_url(r->pool, is->iss), o, &res, err) != CKA_OK
        || cka_discovery_read(r->pool, res.body, res.len, is->iss, "jwks_uri", &uri,
                              err) != CKA_OK)
        return NULL;
    if (strlen(uri) >= URI_MAX) {
        cka_fail(err, CKA_DISCOVERY_INVALID, "jwks_uri is too long");
        return NULL;
    }
    return uri;
}

/* A regular fetch takes a fresher set another host put in the shared cache
 * when there is one: 1 when it did (the fetch is over). */
static int took_fresh_shared(request_rec *r, const cka_binding_t *b, slot_t *sl,
                             apr_time_t start)
{
    const char *iss = ap_escape_logitem(r->pool, b->is->iss);
    cka_keyrec_t srec;
    apr_uint32_t v = 0;
    unsigned nkeys = 0;
    if (!shared_record(r, b, sl, 1, &srec))
        return 0;
    const char *aerr = NULL;
    adopt_t a = adopt(r, b, sl, srec.doc, srec.doc_len, srec.jwks_uri, srec.fetched_at,
                      srec.fresh_until, 1, &v, &nkeys, &aerr);
    if (a == ADOPT_BAD) {
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, CKA_LOG_PREFIX
                      "shared key set of issuer %s does not parse (%s); ignored",
                      iss, ap_escape_logitem(r->pool, aerr));
        return 0;
    }
    apr_global_mutex_lock(gmutex);
    sl->fetching = 0;
    apr_global_mutex_unlock(gmutex);
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, CKA_LOG_PREFIX
                  "took %u keys for issuer %s from the shared cache (fetched %"
                  APR_TIME_T_FMT " s ago by another host, fresh for %" APR_TIME_T_FMT
                  " s more, %s)", nkeys, iss, apr_time_sec(start - srec.fetched_at),
                  apr_time_sec(srec.fresh_until - start), version_note(r->pool, a, v));
    return 1;
}

/* Fetch (discovery first when the issuer has no JWKS URL yet), validate,
 * and publish. All within one ConduktorAuthHTTPTimeout. A regular fetch
 * first looks for a fresher set another host put in the shared cache; when
 * the IdP fails, a newer set from there (even a stale one) is taken. */
static void do_fetch(request_rec *r, const cka_binding_t *b, slot_t *sl,
                     const cka_srv_conf_t *s, int miss)
{
    const cka_issuer_t *is = b->is;
    const char *iss = ap_escape_logitem(r->pool, is->iss);
    int timeout = cka_srv_http_timeout(s);
    apr_time_t start = apr_time_now();
    apr_time_t deadline = start + apr_time_from_sec(timeout);
    cka_fetch_opts_t o = { .ca_file = b->ca_file, .max_bytes = CKA_MAX_DOC_LEN };
    cka_fetch_result_t res;
    cka_err_t e = CKA_ERR_INIT;
    const char *err = NULL, *stage = "jwks";
    const char *jwks_uri = is->kind == CKA_KEYS_URL ? is->source : NULL;
    cka_keyrec_t srec;
    apr_uint32_t v = 0;
    unsigned nkeys = 0;
    adopt_t a = ADOPT_BAD;

    if (!miss && took_fresh_shared(r, b, sl, start))
        return;

    if (jwks_uri == NULL) {
        /* Discovery: on every regular refresh; a kid-miss refetch reuses
         * the jwks_uri found last time when there is one. */
        if (miss) {
            apr_global_mutex_lock(gmutex);
            if (owns(sl, b) && sl->jwks_uri[0])
                jwks_uri = apr_pstrdup(r->pool, sl->jwks_uri);
            apr_global_mutex_unlock(gmutex);
        }
        if (jwks_uri == NULL) {
            stage = "discovery";
            if ((jwks_uri = discover_jwks_uri(r, is, &o, deadline, &e)) == NULL)
                err = cka_err_text(&e);
        }
    }
    long fresh = cka_srv_jwks_refresh(s);
    apr_time_t now = 0;
    if (err == NULL) {
        stage = "jwks";
        o.timeout_ms = remaining_ms(deadline);
        if (cka_fetch(r->pool, jwks_uri, &o, &res, &e) != CKA_OK)
            err = cka_err_text(&e);
        else {
            const char *aerr = NULL;
            if (res.max_age >= 0)
                fresh = res.max_age < 60 ? 60 : res.max_age > 86400 ? 86400 : res.max_age;
            now = apr_time_now();
            a = adopt(r, b, sl, res.body, res.len, jwks_uri, now,
                      now + apr_time_from_sec(fresh), 0, &v, &nkeys, &aerr);
            if (a == ADOPT_BAD)
                err = apr_pstrcat(r->pool, "unusable key set: ", aerr, NULL);
        }
    }
    int took_shared = 0;
    if (err != NULL && shared_record(r, b, sl, 0, &srec)) {
        const char *aerr = NULL;
        took_shared = adopt(r, b, sl, srec.doc, srec.doc_len, srec.jwks_uri,
                            srec.fetched_at, srec.fresh_until, 1, &v, &nkeys,
                            &aerr) != ADOPT_BAD;
    }

    apr_global_mutex_lock(gmutex);
    if (err == NULL) {
        sl->fetch_ok++;
        sl->last_failed = 0;
        sl->last_error[0] = '\0';
    }
    else {
        sl->fetch_failed++;
        sl->last_failed = 1;
        apr_cpystrn(sl->last_error, apr_pstrcat(r->pool, stage, ": ", err, NULL),
                    sizeof(sl->last_error));
    }
    sl->fetching = 0;
    int have = sl->version != 0;
    apr_global_mutex_unlock(gmutex);

    if (err == NULL) {
        cka_keyrec_t mine = { .fetched_at = now, .fresh_until = now + apr_time_from_sec(fresh),
                              .jwks_uri = jwks_uri, .doc = res.body, .doc_len = res.len };
        shared_publish(r, b, &mine);
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, CKA_LOG_PREFIX
                      "fetched %u keys for issuer %s (%s, fresh for %lds, %" APR_TIME_T_FMT
                      " ms, %s) from %s", nkeys, iss, miss ? "unknown kid" : "refresh", fresh,
                      apr_time_as_msec(apr_time_now() - start), version_note(r->pool, a, v),
                      ap_escape_logitem(r->pool, jwks_uri));
    }
    else
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, CKA_LOG_PREFIX
                      "key fetch for issuer %s failed at %s: %s%s", iss, stage,
                      ap_escape_logitem(r->pool, err),
                      took_shared ? apr_psprintf(r->pool, " (a newer key set fetched %"
                                                 APR_TIME_T_FMT " s ago by another host is "
                                                 "taken from the shared cache)",
                                                 apr_time_sec(start - srec.fetched_at))
                      : have ? " (the last good key set stays in use)" : "");
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
    const cka_binding_t *b = cka_find_binding(ctx->s, iss);
    if (b == NULL) {
        *why = CKA_WRONG_ISSUER;
        return NULL;
    }
    if (b->is->static_keys != NULL)
        return b->is->static_keys;   /* a local file does not change */
    if (shared == NULL || b->slot < 0) {
        *why = CKA_KEYS_UNAVAILABLE;
        return NULL;
    }
    slot_t *sl = &shared->slots[b->slot];
    apr_time_t now = apr_time_now();
    int stale = apr_atomic_read32(&sl->version) == 0 || now >= get_time(&sl->fresh_until);
    if ((stale || refresh)
        && claim_fetch(sl, b, ctx->s, refresh && !stale, now, ctx->r->request_time))
        do_fetch(ctx->r, b, sl, ctx->s, refresh && !stale);
    refresh_local(ctx->r, b, sl);
    const cka_keyset_t *ks = use_local(ctx->r, b->slot);
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

static cka_srv_conf_t *srv_conf(server_rec *v)
{
    return ap_get_module_config(v->module_config, &conduktor_auth_module);
}

static void init_slot(slot_t *sl, const cka_binding_t *b)
{
    const cka_issuer_t *is = b->is;
    memset(sl, 0, offsetof(slot_t, doc));
    memcpy(sl->id, b->id, CKA_BINDING_ID_LEN);
    apr_cpystrn(sl->iss, is->iss, sizeof(sl->iss));
    apr_cpystrn(sl->kind, cka_keys_kind_name(is->kind), sizeof(sl->kind));
    apr_cpystrn(sl->source, is->kind == CKA_KEYS_URL ? is->source : "", sizeof(sl->source));
    apr_cpystrn(sl->ca_file, b->ca_file ? b->ca_file : "", sizeof(sl->ca_file));
    sl->in_use = 1;
}

static int find_slot(const unsigned char id[CKA_BINDING_ID_LEN])
{
    for (int i = 0; i < CKA_MAX_REMOTE_ISSUERS; i++)
        if (shared->slots[i].in_use
            && memcmp(shared->slots[i].id, id, CKA_BINDING_ID_LEN) == 0)
            return i;
    return -1;
}

/* Slots by binding id: a binding that had one before a restart keeps it
 * (and its keys); slots of bindings no longer configured are freed first,
 * then the new bindings take free ones. */
static int assign_slots(server_rec *s)
{
    int keep[CKA_MAX_REMOTE_ISSUERS] = { 0 };
    for (server_rec *v = s; v; v = v->next) {
        const cka_srv_conf_t *sc = srv_conf(v);
        for (int i = 0; i < sc->bindings->nelts; i++) {
            const cka_binding_t *b = &APR_ARRAY_IDX(sc->bindings, i, cka_binding_t);
            int idx = b->is->kind == CKA_KEYS_FILE ? -1 : find_slot(b->id);
            if (idx >= 0)
                keep[idx] = 1;
        }
    }
    for (int i = 0; i < CKA_MAX_REMOTE_ISSUERS; i++)
        if (!keep[i])
            shared->slots[i].in_use = 0;
    for (server_rec *v = s; v; v = v->next) {
        const cka_srv_conf_t *sc = srv_conf(v);
        for (int i = 0; i < sc->bindings->nelts; i++) {
            cka_binding_t *b = &APR_ARRAY_IDX(sc->bindings, i, cka_binding_t);
            if (b->is->kind == CKA_KEYS_FILE)
                continue;
            int idx = find_slot(b->id);
            for (int j = 0; idx < 0 && j < CKA_MAX_REMOTE_ISSUERS; j++)
                if (!shared->slots[j].in_use) {
                    init_slot(&shared->slots[j], b);
                    idx = j;
                }
            if (idx < 0) {
                ap_log_error(APLOG_MARK, APLOG_EMERG, 0, v, CKA_LOG_PREFIX
                             "ConduktorAuthIssuer: at most %d remote key sets (issuer, key "
                             "source and ConduktorAuthCAFile) in one configuration",
                             CKA_MAX_REMOTE_ISSUERS);
                return HTTP_INTERNAL_SERVER_ERROR;
            }
            b->slot = idx;
        }
    }
    return OK;
}

/* The segment belongs to the process pool: it outlives restarts. */
static int attach_shared(server_rec *s)
{
    apr_pool_t *proc = s->process->pool;
    static const char *key = "conduktor_auth_keys_shm";
    void *data = NULL;
    apr_pool_userdata_get(&data, key, proc);
    shared_t *sh = data;
    if (sh != NULL && (sh->magic != SHM_MAGIC || sh->nslots != CKA_MAX_REMOTE_ISSUERS
                       || sh->slot_size != sizeof(slot_t)))
        sh = NULL;      /* made by another version of the module: start over */
    if (sh == NULL) {
        apr_shm_t *shm;
        apr_status_t rv = apr_shm_create(&shm, sizeof(shared_t), NULL, proc);
        if (rv != APR_SUCCESS) {
            ap_log_error(APLOG_MARK, APLOG_EMERG, rv, s, CKA_LOG_PREFIX
                         "cannot create shared memory for key sets (%" APR_SIZE_T_FMT " bytes)",
                         sizeof(shared_t));
            return HTTP_INTERNAL_SERVER_ERROR;
        }
        sh = apr_shm_baseaddr_get(shm);
        memset(sh, 0, offsetof(shared_t, slots));
        for (int i = 0; i < CKA_MAX_REMOTE_ISSUERS; i++)
            memset(&sh->slots[i], 0, offsetof(slot_t, doc));
        sh->magic = SHM_MAGIC;
        sh->nslots = CKA_MAX_REMOTE_ISSUERS;
        sh->slot_size = sizeof(slot_t);
        apr_pool_userdata_set(sh, key, apr_pool_cleanup_null, proc);
    }
    shared = sh;
    return OK;
}

int cka_key_store_post_config(apr_pool_t *pconf, server_rec *s)
{
    int remote = 0;
    gmutex = NULL;                 /* the last generation's went with its pool */
    int rv = cka_make_bindings(pconf, s, &remote);
    if (rv != OK)
        return rv;
    if (remote == 0) {
        if (shared != NULL)        /* give every slot back */
            for (int i = 0; i < CKA_MAX_REMOTE_ISSUERS; i++)
                shared->slots[i].in_use = 0;
        return OK;
    }
    if ((rv = attach_shared(s)) != OK || (rv = assign_slots(s)) != OK)
        return rv;

    apr_status_t st = ap_global_mutex_create(&gmutex, NULL, CKA_KEYS_MUTEX, NULL, s, pconf, 0);
    if (st != APR_SUCCESS)
        return HTTP_INTERNAL_SERVER_ERROR;

    cka_fetch_init();                    /* before fork, single thread */
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
        if (!sl->in_use)
            continue;
        memcpy(out[n].id, sl->id, CKA_BINDING_ID_LEN);
        out[n].iss = apr_pstrdup(p, sl->iss);
        out[n].kind = apr_pstrdup(p, sl->kind);
        out[n].source = apr_pstrdup(p, sl->source);
        out[n].jwks_uri = apr_pstrndup(p, sl->jwks_uri, URI_MAX - 1);
        out[n].ca_file = apr_pstrdup(p, sl->ca_file);
        out[n].fetch_ok = sl->fetch_ok;
        out[n].fetch_failed = sl->fetch_failed;
        out[n].keys_loaded = sl->keys_loaded;
        out[n].from_shared = sl->from_shared;
        out[n].version = apr_atomic_read32(&sl->version);
        out[n].parses = apr_atomic_read32(&sl->parses);
        out[n].fetched_at = get_time(&sl->fetched_at);
        out[n].last_attempt = get_time(&sl->last_attempt);
        out[n].last_failed = sl->last_failed;
        out[n].last_error = apr_pstrndup(p, sl->last_error, ERR_MAX - 1);
        n++;
    }
    return n;
}
