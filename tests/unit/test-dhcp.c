/* SPDX-License-Identifier: GPL-2.0-or-later */
/* dhcp.c: hostile and valid replies one row each (options, header fields, lengths) with the
 * parsed lease or the exact refusal beside it; the IPv4/UDP layer likewise; and the bytes of
 * the DISCOVER and REQUEST the client sends. */

#include <arpa/inet.h>
#include <stdio.h>

#include "net/dhcp.h"
#include "util.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "row-check.h"

#define XID 0x12345678U
static const uint8_t mac[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};

/* A string literal of option bytes and its length (it may hold NULs). */
#define B(s) s, sizeof(s) - 1

/* Options that make a valid OFFER and ACK from 10.0.0.1 (type, server id, lease, mask). */
#define OFFER  "\x35\x01\x02"
#define ACK    "\x35\x01\x05"
#define NAK    "\x35\x01\x06"
#define SERVER "\x36\x04\x0a\x00\x00\x01"
#define LEASE  "\x33\x04\x00\x00\x0e\x10"
#define MASK24 "\x01\x04\xff\xff\xff\x00"
#define ROUTER "\x03\x04\x0a\x00\x00\x01"
#define DNS2   "\x06\x08\x0a\x00\x00\x35\x01\x01\x01\x01"
#define END    "\xff"
#define GOOD   OFFER SERVER LEASE MASK24

enum patch {
        PATCH_NONE,
        PATCH_OP_REQUEST,
        PATCH_OP_ZERO,
        PATCH_HTYPE,
        PATCH_HLEN,
        PATCH_XID,
        PATCH_CHADDR,
        PATCH_COOKIE,
        PATCH_YIADDR_ZERO,
        PATCH_YIADDR_BROADCAST,
        PATCH_YIADDR_LOOPBACK,
        PATCH_YIADDR_NETWORK,
};

struct row {
        const char *options;
        size_t options_len;
        enum patch patch;
        size_t truncate;          /* 0: the whole message; else its length */
        const char *file, *sname; /* NULL: zeroes */
        size_t file_len, sname_len;
        int ret;
        const char *expect; /* ret == 0: dump(); otherwise the exact error message */
};

