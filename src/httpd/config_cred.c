/* config_cred.c - ConduktorAuthOpaqueTokens, ConduktorAuthClientCredentials:
 * credentials other than an IdP's JWT. */
#include "config_cred.h"
#include <apr_lib.h>

const char *cka_set_opaque_tokens(cmd_parms *cmd, void *dcv, const char *arg,
                                  const char *iss)
{
    cka_dir_conf_t *dc = dcv;
    static const char *accepted = "refuse, pass, or introspect <issuer>";
    if (strcmp(arg, "introspect") == 0) {
        if (iss == NULL || *iss == '\0' || cka_conf_has_ctl(iss))
            return cka_conf_err(cmd, "introspect needs the issuer whose ConduktorAuthIntrospect "
                                "asks, not", iss ? iss : "", accepted);
        dc->opaque_tokens = CKA_OPAQUE_INTROSPECT;
        dc->opaque_issuer = iss;
        return NULL;
    }
    if (iss != NULL)
        return cka_conf_err(cmd, "only introspect takes an issuer; not", iss, accepted);
    if (strcmp(arg, "refuse") == 0)
        dc->opaque_tokens = CKA_OPAQUE_REFUSE;
    else if (strcmp(arg, "pass") == 0)
        dc->opaque_tokens = CKA_OPAQUE_PASS;
    else
        return cka_conf_err(cmd, "unknown value", arg, accepted);
    return NULL;
}

/* ---- ConduktorAuthClientCredentials -----------------------------------------*/

/* <token-endpoint> [scope=<s>] [resource=<uri>] [audience=<a>] */
const char *cka_set_client_credentials(cmd_parms *cmd, void *dcv, int argc,
                                       char *const argv[])
{
    static const char *usage = "<https://token-endpoint> [scope=<s>] [resource=<uri>] "
                               "[audience=<a>], each key at most once";
    if (argc < 1)
        return apr_psprintf(cmd->pool, "%s: the token endpoint is missing; accepted: %s",
                            cmd->cmd->name, usage);
    cka_cc_target_t *t = apr_pcalloc(cmd->pool, sizeof(*t));
    const char *ep = argv[0];
    if (ap_cstr_casecmpn(ep, "https://", 8) != 0 || ep[8] == '\0' || ep[8] == '/'
        || cka_conf_has_ctl(ep) || strchr(ep, '#') != NULL || strlen(ep) > 2048)
        return cka_conf_err(cmd, "invalid token endpoint", ep,
                            "an https:// URL without spaces or fragment, e.g. "
                            "https://idp.example.com/realms/x/protocol/openid-connect/token");
    t->endpoint = ep;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *eq = strchr(a, '=');
        const char **slot = NULL;
        if (eq == NULL)
            return cka_conf_err(cmd, "invalid parameter", a, usage);
        size_t kl = (size_t)(eq - a);
        if (kl == 5 && strncmp(a, "scope", 5) == 0)
            slot = &t->scope;
        else if (kl == 8 && strncmp(a, "resource", 8) == 0)
            slot = &t->resource;
        else if (kl == 8 && strncmp(a, "audience", 8) == 0)
            slot = &t->audience;
        else
            return cka_conf_err(cmd, "unknown parameter", a, usage);
        if (*slot != NULL)
            return cka_conf_err(cmd, "parameter given twice:", a, usage);
        const char *v = eq + 1;
        if (!cka_conf_value_ok(v))
            return cka_conf_err(cmd, "empty or invalid value (control character, or longer than "
                                "2048)", a, usage);
        if (slot == &t->resource) {
            /* RFC 8707: an absolute URI without a fragment. */
            const char *colon = strchr(v, ':');
            int scheme_ok = colon != NULL && colon > v && apr_isalpha(*v);
            for (const char *c = v; scheme_ok && c < colon; c++)
                if (!(apr_isalnum(*c) || *c == '+' || *c == '-' || *c == '.'))
                    scheme_ok = 0;
            if (!scheme_ok || strchr(v, '#') != NULL || cka_conf_has_ctl(v))
                return cka_conf_err(cmd, "resource is not an absolute URI without fragment:", v,
                                    "e.g. resource=https://conduktor.example.com");
        }
        *slot = v;
    }
    ((cka_dir_conf_t *)dcv)->client_creds = t;
    return NULL;
}
