/*
 * libFuzzer targets for the vsmmu (docs/testing.md, "Fuzzing")
 *
 *   vsmmu-emu     virt + vsmmu (emulated) + vsmmu-dma-testdev
 *   vsmmu-nested  the same with stage=nested: stage-2 and nested STEs,
 *                 the stage-2 TLBIs, VMID-tagged stage-1 ones
 *   vsmmu-cmdqv   the same with cmdqv=on: CMDQV config, VINTF and VCMDQ pages
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
 * put the stream table, the queues, the CDs and the page tables; the
 * region is cleared and the machine reset between inputs.
 *
 * tests/fuzz/gen-seeds.py writes the seed programs with the same encoding.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include <sys/mman.h>
#include <sys/eventfd.h>

#include "qemu/main-loop.h"
#include "qemu/bswap.h"
#include "qom/object.h"
#include "system/memory.h"
#include "system/runstate.h"
#include "hw/qdev-core.h"
#include "hw/sysbus.h"
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
#include "../simhost/simhost-ctl.h"

/* ---------------------------------------------------------------------- */
/* The machine                                                             */
/* ---------------------------------------------------------------------- */

#define FUZZ_MACHINE  "-machine virt,accel=qtest -cpu max -nodefaults " \
                      "-display none -m 64M "
#define FUZZ_TESTDEV  "-device vsmmu-dma-testdev,addr=1d.0 "

/* Guest RAM at 0x40000000; the fuzzed tables and queues live here */
#define VSMMU_FUZZ_REGION       0x40100000ULL
#define VSMMU_FUZZ_REGION_SIZE  0x100000ULL

/* Per operation: bounded so that no valid input runs for long */
#define FUZZ_MEM_MAX            4096        /* bytes of one MEM_WRITE */
#define FUZZ_PATTERN_MAX        1024        /* copies of one MEM_PATTERN */
#define FUZZ_CMDS_MAX           64          /* commands of one CMDQ op */
#define FUZZ_DMA_MAX            0x10000     /* bytes of one DMA */
#define FUZZ_SWEEP_ACCESSES     4096        /* reads of one READ_SWEEP */
#define FUZZ_INPUT_ACCESSES     4096        /* DMA accesses of one input */
#define FUZZ_CLOCK_MAX_NS       10000000    /* 10 ms of virtual time */
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
    OP_HOST,            /* vsmmu-accel: u8 what, operands (see op_host) */
    OP__MAX,
};

typedef struct FuzzPage {
    uint64_t base;
    uint64_t size;
} FuzzPage;

typedef enum FuzzKind {
    FUZZ_EMU,
    FUZZ_CMDQV,
    FUZZ_ACCEL,
} FuzzKind;

static FuzzKind fuzz_kind;
static Object *vsmmu_obj;
static FuzzPage pages[2];           /* SMMU pages 0-1, CMDQV window */
static unsigned num_pages;
static QGenericPCIBus pcibus;
static QGuestAllocator pci_alloc;
static QPCIDevice *dma_dev;         /* testdev, or the simulated function */
static uint64_t dma_bar;            /* its BAR0 address */
static uint32_t dma_bar_reg;        /* and what config space holds for it */
static uint64_t dma_budget;         /* DMA accesses left for this input */

/* vsmmu-accel: the simulated host's descriptors and control block */
#define ENV_SIMHOST "VSMMU_FUZZ_SIMHOST"
static SimhostCtl *sh_ctl;
static int sh_fd_ctl = -1, sh_fd_iommufd = -1, sh_fd_vfio = -1;
static int sh_fd_kick = -1;

/* Operand reader: missing bytes are zero */
typedef struct Rd {
    const uint8_t *p;
    size_t len;
} Rd;

static uint64_t rd(Rd *r, unsigned n)
{
    uint64_t v = 0;

    for (unsigned i = 0; i < n; i++) {
        if (r->len) {
            v |= (uint64_t)*r->p << (8 * i);
            r->p++;
            r->len--;
        }
    }
    return v;
}

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

