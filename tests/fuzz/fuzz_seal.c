/* fuzz_seal.c - sealed cache records: what a writer to a shared cache
 * (Redis, memcached) can hand the module.
 *
 * The secret is made at start-up, so no input can carry a valid tag. The
 * first input byte picks what the rest is:
 *   mode & 1 == 0  a record as read from the cache under a fixed name:
 *                  cka_record_open must refuse it (one that opens is a
 *                  forgery and aborts), and so must the key-set kind.
 *   mode & 1 == 1  a record's plaintext: sealed here under the name, then
 *                  opened again, it must decode exactly as
 *                  cka_record_decode decodes the plaintext; the sealed
 *                  bytes with one byte changed (position and bits from the
 *                  input), cut, or moved to another name must not open. */
#include <stdlib.h>
#include <string.h>
#include <apr_strings.h>
#include "fuzz_common.h"
#include "seal.h"
#include "record.h"

static const cka_seal_t *seal;
static unsigned char name[CKA_SEAL_NAME_LEN], other[CKA_SEAL_NAME_LEN];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    unsigned char secret[32];
    const char *err = NULL;
    fz_init_begin();
    fz_apr_init();
    if (cka_seal_random_secret(secret, sizeof(secret)) != 0
        || (seal = cka_seal_create(fz_root, secret, sizeof(secret), &err)) == NULL
        || cka_seal_name(seal, CKA_SEAL_TOKEN, "a.b.c", 5, name) != 0
        || cka_seal_name(seal, CKA_SEAL_TOKEN, "letmein", 7, other) != 0)
        FZ_CHECK(0, "seal set-up");
    fz_init_end();
    return 0;
}

static int same_str(const char *a, const char *b)
{
    return (a == NULL) == (b == NULL) && (a == NULL || strcmp(a, b) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t mode = data[0];
    data++;
    size--;
    apr_pool_t *p;
    apr_pool_create(&p, fz_root);
    cka_record_t rec, back;
    unsigned char *pt;
    size_t ptlen;
    if ((mode & 1) == 0) {
        FZ_CHECK(cka_record_open(seal, p, name, data, size, &rec) != 0,
                 "a record from the cache opened without the secret (forgery)");
        FZ_CHECK(cka_unseal(seal, p, CKA_SEAL_KEYSET, name, data, size, &pt, &ptlen) != 0,
                 "a key-set record opened without the secret (forgery)");
    }
    else {
        unsigned char *sealed;
        size_t n;
        int plain_ok = cka_record_decode(data, size, p, &rec, NULL) == 0;
        if (plain_ok && cka_record_seal(seal, p, name, &rec, &sealed, &n) == 0) {
            int opened = cka_record_open(seal, p, name, sealed, n, &back) == 0;
            /* Opening also parses the claims strictly: it may refuse what
             * the framing accepted, never the other way round. */
            if (opened) {
                FZ_CHECK(back.alg == rec.alg && back.until == rec.until
                         && same_str(back.typ, rec.typ) && same_str(back.kid, rec.kid)
                         && memcmp(back.binding, rec.binding, CKA_BIND_LEN) == 0
                         && memcmp(back.thumb, rec.thumb, CKA_THUMB_LEN) == 0
                         && back.payload_len == rec.payload_len
                         && memcmp(back.payload, rec.payload, rec.payload_len) == 0,
                         "a sealed record opened as another record");
            }
            size_t pos = size ? ((size_t)data[0] * 131 + size) % n : 0;
            unsigned char bits = (unsigned char)(mode | 1);
            unsigned char *bent = apr_pmemdup(p, sealed, n);
            bent[pos] ^= bits;
            FZ_CHECK(cka_record_open(seal, p, name, bent, n, &back) != 0,
                     "a sealed record with a changed byte opened");
            FZ_CHECK(cka_record_open(seal, p, name, sealed, n - 1 - (pos % (n - 1)), &back) != 0,
                     "a cut sealed record opened");
            FZ_CHECK(cka_record_open(seal, p, other, sealed, n, &back) != 0,
                     "a sealed record opened under another token's name");
        }
    }
    apr_pool_destroy(p);
    return 0;
}
