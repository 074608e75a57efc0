#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The dracut module's systemd units, read as systemd reads them: one row a property, a
section-aware parser (comments, continuation lines, dependency lists that add up and reset on
an empty assignment, drop-ins applied over their unit), then `systemd-analyze verify` on the
units installed into a temporary root, where any complaint fails the test.

NODEGATE_DRACUT_MODULE points the test at a copy of the module (to break it on purpose).
"""

import os
import shutil
import subprocess
import sys
import tempfile

MODULE = os.path.abspath(os.environ.get("NODEGATE_DRACUT_MODULE", os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "..", "dracut-module", "90nodegate")))
UNITDIR = "/usr/lib/systemd/system"
# The host's unit the drop-in extends, if it has one: the drop-in is then checked merged.
HOST_SWITCH_ROOT = os.path.join(UNITDIR, "initrd-switch-root.service")
# The shells nodegate-shell.conf goes over: dracut's own emergency units where dracut is
# installed (its emergency.service is also its rescue.service), else the host's.
DRACUT_SYSTEMD = "/usr/lib/dracut/modules.d/98dracut-systemd"
SHELL_UNITS = {
    "emergency.service": os.path.join(DRACUT_SYSTEMD, "emergency.service"),
    "rescue.service": os.path.join(DRACUT_SYSTEMD, "emergency.service"),
    "dracut-emergency.service": os.path.join(DRACUT_SYSTEMD, "dracut-emergency.service"),
    "debug-shell.service": os.path.join(UNITDIR, "debug-shell.service"),
}
CAP_FAILED = "/usr/bin/nodegate --cap-failed"

# Keys whose assignments add up (space-separated unit names), an empty one resetting the list.
LIST_KEYS = {
    "After", "Before", "Requires", "Requisite", "Wants", "BindsTo", "PartOf", "Upholds",
    "Conflicts", "OnFailure", "OnSuccess", "PropagatesReloadTo", "ReloadPropagatedFrom",
    "JoinsNamespaceOf", "RequiredBy", "WantedBy", "UpheldBy", "Also", "Alias",
}
# Keys whose assignments add up one line each (commands, conditions), an empty one resetting.
MULTI_PREFIXES = ("Exec", "Condition", "Assert", "Environment")


def parse_unit(text, name, into=None):
    """Returns {(section, key): value} with text applied over into: a list of words for
    LIST_KEYS, a list of lines for MULTI_PREFIXES, the last assignment otherwise."""
    props = dict(into or {})
    section = None
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        line = lines[i].strip()
        i += 1
        if not line or line[0] in "#;":
            continue
        # A trailing backslash joins the next line, as systemd does, with a space; comment
        # lines inside the continuation are skipped.
        while line.endswith("\\") and i < len(lines):
            following = lines[i].strip()
            i += 1
            if following[:1] in ("#", ";"):
                continue
            line = line[:-1] + " " + following
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1]
            continue
        if section is None or "=" not in line:
            raise ValueError(f"{name}: cannot read line {line!r}")
        key, value = (part.strip() for part in line.split("=", 1))
        if key in LIST_KEYS:
            words = props.get((section, key), []) if value else []
            props[(section, key)] = words + [w for w in value.split() if w not in words]
        elif key.startswith(MULTI_PREFIXES):
            props[(section, key)] = props.get((section, key), []) + [value] if value else []
        else:
            props[(section, key)] = value
    return props


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def load_units():
    units = {}
    for name in ("nodegate-root.service", "nodegate-attest.service", "nodegate-failed.service"):
        units[name] = parse_unit(read(os.path.join(MODULE, name)), name)
    dropin = os.path.join(MODULE, "initrd-switch-root-nodegate.conf")
    units["drop-in"] = parse_unit(read(dropin), dropin)
    base = parse_unit(read(HOST_SWITCH_ROOT), HOST_SWITCH_ROOT) if os.path.exists(
        HOST_SWITCH_ROOT) else {}
    units["initrd-switch-root.service"] = parse_unit(read(dropin), dropin, into=base)
    shell = os.path.join(MODULE, "nodegate-shell.conf")
    for name, path in SHELL_UNITS.items():
        base = parse_unit(read(path), path) if os.path.exists(path) else {}
        units[name] = parse_unit(read(shell), shell, into=base)
    return units


ROOT_EXEC = "/usr/bin/nodegate --mode=initrd --phase=root --sysroot=/sysroot"
ATTEST_EXEC = "/usr/bin/nodegate --mode=initrd --phase=attest --sysroot=/sysroot"

# unit | section | key | op | expected. has: every word is in the list; is: the value (a
# string, or the list of a multi key) equals expected.
ROWS = [
    ("nodegate-root.service", "Unit", "DefaultDependencies", "is", "no"),
    ("nodegate-root.service", "Unit", "ConditionPathExists", "is", ["/etc/initrd-release"]),
    ("nodegate-root.service", "Unit", "Before", "has",
     ["initrd-root-fs.target", "initrd-root-device.target", "sysroot.mount"]),
    ("nodegate-root.service", "Unit", "OnFailure", "has", ["nodegate-failed.service"]),
    ("nodegate-root.service", "Unit", "OnFailureJobMode", "is", "replace-irreversibly"),
    ("nodegate-root.service", "Unit", "IgnoreOnIsolate", "is", "yes"),
    ("nodegate-root.service", "Service", "Type", "is", "oneshot"),
    ("nodegate-root.service", "Service", "RemainAfterExit", "is", "yes"),
    ("nodegate-root.service", "Service", "ExecStart", "is", [ROOT_EXEC]),
    ("nodegate-root.service", "Service", "TimeoutStartSec", "is", "infinity"),
    ("nodegate-root.service", "Install", "RequiredBy", "has", ["initrd-root-fs.target"]),
    ("nodegate-attest.service", "Unit", "DefaultDependencies", "is", "no"),
    ("nodegate-attest.service", "Unit", "ConditionPathExists", "is", ["/etc/initrd-release"]),
    ("nodegate-attest.service", "Unit", "Requires", "has", ["nodegate-root.service"]),
    ("nodegate-attest.service", "Unit", "After", "has",
     ["nodegate-root.service", "network-online.target"]),
    ("nodegate-attest.service", "Unit", "Before", "has", ["initrd.target"]),
    ("nodegate-attest.service", "Unit", "OnFailure", "has", ["nodegate-failed.service"]),
    ("nodegate-attest.service", "Unit", "OnFailureJobMode", "is", "replace-irreversibly"),
    ("nodegate-attest.service", "Unit", "IgnoreOnIsolate", "is", "yes"),
    ("nodegate-attest.service", "Service", "Type", "is", "oneshot"),
    # Requisite= in the switch-root drop-in holds only while the attestation stays active.
    ("nodegate-attest.service", "Service", "RemainAfterExit", "is", "yes"),
    ("nodegate-attest.service", "Service", "ExecStart", "is", [ATTEST_EXEC]),
    ("nodegate-attest.service", "Service", "TimeoutStartSec", "is", "infinity"),
    ("nodegate-attest.service", "Install", "RequiredBy", "has", ["initrd.target"]),
    ("nodegate-failed.service", "Unit", "DefaultDependencies", "is", "no"),
    ("nodegate-failed.service", "Service", "Type", "is", "oneshot"),
    ("nodegate-failed.service", "Service", "ExecStart", "is",
     ["/usr/lib/nodegate/nodegate-failed.sh"]),
    ("drop-in", "Unit", "Requisite", "has", ["nodegate-attest.service"]),
    ("drop-in", "Unit", "After", "has", ["nodegate-attest.service"]),
    # Merged over the host's unit: nothing there may reset what the drop-in adds.
    ("initrd-switch-root.service", "Unit", "Requisite", "has", ["nodegate-attest.service"]),
    ("initrd-switch-root.service", "Unit", "After", "has", ["nodegate-attest.service"]),
] + [
    # No shell before the cap (and the wipe of /run/nodegate): the cap is the last command
    # before the shell and its failure is not ignored ("-"); a failed unit and a shell that
    # ends both power off; nothing resumes the boot afterwards (dracut's "systemctl default").
    row for unit in SHELL_UNITS for row in (
        (unit, "Service", "ExecStartPre", "last", CAP_FAILED),
        (unit, "Unit", "FailureAction", "is", "poweroff-force"),
        (unit, "Unit", "SuccessAction", "is", "poweroff-force"),
        (unit, "Service", "ExecStopPost", "is", []),
    )
]


# The parser itself: text | section | key | expected (None: not set).
PARSER_ROWS = [
    ("[Unit]\nAfter=a b\nAfter=c a\n", "Unit", "After", ["a", "b", "c"]),
    ("[Unit]\nAfter=a\nAfter=\nAfter=b\n", "Unit", "After", ["b"]),
    ("[Unit]\n# After=x\n; After=y\nAfter=a \\\n  b\n", "Unit", "After", ["a", "b"]),
    ("[Service]\nIgnoreOnIsolate=yes\n[Unit]\nAfter=a\n", "Unit", "IgnoreOnIsolate", None),
    ("[Unit]\nIgnoreOnIsolate = no\nIgnoreOnIsolate=yes\n", "Unit", "IgnoreOnIsolate", "yes"),
    ("[Service]\nExecStart=a\nExecStart=\nExecStart=b --x=1\n", "Service", "ExecStart",
     ["b --x=1"]),
]


def check_parser():
    failed = 0
    for text, section, key, expected in PARSER_ROWS:
        actual = parse_unit(text, "parser row").get((section, key))
        if actual != expected:
            failed += 1
            print(f"FAIL: parser: {text!r}: [{section}] {key} is {actual!r}, not {expected!r}")
    return failed


def check_rows(units):
    failed = 0
    for unit, section, key, op, expected in ROWS:
        actual = units[unit].get((section, key))
        if op == "has":
            ok = isinstance(actual, list) and all(w in actual for w in expected)
        elif op == "last":
            ok = isinstance(actual, list) and actual[-1:] == [expected]
        else:
            ok = actual == expected
        label = f"{unit} [{section}] {key} {op} {expected}"
        if ok:
            print(f"ok: {label}")
        else:
            failed += 1
            print(f"FAIL: {label}: it is {actual!r}")
    return failed


def check_verify():
    """systemd-analyze verify on the units as install() puts them into a root of their own;
    returns (checks run, checks failed)."""
    analyze = shutil.which("systemd-analyze")
    if not analyze:
        print("test-units: no systemd-analyze: the units are not verified")
        return 0, 0
    with tempfile.TemporaryDirectory() as root:
        unitdir = root + UNITDIR
        os.makedirs(unitdir + "/initrd-switch-root.service.d")
        for name in ("nodegate-root.service", "nodegate-attest.service",
                     "nodegate-failed.service"):
            shutil.copy(os.path.join(MODULE, name), unitdir)
        shutil.copy(os.path.join(MODULE, "initrd-switch-root-nodegate.conf"),
                    unitdir + "/initrd-switch-root.service.d/nodegate.conf")
        units = ["nodegate-root.service", "nodegate-attest.service", "nodegate-failed.service"]
        for name, path in SHELL_UNITS.items():
            if not os.path.exists(path):
                continue
            shutil.copy(path, os.path.join(unitdir, name))
            os.makedirs(os.path.join(unitdir, name + ".d"))
            shutil.copy(os.path.join(MODULE, "nodegate-shell.conf"),
                        os.path.join(unitdir, name + ".d", "nodegate.conf"))
            units.append(name)
        if os.path.exists(HOST_SWITCH_ROOT):
            shutil.copy(HOST_SWITCH_ROOT, unitdir)
            units.append("initrd-switch-root.service")
        # Every command the units run must exist in the root: stand-ins for them.
        os.makedirs(root + "/etc")
        open(root + "/etc/initrd-release", "w").close()
        for path in ("/usr/bin/nodegate", "/usr/lib/nodegate/nodegate-failed.sh",
                     "/usr/bin/modprobe", "/usr/bin/systemctl", "/bin/dracut-emergency",
                     "/bin/rm", "/bin/sh", "/bin/bash", "/usr/lib/systemd/systemd-sulogin-shell"):
            os.makedirs(os.path.dirname(root + path), exist_ok=True)
            with open(root + path, "w") as f:
                f.write("#!/bin/sh\n")
            os.chmod(root + path, 0o755)
        cmd = [analyze, "verify", "--root", root, "--man=no", *units]
        result = subprocess.run(cmd, capture_output=True, text=True, check=False,
                                env={"PATH": "/usr/bin:/bin", "LC_ALL": "C.UTF-8"})
    output = (result.stdout + result.stderr).strip()
    if result.returncode != 0 or output:
        print(f"FAIL: systemd-analyze verify {' '.join(units)} (status {result.returncode}):")
        for line in output.splitlines():
            print(f"  {line}")
        return 1, 1
    print(f"ok: systemd-analyze verify {' '.join(units)}")
    return 1, 0


def main():
    parser_failed = check_parser()
    if parser_failed:
        print(f"test-units: the unit parser is wrong in {parser_failed} rows")
        return 1
    verified, verify_failed = check_verify()
    failed = check_rows(load_units()) + verify_failed
    total = len(ROWS) + verified
    print(f"dracut units: {total - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
