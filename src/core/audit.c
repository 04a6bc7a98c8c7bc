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

/* The text is written straight into a pool buffer, as jansson's compact
 * dump would write the same object (members in this order, its escaping),
 * and DEL, the C1 controls and U+2028/U+2029 as \u escapes besides: no
 * JSON object is built, nothing is allocated outside the pool. */
typedef struct {
    apr_pool_t *p;
    char       *buf;
    size_t      len, cap;
    int         first;       /* no member yet in the open object/array */
    int         cut;
} out_t;

static void grow(out_t *o, size_t more)
{
    if (o->len + more + 1 <= o->cap)
        return;
    size_t cap = o->cap * 2;
    while (cap < o->len + more + 1)
        cap *= 2;
    char *b = apr_palloc(o->p, cap);
    memcpy(b, o->buf, o->len);
    o->buf = b;
    o->cap = cap;
}

static void put(out_t *o, const char *s, size_t n)
{
    grow(o, n);
    memcpy(o->buf + o->len, s, n);
    o->len += n;
}

#define PUT(o, lit) put((o), (lit), sizeof(lit) - 1)

/* DEL, a C1 control, U+2028/U+2029: *cp and the length of its UTF-8. */
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

/* A JSON string of valid UTF-8 (n bytes). */
static void put_quoted(out_t *o, const char *s, size_t n)
{
    static const char hex_uc[] = "0123456789ABCDEF";
    const unsigned char *u = (const unsigned char *)s;
    grow(o, n + 2);
    o->buf[o->len++] = '"';
    for (size_t i = 0; i < n;) {
        unsigned c = u[i], cp;
        size_t k;
        char e[7];
        if (c >= 0x20 && c != '"' && c != '\\' && c < 0x7f) {
            size_t j = i + 1;
            while (j < n && u[j] >= 0x20 && u[j] != '"' && u[j] != '\\' && u[j] < 0x7f)
                j++;
            put(o, s + i, j - i);
            i = j;
            continue;
        }
        if (c == '"')
            PUT(o, "\\\"");
        else if (c == '\\')
            PUT(o, "\\\\");
        else if (c == '\b')
            PUT(o, "\\b");
        else if (c == '\f')
            PUT(o, "\\f");
        else if (c == '\n')
            PUT(o, "\\n");
        else if (c == '\r')
            PUT(o, "\\r");
        else if (c == '\t')
            PUT(o, "\\t");
        else if (c < 0x20) {             /* jansson: \u00XX, upper case */
            e[0] = '\\'; e[1] = 'u'; e[2] = '0'; e[3] = '0';
            e[4] = hex_uc[c >> 4]; e[5] = hex_uc[c & 15];
            put(o, e, 6);
        }
        else if ((k = raw_control(u + i, n - i, &cp)) != 0) {
            snprintf(e, sizeof(e), "\\u%04x", cp);
            put(o, e, 6);
            i += k;
            continue;
        }
        else {
            put(o, s + i, 1);            /* a byte of a UTF-8 sequence */
        }
        i++;
    }
    grow(o, 1);
    o->buf[o->len++] = '"';
}

/* Opening a member: the comma, the key. */
static void key(out_t *o, const char *k)
{
    if (!o->first)
        PUT(o, ",");
    o->first = 0;
    put_quoted(o, k, strlen(k));
    PUT(o, ":");
}

static void open_obj(out_t *o, const char *k)
{
    if (k != NULL)
        key(o, k);
    PUT(o, "{");
    o->first = 1;
}

static void close_obj(out_t *o)
{
    PUT(o, "}");
    o->first = 0;
}

static void text(out_t *o, const char *s, size_t n, size_t max)
{
    size_t len;
    char *u = cka_audit_utf8(o->p, s, n, max, &len, &o->cut);
    put_quoted(o, u, len);
}

static void put_str(out_t *o, const char *k, const char *s, size_t max)
{
    if (s != NULL) {
        key(o, k);
        text(o, s, strlen(s), max);
    }
}

static void put_int(out_t *o, const char *k, long long v)
{
    char b[32];
    key(o, k);
    put(o, b, (size_t)snprintf(b, sizeof(b), "%lld", v));
}

/* A claim as it is: a string (made safe and cut) or a number; any other
 * type is left out. A real is written by jansson (rare: exp is an integer). */
static void put_claim(out_t *o, const char *k, const json_t *claims, const char *path,
                      size_t max)
{
    json_t *v = claims ? cka_claim_lookup(claims, path) : NULL;
    if (json_is_string(v)) {
        key(o, k);
        text(o, json_string_value(v), json_string_length(v), max);
    }
    else if (json_is_integer(v))
        put_int(o, k, (long long)json_integer_value(v));
    else if (json_is_real(v)) {
        char *t = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
        if (t != NULL) {
            key(o, k);
            put(o, t, strlen(t));
            free(t);
        }
    }
}

