/* authz.h - Require conduktor-group / conduktor-claim / conduktor-credential
 * (authz.c), registered by the front door. */
#ifndef CKA_AUTHZ_H
#define CKA_AUTHZ_H
#include "mod_cka.h"
#include <mod_auth.h>

extern const authz_provider cka_group_provider;
extern const authz_provider cka_claim_provider;
extern const authz_provider cka_credential_provider;

#endif
