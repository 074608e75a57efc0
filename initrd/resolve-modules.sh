#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Prints, in load order and without duplicates, the absolute paths of the module files that
# kernel KVER needs to load MODULE…: hard dependencies (modules.dep) and softdep "pre:" modules
# (modules.softdep), each before the modules that need it. Built-ins are skipped. Compressed
# modules (.ko.xz, .ko.zst, .ko.gz) are printed as they are; the caller decompresses them.
set -euo pipefail

usage() {
	cat <<EOF
usage: ${0##*/} [-b BASEDIR] KVER MODULE[?]...
  MODULE?      optional: left out where KVER has no such module
  -b BASEDIR   module tree root: BASEDIR/lib/modules/KVER (default: the host's /)
EOF
}

die() {
	echo "${0##*/}: $*" >&2
	exit 1
}

basedir=
while getopts b:h opt; do
	case $opt in
	b) basedir=$(realpath -e -- "$OPTARG") || die "no such directory: $OPTARG" ;;
	h) usage; exit 0 ;;
	*) usage >&2; exit 1 ;;
	esac
done
shift $((OPTIND - 1))
[[ $# -ge 2 ]] || { usage >&2; exit 1; }
kver=$1
shift

# modprobe prints paths as BASEDIR + /lib/modules/…, so BASEDIR must be canonical ("" for /)
# for the prefix check below to hold.
basedir=${basedir%/}
modprobe_dir=()
[[ -z $basedir ]] || modprobe_dir=(-d "$basedir")
moddir=$basedir/lib/modules/$kver
[[ -f $moddir/modules.dep ]] || die "$moddir/modules.dep not found (is KVER right, was depmod run?)"

declare -A seen=()
for module in "$@"; do
	[[ $module =~ ^[A-Za-z0-9_.-]+[?]?$ ]] || die "bad module name: '$module'"
	# NAME? is optional: left out, with a note, where this kernel has no such module (the TEE
	# guest drivers: Debian 12's 6.1 has sev-guest but no tdx-guest); a plain NAME must resolve.
	if [[ $module == *'?' ]]; then
		module=${module%'?'}
		if ! modprobe -C /dev/null "${modprobe_dir[@]}" --set-version "$kver" --show-depends \
			"$module" >/dev/null 2>&1; then
			echo "${0##*/}: $kver has no module $module (optional): left out" >&2
			continue
		fi
	fi
	# kmod's modprobe is the reference implementation of the load order, softdeps included
	# (erofs → crc32c_generic before libcrc32c, which busybox's modprobe gets wrong).
	# -C /dev/null: the host's /etc/modprobe.d must not change what goes into the image.
	# One module per call: modprobe takes any further words as module parameters.
	# Its own diagnostics go straight to stderr, ahead of ours.
	out=$(modprobe -C /dev/null "${modprobe_dir[@]}" --set-version "$kver" --show-depends "$module") ||
		die "cannot resolve '$module' for $kver"
	while read -r verb arg _; do
		case $verb in
		insmod)
			case $arg in
			"$moddir"/*.ko | "$moddir"/*.ko.xz | "$moddir"/*.ko.zst | "$moddir"/*.ko.gz) ;;
			*) die "'$module' resolves to an unexpected file: $arg" ;;
			esac
			[[ -f $arg ]] || die "'$module' needs $arg, which does not exist"
			if [[ -z ${seen[$arg]:-} ]]; then
				# The first occurrence is the earliest point where its own
				# dependencies have all been printed, so keeping it keeps the order.
				seen[$arg]=1
				printf '%s\n' "$arg"
			fi
			;;
		builtin) ;;
		"") ;;
		*) die "unexpected modprobe output for '$module': $verb $arg" ;;
		esac
	done <<<"$out"
done
