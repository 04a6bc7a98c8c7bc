/* config_introspect.c - ConduktorAuthIntrospect, ConduktorAuthIntrospectTTL,
 * ConduktorAuthIntrospectJWT (RFC 7662), and the check_config rule that every
 * introspection names a trusted issuer. */
#include "config_introspect.h"

/* The path of a file:<path> value, or NULL. */
static const char *file_value(cmd_parms *cmd, const char *v)
{
    if (strncmp(v, "file:", 5) != 0 || v[5] == '\0')
        return NULL;
    return ap_server_root_relative(cmd->pool, v + 5);
}

static const char *const usage = "<issuer> <https://endpoint>|discover client_id=<id> "
    "(secret=file:<path> | private_key=file:<pem> | client_cert=file:<pem> "
    "client_key=file:<pem>) [auth=basic|post], each key at most once";

/* The key=value arguments, each at most once. */
typedef struct {
    const char *client_id, *secret, *pkey, *cert, *ckey, *auth;
} is_args_t;

/* <issuer> <endpoint>|discover */
static const char *where_to_ask(cmd_parms *cmd, const cka_srv_conf_t *s,
                                cka_introspect_conf_t *ic, const char *iss, const char *ep)
{
    ic->iss = iss;
    if (*iss == '\0' || cka_conf_has_ctl(iss))
        return cka_conf_err(cmd, "invalid issuer", iss, "the issuer of a ConduktorAuthIssuer");
    if (s->introspects && cka_find_introspect(s, iss))
        return cka_conf_err(cmd, "issuer given twice:", iss, "one ConduktorAuthIntrospect per "
                            "issuer and server");
    if (strcmp(ep, "discover") == 0) {
        if (ap_cstr_casecmpn(iss, "https://", 8) != 0)
            return cka_conf_err(cmd, "discover needs an https:// issuer, not", iss,
                                "an https:// issuer, or give the endpoint");
        ic->endpoint = NULL;
        return NULL;
    }
    if (ap_cstr_casecmpn(ep, "https://", 8) != 0 || ep[8] == '\0' || ep[8] == '/'
        || cka_conf_has_ctl(ep) || strchr(ep, '#') != NULL || strlen(ep) > 2048)
        return cka_conf_err(cmd, "invalid introspection endpoint", ep,
                            "an https:// URL without spaces or fragment, or discover");
    ic->endpoint = ep;
    return NULL;
}

/* client_id= and exactly one client authentication. */
static const char *read_args(cmd_parms *cmd, int argc, char *const argv[], is_args_t *x)
{
    memset(x, 0, sizeof(*x));
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i], *eq = strchr(a, '=');
        const char **slot = NULL;
        if (eq == NULL)
            return cka_conf_err(cmd, "invalid parameter", a, usage);
        size_t kl = (size_t)(eq - a);
#define KEY_IS(k) (kl == sizeof(k) - 1 && strncmp(a, k, kl) == 0)
        if (KEY_IS("client_id")) slot = &x->client_id;
        else if (KEY_IS("secret")) slot = &x->secret;
        else if (KEY_IS("private_key")) slot = &x->pkey;
        else if (KEY_IS("client_cert")) slot = &x->cert;
        else if (KEY_IS("client_key")) slot = &x->ckey;
        else if (KEY_IS("auth")) slot = &x->auth;
        else
            return cka_conf_err(cmd, "unknown parameter", a, usage);
#undef KEY_IS
        if (*slot != NULL)
            return cka_conf_err(cmd, "parameter given twice:", a, usage);
        if (!cka_conf_value_ok(eq + 1))
            return cka_conf_err(cmd, "empty or invalid value (control character, or longer than "
                                "2048)", a, usage);
        *slot = eq + 1;
    }
    if (x->client_id == NULL)
        return apr_psprintf(cmd->pool, "%s: client_id=<id> is missing; accepted: %s",
                            cmd->cmd->name, usage);
    int methods = (x->secret != NULL) + (x->pkey != NULL) + (x->cert != NULL || x->ckey != NULL);
    if (methods != 1)
        return apr_psprintf(cmd->pool, "%s: give exactly one client authentication: "
                            "secret=file:<path>, private_key=file:<pem>, or client_cert= "
                            "and client_key= together; accepted: %s", cmd->cmd->name, usage);
    if (x->auth != NULL && x->secret == NULL)
        return cka_conf_err(cmd, "auth= goes with secret= only, not", x->auth, "auth=basic or "
                            "auth=post with secret=file:<path>");
    return NULL;
}

/* The client authentication's secret, key or certificate, read now (as
 * root) and checked. */
