/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ip=: dracut's syntax split into fields and checked field by field, so that every refusal
 * names the field that is wrong. */

#include <arpa/inet.h>

#include "net/ip-config.h"
#include "lib/parse-util.h"

/* Room for a field quoted in a message, escaped and cut if need be. */
#define SHOWN_SIZE 64

/* dracut's static form has 7 fields, then either <dns1>:<dns2> or <mtu>:<macaddr>; a MAC
 * address brings 5 more colons. Anything longer is malformed whichever way it is read. */
#define MAX_FIELDS 16U

#define STATIC_FORM "<client-IP>:[<peer>]:<gateway-IP>:<netmask>:<client_hostname>:<interface>:none"

enum method_word {
        WORD_NONE,
        WORD_DHCP,
        WORD_OFF,
        WORD_IPV6,
        WORD_UNSUPPORTED,
};

static enum method_word method_word(const char *s)
{
        static const struct {
                const char *name;
                enum method_word word;
        } words[] = {
            {"dhcp", WORD_DHCP},
            {"on", WORD_DHCP},
            {"any", WORD_DHCP},
            {"off", WORD_OFF},
            {"none", WORD_OFF},
            {"dhcp6", WORD_IPV6},
            {"auto6", WORD_IPV6},
            {"either6", WORD_IPV6},
            {"link6", WORD_IPV6},
            {"ibft", WORD_UNSUPPORTED},
            {"single-dhcp", WORD_UNSUPPORTED},
        };

        for (size_t i = 0; i < ELEMENTSOF(words); i++)
                if (streq(s, words[i].name))
                        return words[i].word;
        return WORD_NONE;
}

int ip_config_parse_ipv4(const char *s, struct in_addr *ret)
{
        uint32_t a = 0;
        const char *p = s;

        for (unsigned part = 0; part < 4; part++) {
                unsigned v = 0, digits = 0;

                if (part > 0 && *p++ != '.')
                        return -EINVAL;
                for (; *p >= '0' && *p <= '9' && digits < 4; p++, digits++)
                        v = v * 10U + (unsigned) (*p - '0');
                /* "010" is 8 to inet_aton() and 10 to others: refuse what is read two ways. */
                if (digits == 0 || digits > 3 || v > 255 || (digits > 1 && p[-(int) digits] == '0'))
                        return -EINVAL;
                a = a << 8 | v;
        }
        if (*p)
                return -EINVAL;
        ret->s_addr = htonl(a);
        return 0;
}

int ip_config_netmask_prefix(struct in_addr mask)
{
        uint32_t m = ntohl(mask.s_addr);
        int prefix = 0;

        while (prefix < 32 && (m & (UINT32_C(1) << (31 - prefix))))
                prefix++;
        /* Contiguous: the mask is its own prefix's mask, no bit set below the first zero. */
        if (m != ntohl(ip_config_prefix_netmask((unsigned) prefix).s_addr))
                return -EINVAL;
        return prefix;
}

struct in_addr ip_config_prefix_netmask(unsigned prefix_len)
{
        uint32_t m = prefix_len == 0    ? 0
                     : prefix_len >= 32 ? UINT32_MAX
                                        : UINT32_MAX << (32 - prefix_len);

        return (struct in_addr){.s_addr = htonl(m)};
}

bool ip_config_is_host_address(struct in_addr a)
{
        uint32_t h = ntohl(a.s_addr);

        return h >> 24 != 0 && h >> 24 != 127 && h < UINT32_C(0xe0000000);
}

/* As the kernel's dev_valid_name(), and printable ASCII only. */
static int check_ifname(const char *s, char *errbuf, size_t errlen)
{
        char shown[SHOWN_SIZE];

        if (strlen(s) > IP_CONFIG_IFNAME_MAX)
                return parse_error(errbuf, errlen, -EINVAL,
                                   "interface name '%s' is longer than %u characters",
                                   parse_printable(shown, sizeof(shown), s), IP_CONFIG_IFNAME_MAX);
        if (streq(s, ".") || streq(s, ".."))
                return parse_error(errbuf, errlen, -EINVAL, "'%s' is not an interface name", s);
        for (const char *c = s; *c; c++)
                if (*c <= ' ' || *c >= 0x7f || *c == '/')
                        return parse_error(errbuf, errlen, -EINVAL,
                                           "interface name '%s' has a character no interface "
                                           "name can have",
                                           parse_printable(shown, sizeof(shown), s));
        return 0;
}

