/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Test helper for table-driven tests: compares one row's outcome (return value and the result
 * or error text) and names the row when it differs, which cmocka alone would not. */
#pragma once

/* Include after <cmocka.h>. */
static inline void check_row(const char *what, size_t i, int r, const char *got, int want_ret,
                             const char *want)
{
        if (r != want_ret || strcmp(got, want) != 0)
                print_message("%s %zu: got %d \"%s\", want %d \"%s\"\n", what, i, r, got, want_ret,
                              want);
        assert_int_equal(r, want_ret);
        assert_string_equal(got, want);
}
