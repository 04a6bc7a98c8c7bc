/* config.c - the configuration records: create and merge generated from
 * CKA_SRV_MEMBERS and CKA_DIR_MEMBERS, the defaults of the lists, lookups,
 * and the argument checks the directive families share. The directives
 * themselves: directives.c (the table) and config_*.c (by family). */
#include "config.h"

/* ---- create / merge ------------------------------------------------------*/
#define UNSET_INT  CKA_UNSET
#define UNSET_STR  NULL
#define UNSET_LIST NULL
#define UNSET_ADD  NULL

void *cka_create_dir_conf(apr_pool_t *p, char *dir)
{
    cka_dir_conf_t *c = apr_pcalloc(p, sizeof(*c));
#define CKA_X_INIT(kind, type, name, def) c->name = UNSET_##kind;
    CKA_DIR_MEMBERS(CKA_X_INIT)
#undef CKA_X_INIT
    return c;
}

static apr_array_header_t *append_lists(apr_pool_t *p, const apr_array_header_t *a,
                                        const apr_array_header_t *b)
{
    if (a == NULL)
        return (apr_array_header_t *)b;
    if (b == NULL)
        return (apr_array_header_t *)a;
    return apr_array_append(p, a, b);
}

#define MERGE_INT(name)  m->name = (add->name != CKA_UNSET) ? add->name : base->name;
#define MERGE_STR(name)  m->name = add->name ? add->name : base->name;
#define MERGE_LIST(name) m->name = add->name ? add->name : base->name;
#define MERGE_ADD(name)  m->name = append_lists(p, base->name, add->name);

static void make_policy(const cka_dir_conf_t *c, cka_policy_t *pol)
{
    memset(pol, 0, sizeof(*pol));
    pol->audiences = c->audiences;
    pol->any_audience = c->audiences->nelts == 1
        && strcmp(APR_ARRAY_IDX(c->audiences, 0, const char *), "*") == 0;
    pol->types = c->require_types;
    pol->skew = cka_clock_skew(c);
    pol->max_lifetime = cka_max_token_lifetime(c);
}

void cka_dir_policy(const cka_dir_conf_t *dc, const cka_srv_conf_t *sc, cka_policy_t *out)
{
    if (dc->has_policy)
        *out = dc->policy;
    else
        make_policy(dc, out);
    out->algs = cka_srv_algs(sc);
}

static void derive(apr_pool_t *p, cka_dir_conf_t *c)
{
    if (c->audiences != NULL) {
        make_policy(c, &c->policy);
        c->has_policy = 1;
    }
    c->extra_paths = apr_array_make(p, 2, sizeof(const char *));
    for (int i = 0; c->claim_env && i < c->claim_env->nelts; i++)
        APR_ARRAY_PUSH(c->extra_paths, const char *) =
            APR_ARRAY_IDX(c->claim_env, i, cka_claim_env_t *)->claim;
    for (int i = 0; c->id_headers && i < c->id_headers->nelts; i++) {
        cka_id_header_t *h = APR_ARRAY_IDX(c->id_headers, i, cka_id_header_t *);
        if (h->field == CKA_FIELD_CLAIM)
            APR_ARRAY_PUSH(c->extra_paths, const char *) = h->claim;
    }
}

void *cka_merge_dir_conf(apr_pool_t *p, void *basev, void *addv)
{
    cka_dir_conf_t *base = basev, *add = addv;
    cka_dir_conf_t *m = apr_pcalloc(p, sizeof(*m));
#define CKA_X_MERGE(kind, type, name, def) MERGE_##kind(name)
    CKA_DIR_MEMBERS(CKA_X_MERGE)
#undef CKA_X_MERGE
    derive(p, m);
    return m;
}

#define UNSET_BITS 0
#define MERGE_BITS(name) m->name = add->name ? add->name : base->name;

void *cka_create_srv_conf(apr_pool_t *p, server_rec *s)
{
    cka_srv_conf_t *c = apr_pcalloc(p, sizeof(*c));
#define CKA_X_INIT(kind, type, name, def) c->name = UNSET_##kind;
    CKA_SRV_MEMBERS(CKA_X_INIT)
#undef CKA_X_INIT
    c->bindings = NULL;
    c->is_bindings = NULL;
    return c;
}

