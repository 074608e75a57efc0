#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
# `nodegate-verifier serve` (the ASan+UBSan build) over real TLS on 127.0.0.1 and ::1: the
# transport rules of docs/PROTOCOL.md, hostile clients, limits, audit log, metrics, SIGTERM,
# and both rounds played by a software node (software EK and AK) up to an issued token.
# Usage: test-verifier-service.py PATH-TO-nodegate-verifier
import base64
import collections
import hashlib
import hmac
import http.client
import json
import os
import random
import re
import select
import shutil
import signal
import socket
import ssl
import struct
import subprocess
import sys
import tempfile
import threading
import time
import warnings

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

TIMEOUT = 2  # --connection-timeout of the main instance, seconds
TOKENS = ["abcdef.0123456789abcdef", "ghijkl.fedcba9876543210", "mnopqr.aaaabbbbccccdddd"]
# Tiny but valid policy: PCRs 7 and 15 quoted, PCR 7 pinned to its separator.
POLICY = {
    "version": 1,
    "quote_pcrs": [7, 15],
    "cap_pcr": 15,
    "allow": ["firmware-unjudged", "secure-boot-off"],  # the service's tests, not the firmware
    "pcrs": {"7": [{"type": "EV_SEPARATOR", "sha256": [
        "df3f619804a92fdb4057192dc43dd748ea778adc52bc498ce80524c014b81119"]}]},
}
ASAN_ENV = {
    "ASAN_OPTIONS": "detect_leaks=1:abort_on_error=0:strict_string_checks=1",
    "UBSAN_OPTIONS": "print_stacktrace=1:halt_on_error=1",
}

failures = 0


def check(ok, what):
    global failures
    print(("ok    " if ok else "FAIL  ") + what, flush=True)
    failures += not ok
    return ok


def run(cmd, **kw):
    return subprocess.run(cmd, check=True, capture_output=True, timeout=60, **kw)


def make_pki(d):
    """A throwaway CA and a server certificate for 127.0.0.1 and ::1."""
    ca_key, ca, key, csr, cert = (os.path.join(d, n) for n in
                                  ("ca.key", "ca.pem", "server.key", "server.csr", "server.pem"))
    run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
         "-nodes", "-keyout", ca_key, "-out", ca, "-days", "2", "-subj", "/CN=nodegate test CA"])
    run(["openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
         "-keyout", key, "-out", csr, "-subj", "/CN=127.0.0.1"])
    ext = os.path.join(d, "ext")
    with open(ext, "w") as f:
        f.write("subjectAltName=IP:127.0.0.1,IP:::1\n")
    run(["openssl", "x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key, "-CAcreateserial",
         "-out", cert, "-days", "2", "-extfile", ext])
    return ca, cert, key


class Verifier:
    """One `serve` process: stdout gives the port, stderr goes to a file read at the end."""
    started = []  # every instance, so main() can stop what a failed test left running

    def __init__(self, binary, d, name, args, listen="127.0.0.1:0", audit=None, env=None,
                 **popen):
        self.stderr_path = os.path.join(d, name + ".stderr")
        self.audit = audit or os.path.join(d, name + ".audit")
        self.stderr = open(self.stderr_path, "wb")
        self.proc = subprocess.Popen(
            [binary, "serve", "--listen", listen, "--audit-log", self.audit] + args,
            stdout=subprocess.PIPE, stderr=self.stderr,
            env={**os.environ, **ASAN_ENV, **(env or {})}, **popen)
        Verifier.started.append(self)
        line = self._readline(30)
        m = re.fullmatch(r"listening on https://(\[[0-9a-f:]+\]|[0-9.]+):(\d+)\n", line)
        if not m:
            self.stop()
            raise RuntimeError(f"{name}: no startup line, got {line!r}; stderr: "
                               + open(self.stderr_path).read())
        self.host = m.group(1).strip("[]")
        self.port = int(m.group(2))

    def _readline(self, timeout):
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout)
        return self.proc.stdout.readline().decode() if ready else ""

    def stop(self, sig=signal.SIGTERM, timeout=40):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if not self.stderr.closed:
            self.stderr.close()
        return self.proc.returncode

    def stderr_text(self):
        with open(self.stderr_path, errors="replace") as f:
            return f.read()

    def audit_lines(self):
        with open(self.audit) as f:
            return [json.loads(line) for line in f]


class Client:
    def __init__(self, ca, host, port):
        self.ctx = ssl.create_default_context(cafile=ca)
        self.host, self.port = host, port

    def request(self, method, path, body=None, headers=None, timeout=10, chunked=False):
        c = http.client.HTTPSConnection(self.host, self.port, context=self.ctx, timeout=timeout)
        try:
            c.request(method, path, body=body, headers=headers or {}, encode_chunked=chunked)
            r = c.getresponse()
            return r.status, dict(r.getheaders()), r.read()
        finally:
            c.close()

    def post(self, path, obj=None, raw=None, ctype="application/json", **kw):
        body = raw if raw is not None else json.dumps(obj).encode()
        return self.request("POST", path, body, {"Content-Type": ctype}, **kw)

    def tls(self, timeout=10, ctx=None):
        s = socket.create_connection((self.host, self.port), timeout=timeout)
        return (ctx or self.ctx).wrap_socket(s, server_hostname=self.host)

    def healthy(self):
        try:
            status, _, body = self.request("GET", "/healthz", timeout=10)
            return status == 200 and json.loads(body) == {"status": "ok"}
        except (OSError, http.client.HTTPException):
            return False


def error_of(body):
    try:
        obj = json.loads(body)
    except ValueError:
        return None
    # Version 2 for a /v2/ request, 3 (the latest) where no version is known (an unknown path).
    return obj.get("error") if isinstance(obj, dict) and obj.get("version") in (2, 3) else None


def metrics(client):
    status, headers, body = client.request("GET", "/metrics")
    values = {}
    for line in body.decode().splitlines():
        if not line or line.startswith("#"):
            continue
        m = re.fullmatch(r'([a-z_]+(?:\{[a-z_]+="[^"]*"(?:,[a-z_]+="[^"]*")*\})?) '
                         r'(-?[0-9.e+-]+|\+Inf)', line)
        if not m:
            return status, headers, None
        values[m.group(1)] = float(m.group(2))
    return status, headers, values


def recv_all_until_closed(sock, limit):
    """Reads until the peer closes; returns (data, closed_within_limit)."""
    data = b""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        sock.settimeout(max(0.05, deadline - time.monotonic()))
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            continue
        except (ssl.SSLError, OSError):
            return data, True
        if not chunk:
            return data, True
        data += chunk
    return data, False


def raw_http(sock, head, body=b""):
    sock.sendall(head.replace("\n", "\r\n").encode() + body)


def test_tls(v, client, ca):
    for version, name in ((ssl.TLSVersion.TLSv1_2, "1.2"), (ssl.TLSVersion.TLSv1_3, "1.3")):
        ctx = ssl.create_default_context(cafile=ca)
        ctx.minimum_version = ctx.maximum_version = version
        try:
            with client.tls(ctx=ctx) as s:
                got = s.version()
        except (ssl.SSLError, OSError) as e:
            got = str(e)
        check(got == f"TLSv{name}", f"TLS {name} handshake accepted (got {got})")

    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(ca)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        ctx.minimum_version = ctx.maximum_version = ssl.TLSVersion.TLSv1_1
    # Let our side offer TLS 1.1 at all, so a refusal is the server's, not our own
    # NO_PROTOCOLS_AVAILABLE. libmicrohttpd closes without an alert: EOF, or an alert.
    ctx.set_ciphers("ALL:@SECLEVEL=0")
    try:
        with client.tls(ctx=ctx) as s:
            got = "accepted " + s.version()
    except ssl.SSLError as e:
        got = str(e)
    check(re.search(r"UNEXPECTED_EOF|EOF occurred|PROTOCOL_VERSION", got, re.I) is not None,
          f"TLS 1.1 refused by the server ({got})")

    with socket.create_connection((client.host, client.port), timeout=10) as s:
        raw_http(s, "GET /healthz HTTP/1.1\nHost: x\n\n")
        data, _ = recv_all_until_closed(s, 10)
    check(b"200" not in data and b"status" not in data, "plain HTTP gets no answer")
    check(client.healthy(), "healthy after the TLS cases")


