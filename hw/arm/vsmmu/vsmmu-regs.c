/*
 * vsmmu: the register pages (IHI 0070 §6)
 *
 * ID registers are computed once from the properties; control registers are
 * decoded here and their side effects handed to the owning file.
 *
 * Register accesses run under the BQL with no vsmmu lock held
 * (docs/security.md); the few registers translate() also reads are
 * written through vsmmu_set_treg*() under s->mutex. The region carries
 * QEMU's re-entrancy guard, so an MSI the vsmmu sends to itself while
 * handling an access is refused (an MSI abort, GERROR.MSI_*_ABT_ERR).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/log.h"
#include "hw/irq.h"
#include "vsmmu-internal.h"
#include "trace.h"

void vsmmu_regs_init_idr(VsmmuState *s)
{
    uint32_t *idr = s->idr;

    memset(s->idr, 0, sizeof(s->idr));
    idr[0] = FIELD_DP32(idr[0], IDR0, S1P, vsmmu_s1p(s));
    /*
     * Stage 2 (stage=2|nested): 16-bit VMIDs; split-stage ATS (STE.EATS =
     * 0b10) not supported, NS1ATS = 1 when both stages are offered
     */
    idr[0] = FIELD_DP32(idr[0], IDR0, S2P, vsmmu_s2p(s));
    idr[0] = FIELD_DP32(idr[0], IDR0, VMID16, vsmmu_s2p(s));
    idr[0] = FIELD_DP32(idr[0], IDR0, NS1ATS, vsmmu_s1p(s) && vsmmu_s2p(s));
    idr[0] = FIELD_DP32(idr[0], IDR0, TTF, 2);          /* AArch64 tables */
    idr[0] = FIELD_DP32(idr[0], IDR0, COHACC, 1);
    idr[0] = FIELD_DP32(idr[0], IDR0, ATS, s->ats);
    idr[0] = FIELD_DP32(idr[0], IDR0, ASID16, 1);
    idr[0] = FIELD_DP32(idr[0], IDR0, MSI, 1);
    /*
     * Without substreams (ssidsize=0) a CD table has one entry and STE.S1Fmt
     * is ignored: no 2-level CD tables, so a host SMMU without them (e.g.
     * QEMU's arm-smmuv3) can back an accel vsmmu.
     */
    idr[0] = FIELD_DP32(idr[0], IDR0, CD2L, s->ssidsize > 0);
    idr[0] = FIELD_DP32(idr[0], IDR0, TTENDIAN, 2);     /* little endian */
    idr[0] = FIELD_DP32(idr[0], IDR0, STALL_MODEL, 1);  /* no stalls */
    idr[0] = FIELD_DP32(idr[0], IDR0, TERM_MODEL, 1);   /* always abort */
    idr[0] = FIELD_DP32(idr[0], IDR0, ST_LEVEL, 1);     /* 2-level tables */

    idr[1] = FIELD_DP32(idr[1], IDR1, SIDSIZE, s->sidsize);
    idr[1] = FIELD_DP32(idr[1], IDR1, SSIDSIZE, s->ssidsize);
    idr[1] = FIELD_DP32(idr[1], IDR1, EVENTQS, VSMMU_EVENTQS_MAX);
    idr[1] = FIELD_DP32(idr[1], IDR1, CMDQS, s->cmdqs_max);

    idr[3] = FIELD_DP32(idr[3], IDR3, HAD, 1);
    /*
     * STE.S2FWB with stage 2: Linux gives user space a vIOMMU over a
     * nesting parent only with S2FWB (or a CANWBS root complex). Memory
     * attributes are not modelled, so forcing write-back changes nothing.
     */
    idr[3] = FIELD_DP32(idr[3], IDR3, FWB, vsmmu_s2p(s));
    idr[3] = FIELD_DP32(idr[3], IDR3, RIL, s->ril);
    idr[3] = FIELD_DP32(idr[3], IDR3, BBML, 2);

    idr[5] = FIELD_DP32(idr[5], IDR5, OAS, vsmmu_oas_encoding(s->oas));
    idr[5] = FIELD_DP32(idr[5], IDR5, GRAN4K, 1);
    idr[5] = FIELD_DP32(idr[5], IDR5, GRAN16K, 1);
    idr[5] = FIELD_DP32(idr[5], IDR5, GRAN64K, 1);

    s->iidr = 0;
    s->aidr = FIELD_DP32(0, AIDR, MINOR, 1);            /* SMMUv3.1 */
}

