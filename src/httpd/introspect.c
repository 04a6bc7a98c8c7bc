/* introspect.c - ConduktorAuthIntrospect at request time (see introspect.h). */
#include "introspect.h"
#include "binding.h"
#include "key_store.h"
#include "shared_cache.h"
#include "metrics.h"
#include "fetch.h"
#include "json_util.h"
#include "cka_limits.h"
#include <apr_thread_mutex.h>
#include <apr_thread_cond.h>
#include <openssl/crypto.h>

#define FAIL_HOLD_SEC  1         /* a failed endpoint: 503 at once meanwhile */
#define FRONT_SLOTS    1024      /* direct-mapped on the name's first bytes  */
#define POLL_MSEC      25        /* waiting on another process's call        */

/* One token's answer in this process. answer: malloc'ed. */
typedef struct {
    unsigned char name[CKA_SEAL_NAME_LEN];
    int           used;
    int           state;         /* 'A' / 'I', or 0 while there is none   */
    long long     until;
    char         *answer;
    size_t        alen;
    int           inflight;      /* a call for name runs                   */
} slot_t;

static slot_t              *front;          /* per process (child_init)   */
static apr_thread_mutex_t  *front_mutex;
static apr_thread_cond_t   *front_cond;     /* a call ended               */
static const cka_seal_t    *local_seal;     /* names when no shared cache */

/* Issuers with counter slots (post_config; the same in every child). */
static const char *issuer_names[CKA_MAX_INTROSPECT_ISSUERS];
static int         issuer_count;

/* ---- lifecycle --------------------------------------------------------------*/

static int slot_for(const char *iss)
{
    for (int i = 0; i < issuer_count; i++)
        if (strcmp(issuer_names[i], iss) == 0)
            return i;
    if (issuer_count == CKA_MAX_INTROSPECT_ISSUERS)
        return -1;
    issuer_names[issuer_count] = iss;
    return issuer_count++;
}

int cka_introspect_post_config(apr_pool_t *pconf, server_rec *s)
{
    issuer_count = 0;
    for (server_rec *v = s; v; v = v->next) {
        cka_srv_conf_t *sc = ap_get_module_config(v->module_config, &conduktor_auth_module);
        if (sc->introspects == NULL || sc->is_bindings != NULL)
            continue;
        sc->is_bindings = apr_array_make(pconf, sc->introspects->nelts,
                                         sizeof(cka_is_binding_t));
        for (int i = 0; i < sc->introspects->nelts; i++) {
            const cka_introspect_conf_t *ic = APR_ARRAY_IDX(sc->introspects, i,
                                                            const cka_introspect_conf_t *);
            cka_is_binding_t *b = apr_array_push(sc->is_bindings);
            memset(b, 0, sizeof(*b));
            b->ic = ic;
            b->slot = slot_for(ic->iss);
            const cka_binding_t *kb = cka_find_binding(sc, ic->iss);
            if (kb != NULL && cka_is_binding_id(kb->id, sizeof(kb->id), ic->endpoint,
                                                ic->client_id, ic->auth, b->id) == 0)
                b->bound = 1;
        }
    }
    return OK;
}

static apr_status_t front_cleanup(void *v)
{
    for (int i = 0; front && i < FRONT_SLOTS; i++)
        if (front[i].answer) {
            OPENSSL_cleanse(front[i].answer, front[i].alen);
            free(front[i].answer);
            front[i].answer = NULL;
        }
    front = NULL;
    return APR_SUCCESS;
}

void cka_introspect_child_init(apr_pool_t *pchild, server_rec *s)
{
    front = apr_pcalloc(pchild, FRONT_SLOTS * sizeof(slot_t));
    if (apr_thread_mutex_create(&front_mutex, APR_THREAD_MUTEX_DEFAULT, pchild) != APR_SUCCESS
        || apr_thread_cond_create(&front_cond, pchild) != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s, CKA_LOG_PREFIX
                     "cannot create the introspection lock; introspected tokens get 503 "
                     "in this process");
        front = NULL;
    }
    else
        apr_pool_cleanup_register(pchild, NULL, front_cleanup, apr_pool_cleanup_null);
    unsigned char rnd[32];
    const char *why = NULL;
    local_seal = NULL;
    if (cka_seal_random_secret(rnd, sizeof(rnd)) == 0)
        local_seal = cka_seal_create(pchild, rnd, sizeof(rnd), &why);
    OPENSSL_cleanse(rnd, sizeof(rnd));
}

