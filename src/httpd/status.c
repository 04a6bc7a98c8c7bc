/* status.c - the conduktor-auth-status handler: Prometheus text, JSON with
 * ?format=json, or a page for people with ?format=html (and when a browser
 * prefers text/html); counts from all processes. */
#include "status.h"
#include "binding.h"
#include "config.h"
#include "key_store.h"
#include "metrics.h"
#include "introspect.h"

#define HANDLER "conduktor-auth-status"

typedef struct {
    const char *iss;
    const char *source;      /* "file", "jwks", "discovery" */
    unsigned    fetch_ok, fetch_failed, from_shared, keys;
    long long   age;         /* seconds; -1 when never obtained */
    long long   attempt_age; /* seconds since the last fetch; -1: none */
    const char *last;        /* "ok", "failed", "never" or "file"     */
    const char *error;       /* the last fetch's error, or ""         */
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
            row->attempt_age = -1;
            row->error = "";
            if (is->kind == CKA_KEYS_FILE) {
                row->source = "file";
                row->keys = (unsigned)is->static_keys->keys->nelts;
                row->age = (long long)apr_time_sec(now - is->loaded_at);
                row->last = "file";
                continue;
            }
            row->source = is->kind == CKA_KEYS_URL ? "jwks" : "discovery";
            row->last = "never";
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
                if (remote[j].last_attempt) {
                    row->attempt_age = (long long)apr_time_sec(now - remote[j].last_attempt);
                    row->last = remote[j].last_failed ? "failed" : "ok";
                    row->error = remote[j].last_error ? remote[j].last_error : "";
                }
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

static void prometheus_introspection(request_rec *r, const cka_counters_t *c);

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
    ap_rputs("# HELP conduktor_auth_dpop_proofs_refused_total DPoP proofs refused, by "
             "defect (replay: a jti seen before; unavailable: no usable replay cache).\n"
             "# TYPE conduktor_auth_dpop_proofs_refused_total counter\n", r);
    for (int i = 1; i < CKA_DPD_COUNT; i++)
        ap_rprintf(r, "conduktor_auth_dpop_proofs_refused_total{defect=\"%s\"} %" APR_UINT64_T_FMT "\n",
                   cka_dpop_defect_code((cka_dpop_defect_t)i), c->dpop_refused[i]);
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
    prometheus_introspection(r, c);
}

/* ---- introspection, per issuer ------------------------------------------------ */

static const char *const is_labels[] = {
#define CKA_X_IS_LABEL(idx, label, help) label,
    CKA_IS_RESULTS(CKA_X_IS_LABEL)
#undef CKA_X_IS_LABEL
};
static const char *const is_helps[] = {
#define CKA_X_IS_HELP(idx, label, help) help,
    CKA_IS_RESULTS(CKA_X_IS_HELP)
#undef CKA_X_IS_HELP
};

static void prometheus_introspection(request_rec *r, const cka_counters_t *c)
{
    const char *const *names;
    int n = cka_introspect_issuers(&names);
    if (n == 0)
        return;
    ap_rputs("# HELP conduktor_auth_introspection_total RFC 7662 introspection by issuer "
             "and result: calls answered active or inactive, calls failed, answers "
             "reused from the cache.\n"
             "# TYPE conduktor_auth_introspection_total counter\n", r);
    for (int i = 0; i < n; i++)
        for (int k = 0; k < CKA_IS_R_COUNT; k++)
            ap_rprintf(r, "conduktor_auth_introspection_total{issuer=\"%s\",result=\"%s\"} %"
                       APR_UINT64_T_FMT "\n", label(r->pool, names[i]), is_labels[k],
                       c->introspect[i][k]);
}

static json_t *json_introspection(const cka_counters_t *c)
{
    const char *const *names;
    int n = cka_introspect_issuers(&names);
    json_t *a = json_array();
    for (int i = 0; i < n; i++) {
        json_t *o = json_pack("{s:s}", "issuer", names[i]);
        for (int k = 0; o != NULL && k < CKA_IS_R_COUNT; k++)
            json_object_set_new(o, is_labels[k], json_integer((json_int_t)c->introspect[i][k]));
        json_array_append_new(a, o);
    }
    return a;
}

