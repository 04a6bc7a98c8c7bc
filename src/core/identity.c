/* identity.c - extract the identity handed on from verified claims. */
#include "identity.h"
#include "claim_path.h"
#include <string.h>
#include <apr_strings.h>

static const char *string_claim(const json_t *claims, const char *path)
{
    json_t *v = path ? cka_claim_lookup(claims, path) : NULL;
    return (json_is_string(v) && json_string_length(v) > 0) ? json_string_value(v) : NULL;
}

cka_reason_t cka_identity_extract(apr_pool_t *p, const json_t *claims,
                                  const cka_identity_spec_t *spec,
                                  cka_identity_t *out)
{
    memset(out, 0, sizeof(*out));
    const char *sep = spec->separator ? spec->separator : ",";
    for (int i = 0; spec->user_claims && i < spec->user_claims->nelts && !out->user; i++)
        out->user = string_claim(claims, APR_ARRAY_IDX(spec->user_claims, i, const char *));
    if (out->user == NULL)
        return CKA_NO_USER;
    out->email = string_claim(claims, spec->email_claim ? spec->email_claim : "email");
    out->subject = string_claim(claims, "sub");
    out->issuer = string_claim(claims, "iss");
    json_t *exp = json_object_get(claims, "exp");
    out->expires = json_is_integer(exp) ? (long long)json_integer_value(exp) : 0;

    const char *gpath = spec->groups_claim ? spec->groups_claim : "groups";
    json_t *g = cka_claim_lookup(claims, gpath);
    if (g != NULL)
        out->groups = cka_claim_to_list_text(p, g, sep);   /* "a,b" is one group */
    else {
        /* Azure AD / Entra ID: too many groups to fit, a pointer instead. */
        json_t *names = json_object_get(claims, "_claim_names");
        if (json_is_object(names) && json_object_get(names, "groups") != NULL)
            out->groups_overage = 1;
    }

    out->extra = apr_table_make(p, 4);
    for (int i = 0; spec->extra_paths && i < spec->extra_paths->nelts; i++) {
        const char *path = APR_ARRAY_IDX(spec->extra_paths, i, const char *);
        char *t = cka_claim_to_text(p, cka_claim_lookup(claims, path), sep);
        if (t != NULL)
            apr_table_setn(out->extra, path, t);
    }
    return CKA_OK;
}

const char *cka_header_safe(apr_pool_t *p, const char *v)
{
    size_t bad = 0, n = 0;
    for (const unsigned char *s = (const unsigned char *)v; *s; s++, n++)
        if (*s < 0x20 || *s == 0x7f)
            bad++;
    if (bad == 0)
        return v;
    char *out = apr_palloc(p, n + bad * 3 + 1), *o = out;
    for (const unsigned char *s = (const unsigned char *)v; *s; s++) {
        if (*s < 0x20 || *s == 0x7f) {
            static const char hex[] = "0123456789abcdef";
            *o++ = '\\';
            *o++ = 'x';
            *o++ = hex[*s >> 4];
            *o++ = hex[*s & 15];
        }
        else
            *o++ = (char)*s;
    }
    *o = '\0';
    return out;
}
