#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Builds the raw GPT disk the guest boots from: partition 1 = verity data (root-x86-64),
# partition 2 = verity hash tree (root-x86-64-verity), PARTUUIDs derived from the root hash.
# Usage: mkdisk.sh --data root.erofs --hash root.verity --roothash HEX --out disk.img [--no-hash]
# --no-hash leaves partition 2 out (the missing-hash-device scenario).
set -euo pipefail
# shellcheck source=qemu/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

data='' hash='' roothash='' out='' with_hash=1
while (($#)); do
        case $1 in
        --data) data=$2; shift 2 ;;
        --hash) hash=$2; shift 2 ;;
        --roothash) roothash=$2; shift 2 ;;
        --out) out=$2; shift 2 ;;
        --no-hash) with_hash=0; shift ;;
        *) ng_die "unknown argument: $1" ;;
        esac
done
if [[ -z $data || -z $roothash || -z $out ]] || { ((with_hash)) && [[ -z $hash ]]; }; then
        ng_die "usage: mkdisk.sh --data F --hash F --roothash HEX --out F [--no-hash]"
fi
ng_need sfdisk

tmp=''
cleanup() { [[ -z $tmp ]] || rm -f "$tmp"; }
trap cleanup EXIT

mib=$((1024 * 1024))
sector=512
data_size=$(ng_roundup "$(ng_size "$data")" "$mib")
hash_size=0
((!with_hash)) || hash_size=$(ng_roundup "$(ng_size "$hash")" "$mib")
data_start=$mib
hash_start=$((data_start + data_size))
# 1 MiB at the end leaves room for the backup GPT.
disk_size=$((hash_start + hash_size + mib))

tmp=$(mktemp "$out.XXXXXX")
chmod 0644 "$tmp"
truncate -s "$disk_size" "$tmp"
{
        echo 'label: gpt'
        echo "label-id: $(ng_stable_uuid disk)"
        echo 'unit: sectors'
        echo "start=$((data_start / sector)), size=$((data_size / sector)), type=$NG_GPT_ROOT_X86_64, uuid=$(ng_roothash_data_partuuid "$roothash"), name=\"root\""
        if ((with_hash)); then
                echo "start=$((hash_start / sector)), size=$((hash_size / sector)), type=$NG_GPT_ROOT_X86_64_VERITY, uuid=$(ng_roothash_hash_partuuid "$roothash"), name=\"root-verity\""
        fi
} | sfdisk --quiet --no-reread --no-tell-kernel "$tmp" >/dev/null

dd if="$data" of="$tmp" bs=1M seek=$((data_start / mib)) conv=notrunc,fsync status=none
if ((with_hash)); then
        dd if="$hash" of="$tmp" bs=1M seek=$((hash_start / mib)) conv=notrunc,fsync status=none
fi
mv -f "$tmp" "$out"
tmp=''
