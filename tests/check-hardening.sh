#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The hardening the gate binary must carry, checked on the artefacts rather than on the flags
# that were meant to produce it: static-pie (ASLR for PID 1 of the initramfs, no loader), full
# RELRO, a non-executable stack, and the stack protector in the gate's own objects and in every
# library it links.
# Usage: check-hardening.sh NODEGATE DEPS_LIB_DIR GATE_OBJECT...
set -euo pipefail

binary=$1 lib_dir=$2
shift 2
gate_objs=("$@")
failed=0
fail() {
	echo "check-hardening: $*" >&2
	failed=1
}

headers=$(readelf -W -h -l -d "$binary")
grep -qE 'Type:[[:space:]]+DYN' <<<"$headers" || fail "$binary is not position independent (ELF type is not DYN)"
grep -q 'INTERP' <<<"$headers" && fail "$binary asks for a program interpreter: it is not static"
grep -q '(NEEDED)' <<<"$headers" && fail "$binary needs shared libraries"
grep -qE '\(FLAGS_1\).*PIE' <<<"$headers" || fail "$binary has no DF_1_PIE flag: not static-pie"
grep -qE '\(FLAGS_1\).*NOW|\(BIND_NOW\)' <<<"$headers" || fail "$binary is not linked -z now"
grep -q 'GNU_RELRO' <<<"$headers" || fail "$binary has no RELRO segment"
grep -E 'GNU_STACK' <<<"$headers" | grep -q 'RWE' && fail "$binary has an executable stack"

# An object compiled with -fstack-protector-strong calls __stack_chk_fail from every function
# with a local array or an address-taken local; a library none of whose objects does was built
# without it.
protected() {
	nm -A "$@" 2>/dev/null | awk '$NF == "__stack_chk_fail" { split($1, p, ":"); print p[1] ":" p[2] }' |
		sort -u | wc -l
}
n=$(protected "${gate_objs[@]}")
((n > 0)) || fail "no object of the gate calls __stack_chk_fail: built without the stack protector"
summary="gate objects: $n of ${#gate_objs[@]} with a guarded function"
for lib in libmbedtls libmbedx509 libmbedcrypto libcurl libtss2-esys libtss2-sys libtss2-mu \
	libtss2-tcti-device libtss2-rc libcryptsetup libdevmapper libnettle libjson-c libblkid libuuid; do
	archive="$lib_dir/$lib.a"
	[[ -f "$archive" ]] || {
		fail "$archive missing"
		continue
	}
	n=$(protected "$archive")
	total=$(ar t "$archive" | grep -c '\.o$' || true)
	((n > 0)) || fail "$lib: none of its $total objects calls __stack_chk_fail: built without the stack protector"
	summary+=", $lib $n/$total"
done
echo "check-hardening: $(file -b "$binary" | cut -d, -f1-2), static-pie, full RELRO, NX stack"
echo "check-hardening: stack protector: $summary"
exit "$failed"
