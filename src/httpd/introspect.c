/* introspect.c - ConduktorAuthIntrospect at request time (see introspect.h). */
#include "introspect.h"
#include "binding.h"
#include "key_store.h"
#include "shared_cache.h"
#include "metrics.h"
#include "fetch.h"
#include "json_util.h"
#include "cka_limits.h"
#include "flight.h"
#include <apr_thread_mutex.h>
#include <openssl/crypto.h>

#define ISSUER_HOLD_SEC 1        /* a timeout or 5xx: the issuer's new tokens
                                    get 503 at once meanwhile (this process) */
#define TOKEN_HOLD_SEC  1        /* an answer about one token (4xx, not JSON):
                                    that token alone gets 503 meanwhile     */
#define FRONT_SLOTS     1024

/* States kept in the front (flight.h): 'A' active (the answer's JSON),
 * 'I' inactive, 'F' the call for this token failed. Only 'A' goes to the
 * shared cache. */
static cka_flight_t        *front;          /* per process (child_init)   */
static apr_thread_mutex_t  *is_mutex;       /* fail_until, discovered     */
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

void cka_introspect_child_init(apr_pool_t *pchild, server_rec *s)
{
    front = cka_flight_create(pchild, FRONT_SLOTS);
    if (front == NULL
        || apr_thread_mutex_create(&is_mutex, APR_THREAD_MUTEX_DEFAULT, pchild) != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s, CKA_LOG_PREFIX
                     "cannot create the introspection lock; introspected tokens get 503 "
                     "in this process");
        front = NULL;
    }
    local_seal = cka_seal_ephemeral(pchild);
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

/* ---- the shared cache: active answers only ----------------------------------*/

static void shared_put(request_rec *r, const cka_seal_t *seal, const unsigned char *name,
                       const cka_is_record_t *rec)
{
    unsigned char *sealed;
    size_t n;
    if (rec->state == 'A' && seal != NULL && cka_cache_seal() == seal
        && cka_is_record_seal(seal, r->pool, name, rec, &sealed, &n) == 0)
        cka_shared_store(r, name, apr_time_from_sec(rec->until), sealed, (unsigned)n);
}

/* An active answer of this binding that another process, vhost or host
 * stored, still good for this reader's TTL (counted from when the IdP
 * answered, whatever the writer's TTL was). */
static int shared_record(request_rec *r, const cka_seal_t *seal, const cka_is_binding_t *b,
                         const unsigned char *name, long long now, int ttl,
                         cka_is_record_t *out)
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
    return out->state == 'A' && cka_is_reader_until(out, ttl) > now;
}

/* A kept answer is good for a reader with its own TTL (ctx: int *). */
static int live_for(const cka_flight_val_t *v, long long now, void *ctx)
{
    if (v->state == 'F')
        return 1;
    cka_is_record_t rec = { .state = v->state, .until = v->until, .at = v->at };
    return cka_is_reader_until(&rec, *(const int *)ctx) > now;
}

/* ---- the call --------------------------------------------------------------------*/

/* Log a failure, once per burst (per issuer, across the processes: the
 * flag is in shared memory). hold_issuer: a timeout, a connection that
 * failed or a 5xx - the endpoint itself is in trouble, and this process
 * holds the issuer's new tokens at 503 for ISSUER_HOLD_SEC; otherwise
 * the answer was about this token alone (the caller holds only it). */
static void failed(request_rec *r, cka_is_binding_t *b, const char *endpoint, const char *why,
                   int hold_issuer)
{
    if (hold_issuer && is_mutex != NULL) {
        apr_thread_mutex_lock(is_mutex);
        b->fail_until = (long long)apr_time_sec(apr_time_now()) + ISSUER_HOLD_SEC;
        apr_thread_mutex_unlock(is_mutex);
    }
    int first = cka_introspect_failing(b->slot, 1);
    ap_log_rerror(APLOG_MARK, first ? APLOG_ERR : APLOG_DEBUG, 0, r, CKA_LOG_PREFIX
                  "introspection for issuer %s at %s failed: %s; answering 503 (%s)%s",
                  ap_escape_logitem(r->pool, b->ic->iss),
                  ap_escape_logitem(r->pool, endpoint ? endpoint : "(discovery)"),
                  ap_escape_logitem(r->pool, why),
                  hold_issuer ? "the issuer's new tokens for 1 s" : "this token for 1 s",
                  first ? " (further failures are not logged until a call succeeds)" : "");
}

