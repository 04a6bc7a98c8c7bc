/* shared_cache.c - see shared_cache.h */
#include "shared_cache.h"
typedef int cka_shared_cache_placeholder_t;
