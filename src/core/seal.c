/* seal.c - see seal.h */
#include "seal.h"
typedef int cka_seal_placeholder_t;
