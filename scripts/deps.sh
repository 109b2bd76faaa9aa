#!/bin/sh
# Install, through apt, whatever the build, the tests and the demo need and
# the machine lacks. Does nothing when everything is present.
#
#   scripts/deps.sh        what make / make check / make run need (the test
#                          build)
#   scripts/deps.sh user   also the libraries of the user build
#                          (scripts/qemu-config.sh user-packages)
#   scripts/deps.sh e2e    also what make e2e needs (arm64 cross toolchain,
#                          kernel build tools)
#   scripts/deps.sh sanitize   also what make check-sanitize and make fuzz
#                          need: clang 19 with compiler-rt (ASan, UBSan,
#                          libFuzzer) and llvm-19 (llvm-cov, llvm-profdata,
#                          llvm-symbolizer), all from bookworm
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)

packages="gcc make ninja-build pkg-config dpkg-dev python3-venv flex bison
          libglib2.0-dev libpixman-1-dev libfdt-dev zlib1g-dev
          ccache xz-utils python3 valgrind
          qemu-efi-aarch64"
MESON_MIN=1.5
case ${1:-} in
user)
    packages="$packages $("$top/scripts/qemu-config.sh" user-packages)" ;;
e2e)
    packages="$packages gcc-aarch64-linux-gnu libc6-dev-arm64-cross bc libssl-dev cpio" ;;
sanitize)
    packages="$packages clang-19 libclang-rt-19-dev llvm-19" ;;
esac

missing=""
for p in $packages; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
        missing="$missing $p"
done
meson_version=$(dpkg-query -W -f='${Version}' meson 2>/dev/null || true)
if [ -z "$meson_version" ] ||
   dpkg --compare-versions "$meson_version" lt "$MESON_MIN"; then
    # bookworm has meson 1.0; QEMU 10.2 needs >= 1.5, from backports
    missing="$missing meson/bookworm-backports"
fi

if [ -z "$missing" ]; then
    exit 0
fi
echo "deps: installing:$missing"
if [ "$(id -u)" != 0 ]; then
    echo "deps: need root to install:$missing" >&2
    exit 1
fi
DEBIAN_FRONTEND=noninteractive "$top/scripts/apt.sh" host apt-get install -y \
    -q --no-install-recommends $missing
