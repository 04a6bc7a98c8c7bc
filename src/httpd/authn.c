/* authn.c - check_authn: token -> core verdict -> env, headers, r->user;
 * header_parser: CORS preflights. Identity headers: id_headers.c. */
#include "authn.h"
#include "credential_hook.h"
#include "binding.h"
#include "cors_hook.h"
#include "respond.h"
#include "dpop_hook.h"
#include "id_headers.h"
#include "request.h"
#include "config.h"
#include "key_store.h"
#include "claim_path.h"
#include "validate.h"
#include "cka_limits.h"
#include "claims.h"
#include "metrics.h"
#include "token_cache.h"
#include "shared_cache.h"
#include "client_exchange.h"
#include "introspect.h"
#include "mtls.h"
#include <apr_lib.h>

/* ---- header_parser: CORS preflights, answered before authentication ------ */

/* Identity headers are stripped earlier, in post_perdir_config (id_headers.c),
 * which runs for subrequests and internal redirects too. */
int cka_header_parser(request_rec *r)
{
    cka_dir_conf_t *dc = ap_get_module_config(r->per_dir_config, &conduktor_auth_module);
    if (dc == NULL)
        return DECLINED;
    return cka_cors_request(r, dc);
}

/* ---- handing the identity on ---------------------------------------------- */

static void set_env(request_rec *r, const char *name, const char *v)
{
    if (v != NULL)
        apr_table_setn(r->subprocess_env, name, cka_header_safe(r->pool, v));
}

static void hand_on(request_rec *r, const cka_dir_conf_t *dc, const cka_identity_t *id)
{
    r->user = (char *)cka_header_safe(r->pool, id->user);
    r->ap_auth_type = (char *)CKA_AUTH_TYPE;
    apr_table_setn(r->subprocess_env, "REMOTE_USER", r->user);
    set_env(r, "CONDUKTOR_AUTH_EMAIL", id->email);
    set_env(r, "CONDUKTOR_AUTH_GROUPS", id->groups);
    set_env(r, "CONDUKTOR_AUTH_SUBJECT", id->subject);
    set_env(r, "CONDUKTOR_AUTH_ISSUER", id->issuer);
    set_env(r, "CONDUKTOR_AUTH_EXPIRES", apr_psprintf(r->pool, "%" APR_INT64_T_FMT, (apr_int64_t)id->expires));
    if (id->groups_overage) {
        apr_table_setn(r->subprocess_env, "CONDUKTOR_AUTH_GROUPS_OVERAGE", "1");
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, CKA_LOG_PREFIX
                      "groups overage: the token carries _claim_names.groups instead "
                      "of groups (too many groups for the IdP to embed); "
                      "CONDUKTOR_AUTH_GROUPS is empty for user %s",
                      ap_escape_logitem(r->pool, r->user));
    }
    for (int i = 0; dc->claim_env && i < dc->claim_env->nelts; i++) {
        const cka_claim_env_t *ce = APR_ARRAY_IDX(dc->claim_env, i, cka_claim_env_t *);
        set_env(r, ce->var, apr_table_get(id->extra, ce->claim));
    }
    cka_id_headers_set(r, dc, id);
    if (!cka_forward_token(dc))
        apr_table_unset(r->headers_in, cka_token_header(dc));
    /* ConduktorAuthTokenHeader <other>: the token came in another header,
     * so an Authorization header beside it is a credential nobody checked
     * - the backend (which re-validates Authorization) must not take it
     * for the caller's. It is removed, on every accepted request (bound
     * or not); ConduktorAuthForwardToken decides about the header that was
     * checked. */
    if (ap_cstr_casecmp(cka_token_header(dc), "Authorization") != 0
        && apr_table_get(r->headers_in, "Authorization") != NULL) {
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, CKA_LOG_PREFIX
                      "an Authorization header beside ConduktorAuthTokenHeader %s was not "
                      "checked: removed before the backend",
                      ap_escape_logitem(r->pool, cka_token_header(dc)));
        apr_table_unset(r->headers_in, "Authorization");
    }
}

