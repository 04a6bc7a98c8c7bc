/* test_b64url.c - strict, canonical base64url. */
#include <string.h>
#include <apr_strings.h>
#include "suites.h"
#include "mint.h"
#include "b64url.h"

/* RFC 4648 §10 vectors, in the url alphabet, without padding. */
static const struct { const char *plain; const char *enc; } vec[] = {
    { "",       ""         },
    { "f",      "Zg"       },
    { "fo",     "Zm8"      },
    { "foo",    "Zm9v"     },
    { "foob",   "Zm9vYg"   },
    { "fooba",  "Zm9vYmE"  },
    { "foobar", "Zm9vYmFy" },
    { "\xfb\xff", "-_8"    },   /* both url-alphabet characters       */
    { "\xff\xfe\xfd", "__79" },
};

START_TEST(encode_vectors)
{
    char *e = cka_b64url_encode(tu_pool, (const unsigned char *)vec[_i].plain,
                                strlen(vec[_i].plain));
    ck_assert_ptr_nonnull(e);
    ck_assert_str_eq(e, vec[_i].enc);
}
END_TEST

START_TEST(decode_vectors)
{
    unsigned char *out = NULL;
    size_t n = 99;
    ck_assert_int_eq(cka_b64url_decode(tu_pool, vec[_i].enc, strlen(vec[_i].enc),
                                       &out, &n), 0);
    ck_assert_ptr_nonnull(out);
    ck_assert_uint_eq(n, strlen(vec[_i].plain));
    ck_assert_mem_eq(out, vec[_i].plain, n);
    ck_assert_int_eq(out[n], 0);    /* NUL-terminated for convenience */
}
END_TEST

/* Every one of these must be refused. */
static const struct { const char *in; size_t len; const char *why; } bad[] = {
    { "Zg==",     4, "padding"                         },
    { "Zm8=",     4, "padding"                         },
    { "Zg=",      3, "partial padding"                 },
    { "=",        1, "padding alone"                   },
    { "Zh",       2, "non-zero trailing bits (1 byte)" },
    { "Zm9",      3, "non-zero trailing bits (2 bytes)"},
    { "Zm_",      3, "non-zero trailing bits, url char"},
    { "Z",        1, "length 1 mod 4"                  },
    { "Zm9vY",    5, "length 1 mod 4"                  },
    { "Zm+v",     4, "standard alphabet '+'"           },
    { "Zm/v",     4, "standard alphabet '/'"           },
    { " Zm9v",    5, "leading space"                   },
    { "Zm9v ",    5, "trailing space"                  },
    { "Zm9v\n",   5, "trailing newline"                },
    { "Zm\r\n9v", 6, "CRLF inside"                     },
    { "Zm\t9v",   5, "tab inside"                      },
    { "Zm\0v",    4, "NUL inside"                      },
    { "Zm9v.",    5, "dot"                             },
    { "Zm9\xc3\xa9", 5, "non-ASCII"                    },
    { "%3D",      3, "percent-encoded"                 },
};

START_TEST(decode_rejects)
{
    unsigned char *out = NULL;
    size_t n = 0;
    ck_assert_msg(cka_b64url_decode(tu_pool, bad[_i].in, bad[_i].len, &out, &n) != 0,
                  "accepted %s (row %d)", bad[_i].why, _i);
}
END_TEST

/* Only len bytes are read, never up to a NUL. */
START_TEST(decode_honours_len)
{
    unsigned char *out = NULL;
    size_t n = 0;
    ck_assert_int_eq(cka_b64url_decode(tu_pool, "Zm9v!!!!", 4, &out, &n), 0);
    ck_assert_uint_eq(n, 3);
    ck_assert_mem_eq(out, "foo", 3);
    ck_assert_int_eq(cka_b64url_decode(tu_pool, "Zm9vYmFy", 0, &out, &n), 0);
    ck_assert_uint_eq(n, 0);
}
END_TEST

