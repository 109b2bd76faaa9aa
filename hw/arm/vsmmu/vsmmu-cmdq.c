/*
 * vsmmu: the command engine (IHI 0070 §4)
 *
 * Consumes a command queue from CONS to PROD. Commands are decoded and
 * checked here; everything between two CMD_SYNCs goes to the backend as
 * one batch (bounded), and the backend says how far it got. On an error
 * CONS stops on the failing command with CONS.ERR set, and the queue's
 * owner raises its error (GERROR.CMDQ_ERR for the main queue). The engine
 * knows nothing of which queue it runs: the main CMDQ and Tegra241 VCMDQs
 * are runners (VsmmuCmdqRunner) with their own VsmmuCmdQueueOps.
 *
 * Work per guest write is bounded (docs/security.md, rule 5): a kick runs
 * one slice of at most VSMMU_CMDQ_SLICE commands, and the runner's bottom
 * half the following ones; CONS advances as commands complete, as on
 * hardware. Runs happen under the BQL with no vsmmu lock held; commands
 * are read from RAM only (CERROR_ABT otherwise).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/log.h"
#include "qemu/main-loop.h"
#include "qemu/timer.h"
#include "system/runstate.h"
#include "vsmmu-internal.h"
#include "trace.h"

const char *vsmmu_cmd_name(uint8_t op)
{
    switch (op) {
    case VSMMU_CMD_PREFETCH_CONFIG: return "PREFETCH_CONFIG";
    case VSMMU_CMD_PREFETCH_ADDR:   return "PREFETCH_ADDR";
    case VSMMU_CMD_CFGI_STE:        return "CFGI_STE";
    case VSMMU_CMD_CFGI_STE_RANGE:  return "CFGI_STE_RANGE";
    case VSMMU_CMD_CFGI_CD:         return "CFGI_CD";
    case VSMMU_CMD_CFGI_CD_ALL:     return "CFGI_CD_ALL";
    case VSMMU_CMD_TLBI_NH_ALL:     return "TLBI_NH_ALL";
    case VSMMU_CMD_TLBI_NH_ASID:    return "TLBI_NH_ASID";
    case VSMMU_CMD_TLBI_NH_VA:      return "TLBI_NH_VA";
    case VSMMU_CMD_TLBI_NH_VAA:     return "TLBI_NH_VAA";
    case VSMMU_CMD_TLBI_S12_VMALL:  return "TLBI_S12_VMALL";
    case VSMMU_CMD_TLBI_S2_IPA:     return "TLBI_S2_IPA";
    case VSMMU_CMD_TLBI_NSNH_ALL:   return "TLBI_NSNH_ALL";
    case VSMMU_CMD_ATC_INV:         return "ATC_INV";
    case VSMMU_CMD_SYNC:            return "CMD_SYNC";
    default:                        return "unknown";
    }
}

/* Range TLBI: pages of the granule TG, (NUM + 1) << SCALE of them */
static void vsmmu_cmd_decode_range(VsmmuState *s, VsmmuCmd *c)
{
    c->addr = FIELD_EX64(c->raw[1], CMD1, ADDR) << R_CMD1_ADDR_SHIFT;
    c->ttl = FIELD_EX64(c->raw[1], CMD1, TTL);
    c->tg = s->ril ? FIELD_EX64(c->raw[1], CMD1, TG) : 0;
    c->num_pages = c->tg ? (FIELD_EX64(c->raw[0], CMD0, NUM) + 1) <<
                           FIELD_EX64(c->raw[0], CMD0, SCALE) : 1;
    c->leaf = FIELD_EX64(c->raw[1], CMD1, LEAF);
}

/*
 * The VMID a TLBI names: with stage 2 offered, stage-1 entries are tagged
 * with their stream's VMID too; without, they carry none (any, -1).
 */
static int vsmmu_cmd_vmid(VsmmuState *s, const uint64_t *raw)
{
    return vsmmu_s2p(s) ? (int)FIELD_EX64(raw[0], CMD0, VMID) : -1;
}

