/* claim_path.h - find a claim by dotted path; join values with escaping. */
#ifndef CKA_CLAIM_PATH_H
#define CKA_CLAIM_PATH_H
#include <jansson.h>
#include <apr_pools.h>

/* Look up path in obj: the whole path as one member name first (so
 * "cognito:groups", "https://example.com/groups" and names with dots
 * work), then, splitting at each '.' from the left, a member named by the
 * part before it whose value is an object searched with the rest.
 * Returns a borrowed reference or NULL. */
json_t *cka_claim_lookup(const json_t *obj, const char *path);

/* Render a claim value as text: a string as is; an array's members joined
 * with sep, each member escaped (a backslash before every backslash and
 * every occurrence of sep's first character, so an unescaped first
 * character always starts a separator) and joined text is never
 * ambiguous, even for separators that overlap themselves; numbers and
 * booleans as JSON text; objects and nested arrays as compact JSON.
 * NULL for JSON null. */
char *cka_claim_to_text(apr_pool_t *p, const json_t *v, const char *sep);

/* Render a claim that is a list (groups): an array as cka_claim_to_text
 * does; any other value as a list of one member, escaped the same way, so
 * "a,b" and ["a,b"] give the same text (one member), never two. NULL for
 * JSON null. */
char *cka_claim_to_list_text(apr_pool_t *p, const json_t *v, const char *sep);

/* Does claim value v equal (string/number/bool rendered as text) or, when v
 * is an array, contain a member equal to, want? Exact comparison. */
int cka_claim_matches(const json_t *v, const char *want);

#endif
