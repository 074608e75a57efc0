/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Strict parsing of SEV-SNP attestation reports (snp-report.h). */
#include "platform/snp-report.h"

#include "common/util-verifier.h"

#include <string.h>

static uint32_t le32(const uint8_t *p)
{
        return (uint32_t) p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16 |
               (uint32_t) p[3] << 24;
}

static uint64_t le64(const uint8_t *p)
{
        return (uint64_t) le32(p) | (uint64_t) le32(p + 4) << 32;
}

static bool all_zero(const uint8_t *p, size_t n)
{
        uint8_t acc = 0;

        for (size_t i = 0; i < n; i++)
                acc |= p[i];
        return acc == 0;
}

/* CPUID family/model of the report (version >= 3) to the product whose AMD chain signs it. */
static enum snp_product product_of(uint8_t fam, uint8_t mod)
{
        if (fam == 0x19 && mod <= 0x0F)
                return SNP_PRODUCT_MILAN;
        if (fam == 0x19 && ((mod >= 0x10 && mod <= 0x1F) || (mod >= 0xA0 && mod <= 0xAF)))
                return SNP_PRODUCT_GENOA;
        if (fam == 0x1A && mod <= 0x11)
                return SNP_PRODUCT_TURIN;
        return SNP_PRODUCT_UNKNOWN;
}

enum reason snp_report_parse(const uint8_t *b, size_t size, struct snp_report *ret,
                             struct verdict *v)
{
        struct snp_report r = {};
        struct {
                size_t lo, hi;
        } mbz[6];

        if (size != SNP_REPORT_SIZE)
                return verdict_set(v, REASON_SNP_REPORT_SIZE, "the SNP report is %zu bytes, not %d",
                                   size, SNP_REPORT_SIZE);
        r.version = le32(b + 0x00);
        r.guest_svn = le32(b + 0x04);
        r.policy = le64(b + 0x08);
        memcpy(r.family_id, b + 0x10, 16);
        memcpy(r.image_id, b + 0x20, 16);
        r.vmpl = le32(b + 0x30);
        r.sig_algo = le32(b + 0x34);
        r.current_tcb = le64(b + 0x38);
        r.platform_info = le64(b + 0x40);
        r.signer_info = le32(b + 0x48);
        memcpy(r.report_data, b + 0x50, 64);
        memcpy(r.measurement, b + 0x90, 48);
        memcpy(r.host_data, b + 0xC0, 32);
        memcpy(r.id_key_digest, b + 0xE0, 48);
        memcpy(r.author_key_digest, b + 0x110, 48);
        r.reported_tcb = le64(b + 0x180);
        r.cpuid_fam = b[0x188];
        r.cpuid_mod = b[0x189];
        r.cpuid_step = b[0x18A];
        memcpy(r.chip_id, b + 0x1A0, 64);
        r.committed_tcb = le64(b + 0x1E0);
        r.current_build = b[0x1E8];
        r.current_minor = b[0x1E9];
        r.current_major = b[0x1EA];
        r.launch_tcb = le64(b + 0x1F0);
        memcpy(r.sig_r, b + SNP_SIGNED_SIZE, SNP_SIG_COMPONENT);
        memcpy(r.sig_s, b + SNP_SIGNED_SIZE + SNP_SIG_COMPONENT, SNP_SIG_COMPONENT);
        r.raw = b;

