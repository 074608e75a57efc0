#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Builds nodegate's standalone initramfs: the gate as /init, the kernel modules it loads and
# their list, nothing else. Same inputs and SOURCE_DATE_EPOCH give the same bytes.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

usage() {
	cat <<EOF
usage: ${0##*/} [OPTION]... KVER NODEGATE OUTPUT
Writes the initramfs for kernel KVER with the static binary NODEGATE as /init to OUTPUT.
  --mkcpio PATH        the mkcpio tool (default: \$MKCPIO)
  --conf FILE          install FILE as /etc/nodegate/nodegate.conf
  --ca FILE            install FILE, PEM certificates, as /etc/nodegate/ca.pem: the only CAs
                       the gate trusts for the verifier's TLS certificate (nodegate.ca=)
  --modules-file FILE  module names to load (default: $here/modules.default)
  --add-module NAME    load NAME too, after the others (repeatable)
  --basedir DIR        take modules from DIR/lib/modules/KVER (default: /)
  --compress zstd|none compression of the archive (default: zstd)
  --workdir DIR        stage in DIR (must not exist; kept afterwards) instead of a temporary one
SOURCE_DATE_EPOCH must be set: it is the mtime of every entry.
EOF
}

die() {
	echo "${0##*/}: $*" >&2
	exit 1
}

work=
keep_work=
tmp_out=
cleanup() {
	[[ -z $tmp_out ]] || rm -f -- "$tmp_out"
	[[ -n $keep_work || -z $work ]] || rm -rf -- "$work"
}
trap cleanup EXIT

mkcpio=${MKCPIO:-}
conf=
ca=
modules_file=$here/modules.default
extra_modules=()
basedir=
compress=zstd
while [[ $# -gt 0 ]]; do
	case $1 in
	--mkcpio) mkcpio=${2:?}; shift 2 ;;
	--conf) conf=${2:?}; shift 2 ;;
	--ca) ca=${2:?}; shift 2 ;;
	--modules-file) modules_file=${2:?}; shift 2 ;;
	--add-module) extra_modules+=("${2:?}"); shift 2 ;;
	--basedir) basedir=${2:?}; shift 2 ;;
	--compress) compress=${2:?}; shift 2 ;;
	--workdir) work=${2:?}; keep_work=1; shift 2 ;;
	-h | --help) usage; exit 0 ;;
	--) shift; break ;;
	-*) usage >&2; die "unknown option: $1" ;;
	*) break ;;
	esac
done
[[ $# -eq 3 ]] || { usage >&2; exit 1; }
kver=$1 nodegate=$2 output=$3

[[ -n ${SOURCE_DATE_EPOCH:-} ]] || die "SOURCE_DATE_EPOCH is not set"
[[ $kver =~ ^[A-Za-z0-9._+-]+$ ]] || die "bad kernel version: '$kver'"
[[ -n $mkcpio && -x $mkcpio ]] || die "mkcpio tool not found (--mkcpio or MKCPIO)"
[[ -f $nodegate && -x $nodegate ]] || die "$nodegate is not an executable file"
# The initramfs has no dynamic loader and no libc: a dynamically linked /init would only show
# up at boot as a kernel panic, so refuse it here.
if ! readelf -h "$nodegate" >/dev/null 2>&1; then
	die "$nodegate is not an ELF binary"
fi
if readelf -lW "$nodegate" | grep -q 'INTERP'; then
	die "$nodegate is dynamically linked; /init must be static"
fi
[[ -z $conf || -f $conf ]] || die "config file $conf not found"
if [[ -n $ca ]]; then
	[[ -f $ca ]] || die "CA bundle $ca not found"
	# The gate reads PEM only: a DER file or a key would show up at boot as a TLS failure
	# against every verifier, so refuse anything without a certificate, or with a private key.
	grep -q -- '-----BEGIN CERTIFICATE-----' "$ca" || die "$ca holds no PEM certificate"
	! grep -q -- 'PRIVATE KEY-----' "$ca" ||
		die "$ca holds a private key: only certificates belong in the initramfs"
fi
[[ -f $modules_file ]] || die "module list $modules_file not found"
case $compress in
zstd | none) ;;
*) die "unknown compression '$compress' (zstd or none)" ;;
esac

if [[ -n $basedir ]]; then
	basedir=$(realpath -e -- "$basedir") || die "no such directory: $basedir"
	[[ $basedir != / ]] || basedir=
fi
moddir=$basedir/lib/modules/$kver
[[ -d $moddir ]] || die "$moddir not found: is kernel $kver installed?"

# A kernel that cannot unpack the archive prints only "Initramfs unpacking failed" and panics
# later; catch it at build time when the kernel's config is there to ask.
kconfig=$basedir/boot/config-$kver
if [[ $compress == zstd && -f $kconfig ]] && ! grep -qx 'CONFIG_RD_ZSTD=y' "$kconfig"; then
	die "kernel $kver cannot unpack a zstd initramfs (no CONFIG_RD_ZSTD=y in $kconfig)"
fi

if [[ -n $work ]]; then
	[[ ! -e $work ]] || die "work directory $work already exists"
	mkdir -p -- "$work"
else
	work=$(mktemp -d "${TMPDIR:-/tmp}/nodegate-initrd.XXXXXX")
