/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The verifier retry schedule (src/attest/retry.c): backoff ceilings, full jitter over its whole
 * range, Retry-After hints, per-attempt timeouts cut to the deadline, the attempt bound, and
 * which HTTP answers are worth another try. */

#include "attest/retry.h"
#include "util.h"

/* After our headers: cmocka's fail() macro would clash with failure.h's fail(). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#define MS(x) ((uint64_t) (x) *1000U)
#define S(x)  ((uint64_t) (x) *1000000U)

static void test_ceiling(void **state)
{
        static const uint64_t want[] = {MS(250), MS(500), S(1), S(2), S(4), S(8), S(8), S(8)};

        (void) state;
        for (unsigned i = 0; i < ELEMENTSOF(want); i++)
                assert_int_equal(retry_backoff_ceiling_usec(i), want[i]);
        assert_int_equal(retry_backoff_ceiling_usec(64), S(8));
        assert_int_equal(retry_backoff_ceiling_usec(UINT32_MAX), S(8));
}

static void test_full_jitter(void **state)
{
        (void) state;
        for (unsigned retry = 0; retry < 8; retry++) {
                uint64_t c = retry_backoff_ceiling_usec(retry);

                /* Both ends of the range are reachable, and nothing beyond it. */
                assert_int_equal(retry_backoff_usec(retry, 0, 0), 0);
                assert_int_equal(retry_backoff_usec(retry, c, 0), c);
                assert_int_equal(retry_backoff_usec(retry, c + 1, 0), 0);
                assert_int_equal(retry_backoff_usec(retry, c / 2, 0), c / 2);
                for (uint64_t r = UINT64_MAX - 1000; r != 0; r++)
                        assert_true(retry_backoff_usec(retry, r, 0) <= c);
        }
        /* Uniform: 10000 draws of a simple generator spread over the four quarters. */
        uint64_t x = 88172645463325252ULL;
        unsigned quarter[4] = {};
        for (unsigned i = 0; i < 10000; i++) {
                x ^= x << 13, x ^= x >> 7, x ^= x << 17;
                quarter[retry_backoff_usec(3, x, 0) * 4 / (S(2) + 1)]++;
        }
        for (unsigned q = 0; q < 4; q++)
                assert_in_range(quarter[q], 2200, 2800);
}

static void test_hint(void **state)
{
        (void) state;
        /* Retry-After raises the sleep, but never above the ceiling of the whole schedule. */
        assert_int_equal(retry_backoff_usec(0, 0, S(3)), S(3));
        assert_int_equal(retry_backoff_usec(0, MS(100), MS(50)), MS(100));
        assert_int_equal(retry_backoff_usec(0, 0, S(3600)), S(8));
}

static void test_timeouts(void **state)
{
        uint64_t connect = 1, total = 1;

        (void) state;
        assert_true(retry_attempt_timeouts(S(90), &connect, &total));
        assert_int_equal(connect, S(10));
        assert_int_equal(total, S(30));
        assert_true(retry_attempt_timeouts(S(20), &connect, &total));
        assert_int_equal(connect, S(10));
        assert_int_equal(total, S(20));
        assert_true(retry_attempt_timeouts(S(3), &connect, &total));
        assert_int_equal(connect, S(3));
        assert_int_equal(total, S(3));
        assert_true(retry_attempt_timeouts(MS(250), &connect, &total));
        assert_int_equal(connect, MS(250));
        assert_int_equal(total, MS(250));
        connect = total = 7;
        assert_false(retry_attempt_timeouts(MS(249), &connect, &total));
        assert_false(retry_attempt_timeouts(0, &connect, &total));
        assert_int_equal(connect, 7); /* not written when refused */
        assert_int_equal(total, 7);
}

