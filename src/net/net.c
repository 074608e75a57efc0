/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Network bring-up: waiting for a link with carrier, the DHCPv4 exchange over an AF_PACKET
 * socket (the interface has no address yet, so no UDP socket could receive the reply), and
 * putting the result in place. */

#include <arpa/inet.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/if_packet.h>
#include <linux/rtnetlink.h>
#include <net/ethernet.h>
#include <net/if_arp.h>
#include <poll.h>
#include <stdio.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "lib/log.h"
#include "net/net.h"
#include "lib/parse-util.h"
#include "net/rtnl.h"

#ifndef IFF_LOWER_UP
#define IFF_LOWER_UP 0x10000
#endif

/* How often the link list is read again although no notification came (one may be lost when
 * the socket overflows). */
#define LINK_RECHECK_USEC 500000U

/* After a NAK the exchange starts over, but not at once: a server that NAKs everything must not
 * make the gate flood the network. */
#define NAK_DELAY_USEC 1000000U

/* Big enough for any reply on a 1500-byte MTU; a bigger packet is not a DHCP reply we take. */
#define PACKET_BUFFER_SIZE 2048U

#define MESSAGE_SIZE 256

/* "12.3": a duration for messages, in seconds rounded to one decimal. */
static const char *seconds(char buf[32], uint64_t usec)
{
        uint64_t tenths = (usec + 50000U) / 100000U;

        snprintf(buf, 32, "%llu.%llu", (unsigned long long) (tenths / 10U),
                 (unsigned long long) (tenths % 10U));
        return buf;
}

static const char *ntoa(struct in_addr a, char buf[INET_ADDRSTRLEN])
{
        return inet_ntop(AF_INET, &a, buf, INET_ADDRSTRLEN);
}

/* The xid and the jitter need not be secret, only hard to guess for someone off the link; the
 * kernel's pool may not be initialised this early, so it is asked without blocking and mixed
 * with the clock otherwise. */
static uint64_t random_u64(void)
{
        static uint64_t state;
        uint64_t v, z;

        if (getrandom(&v, sizeof(v), GRND_NONBLOCK) == (ssize_t) sizeof(v))
                return v;
        /* splitmix64 over the clock, mixed into what came before */
        state += now_usec() + UINT64_C(0x9e3779b97f4a7c15);
        z = state;
        z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
        z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
        return z ^ (z >> 31);
}

/* Waits for a notification on mon or until the earlier of deadline and the recheck time. */
static int wait_for_change(struct rtnl *mon, uint64_t deadline)
{
        uint64_t now = now_usec(), until = deadline, ms;
        struct pollfd p = {.fd = mon->fd, .events = POLLIN};
        int r;

        if (until > now + LINK_RECHECK_USEC)
                until = now + LINK_RECHECK_USEC;
        ms = until > now ? (until - now + 999U) / 1000U : 0;
        if (poll(&p, 1, (int) ms) < 0 && errno != EINTR)
                return negative_errno();
        r = rtnl_drain(mon);
        return r < 0 ? r : 0;
}

static void list_names(const struct rtnl_link *links, size_t n, bool ethernet_only, char *buf,
                       size_t size)
{
        size_t l = 0;

        buf[0] = '\0';
        for (size_t i = 0; i < n && l < size; i++) {
                if (ethernet_only && (links[i].type != ARPHRD_ETHER || !links[i].has_mac))
                        continue;
                l += (size_t) snprintf(buf + l, size - l, "%s%s", l ? ", " : "", links[i].ifname);
        }
        if (!buf[0])
                snprintf(buf, size, "none");
}

/* Links set up only to see whether they have carrier are set down again once one is chosen (or
 * none is), so that the new root finds them as the kernel left them. */
struct raised {
        int ifindex[RTNL_LINKS_MAX];
        size_t n;
};

static void lower_raised(struct rtnl *rt, const struct raised *raised, int keep)
{
        for (size_t i = 0; i < raised->n; i++)
                if (raised->ifindex[i] != keep)
                        (void) rtnl_link_set_up(rt, raised->ifindex[i], false);
}

static bool is_candidate(const struct rtnl_link *l, const struct ip_config *cfg)
{
        if (cfg->ifname[0])
                return streq(l->ifname, cfg->ifname);
        return l->type == ARPHRD_ETHER && l->has_mac && !(l->flags & IFF_LOOPBACK);
}

