#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""make check-image: the verifier's OCI image (deploy/image/build-image.sh), built twice.

1. Both builds are the same bytes: same manifest digest, same blobs.
2. The configuration runs the verifier as 65532:65532, with every timestamp the build's
   SOURCE_DATE_EPOCH.
3. The layer's contents are exactly deploy/image/contents.txt (type, mode, owner, path, link
   target; a change shows as a diff to review and commit), with no setuid or setgid file, no
   file anyone may write but /tmp (sticky), everything owned by root, and no shell, package
   manager or other program than the verifier.
4. The root file system works: the layer is unpacked and the verifier run from it in a new
   mount and PID namespace, chrooted, as uid 65532, on 127.0.0.1; GET /healthz over TLS is
   200 and SIGTERM stops it with 0. (Containers do not run in this sandbox: podman fails on
   its hybrid cgroups; where podman is installed and works, the image is also run with it.)

    check-image.py BUILD_A BUILD_B VERIFIER [--update]   (BUILD_x: build-image.sh's OUT_DIR)
"""
import hashlib
import http.client
import json
import os
import re
import shutil
import signal
import ssl
import stat
import subprocess
import sys
import tarfile
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
CONTENTS = os.path.join(ROOT, "deploy", "image", "contents.txt")
UID = 65532
results = {"passed": 0, "failed": 0}


def check(ok, what):
    results["passed" if ok else "failed"] += 1
    print(("ok   " if ok else "FAIL ") + what, flush=True)
    return ok


def blob(layout, digest):
    return os.path.join(layout, "blobs", *digest.split(":"))


def load(layout, digest):
    with open(blob(layout, digest)) as f:
        return json.load(f)


def manifest_of(build):
    layout = os.path.join(build, "oci")
    with open(os.path.join(layout, "index.json")) as f:
        index = json.load(f)
    digest = index["manifests"][0]["digest"]
    return layout, digest, load(layout, digest)


def tree_digest(layout):
    h = hashlib.sha256()
    for d, _, files in sorted(os.walk(layout)):
        for f in sorted(files):
            p = os.path.join(d, f)
            h.update(os.path.relpath(p, layout).encode() + b"\0")
            with open(p, "rb") as fh:
                h.update(hashlib.sha256(fh.read()).digest())
    return h.hexdigest()


def listing(layer):
    """One line per entry: type mode uid:gid path [-> target], sorted."""
    lines = []
    with tarfile.open(layer) as t:
        for m in t.getmembers():
            kind = {tarfile.DIRTYPE: "d", tarfile.SYMTYPE: "l", tarfile.LNKTYPE: "h",
                    tarfile.REGTYPE: "f"}.get(m.type, "?")
            path = "/" + m.name.lstrip("./") if m.name not in (".", "./") else "/"
            line = f"{kind} {m.mode:04o} {m.uid}:{m.gid} {path}"
            if kind in ("l", "h"):
                line += f" -> {m.linkname}"
            lines.append(line)
    return sorted(lines, key=lambda ln: ln.split(" ", 3)[3])


def check_contents(lines, update):
    if update:
        with open(CONTENTS, "w") as f:
            f.write("# The image's layer, as tests/deploy/check-image.py lists it: type (f file, "
                    "d directory,\n# l symlink, h hard link), mode, owner, path. "
                    "make check-image UPDATE=1 rewrites it.\n")
            f.write("".join(ln + "\n" for ln in lines))
        print(f"note {os.path.relpath(CONTENTS, ROOT)} rewritten ({len(lines)} entries)")
    with open(CONTENTS) as f:
        want = [ln.rstrip("\n") for ln in f if not ln.startswith("#")]
    missing, extra = sorted(set(want) - set(lines)), sorted(set(lines) - set(want))
    check(not missing and not extra,
          f"the layer is exactly deploy/image/contents.txt ({len(lines)} entries)"
          + "".join(f"\n     missing: {m}" for m in missing[:20])
          + "".join(f"\n     extra:   {e}" for e in extra[:20]))
    bad = []
    for ln in lines:
        kind, mode, owner, path = ln.split(" ", 3)
        mode = int(mode, 8)
        if mode & (stat.S_ISUID | stat.S_ISGID):
            bad.append(f"setuid/setgid: {ln}")
        if kind in ("f", "d") and mode & stat.S_IWOTH and path != "/tmp":
            bad.append(f"world-writable: {ln}")
        if owner != "0:0":
            bad.append(f"not owned by root: {ln}")
        if kind == "f" and mode & 0o111 and not re.search(r"\.so(\.[0-9.]+)?$", path) \
                and path != "/usr/bin/nodegate-verifier":
            bad.append(f"a program other than the verifier: {ln}")
        if re.search(r"/(s?bin/)?(sh|bash|dash|busybox|apt|apt-get|dpkg)$", path.split(" ")[0]):
            bad.append(f"a shell or package manager: {ln}")
    check(not bad, "no setuid/setgid, nothing world-writable but /tmp, all root's, no program "
          "but the verifier, no shell, no package manager" + "".join("\n     " + b for b in bad))
    check("f 0755 0:0 /usr/bin/nodegate-verifier" in lines, "/usr/bin/nodegate-verifier 0755")
    check(any(ln.endswith(" /tmp") and ln.startswith("d 1777") for ln in lines),
          "/tmp is 1777")


def start_in_rootfs(rootfs, args):
    """The verifier from the unpacked root: new mount and PID namespaces, /dev's null, zero,
    random and urandom bound in, chroot, uid/gid 65532. Returns (proc, port or None)."""
    script = (
        "set -e; r=$1; shift; for n in null zero random urandom; do "
        ": > \"$r/dev/$n\"; mount --bind \"/dev/$n\" \"$r/dev/$n\"; done; "
        "mount -t proc proc \"$r/proc\"; "
        f"exec chroot --userspec={UID}:{UID} \"$r\" /usr/bin/nodegate-verifier \"$@\"")
    proc = subprocess.Popen(
        ["unshare", "--mount", "--pid", "--fork", "--kill-child", "sh", "-c", script, "sh",
         rootfs] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = proc.stdout.readline()
    m = re.fullmatch(r"listening on https://127\.0\.0\.1:(\d+)\n", line)
    return proc, int(m.group(1)) if m else None


def check_runs(layout, manifest, verifier, d):
    rootfs = os.path.join(d, "rootfs")
    os.mkdir(rootfs)
    with tarfile.open(blob(layout, manifest["layers"][0]["digest"])) as t:
        t.extractall(rootfs, numeric_owner=True)
    # The files a deployment mounts, put into this copy of the root only.
    etc = os.path.join(rootfs, "etc", "nodegate-verifier")
    run = lambda cmd: subprocess.run(cmd, check=True, capture_output=True, timeout=60)  # noqa
    run([verifier, "keygen", os.path.join(etc, "secret")])
    shutil.copy(os.path.join(ROOT, "tests", "fuzz", "data", "round2-policy.json"),
                os.path.join(etc, "policy.json"))
    run([verifier, "ek", "allow", os.path.join(etc, "ek-allowlist"), "--public",
         os.path.join(ROOT, "tests", "fuzz", "data", "ek-rsa.pub")])
    run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
         "-nodes", "-keyout", os.path.join(etc, "tls.key"), "-out",
         os.path.join(etc, "tls.crt"), "-days", "2", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1"])
    shutil.copy(os.path.join(etc, "tls.crt"), os.path.join(etc, "cluster-ca.pem"))
    with open(os.path.join(etc, "pool"), "w") as f:
        f.write("abcdef.0123456789abcdef\n")
    for f in os.listdir(etc):
        os.chown(os.path.join(etc, f), UID, UID)
        os.chmod(os.path.join(etc, f), 0o600)
    e = "/etc/nodegate-verifier/"
    args = ["serve", "--listen", "127.0.0.1:0", "--cert", e + "tls.crt", "--key", e + "tls.key",
            "--secret", e + "secret", "--policy", e + "policy.json", "--ek-allowlist",
            e + "ek-allowlist", "--token-source", "pool:" + e + "pool", "--api-server",
            "https://127.0.0.1:6443", "--cluster-ca", e + "cluster-ca.pem", "--audit-log", "-"]
    proc, port = start_in_rootfs(rootfs, args)
    kids = []
    try:
        if not check(port is not None, "the verifier starts from the image's root (chroot, "
                     "uid 65532, new mount and PID namespaces)"):
            proc.kill()
            print("     stderr: " + proc.communicate(timeout=10)[1].strip())
            return
        ctx = ssl.create_default_context(cafile=os.path.join(etc, "tls.crt"))
        conn = http.client.HTTPSConnection("127.0.0.1", port, context=ctx, timeout=10)
        conn.request("GET", "/healthz")
        r = conn.getresponse()
        body = r.read().decode()
        check(r.status == 200 and '"ok"' in body, f"GET /healthz over TLS: {r.status} {body}")
        conn.close()
        # The namespace's init is the chrooted verifier (sh and chroot exec'd it): unshare's
        # child. Its credentials from the host's /proc.
        kids = subprocess.run(["pgrep", "-P", str(proc.pid)], capture_output=True,
                              text=True).stdout.split()
        uids = []
        for pid in kids:
            with open(f"/proc/{pid}/status") as f:
                uids += [ln.split()[1:] for ln in f if ln.startswith("Uid:")]
            with open(f"/proc/{pid}/comm") as f:
                comm = f.read().strip()
        check(len(kids) == 1 and comm.startswith("nodegate-verif") and uids == [[str(UID)] * 4],
              f"the process is the verifier, uid {UID} ({uids})")
    finally:
        # unshare does not forward signals: SIGTERM goes to the verifier itself, and unshare
        # exits with its status.
        for pid in kids if port is not None else []:
            os.kill(int(pid), signal.SIGTERM)
        try:
            rc = proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            rc = proc.wait()
    if port is not None:
        check(rc == 0, f"SIGTERM: exit status 0 (got {rc})")


def check_podman(build, tag):
    podman = shutil.which("podman")
    if not podman:
        print("note podman not installed: the image is not run in a container here")
        return
    r = subprocess.run([podman, "run", "--rm", f"oci:{os.path.join(build, 'oci')}:{tag}",
                        "--version"], capture_output=True, text=True, timeout=120)
    if r.returncode != 0:
        print(f"note podman does not run containers here: {r.stderr.strip()[-200:]}")
        return
    check(r.stdout.startswith("nodegate-verifier"), f"podman runs the image: {r.stdout.strip()}")


def main():
    args = [a for a in sys.argv[1:] if a != "--update"]
    if len(args) != 3:
        sys.exit("usage: check-image.py BUILD_A BUILD_B VERIFIER [--update]")
    a, b, verifier = args
    epoch = int(os.environ["SOURCE_DATE_EPOCH"])
    la, da, ma = manifest_of(a)
    lb, db, _ = manifest_of(b)
    check(da == db, f"two builds, one digest: {da} / {db}")
    check(tree_digest(la) == tree_digest(lb), "two builds, the same OCI layout byte for byte")

    config = load(la, ma["config"]["digest"])
    created = __import__("datetime").datetime.fromtimestamp(
        epoch, __import__("datetime").timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    check(config["config"].get("User") == f"{UID}:{UID}", f"runs as {config['config'].get('User')}")
    check(config["config"].get("Entrypoint") == ["/usr/bin/nodegate-verifier"],
          "the entrypoint is the verifier")
    stamps = [config["created"]] + [h["created"] for h in config.get("history", [])]
    check(all(s == created for s in stamps), f"every timestamp is SOURCE_DATE_EPOCH ({created})")
    check(len(ma["layers"]) == 1, "one layer")

    with tempfile.TemporaryDirectory(prefix="check-image.") as d:
        os.chmod(d, 0o755)
        layer = blob(la, ma["layers"][0]["digest"])
        lines = listing(layer)
        with tarfile.open(layer) as t:
            check(all(m.mtime == epoch for m in t.getmembers()),
                  "every file's mtime is SOURCE_DATE_EPOCH")
        check_contents(lines, "--update" in sys.argv)
        check_runs(la, ma, os.path.abspath(verifier), d)
    tag = json.load(open(os.path.join(la, "index.json")))["manifests"][0]["annotations"][
        "org.opencontainers.image.ref.name"]
    check_podman(a, tag)
    print(f"check-image: {results['passed']} passed, {results['failed']} failed")
    sys.exit(1 if results["failed"] else 0)


if __name__ == "__main__":
    main()
