#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The gate's attestation steps (issue 4) with the real static build/nodegate --attest-only:
swtpm on a pty is the TPM, the ASan verifier serves HTTPS on 127.0.0.1, and node-client plays
the firmware between "boots" (power cycle, TPM2_Startup, the log's extensions). Each scenario
builds a fresh root directory (ROOT/proc/cmdline, the CA bundle, the event log in
ROOT/sys/kernel/security, ROOT/run on /dev/shm) and asserts its outcome: the kubeconfig with a
pool token, or the named FAILED line, with the cap PCR in the state the outcome demands.

A TLS proxy in this process (same test CA) sits between the gate and the verifier where a
scenario needs the answers recorded, replayed, delayed, answered with 503 or with garbage.
Every process started here is killed by its PID at the end.
"""

import argparse
import base64
import hashlib
import http.client
import http.server
import importlib.util
import json
import os
import re
import signal
import shutil
import socket
import ssl
import stat
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True  # no __pycache__ in the source tree
_spec = importlib.util.spec_from_file_location("attestation",
                                               os.path.join(HERE, "test-attestation.py"))
A = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(A)

EVENTLOG = "sys/kernel/security/tpm0/binary_bios_measurements"
KUBECONFIG = "run/nodegate/bootstrap-kubelet.conf"
ROOTHASH = "4bd1d62e0d0bb3d8c0d9a5ad7b0bd5a3c8a8b76b1b3a8a0f32a5a4d3c7f2e1a0"
RELEASED, FAILED = b"nodegate: token released", b"nodegate: failed"


def extend(value, data):
    return hashlib.sha256(value + hashlib.sha256(data).digest()).digest()


def free_port():
    """A port nothing listens on: bound, then closed."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Proxy:
    """HTTPS between the gate and the verifier. plan: one action per request, in order, then
    "forward" for the rest: "forward", "garbage", "garbage-json", "503", ("delay", s),
    "replay" (the recorded /v2/attest answer instead of asking the verifier), ("call", fn)
    (fn() first, then forward)."""

    def __init__(self, cert, key, ca, upstream_port):
        self.plan, self.log, self.recorded = [], [], None
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def reply(self, status, body):
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                action = proxy.plan.pop(0) if proxy.plan else "forward"
                proxy.log.append((self.path, action if isinstance(action, str) else action[0]))
                if action == "garbage":
                    return self.reply(200, b"<html>this is not the verifier</html>")
                if action == "garbage-json":
                    return self.reply(200, b'{"version": 2, "token_id": 7}')
                if action == "503":
                    return self.reply(503, b'{"version": 2, "error": "overloaded", '
                                           b'"message": "too many requests in flight"}')
                if action == "replay":
                    return self.reply(200, proxy.recorded)
                if isinstance(action, tuple) and action[0] == "call":
                    action[1]()
                if isinstance(action, tuple) and action[0] == "delay":
                    time.sleep(action[1])
                ctx = ssl.create_default_context(cafile=ca)
                c = http.client.HTTPSConnection("127.0.0.1", upstream_port, context=ctx,
                                                timeout=60)
                try:
                    c.request("POST", self.path, body=body,
                              headers={"Content-Type": "application/json"})
                    resp = c.getresponse()
                    data = resp.read()
                finally:
                    c.close()
                if self.path == "/v2/attest" and resp.status == 200:
                    proxy.recorded = data
                self.reply(resp.status, data)

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, key)
        self.server.socket = ctx.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        self.url = "https://127.0.0.1:%d" % self.port
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