def test_routes(client, expected):
    status, headers, body = client.request("GET", "/healthz")
    check(status == 200 and json.loads(body) == {"status": "ok"}
          and headers.get("Content-Type") == "application/json", "/healthz: 200 {status: ok}")
    status, _, body = client.request("HEAD", "/healthz")
    check(status == 200 and body == b"", "HEAD /healthz: 200, no body")

    status, _, body = client.request("GET", "/nope")
    check(status == 404 and error_of(body) == "not-found", "unknown path: 404 not-found")
    status, _, body = client.request("GET", "/v2/challengefoo")
    check(status == 404 and error_of(body) == "not-found", "path with a known prefix: 404")

    status, headers, body = client.request("GET", "/v2/challenge")
    check(status == 405 and error_of(body) == "method-not-allowed"
          and headers.get("Allow") == "POST", "GET /v2/challenge: 405, Allow: POST")
    expected.append(("challenge", "rejected", "method-not-allowed"))
    status, headers, body = client.request("POST", "/healthz", b"{}",
                                           {"Content-Type": "application/json"})
    check(status == 405 and error_of(body) == "method-not-allowed"
          and headers.get("Allow") == "GET, HEAD", "POST /healthz: 405, Allow: GET, HEAD")
    status, headers, body = client.request("DELETE", "/metrics")
    check(status == 405 and headers.get("Allow") == "GET, HEAD", "DELETE /metrics: 405")

    status, headers, body = client.post("/v2/attest", raw=b"{}", ctype="text/plain")
    check(status == 415 and error_of(body) == "unsupported-media-type"
          and headers.get("Content-Type") == "application/json", "text/plain body: 415")
    expected.append(("attest", "rejected", "unsupported-media-type"))
    status, _, body = client.request("POST", "/v2/attest", b"{}", {})
    check(status == 415, "no Content-Type: 415")
    expected.append(("attest", "rejected", "unsupported-media-type"))
    status, _, body = client.post("/v2/challenge", raw=b"{}", ctype="application/jsonx")
    check(status == 415, "application/jsonx: 415")
    expected.append(("challenge", "rejected", "unsupported-media-type"))

    # http.client always sends a length; the raw request sends neither it nor chunking.
    with client.tls() as s:
        raw_http(s, "POST /v2/challenge HTTP/1.1\nHost: x\nContent-Type: application/json\n\n")
        data, _ = recv_all_until_closed(s, 10)
    check(data.startswith(b"HTTP/1.1 411") and b'"length-required"' in data,
          "POST without Content-Length or chunking: 411 length-required")
    expected.append(("challenge", "rejected", "length-required"))
    check(client.healthy(), "healthy after the routing cases")


def test_bodies(client, expected):
    cases = [
        ("malformed JSON", b'{"version": 2, "ek_public": ', "bad-request"),
        ("not an object", b'[1, 2, 3]', "bad-request"),
        ("deep nesting", b'{"a":' * 100000 + b'1' + b'}' * 100000, None),
        ("deep array nesting", b'[' * 200000 + b']' * 200000, "bad-request"),
        ("unknown field", json.dumps({"version": 2, "nonsense": 1}).encode(), "unknown-field"),
        ("bad base64", json.dumps({"version": 2, "ek_public": "!!!not base64!!!",
                                   "ak_public": "AAAA"}).encode(), "bad-request"),
        ("wrong version", json.dumps({"version": 1}).encode(), "unsupported-version"),
        ("NUL in body", b'{"version": 2\x00}', "bad-request"),
        ("invalid UTF-8", b'{"version": 2, "x": "\xff\xfe"}', None),
    ]
    for name, body, error in cases:
        status, headers, answer = client.post("/v2/challenge", raw=body)
        got = error_of(answer)
        if error:
            ok = status == 400 and got == error
        else:  # refused for one of the 4xx reasons, which one is the parser's business
            ok = status == 400 and got in ("bad-request", "unknown-field")
        check(ok and headers.get("Content-Type") == "application/json",
              f"{name}: 400 {error or got} ({status} {got})")
        expected.append(("challenge", "rejected", got if got else "?"))
        check(client.healthy(), f"healthy after {name}")

    # Chunked bodies are accepted, and judged like any other.
    status, _, answer = client.request(
        "POST", "/v2/challenge", iter([b'{"version": 2,', b' "nonsense": 1}']),
        {"Content-Type": "application/json", "Transfer-Encoding": "chunked"}, chunked=True)
    check(status == 400 and error_of(answer) == "unknown-field",
          "chunked body is read and judged (400 unknown-field)")
    expected.append(("challenge", "rejected", "unknown-field"))

    status, _, answer = client.post("/v2/attest", raw=json.dumps({
        "version": 2, "challenge": "AAAA", "bogus": True}).encode())
    check(status == 400 and error_of(answer) == "unknown-field", "attest: unknown field")
    expected.append(("attest", "rejected", "unknown-field"))


def test_oversized(client, expected):
    # Headers announcing 2 MiB, no body: the 413 must come without the server waiting for it.
    with client.tls() as s:
        raw_http(s, "POST /v2/attest HTTP/1.1\nHost: x\nContent-Type: application/json\n"
                    f"Content-Length: {2 * 1024 * 1024}\n\n")
        t0 = time.monotonic()
        data, closed = recv_all_until_closed(s, 10)
        took = time.monotonic() - t0
    check(data.startswith(b"HTTP/1.1 413") and b'"body-too-large"' in data and closed
          and took < TIMEOUT, f"2 MiB Content-Length: 413 before any body byte ({took:.2f} s)")
    expected.append(("attest", "rejected", "body-too-large"))

    # The same with the body on its way: 413 or a reset, never a hang, and not all read.
    payload = b"[" * (2 * 1024 * 1024)
    sent = 0
    with client.tls() as s:
        raw_http(s, "POST /v2/attest HTTP/1.1\nHost: x\nContent-Type: application/json\n"
                    f"Content-Length: {len(payload)}\n\n")
        try:
            while sent < len(payload):
                sent += s.send(payload[sent:sent + 65536])
        except (ssl.SSLError, OSError):
            pass
        data, _ = recv_all_until_closed(s, 10)
    check(sent < len(payload) or data.startswith(b"HTTP/1.1 413"),
          f"2 MiB body: refused ({sent} bytes accepted by the socket)")
    expected.append(("attest", "rejected", "body-too-large"))

    # Exactly 1 MiB is allowed through to the parser (which refuses it as JSON).
    status, _, answer = client.post("/v2/challenge", raw=b" " * (1024 * 1024 - 2) + b"{}")
    check(status == 400, f"a 1 MiB body is read and parsed ({status} {error_of(answer)})")
    expected.append(("challenge", "rejected", error_of(answer) or "?"))
    with client.tls() as s:
        raw_http(s, "POST /v2/challenge HTTP/1.1\nHost: x\nContent-Type: application/json\n"
                    f"Content-Length: {1024 * 1024 + 1}\n\n")
        data, _ = recv_all_until_closed(s, 10)
    check(data.startswith(b"HTTP/1.1 413") and b'"body-too-large"' in data,
          "1 MiB + 1 byte announced: 413")
    expected.append(("challenge", "rejected", "body-too-large"))

    # Chunked: no length to refuse up front; past 1 MiB the connection is cut.
    def chunks():
        for _ in range(40):
            yield b" " * 65536
    try:
        status, _, _ = client.request("POST", "/v2/challenge", chunks(),
                                      {"Content-Type": "application/json",
                                       "Transfer-Encoding": "chunked"}, chunked=True)
    except (OSError, http.client.HTTPException):
        status = None
    check(status in (None, 413), f"2.5 MiB chunked body: cut off (status {status})")
    expected.append(("challenge", "rejected", "body-too-large"))
    check(client.healthy(), "healthy after oversized bodies")


def test_slow_clients(client):
    # Truncated body, then close: the request is abandoned, the server goes on.
    with client.tls() as s:
        raw_http(s, "POST /v2/attest HTTP/1.1\nHost: x\nContent-Type: application/json\n"
                    "Content-Length: 1000\n\n", b'{"version": 2')
    check(client.healthy(), "healthy after a truncated body and close")

    # Truncated body, connection held open: the timeout closes it; others are served meanwhile.
    truncated = client.tls()
    raw_http(truncated, "POST /v2/attest HTTP/1.1\nHost: x\nContent-Type: application/json\n"
                        "Content-Length: 1000\n\n", b'{"version": 2')
    # Slowloris: headers that never end.
    loris = client.tls()
    raw_http(loris, "GET /healthz HTTP/1.1\nHost: x\nX-Slow: ")
    # A TCP connection that never says hello.
    silent = socket.create_connection((client.host, client.port), timeout=10)
    t0 = time.monotonic()
    check(client.healthy(), "served while slow clients hold connections")
    results = [recv_all_until_closed(sock, TIMEOUT + 8) for sock in (truncated, loris, silent)]
    took = time.monotonic() - t0
    for sock in (truncated, loris, silent):
        sock.close()
    for name, (data, closed) in zip(("truncated body", "slowloris headers", "silent TCP"),
                                    results):
        check(closed and b"200" not in data,
              f"{name}: closed by the server's timeout ({len(data)} bytes back)")
    check(took < TIMEOUT + 8, f"all three closed within {took:.1f} s (timeout {TIMEOUT} s)")
    check(client.healthy(), "healthy after slow clients")


