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
#include "seal.h"

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

/* The head every cache record starts with: the magic, a one-byte tag (an
 * algorithm, a kind, a state) and until (a Unix time, 8 bytes). */
#define CKA_FRAME_HEAD_LEN (CKA_FRAME_MAGIC_LEN + 1 + 8)
void cka_frame_put_head(cka_frame_w_t *w, const char *magic, unsigned tag, long long until);

/* Seal what w framed (every byte written, none past the end) for kind
 * under name (seal.h). 0 with *out, or -1. */
int cka_frame_seal(const cka_frame_w_t *w, const cka_seal_t *s, apr_pool_t *p,
                   cka_seal_kind_t kind, const unsigned char name[CKA_SEAL_NAME_LEN],
                   unsigned char **out, size_t *out_len);

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
/* The head (see cka_frame_put_head): the magic checked, the tag returned,
 * *until a time cka_frame_get_time accepts. */
unsigned cka_frame_get_head(cka_frame_r_t *r, const char *magic, long long *until);

/* Open a record read from under name (seal.h) into r: 0, or -1 when it
 * does not open (r is then bad). The plaintext lives in p, NUL-terminated
 * one byte past its end. */
int cka_frame_open(cka_frame_r_t *r, const cka_seal_t *s, apr_pool_t *p, cka_seal_kind_t kind,
                   const unsigned char name[CKA_SEAL_NAME_LEN],
                   const unsigned char *buf, size_t len);

/* Bytes not read yet. */
size_t cka_frame_left(const cka_frame_r_t *r);
/* Mark the reader bad when cond is false (a field check of the caller's). */
void cka_frame_check(cka_frame_r_t *r, int cond);
/* 0 when nothing went wrong and every byte was read; else -1. */
int cka_frame_r_done(const cka_frame_r_t *r);
/* 0 when nothing went wrong (bytes may be left); else -1. */
int cka_frame_r_ok(const cka_frame_r_t *r);

#endif
