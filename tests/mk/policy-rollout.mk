# Image rollouts (issue 15 §4): policy merge and retire, judged by the ASan verifier against
# loadgen's software nodes booting three images (tests/integration/test-policy-rollout.py).
.PHONY: check-policy-rollout
check: check-policy-rollout
check-policy-rollout: $(VERIFIER_ASAN) $(LOADGEN)
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		tests/integration/test-policy-rollout.py --verifier $(VERIFIER_ASAN) --loadgen $(LOADGEN)
