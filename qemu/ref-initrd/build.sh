#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Builds the reference initramfs: busybox, veritysetup and blkid (dynamic, with the shared
# libraries ldd names), the gate's module list resolved the same way, and a busybox-sh /init.
# Usage: build.sh --kver KVER --out initrd.img [--modules-file F] [--resolver resolve-modules.sh]
set -euo pipefail
# shellcheck source=qemu/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

kver='' out=''
modules_file="$NG_TOP/initrd/modules.default"
resolver="$NG_TOP/initrd/resolve-modules.sh"
while (($#)); do
        case $1 in
        --kver) kver=$2; shift 2 ;;
        --out) out=$2; shift 2 ;;
        --modules-file) modules_file=$2; shift 2 ;;
        --resolver) resolver=$2; shift 2 ;;
        *) ng_die "unknown argument: $1" ;;
        esac
done
[[ -n $kver && -n $out ]] || ng_die "usage: build.sh --kver KVER --out FILE"
[[ -x $resolver ]] || ng_die "module resolver $resolver not found"
[[ -r $modules_file ]] || ng_die "module list $modules_file not found"
ng_need busybox veritysetup blkid ldd cpio zstd

tmp=''
cleanup() { [[ -z $tmp ]] || rm -rf "$tmp"; }
trap cleanup EXIT
tmp=$(mktemp -d "${TMPDIR:-/tmp}/ref-initrd.XXXXXX")
root="$tmp/root"
mkdir -p "$root"/{bin,sbin,usr/sbin,etc/ref,dev,proc,sys,run,sysroot}

install -m 0755 "$(ng_static_busybox)" "$root/bin/busybox"
# Only the applets /init uses; blkid comes from util-linux (busybox's has no PARTUUID).
for applet in sh mount insmod sed cut basename tr head usleep sleep poweroff switch_root; do
        ln -s busybox "$root/bin/$applet"
done

# A dynamic binary and every library it loads, at the same paths (the loader's built-in
# search path on Debian covers the multiarch directories, so no ld.so.cache is needed).
copy_elf() {
        local bin=$1 dest=$2 lib
        install -D -m 0755 "$bin" "$root$dest"
        while read -r lib; do
                [[ -e $root$lib ]] && continue
                install -D -m 0755 "$(readlink -f "$lib")" "$root$lib"
        done < <(ldd "$bin" | grep -oE '/[^ ]+' | grep -v "^$bin\$")
}
copy_elf "$(command -v veritysetup)" /usr/sbin/veritysetup
copy_elf "$(command -v blkid)" /sbin/blkid

# The gate's module list, minus comments, resolved by the same tool as initrd/. Minus the
# optional NAME? too: those are the TEE guest drivers for the gate's platform evidence, which
# the reference does not collect, and busybox's insmod cannot tell their ENODEV on a machine
# that is no such guest from a real failure.
mapfile -t names < <(sed -e 's/#.*//' -e '/^[[:space:]]*$/d' -e '/?[[:space:]]*$/d' "$modules_file")
((${#names[@]})) || ng_die "no modules in $modules_file"
mapfile -t kos < <("$resolver" "$kver" "${names[@]}")
((${#kos[@]})) || ng_die "no modules resolved for $kver"
for ko in "${kos[@]}"; do
        case $ko in
        *.ko) install -D -m 0644 "$ko" "$root$ko" ;;
        *) ng_die "compressed module $ko: the reference initramfs expects plain .ko files" ;;
        esac
done
printf '%s\n' "${kos[@]}" >"$root/etc/ref/modules"

install -m 0755 "$NG_TOP/qemu/ref-initrd/init" "$root/init"

# Reproducible newc archive: sorted names, fixed owner and timestamps.
ng_touch_tree "$root"
(cd "$root" && find . -mindepth 1 | LC_ALL=C sort | cpio --quiet -o -H newc --reproducible \
        --owner=0:0) >"$tmp/initrd.cpio"
# zstd like the gate's initramfs, so whole-boot times compare; one thread keeps it deterministic.
zstd -q -19 -T1 -c "$tmp/initrd.cpio" >"$tmp/initrd.img"
mkdir -p "$(dirname "$out")"
mv -f "$tmp/initrd.img" "$out"
ng_log "reference initramfs $out ($(ng_size "$out") bytes, ${#kos[@]} modules)"
