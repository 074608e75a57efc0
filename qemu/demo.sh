#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Boots the good image once against the verifier on the host's loopback (a policy that judges
# no event) and prints the boot timeline: the gate's lines, the stand-in kubelet's, the end of
# the boot. PASS when every step is done and the stand-in kubelet ran with the gate's token.
# Usage: demo.sh --uki U --disk D
set -euo pipefail
# shellcheck source=qemu/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
ng_enter_netns "$@"

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
trap 'ng_attest_stop || true' EXIT
trap 'exit 143' TERM
trap 'exit 130' INT
ng_attest_start "$NG_QEMU_OUT/logs/demo-verifier" verifier
echo "demo: verifier on 127.0.0.1:$NG_VERIFIER_PORT (the guest's $NG_VERIFIER_URL)"
echo "demo: booting $uki under OVMF (TCG: about 30 s)…"
rc=0
"$NG_TOP/qemu/boot.sh" --uki "$uki" --disk "$disk" --log "$log" \
        --tpm-ca "$NG_QEMU_OUT/pki/swtpm-ca" >"$log.boot" 2>&1 || rc=$?
ng_attest_stop || true
status=$(sed -n 's/^status: //p' "$log.boot")
wall=$(sed -n 's/^wall_ms: //p' "$log.boot")

echo "demo: boot timeline (serial console, $log):"
"$NG_TOP/qemu/timeline.sh" "$log" | sed 's/^/  /'
echo "demo: QEMU ended by ${status:-error} after $((${wall:-0} / 1000)) s (boot.sh exit $rc)"

text=$(ng_clean_log "$log")
problems=()
[[ $status == poweroff ]] || problems+=("QEMU ended by '${status:-error}', not poweroff")
grep -qF "$NG_MARKER" "$log" || problems+=("the stand-in init's marker is missing")
grep -qF "$NG_KUBELET_MARKER" "$log" || problems+=("the stand-in kubelet did not start")
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
