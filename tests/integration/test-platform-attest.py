#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Protocol version 3's platform evidence end to end (issue 13): the ASan verifier serves HTTPS
on 127.0.0.1 with a policy that requires SEV-SNP, and the software node of
test-verifier-service.py (software EK and AK) sends synthetic but well-formed SNP reports in
round 2. No real AMD key signs our binding, so the test makes its own AMD-shaped chain
(tests/tools/cvm_synth.py: an RSA-PSS ARK-Milan and SEV-Milan, an EC P-384 SEV-VCEK with AMD's
extensions) and gives it to the verifier as --platform-roots. Every refusal asserts its reason and that no token left the pool.
Usage: test-platform-attest.py PATH-TO-nodegate-verifier
"""
import base64
import hashlib
import importlib.util
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

HERE = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location("svc", os.path.join(HERE, "test-verifier-service.py"))
svc = importlib.util.module_from_spec(spec)
spec.loader.exec_module(svc)
sys.path.insert(0, os.path.join(HERE, "..", "tools"))
# TDX (docs/PROTOCOL.md, kinds tdx-quote and azure-tdx-hcl): an Intel-shaped chain of our own
# (P-256: "Intel SGX Root CA" -> "Intel SGX PCK Platform CA" -> PCK), pinned through
# --platform-roots, and DCAP v4 quotes built and signed by cvm_synth.
from cvm_synth import (CHIP_ID, MEASUREMENT, MRTD, TCB, TCB_U64, hcl_blob,  # noqa: E402
                       intel_chain, make_chain, snp_report, td_body, tdx_hcl_blob,
                       tdx_quote, write_collateral)

LABEL = b"nodegate platform v3\0"
# A pool line per boot that gets a token (kubeadm's format), and spares.
TOKENS = ["%06x.%016x" % (i, i) for i in range(1, 9)]

failures = 0


def check(ok, what):
    global failures
    print(("ok    " if ok else "FAIL  ") + what, flush=True)
    failures += not ok
    return ok


class AzureNode(svc.SoftNode):
    """The software node with an RSA 2048 AK (RSASSA, SHA-256), shaped like the Azure
    paravisor's HCL AK at 0x81000003, which the HCL claims name as HCLAkPub."""

    def __init__(self, secret_path):
        super().__init__(secret_path)
        # self.ak stays the parent's ECC key, which its attest_request() signs with first.
        self.rsa_ak = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        n = self.rsa_ak.public_key().public_numbers().n
        self.ak_tpmt = (struct.pack(">HHI", svc.RSA, svc.SHA256, svc.AK_ATTRS) + svc.tpm2b(b"")
                        + struct.pack(">HHHHI", svc.NULL_ALG, 0x0014, svc.SHA256, 2048, 0)
                        + svc.tpm2b(n.to_bytes(256, "big")))
        self.ak_name = struct.pack(">H", svc.SHA256) + hashlib.sha256(self.ak_tpmt).digest()

    def attest_request(self, challenge):
        req = super().attest_request(challenge)
        # The quote names our AK already (self.ak_name); sign it with the RSA AK instead.
        attest = base64.b64decode(req["quote"]["attest"])[2:]
        sig = self.rsa_ak.sign(attest, padding.PKCS1v15(), hashes.SHA256())
        req["quote"] = {"attest": svc.b64(svc.tpm2b(attest)),
                        "signature": svc.b64(struct.pack(">HH", 0x0014, svc.SHA256)
                                             + svc.tpm2b(sig))}
        return req

    def jwk(self, kid):
        n = self.rsa_ak.public_key().public_numbers().n
        b64u = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()  # noqa: E731
        return {"kid": kid, "key_ops": ["sign"], "kty": "RSA", "e": b64u(b"\x01\x00\x01"),
                "n": b64u(n.to_bytes(256, "big"))}


