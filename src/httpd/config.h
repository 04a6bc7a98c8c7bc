/* config.h - configuration records. The members of each scope are listed
 * once, in CKA_SRV_MEMBERS and CKA_DIR_MEMBERS: create, merge, the getters
 * (defaults written once) and the unit test of create/merge
 * (tests/unit/test_config.c) are all generated from those lists. */
#ifndef CKA_CONFIG_H
#define CKA_CONFIG_H

#include "mod_cka.h"
#include "alg.h"
#include "keyset.h"
#include "identity.h"
#include "client_creds.h"
#include "introspection.h"
#include "dpop.h"
#include "validate.h"

#define CKA_UNSET (-1)

/* ---- server scope --------------------------------------------------------*/
typedef enum { CKA_KEYS_FILE = 1, CKA_KEYS_URL, CKA_KEYS_DISCOVERY } cka_keys_kind_t;

typedef struct {
    const char     *iss;
    cka_keys_kind_t kind;
    const char     *source;      /* file path, JWKS URL, or NULL (discovery) */
    cka_keyset_t   *static_keys; /* kind FILE: parsed at config time         */
    apr_time_t      loaded_at;   /* kind FILE: when the file was read        */
} cka_issuer_t;

/* The secret of ConduktorAuthCacheSecret, read once when the configuration
 * is read (as root). */
typedef struct {
    const char          *path;
    const unsigned char *bytes;
    size_t               len;
} cka_cache_secret_t;

/* ConduktorAuthIntrospect: how to ask one issuer whether a token is active
 * (RFC 7662). Secrets, keys and certificates are read once, when the
 * configuration is read (as root); they are never logged. */
typedef struct {
    const char          *iss;
    const char          *endpoint;     /* https:// URL; NULL: discover       */
    const char          *client_id;
    cka_is_auth_t        auth;
    const char          *secret;       /* BASIC / POST                       */
    size_t               secret_len;
    EVP_PKEY            *key;          /* JWT: the client assertion key      */
    const char          *key_alg;
    const char          *cert_pem;     /* TLS: client certificate (PEM) ...  */
    size_t               cert_len;
    const char          *cert_key_pem; /* ... and its private key (PEM)      */
    size_t               cert_key_len;
    const char          *where;        /* file:line of the directive (logs)  */
} cka_introspect_conf_t;

struct ap_socache_provider_t;
struct ap_socache_instance_t;

/* ConduktorAuthResource (resource_md.c): an RFC 9728 resource identifier,
 * checked and taken apart when the configuration is read. */
typedef struct cka_resource_t {
    const char *url;        /* exactly as configured: the "resource" member */
    const char *host;       /* its host, as written                          */
    const char *md_path;    /* /.well-known/oauth-protected-resource<path>   */
    const char *md_url;     /* scheme://authority + md_path                  */
    const void *section;    /* config node of its <Location> (NULL: server)  */
    const struct cka_dir_conf_t *dir; /* that section's own settings (its
                             * ConduktorAuthRequireBinding, DPoP algorithms) */
} cka_resource_t;

/* A Require conduktor-scope line, remembered for the metadata of the
 * resource declared in the same section (scopes_supported). */
typedef struct {
    const void               *section;
    const apr_array_header_t *scopes;   /* const char * */
} cka_scope_line_t;

/* X(kind, C type, member, default) for the server scope; kinds as for
 * CKA_DIR_MEMBERS below, plus
 *   BITS : unset is 0; the child wins when non-zero.
 * resources (cka_resource_t *) and scope_lines (cka_scope_line_t *) are
 * ADD: a virtual host also serves the metadata of the main server's
 * <Location>s, which apply to it too.
 * The ConduktorAuthCache* settings are global (main server only): virtual
 * hosts cannot set them and inherit the main server's in the merge. */
#define CKA_SRV_MEMBERS(X) \
    X(LIST, apr_array_header_t *,           issuers,        NULL)                \
    X(BITS, cka_alg_set_t,                  algs,           CKA_ALG_SET_DEFAULT) \
    X(INT,  int,                            jwks_refresh,   3600)                \
    X(INT,  int,                            miss_refetch,   60)                  \
    X(INT,  int,                            http_timeout,   5)                   \
    X(STR,  const char *,                   ca_file,        NULL)                \
    X(INT,  int,                            cache_off,      0)                   \
    X(STR,  const char *,                   cache_spec,     NULL)                \
    X(STR,  const struct ap_socache_provider_t *, cache_provider, NULL)          \
    X(STR,  struct ap_socache_instance_t *, cache_instance, NULL)                \
    X(INT,  int,                            cache_ttl,      300)                 \
    X(STR,  const cka_cache_secret_t *,     cache_secret,   NULL)                \
    X(ADD,  apr_array_header_t *,           resources,      NULL)                \
    X(ADD,  apr_array_header_t *,           scope_lines,    NULL)                \
    X(LIST, apr_array_header_t *,           introspects,    NULL)                \
    X(INT,  int,                            introspect_ttl, 60)

