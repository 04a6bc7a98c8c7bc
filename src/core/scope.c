/* scope.c - scope / scp, acr and auth_time rules; Bearer challenge
 * auth-params. */
#include "scope.h"
#include "claims.h"
#include <string.h>
#include <apr_strings.h>

int cka_scope_token_valid(const char *s)
{
    if (s == NULL || *s == '\0')
        return 0;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c < 0x21 || c > 0x7e || c == '"' || c == '\\')
            return 0;
    }
    return 1;
}

static int wanted(const char *s, size_t n, const apr_array_header_t *want)
{
    for (int i = 0; want != NULL && i < want->nelts; i++) {
        const char *w = APR_ARRAY_IDX(want, i, const char *);
        if (strlen(w) == n && memcmp(w, s, n) == 0)
            return 1;
    }
    return 0;
}

/* A space-separated string: every piece compared whole (so "ab" never
 * grants "a", nor "a" grants "ab"). */
static int string_grants(const char *s, size_t len, const apr_array_header_t *want)
{
    const char *end = s + len;
    while (s < end) {
        while (s < end && *s == ' ')
            s++;
        const char *w = s;
        while (s < end && *s != ' ')
            s++;
        if (s > w && wanted(w, (size_t)(s - w), want))
            return 1;
    }
    return 0;
}

static int claim_grants(const json_t *v, const apr_array_header_t *want)
{
    if (json_is_string(v))
        return string_grants(json_string_value(v), json_string_length(v), want);
    if (json_is_array(v)) {
        size_t i;
        json_t *m;
        json_array_foreach(v, i, m)
            if (json_is_string(m) && wanted(json_string_value(m), json_string_length(m), want))
                return 1;
    }
    return 0;
}

int cka_scopes_grant(const json_t *claims, const apr_array_header_t *want)
{
    if (!json_is_object(claims))
        return 0;
    return claim_grants(json_object_get(claims, "scope"), want)
        || claim_grants(json_object_get(claims, "scp"), want);
}

int cka_acr_grant(const json_t *claims, const apr_array_header_t *want)
{
    const json_t *acr = json_is_object(claims) ? json_object_get(claims, "acr") : NULL;
    return json_is_string(acr)
        && wanted(json_string_value(acr), json_string_length(acr), want);
}

int cka_auth_time_ok(const json_t *claims, long long now, long long max_age,
                     long long skew)
{
    long long at = 0;
    if (!json_is_object(claims) || cka_numeric_date(claims, "auth_time", &at) != 0)
        return 0;
    return now - at <= max_age + skew;
}

const char *cka_words_join(apr_pool_t *p, const apr_array_header_t *words)
{
    if (words == NULL || words->nelts == 0)
        return "";
    return apr_array_pstrcat(p, words, ' ');
}

const char *cka_quoted_string(apr_pool_t *p, const char *value)
{
    size_t n = 0;
    for (const char *t = value; *t; t++)
        n += (*t == '"' || *t == '\\') ? 2 : 1;
    char *o = apr_palloc(p, n + 3), *w = o;
    *w++ = '"';
    for (const char *t = value; *t; t++) {
        if (*t == '"' || *t == '\\')
            *w++ = '\\';
        *w++ = ((unsigned char)*t < 0x20 || *t == 0x7f) ? '?' : *t;
    }
    *w++ = '"';
    *w = '\0';
    return o;
}

const char *cka_auth_param(apr_pool_t *p, const char *challenge,
                           const char *name, const char *value)
{
    int first = strchr(challenge, ' ') == NULL;
    return apr_pstrcat(p, challenge, first ? " " : ", ", name, "=",
                       cka_quoted_string(p, value), NULL);
}
