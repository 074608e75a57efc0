#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Builds the test root filesystem (erofs) and its dm-verity hash tree, reproducibly.
# Usage: mkrootfs.sh --out DIR [--init stand-in|none|text] [--helper FILE] [--ca PEM]
# Writes DIR/root.erofs (data), DIR/root.verity (hash tree with superblock), DIR/roothash,
# and DIR/tamper-offset: a byte offset inside root.erofs that only /sbin/init's data covers.
# --init picks /sbin/init: the stand-in (default), none at all, or "text": an executable file
# that is neither ELF nor #! script, which every check passes but execve() refuses (ENOEXEC).
# The two variants write no tamper-offset: the scenarios that use them never get that far.
# The stand-in needs --helper: the static nodegate-test-unseal (qemu/rootfs/unseal-again.c),
# installed as /bin/nodegate-test-unseal for the scenario that unseals the gate's blob again.
# --ca: the verifier's CA, as /etc/nodegate-test/ca.pem, for the helper's own attestation
# (root after the gate, issue 11): the gate's bundle goes away with the initramfs.
set -euo pipefail
# shellcheck source=qemu/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

out='' init=stand-in helper='' ca=''
while (($#)); do
        case $1 in
        --out) out=$2; shift 2 ;;
        --init) init=$2; shift 2 ;;
        --helper) helper=$2; shift 2 ;;
        --ca) ca=$2; shift 2 ;;
        *) ng_die "unknown argument: $1" ;;
        esac
done
[[ -n $out ]] || ng_die "usage: mkrootfs.sh --out DIR [--init stand-in|none|text]"
case $init in stand-in | none | text) ;; *) ng_die "--init must be stand-in, none or text" ;; esac
if [[ $init == stand-in ]]; then
        [[ -n $helper ]] || ng_die "the stand-in init needs --helper (nodegate-test-unseal)"
        [[ -x $helper ]] || ng_die "$helper is not executable"
        # The root has no C library: a dynamic helper would fail only inside the guest.
        if readelf -lW "$helper" | grep -q INTERP; then
                ng_die "$helper is dynamically linked"
        fi
fi
ng_need mkfs.erofs veritysetup busybox

tmp=''
cleanup() { [[ -z $tmp ]] || rm -rf "$tmp"; }
trap cleanup EXIT
mkdir -p "$out"
tmp=$(mktemp -d "$out/.mkrootfs.XXXXXX")
tree="$tmp/tree"

mkdir -p "$tree"/{bin,sbin,etc,dev,proc,sys,run,tmp,sysroot}
install -m 0755 "$(ng_static_busybox)" "$tree/bin/busybox"
ln -s busybox "$tree/bin/sh"
install -m 0644 "$NG_TOP/qemu/rootfs/os-release" "$tree/etc/os-release"
if [[ -n $ca ]]; then
        install -D -m 0644 "$ca" "$tree/etc/nodegate-test/ca.pem"
fi

# The stand-in init: its text, then comment padding so the file spans several 4 KiB data
# blocks of its own. Small files would be inlined into the inode's metadata block, where a
# flipped byte would also break directory lookups instead of only the file's read.
if [[ $init == stand-in ]]; then
        {
                sed -e "s|@MARKER@|$NG_MARKER|" -e "s|@MARKER_KMSG@|$NG_MARKER_KMSG|" \
                        -e "s|@TAMPER_TAG@|$NG_TAMPER_TAG|" -e "s|@KUBECONFIG@|$NG_KUBECONFIG|" \
                        -e "s|@ANSWER_ADDR@|$NG_ANSWER_ADDR|" "$NG_TOP/qemu/rootfs/init"
                echo '# Padding (see qemu/mkrootfs.sh): keeps this file larger than 8 KiB.'
                for i in $(seq 1 160); do
                        printf '# padding line %03d ..................................................\n' "$i"
                done
        } >"$tree/sbin/init"
        chmod 0755 "$tree/sbin/init"
        install -m 0755 "$helper" "$tree/bin/nodegate-test-unseal"
        (( $(ng_size "$tree/sbin/init") > 8192 )) || ng_die "stand-in init is not larger than 8 KiB"
        [[ $(grep -c "$NG_TAMPER_TAG" "$tree/sbin/init") == 1 ]] || ng_die "tamper tag must occur once"
elif [[ $init == text ]]; then
        # No "#!" and no ELF magic: the kernel has no binary format for it.
        echo 'nodegate test: this /sbin/init is not a program' >"$tree/sbin/init"
        chmod 0755 "$tree/sbin/init"
fi

chmod 0755 "$tree" "$tree"/{bin,sbin,etc,dev,proc,sys,run,sysroot}
chmod 1777 "$tree/tmp"
ng_touch_tree "$tree"

# noinline_data: the init's tail stays in a data block too, never in the metadata block.
mkfs.erofs --quiet --all-root -T "$SOURCE_DATE_EPOCH" -U "$(ng_stable_uuid rootfs)" \
        -Enoinline_data "$tmp/root.erofs" "$tree"

# The tag must appear exactly once in the image, or the tamper test would hit the wrong block.
outputs=(root.erofs root.verity roothash)
if [[ $init == stand-in ]]; then
        mapfile -t hits < <(grep -obaF "$NG_TAMPER_TAG" "$tmp/root.erofs" | cut -d: -f1)
        [[ ${#hits[@]} == 1 ]] || ng_die "tamper tag found ${#hits[@]} times in the erofs image"
        echo "${hits[0]}" >"$tmp/tamper-offset"
        outputs+=(tamper-offset)
else
        # A tamper-offset left over from an earlier build would point into another root.
        rm -f "$out/tamper-offset"
fi

# Fixed salt and UUID: the root hash only depends on the filesystem's content.
salt=$(printf 'nodegate verity salt %s' "$SOURCE_DATE_EPOCH" | sha256sum | cut -c1-64)
rm -f "$tmp/root.verity"
veritysetup format --hash=sha256 --data-block-size=4096 --hash-block-size=4096 \
        --salt="$salt" --uuid="$(ng_stable_uuid verity)" \
        --root-hash-file="$tmp/roothash.bin" "$tmp/root.erofs" "$tmp/root.verity" >"$tmp/format.log"
roothash=$(grep -oE '^Root hash:[[:space:]]+[0-9a-f]+' "$tmp/format.log" | awk '{print $3}')
[[ $roothash =~ ^[0-9a-f]{64}$ ]] || ng_die "could not read the root hash from veritysetup"
[[ $(cat "$tmp/roothash.bin") == "$roothash" ]] || ng_die "veritysetup printed two root hashes"
echo "$roothash" >"$tmp/roothash"

# Self-check on the host: no device-mapper needed for verify.
veritysetup verify "$tmp/root.erofs" "$tmp/root.verity" "$roothash" \
        || ng_die "veritysetup verify failed on the fresh image"

for f in "${outputs[@]}"; do
        mv -f "$tmp/$f" "$out/$f"
done
ng_log "root hash $roothash ($(ng_size "$out/root.erofs") bytes data, $(ng_size "$out/root.verity") bytes hash)"
