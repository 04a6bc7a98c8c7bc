/* err.h - the one shape in which the core says "no": a code (reason.h: a
 * request's refusal reason or a fault) and a detail text for the log.
 *
 * The convention, the same for every core function that can fail:
 *   cka_reason_t cka_thing(..., cka_err_t *err);
 * returns CKA_OK (0) on success, leaving *err alone; otherwise returns the
 * code and fills *err with it and a detail. err may be NULL (the caller
 * wants the code only). A result is handed back through an out-parameter.
 * The detail is a static text or from the call's pool, never key material,
 * a token or a secret. The glue logs it one way: cka_err_line ("detail
 * [code]") in a log line; cka_err_text alone where the text goes elsewhere
 * (a configuration error, the status page's last error). Tests assert on
 * the code. Part of the core: no httpd header. */
#ifndef CKA_ERR_H
#define CKA_ERR_H
#include <apr_pools.h>
#include "reason.h"

typedef struct {
    cka_reason_t reason;
    const char  *detail;     /* NULL: the code's own text says it all     */
} cka_err_t;

#define CKA_ERR_INIT { CKA_OK, NULL }

/* Fill err (when not NULL) with r and detail; returns r. */
cka_reason_t cka_fail(cka_err_t *err, cka_reason_t r, const char *detail);

/* The same with a printf-style detail made in p. */
cka_reason_t cka_failf(cka_err_t *err, apr_pool_t *p, cka_reason_t r, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Put what to before err's detail ("what: detail"), keeping its code:
 * a caller adding where (a path, a stage). Returns err->reason. */
cka_reason_t cka_err_prefix(cka_err_t *err, apr_pool_t *p, const char *what);

/* The detail, or the code's text when there is none (never NULL). */
const char *cka_err_text(const cka_err_t *err);

/* One log line: "detail [code]"; the way the glue logs a core error. */
const char *cka_err_line(apr_pool_t *p, const cka_err_t *err);

#endif
