/*
 * vsmmu: a virtual Arm SMMUv3 (stage 1) for QEMU, emulated or accelerated
 * through iommufd nesting.
 *
 * This header is the device's public face: its QOM type and state. The
 * register layout is in regs.h; the internal seams (command engine,
 * stream table decoder, backends) are in hw/arm/vsmmu/vsmmu-internal.h.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef HW_ARM_VSMMU_H
#define HW_ARM_VSMMU_H

#include "hw/arm/smmu-common.h"
#include "qom/object.h"

#define TYPE_VSMMU "vsmmu"
OBJECT_DECLARE_TYPE(VsmmuState, VsmmuClass, VSMMU)

#define TYPE_VSMMU_IOMMU_MEMORY_REGION "vsmmu-iommu-memory-region"

/* Wired interrupts, in the order of the DT "interrupt-names" */
enum {
    VSMMU_IRQ_EVTQ,
    VSMMU_IRQ_PRIQ,
    VSMMU_IRQ_CMD_SYNC,
    VSMMU_IRQ_GERROR,
    VSMMU_NUM_IRQS,
};

struct VsmmuState {
    SMMUState smmu;              /* smmu-common: bus, device regions, walker */

    qemu_irq irq[VSMMU_NUM_IRQS];

    /* Properties: what the user asked for */
    uint8_t oas;                 /* output address size in bits */
    uint8_t sidsize;             /* stream ID bits */
    uint8_t ssidsize;            /* substream ID bits, 0 = no substreams */
    bool ril;                    /* range invalidation (IDR3.RIL) */
    bool ats;                    /* ATS supported (IDR0.ATS) */

    /* Derived at realize from the properties, constant afterwards */
    uint32_t idr[6];             /* IDR0..IDR5 */
    uint32_t iidr;
    uint32_t aidr;

    /* Guest-programmed control state */
    uint32_t cr0;                /* CR0 as written */
    uint32_t gbpa;               /* GBPA, UPDATE always reads 0 */
};

struct VsmmuClass {
    SMMUBaseClass parent_class;

    DeviceRealize parent_realize;
    ResettablePhases parent_phases;
};

#endif /* HW_ARM_VSMMU_H */