/*
 * Take the virt board's two flash devices out of the address map. A
 * translation the program builds may point DMA writes at them, and each
 * write that switches the pflash model between its array and command
 * modes regenerates every address space's memory map: a 4 KiB DMA write
 * ran for seconds under ASan, a "hang" that is the flash model's cost,
 * not the vsmmu's. Accesses there now end as decode errors, at once.
 */
static void flash_unmap(void)
{
    static const char *const flashes[] = {
        "/machine/virt.flash0", "/machine/virt.flash1",
    };

    for (int i = 0; i < ARRAY_SIZE(flashes); i++) {
        Object *obj = object_resolve_path(flashes[i], NULL);

        g_assert_nonnull(obj);
        memory_region_set_enabled(sysbus_mmio_get_region(SYS_BUS_DEVICE(obj),
                                                         0), false);
    }
}

static void vsmmu_pre_fuzz(QTestState *s)
{
    SysBusDevice *sbd;
    QPCIBar bar;
    bool ambiguous = false;

    flash_unmap();
    vsmmu_obj = object_resolve_path_type("", "vsmmu", &ambiguous);
    g_assert(vsmmu_obj && !ambiguous);
    sbd = SYS_BUS_DEVICE(vsmmu_obj);
    pages[0].base = mr_abs_addr(sysbus_mmio_get_region(sbd, 0));
    pages[0].size = VSMMU_MMIO_SIZE;
    num_pages = 1;
    if (fuzz_kind == FUZZ_CMDQV) {
        g_assert_cmpint(sbd->num_mmio, >, 1);
        pages[1].base = mr_abs_addr(sysbus_mmio_get_region(sbd, 1));
        pages[1].size = CMDQV_MMIO_SIZE;
        num_pages = 2;
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

    if (fuzz_kind == FUZZ_CMDQV && q % 3) {
        unsigned vq = (q % 3) - 1;

        base_reg = qtest_readq(s, pages[1].base + CMDQV_VCMDQ_PAGE1 +
                               vq * CMDQV_VCMDQ_STRIDE + A_VCMDQ_BASE);
        base = FIELD_EX64(base_reg, VCMDQ_BASE, ADDR) << 5;
        log2size = FIELD_EX64(base_reg, VCMDQ_BASE, LOG2SIZE);
        prod_addr = pages[1].base + CMDQV_VCMDQ_PAGE0 +
                    vq * CMDQV_VCMDQ_STRIDE + A_VCMDQ_PROD;
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
    if (fuzz_kind == FUZZ_ACCEL && (op & 0x80)) {
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
    if (fuzz_kind == FUZZ_CMDQV && (what & 8)) {
        uint64_t c = pages[1].base;

        /* the CMDQV handler: error maps, each VCMDQ's GERROR acked */
        qtest_readq(s, c + A_CMDQV_VINTF_ERR_MAP);
        qtest_readq(s, c + CMDQV_VINTF0_BASE + A_VINTF_LVCMDQ_ERR_MAP);
        for (unsigned q = 0; q < 2; q++) {
            uint64_t p0 = c + CMDQV_VCMDQ_PAGE0 + q * CMDQV_VCMDQ_STRIDE;

            qtest_writel(s, p0 + A_VCMDQ_GERRORN,
                         qtest_readl(s, p0 + A_VCMDQ_GERROR));
        }
    }
}

static void op_reset(QTestState *s, Rd *r)
{
    if (rd(r, 1) & 1) {
        qemu_system_reset(SHUTDOWN_CAUSE_GUEST_RESET);
        dma_dev_enable(s);
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
/* vsmmu-accel: the simulated host                                         */
/* ---------------------------------------------------------------------- */

static int sh_mailbox(uint32_t op, const uint64_t *args, unsigned nargs)
{
    uint32_t seq = sh_ctl->req_seq + 1;
    uint64_t one = 1;

    sh_ctl->req_op = op;
    memcpy(sh_ctl->req_arg, args, nargs * sizeof(uint64_t));
    qatomic_store_release(&sh_ctl->req_seq, seq);
    if (write(sh_fd_kick, &one, sizeof(one)) != sizeof(one)) {
        return -EIO;
    }
    for (int i = 0; i < 2000; i++) {
        if (qatomic_load_acquire(&sh_ctl->ack_seq) == seq) {
            return sh_ctl->req_result;
        }
        g_usleep(50);
    }
    fprintf(stderr, "vsmmu-fuzz: the simulated host did not answer\n");
    abort();
}

/*
 * what % 4:
 *   0: fail the nth next call of a kind: u8 kind, u8 nth, u8 errno
 *   1: the host SMMU reports a raw event for the device: u64 evt[4]
 *   2: event allocation failures (LOST_EVENTS) / flood: u8 fail, u8 flood
 *   3: every injection cleared
 */
static void op_host(QTestState *s, Rd *r)
{
    static const int errnos[] = {
        EINVAL, ENOMEM, EBUSY, EIO, EOPNOTSUPP, ENODEV, ETIMEDOUT, EFAULT,
        E2BIG, EPERM, EADDRINUSE, ENOSPC, EAGAIN, EOVERFLOW, ENOENT, EEXIST,
    };
    unsigned what = rd(r, 1);

    if (fuzz_kind != FUZZ_ACCEL) {
        return;
    }
    switch (what % 4) {
    case 0: {
        unsigned kind = rd(r, 1) % SIMHOST_K__MAX;
        unsigned nth = rd(r, 1) % 8;
        int err = errnos[rd(r, 1) % ARRAY_SIZE(errnos)];

        for (int i = 0; i < SIMHOST_MAX_INJECT; i++) {
            SimhostInject *j = &sh_ctl->inject[i];

            if (!qatomic_read(&j->count)) {
                j->kind = kind;
                j->skip = nth;
                j->err = err;
                j->fired = 0;
                qatomic_set(&j->count, 1);
                break;
            }
        }
        break;
    }
    case 1: {
        uint64_t a[5] = { 0, rd(r, 8), rd(r, 8), rd(r, 8), rd(r, 8) };

        sh_mailbox(SIMHOST_REQ_HOST_EVENT, a, 5);
        /* the vEVENTQ is read by the main loop */
        flush_events(s);
        break;
    }
    case 2:
        qatomic_set(&sh_ctl->event_alloc_fail, rd(r, 1) % 4);
        qatomic_set(&sh_ctl->event_flood, 1 + rd(r, 1) % 4);
        break;
    default:
        for (int i = 0; i < SIMHOST_MAX_INJECT; i++) {
            qatomic_set(&sh_ctl->inject[i].count, 0);
        }
        break;
    }
}

static void sh_reset_host(void)
{
    for (int i = 0; i < SIMHOST_MAX_INJECT; i++) {
        qatomic_set(&sh_ctl->inject[i].count, 0);
    }
    qatomic_set(&sh_ctl->event_alloc_fail, 0);
    qatomic_set(&sh_ctl->event_flood, 0);
}

static int sh_memfd(const char *name, size_t size)
{
    int fd = memfd_create(name, 0);

    if (fd < 0 || (size && ftruncate(fd, size) < 0)) {
        perror("vsmmu-fuzz: memfd");
        exit(1);
    }
    return fd;
}

static char *simhost_lib(void)
{
    const char *env = getenv("SIMHOST_LIB");
    g_autofree char *exe = g_file_read_link("/proc/self/exe", NULL);
    g_autofree char *dir = exe ? g_path_get_dirname(exe) : NULL;

    if (env) {
        return g_strdup(env);
    }
    return dir ? g_build_filename(dir, "..", "simhost", "libsimhost.so",
                                  NULL) : NULL;
}

/*
 * The simulated host answers /dev/iommu and the VFIO cdev from inside this
 * process, so it must be preloaded before the process starts, and the
 * descriptors it recognises (memfds with its names) must exist when it
 * initialises. So: create them, then exec this binary again with
 * LD_PRELOAD, the same arguments, and the descriptors named in the
 * environment together with our pid (libFuzzer's child processes inherit
 * the environment but must make their own host).
 */
static void accel_setup_host(void)
{
    const char *env = getenv(ENV_SIMHOST);
    g_autofree char *lib = NULL;
    g_autofree char *val = NULL;
    g_autofree char *cmdline = NULL;
    g_autofree char *preload = NULL;
    g_autoptr(GPtrArray) argv = NULL;
    size_t len;
    int pid;

    if (env && sscanf(env, "%d,%d,%d,%d,%d", &pid, &sh_fd_ctl,
                      &sh_fd_iommufd, &sh_fd_vfio, &sh_fd_kick) == 5) {
        if (pid == getpid()) {
            /* after the exec: ours; children must not inherit them */
            sh_ctl = mmap(NULL, sizeof(*sh_ctl), PROT_READ | PROT_WRITE,
                          MAP_SHARED, sh_fd_ctl, 0);
            g_assert(sh_ctl != MAP_FAILED);
            fcntl(sh_fd_ctl, F_SETFD, FD_CLOEXEC);
            fcntl(sh_fd_iommufd, F_SETFD, FD_CLOEXEC);
            fcntl(sh_fd_vfio, F_SETFD, FD_CLOEXEC);
            fcntl(sh_fd_kick, F_SETFD, FD_CLOEXEC);
            return;
        }
    }

    lib = simhost_lib();
    if (!lib || access(lib, R_OK)) {
        fprintf(stderr, "vsmmu-fuzz: vsmmu-accel needs the simulated host "
                "library (libsimhost.so, $SIMHOST_LIB), not found: %s\n",
                lib ? lib : "?");
        exit(1);
    }

    sh_fd_ctl = sh_memfd(SIMHOST_FD_CTL, sizeof(SimhostCtl));
    sh_ctl = mmap(NULL, sizeof(*sh_ctl), PROT_READ | PROT_WRITE, MAP_SHARED,
                  sh_fd_ctl, 0);
    g_assert(sh_ctl != MAP_FAILED);
    sh_ctl->magic = SIMHOST_CTL_MAGIC;
    sh_ctl->version = SIMHOST_CTL_VERSION;
    sh_ctl->size = sizeof(*sh_ctl);
    sh_ctl->num_smmus = 1;
    sh_ctl->num_devs = 1;
    simhost_profile_fill(&sh_ctl->smmu[0], SIMHOST_PROFILE_SMMUV3);
    sh_ctl->dev[0].smmu = 0;
    sh_ctl->dev[0].sid = 0x100;
    sh_ctl->dev[0].num_streams = 1;
    sh_fd_iommufd = sh_memfd(SIMHOST_FD_IOMMUFD, 0);
    sh_fd_vfio = sh_memfd(SIMHOST_FD_VFIO "0", 0);
    sh_fd_kick = eventfd(0, 0);
    g_assert(sh_fd_kick >= 0);

    val = g_strdup_printf("%d,%d,%d,%d,%d", getpid(), sh_fd_ctl,
                          sh_fd_iommufd, sh_fd_vfio, sh_fd_kick);
    g_setenv(ENV_SIMHOST, val, true);
    g_free(val);
    val = g_strdup_printf("%d", sh_fd_kick);
    g_setenv(SIMHOST_KICK_ENV, val, true);
    env = getenv("LD_PRELOAD");
    preload = env && !strstr(env, lib) ? g_strdup_printf("%s:%s", lib, env)
                                        : g_strdup(lib);
    g_setenv("LD_PRELOAD", preload, true);

    if (!g_file_get_contents("/proc/self/cmdline", &cmdline, &len, NULL)) {
        exit(1);
    }
    argv = g_ptr_array_new();
    for (size_t i = 0; i < len; i += strlen(cmdline + i) + 1) {
        g_ptr_array_add(argv, cmdline + i);
    }
    g_ptr_array_add(argv, NULL);
    execv("/proc/self/exe", (char **)argv->pdata);
    perror("vsmmu-fuzz: exec");
    exit(1);
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
        [OP_HOST] = op_host,
    };
    const unsigned char *cmd = data;
    static uint8_t zero[VSMMU_FUZZ_REGION_SIZE];

    /* (not qtest_memset: the fuzz wrapper of QEMU 10.2 leaks its buffer) */
    qtest_memwrite(s, VSMMU_FUZZ_REGION, zero, sizeof(zero));
    dma_dev_enable(s);
    dma_budget = FUZZ_INPUT_ACCESSES;

    while (cmd && size) {
        const unsigned char *next = memmem(cmd, size, SEPARATOR,
                                           strlen(SEPARATOR));
        size_t cmd_len = next ? next - cmd : size;

        if (cmd_len > 0) {
            Rd r = { .p = cmd + 1, .len = cmd_len - 1 };

            ops[cmd[0] % OP__MAX](s, &r);
            flush_events(s);
        }
        if (!next) {
            break;
        }
        size -= cmd_len + strlen(SEPARATOR);
        cmd = next + strlen(SEPARATOR);
    }
    if (sh_ctl) {
        sh_reset_host();
    }
    fuzz_reset(s);
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
                                   "-device vsmmu,primary-bus=pcie.0 "
                                   FUZZ_TESTDEV));
}

static GString *cmdline_nested(FuzzTarget *t)
{
    fuzz_kind = FUZZ_EMU;
    return extra_args(g_string_new(TARGET_NAME " " FUZZ_MACHINE
                                   "-device vsmmu,primary-bus=pcie.0,"
                                   "stage=nested " FUZZ_TESTDEV));
}

static GString *cmdline_cmdqv(FuzzTarget *t)
{
    fuzz_kind = FUZZ_CMDQV;
    return extra_args(g_string_new(TARGET_NAME " " FUZZ_MACHINE
                                   "-device vsmmu,primary-bus=pcie.0,"
                                   "cmdqv=on " FUZZ_TESTDEV));
}

static GString *cmdline_accel(FuzzTarget *t)
{
    GString *c;

    fuzz_kind = FUZZ_ACCEL;
    accel_setup_host();
    c = g_string_new(TARGET_NAME " " FUZZ_MACHINE);
    g_string_append_printf(c, "-object iommufd,id=ifd0,fd=%d "
                           "-device vsmmu,primary-bus=pcie.0,accel=on,"
                           "iommufd=ifd0 "
                           "-device vfio-pci,id=dev0,fd=%d,iommufd=ifd0,"
                           "addr=2.0 ", sh_fd_iommufd, sh_fd_vfio);
    return extra_args(c);
}

static void register_vsmmu_fuzz_targets(void)
{
    fuzz_add_target(&(FuzzTarget){
        .name = "vsmmu-emu",
        .description = "vsmmu (emulated) + vsmmu-dma-testdev: register "
                       "pages, tables, queues, DMA, resets",
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
        .name = "vsmmu-accel",
        .description = "vsmmu accel=on against the simulated host "
                       "(libsimhost.so) with one assigned device; host "
                       "failures and events fuzzed too",
        .get_init_cmdline = cmdline_accel,
        .pre_fuzz = vsmmu_pre_fuzz,
        .fuzz = vsmmu_fuzz,
    });
}

fuzz_target_init(register_vsmmu_fuzz_targets);
