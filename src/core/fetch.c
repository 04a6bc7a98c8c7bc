/* fetch.c - bounded libcurl GET and the discovery document. */
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

/* What a POST adds to a GET. */
typedef struct {
    const char *authorization;   /* the Authorization value                */
    const char *form;            /* x-www-form-urlencoded body             */
} post_t;

/* One request. GET: redirects followed (https only, at most 3), 0 on a 200
 * with a body. POST: no redirect, 0 on any HTTP answer (the caller reads
 * the status and the body, which may be empty). */
static int perform(apr_pool_t *p, const char *url, const cka_fetch_opts_t *o,
                   const post_t *post, cka_fetch_result_t *out)
{
    memset(out, 0, sizeof(*out));
    out->max_age = -1;
    if (apr_cstr_casecmpn(url, "https://", 8) != 0) {
        out->error = "only https:// URLs are fetched";
        return -1;
    }
    CURL *c = curl_easy_init();
    if (c == NULL) {
        out->error = "curl_easy_init failed";
        return -1;
    }
    sink_t s = { .p = p, .max = o->max_bytes ? o->max_bytes : CKA_MAX_DOC_LEN };
    char errbuf[CURL_ERROR_SIZE] = "";
    struct curl_slist *hdrs = NULL;
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
#if LIBCURL_VERSION_NUM >= 0x075500
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https");
    curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "https");
#else
    curl_easy_setopt(c, CURLOPT_PROTOCOLS, (long)CURLPROTO_HTTPS);
    curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS, (long)CURLPROTO_HTTPS);
#endif
    if (post == NULL) {
        curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
        curl_easy_setopt(c, CURLOPT_MAXREDIRS, 3L);
    }
    else {
        /* A credential is never sent on to wherever a redirect points. */
        curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
        curl_easy_setopt(c, CURLOPT_POST, 1L);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, post->form);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(post->form));
        hdrs = curl_slist_append(hdrs, "Content-Type: application/x-www-form-urlencoded");
        hdrs = curl_slist_append(hdrs, "Accept: application/json");
        hdrs = curl_slist_append(hdrs, "Expect:");
        if (post->authorization)
            hdrs = curl_slist_append(hdrs, apr_pstrcat(p, "Authorization: ",
                                                       post->authorization, NULL));
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
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
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, o->timeout_ms);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, o->timeout_ms);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
    if (o->ca_file)
        curl_easy_setopt(c, CURLOPT_CAINFO, o->ca_file);
    curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)s.max);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &s);
#if LIBCURL_VERSION_NUM < 0x075400
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &s);
#endif
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "mod_conduktor_auth");
    curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");

    CURLcode rc = curl_easy_perform(c);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out->status);
    out->max_age = cka_cache_control_max_age(cache_control(c, &s));
    curl_easy_cleanup(c);
    curl_slist_free_all(hdrs);
    if (s.too_big || rc == CURLE_FILESIZE_EXCEEDED) {
        out->error = s.max == CKA_MAX_DOC_LEN ? "document larger than 1 MiB refused"
            : apr_psprintf(p, "answer larger than %" APR_SIZE_T_FMT " bytes refused", s.max);
        return -1;
    }
    if (rc != CURLE_OK) {
        out->error = apr_psprintf(p, "%s%s%s", curl_easy_strerror(rc),
                                  *errbuf ? ": " : "", errbuf);
        return -1;
    }
    out->body = s.buf ? s.buf : apr_pstrdup(p, "");
    out->len = s.len;
    if (post != NULL)
        return 0;
    if (out->status != 200) {
        out->error = apr_psprintf(p, "HTTP status %ld", out->status);
        out->body = NULL;
        out->len = 0;
        return -1;
    }
    if (s.len == 0) {
        out->error = "empty body";
        out->body = NULL;
        return -1;
    }
    return 0;
}

int cka_fetch(apr_pool_t *p, const char *url, const cka_fetch_opts_t *o,
              cka_fetch_result_t *out)
{
    return perform(p, url, o, NULL, out);
}

int cka_fetch_post(apr_pool_t *p, const char *url, const cka_fetch_opts_t *o,
                   const char *authorization, const char *form, cka_fetch_result_t *out)
{
    post_t post = { .authorization = authorization, .form = form };
    return perform(p, url, o, &post, out);
}

const char *cka_discovery_url(apr_pool_t *p, const char *iss)
{
    size_t n = strlen(iss);
    return apr_pstrcat(p, iss, (n && iss[n - 1] == '/') ? "" : "/",
                       ".well-known/openid-configuration", NULL);
}

const char *cka_discovery_jwks_uri(apr_pool_t *p, const char *doc, size_t len,
                                   const char *iss, const char **err)
{
    const char *why = NULL;
    json_t *o = cka_json_parse_object(p, doc, len, &why);
    if (o == NULL) {
        *err = apr_psprintf(p, "discovery document: %s", why);
        return NULL;
    }
    json_t *i = json_object_get(o, "issuer");
    if (!json_is_string(i) || strcmp(json_string_value(i), iss) != 0) {
        *err = apr_psprintf(p, "discovery document issuer '%.200s' does not equal the "
                            "configured issuer '%.200s' (compared exactly)",
                            json_is_string(i) ? json_string_value(i) : "(none)", iss);
        return NULL;
    }
    json_t *u = json_object_get(o, "jwks_uri");
    if (!json_is_string(u) || apr_cstr_casecmpn(json_string_value(u), "https://", 8) != 0) {
        *err = "discovery document has no https jwks_uri";
        return NULL;
    }
    return apr_pstrdup(p, json_string_value(u));
}
