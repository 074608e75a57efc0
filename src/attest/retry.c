/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The verifier retry schedule: exponential backoff with full jitter, bounded in attempts and
 * by the overall deadline, and per-attempt timeouts cut to the time that is left. */
#include "attest/retry.h"
#include "util.h"

uint64_t retry_backoff_ceiling_usec(unsigned retry)
{
        uint64_t c = RETRY_BACKOFF_BASE_USEC;

        /* Doubling stops at the ceiling, so no retry count can overflow it. */
        for (unsigned i = 0; i < retry && c < RETRY_BACKOFF_MAX_USEC; i++)
                c *= 2;
        return c < RETRY_BACKOFF_MAX_USEC ? c : RETRY_BACKOFF_MAX_USEC;
}

static uint64_t backoff_within(unsigned retry, uint64_t random, uint64_t hint_usec,
                               uint64_t room_usec)
{
        uint64_t ceiling = retry_backoff_ceiling_usec(retry), sleep;

        if (ceiling > room_usec)
                ceiling = room_usec;
        if (hint_usec > RETRY_BACKOFF_MAX_USEC)
                hint_usec = RETRY_BACKOFF_MAX_USEC;
        if (hint_usec > room_usec)
                hint_usec = room_usec;
        sleep = random % (ceiling + 1);
        return sleep > hint_usec ? sleep : hint_usec;
}

uint64_t retry_backoff_usec(unsigned retry, uint64_t random, uint64_t hint_usec)
{
        return backoff_within(retry, random, hint_usec, UINT64_MAX - 1);
}

bool retry_attempt_timeouts(uint64_t remaining_usec, uint64_t *ret_connect_usec,
                            uint64_t *ret_total_usec)
{
        if (remaining_usec < RETRY_ATTEMPT_MIN_USEC)
                return false;
        *ret_connect_usec =
            remaining_usec < RETRY_CONNECT_MAX_USEC ? remaining_usec : RETRY_CONNECT_MAX_USEC;
        *ret_total_usec =
            remaining_usec < RETRY_REQUEST_MAX_USEC ? remaining_usec : RETRY_REQUEST_MAX_USEC;
        return true;
}

bool retry_next(unsigned retry, unsigned attempts, uint64_t random, uint64_t hint_usec,
                uint64_t now_usec, uint64_t deadline_usec, uint64_t *ret_sleep_usec)
{
        if (attempts >= RETRY_ATTEMPTS_MAX || now_usec >= deadline_usec ||
            deadline_usec - now_usec < RETRY_ROUND_MIN_USEC)
                return false;
        *ret_sleep_usec = backoff_within(retry, random, hint_usec,
                                         deadline_usec - now_usec - RETRY_ROUND_MIN_USEC);
        return true;
}

bool retry_http_status(long status, const char *error)
{
        if (status >= 500 && status <= 599)
                return true;
        if (status == 429)
                return true;
        return status == 403 && streq_ptr(error, "challenge-expired");
}
