/* fuzz_cors.c - CORS decisions: cka_origin_parse (configured origins),
 * cka_origin_matches / cka_cors_find_origin (the request's Origin) and
 * cka_cors_preflight.
 *
 * Input lines: "<configured origin>\n<Origin>\n<method>\n<request headers>";
 * missing lines take defaults. The configured origin joins fixed patterns
 * (a wildcard, an exact origin, "null").
 *
 * Invariants (no false accepts): a match has the pattern's scheme, its host
 * exactly or, for a wildcard, a host ending in "." + domain with at least
 * one label before it, the pattern's port, and nothing else (no path,
 * user info, query, fragment, space). A preflight passes only for a
 * matching origin, a listed method (exact case), and Authorization only
 * when listed by name, never through "*". */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <apr_strings.h>
#include <apr_tables.h>
#include <apr_lib.h>
#include "fuzz_common.h"
#include "cors.h"

static cka_origin_t fixed[3];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fz_init_begin();
    fz_apr_init();
    static const char *const pats[] = { "https://*.example.com", "http://localhost:3000", "null" };
    for (int i = 0; i < 3; i++)
        if (cka_origin_parse(fz_root, pats[i], &fixed[i]) != NULL)
            fz_fail(__FILE__, __LINE__, "fixed origin pattern refused");
    fz_init_end();
    return 0;
}

static int default_port(const char *scheme)
{
    return strcmp(scheme, "https") == 0 ? 443 : strcmp(scheme, "http") == 0 ? 80 : 0;
}

/* Independent check of a match of pattern pat against origin o. */
static void check_match(apr_pool_t *p, const cka_origin_t *pat, const char *o)
{
    if (pat->any)
        return;
    if (pat->is_null) {
        FZ_CHECK(strcmp(o, "null") == 0, "the null pattern matched something else");
        return;
    }
    char *lo = apr_pstrdup(p, o);
    for (char *c = lo; *c; c++)
        *c = (char)apr_tolower(*c);
    size_t sl = strlen(pat->scheme);
    FZ_CHECK(strncmp(lo, pat->scheme, sl) == 0 && strncmp(lo + sl, "://", 3) == 0,
             "matched another scheme");
    const char *rest = lo + sl + 3;
    for (const char *c = rest; *c; c++)
        FZ_CHECK(!strchr("/?#@\\ \t*", *c) && (unsigned char)*c > 0x20 && *c != 0x7f,
                 "matched an origin with a path, user info, query, space or wildcard");
    const char *colon;
    size_t hl;
    if (*rest == '[') {
        const char *rb = strchr(rest, ']');
        FZ_CHECK(rb != NULL, "matched an unterminated IPv6 host");
        hl = (size_t)(rb + 1 - rest);
        colon = rb[1] == ':' ? rb + 1 : NULL;
        FZ_CHECK(rb[1] == '\0' || rb[1] == ':', "matched junk after an IPv6 host");
    }
    else {
        colon = strchr(rest, ':');
        hl = colon ? (size_t)(colon - rest) : strlen(rest);
    }
    const char *host = apr_pstrndup(p, rest, hl);
    size_t dl = strlen(pat->host);
    if (pat->wildcard)
        FZ_CHECK(hl > dl + 1 && host[hl - dl - 1] == '.' && strcmp(host + hl - dl, pat->host) == 0,
                 "a wildcard matched a host outside its domain");
    else
        FZ_CHECK(strcmp(host, pat->host) == 0, "matched another host");
    int port = default_port(pat->scheme);
    if (colon) {
        FZ_CHECK(colon[1] != '\0', "matched an empty port");
        long v = 0;
        for (const char *c = colon + 1; *c; c++) {
            FZ_CHECK(apr_isdigit(*c), "matched a port that is not a number");
            v = v * 10 + (*c - '0');
            FZ_CHECK(v <= 65535, "matched a port over 65535");
        }
        port = (int)v;
    }
    FZ_CHECK(port == pat->port, "matched another port");
}

