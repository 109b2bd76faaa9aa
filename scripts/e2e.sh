#!/bin/bash
# End-to-end test on a real Linux 7.2 (make e2e): nested-translation guests
# through the accelerated vsmmu, on emulated Arm hardware.
#
#   scripts/e2e.sh L0-QEMU QEMU-SRC [SCENARIO...]
#
#   L0  our x86 build of qemu-system-aarch64 (TCG): virt with EL2, GICv3 and
#       the stock arm-smmuv3 (stage=nested, fwb=on from patches/0012), an
#       NVMe with a patterned 8 MiB disk.
#   L1  Linux 7.2 (build/e2e/Image) with IOMMUFD + SMMUv3 nesting + VFIO cdev
#       + KVM; e2e/l1-init binds the NVMe to vfio-pci and runs each scenario
#       with our aarch64 QEMU (build/e2e/qemu-aarch64, cross-built, static).
#   L2  the same kernel under KVM in L1, behind -device vsmmu,accel=on, with
#       the NVMe assigned through iommufd; e2e/l2-init reads the disk.
#
#   cmdqv, cmdqv-acpi: no L1. The same kernel boots directly on L0 (TCG)
#       behind -device vsmmu,cmdqv=on (emulated Tegra241 CMDQV), from the
#       device tree / through UEFI with ACPI, with the NVMe behind it and
#       iommu.strict=1: the guest's CMDQV driver must probe and its TLBIs
#       must reach the vsmmu through the VCMDQs (counters, trace).
#
# Scenarios (default: all): dt acpi strict msi hotplug fault cmdqv cmdqv-acpi
# (msi is checked on the dt run, it boots nothing of its own). The last line
# is "e2e: PASS <n> scenarios" (exit 0) or "e2e: FAIL <scenario>: <reason>".
# The L0 console is kept in build/e2e/l0.log, a cmdqv run's in
# build/e2e/<scenario>.log.
set -u
l0=$1 qsrc=$2; shift 2
top=$(cd "$(dirname "$0")/.." && pwd)
out=$top/build/e2e
L1ALL="dt acpi strict msi hotplug fault"
CMDQVALL="cmdqv cmdqv-acpi"
ALL="$L1ALL $CMDQVALL"
want=${*:-$ALL}
for s in $want; do
    case " $ALL " in *" $s "*) ;; *) fail "$s: unknown scenario (known: $ALL)" ;; esac
done
l1want=""       # the scenarios that need L1 (and the aarch64 QEMU)
for s in $want; do
    case " $L1ALL " in *" $s "*) l1want="$l1want $s" ;; esac
done
DISK_MB=8
TIMEOUT=${E2E_TIMEOUT:-900}     # the whole L0 run, seconds

fail() { echo "e2e: FAIL $*"; exit 1; }
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
stage() { echo "e2e: $1 ${2}s"; }
mkdir -p "$out/debs"

# --- build: kernel, aarch64 QEMU, busybox, disk, initramfs ------------------------
t=$(now)
# (no pipe: a pipeline's status would be tail's, not the build's)
image=$("$top/scripts/e2e-kernel.sh") || fail "build: kernel Image"
image=$(printf '%s\n' "$image" | tail -n 1)
stage "kernel" "$(secs "$t")"
if [ -n "$l1want" ]; then
    t=$(now)
    qemu=$("$top/scripts/e2e-qemu.sh" "$qsrc") || fail "build: aarch64 QEMU"
    qemu=$(printf '%s\n' "$qemu" | tail -n 1)
    stage "aarch64-qemu" "$(secs "$t")"
fi

t=$(now)
bbdeb=$(ls "$out"/debs/busybox-static_*.deb 2>/dev/null | head -n 1)
if [ -z "$bbdeb" ]; then
    (cd "$out/debs" && "$top/scripts/apt.sh" sid apt-get -q download busybox-static >&2) ||
        fail "build: busybox-static download"
    bbdeb=$(ls "$out"/debs/busybox-static_*.deb | head -n 1)
fi
if [ ! -f "$out/busybox/.stamp" ] || [ "$bbdeb" -nt "$out/busybox/.stamp" ]; then
    rm -rf "$out/busybox"; dpkg-deb -x "$bbdeb" "$out/busybox" && touch "$out/busybox/.stamp"
fi
busybox=$out/busybox/usr/bin/busybox
[ -f "$busybox" ] || fail "build: no busybox in $bbdeb"

