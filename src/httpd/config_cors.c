/* config_cors.c - ConduktorAuthCORS*: the origins, methods and headers
 * answered at the edge, and the check_config rule across scopes. */
#include "config_cors.h"
#include "cors.h"

static int origins_have_any(const apr_array_header_t *a)
{
    for (int i = 0; a && i < a->nelts; i++)
        if (APR_ARRAY_IDX(a, i, const cka_origin_t *)->any)
            return 1;
    return 0;
}

const char *cka_set_cors_origin(cmd_parms *cmd, void *dcv, const char *arg)
{
    cka_dir_conf_t *c = dcv;
    cka_origin_t *o = apr_pcalloc(cmd->pool, sizeof(*o));
    const char *why = cka_origin_parse(cmd->pool, arg, o);
    if (why != NULL)
        return cka_conf_err(cmd, apr_pstrcat(cmd->pool, "invalid origin (", why, ")", NULL), arg,
                            "scheme://host[:port], scheme://*.domain[:port], null, or *");
    if (o->any && c->cors_credentials == 1)
        return cka_conf_err(cmd, "'*' cannot be used with ConduktorAuthCORSAllowCredentials On:", arg,
                            "explicit origins such as https://backstage.example.com");
    if (c->cors_origins == NULL)
        c->cors_origins = apr_array_make(cmd->pool, 2, sizeof(cka_origin_t *));
    APR_ARRAY_PUSH(c->cors_origins, cka_origin_t *) = o;
    return NULL;
}

const char *cka_set_cors_methods(cmd_parms *cmd, void *dcv, const char *arg)
{
    if (!cka_conf_is_header(arg) || strcmp(arg, "*") == 0)
        return cka_conf_err(cmd, "invalid method", arg, "HTTP method names such as GET POST PUT");
    cka_conf_push(&((cka_dir_conf_t *)dcv)->cors_methods, cmd->pool, arg);
    return NULL;
}

const char *cka_set_cors_headers(cmd_parms *cmd, void *dcv, const char *arg)
{
    if (!cka_conf_is_header(arg))
        return cka_conf_err(cmd, "invalid header name", arg,
                            "header names such as Authorization Content-Type, or * (which does not cover Authorization)");
    cka_conf_push(&((cka_dir_conf_t *)dcv)->cors_headers, cmd->pool, arg);
    return NULL;
}

const char *cka_set_cors_expose(cmd_parms *cmd, void *dcv, const char *arg)
{
    if (!cka_conf_is_header(arg))
        return cka_conf_err(cmd, "invalid header name", arg, "header names such as WWW-Authenticate");
    cka_conf_push(&((cka_dir_conf_t *)dcv)->cors_expose, cmd->pool, arg);
    return NULL;
}

const char *cka_set_cors_credentials(cmd_parms *cmd, void *dcv, int on)
{
    cka_dir_conf_t *c = dcv;
    if (on && origins_have_any(c->cors_origins))
        return apr_psprintf(cmd->pool, "%s: On cannot be combined with "
                            "ConduktorAuthCORSAllowOrigin * ; list the origins explicitly",
                            cmd->cmd->name);
    c->cors_credentials = on ? 1 : 0;
    return NULL;
}

const char *cka_set_cors_max_age(cmd_parms *cmd, void *dcv, const char *arg)
{
    return cka_conf_seconds(cmd, arg, 0, 86400, &((cka_dir_conf_t *)dcv)->cors_max_age);
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
