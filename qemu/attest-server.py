#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The verifier side of a test boot: the real nodegate-verifier with throwaway files, and what
the scenarios put in front of it, on the host's loopback where the guest reaches it as 10.0.2.2.

Modes (--mode):
  verifier  nodegate-verifier itself listens on --port: what a node meets in production.
  record    a TLS proxy listens on --port and passes every request through to the verifier (on a
            free port), recording each request and answer in DIR/record/.
  replay    as record, but POST /v2/attest is not forwarded: the answer in --replay FILE is
            sent instead (the challenge round still goes to the verifier).
  garbage   a TLS server on --port that answers every request 200 with random bytes.

Files in DIR: secret, policy.json, ek-ca/, pool (the token source; used tokens are marked),
tokens (the pool as it was), audit.jsonl, verifier.stderr, record/NNN-ENDPOINT.{request,answer}
and record/index.jsonl, requests.jsonl (garbage mode), ready (written once everything listens).
--answer-port serves the latest recorded /v2/attest answer, raw, to whoever connects (the
stand-in kubelet's unseal-again test). Runs until SIGTERM or SIGINT, then stops the verifier and
writes its exit status to DIR/verifier.exit. Every process it starts is its own child.
"""

import argparse
import http.client
import http.server
import json
import os
import re
import secrets
import shutil
import signal
import socket
import socketserver
import ssl
import subprocess
import sys
import threading
import time

PERMISSIVE = {"version": 1, "quote_pcrs": [0, 1, 2, 3, 4, 5, 6, 7, 9, 11, 15], "cap_pcr": 15,
              "allow": ["firmware-unjudged", "secure-boot-off"], "pcrs": {}}
API_SERVER = "https://10.0.0.1:6443"
MAX_BODY = 2 * 1024 * 1024


def log(msg):
    print("attest-server: " + msg, file=sys.stderr, flush=True)


def must(cmd, **kw):
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=60, **kw)
    if r.returncode != 0:
        raise RuntimeError("%s failed (%d): %s%s" % (" ".join(cmd), r.returncode, r.stdout,
                                                     r.stderr))
    return r


def rogue_tls(d):
    """A CA the gate does not trust and a server certificate from it, otherwise just right."""
    os.makedirs(d, exist_ok=True)
    p = lambda n: os.path.join(d, n)  # noqa: E731
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
    must(["openssl", "req", "-x509"] + ec + ["-keyout", p("ca.key"), "-out", p("ca.pem"),
         "-days", "2", "-subj", "/CN=nodegate e2e rogue CA",
         "-addext", "basicConstraints=critical,CA:TRUE"])
    must(["openssl", "req"] + ec + ["-keyout", p("server.key"), "-out", p("server.csr"),
         "-subj", "/CN=10.0.2.2"])
    with open(p("ext"), "w") as f:
        f.write("basicConstraints=critical,CA:FALSE\nextendedKeyUsage=serverAuth\n"
                "subjectAltName=IP:10.0.2.2,IP:127.0.0.1\n")
    must(["openssl", "x509", "-req", "-in", p("server.csr"), "-CA", p("ca.pem"), "-CAkey",
          p("ca.key"), "-CAcreateserial", "-out", p("server.pem"), "-days", "2", "-extfile",
          p("ext")])
    return p("server.pem"), p("server.key")


class Recorder:
    """Numbered request/answer files; the last /v2/attest answer for the answer port."""

    def __init__(self, d):
        self.dir = d
        os.makedirs(d, exist_ok=True)
        self.lock = threading.Lock()
        self.n = 0
        self.last_attest_answer = None

    def record(self, endpoint, request, status, answer, forwarded):
        with self.lock:
            self.n += 1
            base = os.path.join(self.dir, "%03d-%s" % (self.n, endpoint))
            with open(base + ".request", "wb") as f:
                f.write(request)
            with open(base + ".answer", "wb") as f:
                f.write(answer)
            with open(os.path.join(self.dir, "index.jsonl"), "a") as f:
                f.write(json.dumps({"n": self.n, "endpoint": endpoint, "status": status,
                                    "forwarded": forwarded, "time": time.time()}) + "\n")
            if endpoint == "attest" and status == 200:
                self.last_attest_answer = answer


class TLSServer(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, addr, handler, ctx, state):
        self.ctx = ctx
        self.state = state
        super().__init__(addr, handler)


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 30

    def setup(self):
        # The handshake in the connection's own thread: a client that never finishes it must
        # not block the accept loop.
        self.request.settimeout(self.timeout)
        self.request = self.server.ctx.wrap_socket(self.request, server_side=True)
        super().setup()

    def log_message(self, fmt, *args):
        log("%s %s" % (self.client_address[0], fmt % args))

    def read_body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            body = b""
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return body
                body += self.rfile.read(size)
                self.rfile.readline()
                if len(body) > MAX_BODY:
                    raise ValueError("body too large")
        n = int(self.headers.get("Content-Length", "0"))
        if n > MAX_BODY:
            raise ValueError("body too large")
        return self.rfile.read(n)

    def answer(self, status, body, content_type="application/json"):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        self.do_POST()

    def do_POST(self):
        st = self.server.state
        body = self.read_body() if self.command == "POST" else b""
        endpoint = self.path.rstrip("/").rsplit("/", 1)[-1] or "root"
        if st.mode == "garbage":
            garbage = secrets.token_bytes(512)
            with open(os.path.join(st.dir, "requests.jsonl"), "a") as f:
                f.write(json.dumps({"method": self.command, "path": self.path,
                                    "size": len(body), "time": time.time()}) + "\n")
            self.answer(200, garbage)
            return
        if st.mode == "replay" and endpoint == "attest":
            st.recorder.record(endpoint, body, 200, st.replay, False)
            self.answer(200, st.replay)
            return
        conn = http.client.HTTPSConnection("127.0.0.1", st.verifier_port, context=st.client_ctx,
                                           timeout=60)
        try:
            conn.request(self.command, self.path, body=body if self.command == "POST" else None,
                         headers={"Content-Type": self.headers.get("Content-Type",
                                                                   "application/json")})
            resp = conn.getresponse()
            data = resp.read()
            status, ctype = resp.status, resp.getheader("Content-Type", "application/json")
        finally:
            conn.close()
        st.recorder.record(endpoint, body, status, data, True)
        self.answer(status, data, ctype)


def serve_answers(sock, recorder, stop):
    """The answer port: every connection gets the latest /v2/attest answer, then EOF."""
    sock.settimeout(0.5)
    while not stop.is_set():
        try:
            conn, _ = sock.accept()
        except socket.timeout:
            continue
        except OSError:
            return
        with conn:
            data = recorder.last_attest_answer or b""
            log("answer port: sending %d bytes" % len(data))
            try:
                conn.sendall(data)
            except OSError:
                pass


class State:
    pass


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dir", required=True)
    ap.add_argument("--mode", required=True, choices=["verifier", "record", "replay", "garbage"])
    ap.add_argument("--verifier", help="the nodegate-verifier binary")
    ap.add_argument("--pki", required=True, help="qemu/mkpki.sh's directory")
    ap.add_argument("--policy", help="policy file (default: one that judges no event)")
    ap.add_argument("--tls", choices=["good", "rogue"], default="good",
                    help="rogue: a server certificate from a CA the gate does not trust")
    ap.add_argument("--replay", help="replay mode: the /v2/attest answer to send")
    ap.add_argument("--port", type=int, default=8443)
    ap.add_argument("--answer-port", type=int)
    ap.add_argument("--tokens", type=int, default=16)
    ap.add_argument("--api-server", default=API_SERVER, help="the kubeconfig's server")
    ap.add_argument("--verifier-arg", action="append", default=[], metavar="ARG",
                    help="one more argument for nodegate-verifier serve (repeat: "
                    "--verifier-arg=--platform-roots --verifier-arg=DIR)")
    a = ap.parse_args()

    st = State()
    st.mode = a.mode
    st.dir = os.path.abspath(a.dir)
    os.makedirs(st.dir, exist_ok=True)
    ready = os.path.join(st.dir, "ready")
    if os.path.exists(ready):
        os.unlink(ready)
    cert, key = os.path.join(a.pki, "server.pem"), os.path.join(a.pki, "server.key")
    if a.tls == "rogue":
        cert, key = rogue_tls(os.path.join(st.dir, "rogue"))

    verifier = None
    stop = threading.Event()
    servers = []

    def on_signal(signum, _frame):
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        if a.mode != "garbage":
            if not a.verifier:
                ap.error("--verifier is needed in mode " + a.mode)
            verifier, st.verifier_port = start_verifier(a, st, cert, key)
            st.recorder = Recorder(os.path.join(st.dir, "record"))
        if a.mode == "replay":
            if not a.replay:
                ap.error("--replay FILE is needed in replay mode")
            with open(a.replay, "rb") as f:
                st.replay = f.read()
        if a.mode != "verifier":
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.minimum_version = ssl.TLSVersion.TLSv1_2
            ctx.load_cert_chain(cert, key)
            st.client_ctx = ssl.create_default_context(cafile=os.path.join(a.pki, "ca.pem"))
            srv = TLSServer(("127.0.0.1", a.port), Handler, ctx, st)
            servers.append(srv)
            threading.Thread(target=srv.serve_forever, daemon=True).start()
        if a.answer_port:
            if a.mode not in ("record", "replay"):
                ap.error("--answer-port needs record or replay mode")
            asock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            asock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            asock.bind(("127.0.0.1", a.answer_port))
            asock.listen(4)
            threading.Thread(target=serve_answers, args=(asock, st.recorder, stop),
                             daemon=True).start()
        with open(ready + ".tmp", "w") as f:
            f.write("url https://127.0.0.1:%d\nmode %s\n" % (a.port, a.mode))
        os.rename(ready + ".tmp", ready)
        log("%s mode ready on 127.0.0.1:%d" % (a.mode, a.port))
        while not stop.is_set():
            if verifier and verifier.poll() is not None:
                log("the verifier exited early with %d" % verifier.returncode)
                break
            stop.wait(0.2)
    finally:
        for srv in servers:
            srv.shutdown()
            srv.server_close()
        if verifier:
            if verifier.poll() is None:
                verifier.send_signal(signal.SIGTERM)
                try:
                    verifier.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    verifier.kill()
                    verifier.wait()
            with open(os.path.join(st.dir, "verifier.exit"), "w") as f:
                f.write("%d\n" % verifier.returncode)
    return 0


def start_verifier(a, st, cert, key):
    d = st.dir
    v = a.verifier
    secret = os.path.join(d, "secret")
    if not os.path.exists(secret):
        must([v, "keygen", secret])
    policy = os.path.join(d, "policy.json")
    if a.policy:
        shutil.copyfile(a.policy, policy)
    else:
        with open(policy, "w") as f:
            json.dump(PERMISSIVE, f)
    ek_ca = os.path.join(d, "ek-ca")
    shutil.rmtree(ek_ca, ignore_errors=True)
    for pem in ("swtpm-localca-rootca-cert.pem", "issuercert.pem"):
        must([v, "ca", "add", ek_ca, os.path.join(a.pki, "swtpm-ca", pem)])
    tokens = ["%s.%s" % (secrets.token_hex(3), secrets.token_hex(8)) for _ in range(a.tokens)]
    for name in ("pool", "tokens"):
        with open(os.path.join(d, name), "w") as f:
            f.write("".join(t + "\n" for t in tokens))
        os.chmod(os.path.join(d, name), 0o600)  # the verifier refuses a pool others can read
    try:
        os.unlink(os.path.join(d, "pool.issued"))  # a new pool: no boot had a token of it
    except FileNotFoundError:
        pass
    listen = "127.0.0.1:%d" % (a.port if a.mode == "verifier" else 0)
    err = open(os.path.join(d, "verifier.stderr"), "w")
    proc = subprocess.Popen(
        [v, "serve", "--listen", listen, "--cert", cert, "--key", key, "--secret", secret,
         # Every boot makes a fresh swtpm whose EK only the harness's throwaway CA certifies:
         # no inventory to keep, so CA trust alone, as the opt-in it is (issue 11).
         "--policy", policy, "--ek-ca", ek_ca, "--ek-trust", "ca-only",
         "--token-source", "pool:" + os.path.join(d, "pool"),
         "--api-server", a.api_server, "--cluster-ca", os.path.join(a.pki, "cluster-ca.pem"),
         "--audit-log", os.path.join(d, "audit.jsonl"), "--threads", "2", *a.verifier_arg],
        stdout=subprocess.PIPE, stderr=err, text=True)
    line = proc.stdout.readline()
    m = re.match(r"listening on https://127\.0\.0\.1:(\d+)", line)
    if not m:
        proc.kill()
        proc.wait()
        raise RuntimeError("the verifier did not start: %r (see %s)" % (line, err.name))
    return proc, int(m.group(1))


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (RuntimeError, OSError) as e:
        log("error: %s" % e)
        sys.exit(1)