void vsmmu_set_treg32(VsmmuState *s, uint32_t *reg, uint32_t val)
{
    qemu_mutex_lock(&s->mutex);
    *reg = val;
    qemu_mutex_unlock(&s->mutex);
}

static void vsmmu_set_treg64(VsmmuState *s, uint64_t *reg, uint64_t val)
{
    qemu_mutex_lock(&s->mutex);
    *reg = val;
    qemu_mutex_unlock(&s->mutex);
}

void vsmmu_regs_reset(VsmmuState *s)
{
    qemu_mutex_lock(&s->mutex);
    s->cr0 = 0;
    s->gbpa = VSMMU_GBPA_RESET;
    s->strtab_base = 0;
    s->strtab_base_cfg = 0;
    qemu_mutex_unlock(&s->mutex);
    s->cr1 = 0;
    s->cr2 = 0;
    s->irq_ctrl = 0;
    s->gerror = 0;
    s->gerrorn = 0;
    s->gerror_irq_cfg0 = 0;
    s->gerror_irq_cfg1 = 0;
    s->gerror_irq_cfg2 = 0;
    s->eventq_irq_cfg0 = 0;
    s->eventq_irq_cfg1 = 0;
    s->eventq_irq_cfg2 = 0;
    s->cmdq = (VsmmuQueue) {
        .entry_size = VSMMU_CMD_SIZE,
        .max_log2size = FIELD_EX32(s->idr[1], IDR1, CMDQS),
    };
    s->eventq = (VsmmuQueue) {
        .entry_size = VSMMU_EVT_SIZE,
        .max_log2size = FIELD_EX32(s->idr[1], IDR1, EVENTQS),
    };
}

/*
 * Send an MSI described by an *_IRQ_CFG0/1 pair. Returns false if none is
 * set; *@abort tells whether the write was refused (not a device that
 * takes it, or the vsmmu itself: the re-entrancy guard).
 */
static bool vsmmu_msi(VsmmuState *s, uint64_t cfg0, uint32_t data,
                      bool *abort)
{
    hwaddr addr = FIELD_EX64(cfg0, IRQ_CFG0, ADDR) << R_IRQ_CFG0_ADDR_SHIFT;
    uint32_t le = cpu_to_le32(data);

    *abort = false;
    if (!addr) {
        return false;
    }
    if (address_space_write(&address_space_memory, addr, MEMTXATTRS_UNSPECIFIED,
                            &le, sizeof(le)) != MEMTX_OK) {
        qemu_log_mask(LOG_GUEST_ERROR, "vsmmu: MSI write to 0x%" HWADDR_PRIx
                      " aborted\n", addr);
        *abort = true;
    }
    return true;
}

/* GERROR bits active now (raised and not acknowledged) */
static uint32_t vsmmu_gerror_active(VsmmuState *s)
{
    return s->gerror ^ s->gerrorn;
}

/* Toggle @bits that are not active yet; returns those */
static uint32_t vsmmu_gerror_toggle(VsmmuState *s, uint32_t bits)
{
    uint32_t fresh = bits & ~vsmmu_gerror_active(s);

    s->gerror ^= fresh;
    if (fresh) {
        trace_vsmmu_gerror(s->gerror, s->gerrorn);
    }
    return fresh;
}