fi
work=$(realpath -e -- "$work")
# mkcpio's spec is whitespace-separated; every source below lives under $work.
[[ $work != *[[:space:]]* ]] || die "work directory must not contain whitespace: $work"
root=$work/root
mkdir -p -- "$root"

# --- modules ------------------------------------------------------------------------------
names=()
while read -r line; do
	line=${line%%#*}
	read -r name rest <<<"$line" || true
	[[ -n ${name:-} ]] || continue
	[[ -z ${rest:-} ]] || die "$modules_file: one module name per line: '$line'"
	# NAME? stays as it is: resolve-modules.sh leaves it out where the kernel lacks it.
	names+=("$name")
done <"$modules_file"
names+=("${extra_modules[@]}")
[[ ${#names[@]} -gt 0 ]] || die "no modules to load"

resolve_args=()
[[ -z $basedir ]] || resolve_args=(-b "$basedir")
resolved=$("$here/resolve-modules.sh" "${resolve_args[@]}" "$kver" "${names[@]}") ||
	die "cannot resolve the module list for $kver"

spec=$work/spec
dirs=(/dev /etc /etc/nodegate /lib /lib/modules "/lib/modules/$kver" /proc /run /sys /sysroot)
modules=()
declare -A seen_dest=()
while read -r src; do
	[[ -n $src ]] || continue
	rel=${src#"$moddir"/}
	case $rel in
	*.ko) decompress=() ;;
	*.ko.xz) decompress=(xz -dc) rel=${rel%.xz} ;;
	*.ko.zst) decompress=(zstd -dcq) rel=${rel%.zst} ;;
	*.ko.gz) decompress=(gzip -dc) rel=${rel%.gz} ;;
	*) die "unexpected module file $src" ;;
	esac
	dest=/lib/modules/$kver/$rel
	[[ $dest != *[[:space:]]* ]] || die "module path with whitespace: $dest"
	[[ -z ${seen_dest[$dest]:-} ]] || die "two files for $dest"
	seen_dest[$dest]=1
	mkdir -p -- "$root${dest%/*}"
	# The gate passes each file to finit_module as is; in-kernel decompression
	# (CONFIG_MODULE_DECOMPRESS) is missing on many kernels, so decompress here instead.
	if [[ ${#decompress[@]} -gt 0 ]]; then
		"${decompress[@]}" -- "$src" >"$root$dest" || die "cannot decompress $src"
	else
		cp -- "$src" "$root$dest"
	fi
	[[ $(head -c 4 "$root$dest" | od -An -tx1 | tr -d ' \n') == 7f454c46 ]] ||
		die "$src is not an ELF module"
	d=${dest%/*}
	while [[ $d != "/lib/modules/$kver" ]]; do
		dirs+=("$d")
		d=${d%/*}
	done
	modules+=("$dest")
done <<<"$resolved"
[[ ${#modules[@]} -gt 0 ]] || die "the module list resolved to nothing"

mkdir -p -- "$root/etc/nodegate"
{
	echo "# Kernel modules for $kver in load order, written by initrd/mkinitrd.sh."
	printf '%s\n' "${modules[@]}"
} >"$root/etc/nodegate/modules"

cp -- "$nodegate" "$root/init"
[[ -z $conf ]] || cp -- "$conf" "$root/etc/nodegate/nodegate.conf"
[[ -z $ca ]] || cp -- "$ca" "$root/etc/nodegate/ca.pem"

# --- archive ------------------------------------------------------------------------------
# mkcpio sorts the entries and checks that every parent is a directory, so the order here is
# only for the reader.
{
	echo "# nodegate standalone initramfs for $kver"
	printf '%s\n' "${dirs[@]}" | LC_ALL=C sort -u | while read -r d; do
		echo "dir $d 0755 0 0"
	done
	# The kernel opens /dev/console for init's stdin/stdout/stderr before /dev is mounted:
	# without the node the gate's first lines (and any failure before devtmpfs) are lost.
	echo "nod /dev/console 0600 0 0 c 5 1"
	echo "nod /dev/null 0666 0 0 c 1 3"
	echo "file /init $root/init 0755 0 0"
	echo "file /etc/nodegate/modules $root/etc/nodegate/modules 0644 0 0"
	[[ -z $conf ]] || echo "file /etc/nodegate/nodegate.conf $root/etc/nodegate/nodegate.conf 0644 0 0"
	[[ -z $ca ]] || echo "file /etc/nodegate/ca.pem $root/etc/nodegate/ca.pem 0644 0 0"
	for m in "${modules[@]}"; do
		echo "file $m $root$m 0644 0 0"
	done
} >"$spec"

"$mkcpio" "$spec" "$work/initrd.cpio" || die "mkcpio failed"

mkdir -p -- "$(dirname -- "$output")"
tmp_out=$output.tmp.$$
case $compress in
# -19 is deterministic for a given zstd version; one worker keeps it independent of the core
# count. No --long: the kernel's decompressor keeps the default window limits.
zstd) zstd -q -19 -T1 -c -- "$work/initrd.cpio" >"$tmp_out" ;;
none) cp -- "$work/initrd.cpio" "$tmp_out" ;;
esac
mv -f -- "$tmp_out" "$output"
tmp_out=

printf '%s: %s: %d modules, cpio %d bytes, %s %d bytes -> %s\n' "${0##*/}" "$kver" \
	"${#modules[@]}" "$(stat -c %s "$work/initrd.cpio")" "$compress" \
	"$(stat -c %s "$output")" "$output" >&2
