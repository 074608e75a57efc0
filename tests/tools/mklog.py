#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Writes a deterministic TCG PC Client event log (crypto-agile format) for tests.

The log models what OVMF and systemd-stub 252 measure when a UKI boots from the ESP: the
firmware in PCR 0, boot variables and handoff tables in PCR 1, an option ROM in PCR 2, the
separators of PCRs 0-7, the boot application (the UKI) in PCR 4, the GPT and ExitBootServices
in PCR 5, the Secure Boot variables in PCR 7, the initrd and command line the Linux EFI stub
measures into PCR 9, and two events per UKI section (the name with its NUL, then the content,
in the order .linux .osrel .cmdline .initrd) in PCR 11.

Everything is derived from the options, so two runs with the same options write the same bytes,
and a test can make a log whose command line (or UKI, or initrd) differs from a reference.

Outputs:
  -o LOG               the binary log ("-" for stdout)
  --pcrs               prints the replayed PCR values as JSON:
                       {"sha256": {"0": hex, ..., "23": hex}} (and "sha1" with --sha1),
                       computed here with hashlib, independently of the C parser; PCRs 17-22
                       start at all ones as on a PC Client TPM, PCR 0 ends in the startup
                       locality
  --extensions OUT     JSON: {"startup_locality": N, "extensions": [{"index": i, "pcr": p,
                       "type": "EV_…", "sha256": hex, ("sha1": hex)}, …]} — every extended
                       event in log order (EV_NO_ACTION is not extended), so a test client can
                       extend a fresh swtpm to the state the log describes
  --extend-script OUT  the same as a shell script of tpm2_pcrextend calls
