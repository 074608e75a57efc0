# libFuzzer targets: every tests/fuzz/fuzz-NAME.c becomes $(BUILD)/tests/fuzz/fuzz-NAME (clang,
# -fsanitize=fuzzer,address,undefined), linked with fuzz-NAME_SRCS. `make check-fuzz` runs each
# for FUZZ_SECONDS from its seed corpus tests/fuzz/corpus/NAME/ (copied, so the tree stays
# clean) and fails on any crash, leak, sanitizer report or timeout. Bounded: -max_total_time.
# `make fuzz-long` runs each until FUZZ_LONG_RUNS executions or FUZZ_LONG_SECONDS, under the
# shared lock, and prints per target the executions, the coverage and the crashes.
FUZZ_BUILD := $(BUILD)/tests/fuzz
FUZZ_SECONDS ?= 15
FUZZ_LONG_RUNS ?= 10000000
FUZZ_LONG_SECONDS ?= 3600
FUZZ_LOCK ?= /tmp/heavy.lock
FUZZ_CFLAGS := -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Isrc -Iverifier -g -O1 \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
	$(shell pkg-config --cflags openssl json-c libcurl yaml-0.1 2>/dev/null)
FUZZ_LIBS := $(shell pkg-config --libs openssl json-c libcurl yaml-0.1 2>/dev/null)
FUZZ_TARGETS := $(patsubst tests/fuzz/%.c,%,$(sort $(wildcard tests/fuzz/fuzz-*.c)))
# The fixed keys, certificates and policy of the verifier targets (tests/fuzz/data/mkdata.py).
FUZZ_DATA := $(abspath tests/fuzz/data)

# Both rounds end to end on an in-process verifier (tests/fuzz/fuzz-verifier.h), the EK
# certificate path, the policy file; the gate's answer parsers and its event log reader.
fuzz-round1_SRCS := verifier/appraisal/appraise.c verifier/common/base64.c verifier/appraisal/challenge.c \
	verifier/tpm/ekcheck.c verifier/tpm/eventlog.c verifier/issuance/issuance.c verifier/policy/policy.c \
	verifier/service/request.c verifier/issuance/token-source.c verifier/issuance/kube-source.c \
	verifier/tpm/tpm2b.c verifier/tpm/tpmcrypto.c verifier/appraisal/verdict.c \
	$(VERIFIER_PLATFORM_SRCS)
fuzz-round2_SRCS := $(fuzz-round1_SRCS)
fuzz-ekcert_SRCS := verifier/tpm/ekcheck.c verifier/tpm/tpm2b.c verifier/tpm/tpmcrypto.c verifier/appraisal/verdict.c
fuzz-policy_SRCS := verifier/policy/policy.c verifier/tpm/eventlog.c verifier/appraisal/verdict.c \
	verifier/platform/platform-policy.c
# SEV-SNP reports and Azure HCL blobs through every platform check (verifier/platform/).
fuzz-snp_SRCS := $(VERIFIER_PLATFORM_SRCS) verifier/appraisal/verdict.c
$(FUZZ_BUILD)/fuzz-snp: FUZZ_CFLAGS += -iquote verifier -DCVM_FIXTURES='"$(abspath tests/fixtures/cvm)"'
# TDX quotes v4/v5 and Azure TDX HCL blobs with their TD quote through every check.
fuzz-tdx_SRCS := $(VERIFIER_PLATFORM_SRCS) verifier/appraisal/verdict.c
$(FUZZ_BUILD)/fuzz-tdx: FUZZ_CFLAGS += -iquote verifier -DCVM_FIXTURES='"$(abspath tests/fixtures/cvm)"'
# Intel's PCS collateral: the signed-bytes extraction and the TCB evaluation behind it.
fuzz-tdx-collateral_SRCS := $(VERIFIER_PLATFORM_SRCS) verifier/appraisal/verdict.c
$(FUZZ_BUILD)/fuzz-tdx-collateral: FUZZ_CFLAGS += -iquote verifier \
	-DCVM_FIXTURES='"$(abspath tests/fixtures/cvm)"'
fuzz-gate-answer_SRCS := src/attest/protocol.c src/lib/base64.c
fuzz-gate-eventlog_SRCS := src/attest/eventlog.c
# Issue 13: the Azure HCL header as a vTPM's NV could hold it (corpus: the real blobs).
fuzz-gate-hcl_SRCS := src/platform/hcl.c
# Azure TDX: the metadata service's TD quote answer (corpus: good answers, padded or not).
fuzz-gate-imds_SRCS := src/platform/imds-body.c src/lib/base64.c
# -iquote: the verifier's folders first where both sides have a folder of the same concern.
$(addprefix $(FUZZ_BUILD)/fuzz-,round1 round2 ekcert policy): \
	FUZZ_CFLAGS += -iquote verifier -DFUZZ_DATA='"$(FUZZ_DATA)"' -lpthread
$(addprefix $(FUZZ_BUILD)/fuzz-,round1 round2): tests/fuzz/fuzz-verifier.h

