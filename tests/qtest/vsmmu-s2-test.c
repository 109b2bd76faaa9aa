/*
 * qtests of stage 2 and nesting in the emulated vsmmu (stage=2|nested):
 * DMA from vsmmu-dma-testdev through stage-2-only and nested (stage 1 over
 * stage 2) stream table entries built in guest RAM the way a hypervisor's
 * driver would (see vsmmu-qtest-lib.h), the stage-2 TLB invalidations,
 * VMID-tagged stage-1 invalidations, stage-2 fault records, C_BAD_STE for
 * every invalid stage-2 field, the stages a vsmmu does not offer, reset,
 * migration, and hostile stage-2 programming.
 *
 * Every assertion follows the architecture (IHI 0070 and the VMSAv8-64
 * stage 2 format), except the "stale" halves of the invalidation tests,
 * which check that the model caches translations at all (the
 * architecture permits it, it does not require it); what follows an
 * invalidation is architectural.
 *
 * Nested streams see their tables at IPAs: the tests' stage 2 maps guest
 * RAM at IPA = PA + TABLE_IPA_OFF (one 1 GiB block), so every CD and
 * stage-1 table address the SMMU reads is an IPA far from any RAM, and a
 * model that forgot stage 2 for any of them reads nothing. Data pages get
 * 4 KiB stage-2 pages of their own at DATA_IPA, so stage-2 faults can be
 * placed on data, tables, TTB0 or the CD.
 *
 * Each test runs in a subprocess with a time limit, so a hang or an abort
 * fails that test only. "reference/" cases run the same DMA through QEMU's
 * stock arm-smmuv3 (stage=nested), checking the tests' tables against a
 * second implementation.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qobject/qdict.h"
#include "hw/arm/vsmmu/ats-testdev.h"
#include "vsmmu-qtest-lib.h"
#include "vsmmu-qtest-check.h"

#define TEST_TIMEOUT_S          120

#define SMMU_NESTED     "-device vsmmu,primary-bus=pcie.0,stage=nested," \
                        "id=vsmmu0 "
#define SMMU_S2         "-device vsmmu,primary-bus=pcie.0,stage=2,id=vsmmu0 "
#define SMMU_S1         "-device vsmmu,primary-bus=pcie.0,id=vsmmu0 "
#define SMMU_REFERENCE  "-device arm-smmuv3,primary-bus=pcie.0,stage=nested "
/* A second DMA test device (StreamID 0xf0) */
#define TESTDEV2        "-device vsmmu-dma-testdev,addr=1e.0 "
#define TESTDEV2_DEVFN  0xf0

/* Input addresses that are also RAM: a bypassing model writes there */
#define IOVA_A                  0x58000000ULL
#define IOVA_B                  0x58400000ULL
#define IOVA_C                  0x58800000ULL   /* never mapped */
#define IOVA_D                  0x58c00000ULL

/* Stage 2: guest RAM at IPA = PA + TABLE_IPA_OFF, data pages at DATA_IPA */
#define TABLE_IPA_OFF           (1ULL << 43)
#define HOLE_IPA_OFF            (1ULL << 42)    /* mapped page by page */
#define DATA_IPA                0x100000000ULL
#define S2_IAS                  44              /* S2T0SZ 20 */

#define TEST_ASID               0x2a
#define VMID_A                  0x11
#define VMID_B                  0x22

/* ---------------------------------------------------------------------- */
/* Helpers                                                                 */
/* ---------------------------------------------------------------------- */

/*
 * A translation fault record: @id at input @iova, stage 2 or not, its
 * class, and for stage 2 the IPA that faulted
 */
static void expect_fault(VsmmuQtest *t, unsigned id, uint64_t iova,
                         bool s2, unsigned class, uint64_t ipa)
{
    VsmmuEvent ev;

    vsmmu_expect_event(t, id, &ev);
    g_assert_cmphex(vsmmu_evt_input_addr(&ev), ==, iova);
    g_assert_cmpuint(FIELD_EX64(ev.word[1], EVT1, S2), ==, s2);
    g_assert_cmpuint(FIELD_EX64(ev.word[1], EVT1, CLASS), ==, class);
    g_assert_cmpuint(FIELD_EX64(ev.word[1], EVT1, STALL), ==, 0);
    if (s2) {
        g_assert_cmphex(vsmmu_evt_ipa(&ev), ==, ipa & ~0xfffULL);
    }
}

static VsmmuQtest *start(const char *smmu, const char *extra)
{
    QTestState *qts = qtest_initf("-M virt -cpu max -nodefaults -m 512M "
                                  "%s %s %s", smmu, VSMMU_QTEST_TESTDEV,
                                  extra ? extra : "");
    VsmmuQtest *t = vsmmu_qtest_attach_devfn(qts, VSMMU_QTEST_TESTDEV_SID);

    g_assert_cmphex(t->base, !=, 0);
    return t;
}

/*
 * A second test device on the same bus, for DMA only: the SMMU, memory
 * and allocator stay @t's. Free with g_free() after its dev.
 */
static VsmmuQtest *second_dev(VsmmuQtest *t, int devfn)
{
    VsmmuQtest *t2 = g_new0(VsmmuQtest, 1);

    t2->qts = t->qts;
    t2->base = t->base;
    t2->dev = qpci_device_find(&t->pcibus.bus, devfn);
    g_assert_nonnull(t2->dev);
    qpci_device_enable(t2->dev);
    t2->bar = qpci_iomap(t2->dev, 0, NULL);
    t2->sid = devfn;
    return t2;
}

static void free_second_dev(VsmmuQtest *t2)
{
    g_free(t2->dev);
    g_free(t2);
}

/* ---------------------------------------------------------------------- */
/* Fixtures: a stage-2-only or a nested stream for the test device         */
/* ---------------------------------------------------------------------- */

typedef struct S2Fixture {
    VsmmuQtest *t;
    bool nested;
    VsmmuPgtable s2;
    VsmmuPgtable s1;            /* nested */
    VsmmuCdTable cdt;           /* nested */
    uint64_t cd_addr;           /* nested: PA of the CD */
    uint64_t cd[VSMMU_CD_DWORDS];
    uint64_t ste[VSMMU_STE_DWORDS];
    uint64_t next_ipa;          /* nested: data IPA pages handed out */
    uint16_t vmid;
} S2Fixture;

typedef struct S2Params {
    unsigned s2_granule;        /* 4096, 16384, 65536 */
    unsigned s2_ias;            /* 64 - S2T0SZ */
    int s2_level;               /* start level, -1: the shallowest */
    unsigned s1_granule;        /* nested */
    unsigned cdmax;             /* nested: CD table size, 0: one CD */
    unsigned cd_fmt;            /* nested, cdmax > 0 */
} S2Params;

static const S2Params s2_4k = {
    .s2_granule = 4096, .s2_ias = S2_IAS, .s2_level = -1,
    .s1_granule = 4096,
};

static void s2_init_table(S2Fixture *f, const S2Params *p)
{
    unsigned gs = ctz32(p->s2_granule);
    int level = p->s2_level;

    if (level < 0) {
        /* the shallowest level that resolves the IPA */
        level = 4 - DIV_ROUND_UP(p->s2_ias - gs, gs - 3);
    }
    vsmmu_s2pt_init(f->t, &f->s2, p->s2_granule, p->s2_ias, level);
}

/* Stage 2 maps all guest RAM at IPA PA + TABLE_IPA_OFF, with blocks */
static void map_table_window(S2Fixture *f)
{
    unsigned gs = f->s2.granule_shift;
    int level = gs == 12 ? 1 : 2;
    uint64_t blk = 1ULL << (gs + (3 - level) * (gs - 3));

    for (uint64_t pa = VSMMU_QTEST_RAM_BASE & ~(blk - 1);
         pa < VSMMU_QTEST_RAM_BASE + VSMMU_QTEST_RAM_SIZE; pa += blk) {
        vsmmu_pt_map_block(&f->s2, TABLE_IPA_OFF + pa, pa, level,
                           VSMMU_PT_WRITE);
    }
}

/* Stage 1 tables, CD table and CD of a nested stream, all seen at IPAs */
static void nested_init_s1(S2Fixture *f, const S2Params *p)
{
    VsmmuQtest *t = f->t;

    map_table_window(f);
    vsmmu_pt_init(t, &f->s1, p->s1_granule, 48);
    f->s1.table_ipa_offset = TABLE_IPA_OFF;
    if (p->cdmax && p->cd_fmt != STE_S1FMT_LINEAR) {
        vsmmu_cd_table_2lvl(t, &f->cdt, p->cdmax, p->cd_fmt);
    } else {
        vsmmu_cd_table_linear(t, &f->cdt, p->cdmax);
    }
    f->cdt.ipa_offset = TABLE_IPA_OFF;
    f->cd_addr = vsmmu_cd_addr(t, &f->cdt, 0);
    vsmmu_cd_for_pgtable(f->cd, &f->s1, TEST_ASID);
    vsmmu_cd_write(t, f->cd_addr, f->cd);
    f->next_ipa = DATA_IPA;
}

static void fixture_ste(S2Fixture *f)
{
    if (f->nested) {
        vsmmu_ste_nested(f->ste, &f->cdt, f->cdt.cdmax ? STE_S1DSS_SSID0 :
                         STE_S1DSS_TERMINATE, &f->s2, f->vmid);
    } else {
        vsmmu_ste_s2(f->ste, &f->s2, f->vmid);
    }
}

/*
 * Stream of the test device through stage 2 (and stage 1 if @nested),
 * then the driver bring-up (its CFGI_ALL covers the tables) and SMMUEN
 */
static void fixture_setup(S2Fixture *f, const char *smmu, const char *extra,
                          bool nested, const S2Params *p)
{
    memset(f, 0, sizeof(*f));
    f->t = start(smmu, extra);
    f->nested = nested;
    f->vmid = VMID_A;
    vsmmu_strtab_linear(f->t, 8);
    s2_init_table(f, p);
    if (nested) {
        nested_init_s1(f, p);
    }
    fixture_ste(f);
    vsmmu_ste_write(f->t, f->t->sid, f->ste);
    vsmmu_bringup(f->t, 8, 4);
    vsmmu_enable(f->t);
}

static void update_ste(S2Fixture *f)
{
    vsmmu_ste_write(f->t, f->t->sid, f->ste);
    vsmmu_issue_sync(f->t, vsmmu_cmd_cfgi_ste(f->t->sid, true));
}

/*
 * Map 4 KiB at input @iova to @pa: stage 2 alone maps it directly; a
 * nested stream maps @iova to a fresh data IPA in stage 1 (@s1_flags)
 * and that IPA to @pa in stage 2 (@s2_flags). Returns the IPA.
 */
