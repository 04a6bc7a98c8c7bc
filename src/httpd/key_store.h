/* key_store.h - the key sets of the trusted issuers, as a core key source.
 * Local (file:) sets are parsed at config time. Remote sets (https JWKS,
 * OIDC discovery) live as raw documents with a version number in shared
 * memory, so all child processes share one fetch; each process keeps its
 * own parsed copy and re-parses only when the version moves. */
#ifndef CKA_KEY_STORE_H
#define CKA_KEY_STORE_H
#include "config.h"
#include "validate.h"

#define CKA_MAX_REMOTE_ISSUERS 16
#define CKA_KEYS_MUTEX "conduktor-auth-keys"

/* A key source over the issuers of server s, for one request. */
void cka_key_store_source(request_rec *r, const cka_srv_conf_t *s,
                          cka_key_source_t *out);

/* Hooks: pre_config registers the mutex; post_config sets up shared
 * memory (kept across restarts) and assigns slots; child_init attaches. */
int cka_key_store_pre_config(apr_pool_t *pconf);
int cka_key_store_post_config(apr_pool_t *pconf, server_rec *s);
void cka_key_store_child_init(apr_pool_t *pchild, server_rec *s);

/* Snapshot of one remote issuer, for the status page. */
typedef struct {
    const char *iss;
    unsigned    fetch_ok, fetch_failed, keys_loaded;
    unsigned    from_shared;       /* sets taken from the shared cache */
    apr_time_t  fetched_at;        /* 0: never */
} cka_key_status_t;
/* Fills up to max entries; returns how many. */
int cka_key_store_status(apr_pool_t *p, cka_key_status_t *out, int max);

#endif
