/* client_exchange.c - ConduktorAuthClientCredentials (see client_exchange.h). */
#include "client_exchange.h"
#include "shared_cache.h"
#include "metrics.h"
#include "fetch.h"
#include "cka_limits.h"
#include <apr_thread_mutex.h>
#include <apr_thread_cond.h>
#include <openssl/crypto.h>

/* A failed exchange (IdP down, slow, bad answer) is not tried again for
 * the same pair by this process for this long: the requests meanwhile get
 * 503 at once instead of each waiting for the timeout. */
#define FAIL_HOLD_SEC 1
#define FRONT_SLOTS 256          /* direct-mapped on the name's first byte */

/* One pair's state in this process. token: malloc'ed, wiped when freed. */
typedef struct {
    unsigned char name[CKA_SEAL_NAME_LEN];
    int           used;          /* name is set                            */
    int           refused;       /* a refusal until `until`               */
    long long     until;         /* the token or refusal holds before it   */
    char         *token;
    size_t        len;
    int           inflight;      /* an exchange for name runs              */
    long long     fail_until;    /* the last exchange failed: 503 until    */
} slot_t;

static slot_t              *front;          /* per process (child_init)   */
static apr_thread_mutex_t  *front_mutex;
static apr_thread_cond_t   *front_cond;     /* an exchange ended          */
static const cka_seal_t    *local_seal;     /* names when no shared cache */

/* ---- lifecycle ---------------------------------------------------------------*/

int cka_client_creds_post_config(apr_pool_t *pconf, server_rec *s)
{
    /* The directive may come from .htaccess too: libcurl is set up
     * whenever the module is loaded (cheap), once per process. */
    cka_fetch_init();                    /* before fork, one thread */
    return OK;
}

static apr_status_t front_cleanup(void *v)
{
    for (int i = 0; front && i < FRONT_SLOTS; i++)
        if (front[i].token) {
            OPENSSL_cleanse(front[i].token, front[i].len);
            free(front[i].token);
            front[i].token = NULL;
        }
    front = NULL;
    return APR_SUCCESS;
}

void cka_client_creds_child_init(apr_pool_t *pchild, server_rec *s)
{
    front = apr_pcalloc(pchild, FRONT_SLOTS * sizeof(slot_t));
    if (apr_thread_mutex_create(&front_mutex, APR_THREAD_MUTEX_DEFAULT, pchild) != APR_SUCCESS
        || apr_thread_cond_create(&front_cond, pchild) != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s, CKA_LOG_PREFIX
                     "cannot create the client-credentials lock; exchanged tokens are "
                     "not reused in this process");
        front = NULL;
    }
    else
        apr_pool_cleanup_register(pchild, NULL, front_cleanup, apr_pool_cleanup_null);
    /* Without a shared cache (ConduktorAuthCache none) names come from a
     * key of this process alone. */
    unsigned char rnd[32];
    const char *why = NULL;
    local_seal = NULL;
    if (cka_seal_random_secret(rnd, sizeof(rnd)) == 0)
        local_seal = cka_seal_create(pchild, rnd, sizeof(rnd), &why);
    OPENSSL_cleanse(rnd, sizeof(rnd));
}

/* ---- the front ---------------------------------------------------------------*/

static slot_t *slot_of(const unsigned char *name)
{
    return &front[name[0] % FRONT_SLOTS];
}

static int is_mine(const slot_t *sl, const unsigned char *name)
{
    return sl->used && memcmp(sl->name, name, CKA_SEAL_NAME_LEN) == 0;
}

static void slot_clear_token(slot_t *sl)
{
    if (sl->token) {
        OPENSSL_cleanse(sl->token, sl->len);
        free(sl->token);
    }
    sl->token = NULL;
    sl->len = 0;
    sl->until = 0;
    sl->refused = 0;
}

/* Under front_mutex: remember a record for name in its slot. */
static void slot_put(slot_t *sl, const unsigned char *name, const cka_cc_record_t *rec)
{
    if (!is_mine(sl, name) && sl->inflight)
        return;                  /* another pair's exchange holds the slot */
    if (!is_mine(sl, name)) {
        slot_clear_token(sl);
        memcpy(sl->name, name, CKA_SEAL_NAME_LEN);
        sl->used = 1;
        sl->inflight = 0;
        sl->fail_until = 0;
    }
    slot_clear_token(sl);
    if (!rec->refused) {
        sl->token = malloc(rec->token_len + 1);
        if (sl->token == NULL)
            return;
        memcpy(sl->token, rec->token, rec->token_len);
        sl->token[rec->token_len] = '\0';
        sl->len = rec->token_len;
    }
    sl->refused = rec->refused;
    sl->until = rec->until;
}

