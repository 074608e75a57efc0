#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Writes the structured seeds of fuzz-round1, fuzz-round2 and fuzz-ekcert into
tests/fuzz/corpus/ (their input formats are described at the top of each target), from the
material of mkdata.py and the event logs of tests/fuzz/corpus/eventlog/; then, with the targets
built (make check-fuzz builds them), the raw-body seeds and fuzz-gate-answer's seeds as the
targets dump them (FUZZ_DUMP_BODY, FUZZ_DUMP_ANSWER): real bodies and real answers. Run from
the repo root after mkdata.py."""
import os
import tempfile
import struct
import subprocess

D = "tests/fuzz/data"
C = "tests/fuzz/corpus"


def data(name):
    with open(os.path.join(D, name), "rb") as f:
        return f.read()


def log(name):
    with open(os.path.join(C, "eventlog", name), "rb") as f:
        return f.read()


def section(b):
    return struct.pack(">H", len(b)) + b


def write(corpus, name, b):
    os.makedirs(os.path.join(C, corpus), exist_ok=True)
    with open(os.path.join(C, corpus, name), "wb") as f:
        f.write(b)


# PCRs 0-7, 9, 11, 15 of SHA-256: the policy's quote_pcrs
SELECTION = struct.pack(">IHB", 1, 0x000B, 3) + bytes([0xFF, 0x8A, 0x00])


def attest(reset=7, restart=0, magic=0xFF544347, selection=SELECTION):
    a = struct.pack(">IH", magic, 0x8018) + section(b"\x00\x0b" + bytes(32)) + section(bytes(32))
    a += struct.pack(">QIIBQ", 123456789, reset, restart, 1, 0x2019102300163636)
    a += selection + section(bytes(32))
    return section(a)


def round2(flags, logb, att=None, ek=b"", ak=b"", challenge=b"", credential=b"",
           signature=b"", claims=b"", trust=0):
    return (bytes([flags, trust]) + bytes(16) + section(ek) + section(ak) + section(challenge)
            + section(credential) + section(att if att is not None else attest())
            + section(signature) + section(claims) + logb)


ALL = 0x02 | 0x04 | 0x08 | 0x10 | 0x20 | 0x40
write("round2", "p256-default", round2(ALL, log("default.log")))
write("round2", "rsa-default", round2(ALL | 0x80, log("default.log")))
write("round2", "reboot", round2(ALL, log("default.log"), attest(reset=8, restart=1)))
for name in ["legacy.log", "locality-secureboot.log", "sha1-sha256.log", "small.log",
             "spec-id-only.log", "sha1-only.log"]:
    write("round2", "p256-" + name[:-4], round2(ALL, log(name)))
write("round2", "explicit-keys",
      round2(ALL & ~0x50, log("default.log"), ek=data("ek-p256.pub"), ak=data("ak.pub")))
write("round2", "claims-not-log",
      round2(ALL & ~0x20, log("default.log"), claims=struct.pack(">I", 0x8a00ff) + bytes(32 * 11)))
write("round2", "no-credential", round2(ALL & ~0x04, log("default.log"), credential=bytes(32)))
write("round2", "bad-trust", round2(ALL, log("default.log"), trust=0xf7))
write("round2", "not-fixed", round2(0x00, log("small.log"), ek=data("ek-p256.pub"),
                                     ak=data("ak.pub"), challenge=bytes(98)))
write("round2", "sha1-bank", round2(ALL, log("default.log"),
                                     attest(selection=struct.pack(">IHB", 1, 0x0004, 3)
                                            + bytes([0xFF, 0x8A, 0x00]))))
# the policy's other command line: the log replays, the policy refuses PCR 9 and 11
with tempfile.TemporaryDirectory() as tmp:
    subprocess.run(["tests/tools/mklog.py", "--cmdline", "console=ttyS0 other", "-o",
                    tmp + "/other.log"], check=True)
    with open(tmp + "/other.log", "rb") as f:
        write("round2", "p256-other-cmdline", round2(ALL, f.read()))

NO_KEYS = section(b"") + section(b"")
write("round1", "p256-allowlisted", bytes([0x14]) + NO_KEYS)
write("round1", "p256-chain", bytes([0x16]) + NO_KEYS + data("ek-p256.der"))
write("round1", "rsa-chain", bytes([0x1a]) + NO_KEYS + data("ek-rsa.der"))
write("round1", "rsa-unknown", bytes([0x18]) + NO_KEYS)
write("round1", "rsa-wrong-cert", bytes([0x1a]) + NO_KEYS + data("ek-p256.der"))
write("round1", "explicit-p256", bytes([0x02]) + section(data("ek-p256.pub"))
      + section(data("ak.pub")) + data("ek-p256.der"))
write("round1", "explicit-rsa", bytes([0x02]) + section(data("ek-rsa.pub"))
      + section(data("ak.pub")) + data("ek-rsa.der"))

write("ekcert", "p256", b"\x01" + data("ek-p256.der"))
write("ekcert", "rsa", b"\x01" + data("ek-rsa.der"))
write("ekcert", "rsa-fixed-ek", b"\x00" + data("ek-rsa.der"))
write("ekcert", "p256-mismatch", b"\x00" + data("ek-p256.der"))
pem = data("ek-ca.pem").decode()
for i, block in enumerate(pem.split("-----END CERTIFICATE-----")[:2]):
    der = subprocess.run(["openssl", "x509", "-outform", "der"], check=True, capture_output=True,
                         input=(block + "-----END CERTIFICATE-----\n").encode()).stdout
    write("ekcert", "ca-%d" % i, b"\x01" + der)


def dump(target, seed):
    """The body the target built from a seed and the verifier's answer to it."""
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, FUZZ_DUMP_BODY=tmp + "/body", FUZZ_DUMP_ANSWER=tmp + "/answer")
        subprocess.run(["build/tests/fuzz/fuzz-" + target, os.path.join(C, target, seed)],
                       env=env, check=True, capture_output=True)
        with open(tmp + "/body", "rb") as b, open(tmp + "/answer", "rb") as a:
            return b.read(), a.read()


for target, seed, raw, answer in [
        ("round2", "p256-default", "raw-p256-default", "attest-ok"),
        ("round2", "rsa-default", None, "attest-ok-rsa"),
        ("round2", "p256-other-cmdline", "raw-other-cmdline", "error-event"),
        ("round2", "bad-trust", None, "error-challenge"),
        ("round2", "p256-legacy", None, "error-eventlog"),
        ("round1", "p256-chain", "raw-p256-chain", "challenge-ok"),
        ("round1", "rsa-chain", None, "challenge-ok-rsa")]:
    body, ans = dump(target, seed)
    if raw:
        write(target, raw, b"\x01" + body)
    write("gate-answer", answer, ans)
