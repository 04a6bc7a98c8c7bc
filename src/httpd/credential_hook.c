/* credential_hook.c - the request's credential, read from its header and sorted
 * into a kind once (core: credential.c), before authentication or
 * authorization look at it; CONDUKTOR_AUTH_CREDENTIAL says the kind.
 *
 * The token cache is asked first: a credential it holds, made by this
 * server's configuration of one of its trusted issuers with a key still in
 * that issuer's set (cka_token_probe), was verified as a JWT of a trusted
 * issuer, which is what the full sorting would find. Only a credential the
 * cache does not vouch for is decoded and parsed (cka_cred_classify). */
#include "credential_hook.h"
#include "request.h"
#include "config.h"
#include "cka_limits.h"
#include "token_cache.h"

static int trusted_issuer(void *ctx, const char *iss)
{
    const cka_srv_conf_t *sc = ctx;
    for (int i = 0; sc->issuers && i < sc->issuers->nelts; i++)
        if (strcmp(APR_ARRAY_IDX(sc->issuers, i, const cka_issuer_t *)->iss, iss) == 0)
            return 1;
    return 0;
}

static int scheme_is(const char *v, const char *scheme)
{
    size_t n = strlen(scheme);
    return ap_cstr_casecmpn(v, scheme, n) == 0
        && (v[n] == ' ' || v[n] == '\t' || v[n] == '\0');
}

static const char *skip_blanks(const char *v)
{
    while (*v == ' ' || *v == '\t')
        v++;
    return v;
}

static size_t trimmed_len(const char *v)
{
    size_t n = strlen(v);
    while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t'))
        n--;
    return n;
}

/* Read the header: the bearer text (scheme removed), a Basic value, or
 * nothing. Another scheme in Authorization carries no bearer credential. */
static void read_header(request_rec *r, const cka_dir_conf_t *dc, cka_req_t *rq)
{
    const char *hname = cka_token_header(dc);
    const char *v = apr_table_get(r->headers_in, hname);
    int is_authz = ap_cstr_casecmp(hname, "Authorization") == 0;
    rq->cred_reason = CKA_NO_TOKEN;
    if (v == NULL)
        return;
    v = skip_blanks(v);
    /* ---- BEGIN DPoP: Authorization: DPoP <token> (RFC 9449 §7.1) carries
     * the token as Bearer does; dpop_hook.c then asks for its proof. */
    if (is_authz && scheme_is(v, "DPoP")) {
        rq->dpop_scheme = 1;
        v += 4;
        if (*v == '\0') {
            rq->cred_reason = CKA_BAD_REQUEST;
            return;
        }
        v = skip_blanks(v);
    }
    else
    /* ---- END DPoP */
    if (scheme_is(v, "Bearer")) {
        v += 6;
        if (*v == '\0') {
            rq->cred_reason = CKA_BAD_REQUEST;
            return;
        }
        v = skip_blanks(v);
    }
    else if (is_authz && scheme_is(v, "Basic")) {
        v = skip_blanks(v + 5);
        rq->cred_kind = CKA_CRED_BASIC;
        rq->cred = v;
        rq->cred_len = trimmed_len(v);
        rq->cred_reason = CKA_OK;
        return;
    }
    else if (is_authz)
        return;                     /* another scheme: no bearer credential */
    rq->cred = v;
    rq->cred_len = trimmed_len(v);
    if (rq->cred_len == 0) {
        rq->cred_reason = CKA_BAD_REQUEST;
        return;
    }
    rq->cred_reason = cka_credential_sort(r, rq->cred, rq->cred_len, &rq->cred_kind);
}

/* The cache's answer about cred, kept for the verdict; 1 when it vouches
 * for a JWT of a trusted issuer of this server. Only where a token could
 * be checked at all (issuers and an audience configured). */
static int cached_jwt(request_rec *r, const cka_srv_conf_t *sc, const char *cred,
                      size_t len)
{
    const cka_dir_conf_t *dc = ap_get_module_config(r->per_dir_config,
                                                    &conduktor_auth_module);
    if (dc == NULL || dc->audiences == NULL || sc->issuers == NULL || sc->issuers->nelts == 0)
        return 0;
    cka_policy_t pol;
    cka_dir_policy(dc, sc, &pol);
    cka_token_probe_t *pr = apr_palloc(r->pool, sizeof(*pr));
    cka_token_probe(r, sc, &pol, cred, len, pr);
    cka_req(r)->probe = pr;
    if (pr->usable)
        ap_log_rerror(APLOG_MARK, APLOG_TRACE3, 0, r, CKA_LOG_PREFIX "credential sorted "
                      "by the token cache: a JWT of trusted issuer %s",
                      ap_escape_logitem(r->pool, pr->iss));
    return pr->usable;
}

cka_reason_t cka_credential_sort(request_rec *r, const char *cred, size_t len,
                                 cka_cred_kind_t *kind)
{
    const cka_srv_conf_t *sc = ap_get_module_config(r->server->module_config,
                                                    &conduktor_auth_module);
    *kind = CKA_CRED_NONE;
    /* A usable hit is the very bytes of a token that was sorted and passed
     * the strict parse when it was stored (its name is their keyed hash):
     * it passes the byte rules by construction; they are checked on a
     * miss, before the full sorting. Its length is checked first. */
    if (len > 0 && len <= CKA_MAX_TOKEN_LEN && cached_jwt(r, sc, cred, len)) {
        *kind = CKA_CRED_JWT;
        return CKA_OK;
    }
    /* A miss: the full sorting, its parsed parts kept for the verification. */
    cka_token_probe_t *pr = (cka_token_probe_t *)cka_req(r)->probe;
    if (pr != NULL && (pr->tok != cred || pr->len != len))
        pr = NULL;
    return cka_cred_classify_parts(r->pool, cred, len, trusted_issuer, (void *)sc, kind,
                                   pr ? &pr->parts : NULL);
}

cka_req_t *cka_credential(request_rec *r)
{
    cka_req_t *rq = cka_req(r);
    if (rq->cred_done)
        return rq;
    rq->cred_done = 1;
    const cka_dir_conf_t *dc = ap_get_module_config(r->per_dir_config, &conduktor_auth_module);
    read_header(r, dc, rq);
    const char *kind = cka_cred_kind_name(rq->cred_kind);
    if (kind != NULL)
        apr_table_setn(r->subprocess_env, "CONDUKTOR_AUTH_CREDENTIAL", kind);
    return rq;
}

/* fixups: a request of a scope of ours that a rule granted without
 * looking at its credential (Require ip alone, say) has it sorted too, so
 * CONDUKTOR_AUTH_CREDENTIAL is there for the log. Authentication and the
 * Require providers sort it when they run (cka_credential). Not in an
 * access_checker hook: with one registered, a mod_include subrequest was
 * seen to run authentication again instead of reusing the main request's
 * (test_trust_headers.py::test_include_reusing_the_main_requests_
 * authentication); why is not pinned down. */
int cka_credential_fixups(request_rec *r)
{
    const char *type = ap_auth_type(r);
    if (type != NULL && ap_cstr_casecmp(type, CKA_AUTH_TYPE) == 0)
        cka_credential(r);
    return DECLINED;
}

/* Once exchanged or introspected, the credential has another kind. */
void cka_credential_set_kind(request_rec *r, cka_cred_kind_t kind)
{
    cka_req(r)->cred_kind = kind;
    apr_table_setn(r->subprocess_env, "CONDUKTOR_AUTH_CREDENTIAL", cka_cred_kind_name(kind));
}
