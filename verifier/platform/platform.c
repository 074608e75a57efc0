/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The platform checks in their one order (platform.h; docs/PROTOCOL.md "What the verifier
 * checks"; tests/tools/cvm-reference.py evaluates the same order). */
#include "platform/platform.h"
#include "platform/tdx-collateral.h"

#include "common/openssl-util.h"
#include "common/util-verifier.h"
#include "tpm/tpm2b.h"

#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <stddef.h>
#include <string.h>

struct run {
        platform_step_fn step;
        void *userdata;
};

static enum reason done(const struct run *run, const char *step, enum reason r,
                        const struct verdict *v, const char *ok_detail)
{
        if (run->step)
                run->step(run->userdata, step, r, r == REASON_OK ? ok_detail : v->message);
        return r;
}

/* report_data: the SNP report's REPORT_DATA, or the TD's REPORTDATA (quote = TDREPORT). */
static enum reason check_binding(const struct run *run, const struct platform_evidence *ev,
                                 const struct platform_expect *ex, const uint8_t report_data[64],
                                 struct platform_facts *f, struct verdict *v)
{
        uint8_t claims_hash[32];
        char detail[256];
        enum reason k;

        if (ev->kind == PLATFORM_KIND_SNP_REPORT) {
                if (!ex->check_binding)
                        return done(run, "binding", REASON_OK, v,
                                    "not checked (no expected binding given)");
                if (CRYPTO_memcmp(report_data, ex->binding, 64) != 0)
                        return done(run, "binding",
                                    verdict_set(v, REASON_SNP_REPORT_DATA_MISMATCH,
                                                "REPORT_DATA is not the platform binding of "
                                                "this challenge and these keys"),
                                    v, NULL);
                return done(run, "binding", REASON_OK, v, "REPORT_DATA = the expected binding");
        }
        if (ev->kind == PLATFORM_KIND_TDX_QUOTE) {
                if (!ex->check_binding)
                        return done(run, "binding", REASON_OK, v,
                                    "not checked (no expected binding given)");
                if (CRYPTO_memcmp(report_data, ex->binding, 64) != 0)
                        return done(run, "binding",
                                    verdict_set(v, REASON_TDX_REPORT_DATA_MISMATCH,
                                                "REPORTDATA is not the platform binding of "
                                                "this challenge and these keys"),
                                    v, NULL);
                return done(run, "binding", REASON_OK, v, "REPORTDATA = the expected binding");
        }

        /* Azure: the report signs the claims' hash; the claims carry the binding and keys. */
        SHA256(f->hcl.claims, f->hcl.claims_size, claims_hash);
        {
                static const uint8_t zero[32];

                if (CRYPTO_memcmp(report_data, claims_hash, 32) != 0 ||
                    memcmp(report_data + 32, zero, 32) != 0)
                        return done(run, "binding",
                                    verdict_set(v, REASON_HCL_CLAIMS_HASH_MISMATCH,
                                                "REPORT_DATA is not SHA-256 of the HCL claims "
                                                "followed by 32 zero bytes"),
                                    v, NULL);
        }
        k = hcl_claims_parse(f->hcl.claims, f->hcl.claims_size, &f->claims, v);
        if (k != REASON_OK)
                return done(run, "binding", k, v, NULL);
        if (!f->claims.has_akpub)
                return done(
                    run, "binding",
                    verdict_set(v, REASON_HCL_AKPUB_MISSING, "the HCL claims have no HCLAkPub"), v,
                    NULL);
        if (!f->claims.ak_rsa || (f->claims.has_ekpub && !f->claims.ek_rsa))
                return done(
                    run, "binding",
                    verdict_set(v, REASON_HCL_KEY_TYPE, "HCLAkPub or HCLEkPub is not an RSA JWK"),
                    v, NULL);
        if (ex->check_binding && (!f->claims.has_user_data || f->claims.user_data_size != 64 ||
                                  CRYPTO_memcmp(f->claims.user_data, ex->binding, 64) != 0 ||
                                  !f->claims.user_data_upper))
                return done(run, "binding",
                            verdict_set(v, REASON_HCL_USER_DATA_MISMATCH,
                                        "the claims' user-data is not the platform binding of "
                                        "this challenge and these keys (in upper-case hex)"),
                            v, NULL);
        if (ex->ak && !hcl_jwk_is_key(f->claims.ak_n, f->claims.ak_n_size, f->claims.ak_e, ex->ak))
                return done(run, "binding",
                            verdict_set(v, REASON_HCL_AKPUB_MISMATCH,
                                        "the AK is not the claims' HCLAkPub: quote with the HCL "
                                        "AK at 0x81000003"),
                            v, NULL);
        /* HCLEkPub is the paravisor's RSA EK; an ECC EK is bound by the credential alone. */
        if (ex->ek && f->claims.has_ekpub && ex->ek->type == TPMW_ALG_RSA &&
            !hcl_jwk_is_key(f->claims.ek_n, f->claims.ek_n_size, f->claims.ek_e, ex->ek))
                return done(
                    run, "binding",
                    verdict_set(v, REASON_HCL_EKPUB_MISMATCH, "the EK is not the claims' HCLEkPub"),
                    v, NULL);
        f->tpm_vouched = ex->ak != NULL;
        snprintf(detail, sizeof(detail),
                 "REPORT_DATA = SHA-256(claims); HCLAkPub%s%s; user-data %s%s",
                 f->claims.has_ekpub ? " and HCLEkPub" : "", " present",
                 ex->check_binding ? "= the expected binding"
                                   : "not checked (no expected binding given)",
                 ex->ak ? "; HCLAkPub = the AK" : "");
        return done(run, "binding", REASON_OK, v, detail);
}

static bool kind_allowed(enum platform_require require, enum platform_kind kind)
{
        switch (require) {
        case PLATFORM_REQUIRE_NONE:
                return true;
        case PLATFORM_REQUIRE_SNP:
                return kind == PLATFORM_KIND_SNP_REPORT || kind == PLATFORM_KIND_AZURE_SNP_HCL;
        case PLATFORM_REQUIRE_AZURE_SNP:
                return kind == PLATFORM_KIND_AZURE_SNP_HCL;
        case PLATFORM_REQUIRE_TDX:
                return platform_kind_is_tdx(kind);
        case PLATFORM_REQUIRE_AZURE_TDX:
                return kind == PLATFORM_KIND_AZURE_TDX_HCL;
        }
        return false;
}

static const char *require_name(enum platform_require require)
{
        switch (require) {
        case PLATFORM_REQUIRE_SNP:
                return "SEV-SNP";
        case PLATFORM_REQUIRE_AZURE_SNP:
                return "Azure SEV-SNP HCL";
        case PLATFORM_REQUIRE_TDX:
                return "TDX";
        case PLATFORM_REQUIRE_AZURE_TDX:
                return "Azure TDX HCL";
        default:
                return "no";
        }
}

/* The fields of the TD both the quote's body and the TDREPORT carry: the first that differs,
 * or NULL. A quote is of this TDREPORT only if the TD it describes is the same. */
static const char *td_differs(const struct tdx_td_info *a, const struct tdx_td_info *b)
{
        static const struct {
                const char *name;
                size_t offset, size;
        } fields[] = {
            {"MRTD", offsetof(struct tdx_td_info, mrtd), 48},
            {"TD_ATTRIBUTES", offsetof(struct tdx_td_info, td_attributes), 8},
            {"XFAM", offsetof(struct tdx_td_info, xfam), 8},
            {"REPORTDATA", offsetof(struct tdx_td_info, report_data), 64},
            {"MRSEAM", offsetof(struct tdx_td_info, mrseam), 48},
            {"TEE_TCB_SVN", offsetof(struct tdx_td_info, tee_tcb_svn), 16},
            {"RTMRs", offsetof(struct tdx_td_info, rtmr), 4 * 48},
            {"MRCONFIGID", offsetof(struct tdx_td_info, mrconfigid), 48},
            {"MROWNER", offsetof(struct tdx_td_info, mrowner), 48},
            {"MROWNERCONFIG", offsetof(struct tdx_td_info, mrownerconfig), 48},
        };

        for (size_t i = 0; i < ELEMENTSOF(fields); i++)
                if (memcmp((const uint8_t *) a + fields[i].offset,
                           (const uint8_t *) b + fields[i].offset, fields[i].size) != 0)
                        return fields[i].name;
        return NULL;
}

/* The TCB status from Intel's collateral, authenticated first (steps "collateral", "tcb"),
 * unless the policy says tcb_status "unchecked". */
static enum reason verify_tdx_tcb(const struct amd_roots *roots, const struct run *run,
                                  const struct platform_policy *pol, const struct tdx_quote *q,
                                  X509 *pck, X509 *pck_ca, int64_t t, struct verdict *v)
{
        _cleanup_(tdx_collateral_done) struct tdx_collateral c = {};
        struct tdx_tcb_result res;
        char detail[256];
        enum reason k;

        if (pol->tdx_tcb_unchecked)
                return done(run, "tcb", REASON_OK, v,
                            "not evaluated: the policy says tdx.tcb_status \"unchecked\"");
        k = tdx_collateral_load(
            roots ? roots->tdx_collateral : NULL, pck, pck_ca,
            roots && roots->has_intel_pin ? roots->intel_pin : intel_sgx_root_sha256, t, &c, v);
        if (k != REASON_OK)
                return done(run, "collateral", k, v, NULL);
        done(run, "collateral", REASON_OK, v,
             "TCB info and QE identity signed by Intel SGX TCB Signing (pinned root); PCK and "
             "CAs not revoked; all current");
        k = tdx_tcb_evaluate(q, pck, c.tcb_info, c.qe_identity, t, &res, v);
        if (k == REASON_OK)
                k = tdx_tcb_status_check(pol, res.tcb_status, res.qe_status, v);
        if (k != REASON_OK)
                return done(run, "tcb", k, v, NULL);
        snprintf(detail, sizeof(detail), "FMSPC %s: platform %s, TCB %s, QE %s", c.fmspc,
                 res.platform_status, res.tcb_status, res.qe_status);
        return done(run, "tcb", REASON_OK, v, detail);
}

/* TDX, in the oracle's order: parse (Azure: the HCL, its TDREPORT, the claims hash, the quote,
 * the quote of this TDREPORT), the PCK chain, the QE report, the quote's signature, the
 * collateral and the TCB status, the policy (DEBUG, MRTD, RTMRs), the binding. The TDREPORT's
 * MAC is for the CPU only: the quote of the same TD is what vouches for it. */
static enum reason verify_tdx(const struct amd_roots *roots, const struct run *run,
                              const struct platform_policy *pol, const struct platform_evidence *ev,
                              const struct platform_expect *ex, int64_t t, struct platform_facts *f,
                              struct verdict *v)
{
        _cleanup_(X509_freep) X509 *pck = NULL, *pck_ca = NULL;
        const uint8_t *quote = ev->report;
        size_t quote_size = ev->report_size;
        char detail[512], mrtd[97];
        const char *field;
        enum reason k;

        if (ev->kind == PLATFORM_KIND_AZURE_TDX_HCL) {
                uint8_t claims_hash[32];
                static const uint8_t zero[32];

                k = hcl_parse_type(ev->report, ev->report_size, HCL_REPORT_TDX, &f->hcl, v);
                if (k != REASON_OK)
                        return done(run, "parse", k, v, NULL);
                f->have_hcl = true;
                k = tdreport_parse(f->hcl.hw, TDREPORT_SIZE, &f->td, v);
                if (k != REASON_OK)
                        return done(run, "parse", k, v, NULL);
                f->have_tdreport = true;
                hex_encode(f->td.mrtd, 48, mrtd);
                snprintf(detail, sizeof(detail),
                         "HCL blob with a TDREPORT and %u bytes of claims; MRTD %s, DEBUG %d",
                         f->hcl.claims_size, mrtd, f->td.td_attributes[0] & TDX_ATTR_DEBUG);
                done(run, "parse", REASON_OK, v, detail);
                SHA256(f->hcl.claims, f->hcl.claims_size, claims_hash);
                if (CRYPTO_memcmp(f->td.report_data, claims_hash, 32) != 0 ||
                    memcmp(f->td.report_data + 32, zero, 32) != 0)
                        return done(run, "claims",
                                    verdict_set(v, REASON_HCL_CLAIMS_HASH_MISMATCH,
                                                "REPORTDATA is not SHA-256 of the HCL claims "
                                                "followed by 32 zero bytes"),
                                    v, NULL);
                done(run, "claims", REASON_OK, v, "TDREPORT REPORTDATA = SHA-256(claims) || 0^32");
                if (!ev->tdx_quote)
                        return done(run, "quote",
                                    verdict_set(v, REASON_TDX_QUOTE_MISSING,
                                                "no TD quote of the TDREPORT: a TDREPORT is "
                                                "MAC'd for this CPU only and proves nothing "
                                                "off it"),
                                    v, NULL);
                quote = ev->tdx_quote;
                quote_size = ev->tdx_quote_size;
        }
        k = tdx_quote_parse(quote, quote_size, &f->quote, v);
        if (k != REASON_OK)
                return done(run, f->have_tdreport ? "quote" : "parse", k, v, NULL);
        f->have_tdx = true;
        hex_encode(f->quote.td.mrtd, 48, mrtd);
        snprintf(detail, sizeof(detail),
                 "TDX quote version %u, body type %u, MRTD %s, TD_ATTRIBUTES %02x%02x%02x%02x"
                 "%02x%02x%02x%02x, %zu unsigned trailing bytes (ignored)",
                 f->quote.version, f->quote.body_type, mrtd, f->quote.td.td_attributes[0],
                 f->quote.td.td_attributes[1], f->quote.td.td_attributes[2],
                 f->quote.td.td_attributes[3], f->quote.td.td_attributes[4],
                 f->quote.td.td_attributes[5], f->quote.td.td_attributes[6],
                 f->quote.td.td_attributes[7], f->quote.trailing);
        done(run, f->have_tdreport ? "quote" : "parse", REASON_OK, v, detail);
        if (f->have_tdreport) {
                field = td_differs(&f->quote.td, &f->td);
                if (field)
                        return done(run, "quote-matches-tdreport",
                                    verdict_set(v, REASON_TDX_QUOTE_TDREPORT_MISMATCH,
                                                "the quote is of another TD than the HCL's "
                                                "TDREPORT (%s differs)",
                                                field),
                                    v, NULL);
                done(run, "quote-matches-tdreport", REASON_OK, v,
                     "MRTD, attributes, XFAM, REPORTDATA, MRSEAM, TEE_TCB_SVN, RTMRs, MRCONFIGID, "
                     "MROWNER, MROWNERCONFIG equal");
        } else
                f->td = f->quote.td;

        k = tdx_pck_chain_verify(
            &f->quote, roots && roots->has_intel_pin ? roots->intel_pin : intel_sgx_root_sha256, t,
            &pck, &pck_ca, f->pck_ca, sizeof(f->pck_ca), v);
        if (k != REASON_OK)
                return done(run, "chain", k, v, NULL);
        snprintf(detail, sizeof(detail), "PCK > %s > Intel SGX Root CA (pinned)", f->pck_ca);
        done(run, "chain", REASON_OK, v, detail);
        k = tdx_qe_report_verify(&f->quote, pck, v);
        if (k != REASON_OK)
                return done(run, "qe-report", k, v, NULL);
        done(run, "qe-report", REASON_OK, v,
             "signed by the PCK key; binds the attestation key and QE auth data");
        k = tdx_quote_signature_verify(&f->quote, v);
        if (k != REASON_OK)
                return done(run, "signature", k, v, NULL);
        done(run, "signature", REASON_OK, v, "ECDSA P-256 SHA-256 by the attestation key");
        k = verify_tdx_tcb(roots, run, pol, &f->quote, pck, pck_ca, t, v);
        if (k != REASON_OK)
                return k;
        k = tdx_policy_check(pol, &f->quote.td, v);
        if (k != REASON_OK)
                return done(run, "policy", k, v, NULL);
        done(run, "policy", REASON_OK, v, "debug, MRTD, RTMRs");
        return check_binding(run, ev, ex, f->quote.td.report_data, f, v);
}

enum reason platform_verify(const struct amd_roots *roots, const struct platform_policy *pol,
                            const struct platform_evidence *ev, const struct platform_expect *ex,
                            int64_t t, platform_step_fn step, void *userdata,
                            struct platform_facts *facts, struct verdict *v)
{
        const struct run run = {step, userdata};
        struct platform_facts scratch = {};
        struct amd_vek_ext ext;
        struct snp_tcb tcb;
        const uint8_t *snp = ev->report;
        size_t snp_size = ev->report_size;
        char detail[512], tcb_text[64];
        struct snp_report *r;
        enum reason k;

        if (!facts)
                facts = &scratch;
        *facts = (struct platform_facts){};
        r = &facts->report;

        if (!kind_allowed(pol->require, ev->kind))
                return done(&run, "kind",
                            verdict_set(v, REASON_PLATFORM_KIND_NOT_ALLOWED,
                                        "the policy requires %s evidence, not %s",
                                        require_name(pol->require), platform_kind_name(ev->kind)),
                            v, NULL);
        if (platform_kind_is_tdx(ev->kind))
                return verify_tdx(roots, &run, pol, ev, ex, t, facts, v);

        /* 1. Parse. */
        if (ev->kind == PLATFORM_KIND_AZURE_SNP_HCL) {
                k = hcl_parse(ev->report, ev->report_size, &facts->hcl, v);
                if (k != REASON_OK)
                        return done(&run, "parse", k, v, NULL);
                facts->have_hcl = true;
                snp = facts->hcl.hw;
                snp_size = HCL_HW_SIZE;
        }
        k = snp_report_parse(snp, snp_size, r, v);
        if (k != REASON_OK)
                return done(&run, "parse", k, v, NULL);
        facts->have_report = true;
        snp_tcb_decode(r->reported_tcb,
                       r->product == SNP_PRODUCT_NONE ? SNP_PRODUCT_MILAN : r->product, &tcb);
        snp_tcb_format(&tcb, tcb_text, sizeof(tcb_text));
        snprintf(detail, sizeof(detail),
                 "%sSNP report version %u, VMPL %u, policy 0x%llx, signing key %s, CPUID "
                 "product %s, reported TCB %s, guest SVN %u",
                 facts->have_hcl ? "HCL blob with claims; " : "", r->version, r->vmpl,
                 (unsigned long long) r->policy, snp_signing_key_name(r->signing_key),
                 snp_product_name(r->product), tcb_text, r->guest_svn);
        done(&run, "parse", REASON_OK, v, detail);

        /* 2. The VEK: present, of the kind the report names. */
        if (!ev->vek)
                return done(&run, "vek",
                            verdict_set(v, REASON_VEK_MISSING,
                                        "no VCEK/VLEK for this report (chip %02x%02x%02x%02x…, "
                                        "reported TCB 0x%016llx)",
                                        r->chip_id[0], r->chip_id[1], r->chip_id[2], r->chip_id[3],
                                        (unsigned long long) r->reported_tcb),
                            v, NULL);
        facts->vek_kind = amd_vek_kind_of(ev->vek);
        if ((r->signing_key == SNP_SIGNING_VCEK && facts->vek_kind != AMD_VEK_VCEK) ||
            (r->signing_key == SNP_SIGNING_VLEK && facts->vek_kind != AMD_VEK_VLEK) ||
            (r->signing_key != SNP_SIGNING_VCEK && r->signing_key != SNP_SIGNING_VLEK))
                return done(&run, "vek",
                            verdict_set(v, REASON_SNP_SIGNER_MISMATCH,
                                        "the report is signed by a %s, the certificate is a %s",
                                        snp_signing_key_name(r->signing_key),
                                        amd_vek_kind_name(facts->vek_kind)),
                            v, NULL);
        amd_vek_ext_parse(ev->vek, &ext);
        facts->product = r->product != SNP_PRODUCT_NONE ? r->product
                         : ext.product[0]               ? snp_product_from_name(ext.product)
                                                        : SNP_PRODUCT_NONE;
        snprintf(detail, sizeof(detail), "%s, product %s", amd_vek_kind_name(facts->vek_kind),
                 ext.product[0] ? ext.product : "-");
        done(&run, "vek", REASON_OK, v, detail);

        /* 3. The chain to a pinned ARK. */
        k = amd_chain_verify(roots, facts->product, ev->vek, facts->vek_kind, ev->ask, ev->ark, t,
                             facts->chain, sizeof(facts->chain), v);
        if (k != REASON_OK)
                return done(&run, "chain", k, v, NULL);
        done(&run, "chain", REASON_OK, v, facts->chain);

        /* 4. The VEK is this chip's, at this TCB. Version 2 reports without a product in the
         * VEK read the TCB as Milan/Genoa do. */
        k = amd_vek_match(r,
                          facts->product == SNP_PRODUCT_NONE ? SNP_PRODUCT_MILAN : facts->product,
                          ev->vek, facts->vek_kind, &ext, v);
        if (k != REASON_OK)
                return done(&run, "vek-matches-report", k, v, NULL);
        done(&run, "vek-matches-report", REASON_OK, v,
             facts->vek_kind == AMD_VEK_VCEK ? "hwID = CHIP_ID, SPLs = REPORTED_TCB"
                                             : "SPLs = REPORTED_TCB");

        /* 5. The signature. */
        k = snp_signature_verify(r, ev->vek, v);
        if (k != REASON_OK)
                return done(&run, "signature", k, v, NULL);
        done(&run, "signature", REASON_OK, v, "ECDSA P-384 SHA-384 by the VEK");

        /* 6. The policy. */
        k = snp_policy_check(pol, r, facts->product, v);
        if (k != REASON_OK)
                return done(&run, "policy", k, v, NULL);
        done(&run, "policy", REASON_OK, v, "debug, VMPL, migration, measurement, keys, TCB, SVN");

        /* 7. The binding. */
        return check_binding(&run, ev, ex, r->report_data, facts, v);
}