static void as_json(request_rec *r, const cka_counters_t *c, apr_array_header_t *rows)
{
    json_t *denied = json_object(), *issuers = json_array();
    for (int i = 1; i < CKA_REASON_COUNT; i++)
        json_object_set_new(denied, cka_reason_code((cka_reason_t)i),
                            json_integer((json_int_t)c->denied[i]));
    for (int i = 0; i < rows->nelts; i++) {
        issuer_row_t *row = &APR_ARRAY_IDX(rows, i, issuer_row_t);
        json_t *item = json_pack("{s:s, s:s, s:i, s:i, s:i, s:i, s:o, s:s, s:o}",
            "issuer", row->iss, "source", row->source, "fetches_ok", (int)row->fetch_ok,
            "fetches_failed", (int)row->fetch_failed,
            "from_shared_cache", (int)row->from_shared, "keys_loaded", (int)row->keys,
            "key_set_age_seconds", row->age >= 0 ? json_integer(row->age) : json_null(),
            "last_fetch", row->last,
            "last_fetch_age_seconds",
            row->attempt_age >= 0 ? json_integer(row->attempt_age) : json_null());
        /* Not valid UTF-8 (a URL's bytes in curl's message): left out. */
        if (item != NULL && row->error[0])
            json_object_set_new(item, "last_error", json_string(row->error));
        json_array_append_new(issuers, item);
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
    json_t *dpop = json_object_get(o, "dpop"), *refused = json_object();
    for (int i = 1; i < CKA_DPD_COUNT; i++)
        json_object_set_new(refused, cka_dpop_defect_code((cka_dpop_defect_t)i),
                            json_integer((json_int_t)c->dpop_refused[i]));
    if (dpop != NULL)
        json_object_set_new(dpop, "refused", refused);
    else
        json_decref(refused);
    json_object_set_new(o, "issuers", issuers);
    json_object_set_new(o, "introspection", json_introspection(c));
    char *s = json_dumps(o, JSON_INDENT(2));
    json_decref(o);
    ap_set_content_type(r, "application/json");
    ap_rputs(s ? s : "{}", r);
    ap_rputs("\n", r);
    free(s);
}

/* ---- the page for people ------------------------------------------------------ */

static const char *esc(request_rec *r, const char *s)
{
    /* Markup characters and quotes as entities; every byte above 0x7f as a
     * numeric reference, so no byte of a name can change the page. */
    return ap_escape_html2(r->pool, s ? s : "", 0);
}

static const char *span(apr_pool_t *p, long long sec)
{
    if (sec < 0)
        return "never";
    if (sec < 120)
        return apr_psprintf(p, "%" APR_INT64_T_FMT "s", (apr_int64_t)sec);
    if (sec < 7200)
        return apr_psprintf(p, "%" APR_INT64_T_FMT "m %" APR_INT64_T_FMT "s", (apr_int64_t)(sec / 60), (apr_int64_t)(sec % 60));
    return apr_psprintf(p, "%" APR_INT64_T_FMT "h %" APR_INT64_T_FMT "m", (apr_int64_t)(sec / 3600), (apr_int64_t)((sec % 3600) / 60));
}

#define STYLE \
    "body{font-family:sans-serif;margin:1.5em;color:#111}" \
    "h1{font-size:1.4em}h2{font-size:1.1em;margin-top:1.5em}" \
    "table{border-collapse:collapse;margin:.3em 0}" \
    "th,td{border:1px solid #999;padding:.25em .6em;text-align:left;vertical-align:top}" \
    "th{background:#ddd}td.n{text-align:right;font-family:monospace}" \
    "td.zero{color:#777}td.err{font-family:monospace;max-width:40em;word-break:break-all}" \
    "tr.ok td.state{background:#2e7d32;color:#fff}" \
    "tr.file td.state{background:#1565c0;color:#fff}" \
    "tr.failed td.state{background:#c62828;color:#fff}" \
    "tr.never td.state{background:#9e9e9e;color:#fff}" \
    "code{font-size:.95em}"

static void number_row(request_rec *r, const char *what, const char *json_path,
                       const char *metric, apr_uint64_t v)
{
    ap_rprintf(r, "<tr><td>%s</td><td><code>%s</code></td>"
                  "<td class=\"n%s\" data-json=\"%s\">%" APR_UINT64_T_FMT "</td></tr>\n",
               esc(r, what), esc(r, metric), v ? "" : " zero", esc(r, json_path), v);
}

/* The page's head: no script, no external asset, no framing. */
static void html_head(request_rec *r)
{
    ap_set_content_type(r, "text/html; charset=utf-8");
    apr_table_setn(r->headers_out, "Content-Security-Policy",
                   "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'");
    apr_table_setn(r->headers_out, "X-Content-Type-Options", "nosniff");
    ap_rputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
             "<title>conduktor_auth status</title>\n<style>" STYLE "</style>\n"
             "</head><body>\n<h1>conduktor_auth status</h1>\n", r);
    ap_rprintf(r, "<p>Server <b>%s</b>, %s. Counts are summed over all httpd processes "
                  "since the last full start (they survive graceful restarts). "
                  "Also as <a href=\"?format=prometheus\">Prometheus text</a> and "
                  "<a href=\"?format=json\">JSON</a>.</p>\n",
               esc(r, r->server->server_hostname),
               esc(r, ap_ht_time(r->pool, apr_time_now(), "%Y-%m-%d %H:%M:%S %Z", 1)));
}

