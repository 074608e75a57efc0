#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Verifier benchmark: the optimized nodegate-verifier on 127.0.0.1 (HTTPS, --threads 2) against
# tests/bench/loadgen's software node. Full attestations (challenge + attest: EK check,
# MakeCredential, quote verify, event log replay, policy, sealed blob, audit record) at
# closed-loop maximum and at fixed offered rates, then a perf profile of the server.
# Usage: bench-verifier.sh --verifier BIN --loadgen BIN [--duration S] [--connections C]
#        [--rates "R1 R2 ..."] [--platform "none snp snp-cache"] [--snp-rates "R1 ..."]
#        [--tokens N] [--nodes N] [--no-perf] [--keep] [--check] [--mklog-args "ARGS"]
# --nodes: distinct software nodes (EK + AK) used in turn, all on the EK allowlist, so no
# cache keyed by a node can make the server look faster than a fleet booting would.
# --platform: the verifiers measured one after the other, each with the same nodes, log and
# PCR policy: none = protocol version 2, no platform section (the plain attestation);
# snp = version 3 under a policy that requires SEV-SNP, every round 2 carrying a report bound
# to its challenge (signed by loadgen with a test VCEK, tests/tools/snp-test-chain.py, whose
# chain the verifier pins with --platform-roots) and the VCEK in "certificates"; snp-cache =
# the same without the VCEK, which the verifier reads from its --vcek-cache. Open-loop rates
# are --rates for none, --snp-rates for the others.
# --check: a functional run, not a measurement: no lock, no profile, no open loop, and it fails
# unless every attestation of every run got its token (never assert timings).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

verifier='' loadgen='' duration=10 connections=32 rates='1000 2000' tokens=200000 nodes=256
perf=1 keep=0 check=0
platforms='none snp snp-cache' snp_rates='250 500'
mklog_args='--secure-boot'
goal=2000
lock=/tmp/nodegate-heavy.lock

die() {
        echo "bench-verifier: $*" >&2
        exit 1
}

while (($#)); do
        case $1 in
        --verifier) verifier=$2; shift 2 ;;
        --loadgen) loadgen=$2; shift 2 ;;
        --duration) duration=$2; shift 2 ;;
        --connections) connections=$2; shift 2 ;;
        --rates) rates=$2; shift 2 ;;
        --platform) platforms=$2; shift 2 ;;
        --snp-rates) snp_rates=$2; shift 2 ;;
        --check) check=1; perf=0; shift ;;
        --tokens) tokens=$2; shift 2 ;;
        --nodes) nodes=$2; shift 2 ;;
        --mklog-args) mklog_args=$2; shift 2 ;;
        --no-perf) perf=0; shift ;;
        --keep) keep=1; shift ;;
        *) die "unknown argument: $1" ;;
        esac
done
[[ -x $verifier && -x $loadgen ]] || die "--verifier and --loadgen must name built programs"
[[ $duration =~ ^[0-9]+$ && $duration -ge 1 && $duration -le 600 ]] || die "--duration: 1-600 s"
for platform in $platforms; do
        case $platform in
        none | snp | snp-cache) ;;
        *) die "--platform: none, snp or snp-cache, not $platform" ;;
        esac
done
[[ -n $platforms ]] || die "--platform: at least one of none, snp, snp-cache"
if ((check)); then
        rates='' snp_rates=''
fi

work=$(mktemp -d /tmp/nodegate-bench.XXXXXX)
server_pid='' perf_pid=''
cleanup() {
        # Only what this script started, by PID.
        [[ -n $perf_pid ]] && kill -INT "$perf_pid" 2>/dev/null && wait "$perf_pid" 2>/dev/null
        [[ -n $server_pid ]] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
        if ((keep)); then
                echo "bench-verifier: kept $work (perf-*.data, audit-*.log, serve-*.err)"
        else
                rm -rf "$work"
        fi
}
trap cleanup EXIT