/* Every byte value through encode and decode, at every offset mod 3. */
START_TEST(roundtrip_all_bytes)
{
    unsigned char buf[258];
    int i, shift;
    for (i = 0; i < 258; i++)
        buf[i] = (unsigned char)(i & 0xff);
    for (shift = 0; shift < 3; shift++) {
        size_t len = sizeof(buf) - (size_t)shift, n = 0;
        unsigned char *out = NULL;
        char *e = cka_b64url_encode(tu_pool, buf + shift, len);
        ck_assert_str_eq(e, mint_b64url(tu_pool, buf + shift, len));
        ck_assert_int_eq(cka_b64url_decode(tu_pool, e, strlen(e), &out, &n), 0);
        ck_assert_uint_eq(n, len);
        ck_assert_mem_eq(out, buf + shift, len);
    }
}
END_TEST

/* Canonical: among all 2- and 3-character strings of the alphabet, exactly
 * the encodings of 1- and 2-byte strings are accepted (256 and 65536 of
 * them), and each decodes back to the same text. */
START_TEST(canonical_exhaustive)
{
    static const char abc[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    int a, b, c, ok2 = 0, ok3 = 0;
    char s[4] = { 0, 0, 0, 0 };
    apr_pool_t *sub;
    for (a = 0; a < 64; a++)
        for (b = 0; b < 64; b++) {
            unsigned char *out;
            size_t n;
            s[0] = abc[a]; s[1] = abc[b]; s[2] = 0;
            if (cka_b64url_decode(tu_pool, s, 2, &out, &n) == 0) {
                ok2++;
                ck_assert_uint_eq(n, 1);
                ck_assert_int_eq(b & 15, 0);
            }
        }
    ck_assert_int_eq(ok2, 256);
    apr_pool_create(&sub, tu_pool);
    for (a = 0; a < 64; a++) {
        for (b = 0; b < 64; b++)
            for (c = 0; c < 64; c++) {
                unsigned char *out;
                size_t n;
                s[0] = abc[a]; s[1] = abc[b]; s[2] = abc[c];
                if (cka_b64url_decode(sub, s, 3, &out, &n) == 0) {
                    ok3++;
                    ck_assert_uint_eq(n, 2);
                    ck_assert_int_eq(c & 3, 0);
                }
            }
        apr_pool_clear(sub);
    }
    ck_assert_int_eq(ok3, 65536);
}
END_TEST

/* Standard base64 (HTTP Basic): padded, the standard alphabet only, zero
 * trailing bits; what APR alone would take besides is refused. */
static const struct { const char *in; const char *out; } std_rows[] = {
    { "QQ==", "A" }, { "QUI=", "AB" }, { "QUJD", "ABC" }, { "Y2k6cw==", "ci:s" },
    { "+/+/", "\xfb\xff\xbf" },
    { "QQ", NULL },    { "QR==", NULL }, { "QUJ=", NULL }, { "Q===", NULL },
    { "QQ=A", NULL },  { "-_-_", NULL }, { "QU I", NULL }, { "", NULL }, { "QUJDQ", NULL },
};

START_TEST(standard_base64)
{
    unsigned char *out = NULL;
    size_t n = 0;
    const char *in = std_rows[_i].in;
    int rv = cka_b64_decode(tu_pool, in, strlen(in), &out, &n);
    if (std_rows[_i].out == NULL) {
        ck_assert_msg(rv != 0, "accepted %s", in);
        return;
    }
    ck_assert_int_eq(rv, 0);
    ck_assert_uint_eq(n, strlen(std_rows[_i].out));
    ck_assert_mem_eq(out, std_rows[_i].out, n);
    ck_assert_str_eq(cka_b64_encode(tu_pool, out, n), in);
}
END_TEST

Suite *suite_b64url(void)
{
    Suite *s = suite_create("b64url");
    TCase *tc = tcase_create("b64url");
    tcase_add_checked_fixture(tc, tu_pool_setup, tu_pool_teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_loop_test(tc, encode_vectors, 0, TU_NELTS(vec));
    tcase_add_loop_test(tc, decode_vectors, 0, TU_NELTS(vec));
    tcase_add_loop_test(tc, decode_rejects, 0, TU_NELTS(bad));
    tcase_add_test(tc, decode_honours_len);
    tcase_add_test(tc, roundtrip_all_bytes);
    tcase_add_test(tc, canonical_exhaustive);
    tcase_add_loop_test(tc, standard_base64, 0, TU_NELTS(std_rows));
    suite_add_tcase(s, tc);
    return s;
}
