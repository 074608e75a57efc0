#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
# The gate's static tpm2-tss against a real swtpm: many sessions salted to P-256 and P-384 keys,
# each authorizing one command (tests/integration/salted-sessions.c). Before the deps/patches fix
# of the mbedTLS backend about 1 in 256 failed with TPM_RC_BAD_AUTH, and with it the gate's
# unseal; 1500 sessions a curve miss that with a chance of e^-5.9 (0.3 %).
import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
# The swtpm on a pty of the attestation scenarios (tests/integration/test-attestation.py).
_spec = importlib.util.spec_from_file_location(
    "attestation", os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "test-attestation.py"))
A = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(A)

SESSIONS = "1500"


def main():
    probe = sys.argv[1]
    failures = 0
    work = tempfile.mkdtemp(prefix="nodegate-salt-")
    tpm = A.Swtpm(work, "tpm")
    try:
        for curve in ("p256", "p384"):
            r = subprocess.run([probe, tpm.path, SESSIONS, curve], capture_output=True,
                               text=True, timeout=600)
            print(r.stdout + r.stderr, end="")
            ok = r.returncode == 0
            print(("ok    " if ok else "FAIL  ") +
                  "%s sessions salted to a %s key all authorized" % (SESSIONS, curve))
            failures += not ok
    finally:
        tpm.stop()
        shutil.rmtree(work, ignore_errors=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
