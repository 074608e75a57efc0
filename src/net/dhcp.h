/* SPDX-License-Identifier: GPL-2.0-or-later */
/* DHCPv4 (RFC 2131/2132) on the wire: the client's DISCOVER and REQUEST as IPv4/UDP packets,
 * and strict parsing of the untrusted replies. Pure: no sockets, no clock, no logging. */
#pragma once

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DHCP_SERVER_PORT 67
#define DHCP_CLIENT_PORT 68
#define DHCP_DNS_MAX     3U   /* musl's resolver reads no more (MAXNS) */
#define DHCP_PACKET_MAX  576U /* what dhcp_build() needs at most; RFC 2131's minimum MTU */

enum dhcp_type {
        DHCP_DISCOVER = 1,
        DHCP_OFFER = 2,
        DHCP_REQUEST = 3,
        DHCP_DECLINE = 4,
        DHCP_ACK = 5,
        DHCP_NAK = 6,
        DHCP_RELEASE = 7,
        DHCP_INFORM = 8,
};

/* What the client sends: a DISCOVER, or a REQUEST for an offered address (SELECTING state). */
struct dhcp_request {
        enum dhcp_type type; /* DHCP_DISCOVER or DHCP_REQUEST */
        uint32_t xid;
        uint16_t secs; /* seconds since the exchange began */
        uint8_t mac[6];
        struct in_addr requested; /* DHCP_REQUEST: the offered address (option 50) */
        struct in_addr server_id; /* DHCP_REQUEST: the chosen server (option 54) */
};

/* A server's reply, checked. Addresses in network byte order. */
struct dhcp_reply {
        enum dhcp_type type;              /* DHCP_OFFER, DHCP_ACK or DHCP_NAK */
        struct in_addr address;           /* yiaddr (OFFER, ACK): a host address */
        struct in_addr server_id;         /* option 54, always present */
        unsigned prefix_len;              /* option 1 as a prefix length 1..32; 0: not given */
        struct in_addr router;            /* the first router of option 3; INADDR_ANY: none */
        struct in_addr dns[DHCP_DNS_MAX]; /* option 6, host addresses only, in order */
        unsigned n_dns;
        uint32_t lease_sec; /* option 51 (OFFER, ACK: required, > 0); UINT32_MAX: infinite */
};

/* Builds an IPv4 packet (header, UDP, BOOTP message with options) from 0.0.0.0:68 to
 * 255.255.255.255:67, checksums included, ready for an AF_PACKET SOCK_DGRAM socket.
 * @return the packet's length, or -EINVAL for a type other than DISCOVER or REQUEST,
 *         -ENOBUFS when size < DHCP_PACKET_MAX */
int dhcp_build(const struct dhcp_request *req, uint8_t *buf, size_t size);

/* Checks an IPv4 packet as an AF_PACKET socket received it and finds the UDP payload of a
 * datagram from port 67 to port 68. check_udp_sum is false when the kernel says the checksum
 * was left to hardware that never computed it (TP_STATUS_CSUMNOTREADY on a local veth).
 * @return 0 (ret_payload points into pkt), -ENOMSG for a valid packet that is not for a DHCP
 *         client (another protocol or port), -EBADMSG for a malformed one, with errbuf saying why
 */
int dhcp_udp_payload(const uint8_t *pkt, size_t len, bool check_udp_sum,
                     const uint8_t **ret_payload, size_t *ret_len, char *errbuf, size_t errlen);

/* Parses a BOOTP/DHCP message (the UDP payload) as a reply to our xid and MAC: fixed header,
 * magic cookie, options with every length checked (option overload into file/sname and
 * RFC 3396 concatenation of repeated options included), then the values: message type, server
 * id, yiaddr, netmask, routers, DNS servers, lease time.
 * @return 0 (ret written), -ENOMSG for a well-formed message for another client (wrong xid or
 *         chaddr), -EBADMSG for anything malformed or not a usable reply, with errbuf saying
 *         why */
int dhcp_parse_reply(const uint8_t *msg, size_t len, uint32_t xid, const uint8_t mac[6],
                     struct dhcp_reply *ret, char *errbuf, size_t errlen);