# ---- setup: throwaway PKI, secret, event log, policy, node keys, token pool ----
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 \
        -subj /CN=nodegate-bench-ca -keyout "$work/ca.key" -out "$work/ca.pem" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=127.0.0.1 \
        -keyout "$work/server.key" -out "$work/server.csr" 2>/dev/null
openssl x509 -req -in "$work/server.csr" -CA "$work/ca.pem" -CAkey "$work/ca.key" \
        -CAcreateserial -days 1 -extfile <(echo "subjectAltName=IP:127.0.0.1") \
        -out "$work/server.pem" 2>/dev/null
"$verifier" keygen "$work/secret"

# shellcheck disable=SC2086 # mklog_args is a list of options
python3 tests/tools/mklog.py -o "$work/eventlog.bin" $mklog_args
"$verifier" policy from-log "$work/eventlog.bin" >"$work/policy-none.json"
# SEV-SNP: the test AMD chain, the VCEK and its key as files; the same PCR policy with the
# platform section that requires what loadgen's reports carry.
if [[ " $platforms " == *" snp"* ]]; then
        mkdir "$work/snp"
        python3 tests/tools/snp-test-chain.py "$work/snp"
        python3 - "$work/policy-none.json" "$work/snp/platform.json" \
                >"$work/policy-snp.json" <<'EOF'
import json, sys
policy = json.load(open(sys.argv[1]))
policy["platform"] = json.load(open(sys.argv[2]))
json.dump(policy, sys.stdout)
EOF
        "$verifier" policy check "$work/policy-snp.json" >/dev/null ||
                die "the SNP policy does not pass policy check"
fi

"$loadgen" keygen "$work" "$nodes"
# The node's claimed PCRs come from loadgen's own replay; mklog computes them independently.
# shellcheck disable=SC2086
python3 tests/tools/mklog.py -o /dev/null $mklog_args --pcrs |
        python3 -c 'import json, sys
for pcr, value in sorted(json.load(sys.stdin)["sha256"].items(), key=lambda kv: int(kv[0])):
        print(pcr, value)' >"$work/pcrs.mklog"
"$loadgen" pcrs "$work/eventlog.bin" >"$work/pcrs.loadgen"
cmp -s "$work/pcrs.mklog" "$work/pcrs.loadgen" ||
        die "loadgen's replay of the event log differs from mklog's"

# Kubeadm-format tokens, deterministic, one per attestation plus spare; a fresh pool for each
# verifier, which takes what it issues out of the file.
python3 - "$tokens" >"$work/tokens.all" <<'EOF'
import hashlib, sys
alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
out = []
for i in range(int(sys.argv[1])):
    d = hashlib.sha256(b"nodegate bench token %d" % i).digest()
    t = "".join(alphabet[b % 36] for b in d[:22])
    out.append(t[:6] + "." + t[6:22])
print("\n".join(out))
EOF

log_bytes=$(stat -c %s "$work/eventlog.bin")
echo "bench-verifier: event log $log_bytes bytes (mklog.py $mklog_args), $tokens tokens," \
        "$nodes nodes on the EK allowlist"

# ---- measurement: never beside another heavy job on this 2-core machine ----
# (A --check measures nothing and waits for no one.)
if ((!check)); then
        exec 9>"$lock"
        if ! flock -n 9; then
                echo "bench-verifier: waiting for $lock (another heavy job is running)"
                flock -w 3600 9 || die "$lock still held after an hour"
        fi
fi

