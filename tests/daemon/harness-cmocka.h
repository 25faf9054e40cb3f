/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * The harness's checks for the cmocka tests of xenfitd: include after
 * <cmocka.h>. Header-only, static.
 */
#ifndef XENFIT_TEST_HARNESS_CMOCKA_H
#define XENFIT_TEST_HARNESS_CMOCKA_H

#include <stdlib.h>

#include "harness.h"

/* Calls, expects success, returns the result (the caller's to decref); a
 * failure fails the test, printing the method, its code and its error. */
static inline json_t *td_ok(struct xfd_client *c, const char *method, json_t *params)
{
    json_t *res = NULL, *err = NULL;
    int r = xfd_client_call(c, method, params, &res, &err);
    if (r != 0) {
        char *t = err ? td_text(err) : NULL;
        print_error("%s failed (%d): %s\n", method, r, t ? t : "");
        free(t);
        json_decref(err);
        fail();
    }
    return res;
}

#endif
