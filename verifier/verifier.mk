# The reference verifier: a host program (glibc, dynamically linked against Debian's OpenSSL,
# json-c and libmicrohttpd) — it runs on a server, not in the initramfs, so size does not
# matter and Debian's security updates do. Two builds: optimized (bench, users) and
# ASan+UBSan (what the tests run).
VERIFIER_SRCS := $(sort $(wildcard verifier/*.c))
VERIFIER_PKGS := openssl json-c libmicrohttpd
VERIFIER_CFLAGS := -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Isrc -Iverifier -g \
	-fstack-protector-strong $(shell pkg-config --cflags $(VERIFIER_PKGS) 2>/dev/null)
VERIFIER_LIBS := $(shell pkg-config --libs $(VERIFIER_PKGS) 2>/dev/null) -lpthread
VERIFIER := $(BUILD)/verifier/nodegate-verifier
VERIFIER_ASAN := $(BUILD)/verifier-asan/nodegate-verifier
SANITIZE_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all

.PHONY: verifier

verifier: $(VERIFIER) $(VERIFIER_ASAN)

$(VERIFIER): $(VERIFIER_SRCS) $(wildcard verifier/*.h src/util.h)
	@mkdir -p $(@D)
	gcc $(VERIFIER_CFLAGS) -O2 -D_FORTIFY_SOURCE=2 -o $@ $(VERIFIER_SRCS) $(VERIFIER_LIBS)

$(VERIFIER_ASAN): $(VERIFIER_SRCS) $(wildcard verifier/*.h src/util.h)
	@mkdir -p $(@D)
	gcc $(VERIFIER_CFLAGS) -O1 $(SANITIZE_FLAGS) -o $@ $(VERIFIER_SRCS) $(VERIFIER_LIBS)
