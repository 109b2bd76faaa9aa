/*
 * vsmmu: the event queue (IHI 0070 §7)
 *
 * Events can be found on any thread: translate() runs without the BQL
 * for iothread devices. So recording is in two steps (docs/security.md,
 * rule 3): a record goes into a small FIFO under s->mutex, and a drain,
 * always under the BQL and with no vsmmu lock held, writes the records
 * to the guest's queue (RAM only) and signals once. The drain runs at
 * once when the poster holds the BQL and no drain is running, otherwise
 * from a bottom half; it handles at most one FIFO's worth per call.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/log.h"
#include "qemu/main-loop.h"
#include "vsmmu-internal.h"
#include "trace.h"

static void vsmmu_evt_encode(const VsmmuEvent *ev, uint64_t rec[4])
{
    rec[0] = FIELD_DP64(0, EVT0, ID, ev->id);
    rec[0] = FIELD_DP64(rec[0], EVT0, SID, ev->sid);
    rec[0] = FIELD_DP64(rec[0], EVT0, SSV, ev->ssv);
    rec[0] = FIELD_DP64(rec[0], EVT0, SSID, ev->ssv ? ev->ssid : 0);
    rec[1] = 0;
    rec[2] = 0;
    rec[3] = 0;

    switch (ev->id) {
    case VSMMU_EVT_F_TRANSLATION:
    case VSMMU_EVT_F_ADDR_SIZE:
    case VSMMU_EVT_F_ACCESS:
    case VSMMU_EVT_F_PERMISSION:
        rec[1] = FIELD_DP64(rec[1], EVT1, PNU, ev->pnu);
        rec[1] = FIELD_DP64(rec[1], EVT1, IND, ev->ind);
        rec[1] = FIELD_DP64(rec[1], EVT1, RNW, ev->rnw);
        rec[1] = FIELD_DP64(rec[1], EVT1, S2, ev->s2);
        rec[1] = FIELD_DP64(rec[1], EVT1, CLASS, ev->class);
        rec[2] = ev->input_addr;
        /* a stage 2 fault: the IPA that faulted, bits [51:12] */
        if (ev->s2) {
            rec[3] = FIELD_DP64(0, EVT3, IPA,
                                ev->fetch_addr >> R_EVT3_IPA_SHIFT);
        }
        break;
    case VSMMU_EVT_F_WALK_EABT:
        rec[1] = FIELD_DP64(rec[1], EVT1, PNU, ev->pnu);
        rec[1] = FIELD_DP64(rec[1], EVT1, IND, ev->ind);
        rec[1] = FIELD_DP64(rec[1], EVT1, RNW, ev->rnw);
        rec[1] = FIELD_DP64(rec[1], EVT1, S2, ev->s2);
        rec[1] = FIELD_DP64(rec[1], EVT1, CLASS, ev->class);
        rec[2] = ev->input_addr;
        rec[3] = FIELD_DP64(0, EVT3, FETCH_ADDR, ev->fetch_addr >> 3);
        break;
    case VSMMU_EVT_F_BAD_ATS_TREQ:
        /* the request's address; RnW, InD, PnU are RES0 here */
        rec[2] = ev->input_addr;
        break;
    case VSMMU_EVT_F_STE_FETCH:
    case VSMMU_EVT_F_CD_FETCH:
        rec[3] = FIELD_DP64(0, EVT3, FETCH_ADDR, ev->fetch_addr >> 3);
        break;
    default:
        break;
    }
}

/* Can the event queue take records now? BQL held */
static bool vsmmu_evtq_active(VsmmuState *s)
{
    return vsmmu_enabled(s) && FIELD_EX32(s->cr0, CR0, EVENTQEN) &&
           /* inactive until an EVENTQ_ABT_ERR is acknowledged */
           !FIELD_EX32(s->gerror ^ s->gerrorn, GERROR, EVENTQ_ABT_ERR);
}

/*
 * Records were lost: toggle PROD.OVFLG unless an overflow is pending.
 * Returns whether this started a new overflow condition: only then is
 * the guest signalled. Events lost while the guest has not acknowledged
 * the last overflow (CONS.OVACKFLG) are counted, not signalled again,
 * so a guest that leaves its queue full cannot make every dropped event
 * an interrupt.
 */
static bool vsmmu_evtq_overflow(VsmmuState *s, uint64_t lost)
{
    VsmmuQueue *q = &s->eventq;

    s->stats.events_lost += lost;
    if (FIELD_EX32(q->prod, QUEUE_INDEX, OVFLG) !=
        FIELD_EX32(q->cons, QUEUE_INDEX, OVFLG)) {
        return false;
    }
    q->prod ^= R_QUEUE_INDEX_OVFLG_MASK;
    return true;
}

/*
 * Write one record at EVENTQ_PROD (BQL held). Events are only recorded
 * while the SMMU and its event queue are enabled; on a full queue the
 * record is dropped and the overflow flag toggled (§7.4): PROD.OVFLG !=
 * CONS.OVACKFLG tells the guest it lost events. Returns whether the guest
 * should be told (a record written or a new overflow).
 */
