/* id_headers.c - identity headers: stripped on every path, set without variants. */
#include "config.h"
