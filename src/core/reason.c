/* reason.c - the table of refusal reasons and faults, made from
 * CKA_REASONS and CKA_FAULTS; the error shape of err.h. */
#include "reason.h"
#include "err.h"
#include <stdarg.h>
#include <stddef.h>
#include <apr_strings.h>

typedef struct {
    const char *code;
    const char *text;
    int         status;
    const char *oauth;
} reason_row_t;

static const reason_row_t rows[CKA_CODE_COUNT] = {
#define CKA_X_ROW(name, code, text, status, oauth) [CKA_##name] = { code, text, status, oauth },
    CKA_REASONS(CKA_X_ROW)
#undef CKA_X_ROW
#define CKA_X_FAULT_ROW(name, code, text) [CKA_##name] = { code, text, 500, NULL },
    CKA_FAULTS(CKA_X_FAULT_ROW)
#undef CKA_X_FAULT_ROW
};

static const reason_row_t *row(cka_reason_t r)
{
    if ((int)r < 0 || r >= CKA_CODE_COUNT || rows[r].code == NULL)
        return &rows[CKA_INTERNAL];
    return &rows[r];
}

const char *cka_reason_code(cka_reason_t r) { return row(r)->code; }
const char *cka_reason_text(cka_reason_t r) { return row(r)->text; }
int cka_reason_status(cka_reason_t r) { return row(r)->status; }
const char *cka_reason_oauth_error(cka_reason_t r) { return row(r)->oauth; }

/* ---- err.h ---------------------------------------------------------------- */

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