/*
 * Decode @c->raw and check it is a legal command for this SMMU: the
 * stage-1 commands (TLBI_NH_*, CFGI_CD*) with stage 1 offered, the
 * stage-2 ones (TLBI_S2_IPA, TLBI_S12_VMALL) with stage 2 offered, no
 * EL2/EL3, no secure state, no stalls, no PRI, ATS only if advertised.
 * Returns false for CERROR_ILL.
 */
static bool vsmmu_cmd_decode(VsmmuState *s, VsmmuCmd *c)
{
    uint64_t *raw = c->raw;
    unsigned range, size;

    c->opcode = FIELD_EX64(raw[0], CMD0, OPCODE);
    c->sid = FIELD_EX64(raw[0], CMD0, SID);
    c->ssv = FIELD_EX64(raw[0], CMD0, SSV);
    c->ssid = c->ssv ? FIELD_EX64(raw[0], CMD0, SSID) : 0;
    c->asid = -1;
    c->vmid = -1;

    if (FIELD_EX64(raw[0], CMD0, SSEC)) {
        return false;           /* no secure streams on this SMMU */
    }

    switch (c->opcode) {
    case VSMMU_CMD_PREFETCH_CONFIG:
    case VSMMU_CMD_PREFETCH_ADDR:
        return true;
    case VSMMU_CMD_CFGI_STE:
        c->leaf = FIELD_EX64(raw[1], CMD1, LEAF);
        c->sid_first = c->sid_last = c->sid;
        return true;
    case VSMMU_CMD_CFGI_STE_RANGE:
        range = FIELD_EX64(raw[1], CMD1, RANGE);
        if (range == 31) {      /* CFGI_ALL */
            c->sid_first = 0;
            c->sid_last = UINT32_MAX;
        } else {
            c->sid_first = c->sid & ~((2u << range) - 1);
            c->sid_last = c->sid_first + (2u << range) - 1;
        }
        return true;
    case VSMMU_CMD_CFGI_CD:
        c->leaf = FIELD_EX64(raw[1], CMD1, LEAF);
        c->ssid = FIELD_EX64(raw[0], CMD0, SSID);
        return vsmmu_s1p(s);
    case VSMMU_CMD_CFGI_CD_ALL:
        return vsmmu_s1p(s);
    case VSMMU_CMD_TLBI_NSNH_ALL:
        return true;
    case VSMMU_CMD_TLBI_NH_ALL:
        c->vmid = vsmmu_cmd_vmid(s, raw);
        return vsmmu_s1p(s);
    case VSMMU_CMD_TLBI_NH_ASID:
        c->asid = FIELD_EX64(raw[0], CMD0, ASID);
        c->vmid = vsmmu_cmd_vmid(s, raw);
        return vsmmu_s1p(s);
    case VSMMU_CMD_TLBI_NH_VA:
        c->asid = FIELD_EX64(raw[0], CMD0, ASID);
        c->vmid = vsmmu_cmd_vmid(s, raw);
        vsmmu_cmd_decode_range(s, c);
        return vsmmu_s1p(s);
    case VSMMU_CMD_TLBI_NH_VAA:
        c->vmid = vsmmu_cmd_vmid(s, raw);
        vsmmu_cmd_decode_range(s, c);
        return vsmmu_s1p(s);
    case VSMMU_CMD_TLBI_S2_IPA:
        if (!vsmmu_s2p(s)) {
            return false;
        }
        c->vmid = vsmmu_cmd_vmid(s, raw);
        vsmmu_cmd_decode_range(s, c);
        c->addr = FIELD_EX64(raw[1], CMD1, IPA) << R_CMD1_IPA_SHIFT;
        return true;
    case VSMMU_CMD_TLBI_S12_VMALL:
        c->vmid = vsmmu_cmd_vmid(s, raw);
        return vsmmu_s2p(s);
    case VSMMU_CMD_ATC_INV:
        if (!s->ats) {
            return false;
        }
        /* 2^Size pages of 4 KiB, aligned to their span; or everything */
        size = FIELD_EX64(raw[1], CMD1, ATC_SIZE);
        if (size >= VSMMU_ATC_INV_SIZE_ALL) {
            c->addr = 0;
            c->num_pages = 0;
        } else {
            c->num_pages = 1ULL << size;
            c->addr = (FIELD_EX64(raw[1], CMD1, ADDR) << R_CMD1_ADDR_SHIFT) &
                      ~((c->num_pages << 12) - 1);
        }
        return true;
    case VSMMU_CMD_SYNC:
        return FIELD_EX64(raw[0], CMD0, SYNC_CS) <= VSMMU_SYNC_CS_SEV;
    default:
        /*
         * Unknown opcodes, and those for features this SMMU does not
         * have: EL2/EL3 TLBIs, CFGI_VMS_PIDM, PRI_RESP, RESUME,
         * STALL_TERM.
         */
        return false;
    }
}

