/* key_store.h - the key sets of the trusted issuers, as a core key source.
 *
 * A key set belongs to a binding (binding.h), never to an issuer string
 * alone. Local
 * (file:) sets are parsed at config time. Remote sets (https JWKS, OIDC
 * discovery) live as raw documents with a version number in shared
 * memory, one slot per binding id, so all child processes share one fetch
 * and servers with the same binding share one slot; each process keeps
 * its own parsed copy and re-parses only when the version moves. */
#ifndef CKA_KEY_STORE_H
#define CKA_KEY_STORE_H
#include "binding.h"
#include "validate.h"

#define CKA_MAX_REMOTE_ISSUERS 16   /* remote key sets (distinct bindings) */
#define CKA_KEYS_MUTEX "conduktor-auth-keys"

/* A key source over the bindings of server s, for one request. */
void cka_key_store_source(request_rec *r, const cka_srv_conf_t *s,
                          cka_key_source_t *out);

/* Hooks: pre_config registers the mutex; post_config makes the bindings,
 * sets up shared memory (kept across restarts) and assigns slots;
 * child_init attaches. */
int cka_key_store_pre_config(apr_pool_t *pconf);
int cka_key_store_post_config(apr_pool_t *pconf, server_rec *s);
void cka_key_store_child_init(apr_pool_t *pchild, server_rec *s);

/* Snapshot of one remote key set, for the status page. Two servers that
 * trust the same issuer from different sources have two entries: match
 * one to a server by id (cka_find_binding(...)->id). */
typedef struct {
    const char   *iss;
    unsigned char id[CKA_BINDING_ID_LEN];
    const char   *kind;            /* "jwks" or "discovery"               */
    const char   *source;          /* the configured JWKS URL; "" for
                                      discovery                            */
    const char   *jwks_uri;        /* where the set in use came from; ""  */
    const char   *ca_file;         /* "" for the system store             */
    unsigned      fetch_ok, fetch_failed, keys_loaded;
    unsigned      from_shared;     /* sets taken from the shared cache    */
    unsigned      version;         /* 0: never obtained; an identical
                                      document does not move it            */
    unsigned      parses;          /* documents parsed, all processes     */
    apr_time_t    fetched_at;      /* 0: never                            */
    apr_time_t    last_attempt;    /* last fetch of any kind; 0: never    */
    int           last_failed;     /* the last fetch failed               */
    const char   *last_error;      /* its error ("stage: why"); ""        */
} cka_key_status_t;
/* Fills up to max entries; returns how many. */
int cka_key_store_status(apr_pool_t *p, cka_key_status_t *out, int max);

#endif
