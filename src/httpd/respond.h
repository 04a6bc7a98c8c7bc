/* respond.h - the 401 / 403 / 503 / 500 answers (respond.c): JSON body,
 * CONDUKTOR_AUTH_ERROR, the refusal of check_authn. */
#ifndef CKA_RESPOND_H
#define CKA_RESPOND_H
#include "mod_cka.h"
#include <util_filter.h>

int cka_note_auth_failure(request_rec *r, const char *auth_type);
void cka_insert_error_filter(request_rec *r);
int cka_error_document_fixups(request_rec *r);
#define CKA_JSON_ERROR_FILTER "CONDUKTOR_AUTH_JSON_ERROR"
apr_status_t cka_json_error_filter(ap_filter_t *f, apr_bucket_brigade *bb);
/* Refuse the request in check_authn: reason in the request state and
 * CONDUKTOR_AUTH_ERROR, the challenge or Retry-After, one log line (detail
 * or the reason's text); returns the status for the hook to return. */
int cka_refuse(request_rec *r, cka_reason_t why, const char *detail);

#endif
