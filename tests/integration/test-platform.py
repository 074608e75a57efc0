#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
# The gate's Azure CVM path against a real swtpm (issue 13): NV 0x01400001 holds kinvolk's real
# 2048-byte HCL report (swtpm caps an NV index at 2048 bytes: the 2600-byte reports of newer
# hosts do not fit), 0x81000003 an RSA restricted signing key in place of the paravisor's HCL
# AK. The static gate must detect Azure by itself, write the platform binding P
# (docs/PROTOCOL.md) to NV 0x01400002 (redefining it when it has another size), and read the
# report back, byte for byte, in chunks of the TPM's NV buffer. swtpm has no paravisor, so the
# report never carries P as user-data: the gate says so and sends it anyway (the verifier
# refuses it, hcl-user-data-mismatch). Without the HCL AK the boot stops, platform-evidence. On
# Azure TDX the gate asks the metadata service for the TD quote; none answers here.
import hashlib
import os
import pty
import re
import shutil
import subprocess
import sys
import tempfile
import tty

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tools"))
from cvm_synth import SwtpmTools as Tools  # noqa: E402
FIXTURE = os.path.join(HERE, "..", "fixtures", "cvm", "azure-snp",
                       "kinvolk-hcl-report-snp.bin")
CA = os.path.join(HERE, "..", "fixtures", "cvm", "roots", "gtg-intel-sgx-root-ca.pem")
ROOTHASH = "4bd1d62e0d0bb3d8c0d9a5ad7b0bd5a3c8a8b76b1b3a8a0f32a5a4d3c7f2e1a0"
REPORT, USER_DATA, HCL_AK = "0x01400001", "0x01400002", "0x81000003"
failures = 0


def check(ok, what):
    global failures
    print(("ok    " if ok else "FAIL  ") + what)
    failures += not ok


class Pty:
    """swtpm on a pty, which the gate opens as if it were /dev/tpm0 (test-tpm-info.py)."""

    def __init__(self, state):
        self.state = state

    def __enter__(self):
        self.master, self.slave = pty.openpty()
        tty.setraw(self.slave)
        self.swtpm = subprocess.Popen(
            ["swtpm", "chardev", "--tpm2", "--fd", str(self.master), "--tpmstate",
             "dir=" + self.state, "--flags", "startup-clear"], pass_fds=[self.master])
        self.path = os.ttyname(self.slave)
        return self

    def __exit__(self, *exc):
        self.swtpm.terminate()
        self.swtpm.wait(timeout=10)
        os.close(self.master)
        os.close(self.slave)


def name(public):
    """TPM name of a marshalled TPM2B_PUBLIC: nameAlg || H(TPMT_PUBLIC)."""
    alg = int.from_bytes(public[4:6], "big")
    h = {0x0B: hashlib.sha256, 0x0C: hashlib.sha384, 0x0D: hashlib.sha512}[alg]
    return public[4:6] + h(public[2:]).digest()


def field(out, key):
    m = re.search(r"^%s: ([0-9a-f]+)$" % key, out, re.M)
    return bytes.fromhex(m.group(1)) if m else b""


def setup(state, with_ak=True, user_data_size=None):
    subprocess.run(["swtpm_setup", "--tpm2", "--tpmstate", state, "--createek", "--overwrite"],
                   check=True, stdout=subprocess.DEVNULL)
    report = open(FIXTURE, "rb").read()
    with Tools(state) as t:
        t.run("tpm2_nvdefine", REPORT, "-C", "o", "-s", str(len(report)), "-a",
              "ownerread|ownerwrite|authread|authwrite")
        t.run("tpm2_nvwrite", REPORT, "-C", "o", "-i", FIXTURE)
        if user_data_size:
            t.run("tpm2_nvdefine", USER_DATA, "-C", "o", "-s", str(user_data_size), "-a",
                  "ownerread|ownerwrite")
        if with_ak:
            ctx = os.path.join(state, "ak.ctx")
            t.run("tpm2_createprimary", "-C", "e", "-G", "rsa2048:rsassa-sha256:null", "-a",
                  "fixedtpm|fixedparent|sensitivedataorigin|userwithauth|restricted|sign",
                  "-c", ctx)
            t.run("tpm2_evictcontrol", "-C", "o", "-c", ctx, HCL_AK)
    return report


