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
# The stand-in kubelet's line when it found the gate's kubeconfig and its token.
NG_KUBELET_MARKER='NODEGATE-TEST: kubelet: started'
# Where the gate leaves the bootstrap kubeconfig (a tmpfs it moves into the new root).
NG_KUBECONFIG=/run/nodegate/bootstrap-kubelet.conf

# The verifier as the guest sees it. QEMU user networking maps 10.0.2.2 to the host's loopback,
# and the URL is measured with the command line, so it is fixed: every boot of one image must
# reach "the" verifier at the same address. The scenarios run in a network namespace of their
# own (tests/e2e/lib.sh), where these ports are always free. The answer port serves the gate's
# recorded answer to the stand-in (the unseal-again scenario); nothing listens there otherwise.
NG_VERIFIER_PORT=8443
NG_ANSWER_PORT=8444
NG_VERIFIER_URL="https://10.0.2.2:$NG_VERIFIER_PORT"
NG_ANSWER_ADDR="10.0.2.2:$NG_ANSWER_PORT"
# The CA bundle's path inside the test initramfs (initrd/mkinitrd.sh --ca).
NG_INITRD_CA=/etc/nodegate/ca.pem
# The API server the test verifier puts in every kubeconfig (nothing listens there).
NG_API_SERVER=https://10.0.0.1:6443

# systemd's Discoverable Partitions Specification types for x86-64.
NG_GPT_ROOT_X86_64='4f68bce3-e8cd-4db1-96e7-fbcaf984b709'
NG_GPT_ROOT_X86_64_VERITY='2c7357ed-ebd2-46d9-aec1-23d437ec2bf5'

# Kernel command line of the good image, around the root hash. No "quiet": the tests read the
# gate's kmsg lines on the serial console. panic=1 with QEMU's -no-reboot turns a kernel panic
# (e.g. PID 1 exiting) into a prompt QEMU exit instead of a hang. No root=: the initramfs's
# /init runs whether or not the kernel knows a root device. ip=dhcp: QEMU's user networking
# serves DHCP; nodegate.url= is the verifier (its CA is nodegate.ca='s default, NG_INITRD_CA).
ng_cmdline() {
        local roothash=$1
        shift
        echo "console=ttyS0 roothash=$roothash ip=dhcp nodegate.url=$NG_VERIFIER_URL" \
                "nodegate.on_failure=poweroff panic=1${*:+ $*}"
}

# The gate's steps, in the order it logs their "done" lines, and those of the reference
# initramfs (qemu/ref-initrd: no network, no TPM, no verifier).
NG_STEPS=(setup parse modules network devices verity mount attest cap handover switch)
NG_REF_STEPS=(setup parse modules devices verity mount switch)

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

# Re-executes the calling script (with its arguments) in a network namespace of its own with only
# "lo" up, unless it runs in one already: the verifier's fixed ports are then free whatever else
# runs on the host, and concurrent runs cannot reach each other's verifiers. QEMU's user
# networking needs nothing but the loopback. Creating the namespace needs root, as CI runs; where
# that fails, the script carries on in the host's namespace and the ports must be free there.
# Usage: ng_enter_netns "$@"   (first thing in the script: everything before it runs twice)
ng_enter_netns() {
        [[ -z ${NG_NETNS:-} ]] || return 0
        if ! unshare --net true 2>/dev/null; then
                ng_log "warning: no network namespace (not root?): using the host's loopback," \
                        "ports $NG_VERIFIER_PORT and $NG_ANSWER_PORT must be free"
                export NG_NETNS=host
                return 0
        fi
        # iproute2's ip, or busybox's (busybox-static is in .ci/packages anyway).
        # shellcheck disable=SC2016 # expanded by the inner shell
        NG_NETNS=private exec unshare --net -- /bin/bash -c \
                '{ ip link set lo up 2>/dev/null || busybox ip link set lo up; } && exec "$@"' \
                bash "$0" "$@"
}

# The verifier binary: NG_VERIFIER, or the optimized build, as users run it. The tests
# (make check-e2e) name the ASan build in NG_VERIFIER: it reports memory errors the boots
# provoke.
ng_verifier_bin() {
        local b
        for b in "${NG_VERIFIER:-}" "$NG_BUILD/verifier/nodegate-verifier" \
                "$NG_BUILD/verifier-asan/nodegate-verifier"; do
                [[ -n $b && -x $b ]] && { printf '%s\n' "$b"; return 0; }
        done
        ng_die "no nodegate-verifier built (make verifier)"
}

# Starts qemu/attest-server.py in DIR (mode and options as it takes them) in the background and
# waits until it listens. Its PID is in NG_ATTEST_PID: the caller's trap runs ng_attest_stop.
# Usage: ng_attest_start DIR MODE [attest-server.py options…]
NG_ATTEST_PID=''
ng_attest_start() {
        local dir=$1 mode=$2 i
        shift 2
        [[ -z $NG_ATTEST_PID ]] || ng_die "an attestation server runs already (PID $NG_ATTEST_PID)"
        [[ -r $NG_QEMU_OUT/pki/ca.pem ]] || ng_die "no $NG_QEMU_OUT/pki: run 'make harness'"
        mkdir -p "$dir"
        rm -f "$dir/ready"
        python3 "$NG_TOP/qemu/attest-server.py" --dir "$dir" --mode "$mode" \
                --verifier "$(ng_verifier_bin)" --pki "$NG_QEMU_OUT/pki" \
                --port "$NG_VERIFIER_PORT" --api-server "$NG_API_SERVER" "$@" \
                2>>"$dir/server.log" &
        NG_ATTEST_PID=$!
        for ((i = 0; i < 300; i++)); do
                [[ -e $dir/ready ]] && return 0
                if ! kill -0 "$NG_ATTEST_PID" 2>/dev/null; then
                        wait "$NG_ATTEST_PID" || true
                        NG_ATTEST_PID=''
                        ng_die "the attestation server did not start: $(tail -n 5 "$dir/server.log")"
                fi
                sleep 0.1
        done
        ng_die "the attestation server did not get ready in 30 s ($dir/server.log)"
}

# Stops the server started by ng_attest_start (SIGTERM to its PID; it stops the verifier).
# @return the server's exit status; 0 when none runs
ng_attest_stop() {
        local rc=0
        [[ -n $NG_ATTEST_PID ]] || return 0
        kill "$NG_ATTEST_PID" 2>/dev/null || true
        wait "$NG_ATTEST_PID" || rc=$?
        NG_ATTEST_PID=''
        return "$rc"
}
