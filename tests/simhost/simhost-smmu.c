/*
 * simhost: the host SMMUv3 the simulated devices sit behind. Nested walk
 * (the guest's CD and stage-1 tables read through stage 2 = the IOAS), an
 * IOTLB and a CD cache that only invalidation commands clean, faults
 * forwarded as vEVENTs the way arm-smmu-v3 does, and the Tegra241 VCMDQ
 * consumers reading the guest's queues through the mmapped VINTF page.
 * Written from the SMMUv3 architecture (IHI 0070) and the VMSAv8-64
 * translation table format.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#define _GNU_SOURCE
#include <errno.h>
#include <string.h>
#include "simhost-int.h"

static const uint8_t forwarded_ids[] = {
    EVT_C_BAD_STE, EVT_F_STREAM_DISABLED, EVT_C_BAD_SUBSTREAMID, EVT_C_BAD_CD,
    EVT_F_TRANSLATION, EVT_F_ADDR_SIZE, EVT_F_ACCESS, EVT_F_PERMISSION,
};

/* ---------------------------------------------------------------------- */
/* Stage 2: the IOAS                                                       */
/* ---------------------------------------------------------------------- */

static int s2_lookup(ShObj *ioas, uint64_t ipa, bool write, uint8_t **host,
                     uint64_t *avail)
{
    for (ShArea *a = ioas->areas; a; a = a->next) {
        if (ipa >= a->iova && ipa - a->iova < a->len) {
            if (write && !a->writeable) {
                return -1;
            }
            *host = a->host + (ipa - a->iova);
            *avail = a->len - (ipa - a->iova);
            return 0;
        }
    }
    return -1;
}

static bool s2_read64(ShObj *ioas, uint64_t ipa, uint64_t *val)
{
    uint8_t *h;
    uint64_t avail;

    if (s2_lookup(ioas, ipa, false, &h, &avail) || avail < 8) {
        return false;
    }
    memcpy(val, h, 8);
    return true;
}

static ShObj *hwpt_ioas(ShObj *hwpt)
{
    return hwpt->type == SIMHOST_OBJ_HWPT_NESTED ?
           hwpt->viommu->parent->ioas : hwpt->ioas;
}

/* ---------------------------------------------------------------------- */
/* Caches                                                                  */
/* ---------------------------------------------------------------------- */

static ShTlb *tlb_lookup(int smmu, uint16_t vmid, uint16_t asid, uint64_t va)
{
    ShTlb *t = sh_smmu[smmu].tlb;

    for (int i = 0; i < SH_TLB_SIZE; i++) {
        if (t[i].valid && t[i].vmid == vmid && t[i].asid == asid &&
            (va >> t[i].shift) == (t[i].va >> t[i].shift)) {
            return &t[i];
        }
    }
    return NULL;
}

static void tlb_insert(int smmu, uint16_t vmid, uint16_t asid, uint64_t va,
                       unsigned shift, uint64_t ipa, bool w)
{
    ShSmmu *s = &sh_smmu[smmu];
    ShTlb *t = &s->tlb[s->tlb_next++ % SH_TLB_SIZE];

    t->valid = true;
    t->smmu = smmu;
    t->vmid = vmid;
    t->asid = asid;
    t->shift = shift;
    t->va = va & ~((1ULL << shift) - 1);
    t->ipa = ipa & ~((1ULL << shift) - 1);
    t->writeable = w;
}

void sh_tlb_flush_vmid(int smmu, uint16_t vmid)
{
    for (int i = 0; i < SH_TLB_SIZE; i++) {
        if (sh_smmu[smmu].tlb[i].vmid == vmid) {
            sh_smmu[smmu].tlb[i].valid = false;
        }
    }
}

static void tlb_flush_range(int smmu, uint16_t vmid, int asid, uint64_t start,
                            uint64_t len)
{
    for (int i = 0; i < SH_TLB_SIZE; i++) {
        ShTlb *t = &sh_smmu[smmu].tlb[i];
        uint64_t tend = t->va + (1ULL << t->shift);

        if (t->valid && t->vmid == vmid && (asid < 0 || t->asid == asid) &&
            t->va < start + len && start < tend) {
            t->valid = false;
        }
    }
}

static ShCdCache *cdc_lookup(int smmu, uint32_t sid, uint32_t ssid)
{
    for (int i = 0; i < SH_CDC_SIZE; i++) {
        ShCdCache *c = &sh_smmu[smmu].cdc[i];

        if (c->valid && c->sid == sid && c->ssid == ssid) {
            return c;
        }
    }
    return NULL;
}

