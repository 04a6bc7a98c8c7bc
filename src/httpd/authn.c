/* authn.c - check_authn: token -> core verdict -> env, headers, r->user;
 * header_parser: strip client copies of the identity headers. */
#include "config.h"
#include "key_store.h"
#include "claim_path.h"
#include "validate.h"
#include "cka_limits.h"
#include "claims.h"
#include "metrics.h"
#include "token_cache.h"
#include <apr_lib.h>

/* ---- identity header stripping ------------------------------------------ */

/* Header names compared as the backend may see them: case-insensitive and
 * with '_' equal to '-' (CGI and many frameworks fold both to one name). */
static int same_header_name(const char *a, const char *b)
{
    for (; *a && *b; a++, b++) {
        char ca = (*a == '_') ? '-' : (char)apr_tolower(*a);
        char cb = (*b == '_') ? '-' : (char)apr_tolower(*b);
        if (ca != cb)
            return 0;
    }
    return *a == *b;
}

static void strip_identity_headers(request_rec *r, const cka_dir_conf_t *dc)
{
    if (dc->id_headers == NULL || dc->id_headers->nelts == 0)
        return;
    const apr_array_header_t *arr = apr_table_elts(r->headers_in);
    const apr_table_entry_t *e = (const apr_table_entry_t *)arr->elts;
    apr_array_header_t *doomed = NULL;
    for (int i = 0; i < arr->nelts; i++) {
        if (e[i].key == NULL)
            continue;
        for (int j = 0; j < dc->id_headers->nelts; j++) {
            const cka_id_header_t *h = APR_ARRAY_IDX(dc->id_headers, j, cka_id_header_t *);
            if (same_header_name(e[i].key, h->header)) {
                if (doomed == NULL)
                    doomed = apr_array_make(r->pool, 2, sizeof(const char *));
                APR_ARRAY_PUSH(doomed, const char *) = e[i].key;
                break;
            }
        }
    }
    for (int i = 0; doomed && i < doomed->nelts; i++) {
        const char *name = APR_ARRAY_IDX(doomed, i, const char *);
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, CKA_LOG_PREFIX
                      "removed client-supplied identity header %s",
                      ap_escape_logitem(r->pool, name));
        apr_table_unset(r->headers_in, name);
    }
}

int cka_header_parser(request_rec *r)
{
    cka_dir_conf_t *dc = ap_get_module_config(r->per_dir_config, &conduktor_auth_module);
    if (dc == NULL)
        return DECLINED;
    strip_identity_headers(r, dc);
    return cka_cors_request(r, dc);
}

/* ---- token extraction ----------------------------------------------------- */

/* Find the token. Returns CKA_OK with *tok and *len set, CKA_NO_TOKEN, or
 * CKA_BAD_REQUEST for a Bearer header that is not "Bearer <token>". */
static cka_reason_t extract_token(request_rec *r, const cka_dir_conf_t *dc,
                                  const char **tok, size_t *len)
{
    const char *hname = cka_token_header(dc);
    const char *v = apr_table_get(r->headers_in, hname);
    int is_authz = strcasecmp(hname, "Authorization") == 0;
    if (v == NULL)
        return CKA_NO_TOKEN;
    while (*v == ' ' || *v == '\t')
        v++;
    if (strncasecmp(v, "Bearer", 6) == 0 && (v[6] == ' ' || v[6] == '\t' || v[6] == '\0')) {
        v += 6;
        if (*v == '\0')
            return CKA_BAD_REQUEST;
        while (*v == ' ' || *v == '\t')
            v++;
    }
    else if (is_authz)
        return CKA_NO_TOKEN;        /* another scheme: no bearer credential */
    size_t n = strlen(v);
    while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t'))
        n--;
    if (n == 0)
        return CKA_BAD_REQUEST;
    for (size_t i = 0; i < n; i++)
        if (v[i] == ' ' || v[i] == '\t' || v[i] == ',')
            return CKA_BAD_REQUEST;   /* two credentials, or junk */
    if (n > CKA_MAX_TOKEN_LEN)
        return CKA_TOKEN_TOO_LARGE;
    *tok = v;
    *len = n;
    return CKA_OK;
}

/* ---- handing the identity on ---------------------------------------------- */

