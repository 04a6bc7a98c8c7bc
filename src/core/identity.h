/* identity.h - the identity handed on to httpd and the backend. */
#ifndef CKA_IDENTITY_H
#define CKA_IDENTITY_H
#include <jansson.h>
#include <apr_pools.h>
#include <apr_tables.h>
#include "reason.h"

/* What the configuration asks to extract. */
typedef struct {
    const apr_array_header_t *user_claims;  /* const char *, first present */
    const char *email_claim;
    const char *groups_claim;
    const char *separator;
    const apr_array_header_t *extra_paths;  /* const char *: ClaimEnv and
                                               claim:<path> headers */
} cka_identity_spec_t;

typedef struct {
    const char *user;       /* REMOTE_USER                                  */
    const char *email;      /* NULL when absent or not a string             */
    const char *groups;     /* joined, a single string as one group; NULL when absent */
    const char *subject;
    const char *issuer;
    long long   expires;
    int         groups_overage;  /* Azure AD _claim_names.groups            */
    apr_table_t *extra;     /* path -> text, for extra_paths present        */
} cka_identity_t;

/* Extract the identity. CKA_NO_USER when no user claim is present as a
 * non-empty string. */
cka_reason_t cka_identity_extract(apr_pool_t *p, const json_t *claims,
                                  const cka_identity_spec_t *spec,
                                  cka_identity_t *out);

/* A value safe to put in a request header or env variable: control
 * characters (CR, LF, NUL, ...) become "\xNN", and a backslash before
 * them is kept as is. Returns v itself when nothing needs escaping. */
const char *cka_header_safe(apr_pool_t *p, const char *v);

#endif
