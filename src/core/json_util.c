/* json_util.c - strict JSON for untrusted input, released with a pool. */
#include "json_util.h"
#include "cka_limits.h"
#include <string.h>
#include <apr_strings.h>

static apr_status_t json_cleanup(void *v)
{
    json_decref((json_t *)v);
    return APR_SUCCESS;
}

json_t *cka_json_pool_own(apr_pool_t *p, json_t *v)
{
    if (v != NULL)
        apr_pool_cleanup_register(p, v, json_cleanup, apr_pool_cleanup_null);
    return v;
}

static int depth_at_most(const json_t *v, int left)
{
    if (json_is_object(v) || json_is_array(v)) {
        if (left <= 0)
            return 0;
        if (json_is_object(v)) {
            const char *k;
            json_t *m;
            json_object_foreach((json_t *)v, k, m)
                if (!depth_at_most(m, left - 1))
                    return 0;
        }
        else {
            size_t i;
            json_t *m;
            json_array_foreach(v, i, m)
                if (!depth_at_most(m, left - 1))
                    return 0;
        }
    }
    return 1;
}

int cka_json_depth(const json_t *v)
{
    int best = 0;
    if (json_is_object(v)) {
        const char *k;
        json_t *m;
        json_object_foreach((json_t *)v, k, m) {
            int d = cka_json_depth(m);
            if (d > best)
                best = d;
        }
        return best + 1;
    }
    if (json_is_array(v)) {
        size_t i;
        json_t *m;
        json_array_foreach(v, i, m) {
            int d = cka_json_depth(m);
            if (d > best)
                best = d;
        }
        return best + 1;
    }
    return 0;
}

/* Cheap pre-scan so a deeply nested input never reaches the parser's own
 * (much higher) limit: count bracket depth outside strings. */
static int raw_depth_ok(const char *buf, size_t len)
{
    int depth = 0, in_str = 0;
    for (size_t i = 0; i < len; i++) {
        char c = buf[i];
        if (in_str) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_str = 0;
        }
        else if (c == '"')
            in_str = 1;
        else if (c == '{' || c == '[') {
            if (++depth > CKA_MAX_JSON_DEPTH)
                return 0;
        }
        else if (c == '}' || c == ']')
            depth--;
    }
    return 1;
}

json_t *cka_json_parse_object(apr_pool_t *p, const char *buf, size_t len,
                              const char **why)
{
    json_error_t jerr;
    const char *dummy;
    if (why == NULL)
        why = &dummy;
    if (!raw_depth_ok(buf, len)) {
        *why = "JSON nested too deeply";
        return NULL;
    }
    json_t *v = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
    if (v == NULL) {
        *why = "not valid JSON (or duplicate member names)";
        return NULL;
    }
    if (!json_is_object(v)) {
        json_decref(v);
        *why = "JSON is not an object";
        return NULL;
    }
    if (!depth_at_most(v, CKA_MAX_JSON_DEPTH)) {
        json_decref(v);
        *why = "JSON nested too deeply";
        return NULL;
    }
    return cka_json_pool_own(p, v);
}

char *cka_json_compact(apr_pool_t *p, const json_t *v)
{
    char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    if (s == NULL)
        return NULL;
    char *r = apr_pstrdup(p, s);
    free(s);
    return r;
}
