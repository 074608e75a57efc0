# Issue 4, the gate attests in the boot path. Unit tests of src/attest/token.c (kubeconfig handover),
# src/attest/eventlog.c (the TCG log from securityfs) and src/attest/retry.c (the verifier retry schedule);
# check-gate-attest runs the static build/nodegate --attest-only against swtpm on a pty and the
# ASan verifier on 127.0.0.1 (tests/integration/test-gate-attest.py), with node-client playing
# the firmware (TPM2_Startup and the log's extensions) between "boots".
test-token_SRCS := src/attest/token.c src/lib/base64.c
test-gate-eventlog_SRCS := src/attest/eventlog.c
test-retry_SRCS := src/attest/retry.c

.PHONY: check-gate-attest
check: check-gate-attest
check-gate-attest: $(NODEGATE) $(NODE_CLIENT) $(VERIFIER_ASAN)
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		tests/integration/test-gate-attest.py --gate $(NODEGATE) --client $(NODE_CLIENT) \
		--verifier $(VERIFIER_ASAN)
