#!/usr/bin/env python3
"""Write the seed programs of the vsmmu fuzz targets (tests/fuzz/vsmmu-fuzz.c).

    gen-seeds.py OUTDIR       writes OUTDIR/<target>/seed-<name>

Each seed is a program in the targets' encoding: operations separated by
"FUZZ", an opcode byte and little-endian operands. The seeds bring the
SMMU up the way a driver does (tables and queues in the fuzz region,
CR0 handshake, CFGI_ALL + TLBI_NSNH_ALL + CMD_SYNC), install stream table
entries and a stage-1 page table, and make the DMA test device (or the
simulated host's function) translate through them, so that the fuzzer
starts from programs that reach the walker, the command engine and the
event queue. The committed corpus (tests/fuzz/corpus) starts from these.
"""
import os
import struct
import sys

# Opcodes (enum in vsmmu-fuzz.c)
OP_MMIO_READ, OP_MMIO_WRITE, OP_MEM_WRITE, OP_MEM_PATTERN, OP_CMDQ, OP_DMA, \
    OP_IRQ, OP_RESET, OP_CLOCK, OP_HOST = range(10)
# Operations added later: opcodes 0xf0-0xf5
OPX_ATS, OPX_MIGRATE, OPX_NOTIFIER, OPX_DMA_THREAD, OPX_INFO, \
    OPX_HOST_CMDQV = range(0xf0, 0xf6)
SEP = b"FUZZ"

REGION = 0x40100000
# Layout inside the region (offsets)
STRTAB, L2STRTAB, CMDQ, EVTQ, VCMDQ0, VCMDQ1 = (0x00000, 0x04000, 0x10000,
                                                0x20000, 0x28000, 0x2c000)
CD, PT_L1, PT_L2, PT_L3, MSI_SLOT, BUF = (0x30000, 0x40000, 0x41000, 0x42000,
                                         0x4f000, 0x80000)
# Stage 2 tables (vsmmu-nested): level 1, level 2, level 3
S2_L1, S2_L2, S2_L3 = 0x50000, 0x51000, 0x52000
# Stage 2 maps the 2 MiB of RAM around the region at IPA PA + IPA_OFF
IPA_OFF = 0x40000000
VMID = 5
IOVA = 0x10000000
ASID = 1

# SMMU registers (page 0, and page 1 at 0x10000)
IDR0, IDR1, CR0, CR0ACK, CR1, CR2, GBPA, IRQ_CTRL, GERROR, GERRORN = (
    0x0, 0x4, 0x20, 0x24, 0x28, 0x2c, 0x44, 0x50, 0x60, 0x64)
GERROR_IRQ_CFG0, STRTAB_BASE, STRTAB_BASE_CFG = 0x68, 0x80, 0x88
CMDQ_BASE, CMDQ_PROD, CMDQ_CONS = 0x90, 0x98, 0x9c
EVENTQ_BASE, EVENTQ_IRQ_CFG0 = 0xa0, 0xb0
EVENTQ_PROD1, EVENTQ_CONS1 = 0x100a8, 0x100ac
CR0_SMMUEN, CR0_EVENTQEN, CR0_CMDQEN = 1, 4, 8
RA = 1 << 62

# CMDQV window (page index 1 of the vsmmu-cmdqv target)
CMDQV_CONFIG, CMDQV_CMDQ_ALLOC, VINTF0 = 0x0, 0x200, 0x1000
VCMDQ_PAGE0, VCMDQ_PAGE1, STRIDE = 0x10000, 0x20000, 0x80
VCMDQ_CONS, VCMDQ_PROD, VCMDQ_CONFIG, VCMDQ_GERROR, VCMDQ_GERRORN = (
    0x0, 0x4, 0x8, 0x10, 0x14)

TESTDEV_SID = 0xe8      # vsmmu-dma-testdev at 1d.0
ATS_SID = 0xf0          # vsmmu-ats-testdev at 1e.0
ACCEL_SID = 0x10        # the simulated function at 2.0
HOST_VINTFS = 4         # vsmmu-cmdqv-host: cmdqv-vintfs


def u8(v):
    return struct.pack("<B", v & 0xff)


def u16(v):
    return struct.pack("<H", v & 0xffff)


def u32(v):
    return struct.pack("<I", v & 0xffffffff)


def u64(v):
    return struct.pack("<Q", v & 0xffffffffffffffff)


def size_sel(size):
    return {1: 0, 2: 1, 4: 2, 8: 3}[size]


class Prog:
    def __init__(self):
        self.ops = []

    def op(self, code, payload=b""):
        self.ops.append(u8(code) + payload)
        return self

    def w(self, off, val, size=4, page=0):
        return self.op(OP_MMIO_WRITE, u8(page) + u8(size_sel(size)) +
                       u32(off) + u64(val))

    def r(self, off, size=4, page=0):
        return self.op(OP_MMIO_READ, u8(page) + u8(size_sel(size)) + u32(off))

    def mem(self, off, data):
        return self.op(OP_MEM_WRITE, u32(off) + data)

    def words(self, off, words):
        return self.mem(off, b"".join(u64(x) for x in words))

    def pattern(self, off, count, at, step, data):
        return self.op(OP_MEM_PATTERN, u32(off) + u16(count) + u8(at) +
                       u8(step) + data)

    def cmds(self, cmds, queue=0):
        return self.op(OP_CMDQ, u8(queue) +
                       b"".join(u64(a) + u64(b) for a, b in cmds))

    def dma(self, op, src=0, dst=0, length=0, pattern=0, stride=0, it=0):
        return self.op(OP_DMA, u8(op) + u8(pattern) + u64(src) + u64(dst) +
                       u32(length) + u16(stride) + u8(it))

    def irq(self, what):
        return self.op(OP_IRQ, u8(what))

    def reset(self, kind):
        return self.op(OP_RESET, u8(kind))

    def clock(self, ns):
        return self.op(OP_CLOCK, u32(ns))

    def host(self, payload):
        return self.op(OP_HOST, payload)

    def ats(self, what, addr=0, length=0, flags=0):
        """The ATS endpoint: 0 enable, 1 disable, 2 translate, 3 read,
        4 flush, 5 request with a PASID, 6 PASID notifier, 7 Control"""
        return self.op(OPX_ATS, u8(what) + u64(addr) + u64(length) +
                       u8(flags))

    def migrate(self, flags=0, edits=()):
        """Save and load the vsmmu's state; flags bit 0 stops the VM;
        edits: (offset, xor) flips in the stream"""
        return self.op(OPX_MIGRATE, u8(flags) +
                       b"".join(u16(o) + u8(x) for o, x in edits))

    def notifier(self, what, start=0, end=(1 << 64) - 1):
        """IOMMU notifier (what >> 2) % 4; what % 4: 0 UNMAP,
        1 DEVIOTLB_UNMAP, 2 MAP (refused), 3 gone; bit 6: the ATS testdev"""
        return self.op(OPX_NOTIFIER, u8(what) + u64(start) + u64(end))

    def dma_thread(self, count, iova, stride=8, write=False, ats=False):
        """DMA from a thread without the BQL"""
        return self.op(OPX_DMA_THREAD, u8(count) +
                       u8(int(write) | int(ats) << 1) + u64(iova) +
                       u16(stride))

    def info(self):
        return self.op(OPX_INFO)

    def host_cmdqv(self, what, lvcmdq=0):
        """The host CMDQV (vsmmu-cmdqv-accel): what 0 flags the guest's
        LVCMDQ lvcmdq in error, 1 runs the host's queue consumers"""
        return self.op(OPX_HOST_CMDQV, u8(what) + u8(lvcmdq))

    def bytes(self):
        for o in self.ops:
            assert SEP not in o, o
        return SEP.join(self.ops)


