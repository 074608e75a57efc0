#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Verifier replicas under failure (issue 15 §3): three ASan verifiers on 127.0.0.1 behind a real
HAProxy (Debian's, TCP mode: TLS passes through to the replicas, roundrobin, health checks on
/healthz over TLS, redispatch on a failed connect) share one secret, one policy and one token
pool. A stream of software nodes (loadgen attest, a new connection a request, each boot
retried within its deadline and asked twice) runs while one replica is SIGKILLed and another
is SIGTERMed and restarted. Asserted: round 1 and round 2 of a node land on different replicas;
every node gets its token; a boot never gets two different tokens (the nodes' answers, the
pool's records, every replica's audit lines); the audit logs of all replicas together account
for every token a node got, and each boot has at most one `issued` line. Then throughput and
p99 of full attestations through HAProxy with 1 and with 3 optimized replicas (loadgen run,
closed loop), reported as measured: on 2 cores expect little scale-up."""

import argparse
import collections
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import softworld  # noqa: E402

NODES = 72
WORKERS = 4
DEADLINE_MS = 40000
GAP_MS = 300  # between a worker's boots: a stream over ~10 s, not a burst


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class HAProxy:
    def __init__(self, work, name, ports):
        self.port = free_port()
        self.cfg = os.path.join(work, name + ".cfg")
        servers = "".join("    server v%d 127.0.0.1:%d\n" % (i + 1, p) for i, p in enumerate(ports))
        with open(self.cfg, "w") as f:
            f.write("global\n    maxconn 2000\n"
                    "defaults\n    mode tcp\n    timeout connect 1s\n    timeout client 30s\n"
                    "    timeout server 30s\n    retries 3\n    option redispatch\n"
                    "frontend fe\n    bind 127.0.0.1:%d\n    default_backend be\n"
                    "backend be\n    balance roundrobin\n"
                    "    option httpchk GET /healthz\n    http-check expect status 200\n"
                    "    default-server check check-ssl verify none inter 300 fall 1 rise 2\n"
                    "%s" % (self.port, servers))
        self.log = open(os.path.join(work, name + ".log"), "w")
        self.proc = subprocess.Popen(["haproxy", "-db", "-f", self.cfg], stdout=self.log,
                                     stderr=subprocess.STDOUT)
        end = time.monotonic() + 10
        while time.monotonic() < end:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                break
            except OSError:
                if self.proc.poll() is not None:
                    raise RuntimeError("haproxy exited: " + open(self.log.name).read())
                time.sleep(0.1)
        time.sleep(1.0)  # the first health checks: every server up
        self.url = "https://127.0.0.1:%d" % self.port

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--verifier", required=True, help="the ASan build, for the failure run")
    ap.add_argument("--verifier-fast", required=True, help="the optimized build, for figures")
    ap.add_argument("--loadgen", required=True)
    ap.add_argument("--seconds", type=float, default=6, help="each throughput phase")
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()
    if not shutil.which("haproxy"):
        print("haproxy is not installed (Debian package haproxy, .ci/packages)")
        return 1
    f = softworld.Failures()
    work = tempfile.mkdtemp(prefix="nodegate-replicas-")
    started = time.monotonic()
    world = None
    proxies = []
    try:
        world = softworld.World(work, os.path.abspath(args.verifier),
                                os.path.abspath(args.loadgen), nodes=NODES, tokens=NODES + 40)
        failure_run(f, work, world, proxies)
        figures(f, work, world, proxies, os.path.abspath(args.verifier_fast), args.seconds)
    finally:
        for p in proxies:
            p.stop()
        if world:
            world.stop_all(f)
        if args.keep:
            print("work directory kept: " + work)
        else:
            shutil.rmtree(work, ignore_errors=True)
        print("%d checks passed, %d failed, %.0f s" % (f.passed, len(f.failed),
                                                     time.monotonic() - started))
        for what in f.failed:
            print("FAILED: " + what)
    return 1 if f.failed else 0


def pct(values, p):
    v = sorted(values)
    return v[min(len(v) - 1, int(p * len(v)))] if v else float("nan")


def failure_run(f, work, world, proxies):
    audits = [os.path.join(work, "audit-%d.jsonl" % i) for i in range(3)]
    reps = [world.start("r%d" % i, "pool:" + world.pool, audits[i]) for i in range(3)]
    ports = [v.port for v in reps]
    lb = HAProxy(work, "haproxy-3", ports)
    proxies.append(lb)
    with open(world.allowlist) as fh:
        ek_of = [line.split()[0] for line in fh if line.strip()]

    # ---- round 1 and round 2 on different replicas ----
    res, run = world.attest(lb.url, first=0, extra=["--fresh"])
    where = {}
    for i, path in enumerate(audits):
        for a in softworld.audit_lines(path):
            if a.get("ek") == ek_of[0]:
                where.setdefault(a["endpoint"], set()).add(i)
    f.check(res and res[0].get("result") == "issued" and where.get("challenge") and
            where.get("attest") and where["challenge"] != where["attest"],
            "round 1 and round 2 of one node land on different replicas (challenge at %s, "
            "attest at %s) and the node gets its token" %
            (sorted(where.get("challenge", [])), sorted(where.get("attest", []))),
            run.stdout + run.stderr)

    # ---- the stream, one replica killed, one restarted ----
    per = (NODES - 1) // WORKERS
    procs = []
    t0 = time.monotonic()
    for w in range(WORKERS):
        first = 1 + w * per
        count = per if w < WORKERS - 1 else NODES - first
        cmd = [world.loadgen, "attest", "--url", lb.url, "--ca", world.tls_ca, "--keys",
               world.keys, "--log", world.log, "--first", str(first), "--count", str(count),
               "--boot", "7", "--repeat", "2", "--deadline-ms", str(DEADLINE_MS),
               "--timeout-ms", "5000", "--fresh", "--gap-ms", str(GAP_MS)]
        procs.append(subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                      text=True))
    events = []
    time.sleep(2.0)
    # Frozen first, so that connections the balancer routes to it before its health check
    # fails are in flight when it dies: a crash mid-request, not between requests.
    reps[0].proc.send_signal(signal.SIGSTOP)
    events.append("%.1f s: SIGSTOP replica 0" % (time.monotonic() - t0))
    time.sleep(0.8)
    reps[0].stop(signal.SIGKILL)
    events.append("%.1f s: SIGKILL replica 0" % (time.monotonic() - t0))
    time.sleep(1.0)
    reps[1].proc.send_signal(signal.SIGTERM)
    events.append("%.1f s: SIGTERM replica 1" % (time.monotonic() - t0))
    rc = reps[1].proc.wait(timeout=30)
    reps[1].stop()
    events.append("%.1f s: replica 1 exited %d (graceful)" % (time.monotonic() - t0, rc))
    before_restart = len(softworld.audit_lines(audits[1]))
    for attempt in range(50):  # the port may take a moment to be free again
        try:
            reps[1] = world.start("r1-restarted", "pool:" + world.pool, audits[1],
                                  listen="127.0.0.1:%d" % ports[1])
            break
        except RuntimeError:
            time.sleep(0.1)
    t_restart = time.monotonic() - t0
    events.append("%.1f s: replica 1 restarted on its port" % t_restart)
    lines, errs, ends = [], "", []
    for p in procs:
        out, err = p.communicate(timeout=300)
        ends.append(time.monotonic() - t0)
        lines += [softworld.parse_line(x) for x in out.splitlines() if x.startswith("node=")]
        errs += err
    took = time.monotonic() - t0
    served = len(softworld.audit_lines(audits[1])) - before_restart
    print("      " + "; ".join(events) + "; stream ended at %.1f s" % took)
    f.check(rc == 0, "SIGTERM: the replica finished its requests and exited 0",
            reps[1].stderr()[-2000:] + open(os.path.join(work, "r1.stderr")).read()[-3000:])
    f.check(min(ends) > t_restart and served > 0,
            "the kill and the restart happened while nodes were attesting, and the restarted "
            "replica served %d requests of the stream" % served)

    issued = [x for x in lines if x.get("result") == "issued"]
    f.check(len(lines) == NODES - 1 and len(issued) == NODES - 1,
            "every node retrying within its %d s deadline got its token (%d of %d)" %
            (DEADLINE_MS // 1000, len(issued), NODES - 1),
            "\n".join(" ".join("%s=%s" % kv for kv in x.items())
                      for x in lines if x.get("result") != "issued") + errs[-2000:])
    same = all(len(set(x["token_ids"].split(","))) == 1 for x in issued)
    ids = [x["token_ids"].split(",")[0] for x in issued]
    f.check(same and len(set(ids)) == len(ids),
            "each boot got the same token both times it asked, and no two boots one token",
            [x for x in issued if len(set(x["token_ids"].split(","))) != 1][:5])
    retried = [x for x in issued if int(x["attempts"]) > 2]
    f.check(len(retried) >= 1, "the kill cut requests in flight: %d boots needed more "
            "attempts, and got their token within the deadline" % len(retried))
    lat = [float(x["ms"].split(",")[0]) for x in issued]
    print("      %d boots in %.1f s (%.1f boots/s, each asked twice), %d needed a retry, first "
          "answer p50 %.0f ms, p99 %.0f ms, max %.0f ms" %
          (len(issued), took, len(issued) / took, len(retried), pct(lat, 0.5), pct(lat, 0.99),
           max(lat) if lat else 0))

    # The pool: one record a boot, one used line a boot.
    with open(world.pool) as fh:
        used = sum(1 for line in fh if line.startswith("#"))
    records = os.path.getsize(world.pool + ".issued") // (64 + 1 + 46 + 1)
    f.check(used == NODES and records == NODES,
            "the shared pool gave one token a boot (%d used, %d records, %d boots)" %
            (used, records, NODES))

    # The audit logs, all replicas together.
    by_ek = collections.defaultdict(list)
    total, torn = 0, 0
    for path in audits:
        with open(path) as fh:
            for line in fh:
                total += 1
                try:
                    a = __import__("json").loads(line)
                except ValueError:
                    torn += 1
                    continue
                if a.get("decision") in ("issued", "reissued"):
                    by_ek[a.get("ek")].append(a)
    f.check(torn == 0, "every audit line of every replica parses (%d lines, SIGKILL "
            "included)" % total)
    bad = []
    for x in issued:
        ek = ek_of[int(x["node"])]
        got = by_ek.get(ek, [])
        tids = {a.get("token_id") for a in got}
        n_issued = sum(1 for a in got if a["decision"] == "issued")
        if tids != {x["token_ids"].split(",")[0]} or n_issued > 1:
            bad.append((x["node"], tids, n_issued))
    f.check(not bad, "the audit logs account for every token a node got: its issued/reissued "
            "lines carry that token and no other, at most one 'issued' a boot", bad[:5])
    for v in reps:
        v.stop()
    lb.stop()
    proxies.remove(lb)


def figures(f, work, world, proxies, fast, seconds):
    """Throughput and p99 through HAProxy, 1 then 3 optimized replicas."""
    pool = os.path.join(work, "bench-tokens")
    with open(pool, "w") as out:
        for i in range(int(seconds * 2 * 2000) + 2000):
            t = os.urandom(11).hex()
            out.write("%s.%s\n" % (t[:6], t[6:22]))
    os.chmod(pool, 0o600)
    saved, world.verifier = world.verifier, fast
    reps = [world.start("fast%d" % i, "pool:" + pool, os.path.join(work, "bench-audit.jsonl"),
                        ["--round2-per-ek", "0", "--threads", "2"]) for i in range(3)]
    world.verifier = saved
    results = {}
    for n in (1, 3):
        lb = HAProxy(work, "haproxy-bench-%d" % n, [v.port for v in reps[:n]])
        proxies.append(lb)
        load = os.getloadavg()[0]
        r = subprocess.run([world.loadgen, "run", "--url", lb.url, "--ca", world.tls_ca,
                            "--keys", world.keys, "--log", world.log, "--closed", "--duration",
                            str(seconds), "--connections", "12", "--label", "%d-replica" % n],
                           capture_output=True, text=True, timeout=120)
        m = re.search(r"^RESULT .*", r.stdout, re.M)
        kv = dict(x.split("=", 1) for x in m.group(0).split()[1:]) if m else {}
        results[n] = kv
        f.check(r.returncode == 0 and kv.get("failed") == "0",
                "throughput through HAProxy with %d replica%s: %s attestations/s, p50 %s ms, "
                "p99 %s ms (load average before: %.1f)" %
                (n, "" if n == 1 else "s", kv.get("achieved"), kv.get("p50"), kv.get("p99"),
                 load), r.stdout[-1500:] + r.stderr[-500:])
        lb.stop()
        proxies.remove(lb)
    if results.get(1) and results.get(3):
        print("      FIGURES 1 replica: %s/s p99 %s ms; 3 replicas: %s/s p99 %s ms "
              "(%d CPUs shared by the replicas, HAProxy and the load generator)" %
              (results[1].get("achieved"), results[1].get("p99"), results[3].get("achieved"),
               results[3].get("p99"), os.cpu_count()))
    for v in reps:
        v.stop()


if __name__ == "__main__":
    sys.exit(main())
