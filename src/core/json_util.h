/* json_util.h - strict JSON parsing for untrusted input, tied to pools. */
#ifndef CKA_JSON_UTIL_H
#define CKA_JSON_UTIL_H
#include <stddef.h>
#include <jansson.h>
#include <apr_pools.h>

/* Parse exactly len bytes as one JSON object: duplicate names rejected,
 * NUL in strings rejected, nesting at most CKA_MAX_JSON_DEPTH. The result
 * is released when pool p is cleared. NULL on any failure; *why (static
 * text, optional) says which. */
json_t *cka_json_parse_object(apr_pool_t *p, const char *buf, size_t len,
                              const char **why);

/* Nesting depth of v (a scalar is 0, {} or [] is 1). */
int cka_json_depth(const json_t *v);

/* Release v when pool p is cleared (takes over one reference). */
json_t *cka_json_pool_own(apr_pool_t *p, json_t *v);

/* Compact JSON text of v in pool p. */
char *cka_json_compact(apr_pool_t *p, const json_t *v);

#endif