void sh_cd_cache_flush_sid(int smmu, uint32_t sid)
{
    for (int i = 0; i < SH_CDC_SIZE; i++) {
        if (sh_smmu[smmu].cdc[i].sid == sid) {
            sh_smmu[smmu].cdc[i].valid = false;
        }
    }
}

/* One command as the host SMMU executes it (after the kernel's rewrite) */
void sh_hw_exec(int smmu, const uint64_t *cmd)
{
    unsigned op = cmd[0] & 0xff;
    uint16_t vmid = (cmd[0] >> 32) & 0xffff;
    uint16_t asid = cmd[0] >> 48;
    uint64_t addr = cmd[1] & ~0xfffULL;
    unsigned tg = (cmd[1] >> 10) & 3;
    unsigned num = (cmd[0] >> 12) & 0x1f, scale = (cmd[0] >> 20) & 0x1f;
    uint64_t len = 1;
    static const unsigned tg_shift[] = { 0, 12, 14, 16 };

    if (tg) {
        len = ((uint64_t)num + 1) << scale << tg_shift[tg];
    }
    switch (op) {
    case CMD_TLBI_NH_ALL:
        sh_tlb_flush_vmid(smmu, vmid);
        break;
    case CMD_TLBI_NH_ASID:
        tlb_flush_range(smmu, vmid, asid, 0, UINT64_MAX);
        break;
    case CMD_TLBI_NH_VA:
        tlb_flush_range(smmu, vmid, asid, addr, len);
        break;
    case CMD_TLBI_NH_VAA:
        tlb_flush_range(smmu, vmid, -1, addr, len);
        break;
    case CMD_CFGI_CD:
        for (int i = 0; i < SH_CDC_SIZE; i++) {
            ShCdCache *c = &sh_smmu[smmu].cdc[i];

            if (c->sid == cmd[0] >> 32 &&
                c->ssid == ((cmd[0] >> 12) & 0xfffff)) {
                c->valid = false;
            }
        }
        break;
    case CMD_CFGI_CD_ALL:
        sh_cd_cache_flush_sid(smmu, cmd[0] >> 32);
        break;
    default:
        /* ATC_INV: no ATS model; CMD_SYNC: nothing outstanding */
        break;
    }
}

/* ---------------------------------------------------------------------- */
/* Stage 1 (the guest's tables, fetched through stage 2)                   */
/* ---------------------------------------------------------------------- */

static int fault(ShFault *f, unsigned id, uint64_t addr)
{
    memset(f, 0, sizeof(*f));
    f->event = id;
    f->addr = addr;
    return -1;
}

static int s2_fault(ShFault *f, uint64_t addr, uint64_t ipa)
{
    memset(f, 0, sizeof(*f));
    f->event = EVT_F_TRANSLATION;
    f->s2 = true;
    f->addr = addr;
    f->ipa = ipa;
    return -1;
}

static int cd_fetch(int n, ShObj *hwpt, uint64_t cd[4], ShFault *f,
                    uint64_t iova)
{
    int smmu = hwpt->smmu;
    uint32_t sid = sh_ctl->dev[n].sid;
    ShObj *ioas = hwpt_ioas(hwpt);
    uint64_t ste0 = hwpt->ste[0];
    uint64_t ptr = ste0 & STE0_S1CTXPTR_MASK, addr;
    unsigned fmt = STE0_S1FMT(ste0);
    ShCdCache *c = cdc_lookup(smmu, sid, 0);

    if (c) {
        memcpy(cd, c->cd, sizeof(c->cd));
        return 0;
    }
    addr = ptr;
    if (STE0_S1CDMAX(ste0) && fmt != 0) {
        uint64_t l1;

        if (!s2_read64(ioas, ptr, &l1)) {
            return s2_fault(f, iova, ptr);
        }
        if (!(l1 & 1)) {
            return fault(f, EVT_C_BAD_SUBSTREAMID, 0);
        }
        addr = l1 & (((1ULL << 56) - 1) & ~0xfffULL);
    }
    for (int i = 0; i < 4; i++) {
        if (!s2_read64(ioas, addr + 8 * i, &cd[i])) {
            return s2_fault(f, iova, addr);
        }
    }
    c = &sh_smmu[smmu].cdc[sh_smmu[smmu].cdc_next++ % SH_CDC_SIZE];
    c->valid = true;
    c->smmu = smmu;
    c->sid = sid;
    c->ssid = 0;
    memcpy(c->cd, cd, sizeof(c->cd));
    return 0;
}

/*
 * Guest stage 1 of device @n through nested HWPT @hwpt: IOVA -> IPA.
 * Returns 0 with *ipa and the bytes left in the page, or -1 with *f.
 */
