/*
 * libFuzzer targets for the vsmmu (docs/testing.md, "Fuzzing")
 *
 *   vsmmu-emu     virt + vsmmu (emulated, ats=on, msi-window=on) +
 *                 vsmmu-dma-testdev + vsmmu-ats-testdev
 *   vsmmu-nested  virt + vsmmu stage=nested + vsmmu-dma-testdev: stage-2
 *                 and nested STEs, the stage-2 TLBIs, VMID-tagged stage-1
 *                 ones
 *   vsmmu-cmdqv   cmdqv=on (the guest's view): CMDQV config, VINTF and VCMDQ
 *                 pages; no ATS
 *   vsmmu-cmdqv-host  cmdqv=on with cmdqv-vintfs=4 (the guest is the host:
 *                 four VINTFs and their logical pages), ats=on,
 *                 msi-window=off
 *   vsmmu-accel   accel=on against the simulated host (tests/simhost,
 *                 LD_PRELOAD into this very process) with one assigned
 *                 device; the input may also inject host failures and
 *                 raise host events (vEVENTQ records)
 *
 * The input is a program: operations separated by "FUZZ", each an opcode
 * byte followed by its operands (little-endian; missing bytes read as
 * zero), as in QEMU's generic-fuzz, so that the fuzzer's insertions and
 * deletions break one operation, not the rest. Guest memory writes are
 * confined to one 1 MiB region of RAM (VSMMU_FUZZ_REGION) where the seeds
 * put the stream table, the queues, the CDs and the page tables. Between
 * inputs the machine is reset and every page of guest RAM the input wrote
 * is copied back from a snapshot (vsmmu-fuzz-restore.c), so each
 * input starts from the same state.
 *
 * tests/fuzz/gen-seeds.py writes the seed programs with the same encoding.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/main-loop.h"
#include "qemu/bswap.h"
#include "qemu/rcu.h"
#include "qemu/thread.h"
#include "qom/object.h"
#include "qobject/qobject.h"
#include "qom/qom-qobject.h"
#include "system/memory.h"
#include "system/runstate.h"
#include "hw/boards.h"
#include "hw/qdev-core.h"
#include "hw/sysbus.h"
#include "hw/pci/pci_device.h"
#include "hw/pci/pci_host.h"
#include "io/channel-buffer.h"
#include "migration/vmstate.h"
#include "migration/qemu-file.h"
#include "tests/qtest/libqtest.h"
#include "tests/qtest/libqos/pci.h"
#include "tests/qtest/libqos/generic-pcihost.h"
#include "tests/qtest/libqos/libqos-malloc.h"
#include "tests/qtest/fuzz/fuzz.h"
#include "standard-headers/linux/pci_regs.h"
#include "hw/registerfields.h"
#include "hw/arm/vsmmu/regs.h"
#include "hw/arm/vsmmu/cmdqv-regs.h"
#include "hw/arm/vsmmu/dma-testdev.h"
#include "hw/arm/vsmmu/ats-testdev.h"
#include "hw/arm/vsmmu/vsmmu.h"
#include "vsmmu-fuzz.h"

/* ---------------------------------------------------------------------- */
/* The machine                                                             */
/* ---------------------------------------------------------------------- */

#define FUZZ_MACHINE  "-machine virt,accel=qtest -cpu max -nodefaults " \
                      "-display none -m 64M "
#define FUZZ_TESTDEV  "-device vsmmu-dma-testdev,addr=1d.0 "
/* the ATS endpoint (SID 0xf0): Translation Requests, its ATC, ATC_INV */
#define FUZZ_ATS_TESTDEV "-device vsmmu-ats-testdev,addr=1e.0 "
#define FUZZ_HOST_VINTFS 4          /* vsmmu-cmdqv-host: cmdqv-vintfs */

/* Guest RAM at 0x40000000; the fuzzed tables and queues live here */
#define VSMMU_FUZZ_REGION       0x40100000ULL
#define VSMMU_FUZZ_REGION_SIZE  0x100000ULL

/* Per operation: bounded so that no valid input runs for long */
#define FUZZ_MEM_MAX            4096        /* bytes of one MEM_WRITE */
#define FUZZ_PATTERN_MAX        1024        /* copies of one MEM_PATTERN */
#define FUZZ_CMDS_MAX           64          /* commands of one CMDQ op */
#define FUZZ_DMA_MAX            0x10000     /* bytes of one DMA */
#define FUZZ_SWEEP_ACCESSES     4096        /* reads of one READ_SWEEP */
/*
 * DMA accesses of one input: 1024, no longer 4096. Inputs that used the
 * whole budget spent two fifths of the time in repeated translations
 * (uTLB hits, one fault after another); past the uTLB's 64 entries and
 * the smallest queues' sizes more accesses reach no new code. With 1024,
 * coverage after a fixed number of executions stayed the same and the
 * executions per second rose by a sixth (docs/testing.md).
 */
#define FUZZ_INPUT_ACCESSES     1024
#define FUZZ_CLOCK_MAX_NS       10000000    /* 10 ms of virtual time */
#define FUZZ_THREAD_ACCESSES    255         /* accesses of one DMA_THREAD */
#define FUZZ_NOTIFIERS          4           /* harness IOMMU notifiers */
#define FUZZ_MIGRATE_EDITS      64          /* stream bytes one op may flip */
#define VIRT_FLASH_END          0x08000000  /* virt: two 64 MiB flashes */

#define SEPARATOR               "FUZZ"

