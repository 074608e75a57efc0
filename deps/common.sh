# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash disable=SC2034
# Paths and lock-file access shared by deps/fetch.sh and deps/build.sh (sourced, not run).

DEPS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(dirname "$DEPS_DIR")
LOCK_FILE="$DEPS_DIR/sources.lock"
# Fixes applied to a pinned source after unpacking: patches/NAME/*.patch, in name order.
PATCH_DIR="$DEPS_DIR/patches"
# Patches of the Debian series deliberately left out, with reasons.
DEBIAN_SKIP_FILE="$DEPS_DIR/debian-patches.skip"

# make passes an absolute BUILD; a relative one from a shell means the repo's build/.
BUILD=${BUILD:-build}
case "$BUILD" in
/*) ;;
*) BUILD="$REPO_ROOT/$BUILD" ;;
esac
DEPS_BUILD="$BUILD/deps"
SRC_DIR="$DEPS_BUILD/src"
WORK_DIR="$DEPS_BUILD/work"
PREFIX="$DEPS_BUILD/prefix"
STAMP_DIR="$DEPS_BUILD/stamps"
DONE_STAMP="$DEPS_BUILD/.done"

die() {
	printf '%s: %s\n' "${0##*/}" "$*" >&2
	exit 1
}

# Prints the lock rows without comments:
# name source version suite orig-tarball sha256 debian-tarball sha256 ("-" for none).
lock_rows() {
	awk '!/^[[:space:]]*(#|$)/ { print $1, $2, $3, $4, $5, $6, $7, $8 }' "$LOCK_FILE"
}

# lock_field NAME COLUMN: one column (1-based, as in lock_rows) of the row named NAME.
lock_field() {
	local v
	v=$(awk -v n="$1" -v c="$2" '!/^[[:space:]]*(#|$)/ && $1 == n { print $c }' "$LOCK_FILE")
	[[ -n "$v" ]] || die "$1: no such library in ${LOCK_FILE#"$REPO_ROOT"/}"
	printf '%s\n' "$v"
}

# Both scripts may be started concurrently (make -j deps all); one at a time owns build/deps.
take_deps_lock() {
	mkdir -p "$DEPS_BUILD"
	exec 8>"$DEPS_BUILD/.lock"
	flock 8
}