        /* Version 1 has no REPORTED_TCB semantics the VCEK can be matched with; versions
         * above 5 may give reserved bytes a meaning this parser would ignore. */
        if (r.version < 2 || r.version > 5)
                return verdict_set(v, REASON_SNP_REPORT_VERSION,
                                   "SNP report version %u; nodegate reads versions 2 to 5",
                                   r.version);
        if (r.sig_algo != 1)
                return verdict_set(v, REASON_SNP_SIGNATURE_ALGORITHM,
                                   "SNP report signature algorithm %u, not 1 (ECDSA P-384 with "
                                   "SHA-384)",
                                   r.sig_algo);
        if (!(r.policy & (UINT64_C(1) << SNP_POLICY_RESERVED1)) || (r.policy >> 26) != 0)
                return verdict_set(v, REASON_SNP_POLICY_RESERVED,
                                   "SNP guest policy 0x%llx: bit 17 must be set and bits 26-63 "
                                   "clear",
                                   (unsigned long long) r.policy);
        /* Reserved (must-be-zero) ranges of each version: the CPUID bytes are reserved before
         * version 3, the mitigation vectors before version 5. */
        mbz[0].lo = 0x4C, mbz[0].hi = 0x50;
        mbz[1].lo = r.version >= 3 ? 0x18B : 0x188, mbz[1].hi = 0x1A0;
        mbz[2].lo = 0x1EB, mbz[2].hi = 0x1EC;
        mbz[3].lo = 0x1EF, mbz[3].hi = 0x1F0;
        mbz[4].lo = r.version < 5 ? 0x1F8 : 0x208, mbz[4].hi = 0x2A0;
        mbz[5].lo = SNP_SIGNED_SIZE + 2 * SNP_SIG_COMPONENT, mbz[5].hi = SNP_REPORT_SIZE;
        for (size_t i = 0; i < ELEMENTSOF(mbz); i++)
                if (!all_zero(b + mbz[i].lo, mbz[i].hi - mbz[i].lo))
                        return verdict_set(v, REASON_SNP_RESERVED_NONZERO,
                                           "SNP report bytes 0x%zx-0x%zx are reserved and not "
                                           "zero",
                                           mbz[i].lo, mbz[i].hi);
        r.product = r.version >= 3 ? product_of(r.cpuid_fam, r.cpuid_mod) : SNP_PRODUCT_NONE;
        r.signing_key = (enum snp_signing_key)((r.signer_info >> 2) & 7);
        *ret = r;
        return REASON_OK;
}

void snp_tcb_decode(uint64_t tcb, enum snp_product product, struct snp_tcb *ret)
{
        uint8_t b[8];

        for (int i = 0; i < 8; i++)
                b[i] = (uint8_t) (tcb >> (8 * i));
        *ret = (struct snp_tcb){};
        if (product == SNP_PRODUCT_TURIN) {
                ret->fmc = b[0];
                ret->bl = b[1];
                ret->tee = b[2];
                ret->snp = b[3];
                ret->has_fmc = true;
        } else {
                ret->bl = b[0];
                ret->tee = b[1];
                ret->snp = b[6];
        }
        ret->ucode = b[7];
}

void snp_tcb_format(const struct snp_tcb *t, char *buf, size_t size)
{
        if (t->has_fmc)
                snprintf(buf, size, "fmc:%u,bl:%u,tee:%u,snp:%u,ucode:%u", t->fmc, t->bl, t->tee,
                         t->snp, t->ucode);
        else
                snprintf(buf, size, "bl:%u,tee:%u,snp:%u,ucode:%u", t->bl, t->tee, t->snp,
                         t->ucode);
}

const char *snp_product_name(enum snp_product p)
{
        switch (p) {
        case SNP_PRODUCT_MILAN:
                return "Milan";
        case SNP_PRODUCT_GENOA:
                return "Genoa";
        case SNP_PRODUCT_TURIN:
                return "Turin";
        case SNP_PRODUCT_NONE:
                return "-";
        default:
                return "unknown";
        }
}

enum snp_product snp_product_from_name(const char *name)
{
        static const struct {
                const char *name;
                enum snp_product p;
        } table[] = {
            {"Milan", SNP_PRODUCT_MILAN},
            {"Genoa", SNP_PRODUCT_GENOA},
            {"Turin", SNP_PRODUCT_TURIN},
        };
        size_t n = strcspn(name, "-");

        for (size_t i = 0; i < ELEMENTSOF(table); i++)
                if (strlen(table[i].name) == n && strncmp(name, table[i].name, n) == 0)
                        return table[i].p;
        return SNP_PRODUCT_UNKNOWN;
}

const char *snp_signing_key_name(enum snp_signing_key k)
{
        switch (k) {
        case SNP_SIGNING_VCEK:
                return "vcek";
        case SNP_SIGNING_VLEK:
                return "vlek";
        case SNP_SIGNING_NONE:
                return "none";
        default:
                return "reserved";
        }
}
