/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The AMD SEV-SNP ATTESTATION_REPORT (SNP Firmware ABI, versions 2-5): 1184 bytes,
 * little-endian, parsed strictly — size, version, signature algorithm, the policy's reserved
 * bits and every reserved byte range of the version must be what the ABI says, so a report
 * the verifier accepts has exactly one reading. Offsets as go-sev-guest's abi.ReportToProto
 * and tests/tools/cvm-reference.py read them (docs/cvm.md). */
#pragma once

#include "appraisal/verdict.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SNP_REPORT_SIZE   0x4A0 /* 1184 */
#define SNP_SIGNED_SIZE   0x2A0 /* the signature covers bytes [0, 0x2A0) */
#define SNP_SIG_COMPONENT 72    /* r and s, little-endian, each */

/* Guest policy bits (SNP ABI "GUEST_POLICY"). */
#define SNP_POLICY_SMT        16
#define SNP_POLICY_RESERVED1  17 /* must be one */
#define SNP_POLICY_MIGRATE_MA 18
#define SNP_POLICY_DEBUG      19

enum snp_product {
        SNP_PRODUCT_NONE = 0, /* not in the report (version 2): from the VEK */
        SNP_PRODUCT_MILAN,
        SNP_PRODUCT_GENOA,
        SNP_PRODUCT_TURIN,
        SNP_PRODUCT_UNKNOWN,
};

enum snp_signing_key {
        SNP_SIGNING_VCEK = 0,
        SNP_SIGNING_VLEK = 1,
        SNP_SIGNING_NONE = 7,
};

/* A TCB_VERSION decoded per product: Milan/Genoa bl[0] tee[1] snp[6] ucode[7]; Turin fmc[0]
 * bl[1] tee[2] snp[3] ucode[7]. has_fmc only on Turin. */
struct snp_tcb {
        uint8_t fmc, bl, tee, snp, ucode;
        bool has_fmc;
};

struct snp_report {
        uint32_t version;
        uint32_t guest_svn;
        uint64_t policy;
        uint8_t family_id[16];
        uint8_t image_id[16];
        uint32_t vmpl;
        uint32_t sig_algo;
        uint64_t current_tcb;
        uint64_t platform_info;
        uint32_t signer_info; /* bit 0 author_key_en, bit 1 mask_chip_key, bits 2-4 signing_key */
        uint8_t report_data[64];
        uint8_t measurement[48];
        uint8_t host_data[32];
        uint8_t id_key_digest[48];
        uint8_t author_key_digest[48];
        uint64_t reported_tcb;
        uint8_t cpuid_fam, cpuid_mod, cpuid_step; /* version >= 3 */
        uint8_t chip_id[64];
        uint64_t committed_tcb;
        uint8_t current_major, current_minor, current_build;
        uint64_t launch_tcb;
        uint8_t sig_r[SNP_SIG_COMPONENT]; /* little-endian, as stored */
        uint8_t sig_s[SNP_SIG_COMPONENT];
        enum snp_product product; /* from CPUID (version >= 3), else NONE */
        enum snp_signing_key signing_key;
        const uint8_t *raw; /* the caller's bytes, SNP_REPORT_SIZE of them */
};

/* Parses b (size bytes) into *ret. On refusal v says why: snp-report-size, snp-report-version,
 * snp-signature-algorithm, snp-policy-reserved or snp-reserved-nonzero (message: the range).
 * ret->raw points into b. @return REASON_OK or the reason */
enum reason snp_report_parse(const uint8_t *b, size_t size, struct snp_report *ret,
                             struct verdict *v);

void snp_tcb_decode(uint64_t tcb, enum snp_product product, struct snp_tcb *ret);
/* "bl:3,tee:0,snp:8,ucode:115" (Turin: "fmc:…," first) into buf. */
void snp_tcb_format(const struct snp_tcb *t, char *buf, size_t size);
const char *snp_product_name(enum snp_product p);
/* "Milan", "Milan-B0", "Genoa", "Turin" (a VEK's product extension, stepping after '-').
 * @return the product or SNP_PRODUCT_UNKNOWN */
enum snp_product snp_product_from_name(const char *name);
const char *snp_signing_key_name(enum snp_signing_key k);