static bool vsmmu_evtq_write(VsmmuState *s, const uint64_t *rec)
{
    VsmmuQueue *q = &s->eventq;
    uint64_t le[4];

    if (!vsmmu_evtq_active(s)) {
        trace_vsmmu_evtq_drop_disabled(FIELD_EX64(rec[0], EVT0, ID),
                                       FIELD_EX64(rec[0], EVT0, SID));
        return false;
    }
    if (vsmmu_queue_full(q)) {
        trace_vsmmu_evtq_overflow(FIELD_EX64(rec[0], EVT0, ID),
                                  FIELD_EX64(rec[0], EVT0, SID));
        return vsmmu_evtq_overflow(s, 1);
    }
    for (int i = 0; i < 4; i++) {
        le[i] = cpu_to_le64(rec[i]);
    }
    if (!vsmmu_table_write(vsmmu_queue_entry(q, q->prod), le, sizeof(le))) {
        qemu_log_mask(LOG_GUEST_ERROR, "vsmmu: event queue write to 0x%"
                      HWADDR_PRIx " failed (not RAM)\n",
                      vsmmu_queue_entry(q, q->prod));
        vsmmu_gerror_raise(s, R_GERROR_EVENTQ_ABT_ERR_MASK);
        return false;
    }
    q->prod = vsmmu_queue_next(q, q->prod);
    s->stats.events++;
    trace_vsmmu_evtq_record(extract64(rec[0], 0, 8), extract64(rec[0], 32, 32),
                            rec[2], q->prod);
    return true;
}

/*
 * Move pending records into the guest's queue: BQL held, no vsmmu lock.
 * At most one FIFO's worth per call, so that records posted while it runs
 * (an event MSI whose target DMAs and faults) wait for the bottom half.
 */
static void vsmmu_evtq_drain(VsmmuState *s)
{
    DeviceState *dev = DEVICE(s);
    bool guard = dev->mem_reentrancy_guard.engaged_in_io;
    bool signal = false;
    uint64_t lost;

    s->evt_draining = true;
    /* MSIs aimed at the vsmmu itself are refused, as from its MMIO */
    dev->mem_reentrancy_guard.engaged_in_io = true;

    qemu_mutex_lock(&s->mutex);
    lost = s->evt_lost;
    s->evt_lost = 0;
    qemu_mutex_unlock(&s->mutex);
    if (lost && vsmmu_evtq_active(s)) {
        trace_vsmmu_evtq_lost(lost);
        signal = vsmmu_evtq_overflow(s, lost);
    }

    for (unsigned i = 0; i < VSMMU_EVT_FIFO_DEPTH; i++) {
        uint64_t rec[4];

        qemu_mutex_lock(&s->mutex);
        if (!s->evt_count) {
            qemu_mutex_unlock(&s->mutex);
            break;
        }
        memcpy(rec, s->evt_fifo[s->evt_head], sizeof(rec));
        s->evt_head = (s->evt_head + 1) % VSMMU_EVT_FIFO_DEPTH;
        s->evt_count--;
        qemu_mutex_unlock(&s->mutex);
        signal |= vsmmu_evtq_write(s, rec);
    }

    if (signal) {
        s->stats.evtq_signals++;
        vsmmu_irq_raise(s, VSMMU_IRQ_EVTQ);
    }
    dev->mem_reentrancy_guard.engaged_in_io = guard;
    s->evt_draining = false;

    qemu_mutex_lock(&s->mutex);
    if (s->evt_count || s->evt_lost) {
        qemu_bh_schedule(s->evt_bh);
    }
    qemu_mutex_unlock(&s->mutex);
}

static void vsmmu_evtq_bh(void *opaque)
{
    vsmmu_evtq_drain(opaque);
}

/* Records were posted: drain now if this thread may, else later */
static void vsmmu_evtq_kick(VsmmuState *s)
{
    if (bql_locked() && !s->evt_draining) {
        vsmmu_evtq_drain(s);
    } else {
        qemu_bh_schedule(s->evt_bh);
    }
}

void vsmmu_evtq_record_raw(VsmmuState *s, const uint64_t *rec)
{
    qemu_mutex_lock(&s->mutex);
    if (s->evt_count == VSMMU_EVT_FIFO_DEPTH) {
        /* as good as a full queue: the guest learns it lost events */
        s->evt_lost++;
    } else {
        unsigned tail = (s->evt_head + s->evt_count) % VSMMU_EVT_FIFO_DEPTH;

        memcpy(s->evt_fifo[tail], rec, sizeof(s->evt_fifo[tail]));
        s->evt_count++;
    }
    qemu_mutex_unlock(&s->mutex);
    vsmmu_evtq_kick(s);
}

void vsmmu_evtq_record(VsmmuState *s, const VsmmuEvent *ev)
{
    uint64_t rec[4];

    vsmmu_evt_encode(ev, rec);
    vsmmu_evtq_record_raw(s, rec);
}

void vsmmu_evtq_lost(VsmmuState *s, uint64_t n)
{
    if (!n) {
        return;
    }
    qemu_mutex_lock(&s->mutex);
    s->evt_lost += n;
    qemu_mutex_unlock(&s->mutex);
    vsmmu_evtq_kick(s);
}

void vsmmu_evtq_init(VsmmuState *s)
{
    s->evt_bh = qemu_bh_new_guarded(vsmmu_evtq_bh, s,
                                    &DEVICE(s)->mem_reentrancy_guard);
}

void vsmmu_evtq_reset(VsmmuState *s)
{
    qemu_mutex_lock(&s->mutex);
    s->evt_head = 0;
    s->evt_count = 0;
    s->evt_lost = 0;
    qemu_mutex_unlock(&s->mutex);
}

void vsmmu_evtq_flush(VsmmuState *s)
{
    if (!s->evt_draining) {
        vsmmu_evtq_drain(s);
    }
}
