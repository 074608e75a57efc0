/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The audit line's shape and escaping, whole lines under concurrent appends, and the metrics
 * exposition's counters and cumulative histogram buckets. */

#include "service/audit.h"
#include "service/metrics.h"
#include "util.h"

#include <fcntl.h>
#include <json-c/json.h>
#include <math.h>
#include <pthread.h>
#include <sys/stat.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

static const char *get_string(json_object *o, const char *key)
{
        json_object *v;

        if (!json_object_object_get_ex(o, key, &v))
                return NULL;
        return json_object_get_string(v);
}

static void test_format_full(void **state)
{
        struct appraisal_facts facts = {
            .ek_sha256 = "ab12", .hostname = "node-1", .token_id = "abcdef"};
        struct audit_record r = {
            .endpoint = ENDPOINT_ATTEST,
            .remote = "10.0.2.15",
            .decision = DECISION_ISSUED,
            .reason = REASON_OK,
            .status = 200,
            .message = "token issued",
            .facts = &facts,
        };
        _cleanup_free_ char *line = NULL;
        json_object *o, *node;

        (void) state;
        line = audit_format(&r, 1795860000);
        assert_non_null(line);
        /* The order of PROTOCOL.md's example, no blanks, one line. */
        assert_string_equal(line, "{\"time\":\"2026-11-28T10:00:00Z\",\"endpoint\":\"attest\","
                                  "\"remote\":\"10.0.2.15\",\"decision\":\"issued\","
                                  "\"reason\":\"ok\",\"token_id\":\"abcdef\",\"ek\":\"ab12\","
                                  "\"node\":{\"hostname\":\"node-1\"},\"opt_ins\":[],"
                                  "\"status\":200,\"message\":\"token issued\"}");
        /* A token issued under a policy's opt-ins says which (issue 11). */
        facts.opt_ins = POLICY_ALLOW_FIRMWARE_UNJUDGED | POLICY_ALLOW_SECURE_BOOT_OFF;
        free(line);
        line = audit_format(&r, 1795860000);
        assert_non_null(strstr(line, ",\"opt_ins\":[\"firmware-unjudged\",\"secure-boot-off\"],"));
        /* never on other decisions */
        r.decision = DECISION_REJECTED;
        free(line);
        line = audit_format(&r, 1795860000);
        assert_null(strstr(line, "opt_ins"));
        /* The platform evidence judged (issue 13), on any decision: the kind, before status. */
        snprintf(facts.platform, sizeof(facts.platform), "azure-snp-hcl");
        free(line);
        line = audit_format(&r, 1795860000);
        assert_non_null(strstr(line, ",\"platform\":\"azure-snp-hcl\",\"status\":200,"));
        r.decision = DECISION_ISSUED;
        free(line);
        line = audit_format(&r, 1795860000);
        assert_non_null(strstr(line, ",\"platform\":\"azure-snp-hcl\",\"status\":200,"));
        facts.platform[0] = '\0';
        facts.opt_ins = 0;
        free(line);
        line = audit_format(&r, 1795860000);
        o = json_tokener_parse(line);
        assert_non_null(o);
        assert_true(json_object_object_get_ex(o, "node", &node));
        assert_string_equal(get_string(node, "hostname"), "node-1");
        json_object_put(o);
}

static void test_format_minimal(void **state)
{
        struct audit_record r = {
            .endpoint = ENDPOINT_CHALLENGE,
            .remote = "::1",
            .decision = DECISION_REJECTED,
            .reason = REASON_BODY_TOO_LARGE,
            .status = 413,
        };
        _cleanup_free_ char *line = NULL;

        (void) state;
        line = audit_format(&r, 0);
        assert_non_null(line);
        assert_string_equal(line, "{\"time\":\"1970-01-01T00:00:00Z\",\"endpoint\":\"challenge\","
                                  "\"remote\":\"::1\",\"decision\":\"rejected\","
                                  "\"reason\":\"body-too-large\",\"status\":413}");
}

/* A claim of the node can hold anything the parser let through; it must never end a line or
 * a field early. */
