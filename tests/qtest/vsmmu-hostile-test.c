/*
 * Hostile-guest qtests of the emulated vsmmu (docs/security.md): malformed
 * tables, queues and registers, tables and queues that point at device
 * registers (the vsmmu's own, another vsmmu's, the DMA test device's, the
 * GIC's), MSIs aimed at the vsmmu or at a device doorbell that does DMA,
 * queues full of the most expensive commands, odd-sized and misaligned
 * register accesses on every page (SMMU and CMDQV), CMDQV allocation edge
 * cases and crafted migration streams.
 *
 * Every case runs in its own QEMU, in a subprocess with a time limit, so a
 * hang, a deadlock or an abort fails that case only. Each asserts that QEMU
 * still answers afterwards (QMP and a register read) and the result the
 * architecture (IHI 0070) gives the guest. Where the architecture leaves a
 * choice (CONSTRAINED UNPREDICTABLE), the case accepts exactly the allowed
 * outcomes.
 *
 * VSMMU_HOSTILE_TIMEOUT (seconds, default 30) bounds each case.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/bswap.h"
#include "qobject/qdict.h"
#include "hw/arm/vsmmu/cmdqv-regs.h"
#include "vsmmu-qtest-lib.h"
#include "vsmmu-qtest-check.h"

#define DEFAULT_TIMEOUT_S       30

#define VSMMU_ARGS              VSMMU_QTEST_VSMMU VSMMU_QTEST_TESTDEV
#define CMDQV_ARGS              "-device vsmmu,primary-bus=pcie.0,cmdqv=on " \
                                VSMMU_QTEST_TESTDEV

/* IOVAs that are also RAM, so that a bypassing model writes where we look */
#define IOVA_A                  0x58000000ULL   /* mapped read-only */
#define IOVA_B                  0x58400000ULL   /* mapped writable */
/* In the TTB1 half of a 48-bit VA space (bit 55 set) */
#define IOVA_HI                 0xffff800058000000ULL
#define TEST_ASID               0x2a
#define OTHER_ASID              0x2b

/* virt: the GIC distributor */
#define VIRT_GICD               0x08000000ULL

/* Bounded polling of what the model may finish in later main-loop turns */
#define POLLS                   1000
#define BIG_POLLS               500000
#define POLL_NS                 100000

/* GBPA fields defined by the architecture (all but UPDATE) */
#define GBPA_FIELDS             0x001f3f1fu
/* GERROR/GERRORN fields of an SMMU with MSIs and without PRI, ECMDQ, DPT */
#define GERROR_FIELDS           0x000001b5u

/* ---------------------------------------------------------------------- */
/* Common helpers                                                          */
/* ---------------------------------------------------------------------- */

/*
 * What a case observed where the architecture allows a choice, or which
 * iteration it is in: to stderr, as the case runs in a subprocess whose
 * g_test_message() output is not shown.
 */
static void G_GNUC_PRINTF(1, 2) note(const char *fmt, ...)
{
    g_autofree char *msg = NULL;
    va_list ap;

    va_start(ap, fmt);
    msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    g_printerr("vsmmu-hostile: %s\n", msg);
}

static VsmmuQtest *start(const char *args)
{
    VsmmuQtest *t = vsmmu_qtest_start(args);

    g_assert_cmphex(t->base, !=, 0);
    g_assert_cmphex(t->sid, ==, VSMMU_QTEST_TESTDEV_SID);
    return t;
}

/* QEMU still answers: QMP, and the vsmmu's MMIO (not deadlocked) */
static void assert_alive_at(QTestState *qts, uint64_t smmu_base)
{
    QDict *rsp = qtest_qmp(qts, "{ 'execute': 'query-status' }");

    g_assert_true(qdict_haskey(rsp, "return"));
    qobject_unref(rsp);
    g_assert_cmphex(qtest_readl(qts, smmu_base + A_IDR0) & R_IDR0_S1P_MASK,
                    ==, R_IDR0_S1P_MASK);
}

static void assert_alive(VsmmuQtest *t)
{
    assert_alive_at(t->qts, t->base);
}

static void step(VsmmuQtest *t)
{
    qtest_clock_step(t->qts, POLL_NS);
}

/* Wait (bounded) until every error in @mask is active */
static bool wait_gerror(VsmmuQtest *t, uint32_t mask)
{
    for (int i = 0; i < POLLS; i++) {
        if ((vsmmu_gerror_active(t) & mask) == mask) {
            return true;
        }
        step(t);
    }
    g_printerr("GERROR 0x%x GERRORN 0x%x: 0x%x never became active\n",
               vsmmu_readl(t, A_GERROR), vsmmu_readl(t, A_GERRORN), mask);
    return false;
}

static void set_cr0(VsmmuQtest *t, uint32_t val)
{
    g_assert_true(vsmmu_set_cr0(t, val));
}

#define CR0_ALL (R_CR0_SMMUEN_MASK | R_CR0_EVENTQEN_MASK | R_CR0_CMDQEN_MASK)

/* One event, its id one of @ids (a CONSTRAINED UNPREDICTABLE choice) */
static unsigned expect_event_of(VsmmuQtest *t, const unsigned *ids,
                                unsigned n, VsmmuEvent *ev)
{
    vsmmu_sync_none(t);
    vsmmu_evtq_expect(t, ev);
    g_assert_cmphex(vsmmu_evt_sid(ev), ==, t->sid);
    for (unsigned i = 0; i < n; i++) {
        if (vsmmu_evt_id(ev) == ids[i]) {
            vsmmu_evtq_expect_none(t);
            return ids[i];
        }
    }
    g_printerr("unexpected event 0x%02x\n", vsmmu_evt_id(ev));
    g_assert_not_reached();
}

/* A copy between two RAM pages at identical IOVAs must fail (no bypass) */
static void assert_identity_copy_fails(VsmmuQtest *t)
{
    uint64_t a = vsmmu_alloc(t, 4096, 4096);
    uint64_t b = vsmmu_alloc(t, 4096, 4096);

    qtest_memset(t->qts, a, 0x3c, 4096);
    vsmmu_assert_status_fault(t, vsmmu_testdev_copy(t, a, b, 4096), a);
    g_assert_true(vsmmu_check_byte(t->qts, b, 4096, 0));
}

/* ... and must work (bypass) */
static void assert_identity_copy(VsmmuQtest *t)
{
    uint64_t a = vsmmu_alloc(t, 4096, 4096);
    uint64_t b = vsmmu_alloc(t, 4096, 4096);

    qtest_memset(t->qts, a, 0x3d, 4096);
    vsmmu_assert_status_ok(vsmmu_testdev_copy(t, a, b, 4096));
    g_assert_true(vsmmu_check_byte(t->qts, b, 4096, 0x3d));
}

/* Linear stream table with a bypass STE for the test device, all enabled */
static VsmmuQtest *start_bypass(const char *args)
{
    VsmmuQtest *t = start(args);
    uint64_t ste[VSMMU_STE_DWORDS];

    vsmmu_strtab_linear(t, 8);
    vsmmu_ste_bypass(ste);
    vsmmu_ste_write(t, t->sid, ste);
    vsmmu_bringup(t, 8, 4);
    vsmmu_enable(t);
    return t;
}

/* The same with no valid STE at all: every DMA gives C_BAD_STE */
static VsmmuQtest *start_invalid_ste(const char *args)
{
    VsmmuQtest *t = start(args);

    vsmmu_strtab_linear(t, 8);
    vsmmu_bringup(t, 8, 4);
    vsmmu_enable(t);
    return t;
}

/* Snapshot of 32-bit registers at @base + offs[i] */
static void snapshot(QTestState *qts, uint64_t base, const uint32_t *offs,
                     unsigned n, uint32_t *out)
{
    for (unsigned i = 0; i < n; i++) {
        out[i] = qtest_readl(qts, base + offs[i]);
    }
}

static void assert_snapshot(QTestState *qts, uint64_t base,
                            const uint32_t *offs, unsigned n,
                            const uint32_t *before)
{
    for (unsigned i = 0; i < n; i++) {
        uint32_t now = qtest_readl(qts, base + offs[i]);

        if (now != before[i]) {
            g_printerr("register 0x%x: 0x%x, was 0x%x\n", offs[i], now,
                       before[i]);
        }
        g_assert_cmphex(now, ==, before[i]);
    }
}

/* SMMU registers that no guest MSI or table access may change */
static const uint32_t smmu_regs[] = {
    A_CR0, A_CR0ACK, A_CR1, A_CR2, A_GBPA, A_IRQ_CTRL, A_GERRORN,
    A_STRTAB_BASE, A_STRTAB_BASE + 4, A_STRTAB_BASE_CFG, A_CMDQ_BASE,
    A_CMDQ_BASE + 4, A_EVENTQ_BASE, A_EVENTQ_BASE + 4,
    VSMMU_PAGE1_EVENTQ_CONS,
};

/* ---------------------------------------------------------------------- */
/* Stage 1 fixture: IOVA_A -> src (read), IOVA_B -> dst (write)            */
/* ---------------------------------------------------------------------- */

typedef struct Fx {
    VsmmuQtest *t;
    VsmmuPgtable pt;
    VsmmuCdTable cdt;
    uint64_t cd_addr;
    uint64_t cd[VSMMU_CD_DWORDS];
    uint64_t ste[VSMMU_STE_DWORDS];
    uint64_t src, dst;
} Fx;

static void fx_setup_args(Fx *f, const char *args)
{
    VsmmuQtest *t;

    memset(f, 0, sizeof(*f));
    f->t = t = start(args);
    vsmmu_strtab_linear(t, 8);
    vsmmu_pt_init(t, &f->pt, 4096, 48);
    vsmmu_cd_table_linear(t, &f->cdt, 0);
    f->cd_addr = vsmmu_cd_addr(t, &f->cdt, 0);
    vsmmu_cd_for_pgtable(f->cd, &f->pt, TEST_ASID);
    vsmmu_cd_write(t, f->cd_addr, f->cd);
    vsmmu_ste_s1(f->ste, f->cdt.base, f->cdt.fmt, 0, STE_S1DSS_TERMINATE);
    vsmmu_ste_write(t, t->sid, f->ste);
    vsmmu_bringup(t, 8, 4);
    vsmmu_enable(t);

    f->src = vsmmu_alloc(t, 4096, 4096);
    f->dst = vsmmu_alloc(t, 4096, 4096);
    qtest_memset(t->qts, f->src, 0x5c, 4096);
    vsmmu_pt_map(&f->pt, IOVA_A, f->src, 4096, VSMMU_PT_READ);
    vsmmu_pt_map(&f->pt, IOVA_B, f->dst, 4096, VSMMU_PT_WRITE);
}

static void fx_setup(Fx *f)
{
    fx_setup_args(f, VSMMU_ARGS);
}

static void fx_update_cd(Fx *f)
{
    vsmmu_cd_write(f->t, f->cd_addr, f->cd);
    vsmmu_issue_sync(f->t, vsmmu_cmd_cfgi_cd(f->t->sid, 0, true));
    vsmmu_issue_sync(f->t, vsmmu_cmd_tlbi_nh_all());
}

static void fx_update_ste(Fx *f)
{
    vsmmu_ste_write(f->t, f->t->sid, f->ste);
    vsmmu_issue_sync(f->t, vsmmu_cmd_cfgi_ste(f->t->sid, true));
    vsmmu_issue_sync(f->t, vsmmu_cmd_tlbi_nh_all());
}

/* The stage 1 copy works: IOVA_A's page lands in dst */
static void fx_copy_ok(Fx *f)
{
    qtest_memset(f->t->qts, f->dst, 0, 4096);
    vsmmu_assert_status_ok(vsmmu_testdev_copy(f->t, IOVA_A, IOVA_B, 4096));
    g_assert_true(vsmmu_check_byte(f->t->qts, f->dst, 4096, 0x5c));
}

/* The stage 1 copy fails on its first read, dst untouched */
static void fx_copy_fails(Fx *f)
{
    qtest_memset(f->t->qts, f->dst, 0, 4096);
    vsmmu_assert_status_fault(f->t, vsmmu_testdev_copy(f->t, IOVA_A, IOVA_B,
                                                       4096), IOVA_A);
    g_assert_true(vsmmu_check_byte(f->t->qts, f->dst, 4096, 0));
}

static void fx_end(Fx *f)
{
    assert_alive(f->t);
    vsmmu_qtest_quit(f->t);
}

/* ---------------------------------------------------------------------- */
/* 1. The disabled half of a CD                                            */
/* ---------------------------------------------------------------------- */

/*
 * EPD0 = 1 with T0SZ in 1..8 and TBI0 = 1: the disabled half's TxSZ still
 * bounds it, so IOVA_A lies in the TTB0 region whose walks are disabled:
 * F_TRANSLATION (CD.R = 1) and the DMA fails.
 */
static void test_cd_epd0_small_t0sz_tbi(void)
{
    static const unsigned tsz[] = { 1, 5, 8 };
    Fx f;

    fx_setup(&f);
    for (int i = 0; i < ARRAY_SIZE(tsz); i++) {
        f.cd[0] = FIELD_DP64(f.cd[0], CD0, EPD0, 1);
        f.cd[0] = FIELD_DP64(f.cd[0], CD0, T0SZ, tsz[i]);
        f.cd[0] = FIELD_DP64(f.cd[0], CD0, TBI0, 1);
        fx_update_cd(&f);
        fx_copy_fails(&f);
        vsmmu_expect_fault(f.t, EVT_F_TRANSLATION, IOVA_A, true);
        assert_alive(f.t);
    }
    fx_end(&f);
}

/*
 * The twin: EPD1 = 1, T1SZ in 1..8, TBI1 = 1, an IOVA with bit 55 set;
 * with TBI0 clear and set (the enabled half's TBI must not matter).
 */
static void test_cd_epd1_small_t1sz_tbi(void)
{
    static const unsigned tsz[] = { 1, 5, 8 };
    Fx f;

    fx_setup(&f);
    for (int i = 0; i < 2 * ARRAY_SIZE(tsz); i++) {
        f.cd[0] = FIELD_DP64(f.cd[0], CD0, EPD1, 1);
        f.cd[0] = FIELD_DP64(f.cd[0], CD0, T1SZ, tsz[i / 2]);
        f.cd[0] = FIELD_DP64(f.cd[0], CD0, TBI1, 1);
        f.cd[0] = FIELD_DP64(f.cd[0], CD0, TBI0, i % 2);
        fx_update_cd(&f);
        qtest_memset(f.t->qts, f.dst, 0, 4096);
        vsmmu_assert_status_fault(f.t, vsmmu_testdev_copy(f.t, IOVA_HI, IOVA_B,
                                                          64), IOVA_HI);
        g_assert_true(vsmmu_check_byte(f.t->qts, f.dst, 64, 0));
        vsmmu_expect_fault(f.t, EVT_F_TRANSLATION, IOVA_HI, true);
        /* the enabled TTB0 half still translates */
        fx_copy_ok(&f);
    }
    fx_end(&f);
}

/* ---------------------------------------------------------------------- */
/* 2. Tables and queues on device registers; MSIs at device registers     */
/* ---------------------------------------------------------------------- */

/* The stream table on the vsmmu's own registers: F_STE_FETCH */
static void test_strtab_own_mmio(void)
{
    VsmmuQtest *t = start(VSMMU_ARGS);
    uint32_t regs[ARRAY_SIZE(smmu_regs)];
    VsmmuEvent ev;

    vsmmu_strtab_linear(t, 8);
    vsmmu_bringup(t, 8, 4);
    vsmmu_writeq(t, A_STRTAB_BASE, t->base | R_STRTAB_BASE_RA_MASK);
    vsmmu_enable(t);
    snapshot(t->qts, t->base, smmu_regs, ARRAY_SIZE(smmu_regs), regs);
    assert_identity_copy_fails(t);
    assert_snapshot(t->qts, t->base, smmu_regs, ARRAY_SIZE(smmu_regs), regs);
    vsmmu_expect_event(t, EVT_F_STE_FETCH, &ev);
    g_assert_cmphex(vsmmu_evt_fetch_addr(&ev) & ~63ULL, ==,
                    t->base + t->sid * VSMMU_STE_SIZE);
    assert_alive(t);
    vsmmu_qtest_quit(t);
}

/*
 * A 2-level stream table whose level 1 lies on the test device's BAR, so
 * the L1STD of our StreamID is the device's LEN register, and the fetch
 * happens while that device's DMA is being translated: F_STE_FETCH.
 */
static void test_strtab_testdev_bar(void)
{
    VsmmuQtest *t = start(VSMMU_ARGS);
    uint32_t cfg = 0;
    uint64_t l1 = t->bar.addr;
    VsmmuEvent ev;

    vsmmu_bringup(t, 8, 4);
    cfg = FIELD_DP32(cfg, STRTAB_BASE_CFG, FMT, STRTAB_FMT_2LVL);
    cfg = FIELD_DP32(cfg, STRTAB_BASE_CFG, SPLIT, 6);
    /* 4 L1 descriptors: the table is aligned to 64 bytes only */
    cfg = FIELD_DP32(cfg, STRTAB_BASE_CFG, LOG2SIZE, 8);
    vsmmu_writeq(t, A_STRTAB_BASE, l1);
    vsmmu_writel(t, A_STRTAB_BASE_CFG, cfg);
    vsmmu_enable(t);
    /* L1 index StreamID[7:6] = 3: offset 0x18, TESTDEV_LEN */
    g_assert_cmpuint((t->sid >> 6) * 8, ==, A_TESTDEV_LEN);
    assert_identity_copy_fails(t);
    vsmmu_expect_event(t, EVT_F_STE_FETCH, &ev);
    g_assert_cmphex(vsmmu_evt_fetch_addr(&ev), ==, l1 + A_TESTDEV_LEN);
    g_assert_cmpuint(vsmmu_testdev_readq(t, A_TESTDEV_ID), ==,
                     VSMMU_DMA_TESTDEV_ID);
    assert_alive(t);
    vsmmu_qtest_quit(t);
}

