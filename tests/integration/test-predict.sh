#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# `nodegate-verifier policy from-uki` against independent implementations, without a boot:
# the Authenticode SHA-256 of the UKI, of the signed UKI and of the embedded kernel against
# pesign --hash, osslsigncode (its own digest of the file, and the one sbsign signed); PCR 11
# against systemd-measure calculate (systemd 252), whose values have the boot phase
# "enter-initrd" extended after the sections; the policy it writes loads; hostile files are
# refused with a message, never a crash (run it with the ASan verifier).
# Usage: test-predict.sh VERIFIER KERNEL INITRD
# ok and bad always return 0, so "A && ok || bad" is an if-then-else here.
# shellcheck disable=SC2015
set -euo pipefail
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
[[ $# -eq 3 ]] || { echo "usage: $0 VERIFIER KERNEL INITRD" >&2; exit 2; }
verifier=$(realpath -e -- "$1")
kernel=$(realpath -e -- "$2")
initrd=$(realpath -e -- "$3")
measure=/usr/lib/systemd/systemd-measure
for t in pesign osslsigncode sbsign objcopy openssl "$measure"; do
        command -v "$t" >/dev/null || { echo "FAIL: $t not found (see .ci/packages)"; exit 1; }
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/test-predict.XXXXXX")
cleanup() { rm -rf -- "$tmp"; }
trap cleanup EXIT
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-1700000000}
passed=0 failed=0
ok() { echo "  ok    $*"; passed=$((passed + 1)); }
bad() { echo "  FAIL  $*"; failed=$((failed + 1)); }
same() { # WHAT WANT HAVE
        if [[ -n $2 && ${2,,} == "${3,,}" ]]; then ok "$1: ${2:0:16}…"; else bad "$1: $2 != $3"; fi
}
# The digest of the predicted event whose description starts with WHAT.
predicted() { awk -v w="$2" 'index($0, " " w) && $1 == "event" { print $4; exit }' "$1"; }

cmdline="console=ttyS0 roothash=$(printf '%064x' 1) nodegate.url=https://10.0.2.2:8443 quiet"
printf 'ID=nodegate-test\n' >"$tmp/os-release"
"$top/qemu/mkuki.sh" --kernel "$kernel" --initrd "$initrd" --cmdline "$cmdline" \
        --osrel "$tmp/os-release" --uname "test-uname" --out "$tmp/uki.efi" 2>/dev/null
(umask 077 && openssl pkey -in /usr/share/ovmf/PkKek-1-snakeoil.key -passin pass:snakeoil \
        -out "$tmp/key.pem")
"$top/qemu/mkuki.sh" --kernel "$kernel" --initrd "$initrd" --cmdline "$cmdline" \
        --osrel "$tmp/os-release" --out "$tmp/signed.efi" --sign-key "$tmp/key.pem" \
        --sign-cert /usr/share/ovmf/PkKek-1-snakeoil.pem 2>/dev/null

echo "== Authenticode SHA-256 (PCR 4)"
"$verifier" policy from-uki "$tmp/uki.efi" --events >"$tmp/uki.events"
"$verifier" policy from-uki "$tmp/signed.efi" --events >"$tmp/signed.events"
same "UKI: pesign --hash" "$(predicted "$tmp/uki.events" UKI)" \
        "$(pesign --hash -i "$tmp/uki.efi" | sed -n 's/^hash: //p')"
same "signed UKI: pesign --hash" "$(predicted "$tmp/signed.events" UKI)" \
        "$(pesign --hash -i "$tmp/signed.efi" | sed -n 's/^hash: //p')"
osslsigncode verify -in "$tmp/signed.efi" >"$tmp/verify.txt" 2>&1 || true
same "signed UKI: osslsigncode's digest of the file" "$(predicted "$tmp/signed.events" UKI)" \
        "$(sed -n 's/^Calculated message digest *: *\([0-9A-Fa-f]*\).*/\1/p' "$tmp/verify.txt" | head -n 1)"
same "signed UKI: the digest sbsign signed" "$(predicted "$tmp/signed.events" UKI)" \
        "$(sed -n 's/^Current message digest *: *\([0-9A-Fa-f]*\).*/\1/p' "$tmp/verify.txt" | head -n 1)"
objcopy -O binary --only-section=.linux "$tmp/uki.efi" "$tmp/linux"
same "embedded kernel: pesign --hash" "$(predicted "$tmp/uki.events" '.linux: Linux')" \
        "$(pesign --hash -i "$tmp/linux" | sed -n 's/^hash: //p')"
if grep -q "$(predicted "$tmp/uki.events" UKI)" "$tmp/signed.events"; then
        bad "the signed UKI's digest is the unsigned one's (sbsign pads: it must differ)"
else
        ok "the signed UKI's digest differs from the unsigned one's (sbsign's padding)"
fi

echo "== PCR 11 against systemd-measure calculate"
for s in linux osrel cmdline initrd; do
        objcopy -O binary --only-section=".$s" "$tmp/uki.efi" "$tmp/sec.$s"
done
cmp -s "$tmp/sec.initrd" "$initrd" || bad ".initrd is not the initrd given"
printf '%s' "$cmdline" | cmp -s - "$tmp/sec.cmdline" || bad ".cmdline is not the command line given"
want=$("$measure" calculate --linux="$tmp/sec.linux" --osrel="$tmp/sec.osrel" \
        --cmdline="$tmp/sec.cmdline" --initrd="$tmp/sec.initrd" --bank=sha256 \
        --phase=enter-initrd --json=short | python3 -c 'import json, sys
print(json.load(sys.stdin)["sha256"][0]["hash"])')
pcr11=$(awk '$1 == "pcr" && $2 == 11 { print $3 }' "$tmp/uki.events")
# systemd-measure's value is PCR 11 after the sections and then the phase word, which
# systemd-pcrphase extends in a systemd initrd (the gate does not): add it to ours.
have=$(python3 -c 'import hashlib, sys
print(hashlib.sha256(bytes.fromhex(sys.argv[1]) + hashlib.sha256(b"enter-initrd").digest()).hexdigest())' "$pcr11")
same "PCR 11 + \"enter-initrd\" = systemd-measure calculate --phase=enter-initrd" "$want" "$have"
grep -q '\.uname' "$tmp/uki.events" && bad ".uname predicted, but systemd-stub 252 does not measure it" ||
        ok ".uname is in the UKI and, as systemd-stub 252 does, not measured"
n=$(grep -c '^event 11 EV_IPL ' "$tmp/uki.events")
[[ $n == 8 ]] && ok "PCR 11: 8 events (4 sections, name and content)" || bad "PCR 11: $n events, expected 8"
# PCR 9: the command line as the Linux EFI stub measures it.
same "PCR 9: UTF-16LE command line with its NUL" \
        "$(python3 -c 'import hashlib, sys; print(hashlib.sha256(sys.argv[1].encode("utf-16-le") + b"\0\0").hexdigest())' "$cmdline")" \
        "$(predicted "$tmp/uki.events" 'Linux EFI stub: LoadOptions')"
same "PCR 9: the initrd" "$(sha256sum "$initrd" | cut -d' ' -f1)" \
        "$(predicted "$tmp/uki.events" 'Linux EFI stub: initrd')"

echo "== the policy"
# Without a platform log PCRs 2 and 7 cannot be pinned: the policy must say so (issue 11).
if "$verifier" policy from-uki "$tmp/uki.efi" >/dev/null 2>"$tmp/err"; then
        bad "a policy without the firmware PCRs judged and without the opt-in was written"
elif grep -q 'PCR 2 (boot-time drivers) is not pinned.*firmware-unjudged' "$tmp/err"; then
        ok "no platform log, no opt-in: refused, naming PCR 2 and firmware-unjudged"
else
        bad "unexpected refusal: $(cat "$tmp/err")"
fi
"$verifier" policy from-uki "$tmp/uki.efi" --allow firmware-unjudged >"$tmp/policy.json"
if "$verifier" policy check "$tmp/policy.json" >"$tmp/check.txt"; then
        ok "the predicted policy loads: $(grep -i pinned "$tmp/check.txt" | tr '\n' ';')"
else
        bad "the predicted policy does not load"
fi
python3 - "$tmp/policy.json" <<'PY' && ok "pins 4, 9, 11 and the cap PCR 15 (empty), UKI digest required, the opt-in written" || bad "unexpected policy shape"
import json, sys
p = json.load(open(sys.argv[1]))
assert sorted(p["pcrs"], key=int) == ["4", "9", "11", "15"], p["pcrs"].keys()
assert p["pcrs"]["15"] == [] and p["allow"] == ["firmware-unjudged"], p
apps = [r for r in p["pcrs"]["4"] if r["type"] == "EV_EFI_BOOT_SERVICES_APPLICATION"]
assert apps and apps[0].get("required") is True and len(apps[0]["sha256"]) == 2
PY
# Reproducible: the same inputs give the same UKI, and so the same policy.
"$top/qemu/mkuki.sh" --kernel "$kernel" --initrd "$initrd" --cmdline "$cmdline" \
        --osrel "$tmp/os-release" --uname "test-uname" --out "$tmp/again.efi" 2>/dev/null
cmp -s "$tmp/uki.efi" "$tmp/again.efi" && ok "two UKIs from the same inputs are identical" ||
        bad "two UKIs from the same inputs differ"
"$top/qemu/mkuki.sh" --kernel "$kernel" --initrd "$initrd" --cmdline "$cmdline" \
        --osrel "$tmp/os-release" --out "$tmp/signed2.efi" --sign-key "$tmp/key.pem" \
        --sign-cert /usr/share/ovmf/PkKek-1-snakeoil.pem 2>/dev/null
cmp -s "$tmp/signed.efi" "$tmp/signed2.efi" && ok "two signed UKIs from the same inputs are identical" ||
        bad "two signed UKIs from the same inputs differ"

echo "== hostile and wrong files: a message, exit 1, no crash"
refuse() { # DESCRIPTION FILE ERE
        local rc=0
        "$verifier" policy from-uki "$2" >/dev/null 2>"$tmp/err" || rc=$?
        if [[ $rc == 1 ]] && grep -qE -- "$3" "$tmp/err"; then
                ok "$1: $(sed 's/^nodegate-verifier policy from-uki: [^:]*: //' "$tmp/err")"
        else
                bad "$1: exit $rc, $(cat "$tmp/err")"
        fi
}
size=$(stat -c %s "$tmp/uki.efi")
head -c 100 "$tmp/uki.efi" >"$tmp/t100"
refuse "truncated to 100 bytes" "$tmp/t100" 'past the end|not a PE'
head -c $((size / 2)) "$tmp/uki.efi" >"$tmp/half"
refuse "truncated to half" "$tmp/half" 'past the end'
head -c 4096 /dev/urandom >"$tmp/random"
refuse "random bytes" "$tmp/random" 'not a PE'
: >"$tmp/empty"
refuse "empty file" "$tmp/empty" 'not a PE'
refuse "the stub without sections" /usr/lib/systemd/boot/efi/linuxx64.efi.stub 'no .linux'
refuse "a plain kernel" "$kernel" 'systemd-stub'
head -c $((size - 3)) "$tmp/signed.efi" >"$tmp/signed-cut"
refuse "signed, certificate table cut" "$tmp/signed-cut" 'certificate table'
python3 - "$tmp/uki.efi" "$tmp/nsect" <<'PY'
import struct, sys
d = bytearray(open(sys.argv[1], "rb").read())
pe = struct.unpack_from("<I", d, 0x3c)[0]
struct.pack_into("<H", d, pe + 6, 0xffff)     # NumberOfSections
open(sys.argv[2], "wb").write(d)
PY
refuse "65535 sections" "$tmp/nsect" 'sections'
python3 - "$tmp/uki.efi" "$tmp/lfanew" <<'PY'
import struct, sys
d = bytearray(open(sys.argv[1], "rb").read())
struct.pack_into("<I", d, 0x3c, 0xfffffff0)   # e_lfanew far past the end
open(sys.argv[2], "wb").write(d)
PY
refuse "PE header offset past the end" "$tmp/lfanew" 'past the end'
[[ ! -s $tmp/err ]] || ! grep -qE 'Sanitizer|runtime error' "$tmp/err" || bad "sanitizer report"

echo "$passed passed, $failed failed"
((failed == 0))
