/* request.h - what one request learned (request.c). */
#ifndef CKA_REQUEST_H
#define CKA_REQUEST_H
#include "mod_cka.h"
#include "credential.h"

/* What one request learned, for authz and the error response. Lives in
 * r->request_config; never in shared configuration. */
typedef struct {
    int           authn_ok;      /* our check_authn accepted the token      */
    cka_reason_t  reason;        /* why refused (authn) or denied (authz)   */
    const json_t *claims;        /* verified claims, for Require            */
    const char   *kid;           /* kid in the header of the verified token */
    int           preflight;     /* a CORS preflight (answered or refused)  */
    int           cors_scope;    /* CORS is on where this request landed    */
    const void   *id_headers_dir; /* per_dir_config id_headers.c cleaned for */
    /* The credential, sorted once (credential_hook.c) */
    int              cred_done;
    cka_reason_t     cred_reason; /* CKA_OK, or why the header is refused   */
    cka_cred_kind_t  cred_kind;   /* CKA_CRED_NONE: no credential           */
    const char      *cred;        /* bearer text, or the Basic value        */
    size_t           cred_len;
    /* The token cache's answer about the credential (token_cache.h), asked
     * by the sorting and reused by the verdict; NULL: not asked. */
    const struct cka_token_probe_t *probe;
    /* authz_stepup.c: what a Require line or ConduktorAuthMaxAge asked for
     * and the token lacked, for the challenge (see cka_authz_denial). */
    const char   *scope_wanted;  /* scopes of the conduktor-scope line     */
    const char   *acr_wanted;    /* acr values of the conduktor-acr line    */
    int           max_age_failed; /* ConduktorAuthMaxAge not met, ...      */
    int           max_age_wanted; /* ... for this many seconds              */
    /* ---- BEGIN DPoP (dpop_hook.c) */
    int           dpop_scheme;   /* Authorization: DPoP <token>             */
    int           dpop_ok;       /* a proof was accepted for this request   */
    const char   *dpop_token;    /* ... for this token (the verdict that an */
    size_t        dpop_token_len; /* internal redirect or subrequest reuses) */
    /* ---- END DPoP */
} cka_req_t;

/* The request's state, created on first use. */
cka_req_t *cka_req(request_rec *r);

#endif