/* Complete a CMD_SYNC: MSI write and/or wired interrupt (§4.7.3) */
static void vsmmu_cmd_sync_complete(VsmmuState *s,
                                    const VsmmuCmdQueueOps *ops,
                                    VsmmuQueue *q, const VsmmuCmd *c)
{
    unsigned cs = FIELD_EX64(c->raw[0], CMD0, SYNC_CS);
    hwaddr msi = FIELD_EX64(c->raw[1], CMD1, SYNC_MSIADDR) <<
                 R_CMD1_SYNC_MSIADDR_SHIFT;
    uint32_t data = cpu_to_le32(FIELD_EX64(c->raw[0], CMD0, SYNC_MSIDATA));

    s->stats.syncs++;
    trace_vsmmu_cmd_sync(ops->name, cs, msi);
    if (cs != VSMMU_SYNC_CS_IRQ) {
        return;                 /* SIG_NONE, SIG_SEV: CONS is the signal */
    }
    if (msi) {
        /* Any device may take it; the vsmmu itself refuses (its guard) */
        if (address_space_write(&address_space_memory, msi,
                                MEMTXATTRS_UNSPECIFIED, &data,
                                sizeof(data)) != MEMTX_OK) {
            qemu_log_mask(LOG_GUEST_ERROR, "vsmmu: %s: CMD_SYNC MSI write to "
                          "0x%" HWADDR_PRIx " aborted\n", ops->name, msi);
            if (ops->msi_abort) {
                ops->msi_abort(s, q);
            }
        }
    } else if (ops->sync_irq) {
        ops->sync_irq(s, q);
    }
}

/*
 * Hand the pending batch to the backend. Returns the number of commands
 * that completed; on a shortfall *err says why.
 */
static unsigned vsmmu_cmdq_flush(VsmmuState *s, VsmmuCmd *batch, unsigned n,
                                 VsmmuCmdError *err)
{
    unsigned done;

    if (!n) {
        return 0;
    }
    s->stats.batches++;
    done = s->backend->process_batch(s, batch, n, err);
    trace_vsmmu_cmdq_batch(n, done);
    return done;
}

static uint32_t vsmmu_queue_advance(const VsmmuQueue *q, uint32_t v,
                                    unsigned k)
{
    while (k--) {
        v = vsmmu_queue_next(q, v);
    }
    return v;
}

/*
 * Commands are read from guest memory in runs: one DMA read for up to
 * VSMMU_FETCH_MAX entries up to PROD or the end of the ring.
 */
#define VSMMU_FETCH_MAX     64

typedef struct VsmmuFetch {
    uint64_t raw[VSMMU_FETCH_MAX][2];
    unsigned n, pos;
} VsmmuFetch;

