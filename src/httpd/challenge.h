/* challenge.h - what a 401 or 403 says in WWW-Authenticate (challenge.c). */
#ifndef CKA_CHALLENGE_H
#define CKA_CHALLENGE_H
#include "request.h"

/* The RFC 6750 challenge for a refusal reason (with the scope, acr_values,
 * max_age and resource_metadata parameters that apply). */
const char *cka_challenge(request_rec *r, cka_reason_t why);
/* The RFC 9449 DPoP challenge, beside or instead of the Bearer one. */
void cka_dpop_challenges(request_rec *r, cka_reason_t why);
/* A valid token that authorization refused: the answer's reason - step-up
 * (401, RFC 9470) when a conduktor-acr line or ConduktorAuthMaxAge asked
 * for more, else the Require denial (403 insufficient_scope). */
cka_reason_t cka_authz_denial(const cka_req_t *rq);
/* The DPoP proof algorithms in the order challenges and metadata list them. */
#define CKA_DPOP_NALGS 10
extern const cka_alg_t cka_dpop_alg_order[CKA_DPOP_NALGS];

#endif
