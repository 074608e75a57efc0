# Measurement prediction (verifier/policy/pe.c, verifier/policy/predict.c): the unit suite on synthetic PE
# images and the PE/UKI fuzz target. The checks against real tools and boots are in qemu/uki.mk.
VERIFIER_PREDICT_SRCS := verifier/policy/pe.c verifier/policy/predict.c verifier/tpm/eventlog.c verifier/appraisal/verdict.c
test-verifier-pe_SRCS := $(VERIFIER_PREDICT_SRCS)
test-verifier-pe_CFLAGS := -iquote verifier -Iverifier $(shell pkg-config --cflags openssl json-c 2>/dev/null)
test-verifier-pe_LIBS := $(shell pkg-config --libs openssl json-c 2>/dev/null)
$(UNIT_BUILD)/test-verifier-pe: $(VERIFIER_HDRS)

fuzz-pe_SRCS := $(VERIFIER_PREDICT_SRCS)
$(FUZZ_BUILD)/fuzz-pe: FUZZ_CFLAGS += -iquote verifier

# policy-cli.c (linked by test-verifier-policy, tests/mk/verifier-log.mk) now has `from-uki`:
# the recipe expands the _SRCS list when it runs, so a target-specific append reaches it, and
# the plain prerequisite line rebuilds the test when the prediction changes.
$(UNIT_BUILD)/test-verifier-policy: test-verifier-policy_SRCS += verifier/policy/pe.c verifier/policy/predict.c
$(UNIT_BUILD)/test-verifier-policy: verifier/policy/pe.c verifier/policy/predict.c
