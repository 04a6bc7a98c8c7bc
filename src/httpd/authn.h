/* authn.h - check_authn (authn.c): the request's credential -> verdict -> identity handed on; header_parser: CORS preflights. */
#ifndef CKA_AUTHN_H
#define CKA_AUTHN_H
#include "mod_cka.h"

int cka_check_authn(request_rec *r);
int cka_header_parser(request_rec *r);

#endif
