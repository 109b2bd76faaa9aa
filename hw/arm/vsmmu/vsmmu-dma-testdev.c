/*
 * vsmmu-dma-testdev: a PCI device that issues DMA on request
 *
 * Used by the qtests and the translation benchmark to drive DMA through
 * whatever IOMMU sits in front of the device (vsmmu, arm-smmuv3 or none).
 * Register layout in include/hw/arm/vsmmu/dma-testdev.h. Commands run
 * synchronously inside the write to CMD; the device keeps no other state
 * than its registers (the copy buffer is scratch space).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/log.h"
#include "qemu/module.h"
#include "qemu/timer.h"
#include "hw/pci/pci_device.h"
#include "hw/arm/vsmmu/dma-testdev.h"
#include "migration/vmstate.h"
#include "qom/object.h"

OBJECT_DECLARE_SIMPLE_TYPE(VsmmuDmaTestdevState, VSMMU_DMA_TESTDEV)

/* DMA is issued in pieces that never cross this boundary (smallest granule) */
#define TESTDEV_DMA_CHUNK       4096

struct VsmmuDmaTestdevState {
    PCIDevice parent_obj;

    MemoryRegion mmio;
    uint8_t *buf;               /* COPY/FILL scratch, not migrated */

    uint64_t src;
    uint64_t dst;
    uint64_t len;
    uint64_t status;
    uint64_t err_addr;
    uint64_t iter;
    uint64_t stride;
    uint64_t pattern;
    uint64_t done_count;
    uint64_t elapsed_ns;         /* not migrated: a host measurement */
};

static void testdev_record_failure(VsmmuDmaTestdevState *s, uint64_t iova)
{
    uint32_t nfailed = FIELD_EX64(s->status, TESTDEV_STATUS, NFAILED);

    if (nfailed == 0) {
        s->err_addr = iova;
    }
    if (nfailed < UINT32_MAX) {
        nfailed++;
    }
    s->status = FIELD_DP64(s->status, TESTDEV_STATUS, CODE,
                           VSMMU_TESTDEV_STATUS_DMA_ERROR);
    s->status = FIELD_DP64(s->status, TESTDEV_STATUS, NFAILED, nfailed);
}

static MemTxResult testdev_dma_rw(VsmmuDmaTestdevState *s, uint64_t iova,
                                  uint8_t *buf, uint64_t len,
                                  DMADirection dir)
{
    PCIDevice *pdev = PCI_DEVICE(s);

    if (dir == DMA_DIRECTION_TO_DEVICE) {
        return pci_dma_read(pdev, iova, buf, len);
    }
    return pci_dma_write(pdev, iova, buf, len);
}

/*
 * Move @len bytes between @buf and @iova in pieces that stay within one
 * 4 KiB page (the smallest translation granule), stopping at the first
 * piece that fails.
 *
 * Each piece starts with a 1-byte access: when an IOVA does not translate,
 * QEMU's memory core retries the rest of the access in pieces of at most
 * 4 bytes, translating (and faulting) each one, so a failing access must
 * be a single byte for the IOMMU to see it exactly once. The rest of the
 * piece lies in the same page and goes in one access.
 */
static bool testdev_dma_buf(VsmmuDmaTestdevState *s, uint64_t iova,
                            uint8_t *buf, uint64_t len, DMADirection dir)
{
    uint64_t done = 0;

    while (done < len) {
        uint64_t addr = iova + done;
        uint64_t room = TESTDEV_DMA_CHUNK - (addr & (TESTDEV_DMA_CHUNK - 1));
        uint64_t chunk = MIN(len - done, room);

        if (testdev_dma_rw(s, addr, buf + done, 1, dir) != MEMTX_OK) {
            testdev_record_failure(s, addr);
            return false;
        }
        if (chunk > 1 &&
            testdev_dma_rw(s, addr + 1, buf + done + 1, chunk - 1, dir) !=
            MEMTX_OK) {
            testdev_record_failure(s, addr + 1);
            return false;
        }
        done += chunk;
    }
    return true;
}

static void testdev_copy(VsmmuDmaTestdevState *s)
{
    if (testdev_dma_buf(s, s->src, s->buf, s->len, DMA_DIRECTION_TO_DEVICE)) {
        testdev_dma_buf(s, s->dst, s->buf, s->len, DMA_DIRECTION_FROM_DEVICE);
    }
}

static void testdev_fill(VsmmuDmaTestdevState *s)
{
    memset(s->buf, s->pattern & 0xff, s->len);
    testdev_dma_buf(s, s->dst, s->buf, s->len, DMA_DIRECTION_FROM_DEVICE);
}

