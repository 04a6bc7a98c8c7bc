/* frame.c - bounds-checked big-endian framing (frame.h). */
#include "frame.h"
#include "cka_limits.h"
#include <string.h>
#include <apr_strings.h>

void cka_frame_w_over(cka_frame_w_t *w, unsigned char *buf, size_t cap)
{
    w->buf = buf;
    w->cap = cap;
    w->len = 0;
    w->bad = buf == NULL && cap > 0;
}

void cka_frame_w_init(cka_frame_w_t *w, apr_pool_t *p, size_t cap)
{
    cka_frame_w_over(w, apr_palloc(p, cap ? cap : 1), cap);
}

void cka_frame_put(cka_frame_w_t *w, const void *data, size_t n)
{
    if (w->bad || n > w->cap - w->len) {
        w->bad = 1;
        return;
    }
    if (n)
        memcpy(w->buf + w->len, data, n);
    w->len += n;
}

static void put_be(cka_frame_w_t *w, uint64_t v, int bytes)
{
    unsigned char b[8];
    for (int i = bytes - 1; i >= 0; i--, v >>= 8)
        b[i] = (unsigned char)(v & 0xff);
    cka_frame_put(w, b, (size_t)bytes);
}

void cka_frame_put_u8(cka_frame_w_t *w, unsigned v)
{
    if (v > 0xff)
        w->bad = 1;
    put_be(w, v, 1);
}

void cka_frame_put_u16(cka_frame_w_t *w, uint32_t v)
{
    if (v > 0xffff)
        w->bad = 1;
    put_be(w, v, 2);
}

void cka_frame_put_u32(cka_frame_w_t *w, uint32_t v) { put_be(w, v, 4); }
void cka_frame_put_u64(cka_frame_w_t *w, uint64_t v) { put_be(w, v, 8); }

void cka_frame_put_field(cka_frame_w_t *w, const void *data, size_t n)
{
    if (n > 0xffffffffu) {
        w->bad = 1;
        return;
    }
    cka_frame_put_u32(w, (uint32_t)n);
    cka_frame_put(w, data, n);
}

void cka_frame_put_head(cka_frame_w_t *w, const char *magic, unsigned tag, long long until)
{
    cka_frame_put(w, magic, CKA_FRAME_MAGIC_LEN);
    cka_frame_put_u8(w, tag);
    cka_frame_put_u64(w, (uint64_t)until);
}

int cka_frame_seal(const cka_frame_w_t *w, const cka_seal_t *s, apr_pool_t *p,
                   cka_seal_kind_t kind, const unsigned char name[CKA_SEAL_NAME_LEN],
                   unsigned char **out, size_t *out_len)
{
    unsigned char *b;
    size_t n;
    if (cka_frame_w_done(w, &b, &n) != 0)
        return -1;
    return cka_seal(s, p, kind, name, b, n, out, out_len);
}

int cka_frame_w_done(const cka_frame_w_t *w, unsigned char **out, size_t *out_len)
{
    if (w->bad || w->len != w->cap)
        return -1;
    *out = w->buf;
    *out_len = w->len;
    return 0;
}

void cka_frame_r_init(cka_frame_r_t *r, const unsigned char *buf, size_t len)
{
    r->at = buf;
    r->end = buf != NULL ? buf + len : NULL;
    r->bad = buf == NULL;
}

const unsigned char *cka_frame_get(cka_frame_r_t *r, size_t n)
{
    if (r->bad || n > (size_t)(r->end - r->at)) {
        r->bad = 1;
        return NULL;
    }
    const unsigned char *b = r->at;
    r->at += n;
    return b;
}

void cka_frame_magic(cka_frame_r_t *r, const char *magic)
{
    const unsigned char *m = cka_frame_get(r, CKA_FRAME_MAGIC_LEN);
    if (m == NULL || memcmp(m, magic, CKA_FRAME_MAGIC_LEN) != 0)
        r->bad = 1;
}

static uint64_t get_be(cka_frame_r_t *r, int bytes)
{
    const unsigned char *b = cka_frame_get(r, (size_t)bytes);
    uint64_t v = 0;
    for (int i = 0; b != NULL && i < bytes; i++)
        v = (v << 8) | b[i];
    return v;
}

unsigned cka_frame_get_u8(cka_frame_r_t *r) { return (unsigned)get_be(r, 1); }
uint32_t cka_frame_get_u16(cka_frame_r_t *r) { return (uint32_t)get_be(r, 2); }
uint32_t cka_frame_get_u32(cka_frame_r_t *r) { return (uint32_t)get_be(r, 4); }
uint64_t cka_frame_get_u64(cka_frame_r_t *r) { return get_be(r, 8); }

long long cka_frame_get_time(cka_frame_r_t *r)
{
    uint64_t t = cka_frame_get_u64(r);
    cka_frame_check(r, t != 0 && t <= (uint64_t)CKA_MAX_NUMERIC_DATE);
    return (long long)t;
}

const char *cka_frame_get_text(cka_frame_r_t *r, size_t n, apr_pool_t *p)
{
    const unsigned char *b = cka_frame_get(r, n);
    cka_frame_check(r, b != NULL && memchr(b, '\0', n) == NULL);
    return r->bad ? NULL : apr_pstrmemdup(p, (const char *)b, n);
}

unsigned cka_frame_get_head(cka_frame_r_t *r, const char *magic, long long *until)
{
    cka_frame_magic(r, magic);
    unsigned tag = cka_frame_get_u8(r);
    *until = cka_frame_get_time(r);
    return tag;
}

int cka_frame_open(cka_frame_r_t *r, const cka_seal_t *s, apr_pool_t *p, cka_seal_kind_t kind,
                   const unsigned char name[CKA_SEAL_NAME_LEN],
                   const unsigned char *buf, size_t len)
{
    unsigned char *pt = NULL;
    size_t n = 0;
    int rv = cka_unseal(s, p, kind, name, buf, len, &pt, &n);
    cka_frame_r_init(r, rv == 0 ? pt : NULL, n);
    return rv == 0 ? 0 : -1;
}

size_t cka_frame_left(const cka_frame_r_t *r)
{
    return r->bad ? 0 : (size_t)(r->end - r->at);
}

void cka_frame_check(cka_frame_r_t *r, int cond)
{
    if (!cond)
        r->bad = 1;
}

int cka_frame_r_ok(const cka_frame_r_t *r)
{
    return r->bad ? -1 : 0;
}

int cka_frame_r_done(const cka_frame_r_t *r)
{
    return r->bad || r->at != r->end ? -1 : 0;
}
