#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
# Soak test of the verifier under a hostile network (issue 12): one ASan+UBSan verifier on
# 127.0.0.1, tests/bench/loadgen's software nodes attesting at a steady rate from 127.0.0.1,
# and, at the same time, hostile requests of every refusal class the verifier has (malformed
# bodies and transport errors, unknown and forged EKs, certificates naming the configured EK CA
# with bad signatures, stolen EK public keys with broken round 2 evidence, expired and forged
# challenges, a flooder, a connection hog, slow clients) from 200 other loopback addresses.
# Reports requests by class, crashes, sanitizer reports, tokens on refusal paths, and the
# valid attestations: every one must be issued; their p99 latency is the figure.
# Usage: soak.py --verifier ASAN-BIN --loadgen BIN [--hostile N] [--rate R] [--workers W]
#        [--slow N] [--keep]
import argparse
import base64
import collections
import datetime
import http.client
import importlib.util
import json
import os
import queue
import random
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import threading
import time

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
spec = importlib.util.spec_from_file_location(
    "svc", os.path.join(ROOT, "tests/integration/test-verifier-service.py"))
svc = importlib.util.module_from_spec(spec)
spec.loader.exec_module(svc)

SANITIZER = re.compile(r"AddressSanitizer|LeakSanitizer|runtime error:|UndefinedBehaviorSanitizer")


def run(cmd, **kw):
    return subprocess.run(cmd, check=True, capture_output=True, timeout=120, **kw)


def make_ek_ca(d):
    """A P-384 EK CA the verifier trusts, and a key with the same name that is not it."""
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "nodegate soak EK CA")])
    key = ec.generate_private_key(ec.SECP384R1())
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(1)
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=2))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA384()))
    path = os.path.join(d, "ek-ca.pem")
    with open(path, "wb") as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))
    return path, name, ec.generate_private_key(ec.SECP384R1())


def forged_ek_certificate(ca_name, impostor, ek_key, serial):
    """An EK certificate naming the configured CA, signed by another key: the verifier must
    check the P-384 signature to refuse it, the expensive path."""
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"ek {serial}")]))
            .issuer_name(ca_name).public_key(ek_key.public_key()).serial_number(serial)
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=2))
            .sign(impostor, hashes.SHA384()))
    return cert.public_bytes(serialization.Encoding.DER)


