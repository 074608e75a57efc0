# SPDX-License-Identifier: GPL-2.0-or-later
# Shared helpers of the QEMU harness, sourced by qemu/*.sh and tests/e2e/*: naming rules for
# the verity partitions, the heavy-job lock and the constants every script must agree on.
# shellcheck shell=bash
# The constants below are used by the scripts that source this file.
# shellcheck disable=SC2034

NG_TOP=${NG_TOP:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
NG_BUILD=${BUILD:-build}
[[ $NG_BUILD == /* ]] || NG_BUILD="$NG_TOP/$NG_BUILD"
NG_QEMU_OUT="$NG_BUILD/qemu"
NG_HEAVY_LOCK=${NG_HEAVY_LOCK:-/tmp/nodegate-heavy.lock}

# Fixed fallback so that a build from a tarball (no git) is still reproducible.
SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-1700000000}
export SOURCE_DATE_EPOCH

# The line the stand-in init prints on the console: the one proof that the verified root ran.
NG_MARKER='NODEGATE-TEST: stand-in init reached the verified root'
# Its kmsg twin carries a printk timestamp, so the benchmark can time "new init started".
NG_MARKER_KMSG='nodegate-test[init]: started'
# Written into the stand-in's padding only: locates the stand-in's data inside the erofs image.
NG_TAMPER_TAG='NODEGATE-TAMPER-TARGET'

# systemd's Discoverable Partitions Specification types for x86-64.
NG_GPT_ROOT_X86_64='4f68bce3-e8cd-4db1-96e7-fbcaf984b709'
NG_GPT_ROOT_X86_64_VERITY='2c7357ed-ebd2-46d9-aec1-23d437ec2bf5'

# Kernel command line of the good image, around the root hash. No "quiet": the tests read the
# gate's kmsg lines on the serial console. panic=1 with QEMU's -no-reboot turns a kernel panic
# (e.g. PID 1 exiting) into a prompt QEMU exit instead of a hang. No root=: the initramfs's
# /init runs whether or not the kernel knows a root device.
ng_cmdline() {
        local roothash=$1
        shift
        echo "console=ttyS0 roothash=$roothash nodegate.on_failure=poweroff panic=1${*:+ $*}"
}

# The gate's steps, in the order it logs their "done" lines.
NG_STEPS=(setup parse modules devices verity mount switch)

ng_log() { printf '%s: %s\n' "${0##*/}" "$*" >&2; }
ng_die() { ng_log "error: $*"; exit 1; }

ng_need() {
        local t
        for t in "$@"; do
                command -v "$t" >/dev/null 2>&1 || ng_die "$t not found (see .ci/packages)"
        done
}

# Newest Debian kernel that has both its image and its modules installed.
ng_default_kver() {
        local v best=''
        for v in /boot/vmlinuz-*; do
                v=${v#/boot/vmlinuz-}
                [[ -d /lib/modules/$v ]] || continue
                best=$(printf '%s\n%s\n' "$best" "$v" | sed '/^$/d' | sort -V | tail -n 1)
        done
        [[ -n $best ]] || ng_die "no /boot/vmlinuz-* with modules installed"
        printf '%s\n' "$best"
}

# Path of a statically linked busybox (package busybox-static): the root image and the reference
# initramfs carry no C library for it.
ng_static_busybox() {
        local b
        b=$(command -v busybox) || ng_die "busybox not found (package busybox-static)"
        if [[ $(readelf -lW "$b") == *INTERP* ]]; then
                ng_die "$b is dynamically linked: install busybox-static"
        fi
        printf '%s\n' "$b"
}

# 32 hex digits → the 8-4-4-4-12 text form of a UUID, byte for byte (no field swapping: the
# text form is what blkid reports as PARTUUID and what sfdisk takes).
ng_hex_to_uuid() {
        local h=${1,,}
        [[ $h =~ ^[0-9a-f]{32}$ ]] || ng_die "not 128 bits of hex: $1"
        printf '%s-%s-%s-%s-%s\n' "${h:0:8}" "${h:8:4}" "${h:12:4}" "${h:16:4}" "${h:20:12}"
}

# A stable UUID for a name, so every image built from the same SOURCE_DATE_EPOCH is identical.
# Hash-derived on purpose instead of random; the version/variant bits are set so that tools
# which validate UUIDs (mkfs.erofs, veritysetup) accept it.
ng_stable_uuid() {
        local h
        h=$(printf 'nodegate %s %s' "$SOURCE_DATE_EPOCH" "$1" | sha256sum | cut -c1-32)
        h="${h:0:12}4${h:13:3}$(printf '%x' $(( (0x${h:16:1} & 3) | 8 )))${h:17:15}"
        ng_hex_to_uuid "$h"
}

# The PARTUUIDs that systemd expects for a verity root, given its root hash.
#
# systemd (src/shared/dissect-image.c, dissect_image()) copies the first 16 bytes of the root
# hash into the sd_id128_t it expects as the root partition's UUID, and the last 16 bytes into
# the one it expects as the verity partition's UUID, then compares them with sd_id128_equal()
# against the PARTUUID that libblkid reports. Nothing touches the version or variant bits: the
# UUID's text form is simply the hex of those bytes, in order (mkosi and systemd-repart build
# images the same way, e.g. mkosi's uuid.UUID(root_hash[:32])). A root hash whose first or last
# 16 bytes are all zero is rejected. The gate implements the same rule.
ng_roothash_data_partuuid() {
        local h=${1,,}
        [[ $h =~ ^[0-9a-f]{64,}$ ]] || ng_die "bad root hash: $1"
        ng_hex_to_uuid "${h:0:32}"
}
ng_roothash_hash_partuuid() {
        local h=${1,,}
        [[ $h =~ ^[0-9a-f]{64,}$ ]] || ng_die "bad root hash: $1"
        ng_hex_to_uuid "${h: -32}"
}

# Runs a heavy command (QEMU boot, big build) under the team-wide lock, so that only one
# runs at a time on this 2-core machine. Re-entrant through the environment: a script that
# already holds the lock runs nested heavy commands directly instead of deadlocking.
ng_heavy() {
        if [[ ${NG_HEAVY_LOCKED:-} == 1 ]]; then
                "$@"
        else
                NG_HEAVY_LOCKED=1 flock "$NG_HEAVY_LOCK" "$@"
        fi
}

# The serial log without OVMF's terminal escapes and without CRs, for grep.
ng_clean_log() { sed -e 's/\x1b\[[0-9;?]*[A-Za-z]//g' -e 's/\r$//' -e 's/\r/\n/g' "$1"; }

# The printk timestamp (seconds) of the first console line matching an ERE, or nothing.
# awk reads to the end instead of stopping at the first match: an early exit would kill the
# writer with SIGPIPE, which pipefail turns into a failure of the whole function.
ng_log_ts() {
        # The ERE goes through the environment: awk -v would interpret its backslashes.
        ng_clean_log "$1" | NG_RE=$2 awk '
                !found && $0 ~ ENVIRON["NG_RE"] && match($0, /^\[ *[0-9]+\.[0-9]+\]/) {
                        ts = substr($0, 2, RLENGTH - 2); sub(/^ +/, "", ts); found = 1
                }
                END { if (found) print ts }'
}

# Size of a file in bytes, and rounding helpers for partition placement.
ng_size() { stat -c %s "$1"; }
ng_roundup() { echo $(( ($1 + $2 - 1) / $2 * $2 )); }

# Timestamps of the stamp files in images, so identical inputs give identical bytes.
ng_touch_tree() { find "$1" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +; }