/* The stream table on the GIC distributor: F_STE_FETCH */
static void test_strtab_gic(void)
{
    VsmmuQtest *t = start(VSMMU_ARGS);
    VsmmuEvent ev;

    vsmmu_strtab_linear(t, 8);
    vsmmu_bringup(t, 8, 4);
    vsmmu_writeq(t, A_STRTAB_BASE, VIRT_GICD);
    vsmmu_enable(t);
    assert_identity_copy_fails(t);
    vsmmu_expect_event(t, EVT_F_STE_FETCH, &ev);
    g_assert_cmphex(vsmmu_evt_fetch_addr(&ev) & ~63ULL, ==,
                    VIRT_GICD + t->sid * VSMMU_STE_SIZE);
    assert_alive(t);
    vsmmu_qtest_quit(t);
}

/* Level 1 descriptor whose L2Ptr is the vsmmu's own page 0: F_STE_FETCH */
static void test_l1std_own_mmio(void)
{
    VsmmuQtest *t = start(VSMMU_ARGS);
    uint64_t l1 = vsmmu_strtab_2lvl(t, 16, 6) + (t->sid >> 6) * 8;
    uint64_t desc = FIELD_DP64(0, L1STD, L2PTR, t->base >> 6);
    uint32_t regs[ARRAY_SIZE(smmu_regs)];
    VsmmuEvent ev;

    desc = FIELD_DP64(desc, L1STD, SPAN, 7);
    qtest_writeq(t->qts, l1, desc);
    vsmmu_bringup(t, 8, 4);
    vsmmu_enable(t);
    snapshot(t->qts, t->base, smmu_regs, ARRAY_SIZE(smmu_regs), regs);
    assert_identity_copy_fails(t);
    assert_snapshot(t->qts, t->base, smmu_regs, ARRAY_SIZE(smmu_regs), regs);
    vsmmu_expect_event(t, EVT_F_STE_FETCH, &ev);
    g_assert_cmphex(vsmmu_evt_fetch_addr(&ev) & ~63ULL, ==,
                    t->base + (t->sid & 63) * VSMMU_STE_SIZE);
    assert_alive(t);
    vsmmu_qtest_quit(t);
}

/* STE.S1ContextPtr at the vsmmu's own registers: F_CD_FETCH */
static void test_cd_own_mmio(void)
{
    VsmmuEvent ev;
    Fx f;

    fx_setup(&f);
    f.ste[0] = FIELD_DP64(f.ste[0], STE0, S1CTXPTR, f.t->base >> 6);
    fx_update_ste(&f);
    fx_copy_fails(&f);
    vsmmu_expect_event(f.t, EVT_F_CD_FETCH, &ev);
    g_assert_cmphex(vsmmu_evt_fetch_addr(&ev) & ~63ULL, ==, f.t->base);
    fx_end(&f);
}

/* CD.TTB0 at the vsmmu's own registers: F_WALK_EABT at the L0 entry */
static void test_ttb_own_mmio(void)
{
    VsmmuEvent ev;
    Fx f;

    fx_setup(&f);
    f.cd[1] = FIELD_DP64(f.cd[1], CD1, TTB0, f.t->base >> 4);
    fx_update_cd(&f);
    fx_copy_fails(&f);
    vsmmu_expect_event(f.t, EVT_F_WALK_EABT, &ev);
    g_assert_cmphex(vsmmu_evt_input_addr(&ev), ==, IOVA_A);
    g_assert_cmpuint(FIELD_EX64(ev.word[1], EVT1, CLASS), ==, EVT_CLASS_TT);
    /* IOVA_A[47:39] == 0: the first descriptor of the table */
    g_assert_cmphex(vsmmu_evt_fetch_addr(&ev) & ~7ULL, ==, f.t->base);
    fx_end(&f);
}

/*
 * EVENTQ_BASE on the vsmmu's own CR0..CR2: the record is not written
 * there, GERROR.EVENTQ_ABT_ERR is raised, and the queue records nothing
 * (even moved back to RAM) until the error is acknowledged.
 */
static void test_evtq_own_mmio(void)
{
    VsmmuQtest *t = start_invalid_ste(VSMMU_ARGS);
    uint32_t regs[ARRAY_SIZE(smmu_regs)];
    uint64_t evtq = t->base + A_CR0;

    set_cr0(t, R_CR0_SMMUEN_MASK | R_CR0_CMDQEN_MASK);
    /* One 32-byte entry over CR0, CR0ACK, CR1, CR2 */
    vsmmu_writeq(t, A_EVENTQ_BASE, evtq);
    vsmmu_writel(t, VSMMU_PAGE1_EVENTQ_PROD, 0);
    vsmmu_writel(t, VSMMU_PAGE1_EVENTQ_CONS, 0);
    set_cr0(t, CR0_ALL);
    snapshot(t->qts, t->base, smmu_regs, ARRAY_SIZE(smmu_regs), regs);

    assert_identity_copy_fails(t);
    vsmmu_sync_none(t);
    g_assert_true(wait_gerror(t, R_GERROR_EVENTQ_ABT_ERR_MASK));
    assert_snapshot(t->qts, t->base, smmu_regs, ARRAY_SIZE(smmu_regs), regs);
    g_assert_cmphex(vsmmu_readl(t, VSMMU_PAGE1_EVENTQ_PROD), ==, 0);

    /* Back in RAM, error still active: nothing is recorded */
    set_cr0(t, R_CR0_SMMUEN_MASK | R_CR0_CMDQEN_MASK);
    vsmmu_evtq_init(t, 4);
    set_cr0(t, CR0_ALL);
    assert_identity_copy_fails(t);
    vsmmu_sync_none(t);
    for (int i = 0; i < 10; i++) {
        step(t);
    }
    g_assert_cmpuint(vsmmu_evtq_pending(t), ==, 0);

    /* Acknowledged: recorded again */
    vsmmu_gerror_ack(t, R_GERROR_EVENTQ_ABT_ERR_MASK);
    g_assert_cmphex(vsmmu_gerror_active(t), ==, 0);
    assert_identity_copy_fails(t);
    vsmmu_expect_event(t, EVT_C_BAD_STE, NULL);
    assert_alive(t);
    vsmmu_qtest_quit(t);
}

/* Program the command queue at @base (raw CMDQ_BASE value), empty */
static void cmdq_move(VsmmuQtest *t, uint64_t reg, unsigned log2size)
{
    uint32_t cr0 = vsmmu_readl(t, A_CR0);

    set_cr0(t, cr0 & ~R_CR0_CMDQEN_MASK);
    vsmmu_writeq(t, A_CMDQ_BASE, reg);
    vsmmu_writel(t, A_CMDQ_PROD, 0);
    vsmmu_writel(t, A_CMDQ_CONS, 0);
    t->cmdq.base = FIELD_EX64(reg, QUEUE_BASE, ADDR) << R_QUEUE_BASE_ADDR_SHIFT;
    t->cmdq.log2size = log2size;
    t->cmdq.prod = 0;
    set_cr0(t, cr0 | R_CR0_CMDQEN_MASK);
}

/* A command queue on device registers: CERROR_ABT on the first command */
static void cmdq_on_device(VsmmuQtest *t, uint64_t addr)
{
    uint32_t regs[ARRAY_SIZE(smmu_regs)];

    cmdq_move(t, addr, 0);
    snapshot(t->qts, t->base, smmu_regs, ARRAY_SIZE(smmu_regs), regs);
    t->cmdq.prod = 1;
    vsmmu_writel(t, A_CMDQ_PROD, 1);
    g_assert_cmphex(vsmmu_cmdq_wait(t), ==, CERROR_ABT);
    g_assert_cmphex(vsmmu_readl(t, A_CMDQ_PROD), ==, 1);
    g_assert_cmphex(vsmmu_readl(t, A_CMDQ_CONS) & 1, ==, 0);
    g_assert_true(vsmmu_gerror_active(t) & R_GERROR_CMDQ_ERR_MASK);
    assert_snapshot(t->qts, t->base, smmu_regs, ARRAY_SIZE(smmu_regs), regs);
}

/* CMDQ_BASE on the vsmmu's own CR0 (whose value reads as CFGI_CD) */
static void test_cmdq_own_mmio(void)
{
    VsmmuQtest *t = start_bypass(VSMMU_ARGS);

    cmdq_on_device(t, t->base + A_CR0);
    assert_identity_copy(t);
    assert_alive(t);
    vsmmu_qtest_quit(t);
}

/* CMDQ_BASE on the test device's BAR */
static void test_cmdq_testdev_bar(void)
{
    VsmmuQtest *t = start_bypass(VSMMU_ARGS);

    cmdq_on_device(t, t->bar.addr);
    g_assert_cmpuint(vsmmu_testdev_readq(t, A_TESTDEV_DONE_COUNT), ==, 0);
    assert_alive(t);
    vsmmu_qtest_quit(t);
}

/* A CMD_SYNC whose MSI targets @addr: consumed, MSI_CMDQ_ABT_ERR */
static void sync_msi_aborts(VsmmuQtest *t, uint64_t addr, uint32_t data)
{
    uint32_t regs[ARRAY_SIZE(smmu_regs)];

    snapshot(t->qts, t->base, smmu_regs, ARRAY_SIZE(smmu_regs), regs);
    g_assert_cmpuint(vsmmu_cmdq_issue(t, vsmmu_cmd_sync(CMD_SYNC_SIG_IRQ,
                                                        addr, data)),
                     ==, CERROR_NONE);
    g_assert_true(wait_gerror(t, R_GERROR_MSI_CMDQ_ABT_ERR_MASK));
    g_assert_false(vsmmu_gerror_active(t) & R_GERROR_CMDQ_ERR_MASK);
    g_assert_cmphex(vsmmu_readl(t, A_CMDQ_PROD), ==, t->cmdq.prod);
    assert_snapshot(t->qts, t->base, smmu_regs, ARRAY_SIZE(smmu_regs), regs);
    vsmmu_gerror_ack(t, R_GERROR_MSI_CMDQ_ABT_ERR_MASK);
    g_assert_cmphex(vsmmu_gerror_active(t), ==, 0);
}

/* CMD_SYNC MSI at the vsmmu's own CMDQ_PROD */
static void test_sync_msi_own_prod(void)
{
    VsmmuQtest *t = start_bypass(VSMMU_ARGS);

    sync_msi_aborts(t, t->base + A_CMDQ_PROD, 0x1ff);
    vsmmu_sync_none(t);
    assert_identity_copy(t);
    assert_alive(t);
    vsmmu_qtest_quit(t);
}

/* ... and at other registers of its own, which the data would upset */
static void test_sync_msi_own_regs(void)
{
    static const struct {
        uint32_t off;
        uint32_t data;
    } target[] = {
        { A_CR0, 0 }, { A_GERRORN, ~0u }, { A_STRTAB_BASE_CFG, 0 },
        { A_IRQ_CTRL, ~0u }, { A_GBPA, ~0u }, { A_CMDQ_CONS, ~0u },
        { VSMMU_PAGE1_EVENTQ_CONS, ~0u }, { A_STRTAB_BASE, 0 },
    };
    VsmmuQtest *t = start_bypass(VSMMU_ARGS);

    for (int i = 0; i < ARRAY_SIZE(target); i++) {
        note("MSI at register 0x%x", target[i].off);
        sync_msi_aborts(t, t->base + target[i].off, target[i].data);
    }
    assert_identity_copy(t);
    assert_alive(t);
    vsmmu_qtest_quit(t);
}

/* EVENTQ_IRQ_CFG0 at the vsmmu's CR0: record kept, MSI_EVENTQ_ABT_ERR */
static void test_evtq_msi_own(void)
{
    VsmmuQtest *t = start_invalid_ste(VSMMU_ARGS);
    uint32_t regs[ARRAY_SIZE(smmu_regs)];

    vsmmu_writeq(t, A_EVENTQ_IRQ_CFG0, t->base + A_CR0);
    vsmmu_writel(t, A_EVENTQ_IRQ_CFG1, 0);
    vsmmu_writel(t, A_IRQ_CTRL, R_IRQ_CTRL_EVENTQ_IRQEN_MASK);
    snapshot(t->qts, t->base, smmu_regs, ARRAY_SIZE(smmu_regs), regs);
    assert_identity_copy_fails(t);
    vsmmu_sync_none(t);
    g_assert_true(wait_gerror(t, R_GERROR_MSI_EVENTQ_ABT_ERR_MASK));
    assert_snapshot(t->qts, t->base, smmu_regs, ARRAY_SIZE(smmu_regs), regs);
    vsmmu_expect_event(t, EVT_C_BAD_STE, NULL);
    assert_alive(t);
    vsmmu_qtest_quit(t);
}

/* GERROR_IRQ_CFG0 at the vsmmu's CR0: MSI_GERROR_ABT_ERR */
static void test_gerror_msi_own(void)
{
    VsmmuQtest *t = start_bypass(VSMMU_ARGS);
    uint32_t regs[ARRAY_SIZE(smmu_regs)];

    vsmmu_writeq(t, A_GERROR_IRQ_CFG0, t->base + A_CR0);
    vsmmu_writel(t, A_GERROR_IRQ_CFG1, 0);
    vsmmu_writel(t, A_IRQ_CTRL, R_IRQ_CTRL_GERROR_IRQEN_MASK);
    snapshot(t->qts, t->base, smmu_regs, ARRAY_SIZE(smmu_regs), regs);
    /* An illegal command raises CMDQ_ERR, whose MSI aborts */
    g_assert_cmphex(vsmmu_cmdq_issue(t, vsmmu_cmd_raw(0xff, 0)), ==,
                    CERROR_ILL);
    g_assert_true(wait_gerror(t, R_GERROR_CMDQ_ERR_MASK |
                              R_GERROR_MSI_GERROR_ABT_ERR_MASK));
    assert_snapshot(t->qts, t->base, smmu_regs, ARRAY_SIZE(smmu_regs), regs);
    assert_identity_copy(t);
    assert_alive(t);
    vsmmu_qtest_quit(t);
}

/*
 * CMD_SYNC MSI at the test device's CMD register with data FILL: the
 * device runs a DMA that goes through this vsmmu; it must complete.
 */
static void test_sync_msi_testdev_dma(void)
{
    VsmmuQtest *t;
    bool done = false;
    Fx f;

    fx_setup(&f);
    t = f.t;
    vsmmu_testdev_writeq(t, A_TESTDEV_DST, IOVA_B);
    vsmmu_testdev_writeq(t, A_TESTDEV_LEN, 4096);
    vsmmu_testdev_writeq(t, A_TESTDEV_PATTERN, 0xa7);
    g_assert_cmpuint(vsmmu_cmdq_issue(t, vsmmu_cmd_sync(
                         CMD_SYNC_SIG_IRQ, t->bar.addr + A_TESTDEV_CMD,
                         VSMMU_TESTDEV_CMD_FILL)), ==, CERROR_NONE);
    for (int i = 0; i < POLLS && !done; i++) {
        done = vsmmu_testdev_readq(t, A_TESTDEV_DONE_COUNT) == 1;
        if (!done) {
            step(t);
        }
    }
    g_assert_true(done);
    vsmmu_assert_status_ok(vsmmu_testdev_readq(t, A_TESTDEV_STATUS));
    g_assert_true(vsmmu_check_byte(t->qts, f.dst, 4096, 0xa7));
    g_assert_cmphex(vsmmu_gerror_active(t), ==, 0);
    vsmmu_expect_no_event(t);
    fx_end(&f);
}

/*
 * Two vsmmus, one on pcie.0 (A, in front of the test device) and one on a
 * pxb-pcie root bus (B), pointing at each other: A's CMD_SYNC MSI rings
 * B's CMDQ_PROD, and B's command queue lies on A's registers; A's stream
 * table lies on B's registers.
 */
