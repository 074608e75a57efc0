# The node's side of docs/PROTOCOL.md against real components: build/tests/node/node-client (a
# host program linking the gate's src/attest/tpm.c, src/attest/protocol.c and src/lib/base64.c with Debian's
# tpm2-tss, under ASan+UBSan) plays the node; `check-attestation` runs the scenarios of
# tests/integration/test-attestation.py against swtpm and the ASan verifier over HTTPS.
NODE_CLIENT := $(BUILD)/tests/node/node-client
NODE_CLIENT_SRCS := tests/node/node-client.c src/attest/tpm.c src/attest/protocol.c src/lib/base64.c
NODE_CLIENT_PKGS := tss2-esys tss2-mu tss2-rc tss2-tcti-device libcurl json-c openssl
NODE_CLIENT_CFLAGS := -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Isrc -g -O1 \
	-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all \
	$(shell pkg-config --cflags $(NODE_CLIENT_PKGS) 2>/dev/null)
NODE_CLIENT_LIBS := $(shell pkg-config --libs $(NODE_CLIENT_PKGS) 2>/dev/null)

$(NODE_CLIENT): $(NODE_CLIENT_SRCS) src/attest/tpm.h src/attest/protocol.h src/lib/base64.h src/util.h
	@mkdir -p $(@D)
	gcc $(NODE_CLIENT_CFLAGS) -o $@ $(NODE_CLIENT_SRCS) $(NODE_CLIENT_LIBS)

.PHONY: node-client check-attestation
node-client: $(NODE_CLIENT)

check: check-attestation
check-attestation: $(NODE_CLIENT) $(VERIFIER_ASAN)
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		tests/integration/test-attestation.py --client $(NODE_CLIENT) --verifier $(VERIFIER_ASAN)

# Unit tests of the protocol bodies and base64 (tests/unit/test-node-protocol.c).
test-node-protocol_SRCS := src/attest/protocol.c src/lib/base64.c
test-node-protocol_CFLAGS := $(shell pkg-config --cflags json-c 2>/dev/null)
test-node-protocol_LIBS := $(shell pkg-config --libs json-c 2>/dev/null)
