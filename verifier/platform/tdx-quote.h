/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Intel TDX quotes (DCAP "Quote Format", versions 4 and 5) and the Azure TDREPORT, parsed
 * strictly: header, body (type 2 TDX 1.0, 584 bytes; type 3 TDX 1.5, 648 bytes; version 5 names
 * it in a body descriptor), the signature data with its certification data type 6 (QE report,
 * its signature, the QE authentication data) and the nested type 5 (the PCK chain as PEM). Every
 * length must add up exactly; bytes after the signature data are not signed and are ignored,
 * as the oracle (tests/tools/cvm-reference.py) and Intel's QVL do. Offsets in docs/cvm.md. */
#pragma once

#include "appraisal/verdict.h"

#include <json-c/json.h>
#include <openssl/x509.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TDX_HEADER_SIZE      48
#define TDX_BODY_V4_SIZE     584 /* TD report body, TDX 1.0 (type 2) */
#define TDX_BODY_V5_SIZE     648 /* TDX 1.5 (type 3): + TEE_TCB_SVN2, MRSERVICETD */
#define TDX_QE_REPORT_SIZE   384 /* an SGX report body */
#define TDX_TEE_TYPE         0x81
#define TDX_ATTESTATION_P256 2
#define TDREPORT_SIZE        1024
#define TDX_ATTR_DEBUG       0x01 /* TD_ATTRIBUTES byte 0 bit 0 */

/* The TD's fields a quote body and a TDREPORT have in common. */
struct tdx_td_info {
        uint8_t tee_tcb_svn[16];
        uint8_t mrseam[48];
        uint8_t td_attributes[8]; /* as stored (little-endian): DEBUG is byte 0 bit 0 */
        uint8_t xfam[8];
        uint8_t mrtd[48];
        uint8_t mrconfigid[48];
        uint8_t mrowner[48];
        uint8_t mrownerconfig[48];
        uint8_t rtmr[4][48];
        uint8_t report_data[64];
};

struct tdx_quote {
        uint16_t version;   /* 4 or 5 */
        uint16_t body_type; /* 2 or 3 */
        uint8_t qe_vendor[16];
        struct tdx_td_info td;
        uint8_t mrsignerseam[48];
        uint8_t seam_attributes[8];
        const uint8_t *signed_part; /* header and body: what the attestation key signs */
        size_t signed_size;
        const uint8_t *signature;  /* 64: r || s, big-endian */
        const uint8_t *attest_key; /* 64: x || y of the P-256 attestation key */
        const uint8_t *qe_report;  /* TDX_QE_REPORT_SIZE */
        const uint8_t *qe_signature;
        const uint8_t *qe_auth;
        size_t qe_auth_size;
        const uint8_t *pck_chain; /* PEM: PCK leaf, PCK Platform/Processor CA, Intel SGX Root CA */
        size_t pck_chain_size;
        size_t trailing; /* unsigned bytes after the signature data */
};

/* Parses b (size bytes; pointers in ret point into b). Reasons: tdx-quote-size,
 * tdx-quote-version, tdx-quote-tee-type, tdx-quote-key-type, tdx-quote-body,
 * tdx-quote-cert-data, tdx-quote-pck-missing. @return REASON_OK or the reason */
enum reason tdx_quote_parse(const uint8_t *b, size_t size, struct tdx_quote *ret,
                            struct verdict *v);

/* A TDREPORT (TDX module ABI, 1024 bytes: REPORTMACSTRUCT, TEE_TCB_INFO, TDINFO) as Azure's HCL
 * carries it. Its MAC is for this CPU only: the verifier can read it, never verify it — a quote
 * of the same TD vouches for it. Reason: tdreport-type. */
enum reason tdreport_parse(const uint8_t *b, size_t size, struct tdx_td_info *ret,
                           struct verdict *v);

/* The pinned Intel SGX Root CA: SHA-256 of its DER (intel-roots.c; make check-cvm-verifier
 * compares it with tests/fixtures/cvm/roots/gtg-intel-sgx-root-ca.pem). */
extern const uint8_t intel_sgx_root_sha256[32];

/* Everything but the collateral, in the oracle's order, as three steps. */

/* The PCK chain: exactly three certificates, the root the pinned one (root_pin: SHA-256 of its
 * DER, intel_sgx_root_sha256 unless a test replaces it), each valid at t, each
 * signed by the next (ECDSA P-256), the intermediate an Intel SGX PCK Platform or Processor CA.
 * On REASON_OK *ret_pck is the PCK leaf and *ret_ca (if ret_ca) the PCK CA (the caller frees
 * them), pck_ca (if given) the intermediate's common name. Reasons: tdx-pck-chain-length,
 * tdx-root-not-pinned, tdx-pck-chain-expired,
 * tdx-{root,pck-ca,pck}-{issuer-mismatch,signature-invalid}, tdx-pck-ca-unknown. */
enum reason tdx_pck_chain_verify(const struct tdx_quote *q, const uint8_t root_pin[32], int64_t t,
                                 X509 **ret_pck, X509 **ret_ca, char *pck_ca, size_t ca_size,
                                 struct verdict *v);
/* The QE report signed by the PCK key (tdx-qe-report-signature-invalid), its REPORTDATA =
 * SHA-256(attestation key || QE auth data) || 0^32 (tdx-qe-report-data-mismatch). */
enum reason tdx_qe_report_verify(const struct tdx_quote *q, X509 *pck, struct verdict *v);
/* ECDSA P-256/SHA-256 of data by key (a P-256 key only), the signature raw r || s (32 bytes
 * each, big-endian), as Intel signs quotes and PCS collateral. */
bool tdx_p256_verify(EVP_PKEY *key, const uint8_t sig_raw[64], const uint8_t *data, size_t size);
/* The header and body signed by the attestation key (tdx-quote-signature-invalid). */
enum reason tdx_quote_signature_verify(const struct tdx_quote *q, struct verdict *v);

/* The TCB status of a verified quote from Intel's PCS collateral (tdx-tcb.c). */
struct tdx_tcb_result {
        char platform_status[32]; /* the matching TCB level's status */
        char tcb_status[32];      /* the TDX module identity's when TEE_TCB_SVN[1] > 0 */
        char qe_status[32];
};

/* The FMSPC (6 bytes) of a PCK certificate's SGX extensions. @return false when it has none */
bool tdx_pck_fmspc(X509 *pck, uint8_t ret[6]);

/* ti: the TCB info ("tcbInfo"'s value), qi: the QE identity ("enclaveIdentity"'s value), both
 * already authenticated (tdx-collateral.h); pck: the quote's verified PCK leaf; t the
 * verification time. Fills ret with the statuses; whether they are acceptable is the policy's.
 * Reasons, in the oracle's order: tdx-pck-extension-missing, tdx-collateral-kind,
 * tdx-tcbinfo-expired, tdx-tcbinfo-fmspc-mismatch, tdx-module-mrsigner-mismatch,
 * tdx-module-attributes-mismatch, tdx-tcb-level-unsupported, tdx-module-identity-missing,
 * tdx-module-tcb-unsupported, tdx-qe-identity-expired, tdx-qe-identity-mismatch,
 * tdx-qe-tcb-unsupported. */
enum reason tdx_tcb_evaluate(const struct tdx_quote *q, X509 *pck, json_object *ti, json_object *qi,
                             int64_t t, struct tdx_tcb_result *ret, struct verdict *v);
