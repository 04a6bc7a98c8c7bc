/* claim_path.c - dotted claim paths, whole names first; joined text. */
#include "claim_path.h"
#include "json_util.h"
#include "cka_limits.h"
#include <stdlib.h>
#include <string.h>
#include <apr_strings.h>
#include <apr_tables.h>

static json_t *lookup(const json_t *obj, const char *path, size_t len, int depth)
{
    if (!json_is_object(obj) || depth > CKA_MAX_JSON_DEPTH)
        return NULL;
    /* The whole (remaining) path as one name. */
    json_t *v = json_object_getn(obj, path, len);
    if (v != NULL)
        return v;
    /* Then each split point from the left: "a.b.c" tries a -> "b.c",
     * then "a.b" -> "c", so names containing dots still resolve. */
    for (size_t i = 0; i < len; i++) {
        if (path[i] != '.' || i == 0 || i + 1 == len)
            continue;
        json_t *child = json_object_getn(obj, path, i);
        if (json_is_object(child)) {
            v = lookup(child, path + i + 1, len - i - 1, depth + 1);
            if (v != NULL)
                return v;
        }
    }
    return NULL;
}

json_t *cka_claim_lookup(const json_t *obj, const char *path)
{
    if (path == NULL || *path == '\0')
        return NULL;
    return lookup(obj, path, strlen(path), 0);
}

/* Append s to b with a backslash before every backslash and every
 * occurrence of the separator's first character. Then an unescaped first
 * character always starts a separator, so the joined text reads back
 * unambiguously even for separators that overlap themselves ("::", " | "):
 * ["a:", "b"] joins to "a\\:::b", ["a", ":b"] to "a::\\:b". sep may be NULL
 * (no escaping but the backslash). */
static void append_escaped(apr_array_header_t *b, const char *s, const char *sep)
{
    char first = (sep && *sep) ? *sep : '\0';
    for (; *s; s++) {
        if (*s == '\\' || (first && *s == first))
            APR_ARRAY_PUSH(b, char) = '\\';
        APR_ARRAY_PUSH(b, char) = *s;
    }
}

static const char *scalar_text(apr_pool_t *p, const json_t *v)
{
    if (json_is_string(v))
        return json_string_value(v);
    if (json_is_true(v))
        return "true";
    if (json_is_false(v))
        return "false";
    if (json_is_null(v))
        return NULL;
    return cka_json_compact(p, v);   /* numbers, objects, arrays */
}

/* Members of an array (or v alone, when it is not an array) joined with
 * sep, each escaped; members that are JSON null are left out. */
static char *join_members(apr_pool_t *p, const json_t *v, const char *sep)
{
    apr_array_header_t *b = apr_array_make(p, 256, sizeof(char));
    size_t i, n = json_is_array(v) ? json_array_size(v) : 1;
    int first = 1;
    for (i = 0; i < n; i++) {
        const char *t = scalar_text(p, json_is_array(v) ? json_array_get(v, i) : v);
        if (t == NULL)
            continue;
        if (!first)
            for (const char *s = sep; *s; s++)
                APR_ARRAY_PUSH(b, char) = *s;
        first = 0;
        append_escaped(b, t, sep);
    }
    APR_ARRAY_PUSH(b, char) = '\0';
    return b->elts;
}

char *cka_claim_to_text(apr_pool_t *p, const json_t *v, const char *sep)
{
    if (v == NULL || json_is_null(v))
        return NULL;
    if (!json_is_array(v)) {
        const char *t = scalar_text(p, v);
        return t ? apr_pstrdup(p, t) : NULL;
    }
    return join_members(p, v, sep);
}

char *cka_claim_to_list_text(apr_pool_t *p, const json_t *v, const char *sep)
{
    if (v == NULL || json_is_null(v))
        return NULL;
    return join_members(p, v, sep);
}

static int scalar_equals(const json_t *v, const char *want)
{
    if (json_is_string(v))
        return strcmp(json_string_value(v), want) == 0;
    if (json_is_true(v))
        return strcmp(want, "true") == 0;
    if (json_is_false(v))
        return strcmp(want, "false") == 0;
    if (json_is_number(v)) {
        /* Numbers compare as the text cka_claim_to_text renders. */
        char *t = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
        int eq = t != NULL && strcmp(t, want) == 0;
        free(t);
        return eq;
    }
    return 0;
}

int cka_claim_matches(const json_t *v, const char *want)
{
    if (v == NULL)
        return 0;
    if (json_is_array(v)) {
        size_t i;
        json_t *m;
        json_array_foreach(v, i, m)
            if (scalar_equals(m, want))
                return 1;
        return 0;
    }
    return scalar_equals(v, want);
}
