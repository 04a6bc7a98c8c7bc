/* token_cache.h - validated-token cache: a per-process front (parsed
 * claims) over an httpd socache provider shared by processes and hosts. */
#ifndef CKA_TOKEN_CACHE_H
#define CKA_TOKEN_CACHE_H
#include "config.h"
#include "jws.h"
#include "record.h"

#define CKA_CACHE_MUTEX "conduktor-auth-cache"

int  cka_token_cache_pre_config(apr_pool_t *pconf);
int  cka_token_cache_post_config(apr_pool_t *pconf, server_rec *s);
void cka_token_cache_child_init(apr_pool_t *pchild, server_rec *s);

/* Directive handlers (server config only). */
const char *cka_set_cache(cmd_parms *cmd, void *dc, const char *arg);
const char *cka_set_cache_ttl(cmd_parms *cmd, void *dc, const char *arg);

typedef struct {
    const json_t *claims;     /* alive until the request ends              */
    cka_alg_t     alg;
    const char   *typ;        /* NULL when none                            */
    const char   *kid;        /* NULL when none                            */
} cka_cached_t;

/* 1 on a hit. Never blocks on a busy shared cache. */
int cka_token_cache_lookup(request_rec *r, const unsigned char hash[CKA_HASH_LEN],
                           cka_cached_t *out);

/* Remember a verified token until the earlier of exp and the TTL. */
void cka_token_cache_store(request_rec *r, const unsigned char hash[CKA_HASH_LEN],
                           const cka_jws_t *jws, long long exp);

/* Is any cache on? (ConduktorAuthCache none turns both layers off.) */
int cka_token_cache_enabled(void);

/* The shared socache itself, for other kinds of entries (the key store's
 * fetched key sets). Best effort: 0 when there is no shared cache, it is
 * busy (trylock), backing off after a failure, or has no such entry.
 * cka_shared_get: 1 with *len set on a hit (buf holds *len bytes on entry). */
int  cka_shared_get(request_rec *r, const unsigned char *key, unsigned keylen,
                    unsigned char *buf, unsigned *len);
void cka_shared_put(request_rec *r, const unsigned char *key, unsigned keylen,
                    apr_time_t expiry, const unsigned char *val, unsigned len);

#endif
