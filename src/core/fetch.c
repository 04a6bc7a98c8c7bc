/* fetch.c - bounded libcurl GET and POST, and the one reader of discovery
 * documents. */
#include "fetch.h"
#include "json_util.h"
#include "cka_limits.h"
#include <string.h>
#include <apr_cstr.h>
#include <stdlib.h>
#include <apr_strings.h>
#include <apr_lib.h>
#include <curl/curl.h>

typedef struct {
    apr_pool_t *p;
    char       *buf;
    size_t      len, cap, max;
    int         too_big;
    const char *cache_control;   /* libcurl < 7.84 only */
} sink_t;

static size_t on_body(char *data, size_t size, size_t n, void *ud)
{
    sink_t *s = ud;
    size_t add = size * n;
    if (s->len + add > s->max) {
        s->too_big = 1;
        return 0;                       /* makes curl stop with an error */
    }
    if (s->len + add + 1 > s->cap) {
        size_t cap = s->cap ? s->cap : 16384;
        while (cap < s->len + add + 1)
            cap *= 2;
        char *nb = apr_palloc(s->p, cap);
        if (s->len)
            memcpy(nb, s->buf, s->len);
        s->buf = nb;
        s->cap = cap;
    }
    memcpy(s->buf + s->len, data, add);
    s->len += add;
    s->buf[s->len] = '\0';
    return add;
}

/* RFC 9111 §1.2.2: a delta-seconds too large to hold is read as 2^31. */
#define MAX_AGE_CAP 2147483647L

long cka_cache_control_max_age(const char *v)
{
    long age = -1;
    if (v == NULL)
        return -1;
    apr_pool_t *p;
    if (apr_pool_create_unmanaged_ex(&p, NULL, NULL) != APR_SUCCESS)
        return -1;
    /* One comma-separated list; each directive trimmed (spaces, tabs and
     * the CRLF of a raw header line alike). */
    const apr_array_header_t *d = apr_cstr_split(v, ",", 1, p);
    for (int i = 0; i < d->nelts; i++) {
        const char *w = APR_ARRAY_IDX(d, i, const char *);
        if (apr_cstr_casecmp(w, "no-store") == 0 || apr_cstr_casecmp(w, "no-cache") == 0) {
            age = 0;
            break;
        }
        if (apr_cstr_casecmpn(w, "max-age=", 8) == 0 && apr_isdigit(w[8])) {
            const char *e = w + 8;
            long a = 0;
            for (; apr_isdigit(*e); e++)
                a = a > (MAX_AGE_CAP - 9) / 10 ? MAX_AGE_CAP : a * 10 + (*e - '0');
            if (*e == '\0')
                age = a;            /* the last max-age counts */
        }
    }
    apr_pool_destroy(p);
    return age;
}

#if LIBCURL_VERSION_NUM < 0x075400
/* libcurl before 7.84 has no curl_easy_header: keep the raw value of each
 * Cache-Control line (the parser trims it), comma-joined. */
static size_t on_header(char *data, size_t size, size_t n, void *ud)
{
    sink_t *s = ud;
    size_t len = size * n;
    if (len > 14 && apr_cstr_casecmpn(data, "cache-control:", 14) == 0) {
        const char *v = apr_pstrmemdup(s->p, data + 14, len - 14);
        s->cache_control = s->cache_control ? apr_pstrcat(s->p, s->cache_control, ",", v, NULL) : v;
    }
    return len;
}
#endif

/* Every Cache-Control field of the final response, comma-joined (as HTTP
 * combines repeated fields), or NULL. */
static const char *cache_control(CURL *c, sink_t *s)
{
#if LIBCURL_VERSION_NUM >= 0x075400
    struct curl_header *h;
    const char *all = NULL;
    size_t i = 0, count = 1;
    for (; i < count; i++) {
        if (curl_easy_header(c, "Cache-Control", i, CURLH_HEADER, -1, &h) != CURLHE_OK)
            break;
        count = h->amount;
        all = all ? apr_pstrcat(s->p, all, ",", h->value, NULL) : apr_pstrdup(s->p, h->value);
    }
    return all;
#else
    (void)c;
    return s->cache_control;
#endif
}

