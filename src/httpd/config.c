/* config.c - directives: parse and validate at config time; create and
 * merge generated from CKA_DIR_MEMBERS. */
#include "config.h"
#include <apr_lib.h>
#include <apr_file_info.h>
#include "cors.h"
#include "shared_cache.h"

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

/* ---- argument checks shared by several directives -------------------------*/
static const char *err(cmd_parms *cmd, const char *fmt, const char *arg,
                       const char *accepted)
{
    return apr_psprintf(cmd->pool, "%s: %s '%s'; accepted: %s", cmd->cmd->name,
                        fmt, arg, accepted);
}

static const char *parse_seconds(cmd_parms *cmd, const char *arg, int lo, int hi,
                                 int *out)
{
    char *end;
    apr_int64_t v;
    errno = 0;
    v = apr_strtoi64(arg, &end, 10);
    if (*arg == '\0' || *end != '\0' || errno != 0 || v < lo || v > hi)
        return err(cmd, "invalid number of seconds", arg,
                   apr_psprintf(cmd->pool, "a whole number from %d to %d", lo, hi));
    *out = (int)v;
    return NULL;
}

/* An HTTP field name: one RFC 7230 token, nothing after it. */
static int is_header_name(const char *s)
{
    return *s != '\0' && *ap_scan_http_token(s) == '\0';
}

static int has_ctl_or_space(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s <= 0x20 || *s == 0x7f)
            return 1;
    return 0;
}

static void push(apr_array_header_t **a, apr_pool_t *p, const char *v)
{
    if (*a == NULL)
        *a = apr_array_make(p, 2, sizeof(const char *));
    APR_ARRAY_PUSH(*a, const char *) = v;
}

/* ---- server scope directives ----------------------------------------------*/
static const char *set_issuer(cmd_parms *cmd, void *dc, const char *iss,
                              const char *keys)
{
    cka_srv_conf_t *s = ap_get_module_config(cmd->server->module_config,
                                             &conduktor_auth_module);
    if (*iss == '\0' || has_ctl_or_space(iss))
        return err(cmd, "invalid issuer", iss, "the exact iss value of the IdP, without spaces");
    if (s->issuers && cka_find_issuer(s, iss))
        return err(cmd, "duplicate issuer", iss, "each issuer once per server");
    cka_issuer_t *is = apr_pcalloc(cmd->pool, sizeof(*is));
    is->iss = iss;
    if (keys == NULL) {
        if (ap_cstr_casecmpn(iss, "https://", 8) != 0)
            return err(cmd, "OIDC discovery needs an https:// issuer, not", iss,
                       "an https:// issuer, or give the keys: an https:// JWKS URL or file:/path");
        if (strlen(iss) > 1900)
            return err(cmd, "issuer too long", iss, "at most 1900 characters");
        is->kind = CKA_KEYS_DISCOVERY;
    }
    else if (strncmp(keys, "file:", 5) == 0) {
        char *why = NULL;
        const char *path = ap_server_root_relative(cmd->pool, keys + 5);
        if (keys[5] == '\0' || path == NULL)
            return err(cmd, "invalid key file", keys, "file:/path/to/jwks.json or file:/path/to/key.pem");
        is->kind = CKA_KEYS_FILE;
        is->source = path;
        is->static_keys = cka_keyset_load_file(cmd->pool, path, &why);
        is->loaded_at = apr_time_now();
        if (is->static_keys == NULL)
            return apr_psprintf(cmd->pool, "%s: cannot load keys for issuer '%s': %s",
                                cmd->cmd->name, iss, why);
    }
    else if (ap_cstr_casecmpn(keys, "https://", 8) == 0 && keys[8] != '\0'
             && !has_ctl_or_space(keys) && strlen(keys) < 2000) {
        is->kind = CKA_KEYS_URL;
        is->source = keys;
    }
    else
        return err(cmd, "invalid key source", keys,
                   "an https:// JWKS URL, file:/path (JWKS JSON or PEM), or nothing for OIDC discovery");
    if (s->issuers == NULL)
        s->issuers = apr_array_make(cmd->pool, 2, sizeof(cka_issuer_t *));
    APR_ARRAY_PUSH(s->issuers, cka_issuer_t *) = is;
    return NULL;
}

static const char *set_algorithms(cmd_parms *cmd, void *dc, const char *arg)
{
    cka_srv_conf_t *s = ap_get_module_config(cmd->server->module_config,
                                             &conduktor_auth_module);
    if (ap_cstr_casecmp(arg, "none") == 0)
        return err(cmd, "algorithm 'none' is never accepted:", arg, cka_alg_all_names());
    cka_alg_t a = cka_alg_from_name(arg);
    if (a == CKA_ALG_UNKNOWN)
        return err(cmd, "unknown algorithm", arg, cka_alg_all_names());
    s->algs |= CKA_ALG_BIT(a);
    return NULL;
}

#define SRV_SECONDS(fn, member, lo, hi) \
static const char *fn(cmd_parms *cmd, void *dc, const char *arg) \
{ \
    cka_srv_conf_t *s = ap_get_module_config(cmd->server->module_config, \
                                             &conduktor_auth_module); \
    return parse_seconds(cmd, arg, lo, hi, &s->member); \
}
SRV_SECONDS(set_jwks_refresh, jwks_refresh, 60, 86400)
SRV_SECONDS(set_miss_refetch, miss_refetch, 1, 86400)
SRV_SECONDS(set_http_timeout, http_timeout, 1, 300)
SRV_SECONDS(set_introspect_ttl, introspect_ttl, 1, 86400)