/* RFC 1123 host names: dot-separated labels of 1..63 letters, digits and inner hyphens. */
static int check_hostname(const char *s, char *errbuf, size_t errlen)
{
        char shown[SHOWN_SIZE];
        size_t label = 0;

        if (strlen(s) > IP_CONFIG_HOSTNAME_MAX)
                return parse_error(
                    errbuf, errlen, -EINVAL, "hostname '%s' is longer than %u characters",
                    parse_printable(shown, sizeof(shown), s), IP_CONFIG_HOSTNAME_MAX);
        for (const char *c = s;; c++) {
                bool alnum = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
                             (*c >= '0' && *c <= '9');

                if (*c == '.' || *c == '\0') {
                        if (label == 0 || c[-1] == '-')
                                break;
                        if (*c == '\0')
                                return 0;
                        label = 0;
                } else if ((alnum || (*c == '-' && label > 0)) && label < 63)
                        label++;
                else
                        break;
        }
        return parse_error(errbuf, errlen, -EINVAL,
                           "hostname '%s' is not a host name (letters, digits and inner hyphens, "
                           "labels separated by dots)",
                           parse_printable(shown, sizeof(shown), s));
}

static int parse_address(const char *what, const char *s, struct in_addr *ret, char *errbuf,
                         size_t errlen)
{
        char shown[SHOWN_SIZE];

        if (ip_config_parse_ipv4(s, ret) < 0)
                return parse_error(errbuf, errlen, -EINVAL, "%s '%s' is not an IPv4 address", what,
                                   parse_printable(shown, sizeof(shown), s));
        if (!ip_config_is_host_address(*ret))
                return parse_error(errbuf, errlen, -EINVAL,
                                   "%s %s is not a host address (0/8, 127/8, multicast, class E "
                                   "and broadcast are not)",
                                   what, s);
        return 0;
}

static int parse_netmask(const char *s, unsigned *ret, char *errbuf, size_t errlen)
{
        char shown[SHOWN_SIZE];
        struct in_addr mask;
        uint64_t v;
        int p;

        parse_printable(shown, sizeof(shown), s);
        if (!*s)
                return parse_error(errbuf, errlen, -EINVAL,
                                   "netmask is empty (a dotted quad or a prefix length 1..32)");
        if (!strchr(s, '.')) {
                if (parse_uint64(s, &v) < 0 || v < 1 || v > 32)
                        return parse_error(errbuf, errlen, -EINVAL,
                                           "netmask '%s' is neither a dotted quad nor a prefix "
                                           "length 1..32",
                                           shown);
                *ret = (unsigned) v;
                return 0;
        }
        if (ip_config_parse_ipv4(s, &mask) < 0)
                return parse_error(errbuf, errlen, -EINVAL,
                                   "netmask '%s' is neither a dotted quad nor a prefix length "
                                   "1..32",
                                   shown);
        p = ip_config_netmask_prefix(mask);
        if (p < 0)
                return parse_error(errbuf, errlen, -EINVAL, "netmask %s is not contiguous", shown);
        if (p == 0)
                return parse_error(errbuf, errlen, -EINVAL, "netmask %s leaves no network", shown);
        *ret = (unsigned) p;
        return 0;
}

static bool all_digits(const char *s)
{
        if (!*s)
                return false;
        for (; *s; s++)
                if (*s < '0' || *s > '9')
                        return false;
        return true;
}

static int parse_static(char **f, size_t n, struct ip_config *c, char *errbuf, size_t errlen)
{
        char shown[SHOWN_SIZE];
        uint32_t addr, mask;
        int r;

        if (n < 7)
                return parse_error(errbuf, errlen, -EINVAL,
                                   "expected dhcp, <interface>:dhcp, off or " STATIC_FORM
                                   " (%zu fields given, the static form has 7)",
                                   n);

        switch (method_word(f[6])) {
        case WORD_OFF:
                break;
        case WORD_DHCP:
                return parse_error(errbuf, errlen, -EOPNOTSUPP,
                                   "an address with %s is not supported: write "
                                   "ip=<interface>:dhcp or end the static form with none",
                                   f[6]);
        case WORD_IPV6:
                return parse_error(errbuf, errlen, -EOPNOTSUPP, "IPv6 (%s) is not supported yet",
                                   f[6]);
        case WORD_UNSUPPORTED:
                return parse_error(errbuf, errlen, -EOPNOTSUPP, "%s is not supported", f[6]);
        case WORD_NONE:
                return parse_error(errbuf, errlen, -EINVAL,
                                   "7th field '%s' must be none or off for a static address",
                                   parse_printable(shown, sizeof(shown), f[6]));
        }

        /* dracut reads a number in the 8th field as an MTU, followed by a MAC address. */
        if (n >= 8 && all_digits(f[7]))
                return parse_error(errbuf, errlen, -EOPNOTSUPP,
                                   "MTU and MAC address fields are not supported");
        if (n > 9)
                return parse_error(errbuf, errlen, -EINVAL,
                                   "%zu fields, at most 9 (" STATIC_FORM ":<dns1>:<dns2>)", n);

        r = parse_address("client address", f[0], &c->address, errbuf, errlen);
        if (r < 0)
                return r;
        if (*f[1])
                return parse_error(errbuf, errlen, -EOPNOTSUPP,
                                   "a peer address (point-to-point) is not supported, leave the "
                                   "2nd field empty");
        r = parse_netmask(f[3], &c->prefix_len, errbuf, errlen);
        if (r < 0)
                return r;

        addr = ntohl(c->address.s_addr);
        mask = ntohl(ip_config_prefix_netmask(c->prefix_len).s_addr);
        /* The network's own address and its broadcast are nobody's, except in /31 and /32. */
        if (c->prefix_len <= 30 && ((addr & ~mask) == 0 || (addr & ~mask) == ~mask))
                return parse_error(errbuf, errlen, -EINVAL,
                                   "client address %s is the %s address of /%u", f[0],
                                   (addr & ~mask) == 0 ? "network" : "broadcast", c->prefix_len);

        if (*f[2]) {
                r = parse_address("gateway", f[2], &c->gateway, errbuf, errlen);
                if (r < 0)
                        return r;
                if (c->gateway.s_addr == c->address.s_addr)
                        return parse_error(errbuf, errlen, -EINVAL,
                                           "gateway %s is the client address", f[2]);
        }
        if (*f[4]) {
                r = check_hostname(f[4], errbuf, errlen);
                if (r < 0)
                        return r;
                strcpy(c->hostname, f[4]);
        }
        if (*f[5]) {
                r = check_ifname(f[5], errbuf, errlen);
                if (r < 0)
                        return r;
                strcpy(c->ifname, f[5]);
        }
        for (size_t i = 7; i < n; i++) {
                if (!*f[i])
                        continue;
                r = parse_address("DNS server", f[i], &c->dns[c->n_dns], errbuf, errlen);
                if (r < 0)
                        return r;
                c->n_dns++;
        }
        c->method = IP_CONFIG_STATIC;
        return 0;
}

