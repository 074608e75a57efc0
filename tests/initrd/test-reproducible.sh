#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The standalone initramfs: two builds from the same inputs, in different directories and
# environments, are byte-identical; and the archive holds exactly what the gate needs — /init
# (the given nodegate), its module list with every dependency before its user, those modules
# and nothing else (no shell, no busybox).
# Usage: test-reproducible.sh KVER NODEGATE MKCPIO
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/../.." && pwd)
# shellcheck source=tests/initrd/lib.sh
. "$here/lib.sh"

[[ $# -eq 3 && -n $1 ]] || { echo "usage: $0 KVER NODEGATE MKCPIO" >&2; exit 2; }
kver=$1
nodegate=$(realpath -e -- "$2")
mkcpio=$(realpath -e -- "$3")
mkinitrd=$top/initrd/mkinitrd.sh
moddir=/lib/modules/$kver
need python3 zstd xz cpio depmod readelf

tmp=$(mktemp -d "${TMPDIR:-/tmp}/test-initrd.XXXXXX")
cleanup() { rm -rf -- "$tmp"; }
trap cleanup EXIT

export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-1700000000}

# --- two builds, as different as the inputs allow ---------------------------------------------
"$mkinitrd" --mkcpio "$mkcpio" --workdir "$tmp/work-a" "$kver" "$nodegate" "$tmp/a/initrd.img" ||
	fail "first build failed"
# Second: another copy of the binary with another mtime, another staging and output
# directory, umask, time zone, locale and working directory.
mkdir -p "$tmp/elsewhere/bin"
cp -- "$nodegate" "$tmp/elsewhere/bin/gate"
touch -d '2010-06-01 12:00' "$tmp/elsewhere/bin/gate"
(
	cd "$tmp/elsewhere"
	umask 077
	TZ=Asia/Kolkata LC_ALL=C.UTF-8 "$mkinitrd" --mkcpio "$mkcpio" --workdir "$tmp/work-b" \
		"$kver" bin/gate "$tmp/b/out/initrd.img"
) || fail "second build failed"
cmp "$tmp/a/initrd.img" "$tmp/b/out/initrd.img" || fail "two builds from the same inputs differ"
# The comparison is able to fail: another SOURCE_DATE_EPOCH must give other bytes.
SOURCE_DATE_EPOCH=$((SOURCE_DATE_EPOCH + 1)) "$mkinitrd" --mkcpio "$mkcpio" "$kver" "$nodegate" \
	"$tmp/c/initrd.img" 2>/dev/null || fail "third build failed"
! cmp -s "$tmp/a/initrd.img" "$tmp/c/initrd.img" || fail "SOURCE_DATE_EPOCH has no effect"

# --- what is inside ---------------------------------------------------------------------------
cpio=$tmp/a/initrd.cpio
zstd -q -dc "$tmp/a/initrd.img" >"$cpio" || fail "initrd.img is not zstd"
cmp -s "$cpio" "$tmp/work-a/initrd.cpio" || fail "initrd.img does not decompress to its cpio"
python3 "$here/newc.py" list "$cpio" >"$tmp/listing" || fail "initrd is not a clean newc archive"
extract() { python3 "$here/newc.py" extract "$cpio" "$1"; }

# Exact set of non-module entries, with modes, owners and device numbers:
# ino mode uid gid nlink mtime size rmajor rminor name (ino, nlink, size not compared).
awk '$10 !~ /^lib\/modules(\/|$)/ { print $2, $3, $4, $6, $8, $9, $10 }' "$tmp/listing" >"$tmp/base"
e=$SOURCE_DATE_EPOCH
cat >"$tmp/base.want" <<EOF
40755 0 0 $e 0 0 dev
20600 0 0 $e 5 1 dev/console
20666 0 0 $e 1 3 dev/null
40755 0 0 $e 0 0 etc
40755 0 0 $e 0 0 etc/nodegate
100644 0 0 $e 0 0 etc/nodegate/modules
100755 0 0 $e 0 0 init
40755 0 0 $e 0 0 lib
40755 0 0 $e 0 0 proc
40755 0 0 $e 0 0 run
40755 0 0 $e 0 0 sys
40755 0 0 $e 0 0 sysroot
EOF
diff -u "$tmp/base.want" "$tmp/base" || fail "unexpected entries outside /lib/modules"

# /init is the gate, byte for byte, and executable.
extract init | cmp - "$nodegate" || fail "/init differs from $nodegate"

# Under /lib/modules/KVER only directories and 0644 .ko files.
awk '$10 ~ /^lib\/modules(\/|$)/ { print $2, $3, $4, $10 }' "$tmp/listing" >"$tmp/under-lib"
while read -r mode uid gid name; do
	case $mode in
	40755) ;;
	100644) [[ $name == "lib/modules/$kver/"*.ko ]] || fail "unexpected file /$name" ;;
	*) fail "/$name has mode $mode" ;;
	esac
	[[ $uid == 0 && $gid == 0 ]] || fail "/$name not owned by 0:0"
