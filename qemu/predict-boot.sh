#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# One boot of a UKI against its prediction, by hand (not in `make check`: a boot costs CI time):
# the policy predicted from the UKI file (`policy from-uki`, PCRs 4, 9, 11; no platform log, so
# with firmware-unjudged and secure-boot-off), the verifier with it behind the record proxy, one
# boot, then the measured event log the gate sent compared with the predicted events, event by
# event, replayed and quoted (tests/tools/eventlog-compare.py). Used for systemd-stub 262
# (docs/measure.md). Run it under the heavy lock.
# Usage: predict-boot.sh --uki U --disk D [--out DIR] [--secure-boot]
#   DIR: build/qemu/logs/predict-boot by default. --secure-boot: boot.sh's (OVMF enforcing Secure
#   Boot with the snakeoil db: sign the UKI with that key); PCR 7 is still not judged.
set -euo pipefail
# shellcheck source=qemu/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
ng_enter_netns "$@"

uki='' disk='' dir="$NG_QEMU_OUT/logs/predict-boot" boot_args=()
while (($#)); do
        case $1 in
        --uki) uki=$2; shift 2 ;;
        --disk) disk=$2; shift 2 ;;
        --out) dir=$2; shift 2 ;;
        --secure-boot) boot_args+=(--secure-boot); shift ;;
        *) ng_die "unknown argument: $1" ;;
        esac
done
[[ -n $uki && -n $disk ]] || ng_die "usage: predict-boot.sh --uki U --disk D [--out DIR] [--secure-boot]"
rm -rf "$dir"
mkdir -p "$dir"
verifier=$(ng_verifier_bin)
"$verifier" policy from-uki "$uki" --allow firmware-unjudged,secure-boot-off >"$dir/policy.json"
"$verifier" policy from-uki "$uki" --events >"$dir/predicted.events"
trap 'ng_attest_stop || true' EXIT
ng_attest_start "$dir/verifier" record --policy "$dir/policy.json"
rc=0
"$NG_TOP/qemu/boot.sh" --uki "$uki" --disk "$disk" --log "$dir/boot.log" \
        --tpm-ca "$NG_QEMU_OUT/pki/swtpm-ca" "${boot_args[@]}" || rc=$?
ng_attest_stop || true
trap - EXIT
echo "predict-boot: boot.sh exit $rc; the verifier's audit log:"
sed 's/^/  /' "$dir/verifier/audit.jsonl" 2>/dev/null || true
req=$(find "$dir/verifier/record" -name '*-attest.request' | sort | tail -n 1)
[[ -n $req ]] || ng_die "no /v2/attest request recorded in $dir/verifier/record"
python3 -c '
import base64, json, sys
open(sys.argv[2], "wb").write(base64.b64decode(json.load(open(sys.argv[1]))["event_log"]))
' "$req" "$dir/measured.eventlog"
python3 "$NG_TOP/tests/tools/eventlog-compare.py" "$dir/predicted.events" "$dir/measured.eventlog" \
        --pcrs 4,9,11 --request "$req"
