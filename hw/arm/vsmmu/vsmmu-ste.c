/*
 * vsmmu: stream table and context descriptor decoding (IHI 0070 §5)
 *
 * Fetches a stream's STE and CD from guest memory, validates them as the
 * architecture says and produces a VsmmuStreamCfg, or the architected
 * fault. No side effects: callers cache the result and record the event.
 *
 * Decoding runs without any vsmmu lock (translate() may run on an
 * iothread): it reads a copy of the registers it needs (VsmmuTableRegs,
 * taken under s->mutex) and guest memory, RAM only, so a table that is
 * not in RAM is F_STE_FETCH / F_CD_FETCH, never an access to a device.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/log.h"
#include "vsmmu-internal.h"
#include "trace.h"

static bool vsmmu_fault(VsmmuEvent *ev, VsmmuEventId id, uint32_t sid,
                        const char *why)
{
    ev->id = id;
    ev->sid = sid;
    if (id == VSMMU_EVT_C_BAD_STE || id == VSMMU_EVT_C_BAD_CD ||
        id == VSMMU_EVT_C_BAD_STREAMID) {
        qemu_log_mask(LOG_GUEST_ERROR, "vsmmu: stream 0x%x: %s\n", sid, why);
    }
    trace_vsmmu_config_fault(sid, id, why);
    return false;
}

static bool vsmmu_fetch(hwaddr addr, uint64_t *buf, unsigned dwords)
{
    if (!vsmmu_table_read(addr, buf, dwords * 8)) {
        return false;
    }
    for (unsigned i = 0; i < dwords; i++) {
        buf[i] = le64_to_cpu(buf[i]);
    }
    return true;
}

static bool vsmmu_fetch_fault(VsmmuEvent *ev, VsmmuEventId id, uint32_t sid,
                              hwaddr addr)
{
    ev->fetch_addr = addr;
    qemu_log_mask(LOG_GUEST_ERROR, "vsmmu: stream 0x%x: %s fetch from 0x%"
                  HWADDR_PRIx " failed\n", sid,
                  id == VSMMU_EVT_F_STE_FETCH ? "STE" : "CD", addr);
    return vsmmu_fault(ev, id, sid, "fetch failed");
}

/* Locate and read the STE of @sid (§5.2, §6.3.25) */
static bool vsmmu_ste_fetch(const VsmmuTableRegs *r, uint32_t sid,
                            uint64_t *ste, VsmmuEvent *ev)
{
    uint32_t cfg = r->strtab_base_cfg;
    unsigned log2size = MIN(FIELD_EX32(cfg, STRTAB_BASE_CFG, LOG2SIZE),
                            r->sidsize);
    hwaddr base = FIELD_EX64(r->strtab_base, STRTAB_BASE, ADDR) <<
                  R_STRTAB_BASE_ADDR_SHIFT;
    hwaddr addr;

    if (log2size < 32 && sid >= (1ULL << log2size)) {
        return vsmmu_fault(ev, VSMMU_EVT_C_BAD_STREAMID, sid,
                           "StreamID beyond the stream table");
    }

    if (FIELD_EX32(cfg, STRTAB_BASE_CFG, FMT) == VSMMU_STRTAB_FMT_2LVL) {
        unsigned split = FIELD_EX32(cfg, STRTAB_BASE_CFG, SPLIT);
        uint64_t l1d;
        unsigned span;
        hwaddr l1addr;

        if (split != 6 && split != 8 && split != 10) {
            split = 6;          /* reserved: behaves as 6 (§6.3.25) */
        }
        l1addr = base + (hwaddr)(sid >> split) * 8;
        if (!vsmmu_fetch(l1addr, &l1d, 1)) {
            return vsmmu_fetch_fault(ev, VSMMU_EVT_F_STE_FETCH, sid, l1addr);
        }
        span = FIELD_EX64(l1d, L1STD, SPAN);
        if (span == 0 || span > split + 1 ||
            (sid & ((1u << split) - 1)) >= (1u << (span - 1))) {
            return vsmmu_fault(ev, VSMMU_EVT_C_BAD_STREAMID, sid,
                               "level-1 descriptor does not cover the stream");
        }
        addr = (FIELD_EX64(l1d, L1STD, L2PTR) << R_L1STD_L2PTR_SHIFT) +
               (hwaddr)(sid & ((1u << split) - 1)) * VSMMU_STE_SIZE;
    } else {
        addr = base + (hwaddr)sid * VSMMU_STE_SIZE;
    }

    if (!vsmmu_fetch(addr, ste, VSMMU_STE_DWORDS)) {
        return vsmmu_fetch_fault(ev, VSMMU_EVT_F_STE_FETCH, sid, addr);
    }
    trace_vsmmu_ste_fetch(sid, addr, ste[0], ste[1]);
    return true;
}

