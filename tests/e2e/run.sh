#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Runs the QEMU scenarios (all, or those named) and prints pass/fail per scenario and a summary.
# Usage: tests/e2e/run.sh [SCENARIO…]    e.g. run.sh good tampered-block
# Scenario names are the TEST-NN-NAME directories' NAME in lower case. Environment: INITRD (the
# initramfs under test, default build/initrd/initrd.img), KVER, BUILD, BOOT_TIMEOUT,
# E2E_TEST_TIMEOUT (hard limit per scenario, default 1800 s, lock waits included).
# Exit: 0 all passed, 1 any failed, 77 all skipped.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

declare -A dir_of=()
names=()
for d in "$here"/TEST-*/; do
        d=${d%/}
        [[ -x $d/test.sh ]] || continue
        n=${d##*/TEST-}
        n=${n#*-}
        n=${n,,}
        dir_of[$n]=$d
        names+=("$n")
done

selected=("$@")
((${#selected[@]})) || selected=("${names[@]}")
for n in "${selected[@]}"; do
        [[ -n ${dir_of[$n]:-} ]] || { echo "unknown scenario '$n' (have: ${names[*]})" >&2; exit 1; }
done

child=''
cleanup() {
        if [[ -n $child ]] && kill -0 "$child" 2>/dev/null; then
                kill "$child" 2>/dev/null || true
                wait "$child" 2>/dev/null || true
        fi
}
trap cleanup EXIT

results=()
passed=0 failed=0 skipped=0
for n in "${selected[@]}"; do
        start=$SECONDS
        rc=0
        # Own process per scenario: one scenario's variables and traps cannot leak into the next.
        timeout --kill-after=30 "${E2E_TEST_TIMEOUT:-1800}" "${dir_of[$n]}/test.sh" &
        child=$!
        wait "$child" || rc=$?
        child=''
        took=$((SECONDS - start))
        case $rc in
        0) results+=("PASS  $n (${took} s)"); passed=$((passed + 1)) ;;
        77) results+=("SKIP  $n"); skipped=$((skipped + 1)) ;;
        124) results+=("FAIL  $n (hard timeout after ${took} s)"); failed=$((failed + 1)) ;;
        *) results+=("FAIL  $n (${took} s)"); failed=$((failed + 1)) ;;
        esac
        echo
done

echo "e2e results:"
printf '  %s\n' "${results[@]}"
echo "e2e summary: $passed passed, $failed failed, $skipped skipped"
if ((failed)); then
        exit 1
elif ((skipped == ${#selected[@]})); then
        exit 77
fi
