#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# initrd/resolve-modules.sh against the installed kernel KVER: load order follows modules.dep,
# softdeps come first (erofs needs crc32c before libcrc32c), no duplicates, built-ins skipped,
# unknown modules refused, and compressed module trees reported as they are.
# Usage: test-resolve-modules.sh KVER
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/../.." && pwd)
# shellcheck source=tests/initrd/lib.sh
. "$here/lib.sh"

[[ $# -eq 1 && -n $1 ]] || { echo "usage: $0 KVER" >&2; exit 2; }
kver=$1
resolve=$top/initrd/resolve-modules.sh
moddir=/lib/modules/$kver
[[ -f $moddir/modules.dep ]] || fail "kernel $kver has no $moddir/modules.dep"
need modprobe depmod xz zstd

tmp=$(mktemp -d "${TMPDIR:-/tmp}/test-resolve.XXXXXX")
cleanup() { rm -rf -- "$tmp"; }
trap cleanup EXIT

# Position of the first line equal to $2 in file $1, or fail.
pos() {
	local n
	n=$(grep -nxF -- "$2" "$1" | head -n 1 | cut -d: -f1)
	[[ -n $n ]] || fail "$2 missing from the resolved list"
	echo "$n"
}

# Every module of LIST (absolute paths under MODDIR) must come after all the modules that
# modules.dep says it needs, and those must all be in the list.
check_dep_order() { # LIST MODDIR
	local list=$1 dir=$2 m rel dep d i=0
	local -A at=()
	local -a mods deps
	mapfile -t mods <"$list"
	for m in "${mods[@]}"; do
		at[$m]=$((i++))
	done
	for m in "${mods[@]}"; do
		rel=${m#"$dir"/}
		read -r -a deps <<<"$(awk -v k="$rel:" '$1 == k { $1 = ""; print; exit }' \
			"$dir/modules.dep")"
		for dep in "${deps[@]}"; do
			d=$dir/$dep
			[[ -n ${at[$d]:-} ]] || fail "$rel needs $dep, which is not in the list"
			[[ ${at[$d]} -lt ${at[$m]} ]] || fail "$dep is not before $rel in the load order"
		done
	done
}

mapfile -t defaults < <(sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$top/initrd/modules.default")
"$resolve" "$kver" "${defaults[@]}" >"$tmp/default.list" || fail "cannot resolve modules.default"
[[ -s $tmp/default.list ]] || fail "modules.default resolved to nothing"

# Absolute, existing, unique.
while read -r m; do
	[[ $m == "$moddir"/*.ko* && -f $m ]] || fail "not an existing module file: $m"
done <"$tmp/default.list"
[[ -z $(sort "$tmp/default.list" | uniq -d) ]] || fail "duplicates: $(sort "$tmp/default.list" | uniq -d)"

check_dep_order "$tmp/default.list" "$moddir"

# Every requested module is in the list (not just its dependencies).
for name in "${defaults[@]}"; do
	# NAME? is in the list only where the kernel has it.
	if [[ $name == *'?' ]]; then
		name=${name%'?'}
		modinfo -k "$kver" "$name" >/dev/null 2>&1 || continue
	fi
	path=$(modinfo -k "$kver" -F filename "$name" 2>/dev/null | head -n 1) ||
		fail "modinfo does not know $name"
	[[ $path == "(builtin)" ]] && continue
	pos "$tmp/default.list" "$path" >/dev/null
done

# The softdep that motivates all this (FACTS): libcrc32c allocates "crc32c" when it loads, so a
# provider must already be there. Only checkable where they are modules.
if grep -q '/libcrc32c.ko' "$tmp/default.list"; then
	generic=$(grep '/crc32c_generic.ko' "$tmp/default.list") ||
		fail "libcrc32c without its softdep crc32c_generic"
	[[ $(pos "$tmp/default.list" "$generic") -lt \
		$(pos "$tmp/default.list" "$(grep '/libcrc32c.ko' "$tmp/default.list")") ]] ||
		fail "crc32c_generic must be loaded before libcrc32c"
fi

# Modules sharing dependencies, asked for twice: each file once, same order as asked once.
"$resolve" "$kver" virtio_blk virtio_scsi virtio_blk >"$tmp/twice.list"
"$resolve" "$kver" virtio_blk virtio_scsi >"$tmp/once.list"
cmp -s "$tmp/twice.list" "$tmp/once.list" || fail "asking twice changes the list"
[[ -z $(sort "$tmp/twice.list" | uniq -d) ]] || fail "shared dependencies printed twice"

# Built-ins print nothing and succeed.
builtin=$(head -n 1 "$moddir/modules.builtin")
builtin=${builtin##*/}
builtin=${builtin%.ko}
out=$("$resolve" "$kver" "$builtin") || fail "built-in $builtin refused"
[[ -z $out ]] || fail "built-in $builtin printed: $out"

# Unknown module, bad names, unknown kernel: refused.
! "$resolve" "$kver" erofs no_such_module_xyz >/dev/null 2>&1 || fail "unknown module accepted"
! "$resolve" "$kver" 'erofs extra' >/dev/null 2>&1 || fail "module name with a space accepted"
! "$resolve" "$kver" '../x' >/dev/null 2>&1 || fail "module name with / accepted"
! "$resolve" 0.0.0-no-such-kernel erofs >/dev/null 2>&1 || fail "unknown kernel accepted"

# The host's modprobe configuration must not leak in: resolving under a different, empty
# configuration is not possible to inject here, but the output must not carry module options.
! grep -q ' ' "$tmp/default.list" || fail "paths carry extra words (module options?)"

# Compressed modules: a tree with .ko.xz/.ko.zst (and plain .ko) files, as other distributions
# ship them. They come out with their extension, in the same order as the plain tree.
basedir=$tmp/tree
make_compressed_tree "$basedir" "$kver" "$resolve" dm-verity erofs
"$resolve" -b "$basedir" "$kver" dm-verity erofs >"$tmp/compressed.list" ||
	fail "cannot resolve in the compressed tree"
grep -q '\.ko\.xz$' "$tmp/compressed.list" || fail "no .ko.xz reported"
grep -q '\.ko\.zst$' "$tmp/compressed.list" || fail "no .ko.zst reported"
check_dep_order "$tmp/compressed.list" "$basedir/lib/modules/$kver"
"$resolve" "$kver" dm-verity erofs >"$tmp/plain.list"
diff -u <(sed -e "s|^$basedir||" -e 's/\.\(xz\|zst\)$//' "$tmp/compressed.list") "$tmp/plain.list" ||
	fail "compressed tree resolves to a different order"

# NAME? (the TEE guest drivers of modules.default): left out, with a note, where the kernel has
# no such module; resolved like any other where it has; a plain NAME that is missing fails.
"$resolve" "$kver" dm-verity no-such-module-nodegate? >"$tmp/optional.list" 2>"$tmp/optional.err" ||
	fail "an optional module the kernel lacks stops the resolution"
grep -q 'no module no-such-module-nodegate (optional): left out' "$tmp/optional.err" ||
	fail "a left-out optional module is not named"
"$resolve" "$kver" dm-verity >"$tmp/plain-only.list"
diff -u "$tmp/plain-only.list" "$tmp/optional.list" >/dev/null ||
	fail "a missing optional module changed the list"
"$resolve" "$kver" dm-verity? >"$tmp/present.list" || fail "an optional module that exists fails"
diff -u "$tmp/plain-only.list" "$tmp/present.list" >/dev/null ||
	fail "an optional module that exists is not resolved like a plain one"
if "$resolve" "$kver" no-such-module-nodegate >/dev/null 2>&1; then
	fail "a missing module without ? is not an error"
fi

echo "test-resolve-modules: PASS ($(wc -l <"$tmp/default.list") modules for $kver)"
