#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Reproducible builds end to end: two clean builds of the gate, its standalone initramfs and the
# UKI, from the same inputs in two different directories (and umask, time zone, locale), are
# byte-identical — so the policy predicted from one is the policy of the other. The static
# dependency prefix is an input (built once, pinned by deps/sources.lock and sha256), copied into
# both trees; tests/initrd/test-reproducible.sh checks the initramfs builder on its own.
# Usage: test-reproducible-uki.sh KVER
set -euo pipefail
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
[[ $# -eq 1 && -n $1 ]] || { echo "usage: $0 KVER" >&2; exit 2; }
kver=$1
[[ -d $top/build/deps/prefix ]] || { echo "FAIL: no build/deps/prefix (make deps)"; exit 1; }
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git -C "$top" log -1 --format=%ct 2>/dev/null || echo 1700000000)}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/test-repro.XXXXXX")
cleanup() { rm -rf -- "$tmp"; }
trap cleanup EXIT
failed=0

# One clean build in DIR: the files of the work tree git knows (tracked or not ignored), the dependency prefix, then the
# gate, mkcpio, the initramfs and the UKI, as `make initrd` and `make uki` build them.
build() {
        local dir=$1 src=$1/src
        mkdir -p "$src/build/deps"
        (cd "$top" && git ls-files -z --cached --others --exclude-standard | cpio -0pdm --quiet "$src")
        cp -a "$top/build/deps/prefix" "$src/build/deps/"
        touch "$src/build/deps/.done"
        (cd "$src" && make -s build/nodegate build/initrd/mkcpio >"$dir/make.log" 2>&1) ||
                { cat "$dir/make.log"; echo "FAIL: build in $dir"; exit 1; }
        (cd "$src" && make -s uki KVER="$kver" UKI_OUT="$dir/nodegate.efi" \
                UKI_CMDLINE="console=ttyS0 roothash=$(printf '%064x' 6) nodegate.url=https://verifier:8443" \
                >>"$dir/make.log" 2>&1) || { cat "$dir/make.log"; echo "FAIL: make uki in $dir"; exit 1; }
}

start=$SECONDS
build "$tmp/a"
(umask 077 && TZ=Pacific/Chatham LC_ALL=C.UTF-8 build "$tmp/second/b")
for f in src/build/nodegate src/build/initrd/initrd.img nodegate.efi; do
        a=$tmp/a/$f b=$tmp/second/b/$f
        if cmp -s "$a" "$b"; then
                echo "  ok    ${f##*/}: identical ($(stat -c %s "$a") bytes, sha256 $(sha256sum "$a" | cut -c1-16)…)"
        else
                echo "  FAIL  ${f##*/}: the two builds differ ($(cmp "$a" "$b" | head -n 1))"
                failed=$((failed + 1))
        fi
done
# The comparison can fail: another SOURCE_DATE_EPOCH stamps another PE header.
(cd "$tmp/a/src" && SOURCE_DATE_EPOCH=$((SOURCE_DATE_EPOCH + 1)) qemu/mkuki.sh \
        --kernel "/boot/vmlinuz-$kver" --initrd build/initrd/initrd.img --cmdline x \
        --osrel qemu/rootfs/os-release --out "$tmp/other.efi" 2>/dev/null)
if cmp -s "$tmp/a/nodegate.efi" "$tmp/other.efi"; then
        echo "  FAIL  SOURCE_DATE_EPOCH and the command line change nothing"
        failed=$((failed + 1))
else
        echo "  ok    another SOURCE_DATE_EPOCH and command line give another UKI"
fi
echo "test-reproducible-uki: two builds in $((SECONDS - start)) s"
echo "$((4 - failed)) passed, $failed failed"
((failed == 0))
