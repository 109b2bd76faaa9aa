/*
 * vsmmu: DMA of emulated PCI devices through the per-device IOMMU regions
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "vsmmu-internal.h"
#include "trace.h"

/*
 * With SMMUEN clear every transaction follows GBPA (§6.3.14): it either
 * aborts or bypasses with the incoming address, one identity entry for the
 * whole address space.
 */
static IOMMUTLBEntry vsmmu_translate(IOMMUMemoryRegion *mr, hwaddr addr,
                                     IOMMUAccessFlags flag, int iommu_idx)
{
    SMMUDevice *sdev = container_of(mr, SMMUDevice, iommu);
    VsmmuState *s = sdev->smmu;
    IOMMUTLBEntry entry = {
        .target_as = &address_space_memory,
        .iova = 0,
        .translated_addr = 0,
        .addr_mask = ~(hwaddr)0,
        .perm = IOMMU_RW,
    };

    if (!vsmmu_enabled(s) && FIELD_EX32(s->gbpa, GBPA, ABORT)) {
        entry.perm = IOMMU_NONE;
    }
    trace_vsmmu_translate(smmu_get_sid(sdev), addr, entry.perm);
    return entry;
}

void vsmmu_iommu_memory_region_class_init(ObjectClass *klass,
                                          const void *data)
{
    IOMMUMemoryRegionClass *imrc = IOMMU_MEMORY_REGION_CLASS(klass);

    imrc->translate = vsmmu_translate;
}
