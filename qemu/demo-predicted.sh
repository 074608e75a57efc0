#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The full loop with no golden boot: predict the policy from the UKI file, start the verifier
# with it, boot the UKI, and see the node join (the stand-in kubelet runs with the token the
# verifier issued). PASS when it did.
# Usage: demo-predicted.sh --uki U --disk D [--platform-log LOG]
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
[[ -n $uki && -n $disk ]] || ng_die "usage: demo-predicted.sh --uki U --disk D [--platform-log LOG]"

dir="$NG_QEMU_OUT/logs/demo-predicted"
mkdir -p "$dir"
verifier=$(ng_verifier_bin)
log="$dir/boot.log"
trap 'ng_attest_stop || true' EXIT
trap 'exit 143' TERM
trap 'exit 130' INT

echo "demo: 1. predict the policy from $uki (no boot)"
"$verifier" policy from-uki "$uki" "${platform[@]}" >"$dir/policy.json"
"$verifier" policy check "$dir/policy.json" | sed 's/^/  /'
echo "demo: 2. start the verifier with it on 127.0.0.1:$NG_VERIFIER_PORT (the guest's $NG_VERIFIER_URL)"
ng_attest_start "$dir/verifier" verifier --policy "$dir/policy.json"
echo "demo: 3. boot $uki under OVMF with a fresh swtpm (TCG: about 30 s)…"
rc=0
"$NG_TOP/qemu/boot.sh" --uki "$uki" --disk "$disk" --log "$log" \
        --tpm-ca "$NG_QEMU_OUT/pki/swtpm-ca" >"$log.boot" 2>&1 || rc=$?
ng_attest_stop || true
echo "demo: QEMU ended by $(sed -n 's/^status: //p' "$log.boot") (boot.sh exit $rc)"
echo "demo: 4. the verifier's audit log:"
python3 -c '
import json, sys
for line in open(sys.argv[1]):
    a = json.loads(line)
    print("  %s %s %s" % (a["decision"], a["reason"], a.get("token_id", "")))
' "$dir/verifier/audit.jsonl"
if line=$(ng_clean_log "$log" | grep -m1 -F "$NG_KUBELET_MARKER"); then
        echo "demo: 5. joined: ${line#*] }"
        echo "demo: PASS"
else
        ng_clean_log "$log" | grep -E 'nodegate\[[a-z]+\]: FAILED' | sed 's/^/  /' || true
        echo "demo: FAIL (the stand-in kubelet did not start; $log)"
        exit 1
fi