void cka_fetch_init(void)
{
    static int ready;
    if (!ready) {
        curl_global_init(CURL_GLOBAL_DEFAULT);
        ready = 1;
    }
}

/* What a POST adds to a GET. */
typedef struct {
    const char *authorization;   /* the Authorization value                */
    const char *form;            /* x-www-form-urlencoded body             */
} post_t;

static void set_post(CURL *c, apr_pool_t *p, const cka_fetch_opts_t *o, const post_t *post,
                     struct curl_slist **hdrs)
{
    /* A credential is never sent on to wherever a redirect points. */
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, post->form);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(post->form));
    *hdrs = curl_slist_append(*hdrs, "Content-Type: application/x-www-form-urlencoded");
    *hdrs = curl_slist_append(*hdrs, "Accept: application/json");
    *hdrs = curl_slist_append(*hdrs, "Expect:");
    if (post->authorization)
        *hdrs = curl_slist_append(*hdrs, apr_pstrcat(p, "Authorization: ",
                                                     post->authorization, NULL));
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, *hdrs);
    if (o->client_cert != NULL && o->client_key != NULL) {
        struct curl_blob cert = { .data = (void *)o->client_cert,
                                  .len = o->client_cert_len, .flags = CURL_BLOB_COPY };
        struct curl_blob key = { .data = (void *)o->client_key,
                                 .len = o->client_key_len, .flags = CURL_BLOB_COPY };
        curl_easy_setopt(c, CURLOPT_SSLCERT_BLOB, &cert);
        curl_easy_setopt(c, CURLOPT_SSLCERTTYPE, "PEM");
        curl_easy_setopt(c, CURLOPT_SSLKEY_BLOB, &key);
        curl_easy_setopt(c, CURLOPT_SSLKEYTYPE, "PEM");
    }
}

/* The options every request has: https only, TLS verified, the time limit,
 * the size cap, the body into s. */
static void set_common(CURL *c, const char *url, const cka_fetch_opts_t *o, sink_t *s,
                       char *errbuf)
{
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
#if LIBCURL_VERSION_NUM >= 0x075500
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https");
    curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "https");
#else
    curl_easy_setopt(c, CURLOPT_PROTOCOLS, (long)CURLPROTO_HTTPS);
    curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS, (long)CURLPROTO_HTTPS);
#endif
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, o->timeout_ms);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, o->timeout_ms);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
    if (o->ca_file)
        curl_easy_setopt(c, CURLOPT_CAINFO, o->ca_file);
    curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)s->max);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, s);
#if LIBCURL_VERSION_NUM < 0x075400
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, s);
#endif
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "mod_conduktor_auth");
    curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");
}

static cka_reason_t failed(cka_err_t *err, const char *why)
{
    return cka_fail(err, CKA_FETCH_FAILED, why);
}

/* What arrived: a GET wants a 200 with a body; a POST any HTTP answer. */
static cka_reason_t judge(apr_pool_t *p, CURLcode rc, const sink_t *s, const char *errbuf,
                          int is_post, cka_fetch_result_t *out, cka_err_t *err)
{
    if (s->too_big || rc == CURLE_FILESIZE_EXCEEDED)
        return s->max == CKA_MAX_DOC_LEN
            ? failed(err, "document larger than 1 MiB refused")
            : cka_failf(err, p, CKA_FETCH_FAILED,
                        "answer larger than %" APR_SIZE_T_FMT " bytes refused", s->max);
    if (rc != CURLE_OK)
        return cka_failf(err, p, CKA_FETCH_FAILED, "%s%s%s", curl_easy_strerror(rc),
                         *errbuf ? ": " : "", errbuf);
    out->body = s->buf ? s->buf : apr_pstrdup(p, "");
    out->len = s->len;
    if (is_post)
        return CKA_OK;
    if (out->status != 200) {
        out->body = NULL;
        out->len = 0;
        return cka_failf(err, p, CKA_FETCH_FAILED, "HTTP status %ld", out->status);
    }
    if (s->len == 0) {
        out->body = NULL;
        return failed(err, "empty body");
    }
    return CKA_OK;
}