"""

import argparse
import hashlib
import json
import struct
import sys

EV_NO_ACTION = 0x00000003
EV_SEPARATOR = 0x00000004
EV_EVENT_TAG = 0x00000006
EV_S_CRTM_VERSION = 0x00000008
EV_IPL = 0x0000000D
EV_EFI_VARIABLE_DRIVER_CONFIG = 0x80000001
EV_EFI_VARIABLE_BOOT = 0x80000002
EV_EFI_BOOT_SERVICES_APPLICATION = 0x80000003
EV_EFI_BOOT_SERVICES_DRIVER = 0x80000004
EV_EFI_GPT_EVENT = 0x80000006
EV_EFI_ACTION = 0x80000007
EV_EFI_PLATFORM_FIRMWARE_BLOB = 0x80000008
EV_EFI_HANDOFF_TABLES = 0x80000009
EV_EFI_HCRTM_EVENT = 0x80000010
EV_EFI_VARIABLE_AUTHORITY = 0x800000E0

TYPE_NAMES = {
    EV_NO_ACTION: "EV_NO_ACTION",
    EV_SEPARATOR: "EV_SEPARATOR",
    EV_EVENT_TAG: "EV_EVENT_TAG",
    EV_S_CRTM_VERSION: "EV_S_CRTM_VERSION",
    EV_IPL: "EV_IPL",
    EV_EFI_VARIABLE_DRIVER_CONFIG: "EV_EFI_VARIABLE_DRIVER_CONFIG",
    EV_EFI_VARIABLE_BOOT: "EV_EFI_VARIABLE_BOOT",
    EV_EFI_BOOT_SERVICES_APPLICATION: "EV_EFI_BOOT_SERVICES_APPLICATION",
    EV_EFI_BOOT_SERVICES_DRIVER: "EV_EFI_BOOT_SERVICES_DRIVER",
    EV_EFI_GPT_EVENT: "EV_EFI_GPT_EVENT",
    EV_EFI_ACTION: "EV_EFI_ACTION",
    EV_EFI_PLATFORM_FIRMWARE_BLOB: "EV_EFI_PLATFORM_FIRMWARE_BLOB",
    EV_EFI_HANDOFF_TABLES: "EV_EFI_HANDOFF_TABLES",
    EV_EFI_HCRTM_EVENT: "EV_EFI_HCRTM_EVENT",
    EV_EFI_VARIABLE_AUTHORITY: "EV_EFI_VARIABLE_AUTHORITY",
}

# TCG algorithm registry ids and digest sizes of the two banks this tool writes.
BANKS = {"sha1": (0x0004, 20), "sha256": (0x000B, 32)}

# GUIDs as UEFI stores them (the first three fields little-endian): 8be4df61-…, d719b2cb-…
EFI_GLOBAL_VARIABLE = bytes.fromhex("61dfe48bca93d211aa0d00e098032b8c")
EFI_IMAGE_SECURITY_DATABASE = bytes.fromhex("cbb219d73a3d9645a3bcdad00e67656f")


class Event:
    """One TCG_PCR_EVENT2. measured is what the firmware hashed into each bank (None for
    EV_NO_ACTION, whose digests are zero); data is the event field as logged."""

    def __init__(self, pcr, etype, data, measured):
        self.pcr = pcr
        self.type = etype
        self.data = data
        self.measured = measured

    def digest(self, bank):
        size = BANKS[bank][1]
        if self.measured is None:
            return bytes(size)
        return hashlib.new(bank, self.measured).digest()


def utf16(s):
    return s.encode("utf-16-le")


def variable_data(guid, name, value):
    """UEFI_VARIABLE_DATA: GUID, UINT64 name length (chars), UINT64 data length, name, data.
    The firmware measures the whole structure."""
    n = utf16(name)
    return guid + struct.pack("<QQ", len(name), len(value)) + n + value


def gpt_data(disk):
    """UEFI_GPT_DATA: the partition table header, UINT64 count, the entries (an ESP and a root),
    GUIDs derived from the disk's name. The firmware measures the whole structure."""
    def guid(what):
        return hashlib.sha256(("%s %s" % (disk, what)).encode()).digest()[:16]

    header = b"EFI PART" + struct.pack("<IIII", 0x10000, 92, 0, 0)
    header += struct.pack("<QQQQ", 1, 0x3FFFFF, 34, 0x3FFFDE) + guid("disk")
    header += struct.pack("<QIII", 2, 128, 128, 0)
    esp = bytes.fromhex("28732ac11ff8d211ba4b00a0c93ec93b")
    root = bytes.fromhex("e3bc684fcde8b14d96e7fbcaf984b709")  # x86-64 root (verity data)
    entries = b""
    for i, (ptype, first, last, name) in enumerate(((esp, 2048, 0x40000, "esp"),
                                                     (root, 0x40800, 0x3FF000, "root"))):
        entries += ptype + guid("part%d" % i) + struct.pack("<QQQ", first, last, 0)
        entries += utf16(name).ljust(72, b"\0")
    return header + struct.pack("<Q", 2) + entries


def tagged_event(tag, description):
    """TCG_PCClientTaggedEvent: taggedEventID, taggedEventDataSize, data."""
    return struct.pack("<II", tag, len(description)) + description