typedef struct {
#define CKA_X_FIELD(kind, type, name, def) type name;
    CKA_SRV_MEMBERS(CKA_X_FIELD)
#undef CKA_X_FIELD
    /* Made in post_config for this server alone, never inherited: one
     * cka_binding_t (key_store.h) per trusted issuer, with this server's
     * key source and CA file. The issuers array may be shared by vhosts. */
    apr_array_header_t *bindings;
    /* Made in post_config for this server alone (introspect.c): one
     * cka_is_binding_t per ConduktorAuthIntrospect, bound to this server's
     * issuer binding. */
    apr_array_header_t *is_bindings;
} cka_srv_conf_t;

/* Server getters apply the defaults: cka_srv_<member>(s). */
#define CKA_SRV_GETTER_INT(type, name, def) \
    static inline type cka_srv_##name(const cka_srv_conf_t *c) \
    { return c->name == CKA_UNSET ? (def) : c->name; }
#define CKA_SRV_GETTER_BITS(type, name, def) \
    static inline type cka_srv_##name(const cka_srv_conf_t *c) \
    { return c->name ? c->name : (def); }
#define CKA_SRV_GETTER_STR(type, name, def) \
    static inline type cka_srv_##name(const cka_srv_conf_t *c) \
    { return c->name ? c->name : (def); }
#define CKA_SRV_GETTER_LIST(type, name, def)
#define CKA_SRV_GETTER_ADD(type, name, def)
#define CKA_X_SRV_GETTER(kind, type, name, def) CKA_SRV_GETTER_##kind(type, name, def)
CKA_SRV_MEMBERS(CKA_X_SRV_GETTER)
#undef CKA_X_SRV_GETTER

/* ---- directory scope -----------------------------------------------------*/
typedef enum { CKA_FIELD_USER = 1, CKA_FIELD_EMAIL, CKA_FIELD_GROUPS,
               CKA_FIELD_SUBJECT, CKA_FIELD_CLAIM } cka_field_t;

typedef struct {
    cka_field_t field;
    const char *claim;     /* CKA_FIELD_CLAIM: the path                     */
    const char *header;
} cka_id_header_t;

typedef struct {
    const char *claim;
    const char *var;
} cka_claim_env_t;

/* ConduktorAuthMaxAge: one rule per line, for the methods of the <Limit>
 * or <LimitExcept> it is written in (cmd->limited; -1: every method). */
typedef struct {
    int         seconds;    /* -1: off */
    apr_int64_t methods;    /* AP_METHOD_BIT << method_number mask */
} cka_max_age_t;

/* X(kind, C type, member, default)
 *   INT   : unset is CKA_UNSET; the child wins when set
 *   STR   : unset is NULL; the child wins when set
 *   LIST  : unset is NULL; the child's list replaces the parent's
 *   ADD   : unset is NULL; parent's entries, then the child's (identity
 *           headers must stay stripped in every nested scope) */
#define CKA_DIR_MEMBERS(X) \
    X(LIST, apr_array_header_t *, audiences,        NULL)            \
    X(INT,  int,                  clock_skew,       60)              \
    X(LIST, apr_array_header_t *, require_types,    NULL)            \
    X(STR,  const char *,         token_header,     "Authorization") \
    X(LIST, apr_array_header_t *, user_claims,      NULL)            \
    X(STR,  const char *,         email_claim,      "email")         \
    X(STR,  const char *,         groups_claim,     "groups")        \
    X(STR,  const char *,         groups_separator, ",")             \
    X(ADD,  apr_array_header_t *, claim_env,        NULL)            \
    X(ADD,  apr_array_header_t *, id_headers,       NULL)            \
    X(INT,  int,                  forward_token,    1)               \
    X(LIST, apr_array_header_t *, cors_origins,     NULL)            \
    X(LIST, apr_array_header_t *, cors_methods,     NULL)            \
    X(LIST, apr_array_header_t *, cors_headers,     NULL)            \
    X(LIST, apr_array_header_t *, cors_expose,      NULL)            \
    X(INT,  int,                  cors_credentials, 0)               \
    X(INT,  int,                  cors_max_age,     600)             \
    X(INT,  int,                  opaque_tokens,    CKA_OPAQUE_REFUSE) \
    X(STR,  const cka_cc_target_t *, client_creds,  NULL)             \
    X(LIST, apr_array_header_t *, max_age,          NULL)            \
    X(INT,  int,                  max_token_lifetime, 0)             \
    X(STR,  const cka_resource_t *, resource,       NULL)            \
    X(STR,  const char *,         opaque_issuer,    NULL)            \
    X(INT,  int,                  introspect_jwt,   0)               \
    X(INT,  int,                  require_binding,  CKA_BIND_NONE)   \
    X(INT,  int,                  dpop_algs,        (int)CKA_DPOP_ALGS_DEFAULT) \
    X(INT,  int,                  dpop_window,      60)              \
    X(INT,  int,                  dpop_nonce,       0)               \
    X(STR,  const char *,         public_url,       NULL)

