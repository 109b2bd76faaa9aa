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
#include "system/address-spaces.h"
#include "system/memory.h"

/* ---- accesses to the SMMU's own structures ------------------------------ */

/*
 * Stream table, CDs, page tables, queues: RAM only. The memory core
 * refuses anything else (MEMTX_ACCESS_ERROR), which the callers turn into
 * the architected abort, so no table or queue access ever re-enters a
 * device (docs/security.md, rule 1).
 */
#define VSMMU_TABLE_ATTRS ((MemTxAttrs) { .memory = 1 })

static inline bool vsmmu_table_read(hwaddr addr, void *buf, hwaddr len)
{
    return address_space_read(&address_space_memory, addr, VSMMU_TABLE_ATTRS,
                              buf, len) == MEMTX_OK;
}

static inline bool vsmmu_table_write(hwaddr addr, const void *buf, hwaddr len)
{
    return address_space_write(&address_space_memory, addr,
                               VSMMU_TABLE_ATTRS, buf, len) == MEMTX_OK;
}

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
    VSMMU_STREAM_S2,             /* stage 2 alone (or S1 bypassed by S1DSS) */
    VSMMU_STREAM_NESTED,         /* stage 1 over stage 2 */
} VsmmuStreamKind;

typedef struct VsmmuStreamCfg {
    VsmmuStreamKind kind;
    uint64_t ste[VSMMU_STE_DWORDS];     /* as fetched, for backends */
    /*
     * S1, S2, NESTED: input to smmu-common's walker. Its IOTLB tags are
     * the CD's ASID (-1 for S2) and, with stage 2 offered, STE.S2VMID
     * (stage-1-only streams included), else -1.
     */
    SMMUTransCfg tcfg;
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
     * (guest stage 1 nested over the host stage 2). The iommufd backend's
     * state of the device (vsmmu-accel.c), NULL while not attached.
     */
    struct VsmmuAccelDev *accel;
};

/* ---- events ---------------------------------------------------------- */

typedef struct VsmmuEvent {
    VsmmuEventId id;
    uint32_t sid;
    bool ssv;
    uint32_t ssid;
    uint64_t input_addr;
    uint64_t fetch_addr;         /* F_*_FETCH, F_WALK_EABT; IPA otherwise */
    bool s2;                     /* a stage 2 fault (EVT.S2, IPA valid) */
    bool rnw;                    /* the faulting access was a read */
    bool ind;                    /* instruction fetch */
    bool pnu;                    /* privileged */
    uint8_t class;               /* VSMMU_EVT_CLASS_* */
} VsmmuEvent;

/*
 * vsmmu-evtq.c. Any thread, with or without the BQL, never with s->mutex
 * held: the record is queued and written to the guest's EVENTQ under the
 * BQL (at once if the caller holds it, else from a bottom half).
 */
void vsmmu_evtq_record(VsmmuState *s, const VsmmuEvent *ev);
/* A raw 32-byte record (host events in accelerated mode) */
void vsmmu_evtq_record_raw(VsmmuState *s, const uint64_t *rec);
/* @n events were lost before reaching the queue: the overflow flag */
void vsmmu_evtq_lost(VsmmuState *s, uint64_t n);
void vsmmu_evtq_init(VsmmuState *s);
/* Reset: drop what is pending */
void vsmmu_evtq_reset(VsmmuState *s);
/* Write what is pending now (BQL held; before the state is saved) */
void vsmmu_evtq_flush(VsmmuState *s);

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
    /*
     * each decoded command (optional): false refuses it (CERROR_ILL);
     * it may rewrite @c->raw, which the engine then decodes again
     */
    bool (*command)(VsmmuState *s, VsmmuQueue *q, VsmmuCmd *c);
    /* a CMD_SYNC's MSI write was refused (optional) */
    void (*msi_abort)(VsmmuState *s, VsmmuQueue *q);
} VsmmuCmdQueueOps;

/*
 * A guest write that may let a queue run (PROD, an error acknowledged, the
 * queue enabled): consume one bounded slice now (at most
 * VSMMU_CMDQ_SLICE commands), the rest from the runner's bottom half. A
 * kick from inside a running slice (an MSI that comes back) only asks
 * for the bottom half. BQL held, s->mutex not.
 */
#define VSMMU_CMDQ_SLICE        128
void vsmmu_cmdq_runner_init(VsmmuCmdqRunner *r, VsmmuState *s,
                            const VsmmuCmdQueueOps *ops, VsmmuQueue *q);
