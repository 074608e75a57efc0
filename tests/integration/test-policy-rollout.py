#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Image rollouts (issue 15 §4): `policy merge A B` accepts the boots of image A and of image B
and of nothing else, `policy retire` refuses image A's boots by name (image-retired), and the
CLI refuses merges and retirements that would weaken or empty the policy. Software nodes
(loadgen attest) against the ASan verifier over HTTPS on 127.0.0.1; each image is a reference
event log from mklog.py with its own UKI (PCR 4) and sections (PCR 11)."""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import softworld  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--verifier", required=True)
    ap.add_argument("--loadgen", required=True)
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()
    f = softworld.Failures()
    work = tempfile.mkdtemp(prefix="nodegate-rollout-")
    started = time.monotonic()
    world = None
    try:
        world = softworld.World(work, os.path.abspath(args.verifier),
                                os.path.abspath(args.loadgen), nodes=8, tokens=32)
        rows(f, work, world)
    finally:
        if world:
            world.stop_all(f)
        if args.keep:
            print("work directory kept: " + work)
        else:
            shutil.rmtree(work, ignore_errors=True)
        print("%d checks passed, %d failed, %.0f s" % (f.passed, len(f.failed),
                                                     time.monotonic() - started))
        for what in f.failed:
            print("FAILED: " + what)
    return 1 if f.failed else 0


def rows(f, work, world):
    V = world.verifier

    def run(*a):
        return subprocess.run([V] + list(a), capture_output=True, text=True, timeout=60)

    logs = {}
    for name, opts in (("a", ["--uki", "image-a.efi", "--cmdline", "root=a"]),
                       ("b", ["--uki", "image-b.efi", "--cmdline", "root=b"]),
                       ("c", ["--uki", "image-c.efi", "--cmdline", "root=c"])):
        logs[name] = os.path.join(work, "image-%s.log" % name)
        softworld.must([sys.executable, softworld.MKLOG, "-o", logs[name], "--secure-boot"] +
                       opts)
    pol = {}
    for name in ("a", "b"):
        pol[name] = os.path.join(work, "policy-%s.json" % name)
        r = run("policy", "from-log", logs[name], "--label", "image-" + name)
        f.check(r.returncode == 0 and '"label": "image-%s"' % name in r.stdout,
                "from-log --label writes the image's label", r.stderr)
        with open(pol[name], "w") as out:
            out.write(r.stdout)

    merged = os.path.join(work, "policy-ab.json")
    r = run("policy", "merge", pol["a"], pol["b"])
    f.check(r.returncode == 0, "policy merge A B", r.stderr)
    with open(merged, "w") as out:
        out.write(r.stdout)
    doc = json.loads(r.stdout) if r.returncode == 0 else {}
    f.check([i["label"] for i in doc.get("images", [])] == ["image-a", "image-b"] and
            "pcrs" not in doc,
            "the merged policy lists both images, each with its own rules", r.stdout[:400])
    r2 = run("policy", "merge", merged, pol["a"])
    f.check(r2.returncode == 0 and r2.stdout == r.stdout,
            "merging an image again changes nothing (the same label, the same rules)", r2.stderr)
    r = run("policy", "check", merged)
    f.check(r.returncode == 0 and "image image-a: accepted" in r.stdout and
            "image image-b: accepted" in r.stdout, "policy check lists the images", r.stdout)

    # Refusals of the CLI: the opt-ins differ; two images with one label; the last image.
    weak = os.path.join(work, "policy-b-weak.json")
    with open(weak, "w") as out:
        out.write(run("policy", "from-log", logs["b"], "--label", "image-b",
                      "--allow", "secure-boot-off").stdout)
    r = run("policy", "merge", pol["a"], weak)
    f.check(r.returncode == 1 and "opt-ins" in r.stderr and not r.stdout,
            "merge refuses policies whose opt-ins differ (a merge must not weaken A)", r.stderr)
    # The platform section binds every image: kept by a merge, and never dropped or taken from
    # one side only (a merged policy would stop requiring A's TEE evidence).
    with_platform = {}
    for k in ("a", "b"):
        with open(pol[k]) as src:
            doc = json.load(src)
        doc["platform"] = {"require": "snp", "tpm_trust": "none", "snp": {"measurements": ["ab" * 48]}}
        with_platform[k] = os.path.join(work, f"policy-{k}-snp.json")
        with open(with_platform[k], "w") as out:
            json.dump(doc, out)
    r = run("policy", "merge", with_platform["a"], with_platform["b"])
    merged_platform = json.loads(r.stdout).get("platform", {}) if r.returncode == 0 else {}
    f.check(r.returncode == 0 and merged_platform.get("require") == "snp",
            "merge keeps the platform section both policies share", r.stderr + r.stdout[:300])
    r = run("policy", "merge", with_platform["a"], pol["b"])
    f.check(r.returncode == 1 and "platform sections" in r.stderr and not r.stdout,
            "merge refuses policies whose platform sections differ (B must not drop A's)",
            r.stderr)
    clash = os.path.join(work, "policy-c-as-a.json")
    with open(clash, "w") as out:
        out.write(run("policy", "from-log", logs["c"], "--label", "image-a").stdout)
    r = run("policy", "merge", pol["a"], clash)
    f.check(r.returncode == 1 and "labelled \"image-a\"" in r.stderr,
            "merge refuses two different images with one label", r.stderr)
    only = os.path.join(work, "policy-a-only.json")
    shutil.copy(pol["a"], only)
    r = run("policy", "retire", only, "image-a")
    f.check(r.returncode == 1 and "only image" in r.stderr,
            "retire refuses to retire the last accepted image", r.stderr)
    r = run("policy", "allow", merged, "--pcr", "4", "--type", "EV_IPL", "--sha256", "ab" * 32)
    f.check(r.returncode == 1 and "several images" in r.stderr,
            "allow refuses a policy of several images (allow in the image's own, merge again)",
            r.stderr)
    r = run("policy", "retire", merged + ".missing", "image-a")
    f.check(r.returncode == 1, "retire of a missing file fails", r.stderr)

    audit = os.path.join(work, "audit.jsonl")

    def attest(v, node, image):
        res, run_ = world.attest(v.url, first=node, log=logs[image])
        return (res[0] if res else {}), run_

    def audit_of(node):
        lines = [a for a in softworld.audit_lines(audit) if a.get("endpoint") == "attest" and
                 a.get("node", {}).get("hostname") == "soft-node-%d" % node]
        return lines[-1] if lines else {}

    v = world.start("ab", "pool:" + world.pool, audit, policy=merged)
    got, r = attest(v, 0, "a")
    f.check(got.get("result") == "issued", "merged A+B: a node of image A gets its token",
            r.stdout + r.stderr + v.stderr())
    f.check(audit_of(0).get("image") == "image-a",
            "merged A+B: the issued line names the image the node booted (image-a)", audit_of(0))
    got, r = attest(v, 1, "b")
    f.check(got.get("result") == "issued" and audit_of(1).get("image") == "image-b",
            "merged A+B: a node of image B gets its token, its issued line names image-b",
            r.stdout + r.stderr + str(audit_of(1)))
    got, r = attest(v, 2, "c")
    a = audit_of(2)
    f.check(got.get("result") == "refused" and got.get("error") == "event-not-allowed" and
            got.get("sealed") == "no" and a.get("reason") == "event-not-allowed" and
            "none of the policy's 2 images matches" in a.get("message", "") and
            "token_id" not in a,
            "merged A+B: a node of image C (neither) is refused event-not-allowed, no token",
            "%s\n%s" % (got, a))
    v.stop()

    # Retire A: its nodes are refused by name; B's still join.
    r = run("policy", "retire", merged, "image-a")
    f.check(r.returncode == 0 and "image image-a retired; accepted: image-b" in r.stdout,
            "policy retire POLICY image-a", r.stdout + r.stderr)
    doc = json.load(open(merged))
    f.check([i["label"] for i in doc.get("images", [])] == ["image-b"] and
            [i["label"] for i in doc.get("retired", [])] == ["image-a"],
            "image-a moved to \"retired\"", json.dumps(doc)[:300])
    r = run("policy", "retire", merged, "image-a")
    f.check(r.returncode == 0 and "already retired" in r.stdout,
            "retiring it again is a no-op", r.stdout)
    v = world.start("b-only", "pool:" + world.pool, audit, policy=merged)
    got, r = attest(v, 3, "a")
    a = audit_of(3)
    f.check(got.get("result") == "refused" and got.get("error") == "image-retired" and
            got.get("status") == "403" and got.get("sealed") == "no",
            "after retire: a node of image A is refused image-retired (403), no sealed token",
            r.stdout + r.stderr)
    f.check(a.get("decision") == "rejected" and a.get("reason") == "image-retired" and
            "image-a" in a.get("message", "") and "token_id" not in a,
            "after retire: the audit line names the retired image", a)
    got, r = attest(v, 4, "b")
    f.check(got.get("result") == "issued", "after retire: a node of image B still joins",
            r.stdout + r.stderr)
    got, r = attest(v, 5, "c")
    f.check(got.get("result") == "refused" and got.get("error") == "event-not-allowed",
            "after retire: image C is still refused as not allowed", r.stdout)
    v.stop()
    r = run("policy", "merge", merged, pol["a"])
    f.check(r.returncode == 1 and "retired in one policy and accepted in the other" in r.stderr,
            "merge refuses to bring a retired image back silently", r.stderr)


if __name__ == "__main__":
    sys.exit(main())
