/* seal.h - AEAD records and keyed lookup names from the cache secret. */
#ifndef CKA_SEAL_H
#define CKA_SEAL_H
#endif
