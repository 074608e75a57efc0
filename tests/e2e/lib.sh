# SPDX-License-Identifier: GPL-2.0-or-later
# Scenario framework for the QEMU end-to-end tests, after dracut's test/TEST-NN-NAME/test.sh:
# a scenario sets TEST_NAME and TEST_DESCRIPTION, defines test_setup (build its variant image
# from the shared harness artefacts) and test_run (boot, assert on the serial console), then
# calls e2e_main. Exit: 0 pass, 1 fail, 77 skip (only when QEMU or OVMF is missing).
# shellcheck shell=bash
# Variables set here are read by the scenarios that source this file.
# shellcheck disable=SC2034

E2E_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=qemu/lib.sh
source "$E2E_DIR/../../qemu/lib.sh"

: "${TEST_NAME:?a scenario must set TEST_NAME}"
E2E_OUT="$NG_QEMU_OUT/e2e/$TEST_NAME"
# The initramfs under test: the gate's by default, or any other (the reference one proves
# the harness itself).
INITRD=${INITRD:-$NG_BUILD/initrd/initrd.img}
KVER=${KVER:-$(ng_default_kver)}
export KVER
# E2E_REFERENCE=1: INITRD is the reference initramfs (qemu/ref-initrd), whose step lines read
# "nodegate-ref[step]: done"; only the good scenario makes sense with it.
E2E_REFERENCE=${E2E_REFERENCE:-0}
ROOT_DIR="$NG_QEMU_OUT/root"
GOOD_DISK="$NG_QEMU_OUT/disk.img"
ROOTHASH=''
BOOT_LOG='' BOOT_STATUS='' BOOT_WALL_MS=''
e2e_failures=0

e2e_ok() { printf '  ok    %s\n' "$*"; }
e2e_fail() {
        printf '  FAIL  %s\n' "$*"
        e2e_failures=$((e2e_failures + 1))
}

# The serial log as plain text (no escapes, no CRs), cached next to the log.
e2e_text() { printf '%s\n' "$BOOT_LOG.txt"; }

# Builds a UKI of the initramfs under test with the good command line, changed as asked.
# Usage: e2e_mkimage OUT [mkimage.sh options…]
e2e_mkimage() {
        local out=$1
        shift
        "$NG_TOP/qemu/mkimage.sh" --initrd "$INITRD" --kver "$KVER" --out "$out" "$@"
}

# Boots a UKI with a disk and records how it ended. Never fails by itself: the scenario
# asserts on BOOT_STATUS and on the log.
# Usage: e2e_boot NAME UKI DISK [TIMEOUT]
e2e_boot() {
        e2e_boot_disks "$1" "$2" "${4:-${BOOT_TIMEOUT:-240}}" "$3"
}

# The same with any number of disks, attached in the order given (/dev/vda, /dev/vdb, …).
# Usage: e2e_boot_disks NAME UKI TIMEOUT DISK…
e2e_boot_disks() {
        local name=$1 uki=$2 timeout=$3 disk rc=0
        local disk_args=()
        shift 3
        for disk in "$@"; do
                disk_args+=(--disk "$disk")
        done
        BOOT_LOG="$E2E_OUT/$name.log"
        echo "  boot  $name (timeout ${timeout}s, log $BOOT_LOG)"
        "$NG_TOP/qemu/boot.sh" --uki "$uki" "${disk_args[@]}" --log "$BOOT_LOG" \
                --timeout "$timeout" >"$E2E_OUT/$name.boot" 2>&1 || rc=$?
        BOOT_STATUS=$(sed -n 's/^status: //p' "$E2E_OUT/$name.boot")
        BOOT_WALL_MS=$(sed -n 's/^wall_ms: //p' "$E2E_OUT/$name.boot")
        if [[ -z $BOOT_STATUS ]]; then
                sed 's/^/        /' "$E2E_OUT/$name.boot"
                BOOT_STATUS="boot.sh-failed-$rc"
        fi
        ng_clean_log "$BOOT_LOG" >"$(e2e_text)" 2>/dev/null || : >"$(e2e_text)"
        echo "  ended $name: $BOOT_STATUS after $((${BOOT_WALL_MS:-0} / 1000)) s"
}

# The initramfs under test with a small uncompressed cpio archive appended, built by mkcpio
# from SPEC (mkcpio's spec format, sources given as absolute paths). The kernel unpacks the
# archives one after the other into the same rootfs, and a regular file of a later archive
# replaces the one of the same name (it is opened with O_TRUNC), so this changes single files
# of the initramfs without rebuilding it. The kernel looks for the next archive only at a
# 4-byte boundary: the first part is padded with zeros, which the unpacker skips.
# Usage: e2e_overlay_initrd SPEC OUT
e2e_overlay_initrd() {
        local spec=$1 out=$2 mkcpio="$NG_BUILD/initrd/mkcpio" size
        [[ -x $mkcpio ]] || { echo "FAIL $TEST_NAME: $mkcpio missing (run 'make initrd')"; exit 1; }
        "$mkcpio" "$spec" "$out.overlay.cpio" || { echo "FAIL $TEST_NAME: mkcpio refused $spec"; exit 1; }
        cp "$INITRD" "$out"
        size=$(ng_size "$out")
        if ((size % 4)); then
                head -c $((4 - size % 4)) /dev/zero >>"$out"
        fi
        cat "$out.overlay.cpio" >>"$out"
}

