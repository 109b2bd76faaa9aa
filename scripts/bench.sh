#!/bin/sh
# Run the benchmarks; each prints "bench: <name>: <value>" lines.
# Figures are ratios measured within one run (see docs/performance.md).
#
#   bench.sh QEMU_BUILD_DIR
set -eu
build=$(cd "$1" && pwd)
export QTEST_QEMU_BINARY="$build/qemu-system-aarch64"
export SIMHOST_LIB="$build/../simhost/libsimhost.so"

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