/* One request. GET: redirects followed (https only, at most 3), CKA_OK on
 * a 200 with a body. POST: no redirect, CKA_OK on any HTTP answer (the
 * caller reads the status and the body, which may be empty). */
static cka_reason_t perform(apr_pool_t *p, const char *url, const cka_fetch_opts_t *o,
                            const post_t *post, cka_fetch_result_t *out, cka_err_t *err)
{
    memset(out, 0, sizeof(*out));
    out->max_age = -1;
    if (apr_cstr_casecmpn(url, "https://", 8) != 0)
        return failed(err, "only https:// URLs are fetched");
    CURL *c = curl_easy_init();
    if (c == NULL)
        return failed(err, "curl_easy_init failed");
    sink_t s = { .p = p, .max = o->max_bytes ? o->max_bytes : CKA_MAX_DOC_LEN };
    char errbuf[CURL_ERROR_SIZE] = "";
    struct curl_slist *hdrs = NULL;
    set_common(c, url, o, &s, errbuf);
    if (post == NULL) {
        curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
        curl_easy_setopt(c, CURLOPT_MAXREDIRS, 3L);
    }
    else
        set_post(c, p, o, post, &hdrs);
    CURLcode rc = curl_easy_perform(c);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out->status);
    out->max_age = cka_cache_control_max_age(cache_control(c, &s));
    curl_easy_cleanup(c);
    curl_slist_free_all(hdrs);
    return judge(p, rc, &s, errbuf, post != NULL, out, err);
}

cka_reason_t cka_fetch(apr_pool_t *p, const char *url, const cka_fetch_opts_t *o,
                       cka_fetch_result_t *out, cka_err_t *err)
{
    return perform(p, url, o, NULL, out, err);
}

cka_reason_t cka_fetch_post(apr_pool_t *p, const char *url, const cka_fetch_opts_t *o,
                            const char *authorization, const char *form,
                            cka_fetch_result_t *out, cka_err_t *err)
{
    post_t post = { .authorization = authorization, .form = form };
    return perform(p, url, o, &post, out, err);
}

const char *cka_discovery_url(apr_pool_t *p, const char *iss)
{
    size_t n = strlen(iss);
    return apr_pstrcat(p, iss, (n && iss[n - 1] == '/') ? "" : "/",
                       ".well-known/openid-configuration", NULL);
}

cka_reason_t cka_discovery_read(apr_pool_t *p, const char *doc, size_t len, const char *iss,
                                const char *member, const char **url, cka_err_t *err)
{
    const char *why = NULL;
    json_t *o = cka_json_parse_object(p, doc, len, &why);
    if (o == NULL)
        return cka_failf(err, p, CKA_DISCOVERY_INVALID, "discovery document: %s", why);
    json_t *i = json_object_get(o, "issuer");
    if (!json_is_string(i) || strcmp(json_string_value(i), iss) != 0)
        return cka_failf(err, p, CKA_DISCOVERY_INVALID,
                         "discovery document issuer '%.200s' does not equal the "
                         "configured issuer '%.200s' (compared exactly)",
                         json_is_string(i) ? json_string_value(i) : "(none)", iss);
    json_t *u = json_object_get(o, member);
    const char *v = json_is_string(u) ? json_string_value(u) : NULL;
    if (v == NULL || apr_cstr_casecmpn(v, "https://", 8) != 0 || v[8] == '\0'
        || json_string_length(u) > CKA_DISCOVERY_URL_MAX || strchr(v, '#') != NULL)
        return cka_failf(err, p, CKA_DISCOVERY_INVALID,
                         "discovery document has no https %s", member);
    for (const char *c = v; *c; c++)
        if ((unsigned char)*c <= 0x20 || *c == 0x7f)
            return cka_failf(err, p, CKA_DISCOVERY_INVALID, "discovery document's %s "
                             "holds a space or control character", member);
    *url = apr_pstrdup(p, v);
    return CKA_OK;
}
