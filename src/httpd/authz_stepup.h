/* authz_stepup.h - Require conduktor-scope / conduktor-acr and
 * ConduktorAuthMaxAge (authz_stepup.c, RFC 9470). */
#ifndef CKA_AUTHZ_STEPUP_H
#define CKA_AUTHZ_STEPUP_H
#include "mod_cka.h"
#include <mod_auth.h>

extern const authz_provider cka_scope_provider;
extern const authz_provider cka_acr_provider;
/* check_authz (before mod_authz_core's): ConduktorAuthMaxAge. */
int cka_max_age_check(request_rec *r);
/* fixups: a request that no Require judged meets ConduktorAuthMaxAge too. */
int cka_max_age_fixup(request_rec *r);

#endif
