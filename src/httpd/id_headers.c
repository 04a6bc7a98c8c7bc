/* id_headers.c - identity headers: client copies stripped on every path
 * (main request, subrequest, internal redirect, fast redirect), the
 * module's values set without variants.
 *
 * Where httpd lets us in (server/request.c, ap_process_request_internal):
 *   post_perdir_config  runs for every request, subrequests and internal
 *                       redirects included, once the final per-directory
 *                       configuration is known and before authentication
 *                       (header_parser is skipped for subrequests).
 *   check_authn         cka_id_headers_set() puts the module's values in.
 *   fixups (last)       ap_internal_fast_redirect (DirectoryIndex,
 *                       MultiViews) swaps in a subrequest's configuration
 *                       but keeps the request's own headers: cleaned again
 *                       for the configuration the handler will run with.
 * When httpd skips authentication because the configuration equals the
 * previous or main request's, the values the module set there are put
 * back after stripping: nothing the module set is ever lost to a strip. */
#include "id_headers.h"
#include "request.h"
#include "config.h"
#include <apr_lib.h>

/* What the module set for a request, in r->notes: one note per header,
 * NOTE_PREFIX + the name folded ('_' as '-', case ignored by the table)
 * -> "Header-Name:value". Notes, because nothing a client sends reaches
 * them and ap_internal_fast_redirect carries a subrequest's notes over. */
#define NOTE_PREFIX "conduktor_auth-id-header:"
#define NOTE_PREFIX_LEN (sizeof(NOTE_PREFIX) - 1)

/* Header names compared as the backend may see them: case-insensitive and
 * with '_' equal to '-' (CGI and many frameworks fold both to one name). */
static int same_header_name(const char *a, const char *b)
{
    for (; *a && *b; a++, b++) {
        char ca = (*a == '_') ? '-' : (char)apr_tolower(*a);
        char cb = (*b == '_') ? '-' : (char)apr_tolower(*b);
        if (ca != cb)
            return 0;
    }
    return *a == *b;
}

static const char *note_key(apr_pool_t *p, const char *header)
{
    char *k = apr_pstrcat(p, NOTE_PREFIX, header, NULL);
    for (char *c = k + NOTE_PREFIX_LEN; *c; c++)
        if (*c == '_')
            *c = '-';
    return k;
}

static int is_note(const char *key)
{
    return key != NULL && ap_cstr_casecmpn(key, NOTE_PREFIX, NOTE_PREFIX_LEN) == 0;
}

/* Remove from r->headers_in every variant of each configured identity
 * header (hdrs, of cka_id_header_t *), or of the one name when hdrs is
 * NULL. */
static void unset_variants(request_rec *r, const apr_array_header_t *hdrs, const char *one)
{
    const apr_array_header_t *arr = apr_table_elts(r->headers_in);
    const apr_table_entry_t *e = (const apr_table_entry_t *)arr->elts;
    apr_array_header_t *doomed = NULL;
    int n = hdrs ? hdrs->nelts : 1;
    for (int i = 0; i < arr->nelts; i++) {
        if (e[i].key == NULL)
            continue;
        for (int j = 0; j < n; j++) {
            const char *name = hdrs ? APR_ARRAY_IDX(hdrs, j, const cka_id_header_t *)->header : one;
            if (same_header_name(e[i].key, name)) {
                if (doomed == NULL)
                    doomed = apr_array_make(r->pool, 2, sizeof(const char *));
                APR_ARRAY_PUSH(doomed, const char *) = e[i].key;
                break;
            }
        }
    }
    /* apr_table_unset takes every entry of that name, in any case. */
    for (int i = 0; doomed && i < doomed->nelts; i++) {
        const char *name = APR_ARRAY_IDX(doomed, i, const char *);
        ap_log_rerror(APLOG_MARK, APLOG_TRACE1, 0, r, CKA_LOG_PREFIX
                      "removed identity header %s", ap_escape_logitem(r->pool, name));
        apr_table_unset(r->headers_in, name);
    }
}

/* Put one recorded "Name:value" in, without variants. */
static int apply_one(void *rv, const char *key, const char *val)
{
    request_rec *r = rv;
    const char *colon = is_note(key) ? strchr(val, ':') : NULL;
    if (colon != NULL) {
        const char *name = apr_pstrmemdup(r->pool, val, (apr_size_t)(colon - val));
        unset_variants(r, NULL, name);
        apr_table_setn(r->headers_in, name, colon + 1);
    }
    return 1;
}

