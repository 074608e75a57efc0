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
# Every scenario in a network namespace of its own: the verifier's fixed ports (the URL is part
# of the measured command line) are free there, and nothing else can answer the guest.
ng_enter_netns "$@"

: "${TEST_NAME:?a scenario must set TEST_NAME}"
E2E_OUT="$NG_QEMU_OUT/e2e/$TEST_NAME"
# The initramfs under test: the gate's with the harness's CA bundle by default (qemu.mk), or any
# other (the reference one proves the harness itself).
INITRD=${INITRD:-$NG_QEMU_OUT/initrd.img}
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
E2E_BOOTS=0
# The verifier every boot of the scenario meets: "permissive" (the default) runs the real
# verifier with a policy that judges no event, for the scenarios about something else, which
# attest like any boot; "manual" leaves it to the scenario (e2e_verifier_start/stop).
E2E_VERIFIER=${E2E_VERIFIER:-permissive}
E2E_VDIR=''
# boot.sh's TPM options for every boot: a fresh swtpm, manufactured with EK certificates from the
# harness's swtpm CA, which the verifier trusts. A scenario may change it before a boot.
E2E_PKI="$NG_QEMU_OUT/pki"
E2E_TPM_ARGS=(--tpm-ca "$E2E_PKI/swtpm-ca")
# More boot.sh options for every boot (e.g. --no-network); a scenario sets them before a boot.
E2E_BOOT_ARGS=()

e2e_ok() { printf '  ok    %s\n' "$*"; }
e2e_fail() {
        printf '  FAIL  %s\n' "$*"
        e2e_failures=$((e2e_failures + 1))
}

# The serial log as plain text (no escapes, no CRs), cached next to the log.
e2e_text() { printf '%s\n' "$BOOT_LOG.txt"; }

# Debian 13's configuration (qemu/debian13.lock, make debian13): systemd-stub 257, the 6.12 cloud
# kernel, and the harness's initramfs built from that kernel's modules (DEBIAN13_INITRD).
E2E_STUB257="$NG_BUILD/debian13/root/usr/lib/systemd/boot/efi/linuxx64.efi.stub"
E2E_KERNEL612="$NG_BUILD/debian13/root/boot/vmlinuz-${DEBIAN13_KVER:-}"
E2E_DEBIAN13_IMAGE=(--stub "$E2E_STUB257" --kver "${DEBIAN13_KVER:-}" --kernel "$E2E_KERNEL612"
        --initrd "${DEBIAN13_INITRD:-}")
e2e_need_debian13() {
        local f
        for f in "$E2E_STUB257" "$E2E_KERNEL612" "${DEBIAN13_INITRD:-}"; do
                [[ -r $f ]] && continue
                e2e_fail "no '$f': run 'make debian13 build/qemu/initrd-debian13.img'"
                return 1
        done
}

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
                --timeout "$timeout" "${E2E_TPM_ARGS[@]}" ${E2E_BOOT_ARGS[@]+"${E2E_BOOT_ARGS[@]}"} \
                >"$E2E_OUT/$name.boot" 2>&1 || rc=$?
        E2E_BOOTS=$((E2E_BOOTS + 1))
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

# --- the verifier ---------------------------------------------------------------------------

# Starts the attestation server (qemu/attest-server.py: the real verifier, or a proxy or a fake
# in front of it) in $E2E_OUT/NAME, which becomes E2E_VDIR. Stopped by e2e_verifier_stop, or at
# exit by its PID.
# Usage: e2e_verifier_start NAME MODE [attest-server.py options…]
e2e_verifier_start() {
        E2E_VDIR="$E2E_OUT/$1"
        rm -rf "$E2E_VDIR"
        ng_attest_start "$E2E_VDIR" "$2" "${@:3}"
        echo "  serve $2 on 127.0.0.1:$NG_VERIFIER_PORT (guest: $NG_VERIFIER_URL), files in $E2E_VDIR"
}

