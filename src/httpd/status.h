/* status.h - the conduktor-auth-status handler (status.c). */
#ifndef CKA_STATUS_H
#define CKA_STATUS_H
#include "mod_cka.h"

int cka_status_handler(request_rec *r);

#endif
