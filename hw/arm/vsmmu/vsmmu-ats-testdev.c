/*
 * vsmmu-ats-testdev: a PCIe endpoint with ATS, for the qtests
 *
 * The endpoint side of PCIe ATS, as QEMU offers it to device models: ATS
 * Translation Requests through pci_ats_request_translation(), whose
 * completions fill a small ATC, reads through that ATC with the
 * translated address (what a Translated request does: the root complex
 * passes it on untranslated), and a device-IOTLB notifier through which
 * the IOMMU invalidates it. Register layout and commands in
 * include/hw/arm/vsmmu/ats-testdev.h.
 *
 * The notifier is registered while ATS is enabled in the function's ATS
 * capability (Control.E), set by the guest; a reset drops the ATC.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/log.h"
#include "qemu/module.h"
#include "qemu/range.h"
#include "hw/pci/pci_device.h"
#include "hw/pci/pcie.h"
#include "hw/pci/pci_bus.h"
#include "migration/vmstate.h"
#include "system/address-spaces.h"
#include "hw/arm/vsmmu/vsmmu.h"
#include "hw/arm/vsmmu/ats-testdev.h"
#include "qom/object.h"

OBJECT_DECLARE_SIMPLE_TYPE(VsmmuAtsTestdevState, VSMMU_ATS_TESTDEV)

/* PCI Express capability in the standard configuration space */
#define ATSTD_EXP_CAP           0x40

typedef struct AtstdEntry {
    bool valid;
    uint64_t iova;
    uint64_t mask;
    uint64_t pa;
    uint8_t perm;
} AtstdEntry;

struct VsmmuAtsTestdevState {
    PCIDevice parent_obj;

    MemoryRegion mmio;
    IOMMUNotifier n;
    bool n_registered;
    AtstdEntry atc[VSMMU_ATS_TESTDEV_ATC_SIZE];
    unsigned atc_next;          /* replacement, round robin */

    uint64_t addr, len, flags;
    uint64_t status, nresults, err_count;
    IOMMUTLBEntry res;          /* first entry of the last completion */
    uint64_t inv_count, inv_iova, inv_mask;
    uint64_t data, tr_count;
};

static unsigned atstd_atc_valid(VsmmuAtsTestdevState *s)
{
    unsigned n = 0;

    for (int i = 0; i < ARRAY_SIZE(s->atc); i++) {
        n += s->atc[i].valid;
    }
    return n;
}

static void atstd_atc_flush(VsmmuAtsTestdevState *s)
{
    memset(s->atc, 0, sizeof(s->atc));
}

/* The IOMMU invalidates [iova, iova + addr_mask]: drop what overlaps */
static void atstd_invalidate(IOMMUNotifier *n, IOMMUTLBEntry *e)
{
    VsmmuAtsTestdevState *s = container_of(n, VsmmuAtsTestdevState, n);

    s->inv_count++;
    s->inv_iova = e->iova;
    s->inv_mask = e->addr_mask;
    for (int i = 0; i < ARRAY_SIZE(s->atc); i++) {
        AtstdEntry *a = &s->atc[i];

        if (a->valid && ranges_overlap(a->iova, a->mask + 1, e->iova,
                                       e->addr_mask + 1 ?: UINT64_MAX)) {
            a->valid = false;
        }
    }
}

/* The ATC listens while the guest has ATS enabled, as hardware caches */
static void atstd_sync_notifier(VsmmuAtsTestdevState *s)
{
    PCIDevice *pdev = PCI_DEVICE(s);
    bool want = pcie_ats_enabled(pdev);

    if (want == s->n_registered) {
        return;
    }
    if (want) {
        if (pci_iommu_init_iotlb_notifier(pdev, &s->n, atstd_invalidate,
                                          s) ||
            pci_iommu_register_iotlb_notifier(pdev, PCI_NO_PASID, &s->n)) {
            qemu_log_mask(LOG_GUEST_ERROR, "%s: no IOMMU to listen to\n",
                          TYPE_VSMMU_ATS_TESTDEV);
            return;
        }
    } else {
        pci_iommu_unregister_iotlb_notifier(pdev, PCI_NO_PASID, &s->n);
        atstd_atc_flush(s);
    }
    s->n_registered = want;
}

static unsigned atstd_status_of(ssize_t ret)
{
    switch (ret) {
    case VSMMU_ATS_UR:
        return VSMMU_ATSTD_UR;
    case VSMMU_ATS_CA:
        return VSMMU_ATSTD_CA;
    default:
        return VSMMU_ATSTD_ERROR;
    }
}

