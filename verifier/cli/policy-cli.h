/* SPDX-License-Identifier: GPL-2.0-or-later */
/* `nodegate-verifier policy …`: the policy file's management commands (from-log, check,
 * allow, show). */
#pragma once

/* argv[0] is "policy" (main passes argc - 1, argv + 1), argv[1] the subcommand.
 * Messages go to stderr, results to stdout. @return the exit status: 0 done, 1 failed,
 * 2 usage error */
int policy_cli(int argc, char **argv);