static const struct row rows[] = {
    /* valid replies */
    {B(GOOD END), 0, 0, 0, 0, 0, 0, 0, "offer 10.0.0.50/24 server=10.0.0.1 lease=3600"},
    {B(ACK SERVER LEASE MASK24 ROUTER DNS2 END), 0, 0, 0, 0, 0, 0, 0,
     "ack 10.0.0.50/24 server=10.0.0.1 router=10.0.0.1 dns=10.0.0.53,1.1.1.1 lease=3600"},
    {B(NAK SERVER END), 0, 0, 0, 0, 0, 0, 0, "nak server=10.0.0.1"},
    {B(NAK SERVER END), PATCH_YIADDR_ZERO, 0, 0, 0, 0, 0, 0, "nak server=10.0.0.1"},
    {B(OFFER SERVER LEASE END), 0, 0, 0, 0, 0, 0, 0, "offer 10.0.0.50 server=10.0.0.1 lease=3600"},
    {B("\x00\x00" GOOD "\x00" END "\x01\x02garbage after the end"), 0, 0, 0, 0, 0, 0, 0,
     "offer 10.0.0.50/24 server=10.0.0.1 lease=3600"},
    {B(GOOD "\x33\x04\xff\xff\xff\xff" END), 0, 0, 0, 0, 0, 0, -EBADMSG,
     "option 51 (lease time) has length 8, not 4"},
    {B(OFFER SERVER "\x33\x04\xff\xff\xff\xff" END), 0, 0, 0, 0, 0, 0, 0,
     "offer 10.0.0.50 server=10.0.0.1 lease=4294967295"},
    /* unknown options are skipped, whatever their content */
    {B("\x2b\x05\xff\xff\xff\xff\xff\x0c\x00" GOOD "\xfe\x01\x00" END), 0, 0, 0, 0, 0, 0, 0,
     "offer 10.0.0.50/24 server=10.0.0.1 lease=3600"},
    /* RFC 3396: split options are joined */
    {B(GOOD "\x06\x02\x0a\x00\x06\x02\x00\x35\x06\x04\x08\x08\x08\x08" END), 0, 0, 0, 0, 0, 0, 0,
     "offer 10.0.0.50/24 server=10.0.0.1 dns=10.0.0.53,8.8.8.8 lease=3600"},
    {B(GOOD "\x03\x04\x0a\x00\x00\x01\x03\x04\x0a\x00\x00\x02" END), 0, 0, 0, 0, 0, 0, 0,
     "offer 10.0.0.50/24 server=10.0.0.1 router=10.0.0.1 lease=3600"},
    /* at most three DNS servers, unusable ones skipped */
    {B(GOOD "\x06\x14\x00\x00\x00\x00\x01\x01\x01\x01\x7f\x00\x00\x01\x02\x02\x02\x02\x03\x03\x03"
            "\x03\x06\x04\x04\x04\x04\x04" END),
     0, 0, 0, 0, 0, 0, 0,
     "offer 10.0.0.50/24 server=10.0.0.1 dns=1.1.1.1,2.2.2.2,3.3.3.3 lease=3600"},
    {B(GOOD "\x06\x04\xff\xff\xff\xff" END), 0, 0, 0, 0, 0, 0, 0,
     "offer 10.0.0.50/24 server=10.0.0.1 lease=3600"},
    /* /31 and /32 have no network or broadcast address */
    {B(OFFER SERVER LEASE "\x01\x04\xff\xff\xff\xff" END), PATCH_YIADDR_NETWORK, 0, 0, 0, 0, 0, 0,
     "offer 10.0.0.0/32 server=10.0.0.1 lease=3600"},

    /* option overload: options continue in file, then sname */
    {B(OFFER "\x34\x01\x03" END), 0, 0, "\x00" SERVER END, "" LEASE MASK24 END, 8, 13, 0,
     "offer 10.0.0.50/24 server=10.0.0.1 lease=3600"},
    {B(OFFER "\x34\x01\x01" END), 0, 0, SERVER LEASE END, NULL, 13, 0, 0,
     "offer 10.0.0.50 server=10.0.0.1 lease=3600"},
    {B(OFFER "\x34\x01\x02" END), 0, 0, NULL, SERVER LEASE END, 0, 13, 0,
     "offer 10.0.0.50 server=10.0.0.1 lease=3600"},
    {B(OFFER "\x34\x01\x01" END), 0, 0, SERVER LEASE, NULL, 12, 0, -EBADMSG,
     "the file field ends without an end option (255)"},
    {B(OFFER SERVER LEASE "\x34\x01\x00" END), 0, 0, 0, 0, 0, 0, -EBADMSG,
     "option overload value 0, not 1, 2 or 3"},
    {B(OFFER SERVER LEASE "\x34\x01\x04" END), 0, 0, 0, 0, 0, 0, -EBADMSG,
     "option overload value 4, not 1, 2 or 3"},
    {B(OFFER SERVER LEASE "\x34\x02\x01\x01" END), 0, 0, 0, 0, 0, 0, -EBADMSG,
     "option 52 (option overload) has length 2, not 1"},
    {B(OFFER "\x34\x01\x01" END), 0, 0, SERVER LEASE "\x34\x01\x02" END, NULL, 16, 0, -EBADMSG,
     "option overload (52) inside the overloaded file field"},
    {B(OFFER "\x34\x01\x02" END), 0, 0, NULL, SERVER "\x33\xff", 0, 8, -EBADMSG,
     "option 51 at offset 50: length 255 runs past the end of the sname field (56 bytes left)"},
    {B(OFFER "\x34\x01\x02" END), 0, 0, NULL, SERVER "\x33\x00" END, 0, 9, -EBADMSG,
     "option 51 (lease time) has length 0, not 4"},
    {B(OFFER "\x34\x01\x01" END), 0, 0, "", NULL, 0, 0, -EBADMSG,
     "the file field ends without an end option (255)"},

    /* truncated and overlong options */
    {B(GOOD), 0, 0, 0, 0, 0, 0, -EBADMSG, "the options field ends without an end option (255)"},
    {B(""), 0, 0, 0, 0, 0, 0, -EBADMSG, "the options field ends without an end option (255)"},
    {B(GOOD "\x06"), 0, 0, 0, 0, 0, 0, -EBADMSG, "option 6 at offset 261 has no length byte"},
    {B(GOOD "\x06\x08\x01\x01\x01\x01"), 0, 0, 0, 0, 0, 0, -EBADMSG,
     "option 6 at offset 261: length 8 runs past the end of the options field (4 bytes left)"},
    {B(GOOD "\x06\xff" END), 0, 0, 0, 0, 0, 0, -EBADMSG,
     "option 6 at offset 261: length 255 runs past the end of the options field (1 bytes left)"},
    {B("\x35\xff\x02" SERVER END), 0, 0, 0, 0, 0, 0, -EBADMSG,
     "option 53 at offset 240: length 255 runs past the end of the options field (8 bytes left)"},
    {B(GOOD END), 0, 250, 0, 0, 0, 0, -EBADMSG, "option 51 at offset 249 has no length byte"},
    {B(GOOD END), 0, 247, 0, 0, 0, 0, -EBADMSG,
     "option 54 at offset 243: length 4 runs past the end of the options field (2 bytes left)"},

    /* wrong lengths and values of the options read */
    {B("\x35\x02\x02\x02" SERVER LEASE END), 0, 0, 0, 0, 0, 0, -EBADMSG,
     "option 53 (message type) has length 2, not 1"},
    {B(OFFER OFFER SERVER LEASE END), 0, 0, 0, 0, 0, 0, -EBADMSG,
     "option 53 (message type) has length 2, not 1"},
    {B("\x35\x00" SERVER LEASE END), 0, 0, 0, 0, 0, 0, -EBADMSG,
     "option 53 (message type) has length 0, not 1"},
    {B(SERVER LEASE END), 0, 0, 0, 0, 0, 0, -EBADMSG,
     "no DHCP message type (option 53): a BOOTP reply"},
    {B("\x35\x01\x01" SERVER LEASE END), 0, 0, 0, 0, 0, 0, -EBADMSG,
     "message type 1 is not an offer, ack or nak"},
    {B("\x35\x01\x03" SERVER LEASE END), 0, 0, 0, 0, 0, 0, -EBADMSG,
     "message type 3 is not an offer, ack or nak"},
    {B("\x35\x01\x09" SERVER LEASE END), 0, 0, 0, 0, 0, 0, -EBADMSG,
     "message type 9 is not an offer, ack or nak"},
    {B(OFFER LEASE END), 0, 0, 0, 0, 0, 0, -EBADMSG, "no server identifier (option 54)"},
    {B(NAK END), 0, 0, 0, 0, 0, 0, -EBADMSG, "no server identifier (option 54)"},
    {B(OFFER "\x36\x03\x0a\x00\x00" LEASE END), 0, 0, 0, 0, 0, 0, -EBADMSG,
     "option 54 (server identifier) has length 3, not 4"},
    {B(OFFER "\x36\x04\x00\x00\x00\x00" LEASE END), 0, 0, 0, 0, 0, 0, -EBADMSG,
     "server identifier 0.0.0.0 is not a host address"},
    {B(OFFER "\x36\x04\xff\xff\xff\xff" LEASE END), 0, 0, 0, 0, 0, 0, -EBADMSG,
     "server identifier 255.255.255.255 is not a host address"},
    {B(OFFER SERVER END), 0, 0, 0, 0, 0, 0, -EBADMSG, "no lease time (option 51)"},
    {B(OFFER SERVER "\x33\x04\x00\x00\x00\x00" END), 0, 0, 0, 0, 0, 0, -EBADMSG,
     "lease time of 0 seconds"},
    {B(OFFER SERVER "\x33\x02\x0e\x10" END), 0, 0, 0, 0, 0, 0, -EBADMSG,
     "option 51 (lease time) has length 2, not 4"},
    {B(OFFER SERVER LEASE "\x01\x04\xff\x00\xff\x00" END), 0, 0, 0, 0, 0, 0, -EBADMSG,
     "subnet mask 255.0.255.0 is not a usable netmask"},
    {B(OFFER SERVER LEASE "\x01\x04\x00\x00\x00\x00" END), 0, 0, 0, 0, 0, 0, -EBADMSG,
     "subnet mask 0.0.0.0 is not a usable netmask"},
    {B(OFFER SERVER LEASE "\x01\x03\xff\xff\xff" END), 0, 0, 0, 0, 0, 0, -EBADMSG,
     "option 1 (subnet mask) has length 3, not 4"},
    {B(GOOD "\x03\x00" END), 0, 0, 0, 0, 0, 0, -EBADMSG,
     "option 3 (router) has length 0, not a multiple of 4"},
    {B(GOOD "\x03\x05\x0a\x00\x00\x01\x00" END), 0, 0, 0, 0, 0, 0, -EBADMSG,
     "option 3 (router) has length 5, not a multiple of 4"},
    {B(GOOD "\x03\x04\xe0\x00\x00\x01" END), 0, 0, 0, 0, 0, 0, -EBADMSG,
     "router 224.0.0.1 is not usable"},
    {B(GOOD "\x03\x04\x0a\x00\x00\x32" END), 0, 0, 0, 0, 0, 0, -EBADMSG,
     "router 10.0.0.50 is not usable"},
    {B(GOOD "\x06\x03\x01\x01\x01" END), 0, 0, 0, 0, 0, 0, -EBADMSG,
     "option 6 (DNS servers) has length 3, not a multiple of 4"},

    /* the fixed header */
    {B(GOOD END), 0, 239, 0, 0, 0, 0, -EBADMSG,
     "DHCP message of 239 bytes, shorter than the 240 of its fixed part"},
    {B(GOOD END), 0, 1, 0, 0, 0, 0, -EBADMSG,
     "DHCP message of 1 bytes, shorter than the 240 of its fixed part"},
    {B(GOOD END), 0, 240, 0, 0, 0, 0, -EBADMSG,
     "the options field ends without an end option (255)"},
    {B(GOOD END), PATCH_OP_REQUEST, 0, 0, 0, 0, 0, -EBADMSG, "op 1, not a reply (2)"},
    {B(GOOD END), PATCH_OP_ZERO, 0, 0, 0, 0, 0, -EBADMSG, "op 0, not a reply (2)"},
    {B(GOOD END), PATCH_HTYPE, 0, 0, 0, 0, 0, -EBADMSG,
     "hardware type 6 length 6, not Ethernet (1, 6)"},
    {B(GOOD END), PATCH_HLEN, 0, 0, 0, 0, 0, -EBADMSG,
     "hardware type 1 length 16, not Ethernet (1, 6)"},
    {B(GOOD END), PATCH_XID, 0, 0, 0, 0, 0, -ENOMSG, "xid 0x12345679, not ours (0x12345678)"},
    {B(GOOD END), PATCH_CHADDR, 0, 0, 0, 0, 0, -ENOMSG, "for another hardware address"},
    {B(GOOD END), PATCH_COOKIE, 0, 0, 0, 0, 0, -EBADMSG, "no DHCP magic cookie (a BOOTP reply?)"},
    {B(GOOD END), PATCH_YIADDR_ZERO, 0, 0, 0, 0, 0, -EBADMSG,
     "offered address 0.0.0.0 is not a host address"},
    {B(GOOD END), PATCH_YIADDR_BROADCAST, 0, 0, 0, 0, 0, -EBADMSG,
     "offered address 255.255.255.255 is not a host address"},
    {B(GOOD END), PATCH_YIADDR_LOOPBACK, 0, 0, 0, 0, 0, -EBADMSG,
     "offered address 127.0.0.1 is not a host address"},
    {B(GOOD END), PATCH_YIADDR_NETWORK, 0, 0, 0, 0, 0, -EBADMSG,
     "offered address 10.0.0.0 is the network or broadcast address of /24"},
};

