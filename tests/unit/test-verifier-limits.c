/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The verifier's defences against expensive clients, without the network: token buckets and
 * their keys (IPv6 per /64), the per-address connection count, the negative cache of EK
 * chains, and the audit log's refusal cap with its summary lines and reserve. */

#include "service/audit.h"
#include "tpm/ek-negcache.h"
#include "service/metrics.h"
#include "service/ratelimit.h"
#include "util.h"
#include "common/util-verifier.h"

#include <arpa/inet.h>
#include <json-c/json.h>
#include <netinet/in.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#define SEC 1000000000ull

static struct sockaddr_in v4(const char *text)
{
        struct sockaddr_in sin = {.sin_family = AF_INET};

        assert_int_equal(inet_pton(AF_INET, text, &sin.sin_addr), 1);
        return sin;
}

static struct sockaddr_in6 v6(const char *text)
{
        struct sockaddr_in6 sin6 = {.sin6_family = AF_INET6};

        assert_int_equal(inet_pton(AF_INET6, text, &sin6.sin6_addr), 1);
        return sin6;
}

static void test_bucket(void **state)
{
        struct sockaddr_in a = v4("10.0.0.1"), b = v4("10.0.0.2");
        struct ratelimit *rl;
        uint64_t t = 100 * SEC;

        (void) state;
        assert_int_equal(ratelimit_new(2, 5, &rl), 0);
        /* The burst, then refusals that say when to come back. */
        for (int i = 0; i < 5; i++)
                assert_int_equal(ratelimit_take(rl, (struct sockaddr *) &a, t), 0);
        assert_int_equal(ratelimit_take(rl, (struct sockaddr *) &a, t), 1);
        /* Another address has a bucket of its own. */
        assert_int_equal(ratelimit_take(rl, (struct sockaddr *) &b, t), 0);
        /* Half a second at 2/s buys one request, not two. */
        assert_int_equal(ratelimit_take(rl, (struct sockaddr *) &a, t + SEC / 2), 0);
        assert_int_not_equal(ratelimit_take(rl, (struct sockaddr *) &a, t + SEC / 2), 0);
        /* A long pause refills to the burst, never beyond. */
        for (int i = 0; i < 5; i++)
                assert_int_equal(ratelimit_take(rl, (struct sockaddr *) &a, t + 3600 * SEC), 0);
        assert_int_not_equal(ratelimit_take(rl, (struct sockaddr *) &a, t + 3600 * SEC), 0);
        /* A clock that does not move (or goes back) refills nothing. */
        assert_int_not_equal(ratelimit_take(rl, (struct sockaddr *) &a, t), 0);
        ratelimit_free(rl);

        assert_int_equal(ratelimit_new(0, 1, &rl), 0); /* rate 0: no limit */
        for (int i = 0; i < 1000; i++)
                assert_int_equal(ratelimit_take(rl, (struct sockaddr *) &a, t), 0);
        ratelimit_free(rl);
}

static void test_keys(void **state)
{
        struct sockaddr_in6 x = v6("2001:db8:1:2::1"), y = v6("2001:db8:1:2:ffff::9"),
                            z = v6("2001:db8:1:3::1"), mapped = v6("::ffff:10.0.0.1");
        struct sockaddr_in a = v4("10.0.0.1");
        uint8_t kx[16], ky[16], kz[16], km[16], ka[16];
        struct sockaddr unix_sa = {.sa_family = AF_UNIX};
        struct ratelimit *rl;

        (void) state;
        assert_int_equal(ratelimit_key((struct sockaddr *) &x, kx), 0);
        assert_int_equal(ratelimit_key((struct sockaddr *) &y, ky), 0);
        assert_int_equal(ratelimit_key((struct sockaddr *) &z, kz), 0);
        assert_int_equal(ratelimit_key((struct sockaddr *) &mapped, km), 0);
        assert_int_equal(ratelimit_key((struct sockaddr *) &a, ka), 0);
        assert_memory_equal(kx, ky, 16);     /* one /64, one client */
        assert_memory_not_equal(kx, kz, 16); /* the next /64 is another */
        assert_memory_equal(km, ka, 16);     /* IPv4 on a dual-stack socket: the same */
        assert_int_equal(ratelimit_key(&unix_sa, ka), -EAFNOSUPPORT);

        /* So a host cannot escape its bucket by picking another address of its /64. */
        assert_int_equal(ratelimit_new(1, 1, &rl), 0);
        assert_int_equal(ratelimit_take(rl, (struct sockaddr *) &x, SEC), 0);
        assert_int_not_equal(ratelimit_take(rl, (struct sockaddr *) &y, SEC), 0);
        assert_int_equal(ratelimit_take(rl, (struct sockaddr *) &z, SEC), 0);
        ratelimit_free(rl);
}

