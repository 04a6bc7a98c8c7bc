/* alg.h - JWS algorithm names and families. */
#ifndef CKA_ALG_H
#define CKA_ALG_H

typedef enum {
    CKA_ALG_UNKNOWN = 0,
    CKA_ALG_RS256, CKA_ALG_RS384, CKA_ALG_RS512,
    CKA_ALG_PS256, CKA_ALG_PS384, CKA_ALG_PS512,
    CKA_ALG_ES256, CKA_ALG_ES384, CKA_ALG_ES512,
    CKA_ALG_EDDSA,
    CKA_ALG_HS256, CKA_ALG_HS384, CKA_ALG_HS512,
    CKA_ALG_COUNT
} cka_alg_t;

typedef unsigned int cka_alg_set_t;   /* bit (1u << alg) per allowed alg */
#define CKA_ALG_BIT(a) (1u << (unsigned)(a))
/* The SPEC's default allow-list: every asymmetric algorithm. */
#define CKA_ALG_SET_DEFAULT \
    (CKA_ALG_BIT(CKA_ALG_RS256) | CKA_ALG_BIT(CKA_ALG_RS384) | CKA_ALG_BIT(CKA_ALG_RS512) | \
     CKA_ALG_BIT(CKA_ALG_PS256) | CKA_ALG_BIT(CKA_ALG_PS384) | CKA_ALG_BIT(CKA_ALG_PS512) | \
     CKA_ALG_BIT(CKA_ALG_ES256) | CKA_ALG_BIT(CKA_ALG_ES384) | CKA_ALG_BIT(CKA_ALG_ES512) | \
     CKA_ALG_BIT(CKA_ALG_EDDSA))

/* Exact, case-sensitive name lookup ("RS256"); "none" and anything else
 * unknown give CKA_ALG_UNKNOWN. */
cka_alg_t cka_alg_from_name(const char *name);
const char *cka_alg_name(cka_alg_t a);
/* Comma-free list of every supported name, for config error messages. */
const char *cka_alg_all_names(void);

#endif
