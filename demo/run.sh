#!/bin/bash
# Boot the demo guest under QEMU TCG and check that both disks read back the
# expected data through the (optional) IOMMU.
#
#   demo/run.sh --qemu PATH [--iommu-device 'DEVICE-ARGS' | --no-iommu]
#               [--append 'extra kernel args'] [--label NAME]
#               [--extra-qemu 'args'] [--expect-smmu] [--timeout SECONDS]
#               [--uefi] [--pxb] [--iothread] [--expect-msi-window yes|no]
#               [--ats] [--no-stats] [--verbose]
#
# --iommu-device  -device argument for the IOMMU, placed before the PCI
#                 devices (default: vsmmu,primary-bus=pcie.0)
# --no-iommu      no IOMMU device at all
# --append        extra kernel command-line arguments
# --label         name of the run; the console goes to build/guest/LABEL.log
# --extra-qemu    extra QEMU arguments (split on whitespace)
# --expect-smmu   FAIL unless the guest's arm-smmu-v3 driver probed an SMMU
#                 and at least one IOMMU group exists
# --timeout       kill QEMU after this many seconds (default 120)
# --uefi          boot through UEFI firmware (Debian's qemu-efi-aarch64, or
#                 $VSMMU_UEFI_FIRMWARE), so the guest sees ACPI, not the DT
# --pxb           add a pxb-pcie root bus (id pxb1, bus 0x80) with a root
#                 port, put the virtio disk behind it and the NVMe disk on
#                 pcie.0 (e.g. --iommu-device vsmmu,primary-bus=pxb1)
# --iothread     run the virtio disk in an iothread: its DMA is translated
#                 outside the BQL (docs/security.md)
# --expect-msi-window yes|no
#                 FAIL unless every IOMMU group has (yes) / none has (no)
#                 the reserved region 0x8000000-0x80fffff of type "direct"
#                 (the host MSI window, docs/msi.md)
# --ats           PCIe ATS: the vsmmu gets ats=on (unless the device
#                 arguments say ats=), the virtio disk ats=on behind a
#                 PCIe root port (virtio is PCIe only there); FAIL unless
#                 the guest enabled ATS in the disk's ATS capability and
#                 the vsmmu consumed ATC_INV commands during the disk read
# --no-stats      do not read the vsmmu's counters over QMP (a vsmmu run
#                 then starts and stops exactly as one without it; for
#                 timing, scripts/bench-boot.sh; not with --ats)
# --verbose       also show the guest console while it runs
#
# The last line is "vsmmu demo: PASS <facts>" (exit 0) or
# "vsmmu demo: FAIL <reason>" (exit 1).
# shellcheck disable=SC2054  # commas in arrays are QEMU option syntax
set -u

top=$(cd "$(dirname "$0")/.." && pwd)
out=$top/build/guest

fail() { echo "vsmmu demo: FAIL $*"; exit 1; }
usage() { sed -n '5,9p' "$0" | sed 's/^# \{0,1\}//' >&2; fail "usage: $*"; }

qemu="" iommu="vsmmu,primary-bus=pcie.0" append="" label="" extra=""
expect_smmu=0 tmo=120 verbose=0 uefi=0 pxb=0 expect_msi="" iothread=0 ats=0
no_stats=0
while [ $# -gt 0 ]; do
    case $1 in
    --qemu)         [ $# -ge 2 ] || usage "$1 needs an argument"; qemu=$2; shift ;;
    --iommu-device) [ $# -ge 2 ] || usage "$1 needs an argument"; iommu=$2; shift ;;
    --no-iommu)     iommu="" ;;
    --append)       [ $# -ge 2 ] || usage "$1 needs an argument"; append=$2; shift ;;
    --label)        [ $# -ge 2 ] || usage "$1 needs an argument"; label=$2; shift ;;
    --extra-qemu)   [ $# -ge 2 ] || usage "$1 needs an argument"; extra=$2; shift ;;
    --timeout)      [ $# -ge 2 ] || usage "$1 needs an argument"; tmo=$2; shift ;;
    --expect-smmu)  expect_smmu=1 ;;
    --uefi)         uefi=1 ;;
    --pxb)          pxb=1 ;;
    --iothread)     iothread=1 ;;
    --ats)          ats=1 ;;
    --expect-msi-window)
                    [ $# -ge 2 ] || usage "$1 needs an argument"; expect_msi=$2; shift
                    case $expect_msi in yes|no) ;; *) usage "$1 takes yes or no" ;; esac ;;
    --no-stats)     no_stats=1 ;;
    --verbose|-v)   verbose=1 ;;
    -h|--help)      sed -n '2,42p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *)              usage "unknown option '$1'" ;;
    esac
    shift
