#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Builds a GPT disk with one EFI System Partition holding a UKI as EFI/BOOT/BOOTX64.EFI, the
# removable-media path OVMF boots without any boot entry. mtools only: no loop mounts, no root.
# Usage: mkesp.sh --uki uki.efi --out esp.img [--driver driver.efi]
# --driver also puts an EFI driver at EFI/nodegate/driver.efi, for a Driver#### entry
# (boot.sh --driver; issue 11: a DXE driver root could add on the ESP).
set -euo pipefail
# shellcheck source=qemu/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

uki='' out='' driver=''
while (($#)); do
        case $1 in
        --uki) uki=$2; shift 2 ;;
        --out) out=$2; shift 2 ;;
        --driver) driver=$2; shift 2 ;;
        *) ng_die "unknown argument: $1" ;;
        esac
done
[[ -n $uki && -n $out ]] || ng_die "usage: mkesp.sh --uki F --out F"
[[ -r $uki ]] || ng_die "cannot read $uki"
ng_need mkfs.fat mmd mcopy sfdisk

tmp=''
cleanup() { [[ -z $tmp ]] || rm -rf "$tmp"; }
trap cleanup EXIT
tmp=$(mktemp -d "${TMPDIR:-/tmp}/mkesp.XXXXXX")

mib=$((1024 * 1024))
# Room for the FAT itself and directory entries on top of the UKI.
extra=0
[[ -z $driver ]] || extra=$(ng_size "$driver")
fat_size=$(ng_roundup $(( $(ng_size "$uki") + extra + 4 * mib )) "$mib")
fat="$tmp/fat.img"
# --invariant and a fixed volume id: no clock, no randomness in the file system.
mkfs.fat --invariant -i "$(printf '%08x' $((SOURCE_DATE_EPOCH & 0xffffffff)))" -n NODEGATEESP \
        -C "$fat" $((fat_size / 1024)) >/dev/null

# mtools takes directory timestamps from SOURCE_DATE_EPOCH; -m keeps the file's own mtime,
# which is pinned first.
cp "$uki" "$tmp/BOOTX64.EFI"
touch -d "@$SOURCE_DATE_EPOCH" "$tmp/BOOTX64.EFI"
export MTOOLS_SKIP_CHECK=1
mmd -i "$fat" ::/EFI ::/EFI/BOOT
mcopy -m -i "$fat" "$tmp/BOOTX64.EFI" ::/EFI/BOOT/BOOTX64.EFI
if [[ -n $driver ]]; then
        cp "$driver" "$tmp/driver.efi"
        touch -d "@$SOURCE_DATE_EPOCH" "$tmp/driver.efi"
        mmd -i "$fat" ::/EFI/nodegate
        mcopy -m -i "$fat" "$tmp/driver.efi" ::/EFI/nodegate/driver.efi
fi

disk="$tmp/esp.img"
truncate -s $((mib + fat_size + mib)) "$disk"
{
        echo 'label: gpt'
        echo "label-id: $(ng_stable_uuid esp-disk)"
        echo 'unit: sectors'
        echo "start=2048, size=$((fat_size / 512)), type=c12a7328-f81f-11d2-ba4b-00a0c93ec93b, uuid=$(ng_stable_uuid esp), name=\"esp\""
} | sfdisk --quiet --no-reread --no-tell-kernel "$disk" >/dev/null
dd if="$fat" of="$disk" bs=1M seek=1 conv=notrunc status=none
mv -f "$disk" "$out"
