/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Per-client-address token buckets (docs/verifier.md, "Limits"): each address may spend
 * `burst` requests at once and then `rate` a second. A fixed table, so an attacker with many
 * addresses costs memory that does not grow; IPv6 clients are one client per /64, since one
 * host is handed a whole /64 and could otherwise pick a fresh address per request. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

struct ratelimit;

/* rate per second and burst ≥ 1; rate 0 makes every ratelimit_take() succeed.
 * @return 0 or -ENOMEM */
int ratelimit_new(unsigned rate, unsigned burst, struct ratelimit **ret);
void ratelimit_free(struct ratelimit *rl);

/* Spends one request of sa's bucket at now_ns (CLOCK_MONOTONIC). Thread-safe.
 * @return 0 when allowed, else the seconds (≥ 1) until the next request will be */
unsigned ratelimit_take(struct ratelimit *rl, const struct sockaddr *sa, uint64_t now_ns);

/* The client key of sa: IPv4 addresses as IPv4-mapped IPv6, IPv6 ones cut to their /64.
 * @return 0, or -EAFNOSUPPORT for anything else */
int ratelimit_key(const struct sockaddr *sa, uint8_t ret[16]);

/* Open connections per client key (ratelimit_key()), for the per-address connection cap;
 * libmicrohttpd's own (MHD_OPTION_PER_IP_CONNECTION_LIMIT) counts whole IPv6 addresses, of
 * which one host has 2^64, and cuts without a metric. */
struct addrcount;

/* cap ≥ 1, or 0 for no cap (every acquire succeeds, nothing is counted). @return 0 or -ENOMEM */
int addrcount_new(unsigned cap, struct addrcount **ret);
void addrcount_free(struct addrcount *ac);
/* Counts one more connection of sa. @return true and its key in ret_key (for the release), or
 * false when sa is at the cap or out of memory (nothing counted then) */
bool addrcount_acquire(struct addrcount *ac, const struct sockaddr *sa, uint8_t ret_key[16]);
void addrcount_release(struct addrcount *ac, const uint8_t key[16]);
