#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Unit test of initrd/mkcpio: archives are valid newc (checked by newc.py and by GNU cpio),
# round-trip with the modes, owners, device numbers and mtime of the spec, do not depend on the
# order of the spec, and every bad spec line is refused with its line number.
# Usage: test-mkcpio.sh MKCPIO
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/initrd/lib.sh
. "$here/lib.sh"

[[ $# -eq 1 ]] || { echo "usage: $0 MKCPIO" >&2; exit 2; }
mkcpio=$(realpath -e -- "$1")
need cpio python3

tmp=$(mktemp -d "${TMPDIR:-/tmp}/test-mkcpio.XXXXXX")
cleanup() { rm -rf -- "$tmp"; }
trap cleanup EXIT
cd "$tmp"

export SOURCE_DATE_EPOCH=1234567890

# --- a good archive ---------------------------------------------------------------------------
mkdir src
printf '#!/bin/false\n' >src/exe     # 13 bytes: data padding is exercised
printf 'abc' >src/odd                 # 3 bytes
: >src/empty
head -c 70001 /dev/urandom >src/big   # more than one read() buffer
# Out of order on purpose, children before parents, with comments, blanks and odd spacing:
# mkcpio must sort.
cat >spec <<EOF
# comment line

file /usr/bin/tool $tmp/src/exe 0755 0 0
	dir   /usr/bin 0755 0 0
dir /usr 0755 0 0
nod /dev/console 0600 0 0 c 5 1
nod /dev/sda 0660 0 6 b 8 0
dir /dev 0755 0 0
   # indented comment
file /etc/odd $tmp/src/odd 0640 1000 1001
file /etc/empty $tmp/src/empty 0600 0 0
file /etc/big $tmp/src/big 0644 0 0
dir /etc 0700 0 0
slink /bin usr/bin 0777 0 0
dir /usr/lib 0755 0 0
dir /usr/lib/x 0755 0 0
file /suid $tmp/src/exe 4755 0 0
EOF
"$mkcpio" spec good.cpio || fail "mkcpio refused a good spec"

python3 "$here/newc.py" list good.cpio >listing || fail "newc.py rejects mkcpio's archive"
# ino mode uid gid nlink mtime size rmajor rminor name: every field from the spec, dirs' nlink
# from their subdirectories, inodes in sorted order.
cat >want <<EOF
1 120777 0 0 1 1234567890 7 0 0 bin
2 40755 0 0 2 1234567890 0 0 0 dev
3 20600 0 0 1 1234567890 0 5 1 dev/console
4 60660 0 6 1 1234567890 0 8 0 dev/sda
5 40700 0 0 2 1234567890 0 0 0 etc
6 100644 0 0 1 1234567890 70001 0 0 etc/big
7 100600 0 0 1 1234567890 0 0 0 etc/empty
8 100640 1000 1001 1 1234567890 3 0 0 etc/odd
9 104755 0 0 1 1234567890 13 0 0 suid
10 40755 0 0 4 1234567890 0 0 0 usr
11 40755 0 0 2 1234567890 0 0 0 usr/bin
12 100755 0 0 1 1234567890 13 0 0 usr/bin/tool
13 40755 0 0 3 1234567890 0 0 0 usr/lib
14 40755 0 0 2 1234567890 0 0 0 usr/lib/x
EOF
diff -u want listing || fail "archive entries differ from the spec"
python3 "$here/newc.py" extract good.cpio etc/big | cmp - src/big || fail "etc/big data differs"

# GNU cpio agrees on the format and on the device nodes (listing works without root).
cpio -itv --quiet <good.cpio >cpio-listing 2>cpio-err || fail "GNU cpio cannot list: $(cat cpio-err)"
grep -Eq '^crw------- +1 root +root +5, +1 .* dev/console$' cpio-listing ||
	fail "dev/console not a char device 5,1 for GNU cpio: $(cat cpio-listing)"
grep -Eq '^brw-rw---- +1 root +[a-z0-9]+ +8, +0 .* dev/sda$' cpio-listing ||
	fail "dev/sda not a block device 8,0 for GNU cpio"

# Round trip through GNU cpio -i (device nodes left out: mknod needs root).
mkdir out
(cd out && cpio -idm --quiet --no-absolute-filenames -f 'dev/*' <../good.cpio) ||
	fail "GNU cpio cannot extract"
check_stat() { # PATH MODE(octal, as stat %a) MTIME
	local got
	got=$(stat -c '%a %Y' "out/$1")
	[[ $got == "$2 $3" ]] || fail "out/$1: mode/mtime '$got', expected '$2 $3'"
}
check_stat usr/bin/tool 755 "$SOURCE_DATE_EPOCH"
check_stat etc/odd 640 "$SOURCE_DATE_EPOCH"
check_stat etc/empty 600 "$SOURCE_DATE_EPOCH"
check_stat suid 4755 "$SOURCE_DATE_EPOCH"
check_stat usr/lib/x 755 "$SOURCE_DATE_EPOCH"
# GNU cpio sets a directory's mtime before filling it, so only its mode survives extraction;
# the archived mtime of every directory is checked in the listing above.
[[ $(stat -c %a out/etc) == 700 ]] || fail "out/etc: mode $(stat -c %a out/etc), expected 700"
cmp out/usr/bin/tool src/exe || fail "usr/bin/tool content differs"
cmp out/etc/big src/big || fail "etc/big content differs"
[[ $(readlink out/bin) == usr/bin ]] || fail "symlink target wrong: $(readlink out/bin)"
[[ -d out/dev && ! -e out/dev/console ]] || fail "dev/ extraction filter did not work"

# --- determinism ------------------------------------------------------------------------------
"$mkcpio" spec again.cpio
cmp good.cpio again.cpio || fail "two runs on the same spec differ"
# Reversed spec, sources touched: same bytes (order and host timestamps do not leak).
tac spec >spec.rev
touch -d '2001-01-01' src/*
"$mkcpio" spec.rev reversed.cpio
cmp good.cpio reversed.cpio || fail "spec order or source mtimes change the archive"
# And the test can see a difference: another SOURCE_DATE_EPOCH must change the bytes.
SOURCE_DATE_EPOCH=1234567891 "$mkcpio" spec other.cpio
! cmp -s good.cpio other.cpio || fail "SOURCE_DATE_EPOCH is not used"
# stdin/stdout form
"$mkcpio" - - <spec >piped.cpio
cmp good.cpio piped.cpio || fail "stdin/stdout output differs"

# --- SOURCE_DATE_EPOCH is required and checked --------------------------------------------------
for sde in UNSET "" abc -1 4294967296 12x; do
	rm -f sde.cpio
	if [[ $sde == UNSET ]]; then
		env -u SOURCE_DATE_EPOCH "$mkcpio" spec sde.cpio 2>err && rc=0 || rc=$?
	else
		SOURCE_DATE_EPOCH=$sde "$mkcpio" spec sde.cpio 2>err && rc=0 || rc=$?
	fi
	[[ $rc -ne 0 ]] || fail "SOURCE_DATE_EPOCH='$sde' accepted"
	grep -q SOURCE_DATE_EPOCH err || fail "SOURCE_DATE_EPOCH='$sde': unclear error: $(cat err)"
	[[ ! -e sde.cpio ]] || fail "SOURCE_DATE_EPOCH='$sde' left an output file"
done
SOURCE_DATE_EPOCH=4294967295 "$mkcpio" spec max.cpio || fail "largest 32-bit mtime refused"

# --- bad spec lines: one row per case, the bad line is always line 3 --------------------------
mkdir notadir
bad_cases=(
	"frob /x 0755 0 0|unknown entry type"
	"pipe /x 0644 0 0|not supported"
	"dir /x 0755 0|too few fields"
	"dir /x 0755 0 0 extra|too many fields"
	"file /x $tmp/src/odd 0644 0 0 /y|hardlinks are not supported"
	"dir x 0755 0 0|path must be absolute"
	"dir / 0755 0 0|must not be /"
	"dir /a/../b 0755 0 0|. or .. components"
	"dir /a/./b 0755 0 0|. or .. components"
	"dir /a//b 0755 0 0|//"
	"dir /a/ 0755 0 0|must not end with /"
	"dir /x 0758 0 0|mode must be octal"
	"dir /x 10000 0 0|mode must be octal"
	"dir /x rwx 0 0|mode must be octal"
	"dir /x 0755 -1 0|uid must be"
	"dir /x 0755 0 4294967296|gid must be"
	"dir /x 0755 0x1 0|uid must be"
	"nod /x 0600 0 0 p 1 3|device type must be c or b"
	"nod /x 0600 0 0 c 4096 0|major must be"
	"nod /x 0600 0 0 c 1 1048576|minor must be"
	"nod /x 0600 0 0 c 1|too few fields"
	"slink /x 0777 0 0|too few fields"
	"dir /a 0755 0 0|already defined on line 2"
	"dir /b/c 0755 0 0|parent /b of /b/c is not in the spec"
	"dir /f/c 0755 0 0|parent /f of /f/c is not a directory"
	"file /y $tmp/does-not-exist 0644 0 0|No such file"
	"file /y $tmp/notadir 0644 0 0|not a regular file"
)
for row in "${bad_cases[@]}"; do
	line=${row%|*} want=${row##*|}
	printf '# header\ndir /a 0755 0 0\n%s\nfile /f %s 0644 0 0\n' "$line" "$tmp/src/odd" >bad.spec
	rm -f bad.cpio
	"$mkcpio" bad.spec bad.cpio 2>err && rc=0 || rc=$?
	[[ $rc -ne 0 ]] || fail "accepted bad line '$line'"
	grep -qF "bad.spec:3: " err || fail "'$line': error does not name line 3: $(cat err)"
	grep -qF -- "$want" err || fail "'$line': expected '$want' in: $(cat err)"
	[[ ! -e bad.cpio ]] || fail "'$line' left a partial archive behind"
done
# A NUL byte cannot be represented in a path: refused, not truncated.
printf 'dir /a 0755 0 0\ndir /b\0c 0755 0 0\n' >nul.spec
! "$mkcpio" nul.spec nul.cpio 2>err || fail "NUL byte in a spec line accepted"
grep -qF 'nul.spec:2: NUL byte' err || fail "NUL byte: unclear error: $(cat err)"
# Usage errors
! "$mkcpio" spec 2>/dev/null || fail "missing OUTPUT accepted"
! "$mkcpio" "$tmp/no-such-spec" x.cpio 2>/dev/null || fail "missing spec file accepted"

echo "test-mkcpio: PASS (${#bad_cases[@]} bad-line cases)"
