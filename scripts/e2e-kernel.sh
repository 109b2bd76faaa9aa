#!/bin/sh
# Build the arm64 Linux kernel Image of the end-to-end test (make e2e-kernel):
#
#   scripts/e2e-kernel.sh            -> build/e2e/Image (prints its path last)
#
# Debian's linux-source-$KVER (sid) is downloaded with apt-get download (never
# installed) and unpacked under build/e2e/; the Image is built with Debian's
# cross compiler (gcc-aarch64-linux-gnu, installed by scripts/deps.sh e2e)
# from the arm64 defconfig merged with e2e/kernel.config, without modules.
# The same Image boots L1 (the nested host) and L2 (the guest), and any other
# test that needs a kernel with IOMMUFD/SMMUv3 nesting/VFIO cdev/KVM or the
# Tegra241 CMDQV guest driver.
#
# A stamp (source version + fragment + this script) makes a warm run return
# at once; ccache (CC="ccache aarch64-linux-gnu-gcc") makes a rebuild after a
# fragment change take minutes, not a quarter of an hour. At most -j2.
set -eu

KPKG=linux-source-7.2            # the Debian source package of the kernel
top=$(cd "$(dirname "$0")/.." && pwd)
out=$top/build/e2e
debs=$out/debs
src=$out/linux
kbuild=$out/kbuild
frag=$top/e2e/kernel.config
jobs=${E2E_JOBS:-2}
[ "$jobs" -le 2 ] 2>/dev/null || jobs=2
log() { echo "e2e-kernel: $*" >&2; }

"$top/scripts/deps.sh" e2e >&2
mkdir -p "$debs"
if command -v flock >/dev/null; then exec 9>"$out/.kernel.lock"; flock 9; fi

deb=$(ls "$debs/${KPKG}"_*.deb 2>/dev/null | head -n 1 || true)
if [ -z "$deb" ]; then
    log "downloading $KPKG"
    (cd "$debs" && "$top/scripts/apt.sh" sid apt-get -q download "$KPKG" >&2)
    deb=$(ls "$debs/${KPKG}"_*.deb | head -n 1)
fi
debver=$(dpkg-deb -f "$deb" Version)

stamp_val=$(printf '%s\n' "$debver" | cat - "$frag" "$0" | sha256sum | cut -c1-16)
if [ -f "$out/Image" ] && [ "$(cat "$out/Image.stamp" 2>/dev/null)" = "$stamp_val" ]; then
    log "up to date ($KPKG $debver)"
    echo "$out/Image"; exit 0
fi

if [ "$(cat "$src/.debver" 2>/dev/null)" != "$debver" ]; then
    log "unpacking $KPKG $debver"
    rm -rf "$src" "$kbuild" "$out/src-deb"
    dpkg-deb -x "$deb" "$out/src-deb"
    mkdir -p "$src"
    tar -xaf "$out/src-deb/usr/src/$KPKG.tar.xz" -C "$src" --strip-components=1
    rm -rf "$out/src-deb"
    echo "$debver" > "$src/.debver"
fi

cc="aarch64-linux-gnu-gcc"
command -v ccache >/dev/null && cc="ccache $cc"
# Reproducible inputs: ccache hits across clones, no rebuild of version.c
export KBUILD_BUILD_TIMESTAMP="$debver" KBUILD_BUILD_USER=vsmmu KBUILD_BUILD_HOST=e2e
export CCACHE_BASEDIR="$out" CCACHE_NOHASHDIR=true
km() { make -C "$src" O="$kbuild" ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu- \
            CC="$cc" "$@"; }

mkdir -p "$kbuild"
log "configuring (defconfig + ${frag#"$top"/})"
km -s defconfig >&2
"$src/scripts/kconfig/merge_config.sh" -m -O "$kbuild" "$kbuild/.config" "$frag" >/dev/null
km -s olddefconfig >&2
# Every option the fragment asks for must have survived (dependencies).
bad=""
for o in $(sed -n 's/^\(CONFIG_[A-Za-z0-9_]*\)=y$/\1/p' "$frag"); do
    grep -qx "$o=y" "$kbuild/.config" || bad="$bad $o"
done
for o in $(sed -n 's/^# \(CONFIG_[A-Za-z0-9_]*\) is not set$/\1/p' "$frag"); do
    grep -q "^$o=" "$kbuild/.config" && bad="$bad $o(should be off)"
done
if [ -n "$bad" ]; then
    log "configuration does not have:$bad"; exit 1
fi

log "building Image with -j$jobs (cold: about a quarter of an hour)"
t0=$(date +%s)
km -j"$jobs" Image >"$out/kernel-build.log" 2>&1 || {
    tail -n 30 "$out/kernel-build.log" >&2; log "build failed (build/e2e/kernel-build.log)"; exit 1; }
cp "$kbuild/arch/arm64/boot/Image" "$out/Image.tmp"
mv "$out/Image.tmp" "$out/Image"
echo "$stamp_val" > "$out/Image.stamp"
log "built $KPKG $debver in $(( $(date +%s) - t0 ))s: $(stat -c %s "$out/Image") bytes"
echo "$out/Image"
