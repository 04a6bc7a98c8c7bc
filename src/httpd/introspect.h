/* introspect.h - ConduktorAuthIntrospect at request time: RFC 7662 calls
 * with the configured client authentication, answers remembered in the
 * token cache, one call per token at a time.
 *
 * An answer is remembered sealed (ConduktorAuthCacheSecret) under a keyed
 * name of (introspection binding, token): the binding is the issuer
 * configuration of this server (issuer, key source, CA file) with the
 * endpoint, client_id and client authentication, so an answer obtained by
 * one configuration is never used by another. Active answers are reused
 * until the earlier of their exp and ConduktorAuthIntrospectTTL, inactive
 * ones for the earlier of 10 s and the TTL; the IdP's answer time is kept
 * with the answer and every reader caps the reuse by its own TTL, so a
 * revoked token stops working within the TTL of the strictest reader.
 *
 * One call per token at a time in a process (flight.h). Only active
 * answers go to the shared cache (all processes; all hosts sharing
 * Redis/memcache); inactive answers, failures and calls under way stay in
 * the process: traffic nobody presented successfully writes nothing
 * shared. A failure about one token (the endpoint answered 4xx, or not an
 * RFC 7662 answer) holds that token at 503 for 1 s; a timeout, a failed
 * connection or a 5xx holds the issuer's new tokens for 1 s in this
 * process. Failures are logged once per burst (and the recovery
 * once). Neither a token nor a secret is ever logged. */
#ifndef CKA_INTROSPECT_GLUE_H
#define CKA_INTROSPECT_GLUE_H
#include "config.h"
#include "validate.h"

/* One ConduktorAuthIntrospect as one server uses it (sc->is_bindings).
 * Made in post_config; the members after `slot` are this process's own
 * (changed under the front's lock only). */
typedef struct {
    const cka_introspect_conf_t *ic;
    unsigned char  id[CKA_IS_BIND_LEN];
    int            bound;          /* the issuer is trusted by this server  */
    int            slot;           /* counters (metrics.h); -1: none        */
    long long      fail_until;     /* the endpoint failed: 503 until        */
    char          *discovered;     /* discover: the endpoint (malloc)       */
    long long      discovered_until;
} cka_is_binding_t;

/* Ask (or reuse the answer for) tok at the introspection configuration of
 * iss on this server. CKA_OK with *claims (the active answer, checked
 * with pol) and *cached; CKA_TOKEN_INACTIVE; a claim refusal of the
 * answer (wrong_issuer, token_expired, wrong_audience, ...);
 * CKA_INTROSPECTION_UNAVAILABLE (503); CKA_NOT_CONFIGURED when iss has no
 * ConduktorAuthIntrospect here (logged). */
cka_reason_t cka_introspect(request_rec *r, const char *iss, const char *tok, size_t len,
                            const cka_policy_t *pol, const json_t **claims, int *cached);

/* Does server s introspect iss? */
int cka_introspects(const cka_srv_conf_t *sc, const char *iss);

/* The issuers with counter slots, for the status page: names[i] is the
 * issuer of slot i; returns how many. */
int cka_introspect_issuers(const char *const **names);

int  cka_introspect_post_config(apr_pool_t *pconf, server_rec *s);
void cka_introspect_child_init(apr_pool_t *pchild, server_rec *s);

#endif