# start_server PLATFORM: a verifier for that platform's policy, its URL in $url.
# Every software node attests from 127.0.0.1: the per-address limits, which are there for
# hostile clients (docs/verifier.md), are off.
start_server() {
        local platform=$1 policy extra=()
        case $platform in
        none) policy=$work/policy-none.json ;;
        snp) policy=$work/policy-snp.json extra=(--platform-roots "$work/snp/roots") ;;
        snp-cache)
                policy=$work/policy-snp.json
                extra=(--platform-roots "$work/snp/roots" --vcek-cache "$work/snp/vcek-cache")
                ;;
        esac
        cp "$work/tokens.all" "$work/tokens"
        chmod 600 "$work/tokens" # the verifier refuses a pool others can read
        "$verifier" serve --listen 127.0.0.1:0 --cert "$work/server.pem" --key "$work/server.key" \
                --secret "$work/secret" --policy "$policy" "${extra[@]}" \
                --ek-allowlist "$work/ek-allowlist" --token-source "pool:$work/tokens" \
                --round2-per-ek 0 \
                --api-server https://10.0.0.1:6443 --cluster-ca "$work/ca.pem" \
                --audit-log "$work/audit-$platform.log" --threads 2 --rate-limit 0 \
                --max-connections-per-address 0 \
                >"$work/serve.out" 2>"$work/serve-$platform.err" &
        server_pid=$!
        url=''
        for _ in $(seq 100); do
                url=$(sed -n 's/^listening on //p' "$work/serve.out")
                [[ -n $url ]] && break
                kill -0 "$server_pid" 2>/dev/null || break
                sleep 0.1
        done
        if [[ -z $url ]]; then
                cat "$work/serve-$platform.err" >&2
                die "the $platform verifier did not start"
        fi
        echo "bench-verifier: $platform: $verifier serving on $url, 2 threads; $(nproc) CPUs" \
                "shared with loadgen"
}

# stop_server PLATFORM; under --check the verifier (an ASan build there) must exit 0 without
# a sanitizer report.
stop_server() {
        local platform=$1 rc=0
        kill "$server_pid" 2>/dev/null
        wait "$server_pid" 2>/dev/null || rc=$?
        server_pid=''
        if ((check)); then
                if ((rc != 0)) || grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error' \
                        "$work/serve-$platform.err"; then
                        cat "$work/serve-$platform.err" >&2
                        die "--check: the $platform verifier exited $rc or reported an error"
                fi
        fi
}

clk_tck=$(getconf CLK_TCK)
server_ticks() {
        # utime + stime: fields 14 and 15 of /proc/PID/stat (the command name has no spaces).
        awk '{ print $14 + $15 }' "/proc/$server_pid/stat"
}
# Busy (user, nice, system) and total ticks of the whole machine, to see what else ran during a
# measurement. Interrupt time is left out of busy: loopback TCP runs in softirq, charged to no
# process.
machine_ticks() {
        awk '$1 == "cpu" { print $2 + $3 + $4, $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9 }' /proc/stat
}

rows=()
# run LABEL PLATFORM LOADGEN-ARGS...: one measurement, its loadgen report, a row for the table.
run() {
        local label=$1 platform=$2 before after m0 m1 result rc=0 ok server_us others client_s
        local load
        shift 2
        before=$(server_ticks)
        m0=$(machine_ticks)
        TIMEFORMAT='%U %S'
        { time "$loadgen" run --url "$url" --ca "$work/ca.pem" --keys "$work" \
                --log "$work/eventlog.bin" --duration "$duration" --connections "$connections" \
                --label "$label" "$@" >"$work/run.out" 2>"$work/run.err" ||
                rc=$?; } 2>"$work/run.time"
        m1=$(machine_ticks)
        after=$(server_ticks)
        grep -v '^RESULT' "$work/run.out" || true # empty when the warm-up failed
        if ((rc != 0 && rc != 3)); then
                cat "$work/run.err" >&2
                die "loadgen failed (exit $rc): the warm-up attestations did not succeed"
        fi
        result=$(sed -n 's/^RESULT //p' "$work/run.out")
        ok=$(sed -n 's/.* ok=\([0-9]*\).*/\1/p' <<<"$result")
        client_s=$(awk '{ print $1 + $2 }' "$work/run.time")
        server_us=$(awk -v t=$((after - before)) -v hz="$clk_tck" -v n="$ok" \
                'BEGIN { printf "%.0f", ((n > 0) ? t / hz * 1e6 / n : 0) }')
        # The share of the machine neither the verifier nor loadgen used: other jobs, which
        # make every figure of this run worse than the machine can do.
        others=$(awk -v m0="$m0" -v m1="$m1" -v s=$((after - before)) -v c="$client_s" \
                -v hz="$clk_tck" 'BEGIN {
                        split(m0, a, " "); split(m1, b, " "); total = b[2] - a[2]
                        o = (b[1] - a[1] - s - c * hz) / (total > 0 ? total : 1) * 100
                        printf "%.0f", ((o > 0) ? o : 0) }')
        load=$(cut -d' ' -f1 /proc/loadavg)
        rows+=("$result server_us=$server_us others=$others load=$load platform=$platform")
}

