# SPDX-License-Identifier: GPL-2.0-or-later
# The QEMU harness (qemu/) and the end-to-end scenarios (tests/e2e/): test root + verity + GPT
# disk, UKIs, the reference initramfs, `make demo`, `make check-e2e`, `make bench-boot`.
# KVER (the kernel the UKIs boot), the gate and mkcpio come from the top Makefile and
# initrd/initrd.mk, included first. The UKIs under test carry the harness's own initramfs: the
# gate's, plus the throwaway verifier CA (qemu/mkpki.sh) as its CA bundle.

QEMU_OUT := $(BUILD)/qemu
QEMU_ROOT := $(QEMU_OUT)/root
QEMU_ROOTFS := $(QEMU_ROOT)/root.erofs $(QEMU_ROOT)/root.verity $(QEMU_ROOT)/roothash \
	$(QEMU_ROOT)/tamper-offset
QEMU_DISK := $(QEMU_OUT)/disk.img
QEMU_PKI := $(QEMU_OUT)/pki/.done
QEMU_INITRD := $(QEMU_OUT)/initrd.img
# The static helper of the test root that unseals the gate's blob again (unseal-again scenario).
QEMU_UNSEAL := $(QEMU_OUT)/nodegate-test-unseal
QEMU_UNSEAL_SRCS := qemu/rootfs/unseal-again.c src/attest/tpm.c src/attest/protocol.c src/lib/base64.c src/attest/attest.c \
	src/attest/eventlog.c src/lib/log.c src/attest/retry.c src/lib/fileio.c src/lib/http-body.c \
	$(sort $(wildcard src/platform/*.c))
REF_INITRD := $(QEMU_OUT)/ref-initrd.img
REF_UKI := $(QEMU_OUT)/ref.efi
REF_ESP := $(QEMU_OUT)/ref-esp.img
GATE_UKI := $(QEMU_OUT)/nodegate.efi
# The same gate in dracut initramfs images (dracut-module/90nodegate), both flavours.
DRACUT_MODULE_FILES := $(wildcard dracut-module/90nodegate/*)
DRACUT_SYSTEMD_INITRD := $(QEMU_OUT)/dracut-systemd.img
DRACUT_LEGACY_INITRD := $(QEMU_OUT)/dracut-legacy.img
DRACUT_INITRDS := $(DRACUT_SYSTEMD_INITRD) $(DRACUT_LEGACY_INITRD)
DRACUT_UKI := $(QEMU_OUT)/dracut-systemd.efi
BENCH_RUNS ?= 5
# Debian 13's systemd-stub, systemd-measure and ukify 257 (qemu/debian13.lock, qemu/uki.mk),
# unpacked here; TEST-30 boots its images on this stub.
DEBIAN13_ROOT := $(BUILD)/debian13/root
DEBIAN13_STAMP := $(DEBIAN13_ROOT)/.lock-sha256
# The second configuration's kernel (6.12, Debian 13's cloud flavour, pinned in the lock) and the
# harness's initramfs built from its modules (xz-compressed in the .deb, stored decompressed: the
# whole archive is compressed once, and the gate's loader needs no decompressor).
DEBIAN13_KVER := $(shell sed -n 's/^linux-image-\([^ ]*\) .*/\1/p' qemu/debian13.lock)
DEBIAN13_INITRD := $(QEMU_OUT)/initrd-debian13.img
# Scenarios for check-e2e (names as in tests/e2e/run.sh); empty runs all of them.
E2E ?=

# The scripts find everything below BUILD; absolute paths so they work from any directory.
# The e2e scenarios meet the ASan verifier (memory errors the boots provoke are reported), the
# benchmark and the demo the optimized one.
QEMU_ENV := BUILD=$(ABS_BUILD) KVER=$(KVER) INITRD=$(abspath $(QEMU_INITRD)) \
	DEBIAN13_KVER=$(DEBIAN13_KVER) DEBIAN13_INITRD=$(abspath $(DEBIAN13_INITRD))
QEMU_LIB := qemu/lib.sh
QEMU_UKI_DEPS := qemu/mkimage.sh qemu/mkuki.sh qemu/rootfs/os-release $(QEMU_LIB) \
	$(QEMU_ROOT)/roothash $(QEMU_OUT)/kver /boot/vmlinuz-$(KVER)

.PHONY: harness check-harness demo check-e2e bench-boot

harness: $(QEMU_ROOTFS) $(QEMU_DISK) $(REF_INITRD) $(REF_UKI) $(REF_ESP) $(QEMU_PKI)

# A different kernel must rebuild what embeds it; rewritten only when KVER changes.
$(QEMU_OUT)/kver: qemu-kver-check
	@mkdir -p $(@D)
	@test -n "$(KVER)" || { echo "qemu: no kernel found in /boot; set KVER" >&2; exit 1; }
	@echo '$(KVER)' | cmp -s - $@ || echo '$(KVER)' >$@
.PHONY: qemu-kver-check
qemu-kver-check:

$(QEMU_UNSEAL): $(QEMU_UNSEAL_SRCS) $(GATE_HDRS) $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(MUSL_CC) $(GATE_CFLAGS) -Isrc $(GATE_LDFLAGS) -o $@ $(QEMU_UNSEAL_SRCS) $(DEPS_LIBS)

$(QEMU_ROOTFS) &: qemu/mkrootfs.sh qemu/rootfs/init qemu/rootfs/os-release $(QEMU_LIB) \
		$(QEMU_UNSEAL) $(QEMU_PKI)
	BUILD=$(ABS_BUILD) qemu/mkrootfs.sh --out $(QEMU_ROOT) --helper $(QEMU_UNSEAL) \
		--ca $(QEMU_OUT)/pki/ca.pem

# Made once per build directory (fresh keys each time would change every test UKI).
$(QEMU_PKI): qemu/mkpki.sh
	BUILD=$(ABS_BUILD) qemu/mkpki.sh --out $(@D)
	@touch $@

$(QEMU_INITRD): $(NODEGATE) $(MKCPIO) $(INITRD_SCRIPTS) $(QEMU_PKI) $(INITRD_DIR)/params \
		$(if $(KVER),/lib/modules/$(KVER)/modules.dep)
	initrd/mkinitrd.sh --mkcpio $(MKCPIO) --ca $(QEMU_OUT)/pki/ca.pem $(KVER) $(NODEGATE) $@

$(DEBIAN13_INITRD): $(NODEGATE) $(MKCPIO) $(INITRD_SCRIPTS) $(QEMU_PKI) $(DEBIAN13_STAMP)
	initrd/mkinitrd.sh --mkcpio $(MKCPIO) --ca $(QEMU_OUT)/pki/ca.pem \
		--basedir $(DEBIAN13_ROOT) $(DEBIAN13_KVER) $(NODEGATE) $@

$(QEMU_DISK): qemu/mkdisk.sh $(QEMU_LIB) $(QEMU_ROOTFS)
	BUILD=$(ABS_BUILD) qemu/mkdisk.sh --data $(QEMU_ROOT)/root.erofs \
		--hash $(QEMU_ROOT)/root.verity --roothash $$(cat $(QEMU_ROOT)/roothash) --out $@

$(REF_INITRD): qemu/ref-initrd/build.sh qemu/ref-initrd/init initrd/modules.default \
		initrd/resolve-modules.sh $(QEMU_LIB) $(QEMU_OUT)/kver
	$(QEMU_ENV) qemu/ref-initrd/build.sh --kver $(KVER) --out $@

$(REF_UKI): $(REF_INITRD) $(QEMU_UKI_DEPS)
	$(QEMU_ENV) qemu/mkimage.sh --initrd $(REF_INITRD) --out $@

$(REF_ESP): $(REF_UKI) qemu/mkesp.sh $(QEMU_LIB)
	BUILD=$(ABS_BUILD) qemu/mkesp.sh --uki $(REF_UKI) --out $@

$(GATE_UKI): $(QEMU_INITRD) $(QEMU_UKI_DEPS)
	$(QEMU_ENV) qemu/mkimage.sh --initrd $(QEMU_INITRD) --out $@

$(QEMU_OUT)/dracut-%.img: qemu/mkdracut.sh $(DRACUT_MODULE_FILES) $(NODEGATE) $(QEMU_PKI) \
		$(QEMU_LIB) $(QEMU_OUT)/kver
	$(QEMU_ENV) qemu/mkdracut.sh --flavour $* --gate $(NODEGATE) --ca $(QEMU_OUT)/pki/ca.pem \
		--kver $(KVER) --out $@

$(DRACUT_UKI): $(DRACUT_SYSTEMD_INITRD) $(QEMU_UKI_DEPS)
	$(QEMU_ENV) qemu/mkimage.sh --initrd $(DRACUT_SYSTEMD_INITRD) --out $@

# The harness alone, with the reference initramfs: tells a broken harness from a broken gate.
check-harness: harness
	$(QEMU_ENV) INITRD=$(abspath $(REF_INITRD)) E2E_REFERENCE=1 tests/e2e/run.sh good

# The full loop with no golden boot: `make uki` of the harness's initramfs with the good
# command line, the policy predicted from that file, the verifier, one boot, joined.
DEMO_UKI := $(QEMU_OUT)/uki/nodegate.efi
demo: $(NODEGATE) $(QEMU_INITRD) harness $(VERIFIER)
	$(MAKE) --no-print-directory uki UKI_INITRD=$(QEMU_INITRD) UKI_OSREL=qemu/rootfs/os-release \
		UKI_UNAME= UKI_OUT=$(DEMO_UKI) \
		UKI_CMDLINE="$$(BUILD=$(ABS_BUILD) bash -c '. qemu/lib.sh && ng_cmdline "$$(cat $(QEMU_ROOT)/roothash)"')"
	$(QEMU_ENV) NG_VERIFIER=$(abspath $(VERIFIER)) qemu/demo.sh --uki $(DEMO_UKI) \
		--disk $(QEMU_DISK)

check: check-e2e

# Exit 77 from the runner means this machine cannot run QEMU at all: reported, not failed.
check-e2e: harness $(QEMU_INITRD) $(DRACUT_INITRDS) $(VERIFIER_ASAN) $(DEBIAN13_STAMP) \
		$(DEBIAN13_INITRD)
	@rc=0; $(QEMU_ENV) NG_VERIFIER=$(abspath $(VERIFIER_ASAN)) tests/e2e/run.sh $(E2E) || rc=$$?; \
	if [ $$rc = 77 ]; then echo "check-e2e: SKIPPED (no QEMU/OVMF on this machine)"; \
	elif [ $$rc != 0 ]; then exit $$rc; fi

# The gate on Debian 13's configuration: stub 257, kernel 6.12, that kernel's initramfs.
DEBIAN13_UKI := $(QEMU_OUT)/nodegate-debian13.efi
$(DEBIAN13_UKI): $(DEBIAN13_INITRD) $(QEMU_UKI_DEPS) $(DEBIAN13_STAMP)
	$(QEMU_ENV) qemu/mkimage.sh --initrd $(DEBIAN13_INITRD) --kver $(DEBIAN13_KVER) \
		--kernel $(DEBIAN13_ROOT)/boot/vmlinuz-$(DEBIAN13_KVER) \
		--stub $(DEBIAN13_ROOT)/usr/lib/systemd/boot/efi/linuxx64.efi.stub --out $@

bench-boot: harness $(GATE_UKI) $(DRACUT_UKI) $(DEBIAN13_UKI) $(VERIFIER)
	@printf 'initramfs: Debian 12 (%s) %s bytes, Debian 13 (%s) %s bytes (zstd -19)\n' \
		$(KVER) $$(stat -c %s $(QEMU_INITRD)) $(DEBIAN13_KVER) $$(stat -c %s $(DEBIAN13_INITRD))
	$(QEMU_ENV) NG_VERIFIER=$(abspath $(VERIFIER)) BENCH_RUNS=$(BENCH_RUNS) \
		qemu/bench-boot.sh --gate-uki $(GATE_UKI) \
		--ref-uki $(REF_UKI) --dracut-uki $(DRACUT_UKI) --debian13-uki $(DEBIAN13_UKI) \
		--disk $(QEMU_DISK)
include qemu/uki.mk
