#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""A test AMD chain and synthetic SEV-SNP reports, for tests and benchmarks only: no real AMD
key signs our binding, so this makes an AMD-shaped chain with OpenSSL — an RSA-PSS ARK-Milan
and SEV-Milan (SHA-384, salt 48), an EC P-384 SEV-VCEK with AMD's extensions (product, TCB
SPLs, a raw 64-byte hwID) — that a verifier takes as --platform-roots.

Imported by tests/integration/test-platform-attest.py (make check-cvm-attest). As a program it
writes the files tests/bench/bench-verifier.sh --platform snp gives the verifier and loadgen:
  snp-test-chain.py DIR
    DIR/roots/ark.pem, DIR/roots/ask.pem     --platform-roots
    DIR/vcek.der, DIR/vcek.key (PEM, 0600)   the VCEK loadgen sends and signs reports with
    DIR/vcek-cache/CHIPID-TCB.der            --vcek-cache (docs/cvm.md)
    DIR/snp-params                           what loadgen puts in its reports: "measurement HEX",
                                             "chip_id HEX", "tcb HEX" (REPORTED_TCB as u64)
    DIR/platform.json                        the policy's "platform" section that requires them
    DIR/chain/                               the chain's keys and requests (nothing reads them)
"""
import hashlib
import json
import os
import shutil
import struct
import subprocess
import sys

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

AMD_DN = "/OU=Engineering/C=US/L=Santa Clara/ST=CA/O=Advanced Micro Devices/CN="
PSS = ["-sha384", "-sigopt", "rsa_padding_mode:pss", "-sigopt", "rsa_pss_saltlen:48",
       "-sigopt", "rsa_mgf1_md:sha384"]
MEASUREMENT = bytes(range(48))
CHIP_ID = hashlib.sha512(b"nodegate test chip").digest()
# Milan TCB_VERSION: bl byte 0, tee 1, snp 6, ucode 7.
TCB = {"bl": 3, "tee": 0, "snp": 8, "ucode": 115}
TCB_U64 = int.from_bytes(bytes([TCB["bl"], TCB["tee"], 0, 0, 0, 0, TCB["snp"], TCB["ucode"]]),
                         "little")
LABEL = b"nodegate platform v3\0"
# A policy that requires a bare SNP report with exactly what snp_report() puts in one. A bare
# report does not say where the TPM runs, so the TPM stays trusted as in version 2 (cloud-ca:
# the EK allowlist or certificate).
SNP_POLICY = {"require": "snp", "tpm_trust": "cloud-ca",
              "snp": {"measurements": [MEASUREMENT.hex()], "vmpl": 0,
                      "min_reported_tcb": {"Milan": TCB}}}


def openssl(*args):
    subprocess.run(["openssl", *args], check=True, capture_output=True, timeout=120)


def make_chain(d, name):
    """ARK-Milan (self-signed) -> SEV-Milan -> SEV-VCEK in d/name; returns the file paths, the
    VCEK's DER and its private key."""
    p = lambda n: os.path.join(d, name + "-" + n)  # noqa: E731
    openssl("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", p("ark.key"))
    openssl("req", "-x509", "-new", "-key", p("ark.key"), "-subj", AMD_DN + "ARK-Milan",
            "-days", "3", "-out", p("ark.pem"), *PSS)
    openssl("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", p("ask.key"))
    openssl("req", "-new", "-key", p("ask.key"), "-subj", AMD_DN + "SEV-Milan", "-out", p("ask.csr"))
    openssl("x509", "-req", "-in", p("ask.csr"), "-CA", p("ark.pem"), "-CAkey", p("ark.key"),
            "-set_serial", "1", "-days", "3", "-out", p("ask.pem"), *PSS)
    openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384", "-out", p("vcek.key"))
    openssl("req", "-new", "-key", p("vcek.key"), "-subj", AMD_DN + "SEV-VCEK", "-out", p("vcek.csr"))
    with open(p("vcek.ext"), "w") as f:
        f.write("1.3.6.1.4.1.3704.1.1=ASN1:INTEGER:0\n"
                "1.3.6.1.4.1.3704.1.2=ASN1:IA5STRING:Milan-B0\n"
                "1.3.6.1.4.1.3704.1.3.1=ASN1:INTEGER:%d\n"
                "1.3.6.1.4.1.3704.1.3.2=ASN1:INTEGER:%d\n"
                "1.3.6.1.4.1.3704.1.3.3=ASN1:INTEGER:%d\n"
                "1.3.6.1.4.1.3704.1.3.8=ASN1:INTEGER:%d\n"
                "1.3.6.1.4.1.3704.1.4=DER:%s\n"
                % (TCB["bl"], TCB["tee"], TCB["snp"], TCB["ucode"],
                   ":".join("%02x" % c for c in CHIP_ID)))
    openssl("x509", "-req", "-in", p("vcek.csr"), "-CA", p("ask.pem"), "-CAkey", p("ask.key"),
            "-set_serial", "0", "-days", "3", "-extfile", p("vcek.ext"), "-outform", "DER",
            "-out", p("vcek.der"), *PSS)
    with open(p("vcek.key"), "rb") as f:
        key = serialization.load_pem_private_key(f.read(), None)
    with open(p("vcek.der"), "rb") as f:
        vcek = f.read()
    return {"ark": p("ark.pem"), "ask": p("ask.pem"), "vcek": vcek, "key": key,
            "key_path": p("vcek.key"), "vcek_path": p("vcek.der")}


