#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The test AMD chain of tests/tools/cvm_synth.py as files, for the benchmark: it writes what
tests/bench/bench-verifier.sh --platform snp gives the verifier and loadgen (whose
softnode_snp_report() builds the same reports as cvm_synth.snp_report(), in C):
  snp-test-chain.py DIR
    DIR/roots/ark.pem, DIR/roots/ask.pem     --platform-roots
    DIR/vcek.der, DIR/vcek.key (PEM, 0600)   the VCEK loadgen sends and signs reports with
    DIR/vcek-cache/CHIPID-TCB.der            --vcek-cache (docs/cvm.md)
    DIR/snp-params                           what loadgen puts in its reports: "measurement HEX",
                                             "chip_id HEX", "tcb HEX" (REPORTED_TCB as u64)
    DIR/platform.json                        the policy's "platform" section that requires them
    DIR/chain/                               the chain's keys and requests (nothing reads them)
"""
import json
import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cvm_synth import CHIP_ID, MEASUREMENT, TCB, TCB_U64, make_chain, vcek_cache_name  # noqa: E402

# A policy that requires a bare SNP report with exactly what snp_report() puts in one. A bare
# report does not say where the TPM runs, so the TPM stays trusted as in version 2 (cloud-ca:
# the EK allowlist or certificate).
SNP_POLICY = {"require": "snp", "tpm_trust": "cloud-ca",
              "snp": {"measurements": [MEASUREMENT.hex()], "vmpl": 0,
                      "min_reported_tcb": {"Milan": TCB}}}


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