static int s1_translate(int n, ShObj *hwpt, uint64_t iova, bool write,
                        uint64_t *ipa, uint64_t *left, ShFault *f,
                        bool *bypass)
{
    int smmu = hwpt->smmu;
    SimhostSmmuCfg *cfg = &sh_ctl->smmu[smmu];
    ShObj *ioas = hwpt_ioas(hwpt);
    uint64_t ste0 = hwpt->ste[0], ste1 = hwpt->ste[1], cd[4];
    unsigned g, stride, va_bits, level, ips;
    uint16_t asid, vmid = hwpt->viommu->vmid;
    uint64_t table;
    ShTlb *t;
    bool rec;
    static const unsigned ips_bits[] = { 32, 36, 40, 42, 44, 48, 52, 52 };

    *bypass = false;
    if (!(ste0 & STE0_V) || STE0_CFG(ste0) == STE_CFG_ABORT) {
        return fault(f, 0, iova);       /* abort, no event */
    }
    if (STE0_CFG(ste0) == STE_CFG_BYPASS) {
        *bypass = true;
        return 0;
    }
    /* STE values the kernel does not check: the hardware does */
    if (STE0_S1FMT(ste0) == 3 ||
        STE0_S1CDMAX(ste0) > IDR1_SSIDSIZE(cfg->idr[1])) {
        return fault(f, EVT_C_BAD_STE, 0);
    }
    if (STE0_S1CDMAX(ste0)) {
        switch (STE1_S1DSS(ste1)) {
        case 0:
            return fault(f, EVT_C_BAD_SUBSTREAMID, 0);
        case 1:
            *bypass = true;
            return 0;
        case 2:
            break;
        default:
            return fault(f, EVT_C_BAD_STE, 0);
        }
    }
    if (cd_fetch(n, hwpt, cd, f, iova)) {
        return -1;
    }
    rec = (cd[0] >> 45) & 1;            /* CD.R: record faults */
    if (!((cd[0] >> 31) & 1) || !((cd[0] >> 41) & 1)) {
        return fault(f, EVT_C_BAD_CD, 0);   /* !V or AArch32 */
    }
    switch ((cd[0] >> 6) & 3) {
    case 0:
        g = 12;
        break;
    case 1:
        g = 16;
        break;
    case 2:
        g = 14;
        break;
    default:
        return fault(f, EVT_C_BAD_CD, 0);
    }
    if (!(cfg->idr[5] & (g == 12 ? 1u << 4 : g == 14 ? 1u << 5 : 1u << 6))) {
        return fault(f, EVT_C_BAD_CD, 0);
    }
    va_bits = 64 - (cd[0] & 0x3f);
    if (va_bits > 48 || va_bits <= g) {
        return fault(f, EVT_C_BAD_CD, 0);
    }
    ips = ips_bits[(cd[0] >> 32) & 7];
    asid = cd[0] >> 48;
    f->cd_class = false;
    if ((iova >> va_bits) || ((cd[0] >> 14) & 1)) {
        /* outside TTB0's range (TTB1 is not used here) or EPD0 */
        return rec ? fault(f, EVT_F_TRANSLATION, iova) : fault(f, 0, iova);
    }
    t = tlb_lookup(smmu, vmid, asid, iova);
    if (t) {
        sh_ctl->tlb_hits++;
        if (write && !t->writeable) {
            return rec ? fault(f, EVT_F_PERMISSION, iova) : fault(f, 0, iova);
        }
        *ipa = t->ipa + (iova & ((1ULL << t->shift) - 1));
        *left = (1ULL << t->shift) - (iova & ((1ULL << t->shift) - 1));
        return 0;
    }
    sh_ctl->tlb_misses++;
    stride = g - 3;
    level = 4 - (va_bits - g + stride - 1) / stride;
    table = cd[1] & (((1ULL << 52) - 1) & ~0xfULL);
    for (;;) {
        unsigned lsb = g + stride * (3 - level);
        unsigned width = level == 4 - (va_bits - g + stride - 1) / stride ?
                         va_bits - lsb : stride;
        uint64_t idx = (iova >> lsb) & ((1ULL << width) - 1), desc;
        uint64_t oa_mask = ((1ULL << 48) - 1) & ~((1ULL << lsb) - 1);

        if (!s2_read64(ioas, (table & ~((1ULL << 3) - 1)) + idx * 8, &desc)) {
            return s2_fault(f, iova, table + idx * 8);
        }
        if (!(desc & 1)) {
            return rec ? fault(f, EVT_F_TRANSLATION, iova) : fault(f, 0, iova);
        }
        if (level < 3 && (desc & 2)) {
            table = desc & (((1ULL << 48) - 1) & ~((1ULL << g) - 1));
            level++;
            continue;
        }
        if (level == 3 ? !(desc & 2) :
            !(level == 2 || (level == 1 && g == 12))) {
            return rec ? fault(f, EVT_F_TRANSLATION, iova) : fault(f, 0, iova);
        }
        /* leaf */
        if (!((desc >> 10) & 1) && !((cd[0] >> 35) & 1)) {
            return rec ? fault(f, EVT_F_ACCESS, iova) : fault(f, 0, iova);
        }
        if ((desc & oa_mask) >> ips) {
            return rec ? fault(f, EVT_F_ADDR_SIZE, iova) : fault(f, 0, iova);
        }
        tlb_insert(smmu, vmid, asid, iova, lsb, desc & oa_mask,
                   !((desc >> 7) & 1));
        if (write && ((desc >> 7) & 1)) {
            return rec ? fault(f, EVT_F_PERMISSION, iova) : fault(f, 0, iova);
        }
        *ipa = (desc & oa_mask) | (iova & ((1ULL << lsb) - 1));
        *left = (1ULL << lsb) - (iova & ((1ULL << lsb) - 1));
        return 0;
    }
}

