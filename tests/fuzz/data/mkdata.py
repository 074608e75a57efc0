#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Writes the fixed test material of the round-1/round-2/EK-certificate fuzz targets: a root CA
(RSA 2048) and an intermediate (P-256), both in ek-ca.pem; two EKs (P-256 under the
intermediate, RSA 2048 under the root) as TPM2B_PUBLIC (ek-p256.pub, ek-rsa.pub) and DER
certificates (ek-p256.der, ek-rsa.der); the AK the round-2 harness signs quotes with
(ak-key.pem, ak.pub). Test keys, no secrets. Run once; the outputs are committed."""
import datetime
import struct

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID, ObjectIdentifier

EK_ATTRIBUTES = 0x000300B2
AK_ATTRIBUTES = 0x00050072
EK_POLICY = bytes.fromhex("837197674484b3f81a90cc8d46a5d724fd52d76e06520b64f2a1da1b331469aa")
NOT_BEFORE = datetime.datetime(2020, 1, 1)
NOT_AFTER = datetime.datetime(2099, 12, 31)


def tpm2b(b):
    return struct.pack(">H", len(b)) + b


def ecc_point(key):
    n = key.public_key().public_numbers()
    return tpm2b(n.x.to_bytes(32, "big")) + tpm2b(n.y.to_bytes(32, "big"))


def ek_p256(key):
    area = struct.pack(">HHI", 0x23, 0x0B, EK_ATTRIBUTES) + tpm2b(EK_POLICY)
    area += struct.pack(">HHHHHH", 0x06, 128, 0x43, 0x10, 0x03, 0x10) + ecc_point(key)
    return tpm2b(area)


def ek_rsa(key):
    n = key.public_key().public_numbers().n.to_bytes(256, "big")
    area = struct.pack(">HHI", 0x01, 0x0B, EK_ATTRIBUTES) + tpm2b(EK_POLICY)
    area += struct.pack(">HHHHHI", 0x06, 128, 0x43, 0x10, 2048, 0) + tpm2b(n)
    return tpm2b(area)


def ak_p256(key):
    area = struct.pack(">HHI", 0x23, 0x0B, AK_ATTRIBUTES) + tpm2b(b"")
    area += struct.pack(">HHHHH", 0x10, 0x18, 0x0B, 0x03, 0x10) + ecc_point(key)
    return tpm2b(area)


def name(cn):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def cert(subject, key, issuer, issuer_key, ca, serial):
    b = (x509.CertificateBuilder().subject_name(name(subject)).issuer_name(name(issuer))
         .public_key(key.public_key()).serial_number(serial)
         .not_valid_before(NOT_BEFORE).not_valid_after(NOT_AFTER)
         .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if ca:
        b = b.add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False,
                                          False), critical=True)
    else:
        b = b.add_extension(x509.KeyUsage(False, False, True, False, False, False, False, False,
                                          False), critical=True)
        # tcg-kp-EKCertificate, which the verifier requires of an EK certificate
        b = b.add_extension(x509.ExtendedKeyUsage([ObjectIdentifier("2.23.133.8.1")]),
                            critical=False)
    return b.sign(issuer_key, hashes.SHA256())


root_key = rsa.generate_private_key(65537, 2048)
inter_key = ec.generate_private_key(ec.SECP256R1())
ek1 = ec.generate_private_key(ec.SECP256R1())
ek2 = rsa.generate_private_key(65537, 2048)
ak = ec.generate_private_key(ec.SECP256R1())
root = cert("nodegate fuzz root CA", root_key, "nodegate fuzz root CA", root_key, True, 1)
inter = cert("nodegate fuzz EK CA", inter_key, "nodegate fuzz root CA", root_key, True, 2)
with open("ek-ca.pem", "wb") as f:
    f.write(root.public_bytes(serialization.Encoding.PEM))
    f.write(inter.public_bytes(serialization.Encoding.PEM))
for fname, data in [
        ("ek-p256.der", cert("ek p256", ek1, "nodegate fuzz EK CA", inter_key, False, 3)
         .public_bytes(serialization.Encoding.DER)),
        ("ek-rsa.der", cert("ek rsa", ek2, "nodegate fuzz root CA", root_key, False, 4)
         .public_bytes(serialization.Encoding.DER)),
        ("ek-p256.pub", ek_p256(ek1)), ("ek-rsa.pub", ek_rsa(ek2)), ("ak.pub", ak_p256(ak)),
        ("ak-key.pem", ak.private_bytes(serialization.Encoding.PEM,
                                        serialization.PrivateFormat.PKCS8,
                                        serialization.NoEncryption()))]:
    with open(fname, "wb") as f:
        f.write(data)
