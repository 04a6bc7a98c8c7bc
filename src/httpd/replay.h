/* replay.h - the DPoP replay store (ConduktorAuthReplayCache): a proof's
 * keyed jti name recorded with an atomic add-if-absent, so that a proof is
 * accepted at most once on all hosts sharing the store, for the whole
 * window, across graceful restarts.
 *
 *   shmcb[:<bytes>]       this host: a table of its own in shared memory
 *                         (replay_table.h) under one lock kept in it, made
 *                         once in the first generation and kept across
 *                         graceful restarts; full: refused, never evicted
 *   redis:<host:port>     SET <name> <sealed> NX PX <ms> (hiredis)
 *   memcache:<host:port>  add <name> (libmemcached)
 *
 * Default: shmcb when ConduktorAuthCache is shmcb (or unset), the first
 * server of ConduktorAuthCache when it is redis or memcache. A store that
 * does not answer fails closed, logged once per outage per process. */
#ifndef CKA_REPLAY_H
#define CKA_REPLAY_H
#include "mod_cka.h"
#include "seal.h"

#define CKA_REPLAY_DEFAULT_BYTES (1024 * 1024)

const char *cka_set_replay_cache(cmd_parms *cmd, void *dc, const char *arg);

/* pre_config: forget the last generation's settings; post_config: the
 * store (the table made once and kept); child_init: this process's
 * connections. */
int cka_replay_pre_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp);
int cka_replay_post_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp,
                           server_rec *s);
void cka_replay_child_init(apr_pool_t *pchild, server_rec *s);

typedef enum {
    CKA_REPLAY_NEW = 1,         /* recorded now: accept the proof          */
    CKA_REPLAY_SEEN = 0,        /* recorded before: a replay               */
    CKA_REPLAY_FULL = -1,       /* shmcb: no room (refuse, counted)        */
    CKA_REPLAY_DOWN = -2        /* off, or the store does not answer       */
} cka_replay_result_t;

/* Record name for ttl seconds unless it is there already. sealed: the
 * sealed record written to redis/memcache (the shared-memory table keeps
 * only the name). */
cka_replay_result_t cka_replay_add(request_rec *r, const unsigned char name[CKA_SEAL_NAME_LEN],
                                   int ttl, const unsigned char *sealed, unsigned sealed_len);

/* The store as configured, for logs: "shmcb:1048576", "redis:h:p", ... */
const char *cka_replay_spec(void);

#endif
