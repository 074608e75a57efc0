#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# check-net: the gate's net.c against real components. Two network namespaces joined by a veth
# pair: busybox udhcpd serves DHCP in one, net-probe (net.c, ip-config.c, dhcp.c; built with
# ASan, or static against musl as the gate is) brings the other up, and ip(8), ping and
# resolv.conf show whether it did what it says. Needs root. Usage: test-net.sh PATH/TO/net-probe
set -euo pipefail

probe=$(realpath "$1")
if [[ $(id -u) != 0 ]]; then
        echo "test-net: needs root, to create network namespaces" >&2
        exit 1
fi
if ! busybox udhcpd --help >/dev/null 2>&1; then
        echo "test-net: needs busybox with udhcpd (Debian: busybox-static)" >&2
        exit 1
fi

srv=nodegate-net-srv-$$
cli=nodegate-net-cli-$$
tmp=$(mktemp -d)
root=$tmp/root
udhcpd_pid=
late_pid=
checks=0

cleanup() {
        local rc=$?
        if [[ -n $udhcpd_pid ]]; then
                kill "$udhcpd_pid" 2>/dev/null || true
                wait "$udhcpd_pid" 2>/dev/null || true
        fi
        if [[ -n $late_pid ]]; then
                kill "$late_pid" 2>/dev/null || true
                wait "$late_pid" 2>/dev/null || true
        fi
        ip netns del "$cli" 2>/dev/null || true
        ip netns del "$srv" 2>/dev/null || true
        rm -rf "$tmp"
        if [[ $rc != 0 ]]; then
                echo "check-net: FAILED" >&2
        fi
        exit "$rc"
}
trap cleanup EXIT

die() {
        echo "test-net: $*" >&2
        exit 1
}

check() { # description, got, want
        if [[ $2 != "$3" ]]; then
                die "$1: got '$2', want '$3'"
        fi
        checks=$((checks + 1))
}

check_match() { # description, got, extended regex
        if ! [[ $2 =~ $3 ]]; then
                die "$1: '$2' does not match /$3/"
        fi
        checks=$((checks + 1))
}

check_range() { # description, got, min, max
        if ((!($2 >= $3 && $2 <= $4))); then
                die "$1: $2 is not within [$3, $4]"
        fi
        checks=$((checks + 1))
}

# run NAME TIMEOUT_MS IP [--teardown]: runs net-probe in the client namespace; its key=value
# output goes to $tmp/NAME.out, its exit status to $tmp/NAME.rc.
run() {
        local name=$1 rc=0
        shift
        echo "== $name: ip=$2 (deadline $1 ms)"
        ip netns exec "$cli" "$probe" "$root" "$@" >"$tmp/$name.out" || rc=$?
        echo "$rc" >"$tmp/$name.rc"
        sed 's/^/   /' "$tmp/$name.out"
}

field() { # NAME KEY
        sed -n "s/^$2=//p" "$tmp/$1.out"
}

status() {
        cat "$tmp/$1.rc"
}

start_udhcpd() {
        ip netns exec "$srv" busybox udhcpd -f "$tmp/udhcpd.conf" 2>>"$tmp/udhcpd.log" &
        udhcpd_pid=$!
        # Ready once it listens on port 67 (0x43).
        for _ in $(seq 50); do
                if ip netns exec "$srv" cat /proc/net/udp | grep -q ':0043 '; then
                        return 0
                fi
                sleep 0.1
        done
        die "udhcpd did not start: $(cat "$tmp/udhcpd.log")"
}

stop_udhcpd() {
        kill "$udhcpd_pid"
        wait "$udhcpd_pid" 2>/dev/null || true
        udhcpd_pid=
}

ipv4_of() { # NETNS DEV: "ADDR/PREFIX rest-of-line" of each IPv4 address, one per line
        ip -n "$1" -4 -o addr show dev "$2" | sed -E 's/^[0-9]+: [^ ]+ +inet //; s/\\//g; s/ +/ /g'
}

default_route() {
        ip -n "$cli" -4 route show default | sed -E 's/ +$//'
}

link_flags() { # NETNS DEV
        ip -n "$1" -o link show dev "$2" | sed -E 's/^[^<]*<([^>]*)>.*/\1/'
}

