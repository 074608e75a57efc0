/* SPDX-License-Identifier: GPL-2.0-or-later */
/* rtnetlink requests and their answers, every message of the kernel walked with bounds checks
 * (NLMSG_OK, RTA_OK) even though the kernel is the only one that can send them. */

#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <poll.h>
#include <sys/socket.h>

#include "net/ip-config.h"
#include "net/rtnl.h"
#include "util.h"

#ifndef IFF_LOWER_UP
#define IFF_LOWER_UP 0x10000
#endif

/* Requests are small: a header, a fixed struct and a few address attributes. */
#define REQUEST_SIZE 256U

/* A dump that changed while it was read is read again, but not forever. */
#define DUMP_RETRIES 5

struct request {
        struct nlmsghdr h;
        union {
                struct ifinfomsg ifi;
                struct ifaddrmsg ifa;
                struct rtmsg rt;
        };
        uint8_t attrs[REQUEST_SIZE];
};

int rtnl_open(struct rtnl *ret, unsigned groups)
{
        struct sockaddr_nl sa = {.nl_family = AF_NETLINK, .nl_groups = groups};
        _cleanup_close_ int fd = -1;
        uint8_t *buf;

        fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
        if (fd < 0)
                return negative_errno();
        if (bind(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0)
                return negative_errno();
        buf = malloc(RTNL_BUFFER_SIZE);
        if (!buf)
                return -ENOMEM;
        *ret = (struct rtnl){.fd = TAKE_FD(fd), .buf = buf};
        return 0;
}

void rtnl_close(struct rtnl *r)
{
        if (!r)
                return;
        closep(&r->fd);
        r->fd = -1;
        free(r->buf);
        r->buf = NULL;
}

static void request_init(struct request *q, uint16_t type, uint16_t flags, size_t fixed)
{
        memset(q, 0, sizeof(*q));
        q->h.nlmsg_len = (uint32_t) NLMSG_LENGTH(fixed);
        q->h.nlmsg_type = type;
        q->h.nlmsg_flags = (uint16_t) (NLM_F_REQUEST | flags);
}

static int add_attr(struct request *q, unsigned short type, const void *data, size_t len)
{
        size_t off = NLMSG_ALIGN(q->h.nlmsg_len), alen = RTA_LENGTH(len);
        struct rtattr *rta;

        if (off + RTA_ALIGN(alen) > sizeof(*q))
                return -ENOBUFS;
        rta = (struct rtattr *) ((uint8_t *) q + off);
        rta->rta_type = type;
        rta->rta_len = (unsigned short) alen;
        memcpy(RTA_DATA(rta), data, len);
        q->h.nlmsg_len = (uint32_t) (off + RTA_ALIGN(alen));
        return 0;
}

static int send_request(struct rtnl *r, struct request *q)
{
        struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
        ssize_t n;

        q->h.nlmsg_seq = ++r->seq;
        n = sendto(r->fd, q, q->h.nlmsg_len, 0, (struct sockaddr *) &kernel, sizeof(kernel));
        if (n < 0)
                return negative_errno();
        return n == (ssize_t) q->h.nlmsg_len ? 0 : -EIO;
}

/* One datagram from the kernel into r->buf. @return its length or negative errno */
static int receive(struct rtnl *r, int flags)
{
        struct sockaddr_nl from;
        struct iovec iov = {.iov_base = r->buf, .iov_len = RTNL_BUFFER_SIZE};
        struct msghdr mh = {
            .msg_name = &from, .msg_namelen = sizeof(from), .msg_iov = &iov, .msg_iovlen = 1};
        ssize_t n;

        n = recvmsg(r->fd, &mh, flags);
        if (n < 0)
                return negative_errno();
        if (mh.msg_flags & MSG_TRUNC)
                return -EMSGSIZE;
        /* Only the kernel (port 0) speaks for itself on this socket. */
        if (from.nl_pid != 0)
                return 0;
        return (int) n;
}

/* The message at *off in buf[0..len), advancing *off past it; NULL at the end or at a message
 * whose length does not fit (NLMSG_OK's checks, without its signed/unsigned mix). */
static struct nlmsghdr *next_message(uint8_t *buf, size_t len, size_t *off)
{
        struct nlmsghdr *h;

        if (*off > len || len - *off < sizeof(*h))
                return NULL;
        h = (struct nlmsghdr *) (buf + *off);
        if (h->nlmsg_len < sizeof(*h) || h->nlmsg_len > len - *off)
                return NULL;
        *off += NLMSG_ALIGN(h->nlmsg_len);
        return h;
}

/* The error code of an NLMSG_ERROR message: 0 is an acknowledgement. */
static int message_error(const struct nlmsghdr *h)
{
        if (h->nlmsg_len < NLMSG_LENGTH(sizeof(struct nlmsgerr)))
                return -EBADMSG;
        return ((const struct nlmsgerr *) NLMSG_DATA(h))->error;
}

/* Sends q and waits for the kernel's acknowledgement. @return 0 or the kernel's error */
static int call(struct rtnl *r, struct request *q)
{
        struct nlmsghdr *h;
        int n;

        q->h.nlmsg_flags |= NLM_F_ACK;
        n = send_request(r, q);
        if (n < 0)
                return n;
        for (;;) {
                n = receive(r, 0);
                if (n < 0)
                        return n;
                for (size_t off = 0; (h = next_message(r->buf, (size_t) n, &off));)
                        if (h->nlmsg_seq == r->seq && h->nlmsg_type == NLMSG_ERROR)
                                return message_error(h);
        }
}

int rtnl_drain(struct rtnl *r)
{
        int count = 0;

        for (;;) {
                int n = receive(r, MSG_DONTWAIT);

                if (n == -EAGAIN || n == -EWOULDBLOCK)
                        return count;
                /* A full socket lost notifications: the caller looks at the state anyway. */
                if (n == -ENOBUFS)
                        continue;
                if (n < 0)
                        return n;
                count++;
        }
}

static void parse_link(struct nlmsghdr *h, struct rtnl_link *l)
{
        struct ifinfomsg *ifi = NLMSG_DATA(h);
        int len = (int) h->nlmsg_len - (int) NLMSG_LENGTH(sizeof(*ifi));

        *l = (struct rtnl_link){
            .ifindex = ifi->ifi_index, .type = ifi->ifi_type, .flags = ifi->ifi_flags};
        for (struct rtattr *a = IFLA_RTA(ifi); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
                size_t plen = RTA_PAYLOAD(a);

                if (a->rta_type == IFLA_IFNAME && plen > 0 && plen <= IF_NAMESIZE) {
                        memcpy(l->ifname, RTA_DATA(a), plen);
                        l->ifname[plen - 1] = '\0';
                } else if (a->rta_type == IFLA_ADDRESS && plen == 6) {
                        memcpy(l->mac, RTA_DATA(a), 6);
                        l->has_mac = true;
                }
        }
}

/* @return links read, -EAGAIN when the dump was interrupted by a change, or negative errno */
static int dump_links(struct rtnl *r, struct rtnl_link *links, size_t max)
{
        struct nlmsghdr *h;
        struct request q;
        size_t count = 0;
        bool interrupted = false;
        int n;

        request_init(&q, RTM_GETLINK, NLM_F_DUMP, sizeof(struct ifinfomsg));
        q.ifi.ifi_family = AF_UNSPEC;
        n = send_request(r, &q);
        if (n < 0)
                return n;

        for (;;) {
                n = receive(r, 0);
                if (n < 0)
                        return n;
                for (size_t off = 0; (h = next_message(r->buf, (size_t) n, &off));) {
                        if (h->nlmsg_seq != r->seq)
                                continue;
                        if (h->nlmsg_flags & NLM_F_DUMP_INTR)
                                interrupted = true;
                        if (h->nlmsg_type == NLMSG_DONE)
                                return interrupted ? -EAGAIN : (int) count;
                        if (h->nlmsg_type == NLMSG_ERROR) {
                                int e = message_error(h);

                                return e < 0 ? e : -EBADMSG;
                        }
                        if (h->nlmsg_type != RTM_NEWLINK ||
                            h->nlmsg_len < NLMSG_LENGTH(sizeof(struct ifinfomsg)))
                                continue;
                        /* Past max the dump is still read to its end, or the next request
                         * would find its tail. */
                        if (count < max)
                                parse_link(h, &links[count++]);
                }
        }
}

int rtnl_links(struct rtnl *r, struct rtnl_link *links, size_t max)
{
        int n = -EAGAIN;

        for (int i = 0; i < DUMP_RETRIES && n == -EAGAIN; i++)
                n = dump_links(r, links, max);
        return n;
}

int rtnl_link_set_up(struct rtnl *r, int ifindex, bool up)
{
        struct request q;

        request_init(&q, RTM_NEWLINK, 0, sizeof(struct ifinfomsg));
        q.ifi.ifi_family = AF_UNSPEC;
        q.ifi.ifi_index = ifindex;
        q.ifi.ifi_flags = up ? IFF_UP : 0;
        q.ifi.ifi_change = IFF_UP;
        return call(r, &q);
}

static int addr_request(struct rtnl *r, uint16_t type, uint16_t flags, int ifindex,
                        struct in_addr address, unsigned prefix_len, uint32_t lifetime_sec)
{
        struct in_addr brd = {.s_addr =
                                  address.s_addr | ~ip_config_prefix_netmask(prefix_len).s_addr};
        struct request q;
        int n;

        request_init(&q, type, flags, sizeof(struct ifaddrmsg));
        q.ifa.ifa_family = AF_INET;
        q.ifa.ifa_prefixlen = (unsigned char) prefix_len;
        q.ifa.ifa_scope = RT_SCOPE_UNIVERSE;
        q.ifa.ifa_index = (unsigned) ifindex;
        n = add_attr(&q, IFA_LOCAL, &address, sizeof(address));
        if (n >= 0)
                n = add_attr(&q, IFA_ADDRESS, &address, sizeof(address));
        /* /31 and /32 have no broadcast address (RFC 3021). */
        if (n >= 0 && type == RTM_NEWADDR && prefix_len < 31)
                n = add_attr(&q, IFA_BROADCAST, &brd, sizeof(brd));
        if (n >= 0 && type == RTM_NEWADDR && lifetime_sec != UINT32_MAX) {
                struct ifa_cacheinfo ci = {.ifa_prefered = lifetime_sec, .ifa_valid = lifetime_sec};

                n = add_attr(&q, IFA_CACHEINFO, &ci, sizeof(ci));
        }
        if (n < 0)
                return n;
        return call(r, &q);
}

int rtnl_addr_add(struct rtnl *r, int ifindex, struct in_addr address, unsigned prefix_len,
                  uint32_t lifetime_sec)
{
        return addr_request(r, RTM_NEWADDR, NLM_F_CREATE | NLM_F_REPLACE, ifindex, address,
                            prefix_len, lifetime_sec);
}

int rtnl_addr_del(struct rtnl *r, int ifindex, struct in_addr address, unsigned prefix_len)
{
        return addr_request(r, RTM_DELADDR, 0, ifindex, address, prefix_len, UINT32_MAX);
}

static int route_request(struct rtnl *r, uint16_t type, int ifindex, struct in_addr gateway,
                         bool onlink, bool dhcp)
{
        uint32_t oif = (uint32_t) ifindex;
        struct request q;
        int n;

        request_init(&q, type, type == RTM_NEWROUTE ? NLM_F_CREATE | NLM_F_REPLACE : 0,
                     sizeof(struct rtmsg));
        q.rt.rtm_family = AF_INET;
        q.rt.rtm_table = RT_TABLE_MAIN;
        if (type == RTM_NEWROUTE) {
                q.rt.rtm_protocol = dhcp ? RTPROT_DHCP : RTPROT_STATIC;
                q.rt.rtm_scope = RT_SCOPE_UNIVERSE;
                q.rt.rtm_type = RTN_UNICAST;
                q.rt.rtm_flags = onlink ? RTNH_F_ONLINK : 0;
        } else
                /* As ip(8) deletes: the kernel matches on what is given, any origin. */
                q.rt.rtm_scope = RT_SCOPE_NOWHERE;
        n = add_attr(&q, RTA_GATEWAY, &gateway, sizeof(gateway));
        if (n >= 0)
                n = add_attr(&q, RTA_OIF, &oif, sizeof(oif));
        if (n < 0)
                return n;
        return call(r, &q);
}

int rtnl_route_default_add(struct rtnl *r, int ifindex, struct in_addr gateway, bool onlink,
                           bool dhcp)
{
        return route_request(r, RTM_NEWROUTE, ifindex, gateway, onlink, dhcp);
}

int rtnl_route_default_del(struct rtnl *r, int ifindex, struct in_addr gateway)
{
        return route_request(r, RTM_DELROUTE, ifindex, gateway, false, false);
}