def model(args):
    """The events of one boot, in the order OVMF, systemd-stub and the kernel's stub log them."""
    ev = []

    def ascii_(s):
        return s.encode()

    if args.startup_locality is not None:
        ev.append(Event(0, EV_NO_ACTION, b"StartupLocality\0" + bytes([args.startup_locality]),
                        None))
    # H-CRTM: the TPM measured these bytes itself (_TPM_Hash_Start/Data/End, swtpm_ioctl -h)
    # before TPM2_Startup; the firmware logs it first in PCR 0, its data the string "HCRTM".
    if args.hcrtm is not None:
        ev.append(Event(0, EV_EFI_HCRTM_EVENT, b"HCRTM", args.hcrtm.encode()))

    # PCR 0: the S-CRTM version string and the two firmware volumes (PEI, DXE).
    crtm = utf16("nodegate test firmware %s\0" % args.firmware)
    ev.append(Event(0, EV_S_CRTM_VERSION, crtm, crtm))
    for base, name in ((0x820000, "PEIFV"), (0x900000, "DXEFV")):
        blob = struct.pack("<QQ", base, 0x100000)
        ev.append(Event(0, EV_EFI_PLATFORM_FIRMWARE_BLOB, blob,
                        ascii_("%s of %s" % (name, args.firmware))))

    # PCR 7: the Secure Boot state and databases, then its separator (OVMF logs it early).
    sb = bytes([1 if args.secure_boot else 0])

    def enrolled(what):  # the databases are empty without Secure Boot, dbx never is
        return ascii_("%s of %s" % (what, args.keys)) if args.secure_boot else b""

    for guid, name, value in (
        (EFI_GLOBAL_VARIABLE, "SecureBoot", sb),
        (EFI_GLOBAL_VARIABLE, "PK", enrolled("PK")),
        (EFI_GLOBAL_VARIABLE, "KEK", enrolled("KEK")),
        (EFI_IMAGE_SECURITY_DATABASE, "db", enrolled("db")),
        (EFI_IMAGE_SECURITY_DATABASE, "dbx", ascii_("dbx of %s" % args.keys)),
    ):
        v = variable_data(guid, name, value)
        ev.append(Event(7, EV_EFI_VARIABLE_DRIVER_CONFIG, v, v))
    ev.append(Event(7, EV_SEPARATOR, b"\0\0\0\0", b"\0\0\0\0"))

    # PCR 1: handoff tables (SMBIOS), then BootOrder and each Boot#### variable.
    tables = struct.pack("<Q", 1) + bytes(16) + struct.pack("<Q", 0x7F000000)
    ev.append(Event(1, EV_EFI_HANDOFF_TABLES, tables, ascii_("SMBIOS of %s" % args.firmware)))
    order = b"".join(struct.pack("<H", i) for i in range(args.boot_entries))
    v = variable_data(EFI_GLOBAL_VARIABLE, "BootOrder", order)
    ev.append(Event(1, EV_EFI_VARIABLE_BOOT, v, v))
    for i in range(args.boot_entries):
        value = utf16("UEFI boot entry %d\0" % i)
        v = variable_data(EFI_GLOBAL_VARIABLE, "Boot%04X" % i, value)
        ev.append(Event(1, EV_EFI_VARIABLE_BOOT, v, v))

    # PCR 2: the virtio-net option ROM's driver.
    rom = ascii_("iPXE option ROM of %s" % args.firmware)
    load = struct.pack("<QQQQ", 0x7E000000, len(rom), 0, 0)  # UEFI_IMAGE_LOAD_EVENT, no path
    ev.append(Event(2, EV_EFI_BOOT_SERVICES_DRIVER, load, rom))
    if args.extra_driver:
        # A Driver#### entry's DXE driver from the ESP (issue 11): loaded, and measured, before
        # the boot application, it could report the image's PCR 4/9/11 events for another one.
        drv = ascii_("Authenticode of EFI driver %s" % args.extra_driver)
        load = struct.pack("<QQQQ", 0x7C000000, 0x10000, 0, 0)
        ev.append(Event(2, EV_EFI_BOOT_SERVICES_DRIVER, load, drv))

    # ReadyToBoot: the boot attempt, then the separators of PCRs 0-6.
    action = ascii_("Calling EFI Application from Boot Option")
    ev.append(Event(4, EV_EFI_ACTION, action, action))
    for pcr in range(7):
        ev.append(Event(pcr, EV_SEPARATOR, b"\0\0\0\0", b"\0\0\0\0"))

    # PCR 5: the GPT of the boot disk; PCR 4: the UKI itself (its Authenticode digest, derived
    # from --uki alone so a test can change the command line without changing PCR 4).
    gpt = gpt_data(args.disk)
    ev.append(Event(5, EV_EFI_GPT_EVENT, gpt, gpt))
    uki = ascii_("Authenticode of UKI %s" % args.uki)
    ev.append(Event(4, EV_EFI_BOOT_SERVICES_APPLICATION,
                    struct.pack("<QQQQ", 0x7D000000, 0x1000000, 0, 0), uki))
    if args.secure_boot:
        cert = variable_data(EFI_IMAGE_SECURITY_DATABASE, "db", ascii_("db cert of %s" % args.keys))
        ev.append(Event(7, EV_EFI_VARIABLE_AUTHORITY, cert, cert))

    # PCR 11: systemd-stub, two events per section: the name with its NUL, then the content.
    sections = {
        ".linux": ascii_("Linux kernel of UKI %s" % args.uki),
        ".osrel": ascii_('ID=debian\nVERSION_ID="12"\nIMAGE_ID=%s\n' % args.uki),
        ".cmdline": ascii_(args.cmdline),
        ".initrd": ascii_(args.initrd),
    }
    for name in (".linux", ".osrel", ".cmdline", ".initrd"):
        n = ascii_(name) + b"\0"
        ev.append(Event(11, EV_IPL, n, n))
        ev.append(Event(11, EV_IPL, utf16(name + "\0"), sections[name]))

    # PCR 9: the Linux EFI stub measures the initrd (a tagged event) and the command line
    # (UTF-16LE with its NUL).
    ev.append(Event(9, EV_EVENT_TAG, tagged_event(0x8F3B22EC, b"Linux initrd\0"),
                    sections[".initrd"]))
    cmdline = utf16(args.cmdline + "\0")
    ev.append(Event(9, EV_IPL, cmdline, cmdline))

    # PCR 5: ExitBootServices, called by the kernel's stub.
    for text in ("Exit Boot Services Invocation", "Exit Boot Services Returned with Success"):
        ev.append(Event(5, EV_EFI_ACTION, ascii_(text), ascii_(text)))
    return ev