# profile PLATFORM: where the server's time goes, a perf record of the running verifier during
# one more closed-loop run.
profile() {
        local platform=$1
        shift
        if ! command -v perf >/dev/null; then
                echo "bench-verifier: perf not installed (apt-get install linux-perf); no profile"
                return 0
        fi
        echo
        echo "profile ($platform): perf record of the verifier during a ${duration} s" \
                "closed-loop run"
        # DWARF unwinding: neither the verifier nor Debian's libcrypto keeps frame pointers.
        perf record -q -F 499 --call-graph dwarf,8192 -p "$server_pid" -o "$work/perf.data" \
                -- sleep "$((duration + 2))" 2>"$work/perf.err" &
        perf_pid=$!
        sleep 1
        run "$platform profiled" "$platform" --closed "$@" >/dev/null
        unset 'rows[${#rows[@]}-1]' # not a figure of the table
        wait "$perf_pid" || { cat "$work/perf.err" >&2; die "perf record failed"; }
        perf_pid=''
        # report LINES OPTIONS...: the first LINES entries (into a file first: head closing the
        # pipe early would fail the pipeline).
        report() {
                local lines=$1
                shift
                perf report -i "$work/perf.data" --stdio -g none --percent-limit 0.3 "$@" \
                        >"$work/report.txt" 2>/dev/null || die "perf report failed"
                grep -v -e '^#' -e '^$' "$work/report.txt" >"$work/report.lines" || true
                head -n "$lines" "$work/report.lines"
        }
        echo "-- self time by library"
        report 10 --no-children --sort dso
        echo "-- top symbols by self time"
        report 15 --no-children --sort dso,symbol
        echo "-- time including callees (symbols only; libcrypto's internals have none)"
        report 1000 --children --sort symbol >"$work/children.txt"
        grep -v -e '\] 0x' -e ' \[k\] ' "$work/children.txt" | head -n 30 || true
        mv "$work/perf.data" "$work/perf-$platform.data"
}

# The profile's output comes after the tables: kept apart while the runs go on.
profiles=$work/profiles.txt
: >"$profiles"
for platform in $platforms; do
        start_server "$platform"
        args=() platform_rates=$snp_rates
        case $platform in
        none) platform_rates=$rates ;;
        snp) args=(--snp "$work/snp") ;;
        snp-cache) args=(--snp "$work/snp" --snp-no-certificates) ;;
        esac
        run "$platform closed" "$platform" --closed "${args[@]}"
        for rate in $platform_rates; do
                run "$platform $rate/s" "$platform" --rate "$rate" "${args[@]}"
        done
        if ((perf)) && [[ $platform != snp-cache ]]; then
                profile "$platform" "${args[@]}" >>"$profiles"
        fi
        stop_server "$platform"
done

echo
echo "verifier benchmark: full attestations (POST /vN/challenge + POST /vN/attest) over HTTPS"
echo "keep-alive on 127.0.0.1, $connections connections, ${duration} s a run," \
        "event log $log_bytes bytes;"
echo "none = version 2, no platform evidence; snp = version 3, an SEV-SNP report (P-384) in"
echo "every round 2 with its VCEK; snp-cache = the VCEK from the verifier's --vcek-cache;"
echo "latency from each attestation's scheduled start (open loop), in ms; CPU per successful one;"
echo "others = % of the machine used by other processes meanwhile (should be ~0); load = the"
echo "1-minute load average at the end of the run"
printf '%-17s %9s %9s %8s %8s %8s %8s %7s %7s %9s %9s %6s %5s\n' run offered/s achieved/s p50 \
        p90 p99 max failed unstart server-us client-us others load
