/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The TD quote of an Azure TDX CVM's TDREPORT from Azure's instance metadata service (IMDS),
 * asked for the way Microsoft's own client does (kinvolk/azure-cvm-tooling
 * az-cvm-vtpm/az-tdx-vtpm/src/imds.rs): POST the TDREPORT, base64url, get the quote back. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "boot/failure.h"

#define IMDS_TDQUOTE_URL   "http://169.254.169.254/acc/tdquote"
#define IMDS_TDREPORT_SIZE 1024
/* The largest answer read: a quote of ≤ 8 KiB is ≤ 11 KiB of base64url in a small object. */
#define IMDS_ANSWER_MAX (16U * 1024U)
/* The protocol's limit for platform.td_quote (docs/PROTOCOL.md). */
#define IMDS_QUOTE_MAX 8192
/* A DCAP quote's 48-byte header, its 584-byte TD body and the signature data's length: less
 * cannot be a TD quote. The verifier parses the rest. */
#define IMDS_QUOTE_MIN (48 + 584 + 4)
/* At most this long for the whole request (connect and transfer), and never past the
 * attestation's deadline: the service is link-local and answers in well under a second. */
#define IMDS_TIMEOUT_USEC (10U * 1000U * 1000U)

/* The request body: {"report":"<base64url, no padding, of the TDREPORT>"}.
 * @return 0 with a malloc'ed NUL-terminated string, -EINVAL for a size other than
 *         IMDS_TDREPORT_SIZE, -ENOMEM */
int imds_request_body(const uint8_t *tdreport, size_t size, char **ret);

/* The answer {"quote":"<base64url>"}, padded or not, other members ignored, at most
 * IMDS_ANSWER_MAX bytes; the quote IMDS_QUOTE_MIN..IMDS_QUOTE_MAX bytes decoded.
 * @return 0 with the malloc'ed quote, -EFBIG for an answer or quote above its limit, -EBADMSG
 *         for anything else that is wrong (not a JSON object, no "quote" string, not
 *         base64url, too short), -ENOMEM; a message in errbuf */
int imds_parse_quote(const char *body, size_t size, uint8_t **ret, size_t *ret_size, char *errbuf,
                     size_t errlen);

/* POSTs the TDREPORT to IMDS_TDQUOTE_URL (plain HTTP to the link-local address, no proxy, no
 * redirect) within IMDS_TIMEOUT_USEC and before deadline_usec (now_usec()'s clock), and parses
 * the answer.
 * @return 0 with the malloc'ed quote; a negative errno with *ret_failure (IMDS_UNREACHABLE:
 *         no connection or no answer in time; IMDS_STATUS: HTTP status other than 200;
 *         IMDS_ANSWER: the answer is too large or not a quote; PLATFORM_EVIDENCE: out of memory
 *         or a libcurl without plain HTTP) and a message naming the URL */
int imds_td_quote(const uint8_t *tdreport, size_t size, uint64_t deadline_usec, uint8_t **ret,
                  size_t *ret_size, enum failure *ret_failure, char *errbuf, size_t errlen);
