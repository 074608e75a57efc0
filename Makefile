# nodegate — top-level build. Each part of the tree owns a fragment: deps/deps.mk,
# initrd/initrd.mk, qemu/qemu.mk, tests/tests.mk. This file holds the gate binary itself.
SHELL := /bin/bash
.DEFAULT_GOAL := all

BUILD ?= build
ABS_BUILD := $(abspath $(BUILD))
SOURCE_DATE_EPOCH ?= $(shell git log -1 --format=%ct 2>/dev/null || echo 1700000000)
export SOURCE_DATE_EPOCH

include deps/deps.mk

GATE_SRCS := $(sort $(wildcard src/*.c src/*/*.c))
# Headers of each side, for prerequisites: the tree is one level of concern folders deep.
GATE_HDRS := $(wildcard src/*.h src/*/*.h)
VERIFIER_HDRS := $(wildcard verifier/*.h verifier/*/*.h)
GATE_OBJS := $(patsubst src/%.c,$(BUILD)/obj/%.o,$(GATE_SRCS))
NODEGATE := $(BUILD)/nodegate
SIZE_BUDGET := 1835008

# Recursive (=): the versions come from the prefix, which exists only after `make deps`.
GATE_VERSION_DEFS = -DCRYPTSETUP_VERSION='"$(shell $(DEPS_PKG_CONFIG) --modversion libcryptsetup)"' \
	-DTSS2_VERSION='"$(shell $(DEPS_PKG_CONFIG) --modversion tss2-esys)"'
# No _FORTIFY_SOURCE: musl's headers have no fortified variants, so the macro would change
# nothing while claiming checks the binary does not have. The hardening the gate does get:
# stack protector (its code and every library, deps/build.sh), static-pie (ASLR for PID 1),
# full RELRO and a non-executable stack; `make size` checks them on the binary.
GATE_CFLAGS = -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Os -g0 \
	-ffunction-sections -fdata-sections -fno-asynchronous-unwind-tables \
	-ffile-prefix-map=$(CURDIR)=. -Isrc -fPIE -fstack-protector-strong \
	$(DEPS_CFLAGS) $(GATE_VERSION_DEFS)
GATE_LDFLAGS := -static-pie -s -Wl,--gc-sections -Wl,--build-id=none -Wl,-z,noexecstack \
	-Wl,-z,relro -Wl,-z,now

.PHONY: all size clean distclean format
all: $(NODEGATE)

$(BUILD)/obj/%.o: src/%.c $(GATE_HDRS) $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(MUSL_CC) $(GATE_CFLAGS) -c $< -o $@

$(NODEGATE): $(GATE_OBJS) $(DEPS_STAMP)
	$(MUSL_CC) $(GATE_CFLAGS) $(GATE_LDFLAGS) -o $@ $(GATE_OBJS) $(DEPS_LIBS)
	@if readelf -l $@ | grep -q INTERP || readelf -d $@ | grep -q NEEDED; then \
		echo "$@ is not fully static" >&2; rm -f $@; exit 1; fi

# The budget, and the hardening the binary must carry (tests/check-hardening.sh).
size: $(NODEGATE)
	@file $(NODEGATE)
	@s=$$(stat -c %s $(NODEGATE)); \
	printf 'nodegate stripped size: %d bytes (%.2f MiB), budget %d bytes (1.75 MiB)\n' \
		$$s $$(echo "$$s/1048576" | bc -l) $(SIZE_BUDGET); \
	test $$s -le $(SIZE_BUDGET) || { echo "over the size budget" >&2; exit 1; }
	@tests/check-hardening.sh $(NODEGATE) $(DEPS_PREFIX)/lib $(GATE_OBJS)

C_FILES = $(wildcard src/*.[ch] src/*/*.[ch] tests/unit/*.[ch] tests/unit/fixtures/*.h initrd/*.c)

format:
	clang-format -i $(C_FILES)

# The house style, checked: clang-format for C, shellcheck for every shell script.
.PHONY: check-style
check: check-style
check-style:
	tests/check-style.sh

clean:
	rm -rf $(BUILD)/obj $(NODEGATE) $(BUILD)/initrd $(BUILD)/qemu $(BUILD)/tests

# Removes the dependency prefix too: the next build fetches and compiles them again.
distclean:
	rm -rf $(BUILD)

# Every benchmark of the project; today the boot benchmark (qemu/qemu.mk).
.PHONY: bench
bench: bench-boot

include verifier/verifier.mk
include initrd/initrd.mk
include qemu/qemu.mk
include tests/tests.mk
