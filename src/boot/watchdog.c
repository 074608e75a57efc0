/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A TPM that stops answering holds tpm2-tss in a read(2) that no check of the deadline reaches,
 * so the deadline is also a timer whose signal handler ends the boot. It cannot cap PCR 15 (the
 * TPM is what hangs), so it says so and never hands over to a shell. */
#include <signal.h>
#include <stdio.h>
#include <sys/reboot.h>
#include <sys/time.h>
#include <time.h>

#include "lib/log.h"
#include "attest/tpm.h"
#include "boot/watchdog.h"

/* As failure_stop_boot(): long enough to read the reason before the machine reboots. */
#define REBOOT_DELAY_SEC 10

static enum failure_action armed_action;
static char armed_why[96];

_noreturn_ static void on_alarm(int sig)
{
        bool tpm = tpm_waiting();
        enum failure f = tpm ? FAILURE_TPM : FAILURE_DEADLINE;
        enum failure_action action = armed_action;
        int command = RB_HALT_SYSTEM;
        const char *failed[] = {
            "FAILED ",
            failure_name(f),
            ": ",
            tpm ? "the TPM has not answered a command by " : "",
            armed_why,
            tpm ? ": nothing inside tpm2-tss can interrupt the wait, so the watchdog ends the boot"
                : " passed while the gate was blocked: the watchdog ends the boot",
            "; PCR 15 cannot be capped",
            tpm ? " (the TPM does not answer)" : " from a signal handler",
        };
        const char *verdict[] = {"boot stopped (", failure_name(f),
                                 "), action: ", failure_action_to_string(action)};
        const char *what[] = {failure_name(f), ": ", failure_description(f)};

        (void) sig;
        log_signal_safe(LOG_LEVEL_ERR, failed, ELEMENTSOF(failed));
        log_set_step(NULL);
        if (action == FAILURE_ACTION_SHELL && failure_get_owner() != FAILURE_OWNER_CALLER) {
                const char *no_shell[] = {"no emergency shell while PCR 15 is not capped: halting"};

                log_signal_safe(LOG_LEVEL_ERR, no_shell, ELEMENTSOF(no_shell));
                action = FAILURE_ACTION_HALT;
        }
        log_signal_safe(LOG_LEVEL_ERR, verdict, ELEMENTSOF(verdict));
        log_signal_safe(LOG_LEVEL_ERR, what, ELEMENTSOF(what));

        if (failure_get_owner() == FAILURE_OWNER_CALLER) {
                const char *exiting[] = {"not running as PID 1: exiting instead of ",
                                         failure_action_to_string(action)};

                log_signal_safe(LOG_LEVEL_ERR, exiting, ELEMENTSOF(exiting));
                _exit(EXIT_FAILURE);
        }
        if (action == FAILURE_ACTION_POWEROFF)
                command = RB_POWER_OFF;
        if (action == FAILURE_ACTION_REBOOT) {
                struct timespec delay = {.tv_sec = REBOOT_DELAY_SEC};

                command = RB_AUTOBOOT;
                while (nanosleep(&delay, &delay) < 0 && errno == EINTR)
                        ;
        }
        reboot(command);
        if (failure_get_owner() == FAILURE_OWNER_INITRD)
                _exit(EXIT_FAILURE);
        for (;;)
                pause();
}

int watchdog_arm(uint64_t at_usec, enum failure_action action, const char *why)
{
        struct sigaction sa = {.sa_handler = on_alarm};
        uint64_t now = now_usec(), left = at_usec > now ? at_usec - now : 1;
        struct itimerval it = {
            .it_value = {.tv_sec = (time_t) (left / 1000000U),
                         .tv_usec = (suseconds_t) (left % 1000000U)},
        };

        watchdog_disarm();
        armed_action = action;
        snprintf(armed_why, sizeof(armed_why), "%s", why);
        /* Every other signal stays blocked in the handler: it never returns. */
        sigfillset(&sa.sa_mask);
        if (sigaction(SIGALRM, &sa, NULL) < 0 || setitimer(ITIMER_REAL, &it, NULL) < 0)
                return negative_errno();
        return 0;
}

void watchdog_disarm(void)
{
        struct itimerval off = {};

        (void) setitimer(ITIMER_REAL, &off, NULL);
}
