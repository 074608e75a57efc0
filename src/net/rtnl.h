/* SPDX-License-Identifier: GPL-2.0-or-later */
/* rtnetlink, the little the gate needs of it: list links, set one up or down, add and remove an
 * IPv4 address and a default route. No ioctl(), no ip(8): the initramfs has neither a shell nor
 * iproute2. */
#pragma once

#include <net/if.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct rtnl {
        int fd;
        uint32_t seq;
        uint8_t *buf; /* one receive buffer per socket, RTNL_BUFFER_SIZE bytes */
};

#define RTNL_BUFFER_SIZE (64U * 1024U)
#define RTNL_LINKS_MAX   64U /* links looked at; an initramfs machine has a handful */

struct rtnl_link {
        int ifindex;
        char ifname[IF_NAMESIZE];
        unsigned short type; /* ARPHRD_* */
        unsigned flags;      /* IFF_*: IFF_UP set by us or others, IFF_LOWER_UP is the carrier */
        uint8_t mac[6];
        bool has_mac; /* a 6-byte hardware address: Ethernet-like, usable for DHCP */
};

/* Opens a NETLINK_ROUTE socket; groups (RTMGRP_*) subscribes it to change notifications, which
 * then only wake the caller (rtnl_drain()); requests go over a socket with groups 0.
 * @return 0 (ret written) or negative errno */
int rtnl_open(struct rtnl *ret, unsigned groups);
void rtnl_close(struct rtnl *r);

/* Reads and throws away whatever notifications are queued, without blocking.
 * @return the number of messages read, or negative errno */
int rtnl_drain(struct rtnl *r);

/* Lists up to max links (a dump of RTM_GETLINK), in the kernel's order (by ifindex).
 * @return the number written to links (0..max), or negative errno */
int rtnl_links(struct rtnl *r, struct rtnl_link *links, size_t max);

/* Sets IFF_UP on a link, or clears it. @return 0 or the kernel's negative errno */
int rtnl_link_set_up(struct rtnl *r, int ifindex, bool up);

/* Adds (or updates) address/prefix_len on a link, with its broadcast address; lifetime_sec
 * UINT32_MAX means forever, anything else makes the kernel drop the address when it expires,
 * as a DHCP lease does. @return 0 or the kernel's negative errno */
int rtnl_addr_add(struct rtnl *r, int ifindex, struct in_addr address, unsigned prefix_len,
                  uint32_t lifetime_sec);
int rtnl_addr_del(struct rtnl *r, int ifindex, struct in_addr address, unsigned prefix_len);

/* Adds (replacing any) or deletes the IPv4 default route via gateway out of ifindex. onlink:
 * the gateway is reachable on the link although outside the address's prefix (a /32 lease).
 * dhcp: marks the route's origin as DHCP rather than static, as iproute2 shows it.
 * @return 0 or the kernel's negative errno */
int rtnl_route_default_add(struct rtnl *r, int ifindex, struct in_addr gateway, bool onlink,
                           bool dhcp);
int rtnl_route_default_del(struct rtnl *r, int ifindex, struct in_addr gateway);