static int issuer_held(const cka_is_binding_t *b, long long now)
{
    int held = 0;
    if (is_mutex != NULL) {
        apr_thread_mutex_lock(is_mutex);
        held = b->fail_until > now;
        apr_thread_mutex_unlock(is_mutex);
    }
    return held;
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
    if (is_mutex != NULL) {
        apr_thread_mutex_lock(is_mutex);
        if (b->discovered != NULL && b->discovered_until > now)
            ep = apr_pstrdup(r->pool, b->discovered);
        apr_thread_mutex_unlock(is_mutex);
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
    if (ep != NULL && is_mutex != NULL) {
        apr_thread_mutex_lock(is_mutex);
        free(b->discovered);
        b->discovered = strdup(ep);
        b->discovered_until = now + cka_srv_jwks_refresh(sc);
        apr_thread_mutex_unlock(is_mutex);
    }
    return ep;
}

/* POST the token to the endpoint: CALL_OK with *rec ('A' or 'I'), or a
 * failure (logged): CALL_TOKEN_FAILED when the endpoint answered about
 * this token (4xx, not JSON, not an RFC 7662 answer), CALL_ISSUER_FAILED
 * when it did not answer usefully at all (down, slow, 5xx, discovery,
 * our own client authentication). */
enum { CALL_OK, CALL_TOKEN_FAILED, CALL_ISSUER_FAILED };
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
        failed(r, b, NULL, why, 1);
        return CALL_ISSUER_FAILED;
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
            failed(r, b, ep, why, 1);
            return CALL_ISSUER_FAILED;
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
                                      apr_time_as_msec(apr_time_now() - start)), 1);
        return CALL_ISSUER_FAILED;
    }
    json_t *claims = NULL;
    cka_is_outcome_t out = cka_is_parse_answer(r->pool, res.status, res.body, res.len,
                                               ic->iss, &claims, &why);
    if (out == CKA_IS_BAD) {
        int issuer = res.status >= 500 || res.status < 100;
        failed(r, b, ep, apr_pstrcat(r->pool, "unusable answer: ", why, NULL), issuer);
        return issuer ? CALL_ISSUER_FAILED : CALL_TOKEN_FAILED;
    }
    succeeded(r, b, ep);
    memset(rec, 0, sizeof(*rec));
    memcpy(rec->binding, b->id, CKA_IS_BIND_LEN);
    rec->state = out == CKA_IS_ACTIVE ? 'A' : 'I';
    long long done = (long long)apr_time_sec(apr_time_now());
    rec->at = done;
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
    return CALL_OK;
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

static cka_reason_t held_at_503(const cka_is_binding_t *b)
{
    cka_count_introspect(b->slot, CKA_IS_R_FAILED);
    return CKA_INTROSPECTION_UNAVAILABLE;
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
    int ttl = cka_srv_introspect_ttl(sc);
    apr_time_t deadline = apr_time_now() + apr_time_from_sec(cka_srv_http_timeout(sc) + 1);

    /* This process first: a live answer (for this reader's TTL), a call
     * already under way for the token (wait for it), or a failure that
     * holds this token. */
    cka_flight_val_t v;
    cka_flight_begin_t fb = cka_flight_begin(front, name, deadline, live_for, &ttl, r->pool, &v);
    if (fb == CKA_FLIGHT_HIT) {
        if (v.state == 'F')
            return held_at_503(b);
        cka_count_introspect(b->slot, CKA_IS_R_CACHED);
        *cached = 1;
        return verdict(r, b, v.state, v.val, v.len, pol, claims);
    }
    if (fb == CKA_FLIGHT_TIMEOUT)
        return held_at_503(b);
    int mine = fb == CKA_FLIGHT_CALL;
    long long now = (long long)apr_time_sec(apr_time_now());
    cka_is_record_t rec;
    cka_flight_val_t keep = { 0 };
    cka_reason_t why;

    if (shared_record(r, seal, b, name, now, ttl, &rec)) {
        /* Another process, vhost or host asked: its active answer. */
        cka_count_introspect(b->slot, CKA_IS_R_CACHED);
        *cached = 1;
        keep = (cka_flight_val_t){ .state = 'A', .until = rec.until, .at = rec.at,
                                   .val = rec.answer, .len = rec.answer_len };
        why = verdict(r, b, 'A', rec.answer, rec.answer_len, pol, claims);
    }
    else if (issuer_held(b, now))
        why = held_at_503(b);    /* the endpoint just failed: no new call */
    else {
        int got = call(r, sc, b, tok, len, &rec);
        if (got == CALL_OK) {
            shared_put(r, seal, name, &rec);       /* active answers only */
            cka_count_introspect(b->slot, rec.state == 'A' ? CKA_IS_R_ACTIVE
                                                           : CKA_IS_R_INACTIVE);
            keep = (cka_flight_val_t){ .state = rec.state, .until = rec.until, .at = rec.at,
                                       .val = rec.answer, .len = rec.answer_len };
            why = verdict(r, b, rec.state, rec.answer, rec.answer_len, pol, claims);
        }
        else {
            if (got == CALL_TOKEN_FAILED) {
                long long t = (long long)apr_time_sec(apr_time_now());
                keep = (cka_flight_val_t){ .state = 'F', .until = t + TOKEN_HOLD_SEC,
                                           .at = t };
            }
            why = held_at_503(b);
        }
    }
    if (mine)
        cka_flight_end(front, name, &keep);
    return why;
}
