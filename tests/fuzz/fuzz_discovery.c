/* fuzz_discovery.c - what the IdP sends besides keys: the OIDC discovery
 * document (cka_discovery_read for jwks_uri), the Cache-Control value
 * (cka_cache_control_max_age) and the discovery URL of an issuer.
 *
 * Input: "<issuer>\0<document>"; without a NUL the whole input is the
 * document and the issuer is fixed. The whole input (up to its first NUL)
 * is also read as a Cache-Control value. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "fuzz_common.h"
#include <jansson.h>
#include "fetch.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fz_init_begin();
    fz_apr_init();
    fz_init_end();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p;
    apr_pool_create(&p, fz_root);
    const uint8_t *a, *rest;
    size_t alen, rlen;
    const char *iss;
    const uint8_t *doc;
    size_t dlen;
    if (fz_split(data, size, &a, &alen, &rest, &rlen)) {
        iss = fz_strndup(p, a, alen);
        doc = rest;
        dlen = rlen;
    }
    else {
        iss = "https://idp.test/realms/conduktor";
        doc = data;
        dlen = size;
    }

    char *copy = malloc(dlen ? dlen : 1);
    memcpy(copy, doc, dlen);
    cka_err_t err = CKA_ERR_INIT;
    const char *uri = NULL;
    cka_reason_t r = cka_discovery_read(p, copy, dlen, iss, "jwks_uri", &uri, &err);
    FZ_CHECK((r == CKA_OK) == (uri != NULL), "code and result disagree");
    if (uri != NULL) {
        FZ_CHECK(strncasecmp(uri, "https://", 8) == 0, "a jwks_uri that is not https was accepted");
        /* the document's issuer must equal the configured one, exactly */
        json_t *o = json_loadb(copy, dlen, JSON_REJECT_DUPLICATES, NULL);
        FZ_CHECK(json_is_object(o), "accepted a document that is not a JSON object");
        const char *di = json_string_value(json_object_get(o, "issuer"));
        FZ_CHECK(di != NULL && strcmp(di, iss) == 0, "accepted another issuer's document");
        const char *du = json_string_value(json_object_get(o, "jwks_uri"));
        FZ_CHECK(du != NULL && strcmp(du, uri) == 0, "returned a jwks_uri not in the document");
        json_decref(o);
    }
    else
        FZ_CHECK(err.reason == CKA_DISCOVERY_INVALID && err.detail != NULL && *err.detail,
                 "refused without a reason");
    free(copy);

    const char *cc = fz_strndup(p, data, alen);
    long age = cka_cache_control_max_age(cc);
    FZ_CHECK(age >= -1, "max-age below -1");
    if (age > 0)
        FZ_CHECK(strcasestr(cc, "max-age=") != NULL, "a max-age without max-age=");

    const char *url = cka_discovery_url(p, iss);
    size_t il = strlen(iss);
    FZ_CHECK(url != NULL && strncmp(url, iss, il) == 0, "discovery URL does not start with the issuer");
    FZ_CHECK(strcmp(url + il, (il && iss[il - 1] == '/') ? ".well-known/openid-configuration"
                                                        : "/.well-known/openid-configuration") == 0,
             "discovery URL is not issuer + one slash + .well-known/openid-configuration");
    apr_pool_destroy(p);
    return 0;
}