int cka_introspect_issuers(const char *const **names)
{
    *names = issuer_names;
    return issuer_count;
}

static cka_is_binding_t *find_rt(const cka_srv_conf_t *sc, const char *iss)
{
    for (int i = 0; sc->is_bindings && i < sc->is_bindings->nelts; i++) {
        cka_is_binding_t *b = &APR_ARRAY_IDX(sc->is_bindings, i, cka_is_binding_t);
        if (strcmp(b->ic->iss, iss) == 0)
            return b;
    }
    return NULL;
}

int cka_introspects(const cka_srv_conf_t *sc, const char *iss)
{
    return find_rt(sc, iss) != NULL;
}

/* ---- the front ---------------------------------------------------------------*/

static slot_t *slot_of(const unsigned char *name)
{
    return &front[((unsigned)name[0] << 8 | name[1]) % FRONT_SLOTS];
}

static int is_mine(const slot_t *sl, const unsigned char *name)
{
    return sl->used && memcmp(sl->name, name, CKA_SEAL_NAME_LEN) == 0;
}

static void slot_clear(slot_t *sl)
{
    if (sl->answer) {
        OPENSSL_cleanse(sl->answer, sl->alen);
        free(sl->answer);
    }
    sl->answer = NULL;
    sl->alen = 0;
    sl->state = 0;
    sl->until = 0;
}

/* Under front_mutex: remember an answer for name in its slot. */
static void slot_put(slot_t *sl, const unsigned char *name, const cka_is_record_t *rec)
{
    if (!is_mine(sl, name)) {
        if (sl->inflight)
            return;              /* another token's call holds the slot */
        memcpy(sl->name, name, CKA_SEAL_NAME_LEN);
        sl->used = 1;
    }
    slot_clear(sl);
    if (rec->state == 'A') {
        sl->answer = malloc(rec->answer_len + 1);
        if (sl->answer == NULL)
            return;
        memcpy(sl->answer, rec->answer, rec->answer_len);
        sl->answer[rec->answer_len] = '\0';
        sl->alen = rec->answer_len;
    }
    sl->state = rec->state;
    sl->until = rec->until;
}

/* ---- the shared cache ----------------------------------------------------------*/

static void shared_put(request_rec *r, const cka_seal_t *seal, const unsigned char *name,
                       const cka_is_record_t *rec)
{
    unsigned char *sealed;
    size_t n;
    if (seal != NULL && cka_cache_seal() == seal
        && cka_is_record_seal(seal, r->pool, name, rec, &sealed, &n) == 0)
        cka_shared_store(r, name, apr_time_from_sec(rec->until), sealed, (unsigned)n);
}

/* The live record under name, when the shared cache has one of this
 * binding. */
static int shared_record(request_rec *r, const cka_seal_t *seal, const cka_is_binding_t *b,
                         const unsigned char *name, long long now, cka_is_record_t *out)
{
    unsigned char *val;
    unsigned n;
    if (seal == NULL || cka_cache_seal() != seal
        || !cka_shared_lookup(r, name, &val, &n, CKA_IS_MAX_ANSWER + 256 + CKA_SEAL_OVERHEAD))
        return 0;
    if (cka_is_record_open(seal, r->pool, name, val, n, out) != 0) {
        cka_count(cache_rejected);
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, CKA_LOG_PREFIX
                      "shared cache: an introspection record does not open with this "
                      "ConduktorAuthCacheSecret (another secret, or written by someone "
                      "else); treated as a miss");
        return 0;
    }
    if (memcmp(out->binding, b->id, CKA_IS_BIND_LEN) != 0) {
        cka_count(cache_rejected);
        return 0;
    }
    return out->until > now;
}

/* Another process's or host's answer: 1 with *out ('A' or 'I'); -1 when
 * its call just failed, or is still under way at the deadline; 0 when
 * there is nothing (this request calls). */
static int shared_result(request_rec *r, const cka_seal_t *seal, const cka_is_binding_t *b,
                         const unsigned char *name, apr_time_t deadline, cka_is_record_t *out)
{
    for (;;) {
        long long now = (long long)apr_time_sec(apr_time_now());
        if (!shared_record(r, seal, b, name, now, out))
            return 0;
        if (out->state == 'A' || out->state == 'I')
            return 1;
        if (out->state == 'F' || apr_time_now() + apr_time_from_msec(POLL_MSEC) >= deadline)
            return -1;
        apr_sleep(apr_time_from_msec(POLL_MSEC));
    }
}