/* ---- one request's authentication, step by step --------------------------- */

typedef struct {
    request_rec          *r;
    const cka_dir_conf_t *dc;
    const cka_srv_conf_t *sc;
    cka_policy_t          pol;
    const char           *tok;          /* the token checked               */
    size_t                len;
    const char           *basic;        /* the Basic value, when exchanged */
    int                   introspected; /* an opaque token, introspected   */
    const json_t         *claims;
    const char           *iss;
    cka_alg_t             alg;
    int                   cached;
    cka_identity_t        id;
} authn_t;

/* What the step says: OK to go on, anything else is the hook's answer. */
#define STEP(call) do { int rc_ = (call); if (rc_ != OK) return rc_; } while (0)

/* This location can check a token at all: issuers, an audience. */
static int configured(authn_t *a)
{
    if (a->sc->issuers == NULL || a->sc->issuers->nelts == 0)
        return cka_refuse(a->r, CKA_NOT_CONFIGURED,
                          "no ConduktorAuthIssuer configured for this server: failing closed");
    if (a->dc->audiences == NULL)
        return cka_refuse(a->r, CKA_NOT_CONFIGURED, "no ConduktorAuthAudience for this "
                          "location (use * to disable the check): failing closed");
    cka_dir_policy(a->dc, a->sc, &a->pol);
    return OK;
}

/* Client credentials: Basic client_id:secret exchanged for a token, which
 * is then checked like any credential (a JWT of a trusted issuer, or
 * refused). */
static int exchange(authn_t *a, const cka_req_t *cred)
{
    request_rec *r = a->r;
    if (a->dc->client_creds == NULL)
        return cka_refuse(r, CKA_NO_TOKEN, "Basic credentials are not exchanged here "
                          "(no ConduktorAuthClientCredentials)");
    a->basic = apr_pstrmemdup(r->pool, cred->cred, cred->cred_len);
    cka_reason_t why = cka_client_credentials(r, a->dc, a->basic, &a->tok, &a->len);
    if (why != CKA_OK)
        return cka_refuse(r, why, NULL);
    cka_cred_kind_t kind = CKA_CRED_NONE;
    why = cka_credential_sort(r, a->tok, a->len, &kind);
    if (why != CKA_OK)
        return cka_refuse(r, why, "the token endpoint's access token");
    if (kind != CKA_CRED_JWT)
        return cka_refuse(r, CKA_OPAQUE_REFUSED, "the token endpoint's access token is "
                          "not a JWT of a trusted issuer");
    cka_credential_set_kind(r, CKA_CRED_CLIENT_CREDENTIALS);
    return OK;
}

/* The credential, sorted (credential.c), and routed by its kind. */
static int credential(authn_t *a)
{
    request_rec *r = a->r;
    const cka_req_t *cred = cka_credential(r);
    if (cred->cred_reason != CKA_OK)
        return cka_refuse(r, cred->cred_reason, NULL);
    a->tok = cred->cred;
    a->len = cred->cred_len;
    switch (cred->cred_kind) {
    case CKA_CRED_JWT:
        return OK;
    case CKA_CRED_OPAQUE:
        if (cka_opaque_tokens(a->dc) == CKA_OPAQUE_INTROSPECT && a->dc->opaque_issuer != NULL) {
            a->introspected = 1;
            return OK;
        }
        if (cka_opaque_tokens(a->dc) == CKA_OPAQUE_PASS)
            /* Passed on without identity: only a rule that needs none
             * (Require conduktor-credential opaque, Require ip) grants it,
             * and none did, or authentication would not be asked for. */
            return cka_refuse(r, CKA_CREDENTIAL_DENIED, "an opaque credential (passed on "
                              "unverified, without identity) is granted only by Require "
                              "conduktor-credential opaque or a rule such as Require ip; "
                              "none granted it here");
        return cka_refuse(r, CKA_OPAQUE_REFUSED, NULL);
    case CKA_CRED_BASIC:
        return exchange(a, cred);
    default:
        return cka_refuse(r, CKA_NO_TOKEN, NULL);
    }
}

