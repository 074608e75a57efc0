#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The house style, checked: clang-format on every C file, shellcheck on every shell script
# that git tracks (by extension or by its #! line).
set -euo pipefail
cd "$(dirname "$0")/.."

mapfile -t c_files < <(git ls-files '*.c' '*.h')
mapfile -t shell_files < <(git ls-files | while read -r f; do
        case $f in
        *.sh | .ci/run | .ci/install) echo "$f" ;;
        *) [[ -f $f ]] && head -n1 "$f" | grep -qE '^#!(/usr/bin/env bash|/bin/bash|/bin/sh)' && echo "$f" ;;
        esac
done)
# busybox sh scripts (the test root's stand-in init) are checked as the POSIX sh they are.
mapfile -t busybox_files < <(git ls-files | while read -r f; do
        [[ -f $f ]] && head -n1 "$f" | grep -qE '^#!/bin/busybox sh' && echo "$f"
done)

rc=0
clang-format --dry-run --Werror "${c_files[@]}" || rc=1
shellcheck -x "${shell_files[@]}" || rc=1
if ((${#busybox_files[@]})); then
        shellcheck -s dash "${busybox_files[@]}" || rc=1
fi
echo "check-style: ${#c_files[@]} C files, $((${#shell_files[@]} + ${#busybox_files[@]})) shell scripts:" \
        "$([[ $rc == 0 ]] && echo clean || echo FAILED)"
exit "$rc"