/* The BOOTP reply of a row: fixed header, then its options. */
static size_t make_reply(const struct row *row, uint8_t *m, size_t size)
{
        size_t len = 240 + row->options_len;

        assert_true(len <= size);
        memset(m, 0, size);
        m[0] = 2;
        m[1] = 1;
        m[2] = 6;
        m[4] = 0x12, m[5] = 0x34, m[6] = 0x56, m[7] = 0x78;
        m[16] = 10, m[19] = 50; /* yiaddr 10.0.0.50 */
        memcpy(m + 28, mac, 6);
        if (row->sname)
                memcpy(m + 44, row->sname, row->sname_len);
        if (row->file)
                memcpy(m + 108, row->file, row->file_len);
        m[236] = 99, m[237] = 130, m[238] = 83, m[239] = 99;
        memcpy(m + 240, row->options, row->options_len);

        switch (row->patch) {
        case PATCH_NONE:
                break;
        case PATCH_OP_REQUEST:
                m[0] = 1;
                break;
        case PATCH_OP_ZERO:
                m[0] = 0;
                break;
        case PATCH_HTYPE:
                m[1] = 6;
                break;
        case PATCH_HLEN:
                m[2] = 16;
                break;
        case PATCH_XID:
                m[7]++;
                break;
        case PATCH_CHADDR:
                m[33] ^= 1;
                break;
        case PATCH_COOKIE:
                m[239] = 0;
                break;
        case PATCH_YIADDR_ZERO:
                memset(m + 16, 0, 4);
                break;
        case PATCH_YIADDR_BROADCAST:
                memset(m + 16, 0xff, 4);
                break;
        case PATCH_YIADDR_LOOPBACK:
                m[16] = 127, m[19] = 1;
                break;
        case PATCH_YIADDR_NETWORK:
                m[19] = 0;
                break;
        }
        return row->truncate ? row->truncate : len;
}

