#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Prints the boot timeline from a serial log: kernel start of /init, every gate (or reference)
# line, dm-verity messages, the stand-in's marker lines and how the kernel stopped.
# Usage: timeline.sh LOG
set -euo pipefail
# shellcheck source=qemu/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

[[ $# == 1 && -r $1 ]] || ng_die "usage: timeline.sh LOG"
ng_clean_log "$1" | grep -E 'Run /init as init process|nodegate(-ref)?(\[[a-z]+\])?: |nodegate-test|NODEGATE-TEST|device-mapper: verity|Kernel panic|\] reboot: ' || true
