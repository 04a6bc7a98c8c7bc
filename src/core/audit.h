/* audit.h - the audit event of one decision, as one line of JSON.
 *
 * Part of the core: no httpd header. The glue (src/httpd/audit_hook.c) collects
 * the request's values; this file turns them into a compact JSON object
 * with Elastic Common Schema names where one fits. jansson does the
 * escaping (and DEL, C1 controls, U+2028/9 are written as \u escapes too:
 * no raw control character in a line); every string is made valid UTF-8 first (an invalid byte becomes
 * U+FFFD) and cut to a bounded length, so the object is valid JSON and at
 * most CKA_AUDIT_MAX bytes whatever bytes the request or the claims hold.
 * Nothing here ever sees the token. */
#ifndef CKA_AUDIT_H
#define CKA_AUDIT_H
#include <jansson.h>
#include <apr_pools.h>

/* Upper bound of the JSON text (without a terminating NUL). */
#define CKA_AUDIT_MAX 8192

typedef struct {
    long long     time_us;       /* request time, microseconds since 1970  */
    int           success;       /* event.outcome success / failure        */
    const char   *reason;        /* event.reason (failures); NULL: none     */
    int           status;        /* http.response.status_code; 0: omitted   */
    const char   *user;          /* user.name (REMOTE_USER); NULL: omitted  */
    const char   *client_ip;     /* client.ip                               */
    const char   *method;        /* http.request.method                     */
    const char   *path;          /* url.path (no query)                     */
    const char   *server;        /* server.address: the virtual host        */
    const char   *credential;    /* kind: jwt, opaque, basic, ...; NULL     */
    const char   *kid;           /* kid of the header of the verified token */
    /* Verified claims only (NULL for a refused token: its claims are never
     * reported as who the caller is): iss, sub, jti, azp, client_id, exp,
     * user.email from email_claim, groups from groups_claim (paths as
     * cka_claim_lookup takes them; NULL: "email" / "groups"). */
    const json_t *claims;
    const char   *email_claim;
    const char   *groups_claim;
} cka_audit_t;

/* The event as compact JSON on one line (no raw control character), at
 * most CKA_AUDIT_MAX bytes, allocated in p. When the values would make it
 * longer, strings and the group list are cut further and "truncated": true
 * is added. Never NULL. */
const char *cka_audit_json(apr_pool_t *p, const cka_audit_t *ev);

/* s (n bytes) as valid UTF-8 of at most max bytes, cut at a character
 * boundary: each byte that does not start a well-formed sequence (RFC 3629:
 * no overlong forms, no surrogates, nothing above U+10FFFF) becomes U+FFFD.
 * *cut (optional) is set to 1 when something was cut off. */
char *cka_audit_utf8(apr_pool_t *p, const char *s, size_t n, size_t max,
                     size_t *outlen, int *cut);

#endif
