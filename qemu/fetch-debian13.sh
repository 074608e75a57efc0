#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Fetches the Debian .debs pinned in a lock file (default qemu/debian13.lock; qemu/debian-sid.lock
# for the stub-262 cross-check) into $BUILD/NAME/debs, NAME being the lock's base name without
# .lock, verified by sha256, and unpacks each with dpkg-deb -x into $BUILD/NAME/root (nothing is
# installed). Usage: fetch-debian13.sh [LOCK]
# The archive is the Debian mirror this machine's apt already uses (deps/common.sh's
# archive_uris, or NODEGATE_DEBIAN_ARCHIVE), so no host name lives in the repo.
# Prints nothing new and downloads nothing when every pinned .deb is already there.
set -euo pipefail

# shellcheck source=deps/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/../deps/common.sh"

[[ $# -le 1 ]] || die "usage: $0 [LOCK]"
LOCK=$(realpath -e -- "${1:-$REPO_ROOT/qemu/debian13.lock}")
[[ $LOCK == *.lock ]] || die "$LOCK: not a .lock file"
NAME=$(basename "$LOCK" .lock)
OUT=$BUILD/$NAME
DEBS=$OUT/debs
ROOT=$OUT/root

tmp_file=""
cleanup() { [[ -z "$tmp_file" ]] || rm -f "$tmp_file"; }
trap cleanup EXIT

sha256_of() { sha256sum "$1" | cut -d' ' -f1; }

fetch_one() {
	local pkg=$1 version=$2 path=$3 want=$4
	local dest="$DEBS/${path##*/}" uri url tried=""

	if [[ -f "$dest" && "$(sha256_of "$dest")" == "$want" ]]; then
		return
	fi
	rm -f "$dest"
	[[ ${#uris[@]} -gt 0 ]] || die "$pkg: no Debian archive URI for this release in the apt sources; set NODEGATE_DEBIAN_ARCHIVE"
	for uri in "${uris[@]}"; do
		url="$uri/$path"
		tmp_file=$(mktemp "$DEBS/.${path##*/}.XXXXXX")
		echo "fetch-debian13: $NAME: $pkg $version: $url"
		if curl -fsSL --retry 3 --connect-timeout 30 -o "$tmp_file" "$url"; then
			local got
			got=$(sha256_of "$tmp_file")
			[[ "$got" == "$want" ]] || die "$pkg: sha256 mismatch for $url: expected $want, got $got"
			chmod 0644 "$tmp_file"
			mv "$tmp_file" "$dest"
			tmp_file=""
			return
		fi
		rm -f "$tmp_file"
		tmp_file=""
		tried+=" $url"
	done
	die "$pkg: download failed from every archive:$tried"
}

# A kernel .deb ships its modules under usr/lib/modules (merged /usr) without modules.dep, which
# its postinst makes; depmod -b and the initramfs tools look under BASEDIR/lib/modules.
index_kernel_modules() {
	local dir
	for dir in "$ROOT"/usr/lib/modules/*/; do
		[[ -d $dir ]] || continue
		[[ -e $ROOT/lib ]] || ln -s usr/lib "$ROOT/lib"
		depmod -b "$ROOT" "$(basename "$dir")"
	done
}

main() {
	local pkg version path sha stamp
	mkdir -p "$DEBS"
	exec 9>"$OUT/.lock"
	flock 9
	mapfile -t uris < <(archive_uris)
	stamp=$(sha256_of "$LOCK")
	[[ -f "$ROOT/.lock-sha256" && "$(cat "$ROOT/.lock-sha256")" == "$stamp" ]] && return
	rm -rf "$ROOT"
	mkdir -p "$ROOT"
	while read -r pkg version path sha; do
		[[ "$sha" =~ ^[0-9a-f]{64}$ ]] || die "$pkg: malformed sha256 in ${LOCK#"$REPO_ROOT"/}: $sha"
		fetch_one "$pkg" "$version" "$path" "$sha"
		dpkg-deb -x "$DEBS/${path##*/}" "$ROOT"
	done < <(awk '!/^[[:space:]]*(#|$)/ { print $1, $2, $3, $4 }' "$LOCK")
	index_kernel_modules
	echo "$stamp" >"$ROOT/.lock-sha256"
	echo "fetch-debian13: $NAME: unpacked into ${ROOT#"$REPO_ROOT"/}"
}

main
