/* fuzz_introspect.c - what an introspection endpoint (RFC 7662) and the
 * shared cache send for ConduktorAuthIntrospect (introspection.c).
 *
 * The first byte picks the mode:
 *   0  the 2nd byte picks the HTTP status (200, 401, 500, 302), the rest
 *      is the endpoint's answer -> cka_is_parse_answer, then cka_is_check
 *      (a fixed policy: audience "api", skew 60) and cka_is_reuse_until
 *   1  the rest is bytes read from the shared cache under a token's name
 *      -> cka_is_record_open (the secret is made at start-up: nothing opens)
 *   2  the rest is a discovery document -> cka_discovery_read
 *
 * Invariants: an answer is active only on a 200 whose JSON (read again
 * here with jansson, duplicates refused) is an object with "active": true,
 * and its claims then carry the answer's iss, or the configured issuer
 * when it had none; inactive only on a 200 with "active": false; a check
 * passes only for an active answer whose iss is the issuer, whose aud
 * holds "api" and whose exp (if any) is not past; an active answer is
 * reused for at most the TTL; no shared-cache input opens; a discovered
 * endpoint is https without space or control character. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <jansson.h>
#include <openssl/rand.h>
#include "fuzz_common.h"
#include "introspection.h"
#include "fetch.h"
#include "cka_limits.h"

#define ISS "https://idp.example.com"
#define TTL 60

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

static int aud_has_api(json_t *o)
{
    json_t *a = json_object_get(o, "aud");
    if (json_is_string(a))
        return strcmp(json_string_value(a), "api") == 0;
    size_t i;
    json_t *m;
    if (json_is_array(a))
        json_array_foreach(a, i, m)
            if (json_is_string(m) && strcmp(json_string_value(m), "api") == 0)
                return 1;
    return 0;
}

static void answer(apr_pool_t *p, const uint8_t *d, size_t n)
{
    static const long statuses[] = { 200, 401, 500, 302 };
    if (n == 0)
        return;
    long status = statuses[d[0] % 4];
    d++;
    n--;
    char *body = malloc(n ? n : 1);      /* exactly n bytes: ASan sees overreads */
    memcpy(body, d, n);
    json_t *claims = NULL;
    const char *why = NULL;
    cka_is_outcome_t o = cka_is_parse_answer(p, status, body, n, ISS, &claims, &why);
    json_t *j = json_loadb(body, n, JSON_REJECT_DUPLICATES, NULL);
    long long now = 1700000000;
    if (o == CKA_IS_ACTIVE) {
        FZ_CHECK(status == 200, "active from a status other than 200");
        FZ_CHECK(json_is_object(j) && json_is_true(json_object_get(j, "active")),
                 "active from an answer without \"active\": true");
        json_t *iss = json_object_get(j, "iss");
        json_t *ciss = json_object_get(claims, "iss");
        /* An answer without iss gets the issuer's; one with an iss (of any
         * type) keeps it as it is, for cka_is_check to judge. */
        if (iss == NULL)
            FZ_CHECK(json_is_string(ciss) && strcmp(json_string_value(ciss), ISS) == 0,
                     "iss not filled in");
        else
            FZ_CHECK(json_equal(iss, ciss), "the answer's iss was changed");
        apr_array_header_t *aud = apr_array_make(p, 1, sizeof(const char *));
        APR_ARRAY_PUSH(aud, const char *) = "api";
        cka_policy_t pol = { .audiences = aud, .skew = 60 };
        if (cka_is_check(claims, ISS, &pol, now) == CKA_OK) {
            FZ_CHECK(iss == NULL || (json_is_string(iss)
                                     && strcmp(json_string_value(iss), ISS) == 0),
                     "passed with another iss (or one that is not a string)");
            FZ_CHECK(aud_has_api(j), "passed without the audience");
            json_t *exp = json_object_get(j, "exp");
            FZ_CHECK(exp == NULL || (json_is_integer(exp) && json_integer_value(exp) > now - 60),
                     "passed with a past or non-integer exp");
        }
        long long until = cka_is_reuse_until(claims, 1, now, TTL);
        FZ_CHECK(until > now && until <= now + TTL, "reused past the TTL");
    }
    else if (o == CKA_IS_INACTIVE) {
        FZ_CHECK(status == 200, "inactive from a status other than 200");
        FZ_CHECK(json_is_object(j) && json_is_false(json_object_get(j, "active")),
                 "inactive from an answer without \"active\": false");
        FZ_CHECK(claims == NULL, "claims for an inactive answer");
    }
    else
        FZ_CHECK(o == CKA_IS_BAD && why != NULL && *why && claims == NULL,
                 "an unusable answer without a reason");
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
    switch (data[0] % 3) {
    case 0:
        answer(p, d, n);
        break;
    case 1: {
        unsigned char name[CKA_SEAL_NAME_LEN];
        memset(name, 0x42, sizeof(name));
        cka_is_record_t rec;
        FZ_CHECK(cka_is_record_open(seal, p, name, d, n, &rec) != 0,
                 "a shared-cache record opened without the secret (forged)");
        break;
    }
    default: {
        cka_err_t err = CKA_ERR_INIT;
        char *doc = malloc(n ? n : 1);
        memcpy(doc, d, n);
        const char *ep = NULL;
        cka_discovery_read(p, doc, n, ISS, "introspection_endpoint", &ep, &err);
        if (ep != NULL) {
            FZ_CHECK(strncmp(ep, "https://", 8) == 0 || strncasecmp(ep, "https://", 8) == 0,
                     "a discovered endpoint that is not https");
            for (const char *c = ep; *c; c++)
                FZ_CHECK((unsigned char)*c > 0x20 && *c != 0x7f,
                         "a discovered endpoint with a space or control character");
        }
        else
            FZ_CHECK(err.reason == CKA_DISCOVERY_INVALID, "refused without a reason");
        free(doc);
        break;
    }
    }
    apr_pool_destroy(p);
    return 0;
}