/* The page size of the tests' mappings: the larger granule */
static uint64_t page_size(S2Fixture *f)
{
    return 1ULL << MAX(f->s2.granule_shift,
                       f->nested ? f->s1.granule_shift : 12);
}

static uint64_t map_page(S2Fixture *f, uint64_t iova, uint64_t pa,
                         unsigned s1_flags, unsigned s2_flags)
{
    uint64_t ipa = iova;

    if (f->nested) {
        ipa = f->next_ipa;
        f->next_ipa += page_size(f);
        vsmmu_pt_map(&f->s1, iova, ipa, page_size(f), s1_flags);
    }
    vsmmu_pt_map(&f->s2, ipa, pa, page_size(f), s2_flags);
    return ipa;
}

static uint64_t alloc_page(S2Fixture *f)
{
    return vsmmu_alloc(f->t, page_size(f), page_size(f));
}

/*
 * IOVA_A (read-only) -> a page of pattern @seed, IOVA_B (writable) ->
 * another page; copy 4 KiB from A to B and check it landed there, and
 * nowhere near the input addresses. Returns B's page.
 */
static uint64_t copy_a_to_b(S2Fixture *f, uint8_t seed, uint64_t *pa_a)
{
    VsmmuQtest *t = f->t;
    uint64_t a = alloc_page(f), b = alloc_page(f);

    map_page(f, IOVA_A, a, VSMMU_PT_READ, VSMMU_PT_READ);
    map_page(f, IOVA_B, b, VSMMU_PT_WRITE, VSMMU_PT_WRITE);
    vsmmu_fill_pattern(t, a, 4096, seed, 0);
    qtest_memset(t->qts, IOVA_A, 0xee, 4096);
    qtest_memset(t->qts, IOVA_B, 0, 4096);
    vsmmu_assert_status_ok(vsmmu_testdev_copy(t, IOVA_A, IOVA_B, 4096));
    g_assert_true(vsmmu_check_pattern(t, b, 4096, seed, 0));
    g_assert_cmphex(qtest_readq(t->qts, IOVA_B), ==, 0);
    if (pa_a) {
        *pa_a = a;
    }
    return b;
}

/* ---------------------------------------------------------------------- */
/* ID registers and the stages offered                                     */
/* ---------------------------------------------------------------------- */

static void test_idr_nested(void)
{
    VsmmuQtest *t = start(SMMU_NESTED, NULL);
    uint32_t idr0 = vsmmu_readl(t, A_IDR0);

    g_assert_cmpuint(FIELD_EX32(idr0, IDR0, S1P), ==, 1);
    g_assert_cmpuint(FIELD_EX32(idr0, IDR0, S2P), ==, 1);
    g_assert_cmpuint(FIELD_EX32(idr0, IDR0, VMID16), ==, 1);
    /* split-stage ATS (STE.EATS = 0b10) is not offered */
    g_assert_cmpuint(FIELD_EX32(idr0, IDR0, NS1ATS), ==, 1);
    g_assert_cmpuint(FIELD_EX32(idr0, IDR0, TTF), ==, 2);
    g_assert_cmpuint(FIELD_EX32(idr0, IDR0, STALL_MODEL), ==, 1);
    g_assert_cmpuint(FIELD_EX32(vsmmu_readl(t, A_IDR3), IDR3, FWB), ==, 1);
    vsmmu_qtest_quit(t);
}

static void test_idr_s2(void)
{
    VsmmuQtest *t = start(SMMU_S2, NULL);
    uint32_t idr0 = vsmmu_readl(t, A_IDR0);

    g_assert_cmpuint(FIELD_EX32(idr0, IDR0, S1P), ==, 0);
    g_assert_cmpuint(FIELD_EX32(idr0, IDR0, S2P), ==, 1);
    g_assert_cmpuint(FIELD_EX32(idr0, IDR0, VMID16), ==, 1);
    g_assert_cmpuint(FIELD_EX32(vsmmu_readl(t, A_IDR3), IDR3, FWB), ==, 1);
    vsmmu_qtest_quit(t);
}

/* The default is today's stage-1 SMMU: no S2P, no VMID16, no FWB */
static void test_idr_s1(void)
{
    VsmmuQtest *t = start(SMMU_S1, NULL);
    uint32_t idr0 = vsmmu_readl(t, A_IDR0);

    g_assert_cmpuint(FIELD_EX32(idr0, IDR0, S1P), ==, 1);
    g_assert_cmpuint(FIELD_EX32(idr0, IDR0, S2P), ==, 0);
    g_assert_cmpuint(FIELD_EX32(idr0, IDR0, VMID16), ==, 0);
    g_assert_cmpuint(FIELD_EX32(idr0, IDR0, NS1ATS), ==, 0);
    g_assert_cmpuint(FIELD_EX32(vsmmu_readl(t, A_IDR3), IDR3, FWB), ==, 0);
    vsmmu_qtest_quit(t);
}

/* Expect @cmd to stop the queue with CERROR_ILL, then move on */
static void expect_cmd_ill(VsmmuQtest *t, VsmmuCmd cmd)
{
    uint32_t at = t->cmdq.prod;
    VsmmuCmd nop = vsmmu_cmd_sync(CMD_SYNC_SIG_NONE, 0, 0);

    g_assert_cmpuint(vsmmu_cmdq_issue(t, cmd), ==, CERROR_ILL);
    g_assert_cmphex(vsmmu_cmdq_cons(t), ==, at);
    g_assert_cmphex(vsmmu_gerror_active(t), ==, R_GERROR_CMDQ_ERR_MASK);
    vsmmu_write_words(t, vsmmu_cmdq_slot(t, at), nop.word, 2);
    vsmmu_gerror_ack(t, R_GERROR_CMDQ_ERR_MASK);
    g_assert_cmpuint(vsmmu_cmdq_wait(t), ==, CERROR_NONE);
    g_assert_cmphex(vsmmu_cmdq_cons(t), ==, t->cmdq.prod);
}

/* A stream the SMMU cannot take: C_BAD_STE on the first access */
static void expect_bad_ste_dma(VsmmuQtest *t)
{
    VsmmuEvent ev;

    vsmmu_assert_status_fault(t, vsmmu_testdev_copy(t, IOVA_A, IOVA_B, 8),
                              IOVA_A);
    vsmmu_expect_event(t, EVT_C_BAD_STE, &ev);
}

/*
 * stage=1 (the default): S2 and nested STEs are C_BAD_STE, the stage-2
 * TLBIs CERROR_ILL, as on any SMMU without stage 2
 */
static void test_stage1_rejects(void)
{
    S2Fixture f;
    VsmmuQtest *t;

    memset(&f, 0, sizeof(f));
    f.t = t = start(SMMU_S1, NULL);
    vsmmu_strtab_linear(t, 8);
    vsmmu_s2pt_init(t, &f.s2, 4096, S2_IAS, 0);
    vsmmu_ste_s2(f.ste, &f.s2, VMID_A);
    vsmmu_ste_write(t, t->sid, f.ste);
    vsmmu_bringup(t, 8, 4);
    vsmmu_enable(t);
    expect_bad_ste_dma(t);

    nested_init_s1(&f, &s2_4k);
    vsmmu_ste_nested(f.ste, &f.cdt, STE_S1DSS_TERMINATE, &f.s2, VMID_A);
    vsmmu_ste_write(t, t->sid, f.ste);
    vsmmu_issue_sync(t, vsmmu_cmd_cfgi_ste(t->sid, true));
    expect_bad_ste_dma(t);

    expect_cmd_ill(t, vsmmu_cmd_tlbi_s2_ipa(VMID_A, 0x1000, true));
    expect_cmd_ill(t, vsmmu_cmd_tlbi_s12_vmall(VMID_A));
    /* the stage-1 ones are as legal as ever */
    vsmmu_issue_sync(t, vsmmu_cmd_with_vmid(vsmmu_cmd_tlbi_nh_asid(TEST_ASID),
                                            VMID_A));
    vsmmu_qtest_quit(t);
}

/*
 * stage=2: stage-1 and nested STEs are C_BAD_STE, TLBI_NH_* and CFGI_CD*
 * CERROR_ILL; the stage-2 commands are legal
 */
static void test_stage2_rejects(void)
{
    S2Fixture f;
    VsmmuQtest *t;

    fixture_setup(&f, SMMU_S2, NULL, false, &s2_4k);
    t = f.t;
    copy_a_to_b(&f, 0x21, NULL);

    vsmmu_cd_table_linear(t, &f.cdt, 0);
    vsmmu_ste_s1(f.ste, f.cdt.base, STE_S1FMT_LINEAR, 0, 0);
    update_ste(&f);
    expect_bad_ste_dma(t);
    vsmmu_ste_nested(f.ste, &f.cdt, STE_S1DSS_TERMINATE, &f.s2, VMID_A);
    update_ste(&f);
    expect_bad_ste_dma(t);

    expect_cmd_ill(t, vsmmu_cmd_tlbi_nh_all());
    expect_cmd_ill(t, vsmmu_cmd_tlbi_nh_asid(TEST_ASID));
    expect_cmd_ill(t, vsmmu_cmd_tlbi_nh_va(TEST_ASID, IOVA_A, true));
    expect_cmd_ill(t, vsmmu_cmd_tlbi_nh_vaa(IOVA_A, true));
    expect_cmd_ill(t, vsmmu_cmd_cfgi_cd(t->sid, 0, true));
    expect_cmd_ill(t, vsmmu_cmd_cfgi_cd_all(t->sid));
    vsmmu_issue_sync(t, vsmmu_cmd_tlbi_s2_ipa(VMID_A, IOVA_A, true));
    vsmmu_issue_sync(t, vsmmu_cmd_tlbi_s12_vmall(VMID_A));
    vsmmu_issue_sync(t, vsmmu_cmd_tlbi_nsnh_all());
    vsmmu_qtest_quit(t);
}

/* accel=on offers stage 1 only: anything else is refused at realize */
static void test_accel_stage_refused(void)
{
    QTestState *qts = qtest_init("-M virt -nodefaults "
                                 "-object iommufd,id=ifd0 "
                                 "-device vsmmu,primary-bus=pcie.0,accel=on,"
                                 "iommufd=ifd0,stage=nested");

    qtest_quit(qts);
}

static void test_stage_bad_value(void)
{
    QTestState *qts = qtest_init("-M virt -nodefaults "
                                 "-device vsmmu,primary-bus=pcie.0,stage=3");

    qtest_quit(qts);
}

/* ---------------------------------------------------------------------- */
/* Translation                                                             */
/* ---------------------------------------------------------------------- */

