#!/usr/bin/python3
"""Build an initramfs of the end-to-end test (newc cpio, no root needed).

  mkinitramfs.py --busybox FILE --init FILE --out FILE [--gzip]
                 [--file DEST=SRC]...

busybox (static, arm64) becomes /bin/busybox with one symlink per applet the
e2e init scripts use; --file adds more files (e.g. the L1 payload: QEMU, the
L2 kernel and initramfs, the UEFI firmware). Without --gzip the archive is
stored uncompressed: the L1 initramfs is mostly already-compressed or large
binaries, and unpacking gzip under TCG costs seconds for nothing.
Deterministic: fixed mtimes/owners, sorted entries.
"""
import argparse
import gzip
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "demo"))
from mkinitramfs import Cpio  # noqa: E402  (the demo's newc writer)

APPLETS = """sh ash cat cut dd devmem dmesg echo env grep head kill ls mkdir
    mkfifo mount mv poweroff printf ps readlink rm sed seq sha256sum sleep
    sync tail tee test tr true false uname wc xargs hexdump od""".split()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--busybox", required=True)
    ap.add_argument("--init", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--gzip", action="store_true")
    ap.add_argument("--file", action="append", default=[],
                    metavar="DEST=SRC")
    args = ap.parse_args()

    c = Cpio()
    dirs = {"bin", "dev", "proc", "sys", "tmp", "run"}
    files = []
    for spec in args.file:
        dest, src = spec.split("=", 1)
        dest = dest.strip("/")
        files.append((dest, src))
        d = os.path.dirname(dest)
        while d:
            dirs.add(d)
            d = os.path.dirname(d)
    for d in sorted(dirs):
        c.dir(d)
    c.chardev("dev/console", 5, 1)
    with open(args.init, "rb") as f:
        c.file("init", f.read(), 0o755)
    with open(args.busybox, "rb") as f:
        c.file("bin/busybox", f.read(), 0o755)
    for a in sorted(APPLETS):
        c.symlink("bin/" + a, "busybox")
    for dest, src in sorted(files):
        with open(src, "rb") as f:
            data = f.read()
        c.file(dest, data, 0o755 if os.access(src, os.X_OK) else 0o644)

    tmp = args.out + ".tmp"
    blob = c.finish()
    with open(tmp, "wb") as raw:
        if args.gzip:
            with gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, filename="",
                               compresslevel=6) as gz:
                gz.write(blob)
        else:
            raw.write(blob)
    os.replace(tmp, args.out)
    print("mkinitramfs: wrote %s (%d bytes)" % (args.out,
                                                os.path.getsize(args.out)))


if __name__ == "__main__":
    main()