void vsmmu_irq_raise(VsmmuState *s, int irq)
{
    bool abort;

    switch (irq) {
    case VSMMU_IRQ_EVTQ:
        if (!FIELD_EX32(s->irq_ctrl, IRQ_CTRL, EVENTQ_IRQEN)) {
            return;
        }
        if (vsmmu_msi(s, s->eventq_irq_cfg0, s->eventq_irq_cfg1, &abort)) {
            if (abort) {
                vsmmu_gerror_raise(s, R_GERROR_MSI_EVENTQ_ABT_ERR_MASK);
            }
            return;
        }
        break;
    case VSMMU_IRQ_GERROR:
        if (!FIELD_EX32(s->irq_ctrl, IRQ_CTRL, GERROR_IRQEN)) {
            return;
        }
        if (vsmmu_msi(s, s->gerror_irq_cfg0, s->gerror_irq_cfg1, &abort)) {
            /* recorded, never signalled again: that would recurse */
            if (abort) {
                vsmmu_gerror_toggle(s, R_GERROR_MSI_GERROR_ABT_ERR_MASK);
            }
            return;
        }
        break;
    default:
        break;
    }
    trace_vsmmu_irq(irq);
    qemu_irq_pulse(s->irq[irq]);
}

/* Raise global errors: a bit is active while GERROR and GERRORN differ */
void vsmmu_gerror_raise(VsmmuState *s, uint32_t bits)
{
    if (vsmmu_gerror_toggle(s, bits)) {
        vsmmu_irq_raise(s, VSMMU_IRQ_GERROR);
    }
}

/* Something the cached configurations depend on changed */
static void vsmmu_config_changed(VsmmuState *s)
{
    s->backend->config_reset(s);
}

/* ---- the main command queue ------------------------------------------ */

static bool vsmmu_main_cmdq_allowed(VsmmuState *s, uint8_t opcode)
{
    return true;                /* the full command set of the stages */
}

static void vsmmu_main_cmdq_error(VsmmuState *s, VsmmuQueue *q,
                                  VsmmuCmdError err)
{
    vsmmu_gerror_raise(s, R_GERROR_CMDQ_ERR_MASK);
}

static bool vsmmu_main_cmdq_can_run(VsmmuState *s, VsmmuQueue *q)
{
    return FIELD_EX32(s->cr0, CR0, CMDQEN) &&
           !FIELD_EX32(s->gerror ^ s->gerrorn, GERROR, CMDQ_ERR);
}

static void vsmmu_main_cmdq_sync_irq(VsmmuState *s, VsmmuQueue *q)
{
    vsmmu_irq_raise(s, VSMMU_IRQ_CMD_SYNC);
}

static void vsmmu_main_cmdq_msi_abort(VsmmuState *s, VsmmuQueue *q)
{
    vsmmu_gerror_raise(s, R_GERROR_MSI_CMDQ_ABT_ERR_MASK);
}

const VsmmuCmdQueueOps vsmmu_main_cmdq_ops = {
    .name = "cmdq",
    .allowed = vsmmu_main_cmdq_allowed,
    .raise_error = vsmmu_main_cmdq_error,
    .can_run = vsmmu_main_cmdq_can_run,
    .sync_irq = vsmmu_main_cmdq_sync_irq,
    .msi_abort = vsmmu_main_cmdq_msi_abort,
};

static void vsmmu_run_cmdq(VsmmuState *s)
{
    vsmmu_cmdq_kick(&s->cmdq_runner);
}

/*
 * CoreSight identification registers (PIDR4..7, PIDR0..3, CIDR0..3):
 * an Arm-designed SMMU, as Linux does not look at them beyond presence.
 */
static uint32_t vsmmu_idreg(hwaddr offset)
{
    static const uint8_t ids[] = {
        0x04, 0, 0, 0, 0x84, 0xb4, 0xf0, 0x10, 0x0d, 0xf0, 0x05, 0xb1,
    };
    unsigned idx = (offset - VSMMU_IDREGS_BASE) / 4;

    return idx < ARRAY_SIZE(ids) ? ids[idx] : 0;
}

