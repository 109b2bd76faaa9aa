#!/bin/bash
# make run: boot the demo guest twice through the vsmmu, with the default
# DMA domain and with iommu.strict=1 (every unmap invalidates), and print
# one summary line:
#   vsmmu demo: PASS default: <facts>; strict: <facts>
#   vsmmu demo: FAIL <reason>
#
#   demo/main.sh QEMU_BINARY
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
qemu=$1
summary=()
for mode in default strict; do
    append=""
    [ $mode = strict ] && append="iommu.strict=1"
    out=$("$top/demo/run.sh" --qemu "$qemu" --label "vsmmu-$mode" --expect-smmu \
          ${append:+--append "$append"})
    rc=$?
    grep -v '^vsmmu demo: ' <<<"$out"
    last=$(grep '^vsmmu demo: ' <<<"$out" | tail -n 1)
    if [ $rc -ne 0 ] || [[ $last != "vsmmu demo: PASS "* ]]; then
        echo "vsmmu demo: FAIL $mode: ${last#vsmmu demo: FAIL }"
        exit 1
    fi
    summary+=("$mode: ${last#vsmmu demo: PASS label=vsmmu-$mode }")
done
echo "vsmmu demo: PASS ${summary[0]}; ${summary[1]}"
