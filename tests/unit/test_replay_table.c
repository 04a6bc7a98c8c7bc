/* test_replay_table.c - the DPoP replay table (replay_table.c): add-if-
 * absent, expiry, and "full" refusing rather than evicting. */
#include <stdlib.h>
#include <string.h>
#include "suites.h"
#include "replay_table.h"

static void name_n(unsigned char out[CKA_RT_NAME_LEN], unsigned n)
{
    /* Spread like HMAC outputs: a cheap mixing of n over the 8 start bytes. */
    uint64_t x = (uint64_t)n * 0x9E3779B97F4A7C15ull;
    x ^= x >> 29;
    memset(out, 0, CKA_RT_NAME_LEN);
    for (int i = 0; i < 8; i++)
        out[i] = (unsigned char)(x >> (56 - 8 * i));
    memcpy(out + 8, &n, sizeof(n));
}

static void *table(size_t nslots)
{
    size_t bytes = cka_rt_bytes(nslots);
    void *mem = malloc(bytes);
    ck_assert_ptr_nonnull(mem);
    ck_assert_int_eq(cka_rt_init(mem, bytes), 0);
    ck_assert(cka_rt_valid(mem, bytes));
    return mem;
}

START_TEST(sizes)
{
    ck_assert_uint_eq(cka_rt_slots_for(0), 0);
    ck_assert_uint_eq(cka_rt_slots_for(cka_rt_bytes(CKA_RT_PROBES) - 1), 0);
    ck_assert_uint_eq(cka_rt_slots_for(cka_rt_bytes(CKA_RT_PROBES)), CKA_RT_PROBES);
    ck_assert_uint_eq(cka_rt_slots_for(cka_rt_bytes(1000) + 39), 1000);
    ck_assert_int_eq(cka_rt_init(NULL, 4096), -1);
    char small[64];
    ck_assert_int_eq(cka_rt_init(small, sizeof(small)), -1);
    memset(small, 0, sizeof(small));
    ck_assert(!cka_rt_valid(small, sizeof(small)));
}
END_TEST

START_TEST(added_once_then_seen)
{
    void *t = table(1024);
    unsigned char a[CKA_RT_NAME_LEN], b[CKA_RT_NAME_LEN];
    name_n(a, 1);
    name_n(b, 2);
    ck_assert_int_eq(cka_rt_add(t, a, 100, 200), CKA_RT_ADDED);
    ck_assert_int_eq(cka_rt_add(t, a, 100, 200), CKA_RT_SEEN);
    ck_assert_int_eq(cka_rt_add(t, a, 199, 300), CKA_RT_SEEN);
    ck_assert_int_eq(cka_rt_add(t, b, 100, 200), CKA_RT_ADDED);
    ck_assert_uint_eq(cka_rt_live(t, 150), 2);
    /* expired: the name may be recorded again (its proof is out of window) */
    ck_assert_int_eq(cka_rt_add(t, a, 200, 300), CKA_RT_ADDED);
    ck_assert_int_eq(cka_rt_add(t, a, 250, 300), CKA_RT_SEEN);
    const cka_rt_head_t *h = t;
    ck_assert_uint_eq(h->added, 3);
    ck_assert_uint_eq(h->replays, 3);
    free(t);
}
END_TEST

/* Names that share a start slot still find each other behind an expired
 * record of the sequence. */
START_TEST(collisions_found_behind_expired)
{
    void *t = table(CKA_RT_PROBES);
    unsigned char n[3][CKA_RT_NAME_LEN];
    for (int i = 0; i < 3; i++) {
        memset(n[i], 0, CKA_RT_NAME_LEN);      /* same first 8 bytes: one start */
        n[i][31] = (unsigned char)(i + 1);
    }
    ck_assert_int_eq(cka_rt_add(t, n[0], 10, 20), CKA_RT_ADDED);
    ck_assert_int_eq(cka_rt_add(t, n[1], 10, 100), CKA_RT_ADDED);
    ck_assert_int_eq(cka_rt_add(t, n[2], 10, 100), CKA_RT_ADDED);
    /* n[0] expires: n[1] and n[2] behind it are still seen */
    ck_assert_int_eq(cka_rt_add(t, n[1], 50, 150), CKA_RT_SEEN);
    ck_assert_int_eq(cka_rt_add(t, n[2], 50, 150), CKA_RT_SEEN);
    free(t);
}
END_TEST

/* A full table refuses the new name and keeps every live record. */
START_TEST(full_refuses_never_evicts)
{
    void *t = table(CKA_RT_PROBES);
    unsigned char nm[CKA_RT_NAME_LEN];
    for (unsigned i = 0; i < CKA_RT_PROBES; i++) {
        name_n(nm, i);
        ck_assert_int_eq(cka_rt_add(t, nm, 10, 100), CKA_RT_ADDED);
    }
    name_n(nm, 1000);
    ck_assert_int_eq(cka_rt_add(t, nm, 10, 100), CKA_RT_FULL);
    ck_assert_int_eq(cka_rt_add(t, nm, 99, 150), CKA_RT_FULL);
    for (unsigned i = 0; i < CKA_RT_PROBES; i++) {
        name_n(nm, i);
        ck_assert_int_eq(cka_rt_add(t, nm, 50, 100), CKA_RT_SEEN);
    }
    ck_assert_uint_eq(((const cka_rt_head_t *)t)->full, 2);
    /* once they expire there is room again */
    name_n(nm, 1000);
    ck_assert_int_eq(cka_rt_add(t, nm, 100, 200), CKA_RT_ADDED);
    free(t);
}
END_TEST

/* A flood of distinct names: every name added is seen again while live,
 * whatever was refused as full. */
START_TEST(flood_keeps_every_added_name)
{
    enum { SLOTS = 4096, NAMES = 6000 };
    void *t = table(SLOTS);
    unsigned char nm[CKA_RT_NAME_LEN];
    static signed char got[NAMES];
    size_t added = 0;
    for (unsigned i = 0; i < NAMES; i++) {
        name_n(nm, i);
        got[i] = (signed char)cka_rt_add(t, nm, 10, 1000);
        added += got[i] == CKA_RT_ADDED;
    }
    ck_assert_uint_ge(added, SLOTS * 8 / 10);       /* usable to at least 80 % */
    ck_assert_uint_le(added, SLOTS);
    for (unsigned i = 0; i < NAMES; i++) {
        name_n(nm, i);
        cka_rt_result_t r = cka_rt_add(t, nm, 20, 1000);
        if (got[i] == CKA_RT_ADDED)
            ck_assert_int_eq(r, CKA_RT_SEEN);
        else
            ck_assert_int_ne(r, CKA_RT_ADDED);
    }
    ck_assert_uint_eq(cka_rt_live(t, 20), added);
    free(t);
}
END_TEST

Suite *suite_replay_table(void)
{
    Suite *s = suite_create("replay_table");
    TCase *tc = tcase_create("add");
    tcase_add_test(tc, sizes);
    tcase_add_test(tc, added_once_then_seen);
    tcase_add_test(tc, collisions_found_behind_expired);
    tcase_add_test(tc, full_refuses_never_evicts);
    tcase_add_test(tc, flood_keeps_every_added_name);
    suite_add_tcase(s, tc);
    return s;
}
