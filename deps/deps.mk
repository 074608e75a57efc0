# SPDX-License-Identifier: GPL-2.0-or-later
# The static musl dependency stack (deps/sources.lock), built into a private prefix under
# $(BUILD): the compiler, flags and link line the gate is built with.

DEPS_PREFIX := $(ABS_BUILD)/deps/prefix
DEPS_STAMP := $(BUILD)/deps/.done
# musl-gcc with the prefix's specs (deps/build.sh), which can also link -static-pie.
MUSL_CC := x86_64-linux-gnu-gcc -specs $(DEPS_PREFIX)/musl-static-pie.specs

# -isystem: warnings in the libraries' headers must not fail the gate's -Werror build.
DEPS_CFLAGS := -isystem $(DEPS_PREFIX)/uapi -isystem $(DEPS_PREFIX)/include

# Host .pc files (glibc builds) must never be consulted, hence LIBDIR as well as PATH.
DEPS_PKG_CONFIG = PKG_CONFIG_PATH=$(DEPS_PREFIX)/lib/pkgconfig \
	PKG_CONFIG_LIBDIR=$(DEPS_PREFIX)/lib/pkgconfig pkg-config --static
DEPS_PKGS := libcryptsetup tss2-esys tss2-tcti-device tss2-sys tss2-mu tss2-rc libcurl \
	mbedtls mbedx509 mbedcrypto json-c blkid uuid
# Lazy: the prefix exists only once $(DEPS_STAMP) is built, which is before any link.
# pkg-config repeats -L and libraries once per package asking for them; keeping only the last
# copy of each still puts every library after all its users, as static linking needs.
DEPS_LIBS = $(shell $(DEPS_PKG_CONFIG) --libs $(DEPS_PKGS) 2>/dev/null | \
	tr -s ' ' '\n' | tac | awk 'NF && !seen[$$0]++' | tac | tr '\n' ' ')

DEPS_SCRIPTS := deps/sources.lock deps/debian-patches.skip deps/common.sh deps/fetch.sh deps/build.sh \
	$(wildcard deps/patches/*/*.patch)

.PHONY: deps deps-fetch clean-deps

# Always asks the scripts: they skip what is cached (tarball hash, library stamp) and say so.
deps:
	BUILD=$(ABS_BUILD) bash deps/fetch.sh
	BUILD=$(ABS_BUILD) bash deps/build.sh

deps-fetch:
	BUILD=$(ABS_BUILD) bash deps/fetch.sh

$(DEPS_STAMP): $(DEPS_SCRIPTS)
	BUILD=$(ABS_BUILD) bash deps/fetch.sh
	BUILD=$(ABS_BUILD) bash deps/build.sh
	@touch $@

# Keeps the downloaded tarballs; distclean removes those too.
clean-deps:
	rm -rf $(BUILD)/deps/work $(BUILD)/deps/prefix $(BUILD)/deps/stamps \
		$(BUILD)/deps/logs $(DEPS_STAMP)
