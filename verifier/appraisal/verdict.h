/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The one list of every answer the verifier can refuse with (docs/PROTOCOL.md, "Errors"),
 * and the detail a refusal carries so the gate can print which PCR and which event. */
#pragma once

#include <stdint.h>
#include <stddef.h>

/* docs/PROTOCOL.md: the version in the path (/v3/) and in every body. Version 2 is still served:
 * version 3 without platform evidence ("Versioning"). */
#define VERIFIER_PROTOCOL_VERSION     3
#define VERIFIER_PROTOCOL_VERSION_MIN 2

/* X(enum suffix, HTTP status, stable machine-readable name). Never rename: gates, tests and
 * dashboards match on the names. */
#define VERDICT_REASONS(X)                                                                         \
        X(OK, 200, "ok")                                                                           \
        X(BAD_REQUEST, 400, "bad-request")                                                         \
        X(MISSING_FIELD, 400, "missing-field")                                                     \
        X(UNKNOWN_FIELD, 400, "unknown-field")                                                     \
        X(FIELD_TOO_LARGE, 400, "field-too-large")                                                 \
        X(UNSUPPORTED_VERSION, 400, "unsupported-version")                                         \
        X(EK_MALFORMED, 400, "ek-malformed")                                                       \
        X(AK_MALFORMED, 400, "ak-malformed")                                                       \
        X(QUOTE_MALFORMED, 400, "quote-malformed")                                                 \
        X(EVENTLOG_MALFORMED, 400, "eventlog-malformed")                                           \
        X(NOT_FOUND, 404, "not-found")                                                             \
        X(METHOD_NOT_ALLOWED, 405, "method-not-allowed")                                           \
        X(LENGTH_REQUIRED, 411, "length-required")                                                 \
        X(BODY_TOO_LARGE, 413, "body-too-large")                                                   \
        X(UNSUPPORTED_MEDIA_TYPE, 415, "unsupported-media-type")                                   \
        X(EK_NOT_STORAGE_KEY, 403, "ek-not-storage-key")                                           \
        X(EK_UNKNOWN, 403, "ek-unknown")                                                           \
        X(EK_CERTIFICATE_UNTRUSTED, 403, "ek-certificate-untrusted")                               \
        X(EK_CERTIFICATE_MISMATCH, 403, "ek-certificate-mismatch")                                 \
        X(EK_WEAK_KEY, 403, "ek-weak-key")                                                         \
        X(AK_NOT_SIGNING_KEY, 403, "ak-not-signing-key")                                           \
        X(CHALLENGE_INVALID, 403, "challenge-invalid")                                             \
        X(CHALLENGE_EXPIRED, 403, "challenge-expired")                                             \
        X(CHALLENGE_BINDING, 403, "challenge-binding")                                             \
        X(AK_NOT_BOUND, 403, "ak-not-bound")                                                       \
        X(QUOTE_SIGNATURE, 403, "quote-signature")                                                 \
        X(QUOTE_NONCE, 403, "quote-nonce")                                                         \
        X(QUOTE_PCR_SELECTION, 403, "quote-pcr-selection")                                         \
        X(QUOTE_PCR_DIGEST, 403, "quote-pcr-digest")                                               \
        X(EVENTLOG_NO_SHA256, 403, "eventlog-no-sha256")                                           \
        X(PCR_MISMATCH, 403, "pcr-mismatch")                                                       \
        X(EVENT_NOT_ALLOWED, 403, "event-not-allowed")                                             \
        X(EVENT_MISSING, 403, "event-missing")                                                     \
        X(RATE_LIMITED, 429, "rate-limited")                                                       \
        X(ALREADY_ATTESTED, 403, "already-attested")                                               \
        X(SECURE_BOOT_OFF, 403, "secure-boot-off")                                                 \
        X(IMAGE_RETIRED, 403, "image-retired")                                                     \
        X(TOKEN_UNAVAILABLE, 503, "token-unavailable")                                             \
        X(OVERLOADED, 503, "overloaded")                                                           \
        /* Platform evidence (docs/PROTOCOL.md, "Platform evidence"), in check order. */           \
        X(PLATFORM_EVIDENCE_MISSING, 403, "platform-evidence-missing")                             \
        X(PLATFORM_KIND_NOT_ALLOWED, 403, "platform-kind-not-allowed")                             \
        X(PLATFORM_TPM_NOT_VOUCHED, 403, "platform-tpm-not-vouched")                               \
        X(HCL_HEADER, 403, "hcl-header")                                                           \
        X(HCL_CLAIMS_SIZE, 403, "hcl-claims-size")                                                 \
        X(HCL_REPORT_TYPE, 403, "hcl-report-type")                                                 \
        X(HCL_HASH_TYPE, 403, "hcl-hash-type")                                                     \
        X(HCL_PADDING_NONZERO, 403, "hcl-padding-nonzero")                                         \
        X(SNP_REPORT_SIZE, 403, "snp-report-size")                                                 \
        X(SNP_REPORT_VERSION, 403, "snp-report-version")                                           \
        X(SNP_SIGNATURE_ALGORITHM, 403, "snp-signature-algorithm")                                 \
        X(SNP_POLICY_RESERVED, 403, "snp-policy-reserved")                                         \
        X(SNP_RESERVED_NONZERO, 403, "snp-reserved-nonzero")                                       \
        X(VEK_MISSING, 403, "vek-missing")                                                         \
        X(SNP_SIGNER_MISMATCH, 403, "snp-signer-mismatch")                                         \
        X(SNP_PRODUCT_UNKNOWN, 403, "snp-product-unknown")                                         \
        X(ARK_NOT_PINNED, 403, "ark-not-pinned")                                                   \
        X(ARK_EXPIRED, 403, "ark-expired")                                                         \
        X(ASK_EXPIRED, 403, "ask-expired")                                                         \
        X(VCEK_EXPIRED, 403, "vcek-expired")                                                       \
        X(VLEK_EXPIRED, 403, "vlek-expired")                                                       \
        X(ARK_ISSUER_MISMATCH, 403, "ark-issuer-mismatch")                                         \
        X(ASK_ISSUER_MISMATCH, 403, "ask-issuer-mismatch")                                         \
        X(VCEK_ISSUER_MISMATCH, 403, "vcek-issuer-mismatch")                                       \
        X(VLEK_ISSUER_MISMATCH, 403, "vlek-issuer-mismatch")                                       \
        X(ARK_SIGNATURE_ALGORITHM, 403, "ark-signature-algorithm")                                 \
        X(ASK_SIGNATURE_ALGORITHM, 403, "ask-signature-algorithm")                                 \
        X(VCEK_SIGNATURE_ALGORITHM, 403, "vcek-signature-algorithm")                               \
        X(VLEK_SIGNATURE_ALGORITHM, 403, "vlek-signature-algorithm")                               \
        X(ARK_SIGNATURE_INVALID, 403, "ark-signature-invalid")                                     \
        X(ASK_SIGNATURE_INVALID, 403, "ask-signature-invalid")                                     \
        X(VCEK_SIGNATURE_INVALID, 403, "vcek-signature-invalid")                                   \
        X(VLEK_SIGNATURE_INVALID, 403, "vlek-signature-invalid")                                   \
        X(VCEK_CHIP_ID_MISMATCH, 403, "vcek-chip-id-mismatch")                                     \
        X(VEK_TCB_MISMATCH, 403, "vek-tcb-mismatch")                                               \
        X(VEK_EXTENSION_MALFORMED, 403, "vek-extension-malformed")                                 \
        X(VEK_KEY_TYPE, 403, "vek-key-type")                                                       \
        X(SNP_SIGNATURE_INVALID, 403, "snp-signature-invalid")                                     \
        X(SNP_POLICY_DEBUG, 403, "snp-policy-debug")                                               \
        X(SNP_VMPL, 403, "snp-vmpl")                                                               \
        X(SNP_POLICY_MIGRATE_MA, 403, "snp-policy-migrate-ma")                                     \
        X(SNP_MEASUREMENT, 403, "snp-measurement")                                                 \
        X(SNP_ID_KEY, 403, "snp-id-key")                                                           \
        X(SNP_AUTHOR_KEY, 403, "snp-author-key")                                                   \
        X(SNP_TCB_TOO_OLD, 403, "snp-tcb-too-old")                                                 \
        X(SNP_LAUNCH_TCB_TOO_OLD, 403, "snp-launch-tcb-too-old")                                   \
        X(SNP_GUEST_SVN, 403, "snp-guest-svn")                                                     \
        X(SNP_REPORT_DATA_MISMATCH, 403, "snp-report-data-mismatch")                               \
        X(HCL_CLAIMS_HASH_MISMATCH, 403, "hcl-claims-hash-mismatch")                               \
        X(HCL_CLAIMS_JSON, 403, "hcl-claims-json")                                                 \
        X(HCL_AKPUB_MISSING, 403, "hcl-akpub-missing")                                             \
        X(HCL_KEY_TYPE, 403, "hcl-key-type")                                                       \
        X(HCL_USER_DATA_MISMATCH, 403, "hcl-user-data-mismatch")                                   \
        X(HCL_AKPUB_MISMATCH, 403, "hcl-akpub-mismatch")                                           \
        X(HCL_EKPUB_MISMATCH, 403, "hcl-ekpub-mismatch")                                           \
        /* Intel TDX quotes and Azure TDX HCL blobs (docs/cvm.md), in check order. */              \
        X(TDREPORT_TYPE, 403, "tdreport-type")                                                     \
        X(TDX_QUOTE_MISSING, 403, "tdx-quote-missing")                                             \
        X(TDX_QUOTE_SIZE, 403, "tdx-quote-size")                                                   \
        X(TDX_QUOTE_VERSION, 403, "tdx-quote-version")                                             \
        X(TDX_QUOTE_TEE_TYPE, 403, "tdx-quote-tee-type")                                           \
        X(TDX_QUOTE_KEY_TYPE, 403, "tdx-quote-key-type")                                           \
        X(TDX_QUOTE_BODY, 403, "tdx-quote-body")                                                   \
        X(TDX_QUOTE_CERT_DATA, 403, "tdx-quote-cert-data")                                         \
        X(TDX_QUOTE_PCK_MISSING, 403, "tdx-quote-pck-missing")                                     \
        X(TDX_QUOTE_TDREPORT_MISMATCH, 403, "tdx-quote-tdreport-mismatch")                         \
        X(TDX_PCK_CHAIN_LENGTH, 403, "tdx-pck-chain-length")                                       \
        X(TDX_ROOT_NOT_PINNED, 403, "tdx-root-not-pinned")                                         \
        X(TDX_PCK_CHAIN_EXPIRED, 403, "tdx-pck-chain-expired")                                     \
        X(TDX_ROOT_ISSUER_MISMATCH, 403, "tdx-root-issuer-mismatch")                               \
        X(TDX_ROOT_SIGNATURE_INVALID, 403, "tdx-root-signature-invalid")                           \
        X(TDX_PCK_CA_ISSUER_MISMATCH, 403, "tdx-pck-ca-issuer-mismatch")                           \
        X(TDX_PCK_CA_SIGNATURE_INVALID, 403, "tdx-pck-ca-signature-invalid")                       \
        X(TDX_PCK_ISSUER_MISMATCH, 403, "tdx-pck-issuer-mismatch")                                 \
        X(TDX_PCK_SIGNATURE_INVALID, 403, "tdx-pck-signature-invalid")                             \
        X(TDX_PCK_CA_UNKNOWN, 403, "tdx-pck-ca-unknown")                                           \
        X(TDX_QE_REPORT_SIGNATURE_INVALID, 403, "tdx-qe-report-signature-invalid")                 \
        X(TDX_QE_REPORT_DATA_MISMATCH, 403, "tdx-qe-report-data-mismatch")                         \
        X(TDX_QUOTE_SIGNATURE_INVALID, 403, "tdx-quote-signature-invalid")                         \
        X(TDX_TD_DEBUG, 403, "tdx-td-debug")                                                       \
        X(TDX_MRTD, 403, "tdx-mrtd")                                                               \
        X(TDX_RTMR, 403, "tdx-rtmr")                                                               \
        X(TDX_REPORT_DATA_MISMATCH, 403, "tdx-report-data-mismatch")                               \
        /* TDX: Intel's collateral and the TCB status from it, in check order. */                  \
        X(TDX_PCK_EXTENSION_MISSING, 403, "tdx-pck-extension-missing")                             \
        X(TDX_COLLATERAL_MISSING, 403, "tdx-collateral-missing")                                   \
        X(TDX_COLLATERAL_CHAIN_INVALID, 403, "tdx-collateral-chain-invalid")                       \
        X(TDX_COLLATERAL_CHAIN_EXPIRED, 403, "tdx-collateral-chain-expired")                       \
        X(TDX_TCBINFO_SIGNATURE_INVALID, 403, "tdx-tcbinfo-signature-invalid")                     \
        X(TDX_QE_IDENTITY_SIGNATURE_INVALID, 403, "tdx-qe-identity-signature-invalid")             \
        X(TDX_CRL_INVALID, 403, "tdx-crl-invalid")                                                 \
        X(TDX_CRL_EXPIRED, 403, "tdx-crl-expired")                                                 \
        X(TDX_CA_REVOKED, 403, "tdx-ca-revoked")                                                   \
        X(TDX_PCK_REVOKED, 403, "tdx-pck-revoked")                                                 \
        X(TDX_COLLATERAL_KIND, 403, "tdx-collateral-kind")                                         \
        X(TDX_TCBINFO_EXPIRED, 403, "tdx-tcbinfo-expired")                                         \
        X(TDX_TCBINFO_FMSPC_MISMATCH, 403, "tdx-tcbinfo-fmspc-mismatch")                           \
        X(TDX_MODULE_MRSIGNER_MISMATCH, 403, "tdx-module-mrsigner-mismatch")                       \
        X(TDX_MODULE_ATTRIBUTES_MISMATCH, 403, "tdx-module-attributes-mismatch")                   \
        X(TDX_TCB_LEVEL_UNSUPPORTED, 403, "tdx-tcb-level-unsupported")                             \
        X(TDX_MODULE_IDENTITY_MISSING, 403, "tdx-module-identity-missing")                         \
        X(TDX_MODULE_TCB_UNSUPPORTED, 403, "tdx-module-tcb-unsupported")                           \
        X(TDX_QE_IDENTITY_EXPIRED, 403, "tdx-qe-identity-expired")                                 \
        X(TDX_QE_IDENTITY_MISMATCH, 403, "tdx-qe-identity-mismatch")                               \
        X(TDX_QE_TCB_UNSUPPORTED, 403, "tdx-qe-tcb-unsupported")                                   \
        X(TDX_TCB_STATUS, 403, "tdx-tcb-status")                                                   \
        X(TDX_QE_TCB_STATUS, 403, "tdx-qe-tcb-status")                                             \
        X(INTERNAL, 500, "internal")

