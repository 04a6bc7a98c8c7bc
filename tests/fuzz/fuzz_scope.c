/* fuzz_scope.c - scopes, acr, auth_time and the challenge's quoting
 * (src/core/scope.c), on claims parsed by the strict JSON parser.
 *
 * Input: "<wanted words, space-separated>\0<claims JSON>"; without a NUL
 * the words are "a ab" (a prefix trap).
 *
 * Invariants: cka_scopes_grant and cka_acr_grant answer as a plain
 * reference reading of the rules (scope / scp, strings split on spaces,
 * arrays member by member, other types never; acr a string equal to one
 * word); cka_auth_time_ok never grants without an integer auth_time; a
 * quoted-string built for a challenge reads back (quoted-pair undone) as
 * the value with control characters replaced, and never ends early. */
#include <stdlib.h>
#include <string.h>
#include <apr_strings.h>
#include <apr_tables.h>
#include "fuzz_common.h"
#include "scope.h"
#include "json_util.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fz_init_begin();
    fz_apr_init();
    fz_init_end();
    return 0;
}

static int in(const apr_array_header_t *want, const char *s, size_t n)
{
    for (int i = 0; i < want->nelts; i++) {
        const char *w = APR_ARRAY_IDX(want, i, const char *);
        if (strlen(w) == n && memcmp(w, s, n) == 0)
            return 1;
    }
    return 0;
}

/* The reference: split with a copy, compare whole pieces. */
static int ref_claim(apr_pool_t *p, const json_t *v, const apr_array_header_t *want)
{
    if (json_is_string(v)) {
        size_t n = json_string_length(v);
        char *copy = apr_pstrmemdup(p, json_string_value(v), n);
        size_t start = 0;
        for (size_t i = 0; i <= n; i++)
            if (i == n || copy[i] == ' ') {
                if (i > start && in(want, copy + start, i - start))
                    return 1;
                start = i + 1;
            }
        return 0;
    }
    if (json_is_array(v))
        for (size_t i = 0; i < json_array_size(v); i++) {
            const json_t *m = json_array_get(v, i);
            if (json_is_string(m) && in(want, json_string_value(m), json_string_length(m)))
                return 1;
        }
    return 0;
}

static void check_quoting(apr_pool_t *p, const char *value)
{
    const char *q = cka_quoted_string(p, value);
    size_t n = strlen(q);
    FZ_CHECK(n >= 2 && q[0] == '"' && q[n - 1] == '"', "not a quoted-string");
    const char *v = value;
    for (size_t i = 1; i < n - 1; i++, v++) {
        char c = q[i];
        FZ_CHECK(c != '"', "an unescaped quote ends the quoted-string early");
        if (c == '\\') {
            c = q[++i];
            FZ_CHECK(i < n - 1, "a backslash escapes the closing quote");
        }
        FZ_CHECK((unsigned char)c >= 0x20 && c != 0x7f, "a control character in a header value");
        char want = ((unsigned char)*v < 0x20 || *v == 0x7f) ? '?' : *v;
        FZ_CHECK(c == want, "the quoted value reads back changed");
    }
    FZ_CHECK(*v == '\0', "the quoted value reads back shorter");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p;
    apr_pool_create(&p, fz_root);
    const uint8_t *words_part, *rest;
    size_t words_len, rlen;
    const char *words = "a ab";
    if (fz_split(data, size, &words_part, &words_len, &rest, &rlen))
        words = fz_strndup(p, words_part, words_len);
    else {
        rest = data;
        rlen = size;
    }
    apr_array_header_t *want = apr_array_make(p, 4, sizeof(const char *));
    char *last, *copy = apr_pstrdup(p, words), *w;
    for (w = apr_strtok(copy, " ", &last); w; w = apr_strtok(NULL, " ", &last))
        APR_ARRAY_PUSH(want, const char *) = w;

    check_quoting(p, words);
    check_quoting(p, cka_words_join(p, want));
    const char *c = cka_auth_param(p, "Bearer", "scope", words);
    FZ_CHECK(strncmp(c, "Bearer scope=\"", 14) == 0, "auth-param shape");

    char *json = malloc(rlen ? rlen : 1);
    memcpy(json, rest, rlen);
    json_t *claims = cka_json_parse_object(p, json, rlen, NULL);
    free(json);
    if (claims != NULL) {
        int ref = ref_claim(p, json_object_get(claims, "scope"), want)
               || ref_claim(p, json_object_get(claims, "scp"), want);
        FZ_CHECK(cka_scopes_grant(claims, want) == ref, "scope answer differs from the reference");
        const json_t *acr = json_object_get(claims, "acr");
        int ref_acr = json_is_string(acr) && in(want, json_string_value(acr),
                                                 json_string_length(acr));
        FZ_CHECK(cka_acr_grant(claims, want) == ref_acr, "acr answer differs from the reference");
        const json_t *at = json_object_get(claims, "auth_time");
        if (cka_auth_time_ok(claims, 1700000000LL, 300, 60))
            FZ_CHECK(json_is_integer(at) && json_integer_value(at) >= 1700000000LL - 360,
                     "auth_time_ok without a recent integer auth_time");
        for (int i = 0; i < want->nelts; i++)
            (void)cka_scope_token_valid(APR_ARRAY_IDX(want, i, const char *));
    }
    apr_pool_destroy(p);
    return 0;
}
