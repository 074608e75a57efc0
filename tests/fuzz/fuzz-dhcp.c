/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libFuzzer target for dhcp.c: any bytes as a received IPv4 packet, and as a DHCP message
 * whose xid and chaddr match (taken from the input), so the option parser is reached. */

#include <stdint.h>

#include "net/dhcp.h"
#include "util.h"

static void parse_message(const uint8_t *msg, size_t len)
{
        uint8_t mac[6] = {0};
        uint32_t xid = 0;
        struct dhcp_reply r;
        char err[256];

        if (len >= 34) {
                xid = (uint32_t) msg[4] << 24 | (uint32_t) msg[5] << 16 | (uint32_t) msg[6] << 8 |
                      msg[7];
                memcpy(mac, msg + 28, 6);
        }
        if (dhcp_parse_reply(msg, len, xid, mac, &r, err, sizeof(err)) == 0 &&
            (r.n_dns > DHCP_DNS_MAX || r.prefix_len > 32))
                __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        const uint8_t *payload;
        size_t len;
        char err[256];

        parse_message(data, size);
        for (int check = 0; check <= 1; check++)
                if (dhcp_udp_payload(data, size, check, &payload, &len, err, sizeof(err)) == 0) {
                        if (payload < data || payload + len > data + size)
                                __builtin_trap();
                        parse_message(payload, len);
                }
        return 0;
}
