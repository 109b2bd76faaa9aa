#!/bin/sh
# Cross-build our patched qemu-system-aarch64 for an aarch64 host, the QEMU
# that runs inside L1 of the end-to-end test (make e2e-qemu):
#
#   scripts/e2e-qemu.sh QEMU_SRC     -> build/e2e/qemu-aarch64/qemu-system-aarch64
#
# QEMU_SRC is the patched tree the Makefile prepares (build/qemu-<ver>, with
# our sources linked in). The binary is static: glib, pcre2, libfdt and zlib
# come as static libraries from Debian bookworm arm64 -dev packages
# (downloaded with apt-get download through scripts/apt.sh arm64 and
# unpacked into build/e2e/sysroot, never installed), glibc from the cross
# toolchain (gcc-aarch64-linux-gnu). So L1's initramfs needs one file.
# The configuration is the user build's (scripts/qemu-config.sh user: KVM,
# TCG, vhost, the virt board's devices), the binary a Grace user gets from
# make, with one difference: no user-mode networking, as Debian ships no
# static libslirp (L1's guests need no network); and it is linked without
# PIE (below).
# ninja does the incremental work; at most -j2.
set -eu

src=$(cd "$1" && pwd)
top=$(cd "$(dirname "$0")/.." && pwd)
out=$top/build/e2e
bdir=$out/qemu-aarch64
sysroot=$out/sysroot
debs=$out/arm64-debs
log() { echo "e2e-qemu: $*" >&2; }

"$top/scripts/deps.sh" e2e >&2

# --- the arm64 libraries (static archives + headers + .pc files) ------------
PKGS="libglib2.0-dev libpcre2-dev libfdt-dev zlib1g-dev libffi-dev"
mkdir -p "$debs"
missing=""
for p in $PKGS; do
    ls "$debs/${p}"_*.deb >/dev/null 2>&1 || missing="$missing $p"
done
if [ -n "$missing" ]; then
    log "downloading (arm64):$missing"
    # shellcheck disable=SC2086
    (cd "$debs" && "$top/scripts/apt.sh" arm64 apt-get -q download $missing >&2)
fi
want=$(ls "$debs"/*.deb | sort | sha256sum)
if [ "$(cat "$sysroot/.debs" 2>/dev/null)" != "$want" ]; then
    log "unpacking arm64 libraries into ${sysroot#"$top"/}"
    rm -rf "$sysroot"; mkdir -p "$sysroot"
    for d in "$debs"/*.deb; do dpkg-deb -x "$d" "$sysroot"; done
    echo "$want" > "$sysroot/.debs"
fi

# --- configure (again only when the options change) ---------------------------
libdir=$sysroot/usr/lib/aarch64-linux-gnu
# -B puts the unpacked libraries on the compiler's own search path, where
# meson's find_library looks (a cross gcc ignores LIBRARY_PATH).
cc="aarch64-linux-gnu-gcc -B$libdir/"
command -v ccache >/dev/null && cc="ccache $cc"
export CCACHE_BASEDIR="$top" CCACHE_NOHASHDIR=true
export PKG_CONFIG=pkg-config
export PKG_CONFIG_LIBDIR="$sysroot/usr/lib/aarch64-linux-gnu/pkgconfig:$sysroot/usr/share/pkgconfig"
export PKG_CONFIG_SYSROOT_DIR="$sysroot"
user=$("$top/scripts/qemu-config.sh" user | sed 's/--enable-slirp/--disable-slirp/')
# shellcheck disable=SC2086  # the options are words without spaces
# --disable-pie: a static PIE of this size overflows the small GOT that
# aarch64 -fpie code addresses ("too many GOT entries for -fpic"); Debian
# links its static QEMUs without PIE too
set -- --cross-prefix=aarch64-linux-gnu- "--cc=$cc" --static --disable-pie \
    $user "--extra-cflags=-I$sysroot/usr/include" "--extra-ldflags=-L$libdir"
opts="$*"
if [ ! -f "$bdir/build.ninja" ] || [ "$(cat "$bdir/.opts" 2>/dev/null)" != "$opts" ]; then
    log "configuring ${bdir#"$top"/}"
    rm -rf "$bdir"; mkdir -p "$bdir"
    (cd "$bdir" && "$src/configure" "$@" >"$bdir/configure.log" 2>&1) || {
        tail -n 30 "$bdir/configure.log" >&2; log "configure failed"; exit 1; }
    echo "$opts" > "$bdir/.opts"
fi

log "building (ninja -j2)"
ninja -C "$bdir" -j2 qemu-system-aarch64 >"$bdir/ninja.log" 2>&1 || {
    grep -E 'error|FAILED' "$bdir/ninja.log" | head -n 20 >&2; tail -n 5 "$bdir/ninja.log" >&2
    log "build failed (${bdir#"$top"/}/ninja.log)"; exit 1; }
if aarch64-linux-gnu-readelf -d "$bdir/qemu-system-aarch64" | grep -q NEEDED; then
    log "qemu-system-aarch64 is not statically linked"; exit 1
fi
echo "$bdir/qemu-system-aarch64"