/* ---- the exchange --------------------------------------------------------------*/

typedef enum { GOT_TOKEN, GOT_REFUSED, GOT_NOTHING } got_t;

/* Remember a record for the pair: front and sealed in the shared cache. */
static void remember(request_rec *r, const unsigned char *name, const cka_cc_record_t *rec)
{
    if (front != NULL) {
        apr_thread_mutex_lock(front_mutex);
        slot_put(slot_of(name), name, rec);
        apr_thread_mutex_unlock(front_mutex);
    }
    const cka_seal_t *seal = cka_cache_seal();
    unsigned char *sealed;
    size_t n;
    if (seal != NULL && cka_cc_record_seal(seal, r->pool, name, rec, &sealed, &n) == 0)
        cka_shared_store(r, name, apr_time_from_sec(rec->until), sealed, (unsigned)n);
}

/* The shared cache's record for the pair, when there is a live one. */
static int shared_record(request_rec *r, const unsigned char *name, long long now,
                         cka_cc_record_t *out)
{
    const cka_seal_t *seal = cka_cache_seal();
    unsigned char *val;
    unsigned n;
    if (seal == NULL
        || !cka_shared_lookup(r, name, &val, &n, CKA_MAX_TOKEN_LEN + 64 + CKA_SEAL_OVERHEAD))
        return 0;
    if (cka_cc_record_open(seal, r->pool, name, val, n, out) != 0) {
        cka_count(cache_rejected);
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, CKA_LOG_PREFIX
                      "shared cache: a client-credentials record does not open with this "
                      "ConduktorAuthCacheSecret (another secret, or written by someone "
                      "else); treated as a miss");
        return 0;
    }
    return out->until > now;
}

/* Another process's or host's work for the pair, from the shared cache:
 * 1 with a token or refusal in *out; -1 when its exchange just failed (or
 * is still under way at the deadline); 0 when there is nothing (this
 * request exchanges). While a pending marker is there, look again every
 * 25 ms. */
static int shared_result(request_rec *r, const unsigned char *name, apr_time_t deadline,
                         cka_cc_record_t *out)
{
    for (;;) {
        long long now = (long long)apr_time_sec(apr_time_now());
        if (!shared_record(r, name, now, out))
            return 0;
        if (out->mark == 0)
            return 1;
        if (out->mark == 'F' || apr_time_now() + apr_time_from_msec(25) >= deadline)
            return -1;
        apr_sleep(apr_time_from_msec(25));
    }
}

/* A marker for the pair in the shared cache only ('P' pending, 'F'
 * failed), until the given second. */
static void shared_mark(request_rec *r, const unsigned char *name, int mark, long long until)
{
    const cka_seal_t *seal = cka_cache_seal();
    cka_cc_record_t m = { .mark = mark, .until = until };
    unsigned char *sealed;
    size_t n;
    if (seal != NULL && cka_cc_record_seal(seal, r->pool, name, &m, &sealed, &n) == 0)
        cka_shared_store(r, name, apr_time_from_sec(until), sealed, (unsigned)n);
}

static const char *client_for_log(request_rec *r, const cka_cc_pair_t *pair)
{
    const char *id = pair->id_len > 64 ? apr_pstrcat(r->pool,
        apr_pstrmemdup(r->pool, pair->id, 64), "...", NULL) : pair->id;
    return ap_escape_logitem(r->pool, id);
}

