/*
 * vsmmu: stream table and context descriptor decoding (IHI 0070 §5)
 *
 * Fetches a stream's STE and CD from guest memory, validates them as the
 * architecture says and produces a VsmmuStreamCfg, or the architected
 * fault. No side effects: callers cache the result and record the event.
 *
 * With stage 2 offered (stage=2|nested) an STE may translate with stage 2
 * alone or nest stage 1 over it. A nested stream's CD table is in IPA
 * space: its addresses go through stage 2 (smmu-common's walker, RAM
 * only, never its IOTLB) before they are read, and a stage-2 fault there
 * is reported with CLASS = CD.
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

/*
 * Nested streams: @addr, an address of the CD table (S1ContextPtr, a
 * level-1 descriptor's L2Ptr), is an IPA. Stage 2 @s2 gives its PA, with
 * a walk of smmu-common's (RAM only, no IOTLB: the decoder holds no
 * lock). A fault is the one the architecture reports for a CD fetch:
 * the stage-2 fault with CLASS = CD, S2 = 1 and the IPA, recorded only
 * with STE.S2R (else ev->id is 0: abort silently), or F_WALK_EABT.
 * Without stage 2 (@s2 NULL) the address is the PA already.
 */
static bool vsmmu_cd_ipa(VsmmuState *s, const VsmmuTableRegs *r,
                         uint32_t sid, const SMMUS2Cfg *s2, hwaddr *addr,
                         VsmmuEvent *ev)
{
    SMMUPTWEventInfo info = {};
    SMMUTLBEntry te = {};
    SMMUTransCfg t;
    VsmmuEventId id;

    if (!s2) {
        return true;
    }
    memset(&t, 0, sizeof(t));
    t.stage = SMMU_STAGE_2;
    t.asid = -1;
    t.oas = r->oas;             /* IAS: AArch64 tables only, IAS = OAS */
    t.walk_ram_only = true;
    t.s2cfg = *s2;
    if (!smmu_ptw(&s->smmu, &t, *addr, IOMMU_RO, &te, &info)) {
        *addr = CACHED_ENTRY_TO_ADDR(&te, *addr);
        return true;
    }

    ev->class = VSMMU_EVT_CLASS_CD;
    ev->s2 = info.stage == SMMU_STAGE_2;
    switch (info.type) {
    case SMMU_PTW_ERR_WALK_EABT:
        ev->fetch_addr = info.addr;
        return vsmmu_fault(ev, VSMMU_EVT_F_WALK_EABT, sid,
                           "stage 2 walk of a CD fetch aborted");
    case SMMU_PTW_ERR_ADDR_SIZE:
        id = VSMMU_EVT_F_ADDR_SIZE;
        break;
    case SMMU_PTW_ERR_ACCESS:
        id = VSMMU_EVT_F_ACCESS;
        break;
    case SMMU_PTW_ERR_PERMISSION:
        id = VSMMU_EVT_F_PERMISSION;
        break;
    default:
        id = VSMMU_EVT_F_TRANSLATION;
        break;
    }
    ev->fetch_addr = *addr;     /* the IPA */
    if (ev->s2 && !s2->record_faults) {
        id = 0;                 /* STE.S2R = 0: terminate, no record */
    }
    return vsmmu_fault(ev, id, sid, "stage 2 fault on a CD fetch");
}

/*
 * Locate and read CD @ssid of a stage-1 STE (§5.4); through stage 2 @s2
 * for a nested one
 */
