/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Round 2's platform evidence (docs/PROTOCOL.md, "Platform evidence"): collected for the
 * detected platform with the binding of this round, in the form the protocol sends. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "boot/failure.h"
#include "platform/binding.h"
#include "platform/detect.h"

#define PLATFORM_CERTS_MAX      4
#define PLATFORM_CERT_MAX       4096
#define PLATFORM_KIND_AZURE     "azure-snp-hcl"
#define PLATFORM_KIND_AZURE_TDX "azure-tdx-hcl"
#define PLATFORM_KIND_SNP       "snp-report"
#define PLATFORM_KIND_TDX       "tdx-quote"

struct tpm;
struct tsm_evidence;

struct platform_evidence {
        const char *kind; /* PLATFORM_KIND_*, NULL: nothing to send */
        uint8_t *report;  /* malloc'ed */
        size_t report_size;
        uint8_t *certificates[PLATFORM_CERTS_MAX]; /* DER VCEK/VLEK, malloc'ed */
        size_t certificate_sizes[PLATFORM_CERTS_MAX];
        size_t n_certificates;
        uint8_t *td_quote; /* Azure TDX: the TD quote of the HCL's TDREPORT, malloc'ed */
        size_t td_quote_size;
        bool fresh;   /* Azure: the claims carry the binding as user-data */
        size_t chunk; /* Azure: the NV read size */
};

void platform_evidence_done(struct platform_evidence *e);

/* Whether the gate collects evidence for platform p: Azure SNP and Azure TDX (the paravisor's
 * vTPM), SNP and TDX (configfs-tsm). */
bool platform_has_evidence(enum platform p);

/* Collects p's evidence bound to binding: Azure — NV 0x01400002 written, the HCL report read
 * (waiting up to wait_usec for its user-data), and on Azure TDX the TD quote of its TDREPORT
 * from the metadata service (src/platform/imds.h, by deadline_usec); SNP and TDX — a
 * configfs-tsm report under tsm_dir with REPORT_DATA (REPORTDATA) = binding: the SNP report
 * with the VCEK/VLEK from its auxblob's certificate table if present, or the TD quote.
 * @return 0 (kind NULL when p has none), -EPROTO when p is Azure SNP and the report holds a
 *         TDREPORT or the other way round, the errors of platform_evidence_from_tsm(),
 *         azure_collect(), imds_td_quote() and tsm_report(); a message in errbuf and the
 *         failure in *ret_failure (PLATFORM_EVIDENCE, or IMDS_* from the metadata service) */
int platform_collect(enum platform p, struct tpm *t, const char *tsm_dir,
                     const uint8_t binding[PLATFORM_BINDING_SIZE], uint64_t wait_usec,
                     uint64_t deadline_usec, struct platform_evidence *ret,
                     enum failure *ret_failure, char *errbuf, size_t errlen);

/* configfs-tsm's answer t for platform p (SNP or TDX) as the protocol sends it: its outblob
 * moves into ret (snp-report or tdx-quote), and for SNP the VCEK/VLEK of its auxblob.
 * @return 0, -EPROTO when t's provider is not p's (sev_guest, tdx_guest), -EINVAL for another
 *         platform; a message in errbuf */
int platform_evidence_from_tsm(enum platform p, struct tsm_evidence *t,
                               struct platform_evidence *ret, char *errbuf, size_t errlen);

/* The VCEK and VLEK of an SNP certificate table (the GHCB extended guest request's: GUID,
 * offset, length entries up to an all-zero one), copied into e. Malformed tables or entries
 * are skipped: the verifier can take the VEK from its cache. */
void platform_snp_certificates(const uint8_t *table, size_t size, struct platform_evidence *e);
