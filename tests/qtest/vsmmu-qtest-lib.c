/*
 * qtest support library: drive an Arm SMMUv3 the way a driver would
 *
 * Written from the architecture (IHI 0070, VMSAv8-64), see the header.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/bswap.h"
#include "qobject/qdict.h"
#include "vsmmu-qtest-lib.h"

/* Bounded polling: this many register reads, a virtual-clock step apart */
#define POLL_TRIES              1000
#define POLL_STEP_NS            100000

/* ---------------------------------------------------------------------- */
/* Start-up and discovery                                                  */
/* ---------------------------------------------------------------------- */

uint64_t vsmmu_qtest_find_smmu(QTestState *qts, char **name)
{
    static const char *const names[] = { "vsmmu", "arm-smmuv3", "smmuv3" };
    g_autofree char *mtree = qtest_hmp(qts, "info mtree");
    g_auto(GStrv) lines = g_strsplit(mtree, "\n", -1);

    for (int i = 0; lines[i]; i++) {
        g_strstrip(lines[i]);
        for (int j = 0; j < ARRAY_SIZE(names); j++) {
            g_autofree char *suffix = g_strdup_printf("): %s", names[j]);

            if (g_str_has_suffix(lines[i], suffix)) {
                if (name) {
                    *name = g_strdup(names[j]);
                }
                return g_ascii_strtoull(lines[i], NULL, 16);
            }
        }
    }
    if (name) {
        *name = NULL;
    }
    return 0;
}

uint64_t vsmmu_qtest_find_region(QTestState *qts, const char *name, int nth)
{
    g_autofree char *mtree = qtest_hmp(qts, "info mtree");
    g_auto(GStrv) lines = g_strsplit(mtree, "\n", -1);
    g_autofree char *suffix = g_strdup_printf("): %s", name);

    for (int i = 0; lines[i]; i++) {
        g_strstrip(lines[i]);
        if (g_str_has_suffix(lines[i], suffix) && !nth--) {
            return g_ascii_strtoull(lines[i], NULL, 16);
        }
    }
    return 0;
}

static void testdev_found(QPCIDevice *dev, int devfn, void *data)
{
    VsmmuQtest *t = data;

    if (t->want_devfn >= 0 && devfn != t->want_devfn) {
        g_free(dev);
        return;
    }
    g_assert_null(t->dev);
    t->dev = dev;
}

/* Enumerate pcie.0, enable the test device and map its BAR0 */
static void attach_testdev(VsmmuQtest *t)
{
    g_free(t->dev);
    t->dev = NULL;
    qpci_init_generic(&t->pcibus, t->qts, &t->alloc, false);
    qpci_device_foreach(&t->pcibus.bus, VSMMU_DMA_TESTDEV_VENDOR_ID,
                        VSMMU_DMA_TESTDEV_DEVICE_ID, testdev_found, t);
    g_assert_nonnull(t->dev);
    qpci_device_enable(t->dev);
    t->bar = qpci_iomap(t->dev, 0, NULL);
    /* Root bus 0: the RID, and the StreamID, is the devfn */
    t->sid = t->dev->devfn;

    g_assert_cmphex(vsmmu_testdev_readq(t, A_TESTDEV_ID), ==,
                    VSMMU_DMA_TESTDEV_ID);
}

VsmmuQtest *vsmmu_qtest_attach(QTestState *qts)
{
    return vsmmu_qtest_attach_devfn(qts, -1);
}

VsmmuQtest *vsmmu_qtest_attach_devfn(QTestState *qts, int devfn)
{
    VsmmuQtest *t = g_new0(VsmmuQtest, 1);

    t->qts = qts;
    t->want_devfn = devfn;
    t->base = vsmmu_qtest_find_smmu(qts, &t->smmu_name);
    t->ram_next = VSMMU_QTEST_ALLOC_BASE;
    t->ram_end = VSMMU_QTEST_RAM_BASE + VSMMU_QTEST_RAM_SIZE;
    alloc_init(&t->alloc, 0, VSMMU_QTEST_RAM_BASE, VSMMU_QTEST_ALLOC_BASE,
               4096);
    attach_testdev(t);
    return t;
}

void vsmmu_qtest_rediscover(VsmmuQtest *t)
{
    attach_testdev(t);
}

VsmmuQtest *vsmmu_qtest_start(const char *extra_args)
{
    QTestState *qts = qtest_initf("-M virt -cpu max -nodefaults -m 512M %s",
                                  extra_args);

    return vsmmu_qtest_attach(qts);
}

void vsmmu_qtest_quit(VsmmuQtest *t)
{
    if (!t) {
        return;
    }
    g_free(t->dev);
    alloc_destroy(&t->alloc);
    qtest_quit(t->qts);
    g_free(t->smmu_name);
    g_free(t);
}

uint64_t vsmmu_alloc(VsmmuQtest *t, uint64_t size, uint64_t align)
{
    uint64_t addr;

    g_assert(is_power_of_2(align));
    addr = ROUND_UP(t->ram_next, align);
    g_assert_cmphex(addr + size, <=, t->ram_end);
    qtest_memset(t->qts, addr, 0, size);
    t->ram_next = addr + size;
    return addr;
}

/* ---------------------------------------------------------------------- */
/* Registers                                                               */
/* ---------------------------------------------------------------------- */

uint32_t vsmmu_readl(VsmmuQtest *t, uint64_t off)
{
    g_assert(t->base);
    return qtest_readl(t->qts, t->base + off);
}

void vsmmu_writel(VsmmuQtest *t, uint64_t off, uint32_t val)
{
    g_assert(t->base);
    qtest_writel(t->qts, t->base + off, val);
}

uint64_t vsmmu_readq(VsmmuQtest *t, uint64_t off)
{
    g_assert(t->base);
    return qtest_readq(t->qts, t->base + off);
}

void vsmmu_writeq(VsmmuQtest *t, uint64_t off, uint64_t val)
{
    g_assert(t->base);
    qtest_writeq(t->qts, t->base + off, val);
}

static void poll_step(VsmmuQtest *t)
{
    qtest_clock_step(t->qts, POLL_STEP_NS);
}

bool vsmmu_set_gbpa(VsmmuQtest *t, uint32_t val)
{
    vsmmu_writel(t, A_GBPA, val | R_GBPA_UPDATE_MASK);
    for (int i = 0; i < POLL_TRIES; i++) {
        if (!(vsmmu_readl(t, A_GBPA) & R_GBPA_UPDATE_MASK)) {
            return true;
        }
        poll_step(t);
    }
    g_printerr("vsmmu-qtest: GBPA.UPDATE never cleared\n");
    return false;
}

bool vsmmu_set_cr0(VsmmuQtest *t, uint32_t val)
{
    vsmmu_writel(t, A_CR0, val);
    for (int i = 0; i < POLL_TRIES; i++) {
        if (vsmmu_readl(t, A_CR0ACK) == val) {
            return true;
        }
        poll_step(t);
    }
    g_printerr("vsmmu-qtest: CR0ACK 0x%x never matched CR0 0x%x\n",
               vsmmu_readl(t, A_CR0ACK), val);
    return false;
}

uint32_t vsmmu_gerror_active(VsmmuQtest *t)
{
    return vsmmu_readl(t, A_GERROR) ^ vsmmu_readl(t, A_GERRORN);
}

void vsmmu_gerror_ack(VsmmuQtest *t, uint32_t mask)
{
    uint32_t gerror = vsmmu_readl(t, A_GERROR);
    uint32_t gerrorn = vsmmu_readl(t, A_GERRORN);

    vsmmu_writel(t, A_GERRORN, (gerrorn & ~mask) | (gerror & mask));
}

