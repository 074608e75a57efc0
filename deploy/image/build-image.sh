#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Builds the verifier's OCI image without a daemon, reproducibly:
#
#   deploy/image/build-image.sh VERIFIER OUT_DIR TAG
#
# 1. A minimal Debian root (mmdebstrap --variant=extract: packages unpacked, no maintainer
#    script run, no shell, no package manager) holding exactly the packages that own the
#    libraries `ldd VERIFIER` resolves, and what they depend on; the mirror is the machine's
#    own: the Debian repositories apt is configured with (apt-get indextargets), so no host
#    name is written here.
# 2. Trimmed to what runs: docs (but each copyright file), locales, lintian overrides, glibc's
#    iconv modules (gconv: the verifier converts no character set), apt's and dpkg's state,
#    device nodes (the runtime makes /dev) dropped; the verifier added as
#    /usr/bin/nodegate-verifier, a passwd/group naming uid/gid 65532 (nonroot), and the
#    package versions in /usr/share/nodegate-verifier/packages.
# 3. Assembled with umoci into an OCI image layout OUT_DIR/oci (tag TAG): one layer, user
#    65532:65532, entrypoint the verifier; every timestamp (files, config, history) is
#    SOURCE_DATE_EPOCH, so the same verifier and the same archive state give the same digest.
#    OUT_DIR/digest gets the manifest's digest.
#
# Needs root (mmdebstrap's root mode; umoci keeps the files' owners). The mmdebstrap step
# takes the project's heavy-job lock the way qemu/lib.sh's ng_heavy does (NG_HEAVY_LOCK,
# re-entrant through NG_HEAVY_LOCKED, so a caller already holding it does not deadlock).
set -euo pipefail

verifier=$1 out=$2 tag=$3
: "${SOURCE_DATE_EPOCH:?SOURCE_DATE_EPOCH must be set}"
created=$(date -u -d "@$SOURCE_DATE_EPOCH" +%Y-%m-%dT%H:%M:%SZ)
uid=65532

work=$(mktemp -d "${TMPDIR:-/tmp}/nodegate-image.XXXXXX")
cleanup() { rm -rf "$work"; }
trap cleanup EXIT

# 1. The packages: whoever owns each library the verifier loads (merged /usr: try the path
# ldd gives, then its real path).
mapfile -t libs < <(ldd "$verifier" | awk '/=>/ { print $3 } /ld-linux/ { print $1 }')
pkgs=()
for lib in "${libs[@]}"; do
        owner=$(dpkg -S "$lib" 2>/dev/null || dpkg -S "$(realpath "$lib")")
        pkgs+=("${owner%%:*}")
done
mapfile -t pkgs < <(printf '%s\n' "${pkgs[@]}" | sort -u)
if ((${#pkgs[@]} == 0)); then
        echo "build-image: ldd found no library of $verifier" >&2
        exit 1
fi

# The Debian repositories apt knows here, as one-line sources for mmdebstrap's stdin.
# shellcheck disable=SC2016 # apt's own $(FIELD) placeholders
sources=$(apt-get indextargets --format '$(ORIGIN) $(REPO_URI) $(RELEASE) $(COMPONENT)' \
        'Created-By: Packages' | awk '$1 == "Debian" { print "deb", $2, $3, $4 }' | sort -u)
if [[ -z $sources ]]; then
        echo "build-image: apt knows no Debian repository (run apt-get update)" >&2
        exit 1
fi
suite=$(awk '$3 !~ /-/ { print $3; exit }' <<<"$sources")

rootfs=$work/rootfs
include=$(IFS=,; echo "${pkgs[*]}")
# --skip=download/empty keeps the .debs, whose names give the versions recorded below.
heavy() {
        if [[ ${NG_HEAVY_LOCKED:-} == 1 ]]; then
                "$@"
        else
                NG_HEAVY_LOCKED=1 flock "${NG_HEAVY_LOCK:-/tmp/nodegate-heavy.lock}" "$@"
        fi
}
heavy mmdebstrap --quiet --variant=extract --architectures=amd64 \
        --include="$include" --skip=download/empty "$suite" "$rootfs" - <<<"$sources"

# 2. Trim, add.
mkdir -p "$rootfs/usr/share/nodegate-verifier"
find "$rootfs/var/cache/apt/archives" -name '*.deb' -printf '%f\n' | sed 's/\.deb$//' |
        awk -F_ '{ print $1, $2, $3 }' | LC_ALL=C sort >"$rootfs/usr/share/nodegate-verifier/packages"
find "$rootfs/usr/share/doc" -mindepth 1 ! -type d ! -name copyright -delete
find "$rootfs/usr/share/doc" -mindepth 1 -type d -empty -delete
rm -rf "${rootfs:?}"/var "$rootfs"/etc/apt "$rootfs"/etc/dpkg "$rootfs"/etc/resolv.conf \
        "$rootfs"/etc/hostname "$rootfs"/etc/fstab "$rootfs"/usr/share/locale \
        "$rootfs"/usr/share/lintian "$rootfs"/usr/share/man "${rootfs:?}"/dev/* \
        "$rootfs"/usr/lib/x86_64-linux-gnu/gconv
install -D -m 0755 "$verifier" "$rootfs/usr/bin/nodegate-verifier"
printf 'root:x:0:0:root:/root:/usr/sbin/nologin\nnonroot:x:%d:%d:nonroot:/nonexistent:/usr/sbin/nologin\n' \
        "$uid" "$uid" >"$rootfs/etc/passwd"
printf 'root:x:0:\nnonroot:x:%d:\n' "$uid" >"$rootfs/etc/group"
chmod 0644 "$rootfs/etc/passwd" "$rootfs/etc/group"
mkdir -p "$rootfs/proc" "$rootfs/sys" "$rootfs/etc/nodegate-verifier"
chmod 1777 "$rootfs/tmp"
chown -R 0:0 "$rootfs"
find "$rootfs" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +

# 3. The image.
rm -rf "$out/oci"
mkdir -p "$out"
umoci init --layout "$out/oci"
umoci new --image "$out/oci:$tag"
umoci unpack --image "$out/oci:$tag" "$work/bundle" >/dev/null
rm -rf "$work/bundle/rootfs"
mv "$rootfs" "$work/bundle/rootfs"
umoci repack --image "$out/oci:$tag" --history.created "$created" \
        --history.created_by "deploy/image/build-image.sh" "$work/bundle"
umoci config --image "$out/oci:$tag" --no-history --created "$created" \
        --author "nodegate" --os linux --architecture amd64 \
        --config.user "$uid:$uid" --config.workingdir / \
        --config.entrypoint /usr/bin/nodegate-verifier --config.cmd --help \
        --config.label "org.opencontainers.image.title=nodegate-verifier" \
        --config.label "org.opencontainers.image.licenses=GPL-2.0-or-later" \
        --config.label "org.opencontainers.image.created=$created" \
        --config.exposedports 8443/tcp
umoci gc --layout "$out/oci"
# umoci leaves the tag's descriptor as the only manifest of index.json.
python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["manifests"][0]["digest"])' \
        "$out/oci/index.json" >"$out/digest"
echo "image $out/oci:$tag $(cat "$out/digest")"
