/*
 * vsmmu: a virtual Arm SMMUv3 for QEMU: stage 1, emulated or accelerated
 * through iommufd nesting; emulated, also stage 2 and nesting.
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
#include "qemu/thread.h"
#include "qapi/qapi-types-common.h"
#include "hw/arm/vsmmu/queue.h"
#include "hw/arm/vsmmu/cmdqv.h"

#define TYPE_VSMMU "vsmmu"
OBJECT_DECLARE_TYPE(VsmmuState, VsmmuClass, VSMMU)

#define TYPE_VSMMU_IOMMU_MEMORY_REGION "vsmmu-iommu-memory-region"

/*
 * Translation stages offered (property "stage"): IDR0.S1P/S2P, the STE
 * configurations and the commands the model accepts. Accelerated mode
 * offers stage 1 only.
 */
typedef enum VsmmuStages {
    VSMMU_STAGES_1,              /* "1": stage 1 (the default) */
    VSMMU_STAGES_2,              /* "2": stage 2 */
    VSMMU_STAGES_NESTED,         /* "nested": stage 1, stage 2, S1 over S2 */
} VsmmuStages;

/* A numeric property set to "auto" */
#define VSMMU_PROP_AUTO UINT8_MAX

/* What "auto" means until a host SMMU says otherwise */
#define VSMMU_DEFAULT_OAS       44
#define VSMMU_DEFAULT_SSIDSIZE  16
#define VSMMU_DEFAULT_RIL       true
#define VSMMU_DEFAULT_ATS       false

/*
 * An emulated endpoint's ATS Translation Request (pci_ats_request_translation)
 * that the root complex does not complete with translations returns one of
 * these: Unsupported Request when ATS is not permitted for the stream (the
 * SMMU disabled or without ATS, STE.EATS = 0, an STE that bypasses or
 * aborts), Completer Abort on a configuration error (its event recorded).
 * A translation fault is not an error: its entry has no permission (R = W
 * = 0) and counts in err_count. See vsmmu-translate.c.
 */
#define VSMMU_ATS_UR            (-EPERM)
#define VSMMU_ATS_CA            (-EIO)

/* Wired interrupts, in the order of the DT "interrupt-names" */
enum {
    VSMMU_IRQ_EVTQ,
    VSMMU_IRQ_PRIQ,
    VSMMU_IRQ_CMD_SYNC,
    VSMMU_IRQ_GERROR,
    VSMMU_NUM_IRQS,
};

/* Event records translate() found, waiting for the BQL (security.md) */
#define VSMMU_EVT_FIFO_DEPTH    64

/* Counters shown by the demo and the benchmarks; never guest-visible */
typedef struct VsmmuStats {
    uint64_t commands;           /* commands consumed from any queue */
    uint64_t batches;            /* process_batch calls */
    uint64_t syncs;              /* CMD_SYNCs completed */
    uint64_t events;             /* event records written */
    uint64_t events_lost;        /* events dropped on a full queue */
    uint64_t evtq_signals;       /* event queue interrupts/MSIs raised */
    uint64_t translations;       /* translate calls */
    uint64_t utlb_hits;          /* ... answered by the per-device cache */
    uint64_t host_ioctls;        /* accel: iommufd ioctls issued */
    uint64_t host_inval_ioctls;  /* ... of which IOMMU_HWPT_INVALIDATE */
    uint64_t host_inval_cmds;    /* commands those carried */
    uint64_t host_events;        /* vEVENTQ records injected */
    uint64_t host_events_lost;   /* vEVENTQ sequence gaps + LOST_EVENTS */
    uint64_t slice_max_ns;       /* longest command-queue slice, CPU time */
    uint64_t slice_max_wall_ns;  /* ... wall time (includes preemption) */
    uint64_t slices_deferred;    /* slices that left work to a bottom half */
    uint64_t atc_invs;           /* ATC_INV commands consumed (any queue) */
    uint64_t ats_requests;       /* ATS Translation Requests answered [T] */
} VsmmuStats;

typedef struct VsmmuDevice VsmmuDevice;

/*
 * Properties of accelerated mode. Only the properties live here: the
 * iommufd backend's runtime state is its own (VsmmuAccel in
 * vsmmu-accel.c, behind VsmmuState.backend_opaque).
 */
typedef struct VsmmuAccelProps {
    bool enabled;                /* accel: nested translation via iommufd */
    struct IOMMUFDBackend *iommufd;  /* iommufd: the host's /dev/iommu */
    bool batch;                  /* x-batch: one ioctl per batch */
    uint64_t msi_gpa;            /* msi-gpa: KVM MSI doorbell, 0 = the vITS */
} VsmmuAccelProps;