static void test_two_vsmmus(void)
{
    VsmmuQtest *t = start("-device pxb-pcie,id=pxb1,bus_nr=0x80,bus=pcie.0 "
                          VSMMU_QTEST_VSMMU
                          "-device vsmmu,primary-bus=pxb1 "
                          "-device vsmmu-dma-testdev,addr=1d.0,bus=pcie.0");
    uint64_t b0 = vsmmu_qtest_find_region(t->qts, "vsmmu", 0);
    uint64_t b1 = vsmmu_qtest_find_region(t->qts, "vsmmu", 1);
    uint64_t a = vsmmu_alloc(t, 4096, 4096);
    uint64_t base_a, base_b;
    uint32_t cons;
    VsmmuEvent ev;

    g_assert_cmphex(b0, !=, 0);
    g_assert_cmphex(b1, !=, 0);
    g_assert_cmphex(b0, !=, b1);
    /* Which one translates for the device: GBPA.ABORT on it stops DMA */
    t->base = b0;
    g_assert_true(vsmmu_set_gbpa(t, R_GBPA_ABORT_MASK));
    base_a = vsmmu_testdev_copy(t, a, a + 2048, 64) ==
             VSMMU_TESTDEV_STATUS_OK ? b1 : b0;
    g_assert_true(vsmmu_set_gbpa(t, VSMMU_GBPA_RESET));
    base_b = base_a == b0 ? b1 : b0;
    t->base = base_a;

    vsmmu_strtab_linear(t, 8);
    vsmmu_bringup(t, 8, 4);
    vsmmu_enable(t);

    /* B: a command queue of one entry on A's CR0, enabled, empty */
    qtest_writeq(t->qts, base_b + A_CMDQ_BASE, base_a + A_CR0);
    qtest_writel(t->qts, base_b + A_CMDQ_PROD, 0);
    qtest_writel(t->qts, base_b + A_CMDQ_CONS, 0);
    qtest_writel(t->qts, base_b + A_CR0, R_CR0_CMDQEN_MASK);

    /* A's CMD_SYNC rings B's doorbell; A completes it */
    g_assert_cmpuint(vsmmu_cmdq_issue(t, vsmmu_cmd_sync(
                         CMD_SYNC_SIG_IRQ, base_b + A_CMDQ_PROD, 1)), ==,
                     CERROR_NONE);
    g_assert_cmphex(vsmmu_gerror_active(t), ==, 0);
    /* B's fetch from A's registers aborts */
    for (int i = 0; i < POLLS; i++) {
        if ((qtest_readl(t->qts, base_b + A_GERROR) ^
             qtest_readl(t->qts, base_b + A_GERRORN)) &
            R_GERROR_CMDQ_ERR_MASK) {
            break;
        }
        step(t);
    }
    g_assert_cmphex(qtest_readl(t->qts, base_b + A_CMDQ_PROD), ==, 1);
    cons = qtest_readl(t->qts, base_b + A_CMDQ_CONS);
    g_assert_cmphex(FIELD_EX32(cons, CMDQ_CONS, ERR), ==, CERROR_ABT);
    g_assert_cmphex(cons & 1, ==, 0);
    g_assert_cmphex(vsmmu_readl(t, A_CR0), ==, CR0_ALL);

    /* A's stream table on B's registers: F_STE_FETCH */
    set_cr0(t, R_CR0_CMDQEN_MASK | R_CR0_EVENTQEN_MASK);
    vsmmu_writeq(t, A_STRTAB_BASE, base_b);
    vsmmu_enable(t);
    assert_identity_copy_fails(t);
    vsmmu_expect_event(t, EVT_F_STE_FETCH, &ev);
    g_assert_cmphex(vsmmu_evt_fetch_addr(&ev) & ~63ULL, ==,
                    base_b + t->sid * VSMMU_STE_SIZE);

    assert_alive_at(t->qts, base_a);
    assert_alive_at(t->qts, base_b);
    vsmmu_qtest_quit(t);
}

/* ---------------------------------------------------------------------- */
/* 3. Unbounded work                                                       */
/* ---------------------------------------------------------------------- */

/*
 * Write a large buffer to guest memory in 64 KiB pieces (qtest's line
 * parser is quadratic in the length of one command line)
 */
static void big_write(QTestState *qts, uint64_t addr, const void *buf,
                      size_t len)
{
    for (size_t off = 0; off < len; off += 65536) {
        qtest_bufwrite(qts, addr + off, (const uint8_t *)buf + off,
                       MIN(65536, len - off));
    }
}

/* Poll (bounded) until CONS reaches PROD; false on a command error */
static bool cmdq_drain(VsmmuQtest *t, unsigned max_polls)
{
    uint32_t mask = (2u << t->cmdq.log2size) - 1;
    uint32_t cons = 0;

    for (unsigned i = 0; i < max_polls; i++) {
        cons = vsmmu_readl(t, A_CMDQ_CONS);
        if (vsmmu_gerror_active(t) & R_GERROR_CMDQ_ERR_MASK) {
            g_printerr("CMDQ error 0x%x at 0x%x\n",
                       FIELD_EX32(cons, CMDQ_CONS, ERR), cons & mask);
            return false;
        }
        if ((cons & mask) == (t->cmdq.prod & mask)) {
            return true;
        }
        if (i % 64 == 63) {
            step(t);
        }
    }
    g_printerr("CMDQ: CONS 0x%x never reached PROD 0x%x\n", cons,
               t->cmdq.prod);
    return false;
}

/* A fresh command queue of 2^@log2size entries filled with @cmds, full */
static void cmdq_fill_full(VsmmuQtest *t, unsigned log2size,
                           const VsmmuCmd *cmds)
{
    uint32_t n = 1u << log2size;
    uint32_t cr0 = vsmmu_readl(t, A_CR0);
    g_autofree uint64_t *buf = g_new(uint64_t, 2 * n);

    set_cr0(t, cr0 & ~R_CR0_CMDQEN_MASK);
    vsmmu_cmdq_init(t, log2size);
    set_cr0(t, cr0);
    for (uint32_t i = 0; i < n; i++) {
        buf[2 * i] = cpu_to_le64(cmds[i].word[0]);
        buf[2 * i + 1] = cpu_to_le64(cmds[i].word[1]);
    }
    big_write(t->qts, t->cmdq.base, buf, 16ULL * n);
    /* Index 0 with the wrap bit: 2^log2size commands */
    t->cmdq.prod = n;
    vsmmu_writel(t, A_CMDQ_PROD, n);
}

/*
 * A command queue of the largest size IDR1 allows, full of maximal range
 * TLBI_NH_VA (NUM = 31, SCALE = 31: 2^36 pages from a misaligned VA) for
 * another ASID, with ~200 translations cached, then one PROD write: the
 * write returns, QEMU answers, CONS reaches PROD without error, and the
 * last two commands (a range TLBI of our ASID and a CMD_SYNC) take effect.
 */
static void test_cmdq_max_tlbi_range(void)
{
    unsigned log2size, n;
    g_autofree VsmmuCmd *cmds = NULL;
    uint64_t pages, other;
    Fx f;

    fx_setup(&f);
    log2size = FIELD_EX32(vsmmu_readl(f.t, A_IDR1), IDR1, CMDQS);
    n = 1u << log2size;
    note("IDR1.CMDQS %u: %u commands", log2size, n);

    pages = vsmmu_alloc(f.t, 200 * 4096, 4096);
    vsmmu_pt_unmap(&f.pt, IOVA_A, 4096);
    vsmmu_issue_sync(f.t, vsmmu_cmd_tlbi_nh_asid(TEST_ASID));
    vsmmu_pt_map(&f.pt, IOVA_A, pages, 200 * 4096, VSMMU_PT_READ);
    qtest_memset(f.t->qts, pages, 0x5c, 4096);
    vsmmu_assert_status_ok(vsmmu_testdev_read_sweep(f.t, IOVA_A, 200 * 4096,
                                                    4096, 1));
    /* The first page moves without invalidation */
    other = vsmmu_alloc(f.t, 4096, 4096);
    qtest_memset(f.t->qts, other, 0x6d, 4096);
    vsmmu_pt_remap(&f.pt, IOVA_A, other);

    cmds = g_new(VsmmuCmd, n);
    for (unsigned i = 0; i < n - 2; i++) {
        cmds[i] = vsmmu_cmd_tlbi_nh_va_range(OTHER_ASID, 0x1000, false,
                                             CMD_TLBI_TG_4K, 0, 31, 31);
    }
    cmds[n - 2] = vsmmu_cmd_tlbi_nh_va_range(TEST_ASID, 0x1000, false,
                                             CMD_TLBI_TG_4K, 0, 31, 31);
    cmds[n - 1] = vsmmu_cmd_sync(CMD_SYNC_SIG_NONE, 0, 0);
    cmdq_fill_full(f.t, log2size, cmds);
    assert_alive(f.t);
    g_assert_true(cmdq_drain(f.t, BIG_POLLS));
    g_assert_cmphex(vsmmu_gerror_active(f.t), ==, 0);

    /* The invalidation of our ASID took effect: the new page is read */
    qtest_memset(f.t->qts, f.dst, 0, 4096);
    vsmmu_assert_status_ok(vsmmu_testdev_copy(f.t, IOVA_A, IOVA_B, 4096));
    g_assert_true(vsmmu_check_byte(f.t->qts, f.dst, 4096, 0x6d));
    fx_end(&f);
}

/* A full queue of the largest size of CMD_SYNCs, each with an MSI */
static void test_cmdq_max_syncs_msi(void)
{
    VsmmuQtest *t = start_bypass(VSMMU_ARGS);
    unsigned log2size = FIELD_EX32(vsmmu_readl(t, A_IDR1), IDR1, CMDQS);
    unsigned n = 1u << log2size;
    uint64_t msi = vsmmu_alloc(t, 4096, 4096);
    g_autofree VsmmuCmd *cmds = g_new(VsmmuCmd, n);

    for (unsigned i = 0; i < n; i++) {
        cmds[i] = vsmmu_cmd_sync(CMD_SYNC_SIG_IRQ, msi, i + 1);
    }
    cmdq_fill_full(t, log2size, cmds);
    assert_alive(t);
    g_assert_true(cmdq_drain(t, BIG_POLLS));
    g_assert_cmphex(qtest_readl(t->qts, msi), ==, n);
    g_assert_cmphex(vsmmu_gerror_active(t), ==, 0);
    assert_identity_copy(t);
    assert_alive(t);
    vsmmu_qtest_quit(t);
}

/* ---------------------------------------------------------------------- */
/* 4. Validation of every guest-visible field                              */
/* ---------------------------------------------------------------------- */

/* Reserved STRTAB_BASE_CFG.SPLIT values behave as 6 (§6.3.25) */
static void test_strtab_split_reserved(void)
{
    static const unsigned split[] = { 0, 5, 7, 9, 11, 31 };
    VsmmuQtest *t = start(VSMMU_ARGS);
    uint64_t ste[VSMMU_STE_DWORDS];
    uint64_t l1, l2, desc;
    uint32_t cfg;

    /* Split 6: L1[StreamID >> 6] -> 64 STEs, ours at StreamID[5:0] */
    l1 = vsmmu_strtab_2lvl(t, 16, 6);
    l2 = vsmmu_alloc(t, 4096, 4096);
    vsmmu_ste_bypass(ste);
    vsmmu_write_words(t, l2 + (t->sid & 63) * VSMMU_STE_SIZE, ste,
                      VSMMU_STE_DWORDS);
    desc = FIELD_DP64(0, L1STD, L2PTR, l2 >> 6);
    desc = FIELD_DP64(desc, L1STD, SPAN, 7);
    qtest_writeq(t->qts, l1 + (t->sid >> 6) * 8, desc);
    vsmmu_bringup(t, 8, 4);
    for (int i = 0; i < ARRAY_SIZE(split); i++) {
        note("SPLIT %u", split[i]);
        set_cr0(t, R_CR0_CMDQEN_MASK | R_CR0_EVENTQEN_MASK);
        cfg = FIELD_DP32(0, STRTAB_BASE_CFG, FMT, STRTAB_FMT_2LVL);
        cfg = FIELD_DP32(cfg, STRTAB_BASE_CFG, SPLIT, split[i]);
        cfg = FIELD_DP32(cfg, STRTAB_BASE_CFG, LOG2SIZE, 16);
        vsmmu_writel(t, A_STRTAB_BASE_CFG, cfg);
        vsmmu_issue_sync(t, vsmmu_cmd_cfgi_all());
        vsmmu_enable(t);
        assert_identity_copy(t);
        vsmmu_expect_no_event(t);
    }
    assert_alive(t);
    vsmmu_qtest_quit(t);
}

/* Reserved STRTAB_BASE_CFG.FMT values behave as linear */
static void test_strtab_fmt_reserved(void)
{
    VsmmuQtest *t = start(VSMMU_ARGS);
    uint64_t ste[VSMMU_STE_DWORDS];

    vsmmu_strtab_linear(t, 8);
    vsmmu_ste_bypass(ste);
    vsmmu_ste_write(t, t->sid, ste);
    vsmmu_writel(t, A_STRTAB_BASE_CFG,
                 FIELD_DP32(8, STRTAB_BASE_CFG, FMT, 3));
    vsmmu_bringup(t, 8, 4);
    vsmmu_enable(t);
    assert_identity_copy(t);
    vsmmu_expect_no_event(t);
    assert_alive(t);
    vsmmu_qtest_quit(t);
}

/*
 * L1STD.Span 0, reserved (12..31) and beyond SPLIT + 1: the StreamIDs it
 * covers are invalid, C_BAD_STREAMID (§5.1.1).
 */
static void test_l1std_span_reserved(void)
{
    static const unsigned span[] = { 0, 8, 11, 12, 31 };
    VsmmuQtest *t = start(VSMMU_ARGS);
    uint64_t l1 = vsmmu_strtab_2lvl(t, 16, 6) + (t->sid >> 6) * 8;
    uint64_t l2 = vsmmu_alloc(t, 1 << 17, 1 << 17);
    uint64_t ste[VSMMU_STE_DWORDS];

    /* Valid bypass STEs at every index a misreading could pick */
    vsmmu_ste_bypass(ste);
    for (int i = 0; i < 64; i++) {
        vsmmu_write_words(t, l2 + i * VSMMU_STE_SIZE, ste, VSMMU_STE_DWORDS);
    }
    vsmmu_write_words(t, l2 + t->sid * VSMMU_STE_SIZE, ste,
                      VSMMU_STE_DWORDS);
    vsmmu_bringup(t, 8, 4);
    vsmmu_enable(t);
    for (int i = 0; i < ARRAY_SIZE(span); i++) {
        uint64_t desc = FIELD_DP64(0, L1STD, L2PTR, l2 >> 6);

        note("Span %u", span[i]);
        desc = FIELD_DP64(desc, L1STD, SPAN, span[i]);
        qtest_writeq(t->qts, l1, desc);
        vsmmu_issue_sync(t, vsmmu_cmd_cfgi_ste(t->sid, false));
        assert_identity_copy_fails(t);
        vsmmu_expect_event(t, EVT_C_BAD_STREAMID, NULL);
    }
    assert_alive(t);
    vsmmu_qtest_quit(t);
}

/* LOG2SIZE 63 (above SIDSIZE) with a 2-level table: effective SIDSIZE */
static void test_strtab_log2size_above_sidsize(void)
{
    VsmmuQtest *t = start(VSMMU_ARGS);
    uint64_t ste[VSMMU_STE_DWORDS];
    uint32_t cfg;

    vsmmu_strtab_2lvl(t, 16, 6);
    vsmmu_ste_bypass(ste);
    vsmmu_ste_write(t, t->sid, ste);
    cfg = vsmmu_readl(t, A_STRTAB_BASE_CFG);
    vsmmu_writel(t, A_STRTAB_BASE_CFG,
                 FIELD_DP32(cfg, STRTAB_BASE_CFG, LOG2SIZE, 63));
    vsmmu_bringup(t, 8, 4);
    vsmmu_enable(t);
    assert_identity_copy(t);
    vsmmu_expect_no_event(t);
    assert_alive(t);
    vsmmu_qtest_quit(t);
}

/* StreamID beyond a 2-level table's LOG2SIZE: C_BAD_STREAMID */
static void test_sid_beyond_2lvl_table(void)
{
    VsmmuQtest *t = start(VSMMU_ARGS);
    uint64_t ste[VSMMU_STE_DWORDS];

    g_assert_cmpuint(t->sid, >=, 128);
    vsmmu_strtab_2lvl(t, 16, 6);
    vsmmu_ste_bypass(ste);
    vsmmu_ste_write(t, t->sid, ste);
    vsmmu_writel(t, A_STRTAB_BASE_CFG,
                 FIELD_DP32(vsmmu_readl(t, A_STRTAB_BASE_CFG),
                            STRTAB_BASE_CFG, LOG2SIZE, 7));
    vsmmu_bringup(t, 8, 4);
    vsmmu_enable(t);
    assert_identity_copy_fails(t);
    vsmmu_expect_event(t, EVT_C_BAD_STREAMID, NULL);
    assert_alive(t);
    vsmmu_qtest_quit(t);
}

/* StreamID beyond IDR1.SIDSIZE (sidsize=4): C_BAD_STREAMID */
static void test_sid_beyond_sidsize(void)
{
    VsmmuQtest *t = start("-device vsmmu,primary-bus=pcie.0,sidsize=4 "
                          VSMMU_QTEST_TESTDEV);
    uint64_t ste[VSMMU_STE_DWORDS];

    g_assert_cmpuint(FIELD_EX32(vsmmu_readl(t, A_IDR1), IDR1, SIDSIZE), ==,
                     4);
    vsmmu_strtab_linear(t, 8);
    vsmmu_ste_bypass(ste);
    vsmmu_ste_write(t, t->sid, ste);
    vsmmu_bringup(t, 8, 4);
    vsmmu_enable(t);
    assert_identity_copy_fails(t);
    vsmmu_expect_event(t, EVT_C_BAD_STREAMID, NULL);
    /* CFGI_STE of that StreamID: out of range, no error (§4.1.7) */
    vsmmu_issue_sync(t, vsmmu_cmd_cfgi_ste(t->sid, true));
    vsmmu_issue_sync(t, vsmmu_cmd_cfgi_ste(0xffffffff, false));
    vsmmu_issue_sync(t, vsmmu_cmd_cfgi_cd(0xffffffff, 0xfffff, false));
    vsmmu_issue_sync(t, vsmmu_cmd_cfgi_cd_all(0xffffffff));
    vsmmu_issue_sync(t, vsmmu_cmd_prefetch_config(0xffffffff));
    assert_alive(t);
    vsmmu_qtest_quit(t);
}

