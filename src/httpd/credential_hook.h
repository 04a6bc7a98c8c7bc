/* credential_hook.h - the request's credential, read from its header and sorted
 * into a kind once (credential_hook.c; core: credential.c). */
#ifndef CKA_CREDENTIAL_HOOK_H
#define CKA_CREDENTIAL_HOOK_H
#include "request.h"

/* The request's credential, read and sorted once (kind, text, or why its
 * header is refused); sets CONDUKTOR_AUTH_CREDENTIAL. */
cka_req_t *cka_credential(request_rec *r);
/* fixups: sorted for the log where a rule granted without looking. */
int cka_credential_fixups(request_rec *r);
/* Once exchanged or introspected, the credential has another kind. */
void cka_credential_set_kind(request_rec *r, cka_cred_kind_t kind);
/* Sort another credential (a token obtained for the request) the same way. */
cka_reason_t cka_credential_sort(request_rec *r, const char *cred, size_t len,
                                 cka_cred_kind_t *kind);

#endif