class Hostile:
    """The request classes. Each is a function (client) -> (status, headers, body) and the
    set of statuses a correct verifier answers it with."""

    def __init__(self, d, secret, enrolled, ca_name, impostor):
        self.d = d
        self.enrolled = enrolled  # its EK public key is public: anyone can claim it
        self.stranger = svc.SoftNode(secret)
        self.forged_once = forged_ek_certificate(ca_name, impostor, self.stranger.ek, 1)
        self.forged = [forged_ek_certificate(ca_name, impostor, self.stranger.ek, 1000 + i)
                       for i in range(64)]
        self.old_challenges = collections.deque(maxlen=256)
        self.lock = threading.Lock()

    def classes(self):
        b = svc.b64
        n = self.stranger
        # The stranger's EK with an AK's attributes (sign, not decrypt): not a storage key.
        bad_attrs = svc.SoftNode._public(n.ek, svc.AK_ATTRS, svc.EK_POLICY,
                                         struct.pack(">HHH", 0x0006, 128, 0x0043),
                                         struct.pack(">H", svc.NULL_ALG))
        return {
            "malformed-json": (lambda c: c.post("/v2/challenge", raw=b'{"version": 2, "ek'),
                               {400}),
            "not-an-object": (lambda c: c.post("/v2/attest", raw=b"[1,2,3]"), {400}),
            "deep-nesting": (lambda c: c.post("/v2/challenge", raw=b"[" * 50000 + b"]" * 50000),
                             {400}),
            "unknown-field": (lambda c: c.post("/v2/challenge", {"version": 2, "x": 1}), {400}),
            "missing-field": (lambda c: c.post("/v2/attest", {"version": 2}), {400}),
            "wrong-version": (lambda c: c.post("/v2/challenge", {"version": 7}), {400}),
            "bad-base64": (lambda c: c.post("/v2/challenge", {
                "version": 2, "ek_public": "!!", "ak_public": "AAAA"}), {400}),
            "random-bytes": (lambda c: c.post("/v2/attest", raw=os.urandom(2048)), {400}),
            "ek-malformed": (lambda c: c.post("/v2/challenge", {
                "version": 2, "ek_public": b(os.urandom(90)), "ak_public": b(svc.tpm2b(
                    n.ak_tpmt))}), {400}),
            "ek-not-storage-key": (lambda c: c.post("/v2/challenge", {
                "version": 2, "ek_public": b(svc.tpm2b(bad_attrs)),
                "ak_public": b(svc.tpm2b(n.ak_tpmt))}), {400, 403}),
            "ek-unknown": (lambda c: c.post("/v2/challenge", n.challenge_request()), {403}),
            "ek-cert-forged-same": (lambda c: c.post("/v2/challenge", {
                **n.challenge_request(), "ek_certificate": b(self.forged_once)}), {403}),
            "ek-cert-forged-unique": (lambda c: c.post("/v2/challenge", {
                **n.challenge_request(), "ek_certificate": b(random.choice(self.forged))}),
                {403}),
            "ek-cert-garbage": (lambda c: c.post("/v2/challenge", {
                **n.challenge_request(), "ek_certificate": b(os.urandom(800))}), {403}),
            "challenge-forged": (lambda c: c.post("/v2/attest", self.enrolled.attest_request(
                os.urandom(98))), {403}),
            "ak-not-bound": (self.wrong_credential, {403}),
            "quote-signature": (self.bad_quote, {403}),
            "challenge-binding": (self.other_ak, {403}),
            "challenge-expired": (self.expired, {403}),
            "unsupported-media-type": (lambda c: c.post("/v2/attest", raw=b"{}",
                                                        ctype="text/plain"), {415}),
            "length-required": (self.no_length, {411}),
            "body-too-large": (self.too_large, {413}),
            "not-found": (lambda c: c.request("GET", "/admin"), {404}),
            "method-not-allowed": (lambda c: c.request("PUT", "/v2/attest", b"{}"), {405}),
        }

    def _challenge(self, c):
        status, _, body = c.post("/v2/challenge", self.enrolled.challenge_request())
        if status != 200:
            return None, (status, {}, body)
        challenge = base64.b64decode(json.loads(body)["challenge"])
        with self.lock:
            self.old_challenges.append((time.monotonic(), challenge))
        return challenge, None

    def wrong_credential(self, c):
        challenge, fail = self._challenge(c)
        if fail:
            return fail
        req = self.enrolled.attest_request(challenge)
        req["credential"] = svc.b64(os.urandom(32))
        return c.post("/v2/attest", req)

    def bad_quote(self, c):
        challenge, fail = self._challenge(c)
        if fail:
            return fail
        req = self.enrolled.attest_request(challenge)
        sig = bytearray(base64.b64decode(req["quote"]["signature"]))
        sig[-1] ^= 1
        req["quote"]["signature"] = svc.b64(bytes(sig))
        return c.post("/v2/attest", req)

    def other_ak(self, c):
        challenge, fail = self._challenge(c)
        if fail:
            return fail
        req = self.enrolled.attest_request(challenge)
        req["ak_public"] = svc.b64(svc.tpm2b(self.stranger.ak_tpmt))
        return c.post("/v2/attest", req)

    def expired(self, c):
        with self.lock:
            old = [ch for t, ch in self.old_challenges if time.monotonic() - t > 7]
        if not old:
            return self.wrong_credential(c)
        return c.post("/v2/attest", self.enrolled.attest_request(random.choice(old)))

    def no_length(self, c):
        with c.tls() as s:
            svc.raw_http(s, "POST /v1/challenge HTTP/1.1\nHost: x\n"
                            "Content-Type: application/json\n\n")
            data, _ = svc.recv_all_until_closed(s, 10)
        return int(data[9:12] or 0), {}, data.partition(b"\r\n\r\n")[2]

    def too_large(self, c):
        with c.tls() as s:
            svc.raw_http(s, "POST /v1/attest HTTP/1.1\nHost: x\nContent-Type: application/json\n"
                            f"Content-Length: {4 * 1024 * 1024}\n\n")
            data, _ = svc.recv_all_until_closed(s, 10)
        return int(data[9:12] or 0), {}, data.partition(b"\r\n\r\n")[2]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--verifier", required=True)
    ap.add_argument("--loadgen", required=True)
    ap.add_argument("--hostile", type=int, default=10000)
    ap.add_argument("--rate", type=float, default=8, help="valid attestations/s")
    ap.add_argument("--workers", type=int, default=16)
    ap.add_argument("--slow", type=int, default=64, help="slow clients held throughout")
    ap.add_argument("--keep", action="store_true")
    a = ap.parse_args()
    d = tempfile.mkdtemp(prefix="nodegate-soak-")
    try:
        return soak(a, d)
    finally:
        for v in svc.Verifier.started:
            if v.proc.poll() is None:
                v.proc.kill()
                v.proc.wait()
        if a.keep:
            print(f"soak: kept {d}")
        else:
            shutil.rmtree(d, ignore_errors=True)


