/* validate.c - the whole check of one token, in the order a reviewer can
 * follow: size and shape, algorithm, issuer, key, signature, then claims. */
#include "validate.h"
#include "claims.h"
#include "verify.h"
#include <string.h>

cka_reason_t cka_validate_claims(const json_t *claims, const cka_policy_t *pol,
                                 long long now, long long *exp_out)
{
    cka_reason_t r = cka_claims_check_time(claims, now, pol->skew, exp_out);
    if (r != CKA_OK)
        return r;
    return cka_claims_check_aud(claims, pol->audiences, pol->any_audience);
}

cka_reason_t cka_validate_token(apr_pool_t *p, const char *token, size_t len,
                                const cka_policy_t *pol,
                                const cka_key_source_t *keys, long long now,
                                cka_verdict_t *out)
{
    memset(out, 0, sizeof(*out));
    cka_reason_t r = cka_jws_parse(p, token, len, &out->jws, &out->detail);
    if (r != CKA_OK)
        return r;
    const cka_jws_t *jws = &out->jws;
    if (!(pol->algs & CKA_ALG_BIT(jws->alg))) {
        out->detail = "alg is not in ConduktorAuthAlgorithms";
        return CKA_ALG_NOT_ALLOWED;
    }
    if ((r = cka_check_typ(jws->typ, pol->types)) != CKA_OK)
        return r;

    json_t *iss = json_object_get(jws->claims, "iss");
    if (!json_is_string(iss)) {
        out->detail = "iss missing or not a string";
        return CKA_WRONG_ISSUER;
    }
    out->iss = json_string_value(iss);

    cka_reason_t why = CKA_WRONG_ISSUER;
    const cka_keyset_t *ks = keys->get(keys->ctx, p, out->iss, 0, &why);
    if (ks == NULL)
        return why;
    r = cka_verify_with_set(jws, ks, NULL);
    if (r == CKA_UNKNOWN_KEY && jws->kid != NULL) {
        /* Perhaps the IdP rotated: let the store refetch (rate-limited). */
        const cka_keyset_t *fresh = keys->get(keys->ctx, p, out->iss, 1, &why);
        if (fresh != NULL && fresh != ks)
            r = cka_verify_with_set(jws, fresh, NULL);
    }
    if (r != CKA_OK)
        return r;
    return cka_validate_claims(jws->claims, pol, now, &out->exp);
}