static const char *set_ca_file(cmd_parms *cmd, void *dc, const char *arg)
{
    cka_srv_conf_t *s = ap_get_module_config(cmd->server->module_config,
                                             &conduktor_auth_module);
    apr_finfo_t fi;
    const char *path = ap_server_root_relative(cmd->pool, arg);
    if (path == NULL || apr_stat(&fi, path, APR_FINFO_TYPE, cmd->pool) != APR_SUCCESS
        || fi.filetype != APR_REG)
        return err(cmd, "CA file not found or not a regular file", arg,
                   "a readable PEM file of trust anchors");
    s->ca_file = path;
    return NULL;
}

/* ---- directory scope directives -------------------------------------------*/
static const char *set_audience(cmd_parms *cmd, void *dcv, const char *arg)
{
    cka_dir_conf_t *c = dcv;
    if (*arg == '\0')
        return err(cmd, "empty audience", arg, "one or more audience values, or * alone");
    int star = strcmp(arg, "*") == 0;
    int had_star = c->audiences && c->audiences->nelts > 0
        && strcmp(APR_ARRAY_IDX(c->audiences, 0, const char *), "*") == 0;
    if ((star && c->audiences && c->audiences->nelts > 0) || had_star)
        return err(cmd, "'*' cannot be mixed with other audiences:", arg,
                   "one or more audience values, or * alone to disable the check");
    push(&c->audiences, cmd->pool, arg);
    return NULL;
}

static const char *set_skew(cmd_parms *cmd, void *dcv, const char *arg)
{
    return parse_seconds(cmd, arg, 0, 3600, &((cka_dir_conf_t *)dcv)->clock_skew);
}

static const char *set_require_type(cmd_parms *cmd, void *dcv, const char *arg)
{
    if (*arg == '\0' || has_ctl_or_space(arg))
        return err(cmd, "invalid typ", arg, "JWT header typ values such as at+jwt or JWT");
    push(&((cka_dir_conf_t *)dcv)->require_types, cmd->pool, arg);
    return NULL;
}

static const char *set_token_header(cmd_parms *cmd, void *dcv, const char *arg)
{
    if (!is_header_name(arg))
        return err(cmd, "invalid header name", arg, "an HTTP header name such as Authorization or X-Access-Token");
    ((cka_dir_conf_t *)dcv)->token_header = arg;
    return NULL;
}

static const char *check_claim_path(cmd_parms *cmd, const char *arg)
{
    if (*arg == '\0' || has_ctl_or_space(arg) || arg[0] == '.'
        || arg[strlen(arg) - 1] == '.')
        return err(cmd, "invalid claim path", arg,
                   "a claim name or dotted path such as email, realm_access.roles, cognito:groups");
    return NULL;
}

static const char *set_user_claim(cmd_parms *cmd, void *dcv, const char *arg)
{
    const char *e = check_claim_path(cmd, arg);
    if (e)
        return e;
    push(&((cka_dir_conf_t *)dcv)->user_claims, cmd->pool, arg);
    return NULL;
}

static const char *set_email_claim(cmd_parms *cmd, void *dcv, const char *arg)
{
    const char *e = check_claim_path(cmd, arg);
    if (!e)
        ((cka_dir_conf_t *)dcv)->email_claim = arg;
    return e;
}

static const char *set_groups_claim(cmd_parms *cmd, void *dcv, const char *arg)
{
    const char *e = check_claim_path(cmd, arg);
    if (!e)
        ((cka_dir_conf_t *)dcv)->groups_claim = arg;
    return e;
}