class AzureRsaEkNode(AzureNode):
    """An Azure node whose EK is the RSA 2048 EK of template L-1, the key HCLEkPub names."""

    def __init__(self, secret_path):
        super().__init__(secret_path)
        self.rsa_ek = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        n = self.rsa_ek.public_key().public_numbers().n
        self.ek_tpmt = svc.rsa_ek_area(2048, 0, n.to_bytes(256, "big"))[2:]
        self.ek_name = struct.pack(">H", svc.SHA256) + hashlib.sha256(self.ek_tpmt).digest()

    def ek_jwk(self, key=None):
        n = (key or self.rsa_ek).public_key().public_numbers().n
        b64u = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()  # noqa: E731
        return {"kid": "HCLEkPub", "key_ops": ["encrypt"], "kty": "RSA",
                "e": b64u(b"\x01\x00\x01"), "n": b64u(n.to_bytes(256, "big"))}


def azure_claims(node, user_data, ak_jwk=None, ek_jwk=None):
    keys = [ak_jwk or node.jwk("HCLAkPub")] + ([ek_jwk] if ek_jwk else [])
    return json.dumps({"keys": keys, "vm-configuration": {
        "console-enabled": True, "secure-boot": True, "tpm-enabled": True,
        "vmUniqueId": "00000000-0000-4000-8000-000000000001"},
        "user-data": user_data.hex().upper()}, separators=(",", ":")).encode()


def binding(node, challenge):
    return hashlib.sha512(LABEL + challenge + node.ek_name + node.ak_name).digest()