# --- architecture encodings (IHI 0070) -----------------------------------

def ste_s1(cd_ptr, s1fmt=0, cdmax=0, s1dss=0):
    w0 = 1 | 5 << 1 | s1fmt << 4 | (cd_ptr & ~0x3f) | cdmax << 59
    w1 = s1dss | 1 << 2 | 1 << 4 | 3 << 6 | 1 << 44
    return [w0, w1, 0, 0, 0, 0, 0, 0]


def ste_bypass():
    return [1 | 4 << 1, 1 << 44, 0, 0, 0, 0, 0, 0]


def ste_abort():
    return [1, 0, 0, 0, 0, 0, 0, 0]


def cd_4k(ttb0, asid=ASID, tsz=25, extra=0):
    w0 = (tsz | 0 << 6 | 1 << 8 | 1 << 10 | 3 << 12 | tsz << 16 | 2 << 22 |
          1 << 30 | 1 << 31 | 5 << 32 | 1 << 41 | 1 << 45 | 1 << 46 |
          asid << 48) | extra
    return [w0, ttb0, 0, 0xff, 0, 0, 0, 0]


def pte_page(pa, write=True):
    return pa | 3 | (1 << 6 if write else 3 << 6) | 3 << 8 | 1 << 10


def s2_fields(vmid=VMID, t0sz=25, sl0=1, tg=0, extra2=0):
    # S2T0SZ, S2SL0, WB inner-shareable walks, S2TG, S2PS 44 bits,
    # S2AA64, S2PTW, S2R; S2TTB at S2_L1
    w2 = (vmid | t0sz << 32 | sl0 << 38 | 1 << 40 | 1 << 42 | 3 << 44 |
          tg << 46 | 4 << 48 | 1 << 51 | 1 << 54 | 1 << 58) | extra2
    return [w2, REGION + S2_L1]


def ste_s2(**kw):
    return [1 | 6 << 1, 1 << 44] + s2_fields(**kw) + [0, 0, 0, 0]


def ste_nested(cd_ipa, s1dss=0, **kw):
    w0 = 1 | 7 << 1 | (cd_ipa & ~0x3f)
    w1 = s1dss | 1 << 2 | 1 << 4 | 3 << 6 | 1 << 44
    return [w0, w1] + s2_fields(**kw) + [0, 0, 0, 0]


def s2_desc(pa, write=True, read=True, af=True):
    # MemAttr Normal WB, S2AP, inner shareable, AF
    return (pa | 0xf << 2 | (1 << 6 if read else 0) |
            (1 << 7 if write else 0) | 3 << 8 | (1 << 10 if af else 0))


def cmd(op, w0=0, w1=0):
    return (op | w0, w1)


def cfgi_all():
    return cmd(0x04, 0, 31)


def cfgi_ste(sid, leaf=1):
    return cmd(0x03, sid << 32, leaf)


def cfgi_cd(sid, ssid=0, leaf=1):
    return cmd(0x05, ssid << 12 | sid << 32, leaf)


def tlbi_nsnh_all():
    return cmd(0x30)


def tlbi_nh_all():
    return cmd(0x10)


def tlbi_nh_asid(asid):
    return cmd(0x11, asid << 48)


def tlbi_nh_va(asid, va, leaf=1, num=0, scale=0, tg=0, ttl=0):
    return cmd(0x12, asid << 48 | num << 12 | scale << 20,
               leaf | ttl << 8 | tg << 10 | (va & ~0xfff))


def tlbi_nh_vaa(va, leaf=1):
    return cmd(0x13, 0, leaf | (va & ~0xfff))


def with_vmid(c, vmid=VMID):
    return (c[0] | vmid << 32, c[1])


def tlbi_s2_ipa(ipa, vmid=VMID, leaf=1, num=0, scale=0, tg=0, ttl=0):
    return cmd(0x2a, vmid << 32 | num << 12 | scale << 20,
               leaf | ttl << 8 | tg << 10 | (ipa & 0xffffffffff000))


def tlbi_s12_vmall(vmid=VMID):
    return cmd(0x28, vmid << 32)


def prefetch_config(sid):
    return cmd(0x01, sid << 32)


def prefetch_addr(sid, addr):
    return cmd(0x02, sid << 32, addr & ~0xfff)


def atc_inv(sid, addr, size=0):
    return cmd(0x40, sid << 32, size | (addr & ~0xfff))


def sync(msi_addr=0, data=0):
    if not msi_addr:
        return cmd(0x46)
    return cmd(0x46, 1 << 12 | 3 << 22 | 1 << 24 | data << 32,
               msi_addr & ~3)


# --- building blocks -----------------------------------------------------

def queue_base(off, log2size):
    return (REGION + off) | log2size | RA


def strtab_linear(p, log2size=8):
    p.w(STRTAB_BASE, (REGION + STRTAB) | RA, 8)
    p.w(STRTAB_BASE_CFG, log2size)


def strtab_2lvl(p, log2size=16, split=6):
    p.w(STRTAB_BASE, (REGION + STRTAB) | RA, 8)
    p.w(STRTAB_BASE_CFG, 1 << 16 | split << 6 | log2size)


def l1std(p, sid, split=6):
    # one L2 array of 2^split STEs at L2STRTAB for @sid
    p.words(STRTAB + (sid >> split) * 8, [(REGION + L2STRTAB) | (split + 1)])


def ste_at(sid, fmt, split=6):
    if fmt == "linear":
        return STRTAB + sid * 64
    return L2STRTAB + (sid & ((1 << split) - 1)) * 64


def pgtable(p, pages=16, write=True):
    p.words(PT_L1, [(REGION + PT_L2) | 3])
    p.words(PT_L2 + ((IOVA >> 21) & 0x1ff) * 8, [(REGION + PT_L3) | 3])
    p.words(PT_L3, [pte_page(REGION + BUF + i * 0x1000, write)
                    for i in range(pages)])


def bringup(p, cmdq_log2=8, evtq_log2=6, smmuen=True):
    """Driver-style bring-up; the stream table is programmed by the caller"""
    p.w(CR0, 0)
    p.r(CR0ACK)
    p.w(CR1, 0xd75)
    p.w(CR2, 6)
    p.w(CMDQ_BASE, queue_base(CMDQ, cmdq_log2), 8)
    p.w(CMDQ_PROD, 0)
    p.w(CMDQ_CONS, 0)
    p.w(EVENTQ_BASE, queue_base(EVTQ, evtq_log2), 8)
    p.w(EVENTQ_PROD1, 0)
    p.w(EVENTQ_CONS1, 0)
    p.w(IRQ_CTRL, 5)
    p.w(CR0, CR0_CMDQEN | CR0_EVENTQEN)
    p.cmds([cfgi_all(), sync()])
    p.cmds([tlbi_nsnh_all(), sync()])
    if smmuen:
        p.w(CR0, CR0_CMDQEN | CR0_EVENTQEN | CR0_SMMUEN)
        p.r(CR0ACK)


def s1_stream(p, sid, fmt="linear", write=True):
    pgtable(p, write=write)
    p.words(CD, cd_4k(REGION + PT_L1))
    if fmt == "2lvl":
        l1std(p, sid)
    p.words(ste_at(sid, fmt), ste_s1(REGION + CD))
    p.cmds([cfgi_ste(sid), cfgi_cd(sid), sync()])