static const char *field_value(const cka_identity_t *id, const cka_id_header_t *h)
{
    switch (h->field) {
    case CKA_FIELD_USER:    return id->user;
    case CKA_FIELD_EMAIL:   return id->email;
    case CKA_FIELD_GROUPS:  return id->groups;
    case CKA_FIELD_SUBJECT: return id->subject;
    case CKA_FIELD_CLAIM:   return apr_table_get(id->extra, h->claim);
    }
    return NULL;
}

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
    for (int i = 0; dc->id_headers && i < dc->id_headers->nelts; i++) {
        const cka_id_header_t *h = APR_ARRAY_IDX(dc->id_headers, i, cka_id_header_t *);
        const char *v = field_value(id, h);
        if (v != NULL)
            apr_table_setn(r->headers_in, h->header, cka_header_safe(r->pool, v));
    }
    if (!cka_forward_token(dc))
        apr_table_unset(r->headers_in, cka_token_header(dc));
}

/* ---- the hook --------------------------------------------------------------- */

int cka_check_authn(request_rec *r)
{
    const char *type = ap_auth_type(r);
    if (type == NULL || strcasecmp(type, CKA_AUTH_TYPE) != 0)
        return DECLINED;
    const cka_dir_conf_t *dc = ap_get_module_config(r->per_dir_config, &conduktor_auth_module);
    const cka_srv_conf_t *sc = ap_get_module_config(r->server->module_config, &conduktor_auth_module);

    if (sc->issuers == NULL || sc->issuers->nelts == 0)
        return cka_refuse(r, CKA_NOT_CONFIGURED,
                      "no ConduktorAuthIssuer configured for this server: failing closed");
    if (dc->audiences == NULL)
        return cka_refuse(r, CKA_NOT_CONFIGURED,
                      "no ConduktorAuthAudience for this location (use * to disable the check): failing closed");

    const char *tok = NULL;
    size_t len = 0;
    cka_reason_t why = extract_token(r, dc, &tok, &len);
    if (why != CKA_OK)
        return cka_refuse(r, why, NULL);

    cka_policy_t pol;
    pol.algs = cka_algs(sc);
    pol.audiences = dc->audiences;
    pol.any_audience = dc->audiences->nelts == 1
        && strcmp(APR_ARRAY_IDX(dc->audiences, 0, const char *), "*") == 0;
    pol.types = dc->require_types;
    pol.skew = cka_clock_skew(dc);
    long long now = (long long)apr_time_sec(r->request_time);

    const json_t *claims;
    const char *iss, *detail = NULL;
    cka_alg_t alg;
    unsigned char hash[CKA_HASH_LEN];
    cka_cached_t hit;
    int cached = 0;
    /* No usable hash (OpenSSL failed): no cache for this request. */
    int use_cache = cka_token_cache_enabled() && cka_token_hash(tok, len, hash) == 0;
    if (use_cache) {
        cached = cka_token_cache_lookup(r, hash, &hit);
        cka_count_cache(cached);
    }
    if (cached) {
        /* Verified before; the rules of this configuration and this moment
         * are applied again. */
        json_t *jiss = json_object_get(hit.claims, "iss");
        claims = hit.claims;
        alg = hit.alg;
        iss = json_is_string(jiss) ? json_string_value(jiss) : "";
        cka_key_source_t keys;
        const cka_keyset_t *ks;
        cka_key_store_source(r, sc, &keys);
        if (cka_find_issuer(sc, iss) == NULL)
            why = CKA_WRONG_ISSUER;
        else if (!(pol.algs & CKA_ALG_BIT(alg)))
            why = CKA_ALG_NOT_ALLOWED;
        else if ((ks = keys.get(keys.ctx, r->pool, iss, 0, &why)) == NULL)
            ;   /* why is set: keys unavailable */
        else if (!cka_keyset_has_key(ks, hit.kid, alg))
            why = CKA_UNKNOWN_KEY;      /* the signing key was withdrawn */
        else if ((why = cka_check_typ(hit.typ, pol.types)) == CKA_OK)
            why = cka_validate_claims(claims, &pol, now, NULL);
        if (why != CKA_OK)
            return cka_refuse(r, why, "cached token no longer passes this location's checks");
    }
    else {
        cka_key_source_t keys;
        cka_key_store_source(r, sc, &keys);
        cka_verdict_t v;
        why = cka_validate_token(r->pool, tok, len, &pol, &keys, now, &v);
        if (why != CKA_OK)
            return cka_refuse(r, why, v.detail);
        claims = v.jws.claims;
        alg = v.jws.alg;
        iss = v.iss;
        if (use_cache)
            cka_token_cache_store(r, hash, &v.jws, v.exp);
    }
    (void)detail;

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
    hand_on(r, dc, &id);
    ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, CKA_LOG_PREFIX
                  "accepted token of %s from issuer %s (alg %s%s)",
                  ap_escape_logitem(r->pool, r->user),
                  ap_escape_logitem(r->pool, iss), cka_alg_name(alg),
                  cached ? ", cached" : "");
    return OK;
}
