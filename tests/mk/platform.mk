# Issue 13, the gate's side: platform detection and TEE evidence collection (src/platform/).
# Unit tests: configfs-tsm against fixture directories the test populates, the Azure HCL header
# parser on the real blobs of tests/fixtures/cvm, detection and the binding.
PLATFORM_FIXTURES_CFLAGS := -DCVM_FIXTURES_DIR='"$(abspath tests/fixtures/cvm)"'
test-platform-tsm_SRCS := src/platform/configfs-tsm.c src/lib/fileio.c
test-platform-tsm_LIBS := -lpthread
test-platform-hcl_SRCS := src/platform/hcl.c src/lib/fileio.c
test-platform-hcl_CFLAGS := $(PLATFORM_FIXTURES_CFLAGS)
test-platform-detect_SRCS := src/platform/detect.c src/platform/configfs-tsm.c src/platform/hcl.c \
	src/lib/fileio.c
# The binding hashes with the gate's own mbedTLS (the host has none): its static libmbedcrypto
# from the dependency prefix, which is plain C and links into the host's test binary.
test-platform-binding_SRCS := src/platform/binding.c
test-platform-binding_CFLAGS = -isystem $(DEPS_PREFIX)/include
test-platform-binding_LIBS = $(DEPS_PREFIX)/lib/libmbedcrypto.a

# The static gate against swtpm whose NV holds kinvolk's real Azure HCL report (2048 bytes, the
# largest swtpm takes): detection, the binding in NV 0x01400002, the report in NV-buffer chunks.
.PHONY: check-platform
check: check-platform
check-platform: $(NODEGATE)
	tests/integration/test-platform.py $(NODEGATE)
test-platform-snp-certs_SRCS := src/platform/snp-certs.c
# What configfs-tsm's answer is sent as: snp-report or tdx-quote, by the provider.
test-platform-tsm-evidence_SRCS := src/platform/tsm-evidence.c src/platform/snp-certs.c \
	src/platform/configfs-tsm.c src/lib/fileio.c
# The IMDS TD quote exchange's bodies (Azure TDX): the request's base64url TDREPORT and the
# answer's parse; json-c of the host, as test-node-protocol.
test-platform-imds_SRCS := src/platform/imds-body.c src/lib/base64.c
test-platform-imds_CFLAGS := $(shell pkg-config --cflags json-c 2>/dev/null)
test-platform-imds_LIBS := $(shell pkg-config --libs json-c 2>/dev/null)
