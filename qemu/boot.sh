#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Boots one UKI and one disk image under OVMF (q35, TCG) with a fresh swtpm, the serial console
# going to a log file, and decides how the boot ended.
# Usage: boot.sh (--uki uki.efi | --esp esp.img) --disk disk.img [--disk more.img…] [--log FILE]
#                [--timeout SEC] [--tpm tis|crb|none] [--tpm-manufacture] [--tpm-ca DIR]
#                [--tpm-state DIR] [--secure-boot] [--no-network] [--driver driver.efi]
#                [--smbios-oem STRING] [--tpm-proxy CMD]
# Each --disk becomes a virtio-blk disk, in the order given (the first is /dev/vda).
# The TPM is fresh for every boot unless --tpm-state names a directory that keeps its state, as
# a node's TPM keeps its seeds and counters across reboots (made on first use, never removed).
# --tpm-ca manufactures a new TPM with EK certificates from the swtpm_localca CA in DIR
# (qemu/mkpki.sh), so a verifier can trust it by that CA; --tpm-manufacture uses the host's.
# --secure-boot: OVMF with Secure Boot enforced (the secboot build, which needs SMM) and the
# snakeoil variables (PK, KEK and db: /usr/share/ovmf/PkKek-1-snakeoil.pem): only a UKI signed
# by that key boots.
# --no-network: no NIC at all, as a host that holds the network back (no DHCP, no verifier).
# --driver: the ESP also holds driver.efi, and the firmware variables a Driver0000 entry for it
# (tests/tools/ovmf-vars.py), as root could write with efibootmgr --driver (issue 11).
# --smbios-oem: an SMBIOS type 11 OEM string, as whoever configures the VM sets it (systemd-stub
# 257 appends io.systemd.stub.kernel-cmdline-extra=… to the kernel command line).
# --tpm-proxy: QEMU's TPM chardev goes to CMD instead of straight to swtpm: CMD is run as
# "CMD LISTEN-SOCKET SWTPM-CTRL-SOCKET" once swtpm listens, must create LISTEN-SOCKET and relay
# swtpm's control protocol to SWTPM-CTRL-SOCKET (tests/tools/azure-paravisor.py proxy, the
# emulated Azure paravisor). It dies with the boot.
# Prints "log: FILE", "status: STATUS" and "wall_ms: N" (also written to FILE.status).
# STATUS and exit code: poweroff 0, halt 2, reboot 3, panic 4, timeout 124, error 1.
set -euo pipefail
# shellcheck source=qemu/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# One boot at a time on the machine: take the team's heavy-job lock for the whole boot.
if [[ ${NG_HEAVY_LOCKED:-} != 1 ]]; then
        NG_HEAVY_LOCKED=1 exec flock "$NG_HEAVY_LOCK" "$0" "$@"
fi

uki='' esp='' disks=() log='' timeout=${BOOT_TIMEOUT:-240} tpm=tis tpm_manufacture=0 tpm_ca=''
tpm_state='' secure_boot=0 net_args=(-netdev "user,id=net0" -device "virtio-net-pci,netdev=net0,romfile=") driver=''
smbios_args=() tpm_proxy=''
while (($#)); do
        case $1 in
        --uki) uki=$2; shift 2 ;;
        --esp) esp=$2; shift 2 ;;
        --disk) disks+=("$2"); shift 2 ;;
        --log) log=$2; shift 2 ;;
        --timeout) timeout=$2; shift 2 ;;
        --tpm) tpm=$2; shift 2 ;;
        --tpm-manufacture) tpm_manufacture=1; shift ;;
        --tpm-ca) tpm_ca=$2; shift 2 ;;
        --tpm-state) tpm_state=$2; shift 2 ;;
        --secure-boot) secure_boot=1; shift ;;
        --no-network) net_args=(-nic none); shift ;;
        --driver) driver=$2; shift 2 ;;
        --tpm-proxy) tpm_proxy=$2; shift 2 ;;
        --smbios-oem)
                [[ $2 != *,* ]] || ng_die "--smbios-oem: no commas (QEMU's option syntax)"
                smbios_args+=(-smbios "type=11,value=$2"); shift 2 ;;
        *) ng_die "unknown argument: $1" ;;
        esac