static void run_s2(const char *smmu, const S2Params *p)
{
    S2Fixture f;

    fixture_setup(&f, smmu, NULL, false, p);
    copy_a_to_b(&f, 0x31, NULL);
    vsmmu_expect_no_event(f.t);
    vsmmu_qtest_quit(f.t);
}

static void run_nested(const char *smmu, const S2Params *p)
{
    S2Fixture f;

    fixture_setup(&f, smmu, NULL, true, p);
    copy_a_to_b(&f, 0x32, NULL);
    vsmmu_expect_no_event(f.t);
    vsmmu_qtest_quit(f.t);
}

static void test_s2_4k(void)
{
    run_s2(SMMU_NESTED, &s2_4k);
}

static void test_s2_16k(void)
{
    S2Params p = { .s2_granule = 16384, .s2_ias = S2_IAS, .s2_level = -1 };

    run_s2(SMMU_NESTED, &p);
}

static void test_s2_64k(void)
{
    /* 44 bits from level 2: four concatenated tables (level 1 needs 52) */
    S2Params p = { .s2_granule = 65536, .s2_ias = S2_IAS, .s2_level = 2 };

    run_s2(SMMU_NESTED, &p);
}

static void test_s2_only_smmu(void)
{
    run_s2(SMMU_S2, &s2_4k);
}

/*
 * Concatenated first-level tables: 40-bit IPAs with 4 KiB granules
 * starting at level 1 (two tables), and an input whose bit 39 selects
 * the second one. The first table maps the same offset elsewhere, so a
 * walk that loses the table index reads the wrong page.
 */
static void test_s2_concat(void)
{
    S2Params p = { .s2_granule = 4096, .s2_ias = 40, .s2_level = 1 };
    uint64_t hi = (1ULL << 39) | IOVA_A;
    S2Fixture f;
    VsmmuQtest *t;
    uint64_t a = 0, b = 0, decoy;

    fixture_setup(&f, SMMU_NESTED, NULL, false, &p);
    t = f.t;
    a = alloc_page(&f);
    b = alloc_page(&f);
    decoy = alloc_page(&f);
    vsmmu_pt_map(&f.s2, hi, a, 4096, VSMMU_PT_READ);
    vsmmu_pt_map(&f.s2, IOVA_A, decoy, 4096, VSMMU_PT_READ);
    vsmmu_pt_map(&f.s2, IOVA_B, b, 4096, VSMMU_PT_WRITE);
    vsmmu_fill_pattern(t, a, 4096, 0x41, 0);
    vsmmu_fill_pattern(t, decoy, 4096, 0x42, 0);
    vsmmu_assert_status_ok(vsmmu_testdev_copy(t, hi, IOVA_B, 4096));
    g_assert_true(vsmmu_check_pattern(t, b, 4096, 0x41, 0));
    /* 16 tables at most: a 44-bit IPA cannot start at level 1 */
    vsmmu_expect_no_event(t);
    vsmmu_qtest_quit(t);
}

/* The same through QEMU's stock arm-smmuv3 */
static void test_reference_s2_concat(void)
{
    S2Params p = { .s2_granule = 4096, .s2_ias = 40, .s2_level = 1 };
    uint64_t hi = (1ULL << 39) | IOVA_A;
    S2Fixture f;
    uint64_t a, b, decoy;

    fixture_setup(&f, SMMU_REFERENCE, NULL, false, &p);
    a = alloc_page(&f);
    b = alloc_page(&f);
    decoy = alloc_page(&f);
    vsmmu_pt_map(&f.s2, hi, a, 4096, VSMMU_PT_READ);
    vsmmu_pt_map(&f.s2, IOVA_A, decoy, 4096, VSMMU_PT_READ);
    vsmmu_pt_map(&f.s2, IOVA_B, b, 4096, VSMMU_PT_WRITE);
    vsmmu_fill_pattern(f.t, a, 4096, 0x41, 0);
    vsmmu_fill_pattern(f.t, decoy, 4096, 0x42, 0);
    vsmmu_assert_status_ok(vsmmu_testdev_copy(f.t, hi, IOVA_B, 4096));
    g_assert_true(vsmmu_check_pattern(f.t, b, 4096, 0x41, 0));
    vsmmu_qtest_quit(f.t);
}

/* A 2 MiB stage-2 block */
static void test_s2_block(void)
{
    S2Fixture f;
    VsmmuQtest *t;
    uint64_t blk, b;

    fixture_setup(&f, SMMU_NESTED, NULL, false, &s2_4k);
    t = f.t;
    blk = vsmmu_alloc(t, 2 << 20, 2 << 20);
    b = alloc_page(&f);
    vsmmu_pt_map_block(&f.s2, IOVA_A, blk, 2, VSMMU_PT_READ);
    vsmmu_pt_map(&f.s2, IOVA_B, b, 4096, VSMMU_PT_WRITE);
    vsmmu_fill_pattern(t, blk + 0x5000, 4096, 0x43, 0);
    vsmmu_assert_status_ok(vsmmu_testdev_copy(t, IOVA_A + 0x5000, IOVA_B,
                                              4096));
    g_assert_true(vsmmu_check_pattern(t, b, 4096, 0x43, 0));
    vsmmu_qtest_quit(t);
}

static void test_nested_4k(void)
{
    run_nested(SMMU_NESTED, &s2_4k);
}

static void test_nested_s1_64k_s2_16k(void)
{
    S2Params p = { .s2_granule = 16384, .s2_ias = S2_IAS, .s2_level = -1,
                   .s1_granule = 65536 };

    run_nested(SMMU_NESTED, &p);
}

/* A 2-level CD table: its level-1 descriptor's L2Ptr is an IPA too */
static void test_nested_cd_2lvl(void)
{
    S2Params p = s2_4k;

    p.cdmax = 8;
    p.cd_fmt = STE_S1FMT_2LVL_4K;
    run_nested(SMMU_NESTED, &p);
}

/* STE.S1DSS = bypass on a nested stream: stage 2 alone translates */
static void test_nested_s1dss_bypass(void)
{
    S2Params p = s2_4k;
    S2Fixture f;
    VsmmuQtest *t;
    uint64_t a, b;

    p.cdmax = 4;
    fixture_setup(&f, SMMU_NESTED, NULL, true, &p);
    t = f.t;
    f.ste[1] = FIELD_DP64(f.ste[1], STE1, S1DSS, STE_S1DSS_BYPASS);
    update_ste(&f);
    a = alloc_page(&f);
    b = alloc_page(&f);
    vsmmu_pt_map(&f.s2, IOVA_A, a, 4096, VSMMU_PT_READ);
    vsmmu_pt_map(&f.s2, IOVA_B, b, 4096, VSMMU_PT_WRITE);
    vsmmu_fill_pattern(t, a, 4096, 0x44, 0);
    vsmmu_assert_status_ok(vsmmu_testdev_copy(t, IOVA_A, IOVA_B, 4096));
    g_assert_true(vsmmu_check_pattern(t, b, 4096, 0x44, 0));
    vsmmu_expect_no_event(t);
    vsmmu_qtest_quit(t);
}

/* A stage-1-only STE on an SMMU with stage 2 still translates */
static void test_s1_on_nested_smmu(void)
{
    VsmmuQtest *t = start(SMMU_NESTED, NULL);
    VsmmuPgtable pt;
    VsmmuCdTable cdt;
    uint64_t cd[VSMMU_CD_DWORDS], ste[VSMMU_STE_DWORDS];
    uint64_t a, b;

    vsmmu_strtab_linear(t, 8);
    vsmmu_pt_init(t, &pt, 4096, 48);
    vsmmu_cd_table_linear(t, &cdt, 0);
    vsmmu_cd_for_pgtable(cd, &pt, TEST_ASID);
    vsmmu_cd_write(t, cdt.base, cd);
    vsmmu_ste_s1(ste, cdt.base, STE_S1FMT_LINEAR, 0, 0);
    ste[2] = FIELD_DP64(0, STE2, S2VMID, VMID_B);
    vsmmu_ste_write(t, t->sid, ste);
    vsmmu_bringup(t, 8, 4);
    vsmmu_enable(t);
    a = vsmmu_alloc(t, 4096, 4096);
    b = vsmmu_alloc(t, 4096, 4096);
    vsmmu_pt_map(&pt, IOVA_A, a, 4096, VSMMU_PT_READ);
    vsmmu_pt_map(&pt, IOVA_B, b, 4096, VSMMU_PT_WRITE);
    vsmmu_fill_pattern(t, a, 4096, 0x45, 0);
    vsmmu_assert_status_ok(vsmmu_testdev_copy(t, IOVA_A, IOVA_B, 4096));
    g_assert_true(vsmmu_check_pattern(t, b, 4096, 0x45, 0));

    /* Its entries are tagged with STE.S2VMID: another VMID misses them */
    a = vsmmu_alloc(t, 4096, 4096);
    vsmmu_fill_pattern(t, a, 4096, 0x46, 0);
    vsmmu_pt_remap(&pt, IOVA_A, a);
    vsmmu_issue_sync(t, vsmmu_cmd_with_vmid(vsmmu_cmd_tlbi_nh_va(TEST_ASID,
                                                                 IOVA_A, true),
                                            VMID_A));
    vsmmu_assert_status_ok(vsmmu_testdev_copy(t, IOVA_A, IOVA_B, 4096));
    g_assert_true(vsmmu_check_pattern(t, b, 4096, 0x45, 0));
    vsmmu_issue_sync(t, vsmmu_cmd_with_vmid(vsmmu_cmd_tlbi_nh_va(TEST_ASID,
                                                                 IOVA_A, true),
                                            VMID_B));
    vsmmu_assert_status_ok(vsmmu_testdev_copy(t, IOVA_A, IOVA_B, 4096));
    g_assert_true(vsmmu_check_pattern(t, b, 4096, 0x46, 0));
    vsmmu_qtest_quit(t);
}

static void test_reference_s2_4k(void)
{
    run_s2(SMMU_REFERENCE, &s2_4k);
}

static void test_reference_nested_4k(void)
{
    run_nested(SMMU_REFERENCE, &s2_4k);
}

/*
 * A second access hits the SMMU's caches: the per-device micro-TLB of the
 * vsmmu counts it (x-stats-utlb-hits), and the translation stays even
 * when the tables change (until an invalidation, below)
 */
