/*
 * vsmmu: seams between the files of the device model
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef HW_ARM_VSMMU_INTERNAL_H
#define HW_ARM_VSMMU_INTERNAL_H

#include "hw/arm/vsmmu/vsmmu.h"
#include "hw/arm/vsmmu/regs.h"
#include "hw/arm/vsmmu/formats.h"
#include "hw/arm/vsmmu/backend.h"
#include "hw/pci/pci_device.h"
#include "system/host_iommu_device.h"

/* ---- per-device state ------------------------------------------------ */

/* Entries of the per-device translation cache in front of smmu-common's */
#define VSMMU_UTLB_ENTRIES      64

typedef struct VsmmuUtlbEntry {
    uint64_t iova;               /* page-aligned input address */
    uint64_t pa;                 /* page-aligned output address */
    uint64_t mask;               /* page size - 1 */
    uint32_t gen;                /* VsmmuState.tlb_gen when filled */
    uint8_t perm;                /* IOMMUAccessFlags */
} VsmmuUtlbEntry;

/* What the stream table says about one stream (STE + CD decoded) */
typedef enum VsmmuStreamKind {
    VSMMU_STREAM_ABORT,          /* abort silently */
    VSMMU_STREAM_BYPASS,         /* identity */
    VSMMU_STREAM_S1,             /* stage-1 translation */
} VsmmuStreamKind;

typedef struct VsmmuStreamCfg {
    VsmmuStreamKind kind;
    uint64_t ste[VSMMU_STE_DWORDS];     /* as fetched, for backends */
    SMMUTransCfg tcfg;           /* S1: input to smmu-common's walker */
} VsmmuStreamCfg;

/* A device behind the vsmmu; smmu-common's view comes first */
struct VsmmuDevice {
    SMMUDevice sdev;
    VsmmuState *s;
    QLIST_ENTRY(VsmmuDevice) link;
    bool cfg_valid;              /* cfg holds the decoded STE/CD */
    VsmmuStreamCfg cfg;
    VsmmuUtlbEntry utlb[VSMMU_UTLB_ENTRIES];

    /*
     * Accelerated mode, assigned devices only: the host SMMU translates
     * (guest stage 1 nested over the host stage 2); see vsmmu-accel.c.
     */
    PCIDevice *pdev;             /* the assigned device, NULL if emulated */
    HostIOMMUDevice *hiod;       /* set while attached to the vsmmu */
    uint32_t dev_id;             /* iommufd device */
    uint32_t parent_hwpt_id;     /* its stage-2 (nesting parent) domain */
    uint32_t vdevice_id;         /* 0: no vDEVICE */
    uint32_t vsid;               /* the vDEVICE's virtual StreamID */
    uint32_t hwpt_id;            /* domain it is attached to now */
    VsmmuStreamKind hwpt_kind;
    uint32_t s1_hwpt_id;         /* our nested S1 domain, 0 = none */
    uint64_t vste[2];            /* ... and the vSTE it was made from */
    MSITriggerFunc *msi_trigger; /* the device's own, put back on detach */
};

/* ---- events ---------------------------------------------------------- */

typedef struct VsmmuEvent {
    VsmmuEventId id;
    uint32_t sid;
    bool ssv;
    uint32_t ssid;
    uint64_t input_addr;
    uint64_t fetch_addr;         /* F_*_FETCH, F_WALK_EABT; IPA otherwise */
    bool rnw;                    /* the faulting access was a read */
    bool ind;                    /* instruction fetch */
    bool pnu;                    /* privileged */
    uint8_t class;               /* VSMMU_EVT_CLASS_* */
} VsmmuEvent;

/* vsmmu-evtq.c */
void vsmmu_evtq_record(VsmmuState *s, const VsmmuEvent *ev);
/* A raw 32-byte record (host events in accelerated mode) */
void vsmmu_evtq_record_raw(VsmmuState *s, const uint64_t *rec);
/* @n events were lost before reaching the queue: the overflow flag */
void vsmmu_evtq_lost(VsmmuState *s, uint64_t n);

/* ---- queues (shared by CMDQ, EVENTQ, VCMDQs) --------------------------- */

static inline uint8_t vsmmu_queue_log2size(const VsmmuQueue *q)
{
    return MIN(FIELD_EX64(q->base, QUEUE_BASE, LOG2SIZE), q->max_log2size);
}

static inline hwaddr vsmmu_queue_addr(const VsmmuQueue *q)
{
    return FIELD_EX64(q->base, QUEUE_BASE, ADDR) << R_QUEUE_BASE_ADDR_SHIFT;
}

/* index + wrap bit */
static inline uint32_t vsmmu_queue_wrap_idx(const VsmmuQueue *q, uint32_t v)
{
    return v & ((1u << (vsmmu_queue_log2size(q) + 1)) - 1);
}

static inline uint32_t vsmmu_queue_idx(const VsmmuQueue *q, uint32_t v)
{
    return v & ((1u << vsmmu_queue_log2size(q)) - 1);
}

static inline bool vsmmu_queue_empty(const VsmmuQueue *q)
{
    return vsmmu_queue_wrap_idx(q, q->prod) == vsmmu_queue_wrap_idx(q, q->cons);
}

static inline bool vsmmu_queue_full(const VsmmuQueue *q)
{
    return vsmmu_queue_idx(q, q->prod) == vsmmu_queue_idx(q, q->cons) &&
           vsmmu_queue_wrap_idx(q, q->prod) != vsmmu_queue_wrap_idx(q, q->cons);
}