enum {
    OP_MMIO_READ,       /* u8 page, u8 size, u32 offset */
    OP_MMIO_WRITE,      /* u8 page, u8 size, u32 offset, u64 value */
    OP_MEM_WRITE,       /* u32 offset in the region, data... */
    OP_MEM_PATTERN,     /* u32 offset, u16 count, u8 at, u8 step, data... */
    OP_CMDQ,            /* u8 queue (0: CMDQ, n: VCMDQ n - 1), commands... */
    /* u8 op, u8 pattern, u64 src, u64 dst, u32 len, u16 stride, u8 iter */
    OP_DMA,
    OP_IRQ,             /* u8 what: the driver's interrupt handlers */
    OP_RESET,           /* u8 kind: 0 the vsmmu, 1 the machine */
    OP_CLOCK,           /* u32 ns */
    OP_HOST,            /* vsmmu-accel: u8 what, operands (vsmmu-fuzz-host.c) */
    OP__MAX,
};

/*
 * Operations added later have opcode bytes 0xf0-0xf7, which no input of
 * the committed corpus used as an opcode (those read as opcode % OP__MAX
 * above): every committed input keeps its meaning. 0xf6-0xf7 do nothing.
 */
#define OPX_BASE                0xf0
#define OPX_MASK                0xf8
enum {
    OPX_ATS,            /* u8 what, u64 addr, u64 len, u8 flags */
    OPX_MIGRATE,        /* u8 flags, (u16 offset, u8 xor)... */
    OPX_NOTIFIER,       /* u8 what, u64 start, u64 end */
    OPX_DMA_THREAD,     /* u8 count, u8 flags, u64 iova, u16 stride */
    OPX_INFO,           /* (none) */
    OPX_HOST_CMDQV,     /* u8 what, u8 lvcmdq (see vsmmu-fuzz-host.c) */
    OPX__MAX,
};

typedef struct FuzzPage {
    uint64_t base;
    uint64_t size;
} FuzzPage;

typedef enum FuzzKind {
    FUZZ_EMU,
    FUZZ_CMDQV,
    FUZZ_ACCEL,
    FUZZ_CMDQV_HOST,
    FUZZ_CMDQV_ACCEL,
} FuzzKind;

static FuzzKind fuzz_kind;
static Object *vsmmu_obj;
static FuzzPage pages[2];           /* SMMU pages 0-1, CMDQV window */
static unsigned num_pages;
static unsigned cmdqv_vintfs;       /* CMDQV targets: VINTFs */
static unsigned cmdqv_vcmdqs;       /* and global VCMDQs (2 per VINTF) */
static QGenericPCIBus pcibus;
static QGuestAllocator pci_alloc;
static QPCIDevice *dma_dev;         /* testdev, or the simulated function */
static uint64_t dma_bar;            /* its BAR0 address */
static uint32_t dma_bar_reg;        /* and what config space holds for it */
static uint64_t dma_budget;         /* DMA accesses left for this input */
static PCIDevice *dma_pdev;         /* the DMA testdev (emulated targets) */
static PCIDevice *ats_pdev;         /* the ATS testdev (emulated targets) */

static bool in_region(uint64_t addr, uint64_t len)
{
    return addr >= VSMMU_FUZZ_REGION && len <= VSMMU_FUZZ_REGION_SIZE &&
           addr - VSMMU_FUZZ_REGION <= VSMMU_FUZZ_REGION_SIZE - len;
}

/* ---------------------------------------------------------------------- */
/* Discovery, once before the first input                                  */
/* ---------------------------------------------------------------------- */

static uint64_t mr_abs_addr(MemoryRegion *mr)
{
    uint64_t a = 0;

    for (; mr; mr = mr->container) {
        a += mr->addr;
    }
    return a;
}

static void dev_found(QPCIDevice *dev, int devfn, void *data)
{
    g_assert_null(dma_dev);
    dma_dev = dev;
}

