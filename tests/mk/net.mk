# Network bring-up (src/net/ip-config.c, src/net/dhcp.c, src/net/net.c): unit tests, the DHCP fuzz target,
# and check-net, which runs the real thing in network namespaces against busybox udhcpd.
test-ip-config_SRCS := src/net/ip-config.c src/lib/parse-util.c
test-dhcp_SRCS := src/net/dhcp.c src/net/ip-config.c src/lib/parse-util.c
fuzz-dhcp_SRCS := src/net/dhcp.c src/net/ip-config.c src/lib/parse-util.c

# check-net: tests/integration/test-net.sh builds two network namespaces joined by a veth pair,
# serves DHCP from busybox udhcpd in one and runs net-probe in the other, twice: built with gcc
# under ASan and UBSan, and built static against musl with the gate's flags, as the gate runs
# it. Needs root, ip(8) and busybox; cleans its namespaces up even when it fails.
NET_PROBE := $(BUILD)/tests/integration/net-probe
NET_PROBE_MUSL := $(BUILD)/tests/integration/net-probe-musl
NET_PROBE_SRCS := tests/integration/net-probe.c src/net/net.c src/net/rtnl.c src/net/dhcp.c \
	src/net/ip-config.c src/lib/parse-util.c src/lib/log.c

$(NET_PROBE): $(NET_PROBE_SRCS) $(GATE_HDRS)
	@mkdir -p $(@D)
	$(UNIT_CC) $(UNIT_CFLAGS) -o $@ $(NET_PROBE_SRCS)

# musl-gcc needs the kernel UAPI headers of the dependency prefix (DEPS_CFLAGS).
$(NET_PROBE_MUSL): $(NET_PROBE_SRCS) $(GATE_HDRS) $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(MUSL_CC) $(GATE_CFLAGS) -Isrc -static -o $@ $(NET_PROBE_SRCS)

.PHONY: check-net
check: check-net
check-net: $(NET_PROBE) $(NET_PROBE_MUSL)
	$(UNIT_ENV) tests/integration/test-net.sh $(NET_PROBE)
	tests/integration/test-net.sh $(NET_PROBE_MUSL)
