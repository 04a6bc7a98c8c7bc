/* frame.h - the one framing of the core's records (token records, key-set
 * records, client-credentials and introspection records, keyed names):
 * big-endian integers, a 4-byte magic that carries the version, fields
 * with a 4-byte length in front, every read and write bounds-checked. A
 * reader or writer that went out of bounds once stays "bad": the caller
 * checks once, at the end. Part of the core: no httpd header, no I/O. */
#ifndef CKA_FRAME_H
#define CKA_FRAME_H
#include <stddef.h>
#include <stdint.h>
#include <apr_pools.h>

#define CKA_FRAME_MAGIC_LEN 4

typedef struct {
    unsigned char *buf;
    size_t         cap, len;
    int            bad;          /* a write did not fit                    */
} cka_frame_w_t;

typedef struct {
    const unsigned char *at, *end;
    int                  bad;    /* a read went past the end, or a check failed */
} cka_frame_r_t;

/* ---- writing: into cap bytes from p (or into buf) ---------------------- */
void cka_frame_w_init(cka_frame_w_t *w, apr_pool_t *p, size_t cap);
void cka_frame_w_over(cka_frame_w_t *w, unsigned char *buf, size_t cap);
void cka_frame_put(cka_frame_w_t *w, const void *data, size_t n);
void cka_frame_put_u8(cka_frame_w_t *w, unsigned v);
void cka_frame_put_u16(cka_frame_w_t *w, uint32_t v);
void cka_frame_put_u32(cka_frame_w_t *w, uint32_t v);
void cka_frame_put_u64(cka_frame_w_t *w, uint64_t v);
/* A field: its length (4 bytes) then its bytes (data may be NULL when n 0). */
void cka_frame_put_field(cka_frame_w_t *w, const void *data, size_t n);
/* Every byte written, none past the end: 0 with *out, *out_len; else -1. */
int cka_frame_w_done(const cka_frame_w_t *w, unsigned char **out, size_t *out_len);

/* ---- reading --------------------------------------------------------------*/
void cka_frame_r_init(cka_frame_r_t *r, const unsigned char *buf, size_t len);
/* Is the next thing magic (CKA_FRAME_MAGIC_LEN bytes)? Marks bad if not. */
void cka_frame_magic(cka_frame_r_t *r, const char *magic);
const unsigned char *cka_frame_get(cka_frame_r_t *r, size_t n);   /* NULL when bad */
unsigned cka_frame_get_u8(cka_frame_r_t *r);
uint32_t cka_frame_get_u16(cka_frame_r_t *r);
uint32_t cka_frame_get_u32(cka_frame_r_t *r);
uint64_t cka_frame_get_u64(cka_frame_r_t *r);
/* A Unix time that a record may carry: 1 to CKA_MAX_NUMERIC_DATE. */
long long cka_frame_get_time(cka_frame_r_t *r);
/* n bytes of text: no NUL among them; a NUL-terminated copy from p (NULL
 * when bad). */
const char *cka_frame_get_text(cka_frame_r_t *r, size_t n, apr_pool_t *p);
/* Bytes not read yet. */
size_t cka_frame_left(const cka_frame_r_t *r);
/* Mark the reader bad when cond is false (a field check of the caller's). */
void cka_frame_check(cka_frame_r_t *r, int cond);
/* 0 when nothing went wrong and every byte was read; else -1. */
int cka_frame_r_done(const cka_frame_r_t *r);
/* 0 when nothing went wrong (bytes may be left); else -1. */
int cka_frame_r_ok(const cka_frame_r_t *r);

#endif
