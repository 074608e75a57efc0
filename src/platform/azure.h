/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Evidence of an Azure confidential VM from its paravisor's vTPM (docs/PROTOCOL.md, "Platform
 * evidence"): the binding written to NV 0x01400002, the HCL report read from NV 0x01400001. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "attest/tpm.h"
#include "platform/hcl.h"

#define AZURE_NV_REPORT    0x01400001u
#define AZURE_NV_USER_DATA 0x01400002u
#define AZURE_HCL_AK       0x81000003u
/* The protocol's limit for platform.report; real reports are 2048 or 2600 bytes. */
#define AZURE_REPORT_MAX 8192

struct azure_evidence {
        uint8_t *report; /* the whole NV index, as read, malloc'ed */
        size_t size;
        size_t chunk;         /* the NV read size the TPM allowed */
        uint32_t report_type; /* enum hcl_report_type */
        bool fresh;           /* the claims carry the binding as user-data */
};

void azure_evidence_done(struct azure_evidence *e);

/* Writes binding to NV 0x01400002 (defining it if needed), then reads NV 0x01400001 until its
 * claims carry the binding as user-data or wait_usec passed (the paravisor regenerates the
 * report on the write; Microsoft's sample waits 3 s blindly). A report that never shows the
 * binding is returned with fresh = false: the verifier decides (hcl-user-data-mismatch).
 * @return 0, -ENOENT when the TPM has no NV 0x01400001, -EFBIG above AZURE_REPORT_MAX,
 *         -EBADMSG when the blob is not an HCL report, TPM errors as tpm.h has them; a message
 *         in errbuf */
int azure_collect(struct tpm *t, const uint8_t binding[HCL_BINDING_SIZE], uint64_t wait_usec,
                  struct azure_evidence *ret, char *errbuf, size_t errlen);
