/* request.c - per-request state. */
#include "mod_cka.h"