done <"$tmp/under-lib"

# No shell, no busybox, no symlink to one: nothing is executable but /init.
while read -r _ mode _ _ _ _ _ _ _ name; do
	case ${name##*/} in
	sh | ash | bash | busybox) fail "/$name must not be in the initramfs" ;;
	esac
	[[ $name == init || $((8#$mode & 8#111)) -eq 0 || $((8#$mode & 8#170000)) -eq $((8#40000)) ]] ||
		fail "/$name is executable"
done <"$tmp/listing"

# The module list: every line names a module file of the archive, every module file of the
# archive is on it, each once.
extract etc/nodegate/modules | sed -e '/^#/d' -e '/^$/d' >"$tmp/modules"
[[ -s $tmp/modules ]] || fail "empty module list"
[[ -z $(sort "$tmp/modules" | uniq -d) ]] || fail "module listed twice"
sed -n 's|^.* \(lib/modules/.*\.ko\)$|/\1|p' "$tmp/listing" | sort >"$tmp/ko-in-archive"
diff -u "$tmp/ko-in-archive" <(sort "$tmp/modules") ||
	fail "module list and archive contents differ"

# Load order: every dependency from the kernel's modules.dep before its user; the archive's copy
# of each module is the kernel's file, uncompressed (ELF).
declare -A at=()
i=0
while read -r m; do
	at[$m]=$((i++))
done <"$tmp/modules"
checked=0
while read -r m; do
	rel=${m#"/lib/modules/$kver/"}
	extract "${m#/}" | cmp - "$moddir/$rel" || fail "$m differs from $moddir/$rel"
	read -r -a deps <<<"$(awk -v k="$rel:" '$1 == k { $1 = ""; print; exit }' "$moddir/modules.dep")"
	for dep in "${deps[@]}"; do
		d=/lib/modules/$kver/$dep
		[[ -n ${at[$d]:-} ]] || fail "$m needs $dep, which is missing"
		[[ ${at[$d]} -lt ${at[$m]} ]] || fail "$dep is listed after $m"
		checked=$((checked + 1))
	done
done <"$tmp/modules"
((checked > 0)) || fail "no dependency was checked: is modules.dep empty?"
# Each module of modules.default is there (or built in).
while read -r name; do
	# NAME? is optional: there only when this kernel has it (mkinitrd.sh).
	if [[ $name == *'?' ]]; then
		name=${name%'?'}
		modinfo -k "$kver" "$name" >/dev/null 2>&1 || continue
	fi
	path=$(modinfo -k "$kver" -F filename "$name" | head -n 1)
	[[ $path == "(builtin)" || -n ${at[$path]:-} ]] || fail "default module $name is missing"
done < <(sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$top/initrd/modules.default")
# softdeps (FACTS: erofs → libcrc32c needs a crc32c provider first)
lib=/lib/modules/$kver/kernel/lib/libcrc32c.ko
generic=/lib/modules/$kver/kernel/crypto/crc32c_generic.ko
if [[ -n ${at[$lib]:-} ]]; then
	[[ -n ${at[$generic]:-} && ${at[$generic]} -lt ${at[$lib]} ]] ||
		fail "crc32c_generic is not loaded before libcrc32c"
fi

# --- options: a config file, a CA bundle, extra modules, compressed modules, no compression ---
printf 'nodegate.timeout=30\n' >"$tmp/nodegate.conf"
# Any PEM certificate will do: mkinitrd checks the form, the gate the content.
printf -- '-----BEGIN CERTIFICATE-----\nTUlJ\n-----END CERTIFICATE-----\n' >"$tmp/ca.pem"
basedir=$tmp/tree
make_compressed_tree "$basedir" "$kver" "$top/initrd/resolve-modules.sh" dm-verity erofs loop
printf '# only these\ndm-verity\nerofs  # trailing comment\n' >"$tmp/modules.small"
"$mkinitrd" --mkcpio "$mkcpio" --compress none --conf "$tmp/nodegate.conf" \
	--basedir "$basedir" --modules-file "$tmp/modules.small" --add-module loop \
	--ca "$tmp/ca.pem" "$kver" "$nodegate" "$tmp/d/initrd.img" 2>/dev/null ||
	fail "build with options failed"
cpio=$tmp/d/initrd.img # --compress none: the image is the cpio
python3 "$here/newc.py" list "$cpio" >"$tmp/listing-d" || fail "uncompressed image is not newc"
grep -q ' 100644 0 0 1 [0-9]* [0-9]* 0 0 etc/nodegate/nodegate.conf$' "$tmp/listing-d" ||
	fail "nodegate.conf missing or wrong mode"
extract etc/nodegate/nodegate.conf | cmp - "$tmp/nodegate.conf" || fail "nodegate.conf differs"
grep -q ' 100644 0 0 1 [0-9]* [0-9]* 0 0 etc/nodegate/ca.pem$' "$tmp/listing-d" ||
	fail "ca.pem missing or wrong mode"
extract etc/nodegate/ca.pem | cmp - "$tmp/ca.pem" || fail "ca.pem differs from --ca"
extract etc/nodegate/modules | sed -e '/^#/d' >"$tmp/modules-d"
[[ $(tail -n 1 "$tmp/modules-d") == */loop.ko ]] || fail "--add-module loop is not loaded last"
grep -q '/erofs.ko$' "$tmp/modules-d" || fail "--modules-file ignored"
! grep -q '/virtio_blk.ko$' "$tmp/modules-d" || fail "--modules-file did not replace the defaults"
! grep -q '\.ko\.' "$tmp/modules-d" || fail "compressed module names in the list"
while read -r m; do
	rel=${m#"/lib/modules/$kver/"}
	extract "${m#/}" | cmp - "$moddir/$rel" || fail "$m not decompressed to the original"
done <"$tmp/modules-d"

# --- refusals ---------------------------------------------------------------------------------
dyn=$(type -P true)
readelf -lW "$dyn" | grep -q INTERP || fail "$dyn is expected to be dynamically linked"
! "$mkinitrd" --mkcpio "$mkcpio" "$kver" "$dyn" "$tmp/e/initrd.img" 2>/dev/null ||
	fail "a dynamically linked /init was accepted"
! env -u SOURCE_DATE_EPOCH "$mkinitrd" --mkcpio "$mkcpio" "$kver" "$nodegate" \
	"$tmp/e/initrd.img" 2>/dev/null || fail "built without SOURCE_DATE_EPOCH"
! "$mkinitrd" --mkcpio "$mkcpio" --add-module no_such_module_xyz "$kver" "$nodegate" \
	"$tmp/e/initrd.img" 2>/dev/null || fail "unknown module accepted"
printf 'not a certificate\n' >"$tmp/not-pem"
! "$mkinitrd" --mkcpio "$mkcpio" --ca "$tmp/not-pem" "$kver" "$nodegate" \
	"$tmp/e/initrd.img" 2>/dev/null || fail "a CA bundle without a PEM certificate was accepted"
{ cat "$tmp/ca.pem"; printf -- '-----BEGIN PRIVATE KEY-----\nTUlJ\n-----END PRIVATE KEY-----\n'; } \
	>"$tmp/with-key.pem"
! "$mkinitrd" --mkcpio "$mkcpio" --ca "$tmp/with-key.pem" "$kver" "$nodegate" \
	"$tmp/e/initrd.img" 2>/dev/null || fail "a CA bundle with a private key was accepted"
[[ ! -e $tmp/e/initrd.img ]] || fail "a failed build left an image behind"

size_cpio=$(stat -c %s "$tmp/work-a/initrd.cpio")
size_img=$(stat -c %s "$tmp/a/initrd.img")
echo "test-reproducible: PASS ($kver: $(wc -l <"$tmp/modules") modules," \
	"cpio $size_cpio bytes, zstd $size_img bytes)"
