/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The policy file (docs/PROTOCOL.md, "The policy file"): which PCRs are quoted and sealed
 * to, which are pinned, and the event digests allowed in each pinned PCR. */
#pragma once

#include "eventlog.h"
#include "verdict.h"

struct policy;

/* @return 0, or -EINVAL with a message naming the offending key in err */
int policy_parse(const char *json, size_t size, struct policy **ret, char *err, size_t errlen);
int policy_load(const char *path, struct policy **ret, char *err, size_t errlen);
void policy_free(struct policy *p);

uint32_t policy_quote_mask(const struct policy *p); /* bit n = PCR n */
unsigned policy_cap_pcr(const struct policy *p);

/* The strings the gate extends the cap PCR with (TPM2_PCR_Event: SHA-256 of the text, no NUL). */
#define POLICY_CAP_RELEASED "nodegate: token released"
#define POLICY_CAP_FAILED   "nodegate: failed"

/* @return the cap string whose SHA-256 is digest, or NULL */
const char *policy_cap_string(const uint8_t digest[32]);

/* Judges every event of the pinned PCRs (the cap PCR always is: pinned empty unless the policy
 * lists its events), and refuses a cap string's digest in any PCR. @return REASON_OK, or
 * REASON_ALREADY_ATTESTED / REASON_EVENT_NOT_ALLOWED / REASON_EVENT_MISSING with pcr, event,
 * event_type and digest in v */
enum reason policy_check(const struct policy *p, const struct eventlog *log, struct verdict *v);

/* Serializes p as the canonical policy file (sorted, one rule a line). @return malloc'ed
 * string or NULL */
char *policy_to_json(const struct policy *p);
