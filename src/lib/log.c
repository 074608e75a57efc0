/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Console and /dev/kmsg logging: one line per call, prefixed with the current boot step. */
#include <fcntl.h>
#include <stdio.h>
#include <sys/uio.h>
#include <time.h>

#include "lib/log.h"

#define LOG_LINE_MAX 1000 /* /dev/kmsg truncates longer records anyway */

static int kmsg_fd = -1;
static int console_level = -1; /* the kernel prints kmsg records below this level itself */
static enum log_level max_level = LOG_LEVEL_INFO;
static const char *current_step;

uint64_t now_usec(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000U + (uint64_t) ts.tv_nsec / 1000U;
}

static int read_console_level(const char *root)
{
        char path[4096], buf[64];
        _cleanup_close_ int fd = -1;
        ssize_t n;
        int level;

        if (pathf(path, sizeof(path), "%s/proc/sys/kernel/printk", streq(root, "/") ? "" : root) <
            0)
                return -1;
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -1;
        n = read(fd, buf, sizeof(buf) - 1);
        if (n <= 0)
                return -1;
        buf[n] = 0;
        if (sscanf(buf, "%d", &level) != 1)
                return -1;
        return level;
}

/* The kernel lets a /dev/kmsg writer through only 10 lines per 5 s unless printk.devkmsg=on:
 * a boot's worth of gate lines would lose its end, failure reasons included. The gate lifts
 * the limit while it runs and puts back what it found before the next init starts. */
static char devkmsg_saved[32];

static int sysctl_rw(const char *root, const char *value, char *ret, size_t size)
{
        char path[4096];
        _cleanup_close_ int fd = -1;
        ssize_t n;

        if (pathf(path, sizeof(path), "%s/proc/sys/kernel/printk_devkmsg", root) < 0)
                return -ENAMETOOLONG;
        fd = open(path, (value ? O_WRONLY : O_RDONLY) | O_CLOEXEC);
        if (fd < 0)
                return negative_errno();
        if (value) {
                char line[40];

                /* The kernel insists on the newline: it checks the whole write was parsed. */
                snprintf(line, sizeof(line), "%s\n", value);
                return write(fd, line, strlen(line)) < 0 ? negative_errno() : 0;
        }
        n = read(fd, ret, size - 1);
        if (n <= 0)
                return n < 0 ? negative_errno() : -ENODATA;
        ret[n] = 0;
        ret[strcspn(ret, "\n")] = 0;
        return 0;
}

static void lift_kmsg_ratelimit(const char *root)
{
        char current[32];

        /* Fails harmlessly when printk.devkmsg= was given: the kernel then locks the knob. */
        if (sysctl_rw(root, NULL, current, sizeof(current)) == 0 && streq(current, "ratelimit") &&
            sysctl_rw(root, "on", NULL, 0) == 0)
                snprintf(devkmsg_saved, sizeof(devkmsg_saved), "%s", current);
}

void log_restore_kernel_settings(void)
{
        if (devkmsg_saved[0])
                (void) sysctl_rw("", devkmsg_saved, NULL, 0);
        devkmsg_saved[0] = 0;
}

int log_open(const char *root)
{
        char path[4096];

        log_close();
        if (pathf(path, sizeof(path), "%s/dev/kmsg", streq(root, "/") ? "" : root) < 0)
                return -ENAMETOOLONG;
        kmsg_fd = open(path, O_WRONLY | O_NOCTTY | O_CLOEXEC);
        if (kmsg_fd < 0)
                return errno == ENOENT ? 0 : negative_errno();
        console_level = read_console_level(root);
        lift_kmsg_ratelimit(streq(root, "/") ? "" : root);
        return 0;
}

void log_close(void)
{
        closep(&kmsg_fd);
        kmsg_fd = -1;
        console_level = -1;
}

void log_set_step(const char *step)
{
        current_step = step;
}

const char *log_get_step(void)
{
        return current_step;
}

void log_set_max_level(enum log_level level)
{
        max_level = level;
}

static void write_console(const char *prefix, const char *msg)
{
        uint64_t t = now_usec();
        char stamp[48];

        /* Same shape as the kernel's printk timestamps, so both kinds of line read alike. */
        snprintf(stamp, sizeof(stamp), "[%5llu.%06llu] ", (unsigned long long) (t / 1000000U),
                 (unsigned long long) (t % 1000000U));
        dprintf(STDERR_FILENO, "%s%s %s\n", stamp, prefix, msg);
}

