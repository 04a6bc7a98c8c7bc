/* binding.h - one issuer as one server trusts it.
 *
 * Trust is bound to the configuration that declared it: each server (main
 * and every virtual host) gets, in post_config, one binding per issuer it
 * trusts - the issuer with this server's key source and CA file. */
#ifndef CKA_BINDING_H
#define CKA_BINDING_H
#include "config.h"
#include "keyrec.h"

/* One issuer as one server trusts it. id: SHA-256 over the issuer, the
 * kind of key source, the source and the CA file (cka_binding_id in
 * keyrec.h): equal ids see the same keys, different ids never share them
 * (not in shared memory, not in the shared cache). */
typedef struct {
    const cka_issuer_t *is;
    unsigned char       id[CKA_BINDING_ID_LEN];
    int                 slot;      /* remote: shared-memory slot; -1: none */
    const char         *ca_file;   /* the server's ConduktorAuthCAFile;
                                      NULL: the system store            */
} cka_binding_t;

/* The binding of issuer iss on server s (s: the merged config of the
 * request's server); NULL when s does not trust iss. */
const cka_binding_t *cka_find_binding(const cka_srv_conf_t *s, const char *iss);

/* "file", "jwks" or "discovery": part of the binding id, and shown on the
 * status page. */
const char *cka_keys_kind_name(cka_keys_kind_t k);

/* post_config: the bindings of every server (a config record that two
 * servers share gets them once); *remote counts those with remote keys.
 * OK, or !OK logged. */
int cka_make_bindings(apr_pool_t *p, server_rec *s, int *remote);

#endif
