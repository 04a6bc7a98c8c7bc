/* config_trust.c - ConduktorAuthIssuer, ConduktorAuthAlgorithms, ConduktorAuthJWKSRefresh,
 * ConduktorAuthJWKSMissRefetch, ConduktorAuthHTTPTimeout, ConduktorAuthCAFile:
 * the issuers trusted and where their keys come from (server scope). */
#include "config_trust.h"
#include <apr_file_info.h>

const char *cka_set_issuer(cmd_parms *cmd, void *dc, const char *iss,
                           const char *keys)
{
    cka_srv_conf_t *s = ap_get_module_config(cmd->server->module_config,
                                             &conduktor_auth_module);
    if (*iss == '\0' || cka_conf_has_ctl(iss))
        return cka_conf_err(cmd, "invalid issuer", iss, "the exact iss value of the IdP, without spaces");
    if (s->issuers && cka_find_issuer(s, iss))
        return cka_conf_err(cmd, "duplicate issuer", iss, "each issuer once per server");
    cka_issuer_t *is = apr_pcalloc(cmd->pool, sizeof(*is));
    is->iss = iss;
    if (keys == NULL) {
        if (ap_cstr_casecmpn(iss, "https://", 8) != 0)
            return cka_conf_err(cmd, "OIDC discovery needs an https:// issuer, not", iss,
                                "an https:// issuer, or give the keys: an https:// JWKS URL or file:/path");
        if (strlen(iss) > 1900)
            return cka_conf_err(cmd, "issuer too long", iss, "at most 1900 characters");
        is->kind = CKA_KEYS_DISCOVERY;
    }
    else if (strncmp(keys, "file:", 5) == 0) {
        cka_err_t why = CKA_ERR_INIT;
        const char *path = ap_server_root_relative(cmd->pool, keys + 5);
        if (keys[5] == '\0' || path == NULL)
            return cka_conf_err(cmd, "invalid key file", keys, "file:/path/to/jwks.json or file:/path/to/key.pem");
        is->kind = CKA_KEYS_FILE;
        is->source = path;
        cka_keyset_load_file(cmd->pool, path, &is->static_keys, &why);
        is->loaded_at = apr_time_now();
        if (is->static_keys == NULL)
            return apr_psprintf(cmd->pool, "%s: cannot load keys for issuer '%s': %s",
                                cmd->cmd->name, iss, cka_err_text(&why));
    }
    else if (ap_cstr_casecmpn(keys, "https://", 8) == 0 && keys[8] != '\0'
             && !cka_conf_has_ctl(keys) && strlen(keys) < 2000) {
        is->kind = CKA_KEYS_URL;
        is->source = keys;
    }
    else
        return cka_conf_err(cmd, "invalid key source", keys,
                            "an https:// JWKS URL, file:/path (JWKS JSON or PEM), or nothing for OIDC discovery");
    if (s->issuers == NULL)
        s->issuers = apr_array_make(cmd->pool, 2, sizeof(cka_issuer_t *));
    APR_ARRAY_PUSH(s->issuers, cka_issuer_t *) = is;
    return NULL;
}

const char *cka_set_algorithms(cmd_parms *cmd, void *dc, const char *arg)
{
    cka_srv_conf_t *s = ap_get_module_config(cmd->server->module_config,
                                             &conduktor_auth_module);
    if (ap_cstr_casecmp(arg, "none") == 0)
        return cka_conf_err(cmd, "algorithm 'none' is never accepted:", arg, cka_alg_all_names());
    cka_alg_t a = cka_alg_from_name(arg);
    if (a == CKA_ALG_UNKNOWN)
        return cka_conf_err(cmd, "unknown algorithm", arg, cka_alg_all_names());
    s->algs |= CKA_ALG_BIT(a);
    return NULL;
}

#define SRV_SECONDS(fn, member, lo, hi) \
const char *fn(cmd_parms *cmd, void *dc, const char *arg) \
{ \
    cka_srv_conf_t *s = ap_get_module_config(cmd->server->module_config, \
                                             &conduktor_auth_module); \
    return cka_conf_seconds(cmd, arg, lo, hi, &s->member); \
}
SRV_SECONDS(cka_set_jwks_refresh, jwks_refresh, 60, 86400)
SRV_SECONDS(cka_set_miss_refetch, miss_refetch, 1, 86400)
SRV_SECONDS(cka_set_http_timeout, http_timeout, 1, 300)

const char *cka_set_ca_file(cmd_parms *cmd, void *dc, const char *arg)
{
    cka_srv_conf_t *s = ap_get_module_config(cmd->server->module_config,
                                             &conduktor_auth_module);
    apr_finfo_t fi;
    const char *path = ap_server_root_relative(cmd->pool, arg);
    if (path == NULL || apr_stat(&fi, path, APR_FINFO_TYPE, cmd->pool) != APR_SUCCESS
        || fi.filetype != APR_REG)
        return cka_conf_err(cmd, "CA file not found or not a regular file", arg,
                            "a readable PEM file of trust anchors");
    s->ca_file = path;
    return NULL;
}