/* Requests and cache. */
static void html_requests(request_rec *r, const cka_counters_t *c)
{
    apr_uint64_t denied = 0;
    for (int i = 1; i < CKA_REASON_COUNT; i++)
        denied += c->denied[i];
    ap_rputs("<h2>Requests</h2>\n<table id=\"counters\"><tr><th>what</th><th>metric</th>"
             "<th>count</th></tr>\n", r);
    for (int i = 0; i < cka_counter_nrows; i++) {
        const cka_counter_row_t *row = &cka_counter_rows[i];
        apr_uint64_t v = *(const apr_uint64_t *)((const char *)c + row->offset);
        const char *metric = row->label ? apr_pstrcat(r->pool, row->family, "{", row->label,
                                                      "}", NULL) : row->family;
        const char *path = row->group ? apr_pstrcat(r->pool, row->group, ".", row->key, NULL)
                                      : row->key;
        number_row(r, row->label ? apr_pstrcat(r->pool, row->help, " (", row->key, ")", NULL)
                                 : row->help, path, metric, v);
    }
    ap_rprintf(r, "<tr><td>Requests refused (all reasons)</td><td></td>"
                  "<td class=\"n\" id=\"denied-total\">%" APR_UINT64_T_FMT "</td></tr>\n"
                  "</table>\n", denied);
    apr_uint64_t looked = c->cache_hits + c->cache_misses;
    ap_rprintf(r, "<p>Cache hit ratio: <b id=\"hit-ratio\">%s</b> (%" APR_UINT64_T_FMT
                  " of %" APR_UINT64_T_FMT " tokens looked up were found).</p>\n",
               looked ? apr_psprintf(r->pool, "%.1f%%", 100.0 * (double)c->cache_hits
                                                        / (double)looked) : "n/a",
               c->cache_hits, looked);
}