done
[ -n "$qemu" ] || usage "--qemu PATH is required"
[ -x "$qemu" ] || fail "qemu binary '$qemu' not found or not executable"
# Default label: the IOMMU device's driver name, or "no-iommu".
[ -n "$label" ] || label=${iommu%%,*}
[ -n "$label" ] || label=no-iommu
case $label in */*|.*|"") fail "bad label '$label'" ;; esac

"$top/demo/prepare.sh" >&2 || fail "demo/prepare.sh failed"
firmware=${VSMMU_UEFI_FIRMWARE:-/usr/share/qemu-efi-aarch64/QEMU_EFI.fd}
if [ $uefi = 1 ] && [ ! -f "$firmware" ]; then
    fail "UEFI firmware $firmware not found (Debian package qemu-efi-aarch64)"
fi

log=$out/$label.log
if [ $ats = 1 ]; then
    case ,$iommu, in *,ats=*) ;; ,vsmmu,*) iommu=$iommu,ats=on ;; esac
    # the guest marks its disk read, so the counters can be read around it
    append="${append:+$append }demo.marks"
fi
# The IOMMU must be created before the PCI devices it translates for.
args=(-M virt,gic-version=3 -cpu max -m 1G -smp 2 -nographic -nic none -no-reboot
      -kernel "$out/vmlinuz" -initrd "$out/initramfs.cpio.gz"
      -append "console=ttyAMA0 panic=-1${append:+ $append}")
[ $uefi = 1 ] && args+=(-bios "$firmware")
# A vsmmu gets an id, and QEMU a QMP socket and shutdown=pause, so that
# demo/vsmmu-stats.py can read its counters after the guest powers off.
stats_sock=""
case $no_stats,$iommu in
0,vsmmu,*|0,vsmmu)
    case ,$iommu, in *,id=*) ;; *) iommu=$iommu,id=vsmmu0 ;; esac
    stats_id=$(sed -n 's/.*,id=\([^,]*\).*/\1/p' <<<"$iommu,")
    stats_sock=$out/$label.qmp
    rm -f "$stats_sock"
    args+=(-qmp "unix:$stats_sock,server=on,wait=off" -action shutdown=pause) ;;
esac
vbus="" nbus=""
if [ $pxb = 1 ]; then
    args+=(-device pxb-pcie,id=pxb1,bus_nr=0x80,bus=pcie.0
           -device pcie-root-port,id=rp1,bus=pxb1,chassis=1)
    vbus=,bus=rp1 nbus=,bus=pcie.0
fi
[ -n "$iommu" ] && args+=(-device "$iommu")
if [ $ats = 1 ]; then
    # virtio-pci is a PCIe function (with an ATS capability) only below a
    # PCIe port; with --pxb the disk already is
    if [ $pxb = 0 ]; then
        args+=(-device pcie-root-port,id=rpats,bus=pcie.0,chassis=3)
        vbus=,bus=rpats
    fi
    vbus=$vbus,ats=on
fi
if [ $iothread = 1 ]; then
    args+=(-object iothread,id=io0)
    vbus=$vbus,iothread=io0
