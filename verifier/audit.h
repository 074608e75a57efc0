/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The audit log (docs/PROTOCOL.md, "Audit log"): one JSON object a line per decision,
 * appended with one write(2) so lines of concurrent workers and replicas never interleave. */
#pragma once

#include "appraise.h"
#include "metrics.h"
#include "verdict.h"

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

/* Opens path for appending (created 0640 if missing), or stdout for "-".
 * @return 0 or negative errno */
int audit_open(const char *path, struct audit **ret);
void audit_close(struct audit *a);

/* Formats r as one line and appends it with a single write(2).
 * @return 0, or negative errno when the line could not be written whole */
int audit_write(struct audit *a, const struct audit_record *r);

/* The line audit_write() would append for r at time t (Unix seconds), without the newline;
 * for tests. @return malloc'ed string or NULL */
char *audit_format(const struct audit_record *r, int64_t t);