/* Sets up lo and finds the link to configure, waiting for it and its carrier. */
static int pick_link(struct rtnl *rt, struct rtnl *mon, const struct ip_config *cfg, uint64_t start,
                     uint64_t deadline, struct rtnl_link *ret, char *errbuf, size_t errlen)
{
        struct rtnl_link links[RTNL_LINKS_MAX];
        struct raised raised = {.n = 0};
        bool lo_up = false, named_seen = false;
        char names[128], s[32];
        int n, r;

        for (;;) {
                const struct rtnl_link *chosen = NULL;

                n = rtnl_links(rt, links, ELEMENTSOF(links));
                if (n < 0)
                        return parse_error(errbuf, errlen, n, "cannot list the network links: %s",
                                           strerror(-n));

                for (int i = 0; i < n; i++) {
                        const struct rtnl_link *l = &links[i];

                        /* Loopback first: local services and the resolver may need it. */
                        if ((l->flags & IFF_LOOPBACK) && !lo_up) {
                                r = rtnl_link_set_up(rt, l->ifindex, true);
                                if (r < 0)
                                        return parse_error(errbuf, errlen, r,
                                                           "cannot set %s up: %s", l->ifname,
                                                           strerror(-r));
                                lo_up = true;
                        }
                        if (!is_candidate(l, cfg))
                                continue;
                        named_seen = true;
                        if (l->flags & IFF_LOOPBACK)
                                return parse_error(errbuf, errlen, -EINVAL,
                                                   "%s is the loopback interface", l->ifname);
                        if (cfg->method == IP_CONFIG_DHCP && !l->has_mac)
                                return parse_error(errbuf, errlen, -EINVAL,
                                                   "%s has no Ethernet address, which DHCP "
                                                   "needs",
                                                   l->ifname);
                        if (!(l->flags & IFF_UP)) {
                                r = rtnl_link_set_up(rt, l->ifindex, true);
                                if (r < 0) {
                                        lower_raised(rt, &raised, 0);
                                        return parse_error(errbuf, errlen, r,
                                                           "cannot set %s up: %s", l->ifname,
                                                           strerror(-r));
                                }
                                if (raised.n < ELEMENTSOF(raised.ifindex))
                                        raised.ifindex[raised.n++] = l->ifindex;
                                continue; /* carrier comes later, announced by a notification */
                        }
                        if ((l->flags & IFF_LOWER_UP) && (!chosen || l->ifindex < chosen->ifindex))
                                chosen = l;
                }

                if (chosen) {
                        lower_raised(rt, &raised, chosen->ifindex);
                        *ret = *chosen;
                        return 0;
                }

                if (now_usec() >= deadline)
                        break;
                r = wait_for_change(mon, deadline);
                if (r < 0) {
                        lower_raised(rt, &raised, 0);
                        return parse_error(errbuf, errlen, r, "cannot wait for link changes: %s",
                                           strerror(-r));
                }
        }

        lower_raised(rt, &raised, 0);
        seconds(s, now_usec() - start);
        if (cfg->ifname[0] && !named_seen) {
                list_names(links, (size_t) n, false, names, sizeof(names));
                return parse_error(errbuf, errlen, -ENODEV,
                                   "no interface %s appeared within %s s (there are: %s)",
                                   cfg->ifname, s, names);
        }
        if (cfg->ifname[0])
                return parse_error(errbuf, errlen, -ENOLINK, "no carrier on %s after %s s",
                                   cfg->ifname, s);
        list_names(links, (size_t) n, true, names, sizeof(names));
        if (!named_seen)
                return parse_error(errbuf, errlen, -ENODEV, "no Ethernet link appeared within %s s",
                                   s);
        return parse_error(errbuf, errlen, -ENOLINK,
                           "no carrier on any Ethernet link (%s) after %s s", names, s);
}

/* One DHCP exchange on one link. */
struct exchange {
        int fd;
        const struct rtnl_link *link;
        uint32_t xid;
        uint16_t secs; /* of the last DISCOVER; a REQUEST repeats it (RFC 2131 4.4.1) */
        uint64_t start;
        struct dhcp_reply offer; /* the one being requested */
        unsigned discovers, requests, offers, naks, invalid;
        char last_invalid[MESSAGE_SIZE];
};

