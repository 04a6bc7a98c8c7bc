/* config_identity.c - ConduktorAuthUserClaim, ConduktorAuthEmailClaim,
 * ConduktorAuthGroupsClaim, ConduktorAuthGroupsSeparator, ConduktorAuthClaimEnv,
 * ConduktorAuthIdentityHeader: the identity handed on. */
#include "config_identity.h"
#include <apr_lib.h>

static const char *check_claim_path(cmd_parms *cmd, const char *arg)
{
    if (*arg == '\0' || cka_conf_has_ctl(arg) || arg[0] == '.'
        || arg[strlen(arg) - 1] == '.')
        return cka_conf_err(cmd, "invalid claim path", arg,
                            "a claim name or dotted path such as email, realm_access.roles, cognito:groups");
    return NULL;
}

const char *cka_set_user_claim(cmd_parms *cmd, void *dcv, const char *arg)
{
    const char *e = check_claim_path(cmd, arg);
    if (e)
        return e;
    cka_conf_push(&((cka_dir_conf_t *)dcv)->user_claims, cmd->pool, arg);
    return NULL;
}

const char *cka_set_email_claim(cmd_parms *cmd, void *dcv, const char *arg)
{
    const char *e = check_claim_path(cmd, arg);
    if (!e)
        ((cka_dir_conf_t *)dcv)->email_claim = arg;
    return e;
}

const char *cka_set_groups_claim(cmd_parms *cmd, void *dcv, const char *arg)
{
    const char *e = check_claim_path(cmd, arg);
    if (!e)
        ((cka_dir_conf_t *)dcv)->groups_claim = arg;
    return e;
}

const char *cka_set_separator(cmd_parms *cmd, void *dcv, const char *arg)
{
    if (*arg == '\0' || strchr(arg, '\\') || strlen(arg) > 8)
        return cka_conf_err(cmd, "invalid separator", arg,
                            "1 to 8 characters, no backslash (the escape character)");
    for (const char *s = arg; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return cka_conf_err(cmd, "invalid separator (control character)", arg,
                                "1 to 8 printable characters");
    ((cka_dir_conf_t *)dcv)->groups_separator = arg;
    return NULL;
}

static int is_env_name(const char *s)
{
    if (!(apr_isalpha(*s) || *s == '_'))
        return 0;
    for (; *s; s++)
        if (!(apr_isalnum(*s) || *s == '_'))
            return 0;
    return 1;
}

const char *cka_set_claim_env(cmd_parms *cmd, void *dcv, const char *claim,
                              const char *var)
{
    cka_dir_conf_t *c = dcv;
    const char *e = check_claim_path(cmd, claim);
    if (e)
        return e;
    if (!is_env_name(var))
        return cka_conf_err(cmd, "invalid variable name", var, "letters, digits and _, not starting with a digit");
    if (strcmp(var, "REMOTE_USER") == 0 || strncmp(var, "CONDUKTOR_AUTH_", 15) == 0)
        return cka_conf_err(cmd, "variable is set by the module itself:", var, "another name");
    cka_claim_env_t *ce = apr_pcalloc(cmd->pool, sizeof(*ce));
    ce->claim = claim;
    ce->var = var;
    if (c->claim_env == NULL)
        c->claim_env = apr_array_make(cmd->pool, 2, sizeof(cka_claim_env_t *));
    APR_ARRAY_PUSH(c->claim_env, cka_claim_env_t *) = ce;
    cka_conf_push(&c->extra_paths, cmd->pool, claim);
    return NULL;
}

static const char *const reserved_headers[] = {
    "authorization", "host", "content-length", "transfer-encoding", "connection",
    "cookie", "upgrade", "te", "trailer", "keep-alive", "proxy-authorization",
    "expect", NULL
};

const char *cka_set_identity_header(cmd_parms *cmd, void *dcv, const char *field,
                                    const char *header)
{
    cka_dir_conf_t *c = dcv;
    cka_id_header_t *h = apr_pcalloc(cmd->pool, sizeof(*h));
    static const char *accepted = "user, email, groups, subject or claim:<path>";
    if (strcmp(field, "user") == 0) h->field = CKA_FIELD_USER;
    else if (strcmp(field, "email") == 0) h->field = CKA_FIELD_EMAIL;
    else if (strcmp(field, "groups") == 0) h->field = CKA_FIELD_GROUPS;
    else if (strcmp(field, "subject") == 0) h->field = CKA_FIELD_SUBJECT;
    else if (strncmp(field, "claim:", 6) == 0) {
        const char *e = check_claim_path(cmd, field + 6);
        if (e)
            return e;
        h->field = CKA_FIELD_CLAIM;
        h->claim = field + 6;
        cka_conf_push(&c->extra_paths, cmd->pool, h->claim);
    }
    else
        return cka_conf_err(cmd, "unknown identity field", field, accepted);
    if (!cka_conf_is_header(header))
        return cka_conf_err(cmd, "invalid header name", header, "an HTTP header name such as X-Auth-User");
    for (int i = 0; reserved_headers[i]; i++)
        if (ap_cstr_casecmp(header, reserved_headers[i]) == 0)
            return cka_conf_err(cmd, "header cannot carry the identity:", header,
                                "a header of your own, such as X-Auth-Email");
    h->header = header;
    if (c->id_headers == NULL)
        c->id_headers = apr_array_make(cmd->pool, 2, sizeof(cka_id_header_t *));
    APR_ARRAY_PUSH(c->id_headers, cka_id_header_t *) = h;
    return NULL;
}