static const char *dump(const struct dhcp_reply *r, char *buf, size_t size)
{
        char a[INET_ADDRSTRLEN];
        size_t l;

        snprintf(buf, size, "%s",
                 r->type == DHCP_OFFER ? "offer"
                 : r->type == DHCP_ACK ? "ack"
                                       : "nak");
        l = strlen(buf);
        if (r->type != DHCP_NAK) {
                snprintf(buf + l, size - l, " %s", inet_ntop(AF_INET, &r->address, a, sizeof(a)));
                l = strlen(buf);
                if (r->prefix_len)
                        snprintf(buf + l, size - l, "/%u", r->prefix_len);
        }
        l = strlen(buf);
        snprintf(buf + l, size - l, " server=%s", inet_ntop(AF_INET, &r->server_id, a, sizeof(a)));
        if (r->router.s_addr) {
                l = strlen(buf);
                snprintf(buf + l, size - l, " router=%s",
                         inet_ntop(AF_INET, &r->router, a, sizeof(a)));
        }
        for (unsigned i = 0; i < r->n_dns; i++) {
                l = strlen(buf);
                snprintf(buf + l, size - l, "%s%s", i == 0 ? " dns=" : ",",
                         inet_ntop(AF_INET, &r->dns[i], a, sizeof(a)));
        }
        if (r->type != DHCP_NAK) {
                l = strlen(buf);
                snprintf(buf + l, size - l, " lease=%u", r->lease_sec);
        }
        return buf;
}

