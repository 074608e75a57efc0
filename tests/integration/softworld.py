# SPDX-License-Identifier: GPL-2.0-or-later
"""A world of software nodes for the verifier's service tests: a throwaway TLS CA and server
certificate for 127.0.0.1, the shared secret, a reference event log and its policy, N software
nodes (tests/bench/loadgen keygen: EK + AK in OpenSSL, on the EK allowlist), verifiers started
on a free port, and `loadgen attest` runs that print one line a boot. Every process started
here is stopped by its PID."""

import os
import re
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
MKLOG = os.path.join(HERE, "..", "tools", "mklog.py")


class Failures:
    def __init__(self):
        self.failed = []
        self.passed = 0

    def check(self, ok, what, detail=""):
        print(("ok    " if ok else "FAIL  ") + what, flush=True)
        if not ok:
            if detail:
                print("      " + str(detail).replace("\n", "\n      "), flush=True)
            self.failed.append(what)
        else:
            self.passed += 1
        return ok


def must(cmd, **kw):
    kw.setdefault("capture_output", True)
    kw.setdefault("text", True)
    kw.setdefault("timeout", 120)
    r = subprocess.run(cmd, **kw)
    if r.returncode != 0:
        raise RuntimeError("%s failed (%d):\n%s%s" % (" ".join(cmd), r.returncode, r.stdout,
                                                      r.stderr))
    return r


def make_ca(d, name, sans=("IP:127.0.0.1",)):
    """A CA and a server certificate it signs for sans; returns (ca.pem, cert, key)."""
    os.makedirs(d, exist_ok=True)
    p = lambda n: os.path.join(d, name + "-" + n)  # noqa: E731
    must(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
          "-nodes", "-keyout", p("ca.key"), "-out", p("ca.pem"), "-days", "2", "-subj",
          "/CN=%s CA" % name])
    must(["openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
          "-keyout", p("server.key"), "-out", p("server.csr"), "-subj", "/CN=127.0.0.1"])
    with open(p("ext"), "w") as f:
        f.write("subjectAltName=%s\nextendedKeyUsage=serverAuth\n" % ",".join(sans))
    must(["openssl", "x509", "-req", "-in", p("server.csr"), "-CA", p("ca.pem"), "-CAkey",
          p("ca.key"), "-CAcreateserial", "-out", p("server.pem"), "-days", "2", "-extfile",
          p("ext")])
    return p("ca.pem"), p("server.pem"), p("server.key")


class World:
    def __init__(self, work, verifier, loadgen, nodes=8, tokens=0):
        self.work, self.verifier, self.loadgen = work, verifier, loadgen
        self.tls_ca, self.tls_cert, self.tls_key = make_ca(work, "verifier")
        self.secret = os.path.join(work, "secret")
        must([verifier, "keygen", self.secret])
        self.log = os.path.join(work, "eventlog.bin")
        must([sys.executable, MKLOG, "-o", self.log, "--secure-boot"])
        self.policy = os.path.join(work, "policy.json")
        with open(self.policy, "w") as out:
            out.write(must([verifier, "policy", "from-log", self.log]).stdout)
        self.keys = os.path.join(work, "nodes")
        os.makedirs(self.keys)
        must([loadgen, "keygen", self.keys, str(nodes)])
        self.allowlist = os.path.join(self.keys, "ek-allowlist")
        self.pool = None
        if tokens:
            self.pool = os.path.join(work, "tokens")
            with open(self.pool, "w") as out:
                for i in range(tokens):
                    t = os.urandom(11).hex()
                    out.write("%s.%s\n" % (t[:6], t[6:22]))
            os.chmod(self.pool, 0o600)
        self.verifiers = []

    def serve_args(self, token_source, audit, extra=(), policy=None):
        return ["--cert", self.tls_cert, "--key", self.tls_key, "--secret", self.secret,
                "--policy", policy or self.policy, "--ek-allowlist", self.allowlist,
                "--token-source", token_source, "--api-server", "https://10.0.0.1:6443",
                "--cluster-ca", self.tls_ca, "--audit-log", audit, "--threads", "2",
                "--rate-limit", "0", "--max-connections-per-address", "0"] + list(extra)

    def start(self, name, token_source, audit, extra=(), env=None, listen="127.0.0.1:0",
              policy=None):
        v = Verifier(self.verifier, self.work, name,
                     ["--listen", listen] + self.serve_args(token_source, audit, extra, policy),
                     env)
        self.verifiers.append(v)
        return v

    def attest(self, url, first=0, count=1, boot=7, repeat=1, deadline_ms=0, timeout_ms=8000,
               hostname=None, log=None, extra=()):
        cmd = [self.loadgen, "attest", "--url", url, "--ca", self.tls_ca, "--keys", self.keys,
               "--log", log or self.log, "--first", str(first), "--count", str(count), "--boot",
               str(boot), "--repeat", str(repeat), "--deadline-ms", str(deadline_ms),
               "--timeout-ms", str(timeout_ms)]
        if hostname:
            cmd += ["--hostname", hostname]
        cmd += list(extra)
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
        return [parse_line(line) for line in r.stdout.splitlines() if line.startswith("node=")], r

    def stop_all(self, f=None):
        """Stops every verifier; with f, checks that each exited 0 on SIGTERM (one killed on
        purpose aside) without a sanitizer report."""
        for v in self.verifiers:
            rc = v.stop()
            if f is None or v.killed:
                continue
            err = v.stderr()
            f.check(rc == 0 and "Sanitizer" not in err and "runtime error" not in err,
                    "verifier %s exits 0 on SIGTERM without sanitizer reports" % v.name,
                    "exit %s\n%s" % (rc, err[-3000:]))


def parse_line(line):
    return dict(kv.split("=", 1) for kv in line.split())


class Verifier:
    def __init__(self, binary, work, name, args, env=None):
        self.name = name
        self.log = os.path.join(work, name + ".stderr")
        self.errf = open(self.log, "a")
        self.proc = subprocess.Popen([binary, "serve"] + args, stdout=subprocess.PIPE,
                                     stderr=self.errf, text=True, env=env)
        line = self.proc.stdout.readline()
        m = re.match(r"listening on (https://127\.0\.0\.1:(\d+))", line)
        if not m:
            self.stop()
            raise RuntimeError("verifier %s did not start: %r\n%s" % (name, line, self.stderr()))
        self.url, self.port = m.group(1), int(m.group(2))
        self.killed = False

    def stop(self, sig=signal.SIGTERM):
        if self.proc.poll() is None:
            self.killed = sig == signal.SIGKILL
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if not self.errf.closed:
            self.errf.close()
        return self.proc.returncode

    def stderr(self):
        with open(self.log) as f:
            return f.read()


def audit_lines(path):
    import json
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def wait_port_free(port, timeout=5):
    import socket
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        s = socket.socket()
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            time.sleep(0.1)
        finally:
            s.close()
    return False