static int has_authorization(const char *s)
{
    while (*s) {
        while (*s == ' ' || *s == '\t' || *s == ',')
            s++;
        const char *e = s;
        while (*e && *e != ',')
            e++;
        size_t n = (size_t)(e - s);
        while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
            n--;
        if (n == 13 && strncasecmp(s, "authorization", 13) == 0)
            return 1;
        s = e;
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p;
    apr_pool_create(&p, fz_root);
    /* Lines; a NUL ends a line early, as it would end a C string. */
    const char *line[4] = { "https://app.example.com", "https://a.example.com", "GET", NULL };
    const char *s = fz_strndup(p, data, size);
    for (int i = 0; i < 4 && s; i++) {
        const char *nl = strchr(s, '\n');
        line[i] = nl ? apr_pstrndup(p, s, (apr_size_t)(nl - s)) : s;
        s = nl ? nl + 1 : NULL;
    }
    cka_origin_t pat;
    const char *why = cka_origin_parse(p, line[0], &pat);
    apr_array_header_t *origins = apr_array_make(p, 4, sizeof(const cka_origin_t *));
    if (why == NULL) {
        if (!pat.any && !pat.is_null) {
            FZ_CHECK(pat.scheme && pat.host && *pat.host, "parsed origin without scheme or host");
            for (const char *c = pat.host; *c; c++)
                FZ_CHECK(!apr_isupper(*c) && !strchr("/?#@\\ *", *c), "host not normalised");
            FZ_CHECK(pat.port >= 0 && pat.port <= 65535, "port out of range");
        }
        APR_ARRAY_PUSH(origins, const cka_origin_t *) = &pat;
        if (cka_origin_matches(&pat, line[1]))
            check_match(p, &pat, line[1]);
    }
    for (int i = 0; i < 3; i++) {
        APR_ARRAY_PUSH(origins, const cka_origin_t *) = &fixed[i];
        if (cka_origin_matches(&fixed[i], line[1]))
            check_match(p, &fixed[i], line[1]);
    }
    FZ_CHECK(!cka_origin_matches(&fixed[0], NULL), "NULL origin matched");

    apr_array_header_t *methods = apr_array_make(p, 3, sizeof(const char *));
    APR_ARRAY_PUSH(methods, const char *) = "GET";
    APR_ARRAY_PUSH(methods, const char *) = "POST";
    APR_ARRAY_PUSH(methods, const char *) = "PUT";
    /* Two header lists: Authorization by name, and "*" without it. */
    apr_array_header_t *named = apr_array_make(p, 2, sizeof(const char *));
    APR_ARRAY_PUSH(named, const char *) = "Authorization";
    APR_ARRAY_PUSH(named, const char *) = "Content-Type";
    apr_array_header_t *star = apr_array_make(p, 2, sizeof(const char *));
    APR_ARRAY_PUSH(star, const char *) = "*";
    APR_ARRAY_PUSH(star, const char *) = "Content-Type";
    for (int k = 0; k < 2; k++) {
        cka_cors_policy_t pol = { origins, methods, k ? star : named, k };
        cka_preflight_t r = cka_cors_preflight(&pol, line[1], line[2], line[3]);
        if (r == CKA_PREFLIGHT_OK) {
            const cka_origin_t *o = cka_cors_find_origin(&pol, line[1]);
            FZ_CHECK(o != NULL, "preflight passed for an origin that matches no pattern");
            check_match(p, o, line[1]);
            FZ_CHECK(strcmp(line[2], "GET") == 0 || strcmp(line[2], "POST") == 0
                     || strcmp(line[2], "PUT") == 0, "preflight passed an unlisted method");
            if (k == 1 && line[3] != NULL)
                FZ_CHECK(!has_authorization(line[3]), "\"*\" let Authorization through");
        }
    }
    apr_pool_destroy(p);
    return 0;
}