# Stops it; the verifier (ASan when built) must exit 0 without a sanitizer report. A server
# without a verifier (garbage mode) has nothing to check.
e2e_verifier_stop() {
        local rc=0 code
        ng_attest_stop || rc=$?
        ((rc == 0)) || e2e_fail "the attestation server exited with $rc ($E2E_VDIR/server.log)"
        [[ -e $E2E_VDIR/verifier.stderr ]] || return 0
        code=$(cat "$E2E_VDIR/verifier.exit" 2>/dev/null || echo missing)
        if [[ $code == 0 ]] && ! grep -qE 'Sanitizer|runtime error' "$E2E_VDIR/verifier.stderr"; then
                e2e_ok "the verifier exited 0 without sanitizer reports"
        else
                e2e_fail "the verifier exited '$code' or reported: $(grep -m3 -E 'Sanitizer|runtime error' \
                        "$E2E_VDIR/verifier.stderr")"
        fi
}

# The audit log of the verifier in DIR (default E2E_VDIR), one "decision reason token_id" line
# per answer.
e2e_audit() {
        python3 -c '
import json, sys
for line in open(sys.argv[1]):
    a = json.loads(line)
    print(a.get("decision"), a.get("reason"), a.get("token_id", "-"))
' "${1:-$E2E_VDIR}/audit.jsonl" 2>/dev/null || true
}

# Files the recording proxy wrote in DIR for ENDPOINT (challenge, attest), oldest first.
# Usage: e2e_recorded DIR ENDPOINT request|answer
e2e_recorded() {
        local f
        for f in "$1"/record/[0-9][0-9][0-9]-"$2.$3"; do
                [[ -e $f ]] && printf '%s\n' "$f"
        done
}

# --- the reference event log and the policy ----------------------------------------------------

# The key under which the good UKI's reference log is kept: what decides the pinned PCRs (the
# UKI: 4, 9, 11; the firmware and its variables: 7) and the machine the firmware runs on.
e2e_reference_key() {
        { sha256sum "$1" /usr/share/OVMF/OVMF_CODE_4M.fd /usr/share/OVMF/OVMF_VARS_4M.fd |
                cut -d' ' -f1; qemu-system-x86_64 --version | head -n 1; } | sha256sum | cut -c1-24
}

# Keeps the event log the gate sent in its (last) recorded /v2/attest request in DIR as the
# reference for UKI: the log of a boot of exactly that image, which the policy is made from.
# Usage: e2e_keep_reference UKI DIR
e2e_keep_reference() {
        local uki=$1 dir=$2 req out
        req=$(e2e_recorded "$dir" attest request | tail -n 1)
        [[ -n $req ]] || { e2e_fail "no /v2/attest request was recorded in $dir"; return 1; }
        out="$NG_QEMU_OUT/reference/$(e2e_reference_key "$uki").eventlog"
        mkdir -p "${out%/*}"
        python3 -c '
import base64, json, sys
log = base64.b64decode(json.load(open(sys.argv[1]))["event_log"], validate=True)
open(sys.argv[2], "wb").write(log)
' "$req" "$out.tmp" || { e2e_fail "cannot decode the event log of $req"; return 1; }
        mv -f "$out.tmp" "$out"
        echo "  info  reference event log of ${uki##*/}: $out ($(ng_size "$out") bytes)"
}

