#!/bin/bash
# End-to-end test on a real Linux 7.2 (make e2e): nested-translation guests
# through the accelerated vsmmu, on emulated Arm hardware.
#
#   scripts/e2e.sh L0-QEMU QEMU-SRC [SCENARIO...]
#
#   L0  our x86 build of qemu-system-aarch64 (TCG): virt with EL2, GICv3 and
#       the stock arm-smmuv3 (stage=nested, fwb=on from patches/0012), an
#       NVMe with a patterned 8 MiB disk. The vsmmu-* scenarios run the same
#       L1 and L2 with L0's SMMU being our emulated vsmmu instead
#       (-device vsmmu,primary-bus=pcie.0,stage=nested): L1's kernel takes
#       it as its nesting host.
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
# Scenarios (default: all): dt acpi strict msi hotplug fault, the same six
# as vsmmu-dt ... vsmmu-fault, cmdqv cmdqv-acpi (msi is checked on the dt
# run, it boots nothing of its own). The last line is "e2e: PASS <n>
# scenarios" (exit 0) or "e2e: FAIL <scenario>: <reason>". The L0 console
# is kept in build/e2e/l0.log (arm-smmuv3) and build/e2e/l0-vsmmu.log
# (vsmmu), a cmdqv run's in build/e2e/<scenario>.log.
set -u
l0=$1 qsrc=$2; shift 2
top=$(cd "$(dirname "$0")/.." && pwd)
out=$top/build/e2e
L1ALL="dt acpi strict msi hotplug fault"
VSMMUALL="vsmmu-dt vsmmu-acpi vsmmu-strict vsmmu-msi vsmmu-hotplug vsmmu-fault"
CMDQVALL="cmdqv cmdqv-acpi"
CMDQVACCALL="cmdqv-accel cmdqv-accel-acpi nested-ats"
ALL="$L1ALL $VSMMUALL $CMDQVALL $CMDQVACCALL"
want=${*:-$ALL}
for s in $want; do
    case " $ALL " in *" $s "*) ;; *) fail "$s: unknown scenario (known: $ALL)" ;; esac
done
# The scenarios that need L1 (and the aarch64 QEMU): on the stock arm-smmuv3
# (l1want) and, named without "vsmmu-", on the vsmmu (l1vwant)
l1want="" l1vwant=""
for s in $want; do
    case " $L1ALL " in *" $s "*) l1want="$l1want $s" ;; esac
    case " $VSMMUALL " in *" $s "*) l1vwant="$l1vwant ${s#vsmmu-}" ;; esac
    case " $CMDQVACCALL " in *" $s "*) l1cwant="${l1cwant:-} $s" ;; esac
done
l1cwant=${l1cwant:-}
needl1=$l1want$l1vwant$l1cwant
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
if [ -n "$needl1" ]; then
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
if [ -n "$needl1" ]; then
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
# runs_of SCENARIOS: the L2 runs of L1 (e2e.scenarios=), msi being the dt run's
runs_of() {
    local s r runs=""
    for s in "$@"; do
        case $s in msi) r=dt ;; *) r=$s ;; esac
        case ",$runs," in *",$r,"*) ;; *) runs=${runs:+$runs,}$r ;; esac
    done
    echo "$runs"
}
# run_l0 LOG RUNS MACHINE [ARG...]: one L0 boot (virt MACHINE options, L0's
# SMMU in them or in ARGs) running L1 and its L2 scenarios RUNS; console in
# LOG (and LOG.txt without CRs), command line in LOG.cmd. Fails the test
# when L0 times out or L1 does not get going.
run_l0() {
    local log=$1 runs=$2 machine=$3 t rc
    shift 3
    t=$(now)
    # shellcheck disable=SC2054  # commas are QEMU option syntax
    args=(-M "virt,virtualization=on,gic-version=3$machine" "$@"
          -cpu max,pauth-impdef=on -smp 2 -m 3G -nographic -no-reboot -nic none
          -kernel "$image" -initrd "$out/l1.cpio"
          -append "console=ttyAMA0 panic=-1 e2e.scenarios=$runs ${E2E_L1_APPEND:-}"
          -drive "if=none,id=disk,file=$disk,format=raw,snapshot=on"
          -device "nvme,drive=disk,serial=e2e-nvme,bus=pcie.0")
    printf '%q ' "$l0" "${args[@]}" > "$log.cmd"; echo >> "$log.cmd"
    timeout -k 5 "$TIMEOUT" "$l0" "${args[@]}" </dev/null >"$log" 2>&1
    rc=$?
    stage "run $(basename "$log" .log)" "$(secs "$t")"
    tr -d '\r' <"$log" >"$log.txt"
    [ $rc = 124 ] && fail "run: L0 timed out after ${TIMEOUT}s (see build/e2e/$(basename "$log"))"
    grep -q '^L1: start' "$log.txt" || fail "L1: did not reach its init (build/e2e/$(basename "$log"))"
    if grep -q '^L1: error' "$log.txt"; then
        fail "L1: $(grep -m1 '^L1: error' "$log.txt" | cut -c11-)"
    fi
}
log=$out/l0.log
vlog=$out/l0-vsmmu.log
if [ -n "$l1want" ]; then
    # shellcheck disable=SC2086  # split on purpose
    run_l0 "$log" "$(runs_of $l1want)" ",iommu=smmuv3" -global arm-smmuv3.fwb=on