done
if ((${#disks[@]} == 0)) || [[ -z $uki && -z $esp ]]; then
        ng_die "usage: boot.sh (--uki F | --esp F) --disk F [--disk F…] [--log F] [--timeout S]"
fi
if ! [[ $timeout =~ ^[1-9][0-9]*$ ]]; then
        ng_die "bad --timeout: $timeout"
fi
case $tpm in tis | crb | none) ;; *) ng_die "--tpm must be tis, crb or none" ;; esac
if [[ -n $tpm_ca && ! -r $tpm_ca/swtpm_setup.conf ]]; then
        ng_die "no $tpm_ca/swtpm_setup.conf: make it with qemu/mkpki.sh"
fi
ovmf_code=/usr/share/OVMF/OVMF_CODE_4M.fd
ovmf_vars=/usr/share/OVMF/OVMF_VARS_4M.fd
machine=(-machine q35)
if ((secure_boot)); then
        ovmf_code=/usr/share/OVMF/OVMF_CODE_4M.secboot.fd
        ovmf_vars=/usr/share/OVMF/OVMF_VARS_4M.snakeoil.fd
        # The secboot build keeps its variables in SMM: without it the firmware does not start.
        machine=(-machine 'q35,smm=on' -global 'driver=cfi.pflash01,property=secure,value=on')
fi
for f in "$ovmf_code" "$ovmf_vars" "${disks[@]}" ${uki:+"$uki"} ${esp:+"$esp"}; do
        [[ -r $f ]] || ng_die "cannot read $f"
done
ng_need qemu-system-x86_64 timeout
[[ $tpm == none ]] || ng_need swtpm
[[ -z $tpm_proxy || $tpm != none ]] || ng_die "--tpm-proxy needs a TPM"

if [[ -z $log ]]; then
        mkdir -p "$NG_QEMU_OUT/logs"
        log="$NG_QEMU_OUT/logs/boot-$(date +%Y%m%d-%H%M%S)-$$.log"
fi
mkdir -p "$(dirname "$log")"

work='' qemu_pid='' swtpm_pid='' proxy_pid=''
# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
        # Each child by its PID; both are ours alone.
        if [[ -n $qemu_pid ]] && kill -0 "$qemu_pid" 2>/dev/null; then
                kill "$qemu_pid" 2>/dev/null || true
                wait "$qemu_pid" 2>/dev/null || true
        fi
        for pid in "$proxy_pid" "$swtpm_pid"; do
                if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; then
                        kill "$pid" 2>/dev/null || true
                        wait "$pid" 2>/dev/null || true
                fi
        done
        [[ -z $work ]] || rm -rf "$work"
}
trap cleanup EXIT
work=$(mktemp -d "${TMPDIR:-/tmp}/nodegate-boot.XXXXXX")

if [[ -n $uki ]]; then
        "$NG_TOP/qemu/mkesp.sh" --uki "$uki" --out "$work/esp.img" ${driver:+--driver "$driver"}
        esp="$work/esp.img"
fi
# Firmware variables are written during boot: every boot starts from a pristine private copy.
if [[ -n $driver ]]; then
        [[ -n $uki ]] || ng_die "--driver needs --uki"
        python3 "$NG_TOP/tests/tools/ovmf-vars.py" "$ovmf_vars" --driver '\EFI\nodegate\driver.efi' \
                --out "$work/vars.fd"
else
        cp "$ovmf_vars" "$work/vars.fd"
fi