def soak(a, d):
    failures = []
    ca, cert, key = svc.make_pki(d)
    secret = os.path.join(d, "secret")
    run([a.verifier, "keygen", secret])
    log = os.path.join(d, "eventlog.bin")
    run([sys.executable, os.path.join(ROOT, "tests/tools/mklog.py"), "-o", log,
         "--secure-boot"])
    policy = os.path.join(d, "policy.json")
    with open(policy, "w") as f:
        f.write(run([a.verifier, "policy", "from-log", log]).stdout.decode())
    run([a.loadgen, "keygen", d, "32"])
    enrolled = svc.SoftNode(secret)
    with open(os.path.join(d, "ek-allowlist"), "a") as f:
        f.write(enrolled.ek_sha256 + "\n")
    ek_ca, ca_name, impostor = make_ek_ca(d)
    pool, _ = svc.make_pool(d, "soak", 20000)

    v = svc.Verifier(a.verifier, d, "soak", [
        "--cert", cert, "--key", key, "--secret", secret, "--policy", policy,
        "--ek-allowlist", os.path.join(d, "ek-allowlist"), "--ek-ca", ek_ca,
        "--token-source", "pool:" + pool, "--api-server", "https://127.0.0.1:6443",
        "--cluster-ca", ca, "--threads", "2", "--challenge-lifetime", "5",
        "--rate-limit", "20", "--rate-burst", "40", "--max-connections", "512",
        "--request-deadline", "5", "--audit-refusals-per-second", "20"])
    url = f"https://{v.host}:{v.port}"
    hostile = Hostile(d, secret, enrolled, ca_name, impostor)
    classes = hostile.classes()
    names = sorted(classes)

    stats = collections.Counter()
    unexpected = collections.Counter()
    examples = {}
    token_leaks = []
    stats_lock = threading.Lock()
    jobs = queue.Queue()
    for i in range(a.hostile):
        jobs.put((names[i % len(names)], i))

    def worker():
        clients = {}
        while True:
            try:
                name, i = jobs.get_nowait()
            except queue.Empty:
                return
            src = f"127.0.1.{1 + i % 200}"
            c = clients.get(src) or clients.setdefault(src, svc.client_from(ca, v, src))
            fn, want = classes[name]
            try:
                status, _, body = fn(c)
            except Exception as e:  # a reset or cut connection is an answer too
                status, body = type(e).__name__, b""
            body = body or b""
            with stats_lock:
                stats[name] += 1
                if b"sealed" in body or b"token_id" in body or status == 200:
                    token_leaks.append((name, status, body[:200]))
                if status not in want and status != 429:
                    unexpected[(name, status)] += 1
                    examples.setdefault((name, status), body[:160])

    # The flooder and the connection hog: one address each.
    def flooder():
        # Keep-alive, no TLS handshake per request: faster than the bucket refills.
        c = svc.client_from(ca, v, "127.0.2.1")
        conn = None
        for _ in range(50):
            try:
                if conn is None:
                    conn = http.client.HTTPSConnection(v.host, v.port, context=c.ctx,
                                                       timeout=10,
                                                       source_address=("127.0.2.1", 0))
                conn.request("POST", "/v2/challenge", b'{"version": 2}',
                              {"Content-Type": "application/json"})
                r = conn.getresponse()
                status, body = r.status, r.read()
                if r.will_close:
                    conn.close()
                    conn = None
            except Exception as e:
                status, body = type(e).__name__, b""
                conn = None
            with stats_lock:
                stats["flood"] += 1
                if status == 200:
                    token_leaks.append(("flood", status, body[:200]))
                stats["flood-" + str(status)] += 1

    def hog():
        c = svc.client_from(ca, v, "127.0.2.2")
        held = []
        for _ in range(100):
            try:
                held.append(c.tls(timeout=3))
                outcome = "established"
            except Exception:
                outcome = "refused"
            with stats_lock:
                stats["connection-hog"] += 1
                stats["connection-hog-" + outcome] += 1
        time.sleep(3)
        for s in held:
            s.close()

    def loadgen(label, duration, rate):
        out = subprocess.run(
            [a.loadgen, "run", "--url", url, "--ca", ca, "--keys", d, "--log", log,
             "--rate", str(rate), "--duration", str(duration), "--connections", "4",
             "--warmup", "1", "--timeout-ms", "10000", "--label", label],
            capture_output=True, text=True, timeout=300)
        m = re.search(r"^RESULT (.*)$", out.stdout, re.M)
        if not m:
            failures.append(f"loadgen: no result (exit {out.returncode}): {out.stderr[-500:]}")
            return None
        return out.returncode, dict(kv.split("=", 1) for kv in m.group(1).split())

    # The same valid load alone first: what "normal" is on this machine, for comparison.
    alone = loadgen("alone", 10, a.rate)

    slow = [svc.SlowClient(svc.Client(ca, v.host, v.port), f"127.0.3.{1 + i % 32}",
                           headers_only=i % 4 == 0) for i in range(a.slow)]
    t0 = time.monotonic()
    for s in slow:
        s.start()
    threads = [threading.Thread(target=worker) for _ in range(a.workers)]
    # Eight flooders on one address: faster than its bucket refills.
    threads += [threading.Thread(target=flooder) for _ in range(8)]
    threads += [threading.Thread(target=hog)]
    for t in threads:
        t.start()

    # Valid attestations for as long as the hostile traffic is expected to take, then until it
    # is done: loadgen runs in slices of 20 s, and every slice must issue everything.
    results = []
    while True:
        r = loadgen(f"slice{len(results)}", 20, a.rate)
        if r is None:
            break
        results.append(r)
        if all(not t.is_alive() for t in threads) or v.proc.poll() is not None:
            break
    for t in threads:
        t.join()
    for s in slow:
        s.stop.set()
    for s in slow:
        s.join(timeout=15)
    elapsed = time.monotonic() - t0
    stats["slow-client"] = sum(s.connected for s in slow)

    crashed = v.proc.poll() is not None
    _, _, metrics = svc.metrics(svc.Client(ca, v.host, v.port)) if not crashed else (0, 0, {})
    rc = v.stop()
    sanitizer = [line for line in v.stderr_text().splitlines() if SANITIZER.search(line)]
    lines = v.audit_lines()
    issued = [r for r in lines if r["decision"] == "issued"]
    foreign = [r for r in issued if r["remote"] != "127.0.0.1"]
    suppressed = sum(r.get("count", 0) for r in lines if r["decision"] == "suppressed")

    if alone:
        results.append(alone)
    ok = sum(int(r["ok"]) for _, r in results)
    failed = sum(int(r["failed"]) + int(r["unstarted"]) for _, r in results)
    warmups = len(results)  # one warm-up attestation a slice, issued but not in "ok"
    attacked = [r for _, r in results if r["label"] != "alone"]
    p99 = max((float(r["p99"]) for r in attacked), default=float("nan"))
    p50 = max((float(r["p50"]) for r in attacked), default=float("nan"))
    hostile_total = sum(stats[n] for n in names) + stats["flood"] + stats["connection-hog"] \
        + stats["slow-client"]

    print(f"\nsoak: {elapsed:.0f} s, one ASan+UBSan verifier (2 threads), {a.workers} hostile "
          f"workers from 200 addresses, {a.slow} slow clients, loadgen at {a.rate}/s")
    print(f"{'class':28} {'requests':>9}")
    for n in names + ["flood", "connection-hog", "slow-client"]:
        print(f"{n:28} {stats[n]:9d}")
    print(f"{'hostile total':28} {hostile_total:9d}")
    print(f"  flood answers: " + ", ".join(f"{k[6:]}={c}" for k, c in sorted(stats.items())
                                           if k.startswith("flood-")))
    print(f"  connection hog: {stats['connection-hog-established']} established, "
          f"{stats['connection-hog-refused']} refused (cap 32; held ones the deadline cuts "
          f"make room)")
    cuts = {k: int(val) for k, val in metrics.items() if "connections_cut_total" in k}
    print(f"  connections cut: {cuts}")
    print(f"  audit: {len(lines)} lines, {suppressed} refusals suppressed into summaries")
    print(f"valid attestations: {ok} ok (+{warmups} warm-up), {failed} failed; under attack "
          f"(worst 20 s slice) p50 {p50:.1f} ms, p99 {p99:.1f} ms; alone before the attack "
          f"p50 {alone[1]['p50'] if alone else '?'} ms, p99 {alone[1]['p99'] if alone else '?'} "
          f"ms")
    print(f"hostile rate: {hostile_total / elapsed:.0f} requests/s")
    print(f"crashes: {int(crashed or rc != 0)} (exit {rc}); sanitizer reports: {len(sanitizer)}; "
          f"tokens on refusal paths: {len(token_leaks)} answers, {len(foreign)} issued lines "
          f"for hostile addresses")
    if unexpected:
        print("unexpected answers (class, status): count, example")
        for k, cnt in unexpected.most_common():
            print(f"  {k}: {cnt}  {examples[k]!r}")

    if crashed or rc != 0:
        failures.append(f"the verifier crashed or exited {rc}")
    if sanitizer:
        failures.append("sanitizer reports:\n  " + "\n  ".join(sanitizer[:10]))
    if token_leaks or foreign:
        failures.append(f"tokens on refusal paths: {token_leaks[:3]} {foreign[:3]}")
    if failed or not results or any(code != 0 for code, _ in results):
        failures.append(f"valid attestations failed: {failed}")
    if len(issued) != ok + warmups:
        failures.append(f"{len(issued)} issued lines for {ok + warmups} valid attestations")
    if hostile_total < a.hostile:
        failures.append(f"only {hostile_total} hostile requests")
    if unexpected:
        failures.append(f"{sum(unexpected.values())} unexpected answers")
    print(f"RESULT hostile={hostile_total} crashes={int(crashed or rc != 0)} "
          f"sanitizer={len(sanitizer)} token_leaks={len(token_leaks) + len(foreign)} "
          f"valid_ok={ok + warmups} valid_failed={failed} valid_p99_ms={p99:.1f}")
    for f in failures:
        print("FAIL  " + f)
    print("soak: " + ("FAILED" if failures else "passed"))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