fi
if [ -n "$l1vwant" ]; then
    # L0's vsmmu: its counters (QMP, after L1 powers off) in l0-vsmmu.stats,
    # every command L1's driver gave it (trace vsmmu_cmd) in l0-vsmmu.trace
    rm -f "$out/l0-vsmmu.qmp" "$out/l0-vsmmu.trace"
    "$top/demo/vsmmu-stats.py" "$out/l0-vsmmu.qmp" vsmmu0 "$TIMEOUT" \
        >"$out/l0-vsmmu.stats" &
    spid=$!
    # shellcheck disable=SC2054,SC2086
    run_l0 "$vlog" "$(runs_of $l1vwant)" "" \
        -device vsmmu,primary-bus=pcie.0,stage=nested,id=vsmmu0 \
        -qmp "unix:$out/l0-vsmmu.qmp,server=on,wait=off" -action shutdown=pause \
        -trace enable=vsmmu_cmd -D "$out/l0-vsmmu.trace"
    wait "$spid"
    rm -f "$out/l0-vsmmu.qmp"
fi
clog=$out/l0-cmdqv.log
if [ -n "$l1cwant" ]; then
    # L0's vsmmu nests and has the host side of the Tegra241 CMDQV (four
    # VINTFs): L1's kernel owns VINTF0 and gives a VINTF to its QEMU,
    # whose L2 guest's VCMDQ pages are L0's own. The counters and "info
    # vsmmu" (per VINTF) in l0-cmdqv.stats, every command a VCMDQ of a
    # VINTF consumed (trace vsmmu_cmdqv_vintf_cmd) in l0-cmdqv.trace.
    rm -f "$out/l0-cmdqv.qmp" "$out/l0-cmdqv.trace"
    "$top/demo/vsmmu-stats.py" "$out/l0-cmdqv.qmp" vsmmu0 "$TIMEOUT" \
        vcmdq-commands vcmdq-traps vcmdq-errors >"$out/l0-cmdqv.stats" &
    spid=$!
    # shellcheck disable=SC2054,SC2086
    # nested-ats: L1's run "ats" assigns L0's virtio-blk function (ATS,
    # a PCIe endpoint behind a root port: on the root bus it would be a
    # conventional PCI function, without extended capabilities) to L2;
    # L0's vsmmu offers ATS
    run_l0 "$clog" "$(echo $l1cwant | sed 's/nested-ats/ats/' | tr ' ' ',')" "" \
        -device vsmmu,primary-bus=pcie.0,stage=nested,cmdqv=on,cmdqv-vintfs=4,ats=on,id=vsmmu0 \
        -drive "if=none,id=vdisk,file=$disk,format=raw,snapshot=on" \
        -device pcie-root-port,id=rp1,bus=pcie.0,chassis=1,addr=04.0 \
        -device virtio-blk-pci,drive=vdisk,bus=rp1,disable-legacy=on,iommu_platform=on,ats=on \
        -qmp "unix:$out/l0-cmdqv.qmp,server=on,wait=off" -action shutdown=pause \
        -trace enable=vsmmu_cmdqv_vintf_cmd -trace enable=vsmmu_cmd -D "$out/l0-cmdqv.trace"
    wait "$spid"
    rm -f "$out/l0-cmdqv.qmp"
fi