static int packet_socket(int ifindex)
{
        struct sockaddr_ll sa = {
            .sll_family = AF_PACKET,
            .sll_protocol = htons(ETH_P_IP),
            .sll_ifindex = ifindex,
        };
        _cleanup_close_ int fd = -1;
        int one = 1;

        /* Protocol 0: nothing is received until bind() names the protocol and the link, so no
         * packet of another link is queued, and the kernel has no hook to tear down and wait
         * for (synchronize_net()) when bind() sets one up. */
        fd = socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
                return negative_errno();
        /* Tells whether the kernel left a UDP checksum for hardware to fill in (veth does). */
        if (setsockopt(fd, SOL_PACKET, PACKET_AUXDATA, &one, sizeof(one)) < 0)
                return negative_errno();
        if (bind(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0)
                return negative_errno();
        return TAKE_FD(fd);
}

static int send_message(struct exchange *ex, enum dhcp_type type)
{
        struct dhcp_request req = {.type = type, .xid = ex->xid, .secs = ex->secs};
        struct sockaddr_ll to = {
            .sll_family = AF_PACKET,
            .sll_protocol = htons(ETH_P_IP),
            .sll_ifindex = ex->link->ifindex,
            .sll_halen = 6,
            .sll_addr = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff},
        };
        uint8_t buf[DHCP_PACKET_MAX];
        int n;

        memcpy(req.mac, ex->link->mac, 6);
        if (type == DHCP_REQUEST) {
                req.requested = ex->offer.address;
                req.server_id = ex->offer.server_id;
        }
        n = dhcp_build(&req, buf, sizeof(buf));
        if (n < 0)
                return n;
        if (sendto(ex->fd, buf, (size_t) n, 0, (struct sockaddr *) &to, sizeof(to)) < 0)
                return negative_errno();
        if (type == DHCP_DISCOVER)
                ex->discovers++;
        else
                ex->requests++;
        return 0;
}

static void refused(struct exchange *ex, const char *why)
{
        ex->invalid++;
        snprintf(ex->last_invalid, sizeof(ex->last_invalid), "%s", why);
}

/* Reads one packet. @return 1 with a reply to our xid and MAC in ret, 0 for a packet that is
 * not one (skipped, a malformed one counted), -EAGAIN when none is queued, negative errno */
static int receive_reply(struct exchange *ex, struct dhcp_reply *ret)
{
        union {
                struct cmsghdr align;
                uint8_t buf[CMSG_SPACE(sizeof(struct tpacket_auxdata))];
        } control;
        uint8_t pkt[PACKET_BUFFER_SIZE];
        struct sockaddr_ll from;
        struct iovec iov = {.iov_base = pkt, .iov_len = sizeof(pkt)};
        struct msghdr mh = {
            .msg_name = &from,
            .msg_namelen = sizeof(from),
            .msg_iov = &iov,
            .msg_iovlen = 1,
            .msg_control = control.buf,
            .msg_controllen = sizeof(control.buf),
        };
        char why[MESSAGE_SIZE];
        const uint8_t *payload;
        bool check_sum = true;
        size_t plen;
        ssize_t n;
        int r;

        n = recvmsg(ex->fd, &mh, MSG_DONTWAIT);
        if (n < 0)
                return negative_errno();
        /* Our own broadcasts come back to a packet socket. */
        if (from.sll_pkttype == PACKET_OUTGOING || from.sll_ifindex != ex->link->ifindex)
                return 0;
        if (mh.msg_flags & MSG_TRUNC) {
                refused(ex, "a packet larger than any DHCP reply");
                return 0;
        }
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
                if (c->cmsg_level == SOL_PACKET && c->cmsg_type == PACKET_AUXDATA &&
                    c->cmsg_len >= CMSG_LEN(sizeof(struct tpacket_auxdata))) {
                        struct tpacket_auxdata aux;

                        memcpy(&aux, CMSG_DATA(c), sizeof(aux));
                        if (aux.tp_status & TP_STATUS_CSUMNOTREADY)
                                check_sum = false;
                }

        r = dhcp_udp_payload(pkt, (size_t) n, check_sum, &payload, &plen, why, sizeof(why));
        if (r == -ENOMSG)
                return 0;
        if (r < 0) {
                refused(ex, why);
                return 0;
        }
        r = dhcp_parse_reply(payload, plen, ex->xid, ex->link->mac, ret, why, sizeof(why));
        if (r == -ENOMSG)
                return 0;
        if (r < 0) {
                refused(ex, why);
                return 0;
        }
        return 1;
}