/* POST to the token endpoint; the answer as a record (token or refusal). */
static got_t exchange(request_rec *r, const cka_dir_conf_t *dc, const cka_cc_pair_t *pair,
                      long long now, cka_cc_record_t *rec)
{
    const cka_srv_conf_t *sc = ap_get_module_config(r->server->module_config,
                                                    &conduktor_auth_module);
    const cka_cc_target_t *t = dc->client_creds;
    cka_fetch_opts_t o = { .timeout_ms = 1000L * cka_srv_http_timeout(sc),
                           .ca_file = sc->ca_file, .max_bytes = CKA_CC_MAX_ANSWER };
    cka_fetch_result_t res;
    cka_err_t e = CKA_ERR_INIT;
    apr_time_t start = apr_time_now();
    const char *ep = ap_escape_logitem(r->pool, t->endpoint);
    if (cka_fetch_post(r->pool, t->endpoint, &o, cka_cc_basic_header(r->pool, pair),
                       cka_cc_request_body(r->pool, t), &res, &e) != CKA_OK) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, CKA_LOG_PREFIX
                      "client credentials of %s: token endpoint %s failed after %"
                      APR_TIME_T_FMT " ms: %s", client_for_log(r, pair), ep,
                      apr_time_as_msec(apr_time_now() - start),
                      ap_escape_logitem(r->pool, cka_err_line(r->pool, &e)));
        return GOT_NOTHING;
    }
    cka_cc_answer_t a;
    switch (cka_cc_parse_answer(r->pool, res.status, res.body, res.len, &a)) {
    case CKA_CC_TOKEN:
        memset(rec, 0, sizeof(*rec));
        rec->token = a.token;
        rec->token_len = a.token_len;
        rec->until = cka_cc_reuse_until(now, cka_cc_token_exp(r->pool, a.token, a.token_len),
                                        a.expires_in);
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, CKA_LOG_PREFIX
                      "client credentials of %s exchanged at %s (%" APR_TIME_T_FMT
                      " ms); reused %s", client_for_log(r, pair), ep,
                      apr_time_as_msec(apr_time_now() - start),
                      rec->until ? apr_psprintf(r->pool, "for %" APR_INT64_T_FMT " s",
                                                         (apr_int64_t)(rec->until - now))
                                 : "only by the requests waiting for it (no exp, or less "
                                   "than 30 s left)");
        return GOT_TOKEN;
    case CKA_CC_REFUSED:
        memset(rec, 0, sizeof(*rec));
        rec->refused = 1;
        rec->until = now + CKA_CC_REFUSED_TTL;
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, CKA_LOG_PREFIX
                      "client credentials of %s refused by %s (%s); not asked again "
                      "for %d s", client_for_log(r, pair), ep, a.error, CKA_CC_REFUSED_TTL);
        return GOT_REFUSED;
    default:
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, CKA_LOG_PREFIX
                      "client credentials of %s: unusable answer from token endpoint %s: %s",
                      client_for_log(r, pair), ep, ap_escape_logitem(r->pool, a.why));
        return GOT_NOTHING;
    }
}

/* ---- the entry point ---------------------------------------------------------------*/

static cka_reason_t give(request_rec *r, const char *tok, size_t n, const char **token,
                         size_t *len)
{
    *token = apr_pstrmemdup(r->pool, tok, n);
    *len = n;
    return CKA_OK;
}

