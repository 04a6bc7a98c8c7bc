/* claims.h - registered claim checks: exp, nbf, iat, aud, typ. */
#ifndef CKA_CLAIMS_H
#define CKA_CLAIMS_H
#include <jansson.h>
#include <apr_tables.h>
#include "reason.h"

/* Read a NumericDate: a JSON integer in [0, CKA_MAX_NUMERIC_DATE].
 * Returns 1 absent, 0 ok, -1 present but not acceptable. */
int cka_numeric_date(const json_t *claims, const char *name, long long *out);

/* exp required; now - skew < exp; nbf <= now + skew; iat <= now + skew. */
cka_reason_t cka_claims_check_time(const json_t *claims, long long now,
                                   long long skew, long long *exp_out);

/* The same rules with exp optional when exp_required is 0 (an
 * introspection answer: RFC 7662 §2.2 makes exp optional); *exp_out is -1
 * then when there is none. Every member's form is checked before any time
 * is compared (CKA_BAD_TIME_CLAIM first). */
cka_reason_t cka_claims_check_times(const json_t *claims, long long now, long long skew,
                                    int exp_required, long long *exp_out);

/* ConduktorAuthMaxTokenLifetime: exp - iat at most max seconds (no leeway);
 * iat is then required. max <= 0: no limit. CKA_TOKEN_LIFETIME_TOO_LONG
 * when too long or iat missing; CKA_BAD_TIME_CLAIM when exp or iat is not
 * a NumericDate. */
cka_reason_t cka_claims_check_lifetime(const json_t *claims, long long max);

/* aud (a string or a non-empty array of strings) must contain one of
 * want (array of const char *). any != 0 disables the check. */
cka_reason_t cka_claims_check_aud(const json_t *claims,
                                  const apr_array_header_t *want, int any);

/* typ (header) must name the same media type as one of want; NULL/empty
 * want accepts any. Compared as RFC 7515 §4.1.9 has it: case-insensitive,
 * a value without '/' read as "application/" + value (so "at+jwt" equals
 * "application/at+jwt"); an empty type or subtype never matches. */
cka_reason_t cka_check_typ(const char *typ, const apr_array_header_t *want);

#endif