def main():
    gate = sys.argv[1]
    for tool in ("swtpm", "swtpm_setup", "swtpm_ioctl", "tpm2_nvdefine", "tpm2_evictcontrol",
                 "unshare"):
        if not shutil.which(tool):
            print("SKIP: %s is not installed" % tool)
            return 77
    report = open(FIXTURE, "rb").read()
    print("fixture %s: %d bytes (swtpm's NV index limit is 2048)" % (
        os.path.basename(FIXTURE), len(report)))
    challenge = bytes((i * 7 + 3) & 0xFF for i in range(98))

    # 1. Detection, binding, the report in chunks. 0x01400002 exists with another size first.
    with tempfile.TemporaryDirectory(prefix="nodegate-platform-") as state:
        setup(state, user_data_size=32)
        out = os.path.join(state, "evidence.bin")
        with Pty(state) as tpm:
            r = subprocess.run([gate, "--platform-evidence", tpm.path, challenge.hex(), out],
                               capture_output=True, text=True, timeout=120)
        print(r.stdout + r.stderr, end="")
        check(r.returncode == 0, "--platform-evidence exits 0")
        check(re.search(r"^platform: azure-snp \(the vTPM has the Azure paravisor's report "
                        r"index 0x01400001 \(2048 bytes\)\)$", r.stdout, re.M) is not None,
              "Azure detected by itself from NV 0x01400001")
        got = open(out, "rb").read() if os.path.exists(out) else b""
        check(got == report, "the report read back equals the fixture, all %d bytes" %
              len(report))
        check("nv chunk: 1024 bytes" in r.stdout,
              "read in chunks of swtpm's TPM2_PT_NV_BUFFER_MAX (1024: two reads)")
        check("does NOT carry the binding" in r.stdout,
              "a report without the binding as user-data is called out (no paravisor here)")
        ek, ak, binding = (field(r.stdout, k) for k in ("ek_public", "ak_public", "binding"))
        want = hashlib.sha512(b"nodegate platform v3\0" + challenge + name(ek) + name(ak))
        check(ek[2:4] == b"\x00\x01" and ak[2:4] == b"\x00\x01",
              "on Azure the EK is RSA 2048 (L-1, as HCLEkPub) and the AK the RSA HCL AK")
        check(len(binding) == 64 and binding == want.digest(),
              "P = SHA-512(label || challenge || EK name || AK name), recomputed in Python")
        with Tools(state) as t:
            ak_pub = os.path.join(state, "ak.pub")
            t.run("tpm2_readpublic", "-c", HCL_AK, "-f", "tpmt", "-o", ak_pub)
            check(ak[2:] == open(ak_pub, "rb").read(), "the AK is the persistent HCL AK")
            pub = t.run("tpm2_nvreadpublic", USER_DATA).stdout.decode()
            nv = os.path.join(state, "user-data.bin")
            t.run("tpm2_nvread", USER_DATA, "-C", "o", "-o", nv)
            check(open(nv, "rb").read() == want.digest(),
                  "NV 0x01400002 holds P after the gate ran")
            check("size: 64" in pub and all(a in pub for a in (
                "ownerwrite", "ownerread", "authwrite", "authread")),
                "NV 0x01400002 redefined: 64 bytes, owner and auth read/write")

    # 2. The boot path: Azure found without nodegate.platform=, the HCL AK missing: stop.
    with tempfile.TemporaryDirectory(prefix="nodegate-platform-") as state:
        setup(state, with_ak=False)
        root = os.path.join(state, "root")
        os.makedirs(os.path.join(root, "proc"))
        os.makedirs(os.path.join(root, "etc/nodegate"))
        shutil.copy(CA, os.path.join(root, "etc/nodegate/ca.pem"))
        with Pty(state) as tpm:
            with open(os.path.join(root, "proc/cmdline"), "w") as f:
                f.write("roothash=%s nodegate.url=https://127.0.0.1:9 nodegate.timeout=10 "
                        "nodegate.on_failure=poweroff nodegate.tpm=%s\n" % (ROOTHASH, tpm.path))
            r = subprocess.run([gate, "--attest-only", root], capture_output=True, text=True,
                               timeout=120)
        console = r.stdout + r.stderr
        print(console, end="")
        check(r.returncode != 0 and "FAILED platform-evidence" in console,
              "no HCL AK at 0x81000003 on an Azure vTPM: FAILED platform-evidence")
        check("0x81000003" in console, "the message names the missing handle")
        check("bootstrap-kubelet.conf" not in os.listdir(os.path.join(root, "run"))
              if os.path.isdir(os.path.join(root, "run")) else True, "no kubeconfig")

    # 3. nodegate.platform=none on the same TPM: no evidence, the gate's own AK (version 2).
    with tempfile.TemporaryDirectory(prefix="nodegate-platform-") as state:
        setup(state, with_ak=False)
        root = os.path.join(state, "root")
        os.makedirs(os.path.join(root, "proc"))
        os.makedirs(os.path.join(root, "etc/nodegate"))
        shutil.copy(CA, os.path.join(root, "etc/nodegate/ca.pem"))
        with Pty(state) as tpm:
            with open(os.path.join(root, "proc/cmdline"), "w") as f:
                f.write("roothash=%s nodegate.url=https://127.0.0.1:9 nodegate.timeout=6 "
                        "nodegate.on_failure=poweroff nodegate.tpm=%s nodegate.platform=none\n"
                        % (ROOTHASH, tpm.path))
            r = subprocess.run([gate, "--attest-only", root], capture_output=True, text=True,
                               timeout=120)
        console = r.stdout + r.stderr
        print(console, end="")
        check("platform: none (set by nodegate.platform=none)" in console and
              "AK created" in console and "platform-evidence" not in console,
              "nodegate.platform=none overrides the detection: own AK, no evidence")

    # 4. Azure TDX: the same index with a TDREPORT inside. kinvolk's TDX report is 2600 bytes,
    # more than swtpm's 2048: derived here, its claims cut to fit (header sizes adjusted). The
    # gate uses the HCL AK as on Azure SNP and then asks the metadata service for the TD quote;
    # in a network namespace of its own (unshare --net: no route anywhere) nothing answers, and
    # the gate says so (imds-unreachable). The whole Azure TDX path, with a fake IMDS and the
    # verifier, is tests/integration/test-gate-azure-tdx.py.
    tdx = bytearray(open(os.path.join(HERE, "..", "fixtures", "cvm", "azure-tdx",
                                      "kinvolk-hcl-report-tdx.bin"), "rb").read())
    claims = 400
    tdx[0x4C0:0x4C4] = (claims + 20).to_bytes(4, "little")
    tdx[0x4D0:0x4D4] = claims.to_bytes(4, "little")
    tdx = bytes(tdx[:2048])
    with tempfile.TemporaryDirectory(prefix="nodegate-platform-") as state:
        derived = os.path.join(state, "tdx-hcl.bin")
        with open(derived, "wb") as f:
            f.write(tdx)
        subprocess.run(["swtpm_setup", "--tpm2", "--tpmstate", state, "--createek",
                        "--overwrite"], check=True, stdout=subprocess.DEVNULL)
        with Tools(state) as t:
            t.run("tpm2_nvdefine", REPORT, "-C", "o", "-s", "2048", "-a",
                  "ownerread|ownerwrite|authread|authwrite")
            t.run("tpm2_nvwrite", REPORT, "-C", "o", "-i", derived)
            ctx = os.path.join(state, "ak.ctx")
            t.run("tpm2_createprimary", "-C", "e", "-G", "rsa2048:rsassa-sha256:null", "-a",
                  "fixedtpm|fixedparent|sensitivedataorigin|userwithauth|restricted|sign",
                  "-c", ctx)
            t.run("tpm2_evictcontrol", "-C", "o", "-c", ctx, HCL_AK)
        out = os.path.join(state, "evidence.bin")
        unshare = ["unshare", "--net"] if os.geteuid() == 0 else ["unshare", "-r", "--net"]
        with Pty(state) as tpm:
            r = subprocess.run(unshare + [gate, "--platform-evidence", tpm.path, challenge.hex(),
                                          out], capture_output=True, text=True, timeout=120)
        print(r.stdout + r.stderr, end="")
        check("platform: azure-tdx (the vTPM's Azure report index 0x01400001 holds a TDX "
              "report)" in r.stdout, "Azure TDX: detected as azure-tdx")
        ek, ak = (field(r.stdout, k) for k in ("ek_public", "ak_public"))
        check(ek[2:4] == b"\x00\x01" and ak[2:4] == b"\x00\x01",
              "Azure TDX: the RSA 2048 EK and the RSA HCL AK, as on Azure SNP")
        check(r.returncode == 1 and "imds-unreachable: IMDS http://169.254.169.254/acc/tdquote: "
              "cannot connect" in r.stderr and not os.path.exists(out),
              "Azure TDX without a metadata service: imds-unreachable, the URL named, no "
              "evidence written")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
