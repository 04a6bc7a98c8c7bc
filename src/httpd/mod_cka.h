/* mod_cka.h - shared by the glue files: the module record and logging. */
#ifndef MOD_CKA_H
#define MOD_CKA_H

#include <httpd.h>
#include <http_config.h>
#include <http_core.h>
#include <http_log.h>
#include <http_protocol.h>
#include <http_request.h>
#include <apr_strings.h>

extern module AP_MODULE_DECLARE_DATA conduktor_auth_module;
#if defined(APLOG_USE_MODULE) && !defined(CKA_FRONT_DOOR)
APLOG_USE_MODULE(conduktor_auth);
#endif

#include <jansson.h>
#include "reason.h"
#include "identity.h"
#include "credential.h"
#include "alg.h"

#define CKA_AUTH_TYPE "conduktor-jwt"

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
    /* The credential, sorted once (credential.c) */
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
    /* ---- BEGIN DPoP (dpop.c) */
    int           dpop_scheme;   /* Authorization: DPoP <token>             */
    int           dpop_ok;       /* a proof was accepted for this request   */
    /* ---- END DPoP */
} cka_req_t;

/* The request's state, created on first use. */
cka_req_t *cka_req(request_rec *r);
#define CKA_LOG_PREFIX "conduktor_auth: "

/* authn.c */
int cka_check_authn(request_rec *r);
int cka_header_parser(request_rec *r);
/* credential.c: the request's credential, read and sorted once (kind,
 * text, or why its header is refused); sets CONDUKTOR_AUTH_CREDENTIAL. */
cka_req_t *cka_credential(request_rec *r);
int cka_credential_fixups(request_rec *r);
void cka_credential_set_kind(request_rec *r, cka_cred_kind_t kind);
/* Sort another credential (a token obtained for the request) the same way. */
cka_reason_t cka_credential_sort(request_rec *r, const char *cred, size_t len,
                                 cka_cred_kind_t *kind);
/* authz.c */
void cka_register_authz_providers(apr_pool_t *p);
/* cors_hook.c (dc is a cka_dir_conf_t) */
struct cka_dir_conf_t;
int cka_cors_request(request_rec *r, const struct cka_dir_conf_t *dc);
void cka_register_cors_hooks(void);
/* id_headers.c (dc is a cka_dir_conf_t): client copies of the identity
 * headers stripped on every path; the module's values set, no variant left. */
void cka_register_id_header_hooks(void);
void cka_id_headers_set(request_rec *r, const struct cka_dir_conf_t *dc,
                        const cka_identity_t *id);
/* audit.c: the audit event (CONDUKTOR_AUTH_AUDIT) and its log item %^CA */
void cka_register_audit_hooks(void);
/* status.c */
int cka_status_handler(request_rec *r);
/* respond.c */
void cka_register_respond_hooks(void);
int cka_note_auth_failure(request_rec *r, const char *auth_type);
void cka_insert_error_filter(request_rec *r);
int cka_error_document_fixups(request_rec *r);
/* Refuse the request in check_authn: reason in the request state and
 * CONDUKTOR_AUTH_ERROR, the challenge or Retry-After, one log line (detail
 * or the reason's text); returns the status for the hook to return. */
int cka_refuse(request_rec *r, cka_reason_t why, const char *detail);
/* The RFC 6750 challenge for a refusal reason (with the scope, acr_values,
 * max_age and resource_metadata parameters that apply). */
const char *cka_challenge(request_rec *r, cka_reason_t why);
/* A valid token that authorization refused: the answer's reason - step-up
 * (401, RFC 9470) when a conduktor-acr line or ConduktorAuthMaxAge asked
 * for more, else the Require denial (403 insufficient_scope). */
cka_reason_t cka_authz_denial(const cka_req_t *rq);
/* authz_stepup.c: Require conduktor-scope / conduktor-acr, ConduktorAuthMaxAge */
void cka_register_stepup(apr_pool_t *p);
/* dpop.c (dc is a cka_dir_conf_t): the binding rules and the DPoP proof
 * of a verified token (CKA_OK, or why refused, with a detail for the log;
 * on CKA_OK the backend's Authorization is Bearer and DPoP is gone); the
 * DPoP challenge beside or instead of the Bearer one. */
cka_reason_t cka_binding_check(request_rec *r, const struct cka_dir_conf_t *dc,
                               const char *tok, size_t len, const json_t *claims,
                               const char **detail);
void cka_dpop_challenges(request_rec *r, cka_reason_t why);
void cka_register_dpop_hooks(void);
/* The proof algorithms in the order challenges and metadata list them. */
#define CKA_DPOP_NALGS 10
extern const cka_alg_t cka_dpop_alg_order[CKA_DPOP_NALGS];
/* resource_md.c: RFC 9728 metadata served at its well-known URL */
void cka_register_resource_md(void);

#endif
