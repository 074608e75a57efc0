/* SPDX-License-Identifier: GPL-2.0-or-later */
/* DHCPv4 packets: building the client's two messages and checking every byte of a server's
 * reply before any of it is believed. */

#include <arpa/inet.h>

#include "net/dhcp.h"
#include "net/ip-config.h"
#include "lib/parse-util.h"

/* The fixed BOOTP header (RFC 2131, figure 1). */
#define BOOTP_OP      0
#define BOOTP_HTYPE   1
#define BOOTP_HLEN    2
#define BOOTP_XID     4
#define BOOTP_SECS    8
#define BOOTP_YIADDR  16
#define BOOTP_CHADDR  28
#define BOOTP_SNAME   44
#define BOOTP_FILE    108
#define BOOTP_COOKIE  236
#define BOOTP_OPTIONS 240
#define SNAME_SIZE    64U
#define FILE_SIZE     128U

#define BOOTREQUEST    1
#define BOOTREPLY      2
#define HTYPE_ETHERNET 1

/* RFC 1542: some relays and servers drop BOOTP messages shorter than the old fixed size. */
#define BOOTP_MIN_SIZE 300U

#define IPV4_HEADER_SIZE 20U
#define UDP_HEADER_SIZE  8U

#define OPT_PAD          0
#define OPT_NETMASK      1
#define OPT_ROUTER       3
#define OPT_DNS          6
#define OPT_REQUESTED_IP 50
#define OPT_LEASE_TIME   51
#define OPT_OVERLOAD     52
#define OPT_MESSAGE_TYPE 53
#define OPT_SERVER_ID    54
#define OPT_PARAM_LIST   55
#define OPT_CLIENT_ID    61
#define OPT_END          255

/* RFC 3396 lets a long option be split into several; joined, ours never need more than this
 * (255 routers or DNS servers). A longer one is refused, so no reply can grow a buffer. */
#define OPTION_JOINED_MAX 1020U

static const uint8_t magic_cookie[4] = {99, 130, 83, 99};

static void put16(uint8_t *p, uint16_t v)
{
        p[0] = (uint8_t) (v >> 8);
        p[1] = (uint8_t) v;
}

static void put32(uint8_t *p, uint32_t v)
{
        put16(p, (uint16_t) (v >> 16));
        put16(p + 2, (uint16_t) v);
}

