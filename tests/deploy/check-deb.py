#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""make check-deb: the Debian packages `make deb` built (debian/).

- nodegate: the static gate byte for byte the one the Makefile built, the dracut module,
  the mkinitcpio hooks, the docs and man page; no shared library dependency;
- nodegate-verifier: the verifier (it runs: --version), its dependencies on Debian's OpenSSL,
  json-c and libmicrohttpd, the unit, sysusers and tmpfiles entries, serve.env a conffile,
  the maintainer scripts creating the user and the directory and neither enabling nor
  starting the unit;
- lintian on both: no error and no warning (every tag printed);
- the unit: `systemd-analyze verify` on the unpacked package, and `systemd-analyze security
  --offline`: its exposure, printed, at most MAX_EXPOSURE.

    check-deb.py DEB_DIR NODEGATE VERIFIER
"""
import glob
import hashlib
import os
import re
import subprocess
import sys
import tempfile

MAX_EXPOSURE = 2.0
results = {"passed": 0, "failed": 0}


def check(ok, what):
    results["passed" if ok else "failed"] += 1
    print(("ok   " if ok else "FAIL ") + what, flush=True)
    return ok


def run(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, timeout=300, **kw)


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def contents(deb):
    out = run(["dpkg-deb", "--contents", deb]).stdout
    files = {}
    for line in out.splitlines():
        parts = line.split(None, 5)
        path = parts[5].split(" -> ")[0].lstrip(".")
        files[path.rstrip("/") or "/"] = parts[0]
    return files


def field(deb, name):
    return run(["dpkg-deb", "--field", deb, name]).stdout.strip()


def check_gate(deb, nodegate, d):
    files = contents(deb)
    for path, mode in (("/usr/bin/nodegate", "-rwxr-xr-x"),
                       ("/usr/lib/dracut/modules.d/90nodegate/module-setup.sh", "-rwxr-xr-x"),
                       ("/usr/lib/dracut/modules.d/90nodegate/nodegate-attest.service", None),
                       ("/usr/lib/initcpio/install/nodegate", None),
                       ("/usr/lib/initcpio/hooks/nodegate", None),
                       ("/usr/share/man/man1/nodegate.1.gz", None)):
        check(path in files and (mode is None or files[path] == mode),
              f"nodegate ships {path}" + (f" {mode}" if mode else "")
              + ("" if path in files else " (missing)"))
    for doc in ("README.md", "cmdline.md", "failures.md", "mkinitcpio.md"):
        check(any(p.startswith(f"/usr/share/doc/nodegate/{doc}") for p in files),
              f"nodegate ships the doc {doc}")
    root = os.path.join(d, "nodegate")
    run(["dpkg-deb", "--extract", deb, root])
    check(sha256(os.path.join(root, "usr/bin/nodegate")) == sha256(nodegate),
          "the packaged gate is byte for byte the one the Makefile built and tested")
    depends = field(deb, "Depends")
    check("lib" not in depends, f"nodegate depends on no shared library (Depends: {depends!r})")
    check(field(deb, "Built-Using").startswith("musl (= "),
          f"Built-Using names the musl it links: {field(deb, 'Built-Using')}")


def check_verifier(deb, verifier, d):
    files = contents(deb)
    unit = next((p for p in files if p.endswith("/systemd/system/nodegate-verifier.service")),
                None)
    check(unit is not None, f"nodegate-verifier ships its unit ({unit})")
    for path in ("/usr/bin/nodegate-verifier", "/usr/lib/sysusers.d/nodegate-verifier.conf",
                 "/usr/lib/tmpfiles.d/nodegate-verifier.conf", "/etc/nodegate-verifier/serve.env",
                 "/usr/share/man/man1/nodegate-verifier.1.gz"):
        check(path in files, f"nodegate-verifier ships {path}")
    check(any(p.startswith("/usr/share/doc/nodegate-verifier/verifier.md") for p in files),
          "nodegate-verifier ships docs/verifier.md")
    depends = field(deb, "Depends")
    for lib in ("libssl3", "libjson-c5", "libmicrohttpd12"):
        check(lib in depends, f"nodegate-verifier depends on {lib}")
    root = os.path.join(d, "verifier")
    run(["dpkg-deb", "--extract", deb, root])
    ctrl = os.path.join(d, "verifier-control")
    run(["dpkg-deb", "--control", deb, ctrl])
    r = run([os.path.join(root, "usr/bin/nodegate-verifier"), "--version"])
    want = run([verifier, "--version"]).stdout
    check(r.returncode == 0 and r.stdout == want, f"the packaged verifier runs: {r.stdout.strip()}")
    with open(os.path.join(ctrl, "conffiles")) as f:
        conffiles = f.read().split()
    check("/etc/nodegate-verifier/serve.env" in conffiles, f"serve.env is a conffile ({conffiles})")
    with open(os.path.join(ctrl, "postinst")) as f:
        postinst = f.read()
    check("systemd-sysusers" in postinst and "nodegate-verifier" in postinst,
          "postinst creates the user (systemd-sysusers)")
    check("systemd-tmpfiles" in postinst, "postinst creates /etc/nodegate-verifier (tmpfiles)")
    # dh_installsystemd --no-enable --no-start: `enable` only for a unit the admin had
    # enabled already (was-enabled inside debian-installed), never a start.
    starts = re.findall(r"deb-systemd-invoke (?:start|restart).*", postinst)
    guarded = re.search(r"debian-installed 'nodegate-verifier.service'; then\n(?:.*\n)*?\s*if "
                        r"deb-systemd-helper --quiet was-enabled[^\n]*\n[^\n]*\n\s*"
                        r"deb-systemd-helper enable", postinst)
    enables = postinst.count("deb-systemd-helper enable")
    check(not starts and enables == (1 if guarded else 0),
          f"postinst neither starts the unit nor enables it on a new install {starts}")
    return root, unit


def check_lintian(debs):
    # (--show-overrides would list the overridden tags too, but lintian 2.116 then exits 2
    # whatever it finds: the overrides are counted from debian/*.lintian-overrides instead.)
    r = run(["lintian", "--display-info", "--display-experimental", "--pedantic",
             "--tag-display-limit", "0", "--fail-on", "error,warning"] + debs)
    tags = [ln for ln in r.stdout.splitlines() if re.match(r"^[EWIPX]: ", ln)]
    for t in tags:
        print("     lintian " + t)
    overrides = []
    for path in glob.glob(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                       "debian", "*.lintian-overrides")):
        with open(path) as f:
            overrides += [ln.strip() for ln in f if ln.strip() and not ln.startswith("#")]
    errors = [t for t in tags if t[0] in "EW"]
    check(r.returncode == 0 and not errors,
          f"lintian: {len(errors)} errors or warnings, {len(tags) - len(errors)} "
          f"info/pedantic/experimental, {len(overrides)} overrides (each with its reason in "
          f"debian/*.lintian-overrides)"
          + (f" (exit {r.returncode}: {r.stderr.strip()})" if r.returncode else ""))


def check_unit(root, unit, d):
    name = os.path.basename(unit)
    # verify resolves ExecStart= on this host, where the package is not installed: a copy of
    # the unit naming the unpacked binary.
    with open(os.path.join(root, unit.lstrip("/"))) as f:
        text = f.read()
    copy = os.path.join(d, name)
    with open(copy, "w") as f:
        f.write(text.replace("/usr/bin/nodegate-verifier",
                             os.path.join(root, "usr/bin/nodegate-verifier")))
    r = run(["systemd-analyze", "verify", "--man=no", copy])
    problems = [ln for ln in (r.stdout + r.stderr).splitlines()
                if "nodegate-verifier" in ln]
    check(r.returncode == 0 and not problems,
          "systemd-analyze verify: clean" + "".join("\n     " + p for p in problems))
    r = run(["systemd-analyze", "security", "--offline=yes", f"--root={root}",
             "--no-pager", name])
    m = re.search(r"Overall exposure level for \S+: ([0-9.]+) (\S+)", r.stdout)
    for line in r.stdout.splitlines():
        if line.startswith("✗"):
            print("     " + line)
    score = float(m.group(1)) if m else None
    check(score is not None and score <= MAX_EXPOSURE,
          f"systemd-analyze security: exposure {m.group(1)} {m.group(2)}" if m else
          f"systemd-analyze security: no score ({r.stderr.strip()[-200:]})")


def main():
    if len(sys.argv) != 4:
        sys.exit("usage: check-deb.py DEB_DIR NODEGATE VERIFIER")
    deb_dir, nodegate, verifier = sys.argv[1:]
    gate_deb = glob.glob(os.path.join(deb_dir, "nodegate_*_amd64.deb"))
    verifier_deb = glob.glob(os.path.join(deb_dir, "nodegate-verifier_*_amd64.deb"))
    if not check(len(gate_deb) == 1 and len(verifier_deb) == 1,
                 f"two packages: {gate_deb + verifier_deb}"):
        sys.exit(1)
    others = [f for f in glob.glob(os.path.join(deb_dir, "*.deb"))
              if f not in gate_deb + verifier_deb]
    check(not others, f"no other package (no -dbgsym): {others}")
    with tempfile.TemporaryDirectory(prefix="check-deb.") as d:
        check_gate(gate_deb[0], nodegate, d)
        root, unit = check_verifier(verifier_deb[0], verifier, d)
        check_lintian(gate_deb + verifier_deb)
        if unit:
            check_unit(root, unit, d)
    print(f"check-deb: {results['passed']} passed, {results['failed']} failed")
    sys.exit(1 if results["failed"] else 0)


if __name__ == "__main__":
    main()