static const char *set_separator(cmd_parms *cmd, void *dcv, const char *arg)
{
    if (*arg == '\0' || strchr(arg, '\\') || strlen(arg) > 8)
        return err(cmd, "invalid separator", arg,
                   "1 to 8 characters, no backslash (the escape character)");
    for (const char *s = arg; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return err(cmd, "invalid separator (control character)", arg,
                       "1 to 8 printable characters");
    ((cka_dir_conf_t *)dcv)->groups_separator = arg;
    return NULL;
}

static int is_env_name(const char *s)
{
    if (!(apr_isalpha(*s) || *s == '_'))
        return 0;
    for (; *s; s++)
        if (!(apr_isalnum(*s) || *s == '_'))
            return 0;
    return 1;
}

static const char *set_claim_env(cmd_parms *cmd, void *dcv, const char *claim,
                                 const char *var)
{
    cka_dir_conf_t *c = dcv;
    const char *e = check_claim_path(cmd, claim);
    if (e)
        return e;
    if (!is_env_name(var))
        return err(cmd, "invalid variable name", var, "letters, digits and _, not starting with a digit");
    if (strcmp(var, "REMOTE_USER") == 0 || strncmp(var, "CONDUKTOR_AUTH_", 15) == 0)
        return err(cmd, "variable is set by the module itself:", var, "another name");
    cka_claim_env_t *ce = apr_pcalloc(cmd->pool, sizeof(*ce));
    ce->claim = claim;
    ce->var = var;
    if (c->claim_env == NULL)
        c->claim_env = apr_array_make(cmd->pool, 2, sizeof(cka_claim_env_t *));
    APR_ARRAY_PUSH(c->claim_env, cka_claim_env_t *) = ce;
    push(&c->extra_paths, cmd->pool, claim);
    return NULL;
}

static const char *const reserved_headers[] = {
    "authorization", "host", "content-length", "transfer-encoding", "connection",
    "cookie", "upgrade", "te", "trailer", "keep-alive", "proxy-authorization",
    "expect", NULL
};

static const char *set_identity_header(cmd_parms *cmd, void *dcv, const char *field,
                                       const char *header)
{
    cka_dir_conf_t *c = dcv;
    cka_id_header_t *h = apr_pcalloc(cmd->pool, sizeof(*h));
    static const char *accepted = "user, email, groups, subject or claim:<path>";
    if (strcmp(field, "user") == 0) h->field = CKA_FIELD_USER;
    else if (strcmp(field, "email") == 0) h->field = CKA_FIELD_EMAIL;
    else if (strcmp(field, "groups") == 0) h->field = CKA_FIELD_GROUPS;
    else if (strcmp(field, "subject") == 0) h->field = CKA_FIELD_SUBJECT;
    else if (strncmp(field, "claim:", 6) == 0) {
        const char *e = check_claim_path(cmd, field + 6);
        if (e)
            return e;
        h->field = CKA_FIELD_CLAIM;
        h->claim = field + 6;
        push(&c->extra_paths, cmd->pool, h->claim);
    }
    else
        return err(cmd, "unknown identity field", field, accepted);
    if (!is_header_name(header))
        return err(cmd, "invalid header name", header, "an HTTP header name such as X-Auth-User");
    for (int i = 0; reserved_headers[i]; i++)
        if (ap_cstr_casecmp(header, reserved_headers[i]) == 0)
            return err(cmd, "header cannot carry the identity:", header,
                       "a header of your own, such as X-Auth-Email");
    h->header = header;
    if (c->id_headers == NULL)
        c->id_headers = apr_array_make(cmd->pool, 2, sizeof(cka_id_header_t *));
    APR_ARRAY_PUSH(c->id_headers, cka_id_header_t *) = h;
    return NULL;
}

static const char *set_opaque_tokens(cmd_parms *cmd, void *dcv, const char *arg,
                                     const char *iss)
{
    cka_dir_conf_t *dc = dcv;
    static const char *accepted = "refuse, pass, or introspect <issuer>";
    if (strcmp(arg, "introspect") == 0) {
        if (iss == NULL || *iss == '\0' || has_ctl_or_space(iss))
            return err(cmd, "introspect needs the issuer whose ConduktorAuthIntrospect "
                       "asks, not", iss ? iss : "", accepted);
        dc->opaque_tokens = CKA_OPAQUE_INTROSPECT;
        dc->opaque_issuer = iss;
        return NULL;
    }
    if (iss != NULL)
        return err(cmd, "only introspect takes an issuer; not", iss, accepted);
    if (strcmp(arg, "refuse") == 0)
        dc->opaque_tokens = CKA_OPAQUE_REFUSE;
    else if (strcmp(arg, "pass") == 0)
        dc->opaque_tokens = CKA_OPAQUE_PASS;
    else
        return err(cmd, "unknown value", arg, accepted);
    return NULL;
}

static const char *set_forward_token(cmd_parms *cmd, void *dcv, int on)
{
    ((cka_dir_conf_t *)dcv)->forward_token = on ? 1 : 0;
    return NULL;
}

/* ---- ConduktorAuthClientCredentials -----------------------------------------*/

/* A value sent to the token endpoint: not empty, no control character. */
static int cc_value_ok(const char *v)
{
    if (*v == '\0' || strlen(v) > 2048)
        return 0;
    for (; *v; v++)
        if ((unsigned char)*v < 0x20 || *v == 0x7f)
            return 0;
    return 1;
}

/* <token-endpoint> [scope=<s>] [resource=<uri>] [audience=<a>] */
static const char *set_client_credentials(cmd_parms *cmd, void *dcv, int argc,
                                          char *const argv[])
{
    static const char *usage = "<https://token-endpoint> [scope=<s>] [resource=<uri>] "
                               "[audience=<a>], each key at most once";
    if (argc < 1)
        return apr_psprintf(cmd->pool, "%s: the token endpoint is missing; accepted: %s",
                            cmd->cmd->name, usage);
    cka_cc_target_t *t = apr_pcalloc(cmd->pool, sizeof(*t));
    const char *ep = argv[0];
    if (ap_cstr_casecmpn(ep, "https://", 8) != 0 || ep[8] == '\0' || ep[8] == '/'
        || has_ctl_or_space(ep) || strchr(ep, '#') != NULL || strlen(ep) > 2048)
        return err(cmd, "invalid token endpoint", ep,
                   "an https:// URL without spaces or fragment, e.g. "
                   "https://idp.example.com/realms/x/protocol/openid-connect/token");
    t->endpoint = ep;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *eq = strchr(a, '=');
        const char **slot = NULL;
        if (eq == NULL)
            return err(cmd, "invalid parameter", a, usage);
        size_t kl = (size_t)(eq - a);
        if (kl == 5 && strncmp(a, "scope", 5) == 0)
            slot = &t->scope;
        else if (kl == 8 && strncmp(a, "resource", 8) == 0)
            slot = &t->resource;
        else if (kl == 8 && strncmp(a, "audience", 8) == 0)
            slot = &t->audience;
        else
            return err(cmd, "unknown parameter", a, usage);
        if (*slot != NULL)
            return err(cmd, "parameter given twice:", a, usage);
        const char *v = eq + 1;
        if (!cc_value_ok(v))
            return err(cmd, "empty or invalid value (control character, or longer than "
                       "2048)", a, usage);
        if (slot == &t->resource) {
            /* RFC 8707: an absolute URI without a fragment. */
            const char *colon = strchr(v, ':');
            int scheme_ok = colon != NULL && colon > v && apr_isalpha(*v);
            for (const char *c = v; scheme_ok && c < colon; c++)
                if (!(apr_isalnum(*c) || *c == '+' || *c == '-' || *c == '.'))
                    scheme_ok = 0;
            if (!scheme_ok || strchr(v, '#') != NULL || has_ctl_or_space(v))
                return err(cmd, "resource is not an absolute URI without fragment:", v,
                           "e.g. resource=https://conduktor.example.com");
        }
        *slot = v;
    }
    ((cka_dir_conf_t *)dcv)->client_creds = t;
    return NULL;
}