static uint64_t retransmit_timeout(unsigned attempt)
{
        uint64_t t = NET_DHCP_FIRST_TIMEOUT_USEC;
        uint64_t jitter = random_u64() % (2U * NET_DHCP_JITTER_USEC + 1U);

        for (unsigned i = 0; i < attempt && t < NET_DHCP_MAX_TIMEOUT_USEC; i++)
                t *= 2;
        if (t > NET_DHCP_MAX_TIMEOUT_USEC)
                t = NET_DHCP_MAX_TIMEOUT_USEC;
        return t + jitter - NET_DHCP_JITTER_USEC;
}

static void new_transaction(struct exchange *ex)
{
        ex->xid = (uint32_t) random_u64();
}

static int timed_out(const struct exchange *ex, char *errbuf, size_t errlen)
{
        char msg[2 * MESSAGE_SIZE], s[32], a[INET_ADDRSTRLEN];
        const char *name = ex->link->ifname;

        seconds(s, now_usec() - ex->start);
        if (ex->naks > 0)
                snprintf(msg, sizeof(msg),
                         "no DHCP lease on %s after %s s: the server refused (NAK) %u times, the "
                         "last time %s",
                         name, s, ex->naks, ntoa(ex->offer.server_id, a));
        else if (ex->offers > 0)
                snprintf(msg, sizeof(msg),
                         "no DHCP acknowledgement from %s on %s after %u requests in %s s",
                         ntoa(ex->offer.server_id, a), name, ex->requests, s);
        else
                snprintf(msg, sizeof(msg), "no DHCP offer on %s after %u tries in %s s", name,
                         ex->discovers, s);
        if (ex->invalid > 0)
                return parse_error(errbuf, errlen, -ETIMEDOUT,
                                   "%s (%u invalid replies ignored, the last: %s)", msg,
                                   ex->invalid, ex->last_invalid);
        return parse_error(errbuf, errlen, -ETIMEDOUT, "%s", msg);
}

/* DISCOVER until an OFFER, REQUEST it until the same server ACKs or NAKs, each message
 * retransmitted on the RFC's schedule, all of it before deadline. */
static int dhcp_exchange(struct exchange *ex, uint64_t deadline, struct dhcp_reply *ret,
                         char *errbuf, size_t errlen)
{
        enum { SELECTING, REQUESTING } state = SELECTING;
        uint64_t next_send = now_usec();
        unsigned attempt = 0;
        int r;

        new_transaction(ex);
        for (;;) {
                uint64_t now = now_usec(), until, ms;
                struct pollfd p = {.fd = ex->fd, .events = POLLIN};

                if (now >= deadline)
                        return timed_out(ex, errbuf, errlen);
                if (now >= next_send) {
                        if (state == REQUESTING && attempt >= NET_DHCP_REQUEST_TRIES) {
                                /* The server went quiet: look for one again (RFC 2131 3.1.5). */
                                state = SELECTING;
                                attempt = 0;
                                new_transaction(ex);
                        }
                        if (state == SELECTING) {
                                uint64_t secs = (now - ex->start) / 1000000U;

                                ex->secs = secs > UINT16_MAX ? UINT16_MAX : (uint16_t) secs;
                        }
                        r = send_message(ex, state == SELECTING ? DHCP_DISCOVER : DHCP_REQUEST);
                        if (r < 0)
                                return parse_error(errbuf, errlen, r,
                                                   "cannot send a DHCP message on %s: %s",
                                                   ex->link->ifname, strerror(-r));
                        next_send = now + retransmit_timeout(attempt++);
                }

                until = next_send < deadline ? next_send : deadline;
                ms = (until - now + 999U) / 1000U;
                if (poll(&p, 1, ms > INT_MAX ? INT_MAX : (int) ms) < 0 && errno != EINTR)
                        return negative_errno();

                for (;;) {
                        struct dhcp_reply reply;
                        char a[INET_ADDRSTRLEN], b[INET_ADDRSTRLEN], why[MESSAGE_SIZE];

                        r = receive_reply(ex, &reply);
                        if (r == -EAGAIN || r == -EWOULDBLOCK)
                                break;
                        if (r < 0)
                                return parse_error(errbuf, errlen, r, "cannot receive on %s: %s",
                                                   ex->link->ifname, strerror(-r));
                        if (r == 0)
                                continue;

                        if (state == SELECTING && reply.type == DHCP_OFFER) {
                                /* The first offer is as good as any. */
                                ex->offer = reply;
                                ex->offers++;
                                state = REQUESTING;
                                attempt = 0;
                                next_send = now_usec();
                                break;
                        }
                        if (state != REQUESTING ||
                            reply.server_id.s_addr != ex->offer.server_id.s_addr ||
                            reply.type == DHCP_OFFER)
                                continue;
                        if (reply.type == DHCP_NAK) {
                                ex->naks++;
                                state = SELECTING;
                                attempt = 0;
                                new_transaction(ex);
                                next_send = now_usec() + NAK_DELAY_USEC;
                                break;
                        }
                        if (reply.address.s_addr != ex->offer.address.s_addr) {
                                snprintf(why, sizeof(why), "an ACK for %s after the offer of %s",
                                         ntoa(reply.address, a), ntoa(ex->offer.address, b));
                                refused(ex, why);
                                continue;
                        }
                        *ret = reply;
                        return 0;
                }
        }
}