static void test_nested_cached(void)
{
    S2Fixture f;
    VsmmuQtest *t;
    uint64_t a, b, hits;

    fixture_setup(&f, SMMU_NESTED, NULL, true, &s2_4k);
    t = f.t;
    b = copy_a_to_b(&f, 0x47, &a);
    hits = vsmmu_qtest_qom_uint(t->qts, "/machine/peripheral/vsmmu0",
                                "x-stats-utlb-hits");
    vsmmu_assert_status_ok(vsmmu_testdev_copy(t, IOVA_A, IOVA_B, 4096));
    g_assert_cmpuint(vsmmu_qtest_qom_uint(t->qts,
                                          "/machine/peripheral/vsmmu0",
                                          "x-stats-utlb-hits"), >, hits);
    g_assert_true(vsmmu_check_pattern(t, b, 4096, 0x47, 0));
    vsmmu_qtest_quit(t);
}

/* ---------------------------------------------------------------------- */
/* Faults                                                                  */
/* ---------------------------------------------------------------------- */

/* A one-page copy from @iova that must fail on its first access */
static void fault_at(S2Fixture *f, uint64_t iova)
{
    uint64_t b = alloc_page(f);

    if (!f->nested || !vsmmu_pt_leaf_addr(&f->s1, IOVA_D)) {
        map_page(f, IOVA_D, b, VSMMU_PT_WRITE, VSMMU_PT_WRITE);
    }
    vsmmu_assert_status_fault(f->t, vsmmu_testdev_copy(f->t, iova, IOVA_D, 8),
                              iova);
}

/* Stage 2 alone: no mapping for the IPA, F_TRANSLATION with S2 = 1 */
static void test_fault_s2_translation(void)
{
    S2Fixture f;

    fixture_setup(&f, SMMU_NESTED, NULL, false, &s2_4k);
    fault_at(&f, IOVA_C);
    expect_fault(f.t, EVT_F_TRANSLATION, IOVA_C, true, EVT_CLASS_IN, IOVA_C);
    vsmmu_qtest_quit(f.t);
}

/* An input beyond S2T0SZ but within IAS: stage 2 Translation fault */
static void test_fault_s2_t0sz(void)
{
    S2Params p = { .s2_granule = 4096, .s2_ias = 32, .s2_level = -1 };
    S2Fixture f;
    uint64_t in = 1ULL << 32;

    fixture_setup(&f, SMMU_NESTED, NULL, false, &p);
    fault_at(&f, in);
    expect_fault(f.t, EVT_F_TRANSLATION, in, true, EVT_CLASS_IN, in);
    vsmmu_qtest_quit(f.t);
}

/*
 * Stage 1 bypassed, an input beyond IAS (= OAS, 44 bits): a stage 1
 * Address Size fault (S2 = 0), recorded although no CD says so
 */
static void test_fault_s2_ias(void)
{
    S2Fixture f;
    uint64_t in = 1ULL << 45;

    fixture_setup(&f, SMMU_NESTED, NULL, false, &s2_4k);
    fault_at(&f, in);
    expect_fault(f.t, EVT_F_ADDR_SIZE, in, false, EVT_CLASS_IN, 0);
    vsmmu_qtest_quit(f.t);
}

static void test_fault_s2_permission(void)
{
    S2Fixture f;
    uint64_t ipa;

    fixture_setup(&f, SMMU_NESTED, NULL, true, &s2_4k);
    copy_a_to_b(&f, 0x51, NULL);
    /* stage 1 writable, stage 2 read-only */
    ipa = map_page(&f, IOVA_D, alloc_page(&f), VSMMU_PT_WRITE, VSMMU_PT_READ);
    vsmmu_assert_status_fault(f.t, vsmmu_testdev_copy(f.t, IOVA_A, IOVA_D, 8),
                              IOVA_D);
    expect_fault(f.t, EVT_F_PERMISSION, IOVA_D, true, EVT_CLASS_IN, ipa);
    vsmmu_qtest_quit(f.t);
}

/* S2AP without read: a read faults, a write works */
static void test_fault_s2_no_read(void)
{
    S2Fixture f;
    uint64_t ipa, b;

    fixture_setup(&f, SMMU_NESTED, NULL, false, &s2_4k);
    b = alloc_page(&f);
    ipa = map_page(&f, IOVA_D, b, VSMMU_PT_WRITE,
                   VSMMU_PT_WRITE | VSMMU_PT_NO_READ);
    copy_a_to_b(&f, 0x52, NULL);
    vsmmu_assert_status_ok(vsmmu_testdev_copy(f.t, IOVA_A, IOVA_D, 4096));
    g_assert_true(vsmmu_check_pattern(f.t, b, 4096, 0x52, 0));
    vsmmu_assert_status_fault(f.t, vsmmu_testdev_copy(f.t, IOVA_D, IOVA_B, 8),
                              IOVA_D);
    expect_fault(f.t, EVT_F_PERMISSION, IOVA_D, true, EVT_CLASS_IN, ipa);
    vsmmu_qtest_quit(f.t);
}

/* AF = 0 in a stage 2 descriptor: F_ACCESS, none with STE.S2AFFD */
static void test_fault_s2_access(void)
{
    S2Fixture f;
    uint64_t ipa;

    fixture_setup(&f, SMMU_NESTED, NULL, true, &s2_4k);
    ipa = map_page(&f, IOVA_A, alloc_page(&f), VSMMU_PT_READ,
                   VSMMU_PT_READ | VSMMU_PT_NO_AF);
    fault_at(&f, IOVA_A);
    expect_fault(f.t, EVT_F_ACCESS, IOVA_A, true, EVT_CLASS_IN, ipa);

    f.ste[2] = FIELD_DP64(f.ste[2], STE2, S2AFFD, 1);
    update_ste(&f);
    vsmmu_assert_status_ok(vsmmu_testdev_copy(f.t, IOVA_A, IOVA_D, 8));
    vsmmu_expect_no_event(f.t);
    vsmmu_qtest_quit(f.t);
}

/* A stage 2 output beyond the effective S2PS (44 bits): F_ADDR_SIZE */
static void test_fault_s2_addr_size(void)
{
    S2Fixture f;

    fixture_setup(&f, SMMU_NESTED, NULL, false, &s2_4k);
    vsmmu_pt_map(&f.s2, IOVA_A, 1ULL << 44, 4096, VSMMU_PT_READ);
    fault_at(&f, IOVA_A);
    expect_fault(f.t, EVT_F_ADDR_SIZE, IOVA_A, true, EVT_CLASS_IN, IOVA_A);
    vsmmu_qtest_quit(f.t);
}

/* STE.S2R = 0: stage 2 faults terminate silently */
static void test_fault_s2_no_record(void)
{
    S2Fixture f;

    fixture_setup(&f, SMMU_NESTED, NULL, true, &s2_4k);
    f.ste[2] = FIELD_DP64(f.ste[2], STE2, S2R, 0);
    update_ste(&f);
    map_page(&f, IOVA_A, alloc_page(&f), VSMMU_PT_READ, VSMMU_PT_READ);
    vsmmu_pt_unmap(&f.s2, f.next_ipa - 4096, 4096);
    fault_at(&f, IOVA_A);
    vsmmu_expect_no_event(f.t);
    /* ... while stage 1 faults follow CD.R */
    fault_at(&f, IOVA_C);
    expect_fault(f.t, EVT_F_TRANSLATION, IOVA_C, false, EVT_CLASS_IN, 0);
    vsmmu_qtest_quit(f.t);
}

/* Nested: no stage-1 mapping, a stage 1 fault (S2 = 0) */
static void test_fault_nested_s1(void)
{
    S2Fixture f;

    fixture_setup(&f, SMMU_NESTED, NULL, true, &s2_4k);
    fault_at(&f, IOVA_C);
    expect_fault(f.t, EVT_F_TRANSLATION, IOVA_C, false, EVT_CLASS_IN, 0);
    vsmmu_qtest_quit(f.t);
}

/* Nested: stage 1 maps to an IPA stage 2 does not: S2, CLASS IN, the IPA */
static void test_fault_nested_s2_data(void)
{
    S2Fixture f;
    uint64_t ipa;

    fixture_setup(&f, SMMU_NESTED, NULL, true, &s2_4k);
    ipa = map_page(&f, IOVA_A, alloc_page(&f), VSMMU_PT_READ, VSMMU_PT_READ);
    vsmmu_pt_unmap(&f.s2, ipa, 4096);
    fault_at(&f, IOVA_A);
    expect_fault(f.t, EVT_F_TRANSLATION, IOVA_A, true, EVT_CLASS_IN, ipa);
    vsmmu_qtest_quit(f.t);
}

/*
 * Nested: a stage-1 table whose IPA stage 2 does not map. The stage-1
 * tables are moved to the HOLE window, where only the pages the case
 * maps exist: TTB0's page (CLASS TT, the TTB0 IPA), or all but the
 * level-3 table (CLASS TT, that table's IPA).
 */
static void nested_s1_table_fault(bool ttb)
{
    S2Fixture f;
    VsmmuQtest *t;
    uint64_t l3 = 0, want;

    fixture_setup(&f, SMMU_NESTED, NULL, true, &s2_4k);
    t = f.t;
    vsmmu_pt_init(t, &f.s1, 4096, 48);
    f.s1.table_ipa_offset = HOLE_IPA_OFF;
    map_page(&f, IOVA_A, alloc_page(&f), VSMMU_PT_READ, VSMMU_PT_READ);
    vsmmu_cd_for_pgtable(f.cd, &f.s1, TEST_ASID);
    vsmmu_cd_write(t, f.cd_addr, f.cd);
    vsmmu_issue_sync(t, vsmmu_cmd_cfgi_cd(t->sid, 0, true));

    if (ttb) {
        want = f.s1.root + HOLE_IPA_OFF;
    } else {
        /* map every table but the last level's */
        uint64_t table = f.s1.root;

        for (int l = 0; l < 3; l++) {
            uint64_t desc;

            vsmmu_pt_map(&f.s2, table + HOLE_IPA_OFF, table, 4096,
                         VSMMU_PT_READ);
            desc = qtest_readq(t->qts, table +
                               ((IOVA_A >> (39 - 9 * l)) & 511) * 8);
            table = (desc & ~0xfffULL & ((1ULL << 48) - 1)) - HOLE_IPA_OFF;
        }
        l3 = table;
        want = l3 + HOLE_IPA_OFF;
    }
    fault_at(&f, IOVA_A);
    expect_fault(t, EVT_F_TRANSLATION, IOVA_A, true, EVT_CLASS_TT, want);
    vsmmu_qtest_quit(t);
}

static void test_fault_nested_ttb(void)
{
    nested_s1_table_fault(true);
}

static void test_fault_nested_table(void)
{
    nested_s1_table_fault(false);
}