static void shared_mark(request_rec *r, const cka_seal_t *seal, const cka_is_binding_t *b,
                        const unsigned char *name, int state, long long until)
{
    cka_is_record_t m = { .state = state, .until = until };
    memcpy(m.binding, b->id, CKA_IS_BIND_LEN);
    shared_put(r, seal, name, &m);
}

/* ---- the call --------------------------------------------------------------------*/

/* Log a failure, once per burst (per issuer, across the processes: the
 * flag is in shared memory), and hold the endpoint for FAIL_HOLD_SEC. */
static void failed(request_rec *r, cka_is_binding_t *b, const char *endpoint, const char *why)
{
    if (front != NULL) {
        apr_thread_mutex_lock(front_mutex);
        b->fail_until = (long long)apr_time_sec(apr_time_now()) + FAIL_HOLD_SEC;
        apr_thread_mutex_unlock(front_mutex);
    }
    int first = cka_introspect_failing(b->slot, 1);
    ap_log_rerror(APLOG_MARK, first ? APLOG_ERR : APLOG_DEBUG, 0, r, CKA_LOG_PREFIX
                  "introspection for issuer %s at %s failed: %s; answering 503%s",
                  ap_escape_logitem(r->pool, b->ic->iss),
                  ap_escape_logitem(r->pool, endpoint ? endpoint : "(discovery)"),
                  ap_escape_logitem(r->pool, why),
                  first ? " (further failures are not logged until a call succeeds)" : "");
}

static void succeeded(request_rec *r, cka_is_binding_t *b, const char *endpoint)
{
    if (cka_introspect_failing(b->slot, 0) && b->slot >= 0)
        ap_log_rerror(APLOG_MARK, APLOG_NOTICE, 0, r, CKA_LOG_PREFIX
                      "introspection for issuer %s at %s answers again",
                      ap_escape_logitem(r->pool, b->ic->iss),
                      ap_escape_logitem(r->pool, endpoint));
}

/* The endpoint: configured, or found by discovery (kept per process for
 * ConduktorAuthJWKSRefresh). NULL with *why. */
static const char *endpoint_of(request_rec *r, const cka_srv_conf_t *sc, cka_is_binding_t *b,
                               const cka_fetch_opts_t *base, const char **why)
{
    if (b->ic->endpoint != NULL)
        return b->ic->endpoint;
    long long now = (long long)apr_time_sec(apr_time_now());
    const char *ep = NULL;
    if (front != NULL) {
        apr_thread_mutex_lock(front_mutex);
        if (b->discovered != NULL && b->discovered_until > now)
            ep = apr_pstrdup(r->pool, b->discovered);
        apr_thread_mutex_unlock(front_mutex);
    }
    if (ep != NULL)
        return ep;
    cka_fetch_opts_t o = { .timeout_ms = base->timeout_ms, .ca_file = base->ca_file };
    cka_fetch_result_t res;
    cka_err_t e = CKA_ERR_INIT;
    if (cka_fetch(r->pool, cka_discovery_url(r->pool, b->ic->iss), &o, &res, &e) != CKA_OK) {
        *why = apr_pstrcat(r->pool, "discovery: ", cka_err_line(r->pool, &e), NULL);
        return NULL;
    }
    if (cka_discovery_read(r->pool, res.body, res.len, b->ic->iss, "introspection_endpoint",
                           &ep, &e) != CKA_OK)
        *why = cka_err_line(r->pool, &e);
    if (ep != NULL && front != NULL) {
        apr_thread_mutex_lock(front_mutex);
        free(b->discovered);
        b->discovered = strdup(ep);
        b->discovered_until = now + cka_srv_jwks_refresh(sc);
        apr_thread_mutex_unlock(front_mutex);
    }
    return ep;
}

/* POST the token to the endpoint; 1 with *rec ('A' or 'I'), 0 on failure
 * (logged). */
