/* SPDX-License-Identifier: GPL-2.0-or-later */
/* nodegate run by hand, outside the boot: --help, --version, --tpm-info, --platform-evidence. */
#pragma once

#define NODEGATE_VERSION "0.1.0"

/* Handles the command line of a nodegate that is not PID 1.
 * @return the process exit status */
int cli_main(int argc, char **argv);
