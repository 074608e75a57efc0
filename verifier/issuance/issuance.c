/* SPDX-License-Identifier: GPL-2.0-or-later */
/* One token per (EK, boot): derived, not drawn, so that every replica answers a replayed or
 * repeated round 2 with the same token; two small fixed-size tables keep this replica's memory
 * of issued boots and the per-EK round-2 buckets. */
#include "issuance/issuance.h"

#include "common/util-verifier.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <pthread.h>

#define LABEL_EK    "nodegate ek v2"
#define LABEL_BOOT  "nodegate boot v2"
#define LABEL_TOKEN "nodegate token v2"
#define LABEL_POOL  "nodegate pool v2"

struct seen_slot {
        uint8_t tag[32];
        uint64_t at; /* 0: empty */
};

struct bucket_slot {
        uint8_t key[32];
        uint64_t last; /* when tokens was last brought up to date; 0: empty */
        unsigned tokens;
};

struct issuance {
        pthread_mutex_t lock;
        unsigned ek_burst;
        unsigned remember_sec;
        struct seen_slot seen[ISSUANCE_SLOTS];
        struct bucket_slot buckets[ISSUANCE_SLOTS];
};

int issuance_new(struct issuance **ret)
{
        struct issuance *is = calloc(1, sizeof(*is));

        if (!is)
                return -ENOMEM;
        if (pthread_mutex_init(&is->lock, NULL) != 0) {
                free(is);
                return -ENOMEM;
        }
        is->ek_burst = ISSUANCE_EK_BURST;
        is->remember_sec = ISSUANCE_REMEMBER_SEC;
        *ret = is;
        return 0;
}

void issuance_free(struct issuance *is)
{
        if (!is)
                return;
        pthread_mutex_destroy(&is->lock);
        OPENSSL_cleanse(is, sizeof(*is));
        free(is);
}

static void put_be32(uint8_t b[4], uint32_t v)
{
        b[0] = (uint8_t) (v >> 24);
        b[1] = (uint8_t) (v >> 16);
        b[2] = (uint8_t) (v >> 8);
        b[3] = (uint8_t) v;
}

static int mac(const uint8_t key[32], const char *label, const uint8_t *name, size_t name_size,
               const uint8_t *counts, size_t counts_size, uint8_t ret[32])
{
        uint8_t msg[32 + 2 + 64 + 8]; /* a label, a TPM name (nameAlg + digest), the counts */
        size_t label_size = strlen(label), n = 0;
        unsigned len = 32;
        bool ok;

        if (label_size > 32 || name_size > 2 + 64 || counts_size > 8)
                return -EINVAL;
        memcpy(msg, label, label_size);
        n += label_size;
        memcpy(msg + n, name, name_size);
        n += name_size;
        if (counts_size)
                memcpy(msg + n, counts, counts_size);
        n += counts_size;
        ok = HMAC(EVP_sha256(), key, 32, msg, n, ret, &len) && len == 32;
        OPENSSL_cleanse(msg, sizeof(msg));
        return ok ? 0 : -EIO;
}

/* n (big-endian, size bytes) = n / 36, @return n mod 36. */
static unsigned divmod36(uint8_t *n, size_t size)
{
        unsigned rem = 0;

        for (size_t i = 0; i < size; i++) {
                unsigned cur = rem << 8 | n[i];
                n[i] = (uint8_t) (cur / 36);
                rem = cur % 36;
        }
        return rem;
}

