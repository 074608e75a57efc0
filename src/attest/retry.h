/* SPDX-License-Identifier: GPL-2.0-or-later */
/* When the gate tries the verifier again, and how long each try may take: pure arithmetic on
 * the time left before nodegate.timeout, kept apart from curl so it can be tested alone. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

/* Exponential backoff with full jitter: before retry n (0 for the first retry) the gate sleeps
 * a uniformly random time in [0, min(RETRY_BACKOFF_MAX, RETRY_BACKOFF_BASE · 2^n)], so that
 * nodes which lost the verifier at the same moment do not come back in lockstep. */
#define RETRY_BACKOFF_BASE_USEC (250U * 1000U)
#define RETRY_BACKOFF_MAX_USEC  (8U * 1000000U)
/* One attempt: connecting (DNS, TCP, TLS) at most this long, the whole POST at most that. */
#define RETRY_CONNECT_MAX_USEC (10U * 1000000U)
#define RETRY_REQUEST_MAX_USEC (30U * 1000000U)
/* No request starts with less than this left: it could not finish anyway. */
#define RETRY_ATTEMPT_MIN_USEC (250U * 1000U)
/* A retry starts both rounds again: two requests and the TPM's work between them. Sleeps are
 * cut so that this much is left; with less left, there is no retry. */
#define RETRY_ROUND_MIN_USEC (1000U * 1000U)
/* Attempts in all (round 1 and round 2 together), whatever the deadline leaves. */
#define RETRY_ATTEMPTS_MAX 12U

/* The ceiling of the jitter before retry n: min(MAX, BASE · 2^n), without overflow. */
uint64_t retry_backoff_ceiling_usec(unsigned retry);

/* The sleep before retry n, from 64 random bits: uniform in [0, ceiling(n)]. A hint of the
 * server's (Retry-After, in µs; 0: none) raises it, up to RETRY_BACKOFF_MAX_USEC. */
uint64_t retry_backoff_usec(unsigned retry, uint64_t random, uint64_t hint_usec);

/* Timeouts of an attempt that starts with remaining_usec left before the deadline: each the
 * smaller of its maximum and the time left (at least 1 ms, curl's "0" meaning "none").
 * @return false when remaining_usec is below RETRY_ATTEMPT_MIN_USEC: do not start it */
bool retry_attempt_timeouts(uint64_t remaining_usec, uint64_t *ret_connect_usec,
                            uint64_t *ret_total_usec);

/* Retry n after attempts requests so far, at now (µs, the deadline's clock): false when
 * RETRY_ATTEMPTS_MAX requests were sent or less than RETRY_ROUND_MIN_USEC is left; otherwise
 * true with the sleep in *ret_sleep_usec: retry_backoff_usec(), but with the jitter drawn over
 * what the deadline leaves (the ceiling cut to time left - RETRY_ROUND_MIN_USEC), so that a
 * verifier that comes back late still gets a last try. */
bool retry_next(unsigned retry, unsigned attempts, uint64_t random, uint64_t hint_usec,
                uint64_t now_usec, uint64_t deadline_usec, uint64_t *ret_sleep_usec);

/* Whether an answer of this HTTP status (with the verifier's error code, "" if none) is worth
 * another try: 5xx and 429 (the verifier or something in front of it is overloaded or
 * failing), and 403 challenge-expired (start again from round 1). Every other 4xx means the
 * same evidence would be refused again (docs/PROTOCOL.md, "Errors"). */
bool retry_http_status(long status, const char *error);
