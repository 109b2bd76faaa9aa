/*
 * vsmmu: seams of the Tegra241 CMDQV model (vsmmu-cmdqv*.c)
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef HW_ARM_VSMMU_CMDQV_INTERNAL_H
#define HW_ARM_VSMMU_CMDQV_INTERNAL_H

#include "hw/arm/vsmmu/cmdqv.h"

/* ---- the guest model (vsmmu-cmdqv.c) ------------------------------------ */

/* After the ID registers are set, before the registers reset */
bool vsmmu_cmdqv_realize(VsmmuState *s, Error **errp);
/*
 * Accelerated: cap IDR1.CMDQS (s->cmdqs_max) to the command queues that
 * guest RAM can back contiguously for the host's VCMDQs
 */
void vsmmu_cmdqv_cap_cmdqs(VsmmuState *s);
/* After the SMMU's own MMIO region and interrupts */
void vsmmu_cmdqv_init_sysbus(VsmmuState *s);
void vsmmu_cmdqv_reset(VsmmuState *s);
void vsmmu_cmdqv_instance_init(Object *obj);
extern const VMStateDescription vmstate_vsmmu_cmdqv;

/* PARAM from the counts and @version */
void vsmmu_cmdqv_set_param(VsmmuCmdqv *cv, uint8_t version);
/* Logical index in VINTF0 of global queue @q, and back; -1 if none */
int vsmmu_cmdqv_lidx(VsmmuCmdqv *cv, unsigned q);
int vsmmu_cmdqv_global(VsmmuCmdqv *cv, unsigned lidx);
/* CMDQV_EN and VINTF0 EN */
bool vsmmu_cmdqv_vintf_enabled(VsmmuCmdqv *cv);
/* Pulse the CMDQV interrupt (an error map changed) */
void vsmmu_cmdqv_irq(VsmmuState *s);
/* `info vsmmu` lines */
void vsmmu_cmdqv_info(VsmmuState *s, GString *buf);

/* ---- the host interface (implemented by vsmmu-cmdqv-accel.c) ------------ */

/*
 * What the guest model asks of a host CMDQV, as Linux's arm_smmu_impl_ops
 * lets an SMMU implementation plug in. VsmmuCmdqv.host_ops is set while
 * a host VINTF page backs VINTF0 (every call then has a host); the model
 * never reads the host's page or state itself. BQL held, no vsmmu lock.
 */
typedef struct VsmmuCmdqvHostOps {
    /* Is logical queue @lidx the host's (its page 0 in the host page)? */
    bool (*backs)(VsmmuCmdqvHost *h, unsigned lidx);
    /* Page 0 register @reg (byte offset) of a queue the host backs */
    uint32_t (*read_page0)(VsmmuCmdqvHost *h, unsigned lidx, hwaddr reg);
    void (*write_page0)(VsmmuCmdqvHost *h, unsigned lidx, hwaddr reg,
                        uint32_t val);
    /* The guest's programming changed: make the host's queues follow */
    void (*sync)(VsmmuCmdqvHost *h);
    /* After an incoming migration: the loaded queue state to the host */
    void (*load)(VsmmuCmdqvHost *h);
    /* `info vsmmu` lines after the CMDQV's */
    void (*info)(VsmmuCmdqvHost *h, GString *buf);
} VsmmuCmdqvHostOps;

/* ---- accelerated (vsmmu-cmdqv-accel.c), called by vsmmu-accel.c ---------- */

/*
 * Before VIOMMU_ALLOC for device @dev_id: the vIOMMU type to ask for and
 * its driver data. TEGRA241_CMDQV when the guest has (or may get) a CMDQV
 * and the host SMMU has one; ARM_SMMUV3 otherwise (with cmdqv=on the
 * VCMDQs are then emulated). Fails if the host cannot give what the
 * properties promise.
 */
typedef struct IOMMUFDBackend IOMMUFDBackend;
typedef struct VsmmuIommufdReaper VsmmuIommufdReaper;
typedef struct VsmmuReportLimit VsmmuReportLimit;

/*
 * @be, @reaper and @limit are the vsmmu's iommufd, the reaper its host
 * objects go to and the rate limit of its reports (vsmmu-accel.c's).
 */
bool vsmmu_cmdqv_accel_viommu_type(VsmmuState *s, IOMMUFDBackend *be,
                                   VsmmuIommufdReaper *reaper,
                                   VsmmuReportLimit *limit, uint32_t dev_id,
                                   const uint32_t host_idr[6], uint32_t *type,
                                   void **data, uint32_t *len, Error **errp);
/* After VIOMMU_ALLOC: map the VINTF page, vEVENTQ, the guest's queues */
bool vsmmu_cmdqv_accel_up(VsmmuState *s, uint32_t viommu_id, Error **errp);
/*
 * Before the vIOMMU goes: page unmapped from the guest and from QEMU,
 * queues destroyed (descending), vEVENTQ handed to the reaper
 */
void vsmmu_cmdqv_accel_down(VsmmuState *s);

#endif /* HW_ARM_VSMMU_CMDQV_INTERNAL_H */