# The gate's FAILED line for a failure name, or nothing.
e2e_failed_line() {
        grep -m1 -E "nodegate\[[a-z]+\]: FAILED $1\b" "$(e2e_text)" || true
}

# The FAILED line of failure NAME says what went wrong: it matches ERE.
# Usage: assert_failure_detail NAME ERE DESCRIPTION
assert_failure_detail() {
        local line
        line=$(e2e_failed_line "$1")
        if [[ -z $line ]]; then
                e2e_fail "$3 (no FAILED $1 line)"
        elif grep -qE -- "$2" <<<"$line"; then
                e2e_ok "$3"
        else
                e2e_fail "$3 (/$2/ does not match: ${line#*] })"
        fi
}

# ERE of the line that closes STEP, and the sed expression that extracts the step from it.
e2e_done_re() {
        if ((E2E_REFERENCE)); then
                printf 'nodegate-ref\\[%s\\]: done$' "$1"
        else
                printf 'nodegate\\[%s\\]: done in [0-9]+(\.[0-9]+)? ms' "$1"
        fi
}

assert_status() {
        if [[ $BOOT_STATUS == "$1" ]]; then
                e2e_ok "QEMU ended by $1"
        else
                e2e_fail "QEMU ended by '$BOOT_STATUS', expected $1"
        fi
}

# Usage: assert_log ERE DESCRIPTION / assert_no_log ERE DESCRIPTION
assert_log() {
        if grep -qE -- "$1" "$(e2e_text)"; then
                e2e_ok "$2"
        else
                e2e_fail "$2 (no line matches /$1/)"
        fi
}
assert_no_log() {
        local hit
        if hit=$(grep -E -m1 -- "$1" "$(e2e_text)"); then
                e2e_fail "$2 (found: $hit)"
        else
                e2e_ok "$2"
        fi
}

assert_marker_absent() {
        assert_no_log "$NG_MARKER" "stand-in init never ran (marker absent)"
}

# The gate stopped the boot with the named failure and announced ACTION.
# Usage: assert_gate_stop NAME ACTION
assert_gate_stop() {
        local name=$1 action=$2
        assert_log "nodegate\\[[a-z]+\\]: FAILED $name\\b" "gate reports FAILED $name"
        assert_log "nodegate: boot stopped \\($name\\), action: $action" \
                "gate announces the stop ($name) and the $action action"
}

# The gate stopped the boot with the named failure before switch_root and said it would power
# off, as the command line asks.
assert_gate_failure() {
        assert_gate_stop "$1" poweroff
        assert_no_log 'nodegate\[switch\]: done' "gate never reached switch_root"
}

# Seconds between two printk timestamps (as printed by awk, 3 decimals).
ts_diff() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f\n", b - a }'; }
# True when A >= B, for decimal numbers.
num_ge() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a >= b) }'; }

e2e_main() {
        local f
        echo "TEST $TEST_NAME: $TEST_DESCRIPTION"
        # The only reason to skip: this machine cannot run the VM at all.
        for f in qemu-system-x86_64 swtpm; do
                if ! command -v "$f" >/dev/null 2>&1; then
                        echo "SKIP $TEST_NAME: $f is not installed"
                        exit 77
                fi
        done
        for f in /usr/share/OVMF/OVMF_CODE_4M.fd /usr/share/OVMF/OVMF_VARS_4M.fd; do
                if [[ ! -r $f ]]; then
                        echo "SKIP $TEST_NAME: $f is missing (package ovmf)"
                        exit 77
                fi
        done
        # Missing build artefacts are a failure, not a skip: the tests would pass vacuously.
        for f in "$INITRD" "$ROOT_DIR/roothash" "$ROOT_DIR/root.erofs" "$ROOT_DIR/root.verity" \
                "$ROOT_DIR/tamper-offset" "$GOOD_DISK" "/boot/vmlinuz-$KVER"; do
                [[ -r $f ]] || { echo "FAIL $TEST_NAME: $f missing (run 'make harness initrd')"; exit 1; }
        done
        ROOTHASH=$(cat "$ROOT_DIR/roothash")
        rm -rf "$E2E_OUT"
        mkdir -p "$E2E_OUT"

        test_setup
        test_run

        if ((e2e_failures)); then
                echo "  timeline of the last boot ($BOOT_LOG):"
                [[ -z $BOOT_LOG || ! -r $BOOT_LOG ]] || "$NG_TOP/qemu/timeline.sh" "$BOOT_LOG" | sed 's/^/        /'
                # The kernel drops /dev/kmsg writes beyond 10 per 5 s per open file unless
                # printk.devkmsg=on: name that cause when it shows, it looks like a gate bug.
                if grep -qE 'output lines suppressed due to ratelimiting' "$(e2e_text)"; then
                        echo "  note  the kernel suppressed /dev/kmsg lines (devkmsg ratelimit)"
                fi
                echo "FAIL $TEST_NAME: $e2e_failures assertion(s) failed"
                exit 1
        fi
        echo "PASS $TEST_NAME"
}
