#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Compares a prediction (`nodegate-verifier policy from-uki --events`) with a measured TCG event
log: in each PCR of --pcrs the log's extended events must be the predicted ones, same types, same
SHA-256 digests, same order and count; the replay of the log must give the predicted PCR values;
and, with --request, the PCR values the node quoted (a recorded /v2/attest request) too.

Its own parser of the crypto-agile log format, independent of verifier/tpm/eventlog.c.
Usage: eventlog-compare.py PREDICTED LOG [--pcrs 4,9,11] [--request REQUEST.json]
Exit 0 when everything agrees, 1 otherwise (each disagreement printed)."""
import argparse
import base64
import hashlib
import json
import struct
import sys

DIGEST_SIZES = {0x0004: 20, 0x000B: 32, 0x000C: 48, 0x000D: 64, 0x0012: 32}
SHA256 = 0x000B
NAMES = {
    0x00000003: "EV_NO_ACTION", 0x00000004: "EV_SEPARATOR", 0x00000006: "EV_EVENT_TAG",
    0x00000008: "EV_S_CRTM_VERSION", 0x0000000D: "EV_IPL",
    0x80000001: "EV_EFI_VARIABLE_DRIVER_CONFIG", 0x80000002: "EV_EFI_VARIABLE_BOOT",
    0x80000003: "EV_EFI_BOOT_SERVICES_APPLICATION", 0x80000006: "EV_EFI_GPT_EVENT",
    0x80000007: "EV_EFI_ACTION", 0x80000008: "EV_EFI_PLATFORM_FIRMWARE_BLOB",
    0x800000E0: "EV_EFI_VARIABLE_AUTHORITY",
}


def parse_log(data):
    """[(pcr, type name, sha256 hex)] of every event after the Spec ID event."""
    off = 0
    pcr, etype = struct.unpack_from("<II", data, off)
    size = struct.unpack_from("<I", data, off + 28)[0]
    spec = data[off + 32:off + 32 + size]
    if etype != 3 or not spec.startswith(b"Spec ID Event03"):
        raise ValueError("not a crypto-agile log (no Spec ID Event03)")
    off += 32 + size
    events = []
    while off + 12 <= len(data):
        pcr, etype, count = struct.unpack_from("<III", data, off)
        off += 12
        digests = {}
        for _ in range(count):
            alg = struct.unpack_from("<H", data, off)[0]
            n = DIGEST_SIZES[alg]
            digests[alg] = data[off + 2:off + 2 + n]
            off += 2 + n
        size = struct.unpack_from("<I", data, off)[0]
        off += 4 + size
        if off > len(data):
            raise ValueError("truncated event")
        if etype == 3:
            continue
        events.append((pcr, NAMES.get(etype, "0x%08x" % etype), digests[SHA256].hex()))
    return events


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("predicted")
    ap.add_argument("log")
    ap.add_argument("--pcrs", default="4,9,11")
    ap.add_argument("--request")
    a = ap.parse_args()
    pcrs = [int(x) for x in a.pcrs.split(",")]

    predicted, values = [], {}
    for line in open(a.predicted):
        w = line.split()
        if w and w[0] == "event":
            predicted.append((int(w[1]), w[2], w[3], " ".join(w[4:])))
        elif w and w[0] == "pcr":
            values[int(w[1])] = w[2]
    measured = parse_log(open(a.log, "rb").read())

    bad = 0
    for pcr in pcrs:
        want = [(t, d) for p, t, d, _ in predicted if p == pcr]
        what = [w for p, _, _, w in predicted if p == pcr]
        have = [(t, d) for p, t, d in measured if p == pcr]
        if want == have:
            print("  ok    PCR %d: the %d measured events are the %d predicted, in order"
                  % (pcr, len(have), len(want)))
        else:
            bad += 1
            print("  FAIL  PCR %d: measured and predicted events differ" % pcr)
            for i in range(max(len(want), len(have))):
                w = want[i] if i < len(want) else ("-", "-")
                h = have[i] if i < len(have) else ("-", "-")
                mark = "  " if w == h else "!="
                print("          %s predicted %s %s (%s) / measured %s %s" % (
                    mark, w[0], w[1][:16], what[i] if i < len(what) else "-", h[0], h[1][:16]))
        acc = bytes(32)
        for p, _, d in measured:
            if p == pcr:
                acc = hashlib.sha256(acc + bytes.fromhex(d)).digest()
        if pcr in values and values[pcr] == acc.hex():
            print("  ok    PCR %d: the log replays to the predicted value %s…" % (pcr, acc.hex()[:16]))
        else:
            bad += 1
            print("  FAIL  PCR %d: the log replays to %s, predicted %s" % (pcr, acc.hex(),
                                                                         values.get(pcr)))
    if a.request:
        quoted = json.load(open(a.request))["pcrs"]["sha256"]
        for pcr in pcrs:
            q = quoted.get(str(pcr))
            q = q.lower() if q else q
            if q == values.get(pcr):
                print("  ok    PCR %d: the node quoted the predicted value" % pcr)
            else:
                bad += 1
                print("  FAIL  PCR %d: quoted %s, predicted %s" % (pcr, q, values.get(pcr)))
        log = base64.b64decode(json.load(open(a.request))["event_log"])
        if log != open(a.log, "rb").read():
            bad += 1
            print("  FAIL  the log compared is not the one of the request")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
