#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The gate's Azure TDX path end to end on the host (issue 13): the static build/nodegate
--attest-only against an emulated Azure TDX vTPM, a fake instance metadata service and the ASan
verifier over HTTPS, with no change to the gate and no special build.

- The vTPM: swtpm, provisioned as Azure's TDX paravisor leaves it (tests/tools/azure-paravisor.py
  provision --tdx: NV 0x01400001 with an HCL report holding a TDREPORT, NV 0x01400002, the HCL
  AK at 0x81000003). The gate opens a pty; this process relays the pty to swtpm's socket and,
  like the paravisor, regenerates the report when the gate writes the binding P to NV
  0x01400002 (claims with user-data = P and HCLAkPub = the AK, REPORTDATA = SHA-256(claims)).
- IMDS: tests/tools/fake-imds.py on 169.254.169.254:80, a local address of a network namespace
  this test creates for itself (unshare -n), answers POST /acc/tdquote with a DCAP v4 quote of
  the TDREPORT it was sent, signed under a test Intel-shaped chain that the verifier pins with
  --platform-roots; it records what it was sent.
- The verifier: `require: azure-tdx`, `tpm_trust: tee`, MRTD pinned, behind a recording TLS
  proxy that keeps round 2's body.

Asserted: the gate POSTs exactly the TDREPORT of the HCL report it read (base64url, no
padding, Microsoft's three headers), round 2 carries kind azure-tdx-hcl with that report and the
quote IMDS answered, and the verifier issues the token; with *_proxy set too (the gate uses no
proxy). A quote of another TD from IMDS is sent as it came and refused by the verifier. Each IMDS misbehaviour (HTTP 500, an
HTML page, no "quote", 20 KiB, no answer until the time limit, nothing listening) stops the gate with its
named failure, a message naming IMDS's URL, no round 2 and no token.
Usage: test-gate-azure-tdx.py --gate NODEGATE --client NODE-CLIENT --verifier VERIFIER
"""
import argparse
import base64
import hashlib
import http.client
import http.server
import importlib.util
import json
import os
import pty
import re
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import tty

HERE = os.path.dirname(os.path.abspath(__file__))
TOOLS = os.path.join(HERE, "..", "tools")
sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, TOOLS)
import cvm_synth  # noqa: E402


def load(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    m = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(m)
    return m


A = load("attestation", os.path.join(HERE, "test-attestation.py"))
PV = load("paravisor", os.path.join(TOOLS, "azure-paravisor.py"))
IMDS = load("fake_imds", os.path.join(TOOLS, "fake-imds.py"))

NETNS_ENV = "NODEGATE_TEST_NETNS"
IMDS_ADDR = "169.254.169.254"
IMDS_URL = "http://169.254.169.254/acc/tdquote"
EVENTLOG = "sys/kernel/security/tpm0/binary_bios_measurements"
KUBECONFIG = "run/nodegate/bootstrap-kubelet.conf"
ROOTHASH = "4bd1d62e0d0bb3d8c0d9a5ad7b0bd5a3c8a8b76b1b3a8a0f32a5a4d3c7f2e1a0"
TOKENS = ["%06x.%016x" % (0xa2d000 + i, i) for i in range(1, 9)]
HCL_HEADER = 0x20


def in_netns():
    """Runs this script again in a network namespace of its own where 169.254.169.254 is a
    local address (the fake IMDS binds it; nothing leaves the namespace). Returns the exit
    status of that run, or None when this already is it."""
    if os.environ.get(NETNS_ENV) == "1":
        for cmd in (["ip", "link", "set", "lo", "up"],
                    ["ip", "addr", "add", IMDS_ADDR + "/32", "dev", "lo"]):
            subprocess.run(cmd, check=True)
        return None
    if not shutil.which("unshare") or not shutil.which("ip"):
        print("SKIP: unshare or ip (iproute2) is not installed")
        return 77
    unshare = ["unshare", "--net"] if os.geteuid() == 0 else ["unshare", "--map-root-user",
                                                              "--net"]
    return subprocess.run(unshare + [sys.executable, os.path.abspath(__file__)] + sys.argv[1:],
                          env=dict(os.environ, **{NETNS_ENV: "1"})).returncode


class Vtpm:
    """swtpm (socket) behind the emulated paravisor, reached by the gate through a pty."""

    def __init__(self, work):
        self.dir = os.path.join(work, "tpm")
        self.state = os.path.join(self.dir, "state")
        self.ctrl = os.path.join(self.dir, "ctrl")
        os.makedirs(self.state)
        conf = os.path.join(self.dir, "swtpm_setup.conf")
        with open(conf, "w") as f:
            f.write("active_pcr_banks = sha256\n")
        A.must(["swtpm_setup", "--tpm2", "--tpmstate", self.state, "--config", conf,
                "--overwrite", "--createek", "--logfile", os.path.join(self.dir, "setup.log")])
        A.must([sys.executable, os.path.join(TOOLS, "azure-paravisor.py"), "provision",
                "--state", self.state, "--tdx"])
        # The HCL AK is DA-protected (no noDA, as Azure's), and every "boot" here ends with a
        # power cut, not TPM2_Shutdown: each counts as a failed authorization, and swtpm's
        # default of 3 tries would lock the AK out by the fourth boot. Lockout off.
        with cvm_synth.SwtpmTools(self.state) as t:
            t.run("tpm2_dictionarylockout", "--setup-parameters", "--max-tries=1000000",
                  "--recovery-time=1", "--lockout-recovery-time=1")
        port = cvm_synth.free_pair()
        self.proc = subprocess.Popen(
            ["swtpm", "socket", "--tpm2", "--tpmstate", "dir=" + self.state, "--server",
             "type=tcp,bindaddr=127.0.0.1,port=%d" % port, "--ctrl",
             "type=unixio,path=" + self.ctrl, "--flags", "not-need-init,startup-clear"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(200):
            try:
                self.sock = socket.create_connection(("127.0.0.1", port), timeout=120)
                break
            except OSError:
                time.sleep(0.05)
        else:
            raise RuntimeError("swtpm did not listen on port %d" % port)
        self.sock.settimeout(None)
        self.master, self.slave = pty.openpty()
        tty.setraw(self.slave)  # binary: no line discipline may touch the bytes
        self.path = os.ttyname(self.slave)
        self.log = open(os.path.join(self.dir, "paravisor.log"), "a")
        self.paravisor = PV.Paravisor(None, self.log, tdx=True)
        self.relay = PV.relay_pty(self.paravisor, self.master, self.sock)

    def power_cycle(self):
        A.must(["swtpm_ioctl", "--unix", self.ctrl, "-i"])

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        # The relay ends when the pty's last slave closes (EIO on the master), then logs.
        os.close(self.slave)
        self.relay.join(timeout=10)
        self.sock.close()
        os.close(self.master)
        self.log.close()


class RecordingProxy:
    """HTTPS between the gate and the verifier, keeping every request body by path."""

    def __init__(self, cert, key, ca, upstream_port):
        self.seen = []
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                c = http.client.HTTPSConnection(
                    "127.0.0.1", upstream_port, timeout=60,
                    context=ssl.create_default_context(cafile=ca))
                try:
                    c.request("POST", self.path, body=body,
                              headers={"Content-Type": "application/json"})
                    resp = c.getresponse()
                    data = resp.read()
                finally:
                    c.close()
                proxy.seen.append((self.path, body, resp.status, data))
                self.send_response(resp.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, key)
        self.server.socket = ctx.wrap_socket(self.server.socket, server_side=True)
        self.url = "https://127.0.0.1:%d" % self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def main():
    rc = in_netns()
    if rc is not None:
        return rc
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--gate", required=True)
    ap.add_argument("--client", required=True)
    ap.add_argument("--verifier", required=True)
    ap.add_argument("--keep", action="store_true", help="keep the work directories")
    args = ap.parse_args()
    for tool in ("swtpm", "swtpm_setup", "swtpm_ioctl", "tpm2_nvdefine", "tpm2_evictcontrol",
                 "openssl"):
        if not shutil.which(tool):
            print("SKIP: %s is not installed" % tool)
            return 77
    f = A.Failures()
    work = tempfile.mkdtemp(prefix="nodegate-aztdx-")
    shm = tempfile.mkdtemp(prefix="nodegate-aztdx-", dir="/dev/shm")
    stops = []
    started = time.monotonic()
    try:
        scenarios(f, work, shm, args, stops)
    finally:
        for s in reversed(stops):
            s()
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


def scenarios(f, work, shm, args, stops):
    V = lambda *a: A.must([os.path.abspath(args.verifier)] + list(a))  # noqa: E731
    tls_ca, tls_cert, tls_key = A.make_tls(work)
    client = A.Client(os.path.abspath(args.client), tls_ca, None)

    tpm = Vtpm(work)
    stops.append(tpm.stop)
    good_log, good_ext, _ = A.extensions(work, "good")

    # The test Intel chain: the verifier pins its root, the fake IMDS signs with its PCK.
    intel_root, intel_chain, pck_key, intel_parts = cvm_synth.intel_chain()
    roots = os.path.join(work, "roots")
    os.makedirs(roots)
    with open(os.path.join(roots, "intel-sgx-root-ca.pem"), "wb") as out:
        out.write(intel_root)
    # Intel's PCS collateral for that chain: the verifier judges the TCB status as in a cloud.
    collateral = os.path.join(work, "tdx-collateral")
    cvm_synth.write_collateral(collateral, intel_parts)
    imds = IMDS.FakeImds(IMDS_ADDR, 80, pck_key, intel_chain,
                         log=os.path.join(work, "imds.jsonl"))
    stops.append(imds.stop)

    secret = os.path.join(work, "secret")
    V("keygen", secret)
    policy = json.loads(V("policy", "from-log", "--allow", "secure-boot-off", good_log).stdout)
    policy["platform"] = {"require": "azure-tdx", "tpm_trust": "tee",
                          "admit_unenrolled_ek": True,
                          "tdx": {"mrtds": [cvm_synth.MRTD.hex()]}}
    policy_path = os.path.join(work, "policy.json")
    with open(policy_path, "w") as out:
        json.dump(policy, out)
    allowlist = os.path.join(work, "ek-allowlist")
    open(allowlist, "w").close()
    pool = os.path.join(work, "tokens")
    with open(pool, "w") as out:
        out.write("".join(t + "\n" for t in TOKENS))
    os.chmod(pool, 0o600)
    v = A.Verifier(os.path.abspath(args.verifier), work, "verifier",
                   ["--secret", secret, "--policy", policy_path, "--ek-allowlist", allowlist,
                    "--token-source", "pool:" + pool, "--api-server", "https://10.0.0.1:6443",
                    "--cluster-ca", tls_ca, "--cert", tls_cert, "--key", tls_key,
                    "--platform-roots", roots, "--tdx-collateral", collateral, "--threads", "2",
                    "--audit-log", os.path.join(work, "audit.jsonl")])
    stops.append(v.stop)
    proxy = RecordingProxy(tls_cert, tls_key, tls_ca, v.port)
    stops.append(proxy.stop)

    def pool_left():
        with open(pool) as fp:
            return [t for t in fp.read().split() if t in TOKENS]

    def boot():
        """A fresh boot: power cycle, TPM2_Startup, the firmware's extensions."""
        tpm.power_cycle()
        for cmd in (["startup"], ["extend-log", good_ext]):
            r = client(tpm, *cmd)
            if r.returncode != 0:
                raise RuntimeError("%s failed: %s" % (cmd[0], A.show(r)))

    n = [0]

    def run_gate(mode, env=None, timeout=60):
        """One boot through the gate with IMDS in mode; what IMDS and the verifier saw."""
        boot()
        imds.mode = mode
        imds.requests.clear()
        proxy.seen.clear()
        n[0] += 1
        root = tempfile.mkdtemp(prefix="gate-%d-" % n[0], dir=shm)
        for d in ("proc", "etc/nodegate", "run", os.path.dirname(EVENTLOG)):
            os.makedirs(os.path.join(root, d), exist_ok=True)
        with open(os.path.join(root, "proc/cmdline"), "w") as out:
            out.write("console=ttyS0 roothash=%s nodegate.on_failure=poweroff "
                      "nodegate.timeout=%d nodegate.tpm=%s nodegate.url=%s\n"
                      % (ROOTHASH, timeout, tpm.path, proxy.url))
        shutil.copy(tls_ca, os.path.join(root, "etc/nodegate/ca.pem"))
        shutil.copy(good_log, os.path.join(root, EVENTLOG))
        t0 = time.monotonic()
        try:
            r = subprocess.run([os.path.abspath(args.gate), "--attest-only", root],
                               capture_output=True, text=True, timeout=timeout + 60,
                               env=env)
        except subprocess.TimeoutExpired as e:
            r = subprocess.CompletedProcess(e.cmd, None, str(e.stdout), str(e.stderr))
        r.elapsed = time.monotonic() - t0
        r.console = (r.stdout or "") + (r.stderr or "")
        r.root = root
        return r

    def show(r):
        return "exit %s after %.1f s\n%s" % (r.returncode, r.elapsed, r.console[-4000:])

    def failed(r, what):
        """what: "FAILED <name>", literally, as tests/check-failure-coverage.sh looks for it."""
        m = re.search(r"^.*nodegate\[[a-z]+\]: %s: .*$" % re.escape(what), r.console, re.M)
        if m:
            print("      " + m.group(0).split("] ", 1)[-1])
        return r.returncode == 1 and m is not None

    def round2():
        """The platform object of the round 2 the verifier received, or None."""
        for path, body, _status, _data in proxy.seen:
            if path.endswith("/attest"):
                return json.loads(body).get("platform")
        return None

    def refused_cleanly(r, what, before):
        f.check(not os.path.lexists(os.path.join(r.root, KUBECONFIG)) and pool_left() == before,
                what + ": no kubeconfig, no token left the pool", show(r))
        f.check(round2() is None and [p for p, *_ in proxy.seen] == ["/v3/challenge"],
                what + ": no round 2 reached the verifier (round 1 only)",
                str([p for p, *_ in proxy.seen]))
        f.check(IMDS_URL in r.console and "IMDS" in r.console,
                what + ": the console names IMDS and its URL", show(r))

    def good_path(r, what):
        report = tpm.paravisor.last_report
        ok = f.check(r.returncode == 0 and os.path.exists(os.path.join(r.root, KUBECONFIG)),
                     what + ": exit 0, the kubeconfig is written (the verifier issued the token)",
                     show(r))
        f.check("platform: azure-tdx (" in r.console and "the paravisor's HCL AK" in r.console
                and re.search(r"azure-tdx evidence: azure-tdx-hcl, 2048 bytes, with the TD quote "
                              r"from IMDS \(\d+ bytes\)", r.console),
                what + ": Azure TDX detected, the HCL AK, the evidence with IMDS's quote logged",
                show(r))
        f.check(len(imds.requests) == 1, what + ": exactly one request to IMDS",
                str(len(imds.requests)))
        if not imds.requests or report is None:
            return ok
        q = imds.requests[0]
        h = q["headers"]
        f.check(q["path"] == "/acc/tdquote" and h.get("metadata") == "true" and
                h.get("content-type") == "application/json" and
                h.get("accept") == "application/json",
                what + ": POST /acc/tdquote with Metadata: true, Content-Type and Accept "
                "application/json", json.dumps(q)[:600])
        tdreport = report[HCL_HEADER:HCL_HEADER + 1024]
        want = json.dumps({"report": base64.urlsafe_b64encode(tdreport).decode().rstrip("=")},
                          separators=(",", ":"))
        f.check(q["body"] == want,
                what + ": the body is {\"report\": base64url without padding of the TDREPORT}",
                q["body"][:200])
        f.check(q["report"] == tdreport.hex(),
                what + ": IMDS was sent exactly the TDREPORT of the HCL report the gate read")
        p = round2()
        f.check(p is not None and p.get("kind") == "azure-tdx-hcl" and
                base64.b64decode(p.get("report", "")) == report and
                base64.b64decode(p.get("td_quote", "")) == bytes.fromhex(q["quote"] or "") and
                not p.get("certificates"),
                what + ": round 2 carried azure-tdx-hcl: the report as read from NV 0x01400001 "
                "and IMDS's quote as td_quote", json.dumps(p)[:300] if p else "no round 2")
        claims_at = 0x4D4
        size = int.from_bytes(report[0x4C0 + 16:0x4C0 + 20], "little")
        claims = json.loads(report[claims_at:claims_at + size])
        f.check(tdreport[128:160] == hashlib.sha256(report[claims_at:claims_at + size]).digest()
                and re.fullmatch(r"[0-9A-F]{128}", claims.get("user-data", "")) is not None,
                what + ": the TDREPORT the gate sent binds the claims whose user-data the "
                "gate wrote")
        return ok

    # ---- (a) the good path: IMDS answers base64url without padding --------------------------
    before = pool_left()
    r = run_gate("good")
    good_path(r, "good")
    f.check(len(pool_left()) == len(before) - 1, "good: one token left the pool")

    # ---- (b) padded base64url, and *_proxy in the environment (the gate must not use it) -----
    dead = "http://127.0.0.1:9"
    env = dict(os.environ, http_proxy=dead, HTTP_PROXY=dead, all_proxy=dead, ALL_PROXY=dead)
    before = pool_left()
    r = run_gate("padded", env=env)
    good_path(r, "padded answer, http_proxy set")
    f.check(len(pool_left()) == len(before) - 1, "padded: one token left the pool")

    # ---- (c) a host in the middle answers the quote of another TD: the verifier refuses -----
    before = pool_left()
    r = run_gate("other-td")
    f.check(failed(r, "FAILED verifier-refused") and "tdx-quote-tdreport-mismatch" in r.console
            and not os.path.lexists(os.path.join(r.root, KUBECONFIG)) and pool_left() == before,
            "IMDS answers the quote of another TD: the gate sends it, the verifier refuses "
            "(tdx-quote-tdreport-mismatch), no token", show(r))
    p = round2()
    f.check(p is not None and p.get("kind") == "azure-tdx-hcl" and imds.requests and
            base64.b64decode(p.get("td_quote", "")) == bytes.fromhex(imds.requests[0]["quote"]),
            "other TD: round 2 carried IMDS's answer as it came (the gate does not judge it)")

    # ---- (d) IMDS misbehaves: the named failure, no round 2, no token -----------------------
    before = pool_left()
    r = run_gate("500")
    f.check(failed(r, "FAILED imds-status") and "HTTP 500" in r.console,
            "IMDS answers 500: FAILED imds-status, the status named", show(r))
    refused_cleanly(r, "IMDS 500", before)

    r = run_gate("garbage")
    f.check(failed(r, "FAILED imds-answer") and "not a JSON object" in r.console,
            "IMDS answers an HTML page: FAILED imds-answer (not a JSON object)", show(r))
    refused_cleanly(r, "IMDS garbage", before)

    r = run_gate("no-quote")
    f.check(failed(r, "FAILED imds-answer") and 'no "quote" string' in r.console,
            "IMDS answers JSON without a quote: FAILED imds-answer", show(r))
    refused_cleanly(r, "IMDS without quote", before)

    r = run_gate("huge")
    f.check(failed(r, "FAILED imds-answer") and "larger than 16 KiB" in r.console,
            "IMDS answers 20 KiB: FAILED imds-answer, read no further than 16 KiB", show(r))
    refused_cleanly(r, "IMDS oversized", before)

    r = run_gate("hang")
    f.check(failed(r, "FAILED imds-unreachable") and "no answer within 10000 ms" in r.console
            and 9.5 < r.elapsed < 40,
            "IMDS never answers: FAILED imds-unreachable after the 10 s limit (%.1f s)"
            % r.elapsed, show(r))
    refused_cleanly(r, "IMDS hangs", before)

    imds.stop()
    r = run_gate("good")
    f.check(failed(r, "FAILED imds-unreachable") and
            "cannot connect: Connection refused" in r.console,
            "nothing listens on 169.254.169.254:80: FAILED imds-unreachable", show(r))
    refused_cleanly(r, "no IMDS", before)

    rc = v.stop()
    err = v.stderr()
    f.check(rc == 0 and "ERROR: AddressSanitizer" not in err and "runtime error" not in err,
            "the verifier exits 0 without sanitizer reports (rc %s)" % rc, err[-2000:])
    f.check(not client.sanitizer_reports, "node-client: no sanitizer reports",
            "\n".join(client.sanitizer_reports))


if __name__ == "__main__":
    sys.exit(main())
