#!/bin/sh
# Run apt-get / apt-cache against a private configuration kept under build/apt/,
# never touching the system's own sources.
#
#   scripts/apt.sh PROFILE apt-get|apt-cache ARGS...
#
# Profiles:
#   host   bookworm + bookworm-backports for this machine's architecture: used to
#          install build dependencies (meson >= 1.5 comes from backports).
#   sid    Debian sid: deb-src (for the QEMU source package) and arm64 binaries
#          (guest kernel, busybox-static), only ever downloaded, never installed.
#   arm64  bookworm arm64 binaries (the libraries QEMU is cross-built against
#          for make e2e, matching the cross toolchain's glibc), only ever
#          downloaded and unpacked into build/e2e/, never installed.
#
# The package lists are refreshed when they are missing or older than a day.
set -eu

profile=$1; tool=$2; shift 2
top=$(cd "$(dirname "$0")/.." && pwd)
dir=${VSMMU_APT_DIR:-$top/build/apt}/$profile
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
security=${DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}

mkdir -p "$dir/lists/partial" "$dir/cache/archives/partial" "$dir/sources.list.d"
case $profile in
host)
    cat > "$dir/sources.list.new" <<LIST
deb $mirror bookworm main
deb $mirror bookworm-updates main
deb $security bookworm-security main
deb $mirror bookworm-backports main
LIST
    archopts="" ;;
sid)
    cat > "$dir/sources.list.new" <<LIST
deb-src $mirror sid main
deb [arch=arm64] $mirror sid main
LIST
    archopts="-o APT::Architecture=arm64 -o APT::Architectures::=arm64" ;;
arm64)
    cat > "$dir/sources.list.new" <<LIST
deb [arch=arm64] $mirror bookworm main
deb [arch=arm64] $mirror bookworm-updates main
deb [arch=arm64] $security bookworm-security main
LIST
    archopts="-o APT::Architecture=arm64 -o APT::Architectures::=arm64" ;;
*)
    echo "apt.sh: unknown profile '$profile'" >&2; exit 2 ;;
esac
if cmp -s "$dir/sources.list.new" "$dir/sources.list"; then
    rm -f "$dir/sources.list.new"
else
    mv "$dir/sources.list.new" "$dir/sources.list"
    rm -f "$dir/updated"
fi

opts="-o Dir::Etc::SourceList=$dir/sources.list
      -o Dir::Etc::SourceParts=$dir/sources.list.d
      -o Dir::State::Lists=$dir/lists
      -o Dir::Cache=$dir/cache
      -o Acquire::Check-Valid-Until=false
      -o Acquire::Languages=none
      -o APT::Sandbox::User=root
      $archopts"

if [ -z "$(find "$dir/updated" -mtime -1 2>/dev/null)" ]; then
    # shellcheck disable=SC2086
    apt-get -q $opts update >&2
    touch "$dir/updated"
fi
# shellcheck disable=SC2086
exec "$tool" $opts "$@"