mkdir -p "$root"
ip netns add "$srv"
ip netns add "$cli"
ip -n "$srv" link add veth-s type veth peer name veth-c netns "$cli"
ip -n "$srv" addr add 10.213.0.1/24 dev veth-s
ip -n "$srv" link set veth-s up
# The client's end stays down, as a NIC is when the gate starts: net.c sets it up.

cat >"$tmp/udhcpd.conf" <<EOF
start 10.213.0.100
end 10.213.0.150
interface veth-s
lease_file $tmp/udhcpd.leases
pidfile $tmp/udhcpd.pid
opt subnet 255.255.255.0
opt router 10.213.0.1
opt dns 10.213.0.53 10.213.0.54
opt lease 600
EOF
touch "$tmp/udhcpd.leases"
start_udhcpd

# 1. ip=dhcp: the first Ethernet link with carrier, a lease, the route, resolv.conf.
run dhcp 20000 dhcp
check "dhcp: exit status" "$(status dhcp)" 0
check "dhcp: interface" "$(field dhcp ifname)" veth-c
address=$(field dhcp address)
check_match "dhcp: address" "$address" '^10\.213\.0\.(1[0-4][0-9]|150)/24$'
check "dhcp: gateway" "$(field dhcp gateway)" 10.213.0.1
check "dhcp: dns" "$(field dhcp dns)" "10.213.0.53 10.213.0.54"
check "dhcp: server" "$(field dhcp server)" 10.213.0.1
check "dhcp: lease" "$(field dhcp lease_sec)" 600
check "dhcp: one DISCOVER" "$(field dhcp discovers)" 1
check "dhcp: one REQUEST" "$(field dhcp requests)" 1
check_match "ip addr after dhcp" "$(ipv4_of "$cli" veth-c)" \
        "^$address brd 10\.213\.0\.255 scope global dynamic veth-c valid_lft (59[0-9]|600)sec preferred_lft (59[0-9]|600)sec$"
check "ip route after dhcp" "$(default_route)" "default via 10.213.0.1 dev veth-c proto dhcp"
check_match "lo is up" "$(link_flags "$cli" lo)" '(^|,)UP(,|$)'
check "resolv.conf after dhcp" "$(cat "$root/etc/resolv.conf")" "# written by nodegate from the DHCP lease of veth-c
nameserver 10.213.0.53
nameserver 10.213.0.54"
ip netns exec "$cli" busybox ping -c 1 -W 2 10.213.0.1 >/dev/null || die "dhcp: 10.213.0.1 does not answer ping"
dhcp_first_ms=$(field dhcp done_ms)

# 2. ip=<iface>:dhcp again (the same lease), then net_teardown() undoes it all.
run dhcp-teardown 20000 veth-c:dhcp --teardown
check "dhcp-teardown: exit status" "$(status dhcp-teardown)" 0
check "dhcp-teardown: same address" "$(field dhcp-teardown address)" "$address"
check "dhcp-teardown: teardown" "$(field dhcp-teardown teardown)" 0
check "ip addr after teardown" "$(ipv4_of "$cli" veth-c)" ""
check "ip route after teardown" "$(default_route)" ""
check_match "link down after teardown" "$(link_flags "$cli" veth-c)" '^BROADCAST,MULTICAST$'
dhcp_again_ms=$(field dhcp-teardown done_ms)

# 3. The static form with a dotted netmask, a hostname and one DNS server.
rm -f "$root/etc/resolv.conf"
run static 5000 10.213.0.7::10.213.0.1:255.255.255.0:node1:veth-c:none:10.213.0.99
check "static: exit status" "$(status static)" 0
check "static: method" "$(field static method)" static
check "ip addr after static" "$(ipv4_of "$cli" veth-c)" \
        "10.213.0.7/24 brd 10.213.0.255 scope global veth-c valid_lft forever preferred_lft forever"
check "ip route after static" "$(default_route)" "default via 10.213.0.1 dev veth-c proto static"
check "resolv.conf after static" "$(cat "$root/etc/resolv.conf")" "# written by nodegate from the ip= setting of veth-c
nameserver 10.213.0.99"
ip netns exec "$cli" busybox ping -c 1 -W 2 10.213.0.1 >/dev/null || die "static: 10.213.0.1 does not answer ping"

