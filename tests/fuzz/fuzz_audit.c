/* fuzz_audit.c - the audit event (src/core/audit.c) whatever bytes the
 * request and the claims hold.
 *
 * Input: fields separated by '\n' - user, client ip, method, path, server,
 * credential, kid, reason, email claim path, groups claim path - then the
 * claims as JSON text (the rest; used when it parses to an object). The
 * first byte's low bit picks success or failure.
 *
 * Checks: the event is valid JSON (jansson's strict parser, which also
 * rejects bytes that are not UTF-8), an object, at most CKA_AUDIT_MAX
 * bytes, one line without any raw control character (C0, DEL, C1,
 * U+2028/9); event.outcome and event.reason are what was asked (unless cut:
 * a reason is then a prefix); cka_audit_utf8 of the raw input is valid
 * UTF-8 within its bound. */
#include <stdlib.h>
#include <string.h>
#include <apr_strings.h>
#include <jansson.h>
#include "fuzz_common.h"
#include "audit.h"

#define NFIELDS 10

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fz_apr_init();
    return 0;
}

static void check_line(const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    for (size_t i = 0; i < n; i++) {
        FZ_CHECK(u[i] >= 0x20 && u[i] != 0x7f, "raw C0 control or DEL in the event");
        FZ_CHECK(!(u[i] == 0xC2 && i + 1 < n && u[i + 1] >= 0x80 && u[i + 1] <= 0x9F),
                 "raw C1 control in the event");
        FZ_CHECK(!(u[i] == 0xE2 && i + 2 < n && u[i + 1] == 0x80
                   && (u[i + 2] == 0xA8 || u[i + 2] == 0xA9)),
                 "raw U+2028/U+2029 in the event");
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    int success = data[0] & 1;
    apr_pool_t *p;
    apr_pool_create(&p, fz_root);

    /* The raw bytes as UTF-8 within a bound. */
    size_t max = data[0] >> 1, len = 0;
    int cut = 0;
    char *u = cka_audit_utf8(p, (const char *)data + 1, size - 1, max, &len, &cut);
    FZ_CHECK(len <= max, "cka_audit_utf8 over its bound");
    json_t *js = json_stringn(u, len);
    FZ_CHECK(js != NULL, "cka_audit_utf8 gave bytes that are not UTF-8");
    json_decref(js);

    const char *field[NFIELDS] = { NULL };
    const char *rest = (const char *)data + 1, *end = (const char *)data + size;
    for (int i = 0; i < NFIELDS && rest < end; i++) {
        const char *nl = memchr(rest, '\n', (size_t)(end - rest));
        size_t n = nl ? (size_t)(nl - rest) : (size_t)(end - rest);
        field[i] = apr_pstrmemdup(p, rest, n);   /* cut at a NUL, as httpd's strings */
        rest += n + (nl ? 1 : 0);
    }
    json_error_t e;
    json_t *claims = rest < end ? json_loadb(rest, (size_t)(end - rest), 0, &e) : NULL;

    cka_audit_t ev;
    memset(&ev, 0, sizeof(ev));
    ev.time_us = (long long)size * 1000003LL;
    ev.success = success;
    ev.status = success ? 200 : 401;
    ev.user = field[0];
    ev.client_ip = field[1];
    ev.method = field[2];
    ev.path = field[3];
    ev.server = field[4];
    ev.credential = field[5];
    ev.kid = field[6];
    ev.reason = success ? NULL : field[7];
    ev.email_claim = field[8] && *field[8] ? field[8] : NULL;
    ev.groups_claim = field[9] && *field[9] ? field[9] : NULL;
    ev.claims = json_is_object(claims) ? claims : NULL;

    const char *s = cka_audit_json(p, &ev);
    size_t n = strlen(s);
    FZ_CHECK(n <= CKA_AUDIT_MAX, "event over CKA_AUDIT_MAX");
    check_line(s, n);
    json_t *o = json_loadb(s, n, JSON_REJECT_DUPLICATES, &e);
    FZ_CHECK(json_is_object(o), "event is not one JSON object");
    json_t *event = json_object_get(o, "event");
    const char *outcome = json_string_value(json_object_get(event, "outcome"));
    FZ_CHECK(outcome && strcmp(outcome, success ? "success" : "failure") == 0,
             "event.outcome is not the one asked");
    const char *reason = json_string_value(json_object_get(event, "reason"));
    if (ev.reason == NULL)
        FZ_CHECK(reason == NULL, "a reason nobody gave");
    else if (strlen(ev.reason) < 48 && json_object_get(o, "truncated") == NULL) {
        /* valid UTF-8 and short: kept exactly */
        json_t *r = json_string(ev.reason);
        if (r != NULL)
            FZ_CHECK(reason && strcmp(reason, ev.reason) == 0, "event.reason changed");
        json_decref(r);
    }
    json_decref(o);
    json_decref(claims);
    apr_pool_destroy(p);
    return 0;
}