# The disk: each 512-byte sector an ASCII header naming it, then 448 bytes of
# a SHA-256 counter stream (the demo's pattern, named "e2e").
disk=$out/disk.img
if [ ! -f "$out/disk.sha256" ] || [ "$0" -nt "$out/disk.sha256" ] ||
   ! (cd "$out" && sha256sum --status -c disk.sha256); then
    /usr/bin/python3 - "$disk" e2e "$DISK_MB" <<'EOF'
import hashlib, sys
path, name, mb = sys.argv[1], sys.argv[2], int(sys.argv[3])
with open(path, "wb") as f:
    for s in range(mb * 2048):
        hdr = ("vsmmu-demo disk=%s sector=%d\n" % (name, s)).encode().ljust(64, b".")
        f.write(hdr + b"".join(hashlib.sha256(b"%s:%d:%d" % (name.encode(), s, i)).digest()
                               for i in range(14)))
EOF
    (cd "$out" && sha256sum disk.img > disk.sha256)
fi
expect=$(cut -d' ' -f1 "$out/disk.sha256")

mk="$top/e2e/mkinitramfs.py"
firmware=${VSMMU_UEFI_FIRMWARE:-/usr/share/qemu-efi-aarch64/QEMU_EFI.fd}
[ -f "$firmware" ] || fail "build: UEFI firmware $firmware not found (qemu-efi-aarch64)"
/usr/bin/python3 "$mk" --busybox "$busybox" --init "$top/e2e/l2-init" \
    --out "$out/l2.cpio.gz" --gzip >/dev/null || fail "build: L2 initramfs"
if [ -n "$l1want" ]; then
    # Stripped for the initramfs (the build's copy keeps its debug info)
    aarch64-linux-gnu-strip -o "$out/qemu-system-aarch64" "$qemu" || fail "build: strip QEMU"
    qemu=$out/qemu-system-aarch64
    /usr/bin/python3 "$mk" --busybox "$busybox" --init "$top/e2e/l1-init" \
        --out "$out/l1.cpio" --file "qemu-system-aarch64=$qemu" --file "Image=$image" \
        --file "l2.cpio.gz=$out/l2.cpio.gz" --file "QEMU_EFI.fd=$firmware" >/dev/null ||
        fail "build: L1 initramfs"
fi
stage "initramfs" "$(secs "$t")"

# --- run: the CMDQV guests, straight on L0 ---------------------------------------
# run_cmdqv SCENARIO: the e2e kernel with the L2 initramfs (e2e.l2=read) on
# our x86 QEMU (TCG), behind an emulated vsmmu with cmdqv=on, the NVMe on
# pcie.0 behind it. The console goes to build/e2e/SCENARIO.log; the vsmmu's
# counters and "info vsmmu" (demo/vsmmu-stats.py, over QMP after the guest
# powers off) to SCENARIO.stats; every command the vsmmu's queues consume
# (trace event vsmmu_cmd: "vcmdq[i] TLBI_NH_VA ..." or "cmdq[i] ...") to
# SCENARIO.trace.
CMDQV_TIMEOUT=${E2E_CMDQV_TIMEOUT:-240}
run_cmdqv() {
    local s=$1 sock=$out/$1.qmp t rc spid
    local -a a
    # shellcheck disable=SC2054  # commas are QEMU option syntax
    a=(-M virt,gic-version=3 -cpu max -smp 2 -m 1G -nographic -no-reboot -nic none
       -kernel "$image" -initrd "$out/l2.cpio.gz"
       -append "console=ttyAMA0 panic=-1 iommu.strict=1 e2e.l2=read"
       -device vsmmu,primary-bus=pcie.0,cmdqv=on,id=vsmmu0
       -drive "if=none,id=disk,file=$disk,format=raw,snapshot=on"
       -device "nvme,drive=disk,serial=e2e-nvme,bus=pcie.0"
       -qmp "unix:$sock,server=on,wait=off" -action shutdown=pause
       -trace enable=vsmmu_cmd -D "$out/$s.trace")
    [ "$s" = cmdqv-acpi ] && a+=(-bios "$firmware")
    printf '%q ' "$l0" "${a[@]}" > "$out/$s.log.cmd"; echo >> "$out/$s.log.cmd"
    rm -f "$sock" "$out/$s.trace"
    t=$(now)
    "$top/demo/vsmmu-stats.py" "$sock" vsmmu0 "$CMDQV_TIMEOUT" \
        vcmdq-commands vcmdq-traps vcmdq-errors vcmdq-irqs >"$out/$s.stats" &
    spid=$!
    timeout -k 5 "$CMDQV_TIMEOUT" "$l0" "${a[@]}" </dev/null >"$out/$s.log" 2>&1
    rc=$?
    wait "$spid"
    rm -f "$sock"
    tr -d '\r' <"$out/$s.log" >"$out/$s.log.txt"
    echo "$rc $(secs "$t")" >"$out/$s.rc"
    stage "run $s" "$(secs "$t")"
}
for s in $want; do
    case " $CMDQVALL " in *" $s "*) run_cmdqv "$s" ;; esac
