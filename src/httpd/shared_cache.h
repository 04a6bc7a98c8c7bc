/* shared_cache.h - ConduktorAuthCache: the httpd socache provider shared by
 * processes (shmcb) or hosts (redis, memcache), and the seal every record
 * in it goes through (ConduktorAuthCacheSecret). Lookups never queue behind
 * a busy cache (trylock) and a failing one is left alone for a few seconds
 * (one log line per outage): a cache problem only costs full verification. */
#ifndef CKA_SHARED_CACHE_H
#define CKA_SHARED_CACHE_H
#include "mod_cka.h"
#include "seal.h"

#define CKA_CACHE_MUTEX "conduktor-auth-cache"

/* Directive handlers (global server config only). */
const char *cka_set_cache(cmd_parms *cmd, void *dc, const char *arg);
const char *cka_set_cache_ttl(cmd_parms *cmd, void *dc, const char *arg);
const char *cka_set_cache_secret(cmd_parms *cmd, void *dc, const char *arg);

int  cka_shared_cache_pre_config(apr_pool_t *pconf);
/* check_config (also apachectl -t): a network provider without a secret. */
int  cka_shared_cache_check_config(apr_pool_t *ptemp, server_rec *s);
int  cka_shared_cache_post_config(apr_pool_t *pconf, server_rec *s);
void cka_shared_cache_child_init(apr_pool_t *pchild, server_rec *s);

/* Is any cache on? (ConduktorAuthCache none turns all layers off.) */
int cka_cache_enabled(void);
/* ConduktorAuthCacheTTL in seconds. */
int cka_cache_ttl(void);
/* The seal of this generation (names and records); NULL when the cache is
 * off or the seal could not be made (then nothing is cached). */
const cka_seal_t *cka_cache_seal(void);

/* Raw access under a lookup name (already keyed: cka_seal_name). get: 1
 * with *val (from r->pool) and *len on a hit, 0 otherwise (no shared
 * cache, busy, backing off, no entry). */
int  cka_shared_lookup(request_rec *r, const unsigned char name[CKA_SEAL_NAME_LEN],
                       unsigned char **val, unsigned *len, unsigned max);
void cka_shared_store(request_rec *r, const unsigned char name[CKA_SEAL_NAME_LEN],
                      apr_time_t expiry, const unsigned char *val, unsigned len);

/* Sealed entries of other kinds (the key store's fetched key sets): the
 * key is named and the value sealed here, so callers handle plain bytes.
 * cka_shared_get: 1 with *len set on a hit whose record opens (buf holds
 * *len bytes on entry); a record that does not open is a miss, counted. */
int  cka_shared_get(request_rec *r, const unsigned char *key, unsigned keylen,
                    unsigned char *buf, unsigned *len);
void cka_shared_put(request_rec *r, const unsigned char *key, unsigned keylen,
                    apr_time_t expiry, const unsigned char *val, unsigned len);

#endif