def s2_tables(p, data_pages=8, write=True):
    """Stage 2: a 2 MiB block maps the RAM of the region at IPA PA +
    IPA_OFF; the next 2 MiB of IPA maps @data_pages 4 KiB pages onto BUF"""
    base = REGION & ~0x1fffff
    p.words(S2_L1 + ((base + IPA_OFF) >> 30) * 8, [(REGION + S2_L2) | 3])
    p.words(S2_L2 + (((base + IPA_OFF) >> 21) & 0x1ff) * 8,
            [s2_desc(base) | 1, (REGION + S2_L3) | 3])
    p.words(S2_L3, [s2_desc(REGION + BUF + i * 0x1000, write) | 3
                    for i in range(data_pages)])


def nested_stream(p, sid, s1dss=0):
    """Stage 1 over stage 2: the CD and the stage-1 tables at IPAs"""
    s2_tables(p)
    p.words(PT_L1, [(REGION + PT_L2 + IPA_OFF) | 3])
    p.words(PT_L2 + ((IOVA >> 21) & 0x1ff) * 8,
            [(REGION + PT_L3 + IPA_OFF) | 3])
    p.words(PT_L3, [pte_page(REGION + BUF + i * 0x1000 + IPA_OFF)
                    for i in range(16)])
    p.words(CD, cd_4k(REGION + PT_L1 + IPA_OFF))
    p.words(ste_at(sid, "linear"), ste_nested(REGION + CD + IPA_OFF, s1dss))
    p.cmds([cfgi_ste(sid), cfgi_cd(sid), sync()])


def dma_traffic(p):
    p.mem(BUF, bytes(range(256)) * 4)
    p.dma(0, src=IOVA, dst=IOVA + 0x1000, length=0x400)       # copy
    p.dma(1, dst=IOVA + 0x2000, length=0x1000, pattern=0xa5)  # fill
    p.dma(2, src=IOVA, length=0x4000, stride=0x1000, it=2)    # sweep
    p.dma(0, src=IOVA + 0x20000, dst=IOVA, length=0x10)       # fault
    p.irq(3)


# --- seeds ---------------------------------------------------------------

def emu_seeds(sid=TESTDEV_SID):
    seeds = {}

    p = Prog()
    strtab_linear(p)
    bringup(p)
    s1_stream(p, sid)
    dma_traffic(p)
    p.cmds([tlbi_nh_va(ASID, IOVA), tlbi_nh_asid(ASID), sync()])
    p.dma(0, src=IOVA, dst=IOVA + 0x3000, length=0x100)
    seeds["s1-linear"] = p

    p = Prog()
    strtab_2lvl(p)
    bringup(p)
    s1_stream(p, sid, fmt="2lvl")
    dma_traffic(p)
    p.cmds([tlbi_nh_va(ASID, IOVA, num=3, scale=1, tg=1, ttl=3),
            tlbi_nh_vaa(IOVA + 0x1000), tlbi_nh_all(), sync()])
    seeds["s1-2lvl-range-tlbi"] = p

    p = Prog()
    strtab_linear(p)
    bringup(p)
    p.words(ste_at(sid, "linear"), ste_bypass())
    p.cmds([cfgi_ste(sid), prefetch_config(sid), sync()])
    p.dma(0, src=REGION + BUF, dst=REGION + BUF + 0x1000, length=0x200)
    p.words(ste_at(sid, "linear"), ste_abort())
    p.cmds([cfgi_ste(sid), sync()])
    p.dma(0, src=REGION + BUF, dst=REGION + BUF + 0x1000, length=0x200)
    p.irq(3)
    seeds["bypass-then-abort"] = p

    # small event queue, many faults: overflow; then the handler
    p = Prog()
    strtab_linear(p)
    bringup(p, evtq_log2=1)
    s1_stream(p, sid)
    for i in range(4):
        p.dma(0, src=IOVA + 0x100000 * (i + 1), dst=IOVA, length=8)
    p.r(EVENTQ_PROD1)
    p.irq(3)
    p.dma(0, src=IOVA + 0x200000, dst=IOVA, length=8)
    seeds["evtq-overflow"] = p

    # SID out of range, invalid STE, bad CD: the C_BAD_* events
    p = Prog()
    strtab_linear(p, log2size=5)
    bringup(p)
    p.dma(0, src=IOVA, dst=IOVA, length=8)
    strtab_linear(p)
    p.words(ste_at(sid, "linear"), ste_s1(REGION + CD) [:1] + [0xffff] + [0] * 6)
    p.cmds([cfgi_ste(sid), sync()])
    p.dma(0, src=IOVA, dst=IOVA, length=8)
    p.words(CD, cd_4k(REGION + PT_L1, tsz=60))
    p.words(ste_at(sid, "linear"), ste_s1(REGION + CD))
    p.cmds([cfgi_all(), sync()])
    p.dma(0, src=IOVA, dst=IOVA, length=8)
    p.irq(7)
    seeds["bad-ste-cd"] = p

    # CMD_SYNC with an MSI into RAM, an illegal command, GERROR handling
    p = Prog()
    strtab_linear(p)
    bringup(p)
    p.w(GERROR_IRQ_CFG0, REGION + MSI_SLOT + 8, 8)
    p.cmds([sync(REGION + MSI_SLOT, 0x1234)])
    p.cmds([cmd(0x7f), sync()])
    p.r(CMDQ_CONS)
    p.r(GERROR)
    p.irq(1)
    p.cmds([sync()])
    p.cmds([prefetch_addr(sid, IOVA), atc_inv(sid, IOVA, 2), sync()])
    p.r(CMDQ_CONS)
    seeds["sync-msi-cerror"] = p

    # GBPA update and abort, CR0 toggles, resets
    p = Prog()
    p.w(GBPA, 1 << 31 | 1 << 20)
    p.r(GBPA)
    p.dma(0, src=REGION + BUF, dst=REGION + BUF + 0x100, length=0x10)
    p.w(GBPA, 1 << 31 | 1 << 12)
    p.dma(0, src=REGION + BUF, dst=REGION + BUF + 0x100, length=0x10)
    strtab_linear(p)
    bringup(p)
    p.reset(0)
    p.r(CR0)
    p.r(IDR0)
    p.r(IDR1)
    bringup(p)
    p.reset(1)
    p.clock(1000000)
    seeds["gbpa-reset"] = p

    # many commands at once (a pattern of TLBI_NH_VA, one per page)
    p = Prog()
    strtab_linear(p)
    bringup(p, cmdq_log2=8)
    s1_stream(p, sid)
    va = tlbi_nh_va(ASID, IOVA)
    p.pattern(CMDQ, 200, 8, 16, u64(va[0]) + u64(va[1] | 0x1000))
    p.w(CMDQ_PROD, 200)
    p.r(CMDQ_CONS)
    p.cmds([sync()])
    seeds["cmdq-batch"] = p
    return seeds