/* RFC 2131 leaves the mask optional; without one, the address's class decides, as elsewhere. */
static unsigned classful_prefix(struct in_addr a)
{
        uint32_t h = ntohl(a.s_addr);

        return h < UINT32_C(0x80000000) ? 8 : h < UINT32_C(0xc0000000) ? 16 : 24;
}

static int run_dhcp(const struct rtnl_link *link, uint64_t deadline, struct net_lease *l,
                    char *errbuf, size_t errlen)
{
        struct exchange ex = {.link = link, .start = now_usec()};
        struct dhcp_reply ack = {0};
        int r;

        ex.fd = packet_socket(link->ifindex);
        if (ex.fd < 0)
                return parse_error(errbuf, errlen, ex.fd, "cannot open a packet socket on %s: %s",
                                   link->ifname, strerror(-ex.fd));
        r = dhcp_exchange(&ex, deadline, &ack, errbuf, errlen);
        closep(&ex.fd);
        l->discovers = ex.discovers;
        l->requests = ex.requests;
        l->naks = ex.naks;
        l->invalid = ex.invalid;
        if (r < 0)
                return r;

        l->dhcp = true;
        l->address = ack.address;
        l->prefix_len = ack.prefix_len ? ack.prefix_len : classful_prefix(ack.address);
        l->gateway = ack.router;
        memcpy(l->dns, ack.dns, sizeof(l->dns));
        l->n_dns = ack.n_dns;
        l->server = ack.server_id;
        l->lease_sec = ack.lease_sec;
        return 0;
}

static int configure(struct rtnl *rt, struct net_lease *l, char *errbuf, size_t errlen)
{
        uint32_t mask = ip_config_prefix_netmask(l->prefix_len).s_addr;
        char a[INET_ADDRSTRLEN];
        int r;

        r = rtnl_addr_add(rt, l->ifindex, l->address, l->prefix_len,
                          l->dhcp ? l->lease_sec : UINT32_MAX);
        if (r < 0)
                return parse_error(errbuf, errlen, r, "cannot add %s/%u to %s: %s",
                                   ntoa(l->address, a), l->prefix_len, l->ifname, strerror(-r));
        if (l->gateway.s_addr == INADDR_ANY)
                return 0;
        l->gateway_onlink = (l->gateway.s_addr & mask) != (l->address.s_addr & mask);
        r = rtnl_route_default_add(rt, l->ifindex, l->gateway, l->gateway_onlink, l->dhcp);
        if (r < 0)
                return parse_error(errbuf, errlen, r,
                                   "cannot add the default route via %s on %s: %s",
                                   ntoa(l->gateway, a), l->ifname, strerror(-r));
        return 0;
}