static void test_next(void **state)
{
        uint64_t sleep = 77;

        (void) state;
        /* Plenty of time: the plain schedule. */
        assert_true(retry_next(2, 3, S(1) - 1, 0, S(10), S(100), &sleep));
        assert_int_equal(sleep, S(1) - 1);
        assert_true(retry_next(2, 3, S(1), 0, S(10), S(100), &sleep));
        assert_int_equal(sleep, S(1));
        assert_true(retry_next(2, 3, S(1) + 1, 0, S(10), S(100), &sleep));
        assert_int_equal(sleep, 0);
        /* The jitter is drawn over what is left once a whole round is kept free. */
        assert_true(retry_next(5, 3, UINT64_MAX, 0, S(10), S(13), &sleep));
        assert_true(sleep <= S(2));
        for (uint64_t r = 0; r < 5000; r += 7) {
                assert_true(retry_next(5, 3, r * 999331, 0, S(10), S(13), &sleep));
                assert_true(sleep <= S(2));
        }
        assert_true(retry_next(5, 3, S(2), 0, S(10), S(13), &sleep));
        assert_int_equal(sleep, S(2));
        /* Retry-After is cut the same way. */
        assert_true(retry_next(0, 1, 0, S(5), S(10), S(13), &sleep));
        assert_int_equal(sleep, S(2));
        /* Exactly a round left: retry now; less: no retry, and nothing written. */
        assert_true(retry_next(4, 3, 12345, 0, S(10), S(11), &sleep));
        assert_int_equal(sleep, 0);
        sleep = 77;
        assert_false(retry_next(4, 3, 12345, 0, S(10), S(11) - 1, &sleep));
        assert_false(retry_next(0, 1, 0, 0, S(20), S(20), &sleep));
        assert_false(retry_next(0, 1, 0, 0, S(21), S(20), &sleep));
        assert_int_equal(sleep, 77);
        /* Bounded in requests whatever the deadline. */
        assert_true(retry_next(0, RETRY_ATTEMPTS_MAX - 1, 0, 0, 0, S(3600), &sleep));
        assert_false(retry_next(0, RETRY_ATTEMPTS_MAX, 0, 0, 0, S(3600), &sleep));
}

/* A whole schedule against a verifier that never answers, each request timing out, with the
 * longest jitter: the gate stops by the deadline and within the request bound. And against one
 * that refuses connections at once: it keeps trying until a round no longer fits. */
static void test_schedule_bounded(void **state)
{
        static const struct {
                uint64_t deadline, request;
        } cases[] = {{S(60), 0}, {S(60), S(1)}, {S(6), MS(1)}, {S(90), MS(1)}, {S(3600), 0}};

        (void) state;
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                uint64_t now = 0, deadline = cases[i].deadline;
                unsigned attempts = 0;

                for (unsigned retry = 0;; retry++) {
                        uint64_t connect, total, sleep;

                        assert_true(retry_attempt_timeouts(deadline - now, &connect, &total));
                        now += cases[i].request ? cases[i].request : total;
                        attempts++;
                        assert_true(now <= deadline);
                        if (!retry_next(retry, attempts, UINT64_MAX, 0, now, deadline, &sleep))
                                break;
                        now += sleep;
                        assert_true(deadline - now >= RETRY_ROUND_MIN_USEC);
                }
                assert_true(attempts >= 2 && attempts <= RETRY_ATTEMPTS_MAX);
                /* A fast failure stops only for the bound or because a round no longer fits. */
                if (cases[i].request)
                        assert_true(attempts == RETRY_ATTEMPTS_MAX ||
                                    deadline - now < RETRY_ROUND_MIN_USEC + S(8));
        }
}

static void test_http_status(void **state)
{
        (void) state;
        assert_true(retry_http_status(500, "internal"));
        assert_true(retry_http_status(503, "overloaded"));
        assert_true(retry_http_status(503, "token-unavailable"));
        assert_true(retry_http_status(502, NULL));
        assert_true(retry_http_status(429, NULL));
        assert_true(retry_http_status(403, "challenge-expired"));
        assert_false(retry_http_status(403, "event-not-allowed"));
        assert_false(retry_http_status(403, "pcr-mismatch"));
        assert_false(retry_http_status(403, NULL));
        assert_false(retry_http_status(400, "bad-request"));
        assert_false(retry_http_status(404, "not-found"));
        assert_false(retry_http_status(200, NULL));
        assert_false(retry_http_status(301, NULL));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_ceiling),     cmocka_unit_test(test_full_jitter),
            cmocka_unit_test(test_hint),        cmocka_unit_test(test_timeouts),
            cmocka_unit_test(test_next),        cmocka_unit_test(test_schedule_bounded),
            cmocka_unit_test(test_http_status),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