/* ---------------------------------------------------------------------- */
/* Guest memory words                                                      */
/* ---------------------------------------------------------------------- */

static uint64_t mem_readq(VsmmuQtest *t, uint64_t addr)
{
    return qtest_readq(t->qts, addr);
}

static void mem_writeq(VsmmuQtest *t, uint64_t addr, uint64_t val)
{
    qtest_writeq(t->qts, addr, val);
}

void vsmmu_write_words(VsmmuQtest *t, uint64_t addr, const uint64_t *w,
                       unsigned n)
{
    g_autofree uint64_t *le = g_new(uint64_t, n);

    for (unsigned i = 0; i < n; i++) {
        le[i] = cpu_to_le64(w[i]);
    }
    qtest_memwrite(t->qts, addr, le, n * sizeof(uint64_t));
}

/* ---------------------------------------------------------------------- */
/* Stream tables                                                           */
/* ---------------------------------------------------------------------- */

uint64_t vsmmu_strtab_linear(VsmmuQtest *t, unsigned log2size)
{
    uint64_t size = (uint64_t)VSMMU_STE_SIZE << log2size;
    uint32_t cfg = 0;

    t->strtab = vsmmu_alloc(t, size, size);
    t->strtab_fmt = STRTAB_FMT_LINEAR;
    t->strtab_log2size = log2size;
    t->strtab_split = 0;

    cfg = FIELD_DP32(cfg, STRTAB_BASE_CFG, FMT, STRTAB_FMT_LINEAR);
    cfg = FIELD_DP32(cfg, STRTAB_BASE_CFG, LOG2SIZE, log2size);
    vsmmu_writeq(t, A_STRTAB_BASE, t->strtab | R_STRTAB_BASE_RA_MASK);
    vsmmu_writel(t, A_STRTAB_BASE_CFG, cfg);
    return t->strtab;
}

uint64_t vsmmu_strtab_2lvl(VsmmuQtest *t, unsigned log2size, unsigned split)
{
    unsigned l1_bits = log2size > split ? log2size - split : 0;
    uint64_t size = MAX(64, (uint64_t)VSMMU_L1STD_SIZE << l1_bits);
    uint32_t cfg = 0;

    t->strtab = vsmmu_alloc(t, size, size);
    t->strtab_fmt = STRTAB_FMT_2LVL;
    t->strtab_log2size = log2size;
    t->strtab_split = split;

    cfg = FIELD_DP32(cfg, STRTAB_BASE_CFG, FMT, STRTAB_FMT_2LVL);
    cfg = FIELD_DP32(cfg, STRTAB_BASE_CFG, SPLIT, split);
    cfg = FIELD_DP32(cfg, STRTAB_BASE_CFG, LOG2SIZE, log2size);
    vsmmu_writeq(t, A_STRTAB_BASE, t->strtab | R_STRTAB_BASE_RA_MASK);
    vsmmu_writel(t, A_STRTAB_BASE_CFG, cfg);
    return t->strtab;
}

uint64_t vsmmu_ste_addr(VsmmuQtest *t, uint32_t sid)
{
    uint64_t l1, desc, l2, l2_size;
    unsigned split = t->strtab_split;

    g_assert(t->strtab);
    if (t->strtab_fmt == STRTAB_FMT_LINEAR) {
        return t->strtab + (uint64_t)sid * VSMMU_STE_SIZE;
    }

    l1 = t->strtab + (uint64_t)(sid >> split) * VSMMU_L1STD_SIZE;
    desc = mem_readq(t, l1);
    if (FIELD_EX64(desc, L1STD, SPAN) == 0) {
        /* A full level 2 array: 2^split STEs, aligned to its size */
        l2_size = (uint64_t)VSMMU_STE_SIZE << split;
        l2 = vsmmu_alloc(t, l2_size, l2_size);
        desc = FIELD_DP64(0, L1STD, L2PTR, l2 >> 6);
        desc = FIELD_DP64(desc, L1STD, SPAN, split + 1);
        mem_writeq(t, l1, desc);
    }
    l2 = FIELD_EX64(desc, L1STD, L2PTR) << 6;
    return l2 + (uint64_t)(sid & ((1u << split) - 1)) * VSMMU_STE_SIZE;
}

void vsmmu_ste_abort(uint64_t *ste)
{
    memset(ste, 0, VSMMU_STE_SIZE);
    ste[0] = FIELD_DP64(ste[0], STE0, V, 1);
    ste[0] = FIELD_DP64(ste[0], STE0, CONFIG, STE_CONFIG_ABORT);
}

void vsmmu_ste_bypass(uint64_t *ste)
{
    memset(ste, 0, VSMMU_STE_SIZE);
    ste[0] = FIELD_DP64(ste[0], STE0, V, 1);
    ste[0] = FIELD_DP64(ste[0], STE0, CONFIG, STE_CONFIG_BYPASS);
    ste[1] = FIELD_DP64(ste[1], STE1, SHCFG, STE_SHCFG_INCOMING);
}

void vsmmu_ste_s1(uint64_t *ste, uint64_t cd_ptr, unsigned s1fmt,
                  unsigned s1cdmax, unsigned s1dss)
{
    memset(ste, 0, VSMMU_STE_SIZE);
    ste[0] = FIELD_DP64(ste[0], STE0, V, 1);
    ste[0] = FIELD_DP64(ste[0], STE0, CONFIG, STE_CONFIG_S1);
    ste[0] = FIELD_DP64(ste[0], STE0, S1FMT, s1fmt);
    ste[0] = FIELD_DP64(ste[0], STE0, S1CTXPTR, cd_ptr >> 6);
    ste[0] = FIELD_DP64(ste[0], STE0, S1CDMAX, s1cdmax);
    ste[1] = FIELD_DP64(ste[1], STE1, S1DSS, s1dss);
    /* CD fetches: write-back cacheable, inner shareable */
    ste[1] = FIELD_DP64(ste[1], STE1, S1CIR, 1);
    ste[1] = FIELD_DP64(ste[1], STE1, S1COR, 1);
    ste[1] = FIELD_DP64(ste[1], STE1, S1CSH, 3);
    ste[1] = FIELD_DP64(ste[1], STE1, SHCFG, STE_SHCFG_INCOMING);
}

void vsmmu_ste_set_s2(uint64_t *ste, const VsmmuPgtable *s2, uint16_t vmid)
{
    unsigned tg, sl0;

    g_assert_true(s2->stage2);
    switch (s2->granule_shift) {
    case 12:
        tg = STE_S2TG_4K;
        sl0 = 2 - s2->start_level;
        break;
    case 14:
        tg = STE_S2TG_16K;
        sl0 = 3 - s2->start_level;
        break;
    default:
        tg = STE_S2TG_64K;
        sl0 = 3 - s2->start_level;
        break;
    }
    ste[2] = 0;
    ste[2] = FIELD_DP64(ste[2], STE2, S2VMID, vmid);
    ste[2] = FIELD_DP64(ste[2], STE2, S2T0SZ, 64 - s2->va_bits);
    ste[2] = FIELD_DP64(ste[2], STE2, S2SL0, sl0);
    ste[2] = FIELD_DP64(ste[2], STE2, S2IR0, 1);
    ste[2] = FIELD_DP64(ste[2], STE2, S2OR0, 1);
    ste[2] = FIELD_DP64(ste[2], STE2, S2SH0, 3);
    ste[2] = FIELD_DP64(ste[2], STE2, S2TG, tg);
    ste[2] = FIELD_DP64(ste[2], STE2, S2PS, CD_IPS_44);
    ste[2] = FIELD_DP64(ste[2], STE2, S2AA64, 1);
    ste[2] = FIELD_DP64(ste[2], STE2, S2PTW, 1);
    ste[2] = FIELD_DP64(ste[2], STE2, S2R, 1);
    ste[3] = FIELD_DP64(0, STE3, S2TTB, s2->root >> 4);
}