done

# --- run: L0 with L1 ---------------------------------------------------------------
runs=""
for s in $l1want; do
    case $s in msi) r=dt ;; *) r=$s ;; esac
    case ",$runs," in *",$r,"*) ;; *) runs=${runs:+$runs,}$r ;; esac
done
log=$out/l0.log
if [ -n "$l1want" ]; then
    t=$(now)
    # shellcheck disable=SC2054  # commas are QEMU option syntax
    args=(-M virt,virtualization=on,gic-version=3,iommu=smmuv3
          -global arm-smmuv3.fwb=on
          -cpu max,pauth-impdef=on -smp 2 -m 3G -nographic -no-reboot -nic none
          -kernel "$image" -initrd "$out/l1.cpio"
          -append "console=ttyAMA0 panic=-1 e2e.scenarios=$runs ${E2E_L1_APPEND:-}"
          -drive "if=none,id=disk,file=$disk,format=raw,snapshot=on"
          -device "nvme,drive=disk,serial=e2e-nvme,bus=pcie.0")
    printf '%q ' "$l0" "${args[@]}" > "$log.cmd"; echo >> "$log.cmd"
    timeout -k 5 "$TIMEOUT" "$l0" "${args[@]}" </dev/null >"$log" 2>&1
    l0rc=$?
    stage "run" "$(secs "$t")"
    tr -d '\r' <"$log" >"$log.txt"
    L=$log.txt
    [ $l0rc = 124 ] && fail "run: L0 timed out after ${TIMEOUT}s (see build/e2e/l0.log)"
    grep -q '^L1: start' "$L" || fail "L1: did not reach its init (build/e2e/l0.log)"
    if grep -q '^L1: error' "$L"; then
        fail "L1: $(grep -m1 '^L1: error' "$L" | cut -c11-)"
    fi
fi