static void test_format_escapes(void **state)
{
        struct appraisal_facts facts = {.hostname = "evil\"},\"decision\":\"issued\n{\"x\":\x01"};
        struct audit_record r = {
            .endpoint = ENDPOINT_ATTEST,
            .remote = "127.0.0.1",
            .decision = DECISION_REJECTED,
            .reason = REASON_PCR_MISMATCH,
            .status = 403,
            .message = "line one\nline \"two\" \\ /path\t\x7f",
            .facts = &facts,
        };
        _cleanup_free_ char *line = NULL;
        json_object *o, *node;

        (void) state;
        line = audit_format(&r, 1);
        assert_non_null(line);
        assert_null(strchr(line, '\n'));
        assert_null(strchr(line, '\x01'));
        o = json_tokener_parse(line);
        assert_non_null(o);
        assert_string_equal(get_string(o, "decision"), "rejected");
        assert_string_equal(get_string(o, "message"), r.message);
        assert_true(json_object_object_get_ex(o, "node", &node));
        assert_string_equal(get_string(node, "hostname"), facts.hostname);
        json_object_put(o);
}

struct writer {
        struct audit *a;
        int id;
};

#define WRITERS 4
#define LINES   400

static void *write_lines(void *p)
{
        struct writer *w = p;
        /* Long enough that a torn write would show. */
        char message[400];
        struct audit_record r = {
            .endpoint = ENDPOINT_CHALLENGE,
            .remote = "127.0.0.1",
            .decision = DECISION_CHALLENGED,
            .reason = REASON_OK,
            .status = 200,
            .message = message,
        };

        memset(message, 'a' + w->id, sizeof(message) - 1);
        message[sizeof(message) - 1] = '\0';
        for (int i = 0; i < LINES; i++)
                if (audit_write(w->a, &r) < 0)
                        return (void *) 1;
        return NULL;
}

static void test_write_concurrent(void **state)
{
        char path[] = "/tmp/test-verifier-audit-XXXXXX";
        pthread_t threads[WRITERS];
        struct writer writers[WRITERS];
        struct audit *a = NULL;
        int fd, counts[WRITERS] = {}, total = 0;
        FILE *f;
        char *line = NULL;
        size_t cap = 0;
        struct stat st;

        (void) state;
        fd = mkstemp(path);
        assert_true(fd >= 0);
        /* Appending keeps what is there. */
        assert_int_equal(write(fd, "{\"old\":1}\n", 10), 10);
        close(fd);

        assert_int_equal(audit_open(path, &a), 0);
        for (int i = 0; i < WRITERS; i++) {
                writers[i] = (struct writer){.a = a, .id = i};
                assert_int_equal(pthread_create(&threads[i], NULL, write_lines, &writers[i]), 0);
        }
        for (int i = 0; i < WRITERS; i++) {
                void *ret;

                assert_int_equal(pthread_join(threads[i], &ret), 0);
                assert_null(ret);
        }
        audit_close(a);

        f = fopen(path, "r");
        assert_non_null(f);
        assert_true(getline(&line, &cap, f) > 0);
        assert_string_equal(line, "{\"old\":1}\n");
        while (getline(&line, &cap, f) > 0) {
                json_object *o = json_tokener_parse(line);
                const char *m;

                assert_non_null(o);
                m = get_string(o, "message");
                assert_non_null(m);
                assert_int_equal(strlen(m), 399);
                assert_true(m[0] >= 'a' && m[0] < 'a' + WRITERS);
                /* Whole: every character of the message from one writer. */
                assert_int_equal(strspn(m, (char[]){m[0], '\0'}), 399);
                counts[m[0] - 'a']++;
                total++;
                json_object_put(o);
        }
        free(line);
        fclose(f);
        for (int i = 0; i < WRITERS; i++)
                assert_int_equal(counts[i], LINES);
        assert_int_equal(total, WRITERS * LINES);
        assert_int_equal(stat(path, &st), 0);
        assert_int_equal(st.st_mode & 0777, 0600); /* mkstemp's mode, not changed */
        unlink(path);
}