void *cka_merge_srv_conf(apr_pool_t *p, void *basev, void *addv)
{
    cka_srv_conf_t *base = basev, *add = addv;
    cka_srv_conf_t *m = apr_pcalloc(p, sizeof(*m));
#define CKA_X_MERGE(kind, type, name, def) MERGE_##kind(name)
    CKA_SRV_MEMBERS(CKA_X_MERGE)
#undef CKA_X_MERGE
    m->bindings = NULL;         /* per server: made in post_config */
    m->is_bindings = NULL;
    return m;
}

/* Default lists as static arrays: no pool, nothing to rebuild on restart. */
#define STATIC_LIST(name, ...) \
    static const char *name##_words[] = { __VA_ARGS__ }; \
    static const apr_array_header_t name = { NULL, sizeof(const char *), \
        sizeof(name##_words) / sizeof(name##_words[0]), \
        sizeof(name##_words) / sizeof(name##_words[0]), (char *)name##_words };
STATIC_LIST(dflt_methods, "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")
STATIC_LIST(dflt_headers, "Authorization", "Content-Type", "DPoP")
STATIC_LIST(dflt_expose, "WWW-Authenticate", "DPoP-Nonce")
STATIC_LIST(dflt_user_claims, "email")

const apr_array_header_t *cka_user_claims(const cka_dir_conf_t *c)
{
    return c->user_claims ? c->user_claims : &dflt_user_claims;
}

const apr_array_header_t *cka_cors_methods(const cka_dir_conf_t *c)
{
    return c->cors_methods ? c->cors_methods : &dflt_methods;
}

const apr_array_header_t *cka_cors_headers(const cka_dir_conf_t *c)
{
    return c->cors_headers ? c->cors_headers : &dflt_headers;
}

const apr_array_header_t *cka_cors_expose(const cka_dir_conf_t *c)
{
    return c->cors_expose ? c->cors_expose : &dflt_expose;
}

const cka_issuer_t *cka_find_issuer(const cka_srv_conf_t *s, const char *iss)
{
    for (int i = 0; s->issuers && i < s->issuers->nelts; i++) {
        const cka_issuer_t *is = APR_ARRAY_IDX(s->issuers, i, const cka_issuer_t *);
        if (strcmp(is->iss, iss) == 0)
            return is;
    }
    return NULL;
}

const cka_introspect_conf_t *cka_find_introspect(const cka_srv_conf_t *s, const char *iss)
{
    for (int i = 0; s->introspects && i < s->introspects->nelts; i++) {
        const cka_introspect_conf_t *ic = APR_ARRAY_IDX(s->introspects, i,
                                                        const cka_introspect_conf_t *);
        if (strcmp(ic->iss, iss) == 0)
            return ic;
    }
    return NULL;
}

/* ---- argument checks shared by several directives -------------------------*/
const char *cka_conf_err(cmd_parms *cmd, const char *fmt, const char *arg,
                         const char *accepted)
{
    return apr_psprintf(cmd->pool, "%s: %s '%s'; accepted: %s", cmd->cmd->name,
                        fmt, arg, accepted);
}

const char *cka_conf_seconds(cmd_parms *cmd, const char *arg, int lo, int hi, int *out)
{
    char *end;
    apr_int64_t v;
    errno = 0;
    v = apr_strtoi64(arg, &end, 10);
    if (*arg == '\0' || *end != '\0' || errno != 0 || v < lo || v > hi)
        return cka_conf_err(cmd, "invalid number of seconds", arg,
                            apr_psprintf(cmd->pool, "a whole number from %d to %d", lo, hi));
    *out = (int)v;
    return NULL;
}

/* An HTTP field name: one RFC 7230 token, nothing after it. */
int cka_conf_is_header(const char *s)
{
    return *s != '\0' && *ap_scan_http_token(s) == '\0';
}

/* A control character or a space anywhere in s. */
int cka_conf_has_ctl(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s <= 0x20 || *s == 0x7f)
            return 1;
    return 0;
}

/* Append v to the list *a, made on first use. */
void cka_conf_push(apr_array_header_t **a, apr_pool_t *p, const char *v)
{
    if (*a == NULL)
        *a = apr_array_make(p, 2, sizeof(const char *));
    APR_ARRAY_PUSH(*a, const char *) = v;
}

/* A value sent to an IdP endpoint: not empty, at most 2048 bytes, no
 * control character. */
int cka_conf_value_ok(const char *v)
{
    if (*v == '\0' || strlen(v) > 2048)
        return 0;
    for (; *v; v++)
        if ((unsigned char)*v < 0x20 || *v == 0x7f)
            return 0;
    return 1;
}

