#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The attestation protocol end to end (issue 3): node-client plays the node on swtpm, the ASan
verifier serves HTTPS on 127.0.0.1, and every scenario asserts its specific outcome: a token
unsealed inside swtpm that is one of the pool's, a named rejection, or a blob the TPM refuses.

swtpm runs as a chardev on a pty (the device TCTI opens the slave like /dev/tpm0), with a
control socket so `swtpm_ioctl -i` can power-cycle it; swtpm_setup writes EK certificates
through a throwaway swtpm_localca CA. Everything lives in one temporary directory; every
process started here is killed by its PID at the end.
"""

import argparse
import base64
import hashlib
import http.client
import json
import os
import pty
import re
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import tty

HERE = os.path.dirname(os.path.abspath(__file__))
MKLOG = os.path.join(HERE, "..", "tools", "mklog.py")
EXIT_REJECTED, EXIT_TPM = 3, 4


class Failures:
    def __init__(self):
        self.failed = []
        self.passed = 0

    def check(self, ok, what, detail=""):
        print(("ok    " if ok else "FAIL  ") + what, flush=True)
        if not ok:
            if detail:
                print("      " + detail.replace("\n", "\n      "), flush=True)
            self.failed.append(what)
        else:
            self.passed += 1
        return ok


def run(cmd, **kw):
    kw.setdefault("capture_output", True)
    kw.setdefault("text", True)
    kw.setdefault("timeout", 120)
    return subprocess.run(cmd, **kw)


def must(cmd, **kw):
    r = run(cmd, **kw)
    if r.returncode != 0:
        raise RuntimeError("%s failed (%d):\n%s%s" % (" ".join(cmd), r.returncode, r.stdout,
                                                      r.stderr))
    return r


class Swtpm:
    """One TPM: state from swtpm_setup, served on a pty until stop()."""

    def __init__(self, work, name, localca=None):
        self.dir = os.path.join(work, name)
        self.state = os.path.join(self.dir, "state")
        self.ctrl = os.path.join(self.dir, "ctrl")
        os.makedirs(self.state)
        conf = os.path.join(self.dir, "swtpm_setup.conf")
        with open(conf, "w") as f:
            f.write("active_pcr_banks = sha256\n")
            if localca:
                f.write("create_certs_tool = /usr/bin/swtpm_localca\n"
                        "create_certs_tool_config = %s\n"
                        "create_certs_tool_options = /etc/swtpm-localca.options\n" % localca)
        cmd = ["swtpm_setup", "--tpm2", "--tpmstate", self.state, "--config", conf,
               "--overwrite", "--logfile", os.path.join(self.dir, "setup.log")]
        cmd += ["--create-ek-cert"] if localca else ["--createek"]
        must(cmd)
        self.proc = None
        self.start()

    def start(self):
        self.master, self.slave = pty.openpty()
        tty.setraw(self.slave)  # binary: no line discipline may touch the bytes
        self.proc = subprocess.Popen(
            ["swtpm", "chardev", "--tpm2", "--fd", str(self.master), "--tpmstate",
             "dir=" + self.state, "--flags", "startup-clear", "--ctrl",
             "type=unixio,path=" + self.ctrl],
            pass_fds=[self.master], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.path = os.ttyname(self.slave)
        for _ in range(100):
            if os.path.exists(self.ctrl):
                break
            time.sleep(0.05)

    def power_cycle(self):
        """TPM_Init as at a reboot: PCRs reset, resetCount grows, TPM2_Startup needed."""
        must(["swtpm_ioctl", "--unix", self.ctrl, "-i"])

    def stop(self):
        if self.proc:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            os.close(self.master)
            os.close(self.slave)
            self.proc = None


def make_localca(work, name):
    d = os.path.join(work, name)
    os.makedirs(d)
    conf = os.path.join(d, "localca.conf")
    with open(conf, "w") as f:
        f.write("statedir = %s\nsigningkey = %s/signkey.pem\nissuercert = %s/issuercert.pem\n"
                "certserial = %s/certserial\n" % (d, d, d, d))
    return d, conf


def make_tls(work):
    """A throwaway CA and a server certificate for 127.0.0.1."""
    d = os.path.join(work, "tls")
    os.makedirs(d)
    p = lambda n: os.path.join(d, n)  # noqa: E731
    must(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
          "-nodes", "-keyout", p("ca.key"), "-out", p("ca.pem"), "-days", "2", "-subj",
          "/CN=nodegate test CA"])
    must(["openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
          "-keyout", p("server.key"), "-out", p("server.csr"), "-subj", "/CN=127.0.0.1"])
    with open(p("ext"), "w") as f:
        f.write("subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n")
    must(["openssl", "x509", "-req", "-in", p("server.csr"), "-CA", p("ca.pem"), "-CAkey",
          p("ca.key"), "-CAcreateserial", "-out", p("server.pem"), "-days", "2", "-extfile",
          p("ext")])
    return p("ca.pem"), p("server.pem"), p("server.key")


class Verifier:
    def __init__(self, binary, work, name, args):
        self.log = os.path.join(work, name + ".stderr")
        self.errf = open(self.log, "w")
        self.proc = subprocess.Popen([binary, "serve", "--listen", "127.0.0.1:0"] + args,
                                     stdout=subprocess.PIPE, stderr=self.errf, text=True)
        line = self.proc.stdout.readline()
        m = re.match(r"listening on (https://127\.0\.0\.1:\d+)", line)
        if not m:
            self.stop()
            raise RuntimeError("verifier %s did not start: %r\n%s" % (name, line,
                                                                      open(self.log).read()))
        self.url = m.group(1)
        self.port = int(self.url.rsplit(":", 1)[1])

    def alive(self):
        return self.proc.poll() is None

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.errf.close()
        return self.proc.returncode

    def stderr(self):
        with open(self.log) as f:
            return f.read()


class Client:
    """node-client (ASan+UBSan): every run whose stderr has a sanitizer report is kept."""

    def __init__(self, binary, ca, url):
        self.binary, self.ca, self.url = binary, ca, url
        self.sanitizer_reports = []

    def __call__(self, tpm, *args, url=None):
        cmd = [self.binary, "--tpm", tpm.path, "--ca", self.ca]
        if url or self.url:
            cmd += ["--url", url or self.url]
        r = run(cmd + list(args), timeout=180)
        if "Sanitizer" in r.stderr or "runtime error" in r.stderr:
            self.sanitizer_reports.append(" ".join(args) + "\n" + r.stderr[-3000:])
        return r

    @staticmethod
    def field(out, key):
        m = re.search(r"\b%s=(\S+)" % re.escape(key), out)
        return m.group(1) if m else None


def extensions(work, name, **opts):
    """mklog.py: the log and the extensions that bring a fresh TPM to the state it claims."""
    log = os.path.join(work, name + ".log")
    ext = os.path.join(work, name + ".ext.json")
    cmd = [sys.executable, MKLOG, "-o", log, "--extensions", ext]
    for k, v in opts.items():
        cmd += ["--" + k.replace("_", "-")] + ([] if v is True else [v])
    must(cmd)
    with open(ext) as f:
        return log, ext, json.load(f)


def rejection(r):
    m = re.search(r"^rejected: ([a-z0-9-]+): (.*)$", r.stdout, re.M)
    return (m.group(1), m.group(2)) if m else (None, None)


def detail(r, key):
    m = re.search(r"^detail: .*\b%s=(\S*)" % key, r.stdout, re.M)
    return m.group(1) if m else None


def show(r):
    return "exit %d\n%s%s" % (r.returncode, r.stdout, r.stderr[-3000:])


def audit_lines(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def https_raw(port, ca, request_bytes, read=True):
    """Sends raw bytes over TLS (for bodies no well-behaved client would send)."""
    ctx = ssl.create_default_context(cafile=ca)
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        with ctx.wrap_socket(sock, server_hostname="127.0.0.1") as tls:
            tls.sendall(request_bytes)
            if not read:
                return b""
            data = b""
            try:
                while True:
                    chunk = tls.recv(65536)
                    if not chunk:
                        break
                    data += chunk
            except (socket.timeout, ssl.SSLError, ConnectionResetError):
                pass
            return data


def https_post(port, ca, path, body, content_type="application/json", timeout=30):
    ctx = ssl.create_default_context(cafile=ca)
    c = http.client.HTTPSConnection("127.0.0.1", port, context=ctx, timeout=timeout)
    try:
        c.request("POST", path, body=body, headers={"Content-Type": content_type})
        resp = c.getresponse()
        data = resp.read()
        try:
            doc = json.loads(data)
        except ValueError:
            doc = None
        return resp.status, doc
    finally:
        c.close()


def https_get(port, ca, path):
    ctx = ssl.create_default_context(cafile=ca)
    c = http.client.HTTPSConnection("127.0.0.1", port, context=ctx, timeout=30)
    try:
        c.request("GET", path)
        resp = c.getresponse()
        return resp.status, resp.read()
    finally:
        c.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--client", required=True)
    ap.add_argument("--verifier", required=True)
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    args = ap.parse_args()
    client_bin = os.path.abspath(args.client)
    verifier_bin = os.path.abspath(args.verifier)
    for tool in ("swtpm", "swtpm_setup", "swtpm_ioctl", "swtpm_localca", "openssl"):
        if not shutil.which(tool):
            print("missing %s" % tool)
            return 1

    f = Failures()
    work = tempfile.mkdtemp(prefix="nodegate-attest-")
    tpms, verifiers = [], []
    started = time.monotonic()
    try:
        return scenarios(f, work, client_bin, verifier_bin, tpms, verifiers)
    finally:
        for v in verifiers:
            v.stop()
        for t in tpms:
            t.stop()
        if args.keep:
            print("work directory kept: " + work)
        else:
            shutil.rmtree(work, ignore_errors=True)
        print("%d checks passed, %d failed, %.0f s" % (f.passed, len(f.failed),
                                                     time.monotonic() - started))
        for what in f.failed:
            print("FAILED: " + what)


def scenarios(f, work, client_bin, verifier_bin, tpms, verifiers):
    V = lambda *a: must([verifier_bin] + list(a))  # noqa: E731

    # ---- the world: CAs, TPMs, logs, the verifier's files --------------------------------
    ca_dir, ca_conf = make_localca(work, "localca")
    rogue_dir, rogue_conf = make_localca(work, "rogue-ca")
    tls_ca, tls_cert, tls_key = make_tls(work)

    tpm_a = Swtpm(work, "tpm-a", ca_conf)       # certified EKs (P-384, RSA); P-256 allowlisted
    tpms.append(tpm_a)
    tpm_b = Swtpm(work, "tpm-b", ca_conf)       # certified, attests by CA chain
    tpms.append(tpm_b)
    tpm_plain = Swtpm(work, "tpm-plain")        # no certificate, not allowlisted
    tpms.append(tpm_plain)
    tpm_rogue = Swtpm(work, "tpm-rogue", rogue_conf)  # certificates from an unknown CA
    tpms.append(tpm_rogue)
    tpm_other = Swtpm(work, "tpm-other")        # holds a foreign AK
    tpms.append(tpm_other)

    # The reference boots under Secure Boot: the default policy judges PCRs 2 and 7 and wants it.
    good_log, good_ext, good = extensions(work, "good", secure_boot=True)
    bad_log, bad_ext, bad = extensions(work, "other-uki", uki="not-the-approved-uki",
                                       secure_boot=True)
    # Issue 11 §3: a Driver#### DXE driver from the ESP (PCR 2), and Secure Boot off (PCR 7).
    drv_log, drv_ext, drv = extensions(work, "driver", secure_boot=True, extra_driver="evil")
    sboff_log, sboff_ext, _ = extensions(work, "sb-off")

    secret = os.path.join(work, "secret")
    V("keygen", secret)
    policy = os.path.join(work, "policy.json")
    with open(policy, "w") as out:
        out.write(V("policy", "from-log", good_log).stdout)
    # The same platform without Secure Boot, accepted only by a policy that names the opt-in.
    policy_sboff = os.path.join(work, "policy-sb-off.json")
    r = run([verifier_bin, "policy", "from-log", sboff_log])
    f.check(r.returncode == 1 and "secure-boot-off" in r.stderr and
            "--allow secure-boot-off" in r.stderr,
            "policy from-log refuses a reference boot without Secure Boot unless allowed",
            r.stderr)
    with open(policy_sboff, "w") as out:
        out.write(V("policy", "from-log", "--allow", "secure-boot-off", sboff_log).stdout)
    allowlist = os.path.join(work, "ek-allowlist")
    ek_ca = os.path.join(work, "ek-ca")
    for pem in ("swtpm-localca-rootca-cert.pem", "issuercert.pem"):
        V("ca", "add", ek_ca, os.path.join(ca_dir, pem))
    pool = os.path.join(work, "tokens")
    tokens = ["%s.%s" % (secrets.token_hex(3), secrets.token_hex(8)) for _ in range(16)]
    with open(pool, "w") as out:
        out.write("".join(t + "\n" for t in tokens))
    os.chmod(pool, 0o600)  # the verifier refuses a pool others can read
    token_sha = {hashlib.sha256(t.encode()).hexdigest(): t for t in tokens}
    audit = os.path.join(work, "audit.jsonl")

    client = Client(client_bin, tls_ca, None)

    # The P-256 EK of tpm-a goes on the allowlist by its TPM2B_PUBLIC.
    ek_a = os.path.join(work, "ek-a.pub")
    r = client(tpm_a, "ek", "--ek", "ecc256", "--out-public", ek_a)
    f.check(r.returncode == 0 and "certificate absent" in r.stdout,
            "tpm-a: the P-256 EK (template L-2) has no certificate", show(r))
    V("ek", "allow", allowlist, "--public", ek_a, "--comment", "tpm-a")

    # EK templates against swtpm's certificates: the key the template gives is the certified one.
    for tpm, ek in ((tpm_b, "ecc384"), (tpm_b, "rsa2048")):
        cert = os.path.join(work, "tpm-b-%s.der" % ek)
        r = client(tpm, "ek", "--ek", ek, "--out-cert", cert)
        f.check(r.returncode == 0 and "certificate present" in r.stdout and
                "key matches" in r.stdout,
                "EK template %s reproduces the key of swtpm_setup's certificate" % ek, show(r))
        # The verifier requires the TCG EK EKU on the chain path (docs/PROTOCOL.md):
        # swtpm_setup's certificates carry it, so the CA-chain scenarios below exercise it.
        eku = subprocess.run(["openssl", "x509", "-inform", "DER", "-in", cert, "-noout",
                              "-ext", "extendedKeyUsage"], capture_output=True, text=True)
        f.check(eku.returncode == 0 and "2.23.133.8.1" in eku.stdout,
                "swtpm_setup's %s EK certificate carries the EKU tcg-kp-EKCertificate" % ek,
                eku.stdout + eku.stderr)
    r = client(tpm_b, "ek")
    f.check(r.returncode == 0 and r.stdout.startswith("ek: ecc384"),
            "--ek auto picks the P-384 EK when only P-384 and RSA certificates exist", show(r))

    common = ["--secret", secret, "--policy", policy, "--ek-allowlist", allowlist,
              "--ek-ca", ek_ca, "--token-source", "pool:" + pool,
              "--api-server", "https://10.0.0.1:6443", "--cluster-ca", tls_ca,
              "--cert", tls_cert, "--key", tls_key, "--audit-log", audit, "--threads", "2"]
    # Issue 11 §3: the CA alone admitting a TPM is an opt-in; the default is the inventory.
    r = run([verifier_bin, "serve", "--listen", "127.0.0.1:0"] +
            [a for a in common if a != allowlist and a != "--ek-allowlist"], timeout=30)
    f.check(r.returncode != 0 and "--ek-trust ca-only" in r.stderr and
            "inventory" in r.stderr,
            "serve refuses --ek-ca without an allowlist unless --ek-trust ca-only", r.stderr)
    vc_common = [a if a != policy else policy_sboff for a in common]
    vc = Verifier(verifier_bin, work, "verifier-inventory", vc_common)
    verifiers.append(vc)
    common += ["--ek-trust", "ca-only"]
    va = Verifier(verifier_bin, work, "verifier-a", common)
    verifiers.append(va)
    # A second replica: same secret, short-lived challenges.
    vb = Verifier(verifier_bin, work, "verifier-b", common + ["--challenge-lifetime", "5"])
    verifiers.append(vb)
    client.url = va.url

    def boot(tpm, ext=good_ext):
        """A fresh boot: power cycle, TPM2_Startup, the firmware's extensions."""
        tpm.power_cycle()
        r = client(tpm, "startup")
        if r.returncode != 0:
            raise RuntimeError("startup failed: " + show(r))
        r = client(tpm, "extend-log", ext)
        if r.returncode != 0:
            raise RuntimeError("extend-log failed: " + show(r))

    def issued_ok(r, what):
        tid = Client.field(r.stdout, "token_id")
        sha = Client.field(r.stdout.split("unsealed:", 1)[-1], "sha256")
        token = token_sha.get(sha or "")
        ok = r.returncode == 0 and token is not None and token.split(".")[0] == tid
        f.check(ok, what + ": the token unsealed inside swtpm is a pool token, id " + str(tid),
                show(r))
        return token

    def leftovers(tpm):
        """Transient objects and sessions still loaded in the TPM (tpm2-tools' own view)."""
        out = ""
        for cap in ("handles-transient", "handles-loaded-session"):
            r = run(["tpm2_getcap", "-T", "device:" + tpm.path, cap])
            out += r.stdout + (r.stderr if r.returncode else "")
        return out.strip()

    def pool_used(token):
        """Used and gone from the disk: the line is overwritten whole, the record hides it."""
        with open(pool) as fp:
            text = fp.read()
        with open(pool + ".issued") as fp:
            record = fp.read()
        return token[7:] not in text and token[7:] not in record and token not in record

    def pool_unused():
        with open(pool) as fp:
            return sum(1 for line in fp if line.strip() and not line.startswith("#"))

    def audited(token_id, hostname):
        return any(a.get("decision") == "issued" and a.get("token_id") == token_id and
                   a.get("reason") == "ok" and a.get("node", {}).get("hostname") == hostname
                   for a in audit_lines(audit))

    # ---- 1. happy path, P-256 EK by the allowlist ---------------------------------------
    boot(tpm_a)
    r = client(tpm_a, "attest", "--event-log", good_log, "--ek", "ecc256", "--unseal",
               "--hostname", "node-a", "--save-challenge", os.path.join(work, "old-challenge"))
    token = issued_ok(r, "happy path, ECC P-256 EK on the allowlist")
    timing = re.search(r"^timing: .*$", r.stdout, re.M)
    if token:
        f.check(pool_used(token), "the pool marks the issued token used")
        f.check(audited(token.split(".")[0], "node-a"),
                "the audit log has an 'issued' line with that token id and hostname")
        f.check(all(token not in line for line in open(audit)),
                "the audit log never holds the token's secret half")
    f.check("cap: PCR 15 extended with \"nodegate: token released\"" in r.stdout,
            "the client caps PCR 15 after Unseal", show(r))
    f.check(leftovers(tpm_a) == "", "no transient object or session is left in the TPM",
            leftovers(tpm_a))
    if timing:
        print("      one full attestation (P-256, ASan client and verifier): " +
              timing.group(0)[len("timing: "):])

    # Attesting again in the same boot: PCR 15 now holds the cap, not the log's value.
    r = client(tpm_a, "attest", "--event-log", good_log, "--ek", "ecc256")
    f.check(r.returncode == EXIT_REJECTED and rejection(r)[0] == "already-attested" and
            detail(r, "pcr") == "15",
            "a second attestation after the cap is refused: already-attested, PCR 15", show(r))

    # reattest-after-cap (issue 11): root in the booted system recreates EK and AK, and sends
    # the log with the cap event appended, so the replay matches the capped PCR 15.
    def pool_left():
        with open(pool) as fp:
            return sum(1 for line in fp if line.strip() and not line.startswith("#"))
    left = pool_left()
    r = client(tpm_a, "attest", "--event-log", good_log, "--ek", "ecc256", "--append-cap-event",
               "--unseal", "--no-cap", "--hostname", "node-a-root")
    f.check(r.returncode == EXIT_REJECTED and rejection(r)[0] == "already-attested" and
            detail(r, "pcr") == "15" and "issued:" not in r.stdout and
            "unsealed:" not in r.stdout,
            "reattest-after-cap: a log claiming the cap is refused: already-attested, PCR 15, "
            "nothing issued or unsealed", show(r))
    f.check(pool_left() == left, "reattest-after-cap: no token left the pool",
            "%d before, %d after" % (left, pool_left()))
    f.check(any(a.get("decision") == "rejected" and a.get("reason") == "already-attested" and
                a.get("node", {}).get("hostname") == "node-a-root" and not a.get("token_id")
                for a in audit_lines(audit)),
            "reattest-after-cap: audited as rejected, already-attested, without a token id")

    # ---- 1c. firmware that steers the judged PCRs (issue 11 §3) ---------------------------
    boot(tpm_a, drv_ext)
    r = client(tpm_a, "attest", "--event-log", drv_log, "--ek", "ecc256", "--unseal",
               "--hostname", "node-driver")
    evil = [e for e in drv["extensions"] if e["pcr"] == 2 and
            e["type"] == "EV_EFI_BOOT_SERVICES_DRIVER"][-1]
    f.check(r.returncode == EXIT_REJECTED and rejection(r)[0] == "event-not-allowed" and
            detail(r, "pcr") == "2" and detail(r, "digest") == evil["sha256"] and
            "unsealed:" not in r.stdout,
            "driver-via-driver####: a DXE driver from the ESP is refused by the default policy: "
            "event-not-allowed, PCR 2, its digest; no token", show(r))
    boot(tpm_a, sboff_ext)
    r = client(tpm_a, "attest", "--event-log", sboff_log, "--ek", "ecc256", "--unseal",
               "--hostname", "node-sb-off")
    f.check(r.returncode == EXIT_REJECTED and rejection(r)[0] == "event-not-allowed" and
            detail(r, "pcr") == "7" and "unsealed:" not in r.stdout,
            "secure-boot-off: the same platform with Secure Boot off is refused by the default "
            "policy: event-not-allowed, PCR 7; no token", show(r))
    # The opt-in, written down: the inventory verifier's policy allows secure-boot-off.
    r = client(tpm_a, "attest", "--event-log", sboff_log, "--ek", "ecc256", "--unseal",
               "--hostname", "node-sb-off-allowed", url=vc.url)
    token = issued_ok(r, "Secure Boot off, the policy allowing secure-boot-off, EK enrolled")
    f.check(any(a.get("decision") == "issued" and
                a.get("node", {}).get("hostname") == "node-sb-off-allowed" and
                a.get("opt_ins") == ["secure-boot-off"] for a in audit_lines(audit)),
            "the audit line of that token names the opt-in in force: opt_ins [secure-boot-off]")
    f.check(all(a.get("opt_ins") == [] for a in audit_lines(audit)
                if a.get("decision") == "issued" and
                a.get("node", {}).get("hostname") != "node-sb-off-allowed"),
            "issued lines under the default policy say opt_ins []")
    boot(tpm_b, sboff_ext)
    r = client(tpm_b, "attest", "--event-log", sboff_log, url=vc.url)
    f.check(r.returncode == EXIT_REJECTED and rejection(r)[0] == "ek-unknown" and
            "not enrolled" in rejection(r)[1],
            "ca-trust-alone: a TPM the CA certified but not enrolled is ek-unknown by default",
            show(r))

    # ---- 2. happy path, certified EKs by the CA chain, round 2 on another replica --------
    boot(tpm_b)
    r = client(tpm_b, "attest", "--event-log", good_log, "--unseal", "--hostname", "node-b",
               "--attest-url", vb.url)
    f.check("ek: ecc384, certificate present" in r.stdout, "tpm-b attests with its P-384 EK",
            show(r))
    issued_ok(r, "happy path, certified ECC P-384 EK (CA chain), round 2 on a second replica")
    boot(tpm_b)
    r = client(tpm_b, "attest", "--event-log", good_log, "--ek", "rsa2048", "--unseal",
               "--hostname", "node-b")
    issued_ok(r, "happy path, certified RSA 2048 EK (CA chain)")

    # ---- 3. PCR state differs from the policy --------------------------------------------
    boot(tpm_a, bad_ext)
    r = client(tpm_a, "attest", "--event-log", bad_log, "--ek", "ecc256")
    uki = [e for e in bad["extensions"] if e["pcr"] == 4 and
           e["type"] == "EV_EFI_BOOT_SERVICES_APPLICATION"][0]
    err, msg = rejection(r)
    f.check(r.returncode == EXIT_REJECTED and err == "event-not-allowed" and
            detail(r, "pcr") == "4" and detail(r, "digest") == uki["sha256"] and
            detail(r, "event") == str(uki["index"]),
            "another UKI: event-not-allowed naming PCR 4, event %d and its digest" % uki["index"],
            show(r))

    # ---- 4. log edited to match the policy, not the quote --------------------------------
    r = client(tpm_a, "attest", "--event-log", bad_log, "--log-override", good_log, "--ek",
               "ecc256")
    f.check(r.returncode == EXIT_REJECTED and rejection(r)[0] == "pcr-mismatch" and
            detail(r, "pcr") == "4",
            "the approved log sent for a boot of another UKI: pcr-mismatch on PCR 4", show(r))

    # ---- 5. stale and foreign nonces -----------------------------------------------------
    boot(tpm_a)
    stale = os.path.join(work, "stale-challenge")
    r = client(tpm_a, "attest", "--event-log", good_log, "--ek", "ecc256", "--delay", "7",
               "--save-challenge", stale, url=vb.url)
    f.check(r.returncode == EXIT_REJECTED and rejection(r)[0] == "challenge-expired",
            "round 2 after the challenge's 5 s lifetime: challenge-expired", show(r))
    # The whole old answer replayed (its credential still activates: same EK, same AK) to the
    # replica that did not issue it: the expiry is in the MAC'ed challenge, not in a replica.
    r = client(tpm_a, "attest", "--event-log", good_log, "--ek", "ecc256", "--challenge-from",
               stale)
    f.check(r.returncode == EXIT_REJECTED and rejection(r)[0] == "challenge-expired",
            "an expired challenge replayed whole to the other replica: challenge-expired",
            show(r))
    r = client(tpm_a, "attest", "--event-log", good_log, "--ek", "ecc256", "--nonce-from",
               os.path.join(work, "old-challenge"))
    f.check(r.returncode == EXIT_REJECTED and rejection(r)[0] == "quote-nonce",
            "a quote over another challenge's nonce: quote-nonce", show(r))

    # ---- 6. AK not bound to the EK -------------------------------------------------------
    boot(tpm_other)
    r = client(tpm_a, "attest", "--event-log", good_log, "--ek", "ecc256", "--foreign-ak-tpm",
               tpm_other.path)
    f.check(r.returncode == EXIT_REJECTED and rejection(r)[0] == "ak-not-bound",
            "an AK from a second swtpm: ak-not-bound", show(r))

    # ---- 7. unknown EK, untrusted EK CA --------------------------------------------------
    boot(tpm_plain)
    r = client(tpm_plain, "attest", "--event-log", good_log)
    f.check(r.returncode == EXIT_REJECTED and rejection(r)[0] == "ek-unknown",
            "an EK without certificate, not on the allowlist: ek-unknown", show(r))
    boot(tpm_rogue)
    r = client(tpm_rogue, "attest", "--event-log", good_log)
    f.check(r.returncode == EXIT_REJECTED and rejection(r)[0] == "ek-certificate-untrusted",
            "an EK certificate from another CA: ek-certificate-untrusted", show(r))

    # ---- 8. blobs replayed ---------------------------------------------------------------
    boot(tpm_a)
    answer = os.path.join(work, "answer-pcr")
    r = client(tpm_a, "attest", "--event-log", good_log, "--ek", "ecc256", "--save-answer",
               answer)
    f.check(r.returncode == 0 and "issued:" in r.stdout, "an answer saved without unsealing",
            show(r))
    r = client(tpm_a, "extend", "9", "a later measurement")
    r = client(tpm_a, "unseal", answer, "--ek", "ecc256", "--no-cap")
    f.check(r.returncode == EXIT_TPM and "TPM2_Unseal" in r.stdout and
            "policy check failed" in r.stdout,
            "the blob in another PCR state: TPM2_Unseal refuses (PolicyPCR)", show(r))

    boot(tpm_a)
    answer = os.path.join(work, "answer-reset")
    r = client(tpm_a, "attest", "--event-log", good_log, "--ek", "ecc256", "--save-answer",
               answer)
    before = client(tpm_a, "pcrread", "0,1,2,3,4,5,6,7,9,11,15").stdout
    boot(tpm_a)  # a reboot into the very same state
    after = client(tpm_a, "pcrread", "0,1,2,3,4,5,6,7,9,11,15").stdout
    pcr_lines = lambda s: [x for x in s.splitlines() if re.match(r"\d+: ", x)]  # noqa: E731
    f.check(r.returncode == 0 and pcr_lines(before) == pcr_lines(after) and
            Client.field(before.replace(": ", "="), "reset_count") !=
            Client.field(after.replace(": ", "="), "reset_count"),
            "after a reset the PCRs are the same, resetCount is not", before + after)
    r = client(tpm_a, "unseal", answer, "--ek", "ecc256", "--no-cap")
    f.check(r.returncode == EXIT_TPM and "PolicyCounterTimer" in r.stdout,
            "the blob after a reset: refused by PolicyCounterTimer(resetCount)", show(r))
    f.check(leftovers(tpm_a) == "", "nor after a failed unseal", leftovers(tpm_a))

    boot(tpm_a)
    answer = os.path.join(work, "answer-cap")
    r = client(tpm_a, "attest", "--event-log", good_log, "--ek", "ecc256", "--save-answer",
               answer, "--unseal")
    issued_ok(r, "unseal and cap")
    r = client(tpm_a, "unseal", answer, "--ek", "ecc256", "--no-cap")
    f.check(r.returncode == EXIT_TPM and "policy check failed" in r.stdout,
            "the same blob after the cap: TPM2_Unseal refuses", show(r))

    # ---- 8b. one token per boot: round 2 replayed, to this replica and another ------------
    # The attacker holds a recorded round-2 body (it carries the credential secret) and sends
    # it again while the challenge lives. Before: a new token from the source every time.
    boot(tpm_a)
    request = os.path.join(work, "round2-request.json")
    unused = pool_unused()
    r = client(tpm_a, "attest", "--event-log", good_log, "--ek", "ecc256", "--save-request",
               request, "--hostname", "node-replayed")
    first_id = Client.field(r.stdout, "token_id")
    f.check(r.returncode == 0 and first_id and os.path.exists(request),
            "replay: the round-2 body of an issued attestation is recorded", show(r))
    with open(request, "rb") as fp:
        body = fp.read()
    ids = []
    for n, v in enumerate((va, va, vb)):
        st, doc = https_post(v.port, tls_ca, "/v2/attest", body)
        ids.append(doc.get("token_id") if st == 200 and doc else "%s %s" % (st, doc))
    f.check(ids == [first_id] * 3,
            "replay: the same round 2 three times (twice here, once to the other replica) "
            "gets the same token id %s each time" % first_id, "ids: %s" % ids)
    f.check(pool_unused() == unused - 1,
            "replay: one token drawn from the pool for the boot, not four",
            "unused before %d, after %d" % (unused, pool_unused()))
    decisions = [a.get("decision") for a in audit_lines(audit)
                 if a.get("node", {}).get("hostname") == "node-replayed" and
                 a.get("endpoint") == "attest"]
    f.check(decisions == ["issued", "reissued", "reissued", "reissued"],
            "replay: the audit log has one 'issued' and three 'reissued' for the boot",
            "decisions: %s" % decisions)
    # A new attestation of the same boot (a retry, or root after switch_root when the cap
    # check is not reached): its token again, never a second one.
    r = client(tpm_a, "attest", "--event-log", good_log, "--ek", "ecc256", "--unseal",
               "--no-cap", "--hostname", "node-replayed")
    tok = issued_ok(r, "the same boot attesting again")
    f.check(tok is not None and tok.split(".")[0] == first_id and pool_unused() == unused - 1,
            "the same boot attesting again gets the same token, and the pool loses none",
            show(r))
    # The per-EK bound: a replayed body answered at most 16 times in a row.
    statuses = [https_post(va.port, tls_ca, "/v2/attest", body)[0] for _ in range(20)]
    f.check(429 in statuses and statuses.count(200) <= 16 and
            statuses[statuses.index(429):] == [429] * (20 - statuses.index(429)),
            "replay: round 2 of one EK is rate-limited (429) after a burst",
            "statuses: %s" % statuses)

    # The exec source: the hook is given the boot's token ({token}) and run once per boot on a
    # replica; it treats a token that already exists as success (the docs' hook does too).
    hook = os.path.join(work, "token-hook.sh")
    hook_calls = os.path.join(work, "token-hook.calls")
    created = os.path.join(work, "token-hook.created")
    with open(hook, "w") as fp:
        fp.write("#!/bin/sh\n# stand-in for: kubeadm token create TOKEN --ttl 15m\n"
                 "echo \"$1 $2\" >> %s\n"
                 "grep -qx \"$1\" %s 2>/dev/null && exit 0\n"
                 "echo \"$1\" >> %s\n" % (hook_calls, created, created))
    os.chmod(hook, 0o755)
    exec_common = [a if a != "pool:" + pool else "exec:%s {token} {node}" % hook
                   for a in common]
    exec_common[exec_common.index(audit)] = os.path.join(work, "audit-exec.jsonl")
    vc = Verifier(verifier_bin, work, "verifier-exec", exec_common)
    verifiers.append(vc)
    vd = Verifier(verifier_bin, work, "verifier-exec-2", exec_common)
    verifiers.append(vd)
    boot(tpm_b)
    r = client(tpm_b, "attest", "--event-log", good_log, "--save-request", request, "--unseal",
               "--hostname", "node-exec", url=vc.url)
    exec_id = Client.field(r.stdout, "token_id")
    unsealed = Client.field(r.stdout.split("unsealed:", 1)[-1], "sha256")
    with open(request, "rb") as fp:
        body = fp.read()
    replies = [https_post(v.port, tls_ca, "/v2/attest", body) for v in (vc, vc, vc, vd)]
    with open(hook_calls) as fp:
        calls = fp.read().splitlines()
    with open(created) as fp:
        made = fp.read().split()
    f.check(r.returncode == 0 and len(made) == 1 and
            hashlib.sha256(made[0].encode()).hexdigest() == unsealed and
            made[0].startswith(exec_id + "."),
            "exec: the token unsealed inside swtpm is the one the hook was given", show(r))
    f.check([st for st, _ in replies] == [200] * 4 and
            all(doc.get("token_id") == exec_id for _, doc in replies),
            "exec: three replays here and one to another replica: the same token id",
            "%s" % [(st, doc and doc.get("token_id")) for st, doc in replies])
    f.check(len(calls) == 2 and calls[0] == calls[1] and calls[0].endswith(" node-exec"),
            "exec: the hook ran once on each replica (2 runs for 5 answers), with the same "
            "token and the node's name", "calls: %d" % len(calls))

    # ---- 8c. H-CRTM firmware: PCR 0 starts at 4 ------------------------------------------
    # swtpm_ioctl -h is _TPM_Hash_Start/Data/End after TPM_Init and before TPM2_Startup, as an
    # H-CRTM platform does: PCR 0 = 0…04 extended with the H-CRTM digest, which the log shows
    # as PCR 0's first event, EV_EFI_HCRTM_EVENT. Refused with pcr-mismatch on PCR 0 before
    # the verifier knew the rule.
    hcrtm_data = "nodegate test H-CRTM"
    hcrtm_log, hcrtm_ext, _ = extensions(work, "hcrtm", hcrtm=hcrtm_data, secure_boot=True)

    def boot_hcrtm(tpm, ext):
        tpm.power_cycle()
        must(["swtpm_ioctl", "--unix", tpm.ctrl, "-h", hcrtm_data])
        r = client(tpm, "startup")
        if r.returncode != 0:
            raise RuntimeError("startup failed: " + show(r))
        r = client(tpm, "extend-log", ext)
        if r.returncode != 0:
            raise RuntimeError("extend-log failed: " + show(r))

    boot_hcrtm(tpm_b, hcrtm_ext)
    r = client(tpm_b, "attest", "--event-log", hcrtm_log, "--unseal", "--hostname", "node-hcrtm")
    issued_ok(r, "H-CRTM platform: PCR 0 replayed from 4, EV_EFI_HCRTM_EVENT first")
    # The same log from a TPM that never ran the H-CRTM sequence, and a log without the
    # H-CRTM event from one that did: PCR 0 differs both ways.
    boot(tpm_b, good_ext)
    r = client(tpm_b, "attest", "--event-log", hcrtm_log)
    f.check(r.returncode == EXIT_REJECTED and rejection(r)[0] == "pcr-mismatch" and
            detail(r, "pcr") == "0",
            "an H-CRTM log from a TPM started without H-CRTM: pcr-mismatch on PCR 0", show(r))
    boot_hcrtm(tpm_b, good_ext)
    r = client(tpm_b, "attest", "--event-log", good_log)
    f.check(r.returncode == EXIT_REJECTED and rejection(r)[0] == "pcr-mismatch" and
            detail(r, "pcr") == "0",
            "a log without the H-CRTM event from an H-CRTM TPM: pcr-mismatch on PCR 0", show(r))

    # ---- 9. hostile bodies; the verifier keeps serving ------------------------------------
    port = va.port
    st, doc = https_post(port, tls_ca, "/v2/attest", b"this is not json")
    f.check(st == 400 and doc and doc.get("error") == "bad-request", "not JSON: 400 bad-request",
            "%s %s" % (st, doc))
    with open(os.path.join(work, "old-challenge")) as fp:
        chall = json.load(fp)
    body = json.dumps({"version": 2, "challenge": chall["challenge"]}).encode()
    st, doc = https_post(port, tls_ca, "/v2/attest", body[: len(body) // 2])
    f.check(st == 400 and doc and doc.get("error") == "bad-request", "truncated JSON: 400",
            "%s %s" % (st, doc))
    st, doc = https_post(port, tls_ca, "/v2/attest", body)
    f.check(st == 400 and doc and doc.get("error") == "missing-field",
            "an attest body without most fields: 400 missing-field", "%s %s" % (st, doc))
    st, doc = https_post(port, tls_ca, "/v2/challenge", b"{\"version\": 2, \"ek_public\": \"@@\"}")
    f.check(st == 400 and doc and doc.get("error") in ("bad-request", "missing-field"),
            "bad base64: 400", "%s %s" % (st, doc))
    # Above 1 MiB: refused on the Content-Length alone, before any of the body is read.
    raw = https_raw(port, tls_ca, b"POST /v2/attest HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                    b"Content-Type: application/json\r\nContent-Length: 1048577\r\n\r\n")
    head, _, payload = raw.partition(b"\r\n\r\n")
    try:
        doc = json.loads(payload)
    except ValueError:
        doc = None
    f.check(head.startswith(b"HTTP/1.1 413") and doc and doc.get("error") == "body-too-large",
            "a Content-Length above 1 MiB: 413 body-too-large", raw[:400].decode("latin-1"))
    # The same with the body sent, and chunked without a length: whatever the answer, the
    # service must survive (checked below).
    big = b"{\"version\":2,\"event_log\":\"" + b"A" * (1024 * 1024) + b"\"}"
    try:
        https_post(port, tls_ca, "/v2/attest", big)
    except (ConnectionError, ssl.SSLError, OSError):
        pass  # the server may answer 413 and close before the whole body is sent
    chunk = b"8000\r\n" + b"A" * 0x8000 + b"\r\n"
    try:
        https_raw(port, tls_ca, b"POST /v2/attest HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: "
                  b"application/json\r\nTransfer-Encoding: chunked\r\n\r\n" + chunk * 40)
    except (ConnectionError, ssl.SSLError, OSError):
        pass
    st, doc = https_post(port, tls_ca, "/v2/attest", b"{}", content_type="text/plain")
    f.check(st == 415, "text/plain: 415", "%s %s" % (st, doc))
    # A body shorter than its Content-Length, then the connection closes under the server.
    https_raw(port, tls_ca, b"POST /v2/attest HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: "
              b"application/json\r\nContent-Length: 5000\r\n\r\n{\"version\":", read=False)
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(b"POST /v2/attest HTTP/1.1\r\n\r\n")  # plaintext to a TLS port
    st, data = https_get(port, tls_ca, "/healthz")
    f.check(va.alive() and st == 200, "after all that the verifier is up: /healthz 200",
            "%s %s" % (st, data))
    ek_b64 = base64.b64encode(open(ek_a, "rb").read()).decode()
    ak_pub = os.path.join(work, "ak-a.pub")
    client(tpm_a, "ak", ak_pub)
    ak_b64 = base64.b64encode(open(ak_pub, "rb").read()).decode()
    st, doc = https_post(port, tls_ca, "/v2/challenge",
                         json.dumps({"version": 2, "ek_public": ek_b64, "ak_public": ak_b64}))
    f.check(st == 200 and doc and len(doc.get("challenge", "")) == 132,
            "and it still answers a valid challenge request", "%s %s" % (st, doc))

    # ---- the record of it all -----------------------------------------------------------
    reasons = {a.get("reason") for a in audit_lines(audit) if a.get("decision") == "rejected"}
    expected = {"event-not-allowed", "pcr-mismatch", "challenge-expired", "quote-nonce",
                "already-attested",
                "ak-not-bound", "ek-unknown", "ek-certificate-untrusted"}
    f.check(expected <= reasons, "every refusal is in the audit log with its reason",
            "missing: %s" % sorted(expected - reasons))
    f.check(not client.sanitizer_reports, "node-client ran without sanitizer reports",
            "\n".join(client.sanitizer_reports))

    # ---- the verifier under ASan ---------------------------------------------------------
    for v in list(verifiers):
        code = v.stop()
        verifiers.remove(v)
        err = v.stderr()
        f.check(code == 0 and "ERROR: AddressSanitizer" not in err and
                "runtime error" not in err and "LeakSanitizer" not in err,
                "verifier %s exits 0 on SIGTERM without sanitizer reports" % os.path.basename(v.log).split(".")[0],
                err[-3000:])
    return 1 if f.failed else 0


if __name__ == "__main__":
    sys.exit(main())
