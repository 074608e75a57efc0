# libFuzzer targets: every tests/fuzz/fuzz-NAME.c becomes $(BUILD)/tests/fuzz/fuzz-NAME (clang,
# -fsanitize=fuzzer,address,undefined), linked with fuzz-NAME_SRCS. `make check-fuzz` runs each
# for FUZZ_SECONDS from its seed corpus tests/fuzz/corpus/NAME/ (copied, so the tree stays
# clean) and fails on any crash, leak, sanitizer report or timeout. Bounded: -max_total_time.
FUZZ_BUILD := $(BUILD)/tests/fuzz
FUZZ_SECONDS ?= 30
FUZZ_CFLAGS := -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Isrc -Iverifier -g -O1 \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
	$(shell pkg-config --cflags openssl json-c 2>/dev/null)
FUZZ_LIBS := $(shell pkg-config --libs openssl json-c 2>/dev/null)
FUZZ_TARGETS := $(patsubst tests/fuzz/%.c,%,$(sort $(wildcard tests/fuzz/fuzz-*.c)))

define fuzz_rule
$(FUZZ_BUILD)/$(1): tests/fuzz/$(1).c $$($(1)_SRCS) $$(wildcard verifier/*.h src/*.h)
	@mkdir -p $$(@D)
	clang $$(FUZZ_CFLAGS) -o $$@ tests/fuzz/$(1).c $$($(1)_SRCS) $$(FUZZ_LIBS)
endef
$(foreach t,$(FUZZ_TARGETS),$(eval $(call fuzz_rule,$(t))))

.PHONY: check-fuzz
check: check-fuzz
check-fuzz: $(addprefix $(FUZZ_BUILD)/,$(FUZZ_TARGETS))
	@set -e; for t in $(FUZZ_TARGETS); do \
		name=$${t#fuzz-}; work=$(FUZZ_BUILD)/corpus-$$name; \
		rm -rf $$work; mkdir -p $$work; \
		cp -r tests/fuzz/corpus/$$name/. $$work/ 2>/dev/null || true; \
		echo "== $$t for $(FUZZ_SECONDS) s"; \
		ASAN_OPTIONS=detect_leaks=1 $(FUZZ_BUILD)/$$t -max_total_time=$(FUZZ_SECONDS) \
			-timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
			-artifact_prefix=$(FUZZ_BUILD)/$$t- $$work 2>&1 | tail -n 12; \
		test $${PIPESTATUS[0]} -eq 0 || { echo "check-fuzz: $$t FAILED" >&2; exit 1; }; \
	done