/* ---- ConduktorAuthIntrospect ------------------------------------------------*/

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

/* The path of a file:<path> value, or NULL. */
static const char *file_value(cmd_parms *cmd, const char *v)
{
    if (strncmp(v, "file:", 5) != 0 || v[5] == '\0')
        return NULL;
    return ap_server_root_relative(cmd->pool, v + 5);
}

/* <issuer> <endpoint>|discover client_id=<id> (secret=file:<path> |
 * private_key=file:<pem> | client_cert=file:<pem> client_key=file:<pem>)
 * [auth=basic|post] */
static const char *set_introspect(cmd_parms *cmd, void *dcv, int argc, char *const argv[])
{
    static const char *usage = "<issuer> <https://endpoint>|discover client_id=<id> "
        "(secret=file:<path> | private_key=file:<pem> | client_cert=file:<pem> "
        "client_key=file:<pem>) [auth=basic|post], each key at most once";
    cka_srv_conf_t *s = ap_get_module_config(cmd->server->module_config,
                                             &conduktor_auth_module);
    if (argc < 3)
        return apr_psprintf(cmd->pool, "%s: too few arguments; accepted: %s",
                            cmd->cmd->name, usage);
    cka_introspect_conf_t *ic = apr_pcalloc(cmd->pool, sizeof(*ic));
    ic->iss = argv[0];
    if (*ic->iss == '\0' || has_ctl_or_space(ic->iss))
        return err(cmd, "invalid issuer", ic->iss, "the issuer of a ConduktorAuthIssuer");
    if (s->introspects && cka_find_introspect(s, ic->iss))
        return err(cmd, "issuer given twice:", ic->iss, "one ConduktorAuthIntrospect per "
                   "issuer and server");
    const char *ep = argv[1];
    if (strcmp(ep, "discover") == 0) {
        if (ap_cstr_casecmpn(ic->iss, "https://", 8) != 0)
            return err(cmd, "discover needs an https:// issuer, not", ic->iss,
                       "an https:// issuer, or give the endpoint");
        ic->endpoint = NULL;
    }
    else if (ap_cstr_casecmpn(ep, "https://", 8) != 0 || ep[8] == '\0' || ep[8] == '/'
             || has_ctl_or_space(ep) || strchr(ep, '#') != NULL || strlen(ep) > 2048)
        return err(cmd, "invalid introspection endpoint", ep,
                   "an https:// URL without spaces or fragment, or discover");
    else
        ic->endpoint = ep;
    const char *secret = NULL, *pkey = NULL, *cert = NULL, *ckey = NULL, *auth = NULL;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i], *eq = strchr(a, '=');
        const char **slot = NULL;
        if (eq == NULL)
            return err(cmd, "invalid parameter", a, usage);
        size_t kl = (size_t)(eq - a);
#define KEY_IS(k) (kl == sizeof(k) - 1 && strncmp(a, k, kl) == 0)
        if (KEY_IS("client_id")) slot = &ic->client_id;
        else if (KEY_IS("secret")) slot = &secret;
        else if (KEY_IS("private_key")) slot = &pkey;
        else if (KEY_IS("client_cert")) slot = &cert;
        else if (KEY_IS("client_key")) slot = &ckey;
        else if (KEY_IS("auth")) slot = &auth;
        else
            return err(cmd, "unknown parameter", a, usage);
#undef KEY_IS
        if (*slot != NULL)
            return err(cmd, "parameter given twice:", a, usage);
        if (!cc_value_ok(eq + 1))
            return err(cmd, "empty or invalid value (control character, or longer than "
                       "2048)", a, usage);
        *slot = eq + 1;
    }
    if (ic->client_id == NULL)
        return apr_psprintf(cmd->pool, "%s: client_id=<id> is missing; accepted: %s",
                            cmd->cmd->name, usage);
    int methods = (secret != NULL) + (pkey != NULL) + (cert != NULL || ckey != NULL);
    if (methods != 1)
        return apr_psprintf(cmd->pool, "%s: give exactly one client authentication: "
                            "secret=file:<path>, private_key=file:<pem>, or client_cert= "
                            "and client_key= together; accepted: %s", cmd->cmd->name, usage);
    if (auth != NULL && secret == NULL)
        return err(cmd, "auth= goes with secret= only, not", auth, "auth=basic or auth=post "
                   "with secret=file:<path>");
    const char *why = NULL;
    if (secret != NULL) {
        const char *path = file_value(cmd, secret);
        if (path == NULL)
            return err(cmd, "the secret must come from a file:", "secret=...",
                       "secret=file:/path (the file holds the client secret)");
        if (auth == NULL || strcmp(auth, "basic") == 0)
            ic->auth = CKA_IS_AUTH_BASIC;
        else if (strcmp(auth, "post") == 0)
            ic->auth = CKA_IS_AUTH_POST;
        else
            return err(cmd, "unknown client authentication", auth, "auth=basic or auth=post");
        if (cka_is_read_secret(cmd->pool, path, &ic->secret, &ic->secret_len, &why) != 0)
            return apr_psprintf(cmd->pool, "%s: %s", cmd->cmd->name, why);
    }
    else if (pkey != NULL) {
        const char *path = file_value(cmd, pkey);
        if (path == NULL)
            return err(cmd, "the private key must come from a file:", "private_key=...",
                       "private_key=file:/path/key.pem");
        ic->auth = CKA_IS_AUTH_JWT;
        ic->key = cka_is_load_private_key(cmd->pool, path, &ic->key_alg, &why);
        if (ic->key == NULL)
            return apr_psprintf(cmd->pool, "%s: %s", cmd->cmd->name, why);
    }
    else {
        const char *cp = cert ? file_value(cmd, cert) : NULL;
        const char *kp = ckey ? file_value(cmd, ckey) : NULL;
        if (cp == NULL || kp == NULL)
            return apr_psprintf(cmd->pool, "%s: tls_client_auth needs both "
                                "client_cert=file:<pem> and client_key=file:<pem>",
                                cmd->cmd->name);
        ic->auth = CKA_IS_AUTH_TLS;
        if (cka_is_load_client_cert(cmd->pool, cp, kp, &ic->cert_pem, &ic->cert_len,
                                    &ic->cert_key_pem, &ic->cert_key_len, &why) != 0)
            return apr_psprintf(cmd->pool, "%s: %s", cmd->cmd->name, why);
    }
    ic->where = apr_psprintf(cmd->pool, "%s:%d", cmd->directive->filename,
                             cmd->directive->line_num);
    if (s->introspects == NULL)
        s->introspects = apr_array_make(cmd->pool, 2, sizeof(cka_introspect_conf_t *));
    APR_ARRAY_PUSH(s->introspects, cka_introspect_conf_t *) = ic;
    return NULL;
}

