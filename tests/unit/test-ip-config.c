/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ip_config_parse(): every supported ip= form and every refusal, one row per value with the
 * parsed configuration (or the exact error) beside it. */

#include <arpa/inet.h>
#include <stdio.h>

#include "net/ip-config.h"
#include "util.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "row-check.h"

#define BAD_MASK "' is neither a dotted quad nor a prefix length 1..32"
#define NOT_HOST "is not a host address (0/8, 127/8, multicast, class E and broadcast are not)"
#define FORMS                                                                                      \
        "expected dhcp, <interface>:dhcp, off or "                                                 \
        "<client-IP>:[<peer>]:<gateway-IP>:<netmask>:<client_hostname>:<interface>:none"
#define NO_MTU "MTU and MAC address fields are not supported"

struct row {
        const char *input;
        int ret;
        const char *expect; /* ret == 0: dump(); otherwise the exact error message */
};

static const struct row rows[] = {
    /* DHCP and off */
    {"dhcp", 0, "dhcp"},
    {"on", 0, "dhcp"},
    {"any", 0, "dhcp"},
    {"eth0:dhcp", 0, "dhcp if=eth0"},
    {"enp0s3:on", 0, "dhcp if=enp0s3"},
    {"ens3:any", 0, "dhcp if=ens3"},
    {"abcdefghijklmno:dhcp", 0, "dhcp if=abcdefghijklmno"},
    {"off", 0, "off"},
    {"none", 0, "off"},
    {"DHCP", -EINVAL, FORMS ", got 'DHCP'"},
    {"bootp", -EINVAL, FORMS ", got 'bootp'"},
    {"dhcp ", -EINVAL, FORMS ", got 'dhcp '"},
    {"\x1b[2J", -EOPNOTSUPP, "IPv6 addresses are not supported yet"},
    {"\x1b", -EINVAL, FORMS ", got '\\x1b'"},
    {"", -EINVAL, "empty value"},
    {":dhcp", -EINVAL, "empty interface name before ':dhcp'"},
    {"eth0:dhcp:1400", -EOPNOTSUPP, NO_MTU},
    {"eth0:dhcp:1400:52:54:00:12:34:56", -EOPNOTSUPP, NO_MTU},
    {"eth0:dhcp:", -EOPNOTSUPP, NO_MTU},
    {"eth0:off", -EINVAL, "eth0:off: an interface takes dhcp; ip=off turns the network off"},
    {"eth0:none", -EINVAL, "eth0:none: an interface takes dhcp; ip=off turns the network off"},
    {"abcdefghijklmnop:dhcp", -EINVAL,
     "interface name 'abcdefghijklmnop' is longer than 15 characters"},
    {"eth/0:dhcp", -EINVAL, "interface name 'eth/0' has a character no interface name can have"},
    {"eth\x7f:dhcp", -EINVAL,
     "interface name 'eth\\x7f' has a character no interface name can have"},
    {"..:dhcp", -EINVAL, "'..' is not an interface name"},
    {"eth0:bogus", -EINVAL, FORMS " (2 fields given, the static form has 7)"},

    /* IPv6 and dracut's other methods */
    {"dhcp6", -EOPNOTSUPP, "IPv6 (dhcp6) is not supported yet"},
    {"auto6", -EOPNOTSUPP, "IPv6 (auto6) is not supported yet"},
    {"either6", -EOPNOTSUPP, "IPv6 (either6) is not supported yet"},
    {"link6", -EOPNOTSUPP, "IPv6 (link6) is not supported yet"},
    {"eth0:dhcp6", -EOPNOTSUPP, "IPv6 (dhcp6) is not supported yet"},
    {"eth0:auto6", -EOPNOTSUPP, "IPv6 (auto6) is not supported yet"},
    {"[2001:db8::2]::[2001:db8::1]:64:node:eth0:none", -EOPNOTSUPP,
     "IPv6 addresses are not supported yet"},
    {"10.0.0.2::10.0.0.1:24::eth0:dhcp6", -EOPNOTSUPP, "IPv6 (dhcp6) is not supported yet"},
    {"ibft", -EOPNOTSUPP, "ibft is not supported"},
    {"single-dhcp", -EOPNOTSUPP, "single-dhcp is not supported"},
    {"eth0:ibft", -EOPNOTSUPP, "ibft is not supported"},
    {"10.0.0.2::10.0.0.1:24::eth0:ibft", -EOPNOTSUPP, "ibft is not supported"},

    /* the static form */
    {"10.0.0.2::10.0.0.1:255.255.255.0:node1:eth0:none", 0,
     "static 10.0.0.2/24 gw=10.0.0.1 host=node1 if=eth0"},
    {"10.0.0.2::10.0.0.1:24:node1:eth0:off", 0,
     "static 10.0.0.2/24 gw=10.0.0.1 host=node1 if=eth0"},
    {"192.168.7.9:::16:::none", 0, "static 192.168.7.9/16"},
    {"10.1.2.3::10.1.0.1:255.255.0.0::eth1:none", 0, "static 10.1.2.3/16 gw=10.1.0.1 if=eth1"},
    {"10.0.0.2::10.0.0.1:24:a.b-c.example:eth0:none:10.0.0.53", 0,
     "static 10.0.0.2/24 gw=10.0.0.1 host=a.b-c.example if=eth0 dns=10.0.0.53"},
    {"10.0.0.2::10.0.0.1:24::eth0:none:10.0.0.53:9.9.9.9", 0,
     "static 10.0.0.2/24 gw=10.0.0.1 if=eth0 dns=10.0.0.53,9.9.9.9"},
    {"10.0.0.2::10.0.0.1:24::eth0:none::9.9.9.9", 0,
     "static 10.0.0.2/24 gw=10.0.0.1 if=eth0 dns=9.9.9.9"},
    {"10.0.0.2::10.0.0.1:24::eth0:none:", 0, "static 10.0.0.2/24 gw=10.0.0.1 if=eth0"},
    {"10.0.0.2::10.0.0.1:24::eth0:none::", 0, "static 10.0.0.2/24 gw=10.0.0.1 if=eth0"},
    {"203.0.113.7::198.51.100.1:32::eth0:none", 0, "static 203.0.113.7/32 gw=198.51.100.1 if=eth0"},
    {"10.0.0.0::10.0.0.1:31::eth0:none", 0, "static 10.0.0.0/31 gw=10.0.0.1 if=eth0"},
    {"10.0.0.2::10.0.0.1:1::eth0:none", 0, "static 10.0.0.2/1 gw=10.0.0.1 if=eth0"},
    {"10.0.0.2::10.0.0.1:128.0.0.0::eth0:none", 0, "static 10.0.0.2/1 gw=10.0.0.1 if=eth0"},
    {"10.0.0.2::10.0.0.1:255.255.255.255::eth0:none", 0, "static 10.0.0.2/32 gw=10.0.0.1 if=eth0"},

    /* the static form: field count, method field, extra fields */
    {"10.0.0.2::10.0.0.1:24:node1:eth0", -EINVAL, FORMS " (6 fields given, the static form has 7)"},
    {"10.0.0.2", -EINVAL, FORMS ", got '10.0.0.2'"},
    {"10.0.0.2::10.0.0.1:24:node1:eth0:", -EINVAL,
     "7th field '' must be none or off for a static address"},
    {"10.0.0.2::10.0.0.1:24:node1:eth0:static", -EINVAL,
     "7th field 'static' must be none or off for a static address"},
    {"10.0.0.2::10.0.0.1:24:node1:eth0:dhcp", -EOPNOTSUPP,
     "an address with dhcp is not supported: write ip=<interface>:dhcp or end the static form "
     "with none"},
    {"10.0.0.2::10.0.0.1:24:node1:eth0:none:1500", -EOPNOTSUPP, NO_MTU},
    {"10.0.0.2::10.0.0.1:24:node1:eth0:none:1500:52:54:00:12:34:56", -EOPNOTSUPP, NO_MTU},
    {"10.0.0.2::10.0.0.1:24:node1:eth0:none:1.1.1.1:8.8.8.8:9.9.9.9", -EINVAL,
     "10 fields, at most 9 "
     "(<client-IP>:[<peer>]:<gateway-IP>:<netmask>:<client_hostname>:<interface>:none:<dns1>:"
     "<dns2>)"},
    {"1:2:3:4:5:6:7:8:9:10:11:12:13:14:15:16", -EINVAL,
     "7th field '7' must be none or off for a static address"},
    {"1:2:3:4:5:6:7:8:9:10:11:12:13:14:15:16:17", -EINVAL, "more than 16 fields"},

    /* the static form: addresses */
    {"10.0.0.256::10.0.0.1:24::eth0:none", -EINVAL,
     "client address '10.0.0.256' is not an IPv4 address"},
    {"10.0.0::10.0.0.1:24::eth0:none", -EINVAL, "client address '10.0.0' is not an IPv4 address"},
    {"10.0.0.2.5::10.0.0.1:24::eth0:none", -EINVAL,
     "client address '10.0.0.2.5' is not an IPv4 address"},
    {"010.0.0.2::10.0.0.1:24::eth0:none", -EINVAL,
     "client address '010.0.0.2' is not an IPv4 address"},
    {"10.0.0.02::10.0.0.1:24::eth0:none", -EINVAL,
     "client address '10.0.0.02' is not an IPv4 address"},
    {"0x0a.0.0.2::10.0.0.1:24::eth0:none", -EINVAL,
     "client address '0x0a.0.0.2' is not an IPv4 address"},
    {"10.0.0.2 ::10.0.0.1:24::eth0:none", -EINVAL,
     "client address '10.0.0.2 ' is not an IPv4 address"},
    {"10.0.0.0002::10.0.0.1:24::eth0:none", -EINVAL,
     "client address '10.0.0.0002' is not an IPv4 address"},
    {"::10.0.0.1:24::eth0:none", -EINVAL, "client address '' is not an IPv4 address"},
    {"0.0.0.0::10.0.0.1:24::eth0:none", -EINVAL, "client address 0.0.0.0 " NOT_HOST},
    {"127.0.0.2::10.0.0.1:8::eth0:none", -EINVAL, "client address 127.0.0.2 " NOT_HOST},
    {"224.0.0.5::10.0.0.1:24::eth0:none", -EINVAL, "client address 224.0.0.5 " NOT_HOST},
    {"255.255.255.255::10.0.0.1:24::eth0:none", -EINVAL,
     "client address 255.255.255.255 " NOT_HOST},
    {"10.0.0.0::10.0.0.1:24::eth0:none", -EINVAL,
     "client address 10.0.0.0 is the network address of /24"},
    {"10.0.0.255::10.0.0.1:24::eth0:none", -EINVAL,
     "client address 10.0.0.255 is the broadcast address of /24"},
    {"10.0.0.3::10.0.0.1:30::eth0:none", -EINVAL,
     "client address 10.0.0.3 is the broadcast address of /30"},
    {"10.0.0.2:10.0.0.9:10.0.0.1:24::eth0:none", -EOPNOTSUPP,
     "a peer address (point-to-point) is not supported, leave the 2nd field empty"},
    {"10.0.0.2::10.0.0:24::eth0:none", -EINVAL, "gateway '10.0.0' is not an IPv4 address"},
    {"10.0.0.2::0.0.0.0:24::eth0:none", -EINVAL, "gateway 0.0.0.0 " NOT_HOST},
    {"10.0.0.2::10.0.0.2:24::eth0:none", -EINVAL, "gateway 10.0.0.2 is the client address"},
    {"10.0.0.2::10.0.0.1:24::eth0:none:8.8.8", -EINVAL,
     "DNS server '8.8.8' is not an IPv4 address"},
    {"10.0.0.2::10.0.0.1:24::eth0:none:1.1.1.1:127.0.0.53", -EINVAL,
     "DNS server 127.0.0.53 " NOT_HOST},

    /* the static form: netmask */
    {"10.0.0.2::10.0.0.1:::eth0:none", -EINVAL,
     "netmask is empty (a dotted quad or a prefix length 1..32)"},
    {"10.0.0.2::10.0.0.1:0::eth0:none", -EINVAL, "netmask '0" BAD_MASK},
    {"10.0.0.2::10.0.0.1:33::eth0:none", -EINVAL, "netmask '33" BAD_MASK},
    {"10.0.0.2::10.0.0.1:/24::eth0:none", -EINVAL, "netmask '/24" BAD_MASK},
    {"10.0.0.2::10.0.0.1:-8::eth0:none", -EINVAL, "netmask '-8" BAD_MASK},
    {"10.0.0.2::10.0.0.1:255.255.256.0::eth0:none", -EINVAL, "netmask '255.255.256.0" BAD_MASK},
    {"10.0.0.2::10.0.0.1:255.0.255.0::eth0:none", -EINVAL, "netmask 255.0.255.0 is not contiguous"},
    {"10.0.0.2::10.0.0.1:0.0.0.255::eth0:none", -EINVAL, "netmask 0.0.0.255 is not contiguous"},
    {"10.0.0.2::10.0.0.1:0.0.0.0::eth0:none", -EINVAL, "netmask 0.0.0.0 leaves no network"},

    /* the static form: hostname and interface */
    {"10.0.0.2::10.0.0.1:24:-node:eth0:none", -EINVAL,
     "hostname '-node' is not a host name (letters, digits and inner hyphens, labels separated "
     "by dots)"},
    {"10.0.0.2::10.0.0.1:24:node-:eth0:none", -EINVAL,
     "hostname 'node-' is not a host name (letters, digits and inner hyphens, labels separated "
     "by dots)"},
    {"10.0.0.2::10.0.0.1:24:a..b:eth0:none", -EINVAL,
     "hostname 'a..b' is not a host name (letters, digits and inner hyphens, labels separated "
     "by dots)"},
    {"10.0.0.2::10.0.0.1:24:node_1:eth0:none", -EINVAL,
     "hostname 'node_1' is not a host name (letters, digits and inner hyphens, labels separated "
     "by dots)"},
    {"10.0.0.2::10.0.0.1:24:node.:eth0:none", -EINVAL,
     "hostname 'node.' is not a host name (letters, digits and inner hyphens, labels separated "
     "by dots)"},
    {"10.0.0.2::10.0.0.1:24:"
     "a123456789b123456789c123456789d123456789e123456789f123456789g123:eth0:none",
     -EINVAL,
     "hostname 'a123456789b123456789c123456789d123456789e123456789f123456789...' is not a host "
     "name (letters, digits and inner hyphens, labels separated by dots)"},
    {"10.0.0.2::10.0.0.1:24:"
     "a123456789b123456789c123456789d123456789e123456789f123456789g12:eth0:none",
     0,
     "static 10.0.0.2/24 gw=10.0.0.1 "
     "host=a123456789b123456789c123456789d123456789e123456789f123456789g12 if=eth0"},
    {"10.0.0.2::10.0.0.1:24:"
     "a123456789.b123456789.c123456789.d123456789.e123456789.f123456789:eth0:none",
     -EINVAL,
     "hostname 'a123456789.b123456789.c123456789.d123456789.e123456789.f1234...' is longer than 64 "
     "characters"},
    {"10.0.0.2::10.0.0.1:24::abcdefghijklmnop:none", -EINVAL,
     "interface name 'abcdefghijklmnop' is longer than 15 characters"},
    {"10.0.0.2::10.0.0.1:24::e\tth0:none", -EINVAL,
     "interface name 'e\\x09th0' has a character no interface name can have"},
};

