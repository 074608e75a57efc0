# Deployable artefacts (issue 15 §2).

# deploy/kubernetes, offline: every manifest and both renders (base, example overlay) against
# Kubernetes 1.36's OpenAPI document with unknown fields and wrong types refused, the broken
# manifests of tests/deploy/broken refused, the hardening rules, every option of the args in
# `serve --help`, and the real verifier started with the Deployment's args and files laid out
# as the kubelet would, its probes answered. About 2 s.
.PHONY: check-deploy
check: check-deploy
check-deploy: $(VERIFIER)
	tests/deploy/check-deploy.py $(VERIFIER)
