/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The gate's deadline for what blocks: SIGALRM ends the boot from its handler. */
#pragma once

#include <stdint.h>

#include "boot/failure.h"

/* Arms the watchdog for at_usec (now_usec()'s clock), replacing an armed one. When it fires, the
 * handler logs "FAILED tpm" (a TPM command is still unanswered: tpm_waiting()) or "FAILED
 * deadline" (anything else blocked), with why (e.g. "nodegate.timeout=30 s", copied) and that
 * PCR 15 could not be capped, then ends as failure_stop_boot() would, with async-signal-safe
 * calls only: exit status 1 for FAILURE_OWNER_CALLER, else reboot(2) with action, where
 * FAILURE_ACTION_SHELL halts (no shell with an uncapped TPM).
 * @return 0, or negative errno */
int watchdog_arm(uint64_t at_usec, enum failure_action action, const char *why);

/* Stops an armed watchdog; nothing when none is armed. */
void watchdog_disarm(void);