/* Nested: the CD's IPA is not mapped by stage 2: S2, CLASS CD, its IPA */
static void test_fault_nested_cd(void)
{
    S2Fixture f;
    VsmmuQtest *t;
    uint64_t cd_ipa;

    fixture_setup(&f, SMMU_NESTED, NULL, true, &s2_4k);
    t = f.t;
    f.cdt.ipa_offset = HOLE_IPA_OFF;
    fixture_ste(&f);
    update_ste(&f);
    cd_ipa = f.cdt.base + HOLE_IPA_OFF;
    fault_at(&f, IOVA_A);
    expect_fault(t, EVT_F_TRANSLATION, IOVA_A, true, EVT_CLASS_CD, cd_ipa);

    /* not cached: mapped now, the stream translates */
    vsmmu_pt_map(&f.s2, cd_ipa & ~0xfffULL, f.cdt.base & ~0xfffULL, 4096,
                 VSMMU_PT_READ);
    map_page(&f, IOVA_A, alloc_page(&f), VSMMU_PT_READ, VSMMU_PT_READ);
    vsmmu_assert_status_ok(vsmmu_testdev_copy(t, IOVA_A, IOVA_D, 8));
    vsmmu_expect_no_event(t);
    vsmmu_qtest_quit(t);
}

/* Nested, 2-level CD table: the level-1 descriptor's page unmapped */
static void test_fault_nested_l1cd(void)
{
    S2Params p = s2_4k;
    S2Fixture f;
    VsmmuQtest *t;

    p.cdmax = 8;
    p.cd_fmt = STE_S1FMT_2LVL_4K;
    fixture_setup(&f, SMMU_NESTED, NULL, true, &p);
    t = f.t;
    f.cdt.ipa_offset = HOLE_IPA_OFF;
    fixture_ste(&f);
    update_ste(&f);
    fault_at(&f, IOVA_A);
    expect_fault(t, EVT_F_TRANSLATION, IOVA_A, true, EVT_CLASS_CD,
                 f.cdt.base + HOLE_IPA_OFF);
    vsmmu_qtest_quit(t);
}

/*
 * Walk external aborts: stage 2 tables where there is no RAM
 * (F_WALK_EABT, S2 = 1, CLASS IN, the descriptor's address); a nested
 * stream's stage-1 table in IPA space mapped onto no RAM (F_WALK_EABT,
 * S2 = 0, CLASS TT); its CD mapped onto no RAM (F_CD_FETCH)
 */
static void test_fault_s2_walk_eabt(void)
{
    S2Fixture f;
    VsmmuEvent ev;

    fixture_setup(&f, SMMU_NESTED, NULL, false, &s2_4k);
    f.ste[3] = FIELD_DP64(0, STE3, S2TTB, VSMMU_QTEST_NO_RAM_PA >> 4);
    update_ste(&f);
    fault_at(&f, IOVA_A);
    vsmmu_expect_event(f.t, EVT_F_WALK_EABT, &ev);
    g_assert_cmpuint(FIELD_EX64(ev.word[1], EVT1, S2), ==, 1);
    g_assert_cmpuint(FIELD_EX64(ev.word[1], EVT1, CLASS), ==, EVT_CLASS_IN);
    g_assert_cmphex(vsmmu_evt_fetch_addr(&ev) & ~0xfffULL, ==,
                    VSMMU_QTEST_NO_RAM_PA);
    vsmmu_qtest_quit(f.t);
}

static void test_fault_nested_s1_walk_eabt(void)
{
    S2Fixture f;
    VsmmuQtest *t;
    VsmmuEvent ev;

    fixture_setup(&f, SMMU_NESTED, NULL, true, &s2_4k);
    t = f.t;
    /* TTB0 at an IPA that stage 2 maps onto no RAM */
    vsmmu_pt_map(&f.s2, HOLE_IPA_OFF, VSMMU_QTEST_NO_RAM_PA, 4096,
                 VSMMU_PT_READ);
    f.cd[1] = FIELD_DP64(0, CD1, TTB0, HOLE_IPA_OFF >> 4);
    vsmmu_cd_write(t, f.cd_addr, f.cd);
    vsmmu_issue_sync(t, vsmmu_cmd_cfgi_cd(t->sid, 0, true));
    fault_at(&f, IOVA_A);
    vsmmu_expect_event(t, EVT_F_WALK_EABT, &ev);
    g_assert_cmpuint(FIELD_EX64(ev.word[1], EVT1, S2), ==, 0);
    g_assert_cmpuint(FIELD_EX64(ev.word[1], EVT1, CLASS), ==, EVT_CLASS_TT);
    g_assert_cmphex(vsmmu_evt_fetch_addr(&ev) & ~0xfffULL, ==,
                    VSMMU_QTEST_NO_RAM_PA);

    /* the CD itself on no RAM: F_CD_FETCH with its physical address */
    f.cdt.base = HOLE_IPA_OFF + 0x40;
    f.cdt.ipa_offset = 0;
    fixture_ste(&f);
    update_ste(&f);
    fault_at(&f, IOVA_A);
    vsmmu_expect_event(t, EVT_F_CD_FETCH, &ev);
    g_assert_cmphex(vsmmu_evt_fetch_addr(&ev), ==,
                    VSMMU_QTEST_NO_RAM_PA + 0x40);
    vsmmu_qtest_quit(t);
}

/* ---------------------------------------------------------------------- */
/* Invalidation                                                            */
/* ---------------------------------------------------------------------- */

/*
 * Remap input IOVA_A's page (stage 2 alone: its S2 page; nested: its S1
 * page to a new IPA, or with @s2_side its IPA's S2 page) to a page of
 * pattern 0x62 without invalidating: the cached translation still reads
 * the old page (0x61, "stale"); after @inval it reads the new one.
 */
typedef void InvalFn(S2Fixture *f);

static void stale_then_invalidate(bool nested, bool s2_side, InvalFn *inval)
{
    S2Fixture f;
    VsmmuQtest *t;
    uint64_t a, b, a2, ipa;

    fixture_setup(&f, SMMU_NESTED, NULL, nested, &s2_4k);
    t = f.t;
    b = copy_a_to_b(&f, 0x61, &a);
    a2 = alloc_page(&f);
    vsmmu_fill_pattern(t, a2, 4096, 0x62, 0);
    if (!nested) {
        vsmmu_pt_remap(&f.s2, IOVA_A, a2);
    } else if (s2_side) {
        ipa = DATA_IPA;         /* IOVA_A's IPA, the first one handed out */
        vsmmu_pt_remap(&f.s2, ipa, a2);
    } else {
        ipa = f.next_ipa;
        vsmmu_pt_map(&f.s2, ipa, a2, 4096, VSMMU_PT_READ);
        f.next_ipa += 4096;
        vsmmu_pt_remap(&f.s1, IOVA_A, ipa);
    }
    vsmmu_assert_status_ok(vsmmu_testdev_copy(t, IOVA_A, IOVA_B, 4096));
    g_assert_true(vsmmu_check_pattern(t, b, 4096, 0x61, 0));

    inval(&f);
    vsmmu_assert_status_ok(vsmmu_testdev_copy(t, IOVA_A, IOVA_B, 4096));
    g_assert_true(vsmmu_check_pattern(t, b, 4096, 0x62, 0));
    vsmmu_expect_no_event(t);
    vsmmu_qtest_quit(t);
}

static void inval_s2_ipa(S2Fixture *f)
{
    vsmmu_issue_sync(f->t, vsmmu_cmd_tlbi_s2_ipa(f->vmid, IOVA_A, true));
}

static void inval_s2_ipa_nested(S2Fixture *f)
{
    /* what Linux sends for a nesting parent: S2 by IPA, then S1 of VMID */
    vsmmu_issue_sync(f->t, vsmmu_cmd_tlbi_s2_ipa(f->vmid, DATA_IPA, true));
    vsmmu_issue_sync(f->t, vsmmu_cmd_with_vmid(vsmmu_cmd_tlbi_nh_all(),
                                               f->vmid));
}

static void inval_s12_vmall(S2Fixture *f)
{
    vsmmu_issue_sync(f->t, vsmmu_cmd_tlbi_s12_vmall(f->vmid));
}

static void inval_nh_va(S2Fixture *f)
{
    vsmmu_issue_sync(f->t, vsmmu_cmd_with_vmid(vsmmu_cmd_tlbi_nh_va(TEST_ASID,
                                                                    IOVA_A,
                                                                    true),
                                               f->vmid));
}

static void inval_nsnh_all(S2Fixture *f)
{
    vsmmu_issue_sync(f->t, vsmmu_cmd_tlbi_nsnh_all());
}

/* A range TLBI_S2_IPA: 2 pages of 4 KiB from IOVA_A - 4 KiB */
static void inval_s2_ipa_range(S2Fixture *f)
{
    vsmmu_issue_sync(f->t, vsmmu_cmd_tlbi_s2_ipa_range(f->vmid, IOVA_A - 4096,
                                                       true, CMD_TLBI_TG_4K, 3,
                                                       1, 0));
}

/* 32 << 20 pages from 4 KiB, over IOVA_A: more than 8 aligned pieces */
static void inval_s2_ipa_range_wide(S2Fixture *f)
{
    vsmmu_issue_sync(f->t, vsmmu_cmd_tlbi_s2_ipa_range(f->vmid, 0x1000, false,
                                                       CMD_TLBI_TG_4K, 0, 31,
                                                       20));
}

/* The invalidations stale_then_invalidate() runs, one test each */
typedef struct StaleCase {
    const char *path;
    bool nested;            /* S1 over S2, else stage 2 alone */
    bool s2_side;           /* nested: the S2 page changes, else the S1 */
    InvalFn *inval;
} StaleCase;

static const StaleCase stale_cases[] = {
    { "tlbi/s2-ipa", false, false, inval_s2_ipa },
    { "tlbi/s2-ipa-range", false, false, inval_s2_ipa_range },
    { "tlbi/s2-ipa-range-wide", false, false, inval_s2_ipa_range_wide },
    { "tlbi/s12-vmall-s2", false, false, inval_s12_vmall },
    { "tlbi/s12-vmall-nested", true, true, inval_s12_vmall },
    { "tlbi/s2-ipa-nested", true, true, inval_s2_ipa_nested },
    { "tlbi/nh-va-nested", true, false, inval_nh_va },
    { "tlbi/nsnh-all-nested", true, false, inval_nsnh_all },
};

static void test_stale(const void *opaque)
{
    const StaleCase *c = opaque;

    stale_then_invalidate(c->nested, c->s2_side, c->inval);
}

