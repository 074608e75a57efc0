/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The gate's side of the two protocol rounds over HTTPS (libcurl, mbedTLS in the static build):
 * only the initramfs's CA bundle is trusted, retries are bounded by the deadline, and every
 * curl or TLS error becomes a negative errno and one console line here. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "boot/failure.h"
#include "attest/protocol.h"
#include "attest/tpm.h"
#include "platform/detect.h"

/* Room for a message with the verifier's own (PROTOCOL.md error message ≤ 511 bytes). */
#define ATTEST_ERROR_MAX 800

struct attest_client;

struct attest_stats {
        unsigned attempts;      /* POSTs sent: both rounds, every retry */
        unsigned rounds;        /* times round 1 started */
        uint64_t verifier_usec; /* spent in POSTs, all attempts */
        uint64_t backoff_usec;  /* slept between attempts */
        uint64_t round1_usec;   /* the POST /v2/challenge that succeeded */
        uint64_t round2_usec;   /* the POST /v2/attest that succeeded */
        uint64_t tpm_usec;      /* ActivateCredential, PCR read and quote, all rounds */
        uint32_t quoted_mask;   /* the PCRs the last quote covered, and their values: an */
        uint8_t quoted_pcrs[TPM_PCRS][32]; /* unseal that fails can name what moved since */
};

/* What the node shows the verifier. The TPM holds the EK and the AK already. */
struct attest_evidence {
        struct tpm *tpm;
        const struct tpm_ek *ek;
        const struct tpm_blob *ak_public;
        const uint8_t *event_log;
        size_t event_log_size;
        struct protocol_node node;
        /* Version 3 (docs/PROTOCOL.md, "Platform evidence"): with a platform that has evidence
         * each round 2 binds the challenge and the keys into a fresh TEE report; the AK is
         * then the platform's (Azure: the HCL AK). Otherwise the rounds are version 2's. */
        enum platform platform;
        const char *tsm_dir;         /* configfs-tsm's report directory (SNP) */
        uint64_t platform_wait_usec; /* Azure: how long the paravisor may take */
};

/* A client of the verifier at url (https://host[:port][/path]; /v2/… or /v3/… is appended),
 * trusting the CA certificates of the PEM file ca_path and nothing else. Nothing is sent yet.
 * @return 0, -EINVAL when curl refuses the URL (errbuf says why), -ENOMEM, -EIO when curl
 *         cannot be initialised */
int attest_client_new(const char *url, const char *ca_path, struct attest_client **ret,
                      char *errbuf, size_t errlen);
void attest_client_free(struct attest_client *c);

/* "host:port" of the verifier, for messages. */
const char *attest_client_where(const struct attest_client *c);

/* Both rounds (docs/PROTOCOL.md): POST /v2/challenge, TPM2_ActivateCredential, PCR read and
 * quote, POST /v2/attest, and the strict parse of the answer; /v3/ with the platform evidence
 * when e->platform has some (a failure to collect it is PLATFORM_EVIDENCE, never retried).
 * Transport errors, 5xx (and 429) and challenge-expired start again from round 1 after a backoff
 * with full jitter (src/attest/retry.h), as long as deadline_usec (now_usec()'s clock) leaves time;
 * any other refusal, a TLS failure or a malformed answer ends it at once. Each failed attempt is
 * logged as a warning. stats is written whatever the outcome.
 * @return 0 with the parsed answer in ret (free with protocol_attest_answer_done()), or a
 *         negative errno with the failure (VERIFIER_*, TPM) in *ret_failure and one line in
 *         errbuf:
 *         -EHOSTUNREACH  the name did not resolve;       -ECONNREFUSED etc. connect failed;
 *         -ETIMEDOUT     no connection or no answer in time;
 *         -EKEYREJECTED  the verifier's certificate was not accepted; -EPROTO other TLS;
 *         -EAGAIN        5xx until the deadline;         -EACCES the verifier refused;
 *         -EBADMSG       an answer that is not the protocol's; -EFBIG an answer too large;
 *         the TPM's errors as tpm.h has them */
int attest_run(struct attest_client *c, const struct attest_evidence *e, uint64_t deadline_usec,
               struct protocol_attest_answer *ret, struct attest_stats *stats,
               enum failure *ret_failure, char *errbuf, size_t errlen);