/* A full verification (with what the sorting parsed, pr->parts),
 * remembered with its binding and key under the token's cache name, if it
 * has one. On a refusal, the detail is logged. */
static cka_reason_t verify_token(authn_t *a, const cka_token_probe_t *pr)
{
    int named = pr->named;
    const unsigned char *name = pr->name;
    request_rec *r = a->r;
    long long now = (long long)apr_time_sec(r->request_time);
    cka_key_source_t keys;
    cka_key_store_source(r, a->sc, &keys);
    cka_verdict_t v;
    cka_reason_t why = cka_validate_token_parts(r->pool, a->tok, a->len, &pr->parts, &a->pol,
                                                &keys, now, &v);
    if (why != CKA_OK) {
        if (v.detail != NULL)
            ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, CKA_LOG_PREFIX "token check: %s",
                          v.detail);
        return why;
    }
    a->claims = v.jws.claims;
    a->iss = v.iss;
    a->alg = v.jws.alg;
    cka_req(r)->kid = v.jws.kid;
    const cka_binding_t *b = cka_find_binding(a->sc, v.iss);
    if (named && b != NULL && v.key != NULL) {
        int ttl = cka_cache_ttl();
        cka_record_t rec = { .alg = v.jws.alg, .typ = v.jws.typ, .kid = v.jws.kid,
                             .until = v.exp < now + ttl ? v.exp : now + ttl,
                             .payload = v.jws.payload, .payload_len = v.jws.payload_len,
                             .claims = v.jws.claims };
        memcpy(rec.binding, b->id, CKA_BIND_LEN);
        memcpy(rec.thumb, v.key->thumb, CKA_THUMB_LEN);
        cka_token_cache_store(r, name, &rec);
    }
    return CKA_OK;
}

/* The token's verdict: a cache hit that the core accepts as made by this
 * server's configuration (then only this location's rules apply again; the
 * cache was asked once, by the sorting), or a full verification. */
static cka_reason_t token_verdict(authn_t *a)
{
    cka_req_t *rq = cka_req(a->r);
    const cka_token_probe_t *pr = rq->probe;
    if (pr == NULL || pr->tok != a->tok || pr->len != a->len) {
        cka_token_probe_t *mine = apr_palloc(a->r->pool, sizeof(*mine));
        cka_token_probe(a->r, a->sc, &a->pol, a->tok, a->len, mine);
        rq->probe = pr = mine;
    }
    if (pr->usable) {
        cka_count(cache_hits);
        a->cached = 1;
        a->claims = pr->hit.claims;
        a->iss = pr->iss;
        a->alg = pr->hit.alg;
        rq->kid = pr->hit.kid;
        return pr->why;
    }
    if (pr->named)
        cka_count(cache_misses);
    return verify_token(a, pr);
}

/* The claims: an introspection answer (RFC 7662: the token's claims from
 * here on), or the token's own, verified; then, with
 * ConduktorAuthIntrospectJWT, revocation seen within the TTL. */
static int verdict(authn_t *a)
{
    request_rec *r = a->r;
    cka_reason_t why;
    if (a->introspected) {
        a->iss = a->dc->opaque_issuer;
        why = cka_introspect(r, a->iss, a->tok, a->len, &a->pol, &a->claims, &a->cached);
        if (why != CKA_OK)
            return cka_refuse(r, why, why == CKA_TOKEN_INACTIVE || why
                              == CKA_INTROSPECTION_UNAVAILABLE || why == CKA_NOT_CONFIGURED
                              ? NULL : "introspection answer refused");
        cka_credential_set_kind(r, CKA_CRED_INTROSPECTED);
        return OK;
    }
    why = token_verdict(a);
    if (why != CKA_OK)
        return cka_refuse(r, why, a->cached ? "cached token no longer passes this "
                                              "location's checks" : NULL);
    if (cka_introspect_jwt(a->dc)) {
        /* ConduktorAuthIntrospectJWT: revocation seen within the TTL;
         * an issuer without ConduktorAuthIntrospect (a .htaccess that
         * turned it on) fails closed: not_configured, 500. */
        const json_t *answer = NULL;
        int ic = 0;
        why = cka_introspect(r, a->iss, a->tok, a->len, NULL, &answer, &ic);
        if (why != CKA_OK)
            return cka_refuse(r, why, NULL);
    }
    return OK;
}

