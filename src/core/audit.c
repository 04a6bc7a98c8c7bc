/* audit.c - the audit event of one decision as one line of JSON (see
 * audit.h): ECS names, jansson's escaping, valid UTF-8, bounded size. */
#include "audit.h"
#include "claim_path.h"
#include <string.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <apr_strings.h>

/* Length of the well-formed UTF-8 sequence at s (n bytes left), 0 when
 * the byte at s does not start one (RFC 3629, table 3-7 of Unicode). */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
    unsigned c = s[0], lo = 0x80, hi = 0xBF;
    size_t len;
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF)
        len = 2;
    else if (c == 0xE0)
        len = 3, lo = 0xA0;
    else if ((c >= 0xE1 && c <= 0xEC) || c == 0xEE || c == 0xEF)
        len = 3;
    else if (c == 0xED)
        len = 3, hi = 0x9F;                 /* no UTF-16 surrogates */
    else if (c == 0xF0)
        len = 4, lo = 0x90;
    else if (c >= 0xF1 && c <= 0xF3)
        len = 4;
    else if (c == 0xF4)
        len = 4, hi = 0x8F;                 /* nothing above U+10FFFF */
    else
        return 0;
    if (n < len || s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < len; i++)
        if (s[i] < 0x80 || s[i] > 0xBF)
            return 0;
    return len;
}

char *cka_audit_utf8(apr_pool_t *p, const char *s, size_t n, size_t max,
                     size_t *outlen, int *cut)
{
    static const char repl[] = "\xEF\xBF\xBD";   /* U+FFFD */
    char *o = apr_palloc(p, max + 1), *w = o;
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0;
    while (i < n) {
        size_t k = utf8_seq(u + i, n - i);
        const char *from = k ? s + i : repl;
        size_t len = k ? k : 3;
        if ((size_t)(w - o) + len > max) {
            if (cut)
                *cut = 1;
            break;
        }
        memcpy(w, from, len);
        w += len;
        i += k ? k : 1;
    }
    *w = '\0';
    if (outlen)
        *outlen = (size_t)(w - o);
    return o;
}

/* How much of each value goes in. */
typedef struct {
    size_t str;          /* bytes of a string field       */
    size_t path;         /* bytes of url.path              */
    size_t ngroups;      /* members of groups              */
    size_t group;        /* bytes of one member            */
    size_t groups_total; /* bytes of all members together  */
} limits_t;

static const limits_t roomy = { 256, 1024, 64, 256, 2048 };
/* Worst case (every byte a control character, 6 bytes escaped): 13
 * fields of 48 + a path of 96 + 4 groups of 48, times 6, is 5.5 KiB, with
 * the member names well under CKA_AUDIT_MAX. */
static const limits_t tight = { 48, 96, 4, 48, 192 };

static json_t *text(apr_pool_t *p, const char *s, size_t n, size_t max, int *cut)
{
    size_t len;
    char *u = cka_audit_utf8(p, s, n, max, &len, cut);
    return json_stringn(u, len);      /* valid UTF-8 by construction */
}

static void put_str(apr_pool_t *p, json_t *o, const char *key, const char *s,
                    size_t max, int *cut)
{
    if (s != NULL)
        json_object_set_new(o, key, text(p, s, strlen(s), max, cut));
}

/* A claim as it is: a string (made safe and cut) or a number; any other
 * type is left out. */
static void put_claim(apr_pool_t *p, json_t *o, const char *key, const json_t *claims,
                      const char *path, size_t max, int *cut)
{
    json_t *v = claims ? cka_claim_lookup(claims, path) : NULL;
    if (json_is_string(v))
        json_object_set_new(o, key, text(p, json_string_value(v), json_string_length(v),
                                         max, cut));
    else if (json_is_integer(v))
        json_object_set_new(o, key, json_integer(json_integer_value(v)));
    else if (json_is_real(v))
        json_object_set_new(o, key, json_real(json_real_value(v)));
}

/* groups: an array's string members, or a single string as one group. */
static json_t *groups(apr_pool_t *p, const json_t *g, const limits_t *l, int *cut)
{
    json_t *out = json_array();
    size_t used = 0, n = json_is_array(g) ? json_array_size(g) : 1;
    for (size_t i = 0; i < n; i++) {
        const json_t *m = json_is_array(g) ? json_array_get(g, i) : g;
        if (!json_is_string(m))
            continue;
        if (json_array_size(out) == l->ngroups || used >= l->groups_total) {
            *cut = 1;
            break;
        }
        size_t room = l->groups_total - used, max = l->group < room ? l->group : room;
        json_t *t = text(p, json_string_value(m), json_string_length(m), max, cut);
        used += json_string_length(t);
        json_array_append_new(out, t);
    }
    return out;
}