def test_metrics(client):
    status, headers, before = metrics(client)
    check(status == 200 and before is not None
          and headers.get("Content-Type", "").startswith("text/plain; version=0.0.4"),
          "/metrics: 200, Prometheus text that parses")
    if before is None:
        return
    key = 'nodegate_verifier_requests_total{endpoint="healthz",status="200"}'
    client.healthy()
    client.healthy()
    # Counted when the request completes, which may be a moment after the client has its
    # answer: wait for it briefly, then require the exact count.
    deadline = time.monotonic() + 5
    while True:
        _, _, after = metrics(client)
        if after.get(key, 0) >= before.get(key, 0) + 2 or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    check(after[key] == before.get(key, 0) + 2, "healthz counter moved by 2")
    hist = 'nodegate_verifier_request_duration_seconds_count{endpoint="healthz"}'
    check(after[hist] >= before[hist] + 2, "healthz histogram count moved")
    check(after['nodegate_verifier_build_info{version="0.1.0"}'] == 1, "build_info 0.1.0")
    check("nodegate_verifier_inflight_requests" in after, "in-flight gauge present")
    check(after.get('nodegate_verifier_decisions_total{decision="rejected",'
                    'reason="unknown-field"}', 0) >= 1, "decision counter by reason")


# ---- a software node: just enough TPM structures to pass both rounds ----
# The test holds the shared secret, so it computes the credential instead of activating it;
# EK and AK are software keys in TPM 2.0 Part 2 encoding (docs/PROTOCOL.md).
SHA256, ECC, RSA, NULL_ALG = 0x000B, 0x0023, 0x0001, 0x0010
EK_ATTRS = (1 << 1) | (1 << 4) | (1 << 5) | (1 << 7) | (1 << 16) | (1 << 17)
AK_ATTRS = (1 << 1) | (1 << 4) | (1 << 5) | (1 << 6) | (1 << 16) | (1 << 18)
EK_POLICY = bytes.fromhex("837197674484b3f81a90cc8d46a5d724fd52d76e06520b64f2a1da1b331469aa")


def tpm2b(b):
    return struct.pack(">H", len(b)) + b


def b64(b):
    return base64.b64encode(b).decode()


