/* status.c - the conduktor-auth-status handler: Prometheus text, or JSON
 * with ?format=json; counts from all processes. */
#include "config.h"
#include "key_store.h"
#include "metrics.h"

#define HANDLER "conduktor-auth-status"

typedef struct {
    const char *iss;
    const char *source;      /* "file", "jwks", "discovery" */
    unsigned    fetch_ok, fetch_failed, from_shared, keys;
    long long   age;         /* seconds; -1 when never obtained */
} issuer_row_t;

static apr_array_header_t *issuer_rows(request_rec *r)
{
    apr_array_header_t *rows = apr_array_make(r->pool, 4, sizeof(issuer_row_t));
    cka_key_status_t remote[CKA_MAX_REMOTE_ISSUERS];
    int n = cka_key_store_status(r->pool, remote, CKA_MAX_REMOTE_ISSUERS);
    apr_time_t now = apr_time_now();
    for (server_rec *v = r->server; v; v = NULL) {
        const cka_srv_conf_t *sc = ap_get_module_config(v->module_config, &conduktor_auth_module);
        for (int i = 0; sc->issuers && i < sc->issuers->nelts; i++) {
            const cka_issuer_t *is = APR_ARRAY_IDX(sc->issuers, i, const cka_issuer_t *);
            issuer_row_t *row = apr_array_push(rows);
            memset(row, 0, sizeof(*row));
            row->iss = is->iss;
            row->age = -1;
            if (is->kind == CKA_KEYS_FILE) {
                row->source = "file";
                row->keys = (unsigned)is->static_keys->keys->nelts;
                row->age = (long long)apr_time_sec(now - is->loaded_at);
                continue;
            }
            row->source = is->kind == CKA_KEYS_URL ? "jwks" : "discovery";
            /* This server's key set of the issuer: another server may
             * trust the same issuer from another source (its own entry). */
            const cka_binding_t *b = cka_find_binding(sc, is->iss);
            for (int j = 0; b != NULL && j < n; j++) {
                if (memcmp(remote[j].id, b->id, sizeof(b->id)) != 0)
                    continue;
                row->fetch_ok = remote[j].fetch_ok;
                row->fetch_failed = remote[j].fetch_failed;
                row->from_shared = remote[j].from_shared;
                row->keys = remote[j].keys_loaded;
                if (remote[j].fetched_at)
                    row->age = (long long)apr_time_sec(now - remote[j].fetched_at);
            }
        }
    }
    return rows;
}

/* Prometheus label values: escape backslash, quote and newline. */
static const char *label(apr_pool_t *p, const char *s)
{
    char *o = apr_palloc(p, strlen(s) * 2 + 1), *w = o;
    for (; *s; s++) {
        if (*s == '\\' || *s == '"') { *w++ = '\\'; *w++ = *s; }
        else if (*s == '\n') { *w++ = '\\'; *w++ = 'n'; }
        else *w++ = *s;
    }
    *w = '\0';
    return o;
}