/* groups: an array's string members, or a single string as one group. */
static void groups(out_t *o, const json_t *g, const limits_t *l)
{
    key(o, "groups");
    PUT(o, "[");
    size_t used = 0, count = 0, n = json_is_array(g) ? json_array_size(g) : 1;
    for (size_t i = 0; i < n; i++) {
        const json_t *m = json_is_array(g) ? json_array_get(g, i) : g;
        if (!json_is_string(m))
            continue;
        if (count == l->ngroups || used >= l->groups_total) {
            o->cut = 1;
            break;
        }
        size_t room = l->groups_total - used, max = l->group < room ? l->group : room;
        size_t len;
        char *u = cka_audit_utf8(o->p, json_string_value(m), json_string_length(m), max,
                                 &len, &o->cut);
        if (count++ > 0)
            PUT(o, ",");
        put_quoted(o, u, len);
        used += len;
    }
    PUT(o, "]");
    o->first = 0;
}

static const char *build(apr_pool_t *p, const cka_audit_t *ev, const limits_t *l,
                         int minimal, size_t *len)
{
    out_t o = { .p = p, .cap = 1024, .first = 1, .cut = minimal };
    o.buf = apr_palloc(p, o.cap);

    long long us = ev->time_us > 0 ? ev->time_us : 0;
    time_t sec = (time_t)(us / 1000000);
    struct tm tm;
    char day[48];
    gmtime_r(&sec, &tm);
    size_t dn = strftime(day, sizeof(day), "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(day + dn, sizeof(day) - dn, ".%03dZ", (int)((us % 1000000) / 1000));

    PUT(&o, "{");
    put_str(&o, "@timestamp", day, sizeof(day));
    open_obj(&o, "event");
    PUT(&o, "\"kind\":\"event\",\"category\":[\"authentication\"],"
            "\"module\":\"conduktor_auth\",\"outcome\":");
    if (ev->success)
        PUT(&o, "\"success\"");
    else
        PUT(&o, "\"failure\"");
    o.first = 0;
    put_str(&o, "reason", ev->reason, l->str);
    close_obj(&o);

    if (!minimal) {
        const json_t *email = ev->claims ? cka_claim_lookup(ev->claims, ev->email_claim
                                                           ? ev->email_claim : "email") : NULL;
        if (ev->user != NULL || json_is_string(email) || json_is_number(email)) {
            open_obj(&o, "user");
            put_str(&o, "name", ev->user, l->str);
            put_claim(&o, "email", ev->claims, ev->email_claim ? ev->email_claim : "email",
                      l->str);
            close_obj(&o);
        }
        const json_t *g = ev->claims ? cka_claim_lookup(ev->claims, ev->groups_claim
                                                       ? ev->groups_claim : "groups") : NULL;
        if (json_is_string(g) || json_is_array(g))
            groups(&o, g, l);
        open_obj(&o, "client");
        put_str(&o, "ip", ev->client_ip, l->str);
        close_obj(&o);
        open_obj(&o, "url");
        put_str(&o, "path", ev->path, l->path);
        close_obj(&o);
        if (ev->server) {
            open_obj(&o, "server");
            put_str(&o, "address", ev->server, l->str);
            close_obj(&o);
        }
    }
    open_obj(&o, "http");
    open_obj(&o, "request");
    if (!minimal)
        put_str(&o, "method", ev->method, l->str);
    close_obj(&o);
    if (ev->status > 0) {
        open_obj(&o, "response");
        put_int(&o, "status_code", ev->status);
        close_obj(&o);
    }
    close_obj(&o);

    if (!minimal) {
        put_str(&o, "credential", ev->credential, l->str);
        put_str(&o, "kid", ev->kid, l->str);
        static const char *const names[] = { "iss", "sub", "jti", "azp", "client_id", "exp" };
        for (size_t i = 0; ev->claims && i < sizeof(names) / sizeof(names[0]); i++)
            put_claim(&o, names[i], ev->claims, names[i], l->str);
    }
    if (o.cut)
        PUT(&o, ",\"truncated\":true");
    PUT(&o, "}");
    o.buf[o.len] = '\0';
    *len = o.len;
    return o.buf;
}

const char *cka_audit_json(apr_pool_t *p, const cka_audit_t *ev)
{
    size_t len;
    const char *s = build(p, ev, &roomy, 0, &len);
    if (len > CKA_AUDIT_MAX)
        s = build(p, ev, &tight, 0, &len);
    if (len > CKA_AUDIT_MAX)          /* cannot happen with the limits above */
        s = build(p, ev, &tight, 1, &len);
    return s;
}