/* Advance an index by one, keeping the flags above the wrap bit */
static inline uint32_t vsmmu_queue_next(const VsmmuQueue *q, uint32_t v)
{
    uint32_t mask = (1u << (vsmmu_queue_log2size(q) + 1)) - 1;

    return (v & ~mask) | ((v + 1) & mask);
}

static inline hwaddr vsmmu_queue_entry(const VsmmuQueue *q, uint32_t v)
{
    return vsmmu_queue_addr(q) + (hwaddr)vsmmu_queue_idx(q, v) * q->entry_size;
}

/* ---- command engine (vsmmu-cmdq.c) ------------------------------------ */

/*
 * How the engine runs one kind of command queue: the main CMDQ or a
 * VCMDQ. The owner says which opcodes are allowed and how errors and
 * CMD_SYNC interrupts are signalled.
 */
typedef struct VsmmuCmdQueueOps {
    const char *name;
    /* is this opcode allowed on this queue (beyond being a valid one)? */
    bool (*allowed)(VsmmuState *s, uint8_t opcode);
    /* the queue stopped on a command with @err: raise the error */
    void (*raise_error)(VsmmuState *s, VsmmuQueue *q, VsmmuCmdError err);
    /* the queue may run (enabled, no unacknowledged error) */
    bool (*can_run)(VsmmuState *s, VsmmuQueue *q);
    /* CMD_SYNC with CS=SIG_IRQ and no MSI address */
    void (*sync_irq)(VsmmuState *s, VsmmuQueue *q);
    /* each accepted command, which it may rewrite (optional) */
    void (*command)(VsmmuState *s, VsmmuQueue *q, VsmmuCmd *c);
} VsmmuCmdQueueOps;

void vsmmu_cmdq_run(VsmmuState *s, const VsmmuCmdQueueOps *ops, VsmmuQueue *q);
extern const VsmmuCmdQueueOps vsmmu_main_cmdq_ops;

/* ---- stream table and context descriptors (vsmmu-ste.c) --------------- */

/*
 * Decode the configuration of stream @sid for a transaction without a
 * substream. Returns true with @cfg filled, or false with @ev describing
 * the architected fault (its id is 0 when the transaction must abort
 * without an event).
 */
bool vsmmu_stream_config(VsmmuState *s, uint32_t sid, VsmmuStreamCfg *cfg,
                         VsmmuEvent *ev);
/*
 * The same for the STE alone (accelerated mode, where the host walks the
 * CDs): @cfg->kind is ABORT, BYPASS or S1 and @cfg->ste the STE.
 */
bool vsmmu_stream_ste(VsmmuState *s, uint32_t sid, VsmmuStreamCfg *cfg,
                      VsmmuEvent *ev);

/* ---- translation (vsmmu-translate.c) ------------------------------------ */

extern const PCIIOMMUOps vsmmu_pci_iommu_ops;
void vsmmu_iommu_memory_region_class_init(ObjectClass *klass,
                                          const void *data);
/* Drop cached stream configurations: all, or streams [first, last] */
void vsmmu_invalidate_configs(VsmmuState *s, uint32_t first, uint32_t last);
/* Drop cached translations (per-device caches, smmu-common IOTLB kept) */
static inline void vsmmu_invalidate_utlbs(VsmmuState *s)
{
    s->tlb_gen++;
}
/* Tell IOMMU notifiers (vhost, …) that [iova, iova + size) is gone */
void vsmmu_notify_unmap(VsmmuState *s, int asid, uint64_t iova, uint64_t size);
/* The software translation of one device (also MSIs of assigned ones) */
IOMMUTLBEntry vsmmu_translate_dev(VsmmuDevice *vdev, hwaddr addr,
                                  IOMMUAccessFlags flag);

/* ---- accelerated mode (vsmmu-accel.c) ---------------------------------- */

extern const VsmmuBackendOps vsmmu_backend_accel;
bool vsmmu_accel_realize(VsmmuState *s, Error **errp);
/* Does the host translate for this device (accel vsmmu, assigned)? */
bool vsmmu_accel_is_host_dev(VsmmuState *s, PCIBus *bus, int devfn);
bool vsmmu_accel_attach(VsmmuState *s, VsmmuDevice *vdev,
                        HostIOMMUDevice *hiod, Error **errp);
void vsmmu_accel_detach(VsmmuState *s, VsmmuDevice *vdev);
/* The MSI doorbell of an assigned device, for KVM routes */
bool vsmmu_accel_msi_gpa(VsmmuState *s, PCIBus *bus, int devfn, hwaddr *gpa);
/* `info vsmmu` text for this instance */
void vsmmu_accel_info(VsmmuState *s, GString *buf);

/* ---- monitor (vsmmu-monitor.c) ------------------------------------------- */

/* The x-info property (QMP qom-get), at instance_init */
void vsmmu_monitor_init(Object *obj);

/* ---- registers (vsmmu-regs.c) ------------------------------------------- */

extern const MemoryRegionOps vsmmu_mmio_ops;
void vsmmu_regs_init_idr(VsmmuState *s);
void vsmmu_regs_reset(VsmmuState *s);
void vsmmu_irq_raise(VsmmuState *s, int irq);
void vsmmu_gerror_raise(VsmmuState *s, uint32_t bits);

static inline bool vsmmu_enabled(VsmmuState *s)
{
    return FIELD_EX32(s->cr0, CR0, SMMUEN);
}

#endif /* HW_ARM_VSMMU_INTERNAL_H */