int log_full_errnov(enum log_level level, int err, const char *fmt, va_list ap)
{
        int saved_errno = errno;
        char msg[LOG_LINE_MAX], prefix[64];
        int ret = err == 0 ? -EIO : -abs(err);

        if (level > max_level) {
                errno = saved_errno;
                return ret;
        }

        errno = abs(err); /* what %m prints, in glibc and musl alike */
        vsnprintf(msg, sizeof(msg), fmt, ap);

        if (current_step)
                snprintf(prefix, sizeof(prefix), "nodegate[%s]:", current_step);
        else
                snprintf(prefix, sizeof(prefix), "nodegate:");

        if (kmsg_fd >= 0) {
                char head[80];
                struct iovec iov[4];

                snprintf(head, sizeof(head), "<%d>%s ", (int) level, prefix);
                iov[0] = (struct iovec){.iov_base = head, .iov_len = strlen(head)};
                iov[1] = (struct iovec){.iov_base = msg, .iov_len = strlen(msg)};
                iov[2] = (struct iovec){.iov_base = (char *) "\n", .iov_len = 1};
                (void) !writev(kmsg_fd, iov, 3);
        }
        /* The kernel copies kmsg records below console_loglevel to the console itself:
         * writing them to the console too would print every line twice. */
        if (kmsg_fd < 0 || console_level < 0 || (int) level >= console_level)
                write_console(prefix, msg);

        errno = saved_errno;
        return ret;
}

int log_full_errno(enum log_level level, int err, const char *fmt, ...)
{
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = log_full_errnov(level, err, fmt, ap);
        va_end(ap);
        return r;
}

/* Appends s to buf[*l..size) without snprintf, which is not async-signal-safe. */
static void append(char *buf, size_t size, size_t *l, const char *s)
{
        for (; s && *s && *l + 1 < size; s++)
                buf[(*l)++] = *s;
        buf[*l] = 0;
}

static void append_uint(char *buf, size_t size, size_t *l, uint64_t v, unsigned min_digits)
{
        char digits[24];
        unsigned n = 0;

        do {
                digits[n++] = (char) ('0' + v % 10U);
                v /= 10U;
        } while (v > 0 && n < sizeof(digits));
        while (n < min_digits && n < sizeof(digits))
                digits[n++] = '0';
        while (n > 0 && *l + 1 < size)
                buf[(*l)++] = digits[--n];
        buf[*l] = 0;
}

void log_signal_safe(enum log_level level, const char *const parts[], size_t n_parts)
{
        char prefix[96], line[LOG_LINE_MAX];
        size_t p = 0, l = 0, h = 0;
        int saved_errno = errno;

        append(prefix, sizeof(prefix), &p, current_step ? "nodegate[" : "nodegate:");
        if (current_step) {
                append(prefix, sizeof(prefix), &p, current_step);
                append(prefix, sizeof(prefix), &p, "]:");
        }
        append(prefix, sizeof(prefix), &p, " ");
        for (size_t i = 0; i < n_parts; i++)
                append(line, sizeof(line), &l, parts[i]);
        append(line, sizeof(line), &l, "\n");

        if (kmsg_fd >= 0) {
                char head[8];
                struct iovec iov[3];

                append(head, sizeof(head), &h, "<");
                append_uint(head, sizeof(head), &h, (uint64_t) level, 1);
                append(head, sizeof(head), &h, ">");
                iov[0] = (struct iovec){.iov_base = head, .iov_len = h};
                iov[1] = (struct iovec){.iov_base = prefix, .iov_len = p};
                iov[2] = (struct iovec){.iov_base = line, .iov_len = l};
                (void) !writev(kmsg_fd, iov, 3);
        }
        if (kmsg_fd < 0 || console_level < 0 || (int) level >= console_level) {
                struct timespec ts;
                char stamp[40];
                size_t s = 0;
                struct iovec iov[3];

                /* clock_gettime() is async-signal-safe; the stamp has write_console()'s shape. */
                clock_gettime(CLOCK_MONOTONIC, &ts);
                append(stamp, sizeof(stamp), &s, "[");
                if (ts.tv_sec < 10000)
                        append(stamp, sizeof(stamp), &s,
                               ts.tv_sec < 10     ? "    "
                               : ts.tv_sec < 100  ? "   "
                               : ts.tv_sec < 1000 ? "  "
                                                  : " ");
                append_uint(stamp, sizeof(stamp), &s, (uint64_t) ts.tv_sec, 1);
                append(stamp, sizeof(stamp), &s, ".");
                append_uint(stamp, sizeof(stamp), &s, (uint64_t) ts.tv_nsec / 1000U, 6);
                append(stamp, sizeof(stamp), &s, "] ");
                iov[0] = (struct iovec){.iov_base = stamp, .iov_len = s};
                iov[1] = (struct iovec){.iov_base = prefix, .iov_len = p};
                iov[2] = (struct iovec){.iov_base = line, .iov_len = l};
                (void) !writev(STDERR_FILENO, iov, 3);
        }
        errno = saved_errno;
}
