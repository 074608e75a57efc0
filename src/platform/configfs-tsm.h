/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A TEE report through Linux's configfs-tsm (Linux >= 6.7): one report entry, created for one
 * request and removed after it, with the generation checks that catch a concurrent writer. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define TSM_REPORT_DIR   "/sys/kernel/config/tsm/report"
#define TSM_INBLOB_SIZE  64
#define TSM_OUTBLOB_MAX  8192  /* the protocol's limit for platform.report (docs/PROTOCOL.md) */
#define TSM_AUXBLOB_MAX  16384 /* SNP: the certificate table (VCEK, ASK, ARK), ~5 KiB */
#define TSM_PROVIDER_MAX 32
#define TSM_ERROR_MAX    256

struct tsm_evidence {
        char provider[TSM_PROVIDER_MAX]; /* "sev_guest", "tdx_guest", … */
        uint8_t *outblob;                /* the report (SNP) or quote (TDX), malloc'ed */
        size_t outblob_size;
        uint8_t *auxblob; /* NULL when the entry has none or it is empty */
        size_t auxblob_size;
        unsigned long generation; /* the entry's generation the blobs belong to */
};

void tsm_evidence_done(struct tsm_evidence *e);

/* The provider of the TSM behind dir (mkdir of a probe entry, read "provider", rmdir).
 * @return 0 with the provider's name, -ENOENT when dir does not exist (no configfs-tsm, or its
 *         module is not loaded), -ENXIO when the entry has no provider (no TEE driver bound),
 *         other negative errno; a message in errbuf */
int tsm_provider(const char *dir, char ret[TSM_PROVIDER_MAX], char *errbuf, size_t errlen);

/* One request in an existing entry directory (what tsm_report() does between its mkdir and its
 * rmdir; tests call it on a fixture directory): write inblob, read generation, outblob,
 * auxblob (when the entry has one), generation again.
 * @return 0 with ret filled (free with tsm_evidence_done()), or
 *   -ENXIO  the entry has no provider, or an empty one;
 *   -EFBIG  the provider refused the inblob's size, or a blob is above its limit;
 *   -ENOENT the entry or one of its attributes vanished (module unloaded, entry removed);
 *   -EBUSY  the generation moved while the blobs were read: another writer's request was
 *           mixed in, and the blobs may answer its inblob rather than ours;
 *   -ENODATA an empty outblob;
 *   other negative errno; a message in errbuf */
int tsm_report_entry(const char *entry, const uint8_t inblob[TSM_INBLOB_SIZE],
                     struct tsm_evidence *ret, char *errbuf, size_t errlen);

/* tsm_report_entry() in a new entry dir/nodegate-<pid>-<random>, removed afterwards whatever
 * the outcome. @return as tsm_report_entry(), and -ENOENT when dir does not exist */
int tsm_report(const char *dir, const uint8_t inblob[TSM_INBLOB_SIZE], struct tsm_evidence *ret,
               char *errbuf, size_t errlen);
