/* test_keyrec.c - framing of a fetched key set for the shared cache: what
 * one host writes another reads back exactly; anything else is refused. */
#include <string.h>
#include <apr_strings.h>
#include "suites.h"
#include "keyrec.h"
#include "frame.h"

#define MAXDOC 4096
static const char DOC[] = "{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"a\",\"y\":\"b\"}]}";
static const char URI[] = "https://idp.example.test/realms/a/protocol/openid-connect/certs";

static cka_keyrec_t sample(void)
{
    cka_keyrec_t r = { .fetched_at = 1795000000000000LL, .fresh_until = 1795000300000000LL,
                       .jwks_uri = URI, .doc = DOC, .doc_len = sizeof(DOC) - 1 };
    return r;
}

static unsigned char *encoded(size_t *n)
{
    cka_keyrec_t r = sample();
    unsigned char *b = NULL;
    ck_assert_int_eq(cka_keyrec_encode(tu_pool, &r, MAXDOC, &b, n, NULL), CKA_OK);
    return b;
}

START_TEST(round_trip)
{
    size_t n;
    unsigned char *b = encoded(&n);
    ck_assert_uint_eq(n, 4 + 8 + 8 + 2 + strlen(URI) + 4 + strlen(DOC));
    ck_assert_mem_eq(b, "CKK1", 4);
    cka_keyrec_t out;
    ck_assert_int_eq(cka_keyrec_decode(b, n, MAXDOC, tu_pool, &out, NULL), CKA_OK);
    ck_assert(out.fetched_at == 1795000000000000LL);
    ck_assert(out.fresh_until == 1795000300000000LL);
    ck_assert_str_eq(out.jwks_uri, URI);
    ck_assert_uint_eq(out.doc_len, strlen(DOC));
    ck_assert_mem_eq(out.doc, DOC, out.doc_len);
}
END_TEST

START_TEST(every_truncation_and_extension_is_refused)
{
    size_t n;
    unsigned char *b = encoded(&n);
    cka_keyrec_t out;
    for (size_t len = 0; len < n; len++)
        ck_assert_msg(cka_keyrec_decode(b, len, MAXDOC, tu_pool, &out, NULL) == CKA_RECORD_INVALID,
                      "accepted the first %zu of %zu bytes", len, n);
    unsigned char *longer = apr_palloc(tu_pool, n + 1);
    memcpy(longer, b, n);
    longer[n] = '}';
    ck_assert_int_eq(cka_keyrec_decode(longer, n + 1, MAXDOC, tu_pool, &out, NULL), CKA_RECORD_INVALID);
}
END_TEST

/* One byte changed at a framing position: magic, a time's sign byte, the
 * URI length, a NUL in the URI, the document length. */
START_TEST(framing_corruption_is_refused)
{
    size_t n;
    unsigned char *b = encoded(&n);
    const size_t ul = strlen(URI);
    const size_t at[] = { 0, 3, 4, 12, 20, 21, 22 + 5, 22 + ul, 22 + ul + 3 };
    const unsigned char val[] = { 'X', '2', 0x80, 0x80, 0x01, 0xff, 0x00, 0x01, 0x00 };
    for (int i = 0; i < TU_NELTS(at); i++) {
        unsigned char *c = apr_pmemdup(tu_pool, b, n);
        c[at[i]] = val[i];
        cka_keyrec_t out;
        ck_assert_msg(cka_keyrec_decode(c, n, MAXDOC, tu_pool, &out, NULL) == CKA_RECORD_INVALID,
                      "accepted byte %zu set to 0x%02x", at[i], val[i]);
    }
}
END_TEST

