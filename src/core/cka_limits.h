/* limits.h - input limits of the SPEC ("Limits on input"). */
#ifndef CKA_LIMITS_H
#define CKA_LIMITS_H

#define CKA_MAX_TOKEN_LEN   16384           /* bytes of the compact token  */
#define CKA_MAX_JSON_DEPTH  32              /* nesting of header / claims  */
#define CKA_MAX_DOC_LEN     (1024 * 1024)   /* JWKS / discovery documents  */
#define CKA_MAX_KEYS        256             /* keys kept from one JWKS     */
/* NumericDate values accepted: integers in [0, year 9999]. */
#define CKA_MAX_NUMERIC_DATE 253402300799LL

#endif