def main():
    binary = sys.argv[1]
    d = tempfile.mkdtemp(prefix="nodegate-platform-")
    verifiers = []
    try:
        ca, cert, key = svc.make_pki(d)
        secret = os.path.join(d, "secret")
        svc.run([binary, "keygen", secret])
        chain = make_chain(d, "test")
        other = make_chain(d, "forger")  # the same names, another key: not the pinned roots
        roots = os.path.join(d, "roots")
        os.makedirs(roots)
        shutil.copy(chain["ark"], os.path.join(roots, "ark.pem"))
        shutil.copy(chain["ask"], os.path.join(roots, "ask.pem"))

        node = svc.SoftNode(secret)
        allowlist = os.path.join(d, "ek-allowlist")
        with open(allowlist, "w") as f:
            f.write(node.ek_sha256 + "\n")
        pool = os.path.join(d, "tokens")
        with open(pool, "w") as f:
            f.write("".join(t + "\n" for t in TOKENS))
        os.chmod(pool, 0o600)

        def unused():
            with open(pool) as f:
                return [line for line in f.read().splitlines() if line in TOKENS]

        def serve(name, platform, extra=()):
            policy = os.path.join(d, name + ".policy.json")
            with open(policy, "w") as f:
                json.dump({**svc.POLICY, "platform": platform}, f)
            args = ["--cert", cert, "--key", key, "--secret", secret, "--policy", policy,
                    "--ek-allowlist", allowlist, "--token-source", "pool:" + pool,
                    "--api-server", "https://127.0.0.1:6443", "--cluster-ca", ca,
                    "--platform-roots", roots, *extra]
            v = svc.Verifier(binary, d, name, args)
            verifiers.append(v)
            return svc.Client(ca, v.host, v.port)

        snp_policy = {"require": "snp", "tpm_trust": "cloud-ca",
                      "snp": {"measurements": [MEASUREMENT.hex()], "vmpl": 0,
                              "min_reported_tcb": {"Milan": TCB}}}
        client = serve("snp", snp_policy)

        def rounds(n, version=3, platform=lambda ch: None, what=""):
            status, _, body = client.post("/v%d/challenge" % version,
                                          {**n.challenge_request(), "version": version})
            if status != 200:
                return status, json.loads(body), None
            challenge = base64.b64decode(json.loads(body)["challenge"])
            req = n.attest_request(challenge)
            req["version"] = version
            ev = platform(challenge)
            if ev is not None:
                req["platform"] = ev
            status, _, body = client.post("/v%d/attest" % version, req)
            return status, json.loads(body), challenge

        def evidence(report, certs=None):
            return {"kind": "snp-report", "report": base64.b64encode(report).decode(),
                    "certificates": [base64.b64encode(c).decode()
                                     for c in (certs if certs is not None else [chain["vcek"]])]}

        def refused(what, want, answer, status, before):
            check(status == 403 and answer.get("error") == want and "token_id" not in answer
                  and "sealed" not in answer and unused() == before,
                  f"{what}: 403 {want}, no token ({status} {answer.get('error')} "
                  f"{answer.get('message')})")

        # Policy requires SNP, the node sends none: refused before anything is sealed.
        before = unused()
        status, answer, _ = rounds(node)
        refused("v3 without evidence", "platform-evidence-missing", answer, status, before)
        status, answer, _ = rounds(node, version=2)
        refused("v2 (cannot send evidence) under a policy requiring SNP",
                "platform-evidence-missing", answer, status, before)
        check(answer.get("version") == 2, "a version-2 request is answered in version 2")

        # Well-formed evidence bound to this challenge and these keys: the token.
        status, answer, _ = rounds(node, platform=lambda ch: evidence(
            snp_report(chain["key"], binding(node, ch))))
        check(status == 200 and answer.get("token_id") in [t.split(".")[0] for t in TOKENS]
              and "sealed" in answer and answer.get("version") == 3,
              f"SNP report bound to the challenge: 200 with a sealed token ({status} "
              f"{answer.get('error')} {answer.get('message')})")

        # Replayed report: a genuine report of an earlier challenge.
        old = {}

        def keep(ch):
            old["report"] = snp_report(chain["key"], binding(node, ch))
            return evidence(old["report"])
        rounds(node, platform=keep)
        before = unused()
        status, answer, _ = rounds(node, platform=lambda ch: evidence(old["report"]))
        refused("replayed report (an earlier challenge's binding)", "snp-report-data-mismatch",
                answer, status, before)
        # Report of another VM / other keys: bound to another node's EK and AK.
        stranger = svc.SoftNode(secret)
        status, answer, _ = rounds(node, platform=lambda ch: evidence(
            snp_report(chain["key"], binding(stranger, ch))))
        refused("report binding another node's keys", "snp-report-data-mismatch", answer,
                status, before)
        # DEBUG=1: the host can read the guest's memory.
        status, answer, _ = rounds(node, platform=lambda ch: evidence(
            snp_report(chain["key"], binding(node, ch), debug=True)))
        refused("guest policy DEBUG=1", "snp-policy-debug", answer, status, before)
        # Another measurement than the policy's.
        status, answer, _ = rounds(node, platform=lambda ch: evidence(
            snp_report(chain["key"], binding(node, ch), measurement=bytes(48))))
        refused("unknown launch measurement", "snp-measurement", answer, status, before)
        # Forged report: signed by a VCEK under look-alike roots that are not pinned.
        status, answer, _ = rounds(node, platform=lambda ch: evidence(
            snp_report(other["key"], binding(node, ch)), [other["vcek"]]))
        refused("forged report (look-alike AMD chain)", "vcek-signature-invalid", answer,
                status, before)
        # The genuine VCEK with a report signed by another key.
        status, answer, _ = rounds(node, platform=lambda ch: evidence(
            snp_report(other["key"], binding(node, ch))))
        refused("report not signed by the VCEK", "snp-signature-invalid", answer, status, before)
        # Another chip's report under this VCEK.
        status, answer, _ = rounds(node, platform=lambda ch: evidence(
            snp_report(chain["key"], binding(node, ch), chip_id=bytes(64))))
        refused("another chip's CHIP_ID", "vcek-chip-id-mismatch", answer, status, before)
        # No VCEK in the request and no cache.
        status, answer, _ = rounds(node, platform=lambda ch: evidence(
            snp_report(chain["key"], binding(node, ch)), []))
        refused("no VCEK", "vek-missing", answer, status, before)
        # A truncated report.
        status, answer, _ = rounds(node, platform=lambda ch: evidence(
            snp_report(chain["key"], binding(node, ch))[:-1]))
        refused("truncated report", "snp-report-size", answer, status, before)

        # tpm_trust tee: an SNP report says the guest chose this TPM, not that the TPM is in
        # the TEE (a host-side vTPM looks the same): refused. Which VM is ours stays the
        # enrolment's job: an unenrolled EK is refused in round 1 unless the policy admits it.
        client = serve("tee-enrolled", {**snp_policy, "tpm_trust": "tee"})
        status, _, body = client.post("/v3/challenge", {**stranger.challenge_request(),
                                                        "version": 3})
        check(status == 403 and json.loads(body).get("error") == "ek-unknown",
              f"tpm_trust tee alone: an unenrolled EK is ek-unknown in round 1 ({status} {body!r})")
        status, answer, _ = rounds(node, platform=lambda ch: evidence(
            snp_report(chain["key"], binding(node, ch))))
        refused("tpm_trust tee, enrolled EK, bare SNP report (host-side vTPM claims)",
                "platform-tpm-not-vouched", answer, status, before)
        client = serve("tee", {**snp_policy, "tpm_trust": "tee", "admit_unenrolled_ek": True})
        status, answer, _ = rounds(stranger, platform=lambda ch: evidence(
            snp_report(chain["key"], binding(stranger, ch))))
        refused("tpm_trust tee with a bare SNP report (host-side vTPM claims)",
                "platform-tpm-not-vouched", answer, status, before)
        status, answer, _ = rounds(stranger)
        refused("tpm_trust tee, unenrolled EK, no evidence", "platform-evidence-missing", answer,
                status, before)

        # tpm_trust none: the operator trusts the host with the token; the EK needs no proof,
        # the evidence is still required and checked.
        client = serve("none", {**snp_policy, "tpm_trust": "none", "admit_unenrolled_ek": True})
        status, answer, _ = rounds(stranger, platform=lambda ch: evidence(
            snp_report(chain["key"], binding(stranger, ch), debug=True)))
        refused("tpm_trust none: the report is still judged (DEBUG=1)", "snp-policy-debug",
                answer, status, before)
        status, answer, _ = rounds(stranger, platform=lambda ch: evidence(
            snp_report(chain["key"], binding(stranger, ch))))
        check(status == 200 and "sealed" in answer,
              f"tpm_trust none, unenrolled EK, good report: 200 with a sealed token ({status} "
              f"{answer.get('error')} {answer.get('message')})")

        # The operator's VCEK cache: a node that sends no certificate is verified with the
        # cached VCEK of its chip and TCB; a report of a chip not in the cache is vek-missing.
        # A VCEK a node sends goes into the cache once the whole report verified, not before.
        cache = os.path.join(d, "vcek-cache")
        cached = os.path.join(cache, "%s-%016x.der" % (CHIP_ID.hex(), TCB_U64))
        os.makedirs(cache)
        client = serve("cache", snp_policy, ["--vcek-cache", cache])
        before = unused()
        status, answer, _ = rounds(node, platform=lambda ch: evidence(
            snp_report(chain["key"], binding(stranger, ch))))
        refused("the chip's VCEK sent with a report bound to another node", "snp-report-data-mismatch",
                answer, status, before)
        check(os.listdir(cache) == [], f"a refused report leaves nothing in the VCEK cache "
              f"({os.listdir(cache)})")
        status, answer, _ = rounds(node, platform=lambda ch: evidence(
            snp_report(chain["key"], binding(node, ch))))
        persisted = open(cached, "rb").read() if os.path.exists(cached) else None
        check(status == 200 and persisted == chain["vcek"] and os.listdir(cache) == [
              os.path.basename(cached)],
              f"the VCEK of an accepted report is kept in --vcek-cache as CHIPID-TCB.der "
              f"({status}, {os.listdir(cache)})")
        status, answer, _ = rounds(node, platform=lambda ch: evidence(
            snp_report(chain["key"], binding(node, ch)), []))
        check(status == 200 and "sealed" in answer,
              f"no VCEK in the request, the chip's VCEK in --vcek-cache: 200 with a sealed token "
              f"({status} {answer.get('error')} {answer.get('message')})")
        before = unused()
        status, answer, _ = rounds(node, platform=lambda ch: evidence(
            snp_report(chain["key"], binding(node, ch), chip_id=bytes(range(64))), []))
        refused("no VCEK, another chip than the cache has", "vek-missing", answer, status, before)

        # Azure: the HCL blob names the vTPM's AK (HCLAkPub); with it the report vouches for the
        # TPM, so tpm_trust tee admits an EK nobody enrolled.
        client = serve("azure", {"require": "azure-snp", "tpm_trust": "tee",
                                 "admit_unenrolled_ek": True,
                                 "snp": {"measurements": [MEASUREMENT.hex()]}})
        az = AzureNode(secret)

        def hcl(ch, node=az, user=None, jwk=None, ek_jwk=None):
            blob = hcl_blob(chain["key"], azure_claims(node, user or binding(node, ch), jwk,
                                                       ek_jwk))
            return {"kind": "azure-snp-hcl", "report": base64.b64encode(blob).decode(),
                    "certificates": [base64.b64encode(chain["vcek"]).decode()]}
        before = unused()
        status, answer, _ = rounds(az, platform=lambda ch: {**evidence(
            snp_report(chain["key"], binding(az, ch)))})
        refused("azure-snp policy, bare SNP report", "platform-kind-not-allowed", answer, status,
                before)
        status, answer, _ = rounds(az, platform=lambda ch: hcl(ch, user=bytes(64)))
        refused("HCL whose user-data is not this challenge's (never written, or replayed)",
                "hcl-user-data-mismatch", answer, status, before)
        other_ak = AzureNode(secret)
        status, answer, _ = rounds(az, platform=lambda ch: hcl(ch, jwk=other_ak.jwk("HCLAkPub")))
        refused("HCL naming another vTPM's AK (quote from a host-side TPM)", "hcl-akpub-mismatch",
                answer, status, before)
        status, answer, _ = rounds(az, platform=hcl)
        check(status == 200 and answer.get("token_id") in [t.split(".")[0] for t in TOKENS]
              and "sealed" in answer,
              f"Azure HCL naming the AK, bound to the challenge, unenrolled EK under tpm_trust "
              f"tee and admit_unenrolled_ek: 200 with a sealed token ({status} {answer.get('error')} "
              f"{answer.get('message')})")

        # HCLEkPub names the paravisor's RSA EK: an RSA EK must be that one.
        rsa_node = AzureRsaEkNode(secret)
        before = unused()
        status, answer, _ = rounds(rsa_node, platform=lambda ch: hcl(
            ch, node=rsa_node, ek_jwk=rsa_node.ek_jwk(
                rsa.generate_private_key(public_exponent=65537, key_size=2048))))
        refused("HCLEkPub of another vTPM than the RSA EK attesting", "hcl-ekpub-mismatch",
                answer, status, before)
        status, answer, _ = rounds(rsa_node, platform=lambda ch: hcl(
            ch, node=rsa_node, ek_jwk=rsa_node.ek_jwk()))
        check(status == 200 and "sealed" in answer,
              f"HCLAkPub and HCLEkPub = the AK and the RSA EK: 200 with a sealed token ({status} "
              f"{answer.get('error')} {answer.get('message')})")

        # TDX: the verifier pins our Intel-shaped root (a real Intel key cannot sign our P).
        intel_root, intel, pck_key, intel_parts = intel_chain()
        with open(os.path.join(roots, "intel-sgx-root-ca.pem"), "wb") as f:
            f.write(intel_root)
        _, forged_chain, forged_pck, _ = intel_chain()  # the same names, unpinned keys
        # Intel's PCS collateral: an empty directory first (the operator's job not yet run).
        collateral = os.path.join(d, "tdx-collateral")
        os.makedirs(collateral)
        client = serve("tdx", {"require": "tdx", "tpm_trust": "cloud-ca",
                               "tdx": {"mrtds": [MRTD.hex()]}},
                       extra=("--tdx-collateral", collateral))

        def tdx(quote):
            return {"kind": "tdx-quote", "report": base64.b64encode(quote).decode()}
        before = unused()
        status, answer, _ = rounds(node, platform=lambda ch: evidence(
            snp_report(chain["key"], binding(node, ch))))
        refused("tdx policy, SNP report", "platform-kind-not-allowed", answer, status, before)
        # The TCB status from Intel's collateral (docs/cvm.md), checked after the quote's
        # signatures and before the TD's policy: first none, then right, then each way wrong.
        good = lambda ch: tdx(tdx_quote(pck_key, intel, binding(node, ch)))  # noqa: E731
        status, answer, _ = rounds(node, platform=good)
        refused("genuine quote, no collateral for its FMSPC", "tdx-collateral-missing", answer,
                status, before)
        write_collateral(collateral, intel_parts)
        status, answer, _ = rounds(node, platform=lambda ch: tdx(
            tdx_quote(pck_key, intel, binding(node, ch), debug=True)))
        refused("TD with DEBUG set", "tdx-td-debug", answer, status, before)
        status, answer, _ = rounds(node, platform=lambda ch: tdx(
            tdx_quote(pck_key, intel, binding(node, ch), mrtd=bytes(48))))
        refused("TD with another MRTD", "tdx-mrtd", answer, status, before)
        status, answer, _ = rounds(node, platform=lambda ch: tdx(
            tdx_quote(forged_pck, forged_chain, binding(node, ch))))
        refused("forged quote (look-alike Intel chain)", "tdx-root-not-pinned", answer, status,
                before)
        status, answer, _ = rounds(node, platform=lambda ch: tdx(
            tdx_quote(pck_key, intel, binding(stranger, ch))))
        refused("quote binding another node's keys", "tdx-report-data-mismatch", answer, status,
                before)
        for what, want, kw in (
                ("collateral whose PCK CRL revokes the quote's PCK", "tdx-pck-revoked",
                 {"revoke_pck": True}),
                ("TCB info of status OutOfDate", "tdx-tcb-status", {"status": "OutOfDate"}),
                ("TCB info changed after Intel signed it (OutOfDate made UpToDate)",
                 "tdx-tcbinfo-signature-invalid", {"status": "OutOfDate", "tamper": True}),
                ("TCB info past its nextUpdate", "tdx-tcbinfo-expired", {"expired": True})):
            write_collateral(collateral, intel_parts, **kw)
            status, answer, _ = rounds(node, platform=good)
            refused(what, want, answer, status, before)
            if kw.get("expired") or kw.get("tamper"):
                # The operator's check of the directory says the same, before any node.
                audit = subprocess.run([binary, "platform", "collateral", collateral,
                                        "--roots", roots], capture_output=True, text=True)
                check(audit.returncode == 1 and audit.stdout.splitlines()[-1] ==
                      "invalid: " + want, f"platform collateral on it: invalid: {want} "
                      f"({audit.returncode} {audit.stdout.splitlines()[-1:]})")
        # A TDX 1.5 module (TEE_TCB_SVN[1] = 1, its SVN 3 in byte 0): the module identity
        # TDX_01 of the TCB info decides, not the platform's level.
        tdx15 = lambda ch: tdx(tdx_quote(pck_key, intel, body=td_body(  # noqa: E731
            binding(node, ch), tee_tcb_svn=bytes([3, 1]) + bytes(14))))
        for what, want, kw in (
                ("TDX 1.5 quote, the TCB info without its module identity",
                 "tdx-module-identity-missing", {}),
                ("TDX 1.5 module below every level of its identity", "tdx-module-tcb-unsupported",
                 {"module": (4, "UpToDate")}),
                ("TDX 1.5 module OutOfDate on an UpToDate platform", "tdx-tcb-status",
                 {"module": (3, "OutOfDate")})):
            write_collateral(collateral, intel_parts, **kw)
            status, answer, _ = rounds(node, platform=tdx15)
            refused(what, want, answer, status, before)
        write_collateral(collateral, intel_parts)
        audit = subprocess.run([binary, "platform", "collateral", collateral, "--roots", roots],
                               capture_output=True, text=True)
        check(audit.returncode == 0 and "ok: valid (until " in audit.stdout.splitlines()[-1],
              f"platform collateral on the current directory: valid ({audit.returncode} "
              f"{audit.stdout.splitlines()[-1:]})")
        status, answer, _ = rounds(node, platform=lambda ch: tdx(
            tdx_quote(pck_key, intel, binding(node, ch))))
        check(status == 200 and answer.get("token_id") in [t.split(".")[0] for t in TOKENS]
              and "sealed" in answer,
              f"TDX quote bound to the challenge: 200 with a sealed token ({status} "
              f"{answer.get('error')} {answer.get('message')})")

        # Azure TDX: the HCL blob with its TDREPORT, and the TD quote of that TDREPORT.
        client = serve("azure-tdx", {"require": "azure-tdx", "tpm_trust": "tee",
                                     "admit_unenrolled_ek": True,
                                     "tdx": {"mrtds": [MRTD.hex()]}},
                       extra=("--tdx-collateral", collateral))

        def az_tdx(ch, user=None, quote_mrtd=MRTD, with_quote=True):
            claims = azure_claims(az, user or binding(az, ch))
            ev = {"kind": "azure-tdx-hcl",
                  "report": base64.b64encode(tdx_hcl_blob(claims)).decode()}
            if with_quote:
                ev["td_quote"] = base64.b64encode(tdx_quote(
                    pck_key, intel, hashlib.sha256(claims).digest() + bytes(32),
                    mrtd=quote_mrtd)).decode()
            return ev
        before = unused()
        status, answer, _ = rounds(az, platform=lambda ch: az_tdx(ch, quote_mrtd=bytes(48)))
        refused("Azure TDX blob with the quote of another TD", "tdx-quote-tdreport-mismatch",
                answer, status, before)
        status, answer, _ = rounds(az, platform=lambda ch: az_tdx(ch, user=bytes(64)))
        refused("Azure TDX blob whose user-data is not this challenge's",
                "hcl-user-data-mismatch", answer, status, before)
        status, answer, _ = rounds(az, platform=lambda ch: az_tdx(ch, with_quote=False))
        check(status == 400 and answer.get("error") == "bad-request" and unused() == before,
              f"Azure TDX blob without td_quote: 400 bad-request, no token ({status} "
              f"{answer.get('error')})")
        status, answer, _ = rounds(az, platform=az_tdx)
        check(status == 200 and "sealed" in answer,
              f"Azure TDX blob naming the AK, bound to the challenge, with its TD quote: 200 "
              f"with a sealed token ({status} {answer.get('error')} {answer.get('message')})")

        for v in verifiers:
            rc = v.stop()
            err = v.stderr_text()
            check(rc == 0 and "ERROR: AddressSanitizer" not in err and "runtime error" not in err,
                  f"verifier exits 0 without sanitizer reports (rc {rc})")
    finally:
        for v in verifiers:
            v.stop()
        shutil.rmtree(d, ignore_errors=True)
    print(f"test-platform-attest: {'FAILED' if failures else 'all passed'}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
