/* err.c - the core's one error shape (err.h). */
#include "err.h"
#include <stdarg.h>
#include <apr_strings.h>

cka_reason_t cka_fail(cka_err_t *err, cka_reason_t r, const char *detail)
{
    if (err != NULL) {
        err->reason = r;
        err->detail = detail;
    }
    return r;
}

cka_reason_t cka_failf(cka_err_t *err, apr_pool_t *p, cka_reason_t r, const char *fmt, ...)
{
    if (err != NULL) {
        va_list ap;
        va_start(ap, fmt);
        err->reason = r;
        err->detail = apr_pvsprintf(p, fmt, ap);
        va_end(ap);
    }
    return r;
}

cka_reason_t cka_err_prefix(cka_err_t *err, apr_pool_t *p, const char *what)
{
    if (err == NULL)
        return CKA_INTERNAL;
    err->detail = apr_pstrcat(p, what, ": ", cka_err_text(err), NULL);
    return err->reason;
}

const char *cka_err_text(const cka_err_t *err)
{
    if (err == NULL)
        return cka_reason_text(CKA_INTERNAL);
    return err->detail != NULL ? err->detail : cka_reason_text(err->reason);
}

const char *cka_err_line(apr_pool_t *p, const cka_err_t *err)
{
    return apr_pstrcat(p, cka_err_text(err), " [",
                       cka_reason_code(err ? err->reason : CKA_INTERNAL), "]", NULL);
}
