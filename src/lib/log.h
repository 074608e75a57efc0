/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Console and /dev/kmsg logging, every line tagged with the boot step it belongs to. */
#pragma once

#include <stdarg.h>
#include <stdint.h>

#include "util.h"

/* syslog priorities, as /dev/kmsg understands them */
enum log_level {
        LOG_LEVEL_ERR = 3,
        LOG_LEVEL_WARNING = 4,
        LOG_LEVEL_NOTICE = 5,
        LOG_LEVEL_INFO = 6,
        LOG_LEVEL_DEBUG = 7,
};

/* Opens /dev/kmsg below root ("/" in the initramfs) if it is there; logging works without it.
 * @return 0, or negative errno when /dev/kmsg exists but cannot be opened (not fatal). */
int log_open(const char *root);
void log_close(void);

/* Puts back the kernel's /dev/kmsg rate limit that log_open() lifted; called before the next
 * init runs, so that it gets the kernel's defaults. */
void log_restore_kernel_settings(void);

/* Names the step that following lines belong to ("parse", "verity", …). Static string. */
void log_set_step(const char *step);
const char *log_get_step(void);

/* Lowest priority that is printed (default LOG_LEVEL_INFO; "nodegate.debug" raises it). */
void log_set_max_level(enum log_level level);

/* Logs one line. %m expands to strerror(err).
 * @return -abs(err), or -EIO when err is 0, so that callers can "return log_…_errno(r, …)". */
int log_full_errno(enum log_level level, int err, const char *fmt, ...) _printf_(3, 4);
int log_full_errnov(enum log_level level, int err, const char *fmt, va_list ap);

#define log_error_errno(err, ...)   log_full_errno(LOG_LEVEL_ERR, (err), __VA_ARGS__)
#define log_warning_errno(err, ...) log_full_errno(LOG_LEVEL_WARNING, (err), __VA_ARGS__)
#define log_error(...)              ((void) log_full_errno(LOG_LEVEL_ERR, 0, __VA_ARGS__))
#define log_warning(...)            ((void) log_full_errno(LOG_LEVEL_WARNING, 0, __VA_ARGS__))
#define log_notice(...)             ((void) log_full_errno(LOG_LEVEL_NOTICE, 0, __VA_ARGS__))
#define log_info(...)               ((void) log_full_errno(LOG_LEVEL_INFO, 0, __VA_ARGS__))
#define log_debug(...)              ((void) log_full_errno(LOG_LEVEL_DEBUG, 0, __VA_ARGS__))

/* One line built from parts, for a signal handler: only write(2)/writev(2) and
 * clock_gettime(2), no stdio and no allocation; the same prefix and destinations as the others.
 * Never logs the level's filter away: a handler writes only what must be seen. */
void log_signal_safe(enum log_level level, const char *const parts[], size_t n_parts);

/* CLOCK_MONOTONIC in microseconds: the same clock as the kernel's printk timestamps. */
uint64_t now_usec(void);
