# The HTTPS service of the verifier (server.c, audit.c, metrics.c, main.c) over real TLS on
# loopback: transport rules, hostile clients, limits, audit log, metrics, SIGTERM; run on the
# ASan+UBSan build, whose stderr must stay free of sanitizer reports.
.PHONY: check-verifier-service
check: check-verifier-service
check-verifier-service: $(VERIFIER_ASAN)
	tests/integration/test-verifier-service.py $(VERIFIER_ASAN)

# Unit test of the audit line and the metrics exposition (no TLS, no appraisal).
test-verifier-audit_SRCS := verifier/service/audit.c verifier/service/metrics.c verifier/appraisal/verdict.c
test-verifier-audit_CFLAGS := -Iverifier $(shell pkg-config --cflags json-c)
test-verifier-audit_LIBS := $(shell pkg-config --libs json-c) -lpthread -lm

# The soak test (issue 12): ≥ 10,000 hostile requests of every refusal class, slow clients, a
# flooder and a connection hog, mixed with loadgen's valid attestations, against one ASan+UBSan
# verifier; 0 crashes, 0 sanitizer reports, 0 tokens on refusal paths, every valid attestation
# issued, and their p99. A few minutes: not part of `make check`; run it under the heavy lock.
# SOAK_ARGS passes options through, e.g. SOAK_ARGS="--hostile 2000".
SOAK_ARGS ?=
.PHONY: bench-soak
bench-soak: $(VERIFIER_ASAN) $(LOADGEN)
	tests/bench/soak.py --verifier $(VERIFIER_ASAN) --loadgen $(LOADGEN) $(SOAK_ARGS)

# Unit test of the limits: token buckets, the per-address count, the EK chain negative cache,
# the audit log's refusal cap and reserve.
test-verifier-limits_SRCS := verifier/service/ratelimit.c verifier/service/audit.c verifier/service/metrics.c \
	verifier/appraisal/verdict.c
test-verifier-limits_CFLAGS := -Iverifier $(shell pkg-config --cflags json-c openssl)
test-verifier-limits_LIBS := $(shell pkg-config --libs json-c openssl) -lpthread -lm
$(UNIT_BUILD)/test-verifier-limits $(UNIT_BUILD)/test-verifier-audit: $(VERIFIER_HDRS)