/* The command at @cur (the next one to consume); false on an abort */
static bool vsmmu_cmd_fetch(VsmmuFetch *f, const VsmmuQueue *q, uint32_t cur,
                            uint64_t *raw)
{
    if (f->pos == f->n) {
        uint32_t size = 1u << vsmmu_queue_log2size(q);
        uint32_t avail = (vsmmu_queue_wrap_idx(q, q->prod) -
                          vsmmu_queue_wrap_idx(q, cur)) & (2 * size - 1);
        unsigned n = MIN(MIN(avail, size - vsmmu_queue_idx(q, cur)),
                         VSMMU_FETCH_MAX);

        /* A run that faults is read again one by one, to find the entry */
        if (!vsmmu_table_read(vsmmu_queue_entry(q, cur), f->raw,
                              n * sizeof(f->raw[0]))) {
            n = 1;
            if (!vsmmu_table_read(vsmmu_queue_entry(q, cur), f->raw,
                                  sizeof(f->raw[0]))) {
                return false;
            }
        }
        f->n = n;
        f->pos = 0;
    }
    raw[0] = le64_to_cpu(f->raw[f->pos][0]);
    raw[1] = le64_to_cpu(f->raw[f->pos][1]);
    f->pos++;
    return true;
}

/*
 * Run one slice of @q: at most VSMMU_CMDQ_SLICE commands. Returns true if
 * the slice ended with commands left to run (no error stopped the queue).
 */
static bool vsmmu_cmdq_slice(VsmmuState *s, const VsmmuCmdQueueOps *ops,
                             VsmmuQueue *q)
{
    /*
     * Every slot is written before it is read: spare the 10 KiB of zeroing
     * that -ftrivial-auto-var-init would do on every run
     */
    QEMU_UNINITIALIZED VsmmuCmd batch[VSMMU_BATCH_MAX];
    QEMU_UNINITIALIZED VsmmuFetch fetch;
    VsmmuCmdError err = VSMMU_CERROR_NONE, ferr = VSMMU_CERROR_NONE;
    unsigned n = 0, done = 0, budget = VSMMU_CMDQ_SLICE;
    uint32_t cur = q->cons;     /* next command to read */
    uint32_t stop;              /* where CONS stops on an error */

    if (!ops->can_run(s, q)) {
        return false;
    }
    fetch.n = fetch.pos = 0;

    while (vsmmu_queue_wrap_idx(q, cur) != vsmmu_queue_wrap_idx(q, q->prod)) {
        VsmmuCmd *c = &batch[n];

        if (!budget--) {
            break;              /* the rest in the next slice */
        }

        memset(c, 0, sizeof(*c));
        if (!vsmmu_cmd_fetch(&fetch, q, cur, c->raw)) {
            qemu_log_mask(LOG_GUEST_ERROR, "vsmmu: %s: command fetch from 0x%"
                          HWADDR_PRIx " failed\n", ops->name,
                          vsmmu_queue_entry(q, cur));
            err = VSMMU_CERROR_ABT;
            break;
        }
        /* the owner's hook may refuse it, or rewrite it: decoded again */
        if (!vsmmu_cmd_decode(s, c) || !ops->allowed(s, c->opcode) ||
            (ops->command && (!ops->command(s, q, c) ||
                              !vsmmu_cmd_decode(s, c)))) {
            qemu_log_mask(LOG_GUEST_ERROR, "vsmmu: %s: illegal command 0x%02x "
                          "(%s) at index %u\n", ops->name, c->opcode,
                          vsmmu_cmd_name(c->opcode), vsmmu_queue_idx(q, cur));
            err = VSMMU_CERROR_ILL;
            break;
        }
        trace_vsmmu_cmd(ops->name, vsmmu_queue_idx(q, cur),
                        vsmmu_cmd_name(c->opcode), c->raw[0], c->raw[1]);
        s->stats.commands++;
        if (c->opcode == VSMMU_CMD_ATC_INV) {
            s->stats.atc_invs++;
        }

        if (c->opcode == VSMMU_CMD_SYNC) {
            VsmmuCmd sync = *c;

            done = vsmmu_cmdq_flush(s, batch, n, &ferr);
            if (done < n || ferr != VSMMU_CERROR_NONE) {
                break;          /* an ATC timeout stops CONS on the sync */
            }
            n = 0;
            cur = vsmmu_queue_next(q, cur);
            q->cons = cur;
            vsmmu_cmd_sync_complete(s, ops, q, &sync);
            continue;
        }

        cur = vsmmu_queue_next(q, cur);
        if (++n == VSMMU_BATCH_MAX) {
            done = vsmmu_cmdq_flush(s, batch, n, &ferr);
            if (done < n) {
                break;
            }
            n = 0;
            q->cons = cur;
        }
    }

    /*
     * Commands still pending (the queue ran dry without a CMD_SYNC, or a
     * later command is bad) take effect first; q->cons indexes the first.
     */
    if (ferr == VSMMU_CERROR_NONE) {
        done = vsmmu_cmdq_flush(s, batch, n, &ferr);
    }
    if (ferr != VSMMU_CERROR_NONE) {
        stop = vsmmu_queue_advance(q, q->cons, done);
        err = ferr;
    } else {
        stop = cur;
    }
    q->cons = stop;

    if (err != VSMMU_CERROR_NONE) {
        q->cons = FIELD_DP32(q->cons, CMDQ_CONS, ERR, err);
        trace_vsmmu_cmdq_error(ops->name, vsmmu_queue_idx(q, q->cons), err);
        ops->raise_error(s, q, err);
        return false;
    }
    return vsmmu_queue_wrap_idx(q, q->cons) != vsmmu_queue_wrap_idx(q, q->prod);
}