def spec_id_event(banks):
    """Event 0: TCG_PCR_EVENT (SHA-1 format) of type EV_NO_ACTION with TCG_EfiSpecIdEvent."""
    data = b"Spec ID Event03\0"
    data += struct.pack("<IBBBBI", 0, 0, 2, 0, 2, len(banks))  # class, 2.0 errata 0, UINT64
    for bank in banks:
        data += struct.pack("<HH", *BANKS[bank])
    data += b"\0"  # vendorInfoSize
    return struct.pack("<II", 0, EV_NO_ACTION) + bytes(20) + struct.pack("<I", len(data)) + data


def event2(e, banks):
    out = struct.pack("<III", e.pcr, e.type, len(banks))
    for bank in banks:
        out += struct.pack("<H", BANKS[bank][0]) + e.digest(bank)
    return out + struct.pack("<I", len(e.data)) + e.data


def legacy_event(e):
    """TCG_PCR_EVENT: the SHA-1-only format of TPM 1.2 firmware."""
    header = struct.pack("<II", e.pcr, e.type) + e.digest("sha1")
    return header + struct.pack("<I", len(e.data)) + e.data


def replay(events, bank, locality):
    size = BANKS[bank][1]
    pcrs = [bytearray(size) for _ in range(24)]
    for i in range(17, 23):
        pcrs[i] = bytearray(b"\xff" * size)
    pcrs[0][-1] = locality
    if any(e.type == EV_EFI_HCRTM_EVENT for e in events):
        pcrs[0][-1] = 4  # _TPM_Hash_Start: PCR 0 reset to locality 4
    for e in events:
        if e.type == EV_NO_ACTION:
            continue
        pcrs[e.pcr] = bytearray(hashlib.new(bank, bytes(pcrs[e.pcr]) + e.digest(bank)).digest())
    return {str(i): bytes(p).hex() for i, p in enumerate(pcrs)}


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-o", "--output", help="write the binary log here ('-' for stdout)")
    ap.add_argument("--uki", default="nodegate-test",
                    help="names the UKI (its PCR 4 digest, .linux and .osrel)")
    ap.add_argument("--cmdline", default="roothash=6e3f0a1c2b4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f"
                    "708192a3b4c5d6e7 console=ttyS0 nodegate.url=https://10.0.2.2:8443",
                    help="the .cmdline section (also measured into PCR 9)")
    ap.add_argument("--initrd", default="nodegate initramfs", help="the .initrd section")
    ap.add_argument("--firmware", default="OVMF 2022.11", help="names the firmware (PCRs 0-2)")
    ap.add_argument("--keys", default="snakeoil", help="names the Secure Boot keys (PCR 7)")
    ap.add_argument("--disk", default="disk0", help="names the boot disk's GPT (PCR 5)")
    ap.add_argument("--secure-boot", action="store_true", help="Secure Boot on (adds an "
                    "EV_EFI_VARIABLE_AUTHORITY event in PCR 7)")
    ap.add_argument("--extra-driver", metavar="NAME", help="a second PCR 2 driver event: a "
                    "DXE driver a Driver#### entry loads from the ESP")
    ap.add_argument("--boot-entries", type=int, default=3,
                    help="number of Boot#### variables (PCR 1)")
    ap.add_argument("--sha1", action="store_true", help="add a SHA-1 bank")
    ap.add_argument("--no-sha256", action="store_true", help="leave the SHA-256 bank out")
    ap.add_argument("--legacy", action="store_true", help="write the SHA-1-only TCG_PCR_EVENT "
                    "format of TPM 1.2 firmware (no Spec ID Event03)")
    ap.add_argument("--startup-locality", type=int, choices=range(5), metavar="N",
                    help="log a StartupLocality event (PCR 0 starts with N in its last byte)")
    ap.add_argument("--hcrtm", metavar="DATA",
                    help="an H-CRTM event first in PCR 0 measuring DATA (the TPM measures it, "
                    "so it is not in --extensions or --extend-script)")
    ap.add_argument("--pcrs", action="store_true", help="print the replayed PCR values as JSON")
    ap.add_argument("--extensions", metavar="OUT", help="write the extensions as JSON")
    ap.add_argument("--extend-script", metavar="OUT",
                    help="write the extensions as tpm2_pcrextend calls")
    args = ap.parse_args()

    if not (0 <= args.boot_entries <= 64):
        ap.error("--boot-entries must be 0-64")
    banks = ["sha1"] if args.sha1 or args.legacy else []
    if not (args.no_sha256 or args.legacy):
        banks.append("sha256")
    if not banks:
        ap.error("no bank left: --no-sha256 needs --sha1")
    if args.output == "-" and args.pcrs:
        ap.error("-o - and --pcrs both write to stdout")
    if args.legacy and args.startup_locality is not None:
        ap.error("the legacy format has no StartupLocality event")
    if args.hcrtm is not None and (args.legacy or args.startup_locality is not None):
        ap.error("--hcrtm goes with neither --legacy nor --startup-locality")
    if not (args.output or args.pcrs or args.extensions or args.extend_script):
        ap.error("nothing to do: give -o, --pcrs, --extensions or --extend-script")

    events = model(args)
    locality = args.startup_locality or 0

    if args.output:
        if args.legacy:
            # The legacy format has no EV_NO_ACTION events to carry a StartupLocality.
            log = b"".join(legacy_event(e) for e in events if e.type != EV_NO_ACTION)
        else:
            log = spec_id_event(banks) + b"".join(event2(e, banks) for e in events)
        if args.output == "-":
            sys.stdout.buffer.write(log)
            sys.stdout.buffer.flush()
        else:
            with open(args.output, "wb") as f:
                f.write(log)

    extended = [(i, e) for i, e in enumerate(events, start=1)
                if e.type not in (EV_NO_ACTION, EV_EFI_HCRTM_EVENT)]
    if args.extensions:
        out = {"startup_locality": locality, "extensions": []}
        if args.hcrtm is not None:
            out["hcrtm"] = args.hcrtm
        for i, e in extended:
            x = {"index": i, "pcr": e.pcr, "type": TYPE_NAMES[e.type]}
            for bank in banks:
                x[bank] = e.digest(bank).hex()
            out["extensions"].append(x)
        with open(args.extensions, "w") as f:
            json.dump(out, f, indent=1)
            f.write("\n")
    if args.extend_script:
        with open(args.extend_script, "w") as f:
            f.write("#!/bin/sh\n# Extends a fresh TPM (TPM2TOOLS_TCTI) to the state of the log.\n")
            f.write("set -e\n")
            for i, e in extended:
                digests = ",".join("%s=%s" % (b, e.digest(b).hex()) for b in banks)
                f.write("tpm2_pcrextend %d:%s  # event %d %s\n"
                        % (e.pcr, digests, i, TYPE_NAMES[e.type]))
    if args.pcrs:
        json.dump({bank: replay(events, bank, locality) for bank in banks}, sys.stdout, indent=1)
        sys.stdout.write("\n")


if __name__ == "__main__":
    main()