static void html_issuers(request_rec *r, apr_array_header_t *rows)
{
    ap_rputs("<h2>Issuers and their keys</h2>\n<table id=\"issuers\"><tr><th>issuer</th>"
             "<th>source</th><th>last fetch</th><th>keys loaded</th><th>key-set age</th>"
             "<th>fetches ok / failed / from shared cache</th><th>last error</th></tr>\n", r);
    for (int i = 0; i < rows->nelts; i++) {
        issuer_row_t *row = &APR_ARRAY_IDX(rows, i, issuer_row_t);
        const char *state = strcmp(row->last, "file") == 0 ? "loaded from file at start"
            : strcmp(row->last, "never") == 0 ? "not fetched yet"
            : apr_pstrcat(r->pool, row->last, ", ", span(r->pool, row->attempt_age), " ago",
                          NULL);
        ap_rprintf(r, "<tr class=\"%s issuer\"><td><code>%s</code></td><td>%s</td>"
                      "<td class=\"state\">%s</td>"
                      "<td class=\"n\" data-json=\"issuers.%d.keys_loaded\">%u</td>"
                      "<td class=\"n\">%s</td>"
                      "<td class=\"n\"><span data-json=\"issuers.%d.fetches_ok\">%u</span> / "
                      "<span data-json=\"issuers.%d.fetches_failed\">%u</span> / "
                      "<span data-json=\"issuers.%d.from_shared_cache\">%u</span></td>"
                      "<td class=\"err\">%s</td></tr>\n",
                   row->last, esc(r, row->iss), esc(r, row->source), esc(r, state),
                   i, row->keys, span(r->pool, row->age), i, row->fetch_ok, i,
                   row->fetch_failed, i, row->from_shared, esc(r, row->error));
    }
    if (rows->nelts == 0)
        ap_rputs("<tr><td colspan=\"7\">no ConduktorAuthIssuer in this server</td></tr>\n", r);
    ap_rputs("</table>\n", r);
}

static void html_introspection(request_rec *r, const cka_counters_t *c)
{
    const char *const *names;
    int nis = cka_introspect_issuers(&names);
    if (nis == 0)
        return;
    ap_rputs("<h2>Introspection (RFC 7662)</h2>\n<table id=\"introspection\"><tr>"
             "<th>issuer</th>", r);
    for (int k = 0; k < CKA_IS_R_COUNT; k++)
        ap_rprintf(r, "<th title=\"%s\">%s</th>", esc(r, is_helps[k]), is_labels[k]);
    ap_rputs("</tr>\n", r);
    for (int i = 0; i < nis; i++) {
        ap_rprintf(r, "<tr><td><code>%s</code></td>", esc(r, names[i]));
        for (int k = 0; k < CKA_IS_R_COUNT; k++)
            ap_rprintf(r, "<td class=\"n%s\" data-json=\"introspection.%d.%s\">%"
                       APR_UINT64_T_FMT "</td>", c->introspect[i][k] ? "" : " zero", i,
                       is_labels[k], c->introspect[i][k]);
        ap_rputs("</tr>\n", r);
    }
    ap_rputs("</table>\n", r);
}

static void html_reasons(request_rec *r, const cka_counters_t *c)
{
    ap_rputs("<h2>Refusals by reason</h2>\n<table id=\"denied\"><tr><th>reason</th>"
             "<th>meaning</th><th>HTTP</th><th>count</th></tr>\n", r);
    for (int i = 1; i < CKA_REASON_COUNT; i++) {
        const char *code = cka_reason_code((cka_reason_t)i);
        ap_rprintf(r, "<tr><td><code>%s</code></td><td>%s</td><td>%d</td>"
                      "<td class=\"n%s\" data-json=\"denied.%s\">%" APR_UINT64_T_FMT
                      "</td></tr>\n", esc(r, code), esc(r, cka_reason_text((cka_reason_t)i)),
                   cka_reason_status((cka_reason_t)i), c->denied[i] ? "" : " zero",
                   esc(r, code), c->denied[i]);
    }
    ap_rputs("</table>\n", r);
}

/* DPoP proofs refused, per defect (replays apart). */
static void html_dpop(request_rec *r, const cka_counters_t *c)
{
    /* DPoP proofs refused, per defect (replays apart). */
    ap_rputs("<h2>DPoP proofs refused by defect</h2>\n<table id=\"dpop-refused\"><tr>"
             "<th>defect</th><th>meaning</th><th>count</th></tr>\n", r);
    for (int i = 1; i < CKA_DPD_COUNT; i++) {
        const char *code = cka_dpop_defect_code((cka_dpop_defect_t)i);
        ap_rprintf(r, "<tr><td><code>%s</code></td><td>%s</td>"
                      "<td class=\"n%s\" data-json=\"dpop.refused.%s\">%" APR_UINT64_T_FMT
                      "</td></tr>\n", esc(r, code),
                   esc(r, cka_dpop_defect_text((cka_dpop_defect_t)i)),
                   c->dpop_refused[i] ? "" : " zero", esc(r, code), c->dpop_refused[i]);
    }
    ap_rputs("</table>\n", r);
}