static void test_reply_rows(void **state)
{
        (void) state;

        for (size_t i = 0; i < ELEMENTSOF(rows); i++) {
                uint8_t msg[1024], *copy;
                struct dhcp_reply r;
                char err[256] = "", out[256];
                size_t len = make_reply(&rows[i], msg, sizeof(msg));
                int ret;

                /* An exact-size copy, so ASan catches any read past the message. */
                copy = malloc(len);
                assert_non_null(copy);
                memcpy(copy, msg, len);
                memset(&r, 0xaa, sizeof(r));
                ret = dhcp_parse_reply(copy, len, XID, mac, &r, err, sizeof(err));
                check_row("reply row", i, ret, ret == 0 ? dump(&r, out, sizeof(out)) : err,
                          rows[i].ret, rows[i].expect);
                free(copy);
        }
}

/* An option joined from more pieces than any real reply has is refused, not buffered. */
static void test_joined_too_long(void **state)
{
        uint8_t m[2048] = {0};
        size_t o = 240;
        char err[256];
        struct dhcp_reply r;

        (void) state;
        m[0] = 2, m[1] = 1, m[2] = 6;
        m[4] = 0x12, m[5] = 0x34, m[6] = 0x56, m[7] = 0x78;
        memcpy(m + 28, mac, 6);
        m[236] = 99, m[237] = 130, m[238] = 83, m[239] = 99;
        for (int i = 0; i < 5; i++) {
                m[o++] = 6;
                m[o++] = 252;
                memset(m + o, 1, 252);
                o += 252;
        }
        m[o++] = 255;
        assert_int_equal(dhcp_parse_reply(m, o, XID, mac, &r, err, sizeof(err)), -EBADMSG);
        assert_string_equal(err, "option 6 is longer than 1020 bytes in total");
}