static const char *set_introspect_jwt(cmd_parms *cmd, void *dcv, int on)
{
    ((cka_dir_conf_t *)dcv)->introspect_jwt = on ? 1 : 0;
    return NULL;
}

static int introspect_missing(server_rec *v, const char *what)
{
    ap_log_error(APLOG_MARK, APLOG_EMERG, 0, v, CKA_LOG_PREFIX "%s", what);
    return HTTP_INTERNAL_SERVER_ERROR;
}

/* An OpaqueTokens introspect <issuer> of one section without a
 * ConduktorAuthIntrospect for that issuer in its server. */
static int check_opaque_section(apr_pool_t *ptemp, server_rec *v, const cka_srv_conf_t *sc,
                                const cka_dir_conf_t *c, const char *where)
{
    if (c == NULL || c->opaque_issuer == NULL || c->opaque_tokens != CKA_OPAQUE_INTROSPECT
        || cka_find_introspect(sc, c->opaque_issuer) != NULL)
        return OK;
    return introspect_missing(v, apr_psprintf(ptemp, "ConduktorAuthOpaqueTokens introspect "
        "%s in %s: no ConduktorAuthIntrospect for that issuer in this server",
        c->opaque_issuer, where));
}

int cka_check_introspect(apr_pool_t *ptemp, server_rec *s)
{
    for (server_rec *v = s; v; v = v->next) {
        const cka_srv_conf_t *sc = ap_get_module_config(v->module_config,
                                                        &conduktor_auth_module);
        for (int i = 0; sc->introspects && i < sc->introspects->nelts; i++) {
            const cka_introspect_conf_t *ic = APR_ARRAY_IDX(sc->introspects, i,
                                                            const cka_introspect_conf_t *);
            if (cka_find_issuer(sc, ic->iss) == NULL)
                return introspect_missing(v, apr_psprintf(ptemp, "ConduktorAuthIntrospect "
                    "%s (%s): the issuer is not a ConduktorAuthIssuer of this server; "
                    "accepted: an issuer configured with ConduktorAuthIssuer", ic->iss,
                    ic->where));
        }
        const char *where = v->is_virtual ? "a <VirtualHost>" : "the main server";
        int rv = check_opaque_section(ptemp, v, sc, ap_get_module_config(
            v->lookup_defaults, &conduktor_auth_module), where);
        core_server_config *csc = ap_get_core_module_config(v->module_config);
        apr_array_header_t *secs[2] = { csc->sec_url, csc->sec_dir };
        for (int k = 0; k < 2 && rv == OK; k++)
            for (int i = 0; secs[k] && i < secs[k]->nelts && rv == OK; i++) {
                ap_conf_vector_t *vec = APR_ARRAY_IDX(secs[k], i, ap_conf_vector_t *);
                core_dir_config *cd = ap_get_core_module_config(vec);
                rv = check_opaque_section(ptemp, v, sc,
                    ap_get_module_config(vec, &conduktor_auth_module),
                    apr_psprintf(ptemp, "<%s %s>", k == 0 ? "Location" : "Directory",
                                 cd->d ? cd->d : "?"));
            }
        if (rv != OK)
            return rv;
    }
    return OK;
}

/* ---- step-up and token lifetime ----------------------------------------------*/

/* ConduktorAuthMaxAge <seconds>|off: one rule per line, for the methods of
 * an enclosing <Limit>/<LimitExcept> (where httpd leaves other directives
 * unlimited, these are not). */
static const char *set_max_age(cmd_parms *cmd, void *dcv, const char *arg)
{
    cka_dir_conf_t *c = dcv;
    cka_max_age_t *m = apr_pcalloc(cmd->pool, sizeof(*m));
    if (ap_cstr_casecmp(arg, "off") == 0)
        m->seconds = -1;
    else {
        char *end;
        apr_int64_t v;
        errno = 0;
        v = apr_strtoi64(arg, &end, 10);
        if (*arg == '\0' || *end != '\0' || errno != 0 || v < 0 || v > 31536000)
            return err(cmd, "invalid maximum authentication age", arg,
                       "seconds from 0 to 31536000, or off");
        m->seconds = (int)v;
    }
    m->methods = cmd->limited;
    if (c->max_age == NULL)
        c->max_age = apr_array_make(cmd->pool, 2, sizeof(cka_max_age_t *));
    APR_ARRAY_PUSH(c->max_age, cka_max_age_t *) = m;
    return NULL;
}

