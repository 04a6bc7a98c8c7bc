/* fuzz_claim_path.c - claim paths and joined claim text:
 * cka_claim_lookup, cka_claim_to_text, cka_claim_matches, and the identity
 * extraction that uses them, on claims parsed by the strict JSON parser.
 *
 * Input: "<path>\0<separator>\0<want>\0<claims JSON>"; missing parts take
 * defaults (path "groups", separator ",", want "admin"). A separator the
 * configuration would refuse (empty, over 8 bytes, a backslash or a
 * control character) is replaced by ",".
 *
 * Invariants: a member named by the whole path wins; joined text splits
 * back into exactly the members (the escaping must make it unambiguous,
 * as claim_path.h promises); env/header-safe text has no control
 * characters.
 *
 * FUZZ_SKIP_KNOWN=1 in the environment skips the split-back check, only
 * to fuzz the rest of this target while the open separator bug
 * (tests/fuzz/regressions/README.md) is unfixed; build/fuzz.sh never sets
 * it on its own. */
#include <stdlib.h>
#include <string.h>
#include <apr_strings.h>
#include <apr_tables.h>
#include "fuzz_common.h"
#include "claim_path.h"
#include "identity.h"
#include "json_util.h"

static int skip_join_check;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    const char *e = getenv("FUZZ_SKIP_KNOWN");
    skip_join_check = e != NULL && strcmp(e, "1") == 0;
    fz_init_begin();
    fz_apr_init();
    fz_init_end();
    return 0;
}

static int valid_separator(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 8)
        return 0;
    for (; *s; s++)
        if (*s == '\\' || (unsigned char)*s < 0x20 || *s == 0x7f)
            return 0;
    return 1;
}

/* The text one array member becomes (as documented), or NULL (skipped). */
static const char *member_text(apr_pool_t *p, const json_t *m)
{
    if (json_is_null(m))
        return NULL;
    if (json_is_string(m))
        return json_string_value(m);
    if (json_is_true(m))
        return "true";
    if (json_is_false(m))
        return "false";
    return cka_json_compact(p, m);
}

/* Split joined text back: an unescaped separator splits, a backslash takes
 * the separator or a backslash after it literally. */
static apr_array_header_t *split_back(apr_pool_t *p, const char *s, const char *sep)
{
    /* The documented rule: a backslash escapes the next character (a
     * backslash or the separator's first character); an unescaped first
     * character always starts a whole separator. */
    apr_array_header_t *out = apr_array_make(p, 8, sizeof(char *));
    apr_array_header_t *cur = apr_array_make(p, 64, 1);
    size_t sl = strlen(sep);
    while (*s) {
        if (*s == '\\') {
            if (s[1] == '\\' || (s[1] != '\0' && s[1] == sep[0])) {
                APR_ARRAY_PUSH(cur, char) = s[1];
                s += 2;
            }
            else
                fz_fail(__FILE__, __LINE__, "joined text has a backslash that escapes nothing");
        }
        else if (*s == sep[0]) {
            if (strncmp(s, sep, sl) != 0)
                fz_fail(__FILE__, __LINE__, "unescaped separator character outside a separator");
            APR_ARRAY_PUSH(cur, char) = '\0';
            APR_ARRAY_PUSH(out, char *) = cur->elts;
            cur = apr_array_make(p, 64, 1);
            s += sl;
        }
        else
            APR_ARRAY_PUSH(cur, char) = *s++;
    }
    APR_ARRAY_PUSH(cur, char) = '\0';
    APR_ARRAY_PUSH(out, char *) = cur->elts;
    return out;
}

static void check_joined(apr_pool_t *p, const json_t *v, const char *sep, const char *text)
{
    if (!json_is_array(v) || skip_join_check)
        return;
    apr_array_header_t *want = apr_array_make(p, 8, sizeof(const char *));
    size_t i;
    json_t *m;
    json_array_foreach(v, i, m) {
        const char *t = member_text(p, m);
        if (t != NULL)
            APR_ARRAY_PUSH(want, const char *) = t;
    }
    FZ_CHECK(text != NULL, "an array rendered as NULL");
    if (want->nelts == 0) {
        FZ_CHECK(*text == '\0', "an empty array rendered as non-empty text");
        return;
    }
    apr_array_header_t *got = split_back(p, text, sep);
    if (got->nelts != want->nelts) {
        fprintf(stderr, "separator \"%s\": %d members joined, %d read back from \"%s\"\n",
                sep, want->nelts, got->nelts, text);
        fz_fail(__FILE__, __LINE__, "joined claim text is ambiguous: members do not split back");
    }
    for (int k = 0; k < want->nelts; k++)
        if (strcmp(APR_ARRAY_IDX(got, k, char *), APR_ARRAY_IDX(want, k, const char *)) != 0) {
            fprintf(stderr, "separator \"%s\": member %d \"%s\" read back as \"%s\" from \"%s\"\n",
                    sep, k, APR_ARRAY_IDX(want, k, const char *), APR_ARRAY_IDX(got, k, char *), text);
            fz_fail(__FILE__, __LINE__, "joined claim text is ambiguous: a member reads back changed");
        }
}