/*
 * The benchmark's inner loop: one 8-byte read per STRIDE, ITER times, every
 * failure counted. No allocation, nothing but the DMA itself per access.
 * (A failing 8-byte read reaches the IOMMU twice, see testdev_dma_buf().)
 */
static void testdev_read_sweep(VsmmuDmaTestdevState *s)
{
    PCIDevice *pdev = PCI_DEVICE(s);
    uint64_t val;

    for (uint64_t i = 0; i < s->iter; i++) {
        uint64_t off = 0;

        while (off < s->len) {
            if (pci_dma_read(pdev, s->src + off, &val, sizeof(val)) !=
                MEMTX_OK) {
                testdev_record_failure(s, s->src + off);
            }
            if (s->stride > s->len - off) {
                break;
            }
            off += s->stride;
        }
    }
}

static void testdev_run(VsmmuDmaTestdevState *s, unsigned op)
{
    bool bounded = op == VSMMU_TESTDEV_CMD_COPY ||
                   op == VSMMU_TESTDEV_CMD_FILL;

    int64_t start = get_clock();

    s->status = 0;
    s->err_addr = 0;

    if (bounded && s->len > VSMMU_DMA_TESTDEV_MAX_LEN) {
        qemu_log_mask(LOG_GUEST_ERROR, "%s: LEN 0x%" PRIx64 " exceeds 0x%x\n",
                      TYPE_VSMMU_DMA_TESTDEV, s->len,
                      VSMMU_DMA_TESTDEV_MAX_LEN);
        s->status = VSMMU_TESTDEV_STATUS_BAD_CMD;
    } else if (op == VSMMU_TESTDEV_CMD_READ_SWEEP && s->stride == 0) {
        qemu_log_mask(LOG_GUEST_ERROR, "%s: READ_SWEEP with STRIDE 0\n",
                      TYPE_VSMMU_DMA_TESTDEV);
        s->status = VSMMU_TESTDEV_STATUS_BAD_CMD;
    } else {
        switch (op) {
        case VSMMU_TESTDEV_CMD_COPY:
            testdev_copy(s);
            break;
        case VSMMU_TESTDEV_CMD_READ_SWEEP:
            testdev_read_sweep(s);
            break;
        case VSMMU_TESTDEV_CMD_FILL:
            testdev_fill(s);
            break;
        default:
            qemu_log_mask(LOG_GUEST_ERROR, "%s: unknown command %u\n",
                          TYPE_VSMMU_DMA_TESTDEV, op);
            s->status = VSMMU_TESTDEV_STATUS_BAD_CMD;
            break;
        }
    }
    s->done_count++;
    s->elapsed_ns = get_clock() - start;
}

static uint64_t *testdev_reg(VsmmuDmaTestdevState *s, hwaddr reg)
{
    switch (reg) {
    case A_TESTDEV_SRC:
        return &s->src;
    case A_TESTDEV_DST:
        return &s->dst;
    case A_TESTDEV_LEN:
        return &s->len;
    case A_TESTDEV_STATUS:
        return &s->status;
    case A_TESTDEV_ERR_ADDR:
        return &s->err_addr;
    case A_TESTDEV_ITER:
        return &s->iter;
    case A_TESTDEV_STRIDE:
        return &s->stride;
    case A_TESTDEV_PATTERN:
        return &s->pattern;
    case A_TESTDEV_DONE_COUNT:
        return &s->done_count;
    case A_TESTDEV_ELAPSED_NS:
        return &s->elapsed_ns;
    default:
        return NULL;
    }
}

static uint64_t testdev_read(void *opaque, hwaddr addr, unsigned size)
{
    VsmmuDmaTestdevState *s = opaque;
    hwaddr reg = addr & ~7ULL;
    uint64_t *p = testdev_reg(s, reg);
    uint64_t val;

    if (reg == A_TESTDEV_ID) {
        val = VSMMU_DMA_TESTDEV_ID;
    } else if (p) {
        val = *p;
    } else {
        /* CMD is write-only, the rest of the BAR is reserved */
        val = 0;
    }
    return extract64(val, (addr & 7) * 8, size * 8);
}