/* One Translation Request for [addr, addr + len); completions to the ATC */
static unsigned atstd_translate(VsmmuAtsTestdevState *s, uint64_t addr,
                                uint64_t len)
{
    IOMMUTLBEntry res[VSMMU_ATS_TESTDEV_ATC_SIZE];
    uint32_t err = 0;
    ssize_t ret;

    s->tr_count++;
    ret = pci_ats_request_translation(PCI_DEVICE(s), PCI_NO_PASID, false,
                                      false, addr, len,
                                      FIELD_EX64(s->flags, ATSTD_FLAGS,
                                                 NO_WRITE),
                                      res, ARRAY_SIZE(res), &err);
    s->nresults = 0;
    s->err_count = err;
    if (ret < 0) {
        return atstd_status_of(ret);
    }
    s->nresults = ret;
    if (ret) {
        s->res = res[0];
    }
    for (ssize_t i = 0; i < ret; i++) {
        AtstdEntry *a = &s->atc[s->atc_next];

        if (!(res[i].perm & IOMMU_RW)) {
            continue;           /* no access: nothing to cache */
        }
        *a = (AtstdEntry) {
            .valid = true,
            .iova = res[i].iova,
            .mask = res[i].addr_mask,
            .pa = res[i].translated_addr,
            .perm = res[i].perm,
        };
        s->atc_next = (s->atc_next + 1) % ARRAY_SIZE(s->atc);
    }
    return VSMMU_ATSTD_OK;
}

static AtstdEntry *atstd_lookup(VsmmuAtsTestdevState *s, uint64_t addr)
{
    for (int i = 0; i < ARRAY_SIZE(s->atc); i++) {
        AtstdEntry *a = &s->atc[i];

        if (a->valid && (addr & ~a->mask) == a->iova) {
            return a;
        }
    }
    return NULL;
}

/* A read through the ATC: translate on a miss, then a Translated read */
static unsigned atstd_read(VsmmuAtsTestdevState *s)
{
    AtstdEntry *a = atstd_lookup(s, s->addr);
    unsigned st;

    if (!a) {
        st = atstd_translate(s, s->addr, 8);
        if (st != VSMMU_ATSTD_OK) {
            return st;
        }
        a = atstd_lookup(s, s->addr);
    }
    if (!a || !(a->perm & IOMMU_RO)) {
        return VSMMU_ATSTD_NO_ACCESS;
    }
    if (address_space_read(&address_space_memory,
                           a->pa | (s->addr & a->mask),
                           MEMTXATTRS_UNSPECIFIED, &s->data,
                           sizeof(s->data)) != MEMTX_OK) {
        return VSMMU_ATSTD_ERROR;
    }
    s->data = le64_to_cpu(s->data);
    return VSMMU_ATSTD_OK;
}

static void atstd_run(VsmmuAtsTestdevState *s, uint64_t cmd)
{
    switch (cmd) {
    case VSMMU_ATSTD_CMD_TRANSLATE:
        s->status = atstd_translate(s, s->addr, s->len);
        break;
    case VSMMU_ATSTD_CMD_READ:
        s->status = atstd_read(s);
        break;
    case VSMMU_ATSTD_CMD_FLUSH:
        atstd_atc_flush(s);
        s->status = VSMMU_ATSTD_OK;
        break;
    default:
        qemu_log_mask(LOG_GUEST_ERROR, "%s: unknown command %" PRIu64 "\n",
                      TYPE_VSMMU_ATS_TESTDEV, cmd);
        s->status = VSMMU_ATSTD_BAD_CMD;
        break;
    }
}

static uint64_t atstd_mmio_read(void *opaque, hwaddr addr, unsigned size)
{
    VsmmuAtsTestdevState *s = opaque;
    uint64_t val;

    switch (addr & ~7ULL) {
    case A_ATSTD_ID:
        val = VSMMU_ATS_TESTDEV_ID;
        break;
    case A_ATSTD_ADDR:
        val = s->addr;
        break;
    case A_ATSTD_LEN:
        val = s->len;
        break;
    case A_ATSTD_FLAGS:
        val = s->flags;
        break;
    case A_ATSTD_STATUS:
        val = s->status;
        break;
    case A_ATSTD_NRESULTS:
        val = s->nresults;
        break;
    case A_ATSTD_ERR_COUNT:
        val = s->err_count;
        break;
    case A_ATSTD_RES_IOVA:
        val = s->res.iova;
        break;
    case A_ATSTD_RES_PA:
        val = s->res.translated_addr;
        break;
    case A_ATSTD_RES_MASK:
        val = s->res.addr_mask;
        break;
    case A_ATSTD_RES_PERM:
        val = s->res.perm;
        break;
    case A_ATSTD_ATC_VALID:
        val = atstd_atc_valid(s);
        break;
    case A_ATSTD_INV_COUNT:
        val = s->inv_count;
        break;
    case A_ATSTD_INV_IOVA:
        val = s->inv_iova;
        break;
    case A_ATSTD_INV_MASK:
        val = s->inv_mask;
        break;
    case A_ATSTD_DATA:
        val = s->data;
        break;
    case A_ATSTD_TR_COUNT:
        val = s->tr_count;
        break;
    default:
        val = 0;
        break;
    }
    return extract64(val, (addr & 7) * 8, size * 8);
}