/* BAR0 and COMMAND as after enumeration: again after every reset */
static void dma_dev_enable(QTestState *s)
{
    qpci_config_writel(dma_dev, PCI_BASE_ADDRESS_0, dma_bar_reg);
    qpci_config_writew(dma_dev, PCI_COMMAND,
                       PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
}

static bool fuzz_is_cmdqv(void)
{
    return fuzz_kind == FUZZ_CMDQV || fuzz_kind == FUZZ_CMDQV_HOST ||
           fuzz_kind == FUZZ_CMDQV_ACCEL;
}

/* Against the simulated host, its function the DMA device */
static bool fuzz_is_accel(void)
{
    return fuzz_kind == FUZZ_ACCEL || fuzz_kind == FUZZ_CMDQV_ACCEL;
}

static PCIDevice *find_pci_dev(const char *type)
{
    bool ambiguous = false;
    Object *o = object_resolve_path_type("", type, &ambiguous);

    g_assert(!ambiguous);
    return o ? PCI_DEVICE(o) : NULL;
}

/*
 * The virt board's two flash devices (empty under qtest) leave the memory
 * map. Their command emulation switches the region between ROM and I/O
 * mode at each write, two rebuilds of the memory topology per write: a
 * DMA or MSI the vsmmu translates into the flash window ran for seconds
 * (what op_dma's moving of flash IOVAs could not prevent), and what
 * programmed the flash stayed for the next inputs.
 */
static void flash_unmap(void)
{
    for (int i = 0; i < 2; i++) {
        g_autofree char *path = g_strdup_printf("/machine/virt.flash%d", i);
        Object *flash = object_resolve_path(path, NULL);

        if (flash) {
            memory_region_set_enabled(
                sysbus_mmio_get_region(SYS_BUS_DEVICE(flash), 0), false);
        }
    }
}

static void vsmmu_pre_fuzz(QTestState *s)
{
    SysBusDevice *sbd;
    QPCIBar bar;
    bool ambiguous = false;

    vsmmu_obj = object_resolve_path_type("", "vsmmu", &ambiguous);
    g_assert(vsmmu_obj && !ambiguous);
    sbd = SYS_BUS_DEVICE(vsmmu_obj);
    pages[0].base = mr_abs_addr(sysbus_mmio_get_region(sbd, 0));
    pages[0].size = VSMMU_MMIO_SIZE;
    num_pages = 1;
    if (fuzz_is_cmdqv()) {
        g_assert_cmpint(sbd->num_mmio, >, 1);
        pages[1].base = mr_abs_addr(sysbus_mmio_get_region(sbd, 1));
        pages[1].size = memory_region_size(sysbus_mmio_get_region(sbd, 1));
        num_pages = 2;
        cmdqv_vintfs = fuzz_kind == FUZZ_CMDQV_HOST ? FUZZ_HOST_VINTFS : 1;
        cmdqv_vcmdqs = 2 * cmdqv_vintfs;
        g_assert_cmphex(pages[1].size, ==,
                        CMDQV_MMIO_SIZE_VINTFS(cmdqv_vintfs));
    }
    if (!fuzz_is_accel()) {
        dma_pdev = find_pci_dev(TYPE_VSMMU_DMA_TESTDEV);
        ats_pdev = find_pci_dev(TYPE_VSMMU_ATS_TESTDEV);
        g_assert(dma_pdev && ats_pdev);
    }

    /* libqos below the fuzz region (it allocates nothing here) */
    alloc_init(&pci_alloc, 0, 0x40000000, VSMMU_FUZZ_REGION, 4096);
    qpci_init_generic(&pcibus, s, &pci_alloc, false);
    qpci_device_foreach(&pcibus.bus, VSMMU_DMA_TESTDEV_VENDOR_ID,
                        VSMMU_DMA_TESTDEV_DEVICE_ID, dev_found, NULL);
    g_assert_nonnull(dma_dev);
    qpci_device_enable(dma_dev);
    bar = qpci_iomap(dma_dev, 0, NULL);
    dma_bar = bar.addr;
    dma_bar_reg = qpci_config_readl(dma_dev, PCI_BASE_ADDRESS_0);
    g_assert_cmphex(qtest_readq(s, dma_bar + A_TESTDEV_ID), ==,
                    VSMMU_DMA_TESTDEV_ID);

    if (!fuzz_is_accel()) {
        vsmmu_fuzz_config_checks(vsmmu_obj);
    }
    flash_unmap();
    vsmmu_fuzz_restore_init(s, dma_dev_enable);
}

/* ---------------------------------------------------------------------- */
/* Operations                                                              */
/* ---------------------------------------------------------------------- */

static uint64_t page_addr(Rd *r, unsigned *size)
{
    unsigned page = rd(r, 1) % num_pages;
    unsigned sz = 1u << (rd(r, 1) & 3);
    uint64_t off = rd(r, 4) % pages[page].size;

    *size = sz;
    return pages[page].base + off;
}

static void op_mmio_read(QTestState *s, Rd *r)
{
    unsigned size;
    uint64_t addr = page_addr(r, &size);

    switch (size) {
    case 1:
        qtest_readb(s, addr);
        break;
    case 2:
        qtest_readw(s, addr);
        break;
    case 4:
        qtest_readl(s, addr);
        break;
    default:
        qtest_readq(s, addr);
        break;
    }
}

static void op_mmio_write(QTestState *s, Rd *r)
{
    unsigned size;
    uint64_t addr = page_addr(r, &size);
    uint64_t val = rd(r, 8);

    switch (size) {
    case 1:
        qtest_writeb(s, addr, val);
        break;
    case 2:
        qtest_writew(s, addr, val);
        break;
    case 4:
        qtest_writel(s, addr, val);
        break;
    default:
        qtest_writeq(s, addr, val);
        break;
    }
}

static void op_mem_write(QTestState *s, Rd *r)
{
    uint64_t addr = VSMMU_FUZZ_REGION + rd(r, 4) % VSMMU_FUZZ_REGION_SIZE;
    size_t len = MIN(r->len, FUZZ_MEM_MAX);

    len = MIN(len, VSMMU_FUZZ_REGION + VSMMU_FUZZ_REGION_SIZE - addr);
    if (len) {
        qtest_memwrite(s, addr, r->p, len);
    }
}

/*
 * @count copies of the pattern, one after the other, the 32-bit word at
 * byte @at of copy i increased by i * @step: N commands, STEs or PTEs in
 * a few bytes of input.
 */
static void op_mem_pattern(QTestState *s, Rd *r)
{
    uint64_t addr = VSMMU_FUZZ_REGION + rd(r, 4) % VSMMU_FUZZ_REGION_SIZE;
    unsigned count = rd(r, 2) % (FUZZ_PATTERN_MAX + 1);
    unsigned at = rd(r, 1);
    uint32_t step = rd(r, 1);
    size_t plen = MIN(r->len, 256);
    uint64_t end = VSMMU_FUZZ_REGION + VSMMU_FUZZ_REGION_SIZE;
    g_autofree uint8_t *buf = NULL;
    size_t total;

    if (!plen || !count) {
        return;
    }
    total = MIN((uint64_t)plen * count, end - addr);
    buf = g_malloc(total);
    for (size_t i = 0; i < total; i += plen) {
        size_t n = MIN(plen, total - i);

        memcpy(buf + i, r->p, n);
        if (at + 4 <= n) {
            uint32_t w = ldl_le_p(buf + i + at) + (uint32_t)(i / plen) * step;

            stl_le_p(buf + i + at, w);
        }
    }
    qtest_memwrite(s, addr, buf, total);
}

/*
 * Commands at the queue's PROD, then PROD moved past them: what a driver
 * does, wherever the program put the queue. Only into the region.
 */
static void op_cmdq(QTestState *s, Rd *r)
{
    unsigned q = rd(r, 1);
    uint64_t base_reg, base;
    uint64_t prod_addr;
    unsigned log2size;
    uint32_t prod, wrap_mask;
    unsigned n = MIN(r->len / 16, FUZZ_CMDS_MAX);

    if (fuzz_is_cmdqv() && q % (cmdqv_vcmdqs + 1)) {
        /* global VCMDQ g through the global VCMDQ pages */
        unsigned g = q % (cmdqv_vcmdqs + 1) - 1;
        uint64_t p0 = CMDQV_VCMDQ_PAGE0 + g * CMDQV_VCMDQ_STRIDE;
        uint64_t p1 = CMDQV_VCMDQ_PAGE1 + g * CMDQV_VCMDQ_STRIDE;

        /* the host side, bit 7: through its VINTF's logical pages */
        if (fuzz_kind == FUZZ_CMDQV_HOST && (q & 0x80)) {
            uint32_t a = qtest_readl(s, pages[1].base + A_CMDQV_CMDQ_ALLOC +
                                     4 * g);
            unsigned v = FIELD_EX32(a, CMDQV_CMDQ_ALLOC, VINTF);
            unsigned l = FIELD_EX32(a, CMDQV_CMDQ_ALLOC, LVCMDQ);

            if (FIELD_EX32(a, CMDQV_CMDQ_ALLOC, ALLOCATED) &&
                v < cmdqv_vintfs) {
                p0 = CMDQV_VINTF_PAGE0(v) + l * CMDQV_VCMDQ_STRIDE;
                p1 = CMDQV_VINTF_PAGE1(v) + l * CMDQV_VCMDQ_STRIDE;
            }
        }
        base_reg = qtest_readq(s, pages[1].base + p1 + A_VCMDQ_BASE);
        base = FIELD_EX64(base_reg, VCMDQ_BASE, ADDR) << 5;
        log2size = FIELD_EX64(base_reg, VCMDQ_BASE, LOG2SIZE);
        prod_addr = pages[1].base + p0 + A_VCMDQ_PROD;
    } else {
        base_reg = qtest_readq(s, pages[0].base + A_CMDQ_BASE);
        base = FIELD_EX64(base_reg, QUEUE_BASE, ADDR) << 5;
        log2size = FIELD_EX64(base_reg, QUEUE_BASE, LOG2SIZE);
        prod_addr = pages[0].base + A_CMDQ_PROD;
    }
    log2size = MIN(log2size, VSMMU_CMDQS_MAX);
    wrap_mask = (2u << log2size) - 1;
    prod = qtest_readl(s, prod_addr) & wrap_mask;
    for (unsigned i = 0; i < n; i++) {
        uint64_t slot = base + (uint64_t)(prod & ((1u << log2size) - 1)) * 16;

        if (!in_region(slot, 16)) {
            return;
        }
        qtest_memwrite(s, slot, r->p, 16);
        r->p += 16;
        r->len -= 16;
        prod = (prod + 1) & wrap_mask;
    }
    qtest_writel(s, prod_addr, prod);
}

static void op_dma(QTestState *s, Rd *r)
{
    unsigned op = rd(r, 1);
    uint8_t pattern = rd(r, 1);
    uint64_t src = rd(r, 8), dst = rd(r, 8);
    uint64_t len = rd(r, 4);
    uint64_t stride = rd(r, 2);
    uint64_t iter = rd(r, 1);
    uint64_t cmd, cost;

    switch (op % 3) {
    case 0:
        cmd = VSMMU_TESTDEV_CMD_COPY;
        len %= FUZZ_DMA_MAX + 1;
        break;
    case 1:
        cmd = VSMMU_TESTDEV_CMD_FILL;
        len %= FUZZ_DMA_MAX + 1;
        break;
    default:
        cmd = VSMMU_TESTDEV_CMD_READ_SWEEP;
        len %= FUZZ_DMA_MAX + 1;
        stride = MAX(stride, 1);
        iter = MAX(iter % 16, 1);
        /* one 8-byte read per stride: bounded in accesses, not bytes */
        if (DIV_ROUND_UP(len, stride) * iter > FUZZ_SWEEP_ACCESSES) {
            len = stride * (FUZZ_SWEEP_ACCESSES / iter);
        }
        break;
    }
    /*
     * Every access may translate (and fault, and raise an event): one
     * input gets a bounded number, so that no valid program runs for long
     * (a COPY moves 4 KiB pages in 2 accesses each way, see the testdev)
     */
    cost = cmd == VSMMU_TESTDEV_CMD_READ_SWEEP ?
           DIV_ROUND_UP(len, stride) * iter :
           (cmd == VSMMU_TESTDEV_CMD_COPY ? 4 : 2) * DIV_ROUND_UP(len, 4096);
    if (cost > dma_budget) {
        return;
    }
    dma_budget -= cost;
    /* the simulated function raises an MSI on completion with bit 8 */
    if (fuzz_is_accel() && (op & 0x80)) {
        cmd |= 0x100;
    }
    /*
     * Writes into the virt board's flash window [0, 128 MiB) move to RAM,
     * where they mean something (the flash is out of the address map, see
     * flash_unmap()). Reads stay anywhere (IOVA 0 in bypass was the first
     * finding, tests/fuzz/corpus/vsmmu-emu/regressions/gbpa-bypass-iova0).
     */
    if (dst < VIRT_FLASH_END) {
        dst += 0x40000000;
    }
    /* nor wrap around past the end (8: the last read of a sweep) */
    len = MIN(len, MIN(UINT64_MAX - src, UINT64_MAX - dst) & ~7ULL);
    qtest_writeq(s, dma_bar + A_TESTDEV_SRC, src);
    qtest_writeq(s, dma_bar + A_TESTDEV_DST, dst);
    qtest_writeq(s, dma_bar + A_TESTDEV_LEN, len);
    qtest_writeq(s, dma_bar + A_TESTDEV_STRIDE, stride);
    qtest_writeq(s, dma_bar + A_TESTDEV_ITER, iter);
    qtest_writeq(s, dma_bar + A_TESTDEV_PATTERN, pattern);
    qtest_writeq(s, dma_bar + A_TESTDEV_CMD, cmd);
    qtest_readq(s, dma_bar + A_TESTDEV_STATUS);
}

/* What the guest's interrupt handlers do, @what selects which */
static void op_irq(QTestState *s, Rd *r)
{
    unsigned what = rd(r, 1);
    uint64_t b = pages[0].base;

    if (what & 1) {         /* GERROR: acknowledge every active error */
        qtest_writel(s, b + A_GERRORN, qtest_readl(s, b + A_GERROR));
    }
    if (what & 2) {         /* EVENTQ: consume every record, ack overflow */
        uint32_t prod = qtest_readl(s, b + VSMMU_PAGE1_EVENTQ_PROD);

        qtest_writel(s, b + VSMMU_PAGE1_EVENTQ_CONS, prod);
    }
    if (what & 4) {         /* CMDQ_CONS and STATUS polled */
        qtest_readl(s, b + A_CMDQ_CONS);
        qtest_readl(s, b + A_CR0ACK);
        qtest_readl(s, b + A_GBPA);
    }
    if (fuzz_is_cmdqv() && (what & 8)) {
        uint64_t c = pages[1].base;

        /* the CMDQV handler: error maps, each VCMDQ's GERROR acked */
        qtest_readq(s, c + A_CMDQV_VINTF_ERR_MAP);
        for (unsigned v = 0; v < cmdqv_vintfs; v++) {
            qtest_readq(s, c + CMDQV_VINTF_BASE(v) + A_VINTF_LVCMDQ_ERR_MAP);
        }
        for (unsigned q = 0; q < cmdqv_vcmdqs; q++) {
            uint64_t p0 = c + CMDQV_VCMDQ_PAGE0 + q * CMDQV_VCMDQ_STRIDE;

            qtest_writel(s, p0 + A_VCMDQ_GERRORN,
                         qtest_readl(s, p0 + A_VCMDQ_GERROR));
        }
    }
}

static void op_reset(QTestState *s, Rd *r)
{
    if (rd(r, 1) & 1) {
        vsmmu_fuzz_machine_reset(s);
    } else {
        device_cold_reset(DEVICE(vsmmu_obj));
    }
}

static void op_clock(QTestState *s, Rd *r)
{
    /* at least 1 ns: qtest answers FAIL when time does not move */
    qtest_clock_step(s, 1 + rd(r, 4) % FUZZ_CLOCK_MAX_NS);
}

/* ---------------------------------------------------------------------- */
/* Operations 0xf0-0xf4                                                    */
/* ---------------------------------------------------------------------- */

/* A register of the ATS endpoint, on its BAR's region (never mapped) */
static uint64_t atstd_rw(hwaddr reg, bool write, uint64_t val)
{
    MemoryRegion *mr = ats_pdev->io_regions[0].memory;

    if (write) {
        memory_region_dispatch_write(mr, reg, val, MO_64 | MO_LE,
                                     MEMTXATTRS_UNSPECIFIED);
    } else {
        memory_region_dispatch_read(mr, reg, &val, MO_64 | MO_LE,
                                    MEMTXATTRS_UNSPECIFIED);
    }
    return val;
}

static void atstd_config_writew(unsigned off, uint16_t val)
{
    pci_host_config_write_common(ats_pdev, off, pci_config_size(ats_pdev),
                                 val, 2);
}

static void fuzz_notify_nop(IOMMUNotifier *n, IOMMUTLBEntry *e)
{
}

/*
 * The ATS endpoint (vsmmu-ats-testdev, SID 0xf0), what % 8:
 *   0/1: the driver enables (bus mastering, then Control.E with STU =
 *        flags) / disables ATS in the function: its ATC listens to the
 *        vsmmu while ATS is enabled
 *   2: a Translation Request for [addr, addr + len), NO_WRITE = flags bit 0
 *   3: an 8-byte read at addr through its ATC (a request on a miss)
 *   4: its ATC flushed
 *   5: a Translation Request with a PASID (substreams: refused)
 *   6: the IOTLB geometry; a device-IOTLB notifier for a PASID (refused)
 *   7: ATS Control written as len's low 16 bits
 */
static void opx_ats(QTestState *s, Rd *r)
{
    unsigned what = rd(r, 1);
    uint64_t addr = rd(r, 8), len = rd(r, 8);
    unsigned flags = rd(r, 1);
    unsigned ctrl = VSMMU_ATS_TESTDEV_ATS_CAP + PCI_ATS_CTRL;

    if (!ats_pdev) {
        return;
    }
    switch (what % 8) {
    case 0:
        /* what its driver does: bus mastering on, then ATS */
        atstd_config_writew(PCI_COMMAND, PCI_COMMAND_MASTER);
        atstd_config_writew(ctrl, PCI_ATS_CTRL_ENABLE |
                            PCI_ATS_CTRL_STU(flags));
        break;
    case 1:
        atstd_config_writew(ctrl, 0);
        break;
    case 2:
    case 3:
        /* a request walks up to one page per ATC entry */
        if (dma_budget < VSMMU_ATS_TESTDEV_ATC_SIZE) {
            return;
        }
        dma_budget -= VSMMU_ATS_TESTDEV_ATC_SIZE;
        atstd_rw(A_ATSTD_ADDR, true, addr);
        atstd_rw(A_ATSTD_LEN, true, len);
        atstd_rw(A_ATSTD_FLAGS, true, flags & R_ATSTD_FLAGS_NO_WRITE_MASK);
        atstd_rw(A_ATSTD_CMD, true, what % 8 == 2 ? VSMMU_ATSTD_CMD_TRANSLATE :
                                                    VSMMU_ATSTD_CMD_READ);
        atstd_rw(A_ATSTD_STATUS, false, 0);
        break;
    case 4:
        atstd_rw(A_ATSTD_CMD, true, VSMMU_ATSTD_CMD_FLUSH);
        break;
    case 5: {
        IOMMUTLBEntry res[2];
        uint32_t err;

        pci_ats_request_translation(ats_pdev, 1 + flags, false, false, addr,
                                    len, false, res, ARRAY_SIZE(res), &err);
        break;
    }
    case 6: {
        IOMMUNotifier n;
        uint32_t min_page;
        uint8_t width;

        /* what a device sizes its ATC by */
        pci_iommu_get_iotlb_info(ats_pdev, &width, &min_page);
        if (!pci_iommu_init_iotlb_notifier(ats_pdev, &n, fuzz_notify_nop,
                                           NULL) &&
            !pci_iommu_register_iotlb_notifier(ats_pdev, 1 + flags, &n)) {
            pci_iommu_unregister_iotlb_notifier(ats_pdev, 1 + flags, &n);
        }
        break;
    }
    default:
        atstd_config_writew(ctrl, len);
        break;
    }
}

/*
 * Migration of the vsmmu's state (its VMState, subsections included),
 * saved and loaded back in place: flags bit 0 stops the VM around it, as
 * a migration does (queues left mid-way resume when it runs again); then
 * pairs (u16 offset, u8 xor) flip bytes of the stream first, as a
 * compromised source could send it (docs/security.md). A load that fails
 * leaves what a failed incoming migration leaves, a destination that is
 * thrown away: here, the vsmmu is reset.
 */
static void opx_migrate(QTestState *s, Rd *r)
{
    const VMStateDescription *vmsd = DEVICE_GET_CLASS(vsmmu_obj)->vmsd;
    unsigned flags = rd(r, 1);
    bool stop = (flags & 1) && runstate_is_running();
    QIOChannelBuffer *bioc = qio_channel_buffer_new(4096);
    g_autofree uint8_t *stream = NULL;
    size_t len;
    Error *err = NULL;
    QEMUFile *f;
    int ret;

    if (stop) {
        vm_stop(RUN_STATE_PAUSED);
    }
    f = qemu_file_new_output(QIO_CHANNEL(bioc));
    ret = vmstate_save_state(f, vmsd, vsmmu_obj, NULL, &err);
    qemu_put_byte(f, 0);        /* what follows a device: QEMU_VM_EOF */
    qemu_fflush(f);
    g_assert_cmpint(ret, ==, 0);
    len = bioc->usage;
    stream = g_memdup2(bioc->data, len);
    qemu_fclose(f);             /* (closing the channel frees its data) */
    object_unref(OBJECT(bioc));

    for (unsigned i = 0; i < FUZZ_MIGRATE_EDITS && r->len >= 3; i++) {
        unsigned off = rd(r, 2);
        uint8_t x = rd(r, 1);

        stream[off % len] ^= x;
    }
    bioc = qio_channel_buffer_new(len);
    memcpy(bioc->data, stream, len);
    bioc->usage = len;
    f = qemu_file_new_input(QIO_CHANNEL(bioc));
    ret = vmstate_load_state(f, vmsd, vsmmu_obj, vmsd->version_id, &err);
    qemu_fclose(f);
    object_unref(OBJECT(bioc));
    if (ret < 0) {
        error_free(err);
        device_cold_reset(DEVICE(vsmmu_obj));
    }
    if (stop) {
        vm_start();
    }
}

/* IOMMU notifiers the harness registers, as vhost or VFIO would */
typedef struct FuzzNotifier {
    IOMMUNotifier n;
    MemoryRegion *mr;           /* registered on, or NULL */
} FuzzNotifier;

static FuzzNotifier notifiers[FUZZ_NOTIFIERS];
static uint64_t notifier_events;

static void fuzz_notify(IOMMUNotifier *n, IOMMUTLBEntry *e)
{
    /* an invalidation within the notifier's range, never a wrap */
    g_assert(e->iova + e->addr_mask >= e->iova);
    notifier_events++;
}

static void notifier_drop(FuzzNotifier *fn)
{
    if (fn->mr) {
        memory_region_unregister_iommu_notifier(fn->mr, &fn->n);
        fn->mr = NULL;
    }
}

/*
 * Notifier (what >> 2) % FUZZ_NOTIFIERS on the IOMMU region of the DMA
 * testdev (what bit 6 clear) or the ATS testdev, over [start, end];
 * what % 4: 0 UNMAP (vhost), 1 DEVIOTLB_UNMAP (a device's ATC), 2 MAP and
 * UNMAP (refused: the emulated vsmmu sends no MAP), 3 unregistered.
 */
static void opx_notifier(QTestState *s, Rd *r)
{
    static const IOMMUNotifierFlag kinds[] = {
        IOMMU_NOTIFIER_UNMAP, IOMMU_NOTIFIER_DEVIOTLB_UNMAP,
        IOMMU_NOTIFIER_IOTLB_EVENTS,
    };
    unsigned what = rd(r, 1);
    uint64_t start = rd(r, 8), end = rd(r, 8);
    FuzzNotifier *fn = &notifiers[(what >> 2) % FUZZ_NOTIFIERS];
    PCIDevice *pdev = what & 0x40 ? ats_pdev : dma_pdev;
    MemoryRegion *mr;
    Error *err = NULL;

    if (!pdev) {
        return;
    }
    notifier_drop(fn);
    if (what % 4 == 3) {
        return;
    }
    mr = pci_device_iommu_address_space(pdev)->root;
    if (!memory_region_is_iommu(mr)) {
        return;
    }
    iommu_notifier_init(&fn->n, fuzz_notify, kinds[what % 4], MIN(start, end),
                        MAX(start, end), 0);
    if (memory_region_register_iommu_notifier(mr, &fn->n, &err)) {
        error_free(err);
        return;
    }
    fn->mr = mr;
}

/* DMA from a thread that does not hold the BQL, as an iothread's device */
typedef struct FuzzDmaJob {
    AddressSpace *as;
    uint64_t iova, stride;
    unsigned count;
    bool write;
} FuzzDmaJob;

static void *dma_thread(void *opaque)
{
    FuzzDmaJob *j = opaque;

    rcu_register_thread();
    for (unsigned i = 0; i < j->count; i++) {
        uint64_t a = j->iova + i * j->stride, v = a;

        if (j->write) {
            /* not into the flash window (see op_dma) */
            if (a < VIRT_FLASH_END) {
                a += 0x40000000;
            }
            address_space_write(j->as, a, MEMTXATTRS_UNSPECIFIED, &v,
                                sizeof(v));
        } else {
            address_space_read(j->as, a, MEMTXATTRS_UNSPECIFIED, &v,
                               sizeof(v));
        }
    }
    rcu_unregister_thread();
    return NULL;
}

/*
 * count 8-byte accesses at iova + i * stride through the IOMMU region of
 * the DMA testdev (flags bit 1 clear) or the ATS testdev, from a thread
 * without the BQL (flags bit 0: writes). Translations, walks and faults
 * run there; events reach the queue through the bottom half. The main
 * thread lets go of the BQL and waits for it: one thread at a time, so
 * the outcome is the same at every run.
 */
static void opx_dma_thread(QTestState *s, Rd *r)
{
    unsigned count = rd(r, 1), flags = rd(r, 1);
    FuzzDmaJob j = {
        .iova = rd(r, 8),
        .stride = rd(r, 2),
        .count = MIN(count, FUZZ_THREAD_ACCESSES),
        .write = flags & 1,
    };
    PCIDevice *pdev = flags & 2 ? ats_pdev : dma_pdev;
    QemuThread t;

    if (!pdev || !j.count || j.count > dma_budget) {
        return;
    }
    dma_budget -= j.count;
    j.as = pci_device_iommu_address_space(pdev);
    bql_unlock();
    qemu_thread_create(&t, "vsmmu-fuzz-dma", dma_thread, &j,
                       QEMU_THREAD_JOINABLE);
    qemu_thread_join(&t);
    bql_lock();
}

/* What a management tool reads: info vsmmu (x-info) and the properties */
static void opx_info(QTestState *s, Rd *r)
{
    static const char *const props[] = {
        "oas", "ssidsize", "sidsize", "ril", "ats", "cmdqv", "cmdqv-vintfs",
    };

    g_free(object_property_get_str(vsmmu_obj, "x-info", &error_abort));
    for (unsigned i = 0; i < ARRAY_SIZE(props); i++) {
        qobject_unref(object_property_get_qobject(vsmmu_obj, props[i],
                                                  &error_abort));
    }
}

static void fuzz_input_reset(QTestState *s)
{
    for (unsigned i = 0; i < FUZZ_NOTIFIERS; i++) {
        notifier_drop(&notifiers[i]);
    }
    vsmmu_fuzz_host_reset();
    vsmmu_fuzz_machine_reset(s);
    vsmmu_fuzz_ram_restore();
}

/* ---------------------------------------------------------------------- */
/* The fuzz loop                                                           */
/* ---------------------------------------------------------------------- */

static void vsmmu_fuzz(QTestState *s, const unsigned char *data, size_t size)
{
    static void (*const ops[OP__MAX])(QTestState *, Rd *) = {
        [OP_MMIO_READ] = op_mmio_read,
        [OP_MMIO_WRITE] = op_mmio_write,
        [OP_MEM_WRITE] = op_mem_write,
        [OP_MEM_PATTERN] = op_mem_pattern,
        [OP_CMDQ] = op_cmdq,
        [OP_DMA] = op_dma,
        [OP_IRQ] = op_irq,
        [OP_RESET] = op_reset,
        [OP_CLOCK] = op_clock,
        [OP_HOST] = vsmmu_fuzz_host_op,
    };
    static void (*const xops[OPX__MAX])(QTestState *, Rd *) = {
        [OPX_ATS] = opx_ats,
        [OPX_MIGRATE] = opx_migrate,
        [OPX_NOTIFIER] = opx_notifier,
        [OPX_DMA_THREAD] = opx_dma_thread,
        [OPX_INFO] = opx_info,
        [OPX_HOST_CMDQV] = vsmmu_fuzz_host_cmdqv_op,
    };
    const unsigned char *cmd = data;

    /*
     * The region is clear and the DMA function enabled: RAM and the
     * machine as after the reset (fuzz_input_reset)
     */
    dma_budget = FUZZ_INPUT_ACCESSES;

    while (cmd && size) {
        const unsigned char *next = memmem(cmd, size, SEPARATOR,
                                           strlen(SEPARATOR));
        size_t cmd_len = next ? next - cmd : size;

        if (cmd_len > 0) {
            Rd r = { .p = cmd + 1, .len = cmd_len - 1 };
            unsigned x = cmd[0] - OPX_BASE;

            if ((cmd[0] & OPX_MASK) != OPX_BASE) {
                ops[cmd[0] % OP__MAX](s, &r);
            } else if (x < OPX__MAX) {
                xops[x](s, &r);
            }
            flush_events(s);
        }
        if (!next) {
            break;
        }
        size -= cmd_len + strlen(SEPARATOR);
        cmd = next + strlen(SEPARATOR);
    }
    fuzz_input_reset(s);
}

/* $VSMMU_FUZZ_ARGS: more options, e.g. "-trace vsmmu_* -d guest_errors" */
static GString *extra_args(GString *c)
{
    const char *extra = getenv("VSMMU_FUZZ_ARGS");

    if (extra) {
        g_string_append_printf(c, " %s ", extra);
    }
    return c;
}

static GString *cmdline_emu(FuzzTarget *t)
{
    fuzz_kind = FUZZ_EMU;
    return extra_args(g_string_new(TARGET_NAME " " FUZZ_MACHINE
                                   "-device vsmmu,primary-bus=pcie.0,ats=on,"
                                   "msi-window=on "
                                   FUZZ_TESTDEV FUZZ_ATS_TESTDEV));
}

static GString *cmdline_nested(FuzzTarget *t)
{
    fuzz_kind = FUZZ_EMU;
    return extra_args(g_string_new(TARGET_NAME " " FUZZ_MACHINE
                                   "-device vsmmu,primary-bus=pcie.0,"
                                   "stage=nested,ats=on "
                                   FUZZ_TESTDEV FUZZ_ATS_TESTDEV));
}

static GString *cmdline_cmdqv(FuzzTarget *t)
{
    fuzz_kind = FUZZ_CMDQV;
    return extra_args(g_string_new(TARGET_NAME " " FUZZ_MACHINE
                                   "-device vsmmu,primary-bus=pcie.0,"
                                   "cmdqv=on " FUZZ_TESTDEV
                                   FUZZ_ATS_TESTDEV));
}

static GString *cmdline_cmdqv_host(FuzzTarget *t)
{
    GString *c = g_string_new(TARGET_NAME " " FUZZ_MACHINE);

    fuzz_kind = FUZZ_CMDQV_HOST;
    g_string_append_printf(c, "-device vsmmu,primary-bus=pcie.0,cmdqv=on,"
                           "cmdqv-vintfs=%u,ats=on,msi-window=off "
                           FUZZ_TESTDEV
                           FUZZ_ATS_TESTDEV, FUZZ_HOST_VINTFS);
    return extra_args(c);
}

/* vsmmu-accel, and with @cmdqv a host CMDQV and cmdqv=on */
static GString *cmdline_host(bool cmdqv)
{
    GString *c;
    int fd_iommufd, fd_vfio;

    vsmmu_fuzz_host_setup(cmdqv, &fd_iommufd, &fd_vfio);
    c = g_string_new(TARGET_NAME " " FUZZ_MACHINE);
    g_string_append_printf(c, "-object iommufd,id=ifd0,fd=%d "
                           "-device vsmmu,primary-bus=pcie.0,accel=on,"
                           "iommufd=ifd0%s "
                           "-device vfio-pci,id=dev0,fd=%d,iommufd=ifd0,"
                           "addr=2.0 ", fd_iommufd, cmdqv ? ",cmdqv=on" : "",
                           fd_vfio);
    return extra_args(c);
}

static GString *cmdline_accel(FuzzTarget *t)
{
    fuzz_kind = FUZZ_ACCEL;
    return cmdline_host(false);
}

static GString *cmdline_cmdqv_accel(FuzzTarget *t)
{
    fuzz_kind = FUZZ_CMDQV_ACCEL;
    return cmdline_host(true);
}

static void register_vsmmu_fuzz_targets(void)
{
    fuzz_add_target(&(FuzzTarget){
        .name = "vsmmu-emu",
        .description = "vsmmu (emulated, ATS) + the DMA and ATS test "
                       "devices: register pages, tables, queues, DMA, ATS, "
                       "resets",
        .get_init_cmdline = cmdline_emu,
        .pre_fuzz = vsmmu_pre_fuzz,
        .fuzz = vsmmu_fuzz,
    });
    fuzz_add_target(&(FuzzTarget){
        .name = "vsmmu-nested",
        .description = "vsmmu stage=nested (emulated): the same with "
                       "stage-2-only and nested streams, stage-2 TLBIs",
        .get_init_cmdline = cmdline_nested,
        .pre_fuzz = vsmmu_pre_fuzz,
        .fuzz = vsmmu_fuzz,
    });
    fuzz_add_target(&(FuzzTarget){
        .name = "vsmmu-cmdqv",
        .description = "vsmmu cmdqv=on: the same plus the CMDQV config, "
                       "VINTF and VCMDQ pages and rings",
        .get_init_cmdline = cmdline_cmdqv,
        .pre_fuzz = vsmmu_pre_fuzz,
        .fuzz = vsmmu_fuzz,
    });
    fuzz_add_target(&(FuzzTarget){
        .name = "vsmmu-cmdqv-host",
        .description = "vsmmu cmdqv=on,cmdqv-vintfs=4: the host side of "
                       "the CMDQV, every VINTF's pages and VCMDQs",
        .get_init_cmdline = cmdline_cmdqv_host,
        .pre_fuzz = vsmmu_pre_fuzz,
        .fuzz = vsmmu_fuzz,
    });
    fuzz_add_target(&(FuzzTarget){
        .name = "vsmmu-accel",
        .description = "vsmmu accel=on against the simulated host "
                       "(libsimhost.so) with one assigned device; host "
                       "failures and events fuzzed too",
        .get_init_cmdline = cmdline_accel,
        .pre_fuzz = vsmmu_pre_fuzz,
        .fuzz = vsmmu_fuzz,
    });
    fuzz_add_target(&(FuzzTarget){
        .name = "vsmmu-cmdqv-accel",
        .description = "vsmmu accel=on,cmdqv=on against a simulated host "
                       "with a Tegra241 CMDQV: VCMDQs backed by host "
                       "queues, their page mapped, host CMDQV errors",
        .get_init_cmdline = cmdline_cmdqv_accel,
        .pre_fuzz = vsmmu_pre_fuzz,
        .fuzz = vsmmu_fuzz,
    });
}

fuzz_target_init(register_vsmmu_fuzz_targets);
