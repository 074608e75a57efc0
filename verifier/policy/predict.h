/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Measurement prediction: the events a good boot of a UKI (systemd-stub 252 or 257, read from its
 * .sdmagic; Linux 6.1+ EFI stub; EDK2 firmware) extends into PCRs 4, 9 and 11, from the UKI file
 * alone; PCR 7 and the other firmware PCRs from a reference log of the platform (any image
 * booted on it). */
#pragma once

#include "tpm/eventlog.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define EV_SEPARATOR                     0x00000004u
#define EV_EVENT_TAG                     0x00000006u
#define EV_IPL                           0x0000000du
#define EV_EFI_VARIABLE_DRIVER_CONFIG    0x80000001u
#define EV_EFI_BOOT_SERVICES_APPLICATION 0x80000003u
#define EV_EFI_ACTION                    0x80000007u
#define EV_EFI_VARIABLE_AUTHORITY        0x800000e0u

/* The PCRs whose every event the UKI decides. */
#define PREDICT_IMAGE_PCRS (1u << 4 | 1u << 9 | 1u << 11)

struct predict_event {
        unsigned pcr;
        uint32_t type;
        uint8_t sha256[32];
        char what[96]; /* what was measured, for people */
};

struct prediction {
        struct predict_event *events; /* in boot order */
        size_t n_events;
        uint32_t pcr_mask;                     /* PCRs whose every event is predicted */
        uint8_t pcr_sha256[EVENTLOG_PCRS][32]; /* their values after the initrd starts */
        char stub_version[48];                 /* "252.39-1~deb12u2" */
        char kernel_version[64];               /* "6.1.0-57-amd64" */
        bool signed_image;
        bool secure_boot; /* the platform log says SecureBoot=1 */
};

struct predict_options {
        const struct eventlog *platform; /* a reference event log of the platform, or NULL */
        uint32_t platform_mask;          /* PCRs taken from it (never 4, 9 or 11) */
};

/* Predicts the events of a good boot of the UKI in buf. With a platform log, its events in the
 * platform PCRs are taken as they are, except PCR 7's EV_EFI_VARIABLE_AUTHORITY events (they
 * name the certificate that verified *that* log's image): under Secure Boot the authority of
 * this UKI is predicted from its signature and the platform's db (from the log's db event).
 * @return 0, -EBADMSG (not a UKI this models, malformed PE, an image the platform would refuse)
 * with the reason in err, or -ENOMEM */
int predict_uki(const uint8_t *buf, size_t size, const struct predict_options *o,
                struct prediction *ret, char *err, size_t errlen);
void prediction_done(struct prediction *p);