/* The IPv4 and UDP layer around a reply. */
enum ip_patch {
        IP_NONE,
        IP_VERSION6,
        IP_IHL4,
        IP_IHL15,
        IP_TOTAL_LONG,
        IP_TOTAL_SHORT,
        IP_HEADER_SUM,
        IP_PROTO_TCP,
        IP_MORE_FRAGMENTS,
        IP_FRAGMENT_OFFSET,
        IP_DF, /* "don't fragment" is not a fragment */
        UDP_SPORT,
        UDP_DPORT,
        UDP_LEN_LONG,
        UDP_LEN_SHORT,
        UDP_SUM,
        UDP_SUM_ZERO,
        IP_WITH_OPTIONS, /* a 24-byte header */
        IP_TRAILING,     /* Ethernet padding after the packet */
};

static const struct ip_row {
        enum ip_patch patch;
        size_t truncate;
        bool check_sum;
        int ret;
        const char *expect; /* ret == 0: "payload N" */
} ip_rows[] = {
    {IP_NONE, 0, true, 0, "payload 300"},
    {IP_DF, 0, true, 0, "payload 300"},
    {IP_WITH_OPTIONS, 0, true, 0, "payload 300"},
    {IP_TRAILING, 0, true, 0, "payload 300"},
    {UDP_SUM_ZERO, 0, true, 0, "payload 300"},
    {UDP_SUM, 0, false, 0, "payload 300"},
    {UDP_SUM, 0, true, -EBADMSG, "bad UDP checksum"},
    {IP_NONE, 19, true, -EBADMSG, "IPv4 packet of 19 bytes, shorter than its header"},
    {IP_NONE, 0, true, 0, "payload 300"},
    {IP_NONE, 27, true, -EBADMSG, "IPv4 total length 328, but 27 bytes received (header 20)"},
    {IP_VERSION6, 0, true, -EBADMSG, "IP version 6, not 4"},
    {IP_IHL4, 0, true, -EBADMSG, "IPv4 header length 16 in a packet of 328 bytes"},
    {IP_IHL15, 40, true, -EBADMSG, "IPv4 header length 60 in a packet of 40 bytes"},
    {IP_TOTAL_LONG, 0, true, -EBADMSG, "IPv4 total length 329, but 328 bytes received (header 20)"},
    {IP_TOTAL_SHORT, 0, true, -EBADMSG, "UDP header truncated (4 bytes)"},
    {IP_HEADER_SUM, 0, true, -EBADMSG, "bad IPv4 header checksum"},
    {IP_PROTO_TCP, 0, true, -ENOMSG, "IP protocol 6, not UDP"},
    {IP_MORE_FRAGMENTS, 0, true, -EBADMSG, "IPv4 fragment"},
    {IP_FRAGMENT_OFFSET, 0, true, -EBADMSG, "IPv4 fragment"},
    {UDP_SPORT, 0, true, -ENOMSG, "UDP from port 53 to 68, not 67 to 68"},
    {UDP_DPORT, 0, true, -ENOMSG, "UDP from port 67 to 67, not 67 to 68"},
    {UDP_LEN_LONG, 0, true, -EBADMSG, "UDP length 309, but the IPv4 packet holds 308 bytes"},
    {UDP_LEN_SHORT, 0, true, -EBADMSG, "UDP length 7, but the IPv4 packet holds 308 bytes"},
};