for row in "${rows[@]}"; do
        awk -v row="$row" 'BEGIN {
                n = split(row, kv, " ")
                for (i = 1; i <= n; i++) { split(kv[i], p, "="); v[p[1]] = p[2] }
                split(row, l, "label="); split(l[2], m, " mode="); label = m[1]
                printf "%-17s %9s %9s %8s %8s %8s %8s %7s %7s %9s %9s %5s%% %5s\n", label,
                       v["mode"] == "open" ? v["offered"] : "max", v["achieved"], v["p50"],
                       v["p90"], v["p99"], v["max"], v["failed"], v["unstarted"],
                       v["server_us"], v["client_us"], v["others"], v["load"]
        }'
done
# What SEV-SNP evidence adds: each platform's closed-loop figures beside the plain run's.
printf '%s\n' "${rows[@]}" | awk '
        { delete v; for (i = 1; i <= NF; i++) { split($i, p, "="); v[p[1]] = p[2] } }
        v["mode"] == "closed" { k = v["platform"]; server[k] = v["server_us"]; max[k] = v["achieved"]
                                p50[k] = v["p50"]; p99[k] = v["p99"]; client[k] = v["client_us"]
                                seen[k] = 1 }
        END {
                if (!seen["none"])
                        exit
                for (k in seen) {
                        if (k == "none")
                                continue
                        printf "%s: %+d us server CPU per attestation over none (%d -> %d us), " \
                               "closed-loop max %d/s against %d/s, p50 %s -> %s ms, p99 %s -> %s " \
                               "ms; loadgen %+d us (it signs each report: P-384)\n", k,
                               server[k] - server["none"], server["none"], server[k], max[k],
                               max["none"], p50["none"], p50[k], p99["none"], p99[k],
                               client[k] - client["none"]
                }
        }' | sort
# The goal is met by a closed-loop maximum at or above it, or by an open-loop run offered at
# least the goal that completed everything without a backlog (p99 within 100 ms): for the
# plain attestation.
if [[ " $platforms " == *" none "* ]] && ((!check)); then
        verdict=$(printf '%s\n' "${rows[@]}" | awk -v goal="$goal" '
                { delete v; for (i = 1; i <= NF; i++) { split($i, p, "="); v[p[1]] = p[2] } }
                v["platform"] != "none" { next }
                v["mode"] == "closed" && v["achieved"] + 0 >= goal { met = 1 }
                v["mode"] == "open" && v["offered"] + 0 >= goal && v["failed"] == 0 &&
                        v["unstarted"] == 0 && v["p99"] + 0 <= 100 { met = 1 }
                END { print met ? "met" : "MISSED" }')
        echo "goal: >= $goal full attestations/s without platform evidence (closed-loop maximum," \
                "or sustained open loop with p99 <= 100 ms): $verdict"
fi
# Load may cost latency, time-outs or 503 overloaded; a refusal for any other reason means
# the bench's evidence or the verifier is broken, and no figure above means anything.
rejected=$(printf '%s\n' "${rows[@]}" | sed -n 's/.* rejected=\([0-9]*\).*/\1/p' |
        awk '{ n += $1 } END { print n + 0 }')
((rejected == 0)) || die "$rejected attestations refused for a reason other than load (see above)"
if ((check)); then
        # Every attestation of every run got its token: none failed, none refused, some ran.
        bad=$(printf '%s\n' "${rows[@]}" | awk '
                { delete v; for (i = 1; i <= NF; i++) { split($i, p, "="); v[p[1]] = p[2] } }
                v["ok"] + 0 == 0 || v["failed"] + 0 != 0 || v["unstarted"] + 0 != 0 { n++ }
                END { print n + 0 }')
        ((bad == 0)) || die "--check: $bad runs had an attestation without its token"
        echo "bench-verifier: check passed: every attestation of $platforms got its token"
fi
cat "$profiles"
