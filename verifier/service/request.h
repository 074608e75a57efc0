/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The two request bodies of docs/PROTOCOL.md, parsed strictly into fixed-size structs: every
 * field's type, encoding and limit checked, unknown fields refused, nothing trusted yet. */
#pragma once

#include "appraisal/verdict.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define REQUEST_PUBLIC_MAX          1024 /* ek_public, ak_public */
#define REQUEST_CERTIFICATE_MAX     4096 /* ek_certificate */
#define REQUEST_QUOTE_MAX           1024 /* quote.attest, quote.signature */
#define REQUEST_EVENT_LOG_MAX       (512 * 1024)
#define REQUEST_CHALLENGE_MAX       98 /* a shorter one is challenge-invalid, not a parse error */
#define REQUEST_CREDENTIAL_MAX      32
#define REQUEST_PCRS                24
#define REQUEST_HOSTNAME_MAX        253
#define REQUEST_JSON_DEPTH          8    /* the deepest body is 3 levels (pcrs.sha256.N) */
#define REQUEST_PLATFORM_REPORT_MAX 8192 /* platform.report */
#define REQUEST_PLATFORM_CERTS      4    /* platform.certificates */
#define REQUEST_PLATFORM_CERT_MAX   4096

struct request_blob_public {
        uint8_t data[REQUEST_PUBLIC_MAX];
        size_t size;
};

/* POST /v3/challenge (and /v2/) */
struct challenge_request {
        unsigned version;
        struct request_blob_public ek_public;
        struct request_blob_public ak_public;
        uint8_t ek_certificate[REQUEST_CERTIFICATE_MAX];
        size_t ek_certificate_size;
        bool has_ek_certificate;
};

/* Claims, not evidence (docs/PROTOCOL.md): for the audit log and the token description. */
struct node_claims {
        char hostname[REQUEST_HOSTNAME_MAX + 1];
        char machine_id[33];   /* "" when absent */
        char product_uuid[37]; /* "" when absent */
};

/* platform (version 3): the TEE's report, "Platform evidence" in docs/PROTOCOL.md. */
struct platform_request {
        char kind[16]; /* "snp-report", "azure-snp-hcl", "tdx-quote", "azure-tdx-hcl" */
        uint8_t report[REQUEST_PLATFORM_REPORT_MAX];
        size_t report_size;
        uint8_t td_quote[REQUEST_PLATFORM_REPORT_MAX]; /* azure-tdx-hcl: the TDREPORT's quote */
        size_t td_quote_size;
        uint8_t certificates[REQUEST_PLATFORM_CERTS][REQUEST_PLATFORM_CERT_MAX];
        size_t certificate_sizes[REQUEST_PLATFORM_CERTS];
        size_t n_certificates;
};

/* POST /v3/attest (and /v2/) */
struct attest_request {
        unsigned version;
        uint8_t challenge[REQUEST_CHALLENGE_MAX];
        size_t challenge_size;
        struct request_blob_public ek_public;
        struct request_blob_public ak_public;
        uint8_t credential[REQUEST_CREDENTIAL_MAX]; /* a secret: attest_request_done() wipes it */
        size_t credential_size;
        uint8_t quote_attest[REQUEST_QUOTE_MAX];
        size_t quote_attest_size;
        uint8_t quote_signature[REQUEST_QUOTE_MAX];
        size_t quote_signature_size;
        uint32_t pcr_mask; /* bit n: pcrs.sha256 has a value for PCR n */
        uint8_t pcrs[REQUEST_PCRS][32];
        uint8_t *event_log; /* malloc'ed, event_log_size bytes */
        size_t event_log_size;
        struct node_claims node;
        bool has_platform;
        struct platform_request platform;
};

/* Parse one body (size bytes, not NUL-terminated). On refusal v says why: bad-request,
 * missing-field / unknown-field / field-too-large (the message names the field as a dotted
 * path, e.g. "quote.attest"), or unsupported-version. *ret is written only on REASON_OK.
 * path_version is the version of the path the body came to (2, 3), or 0 for any: the body's
 * must be the same. v->version is set to the body's version as soon as it is known.
 * @return REASON_OK or the refusal's reason */
enum reason request_parse_challenge_at(const char *body, size_t size, unsigned path_version,
                                       struct challenge_request *ret, struct verdict *v);
enum reason request_parse_attest_at(const char *body, size_t size, unsigned path_version,
                                    struct attest_request *ret, struct verdict *v);
/* path_version 0: the body's version (2 or 3) as it is. */
enum reason request_parse_challenge(const char *body, size_t size, struct challenge_request *ret,
                                    struct verdict *v);
enum reason request_parse_attest(const char *body, size_t size, struct attest_request *ret,
                                 struct verdict *v);

/* Wipes the credential and frees the event log. NULL is fine; idempotent. */
void attest_request_done(struct attest_request *r);
