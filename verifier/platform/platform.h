/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Platform evidence (docs/PROTOCOL.md, "Platform evidence"): an SEV-SNP report, an Azure SNP HCL
 * blob, a TDX quote or an Azure TDX HCL blob with its TD quote, checked in the one order the
 * protocol, the offline check and the oracle share — parse, chain, VEK matches report (the
 * quote matches the TDREPORT), signature, policy, binding — against the platform policy. */
#pragma once

#include "appraisal/verdict.h"
#include "platform/amd-chain.h"
#include "platform/azure-hcl.h"
#include "platform/snp-report.h"
#include "platform/tdx-quote.h"

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

struct tpm_public;

#define PLATFORM_REPORT_MAX    8192
#define PLATFORM_BINDING_LABEL "nodegate platform v3"

enum platform_require {
        PLATFORM_REQUIRE_NONE = 0,
        PLATFORM_REQUIRE_SNP,       /* either kind */
        PLATFORM_REQUIRE_AZURE_SNP, /* azure-snp-hcl */
        PLATFORM_REQUIRE_TDX,       /* tdx-quote or azure-tdx-hcl */
        PLATFORM_REQUIRE_AZURE_TDX, /* azure-tdx-hcl */
};

enum platform_tpm_trust {
        PLATFORM_TPM_CLOUD_CA = 0, /* version 2's EK trust; the report proves the guest */
        PLATFORM_TPM_TEE,          /* the report puts the EK/AK in the TEE; no enrolment */
        PLATFORM_TPM_NONE,         /* no proof for the TPM: the host may read the token */
};

enum platform_kind {
        PLATFORM_KIND_SNP_REPORT = 0,
        PLATFORM_KIND_AZURE_SNP_HCL,
        PLATFORM_KIND_TDX_QUOTE,     /* a DCAP quote v4/v5 (configfs-tsm outblob on TDX) */
        PLATFORM_KIND_AZURE_TDX_HCL, /* the HCL blob with a TDREPORT, and a TD quote of it */
};

static inline bool platform_kind_is_tdx(enum platform_kind k)
{
        return k == PLATFORM_KIND_TDX_QUOTE || k == PLATFORM_KIND_AZURE_TDX_HCL;
}

#define PLATFORM_DIGESTS_MAX 64

struct platform_min_tcb {
        bool set;
        struct snp_tcb tcb;
};

struct platform_policy {
        enum platform_require require;
        enum platform_tpm_trust tpm_trust;
        bool allow_debug, allow_migrate_ma;
        bool admit_unenrolled_ek; /* round 1 admits an EK nobody enrolled (ek_trust 3) */
        uint32_t vmpl;
        uint32_t min_guest_svn;
        uint8_t measurements[PLATFORM_DIGESTS_MAX][48];
        size_t n_measurements;
        uint8_t id_keys[PLATFORM_DIGESTS_MAX][48];
        size_t n_id_keys;
        uint8_t author_keys[PLATFORM_DIGESTS_MAX][48];
        size_t n_author_keys;
        struct platform_min_tcb min_reported[SNP_PRODUCT_UNKNOWN];
        struct platform_min_tcb min_launch[SNP_PRODUCT_UNKNOWN];
        /* TDX: TD_ATTRIBUTES.DEBUG allowed, MRTD and RTMR0-3 allowlists (empty: any), the TCB
         * statuses accepted (bits of enum tdx_tcb_status; both the platform's and the quoting
         * enclave's must be one), or not evaluated at all (tcb_status "unchecked"). */
        bool tdx_allow_debug;
        uint32_t tdx_tcb_statuses;
        bool tdx_tcb_unchecked;
        uint8_t mrtds[PLATFORM_DIGESTS_MAX][48];
        size_t n_mrtds;
        uint8_t rtmrs[4][PLATFORM_DIGESTS_MAX][48];
        size_t n_rtmrs[4];
};

enum tdx_tcb_status {
        TDX_TCB_UP_TO_DATE,
        TDX_TCB_SW_HARDENING_NEEDED,
        TDX_TCB_CONFIGURATION_NEEDED,
        TDX_TCB_CONFIGURATION_AND_SW_HARDENING_NEEDED,
        TDX_TCB_OUT_OF_DATE,
        TDX_TCB_OUT_OF_DATE_CONFIGURATION_NEEDED,
};

