#!/usr/bin/python3
"""Build the demo guest's initramfs (newc cpio, gzip) without cpio/depmod/root.

  mkinitramfs.py --moddir DIR --busybox FILE --init FILE --out FILE.cpio.gz \
                 MODULE...

DIR is an extracted /usr/lib/modules/<version> tree.  Debian ships no
modules.dep in the binary packages (depmod runs in postinst), so the
dependency closure of the requested MODULEs is computed here from each
module's .modinfo "depends=" field.  Modules are stored decompressed
(Debian uses .ko.xz; busybox insmod reads plain files) as /lib/modules/<name>.ko,
and /lib/modules/load.order lists them dependencies first for /init.

The archive is deterministic: fixed mtimes/owners, sorted entries, gzip mtime 0.
"""
import argparse
import gzip
import io
import lzma
import os
import struct
import subprocess
import sys

# Applets /init uses; each becomes a /bin/<applet> -> busybox symlink.
APPLETS = """sh cat cut dd dmesg echo grep head insmod kill ls mount mv od
    poweroff readlink rm sed sha256sum sleep sync tail tr uname wc""".split()

SUFFIXES = (".ko", ".ko.xz", ".ko.zst", ".ko.gz")


def modname(path):
    base = os.path.basename(path)
    for s in SUFFIXES:
        if base.endswith(s):
            base = base[: -len(s)]
    return base.replace("-", "_")


def read_module(path):
    """Return the uncompressed bytes of a kernel module."""
    if path.endswith(".xz"):
        return lzma.open(path).read()
    if path.endswith(".gz"):
        return gzip.open(path).read()
    if path.endswith(".zst"):
        return subprocess.run(["zstd", "-dcq", path], check=True,
                              stdout=subprocess.PIPE).stdout
    with open(path, "rb") as f:
        return f.read()


def modinfo(data):
    """Parse the .modinfo section of an ELF64 little-endian module."""
    if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
        raise ValueError("not an ELF64 little-endian object")
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x3A)

    def section(i):
        name, _typ, _flags, _addr, off, size = struct.unpack_from(
            "<IIQQQQ", data, shoff + i * shentsize)
        return name, off, size

    _, stroff, _ = section(shstrndx)
    info = {}
    for i in range(shnum):
        name, off, size = section(i)
        end = data.index(b"\0", stroff + name)
        if data[stroff + name:end] == b".modinfo":
            for item in data[off:off + size].split(b"\0"):
                if b"=" in item:
                    k, v = item.decode().split("=", 1)
                    info.setdefault(k, v)
    return info


class Cpio:
    """Minimal newc writer."""

    def __init__(self):
        self.buf = io.BytesIO()
        self.ino = 1

    def _entry(self, name, mode, data=b"", rdev=(0, 0)):
        name_b = name.encode() + b"\0"
        hdr = "070701" + "".join("%08X" % v for v in (
            self.ino, mode, 0, 0, 1, 0, len(data), 0, 0,
            rdev[0], rdev[1], len(name_b), 0))
        self.ino += 1
        self.buf.write(hdr.encode() + name_b)
        self.buf.write(b"\0" * (-(110 + len(name_b)) % 4))
        self.buf.write(data)
        self.buf.write(b"\0" * (-len(data) % 4))

    def dir(self, name):
        self._entry(name, 0o040755)

    def file(self, name, data, perm=0o644):
        self._entry(name, 0o100000 | perm, data)

    def symlink(self, name, target):
        self._entry(name, 0o120777, target.encode())

    def chardev(self, name, major, minor):
        self._entry(name, 0o020600, rdev=(major, minor))

    def finish(self):
        self._entry("TRAILER!!!", 0)
        return self.buf.getvalue()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--moddir", required=True)
    ap.add_argument("--busybox", required=True)
    ap.add_argument("--init", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("modules", nargs="+")
    args = ap.parse_args()

    # Index every module file by its canonical name.
    index = {}
    for root, _dirs, files in os.walk(os.path.join(args.moddir, "kernel")):
        for f in files:
            if f.endswith(SUFFIXES):
                index[modname(f)] = os.path.join(root, f)

    # Depth-first walk: dependencies land in `order` before their users.
    order, seen, blobs = [], set(), {}

    def visit(name, chain):
        name = name.replace("-", "_")
        if name in seen:
            return
        if name not in index:
            sys.exit("mkinitramfs: module %s not found (needed by %s)"
                     % (name, " <- ".join(chain) or "command line"))
        seen.add(name)
        data = read_module(index[name])
        info = modinfo(data)
        for dep in filter(None, info.get("depends", "").split(",")):
            visit(dep, [name] + chain)
        blobs[name] = data
        order.append(name)
        print("mkinitramfs: %-14s %8d bytes  %s" % (
            name, len(data), os.path.relpath(index[name], args.moddir)))

    for m in args.modules:
        visit(m, [])

    with open(args.busybox, "rb") as f:
        busybox = f.read()
    with open(args.init, "rb") as f:
        init = f.read()

    c = Cpio()
    for d in ("bin", "dev", "proc", "sys", "tmp", "lib", "lib/modules"):
        c.dir(d)
    # The kernel opens /dev/console for init before devtmpfs is mounted.
    c.chardev("dev/console", 5, 1)
    c.file("init", init, 0o755)
    c.file("bin/busybox", busybox, 0o755)
    for a in sorted(APPLETS):
        c.symlink("bin/" + a, "busybox")
    for name in sorted(order):
        c.file("lib/modules/%s.ko" % name, blobs[name])
    c.file("lib/modules/load.order", "".join(n + "\n" for n in order).encode())

    tmp = args.out + ".tmp"
    with open(tmp, "wb") as raw:
        with gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, filename="") as gz:
            gz.write(c.finish())
    os.replace(tmp, args.out)
    print("mkinitramfs: wrote %s (%d bytes; load order: %s)"
          % (args.out, os.path.getsize(args.out), " ".join(order)))


if __name__ == "__main__":
    main()
