#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# For every failure in src/boot/failure.h, lists the tests that assert it: "FAILED <name>" as the
# QEMU scenarios match it on the console (directly, or through tests/e2e/lib.sh's
# "assert_gate_failure <name>" / "assert_gate_stop <name>"), or FAILURE_<ID> in a unit test.
# A failure that no test can provoke is listed instead in tests/failures-not-provoked.txt, one
# "name: reason" line each. Exits 1 naming every failure that is neither asserted nor listed,
# every listed one that a test asserts after all (a stale entry) and every listed name that
# src/boot/failure.h does not have. Usage: tests/check-failure-coverage.sh (from anywhere).
set -euo pipefail

cd "$(dirname "$0")/.."
header=src/boot/failure.h
not_provoked=tests/failures-not-provoked.txt
# This script, and test-failure.c (which walks the whole list generically on purpose), do not
# assert that any boot path produces a failure; nor does the list of those no test provokes.
excludes=(--exclude=check-failure-coverage.sh --exclude=test-failure.c
        --exclude="${not_provoked##*/}")

mapfile -t entries < <(grep -oE '^[[:space:]]*X\([A-Z0-9_]+, "[a-z-]+"' "$header" |
        sed -E 's/^[[:space:]]*X\(([A-Z0-9_]+), "([a-z-]+)"/\1 \2/')
if [ "${#entries[@]}" -eq 0 ]; then
        echo "check-failure-coverage: no failures found in $header" >&2
        exit 2
fi
declare -A known=()
for entry in "${entries[@]}"; do
        known[${entry#* }]=1
done

problems=()
declare -A reason_of=()
if [ -e "$not_provoked" ]; then
        n=0
        while IFS= read -r line || [ -n "$line" ]; do
                n=$((n + 1))
                [[ $line =~ ^[[:space:]]*(#|$) ]] && continue
                if ! [[ $line =~ ^([a-z-]+):[[:space:]]+([^[:space:]].*)$ ]]; then
                        problems+=("$not_provoked:$n: not 'name: reason'")
                        continue
                fi
                name=${BASH_REMATCH[1]}
                if [ -z "${known[$name]:-}" ]; then
                        problems+=("$not_provoked:$n: '$name' is not a failure in $header")
                elif [ -n "${reason_of[$name]:-}" ]; then
                        problems+=("$not_provoked:$n: '$name' is listed twice")
                fi
                reason_of[$name]=${BASH_REMATCH[2]}
        done <"$not_provoked"
fi

# Matches that only look like assertions: comments, and negative checks ("this failure did
# not happen") prove nothing about the failure itself.
not_an_assertion='^[^:]+:[0-9]+:[[:space:]]*#|assert_no_log'

printf '%-20s %s\n' FAILURE "ASSERTED IN"
for entry in "${entries[@]}"; do
        id=${entry%% *}
        name=${entry#* }
        where=$( {
                grep -rnIE "${excludes[@]}" "FAILED ${name}([^a-z-]|\$)" tests/ || true
                grep -rnIE "${excludes[@]}" \
                        "assert_gate_(failure|stop)[[:space:]]+${name}([^a-z-]|\$)" tests/ || true
                grep -rnIw "${excludes[@]}" "FAILURE_${id}" tests/ || true
        } | { grep -vE "$not_an_assertion" || true; } |
                cut -d: -f1,2 | sort -u -t: -k1,1 -k2,2n | paste -sd ' ' -)
        listed=${reason_of[$name]:-}
        if [ -n "$where" ] && [ -n "$listed" ]; then
                problems+=("$name is asserted, so its entry in $not_provoked is stale")
        elif [ -z "$where" ] && [ -z "$listed" ]; then
                problems+=("$name is asserted by no test and not listed in $not_provoked")
        fi
        if [ -z "$where" ] && [ -n "$listed" ]; then
                where="not provoked: $listed"
        fi
        printf '%-20s %s\n' "$name" "${where:--}"
done

echo
if [ "${#problems[@]}" -gt 0 ]; then
        printf 'check-failure-coverage: %s\n' "${problems[@]}" >&2
        echo "check-failure-coverage: ${#problems[@]} problem(s)" >&2
        exit 1
fi
echo "check-failure-coverage: all ${#entries[@]} failures are asserted by a test" \
        "or listed with a reason in $not_provoked (${#reason_of[@]} of them)"