def nested_seeds(sid=TESTDEV_SID):
    """vsmmu-nested: stage-2-only and nested streams, the stage-2 TLBIs,
    stage-2 faults and bad stage-2 STEs"""
    seeds = {}
    s2_data = (REGION & ~0x1fffff) + IPA_OFF + 0x200000   # the L3 pages

    p = Prog()
    strtab_linear(p)
    bringup(p)
    s2_tables(p)
    p.words(ste_at(sid, "linear"), ste_s2())
    p.cmds([cfgi_ste(sid), sync()])
    p.mem(BUF, bytes(range(256)) * 4)
    p.dma(0, src=s2_data, dst=s2_data + 0x1000, length=0x400)
    p.dma(1, dst=REGION + BUF + IPA_OFF + 0x2000, length=0x800, pattern=0x5a)
    p.dma(0, src=s2_data + 0x100000, dst=s2_data, length=0x10)   # S2 fault
    p.cmds([tlbi_s2_ipa(s2_data, num=3, scale=0, tg=1, ttl=3),
            tlbi_s12_vmall(), sync()])
    p.dma(2, src=s2_data, length=0x4000, stride=0x1000, it=2)
    p.irq(3)
    seeds["s2-only"] = p

    p = Prog()
    strtab_linear(p)
    bringup(p)
    nested_stream(p, sid)
    dma_traffic(p)
    p.cmds([with_vmid(tlbi_nh_va(ASID, IOVA)), with_vmid(tlbi_nh_asid(ASID)),
            tlbi_s2_ipa(REGION + BUF + IPA_OFF), with_vmid(tlbi_nh_all()),
            sync()])
    p.dma(0, src=IOVA, dst=IOVA + 0x3000, length=0x100)
    p.cmds([tlbi_s12_vmall(), with_vmid(tlbi_nh_vaa(IOVA)), sync()])
    seeds["nested"] = p

    p = Prog()
    strtab_linear(p)
    bringup(p)
    nested_stream(p, sid)
    # stage 2 forgets the window: CD fetch and table walks fault (S2)
    p.words(S2_L2 + ((((REGION & ~0x1fffff) + IPA_OFF) >> 21) & 0x1ff) * 8,
            [0])
    p.cmds([tlbi_s12_vmall(), cfgi_all(), sync()])
    p.dma(0, src=IOVA, dst=IOVA + 0x1000, length=0x10)
    p.irq(3)
    # ... and an S2 without read on the data
    p.words(S2_L3, [s2_desc(REGION + BUF, write=True, read=False) | 3])
    p.dma(0, src=s2_data, dst=s2_data + 0x1000, length=0x10)
    seeds["nested-s2-faults"] = p

    p = Prog()
    strtab_linear(p)
    bringup(p)
    s2_tables(p)
    for i, extra in enumerate([0, 1 << 52, 1 << 57, 3 << 46, 3 << 38,
                               (63 << 32)]):
        ste = ste_s2(extra2=extra)
        if i == 5:
            ste[2] &= ~(0x3f << 32)
            ste[2] |= extra
        p.words(ste_at(sid, "linear"), ste)
        p.cmds([cfgi_ste(sid), sync()])
        p.dma(0, src=IPA_OFF + REGION + BUF, dst=IPA_OFF + REGION + BUF,
              length=8)
    p.irq(3)
    seeds["bad-s2-ste"] = p

    # two stage-1 seeds of vsmmu-emu: S1 streams tagged with a VMID
    for name, prog in emu_seeds(sid).items():
        if name in ("s1-linear", "s1-2lvl-range-tlbi"):
            seeds["s1-" + name] = prog
    return seeds


def cmdqv_seeds(sid=TESTDEV_SID):
    seeds = {}

    def cmdqv_up(p, queues=(0, 1)):
        p.w(CMDQV_CONFIG, 1, page=1)
        p.w(VINTF0, 1 | 7 << 1, page=1)     # EN, VMID 7
        for q in queues:
            p.w(CMDQV_CMDQ_ALLOC + 4 * q, 1 | q << 1, page=1)
            base = VCMDQ0 if q == 0 else VCMDQ1
            p.w(VCMDQ_PAGE1 + STRIDE * q, queue_base(base, 6) & ~RA, 8,
                page=1)
            p.w(VCMDQ_PAGE0 + STRIDE * q + VCMDQ_CONFIG, 1, page=1)
            p.r(VCMDQ_PAGE0 + STRIDE * q + 0xc, page=1)

    p = Prog()
    strtab_linear(p)
    bringup(p)
    s1_stream(p, sid)
    cmdqv_up(p)
    p.dma(0, src=IOVA, dst=IOVA + 0x1000, length=0x100)
    p.cmds([tlbi_nh_va(ASID, IOVA), tlbi_nh_asid(ASID), sync()], queue=1)
    p.cmds([atc_inv(sid, IOVA), sync()], queue=2)
    p.dma(0, src=IOVA, dst=IOVA + 0x1000, length=0x100)
    seeds["vcmdq-tlbi"] = p

    p = Prog()
    strtab_linear(p)
    bringup(p)
    cmdqv_up(p, queues=(0,))
    p.cmds([cfgi_all(), sync()], queue=1)       # not allowed: CERROR_ILL
    p.r(VCMDQ_PAGE0 + VCMDQ_CONS, page=1)
    p.r(0x14, 8, page=1)                        # VINTF_ERR_MAP
    p.irq(9)
    p.cmds([sync()], queue=1)
    # SID_MATCH / SID_REPLACE, then an ATC_INV rewritten
    p.w(VINTF0 + 0x40, 1 | 0x42 << 1, page=1)
    p.w(VINTF0 + 0x80, sid, page=1)
    p.cmds([atc_inv(0x42, IOVA), sync()], queue=1)
    seeds["vcmdq-error-sid"] = p

    p = Prog()
    strtab_linear(p)
    bringup(p)
    cmdqv_up(p)
    # a bad BASE (outside RAM): CERROR_ABT, then disable/enable
    p.w(VCMDQ_PAGE0 + VCMDQ_CONFIG, 0, page=1)
    p.w(VCMDQ_PAGE1, 0x100000000 | 4, 8, page=1)
    p.w(VCMDQ_PAGE0 + VCMDQ_CONFIG, 1, page=1)
    p.w(VCMDQ_PAGE0 + VCMDQ_PROD, 1, page=1)
    p.irq(9)
    p.w(CMDQV_CONFIG, 0, page=1)
    p.r(0x8, page=1)
    p.reset(0)
    p.r(0x4, page=1)
    seeds["vcmdq-abort-reset"] = p

    for name, prog in emu_seeds().items():
        if name in ("s1-linear", "sync-msi-cerror"):
            seeds["smmu-" + name] = prog
    return seeds


def accel_seeds():
    seeds = {}
    for name, prog in emu_seeds(ACCEL_SID).items():
        if name in ("s1-linear", "s1-2lvl-range-tlbi", "bypass-then-abort",
                    "bad-ste-cd", "cmdq-batch"):
            seeds[name] = prog

    # a host event forwarded through the vEVENTQ, host refusals
    p = Prog()
    strtab_linear(p)
    bringup(p)
    s1_stream(p, ACCEL_SID)
    p.dma(0, src=IOVA, dst=IOVA + 0x1000, length=0x100)
    # F_TRANSLATION (0x10) for the device, stage 1, read
    p.host(u8(1) + u64(0x10) + u64(1 << 35) + u64(IOVA + 0x5000) + u64(0))
    p.irq(3)
    p.host(u8(2) + u8(1) + u8(2))               # lost events, flood
    p.host(u8(1) + u64(0x10) + u64(0) + u64(IOVA) + u64(0))
    p.irq(3)
    # HWPT_ALLOC (kind 9) fails once: the next STE install is refused
    p.host(u8(0) + u8(9) + u8(0) + u8(1))
    p.words(ste_at(ACCEL_SID, "linear"), ste_bypass())
    p.cmds([cfgi_ste(ACCEL_SID), sync()])
    # HWPT_INVALIDATE (13) fails: the TLBI batch ends in an error
    p.host(u8(0) + u8(13) + u8(0) + u8(6))
    p.cmds([tlbi_nh_asid(ASID), sync()])
    p.r(CMDQ_CONS)
    p.irq(1)
    p.host(u8(3))
    seeds["host-events-failures"] = p
    return seeds


# --- seeds added for issue 14 (coverage): each group a function ---------

