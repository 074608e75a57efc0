/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The node's side of docs/PROTOCOL.md: the bodies of POST /v2/challenge and /v2/attest, and
 * strict, bounded parsers of the verifier's answers (both successes and the error answer). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Version 3 adds round 2's platform evidence and nothing else (PROTOCOL.md, "Versioning"); a
 * node without evidence speaks version 2, which every verifier of version 3 serves too. */
#define PROTOCOL_VERSION             3
#define PROTOCOL_VERSION_MIN         2
#define PROTOCOL_CHALLENGE_SIZE      98
#define PROTOCOL_CREDENTIAL_SIZE     32
#define PROTOCOL_PCRS                24
#define PROTOCOL_BLOB_MAX            1024 /* a TPM structure in any body */
#define PROTOCOL_EK_CERT_MAX         4096
#define PROTOCOL_EVENT_LOG_MAX       (512 * 1024)
#define PROTOCOL_ANSWER_MAX          (256 * 1024) /* the largest answer body the node reads */
#define PROTOCOL_CA_MAX              (64 * 1024)  /* kubeconfig's cluster CA, decoded PEM */
#define PROTOCOL_CAP_TEXT_MAX        128
#define PROTOCOL_PLATFORM_REPORT_MAX 8192
#define PROTOCOL_PLATFORM_CERTS_MAX  4
#define PROTOCOL_PLATFORM_CERT_MAX   4096
#define PROTOCOL_PLATFORM_MAX        16384 /* report and certificates together, decoded */

struct protocol_blob {
        uint8_t data[PROTOCOL_BLOB_MAX];
        size_t size;
};

struct protocol_challenge_request {
        const uint8_t *ek_public; /* marshalled TPM2B_PUBLIC */
        size_t ek_public_size;
        const uint8_t *ek_certificate; /* DER, NULL when the TPM has none */
        size_t ek_certificate_size;
        const uint8_t *ak_public;
        size_t ak_public_size;
        unsigned version; /* 0: PROTOCOL_VERSION_MIN; 3 when round 2 will carry evidence */
};

struct protocol_challenge_answer {
        unsigned version; /* of the answer: 2 or 3, what the request had */
        uint8_t challenge[PROTOCOL_CHALLENGE_SIZE];
        uint64_t expires_in;
        struct protocol_blob credential_blob;  /* TPM2B_ID_OBJECT */
        struct protocol_blob encrypted_secret; /* TPM2B_ENCRYPTED_SECRET */
        uint32_t pcr_mask;                     /* SHA-256 bank, bit n = PCR n */
};

/* Identity claims: hostname is required, the others may be NULL. */
struct protocol_node {
        const char *hostname;     /* 1–253 of [a-z0-9.-] */
        const char *machine_id;   /* 32 lowercase hex */
        const char *product_uuid; /* 36 characters */
};

/* Round 2's "platform" (version 3): the TEE's report and, if the node has them, the VCEK/VLEK
 * and its chain, DER. */
struct protocol_platform {
        const char *kind; /* "azure-snp-hcl", "snp-report", "tdx-quote" or "azure-tdx-hcl" */
        const uint8_t *report;
        size_t report_size;
        const uint8_t *td_quote; /* "azure-tdx-hcl" only, and required there */
        size_t td_quote_size;
        const uint8_t *const *certificates;
        const size_t *certificate_sizes;
        size_t n_certificates;
};

struct protocol_attest_request {
        const uint8_t *challenge; /* PROTOCOL_CHALLENGE_SIZE bytes, as received */
        const uint8_t *ek_public;
        size_t ek_public_size;
        const uint8_t *ak_public;
        size_t ak_public_size;
        const uint8_t *credential; /* PROTOCOL_CREDENTIAL_SIZE bytes from ActivateCredential */
        const uint8_t *attest;     /* marshalled TPM2B_ATTEST */
        size_t attest_size;
        const uint8_t *signature; /* marshalled TPMT_SIGNATURE */
        size_t signature_size;
        uint32_t pcr_mask;
        const uint8_t (*pcrs)[32]; /* PROTOCOL_PCRS entries; those in pcr_mask are sent */
        const uint8_t *event_log;
        size_t event_log_size;
        struct protocol_node node;
        unsigned version;                         /* 0: PROTOCOL_VERSION_MIN; platform needs 3 */
        const struct protocol_platform *platform; /* NULL: none */
};

struct protocol_attest_answer {
        unsigned version; /* of the answer: 2 or 3 */
        char token_id[7];
        struct protocol_blob sealed_public;    /* TPM2B_PUBLIC */
        struct protocol_blob sealed_duplicate; /* TPM2B_PRIVATE */
        struct protocol_blob sealed_seed;      /* TPM2B_ENCRYPTED_SECRET */
        uint32_t sealed_pcr_mask;
        uint32_t reset_count;
        uint32_t restart_count;
        char *server; /* kubeconfig server URL, https:// */
        char *ca_pem; /* the cluster CA, decoded: PEM text */
        size_t ca_pem_size;
        unsigned cap_pcr; /* always one of sealed_pcr_mask */
        char cap_released[PROTOCOL_CAP_TEXT_MAX + 1];
        char cap_failed[PROTOCOL_CAP_TEXT_MAX + 1];
};

/* The error answer. Only error is required; pcr and event are -1, strings "" when absent.
 * Strings are cut to their buffers and control characters replaced, ready for a console. */
struct protocol_error {
        char error[64];
        char message[512];
        int pcr;
        long event;
        char event_type[64];
        char digest[129];
};

/* Bodies of the two requests, of req->version. @return 0 with a malloc'ed NUL-terminated
 * JSON, -EINVAL when a field breaks its limit (hostname syntax, sizes, a platform kind the
 * protocol lacks, platform evidence in a version-2 body), -ENOMEM. The attest body carries the
 * credential secret: free it with erase_and_free(). */
int protocol_challenge_request(const struct protocol_challenge_request *req, char **ret);
int protocol_attest_request(const struct protocol_attest_request *req, char **ret);

/* Parsers of 200 answers: exactly the fields of PROTOCOL.md, each of its type and within its
 * limits, version 2 or 3 (ret->version; the caller checks it is its request's), no unknown
 * field. @return 0, -EBADMSG with the offending field named in
 * errbuf, -EFBIG for a body above PROTOCOL_ANSWER_MAX, -ENOMEM */
int protocol_parse_challenge_answer(const char *body, size_t size,
                                    struct protocol_challenge_answer *ret, char *errbuf,
                                    size_t errlen);
int protocol_parse_attest_answer(const char *body, size_t size, struct protocol_attest_answer *ret,
                                 char *errbuf, size_t errlen);
void protocol_attest_answer_done(struct protocol_attest_answer *a);

/* Parses an error answer. Lenient where the others are strict: fields it does not know are
 * skipped, because a node that cannot read why it was refused is worse off. @return 0, or
 * -EBADMSG when the body is not a JSON object with a string "error" */
int protocol_parse_error(const char *body, size_t size, struct protocol_error *ret);

/* "0,1,2,…" of a PCR mask, for messages. buf ≥ 64 bytes. */
const char *protocol_pcr_list(uint32_t mask, char *buf, size_t size);