static uint16_t fold(uint32_t sum)
{
        while (sum >> 16)
                sum = (sum & 0xffff) + (sum >> 16);
        return (uint16_t) ~sum;
}

static uint32_t words(const uint8_t *p, size_t len)
{
        uint32_t s = 0;

        for (size_t i = 0; i + 1 < len; i += 2)
                s += (uint32_t) (p[i] << 8 | p[i + 1]);
        if (len % 2)
                s += (uint32_t) p[len - 1] << 8;
        return s;
}

static void set16(uint8_t *p, unsigned v)
{
        p[0] = (uint8_t) (v >> 8);
        p[1] = (uint8_t) v;
}

/* A server's packet: 10.0.0.1:67 to 255.255.255.255:68, header of ihl bytes, payload of 300
 * bytes, correct sums, then the row's damage (sums recomputed where the damage is not to them). */
static size_t make_ip(const struct ip_row *row, uint8_t *p, size_t size)
{
        size_t ihl = row->patch == IP_WITH_OPTIONS ? 24 : 20, total = ihl + 8 + 300;
        uint8_t *udp = p + ihl;
        uint32_t sum;

        assert_true(total + 16 <= size);
        memset(p, 0, size);
        p[0] = (uint8_t) (0x40 | ihl / 4);
        set16(p + 2, (unsigned) total);
        p[8] = 64;
        p[9] = 17;
        p[12] = 10, p[15] = 1;
        memset(p + 16, 0xff, 4);
        set16(udp, 67);
        set16(udp + 2, 68);
        set16(udp + 4, 308);
        memset(udp + 8, 0x5a, 300);

        switch (row->patch) {
        case IP_VERSION6:
                p[0] = (uint8_t) (0x60 | (p[0] & 0xf));
                break;
        case IP_IHL4:
                p[0] = 0x44;
                break;
        case IP_IHL15:
                p[0] = 0x4f;
                break;
        case IP_TOTAL_LONG:
                set16(p + 2, (unsigned) total + 1);
                break;
        case IP_TOTAL_SHORT:
                set16(p + 2, (unsigned) ihl + 4);
                break;
        case IP_PROTO_TCP:
                p[9] = 6;
                break;
        case IP_MORE_FRAGMENTS:
                p[6] = 0x20;
                break;
        case IP_FRAGMENT_OFFSET:
                p[7] = 0x01;
                break;
        case IP_DF:
                p[6] = 0x40;
                break;
        case UDP_SPORT:
                set16(udp, 53);
                break;
        case UDP_DPORT:
                set16(udp + 2, 67);
                break;
        case UDP_LEN_LONG:
                set16(udp + 4, 309);
                break;
        case UDP_LEN_SHORT:
                set16(udp + 4, 7);
                break;
        default:
                break;
        }

        set16(p + 10, fold(words(p, ihl)));
        sum = words(p + 12, 8) + 17 + 308 + words(udp, 308);
        set16(udp + 6, fold(sum));
        if (row->patch == IP_HEADER_SUM)
                p[10] ^= 0x40;
        if (row->patch == UDP_SUM)
                udp[7] ^= 1;
        if (row->patch == UDP_SUM_ZERO)
                set16(udp + 6, 0);
        if (row->truncate)
                return row->truncate;
        return row->patch == IP_TRAILING ? total + 16 : total;
}

