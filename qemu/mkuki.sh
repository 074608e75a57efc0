#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Assembles a Unified Kernel Image from systemd-stub with objcopy, deterministically.
# Usage: mkuki.sh --kernel vmlinuz --initrd initrd.img --cmdline "…" --osrel os-release --out uki.efi
#        [--uname KVER] [--stub linuxx64.efi.stub] [--sign-key KEY.pem --sign-cert CERT.pem]
# --sign-key/--sign-cert sign the result with sbsign for Secure Boot (an unencrypted PEM key);
# sbsign stamps a signingTime into the signature: it runs with the clock frozen at
# SOURCE_DATE_EPOCH (faketime), and RSA PKCS#1 v1.5 is deterministic, so a signed UKI is
# reproducible too.
set -euo pipefail
# shellcheck source=qemu/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

kernel='' initrd='' cmdline='' have_cmdline=0 osrel='' out='' uname='' sign_key='' sign_cert=''
stub=/usr/lib/systemd/boot/efi/linuxx64.efi.stub
while (($#)); do
        case $1 in
        --kernel) kernel=$2; shift 2 ;;
        --initrd) initrd=$2; shift 2 ;;
        --cmdline) cmdline=$2; have_cmdline=1; shift 2 ;;
        --osrel) osrel=$2; shift 2 ;;
        --out) out=$2; shift 2 ;;
        --stub) stub=$2; shift 2 ;;
        --uname) uname=$2; shift 2 ;;
        --sign-key) sign_key=$2; shift 2 ;;
        --sign-cert) sign_cert=$2; shift 2 ;;
        *) ng_die "unknown argument: $1" ;;
        esac
done
[[ -n $kernel && -n $initrd && $have_cmdline == 1 && -n $osrel && -n $out ]] \
        || ng_die 'usage: mkuki.sh --kernel K --initrd I --cmdline "…" --osrel F --out U'
[[ -z $sign_key && -z $sign_cert ]] || [[ -n $sign_key && -n $sign_cert ]] \
        || ng_die "--sign-key and --sign-cert go together"
for f in "$kernel" "$initrd" "$osrel" "$stub" ${sign_key:+"$sign_key" "$sign_cert"}; do
        [[ -r $f ]] || ng_die "cannot read $f"
done
ng_need objcopy objdump
[[ -z $sign_key ]] || ng_need sbsign faketime

tmp=''
cleanup() { [[ -z $tmp ]] || rm -rf "$tmp"; }
trap cleanup EXIT
tmp=$(mktemp -d "${TMPDIR:-/tmp}/mkuki.XXXXXX")

# No trailing newline: the stub hands the section to the kernel as is.
printf '%s' "$cmdline" >"$tmp/cmdline"

# New sections go after the stub's last one, each on its own page. objdump prints hex
# VMAs; bash arithmetic converts them (Debian's awk is mawk, which has no strtonum()).
page=4096
image_base=$((0x$(objdump -p "$stub" | awk '$1 == "ImageBase" {print $2}')))
end=0
while read -r size vma; do
        e=$((0x$vma + 0x$size))
        ((e > end)) && end=$e
done < <(objdump -h "$stub" | awk '$1 ~ /^[0-9]+$/ {print $3, $4}')
((end > 0)) || ng_die "no sections found in $stub"
# objdump's VMAs already include the image base; the sections are laid out from there.
next=$(ng_roundup "$end" "$page")

args=()
add() {
        local name=$1 file=$2
        args+=(--add-section "$name=$file" --change-section-vma "$name=$(printf '0x%x' "$next")")
        next=$(ng_roundup $((next + $(ng_size "$file"))) "$page")
}
add .osrel "$osrel"
add .cmdline "$tmp/cmdline"
if [[ -n $uname ]]; then
        printf '%s' "$uname" >"$tmp/uname"
        add .uname "$tmp/uname"
fi
add .linux "$kernel"
add .initrd "$initrd"

objcopy "${args[@]}" "$stub" "$tmp/uki.efi"

# objcopy (binutils 2.40) stamps the PE header with the current time and ignores
# SOURCE_DATE_EPOCH; set the stamp ourselves and recompute the PE checksum over it, so the
# same inputs give the same bytes (and the same PCR 4 digest).
python3 - "$tmp/uki.efi" "$SOURCE_DATE_EPOCH" <<'PY'
import array, struct, sys
path, stamp = sys.argv[1], int(sys.argv[2]) & 0xffffffff
with open(path, "rb") as f:
    data = bytearray(f.read())
size = len(data)
pe = struct.unpack_from("<I", data, 0x3c)[0]
if data[pe:pe + 4] != b"PE\0\0":
    sys.exit("not a PE image")
struct.pack_into("<I", data, pe + 8, stamp)
# CheckSum sits 64 bytes into the optional header in both PE32 and PE32+.
csum_at = pe + 24 + 64
struct.pack_into("<I", data, csum_at, 0)
total = sum(array.array("H", bytes(data) + b"\0" * (size % 2)))
while total >> 16:
    total = (total & 0xffff) + (total >> 16)
struct.pack_into("<I", data, csum_at, (total + size) & 0xffffffff)
with open(path, "wb") as f:
    f.write(data)
PY
signed=''
if [[ -n $sign_key ]]; then
        # sbsign pads the image to 8 bytes and appends the certificate table: the Authenticode
        # digest (PCR 4) is the signed file's, which `policy from-uki` computes from it.
        TZ=UTC faketime -f "$(date -u -d "@$SOURCE_DATE_EPOCH" '+%Y-%m-%d %H:%M:%S')" \
                sbsign --key "$sign_key" --cert "$sign_cert" --output "$tmp/signed.efi" \
                "$tmp/uki.efi" >"$tmp/sbsign.log" 2>&1 || { cat "$tmp/sbsign.log" >&2; ng_die "sbsign failed"; }
        mv -f "$tmp/signed.efi" "$tmp/uki.efi"
        signed=", signed by $(openssl x509 -in "$sign_cert" -noout -subject -nameopt oneline 2>/dev/null || echo "$sign_cert")"
fi
mkdir -p "$(dirname "$out")"
mv -f "$tmp/uki.efi" "$out"
ng_log "UKI $out ($(ng_size "$out") bytes, image base $(printf '0x%x' "$image_base")$signed)"
