# The appraise helper's tests: request parsing, challenges, EK trust, token sources and the
# two rounds in-process (unit, cmocka under ASan+UBSan); the request parser under libFuzzer.
# -iquote: the verifier's folders first where both sides have a folder of the same concern.
# token-source.c brings the kubernetes source (kube-source.c: libcurl, libyaml) along.
VERIFIER_UNIT_CFLAGS := -iquote verifier -Iverifier \
	$(shell pkg-config --cflags openssl json-c libcurl yaml-0.1 2>/dev/null)
VERIFIER_UNIT_LIBS := $(shell pkg-config --libs openssl json-c libcurl yaml-0.1 2>/dev/null) -lpthread
VERIFIER_TOKEN_SRCS := verifier/issuance/token-source.c verifier/issuance/kube-source.c \
	verifier/common/base64.c verifier/common/fileutil.c
VERIFIER_APPRAISE_SRCS := verifier/appraisal/appraise.c verifier/common/base64.c verifier/appraisal/challenge.c \
	verifier/tpm/ekcheck.c verifier/tpm/eventlog.c verifier/issuance/issuance.c verifier/policy/policy.c verifier/service/request.c \
	verifier/issuance/token-source.c verifier/issuance/kube-source.c verifier/tpm/tpm2b.c \
	verifier/tpm/tpmcrypto.c verifier/appraisal/verdict.c \
	$(VERIFIER_PLATFORM_SRCS)

test-verifier-request_SRCS := verifier/service/request.c verifier/common/base64.c verifier/appraisal/verdict.c
test-verifier-challenge_SRCS := verifier/appraisal/challenge.c verifier/appraisal/verdict.c
test-verifier-ekcheck_SRCS := verifier/tpm/ekcheck.c verifier/cli/ek-cli.c verifier/common/fileutil.c \
	verifier/tpm/tpm2b.c verifier/tpm/tpmcrypto.c verifier/appraisal/verdict.c
test-verifier-token_SRCS := $(VERIFIER_TOKEN_SRCS)
test-verifier-issuance_SRCS := verifier/issuance/issuance.c $(VERIFIER_TOKEN_SRCS)
test-verifier-appraise_SRCS := $(VERIFIER_APPRAISE_SRCS)

VERIFIER_APPRAISE_TESTS := request challenge ekcheck token issuance appraise
$(foreach t,$(VERIFIER_APPRAISE_TESTS),\
	$(eval test-verifier-$(t)_CFLAGS := $(VERIFIER_UNIT_CFLAGS))\
	$(eval test-verifier-$(t)_LIBS := $(VERIFIER_UNIT_LIBS)))
# The generic rule only tracks the gate's headers; these tests depend on the verifier's headers.
$(addprefix $(UNIT_BUILD)/test-verifier-,$(VERIFIER_APPRAISE_TESTS)): $(VERIFIER_HDRS)

fuzz-request_SRCS := verifier/service/request.c verifier/common/base64.c verifier/appraisal/verdict.c
$(FUZZ_BUILD)/fuzz-request: FUZZ_CFLAGS += -iquote verifier

# Real firmware event logs and vendor EK certificates (tests/fixtures/*/PROVENANCE), replayed
# against the values their sources recorded. Part of check-unit; `make check-real-data` alone.
test-verifier-realdata_SRCS := verifier/tpm/ekcheck.c verifier/cli/ek-cli.c verifier/tpm/eventlog.c \
	verifier/common/fileutil.c verifier/tpm/tpm2b.c verifier/tpm/tpmcrypto.c verifier/appraisal/verdict.c
test-verifier-realdata_CFLAGS := $(VERIFIER_UNIT_CFLAGS) \
	-DREALDATA_DIR='"$(abspath tests/fixtures)"'
test-verifier-realdata_LIBS := $(VERIFIER_UNIT_LIBS)
$(UNIT_BUILD)/test-verifier-realdata: $(VERIFIER_HDRS) \
	$(wildcard tests/fixtures/eventlogs/* tests/fixtures/ek-certs/*)

.PHONY: check-real-data
check-real-data: $(UNIT_BUILD)/test-verifier-realdata
	$(UNIT_ENV) $<