static const char *set_max_lifetime(cmd_parms *cmd, void *dcv, const char *arg)
{
    cka_dir_conf_t *c = dcv;
    if (cmd->limited != -1)
        return apr_psprintf(cmd->pool, "%s: a token check holds for every method; "
                            "it cannot go in <Limit> or <LimitExcept> (use <If> on "
                            "%%{REQUEST_METHOD} for a check per method)", cmd->cmd->name);
    if (ap_cstr_casecmp(arg, "off") == 0) {
        c->max_token_lifetime = 0;
        return NULL;
    }
    char *end;
    apr_int64_t v;
    errno = 0;
    v = apr_strtoi64(arg, &end, 10);
    if (*arg == '\0' || *end != '\0' || errno != 0 || v < 1 || v > 31536000)
        return err(cmd, "invalid maximum token lifetime", arg,
                   "seconds from 1 to 31536000 (exp - iat), or off");
    c->max_token_lifetime = (int)v;
    return NULL;
}

/* ---- CORS ------------------------------------------------------------------*/
static int origins_have_any(const apr_array_header_t *a)
{
    for (int i = 0; a && i < a->nelts; i++)
        if (APR_ARRAY_IDX(a, i, const cka_origin_t *)->any)
            return 1;
    return 0;
}

static const char *set_cors_origin(cmd_parms *cmd, void *dcv, const char *arg)
{
    cka_dir_conf_t *c = dcv;
    cka_origin_t *o = apr_pcalloc(cmd->pool, sizeof(*o));
    const char *why = cka_origin_parse(cmd->pool, arg, o);
    if (why != NULL)
        return err(cmd, apr_pstrcat(cmd->pool, "invalid origin (", why, ")", NULL), arg,
                   "scheme://host[:port], scheme://*.domain[:port], null, or *");
    if (o->any && c->cors_credentials == 1)
        return err(cmd, "'*' cannot be used with ConduktorAuthCORSAllowCredentials On:", arg,
                   "explicit origins such as https://backstage.example.com");
    if (c->cors_origins == NULL)
        c->cors_origins = apr_array_make(cmd->pool, 2, sizeof(cka_origin_t *));
    APR_ARRAY_PUSH(c->cors_origins, cka_origin_t *) = o;
    return NULL;
}

static const char *set_cors_methods(cmd_parms *cmd, void *dcv, const char *arg)
{
    if (!is_header_name(arg) || strcmp(arg, "*") == 0)
        return err(cmd, "invalid method", arg, "HTTP method names such as GET POST PUT");
    push(&((cka_dir_conf_t *)dcv)->cors_methods, cmd->pool, arg);
    return NULL;
}

static const char *set_cors_headers(cmd_parms *cmd, void *dcv, const char *arg)
{
    if (!is_header_name(arg))
        return err(cmd, "invalid header name", arg,
                   "header names such as Authorization Content-Type, or * (which does not cover Authorization)");
    push(&((cka_dir_conf_t *)dcv)->cors_headers, cmd->pool, arg);
    return NULL;
}

static const char *set_cors_expose(cmd_parms *cmd, void *dcv, const char *arg)
{
    if (!is_header_name(arg))
        return err(cmd, "invalid header name", arg, "header names such as WWW-Authenticate");
    push(&((cka_dir_conf_t *)dcv)->cors_expose, cmd->pool, arg);
    return NULL;
}

static const char *set_cors_credentials(cmd_parms *cmd, void *dcv, int on)
{
    cka_dir_conf_t *c = dcv;
    if (on && origins_have_any(c->cors_origins))
        return apr_psprintf(cmd->pool, "%s: On cannot be combined with "
                            "ConduktorAuthCORSAllowOrigin * ; list the origins explicitly",
                            cmd->cmd->name);
    c->cors_credentials = on ? 1 : 0;
    return NULL;
}

static const char *set_cors_max_age(cmd_parms *cmd, void *dcv, const char *arg)
{
    return parse_seconds(cmd, arg, 0, 86400, &((cka_dir_conf_t *)dcv)->cors_max_age);
}

/* ---- CORS across scopes (check_config) --------------------------------------*/

/* Does the literal <Location> path a match every URL of literal path b's
 * own path (httpd 2.4: a prefix ending at a path-segment boundary)? */
static int location_covers(const char *a, const char *b)
{
    size_t n = strlen(a);
    return strncmp(a, b, n) == 0
           && (n == 0 || a[n - 1] == '/' || b[n] == '/' || b[n] == '\0');
}

static int sets_cors(const cka_dir_conf_t *c)
{
    return c != NULL && (c->cors_origins != NULL || c->cors_credentials != CKA_UNSET);
}

static int star_with_credentials(server_rec *v, const char *inner, const char *from)
{
    ap_log_error(APLOG_MARK, APLOG_EMERG, 0, v, CKA_LOG_PREFIX
                 "ConduktorAuthCORSAllowCredentials On in %s takes "
                 "ConduktorAuthCORSAllowOrigin * from %s: '*' cannot be used with "
                 "credentials; list the origins explicitly in %s (or turn credentials off)",
                 inner, from, inner);
    return HTTP_INTERNAL_SERVER_ERROR;
}

