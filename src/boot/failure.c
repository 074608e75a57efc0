/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Naming, logging and carrying out the end of a boot that must not continue. */
#include <stdio.h>
#include <sys/reboot.h>

#include "boot/failure.h"
#include "lib/log.h"

/* Long enough to read the reason on a console before the machine reboots. */
#define REBOOT_DELAY_SEC 10U

static const struct {
        const char *name;
        const char *description;
} failures[] = {
#define FAILURE_ENTRY(id, name, step, what) [FAILURE_##id] = {name, what},
    NODEGATE_FAILURES(FAILURE_ENTRY)
#undef FAILURE_ENTRY
};

static enum failure last_failure = _FAILURE_MAX;
static enum failure_owner owner = FAILURE_OWNER_CALLER;

void failure_set_owner(enum failure_owner o)
{
        owner = o;
}

enum failure_owner failure_get_owner(void)
{
        return owner;
}

const char *failure_name(enum failure f)
{
        return (unsigned) f < _FAILURE_MAX ? failures[f].name : NULL;
}

const char *failure_description(enum failure f)
{
        return (unsigned) f < _FAILURE_MAX ? failures[f].description : NULL;
}

int fail(enum failure f, int err, const char *fmt, ...)
{
        char reason[800];
        va_list ap;
        int saved_errno = errno;

        last_failure = f;
        errno = abs(err);
        va_start(ap, fmt);
        vsnprintf(reason, sizeof(reason), fmt, ap);
        va_end(ap);
        errno = saved_errno;
        return log_error_errno(err, "FAILED %s: %s", failure_name(f), reason);
}

enum failure failure_last(void)
{
        return last_failure;
}

_noreturn_ void failure_stop_boot(enum failure_action action)
{
        static const int commands[_FAILURE_ACTION_MAX] = {
            [FAILURE_ACTION_HALT] = RB_HALT_SYSTEM,
            [FAILURE_ACTION_POWEROFF] = RB_POWER_OFF,
            [FAILURE_ACTION_REBOOT] = RB_AUTOBOOT,
        };
        const char *name = failure_name(last_failure);

        if ((unsigned) action >= _FAILURE_ACTION_MAX)
                action = FAILURE_ACTION_HALT;
        /* The standalone initramfs has no shell to hand over to. */
        if (action == FAILURE_ACTION_SHELL && owner == FAILURE_OWNER_PID1)
                action = FAILURE_ACTION_HALT;

        log_set_step(NULL);
        log_error("boot stopped (%s), action: %s", name ? name : "unknown",
                  failure_action_to_string(action));
        if (name)
                log_error("%s: %s", name, failure_description(last_failure));

        if (owner == FAILURE_OWNER_CALLER) {
                /* Only PID 1 or the initramfs owns the machine; here the caller sees a status. */
                log_error("not running as PID 1: exiting instead of %s",
                          failure_action_to_string(action));
                _exit(EXIT_FAILURE);
        }
        if (action == FAILURE_ACTION_SHELL) {
                log_error("handing over to the initramfs's emergency shell, as "
                          "nodegate.on_failure=shell asks; the root is not entered");
                _exit(FAILURE_EXIT_SHELL);
        }

        sync();
        if (action == FAILURE_ACTION_REBOOT)
                sleep(REBOOT_DELAY_SEC);
        reboot(commands[action]);

        (void) log_error_errno(errno, "reboot(%s) failed: %m", failure_action_to_string(action));
        /* Under a framework its hook sees the status and stops the boot itself. PID 1 must not
         * exit (the kernel would panic and, with panic=N, reboot into a retry loop). */
        if (owner == FAILURE_OWNER_INITRD)
                _exit(EXIT_FAILURE);
        log_error("halting here");
        for (;;)
                pause();
}
