# The verifier's TPM cryptography (verifier/tpm/tpm2b.c, tpmcrypto.c): unit suites, and the
# integration test that holds it against swtpm + tpm2-tools through tests/integration/crypto-tool.
VERIFIER_CRYPTO_SRCS := verifier/tpm/tpm2b.c verifier/tpm/tpmcrypto.c
VERIFIER_CRYPTO_LIBS := $(shell pkg-config --libs libcrypto 2>/dev/null) -lpthread

test-verifier-tpm2b_SRCS := $(VERIFIER_CRYPTO_SRCS)
test-verifier-tpm2b_CFLAGS := -Iverifier
test-verifier-tpm2b_LIBS := $(VERIFIER_CRYPTO_LIBS)
test-verifier-tpmcrypto_SRCS := $(VERIFIER_CRYPTO_SRCS)
test-verifier-tpmcrypto_CFLAGS := -Iverifier
test-verifier-tpmcrypto_LIBS := $(VERIFIER_CRYPTO_LIBS)
$(UNIT_BUILD)/test-verifier-tpm2b $(UNIT_BUILD)/test-verifier-tpmcrypto: $(VERIFIER_HDRS)

CRYPTO_TOOL := $(BUILD)/tests/integration/crypto-tool

$(CRYPTO_TOOL): tests/integration/crypto-tool.c $(VERIFIER_CRYPTO_SRCS) verifier/tpm/tpm2b.h \
		verifier/tpm/tpmcrypto.h src/util.h
	@mkdir -p $(@D)
	$(UNIT_CC) $(UNIT_CFLAGS) -Iverifier -o $@ tests/integration/crypto-tool.c \
		$(VERIFIER_CRYPTO_SRCS) $(VERIFIER_CRYPTO_LIBS)

# Needs swtpm, swtpm_setup (swtpm-tools) and tpm2-tools; runs in about a minute.
.PHONY: check-verifier-crypto
check: check-verifier-crypto
check-verifier-crypto: $(CRYPTO_TOOL)
	$(UNIT_ENV) tests/integration/test-verifier-crypto.sh $(CRYPTO_TOOL)
