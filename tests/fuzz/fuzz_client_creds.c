/* fuzz_client_creds.c - what a client and a token endpoint send for
 * ConduktorAuthClientCredentials (client_creds.c).
 *
 * The first byte picks the mode:
 *   0  the rest is the value after "Basic " -> cka_cc_basic_decode
 *   1  the 2nd byte picks the HTTP status (200, 400, 401, 500, 302), the
 *      rest is the token endpoint's answer -> cka_cc_parse_answer
 *   2  the rest is an access token -> cka_cc_token_exp
 *   3  the rest is bytes read from the shared cache under a pair's name
 *      -> cka_cc_record_open (the secret is made at start-up: nothing opens)
 *
 * Invariants: an accepted pair has a non-empty id, no control byte in
 * either part, parts within CKA_CC_MAX_PART, and survives the round trip
 * through the header sent to the IdP; an answer is a token only on a 200
 * whose JSON (read again here with jansson) has that very access_token, a
 * token_type of "bearer" in any case and no or a positive expires_in, and
 * a refusal only on a 400/401 naming one of the five client errors; a
 * token's exp is -1 or within NumericDate range; no shared-cache input
 * opens. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <jansson.h>
#include <openssl/rand.h>
#include "fuzz_common.h"
#include "client_creds.h"
#include "cka_limits.h"

static cka_seal_t *seal;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fz_init_begin();
    fz_apr_init();
    unsigned char secret[32];
    const char *err = NULL;
    FZ_CHECK(RAND_bytes(secret, sizeof(secret)) == 1, "RAND_bytes");
    seal = cka_seal_create(fz_root, secret, sizeof(secret), &err);
    FZ_CHECK(seal != NULL, "seal");
    fz_init_end();
    return 0;
}

static int clean(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return 0;
    return 1;
}

static void basic(apr_pool_t *p, const uint8_t *d, size_t n)
{
    cka_cc_pair_t a, b;
    const char *why = NULL;
    if (cka_cc_basic_decode(p, (const char *)d, n, &a, &why) != 0) {
        FZ_CHECK(why != NULL && *why, "refused without a reason");
        return;
    }
    FZ_CHECK(a.id_len > 0 && a.id_len <= CKA_CC_MAX_PART && a.secret_len <= CKA_CC_MAX_PART,
             "accepted an empty or overlong part");
    FZ_CHECK(strlen(a.id) == a.id_len && strlen(a.secret) == a.secret_len,
             "a NUL inside an accepted part");
    FZ_CHECK(clean(a.id, a.id_len) && clean(a.secret, a.secret_len),
             "accepted a control character");
    const char *h = cka_cc_basic_header(p, &a);
    FZ_CHECK(strncmp(h, "Basic ", 6) == 0, "header without the scheme");
    FZ_CHECK(cka_cc_basic_decode(p, h + 6, strlen(h + 6), &b, &why) == 0,
             "the header sent to the IdP does not decode");
    FZ_CHECK(strcmp(a.id, b.id) == 0 && strcmp(a.secret, b.secret) == 0,
             "the pair sent to the IdP is not the pair received");
}

static void answer(apr_pool_t *p, const uint8_t *d, size_t n)
{
    static const long statuses[] = { 200, 400, 401, 500, 302 };
    if (n == 0)
        return;
    long status = statuses[d[0] % 5];
    d++;
    n--;
    char *body = malloc(n ? n : 1);      /* exactly n bytes: ASan sees overreads */
    memcpy(body, d, n);
    cka_cc_answer_t a;
    cka_cc_outcome_t o = cka_cc_parse_answer(p, status, body, n, &a);
    json_t *j = json_loadb(body, n, JSON_REJECT_DUPLICATES, NULL);
    if (o == CKA_CC_TOKEN) {
        FZ_CHECK(status == 200, "a token from a status other than 200");
        FZ_CHECK(cka_cc_token_ok(a.token, a.token_len), "a token of the wrong shape");
        FZ_CHECK(json_is_object(j), "a token from something that is not a JSON object");
        json_t *at = json_object_get(j, "access_token"), *tt = json_object_get(j, "token_type");
        FZ_CHECK(json_is_string(at) && json_string_length(at) == a.token_len
                 && memcmp(json_string_value(at), a.token, a.token_len) == 0,
                 "a token that is not the answer's access_token");
        FZ_CHECK(json_is_string(tt) && strcasecmp(json_string_value(tt), "bearer") == 0,
                 "a token whose token_type is not Bearer");
        FZ_CHECK(json_object_get(j, "error") == NULL, "a token from an error answer");
        FZ_CHECK(a.expires_in == -1 || a.expires_in > 0, "expires_in not positive");
    }
    else if (o == CKA_CC_REFUSED) {
        FZ_CHECK(status == 400 || status == 401, "a refusal from a status other than 400/401");
        static const char *const ok[] = { "invalid_client", "unauthorized_client",
                                          "invalid_grant", "invalid_scope", "access_denied" };
        int known = 0;
        for (int i = 0; i < 5; i++)
            known |= a.error != NULL && strcmp(a.error, ok[i]) == 0;
        FZ_CHECK(known, "a refusal for another error");
        FZ_CHECK(json_is_object(j) && json_is_string(json_object_get(j, "error"))
                 && strcmp(json_string_value(json_object_get(j, "error")), a.error) == 0,
                 "a refusal that is not the answer's error");
    }
    else
        FZ_CHECK(o == CKA_CC_BAD && a.why != NULL && *a.why, "an unusable answer without a reason");
    json_decref(j);
    free(body);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    apr_pool_t *p;
    apr_pool_create(&p, fz_root);
    const uint8_t *d = data + 1;
    size_t n = size - 1;
    switch (data[0] % 4) {
    case 0:
        basic(p, d, n);
        break;
    case 1:
        answer(p, d, n);
        break;
    case 2: {
        long long exp = cka_cc_token_exp(p, (const char *)d, n);
        FZ_CHECK(exp == -1 || (exp > 0 && exp <= CKA_MAX_NUMERIC_DATE), "exp out of range");
        break;
    }
    default: {
        unsigned char name[CKA_SEAL_NAME_LEN];
        memset(name, 0x42, sizeof(name));
        cka_cc_record_t rec;
        FZ_CHECK(cka_cc_record_open(seal, p, name, d, n, &rec) != 0,
                 "a shared-cache record opened without the secret (forged)");
        break;
    }
    }
    apr_pool_destroy(p);
    return 0;
}