/* require none, tpm_trust cloud-ca, TDX TCB status UpToDate, no debug, no MIGRATE_MA, VMPL 0,
 * nothing pinned. */
void platform_policy_default(struct platform_policy *p);
/* The policy file's "platform" section (docs/PROTOCOL.md, "The platform policy"); unknown
 * keys refused. @return 0 or -EINVAL, err says why */
int platform_policy_parse(json_object *section, struct platform_policy *ret, char *err,
                          size_t errlen);
/* The section as JSON (policy show, from-evidence). @return new object or NULL */
json_object *platform_policy_to_json(const struct platform_policy *p);
const char *platform_kind_name(enum platform_kind k);
/* "snp-report", "azure-snp-hcl", "tdx-quote", "azure-tdx-hcl" (and the oracle's "az-snp-hcl",
 * "az-tdx-hcl"). @return 0 or -EINVAL */
int platform_kind_from_name(const char *s, enum platform_kind *ret);

/* What the node sent (or the offline check read). */
struct platform_evidence {
        enum platform_kind kind;
        const uint8_t *report;
        size_t report_size;
        X509 *vek;                /* NULL: vek-missing */
        X509 *ask, *ark;          /* offline --chain: replace the pinned ASK and ARK; else NULL */
        const uint8_t *tdx_quote; /* azure-tdx-hcl: the TD quote of the TDREPORT; NULL: none */
        size_t tdx_quote_size;
};

/* What the evidence must be bound to. */
struct platform_expect {
        bool check_binding; /* the offline check without --binding does not */
        uint8_t binding[64];
        const struct tpm_public *ak, *ek; /* NULL: not compared (offline) */
};

/* What was read, for the offline check's lines and policy from-evidence. */
struct platform_facts {
        bool have_report;
        struct snp_report report;
        enum snp_product product;
        enum amd_vek_kind vek_kind;
        char chain[160];
        bool have_hcl;
        struct hcl_report hcl;
        struct hcl_claims claims;
        bool tpm_vouched; /* the report names the AK (Azure HCLAkPub = AK) */
        bool have_tdx;    /* a TDX quote was parsed (td: its body) */
        struct tdx_quote quote;
        bool have_tdreport; /* azure-tdx-hcl: the TDREPORT was parsed (td: its fields) */
        struct tdx_td_info td;
        char pck_ca[64];
};

/* Called once per check that ran: name ("parse", "vek", "chain", "vek-matches-report",
 * "signature", "policy", "binding"; TDX: "parse", "claims", "quote", "quote-matches-tdreport",
 * "chain", "qe-report", "signature", "collateral", "tcb", "policy", "binding"), its outcome
 * (REASON_OK or the refusal) and one line. */
typedef void (*platform_step_fn)(void *userdata, const char *step, enum reason r,
                                 const char *detail);

/* Every check in order, t the verification time (Unix seconds). The first failure is the
 * answer, in v. facts may be NULL. */
enum reason platform_verify(const struct amd_roots *roots, const struct platform_policy *pol,
                            const struct platform_evidence *ev, const struct platform_expect *ex,
                            int64_t t, platform_step_fn step, void *userdata,
                            struct platform_facts *facts, struct verdict *v);

/* P = SHA-512("nodegate platform v3" || 0x00 || challenge || EK name || AK name). */
void platform_binding(const uint8_t *challenge, size_t challenge_size, const uint8_t *ek_name,
                      size_t ek_name_size, const uint8_t *ak_name, size_t ak_name_size,
                      uint8_t ret[64]);

/* ECDSA P-384/SHA-384 over the report's signed bytes with the VEK's key. */
enum reason snp_signature_verify(const struct snp_report *r, X509 *vek, struct verdict *v);
/* The platform's and the QE's TCB status (Intel's names) against tdx.tcb_status:
 * tdx-tcb-status, tdx-qe-tcb-status. */
enum reason tdx_tcb_status_check(const struct platform_policy *pol, const char *tcb_status,
                                 const char *qe_status, struct verdict *v);
/* The policy checks on a verified TD quote: TD_ATTRIBUTES.DEBUG, MRTD, RTMR0-3. */
enum reason tdx_policy_check(const struct platform_policy *pol, const struct tdx_td_info *td,
                             struct verdict *v);
/* The policy checks on a verified report (PROTOCOL.md step 7). */
enum reason snp_policy_check(const struct platform_policy *pol, const struct snp_report *r,
                             enum snp_product product, struct verdict *v);
