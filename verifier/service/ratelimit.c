/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Token buckets in a set-associative table: a key hashes (with a per-process random seed, so
 * no one can aim at a set) to a set of WAYS buckets; a new key takes the set's empty bucket
 * or else the one idle longest. An evicted client starts again with a full bucket, which
 * gives it at most one burst more; that is the price of a table that never grows. */
#include "service/ratelimit.h"

#include "util.h"

#include <netinet/in.h>
#include <openssl/rand.h>
#include <pthread.h>

#define SETS 1024
#define WAYS 8 /* 8192 clients tracked at once, 40 bytes each */

struct bucket {
        uint8_t key[16];
        uint64_t last_ns; /* 0: empty */
        double tokens;
};

struct ratelimit {
        unsigned rate, burst;
        uint64_t seed[2];
        pthread_mutex_t lock;
        struct bucket buckets[SETS][WAYS];
};

int ratelimit_new(unsigned rate, unsigned burst, struct ratelimit **ret)
{
        struct ratelimit *rl = calloc(1, sizeof(*rl));

        if (!rl)
                return -ENOMEM;
        rl->rate = rate;
        rl->burst = burst < 1 ? 1 : burst;
        if (RAND_bytes((unsigned char *) rl->seed, sizeof(rl->seed)) != 1) {
                free(rl);
                return -EIO;
        }
        pthread_mutex_init(&rl->lock, NULL);
        *ret = rl;
        return 0;
}

void ratelimit_free(struct ratelimit *rl)
{
        if (!rl)
                return;
        pthread_mutex_destroy(&rl->lock);
        free(rl);
}

int ratelimit_key(const struct sockaddr *sa, uint8_t ret[16])
{
        memset(ret, 0, 16);
        if (sa->sa_family == AF_INET) {
                ret[10] = ret[11] = 0xff;
                memcpy(ret + 12, &((const struct sockaddr_in *) sa)->sin_addr, 4);
                return 0;
        }
        if (sa->sa_family == AF_INET6) {
                const struct in6_addr *a = &((const struct sockaddr_in6 *) sa)->sin6_addr;

                /* A dual-stack socket shows IPv4 clients as ::ffff:a.b.c.d: whole address. */
                memcpy(ret, a, IN6_IS_ADDR_V4MAPPED(a) ? 16 : 8);
                return 0;
        }
        return -EAFNOSUPPORT;
}

/* SipHash would be the textbook choice; a keyed multiply-xorshift is enough here, since a
 * collision only shares a set of 8, never a bucket. */
static uint64_t keyed_hash(const uint64_t seed[2], const uint8_t key[16])
{
        uint64_t a, b, h;

        memcpy(&a, key, 8);
        memcpy(&b, key + 8, 8);
        h = (a ^ seed[0]) * 0x9e3779b97f4a7c15ull;
        h ^= h >> 29;
        h = (h ^ b ^ seed[1]) * 0xbf58476d1ce4e5b9ull;
        h ^= h >> 32;
        return h;
}

static size_t set_of(const struct ratelimit *rl, const uint8_t key[16])
{
        return (size_t) (keyed_hash(rl->seed, key) % SETS);
}

unsigned ratelimit_take(struct ratelimit *rl, const struct sockaddr *sa, uint64_t now_ns)
{
        struct bucket *set, *b = NULL, *victim;
        uint8_t key[16];
        unsigned wait = 0;

        if (rl->rate == 0)
                return 0;
        /* No address to key on (never for TCP): the request goes through the other limits. */
        if (!sa || ratelimit_key(sa, key) < 0)
                return 0;
        if (now_ns == 0)
                now_ns = 1; /* 0 marks an empty bucket */

        pthread_mutex_lock(&rl->lock);
        set = rl->buckets[set_of(rl, key)];
        victim = &set[0];
        for (size_t i = 0; i < WAYS; i++) {
                if (set[i].last_ns != 0 && memcmp(set[i].key, key, 16) == 0) {
                        b = &set[i];
                        break;
                }
                if (set[i].last_ns < victim->last_ns)
                        victim = &set[i];
        }
        if (!b) {
                b = victim;
                memcpy(b->key, key, 16);
                b->tokens = rl->burst;
                b->last_ns = now_ns;
        }
        if (now_ns > b->last_ns) {
                b->tokens += (double) (now_ns - b->last_ns) / 1e9 * rl->rate;
                if (b->tokens > rl->burst)
                        b->tokens = rl->burst;
                b->last_ns = now_ns;
        }
        if (b->tokens >= 1)
                b->tokens -= 1;
        else
                /* Whole seconds for Retry-After, rounded up; at least 1. */
                wait = (unsigned) ((1 - b->tokens) / rl->rate) + 1;
        pthread_mutex_unlock(&rl->lock);
        return wait;
}

#define COUNT_BUCKETS 4096

struct addr_entry {
        struct addr_entry *next;
        uint8_t key[16];
        unsigned count;
};

struct addrcount {
        unsigned cap;
        uint64_t seed[2];
        pthread_mutex_t lock;
        struct addr_entry *buckets[COUNT_BUCKETS];
};

int addrcount_new(unsigned cap, struct addrcount **ret)
{
        struct addrcount *ac = calloc(1, sizeof(*ac));

        if (!ac)
                return -ENOMEM;
        if (RAND_bytes((unsigned char *) ac->seed, sizeof(ac->seed)) != 1) {
                free(ac);
                return -EIO;
        }
        ac->cap = cap;
        pthread_mutex_init(&ac->lock, NULL);
        *ret = ac;
        return 0;
}

void addrcount_free(struct addrcount *ac)
{
        if (!ac)
                return;
        for (size_t i = 0; i < COUNT_BUCKETS; i++)
                for (struct addr_entry *e = ac->buckets[i], *next; e; e = next) {
                        next = e->next;
                        free(e);
                }
        pthread_mutex_destroy(&ac->lock);
        free(ac);
}

bool addrcount_acquire(struct addrcount *ac, const struct sockaddr *sa, uint8_t ret_key[16])
{
        struct addr_entry **head, *e;
        bool ok = true;

        if (!sa || ratelimit_key(sa, ret_key) < 0) {
                memset(ret_key, 0, 16);
                return true; /* not an IP client: the global connection limit applies */
        }
        if (ac->cap == 0)
                return true;
        pthread_mutex_lock(&ac->lock);
        head = &ac->buckets[keyed_hash(ac->seed, ret_key) % COUNT_BUCKETS];
        for (e = *head; e; e = e->next)
                if (memcmp(e->key, ret_key, 16) == 0)
                        break;
        if (!e) {
                /* Bounded: one entry per open connection at most (--max-connections). */
                e = calloc(1, sizeof(*e));
                if (e) {
                        memcpy(e->key, ret_key, 16);
                        e->next = *head;
                        *head = e;
                }
        }
        if (!e || e->count >= ac->cap)
                ok = false;
        else
                e->count++;
        pthread_mutex_unlock(&ac->lock);
        return ok;
}

void addrcount_release(struct addrcount *ac, const uint8_t key[16])
{
        struct addr_entry **p;

        if (ac->cap == 0)
                return;
        pthread_mutex_lock(&ac->lock);
        for (p = &ac->buckets[keyed_hash(ac->seed, key) % COUNT_BUCKETS]; *p; p = &(*p)->next)
                if (memcmp((*p)->key, key, 16) == 0) {
                        struct addr_entry *e = *p;

                        if (e->count > 0)
                                e->count--;
                        if (e->count == 0) {
                                *p = e->next;
                                free(e);
                        }
                        break;
                }
        pthread_mutex_unlock(&ac->lock);
}
