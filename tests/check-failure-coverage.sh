#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# For every failure in src/failure.h, lists the tests that assert it: "FAILED <name>" as the
# QEMU scenarios match it on the console (directly, or through tests/e2e/lib.sh's
# "assert_gate_failure <name>"), or FAILURE_<ID> in a unit test. Exits 1 naming every failure
# that no test asserts. Usage: tests/check-failure-coverage.sh (from anywhere).
set -euo pipefail

cd "$(dirname "$0")/.."
header=src/failure.h
# This script, and test-failure.c (which walks the whole list generically on purpose), do not
# assert that any boot path produces a failure.
excludes=(--exclude=check-failure-coverage.sh --exclude=test-failure.c)

mapfile -t entries < <(grep -oE '^[[:space:]]*X\([A-Z0-9_]+, "[a-z-]+"' "$header" |
        sed -E 's/^[[:space:]]*X\(([A-Z0-9_]+), "([a-z-]+)"/\1 \2/')
if [ "${#entries[@]}" -eq 0 ]; then
        echo "check-failure-coverage: no failures found in $header" >&2
        exit 2
fi

uncovered=()
printf '%-20s %s\n' FAILURE "ASSERTED IN"
for entry in "${entries[@]}"; do
        id=${entry%% *}
        name=${entry#* }
        where=$( {
                grep -rnIE "${excludes[@]}" "FAILED ${name}([^a-z-]|\$)" tests/ || true
                grep -rnIE "${excludes[@]}" "assert_gate_failure[[:space:]]+${name}([^a-z-]|\$)" \
                        tests/ || true
                grep -rnIw "${excludes[@]}" "FAILURE_${id}" tests/ || true
        } | cut -d: -f1,2 | sort -u -t: -k1,1 -k2,2n | paste -sd ' ' -)
        if [ -z "$where" ]; then
                uncovered+=("$name")
                where="-"
        fi
        printf '%-20s %s\n' "$name" "$where"
done

echo
if [ "${#uncovered[@]}" -gt 0 ]; then
        echo "check-failure-coverage: ${#uncovered[@]} of ${#entries[@]} failures are asserted" \
                "by no test: ${uncovered[*]}" >&2
        exit 1
fi
echo "check-failure-coverage: all ${#entries[@]} failures are asserted by a test"