static void testdev_write(void *opaque, hwaddr addr, uint64_t val,
                          unsigned size)
{
    VsmmuDmaTestdevState *s = opaque;
    hwaddr reg = addr & ~7ULL;
    uint64_t *p;

    switch (reg) {
    case A_TESTDEV_CMD:
        /* The low word carries the command; the high word alone is ignored */
        if (!(addr & 7)) {
            testdev_run(s, FIELD_EX64(val, TESTDEV_CMD, OP));
        }
        return;
    case A_TESTDEV_SRC:
    case A_TESTDEV_DST:
    case A_TESTDEV_LEN:
    case A_TESTDEV_ITER:
    case A_TESTDEV_STRIDE:
    case A_TESTDEV_PATTERN:
        p = testdev_reg(s, reg);
        *p = deposit64(*p, (addr & 7) * 8, size * 8, val);
        return;
    default:
        qemu_log_mask(LOG_GUEST_ERROR, "%s: write to %s offset 0x%"
                      HWADDR_PRIx "\n", TYPE_VSMMU_DMA_TESTDEV,
                      testdev_reg(s, reg) || reg == A_TESTDEV_ID ?
                      "read-only" : "reserved", addr);
        return;
    }
}

static const MemoryRegionOps testdev_mmio_ops = {
    .read = testdev_read,
    .write = testdev_write,
    .endianness = DEVICE_LITTLE_ENDIAN,
    .valid = {
        .min_access_size = 4,
        .max_access_size = 8,
    },
    .impl = {
        .min_access_size = 4,
        .max_access_size = 8,
    },
};

static void testdev_realize(PCIDevice *pdev, Error **errp)
{
    VsmmuDmaTestdevState *s = VSMMU_DMA_TESTDEV(pdev);

    s->buf = g_malloc(VSMMU_DMA_TESTDEV_MAX_LEN);
    memory_region_init_io(&s->mmio, OBJECT(s), &testdev_mmio_ops, s,
                          "vsmmu-dma-testdev-mmio",
                          VSMMU_DMA_TESTDEV_BAR_SIZE);
    pci_register_bar(pdev, 0, PCI_BASE_ADDRESS_SPACE_MEMORY |
                     PCI_BASE_ADDRESS_MEM_TYPE_64, &s->mmio);
}

static void testdev_exit(PCIDevice *pdev)
{
    VsmmuDmaTestdevState *s = VSMMU_DMA_TESTDEV(pdev);

    g_free(s->buf);
    s->buf = NULL;
}

static void testdev_reset_hold(Object *obj, ResetType type)
{
    VsmmuDmaTestdevState *s = VSMMU_DMA_TESTDEV(obj);

    s->src = 0;
    s->dst = 0;
    s->len = 0;
    s->status = 0;
    s->err_addr = 0;
    s->iter = VSMMU_TESTDEV_ITER_RESET;
    s->stride = VSMMU_TESTDEV_STRIDE_RESET;
    s->pattern = 0;
    s->done_count = 0;
}

static const VMStateDescription vmstate_testdev = {
    .name = TYPE_VSMMU_DMA_TESTDEV,
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_PCI_DEVICE(parent_obj, VsmmuDmaTestdevState),
        VMSTATE_UINT64(src, VsmmuDmaTestdevState),
        VMSTATE_UINT64(dst, VsmmuDmaTestdevState),
        VMSTATE_UINT64(len, VsmmuDmaTestdevState),
        VMSTATE_UINT64(status, VsmmuDmaTestdevState),
        VMSTATE_UINT64(err_addr, VsmmuDmaTestdevState),
        VMSTATE_UINT64(iter, VsmmuDmaTestdevState),
        VMSTATE_UINT64(stride, VsmmuDmaTestdevState),
        VMSTATE_UINT64(pattern, VsmmuDmaTestdevState),
        VMSTATE_UINT64(done_count, VsmmuDmaTestdevState),
        VMSTATE_END_OF_LIST(),
    },
};

static void testdev_class_init(ObjectClass *klass, const void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);
    PCIDeviceClass *k = PCI_DEVICE_CLASS(klass);
    ResettableClass *rc = RESETTABLE_CLASS(klass);

    k->realize = testdev_realize;
    k->exit = testdev_exit;
    k->vendor_id = VSMMU_DMA_TESTDEV_VENDOR_ID;
    k->device_id = VSMMU_DMA_TESTDEV_DEVICE_ID;
    k->revision = 0;
    k->class_id = PCI_CLASS_OTHERS;
    dc->desc = "DMA test device for IOMMU translation tests and benchmarks";
    dc->vmsd = &vmstate_testdev;
    rc->phases.hold = testdev_reset_hold;
    set_bit(DEVICE_CATEGORY_MISC, dc->categories);
}

static const TypeInfo testdev_types[] = {
    {
        .name          = TYPE_VSMMU_DMA_TESTDEV,
        .parent        = TYPE_PCI_DEVICE,
        .instance_size = sizeof(VsmmuDmaTestdevState),
        .class_init    = testdev_class_init,
        .interfaces    = (const InterfaceInfo[]) {
            { INTERFACE_CONVENTIONAL_PCI_DEVICE },
            { },
        },
    },
};

DEFINE_TYPES(testdev_types)
