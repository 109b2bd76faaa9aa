/*
 * vsmmu: the NVIDIA Tegra241 CMDQ-Virtualization extension (CMDQV) as a
 * guest sees it — state, and what the board calls to describe it.
 *
 * The guest gets one VINTF (VINTF0, HYP_OWN reading 0) with
 * cmdqv-vcmdqs logical VCMDQs. Emulated, the VCMDQs are consumed by the
 * vsmmu's command engine; accelerated on a host with a CMDQV, VINTF0's
 * page 0 is the host VINTF's page, mapped into the guest. With
 * cmdqv-vintfs > 1 (emulated only) the guest is a host instead: it sees
 * cmdqv-vintfs VINTFs as EL2 software does on real hardware (HYP_OWN
 * writable, VMIDs, SID_MATCH/SID_REPLACE applied to guest-owned VINTFs'
 * commands). See docs/cmdqv.md and hw/arm/vsmmu/vsmmu-cmdqv.c.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef HW_ARM_VSMMU_CMDQV_H
#define HW_ARM_VSMMU_CMDQV_H

#include "system/memory.h"
#include "hw/irq.h"
#include "qapi/qapi-types-common.h"
#include "hw/arm/vsmmu/cmdqv-regs.h"
#include "hw/arm/vsmmu/queue.h"

typedef struct VsmmuState VsmmuState;
typedef struct PlatformBusDevice PlatformBusDevice;

typedef struct VsmmuVcmdq {
    /*
     * Guest-programmed. The queue as the command engine runs it: q.base
     * is page 1 BASE as written (ADDR, LOG2SIZE), q.prod page 0 PROD,
     * q.cons page 0 CONS (index, wrap, ERR)
     */
    VsmmuQueue q;
    uint64_t cons_indx_base;     /* page 1 CONS_INDX_BASE (stored only) */
    uint32_t config;             /* page 0 CONFIG.EN */
    uint32_t gerror;             /* errors raised (toggled bits) */
    uint32_t gerrorn;            /* errors the guest acknowledged */
    uint32_t alloc;              /* CMDQ_ALLOC(q) of this global queue */
    /* Accelerated: the host could not back this queue (docs/cmdqv.md) */
    bool host_fault;
} VsmmuVcmdq;

/* One VINTF's configuration (VINTF v at CMDQV_VINTF_BASE(v)) */
typedef struct VsmmuVintf {
    /* Guest-programmed */
    uint32_t config;             /* CONFIG: EN, VMID; HYP_OWN (host side) */
    uint32_t sid_match[CMDQV_MAX_SIDS];
    uint32_t sid_replace[CMDQV_MAX_SIDS];
    /* Counters (`info vsmmu`), never guest-visible, not migrated */
    uint64_t stats_commands;     /* commands its VCMDQs consumed */
    uint64_t stats_errors;       /* errors of its VCMDQs */
} VsmmuVintf;

typedef struct VsmmuCmdqvHost VsmmuCmdqvHost;

typedef struct VsmmuCmdqv {
    /* Properties */
    OnOffAuto mode;              /* cmdqv=on|off|auto */
    uint32_t num_vcmdqs;         /* cmdqv-vcmdqs: power of 2, <= 128 */
    uint32_t num_sids;           /* cmdqv-sids: power of 2, <= 16 */
    /* cmdqv-vintfs: power of 2, <= 64; > 1: the host side (emulated) */
    uint32_t num_vintfs;

    /* Derived at realize / when the guest description is built */
    bool present;                /* the guest has a CMDQV */
    bool decided;                /* present is final (described to guest) */
    bool host_seen;              /* auto: a host CMDQV was reported */
    uint32_t param;              /* PARAM */
    MemoryRegion mmio;           /* container: regs + VINTF0 page 0 */
    MemoryRegion regs;           /* the trapped registers */
    qemu_irq irq;

    /* Guest-programmed */
    uint32_t config;             /* CONFIG */
    /* VINTF_INT_MASK: stored; host side: bit v masks VINTF v's errors */
    uint64_t vintf_int_mask;
    /* VINTF 0..num_vintfs-1; the guest's view: VINTF0, HYP_OWN kept 0 */
    VsmmuVintf vintf[CMDQV_MAX_VINTFS];
    /* global VCMDQs 0..num_vcmdqs * num_vintfs - 1 */
    VsmmuVcmdq vcmdq[CMDQV_MAX_VCMDQS];
    /* The command engine's runner of each (not guest state: kept at reset) */
    VsmmuCmdqRunner vcmdq_runner[CMDQV_MAX_VCMDQS];
    /* Errors the host reported for its queues (accelerated) */
    uint64_t host_err_map[2];
    uint32_t host_err_gerrorn[CMDQV_MAX_VCMDQS];  /* GERRORN at the report */

    /*
     * Accelerated on a host CMDQV (vsmmu-cmdqv-accel.c): the host's side
     * of VINTF0, reached only through its ops (vsmmu-cmdqv.h); its state
     * is its own. host_ops is set while the host VINTF page backs VINTF0
     * page 0, NULL when the VCMDQs are emulated.
     */
    const struct VsmmuCmdqvHostOps *host_ops;
    VsmmuCmdqvHost *host;
    /* The page's region, made once and kept for the device's life */
    struct VsmmuCmdqvHostPage *host_page;

    /* Counters (x-stats-vcmdq-*), never guest-visible */
    uint64_t stats_traps;        /* trapped accesses to VCMDQ pages */
    uint64_t stats_commands;     /* commands consumed from emulated VCMDQs */
    uint64_t stats_errors;       /* VCMDQ errors raised to the guest */
    uint64_t stats_irqs;         /* CMDQV interrupts */
} VsmmuCmdqv;

/* ---- board (hw/arm/virt.c, hw/arm/virt-acpi-build.c) -------------------- */

/* Index of the CMDQV MMIO region and of its sysbus interrupt */
#define VSMMU_CMDQV_MMIO_INDEX  1
#define VSMMU_CMDQV_IRQ_INDEX   4

/*
 * Whether the vsmmu @obj shows a CMDQV to the guest. The first call
 * settles cmdqv=auto for good (the guest description is being built).
 */
bool vsmmu_cmdqv_present(Object *obj);

/*
 * DT: for each vsmmu with a CMDQV whose SMMU node exists, add the
 * "nvidia,tegra264-cmdqv" node and point the SMMU node at it
 * ("nvidia,cmdqv", compatible "nvidia,tegra264-smmu", "arm,smmu-v3").
 * @pbus_base and @pbus_irq: where the platform bus sits (SPI numbers).
 */
void vsmmu_cmdqv_fdt_describe(void *fdt, PlatformBusDevice *pbus,
                              hwaddr pbus_base, int pbus_irq);

/*
 * ACPI: append to @scope the NVDA200C device of the vsmmu @obj if it has
 * a CMDQV; @uid is its IORT SMMUv3 node's identifier, @gsi_base the GSI
 * of the platform bus's first interrupt.
 */
void vsmmu_cmdqv_acpi_dsdt(struct Aml *scope, Object *obj,
                           PlatformBusDevice *pbus, hwaddr pbus_base,
                           int gsi_base, uint32_t uid);

#endif /* HW_ARM_VSMMU_CMDQV_H */