static void atstd_mmio_write(void *opaque, hwaddr addr, uint64_t val,
                             unsigned size)
{
    VsmmuAtsTestdevState *s = opaque;
    unsigned shift = (addr & 7) * 8;

    switch (addr & ~7ULL) {
    case A_ATSTD_ADDR:
        s->addr = deposit64(s->addr, shift, size * 8, val);
        break;
    case A_ATSTD_LEN:
        s->len = deposit64(s->len, shift, size * 8, val);
        break;
    case A_ATSTD_FLAGS:
        s->flags = deposit64(s->flags, shift, size * 8, val);
        break;
    case A_ATSTD_CMD:
        if (!shift) {
            atstd_run(s, val);
        }
        break;
    default:
        qemu_log_mask(LOG_GUEST_ERROR, "%s: write to offset 0x%" HWADDR_PRIx
                      " ignored\n", TYPE_VSMMU_ATS_TESTDEV, addr);
        break;
    }
}

static const MemoryRegionOps atstd_mmio_ops = {
    .read = atstd_mmio_read,
    .write = atstd_mmio_write,
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

static void atstd_config_write(PCIDevice *pdev, uint32_t addr, uint32_t val,
                               int len)
{
    pci_default_write_config(pdev, addr, val, len);
    atstd_sync_notifier(VSMMU_ATS_TESTDEV(pdev));
}

static void atstd_realize(PCIDevice *pdev, Error **errp)
{
    VsmmuAtsTestdevState *s = VSMMU_ATS_TESTDEV(pdev);

    if (pcie_endpoint_cap_init(pdev, ATSTD_EXP_CAP) < 0) {
        error_setg(errp, "%s: no room for the PCI Express capability",
                   TYPE_VSMMU_ATS_TESTDEV);
        return;
    }
    pcie_ats_init(pdev, VSMMU_ATS_TESTDEV_ATS_CAP, true);
    memory_region_init_io(&s->mmio, OBJECT(s), &atstd_mmio_ops, s,
                          "vsmmu-ats-testdev-mmio",
                          VSMMU_ATS_TESTDEV_BAR_SIZE);
    pci_register_bar(pdev, 0, PCI_BASE_ADDRESS_SPACE_MEMORY |
                     PCI_BASE_ADDRESS_MEM_TYPE_64, &s->mmio);
}

static void atstd_exit(PCIDevice *pdev)
{
    VsmmuAtsTestdevState *s = VSMMU_ATS_TESTDEV(pdev);

    if (s->n_registered) {
        pci_iommu_unregister_iotlb_notifier(pdev, PCI_NO_PASID, &s->n);
        s->n_registered = false;
    }
    pcie_cap_exit(pdev);
}

static void atstd_reset_hold(Object *obj, ResetType type)
{
    VsmmuAtsTestdevState *s = VSMMU_ATS_TESTDEV(obj);

    atstd_atc_flush(s);
    s->atc_next = 0;            /* filled from the first entry again */
    s->addr = s->len = s->flags = 0;
    s->status = s->nresults = s->err_count = 0;
    memset(&s->res, 0, sizeof(s->res));
    s->inv_count = s->inv_iova = s->inv_mask = 0;
    s->data = s->tr_count = 0;
    /* ATS disabled (Control.E clear), so the ATC stops listening */
    pci_set_word(PCI_DEVICE(s)->config + VSMMU_ATS_TESTDEV_ATS_CAP +
                 PCI_ATS_CTRL, 0);
    atstd_sync_notifier(s);
}

static const VMStateDescription vmstate_atstd = {
    .name = TYPE_VSMMU_ATS_TESTDEV,
    .unmigratable = 1,
};

static void atstd_class_init(ObjectClass *klass, const void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);
    PCIDeviceClass *k = PCI_DEVICE_CLASS(klass);
    ResettableClass *rc = RESETTABLE_CLASS(klass);

    k->realize = atstd_realize;
    k->exit = atstd_exit;
    k->config_write = atstd_config_write;
    k->vendor_id = VSMMU_ATS_TESTDEV_VENDOR_ID;
    k->device_id = VSMMU_ATS_TESTDEV_DEVICE_ID;
    k->class_id = PCI_CLASS_OTHERS;
    dc->desc = "PCIe ATS endpoint for IOMMU ATS tests";
    dc->vmsd = &vmstate_atstd;
    rc->phases.hold = atstd_reset_hold;
    set_bit(DEVICE_CATEGORY_MISC, dc->categories);
}

static const TypeInfo atstd_types[] = {
    {
        .name          = TYPE_VSMMU_ATS_TESTDEV,
        .parent        = TYPE_PCI_DEVICE,
        .instance_size = sizeof(VsmmuAtsTestdevState),
        .class_init    = atstd_class_init,
        .interfaces    = (const InterfaceInfo[]) {
            { INTERFACE_PCIE_DEVICE },
            { },
        },
    },
};

DEFINE_TYPES(atstd_types)
