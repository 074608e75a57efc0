# Verifier replicas behind HAProxy under failure (issue 15 §3): three ASan replicas, one killed
# and one restarted while software nodes attest, then throughput and p99 with 1 and 3 optimized
# replicas (tests/integration/test-replicas.py; Debian's haproxy, .ci/packages). Under 2 min.
.PHONY: check-replicas
check: check-replicas
check-replicas: $(VERIFIER_ASAN) $(VERIFIER) $(LOADGEN)
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		tests/integration/test-replicas.py --verifier $(VERIFIER_ASAN) \
		--verifier-fast $(VERIFIER) --loadgen $(LOADGEN)
