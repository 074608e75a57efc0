/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ip=: the subset of dracut's network syntax the gate supports in standalone mode, parsed into
 * what net.c needs. Pure: no I/O, no logging. */
#pragma once

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>

#define IP_CONFIG_IFNAME_MAX   15U  /* IFNAMSIZ - 1 */
#define IP_CONFIG_HOSTNAME_MAX 64U  /* HOST_NAME_MAX */
#define IP_CONFIG_DNS_MAX      2U   /* dracut's <dns1>:<dns2> */
#define IP_CONFIG_VALUE_MAX    256U /* far above the longest valid value */

enum ip_config_method {
        IP_CONFIG_OFF,    /* ip=off, ip=none: no network */
        IP_CONFIG_DHCP,   /* ip=dhcp, ip=<iface>:dhcp (and dracut's synonyms on, any) */
        IP_CONFIG_STATIC, /* ip=<client>:[<peer>]:<gw>:<netmask>:<host>:<iface>:none|off[:…] */
};

struct ip_config {
        enum ip_config_method method;
        char ifname[IP_CONFIG_IFNAME_MAX + 1]; /* "": the first Ethernet link with carrier */
        /* IP_CONFIG_STATIC only, network byte order: */
        struct in_addr address;
        unsigned prefix_len;                       /* 1..32 */
        struct in_addr gateway;                    /* INADDR_ANY: no default route */
        char hostname[IP_CONFIG_HOSTNAME_MAX + 1]; /* "": none; the caller decides what to do */
        struct in_addr dns[IP_CONFIG_DNS_MAX];
        unsigned n_dns;
};

/* Parses an ip= value. Supported:
 *   dhcp | on | any                          DHCPv4 on the first Ethernet link with carrier
 *   <iface>:dhcp | <iface>:on | <iface>:any  DHCPv4 on that interface
 *   off | none                               no network
 *   <client-IP>:[<peer>]:<gateway-IP>:<netmask>:<client_hostname>:<interface>:{none|off}
 *                                            [:[<dns1>][:<dns2>]]
 * The netmask is a dotted quad or a prefix length (1..32); the gateway, hostname, interface
 * and DNS fields may be empty (no default route, no hostname, the first Ethernet link with
 * carrier, no resolv.conf). Refused with a message that says why: IPv6 in any form, dracut's
 * other methods (dhcp6, auto6, either6, link6, ibft, single-dhcp), a peer address, MTU and
 * MAC address fields, and anything malformed.
 * errbuf gets the reason without the key's name (the caller prefixes it).
 * @return 0 on success (ret written), -EINVAL for a malformed value, -EOPNOTSUPP for a valid
 *         dracut form that nodegate does not support */
int ip_config_parse(const char *value, struct ip_config *ret, char *errbuf, size_t errlen);

/* Parses a dotted quad as inet_pton(AF_INET) does (exactly four decimal parts 0..255, no
 * leading zeros that would make it octal elsewhere, nothing before or after).
 * @return 0 on success (ret written, network byte order), -EINVAL */
int ip_config_parse_ipv4(const char *s, struct in_addr *ret);

/* The prefix length of a contiguous netmask (network byte order).
 * @return 0..32, or -EINVAL when the mask has holes */
int ip_config_netmask_prefix(struct in_addr mask);

/* The netmask of a prefix length 0..32, network byte order. */
struct in_addr ip_config_prefix_netmask(unsigned prefix_len);

/* Whether a is an address a host may own: not 0.0.0.0/8, 127.0.0.0/8, multicast, class E or
 * the limited broadcast. Subnet-specific checks are the caller's. */
bool ip_config_is_host_address(struct in_addr a);
