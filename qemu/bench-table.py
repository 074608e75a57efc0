#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The boot benchmark's numbers: `parse KIND RUN WALL_MS LOG` prints one JSON object with the
times and TPM command counts of one boot, read from its serial log; `table RESULTS.jsonl` prints
the per-phase medians of the gate, the reference, the gate in a dracut (systemd) initramfs and
the gate on Debian 13's configuration (stub 257, kernel 6.12) side by side (qemu/bench-boot.sh).

Clock: printk timestamps; t0 is the kernel's "Run /init as init process". A step lasts from the
previous "done" line to its own (the first from t0). Inside the gate's steps, the phases come
from its timeline line ("phases (ms): …", measured by the gate around its TPM, verifier and
handover calls) and the TPM command counts from its "TPM commands" figures. In a dracut image
the gate runs twice (root and attest phase) between systemd's own units, so its steps are its
own "done in N ms" figures, summed by name, and there is no switch line of the gate's.
"""

import json
import re
import statistics
import sys

ESC = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
STAMP = re.compile(r"^\[ *(\d+\.\d+)\] ")
MARKER_KMSG = "nodegate-test[init]: started"


def lines(path):
    with open(path, "rb") as f:
        text = f.read().decode("utf-8", "replace")
    for line in ESC.sub("", text).replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        yield line


def ts(line):
    m = STAMP.match(line)
    return float(m.group(1)) if m else None


def parse(kind, run, wall_ms, path):
    tag = "nodegate-ref" if kind == "ref" else "nodegate"
    done = re.compile(r"\] %s\[([a-z_]+)\]: done(?: in ([0-9.]+) ms)?\b" % re.escape(tag))
    t0 = t_switch = t_new = t_handover = None
    own = {}
    steps = []
    r = {"kind": kind, "run": int(run), "wall_ms": float(wall_ms), "steps": {}, "phases": {},
         "tpm_commands": {}}
    for line in lines(path):
        t = ts(line)
        if t is None:
            continue
        if t0 is None and "Run /init as init process" in line:
            t0 = t
        m = done.search(line)
        if m:
            steps.append((t, m.group(1)))
            if m.group(2):
                own[m.group(1)] = own.get(m.group(1), 0.0) + float(m.group(2))
            if m.group(1) == "switch":
                t_switch = t
            if m.group(1) == "handover":
                t_handover = t
        if t_new is None and MARKER_KMSG in line:
            t_new = t
        if kind == "ref":
            continue
        m = re.search(r"timeline \(ms\): .*; phases \(ms\): ([^;]*); tpm_commands=(\d+)"
                      r"(?: verifier_attempts=(\d+))?", line)
        if m:
            for k, v in re.findall(r"([a-z0-9_]+)=([0-9.]+)", m.group(1)):
                r["phases"][k] = float(v)
            r["tpm_commands"]["total"] = int(m.group(2))
            if m.group(3):
                r["verifier_attempts"] = int(m.group(3))
        # Per-phase counts, when the gate prints them ("tpm_commands (phase): tpm=N …").
        m = re.search(r"tpm_commands \(phase\): ((?:[a-z_]+=\d+ ?)+)", line)
        if m:
            for k, v in re.findall(r"([a-z_]+)=(\d+)", m.group(1)):
                r["tpm_commands"][k] = int(v)
        m = re.search(r"unsealed by the TPM in [0-9.]+ ms \((\d+) TPM commands so far\)", line)
        if m:
            r["tpm_commands"]["through_unseal"] = int(m.group(1))
    if t0 is None or (t_switch is None and kind != "dracut") or t_new is None:
        raise SystemExit("%s: missing 'Run /init', the switch line or the new init's line" % path)
    if kind == "dracut":
        r["steps"] = {k: round(v, 3) for k, v in own.items()}
    else:
        prev = t0
        for t, name in sorted(steps):
            r["steps"][name] = round((t - prev) * 1000, 3)
            prev = t
        r["init_to_switch"] = round((t_switch - t0) * 1000, 3)
    if t_handover is not None:
        r["init_to_handover"] = round((t_handover - t0) * 1000, 3)
    r["init_to_newinit"] = round((t_new - t0) * 1000, 3)
    c = r["tpm_commands"]
    if "total" in c and "through_unseal" in c:
        c.setdefault("cap", c["total"] - c["through_unseal"])
    print(json.dumps(r, sort_keys=True))


def median(values):
    return statistics.median(values) if values else None


def table(path):
    rows = [json.loads(x) for x in open(path) if x.strip()]
    kinds = ("gate", "ref", "dracut", "debian13")
    runs = {k: len([r for r in rows if r["kind"] == k]) for k in kinds}

    def pick(kind, get):
        out = []
        for r in rows:
            if r["kind"] != kind:
                continue
            try:
                v = get(r)
            except (KeyError, TypeError):
                v = None
            if v is not None:
                out.append(v)
        return median(out)

    def fmt(v, scale=1.0):
        return "-" if v is None else "%.1f" % (v / scale)

    def cmds(name, kind="gate"):
        v = pick(kind, lambda r: r["tpm_commands"].get(name))
        return "-" if v is None else "%d" % v

    step = lambda n: lambda r: r["steps"][n]  # noqa: E731
    phase = lambda n: lambda r: r["phases"][n]  # noqa: E731
    # (label, getter, TPM command count key or None, scale)
    spec = [
        ("setup", step("setup"), None),
        ("parse", step("parse"), None),
        ("modules", step("modules"), None),
        ("network (DHCP)", step("network"), None),
        ("devices", step("devices"), None),
        ("verity", step("verity"), None),
        ("mount", step("mount"), None),
        ("sysroot (attest phase)", step("sysroot"), None),
        ("attest step, of which", step("attest"), "through_unseal"),
        ("  TPM: keys, quote", phase("tpm"), "tpm"),
        ("  verifier round trips", phase("verifier"), None),
        ("    round 1 (challenge)", phase("round1"), None),
        ("    round 2 (attest)", phase("round2"), None),
        ("  unseal", phase("unseal"), "unseal"),
        ("cap", step("cap"), "cap"),
        ("handover", step("handover"), None),
        ("switch_root", step("switch"), None),
    ]
    print("boot benchmark: medians of %d gate, %d reference, %d dracut and %d Debian 13 boots "
          "(printk clock, t0 = \"Run /init as init process\")"
          % (runs["gate"], runs["ref"], runs["dracut"], runs["debian13"]))
    head = "%-34s %10s %10s %7s %9s %10s %10s"
    print(head % ("phase (ms)", "nodegate", "reference", "ratio", "TPM cmds", "dracut",
                  "Debian 13"))
    for label, get, ckey in spec:
        g, r, d, t = (pick(k, get) for k in ("gate", "ref", "dracut", "debian13"))
        ratio = "%.2f" % (g / r) if g is not None and r else "-"
        print(head % (label, fmt(g), fmt(r), ratio, cmds(ckey) if ckey else "-", fmt(d), fmt(t)))
    for label, key, scale in (("/init -> kubeconfig written", "init_to_handover", 1.0),
                              ("/init -> switch_root", "init_to_switch", 1.0),
                              ("/init -> new init (stand-in kubelet)", "init_to_newinit", 1.0),
                              ("whole boot, wall (s)", "wall_ms", 1000.0)):
        g, r, d, t = (pick(k, lambda x: x[key]) for k in kinds)
        ratio = "%.2f" % (g / r) if g is not None and r else "-"
        print(head % (label, fmt(g, scale), fmt(r, scale), ratio,
                      cmds("total") if key == "init_to_switch" else "-", fmt(d, scale),
                      fmt(t, scale)))
    attempts = pick("gate", lambda r: r.get("verifier_attempts"))
    print("ratio = nodegate / reference; '-': the reference has no such phase (no network, TPM "
          "or verifier).")
    print("dracut: the same gate in a dracut (systemd) initramfs, its own step figures; its "
          "network is systemd-networkd's, switch_root systemd's. TPM cmds there: %s."
          % cmds("total", "dracut"))
    print("Debian 13: the gate's own initramfs built from the 6.12 cloud kernel's modules, in a "
          "UKI on systemd-stub 257; sizes of both initramfs above the table.")
    print("TPM cmds: commands the gate sent (median); the attest step's figure counts up to and "
          "including the unseal; verifier requests per boot: %s." % fmt(attempts))


def main():
    if len(sys.argv) == 6 and sys.argv[1] == "parse":
        parse(*sys.argv[2:])
    elif len(sys.argv) == 3 and sys.argv[1] == "table":
        table(sys.argv[2])
    else:
        raise SystemExit("usage: bench-table.py parse KIND RUN WALL_MS LOG | table RESULTS.jsonl")


if __name__ == "__main__":
    main()