/*
 * CPU time of this thread: what a slice costs, whatever else the host
 * runs (wall time on a loaded host also counts its scheduler)
 */
static int64_t vsmmu_thread_cpu_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

void vsmmu_cmdq_kick(VsmmuCmdqRunner *r)
{
    VsmmuState *s = r->s;
    int64_t start, wall;
    bool more;

    if (r->running) {
        /* from inside a slice (an MSI came back): continue afterwards */
        qemu_bh_schedule(r->bh);
        return;
    }
    r->running = true;
    start = vsmmu_thread_cpu_ns();
    wall = get_clock();
    more = vsmmu_cmdq_slice(s, r->ops, r->q);
    s->stats.slice_max_ns = MAX(s->stats.slice_max_ns,
                                vsmmu_thread_cpu_ns() - start);
    s->stats.slice_max_wall_ns = MAX(s->stats.slice_max_wall_ns,
                                     get_clock() - wall);
    if (more) {
        s->stats.slices_deferred++;
        trace_vsmmu_cmdq_slice_defer(r->ops->name,
                                     vsmmu_queue_idx(r->q, r->q->cons));
        qemu_bh_schedule(r->bh);
    }
    r->running = false;
}

static void vsmmu_cmdq_bh(void *opaque)
{
    /* A stopped VM (migration) resumes through vsmmu_cmdq_resume() */
    if (runstate_is_running()) {
        vsmmu_cmdq_kick(opaque);
    }
}

void vsmmu_cmdq_resume(VsmmuCmdqRunner *r)
{
    qemu_bh_schedule(r->bh);
}

void vsmmu_cmdq_runner_init(VsmmuCmdqRunner *r, VsmmuState *s,
                            const VsmmuCmdQueueOps *ops, VsmmuQueue *q)
{
    r->s = s;
    r->ops = ops;
    r->q = q;
    r->running = false;
    /* the vsmmu's guard: an MSI from a slice cannot re-enter the vsmmu */
    r->bh = qemu_bh_new_guarded(vsmmu_cmdq_bh, r,
                                &DEVICE(s)->mem_reentrancy_guard);
}

void vsmmu_cmdq_runner_cleanup(VsmmuCmdqRunner *r)
{
    if (r->bh) {
        qemu_bh_delete(r->bh);
        r->bh = NULL;
    }
}
