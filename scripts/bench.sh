#!/bin/sh
# Run the benchmarks; each prints "bench: <name>: <value>" lines.
# Figures are ratios measured within one run (see docs/performance.md).
#
#   bench.sh [--smoke] QEMU_BUILD_DIR
#
# --smoke: every benchmark at its smallest setting (VSMMU_BENCH_SMOKE=1),
# so that make check sees each one run to its end; the figures mean
# nothing then.
set -eu
if [ "${1:-}" = --smoke ]; then
    export VSMMU_BENCH_SMOKE=1
    shift
fi
build=$(cd "$1" && pwd)
export QTEST_QEMU_BINARY="$build/qemu-system-aarch64"
SIMHOST_LIB="$(dirname "$build")/simhost/libsimhost.so"
export SIMHOST_LIB

# Translation: vsmmu vs arm-smmuv3, IOTLB-hit-heavy and miss-heavy
"$build/tests/qtest/vsmmu/vsmmu-bench"

# Invalidation, accel mode against the simulated host: ioctls and QEMU
# instructions per command, batched vs x-batch=off (callgrind)
"$(dirname "$0")/bench-inval.py" "$build"

# Tegra241 VCMDQ: MMIO exits per 1000 guest VCMDQ commands, emulated and
# accelerated (the host's VINTF page mapped into the guest)
"$build/tests/qtest/vsmmu/vsmmu-cmdqv-bench"

# The longest single guest write to a command queue's PROD (CMDQ and an
# emulated VCMDQ), full queues of the most expensive commands: the
# vsmmu's own measure of its longest slice (docs/security.md, rule 5)
"$build/tests/qtest/vsmmu/vsmmu-doorbell-bench"

# The demo guest's boot through the vsmmu (default DMA domain) against
# the same boot without an IOMMU
"$(dirname "$0")/bench-boot.sh" "$QTEST_QEMU_BINARY"
