#!/bin/sh
# Run every test of the project and print one summary line:
#   N passed, N failed[, N skipped]
# Exit status 1 if anything failed.
#
#   run-tests.sh QEMU_BUILD_DIR               make check
#   run-tests.sh --sanitize QEMU_SAN_BUILD    make check-sanitize
#
# Test programs speak TAP (GLib's --tap): "ok", "not ok", "# SKIP reason".
# A program that dies without reporting a failure counts as one failure.
#
# --sanitize: the build is the clang ASan + UBSan one (Makefile,
# QEMU_SAN_BUILD). Every sanitizer report is fatal (the process aborts, its
# test fails), leaks are reported at exit (less the suppressions in
# tests/fuzz/lsan.supp, each with its reason), the Linux boots are not run
# (minutes each under ASan; make check runs them), and the fuzz corpus of
# every target (tests/fuzz/corpus) is replayed once through
# qemu-fuzz-aarch64.
set -u
sanitize=false
if [ "${1:-}" = --sanitize ]; then
    sanitize=true; shift
fi
build=$(cd "$1" && pwd)
top=$(cd "$(dirname "$0")/.." && pwd)
log=$build/vsmmu-tests.log
: > "$log"

if $sanitize; then
    export ASAN_OPTIONS="halt_on_error=1:abort_on_error=1:detect_leaks=1:print_summary=1"
    export UBSAN_OPTIONS="halt_on_error=1:abort_on_error=1:print_stacktrace=1"
    export LSAN_OPTIONS="suppressions=$top/tests/fuzz/lsan.supp:print_suppressions=0"
fi

pass=0 fail=0 skip=0

run_tap() {   # name, command...
    name=$1; shift
    out=$("$@" 2>>"$log"); rc=$?
    printf '%s\n' "$out" >> "$log"
    p=$(printf '%s\n' "$out" | grep -c -E '^ok [0-9]+' )
    s=$(printf '%s\n' "$out" | grep -c -E '^ok [0-9]+.*# SKIP')
    f=$(printf '%s\n' "$out" | grep -c -E '^not ok [0-9]+')
    p=$((p - s))
    printf '%s\n' "$out" | grep -E '^(not ok|ok [0-9]+.*# SKIP)' | sed "s|^|  $name: |"
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
        echo "  $name: exited with status $rc without reporting a failure"
        f=1
    fi
    echo "$name: $p passed, $f failed, $s skipped"
    pass=$((pass + p)); fail=$((fail + f)); skip=$((skip + s))
}

# A check of the source tree: one test, its last line in the summary
run_check() {   # name, command...
    name=$1; shift
    if out=$("$@" 2>&1); then
        pass=$((pass + 1)); r="ok"
    else
        fail=$((fail + 1)); r="FAILED"
        # what went wrong (a check lists its problems before its last line)
        printf '%s\n' "$out" | tail -n 11 | head -n 10 | sed "s|^|  $name: |"
    fi
    printf '%s\n' "$out" >> "$log"
    echo "$name: $r: $(printf '%s\n' "$out" | tail -n 1)"
}

# The layers of docs/design.md: no cycle between the device's files
run_check scripts/check-call-graph python3 "$top/scripts/check-call-graph.py" \
    "$top"

export QTEST_QEMU_BINARY="$build/qemu-system-aarch64"

# The repository stands on its own: every kernel rule cited is in
# docs/kernel-contract.md, nothing names a file outside the repository
run_check repo/references python3 "$top/scripts/check-refs.py" "$top"
# docs/design.md's Files table lists every source file under hw/
run_check repo/design-files python3 "$top/scripts/check-design.py" "$top"

# The simulated Arm host's own tests (no QEMU), then the qtests that use it
simhost="$(dirname "$build")/simhost"
export SIMHOST_LIB="$simhost/libsimhost.so"
if [ -x "$simhost/simhost-selftest" ] && [ -f "$SIMHOST_LIB" ]; then
    run_tap simhost/selftest env LD_PRELOAD="$SIMHOST_LIB" \
        "$simhost/simhost-selftest"
else
    echo "simhost/selftest: not built"; fail=$((fail + 1))
fi