START_TEST(limits_on_encode_and_decode)
{
    cka_keyrec_t r = sample();
    unsigned char *b;
    size_t n;
    /* A document over the limit is neither written nor read. */
    ck_assert_int_eq(cka_keyrec_encode(tu_pool, &r, r.doc_len - 1, &b, &n, NULL), CKA_RECORD_TOO_LARGE);
    ck_assert_int_eq(cka_keyrec_encode(tu_pool, &r, r.doc_len, &b, &n, NULL), CKA_OK);
    cka_keyrec_t out;
    ck_assert_int_eq(cka_keyrec_decode(b, n, r.doc_len - 1, tu_pool, &out, NULL), CKA_RECORD_INVALID);
    /* Empty document, times not set, a URI over 2047 bytes. */
    r = sample();
    r.doc_len = 0;
    ck_assert_int_eq(cka_keyrec_encode(tu_pool, &r, MAXDOC, &b, &n, NULL), CKA_RECORD_TOO_LARGE);
    r = sample();
    r.fetched_at = 0;
    ck_assert_int_eq(cka_keyrec_encode(tu_pool, &r, MAXDOC, &b, &n, NULL), CKA_RECORD_TOO_LARGE);
    r = sample();
    r.fresh_until = -5;
    ck_assert_int_eq(cka_keyrec_encode(tu_pool, &r, MAXDOC, &b, &n, NULL), CKA_RECORD_TOO_LARGE);
    r = sample();
    char *uri = apr_palloc(tu_pool, CKA_KEYREC_URI_MAX + 2);
    memset(uri, 'a', CKA_KEYREC_URI_MAX + 1);
    uri[CKA_KEYREC_URI_MAX + 1] = '\0';
    r.jwks_uri = uri;
    ck_assert_int_eq(cka_keyrec_encode(tu_pool, &r, MAXDOC, &b, &n, NULL), CKA_RECORD_TOO_LARGE);
    uri[CKA_KEYREC_URI_MAX] = '\0';
    ck_assert_int_eq(cka_keyrec_encode(tu_pool, &r, MAXDOC, &b, &n, NULL), CKA_OK);
    ck_assert_int_eq(cka_keyrec_decode(b, n, MAXDOC, tu_pool, &out, NULL), CKA_OK);
    ck_assert_uint_eq(strlen(out.jwks_uri), CKA_KEYREC_URI_MAX);
}
END_TEST

/* Binding ids: one line per configuration; each differs from the first
 * in one field, or moves the boundary where two fields meet; the last is
 * the first again (NULL CA file = ""). */
START_TEST(binding_ids_differ_in_every_field)
{
    static const struct { const char *iss, *kind, *src, *ca; int same; } t[] = {
        { "https://idp/a",  "jwks",      "https://idp/a/jwks", "",             1 },
        { "https://idp/b",  "jwks",      "https://idp/a/jwks", "",             0 },
        { "https://idp/a",  "discovery", "https://idp/a/jwks", "",             0 },
        { "https://idp/a",  "jwks",      "https://idp/b/jwks", "",             0 },
        { "https://idp/a",  "jwks",      "https://idp/a/jwks", "/etc/ca.pem",  0 },
        { "https://idp/ah", "jwks",      "ttps://idp/a/jwks",  "",             0 },
        { "https://idp/a",  "jwksh",     "ttps://idp/a/jwks",  "",             0 },
        { "https://idp/a",  "jwks",      "https://idp/a/jwks/", "etc/ca.pem",  0 },
        { "https://idp/a",  "jwks",      "https://idp/a/jwks", NULL,           1 },
    };
    unsigned char id[TU_NELTS(t)][CKA_BINDING_ID_LEN];
    for (int i = 0; i < TU_NELTS(t); i++)
        ck_assert_int_eq(cka_binding_id(t[i].iss, t[i].kind, t[i].src, t[i].ca, id[i]), 0);
    /* Every pair differs, but for the lines marked the same as the first. */
    for (int i = 0; i < TU_NELTS(t); i++)
        for (int j = i + 1; j < TU_NELTS(t); j++) {
            int same = (i == 0 || t[i].same) && t[j].same;
            ck_assert_msg((memcmp(id[i], id[j], CKA_BINDING_ID_LEN) == 0) == same,
                          "lines %d and %d: ids %s", i, j, same ? "differ" : "are equal");
        }
    /* NULL and "" are the same source (discovery has none). */
    unsigned char a[CKA_BINDING_ID_LEN], b[CKA_BINDING_ID_LEN];
    ck_assert_int_eq(cka_binding_id("https://idp/a", "discovery", NULL, NULL, a), 0);
    ck_assert_int_eq(cka_binding_id("https://idp/a", "discovery", "", "", b), 0);
    ck_assert_mem_eq(a, b, sizeof(a));
    /* A long issuer is hashed whole. */
    char *big1 = apr_palloc(tu_pool, 9001), *big2 = apr_palloc(tu_pool, 9001);
    memset(big1, 'i', 9000);
    big1[9000] = '\0';
    memcpy(big2, big1, 9001);
    big2[8999] = 'j';
    ck_assert_int_eq(cka_binding_id(big1, "discovery", "", "", a), 0);
    ck_assert_int_eq(cka_binding_id(big2, "discovery", "", "", b), 0);
    ck_assert(memcmp(a, b, sizeof(a)) != 0);
}
END_TEST

START_TEST(keyrec_key_is_K_and_the_binding_id)
{
    unsigned char id[CKA_BINDING_ID_LEN], key[CKA_KEYREC_KEY_LEN];
    ck_assert_int_eq(cka_binding_id("https://idp/a", "jwks", "https://idp/a/jwks", "", id), 0);
    cka_keyrec_key(id, key);
    ck_assert_int_eq(key[0], 'K');
    ck_assert_mem_eq(key + 1, id, sizeof(id));
}
END_TEST