VA_TOP = 1 << 64


def ste_s1_ats(cd_ptr, eats=1, **kw):
    ste = ste_s1(cd_ptr, **kw)
    ste[1] |= eats << 28
    return ste


def cd_gran(ttb0, tg0=0, tsz=25, ttb1=0, tg1=2, t1sz=25, epd0=0, epd1=1,
            ips=5, extra=0):
    """A CD with both halves' granules chosen: TG0 0 4K, 1 64K, 2 16K;
    TG1 1 16K, 2 4K, 3 64K"""
    w0 = (tsz | tg0 << 6 | 1 << 8 | 1 << 10 | 3 << 12 | epd0 << 14 |
          t1sz << 16 | tg1 << 22 | 1 << 24 | 1 << 26 | 3 << 28 | epd1 << 30 |
          1 << 31 | ips << 32 | 1 << 41 | 1 << 45 | 1 << 46 | ASID << 48)
    return [w0 | extra, ttb0, ttb1, 0xff, 0, 0, 0, 0]


def pt_build(p, gran, tsz, iova, pa, pages, tables, write=True):
    """Tables for @pages pages of 1 << @gran bytes at @iova -> @pa; the
    tables at region offsets @tables[0..] (one per level, aligned);
    returns the address of the top-level table"""
    bits = gran - 3
    levels = -(-(64 - tsz - gran) // bits)
    top = REGION + tables[0]
    for i in range(levels):
        lvl = 4 - levels + i
        shift = gran + (3 - lvl) * bits
        idx = (iova >> shift) & ((1 << bits) - 1)
        if i < levels - 1:
            p.words(tables[i] + idx * 8, [(REGION + tables[i + 1]) | 3])
        else:
            p.words(tables[i] + idx * 8,
                    [pte_page(pa + (n << gran), write) for n in range(pages)])
    return top


def s1_gran_stream(p, sid, cd):
    p.words(CD, cd)
    p.words(ste_at(sid, "linear"), ste_s1(REGION + CD))
    p.cmds([cfgi_ste(sid), sync()])


def granule_seeds(sid=TESTDEV_SID):
    """Stage 1 with each granule, both halves of the address space"""
    seeds = {}
    buf = REGION + BUF
    for name, gran, tg0, tables in (
            ("16k", 14, 2, (0x44000, 0x48000, 0x4c000)),
            ("64k", 16, 1, (0x50000, 0x60000))):
        p = Prog()
        strtab_linear(p)
        bringup(p)
        top = pt_build(p, gran, 25, IOVA, buf, 2, tables)
        s1_gran_stream(p, sid, cd_gran(top, tg0=tg0))
        p.mem(BUF, bytes(range(256)) * 4)
        p.dma(0, src=IOVA, dst=IOVA + 0x800, length=0x400)
        p.dma(2, src=IOVA, length=2 << gran, stride=1 << (gran - 2), it=1)
        p.dma(0, src=IOVA + (4 << gran), dst=IOVA, length=8)    # fault
        va = tlbi_nh_va(ASID, IOVA, num=1, tg=1 if gran == 12 else
                        (2 if gran == 14 else 3), ttl=3)
        p.cmds([va, sync()])
        p.dma(0, src=IOVA, dst=IOVA + 0x800, length=0x10)
        p.irq(3)
        seeds["s1-granule-" + name] = p

    # TTB1: the upper half (T1SZ = 25), 4K and 16K; TTB0 disabled (EPD0)
    for name, gran, tg1, tables in (
            ("4k", 12, 2, (0x40000, 0x41000, 0x42000)),
            ("16k", 14, 1, (0x44000, 0x48000, 0x4c000))):
        p = Prog()
        strtab_linear(p)
        bringup(p)
        hi = VA_TOP - (1 << 39) + IOVA
        top = pt_build(p, gran, 25, hi, buf, 2, tables)
        s1_gran_stream(p, sid, cd_gran(0, ttb1=top, tg1=tg1, epd0=1, epd1=0))
        p.dma(0, src=hi, dst=hi + 0x100, length=0x100)
        p.dma(0, src=IOVA, dst=IOVA, length=8)        # TTB0 half: disabled
        p.irq(3)
        seeds["s1-ttb1-" + name] = p

    # read-only page: a read caches it, a write then faults on the hit
    p = Prog()
    strtab_linear(p)
    bringup(p)
    s1_stream(p, sid, write=False)
    p.dma(2, src=IOVA, length=0x10, stride=8, it=1)
    p.dma(1, dst=IOVA, length=0x10, pattern=1)
    p.dma(2, src=IOVA, length=0x10, stride=8, it=1)
    p.irq(3)
    seeds["s1-readonly-write"] = p
    return seeds


def config_variant_seeds(sid=TESTDEV_SID):
    """STE and CD encodings one by one: valid ones with substreams, and
    each architected configuration fault"""
    seeds = {}
    cd = cd_4k(REGION + PT_L1)
    l1cd = CD + 0x1000          # level-1 CD table; level 2 at CD
    stes = [
        ste_s1(REGION + CD, s1fmt=0, cdmax=1, s1dss=2),     # linear CD table
        ste_s1(REGION + l1cd, s1fmt=1, cdmax=7, s1dss=2),   # 2-level, 4K
        ste_s1(REGION + l1cd, s1fmt=2, cdmax=12, s1dss=2),  # 2-level, 64K
        ste_s1(0x80000000, s1fmt=1, cdmax=7, s1dss=2),      # L1 not RAM
        ste_s1(REGION + CD, s1fmt=3, cdmax=1),              # reserved S1Fmt
        ste_s1(REGION + CD, cdmax=17),                      # > SSIDSIZE
        ste_s1(REGION + CD, cdmax=1, s1dss=0),              # terminate
        ste_s1(REGION + CD, cdmax=1, s1dss=1),              # bypass
        ste_s1(REGION + CD, cdmax=1, s1dss=3),              # reserved
        ste_s1(1 << 50),                                    # ptr > OAS
        ste_s1_ats(REGION + CD, eats=2),                    # needs S2
        [w | (1 << 30 if i == 1 else 0)                     # STRW
         for i, w in enumerate(ste_s1(REGION + CD))],
        [1 | 6 << 1] + [0] * 7,                             # stage 2
    ]
    cds = [
        cd_4k(REGION + PT_L1, extra=1 << 44),               # CD.S
        [cd[0] & ~(1 << 46)] + cd[1:],                      # CD.A = 0
        cd_4k(REGION + PT_L1, extra=1 << 43),               # HA
        cd_4k(REGION + PT_L1, extra=1 << 42),               # HD
        cd_4k(REGION + PT_L1, extra=1 << 15),               # ENDI
        [cd[0] & ~(1 << 41)] + cd[1:],                      # AArch32
        [cd[0] & ~(1 << 31)] + cd[1:],                      # V = 0
        cd_gran(REGION + PT_L1, tg0=3),                     # reserved TG0
        cd_gran(REGION + PT_L1, epd1=0, tg1=0),             # reserved TG1
        cd_4k(REGION + PT_L1, tsz=12),                      # T0SZ < 16
        cd_gran(REGION + PT_L1, epd0=1, tsz=60),            # EPD0, clamped
        cd_gran(0x100000000, ips=0),                        # TTB0 > OAS
    ]

    p = Prog()
    strtab_linear(p)
    bringup(p, evtq_log2=8)
    pgtable(p)
    p.words(CD, cd)
    p.words(l1cd, [(REGION + CD) | 1])
    for ste in stes:
        p.words(ste_at(sid, "linear"), ste)
        p.cmds([cfgi_all(), sync()])
        p.dma(0, src=IOVA, dst=IOVA + 0x1000, length=8)
    p.irq(3)
    seeds["ste-variants"] = p

    p = Prog()
    strtab_linear(p)
    bringup(p, evtq_log2=8)
    pgtable(p)
    p.words(ste_at(sid, "linear"), ste_s1(REGION + CD))
    for c in cds:
        p.words(CD, c)
        p.cmds([cfgi_cd(sid), sync()])
        p.dma(0, src=IOVA, dst=IOVA + 0x1000, length=8)
    p.words(l1cd, [0])                  # invalid L1CD: C_BAD_SUBSTREAMID
    p.words(CD, cd)
    p.words(ste_at(sid, "linear"), ste_s1(REGION + l1cd, s1fmt=2, cdmax=12,
                                         s1dss=2))
    p.cmds([cmd(0x06, sid << 32), sync()])          # CFGI_CD_ALL
    p.dma(0, src=IOVA, dst=IOVA + 0x1000, length=8)
    p.irq(3)
    seeds["cd-variants"] = p
    return seeds


def tlbi_range_seeds(sid=TESTDEV_SID):
    """Range TLBIs that split in pieces, or are widened, with the IOTLB
    full of entries; CFGI ranges"""
    p = Prog()
    strtab_linear(p)
    bringup(p)
    s1_stream(p, sid)
    p.dma(2, src=IOVA, length=0x10000, stride=0x1000, it=1)
    p.cmds([tlbi_nh_va(ASID, IOVA + 0x1000, num=2, tg=1),       # 3 pages
            tlbi_nh_va(ASID, IOVA, num=31, scale=4, tg=1),       # widened
            tlbi_nh_vaa(IOVA + 0x3000, leaf=0),
            cmd(0x13, 0, 1 | 1 << 10 | ((VA_TOP - 0x1000) & ~0xfff)),
            sync()])
    p.dma(2, src=IOVA, length=0x10000, stride=0x1000, it=1)
    p.cmds([cmd(0x13, 31 << 12 | 31 << 20, 1 << 10 | (IOVA & ~0xfff)),
            cmd(0x12, ASID << 48 | 5 << 12 | 2 << 20,
                2 << 10 | 2 << 8 | IOVA),                         # 16K, TTL
            cmd(0x03, sid << 32, 0),                              # non-leaf
            cmd(0x04, sid << 32, 4),                              # STE range
            cmd(0x40, ATS_SID << 32, 52),                         # ATC all
            cmd(0x40, ATS_SID << 32, 3 | IOVA + 0x5000),          # 8 pages
            sync()])
    p.dma(0, src=IOVA, dst=IOVA + 0x1000, length=0x100)
    return {"tlbi-ranges": p}


def ats_seeds():
    """The ATS endpoint (SID 0xf0): Translation Requests, its ATC, ATC_INV
    reaching it, and each way the vsmmu refuses a request"""
    seeds = {}
    sid = ATS_SID

    p = Prog()
    strtab_linear(p)
    bringup(p)
    pgtable(p)
    p.words(CD, cd_4k(REGION + PT_L1))
    p.words(ste_at(sid, "linear"), ste_s1_ats(REGION + CD))
    p.cmds([cfgi_ste(sid), sync()])
    p.mem(BUF, bytes(range(256)))
    p.ats(0)                                    # ATS on: the ATC listens
    p.ats(2, IOVA, 0x4000)
    p.ats(3, IOVA + 0x10)                       # hit
    p.ats(2, IOVA + 0x7000, 0x3000, flags=1)    # no write
    p.ats(2, IOVA + 0xe000, 0x10000)            # faults, then too long
    p.cmds([atc_inv(sid, IOVA, 2), sync()])
    p.cmds([atc_inv(sid, 0, 52), sync()])
    p.ats(3, IOVA + 0x20)                       # miss: requested again
    p.ats(2, VA_TOP - 0x2000, 0x10000)          # runs past the top
    p.ats(5, IOVA, 0x1000)                      # with a PASID
    p.ats(6)
    p.ats(4)
    p.ats(7, length=0x8000 | 3)
    p.ats(1)
    p.irq(3)
    seeds["ats-translate"] = p

    p = Prog()
    p.ats(0)
    p.ats(2, IOVA, 0x1000)                      # SMMU disabled: UR
    strtab_linear(p)
    bringup(p)
    p.ats(2, IOVA, 0x1000)                      # STE.V = 0: CA
    for ste in (ste_abort(), ste_bypass(), ste_s1(REGION + CD),
                ste_s1_ats(REGION + CD, eats=2)):
        p.words(ste_at(sid, "linear"), ste)
        p.words(CD, cd_4k(REGION + PT_L1))
        p.cmds([cfgi_ste(sid), sync()])
        p.ats(2, IOVA, 0x1000)
    # a walk that aborts: the table is not RAM
    p.words(CD, cd_4k(0x80000000))
    p.words(ste_at(sid, "linear"), ste_s1_ats(REGION + CD))
    p.cmds([cfgi_all(), sync()])
    p.ats(2, IOVA, 0x1000)
    p.ats(3, IOVA)
    p.irq(3)
    seeds["ats-refusals"] = p
    return seeds


def notifier_seeds(ats=True):
    """IOMMU notifiers (vhost's UNMAP, an ATC's DEVIOTLB) hearing TLBIs
    and ATC_INVs; a MAP notifier refused"""
    sid = TESTDEV_SID
    p = Prog()
    strtab_linear(p)
    bringup(p)
    s1_stream(p, sid)
    p.notifier(0)
    p.notifier(4, IOVA, IOVA + 0xfffff)
    p.notifier(8 | 1)
    p.notifier(12 | 2)
    p.dma(0, src=IOVA, dst=IOVA + 0x1000, length=0x100)
    p.cmds([tlbi_nh_va(ASID, IOVA), tlbi_nh_va(ASID, IOVA + 0x1000, num=2,
                                               tg=1),
            tlbi_nh_va(ASID, IOVA + 0x1000, num=30, scale=3, tg=1),
            tlbi_nh_vaa(IOVA), tlbi_nh_asid(ASID), tlbi_nh_asid(9),
            tlbi_nh_all(), sync()])
    if ats:
        p.cmds([atc_inv(sid, IOVA, 3), sync()])
    p.notifier(3)
    p.notifier(0x40 | 1)
    p.notifier(0x40 | 4)
    if ats:
        p.cmds([atc_inv(ATS_SID, IOVA, 0), atc_inv(ATS_SID, 0, 52), sync()])
    p.cmds([tlbi_nsnh_all(), sync()])
    p.reset(0)
    return {"notifiers": p}


def event_seeds(sid=TESTDEV_SID):
    """Events from a thread without the BQL (the FIFO overflows), an event
    queue that is not RAM, MSIs that abort"""
    seeds = {}
    p = Prog()
    strtab_linear(p)
    bringup(p, evtq_log2=8)
    s1_stream(p, sid)
    p.dma_thread(16, IOVA, 0x1000)                      # hits
    p.dma_thread(200, IOVA + 0x100000, 0x1000)          # faults: > FIFO
    p.dma_thread(8, IOVA, 0x1000, write=True)
    p.dma_thread(4, IOVA, 8, ats=True)
    p.r(EVENTQ_PROD1)
    p.irq(3)
    p.dma_thread(100, IOVA + 0x100000, 8)
    p.irq(3)
    seeds["events-off-bql"] = p

    p = Prog()
    p.dma_thread(8, REGION + BUF, 8, write=True)        # bypass
    strtab_linear(p)
    bringup(p, evtq_log2=8)
    p.w(EVENTQ_IRQ_CFG0, 0x80000000, 8)                 # aborts
    p.w(GERROR_IRQ_CFG0, 0x80000000, 8)
    p.dma(0, src=IOVA, dst=IOVA, length=8)              # C_BAD_STE
    p.r(GERROR)
    p.irq(1)
    p.w(CR0, CR0_CMDQEN)
    p.w(EVENTQ_BASE, 0x80000000 | 6, 8)                 # not RAM
    p.w(CR0, CR0_CMDQEN | CR0_EVENTQEN | CR0_SMMUEN)
    p.dma(0, src=IOVA, dst=IOVA, length=8)
    p.r(GERROR)
    p.irq(7)
    p.r(0x70)
    p.r(0x74)
    p.r(0xb8)
    p.r(0xfd0)
    p.r(0xfe0, 8)
    seeds["events-aborts"] = p
    return seeds


def migrate_seeds(sid=TESTDEV_SID):
    """The vsmmu's state saved and loaded back: as is, with the VM stopped,
    with bytes flipped (masked fields, or a stream refused)"""
    p = Prog()
    strtab_linear(p)
    bringup(p)
    s1_stream(p, sid)
    p.dma(0, src=IOVA, dst=IOVA + 0x1000, length=0x100)
    p.migrate(0)
    p.dma(0, src=IOVA, dst=IOVA + 0x1000, length=0x100)
    p.pattern(CMDQ, 200, 8, 16, u64(tlbi_nh_va(ASID, IOVA)[0]) +
              u64(IOVA | 1))
    p.w(CMDQ_PROD, 200)
    p.migrate(1)
    p.migrate(0, [(0, 0xf0), (4, 0xff), (8, 0xff), (16, 0xff),
                  (20, 0x02), (24, 0xff), (52, 0x07), (64, 0xff),
                  (76, 0x80), (88, 0xff), (96, 0x80)])
    p.r(CR0)
    # one field too wide at a time (the stream: docs/testing.md):
    # GERROR_IRQ_CFG0, CMDQ_PROD, EVENTQ_CONS
    p.migrate(0, [(28, 0xff)])
    p.migrate(0, [(64, 0x80)])
    p.migrate(0, [(84, 0x40)])
    p.migrate(0, [(104, 0x05)])         # a subsection that is not: refused
    p.info()
    p.dma(0, src=IOVA, dst=IOVA + 0x1000, length=0x100)
    return {"migrate": p}


def vcmdq_region(q):
    return VCMDQ0 + q * 0x400


def lvcmdq_up(p, q, v=0, lq=0, status=False):
    """Global VCMDQ q allocated to VINTF v's logical queue lq, programmed
    through the VINTF's logical pages (with status: then STATUS read)"""
    p.w(CMDQV_CMDQ_ALLOC + 4 * q, 1 | lq << 1 | v << 15, page=1)
    pg0 = 0x30000 + 0x20000 * v + STRIDE * lq
    p.w(pg0 + 0x10000, queue_base(vcmdq_region(q), 6) & ~RA, 8, page=1)
    p.w(pg0 + VCMDQ_CONFIG, 1, page=1)
    if status:
        p.r(pg0 + 0xc, page=1)


def host_up(p, hyp_own=(0,)):
    """The host side: CMDQV_EN, each VINTF on (VMID 10 + v), global VCMDQ
    q = 2 v + l allocated to VINTF v's logical queue l, programmed through
    the VINTF's logical pages"""
    p.w(CMDQV_CONFIG, 1, page=1)
    for v in range(HOST_VINTFS):
        p.w(VINTF0 + 0x100 * v, 1 | (10 + v) << 1 |
            (1 << 17 if v in hyp_own else 0), page=1)
        p.r(VINTF0 + 0x100 * v, page=1)
    for q in range(2 * HOST_VINTFS):
        lvcmdq_up(p, q, *divmod(q, 2))


def cmdqv_host_seeds():
    """vsmmu-cmdqv-host: four VINTFs, HYP_OWN and guest-owned ones, their
    command sets, SID replacement, errors per VINTF, masks, resume"""
    seeds = {}
    sid = TESTDEV_SID

    p = Prog()
    strtab_linear(p)
    bringup(p)
    s1_stream(p, sid)
    host_up(p)
    p.dma(0, src=IOVA, dst=IOVA + 0x1000, length=0x100)
    # VINTF0, HYP_OWN: anything, as written (queue 1 = global VCMDQ 0)
    p.cmds([cfgi_all(), tlbi_nh_all(), tlbi_nh_va(ASID, IOVA),
            sync(REGION + MSI_SLOT, 7)], queue=1)
    # VINTF1, guest-owned: TLBIs get its VMID; ATC_INV needs a SID_MATCH
    p.w(VINTF0 + 0x100 + 0x40, 1 | 0x42 << 1, page=1)
    p.w(VINTF0 + 0x100 + 0x80, ATS_SID, page=1)
    p.cmds([tlbi_nh_asid(ASID), tlbi_nh_va(ASID, IOVA), atc_inv(0x42, IOVA),
            sync(REGION + MSI_SLOT, 9)], queue=3)
    p.cmds([atc_inv(0x43, IOVA), sync()], queue=3)          # no match
    p.cmds([cfgi_all(), sync()], queue=5 | 0x80)            # VINTF2: ILL
    p.w(0x1c, 1 << 3, 4, page=1)                            # mask VINTF3
    p.cmds([prefetch_config(sid), sync()], queue=7)         # VINTF3: ILL
    p.r(0x14, 8, page=1)
    p.r(0x24, 4, page=1)
    p.r(0x28, 4, page=1)
    for v in range(HOST_VINTFS):
        p.r(VINTF0 + 0x100 * v + 0xc0, 8, page=1)
        p.r(VINTF0 + 0x100 * v + 4, page=1)
    p.irq(8)
    p.cmds([sync()], queue=5)
    p.info()
    p.migrate(1)
    p.cmds([tlbi_nh_asid(ASID), sync()], queue=2 | 0x80)
    seeds["host-vintfs"] = p

    p = Prog()
    strtab_linear(p)
    bringup(p)
    host_up(p, hyp_own=(1, 3))
    # VINTF1 LVCMDQ 0 is VCMDQ 2's: a second one is refused; a VINTF or
    # logical queue that does not exist too
    p.w(CMDQV_CMDQ_ALLOC + 4 * 4, 1 | 0 << 1 | 1 << 15, page=1)
    p.w(CMDQV_CMDQ_ALLOC + 4 * 5, 1 | 0 << 1 | 9 << 15, page=1)
    p.w(CMDQV_CMDQ_ALLOC + 4 * 6, 1 | 5 << 1 | 2 << 15, page=1)
    p.r(CMDQV_CMDQ_ALLOC + 4 * 4, page=1)
    for off in (0x0, 0x4, 0x8, 0x14, 0x18, 0x1c, 0x20, 0x24, 0x2c):
        p.r(off, page=1)
    p.r(VINTF0 + 0x100 + 0x40, page=1)
    p.r(VINTF0 + 0x100 + 0x80, page=1)
    # pages through both views, a logical queue with nothing behind
    p.r(VCMDQ_PAGE0 + STRIDE * 2, 8, page=1)
    p.r(VCMDQ_PAGE1 + STRIDE * 2, 8, page=1)
    p.r(0x70000 + STRIDE * 1, 8, page=1)
    p.r(0x70000 + 0x10000 + STRIDE * 1 + 4, 4, page=1)
    p.w(0x90000 + STRIDE * 1 + VCMDQ_PROD, 1, page=1)       # VINTF3 l1
    p.w(0x30000 + STRIDE * 1 + VCMDQ_CONS, 0, page=1)       # enabled: no
    p.w(0x50000 + 0x10000 + STRIDE * 1 + 8, 0x1234, 4, page=1)
    # VINTFs off and on again, CMDQV_EN off and on: queues resume
    p.cmds([tlbi_nh_all()] * 3, queue=3)
    p.w(VINTF0 + 0x100, 0, page=1)
    p.cmds([tlbi_nh_all(), sync()], queue=3)
    p.w(VINTF0 + 0x100, 1 | 11 << 1 | 1 << 17, page=1)
    p.w(CMDQV_CONFIG, 0, page=1)
    p.cmds([sync()], queue=8)
    p.w(CMDQV_CONFIG, 1, page=1)
    p.w(CMDQV_CMDQ_ALLOC + 4 * 7, 0, page=1)
    p.w(CMDQV_CMDQ_ALLOC + 4 * 7, 1 | 1 << 1 | 3 << 15, page=1)
    p.info()
    p.reset(0)
    p.info()
    seeds["host-alloc-resume"] = p

    p = Prog()
    strtab_linear(p)
    bringup(p)
    host_up(p)
    for q in (2, 4, 6):
        p.cmds([cmd(0x7f), sync()], queue=q + 1)
    p.r(0x14, 8, page=1)
    p.r(0x24, 4, page=1)
    # the stream (docs/testing.md): the CMDQV subsection's VCMDQ q at
    # 265 + 40 q (ALLOC at + 36), the host subsection's cmdqv-vintfs at
    # 5407 and VINTF1's CONFIG at 5411: VCMDQ 3 made VCMDQ 2's twin,
    # VINTF1 with reserved bits
    p.migrate(0, [(424, 0x02), (5411, 0xff), (296, 0xff)])
    p.r(0x14, 8, page=1)
    p.irq(8)
    p.migrate(0, [(5410, 0x01)])        # another cmdqv-vintfs: refused
    seeds["host-errors-migrate"] = p
    return seeds


def cmdqv_extra_seeds():
    """vsmmu-cmdqv: a VCMDQ CMD_SYNC whose MSI aborts; ATS without
    IDR0.ATS; notifiers; migration with VCMDQs"""
    seeds = {}
    p = Prog()
    strtab_linear(p)
    bringup(p)
    p.w(CMDQV_CONFIG, 1, page=1)
    p.w(VINTF0, 1 | 7 << 1, page=1)
    p.w(CMDQV_CMDQ_ALLOC, 1, page=1)
    p.w(VCMDQ_PAGE1, queue_base(VCMDQ0, 6) & ~RA, 8, page=1)
    p.w(VCMDQ_PAGE0 + VCMDQ_CONFIG, 1, page=1)
    p.cmds([sync(0x80000000, 1), tlbi_nh_asid(ASID)], queue=1)
    p.r(VCMDQ_PAGE0 + VCMDQ_GERROR, page=1)
    p.r(0x14, 8, page=1)
    p.r(VINTF0 + 0xc0, 8, page=1)
    p.irq(8)
    p.cmds([sync(REGION + MSI_SLOT, 2)], queue=1)
    p.migrate(1)
    # VCMDQ 1's ALLOC names VINTF1 (none here), VCMDQ 0's GERROR reserved
    p.migrate(0, [(343, 0x80), (296, 0xff)])
    p.info()
    seeds["vcmdq-sync-msi-abort"] = p

    p = Prog()
    p.ats(0)
    p.ats(2, IOVA, 0x1000)
    strtab_linear(p)
    bringup(p)
    p.ats(2, IOVA, 0x1000)
    seeds["ats-without-ats"] = p
    seeds.update({"ats-off-" + k: v for k, v in
                  notifier_seeds(ats=False).items()})
    return seeds


def cmdqv_accel_seeds():
    """vsmmu-cmdqv-accel: the guest's VCMDQs backed by host queues (their
    page mapped into the guest), host CMDQV errors, and the guest's view
    of the CMDQV seeds with the assigned function's StreamID"""
    seeds = {}
    for name, prog in cmdqv_seeds(ACCEL_SID).items():
        if not name.startswith("smmu-"):
            seeds[name] = prog

    # two VCMDQs through VINTF0's logical pages (as Linux does), commands
    # on both, a host error on LVCMDQ 1, the guest's error handler
    p = Prog()
    strtab_linear(p)
    bringup(p)
    s1_stream(p, ACCEL_SID)
    p.w(CMDQV_CONFIG, 1, page=1)
    p.w(VINTF0, 1, page=1)
    p.r(VINTF0 + 0x4, page=1)
    for lq in (0, 1):
        lvcmdq_up(p, lq, 0, lq, status=True)
    p.dma(0, src=IOVA, dst=IOVA + 0x1000, length=0x100)
    p.cmds([tlbi_nh_va(ASID, IOVA), sync()], queue=1)
    p.cmds([tlbi_nh_asid(ASID), sync()], queue=2)
    p.host_cmdqv(1)
    p.r(0x30000 + VCMDQ_CONS, page=1)
    p.host_cmdqv(0, 1)
    p.irq(9)
    p.r(0x30000 + STRIDE + VCMDQ_GERROR, page=1)
    p.cmds([sync()], queue=2)
    p.host_cmdqv(1)
    # the guest takes the queues down and the CMDQV off
    p.w(0x30000 + VCMDQ_CONFIG, 0, page=1)
    p.w(VINTF0, 0, page=1)
    p.w(CMDQV_CONFIG, 0, page=1)
    p.dma(0, src=IOVA, dst=IOVA + 0x1000, length=0x100)
    seeds["vintf-logical-host-error"] = p

    # host failures while the queues come up: the HW queue, the mmap of
    # the VINTF page, the destroy, the invalidation (SIMHOST_K_*)
    for kind in (0, 13, 20, 32):
        p = Prog()
        strtab_linear(p)
        bringup(p)
        p.host(u8(0) + u8(kind) + u8(0) + u8(1))
        p.w(CMDQV_CONFIG, 1, page=1)
        p.w(VINTF0, 1, page=1)
        lvcmdq_up(p, 0, status=True)
        p.cmds([tlbi_nh_all(), sync()], queue=1)
        p.host_cmdqv(1)
        p.irq(9)
        seeds["host-fail-kind%d" % kind] = p
    return seeds


def main():
    out = sys.argv[1]
    emu = emu_seeds()
    for extra in (granule_seeds(), config_variant_seeds(), tlbi_range_seeds(),
                  ats_seeds(), notifier_seeds(), event_seeds(),
                  migrate_seeds()):
        emu.update(extra)
    cmdqv = cmdqv_seeds()
    cmdqv.update(cmdqv_extra_seeds())
    host = cmdqv_host_seeds()
    for name, prog in emu_seeds().items():
        if name in ("s1-linear", "sync-msi-cerror"):
            host["smmu-" + name] = prog
    for target, seeds in (("vsmmu-emu", emu),
                          ("vsmmu-nested", nested_seeds()),
                          ("vsmmu-cmdqv", cmdqv),
                          ("vsmmu-cmdqv-host", host),
                          ("vsmmu-accel", accel_seeds()),
                          ("vsmmu-cmdqv-accel", cmdqv_accel_seeds())):
        d = os.path.join(out, target)
        os.makedirs(d, exist_ok=True)
        for name, prog in seeds.items():
            with open(os.path.join(d, "seed-" + name), "wb") as f:
                f.write(prog.bytes())


if __name__ == "__main__":
    main()
