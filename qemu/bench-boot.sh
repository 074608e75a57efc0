#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Boot benchmark: boots the good image N times with the nodegate initramfs and N times with the
# reference (busybox + veritysetup) initramfs, alternating, and prints per-phase medians.
# Usage: bench-boot.sh --gate-uki U --ref-uki U --disk D [--runs N]   (BENCH_RUNS=N works too)
#        bench-boot.sh --report results.csv     (only prints the table of an earlier run)
# Times come from printk timestamps on the serial console: t0 is the kernel's "Run /init as
# init process", each phase ends at its step's "done" line, so both initramfs are measured with
# the same clock by the same parser.
set -euo pipefail
# shellcheck source=qemu/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

gate_uki='' ref_uki='' disk='' runs=${BENCH_RUNS:-5} report=''
while (($#)); do
        case $1 in
        --report) report=$2; shift 2 ;;
        --gate-uki) gate_uki=$2; shift 2 ;;
        --ref-uki) ref_uki=$2; shift 2 ;;
        --disk) disk=$2; shift 2 ;;
        --runs) runs=$2; shift 2 ;;
        *) ng_die "unknown argument: $1" ;;
        esac
done
# Medians per column and kind, then the side-by-side table.
print_table() {
        awk -F, '
function median(kind, col,    n, i, j, t, v) {
        n = 0
        for (i = 1; i <= nrow; i++) if (k[i] == kind) v[++n] = val[i, col]
        for (i = 2; i <= n; i++) { t = v[i]; for (j = i - 1; j >= 1 && v[j] > t; j--) v[j + 1] = v[j]; v[j + 1] = t }
        return n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
}
function row(label, col, scale, unit,    g, r) {
        g = median("gate", col) / scale; r = median("ref", col) / scale
        # Parenthesized: a bare ">" in a printf argument list is an output redirection in awk.
        printf "%-22s %12.1f %12.1f %9s\n", label " (" unit ")", g, r, ((r > 0) ? sprintf("%.2f", g / r) : "-")
}
NR == 1 { ncol = NF; for (c = 1; c <= NF; c++) name[c] = $c; next }
{ nrow++; k[nrow] = $1; for (c = 3; c <= NF; c++) val[nrow, c] = $c; if ($2 > runs) runs = $2 }
END {
        printf "boot benchmark: medians of %d boots each (printk clock, t0 = \"Run /init as init process\")\n", runs
        printf "%-22s %12s %12s %9s\n", "phase", "nodegate", "reference", "ratio"
        for (c = 3; c <= ncol - 3; c++) row(name[c], c, 1, "ms")
        row("/init -> switch_root", ncol - 2, 1, "ms")
        row("/init -> new init", ncol - 1, 1, "ms")
        row("whole boot, wall", ncol, 1000, "s")
        printf "ratio = nodegate / reference; raw rows in the CSV next to the logs\n"
}' "$1"
}

if [[ -n $report ]]; then
        print_table "$report"
        exit 0
fi
[[ -n $gate_uki && -n $ref_uki && -n $disk ]] || ng_die "usage: bench-boot.sh --gate-uki U --ref-uki U --disk D [--runs N]"
[[ $runs =~ ^[1-9][0-9]*$ ]] || ng_die "bad run count: $runs"

out="$NG_QEMU_OUT/bench"
rm -rf "$out"
mkdir -p "$out"
csv="$out/results.csv"
echo "kind,run,$(IFS=,; echo "${NG_STEPS[*]}"),init_to_switch,init_to_newinit,wall" >"$csv"

# The ESPs are built once, outside the timed part.
"$NG_TOP/qemu/mkesp.sh" --uki "$gate_uki" --out "$out/gate-esp.img"
"$NG_TOP/qemu/mkesp.sh" --uki "$ref_uki" --out "$out/ref-esp.img"

# Appends one CSV row (milliseconds) for a finished boot, or fails naming what is missing.
# A phase lasts from the previous "done" line (in time, whatever the step order) to its own,
# the first one from t0; columns stay in NG_STEPS order.
record() {
        local kind=$1 run=$2 log=$3 wall_ms=$4 tag t0 ts step row last durations
        [[ $kind == gate ]] && tag='nodegate' || tag='nodegate-ref'
        t0=$(ng_log_ts "$log" 'Run /init as init process')
        [[ -n $t0 ]] || { ng_log "$log: no 'Run /init' line"; return 1; }
        local pairs=()
        for step in "${NG_STEPS[@]}"; do
                ts=$(ng_log_ts "$log" "$tag\\[$step\\]: done")
                [[ -n $ts ]] || { ng_log "$log: no ${tag}[${step}] done line"; return 1; }
                pairs+=("$ts $step")
        done
        durations=$(printf '%s\n' "${pairs[@]}" | sort -n | awk -v t0="$t0" '
                { printf "%s %.3f\n", $2, ($1 - (NR == 1 ? t0 : prev)) * 1000; prev = $1 }
                END { printf "_last %.3f\n", (prev - t0) * 1000 }')
        row="$kind,$run"
        for step in "${NG_STEPS[@]}"; do
                row+=",$(awk -v s="$step" '$1 == s { print $2 }' <<<"$durations")"
        done
        last=$(awk '$1 == "_last" { print $2 }' <<<"$durations")
        ts=$(ng_log_ts "$log" "$(printf '%s' "$NG_MARKER_KMSG" | sed 's/[][]/\\&/g')")
        [[ -n $ts ]] || { ng_log "$log: the stand-in init did not start"; return 1; }
        row+=",$last,$(awk -v a="$t0" -v b="$ts" 'BEGIN { printf "%.3f", (b - a) * 1000 }')"
        echo "$row,$wall_ms" >>"$csv"
}

for ((i = 1; i <= runs; i++)); do
        # Alternating keeps slow drifts of the host (other jobs, thermal) out of the ratio.
        for kind in gate ref; do
                log="$out/$kind-$i.log"
                rc=0
                "$NG_TOP/qemu/boot.sh" --esp "$out/$kind-esp.img" --disk "$disk" --log "$log" \
                        >"$log.boot" 2>&1 || rc=$?
                status=$(sed -n 's/^status: //p' "$log.boot")
                wall=$(sed -n 's/^wall_ms: //p' "$log.boot")
                echo "run $i/$runs $kind: ${status:-error} in $((${wall:-0} / 1000)).$(printf '%03d' $((${wall:-0} % 1000))) s" >&2
                if [[ $status != poweroff ]] || ! grep -qF "$NG_MARKER" "$log"; then
                        "$NG_TOP/qemu/timeline.sh" "$log" >&2 || true
                        ng_die "$kind boot $i did not reach the stand-in init (rc $rc, log $log)"
                fi
                record "$kind" "$i" "$log" "$wall" || ng_die "cannot time $kind boot $i ($log)"
        done
done

print_table "$csv"
echo "raw results: $csv"
