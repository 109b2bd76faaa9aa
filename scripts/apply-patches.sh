#!/bin/sh
# Bring the QEMU tree SRC to "pristine + PATCHES, in order".
#
#   apply-patches.sh SRC APPLIED_DIR PATCH...
#
# APPLIED_DIR keeps copies of the series currently applied. If it differs
# from the requested one, the old series is reverted (last patch first) and
# the new one applied, so the tree is updated in place and ninja rebuilds
# only what the patches touch.
set -eu
src=$1; applied=$2; shift 2

mkdir -p "$applied"
want=$(for p in "$@"; do basename "$p"; cat "$p"; done | sha256sum)
have=$(for p in $(ls "$applied" | sort); do echo "$p"; cat "$applied/$p"; done | sha256sum)
[ "$want" = "$have" ] && exit 0

for p in $(ls "$applied" | sort -r); do
    echo "patches: reverting $p"
    patch -d "$src" -p1 -R -s --no-backup-if-mismatch < "$applied/$p"
    rm "$applied/$p"
done
for p in "$@"; do
    echo "patches: applying $(basename "$p")"
    patch -d "$src" -p1 -s --forward --no-backup-if-mismatch < "$p"
    cp "$p" "$applied/"
done
