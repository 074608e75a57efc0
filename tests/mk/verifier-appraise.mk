# The appraise helper's tests: request parsing, challenges, EK trust, token sources and the
# two rounds in-process (unit, cmocka under ASan+UBSan); the request parser under libFuzzer.
# -iquote: verifier/base64.h before src/base64.h (the gate's, same names) for "base64.h".
VERIFIER_UNIT_CFLAGS := -iquote verifier -Iverifier $(shell pkg-config --cflags openssl json-c 2>/dev/null)
VERIFIER_UNIT_LIBS := $(shell pkg-config --libs openssl json-c 2>/dev/null) -lpthread
VERIFIER_APPRAISE_SRCS := verifier/appraise.c verifier/base64.c verifier/challenge.c \
	verifier/ekcheck.c verifier/eventlog.c verifier/issuance.c verifier/policy.c verifier/request.c \
	verifier/token-source.c verifier/tpm2b.c verifier/tpmcrypto.c verifier/verdict.c

test-verifier-request_SRCS := verifier/request.c verifier/base64.c verifier/verdict.c
test-verifier-challenge_SRCS := verifier/challenge.c verifier/verdict.c
test-verifier-ekcheck_SRCS := verifier/ekcheck.c verifier/ek-cli.c verifier/fileutil.c \
	verifier/tpm2b.c verifier/tpmcrypto.c verifier/verdict.c
test-verifier-token_SRCS := verifier/token-source.c
test-verifier-issuance_SRCS := verifier/issuance.c verifier/token-source.c
test-verifier-appraise_SRCS := $(VERIFIER_APPRAISE_SRCS)

VERIFIER_APPRAISE_TESTS := request challenge ekcheck token issuance appraise
$(foreach t,$(VERIFIER_APPRAISE_TESTS),\
	$(eval test-verifier-$(t)_CFLAGS := $(VERIFIER_UNIT_CFLAGS))\
	$(eval test-verifier-$(t)_LIBS := $(VERIFIER_UNIT_LIBS)))
# The generic rule only tracks src/*.h; these tests depend on the verifier's headers.
$(addprefix $(UNIT_BUILD)/test-verifier-,$(VERIFIER_APPRAISE_TESTS)): $(wildcard verifier/*.h)

fuzz-request_SRCS := verifier/request.c verifier/base64.c verifier/verdict.c
$(FUZZ_BUILD)/fuzz-request: FUZZ_CFLAGS += -iquote verifier

# Real firmware event logs and vendor EK certificates (tests/fixtures/*/PROVENANCE), replayed
# against the values their sources recorded. Part of check-unit; `make check-real-data` alone.
test-verifier-realdata_SRCS := verifier/ekcheck.c verifier/ek-cli.c verifier/eventlog.c \
	verifier/fileutil.c verifier/tpm2b.c verifier/tpmcrypto.c verifier/verdict.c
test-verifier-realdata_CFLAGS := $(VERIFIER_UNIT_CFLAGS) \
	-DREALDATA_DIR='"$(abspath tests/fixtures)"'
test-verifier-realdata_LIBS := $(VERIFIER_UNIT_LIBS)
$(UNIT_BUILD)/test-verifier-realdata: $(wildcard verifier/*.h) \
	$(wildcard tests/fixtures/eventlogs/* tests/fixtures/ek-certs/*)

.PHONY: check-real-data
check-real-data: $(UNIT_BUILD)/test-verifier-realdata
	$(UNIT_ENV) $<