/* TLBI_S2_IPA and TLBI_S12_VMALL of another VMID leave ours cached */
static void test_tlbi_s2_other_vmid(void)
{
    S2Fixture f;
    VsmmuQtest *t;
    uint64_t a, b, a2;

    fixture_setup(&f, SMMU_NESTED, NULL, false, &s2_4k);
    t = f.t;
    b = copy_a_to_b(&f, 0x63, &a);
    a2 = alloc_page(&f);
    vsmmu_fill_pattern(t, a2, 4096, 0x64, 0);
    vsmmu_pt_remap(&f.s2, IOVA_A, a2);
    vsmmu_issue_sync(t, vsmmu_cmd_tlbi_s2_ipa(VMID_B, IOVA_A, true));
    vsmmu_issue_sync(t, vsmmu_cmd_tlbi_s12_vmall(VMID_B));
    vsmmu_assert_status_ok(vsmmu_testdev_copy(t, IOVA_A, IOVA_B, 4096));
    g_assert_true(vsmmu_check_pattern(t, b, 4096, 0x63, 0));
    vsmmu_issue_sync(t, vsmmu_cmd_tlbi_s2_ipa(VMID_A, IOVA_A, true));
    vsmmu_assert_status_ok(vsmmu_testdev_copy(t, IOVA_A, IOVA_B, 4096));
    g_assert_true(vsmmu_check_pattern(t, b, 4096, 0x64, 0));
    vsmmu_qtest_quit(t);
}

/*
 * VMID isolation: two nested streams (two devices) share the stage-1
 * tables and the ASID, with VMIDs A and B. After a stage-1 remap, a
 * stage-1 TLBI for VMID A refreshes the first stream only; the second
 * keeps its cached entry until a TLBI for VMID B.
 */
static void vmid_isolation(VsmmuCmd (*cmd)(void))
{
    S2Fixture f;
    VsmmuQtest *t, *t2;
    uint64_t ste2[VSMMU_STE_DWORDS];
    uint64_t a, b, b2, a2, ipa;

    fixture_setup(&f, SMMU_NESTED, TESTDEV2, true, &s2_4k);
    t = f.t;
    t2 = second_dev(t, TESTDEV2_DEVFN);
    memcpy(ste2, f.ste, sizeof(ste2));
    ste2[2] = FIELD_DP64(ste2[2], STE2, S2VMID, VMID_B);
    vsmmu_ste_write(t, t2->sid, ste2);
    vsmmu_issue_sync(t, vsmmu_cmd_cfgi_ste(t2->sid, true));

    b = copy_a_to_b(&f, 0x71, &a);
    b2 = alloc_page(&f);
    map_page(&f, IOVA_D, b2, VSMMU_PT_WRITE, VSMMU_PT_WRITE);
    vsmmu_assert_status_ok(vsmmu_testdev_copy(t2, IOVA_A, IOVA_D, 4096));
    g_assert_true(vsmmu_check_pattern(t, b2, 4096, 0x71, 0));

    a2 = alloc_page(&f);
    vsmmu_fill_pattern(t, a2, 4096, 0x72, 0);
    ipa = f.next_ipa;
    vsmmu_pt_map(&f.s2, ipa, a2, 4096, VSMMU_PT_READ);
    f.next_ipa += 4096;
    vsmmu_pt_remap(&f.s1, IOVA_A, ipa);

    vsmmu_issue_sync(t, vsmmu_cmd_with_vmid(cmd(), VMID_A));
    vsmmu_assert_status_ok(vsmmu_testdev_copy(t, IOVA_A, IOVA_B, 4096));
    g_assert_true(vsmmu_check_pattern(t, b, 4096, 0x72, 0));
    vsmmu_assert_status_ok(vsmmu_testdev_copy(t2, IOVA_A, IOVA_D, 4096));
    g_assert_true(vsmmu_check_pattern(t, b2, 4096, 0x71, 0));

    vsmmu_issue_sync(t, vsmmu_cmd_with_vmid(cmd(), VMID_B));
    vsmmu_assert_status_ok(vsmmu_testdev_copy(t2, IOVA_A, IOVA_D, 4096));
    g_assert_true(vsmmu_check_pattern(t, b2, 4096, 0x72, 0));
    vsmmu_expect_no_event(t);
    free_second_dev(t2);
    vsmmu_qtest_quit(t);
}

static VsmmuCmd cmd_nh_va(void)
{
    return vsmmu_cmd_tlbi_nh_va(TEST_ASID, IOVA_A, true);
}

static VsmmuCmd cmd_nh_vaa(void)
{
    return vsmmu_cmd_tlbi_nh_vaa(IOVA_A, true);
}

static VsmmuCmd cmd_nh_asid(void)
{
    return vsmmu_cmd_tlbi_nh_asid(TEST_ASID);
}

static VsmmuCmd cmd_nh_all(void)
{
    return vsmmu_cmd_tlbi_nh_all();
}

static VsmmuCmd cmd_s12_vmall(void)
{
    return vsmmu_cmd_tlbi_s12_vmall(0);
}

static void test_vmid_nh_va(void)
{
    vmid_isolation(cmd_nh_va);
}

static void test_vmid_nh_vaa(void)
{
    vmid_isolation(cmd_nh_vaa);
}

static void test_vmid_nh_asid(void)
{
    vmid_isolation(cmd_nh_asid);
}

static void test_vmid_nh_all(void)
{
    vmid_isolation(cmd_nh_all);
}

static void test_vmid_s12_vmall(void)
{
    vmid_isolation(cmd_s12_vmall);
}

/*
 * IOMMU notifiers hear the stage-2 TLBIs: an ATS endpoint's device-IOTLB
 * notifier on an SMMU without ATS hears every TLBI that reaches its
 * stream (vsmmu-ats-test, "no-ats-notifier"): TLBI_S2_IPA with the IPA
 * range, which is the input range of a stage-2-only stream, and
 * TLBI_S12_VMALL with everything.
 */
static void test_notify_s2_tlbis(void)
{
    QTestState *qts = qtest_init("-M virt -cpu max -nodefaults -m 512M "
                                 "-device vsmmu,primary-bus=pcie.0,"
                                 "stage=nested,ats=off "
                                 "-device vsmmu-ats-testdev,addr=1e.0");
    uint64_t ctrl;
    QPCIDevice *dev;
    QPCIBar bar;
    VsmmuQtest *t;

    t = g_new0(VsmmuQtest, 1);
    t->qts = qts;
    t->base = vsmmu_qtest_find_smmu(qts, &t->smmu_name);
    t->ram_next = VSMMU_QTEST_ALLOC_BASE;
    t->ram_end = VSMMU_QTEST_RAM_BASE + VSMMU_QTEST_RAM_SIZE;
    alloc_init(&t->alloc, 0, VSMMU_QTEST_RAM_BASE, VSMMU_QTEST_ALLOC_BASE,
               4096);
    qpci_init_generic(&t->pcibus, qts, &t->alloc, false);
    dev = qpci_device_find(&t->pcibus.bus, QPCI_DEVFN(0x1e, 0));
    g_assert_nonnull(dev);
    qpci_device_enable(dev);
    bar = qpci_iomap(dev, 0, NULL);
    g_assert_cmphex(qpci_io_readq(dev, bar, A_ATSTD_ID), ==,
                    VSMMU_ATS_TESTDEV_ID);
    vsmmu_strtab_linear(t, 8);
    vsmmu_bringup(t, 8, 4);
    vsmmu_enable(t);
    /* ATS enabled in the endpoint: its ATC registers the notifier */
    ctrl = t->pcibus.ecam_alloc_ptr + (QPCI_DEVFN(0x1e, 0) << 12) +
           VSMMU_ATS_TESTDEV_ATS_CAP + 6;
    qtest_writew(qts, ctrl, 0x8000);

    vsmmu_issue_sync(t, vsmmu_cmd_tlbi_s2_ipa_range(VMID_A, IOVA_A, true,
                                                    CMD_TLBI_TG_4K, 3, 1, 0));
    g_assert_cmpuint(qpci_io_readq(dev, bar, A_ATSTD_INV_COUNT), ==, 1);
    g_assert_cmphex(qpci_io_readq(dev, bar, A_ATSTD_INV_IOVA), ==, IOVA_A);
    g_assert_cmphex(qpci_io_readq(dev, bar, A_ATSTD_INV_MASK), ==, 0x1fff);
    vsmmu_issue_sync(t, vsmmu_cmd_tlbi_s12_vmall(VMID_A));
    g_assert_cmpuint(qpci_io_readq(dev, bar, A_ATSTD_INV_COUNT), ==, 2);
    g_assert_cmphex(qpci_io_readq(dev, bar, A_ATSTD_INV_IOVA), ==, 0);
    g_free(dev);
    vsmmu_qtest_quit(t);
}

/* ---------------------------------------------------------------------- */
/* C_BAD_STE for every invalid stage 2 field                               */
/* ---------------------------------------------------------------------- */

typedef struct BadSte {
    const char *path;
    unsigned word;              /* STE dword */
    unsigned shift, len;        /* the field */
    uint64_t val;
    bool nested;
} BadSte;

static const BadSte bad_stes[] = {
    /* AArch32 stage 2 tables: IDR0.TTF offers AArch64 only */
    { "s2aa64-0", 2, 51, 1, 0 },
    /* big-endian tables: IDR0.TTENDIAN is little-endian only */
    { "s2endi-1", 2, 52, 1, 1 },
    /* stalls: IDR0.STALL_MODEL = 0b01 */
    { "s2s-1", 2, 57, 1, 1 },
    /* hardware flag updates: IDR0.HTTU = 0 */
    { "s2ha-1", 2, 56, 1, 1 },
    { "s2hd-1", 2, 55, 1, 1 },
    { "s2tg-reserved", 2, 46, 2, 3 },
    /* 4KB granule, IAS 44: S2T0SZ in [20, 39] */
    { "s2t0sz-19", 2, 32, 6, 19 },
    { "s2t0sz-40", 2, 32, 6, 40 },
    { "s2t0sz-63", 2, 32, 6, 63 },
    { "s2t0sz-0", 2, 32, 6, 0 },
    /* 0b11 needs IDR3.STT */
    { "s2sl0-reserved", 2, 38, 2, 3 },
    /* 44-bit IPA starting at level 2: 23 bits, more than 16 tables */
    { "s2sl0-too-deep", 2, 38, 2, 0 },
    /* S2TTB beyond the effective S2PS (44 bits) */
    { "s2ttb-beyond-ps", 3, 44, 4, 1 },
    /* the same in a nested STE */
    { "nested-s2aa64-0", 2, 51, 1, 0, true },
    { "nested-s2t0sz-40", 2, 32, 6, 40, true },
    { "nested-s2ttb-beyond-ps", 3, 51, 1, 1, true },
};