/* CFGI_STE_RANGE with Range 31 and 30 at StreamID 0xffffffff */
static void test_cfgi_range_top(void)
{
    VsmmuQtest *t = start_bypass(VSMMU_ARGS);
    uint64_t ste[VSMMU_STE_DWORDS];

    vsmmu_issue_sync(t, vsmmu_cmd_cfgi_ste_range(0xffffffff, 30));
    vsmmu_issue_sync(t, vsmmu_cmd_cfgi_ste_range(0xfffffffe, 29));
    vsmmu_issue_sync(t, vsmmu_cmd_cfgi_ste_range(0xffffffff, 0));
    assert_identity_copy(t);
    /* Range 31 is CFGI_ALL whatever the StreamID: the new STE is seen */
    vsmmu_ste_abort(ste);
    vsmmu_ste_write(t, t->sid, ste);
    vsmmu_issue_sync(t, vsmmu_cmd_cfgi_ste_range(0xffffffff, 31));
    assert_identity_copy_fails(t);
    vsmmu_expect_no_event(t);
    assert_alive(t);
    vsmmu_qtest_quit(t);
}

/*
 * PROD = CONS + 2 * size - 1 (the queue looks over-full): a ring full of
 * CMD_SYNCs, so whatever the SMMU consumes is legal. The queue either
 * drains to PROD or stops with an error; QEMU answers.
 */
static void test_cmdq_overfull(void)
{
    VsmmuQtest *t = start_bypass(VSMMU_ARGS);
    VsmmuCmd sync = vsmmu_cmd_sync(CMD_SYNC_SIG_NONE, 0, 0);
    uint32_t size = 1u << t->cmdq.log2size;
    uint32_t mask = 2 * size - 1;
    uint32_t cons, prod;

    vsmmu_sync_none(t);
    for (uint32_t i = 0; i < size; i++) {
        vsmmu_write_words(t, t->cmdq.base + 16 * i, sync.word, 2);
    }
    cons = vsmmu_readl(t, A_CMDQ_CONS) & mask;
    prod = (cons + 2 * size - 1) & mask;
    t->cmdq.prod = prod;
    vsmmu_writel(t, A_CMDQ_PROD, prod);
    if (!cmdq_drain(t, POLLS)) {
        g_assert_true(vsmmu_gerror_active(t) & R_GERROR_CMDQ_ERR_MASK);
    }
    assert_alive(t);
    /* The driver's recovery: queue off, pointers reset, on again */
    set_cr0(t, CR0_ALL & ~R_CR0_CMDQEN_MASK);
    vsmmu_gerror_ack(t, vsmmu_gerror_active(t));
    vsmmu_cmdq_init(t, 8);
    set_cr0(t, CR0_ALL);
    vsmmu_sync_none(t);
    assert_identity_copy(t);
    assert_alive(t);
    vsmmu_qtest_quit(t);
}

/*
 * EVENTQ_CONS written so that the queue looks over-full: records land
 * only inside the ring (the guard pages around it stay untouched) or are
 * dropped with the overflow flag; the pointers stay in range.
 */
static void test_evtq_overfull(void)
{
    VsmmuQtest *t = start(VSMMU_ARGS);
    uint64_t guard, ring;
    uint32_t prod;

    vsmmu_strtab_linear(t, 8);
    vsmmu_bringup(t, 8, 4);
    /* A 16-entry ring (512 bytes) with 4 KiB of guard on each side */
    set_cr0(t, R_CR0_CMDQEN_MASK);
    guard = vsmmu_alloc(t, 3 * 4096, 4096);
    ring = guard + 4096;
    qtest_memset(t->qts, guard, 0xee, 3 * 4096);
    qtest_memset(t->qts, ring, 0, 512);
    vsmmu_writeq(t, A_EVENTQ_BASE, ring | 4);
    t->evtq.base = ring;
    vsmmu_writel(t, VSMMU_PAGE1_EVENTQ_PROD, 0);
    /* PROD 0, CONS 14 (same wrap): PROD - CONS = 18 of 16 entries */
    vsmmu_writel(t, VSMMU_PAGE1_EVENTQ_CONS, 14);
    set_cr0(t, CR0_ALL);
    for (int i = 0; i < 40; i++) {
        vsmmu_assert_status_fault(t, vsmmu_testdev_copy(t, 0x1000, 0x2000, 64),
                                  0x1000);
    }
    vsmmu_sync_none(t);
    prod = vsmmu_readl(t, VSMMU_PAGE1_EVENTQ_PROD);
    g_assert_cmphex(prod & ~R_QUEUE_INDEX_OVFLG_MASK, <, 32);
    g_assert_true(vsmmu_check_byte(t->qts, guard, 4096, 0xee));
    g_assert_true(vsmmu_check_byte(t->qts, ring + 512, 4096 - 512, 0xee));
    g_assert_true(vsmmu_check_byte(t->qts, ring + 4096, 4096, 0xee));
    assert_alive(t);
    vsmmu_qtest_quit(t);
}

/*
 * PROD/CONS with garbage above the wrap bit: ignored (the index and wrap
 * bits are what counts); the queue runs normally.
 */
static void test_queue_ptr_garbage(void)
{
    VsmmuQtest *t = start_bypass(VSMMU_ARGS);
    VsmmuCmd sync = vsmmu_cmd_sync(CMD_SYNC_SIG_NONE, 0, 0);
    uint32_t mask = (2u << t->cmdq.log2size) - 1;
    uint32_t prod = t->cmdq.prod;

    vsmmu_write_words(t, vsmmu_cmdq_slot(t, prod), sync.word, 2);
    prod = (prod + 1) & mask;
    t->cmdq.prod = prod;
    vsmmu_writel(t, A_CMDQ_PROD, prod | 0x7ff00000);
    g_assert_cmpuint(vsmmu_cmdq_wait(t), ==, CERROR_NONE);
    g_assert_cmphex(vsmmu_readl(t, A_CMDQ_CONS) & mask, ==, prod);
    vsmmu_sync_none(t);

    /* Event queue CONS with garbage between the wrap bit and OVACKFLG */
    vsmmu_writel(t, VSMMU_PAGE1_EVENTQ_CONS, 0x7fffffe0 | t->evtq.cons);
    g_assert_cmphex(vsmmu_readl(t, VSMMU_PAGE1_EVENTQ_CONS) & 0x1f, ==,
                    t->evtq.cons & 0x1f);
    vsmmu_writel(t, VSMMU_PAGE1_EVENTQ_CONS, t->evtq.cons);
    vsmmu_expect_no_event(t);
    assert_identity_copy(t);
    assert_alive(t);
    vsmmu_qtest_quit(t);
}

/*
 * CMDQ_BASE.LOG2SIZE 31, above IDR1.CMDQS: the effective size is CMDQS
 * (indices wrap there), commands run.
 */
static void test_cmdq_log2size_above_idr1(void)
{
    VsmmuQtest *t = start_bypass(VSMMU_ARGS);
    unsigned cmdqs = FIELD_EX32(vsmmu_readl(t, A_IDR1), IDR1, CMDQS);
    uint64_t size = 16ULL << cmdqs;
    uint64_t q = vsmmu_alloc(t, size, size);
    VsmmuCmd sync = vsmmu_cmd_sync(CMD_SYNC_SIG_NONE, 0, 0);
    uint32_t wrap = 1u << cmdqs;

    cmdq_move(t, q | 31 | R_QUEUE_BASE_RA_MASK, cmdqs);
    /* The last slot of the effective ring, then slot 0 after the wrap */
    vsmmu_write_words(t, q + size - 16, sync.word, 2);
    vsmmu_write_words(t, q, sync.word, 2);
    set_cr0(t, CR0_ALL & ~R_CR0_CMDQEN_MASK);
    vsmmu_writel(t, A_CMDQ_PROD, wrap - 1);
    vsmmu_writel(t, A_CMDQ_CONS, wrap - 1);
    set_cr0(t, CR0_ALL);
    t->cmdq.prod = wrap + 1;            /* index 1, wrapped */
    vsmmu_writel(t, A_CMDQ_PROD, t->cmdq.prod);
    g_assert_cmpuint(vsmmu_cmdq_wait(t), ==, CERROR_NONE);
    g_assert_cmphex(vsmmu_readl(t, A_CMDQ_CONS) & (2 * wrap - 1), ==,
                    wrap + 1);
    assert_identity_copy(t);
    assert_alive(t);
    vsmmu_qtest_quit(t);
}

/* EVENTQ_BASE.LOG2SIZE 31: effective IDR1.EVENTQS, records land in it */
static void test_evtq_log2size_above_idr1(void)
{
    VsmmuQtest *t = start_invalid_ste(VSMMU_ARGS);
    unsigned eventqs = FIELD_EX32(vsmmu_readl(t, A_IDR1), IDR1, EVENTQS);
    uint64_t size = 32ULL << eventqs;
    uint64_t q = vsmmu_alloc(t, size + 4096, size);

    qtest_memset(t->qts, q + size, 0xee, 4096);
    set_cr0(t, R_CR0_SMMUEN_MASK | R_CR0_CMDQEN_MASK);
    vsmmu_writeq(t, A_EVENTQ_BASE, q | 31);
    vsmmu_writel(t, VSMMU_PAGE1_EVENTQ_PROD, 0);
    vsmmu_writel(t, VSMMU_PAGE1_EVENTQ_CONS, 0);
    t->evtq.base = q;
    t->evtq.log2size = eventqs;
    t->evtq.cons = 0;
    set_cr0(t, CR0_ALL);
    assert_identity_copy_fails(t);
    vsmmu_expect_event(t, EVT_C_BAD_STE, NULL);
    g_assert_true(vsmmu_check_byte(t->qts, q + size, 4096, 0xee));
    assert_alive(t);
    vsmmu_qtest_quit(t);
}

/*
 * Queue bases at the top of the address space, beyond the OAS: the
 * address is either truncated to the OAS (our commands there run) or the
 * access aborts (CERROR_ABT); nothing else.
 */
static void test_cmdq_base_top(void)
{
    VsmmuQtest *t = start_bypass(VSMMU_ARGS);
    uint64_t q = vsmmu_alloc(t, 4096, 4096);
    VsmmuCmd sync = vsmmu_cmd_sync(CMD_SYNC_SIG_NONE, 0, 0);
    unsigned r;

    vsmmu_write_words(t, q, sync.word, 2);
    /* ADDR all ones above the OAS, our queue below it */
    cmdq_move(t, (R_QUEUE_BASE_ADDR_MASK & ~MAKE_64BIT_MASK(0, 44)) | q | 8,
              8);
    t->cmdq.prod = 1;
    vsmmu_writel(t, A_CMDQ_PROD, 1);
    r = vsmmu_cmdq_wait(t);
    note("CMDQ above the OAS: CERROR 0x%x", r);
    g_assert_true(r == CERROR_NONE || r == CERROR_ABT);
    assert_alive(t);

    /* The very last entries of a 52-bit space */
    set_cr0(t, CR0_ALL & ~R_CR0_CMDQEN_MASK);
    vsmmu_gerror_ack(t, vsmmu_gerror_active(t));
    cmdq_move(t, R_QUEUE_BASE_ADDR_MASK | 0, 0);
    t->cmdq.prod = 1;
    vsmmu_writel(t, A_CMDQ_PROD, 1);
    g_assert_cmpuint(vsmmu_cmdq_wait(t), ==, CERROR_ABT);
    assert_identity_copy(t);
    assert_alive(t);
    vsmmu_qtest_quit(t);
}

/* EVENTQ_BASE and STRTAB_BASE at the top: EVENTQ_ABT_ERR, F_STE_FETCH */
static void test_evtq_strtab_base_top(void)
{
    VsmmuQtest *t = start_invalid_ste(VSMMU_ARGS);
    /* The last 16 KiB (a linear table of 256 STEs is aligned to that) */
    uint64_t top = MAKE_64BIT_MASK(14, 38);
    uint64_t oas_mask;
    VsmmuEvent ev;

    oas_mask = MAKE_64BIT_MASK(0, 44);
    /* Stream table at the top: F_STE_FETCH, FetchAddr[OAS-1:0] exact */
    set_cr0(t, R_CR0_CMDQEN_MASK | R_CR0_EVENTQEN_MASK);
    vsmmu_writeq(t, A_STRTAB_BASE, top);
    vsmmu_enable(t);
    assert_identity_copy_fails(t);
    vsmmu_expect_event(t, EVT_F_STE_FETCH, &ev);
    g_assert_cmphex(vsmmu_evt_fetch_addr(&ev) & oas_mask & ~63ULL, ==,
                    (top + t->sid * VSMMU_STE_SIZE) & oas_mask);

    /* Event queue at the top: EVENTQ_ABT_ERR */
    set_cr0(t, R_CR0_SMMUEN_MASK | R_CR0_CMDQEN_MASK);
    vsmmu_writeq(t, A_EVENTQ_BASE, R_QUEUE_BASE_ADDR_MASK | 4);
    vsmmu_writel(t, VSMMU_PAGE1_EVENTQ_PROD, 0);
    vsmmu_writel(t, VSMMU_PAGE1_EVENTQ_CONS, 0);
    set_cr0(t, CR0_ALL);
    assert_identity_copy_fails(t);
    vsmmu_sync_none(t);
    g_assert_true(wait_gerror(t, R_GERROR_EVENTQ_ABT_ERR_MASK));
    assert_alive(t);
    vsmmu_qtest_quit(t);
}

/* Is @op a command this SMMUv3.1 (S1 only, no ATS/PRI/Hyp/MPAM) accepts? */
static bool opcode_legal(uint8_t op)
{
    switch (op) {
    case CMD_PREFETCH_CONFIG:
    case CMD_PREFETCH_ADDR:
    case CMD_CFGI_STE:
    case CMD_CFGI_STE_RANGE:
    case CMD_CFGI_CD:
    case CMD_CFGI_CD_ALL:
    case CMD_TLBI_NH_ALL:
    case CMD_TLBI_NH_ASID:
    case CMD_TLBI_NH_VA:
    case CMD_TLBI_NH_VAA:
    case CMD_TLBI_NSNH_ALL:
    case CMD_SYNC:
        return true;
    case 0x44:      /* CMD_RESUME and CMD_STALL_TERM: IDR0 says no stalls */
    case 0x45:
    case 0x80 ... 0x8f:     /* IMPLEMENTATION DEFINED */
        return true;        /* not checked */
    default:
        return false;
    }
}

/*
 * Command @c at the next slot: the queue stops on it with CERROR_ILL,
 * CONS indexing it; the driver replaces it by a CMD_SYNC and acknowledges.
 */
static void expect_cerror_ill(VsmmuQtest *t, VsmmuCmd c)
{
    VsmmuCmd sync = vsmmu_cmd_sync(CMD_SYNC_SIG_NONE, 0, 0);
    uint32_t mask = (2u << t->cmdq.log2size) - 1;
    uint32_t slot = t->cmdq.prod;

    vsmmu_cmdq_push(t, &c);
    g_assert_cmphex(vsmmu_cmdq_wait(t), ==, CERROR_ILL);
    g_assert_cmphex(vsmmu_readl(t, A_CMDQ_CONS) & mask, ==, slot & mask);
    vsmmu_write_words(t, vsmmu_cmdq_slot(t, slot), sync.word, 2);
    vsmmu_gerror_ack(t, R_GERROR_CMDQ_ERR_MASK);
    g_assert_cmphex(vsmmu_cmdq_wait(t), ==, CERROR_NONE);
}

/* Every reserved or unsupported opcode: CERROR_ILL, CONS on it */
static void test_cmdq_reserved_opcodes(void)
{
    VsmmuQtest *t = start_bypass(VSMMU_ARGS);
    unsigned n = 0;

    g_assert_false(FIELD_EX32(vsmmu_readl(t, A_IDR0), IDR0, ATS));
    g_assert_false(FIELD_EX32(vsmmu_readl(t, A_IDR0), IDR0, HYP));
    for (unsigned op = 0; op < 256; op++) {
        if (!opcode_legal(op)) {
            expect_cerror_ill(t, vsmmu_cmd_raw(op, 0));
            n++;
        }
    }
    note("%u opcodes refused", n);
    assert_identity_copy(t);
    assert_alive(t);
    vsmmu_qtest_quit(t);
}

/* SSec = 1 on the Non-secure queue, CMD_SYNC.CS = 0b11: CERROR_ILL */
static void test_cmdq_ssec_and_sync_cs3(void)
{
    static const uint8_t ops[] = {
        CMD_PREFETCH_CONFIG, CMD_PREFETCH_ADDR, CMD_CFGI_STE,
        CMD_CFGI_STE_RANGE, CMD_CFGI_CD, CMD_CFGI_CD_ALL,
    };
    VsmmuQtest *t = start_bypass(VSMMU_ARGS);

    for (int i = 0; i < ARRAY_SIZE(ops); i++) {
        expect_cerror_ill(t, vsmmu_cmd_raw(ops[i] | R_CMD0_SSEC_MASK, 0));
    }
    expect_cerror_ill(t, vsmmu_cmd_raw(FIELD_DP64(CMD_SYNC, CMD0, SYNC_CS, 3),
                                       0));
    assert_identity_copy(t);
    assert_alive(t);
    vsmmu_qtest_quit(t);
}

/*
 * GERRORN toggled for errors never raised (CONSTRAINED UNPREDICTABLE
 * whether they become active): the defined fields read back as written,
 * and writing GERRORN = GERROR again returns to normal operation.
 */
