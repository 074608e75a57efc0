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

/* Judges every event of the pinned PCRs. @return REASON_OK, or REASON_EVENT_NOT_ALLOWED /
 * REASON_EVENT_MISSING with pcr, event, event_type and digest in v */
enum reason policy_check(const struct policy *p, const struct eventlog *log, struct verdict *v);

/* Serializes p as the canonical policy file (sorted, one rule a line). @return malloc'ed
 * string or NULL */
char *policy_to_json(const struct policy *p);