static const char *dump(const struct ip_config *c, char *buf, size_t size)
{
        char a[INET_ADDRSTRLEN];
        size_t l;

        switch (c->method) {
        case IP_CONFIG_OFF:
                snprintf(buf, size, "off");
                return buf;
        case IP_CONFIG_DHCP:
                snprintf(buf, size, "dhcp");
                break;
        case IP_CONFIG_STATIC:
                snprintf(buf, size, "static %s/%u", inet_ntop(AF_INET, &c->address, a, sizeof(a)),
                         c->prefix_len);
                if (c->gateway.s_addr != INADDR_ANY) {
                        l = strlen(buf);
                        snprintf(buf + l, size - l, " gw=%s",
                                 inet_ntop(AF_INET, &c->gateway, a, sizeof(a)));
                }
                if (c->hostname[0]) {
                        l = strlen(buf);
                        snprintf(buf + l, size - l, " host=%s", c->hostname);
                }
                break;
        }
        if (c->ifname[0]) {
                l = strlen(buf);
                snprintf(buf + l, size - l, " if=%s", c->ifname);
        }
        for (unsigned i = 0; i < c->n_dns; i++) {
                l = strlen(buf);
                snprintf(buf + l, size - l, "%s%s", i == 0 ? " dns=" : ",",
                         inet_ntop(AF_INET, &c->dns[i], a, sizeof(a)));
        }
        return buf;
}

