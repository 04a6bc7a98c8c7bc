/* resource_md.c - RFC 9728 OAuth 2.0 Protected Resource Metadata.
 *
 * ConduktorAuthResource <https-url> names the resource of a scope. The
 * module answers GET /.well-known/oauth-protected-resource<path of the
 * resource> itself, in the quick handler: before any <Location>, Require
 * or ProxyPass of the administrator's (a client must be able to read it
 * without a token), with Access-Control-Allow-Origin: * (it is public and
 * needs no credentials). The document lists the resource, the issuers the
 * server trusts, the bearer methods and the scopes of the Require
 * conduktor-scope lines of the resource's section. challenge.c adds
 * resource_metadata="<its URL>" to every 401 of that scope. */
#include "resource_md.h"
#include "challenge.h"
#include "config.h"
#include <apr_uri.h>
#include <ap_regex.h>

#define WELL_KNOWN "/.well-known/oauth-protected-resource"

/* ---- configuration -------------------------------------------------------- */

/* The section a directive belongs to: the nearest <Location>, <Directory>,
 * <Files>, <Proxy> (or their *Match forms) or <VirtualHost> around it;
 * <If>, <Limit>, <RequireAll> and the like are part of that section.
 * NULL: the main server. */
static const ap_directive_t *section_of(const ap_directive_t *d)
{
    static const char *const sections[] = {
        "<Location", "<LocationMatch", "<Directory", "<DirectoryMatch", "<Files",
        "<FilesMatch", "<Proxy", "<ProxyMatch", "<VirtualHost", NULL
    };
    for (d = d ? d->parent : NULL; d != NULL; d = d->parent)
        for (int i = 0; sections[i]; i++)
            if (ap_cstr_casecmp(d->directive, sections[i]) == 0)
                return d;
    return NULL;
}

/* A literal <Location> path a covers every URL of path b (httpd 2.4: a
 * prefix ending at a segment boundary); both without trailing slashes. */
static int path_covers(const char *a, const char *b)
{
    size_t na = strlen(a), nb = strlen(b);
    while (na > 0 && a[na - 1] == '/')
        na--;
    while (nb > 0 && b[nb - 1] == '/')
        nb--;
    return na <= nb && strncmp(a, b, na) == 0 && (nb == na || b[na] == '/');
}

/* Is the resource's path consistent with the section? NULL when it is,
 * else why not. */
static const char *check_section(cmd_parms *cmd, const ap_directive_t *sec,
                                 const char *path)
{
    if (sec == NULL || ap_cstr_casecmp(sec->directive, "<VirtualHost") == 0)
        return path_covers(path, "/") ? NULL
            : "outside a <Location> the resource must be the whole host (path /)";
    int match = ap_cstr_casecmp(sec->directive, "<LocationMatch") == 0;
    if (!match && ap_cstr_casecmp(sec->directive, "<Location") != 0)
        return apr_pstrcat(cmd->temp_pool, "use it in a <Location> or <LocationMatch>, "
                           "not in ", sec->directive, ">", NULL);
    /* The section's own argument, without its closing '>'. */
    const char *args = apr_pstrdup(cmd->temp_pool, sec->args);
    char *gt = strrchr((char *)args, '>');
    if (gt)
        *gt = '\0';
    const char *loc = ap_getword_conf(cmd->temp_pool, &args);
    if (!match && strcmp(loc, "~") == 0) {
        match = 1;
        loc = ap_getword_conf(cmd->temp_pool, &args);
    }
    if (match) {
        ap_regex_t *re = ap_pregcomp(cmd->temp_pool, loc, AP_REG_EXTENDED);
        if (re == NULL || ap_regexec(re, path, 0, NULL, 0) != 0)
            return apr_pstrcat(cmd->temp_pool, "the resource's path ", path,
                               " is not matched by <LocationMatch ", loc, ">", NULL);
        return NULL;
    }
    if (!path_covers(path, loc))
        return apr_pstrcat(cmd->temp_pool, "the resource's path ", path,
                           " does not cover <Location ", loc, ">", NULL);
    return NULL;
}

static cka_srv_conf_t *srv_conf(cmd_parms *cmd)
{
    return ap_get_module_config(cmd->server->module_config, &conduktor_auth_module);
}