def snp_report(key, report_data, debug=False, measurement=MEASUREMENT, chip_id=CHIP_ID):
    """A version-3 ATTESTATION_REPORT from a Milan guest at VMPL 0, signed with key.
    tests/bench/softnode.c (softnode_snp_report) builds the same bytes in C: change both."""
    b = bytearray(1184)
    policy = (1 << 17) | (1 << 16) | ((1 << 19) if debug else 0)
    struct.pack_into("<IIQ", b, 0, 3, 1, policy)
    struct.pack_into("<II", b, 0x30, 0, 1)  # VMPL 0, ECDSA P-384 with SHA-384
    struct.pack_into("<QQI", b, 0x38, TCB_U64, 1, 0)  # current TCB, platform info, VCEK
    b[0x50:0x90] = report_data
    b[0x90:0xC0] = measurement
    struct.pack_into("<Q", b, 0x180, TCB_U64)  # reported TCB
    b[0x188:0x18B] = bytes([0x19, 0x01, 0x01])  # Milan
    b[0x1A0:0x1E0] = chip_id
    struct.pack_into("<Q", b, 0x1E0, TCB_U64)
    b[0x1E8:0x1EB] = bytes([4, 55, 1])
    struct.pack_into("<Q", b, 0x1F0, TCB_U64)
    r, s = decode_dss_signature(key.sign(bytes(b[:0x2A0]), ec.ECDSA(hashes.SHA384())))
    b[0x2A0:0x2A0 + 72] = r.to_bytes(72, "little")
    b[0x2A0 + 72:0x2A0 + 144] = s.to_bytes(72, "little")
    return bytes(b)


def binding(challenge, ek_name, ak_name):
    """P of docs/PROTOCOL.md, "The platform binding"."""
    return hashlib.sha512(LABEL + challenge + ek_name + ak_name).digest()


def vcek_cache_name(chip_id=CHIP_ID, tcb=TCB_U64):
    return "%s-%016x.der" % (chip_id.hex(), tcb)


def write_files(d):
    """The files of the module's docstring in d (which must exist)."""
    os.makedirs(os.path.join(d, "chain"), exist_ok=True)  # the chain's keys and CSRs
    chain = make_chain(os.path.join(d, "chain"), "test")
    for sub in ("roots", "vcek-cache"):
        os.makedirs(os.path.join(d, sub), exist_ok=True)
    shutil.copy(chain["ark"], os.path.join(d, "roots", "ark.pem"))
    shutil.copy(chain["ask"], os.path.join(d, "roots", "ask.pem"))
    shutil.copy(chain["vcek_path"], os.path.join(d, "vcek.der"))
    shutil.copy(chain["vcek_path"], os.path.join(d, "vcek-cache", vcek_cache_name()))
    fd = os.open(os.path.join(d, "vcek.key"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f, open(chain["key_path"], "rb") as k:
        f.write(k.read())
    with open(os.path.join(d, "snp-params"), "w") as f:
        f.write("measurement %s\nchip_id %s\ntcb %016x\n" % (MEASUREMENT.hex(), CHIP_ID.hex(),
                                                              TCB_U64))
    with open(os.path.join(d, "platform.json"), "w") as f:
        json.dump(SNP_POLICY, f)


def main():
    if len(sys.argv) != 2 or not os.path.isdir(sys.argv[1]):
        print("usage: snp-test-chain.py DIR (an existing directory)", file=sys.stderr)
        return 2
    write_files(sys.argv[1])
    return 0


if __name__ == "__main__":
    sys.exit(main())