static void test_ip_rows(void **state)
{
        (void) state;

        for (size_t i = 0; i < ELEMENTSOF(ip_rows); i++) {
                uint8_t pkt[512], *copy;
                const uint8_t *payload = NULL;
                size_t len = make_ip(&ip_rows[i], pkt, sizeof(pkt)), plen = 0;
                char err[256] = "", out[64];
                int r;

                copy = malloc(len);
                assert_non_null(copy);
                memcpy(copy, pkt, len);
                r = dhcp_udp_payload(copy, len, ip_rows[i].check_sum, &payload, &plen, err,
                                     sizeof(err));
                if (r == 0) {
                        snprintf(out, sizeof(out), "payload %zu", plen);
                        assert_ptr_equal(payload, copy + len - plen -
                                                      (ip_rows[i].patch == IP_TRAILING ? 16 : 0));
                }
                check_row("ip row", i, r, r == 0 ? out : err, ip_rows[i].ret, ip_rows[i].expect);
                free(copy);
        }
}

/* The bytes of what the client sends, known answers. */
static void test_build(void **state)
{
        static const uint8_t discover_options[] = {
            99,  130, 83, 99,                                 /* magic cookie */
            53,  1,   1,                                      /* DHCPDISCOVER */
            61,  7,   1,  0x52, 0x54, 0x00, 0x12, 0x34, 0x56, /* client id */
            55,  4,   1,  3,    6,    51,                     /* parameter request list */
            255,
        };
        static const uint8_t request_options[] = {
            99,   130,  83,   99,   53,   1,  3,   61, 7, 1, 0x52,
            0x54, 0x00, 0x12, 0x34, 0x56, 50, 4,   10, 0, 0, 50, /* requested address */
            54,   4,    10,   0,    0,    1,                     /* server id */
            55,   4,    1,    3,    6,    51, 255,
        };
        struct dhcp_request req = {.type = DHCP_DISCOVER, .xid = 0xdeadbeefU, .secs = 3};
        uint8_t buf[DHCP_PACKET_MAX];
        int n;

        (void) state;
        memcpy(req.mac, mac, 6);
        n = dhcp_build(&req, buf, sizeof(buf));
        assert_int_equal(n, 20 + 8 + 300);
        assert_int_equal(buf[0], 0x45);
        assert_int_equal(buf[2] << 8 | buf[3], 328);
        assert_int_equal(buf[9], 17);
        assert_int_equal(fold(words(buf, 20)), 0); /* header checksum */
        assert_memory_equal(buf + 12, "\0\0\0\0\xff\xff\xff\xff", 8);
        assert_memory_equal(buf + 20, "\x00\x44\x00\x43\x01\x34", 6); /* 68 -> 67, length 308 */
        assert_int_equal(fold(words(buf + 12, 8) + 17 + 308 + words(buf + 20, 308)), 0);
        assert_memory_equal(buf + 28, "\x01\x01\x06\x00\xde\xad\xbe\xef\x00\x03", 10);
        assert_memory_equal(buf + 28 + 28, mac, 6);
        assert_memory_equal(buf + 28 + 236, discover_options, sizeof(discover_options));
        for (size_t i = 28 + 236 + sizeof(discover_options); i < 328; i++)
                assert_int_equal(buf[i], 0);

        req.type = DHCP_REQUEST;
        req.requested.s_addr = htonl(0x0a000032);
        req.server_id.s_addr = htonl(0x0a000001);
        n = dhcp_build(&req, buf, sizeof(buf));
        assert_int_equal(n, 328);
        assert_int_equal(fold(words(buf + 12, 8) + 17 + 308 + words(buf + 20, 308)), 0);
        assert_memory_equal(buf + 28 + 236, request_options, sizeof(request_options));

        req.type = DHCP_RELEASE;
        assert_int_equal(dhcp_build(&req, buf, sizeof(buf)), -EINVAL);
        req.type = DHCP_DISCOVER;
        assert_int_equal(dhcp_build(&req, buf, DHCP_PACKET_MAX - 1), -ENOBUFS);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_reply_rows),
            cmocka_unit_test(test_joined_too_long),
            cmocka_unit_test(test_ip_rows),
            cmocka_unit_test(test_build),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