const char *cka_set_resource(cmd_parms *cmd, void *dcv, const char *arg)
{
    cka_dir_conf_t *dc = dcv;
    static const char *accepted =
        "an https URL with a host and no user info, query, fragment or dot "
        "segments, e.g. https://api.example.com/api/";
    const char *e = ap_check_cmd_context(cmd, NOT_IN_HTACCESS);
    if (e != NULL)
        return e;
    if (cmd->limited != -1)
        return apr_psprintf(cmd->pool, "%s: a resource is the same for every method; "
                            "it cannot go in <Limit> or <LimitExcept>", cmd->cmd->name);
    apr_uri_t u;
    int bad = strlen(arg) > 2000 || strchr(arg, '#') != NULL || strchr(arg, '?') != NULL
        || apr_uri_parse(cmd->pool, arg, &u) != APR_SUCCESS
        || u.scheme == NULL || ap_cstr_casecmp(u.scheme, "https") != 0
        || u.hostname == NULL || *u.hostname == '\0' || u.user != NULL || u.password != NULL
        || ap_cstr_casecmpn(arg, "https://", 8) != 0;
    for (const char *c = arg; !bad && *c; c++)
        if ((unsigned char)*c <= 0x20 || *c == 0x7f || *c == '\\' || *c == '"')
            bad = 1;
    const char *path = bad ? NULL : (u.path && *u.path ? u.path : "/");
    if (!bad && (strstr(path, "/../") || strstr(path, "/./")
                 || (strlen(path) >= 3 && strcmp(path + strlen(path) - 3, "/..") == 0)
                 || (strlen(path) >= 2 && strcmp(path + strlen(path) - 2, "/.") == 0)))
        bad = 1;
    if (bad)
        return apr_psprintf(cmd->pool, "%s: invalid resource '%s'; accepted: %s",
                            cmd->cmd->name, arg, accepted);
    const ap_directive_t *sec = section_of(cmd->directive);
    const char *why = check_section(cmd, sec, path);
    if (why != NULL)
        return apr_psprintf(cmd->pool, "%s: resource '%s' does not fit where it is "
                            "configured: %s", cmd->cmd->name, arg, why);

    cka_resource_t *res = apr_pcalloc(cmd->pool, sizeof(*res));
    res->url = arg;
    res->host = u.hostname;
    /* RFC 9728 §3.1: the well-known path goes between the host and the
     * path; a path of "/" alone adds nothing, any other is kept whole
     * (trailing slash included). */
    const char *authority = apr_pstrndup(cmd->pool, arg,
                                         strlen(arg) - (u.path && *u.path ? strlen(u.path) : 0));
    res->md_path = apr_pstrcat(cmd->pool, WELL_KNOWN, strcmp(path, "/") == 0 ? "" : path, NULL);
    res->md_url = apr_pstrcat(cmd->pool, authority, res->md_path, NULL);
    res->section = sec;
    res->dir = dc;

    cka_srv_conf_t *sc = srv_conf(cmd);
    for (int i = 0; sc->resources && i < sc->resources->nelts; i++) {
        const cka_resource_t *o = APR_ARRAY_IDX(sc->resources, i, const cka_resource_t *);
        if (strcmp(o->md_path, res->md_path) == 0 && ap_cstr_casecmp(o->host, res->host) == 0
            && strcmp(o->url, res->url) != 0)
            return apr_psprintf(cmd->pool, "%s: resource '%s' has the same metadata URL "
                                "as '%s'", cmd->cmd->name, arg, o->url);
    }
    if (sc->resources == NULL)
        sc->resources = apr_array_make(cmd->pool, 2, sizeof(cka_resource_t *));
    APR_ARRAY_PUSH(sc->resources, cka_resource_t *) = res;
    dc->resource = res;
    return NULL;
}

void cka_resource_note_scopes(cmd_parms *cmd, const apr_array_header_t *scopes)
{
    if (ap_check_cmd_context(cmd, NOT_IN_HTACCESS) != NULL)
        return;       /* per request: never added to the server's configuration */
    cka_srv_conf_t *sc = srv_conf(cmd);
    cka_scope_line_t *l = apr_pcalloc(cmd->pool, sizeof(*l));
    l->section = section_of(cmd->directive);
    l->scopes = scopes;
    if (sc->scope_lines == NULL)
        sc->scope_lines = apr_array_make(cmd->pool, 4, sizeof(cka_scope_line_t *));
    APR_ARRAY_PUSH(sc->scope_lines, cka_scope_line_t *) = l;
}

/* ---- the document ----------------------------------------------------------- */

static const cka_resource_t *find(request_rec *r, const cka_srv_conf_t *sc)
{
    const cka_resource_t *any = NULL;
    for (int i = 0; sc->resources && i < sc->resources->nelts; i++) {
        const cka_resource_t *res = APR_ARRAY_IDX(sc->resources, i, const cka_resource_t *);
        if (strcmp(res->md_path, r->uri) != 0)
            continue;
        if (r->hostname != NULL && ap_cstr_casecmp(r->hostname, res->host) == 0)
            return res;
        if (any == NULL)
            any = res;
    }
    return any;
}