static void test_bad_ste(const void *data)
{
    const BadSte *b = data;
    S2Fixture f;

    fixture_setup(&f, SMMU_NESTED, NULL, b->nested, &s2_4k);
    copy_a_to_b(&f, 0x81, NULL);
    f.ste[b->word] = deposit64(f.ste[b->word], b->shift, b->len, b->val);
    update_ste(&f);
    expect_bad_ste_dma(f.t);
    vsmmu_assert_alive(f.t);
    vsmmu_qtest_quit(f.t);
}

/*
 * S2SL0 consistent with S2T0SZ: 25-bit IPAs (S2T0SZ 39) cannot start at
 * level 0 (4 KiB: level 0 resolves bits 39 and up); 64 KiB granules start
 * at level 1 only with 52-bit addresses (OAS 44 here)
 */
static void test_bad_ste_sl0_shallow(void)
{
    S2Fixture f;

    fixture_setup(&f, SMMU_NESTED, NULL, false, &s2_4k);
    f.ste[2] = FIELD_DP64(f.ste[2], STE2, S2T0SZ, 39);
    f.ste[2] = FIELD_DP64(f.ste[2], STE2, S2SL0, 2);
    update_ste(&f);
    expect_bad_ste_dma(f.t);
    f.ste[2] = FIELD_DP64(f.ste[2], STE2, S2TG, STE_S2TG_64K);
    f.ste[2] = FIELD_DP64(f.ste[2], STE2, S2T0SZ, 20);
    f.ste[2] = FIELD_DP64(f.ste[2], STE2, S2SL0, 2);
    update_ste(&f);
    expect_bad_ste_dma(f.t);
    vsmmu_qtest_quit(f.t);
}

/* Split-stage ATS (EATS = 0b10) is not offered (IDR0.NS1ATS = 1) */
static void test_bad_ste_eats_split(void)
{
    S2Fixture f;

    fixture_setup(&f, "-device vsmmu,primary-bus=pcie.0,stage=nested,ats=on ",
                  NULL, true, &s2_4k);
    f.ste[1] = FIELD_DP64(f.ste[1], STE1, EATS, 2);
    update_ste(&f);
    expect_bad_ste_dma(f.t);
    vsmmu_qtest_quit(f.t);
}

/* S2FWB and S2PTW are accepted (memory types are not modelled) */
static void test_ste_fwb_ptw(void)
{
    S2Fixture f;

    fixture_setup(&f, SMMU_NESTED, NULL, true, &s2_4k);
    f.ste[1] = FIELD_DP64(f.ste[1], STE1, S2FWB, 1);
    f.ste[2] = FIELD_DP64(f.ste[2], STE2, S2PTW, 1);
    update_ste(&f);
    copy_a_to_b(&f, 0x82, NULL);
    vsmmu_expect_no_event(f.t);
    vsmmu_qtest_quit(f.t);
}

/* ---------------------------------------------------------------------- */
/* Reset and migration                                                     */
/* ---------------------------------------------------------------------- */

/*
 * After a system reset the SMMU is disabled and empty, still offers both
 * stages, and nothing cached before survives: the same IOVA, ASID and
 * VMID through new tables reach the new page
 */
static void test_reset(void)
{
    S2Fixture f;
    VsmmuQtest *t;
    uint64_t idr0, b;

    fixture_setup(&f, SMMU_NESTED, NULL, true, &s2_4k);
    t = f.t;
    idr0 = vsmmu_readl(t, A_IDR0);
    copy_a_to_b(&f, 0x91, NULL);

    qtest_system_reset(t->qts);
    g_assert_cmphex(vsmmu_readl(t, A_CR0), ==, 0);
    g_assert_cmphex(vsmmu_readq(t, A_STRTAB_BASE), ==, 0);
    g_assert_cmphex(vsmmu_readl(t, A_IDR0), ==, idr0);
    g_assert_cmpuint(FIELD_EX32(vsmmu_readl(t, A_IDR3), IDR3, FWB), ==, 1);

    vsmmu_qtest_rediscover(t);
    vsmmu_strtab_linear(t, 8);
    s2_init_table(&f, &s2_4k);
    nested_init_s1(&f, &s2_4k);
    fixture_ste(&f);
    vsmmu_ste_write(t, t->sid, f.ste);
    vsmmu_bringup(t, 8, 4);
    vsmmu_enable(t);
    b = copy_a_to_b(&f, 0x92, NULL);
    g_assert_true(vsmmu_check_pattern(t, b, 4096, 0x92, 0));
    vsmmu_qtest_quit(t);
}

static void wait_migration(QTestState *src, QTestState *dst)
{
    for (int i = 0; ; i++) {
        QDict *rsp = qtest_qmp(src, "{ 'execute': 'query-migrate' }");
        QDict *ret = qdict_get_qdict(rsp, "return");
        const char *status = qdict_get_try_str(ret, "status");
        bool done = status && !strcmp(status, "completed");

        g_assert_cmpstr(status, !=, "failed");
        qobject_unref(rsp);
        if (done) {
            break;
        }
        g_assert_cmpint(i, <, 3000);
        g_usleep(10000);
    }
    for (int i = 0; ; i++) {
        QDict *rsp = qtest_qmp(dst, "{ 'execute': 'query-status' }");
        QDict *ret = qdict_get_qdict(rsp, "return");
        const char *status = qdict_get_try_str(ret, "status");
        bool done = status && strcmp(status, "inmigrate");

        qobject_unref(rsp);
        if (done) {
            break;
        }
        g_assert_cmpint(i, <, 3000);
        g_usleep(10000);
    }
}

/*
 * Nothing of stage 2 is migrated state: the stage property is
 * configuration (both sides say stage=nested), the decoded STEs and the
 * TLBs are rebuilt from guest memory. A nested stream translates on the
 * destination, its stage 2 faults carry S2 and the IPA, and the stage 2
 * commands work.
 */
static void test_migration(void)
{
    g_autofree char *dir = g_dir_make_tmp("vsmmu-s2-mig-XXXXXX", NULL);
    g_autofree char *sock = g_strdup_printf("%s/sock", dir);
    g_autofree char *uri = g_strdup_printf("unix:%s", sock);
    g_autofree char *args = g_strdup_printf("-M virt -cpu max -nodefaults "
                                            "-m 512M %s %s", SMMU_NESTED,
                                            VSMMU_QTEST_TESTDEV);
    S2Fixture f;
    VsmmuQtest *src, *dst;
    QTestState *dst_qts;
    uint64_t a, b, a2, ipa;
    QDict *rsp;

    memset(&f, 0, sizeof(f));
    f.t = src = vsmmu_qtest_attach(qtest_init(args));
    f.nested = true;
    f.vmid = VMID_A;
    vsmmu_strtab_linear(src, 8);
    s2_init_table(&f, &s2_4k);
    nested_init_s1(&f, &s2_4k);
    fixture_ste(&f);
    vsmmu_ste_write(src, src->sid, f.ste);
    vsmmu_bringup(src, 8, 4);
    vsmmu_enable(src);
    b = copy_a_to_b(&f, 0xa1, &a);
    ipa = map_page(&f, IOVA_D, alloc_page(&f), VSMMU_PT_WRITE, VSMMU_PT_WRITE);
    vsmmu_pt_unmap(&f.s2, ipa, 4096);

    dst_qts = qtest_initf("%s -incoming %s", args, uri);
    rsp = qtest_qmp(src->qts, "{ 'execute': 'migrate', "
                    "'arguments': { 'uri': %s } }", uri);
    g_assert_true(qdict_haskey(rsp, "return"));
    qobject_unref(rsp);
    wait_migration(src->qts, dst_qts);

    dst = vsmmu_qtest_attach(dst_qts);
    dst->ram_next = src->ram_next;
    dst->strtab = src->strtab;
    dst->strtab_fmt = src->strtab_fmt;
    dst->strtab_log2size = src->strtab_log2size;
    dst->cmdq = src->cmdq;
    dst->evtq = src->evtq;
    vsmmu_qtest_quit(src);
    f.t = dst;
    f.s2.t = dst;
    f.s1.t = dst;

    g_assert_cmpuint(FIELD_EX32(vsmmu_readl(dst, A_IDR0), IDR0, S2P), ==, 1);
    g_assert_true(vsmmu_check_pattern(dst, b, 4096, 0xa1, 0));
    qtest_memset(dst->qts, b, 0, 4096);
    vsmmu_assert_status_ok(vsmmu_testdev_copy(dst, IOVA_A, IOVA_B, 4096));
    g_assert_true(vsmmu_check_pattern(dst, b, 4096, 0xa1, 0));
    vsmmu_assert_status_fault(dst, vsmmu_testdev_copy(dst, IOVA_A, IOVA_D, 8),
                              IOVA_D);
    expect_fault(dst, EVT_F_TRANSLATION, IOVA_D, true, EVT_CLASS_IN, ipa);

    a2 = alloc_page(&f);
    vsmmu_fill_pattern(dst, a2, 4096, 0xa2, 0);
    vsmmu_pt_remap(&f.s2, DATA_IPA, a2);
    inval_s2_ipa_nested(&f);
    vsmmu_assert_status_ok(vsmmu_testdev_copy(dst, IOVA_A, IOVA_B, 4096));
    g_assert_true(vsmmu_check_pattern(dst, b, 4096, 0xa2, 0));

    vsmmu_qtest_quit(dst);
    unlink(sock);
    rmdir(dir);
}

/* ---------------------------------------------------------------------- */
/* Hostile stage 2 programming: no hang, no crash, the architected result  */
/* ---------------------------------------------------------------------- */

/* S2TTB on the vsmmu's own registers: the walk aborts (RAM only) */
static void test_hostile_s2ttb_mmio(void)
{
    S2Fixture f;
    VsmmuEvent ev;

    fixture_setup(&f, SMMU_NESTED, NULL, false, &s2_4k);
    f.ste[3] = FIELD_DP64(0, STE3, S2TTB, f.t->base >> 4);
    update_ste(&f);
    fault_at(&f, IOVA_A);
    vsmmu_expect_event(f.t, EVT_F_WALK_EABT, &ev);
    g_assert_cmpuint(FIELD_EX64(ev.word[1], EVT1, S2), ==, 1);
    g_assert_cmphex(vsmmu_evt_fetch_addr(&ev) & ~0xffffULL, ==, f.t->base);
    vsmmu_assert_alive(f.t);
    g_assert_cmphex(vsmmu_gerror_active(f.t), ==, 0);
    vsmmu_qtest_quit(f.t);
}

/*
 * Nested: stage 2 maps the IPA of the stage-1 tables and of the CD onto
 * the vsmmu's registers: the stage-1 walk aborts (F_WALK_EABT, S2 = 0),
 * the CD fetch aborts (F_CD_FETCH); no register is read or written
 */