static void test_open_errors(void **state)
{
        struct audit *a = NULL;

        (void) state;
        assert_int_equal(audit_open("/tmp", &a), -EISDIR);
        assert_int_equal(audit_open("/nonexistent/dir/audit", &a), -ENOENT);
        assert_null(a);
        assert_int_equal(audit_open("-", &a), 0);
        audit_close(a);
        audit_close(NULL);
}

/* The value of the exposition line that starts with name, -1 if none. */
static double value_of(const char *text, const char *name)
{
        const char *p = text;
        size_t len = strlen(name);

        while ((p = strstr(p, name))) {
                if ((p == text || p[-1] == '\n') && p[len] == ' ')
                        return strtod(p + len + 1, NULL);
                p += len;
        }
        return -1;
}

static void test_metrics(void **state)
{
        _cleanup_free_ char *text = NULL;

        (void) state;
        metrics_request(ENDPOINT_HEALTHZ, 200, 0.0001);
        metrics_request(ENDPOINT_HEALTHZ, 200, 3.0);
        metrics_request(ENDPOINT_ATTEST, 299, 0.01); /* a status nobody expects: "other" */
        metrics_request_aborted(ENDPOINT_ATTEST);
        metrics_decision(DECISION_REJECTED, REASON_EVENT_NOT_ALLOWED);
        metrics_decision(DECISION_REJECTED, REASON_EVENT_NOT_ALLOWED);
        metrics_decision(DECISION_ISSUED, REASON_OK);
        metrics_inflight_add(3);
        metrics_inflight_add(-1);
        metrics_audit_error();

        text = metrics_render("9.9.9");
        assert_non_null(text);
#define V(name) value_of(text, name)
        assert_true(V("nodegate_verifier_requests_total{endpoint=\"healthz\",status=\"200\"}") ==
                    2);
        assert_true(V("nodegate_verifier_requests_total{endpoint=\"attest\",status=\"other\"}") ==
                    1);
        /* Zero series are left out. */
        assert_true(V("nodegate_verifier_requests_total{endpoint=\"metrics\",status=\"200\"}") ==
                    -1);
        assert_true(V("nodegate_verifier_requests_aborted_total{endpoint=\"attest\"}") == 1);
        assert_true(V("nodegate_verifier_decisions_total{decision=\"rejected\",reason=\"event-not-"
                      "allowed\"}") == 2);
        assert_true(V("nodegate_verifier_decisions_total{decision=\"issued\",reason=\"ok\"}") == 1);
        /* Cumulative buckets: 0.1 ms is in every bucket, 3 s from le=5 on. */
        assert_true(V("nodegate_verifier_request_duration_seconds_bucket{endpoint=\"healthz\","
                      "le=\"0.0005\"}") == 1);
        assert_true(V("nodegate_verifier_request_duration_seconds_bucket{endpoint=\"healthz\","
                      "le=\"2.5\"}") == 1);
        assert_true(V("nodegate_verifier_request_duration_seconds_bucket{endpoint=\"healthz\","
                      "le=\"5\"}") == 2);
        assert_true(V("nodegate_verifier_request_duration_seconds_bucket{endpoint=\"healthz\","
                      "le=\"+Inf\"}") == 2);
        assert_true(V("nodegate_verifier_request_duration_seconds_count{endpoint=\"healthz\"}") ==
                    2);
        assert_true(fabs(V("nodegate_verifier_request_duration_seconds_sum{endpoint=\"healthz\"}") -
                         3.0001) < 1e-6);
        assert_true(V("nodegate_verifier_inflight_requests") == 2);
        assert_true(V("nodegate_verifier_audit_errors_total") == 1);
        assert_true(V("nodegate_verifier_build_info{version=\"9.9.9\"}") == 1);
#undef V
        assert_non_null(strstr(text, "# TYPE nodegate_verifier_request_duration_seconds "
                                     "histogram\n"));
        assert_int_equal(text[strlen(text) - 1], '\n');
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_format_full),    cmocka_unit_test(test_format_minimal),
            cmocka_unit_test(test_format_escapes), cmocka_unit_test(test_write_concurrent),
            cmocka_unit_test(test_open_errors),    cmocka_unit_test(test_metrics),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
