/* tcache.c - per-process validated-token cache (see tcache.h). */
#include "tcache.h"
#include <string.h>
#include <apr_strings.h>
#include <apr_thread_mutex.h>

#define STRIPES 64

typedef struct {
    unsigned char name[CKA_SEAL_NAME_LEN];
    long long     until;
    cka_alg_t     alg;
    char          typ[CKA_TYP_MAX + 1];
    char          kid[CKA_KID_MAX + 1];
    unsigned char binding[CKA_BIND_LEN];
    unsigned char thumb[CKA_THUMB_LEN];
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

static apr_status_t release_json(void *v)
{
    json_decref((json_t *)v);
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

int cka_tcache_get(cka_tcache_t *c, const unsigned char name[CKA_SEAL_NAME_LEN],
                   long long now, apr_pool_t *p, cka_record_t *out)
{
    if (c == NULL)
        return 0;
    unsigned i = slot_of(c, name);
    apr_thread_mutex_t *m = c->lock[i % STRIPES];
    json_t *claims = NULL;
    entry_t copy;
    apr_thread_mutex_lock(m);
    entry_t *e = &c->e[i];
    if (e->claims && now < e->until && memcmp(e->name, name, CKA_SEAL_NAME_LEN) == 0) {
        copy = *e;
        claims = json_incref(e->claims);
    }
    apr_thread_mutex_unlock(m);
    if (claims == NULL)
        return 0;
    apr_pool_cleanup_register(p, claims, release_json, apr_pool_cleanup_null);
    memset(out, 0, sizeof(*out));
    out->alg = copy.alg;
    out->typ = copy.typ[0] ? apr_pstrdup(p, copy.typ) : NULL;
    out->kid = copy.kid[0] ? apr_pstrdup(p, copy.kid) : NULL;
    memcpy(out->binding, copy.binding, CKA_BIND_LEN);
    memcpy(out->thumb, copy.thumb, CKA_THUMB_LEN);
    out->until = copy.until;
    out->claims = claims;
    return 1;
}

void cka_tcache_put(cka_tcache_t *c, const unsigned char name[CKA_SEAL_NAME_LEN],
                    const cka_record_t *rec)
{
    if (c == NULL || rec->claims == NULL
        || (rec->typ && strlen(rec->typ) > CKA_TYP_MAX)
        || (rec->kid && strlen(rec->kid) > CKA_KID_MAX))
        return;
    unsigned i = slot_of(c, name);
    apr_thread_mutex_t *m = c->lock[i % STRIPES];
    json_t *old;
    apr_thread_mutex_lock(m);
    entry_t *e = &c->e[i];
    old = e->claims;
    memcpy(e->name, name, CKA_SEAL_NAME_LEN);
    e->until = rec->until;
    e->alg = rec->alg;
    apr_cpystrn(e->typ, rec->typ ? rec->typ : "", sizeof(e->typ));
    apr_cpystrn(e->kid, rec->kid ? rec->kid : "", sizeof(e->kid));
    memcpy(e->binding, rec->binding, CKA_BIND_LEN);
    memcpy(e->thumb, rec->thumb, CKA_THUMB_LEN);
    e->claims = json_incref((json_t *)rec->claims);
    apr_thread_mutex_unlock(m);
    if (old)
        json_decref(old);
}