int cka_check_cors_scopes(apr_pool_t *ptemp, server_rec *s)
{
    for (server_rec *v = s; v; v = v->next) {
        const char *where = v->is_virtual
            ? apr_psprintf(ptemp, "the <VirtualHost> of %s:%u", v->server_hostname
                           ? v->server_hostname : "?", (unsigned)v->port)
            : "the main server";
        const cka_dir_conf_t *def = ap_get_module_config(v->lookup_defaults,
                                                         &conduktor_auth_module);
        /* The server's own defaults (a virtual host's are merged with the
         * main server's by now). */
        if (def != NULL && origins_have_any(def->cors_origins) && def->cors_credentials == 1)
            return star_with_credentials(v, where, "the main server");

        core_server_config *csc = ap_get_core_module_config(v->module_config);
        apr_array_header_t *locs = csc->sec_url, *dirs = csc->sec_dir;
        int uncertain = 0, dirs_set_origins = 0;
        for (int i = 0; locs && i < locs->nelts; i++) {
            ap_conf_vector_t *vec = APR_ARRAY_IDX(locs, i, ap_conf_vector_t *);
            core_dir_config *cd = ap_get_core_module_config(vec);
            if ((cd->r != NULL || cd->d_is_fnmatch || cd->d == NULL)
                && sets_cors(ap_get_module_config(vec, &conduktor_auth_module)))
                uncertain = 1;
            /* <If> inside a <Location> may set CORS for some requests. */
            if (cd->sec_if != NULL && cd->sec_if->nelts > 0)
                uncertain = 1;
        }
        for (int i = 0; dirs && i < dirs->nelts; i++) {
            ap_conf_vector_t *vec = APR_ARRAY_IDX(dirs, i, ap_conf_vector_t *);
            const cka_dir_conf_t *c = ap_get_module_config(vec, &conduktor_auth_module);
            if (c != NULL && c->cors_origins != NULL)
                dirs_set_origins = 1;
        }
        if (uncertain)
            continue;
        for (int ib = 0; locs && ib < locs->nelts; ib++) {
            ap_conf_vector_t *bvec = APR_ARRAY_IDX(locs, ib, ap_conf_vector_t *);
            core_dir_config *bcd = ap_get_core_module_config(bvec);
            const cka_dir_conf_t *b = ap_get_module_config(bvec, &conduktor_auth_module);
            if (b == NULL || b->cors_credentials != 1 || b->cors_origins != NULL
                || bcd->r != NULL || bcd->d_is_fnmatch || bcd->d == NULL)
                continue;
            /* Merge, for B's own path, what every literal <Location>
             * covering it sets, in configuration order (as httpd does). */
            const apr_array_header_t *origins = NULL;
            const char *from = NULL;
            int creds = def != NULL ? def->cors_credentials : CKA_UNSET;
            for (int ia = 0; ia < locs->nelts; ia++) {
                ap_conf_vector_t *avec = APR_ARRAY_IDX(locs, ia, ap_conf_vector_t *);
                core_dir_config *acd = ap_get_core_module_config(avec);
                const cka_dir_conf_t *a = ap_get_module_config(avec, &conduktor_auth_module);
                if (a == NULL || acd->r != NULL || acd->d_is_fnmatch || acd->d == NULL
                    || !location_covers(acd->d, bcd->d))
                    continue;
                if (a->cors_origins != NULL) {
                    origins = a->cors_origins;
                    from = apr_psprintf(ptemp, "<Location %s>", acd->d);
                }
                if (a->cors_credentials != CKA_UNSET)
                    creds = a->cors_credentials;
            }
            if (origins == NULL) {
                if (dirs_set_origins)
                    continue;             /* a <Directory> may set them */
                origins = def != NULL ? def->cors_origins : NULL;
                from = where;
            }
            if (creds == 1 && origins_have_any(origins))
                return star_with_credentials(v, apr_psprintf(ptemp, "<Location %s>", bcd->d),
                                             from);
        }
    }
    return OK;
}