fi
# snapshot=on: the guest can never modify the reference images, and several
# runs may share them concurrently (read-only image locks).
args+=(-drive "if=none,id=dvirtio,file=$out/disk-virtio.img,format=raw,snapshot=on"
       -device "virtio-blk-pci,drive=dvirtio,iommu_platform=on,disable-legacy=on$vbus"
       -drive "if=none,id=dnvme,file=$out/disk-nvme.img,format=raw,snapshot=on"
       -device "nvme,serial=demo,drive=dnvme$nbus")
# shellcheck disable=SC2206
[ -n "$extra" ] && args+=($extra)

# Echo the command line, quoting the arguments that contain spaces.
{ printf 'run: %s' "$qemu"
  for a in "${args[@]}"; do
      case $a in *' '*) printf " '%s'" "$a" ;; *) printf ' %s' "$a" ;; esac
  done; echo; } >&2
t0=$(date +%s%N)
stats_out=$out/$label.stats
rm -f "$stats_out"
if [ -n "$stats_sock" ]; then
    marks=()
    [ $ats = 1 ] && marks=(--marks "$log")
    rm -f "$log"
    "$top/demo/vsmmu-stats.py" "${marks[@]}" "$stats_sock" "$stats_id" "$tmo" \
        >"$stats_out" &
    stats_pid=$!
fi
if [ $verbose = 1 ]; then
    timeout -k 5 "$tmo" "$qemu" "${args[@]}" </dev/null 2>&1 | tee "$log"
    rc=${PIPESTATUS[0]}
else
    timeout -k 5 "$tmo" "$qemu" "${args[@]}" </dev/null >"$log" 2>&1
    rc=$?
fi
t1=$(date +%s%N)
stats=""
if [ -n "$stats_sock" ]; then
    wait "$stats_pid"
    stats=$(sed -n 's/^VSMMU-STATS: //p' "$stats_out")
    rm -f "$stats_sock"
fi
secs=$(( (t1 - t0) / 1000000000 )).$(( (t1 - t0) / 100000000 % 10 ))

# Guest lines, without the serial console's carriage returns.
demo=$(tr -d '\r' <"$log" | sed -n 's/^.*DEMO: //p')
field() { sed -n "s/^$1 //p" <<<"$demo" | head -n 1; }

echo "== $label: qemu exit $rc after ${secs}s, console in ${log#"$top"/}"
grep '^error ' <<<"$demo" | sed 's/^/  guest /'
grep '^dmesg: ' <<<"$demo" | sed "s/^dmesg: /  dmesg: /"
grep -E '^(iommu_group |pci |resv_region )' <<<"$demo" | sed 's/^/  /'

problems=()
case $rc in
0) ;;
124|137) problems+=("timed out after ${tmo}s") ;;
*) problems+=("qemu exited $rc: $(grep -m1 -i 'qemu-system\|error' "$log" | tr -d '\r')") ;;
esac
done=0; grep -qx 'done' <<<"$demo" && done=1
if [ $done = 0 ]; then
    panic=$(tr -d '\r' <"$log" | grep -m1 -o 'Kernel panic.*')
    problems+=("guest did not reach 'DEMO: done'${panic:+ ($panic)}")
fi
nerr=$(grep -c '^error ' <<<"$demo")
[ "$nerr" = 0 ] || problems+=("$nerr guest error(s): $(grep -m1 '^error ' <<<"$demo" | cut -c7-)")

verified=()
for d in virtio nvme; do
    want=$(cut -d' ' -f1 "$out/disk-$d.sha256")
    got=$(field "sha256 $d")
    if [ "$got" = "$want" ]; then
        verified+=("$d")
        echo "  $d disk: sha256 ok ($want)"
    else
        echo "  $d disk: sha256 ${got:-missing}, expected $want"
        # A missing hash is already explained when the guest did not finish.
        [ -z "$got" ] && [ $done = 0 ] || problems+=("$d disk hash ${got:+mismatch}${got:-missing}")
    fi
done

groups=$(field iommu_groups); groups=${groups:-0}
smmu=no
grep -Eq '^dmesg: .*arm-smmu-v3 .*((ias|oas) [0-9]+-bit|features 0x)' <<<"$demo" && smmu=yes
echo "  iommu groups: $groups, arm-smmu-v3 probed: $smmu, guest uptime: $(field uptime | cut -d' ' -f1 | grep . || echo -)s"
if [ -n "$stats" ]; then
    echo "  vsmmu counters: $stats"
    case $stats in error*) problems+=("vsmmu counters: $stats") ;; esac