struct VsmmuState {
    SMMUState smmu;              /* smmu-common: bus, device regions, walker */

    qemu_irq irq[VSMMU_NUM_IRQS];
    /*
     * Leaf lock of the translation state (docs/security.md): the fields
     * marked [T] below, the per-device configurations and micro-TLBs,
     * smmu-common's IOTLB and the pending events. Everything else is
     * owned by the BQL. [T] fields are written with both held, so BQL
     * code reads them without the mutex. Never held across a call that
     * leaves the vsmmu.
     */
    QemuMutex mutex;
    /* Chosen at realize (backend.h); its own state, opaque to the model */
    const struct VsmmuBackendOps *backend;
    void *backend_opaque;

    /* Properties: what the user asked for (VSMMU_PROP_AUTO: "auto") */
    uint8_t oas_prop;            /* output address size in bits */
    uint8_t sidsize;             /* stream ID bits */
    uint8_t ssidsize_prop;       /* substream ID bits, 0 = no substreams */
    OnOffAuto ril_prop;          /* range invalidation (IDR3.RIL) */
    OnOffAuto ats_prop;          /* ATS supported (IDR0.ATS) */
    VsmmuAccelProps accel;       /* accel, iommufd, x-batch, msi-gpa */
    OnOffAuto msi_window;        /* describe the host MSI window (msi.h) */
    uint8_t stages;              /* stage: VsmmuStages */

    /*
     * In effect: explicit values, or what "auto" resolved to. Auto values
     * take the defaults at realize; in accelerated mode the first assigned
     * device's host SMMU replaces them, unless the guest already read the
     * ID registers (then at the next reset).
     */
    uint8_t oas;                 /* [T] */
    uint8_t ssidsize;            /* [T] */
    bool ril;
    bool ats;                    /* [T] */
    bool idr_from_host;          /* auto values came from a host SMMU */
    uint8_t cmdqs_max;           /* IDR1.CMDQS (CMDQV may lower it) */
    bool idr_seen;               /* the guest read IDRn since reset */

    /* Derived from the values above: constant while the guest runs */
    uint32_t idr[6];             /* IDR0..IDR5 */
    uint32_t iidr;
    uint32_t aidr;

    /* Guest-programmed registers */
    uint32_t cr0;                /* [T] CR0 as written (CR0ACK follows) */
    uint32_t cr1;
    uint32_t cr2;
    uint32_t gbpa;               /* [T] GBPA, UPDATE always reads 0 */
    uint32_t irq_ctrl;           /* IRQ_CTRL (IRQ_CTRLACK follows at once) */
    uint32_t gerror;             /* errors the SMMU raised (toggled bits) */
    uint32_t gerrorn;            /* errors the guest acknowledged */
    uint64_t gerror_irq_cfg0;
    uint32_t gerror_irq_cfg1;
    uint32_t gerror_irq_cfg2;
    uint64_t strtab_base;        /* [T] */
    uint32_t strtab_base_cfg;    /* [T] */
    VsmmuQueue cmdq;
    VsmmuQueue eventq;
    uint64_t eventq_irq_cfg0;
    uint32_t eventq_irq_cfg1;
    uint32_t eventq_irq_cfg2;

    /* Tegra241 CMDQV (cmdqv=on|off|auto), see cmdqv.h */
    VsmmuCmdqv cmdqv;

    /* The command engine's runner of the CMDQ */
    VsmmuCmdqRunner cmdq_runner;

    /* Events found by translate(), drained into the EVENTQ under the BQL */
    uint64_t evt_fifo[VSMMU_EVT_FIFO_DEPTH][4];  /* [T] raw records */
    unsigned evt_head;           /* [T] oldest record */
    unsigned evt_count;          /* [T] records waiting */
    uint64_t evt_lost;           /* [T] lost before reaching the queue */
    QEMUBH *evt_bh;              /* drains when the poster had no BQL */
    bool evt_draining;           /* a drain is running (re-entry defers) */

    /* Derived state, rebuilt on demand and after migration */
    QLIST_HEAD(, VsmmuDevice) devices;  /* every device behind this SMMU */
    uint32_t tlb_gen;            /* [T] bumped by every invalidation */
    VsmmuStats stats;            /* translations, utlb_hits: [T] */
};

struct VsmmuClass {
    SMMUBaseClass parent_class;

    DeviceRealize parent_realize;
    ResettablePhases parent_phases;
};

#endif /* HW_ARM_VSMMU_H */