static void test_many_clients(void **state)
{
        struct ratelimit *rl;

        (void) state;
        /* Far more clients than the table holds: it stays bounded and keeps working. */
        assert_int_equal(ratelimit_new(1, 2, &rl), 0);
        for (uint32_t i = 0; i < 100000; i++) {
                struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(i)};

                assert_int_equal(ratelimit_take(rl, (struct sockaddr *) &sin, SEC + i), 0);
        }
        ratelimit_free(rl);
}

static void test_addrcount(void **state)
{
        struct sockaddr_in a = v4("10.0.0.1"), b = v4("10.0.0.2");
        uint8_t k1[16], k2[16], k3[16], kb[16];
        struct addrcount *ac;

        (void) state;
        assert_int_equal(addrcount_new(2, &ac), 0);
        assert_true(addrcount_acquire(ac, (struct sockaddr *) &a, k1));
        assert_true(addrcount_acquire(ac, (struct sockaddr *) &a, k2));
        assert_false(addrcount_acquire(ac, (struct sockaddr *) &a, k3));
        assert_true(addrcount_acquire(ac, (struct sockaddr *) &b, kb));
        addrcount_release(ac, k1);
        assert_true(addrcount_acquire(ac, (struct sockaddr *) &a, k3));
        addrcount_release(ac, k2);
        addrcount_release(ac, k3);
        addrcount_release(ac, kb);
        addrcount_free(ac);

        assert_int_equal(addrcount_new(0, &ac), 0); /* no cap */
        for (int i = 0; i < 100; i++)
                assert_true(addrcount_acquire(ac, (struct sockaddr *) &a, k1));
        addrcount_free(ac);
}

static void test_negcache(void **state)
{
        pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
        uint8_t h1[32] = {1, 2, 3}, h2[32] = {9, 9, 9};
        struct ek_negcache *nc = calloc(1, sizeof(*nc));
        struct verdict v, got;

        (void) state;
        assert_non_null(nc);
        verdict_set(&v, REASON_EK_CERTIFICATE_UNTRUSTED, "does not chain: bad signature");
        assert_int_equal(ek_negcache_get(nc, &lock, h1, 1000, &got), REASON_OK);
        ek_negcache_put(nc, &lock, h1, 1000, v.reason, &v);
        assert_int_equal(ek_negcache_get(nc, &lock, h1, 1001, &got),
                         REASON_EK_CERTIFICATE_UNTRUSTED);
        assert_string_equal(got.message, "does not chain: bad signature");
        assert_int_equal(ek_negcache_get(nc, &lock, h2, 1001, &got), REASON_OK);
        /* Expired, and never from the future (a clock stepped back). */
        assert_int_equal(ek_negcache_get(nc, &lock, h1, 1000 + EK_NEGCACHE_TTL, &got), REASON_OK);
        assert_int_equal(ek_negcache_get(nc, &lock, h1, 999, &got), REASON_OK);
        /* A CA added: forgotten. */
        ek_negcache_clear(nc, &lock);
        assert_int_equal(ek_negcache_get(nc, &lock, h1, 1001, &got), REASON_OK);
        /* Only refusals the same bytes will always get: not an internal error, not a pass. */
        verdict_set(&v, REASON_INTERNAL, "out of memory");
        ek_negcache_put(nc, &lock, h2, 1000, v.reason, &v);
        assert_int_equal(ek_negcache_get(nc, &lock, h2, 1000, &got), REASON_OK);
        verdict_set(&v, REASON_OK, "ok");
        ek_negcache_put(nc, &lock, h2, 1000, v.reason, &v);
        assert_int_equal(ek_negcache_get(nc, &lock, h2, 1000, &got), REASON_OK);
        free(nc);
}

static int read_lines(const char *path, json_object **ret, int max)
{
        _cleanup_(fclosep) FILE *f = fopen(path, "re");
        char line[2048];
        int n = 0;

        assert_non_null(f);
        while (n < max && fgets(line, sizeof(line), f)) {
                ret[n] = json_tokener_parse(line);
                assert_non_null(ret[n]);
                n++;
        }
        return n;
}

static const char *get(json_object *o, const char *key)
{
        json_object *v;

        return json_object_object_get_ex(o, key, &v) ? json_object_get_string(v) : "";
}

