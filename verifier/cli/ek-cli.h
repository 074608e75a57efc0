/* SPDX-License-Identifier: GPL-2.0-or-later */
/* `nodegate-verifier ek …` (the EK allowlist) and `nodegate-verifier ca …` (the EK CA
 * directory): the management commands of what ekcheck.c reads at startup. */
#pragma once

/* argv[0] is "ek" (main passes argc - 1, argv + 1), argv[1] the subcommand:
 *   ek allow FILE (--hash HEX | --public TPM2B_PUBLIC_FILE | --certificate DER_OR_PEM)
 *            [--comment TEXT]
 *   ek list FILE
 *   ek remove FILE HEX
 * Files are rewritten atomically (temporary file + rename). Messages go to stderr, results to
 * stdout. @return the exit status: 0 done, 1 failed, 2 usage error */
int ek_cli(int argc, char **argv);

/* argv[0] is "ca":
 *   ca add DIR PEM   (each certificate must be a CA; written as DIR/<sha256 of DER>.pem)
 *   ca list DIR
 * @return the exit status: 0 done, 1 failed, 2 usage error */
int ca_cli(int argc, char **argv);
