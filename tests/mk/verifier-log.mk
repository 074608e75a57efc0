# The event log parser (verifier/eventlog.c), the policy (policy.c) and its CLI (policy-cli.c):
# unit suites and the event log fuzz target. The logs they read are written at test time by
# tests/tools/mklog.py, which also computes the expected PCR values with Python's hashlib.
VERIFIER_LOG_SRCS := verifier/eventlog.c verifier/policy.c verifier/verdict.c
# -iquote: verifier/eventlog.h before src/eventlog.h (the gate's, same name) for "eventlog.h".
VERIFIER_LOG_CFLAGS := -iquote verifier -Iverifier \
	$(shell pkg-config --cflags openssl json-c 2>/dev/null) -DMKLOG='"$(abspath tests/tools/mklog.py)"'
VERIFIER_LOG_LIBS := $(shell pkg-config --libs openssl json-c 2>/dev/null)

test-verifier-eventlog_SRCS := $(VERIFIER_LOG_SRCS)
test-verifier-eventlog_CFLAGS := $(VERIFIER_LOG_CFLAGS)
test-verifier-eventlog_LIBS := $(VERIFIER_LOG_LIBS)
test-verifier-policy_SRCS := $(VERIFIER_LOG_SRCS) verifier/policy-cli.c verifier/fileutil.c
test-verifier-policy_CFLAGS := $(VERIFIER_LOG_CFLAGS)
test-verifier-policy_LIBS := $(VERIFIER_LOG_LIBS)
# tests.mk's rule knows src/*.h only.
$(UNIT_BUILD)/test-verifier-eventlog $(UNIT_BUILD)/test-verifier-policy: \
	$(wildcard verifier/*.h) tests/tools/mklog.py

fuzz-eventlog_SRCS := $(VERIFIER_LOG_SRCS)
$(FUZZ_BUILD)/fuzz-eventlog: FUZZ_CFLAGS += -iquote verifier