void vsmmu_ste_s2(uint64_t *ste, const VsmmuPgtable *s2, uint16_t vmid)
{
    memset(ste, 0, VSMMU_STE_SIZE);
    ste[0] = FIELD_DP64(ste[0], STE0, V, 1);
    ste[0] = FIELD_DP64(ste[0], STE0, CONFIG, STE_CONFIG_S2);
    ste[1] = FIELD_DP64(ste[1], STE1, SHCFG, STE_SHCFG_INCOMING);
    vsmmu_ste_set_s2(ste, s2, vmid);
}

void vsmmu_ste_nested(uint64_t *ste, const VsmmuCdTable *tab, unsigned s1dss,
                      const VsmmuPgtable *s2, uint16_t vmid)
{
    vsmmu_ste_s1(ste, tab->base + tab->ipa_offset, tab->fmt, tab->cdmax,
                 s1dss);
    ste[0] = FIELD_DP64(ste[0], STE0, CONFIG, STE_CONFIG_NESTED);
    vsmmu_ste_set_s2(ste, s2, vmid);
}

void vsmmu_ste_write(VsmmuQtest *t, uint32_t sid, const uint64_t *ste)
{
    uint64_t addr = vsmmu_ste_addr(t, sid);

    /* Everything but word 0 first, then word 0 with V */
    vsmmu_write_words(t, addr + 8, ste + 1, VSMMU_STE_DWORDS - 1);
    mem_writeq(t, addr, ste[0]);
}

/* ---------------------------------------------------------------------- */
/* CD tables                                                               */
/* ---------------------------------------------------------------------- */

void vsmmu_cd_table_linear(VsmmuQtest *t, VsmmuCdTable *tab, unsigned cdmax)
{
    uint64_t size = (uint64_t)VSMMU_CD_SIZE << cdmax;

    tab->base = vsmmu_alloc(t, size, size);
    tab->fmt = STE_S1FMT_LINEAR;
    tab->ipa_offset = 0;
    tab->cdmax = cdmax;
}

static unsigned cd_l2_bits(unsigned fmt)
{
    g_assert(fmt == STE_S1FMT_2LVL_4K || fmt == STE_S1FMT_2LVL_64K);
    return fmt == STE_S1FMT_2LVL_4K ? 6 : 10;
}

void vsmmu_cd_table_2lvl(VsmmuQtest *t, VsmmuCdTable *tab, unsigned cdmax,
                         unsigned fmt)
{
    unsigned split = cd_l2_bits(fmt);
    unsigned l1_bits = cdmax > split ? cdmax - split : 0;
    uint64_t size = MAX(64, (uint64_t)VSMMU_L1CD_SIZE << l1_bits);

    tab->base = vsmmu_alloc(t, size, size);
    tab->fmt = fmt;
    tab->ipa_offset = 0;
    tab->cdmax = cdmax;
}

uint64_t vsmmu_cd_addr(VsmmuQtest *t, VsmmuCdTable *tab, uint32_t ssid)
{
    unsigned split;
    uint64_t l1, desc, l2;

    if (tab->fmt == STE_S1FMT_LINEAR || tab->cdmax == 0) {
        return tab->base + (uint64_t)ssid * VSMMU_CD_SIZE;
    }
    split = cd_l2_bits(tab->fmt);
    l1 = tab->base + (uint64_t)(ssid >> split) * VSMMU_L1CD_SIZE;
    desc = mem_readq(t, l1);
    if (!FIELD_EX64(desc, L1CD, V)) {
        uint64_t l2_size = (uint64_t)VSMMU_CD_SIZE << split;

        l2 = vsmmu_alloc(t, l2_size, l2_size);
        desc = FIELD_DP64(0, L1CD, L2PTR, (l2 + tab->ipa_offset) >> 12);
        desc = FIELD_DP64(desc, L1CD, V, 1);
        mem_writeq(t, l1, desc);
    }
    l2 = (FIELD_EX64(desc, L1CD, L2PTR) << 12) - tab->ipa_offset;
    return l2 + (uint64_t)(ssid & ((1u << split) - 1)) * VSMMU_CD_SIZE;
}

void vsmmu_cd_write(VsmmuQtest *t, uint64_t addr, const uint64_t *cd)
{
    vsmmu_write_words(t, addr + 8, cd + 1, VSMMU_CD_DWORDS - 1);
    mem_writeq(t, addr, cd[0]);
}

void vsmmu_cd_for_pgtable(uint64_t *cd, const VsmmuPgtable *pt,
                          uint16_t asid)
{
    unsigned tsz = 64 - pt->va_bits;
    unsigned tg0, tg1;

    switch (pt->granule_shift) {
    case 12:
        tg0 = CD_TG0_4K;
        tg1 = CD_TG1_4K;
        break;
    case 14:
        tg0 = CD_TG0_16K;
        tg1 = CD_TG1_16K;
        break;
    case 16:
        tg0 = CD_TG0_64K;
        tg1 = CD_TG1_64K;
        break;
    default:
        g_assert_not_reached();
    }

    memset(cd, 0, VSMMU_CD_SIZE);
    cd[0] = FIELD_DP64(cd[0], CD0, T0SZ, tsz);
    cd[0] = FIELD_DP64(cd[0], CD0, TG0, tg0);
    cd[0] = FIELD_DP64(cd[0], CD0, IR0, 1);
    cd[0] = FIELD_DP64(cd[0], CD0, OR0, 1);
    cd[0] = FIELD_DP64(cd[0], CD0, SH0, 3);
    /* TTB1 walks disabled; its fields still hold valid values */
    cd[0] = FIELD_DP64(cd[0], CD0, T1SZ, tsz);
    cd[0] = FIELD_DP64(cd[0], CD0, TG1, tg1);
    cd[0] = FIELD_DP64(cd[0], CD0, EPD1, 1);
    cd[0] = FIELD_DP64(cd[0], CD0, V, 1);
    cd[0] = FIELD_DP64(cd[0], CD0, IPS, CD_IPS_48);
    cd[0] = FIELD_DP64(cd[0], CD0, AA64, 1);
    cd[0] = FIELD_DP64(cd[0], CD0, R, 1);
    cd[0] = FIELD_DP64(cd[0], CD0, A, 1);
    cd[0] = FIELD_DP64(cd[0], CD0, ASID, asid);
    cd[1] = FIELD_DP64(cd[1], CD1, TTB0,
                       (pt->root + pt->table_ipa_offset) >> 4);
    cd[3] = VSMMU_QTEST_MAIR;
}

/* ---------------------------------------------------------------------- */
/* Stage 1 page tables (VMSAv8-64)                                         */
/* ---------------------------------------------------------------------- */

static unsigned pt_bits_per_level(const VsmmuPgtable *pt)
{
    return pt->granule_shift - 3;
}

/* Lowest VA bit resolved at @level */
static unsigned pt_level_shift(const VsmmuPgtable *pt, int level)
{
    return pt->granule_shift + (3 - level) * pt_bits_per_level(pt);
}

