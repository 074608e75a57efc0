# Confidential-VM evidence fixtures (tests/fixtures/cvm, issue 13): the independent Python oracle
# tests/tools/cvm-reference.py must still print EXPECTED line for line, so a change to a fixture,
# a pinned root or the oracle shows up as a diff. Needs python3 and python3-cryptography.
.PHONY: check-cvm-fixtures
check: check-cvm-fixtures
check-cvm-fixtures:
	@mkdir -p $(BUILD)/tests
	@grep -v '^#' tests/fixtures/cvm/EXPECTED > $(BUILD)/tests/cvm-expected.txt
	python3 tests/tools/cvm-reference.py > $(BUILD)/tests/cvm-actual.txt
	diff -u $(BUILD)/tests/cvm-expected.txt $(BUILD)/tests/cvm-actual.txt
	@echo "check-cvm-fixtures: $$(wc -l < $(BUILD)/tests/cvm-actual.txt) cases as expected"

# The C verifier's offline check (nodegate-verifier platform verify) on every SEV-SNP and Azure
# SNP case of EXPECTED, the oracle's derived negatives included, at each case's pinned time:
# the same verdict and first reason (tests/tools/check-cvm-verifier.sh). ASan+UBSan build.
.PHONY: check-cvm-verifier
check: check-cvm-verifier
check-cvm-verifier: $(VERIFIER_ASAN)
	tests/tools/check-cvm-verifier.sh $(VERIFIER_ASAN) $(BUILD)/tests/cvm-verifier

# Protocol version 3's platform evidence through the running service (ASan build, HTTPS on
# 127.0.0.1): the software node sends synthetic SNP reports signed under a test AMD chain
# (--platform-roots); every refusal asserts its reason and that no token left the pool.
.PHONY: check-cvm-attest
check: check-cvm-attest
check-cvm-attest: $(VERIFIER_ASAN)
	tests/integration/test-platform-attest.py $(VERIFIER_ASAN)

# The gate's Azure TDX path on the host: the static gate against swtpm behind the emulated TDX
# paravisor (tests/tools/azure-paravisor.py), the fake IMDS (tests/tools/fake-imds.py) on
# 169.254.169.254:80 in the test's own network namespace, and the ASan verifier pinning a test
# Intel root (tests/integration/test-gate-azure-tdx.py). Needs unshare and ip (iproute2).
.PHONY: check-gate-azure-tdx
check: check-gate-azure-tdx
check-gate-azure-tdx: $(NODEGATE) $(NODE_CLIENT) $(VERIFIER_ASAN)
	tests/integration/test-gate-azure-tdx.py --gate $(NODEGATE) --client $(NODE_CLIENT) \
		--verifier $(VERIFIER_ASAN)