static void prometheus(request_rec *r, const cka_counters_t *c, apr_array_header_t *rows)
{
    ap_set_content_type(r, "text/plain; version=0.0.4");
    const char *family = NULL;
    for (int i = 0; i < cka_counter_nrows; i++) {
        const cka_counter_row_t *row = &cka_counter_rows[i];
        apr_uint64_t v = *(const apr_uint64_t *)((const char *)c + row->offset);
        if (family == NULL || strcmp(family, row->family) != 0)
            ap_rprintf(r, "# HELP %s %s\n# TYPE %s counter\n", row->family, row->help,
                       row->family);
        family = row->family;
        ap_rprintf(r, "%s%s%s%s %" APR_UINT64_T_FMT "\n", row->family,
                   row->label ? "{" : "", row->label ? row->label : "",
                   row->label ? "}" : "", v);
    }
    ap_rputs("# HELP conduktor_auth_requests_denied_total Requests refused, by reason.\n"
             "# TYPE conduktor_auth_requests_denied_total counter\n", r);
    for (int i = 1; i < CKA_REASON_COUNT; i++)
        ap_rprintf(r, "conduktor_auth_requests_denied_total{reason=\"%s\"} %" APR_UINT64_T_FMT "\n",
                   cka_reason_code((cka_reason_t)i), c->denied[i]);
    ap_rputs("# HELP conduktor_auth_key_fetches_total Key sets obtained, by issuer and result: "
             "fetched from the IdP (ok), fetch failed (failed), taken from the shared cache "
             "where another host had put it (shared_cache).\n"
             "# TYPE conduktor_auth_key_fetches_total counter\n"
             "# HELP conduktor_auth_keys_loaded Keys usable for verification, by issuer.\n"
             "# TYPE conduktor_auth_keys_loaded gauge\n"
             "# HELP conduktor_auth_key_set_age_seconds Age of the key set in use, by issuer.\n"
             "# TYPE conduktor_auth_key_set_age_seconds gauge\n", r);
    for (int i = 0; i < rows->nelts; i++) {
        issuer_row_t *row = &APR_ARRAY_IDX(rows, i, issuer_row_t);
        const char *iss = label(r->pool, row->iss);
        ap_rprintf(r, "conduktor_auth_key_fetches_total{issuer=\"%s\",result=\"ok\"} %u\n"
                      "conduktor_auth_key_fetches_total{issuer=\"%s\",result=\"failed\"} %u\n"
                      "conduktor_auth_key_fetches_total{issuer=\"%s\",result=\"shared_cache\"} %u\n"
                      "conduktor_auth_keys_loaded{issuer=\"%s\",source=\"%s\"} %u\n",
                   iss, row->fetch_ok, iss, row->fetch_failed, iss, row->from_shared,
                   iss, row->source, row->keys);
        if (row->age >= 0)
            ap_rprintf(r, "conduktor_auth_key_set_age_seconds{issuer=\"%s\"} %" APR_INT64_T_FMT "\n", iss, (apr_int64_t)row->age);
    }
}

static void as_json(request_rec *r, const cka_counters_t *c, apr_array_header_t *rows)
{
    json_t *denied = json_object(), *issuers = json_array();
    for (int i = 1; i < CKA_REASON_COUNT; i++)
        json_object_set_new(denied, cka_reason_code((cka_reason_t)i),
                            json_integer((json_int_t)c->denied[i]));
    for (int i = 0; i < rows->nelts; i++) {
        issuer_row_t *row = &APR_ARRAY_IDX(rows, i, issuer_row_t);
        json_array_append_new(issuers, json_pack("{s:s, s:s, s:i, s:i, s:i, s:i, s:o}",
            "issuer", row->iss, "source", row->source, "fetches_ok", (int)row->fetch_ok,
            "fetches_failed", (int)row->fetch_failed,
            "from_shared_cache", (int)row->from_shared, "keys_loaded", (int)row->keys,
            "key_set_age_seconds", row->age >= 0 ? json_integer(row->age) : json_null()));
    }
    json_t *o = json_object();
    for (int i = 0; i < cka_counter_nrows; i++) {
        const cka_counter_row_t *row = &cka_counter_rows[i];
        apr_uint64_t v = *(const apr_uint64_t *)((const char *)c + row->offset);
        json_t *into = o;
        if (row->group != NULL) {
            into = json_object_get(o, row->group);
            if (into == NULL) {
                into = json_object();
                json_object_set_new(o, row->group, into);
            }
        }
        json_object_set_new(into, row->key, json_integer((json_int_t)v));
    }
    json_object_set_new(o, "denied", denied);
    json_object_set_new(o, "issuers", issuers);
    char *s = json_dumps(o, JSON_INDENT(2));
    json_decref(o);
    ap_set_content_type(r, "application/json");
    ap_rputs(s ? s : "{}", r);
    ap_rputs("\n", r);
    free(s);
}

int cka_status_handler(request_rec *r)
{
    if (r->handler == NULL || strcmp(r->handler, HANDLER) != 0)
        return DECLINED;
    if (r->method_number != M_GET)
        return HTTP_METHOD_NOT_ALLOWED;
    cka_counters_t c;
    cka_metrics_snapshot(&c);
    apr_array_header_t *rows = issuer_rows(r);
    apr_table_setn(r->headers_out, "Cache-Control", "no-store");
    if (r->args && (strcmp(r->args, "format=json") == 0 || strstr(r->args, "format=json")))
        as_json(r, &c, rows);
    else
        prometheus(r, &c, rows);
    return OK;
}
