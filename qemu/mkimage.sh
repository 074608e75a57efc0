#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Builds a bootable UKI for the harness: the installed kernel, the given initramfs and the good
# image's command line (root hash of the test root), optionally changed by a scenario.
# Usage: mkimage.sh --initrd I --out uki.efi [--kver KVER] [--roothash HEX] [--append "WORDS"]
#                   [--cmdline "FULL COMMAND LINE"] [--sign-key KEY --sign-cert CERT] [--stub STUB]
#                   [--kernel VMLINUZ]
# --stub (or NG_STUB) picks the systemd-stub, e.g. Debian 13's 257 from qemu/fetch-debian13.sh;
# the default is the installed one (Debian 12's 252). --kernel: another kernel than the installed
# /boot/vmlinuz-KVER, e.g. Debian 13's 6.12 unpacked by qemu/fetch-debian13.sh.
set -euo pipefail
# shellcheck source=qemu/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

initrd='' out='' kver=${KVER:-} kernel='' roothash='' append='' cmdline='' sign=() stub=${NG_STUB:-}
while (($#)); do
        case $1 in
        --initrd) initrd=$2; shift 2 ;;
        --out) out=$2; shift 2 ;;
        --kver) kver=$2; shift 2 ;;
        --kernel) kernel=$2; shift 2 ;;
        --roothash) roothash=$2; shift 2 ;;
        --append) append=$2; shift 2 ;;
        --cmdline) cmdline=$2; shift 2 ;;
        --sign-key | --sign-cert) sign+=("$1" "$2"); shift 2 ;;
        --stub) stub=$2; shift 2 ;;
        *) ng_die "unknown argument: $1" ;;
        esac
done
[[ -n $initrd && -n $out ]] || ng_die "usage: mkimage.sh --initrd I --out U [--roothash H] [--append W]"
[[ -n $kver ]] || kver=$(ng_default_kver)
[[ -n $kernel ]] || kernel=/boot/vmlinuz-$kver
if [[ -z $cmdline ]]; then
        if [[ -z $roothash ]]; then
                [[ -r $NG_QEMU_OUT/root/roothash ]] || ng_die "no $NG_QEMU_OUT/root/roothash: run 'make harness'"
                roothash=$(cat "$NG_QEMU_OUT/root/roothash")
        fi
        # shellcheck disable=SC2086 # the appended words are meant to split
        cmdline=$(ng_cmdline "$roothash" $append)
fi
mkdir -p "$(dirname "$out")"
"$NG_TOP/qemu/mkuki.sh" --kernel "$kernel" --initrd "$initrd" --cmdline "$cmdline" \
        --osrel "$NG_TOP/qemu/rootfs/os-release" --out "$out" "${sign[@]}" ${stub:+--stub "$stub"}
