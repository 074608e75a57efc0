# The verifier benchmark (`make bench-verifier`, part of `make bench`): tests/bench/loadgen, a
# software node (EK, AK, ActivateCredential and Quote in OpenSSL) that runs full attestations
# against the optimized verifier over HTTPS keep-alive, and the script that sets up and measures.
# It measures three verifiers one after the other: without platform evidence, and with an
# SEV-SNP report in every round 2 (protocol version 3; the VCEK in the request, then from the
# verifier's --vcek-cache), so the table shows what SNP adds to an attestation.
# `make check-bench-softnode` checks that node against the verifier's own TPM and SEV-SNP code;
# `make check-bench-snp` that the reports it builds and signs in C are accepted.
BENCH_BUILD := $(BUILD)/tests/bench
LOADGEN := $(BENCH_BUILD)/loadgen
BENCH_PKGS := libcurl json-c openssl
BENCH_CFLAGS := -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Isrc -Itests/bench -g -O2 \
	$(shell pkg-config --cflags $(BENCH_PKGS) 2>/dev/null)
BENCH_LIBS := $(shell pkg-config --libs $(BENCH_PKGS) 2>/dev/null) -lm
BENCH_ARGS ?=

$(LOADGEN): tests/bench/loadgen.c tests/bench/softnode.c tests/bench/softnode.h src/util.h
	@mkdir -p $(@D)
	gcc $(BENCH_CFLAGS) -o $@ tests/bench/loadgen.c tests/bench/softnode.c $(BENCH_LIBS)

# Under the sanitizers, like the unit tests, linked with the verifier's TPM and SEV-SNP sources.
SOFTNODE_CHECK_SRCS := tests/bench/softnode-check.c tests/bench/softnode.c verifier/tpm/tpm2b.c \
	verifier/tpm/tpmcrypto.c $(VERIFIER_PLATFORM_SRCS) verifier/appraisal/verdict.c
$(BENCH_BUILD)/softnode-check: $(SOFTNODE_CHECK_SRCS) tests/bench/softnode.h \
		$(VERIFIER_HDRS) src/util.h
	@mkdir -p $(@D)
	$(UNIT_CC) $(UNIT_CFLAGS) -Iverifier -Itests/bench \
		$(shell pkg-config --cflags json-c 2>/dev/null) -o $@ $(SOFTNODE_CHECK_SRCS) \
		$(UNIT_LDLIBS) $(shell pkg-config --libs openssl json-c 2>/dev/null) -lpthread

.PHONY: bench-verifier check-bench-softnode
bench: bench-verifier
check: check-bench-softnode

check-bench-softnode: $(BENCH_BUILD)/softnode-check
	$(UNIT_ENV) $<

# BENCH_ARGS passes options through, e.g. BENCH_ARGS="--duration 5 --no-perf" or
# BENCH_ARGS="--platform snp" (none, snp, snp-cache; all three by default).
bench-verifier: $(VERIFIER) $(LOADGEN)
	tests/bench/bench-verifier.sh --verifier $(VERIFIER) --loadgen $(LOADGEN) $(BENCH_ARGS)

# Not a measurement: one second of loadgen's SEV-SNP attestations (the report built and signed
# in C, tests/bench/softnode.c) against the ASan+UBSan verifier, with the VCEK in the request
# and from --vcek-cache; fails unless every one got its token and the verifier exits cleanly.
.PHONY: check-bench-snp
check: check-bench-snp
check-bench-snp: $(VERIFIER_ASAN) $(LOADGEN)
	tests/bench/bench-verifier.sh --verifier $(VERIFIER_ASAN) --loadgen $(LOADGEN) --check \
		--platform "snp snp-cache" --duration 1 --connections 4 --nodes 8 --tokens 4000

# What SEV-SNP evidence adds to one attestation: platform_verify() on a real report and a real
# Azure HCL blob (tests/bench/bench-platform.c), the chain cached after the first verification
# as in the service. Part of `make bench`; BENCH_PLATFORM_RUNS verifications each.
BENCH_PLATFORM_RUNS ?= 2000
$(BENCH_BUILD)/bench-platform: tests/bench/bench-platform.c $(VERIFIER_PLATFORM_SRCS) \
		verifier/appraisal/verdict.c $(VERIFIER_HDRS)
	@mkdir -p $(@D)
	gcc $(BENCH_CFLAGS) -Iverifier -o $@ tests/bench/bench-platform.c $(VERIFIER_PLATFORM_SRCS) \
		verifier/appraisal/verdict.c $(BENCH_LIBS) -lpthread
.PHONY: bench-platform
bench: bench-platform
bench-platform: $(BENCH_BUILD)/bench-platform
	$< tests/fixtures/cvm $(BENCH_PLATFORM_RUNS)