static unsigned pt_index(const VsmmuPgtable *pt, int level, uint64_t iova)
{
    unsigned shift = pt_level_shift(pt, level);
    unsigned bits = level == pt->start_level ? pt->va_bits - shift :
                    pt_bits_per_level(pt);

    return (iova >> shift) & ((1ULL << bits) - 1);
}

/* Output address bits [47:shift] of a descriptor */
static uint64_t pt_oa_mask(unsigned shift)
{
    return MAKE_64BIT_MASK(shift, 48 - shift);
}

void vsmmu_pt_init(VsmmuQtest *t, VsmmuPgtable *pt, unsigned granule,
                   unsigned va_bits)
{
    unsigned levels;

    pt->t = t;
    switch (granule) {
    case 4096:
        pt->granule_shift = 12;
        break;
    case 16384:
        pt->granule_shift = 14;
        break;
    case 65536:
        pt->granule_shift = 16;
        break;
    default:
        g_assert_not_reached();
    }
    g_assert(va_bits > pt->granule_shift && va_bits <= 48);
    pt->va_bits = va_bits;
    levels = DIV_ROUND_UP(va_bits - pt->granule_shift, pt_bits_per_level(pt));
    pt->start_level = 4 - levels;
    g_assert(pt->start_level >= 0);
    pt->stage2 = false;
    pt->table_ipa_offset = 0;
    /* One granule, aligned to it: at least the starting table's size */
    pt->root = vsmmu_alloc(t, granule, granule);
}

void vsmmu_s2pt_init(VsmmuQtest *t, VsmmuPgtable *pt, unsigned granule,
                     unsigned ias_bits, int start_level)
{
    uint64_t size;

    vsmmu_pt_init(t, pt, granule, ias_bits);
    pt->stage2 = true;
    /* A walk may start deeper than the minimum (concatenated tables) */
    g_assert(start_level >= pt->start_level && start_level <= 3);
    pt->start_level = start_level;
    /* The first level's tables, aligned to their total size */
    size = MAX(8ULL << (ias_bits - pt_level_shift(pt, start_level)), 64);
    g_assert_cmpuint(size, <=, 16ULL << pt->granule_shift);
    pt->root = vsmmu_alloc(t, size, size);
}

static uint64_t pt_leaf_attrs(const VsmmuPgtable *pt, unsigned flags)
{
    uint64_t d = 0;

    if (pt->stage2) {
        /* MemAttr[5:2] Normal write-back, S2AP[7:6] = write, read */
        d = deposit64(d, 2, 4, 0xf);
        d = deposit64(d, 6, 1, !(flags & VSMMU_PT_NO_READ));
        d = deposit64(d, 7, 1, !!(flags & VSMMU_PT_WRITE));
        d = FIELD_DP64(d, PTE, SH, 3);
        d = FIELD_DP64(d, PTE, AF, !(flags & VSMMU_PT_NO_AF));
        return d;
    }

    d = FIELD_DP64(d, PTE, ATTRINDX, PTE_ATTRINDX_NORMAL);
    d = FIELD_DP64(d, PTE, AP, (flags & VSMMU_PT_WRITE) ? PTE_AP_RW_ALL :
                                                          PTE_AP_RO_ALL);
    d = FIELD_DP64(d, PTE, SH, 3);
    d = FIELD_DP64(d, PTE, AF, !(flags & VSMMU_PT_NO_AF));
    return d;
}

/*
 * Address of the descriptor for @iova at @level, creating the tables on
 * the way when @create; 0 when a table is missing and !create.
 */
static uint64_t pt_walk_to(VsmmuPgtable *pt, uint64_t iova, int level,
                           bool create)
{
    uint64_t table = pt->root;
    uint64_t granule = 1ULL << pt->granule_shift;

    g_assert_cmphex(iova >> pt->va_bits, ==, 0);
    for (int l = pt->start_level; l < level; l++) {
        uint64_t slot = table + pt_index(pt, l, iova) * 8;
        uint64_t desc = mem_readq(pt->t, slot);

        if (!FIELD_EX64(desc, PTE, VALID)) {
            if (!create) {
                return 0;
            }
            table = vsmmu_alloc(pt->t, granule, granule);
            mem_writeq(pt->t, slot, (table + pt->table_ipa_offset) | 0x3);
            continue;
        }
        /* A block where a table is wanted: the caller mixed sizes */
        g_assert(FIELD_EX64(desc, PTE, TYPE));
        table = (desc & pt_oa_mask(pt->granule_shift)) -
                pt->table_ipa_offset;
    }
    return table + pt_index(pt, level, iova) * 8;
}

void vsmmu_pt_map(VsmmuPgtable *pt, uint64_t iova, uint64_t pa,
                  uint64_t size, unsigned flags)
{
    uint64_t granule = 1ULL << pt->granule_shift;

    g_assert(QEMU_IS_ALIGNED(iova | pa | size, granule));
    for (uint64_t off = 0; off < size; off += granule) {
        uint64_t slot = pt_walk_to(pt, iova + off, 3, true);

        mem_writeq(pt->t, slot, ((pa + off) & pt_oa_mask(pt->granule_shift)) |
                   pt_leaf_attrs(pt, flags) | 0x3);
    }
}

void vsmmu_pt_map_block(VsmmuPgtable *pt, uint64_t iova, uint64_t pa,
                        int level, unsigned flags)
{
    unsigned shift = pt_level_shift(pt, level);
    uint64_t slot;

    /* Blocks: 4K granule at L1/L2, 16K and 64K granules at L2 (48-bit) */
    g_assert(level == 2 || (level == 1 && pt->granule_shift == 12));
    g_assert(level > pt->start_level);
    g_assert(QEMU_IS_ALIGNED(iova | pa, 1ULL << shift));
    slot = pt_walk_to(pt, iova, level, true);
    mem_writeq(pt->t, slot, (pa & pt_oa_mask(shift)) |
               pt_leaf_attrs(pt, flags) | 0x1);
}

/* Leaf descriptor address for @iova and its level, 0 if unmapped */
static uint64_t pt_find_leaf(VsmmuPgtable *pt, uint64_t iova, int *level)
{
    uint64_t table = pt->root;

    for (int l = pt->start_level; l <= 3; l++) {
        uint64_t slot = table + pt_index(pt, l, iova) * 8;
        uint64_t desc = mem_readq(pt->t, slot);

        if (!FIELD_EX64(desc, PTE, VALID)) {
            return 0;
        }
        if (l == 3 || !FIELD_EX64(desc, PTE, TYPE)) {
            *level = l;
            return slot;
        }
        table = (desc & pt_oa_mask(pt->granule_shift)) -
                pt->table_ipa_offset;
    }
    return 0;
}

uint64_t vsmmu_pt_leaf_addr(VsmmuPgtable *pt, uint64_t iova)
{
    int level;

    return pt_find_leaf(pt, iova, &level);
}

void vsmmu_pt_unmap(VsmmuPgtable *pt, uint64_t iova, uint64_t size)
{
    uint64_t granule = 1ULL << pt->granule_shift;

    for (uint64_t off = 0; off < size; off += granule) {
        uint64_t slot = vsmmu_pt_leaf_addr(pt, iova + off);

        if (slot) {
            mem_writeq(pt->t, slot, 0);
        }
    }
}

void vsmmu_pt_remap(VsmmuPgtable *pt, uint64_t iova, uint64_t new_pa)
{
    int level;
    uint64_t slot = pt_find_leaf(pt, iova, &level);
    uint64_t mask = pt_oa_mask(pt_level_shift(pt, level));
    uint64_t desc;

    g_assert(slot);
    desc = mem_readq(pt->t, slot);
    mem_writeq(pt->t, slot, (desc & ~mask) | (new_pa & mask));
}

