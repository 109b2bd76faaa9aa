/*
 * vsmmu: seams between the files of the device model
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef HW_ARM_VSMMU_INTERNAL_H
#define HW_ARM_VSMMU_INTERNAL_H

#include "hw/arm/vsmmu/vsmmu.h"
#include "hw/arm/vsmmu/regs.h"

/* vsmmu-regs.c: the register pages */
extern const MemoryRegionOps vsmmu_mmio_ops;
void vsmmu_regs_init_idr(VsmmuState *s);
void vsmmu_regs_reset(VsmmuState *s);

/* vsmmu-translate.c: DMA of emulated devices through the IOMMU regions */
void vsmmu_iommu_memory_region_class_init(ObjectClass *klass,
                                          const void *data);

static inline bool vsmmu_enabled(VsmmuState *s)
{
    return FIELD_EX32(s->cr0, CR0, SMMUEN);
}

#endif /* HW_ARM_VSMMU_INTERNAL_H */