# Writes the policy for UKI to OUT: nodegate-verifier policy from-log on the reference log of
# that image (PCRs 2, 4, 7, 9, 11 pinned and the cap PCR 15 pinned empty, the default; the
# harness's OVMF boots without Secure Boot, so the policy says "secure-boot-off"). When no boot of it was recorded yet (a
# scenario run alone), one good boot under a permissive verifier records it first. The event
# log of an image is the same on every fresh boot (FACTS.md), so the log is kept across runs
# under e2e_reference_key.
# Usage: e2e_good_policy UKI OUT
e2e_good_policy() {
        local uki=$1 out=$2 ref saved=$NG_ATTEST_PID saved_vdir=$E2E_VDIR
        ref="$NG_QEMU_OUT/reference/$(e2e_reference_key "$uki").eventlog"
        if [[ ! -s $ref ]]; then
                echo "  info  no reference log of ${uki##*/} yet: one recorded good boot makes it"
                [[ -z $saved ]] || { e2e_fail "e2e_good_policy: stop the running verifier first"; return 1; }
                e2e_verifier_start reference record
                e2e_boot reference "$uki" "$GOOD_DISK"
                e2e_verifier_stop
                assert_kubelet_ran "the reference boot attested and handed over"
                e2e_keep_reference "$uki" "$E2E_VDIR" || return 1
                E2E_VDIR=$saved_vdir
        fi
        "$(ng_verifier_bin)" policy from-log --allow secure-boot-off "$ref" >"$out.tmp" \
                2>"$out.err" ||
                { e2e_fail "policy from-log $ref: $(cat "$out.err")"; return 1; }
        mv -f "$out.tmp" "$out"
        echo "  info  policy from the reference log: $("$(ng_verifier_bin)" policy check "$out" |
                grep -i pinned | tr "\n" ";" || true)"
}

# The good image and its policy, for the scenarios that judge boots against it: E2E_GOOD_UKI,
# E2E_POLICY.
E2E_GOOD_UKI='' E2E_POLICY=''
e2e_good_image_and_policy() {
        E2E_GOOD_UKI="$E2E_OUT/good.efi"
        E2E_POLICY="$E2E_OUT/policy.json"
        e2e_mkimage "$E2E_GOOD_UKI"
        e2e_good_policy "$E2E_GOOD_UKI" "$E2E_POLICY"
}

# resetCount of the quote in a recorded /v2/attest request (TPMS_ATTEST's clockInfo), or of
# the sealed object in a recorded answer.
e2e_request_reset_count() {
        python3 -c '
import base64, json, struct, sys
a = base64.b64decode(json.load(open(sys.argv[1]))["quote"]["attest"])
o = 2 + 4 + 2                                   # TPM2B size, magic, type
for _ in range(2):                              # qualifiedSigner, extraData
        o += 2 + struct.unpack(">H", a[o:o + 2])[0]
print(struct.unpack(">I", a[o + 8:o + 12])[0])  # clockInfo: clock, then resetCount
' "$1"
}
e2e_answer_reset_count() {
        python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["sealed"]["reset_count"])' "$1"
}
# The PCR values a recorded /v2/attest request claimed, one "N=HEX" a line.
e2e_request_pcrs() {
        python3 -c '
import json, sys
for k, v in sorted(json.load(open(sys.argv[1]))["pcrs"]["sha256"].items(), key=lambda kv: int(kv[0])):
        print("%s=%s" % (k, v))
' "$1"
}

# The verifier refused the boot for REASON: its audit log says so, and the gate printed the
# reason in its verifier-refused failure.
# Usage: assert_refused REASON
assert_refused() {
        if e2e_audit "$E2E_VDIR" | grep -q "^rejected $1 "; then
                e2e_ok "the verifier's audit log has 'rejected $1'"
        else
                e2e_fail "no 'rejected $1' in the audit log: $(e2e_audit "$E2E_VDIR" | tr '\n' ';')"
        fi
        if e2e_audit "$E2E_VDIR" | grep -q '^issued '; then
                e2e_fail "the verifier issued a token"
        else
                e2e_ok "the verifier issued no token"
        fi
        assert_gate_failure verifier-refused
        assert_failure_detail verifier-refused "$1" "the gate prints the verifier's reason ($1)"
        assert_failed_cap
}

# The gate capped PCR 15 with the "failed" event when it gave up with the TPM open.
assert_failed_cap() {
        assert_log 'nodegate\[cap\]: PCR 15 extended with "nodegate: failed"' \
                "the gate capped PCR 15 with \"nodegate: failed\""
}

