#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# `policy from-uki` on UKIs built on a Debian systemd-stub — 257 of Debian 13 (qemu/debian13.lock)
# or 262 of sid (qemu/debian-sid.lock), unpacked by qemu/fetch-debian13.sh — against independent
# implementations of the same version, without a boot:
# - PCR 11 against that version's systemd-measure calculate (--phase=: : the value right after
#   the stub, before any boot phase word), for a UKI assembled by its ukify and one by
#   qemu/mkuki.sh (objcopy), and for a single-profile UKI with the profile's sections as the stub
#   picks them;
# - PCR 9 recomputed here in Python from the sections: the command line as mangle_stub_cmdline()
#   leaves it, in UTF-16, and the initrd as combine_initrds() hands it over (.initrd padded to 4,
#   then the /.extra/os-release cpio archive, and /.extra/profile for a profile);
# - refusals by name: the next stub version (the stub patched to say it), a multi-profile UKI,
#   and for 262 .efifw and a command line without console=; no policy printed.
# systemd-measure 257 needs glibc >= 2.39 and OpenSSL >= 3.4, newer than bookworm's: it runs
# through the unpacked trixie ld.so with the unpacked libraries first. 262's needs glibc 2.34 and
# OpenSSL 3: the host's, with the unpacked libsystemd-shared first.
# Usage: test-stub.sh VERIFIER KERNEL INITRD ROOT (build/debian13/root or build/debian-sid/root)
# ok and bad always return 0, so "A && ok || bad" is an if-then-else here.
# shellcheck disable=SC2015
set -euo pipefail
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
[[ $# -eq 4 ]] || { echo "usage: $0 VERIFIER KERNEL INITRD ROOT" >&2; exit 2; }
verifier=$(realpath -e -- "$1")
kernel=$(realpath -e -- "$2")
initrd=$(realpath -e -- "$3")
root=$(realpath -e -- "$4")
stub=$root/usr/lib/systemd/boot/efi/linuxx64.efi.stub
libdir=$root/usr/lib/x86_64-linux-gnu
for f in "$stub" "$root/usr/lib/systemd/systemd-measure" "$root/usr/lib/systemd/ukify"; do
        [[ -e $f ]] || { echo "FAIL: $f missing (qemu/fetch-debian13.sh)"; exit 1; }
done
measure() {
        if [[ -e $libdir/ld-linux-x86-64.so.2 ]]; then
                "$libdir/ld-linux-x86-64.so.2" \
                        --library-path "$libdir/systemd:$libdir:/lib/x86_64-linux-gnu:/usr/lib/x86_64-linux-gnu" \
                        "$root/usr/lib/systemd/systemd-measure" "$@"
        else
                LD_LIBRARY_PATH=$libdir/systemd:$libdir "$root/usr/lib/systemd/systemd-measure" "$@"
        fi
}
ukify() { PYTHONPATH=$root/usr/lib/python3/dist-packages python3 "$root/usr/lib/systemd/ukify" "$@"; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/test-stub.XXXXXX")
cleanup() { rm -rf -- "$tmp"; }
trap cleanup EXIT
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-1700000000}
passed=0 failed=0
ok() { echo "  ok    $*"; passed=$((passed + 1)); }
bad() { echo "  FAIL  $*"; failed=$((failed + 1)); }
same() { # WHAT WANT HAVE
        if [[ -n $2 && ${2,,} == "${3,,}" ]]; then ok "$1: ${2:0:16}…"; else bad "$1: $2 != $3"; fi
}
predicted() { awk -v w="$2" 'index($0, " " w) && $1 == "event" { print $4; exit }' "$1"; }
pcr() { awk -v p="$2" '$1 == "pcr" && $2 == p { print $3 }' "$1"; }

stub_version=$(strings "$stub" | sed -n 's/^#### LoaderInfo: systemd-stub \(.*\) ####$/\1/p')
major=${stub_version%%.*}
echo "== systemd-stub $stub_version, $(measure --version | head -n 1), $(ukify --version)"

# Whitespace the stub mangles: leading, trailing, a tab and a double space inside.
cmdline=$'  console=ttyS0\troothash='"$(printf '%064x' 1)"'  nodegate.url=https://10.0.2.2:8443 quiet '
printf 'ID=nodegate-test\nVERSION_ID=13\n' >"$tmp/os-release"
ukify build --linux "$kernel" --initrd "$initrd" --cmdline "$cmdline" --os-release "@$tmp/os-release" \
        --uname test-uname --stub "$stub" --output "$tmp/ukify.efi" >/dev/null 2>"$tmp/ukify.log" ||
        { cat "$tmp/ukify.log"; bad "ukify build"; }
"$top/qemu/mkuki.sh" --stub "$stub" --kernel "$kernel" --initrd "$initrd" --cmdline "$cmdline" \
        --osrel "$tmp/os-release" --uname test-uname --out "$tmp/mkuki.efi" 2>/dev/null

# sections FILE UKI NAME…: extract each present section; prints systemd-measure's options.
sections() {
        local uki=$1 dir=$2 s
        shift 2
        mkdir -p "$dir"
        for s in "$@"; do
                objdump -h "$uki" | awk -v n=".$s" '$2 == n { f = 1 } END { exit !f }' || continue
                objcopy -O binary --only-section=".$s" "$uki" "$dir/$s"
                printf -- '--%s=%s\n' "$s" "$dir/$s"
        done
}
measured() { # JSON → the sha256 bank's PCR 11
        python3 -c 'import json, sys; print(json.load(sys.stdin)["sha256"][0]["hash"])'
}
# The PCR 9 events recomputed from the extracted sections: prints the command line's and the
# initrd's digests. The cpio layout is newc as src/boot/cpio.c writes it (inode 1: the .extra
# directory, 0555; inode 2: the file, 0444; mtime, owners 0; the stub's trailer).
pcr9() { # DIR [PROFILE-FILE]
        python3 - "$@" <<'PY'
import hashlib, os, sys
d = sys.argv[1]
profile = sys.argv[2] if len(sys.argv) > 2 else None
raw = open(os.path.join(d, "cmdline"), "rb").read().split(b"\0")[0]
ws = lambda c: c <= 0x20 or c == 0x7f
s = bytes(0x20 if ws(c) else c for c in raw).strip(bytes(range(0x21)) + b"\x7f")
print(hashlib.sha256(s.decode("ascii").encode("utf-16-le") + b"\0\0").hexdigest())
def pad(b): return b + b"\0" * (-len(b) % 4)
def hdr(ino, mode, size, namesize):
    f = [ino, mode, 0, 0, 1, 0, size, 0, 0, 0, 0, namesize, 0]
    return b"070701" + b"".join(b"%08x" % v for v in f)
def cpio(name, data):
    out = pad(hdr(1, 0o40555, 0, 7) + b".extra\0")
    fn = b".extra/" + name.encode() + b"\0"
    out += pad(hdr(2, 0o100444, len(data), len(fn)) + fn) + pad(data)
    return out + b"070701" + b"0" * 32 + b"00000001" + b"0" * 48 + b"0000000B" + b"0" * 8 + b"TRAILER!!!\0\0\0\0"
parts = [open(os.path.join(d, "initrd"), "rb").read(), cpio("os-release", open(os.path.join(d, "osrel"), "rb").read())]
if profile:
    parts.append(cpio("profile", open(profile, "rb").read()))
print(hashlib.sha256(b"".join(pad(p) for p in parts)).hexdigest())
PY
}

check_uki() { # NAME UKI
        local name=$1 uki=$2 dir=$tmp/$1 want
        local -a opts
        "$verifier" policy from-uki "$uki" --events >"$dir.events" 2>"$dir.err" ||
                { bad "$name: from-uki refused: $(cat "$dir.err")"; return; }
        grep -q "systemd-stub $stub_version," "$dir.events" && ok "$name: stub version read from .sdmagic" ||
                bad "$name: stub version not $stub_version: $(head -n 1 "$dir.events")"
        mapfile -t opts < <(sections "$uki" "$dir" linux osrel cmdline initrd ucode splash dtb uname sbat pcrpkey hwids)
        want=$(measure calculate "${opts[@]}" --bank=sha256 --phase=: --json=short | measured)
        same "$name: PCR 11 = systemd-measure $stub_version calculate (${#opts[@]} sections)" "$want" "$(pcr "$dir.events" 11)"
        for s in uname sbat; do
                grep -q "section name .$s\$" "$dir.events" && ok "$name: .$s measured ($major does)" ||
                        bad "$name: .$s not measured"
        done
        mapfile -t want < <(pcr9 "$dir")
        same "$name: PCR 9 command line, mangled" "${want[0]}" "$(predicted "$dir.events" 'Linux EFI stub: LoadOptions')"
        same "$name: PCR 9 initrd, .initrd + /.extra/os-release cpio" "${want[1]}" \
                "$(predicted "$dir.events" 'Linux EFI stub: initrd')"
}

echo "== ukify $major"
check_uki ukify "$tmp/ukify.efi"
echo "== qemu/mkuki.sh (objcopy)"
check_uki mkuki "$tmp/mkuki.efi"
# What differs between the two layouts: ukify normalises the command line it is given
# (' '.join(split())), and merges the kernel's SBAT entries and its own "uki" line into .sbat;
# the other sections are the same bytes in the same order.
for s in osrel uname linux initrd; do
        cmp -s "$tmp/ukify/$s" "$tmp/mkuki/$s" || bad "ukify and mkuki.sh differ in .$s"
done
read -ra words <<<"$cmdline"
[[ $(cat "$tmp/ukify/cmdline") == "${words[*]}" ]] && ok "ukify's .cmdline is the command line with its whitespace collapsed, mkuki.sh's as given" ||
        bad "ukify's .cmdline: $(cat -A "$tmp/ukify/cmdline")"
cmp -s "$tmp/ukify/sbat" "$tmp/mkuki/sbat" && bad "ukify kept the stub's .sbat as it is" ||
        ok "ukify's .sbat is its merge (stub + kernel + uki), mkuki.sh keeps the stub's; both predicted from the file"
order() { objdump -h "$1" | awk '$1 ~ /^[0-9]+$/ { printf "%s ", $2 }'; }
[[ $(order "$tmp/ukify.efi") == "$(order "$tmp/mkuki.efi")" ]] && ok "same section order: $(order "$tmp/ukify.efi")" ||
        bad "section order: ukify $(order "$tmp/ukify.efi") mkuki.sh $(order "$tmp/mkuki.efi")"

echo "== a single-profile UKI: ukify build --profile (.profile first, every section of profile 0)"
printf 'ID=profile-zero\nTITLE=Zero' >"$tmp/profile"
printf 'console=ttyS0 profile=0' >"$tmp/pcmdline"
ukify build --linux "$kernel" --initrd "$initrd" --cmdline "@$tmp/pcmdline" --os-release "@$tmp/os-release" \
        --uname test-uname --profile "@$tmp/profile" --stub "$stub" --output "$tmp/one.efi" \
        >/dev/null 2>"$tmp/ukify.log" || { cat "$tmp/ukify.log"; bad "ukify build --profile"; }
echo "  sections: $(objdump -h "$tmp/one.efi" | awk '$1 ~ /^[0-9]+$/ { printf "%s ", $2 }')"
if "$verifier" policy from-uki "$tmp/one.efi" --events >"$tmp/one.events" 2>"$tmp/one.err"; then
        mapfile -t opts < <(sections "$tmp/one.efi" "$tmp/one" linux osrel cmdline initrd uname sbat profile)
        m=$(measure calculate "${opts[@]}" --bank=sha256 --phase=: --json=short | measured)
        same "profile 0: PCR 11 = systemd-measure calculate (.profile included)" "$m" "$(pcr "$tmp/one.events" 11)"
        mapfile -t want < <(pcr9 "$tmp/one" "$tmp/profile")
        same "profile 0: PCR 9 command line" "${want[0]}" "$(predicted "$tmp/one.events" 'Linux EFI stub: LoadOptions')"
        same "profile 0: PCR 9 initrd with /.extra/profile" "${want[1]}" "$(predicted "$tmp/one.events" 'Linux EFI stub: initrd')"
else
        bad "single-profile UKI refused: $(cat "$tmp/one.err")"
fi

# ukify --join-profile always makes the base a profile too ("ID=main"): two profiles. ukify
# 257.13 (and 262.1) refuses a profile PE whose first known section is not .profile, and Debian's stub has
# .sbat: the profile PE is built on a copy of the stub without it (only its .profile and
# .cmdline are joined).
objcopy --remove-section=.sbat "$stub" "$tmp/stub-nosbat.efi"
ukify build --stub "$tmp/stub-nosbat.efi" --profile "@$tmp/profile" --cmdline "@$tmp/pcmdline" \
        --output "$tmp/p1.efi" >/dev/null 2>"$tmp/ukify.log" || { cat "$tmp/ukify.log"; bad "ukify build (profile PE)"; }
ukify build --linux "$kernel" --initrd "$initrd" --cmdline "base cmdline" --os-release "@$tmp/os-release" \
        --uname test-uname --stub "$stub" --join-profile "$tmp/p1.efi" --output "$tmp/two.efi" \
        >/dev/null 2>"$tmp/ukify.log" || { cat "$tmp/ukify.log"; bad "ukify --join-profile"; }

echo "== refused by name, no policy printed"
refused() { # WHAT UKI MESSAGE
        if "$verifier" policy from-uki "$2" >"$tmp/out" 2>"$tmp/err"; then
                bad "$1: accepted"
        elif grep -qF -- "$3" "$tmp/err" && [[ ! -s $tmp/out ]]; then
                ok "$1: $(cat "$tmp/err")"
        else
                bad "$1: $(cat "$tmp/err") (stdout $(stat -c %s "$tmp/out") bytes)"
        fi
}
refused "two profiles" "$tmp/two.efi" "multi-profile UKI (2 .profile sections)"
# The same stub saying the next version (same length, so nothing else moves).
other=${stub_version/#$major/$((major + 1))}
python3 - "$stub" "$tmp/stub-next.efi" "$stub_version" "$other" <<'PY'
import sys
src, dst, old, new = sys.argv[1:]
b = open(src, "rb").read()
assert len(old) == len(new) and b.count(old.encode()) >= 1
open(dst, "wb").write(b.replace(old.encode(), new.encode()))
PY
"$top/qemu/mkuki.sh" --stub "$tmp/stub-next.efi" --kernel "$kernel" --initrd "$initrd" --cmdline "x" \
        --osrel "$tmp/os-release" --out "$tmp/next.efi" 2>/dev/null
refused "systemd-stub $other" "$tmp/next.efi" "systemd-stub $other is not modelled (supported: 252, 257, 262)"
if ((major >= 262)); then
        # What 262 adds that the UKI does not decide: firmware picked per machine, and a console=
        # appended to a command line without one.
        printf 'FIRMWARE' >"$tmp/efifw"
        "$top/qemu/mkuki.sh" --stub "$stub" --kernel "$kernel" --initrd "$initrd" --cmdline "console=ttyS0" \
                --osrel "$tmp/os-release" --out "$tmp/nofw.efi" 2>/dev/null
        objcopy --add-section .efifw="$tmp/efifw" --set-section-flags .efifw=data,readonly \
                --change-section-vma .efifw=0x10000000 "$tmp/nofw.efi" "$tmp/efifw.efi" 2>/dev/null
        refused ".efifw section" "$tmp/efifw.efi" ".efifw: systemd-stub $major measures it"
        "$top/qemu/mkuki.sh" --stub "$stub" --kernel "$kernel" --initrd "$initrd" --cmdline "quiet root=/dev/vda" \
                --osrel "$tmp/os-release" --out "$tmp/noconsole.efi" 2>/dev/null
        refused "a command line without console=" "$tmp/noconsole.efi" "systemd-stub $major appends a console="
fi

echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
