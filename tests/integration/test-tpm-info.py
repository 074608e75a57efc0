#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
# `nodegate --tpm-info` against a real swtpm: the static gate's ESAPI + device TCTI path.
# swtpm serves the TPM on a pty master; the gate opens the pty slave as if it were /dev/tpm0.
import os
import pty
import subprocess
import sys
import tempfile
import tty

def main():
    gate = sys.argv[1]
    failures = 0
    with tempfile.TemporaryDirectory(prefix="nodegate-tpm-") as state:
        subprocess.run(["swtpm_setup", "--tpm2", "--tpmstate", state, "--createek",
                        "--overwrite"], check=True, stdout=subprocess.DEVNULL)
        master, slave = pty.openpty()
        # The TPM speaks binary: no line discipline may touch the bytes.
        tty.setraw(slave)
        swtpm = subprocess.Popen(["swtpm", "chardev", "--tpm2", "--fd", str(master),
                                  "--tpmstate", f"dir={state}", "--flags", "startup-clear"],
                                 pass_fds=[master])
        try:
            path = os.ttyname(slave)
            got = subprocess.run([gate, "--tpm-info", path], capture_output=True, text=True,
                                 timeout=60)
            print(got.stdout, got.stderr, sep="", end="")
            checks = [
                (got.returncode == 0, "exit status 0"),
                ("manufacturer: IBM" in got.stdout, "swtpm reports manufacturer IBM"),
                ("pcr banks:" in got.stdout and "sha256" in got.stdout.split("pcr banks:")[1],
                 "the SHA-256 bank is allocated"),
                ("spec revision: 1." in got.stdout, "a TPM 2.0 spec revision"),
            ]
            missing = subprocess.run([gate, "--tpm-info", "/nonexistent/tpm"],
                                     capture_output=True, text=True, timeout=60)
            checks.append((missing.returncode != 0 and "/nonexistent/tpm" in missing.stderr,
                           "a missing device fails and names the device"))
            for ok, what in checks:
                print(("ok    " if ok else "FAIL  ") + what)
                failures += not ok
        finally:
            swtpm.terminate()
            swtpm.wait(timeout=10)
            os.close(master)
            os.close(slave)
    return 1 if failures else 0

if __name__ == "__main__":
    sys.exit(main())