enum reason {
#define VERDICT_ENUM(id, status, name) REASON_##id,
        VERDICT_REASONS(VERDICT_ENUM)
#undef VERDICT_ENUM
            _REASON_MAX,
};

#define VERDICT_MESSAGE_MAX    512
#define VERDICT_EVENT_TYPE_MAX 48

/* What a refusal says beyond its reason. pcr/event are -1 when they do not apply. */
struct verdict {
        enum reason reason;
        char message[VERDICT_MESSAGE_MAX]; /* one console line, never a secret */
        int pcr;
        long event;                              /* index in the log, Spec ID event = 0 */
        char event_type[VERDICT_EVENT_TYPE_MAX]; /* "" when it does not apply */
        char digest[129];                        /* lowercase hex, "" when it does not apply */
        unsigned retry_after;                    /* seconds for Retry-After, 0: none */
        unsigned version; /* of the request, for the answer; 0: VERIFIER_PROTOCOL_VERSION.
                           * verdict_set() leaves it alone. */
};

/* Sets reason and a printf-formatted message, resets the detail fields. Returns reason so a
 * check can `return verdict_set(v, REASON_X, "…")`. */
enum reason verdict_set(struct verdict *v, enum reason reason, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

const char *reason_name(enum reason r);
unsigned reason_http_status(enum reason r);
