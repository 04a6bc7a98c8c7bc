/* client_exchange.h - ConduktorAuthClientCredentials: "Authorization: Basic
 * client_id:secret" exchanged at the IdP's token endpoint for an access
 * token (client_credentials grant, client_secret_basic), which the caller
 * then checks like any bearer credential and forwards.
 *
 * An exchanged token is reused until 30 s before its exp: per process (a
 * small front) and through the shared cache (ConduktorAuthCache: all
 * processes, and all hosts sharing Redis/memcache), always sealed and under
 * a keyed name of (endpoint, scope, resource, audience, client_id, secret),
 * so a reader of the cache learns neither the pair nor the token and a
 * record made for one pair never serves another. Only tokens are shared:
 * a pair the IdP refused is remembered in the process that asked (5 s, not
 * sent again meanwhile), as is a failed exchange (1 s), so pairs nobody
 * presented successfully write nothing shared. Refused secrets are limited
 * across pairs, per process: after 5 refusals for one client_id, or 10
 * from one client address, within 60 s, new pairs of that client_id or
 * from that address are refused here without asking the IdP. Concurrent
 * requests of one process with the same pair cause one exchange (flight.h;
 * the others wait for it, at most ConduktorAuthHTTPTimeout). Neither the
 * secret nor a token is ever logged. */
#ifndef CKA_CLIENT_EXCHANGE_H
#define CKA_CLIENT_EXCHANGE_H
#include "config.h"

/* basic_value: what follows "Basic " in the Authorization header. CKA_OK
 * with *token (r->pool, NUL-terminated) and *len; otherwise
 * CKA_BAD_CLIENT_CREDENTIALS (401: the value is not client_id:secret as
 * RFC 6749 §2.3.1 has it), CKA_CLIENT_CREDENTIALS_REFUSED (401: the IdP
 * refused the pair, now or within the last 5 s) or
 * CKA_TOKEN_ENDPOINT_UNAVAILABLE (503: down, slow, or an answer that is
 * not a usable token or refusal; logged once per failed exchange).
 * dc->client_creds must be set. */
cka_reason_t cka_client_credentials(request_rec *r, const cka_dir_conf_t *dc,
                                    const char *basic_value, const char **token,
                                    size_t *len);

/* post_config: libcurl set up once, before the children fork. */
int  cka_client_creds_post_config(apr_pool_t *pconf, server_rec *s);
/* child_init: the per-process front and its lock. */
void cka_client_creds_child_init(apr_pool_t *pchild, server_rec *s);

#endif