void vsmmu_cmdq_runner_cleanup(VsmmuCmdqRunner *r);
void vsmmu_cmdq_kick(VsmmuCmdqRunner *r);
/* The VM runs again (after a stop, a migration): continue where it was */
void vsmmu_cmdq_resume(VsmmuCmdqRunner *r);
/* The name of a command's opcode, for logs and traces */
const char *vsmmu_cmd_name(uint8_t op);
/* The main CMDQ's rules and signals (vsmmu-regs.c: GERROR, CR0) */
extern const VsmmuCmdQueueOps vsmmu_main_cmdq_ops;

/* ---- stream table and context descriptors (vsmmu-ste.c) --------------- */

/*
 * The registers and properties the decoder reads ([T] fields of
 * VsmmuState), copied under s->mutex so that decoding runs unlocked.
 */
typedef struct VsmmuTableRegs {
    uint64_t strtab_base;
    uint32_t strtab_base_cfg;
    uint8_t sidsize;
    uint8_t ssidsize;
    uint8_t oas;
    bool ats;
    bool s1p, s2p;               /* stages offered (constant) */
} VsmmuTableRegs;

/*
 * Decode the configuration of stream @sid for a transaction without a
 * substream. Reads guest memory: call without s->mutex held. Returns
 * true with @cfg filled, or false with @ev describing the architected
 * fault (its id is 0 when the transaction must abort without an event).
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
/*
 * Drop cached stream configurations: all, or streams [first, last]. Like
 * every function here that changes translation state, it takes s->mutex
 * itself: call it without.
 */
void vsmmu_invalidate_configs(VsmmuState *s, uint32_t first, uint32_t last);
/*
 * s->mutex held: drop cached translations (the per-device caches;
 * smmu-common's IOTLB is kept), and anything walking now will not cache
 */
static inline void vsmmu_invalidate_utlbs_locked(VsmmuState *s)
{
    s->tlb_gen++;
}
/*
 * Tell IOMMU notifiers (vhost, …) that [iova, iova + size) is gone, for
 * the streams an invalidation reaches: stage-1 entries (TLBI_NH_*) of
 * @asid and @vmid, stage-2 entries (TLBI_S2_IPA: the range is an IPA,
 * which is the input address of stage-2-only streams), or all entries of
 * @vmid (-1: any).
 */
typedef enum VsmmuInvScope {
    VSMMU_INV_S1,
    VSMMU_INV_S2,
    VSMMU_INV_ALL,
} VsmmuInvScope;
void vsmmu_notify_unmap(VsmmuState *s, VsmmuInvScope scope, int asid,
                        int vmid, uint64_t iova, uint64_t size);
/*
 * ATC_INV: the device-IOTLB notifiers of stream @sid drop [iova, iova +
 * size), everything for @size 0. Synchronous; no vsmmu lock held.
 */
void vsmmu_notify_atc_inv(VsmmuState *s, uint32_t sid, uint64_t iova,
                          uint64_t size);
/* What ATS completions are made of: 4 KiB pages of a 48-bit input space */
#define VSMMU_ATS_PAGE          4096
#define VSMMU_ATS_ADDR_BITS     48
/* The software translation of one device (also MSIs of assigned ones) */
IOMMUTLBEntry vsmmu_translate_dev(VsmmuDevice *vdev, hwaddr addr,
                                  IOMMUAccessFlags flag);

/* ---- monitor (vsmmu-monitor.c) ------------------------------------------- */

/* The x-info property (QMP qom-get), at instance_init */
void vsmmu_monitor_init(Object *obj);

/* ---- registers (vsmmu-regs.c) ------------------------------------------- */

extern const MemoryRegionOps vsmmu_mmio_ops;
void vsmmu_regs_init_idr(VsmmuState *s);
void vsmmu_regs_reset(VsmmuState *s);
/* BQL held, s->mutex not: they may send MSIs */
void vsmmu_irq_raise(VsmmuState *s, int irq);
void vsmmu_gerror_raise(VsmmuState *s, uint32_t bits);
/* Write a [T] register: BQL held, takes s->mutex */
void vsmmu_set_treg32(VsmmuState *s, uint32_t *reg, uint32_t val);

static inline bool vsmmu_enabled(VsmmuState *s)
{
    return FIELD_EX32(s->cr0, CR0, SMMUEN);
}

/* The stages offered (property "stage", constant after realize) */
static inline bool vsmmu_s1p(const VsmmuState *s)
{
    return s->stages != VSMMU_STAGES_2;
}

static inline bool vsmmu_s2p(const VsmmuState *s)
{
    return s->stages != VSMMU_STAGES_1;
}

/* The "stage" property's value: "1", "2" or "nested" */
static inline const char *vsmmu_stages_name(unsigned stages)
{
    switch (stages) {
    case VSMMU_STAGES_1:      return "1";
    case VSMMU_STAGES_2:      return "2";
    case VSMMU_STAGES_NESTED: return "nested";
    }
    return "?";
}

#endif /* HW_ARM_VSMMU_INTERNAL_H */
