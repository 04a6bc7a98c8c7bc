/* tcache.c - per-process validated-token cache (see tcache.h). */
#include "tcache.h"
#include <string.h>
#include <apr_thread_mutex.h>

#define STRIPES 64

typedef struct {
    unsigned char hash[CKA_HASH_LEN];
    long long     until;
    cka_alg_t     alg;
    char          typ[CKA_TYP_MAX + 1];
    char          kid[CKA_KID_MAX + 1];
    json_t       *claims;
} entry_t;

struct cka_tcache_t {
    unsigned             n;
    entry_t             *e;
    apr_thread_mutex_t  *lock[STRIPES];
};

static apr_status_t tcache_cleanup(void *v)
{
    cka_tcache_t *c = v;
    for (unsigned i = 0; i < c->n; i++)
        if (c->e[i].claims)
            json_decref(c->e[i].claims);
    return APR_SUCCESS;
}

cka_tcache_t *cka_tcache_create(apr_pool_t *p, unsigned nslots)
{
    if (nslots == 0)
        return NULL;
    cka_tcache_t *c = apr_pcalloc(p, sizeof(*c));
    c->n = nslots;
    c->e = apr_pcalloc(p, sizeof(entry_t) * nslots);
    for (int i = 0; i < STRIPES; i++)
        if (apr_thread_mutex_create(&c->lock[i], APR_THREAD_MUTEX_DEFAULT, p) != APR_SUCCESS)
            return NULL;
    apr_pool_cleanup_register(p, c, tcache_cleanup, apr_pool_cleanup_null);
    return c;
}

static unsigned slot_of(const cka_tcache_t *c, const unsigned char *h)
{
    unsigned v;
    memcpy(&v, h, sizeof(v));
    return v % c->n;
}

int cka_tcache_get(cka_tcache_t *c, const unsigned char hash[CKA_HASH_LEN],
                   long long now, cka_tcache_hit_t *hit)
{
    if (c == NULL)
        return 0;
    unsigned i = slot_of(c, hash);
    apr_thread_mutex_t *m = c->lock[i % STRIPES];
    int found = 0;
    apr_thread_mutex_lock(m);
    entry_t *e = &c->e[i];
    if (e->claims && e->until > now && memcmp(e->hash, hash, CKA_HASH_LEN) == 0) {
        hit->claims = json_incref(e->claims);
        hit->alg = e->alg;
        memcpy(hit->typ, e->typ, sizeof(hit->typ));
        memcpy(hit->kid, e->kid, sizeof(hit->kid));
        found = 1;
    }
    apr_thread_mutex_unlock(m);
    return found;
}

void cka_tcache_put(cka_tcache_t *c, const unsigned char hash[CKA_HASH_LEN],
                    json_t *claims, cka_alg_t alg, const char *typ,
                    const char *kid, long long until)
{
    if (c == NULL || (typ && strlen(typ) > CKA_TYP_MAX)
        || (kid && strlen(kid) > CKA_KID_MAX))
        return;
    unsigned i = slot_of(c, hash);
    apr_thread_mutex_t *m = c->lock[i % STRIPES];
    json_t *old;
    apr_thread_mutex_lock(m);
    entry_t *e = &c->e[i];
    old = e->claims;
    memcpy(e->hash, hash, CKA_HASH_LEN);
    e->until = until;
    e->alg = alg;
    if (typ)
        strcpy(e->typ, typ);
    else
        e->typ[0] = '\0';
    if (kid)
        strcpy(e->kid, kid);
    else
        e->kid[0] = '\0';
    e->claims = json_incref(claims);
    apr_thread_mutex_unlock(m);
    if (old)
        json_decref(old);
}
