/*
 * vsmmu: seams of the Tegra241 CMDQV model (vsmmu-cmdqv*.c)
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef HW_ARM_VSMMU_CMDQV_INTERNAL_H
#define HW_ARM_VSMMU_CMDQV_INTERNAL_H

#include "qemu/atomic.h"
#include "hw/arm/vsmmu/cmdqv.h"

/*
 * The host VINTF page holds hardware registers that change behind QEMU's
 * back: one access each, never cached (@r: a queue's page 0 registers)
 */
static inline uint32_t cmdqv_hreg(uint32_t *r, unsigned idx)
{
    return qatomic_read(&r[idx]);
}

static inline void cmdqv_hreg_set(uint32_t *r, unsigned idx, uint32_t v)
{
    qatomic_set(&r[idx], v);
}

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

/* ---- the accelerated backend's services (vsmmu-accel.c) ------------------ */

typedef struct VsmmuIommufdReaper VsmmuIommufdReaper;

/* Where host objects go to be destroyed, in order, retried on EBUSY */
VsmmuIommufdReaper *vsmmu_accel_reaper(VsmmuState *s);
/* Report a host refusal the guest can provoke again: rate-limited */
void vsmmu_accel_report(VsmmuState *s, Error *err);

/* ---- accelerated (vsmmu-cmdqv-accel.c), called by vsmmu-accel.c ---------- */

/*
 * Before VIOMMU_ALLOC for device @dev_id: the vIOMMU type to ask for and
 * its driver data. TEGRA241_CMDQV when the guest has (or may get) a CMDQV
 * and the host SMMU has one; ARM_SMMUV3 otherwise (with cmdqv=on the
 * VCMDQs are then emulated). Fails if the host cannot give what the
 * properties promise.
 */
bool vsmmu_cmdqv_accel_viommu_type(VsmmuState *s, uint32_t dev_id,
                                   const uint32_t host_idr[6], uint32_t *type,
                                   void **data, uint32_t *len, Error **errp);
/* After VIOMMU_ALLOC: map the VINTF page, vEVENTQ, the guest's queues */
bool vsmmu_cmdqv_accel_up(VsmmuState *s, uint32_t viommu_id, Error **errp);
/*
 * Before the vIOMMU goes: page unmapped from the guest and from QEMU,
 * queues destroyed (descending), vEVENTQ handed to the reaper
 */
void vsmmu_cmdqv_accel_down(VsmmuState *s);
/* `info vsmmu` lines */
void vsmmu_cmdqv_accel_info(VsmmuState *s, GString *buf);

#endif /* HW_ARM_VSMMU_CMDQV_INTERNAL_H */