static void test_hostile_nested_ipa_on_mmio(void)
{
    S2Fixture f;
    VsmmuQtest *t;
    VsmmuEvent ev;
    uint32_t cr0;

    fixture_setup(&f, SMMU_NESTED, NULL, true, &s2_4k);
    t = f.t;
    cr0 = vsmmu_readl(t, A_CR0);
    vsmmu_pt_map(&f.s2, HOLE_IPA_OFF, t->base, 4096, VSMMU_PT_WRITE);
    f.cd[1] = FIELD_DP64(0, CD1, TTB0, HOLE_IPA_OFF >> 4);
    vsmmu_cd_write(t, f.cd_addr, f.cd);
    vsmmu_issue_sync(t, vsmmu_cmd_cfgi_cd(t->sid, 0, true));
    fault_at(&f, IOVA_A);
    vsmmu_expect_event(t, EVT_F_WALK_EABT, &ev);
    g_assert_cmpuint(FIELD_EX64(ev.word[1], EVT1, S2), ==, 0);

    f.cdt.base = HOLE_IPA_OFF + 0x80;
    f.cdt.ipa_offset = 0;
    fixture_ste(&f);
    update_ste(&f);
    fault_at(&f, IOVA_A);
    vsmmu_expect_event(t, EVT_F_CD_FETCH, &ev);
    g_assert_cmphex(vsmmu_evt_fetch_addr(&ev), ==, t->base + 0x80);
    g_assert_cmphex(vsmmu_readl(t, A_CR0), ==, cr0);
    vsmmu_assert_alive(t);
    vsmmu_qtest_quit(t);
}

/*
 * Self-referencing tables: every stage 2 descriptor of the root points at
 * the root (a table at levels 0 to 2, then a "page" at level 3), and a
 * nested stream whose stage-1 root does the same in IPA space. Each walk
 * is bounded by its levels: the access either translates (onto the table
 * page itself) or faults; QEMU answers and the queue runs on.
 */
static void test_hostile_self_ref(void)
{
    S2Fixture f;
    VsmmuQtest *t;
    g_autofree uint64_t *w = g_new(uint64_t, 512);
    uint64_t st;

    fixture_setup(&f, SMMU_NESTED, NULL, false, &s2_4k);
    t = f.t;
    for (int i = 0; i < 512; i++) {
        w[i] = f.s2.root | 0x7c3;   /* table/page, S2AP RW, AF, MemAttr */
    }
    vsmmu_write_words(t, f.s2.root, w, 32);   /* level 0: 32 entries */
    st = vsmmu_testdev_copy(t, IOVA_A, IOVA_A + 4096, 64);
    g_assert_true(st == VSMMU_TESTDEV_STATUS_OK ||
                  vsmmu_testdev_status_code(st) ==
                  VSMMU_TESTDEV_STATUS_DMA_ERROR);
    vsmmu_sync_none(t);
    vsmmu_assert_alive(t);
    vsmmu_qtest_quit(t);

    fixture_setup(&f, SMMU_NESTED, NULL, true, &s2_4k);
    t = f.t;
    for (int i = 0; i < 512; i++) {
        w[i] = (f.s1.root + TABLE_IPA_OFF) | 0x443;
    }
    vsmmu_write_words(t, f.s1.root, w, 512);
    vsmmu_issue_sync(t, vsmmu_cmd_tlbi_nsnh_all());
    st = vsmmu_testdev_copy(t, IOVA_A, IOVA_B, 64);
    g_assert_true(st == VSMMU_TESTDEV_STATUS_OK ||
                  vsmmu_testdev_status_code(st) ==
                  VSMMU_TESTDEV_STATUS_DMA_ERROR);
    vsmmu_sync_none(t);
    vsmmu_assert_alive(t);
    vsmmu_qtest_quit(t);
}

/*
 * The largest ranges of every stage-2 TLBI, thousands of them: bounded
 * work per doorbell (widened ranges), the queue drains, nothing breaks
 */
static void test_hostile_tlbi_flood(void)
{
    S2Fixture f;
    VsmmuQtest *t;
    g_autofree VsmmuCmd *cmds = g_new(VsmmuCmd, 200);

    fixture_setup(&f, SMMU_NESTED, NULL, true, &s2_4k);
    t = f.t;
    copy_a_to_b(&f, 0xb1, NULL);
    for (int i = 0; i < 200; i++) {
        switch (i % 4) {
        case 0:
            cmds[i] = vsmmu_cmd_tlbi_s2_ipa_range(i, 0x1000, false,
                                                  CMD_TLBI_TG_4K, 0, 31, 31);
            break;
        case 1:
            cmds[i] = vsmmu_cmd_tlbi_s12_vmall(0xffff - i);
            break;
        case 2:
            cmds[i] = vsmmu_cmd_with_vmid(
                vsmmu_cmd_tlbi_nh_va_range(TEST_ASID, 0x1000, false,
                                           CMD_TLBI_TG_4K, 0, 31, 31), i);
            break;
        default:
            cmds[i] = vsmmu_cmd_tlbi_s2_ipa_range(VMID_A, ~0ULL, true,
                                                  CMD_TLBI_TG_64K, 3, 31,
                                                  31);
            break;
        }
    }
    vsmmu_cmdq_push_list(t, cmds, 200);
    g_assert_cmpuint(vsmmu_cmdq_wait(t), ==, CERROR_NONE);
    vsmmu_sync_none(t);
    vsmmu_issue_sync(t, vsmmu_cmd_tlbi_s12_vmall(VMID_A));
    copy_a_to_b(&f, 0xb2, NULL);
    vsmmu_assert_alive(t);
    vsmmu_qtest_quit(t);
}

/* ---------------------------------------------------------------------- */
/* Registration                                                            */
/* ---------------------------------------------------------------------- */

static const struct {
    const char *path;
    GTestFunc fn;
} tests[] = {
    { "idr/nested", test_idr_nested },
    { "idr/s2", test_idr_s2 },
    { "idr/s1", test_idr_s1 },
    { "stage1/rejects-s2", test_stage1_rejects },
    { "stage2/rejects-s1", test_stage2_rejects },
    { "s2/4k", test_s2_4k },
    { "s2/16k", test_s2_16k },
    { "s2/64k", test_s2_64k },
    { "s2/stage2-only-smmu", test_s2_only_smmu },
    { "s2/concatenated", test_s2_concat },
    { "s2/block-2m", test_s2_block },
    { "nested/4k", test_nested_4k },
    { "nested/s1-64k-s2-16k", test_nested_s1_64k_s2_16k },
    { "nested/cd-2lvl", test_nested_cd_2lvl },
    { "nested/s1dss-bypass", test_nested_s1dss_bypass },
    { "nested/cached", test_nested_cached },
    { "s1/vmid-tagged", test_s1_on_nested_smmu },
    { "fault/s2-translation", test_fault_s2_translation },
    { "fault/s2-t0sz", test_fault_s2_t0sz },
    { "fault/s2-ias", test_fault_s2_ias },
    { "fault/s2-permission", test_fault_s2_permission },
    { "fault/s2-no-read", test_fault_s2_no_read },
    { "fault/s2-access", test_fault_s2_access },
    { "fault/s2-addr-size", test_fault_s2_addr_size },
    { "fault/s2-no-record", test_fault_s2_no_record },
    { "fault/s2-walk-eabt", test_fault_s2_walk_eabt },
    { "fault/nested-s1", test_fault_nested_s1 },
    { "fault/nested-s2-data", test_fault_nested_s2_data },
    { "fault/nested-ttb", test_fault_nested_ttb },
    { "fault/nested-table", test_fault_nested_table },
    { "fault/nested-cd", test_fault_nested_cd },
    { "fault/nested-l1cd", test_fault_nested_l1cd },
    { "fault/nested-s1-walk-eabt", test_fault_nested_s1_walk_eabt },
    { "tlbi/s2-other-vmid", test_tlbi_s2_other_vmid },
    { "vmid/nh-va", test_vmid_nh_va },
    { "vmid/nh-vaa", test_vmid_nh_vaa },
    { "vmid/nh-asid", test_vmid_nh_asid },
    { "vmid/nh-all", test_vmid_nh_all },
    { "vmid/s12-vmall", test_vmid_s12_vmall },
    { "notify/s2-tlbis", test_notify_s2_tlbis },
    { "bad-ste/s2sl0-shallow", test_bad_ste_sl0_shallow },
    { "bad-ste/eats-split", test_bad_ste_eats_split },
    { "ste/fwb-ptw", test_ste_fwb_ptw },
    { "reset", test_reset },
    { "migration", test_migration },
    { "hostile/s2ttb-mmio", test_hostile_s2ttb_mmio },
    { "hostile/nested-ipa-on-mmio", test_hostile_nested_ipa_on_mmio },
    { "hostile/self-ref", test_hostile_self_ref },
    { "hostile/tlbi-flood", test_hostile_tlbi_flood },
    { "reference/arm-smmuv3-s2-4k", test_reference_s2_4k },
    { "reference/arm-smmuv3-nested-4k", test_reference_nested_4k },
    { "reference/arm-smmuv3-s2-concatenated", test_reference_s2_concat },
};

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    for (int i = 0; i < ARRAY_SIZE(tests); i++) {
        g_autofree char *path = g_strdup_printf("/vsmmu-s2/%s",
                                                tests[i].path);

        vsmmu_qtest_add_isolated_func(path, tests[i].fn, TEST_TIMEOUT_S);
    }
    for (int i = 0; i < ARRAY_SIZE(stale_cases); i++) {
        g_autofree char *path = g_strdup_printf("/vsmmu-s2/%s",
                                                stale_cases[i].path);

        vsmmu_qtest_add_isolated(path, test_stale, &stale_cases[i],
                                 TEST_TIMEOUT_S);
    }
    for (int i = 0; i < ARRAY_SIZE(bad_stes); i++) {
        g_autofree char *path = g_strdup_printf("/vsmmu-s2/bad-ste/%s",
                                                bad_stes[i].path);

        vsmmu_qtest_add_isolated(path, test_bad_ste, &bad_stes[i],
                                 TEST_TIMEOUT_S);
    }
    vsmmu_qtest_add_isolated_fail("/vsmmu-s2/accel-stage-refused",
                                  test_accel_stage_refused, TEST_TIMEOUT_S,
                                  "*stage=nested needs accel=off*");
    vsmmu_qtest_add_isolated_fail("/vsmmu-s2/stage-bad-value",
                                  test_stage_bad_value, TEST_TIMEOUT_S,
                                  "*stage=3: expected 1, 2 or nested*");
    return g_test_run();
}
