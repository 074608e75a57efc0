/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Test driver for net.c, run by test-net.sh inside a network namespace: parses an ip= value as
 * the gate does, calls net_setup() with a deadline, and prints what it configured (or the
 * error) as key=value lines for the script to compare with what ip(8) sees. */

#include <arpa/inet.h>
#include <stdio.h>

#include "net/ip-config.h"
#include "lib/log.h"
#include "net/net.h"

/* strerrorname_np() is glibc's; this probe is also built against musl, as the gate is. */
static const char *errno_name(int e)
{
        static const struct {
                int e;
                const char *name;
        } names[] = {
            {ENODEV, "ENODEV"}, {ENOLINK, "ENOLINK"}, {ETIMEDOUT, "ETIMEDOUT"},
            {EINVAL, "EINVAL"}, {EPERM, "EPERM"},     {EOPNOTSUPP, "EOPNOTSUPP"},
            {ENOENT, "ENOENT"}, {EEXIST, "EEXIST"},   {ENETUNREACH, "ENETUNREACH"},
        };

        for (size_t i = 0; i < ELEMENTSOF(names); i++)
                if (names[i].e == e)
                        return names[i].name;
        return strerror(e);
}

static void usage(void)
{
        fprintf(stderr, "usage: net-probe ROOT TIMEOUT_MS IP_VALUE [--teardown]\n");
}

int main(int argc, char **argv)
{
        char err[512] = "", a[INET_ADDRSTRLEN];
        struct ip_config cfg;
        struct net_lease l;
        uint64_t start, timeout_ms;
        int r;

        if (argc < 4 || argc > 5 || (argc == 5 && !streq(argv[4], "--teardown"))) {
                usage();
                return 2;
        }
        timeout_ms = strtoull(argv[2], NULL, 10);
        r = ip_config_parse(argv[3], &cfg, err, sizeof(err));
        if (r < 0) {
                printf("errno=%s\nerror=ip: %s\n", errno_name(-r), err);
                return 1;
        }

        start = now_usec();
        r = net_setup(argv[1], &cfg, start + timeout_ms * 1000U, &l, err, sizeof(err));
        printf("elapsed_ms=%llu\n", (unsigned long long) ((now_usec() - start) / 1000U));
        if (r < 0) {
                printf("errno=%s\nerror=%s\n", errno_name(-r), err);
                return 1;
        }

        printf("ifname=%s\n", l.ifname);
        printf("method=%s\n", l.dhcp ? "dhcp" : "static");
        printf("address=%s/%u\n", inet_ntop(AF_INET, &l.address, a, sizeof(a)), l.prefix_len);
        printf("gateway=%s%s\n",
               l.gateway.s_addr ? inet_ntop(AF_INET, &l.gateway, a, sizeof(a)) : "none",
               l.gateway_onlink ? " onlink" : "");
        printf("dns=");
        for (unsigned i = 0; i < l.n_dns; i++)
                printf("%s%s", i ? " " : "", inet_ntop(AF_INET, &l.dns[i], a, sizeof(a)));
        printf("\n");
        if (l.dhcp) {
                printf("server=%s\n", inet_ntop(AF_INET, &l.server, a, sizeof(a)));
                printf("lease_sec=%u\n", l.lease_sec);
                printf("discovers=%u\nrequests=%u\nnaks=%u\ninvalid=%u\n", l.discovers, l.requests,
                       l.naks, l.invalid);
        }
        printf("link_ms=%llu\ndone_ms=%llu\n", (unsigned long long) (l.link_usec / 1000U),
               (unsigned long long) (l.done_usec / 1000U));

        if (argc == 5) {
                r = net_teardown(&l);
                printf("teardown=%d\n", r);
                if (r < 0)
                        return 1;
        }
        return 0;
}
