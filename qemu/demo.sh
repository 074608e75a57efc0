#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The full loop with no golden boot: the policy predicted from the UKI file alone, the verifier
# started with it on the host's loopback, one boot, the node joined (the stand-in kubelet runs
# with the token the verifier issued). Prints each step, the boot timeline and the audit log;
# PASS when every step of the gate is done and the kubelet ran.
# Usage: demo.sh --uki U --disk D [--platform-log LOG]
#   --platform-log: a reference log of the platform, for PCR 7 (else 4, 9 and 11 are pinned).
set -euo pipefail
# shellcheck source=qemu/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
ng_enter_netns "$@"

uki='' disk='' platform=()
while (($#)); do
        case $1 in
        --uki) uki=$2; shift 2 ;;
        --disk) disk=$2; shift 2 ;;
        --platform-log) platform=(--platform-log "$2"); shift 2 ;;
        *) ng_die "unknown argument: $1" ;;
        esac
done
[[ -n $uki && -n $disk ]] || ng_die "usage: demo.sh --uki U --disk D [--platform-log LOG]"

dir="$NG_QEMU_OUT/logs/demo"
rm -rf "$dir"
mkdir -p "$dir"
verifier=$(ng_verifier_bin)
log="$dir/boot.log"
trap 'ng_attest_stop || true' EXIT
trap 'exit 143' TERM
trap 'exit 130' INT

echo "demo: 1. the image: $uki ($(ng_size "$uki") bytes, make uki)"
echo "demo: 2. its policy, predicted from the file alone (nodegate-verifier policy from-uki):"
# The harness's OVMF boots without Secure Boot, and without a platform log PCRs 2 and 7 are not
# pinned: a policy accepting that must name it (issue 11), so the demo's does.
allow=secure-boot-off
((${#platform[@]})) || allow=firmware-unjudged,secure-boot-off
"$verifier" policy from-uki "$uki" "${platform[@]}" --allow "$allow" >"$dir/policy.json"
"$verifier" policy check "$dir/policy.json" | sed 's/^/  /'
echo "demo: 3. the verifier with it on 127.0.0.1:$NG_VERIFIER_PORT (the guest's $NG_VERIFIER_URL)"
ng_attest_start "$dir/verifier" verifier --policy "$dir/policy.json"
echo "demo: 4. boot under OVMF with a fresh swtpm (TCG: about 30 s)…"
rc=0
"$NG_TOP/qemu/boot.sh" --uki "$uki" --disk "$disk" --log "$log" \
        --tpm-ca "$NG_QEMU_OUT/pki/swtpm-ca" >"$log.boot" 2>&1 || rc=$?
ng_attest_stop || true
status=$(sed -n 's/^status: //p' "$log.boot")
wall=$(sed -n 's/^wall_ms: //p' "$log.boot")

echo "demo: boot timeline (serial console, $log):"
"$NG_TOP/qemu/timeline.sh" "$log" | sed 's/^/  /'
echo "demo: QEMU ended by ${status:-error} after $((${wall:-0} / 1000)) s (boot.sh exit $rc)"
echo "demo: the verifier's audit log:"
python3 -c '
import json, sys
for line in open(sys.argv[1]):
    a = json.loads(line)
    print("  %s %s %s" % (a["decision"], a["reason"], a.get("token_id", "")))
' "$dir/verifier/audit.jsonl"

text=$(ng_clean_log "$log")
problems=()
[[ $status == poweroff ]] || problems+=("QEMU ended by '${status:-error}', not poweroff")
grep -qF "$NG_MARKER" <<<"$text" || problems+=("the stand-in init's marker is missing")
for step in "${NG_STEPS[@]}"; do
        grep -qE "nodegate\\[$step\\]: done in [0-9]+(\.[0-9]+)? ms" <<<"$text" \
                || problems+=("no 'nodegate[$step]: done' line")
done
if ! joined=$(grep -m1 -F "$NG_KUBELET_MARKER" <<<"$text"); then
        problems+=("the stand-in kubelet did not start")
fi
if ((${#problems[@]})); then
        grep -E 'nodegate\[[a-z]+\]: FAILED' <<<"$text" | sed 's/^/  /' || true
        printf 'demo: %s\n' "${problems[@]}"
        echo "demo: FAIL"
        exit 1
fi
t0=$(ng_log_ts "$log" 'Run /init as init process')
tsw=$(ng_log_ts "$log" 'nodegate\[switch\]: done')
echo "demo: /init -> switch_root took $(awk -v a="$t0" -v b="$tsw" 'BEGIN { printf "%.0f", (b - a) * 1000 }') ms"
echo "demo: 5. joined: ${joined#*] }"
echo "demo: PASS"