/* Locate and read CD @ssid of a stage-1 STE (§5.4) */
static bool vsmmu_cd_fetch(uint32_t sid, const uint64_t *ste,
                           uint32_t ssid, uint64_t *cd, VsmmuEvent *ev)
{
    hwaddr ctx = FIELD_EX64(ste[0], STE0, S1CONTEXTPTR) <<
                 R_STE0_S1CONTEXTPTR_SHIFT;
    unsigned cdmax = FIELD_EX64(ste[0], STE0, S1CDMAX);
    unsigned fmt = FIELD_EX64(ste[0], STE0, S1FMT);
    hwaddr addr;

    if (cdmax == 0) {
        addr = ctx;
    } else if (fmt == VSMMU_S1FMT_LINEAR) {
        addr = ctx + (hwaddr)ssid * VSMMU_CD_SIZE;
    } else {
        unsigned l2bits = fmt == VSMMU_S1FMT_2LVL_4K ? 6 : 10;
        hwaddr l1addr = ctx + (hwaddr)(ssid >> l2bits) * 8;
        uint64_t l1d;

        if (!vsmmu_fetch(l1addr, &l1d, 1)) {
            return vsmmu_fetch_fault(ev, VSMMU_EVT_F_CD_FETCH, sid, l1addr);
        }
        if (!FIELD_EX64(l1d, L1CD, V)) {
            ev->ssv = true;
            ev->ssid = ssid;
            return vsmmu_fault(ev, VSMMU_EVT_C_BAD_SUBSTREAMID, sid,
                               "invalid level-1 CD descriptor");
        }
        addr = (FIELD_EX64(l1d, L1CD, L2PTR) << R_L1CD_L2PTR_SHIFT) +
               (hwaddr)(ssid & ((1u << l2bits) - 1)) * VSMMU_CD_SIZE;
    }
    if (!vsmmu_fetch(addr, cd, VSMMU_CD_DWORDS)) {
        return vsmmu_fetch_fault(ev, VSMMU_EVT_F_CD_FETCH, sid, addr);
    }
    trace_vsmmu_cd_fetch(sid, ssid, addr, cd[0], cd[1]);
    return true;
}

static uint8_t vsmmu_ips_bits(uint8_t ips)
{
    return vsmmu_oas_bits(ips);
}

/* Granule shift of CD.TG0 / CD.TG1, 0 if reserved */
static uint8_t vsmmu_cd_granule(unsigned tg, bool ttb1)
{
    if (ttb1) {
        switch (tg) {
        case VSMMU_TG1_4K:  return 12;
        case VSMMU_TG1_16K: return 14;
        case VSMMU_TG1_64K: return 16;
        }
    } else {
        switch (tg) {
        case VSMMU_TG0_4K:  return 12;
        case VSMMU_TG0_16K: return 14;
        case VSMMU_TG0_64K: return 16;
        }
    }
    return 0;
}

