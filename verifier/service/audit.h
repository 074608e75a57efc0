/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The audit log (docs/PROTOCOL.md, "Audit log"): one JSON object a line per decision,
 * appended with one write(2) so lines of concurrent workers and replicas never interleave. */
#pragma once

#include "appraisal/appraise.h"
#include "service/metrics.h"
#include "appraisal/verdict.h"

struct audit;

struct audit_record {
        enum endpoint endpoint;
        const char *remote; /* client address, text */
        enum decision decision;
        enum reason reason;
        unsigned status;
        const char *message;                 /* one line, never a secret; NULL for none */
        const struct appraisal_facts *facts; /* NULL when the request got nowhere near them */
};

struct audit_limits {
        unsigned refusals_per_second; /* refusal lines per reason a second; 0: no cap */
        uint64_t reserve_bytes;       /* free space only issued lines may use; 0: none */
};

/* Opens path for appending (created 0640 if missing), or stdout for "-".
 * @return 0 or negative errno */
int audit_open(const char *path, struct audit **ret);
void audit_close(struct audit *a);

/* No limits until this is called. */
void audit_set_limits(struct audit *a, const struct audit_limits *limits);

/* Formats r as one line and appends it with a single write(2) — unless it is a refusal over
 * its reason's rate (counted for a summary line) or a refusal or challenge while the volume is
 * down to its reserve (counted in metrics); issued and undelivered lines are always written.
 * Thread-safe. @return 0 (written or left out as said), or negative errno when the line could
 * not be written whole */
int audit_write(struct audit *a, const struct audit_record *r);

/* Writes the summary lines of a second that is over; server.c calls it periodically so they
 * come even when no other line does. NULL is fine. */
void audit_flush(struct audit *a);

/* The summary line "suppressed count refusals of reason from remote" ("*": from addresses
 * beyond the ones counted one by one) at time t, without the newline; for tests.
 * @return malloc'ed string or NULL */
char *audit_format_suppressed(enum reason reason, const char *remote, uint64_t count, int64_t t);

/* The line audit_write() would append for r at time t (Unix seconds), without the newline;
 * for tests. @return malloc'ed string or NULL */
char *audit_format(const struct audit_record *r, int64_t t);
