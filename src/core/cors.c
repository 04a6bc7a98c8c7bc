/* cors.c - origin patterns and preflight decisions; exact and anchored. */
#include "cors.h"
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <apr_strings.h>
#include <apr_lib.h>
#include <apr_uri.h>

/* 443 for https, 80 for http; 0 for any other scheme (no default). */
static int default_port(const char *scheme)
{
    if (strcmp(scheme, "https") != 0 && strcmp(scheme, "http") != 0)
        return 0;
    return apr_uri_port_of_scheme(scheme);
}

static int host_char(char c)
{
    return apr_isalnum(c) || c == '-' || c == '.';
}

/* Split "scheme://host[:port]" (host may be "*.x" when allow_wild) into
 * lower-case copies in the caller's buffers (each at least strlen(s)+1).
 * Returns NULL or a static reason. */
static const char *split(const char *s, int allow_wild, char *scheme, char *host,
                         int *port, int *wild)
{
    const char *sep = strstr(s, "://");
    if (sep == NULL || sep == s)
        return "not scheme://host[:port]";
    size_t sl = (size_t)(sep - s);
    for (size_t i = 0; i < sl; i++) {
        if (!(apr_isalnum(s[i]) || s[i] == '+' || s[i] == '-' || s[i] == '.'))
            return "invalid scheme";
        scheme[i] = (char)apr_tolower(s[i]);
    }
    scheme[sl] = '\0';
    const char *h = sep + 3;
    const char *colon;
    if (*h == '[') {                       /* IPv6 literal */
        const char *rb = strchr(h, ']');
        if (rb == NULL)
            return "invalid IPv6 host";
        colon = rb[1] == ':' ? rb + 1 : NULL;
        if (rb[1] != '\0' && rb[1] != ':')
            return "invalid IPv6 host";
    }
    else
        colon = strchr(h, ':');
    size_t hl = colon ? (size_t)(colon - h) : strlen(h);
    *wild = 0;
    if (allow_wild && hl > 2 && h[0] == '*' && h[1] == '.') {
        *wild = 1;
        h += 2;
        hl -= 2;
    }
    if (hl == 0)
        return "empty host";
    for (size_t i = 0; i < hl; i++) {
        char c = h[i];
        int ok = (h[0] == '[') ? (apr_isxdigit(c) || c == ':' || c == '.' || c == '[' || c == ']')
                               : host_char(c);
        if (!ok)
            return c == '*' ? "* is only allowed as scheme://*.domain"
                            : "invalid character in host (no path, query, user or trailing slash)";
        host[i] = (char)apr_tolower(c);
    }
    host[hl] = '\0';
    if (host[0] == '.' || host[0] == '-' || host[hl - 1] == '.' || strstr(host, ".."))
        return "invalid host";
    if (colon) {
        char *end;
        const char *ps = colon + 1;
        if (*ps == '\0' || !apr_isdigit(*ps) || strlen(ps) > 5)
            return "invalid port";
        long v = strtol(ps, &end, 10);
        if (*end != '\0' || v < 1 || v > 65535)
            return "invalid port";
        *port = (int)v;
    }
    else
        *port = default_port(scheme);
    return NULL;
}

const char *cka_origin_parse(apr_pool_t *p, const char *s, cka_origin_t *out)
{
    memset(out, 0, sizeof(*out));
    if (strcmp(s, "*") == 0) {
        out->any = 1;
        return NULL;
    }
    if (strcmp(s, "null") == 0) {
        out->is_null = 1;
        return NULL;
    }
    size_t n = strlen(s) + 1;
    char *scheme = apr_palloc(p, n), *host = apr_palloc(p, n);
    const char *why = split(s, 1, scheme, host, &out->port, &out->wildcard);
    if (why != NULL)
        return apr_pstrdup(p, why);
    out->scheme = scheme;
    out->host = host;
    return NULL;
}

int cka_origin_matches(const cka_origin_t *pat, const char *origin)
{
    if (origin == NULL)
        return 0;
    if (pat->any)   /* SPEC: "Origin: null" only when null itself is listed */
        return strcmp(origin, "null") != 0;
    if (pat->is_null)
        return strcmp(origin, "null") == 0;
    char scheme[1025], host[1025];
    int port = 0, wild = 0;
    if (strlen(origin) > 1024 || split(origin, 0, scheme, host, &port, &wild) != NULL)
        return 0;
    if (strcmp(scheme, pat->scheme) != 0 || port != pat->port)
        return 0;
    if (!pat->wildcard)
        return strcmp(host, pat->host) == 0;
    size_t hl = strlen(host), dl = strlen(pat->host);
    return hl > dl + 1 && host[hl - dl - 1] == '.' && strcmp(host + hl - dl, pat->host) == 0;
}

const cka_origin_t *cka_cors_find_origin(const cka_cors_policy_t *pol, const char *origin)
{
    for (int i = 0; pol->origins && i < pol->origins->nelts; i++) {
        const cka_origin_t *o = APR_ARRAY_IDX(pol->origins, i, const cka_origin_t *);
        if (cka_origin_matches(o, origin))
            return o;
    }
    return NULL;
}

static int listed(const apr_array_header_t *a, const char *v, size_t n, int nocase)
{
    for (int i = 0; a && i < a->nelts; i++) {
        const char *w = APR_ARRAY_IDX(a, i, const char *);
        if (strlen(w) == n && (nocase ? strncasecmp(w, v, n) : strncmp(w, v, n)) == 0)
            return 1;
    }
    return 0;
}

cka_preflight_t cka_cors_preflight(const cka_cors_policy_t *pol, const char *origin,
                                   const char *req_method, const char *req_headers)
{
    if (cka_cors_find_origin(pol, origin) == NULL)
        return CKA_PREFLIGHT_BAD_ORIGIN;
    if (req_method == NULL || !listed(pol->methods, req_method, strlen(req_method), 0))
        return CKA_PREFLIGHT_BAD_METHOD;
    int any = listed(pol->headers, "*", 1, 0);
    const char *s = req_headers ? req_headers : "";
    while (*s) {
        while (*s == ' ' || *s == '\t' || *s == ',')
            s++;
        const char *e = s;
        while (*e && *e != ',')
            e++;
        size_t n = (size_t)(e - s);
        while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
            n--;
        if (n > 0) {
            int is_authz = n == 13 && strncasecmp(s, "authorization", 13) == 0;
            if (!listed(pol->headers, s, n, 1) && !(any && !is_authz))
                return CKA_PREFLIGHT_BAD_HEADER;
        }
        s = e;
    }
    return CKA_PREFLIGHT_OK;
}