cka_reason_t cka_client_credentials(request_rec *r, const cka_dir_conf_t *dc,
                                    const char *basic_value, const char **token,
                                    size_t *len)
{
    const cka_cc_target_t *t = dc->client_creds;
    cka_cc_pair_t pair;
    const char *why = NULL;
    size_t bl = strlen(basic_value);
    while (bl > 0 && (basic_value[bl - 1] == ' ' || basic_value[bl - 1] == '\t'))
        bl--;
    if (cka_cc_basic_decode(r->pool, basic_value, bl, &pair, &why) != 0) {
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, CKA_LOG_PREFIX
                      "client credentials: %s", why);
        return CKA_BAD_CLIENT_CREDENTIALS;
    }
    const cka_seal_t *seal = cka_cache_seal() ? cka_cache_seal() : local_seal;
    unsigned char name[CKA_SEAL_NAME_LEN];
    int named = seal != NULL && cka_cc_name(seal, t, &pair, name) == 0;
    long long now = (long long)apr_time_sec(apr_time_now());
    const cka_srv_conf_t *sc = ap_get_module_config(r->server->module_config,
                                                    &conduktor_auth_module);
    apr_time_t deadline = apr_time_now() + apr_time_from_sec(cka_srv_http_timeout(sc) + 1);
    slot_t *sl = named && front != NULL ? slot_of(name) : NULL;
    cka_cc_record_t rec;

    /* This process first: a live token or refusal, an exchange already
     * running for the pair (wait for it), or one that just failed. */
    if (sl != NULL) {
        apr_thread_mutex_lock(front_mutex);
        for (;;) {
            if (is_mine(sl, name) && sl->until > now && (sl->refused || sl->token)) {
                int refused = sl->refused;
                if (!refused)
                    give(r, sl->token, sl->len, token, len);
                apr_thread_mutex_unlock(front_mutex);
                cka_count_at(refused ? offsetof(cka_counters_t, cc_refused)
                                     : offsetof(cka_counters_t, cc_reused));
                return refused ? CKA_CLIENT_CREDENTIALS_REFUSED : CKA_OK;
            }
            if (is_mine(sl, name) && sl->fail_until > now) {
                apr_thread_mutex_unlock(front_mutex);
                cka_count(cc_failed);
                return CKA_TOKEN_ENDPOINT_UNAVAILABLE;
            }
            if (!(is_mine(sl, name) && sl->inflight))
                break;
            apr_interval_time_t left = deadline - apr_time_now();
            if (left <= 0) {
                apr_thread_mutex_unlock(front_mutex);
                cka_count(cc_failed);
                return CKA_TOKEN_ENDPOINT_UNAVAILABLE;
            }
            apr_thread_cond_timedwait(front_cond, front_mutex, left);
            now = (long long)apr_time_sec(apr_time_now());
        }
        /* Ours to fetch: the slot now belongs to this pair. */
        if (!is_mine(sl, name)) {
            if (!sl->inflight) {
                slot_clear_token(sl);
                memcpy(sl->name, name, CKA_SEAL_NAME_LEN);
                sl->used = 1;
                sl->fail_until = 0;
                sl->inflight = 1;
            }
            else
                sl = NULL;       /* another pair's exchange holds the slot:
                                    go without single-flight */
        }
        else
            sl->inflight = 1;
        apr_thread_mutex_unlock(front_mutex);
    }

    got_t got;
    int shared = named ? shared_result(r, name, deadline, &rec) : 0;
    if (shared > 0) {
        /* Another process or host exchanged the pair (or was refused). */
        got = rec.refused ? GOT_REFUSED : GOT_TOKEN;
        if (sl != NULL) {
            apr_thread_mutex_lock(front_mutex);
            slot_put(sl, name, &rec);
            apr_thread_mutex_unlock(front_mutex);
        }
        cka_count_at(rec.refused ? offsetof(cka_counters_t, cc_refused)
                                 : offsetof(cka_counters_t, cc_reused));
    }
    else if (shared < 0) {
        got = GOT_NOTHING;       /* its exchange failed, or outlasted ours */
        cka_count(cc_failed);
    }
    else {
        /* Ours: say so in the shared cache, so that other processes and
         * hosts wait for this exchange instead of making their own. */
        if (named)
            shared_mark(r, name, 'P', now + cka_srv_http_timeout(sc) + 2);
        got = exchange(r, dc, &pair, now, &rec);
        long long done = (long long)apr_time_sec(apr_time_now());
        if (got == GOT_TOKEN && rec.until <= done)
            rec.until = done + 1;     /* not reusable: only for the requests
                                         that waited for this exchange */
        if (named && got != GOT_NOTHING)
            remember(r, name, &rec);
        else if (named)
            shared_mark(r, name, 'F', done + FAIL_HOLD_SEC);
        cka_count_at(got == GOT_TOKEN ? offsetof(cka_counters_t, cc_exchanged)
                     : got == GOT_REFUSED ? offsetof(cka_counters_t, cc_refused)
                     : offsetof(cka_counters_t, cc_failed));
    }

    if (sl != NULL) {
        apr_thread_mutex_lock(front_mutex);
        if (is_mine(sl, name)) {
            sl->inflight = 0;
            if (got == GOT_NOTHING)
                sl->fail_until = (long long)apr_time_sec(apr_time_now()) + FAIL_HOLD_SEC;
        }
        apr_thread_cond_broadcast(front_cond);
        apr_thread_mutex_unlock(front_mutex);
    }
    if (got == GOT_TOKEN)
        return give(r, rec.token, rec.token_len, token, len);
    return got == GOT_REFUSED ? CKA_CLIENT_CREDENTIALS_REFUSED
                              : CKA_TOKEN_ENDPOINT_UNAVAILABLE;
}
