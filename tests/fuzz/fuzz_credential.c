/* fuzz_credential.c - sorting a credential into a kind (cka_cred_classify).
 *
 * Input: the credential bytes (what follows "Bearer ").
 *
 * Invariants: the answer is one of OK / token_too_large / bad_request /
 * malformed_token, with a kind exactly when OK; OK only for 1..16 KiB of
 * visible ASCII without commas; anything longer is token_too_large; and no
 * JWT of a trusted issuer is ever sorted as opaque: when any part between
 * dots decodes (checked here with OpenSSL's base64 and jansson, not the
 * code under test) to an object within the depth limit whose iss is
 * trusted, the kind is jwt.
 * Sorting twice gives the same answer. */
#include <string.h>
#include <openssl/evp.h>
#include <jansson.h>
#include "fuzz_common.h"
#include "credential.h"
#include "cka_limits.h"

#define TRUSTED "https://idp.test/realms/conduktor"

static int trusted(void *ctx, const char *iss)
{
    (void)ctx;
    return strcmp(iss, TRUSTED) == 0;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fz_apr_init();
    return 0;
}

/* base64url (no padding) of s[0..n) through OpenSSL; -1 when not. */
static int decode_url(const char *s, size_t n, unsigned char *out, size_t cap)
{
    if (n == 0 || n % 4 == 1 || n + 4 > cap)
        return -1;
    char buf[CKA_MAX_TOKEN_LEN + 8];
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '-') c = '+';
        else if (c == '_') c = '/';
        else if (c == '+' || c == '/' || c == '=') return -1;
        buf[i] = c;
    }
    size_t m = n;
    while (m % 4)
        buf[m++] = '=';
    int len = EVP_DecodeBlock(out, (const unsigned char *)buf, (int)m);
    if (len < 0)
        return -1;
    return len - (int)(m - n);
}

/* Nesting depth ({} or [] is 1), counted here, not by the code under test. */
static int depth(json_t *v)
{
    int d = 0;
    if (json_is_object(v)) {
        const char *k;
        json_t *m;
        json_object_foreach(v, k, m) {
            int e = depth(m);
            d = e > d ? e : d;
        }
        return d + 1;
    }
    if (json_is_array(v)) {
        size_t i;
        json_t *m;
        json_array_foreach(v, i, m) {
            int e = depth(m);
            d = e > d ? e : d;
        }
        return d + 1;
    }
    return 0;
}

/* Does any part of the credential (between dots) decode to an object
 * whose iss is trusted? */
static int is_trusted_jwt(const char *d, size_t n)
{
    static unsigned char out[CKA_MAX_TOKEN_LEN + 8];
    const char *seg = d, *end = d + n;
    for (;;) {
        const char *dot = memchr(seg, '.', (size_t)(end - seg));
        size_t len = dot ? (size_t)(dot - seg) : (size_t)(end - seg);
        int m = decode_url(seg, len, out, sizeof(out));
        if (m > 0) {
            json_t *o = json_loadb((const char *)out, (size_t)m, JSON_REJECT_DUPLICATES, NULL);
            json_t *iss = json_object_get(o, "iss");
            int yes = depth(o) <= CKA_MAX_JSON_DEPTH && json_is_string(iss) && strcmp(json_string_value(iss), TRUSTED) == 0
                && json_string_length(iss) == strlen(TRUSTED);
            json_decref(o);
            if (yes)
                return 1;
        }
        if (dot == NULL)
            return 0;
        seg = dot + 1;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p;
    apr_pool_create(&p, fz_root);
    const char *d = (const char *)data;
    cka_cred_kind_t kind = (cka_cred_kind_t)77, again = (cka_cred_kind_t)77;
    cka_reason_t why = cka_cred_classify(p, d, size, trusted, NULL, &kind);
    FZ_CHECK(why == cka_cred_classify(p, d, size, trusted, NULL, &again) && kind == again,
             "sorting twice gave another answer");
    FZ_CHECK(why == CKA_OK || why == CKA_TOKEN_TOO_LARGE || why == CKA_BAD_REQUEST
             || why == CKA_MALFORMED, "unexpected reason");
    FZ_CHECK((why == CKA_OK) == (kind == CKA_CRED_JWT || kind == CKA_CRED_OPAQUE),
             "a kind without OK, or OK without a kind");
    FZ_CHECK(why == CKA_OK || kind == CKA_CRED_NONE, "a refusal with a kind");
    if (size > CKA_MAX_TOKEN_LEN)
        FZ_CHECK(why == CKA_TOKEN_TOO_LARGE, "an oversized credential was not refused as such");
    if (why == CKA_OK) {
        FZ_CHECK(size > 0 && size <= CKA_MAX_TOKEN_LEN, "OK outside 1..16 KiB");
        for (size_t i = 0; i < size; i++)
            FZ_CHECK(data[i] >= 0x21 && data[i] <= 0x7e && data[i] != ',',
                     "OK for a byte outside visible ASCII, or a comma");
        if (kind == CKA_CRED_OPAQUE && size <= CKA_MAX_TOKEN_LEN)
            FZ_CHECK(!is_trusted_jwt(d, size), "a JWT of a trusted issuer sorted as opaque");
    }
    apr_pool_destroy(p);
    return 0;
}
