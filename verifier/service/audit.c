/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The audit log: JSON lines, one write(2) each. O_APPEND makes each write land at the end of
 * the file even with several processes appending, so a line is never torn or interleaved.
 *
 * Refusals cost an attacker nothing, so their lines are capped: per reason, at most
 * refusals_per_second lines a second; the rest are counted by (reason, address) and written as
 * one summary line each when the second is over. And they never eat the last reserve_bytes of
 * the volume, which are left to the lines of issued tokens: no flood of refusals can fill the
 * disk so that an `issued` line (without which no token leaves) fails. */
#include "service/audit.h"

#include "common/json-util.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>

#define SUPPRESSED_MAX 64 /* (reason, address) pairs summarized one by one, per second */

struct suppressed {
        enum reason reason;
        char remote[INET6_ADDRSTRLEN];
        uint64_t count;
};

struct audit {
        int fd;
        bool owned;   /* false for stdout, which is not ours to close */
        bool is_file; /* the reserve applies: a regular file on some volume */
        struct audit_limits limits;

        pthread_mutex_t lock; /* everything below */
        int64_t window;       /* the second (Unix time, as in the lines) the counts are for */
        unsigned written[_REASON_MAX];
        struct suppressed sup[SUPPRESSED_MAX];
        size_t n_sup;
        uint64_t sup_elsewhere[_REASON_MAX]; /* from addresses beyond SUPPRESSED_MAX */
        int64_t space_checked;               /* second of the last fstatvfs() */
        bool low_space;
};

int audit_open(const char *path, struct audit **ret)
{
        _cleanup_close_ int fd = -1;
        bool owned = !streq(path, "-");
        struct audit *a;
        struct stat st;

        if (owned) {
                fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0640);
                if (fd < 0)
                        return negative_errno();
        }
        a = calloc(1, sizeof(*a));
        if (!a)
                return -ENOMEM;
        a->owned = owned;
        a->fd = owned ? TAKE_FD(fd) : STDOUT_FILENO;
        a->is_file = fstat(a->fd, &st) == 0 && S_ISREG(st.st_mode);
        a->limits = (struct audit_limits){.refusals_per_second = 0, .reserve_bytes = 0};
        a->window = -1;
        a->space_checked = -1;
        pthread_mutex_init(&a->lock, NULL);
        *ret = a;
        return 0;
}

void audit_set_limits(struct audit *a, const struct audit_limits *limits)
{
        pthread_mutex_lock(&a->lock);
        a->limits = *limits;
        pthread_mutex_unlock(&a->lock);
}

void audit_close(struct audit *a)
{
        if (!a)
                return;
        audit_flush(a);
        if (a->owned && a->fd >= 0)
                close(a->fd);
        pthread_mutex_destroy(&a->lock);
        free(a);
}