static uint16_t get16(const uint8_t *p)
{
        return (uint16_t) (p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
        return (uint32_t) get16(p) << 16 | get16(p + 2);
}

/* The Internet checksum's running sum (RFC 1071), over big-endian 16-bit words. */
static uint32_t sum_words(uint32_t sum, const uint8_t *p, size_t len)
{
        for (size_t i = 0; i + 1 < len; i += 2)
                sum += get16(p + i);
        if (len % 2)
                sum += (uint32_t) p[len - 1] << 8;
        return sum;
}

static uint16_t sum_fold(uint32_t sum)
{
        while (sum >> 16)
                sum = (sum & 0xffffU) + (sum >> 16);
        return (uint16_t) ~sum;
}

/* UDP's checksum covers a pseudo header of addresses, protocol and length (RFC 768). */
static uint16_t udp_checksum(const uint8_t *src, const uint8_t *dst, const uint8_t *udp, size_t len)
{
        uint32_t sum = 0;

        sum = sum_words(sum, src, 4);
        sum = sum_words(sum, dst, 4);
        sum += IPPROTO_UDP + (uint32_t) len;
        return sum_fold(sum_words(sum, udp, len));
}

int dhcp_build(const struct dhcp_request *req, uint8_t *buf, size_t size)
{
        static const uint8_t params[] = {OPT_NETMASK, OPT_ROUTER, OPT_DNS, OPT_LEASE_TIME};
        uint8_t *ip = buf, *udp = buf + IPV4_HEADER_SIZE, *m = udp + UDP_HEADER_SIZE;
        size_t o = BOOTP_OPTIONS, mlen, udp_len, total;
        uint16_t sum;

        if (req->type != DHCP_DISCOVER && req->type != DHCP_REQUEST)
                return -EINVAL;
        if (size < DHCP_PACKET_MAX)
                return -ENOBUFS;
        memset(buf, 0, DHCP_PACKET_MAX);

        m[BOOTP_OP] = BOOTREQUEST;
        m[BOOTP_HTYPE] = HTYPE_ETHERNET;
        m[BOOTP_HLEN] = 6;
        put32(m + BOOTP_XID, req->xid);
        put16(m + BOOTP_SECS, req->secs);
        memcpy(m + BOOTP_CHADDR, req->mac, 6);
        memcpy(m + BOOTP_COOKIE, magic_cookie, 4);

        m[o++] = OPT_MESSAGE_TYPE;
        m[o++] = 1;
        m[o++] = (uint8_t) req->type;
        /* RFC 2132 9.14: hardware type 1 and the MAC, as most clients send it. */
        m[o++] = OPT_CLIENT_ID;
        m[o++] = 7;
        m[o++] = HTYPE_ETHERNET;
        memcpy(m + o, req->mac, 6);
        o += 6;
        if (req->type == DHCP_REQUEST) {
                m[o++] = OPT_REQUESTED_IP;
                m[o++] = 4;
                memcpy(m + o, &req->requested.s_addr, 4);
                o += 4;
                m[o++] = OPT_SERVER_ID;
                m[o++] = 4;
                memcpy(m + o, &req->server_id.s_addr, 4);
                o += 4;
        }
        m[o++] = OPT_PARAM_LIST;
        m[o++] = sizeof(params);
        memcpy(m + o, params, sizeof(params));
        o += sizeof(params);
        m[o++] = OPT_END;
        mlen = o < BOOTP_MIN_SIZE ? BOOTP_MIN_SIZE : o;

        udp_len = UDP_HEADER_SIZE + mlen;
        total = IPV4_HEADER_SIZE + udp_len;

        ip[0] = 0x45; /* version 4, 5 words of header */
        put16(ip + 2, (uint16_t) total);
        ip[8] = 64; /* TTL */
        ip[9] = IPPROTO_UDP;
        /* source 0.0.0.0 (already zero), destination the limited broadcast */
        memset(ip + 16, 0xff, 4);
        put16(ip + 10, sum_fold(sum_words(0, ip, IPV4_HEADER_SIZE)));

        put16(udp, DHCP_CLIENT_PORT);
        put16(udp + 2, DHCP_SERVER_PORT);
        put16(udp + 4, (uint16_t) udp_len);
        sum = udp_checksum(ip + 12, ip + 16, udp, udp_len);
        /* 0 means "no checksum" in UDP over IPv4; a computed 0 is sent as its other form. */
        put16(udp + 6, sum ? sum : 0xffff);
        return (int) total;
}

int dhcp_udp_payload(const uint8_t *pkt, size_t len, bool check_udp_sum,
                     const uint8_t **ret_payload, size_t *ret_len, char *errbuf, size_t errlen)
{
        size_t ihl, total, udp_len;
        const uint8_t *udp;

        if (len < IPV4_HEADER_SIZE)
                return parse_error(errbuf, errlen, -EBADMSG,
                                   "IPv4 packet of %zu bytes, shorter than its header", len);
        if (pkt[0] >> 4 != 4)
                return parse_error(errbuf, errlen, -EBADMSG, "IP version %u, not 4",
                                   (unsigned) (pkt[0] >> 4));
        ihl = (size_t) (pkt[0] & 0x0f) * 4U;
        total = get16(pkt + 2);
        if (ihl < IPV4_HEADER_SIZE || ihl > len)
                return parse_error(errbuf, errlen, -EBADMSG,
                                   "IPv4 header length %zu in a packet of %zu bytes", ihl, len);
        /* The link may pad a frame; it never makes a packet shorter than its header says. */
        if (total < ihl || total > len)
                return parse_error(errbuf, errlen, -EBADMSG,
                                   "IPv4 total length %zu, but %zu bytes received (header %zu)",
                                   total, len, ihl);
        if (sum_fold(sum_words(0, pkt, ihl)) != 0)
                return parse_error(errbuf, errlen, -EBADMSG, "bad IPv4 header checksum");
        if (pkt[9] != IPPROTO_UDP)
                return parse_error(errbuf, errlen, -ENOMSG, "IP protocol %u, not UDP", pkt[9]);
        /* No reassembly: a DHCP reply fits in one packet, and fragments only cost memory. */
        if (get16(pkt + 6) & 0x3fffU)
                return parse_error(errbuf, errlen, -EBADMSG, "IPv4 fragment");
        if (total - ihl < UDP_HEADER_SIZE)
                return parse_error(errbuf, errlen, -EBADMSG, "UDP header truncated (%zu bytes)",
                                   total - ihl);

        udp = pkt + ihl;
        if (get16(udp + 2) != DHCP_CLIENT_PORT || get16(udp) != DHCP_SERVER_PORT)
                return parse_error(errbuf, errlen, -ENOMSG, "UDP from port %u to %u, not 67 to 68",
                                   get16(udp), get16(udp + 2));
        udp_len = get16(udp + 4);
        if (udp_len < UDP_HEADER_SIZE || udp_len > total - ihl)
                return parse_error(errbuf, errlen, -EBADMSG,
                                   "UDP length %zu, but the IPv4 packet holds %zu bytes", udp_len,
                                   total - ihl);
        if (check_udp_sum && get16(udp + 6) != 0 &&
            udp_checksum(pkt + 12, pkt + 16, udp, udp_len) != 0)
                return parse_error(errbuf, errlen, -EBADMSG, "bad UDP checksum");

        *ret_payload = udp + UDP_HEADER_SIZE;
        *ret_len = udp_len - UDP_HEADER_SIZE;
        return 0;
}

/* The options the client reads, each joined from all of its pieces (RFC 3396). */
enum {
        IDX_NETMASK,
        IDX_ROUTER,
        IDX_DNS,
        IDX_LEASE_TIME,
        IDX_OVERLOAD,
        IDX_MESSAGE_TYPE,
        IDX_SERVER_ID,
        _IDX_MAX,
};

static const struct {
        uint8_t code;
        const char *name;
} tracked[_IDX_MAX] = {
    [IDX_NETMASK] = {OPT_NETMASK, "subnet mask"},
    [IDX_ROUTER] = {OPT_ROUTER, "router"},
    [IDX_DNS] = {OPT_DNS, "DNS servers"},
    [IDX_LEASE_TIME] = {OPT_LEASE_TIME, "lease time"},
    [IDX_OVERLOAD] = {OPT_OVERLOAD, "option overload"},
    [IDX_MESSAGE_TYPE] = {OPT_MESSAGE_TYPE, "message type"},
    [IDX_SERVER_ID] = {OPT_SERVER_ID, "server identifier"},
};

struct options {
        struct {
                bool seen;
                size_t len;
                uint8_t data[OPTION_JOINED_MAX];
        } opt[_IDX_MAX];
};

/* Walks one options area (the options field, or file/sname when overloaded) up to its end
 * option; base is the area's offset in the message, for messages. */
static int walk_options(const uint8_t *area, size_t len, size_t base, const char *where,
                        bool overload_allowed, struct options *o, char *errbuf, size_t errlen)
{
        size_t i = 0;

        while (i < len) {
                uint8_t code = area[i];
                size_t l;

                if (code == OPT_PAD) {
                        i++;
                        continue;
                }
                if (code == OPT_END)
                        return 0;
                if (i + 1 >= len)
                        return parse_error(errbuf, errlen, -EBADMSG,
                                           "option %u at offset %zu has no length byte", code,
                                           base + i);
                l = area[i + 1];
                if (l > len - i - 2)
                        return parse_error(errbuf, errlen, -EBADMSG,
                                           "option %u at offset %zu: length %zu runs past the end "
                                           "of the %s (%zu bytes left)",
                                           code, base + i, l, where, len - i - 2);
                if (code == OPT_OVERLOAD && !overload_allowed)
                        return parse_error(errbuf, errlen, -EBADMSG,
                                           "option overload (52) inside the overloaded %s", where);
                for (size_t t = 0; t < _IDX_MAX; t++) {
                        if (tracked[t].code != code)
                                continue;
                        if (o->opt[t].len + l > OPTION_JOINED_MAX)
                                return parse_error(errbuf, errlen, -EBADMSG,
                                                   "option %u is longer than %u bytes in total",
                                                   code, OPTION_JOINED_MAX);
                        memcpy(o->opt[t].data + o->opt[t].len, area + i + 2, l);
                        o->opt[t].len += l;
                        o->opt[t].seen = true;
                }
                i += 2 + l;
        }
        return parse_error(errbuf, errlen, -EBADMSG, "the %s ends without an end option (255)",
                           where);
}

/* A fixed-size option's length, when present. @return 1 present, 0 absent, -EBADMSG */
static int option_fixed(const struct options *o, size_t idx, size_t size, char *errbuf,
                        size_t errlen)
{
        if (!o->opt[idx].seen)
                return 0;
        if (o->opt[idx].len != size)
                return parse_error(errbuf, errlen, -EBADMSG,
                                   "option %u (%s) has length %zu, not %zu", tracked[idx].code,
                                   tracked[idx].name, o->opt[idx].len, size);
        return 1;
}

/* An address list: a non-empty multiple of four bytes. @return entries, 0 absent, -EBADMSG */
static int option_list(const struct options *o, size_t idx, char *errbuf, size_t errlen)
{
        if (!o->opt[idx].seen)
                return 0;
        if (o->opt[idx].len == 0 || o->opt[idx].len % 4 != 0)
                return parse_error(errbuf, errlen, -EBADMSG,
                                   "option %u (%s) has length %zu, not a multiple of 4",
                                   tracked[idx].code, tracked[idx].name, o->opt[idx].len);
        return (int) (o->opt[idx].len / 4);
}

static const char *ntoa(struct in_addr a, char buf[INET_ADDRSTRLEN])
{
        return inet_ntop(AF_INET, &a, buf, INET_ADDRSTRLEN);
}

/* The values of an OFFER or ACK: yiaddr and what the options say about it. */
static int read_lease(const uint8_t *msg, const struct options *o, struct dhcp_reply *r,
                      char *errbuf, size_t errlen)
{
        char a[INET_ADDRSTRLEN];
        struct in_addr mask;
        int n, p;

        memcpy(&r->address.s_addr, msg + BOOTP_YIADDR, 4);
        if (!ip_config_is_host_address(r->address))
                return parse_error(errbuf, errlen, -EBADMSG,
                                   "offered address %s is not a host "
                                   "address",
                                   ntoa(r->address, a));

        n = option_fixed(o, IDX_LEASE_TIME, 4, errbuf, errlen);
        if (n < 0)
                return n;
        if (n == 0)
                return parse_error(errbuf, errlen, -EBADMSG, "no lease time (option 51)");
        r->lease_sec = get32(o->opt[IDX_LEASE_TIME].data);
        if (r->lease_sec == 0)
                return parse_error(errbuf, errlen, -EBADMSG, "lease time of 0 seconds");

        n = option_fixed(o, IDX_NETMASK, 4, errbuf, errlen);
        if (n < 0)
                return n;
        if (n > 0) {
                uint32_t addr = ntohl(r->address.s_addr), m;

                memcpy(&mask.s_addr, o->opt[IDX_NETMASK].data, 4);
                p = ip_config_netmask_prefix(mask);
                if (p <= 0)
                        return parse_error(errbuf, errlen, -EBADMSG,
                                           "subnet mask %s is not a usable netmask", ntoa(mask, a));
                r->prefix_len = (unsigned) p;
                m = ntohl(mask.s_addr);
                if (p <= 30 && ((addr & ~m) == 0 || (addr & ~m) == ~m))
                        return parse_error(errbuf, errlen, -EBADMSG,
                                           "offered address %s is the network or broadcast "
                                           "address of /%d",
                                           ntoa(r->address, a), p);
        }

        n = option_list(o, IDX_ROUTER, errbuf, errlen);
        if (n < 0)
                return n;
        if (n > 0) {
                /* Routers come in order of preference; only the first is used. */
                memcpy(&r->router.s_addr, o->opt[IDX_ROUTER].data, 4);
                if (!ip_config_is_host_address(r->router) || r->router.s_addr == r->address.s_addr)
                        return parse_error(errbuf, errlen, -EBADMSG, "router %s is not usable",
                                           ntoa(r->router, a));
        }

        n = option_list(o, IDX_DNS, errbuf, errlen);
        if (n < 0)
                return n;
        /* A DNS server that no host can be is skipped: names are not needed to boot. */
        for (int i = 0; i < n && r->n_dns < DHCP_DNS_MAX; i++) {
                struct in_addr d;

                memcpy(&d.s_addr, o->opt[IDX_DNS].data + 4 * i, 4);
                if (ip_config_is_host_address(d))
                        r->dns[r->n_dns++] = d;
        }
        return 0;
}

int dhcp_parse_reply(const uint8_t *msg, size_t len, uint32_t xid, const uint8_t mac[6],
                     struct dhcp_reply *ret, char *errbuf, size_t errlen)
{
        struct options opts = {0}, *o = &opts;
        struct dhcp_reply r = {0};
        char a[INET_ADDRSTRLEN];
        uint8_t overload = 0;
        int n;

        if (len < BOOTP_OPTIONS)
                return parse_error(errbuf, errlen, -EBADMSG,
                                   "DHCP message of %zu bytes, shorter than the %u of its fixed "
                                   "part",
                                   len, BOOTP_OPTIONS);
        if (msg[BOOTP_OP] != BOOTREPLY)
                return parse_error(errbuf, errlen, -EBADMSG, "op %u, not a reply (2)",
                                   msg[BOOTP_OP]);
        if (msg[BOOTP_HTYPE] != HTYPE_ETHERNET || msg[BOOTP_HLEN] != 6)
                return parse_error(errbuf, errlen, -EBADMSG,
                                   "hardware type %u length %u, not Ethernet (1, 6)",
                                   msg[BOOTP_HTYPE], msg[BOOTP_HLEN]);
        if (get32(msg + BOOTP_XID) != xid)
                return parse_error(errbuf, errlen, -ENOMSG, "xid 0x%08x, not ours (0x%08x)",
                                   get32(msg + BOOTP_XID), xid);
        if (memcmp(msg + BOOTP_CHADDR, mac, 6) != 0)
                return parse_error(errbuf, errlen, -ENOMSG, "for another hardware address");
        if (memcmp(msg + BOOTP_COOKIE, magic_cookie, 4) != 0)
                return parse_error(errbuf, errlen, -EBADMSG,
                                   "no DHCP magic cookie (a BOOTP reply?)");

        n = walk_options(msg + BOOTP_OPTIONS, len - BOOTP_OPTIONS, BOOTP_OPTIONS, "options field",
                         true, o, errbuf, errlen);
        if (n < 0)
                return n;
        n = option_fixed(o, IDX_OVERLOAD, 1, errbuf, errlen);
        if (n < 0)
                return n;
        if (n > 0) {
                overload = o->opt[IDX_OVERLOAD].data[0];
                if (overload < 1 || overload > 3)
                        return parse_error(errbuf, errlen, -EBADMSG,
                                           "option overload value %u, not 1, 2 or 3", overload);
        }
        /* RFC 2131 4.1: the file field first, then sname. */
        if (overload & 1) {
                n = walk_options(msg + BOOTP_FILE, FILE_SIZE, BOOTP_FILE, "file field", false, o,
                                 errbuf, errlen);
                if (n < 0)
                        return n;
        }
        if (overload & 2) {
                n = walk_options(msg + BOOTP_SNAME, SNAME_SIZE, BOOTP_SNAME, "sname field", false,
                                 o, errbuf, errlen);
                if (n < 0)
                        return n;
        }

        n = option_fixed(o, IDX_MESSAGE_TYPE, 1, errbuf, errlen);
        if (n < 0)
                return n;
        if (n == 0)
                return parse_error(errbuf, errlen, -EBADMSG,
                                   "no DHCP message type (option 53): a BOOTP reply");
        r.type = o->opt[IDX_MESSAGE_TYPE].data[0];
        if (r.type != DHCP_OFFER && r.type != DHCP_ACK && r.type != DHCP_NAK)
                return parse_error(errbuf, errlen, -EBADMSG,
                                   "message type %u is not an offer, ack or nak", r.type);

        /* RFC 2131 4.3.1: a server puts its identifier in every OFFER, ACK and NAK. */
        n = option_fixed(o, IDX_SERVER_ID, 4, errbuf, errlen);
        if (n < 0)
                return n;
        if (n == 0)
                return parse_error(errbuf, errlen, -EBADMSG, "no server identifier (option 54)");
        memcpy(&r.server_id.s_addr, o->opt[IDX_SERVER_ID].data, 4);
        if (!ip_config_is_host_address(r.server_id))
                return parse_error(errbuf, errlen, -EBADMSG,
                                   "server identifier %s is not a host address",
                                   ntoa(r.server_id, a));

        if (r.type != DHCP_NAK) {
                n = read_lease(msg, o, &r, errbuf, errlen);
                if (n < 0)
                        return n;
        }
        *ret = r;
        return 0;
}
