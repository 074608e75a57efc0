#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Lists the variables of an OVMF variable store (OVMF_VARS*.fd), or adds a Driver#### load
option and DriverOrder to a copy of it: what `efibootmgr --driver` would write from a booted
system (issue 11: a DXE driver from the ESP, loaded by the firmware before the boot application).

The store is EDK2's authenticated variable format: after the firmware volume header, a
VARIABLE_STORE_HEADER, then AUTHENTICATED_VARIABLE_HEADERs (StartId 0x55AA), each followed by
its UTF-16 name and its data, 4-byte aligned; free space is 0xFF. New variables go at the end.
"""

import argparse
import struct
import sys
import uuid

GLOBAL = uuid.UUID("8be4df61-93ca-11d2-aa0d-00e098032b8c")
NV_BS_RT = 0x7
VAR_ADDED = 0x3F
HEADER = struct.Struct("<HBBIQ16sIII16s")  # 60 bytes


def align4(n):
    return (n + 3) & ~3


def store_offset(fd):
    if fd[40:44] != b"_FVH":
        sys.exit("not a firmware volume (no _FVH)")
    return struct.unpack_from("<H", fd, 48)[0]  # HeaderLength


def variables(fd):
    """Yields (offset, state, attributes, guid, name, data) and finally the free offset."""
    base = store_offset(fd)
    size = struct.unpack_from("<I", fd, base + 16)[0]
    off = base + align4(28)
    end = base + size
    while off + HEADER.size <= end:
        start, state, _, attrs, _, _, _, name_size, data_size, guid = HEADER.unpack_from(fd, off)
        if start != 0x55AA:
            break
        name_off = off + HEADER.size
        data_off = name_off + name_size + (-name_size % 4)
        name = fd[name_off:name_off + name_size].decode("utf-16-le").rstrip("\0")
        yield off, state, attrs, uuid.UUID(bytes_le=guid), name, fd[data_off:data_off + data_size]
        off = align4(data_off + data_size)
    yield off, None, None, None, None, None


def add_variable(fd, free, name, guid, data):
    n = (name + "\0").encode("utf-16-le")
    var = HEADER.pack(0x55AA, VAR_ADDED, 0, NV_BS_RT, 0, bytes(16), 0, len(n), len(data),
                      guid.bytes_le)
    var += n + b"\0" * (-len(n) % 4) + data
    var += b"\xff" * (-len(var) % 4)
    if fd[free:free + len(var)] != b"\xff" * len(var):
        sys.exit("no free space left in the variable store")
    fd[free:free + len(var)] = var
    return free + len(var)


def load_option(path, description):
    """EFI_LOAD_OPTION, LOAD_OPTION_ACTIVE, with a short-form file path (the firmware finds the
    file on any file system it can read, as it does for a Boot#### written the same way)."""
    p = (path + "\0").encode("utf-16-le")
    file_node = struct.pack("<BBH", 4, 4, 4 + len(p)) + p  # MEDIA_DEVICE_PATH, FILEPATH
    end_node = struct.pack("<BBH", 0x7F, 0xFF, 4)
    paths = file_node + end_node
    return (struct.pack("<IH", 1, len(paths)) + (description + "\0").encode("utf-16-le") +
            paths)


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("input")
    ap.add_argument("--list", action="store_true", help="print the variables")
    ap.add_argument("--driver", metavar="PATH", help=r"add Driver0000 for PATH (\EFI\…\x.efi)")
    ap.add_argument("--out", help="where to write the store with the driver added")
    a = ap.parse_args()
    fd = bytearray(open(a.input, "rb").read())
    if a.list:
        for off, state, attrs, guid, name, data in variables(fd):
            if name is not None:
                print("%#08x state %#04x attrs %#x %s %s %d bytes" % (off, state, attrs, guid,
                                                                      name, len(data)))
    if a.driver:
        if not a.out:
            sys.exit("--driver needs --out")
        live = {name for _, state, _, _, name, _ in variables(fd) if state == VAR_ADDED}
        if "Driver0000" in live or "DriverOrder" in live:
            sys.exit("the store has Driver0000 or DriverOrder already")
        free = list(variables(fd))[-1][0]
        free = add_variable(fd, free, "Driver0000", GLOBAL,
                            load_option(a.driver, "nodegate test: DXE driver from the ESP"))
        add_variable(fd, free, "DriverOrder", GLOBAL, struct.pack("<H", 0))
        open(a.out, "wb").write(fd)


if __name__ == "__main__":
    main()
