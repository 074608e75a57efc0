# The kubernetes token source (issue 15 §1) against a stand-in API server
# (tests/integration/kube_standin.py: HTTPS on 127.0.0.1, the Secret schema of Kubernetes'
# published OpenAPI document in tests/fixtures/kubernetes/; not a kube-apiserver), driven by
# loadgen's software nodes through the ASan verifier.
.PHONY: check-kube-source
check: check-kube-source
check-kube-source: $(VERIFIER_ASAN) $(LOADGEN)
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		tests/integration/test-kube-source.py --verifier $(VERIFIER_ASAN) --loadgen $(LOADGEN)
