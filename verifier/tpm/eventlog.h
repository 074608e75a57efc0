/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The TCG PC Client event log (crypto-agile format, Spec ID Event03): parsed, and replayed
 * into the PCR values it claims. Bounded by the input: no event may point past its end. */
#pragma once

#include "appraisal/verdict.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define EVENTLOG_PCRS 24

#define EV_NO_ACTION       0x00000003u
#define EV_EFI_HCRTM_EVENT 0x80000010u

struct eventlog_event {
        long index; /* position in the log; the Spec ID event is 0 */
        uint32_t pcr;
        uint32_t type;
        uint8_t sha256[32];  /* every event of an accepted log has a SHA-256 digest */
        const uint8_t *data; /* points into the caller's buffer */
        uint32_t data_size;
};

struct eventlog {
        struct eventlog_event *events; /* every event after the Spec ID event, in log order */
        size_t n_events;
        uint16_t algs[8]; /* the banks the Spec ID event declares */
        size_t n_algs;
        uint8_t startup_locality; /* from a StartupLocality EV_NO_ACTION event, else 0 */
        bool hcrtm; /* PCR 0's first event is EV_EFI_HCRTM_EVENT: PCR 0 started at 4 */
        uint8_t pcr_sha256[EVENTLOG_PCRS][32]; /* the SHA-256 replay */
        bool has_sha1;                         /* a SHA-1 bank (and OpenSSL has SHA-1): */
        uint8_t pcr_sha1[EVENTLOG_PCRS][20];   /* for comparing with tools that record it */
        uint32_t pcr_extended_mask;            /* PCRs with at least one extended event */
};

/* Parses and replays buf (which must outlive *ret). On failure fills v with
 * REASON_EVENTLOG_MALFORMED (event index and byte offset in the message) or
 * REASON_EVENTLOG_NO_SHA256. @return 0 or -EBADMSG */
int eventlog_parse(const uint8_t *buf, size_t size, struct eventlog *ret, struct verdict *v);
void eventlog_done(struct eventlog *log);

/* TCG names ("EV_EFI_BOOT_SERVICES_APPLICATION"); unnamed types as "0x%08x" in buf. */
const char *eventlog_type_name(uint32_t type, char buf[VERDICT_EVENT_TYPE_MAX]);
/* The reverse, accepting "0x…" too. @return 0 or -EINVAL */
int eventlog_type_from_name(const char *name, uint32_t *ret);