int sh_translate(int n, uint64_t iova, bool write, uint8_t **host,
                 uint64_t *avail, ShFault *f)
{
    ShObj *hwpt = sh_dev[n].attached;
    uint64_t ipa = iova, left = UINT64_MAX;
    bool bypass = true;

    if (!hwpt) {
        return fault(f, 0, iova);       /* blocked */
    }
    if (hwpt->type == SIMHOST_OBJ_HWPT_NESTED &&
        s1_translate(n, hwpt, iova, write, &ipa, &left, f, &bypass)) {
        return -1;
    }
    if (bypass) {
        ipa = iova;
        left = UINT64_MAX;
    }
    if (s2_lookup(hwpt_ioas(hwpt), ipa, write, host, avail)) {
        return s2_fault(f, iova, ipa);
    }
    if (*avail > left) {
        *avail = left;
    }
    return 0;
}

/* ---------------------------------------------------------------------- */
/* Events (KC:EVT)                                                         */
/* ---------------------------------------------------------------------- */

/* The kernel's decision for one raw event of device @n's host SMMU */
static int forward_event(int n, uint64_t *evt)
{
    ShDev *d = &sh_dev[n];
    bool candidate = false;

    for (unsigned i = 0; i < sizeof(forwarded_ids); i++) {
        candidate |= (evt[0] & 0xff) == forwarded_ids[i];
    }
    if (!candidate || (evt[1] & EVT1_S2)) {
        sh_ctl->events_unforwarded++;
        return -EPERM;
    }
    if (!d->vmaster || !d->vmaster_viommu) {
        sh_ctl->events_unforwarded++;
        return -EOPNOTSUPP;
    }
    evt[0] = (evt[0] & 0xffffffffULL) | (uint64_t)d->vsid << 32;
    sh_viommu_report(d->vmaster_viommu, IOMMU_VEVENTQ_TYPE_ARM_SMMUV3, evt,
                     32);
    return d->vmaster_viommu->veventq[IOMMU_VEVENTQ_TYPE_ARM_SMMUV3] ?
           0 : -EOPNOTSUPP;
}

void sh_report_fault(int n, const ShFault *f, bool write)
{
    uint64_t evt[4] = { 0 };

    if (f->s2) {
        sh_ctl->s2_faults++;
        return;                 /* stage-2 faults stay in the host */
    }
    if (!f->event) {
        return;                 /* aborted without an event */
    }
    evt[0] = f->event | (uint64_t)sh_ctl->dev[n].sid << 32;
    evt[1] = (write ? 0 : EVT1_RNW) | (uint64_t)1 << EVT1_CLASS_SHIFT;
    evt[2] = f->addr;
    evt[3] = f->ipa;
    forward_event(n, evt);
}

int sh_host_event(int n, const uint64_t *raw)
{
    uint64_t evt[4];

    if (n < 0 || n >= SIMHOST_MAX_DEVS || !sh_dev[n].bound) {
        return -ENODEV;
    }
    memcpy(evt, raw, sizeof(evt));
    evt[0] = (evt[0] & 0xffffffffULL) | (uint64_t)sh_ctl->dev[n].sid << 32;
    return forward_event(n, evt);
}