/* Validate a CD and turn it into smmu-common's walker configuration */
static bool vsmmu_cd_decode(const VsmmuTableRegs *r, uint32_t sid,
                            const uint64_t *cd, SMMUTransCfg *t,
                            VsmmuEvent *ev)
{
    uint8_t ips;

    if (!FIELD_EX64(cd[0], CD0, V)) {
        return vsmmu_fault(ev, VSMMU_EVT_C_BAD_CD, sid, "CD.V is 0");
    }
    if (!FIELD_EX64(cd[0], CD0, AA64)) {
        return vsmmu_fault(ev, VSMMU_EVT_C_BAD_CD, sid,
                           "AArch32 tables not supported (CD.AA64 = 0)");
    }
    if (FIELD_EX64(cd[0], CD0, ENDI)) {
        return vsmmu_fault(ev, VSMMU_EVT_C_BAD_CD, sid,
                           "big-endian tables not supported (CD.ENDI = 1)");
    }
    if (FIELD_EX64(cd[0], CD0, S)) {
        return vsmmu_fault(ev, VSMMU_EVT_C_BAD_CD, sid,
                           "stalls not supported (CD.S = 1)");
    }
    /* IDR0.TERM_MODEL = 1: terminated transactions always abort */
    if (!FIELD_EX64(cd[0], CD0, A)) {
        return vsmmu_fault(ev, VSMMU_EVT_C_BAD_CD, sid,
                           "CD.A = 0 with IDR0.TERM_MODEL = 1");
    }
    /* IDR0.HTTU = 0: no hardware update of access or dirty flags */
    if (FIELD_EX64(cd[0], CD0, HA) || FIELD_EX64(cd[0], CD0, HD)) {
        return vsmmu_fault(ev, VSMMU_EVT_C_BAD_CD, sid,
                           "CD.HA/HD set without IDR0.HTTU");
    }

    memset(t, 0, sizeof(*t));
    t->stage = SMMU_STAGE_1;
    t->aa64 = true;
    t->record_faults = FIELD_EX64(cd[0], CD0, R);
    t->affd = FIELD_EX64(cd[0], CD0, AFFD);
    t->tbi = FIELD_EX64(cd[0], CD0, TBI0) | FIELD_EX64(cd[0], CD0, TBI1) << 1;
    t->asid = FIELD_EX64(cd[0], CD0, ASID);
    t->s2cfg.vmid = -1;
    ips = FIELD_EX64(cd[0], CD0, IPS);
    t->oas = MIN(vsmmu_ips_bits(ips), r->oas);
    /* page tables in RAM only: anything else is F_WALK_EABT */
    t->walk_ram_only = true;

    for (int i = 0; i <= 1; i++) {
        SMMUTransTableInfo *tt = &t->tt[i];
        bool epd = i ? FIELD_EX64(cd[0], CD0, EPD1) :
                       FIELD_EX64(cd[0], CD0, EPD0);
        unsigned tsz = i ? FIELD_EX64(cd[0], CD0, T1SZ) :
                           FIELD_EX64(cd[0], CD0, T0SZ);
        unsigned tg = i ? FIELD_EX64(cd[0], CD0, TG1) :
                          FIELD_EX64(cd[0], CD0, TG0);

        tt->disabled = epd;
        if (epd) {
            /*
             * A disabled half still bounds its region: an access there is
             * a translation fault. An out-of-range TxSZ behaves as the
             * nearest legal one (the architecture allows either that or a
             * fault), and the region selection never sees an impossible
             * size.
             */
            tt->tsz = MIN(MAX(tsz, VSMMU_TSZ_MIN), VSMMU_TSZ_MAX);
            continue;
        }
        tt->tsz = tsz;
        tt->granule_sz = vsmmu_cd_granule(tg, i);
        if (!tt->granule_sz) {
            return vsmmu_fault(ev, VSMMU_EVT_C_BAD_CD, sid,
                               "reserved translation granule in CD.TGx");
        }
        /* 48-bit VA at most (IDR5.VAX = 0), 25-bit at least */
        if (tsz < VSMMU_TSZ_MIN || tsz > VSMMU_TSZ_MAX) {
            return vsmmu_fault(ev, VSMMU_EVT_C_BAD_CD, sid,
                               "CD.TxSZ out of range [16, 39]");
        }
        tt->ttb = i ? FIELD_EX64(cd[2], CD2, TTB1) << R_CD2_TTB1_SHIFT :
                      FIELD_EX64(cd[1], CD1, TTB0) << R_CD1_TTB0_SHIFT;
        tt->had = i ? FIELD_EX64(cd[2], CD2, HAD1) :
                      FIELD_EX64(cd[1], CD1, HAD0);
        if (extract64(tt->ttb, t->oas, 64 - t->oas)) {
            return vsmmu_fault(ev, VSMMU_EVT_C_BAD_CD, sid,
                               "CD.TTBx beyond the output address size");
        }
    }
    return true;
}

/*
 * Decode the STE in @c->ste. With @ste_only, stop after the STE's own
 * checks (accelerated mode: the host SMMU walks the CDs itself).
 */