static int copy_one(void *rv, const char *key, const char *val)
{
    if (is_note(key))
        apr_table_set(((request_rec *)rv)->notes, key, val);
    return 1;
}

/* The request whose authentication httpd reuses for r, if any: as
 * ap_process_request_internal decides it. */
static request_rec *authn_source(request_rec *r)
{
    if (r->prev != NULL && r->prev->per_dir_config == r->per_dir_config)
        return r->prev;
    if (r->main != NULL && r->main->per_dir_config == r->per_dir_config)
        return r->main;
    return NULL;
}

static int has_record(request_rec *r)
{
    const apr_array_header_t *arr = apr_table_elts(r->notes);
    const apr_table_entry_t *e = (const apr_table_entry_t *)arr->elts;
    for (int i = 0; i < arr->nelts; i++)
        if (is_note(e[i].key))
            return 1;
    return 0;
}

static int configured(const cka_dir_conf_t *dc)
{
    return dc != NULL && dc->id_headers != NULL && dc->id_headers->nelts > 0;
}

/* Strip every variant of every identity header configured where r now
 * is; then put back what the module set for r (or for the request whose
 * authentication r reuses). Remembers the configuration it cleaned for. */
static void clean(request_rec *r)
{
    const cka_dir_conf_t *dc = ap_get_module_config(r->per_dir_config, &conduktor_auth_module);
    if (!configured(dc)) {
        cka_req_t *rq = ap_get_module_config(r->request_config, &conduktor_auth_module);
        if (rq != NULL)
            rq->id_headers_dir = r->per_dir_config;
        return;
    }
    cka_req(r)->id_headers_dir = r->per_dir_config;
    unset_variants(r, dc->id_headers, NULL);
    request_rec *src;
    if (!has_record(r) && (src = authn_source(r)) != NULL) {
        apr_table_do(copy_one, r, src->notes, NULL);
        if (has_record(r))
            ap_log_rerror(APLOG_MARK, APLOG_TRACE1, 0, r, CKA_LOG_PREFIX
                          "identity headers of the %s request put back (its "
                          "authentication is reused)", src == r->prev ? "previous" : "main");
    }
    apr_table_do(apply_one, r, r->notes, NULL);
}

int cka_id_headers_post_perdir(request_rec *r)
{
    clean(r);
    return OK;
}

/* After mod_dir's and mod_negotiation's fast redirects (fixups LAST and
 * type_checker): again, only when the configuration changed since. */
int cka_id_headers_fixups(request_rec *r)
{
    const cka_req_t *rq = ap_get_module_config(r->request_config, &conduktor_auth_module);
    const void *seen = rq ? rq->id_headers_dir : NULL;
    if (seen != (const void *)r->per_dir_config
        && configured(ap_get_module_config(r->per_dir_config, &conduktor_auth_module)))
        clean(r);
    return DECLINED;
}

static const char *field_value(const cka_identity_t *id, const cka_id_header_t *h)
{
    switch (h->field) {
    case CKA_FIELD_USER:    return id->user;
    case CKA_FIELD_EMAIL:   return id->email;
    case CKA_FIELD_GROUPS:  return id->groups;
    case CKA_FIELD_SUBJECT: return id->subject;
    case CKA_FIELD_CLAIM:   return apr_table_get(id->extra, h->claim);
    }
    return NULL;
}

void cka_id_headers_set(request_rec *r, const cka_dir_conf_t *dc, const cka_identity_t *id)
{
    if (dc->id_headers == NULL || dc->id_headers->nelts == 0)
        return;
    /* Client copies are gone already (post_perdir_config); this also takes
     * any the request picked up since, and a value the module set before. */
    unset_variants(r, dc->id_headers, NULL);
    for (int i = 0; i < dc->id_headers->nelts; i++)
        apr_table_unset(r->notes, note_key(r->pool,
                        APR_ARRAY_IDX(dc->id_headers, i, const cka_id_header_t *)->header));
    for (int i = 0; i < dc->id_headers->nelts; i++) {
        const cka_id_header_t *h = APR_ARRAY_IDX(dc->id_headers, i, const cka_id_header_t *);
        const char *v = field_value(id, h);
        if (v == NULL)
            continue;
        v = cka_header_safe(r->pool, v);
        unset_variants(r, NULL, h->header);    /* two entries naming variants: the last wins */
        apr_table_setn(r->headers_in, h->header, v);
        apr_table_setn(r->notes, note_key(r->pool, h->header),
                       apr_pstrcat(r->pool, h->header, ":", v, NULL));
    }
}
