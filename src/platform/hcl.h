/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The Azure paravisor's HCL report as vTPM NV 0x01400001 holds it (docs/cvm.md): just enough
 * of its header to know the gate read a whole, fresh one. The verifier does the real checks. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HCL_HEADER_SIZE    0x20
#define HCL_HW_REPORT_SIZE 1184
#define HCL_CLAIMS_OFFSET  0x4D4 /* after the 20-byte IGVM request header at 0x4C0 */
#define HCL_BINDING_SIZE   64

enum hcl_report_type {
        HCL_REPORT_SNP = 2,
        HCL_REPORT_TDX = 4,
};

struct hcl_report {
        uint32_t version;     /* 1 or 2 in the fixtures */
        uint32_t report_type; /* enum hcl_report_type */
        const uint8_t *claims;
        size_t claims_size;
};

/* Checks the "HCLA" header, the request type (2), the hardware report type (SNP or TDX) and
 * that the claims lie inside the blob. ret points into blob.
 * @return 0, or -EBADMSG with what is wrong in errbuf */
int hcl_parse(const uint8_t *blob, size_t size, struct hcl_report *ret, char *errbuf,
              size_t errlen);

/* Whether the claims carry "user-data" = the binding in upper-case hex: the paravisor has
 * regenerated the report since the binding was written to NV 0x01400002. */
bool hcl_has_user_data(const struct hcl_report *h, const uint8_t binding[HCL_BINDING_SIZE]);