/* The 64-bit registers, addressable as a whole or as two 32-bit halves */
static uint64_t *vsmmu_reg64(VsmmuState *s, hwaddr offset)
{
    switch (offset & ~7ULL) {
    case A_GERROR_IRQ_CFG0: return &s->gerror_irq_cfg0;
    case A_STRTAB_BASE:     return &s->strtab_base;
    case A_CMDQ_BASE:       return &s->cmdq.base;
    case A_EVENTQ_BASE:     return &s->eventq.base;
    case A_EVENTQ_IRQ_CFG0: return &s->eventq_irq_cfg0;
    default:                return NULL;
    }
}

/* Writable bits of the 64-bit registers */
static uint64_t vsmmu_reg64_mask(hwaddr offset)
{
    switch (offset & ~7ULL) {
    case A_STRTAB_BASE:
        return R_STRTAB_BASE_ADDR_MASK | R_STRTAB_BASE_RA_MASK;
    case A_CMDQ_BASE:
    case A_EVENTQ_BASE:
        return R_QUEUE_BASE_ADDR_MASK | R_QUEUE_BASE_RA_MASK |
               R_QUEUE_BASE_LOG2SIZE_MASK;
    default:
        return R_IRQ_CFG0_ADDR_MASK;
    }
}

static MemTxResult vsmmu_read_regs(VsmmuState *s, hwaddr offset,
                                     uint64_t *data, unsigned size)
{
    uint64_t *r64;

    /* Page 1 holds aliases of the event queue pointers only */
    if (offset >= VSMMU_PAGE_SIZE) {
        if (offset == VSMMU_PAGE1_EVENTQ_PROD ||
            offset == VSMMU_PAGE1_EVENTQ_CONS) {
            offset -= VSMMU_PAGE_SIZE;
        } else {
            *data = 0;
            goto out;
        }
    }

    r64 = vsmmu_reg64(s, offset);
    if (r64) {
        *data = size == 8 ? *r64 : extract64(*r64, (offset & 4) * 8, 32);
        goto out;
    }

    switch (offset) {
    case A_IDR0 ... A_IDR5:
        *data = s->idr[(offset - A_IDR0) / 4];
        s->idr_seen = true;
        break;
    case A_IIDR:
        *data = s->iidr;
        break;
    case A_AIDR:
        *data = s->aidr;
        break;
    case A_CR0:
    case A_CR0ACK:
        *data = s->cr0;
        break;
    case A_CR1:
        *data = s->cr1;
        break;
    case A_CR2:
        *data = s->cr2;
        break;
    case A_GBPA:
        *data = s->gbpa;
        break;
    case A_IRQ_CTRL:
    case A_IRQ_CTRLACK:
        *data = s->irq_ctrl;
        break;
    case A_GERROR:
        *data = s->gerror;
        break;
    case A_GERRORN:
        *data = s->gerrorn;
        break;
    case A_GERROR_IRQ_CFG1:
        *data = s->gerror_irq_cfg1;
        break;
    case A_GERROR_IRQ_CFG2:
        *data = s->gerror_irq_cfg2;
        break;
    case A_STRTAB_BASE_CFG:
        *data = s->strtab_base_cfg;
        break;
    case A_CMDQ_PROD:
        *data = s->cmdq.prod;
        break;
    case A_CMDQ_CONS:
        *data = s->cmdq.cons;
        break;
    case A_EVENTQ_PROD:
        *data = s->eventq.prod;
        break;
    case A_EVENTQ_CONS:
        *data = s->eventq.cons;
        break;
    case A_EVENTQ_IRQ_CFG1:
        *data = s->eventq_irq_cfg1;
        break;
    case A_EVENTQ_IRQ_CFG2:
        *data = s->eventq_irq_cfg2;
        break;
    case VSMMU_IDREGS_BASE ... VSMMU_IDREGS_END - 1:
        *data = vsmmu_idreg(offset);
        break;
    default:
        /* STATUSR, AGBPA, PRIQ (not implemented), reserved: RAZ */
        *data = 0;
        break;
    }
out:
    trace_vsmmu_reg_read(offset, size, *data);
    return MEMTX_OK;
}

