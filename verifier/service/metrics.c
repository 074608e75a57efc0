/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Prometheus counters of the service. Process-wide: there is one service per process, and a
 * global array of atomics is what lets every worker thread count without a lock. */
#include "service/metrics.h"

#include "util.h"

#include <stdatomic.h>
#include <stdio.h>

/* Every status the service answers with; anything else (never expected) counts as "other". */
static const unsigned statuses[] = {200, 400, 403, 404, 405, 411, 413, 415, 429, 500, 503};
#define N_STATUS (ELEMENTSOF(statuses) + 1)

/* Upper bounds in seconds: an appraisal takes about a millisecond, an exec token source up
 * to 10 s, so the buckets span both. */
static const double buckets[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                 0.1,    0.25,  0.5,    1,     2.5,  5,     10};
#define N_BUCKET (ELEMENTSOF(buckets) + 1) /* + the +Inf bucket */

static struct {
        atomic_uint_fast64_t requests[_ENDPOINT_MAX][N_STATUS];
        atomic_uint_fast64_t aborted[_ENDPOINT_MAX];
        atomic_uint_fast64_t decisions[_DECISION_MAX][_REASON_MAX];
        /* Per bucket, not cumulative: one add per observation; summed when rendered. */
        atomic_uint_fast64_t duration_bucket[_ENDPOINT_MAX][N_BUCKET];
        atomic_uint_fast64_t duration_sum_ns[_ENDPOINT_MAX];
        atomic_uint_fast64_t audit_errors;
        atomic_uint_fast64_t audit_suppressed[_REASON_MAX];
        atomic_uint_fast64_t audit_dropped;
        atomic_uint_fast64_t cuts[_CUT_MAX];
        atomic_int_fast64_t inflight;
} m;

static const char *const endpoint_names[_ENDPOINT_MAX] = {
    [ENDPOINT_CHALLENGE] = "challenge", [ENDPOINT_ATTEST] = "attest",
    [ENDPOINT_HEALTHZ] = "healthz",     [ENDPOINT_METRICS] = "metrics",
    [ENDPOINT_OTHER] = "other",
};

static const char *const decision_names[_DECISION_MAX] = {
    [DECISION_CHALLENGED] = "challenged",   [DECISION_ISSUED] = "issued",
    [DECISION_REISSUED] = "reissued",       [DECISION_REJECTED] = "rejected",
    [DECISION_UNDELIVERED] = "undelivered",
};

const char *endpoint_name(enum endpoint e)
{
        return (unsigned) e < _ENDPOINT_MAX ? endpoint_names[e] : "other";
}

const char *decision_name(enum decision d)
{
        return (unsigned) d < _DECISION_MAX ? decision_names[d] : "rejected";
}

static size_t status_index(unsigned status)
{
        for (size_t i = 0; i < ELEMENTSOF(statuses); i++)
                if (statuses[i] == status)
                        return i;
        return ELEMENTSOF(statuses);
}

static void inc(atomic_uint_fast64_t *c, uint64_t n)
{
        atomic_fetch_add_explicit(c, n, memory_order_relaxed);
}

static uint64_t get(atomic_uint_fast64_t *c)
{
        return atomic_load_explicit(c, memory_order_relaxed);
}

void metrics_request(enum endpoint e, unsigned status, double seconds)
{
        size_t b = 0;

        if ((unsigned) e >= _ENDPOINT_MAX)
                e = ENDPOINT_OTHER;
        inc(&m.requests[e][status_index(status)], 1);
        while (b < ELEMENTSOF(buckets) && seconds > buckets[b])
                b++;
        inc(&m.duration_bucket[e][b], 1);
        inc(&m.duration_sum_ns[e], seconds > 0 ? (uint64_t) (seconds * 1e9) : 0);
}

void metrics_request_aborted(enum endpoint e)
{
        inc(&m.aborted[(unsigned) e < _ENDPOINT_MAX ? e : ENDPOINT_OTHER], 1);
}

void metrics_decision(enum decision d, enum reason r)
{
        if ((unsigned) d < _DECISION_MAX && (unsigned) r < _REASON_MAX)
                inc(&m.decisions[d][r], 1);
}

void metrics_audit_error(void)
{
        inc(&m.audit_errors, 1);
}

void metrics_audit_suppressed(enum reason r)
{
        if ((unsigned) r < _REASON_MAX)
                inc(&m.audit_suppressed[r], 1);
}

void metrics_audit_dropped(void)
{
        inc(&m.audit_dropped, 1);
}

void metrics_connection_cut(enum cut why)
{
        if ((unsigned) why < _CUT_MAX)
                inc(&m.cuts[why], 1);
}

void metrics_inflight_add(int delta)
{
        atomic_fetch_add_explicit(&m.inflight, delta, memory_order_relaxed);
}

static void render_requests(FILE *f)
{
        fputs("# HELP nodegate_verifier_requests_total HTTP answers by endpoint and status.\n"
              "# TYPE nodegate_verifier_requests_total counter\n",
              f);
        for (size_t e = 0; e < _ENDPOINT_MAX; e++)
                for (size_t s = 0; s < N_STATUS; s++) {
                        uint64_t n = get(&m.requests[e][s]);
                        char status[16];

                        /* Series appear once they are non-zero, as client libraries do for
                         * labelled counters: 5 × 11 mostly empty series help nobody. */
                        if (n == 0)
                                continue;
                        if (s < ELEMENTSOF(statuses))
                                snprintf(status, sizeof(status), "%u", statuses[s]);
                        else
                                snprintf(status, sizeof(status), "other");
                        fprintf(f,
                                "nodegate_verifier_requests_total{endpoint=\"%s\",status=\"%s\"}"
                                " %llu\n",
                                endpoint_names[e], status, (unsigned long long) n);
                }

        fputs("# HELP nodegate_verifier_requests_aborted_total Requests that ended without an "
              "answer (client gone, timeout, shutdown).\n"
              "# TYPE nodegate_verifier_requests_aborted_total counter\n",
              f);
        for (size_t e = 0; e < _ENDPOINT_MAX; e++)
                fprintf(f, "nodegate_verifier_requests_aborted_total{endpoint=\"%s\"} %llu\n",
                        endpoint_names[e], (unsigned long long) get(&m.aborted[e]));
}