/* ConduktorAuthRequireBinding (dpop_hook.c) */
enum { CKA_BIND_NONE = 0, CKA_BIND_DPOP = 1, CKA_BIND_MTLS = 2, CKA_BIND_ANY = 3 };

/* ConduktorAuthOpaqueTokens */
enum { CKA_OPAQUE_REFUSE = 0, CKA_OPAQUE_PASS = 1, CKA_OPAQUE_INTROSPECT = 2 };

typedef struct cka_dir_conf_t {
#define CKA_X_FIELD(kind, type, name, def) type name;
    CKA_DIR_MEMBERS(CKA_X_FIELD)
#undef CKA_X_FIELD
    /* derived at merge time, read-only while serving */
    apr_array_header_t *extra_paths;   /* claim paths of ClaimEnv / claim: */
    int                 has_policy;    /* policy below was made (audiences) */
    cka_policy_t        policy;        /* the token rules of this scope, but
                                        * algs: a server's (cka_dir_policy) */
} cka_dir_conf_t;

/* Getters apply the defaults, generated from the same list. */
#define CKA_GETTER_INT(type, name, def) \
    static inline type cka_##name(const cka_dir_conf_t *c) \
    { return c->name == CKA_UNSET ? (def) : c->name; }
#define CKA_GETTER_STR(type, name, def) \
    static inline type cka_##name(const cka_dir_conf_t *c) \
    { return c->name ? c->name : (def); }
#define CKA_GETTER_LIST(type, name, def)
#define CKA_GETTER_ADD(type, name, def)
#define CKA_X_GETTER(kind, type, name, def) CKA_GETTER_##kind(type, name, def)
CKA_DIR_MEMBERS(CKA_X_GETTER)
#undef CKA_X_GETTER

/* CORS lists with the SPEC's defaults (also rendered for the headers). */
const apr_array_header_t *cka_cors_methods(const cka_dir_conf_t *c);
const apr_array_header_t *cka_cors_headers(const cka_dir_conf_t *c);
const apr_array_header_t *cka_cors_expose(const cka_dir_conf_t *c);

/* The user claims, defaulting to ("email"). */
const apr_array_header_t *cka_user_claims(const cka_dir_conf_t *c);

void *cka_create_dir_conf(apr_pool_t *p, char *dir);
void *cka_merge_dir_conf(apr_pool_t *p, void *base, void *add);
void *cka_create_srv_conf(apr_pool_t *p, server_rec *s);
void *cka_merge_srv_conf(apr_pool_t *p, void *base, void *add);
extern const command_rec cka_cmds[];
/* The token rules for a request of scope dc on server sc: the policy made
 * at merge time with the server's ConduktorAuthAlgorithms (made here for a
 * scope that was never merged). dc->audiences must be set. */
void cka_dir_policy(const cka_dir_conf_t *dc, const cka_srv_conf_t *sc, cka_policy_t *out);

const cka_issuer_t *cka_find_issuer(const cka_srv_conf_t *s, const char *iss);
/* The ConduktorAuthIntrospect of iss on server s, or NULL. */
const cka_introspect_conf_t *cka_find_introspect(const cka_srv_conf_t *s, const char *iss);

/* Argument checks the directive families share (config.c). */
/* "<directive>: <what> '<arg>'; accepted: <accepted>" */
const char *cka_conf_err(cmd_parms *cmd, const char *what, const char *arg,
                         const char *accepted);
/* A whole number of seconds from lo to hi into *out, or the message. */
const char *cka_conf_seconds(cmd_parms *cmd, const char *arg, int lo, int hi, int *out);
/* An HTTP field name: one RFC 7230 token, nothing after it. */
int cka_conf_is_header(const char *s);
/* A control character or a space anywhere in s. */
int cka_conf_has_ctl(const char *s);
/* A value sent to an IdP endpoint: 1 to 2048 bytes, no control character. */
int cka_conf_value_ok(const char *v);
/* Append v to the list *a, made on first use. */
void cka_conf_push(apr_array_header_t **a, apr_pool_t *p, const char *v);

#endif
