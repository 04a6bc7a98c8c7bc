/* client_exchange.c - ConduktorAuthClientCredentials (see client_exchange.h). */
#include "client_exchange.h"
#include "shared_cache.h"
#include "flight.h"
#include "metrics.h"
#include "fetch.h"
#include "cka_limits.h"
#include <apr_thread_mutex.h>
#include <openssl/crypto.h>
#include <openssl/sha.h>

/* A failed exchange (IdP down, slow, bad answer) is not tried again for
 * the same pair by this process for this long: the requests meanwhile get
 * 503 at once instead of each waiting for the timeout. */
#define FAIL_HOLD_SEC 1
#define FRONT_SLOTS   256

/* Refused secrets are limited across pairs, in each process: at most
 * REFUSALS_PER_ID refusals by the IdP for one client_id, and at most
 * REFUSALS_PER_ADDR for one client address, per LIMIT_WINDOW_SEC; past
 * that, new pairs of that client_id or from that address are refused
 * here without asking the IdP (whose own lockouts would then block the
 * real clients behind httpd's one address). A pair whose token is
 * already held is not affected. */
#define LIMIT_WINDOW_SEC  60
#define REFUSALS_PER_ID    5
#define REFUSALS_PER_ADDR 10
#define LIMIT_SLOTS     1024

/* States kept in the front (flight.h): 'T' a token (the value), 'R' the
 * IdP refused the pair, 'F' the exchange failed. Only tokens are shared. */
static cka_flight_t        *front;          /* per process (child_init)   */
static const cka_seal_t    *local_seal;     /* names when no shared cache */

typedef struct {
    unsigned char key[16];                  /* SHA-256 prefix of the name */
    long long     window;                   /* start of the window        */
    int           refusals;
} limit_t;
static limit_t            *limits;          /* [2][LIMIT_SLOTS]           */
static apr_thread_mutex_t *limit_mutex;

/* ---- lifecycle ---------------------------------------------------------------*/

int cka_client_creds_post_config(apr_pool_t *pconf, server_rec *s)
{
    /* The directive may come from .htaccess too: libcurl is set up
     * whenever the module is loaded (cheap), once per process. */
    cka_fetch_init();                    /* before fork, one thread */
    return OK;
}

void cka_client_creds_child_init(apr_pool_t *pchild, server_rec *s)
{
    front = cka_flight_create(pchild, FRONT_SLOTS);
    limits = apr_pcalloc(pchild, 2 * LIMIT_SLOTS * sizeof(limit_t));
    if (front == NULL
        || apr_thread_mutex_create(&limit_mutex, APR_THREAD_MUTEX_DEFAULT, pchild)
           != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s, CKA_LOG_PREFIX
                     "cannot create the client-credentials lock; exchanged tokens are "
                     "not reused in this process");
        front = NULL;
        limit_mutex = NULL;
    }
    /* Without a shared cache (ConduktorAuthCache none) names come from a
     * key of this process alone. */
    local_seal = cka_seal_ephemeral(pchild);
}

/* ---- refusal limits ----------------------------------------------------------*/

enum { BY_ID = 0, BY_ADDR = 1 };

static limit_t *limit_of(int table, const char *what, size_t len, unsigned char key[16])
{
    unsigned char d[SHA256_DIGEST_LENGTH];
    unsigned char in[1 + 512];
    size_t n = len < sizeof(in) - 1 ? len : sizeof(in) - 1;
    in[0] = (unsigned char)table;
    memcpy(in + 1, what, n);
    SHA256(in, n + 1, d);
    memcpy(key, d, 16);
    return &limits[table * LIMIT_SLOTS + ((unsigned)d[16] << 8 | d[17]) % LIMIT_SLOTS];
}

/* Has this client_id or this address had its refusals for the window? */
static int over_limit(const char *id, size_t id_len, const char *addr, long long now)
{
    if (limit_mutex == NULL)
        return 0;
    unsigned char k1[16], k2[16];
    limit_t *a = limit_of(BY_ID, id, id_len, k1);
    limit_t *b = limit_of(BY_ADDR, addr, strlen(addr), k2);
    apr_thread_mutex_lock(limit_mutex);
    int over = (memcmp(a->key, k1, 16) == 0 && a->window + LIMIT_WINDOW_SEC > now
                && a->refusals >= REFUSALS_PER_ID)
            || (memcmp(b->key, k2, 16) == 0 && b->window + LIMIT_WINDOW_SEC > now
                && b->refusals >= REFUSALS_PER_ADDR);
    apr_thread_mutex_unlock(limit_mutex);
    return over;
}

static void count_one(limit_t *l, const unsigned char key[16], long long now)
{
    if (memcmp(l->key, key, 16) != 0 || l->window + LIMIT_WINDOW_SEC <= now) {
        memcpy(l->key, key, 16);
        l->window = now;
        l->refusals = 0;
    }
    l->refusals++;
}

