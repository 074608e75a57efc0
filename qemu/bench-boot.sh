#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Boot benchmark: boots the good image N times with the nodegate initramfs and N times with the
# reference (busybox + veritysetup) initramfs, and N times with the gate in a dracut initramfs
# when --dracut-uki is given, and N times with the gate on Debian 13's configuration (stub 257,
# kernel 6.12, its own initramfs) when --debian13-uki is given, alternating, and prints per-phase medians and the gate's TPM
# command counts (qemu/bench-table.py).
# Usage: bench-boot.sh --gate-uki U --ref-uki U [--dracut-uki U] [--debian13-uki U] --disk D
#                      [--runs N]
#        (BENCH_RUNS=N works too)
#        bench-boot.sh --report results.jsonl   (only prints the table of an earlier run)
# Times come from printk timestamps on the serial console: t0 is the kernel's "Run /init as
# init process", each step ends at its "done" line, so both initramfs are measured with the
# same clock by the same parser; the phases inside the gate's attest step come from its
# timeline line. The gate attests to the real verifier (NG_VERIFIER, optimized build) on the
# host's loopback, with a policy that judges no event: the appraisal's cost is in the round trips
# either way. Both kinds boot with the same manufactured swtpm.
set -euo pipefail
# shellcheck source=qemu/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
ng_enter_netns "$@"

gate_uki='' ref_uki='' dracut_uki='' debian13_uki='' disk='' runs=${BENCH_RUNS:-5} report=''
while (($#)); do
        case $1 in
        --report) report=$2; shift 2 ;;
        --gate-uki) gate_uki=$2; shift 2 ;;
        --ref-uki) ref_uki=$2; shift 2 ;;
        --dracut-uki) dracut_uki=$2; shift 2 ;;
        --debian13-uki) debian13_uki=$2; shift 2 ;;
        --disk) disk=$2; shift 2 ;;
        --runs) runs=$2; shift 2 ;;
        *) ng_die "unknown argument: $1" ;;
        esac
done
table() { python3 "$NG_TOP/qemu/bench-table.py" table "$1"; }
if [[ -n $report ]]; then
        table "$report"
        exit 0
fi
[[ -n $gate_uki && -n $ref_uki && -n $disk ]] || ng_die "usage: bench-boot.sh --gate-uki U --ref-uki U --disk D [--runs N]"
[[ $runs =~ ^[1-9][0-9]*$ ]] || ng_die "bad run count: $runs"

out="$NG_QEMU_OUT/bench"
rm -rf "$out"
mkdir -p "$out"
results="$out/results.jsonl"
: >"$results"
trap 'ng_attest_stop || true' EXIT
trap 'exit 143' TERM
trap 'exit 130' INT
kinds=(gate ref)
[[ -z $dracut_uki ]] || kinds+=(dracut)
[[ -z $debian13_uki ]] || kinds+=(debian13)
ng_attest_start "$out/verifier" verifier --tokens $((${#kinds[@]} * runs + 4))

# The ESPs are built once, outside the timed part.
"$NG_TOP/qemu/mkesp.sh" --uki "$gate_uki" --out "$out/gate-esp.img"
"$NG_TOP/qemu/mkesp.sh" --uki "$ref_uki" --out "$out/ref-esp.img"
[[ -z $dracut_uki ]] || "$NG_TOP/qemu/mkesp.sh" --uki "$dracut_uki" --out "$out/dracut-esp.img"
[[ -z $debian13_uki ]] || "$NG_TOP/qemu/mkesp.sh" --uki "$debian13_uki" --out "$out/debian13-esp.img"

for ((i = 1; i <= runs; i++)); do
        # Alternating keeps slow drifts of the host (other jobs, thermal) out of the ratio.
        for kind in "${kinds[@]}"; do
                log="$out/$kind-$i.log"
                rc=0
                "$NG_TOP/qemu/boot.sh" --esp "$out/$kind-esp.img" --disk "$disk" --log "$log" \
                        --tpm-ca "$NG_QEMU_OUT/pki/swtpm-ca" >"$log.boot" 2>&1 || rc=$?
                status=$(sed -n 's/^status: //p' "$log.boot")
                wall=$(sed -n 's/^wall_ms: //p' "$log.boot")
                echo "run $i/$runs $kind: ${status:-error} in $((${wall:-0} / 1000)).$(printf '%03d' $((${wall:-0} % 1000))) s" >&2
                if [[ $status != poweroff ]] || ! grep -qF "$NG_MARKER" "$log"; then
                        "$NG_TOP/qemu/timeline.sh" "$log" >&2 || true
                        ng_die "$kind boot $i did not reach the stand-in init (rc $rc, log $log)"
                fi
                if [[ $kind != ref ]] && ! grep -qF "$NG_KUBELET_MARKER" "$log"; then
                        ng_die "$kind boot $i: the stand-in kubelet did not start (log $log)"
                fi
                python3 "$NG_TOP/qemu/bench-table.py" parse "$kind" "$i" "$wall" "$log" \
                        >>"$results" || ng_die "cannot time $kind boot $i ($log)"
        done
done
ng_attest_stop || ng_die "the verifier did not stop cleanly ($out/verifier)"

table "$results"
echo "raw results: $results"
