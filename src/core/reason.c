/* reason.c - the table of refusal reasons and faults, made from
 * CKA_REASONS and CKA_FAULTS. */
#include "reason.h"
#include <stddef.h>

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
