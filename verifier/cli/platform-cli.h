/* SPDX-License-Identifier: GPL-2.0-or-later */
/* `nodegate-verifier platform verify …`: the offline check of one SNP report or Azure HCL
 * blob (docs/cvm.md), and `policy from-evidence` (its policy-learning half). */
#pragma once

/* argv[0] is "platform", argv[1] the subcommand. @return exit status: 0 accepted, 1 refused or
 * failed, 2 usage error */
int platform_cli(int argc, char **argv);

/* `policy from-evidence REPORT …` (argv[0] "from-evidence"): the "platform" section learnt from
 * one known-good report, on stdout. @return exit status */
int platform_cli_from_evidence(int argc, char **argv);