/* The MSI doorbell write: delivered only if it lands in the SW_MSI window */
int sh_msi_translate(int n)
{
    ShObj *hwpt = sh_dev[n].attached;
    uint64_t ipa = SIMHOST_MSI_IOVA, left;
    bool bypass = true;
    ShFault f;

    if (!hwpt) {
        return -1;
    }
    if (hwpt->type == SIMHOST_OBJ_HWPT_NESTED) {
        if (s1_translate(n, hwpt, SIMHOST_MSI_IOVA, true, &ipa, &left, &f,
                         &bypass)) {
            sh_report_fault(n, &f, true);
            return -1;
        }
        if (bypass) {
            ipa = SIMHOST_MSI_IOVA;
        }
    }
    return ipa >= SIMHOST_SW_MSI_BASE &&
           ipa < SIMHOST_SW_MSI_BASE + SIMHOST_SW_MSI_SIZE ? 0 : -1;
}

/* ---------------------------------------------------------------------- */
/* Tegra241 VCMDQ consumers                                                */
/* ---------------------------------------------------------------------- */

static int vcmdq_exec(ShObj *v, const uint64_t *in)
{
    uint64_t cmd[2] = { in[0], in[1] };
    unsigned op = cmd[0] & 0xff;

    switch (op) {
    case CMD_TLBI_NH_ASID:
    case CMD_TLBI_NH_VA:
        /* a guest-owned VINTF runs with its own VMID */
        cmd[0] = (cmd[0] & ~(0xffffULL << 32)) | (uint64_t)v->vmid << 32;
        sh_hw_exec(v->smmu, cmd);
        return 0;
    case CMD_ATC_INV: {
        uint32_t vsid = cmd[0] >> 32;

        for (int s = 0; s < SH_MAX_VSIDS; s++) {
            if ((v->sid_match[s] & 1) && (v->sid_match[s] >> 1) == vsid) {
                cmd[0] = (cmd[0] & 0xffffffffULL) |
                         (uint64_t)v->sid_replace[s] << 32;
                sh_hw_exec(v->smmu, cmd);
                return 0;
            }
        }
        return -1;
    }
    case CMD_SYNC:
        return 0;
    default:
        return -1;
    }
}

static void vcmdq_poll(ShObj *v, ShObj *q)
{
    /* the guest writes these registers concurrently, as on hardware */
    volatile uint32_t *r = (volatile uint32_t *)(v->page + 0x80 * q->index);
    uint32_t cfg = __atomic_load_n(&r[VCMDQ_CONFIG / 4], __ATOMIC_ACQUIRE);
    uint32_t mask = (1u << q->q_log2) - 1, wrap = 1u << q->q_log2;
    uint32_t ptr_mask = wrap | mask, prod, cons;

    __atomic_store_n(&r[VCMDQ_STATUS / 4], cfg & 1, __ATOMIC_RELEASE);
    if (!(cfg & 1)) {
        return;
    }
    if ((r[VCMDQ_GERROR / 4] ^ r[VCMDQ_GERRORN / 4]) & 1) {
        return;                 /* until the guest acknowledges */
    }
    v->err_map[q->index / 64] &= ~(1ULL << (q->index % 64));
    prod = __atomic_load_n(&r[VCMDQ_PROD / 4], __ATOMIC_ACQUIRE) & ptr_mask;
    cons = r[VCMDQ_CONS / 4] & ptr_mask;
    while (cons != prod) {
        const uint64_t *cmd =
            (const uint64_t *)(q->q_host + (cons & mask) * 16);

        if (vcmdq_exec(v, cmd)) {
            r[VCMDQ_CONS / 4] = cons | CERROR_ILL << VCMDQ_CONS_ERR_SHIFT;
            r[VCMDQ_GERROR / 4] ^= 1;
            sh_ctl->vcmdq_errors++;
            v->err_map[q->index / 64] |= 1ULL << (q->index % 64);
            sh_viommu_report(v, IOMMU_VEVENTQ_TYPE_TEGRA241_CMDQV, v->err_map,
                             16);
            return;
        }
        sh_ctl->vcmdq_cmds++;
        cons = (cons + 1) & ((wrap << 1) - 1);
    }
    __atomic_store_n(&r[VCMDQ_CONS / 4], cons, __ATOMIC_RELEASE);
}

void sh_vcmdq_poll_all(void)
{
    for (int c = 0; c < SH_MAX_CTX; c++) {
        if (!sh_ctx[c].used) {
            continue;
        }
        for (int i = 1; i < SH_MAX_IDS; i++) {
            ShObj *q = sh_ctx[c].objs[i];

            if (q && q->type == SIMHOST_OBJ_HW_QUEUE) {
                vcmdq_poll(q->viommu, q);
            }
        }
    }
}
