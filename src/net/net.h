/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Network bring-up in standalone mode, where nothing else would do it: the link, then DHCPv4 or
 * a static address, the default route and resolv.conf. */
#pragma once

#include <net/if.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "net/dhcp.h"
#include "net/ip-config.h"

/* DHCP retransmission (RFC 2131 4.1): 4 s, doubled each time up to 64 s, each ±1 s at random;
 * a REQUEST unanswered this many times starts over with a DISCOVER. */
#define NET_DHCP_FIRST_TIMEOUT_USEC (4U * 1000000U)
#define NET_DHCP_MAX_TIMEOUT_USEC   (64U * 1000000U)
#define NET_DHCP_JITTER_USEC        1000000U
#define NET_DHCP_REQUEST_TRIES      4U

#define NET_RESOLV_CONF "etc/resolv.conf" /* below the root directory */

/* What net_setup() configured. Addresses in network byte order. */
struct net_lease {
        char ifname[IF_NAMESIZE];
        int ifindex;
        bool dhcp; /* from a DHCP server; else the static ip= */
        struct in_addr address;
        unsigned prefix_len;
        struct in_addr gateway; /* INADDR_ANY: no default route */
        bool gateway_onlink;    /* outside the prefix, routed as on-link */
        struct in_addr dns[DHCP_DNS_MAX];
        unsigned n_dns;
        /* DHCP only: */
        struct in_addr server;
        uint32_t lease_sec;                          /* UINT32_MAX: infinite */
        unsigned discovers, requests, naks, invalid; /* messages sent and replies refused */
        /* Timings, from net_setup()'s start: */
        uint64_t link_usec; /* the link had carrier */
        uint64_t done_usec; /* the address, route and resolv.conf were in place */
};

/* Brings the network up as cfg says (cfg->method must not be IP_CONFIG_OFF):
 * 1. lo up;
 * 2. the link: cfg->ifname, or else the first Ethernet link (by ifindex) that has carrier; it
 *    is set up and waited for (it may appear late, after its driver loads) until deadline_usec
 *    (CLOCK_MONOTONIC, now_usec()); Ethernet links set up only to look for carrier are set
 *    down again;
 * 3. the address: static, or from DHCPv4 over an AF_PACKET socket (DISCOVER, OFFER, REQUEST,
 *    ACK, retransmitted as NET_DHCP_* say, all before deadline_usec); a DHCP address gets the
 *    lease time as its lifetime, as dracut does;
 * 4. the default route via the gateway (routers option), when there is one;
 * 5. <root>/etc/resolv.conf when there are DNS servers (root is "/" in the initramfs; NULL:
 *    none is written).
 * Never logs; errbuf says what failed, naming the interface.
 * @return 0 (ret written), -ENODEV when the named interface did not appear (or no Ethernet
 *         link did) before the deadline, -ENOLINK when it appeared but had no carrier,
 *         -ETIMEDOUT when no DHCP lease came before the deadline, -EINVAL for a cfg net_setup()
 *         cannot follow (OFF, a loopback or non-Ethernet link for DHCP), or the negative errno
 *         of a failed socket or netlink operation */
int net_setup(const char *root, const struct ip_config *cfg, uint64_t deadline_usec,
              struct net_lease *ret, char *errbuf, size_t errlen);

/* Undoes net_setup(): deletes the default route and the address and sets the link down (lo
 * stays up; resolv.conf stays). Tries every step.
 * @return 0, or the first step's negative errno */
int net_teardown(const struct net_lease *lease);

/* Writes <root>/etc/resolv.conf with the lease's DNS servers (creating <root>/etc if need be),
 * through a temporary file and rename(), mode 0644.
 * @return 0, or negative errno with errbuf naming the path */
int net_write_resolv_conf(const char *root, const struct net_lease *lease, char *errbuf,
                          size_t errlen);