/* Sender constraints. A token bound to a client certificate (RFC 8705, cnf
 * x5t#S256) only over TLS with that certificate (mtls.c), a DPoP-bound one
 * only with its proof (dpop.c), whatever the configuration and the scheme;
 * fresh or cached alike. A token without cnf, sent as Bearer where no
 * binding is required, has nothing to prove: only the DPoP header is kept
 * from the backend. */
static int binding_checks(authn_t *a)
{
    request_rec *r = a->r;
    if (json_object_get(a->claims, "cnf") == NULL && !cka_req(r)->dpop_scheme
        && cka_require_binding(a->dc) == CKA_BIND_NONE) {
        apr_table_unset(r->headers_in, "DPoP");
        return OK;
    }
    const char *detail = NULL;
    cka_reason_t why = cka_mtls_verify(r, a->claims, &detail);
    if (why == CKA_OK)
        why = cka_binding_check(r, a->dc, a->tok, a->len, a->claims, &detail);
    return why == CKA_OK ? OK : cka_refuse(r, why, detail);
}

/* Who the claims say the caller is. */
static int identity(authn_t *a)
{
    cka_identity_spec_t spec = {
        .user_claims = cka_user_claims(a->dc),
        .email_claim = cka_email_claim(a->dc),
        .groups_claim = cka_groups_claim(a->dc),
        .separator = cka_groups_separator(a->dc),
        .extra_paths = a->dc->extra_paths,
    };
    cka_reason_t why = cka_identity_extract(a->r->pool, a->claims, &spec, &a->id);
    return why == CKA_OK ? OK : cka_refuse(a->r, why, NULL);
}

/* Accepted: the identity to the backend and to Require; the backend gets
 * an exchanged token, never the Basic value. */
static int accepted(authn_t *a)
{
    request_rec *r = a->r;
    cka_req_t *rq = cka_req(r);
    rq->authn_ok = 1;
    rq->claims = a->claims;
    if (a->basic != NULL) {
        if (cka_forward_token(a->dc))
            apr_table_setn(r->headers_in, "Authorization",
                           apr_pstrcat(r->pool, "Bearer ", a->tok, NULL));
        else
            apr_table_unset(r->headers_in, "Authorization");
    }
    hand_on(r, a->dc, &a->id);
    if (APLOGrdebug(r))
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, CKA_LOG_PREFIX
                      "accepted token of %s from issuer %s (%s%s)",
                      ap_escape_logitem(r->pool, r->user), ap_escape_logitem(r->pool, a->iss),
                      a->introspected ? "introspected"
                      : apr_pstrcat(r->pool, "alg ", cka_alg_name(a->alg), NULL),
                      a->cached ? ", cached" : "");
    return OK;
}

/* ---- the hook --------------------------------------------------------------- */

/* The request's story: its credential, the verdict on it, the binding
 * checks, the identity, handed on. */
int cka_check_authn(request_rec *r)
{
    const char *type = ap_auth_type(r);
    if (type == NULL || ap_cstr_casecmp(type, CKA_AUTH_TYPE) != 0)
        return DECLINED;
    authn_t a = {
        .r = r,
        .dc = ap_get_module_config(r->per_dir_config, &conduktor_auth_module),
        .sc = ap_get_module_config(r->server->module_config, &conduktor_auth_module),
        .iss = "",
        .alg = CKA_ALG_UNKNOWN,
    };
    STEP(configured(&a));
    STEP(credential(&a));
    STEP(verdict(&a));
    STEP(binding_checks(&a));
    STEP(identity(&a));
    return accepted(&a);
}
