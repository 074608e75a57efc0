# Unit tests: every tests/unit/test-NAME.c becomes $(BUILD)/tests/unit/test-NAME, built with the
# host gcc under ASan and UBSan, linked with cmocka and the sources listed for it below.
# `make check-unit` builds and runs them all and fails if any fails.
# Other fragments add their own prerequisites to `check` with a line of their own
# (check: check-e2e); `check` has no recipe anywhere, so those lists simply add up.

BUILD ?= build
UNIT_BUILD := $(BUILD)/tests/unit
UNIT_CC ?= gcc
UNIT_CFLAGS := -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Isrc -g -O1 \
	-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
UNIT_LDLIBS := -lcmocka
# Aborting on the first report makes a sanitizer finding fail the test, not just print.
UNIT_ENV := ASAN_OPTIONS=abort_on_error=1:detect_leaks=1:strict_string_checks=1 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

# Verifier-side fragments (unit suites, fuzzing, integration) add their own rules here.
include $(sort $(wildcard tests/mk/*.mk))

UNIT_TESTS := $(patsubst tests/unit/%.c,%,$(sort $(wildcard tests/unit/test-*.c)))

# Per test: test-NAME_SRCS (the src/ files it links), and optionally test-NAME_CFLAGS and
# test-NAME_LIBS (e.g. $$(shell pkg-config --libs blkid) for tests of devices.c or verity.c).
# A test without a _SRCS line fails to link, which is the reminder to add one.
UNIT_PARSER_SRCS := src/lib/parse-util.c src/config/settings.c src/config/settings-apply.c src/storage/verity-options.c \
	src/storage/mount-options.c src/boot/failure-action.c src/net/ip-config.c

test-cmdline_SRCS := $(UNIT_PARSER_SRCS) src/config/cmdline.c src/lib/fileio.c
test-cmdline-read_SRCS := $(UNIT_PARSER_SRCS) src/config/cmdline.c src/lib/fileio.c
test-config_SRCS := $(UNIT_PARSER_SRCS) src/config/config.c src/config/cmdline.c src/lib/fileio.c
test-verity-options_SRCS := src/lib/parse-util.c src/storage/verity-options.c
test-mount-options_SRCS := src/lib/parse-util.c src/storage/mount-options.c
test-initrd-args_SRCS := src/boot/initrd-args.c

# Tests whose fixtures are built by tests/unit/fixtures/*.sh at setup time.
UNIT_FIXTURES_CFLAGS := -DFIXTURES_DIR='"$(abspath tests/unit/fixtures)"'
test-devices_SRCS := src/storage/devices.c src/lib/parse-util.c src/lib/log.c
test-devices_CFLAGS := $(UNIT_FIXTURES_CFLAGS)
test-devices_LIBS := $(shell pkg-config --libs blkid)
test-verity_SRCS := src/storage/verity.c src/storage/verity-options.c src/lib/parse-util.c
test-verity_CFLAGS := $(UNIT_FIXTURES_CFLAGS)
test-verity_LIBS := $(shell pkg-config --libs libcryptsetup)
test-modules_SRCS := src/storage/modules.c src/lib/fileio.c
test-switchroot_SRCS := src/boot/switchroot.c
test-failure_SRCS := src/boot/failure.c src/boot/failure-action.c src/lib/log.c
$(addprefix $(UNIT_BUILD)/test-,devices verity modules switchroot failure): \
	$(wildcard tests/unit/fixtures/*)

# Every failure in src/boot/failure.h must be asserted by some test (FAILED <name> in an e2e
# scenario, FAILURE_<ID> in a unit test); the script lists where and names the uncovered.
.PHONY: check-failure-coverage
check: check-failure-coverage
check-failure-coverage:
	@tests/check-failure-coverage.sh

define unit_test_rule
$(UNIT_BUILD)/$(1): tests/unit/$(1).c $$($(1)_SRCS) $$(GATE_HDRS) $$(wildcard tests/unit/*.h)
	@mkdir -p $$(@D)
	$$(UNIT_CC) $$(UNIT_CFLAGS) $$($(1)_CFLAGS) -o $$@ tests/unit/$(1).c $$($(1)_SRCS) \
		$$(UNIT_LDLIBS) $$($(1)_LIBS)
endef
$(foreach t,$(UNIT_TESTS),$(eval $(call unit_test_rule,$(t))))

.PHONY: check check-unit
check: check-unit

check-unit: $(addprefix $(UNIT_BUILD)/,$(UNIT_TESTS))
	@failed=""; \
	for t in $^; do \
		echo "== $$t"; \
		$(UNIT_ENV) $$t || failed="$$failed $${t##*/}"; \
	done; \
	if [ -n "$$failed" ]; then echo "check-unit: FAILED:$$failed" >&2; exit 1; fi; \
	echo "check-unit: all $(words $^) unit tests passed"

# The static gate's TPM path (ESAPI + device TCTI) against a real swtpm on a pty.
.PHONY: check-integration
check: check-integration
check-integration: $(NODEGATE)
	tests/integration/test-tpm-info.py $(NODEGATE)

# Sessions salted to ECC keys with the gate's own static tpm2-tss (deps/patches), against swtpm.
SALT_PROBE := $(BUILD)/tests/salted-sessions
$(SALT_PROBE): tests/integration/salted-sessions.c $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(MUSL_CC) $(GATE_CFLAGS) $(GATE_LDFLAGS) -o $@ $< $(DEPS_LIBS)

.PHONY: check-salted-sessions
check: check-salted-sessions
check-salted-sessions: $(SALT_PROBE)
	tests/integration/test-salted-sessions.py $(SALT_PROBE)
