# The reference verifier: a host program (glibc, dynamically linked against Debian's OpenSSL,
# json-c, libmicrohttpd, and libcurl + libyaml for the kubernetes token source) — it runs on a server, not in the initramfs, so size does not
# matter and Debian's security updates do. Two builds: optimized (bench, users) and
# ASan+UBSan (what the tests run). One object per source, with gcc's header dependencies, so a
# change recompiles only what it touches.
VERIFIER_SRCS := $(sort $(wildcard verifier/*.c verifier/*/*.c))
# Platform evidence (SEV-SNP, Azure HCL) as the appraisal links it, for the tests' source lists.
VERIFIER_PLATFORM_SRCS := $(sort $(wildcard verifier/platform/*.c)) verifier/common/fileutil.c
VERIFIER_PKGS := openssl json-c libmicrohttpd libcurl yaml-0.1
VERIFIER_CFLAGS := -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Iverifier -Isrc -g -MMD -MP \
	-fstack-protector-strong $(shell pkg-config --cflags $(VERIFIER_PKGS) 2>/dev/null)
VERIFIER_LIBS := $(shell pkg-config --libs $(VERIFIER_PKGS) 2>/dev/null) -lpthread
# Named now rather than as a missing header later: .ci/packages has each -dev package.
VERIFIER_PKGS_FOUND := $(shell pkg-config --exists $(VERIFIER_PKGS) 2>/dev/null && echo yes)
VERIFIER := $(BUILD)/verifier/nodegate-verifier
VERIFIER_ASAN := $(BUILD)/verifier-asan/nodegate-verifier
SANITIZE_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
VERIFIER_OBJS := $(patsubst verifier/%.c,$(BUILD)/verifier/obj/%.o,$(VERIFIER_SRCS))
VERIFIER_ASAN_OBJS := $(patsubst verifier/%.c,$(BUILD)/verifier-asan/obj/%.o,$(VERIFIER_SRCS))

.PHONY: verifier
all: $(VERIFIER)
verifier: $(VERIFIER) $(VERIFIER_ASAN)

define verifier_pkgs_check
	@test "$(VERIFIER_PKGS_FOUND)" = yes || { echo "verifier: pkg-config does not find all of" \
		"$(VERIFIER_PKGS) (libssl-dev libjson-c-dev libmicrohttpd-dev libcurl4-openssl-dev" \
		"libyaml-dev, .ci/packages)" >&2; exit 1; }
endef

$(BUILD)/verifier/obj/%.o: verifier/%.c
	$(verifier_pkgs_check)
	@mkdir -p $(@D)
	gcc $(VERIFIER_CFLAGS) -O2 -D_FORTIFY_SOURCE=2 -c -o $@ $<

$(BUILD)/verifier-asan/obj/%.o: verifier/%.c
	$(verifier_pkgs_check)
	@mkdir -p $(@D)
	gcc $(VERIFIER_CFLAGS) -O1 $(SANITIZE_FLAGS) -c -o $@ $<

# Full RELRO: the GOT is read-only once the loader has bound every symbol.
VERIFIER_LDFLAGS := -Wl,-z,relro -Wl,-z,now

$(VERIFIER): $(VERIFIER_OBJS)
	gcc $(VERIFIER_LDFLAGS) -o $@ $^ $(VERIFIER_LIBS)

$(VERIFIER_ASAN): $(VERIFIER_ASAN_OBJS)
	gcc $(SANITIZE_FLAGS) $(VERIFIER_LDFLAGS) -o $@ $^ $(VERIFIER_LIBS)

-include $(VERIFIER_OBJS:.o=.d) $(VERIFIER_ASAN_OBJS:.o=.d)

.PHONY: clean-verifier
clean: clean-verifier
clean-verifier:
	rm -rf $(BUILD)/verifier $(BUILD)/verifier-asan