static void test_gerrorn_never_raised(void)
{
    VsmmuQtest *t = start_bypass(VSMMU_ARGS);
    uint32_t gerror = vsmmu_readl(t, A_GERROR);

    vsmmu_writel(t, A_GERRORN, ~0u);
    g_assert_cmphex(vsmmu_readl(t, A_GERRORN) & GERROR_FIELDS, ==,
                    GERROR_FIELDS);
    assert_alive(t);
    /* Whatever became active: DMA through a bypass STE is unaffected */
    assert_identity_copy(t);
    vsmmu_writel(t, A_GERRORN, gerror);
    g_assert_cmphex(vsmmu_gerror_active(t), ==, 0);
    vsmmu_sync_none(t);
    vsmmu_expect_no_event(t);
    assert_alive(t);
    vsmmu_qtest_quit(t);
}

/*
 * CR0 written 200 times with pseudo-random values (reserved bits too),
 * a DMA after each: it is translated iff CR0ACK.SMMUEN, bypasses (GBPA)
 * otherwise; the command queue works whenever CMDQEN is set.
 */
static void test_cr0_storm(void)
{
    uint32_t x = 0x2545f491;
    VsmmuQtest *t;
    Fx f;

    fx_setup(&f);
    t = f.t;
    qtest_memset(t->qts, IOVA_A, 0x11, 4096);
    for (int i = 0; i < 200; i++) {
        uint32_t v, ack = 0;

        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        v = x | (i % 3 ? R_CR0_CMDQEN_MASK : 0);
        vsmmu_writel(t, A_CR0, v);
        /* CR0ACK follows the defined fields (bounded wait) */
        for (int j = 0; j < POLLS; j++) {
            ack = vsmmu_readl(t, A_CR0ACK);
            if ((ack & CR0_ALL) == (v & CR0_ALL)) {
                break;
            }
            step(t);
        }
        g_assert_cmphex(ack & CR0_ALL, ==, v & CR0_ALL);
        qtest_memset(t->qts, f.dst, 0, 4096);
        qtest_memset(t->qts, IOVA_B, 0, 4096);
        vsmmu_assert_status_ok(vsmmu_testdev_copy(t, IOVA_A, IOVA_B, 4096));
        if (ack & R_CR0_SMMUEN_MASK) {
            g_assert_true(vsmmu_check_byte(t->qts, f.dst, 4096, 0x5c));
            g_assert_true(vsmmu_check_byte(t->qts, IOVA_B, 4096, 0));
        } else {
            g_assert_true(vsmmu_check_byte(t->qts, IOVA_B, 4096, 0x11));
            g_assert_true(vsmmu_check_byte(t->qts, f.dst, 4096, 0));
        }
        if (ack & R_CR0_CMDQEN_MASK) {
            vsmmu_sync_none(t);
        }
    }
    set_cr0(t, CR0_ALL);
    fx_copy_ok(&f);
    fx_end(&f);
}

/*
 * GBPA with every reserved field set: ABORT is honoured, UPDATE completes,
 * the defined fields read back; without UPDATE nothing changes.
 */
static void test_gbpa_reserved(void)
{
    VsmmuQtest *t = start(VSMMU_ARGS);
    uint32_t gbpa;

    g_assert_true(vsmmu_set_gbpa(t, ~R_GBPA_UPDATE_MASK));
    gbpa = vsmmu_readl(t, A_GBPA);
    g_assert_cmphex(gbpa & R_GBPA_UPDATE_MASK, ==, 0);
    g_assert_cmphex(gbpa & GBPA_FIELDS, ==, GBPA_FIELDS);
    assert_identity_copy_fails(t);
    /* No UPDATE: ignored */
    vsmmu_writel(t, A_GBPA, ~R_GBPA_UPDATE_MASK & ~R_GBPA_ABORT_MASK);
    g_assert_cmphex(vsmmu_readl(t, A_GBPA), ==, gbpa);
    assert_identity_copy_fails(t);
    /* Reserved bits, no ABORT, UPDATE: bypass */
    g_assert_true(vsmmu_set_gbpa(t, ~R_GBPA_UPDATE_MASK & ~R_GBPA_ABORT_MASK));
    assert_identity_copy(t);
    assert_alive(t);
    vsmmu_qtest_quit(t);
}

/* STE.Config 0b001..0b011: abort, no event; 0b110, 0b111: C_BAD_STE */
static void test_ste_config_reserved(void)
{
    static const unsigned cfg[] = { 1, 2, 3, 6, 7 };
    Fx f;

    fx_setup(&f);
    for (int i = 0; i < ARRAY_SIZE(cfg); i++) {
        note("Config %u", cfg[i]);
        f.ste[0] = FIELD_DP64(f.ste[0], STE0, CONFIG, cfg[i]);
        fx_update_ste(&f);
        fx_copy_fails(&f);
        if (cfg[i] < 4) {
            vsmmu_expect_no_event(f.t);
        } else {
            vsmmu_expect_event(f.t, EVT_C_BAD_STE, NULL);
        }
    }
    f.ste[0] = FIELD_DP64(f.ste[0], STE0, CONFIG, STE_CONFIG_S1);
    fx_update_ste(&f);
    fx_copy_ok(&f);
    fx_end(&f);
}

/* S1CDMax 31 (> SSIDSIZE), S1Fmt 0b11, S1ContextPtr beyond the OAS */
static void test_ste_s1_fields_bad(void)
{
    uint64_t good;
    Fx f;

    fx_setup(&f);
    g_assert_cmpuint(FIELD_EX32(vsmmu_readl(f.t, A_IDR1), IDR1, SSIDSIZE), <,
                     31);
    good = f.ste[0];
    f.ste[0] = FIELD_DP64(good, STE0, S1CDMAX, 31);
    fx_update_ste(&f);
    fx_copy_fails(&f);
    vsmmu_expect_event(f.t, EVT_C_BAD_STE, NULL);

    f.ste[0] = FIELD_DP64(good, STE0, S1CDMAX, 1);
    f.ste[0] = FIELD_DP64(f.ste[0], STE0, S1FMT, 3);
    fx_update_ste(&f);
    fx_copy_fails(&f);
    vsmmu_expect_event(f.t, EVT_C_BAD_STE, NULL);

    /* SMMUv3.1: a S1ContextPtr beyond the OAS is C_BAD_STE (§3.4.3) */
    f.ste[0] = FIELD_DP64(good, STE0, S1CTXPTR,
                          (f.cdt.base | 1ULL << 50) >> 6);
    fx_update_ste(&f);
    fx_copy_fails(&f);
    vsmmu_expect_event(f.t, EVT_C_BAD_STE, NULL);

    f.ste[0] = good;
    fx_update_ste(&f);
    fx_copy_ok(&f);
    fx_end(&f);
}

/* Reserved TG0, AA64 = 0, HA, HD, TxSZ out of range: C_BAD_CD */
static void test_cd_fields_bad(void)
{
    static const struct {
        const char *what;
        uint64_t set, clear;
    } bad[] = {
        { "TG0 reserved", 3ULL << R_CD0_TG0_SHIFT, 0 },
        { "AA64 = 0", 0, R_CD0_AA64_MASK },
        { "HA", R_CD0_HA_MASK, 0 },
        { "HD", R_CD0_HD_MASK, 0 },
        { "T0SZ 0", 0, R_CD0_T0SZ_MASK },
        { "T0SZ 63", R_CD0_T0SZ_MASK, R_CD0_T0SZ_MASK },
        { "T0SZ 5 TBI0", 5 | R_CD0_TBI0_MASK, R_CD0_T0SZ_MASK },
    };
    uint64_t good;
    Fx f;

    fx_setup(&f);
    good = f.cd[0];
    for (int i = 0; i < ARRAY_SIZE(bad); i++) {
        note("%s", bad[i].what);
        f.cd[0] = (good & ~bad[i].clear) | bad[i].set;
        fx_update_cd(&f);
        fx_copy_fails(&f);
        vsmmu_expect_event(f.t, EVT_C_BAD_CD, NULL);
    }
    f.cd[0] = good;
    fx_update_cd(&f);
    fx_copy_ok(&f);
    fx_end(&f);
}

/* CD.IPS 52 bits and reserved 0b111, beyond the OAS: behaves as the OAS */
static void test_cd_ips_beyond_oas(void)
{
    Fx f;

    fx_setup(&f);
    for (unsigned ips = 6; ips <= 7; ips++) {
        f.cd[0] = FIELD_DP64(f.cd[0], CD0, IPS, ips);
        fx_update_cd(&f);
        fx_copy_ok(&f);
        vsmmu_expect_no_event(f.t);
    }
    fx_end(&f);
}

/* CD.TTB0 beyond the OAS: C_BAD_CD or a stage 1 F_ADDR_SIZE */
static void test_cd_ttb_beyond_oas(void)
{
    static const unsigned ids[] = { EVT_C_BAD_CD, EVT_F_ADDR_SIZE };
    VsmmuEvent ev;
    Fx f;

    fx_setup(&f);
    f.cd[1] = FIELD_DP64(f.cd[1], CD1, TTB0, (f.pt.root | 1ULL << 47) >> 4);
    fx_update_cd(&f);
    fx_copy_fails(&f);
    note("event 0x%x",
         expect_event_of(f.t, ids, ARRAY_SIZE(ids), &ev));
    fx_end(&f);
}

/*
 * A page table that points at itself: R[0] = R as a table at levels 0-2,
 * as a page at level 3, so IOVA 0 maps to R itself and IOVA 0x1000 (R[1])
 * to dst. The walk is bounded by the levels and deterministic.
 */
static void test_pt_loop(void)
{
    uint64_t attrs = 0, r, r0, r1, got[2];
    Fx f;

    fx_setup(&f);
    r = f.pt.root;
    attrs = FIELD_DP64(attrs, PTE, AP, PTE_AP_RW_ALL);
    attrs = FIELD_DP64(attrs, PTE, SH, 3);
    attrs = FIELD_DP64(attrs, PTE, AF, 1);
    r0 = r | attrs | 3;
    r1 = f.dst | attrs | 3;
    qtest_writeq(f.t->qts, r, r0);
    qtest_writeq(f.t->qts, r + 8, r1);
    vsmmu_issue_sync(f.t, vsmmu_cmd_tlbi_nh_asid(TEST_ASID));
    qtest_memset(f.t->qts, f.dst, 0, 4096);
    vsmmu_assert_status_ok(vsmmu_testdev_copy(f.t, 0, 0x1000, 16));
    qtest_memread(f.t->qts, f.dst, got, sizeof(got));
    g_assert_cmphex(le64_to_cpu(got[0]), ==, r0);
    g_assert_cmphex(le64_to_cpu(got[1]), ==, r1);
    vsmmu_expect_no_event(f.t);
    /*
     * IOVA_A walks R[1] at level 1, a table descriptor there to dst,
     * which is zero at level 2: invalid
     */
    fx_copy_fails(&f);
    vsmmu_expect_fault(f.t, EVT_F_TRANSLATION, IOVA_A, true);
    fx_end(&f);
}

/* A block descriptor at level 0 (4 KiB granule): F_TRANSLATION */
static void test_pt_block_l0(void)
{
    uint64_t d = 0;
    Fx f;

    fx_setup(&f);
    d = FIELD_DP64(d, PTE, AP, PTE_AP_RW_ALL);
    d = FIELD_DP64(d, PTE, AF, 1);
    d = FIELD_DP64(d, PTE, SH, 3);
    /* Identity block over [0, 512 GiB) if it were honoured */
    qtest_writeq(f.t->qts, f.pt.root, d | 1);
    vsmmu_issue_sync(f.t, vsmmu_cmd_tlbi_nh_asid(TEST_ASID));
    qtest_memset(f.t->qts, IOVA_B, 0, 64);
    fx_copy_fails(&f);
    g_assert_true(vsmmu_check_byte(f.t->qts, IOVA_B, 64, 0));
    vsmmu_expect_fault(f.t, EVT_F_TRANSLATION, IOVA_A, true);
    fx_end(&f);
}

/* ---------------------------------------------------------------------- */
/* 5. Odd-sized and misaligned register accesses                           */
/* ---------------------------------------------------------------------- */

/*
 * Writes of 1 and 2 bytes at every offset of [start, start + len) and of 4
 * bytes at every offset % 4 != 0, with all bits set, and the same reads:
 * invalid accesses, the 32-bit registers in @regs (offsets from @base)
 * keep their values.
 *
 * An 8-byte access at an offset % 4 != 0 always covers one aligned 32-bit
 * register, which QEMU's memory core then accesses on its own (it splits
 * what the region does not take into aligned pieces): those are read, and
 * written back with the value read, so the covered register is rewritten
 * with its own value while its neighbours get the invalid pieces.
 */
static void odd_accesses(QTestState *qts, uint64_t base, uint64_t start,
                         uint64_t len, const uint32_t *regs, unsigned nregs)
{
    g_autofree uint32_t *before = g_new(uint32_t, nregs);

    snapshot(qts, base, regs, nregs, before);
    for (uint64_t off = start; off < start + len; off++) {
        uint64_t a = base + off;

        qtest_writeb(qts, a, 0xff);
        qtest_writew(qts, a, 0xffff);
        qtest_readb(qts, a);
        qtest_readw(qts, a);
        if (off % 4) {
            qtest_writel(qts, a, ~0u);
            qtest_readl(qts, a);
            qtest_writeq(qts, a, qtest_readq(qts, a));
        }
    }
    assert_snapshot(qts, base, regs, nregs, before);
}

/* Every 4-byte register offset in [start, end) */
static unsigned reg_range(uint32_t *out, unsigned n, uint32_t start,
                          uint32_t end)
{
    for (uint32_t off = start; off < end; off += 4) {
        out[n++] = off;
    }
    return n;
}

static void test_odd_access_smmu_page0(void)
{
    VsmmuQtest *t = start_bypass(VSMMU_ARGS);
    uint32_t regs[128];
    unsigned n = reg_range(regs, 0, 0, 0x100);

    n = reg_range(regs, n, VSMMU_IDREGS_BASE, VSMMU_IDREGS_END);
    vsmmu_writeq(t, A_GERROR_IRQ_CFG0, 0x12345670);
    vsmmu_writeq(t, A_EVENTQ_IRQ_CFG0, 0x23456780);
    vsmmu_writel(t, A_IRQ_CTRL, 0);
    odd_accesses(t->qts, t->base, 0, 0x100, regs, n);
    odd_accesses(t->qts, t->base, VSMMU_IDREGS_BASE,
                 VSMMU_IDREGS_END - VSMMU_IDREGS_BASE, regs, n);
    vsmmu_sync_none(t);
    assert_identity_copy(t);
    assert_alive(t);
    vsmmu_qtest_quit(t);
}

static void test_odd_access_smmu_page1(void)
{
    VsmmuQtest *t = start_bypass(VSMMU_ARGS);
    uint32_t regs[128];
    unsigned n = reg_range(regs, 0, VSMMU_PAGE_SIZE, VSMMU_PAGE_SIZE + 0x100);

    n = reg_range(regs, n, A_CMDQ_BASE, A_EVENTQ_IRQ_CFG2 + 4);
    odd_accesses(t->qts, t->base, VSMMU_PAGE_SIZE, 0x100, regs, n);
    vsmmu_sync_none(t);
    vsmmu_expect_no_event(t);
    assert_alive(t);
    vsmmu_qtest_quit(t);
}

/* ---- CMDQV (emulated, cmdqv=on) ---------------------------------------- */

typedef struct Cv {
    VsmmuQtest *t;
    QTestState *qts;
    uint64_t base;              /* CMDQV window */
    unsigned nq;                /* VCMDQs (all in VINTF0) */
    unsigned log2size;
    uint64_t qpa[CMDQV_MAX_VCMDQS];
    uint32_t prod[CMDQV_MAX_VCMDQS];
} Cv;

static uint64_t gp0(Cv *c, unsigned q, unsigned reg)
{
    return c->base + CMDQV_VCMDQ_PAGE0 + CMDQV_VCMDQ_STRIDE * q + reg;
}

static uint64_t gp1(Cv *c, unsigned q, unsigned reg)
{
    return c->base + CMDQV_VCMDQ_PAGE1 + CMDQV_VCMDQ_STRIDE * q + reg;
}

static uint64_t lp0(Cv *c, unsigned l, unsigned reg)
{
    return c->base + CMDQV_VINTF0_PAGE0 + CMDQV_VCMDQ_STRIDE * l + reg;
}

static uint64_t lp1(Cv *c, unsigned l, unsigned reg)
{
    return c->base + CMDQV_VINTF0_PAGE1 + CMDQV_VCMDQ_STRIDE * l + reg;
}

static uint32_t cfg_r(Cv *c, unsigned off)
{
    return qtest_readl(c->qts, c->base + off);
}

static void cfg_w(Cv *c, unsigned off, uint32_t v)
{
    qtest_writel(c->qts, c->base + off, v);
}

static uint64_t alloc_reg(unsigned q)
{
    return A_CMDQV_CMDQ_ALLOC + 4 * q;
}

/*
 * SMMU up (bypass STE), CMDQV enabled, VCMDQ q allocated to VINTF0's
 * logical queue q, VINTF0 enabled, each queue of 2^log2size in RAM,
 * enabled and empty.
 */