static int call(request_rec *r, const cka_srv_conf_t *sc, cka_is_binding_t *b,
                const char *tok, size_t len, cka_is_record_t *rec)
{
    const cka_introspect_conf_t *ic = b->ic;
    cka_fetch_opts_t o = { .timeout_ms = 1000L * cka_srv_http_timeout(sc),
                           .ca_file = sc->ca_file, .max_bytes = CKA_IS_MAX_ANSWER };
    const char *why = NULL;
    apr_time_t start = apr_time_now();
    const char *ep = endpoint_of(r, sc, b, &o, &why);
    if (ep == NULL) {
        failed(r, b, NULL, why);
        return 0;
    }
    long long now = (long long)apr_time_sec(start);
    const char *authz = NULL, *assertion = NULL;
    switch (ic->auth) {
    case CKA_IS_AUTH_BASIC: {
        cka_cc_pair_t pair = { .id = ic->client_id, .id_len = strlen(ic->client_id),
                               .secret = ic->secret, .secret_len = ic->secret_len };
        authz = cka_cc_basic_header(r->pool, &pair);
        break;
    }
    case CKA_IS_AUTH_JWT:
        assertion = cka_is_client_assertion(r->pool, ic->key, ic->key_alg, ic->client_id,
                                            ep, now, &why);
        if (assertion == NULL) {
            failed(r, b, ep, why);
            return 0;
        }
        break;
    case CKA_IS_AUTH_TLS:
        o.client_cert = ic->cert_pem;
        o.client_cert_len = ic->cert_len;
        o.client_key = ic->cert_key_pem;
        o.client_key_len = ic->cert_key_len;
        break;
    default:
        break;
    }
    const char *body = cka_is_request_body(r->pool, tok, len, ic->auth, ic->client_id,
                                           ic->secret, ic->secret_len, assertion);
    cka_fetch_result_t res;
    cka_err_t e = CKA_ERR_INIT;
    cka_reason_t rv = cka_fetch_post(r->pool, ep, &o, authz, body, &res, &e);
    /* The body held the token (and perhaps the secret): wipe it. */
    OPENSSL_cleanse((void *)body, strlen(body));
    if (rv != CKA_OK) {
        failed(r, b, ep, apr_psprintf(r->pool, "%s (after %" APR_TIME_T_FMT " ms)",
                                      cka_err_line(r->pool, &e),
                                      apr_time_as_msec(apr_time_now() - start)));
        return 0;
    }
    json_t *claims = NULL;
    cka_is_outcome_t out = cka_is_parse_answer(r->pool, res.status, res.body, res.len,
                                               ic->iss, &claims, &why);
    if (out == CKA_IS_BAD) {
        failed(r, b, ep, apr_pstrcat(r->pool, "unusable answer: ", why, NULL));
        return 0;
    }
    succeeded(r, b, ep);
    memset(rec, 0, sizeof(*rec));
    memcpy(rec->binding, b->id, CKA_IS_BIND_LEN);
    rec->state = out == CKA_IS_ACTIVE ? 'A' : 'I';
    long long done = (long long)apr_time_sec(apr_time_now());
    rec->until = cka_is_reuse_until(claims, out == CKA_IS_ACTIVE, done,
                                    cka_srv_introspect_ttl(sc));
    if (out == CKA_IS_ACTIVE) {
        rec->answer = cka_json_compact(r->pool, claims);
        rec->answer_len = strlen(rec->answer);
        rec->claims = claims;
    }
    ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, CKA_LOG_PREFIX
                  "introspection for issuer %s at %s: %s (%" APR_TIME_T_FMT " ms), "
                  "reused for %" APR_INT64_T_FMT " s",
                  ap_escape_logitem(r->pool, ic->iss), ap_escape_logitem(r->pool, ep),
                  out == CKA_IS_ACTIVE ? "active" : "inactive",
                  apr_time_as_msec(apr_time_now() - start), (apr_int64_t)(rec->until - done));
    return 1;
}

/* ---- the entry point --------------------------------------------------------------*/

static cka_reason_t verdict(request_rec *r, const cka_is_binding_t *b, int state,
                            const char *answer, size_t alen, const cka_policy_t *pol,
                            const json_t **claims)
{
    if (state != 'A')
        return CKA_TOKEN_INACTIVE;
    json_t *c = cka_json_parse_object(r->pool, answer, alen, NULL);
    if (c == NULL)
        return CKA_INTROSPECTION_UNAVAILABLE;
    cka_reason_t why = cka_is_check(c, b->ic->iss, pol, (long long)apr_time_sec(
                                        r->request_time));
    if (why == CKA_OK)
        *claims = c;
    return why;
}