class Gate:
    """build/nodegate --attest-only on a fresh root below /dev/shm (a tmpfs, as /run is)."""

    def __init__(self, binary, work, tls_ca):
        self.binary, self.work, self.tls_ca = binary, work, tls_ca
        self.n = 0

    def root(self, log, cmdline, ca=None, base=None):
        self.n += 1
        root = tempfile.mkdtemp(prefix="gate-%d-" % self.n, dir=base or self.work)
        for d in ("proc", "etc/nodegate", "run", os.path.dirname(EVENTLOG)):
            os.makedirs(os.path.join(root, d), exist_ok=True)
        with open(os.path.join(root, "proc/cmdline"), "w") as f:
            f.write(cmdline + "\n")
        shutil.copy(ca or self.tls_ca, os.path.join(root, "etc/nodegate/ca.pem"))
        if log:
            shutil.copy(log, os.path.join(root, EVENTLOG))
        return root

    def run(self, root, wrap=(), timeout=120, command="--attest-only"):
        """A gate that outlives timeout is killed: returncode None, what it printed kept."""
        t0 = time.monotonic()
        try:
            r = subprocess.run(list(wrap) + [self.binary, command, root],
                               capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired as e:
            r = subprocess.CompletedProcess(e.cmd, None, e.stdout or "", e.stderr or "")
            for k in ("stdout", "stderr"):
                v = getattr(r, k)
                setattr(r, k, v.decode(errors="replace") if isinstance(v, bytes) else v)
            r.stderr += "\n(killed after %d s)" % timeout
        r.elapsed = time.monotonic() - t0
        r.console = r.stdout + r.stderr
        return r


def cmdline(url, tpm, timeout=30, extra=""):
    words = ["console=ttyS0", "roothash=" + ROOTHASH, "nodegate.on_failure=poweroff",
             "nodegate.timeout=%d" % timeout, "nodegate.tpm=" + tpm.path]
    if url:
        words.append("nodegate.url=" + url)
    return " ".join(words) + (" " + extra if extra else "")


def failed(r, what):
    """what: "FAILED <name>", literally, as tests/check-failure-coverage.sh looks for it."""
    m = re.search(r"^.*nodegate\[[a-z]+\]: %s: .*$" % re.escape(what), r.console, re.M)
    if m:
        print("      " + m.group(0).split("] ", 1)[-1])
    return r.returncode == 1 and m is not None


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--gate", required=True)
    ap.add_argument("--client", required=True)
    ap.add_argument("--verifier", required=True)
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    args = ap.parse_args()
    for tool in ("swtpm", "swtpm_setup", "swtpm_ioctl", "swtpm_localca", "openssl", "unshare"):
        if not shutil.which(tool):
            print("missing %s" % tool)
            return 1
    f = A.Failures()
    work = tempfile.mkdtemp(prefix="nodegate-gate-attest-")
    shm = tempfile.mkdtemp(prefix="nodegate-gate-attest-", dir="/dev/shm")
    tpms, verifiers, proxies = [], [], []
    started = time.monotonic()
    try:
        scenarios(f, work, shm, args, tpms, verifiers, proxies)
    finally:
        for p in proxies:
            p.stop()
        for v in verifiers:
            v.stop()
        for t in tpms:
            t.stop()
        if args.keep:
            print("work directories kept: %s %s" % (work, shm))
        else:
            shutil.rmtree(work, ignore_errors=True)
            shutil.rmtree(shm, ignore_errors=True)
        print("%d checks passed, %d failed, %.0f s" % (f.passed, len(f.failed),
                                                     time.monotonic() - started))
        for what in f.failed:
            print("FAILED: " + what)
    return 1 if f.failed else 0


def scenarios(f, work, shm, args, tpms, verifiers, proxies):
    V = lambda *a: A.must([os.path.abspath(args.verifier)] + list(a))  # noqa: E731
    client = A.Client(os.path.abspath(args.client), None, None)
    gate = Gate(os.path.abspath(args.gate), shm, None)

    ca_dir, ca_conf = A.make_localca(work, "localca")
    tls_ca, tls_cert, tls_key = A.make_tls(work)
    gate.tls_ca = client.ca = tls_ca
    other_dir = os.path.join(work, "other-tls")
    os.makedirs(other_dir)
    other_ca = os.path.join(other_dir, "ca.pem")
    A.must(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
            "-nodes", "-keyout", os.path.join(other_dir, "ca.key"), "-out", other_ca, "-days",
            "2", "-subj", "/CN=some other CA"])

    tpm = A.Swtpm(work, "tpm", ca_conf)  # EK certificates from the local CA: P-384 by "auto"
    tpms.append(tpm)
    good_log, good_ext, _ = A.extensions(work, "good")
    bad_log, bad_ext, _ = A.extensions(work, "other-uki", uki="not-the-approved-uki")

    secret = os.path.join(work, "secret")
    V("keygen", secret)
    policy = os.path.join(work, "policy.json")
    with open(policy, "w") as out:
        out.write(V("policy", "from-log", "--allow", "secure-boot-off", good_log).stdout)
    ek_ca = os.path.join(work, "ek-ca")
    for pem in ("swtpm-localca-rootca-cert.pem", "issuercert.pem"):
        V("ca", "add", ek_ca, os.path.join(ca_dir, pem))
    allowlist = os.path.join(work, "ek-allowlist")
    open(allowlist, "w").close()
    pool = os.path.join(work, "tokens")
    tokens = ["%s.%s" % (os.urandom(3).hex(), os.urandom(8).hex()) for _ in range(24)]
    with open(pool, "w") as out:
        out.write("".join(t + "\n" for t in tokens))
    os.chmod(pool, 0o600)
    empty_pool = os.path.join(work, "tokens-empty")
    open(empty_pool, "w").close()
    os.chmod(empty_pool, 0o600)
    audit = os.path.join(work, "audit.jsonl")
    api_server = "https://10.0.0.1:6443"
    common = ["--secret", secret, "--policy", policy, "--ek-allowlist", allowlist,
              "--ek-ca", ek_ca, "--ek-trust", "ca-only", "--api-server", api_server,
              "--cluster-ca", tls_ca,
              "--cert", tls_cert, "--key", tls_key, "--threads", "2"]
    v = A.Verifier(os.path.abspath(args.verifier), work, "verifier",
                   common + ["--token-source", "pool:" + pool, "--audit-log", audit])
    verifiers.append(v)
    v_empty = A.Verifier(os.path.abspath(args.verifier), work, "verifier-empty",
                         common + ["--token-source", "pool:" + empty_pool, "--audit-log",
                                   os.path.join(work, "audit-empty.jsonl")])
    verifiers.append(v_empty)
    v_short = A.Verifier(os.path.abspath(args.verifier), work, "verifier-short",
                         common + ["--token-source", "pool:" + pool, "--audit-log", audit,
                                   "--challenge-lifetime", "5"])
    verifiers.append(v_short)
    proxy = Proxy(tls_cert, tls_key, tls_ca, v.port)
    proxies.append(proxy)
    proxy_short = Proxy(tls_cert, tls_key, tls_ca, v_short.port)
    proxies.append(proxy_short)

    def boot(ext=good_ext):
        """A fresh boot: power cycle, TPM2_Startup, the firmware's extensions."""
        tpm.power_cycle()
        for cmd in (["startup"], ["extend-log", ext]):
            r = client(tpm, *cmd)
            if r.returncode != 0:
                raise RuntimeError("%s failed: %s" % (cmd[0], A.show(r)))

    def pcr15():
        r = client(tpm, "pcrread", "15")
        m = re.search(r"^15: ([0-9a-f]{64})$", r.stdout, re.M)
        return bytes.fromhex(m.group(1)) if m else None

    def show(r):
        return "exit %s after %.1f s\n%s" % (r.returncode, r.elapsed, r.console[-4000:])

    def no_kubeconfig(root):
        return not os.path.lexists(os.path.join(root, KUBECONFIG))

    def capped_failed(r, what):
        f.check(pcr15() == extend(bytes(32), FAILED) and
                re.search(r'nodegate\[cap\]: PCR 15 extended with "nodegate: failed"', r.console),
                what + ': PCR 15 capped with "nodegate: failed"', show(r))

    def pool_tokens():
        with open(pool) as fp:
            return fp.read()

    # ---- (a) the good flow ------------------------------------------------------------------
    boot()
    root = gate.root(good_log, cmdline(proxy.url, tpm))
    r = gate.run(root)
    path = os.path.join(root, KUBECONFIG)
    ok = f.check(r.returncode == 0 and os.path.exists(path),
                 "good: exit 0, the kubeconfig is written", show(r))
    if ok:
        st, dst = os.lstat(path), os.lstat(os.path.dirname(path))
        f.check(stat.S_ISREG(st.st_mode) and stat.S_IMODE(st.st_mode) == 0o600 and
                stat.S_IMODE(dst.st_mode) == 0o700,
                "good: kubeconfig mode 0600 in a 0700 directory",
                "%o %o" % (st.st_mode, dst.st_mode))
        text = open(path).read()
        token = re.search(r"^    token: (\S+)$", text, re.M)
        token = token.group(1) if token else ""
        cad = re.search(r"^    certificate-authority-data: (\S+)$", text, re.M)
        f.check(token in tokens, "good: the kubeconfig's token is one of the pool's", text)
        f.check(cad and base64.b64decode(cad.group(1)) == open(tls_ca, "rb").read() and
                "    server: %s\n" % api_server in text and
                "current-context: tls-bootstrap-token-user@kubernetes\n" in text and
                text.startswith("apiVersion: v1\nkind: Config\n"),
                "good: kubeadm's bootstrap-kubelet.conf shape, server and cluster CA", text)
        f.check(token and token not in r.console and token.split(".")[1] not in r.console,
                "good: the console never shows the token's secret", r.console)
        f.check(token and re.search(r"nodegate\[handover\]: /run/nodegate/bootstrap-kubelet.conf "
                                    r"written: API server %s, token %s$" %
                                    (re.escape(api_server), token.split(".")[0]),
                                    r.console, re.M),
                "good: the handover line names the server and the token id", r.console)
        issued = [a for a in A.audit_lines(audit) if a.get("decision") == "issued"]
        f.check(issued and issued[-1].get("token_id") == token.split(".")[0],
                "good: the verifier's audit log has the same token id", str(issued[-1:]))
    for step in ("parse", "attest", "cap", "handover"):
        f.check(re.search(r"nodegate\[%s\]: done in \d+\.\d{3} ms$" % step, r.console, re.M),
                "good: step %s logged done" % step, r.console)
    m = re.search(r"nodegate(?:\[[a-z]+\])?: timeline \(ms\): (.*) total=(\S+) since /init "
                  r"started; phases \(ms\): (.*); tpm_commands=(\d+) verifier_attempts=(\d+); "
                  r"tpm_commands \(phase\): tpm=(\d+) unseal=(\d+) cap=(\d+)$",
                  r.console, re.M)
    f.check(m is not None, "good: the timeline line with phases and the TPM command count",
            r.console)
    if m:
        phases = dict(kv.split("=") for kv in m.group(3).split())
        steps = dict(kv.split("=") for kv in m.group(1).split())
        f.check(list(steps) == ["parse", "attest", "cap", "handover"] and
                set(phases) == {"network", "tpm", "verifier", "round1", "round2", "unseal",
                                "handover"} and
                all(float(phases[k]) > 0 for k in ("tpm", "verifier", "round1", "round2",
                                                   "unseal")) and
                int(m.group(4)) > 10 and m.group(5) == "2",
                "good: timeline steps, phases > 0, tpm_commands, 2 requests", m.group(0))
        n_keys, n_unseal, n_cap = (int(m.group(i)) for i in (6, 7, 8))
        f.check(n_keys > 0 and n_unseal > 0 and n_cap == 1 and
                n_keys + n_unseal + n_cap == int(m.group(4)),
                "good: TPM commands per phase add up to the total, the cap is one command",
                m.group(0))
        print("      timing: " + m.group(0).split("timeline ")[1])
    f.check(pcr15() == extend(bytes(32), RELEASED),
            'good: PCR 15 = extend(0, "nodegate: token released")', str(pcr15()))
    good_answer = proxy.recorded

    # ---- (i) the cap: the same answer cannot be unsealed again in this boot -------------------
    answer_file = os.path.join(work, "good-answer.json")
    with open(answer_file, "wb") as out:
        out.write(good_answer or b"{}")
    r2 = client(tpm, "unseal", answer_file, "--no-cap")
    f.check(r2.returncode == A.EXIT_TPM and "unseal failed" in r2.stdout and
            "unsealed:" not in r2.stdout,
            "cap: the gate's blob no longer unseals in the same boot", A.show(r2))

    # ---- (g) the good answer replayed in the next boot -----------------------------------------
    boot()
    proxy.plan = ["forward", "replay"]
    root = gate.root(good_log, cmdline(proxy.url, tpm))
    r = gate.run(root)
    f.check(failed(r, "FAILED unseal") and "sealed to another boot or PCR state" in r.console and
            no_kubeconfig(root),
            "replay: the last boot's answer fails to unseal (FAILED unseal)", show(r))
    capped_failed(r, "replay")

    # ---- retries that end well: 503 once, then challenge-expired once --------------------------
    boot()
    proxy.plan = ["503"]
    root = gate.root(good_log, cmdline(proxy.url, tpm))
    r = gate.run(root)
    f.check(r.returncode == 0 and re.search(r"attempt 1: verifier 127\.0\.0\.1:\d+ answered HTTP "
                                            r"503: overloaded: too many requests in flight; "
                                            r"retrying in \d+ ms", r.console) and
            "verifier_attempts=3" in r.console,
            "retry: a 503 is retried, the second round succeeds", show(r))
    boot()
    proxy_short.plan = ["forward", ("delay", 6.5)]
    root = gate.root(good_log, cmdline(proxy_short.url, tpm))
    r = gate.run(root)
    f.check(r.returncode == 0 and "verifier refused: challenge-expired" in r.console and
            "verifier_attempts=4" in r.console and
            [p for p, _ in proxy_short.log] == ["/v2/challenge", "/v2/attest"] * 2,
            "retry: challenge-expired starts again from round 1 and succeeds", show(r) +
            "\n" + str(proxy_short.log))

    # ---- (d) verifier down: bounded retries within the deadline -------------------------------
    boot()
    port = free_port()
    root = gate.root(good_log, cmdline("https://127.0.0.1:%d" % port, tpm, timeout=8))
    r = gate.run(root)
    retries = re.findall(r"attempt \d+: cannot connect to 127\.0\.0\.1:%d: connection refused; "
                         r"retrying in \d+ ms" % port, r.console)
    f.check(failed(r, "FAILED verifier-unreachable") and
            "cannot connect to 127.0.0.1:%d: connection refused" % port in r.console and
            len(retries) >= 2 and r.elapsed <= 8.0 and no_kubeconfig(root),
            "down: %d retries, then FAILED verifier-unreachable after %.1f s (timeout 8 s)" %
            (len(retries), r.elapsed), show(r))
    capped_failed(r, "down")

    # ---- 5xx until the deadline ---------------------------------------------------------------
    boot()
    root = gate.root(good_log, cmdline(v_empty.url, tpm, timeout=7))
    r = gate.run(root)
    f.check(failed(r, "FAILED verifier-unavailable") and "answered HTTP 503: token-unavailable" in
            r.console and len(re.findall(r"retrying in", r.console)) >= 1 and r.elapsed <= 7.0,
            "token source empty: 503 retried, then FAILED verifier-unavailable", show(r))

    # ---- (e) garbage answers --------------------------------------------------------------------
    boot()
    proxy.plan = ["garbage"]
    root = gate.root(good_log, cmdline(proxy.url, tpm))
    r = gate.run(root)
    f.check(failed(r, "FAILED verifier-answer") and "malformed challenge answer" in r.console and
            "retrying" not in r.console and no_kubeconfig(root),
            "garbage: a non-JSON challenge answer fails closed at once (FAILED verifier-answer)",
            show(r))
    capped_failed(r, "garbage")
    boot()
    proxy.plan = ["forward", "garbage-json"]
    root = gate.root(good_log, cmdline(proxy.url, tpm))
    r = gate.run(root)
    f.check(failed(r, "FAILED verifier-answer") and "malformed attest answer" in r.console and
            no_kubeconfig(root),
            "garbage: a malformed attest answer fails closed (FAILED verifier-answer)", show(r))

    # ---- (f) wrong CA ------------------------------------------------------------------------
    boot()
    root = gate.root(good_log, cmdline(v.url, tpm), ca=other_ca)
    r = gate.run(root)
    f.check(failed(r, "FAILED verifier-tls") and
            re.search(r"TLS handshake with 127\.0\.0\.1:%d failed: certificate not trusted by "
                      r"\S+/etc/nodegate/ca\.pem" % v.port, r.console) and
            "retrying" not in r.console and no_kubeconfig(root),
            "wrong CA: FAILED verifier-tls, not retried", show(r))

    # A certificate from the right CA, but for 127.0.0.1, reached as "localhost" (/etc/hosts).
    boot()
    root = gate.root(good_log, cmdline("https://localhost:%d" % v.port, tpm))
    r = gate.run(root)
    f.check(failed(r, "FAILED verifier-tls") and
            "TLS handshake with localhost:%d failed: its certificate is not for this host" % v.port
            in r.console and "retrying" not in r.console,
            "wrong host name: FAILED verifier-tls (not for this host)", show(r))

    # ---- a refusal, with the verifier's reason ---------------------------------------------------
    boot(bad_ext)
    root = gate.root(bad_log, cmdline(v.url, tpm))
    r = gate.run(root)
    f.check(failed(r, "FAILED verifier-refused") and
            re.search(r"FAILED verifier-refused: verifier refused: event-not-allowed: PCR \d+ "
                      r"event \d+ ", r.console) and "retrying" not in r.console and
            no_kubeconfig(root),
            "other UKI: FAILED verifier-refused with the verifier's error and message", show(r))
    capped_failed(r, "refused")

    # ---- the handover refuses a /run on disk ----------------------------------------------------
    boot()
    root = gate.root(good_log, cmdline(v.url, tpm), base=work)
    fs = subprocess.run(["stat", "-f", "-c", "%T", os.path.join(root, "run")],
                        capture_output=True, text=True).stdout.strip()
    if fs in ("tmpfs", "ramfs"):
        print("skip  handover on disk: %s is %s" % (work, fs))
    else:
        before = pool_tokens()
        r = gate.run(root)
        f.check(failed(r, "FAILED handover") and "is not on a tmpfs or ramfs" in r.console and
                no_kubeconfig(root) and before != pool_tokens(),
                "/run on %s: a token was issued, but FAILED handover writes nothing" % fs, show(r))
        f.check(pcr15() == extend(extend(bytes(32), RELEASED), FAILED),
                'handover: PCR 15 capped "released", then "failed"', str(pcr15()))

    # ---- configuration and the node itself ------------------------------------------------------
    # A failure before the attest step still caps: a shell (nodegate.on_failure=shell, or the
    # framework's own) must never meet an uncapped PCR 15 from which the gate would get a token.
    boot()
    root = gate.root(good_log, cmdline(None, tpm, extra="nodegate.on_failure=shell"))
    r = gate.run(root)
    f.check(failed(r, "FAILED verifier-config") and "no nodegate.url=" in r.console and
            "nodegate[attest]" not in r.console,
            "no nodegate.url=: FAILED verifier-config at parse, before the attest step", show(r))
    capped_failed(r, "no-url, on_failure=shell: the TPM opened for the cap alone")
    # A refused command line: its nodegate.tpm= is still the TPM that gets capped.
    boot()
    root = gate.root(good_log, cmdline(v.url, tpm, extra="nodegate.typo=1"))
    r = gate.run(root)
    f.check(failed(r, "FAILED cmdline-invalid") and "nodegate.typo" in r.console,
            "unknown nodegate.* key: FAILED cmdline-invalid", show(r))
    capped_failed(r, "refused command line: the TPM of its nodegate.tpm=")
    root = gate.root(good_log, cmdline(v.url, tpm, extra="nodegate.ca=/etc/nodegate/none.pem"))
    r = gate.run(root)
    f.check(failed(r, "FAILED verifier-config") and
            "nodegate.ca=/etc/nodegate/none.pem: No such file or directory" in r.console,
            "missing CA bundle: FAILED verifier-config", show(r))

    class NoTpm:
        path = "/dev/nodegate-test-no-such-tpm"
    root = gate.root(good_log, cmdline(v.url, NoTpm))
    r = gate.run(root)
    f.check(failed(r, "FAILED tpm-missing") and NoTpm.path in r.console and r.elapsed < 10 and
            re.search(r"nodegate\[cap\]: .*: there is no TPM, so no PCR 15 to cap", r.console),
            "no TPM device: FAILED tpm-missing after the short wait, nothing to cap", show(r))

    class NullTpm:
        path = "/dev/null"
    root = gate.root(good_log, cmdline(v.url, NullTpm))
    r = gate.run(root)
    f.check(failed(r, "FAILED tpm") and "FAILED tpm: cannot open the TPM: /dev/null: " in r.console,
            "a device that is no TPM: FAILED tpm", show(r))

    boot()
    root = gate.root(None, cmdline(v.url, tpm))
    r = gate.run(root)
    f.check(failed(r, "FAILED eventlog") and "securityfs is not mounted at /sys/kernel/security"
            in r.console, "no event log: FAILED eventlog", show(r))
    capped_failed(r, "eventlog")

    # ip= names a link that never appears: the network step, in a network namespace of its own.
    root = gate.root(good_log, cmdline(v.url, tpm, timeout=3, extra="ip=eth7:dhcp"))
    r = gate.run(root, wrap=["unshare", "--net"])
    f.check(failed(r, "FAILED network") and "eth7" in r.console and
            "nodegate[attest]" not in r.console,
            "ip= with a missing link: FAILED network", show(r))

    # ---- the same flow again after all that: the verifier and the TPM are still fine ------------
    boot()
    root = gate.root(good_log, cmdline(v.url, tpm, extra="nodegate.ek=ecc384"))
    r = gate.run(root)
    f.check(r.returncode == 0 and os.path.exists(os.path.join(root, KUBECONFIG)),
            "good again, direct to the verifier with nodegate.ek=ecc384", show(r))
    f.check(v.alive() and v_empty.alive() and v_short.alive(), "the verifiers are still running")

    # ---- nodegate --cap-failed: what the dracut and mkinitcpio hooks run before any shell ------
    boot()
    root = gate.root(good_log, cmdline(v.url, tpm))
    os.makedirs(os.path.join(root, "run/nodegate"), mode=0o700)
    for name in ("bootstrap-kubelet.conf", "leftover"):
        with open(os.path.join(root, "run/nodegate", name), "w") as out:
            out.write("token: abcdef.0123456789abcdef\n")
    r = gate.run(root, command="--cap-failed")
    f.check(r.returncode == 0 and not os.path.lexists(os.path.join(root, "run/nodegate")) and
            pcr15() == extend(bytes(32), FAILED) and
            'nodegate[cap]: PCR 15 extended with "nodegate: failed"' in r.console,
            "cap-failed: exit 0, PCR 15 capped, /run/nodegate wiped", show(r))
    r = gate.run(root, command="--cap-failed")
    f.check(r.returncode == 0 and pcr15() == extend(extend(bytes(32), FAILED), FAILED),
            "cap-failed twice: exit 0, capped again", show(r))
    root = gate.root(good_log, cmdline(v.url, NoTpm))
    r = gate.run(root, command="--cap-failed")
    f.check(r.returncode == 0 and "there is no TPM, so no PCR 15 to cap" in r.console,
            "cap-failed without a TPM: exit 0, says there is nothing to cap", show(r))
    root = gate.root(good_log, cmdline(v.url, NullTpm))
    r = gate.run(root, command="--cap-failed")
    f.check(r.returncode == 1 and "PCR 15 is not capped: no shell may follow" in r.console,
            "cap-failed with a device that is no TPM: exit 1, no shell", show(r))
    # A command line the gate refuses (an unterminated quote): its nodegate.tpm= is still found.
    boot()
    root = gate.root(good_log, cmdline(v.url, tpm, extra="nodegate.url=\"unterminated"))
    r = gate.run(root, command="--cap-failed")
    f.check(r.returncode == 0 and pcr15() == extend(bytes(32), FAILED),
            "cap-failed with a malformed command line: the TPM of its nodegate.tpm= capped",
            show(r))

    # ---- a TPM that stops answering: the watchdog ends the run at the deadline ----------------
    # Its own swtpm: the stopped one keeps the gate's last command, and its answer would reach
    # whoever reads the pty next. SIGSTOP when round 2 goes out: the gate then waits in
    # tpm2-tss for the import, which nothing but the watchdog interrupts.
    hung = A.Swtpm(work, "tpm-hung", ca_conf)
    tpms.append(hung)
    for cmd in (["startup"], ["extend-log", good_ext]):
        client(hung, *cmd)
    stopped = []

    def stop_tpm():
        os.kill(hung.proc.pid, signal.SIGSTOP)
        stopped.append(time.monotonic())
    proxy.plan = ["forward", ("call", stop_tpm)]
    root = gate.root(good_log, cmdline(proxy.url, hung, timeout=10))
    r = gate.run(root, timeout=40)
    os.kill(hung.proc.pid, signal.SIGCONT)
    f.check(stopped and failed(r, "FAILED tpm") and
            "the TPM has not answered a command by nodegate.timeout=10 s" in r.console and
            "PCR 15 cannot be capped (the TPM does not answer)" in r.console and
            10.0 <= r.elapsed <= 14.0 and no_kubeconfig(root),
            "hung TPM: FAILED tpm from the watchdog at nodegate.timeout + 1 s (%.1f s)" %
            r.elapsed, show(r))


if __name__ == "__main__":
    sys.exit(main())
