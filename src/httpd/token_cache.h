/* token_cache.h - validated tokens: a per-process front (parsed claims)
 * over sealed records in the shared cache (shared_cache.h). Looked up under
 * the token's keyed name; every hit is checked by the core
 * (cka_validate_hit) before it counts for anything. */
#ifndef CKA_TOKEN_CACHE_H
#define CKA_TOKEN_CACHE_H
#include "config.h"
#include "record.h"
#include "validate.h"

void cka_token_cache_child_init(apr_pool_t *pchild, server_rec *s);

/* The lookup name of a token. 0, or -1 when there is no cache (off, or no
 * seal) or the credential is not shaped like a compact JWS (three
 * non-empty segments): such a credential is never answered from the cache.
 * Only tokens that passed the strict parse are ever stored, and a name is
 * the keyed hash of the very bytes, so a hit is such a token. */
int cka_token_cache_name(const char *tok, size_t len, unsigned char name[CKA_SEAL_NAME_LEN]);

/* 1 on a hit: *out (from r->pool) as the front or a sealed shared record
 * holds it, claims parsed. A shared record that does not open or parse is
 * a miss, counted as rejected. Never blocks on a busy shared cache. */
int cka_token_cache_lookup(request_rec *r, const unsigned char name[CKA_SEAL_NAME_LEN],
                           cka_record_t *out);

/* The cache's answer about one credential, asked once per request (the
 * credential's sorting asks first; the verdict reuses the answer). */
typedef struct cka_token_probe_t {
    const char    *tok;            /* the credential asked about            */
    size_t         len;
    int            named;          /* it has a lookup name (name below)     */
    unsigned char  name[CKA_SEAL_NAME_LEN];
    int            usable;         /* a hit that cka_validate_hit accepts as
                                    * made by this server's configuration of
                                    * a trusted issuer, its key still there */
    cka_reason_t   why;            /* the location's rules on that hit      */
    cka_record_t   hit;
    const char    *iss;            /* the hit's issuer (usable only)        */
    cka_jws_parts_t parts;         /* on a miss: what the full sorting
                                    * parsed, for the verification          */
} cka_token_probe_t;

/* Ask the cache about tok for server sc under policy pol. A hit is usable
 * only when its iss is a trusted issuer of sc and cka_validate_hit (binding
 * id of sc's configuration of that issuer, key still in its set) takes it:
 * a record of another server's configuration, or one planted in a shared
 * cache, is never usable here. */
void cka_token_probe(request_rec *r, const cka_srv_conf_t *sc, const cka_policy_t *pol,
                     const char *tok, size_t len, cka_token_probe_t *out);

/* Remember a verified token (rec->until already the earlier of exp and
 * first validation + TTL). */
void cka_token_cache_store(request_rec *r, const unsigned char name[CKA_SEAL_NAME_LEN],
                           const cka_record_t *rec);

#endif