# --- the stand-in kubelet ----------------------------------------------------------------------

# The stand-in kubelet started (it found the kubeconfig, mode 0600 root, with a token) after the
# gate's switch_root line, and the console never shows a token's secret half.
assert_kubelet_ran() {
        assert_log "$NG_KUBELET_MARKER: token-id=[a-z0-9]{6} server=https://[^ ]+ kubeconfig-fs=tmpfs\$" \
                "${1:-the stand-in kubelet started with the kubeconfig of the gate, on tmpfs}"
}
assert_kubelet_absent() {
        assert_no_log "$NG_KUBELET_MARKER" "the stand-in kubelet never started"
}

# The token id the stand-in kubelet reported, or nothing.
e2e_kubelet_token_id() {
        sed -n "s/.*$NG_KUBELET_MARKER: token-id=\([a-z0-9]*\) .*/\1/p" "$(e2e_text)" | head -n 1
}

# The token the kubelet reported is one the verifier in DIR issued: its id is on an "issued" line
# of the audit log and in the pool; the kubeconfig names the API server the verifier was given;
# and no token's secret half is anywhere on the console.
# Usage: assert_token_issued DIR
assert_token_issued() {
        local dir=$1 id secret leaked=0
        id=$(e2e_kubelet_token_id)
        if [[ -z $id ]]; then
                e2e_fail "no token id from the stand-in kubelet"
                return
        fi
        if e2e_audit "$dir" | grep -qx "issued ok $id"; then
                e2e_ok "the verifier's audit log has 'issued' for token id $id"
        else
                e2e_fail "no 'issued' audit line for token id $id: $(e2e_audit "$dir" | tr '\n' ';')"
        fi
        # A used line is overwritten whole: the token is in the copy, not in the pool.
        if grep -q "^$id\." "$dir/tokens" && ! grep -q "^$id\." "$dir/pool" &&
                [[ -s $dir/pool.issued ]]; then
                e2e_ok "token id $id is the pool's, and the pool has it no more"
        else
                e2e_fail "token id $id is not a used token of the verifier's pool"
        fi
        assert_log "$NG_KUBELET_MARKER: token-id=$id server=$NG_API_SERVER " \
                "the kubeconfig's server is the verifier's --api-server ($NG_API_SERVER)"
        while read -r secret; do
                secret=${secret#*.}
                grep -qF "$secret" "$BOOT_LOG" && leaked=$((leaked + 1))
        done <"$dir/tokens"
        if ((leaked == 0)); then
                e2e_ok "no token's secret half is on the console"
        else
                e2e_fail "$leaked token secret(s) on the console"
        fi
}

# PCR 15 as the new root saw it: capped once with "nodegate: token released" from zero.
e2e_cap_value() {
        python3 -c '
import hashlib, sys
print(hashlib.sha256(bytes(32) + hashlib.sha256(sys.argv[1].encode()).digest()).hexdigest())
' "$1"
}
assert_capped() {
        assert_log "NODEGATE-TEST: pcr15: $(e2e_cap_value 'nodegate: token released')\$" \
                "PCR 15 in the new root is the cap: zero extended once with \"nodegate: token released\""
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
                [[ -r $f ]] || { echo "FAIL $TEST_NAME: $f missing (run 'make check-e2e')"; exit 1; }
        done
        [[ -r $E2E_PKI/ca.pem && -r $E2E_PKI/swtpm-ca/swtpm_setup.conf ]] ||
                { echo "FAIL $TEST_NAME: $E2E_PKI missing (run 'make harness')"; exit 1; }
        ROOTHASH=$(cat "$ROOT_DIR/roothash")
        rm -rf "$E2E_OUT"
        mkdir -p "$E2E_OUT"
        # The server dies with the scenario, whichever way it ends.
        trap 'ng_attest_stop || true' EXIT
        trap 'exit 143' TERM
        trap 'exit 130' INT

        test_setup
        if [[ $E2E_VERIFIER == permissive ]]; then
                e2e_verifier_start verifier verifier
        fi
        test_run
        if [[ $E2E_VERIFIER == permissive ]]; then
                e2e_verifier_stop
        fi
        echo "  info  $E2E_BOOTS boot(s)"

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

# --- predicted policies (issue 6: no golden boot of the image) -----------------------------------

# The platform a boot runs on: the firmware, its variables and the machine, not the image. One
# reference log of a platform serves every image booted on it. Usage: e2e_platform_key [--secure-boot]
e2e_platform_key() {
        local code=/usr/share/OVMF/OVMF_CODE_4M.fd vars=/usr/share/OVMF/OVMF_VARS_4M.fd
        if [[ ${1:-} == --secure-boot ]]; then
                code=/usr/share/OVMF/OVMF_CODE_4M.secboot.fd
                vars=/usr/share/OVMF/OVMF_VARS_4M.snakeoil.fd
        fi
        { sha256sum "$code" "$vars" | cut -d' ' -f1; qemu-system-x86_64 --version | head -n 1
                echo "${1:-}"; } | sha256sum | cut -c1-24
}

# The snakeoil key OVMF_VARS_4M.snakeoil.fd enrols (PK, KEK, db), unencrypted for sbsign (its
# passphrase is "snakeoil", FACTS.md): E2E_SIGN holds the mkimage.sh options that sign with it.
E2E_SIGN=()
e2e_snakeoil() {
        local d="$NG_QEMU_OUT/secure-boot"
        if [[ ! -s $d/snakeoil.key ]]; then
                mkdir -p "$d"
                (umask 077 && openssl pkey -in /usr/share/ovmf/PkKek-1-snakeoil.key \
                        -passin pass:snakeoil -out "$d/snakeoil.key.tmp") &&
                        mv -f "$d/snakeoil.key.tmp" "$d/snakeoil.key"
                cp /usr/share/ovmf/PkKek-1-snakeoil.pem "$d/snakeoil.pem"
        fi
        E2E_SIGN=(--sign-key "$d/snakeoil.key" --sign-cert "$d/snakeoil.pem")
}

# E2E_PLATFORM_LOG: the event log of one boot of this platform, recorded once per platform (kept
# under build/qemu/platform/ by e2e_platform_key) from a *probe* image — the good command line
# plus one word, so none of its PCR 4, 9 or 11 events is the image under test's. Under Secure
# Boot the probe is signed (E2E_SIGN) and booted with boot.sh --secure-boot (E2E_TPM_ARGS).
# Usage: e2e_platform_log [--secure-boot]
E2E_PLATFORM_LOG='' E2E_PLATFORM_SECURE_BOOT=0
# shellcheck disable=SC2120 # the argument is optional
e2e_platform_log() {
        local key saved_vdir=$E2E_VDIR sign=()
        key=$(e2e_platform_key "${1:-}")
        E2E_PLATFORM_SECURE_BOOT=0
        [[ ${1:-} != --secure-boot ]] || E2E_PLATFORM_SECURE_BOOT=1
        E2E_PLATFORM_LOG="$NG_QEMU_OUT/platform/$key.eventlog"
        [[ -s $E2E_PLATFORM_LOG ]] && { echo "  info  platform log: $E2E_PLATFORM_LOG (kept)"; return 0; }
        [[ ${1:-} != --secure-boot ]] || sign=("${E2E_SIGN[@]}")
        e2e_mkimage "$E2E_OUT/platform-probe.efi" --append "nodegate-test.variant=platform-probe" \
                "${sign[@]}"
        e2e_verifier_start platform-probe record
        e2e_boot platform-probe "$E2E_OUT/platform-probe.efi" "$GOOD_DISK"
        e2e_verifier_stop
        assert_kubelet_ran "the platform probe booted (under a policy that judges no event)"
        local req
        req=$(e2e_recorded "$E2E_VDIR" attest request | tail -n 1)
        E2E_VDIR=$saved_vdir
        [[ -n $req ]] || { e2e_fail "the platform probe sent no /v2/attest request"; return 1; }
        mkdir -p "${E2E_PLATFORM_LOG%/*}"
        e2e_request_log "$req" "$E2E_PLATFORM_LOG.tmp" && mv -f "$E2E_PLATFORM_LOG.tmp" "$E2E_PLATFORM_LOG"
        echo "  info  platform log: $E2E_PLATFORM_LOG ($(ng_size "$E2E_PLATFORM_LOG") bytes)"
}

# The event log of a recorded /v2/attest request, to a file. Usage: e2e_request_log REQUEST OUT
e2e_request_log() {
        python3 -c '
import base64, json, sys
open(sys.argv[2], "wb").write(base64.b64decode(json.load(open(sys.argv[1]))["event_log"]))
' "$1" "$2"
}

# The policy predicted from UKI alone (nodegate-verifier policy from-uki) with the platform log
# for PCR 7, to OUT; its predicted events and PCR values to OUT.events.
# Usage: e2e_predicted_policy UKI OUT
e2e_predicted_policy() {
        local v allow=()
        v=$(ng_verifier_bin)
        # Without Secure Boot the policy must say so (issue 11): the opt-in, written down.
        ((E2E_PLATFORM_SECURE_BOOT)) || allow=(--allow secure-boot-off)
        if ! "$v" policy from-uki "$1" --platform-log "$E2E_PLATFORM_LOG" "${allow[@]}" \
                >"$2.tmp" 2>"$2.err" ||
                ! "$v" policy from-uki "$1" --platform-log "$E2E_PLATFORM_LOG" --events \
                        >"$2.events" 2>>"$2.err"; then
                e2e_fail "policy from-uki ${1##*/}: $(cat "$2.err")"
                return 1
        fi
        mv -f "$2.tmp" "$2"
        echo "  info  predicted policy of ${1##*/}: $("$v" policy check "$2" | grep -i pinned |
                tr "\n" ";" || true)"
}

# The boot the verifier in DIR saw (its last recorded /v2/attest request) against the prediction
# EVENTS: in every PCR of LIST the same events in the same order, the same replayed and quoted
# values (tests/tools/eventlog-compare.py). Usage: assert_prediction_matches EVENTS DIR LIST
assert_prediction_matches() {
        local req out line
        req=$(e2e_recorded "$2" attest request | tail -n 1)
        [[ -n $req ]] || { e2e_fail "no /v2/attest request recorded in $2"; return; }
        e2e_request_log "$req" "$2/measured.eventlog"
        out=$(python3 "$NG_TOP/tests/tools/eventlog-compare.py" "$1" "$2/measured.eventlog" \
                --pcrs "$3" --request "$req" 2>&1) || true
        while IFS= read -r line; do
                case $line in
                "  ok    "*) e2e_ok "${line#  ok    }" ;;
                "  FAIL  "*) e2e_fail "${line#  FAIL  }" ;;
                *) echo "$line" ;;
                esac
        done <<<"$out"
        grep -q '^  ok ' <<<"$out" || e2e_fail "eventlog-compare.py compared nothing: $out"
}

# E2E_POLICY_FROM=uki (opt-in; default "log"): the scenarios that judge boots against the good
# image's policy get it predicted from the UKI file (e2e_predicted_policy, PCR 7 from the
# platform log) instead of learnt from a recorded reference boot of that image.
# e.g. E2E_POLICY_FROM=uki make check-e2e E2E="attested-kubelet changed-cmdline"
if [[ ${E2E_POLICY_FROM:-log} == uki ]]; then
        e2e_good_policy() {
                # shellcheck disable=SC2119 # the platform of the default boots: no Secure Boot
                e2e_platform_log || return 1
                e2e_predicted_policy "$1" "$2"
        }
fi
