# The HTTPS service of the verifier (server.c, audit.c, metrics.c, main.c) over real TLS on
# loopback: transport rules, hostile clients, limits, audit log, metrics, SIGTERM; run on the
# ASan+UBSan build, whose stderr must stay free of sanitizer reports.
.PHONY: check-verifier-service
check: check-verifier-service
check-verifier-service: $(VERIFIER_ASAN)
	tests/integration/test-verifier-service.py $(VERIFIER_ASAN)

# Unit test of the audit line and the metrics exposition (no TLS, no appraisal).
test-verifier-audit_SRCS := verifier/audit.c verifier/metrics.c verifier/verdict.c
test-verifier-audit_CFLAGS := -Iverifier $(shell pkg-config --cflags json-c)
test-verifier-audit_LIBS := $(shell pkg-config --libs json-c) -lpthread -lm