static void note_refusal(const char *id, size_t id_len, const char *addr, long long now)
{
    if (limit_mutex == NULL)
        return;
    unsigned char k1[16], k2[16];
    limit_t *a = limit_of(BY_ID, id, id_len, k1);
    limit_t *b = limit_of(BY_ADDR, addr, strlen(addr), k2);
    apr_thread_mutex_lock(limit_mutex);
    count_one(a, k1, now);
    count_one(b, k2, now);
    apr_thread_mutex_unlock(limit_mutex);
}

/* ---- the exchange --------------------------------------------------------------*/

typedef enum { GOT_TOKEN, GOT_REFUSED, GOT_NOTHING } got_t;

/* A token for the pair, sealed in the shared cache (refusals and
 * failures stay in this process). */
static void share_token(request_rec *r, const unsigned char *name, const cka_cc_record_t *rec)
{
    const cka_seal_t *seal = cka_cache_seal();
    unsigned char *sealed;
    size_t n;
    if (!rec->refused && rec->mark == 0 && seal != NULL
        && cka_cc_record_seal(seal, r->pool, name, rec, &sealed, &n) == 0)
        cka_shared_store(r, name, apr_time_from_sec(rec->until), sealed, (unsigned)n);
}

/* The shared cache's token for the pair, when there is a live one. */
static int shared_token(request_rec *r, const unsigned char *name, long long now,
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
    return !out->refused && out->mark == 0 && out->token != NULL && out->until > now;
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

static cka_reason_t counted(cka_reason_t why, size_t counter)
{
    cka_count_at(counter);
    return why;
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
    const cka_srv_conf_t *sc = ap_get_module_config(r->server->module_config,
                                                    &conduktor_auth_module);
    apr_time_t deadline = apr_time_now() + apr_time_from_sec(cka_srv_http_timeout(sc) + 1);
    const size_t REUSED = offsetof(cka_counters_t, cc_reused),
                 REFUSED = offsetof(cka_counters_t, cc_refused),
                 FAILED = offsetof(cka_counters_t, cc_failed),
                 EXCHANGED = offsetof(cka_counters_t, cc_exchanged);

    /* This process first: a live token or refusal, an exchange already
     * running for the pair (wait for it), or one that just failed. */
    cka_flight_val_t v;
    cka_flight_begin_t fb = named && front != NULL
        ? cka_flight_begin(front, name, deadline, NULL, NULL, r->pool, &v) : CKA_FLIGHT_ALONE;
    if (fb == CKA_FLIGHT_HIT) {
        if (v.state == 'T')
            return counted(give(r, v.val, v.len, token, len), REUSED);
        return v.state == 'R' ? counted(CKA_CLIENT_CREDENTIALS_REFUSED, REFUSED)
                              : counted(CKA_TOKEN_ENDPOINT_UNAVAILABLE, FAILED);
    }
    if (fb == CKA_FLIGHT_TIMEOUT)
        return counted(CKA_TOKEN_ENDPOINT_UNAVAILABLE, FAILED);
    int mine = fb == CKA_FLIGHT_CALL;
    long long now = (long long)apr_time_sec(apr_time_now());
    const char *addr = r->useragent_ip ? r->useragent_ip : "";
    cka_cc_record_t rec;
    cka_flight_val_t keep = { 0 };
    cka_reason_t res;

    if (named && shared_token(r, name, now, &rec)) {
        /* Another process or host exchanged the pair. */
        keep = (cka_flight_val_t){ .state = 'T', .until = rec.until, .at = now,
                                   .val = rec.token, .len = rec.token_len };
        res = counted(give(r, rec.token, rec.token_len, token, len), REUSED);
    }
    else if (over_limit(pair.id, pair.id_len, addr, now)) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, CKA_LOG_PREFIX
                      "client credentials of %s: refused without asking the IdP (more "
                      "than %d refused secrets for this client_id, or %d from this "
                      "address, in %d s)", client_for_log(r, &pair), REFUSALS_PER_ID,
                      REFUSALS_PER_ADDR, LIMIT_WINDOW_SEC);
        res = counted(CKA_CLIENT_CREDENTIALS_REFUSED, REFUSED);
    }
    else {
        got_t got = exchange(r, dc, &pair, now, &rec);
        long long done = (long long)apr_time_sec(apr_time_now());
        if (got == GOT_TOKEN) {
            if (rec.until <= done)
                rec.until = done + 1;     /* not reusable: only for the requests
                                             that waited for this exchange */
            else if (named)
                share_token(r, name, &rec);
            keep = (cka_flight_val_t){ .state = 'T', .until = rec.until, .at = done,
                                       .val = rec.token, .len = rec.token_len };
            res = counted(give(r, rec.token, rec.token_len, token, len), EXCHANGED);
        }
        else if (got == GOT_REFUSED) {
            note_refusal(pair.id, pair.id_len, addr, done);
            keep = (cka_flight_val_t){ .state = 'R', .until = rec.until, .at = done };
            res = counted(CKA_CLIENT_CREDENTIALS_REFUSED, REFUSED);
        }
        else {
            keep = (cka_flight_val_t){ .state = 'F', .until = done + FAIL_HOLD_SEC,
                                       .at = done };
            res = counted(CKA_TOKEN_ENDPOINT_UNAVAILABLE, FAILED);
        }
    }
    if (mine)
        cka_flight_end(front, name, &keep);
    return res;
}
