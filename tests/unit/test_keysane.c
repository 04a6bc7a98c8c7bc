/* test_keysane.c */
#include "suites.h"
Suite *suite_keysane(void)
{
    return suite_create("keysane");
}
