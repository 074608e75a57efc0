#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Downloads the orig tarballs pinned in deps/sources.lock into $BUILD/deps/src, verified by sha256.
# The archive is the Debian mirror this machine's apt already uses, so no host name lives in the repo.
set -euo pipefail

# shellcheck source=deps/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

tmp_file=""
cleanup() {
	if [[ -n "$tmp_file" ]]; then
		rm -f "$tmp_file"
	fi
}
trap cleanup EXIT

sha256_of() {
	sha256sum "$1" | cut -d' ' -f1
}

pool_dir() {
	local src=$1
	if [[ "$src" == lib?* ]]; then
		printf 'pool/main/%s/%s\n' "${src:0:4}" "$src"
	else
		printf 'pool/main/%s/%s\n' "${src:0:1}" "$src"
	fi
}

fetch_one() {
	local name=$1 src=$2 version=$3 tarball=$4 want=$5
	local dest="$SRC_DIR/$tarball" got uri url tried=""

	if [[ -f "$dest" ]]; then
		got=$(sha256_of "$dest")
		if [[ "$got" == "$want" ]]; then
			echo "fetch: $name $version: $tarball cached"
			return
		fi
		echo "fetch: $name: cached $tarball has sha256 $got, downloading again" >&2
		rm -f "$dest"
	fi

	[[ ${#uris[@]} -gt 0 ]] || die "$name: no Debian archive URI for this release in the apt sources; set NODEGATE_DEBIAN_ARCHIVE"
	for uri in "${uris[@]}"; do
		url="$uri/$(pool_dir "$src")/$tarball"
		tmp_file=$(mktemp "$SRC_DIR/.$tarball.XXXXXX")
		echo "fetch: $name $version: $url"
		if curl -fsSL --retry 3 --connect-timeout 30 -o "$tmp_file" "$url"; then
			got=$(sha256_of "$tmp_file")
			if [[ "$got" != "$want" ]]; then
				die "$name: sha256 mismatch for $tarball from $url: expected $want, got $got"
			fi
			chmod 0644 "$tmp_file"
			mv "$tmp_file" "$dest"
			tmp_file=""
			return
		fi
		rm -f "$tmp_file"
		tmp_file=""
		tried+=" $url"
	done
	die "$name: download of $tarball failed from every archive:$tried"
}

main() {
	local name src version suite tarball sha debian_tarball debian_sha
	take_deps_lock
	mkdir -p "$SRC_DIR"
	mapfile -t uris < <(archive_uris)
	while read -r name src version suite tarball sha debian_tarball debian_sha; do
		[[ "$sha" =~ ^[0-9a-f]{64}$ ]] || die "$name: malformed sha256 in sources.lock: $sha"
		fetch_one "$name" "$src" "$version ($suite)" "$tarball" "$sha"
		[[ "$debian_tarball" == - ]] && continue
		[[ "$debian_sha" =~ ^[0-9a-f]{64}$ ]] ||
			die "$name: malformed sha256 of the Debian tarball in sources.lock: $debian_sha"
		fetch_one "$name" "$src" "$version ($suite)" "$debian_tarball" "$debian_sha"
	done < <(lock_rows)
}

main "$@"