static void cv_start(Cv *c, unsigned log2size)
{
    uint32_t param;

    memset(c, 0, sizeof(*c));
    c->t = start_bypass(CMDQV_ARGS);
    c->qts = c->t->qts;
    c->base = vsmmu_qtest_find_region(c->qts, "vsmmu-cmdqv", 0);
    g_assert_cmphex(c->base, !=, 0);
    param = cfg_r(c, A_CMDQV_PARAM);
    c->nq = 1u << FIELD_EX32(param, CMDQV_PARAM, NUM_VCMDQ_LOG2);
    g_assert_cmpuint(c->nq, >=, 2);
    c->log2size = log2size;
    cfg_w(c, A_CMDQV_CONFIG, 1);
    for (unsigned q = 0; q < c->nq; q++) {
        cfg_w(c, alloc_reg(q), (q << 1) | 1);
    }
    cfg_w(c, CMDQV_VINTF0_BASE + A_VINTF_CONFIG, 1);
    for (unsigned l = 0; l < c->nq; l++) {
        uint64_t size = 16ULL << log2size;

        c->qpa[l] = vsmmu_alloc(c->t, size, size);
        qtest_writeq(c->qts, lp1(c, l, A_VCMDQ_BASE), c->qpa[l] | log2size);
        qtest_writel(c->qts, lp0(c, l, A_VCMDQ_CONFIG), 1);
    }
}

static void cv_end(Cv *c)
{
    assert_alive(c->t);
    vsmmu_qtest_quit(c->t);
}

static bool vcmdq_err(Cv *c, unsigned l)
{
    return (qtest_readl(c->qts, lp0(c, l, A_VCMDQ_GERROR)) ^
            qtest_readl(c->qts, lp0(c, l, A_VCMDQ_GERRORN))) & 1;
}

/* Write @n commands at logical queue @l's PROD, then PROD once */
static void vcmdq_push(Cv *c, unsigned l, const VsmmuCmd *cmds, unsigned n)
{
    uint32_t mask = (1u << c->log2size) - 1;

    for (unsigned i = 0; i < n; i++) {
        uint64_t w[2] = { cpu_to_le64(cmds[i].word[0]),
                          cpu_to_le64(cmds[i].word[1]) };

        qtest_memwrite(c->qts, c->qpa[l] + 16 * (c->prod[l] & mask), w, 16);
        c->prod[l] = (c->prod[l] + 1) & (2 * mask + 1);
    }
    qtest_writel(c->qts, lp0(c, l, A_VCMDQ_PROD), c->prod[l]);
}

/*
 * Wait (bounded) for CONS == PROD or an active error; returns CONS (whose
 * ERR field means something only while the error is active)
 */
static uint32_t vcmdq_wait(Cv *c, unsigned l, unsigned polls)
{
    uint32_t mask = (2u << c->log2size) - 1;
    uint32_t cons = 0;

    for (unsigned i = 0; i < polls; i++) {
        cons = qtest_readl(c->qts, lp0(c, l, A_VCMDQ_CONS));
        if ((cons & mask) == (c->prod[l] & mask) || vcmdq_err(c, l)) {
            return cons;
        }
        if (i % 64 == 63) {
            step(c->t);
        }
    }
    g_printerr("VCMDQ %u: CONS 0x%x never reached PROD 0x%x\n", l, cons,
               c->prod[l]);
    return cons;
}

/* A TLBI + CMD_SYNC through logical queue @l completes */
static void vcmdq_works(Cv *c, unsigned l)
{
    VsmmuCmd cmds[2] = {
        vsmmu_cmd_tlbi_nh_asid(TEST_ASID),
        vsmmu_cmd_sync(CMD_SYNC_SIG_NONE, 0, 0),
    };
    uint32_t cons;

    vcmdq_push(c, l, cmds, 2);
    cons = vcmdq_wait(c, l, POLLS);
    g_assert_false(vcmdq_err(c, l));
    g_assert_cmphex(cons & ((2u << c->log2size) - 1), ==, c->prod[l]);
}

static void cv_odd(unsigned page_start, unsigned len)
{
    uint32_t regs[512];
    unsigned n;
    Cv c;

    cv_start(&c, 8);
    n = reg_range(regs, 0, 0, 0x40);
    n = reg_range(regs, n, A_CMDQV_CMDQ_ALLOC,
                  A_CMDQV_CMDQ_ALLOC + 4 * c.nq);
    n = reg_range(regs, n, CMDQV_VINTF0_BASE, CMDQV_VINTF0_BASE + 0x100);
    n = reg_range(regs, n, CMDQV_VCMDQ_PAGE0,
                  CMDQV_VCMDQ_PAGE0 + CMDQV_VCMDQ_STRIDE * c.nq);
    n = reg_range(regs, n, CMDQV_VCMDQ_PAGE1,
                  CMDQV_VCMDQ_PAGE1 + CMDQV_VCMDQ_STRIDE * c.nq);
    n = reg_range(regs, n, CMDQV_VINTF0_PAGE0,
                  CMDQV_VINTF0_PAGE0 + CMDQV_VCMDQ_STRIDE * c.nq);
    n = reg_range(regs, n, CMDQV_VINTF0_PAGE1,
                  CMDQV_VINTF0_PAGE1 + CMDQV_VCMDQ_STRIDE * c.nq);
    g_assert_cmpuint(n, <=, ARRAY_SIZE(regs));
    odd_accesses(c.qts, c.base, page_start, len, regs, n);
    for (unsigned l = 0; l < c.nq; l++) {
        vcmdq_works(&c, l);
    }
    cv_end(&c);
}

static void test_odd_access_cmdqv_config(void)
{
    cv_odd(0, 0x300);
    cv_odd(CMDQV_VINTF0_BASE, CMDQV_VINTF_SIZE);
}

static void test_odd_access_cmdqv_vcmdq_pages(void)
{
    cv_odd(CMDQV_VCMDQ_PAGE0, 2 * CMDQV_VCMDQ_STRIDE);
    cv_odd(CMDQV_VCMDQ_PAGE1, 2 * CMDQV_VCMDQ_STRIDE);
}

static void test_odd_access_cmdqv_vintf_pages(void)
{
    cv_odd(CMDQV_VINTF0_PAGE0, 2 * CMDQV_VCMDQ_STRIDE);
    cv_odd(CMDQV_VINTF0_PAGE1, 2 * CMDQV_VCMDQ_STRIDE);
}

/* ---------------------------------------------------------------------- */
/* 6. CMDQV allocation and queue edge cases                                */
/* ---------------------------------------------------------------------- */

/* An ALLOC value that reads back as allocated names an existing queue */
static void assert_alloc_sane(Cv *c, unsigned q)
{
    uint32_t a = cfg_r(c, alloc_reg(q));

    if (FIELD_EX32(a, CMDQV_CMDQ_ALLOC, ALLOCATED) &&
        !FIELD_EX32(a, CMDQV_CMDQ_ALLOC, VINTF)) {
        g_assert_cmpuint(FIELD_EX32(a, CMDQV_CMDQ_ALLOC, LVCMDQ), <, c->nq);
    }
}

/* Logical indices beyond the VINTF's count, and a VINTF that is not there */
static void test_cmdqv_alloc_beyond(void)
{
    static const uint32_t bad[] = {
        (5 << 1) | 1, (127 << 1) | 1, 0xffffffff, (1 << 15) | 1,
    };
    Cv c;

    cv_start(&c, 8);
    for (int i = 0; i < ARRAY_SIZE(bad); i++) {
        qtest_writel(c.qts, lp0(&c, 0, A_VCMDQ_CONFIG), 0);
        cfg_w(&c, alloc_reg(0), 0);
        cfg_w(&c, alloc_reg(0), bad[i]);
        assert_alloc_sane(&c, 0);
        /* The logical slots beyond the count are not there: RAZ/WI */
        qtest_writel(c.qts, lp0(&c, 5, A_VCMDQ_PROD), 3);
        g_assert_cmphex(qtest_readl(c.qts, lp0(&c, 5, A_VCMDQ_PROD)), ==, 0);
        qtest_writeq(c.qts, lp1(&c, 127, A_VCMDQ_BASE), ~0ULL);
        assert_alive(c.t);
    }
    /* Back to a proper allocation: the queue works */
    cfg_w(&c, alloc_reg(0), 1);
    qtest_writeq(c.qts, lp1(&c, 0, A_VCMDQ_BASE), c.qpa[0] | c.log2size);
    qtest_writel(c.qts, lp0(&c, 0, A_VCMDQ_PROD), 0);
    qtest_writel(c.qts, lp0(&c, 0, A_VCMDQ_CONS), 0);
    c.prod[0] = 0;
    qtest_writel(c.qts, lp0(&c, 0, A_VCMDQ_CONFIG), 1);
    vcmdq_works(&c, 0);
    vcmdq_works(&c, 1);
    cv_end(&c);
}

/*
 * Two VCMDQs allocated to the same logical index: the logical page is
 * one of them, a command pushed there runs on exactly one.
 */
static void test_cmdqv_alloc_twice(void)
{
    uint32_t p0, p1;
    Cv c;

    cv_start(&c, 8);
    for (unsigned q = 0; q < 2; q++) {
        qtest_writel(c.qts, gp0(&c, q, A_VCMDQ_CONFIG), 0);
        qtest_writel(c.qts, gp0(&c, q, A_VCMDQ_PROD), 0);
        qtest_writel(c.qts, gp0(&c, q, A_VCMDQ_CONS), 0);
    }
    cfg_w(&c, alloc_reg(1), 1);             /* queue 1 -> logical 0 too */
    assert_alloc_sane(&c, 1);
    for (unsigned q = 0; q < 2; q++) {
        qtest_writeq(c.qts, gp1(&c, q, A_VCMDQ_BASE), c.qpa[0] | c.log2size);
        qtest_writel(c.qts, gp0(&c, q, A_VCMDQ_CONFIG), 1);
    }
    c.prod[0] = 0;
    vcmdq_works(&c, 0);
    p0 = qtest_readl(c.qts, gp0(&c, 0, A_VCMDQ_PROD));
    p1 = qtest_readl(c.qts, gp0(&c, 1, A_VCMDQ_PROD));
    note("global PROD 0x%x 0x%x", p0, p1);
    g_assert_true((p0 == 2) != (p1 == 2));
    cv_end(&c);
}

/* Re-allocation and un-allocation of an enabled queue */
static void test_cmdqv_alloc_while_enabled(void)
{
    VsmmuCmd cmd = vsmmu_cmd_tlbi_nh_asid(TEST_ASID);
    Cv c;

    cv_start(&c, 8);
    /* Queue 0, enabled, moves to logical 1 (which queue 1 also has) */
    cfg_w(&c, alloc_reg(0), (1 << 1) | 1);
    assert_alloc_sane(&c, 0);
    qtest_writel(c.qts, gp0(&c, 0, A_VCMDQ_PROD), 1);
    qtest_writel(c.qts, lp0(&c, 1, A_VCMDQ_PROD), 1);
    assert_alive(c.t);
    /* Un-allocated while enabled, with commands pending */
    cfg_w(&c, alloc_reg(0), 0);
    vcmdq_push(&c, 1, &cmd, 1);
    qtest_writel(c.qts, gp0(&c, 0, A_VCMDQ_PROD), 7);
    assert_alive(c.t);
    /* The driver's sequence again: every queue works */
    for (unsigned q = 0; q < c.nq; q++) {
        qtest_writel(c.qts, gp0(&c, q, A_VCMDQ_CONFIG), 0);
        cfg_w(&c, alloc_reg(q), (q << 1) | 1);
        qtest_writel(c.qts, lp0(&c, q, A_VCMDQ_PROD), 0);
        qtest_writel(c.qts, lp0(&c, q, A_VCMDQ_CONS), 0);
        qtest_writel(c.qts, lp0(&c, q, A_VCMDQ_GERRORN),
                     qtest_readl(c.qts, lp0(&c, q, A_VCMDQ_GERROR)));
        qtest_writeq(c.qts, lp1(&c, q, A_VCMDQ_BASE), c.qpa[q] | c.log2size);
        qtest_writel(c.qts, lp0(&c, q, A_VCMDQ_CONFIG), 1);
        c.prod[q] = 0;
    }
    for (unsigned l = 0; l < c.nq; l++) {
        vcmdq_works(&c, l);
    }
    cv_end(&c);
}

/* VCMDQ_BASE.LOG2SIZE 31: the effective size is at most IDR1.CMDQS */
static void test_vcmdq_log2size_beyond(void)
{
    VsmmuCmd sync = vsmmu_cmd_sync(CMD_SYNC_SIG_NONE, 0, 0);
    unsigned cmdqs;
    uint64_t size, q;
    uint32_t cons = 0;
    Cv c;

    cv_start(&c, 8);
    cmdqs = FIELD_EX32(vsmmu_readl(c.t, A_IDR1), IDR1, CMDQS);
    size = 16ULL << cmdqs;
    q = vsmmu_alloc(c.t, size, size);
    qtest_writel(c.qts, lp0(&c, 0, A_VCMDQ_CONFIG), 0);
    qtest_writeq(c.qts, lp1(&c, 0, A_VCMDQ_BASE), q | 31);
    qtest_writel(c.qts, lp0(&c, 0, A_VCMDQ_PROD), 0);
    qtest_writel(c.qts, lp0(&c, 0, A_VCMDQ_CONS), 0);
    qtest_writel(c.qts, lp0(&c, 0, A_VCMDQ_CONFIG), 1);
    vsmmu_write_words(c.t, q, sync.word, 2);
    vsmmu_write_words(c.t, q + 16, sync.word, 2);
    qtest_writel(c.qts, lp0(&c, 0, A_VCMDQ_PROD), 2);
    for (int i = 0; i < POLLS; i++) {
        cons = qtest_readl(c.qts, lp0(&c, 0, A_VCMDQ_CONS));
        if (cons == 2 || vcmdq_err(&c, 0)) {
            break;
        }
        step(c.t);
    }
    g_assert_cmphex(cons, ==, 2);
    g_assert_false(vcmdq_err(&c, 0));
    vcmdq_works(&c, 1);
    cv_end(&c);
}

/* 1000 PROD writes of random values on a ring of valid commands */
static void test_vcmdq_prod_storm(void)
{
    VsmmuCmd cmd = vsmmu_cmd_tlbi_nh_asid(TEST_ASID);
    uint32_t x = 0x9e3779b9, cons = 0;
    Cv c;

    cv_start(&c, 8);
    for (unsigned i = 0; i < (1u << c.log2size); i++) {
        vsmmu_write_words(c.t, c.qpa[1] + 16 * i, cmd.word, 2);
    }
    for (int i = 0; i < 1000; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        qtest_writel(c.qts, lp0(&c, 1, A_VCMDQ_PROD), x);
    }
    assert_alive(c.t);
    g_assert_false(vcmdq_err(&c, 1));
    /* Settle: PROD where CONS is, then two more */
    for (int i = 0; i < POLLS; i++) {
        step(c.t);
        cons = qtest_readl(c.qts, lp0(&c, 1, A_VCMDQ_CONS));
        if ((cons & 0x1ff) == (x & 0x1ff)) {
            break;
        }
    }
    c.prod[1] = cons & 0x1ff;
    qtest_writel(c.qts, lp0(&c, 1, A_VCMDQ_PROD), c.prod[1]);
    vcmdq_works(&c, 1);
    vcmdq_works(&c, 0);
    cv_end(&c);
}

/*
 * Every command a guest-owned VINTF's queue may not carry: CERROR_ILL in
 * that queue's CONS (on the command), its GERROR, and the three error
 * maps; the driver's fix-up resumes it.
 */
static void test_vcmdq_forbidden(void)
{
    static const uint8_t ops[] = {
        0x00, CMD_PREFETCH_CONFIG, CMD_PREFETCH_ADDR, CMD_CFGI_STE,
        CMD_CFGI_STE_RANGE, CMD_CFGI_CD, CMD_CFGI_CD_ALL, CMD_TLBI_NH_ALL,
        CMD_TLBI_NH_VAA, CMD_TLBI_EL2_ALL, CMD_TLBI_NSNH_ALL, 0x41, 0x44,
        0x45, 0xff,
    };
    VsmmuCmd sync = vsmmu_cmd_sync(CMD_SYNC_SIG_NONE, 0, 0);
    uint32_t mask, cons, slot;
    Cv c;

    cv_start(&c, 8);
    mask = (2u << c.log2size) - 1;
    for (int i = 0; i < ARRAY_SIZE(ops); i++) {
        VsmmuCmd bad = vsmmu_cmd_raw(ops[i], 0);

        note("opcode 0x%02x", ops[i]);
        slot = c.prod[1];
        vcmdq_push(&c, 1, &bad, 1);
        cons = vcmdq_wait(&c, 1, POLLS);
        g_assert_cmphex(FIELD_EX32(cons, VCMDQ_CONS, ERR), ==, CERROR_ILL);
        g_assert_cmphex(cons & mask, ==, slot);
        g_assert_true(vcmdq_err(&c, 1));
        g_assert_false(vcmdq_err(&c, 0));
        g_assert_cmphex(cfg_r(&c, CMDQV_VINTF0_BASE + A_VINTF_LVCMDQ_ERR_MAP),
                        ==, 2);
        g_assert_cmphex(cfg_r(&c, A_CMDQV_CMDQ_ERR_MAP), ==, 2);
        g_assert_cmphex(cfg_r(&c, A_CMDQV_VINTF_ERR_MAP), ==, 1);
        /* Replaced by a CMD_SYNC, acknowledged: resumes */
        vsmmu_write_words(c.t, c.qpa[1] + 16 * (slot & (mask >> 1)),
                          sync.word, 2);
        qtest_writel(c.qts, lp0(&c, 1, A_VCMDQ_GERRORN),
                     qtest_readl(c.qts, lp0(&c, 1, A_VCMDQ_GERROR)));
        cons = vcmdq_wait(&c, 1, POLLS);
        g_assert_cmphex(cons & mask, ==, c.prod[1]);
        g_assert_false(vcmdq_err(&c, 1));
        g_assert_cmphex(cfg_r(&c, A_CMDQV_VINTF_ERR_MAP), ==, 0);
    }
    vcmdq_works(&c, 1);
    cv_end(&c);
}

