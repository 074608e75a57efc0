#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
# The gate's static tpm2-tss against a real swtpm: many sessions salted to P-256 and P-384 keys,
# each authorizing one command (tests/integration/salted-sessions.c). Before the deps/patches fix
# of the mbedTLS backend about 1 in 256 failed with TPM_RC_BAD_AUTH, and with it the gate's
# unseal; 1500 sessions a curve miss that with a chance of e^-5.9 (0.3 %).
import os
import pty
import subprocess
import sys
import tempfile
import tty

SESSIONS = "1500"


def main():
    probe = sys.argv[1]
    failures = 0
    with tempfile.TemporaryDirectory(prefix="nodegate-salt-") as state:
        subprocess.run(["swtpm_setup", "--tpm2", "--tpmstate", state, "--overwrite"],
                       check=True, stdout=subprocess.DEVNULL)
        master, slave = pty.openpty()
        tty.setraw(slave)  # the TPM speaks binary: no line discipline may touch the bytes
        swtpm = subprocess.Popen(["swtpm", "chardev", "--tpm2", "--fd", str(master),
                                  "--tpmstate", f"dir={state}", "--flags", "startup-clear"],
                                 pass_fds=[master])
        try:
            for curve in ("p256", "p384"):
                r = subprocess.run([probe, os.ttyname(slave), SESSIONS, curve],
                                   capture_output=True, text=True, timeout=600)
                print(r.stdout + r.stderr, end="")
                ok = r.returncode == 0
                print(("ok    " if ok else "FAIL  ") +
                      "%s sessions salted to a %s key all authorized" % (SESSIONS, curve))
                failures += not ok
        finally:
            swtpm.terminate()
            swtpm.wait(timeout=10)
            os.close(master)
            os.close(slave)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
