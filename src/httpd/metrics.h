/* metrics.h - counters shared by all child processes (shared memory). */
#ifndef CKA_METRICS_H
#define CKA_METRICS_H
#include "mod_cka.h"
#include <stddef.h>
#include "dpop.h"

/* The plain counters, listed once: the shared struct, the Prometheus
 * families and the JSON members of the status page come from this list, so
 * a new counter is one line here (and its cka_count call).
 * X(member, Prometheus family, label or NULL, JSON group or NULL, JSON key,
 *   help text) */
#define CKA_COUNTERS(X) \
    X(allowed,            "conduktor_auth_requests_allowed_total", NULL,                  NULL,         "allowed",          "Requests with a valid token that passed Require.") \
    X(cache_hits,         "conduktor_auth_cache_hits_total",       NULL,                  "cache",      "hits",             "Tokens found in the validated-token cache.") \
    X(cache_misses,       "conduktor_auth_cache_misses_total",     NULL,                  "cache",      "misses",           "Tokens verified in full.") \
    X(cache_rejected,     "conduktor_auth_cache_records_rejected_total", NULL,            "cache",      "records_rejected", "Shared-cache records that did not open with the cache secret (tampered, another secret, another token): treated as misses.") \
    X(preflights,         "conduktor_auth_preflights_total",       "result=\"answered\"", "preflights", "answered",         "CORS preflights, answered or refused.") \
    X(preflights_refused, "conduktor_auth_preflights_total",       "result=\"refused\"",  "preflights", "refused",          "CORS preflights, answered or refused.") \
    X(passed,             "conduktor_auth_requests_passed_total",  NULL,                  NULL,         "passed",           "Opaque credentials passed on unverified (ConduktorAuthOpaqueTokens pass) and granted by a rule that needs no identity.") \
    X(cred_jwt,           "conduktor_auth_credentials_total",      "kind=\"jwt\"",        "credentials", "jwt",            "Requests per credential kind (CONDUKTOR_AUTH_CREDENTIAL).") \
    X(cred_opaque,        "conduktor_auth_credentials_total",      "kind=\"opaque\"",     "credentials", "opaque",         "Requests per credential kind (CONDUKTOR_AUTH_CREDENTIAL).") \
    X(cred_client_credentials, "conduktor_auth_credentials_total", "kind=\"client_credentials\"", "credentials", "client_credentials", "Requests per credential kind (CONDUKTOR_AUTH_CREDENTIAL).") \
    X(cred_basic,         "conduktor_auth_credentials_total",      "kind=\"basic\"",      "credentials", "basic",          "Requests per credential kind (CONDUKTOR_AUTH_CREDENTIAL).") \
    X(cred_introspected,  "conduktor_auth_credentials_total",      "kind=\"introspected\"", "credentials", "introspected", "Requests per credential kind (CONDUKTOR_AUTH_CREDENTIAL).") \
    X(cc_exchanged,       "conduktor_auth_client_credentials_total", "result=\"exchanged\"", "client_credentials", "exchanged", "Client credentials (Basic): exchanged at the token endpoint, reused, refused by it (or remembered refused), or failed (endpoint down, slow or answering badly).") \
    X(cc_reused,          "conduktor_auth_client_credentials_total", "result=\"reused\"",    "client_credentials", "reused",    "Client credentials (Basic): exchanged at the token endpoint, reused, refused by it (or remembered refused), or failed (endpoint down, slow or answering badly).") \
    X(cc_refused,         "conduktor_auth_client_credentials_total", "result=\"refused\"",   "client_credentials", "refused",   "Client credentials (Basic): exchanged at the token endpoint, reused, refused by it (or remembered refused), or failed (endpoint down, slow or answering badly).") \
    X(cc_failed,          "conduktor_auth_client_credentials_total", "result=\"failed\"",    "client_credentials", "failed",    "Client credentials (Basic): exchanged at the token endpoint, reused, refused by it (or remembered refused), or failed (endpoint down, slow or answering badly).") \
    X(dpop_accepted,      "conduktor_auth_dpop_proofs_total",      "result=\"accepted\"", "dpop", "accepted",       "DPoP proofs accepted (refusals: conduktor_auth_dpop_proofs_refused_total, by defect).")

/* Introspection, per issuer (slots assigned in post_config, introspect.c):
 * X(index, result label, help). */
#define CKA_MAX_INTROSPECT_ISSUERS 16
#define CKA_IS_RESULTS(X) \
    X(CKA_IS_R_ACTIVE,   "active",   "an answer \"active\": true") \
    X(CKA_IS_R_INACTIVE, "inactive", "an answer \"active\": false") \
    X(CKA_IS_R_FAILED,   "failed",   "no usable answer (endpoint down, slow, not 200, not JSON, too large)") \
    X(CKA_IS_R_CACHED,   "cached",   "an answer reused from the cache (no call)")
enum {
#define CKA_X_IS_ENUM(idx, label, help) idx,
    CKA_IS_RESULTS(CKA_X_IS_ENUM)
#undef CKA_X_IS_ENUM
    CKA_IS_R_COUNT
};

typedef struct {
#define CKA_X_COUNTER(member, family, label, group, key, help) apr_uint64_t member;
    CKA_COUNTERS(CKA_X_COUNTER)
#undef CKA_X_COUNTER
    apr_uint64_t denied[CKA_REASON_COUNT];   /* by reason (CKA_REASONS) */
    apr_uint64_t introspect[CKA_MAX_INTROSPECT_ISSUERS][CKA_IS_R_COUNT];
    /* Not a count: 1 while the issuer's introspection fails (all processes
     * see it, so a failure burst is logged once). */
    apr_uint64_t introspect_failing[CKA_MAX_INTROSPECT_ISSUERS];
    apr_uint64_t dpop_refused[CKA_DPD_COUNT]; /* by defect (CKA_DPOP_DEFECTS) */
} cka_counters_t;

/* Count one introspection result for the issuer in slot (-1: not counted). */
void cka_count_introspect(int slot, int result);
/* The issuer in slot starts failing (failing = 1) or answers again (0):
 * 1 when that changes its state across all processes (the caller logs),
 * 0 when it was so already. Without shared memory or a slot: always 1. */
int cka_introspect_failing(int slot, int failing);

/* One row of CKA_COUNTERS, for the status page. */
typedef struct {
    size_t      offset;      /* of the member in cka_counters_t */
    const char *family, *label, *group, *key, *help;
} cka_counter_row_t;
extern const cka_counter_row_t cka_counter_rows[];
extern const int cka_counter_nrows;

/* Add one to a member of CKA_COUNTERS. */
void cka_count_at(size_t offset);
#define cka_count(member) cka_count_at(offsetof(cka_counters_t, member))

int  cka_metrics_post_config(server_rec *s);
void cka_count_denied(cka_reason_t why);
/* A refused DPoP proof, by what was wrong (replays apart). */
void cka_count_dpop_refused(cka_dpop_defect_t d);
/* A copy of the counters (zeros when unavailable). */
void cka_metrics_snapshot(cka_counters_t *out);
/* log_transaction: count the request's outcome once. */
int cka_metrics_log_transaction(request_rec *r);

#endif