# --- check -----------------------------------------------------------------------
get() { grep "^\[$1\] L2: $2" "$L" | head -n 1 | cut -d' ' -f"$3"; }
secs_of() { sed -n "s/^L1: end $1 rc=[0-9]* secs=\([0-9]*\).*/\1/p" "$L"; }
# inval SCENARIO: invalidate ioctls / commands between the two info vsmmu
inval_of() {
    grep "^\[$1\] hmp: .*invalidate ioctls" "$L" |
        sed 's/.*invalidate ioctls \([0-9]*\) carrying \([0-9]*\) commands.*/\1 \2/' |
        head -n 2 | tr '\n' ' '
}
check_read() {  # check_read SCENARIO TAG
    local s=$1 tag=$2 sum
    grep -q "^L1: end $s " "$L" || fail "$s: L2 run did not finish"
    grep -q "^\[$s\] L2: start" "$L" || fail "$s: L2 did not reach its init: $(grep "^\[$s\] qemu:" "$L" | head -n 3 | tr '\n' ' ')"
    sum=$(get "$s" "sha256 $tag " 5)
    [ -n "$sum" ] || fail "$s: no $tag read: $(grep "^\[$s\] L2: error" "$L" | head -n 2 | tr '\n' ' ')"
    [ "$sum" = "$expect" ] || fail "$s: $tag read sha256 $sum, expected $expect"
}
# check_cmdqv SCENARIO: a CMDQV guest run (run_cmdqv)
check_cmdqv() {
    local s=$1 C=$out/$1.log.txt T=$out/$1.trace rc secs sum fw dom irq st bad
    local cmds vcmds traps errs va asid vt mt mnh vq
    read -r rc secs <"$out/$s.rc"
    [ "$rc" = 124 ] && fail "$s: timed out after ${CMDQV_TIMEOUT}s (build/e2e/$s.log)"
    grep -q '^L2: start' "$C" ||
        fail "$s: the guest did not reach its init (qemu rc $rc): $(grep -m1 -i 'panic\|error' "$C")"
    sum=$(sed -n 's/^L2: sha256 first //p' "$C" | head -n 1)
    [ -n "$sum" ] || fail "$s: no read: $(grep -m2 '^L2: error' "$C" | tr '\n' ' ')"
    [ "$sum" = "$expect" ] || fail "$s: read sha256 $sum, expected $expect"
    fw=$(sed -n 's/^L2: firmware //p' "$C" | head -n 1)
    case $s in
    cmdqv-acpi) [ "$fw" = acpi ] || fail "$s: booted with '$fw', expected acpi" ;;
    *)          [ "$fw" = dt ] || fail "$s: booted with '$fw', expected dt" ;;
    esac
    dom=$(sed -n 's/^L2: nvme .* domain=//p' "$C" | head -n 1)
    [ "$dom" = DMA ] || fail "$s: nvme domain '$dom', expected DMA (strict)"
    # The driver's own progress is dev_dbg; what it prints is a fallback or
    # an error. Its VCMDQs are allocated by the SMMU driver's queue helper,
    # which logs "allocated N entries for vcmdqI" (only on this path).
    vq=$(grep '^L2: kmsg: ' "$C" | grep -o 'arm-smmu-v3 .*: allocated [0-9]* entries for vcmdq[0-9]*' |
         sed 's/.*allocated \([0-9]*\) entries for \(vcmdq[0-9]*\)/\2:\1/' | tr '\n' ' ')
    [ -n "$vq" ] || fail "$s: no VCMDQ allocated by the guest's CMDQV driver (dmesg)"
    if grep -q 'Falling back to standard SMMU CMDQ' "$C"; then
        fail "$s: the guest's CMDQV driver fell back: $(grep -B3 -m1 'Falling back' "$C" | tr '\n' ' ')"
    fi
    bad=$(grep -i -E 'cmdqv|vcmdq|vintf' "$C" | grep -i -E 'fail|error|unexpected|timeout|no interrupt' | head -n 2)
    [ -z "$bad" ] || fail "$s: the guest's CMDQV driver complained: $(tr '\n' ' ' <<<"$bad")"
    irq=$(sed -n 's/^L2: irq: //p' "$C" | head -n 1)
    [ -n "$irq" ] || fail "$s: no tegra241-cmdqv interrupt in the guest's /proc/interrupts (driver not probed)"
    if [ "$s" = cmdqv-acpi ]; then
        grep -q 'found companion CMDQV device: NVDA200C' "$C" ||
            fail "$s: the guest's arm-smmu-v3 did not find the NVDA200C companion"
    fi
    st=$(sed -n 's/^VSMMU-STATS: //p' "$out/$s.stats")
    case $st in ""|error*) fail "$s: vsmmu counters: ${st:-none}" ;; esac
    kv() { grep -o "\(^\| \)$1=[0-9]*" <<<"$st" | cut -d= -f2; }
    cmds=$(kv commands) vcmds=$(kv vcmdq-commands)
    traps=$(kv vcmdq-traps) errs=$(kv vcmdq-errors)
    [ "${vcmds:-0}" -gt 0 ] || fail "$s: no command through the VCMDQs (vcmdq-commands=${vcmds:-?}, commands=${cmds:-?})"
    [ "${errs:-1}" = 0 ] || fail "$s: $errs VCMDQ error(s)"
    va=$(grep -c 'vsmmu_cmd vcmdq\[[0-9]*\] TLBI_NH_VA ' "$T")
    asid=$(grep -c 'vsmmu_cmd vcmdq\[[0-9]*\] TLBI_NH_ASID ' "$T")
    vt=$((va + asid))
    mt=$(grep -c 'vsmmu_cmd cmdq\[[0-9]*\] TLBI_' "$T")
    mnh=$(grep -c 'vsmmu_cmd cmdq\[[0-9]*\] TLBI_NH_\(VA\|ASID\) ' "$T")
    [ "$vt" -gt 0 ] || fail "$s: no TLBI through the VCMDQs in build/e2e/$s.trace"
    # VINTF0 is enabled at the SMMU's reset, before any DMA domain exists:
    # every TLBI_NH_VA/ASID of the guest must take a VCMDQ.
    [ "$mnh" = 0 ] || fail "$s: $mnh TLBI_NH_VA/ASID through the main CMDQ instead of a VCMDQ"
    echo "e2e: $s: PASS sha256 ok, guest run ${secs}s ($fw); CMDQV in use" \
         "(${vq}allocated, irq tegra241-cmdqv, no fallback$([ "$s" = cmdqv-acpi ] && echo ', NVDA200C found'));" \
         "vcmdq-commands=$vcmds of commands=$cmds; TLBIs through VCMDQs: $vt" \
         "(NH_VA $va, NH_ASID $asid), through the main CMDQ: $mt (no NH_VA/ASID);" \
         "vcmdq-traps=$traps"
}
n=0
for s in $want; do
    case $s in
    cmdqv|cmdqv-acpi)
        check_cmdqv "$s"
        n=$((n + 1)); continue ;;
    dt|acpi|strict|fault)
        check_read "$s" first
        grep -q "^\[$s\] hmp: .*mode: accel" "$L" || fail "$s: the vsmmu is not in accel mode"
        grep -q "^\[$s\] hmp: .*assigned, .*(s1-nested)" "$L" ||
            fail "$s: the NVMe was never on a nested (guest stage 1) HWPT"
        dom=$(get "$s" "nvme " 7)
        case $s in
        strict) [ "$dom" = domain=DMA ] || fail "$s: L2 domain '$dom', expected DMA (strict)" ;;
        *) case $dom in domain=DMA|domain=DMA-FQ) ;; *) fail "$s: L2 domain '$dom'" ;; esac ;;
        esac
        if [ "$s" = dt ]; then
            grep -q "^\[$s\] hmp: .*ssidsize 0 (auto: host)" "$L" ||
                fail "$s: ssidsize=auto did not resolve to the host's 0"
        fi
        fw=$(get "$s" "firmware " 4)
        case $s in
        acpi) [ "$fw" = acpi ] || fail "$s: L2 booted with '$fw', expected acpi" ;;
        *)    [ "$fw" = dt ] || fail "$s: L2 booted with '$fw', expected dt" ;;
        esac ;;
    esac
    case $s in
    dt|acpi)
        # shellcheck disable=SC2046  # split on purpose
        set -- $(inval_of "$s")
        echo "e2e: $s: PASS sha256 ok, L2 run $(secs_of "$s")s;" \
             "during the read (lazy): $(( ${3:-0} - ${1:-0} )) HWPT_INVALIDATE ioctls" \
             "carrying $(( ${4:-0} - ${2:-0} )) commands" ;;
    strict)
        # shellcheck disable=SC2046  # split on purpose
        set -- $(inval_of strict)
        [ $# = 4 ] || fail "strict: no info vsmmu counters around the read"
        ioctls=$(( $3 - $1 )) cmds=$(( $4 - $2 ))
        [ "$ioctls" -gt 0 ] || fail "strict: no HWPT_INVALIDATE during the strict read"
        echo "e2e: strict: PASS sha256 ok, L2 run $(secs_of strict)s;" \
             "during the 8 MiB read: $ioctls HWPT_INVALIDATE ioctls carrying $cmds commands" \
             "($(awk -v c="$cmds" -v i="$ioctls" 'BEGIN { printf "%.1f", c / i }') per ioctl)" ;;
    msi)
        check_read dt first
        # shellcheck disable=SC2046  # split on purpose
        set -- $(get dt "irqs first" 5-6 | tr ' ' '\n')
        [ $# = 2 ] || fail "msi: no nvme interrupt counts"
        [ "$2" -gt "$1" ] || fail "msi: nvme interrupts did not rise during the read ($1 -> $2)"
        echo "e2e: msi: PASS nvme interrupts $1 -> $2 during the read" ;;
    hotplug)
        check_read hotplug first
        grep -q '^\[hotplug\] L2: unplugged' "$L" || fail "hotplug: L2 did not see the device go"
        grep -q '^\[hotplug\] L2: replugged' "$L" || fail "hotplug: L2 did not see the device come back"
        check_read hotplug replug
        echo "e2e: hotplug: PASS unplug + replug + read, L2 run $(secs_of hotplug)s" ;;
    fault)
        grep -q '^\[fault\] L2: fault-dma' "$L" || fail "fault: the faulting DMA was not started"
        ev=$(grep '^\[fault\] hmp: .*syncs [0-9]*, events' "$L" | tail -n 1 |
             sed 's/.*, events \([0-9]*\),.*/\1/')
        [ -n "$ev" ] && [ "$ev" -gt 0 ] || fail "fault: no event in the vsmmu event queue (events=${ev:-?})"
        kev=$(grep -c '^\[fault\] L2: kmsg: .*arm-smmu-v3.*\(event\|F_TRANSLATION\)' "$L")
        [ "$kev" -gt 0 ] || fail "fault: L2's arm-smmu-v3 driver logged no event"
        echo "e2e: fault: PASS $ev event(s) through the vEVENTQ; L2 logged:" \
             "$(grep -m1 '^\[fault\] L2: kmsg: .*F_TRANSLATION' "$L" | sed 's/.*event: //' | cut -c1-90)" ;;
    esac
    n=$((n + 1))
done
echo "e2e: PASS $n scenarios"