/* ---------------------------------------------------------------------- */
/* Commands                                                                */
/* ---------------------------------------------------------------------- */

static VsmmuCmd cmd_op(unsigned opcode)
{
    VsmmuCmd c = { { 0, 0 } };

    c.word[0] = FIELD_DP64(c.word[0], CMD0, OPCODE, opcode);
    return c;
}

VsmmuCmd vsmmu_cmd_raw(uint64_t w0, uint64_t w1)
{
    VsmmuCmd c = { { w0, w1 } };

    return c;
}

VsmmuCmd vsmmu_cmd_prefetch_config(uint32_t sid)
{
    VsmmuCmd c = cmd_op(CMD_PREFETCH_CONFIG);

    c.word[0] = FIELD_DP64(c.word[0], CMD0, SID, sid);
    return c;
}

VsmmuCmd vsmmu_cmd_prefetch_addr(uint32_t sid, uint64_t addr)
{
    VsmmuCmd c = cmd_op(CMD_PREFETCH_ADDR);

    c.word[0] = FIELD_DP64(c.word[0], CMD0, SID, sid);
    /* Size 0, Stride 0: one translation */
    c.word[1] = FIELD_DP64(c.word[1], CMD1, ADDR, addr >> 12);
    return c;
}

VsmmuCmd vsmmu_cmd_cfgi_ste(uint32_t sid, bool leaf)
{
    VsmmuCmd c = cmd_op(CMD_CFGI_STE);

    c.word[0] = FIELD_DP64(c.word[0], CMD0, SID, sid);
    c.word[1] = FIELD_DP64(c.word[1], CMD1, LEAF, leaf);
    return c;
}

VsmmuCmd vsmmu_cmd_cfgi_ste_range(uint32_t sid, unsigned range)
{
    VsmmuCmd c = cmd_op(CMD_CFGI_STE_RANGE);

    c.word[0] = FIELD_DP64(c.word[0], CMD0, SID, sid);
    c.word[1] = FIELD_DP64(c.word[1], CMD1, STE_RANGE, range);
    return c;
}

VsmmuCmd vsmmu_cmd_cfgi_all(void)
{
    return vsmmu_cmd_cfgi_ste_range(0, 31);
}

VsmmuCmd vsmmu_cmd_cfgi_cd(uint32_t sid, uint32_t ssid, bool leaf)
{
    VsmmuCmd c = cmd_op(CMD_CFGI_CD);

    c.word[0] = FIELD_DP64(c.word[0], CMD0, SSID, ssid);
    c.word[0] = FIELD_DP64(c.word[0], CMD0, SID, sid);
    c.word[1] = FIELD_DP64(c.word[1], CMD1, LEAF, leaf);
    return c;
}

VsmmuCmd vsmmu_cmd_cfgi_cd_all(uint32_t sid)
{
    VsmmuCmd c = cmd_op(CMD_CFGI_CD_ALL);

    c.word[0] = FIELD_DP64(c.word[0], CMD0, SID, sid);
    return c;
}

VsmmuCmd vsmmu_cmd_tlbi_nh_all(void)
{
    return cmd_op(CMD_TLBI_NH_ALL);
}

VsmmuCmd vsmmu_cmd_tlbi_nh_asid(uint16_t asid)
{
    VsmmuCmd c = cmd_op(CMD_TLBI_NH_ASID);

    c.word[0] = FIELD_DP64(c.word[0], CMD0, ASID, asid);
    return c;
}

VsmmuCmd vsmmu_cmd_tlbi_nh_va_range(uint16_t asid, uint64_t va, bool leaf,
                                    unsigned tg, unsigned ttl, unsigned num,
                                    unsigned scale)
{
    VsmmuCmd c = cmd_op(CMD_TLBI_NH_VA);

    c.word[0] = FIELD_DP64(c.word[0], CMD0, NUM, num);
    c.word[0] = FIELD_DP64(c.word[0], CMD0, SCALE, scale);
    c.word[0] = FIELD_DP64(c.word[0], CMD0, ASID, asid);
    c.word[1] = FIELD_DP64(c.word[1], CMD1, LEAF, leaf);
    c.word[1] = FIELD_DP64(c.word[1], CMD1, TTL, ttl);
    c.word[1] = FIELD_DP64(c.word[1], CMD1, TG, tg);
    c.word[1] = FIELD_DP64(c.word[1], CMD1, ADDR, va >> 12);
    return c;
}

VsmmuCmd vsmmu_cmd_tlbi_nh_va(uint16_t asid, uint64_t va, bool leaf)
{
    return vsmmu_cmd_tlbi_nh_va_range(asid, va, leaf, 0, 0, 0, 0);
}

VsmmuCmd vsmmu_cmd_tlbi_nh_vaa(uint64_t va, bool leaf)
{
    VsmmuCmd c = cmd_op(CMD_TLBI_NH_VAA);

    c.word[1] = FIELD_DP64(c.word[1], CMD1, LEAF, leaf);
    c.word[1] = FIELD_DP64(c.word[1], CMD1, ADDR, va >> 12);
    return c;
}

VsmmuCmd vsmmu_cmd_tlbi_nsnh_all(void)
{
    return cmd_op(CMD_TLBI_NSNH_ALL);
}

VsmmuCmd vsmmu_cmd_tlbi_s2_ipa_range(uint16_t vmid, uint64_t ipa, bool leaf,
                                     unsigned tg, unsigned ttl, unsigned num,
                                     unsigned scale)
{
    VsmmuCmd c = cmd_op(CMD_TLBI_S2_IPA);

    c.word[0] = FIELD_DP64(c.word[0], CMD0, NUM, num);
    c.word[0] = FIELD_DP64(c.word[0], CMD0, SCALE, scale);
    c.word[0] = FIELD_DP64(c.word[0], CMD0, VMID, vmid);
    c.word[1] = FIELD_DP64(c.word[1], CMD1, LEAF, leaf);
    c.word[1] = FIELD_DP64(c.word[1], CMD1, TTL, ttl);
    c.word[1] = FIELD_DP64(c.word[1], CMD1, TG, tg);
    c.word[1] = FIELD_DP64(c.word[1], CMD1, IPA, ipa >> 12);
    return c;
}

VsmmuCmd vsmmu_cmd_tlbi_s2_ipa(uint16_t vmid, uint64_t ipa, bool leaf)
{
    return vsmmu_cmd_tlbi_s2_ipa_range(vmid, ipa, leaf, 0, 0, 0, 0);
}

VsmmuCmd vsmmu_cmd_tlbi_s12_vmall(uint16_t vmid)
{
    VsmmuCmd c = cmd_op(CMD_TLBI_S12_VMALL);

    c.word[0] = FIELD_DP64(c.word[0], CMD0, VMID, vmid);
    return c;
}

VsmmuCmd vsmmu_cmd_with_vmid(VsmmuCmd c, uint16_t vmid)
{
    c.word[0] = FIELD_DP64(c.word[0], CMD0, VMID, vmid);
    return c;
}

VsmmuCmd vsmmu_cmd_atc_inv(uint32_t sid, uint64_t addr, unsigned size)
{
    VsmmuCmd c = cmd_op(CMD_ATC_INV);

    c.word[0] = FIELD_DP64(c.word[0], CMD0, SID, sid);
    c.word[1] = FIELD_DP64(c.word[1], CMD1, ATC_SIZE, size);
    c.word[1] = FIELD_DP64(c.word[1], CMD1, ADDR, addr >> 12);
    return c;
}