class SoftNode:
    def __init__(self, secret_path):
        self.secret_path = secret_path
        self.ek = ec.generate_private_key(ec.SECP256R1())
        self.ak = ec.generate_private_key(ec.SECP256R1())
        self.ek_tpmt = self._public(self.ek, EK_ATTRS, EK_POLICY,
                                    struct.pack(">HHH", 0x0006, 128, 0x0043),
                                    struct.pack(">H", NULL_ALG))
        self.ak_tpmt = self._public(self.ak, AK_ATTRS, b"", struct.pack(">H", NULL_ALG),
                                    struct.pack(">HH", 0x0018, SHA256))
        self.ak_name = struct.pack(">H", SHA256) + hashlib.sha256(self.ak_tpmt).digest()
        spki = self.ek.public_key().public_bytes(serialization.Encoding.DER,
                                                 serialization.PublicFormat.SubjectPublicKeyInfo)
        self.ek_sha256 = hashlib.sha256(spki).hexdigest()
        with open(secret_path, "rb") as f:
            secret = f.read()
        self.credential_key = hmac.new(secret, b"nodegate credential v1", "sha256").digest()
        self.token_key = hmac.new(secret, b"nodegate token v2", "sha256").digest()
        self.ek_name = struct.pack(">H", SHA256) + hashlib.sha256(self.ek_tpmt).digest()
        self.reset_count, self.restart_count = 7, 0  # this boot, in the quote's clockInfo

    def derived_token(self):
        """The boot's token as docs/PROTOCOL.md defines it, computed here on its own."""
        msg = (b"nodegate token v2" + self.ek_name
               + struct.pack(">II", self.reset_count, self.restart_count))
        n = int.from_bytes(hmac.new(self.token_key, msg, "sha256").digest(), "big")
        out = ""
        for i in range(23):
            if i == 6:
                out += "."
                continue
            out += "0123456789abcdefghijklmnopqrstuvwxyz"[n % 36]
            n //= 36
        return out

    @staticmethod
    def _public(key, attrs, policy, symmetric, scheme):
        n = key.public_key().public_numbers()
        return (struct.pack(">HHI", ECC, SHA256, attrs) + tpm2b(policy) + symmetric + scheme
                + struct.pack(">HH", 0x0003, NULL_ALG)
                + tpm2b(n.x.to_bytes(32, "big")) + tpm2b(n.y.to_bytes(32, "big")))

    def challenge_request(self):
        return {"version": 2, "ek_public": b64(tpm2b(self.ek_tpmt)),
                "ak_public": b64(tpm2b(self.ak_tpmt))}

    @staticmethod
    def event_log():
        """The Spec ID event and one separator in PCR 7; returns (log, {pcr: value})."""
        spec = (b"Spec ID Event03\0" + struct.pack("<IBBBBI", 0, 0, 2, 0, 2, 1)
                + struct.pack("<HH", SHA256, 32) + b"\0")
        log = struct.pack("<II", 0, 3) + bytes(20) + struct.pack("<I", len(spec)) + spec
        data = bytes(4)
        digest = hashlib.sha256(data).digest()
        log += (struct.pack("<IIIH", 7, 4, 1, SHA256) + digest + struct.pack("<I", len(data))
                + data)
        return log, {7: hashlib.sha256(bytes(32) + digest).digest(), 15: bytes(32)}

    def attest_request(self, challenge):
        log, pcrs = self.event_log()
        selected = sorted(pcrs)
        bitmap = bytearray(3)
        for p in selected:
            bitmap[p // 8] |= 1 << (p % 8)
        pcr_digest = hashlib.sha256(b"".join(pcrs[p] for p in selected)).digest()
        attest = (struct.pack(">IH", 0xFF544347, 0x8018) + tpm2b(self.ak_name)
                  + tpm2b(hashlib.sha256(challenge).digest())
                  + struct.pack(">QIIB", 123456, self.reset_count, self.restart_count, 1)
                  + struct.pack(">Q", 0x20191023)
                  + struct.pack(">IHB", 1, SHA256, 3) + bytes(bitmap) + tpm2b(pcr_digest))
        r, s = decode_dss_signature(self.ak.sign(attest, ec.ECDSA(hashes.SHA256())))
        signature = (struct.pack(">HH", 0x0018, SHA256) + tpm2b(r.to_bytes(32, "big"))
                     + tpm2b(s.to_bytes(32, "big")))
        return {
            "version": 2, "challenge": b64(challenge),
            "ek_public": b64(tpm2b(self.ek_tpmt)), "ak_public": b64(tpm2b(self.ak_tpmt)),
            "credential": b64(hmac.new(self.credential_key, challenge, "sha256").digest()),
            "quote": {"attest": b64(tpm2b(attest)), "signature": b64(signature)},
            "pcrs": {"sha256": {str(p): pcrs[p].hex() for p in selected}},
            "event_log": b64(log), "node": {"hostname": "node-1"},
        }


def test_attestation(client, node, expected, pool):
    status, _, body = client.post("/v2/challenge", node.challenge_request())
    answer = json.loads(body)
    check(status == 200 and len(base64.b64decode(answer.get("challenge", ""))) == 98
          and answer.get("pcr_selection") == {"sha256": [7, 15]},
          f"enrolled EK: 200 challenge ({status} {answer.get('error')} {answer.get('message')})")
    expected.append(("challenge", "challenged", "ok"))
    if status != 200:
        return
    challenge = base64.b64decode(answer["challenge"])

    request = node.attest_request(challenge)
    status, _, body = client.post("/v2/attest", request)
    answer = json.loads(body)
    token_id = answer.get("token_id")
    check(status == 200 and token_id in [t.split(".")[0] for t in TOKENS]
          and "sealed" in answer and answer.get("kubeconfig", {}).get("server")
          == "https://127.0.0.1:6443",
          f"valid evidence: 200 with a sealed token ({status} {answer.get('error')} "
          f"{answer.get('message')})")
    expected.append(("attest", "issued" if status == 200 else "rejected",
                     "ok" if status == 200 else answer.get("error")))
    check(not any(t.encode() in body or t.split(".")[1].encode() in body for t in TOKENS),
          "the answer carries no token in the clear")
    with open(pool) as f:
        unused = [line for line in f.read().splitlines() if line in TOKENS]
    check(status == 200 and len(unused) == len(TOKENS) - 1
          and not any(t.startswith(token_id + ".") for t in unused),
          "the issued token is no longer available in the pool")

    # The same evidence with a wrong credential: the AK is not bound to this EK.
    request["credential"] = b64(bytes(32))
    status, _, body = client.post("/v2/attest", request)
    check(status == 403 and error_of(body) == "ak-not-bound", "wrong credential: 403 ak-not-bound")
    expected.append(("attest", "rejected", "ak-not-bound"))

    # A challenge that is not the verifier's.
    request = node.attest_request(bytes(98))
    status, _, body = client.post("/v2/attest", request)
    check(status == 403 and error_of(body) == "challenge-invalid",
          "forged challenge: 403 challenge-invalid")
    expected.append(("attest", "rejected", "challenge-invalid"))

    # An EK nobody enrolled.
    stranger = SoftNode(node.secret_path)
    status, _, body = client.post("/v2/challenge", stranger.challenge_request())
    check(status == 403 and error_of(body) == "ek-unknown", "unknown EK: 403 ek-unknown")
    expected.append(("challenge", "rejected", "ek-unknown"))
    return token_id


def rsa_ek_area(bits, exponent, modulus):
    """A TPM2B_PUBLIC shaped like a TCG EK (attributes, policy, AES-128-CFB) for an RSA key."""
    return tpm2b(struct.pack(">HHI", RSA, SHA256, EK_ATTRS) + tpm2b(EK_POLICY)
                 + struct.pack(">HHHH", 0x0006, 128, 0x0043, NULL_ALG)
                 + struct.pack(">HI", bits, exponent) + tpm2b(modulus))


def test_hostile_ek(client, node, expected):
    """Issue 12 §1: one unauthenticated round-1 request with an RSA-4096 EK whose modulus has
    its high bit set overflowed a stack buffer while the EK was hashed. It is refused as a
    key nodegate does not take, and the verifier goes on serving."""
    modulus = b"\xff" * 511 + b"\x01"
    for bits, exponent, what in ((4096, 0xFFFFFFFF, "RSA 4096, exponent 2^32-1"),
                                 (4096, 0, "RSA 4096, exponent 65537"),
                                 (3072, 0, "RSA 3072")):
        request = {"version": 2,
                   "ek_public": b64(rsa_ek_area(bits, exponent, modulus[-bits // 8:])),
                   "ak_public": b64(tpm2b(node.ak_tpmt))}
        try:
            status, _, body = client.post("/v2/challenge", request)
        except (OSError, http.client.HTTPException) as e:
            status, body = str(e), b""
        message = json.loads(body).get("message", "") if body else ""
        check(status == 403 and error_of(body) == "ek-not-storage-key"
              and "nodegate does not take" in message and "RSA 2048" in message,
              f"{what} EK: 403 ek-not-storage-key before any work ({status} {message!r})")
        expected.append(("challenge", "rejected", "ek-not-storage-key"))
    # ROCA (CVE-2017-15361): N = k*M + (65537^c mod M) has the fingerprint of Infineon's keys
    # by construction, M the product of the first 126 primes as for their 2048-bit keys.
    primes = [n for n in range(2, 1000) if all(n % d for d in range(2, int(n ** 0.5) + 1))][:126]
    m = 1
    for q in primes:
        m *= q
    rng = random.SystemRandom()
    while True:
        n = rng.getrandbits(2048 - m.bit_length() + 1) * m + pow(65537, rng.getrandbits(64), m)
        if n.bit_length() == 2048:
            break
    request = {"version": 2, "ek_public": b64(rsa_ek_area(2048, 0, n.to_bytes(256, "big"))),
               "ak_public": b64(tpm2b(node.ak_tpmt))}
    status, _, body = client.post("/v2/challenge", request)
    message = json.loads(body).get("message", "")
    check(status == 403 and error_of(body) == "ek-weak-key" and "ROCA" in message,
          f"RSA 2048 EK with the ROCA fingerprint: 403 ek-weak-key ({status} {message!r})")
    expected.append(("challenge", "rejected", "ek-weak-key"))
    check(client.healthy(), "still serving after the hostile EKs")
    try:
        status = client.post("/v2/challenge", node.challenge_request())[0]
    except (OSError, http.client.HTTPException) as e:
        status = str(e)
    check(status == 200, f"and still issues challenges ({status})")
    expected.append(("challenge", "challenged", "ok"))


def attest_answer(client, node):
    """Both rounds; returns (status, answer) of round 2."""
    status, _, body = client.post("/v2/challenge", node.challenge_request())
    if status != 200:
        return status, json.loads(body)
    challenge = base64.b64decode(json.loads(body)["challenge"])
    status, _, body = client.post("/v2/attest", node.attest_request(challenge))
    return status, json.loads(body)


def pem_blocks(text):
    return re.findall(r"-----BEGIN ([A-Z0-9 ]+)-----\n[A-Za-z0-9+/=\n]+-----END \1-----\n", text)


def test_cluster_ca(binary, d, ca, args, node):
    """Issue 12 §5: the kubeconfig's certificate_authority_data carries the certificates of
    --cluster-ca and nothing else. A file that also holds the cluster CA's private key (a
    combined PEM) handed that key to every node that attested: refused at startup now."""
    ca_key = os.path.join(d, "ca.key")
    with open(ca) as f:
        ca_pem = f.read()
    with open(ca_key) as f:
        key_pem = f.read()
    other = os.path.join(d, "other-ca")
    run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
         "-nodes", "-keyout", other + ".key", "-out", other + ".pem", "-days", "2", "-subj",
         "/CN=second cluster CA"])
    with open(other + ".pem") as f:
        other_pem = f.read()

    def serve(name, text):
        path = os.path.join(d, name + ".pem")
        with open(path, "w") as f:
            f.write(text)
        pool = os.path.join(d, name + ".tokens")
        with open(pool, "w") as f:
            f.write(TOKENS[0] + "\n")
        os.chmod(pool, 0o600)
        a = list(args)
        a[a.index("--cluster-ca") + 1] = path
        a[a.index("--token-source") + 1] = "pool:" + pool
        try:
            v = Verifier(binary, d, name, a)
        except RuntimeError as e:
            return path, None, str(e)
        try:
            status, answer = attest_answer(Client(ca, v.host, v.port), node)
        finally:
            v.stop()
        return path, answer.get("kubeconfig", {}).get("certificate_authority_data", ""), \
            f"started; attest {status}"

    started = len(Verifier.started)
    # A bundle of two CAs with text and EC parameters around and between them: exactly the
    # two certificates.
    params = run(["openssl", "ecparam", "-name", "prime256v1"]).stdout.decode()
    path, data, how = serve("ca-bundle", "# cluster CAs\n" + ca_pem + "\nrotated:\n" + params
                            + other_pem)
    sent = base64.b64decode(data).decode() if data else ""
    check(data and pem_blocks(sent) == ["CERTIFICATE", "CERTIFICATE"]
          and "# cluster CAs" not in sent and "rotated" not in sent
          and sent == ca_pem + other_pem,
          f"--cluster-ca bundle: the answer carries its two certificates only ({how})")
    with open(os.path.join(d, "ca-bundle.stderr")) as f:
        check("block 2 (EC PARAMETERS) is not a certificate, not sent" in f.read(),
              "--cluster-ca bundle: the EC PARAMETERS block left out, with a warning")

    # A certificate cut short: refused, not half sent.
    path, data, how = serve("ca-truncated", ca_pem[:len(ca_pem) // 2])
    check(data is None and path in how and "does not parse" in how,
          f"--cluster-ca cut in the middle of a block: refused ({how[-100:]!r})")

    # Certificate and key in one file: the key must never reach a node.
    for name, text in (("ca-and-key", ca_pem + key_pem), ("key-and-ca", key_pem + ca_pem)):
        path, data, how = serve(name, text)
        leaked = data and "PRIVATE KEY" in base64.b64decode(data).decode()
        check(data is None and path in how and "private key" in how,
              f"--cluster-ca with the CA's private key ({name}): refused at startup, named"
              + (" (the answer carried the CA key)" if leaked else f" ({how[-160:]!r})"))

    # A key alone, or no PEM certificate at all: refused.
    path, data, how = serve("key-only", key_pem)
    check(data is None and path in how, f"--cluster-ca with a key and no certificate: refused "
                                        f"({how[-120:]!r})")
    return Verifier.started[started:]


def test_no_core_dump(binary, d, args, secret):
    """Issue 12 §5: the keys derived from the shared secret lie in pages excluded from core
    dumps, and the process is not dumpable at all: SIGQUIT with RLIMIT_CORE unlimited leaves
    no core file (ASan's own disable_coredump is turned off here)."""
    with open(secret, "rb") as f:
        key = hmac.new(f.read(), b"nodegate credential v1", "sha256").digest()
    cwd = os.path.join(d, "cores")
    os.mkdir(cwd)

    def unlimited_core():
        import resource
        resource.setrlimit(resource.RLIMIT_CORE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
        # A test run started in the background of a shell without job control inherits
        # SIGQUIT ignored (POSIX), and an ignored SIGQUIT would prove nothing here.
        signal.signal(signal.SIGQUIT, signal.SIG_DFL)

    v = Verifier(binary, d, "cores", args, cwd=cwd, preexec_fn=unlimited_core,
                 env={"ASAN_OPTIONS": ASAN_ENV["ASAN_OPTIONS"] + ":disable_coredump=0"})
    in_dontdump, where = False, []
    with open(f"/proc/{v.proc.pid}/smaps") as smaps, open(f"/proc/{v.proc.pid}/mem", "rb") as mem:
        start = end = None
        for line in smaps:
            m = re.match(r"([0-9a-f]+)-([0-9a-f]+) ", line)
            if m:
                start, end = int(m.group(1), 16), int(m.group(2), 16)
            elif line.startswith("VmFlags:") and " dd" in line and end - start <= 1 << 20:
                try:
                    mem.seek(start)
                    if key in mem.read(end - start):
                        in_dontdump = True
                        where.append(hex(start))
                except OSError:
                    pass
    check(in_dontdump, "the credential key lies in a MADV_DONTDUMP mapping")
    v.proc.send_signal(signal.SIGQUIT)
    try:
        v.proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        pass
    v.stop()
    with open("/proc/sys/kernel/core_pattern") as f:
        pattern = f.read().strip()
    if pattern.startswith("|") or "/" in pattern:
        print(f"skip  core file check: core_pattern is {pattern!r}, not a file in the cwd")
        return
    cores = os.listdir(cwd)
    check(v.proc.returncode == -signal.SIGQUIT and not cores,
          f"SIGQUIT with RLIMIT_CORE unlimited: no core file ({v.proc.returncode} {cores})")
    for c in cores:
        os.unlink(os.path.join(cwd, c))


def test_slow_token_source(binary, d, ca, args, node):
    """An exec token source that takes a second: a client that leaves meanwhile is audited as
    undelivered, and SIGTERM lets a request in flight finish before the exit."""
    marker = os.path.join(d, "token-source-started")
    a = list(args)
    a[a.index("--token-source") + 1] = \
        f'exec:sh -c "touch {marker}; sleep 1" sh {{token}}'
    v = Verifier(binary, d, "slow", a + ["--threads", "2", "--max-inflight", "1"])
    client = Client(ca, v.host, v.port)

    def attest_request():
        status, _, body = client.post("/v2/challenge", node.challenge_request())
        return node.attest_request(base64.b64decode(json.loads(body)["challenge"]))

    def wait_for_token_source():
        deadline = time.monotonic() + 20
        while not os.path.exists(marker) and time.monotonic() < deadline:
            time.sleep(0.02)
        os.unlink(marker)

    body = json.dumps(attest_request()).encode()
    s = client.tls()
    raw_http(s, "POST /v2/attest HTTP/1.1\nHost: x\nContent-Type: application/json\n"
                f"Content-Length: {len(body)}\n\n", body)
    wait_for_token_source()  # the appraisal is past every check, waiting for its token
    # It holds the only in-flight slot; the worker it blocks accepts nothing meanwhile, so
    # this complete request lands on the other one and finds no slot.
    status, headers, answer = client.post("/v2/challenge", raw=b"{}")
    check(status == 503 and error_of(answer) == "overloaded"
          and headers.get("Retry-After") == "1",
          f"a complete request while the only slot is taken: 503 overloaded, Retry-After "
          f"({status} {error_of(answer)})")
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()  # a reset: the answer has nowhere to go
    deadline = time.monotonic() + 10
    lines = []
    while time.monotonic() < deadline and len(lines) < 4:
        time.sleep(0.2)
        lines = v.audit_lines()
    overloaded = [r for r in lines if r["decision"] == "rejected"]
    check(len(overloaded) == 1 and overloaded[0]["reason"] == "overloaded"
          and overloaded[0]["status"] == 503, "overload is audited once")
    decisions = [(r["decision"], r.get("token_id")) for r in lines if r["decision"] != "rejected"]
    want_id = node.derived_token()[:6]
    check(decisions == [("challenged", None), ("issued", want_id), ("undelivered", want_id)]
          and "not delivered" in lines[-1].get("message", ""),
          f"client gone during appraisal: issued, then undelivered ({decisions}); the token "
          f"id is the boot's derived token's ({want_id})")

    node.reset_count += 1  # another boot: its token is a new one, the program runs again
    body = attest_request()
    result = {}

    def attest():
        try:
            result["status"] = client.post("/v2/attest", body)[0]
        except (OSError, http.client.HTTPException) as e:
            result["status"] = str(e)
    t = threading.Thread(target=attest)
    t.start()
    wait_for_token_source()
    v.proc.send_signal(signal.SIGTERM)
    refused, deadline = False, time.monotonic() + 5
    while not refused and time.monotonic() < deadline:
        try:
            socket.create_connection((v.host, v.port), timeout=2).close()
            time.sleep(0.05)
        except OSError:
            refused = True
    t.join(timeout=15)
    check(refused, "after SIGTERM new connections are refused")
    check(result.get("status") == 200, f"the request in flight at SIGTERM is answered "
                                       f"({result.get('status')})")
    rc = v.stop()
    check(rc == 0, f"exits 0 after finishing it ({rc})")
    lines = v.audit_lines()
    check(sum(r["decision"] == "issued" for r in lines) == 2, "both issuances audited")
    return v


def test_audit(v, expected, tokens, node, token_id):
    lines = v.audit_lines()
    got = collections.Counter((r["endpoint"], r["decision"], r["reason"]) for r in lines)
    want = collections.Counter(expected)
    check(got == want, "audit log: one line per decision with the right reason"
          + ("" if got == want else f"\n      extra {got - want}\n      missing {want - got}"))
    shape = all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", r["time"])
                and r["remote"] in ("127.0.0.1", "::1") and isinstance(r["status"], int)
                and r["decision"] in ("challenged", "issued", "rejected") for r in lines)
    check(shape, "audit lines: RFC 3339 UTC time, remote address, status")
    issued = [r for r in lines if r["decision"] == "issued"]
    check(len(issued) == 1 and issued[0].get("token_id") == token_id
          and issued[0].get("ek") == node.ek_sha256
          and issued[0].get("node") == {"hostname": "node-1"} and issued[0]["status"] == 200,
          "issued line: token_id, EK hash, node hostname")
    challenged = [r for r in lines if r["decision"] == "challenged"]
    check(len(challenged) == 2 and all(r.get("ek") == node.ek_sha256 for r in challenged),
          "challenged line: EK hash")
    check(all("token_id" not in r for r in lines if r["decision"] != "issued"),
          "token_id only on the issued line")
    with open(v.audit) as f:
        text = f.read()
    leaked = [t for t in tokens if t.split(".")[1] in text]
    check(not leaked, "no token secret in the audit log")


def test_limits(binary, d, ca, args):
    """A second instance with small limits: connections and requests in flight."""
    v = Verifier(binary, d, "limits", args + ["--threads", "1", "--max-connections", "4",
                                              "--max-inflight", "2", "--connection-timeout",
                                              "10"])
    client = Client(ca, v.host, v.port)
    try:
        # Two requests whose bodies never come hold no in-flight slot (only complete bodies
        # take one; 503 overloaded is tested with a slow token source).
        held = []
        for _ in range(2):
            s = client.tls()
            raw_http(s, "POST /v2/challenge HTTP/1.1\nHost: x\nContent-Type: application/json"
                        "\nContent-Length: 100\n\n")
            held.append(s)
        time.sleep(0.3)
        status, headers, body = client.post("/v2/challenge", raw=b"{}")
        check(status == 400, f"bodies still on their way hold no slot: a third request is "
                             f"judged ({status} {error_of(body)})")
        for s in held:
            s.close()

        # Twelve connections against a limit of four: the rest wait or are refused.
        conns, lock = [], threading.Lock()

        def connect():
            try:
                s = client.tls(timeout=3)
            except (OSError, ssl.SSLError):
                return
            with lock:
                conns.append(s)
        threads = [threading.Thread(target=connect) for _ in range(12)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        check(len(conns) <= 4, f"at most 4 of 12 connections established ({len(conns)})")
        for s in conns:
            s.close()
        deadline = time.monotonic() + 15
        while not client.healthy() and time.monotonic() < deadline:
            time.sleep(0.2)
        check(client.healthy(), "healthy after the connection flood")
    finally:
        rc = v.stop()
    check(rc == 0, f"limits instance exits 0 on SIGTERM ({rc})")
    return v


def make_pool(d, name, n):
    """A token pool of n kubeadm-format tokens; returns (path, tokens)."""
    alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
    tokens = []
    for i in range(n):
        h = hashlib.sha256(f"{name} {i}".encode()).digest()
        t = "".join(alphabet[b % 36] for b in h[:22])
        tokens.append(t[:6] + "." + t[6:22])
    path = os.path.join(d, name + ".tokens")
    with open(path, "w") as f:
        f.write("".join(t + "\n" for t in tokens))
    os.chmod(path, 0o600)  # the verifier refuses a pool others can read
    return path, tokens


def with_pool(args, pool):
    a = list(args)
    a[a.index("--token-source") + 1] = "pool:" + pool
    return a


def attest_once(client, node):
    """Both rounds; returns (round-1 status, round-2 status, seconds, token_id)."""
    t0 = time.monotonic()
    try:
        status, _, body = client.post("/v2/challenge", node.challenge_request(), timeout=15)
        if status != 200:
            return status, None, time.monotonic() - t0, None
        challenge = base64.b64decode(json.loads(body)["challenge"])
        status2, _, body = client.post("/v2/attest", node.attest_request(challenge), timeout=15)
        token_id = json.loads(body).get("token_id") if status2 == 200 else None
        return status, status2, time.monotonic() - t0, token_id
    except (OSError, http.client.HTTPException, ValueError) as e:
        return str(e), None, time.monotonic() - t0, None


class SlowClient(threading.Thread):
    """Slowloris: a TLS connection from source address src that sends the headers of a POST
    and then one body byte a second (or, with headers_only, one header byte a second), and
    opens a new one as soon as the server cuts it, until stopped."""

    def __init__(self, client, src, headers_only=False):
        super().__init__(daemon=True)
        self.client, self.src, self.headers_only = client, src, headers_only
        self.stop = threading.Event()
        self.connected = self.cut = 0
        self.lifetimes = []
        self.answers = []

    def _connect(self):
        s = socket.create_connection((self.client.host, self.client.port), timeout=10,
                                     source_address=(self.src, 0))
        return self.client.ctx.wrap_socket(s, server_hostname=self.client.host)

    def run(self):
        while not self.stop.is_set():
            try:
                s = self._connect()
            except (OSError, ssl.SSLError):
                self.stop.wait(0.2)
                continue
            self.connected += 1
            t0 = time.monotonic()
            try:
                if self.headers_only:
                    raw_http(s, "POST /v2/challenge HTTP/1.1\nHost: x\nX-Slow: ")
                else:
                    raw_http(s, "POST /v2/challenge HTTP/1.1\nHost: x\n"
                                "Content-Type: application/json\nContent-Length: 100000\n\n")
                s.settimeout(1.0)
                while not self.stop.is_set():
                    s.send(b"a")
                    try:
                        data = s.recv(4096)
                    except socket.timeout:
                        continue
                    if data:
                        self.answers.append(data[:12])
                    break  # an answer or EOF: the server is done with us
                else:
                    s.close()
                    return
            except (OSError, ssl.SSLError):
                pass
            self.cut += 1
            self.lifetimes.append(time.monotonic() - t0)
            s.close()


def test_slowloris(binary, d, ca, args, node):
    """72 slow senders from 9 loopback addresses (bodies at 1 byte/s) and 8 slow header
    senders, reconnecting whenever cut, against an instance with the default limits: a node
    attesting meanwhile from 127.0.0.1 must get its token in its normal latency."""
    pool, tokens = make_pool(d, "slowloris", 40)
    # One software node stands for the fleet, attesting every 0.5 s: the per-EK round-2 bound
    # (a replay defence, test-attestation.py) would answer it 429, which is not what this is
    # about; every other limit keeps its default.
    v = Verifier(binary, d, "slowloris",
                 with_pool(args, pool) + ["--threads", "2", "--round2-per-ek", "0"])
    client = Client(ca, v.host, v.port)
    try:
        baseline = [attest_once(client, node) for _ in range(3)]
        check(all(b[1] == 200 for b in baseline),
              f"before the attack: attestations issued ({[b[:2] for b in baseline]})")
        normal = max(b[2] for b in baseline)
        slow = [SlowClient(client, f"127.0.0.{2 + i // 8}") for i in range(72)]
        slow += [SlowClient(client, "127.0.0.20", headers_only=True) for _ in range(8)]
        for s in slow:
            s.start()
        time.sleep(2)  # every slow client has its connection and its headers in
        results = []
        t_end = time.monotonic() + 10
        while time.monotonic() < t_end:
            results.append(attest_once(client, node))
            time.sleep(0.5)
        for s in slow:
            s.stop.set()
        for s in slow:
            s.join(timeout=15)
        worst = max(r[2] for r in results)
        bad = [r[:2] for r in results if r[1] != 200]
        check(not bad, f"slowloris with {len(slow)} slow clients: all {len(results)} "
                       f"attestations meanwhile issued (failed: {bad})")
        # The bound is the attestation's own time plus a second: the gate's deadline is tens of
        # seconds, and the test's 80 client threads share the GIL and the 2 CPUs with it.
        limit = normal + 1.0
        median = sorted(r[2] for r in results)[len(results) // 2]
        check(worst <= limit, f"slowloris: worst attestation latency {worst * 1000:.0f} ms, "
                              f"normal {normal * 1000:.0f} ms (limit {limit * 1000:.0f} ms)")
        bodies = [x for s in slow if not s.headers_only for x in s.lifetimes]
        heads = [x for s in slow if s.headers_only for x in s.lifetimes]
        check(bodies and max(bodies) < 6,
              f"slow bodies are cut by the minimum rate: {len(bodies)} cut, longest "
              f"{max(bodies, default=0):.1f} s")
        check(heads and max(heads) < 13,
              f"slow headers are cut by the request deadline: {len(heads)} cut, longest "
              f"{max(heads, default=0):.1f} s")
        check(not any(a.startswith(b"HTTP/1.1 2") for s in slow for a in s.answers),
              "no slow client got a 2xx")
        print(f"info  slowloris: {sum(s.connected for s in slow)} slow connections, "
              f"{len(results)} attestations, normal {normal * 1000:.0f} ms, during the attack "
              f"median {median * 1000:.0f} ms, worst {worst * 1000:.0f} ms")
    finally:
        rc = v.stop()
    check(rc == 0, f"slowloris instance exits 0 ({rc})")
    return v


def client_from(ca, v, src):
    """A Client whose connections come from the loopback address src (127.0.0.0/8 is all
    local on Linux), so the per-address limits can be tested from one machine."""
    c = Client(ca, v.host, v.port)
    orig = socket.create_connection

    class SourceHTTPS(http.client.HTTPSConnection):
        def connect(self):
            self.sock = self._context.wrap_socket(
                orig((self.host, self.port), self.timeout, source_address=(src, 0)),
                server_hostname=self.host)

    def request(method, path, body=None, headers=None, timeout=10, chunked=False):
        conn = SourceHTTPS(c.host, c.port, context=c.ctx, timeout=timeout)
        try:
            conn.request(method, path, body=body, headers=headers or {}, encode_chunked=chunked)
            r = conn.getresponse()
            return r.status, dict(r.getheaders()), r.read()
        finally:
            conn.close()

    def tls(timeout=10, ctx=None):
        sock = orig((c.host, c.port), timeout=timeout, source_address=(src, 0))
        return (ctx or c.ctx).wrap_socket(sock, server_hostname=c.host)
    c.request, c.tls = request, tls
    return c


def test_rate_limits(binary, d, ca, args, node):
    """Token buckets per client address and round (429 rate-limited, Retry-After), the
    per-address connection cap, and the refusal lines capped per reason with summaries."""
    pool, _ = make_pool(d, "ratelimit", 10)
    v = Verifier(binary, d, "ratelimit", with_pool(args, pool) + [
        "--threads", "2", "--rate-limit", "2", "--rate-burst", "5",
        "--max-connections-per-address", "4", "--audit-refusals-per-second", "3"])
    try:
        hostile = client_from(ca, v, "127.0.0.3")
        answers = [hostile.post("/v2/challenge", raw=b"{}") for _ in range(20)]
        statuses = [a[0] for a in answers]
        limited = [a for a in answers if a[0] == 429]
        check(statuses[:5] == [400] * 5 and len(limited) >= 13
              and all(error_of(a[2]) == "rate-limited" and int(a[1].get("Retry-After", 0)) >= 1
                      for a in limited),
              f"20 challenges from one address, burst 5: the first 5 judged, then 429 "
              f"rate-limited with Retry-After ({statuses})")
        status, _, body = hostile.post("/v2/attest", raw=b"{}")
        check(status == 400, f"round 2 has a bucket of its own ({status} {error_of(body)})")
        r1, r2, took, token_id = attest_once(client_from(ca, v, "127.0.0.4"), node)
        check(r1 == 200 and r2 == 200 and token_id,
              f"another address attests meanwhile ({r1} {r2}, {took * 1000:.0f} ms)")
        time.sleep(1.2)
        status, _, _ = hostile.post("/v2/challenge", raw=b"{}")
        check(status == 400, f"the bucket refills at the rate: judged again after 1.2 s "
                             f"({status})")

        # Connection cap: 8 connections from one address against a cap of 4.
        capped = client_from(ca, v, "127.0.0.5")
        conns = []
        for _ in range(8):
            try:
                conns.append(capped.tls(timeout=3))  # the handshake is what is refused
            except (OSError, ssl.SSLError):
                pass
        check(len(conns) == 4, f"8 connections from one address, cap 4: {len(conns)} "
                               f"established")
        check(client_from(ca, v, "127.0.0.6").healthy(), "another address is served meanwhile")
        for sock in conns:
            sock.close()

        _, _, m = metrics(Client(ca, v.host, v.port))
        check(m.get('nodegate_verifier_decisions_total{decision="rejected",'
                    'reason="rate-limited"}') == len(limited)
              and m.get('nodegate_verifier_requests_total{endpoint="challenge",status="429"}')
              == len(limited)
              and m.get('nodegate_verifier_audit_suppressed_total{reason="rate-limited"}', 0) >= 1,
              "metrics: rate-limited decisions, 429 answers, suppressed audit lines")
        time.sleep(1.5)  # the summaries of the last second are written by the reaper
    finally:
        rc = v.stop()
    check(rc == 0, f"rate-limit instance exits 0 ({rc})")
    lines = v.audit_lines()
    judged = statuses.count(400) + 2  # the challenges let through, round 2's, the refilled one
    for reason, sent in (("rate-limited", len(limited)), ("missing-field", judged)):
        written = [r for r in lines if r["reason"] == reason and r["decision"] == "rejected"]
        summaries = [r for r in lines if r["reason"] == reason and r["decision"] == "suppressed"]
        total = len(written) + sum(r["count"] for r in summaries)
        per_second = collections.Counter(r["time"] for r in written)
        check(total == sent and max(per_second.values()) <= 3,
              f"audit {reason}: {len(written)} lines (at most 3 a second) + "
              f"{len(summaries)} summaries = {total} of {sent} refusals")
        check(all(r["remote"] == "127.0.0.3" and r["message"] ==
                  f"suppressed {r['count']} refusals of reason {reason} from 127.0.0.3"
                  for r in summaries), f"audit {reason}: summary lines name reason and address")
    issued = [r for r in lines if r["decision"] == "issued"]
    check(len(issued) == 1, "the issued token is audited")
    return v


def test_audit_reserve(binary, d, ca, args, node):
    """The audit volume down to its reserve (a reserve larger than the free space): refusal
    and challenge lines are left out (counted in metrics), the issued line is written."""
    pool, _ = make_pool(d, "reserve", 4)
    v = Verifier(binary, d, "reserve", with_pool(args, pool) + [
        "--threads", "2", "--audit-reserve-mb", str(1 << 30)])
    client = Client(ca, v.host, v.port)
    try:
        for _ in range(5):
            client.post("/v2/challenge", raw=b"{}")
        r1, r2, _, token_id = attest_once(client, node)
        check(r1 == 200 and r2 == 200 and token_id,
              f"audit volume at its reserve: the attestation still issues ({r1} {r2})")
        _, _, m = metrics(client)
        check(m.get("nodegate_verifier_audit_dropped_total") == 6
              and m.get("nodegate_verifier_audit_errors_total") == 0,
              f"5 refusals and 1 challenge not written, counted "
              f"({m.get('nodegate_verifier_audit_dropped_total')})")
    finally:
        rc = v.stop()
    lines = v.audit_lines()
    check(rc == 0 and [(r["decision"], r.get("token_id")) for r in lines]
          == [("issued", token_id)], f"only the issued line is in the log "
                                     f"({[r['decision'] for r in lines]})")
    return v


def test_audit_disk_full(binary, d, ca, args, node):
    """The audit flood of issue 12 on a real full volume (a tmpfs, so root only): refusals
    from many addresses until the audit volume is full, then a node attests. With the default
    limits it gets its token and its issued line (the refusals stopped at the reserve); without
    them every node got 500 internal."""
    if os.geteuid() != 0:
        print("skip  audit volume full: needs root for a tmpfs")
        return None
    small = os.path.join(d, "small")
    os.mkdir(small)
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m,mode=0700", "tmpfs", small],
                      capture_output=True).returncode != 0:
        print("skip  audit volume full: cannot mount a tmpfs")
        return None
    v = None
    try:
        # Leave 24 KiB free: about 80 refusal lines.
        st = os.statvfs(small)
        with open(os.path.join(small, "filler"), "wb") as f:
            f.write(b"\0" * (st.f_bavail * st.f_frsize - 24 * 1024))
        pool, _ = make_pool(d, "diskfull", 4)
        v = Verifier(binary, d, "diskfull", with_pool(args, pool) + ["--threads", "2"],
                     audit=os.path.join(small, "audit"))
        for i in range(300):
            src = f"127.0.4.{1 + i % 50}"
            client_from(ca, v, src).post("/v2/challenge", {"version": 1, "x": "y" * 200})
        free = os.statvfs(small).f_bavail * os.statvfs(small).f_frsize
        r1, r2, _, token_id = attest_once(Client(ca, v.host, v.port), node)
        check(r1 == 200 and r2 == 200 and token_id,
              f"audit volume full of refusals ({free} bytes free): a node still gets its "
              f"token ({r1} {r2})")
        rc = v.stop()
        lines, torn = [], 0
        with open(v.audit, errors="replace") as f:
            for line in f:
                try:
                    lines.append(json.loads(line))
                except ValueError:
                    torn += 1  # a write cut short by ENOSPC
        check(rc == 0 and not torn and [r.get("token_id") for r in lines
                                        if r["decision"] == "issued"] == [token_id],
              f"its issued line is in the audit log ({len(lines)} lines, {torn} torn)")
    finally:
        if v:
            v.stop()
            if os.path.exists(v.audit):  # kept for the checks of every instance's files
                shutil.copy(v.audit, os.path.join(d, "diskfull.audit"))
            v.audit = os.path.join(d, "diskfull.audit")
        subprocess.run(["umount", small], capture_output=True)
    return v


def test_ipv6_and_sigint(binary, d, ca, args):
    try:
        socket.socket(socket.AF_INET6).bind(("::1", 0))
    except OSError:
        print("skip  no ::1 on this machine")
        return None
    v = Verifier(binary, d, "ipv6", args, listen="[::1]:0")
    client = Client(ca, "::1", v.port)
    check(v.host == "::1" and client.healthy(), f"serves on [::1]:{v.port}")
    rc = v.stop(signal.SIGINT)
    check(rc == 0, f"exits 0 on SIGINT ({rc})")
    return v


def test_cli(binary, d, args):
    out = subprocess.run([binary, "--version"], capture_output=True, text=True)
    check(out.returncode == 0 and out.stdout == "nodegate-verifier 0.1.0\n", "--version")
    out = subprocess.run([binary, "--help"], capture_output=True, text=True)
    check(out.returncode == 0 and "serve" in out.stdout and "keygen" in out.stdout, "--help")

    secret = os.path.join(d, "secret2")
    out = subprocess.run([binary, "keygen", secret], capture_output=True, text=True)
    st = os.stat(secret)
    check(out.returncode == 0 and st.st_size == 32 and (st.st_mode & 0o777) == 0o600,
          "keygen: 32 bytes, mode 0600")
    with open(secret, "rb") as f:
        first = f.read()
    out = subprocess.run([binary, "keygen", secret], capture_output=True, text=True)
    with open(secret, "rb") as f:
        check(out.returncode == 1 and f.read() == first and secret in out.stderr,
              "keygen refuses to overwrite")

    def refused(replace, needle, what, rc=1):
        a = list(args)
        for opt, value in replace.items():
            if opt in a:
                i = a.index(opt)
                if value is None:
                    del a[i:i + 2]
                else:
                    a[i + 1] = value
            elif value is not None:
                a += [opt, value]
        try:
            # A server that starts is killed by subprocess.run when the timeout expires.
            out = subprocess.run([binary, "serve", "--listen", "127.0.0.1:0", "--audit-log",
                                  os.path.join(d, "refused.audit")] + a,
                                 capture_output=True, text=True, timeout=20,
                                 env={**os.environ, **ASAN_ENV})
        except subprocess.TimeoutExpired as e:
            out = subprocess.CompletedProcess(e.cmd, None, str(e.stdout), str(e.stderr))
        check(out.returncode == rc and needle in out.stderr and "listening" not in out.stdout,
              f"refused at startup: {what}" + ("" if needle in out.stderr else
                                               f" (stderr: {out.stderr.strip()!r})"))

    missing = os.path.join(d, "missing.pem")
    loose = os.path.join(d, "loose-secret")
    with open(loose, "wb") as f:
        f.write(os.urandom(32))
    os.chmod(loose, 0o644)
    short = os.path.join(d, "short-secret")
    with open(short, "wb") as f:
        f.write(os.urandom(16))
    os.chmod(short, 0o600)
    garbage = os.path.join(d, "garbage.pem")
    with open(garbage, "w") as f:
        f.write("not a certificate\n")
    bad_policy = os.path.join(d, "bad-policy.json")
    with open(bad_policy, "w") as f:
        f.write('{"version": 1, "quote_pcrs": [10]')
    other_key = os.path.join(d, "other.key")
    run(["openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256",
         "-out", other_key])
    refused({"--cert": missing}, missing, "missing certificate file, named")
    refused({"--cert": garbage}, garbage, "certificate that is not PEM, named")
    refused({"--key": other_key}, other_key, "key of another certificate, named")
    refused({"--secret": loose}, loose, "secret readable by others, named")
    refused({"--secret": short}, short, "secret shorter than 32 bytes, named")
    refused({"--policy": bad_policy}, bad_policy, "broken policy, named")
    refused({"--cluster-ca": garbage}, garbage, "cluster CA that is not PEM, named")
    refused({"--api-server": "http://insecure"}, "--api-server", "http:// API server")
    refused({"--token-source": "pool:" + missing}, missing, "missing token pool, named")
    refused({"--token-source": "carrier-pigeon:x"}, "--token-source", "unknown token source")
    refused({"--threads": "0"}, "--threads", "zero threads: usage error", rc=2)
    refused({"--ek-allowlist": None}, "--ek-allowlist", "no EK trust at all: usage error", rc=2)
    refused({"--policy": None}, "--policy", "no --policy: usage error", rc=2)
    refused({"--listen": "localhost:8443"}, "localhost:8443", "a host name to listen on", rc=2)
    refused({"--listen": "127.0.0.1:70000"}, "127.0.0.1:70000", "port out of range", rc=2)


def main():
    binary = os.path.abspath(sys.argv[1])
    try:
        with tempfile.TemporaryDirectory(prefix="nodegate-verifier-") as d:
            run_all(binary, d)
    finally:
        for v in Verifier.started:
            if v.proc.poll() is None:
                v.proc.kill()
                v.proc.wait()
    print(f"test-verifier-service: {'FAILED' if failures else 'all passed'}")
    return 1 if failures else 0


def run_all(binary, d):
    ca, cert, key = make_pki(d)
    secret = os.path.join(d, "secret")
    run([binary, "keygen", secret])
    policy = os.path.join(d, "policy.json")
    with open(policy, "w") as f:
        json.dump(POLICY, f)
    pool = os.path.join(d, "tokens")
    with open(pool, "w") as f:
        f.write("".join(t + "\n" for t in TOKENS))
    os.chmod(pool, 0o600)
    node = SoftNode(secret)
    allowlist = os.path.join(d, "ek-allowlist")
    with open(allowlist, "w") as f:
        f.write(f"# the software node\n{node.ek_sha256}\n")
    args = ["--cert", cert, "--key", key, "--secret", secret, "--policy", policy,
            "--ek-allowlist", allowlist, "--token-source", "pool:" + pool,
            "--api-server", "https://127.0.0.1:6443", "--cluster-ca", ca]

    # ONLY=name,name runs a subset (while working on one part); the default is all.
    only = set(filter(None, os.environ.get("ONLY", "").split(",")))

    def want(name):
        return not only or name in only

    servers = []
    derived = []  # the exec source's tokens: the boots' derived ones
    if want("cli"):
        test_cli(binary, d, args)
    if want("main"):
        v = Verifier(binary, d, "main", args + ["--threads", "2", "--connection-timeout",
                                                str(TIMEOUT)])
        servers.append(v)
        try:
            client = Client(ca, v.host, v.port)
            expected = []
            test_tls(v, client, ca)
            test_routes(client, expected)
            test_bodies(client, expected)
            token_id = test_attestation(client, node, expected, pool)
            test_hostile_ek(client, node, expected)
            test_oversized(client, expected)
            test_slow_clients(client)
            test_metrics(client)
            test_audit(v, expected, TOKENS, node, token_id)
        finally:
            rc = v.stop()
        check(rc == 0, f"exits 0 on SIGTERM ({rc})")
    if want("limits"):
        servers.append(test_limits(binary, d, ca, args))
    if want("ipv6"):
        servers.append(test_ipv6_and_sigint(binary, d, ca, args))
    if want("slowtoken"):
        first_reset = node.reset_count
        servers.append(test_slow_token_source(binary, d, ca, args, node))
        for reset in range(first_reset, node.reset_count + 1):
            node.reset_count = reset
            derived.append(node.derived_token())
    if want("clusterca"):
        servers += test_cluster_ca(binary, d, ca, args, node)
    if want("coredump"):
        test_no_core_dump(binary, d, args, secret)
    if want("ratelimit"):
        servers.append(test_rate_limits(binary, d, ca, args, node))
    if want("reserve"):
        servers.append(test_audit_reserve(binary, d, ca, args, node))
    if want("diskfull"):
        servers.append(test_audit_disk_full(binary, d, ca, args, node))
    if want("slowloris"):
        servers.append(test_slowloris(binary, d, ca, args, node))

    for s in filter(None, servers):
        text = s.stderr_text()
        bad = [line for line in text.splitlines()
               if re.search(r"AddressSanitizer|LeakSanitizer|runtime error:|"
                            r"UndefinedBehaviorSanitizer", line)]
        check(not bad, f"{os.path.basename(s.stderr_path)}: no sanitizer report"
              + ("" if not bad else "\n      " + "\n      ".join(bad[:5])))
        leaked = [t for t in TOKENS + derived if t.split(".")[1] in text]
        check(not leaked, f"{os.path.basename(s.stderr_path)}: no token secret on stderr")
        if not os.path.exists(s.audit):
            continue  # refused at startup, before it opened one
        with open(s.audit) as f:
            text = f.read()
        leaked = [t for t in TOKENS + derived if t.split(".")[1] in text]
        check(not leaked, f"{os.path.basename(s.audit)}: no token secret")


if __name__ == "__main__":
    sys.exit(main())
