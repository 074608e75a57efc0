/* SPDX-License-Identifier: GPL-2.0-or-later */
/* One token per (EK, boot) (docs/PROTOCOL.md, "One token per boot"): the token derived from
 * the shared secret, this replica's memory of the boots it issued to, and the per-EK bound on
 * how often round 2 may be answered. */
#pragma once

#include "issuance/token-source.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ISSUANCE_SLOTS         4096 /* per table; a power of two */
#define ISSUANCE_REMEMBER_SEC  900  /* kubeadm's default bootstrap token TTL is 15 min */
#define ISSUANCE_EK_BURST      16   /* round-2 answers one EK may have at once */
#define ISSUANCE_EK_REFILL_SEC 4    /* and then one more every this many seconds */

/* What identifies a boot of one TPM: its EK and the quote's clockInfo counters. */
struct issuance_boot {
        uint8_t ek_key[32];         /* HMAC(token key, "nodegate ek v2" ‖ EK name) */
        uint8_t tag[32];            /* HMAC(token key, "nodegate boot v2" ‖ EK name ‖ counts) */
        uint8_t pool_pad[32];       /* HMAC(token key, "nodegate pool v2" ‖ …): hides the token
                                     * in the pool's record of issued boots */
        char token[TOKEN_SIZE + 1]; /* the boot's token, [a-z0-9]{6}.[a-z0-9]{16} */
};

struct issuance;

/* @return 0 or -ENOMEM */
int issuance_new(struct issuance **ret);
void issuance_free(struct issuance *is);

/* The boot's tag and derived token: HMAC-SHA-256(token_key, label ‖ EK name ‖ resetCount ‖
 * restartCount) for the labels "nodegate boot v2" and "nodegate token v2", the token's 22
 * characters taken from the second MAC read as a 256-bit number in base 36. Same inputs, same
 * answer on every replica. Wipe ret with issuance_boot_done(). @return 0 or -EIO */
int issuance_boot(const uint8_t token_key[32], const uint8_t *ek_name, size_t ek_name_size,
                  uint32_t reset_count, uint32_t restart_count, struct issuance_boot *ret);
void issuance_boot_done(struct issuance_boot *b);

/* Whether this replica already issued a token to the boot in the last ISSUANCE_REMEMBER_SEC
 * (now: monotonic seconds). */
bool issuance_seen(struct issuance *is, const uint8_t tag[32], uint64_t now);
/* Remembers that the boot got its token. */
void issuance_remember(struct issuance *is, const uint8_t tag[32], uint64_t now);

/* How long a boot is remembered (ISSUANCE_REMEMBER_SEC unless set; at most that). Call before
 * sharing is. */
void issuance_set_remember(struct issuance *is, unsigned sec);

/* The bucket's size (ISSUANCE_EK_BURST unless set; 0: no limit). Call before sharing is. */
void issuance_set_ek_burst(struct issuance *is, unsigned burst);

/* One round-2 answer for the EK (ek_key of its issuance_boot: keyed, so an attacker cannot
 * choose EKs that share a bucket with a victim's). @return 0, or the seconds until the next is
 * allowed */
unsigned issuance_ek_take(struct issuance *is, const uint8_t ek_key[32], uint64_t now);
