/* test_seal.c */
#include "suites.h"
Suite *suite_seal(void)
{
    return suite_create("seal");
}
