#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Builds a dracut initramfs (Debian's dracut-core, --no-hostonly) with dracut-module/90nodegate,
# in the systemd or the non-systemd ("legacy": busybox-free dracut init.sh) flavour.
# Usage: mkdracut.sh --flavour systemd|legacy --gate build/nodegate --ca ca.pem --out initrd.img
#                    [--kver KVER] [--conf nodegate.conf]
set -euo pipefail
# shellcheck source=qemu/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

flavour='' gate='' ca='' conf='' out='' kver=${KVER:-}
while (($#)); do
        case $1 in
        --flavour) flavour=$2; shift 2 ;;
        --gate) gate=$2; shift 2 ;;
        --ca) ca=$2; shift 2 ;;
        --conf) conf=$2; shift 2 ;;
        --out) out=$2; shift 2 ;;
        --kver) kver=$2; shift 2 ;;
        *) ng_die "unknown argument: $1" ;;
        esac
done
[[ -n $flavour && -n $gate && -n $ca && -n $out ]] ||
        ng_die "usage: mkdracut.sh --flavour systemd|legacy --gate F --ca F --out F"
[[ -n $kver ]] || kver=$(ng_default_kver)
ng_need dracut lsinitrd
# The dracut modules of each flavour, named rather than left to dracut's defaults: a
# --no-hostonly default image takes everything the build host has (40 MB, 2 minutes to boot
# under TCG); these are what a node image needs. The disk and NIC drivers are the harness's.
case $flavour in
systemd) modules="base systemd systemd-initrd dracut-systemd udev-rules nodegate" ;;
legacy) modules="base udev-rules network-legacy nodegate" ;;
*) ng_die "--flavour must be systemd or legacy" ;;
esac
drivers="virtio_blk virtio_pci virtio_net"

tmp=''
cleanup() { [[ -z $tmp ]] || rm -rf "$tmp"; }
trap cleanup EXIT
tmp=$(mktemp -d "${TMPDIR:-/tmp}/mkdracut.XXXXXX")

# dracut finds modules only below its base directory: a private one, the system's entries
# linked in plus ours, so nothing is installed into /usr/lib/dracut.
base="$tmp/dracut"
mkdir -p "$base/modules.d"
for f in /usr/lib/dracut/*; do
        [[ ${f##*/} == modules.d ]] || ln -s "$f" "$base/"
done
for m in /usr/lib/dracut/modules.d/*; do
        ln -s "$m" "$base/modules.d/"
done
ln -s "$NG_TOP/dracut-module/90nodegate" "$base/modules.d/90nodegate"

# The module's settings, the way a user puts them in /etc/dracut.conf.d/nodegate.conf.
mkdir -p "$tmp/conf.d"
{
        printf 'nodegate_binary=%q\n' "$(realpath "$gate")"
        printf 'nodegate_ca=%q\n' "$(realpath "$ca")"
        printf 'nodegate_conf=%q\n' "${conf:+$(realpath "$conf")}"
} >"$tmp/conf.d/nodegate.conf"

mkdir -p "$(dirname "$out")"
dracutbasedir=$base ng_heavy dracut --quiet --force --no-hostonly --reproducible \
        --no-early-microcode --conf /dev/null --confdir "$tmp/conf.d" --modules "$modules" \
        --add-drivers "$drivers" --compress "zstd -10 -T0" --kver "$kver" "$tmp/initrd.img"
# Whatever dracut settled on, the flavour must be the one asked for.
included=$(lsinitrd -m "$tmp/initrd.img" | sed -n '/^dracut modules:/,/^=/p')
want=legacy
grep -qx systemd <<<"$included" && want=systemd
if [[ $want != "$flavour" ]]; then
        ng_die "dracut built the wrong flavour: $(tr '\n' ' ' <<<"$included")"
fi
grep -qx nodegate <<<"$included" || ng_die "dracut left out the nodegate module"
mv -f "$tmp/initrd.img" "$out"
ng_log "dracut ($flavour) $out: $(ng_size "$out") bytes, modules: $(sed '1d;$d' <<<"$included" | tr '\n' ' ')"
