# The event log parser (verifier/tpm/eventlog.c), the policy (policy.c) and its CLI (policy-cli.c):
# unit suites and the event log fuzz target. The logs they read are written at test time by
# tests/tools/mklog.py, which also computes the expected PCR values with Python's hashlib.
VERIFIER_LOG_SRCS := verifier/tpm/eventlog.c verifier/policy/policy.c verifier/appraisal/verdict.c \
	verifier/platform/platform-policy.c
# -iquote: the verifier's folders first where both sides have a folder of the same concern.
VERIFIER_LOG_CFLAGS := -iquote verifier -Iverifier \
	$(shell pkg-config --cflags openssl json-c 2>/dev/null) -DMKLOG='"$(abspath tests/tools/mklog.py)"'
VERIFIER_LOG_LIBS := $(shell pkg-config --libs openssl json-c 2>/dev/null)

test-verifier-eventlog_SRCS := $(VERIFIER_LOG_SRCS)
test-verifier-eventlog_CFLAGS := $(VERIFIER_LOG_CFLAGS)
test-verifier-eventlog_LIBS := $(VERIFIER_LOG_LIBS)
test-verifier-policy_SRCS := $(VERIFIER_LOG_SRCS) verifier/cli/policy-cli.c verifier/common/fileutil.c
test-verifier-policy_CFLAGS := $(VERIFIER_LOG_CFLAGS)
test-verifier-policy_LIBS := $(VERIFIER_LOG_LIBS)
# tests.mk's rule knows the gate's headers only.
$(UNIT_BUILD)/test-verifier-eventlog $(UNIT_BUILD)/test-verifier-policy: \
	$(VERIFIER_HDRS) tests/tools/mklog.py

fuzz-eventlog_SRCS := $(VERIFIER_LOG_SRCS)
$(FUZZ_BUILD)/fuzz-eventlog: FUZZ_CFLAGS += -iquote verifier
