/* shared_cache.h - generic socache access. */
#ifndef CKA_SHARED_CACHE_H
#define CKA_SHARED_CACHE_H
#endif