static void vsmmu_write_cr0(VsmmuState *s, uint32_t val)
{
    uint32_t old = s->cr0;

    uint32_t mask = R_CR0_SMMUEN_MASK | R_CR0_EVENTQEN_MASK |
                    R_CR0_CMDQEN_MASK;

    /*
     * No PRI queue: PRIQEN is RES0. ATSCHK is RES0 without IDR0.ATS; with
     * it, the bit is kept and acknowledged (Linux waits for CR0ACK to match
     * and fails the probe otherwise). Translated requests are not handled
     * differently whatever its value.
     */
    if (s->ats) {
        mask |= R_CR0_ATSCHK_MASK;
    }
    vsmmu_set_treg32(s, &s->cr0, val & mask);
    trace_vsmmu_cr0(old, s->cr0);
    if ((old ^ s->cr0) & R_CR0_SMMUEN_MASK) {
        vsmmu_config_changed(s);
    }
    if (((old ^ s->cr0) & R_CR0_EVENTQEN_MASK) && s->backend->eventq_changed) {
        s->backend->eventq_changed(s);
    }
    if (!(old & R_CR0_CMDQEN_MASK) && (s->cr0 & R_CR0_CMDQEN_MASK)) {
        vsmmu_run_cmdq(s);
    }
}

/* Queue index registers keep index + wrap (+ the flag at bit 31) */
static uint32_t vsmmu_queue_ptr(const VsmmuQueue *q, uint32_t val,
                                uint32_t flags)
{
    return (val & flags) | vsmmu_queue_wrap_idx(q, val);
}

