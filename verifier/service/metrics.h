/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Prometheus counters of the service: requests by endpoint and status, decisions by reason,
 * latency histograms, in-flight gauge. Lock-free: every update is one relaxed atomic add. */
#pragma once

#include "appraisal/verdict.h"

#include <stdint.h>

enum endpoint {
        ENDPOINT_CHALLENGE,
        ENDPOINT_ATTEST,
        ENDPOINT_HEALTHZ,
        ENDPOINT_METRICS,
        ENDPOINT_OTHER, /* any path the service does not serve */
        _ENDPOINT_MAX,
};

enum decision {
        DECISION_CHALLENGED,
        DECISION_ISSUED,
        DECISION_REISSUED, /* the boot had its token: the same one again, sealed anew */
        DECISION_REJECTED,
        DECISION_UNDELIVERED, /* issued, but the connection failed before the answer was sent */
        _DECISION_MAX,
};

/* Why the server cut a connection (server.c's reaper). */
enum cut {
        CUT_DEADLINE,    /* request (or answer) not done within the request deadline */
        CUT_SLOW_BODY,   /* body arriving below the minimum rate */
        CUT_PER_ADDRESS, /* over the per-address connection cap, at accept */
        _CUT_MAX,
};

const char *endpoint_name(enum endpoint e);
const char *decision_name(enum decision d);

/* Counts an answer of status for e that took seconds from its first byte of headers to its
 * last byte sent. */
void metrics_request(enum endpoint e, unsigned status, double seconds);
/* Counts a request that ended without an answer (client gone, timeout, shutdown). */
void metrics_request_aborted(enum endpoint e);
void metrics_decision(enum decision d, enum reason r);
void metrics_audit_error(void);
/* Refusal audit lines left out by audit.c: over the per-reason rate (summarized instead), or
 * (summaries included) below the audit volume's reserve. */
void metrics_audit_suppressed(enum reason r);
void metrics_audit_dropped(void);
void metrics_connection_cut(enum cut why);
void metrics_inflight_add(int delta);

/* The Prometheus text exposition (format 0.0.4). @return malloc'ed text or NULL */
char *metrics_render(const char *version);
