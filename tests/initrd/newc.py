#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Strict reader of newc cpio archives, independent of mkcpio, for the initrd tests.

newc.py list ARCHIVE            one line per entry: ino mode(octal) uid gid nlink mtime size
                                rmajor rminor name — after checking the whole archive
newc.py extract ARCHIVE NAME    the data of entry NAME on stdout

Besides the newc format itself it checks what mkcpio promises: inode numbers 1, 2, 3… in
archive order, entries sorted by name, every parent directory before its children, directory
nlink = 2 + subdirectories, nlink 1 for everything else, one mtime, the trailer last and
nothing after it. Any violation: a message on stderr and exit status 1.
"""
import stat
import sys

MAGIC = b"070701"
FIELDS = ("ino", "mode", "uid", "gid", "nlink", "mtime", "filesize",
          "devmajor", "devminor", "rdevmajor", "rdevminor", "namesize", "check")


class BadArchive(Exception):
    pass


def pad4(n):
    return (4 - n % 4) % 4


def parse(data):
    entries = []
    pos = 0
    while True:
        if pos + 110 > len(data):
            raise BadArchive(f"truncated header at offset {pos}")
        if pos % 4:
            raise BadArchive(f"header at offset {pos} is not 4-byte aligned")
        hdr = data[pos:pos + 110]
        if hdr[:6] != MAGIC:
            raise BadArchive(f"bad magic {hdr[:6]!r} at offset {pos}")
        try:
            e = {f: int(hdr[6 + 8 * i:14 + 8 * i], 16) for i, f in enumerate(FIELDS)}
        except ValueError:
            raise BadArchive(f"non-hex header field at offset {pos}")
        if any(c not in b"0123456789ABCDEF" for c in hdr[6:]):
            raise BadArchive(f"header at offset {pos} is not upper-case hex")
        pos += 110
        raw = data[pos:pos + e["namesize"]]
        if len(raw) != e["namesize"] or e["namesize"] == 0 or raw[-1:] != b"\0":
            raise BadArchive(f"bad name at offset {pos}")
        e["name"] = raw[:-1].decode()
        if b"\0" in raw[:-1]:
            raise BadArchive(f"NUL inside name {e['name']!r}")
        pos += e["namesize"]
        if any(data[pos:pos + pad4(pos)]):
            raise BadArchive(f"non-zero name padding after {e['name']!r}")
        pos += pad4(pos)
        e["data"] = data[pos:pos + e["filesize"]]
        if len(e["data"]) != e["filesize"]:
            raise BadArchive(f"truncated data of {e['name']!r}")
        pos += e["filesize"]
        if any(data[pos:pos + pad4(pos)]):
            raise BadArchive(f"non-zero data padding after {e['name']!r}")
        pos += pad4(pos)
        if e["check"] != 0:
            raise BadArchive(f"check field of {e['name']!r} is not 0 in a newc archive")
        if e["name"] == "TRAILER!!!":
            break
        entries.append(e)
    if pos != len(data):
        raise BadArchive(f"{len(data) - pos} bytes after the trailer")
    return entries


def check(entries):
    names = [e["name"] for e in entries]
    if names != sorted(names, key=lambda n: n.encode()):
        raise BadArchive("entries are not sorted by name")
    if len(set(names)) != len(names):
        raise BadArchive("duplicate names")
    mtimes = {e["mtime"] for e in entries}
    if len(mtimes) > 1:
        raise BadArchive(f"more than one mtime: {sorted(mtimes)}")
    seen_dirs = set()
    subdirs = {}
    for i, e in enumerate(entries):
        if e["ino"] != i + 1:
            raise BadArchive(f"{e['name']!r} has inode {e['ino']}, expected {i + 1}")
        name = e["name"]
        if name.startswith("/") or name.startswith("./") or name in ("", "."):
            raise BadArchive(f"name {name!r} is not relative to the archive root")
        parent = name.rpartition("/")[0]
        if parent and parent not in seen_dirs:
            raise BadArchive(f"{name!r} comes before its parent directory {parent!r}")
        fmt = stat.S_IFMT(e["mode"])
        if fmt == stat.S_IFDIR:
            seen_dirs.add(name)
            if parent:
                subdirs[parent] = subdirs.get(parent, 0) + 1
        elif fmt not in (stat.S_IFREG, stat.S_IFLNK, stat.S_IFCHR, stat.S_IFBLK):
            raise BadArchive(f"{name!r} has unexpected type {oct(fmt)}")
        if fmt in (stat.S_IFDIR, stat.S_IFCHR, stat.S_IFBLK) and e["filesize"]:
            raise BadArchive(f"{name!r} has data but is not a file or symlink")
        if fmt not in (stat.S_IFCHR, stat.S_IFBLK) and (e["rdevmajor"] or e["rdevminor"]):
            raise BadArchive(f"{name!r} has a device number but is no device")
    for e in entries:
        want = 2 + subdirs.get(e["name"], 0) if stat.S_ISDIR(e["mode"]) else 1
        if e["nlink"] != want:
            raise BadArchive(f"{e['name']!r} has nlink {e['nlink']}, expected {want}")


def main(argv):
    if len(argv) < 3 or argv[1] not in ("list", "extract"):
        print(__doc__, file=sys.stderr)
        return 2
    with open(argv[2], "rb") as f:
        data = f.read()
    try:
        entries = parse(data)
        check(entries)
    except BadArchive as exc:
        print(f"newc.py: {argv[2]}: {exc}", file=sys.stderr)
        return 1
    if argv[1] == "list":
        for e in entries:
            print(e["ino"], oct(e["mode"])[2:], e["uid"], e["gid"], e["nlink"], e["mtime"],
                  e["filesize"], e["rdevmajor"], e["rdevminor"], e["name"])
        return 0
    for e in entries:
        if e["name"] == argv[3]:
            sys.stdout.buffer.write(e["data"])
            return 0
    print(f"newc.py: {argv[3]} not in {argv[2]}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