static void as_html(request_rec *r, const cka_counters_t *c, apr_array_header_t *rows)
{
    html_head(r);
    html_requests(r, c);
    html_issuers(r, rows);
    html_introspection(r, c);
    html_reasons(r, c);
    html_dpop(r, c);
    ap_rputs("</body></html>\n", r);
}

/* ---- which format --------------------------------------------------------------- */

typedef enum { FMT_PROMETHEUS, FMT_JSON, FMT_HTML, FMT_BAD } format_t;

/* ?format=json|html|prometheus|text; FMT_BAD for another value; -1 when
 * the query names none. */
static int format_arg(request_rec *r)
{
    if (r->args == NULL)
        return -1;
    char *last, *args = apr_pstrdup(r->pool, r->args);
    int found = -1;
    for (char *kv = apr_strtok(args, "&", &last); kv; kv = apr_strtok(NULL, "&", &last)) {
        if (strncmp(kv, "format=", 7) != 0)
            continue;
        const char *v = kv + 7;
        found = strcmp(v, "json") == 0 ? FMT_JSON : strcmp(v, "html") == 0 ? FMT_HTML
              : strcmp(v, "prometheus") == 0 || strcmp(v, "text") == 0 ? FMT_PROMETHEUS
              : FMT_BAD;
    }
    return found;
}

/* Does the Accept header prefer a page (text/html, application/xhtml+xml)
 * to text or JSON? A browser's does; a Prometheus scraper's or curl's
 * (which name text/plain, OpenMetrics or only wildcard) does not. */
static int prefers_html(request_rec *r)
{
    const char *accept = apr_table_get(r->headers_in, "Accept");
    if (accept == NULL)
        return 0;
    double html = 0, other = 0;
    char *last, *copy = apr_pstrdup(r->pool, accept);
    for (char *item = apr_strtok(copy, ",", &last); item; item = apr_strtok(NULL, ",", &last)) {
        char *params = strchr(item, ';');
        double q = 1;
        if (params != NULL) {
            *params++ = '\0';
            const char *qs = ap_strstr_c(params, "q=");
            if (qs != NULL)
                q = strtod(qs + 2, NULL);
        }
        apr_collapse_spaces(item, item);   /* returns the end, not the start */
        char *type = item;
        ap_str_tolower(type);
        if (strcmp(type, "text/html") == 0 || strcmp(type, "application/xhtml+xml") == 0)
            html = q > html ? q : html;
        else if (strcmp(type, "text/plain") == 0 || strcmp(type, "application/json") == 0
                 || strcmp(type, "application/openmetrics-text") == 0)
            other = q > other ? q : other;
    }
    return html > 0 && html >= other;
}

int cka_status_handler(request_rec *r)
{
    if (r->handler == NULL || strcmp(r->handler, HANDLER) != 0)
        return DECLINED;
    if (r->method_number != M_GET)
        return HTTP_METHOD_NOT_ALLOWED;
    int fmt = format_arg(r);
    if (fmt == FMT_BAD) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, CKA_LOG_PREFIX
                      "status page: unknown format (json, html, prometheus or text)");
        return HTTP_BAD_REQUEST;
    }
    if (fmt < 0) {
        apr_table_mergen(r->headers_out, "Vary", "Accept");
        fmt = prefers_html(r) ? FMT_HTML : FMT_PROMETHEUS;
    }
    cka_counters_t c;
    cka_metrics_snapshot(&c);
    apr_array_header_t *rows = issuer_rows(r);
    apr_table_setn(r->headers_out, "Cache-Control", "no-store");
    if (fmt == FMT_JSON)
        as_json(r, &c, rows);
    else if (fmt == FMT_HTML)
        as_html(r, &c, rows);
    else
        prometheus(r, &c, rows);
    return OK;
}
