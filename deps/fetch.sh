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

# The mirrors serving this release's own suite carry the full pool/main, including the
# newer suites' sources we pin; security mirrors use another pool layout and are skipped.
archive_uris() {
	local codename f
	if [[ -n "${NODEGATE_DEBIAN_ARCHIVE:-}" ]]; then
		printf '%s\n' "${NODEGATE_DEBIAN_ARCHIVE%/}"
		return
	fi
	codename=$(sed -n 's/^VERSION_CODENAME=//p' /etc/os-release 2>/dev/null | tr -d '"')
	[[ -n "$codename" ]] || die "no VERSION_CODENAME in /etc/os-release; set NODEGATE_DEBIAN_ARCHIVE to a Debian archive URI"
	{
		for f in /etc/apt/sources.list.d/*.sources; do
			[[ -r "$f" ]] || continue
			awk -v want="$codename" '
				function flush() {
					if (types ~ /(^| )deb(-src)?( |$)/ && tolower(enabled) != "no" &&
					    (" " suites " ") ~ (" " want " "))
						print uris
					types = uris = suites = enabled = ""; last = ""
				}
				/^[[:space:]]*#/ { next }
				/^[[:space:]]*$/ { flush(); next }
				/^[[:space:]]/ { if (last == "uris") uris = uris " " $0;
				                 else if (last == "suites") suites = suites " " $0; next }
				{
					key = tolower($1); sub(/:$/, "", key)
					val = $0; sub(/^[^:]*:[[:space:]]*/, "", val)
					last = key
					if (key == "types") types = val
					else if (key == "uris") uris = val
					else if (key == "suites") suites = val
					else if (key == "enabled") enabled = val
				}
				END { flush() }' "$f" | tr -s '[:space:]' '\n'
		done
		for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
			[[ -r "$f" ]] || continue
			sed -e 's/#.*//' -e 's/\[[^]]*\]//' "$f" |
				awk -v want="$codename" '($1 == "deb" || $1 == "deb-src") && $3 == want { print $2 }'
		done
	} | sed -e '/^$/d' -e 's:/*$::' | grep -E '^(https?|file):' | awk '!seen[$0]++'
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