static MemTxResult vsmmu_write_regs(VsmmuState *s, hwaddr offset,
                                      uint64_t data, unsigned size)
{
    uint64_t *r64;

    trace_vsmmu_reg_write(offset, size, data);
    if (offset >= VSMMU_PAGE_SIZE) {
        if (offset == VSMMU_PAGE1_EVENTQ_PROD ||
            offset == VSMMU_PAGE1_EVENTQ_CONS) {
            offset -= VSMMU_PAGE_SIZE;
        } else {
            return MEMTX_OK;
        }
    }

    r64 = vsmmu_reg64(s, offset);
    if (r64) {
        uint64_t mask = vsmmu_reg64_mask(offset);

        if ((r64 == &s->cmdq.base && FIELD_EX32(s->cr0, CR0, CMDQEN)) ||
            (r64 == &s->eventq.base && FIELD_EX32(s->cr0, CR0, EVENTQEN)) ||
            (r64 == &s->strtab_base && vsmmu_enabled(s))) {
            qemu_log_mask(LOG_GUEST_ERROR, "vsmmu: write to 0x%" HWADDR_PRIx
                          " while in use ignored\n", offset);
            return MEMTX_OK;
        }
        if (size == 8) {
            data &= mask;
        } else {
            data = deposit64(*r64, (offset & 4) * 8, 32, data) & mask;
        }
        if (r64 == &s->strtab_base) {
            vsmmu_set_treg64(s, r64, data);
            vsmmu_config_changed(s);
        } else {
            *r64 = data;
        }
        return MEMTX_OK;
    }

    switch (offset) {
    case A_CR0:
        vsmmu_write_cr0(s, data);
        break;
    case A_CR1:
        s->cr1 = data & 0xfff;
        break;
    case A_CR2:
        s->cr2 = data & 0x7;
        break;
    case A_GBPA:
        /* New attributes take effect only with UPDATE set (§6.3.14) */
        if (data & R_GBPA_UPDATE_MASK) {
            vsmmu_set_treg32(s, &s->gbpa, data & VSMMU_GBPA_WRITABLE);
            vsmmu_config_changed(s);
        }
        break;
    case A_IRQ_CTRL:
        s->irq_ctrl = data & (R_IRQ_CTRL_GERROR_IRQEN_MASK |
                              R_IRQ_CTRL_EVENTQ_IRQEN_MASK);
        break;
    case A_GERRORN: {
        bool cmdq_was_stopped = FIELD_EX32(s->gerror ^ s->gerrorn,
                                           GERROR, CMDQ_ERR);

        s->gerrorn = data & 0x1fd;
        trace_vsmmu_gerror(s->gerror, s->gerrorn);
        if (cmdq_was_stopped &&
            !FIELD_EX32(s->gerror ^ s->gerrorn, GERROR, CMDQ_ERR)) {
            vsmmu_run_cmdq(s);  /* resume from CONS (§7.1) */
        }
        break;
    }
    case A_GERROR_IRQ_CFG1:
        s->gerror_irq_cfg1 = data;
        break;
    case A_GERROR_IRQ_CFG2:
        s->gerror_irq_cfg2 = data & 0x3f;
        break;
    case A_STRTAB_BASE_CFG:
        if (vsmmu_enabled(s)) {
            qemu_log_mask(LOG_GUEST_ERROR, "vsmmu: STRTAB_BASE_CFG written "
                          "while SMMUEN=1 ignored\n");
            break;
        }
        vsmmu_set_treg32(s, &s->strtab_base_cfg,
                         data & (R_STRTAB_BASE_CFG_LOG2SIZE_MASK |
                                 R_STRTAB_BASE_CFG_SPLIT_MASK |
                                 R_STRTAB_BASE_CFG_FMT_MASK));
        vsmmu_config_changed(s);
        break;
    case A_CMDQ_PROD:
        s->cmdq.prod = vsmmu_queue_ptr(&s->cmdq, data, 0);
        vsmmu_run_cmdq(s);
        break;
    case A_CMDQ_CONS:
        if (FIELD_EX32(s->cr0, CR0, CMDQEN)) {
            qemu_log_mask(LOG_GUEST_ERROR, "vsmmu: CMDQ_CONS written while "
                          "CMDQEN=1 ignored\n");
            break;
        }
        s->cmdq.cons = vsmmu_queue_ptr(&s->cmdq, data, R_CMDQ_CONS_ERR_MASK);
        break;
    case A_EVENTQ_PROD:
        if (FIELD_EX32(s->cr0, CR0, EVENTQEN)) {
            qemu_log_mask(LOG_GUEST_ERROR, "vsmmu: EVENTQ_PROD written while "
                          "EVENTQEN=1 ignored\n");
            break;
        }
        s->eventq.prod = vsmmu_queue_ptr(&s->eventq, data,
                                         R_QUEUE_INDEX_OVFLG_MASK);
        break;
    case A_EVENTQ_CONS:
        s->eventq.cons = vsmmu_queue_ptr(&s->eventq, data,
                                         R_QUEUE_INDEX_OVFLG_MASK);
        break;
    case A_EVENTQ_IRQ_CFG1:
        s->eventq_irq_cfg1 = data;
        break;
    case A_EVENTQ_IRQ_CFG2:
        s->eventq_irq_cfg2 = data & 0x3f;
        break;
    case A_IDR0 ... A_AIDR:
    case A_CR0ACK:
    case A_IRQ_CTRLACK:
    case A_GERROR:
    case A_STATUSR:
    case VSMMU_IDREGS_BASE ... VSMMU_IDREGS_END - 1:
        qemu_log_mask(LOG_GUEST_ERROR, "vsmmu: write to read-only register 0x%"
                      HWADDR_PRIx "\n", offset);
        break;
    default:
        qemu_log_mask(LOG_UNIMP, "vsmmu: write to unimplemented register 0x%"
                      HWADDR_PRIx " ignored\n", offset);
        break;
    }
    return MEMTX_OK;
}

/* Under the BQL (never lockless): no vsmmu lock is taken here */
static MemTxResult vsmmu_read(void *opaque, hwaddr offset, uint64_t *data,
                              unsigned size, MemTxAttrs attrs)
{
    return vsmmu_read_regs(opaque, offset, data, size);
}

static MemTxResult vsmmu_write(void *opaque, hwaddr offset, uint64_t data,
                               unsigned size, MemTxAttrs attrs)
{
    return vsmmu_write_regs(opaque, offset, data, size);
}

const MemoryRegionOps vsmmu_mmio_ops = {
    .read_with_attrs = vsmmu_read,
    .write_with_attrs = vsmmu_write,
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