static void render_decisions(FILE *f)
{
        fputs("# HELP nodegate_verifier_decisions_total Appraisal decisions by reason.\n"
              "# TYPE nodegate_verifier_decisions_total counter\n",
              f);
        for (size_t d = 0; d < _DECISION_MAX; d++)
                for (size_t r = 0; r < _REASON_MAX; r++) {
                        uint64_t n = get(&m.decisions[d][r]);

                        if (n == 0)
                                continue;
                        fprintf(f,
                                "nodegate_verifier_decisions_total{decision=\"%s\",reason=\"%s\"}"
                                " %llu\n",
                                decision_names[d], reason_name((enum reason) r),
                                (unsigned long long) n);
                }
}

static void render_durations(FILE *f)
{
        fputs("# HELP nodegate_verifier_request_duration_seconds Time from request headers to "
              "the last byte of the answer.\n"
              "# TYPE nodegate_verifier_request_duration_seconds histogram\n",
              f);
        for (size_t e = 0; e < _ENDPOINT_MAX; e++) {
                uint64_t cumulative = 0;

                for (size_t b = 0; b < N_BUCKET; b++) {
                        char le[32];

                        cumulative += get(&m.duration_bucket[e][b]);
                        if (b < ELEMENTSOF(buckets))
                                snprintf(le, sizeof(le), "%g", buckets[b]);
                        else
                                snprintf(le, sizeof(le), "+Inf");
                        fprintf(f,
                                "nodegate_verifier_request_duration_seconds_bucket{endpoint=\"%s\","
                                "le=\"%s\"} %llu\n",
                                endpoint_names[e], le, (unsigned long long) cumulative);
                }
                fprintf(f, "nodegate_verifier_request_duration_seconds_sum{endpoint=\"%s\"} %.9f\n",
                        endpoint_names[e], (double) get(&m.duration_sum_ns[e]) / 1e9);
                /* _count is the +Inf bucket, so both come from the same reads. */
                fprintf(f,
                        "nodegate_verifier_request_duration_seconds_count{endpoint=\"%s\"} %llu\n",
                        endpoint_names[e], (unsigned long long) cumulative);
        }
}

static void render_defences(FILE *f)
{
        static const char *const cut_names[_CUT_MAX] = {
            [CUT_DEADLINE] = "deadline",
            [CUT_SLOW_BODY] = "slow-body",
            [CUT_PER_ADDRESS] = "per-address",
        };

        fputs("# HELP nodegate_verifier_audit_suppressed_total Refusal audit lines over the "
              "per-reason rate, counted in a summary line instead.\n"
              "# TYPE nodegate_verifier_audit_suppressed_total counter\n",
              f);
        for (size_t r = 0; r < _REASON_MAX; r++) {
                uint64_t n = get(&m.audit_suppressed[r]);

                if (n > 0)
                        fprintf(f, "nodegate_verifier_audit_suppressed_total{reason=\"%s\"} %llu\n",
                                reason_name((enum reason) r), (unsigned long long) n);
        }
        fprintf(f,
                "# HELP nodegate_verifier_audit_dropped_total Refusal and summary lines not "
                "written because the audit volume is down to its reserve for issued tokens.\n"
                "# TYPE nodegate_verifier_audit_dropped_total counter\n"
                "nodegate_verifier_audit_dropped_total %llu\n",
                (unsigned long long) get(&m.audit_dropped));
        fputs("# HELP nodegate_verifier_connections_cut_total Connections the server closed: "
              "request deadline missed, a body below the minimum rate, or over the "
              "per-address cap.\n"
              "# TYPE nodegate_verifier_connections_cut_total counter\n",
              f);
        for (size_t c = 0; c < _CUT_MAX; c++)
                fprintf(f, "nodegate_verifier_connections_cut_total{why=\"%s\"} %llu\n",
                        cut_names[c], (unsigned long long) get(&m.cuts[c]));
}

char *metrics_render(const char *version)
{
        _cleanup_free_ char *text = NULL;
        size_t size = 0;
        FILE *f;

        f = open_memstream(&text, &size);
        if (!f)
                return NULL;
        render_requests(f);
        render_decisions(f);
        render_durations(f);
        fprintf(f,
                "# HELP nodegate_verifier_inflight_requests Protocol requests with a complete body "
                "being appraised.\n"
                "# TYPE nodegate_verifier_inflight_requests gauge\n"
                "nodegate_verifier_inflight_requests %lld\n",
                (long long) atomic_load_explicit(&m.inflight, memory_order_relaxed));
        fprintf(f,
                "# HELP nodegate_verifier_audit_errors_total Audit records that could not be "
                "written.\n"
                "# TYPE nodegate_verifier_audit_errors_total counter\n"
                "nodegate_verifier_audit_errors_total %llu\n",
                (unsigned long long) get(&m.audit_errors));
        render_defences(f);
        fprintf(f,
                "# HELP nodegate_verifier_build_info The verifier's version.\n"
                "# TYPE nodegate_verifier_build_info gauge\n"
                "nodegate_verifier_build_info{version=\"%s\"} 1\n",
                version);
        if (fclose(f) != 0)
                return NULL;
        return TAKE_PTR(text);
}