static json_t *document(const cka_srv_conf_t *sc, const cka_resource_t *res)
{
    json_t *doc = json_object();
    json_t *as = json_array(), *scopes = json_array();
    json_object_set_new(doc, "resource", json_string(res->url));
    for (int i = 0; sc->issuers && i < sc->issuers->nelts; i++)
        json_array_append_new(as, json_string(
            APR_ARRAY_IDX(sc->issuers, i, const cka_issuer_t *)->iss));
    json_object_set_new(doc, "authorization_servers", as);
    json_object_set_new(doc, "bearer_methods_supported", json_pack("[s]", "header"));
    for (int i = 0; sc->scope_lines && i < sc->scope_lines->nelts; i++) {
        const cka_scope_line_t *l = APR_ARRAY_IDX(sc->scope_lines, i, const cka_scope_line_t *);
        if (l->section != res->section)
            continue;
        for (int j = 0; j < l->scopes->nelts; j++) {
            const char *s = APR_ARRAY_IDX(l->scopes, j, const char *);
            size_t k;
            json_t *v;
            int seen = 0;
            json_array_foreach(scopes, k, v)
                if (strcmp(json_string_value(v), s) == 0)
                    seen = 1;
            if (!seen)
                json_array_append_new(scopes, json_string(s));
        }
    }
    if (json_array_size(scopes) > 0)
        json_object_set_new(doc, "scopes_supported", scopes);
    else
        json_decref(scopes);
    /* ---- BEGIN DPoP: what ConduktorAuthRequireBinding of the resource's
     * section asks for (RFC 9728 §2) ---------------------------------------- */
    int mode = res->dir ? cka_require_binding(res->dir) : CKA_BIND_NONE;
    if (mode == CKA_BIND_DPOP || mode == CKA_BIND_ANY) {
        json_t *algs = json_array();
        cka_alg_set_t set = (cka_alg_set_t)cka_dpop_algs(res->dir);
        for (int i = 0; i < CKA_DPOP_NALGS; i++)
            if (set & CKA_ALG_BIT(cka_dpop_alg_order[i]))
                json_array_append_new(algs, json_string(cka_alg_name(cka_dpop_alg_order[i])));
        json_object_set_new(doc, "dpop_signing_alg_values_supported", algs);
        json_object_set_new(doc, "dpop_bound_access_tokens_required",
                            json_boolean(mode == CKA_BIND_DPOP));
    }
    if (mode == CKA_BIND_MTLS || mode == CKA_BIND_ANY)
        json_object_set_new(doc, "tls_client_certificate_bound_access_tokens", json_true());
    /* ---- END DPoP ------------------------------------------------------------ */
    return doc;
}

int cka_resource_md_handler(request_rec *r, int lookup)
{
    if (lookup || r->main != NULL || r->uri == NULL
        || strncmp(r->uri, WELL_KNOWN, sizeof(WELL_KNOWN) - 1) != 0)
        return DECLINED;
    const cka_srv_conf_t *sc = ap_get_module_config(r->server->module_config,
                                                    &conduktor_auth_module);
    const cka_resource_t *res = sc ? find(r, sc) : NULL;
    if (res == NULL)
        return DECLINED;
    if (ap_discard_request_body(r) != OK)
        return HTTP_BAD_REQUEST;
    apr_table_setn(r->headers_out, "Access-Control-Allow-Origin", "*");
    if (r->method_number == M_OPTIONS) {
        /* A preflight (a page that sends extra headers): allowed for GET. */
        apr_table_setn(r->headers_out, "Access-Control-Allow-Methods", "GET, HEAD, OPTIONS");
        apr_table_setn(r->headers_out, "Access-Control-Max-Age", "86400");
        apr_table_setn(r->headers_out, "Allow", "GET, HEAD, OPTIONS");
        r->status = HTTP_NO_CONTENT;
        return OK;
    }
    if (r->method_number != M_GET) {
        apr_table_setn(r->headers_out, "Allow", "GET, HEAD, OPTIONS");
        r->status = HTTP_METHOD_NOT_ALLOWED;
        ap_set_content_type(r, "application/json");
        ap_rputs("{\"error\":\"method_not_allowed\"}\n", r);
        return OK;
    }
    json_t *doc = document(sc, res);
    char *text = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    if (text == NULL)
        return HTTP_INTERNAL_SERVER_ERROR;
    ap_set_content_type(r, "application/json");
    apr_table_setn(r->headers_out, "Cache-Control", "max-age=300");
    ap_set_content_length(r, (apr_off_t)strlen(text));
    ap_rputs(text, r);
    free(text);
    return OK;
}
