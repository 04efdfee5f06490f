/* The checks the C tests share: a failed CHECK prints where and why (with the library's last error) and counts;
   CHECK_ERROR wants a given status and a message. */
#ifndef SWIFTLET_TEST_CHECK_H
#define SWIFTLET_TEST_CHECK_H

#include <stdio.h>
#include <string.h>

#include "swiftlet.h"

static int failures = 0;

#define CHECK(cond, ...)                                                     \
    do {                                                                     \
        if (!(cond)) {                                                       \
            fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);             \
            fprintf(stderr, __VA_ARGS__);                                    \
            fprintf(stderr, " [last error: %s]\n", swiftlet_last_error());   \
            failures++;                                                      \
        }                                                                    \
    } while (0)

/* An error status with a message. */
#define CHECK_ERROR(call, status)                                                           \
    do {                                                                                    \
        swiftlet_status s_ = (call);                                                        \
        CHECK(s_ == (status), "%s gave %d, expected %d", #call, (int)s_, (int)(status));    \
        CHECK(strlen(swiftlet_last_error()) > 0, "%s left no message", #call);               \
    } while (0)

#endif