/* A full VCMDQ of the largest size, only CMD_SYNCs with MSIs */
static void test_vcmdq_full_of_syncs(void)
{
    unsigned log2size, n;
    g_autofree uint64_t *buf = NULL;
    uint64_t msi;
    uint32_t cons;
    Cv c;

    cv_start(&c, 8);
    log2size = FIELD_EX32(vsmmu_readl(c.t, A_IDR1), IDR1, CMDQS);
    n = 1u << log2size;
    msi = vsmmu_alloc(c.t, 4096, 4096);
    c.qpa[0] = vsmmu_alloc(c.t, 16ULL * n, 16ULL * n);
    buf = g_new(uint64_t, 2 * n);
    for (unsigned i = 0; i < n; i++) {
        VsmmuCmd s = vsmmu_cmd_sync(CMD_SYNC_SIG_IRQ, msi, i + 1);

        buf[2 * i] = cpu_to_le64(s.word[0]);
        buf[2 * i + 1] = cpu_to_le64(s.word[1]);
    }
    big_write(c.qts, c.qpa[0], buf, 16ULL * n);
    qtest_writel(c.qts, lp0(&c, 0, A_VCMDQ_CONFIG), 0);
    qtest_writeq(c.qts, lp1(&c, 0, A_VCMDQ_BASE), c.qpa[0] | log2size);
    qtest_writel(c.qts, lp0(&c, 0, A_VCMDQ_PROD), 0);
    qtest_writel(c.qts, lp0(&c, 0, A_VCMDQ_CONS), 0);
    qtest_writel(c.qts, lp0(&c, 0, A_VCMDQ_CONFIG), 1);
    c.log2size = log2size;
    c.prod[0] = n;
    qtest_writel(c.qts, lp0(&c, 0, A_VCMDQ_PROD), n);
    assert_alive(c.t);
    cons = vcmdq_wait(&c, 0, BIG_POLLS);
    g_assert_false(vcmdq_err(&c, 0));
    g_assert_cmphex(cons & (2 * n - 1), ==, n);
    g_assert_cmphex(qtest_readl(c.qts, msi), ==, n);
    cv_end(&c);
}

/* ---------------------------------------------------------------------- */
/* 7. Crafted migration streams                                            */
/* ---------------------------------------------------------------------- */

/* Unique values in 64-bit registers, to find the vsmmu's fields */
#define MAGIC_STRTAB            0x5abcde40ULL
#define MAGIC_GERROR_CFG0       0x00000a5a12345670ULL
#define MAGIC_EVENTQ_CFG0       0x00000b6b23456780ULL
#define MAGIC_CMDQ_PA           0x5c3a5000ULL
#define MAGIC_EVENTQ_PA         0x5d4b6000ULL
#define MAGIC_VCMDQ_PA          0x5e6c7000ULL
#define MAGIC_CR1               0x00000d75u

typedef struct Mig {
    VsmmuQtest *src;
    char *dir;
    char *path;
    uint8_t *buf;
    gsize len;
    /* offsets in the stream */
    gsize strtab, gerror_cfg0, eventq_cfg0, cmdq, eventq, vcmdq0;
} Mig;

static uint32_t be32_at(Mig *m, gsize off)
{
    return ldl_be_p(m->buf + off);
}

static void put_be32(Mig *m, gsize off, uint32_t v)
{
    stl_be_p(m->buf + off, v);
}

static void put_be64(Mig *m, gsize off, uint64_t v)
{
    stq_be_p(m->buf + off, v);
}

/* The one offset of @v (big-endian, as VMState writes it) */
static gsize find_be64(Mig *m, uint64_t v)
{
    uint8_t pat[8];
    gsize found = 0;
    int n = 0;

    stq_be_p(pat, v);
    for (gsize i = 0; i + 8 <= m->len; i++) {
        if (!memcmp(m->buf + i, pat, 8)) {
            found = i;
            n++;
        }
    }
    if (n != 1) {
        g_printerr("0x%016" PRIx64 " found %d times in the stream\n", v, n);
    }
    g_assert_cmpint(n, ==, 1);
    return found;
}

/*
 * The source: CR1/CR2 set, magic addresses in the 64-bit registers, a
 * command queue (3 CMD_SYNCs consumed) and an event queue at known
 * places, both enabled if @queues, SMMUEN off; with @cmdqv, VCMDQ 0 at a
 * known place.
 */
static void mig_source(Mig *m, bool queues, bool cmdqv)
{
    VsmmuQtest *t;
    uint32_t cr2 = 0;

    memset(m, 0, sizeof(*m));
    m->src = t = start(cmdqv ? CMDQV_ARGS : VSMMU_ARGS);
    set_cr0(t, 0);
    vsmmu_writel(t, A_CR1, MAGIC_CR1);
    cr2 = FIELD_DP32(cr2, CR2, RECINVSID, 1);
    cr2 = FIELD_DP32(cr2, CR2, PTM, 1);
    vsmmu_writel(t, A_CR2, cr2);
    vsmmu_writeq(t, A_STRTAB_BASE, MAGIC_STRTAB | R_STRTAB_BASE_RA_MASK);
    vsmmu_writel(t, A_STRTAB_BASE_CFG, 8);
    vsmmu_writeq(t, A_GERROR_IRQ_CFG0, MAGIC_GERROR_CFG0);
    vsmmu_writeq(t, A_EVENTQ_IRQ_CFG0, MAGIC_EVENTQ_CFG0);
    vsmmu_writeq(t, A_CMDQ_BASE, MAGIC_CMDQ_PA | R_QUEUE_BASE_RA_MASK | 8);
    vsmmu_writeq(t, A_EVENTQ_BASE,
                 MAGIC_EVENTQ_PA | R_QUEUE_BASE_RA_MASK | 4);
    vsmmu_writel(t, A_CMDQ_PROD, 0);
    vsmmu_writel(t, A_CMDQ_CONS, 0);
    vsmmu_writel(t, VSMMU_PAGE1_EVENTQ_PROD, 0);
    vsmmu_writel(t, VSMMU_PAGE1_EVENTQ_CONS, 0);
    qtest_memset(t->qts, MAGIC_CMDQ_PA, 0, 4096);
    t->cmdq = (VsmmuQueue) { .base = MAGIC_CMDQ_PA, .log2size = 8 };
    t->evtq = (VsmmuQueue) { .base = MAGIC_EVENTQ_PA, .log2size = 4 };
    set_cr0(t, R_CR0_CMDQEN_MASK | R_CR0_EVENTQEN_MASK);
    for (int i = 0; i < 3; i++) {
        vsmmu_sync_none(t);
    }
    if (!queues) {
        set_cr0(t, 0);
    }
    if (cmdqv) {
        uint64_t cv = vsmmu_qtest_find_region(t->qts, "vsmmu-cmdqv", 0);

        g_assert_cmphex(cv, !=, 0);
        qtest_writel(t->qts, cv + A_CMDQV_CONFIG, 1);
        qtest_writel(t->qts, cv + A_CMDQV_CMDQ_ALLOC, 1);
        qtest_writel(t->qts, cv + A_CMDQV_CMDQ_ALLOC + 4, (1 << 1) | 1);
        qtest_writel(t->qts, cv + CMDQV_VINTF0_BASE + A_VINTF_CONFIG, 1);
        qtest_writeq(t->qts, cv + CMDQV_VINTF0_PAGE1 + A_VCMDQ_BASE,
                     MAGIC_VCMDQ_PA | 8);
        qtest_writel(t->qts, cv + CMDQV_VINTF0_PAGE0 + A_VCMDQ_CONFIG, 1);
    }
}

static void mig_wait(QTestState *qts, bool incoming, bool *ok)
{
    for (int i = 0; i < 6000; i++) {
        QDict *rsp = qtest_qmp(qts, "{ 'execute': 'query-migrate' }");
        QDict *ret = qdict_get_qdict(rsp, "return");
        const char *status = ret ? qdict_get_try_str(ret, "status") : NULL;
        bool done = status && (!strcmp(status, "completed") ||
                               !strcmp(status, "failed"));

        if (done) {
            *ok = !strcmp(status, "completed");
            if (!*ok && qdict_haskey(ret, "error-desc")) {
                note("%s migration failed: %s",
                     incoming ? "incoming" : "outgoing",
                     qdict_get_str(ret, "error-desc"));
            }
            qobject_unref(rsp);
            return;
        }
        qobject_unref(rsp);
        g_usleep(5000);
    }
    g_assert_not_reached();
}

/* Save the source to a file and read it; find the vsmmu's fields */
static void mig_save(Mig *m, bool cmdqv)
{
    g_autofree char *uri = NULL;
    GError *err = NULL;
    QDict *rsp;
    bool ok;

    m->dir = g_dir_make_tmp("vsmmu-hostile-XXXXXX", NULL);
    g_assert_nonnull(m->dir);
    m->path = g_build_filename(m->dir, "stream", NULL);
    uri = g_strdup_printf("file:%s", m->path);
    rsp = qtest_qmp(m->src->qts, "{ 'execute': 'migrate', 'arguments': "
                    "{ 'uri': %s } }", uri);
    g_assert_false(qdict_haskey(rsp, "error"));
    qobject_unref(rsp);
    mig_wait(m->src->qts, false, &ok);
    g_assert_true(ok);
    g_assert_true(g_file_get_contents(m->path, (char **)&m->buf, &m->len,
                                      &err));
    note("stream: %" G_GSIZE_FORMAT " bytes", m->len);

    m->strtab = find_be64(m, MAGIC_STRTAB | R_STRTAB_BASE_RA_MASK);
    m->gerror_cfg0 = find_be64(m, MAGIC_GERROR_CFG0);
    m->eventq_cfg0 = find_be64(m, MAGIC_EVENTQ_CFG0);
    m->cmdq = find_be64(m, MAGIC_CMDQ_PA | R_QUEUE_BASE_RA_MASK | 8);
    m->eventq = find_be64(m, MAGIC_EVENTQ_PA | R_QUEUE_BASE_RA_MASK | 4);
    /* VMState: cr0..gerrorn (32-bit each) precede GERROR_IRQ_CFG0 */
    g_assert_cmphex(be32_at(m, m->gerror_cfg0 - 28) & ~R_CR0_SMMUEN_MASK, ==,
                    vsmmu_readl(m->src, A_CR0) & ~R_CR0_SMMUEN_MASK);
    g_assert_cmphex(be32_at(m, m->gerror_cfg0 - 24), ==, MAGIC_CR1);
    /* strtab_base_cfg follows STRTAB_BASE; PROD, CONS follow a base */
    g_assert_cmphex(be32_at(m, m->strtab + 8), ==, 8);
    g_assert_cmphex(be32_at(m, m->cmdq + 8), ==, 3);
    g_assert_cmphex(be32_at(m, m->cmdq + 12), ==, 3);
    if (cmdqv) {
        m->vcmdq0 = find_be64(m, MAGIC_VCMDQ_PA | 8);
        /* base, cons_indx_base, prod, cons, config, gerror, gerrorn, alloc */
        g_assert_cmphex(be32_at(m, m->vcmdq0 + 24), ==, 1);     /* config */
        g_assert_cmphex(be32_at(m, m->vcmdq0 + 36), ==, 1);     /* alloc */
        g_assert_cmphex(be32_at(m, m->vcmdq0 + 40 + 36), ==, 3);
    }
    vsmmu_qtest_quit(m->src);
    m->src = NULL;
}

/*
 * Load the (patched) stream into a fresh QEMU that stays up if the load
 * fails. Returns it; *accepted says whether the load completed.
 */
static VsmmuQtest *mig_load(Mig *m, bool cmdqv, bool *accepted)
{
    g_autofree char *uri = g_strdup_printf("file:%s", m->path);
    QTestState *qts;
    QDict *rsp;

    g_assert_true(g_file_set_contents(m->path, (char *)m->buf, m->len, NULL));
    qts = qtest_initf("-M virt -cpu max -nodefaults -m 512M %s "
                      "-incoming defer", cmdqv ? CMDQV_ARGS : VSMMU_ARGS);
    rsp = qtest_qmp(qts, "{ 'execute': 'migrate-incoming', 'arguments': "
                    "{ 'uri': %s, 'exit-on-error': false } }", uri);
    g_assert_false(qdict_haskey(rsp, "error"));
    qobject_unref(rsp);
    mig_wait(qts, true, accepted);
    note("destination %s the stream",
         *accepted ? "accepted" : "refused");
    return vsmmu_qtest_attach(qts);
}

static void mig_end(Mig *m, VsmmuQtest *dst)
{
    assert_alive(dst);
    vsmmu_qtest_quit(dst);
    unlink(m->path);
    rmdir(m->dir);
    g_free(m->path);
    g_free(m->dir);
    g_free(m->buf);
}

/* Writable bits of the registers (what the MMIO write path keeps) */
static void assert_regs_sane(VsmmuQtest *t)
{
    static const struct {
        uint32_t off;
        uint32_t mask;
    } r32[] = {
        { A_CR0, CR0_ALL }, { A_CR0ACK, CR0_ALL }, { A_CR1, 0xfff },
        { A_CR2, 0x7 }, { A_GBPA, GBPA_FIELDS }, { A_IRQ_CTRL, 0x5 },
        { A_IRQ_CTRLACK, 0x5 },
        { A_GERROR, 0x1fd }, { A_GERRORN, 0x1fd },
        { A_GERROR_IRQ_CFG2, 0x3f }, { A_EVENTQ_IRQ_CFG2, 0x3f },
        { A_STRTAB_BASE_CFG, 0x307ff },
    };
    static const struct {
        uint32_t off;
        uint64_t mask;
    } r64[] = {
        { A_STRTAB_BASE, R_STRTAB_BASE_ADDR_MASK | R_STRTAB_BASE_RA_MASK },
        { A_CMDQ_BASE, R_QUEUE_BASE_ADDR_MASK | R_QUEUE_BASE_RA_MASK |
                       R_QUEUE_BASE_LOG2SIZE_MASK },
        { A_EVENTQ_BASE, R_QUEUE_BASE_ADDR_MASK | R_QUEUE_BASE_RA_MASK |
                         R_QUEUE_BASE_LOG2SIZE_MASK },
        { A_GERROR_IRQ_CFG0, R_IRQ_CFG0_ADDR_MASK },
        { A_EVENTQ_IRQ_CFG0, R_IRQ_CFG0_ADDR_MASK },
    };
    unsigned cmdqs = FIELD_EX32(vsmmu_readl(t, A_IDR1), IDR1, CMDQS);
    unsigned eventqs = FIELD_EX32(vsmmu_readl(t, A_IDR1), IDR1, EVENTQS);
    unsigned lc = MIN(FIELD_EX64(vsmmu_readq(t, A_CMDQ_BASE), QUEUE_BASE,
                                 LOG2SIZE), cmdqs);
    unsigned le = MIN(FIELD_EX64(vsmmu_readq(t, A_EVENTQ_BASE), QUEUE_BASE,
                                 LOG2SIZE), eventqs);

    for (int i = 0; i < ARRAY_SIZE(r32); i++) {
        uint32_t v = vsmmu_readl(t, r32[i].off);

        if (v & ~r32[i].mask) {
            g_printerr("register 0x%x = 0x%x\n", r32[i].off, v);
        }
        g_assert_cmphex(v & ~r32[i].mask, ==, 0);
    }
    for (int i = 0; i < ARRAY_SIZE(r64); i++) {
        uint64_t v = vsmmu_readq(t, r64[i].off);

        if (v & ~r64[i].mask) {
            g_printerr("register 0x%x = 0x%" PRIx64 "\n", r64[i].off, v);
        }
        g_assert_cmphex(v & ~r64[i].mask, ==, 0);
    }
    g_assert_cmphex(vsmmu_readl(t, A_CMDQ_PROD), <, 2u << lc);
    g_assert_cmphex(vsmmu_readl(t, A_CMDQ_CONS) & ~R_CMDQ_CONS_ERR_MASK, <,
                    2u << lc);
    g_assert_cmphex(vsmmu_readl(t, VSMMU_PAGE1_EVENTQ_PROD) &
                    ~R_QUEUE_INDEX_OVFLG_MASK, <, 2u << le);
    g_assert_cmphex(vsmmu_readl(t, VSMMU_PAGE1_EVENTQ_CONS) &
                    ~R_QUEUE_INDEX_OVFLG_MASK, <, 2u << le);
}

/* Queue indices far beyond LOG2SIZE: clamped to index + wrap */
static void test_mig_indices(void)
{
    VsmmuQtest *dst;
    bool accepted;
    Mig m;

    mig_source(&m, false, false);
    mig_save(&m, false);
    put_be32(&m, m.cmdq + 8, 0xdeadbeef);
    put_be32(&m, m.cmdq + 12, 0x0eadbeef);
    put_be32(&m, m.eventq + 8, 0xfedcba98);
    put_be32(&m, m.eventq + 12, 0x12345678);
    dst = mig_load(&m, false, &accepted);
    g_assert_true(accepted);
    assert_regs_sane(dst);
    g_assert_cmphex(vsmmu_readl(dst, A_CMDQ_PROD), ==, 0xdeadbeef & 0x1ff);
    g_assert_cmphex(vsmmu_readl(dst, A_CMDQ_CONS) & 0x1ff, ==,
                    0x0eadbeef & 0x1ff);
    mig_end(&m, dst);
}

