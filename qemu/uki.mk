# SPDX-License-Identifier: GPL-2.0-or-later
# `make uki`: a Unified Kernel Image from a kernel, the standalone initramfs and a command line
# (qemu/mkuki.sh: systemd-stub, page-aligned sections, pinned PE timestamp, optionally signed
# with sbsign), and `make uki-policy`: the verifier policy predicted from that file alone
# (`nodegate-verifier policy from-uki`, docs/measure.md). The checks of issue 6 live here too.
#
#   make uki UKI_CMDLINE="roothash=… nodegate.url=https://…" [UKI_KERNEL=…] [UKI_INITRD=…]
#            [UKI_OSREL=…] [UKI_UNAME=…] [UKI_SIGN_KEY=key.pem UKI_SIGN_CERT=cert.pem]
#            [UKI_OUT=…]
#   make uki-policy [UKI_PLATFORM_LOG=reference.log]   → $(UKI_OUT:.efi=.policy.json)

UKI_OUT ?= $(BUILD)/uki/nodegate.efi
UKI_KERNEL ?= /boot/vmlinuz-$(KVER)
UKI_INITRD ?= $(INITRD)
UKI_OSREL ?= /etc/os-release
UKI_UNAME ?= $(KVER)
UKI_CMDLINE ?=
UKI_SIGN_KEY ?=
UKI_SIGN_CERT ?=
UKI_PLATFORM_LOG ?=
# The policy's opt-ins (docs/PROTOCOL.md, "The policy file"), e.g. firmware-unjudged when there
# is no platform log, secure-boot-off for a platform without Secure Boot.
UKI_POLICY_ALLOW ?=
UKI_POLICY := $(UKI_OUT:.efi=.policy.json)

.PHONY: uki uki-policy check-predict check-reproducible

# Always reassembled (a few seconds): the command line and the options are not files make can
# date, and the same inputs give the same bytes anyway.
uki: $(UKI_INITRD)
	@test -n "$(UKI_CMDLINE)" || { echo "make uki: set UKI_CMDLINE (the kernel command line," \
		"with roothash= and nodegate.url=)" >&2; exit 1; }
	qemu/mkuki.sh --kernel $(UKI_KERNEL) --initrd $(UKI_INITRD) --cmdline "$(UKI_CMDLINE)" \
		--osrel $(UKI_OSREL) $(if $(UKI_UNAME),--uname $(UKI_UNAME)) \
		$(if $(UKI_SIGN_KEY),--sign-key $(UKI_SIGN_KEY) --sign-cert $(UKI_SIGN_CERT)) \
		--out $(UKI_OUT)

uki-policy: uki $(VERIFIER)
	$(VERIFIER) policy from-uki $(UKI_OUT) \
		$(if $(UKI_PLATFORM_LOG),--platform-log $(UKI_PLATFORM_LOG)) \
		$(if $(UKI_POLICY_ALLOW),--allow $(UKI_POLICY_ALLOW)) >$(UKI_POLICY).tmp
	@mv -f $(UKI_POLICY).tmp $(UKI_POLICY)
	@echo "policy predicted from $(UKI_OUT): $(UKI_POLICY)"
	@$(VERIFIER) policy check $(UKI_POLICY)

# The prediction against pesign, osslsigncode, sbsign and systemd-measure, and hostile files,
# with the ASan verifier (a few seconds).
check: check-predict
check-predict: $(VERIFIER_ASAN) $(QEMU_INITRD)
	tests/integration/test-predict.sh $(VERIFIER_ASAN) /boot/vmlinuz-$(KVER) $(QEMU_INITRD)

# Two clean builds of the gate, the initramfs and the UKI in two directories, byte-identical.
check: check-reproducible
check-reproducible: $(DEPS_STAMP)
	tests/integration/test-reproducible-uki.sh $(KVER)


# Debian 13's systemd-stub, systemd-measure and ukify 257 (qemu/debian13.lock), unpacked under
# $(DEBIAN13_ROOT) (qemu.mk), never installed; fetched again only when the lock changes.
$(DEBIAN13_STAMP): qemu/debian13.lock qemu/fetch-debian13.sh deps/common.sh
	BUILD=$(ABS_BUILD) qemu/fetch-debian13.sh
.PHONY: debian13 check-stub-257
debian13: $(DEBIAN13_STAMP)

# The prediction for systemd-stub 257 UKIs (ukify's and mkuki.sh's) against systemd-measure 257
# (PCR 11) and the stub's initrd and command line recomputed independently (PCR 9); refusals of
# other stub versions and multi-profile UKIs (a few seconds).
check: check-stub-257
check-stub-257: $(VERIFIER_ASAN) $(QEMU_INITRD) $(DEBIAN13_STAMP)
	tests/integration/test-stub.sh $(VERIFIER_ASAN) /boot/vmlinuz-$(KVER) $(QEMU_INITRD) \
		$(DEBIAN13_ROOT)

# Debian sid's systemd-stub, systemd-measure and ukify 262 (qemu/debian-sid.lock), unpacked under
# $(DEBIAN_SID_ROOT) the same way. Not part of `make check`: sid's pool drops a version days
# after the next upload, so the pinned fetch would break every build until the lock is bumped;
# the unit tests (tests/unit/test-verifier-pe.c) keep the 262 model in `make check`.
DEBIAN_SID_ROOT := $(BUILD)/debian-sid/root
DEBIAN_SID_STAMP := $(DEBIAN_SID_ROOT)/.lock-sha256
$(DEBIAN_SID_STAMP): qemu/debian-sid.lock qemu/fetch-debian13.sh deps/common.sh
	BUILD=$(ABS_BUILD) qemu/fetch-debian13.sh qemu/debian-sid.lock
.PHONY: debian-sid check-stub-262
debian-sid: $(DEBIAN_SID_STAMP)

# The same cross-checks as check-stub-257 for systemd-stub 262 (ukify 262's and mkuki.sh's UKI,
# a single-profile one, against systemd-measure 262), and its refusals: the next version,
# .efifw, a command line without console= (a few seconds).
check-stub-262: $(VERIFIER_ASAN) $(QEMU_INITRD) $(DEBIAN_SID_STAMP)
	tests/integration/test-stub.sh $(VERIFIER_ASAN) /boot/vmlinuz-$(KVER) $(QEMU_INITRD) \
		$(DEBIAN_SID_ROOT)