VsmmuCmd vsmmu_cmd_sync(unsigned cs, uint64_t msi_addr, uint32_t msi_data)
{
    VsmmuCmd c = cmd_op(CMD_SYNC);

    c.word[0] = FIELD_DP64(c.word[0], CMD0, SYNC_CS, cs);
    if (cs == CMD_SYNC_SIG_IRQ && msi_addr) {
        c.word[0] = FIELD_DP64(c.word[0], CMD0, SYNC_MSH, CMD_SYNC_MSH_IS);
        c.word[0] = FIELD_DP64(c.word[0], CMD0, SYNC_MSIATTR,
                               CMD_SYNC_MSIATTR_DEVICE);
        c.word[0] = FIELD_DP64(c.word[0], CMD0, SYNC_MSIDATA, msi_data);
        c.word[1] = FIELD_DP64(c.word[1], CMD1, MSIADDR, msi_addr >> 2);
    }
    return c;
}

/* ---------------------------------------------------------------------- */
/* Queues                                                                  */
/* ---------------------------------------------------------------------- */

/* Index + wrap bit of a queue of 2^log2size entries */
static uint32_t q_ptr_mask(const VsmmuQueue *q)
{
    return (2u << q->log2size) - 1;
}

static uint32_t q_idx(const VsmmuQueue *q, uint32_t ptr)
{
    return ptr & ((1u << q->log2size) - 1);
}

static uint32_t q_inc(const VsmmuQueue *q, uint32_t ptr)
{
    return (ptr & ~q_ptr_mask(q)) | ((ptr + 1) & q_ptr_mask(q));
}

static bool q_full(const VsmmuQueue *q, uint32_t prod, uint32_t cons)
{
    return ((prod ^ cons) & q_ptr_mask(q)) == (1u << q->log2size);
}

static bool q_empty(const VsmmuQueue *q, uint32_t prod, uint32_t cons)
{
    return ((prod ^ cons) & q_ptr_mask(q)) == 0;
}

static uint64_t q_program(VsmmuQtest *t, VsmmuQueue *q, unsigned log2size,
                          unsigned entry_size)
{
    uint64_t size = MAX(32, (uint64_t)entry_size << log2size);
    uint64_t reg = 0;

    q->log2size = log2size;
    q->base = vsmmu_alloc(t, size, size);
    q->prod = 0;
    q->cons = 0;
    reg = FIELD_DP64(reg, QUEUE_BASE, ADDR, q->base >> 5);
    reg = FIELD_DP64(reg, QUEUE_BASE, LOG2SIZE, log2size);
    reg = FIELD_DP64(reg, QUEUE_BASE, RA, 1);
    return reg;
}

void vsmmu_cmdq_init(VsmmuQtest *t, unsigned log2size)
{
    vsmmu_writeq(t, A_CMDQ_BASE,
                 q_program(t, &t->cmdq, log2size, VSMMU_CMD_SIZE));
    vsmmu_writel(t, A_CMDQ_PROD, 0);
    vsmmu_writel(t, A_CMDQ_CONS, 0);
}

void vsmmu_evtq_init(VsmmuQtest *t, unsigned log2size)
{
    vsmmu_writeq(t, A_EVENTQ_BASE,
                 q_program(t, &t->evtq, log2size, VSMMU_EVT_SIZE));
    vsmmu_writel(t, VSMMU_PAGE1_EVENTQ_PROD, 0);
    vsmmu_writel(t, VSMMU_PAGE1_EVENTQ_CONS, 0);
}

uint32_t vsmmu_cmdq_cons(VsmmuQtest *t)
{
    return vsmmu_readl(t, A_CMDQ_CONS) & q_ptr_mask(&t->cmdq);
}

uint64_t vsmmu_cmdq_slot(VsmmuQtest *t, uint32_t index)
{
    return t->cmdq.base + q_idx(&t->cmdq, index) * VSMMU_CMD_SIZE;
}

void vsmmu_cmdq_push(VsmmuQtest *t, const VsmmuCmd *cmd)
{
    VsmmuQueue *q = &t->cmdq;
    int tries = 0;

    g_assert(q->base);
    /* Wait for a free slot (the queue drains unless an error is active) */
    while (q_full(q, q->prod, vsmmu_readl(t, A_CMDQ_CONS))) {
        g_assert_cmpint(++tries, <, POLL_TRIES);
        poll_step(t);
    }
    vsmmu_write_words(t, vsmmu_cmdq_slot(t, q->prod), cmd->word, 2);
    q->prod = q_inc(q, q->prod);
    vsmmu_writel(t, A_CMDQ_PROD, q->prod);
}

void vsmmu_cmdq_push_list(VsmmuQtest *t, const VsmmuCmd *cmds, unsigned n)
{
    VsmmuQueue *q = &t->cmdq;
    uint32_t size = 1u << q->log2size;
    int tries = 0;

    g_assert(q->base);
    g_assert_cmpuint(n, <=, size);
    /* Wait until n slots are free */
    for (;;) {
        uint32_t cons = vsmmu_readl(t, A_CMDQ_CONS);
        uint32_t mask = (2 * size) - 1;
        uint32_t used = ((q->prod & mask) - (cons & mask)) & mask;

        if (size - used >= n) {
            break;
        }
        g_assert_cmpint(++tries, <, POLL_TRIES);
        poll_step(t);
    }
    for (unsigned i = 0; i < n; i++) {
        vsmmu_write_words(t, vsmmu_cmdq_slot(t, q->prod), cmds[i].word, 2);
        q->prod = q_inc(q, q->prod);
    }
    vsmmu_writel(t, A_CMDQ_PROD, q->prod);
}

unsigned vsmmu_cmdq_wait(VsmmuQtest *t)
{
    VsmmuQueue *q = &t->cmdq;

    for (int i = 0; i < POLL_TRIES; i++) {
        uint32_t cons = vsmmu_readl(t, A_CMDQ_CONS);

        if (vsmmu_gerror_active(t) & R_GERROR_CMDQ_ERR_MASK) {
            return FIELD_EX32(cons, CMDQ_CONS, ERR);
        }
        if (q_empty(q, q->prod, cons)) {
            return CERROR_NONE;
        }
        poll_step(t);
    }
    g_printerr("vsmmu-qtest: command queue stuck: PROD 0x%x CONS 0x%x\n",
               q->prod, vsmmu_readl(t, A_CMDQ_CONS));
    return VSMMU_CMDQ_TIMEOUT;
}

unsigned vsmmu_cmdq_wait_n(VsmmuQtest *t, unsigned tries)
{
    VsmmuQueue *q = &t->cmdq;

    for (unsigned i = 0; i < tries; i++) {
        uint32_t cons = vsmmu_readl(t, A_CMDQ_CONS);

        if (vsmmu_gerror_active(t) & R_GERROR_CMDQ_ERR_MASK) {
            return FIELD_EX32(cons, CMDQ_CONS, ERR);
        }
        if (q_empty(q, q->prod, cons)) {
            return CERROR_NONE;
        }
        poll_step(t);
    }
    g_printerr("vsmmu-qtest: command queue stuck after %u polls: PROD 0x%x "
               "CONS 0x%x\n", tries, q->prod, vsmmu_readl(t, A_CMDQ_CONS));
    return VSMMU_CMDQ_TIMEOUT;
}

