# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
# Helpers shared by the initrd tests (sourced, not run).

fail() {
	echo "FAIL: ${0##*/}: $*" >&2
	exit 1
}

# Tools the tests cannot do without are a broken machine here, not a reason to skip:
# the initrd builder needs them all anyway.
need() {
	local t
	for t in "$@"; do
		command -v "$t" >/dev/null || fail "$t is not installed (see .ci/packages)"
	done
}

# Copies the module closure of MODULE… for KVER from the host into BASEDIR/lib/modules/KVER,
# compressing every other module (xz, zstd, none in turn), and runs depmod there: a module tree
# shaped like a distribution kernel that ships compressed modules.
make_compressed_tree() { # BASEDIR KVER RESOLVER MODULE…
	local basedir=$1 kver=$2 resolver=$3 src rel i=0
	shift 3
	local moddir=$basedir/lib/modules/$kver
	mkdir -p "$moddir"
	cp "/lib/modules/$kver/modules.builtin" "/lib/modules/$kver/modules.order" "$moddir/"
	[[ ! -f /lib/modules/$kver/modules.builtin.modinfo ]] ||
		cp "/lib/modules/$kver/modules.builtin.modinfo" "$moddir/"
	while read -r src; do
		rel=${src#"/lib/modules/$kver/"}
		mkdir -p "$moddir/$(dirname "$rel")"
		case $((i++ % 3)) in
		0) xz -c --check=crc32 "$src" >"$moddir/$rel.xz" ;;
		1) zstd -q -c "$src" >"$moddir/$rel.zst" ;;
		2) cp "$src" "$moddir/$rel" ;;
		esac
	done < <("$resolver" "$kver" "$@")
	depmod -b "$basedir" "$kver"
}