static void check_safe(const char *s)
{
    for (const unsigned char *c = (const unsigned char *)s; c && *c; c++)
        FZ_CHECK(*c >= 0x20 && *c != 0x7f, "cka_header_safe left a control character");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p;
    apr_pool_create(&p, fz_root);
    const uint8_t *part[4], *rest = data;
    size_t plen[4], rlen = size;
    int n = 0;
    for (; n < 3; n++) {
        if (!fz_split(rest, rlen, &part[n], &plen[n], &rest, &rlen))
            break;
    }
    /* n parts were NUL-terminated; what is left is the JSON */
    const char *path = n > 0 ? fz_strndup(p, part[0], plen[0]) : "groups";
    const char *sep = n > 1 ? fz_strndup(p, part[1], plen[1]) : ",";
    const char *want = n > 2 ? fz_strndup(p, part[2], plen[2]) : "admin";
    if (!valid_separator(sep))
        sep = ",";
    char *json = malloc(rlen ? rlen : 1);
    memcpy(json, rest, rlen);
    json_t *claims = cka_json_parse_object(p, json, rlen, NULL);
    free(json);
    if (claims == NULL) {
        apr_pool_destroy(p);
        return 0;
    }

    json_t *v = cka_claim_lookup(claims, path);
    json_t *whole = json_object_get(claims, path);
    if (whole != NULL && *path != '\0')
        FZ_CHECK(v == whole, "a member named by the whole path did not win");
    if (*path == '\0')
        FZ_CHECK(v == NULL, "the empty path found something");
    char *text = cka_claim_to_text(p, v, sep);
    FZ_CHECK((text == NULL) == (v == NULL || json_is_null(v)), "NULL text iff no value");
    if (json_is_string(v))
        FZ_CHECK(strcmp(text, json_string_value(v)) == 0, "a string claim rendered changed");
    check_joined(p, v, sep, text);
    int match = cka_claim_matches(v, want);
    if (json_is_string(v))
        FZ_CHECK(match == (strcmp(json_string_value(v), want) == 0), "string match");
    check_safe(cka_header_safe(p, text ? text : ""));

    /* The identity the glue would hand on with this path as groups claim. */
    apr_array_header_t *users = apr_array_make(p, 2, sizeof(const char *));
    APR_ARRAY_PUSH(users, const char *) = path;
    APR_ARRAY_PUSH(users, const char *) = "email";
    apr_array_header_t *extra = apr_array_make(p, 1, sizeof(const char *));
    APR_ARRAY_PUSH(extra, const char *) = path;
    cka_identity_spec_t spec = { users, "email", path, sep, extra };
    cka_identity_t id;
    if (cka_identity_extract(p, claims, &spec, &id) == CKA_OK) {
        FZ_CHECK(id.user && *id.user, "identity without a user");
        if (v != NULL && !json_is_null(v)) {
            /* Groups are a list: a single value is a list of one, escaped
             * like an array member ("a,b" is one group, a\,b). */
            char *list = cka_claim_to_list_text(p, v, sep);
            FZ_CHECK(list != NULL && id.groups && strcmp(id.groups, list) == 0,
                     "groups text differs from the claim's list text");
            if (json_is_array(v))
                FZ_CHECK(strcmp(list, text) == 0, "an array's list text differs from its text");
            else {
                /* One member, that splits back to exactly the value. */
                json_t *one = json_array();
                json_array_append(one, v);
                check_joined(p, one, sep, list);
                json_decref(one);
            }
            FZ_CHECK(strcmp(apr_table_get(id.extra, path), text) == 0, "extra claim text differs");
        }
        check_safe(cka_header_safe(p, id.user));
        check_safe(cka_header_safe(p, id.groups ? id.groups : ""));
    }
    apr_pool_destroy(p);
    return 0;
}
