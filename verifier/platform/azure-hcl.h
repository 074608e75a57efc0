/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The Azure confidential VM's HCL report, as the paravisor writes it to vTPM NV 0x01400001
 * (docs/cvm.md): a 32-byte "HCLA" header, the hardware report (1184 bytes reserved: an SNP
 * report, or a 1024-byte TDREPORT and zero padding), a 20-byte IGVM request header and the
 * runtime-claims JSON whose hash the hardware report's REPORT_DATA carries; then zero padding
 * to the NV index's size. Offsets as kinvolk/azure-cvm-tooling's hcl module reads them. */
#pragma once

#include "appraisal/verdict.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct tpm_public;

#define HCL_HW_OFFSET  0x20
#define HCL_HW_SIZE    1184
#define HCL_REQ_OFFSET (HCL_HW_OFFSET + HCL_HW_SIZE)
#define HCL_VAR_OFFSET (HCL_REQ_OFFSET + 20)
#define HCL_REPORT_SNP 2
#define HCL_REPORT_TDX 4
#define HCL_CLAIMS_MAX (8 * 1024)

struct hcl_report {
        uint32_t hdr_version;
        uint32_t report_type; /* 2 SNP, 4 TDX */
        uint32_t hash_type;   /* 1 SHA-256, 2 SHA-384, 3 SHA-512 */
        uint32_t claims_size;
        const uint8_t *hw; /* into the caller's bytes: the SNP report (HCL_HW_SIZE bytes) or
                            * the TDREPORT (1024) */
        const uint8_t *claims;
};

/* hcl-header, hcl-claims-size, hcl-padding-nonzero (TDX), hcl-report-type (not SNP),
 * hcl-hash-type (not SHA-256). @return REASON_OK or the reason */
enum reason hcl_parse(const uint8_t *b, size_t size, struct hcl_report *ret, struct verdict *v);
/* The same for an HCL blob of report_type (HCL_REPORT_SNP or HCL_REPORT_TDX): hcl-report-type
 * when it is another. */
enum reason hcl_parse_type(const uint8_t *b, size_t size, uint32_t report_type,
                           struct hcl_report *ret, struct verdict *v);

/* What the verifier binds to, from the claims JSON. */
struct hcl_claims {
        bool has_akpub, has_ekpub, has_user_data;
        uint8_t user_data[64];
        size_t user_data_size; /* the hex's length / 2 */
        bool user_data_upper;  /* every hex letter upper case, as the paravisor writes it */
        uint8_t ak_n[512], ek_n[512];
        size_t ak_n_size, ek_n_size;
        uint32_t ak_e, ek_e;
        bool ak_rsa, ek_rsa;
        char vm_id[40];
};

/* hcl-claims-json (not a JSON object, or a "keys", "user-data" of the wrong shape). The keys'
 * types are left to the caller (hcl-key-type). */
enum reason hcl_claims_parse(const uint8_t *claims, size_t size, struct hcl_claims *ret,
                             struct verdict *v);

/* Is the RSA JWK (n, e) the public key of pub? */
bool hcl_jwk_is_key(const uint8_t *n, size_t n_size, uint32_t e, const struct tpm_public *pub);