static json_t *build(apr_pool_t *p, const cka_audit_t *ev, const limits_t *l, int minimal)
{
    int cut = minimal;
    json_t *o = json_object();

    long long us = ev->time_us > 0 ? ev->time_us : 0;
    time_t sec = (time_t)(us / 1000000);
    struct tm tm;
    char day[32];
    gmtime_r(&sec, &tm);
    strftime(day, sizeof(day), "%Y-%m-%dT%H:%M:%S", &tm);
    json_object_set_new(o, "@timestamp", json_string(apr_psprintf(p, "%s.%03dZ", day,
                                                     (int)((us % 1000000) / 1000))));

    json_t *event = json_object();
    json_object_set_new(event, "kind", json_string("event"));
    json_object_set_new(event, "category", json_pack("[s]", "authentication"));
    json_object_set_new(event, "module", json_string("conduktor_auth"));
    json_object_set_new(event, "outcome", json_string(ev->success ? "success" : "failure"));
    put_str(p, event, "reason", ev->reason, l->str, &cut);
    json_object_set_new(o, "event", event);

    if (!minimal) {
        json_t *user = json_object();
        put_str(p, user, "name", ev->user, l->str, &cut);
        put_claim(p, user, "email", ev->claims,
                  ev->email_claim ? ev->email_claim : "email", l->str, &cut);
        if (json_object_size(user) > 0)
            json_object_set(o, "user", user);
        json_decref(user);
        json_t *g = ev->claims ? cka_claim_lookup(ev->claims, ev->groups_claim
                                                  ? ev->groups_claim : "groups") : NULL;
        if (json_is_string(g) || json_is_array(g))
            json_object_set_new(o, "groups", groups(p, g, l, &cut));

        json_t *client = json_object();
        put_str(p, client, "ip", ev->client_ip, l->str, &cut);
        json_object_set_new(o, "client", client);
        json_t *url = json_object();
        put_str(p, url, "path", ev->path, l->path, &cut);
        json_object_set_new(o, "url", url);
        if (ev->server) {
            json_t *server = json_object();
            put_str(p, server, "address", ev->server, l->str, &cut);
            json_object_set_new(o, "server", server);
        }
    }
    json_t *http = json_object(), *req = json_object();
    if (!minimal)
        put_str(p, req, "method", ev->method, l->str, &cut);
    json_object_set_new(http, "request", req);
    if (ev->status > 0)
        json_object_set_new(http, "response", json_pack("{s:i}", "status_code", ev->status));
    json_object_set_new(o, "http", http);

    if (!minimal) {
        put_str(p, o, "credential", ev->credential, l->str, &cut);
        put_str(p, o, "kid", ev->kid, l->str, &cut);
        static const char *const names[] = { "iss", "sub", "jti", "azp", "client_id", "exp" };
        for (size_t i = 0; ev->claims && i < sizeof(names) / sizeof(names[0]); i++)
            put_claim(p, o, names[i], ev->claims, names[i], l->str, &cut);
    }
    if (cut)
        json_object_set_new(o, "truncated", json_true());
    return o;
}

/* jansson escapes C0 controls, '"' and '\\' but writes DEL, the C1
 * controls (U+0080..U+009F) and U+2028/U+2029 as they are: valid JSON,
 * yet line breaks or terminal controls to some readers of a log. Outside
 * strings the text is ASCII without them, so each is replaced by its
 * \\u escape wherever it is. */
static size_t raw_control(const unsigned char *s, size_t left, unsigned *cp)
{
    if (s[0] == 0x7f)
        return *cp = 0x7f, 1;
    if (left >= 2 && s[0] == 0xC2 && s[1] >= 0x80 && s[1] <= 0x9F)
        return *cp = s[1], 2;
    if (left >= 3 && s[0] == 0xE2 && s[1] == 0x80 && (s[2] == 0xA8 || s[2] == 0xA9))
        return *cp = 0x2000u | (s[2] == 0xA8 ? 0x28u : 0x29u), 3;
    return 0;
}

static char *dump(apr_pool_t *p, json_t *o, size_t *len)
{
    char *s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    if (s == NULL) {
        *len = 2;
        return apr_pstrdup(p, "{}");
    }
    size_t n = strlen(s), extra = 0, k;
    unsigned cp;
    const unsigned char *u = (const unsigned char *)s;
    for (size_t i = 0; i < n; i += k ? k : 1)
        if ((k = raw_control(u + i, n - i, &cp)) != 0)
            extra += 6 - k;
    char *out = apr_palloc(p, n + extra + 1), *w = out;
    for (size_t i = 0; i < n; i += k ? k : 1) {
        if ((k = raw_control(u + i, n - i, &cp)) != 0)
            w += snprintf(w, 7, "\\u%04x", cp);
        else
            *w++ = s[i];
    }
    *w = '\0';
    *len = (size_t)(w - out);
    free(s);
    return out;
}

const char *cka_audit_json(apr_pool_t *p, const cka_audit_t *ev)
{
    size_t len;
    char *s = dump(p, build(p, ev, &roomy, 0), &len);
    if (len > CKA_AUDIT_MAX)
        s = dump(p, build(p, ev, &tight, 0), &len);
    if (len > CKA_AUDIT_MAX)          /* cannot happen with the limits above */
        s = dump(p, build(p, ev, &tight, 1), &len);
    return s;
}