/* Every register with all bits set: masked to the writable bits */
static void test_mig_reserved_bits(void)
{
    VsmmuQtest *dst;
    bool accepted;
    Mig m;

    mig_source(&m, false, false);
    mig_save(&m, false);
    /* cr0, cr1, cr2, gbpa, irq_ctrl, gerror, gerrorn */
    for (int i = 0; i < 7; i++) {
        put_be32(&m, m.gerror_cfg0 - 28 + 4 * i, ~0u);
    }
    put_be64(&m, m.gerror_cfg0, ~0ULL);
    put_be32(&m, m.gerror_cfg0 + 8, ~0u);
    put_be32(&m, m.gerror_cfg0 + 12, ~0u);
    put_be64(&m, m.strtab, ~0ULL);
    put_be32(&m, m.strtab + 8, ~0u);
    put_be64(&m, m.cmdq, ~0ULL);
    put_be64(&m, m.eventq, ~0ULL);
    put_be64(&m, m.eventq_cfg0, ~0ULL);
    put_be32(&m, m.eventq_cfg0 + 8, ~0u);
    put_be32(&m, m.eventq_cfg0 + 12, ~0u);
    dst = mig_load(&m, false, &accepted);
    g_assert_true(accepted);
    assert_regs_sane(dst);
    /* DMA with this configuration: faults or bypass, never a crash */
    vsmmu_testdev_copy(dst, 0x1000, 0x2000, 64);
    mig_end(&m, dst);
}

/* LOG2SIZE 31 with indices at 2^31 - 1: effective IDR1 sizes */
static void test_mig_log2size_beyond_idr1(void)
{
    VsmmuQtest *dst;
    bool accepted;
    Mig m;

    mig_source(&m, false, false);
    mig_save(&m, false);
    put_be64(&m, m.cmdq, MAGIC_CMDQ_PA | 31);
    put_be32(&m, m.cmdq + 8, 0x7fffffff);
    put_be32(&m, m.cmdq + 12, 0x00ffffff);
    put_be64(&m, m.eventq, MAGIC_EVENTQ_PA | 31);
    put_be32(&m, m.eventq + 8, 0x7fffffff);
    put_be32(&m, m.eventq + 12, 0x7fffffff);
    dst = mig_load(&m, false, &accepted);
    g_assert_true(accepted);
    assert_regs_sane(dst);
    mig_end(&m, dst);
}

/*
 * CMDQEN set and PROD ahead of CONS (a queue mid-run at migration): the
 * destination runs the pending commands: CONS reaches PROD without a
 * further doorbell, their CMD_SYNC MSI lands.
 */
static void test_mig_pending_cmdq(void)
{
    uint64_t marker = 0x5c3a6000;
    VsmmuCmd cmds[3];
    VsmmuQtest *dst;
    bool accepted;
    Mig m;

    mig_source(&m, true, false);
    cmds[0] = vsmmu_cmd_tlbi_nh_all();
    cmds[1] = vsmmu_cmd_cfgi_all();
    cmds[2] = vsmmu_cmd_sync(CMD_SYNC_SIG_IRQ, marker, 0x600d);
    for (int i = 0; i < 3; i++) {
        vsmmu_write_words(m.src, MAGIC_CMDQ_PA + 16 * (3 + i), cmds[i].word,
                          2);
    }
    qtest_writel(m.src->qts, marker, 0);
    mig_save(&m, false);
    put_be32(&m, m.cmdq + 8, 6);
    dst = mig_load(&m, false, &accepted);
    g_assert_true(accepted);
    dst->cmdq = (VsmmuQueue) { .base = MAGIC_CMDQ_PA, .log2size = 8,
                               .prod = 6 };
    g_assert_true(cmdq_drain(dst, POLLS));
    g_assert_cmphex(qtest_readl(dst->qts, marker), ==, 0x600d);
    g_assert_cmphex(vsmmu_gerror_active(dst), ==, 0);
    mig_end(&m, dst);
}

/*
 * An event queue over-full on arrival, SMMUEN on with no valid STE: the
 * records the destination writes stay inside the ring.
 */
static void test_mig_eventq_overfull(void)
{
    VsmmuQtest *dst;
    bool accepted;
    Mig m;

    mig_source(&m, true, false);
    qtest_memset(m.src->qts, MAGIC_STRTAB, 0, 16384);
    qtest_memset(m.src->qts, MAGIC_EVENTQ_PA - 4096, 0xee, 3 * 4096);
    qtest_memset(m.src->qts, MAGIC_EVENTQ_PA, 0, 512);
    vsmmu_enable(m.src);
    mig_save(&m, false);
    /* PROD 19 entries ahead of CONS in a 16-entry ring */
    put_be32(&m, m.eventq + 8, 0x80000015);
    put_be32(&m, m.eventq + 12, 0x00000002);
    dst = mig_load(&m, false, &accepted);
    g_assert_true(accepted);
    assert_regs_sane(dst);
    for (int i = 0; i < 40; i++) {
        vsmmu_testdev_copy(dst, 0x1000, 0x2000, 64);
    }
    g_assert_true(vsmmu_check_byte(dst->qts, MAGIC_EVENTQ_PA - 4096, 4096,
                                   0xee));
    g_assert_true(vsmmu_check_byte(dst->qts, MAGIC_EVENTQ_PA + 512,
                                   2 * 4096 - 512, 0xee));
    mig_end(&m, dst);
}

/*
 * CMDQV: CMDQ_ALLOC with a logical index beyond the VINTF's queues and a
 * VINTF that does not exist: the destination takes the stream and
 * sanitises (the queues are not allocated).
 */
static void test_mig_cmdqv_alloc(void)
{
    VsmmuQtest *dst;
    bool accepted;
    Cv c = { 0 };
    Mig m;

    mig_source(&m, false, true);
    mig_save(&m, true);
    put_be32(&m, m.vcmdq0 + 36, (100 << 1) | 1);
    put_be32(&m, m.vcmdq0 + 40 + 36, ~0u);
    dst = mig_load(&m, true, &accepted);
    g_assert_true(accepted);
    c.t = dst;
    c.qts = dst->qts;
    c.base = vsmmu_qtest_find_region(dst->qts, "vsmmu-cmdqv", 0);
    c.nq = 1u << FIELD_EX32(cfg_r(&c, A_CMDQV_PARAM), CMDQV_PARAM,
                            NUM_VCMDQ_LOG2);
    assert_alloc_sane(&c, 0);
    assert_alloc_sane(&c, 1);
    for (unsigned l = 0; l < c.nq; l++) {
        qtest_writel(c.qts, lp0(&c, l, A_VCMDQ_PROD), 1);
    }
    mig_end(&m, dst);
}

/*
 * CMDQV: an enabled VCMDQ with PROD ahead of CONS on arrival: its
 * commands run on the destination without a further doorbell.
 */
static void test_mig_vcmdq_pending(void)
{
    uint64_t marker = MAGIC_VCMDQ_PA + 0x1000;
    VsmmuCmd cmds[2];
    VsmmuQtest *dst;
    bool accepted;
    uint32_t cons = 0;
    Cv c = { 0 };
    Mig m;

    mig_source(&m, false, true);
    cmds[0] = vsmmu_cmd_tlbi_nh_asid(TEST_ASID);
    cmds[1] = vsmmu_cmd_sync(CMD_SYNC_SIG_IRQ, marker, 0xc0de);
    for (int i = 0; i < 2; i++) {
        vsmmu_write_words(m.src, MAGIC_VCMDQ_PA + 16 * i, cmds[i].word, 2);
    }
    qtest_writel(m.src->qts, marker, 0);
    mig_save(&m, true);
    put_be32(&m, m.vcmdq0 + 16, 2);     /* PROD */
    dst = mig_load(&m, true, &accepted);
    g_assert_true(accepted);
    c.t = dst;
    c.qts = dst->qts;
    c.base = vsmmu_qtest_find_region(dst->qts, "vsmmu-cmdqv", 0);
    for (int i = 0; i < POLLS && (cons & 0x1ff) != 2; i++) {
        step(dst);
        cons = qtest_readl(c.qts, lp0(&c, 0, A_VCMDQ_CONS));
    }
    g_assert_cmphex(cons & 0x1ff, ==, 2);
    g_assert_false(vcmdq_err(&c, 0));
    g_assert_cmphex(qtest_readl(dst->qts, marker), ==, 0xc0de);
    mig_end(&m, dst);
}

/*
 * CMDQV: a VCMDQ with garbage pointers, CONFIG, GERROR and LOG2SIZE 31:
 * taken and masked to the registers' fields; the guest can reset the
 * queue and use it.
 */
static void test_mig_cmdqv_vcmdq_garbage(void)
{
    VsmmuQtest *dst;
    bool accepted;
    Cv c = { 0 };
    Mig m;

    mig_source(&m, false, true);
    mig_save(&m, true);
    put_be64(&m, m.vcmdq0, MAGIC_VCMDQ_PA | 31 | 0xfff0000000000000ULL);
    put_be64(&m, m.vcmdq0 + 8, ~0ULL);
    for (int i = 0; i < 5; i++) {       /* prod .. gerrorn */
        put_be32(&m, m.vcmdq0 + 16 + 4 * i, 0xffffffff - i);
    }
    dst = mig_load(&m, true, &accepted);
    g_assert_true(accepted);
    c.t = dst;
    c.qts = dst->qts;
    c.base = vsmmu_qtest_find_region(dst->qts, "vsmmu-cmdqv", 0);
    c.nq = 2;
    c.log2size = 8;
    c.qpa[0] = MAGIC_VCMDQ_PA;
    g_assert_cmphex(qtest_readq(c.qts, lp1(&c, 0, A_VCMDQ_BASE)) &
                    ~(R_VCMDQ_BASE_ADDR_MASK | R_VCMDQ_BASE_LOG2SIZE_MASK), ==,
                    0);
    g_assert_cmphex(qtest_readl(c.qts, lp0(&c, 0, A_VCMDQ_CONFIG)) &
                    ~R_VCMDQ_CONFIG_EN_MASK, ==, 0);
    g_assert_cmphex(qtest_readl(c.qts, lp0(&c, 0, A_VCMDQ_GERROR)) &
                    ~VCMDQ_GERROR_BITS, ==, 0);
    g_assert_cmphex(qtest_readl(c.qts, lp0(&c, 0, A_VCMDQ_GERRORN)) &
                    ~VCMDQ_GERROR_BITS, ==, 0);
    qtest_writel(c.qts, lp0(&c, 0, A_VCMDQ_PROD), 5);
    assert_alive(dst);
    qtest_writel(c.qts, lp0(&c, 0, A_VCMDQ_CONFIG), 0);
    qtest_writeq(c.qts, lp1(&c, 0, A_VCMDQ_BASE), MAGIC_VCMDQ_PA | 8);
    qtest_writel(c.qts, lp0(&c, 0, A_VCMDQ_PROD), 0);
    qtest_writel(c.qts, lp0(&c, 0, A_VCMDQ_CONS), 0);
    qtest_writel(c.qts, lp0(&c, 0, A_VCMDQ_GERRORN),
                 qtest_readl(c.qts, lp0(&c, 0, A_VCMDQ_GERROR)));
    qtest_writel(c.qts, lp0(&c, 0, A_VCMDQ_CONFIG), 1);
    vcmdq_works(&c, 0);
    mig_end(&m, dst);
}

/* ---------------------------------------------------------------------- */
/* Registration                                                            */
/* ---------------------------------------------------------------------- */

typedef struct Case {
    const char *path;
    void (*fn)(void);
} Case;

static const Case cases[] = {
    { "cd/epd0-small-t0sz-tbi", test_cd_epd0_small_t0sz_tbi },
    { "cd/epd1-small-t1sz-tbi", test_cd_epd1_small_t1sz_tbi },
    { "mmio/strtab-own", test_strtab_own_mmio },
    { "mmio/strtab-testdev-bar", test_strtab_testdev_bar },
    { "mmio/strtab-gic", test_strtab_gic },
    { "mmio/l1std-own", test_l1std_own_mmio },
    { "mmio/cd-own", test_cd_own_mmio },
    { "mmio/ttb-own", test_ttb_own_mmio },
    { "mmio/evtq-own", test_evtq_own_mmio },
    { "mmio/cmdq-own", test_cmdq_own_mmio },
    { "mmio/cmdq-testdev-bar", test_cmdq_testdev_bar },
    { "msi/sync-own-prod", test_sync_msi_own_prod },
    { "msi/sync-own-regs", test_sync_msi_own_regs },
    { "msi/evtq-own", test_evtq_msi_own },
    { "msi/gerror-own", test_gerror_msi_own },
    { "msi/sync-testdev-dma", test_sync_msi_testdev_dma },
    { "mmio/two-vsmmus", test_two_vsmmus },
    { "work/cmdq-max-tlbi-range", test_cmdq_max_tlbi_range },
    { "work/cmdq-max-syncs-msi", test_cmdq_max_syncs_msi },
    { "strtab/split-reserved", test_strtab_split_reserved },
    { "strtab/fmt-reserved", test_strtab_fmt_reserved },
    { "strtab/span-reserved", test_l1std_span_reserved },
    { "strtab/log2size-above-sidsize", test_strtab_log2size_above_sidsize },
    { "strtab/sid-beyond-2lvl", test_sid_beyond_2lvl_table },
    { "strtab/sid-beyond-sidsize", test_sid_beyond_sidsize },
    { "cmdq/cfgi-range-top", test_cfgi_range_top },
    { "cmdq/overfull", test_cmdq_overfull },
    { "evtq/overfull", test_evtq_overfull },
    { "queue/ptr-garbage", test_queue_ptr_garbage },
    { "cmdq/log2size-above-idr1", test_cmdq_log2size_above_idr1 },
    { "evtq/log2size-above-idr1", test_evtq_log2size_above_idr1 },
    { "cmdq/base-top", test_cmdq_base_top },
    { "evtq/strtab-base-top", test_evtq_strtab_base_top },
    { "cmdq/reserved-opcodes", test_cmdq_reserved_opcodes },
    { "cmdq/ssec-sync-cs3", test_cmdq_ssec_and_sync_cs3 },
    { "regs/gerrorn-never-raised", test_gerrorn_never_raised },
    { "regs/cr0-storm", test_cr0_storm },
    { "regs/gbpa-reserved", test_gbpa_reserved },
    { "ste/config-reserved", test_ste_config_reserved },
    { "ste/s1-fields", test_ste_s1_fields_bad },
    { "cd/fields", test_cd_fields_bad },
    { "cd/ips-beyond-oas", test_cd_ips_beyond_oas },
    { "cd/ttb-beyond-oas", test_cd_ttb_beyond_oas },
    { "pt/loop", test_pt_loop },
    { "pt/block-l0", test_pt_block_l0 },
    { "odd/smmu-page0", test_odd_access_smmu_page0 },
    { "odd/smmu-page1", test_odd_access_smmu_page1 },
    { "odd/cmdqv-config", test_odd_access_cmdqv_config },
    { "odd/cmdqv-vcmdq-pages", test_odd_access_cmdqv_vcmdq_pages },
    { "odd/cmdqv-vintf0-pages", test_odd_access_cmdqv_vintf_pages },
    { "cmdqv/alloc-beyond", test_cmdqv_alloc_beyond },
    { "cmdqv/alloc-twice", test_cmdqv_alloc_twice },
    { "cmdqv/alloc-while-enabled", test_cmdqv_alloc_while_enabled },
    { "cmdqv/log2size-beyond", test_vcmdq_log2size_beyond },
    { "cmdqv/prod-storm", test_vcmdq_prod_storm },
    { "cmdqv/forbidden-commands", test_vcmdq_forbidden },
    { "cmdqv/full-of-syncs", test_vcmdq_full_of_syncs },
    { "migration/indices", test_mig_indices },
    { "migration/reserved-bits", test_mig_reserved_bits },
    { "migration/log2size-beyond-idr1", test_mig_log2size_beyond_idr1 },
    { "migration/pending-cmdq", test_mig_pending_cmdq },
    { "migration/eventq-overfull", test_mig_eventq_overfull },
    { "migration/cmdqv-alloc", test_mig_cmdqv_alloc },
    { "migration/vcmdq-pending", test_mig_vcmdq_pending },
    { "migration/cmdqv-vcmdq-garbage", test_mig_cmdqv_vcmdq_garbage },
};

static unsigned case_timeout_s(void)
{
    const char *env = g_getenv("VSMMU_HOSTILE_TIMEOUT");
    unsigned s = env ? g_ascii_strtoull(env, NULL, 10) : 0;

    return s ? s : DEFAULT_TIMEOUT_S;
}

/* Each case in a subprocess with a time limit (vsmmu_qtest_add_isolated) */
static void run_case(const void *data)
{
    ((const Case *)data)->fn();
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    for (int i = 0; i < ARRAY_SIZE(cases); i++) {
        g_autofree char *path = g_strdup_printf("/vsmmu-hostile/%s",
                                                cases[i].path);

        vsmmu_qtest_add_isolated(path, run_case, &cases[i],
                                 case_timeout_s());
    }
    return g_test_run();
}
