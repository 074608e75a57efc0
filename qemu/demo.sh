#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Boots the good image once and prints the boot timeline: the gate's lines, the stand-in's
# marker, the end of the boot. PASS when every step is done and the stand-in init ran.
# Usage: demo.sh --uki U --disk D
set -euo pipefail
# shellcheck source=qemu/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

uki='' disk=''
while (($#)); do
        case $1 in
        --uki) uki=$2; shift 2 ;;
        --disk) disk=$2; shift 2 ;;
        *) ng_die "unknown argument: $1" ;;
        esac
done
[[ -n $uki && -n $disk ]] || ng_die "usage: demo.sh --uki U --disk D"

log="$NG_QEMU_OUT/logs/demo.log"
echo "demo: booting $uki under OVMF (TCG: about 30 s)…"
rc=0
"$NG_TOP/qemu/boot.sh" --uki "$uki" --disk "$disk" --log "$log" >"$log.boot" 2>&1 || rc=$?
status=$(sed -n 's/^status: //p' "$log.boot")
wall=$(sed -n 's/^wall_ms: //p' "$log.boot")

echo "demo: boot timeline (serial console, $log):"
"$NG_TOP/qemu/timeline.sh" "$log" | sed 's/^/  /'
echo "demo: QEMU ended by ${status:-error} after $((${wall:-0} / 1000)) s (boot.sh exit $rc)"

text=$(ng_clean_log "$log")
problems=()
[[ $status == poweroff ]] || problems+=("QEMU ended by '${status:-error}', not poweroff")
grep -qF "$NG_MARKER" "$log" || problems+=("the stand-in init's marker is missing")
for step in "${NG_STEPS[@]}"; do
        grep -qE "nodegate\\[$step\\]: done in [0-9]+(\.[0-9]+)? ms" <<<"$text" \
                || problems+=("no 'nodegate[$step]: done' line")
done
if ((${#problems[@]})); then
        printf 'demo: %s\n' "${problems[@]}"
        echo "demo: FAIL"
        exit 1
fi
t0=$(ng_log_ts "$log" 'Run /init as init process')
tsw=$(ng_log_ts "$log" 'nodegate\[switch\]: done')
echo "demo: /init -> switch_root took $(awk -v a="$t0" -v b="$tsw" 'BEGIN { printf "%.0f", (b - a) * 1000 }') ms"
echo "demo: PASS"
