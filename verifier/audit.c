/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The audit log: JSON lines, one write(2) each. O_APPEND makes each write land at the end of
 * the file even with several processes appending, so a line is never torn or interleaved. */
#include "audit.h"

#include "json-util.h"

#include <fcntl.h>
#include <time.h>

struct audit {
        int fd;
        bool owned; /* false for stdout, which is not ours to close */
};

int audit_open(const char *path, struct audit **ret)
{
        _cleanup_close_ int fd = -1;
        bool owned = !streq(path, "-");
        struct audit *a;

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
        *ret = a;
        return 0;
}

void audit_close(struct audit *a)
{
        if (!a)
                return;
        if (a->owned && a->fd >= 0)
                close(a->fd);
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
        k |= json_add(o, "status", json_object_new_int64(r->status));
        if (r->message && r->message[0])
                k |= json_add(o, "message", json_object_new_string(r->message));
        /* json-c escapes quotes and control characters, so no claim of the node (hostname,
         * message text quoting its input) can forge a line or a field. */
        return k < 0 ? NULL : json_to_line(o);
}

int audit_write(struct audit *a, const struct audit_record *r)
{
        _cleanup_free_ char *line = NULL;
        struct timespec now;
        size_t len;
        ssize_t n;

        if (clock_gettime(CLOCK_REALTIME, &now) < 0)
                return negative_errno();
        line = audit_format(r, now.tv_sec);
        if (!line)
                return -ENOMEM;
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