fi
if [ $expect_smmu = 1 ]; then
    [ $smmu = yes ] || problems+=("no arm-smmu-v3 probe in guest dmesg")
    [ "$groups" -gt 0 ] 2>/dev/null || problems+=("no iommu groups")
fi

# PCIe ATS: the guest enabled it on the virtio disk (1af4:1042), and the
# vsmmu consumed ATC_INVs between the guest's marks around the disk read
atsinfo=""
if [ $ats = 1 ]; then
    vbdf=$(sed -n 's/^pci \([^ ]*\) 0x1af4:0x1042 .*/\1/p' <<<"$demo" | head -n 1)
    vats=$(sed -n "s/^ats $vbdf cap=[0-9]* enabled=\([01]\) .*/\1/p" <<<"$demo")
    mark() { sed -n "s/^VSMMU-MARK: $1 .*atc-invs=\([0-9]*\).*/\1/p" "$stats_out"; }
    a0=$(mark read-virtio-start) a1=$(mark read-virtio-end)
    atc=""
    [ -n "$a0" ] && [ -n "$a1" ] && atc=$((a1 - a0))
    echo "  ATS: virtio disk ${vbdf:-not found}: enabled by the guest: ${vats:-no ATS capability}; ATC_INV during its read: ${atc:-not measured} (total $(grep -o 'atc-invs=[0-9]*' <<<"$stats" | cut -d= -f2))"
    [ "$vats" = 1 ] || problems+=("the guest did not enable ATS on the virtio disk (${vbdf:-not found}: ${vats:-no ATS capability})")
    [ "${atc:-0}" -gt 0 ] || problems+=("no ATC_INV during the virtio disk read (${atc:-not measured})")
    atsinfo=" ats=$vbdf atc_invs_during_read=${atc:-0}"
fi

# The host MSI window as a direct (identity-mapped) region, per group
msi_groups=$(sed -n 's/^resv_region \([0-9]*\) 0x0*8000000 0x0*80fffff direct$/\1/p' \
             <<<"$demo" | sort -u | wc -l)
msi=""
if [ -n "$expect_msi" ]; then
    msi=" msi_window=$msi_groups/$groups"
    echo "  MSI window 0x8000000-0x80fffff direct in $msi_groups of $groups iommu groups"
    if [ "$expect_msi" = yes ] && { [ "$groups" -eq 0 ] || [ "$msi_groups" != "$groups" ]; }; then
        problems+=("MSI window direct-mapped in $msi_groups of $groups iommu groups, expected all")
    elif [ "$expect_msi" = no ] && [ "$msi_groups" != 0 ]; then
        problems+=("MSI window direct-mapped in $msi_groups iommu groups, expected none")
    fi
fi

if [ ${#problems[@]} -gt 0 ]; then
    [ $verbose = 1 ] || { echo "-- last console lines:"; tr -d '\r' <"$log" | tail -n 15; }
    reason=$(printf '; %s' "${problems[@]}")
    fail "$label: ${reason#; }"
fi
disks=$(IFS=,; echo "${verified[*]}")
counts=""
if [ -n "$stats" ]; then
    counts=" commands=$(grep -o 'commands=[0-9]*' <<<"$stats" | cut -d= -f2)"
    counts+=" syncs=$(grep -o 'syncs=[0-9]*' <<<"$stats" | cut -d= -f2)"
    counts+=" events=$(grep -o ' events=[0-9]*' <<<"$stats" | cut -d= -f2)"
    counts+=" translations=$(grep -o 'translations=[0-9]*' <<<"$stats" | cut -d= -f2)"
fi
echo "vsmmu demo: PASS label=$label boot=${secs}s disks=$disks iommu_groups=$groups smmu=$smmu$msi$atsinfo$counts"