static bool vsmmu_cd_fetch(VsmmuState *s, const VsmmuTableRegs *r,
                           uint32_t sid, const uint64_t *ste,
                           const SMMUS2Cfg *s2, uint32_t ssid, uint64_t *cd,
                           VsmmuEvent *ev)
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

        if (!vsmmu_cd_ipa(s, r, sid, s2, &l1addr, ev)) {
            return false;
        }
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
    if (!vsmmu_cd_ipa(s, r, sid, s2, &addr, ev)) {
        return false;
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

/* Granule shift of STE.S2TG, 0 if reserved */
static uint8_t vsmmu_s2_granule(unsigned tg)
{
    switch (tg) {
    case VSMMU_S2TG_4K:  return 12;
    case VSMMU_S2TG_16K: return 14;
    case VSMMU_S2TG_64K: return 16;
    }
    return 0;
}

/*
 * The level a stage 2 walk starts at: STE.S2SL0 for granule shift @gs
 * (4KB: 0b00 level 2, 0b01 level 1, 0b10 level 0; 16KB and 64KB: 0b00
 * level 3, 0b01 level 2, 0b10 level 1). -1 for what is reserved here:
 * 0b11 (IDR3.STT = 0, no 52-bit 16KB walks) and 64KB level 1, which
 * exists only with 52-bit addresses.
 */
static int vsmmu_s2_start_level(unsigned sl0, unsigned gs, unsigned oas)
{
    if (sl0 == VSMMU_S2SL0_RESERVED || (gs == 16 && sl0 == 2 && oas < 52)) {
        return -1;
    }
    return gs == 12 ? 2 - (int)sl0 : 3 - (int)sl0;
}

/*
 * Is a walk of @ias input bits starting at @level consistent (VMSAv8-64
 * stage 2)? The starting level resolves the bits above the ones the
 * next levels do: at least one, at most a table's worth times 16
 * concatenated tables.
 */
static bool vsmmu_s2_walk_valid(unsigned ias, unsigned gs, int level)
{
    unsigned stride = gs - 3;
    unsigned below = gs + (3 - level) * stride;

    return ias > below && ias - below <= stride + VSMMU_S2_MAX_CONCAT_BITS;
}

/*
 * The stage 2 fields of an STE (IHI 0070 §5.2), validated: anything this
 * SMMU does not offer or the architecture calls ILLEGAL is C_BAD_STE.
 * Stage 2 needs AArch64 tables (IDR0.TTF), little-endian ones
 * (IDR0.TTENDIAN), no stalls (IDR0.STALL_MODEL = 0b01: S2S = 0), no
 * hardware flag updates (IDR0.HTTU = 0), a granule, an input size of
 * MAX(16, 64 - IAS) (64KB: 64 - IAS) up to 39 bits of S2T0SZ (IAS = OAS:
 * AArch64 tables only; IDR3.STT = 0), a start level consistent with both
 * and an S2TTB within the effective S2PS. S2PTW and S2FWB are accepted
 * and change nothing: memory types are not modelled (all Normal).
 */
static bool vsmmu_s2_decode(const VsmmuTableRegs *r, uint32_t sid,
                            const uint64_t *ste, SMMUS2Cfg *s2,
                            VsmmuEvent *ev)
{
    unsigned tsz = FIELD_EX64(ste[2], STE2, S2T0SZ);
    unsigned sl0 = FIELD_EX64(ste[2], STE2, S2SL0);
    unsigned gs = vsmmu_s2_granule(FIELD_EX64(ste[2], STE2, S2TG));
    unsigned min_tsz = 64 - r->oas;
    uint64_t ttb = FIELD_EX64(ste[3], STE3, S2TTB) << R_STE3_S2TTB_SHIFT;
    uint8_t ps;
    int level;

    if (!FIELD_EX64(ste[2], STE2, S2AA64)) {
        return vsmmu_fault(ev, VSMMU_EVT_C_BAD_STE, sid,
                           "AArch32 stage 2 tables not supported "
                           "(STE.S2AA64 = 0)");
    }
    if (FIELD_EX64(ste[2], STE2, S2ENDI)) {
        return vsmmu_fault(ev, VSMMU_EVT_C_BAD_STE, sid,
                           "big-endian stage 2 tables not supported "
                           "(STE.S2ENDI = 1)");
    }
    if (FIELD_EX64(ste[2], STE2, S2S)) {
        return vsmmu_fault(ev, VSMMU_EVT_C_BAD_STE, sid,
                           "stalls not supported (STE.S2S = 1)");
    }
    if (FIELD_EX64(ste[2], STE2, S2HA) || FIELD_EX64(ste[2], STE2, S2HD)) {
        return vsmmu_fault(ev, VSMMU_EVT_C_BAD_STE, sid,
                           "STE.S2HA/S2HD set without IDR0.HTTU");
    }
    if (!gs) {
        return vsmmu_fault(ev, VSMMU_EVT_C_BAD_STE, sid,
                           "reserved stage 2 granule in STE.S2TG");
    }
    if (gs != 16) {
        min_tsz = MAX(min_tsz, VSMMU_TSZ_MIN);
    }
    if (tsz < min_tsz || tsz > VSMMU_TSZ_MAX) {
        return vsmmu_fault(ev, VSMMU_EVT_C_BAD_STE, sid,
                           "STE.S2T0SZ out of range");
    }
    level = vsmmu_s2_start_level(sl0, gs, r->oas);
    if (level < 0) {
        return vsmmu_fault(ev, VSMMU_EVT_C_BAD_STE, sid,
                           "reserved STE.S2SL0");
    }
    if (!vsmmu_s2_walk_valid(64 - tsz, gs, level)) {
        return vsmmu_fault(ev, VSMMU_EVT_C_BAD_STE, sid,
                           "STE.S2SL0 inconsistent with S2T0SZ and S2TG");
    }
    /*
     * S2PS above IDR5.OAS behaves as OAS; walks with 4KB and 16KB
     * granules output 48 bits at most (no 52-bit descriptors for them)
     */
    ps = MIN(vsmmu_oas_bits(FIELD_EX64(ste[2], STE2, S2PS)), r->oas);
    if (gs != 16) {
        ps = MIN(ps, 48);
    }
    if (extract64(ttb, ps, 64 - ps)) {
        return vsmmu_fault(ev, VSMMU_EVT_C_BAD_STE, sid,
                           "STE.S2TTB beyond the effective S2PS");
    }

    s2->tsz = tsz;
    s2->sl0 = sl0;
    s2->granule_sz = gs;
    s2->eff_ps = ps;
    s2->affd = FIELD_EX64(ste[2], STE2, S2AFFD);
    s2->record_faults = FIELD_EX64(ste[2], STE2, S2R);
    s2->vmid = FIELD_EX64(ste[2], STE2, S2VMID);
    s2->vttb = ttb;
    return true;
}

/* A stream that translates with stage 2 alone: the input is the IPA */
static void vsmmu_cfg_s2(VsmmuStreamCfg *c, const VsmmuTableRegs *r,
                         const SMMUS2Cfg *s2)
{
    SMMUTransCfg *t = &c->tcfg;

    memset(t, 0, sizeof(*t));
    t->stage = SMMU_STAGE_2;
    t->asid = -1;
    /* stage 1 bypassed: an input address beyond IAS (= OAS) faults */
    t->oas = r->oas;
    t->walk_ram_only = true;
    t->s2cfg = *s2;
    c->kind = VSMMU_STREAM_S2;
}

/*
 * Decode the STE in @c->ste. With @ste_only, stop after the STE's own
 * checks (accelerated mode: the host SMMU walks the CDs itself).
 */
static bool vsmmu_ste_decode(VsmmuState *s, const VsmmuTableRegs *r,
                             uint32_t sid, VsmmuStreamCfg *c, bool ste_only,
                             VsmmuEvent *ev)
{
    const uint64_t *ste = c->ste;
    unsigned config = FIELD_EX64(ste[0], STE0, CONFIG);
    SMMUS2Cfg s2 = { .vmid = -1 };
    unsigned cdmax, s1dss;
    uint64_t cd[VSMMU_CD_DWORDS];
    bool s1, nested;

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
    /* Config 0b101 stage 1, 0b110 stage 2, 0b111 both: as offered */
    s1 = config & 1;
    nested = config == VSMMU_STE_CFG_NESTED;
    if ((config & 2) && !r->s2p) {
        return vsmmu_fault(ev, VSMMU_EVT_C_BAD_STE, sid,
                           "stage 2 not supported (STE.Config)");
    }
    if (s1 && !r->s1p) {
        return vsmmu_fault(ev, VSMMU_EVT_C_BAD_STE, sid,
                           "stage 1 not supported (STE.Config)");
    }

    if (s1 && FIELD_EX64(ste[1], STE1, STRW)) {
        return vsmmu_fault(ev, VSMMU_EVT_C_BAD_STE, sid,
                           "STE.STRW must be NS-EL1");
    }
    if (r->ats && FIELD_EX64(ste[1], STE1, EATS) > VSMMU_EATS_TRANS) {
        return vsmmu_fault(ev, VSMMU_EVT_C_BAD_STE, sid,
                           "STE.EATS: split-stage ATS not supported");
    }
    if ((config & 2) && !vsmmu_s2_decode(r, sid, ste, &s2, ev)) {
        return false;
    }
    /* With stage 2 offered, stage-1 entries are tagged with the VMID too */
    if (r->s2p) {
        s2.vmid = FIELD_EX64(ste[2], STE2, S2VMID);
    }
    if (!s1) {
        vsmmu_cfg_s2(c, r, &s2);
        return true;
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
    /* nested: an IPA, within IAS = OAS */
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
        c->kind = nested ? VSMMU_STREAM_NESTED : VSMMU_STREAM_S1;
        return true;
    }

    /* A transaction without a substream: S1DSS decides (§5.2, S1DSS) */
    s1dss = cdmax ? FIELD_EX64(ste[1], STE1, S1DSS) : VSMMU_S1DSS_SSID0;
    switch (s1dss) {
    case VSMMU_S1DSS_TERMINATE:
        return vsmmu_fault(ev, VSMMU_EVT_F_STREAM_DISABLED, sid,
                           "no substream and STE.S1DSS = terminate");
    case VSMMU_S1DSS_BYPASS:
        /* stage 1 bypassed; a nested stream still translates stage 2 */
        if (nested) {
            vsmmu_cfg_s2(c, r, &s2);
        } else {
            c->kind = VSMMU_STREAM_BYPASS;
        }
        return true;
    case VSMMU_S1DSS_SSID0:
        break;
    default:
        return vsmmu_fault(ev, VSMMU_EVT_C_BAD_STE, sid, "reserved STE.S1DSS");
    }

    if (!vsmmu_cd_fetch(s, r, sid, ste, nested ? &s2 : NULL, 0, cd, ev) ||
        !vsmmu_cd_decode(r, sid, cd, &c->tcfg, ev)) {
        return false;
    }
    c->tcfg.s2cfg = s2;
    if (nested) {
        /*
         * TTBx and every table address are IPAs: the walk takes them
         * through stage 2 itself, without the IOTLB (patches/0019)
         */
        c->tcfg.stage = SMMU_NESTED;
        c->tcfg.nested_no_iotlb = true;
        c->kind = VSMMU_STREAM_NESTED;
    } else {
        c->kind = VSMMU_STREAM_S1;
    }
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
        .s1p = vsmmu_s1p(s),
        .s2p = vsmmu_s2p(s),
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
           vsmmu_ste_decode(s, &r, sid, cfg, ste_only, ev);
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
