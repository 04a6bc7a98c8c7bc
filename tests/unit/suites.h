/* suites.h - the unit test suites and the helpers they share. */
#ifndef TU_SUITES_H
#define TU_SUITES_H
#include <check.h>
#include <apr_pools.h>
#include "reason.h"
#include "jws.h"
#include "keyset.h"
#include "mint.h"

Suite *suite_b64url(void);
Suite *suite_jws(void);
Suite *suite_keyset(void);
Suite *suite_verify(void);
Suite *suite_verify_openssl(void);
Suite *suite_claims(void);
Suite *suite_claim_path(void);
Suite *suite_identity(void);
Suite *suite_validate(void);
Suite *suite_keyrec(void);
Suite *suite_seal(void);
Suite *suite_keysane(void);
Suite *suite_credential(void);
Suite *suite_client_creds(void);
Suite *suite_audit(void);
Suite *suite_scope(void);
Suite *suite_introspect(void);
Suite *suite_dpop(void);
Suite *suite_cert_bind(void);
Suite *suite_replay_table(void);

/* One pool per test, created in the (forked) test process. */
extern apr_pool_t *tu_pool;
void tu_pool_setup(void);
void tu_pool_teardown(void);
/* Any JSON value from text (test input, must parse), released with
 * tu_pool. */
struct json_t;
struct json_t *tu_json(const char *text);
/* The one key of a minted JWK (must parse to exactly one key), and a
 * minted token parsed (must parse); both live in tu_pool. */
const cka_key_t *tu_one_key(const mint_key_t *k, const char *extra);
cka_jws_t *tu_parsed(const char *tok);

/* The enum names, written here again so that a failure message does not
 * depend on the code under test. */
static inline const char *tu_reason_name(cka_reason_t r)
{
    static const char *const names[] = {
        "CKA_OK", "CKA_NO_TOKEN", "CKA_BAD_REQUEST", "CKA_TOKEN_TOO_LARGE",
        "CKA_MALFORMED", "CKA_ALG_NOT_ALLOWED", "CKA_UNSUPPORTED_HEADER",
        "CKA_WRONG_TYPE", "CKA_WRONG_ISSUER", "CKA_UNKNOWN_KEY",
        "CKA_KEY_MISMATCH", "CKA_BAD_SIGNATURE", "CKA_TOKEN_EXPIRED",
        "CKA_NOT_YET_VALID", "CKA_ISSUED_IN_FUTURE", "CKA_BAD_TIME_CLAIM",
        "CKA_WRONG_AUDIENCE", "CKA_NO_USER", "CKA_KEYS_UNAVAILABLE",
        "CKA_GROUP_DENIED", "CKA_CLAIM_DENIED", "CKA_NOT_CONFIGURED",
        "CKA_INTERNAL", "CKA_UNSUPPORTED_KEY", "CKA_OPAQUE_REFUSED",
        "CKA_CREDENTIAL_DENIED", "CKA_BAD_CLIENT_CREDENTIALS",
        "CKA_CLIENT_CREDENTIALS_REFUSED", "CKA_TOKEN_ENDPOINT_UNAVAILABLE",
        "CKA_SCOPE_DENIED", "CKA_ACR_DENIED", "CKA_AUTH_TOO_OLD", "CKA_STEP_UP",
        "CKA_TOKEN_LIFETIME_TOO_LONG", "CKA_TOKEN_INACTIVE", "CKA_INTROSPECTION_UNAVAILABLE",
        "CKA_BINDING_MISSING", "CKA_BINDING_REQUIRED", "CKA_DPOP_INVALID",
        "CKA_DPOP_REPLAY", "CKA_DPOP_NONCE", "CKA_DPOP_UNAVAILABLE"
    };
    return (unsigned)r < sizeof(names) / sizeof(names[0]) ? names[r] : "(out of range)";
}

/* Assert an exact reason code; ctx names the table row. */
#define tu_assert_reason(got, want, ctx) do {                              \
        cka_reason_t tu_g_ = (got), tu_w_ = (want);                        \
        ck_assert_msg(tu_g_ == tu_w_, "%s: got %s, expected %s", (ctx),    \
                      tu_reason_name(tu_g_), tu_reason_name(tu_w_));       \
    } while (0)

#define TU_NELTS(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* The key-set parsers as a test reads them: the set or NULL, *err filled
 * (tests assert on err->reason, not on its text). */
#define TU_KS(fn) \
    static inline cka_keyset_t *KS_##fn(const char *buf, size_t len, cka_err_t *err) \
    { \
        cka_keyset_t *ks = NULL; \
        *err = (cka_err_t)CKA_ERR_INIT; \
        cka_keyset_parse_##fn(tu_pool, buf, len, &ks, err); \
        return ks; \
    }
TU_KS(json)
TU_KS(remote)
TU_KS(pem)
#undef TU_KS
static inline cka_keyset_t *KS_file(const char *path, cka_err_t *err)
{
    cka_keyset_t *ks = NULL;
    *err = (cka_err_t)CKA_ERR_INIT;
    cka_keyset_load_file(tu_pool, path, &ks, err);
    return ks;
}

#endif
