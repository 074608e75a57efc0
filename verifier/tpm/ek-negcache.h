/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The negative cache of EK certificate chains: a certificate that did not chain to the
 * trust's CAs is refused from here for EK_NEGCACHE_TTL seconds, with the same verdict,
 * without another X509_verify_cert() — round 1 is unauthenticated, so without it one bad
 * certificate naming a configured CA costs a signature verification per request, forever.
 * Keyed by the SHA-256 of the certificate bytes, direct-mapped (a collision evicts: one
 * verification more), bounded (EK_NEGCACHE_SLOTS × ~700 bytes per trust). Only refusals the
 * same bytes will always earn are kept (ek-certificate-untrusted), never an internal error; a
 * certificate not yet valid passes once the entry expires, and adding a CA forgets them all.
 *
 * Header-only, included by ekcheck.c alone: every program linking ekcheck.c (the verifier,
 * its unit tests, the fuzz targets) has it without a build change. */
#pragma once

#include "appraisal/verdict.h"

#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#define EK_NEGCACHE_SLOTS 1024
#define EK_NEGCACHE_TTL   300

struct ek_negcache_slot {
        uint8_t hash[32];
        time_t at; /* 0: empty */
        struct verdict verdict;
};

/* A member of struct ek_trust (zeroed by its calloc: empty), guarded by the trust's lock. */
struct ek_negcache {
        struct ek_negcache_slot slots[EK_NEGCACHE_SLOTS];
};

static inline struct ek_negcache_slot *ek_negcache_slot(struct ek_negcache *nc,
                                                        const uint8_t hash[32])
{
        return &nc->slots[(hash[2] | hash[3] << 8) % EK_NEGCACHE_SLOTS];
}

/* The remembered refusal of the certificate with this hash, into v.
 * @return its reason, or REASON_OK when none is remembered (verify it then) */
static inline enum reason ek_negcache_get(struct ek_negcache *nc, pthread_mutex_t *lock,
                                          const uint8_t hash[32], time_t now, struct verdict *v)
{
        struct ek_negcache_slot *s = ek_negcache_slot(nc, hash);
        enum reason r = REASON_OK;

        pthread_mutex_lock(lock);
        if (s->at != 0 && memcmp(s->hash, hash, 32) == 0 && now >= s->at &&
            now - s->at < EK_NEGCACHE_TTL) {
                *v = s->verdict;
                r = v->reason;
        }
        pthread_mutex_unlock(lock);
        return r;
}

/* Remembers the outcome r (with verdict v) of verifying the certificate with this hash, when
 * it is a refusal worth remembering. */
static inline void ek_negcache_put(struct ek_negcache *nc, pthread_mutex_t *lock,
                                   const uint8_t hash[32], time_t now, enum reason r,
                                   const struct verdict *v)
{
        struct ek_negcache_slot *s = ek_negcache_slot(nc, hash);

        if (r != REASON_EK_CERTIFICATE_UNTRUSTED || now <= 0)
                return;
        pthread_mutex_lock(lock);
        memcpy(s->hash, hash, 32);
        s->at = now;
        s->verdict = *v;
        pthread_mutex_unlock(lock);
}

/* Forgets every refusal: a CA was added, and may make some of them chain now. */
static inline void ek_negcache_clear(struct ek_negcache *nc, pthread_mutex_t *lock)
{
        pthread_mutex_lock(lock);
        for (size_t i = 0; i < EK_NEGCACHE_SLOTS; i++)
                nc->slots[i].at = 0;
        pthread_mutex_unlock(lock);
}
