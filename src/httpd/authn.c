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
}

/* ---- the token's verdict ---------------------------------------------------- */

/* A cache hit that the core accepts as made by this server's configuration
 * for this very key (then only this location's rules apply again), or a
 * full verification, remembered with its binding and key. On a refusal
 * from a full check, *detail-level text is logged by the caller. */
static cka_reason_t token_verdict(request_rec *r, const cka_srv_conf_t *sc,
                                  const cka_policy_t *pol, const char *tok, size_t len,
                                  const json_t **claims, const char **iss, cka_alg_t *alg,
                                  int *cached)
{
    long long now = (long long)apr_time_sec(r->request_time);
    cka_key_source_t keys;
    cka_key_store_source(r, sc, &keys);
    unsigned char name[CKA_SEAL_NAME_LEN];
    int use_cache = cka_token_cache_name(tok, len, name) == 0;
    cka_reason_t why = CKA_OK;
    cka_record_t hit;
    if (use_cache && cka_token_cache_lookup(r, name, &hit)) {
        json_t *jiss = json_object_get(hit.claims, "iss");
        const cka_binding_t *b = json_is_string(jiss)
            ? cka_find_binding(sc, json_string_value(jiss)) : NULL;
        if (cka_validate_hit(r->pool, &hit, b ? b->id : NULL, pol, &keys, now, &why, NULL)) {
            cka_count(cache_hits);
            *cached = 1;
            *claims = hit.claims;
            *iss = json_string_value(jiss);
            *alg = hit.alg;
            cka_req(r)->kid = hit.kid;
            return why;
        }
        /* Not made by this configuration, or its key is gone: verify. */
    }
    if (use_cache)
        cka_count(cache_misses);
    cka_verdict_t v;
    why = cka_validate_token(r->pool, tok, len, pol, &keys, now, &v);
    if (why != CKA_OK) {
        if (v.detail != NULL)
            ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, CKA_LOG_PREFIX "token check: %s",
                          v.detail);
        return why;
    }
    *claims = v.jws.claims;
    *iss = v.iss;
    *alg = v.jws.alg;
    cka_req(r)->kid = v.jws.kid;
    const cka_binding_t *b = cka_find_binding(sc, v.iss);
    if (use_cache && b != NULL && v.key != NULL) {
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

/* ---- the hook --------------------------------------------------------------- */

int cka_check_authn(request_rec *r)
{
    const char *type = ap_auth_type(r);
    if (type == NULL || ap_cstr_casecmp(type, CKA_AUTH_TYPE) != 0)
        return DECLINED;
    const cka_dir_conf_t *dc = ap_get_module_config(r->per_dir_config, &conduktor_auth_module);
    const cka_srv_conf_t *sc = ap_get_module_config(r->server->module_config, &conduktor_auth_module);

    if (sc->issuers == NULL || sc->issuers->nelts == 0)
        return cka_refuse(r, CKA_NOT_CONFIGURED,
                      "no ConduktorAuthIssuer configured for this server: failing closed");
    if (dc->audiences == NULL)
        return cka_refuse(r, CKA_NOT_CONFIGURED,
                      "no ConduktorAuthAudience for this location (use * to disable the check): failing closed");

    cka_req_t *cred = cka_credential(r);
    if (cred->cred_reason != CKA_OK)
        return cka_refuse(r, cred->cred_reason, NULL);
    const char *tok = cred->cred;
    size_t len = cred->cred_len;
    const char *basic = NULL;       /* the Basic value, when it was exchanged */
    int introspected = 0;           /* an opaque token, introspected        */
    cka_reason_t why;
    switch (cred->cred_kind) {
    case CKA_CRED_JWT:
        break;
    case CKA_CRED_OPAQUE:
        if (cka_opaque_tokens(dc) == CKA_OPAQUE_INTROSPECT && dc->opaque_issuer != NULL) {
            introspected = 1;
            break;
        }
        if (cka_opaque_tokens(dc) == CKA_OPAQUE_PASS)
            /* Passed on without identity: only a rule that needs none
             * (Require conduktor-credential opaque, Require ip) grants it,
             * and none did, or authentication would not be asked for. */
            return cka_refuse(r, CKA_CREDENTIAL_DENIED, "an opaque credential (passed on "
                              "unverified, without identity) is granted only by Require "
                              "conduktor-credential opaque or a rule such as Require ip; "
                              "none granted it here");
        return cka_refuse(r, CKA_OPAQUE_REFUSED, NULL);
    case CKA_CRED_BASIC: {
        if (dc->client_creds == NULL)
            return cka_refuse(r, CKA_NO_TOKEN, "Basic credentials are not exchanged here "
                              "(no ConduktorAuthClientCredentials)");
        basic = apr_pstrmemdup(r->pool, cred->cred, cred->cred_len);
        why = cka_client_credentials(r, dc, basic, &tok, &len);
        if (why != CKA_OK)
            return cka_refuse(r, why, NULL);
        /* The exchanged token is checked like any credential: a JWT of a
         * trusted issuer, or refused. */
        cka_cred_kind_t kind = CKA_CRED_NONE;
        why = cka_credential_sort(r, tok, len, &kind);
        if (why != CKA_OK)
            return cka_refuse(r, why, "the token endpoint's access token");
        if (kind != CKA_CRED_JWT)
            return cka_refuse(r, CKA_OPAQUE_REFUSED, "the token endpoint's access token is "
                              "not a JWT of a trusted issuer");
        cka_credential_set_kind(r, CKA_CRED_CLIENT_CREDENTIALS);
        break;
    }
    default:
        return cka_refuse(r, CKA_NO_TOKEN, NULL);
    }

    cka_policy_t pol;
    pol.algs = cka_srv_algs(sc);
    pol.audiences = dc->audiences;
    pol.any_audience = dc->audiences->nelts == 1
        && strcmp(APR_ARRAY_IDX(dc->audiences, 0, const char *), "*") == 0;
    pol.types = dc->require_types;
    pol.skew = cka_clock_skew(dc);
    pol.max_lifetime = cka_max_token_lifetime(dc);

    const json_t *claims = NULL;
    const char *iss = "";
    cka_alg_t alg = CKA_ALG_UNKNOWN;
    int cached = 0;
    if (introspected) {
        /* RFC 7662: the answer is the token's claims from here on. */
        iss = dc->opaque_issuer;
        why = cka_introspect(r, iss, tok, len, &pol, &claims, &cached);
        if (why != CKA_OK)
            return cka_refuse(r, why, why == CKA_TOKEN_INACTIVE || why
                              == CKA_INTROSPECTION_UNAVAILABLE || why == CKA_NOT_CONFIGURED
                              ? NULL : "introspection answer refused");
        cka_credential_set_kind(r, CKA_CRED_INTROSPECTED);
    }
    else {
        why = token_verdict(r, sc, &pol, tok, len, &claims, &iss, &alg, &cached);
        if (why != CKA_OK)
            return cka_refuse(r, why, cached ? "cached token no longer passes this "
                                               "location's checks" : NULL);
        if (cka_introspect_jwt(dc)) {
            /* ConduktorAuthIntrospectJWT: revocation seen within the TTL;
             * an issuer without ConduktorAuthIntrospect (a .htaccess that
             * turned it on) fails closed: not_configured, 500. */
            const json_t *answer = NULL;
            int ic = 0;
            why = cka_introspect(r, iss, tok, len, NULL, &answer, &ic);
            if (why != CKA_OK)
                return cka_refuse(r, why, NULL);
        }
    }

    /* ---- BEGIN mTLS: a token bound to a client certificate (RFC 8705,
     * cnf x5t#S256) only over TLS with that certificate, whatever the
     * configuration and the Authorization scheme; fresh or cached alike
     * (both have the full claims). The binding rules below (dpop_hook.c) then
     * take the certificate as proven (cka_mtls_check). ------------------- */
    {
        const char *why_not = NULL;
        why = cka_mtls_verify(r, claims, &why_not);
        if (why != CKA_OK)
            return cka_refuse(r, why, why_not);
    }
    /* ---- END mTLS -------------------------------------------------------- */
    /* ---- BEGIN DPoP: bound tokens are never bearer tokens; the proof of
     * a DPoP request (dpop_hook.c), on a cache hit as on a full check -------- */
    {
        const char *bdetail = NULL;
        why = cka_binding_check(r, dc, tok, len, claims, &bdetail);
        if (why != CKA_OK)
            return cka_refuse(r, why, bdetail);
    }
    /* ---- END DPoP ------------------------------------------------------ */

    cka_identity_spec_t spec = {
        .user_claims = cka_user_claims(dc),
        .email_claim = cka_email_claim(dc),
        .groups_claim = cka_groups_claim(dc),
        .separator = cka_groups_separator(dc),
        .extra_paths = dc->extra_paths,
    };
    cka_identity_t id;
    why = cka_identity_extract(r->pool, claims, &spec, &id);
    if (why != CKA_OK)
        return cka_refuse(r, why, NULL);

    cka_req_t *rq = cka_req(r);
    rq->authn_ok = 1;
    rq->claims = claims;
    /* ---- BEGIN client credentials: the backend gets the exchanged token,
     * never the Basic value ------------------------------------------------ */
    if (basic != NULL) {
        if (cka_forward_token(dc))
            apr_table_setn(r->headers_in, "Authorization",
                           apr_pstrcat(r->pool, "Bearer ", tok, NULL));
        else
            apr_table_unset(r->headers_in, "Authorization");
    }
    /* ---- END client credentials ------------------------------------------ */
    hand_on(r, dc, &id);
    ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, CKA_LOG_PREFIX
                  "accepted token of %s from issuer %s (%s%s)",
                  ap_escape_logitem(r->pool, r->user),
                  ap_escape_logitem(r->pool, iss),
                  introspected ? "introspected" : apr_pstrcat(r->pool, "alg ",
                                                              cka_alg_name(alg), NULL),
                  cached ? ", cached" : "");
    return OK;
}