int net_write_resolv_conf(const char *root, const struct net_lease *lease, char *errbuf,
                          size_t errlen)
{
        char dir[PATH_MAX], path[PATH_MAX], tmp[PATH_MAX], text[512], a[INET_ADDRSTRLEN];
        _cleanup_close_ int fd = -1;
        ssize_t n;
        size_t len;
        int r;

        r = pathf(dir, sizeof(dir), "%s/etc", root);
        if (r >= 0)
                r = pathf(path, sizeof(path), "%s/%s", root, NET_RESOLV_CONF);
        if (r >= 0)
                r = pathf(tmp, sizeof(tmp), "%s.nodegate", path);
        if (r < 0)
                return parse_error(errbuf, errlen, r, "%s: path too long", root);
        if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
                r = negative_errno();
                return parse_error(errbuf, errlen, r, "cannot create %s: %s", dir, strerror(-r));
        }

        len = (size_t) snprintf(text, sizeof(text), "# written by nodegate from the %s of %s\n",
                                lease->dhcp ? "DHCP lease" : "ip= setting", lease->ifname);
        for (unsigned i = 0; i < lease->n_dns && i < DHCP_DNS_MAX; i++)
                len += (size_t) snprintf(text + len, sizeof(text) - len, "nameserver %s\n",
                                         ntoa(lease->dns[i], a));

        fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
        if (fd < 0) {
                r = negative_errno();
                return parse_error(errbuf, errlen, r, "cannot create %s: %s", tmp, strerror(-r));
        }
        n = write(fd, text, len);
        r = n < 0 ? negative_errno() : n != (ssize_t) len ? -EIO : 0;
        /* The umask must not decide whether the resolver can read it. */
        if (r == 0 && fchmod(fd, 0644) < 0)
                r = negative_errno();
        if (r < 0) {
                (void) unlink(tmp);
                return parse_error(errbuf, errlen, r, "cannot write %s: %s", tmp, strerror(-r));
        }
        closep(&fd);
        fd = -1;
        /* rename() replaces at once: a reader never sees half a file. */
        if (rename(tmp, path) < 0) {
                r = negative_errno();
                (void) unlink(tmp);
                return parse_error(errbuf, errlen, r, "cannot rename %s to %s: %s", tmp, path,
                                   strerror(-r));
        }
        return 0;
}

int net_setup(const char *root, const struct ip_config *cfg, uint64_t deadline_usec,
              struct net_lease *ret, char *errbuf, size_t errlen)
{
        _cleanup_(rtnl_close) struct rtnl rt = {.fd = -1}, mon = {.fd = -1};
        struct net_lease l = {0};
        uint64_t start = now_usec();
        struct rtnl_link link;
        int r;

        if (cfg->method == IP_CONFIG_OFF)
                return parse_error(errbuf, errlen, -EINVAL, "ip=off: there is nothing to set up");

        r = rtnl_open(&rt, 0);
        if (r >= 0)
                /* Subscribed before the first look, so no change between the two is missed. */
                r = rtnl_open(&mon, RTMGRP_LINK);
        if (r < 0)
                return parse_error(errbuf, errlen, r, "cannot open an rtnetlink socket: %s",
                                   strerror(-r));

        r = pick_link(&rt, &mon, cfg, start, deadline_usec, &link, errbuf, errlen);
        if (r < 0)
                return r;
        snprintf(l.ifname, sizeof(l.ifname), "%s", link.ifname);
        l.ifindex = link.ifindex;
        l.link_usec = now_usec() - start;

        if (cfg->method == IP_CONFIG_DHCP) {
                r = run_dhcp(&link, deadline_usec, &l, errbuf, errlen);
                if (r < 0)
                        return r;
        } else {
                l.address = cfg->address;
                l.prefix_len = cfg->prefix_len;
                l.gateway = cfg->gateway;
                for (unsigned i = 0; i < cfg->n_dns && i < DHCP_DNS_MAX; i++)
                        l.dns[l.n_dns++] = cfg->dns[i];
                l.lease_sec = UINT32_MAX;
        }

        r = configure(&rt, &l, errbuf, errlen);
        if (r < 0)
                return r;
        if (root && l.n_dns > 0) {
                r = net_write_resolv_conf(root, &l, errbuf, errlen);
                if (r < 0)
                        return r;
        }
        l.done_usec = now_usec() - start;
        *ret = l;
        return 0;
}

int net_teardown(const struct net_lease *lease)
{
        _cleanup_(rtnl_close) struct rtnl rt = {.fd = -1};
        int r, first = 0;

        r = rtnl_open(&rt, 0);
        if (r < 0)
                return r;
        if (lease->gateway.s_addr != INADDR_ANY) {
                r = rtnl_route_default_del(&rt, lease->ifindex, lease->gateway);
                /* Gone already, with its address or the link: nothing to undo. */
                if (r < 0 && r != -ESRCH && first == 0)
                        first = r;
        }
        r = rtnl_addr_del(&rt, lease->ifindex, lease->address, lease->prefix_len);
        if (r < 0 && r != -EADDRNOTAVAIL && first == 0)
                first = r;
        r = rtnl_link_set_up(&rt, lease->ifindex, false);
        if (r < 0 && first == 0)
                first = r;
        return first;
}