static void test_audit_cap(void **state)
{
        char path[] = "/tmp/test-verifier-limits-XXXXXX";
        struct audit_limits limits = {.refusals_per_second = 3, .reserve_bytes = 0};
        struct audit_record refusal = {.endpoint = ENDPOINT_CHALLENGE,
                                       .remote = "10.0.0.9",
                                       .decision = DECISION_REJECTED,
                                       .reason = REASON_EK_UNKNOWN,
                                       .status = 403,
                                       .message = "unknown EK"};
        struct audit_record issued = {.endpoint = ENDPOINT_ATTEST,
                                      .remote = "10.0.0.1",
                                      .decision = DECISION_ISSUED,
                                      .reason = REASON_OK,
                                      .status = 200,
                                      .message = "token issued"};
        json_object *lines[64];
        int fd, n, refusals = 0, summaries = 0, issues = 0;
        long counted = 0;
        struct audit *a;
        time_t start;

        (void) state;
        fd = mkstemp(path);
        assert_true(fd >= 0);
        close(fd);
        assert_int_equal(audit_open(path, &a), 0);
        audit_set_limits(a, &limits);
        /* Within one second (retried when the second turns meanwhile): 10 refusals, 3 lines;
         * the tokens issued in between are never held back. */
        do {
                start = time(NULL);
                audit_flush(a); /* starts this second (a retry: its lines go, too) */
                assert_int_equal(truncate(path, 0), 0);
                for (int i = 0; i < 10; i++) {
                        assert_int_equal(audit_write(a, &refusal), 0);
                        assert_int_equal(audit_write(a, &issued), 0);
                }
        } while (time(NULL) != start);
        sleep(1);
        audit_flush(a); /* the second is over: its summary */
        audit_close(a);

        n = read_lines(path, lines, ELEMENTSOF(lines));
        for (int i = 0; i < n; i++) {
                if (streq(get(lines[i], "decision"), "rejected"))
                        refusals++;
                else if (streq(get(lines[i], "decision"), "issued"))
                        issues++;
                else if (streq(get(lines[i], "decision"), "suppressed")) {
                        json_object *c;

                        summaries++;
                        assert_true(json_object_object_get_ex(lines[i], "count", &c));
                        counted += json_object_get_int64(c);
                        assert_string_equal(get(lines[i], "reason"), "ek-unknown");
                        assert_string_equal(get(lines[i], "remote"), "10.0.0.9");
                        assert_string_equal(get(lines[i], "message"),
                                            "suppressed 7 refusals of reason ek-unknown from "
                                            "10.0.0.9");
                }
                json_object_put(lines[i]);
        }
        assert_int_equal(refusals, 3);
        assert_int_equal(issues, 10);
        assert_int_equal(summaries, 1);
        assert_int_equal(counted, 7);
        unlink(path);
}

static void test_audit_reserve(void **state)
{
        char path[] = "/tmp/test-verifier-limits-XXXXXX";
        /* More than any volume has free: as if it were down to its reserve. */
        struct audit_limits limits = {.refusals_per_second = 0, .reserve_bytes = UINT64_MAX};
        struct audit_record refusal = {.endpoint = ENDPOINT_CHALLENGE,
                                       .remote = "10.0.0.9",
                                       .decision = DECISION_REJECTED,
                                       .reason = REASON_BAD_REQUEST,
                                       .status = 400};
        struct audit_record challenged = {.endpoint = ENDPOINT_CHALLENGE,
                                          .remote = "10.0.0.1",
                                          .decision = DECISION_CHALLENGED,
                                          .reason = REASON_OK,
                                          .status = 200};
        struct audit_record issued = {.endpoint = ENDPOINT_ATTEST,
                                      .remote = "10.0.0.1",
                                      .decision = DECISION_ISSUED,
                                      .reason = REASON_OK,
                                      .status = 200};
        json_object *lines[8];
        struct audit *a;
        int fd, n;

        (void) state;
        fd = mkstemp(path);
        assert_true(fd >= 0);
        close(fd);
        assert_int_equal(audit_open(path, &a), 0);
        audit_set_limits(a, &limits);
        assert_int_equal(audit_write(a, &refusal), 0);
        assert_int_equal(audit_write(a, &challenged), 0);
        assert_int_equal(audit_write(a, &issued), 0);
        audit_close(a);
        n = read_lines(path, lines, ELEMENTSOF(lines));
        assert_int_equal(n, 1);
        assert_string_equal(get(lines[0], "decision"), "issued");
        json_object_put(lines[0]);
        unlink(path);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_bucket),        cmocka_unit_test(test_keys),
            cmocka_unit_test(test_many_clients),  cmocka_unit_test(test_addrcount),
            cmocka_unit_test(test_negcache),      cmocka_unit_test(test_audit_cap),
            cmocka_unit_test(test_audit_reserve),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
