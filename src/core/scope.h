/* scope.h - scopes (scope / scp), the RFC 9470 step-up rules (acr,
 * auth_time) and the auth-params of a Bearer challenge. Part of the core:
 * no httpd header. */
#ifndef CKA_SCOPE_H
#define CKA_SCOPE_H
#include <jansson.h>
#include <apr_pools.h>
#include <apr_tables.h>

/* A scope-token of RFC 6749 §3.3: one or more of %x21 / %x23-5B / %x5D-7E
 * (no space, no '"', no '\'). What `Require conduktor-scope` accepts. */
int cka_scope_token_valid(const char *s);

/* Does the token hold one of want (const char *, exact and case-sensitive)?
 * Scopes come from "scope" and from "scp": a string is split on spaces, an
 * array is read member by member; members of other types, and claims of
 * other types, never grant. Returns 1 or 0. */
int cka_scopes_grant(const json_t *claims, const apr_array_header_t *want);

/* Is the token's "acr" (a string) one of want (exact)? 1 or 0. */
int cka_acr_grant(const json_t *claims, const apr_array_header_t *want);

/* RFC 9470 max_age: "auth_time" present (a NumericDate) and
 * now - auth_time <= max_age + skew. 1 when recent enough, 0 otherwise
 * (missing, malformed, too old). */
int cka_auth_time_ok(const json_t *claims, long long now, long long max_age,
                     long long skew);

/* The words of a list joined by single spaces ("" for none). */
const char *cka_words_join(apr_pool_t *p, const apr_array_header_t *words);

/* An RFC 9110 quoted-string: the value in double quotes, '"' and '\'
 * escaped with a backslash; control characters (which a header cannot
 * carry) become '?'. */
const char *cka_quoted_string(apr_pool_t *p, const char *value);

/* challenge + ", name=<quoted value>" (no comma when challenge ends in the
 * scheme, e.g. "Bearer"). */
const char *cka_auth_param(apr_pool_t *p, const char *challenge,
                           const char *name, const char *value);

#endif