static bool vsmmu_ste_decode(const VsmmuTableRegs *r, uint32_t sid,
                             VsmmuStreamCfg *c, bool ste_only,
                             VsmmuEvent *ev)
{
    const uint64_t *ste = c->ste;
    unsigned config = FIELD_EX64(ste[0], STE0, CONFIG);
    unsigned cdmax, s1dss;
    uint64_t cd[VSMMU_CD_DWORDS];

    if (!FIELD_EX64(ste[0], STE0, V)) {
        return vsmmu_fault(ev, VSMMU_EVT_C_BAD_STE, sid, "STE.V is 0");
    }
    if (!(config & 4)) {
        c->kind = VSMMU_STREAM_ABORT;
        return true;
    }
    if (config == VSMMU_STE_CFG_BYPASS) {
        c->kind = VSMMU_STREAM_BYPASS;
        return true;
    }
    if (config != VSMMU_STE_CFG_S1) {
        return vsmmu_fault(ev, VSMMU_EVT_C_BAD_STE, sid,
                           "stage 2 not supported (STE.Config)");
    }

    if (FIELD_EX64(ste[1], STE1, STRW)) {
        return vsmmu_fault(ev, VSMMU_EVT_C_BAD_STE, sid,
                           "STE.STRW must be NS-EL1");
    }
    if (r->ats && FIELD_EX64(ste[1], STE1, EATS) > VSMMU_EATS_TRANS) {
        return vsmmu_fault(ev, VSMMU_EVT_C_BAD_STE, sid,
                           "STE.EATS needs stage 2");
    }
    cdmax = FIELD_EX64(ste[0], STE0, S1CDMAX);
    if (cdmax > r->ssidsize) {
        return vsmmu_fault(ev, VSMMU_EVT_C_BAD_STE, sid,
                           "STE.S1CDMax larger than IDR1.SSIDSIZE");
    }
    if (cdmax && FIELD_EX64(ste[0], STE0, S1FMT) > VSMMU_S1FMT_2LVL_64K) {
        return vsmmu_fault(ev, VSMMU_EVT_C_BAD_STE, sid,
                           "reserved STE.S1Fmt");
    }
    if (extract64(FIELD_EX64(ste[0], STE0, S1CONTEXTPTR) <<
                  R_STE0_S1CONTEXTPTR_SHIFT, r->oas, 64 - r->oas)) {
        return vsmmu_fault(ev, VSMMU_EVT_C_BAD_STE, sid,
                           "STE.S1ContextPtr beyond the output address size");
    }

    if (ste_only) {
        if (cdmax && FIELD_EX64(ste[1], STE1, S1DSS) > VSMMU_S1DSS_SSID0) {
            return vsmmu_fault(ev, VSMMU_EVT_C_BAD_STE, sid,
                               "reserved STE.S1DSS");
        }
        c->kind = VSMMU_STREAM_S1;
        return true;
    }

    /* A transaction without a substream: S1DSS decides (§5.2, S1DSS) */
    s1dss = cdmax ? FIELD_EX64(ste[1], STE1, S1DSS) : VSMMU_S1DSS_SSID0;
    switch (s1dss) {
    case VSMMU_S1DSS_TERMINATE:
        return vsmmu_fault(ev, VSMMU_EVT_F_STREAM_DISABLED, sid,
                           "no substream and STE.S1DSS = terminate");
    case VSMMU_S1DSS_BYPASS:
        c->kind = VSMMU_STREAM_BYPASS;
        return true;
    case VSMMU_S1DSS_SSID0:
        break;
    default:
        return vsmmu_fault(ev, VSMMU_EVT_C_BAD_STE, sid, "reserved STE.S1DSS");
    }

    if (!vsmmu_cd_fetch(sid, ste, 0, cd, ev) ||
        !vsmmu_cd_decode(r, sid, cd, &c->tcfg, ev)) {
        return false;
    }
    c->kind = VSMMU_STREAM_S1;
    return true;
}

/* The [T] registers the decoder reads, copied under s->mutex */
static void vsmmu_table_regs(VsmmuState *s, VsmmuTableRegs *r)
{
    qemu_mutex_lock(&s->mutex);
    *r = (VsmmuTableRegs) {
        .strtab_base = s->strtab_base,
        .strtab_base_cfg = s->strtab_base_cfg,
        .sidsize = s->sidsize,
        .ssidsize = s->ssidsize,
        .oas = s->oas,
        .ats = s->ats,
    };
    qemu_mutex_unlock(&s->mutex);
}

static bool vsmmu_stream_decode(VsmmuState *s, uint32_t sid,
                                VsmmuStreamCfg *cfg, bool ste_only,
                                VsmmuEvent *ev)
{
    VsmmuTableRegs r;

    vsmmu_table_regs(s, &r);
    memset(ev, 0, sizeof(*ev));
    memset(cfg, 0, sizeof(*cfg));
    ev->sid = sid;
    return vsmmu_ste_fetch(&r, sid, cfg->ste, ev) &&
           vsmmu_ste_decode(&r, sid, cfg, ste_only, ev);
}

bool vsmmu_stream_config(VsmmuState *s, uint32_t sid, VsmmuStreamCfg *cfg,
                         VsmmuEvent *ev)
{
    return vsmmu_stream_decode(s, sid, cfg, false, ev);
}

bool vsmmu_stream_ste(VsmmuState *s, uint32_t sid, VsmmuStreamCfg *cfg,
                      VsmmuEvent *ev)
{
    return vsmmu_stream_decode(s, sid, cfg, true, ev);
}
