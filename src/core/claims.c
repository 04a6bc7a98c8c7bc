/* claims.c - registered claims: exp, nbf, iat, aud; header typ. */
#include "claims.h"
#include "cka_limits.h"
#include <string.h>
#include <apr_cstr.h>

int cka_numeric_date(const json_t *claims, const char *name, long long *out)
{
    json_t *v = json_object_get(claims, name);
    if (v == NULL)
        return 1;
    /* Integers only: floats, strings, booleans and out-of-range values are
     * refused rather than rounded or clamped. */
    if (!json_is_integer(v))
        return -1;
    json_int_t n = json_integer_value(v);
    if (n < 0 || n > CKA_MAX_NUMERIC_DATE)
        return -1;
    *out = (long long)n;
    return 0;
}

cka_reason_t cka_claims_check_time(const json_t *claims, long long now,
                                   long long skew, long long *exp_out)
{
    return cka_claims_check_times(claims, now, skew, 1, exp_out);
}

cka_reason_t cka_claims_check_times(const json_t *claims, long long now, long long skew,
                                    int exp_required, long long *exp_out)
{
    long long exp = 0, nbf = 0, iat = 0;
    int r;
    if ((r = cka_numeric_date(claims, "exp", &exp)) < 0 || (r > 0 && exp_required))
        return CKA_BAD_TIME_CLAIM;
    int have_exp = (r == 0);
    if ((r = cka_numeric_date(claims, "nbf", &nbf)) < 0)
        return CKA_BAD_TIME_CLAIM;
    int have_nbf = (r == 0);
    if ((r = cka_numeric_date(claims, "iat", &iat)) < 0)
        return CKA_BAD_TIME_CLAIM;
    int have_iat = (r == 0);
    if (exp_out != NULL)
        *exp_out = have_exp ? exp : -1;
    if (have_exp && now - skew >= exp)
        return CKA_TOKEN_EXPIRED;
    if (have_nbf && nbf > now + skew)
        return CKA_NOT_YET_VALID;
    if (have_iat && iat > now + skew)
        return CKA_ISSUED_IN_FUTURE;
    return CKA_OK;
}

cka_reason_t cka_claims_check_lifetime(const json_t *claims, long long max)
{
    long long exp = 0, iat = 0;
    int r;
    if (max <= 0)
        return CKA_OK;
    if (cka_numeric_date(claims, "exp", &exp) != 0)
        return CKA_BAD_TIME_CLAIM;
    if ((r = cka_numeric_date(claims, "iat", &iat)) < 0)
        return CKA_BAD_TIME_CLAIM;
    if (r == 1)
        return CKA_TOKEN_LIFETIME_TOO_LONG;   /* the lifetime is unknown */
    return exp - iat > max ? CKA_TOKEN_LIFETIME_TOO_LONG : CKA_OK;
}

static int wanted(const char *aud, const apr_array_header_t *want)
{
    for (int i = 0; want != NULL && i < want->nelts; i++)
        if (strcmp(aud, APR_ARRAY_IDX(want, i, const char *)) == 0)
            return 1;
    return 0;
}

cka_reason_t cka_claims_check_aud(const json_t *claims,
                                  const apr_array_header_t *want, int any)
{
    json_t *aud = json_object_get(claims, "aud");
    if (any)
        return CKA_OK;
    if (json_is_string(aud))
        return wanted(json_string_value(aud), want) ? CKA_OK : CKA_WRONG_AUDIENCE;
    if (json_is_array(aud)) {
        size_t i;
        json_t *m;
        int found = 0;
        json_array_foreach(aud, i, m) {
            if (!json_is_string(m))
                return CKA_WRONG_AUDIENCE;     /* a malformed aud is not ours */
            if (wanted(json_string_value(m), want))
                found = 1;
        }
        return found ? CKA_OK : CKA_WRONG_AUDIENCE;
    }
    return CKA_WRONG_AUDIENCE;
}

/* A media type as RFC 7515 §4.1.9 has a recipient read "typ": a value
 * without '/' stands for "application/" + value. Splits it into type and
 * subtype; 0 when either is empty (such a value never matches). */
static int media_type(const char *v, const char **type, size_t *type_len,
                      const char **sub)
{
    const char *slash = strchr(v, '/');
    if (slash == NULL) {
        *type = "application";
        *type_len = 11;
        *sub = v;
    }
    else {
        *type = v;
        *type_len = (size_t)(slash - v);
        *sub = slash + 1;
    }
    return *type_len > 0 && **sub != '\0';
}

static int same_media_type(const char *a, const char *b)
{
    const char *ta, *tb, *sa, *sb;
    size_t na, nb;
    if (!media_type(a, &ta, &na, &sa) || !media_type(b, &tb, &nb, &sb))
        return 0;
    return na == nb && apr_cstr_casecmpn(ta, tb, na) == 0 && apr_cstr_casecmp(sa, sb) == 0;
}

cka_reason_t cka_check_typ(const char *typ, const apr_array_header_t *want)
{
    if (want == NULL || want->nelts == 0)
        return CKA_OK;
    if (typ == NULL)
        return CKA_WRONG_TYPE;
    for (int i = 0; i < want->nelts; i++)
        if (same_media_type(typ, APR_ARRAY_IDX(want, i, const char *)))
            return CKA_OK;
    return CKA_WRONG_TYPE;
}
