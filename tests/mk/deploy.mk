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

# The verifier's OCI image, reproducible and daemonless (deploy/image/build-image.sh:
# mmdebstrap under the heavy lock, umoci): build/image/oci, its digest in build/image/digest.
IMAGE_TAG ?= 0.1.0
.PHONY: image check-image
image: $(VERIFIER)
	SOURCE_DATE_EPOCH=$(SOURCE_DATE_EPOCH) deploy/image/build-image.sh $(VERIFIER) \
		$(BUILD)/image $(IMAGE_TAG)

# Two builds in two directories: one digest; the configuration, the layer's contents
# (deploy/image/contents.txt; UPDATE=1 rewrites it) and the root file system run in a
# namespace. About 45 s, most of it mmdebstrap.
check: check-image
check-image: $(VERIFIER)
	rm -rf $(BUILD)/image-check
	for b in a b; do \
		SOURCE_DATE_EPOCH=$(SOURCE_DATE_EPOCH) deploy/image/build-image.sh $(VERIFIER) \
			$(BUILD)/image-check/$$b $(IMAGE_TAG) || exit 1; \
	done
	SOURCE_DATE_EPOCH=$(SOURCE_DATE_EPOCH) tests/deploy/check-image.py \
		$(BUILD)/image-check/a $(BUILD)/image-check/b $(VERIFIER) $(if $(UPDATE),--update)

# Debian packages nodegate and nodegate-verifier (debian/), built with dpkg-buildpackage from
# a staged copy of what they ship, with the gate and the verifier this Makefile built in
# prebuilt/ (debian/rules says why); the .debs land in $(BUILD)/deb.
DEB_DIR := $(BUILD)/deb
DEB_SOURCES := debian dracut-module hooks docs README.md LICENSE
.PHONY: deb check-deb
deb: $(NODEGATE) $(VERIFIER)
	rm -rf $(DEB_DIR)
	mkdir -p $(DEB_DIR)/src/prebuilt
	cp -a $(DEB_SOURCES) $(DEB_DIR)/src/
	cp $(NODEGATE) $(VERIFIER) $(DEB_DIR)/src/prebuilt/
	cd $(DEB_DIR)/src && dpkg-buildpackage --build=binary --no-sign \
		>../dpkg-buildpackage.log 2>&1 || { tail -40 ../dpkg-buildpackage.log; exit 1; }
	ls $(DEB_DIR)/*.deb

# The packages' contents and metadata, lintian (no error or warning), the unit as systemd
# verifies it and its `systemd-analyze security` exposure (at most 2.0). About 30 s.
check: check-deb
check-deb: deb
	tests/deploy/check-deb.py $(DEB_DIR) $(NODEGATE) $(VERIFIER)