static void test_rows(void **state)
{
        (void) state;

        for (size_t i = 0; i < ELEMENTSOF(rows); i++) {
                struct ip_config c;
                char err[512] = "", out[512];
                int r;

                memset(&c, 0xaa, sizeof(c));
                r = ip_config_parse(rows[i].input, &c, err, sizeof(err));
                check_row("row", i, r, r == 0 ? dump(&c, out, sizeof(out)) : err, rows[i].ret,
                          rows[i].expect);
        }
}

/* ret is written only on success. */
static void test_ret_untouched_on_failure(void **state)
{
        struct ip_config c, before;

        (void) state;
        memset(&c, 0x5a, sizeof(c));
        before = c;
        assert_int_equal(ip_config_parse("10.0.0.2::10.0.0.1:24::eth0:none:1.1.1.1:x", &c, NULL, 0),
                         -EINVAL);
        assert_memory_equal(&c, &before, sizeof(c));
}

static void test_long_value(void **state)
{
        char v[IP_CONFIG_VALUE_MAX + 2], err[128];
        struct ip_config c;

        (void) state;
        memset(v, 'a', sizeof(v));
        v[IP_CONFIG_VALUE_MAX + 1] = '\0';
        assert_int_equal(ip_config_parse(v, &c, err, sizeof(err)), -EINVAL);
        assert_string_equal(err, "longer than 256 bytes");
        v[IP_CONFIG_VALUE_MAX] = '\0';
        assert_int_equal(ip_config_parse(v, &c, err, sizeof(err)), -EINVAL);
}

static void test_netmask_helpers(void **state)
{
        (void) state;
        for (unsigned p = 0; p <= 32; p++)
                assert_int_equal(ip_config_netmask_prefix(ip_config_prefix_netmask(p)), (int) p);
        assert_int_equal(ip_config_netmask_prefix((struct in_addr){htonl(0xfffffeffU)}), -EINVAL);
        assert_int_equal(ip_config_netmask_prefix((struct in_addr){htonl(1U)}), -EINVAL);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_rows),
            cmocka_unit_test(test_ret_untouched_on_failure),
            cmocka_unit_test(test_long_value),
            cmocka_unit_test(test_netmask_helpers),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