static const char *load_client_auth(cmd_parms *cmd, const is_args_t *x,
                                    cka_introspect_conf_t *ic)
{
    const char *why = NULL;
    if (x->secret != NULL) {
        const char *path = file_value(cmd, x->secret);
        if (path == NULL)
            return cka_conf_err(cmd, "the secret must come from a file:", "secret=...",
                                "secret=file:/path (the file holds the client secret)");
        if (x->auth == NULL || strcmp(x->auth, "basic") == 0)
            ic->auth = CKA_IS_AUTH_BASIC;
        else if (strcmp(x->auth, "post") == 0)
            ic->auth = CKA_IS_AUTH_POST;
        else
            return cka_conf_err(cmd, "unknown client authentication", x->auth,
                                "auth=basic or auth=post");
        if (cka_is_read_secret(cmd->pool, path, &ic->secret, &ic->secret_len, &why) != 0)
            return apr_psprintf(cmd->pool, "%s: %s", cmd->cmd->name, why);
        return NULL;
    }
    if (x->pkey != NULL) {
        const char *path = file_value(cmd, x->pkey);
        if (path == NULL)
            return cka_conf_err(cmd, "the private key must come from a file:", "private_key=...",
                                "private_key=file:/path/key.pem");
        ic->auth = CKA_IS_AUTH_JWT;
        ic->key = cka_is_load_private_key(cmd->pool, path, &ic->key_alg, &why);
        if (ic->key == NULL)
            return apr_psprintf(cmd->pool, "%s: %s", cmd->cmd->name, why);
        return NULL;
    }
    const char *cp = x->cert ? file_value(cmd, x->cert) : NULL;
    const char *kp = x->ckey ? file_value(cmd, x->ckey) : NULL;
    if (cp == NULL || kp == NULL)
        return apr_psprintf(cmd->pool, "%s: tls_client_auth needs both "
                            "client_cert=file:<pem> and client_key=file:<pem>",
                            cmd->cmd->name);
    ic->auth = CKA_IS_AUTH_TLS;
    if (cka_is_load_client_cert(cmd->pool, cp, kp, &ic->cert_pem, &ic->cert_len,
                                &ic->cert_key_pem, &ic->cert_key_len, &why) != 0)
        return apr_psprintf(cmd->pool, "%s: %s", cmd->cmd->name, why);
    return NULL;
}

/* <issuer> <endpoint>|discover client_id=<id> (secret=file:<path> |
 * private_key=file:<pem> | client_cert=file:<pem> client_key=file:<pem>)
 * [auth=basic|post] */
const char *cka_set_introspect(cmd_parms *cmd, void *dcv, int argc, char *const argv[])
{
    cka_srv_conf_t *s = ap_get_module_config(cmd->server->module_config,
                                             &conduktor_auth_module);
    if (argc < 3)
        return apr_psprintf(cmd->pool, "%s: too few arguments; accepted: %s",
                            cmd->cmd->name, usage);
    cka_introspect_conf_t *ic = apr_pcalloc(cmd->pool, sizeof(*ic));
    is_args_t x;
    const char *e = where_to_ask(cmd, s, ic, argv[0], argv[1]);
    if (e == NULL)
        e = read_args(cmd, argc - 2, argv + 2, &x);
    if (e == NULL)
        e = load_client_auth(cmd, &x, ic);
    if (e != NULL)
        return e;
    ic->client_id = x.client_id;
    ic->where = apr_psprintf(cmd->pool, "%s:%d", cmd->directive->filename,
                             cmd->directive->line_num);
    if (s->introspects == NULL)
        s->introspects = apr_array_make(cmd->pool, 2, sizeof(cka_introspect_conf_t *));
    APR_ARRAY_PUSH(s->introspects, cka_introspect_conf_t *) = ic;
    return NULL;
}

const char *cka_set_introspect_jwt(cmd_parms *cmd, void *dcv, int on)
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
    if (c == NULL)
        return OK;
    /* ConduktorAuthIntrospectJWT On: every issuer whose JWTs this section
     * admits must have a ConduktorAuthIntrospect (else its tokens would
     * pass unintrospected). */
    for (int i = 0; c->introspect_jwt == 1 && sc->issuers && i < sc->issuers->nelts; i++) {
        const cka_issuer_t *is = APR_ARRAY_IDX(sc->issuers, i, const cka_issuer_t *);
        if (cka_find_introspect(sc, is->iss) == NULL)
            return introspect_missing(v, apr_psprintf(ptemp, "ConduktorAuthIntrospectJWT On "
                "in %s: issuer %s has no ConduktorAuthIntrospect in this server, so its "
                "JWTs could not be introspected; accepted: add ConduktorAuthIntrospect %s "
                "..., or ConduktorAuthIntrospectJWT Off", where, is->iss, is->iss));
    }
    if (c->opaque_issuer == NULL || c->opaque_tokens != CKA_OPAQUE_INTROSPECT
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

const char *cka_set_introspect_ttl(cmd_parms *cmd, void *dc, const char *arg)
{
    cka_srv_conf_t *s = ap_get_module_config(cmd->server->module_config,
                                             &conduktor_auth_module);
    return cka_conf_seconds(cmd, arg, 1, 86400, &s->introspect_ttl);
}
