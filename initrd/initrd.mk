# SPDX-License-Identifier: GPL-2.0-or-later
# The standalone initramfs: nodegate as /init plus the kernel modules it loads (initrd/), and
# the host tool that writes its cpio archive.
# `make initrd KVER=… NODEGATE_CONF=… INITRD_CA=… EXTRA_MODULES=…`

# The newest kernel that has both a /boot/vmlinuz-KVER (what the UKI boots) and its modules.
INITRD_NEWEST_KVER := $(shell for k in $$(ls /boot 2>/dev/null | sed -n 's/^vmlinuz-//p'); do \
	[ -d /lib/modules/$$k ] && echo $$k; done | sort -V | tail -n 1)
KVER ?= $(INITRD_NEWEST_KVER)
INITRD_DIR := $(BUILD)/initrd
INITRD := $(INITRD_DIR)/initrd.img
MKCPIO := $(INITRD_DIR)/mkcpio
# Optional: a nodegate.conf to install as /etc/nodegate/nodegate.conf, the PEM bundle of the
# CAs the gate trusts for the verifier (/etc/nodegate/ca.pem, see nodegate.ca=), extra modules.
NODEGATE_CONF ?=
INITRD_CA ?=
EXTRA_MODULES ?=
export INITRD KVER

HOST_CC ?= gcc
MKCPIO_CFLAGS := -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -O2 -Isrc

INITRD_SCRIPTS := initrd/mkinitrd.sh initrd/resolve-modules.sh initrd/modules.default

.PHONY: initrd check-initrd check

$(MKCPIO): initrd/mkcpio.c src/util.h
	@mkdir -p $(@D)
	$(HOST_CC) $(MKCPIO_CFLAGS) -o $@ initrd/mkcpio.c

# What the file prerequisites cannot see: another KVER, config file, module list or
# SOURCE_DATE_EPOCH (the mtime inside the archive) must rebuild the image too, so that the file
# in $(BUILD) is always what a fresh build would give. Rewritten only when it changes.
INITRD_PARAMS := $(KVER) $(SOURCE_DATE_EPOCH) $(abspath $(NODEGATE_CONF)) \
	$(abspath $(INITRD_CA)) $(EXTRA_MODULES)
$(INITRD_DIR)/params: initrd-params-check
	@mkdir -p $(@D)
	@echo '$(INITRD_PARAMS)' | cmp -s - $@ || echo '$(INITRD_PARAMS)' >$@
.PHONY: initrd-params-check
initrd-params-check:

# modules.dep: depmod rewrites it whenever the kernel package changes the module files.
$(INITRD): $(NODEGATE) $(MKCPIO) $(INITRD_SCRIPTS) $(NODEGATE_CONF) $(INITRD_CA) \
		$(INITRD_DIR)/params $(if $(KVER),/lib/modules/$(KVER)/modules.dep)
	@test -n "$(KVER)" || { echo "initrd: no kernel found; set KVER" >&2; exit 1; }
	initrd/mkinitrd.sh --mkcpio $(MKCPIO) $(if $(NODEGATE_CONF),--conf $(NODEGATE_CONF)) \
		$(if $(INITRD_CA),--ca $(INITRD_CA)) \
		$(foreach m,$(EXTRA_MODULES),--add-module $(m)) $(KVER) $(NODEGATE) $@

initrd: $(INITRD)

check: check-initrd

check-initrd: $(NODEGATE) $(MKCPIO)
	tests/initrd/test-mkcpio.sh $(MKCPIO)
	tests/initrd/test-resolve-modules.sh $(KVER)
	tests/initrd/test-reproducible.sh $(KVER) $(NODEGATE) $(MKCPIO)