define fuzz_rule
$(FUZZ_BUILD)/$(1): tests/fuzz/$(1).c $$($(1)_SRCS) $$(VERIFIER_HDRS) $$(GATE_HDRS)
	@mkdir -p $$(@D)
	clang $$(FUZZ_CFLAGS) -o $$@ tests/fuzz/$(1).c $$($(1)_SRCS) $$(FUZZ_LIBS)
endef
$(foreach t,$(FUZZ_TARGETS),$(eval $(call fuzz_rule,$(t))))

# The real firmware logs of tests/fixtures/eventlogs (see its PROVENANCE) seed the event log
# targets too, read from there rather than copied into their corpora.
FUZZ_REAL_LOG_TARGETS := eventlog gate-eventlog
# Intel's real PCS responses seed the collateral target the same way.
FUZZ_REAL_PCS_TARGETS := tdx-collateral

# One target from a copy of its corpus: fuzz_run(name, libFuzzer limits)
define fuzz_run
name=$${t#fuzz-}; work=$(FUZZ_BUILD)/corpus-$$name; \
rm -rf $$work; mkdir -p $$work; \
cp -r tests/fuzz/corpus/$$name/. $$work/ 2>/dev/null || true; \
case " $(FUZZ_REAL_LOG_TARGETS) " in *" $$name "*) cp tests/fixtures/eventlogs/*.bin $$work/;; esac; \
case " $(FUZZ_REAL_PCS_TARGETS) " in *" $$name "*) cp tests/fixtures/cvm/tdx/pcs/*.json $$work/;; esac; \
ASAN_OPTIONS=detect_leaks=1 $(FUZZ_BUILD)/$$t $(1) -timeout=10 -rss_limit_mb=2048 \
	-print_final_stats=1 -artifact_prefix=$(FUZZ_BUILD)/$$t- $$work
endef

.PHONY: check-fuzz fuzz-long
check: check-fuzz
check-fuzz: $(addprefix $(FUZZ_BUILD)/,$(FUZZ_TARGETS))
	@set -e; for t in $(FUZZ_TARGETS); do \
		echo "== $$t for $(FUZZ_SECONDS) s"; \
		$(call fuzz_run,-max_total_time=$(FUZZ_SECONDS)) 2>&1 | tail -n 12; \
		test $${PIPESTATUS[0]} -eq 0 || { echo "check-fuzz: $$t FAILED" >&2; exit 1; }; \
	done

# Every target, even after one fails; the table at the end: executions, exec/s, coverage
# (libFuzzer's cov: edges and ft: features at the end), crashes (artifacts written).
fuzz-long: $(addprefix $(FUZZ_BUILD)/,$(FUZZ_TARGETS))
	@flock $(FUZZ_LOCK) $(MAKE) --no-print-directory fuzz-long-locked
.PHONY: fuzz-long-locked
fuzz-long-locked:
	@fail=0; summary=$(FUZZ_BUILD)/fuzz-long.txt; \
	printf '%-20s %12s %8s %8s %8s %8s %8s\n' target executions exec/s cov ft seconds crashes \
		> $$summary; \
	for t in $(FUZZ_TARGETS); do \
		echo "== $$t: $(FUZZ_LONG_RUNS) executions or $(FUZZ_LONG_SECONDS) s"; \
		log=$(FUZZ_BUILD)/$$t-long.log; \
		rm -f $(FUZZ_BUILD)/$$t-crash-* $(FUZZ_BUILD)/$$t-leak-* $(FUZZ_BUILD)/$$t-timeout-*; \
		start=$$(date +%s); \
		( $(call fuzz_run,-runs=$(FUZZ_LONG_RUNS) -max_total_time=$(FUZZ_LONG_SECONDS)) ) \
			> $$log 2>&1; rc=$$?; \
		secs=$$(( $$(date +%s) - start )); \
		tail -n 4 $$log; \
		execs=$$(sed -n 's/^stat::number_of_executed_units: *//p' $$log); \
		rate=$$(sed -n 's/^stat::average_exec_per_sec: *//p' $$log); \
		last=$$(grep -E '^#[0-9]+' $$log | tail -n 1); \
		cov=$$(echo "$$last" | sed -n 's/.* cov: \([0-9]*\).*/\1/p'); \
		ft=$$(echo "$$last" | sed -n 's/.* ft: \([0-9]*\).*/\1/p'); \
		crashes=$$(ls $(FUZZ_BUILD)/$$t-crash-* $(FUZZ_BUILD)/$$t-leak-* \
			$(FUZZ_BUILD)/$$t-timeout-* 2>/dev/null | wc -l); \
		test $$rc -eq 0 || { fail=1; test $$crashes -gt 0 || crashes=rc$$rc; }; \
		printf '%-20s %12s %8s %8s %8s %8s %8s\n' $$t "$${execs:-?}" "$${rate:-?}" \
			"$${cov:-?}" "$${ft:-?}" $$secs $$crashes >> $$summary; \
	done; \
	echo; cat $$summary; exit $$fail