tpm_args=()
if [[ $tpm != none ]]; then
        state="$work/tpm"
        if [[ -n $tpm_state ]]; then
                mkdir -p "$tpm_state"
                state=$(realpath "$tpm_state")
        else
                mkdir "$state"
        fi
        setup=()
        # A kept state is manufactured once: a node's TPM keeps its EK for life.
        if [[ ! -e $state/tpm2-00.permall ]]; then
                if [[ -n $tpm_ca ]]; then
                        # EK certificates signed by a CA of our own, which the verifier trusts.
                        setup=(--config "$tpm_ca/swtpm_setup.conf" --create-ek-cert)
                elif ((tpm_manufacture)); then
                        # EK and platform certificates in NV, like a vendor's TPM.
                        setup=(--create-ek-cert --create-platform-cert)
                fi
        fi
        if ((${#setup[@]})); then
                swtpm_setup --tpm2 --tpmstate "$state" "${setup[@]}" --overwrite \
                        --logfile "$work/swtpm_setup.log" >/dev/null 2>&1 \
                        || { cat "$work/swtpm_setup.log" >&2; ng_die "swtpm_setup failed"; }
        fi
        # A unix socket in the private directory: nothing to collide with, no free port to find.
        swtpm socket --tpm2 --tpmstate dir="$state" \
                --ctrl type=unixio,path="$work/swtpm.sock" \
                --log file="$work/swtpm.log",level=1 &
        swtpm_pid=$!
        for _ in $(seq 100); do
                [[ -S $work/swtpm.sock ]] && break
                kill -0 "$swtpm_pid" 2>/dev/null || ng_die "swtpm exited: $(cat "$work/swtpm.log" 2>/dev/null)"
                sleep 0.05
        done
        [[ -S $work/swtpm.sock ]] || ng_die "swtpm did not create its socket"
        chardev="$work/swtpm.sock"
        if [[ -n $tpm_proxy ]]; then
                "$tpm_proxy" "$work/tpm-proxy.sock" "$work/swtpm.sock" &
                proxy_pid=$!
                for _ in $(seq 200); do
                        [[ -S $work/tpm-proxy.sock ]] && break
                        kill -0 "$proxy_pid" 2>/dev/null || ng_die "the TPM proxy $tpm_proxy exited"
                        sleep 0.05
                done
                [[ -S $work/tpm-proxy.sock ]] || ng_die "the TPM proxy did not create its socket"
                chardev="$work/tpm-proxy.sock"
        fi
        tpm_args=(-chardev "socket,id=chrtpm,path=$chardev"
                -tpmdev "emulator,id=tpm0,chardev=chrtpm"
                -device "tpm-$tpm,tpmdev=tpm0")
fi

: >"$log"
# The first disk keeps the id and PCI slot it always had; the others take the slots after it,
# so the guest names them vda, vdb, … in the order given.
disk_args=()
for i in "${!disks[@]}"; do
        id=root
        ((i == 0)) || id=root$i
        disk_args+=(-drive "if=none,id=$id,format=raw,snapshot=on,file=${disks[i]}"
                -device "virtio-blk-pci,drive=$id")
done
# -cpu max: TCG then offers SSE4.2/PCLMUL, which crc32c-intel and crct10dif-pclmul need to load.
# The ESP sits on the q35 SATA controller and the root disks on virtio-blk, so the verity
# partitions are on the only virtio disks. romfile= drops iPXE: the firmware boots from the ESP.
# snapshot=on: the guest may write, the image files never change.
qemu=(qemu-system-x86_64
        "${machine[@]}" -accel tcg -cpu max -smp 1 -m 1024
        -drive "if=pflash,format=raw,unit=0,readonly=on,file=$ovmf_code"
        -drive "if=pflash,format=raw,unit=1,file=$work/vars.fd"
        -drive "if=none,id=esp,format=raw,snapshot=on,file=$esp"
        -device "ide-hd,drive=esp,bus=ide.0,bootindex=0"
        "${disk_args[@]}"
        "${net_args[@]}"
        "${tpm_args[@]}"
        ${smbios_args[@]+"${smbios_args[@]}"}
        -nographic -monitor none -serial "file:$log" -no-reboot)

start_ns=$(date +%s%N)
# timeout(1) is the backstop if this script itself dies; the loop below normally ends first.
timeout --kill-after=10 $((timeout + 30)) "${qemu[@]}" </dev/null >"$work/qemu.out" 2>&1 &
qemu_pid=$!

forced=''
while kill -0 "$qemu_pid" 2>/dev/null; do
        # A halted kernel keeps the VM running forever: the console line is the only signal.
        if grep -q 'reboot: System halted' "$log"; then
                forced=halt
                break
        fi
        if (( ($(date +%s%N) - start_ns) / 1000000000 >= timeout )); then
                forced=timeout
                break
        fi
        sleep 0.2
done
end_ns=$(date +%s%N)
rc=0
if [[ -n $forced ]]; then
        kill "$qemu_pid" 2>/dev/null || true
fi
wait "$qemu_pid" || rc=$?
qemu_pid=''

if [[ $forced == timeout ]]; then
        status=timeout
elif grep -q 'Kernel panic' "$log"; then
        status=panic
elif grep -q 'reboot: Power down' "$log"; then
        status=poweroff
elif grep -q 'reboot: System halted' "$log"; then
        status=halt
elif grep -q 'reboot: Restarting system' "$log"; then
        status=reboot
else
        status=error
        ng_log "QEMU exited with $rc before the guest shut down:"
        sed 's/^/  qemu: /' "$work/qemu.out" >&2
fi

wall_ms=$(( (end_ns - start_ns) / 1000000 ))
printf 'log: %s\nstatus: %s\nwall_ms: %d\n' "$log" "$status" "$wall_ms" | tee "$log.status"
case $status in
poweroff) exit 0 ;;
halt) exit 2 ;;
reboot) exit 3 ;;
panic) exit 4 ;;
timeout) exit 124 ;;
*) exit 1 ;;
esac