char *audit_format(const struct audit_record *r, int64_t t)
{
        _cleanup_(json_object_putp) json_object *o = NULL;
        time_t tt = (time_t) t;
        char when[32];
        struct tm tm;
        int k = 0;

        if (!gmtime_r(&tt, &tm) || strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
                return NULL;
        o = json_object_new_object();
        if (!o)
                return NULL;
        k |= json_add(o, "time", json_object_new_string(when));
        k |= json_add(o, "endpoint", json_object_new_string(endpoint_name(r->endpoint)));
        k |= json_add(o, "remote", json_object_new_string(strempty(r->remote)));
        k |= json_add(o, "decision", json_object_new_string(decision_name(r->decision)));
        k |= json_add(o, "reason", json_object_new_string(reason_name(r->reason)));
        if (r->facts && r->facts->token_id[0])
                k |= json_add(o, "token_id", json_object_new_string(r->facts->token_id));
        if (r->facts && r->facts->ek_sha256[0])
                k |= json_add(o, "ek", json_object_new_string(r->facts->ek_sha256));
        if (r->facts && r->facts->hostname[0]) {
                json_object *node = json_object_new_object();

                if (node)
                        k |= json_add(node, "hostname", json_object_new_string(r->facts->hostname));
                k |= json_add(o, "node", node);
        }
        /* On issued lines, always: a token given under a weakened policy says so. */
        if (r->facts && r->decision == DECISION_ISSUED) {
                json_object *list = json_object_new_array();

                for (unsigned n = 0; list && policy_opt_in_name(n); n++)
                        if (r->facts->opt_ins & 1u << n)
                                json_object_array_add(
                                    list, json_object_new_string(policy_opt_in_name(n)));
                k |= json_add(o, "opt_ins", list);
        }
        if (r->facts && r->facts->image[0] &&
            (r->decision == DECISION_ISSUED || r->decision == DECISION_REISSUED))
                k |= json_add(o, "image", json_object_new_string(r->facts->image));
        if (r->facts && r->facts->platform[0])
                k |= json_add(o, "platform", json_object_new_string(r->facts->platform));
        k |= json_add(o, "status", json_object_new_int64(r->status));
        if (r->message && r->message[0])
                k |= json_add(o, "message", json_object_new_string(r->message));
        /* json-c escapes quotes and control characters, so no claim of the node (hostname,
         * message text quoting its input) can forge a line or a field. */
        return k < 0 ? NULL : json_to_line(o);
}

/* Appends line and a newline with one write(2); the newline takes the place of its NUL. */
static int write_line(struct audit *a, char *line)
{
        size_t len;
        ssize_t n;

        len = strlen(line);
        /* The newline goes into the same buffer: two writes could be split by another's. */
        line[len] = '\n';
        len++;
        do
                n = write(a->fd, line, len);
        while (n < 0 && errno == EINTR);
        if (n < 0)
                return negative_errno();
        /* A short write would leave a torn line; writing the rest would let another writer's
         * line land in the middle. Report it instead, so the caller fails closed. */
        if ((size_t) n != len)
                return -EIO;
        return 0;
}

/* The lines' own clock, so that "at most N a second" holds for their time fields. A clock
 * stepped back only starts a new second early. */
static int64_t unix_seconds(void)
{
        return (int64_t) time(NULL);
}

/* True when the volume is down to its reserve; checked at most once a second. Lock held. */
static bool low_space(struct audit *a, int64_t now)
{
        struct statvfs st;

        if (!a->is_file || a->limits.reserve_bytes == 0)
                return false;
        if (now != a->space_checked) {
                a->space_checked = now;
                /* Unknown space counts as enough: the check must not silence the log itself. */
                a->low_space = fstatvfs(a->fd, &st) == 0 &&
                               (uint64_t) st.f_bavail * st.f_frsize < a->limits.reserve_bytes;
        }
        return a->low_space;
}

char *audit_format_suppressed(enum reason reason, const char *remote, uint64_t count, int64_t t)
{
        _cleanup_(json_object_putp) json_object *o = NULL;
        time_t tt = (time_t) t;
        char when[32], message[160];
        struct tm tm;
        int k = 0;

        if (!gmtime_r(&tt, &tm) || strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
                return NULL;
        snprintf(message, sizeof(message), "suppressed %llu refusals of reason %s from %s",
                 (unsigned long long) count, reason_name(reason),
                 streq(remote, "*") ? "other addresses" : remote);
        o = json_object_new_object();
        if (!o)
                return NULL;
        k |= json_add(o, "time", json_object_new_string(when));
        k |= json_add(o, "remote", json_object_new_string(remote));
        k |= json_add(o, "decision", json_object_new_string("suppressed"));
        k |= json_add(o, "reason", json_object_new_string(reason_name(reason)));
        k |= json_add(o, "count", json_object_new_int64((int64_t) count));
        k |= json_add(o, "status", json_object_new_int64(reason_http_status(reason)));
        k |= json_add(o, "message", json_object_new_string(message));
        return k < 0 ? NULL : json_to_line(o);
}

static void write_summary(struct audit *a, enum reason reason, const char *remote, uint64_t count,
                          int64_t now)
{
        _cleanup_free_ char *line = NULL;

        if (low_space(a, now)) {
                metrics_audit_dropped();
                return;
        }
        line = audit_format_suppressed(reason, remote, count, unix_seconds());
        if (!line || write_line(a, line) < 0)
                metrics_audit_error();
}

/* Starts the second now: writes the summaries of the one before. Bounded: SUPPRESSED_MAX +
 * _REASON_MAX lines at most. Lock held. */
static void roll(struct audit *a, int64_t now)
{
        if (now == a->window)
                return;
        for (size_t i = 0; i < a->n_sup; i++)
                write_summary(a, a->sup[i].reason, a->sup[i].remote, a->sup[i].count, now);
        for (size_t r = 0; r < _REASON_MAX; r++)
                if (a->sup_elsewhere[r] > 0)
                        write_summary(a, (enum reason) r, "*", a->sup_elsewhere[r], now);
        a->n_sup = 0;
        memset(a->sup_elsewhere, 0, sizeof(a->sup_elsewhere));
        memset(a->written, 0, sizeof(a->written));
        a->window = now;
}

static void suppress(struct audit *a, enum reason reason, const char *remote)
{
        metrics_audit_suppressed(reason);
        for (size_t i = 0; i < a->n_sup; i++)
                if (a->sup[i].reason == reason && streq(a->sup[i].remote, remote)) {
                        a->sup[i].count++;
                        return;
                }
        if (a->n_sup < SUPPRESSED_MAX) {
                a->sup[a->n_sup].reason = reason;
                snprintf(a->sup[a->n_sup].remote, sizeof(a->sup[a->n_sup].remote), "%s", remote);
                a->sup[a->n_sup].count = 1;
                a->n_sup++;
                return;
        }
        a->sup_elsewhere[reason]++;
}

void audit_flush(struct audit *a)
{
        if (!a)
                return;
        pthread_mutex_lock(&a->lock);
        roll(a, unix_seconds());
        pthread_mutex_unlock(&a->lock);
}

int audit_write(struct audit *a, const struct audit_record *r)
{
        _cleanup_free_ char *line = NULL;
        int64_t now = unix_seconds();
        struct timespec t;

        /* Issued tokens (and their non-delivery) are always written, reserve or not: that is
         * what the reserve is for. */
        if (r->decision != DECISION_ISSUED && r->decision != DECISION_UNDELIVERED) {
                enum reason reason =
                    (unsigned) r->reason < _REASON_MAX ? r->reason : REASON_INTERNAL;
                bool skip = false;

                pthread_mutex_lock(&a->lock);
                roll(a, now);
                if (r->decision == DECISION_REJECTED && a->limits.refusals_per_second > 0 &&
                    a->written[reason] >= a->limits.refusals_per_second) {
                        suppress(a, reason, strempty(r->remote));
                        skip = true;
                } else if (low_space(a, now)) {
                        /* A challenge or a refusal without its line; the metric says so. */
                        metrics_audit_dropped();
                        skip = true;
                } else
                        a->written[reason]++;
                pthread_mutex_unlock(&a->lock);
                if (skip)
                        return 0;
        }

        if (clock_gettime(CLOCK_REALTIME, &t) < 0)
                return negative_errno();
        line = audit_format(r, t.tv_sec);
        if (!line)
                return -ENOMEM;
        return write_line(a, line);
}