# --- check -----------------------------------------------------------------------
# L: the L0 console of the scenario being checked; its L1 scenario names
# (the [dt] tags) are the same on both L0s, the harness's name ($name) tells
# them apart in the messages (vsmmu-dt)
get() { grep "^\[$1\] L2: $2" "$L" | head -n 1 | cut -d' ' -f"$3"; }
secs_of() { sed -n "s/^L1: end $1 rc=[0-9]* secs=\([0-9]*\).*/\1/p" "$L"; }
# inval SCENARIO: invalidate ioctls / commands between the two info vsmmu
inval_of() {
    grep "^\[$1\] hmp: .*invalidate ioctls" "$L" |
        sed 's/.*invalidate ioctls \([0-9]*\) carrying \([0-9]*\) commands.*/\1 \2/' |
        head -n 2 | tr '\n' ' '
}
check_read() {  # check_read SCENARIO TAG (SCENARIO: the L1 run's name)
    local s=$1 tag=$2 sum
    grep -q "^L1: end $s " "$L" || fail "$name: L2 run did not finish"
    grep -q "^\[$s\] L2: start" "$L" || fail "$name: L2 did not reach its init: $(grep "^\[$s\] qemu:" "$L" | head -n 3 | tr '\n' ' ')"
    sum=$(get "$s" "sha256 $tag " 5)
    [ -n "$sum" ] || fail "$name: no $tag read: $(grep "^\[$s\] L2: error" "$L" | head -n 2 | tr '\n' ' ')"
    [ "$sum" = "$expect" ] || fail "$name: $tag read sha256 $sum, expected $expect"
}
# check_l0_vsmmu: L0's vsmmu served as L1's nesting host. L1's arm-smmu-v3
# must have found both stages (ARM_SMMU_FEAT_NESTING, bit 19) and S2FWB
# (bit 23; without it or CANWBS no vIOMMU), L0's vsmmu must have translated
# (QMP counters) and taken L1's stage-2 invalidations (trace vsmmu_cmd).
# Prints what it found, for the first vsmmu-* line.
check_l0_vsmmu() {
    local f st ntr nh s2 s12 cfgi
    f=$(sed -n 's/^L1: kmsg: .*arm-smmu-v3 .*: oas [0-9]*-bit (features \(0x[0-9a-f]*\)).*/\1/p' "$L" | head -n 1)
    [ -n "$f" ] || fail "$name: L1's arm-smmu-v3 did not probe L0's vsmmu"
    [ $((f & (1 << 19))) != 0 ] || fail "$name: L1's arm-smmu-v3 found no nesting (features $f)"
    [ $((f & (1 << 23))) != 0 ] || fail "$name: L1's arm-smmu-v3 found no S2FWB (features $f)"
    st=$(sed -n 's/^VSMMU-STATS: //p' "$out/l0-vsmmu.stats")
    case $st in ""|error*) fail "$name: L0 vsmmu counters: ${st:-none}" ;; esac
    ntr=$(grep -o '\(^\| \)translations=[0-9]*' <<<"$st" | cut -d= -f2)
    [ "${ntr:-0}" -gt 0 ] || fail "$name: L0's vsmmu translated nothing"
    nh=$(grep -c 'vsmmu_cmd cmdq\[[0-9]*\] TLBI_NH_' "$out/l0-vsmmu.trace")
    s2=$(grep -c 'vsmmu_cmd cmdq\[[0-9]*\] TLBI_S2_IPA ' "$out/l0-vsmmu.trace")
    s12=$(grep -c 'vsmmu_cmd cmdq\[[0-9]*\] TLBI_S12_VMALL ' "$out/l0-vsmmu.trace")
    cfgi=$(grep -c 'vsmmu_cmd cmdq\[[0-9]*\] CFGI_' "$out/l0-vsmmu.trace")
    [ $((s2 + s12)) -gt 0 ] || fail "$name: no stage-2 TLBI reached L0's vsmmu"
    echo "L1 saw features $f (nesting, S2FWB); L0 vsmmu: translations=$ntr," \
         "commands: TLBI_NH_* $nh, TLBI_S2_IPA $s2, TLBI_S12_VMALL $s12, CFGI_* $cfgi"
}
# check_cmdqv_accel SCENARIO: L2 behind L1's accelerated vsmmu with the
# CMDQV, L1 on L0's vsmmu with the CMDQV host side. The disk read right;
# L2's CMDQV driver probed and took VCMDQs; L1's QEMU mapped the host's
# VINTF page into L2 and trapped no VCMDQ access during the read ("info
# vsmmu" before and after it); L0 ran L2's TLBIs on the VCMDQs of a
# guest-owned VINTF other than 0, with that VINTF's VMID.
check_cmdqv_accel() {
    local s=$1 L=$clog.txt T=$out/l0-cmdqv.trace fw vq bad tr0 tr1 st vl vc vt vv
    check_read "$s" first
    grep -q "^\[$s\] hmp: .*mode: accel" "$L" || fail "$s: L1's vsmmu is not in accel mode"
    grep -q "^\[$s\] hmp: .*cmdqv: .*host VINTF" "$L" ||
        fail "$s: L1's vsmmu has no host VINTF: $(grep -m2 "^\[$s\] \(hmp: .*cmdqv\|qemu:\)" "$L" | tr '\n' ' ')"
    grep -q "^\[$s\] hmp: .*VINTF page 0 mapped into the guest" "$L" ||
        fail "$s: L1's QEMU did not map the host VINTF page into L2"
    fw=$(get "$s" "firmware " 4)
    case $s in
    cmdqv-accel-acpi) [ "$fw" = acpi ] || fail "$s: L2 booted with '$fw', expected acpi" ;;
    *)                [ "$fw" = dt ] || fail "$s: L2 booted with '$fw', expected dt" ;;
    esac
    vq=$(grep "^\[$s\] L2: kmsg: " "$L" | grep -o 'allocated [0-9]* entries for vcmdq[0-9]*' |
         sed 's/allocated \([0-9]*\) entries for \(vcmdq[0-9]*\)/\2:\1/' | tr '\n' ' ')
    [ -n "$vq" ] || fail "$s: no VCMDQ allocated by L2's CMDQV driver (dmesg)"
    bad=$(sed -n "s/^\[$s\] L2: kmsg: //p" "$L" | grep -i -E 'cmdqv|vcmdq|vintf' |
          grep -i -E 'fail|error|unexpected|timeout|falling back' | head -n 2)
    [ -z "$bad" ] || fail "$s: L2's CMDQV driver complained: $(tr '\n' ' ' <<<"$bad")"
    # L1's traps of VCMDQ pages, before and after the read
    # shellcheck disable=SC2046  # split on purpose
    set -- $(grep "^\[$s\] hmp: .*vcmdq traps" "$L" | sed 's/.*vcmdq traps \([0-9]*\).*/\1/' | head -n 2)
    [ $# = 2 ] || fail "$s: no L1 vcmdq trap counts around the read"
    tr0=$1 tr1=$2
    [ "$tr1" = "$tr0" ] || fail "$s: L1's QEMU trapped $((tr1 - tr0)) VCMDQ accesses during the read"
    # L0: a guest-owned VINTF other than 0 ran commands, its TLBIs carry a VMID
    st=$(sed -n 's/^VSMMU-STATS: //p' "$out/l0-cmdqv.stats")
    case $st in ""|error*) fail "$s: L0 vsmmu counters: ${st:-none}" ;; esac
    # (read after L1 powered off: its VINTFs are off again, VMIDs cleared)
    vl=$(sed -n 's/^VSMMU-INFO: *\(VINTF[1-9][0-9]*\): o[nf]*, guest-owned, VMID [0-9]*, [0-9]* VCMDQs, commands \([1-9][0-9]*\),.*/\1 \2/p' \
         "$out/l0-cmdqv.stats" | tr '\n' ' ')
    vc=$(grep -c 'vsmmu_cmdqv_vintf_cmd VINTF[1-9][0-9]* .* hyp_own=0 vmid=[1-9]' "$T")
    vt=$(grep -c 'vsmmu_cmdqv_vintf_cmd VINTF[1-9][0-9]* .* TLBI_NH_\(VA\|ASID\) hyp_own=0 vmid=[1-9]' "$T")
    vv=$(grep -c 'vsmmu_cmdqv_vintf_cmd VINTF0 ' "$T")
    [ "$vt" -gt 0 ] || fail "$s: no TLBI of L2 on a guest-owned VINTF of L0 (l0-cmdqv.trace; VINTFs: ${vl:-none})"
    echo "L2 took ${vq}; L1's QEMU trapped 0 VCMDQ accesses during the read" \
         "($tr0 before, $tr1 after); L0, over its cmdqv-accel runs: user VINTFs ${vl:-?}(commands), $vc" \
         "commands with hyp_own=0 and a VMID (TLBI_NH_VA/ASID $vt), on VINTF0 (L1's own) $vv"
}
# check_nested_ats: L2 behind L1's accelerated vsmmu (cmdqv=off) with L0's
# virtio-blk function, ATS on: L2's driver enabled ATS on it, L1's vsmmu
# forwarded L2's ATC_INVs (virtual StreamID, "info vsmmu" around the
# read), and ATC_INVs for the function's physical StreamID (its BDF in
# L1, which is L0's guest) reached L0's vsmmu (from L1's kernel, on a
# VCMDQ of its VINTF0 or the main queue).
check_nested_ats() {
    local s=ats L=$clog.txt T=$out/l0-cmdqv.trace ctl a0 a1 bdf psid hsid l0v l0m vbdf
    bdf=$(sed -n 's/^L1: virtio-blk 0000:\([0-9a-f:.]*\) .*/\1/p' "$L" | head -n 1)
    [ -n "$bdf" ] || fail "$name: L1 found no virtio-blk function"
    # bus:dev.fn -> StreamID (bus << 8 | dev << 3 | fn, one segment)
    psid=$(( (0x${bdf%%:*} << 8) | (0x$(echo "$bdf" | cut -d: -f2 | cut -d. -f1) << 3) | ${bdf##*.} ))
    hsid=$(printf '%x' "$psid")
    check_read ats first
    grep -q "^\[ats\] hmp: .*mode: accel" "$L" || fail "$name: L1's vsmmu is not in accel mode"
    grep -q "^\[ats\] hmp: .*ats on" "$L" || fail "$name: L1's vsmmu does not offer ATS: $(grep -m1 "^\[ats\] hmp: .*ats " "$L")"
    ctl=$(get ats "ats " 5)
    ctl=${ctl#control=}
    [ -n "$ctl" ] || fail "$name: L2 found no ATS capability on the assigned function"
    [ $((ctl & 0x8000)) != 0 ] || fail "$name: L2's SMMU driver left ATS off (control $ctl)"
    # shellcheck disable=SC2046  # split on purpose
    set -- $(grep "^\[ats\] hmp: .*atc invs" "$L" | sed 's/.*atc invs \([0-9]*\).*/\1/' | head -n 2)
    [ $# = 2 ] || fail "$name: no L1 ATC_INV counts around the read"
    a0=$1 a1=$2
    [ "$a1" -gt "$a0" ] || fail "$name: L1's vsmmu forwarded no ATC_INV during L2's read"
    l0v=$(grep -c "vsmmu_cmdqv_vintf_cmd VINTF0 .* ATC_INV hyp_own=1 vmid=[0-9]* sid=0x$hsid\$" "$T")
    l0m=$(grep -c "vsmmu_cmd cmdq\[[0-9]*\] ATC_INV 0x$(printf '%08x' "$psid")" "$T")
    [ $((l0v + l0m)) -gt 0 ] || fail "$name: no ATC_INV for StreamID 0x$hsid ($bdf) reached L0's vsmmu"
    vbdf=$(get ats "nvme " 4)
    echo "L2 enabled ATS on $vbdf (control $ctl); L1 forwarded $((a1 - a0)) ATC_INVs during the read;" \
         "L0 took ATC_INV for the physical StreamID 0x$hsid ($bdf): $l0v on L1's VINTF0, $l0m on its main queue"
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
l0v_done=false # check_l0_vsmmu ran (its findings close the first vsmmu-* line)
for name in $want; do
    case $name in
    cmdqv|cmdqv-acpi)
        check_cmdqv "$name"
        n=$((n + 1)); continue ;;
    nested-ats)
        L=$clog.txt
        note=$(check_nested_ats) || { echo "$note"; exit 1; }
        echo "e2e: $name: PASS sha256 ok, L2 run $(secs_of ats)s; $note"
        n=$((n + 1)); continue ;;
    cmdqv-accel|cmdqv-accel-acpi)
        L=$clog.txt
        note=$(check_cmdqv_accel "$name") || { echo "$note"; exit 1; }
        echo "e2e: $name: PASS sha256 ok, L2 run $(secs_of "$name")s; $note"
        n=$((n + 1)); continue ;;
    vsmmu-*)
        # L1's QEMU finds L0's vsmmu's SSIDSIZE (16) with ssidsize=auto
        s=${name#vsmmu-} L=$vlog.txt host_ssid=16 note=""
        if ! $l0v_done; then
            note=$(check_l0_vsmmu) || { echo "$note"; exit 1; }
            note="; $note" l0v_done=true
        fi ;;
    *)
        # arm-smmuv3 has no substreams
        s=$name L=$log.txt host_ssid=0 note="" ;;
    esac
    case $s in
    dt|acpi|strict|fault)
        check_read "$s" first
        grep -q "^\[$s\] hmp: .*mode: accel" "$L" || fail "$name: the vsmmu is not in accel mode"
        grep -q "^\[$s\] hmp: .*assigned, .*(s1-nested)" "$L" ||
            fail "$name: the NVMe was never on a nested (guest stage 1) HWPT"
        dom=$(get "$s" "nvme " 7)
        case $s in
        strict) [ "$dom" = domain=DMA ] || fail "$name: L2 domain '$dom', expected DMA (strict)" ;;
        *) case $dom in domain=DMA|domain=DMA-FQ) ;; *) fail "$name: L2 domain '$dom'" ;; esac ;;
        esac
        if [ "$s" = dt ]; then
            grep -q "^\[$s\] hmp: .*ssidsize $host_ssid (auto: host)" "$L" ||
                fail "$name: ssidsize=auto did not resolve to the host's $host_ssid"
        fi
        fw=$(get "$s" "firmware " 4)
        case $s in
        acpi) [ "$fw" = acpi ] || fail "$name: L2 booted with '$fw', expected acpi" ;;
        *)    [ "$fw" = dt ] || fail "$name: L2 booted with '$fw', expected dt" ;;
        esac ;;
    esac
    case $s in
    dt|acpi)
        # shellcheck disable=SC2046  # split on purpose
        set -- $(inval_of "$s")
        echo "e2e: $name: PASS sha256 ok, L2 run $(secs_of "$s")s;" \
             "during the read (lazy): $(( ${3:-0} - ${1:-0} )) HWPT_INVALIDATE ioctls" \
             "carrying $(( ${4:-0} - ${2:-0} )) commands$note" ;;
    strict)
        # shellcheck disable=SC2046  # split on purpose
        set -- $(inval_of strict)
        [ $# = 4 ] || fail "$name: no info vsmmu counters around the read"
        ioctls=$(( $3 - $1 )) cmds=$(( $4 - $2 ))
        [ "$ioctls" -gt 0 ] || fail "$name: no HWPT_INVALIDATE during the strict read"
        echo "e2e: $name: PASS sha256 ok, L2 run $(secs_of strict)s;" \
             "during the 8 MiB read: $ioctls HWPT_INVALIDATE ioctls carrying $cmds commands" \
             "($(awk -v c="$cmds" -v i="$ioctls" 'BEGIN { printf "%.1f", c / i }') per ioctl)$note" ;;
    msi)
        check_read dt first
        # shellcheck disable=SC2046  # split on purpose
        set -- $(get dt "irqs first" 5-6 | tr ' ' '\n')
        [ $# = 2 ] || fail "$name: no nvme interrupt counts"
        [ "$2" -gt "$1" ] || fail "$name: nvme interrupts did not rise during the read ($1 -> $2)"
        echo "e2e: $name: PASS nvme interrupts $1 -> $2 during the read$note" ;;
    hotplug)
        check_read hotplug first
        grep -q '^\[hotplug\] L2: unplugged' "$L" || fail "$name: L2 did not see the device go"
        grep -q '^\[hotplug\] L2: replugged' "$L" || fail "$name: L2 did not see the device come back"
        check_read hotplug replug
        echo "e2e: $name: PASS unplug + replug + read, L2 run $(secs_of hotplug)s$note" ;;
    fault)
        grep -q '^\[fault\] L2: fault-dma' "$L" || fail "$name: the faulting DMA was not started"
        ev=$(grep '^\[fault\] hmp: .*syncs [0-9]*, events' "$L" | tail -n 1 |
             sed 's/.*, events \([0-9]*\),.*/\1/')
        [ -n "$ev" ] && [ "$ev" -gt 0 ] || fail "$name: no event in the vsmmu event queue (events=${ev:-?})"
        kev=$(grep -c '^\[fault\] L2: kmsg: .*arm-smmu-v3.*\(event\|F_TRANSLATION\)' "$L")
        [ "$kev" -gt 0 ] || fail "$name: L2's arm-smmu-v3 driver logged no event"
        echo "e2e: $name: PASS $ev event(s) through the vEVENTQ; L2 logged:" \
             "$(grep -m1 '^\[fault\] L2: kmsg: .*F_TRANSLATION' "$L" | sed 's/.*event: //' | cut -c1-90)$note" ;;
    esac
    n=$((n + 1))
done
echo "e2e: PASS $n scenarios"
