/*
 * vsmmu: the event queue (IHI 0070 §7)
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/log.h"
#include "system/dma.h"
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
        rec[1] = FIELD_DP64(rec[1], EVT1, CLASS, ev->class);
        rec[2] = ev->input_addr;
        break;
    case VSMMU_EVT_F_WALK_EABT:
        rec[1] = FIELD_DP64(rec[1], EVT1, PNU, ev->pnu);
        rec[1] = FIELD_DP64(rec[1], EVT1, IND, ev->ind);
        rec[1] = FIELD_DP64(rec[1], EVT1, RNW, ev->rnw);
        rec[1] = FIELD_DP64(rec[1], EVT1, CLASS, ev->class);
        rec[2] = ev->input_addr;
        rec[3] = FIELD_DP64(0, EVT3, FETCH_ADDR, ev->fetch_addr >> 3);
        break;
    case VSMMU_EVT_F_STE_FETCH:
    case VSMMU_EVT_F_CD_FETCH:
        rec[3] = FIELD_DP64(0, EVT3, FETCH_ADDR, ev->fetch_addr >> 3);
        break;
    default:
        break;
    }
}

/* Can the event queue take records now? */
static bool vsmmu_evtq_active(VsmmuState *s)
{
    return vsmmu_enabled(s) && FIELD_EX32(s->cr0, CR0, EVENTQEN) &&
           /* inactive until an EVENTQ_ABT_ERR is acknowledged */
           !FIELD_EX32(s->gerror ^ s->gerrorn, GERROR, EVENTQ_ABT_ERR);
}

/* Records were lost: toggle PROD.OVFLG unless an overflow is pending */
static void vsmmu_evtq_overflow(VsmmuState *s, uint64_t lost)
{
    VsmmuQueue *q = &s->eventq;

    if (FIELD_EX32(q->prod, QUEUE_INDEX, OVFLG) ==
        FIELD_EX32(q->cons, QUEUE_INDEX, OVFLG)) {
        q->prod ^= R_QUEUE_INDEX_OVFLG_MASK;
    }
    s->stats.events_lost += lost;
    vsmmu_irq_raise(s, VSMMU_IRQ_EVTQ);
}

void vsmmu_evtq_record_raw(VsmmuState *s, const uint64_t *rec)
{
    VsmmuQueue *q = &s->eventq;
    uint64_t le[4];
    MemTxResult res;

    if (!vsmmu_evtq_active(s)) {
        trace_vsmmu_evtq_drop_disabled(extract64(rec[0], 0, 8),
                                       extract64(rec[0], 32, 32));
        return;
    }
    if (vsmmu_queue_full(q)) {
        trace_vsmmu_evtq_overflow(extract64(rec[0], 0, 8),
                                  extract64(rec[0], 32, 32));
        vsmmu_evtq_overflow(s, 1);
        return;
    }
    for (int i = 0; i < 4; i++) {
        le[i] = cpu_to_le64(rec[i]);
    }
    res = dma_memory_write(&address_space_memory, vsmmu_queue_entry(q, q->prod),
                           le, sizeof(le), MEMTXATTRS_UNSPECIFIED);
    if (res != MEMTX_OK) {
        qemu_log_mask(LOG_GUEST_ERROR, "vsmmu: event queue write to 0x%"
                      HWADDR_PRIx " failed\n", vsmmu_queue_entry(q, q->prod));
        vsmmu_gerror_raise(s, R_GERROR_EVENTQ_ABT_ERR_MASK);
        return;
    }
    q->prod = vsmmu_queue_next(q, q->prod);
    s->stats.events++;
    trace_vsmmu_evtq_record(extract64(rec[0], 0, 8), extract64(rec[0], 32, 32),
                            rec[2], q->prod);
    vsmmu_irq_raise(s, VSMMU_IRQ_EVTQ);
}

/*
 * Write one record at EVENTQ_PROD. Events are only recorded while the
 * SMMU and its event queue are enabled; on a full queue the record is
 * dropped and the overflow flag toggled (§7.4): PROD.OVFLG != CONS.OVACKFLG
 * tells the guest it lost events.
 */
void vsmmu_evtq_record(VsmmuState *s, const VsmmuEvent *ev)
{
    uint64_t rec[4];

    vsmmu_evt_encode(ev, rec);
    vsmmu_evtq_record_raw(s, rec);
}

void vsmmu_evtq_lost(VsmmuState *s, uint64_t n)
{
    if (vsmmu_evtq_active(s) && n) {
        trace_vsmmu_evtq_lost(n);
        vsmmu_evtq_overflow(s, n);
    }
}
