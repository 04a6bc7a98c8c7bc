/* binding.c - trust bound to the configuration that declared it: one
 * binding per issuer of every server (main and each virtual host), with
 * that server's key source and CA file, made in post_config; a key set, a
 * cached token and an introspection answer belong to a binding's id, never
 * to an issuer string alone (see binding.h). */
#include "binding.h"
#include <apr_hash.h>

const cka_binding_t *cka_find_binding(const cka_srv_conf_t *s, const char *iss)
{
    for (int i = 0; s->bindings && i < s->bindings->nelts; i++) {
        const cka_binding_t *b = &APR_ARRAY_IDX(s->bindings, i, cka_binding_t);
        if (strcmp(b->is->iss, iss) == 0)
            return b;
    }
    return NULL;
}

const char *cka_keys_kind_name(cka_keys_kind_t k)
{
    return k == CKA_KEYS_FILE ? "file" : k == CKA_KEYS_URL ? "jwks" : "discovery";
}

/* Keys of the local (file:) sets that are not used: one line per file and
 * start (the configuration is read twice at startup: not in the first
 * pass), however many servers trust it. */
static void log_file_skips(apr_pool_t *ptemp, server_rec *s)
{
    if (ap_state_query(AP_SQ_MAIN_STATE) == AP_SQ_MS_CREATE_PRE_CONFIG)
        return;
    apr_hash_t *seen = apr_hash_make(ptemp);
    for (server_rec *v = s; v; v = v->next) {
        const cka_srv_conf_t *sc = ap_get_module_config(v->module_config, &conduktor_auth_module);
        for (int i = 0; sc->issuers && i < sc->issuers->nelts; i++) {
            const cka_issuer_t *is = APR_ARRAY_IDX(sc->issuers, i, const cka_issuer_t *);
            const char *skips = cka_keyset_describe_skips(ptemp, is->static_keys);
            if (skips == NULL || apr_hash_get(seen, &is, sizeof(is)) != NULL)
                continue;
            apr_hash_set(seen, apr_pmemdup(ptemp, &is, sizeof(is)), sizeof(is), is);
            ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, v, CKA_LOG_PREFIX
                         "keys of issuer %s from %s: %s; not used for verification",
                         ap_escape_logitem(ptemp, is->iss),
                         ap_escape_logitem(ptemp, is->source), skips);
        }
    }
}

/* One binding per issuer of every server, with that server's CA file;
 * counts the remote ones, and logs the unused keys of local sets. */
int cka_make_bindings(apr_pool_t *p, server_rec *s, int *remote)
{
    for (server_rec *v = s; v; v = v->next) {
        cka_srv_conf_t *sc = ap_get_module_config(v->module_config, &conduktor_auth_module);
        if (sc->bindings != NULL)
            continue;                  /* a config record two servers share */
        int n = sc->issuers ? sc->issuers->nelts : 0;
        sc->bindings = apr_array_make(p, n > 0 ? n : 1, sizeof(cka_binding_t));
        for (int i = 0; i < n; i++) {
            const cka_issuer_t *is = APR_ARRAY_IDX(sc->issuers, i, const cka_issuer_t *);
            cka_binding_t *b = apr_array_push(sc->bindings);
            b->is = is;
            b->slot = -1;
            b->ca_file = sc->ca_file;
            if (cka_binding_id(is->iss, cka_keys_kind_name(is->kind), is->source, sc->ca_file,
                               b->id) != 0) {
                ap_log_error(APLOG_MARK, APLOG_EMERG, 0, v, CKA_LOG_PREFIX
                             "cannot compute the identity of issuer %s (SHA-256)", is->iss);
                return HTTP_INTERNAL_SERVER_ERROR;
            }
            if (is->kind != CKA_KEYS_FILE)
                (*remote)++;
        }
    }
    log_file_skips(p, s);
    return OK;
}
