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
    if ((r = cka_claims_check_lifetime(claims, pol->max_lifetime)) != CKA_OK)
        return r;
    return cka_claims_check_aud(claims, pol->audiences, pol->any_audience);
}

/* The header rules a token and a cache hit share. */
static cka_reason_t header_rules(cka_alg_t alg, const char *typ, const cka_policy_t *pol,
                                 const char **detail)
{
    if (!(pol->algs & CKA_ALG_BIT(alg))) {
        *detail = "alg is not in ConduktorAuthAlgorithms";
        return CKA_ALG_NOT_ALLOWED;
    }
    return cka_check_typ(typ, pol->types);
}

int cka_validate_hit(apr_pool_t *p, const cka_record_t *hit,
                     const unsigned char *binding_here, const cka_policy_t *pol,
                     const cka_key_source_t *keys, long long now,
                     cka_reason_t *why, cka_verdict_t *out)
{
    cka_verdict_t scratch;
    if (out == NULL)
        out = &scratch;
    memset(out, 0, sizeof(*out));
    json_t *iss = json_object_get(hit->claims, "iss");
    if (!json_is_string(iss) || binding_here == NULL
        || memcmp(binding_here, hit->binding, CKA_BIND_LEN) != 0)
        return 0;
    out->iss = json_string_value(iss);
    cka_reason_t unavailable = CKA_OK;
    const cka_keyset_t *ks = keys->get(keys->ctx, p, out->iss, 0, &unavailable);
    const cka_key_t *k = ks != NULL ? cka_keyset_find_thumb(ks, hit->thumb) : NULL;
    if (k == NULL || !cka_key_fits_alg(k, hit->alg))
        return 0;       /* that key is withdrawn (or never was trusted here) */
    out->key = k;
    *why = header_rules(hit->alg, hit->typ, pol, &out->detail);
    if (*why == CKA_OK)
        *why = cka_validate_claims(hit->claims, pol, now, &out->exp);
    return 1;
}

cka_reason_t cka_validate_token(apr_pool_t *p, const char *token, size_t len,
                                const cka_policy_t *pol,
                                const cka_key_source_t *keys, long long now,
                                cka_verdict_t *out)
{
    return cka_validate_token_parts(p, token, len, NULL, pol, keys, now, out);
}

cka_reason_t cka_validate_token_parts(apr_pool_t *p, const char *token, size_t len,
                                      const cka_jws_parts_t *parts, const cka_policy_t *pol,
                                      const cka_key_source_t *keys, long long now,
                                      cka_verdict_t *out)
{
    memset(out, 0, sizeof(*out));
    cka_reason_t r = cka_jws_parse_parts(p, token, len, parts, &out->jws, &out->detail);
    if (r != CKA_OK)
        return r;
    const cka_jws_t *jws = &out->jws;
    if ((r = header_rules(jws->alg, jws->typ, pol, &out->detail)) != CKA_OK)
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
    r = cka_verify_with_set(jws, ks, &out->key);
    if (r == CKA_UNKNOWN_KEY && jws->kid != NULL) {
        /* Perhaps the IdP rotated: let the store refetch (rate-limited). */
        const cka_keyset_t *fresh = keys->get(keys->ctx, p, out->iss, 1, &why);
        if (fresh != NULL && fresh != ks)
            r = cka_verify_with_set(jws, fresh, &out->key);
    }
    if (r != CKA_OK)
        return r;
    return cka_validate_claims(jws->claims, pol, now, &out->exp);
}