unsigned vsmmu_cmdq_issue(VsmmuQtest *t, VsmmuCmd cmd)
{
    vsmmu_cmdq_push(t, &cmd);
    return vsmmu_cmdq_wait(t);
}

unsigned vsmmu_cmdq_issue_sync(VsmmuQtest *t, VsmmuCmd cmd)
{
    VsmmuCmd sync = vsmmu_cmd_sync(CMD_SYNC_SIG_NONE, 0, 0);

    vsmmu_cmdq_push(t, &cmd);
    vsmmu_cmdq_push(t, &sync);
    return vsmmu_cmdq_wait(t);
}

unsigned vsmmu_evtq_pending(VsmmuQtest *t)
{
    VsmmuQueue *q = &t->evtq;
    uint32_t prod = vsmmu_readl(t, VSMMU_PAGE1_EVENTQ_PROD);

    return ((prod & q_ptr_mask(q)) - (q->cons & q_ptr_mask(q))) &
           q_ptr_mask(q);
}

bool vsmmu_evtq_pop(VsmmuQtest *t, VsmmuEvent *ev)
{
    VsmmuQueue *q = &t->evtq;
    uint32_t prod = vsmmu_readl(t, VSMMU_PAGE1_EVENTQ_PROD);
    uint64_t le[4];

    g_assert(q->base);
    if (q_empty(q, prod, q->cons)) {
        return false;
    }
    qtest_memread(t->qts, q->base + q_idx(q, q->cons) * VSMMU_EVT_SIZE,
                  le, sizeof(le));
    for (int i = 0; i < 4; i++) {
        ev->word[i] = le64_to_cpu(le[i]);
    }
    q->cons = q_inc(q, q->cons);
    vsmmu_writel(t, VSMMU_PAGE1_EVENTQ_CONS, q->cons);
    return true;
}

void vsmmu_evtq_ack_overflow(VsmmuQtest *t)
{
    uint32_t prod = vsmmu_readl(t, VSMMU_PAGE1_EVENTQ_PROD);

    t->evtq.cons = (t->evtq.cons & ~R_QUEUE_INDEX_OVFLG_MASK) |
                   (prod & R_QUEUE_INDEX_OVFLG_MASK);
    vsmmu_writel(t, VSMMU_PAGE1_EVENTQ_CONS, t->evtq.cons);
}

void vsmmu_evtq_expect(VsmmuQtest *t, VsmmuEvent *ev)
{
    for (int i = 0; i < POLL_TRIES; i++) {
        if (vsmmu_evtq_pop(t, ev)) {
            return;
        }
        poll_step(t);
    }
    g_printerr("vsmmu-qtest: no event recorded (EVENTQ_PROD 0x%x)\n",
               vsmmu_readl(t, VSMMU_PAGE1_EVENTQ_PROD));
    g_assert_not_reached();
}

void vsmmu_evtq_expect_none(VsmmuQtest *t)
{
    VsmmuEvent ev;

    if (vsmmu_evtq_pop(t, &ev)) {
        g_printerr("vsmmu-qtest: unexpected event 0x%02x SID 0x%x "
                   "words %016" PRIx64 " %016" PRIx64 " %016" PRIx64
                   " %016" PRIx64 "\n", vsmmu_evt_id(&ev),
                   vsmmu_evt_sid(&ev), ev.word[0], ev.word[1], ev.word[2],
                   ev.word[3]);
        g_assert_not_reached();
    }
}

void vsmmu_bringup(VsmmuQtest *t, unsigned cmdq_log2, unsigned evtq_log2)
{
    uint32_t cr1 = 0, cr2 = 0;
    uint32_t idr1 = vsmmu_readl(t, A_IDR1);

    g_assert_cmpuint(cmdq_log2, <=, FIELD_EX32(idr1, IDR1, CMDQS));
    g_assert_cmpuint(evtq_log2, <=, FIELD_EX32(idr1, IDR1, EVENTQS));
    g_assert_true(vsmmu_set_cr0(t, 0));

    /* Queues and tables: write-back cacheable, inner shareable */
    cr1 = FIELD_DP32(cr1, CR1, QUEUE_IC, 1);
    cr1 = FIELD_DP32(cr1, CR1, QUEUE_OC, 1);
    cr1 = FIELD_DP32(cr1, CR1, QUEUE_SH, 3);
    cr1 = FIELD_DP32(cr1, CR1, TABLE_IC, 1);
    cr1 = FIELD_DP32(cr1, CR1, TABLE_OC, 1);
    cr1 = FIELD_DP32(cr1, CR1, TABLE_SH, 3);
    vsmmu_writel(t, A_CR1, cr1);
    /* Record C_BAD_STREAMID; private TLB maintenance */
    cr2 = FIELD_DP32(cr2, CR2, RECINVSID, 1);
    cr2 = FIELD_DP32(cr2, CR2, PTM, 1);
    vsmmu_writel(t, A_CR2, cr2);

    vsmmu_cmdq_init(t, cmdq_log2);
    vsmmu_evtq_init(t, evtq_log2);
    g_assert_true(vsmmu_set_cr0(t, R_CR0_CMDQEN_MASK | R_CR0_EVENTQEN_MASK));

    g_assert_cmpuint(vsmmu_cmdq_issue(t, vsmmu_cmd_cfgi_all()), ==,
                     CERROR_NONE);
    g_assert_cmpuint(vsmmu_cmdq_issue_sync(t, vsmmu_cmd_tlbi_nsnh_all()), ==,
                     CERROR_NONE);
}

void vsmmu_enable(VsmmuQtest *t)
{
    g_assert_true(vsmmu_set_cr0(t, R_CR0_CMDQEN_MASK | R_CR0_EVENTQEN_MASK |
                                   R_CR0_SMMUEN_MASK));
}

/* ---------------------------------------------------------------------- */
/* The DMA test device                                                     */
/* ---------------------------------------------------------------------- */

uint64_t vsmmu_testdev_readq(VsmmuQtest *t, uint64_t reg)
{
    return qpci_io_readq(t->dev, t->bar, reg);
}

void vsmmu_testdev_writeq(VsmmuQtest *t, uint64_t reg, uint64_t val)
{
    qpci_io_writeq(t->dev, t->bar, reg, val);
}

static uint64_t testdev_run(VsmmuQtest *t, unsigned op)
{
    uint64_t done = vsmmu_testdev_readq(t, A_TESTDEV_DONE_COUNT);

    vsmmu_testdev_writeq(t, A_TESTDEV_CMD, op);
    /* Commands are synchronous: done by the time the write returns */
    g_assert_cmpuint(vsmmu_testdev_readq(t, A_TESTDEV_DONE_COUNT), ==,
                     done + 1);
    return vsmmu_testdev_readq(t, A_TESTDEV_STATUS);
}

uint64_t vsmmu_testdev_copy(VsmmuQtest *t, uint64_t src, uint64_t dst,
                            uint64_t len)
{
    vsmmu_testdev_writeq(t, A_TESTDEV_SRC, src);
    vsmmu_testdev_writeq(t, A_TESTDEV_DST, dst);
    vsmmu_testdev_writeq(t, A_TESTDEV_LEN, len);
    return testdev_run(t, VSMMU_TESTDEV_CMD_COPY);
}

uint64_t vsmmu_testdev_fill(VsmmuQtest *t, uint64_t dst, uint64_t len,
                            uint8_t pattern)
{
    vsmmu_testdev_writeq(t, A_TESTDEV_DST, dst);
    vsmmu_testdev_writeq(t, A_TESTDEV_LEN, len);
    vsmmu_testdev_writeq(t, A_TESTDEV_PATTERN, pattern);
    return testdev_run(t, VSMMU_TESTDEV_CMD_FILL);
}