int issuance_boot(const uint8_t token_key[32], const uint8_t *ek_name, size_t ek_name_size,
                  uint32_t reset_count, uint32_t restart_count, struct issuance_boot *ret)
{
        static const char alphabet[] = "0123456789abcdefghijklmnopqrstuvwxyz";
        uint8_t counts[8], n[32];
        int r;

        put_be32(counts, reset_count);
        put_be32(counts + 4, restart_count);
        r = mac(token_key, LABEL_EK, ek_name, ek_name_size, NULL, 0, ret->ek_key);
        if (r == 0)
                r = mac(token_key, LABEL_BOOT, ek_name, ek_name_size, counts, sizeof(counts),
                        ret->tag);
        if (r == 0)
                r = mac(token_key, LABEL_POOL, ek_name, ek_name_size, counts, sizeof(counts),
                        ret->pool_pad);
        if (r == 0)
                r = mac(token_key, LABEL_TOKEN, ek_name, ek_name_size, counts, sizeof(counts), n);
        if (r < 0) {
                OPENSSL_cleanse(n, sizeof(n));
                issuance_boot_done(ret);
                return r;
        }
        /* 36^22 is about 2^114: the remainders of a 256-bit number are uniform to within
         * 2^-142, so no rejection loop is needed. */
        for (size_t i = 0; i < TOKEN_SIZE; i++)
                ret->token[i] = i == TOKEN_ID_SIZE ? '.' : alphabet[divmod36(n, sizeof(n))];
        ret->token[TOKEN_SIZE] = '\0';
        OPENSSL_cleanse(n, sizeof(n));
        return 0;
}

void issuance_boot_done(struct issuance_boot *b)
{
        OPENSSL_cleanse(b, sizeof(*b));
}

static size_t slot_of(const uint8_t key[32])
{
        /* The keys are MACs under the shared secret: their bits are as good as random. */
        return ((size_t) key[0] << 8 | key[1]) & (ISSUANCE_SLOTS - 1);
}

bool issuance_seen(struct issuance *is, const uint8_t tag[32], uint64_t now)
{
        const struct seen_slot *s = &is->seen[slot_of(tag)];
        bool seen;

        pthread_mutex_lock(&is->lock);
        seen = s->at != 0 && now - s->at < is->remember_sec && CRYPTO_memcmp(s->tag, tag, 32) == 0;
        pthread_mutex_unlock(&is->lock);
        return seen;
}

void issuance_remember(struct issuance *is, const uint8_t tag[32], uint64_t now)
{
        struct seen_slot *s = &is->seen[slot_of(tag)];

        /* A collision evicts the older boot: forgetting it only costs one more run of an
         * idempotent token source and an "issued" where "reissued" was true. */
        pthread_mutex_lock(&is->lock);
        memcpy(s->tag, tag, 32);
        s->at = now ? now : 1;
        pthread_mutex_unlock(&is->lock);
}

void issuance_set_remember(struct issuance *is, unsigned sec)
{
        is->remember_sec = sec < ISSUANCE_REMEMBER_SEC ? sec : ISSUANCE_REMEMBER_SEC;
}

void issuance_set_ek_burst(struct issuance *is, unsigned burst)
{
        is->ek_burst = burst;
}

unsigned issuance_ek_take(struct issuance *is, const uint8_t ek_key[32], uint64_t now)
{
        struct bucket_slot *b = &is->buckets[slot_of(ek_key)];
        unsigned wait = 0;

        if (is->ek_burst == 0)
                return 0;
        pthread_mutex_lock(&is->lock);
        if (b->last == 0 || memcmp(b->key, ek_key, 32) != 0 || now < b->last) {
                /* New EK, or another EK's slot: a full bucket. Evicting lets whoever shares
                 * the slot start over, which needs a second TPM on the same 1/4096 slot. */
                memcpy(b->key, ek_key, 32);
                b->tokens = is->ek_burst;
                b->last = now;
        } else {
                uint64_t refill = (now - b->last) / ISSUANCE_EK_REFILL_SEC;

                if (refill > 0) {
                        b->tokens = refill >= is->ek_burst - b->tokens
                                        ? is->ek_burst
                                        : b->tokens + (unsigned) refill;
                        b->last += refill * ISSUANCE_EK_REFILL_SEC;
                }
        }
        if (b->tokens > 0)
                b->tokens--;
        else
                wait = (unsigned) (b->last + ISSUANCE_EK_REFILL_SEC - now);
        pthread_mutex_unlock(&is->lock);
        return wait;
}