/* frame.c, the framing under every record: what is written reads back; a
 * write past the end, a read past the end or a byte left over is refused,
 * and once bad, a reader or writer stays bad. */
START_TEST(frame_round_trip_and_bounds)
{
    cka_frame_w_t w;
    unsigned char *b;
    size_t n;
    cka_frame_w_init(&w, tu_pool, 4 + 1 + 2 + 4 + 8 + 4 + 3);
    cka_frame_put(&w, "CKT1", CKA_FRAME_MAGIC_LEN);
    cka_frame_put_u8(&w, 0xab);
    cka_frame_put_u16(&w, 0x1234);
    cka_frame_put_u32(&w, 0xdeadbeefu);
    cka_frame_put_u64(&w, 1700000000ULL);
    cka_frame_put_field(&w, "abc", 3);
    ck_assert_int_eq(cka_frame_w_done(&w, &b, &n), 0);
    ck_assert_uint_eq(n, 26);
    ck_assert_int_eq(b[5], 0x12);                       /* big-endian */

    cka_frame_r_t r;
    cka_frame_r_init(&r, b, n);
    cka_frame_magic(&r, "CKT1");
    ck_assert_uint_eq(cka_frame_get_u8(&r), 0xab);
    ck_assert_uint_eq(cka_frame_get_u16(&r), 0x1234);
    ck_assert_uint_eq(cka_frame_get_u32(&r), 0xdeadbeefu);
    ck_assert_int_eq(cka_frame_get_time(&r), 1700000000LL);
    ck_assert_uint_eq(cka_frame_get_u32(&r), 3);
    ck_assert_str_eq(cka_frame_get_text(&r, 3, tu_pool), "abc");
    ck_assert_int_eq(cka_frame_r_done(&r), 0);

    /* one byte short, one left over, another magic, a NUL in text */
    cka_frame_r_init(&r, b, n - 1);
    cka_frame_get(&r, n);
    ck_assert_int_eq(cka_frame_r_ok(&r), -1);
    ck_assert_ptr_null(cka_frame_get(&r, 0));           /* bad stays bad */
    cka_frame_r_init(&r, b, n);
    cka_frame_get(&r, n - 1);
    ck_assert_int_eq(cka_frame_r_done(&r), -1);
    cka_frame_r_init(&r, b, n);
    cka_frame_magic(&r, "CKT2");
    ck_assert_int_eq(cka_frame_r_ok(&r), -1);
    static const unsigned char nul[] = { 'a', 0, 'b' };
    cka_frame_r_init(&r, nul, sizeof(nul));
    ck_assert_ptr_null(cka_frame_get_text(&r, 3, tu_pool));
    /* a time of 0 is no time */
    static const unsigned char zero[8] = { 0 };
    cka_frame_r_init(&r, zero, sizeof(zero));
    cka_frame_get_time(&r);
    ck_assert_int_eq(cka_frame_r_ok(&r), -1);

    /* writes past the end, a u8 or u16 that does not fit, a short frame */
    cka_frame_w_init(&w, tu_pool, 2);
    cka_frame_put_u32(&w, 1);
    ck_assert_int_eq(cka_frame_w_done(&w, &b, &n), -1);
    cka_frame_w_init(&w, tu_pool, 1);
    cka_frame_put_u8(&w, 256);
    ck_assert_int_eq(cka_frame_w_done(&w, &b, &n), -1);
    cka_frame_w_init(&w, tu_pool, 2);
    cka_frame_put_u16(&w, 0x10000);
    ck_assert_int_eq(cka_frame_w_done(&w, &b, &n), -1);
    cka_frame_w_init(&w, tu_pool, 2);
    cka_frame_put_u8(&w, 1);
    ck_assert_int_eq(cka_frame_w_done(&w, &b, &n), -1);
}
END_TEST

Suite *suite_keyrec(void)
{
    Suite *s = suite_create("keyrec");
    TCase *t = tcase_create("framing");
    tcase_add_checked_fixture(t, tu_pool_setup, tu_pool_teardown);
    tcase_add_test(t, round_trip);
    tcase_add_test(t, every_truncation_and_extension_is_refused);
    tcase_add_test(t, framing_corruption_is_refused);
    tcase_add_test(t, limits_on_encode_and_decode);
    tcase_add_test(t, binding_ids_differ_in_every_field);
    tcase_add_test(t, keyrec_key_is_K_and_the_binding_id);
    tcase_add_test(t, frame_round_trip_and_bounds);
    suite_add_tcase(s, t);
    return s;
}
