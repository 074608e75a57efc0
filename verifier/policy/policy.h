/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The policy file (docs/PROTOCOL.md, "The policy file"): which PCRs are quoted and sealed
 * to, which are pinned, and the event digests allowed in each pinned PCR. */
#pragma once

#include "tpm/eventlog.h"
#include "appraisal/verdict.h"

#include <stdbool.h>

struct policy;

/* @return 0, or -EINVAL with a message naming the offending key in err */
int policy_parse(const char *json, size_t size, struct policy **ret, char *err, size_t errlen);
int policy_load(const char *path, struct policy **ret, char *err, size_t errlen);
void policy_free(struct policy *p);

uint32_t policy_quote_mask(const struct policy *p); /* bit n = PCR n */
struct platform_policy;
/* The "platform" section (platform/platform.h), its defaults when the file has none. */
const struct platform_policy *policy_platform(const struct policy *p);
unsigned policy_cap_pcr(const struct policy *p);

/* The opt-ins of the policy's "allow" list (docs/PROTOCOL.md, "The policy file"): each weakens
 * a default, so each must be written down by name. */
#define POLICY_OPT_INS(X)                                                                          \
        X(FIRMWARE_UNJUDGED, "firmware-unjudged")                                                  \
        X(SECURE_BOOT_OFF, "secure-boot-off")

enum {
#define POLICY_OPT_BIT(id, name) POLICY_ALLOW_BIT_##id,
        POLICY_OPT_INS(POLICY_OPT_BIT)
#undef POLICY_OPT_BIT
            _POLICY_ALLOW_MAX,
};
#define POLICY_ALLOW_FIRMWARE_UNJUDGED (1u << POLICY_ALLOW_BIT_FIRMWARE_UNJUDGED)
#define POLICY_ALLOW_SECURE_BOOT_OFF   (1u << POLICY_ALLOW_BIT_SECURE_BOOT_OFF)

/* The PCRs a policy must pin unless it allows "firmware-unjudged": the boot-time drivers the
 * firmware loads (a Driver#### on the ESP, option ROMs) and the Secure Boot state and keys. */
#define POLICY_FIRMWARE_JUDGED_PCRS (1u << 2 | 1u << 7)

uint32_t policy_opt_ins(const struct policy *p); /* POLICY_ALLOW_* bits */
/* The name of opt-in bit n ("secure-boot-off"), or NULL. Inline: the audit log names them
 * without linking the policy. */
static inline const char *policy_opt_in_name(unsigned n)
{
        static const char *const names[_POLICY_ALLOW_MAX] = {
#define POLICY_OPT_NAME(id, name) [POLICY_ALLOW_BIT_##id] = name,
            POLICY_OPT_INS(POLICY_OPT_NAME)
#undef POLICY_OPT_NAME
        };
        return n < _POLICY_ALLOW_MAX ? names[n] : NULL;
}
/* The opt-in named name. @return its POLICY_ALLOW_* bit, or 0 */
uint32_t policy_opt_in_from_name(const char *name);

/* The strings the gate extends the cap PCR with (TPM2_PCR_Event: SHA-256 of the text, no NUL). */
#define POLICY_CAP_RELEASED "nodegate: token released"
#define POLICY_CAP_FAILED   "nodegate: failed"

/* @return the cap string whose SHA-256 is digest, or NULL */
const char *policy_cap_string(const uint8_t digest[32]);

/* Judges every event of the pinned PCRs (the cap PCR always is: pinned empty unless the policy
 * lists its events), refuses a cap string's digest in any PCR, and unless the policy allows
 * "secure-boot-off" wants PCR 7's SecureBoot variable event to say 1. @return REASON_OK, or
 * REASON_ALREADY_ATTESTED / REASON_EVENT_NOT_ALLOWED / REASON_EVENT_MISSING /
 * REASON_SECURE_BOOT_OFF with pcr, event, event_type and digest in v */
enum reason policy_check(const struct policy *p, const struct eventlog *log, struct verdict *v);

/* policy_check(), and the label of the image the boot matched (valid as long as p). */
enum reason policy_check_image(const struct policy *p, const struct eventlog *log,
                               struct verdict *v, const char **ret_label);

/* Images: a policy accepts a boot that meets one of its images' rules entirely, and refuses one
 * that meets a retired image's with REASON_IMAGE_RETIRED naming it (docs/PROTOCOL.md, "The
 * policy file"). A single-image policy without a "label" is known by img-<12 hex of the SHA-256
 * of its canonical rules>. */
#define POLICY_LABEL_MAX  63
#define POLICY_MAX_IMAGES 16
/* [a-z0-9][a-z0-9._-]{0,62}. @return 0 or -EINVAL */
int policy_label_check(const char *label);
size_t policy_n_images(const struct policy *p);
/* Image i: the accepted ones first, then the retired. @return its label, or NULL past the end */
const char *policy_image_label(const struct policy *p, size_t i, bool *ret_retired);

/* Serializes p as the canonical policy file (sorted, one rule a line). @return malloc'ed
 * string or NULL */
char *policy_to_json(const struct policy *p);