uint64_t vsmmu_testdev_read_sweep(VsmmuQtest *t, uint64_t src, uint64_t len,
                                  uint64_t stride, uint64_t iter)
{
    vsmmu_testdev_writeq(t, A_TESTDEV_SRC, src);
    vsmmu_testdev_writeq(t, A_TESTDEV_LEN, len);
    vsmmu_testdev_writeq(t, A_TESTDEV_STRIDE, stride);
    vsmmu_testdev_writeq(t, A_TESTDEV_ITER, iter);
    return testdev_run(t, VSMMU_TESTDEV_CMD_READ_SWEEP);
}

/* ---------------------------------------------------------------------- */
/* Running each test case in a process of its own                          */
/* ---------------------------------------------------------------------- */

/* Where an isolated case leaves the reason it skipped, for the parent */
#define SKIP_FILE_ENV           "VSMMU_QTEST_SKIP_FILE"

typedef struct IsolatedCase {
    GTestDataFunc fn;
    const void *data;
    GTestFunc fn0;
    unsigned timeout_s;
    char *stderr_glob;          /* must fail with this on stderr */
} IsolatedCase;

/* How long the parent waits beyond the case's own limit */
#define ISOLATED_BACKSTOP_S     15

/*
 * The case ran out of time: a QEMU that hangs or deadlocked with the BQL
 * held answers neither its qtest socket closing nor SIGTERM, so the
 * whole process group of the case (the subprocess and every QEMU it
 * started) is killed outright.
 */
static void isolated_timed_out(int sig)
{
    static const char msg[] = "vsmmu-qtest: no result in time (QEMU hangs "
                              "or deadlocked): the case and its QEMUs are "
                              "killed\n";

    if (write(STDERR_FILENO, msg, sizeof(msg) - 1) < 0) {
        /* nothing more to do */
    }
    kill(0, SIGKILL);
    _exit(1);
}

void vsmmu_qtest_skip(const char *reason)
{
    const char *file = g_getenv(SKIP_FILE_ENV);

    if (g_test_subprocess() && file) {
        g_assert_true(g_file_set_contents(file, reason, -1, NULL));
    } else {
        g_test_skip(reason);
    }
}

static void isolated_run(const void *opaque)
{
    const IsolatedCase *c = opaque;
    g_autofree char *dir = NULL;
    g_autofree char *skip_file = NULL;
    g_autofree char *reason = NULL;

    if (g_test_subprocess()) {
        struct sigaction sa = { .sa_handler = isolated_timed_out };

        /* a group of its own: the QEMUs it starts join it */
        setpgid(0, 0);
        if (!c->stderr_glob) {
            /* a QEMU that outlives it cannot hold the parent's pipe open */
            dup2(STDERR_FILENO, STDOUT_FILENO);
        }
        sigaction(SIGALRM, &sa, NULL);
        alarm(c->timeout_s);
        if (c->fn0) {
            c->fn0();
        } else {
            c->fn(c->data);
        }
        alarm(0);
        return;
    }
    dir = g_dir_make_tmp("vsmmu-qtest-XXXXXX", NULL);
    g_assert_nonnull(dir);
    skip_file = g_build_filename(dir, "skip", NULL);
    g_setenv(SKIP_FILE_ENV, skip_file, true);
    g_test_trap_subprocess(NULL, (guint64)(c->timeout_s +
                                           ISOLATED_BACKSTOP_S) *
                           G_USEC_PER_SEC, c->stderr_glob ? 0 :
                           G_TEST_SUBPROCESS_INHERIT_STDERR);
    if (g_file_get_contents(skip_file, &reason, NULL, NULL)) {
        unlink(skip_file);
    }
    rmdir(dir);
    if (reason) {
        g_test_skip(reason);
    } else if (c->stderr_glob) {
        /* report a mismatch as this case's failure, not the run's end */
        g_test_set_nonfatal_assertions();
        g_test_trap_assert_failed();
        g_test_trap_assert_stderr(c->stderr_glob);
    } else if (!g_test_trap_has_passed()) {
        /* Not g_test_trap_assert_passed(): that would end the whole run */
        g_test_fail();
    }
}

static void isolated_add(const char *path, IsolatedCase *c,
                         unsigned timeout_s)
{
    c->timeout_s = timeout_s;
    qtest_add_data_func(path, c, isolated_run);
}

void vsmmu_qtest_add_isolated(const char *path, GTestDataFunc fn,
                              const void *data, unsigned timeout_s)
{
    IsolatedCase *c = g_new0(IsolatedCase, 1);

    c->fn = fn;
    c->data = data;
    isolated_add(path, c, timeout_s);
}

void vsmmu_qtest_add_isolated_func(const char *path, GTestFunc fn,
                                   unsigned timeout_s)
{
    IsolatedCase *c = g_new0(IsolatedCase, 1);

    c->fn0 = fn;
    isolated_add(path, c, timeout_s);
}

void vsmmu_qtest_add_isolated_fail(const char *path, GTestFunc fn,
                                   unsigned timeout_s,
                                   const char *stderr_glob)
{
    IsolatedCase *c = g_new0(IsolatedCase, 1);

    c->fn0 = fn;
    c->stderr_glob = g_strdup(stderr_glob);
    isolated_add(path, c, timeout_s);
}

/* ---------------------------------------------------------------------- */
/* Reading QEMU's state                                                    */
/* ---------------------------------------------------------------------- */

uint64_t vsmmu_qtest_region_base(QTestState *qts, const char *name)
{
    g_autofree char *mtree = qtest_hmp(qts, "info mtree");
    g_autofree char *suffix = g_strdup_printf(": %s", name);
    g_auto(GStrv) lines = g_strsplit(mtree, "\n", -1);

    for (int i = 0; lines[i]; i++) {
        g_strstrip(lines[i]);
        if (g_str_has_suffix(lines[i], suffix)) {
            return g_ascii_strtoull(lines[i], NULL, 16);
        }
    }
    return 0;
}

uint64_t vsmmu_qtest_qom_uint(QTestState *qts, const char *path,
                              const char *prop)
{
    QDict *resp = qtest_qmp(qts, "{'execute': 'qom-get', 'arguments': "
                            "{'path': %s, 'property': %s}}", path, prop);
    uint64_t v;

    g_assert_true(qdict_haskey(resp, "return"));
    v = qdict_get_int(resp, "return");
    qobject_unref(resp);
    return v;
}

char *vsmmu_qtest_vsmmu_path(QTestState *qts)
{
    static const char *const parents[] = {
        "/machine/peripheral", "/machine/peripheral-anon",
    };

    for (int i = 0; i < ARRAY_SIZE(parents); i++) {
        QDict *resp = qtest_qmp(qts, "{'execute': 'qom-list', 'arguments': "
                                "{'path': %s}}", parents[i]);
        QList *list = qdict_get_qlist(resp, "return");
        char *found = NULL;
        QListEntry *e;

        QLIST_FOREACH_ENTRY(list, e) {
            QDict *prop = qobject_to(QDict, qlist_entry_obj(e));

            if (!strcmp(qdict_get_str(prop, "type"), "child<vsmmu>")) {
                found = g_strdup_printf("%s/%s", parents[i],
                                        qdict_get_str(prop, "name"));
                break;
            }
        }
        qobject_unref(resp);
        if (found) {
            return found;
        }
    }
    return NULL;
}