for t in "$build"/tests/qtest/vsmmu/*-test; do
    [ -x "$t" ] || continue
    run_tap "qtest/$(basename "$t")" "$t" --tap -k
done

# The fuzz corpus replayed: every input of every target once (sanitizers
# on), so a regression is caught without fuzzing time
if $sanitize; then
    fuzzbin="$build/qemu-fuzz-aarch64"
    for dir in "$top"/tests/fuzz/corpus/*/; do
        target=$(basename "$dir")
        name="fuzz-replay/$target"
        if [ ! -x "$fuzzbin" ]; then
            echo "$name: FAILED: $fuzzbin not built"; fail=$((fail + 1))
            continue
        fi
        n=$(find "$dir" -type f | wc -l)
        # -timeout: one input may not run for more than 5 s (1 s when
        # fuzzing, make fuzz; replays share the machine with other jobs)
        if find "$dir" -type f | sort | xargs "$fuzzbin" \
               --fuzz-target="$target" -timeout=5 -rss_limit_mb=4096 \
               >> "$log" 2>&1; then
            pass=$((pass + 1)); echo "$name: ok: $n inputs"
        else
            fail=$((fail + 1))
            echo "$name: FAILED: an input crashed or hung (see $log)"
        fi
    done
    echo "demo/*: not run under the sanitizers (make check runs the Linux" \
         "boots)"
    echo "(full output in $log)"
    if [ "$skip" -gt 0 ]; then
        echo "$pass passed, $fail failed, $skip skipped"
    else
        echo "$pass passed, $fail failed"
    fi
    [ "$fail" -eq 0 ]
    exit
fi

# Every benchmark of make bench at its smallest setting: they still run
bench_smoke() {
    out=$("$top/scripts/bench.sh" --smoke "$build") || return 1
    printf '%s\n' "$out"
    # every figure a number, and one from each benchmark
    ! printf '%s\n' "$out" | grep '^bench: ' |
        grep -Ev '^bench: [a-z0-9-]+: -?[0-9.]+$' || return 1
    for f in translate-hit-speedup-vs-arm-smmuv3 \
             inval-ioctl-reduction-vs-unbatched \
             vcmdq-exits-per-1000-cmds-accel doorbell-max-ms \
             boot-overhead-vs-no-iommu; do
        printf '%s\n' "$out" | grep -q "^bench: $f: " || {
            echo "bench smoke: no '$f' figure"; return 1; }
    done
    echo "bench smoke: $(printf '%s\n' "$out" | grep -c '^bench: ') figures"
}
run_check bench/smoke bench_smoke

# A Linux guest through the emulated vsmmu: DMA domains, default and strict
run_demo() {   # name, extra run.sh args...
    name=$1; shift
    if out=$("$top/demo/run.sh" --qemu "$QTEST_QEMU_BINARY" --expect-smmu "$@" \
             2>>"$log"); then
        pass=$((pass + 1)); r="ok"
    else
        fail=$((fail + 1)); r="FAILED"
    fi
    printf '%s\n' "$out" >> "$log"
    echo "$name: $r: $(printf '%s\n' "$out" | tail -n 1)"
}
run_demo demo/linux-dma-default --label check-default --expect-msi-window no
# strict, with the virtio disk in an iothread: its DMA is translated outside
# the BQL while the vCPUs invalidate (docs/security.md)
run_demo demo/linux-dma-strict --label check-strict --append iommu.strict=1 \
    --iothread

# The host MSI window (docs/msi.md): the guest's IOMMU groups must list it
# as a direct region, from the device tree and from ACPI (IORT RMR, UEFI)
msi_vsmmu=vsmmu,primary-bus=pcie.0,msi-window=on
run_demo demo/linux-msi-window-dt --label check-msi-dt \
    --iommu-device "$msi_vsmmu" --expect-msi-window yes
# PCIe ATS (docs/design.md): vsmmu ats=on and a virtio-blk ats=on behind a
# root port; the guest's arm-smmu-v3 must enable ATS on the disk (the
# firmware says the root complex supports it: DT ats-supported, IORT RC
# ATS attribute) and send ATC_INVs during the disk read
run_demo demo/linux-ats-dt --label check-ats-dt --ats
uefi=${VSMMU_UEFI_FIRMWARE:-/usr/share/qemu-efi-aarch64/QEMU_EFI.fd}
if [ -f "$uefi" ]; then
    run_demo demo/linux-ats-acpi --label check-ats-acpi --uefi --ats
    run_demo demo/linux-msi-window-acpi --label check-msi-acpi --uefi \
        --iommu-device "$msi_vsmmu" --expect-msi-window yes
    # A vsmmu on a pxb-pcie root bus, its device behind a root port there:
    # RMR StreamIDs of the bus range the firmware numbered, _DSM 5 on PC80
    run_demo demo/linux-msi-window-acpi-pxb --label check-msi-acpi-pxb \
        --uefi --pxb --iommu-device vsmmu,primary-bus=pxb1,msi-window=on \
        --expect-msi-window yes
else
    for t in msi-window-acpi msi-window-acpi-pxb ats-acpi; do
        echo "demo/linux-$t: SKIP: no UEFI firmware $uefi" \
             "(Debian package qemu-efi-aarch64)"
        skip=$((skip + 1))
    done
fi

echo "(full output in $log)"
if [ "$skip" -gt 0 ]; then
    echo "$pass passed, $fail failed, $skip skipped"
else
    echo "$pass passed, $fail failed"
fi
[ "$fail" -eq 0 ]
