#!/bin/sh
# Prepare the vsmmu demo guest under build/guest/ (idempotent):
#   - download (never install) the Debian sid arm64 kernel + busybox-static,
#   - unpack them with dpkg-deb -x,
#   - build initramfs.cpio.gz (busybox, nvme/virtio_blk modules, demo/init),
#   - create two 8 MiB disk images with a deterministic pattern and their
#     expected sha256 (disk-virtio.img/.sha256, disk-nvme.img/.sha256).
# A second run only re-checks the disk hashes (~0.1 s).
set -eu

KVER=7.2.13                      # the one place to change the guest kernel
KABI=$KVER+deb14-arm64           # Debian's ABI name (/usr/lib/modules/$KABI)
DISK_MB=8                        # demo/init hashes the first 8 MiB: keep equal
# Guest modules to load (dependencies are added automatically).  virtio_pci,
# pci-host-generic and arm-smmu-v3 are built into this kernel.
MODULES="virtio_blk nvme"
BUILTIN_NEEDED="virtio_pci pci-host-generic arm_smmu_v3"

top=$(cd "$(dirname "$0")/.." && pwd)
out=$top/build/guest
debs=$out/debs
PY=/usr/bin/python3
mkdir -p "$debs"
# Serialise concurrent runs (e.g. several demo/run.sh started in parallel).
if command -v flock >/dev/null; then exec 9>"$out/.lock"; flock 9; fi

log() { echo "prepare: $*"; }

# stale OUT DEP...: true if OUT is missing or older than any DEP.
# (POSIX sh has no locals: helpers use _-prefixed variable names.)
stale() {
    _t=$1; shift
    [ -e "$_t" ] || return 0
    for _d in "$@"; do [ -n "$(find "$_d" -prune -newer "$_t")" ] && return 0; done
    return 1
}

# fetch PKG: print the path of PKG's .deb in $debs, downloading it first
# if it is not there yet (so a warm run never touches the network).
fetch() {
    for _f in "$debs/$1"_*.deb; do [ -f "$_f" ] && { echo "$_f"; return; }; done
    log "downloading $1" >&2
    (cd "$debs" && "$top/scripts/apt.sh" sid apt-get -q download "$1" >&2)
    for _f in "$debs/$1"_*.deb; do [ -f "$_f" ] && { echo "$_f"; return; }; done
    echo "prepare: download of $1 failed" >&2; exit 1
}

# unpack DIR DEB...: dpkg-deb -x the packages into DIR once (stamp-guarded).
unpack() {
    _dir=$1; shift
    if stale "$_dir/.stamp" "$@"; then
        log "unpacking $(for _d in "$@"; do basename "$_d"; done | tr '\n' ' ')into ${_dir#"$top"/}"
        rm -rf "$_dir"; mkdir -p "$_dir"
        for _d in "$@"; do dpkg-deb -x "$_d" "$_dir"; done
        touch "$_dir/.stamp"
    fi
}

# --- kernel: image, modules, and linux-base (modules.builtin, config) ------
kbin=$(fetch "linux-binary-$KABI")      # vmlinuz
kmod=$(fetch "linux-modules-$KABI")     # *.ko.xz
kbase=$(fetch "linux-base-$KABI")       # modules.builtin, config (no modules.dep)
unpack "$out/kernel" "$kbin" "$kmod" "$kbase"
moddir=$out/kernel/usr/lib/modules/$KABI
[ -f "$moddir/vmlinuz" ] || { echo "prepare: no vmlinuz in $moddir" >&2; exit 1; }
ln -sfn "kernel/usr/lib/modules/$KABI/vmlinuz" "$out/vmlinuz"
for m in $BUILTIN_NEEDED; do
    grep -q "/$m\.ko\$" "$moddir/modules.builtin" ||
        log "WARNING: $m is not built into $KABI; add it to MODULES"
done

# --- busybox ---------------------------------------------------------------
bb=$(fetch busybox-static)
unpack "$out/busybox" "$bb"
busybox=$out/busybox/usr/bin/busybox

# --- initramfs -------------------------------------------------------------
initrd=$out/initramfs.cpio.gz
if stale "$initrd" "$top/demo/init" "$top/demo/mkinitramfs.py" \
        "$top/demo/prepare.sh" "$out/kernel/.stamp" "$out/busybox/.stamp"; then
    log "building ${initrd#"$top"/}"
    # shellcheck disable=SC2086
    $PY "$top/demo/mkinitramfs.py" --moddir "$moddir" --busybox "$busybox" \
        --init "$top/demo/init" --out "$initrd" $MODULES
fi

# --- disk images -----------------------------------------------------------
# Each 512-byte sector: an ASCII header naming disk and sector, then 448
# bytes of a SHA-256 counter stream seeded by the disk name.  Deterministic,
# different per disk, and a misplaced sector is recognisable in a hexdump.
mkdisk() {
    $PY - "$1" "$2" "$DISK_MB" <<'EOF'
import hashlib, sys
path, name, mb = sys.argv[1], sys.argv[2], int(sys.argv[3])
with open(path + ".tmp", "wb") as f:
    for s in range(mb * 2048):
        hdr = ("vsmmu-demo disk=%s sector=%d\n" % (name, s)).encode().ljust(64, b".")
        body = b"".join(hashlib.sha256(b"%s:%d:%d" % (name.encode(), s, i)).digest()
                        for i in range(14))
        f.write(hdr + body)
EOF
    mv "$1.tmp" "$1"
}
for d in virtio nvme; do
    img=$out/disk-$d.img sum=$out/disk-$d.sha256
    # Regenerate if missing, if the generator changed, or if the image no
    # longer matches its recorded hash (e.g. a guest wrote to it).
    if stale "$sum" "$top/demo/prepare.sh" || [ ! -f "$img" ] ||
       ! (cd "$out" && sha256sum --status -c "disk-$d.sha256"); then
        log "creating disk-$d.img (${DISK_MB} MiB)"
        mkdisk "$img" "$d"
        (cd "$out" && sha256sum "disk-$d.img" > "disk-$d.sha256")
    fi
done
log "ready: kernel $KABI, $(cat "$out"/disk-*.sha256 | cut -c1-12 | tr '\n' ' ')"
