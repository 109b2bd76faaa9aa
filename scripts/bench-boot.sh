#!/bin/bash
# Boot overhead of the vsmmu: the demo guest (demo/run.sh: Linux boots,
# reads and checks its virtio-blk and NVMe disks, powers off) behind the
# vsmmu in the default DMA domain, against the same boot with no IOMMU.
#
#   bench-boot.sh QEMU_BINARY [PAIRS]
#
# PAIRS pairs of boots (default 5; VSMMU_BENCH_SMOKE=1: 1), the two kinds
# alternating (ABBA...), so a machine that gets busier slows both alike.
# Each boot is timed from QEMU's start to its exit (wall clock, what a
# user waits); the vsmmu boot must have the guest's arm-smmu-v3 probed and
# its devices in IOMMU groups, and both boots must read their disks
# right. Prints:
#   bench: boot-seconds-no-iommu: <median>
#   bench: boot-seconds-vsmmu: <median>
#   bench: boot-overhead-vs-no-iommu: <median vsmmu / median no IOMMU>
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
qemu=$1
pairs=${2:-5}
[ -n "${VSMMU_BENCH_SMOKE:-}" ] && pairs=1
fail() { echo "bench-boot: $*" >&2; exit 1; }

# One boot of kind $1 (none|vsmmu); prints its seconds
boot() {
    local t0 t1 out
    local args=(--qemu "$qemu" --label "bench-$1" --no-stats)
    if [ "$1" = none ]; then
        args+=(--no-iommu)
    else
        args+=(--expect-smmu)
    fi
    t0=$(date +%s%N)
    out=$("$top/demo/run.sh" "${args[@]}" 2>/dev/null)
    rc=$?
    t1=$(date +%s%N)
    [ $rc = 0 ] || fail "$1 boot failed: $(tail -n 1 <<<"$out")"
    echo "$(( (t1 - t0) / 1000000 ))"
}

median() {   # milliseconds, one per line -> the median
    sort -n | awk '{ v[NR] = $1 } END {
        if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

"$top/demo/prepare.sh" >/dev/null 2>&1 || fail "demo/prepare.sh failed"
none=() vsmmu=()
for ((i = 0; i < pairs; i++)); do
    if ((i % 2)); then
        vsmmu+=("$(boot vsmmu)") || exit 1
        none+=("$(boot none)") || exit 1
    else
        none+=("$(boot none)") || exit 1
        vsmmu+=("$(boot vsmmu)") || exit 1
    fi
done
m_none=$(printf '%s\n' "${none[@]}" | median)
m_vsmmu=$(printf '%s\n' "${vsmmu[@]}" | median)
awk -v n="$m_none" -v v="$m_vsmmu" 'BEGIN {
    printf "bench: boot-seconds-no-iommu: %.2f\n", n / 1000
    printf "bench: boot-seconds-vsmmu: %.2f\n", v / 1000
    printf "bench: boot-overhead-vs-no-iommu: %.3f\n", v / n }'
