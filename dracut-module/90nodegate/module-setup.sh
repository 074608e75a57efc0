#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# dracut module: nodegate verifies, attests and hands over the root before dracut switches to
# it. Settings (dracut.conf.d, shell syntax): nodegate_binary, nodegate_ca, nodegate_conf.

# dracut sets moddir, initdir, systemdsystemunitdir and SYSTEMCTL before calling these.
# shellcheck disable=SC2154

# The build host's files that go into the initramfs; the defaults are where packages put them.
nodegate_paths() {
        : "${nodegate_binary:=/usr/bin/nodegate}"
        : "${nodegate_ca:=/etc/nodegate/ca.pem}"
        # Optional: set but empty means none (as qemu/mkdracut.sh writes it), not the default.
        : "${nodegate_conf=/etc/nodegate/nodegate.conf}"
}

# called by dracut
check() {
        nodegate_paths
        # Only when asked for (add_dracutmodules+=" nodegate "): it changes how the root is
        # found and what a failed boot does, which must never happen by accident.
        if [[ ! -x $nodegate_binary ]]; then
                derror "nodegate: no executable $nodegate_binary (set nodegate_binary=)"
                return 1
        fi
        if [[ ! -r $nodegate_ca ]]; then
                derror "nodegate: no CA bundle $nodegate_ca: the gate trusts only it for the" \
                        "verifier (set nodegate_ca=)"
                return 1
        fi
        return 255
}

# called by dracut
depends() {
        # Attestation needs the network; dracut's network module picks systemd-networkd,
        # NetworkManager or network-legacy as the image provides.
        echo network
        return 0
}

# called by dracut
installkernel() {
        # dm-verity, the root file systems the gate mounts (erofs checksums need crc32c), and
        # the TPM drivers where they are modules; the NIC comes with the network module. The
        # TEE guest drivers behind configfs-tsm (docs/cvm.md) where the kernel has them: udev
        # loads them by modalias on an SEV-SNP or TDX guest.
        hostonly='' instmods dm_mod dm_verity erofs squashfs ext4 crc32c_generic \
                tpm_tis tpm_crb tpm_tis_core sev_guest tdx_guest
}

# called by dracut
install() {
        nodegate_paths
        # A static binary: inst_binary would look for libraries it does not have.
        inst_simple "$nodegate_binary" /usr/bin/nodegate
        inst_simple "$nodegate_ca" /etc/nodegate/ca.pem
        if [[ -r $nodegate_conf ]]; then
                inst_simple "$nodegate_conf" /etc/nodegate/nodegate.conf
        fi
        inst_simple "$moddir/nodegate-lib.sh" /lib/nodegate-lib.sh
        inst_hook cmdline 90 "$moddir/parse-nodegate.sh"
        # Before any shell (dracut sources these hooks in emergency_shell, shell or not, and in
        # dracut-emergency): PCR 15 capped, /run/nodegate wiped, or no shell at all.
        inst_hook emergency 00 "$moddir/emergency-nodegate.sh"
        inst_hook shutdown-emergency 00 "$moddir/emergency-nodegate.sh"
        # The token comes over the network: dracut must bring it up even without a network root.
        # rd.shell defaults to on: a host that holds back DHCP or the disk would get a
        # passwordless shell in the genuine initramfs. rd.shell=0 rd.emergency=halt: a failed
        # boot halts; an explicit rd.shell=1 on the (measured) command line still wins, and
        # even then the shell comes only after the cap.
        mkdir -p "$initdir/etc/cmdline.d"
        echo "rd.neednet=1 rd.shell=0 rd.emergency=halt" >"$initdir/etc/cmdline.d/90nodegate.conf"
        # nodegate-lib.sh stops the boot with halt, poweroff or reboot -f when the gate could
        # not: dracut's shutdown module has them, but not every initramfs has that module.
        inst_multiple modprobe halt poweroff reboot

        if dracut_module_included "systemd"; then
                inst_simple "$moddir/nodegate-root.service" \
                        "$systemdsystemunitdir/nodegate-root.service"
                inst_simple "$moddir/nodegate-attest.service" \
                        "$systemdsystemunitdir/nodegate-attest.service"
                inst_simple "$moddir/nodegate-failed.service" \
                        "$systemdsystemunitdir/nodegate-failed.service"
                inst_simple "$moddir/nodegate-failed.sh" /usr/lib/nodegate/nodegate-failed.sh
                inst_rules "$moddir/60-nodegate.rules"
                local unit
                for unit in emergency.service rescue.service dracut-emergency.service \
                        debug-shell.service; do
                        inst_simple "$moddir/nodegate-shell.conf" \
                                "$systemdsystemunitdir/$unit.d/nodegate.conf"
                done
                inst_simple "$moddir/initrd-switch-root-nodegate.conf" \
                        "$systemdsystemunitdir/initrd-switch-root.service.d/nodegate.conf"
                $SYSTEMCTL -q --root "$initdir" enable nodegate-root.service nodegate-attest.service
                # nodegate alone sets up the root it attests: systemd's own verity setup would
                # race it for /dev/mapper/root, and gpt-auto would wait for a root partition on
                # the ESP's disk that a verity image does not have.
                mkdir -p "$initdir/etc/systemd/system-generators"
                ln -sf /dev/null "$initdir/etc/systemd/system-generators/systemd-veritysetup-generator"
                ln -sf /dev/null "$initdir/etc/systemd/system-generators/systemd-gpt-auto-generator"
        else
                inst_hook mount 90 "$moddir/mount-nodegate.sh"
                inst_hook pre-pivot 10 "$moddir/attest-nodegate.sh"
        fi
}