#define D OR_AUTHCFG
const command_rec cka_cmds[] = {
    AP_INIT_TAKE12("ConduktorAuthIssuer", set_issuer, NULL, RSRC_CONF,
        "an issuer (iss) to trust and where its keys are: https:// JWKS URL, file:/path, or nothing for discovery"),
    AP_INIT_ITERATE("ConduktorAuthAlgorithms", set_algorithms, NULL, RSRC_CONF,
        "allowed JWS algorithms"),
    AP_INIT_TAKE1("ConduktorAuthJWKSRefresh", set_jwks_refresh, NULL, RSRC_CONF,
        "seconds a fetched key set stays fresh without Cache-Control max-age"),
    AP_INIT_TAKE1("ConduktorAuthJWKSMissRefetch", set_miss_refetch, NULL, RSRC_CONF,
        "least seconds between refetches caused by an unknown kid, per issuer"),
    AP_INIT_TAKE1("ConduktorAuthHTTPTimeout", set_http_timeout, NULL, RSRC_CONF,
        "total time limit of one fetch from the IdP, in seconds"),
    AP_INIT_TAKE_ARGV("ConduktorAuthIntrospect", set_introspect, NULL, RSRC_CONF,
        "<issuer> <https://endpoint>|discover client_id=<id> (secret=file:<path> | "
        "private_key=file:<pem> | client_cert=file:<pem> client_key=file:<pem>) "
        "[auth=basic|post]: RFC 7662 introspection at that issuer"),
    AP_INIT_TAKE1("ConduktorAuthIntrospectTTL", set_introspect_ttl, NULL, RSRC_CONF,
        "longest reuse of an introspection answer, in seconds (inactive: at most 10)"),
    AP_INIT_TAKE1("ConduktorAuthCAFile", set_ca_file, NULL, RSRC_CONF,
        "trust anchors (PEM) for fetches from the IdP"),
    AP_INIT_TAKE1("ConduktorAuthCache", cka_set_cache, NULL, RSRC_CONF,
        "where validated tokens are shared: an socache provider[:args] (shmcb, redis:host:port, memcache:host:port) or none"),
    AP_INIT_TAKE1("ConduktorAuthCacheTTL", cka_set_cache_ttl, NULL, RSRC_CONF,
        "longest time in seconds a validation result is reused"),
    AP_INIT_TAKE1("ConduktorAuthCacheSecret", cka_set_cache_secret, NULL, RSRC_CONF,
        "file:/path holding at least 32 random bytes (mode 600) with which cache records are sealed; required with redis or memcache"),
    AP_INIT_ITERATE("ConduktorAuthAudience", set_audience, NULL, D,
        "accepted aud values, or * to disable the check"),
    AP_INIT_TAKE1("ConduktorAuthClockSkew", set_skew, NULL, D,
        "leeway in seconds for exp, nbf and iat"),
    AP_INIT_ITERATE("ConduktorAuthRequireType", set_require_type, NULL, D,
        "accepted JWT header typ values"),
    AP_INIT_TAKE1("ConduktorAuthTokenHeader", set_token_header, NULL, D,
        "header that carries the token"),
    AP_INIT_ITERATE("ConduktorAuthUserClaim", set_user_claim, NULL, D,
        "claims for REMOTE_USER, the first present wins"),
    AP_INIT_TAKE1("ConduktorAuthEmailClaim", set_email_claim, NULL, D,
        "claim for CONDUKTOR_AUTH_EMAIL"),
    AP_INIT_TAKE1("ConduktorAuthGroupsClaim", set_groups_claim, NULL, D,
        "claim path for CONDUKTOR_AUTH_GROUPS"),
    AP_INIT_TAKE1("ConduktorAuthGroupsSeparator", set_separator, NULL, D,
        "separator used to join groups"),
    AP_INIT_TAKE2("ConduktorAuthClaimEnv", set_claim_env, NULL, D,
        "a claim path and the environment variable to put it in"),
    AP_INIT_TAKE2("ConduktorAuthIdentityHeader", set_identity_header, NULL, D,
        "an identity field (user, email, groups, subject, claim:<path>) and the request header for the backend"),
    AP_INIT_TAKE12("ConduktorAuthOpaqueTokens", set_opaque_tokens, NULL, D,
                  "refuse | pass | introspect <issuer>: what to do with a bearer credential "
                  "that is not a JWT from a trusted issuer (API keys, Console's own tokens, "
                  "an IdP's opaque access tokens)"),
    AP_INIT_FLAG("ConduktorAuthIntrospectJWT", set_introspect_jwt, NULL, D,
        "also introspect the JWTs of issuers with ConduktorAuthIntrospect, after their "
        "own checks (revocation)"),
    AP_INIT_FLAG("ConduktorAuthForwardToken", set_forward_token, NULL, D,
        "keep the token header for the backend"),
    AP_INIT_ITERATE("ConduktorAuthCORSAllowOrigin", set_cors_origin, NULL, D,
        "origins allowed to call from a browser; turns CORS on for the scope"),
    AP_INIT_ITERATE("ConduktorAuthCORSAllowMethods", set_cors_methods, NULL, D,
        "methods allowed in a CORS preflight"),
    AP_INIT_ITERATE("ConduktorAuthCORSAllowHeaders", set_cors_headers, NULL, D,
        "request headers allowed in a CORS preflight"),
    AP_INIT_ITERATE("ConduktorAuthCORSExposeHeaders", set_cors_expose, NULL, D,
        "response headers a page may read"),
    AP_INIT_FLAG("ConduktorAuthCORSAllowCredentials", set_cors_credentials, NULL, D,
        "allow credentialed CORS requests"),
    AP_INIT_TAKE1("ConduktorAuthCORSMaxAge", set_cors_max_age, NULL, D,
        "seconds a browser may cache a preflight answer"),
    AP_INIT_TAKE_ARGV("ConduktorAuthClientCredentials", set_client_credentials, NULL, D,
        "exchange Authorization: Basic client_id:secret at this https:// token endpoint "
        "(client_credentials grant) [scope=] [resource=] [audience=]"),
    AP_INIT_TAKE1("ConduktorAuthMaxAge", set_max_age, NULL, D,
        "RFC 9470: seconds since the user authenticated (auth_time), or off; inside <Limit> for those methods"),
    AP_INIT_TAKE1("ConduktorAuthMaxTokenLifetime", set_max_lifetime, NULL, D,
        "longest exp - iat accepted, in seconds (iat then required), or off"),
    AP_INIT_TAKE1("ConduktorAuthResource", cka_set_resource, NULL, D,
        "RFC 9728 resource identifier of this scope: an https URL; its metadata is served"),
    AP_INIT_TAKE1("ConduktorAuthRequireBinding", cka_set_require_binding, NULL, D,
        "none | dpop | mtls | any: which sender-constrained tokens this scope requires"),
    AP_INIT_ITERATE("ConduktorAuthDPoPAlgorithms", cka_set_dpop_algs, NULL, D,
        "algorithms allowed for DPoP proofs (asymmetric only)"),
    AP_INIT_TAKE1("ConduktorAuthDPoPWindow", cka_set_dpop_window, NULL, D,
        "seconds a DPoP proof's iat may be from now (clock skew on top)"),
    AP_INIT_FLAG("ConduktorAuthDPoPNonce", cka_set_dpop_nonce, NULL, D,
        "require server nonces in DPoP proofs (RFC 9449 section 8)"),
    AP_INIT_TAKE1("ConduktorAuthPublicURL", cka_set_public_url, NULL, RSRC_CONF | D,
        "scheme://host[:port] clients use, for a DPoP proof's htu behind a TLS-terminating proxy"),
    { NULL }
};