int ip_config_parse(const char *value, struct ip_config *ret, char *errbuf, size_t errlen)
{
        char buf[IP_CONFIG_VALUE_MAX + 1], shown[SHOWN_SIZE];
        struct ip_config c = {.method = IP_CONFIG_OFF};
        char *f[MAX_FIELDS];
        size_t n = 0;
        int r;

        if (!*value)
                return parse_error(errbuf, errlen, -EINVAL, "empty value");
        if (strlen(value) > IP_CONFIG_VALUE_MAX)
                return parse_error(errbuf, errlen, -EINVAL, "longer than %u bytes",
                                   IP_CONFIG_VALUE_MAX);
        /* dracut writes IPv6 addresses in brackets, since they are full of colons. */
        if (strchr(value, '['))
                return parse_error(errbuf, errlen, -EOPNOTSUPP,
                                   "IPv6 addresses are not supported yet");

        strcpy(buf, value);
        for (char *p = buf;;) {
                char *colon = strchr(p, ':');

                if (n == MAX_FIELDS)
                        return parse_error(errbuf, errlen, -EINVAL, "more than %u fields",
                                           MAX_FIELDS);
                f[n++] = p;
                if (!colon)
                        break;
                *colon = '\0';
                p = colon + 1;
        }

        if (n == 1) {
                switch (method_word(f[0])) {
                case WORD_DHCP:
                        c.method = IP_CONFIG_DHCP;
                        break;
                case WORD_OFF:
                        break;
                case WORD_IPV6:
                        return parse_error(errbuf, errlen, -EOPNOTSUPP,
                                           "IPv6 (%s) is not supported yet", f[0]);
                case WORD_UNSUPPORTED:
                        return parse_error(errbuf, errlen, -EOPNOTSUPP, "%s is not supported",
                                           f[0]);
                case WORD_NONE:
                        return parse_error(errbuf, errlen, -EINVAL,
                                           "expected dhcp, <interface>:dhcp, off or " STATIC_FORM
                                           ", got '%s'",
                                           parse_printable(shown, sizeof(shown), f[0]));
                }
                *ret = c;
                return 0;
        }

        /* <interface>:<method>[:<mtu>[:<macaddr>]]: the static form has a peer there, never a
         * method word. */
        switch (method_word(f[1])) {
        case WORD_NONE:
                break;
        case WORD_DHCP:
                if (!*f[0])
                        return parse_error(errbuf, errlen, -EINVAL,
                                           "empty interface name before ':%s'", f[1]);
                r = check_ifname(f[0], errbuf, errlen);
                if (r < 0)
                        return r;
                if (n > 2)
                        return parse_error(errbuf, errlen, -EOPNOTSUPP,
                                           "MTU and MAC address fields are not supported");
                c.method = IP_CONFIG_DHCP;
                strcpy(c.ifname, f[0]);
                *ret = c;
                return 0;
        case WORD_OFF:
                return parse_error(errbuf, errlen, -EINVAL,
                                   "%s:%s: an interface takes dhcp; ip=off turns the network off",
                                   parse_printable(shown, sizeof(shown), f[0]), f[1]);
        case WORD_IPV6:
                return parse_error(errbuf, errlen, -EOPNOTSUPP, "IPv6 (%s) is not supported yet",
                                   f[1]);
        case WORD_UNSUPPORTED:
                return parse_error(errbuf, errlen, -EOPNOTSUPP, "%s is not supported", f[1]);
        }

        r = parse_static(f, n, &c, errbuf, errlen);
        if (r < 0)
                return r;
        *ret = c;
        return 0;
}