# 4. A /32 whose gateway is outside its prefix: the route must be on-link. No DNS: resolv.conf
#    stays as it was.
run static-onlink 5000 10.213.0.8::10.213.0.1:32::veth-c:none
check "static-onlink: exit status" "$(status static-onlink)" 0
check "static-onlink: gateway" "$(field static-onlink gateway)" "10.213.0.1 onlink"
check_match "ip addr after static-onlink" "$(ipv4_of "$cli" veth-c)" \
        '(^|
)10\.213\.0\.8/32 scope global veth-c valid_lft forever preferred_lft forever($|
)'
check "ip route after static-onlink" "$(default_route)" \
        "default via 10.213.0.1 dev veth-c proto static onlink"
check "resolv.conf after static-onlink" "$(tail -n 1 "$root/etc/resolv.conf")" "nameserver 10.213.0.99"
ip -n "$cli" addr flush dev veth-c
ip -n "$cli" link set veth-c down

# 5. An interface that does not exist: waited for until the deadline, then named.
run no-such-interface 1500 eth7:dhcp
check "no-such-interface: exit status" "$(status no-such-interface)" 1
check "no-such-interface: errno" "$(field no-such-interface errno)" ENODEV
check "no-such-interface: message" "$(field no-such-interface error)" \
        "no interface eth7 appeared within 1.5 s (there are: lo, veth-c)"
check_range "no-such-interface: bounded (ms)" "$(field no-such-interface elapsed_ms)" 1500 1700

# 6. No carrier: the server's end is down.
ip -n "$srv" link set veth-s down
run no-carrier 1500 veth-c:dhcp
check "no-carrier: errno" "$(field no-carrier errno)" ENOLINK
check "no-carrier: message" "$(field no-carrier error)" "no carrier on veth-c after 1.5 s"
check_range "no-carrier: bounded (ms)" "$(field no-carrier elapsed_ms)" 1500 1700
check_match "no-carrier: the link it raised is down again" "$(link_flags "$cli" veth-c)" \
        '^NO-CARRIER,BROADCAST,MULTICAST$|^BROADCAST,MULTICAST$'
run no-carrier-any 1500 dhcp
check "no-carrier-any: errno" "$(field no-carrier-any errno)" ENOLINK
check "no-carrier-any: message" "$(field no-carrier-any error)" \
        "no carrier on any Ethernet link (veth-c) after 1.5 s"
ip -n "$srv" link set veth-s up

# 7. No DHCP server: DISCOVER at 0 s and at 4±1 s, then the deadline, and a message that says so.
stop_udhcpd
run no-server 6000 dhcp
check "no-server: errno" "$(field no-server errno)" ETIMEDOUT
# The exchange's own time: the deadline less the wait for the link.
check_match "no-server: message" "$(field no-server error)" \
        '^no DHCP offer on veth-c after 2 tries in (5\.[89]|6\.0) s$'
check_range "no-server: bounded (ms)" "$(field no-server elapsed_ms)" 6000 6300
check "ip addr after no-server" "$(ipv4_of "$cli" veth-c)" ""

# 8. The server comes up after the first DISCOVER: the retransmission finds it.
(sleep 1 && exec ip netns exec "$srv" busybox udhcpd -f "$tmp/udhcpd.conf" 2>>"$tmp/udhcpd.log") &
udhcpd_pid=$!
run late-server 15000 dhcp
check "late-server: exit status" "$(status late-server)" 0
check "late-server: two DISCOVERs" "$(field late-server discovers)" 2
check_range "late-server: lease after the retransmission (ms)" "$(field late-server done_ms)" 3000 8000
dhcp_late_ms=$(field late-server done_ms)

# 9. A link that appears while the gate waits (a driver loading late).
(sleep 1 && ip -n "$srv" link add late1 type veth peer name late0 netns "$cli" &&
        ip -n "$srv" link set late1 up) &
late_pid=$!
run late-link 5000 10.213.1.2::10.213.1.1:24::late0:none
wait "$late_pid"
late_pid=
check "late-link: exit status" "$(status late-link)" 0
check_range "late-link: waited for the link (ms)" "$(field late-link link_ms)" 900 3000
check "ip addr after late-link" "$(ipv4_of "$cli" late0)" \
        "10.213.1.2/24 brd 10.213.1.255 scope global late0 valid_lft forever preferred_lft forever"

echo "check-net (${probe##*/}): all $checks checks passed; DHCP lease after ${dhcp_first_ms} ms (new lease," \
        "udhcpd probes the address by ARP first), ${dhcp_again_ms} ms (known client)," \
        "${dhcp_late_ms} ms (server up after the first DISCOVER)"
