/* config_token.c - ConduktorAuthAudience, ConduktorAuthClockSkew,
 * ConduktorAuthRequireType, ConduktorAuthTokenHeader, ConduktorAuthForwardToken,
 * ConduktorAuthMaxAge, ConduktorAuthMaxTokenLifetime: the checks a token
 * meets in a location, and where it is read. */
#include "config_token.h"

const char *cka_set_audience(cmd_parms *cmd, void *dcv, const char *arg)
{
    cka_dir_conf_t *c = dcv;
    if (*arg == '\0')
        return cka_conf_err(cmd, "empty audience", arg, "one or more audience values, or * alone");
    int star = strcmp(arg, "*") == 0;
    int had_star = c->audiences && c->audiences->nelts > 0
        && strcmp(APR_ARRAY_IDX(c->audiences, 0, const char *), "*") == 0;
    if ((star && c->audiences && c->audiences->nelts > 0) || had_star)
        return cka_conf_err(cmd, "'*' cannot be mixed with other audiences:", arg,
                            "one or more audience values, or * alone to disable the check");
    cka_conf_push(&c->audiences, cmd->pool, arg);
    return NULL;
}

const char *cka_set_skew(cmd_parms *cmd, void *dcv, const char *arg)
{
    return cka_conf_seconds(cmd, arg, 0, 3600, &((cka_dir_conf_t *)dcv)->clock_skew);
}

const char *cka_set_require_type(cmd_parms *cmd, void *dcv, const char *arg)
{
    if (*arg == '\0' || cka_conf_has_ctl(arg))
        return cka_conf_err(cmd, "invalid typ", arg, "JWT header typ values such as at+jwt or JWT");
    cka_conf_push(&((cka_dir_conf_t *)dcv)->require_types, cmd->pool, arg);
    return NULL;
}

const char *cka_set_token_header(cmd_parms *cmd, void *dcv, const char *arg)
{
    if (!cka_conf_is_header(arg))
        return cka_conf_err(cmd, "invalid header name", arg, "an HTTP header name such as Authorization or X-Access-Token");
    ((cka_dir_conf_t *)dcv)->token_header = arg;
    return NULL;
}

const char *cka_set_forward_token(cmd_parms *cmd, void *dcv, int on)
{
    ((cka_dir_conf_t *)dcv)->forward_token = on ? 1 : 0;
    return NULL;
}

/* ---- step-up and token lifetime ----------------------------------------------*/

/* ConduktorAuthMaxAge <seconds>|off: one rule per line, for the methods of
 * an enclosing <Limit>/<LimitExcept> (where httpd leaves other directives
 * unlimited, these are not). */
const char *cka_set_max_age(cmd_parms *cmd, void *dcv, const char *arg)
{
    cka_dir_conf_t *c = dcv;
    cka_max_age_t *m = apr_pcalloc(cmd->pool, sizeof(*m));
    if (ap_cstr_casecmp(arg, "off") == 0)
        m->seconds = -1;
    else {
        char *end;
        apr_int64_t v;
        errno = 0;
        v = apr_strtoi64(arg, &end, 10);
        if (*arg == '\0' || *end != '\0' || errno != 0 || v < 0 || v > 31536000)
            return cka_conf_err(cmd, "invalid maximum authentication age", arg,
                                "seconds from 0 to 31536000, or off");
        m->seconds = (int)v;
    }
    m->methods = cmd->limited;
    if (c->max_age == NULL)
        c->max_age = apr_array_make(cmd->pool, 2, sizeof(cka_max_age_t *));
    APR_ARRAY_PUSH(c->max_age, cka_max_age_t *) = m;
    return NULL;
}

const char *cka_set_max_lifetime(cmd_parms *cmd, void *dcv, const char *arg)
{
    cka_dir_conf_t *c = dcv;
    if (cmd->limited != -1)
        return apr_psprintf(cmd->pool, "%s: a token check holds for every method; "
                            "it cannot go in <Limit> or <LimitExcept> (use <If> on "
                            "%%{REQUEST_METHOD} for a check per method)", cmd->cmd->name);
    if (ap_cstr_casecmp(arg, "off") == 0) {
        c->max_token_lifetime = 0;
        return NULL;
    }
    char *end;
    apr_int64_t v;
    errno = 0;
    v = apr_strtoi64(arg, &end, 10);
    if (*arg == '\0' || *end != '\0' || errno != 0 || v < 1 || v > 31536000)
        return cka_conf_err(cmd, "invalid maximum token lifetime", arg,
                            "seconds from 1 to 31536000 (exp - iat), or off");
    c->max_token_lifetime = (int)v;
    return NULL;
}
