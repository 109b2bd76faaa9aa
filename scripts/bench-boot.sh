#!/bin/bash
# Boot overhead of the vsmmu: the demo guest (demo/run.sh: Linux boots,
# reads and checks its virtio-blk and NVMe disks, powers off) behind the
# vsmmu in the default DMA domain, against the same boot with no IOMMU.
#
#   bench-boot.sh QEMU_BINARY [PAIRS]
#
# PAIRS pairs of boots (default 5; VSMMU_BENCH_SMOKE=1: 1), the two kinds
# alternating (ABBA...), so a machine that gets busier slows both alike.
# Each boot is timed from QEMU's start to its exit: the wall clock (what a
# user waits) and the CPU time QEMU used (user + system; under TCG the
# work of emulating the guest, devices and vsmmu included, and much less
# sensitive than the wall clock to other load on the machine). The vsmmu
# boot must have the guest's arm-smmu-v3 probed and its devices in IOMMU
# groups, and both boots must read their disks right. Prints the medians:
#   bench: boot-seconds-no-iommu: <wall>
#   bench: boot-seconds-vsmmu: <wall>
#   bench: boot-overhead-vs-no-iommu: <wall, vsmmu / no IOMMU>
#   bench: boot-cpu-overhead-vs-no-iommu: <CPU time, vsmmu / no IOMMU>
# and one line per boot on stderr.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
qemu=$1
pairs=${2:-5}
[ -n "${VSMMU_BENCH_SMOKE:-}" ] && pairs=1
fail() { echo "bench-boot: $*" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# One boot of kind $1 (none|vsmmu); prints "<wall ms> <cpu ms>"
boot() {
    local args=(--qemu "$qemu" --label "bench-$1" --no-stats) t rc
    if [ "$1" = none ]; then
        args+=(--no-iommu)
    else
        args+=(--expect-smmu)
    fi
    local TIMEFORMAT='%3R %3U %3S'
    t=$( { time "$top/demo/run.sh" "${args[@]}" >"$tmp/out" 2>/dev/null; } 2>&1 )
    rc=$?
    [ $rc = 0 ] || fail "$1 boot failed: $(tail -n 1 "$tmp/out")"
    # shellcheck disable=SC2086  # three numbers
    set -- $1 $t
    awk -v k="$1" -v r="$2" -v u="$3" -v s="$4" 'BEGIN {
        printf "bench-boot: %s: %.2f s, QEMU CPU %.2f s\n", k, r, u + s > "/dev/stderr"
        printf "%d %d\n", r * 1000, (u + s) * 1000 }'
}

median() {   # one number per line -> the median
    sort -n | awk '{ v[NR] = $1 } END {
        if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

"$top/demo/prepare.sh" >/dev/null 2>&1 || fail "demo/prepare.sh failed"
: > "$tmp/none"; : > "$tmp/vsmmu"
for ((i = 0; i < pairs; i++)); do
    if ((i % 2)); then order="vsmmu none"; else order="none vsmmu"; fi
    for k in $order; do
        r=$(boot "$k") || exit 1
        echo "$r" >> "$tmp/$k"
    done
done
wn=$(cut -d' ' -f1 "$tmp/none" | median)
wv=$(cut -d' ' -f1 "$tmp/vsmmu" | median)
cn=$(cut -d' ' -f2 "$tmp/none" | median)
cv=$(cut -d' ' -f2 "$tmp/vsmmu" | median)
awk -v wn="$wn" -v wv="$wv" -v cn="$cn" -v cv="$cv" 'BEGIN {
    printf "bench: boot-seconds-no-iommu: %.2f\n", wn / 1000
    printf "bench: boot-seconds-vsmmu: %.2f\n", wv / 1000
    printf "bench: boot-overhead-vs-no-iommu: %.3f\n", wv / wn
    printf "bench: boot-cpu-overhead-vs-no-iommu: %.3f\n", cv / cn }'
