/* flight.c - one call per key at a time (see flight.h). */
#include "flight.h"
#include <apr_thread_mutex.h>
#include <apr_thread_cond.h>
#include <openssl/crypto.h>

typedef struct {
    unsigned char    name[CKA_SEAL_NAME_LEN];
    int              used;        /* name is set                          */
    int              inflight;    /* a call for name is under way         */
    cka_flight_val_t v;           /* v.val: malloc'ed                     */
} slot_t;

struct cka_flight_t {
    slot_t             *slots;
    int                 n;
    apr_thread_mutex_t *mutex;
    apr_thread_cond_t  *cond;     /* a call ended                         */
};

static void clear_val(slot_t *sl)
{
    if (sl->v.val) {
        OPENSSL_cleanse((void *)sl->v.val, sl->v.len);
        free((void *)sl->v.val);
    }
    memset(&sl->v, 0, sizeof(sl->v));
}

static apr_status_t flight_cleanup(void *vf)
{
    cka_flight_t *f = vf;
    for (int i = 0; i < f->n; i++)
        clear_val(&f->slots[i]);
    return APR_SUCCESS;
}

cka_flight_t *cka_flight_create(apr_pool_t *pchild, int nslots)
{
    cka_flight_t *f = apr_pcalloc(pchild, sizeof(*f));
    f->n = nslots;
    f->slots = apr_pcalloc(pchild, (apr_size_t)nslots * sizeof(slot_t));
    if (apr_thread_mutex_create(&f->mutex, APR_THREAD_MUTEX_DEFAULT, pchild) != APR_SUCCESS
        || apr_thread_cond_create(&f->cond, pchild) != APR_SUCCESS)
        return NULL;
    apr_pool_cleanup_register(pchild, f, flight_cleanup, apr_pool_cleanup_null);
    return f;
}

static slot_t *slot_of(cka_flight_t *f, const unsigned char *name)
{
    return &f->slots[((unsigned)name[0] << 8 | name[1]) % (unsigned)f->n];
}

static int is_mine(const slot_t *sl, const unsigned char *name)
{
    return sl->used && memcmp(sl->name, name, CKA_SEAL_NAME_LEN) == 0;
}

/* Under the mutex: keep v in sl (which is name's). */
static void keep(slot_t *sl, const cka_flight_val_t *v)
{
    clear_val(sl);
    if (v == NULL || v->state == 0)
        return;
    char *copy = NULL;
    if (v->len > 0) {
        copy = malloc(v->len + 1);
        if (copy == NULL)
            return;
        memcpy(copy, v->val, v->len);
        copy[v->len] = '\0';
    }
    sl->v = *v;
    sl->v.val = copy;
}

static long long now_sec(void)
{
    return (long long)apr_time_sec(apr_time_now());
}

cka_flight_begin_t cka_flight_begin(cka_flight_t *f, const unsigned char name[CKA_SEAL_NAME_LEN],
                                    apr_time_t deadline, cka_flight_live_fn live, void *ctx,
                                    apr_pool_t *p, cka_flight_val_t *out)
{
    slot_t *sl = slot_of(f, name);
    memset(out, 0, sizeof(*out));
    apr_thread_mutex_lock(f->mutex);
    for (;;) {
        long long now = now_sec();
        if (is_mine(sl, name) && sl->v.state && sl->v.until > now
            && (live == NULL || live(&sl->v, now, ctx))) {
            *out = sl->v;
            out->val = sl->v.val ? apr_pstrmemdup(p, sl->v.val, sl->v.len) : NULL;
            apr_thread_mutex_unlock(f->mutex);
            return CKA_FLIGHT_HIT;
        }
        if (!(is_mine(sl, name) && sl->inflight))
            break;
        apr_interval_time_t left = deadline - apr_time_now();
        if (left <= 0) {
            apr_thread_mutex_unlock(f->mutex);
            return CKA_FLIGHT_TIMEOUT;
        }
        apr_thread_cond_timedwait(f->cond, f->mutex, left);
    }
    cka_flight_begin_t got = CKA_FLIGHT_CALL;
    if (!is_mine(sl, name)) {
        if (sl->inflight)
            got = CKA_FLIGHT_ALONE;
        else {
            clear_val(sl);
            memcpy(sl->name, name, CKA_SEAL_NAME_LEN);
            sl->used = 1;
        }
    }
    if (got == CKA_FLIGHT_CALL)
        sl->inflight = 1;
    apr_thread_mutex_unlock(f->mutex);
    return got;
}

void cka_flight_end(cka_flight_t *f, const unsigned char name[CKA_SEAL_NAME_LEN],
                    const cka_flight_val_t *v)
{
    slot_t *sl = slot_of(f, name);
    apr_thread_mutex_lock(f->mutex);
    if (is_mine(sl, name)) {
        keep(sl, v);
        sl->inflight = 0;
    }
    apr_thread_cond_broadcast(f->cond);
    apr_thread_mutex_unlock(f->mutex);
}

void cka_flight_put(cka_flight_t *f, const unsigned char name[CKA_SEAL_NAME_LEN],
                    const cka_flight_val_t *v)
{
    slot_t *sl = slot_of(f, name);
    apr_thread_mutex_lock(f->mutex);
    if (is_mine(sl, name) || !sl->inflight) {
        if (!is_mine(sl, name)) {
            clear_val(sl);
            memcpy(sl->name, name, CKA_SEAL_NAME_LEN);
            sl->used = 1;
        }
        keep(sl, v);
    }
    apr_thread_mutex_unlock(f->mutex);
}
