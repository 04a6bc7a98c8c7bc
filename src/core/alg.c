/* alg.c - JWS algorithm names. Comparisons are exact. */
#include "alg.h"
#include <string.h>

static const char *const names[CKA_ALG_COUNT] = {
    [CKA_ALG_UNKNOWN] = NULL,
    [CKA_ALG_RS256] = "RS256", [CKA_ALG_RS384] = "RS384", [CKA_ALG_RS512] = "RS512",
    [CKA_ALG_PS256] = "PS256", [CKA_ALG_PS384] = "PS384", [CKA_ALG_PS512] = "PS512",
    [CKA_ALG_ES256] = "ES256", [CKA_ALG_ES384] = "ES384", [CKA_ALG_ES512] = "ES512",
    [CKA_ALG_EDDSA] = "EdDSA",
    [CKA_ALG_HS256] = "HS256", [CKA_ALG_HS384] = "HS384", [CKA_ALG_HS512] = "HS512",
};

cka_alg_t cka_alg_from_name(const char *name)
{
    if (name == NULL)
        return CKA_ALG_UNKNOWN;
    for (int a = 1; a < CKA_ALG_COUNT; a++)
        if (strcmp(names[a], name) == 0)
            return (cka_alg_t)a;
    return CKA_ALG_UNKNOWN;
}

const char *cka_alg_name(cka_alg_t a)
{
    if ((int)a <= 0 || a >= CKA_ALG_COUNT)
        return "unknown";
    return names[a];
}

const char *cka_alg_all_names(void)
{
    return "RS256 RS384 RS512 PS256 PS384 PS512 ES256 ES384 ES512 EdDSA HS256 HS384 HS512";
}
