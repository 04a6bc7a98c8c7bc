/* mod_cka.h - shared by every glue file: the httpd headers, the module
 * record, logging, the AuthType and the log prefix. Each glue file declares
 * its own functions in a header of its own name. */
#ifndef MOD_CKA_H
#define MOD_CKA_H

#include <httpd.h>
#include <http_config.h>
#include <http_core.h>
#include <http_log.h>
#include <http_protocol.h>
#include <http_request.h>
#include <apr_strings.h>

extern module AP_MODULE_DECLARE_DATA conduktor_auth_module;
#if defined(APLOG_USE_MODULE) && !defined(CKA_FRONT_DOOR)
APLOG_USE_MODULE(conduktor_auth);
#endif

#include <jansson.h>
#include "reason.h"
#include "alg.h"

#define CKA_AUTH_TYPE "conduktor-jwt"
#define CKA_LOG_PREFIX "conduktor_auth: "

#endif