cka_reason_t cka_introspect(request_rec *r, const char *iss, const char *tok, size_t len,
                            const cka_policy_t *pol, const json_t **claims, int *cached)
{
    const cka_srv_conf_t *sc = ap_get_module_config(r->server->module_config,
                                                    &conduktor_auth_module);
    cka_is_binding_t *b = find_rt(sc, iss);
    *cached = 0;
    if (b == NULL || !b->bound) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, CKA_LOG_PREFIX
                      "no ConduktorAuthIntrospect for issuer %s in this server (or the "
                      "issuer is not a ConduktorAuthIssuer here): failing closed",
                      ap_escape_logitem(r->pool, iss));
        return CKA_NOT_CONFIGURED;
    }
    const cka_seal_t *seal = cka_cache_seal() ? cka_cache_seal() : local_seal;
    unsigned char name[CKA_SEAL_NAME_LEN];
    if (front == NULL || seal == NULL || cka_is_name(seal, b->id, tok, len, name) != 0)
        return CKA_INTROSPECTION_UNAVAILABLE;
    long long now = (long long)apr_time_sec(apr_time_now());
    apr_time_t deadline = apr_time_now() + apr_time_from_sec(cka_srv_http_timeout(sc) + 1);
    slot_t *sl = slot_of(name);
    int state = 0;
    char *answer = NULL;
    size_t alen = 0;

    /* This process first: a live answer, a call already running for the
     * token (wait for it), or an endpoint that just failed. */
    apr_thread_mutex_lock(front_mutex);
    for (;;) {
        if (is_mine(sl, name) && sl->until > now && sl->state) {
            state = sl->state;
            if (state == 'A') {
                answer = apr_pstrmemdup(r->pool, sl->answer, sl->alen);
                alen = sl->alen;
            }
            apr_thread_mutex_unlock(front_mutex);
            cka_count_introspect(b->slot, CKA_IS_R_CACHED);
            *cached = 1;
            return verdict(r, b, state, answer, alen, pol, claims);
        }
        if (b->fail_until > now) {
            apr_thread_mutex_unlock(front_mutex);
            cka_count_introspect(b->slot, CKA_IS_R_FAILED);
            return CKA_INTROSPECTION_UNAVAILABLE;
        }
        if (!(is_mine(sl, name) && sl->inflight))
            break;
        apr_interval_time_t left = deadline - apr_time_now();
        if (left <= 0) {
            apr_thread_mutex_unlock(front_mutex);
            cka_count_introspect(b->slot, CKA_IS_R_FAILED);
            return CKA_INTROSPECTION_UNAVAILABLE;
        }
        apr_thread_cond_timedwait(front_cond, front_mutex, left);
        now = (long long)apr_time_sec(apr_time_now());
    }
    /* Ours to ask: the slot belongs to this token now (unless another
     * token's call holds it: then no single flight for this one). */
    int owner = 0;
    if (!is_mine(sl, name) && !sl->inflight) {
        slot_clear(sl);
        memcpy(sl->name, name, CKA_SEAL_NAME_LEN);
        sl->used = 1;
    }
    if (is_mine(sl, name)) {
        sl->inflight = 1;
        owner = 1;
    }
    apr_thread_mutex_unlock(front_mutex);

    cka_is_record_t rec;
    int got;
    int shared = shared_result(r, seal, b, name, deadline, &rec);
    if (shared > 0) {
        got = 1;                 /* another process or host asked */
        cka_count_introspect(b->slot, CKA_IS_R_CACHED);
        *cached = 1;
    }
    else if (shared < 0) {
        got = 0;
        cka_count_introspect(b->slot, CKA_IS_R_FAILED);
    }
    else {
        shared_mark(r, seal, b, name, 'P', now + cka_srv_http_timeout(sc) + 2);
        got = call(r, sc, b, tok, len, &rec);
        if (got) {
            shared_put(r, seal, name, &rec);
            cka_count_introspect(b->slot, rec.state == 'A' ? CKA_IS_R_ACTIVE
                                                           : CKA_IS_R_INACTIVE);
        }
        else {
            shared_mark(r, seal, b, name, 'F',
                        (long long)apr_time_sec(apr_time_now()) + FAIL_HOLD_SEC);
            cka_count_introspect(b->slot, CKA_IS_R_FAILED);
        }
    }

    apr_thread_mutex_lock(front_mutex);
    if (got)
        slot_put(sl, name, &rec);
    if (owner && is_mine(sl, name))
        sl->inflight = 0;
    apr_thread_cond_broadcast(front_cond);
    apr_thread_mutex_unlock(front_mutex);
    if (!got)
        return CKA_INTROSPECTION_UNAVAILABLE;
    return verdict(r, b, rec.state, rec.answer, rec.answer_len, pol, claims);
}
