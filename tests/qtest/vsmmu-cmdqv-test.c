/*
 * qtests of the vsmmu's Tegra241 CMDQV (cmdqv=on|auto): the guest
 * model emulated (VCMDQs consumed by the vsmmu's command engine) and
 * accelerated against the simulated host (tests/simhost), whose VINTF
 * page is mapped into the guest and whose "hardware" consumes the VCMDQs.
 * The guest side follows the Linux 7.2 tegra241-cmdqv driver's sequence.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qobject/qdict.h"
#include "qemu/bswap.h"
#include "hw/pci/pci_regs.h"
#include "hw/arm/vsmmu/cmdqv-regs.h"
#include "vsmmu-qtest-lib.h"
#include "simhost-qtest.h"
#include <libfdt.h>

#define EMU_VSMMU   "-device vsmmu,primary-bus=pcie.0,id=vsmmu0,cmdqv=on"
#define ACCEL_VSMMU "-device vsmmu,primary-bus=pcie.0,id=vsmmu0,accel=on," \
                    "iommufd=simhost-iommufd"
#define TEST_ASID   VSMMU_QTEST_ASID
#define IOVA_A      VSMMU_QTEST_IOVA_A
#define IOVA_B      VSMMU_QTEST_IOVA_B
#define DEV0_DEVFN  SIMHOST_QTEST_DEVFN(0)
/* Time limit of one test, each run in a process of its own */
#define TEST_TIMEOUT_S  120

/* ---- guest side: the driver --------------------------------------------- */

typedef struct Cmdqv {
    QTestState *qts;
    Simhost *sh;                /* accelerated: the host to poke */
    uint64_t base;              /* CMDQV MMIO window */
    unsigned nq;                /* logical VCMDQs in use */
    unsigned log2size;
    uint64_t qpa[CMDQV_MAX_VCMDQS];
    uint32_t prod[CMDQV_MAX_VCMDQS];
} Cmdqv;

static uint64_t lpage0(Cmdqv *c, unsigned l, unsigned reg)
{
    return c->base + CMDQV_VINTF0_PAGE0 + CMDQV_VCMDQ_STRIDE * l + reg;
}

static uint64_t lpage1(Cmdqv *c, unsigned l, unsigned reg)
{
    return c->base + CMDQV_VINTF0_PAGE1 + CMDQV_VCMDQ_STRIDE * l + reg;
}

static uint32_t cfg_readl(Cmdqv *c, unsigned off)
{
    return qtest_readl(c->qts, c->base + off);
}

static void cfg_writel(Cmdqv *c, unsigned off, uint32_t v)
{
    qtest_writel(c->qts, c->base + off, v);
}

/* Poll a register as the driver does; the simulated host polls every ms */
static bool poll_reg(Cmdqv *c, uint64_t addr, uint32_t mask, uint32_t want)
{
    for (int i = 0; i < 2000; i++) {
        if ((qtest_readl(c->qts, addr) & mask) == want) {
            return true;
        }
        if (c->sh) {
            simhost_vcmdq_poll(c->sh);
        }
    }
    return false;
}

/* The CMDQV window: the "vsmmu-cmdqv" region in "info mtree", 0 if none */
static uint64_t cmdqv_find(QTestState *qts)
{
    return vsmmu_qtest_region_base(qts, "vsmmu-cmdqv");
}

static uint64_t qstat(QTestState *qts, const char *name)
{
    return vsmmu_qtest_qom_uint(qts, "/machine/peripheral/vsmmu0", name);
}

/* tegra241_vcmdq_hw_deinit-like: disable, empty, no base, errors acked */
static void vcmdq_reset(Cmdqv *c, unsigned l)
{
    uint32_t gerror, gerrorn;

    qtest_writel(c->qts, lpage0(c, l, A_VCMDQ_CONFIG), 0);
    g_assert_true(poll_reg(c, lpage0(c, l, A_VCMDQ_STATUS), 1, 0));
    qtest_writel(c->qts, lpage0(c, l, A_VCMDQ_PROD), 0);
    qtest_writel(c->qts, lpage0(c, l, A_VCMDQ_CONS), 0);
    qtest_writeq(c->qts, lpage1(c, l, A_VCMDQ_BASE), 0);
    qtest_writeq(c->qts, lpage1(c, l, A_VCMDQ_CONS_INDX_BASE), 0);
    gerror = qtest_readl(c->qts, lpage0(c, l, A_VCMDQ_GERROR));
    gerrorn = qtest_readl(c->qts, lpage0(c, l, A_VCMDQ_GERRORN));
    if (gerror != gerrorn) {
        qtest_writel(c->qts, lpage0(c, l, A_VCMDQ_GERRORN), gerror);
    }
    c->prod[l] = 0;
}

static void vcmdq_setup(Cmdqv *c, unsigned l)
{
    cfg_writel(c, A_CMDQV_CMDQ_ALLOC + 4 * l,
               cfg_readl(c, A_CMDQV_CMDQ_ALLOC + 4 * l) | 1);
    vcmdq_reset(c, l);
    qtest_writeq(c->qts, lpage1(c, l, A_VCMDQ_BASE), c->qpa[l] | c->log2size);
    qtest_writel(c->qts, lpage0(c, l, A_VCMDQ_CONFIG), 1);
}

/*
 * The Linux 7.2 driver's probe and init: CMDQV on, CMDQ_ALLOC, VINTF0
 * reset, VINTF0 with HYP_OWN (which must read 0), queues ascending.
 * @qalloc: allocate queue memory from there (naturally aligned).
 */
static void cmdqv_linux_init(Cmdqv *c, uint64_t *qalloc)
{
    uint32_t config = cfg_readl(c, A_CMDQV_CONFIG);
    uint32_t param = cfg_readl(c, A_CMDQV_PARAM);
    unsigned nvintf = 1u << FIELD_EX32(param, CMDQV_PARAM, NUM_VINTF_LOG2);
    unsigned nq = 1u << FIELD_EX32(param, CMDQV_PARAM, NUM_VCMDQ_LOG2);
    unsigned nsid = 1u << FIELD_EX32(param, CMDQV_PARAM, NUM_SID_PER_VM_LOG2);
    uint64_t qsize = 16ULL << c->log2size;

    g_assert_cmpuint(nvintf, ==, 1);
    c->nq = nq / nvintf;
    cfg_writel(c, A_CMDQV_CONFIG, config & ~1u);
    g_assert_true(poll_reg(c, c->base + A_CMDQV_STATUS, 1, 0));
    cfg_writel(c, A_CMDQV_CONFIG, config | 1);
    g_assert_true(poll_reg(c, c->base + A_CMDQV_STATUS, 1, 1));
    for (unsigned q = 0; q < nq; q++) {
        cfg_writel(c, A_CMDQV_CMDQ_ALLOC + 4 * q, q << 1);
    }
    for (int l = c->nq - 1; l >= 0; l--) {
        vcmdq_reset(c, l);
        cfg_writel(c, A_CMDQV_CMDQ_ALLOC + 4 * l,
                   cfg_readl(c, A_CMDQV_CMDQ_ALLOC + 4 * l) & ~1u);
    }
    cfg_writel(c, CMDQV_VINTF0_BASE + A_VINTF_CONFIG, 0);
    g_assert_true(poll_reg(c, c->base + CMDQV_VINTF0_BASE + A_VINTF_STATUS,
                           1, 0));
    for (unsigned s = 0; s < nsid; s++) {
        cfg_writel(c, CMDQV_VINTF0_BASE + A_VINTF_SID_REPLACE + 4 * s, 0);
        cfg_writel(c, CMDQV_VINTF0_BASE + A_VINTF_SID_MATCH + 4 * s, 0);
    }
    cfg_writel(c, CMDQV_VINTF0_BASE + A_VINTF_CONFIG,
               R_VINTF_CONFIG_HYP_OWN_MASK);
    cfg_writel(c, CMDQV_VINTF0_BASE + A_VINTF_CONFIG,
               R_VINTF_CONFIG_HYP_OWN_MASK | 1);
    g_assert_true(poll_reg(c, c->base + CMDQV_VINTF0_BASE + A_VINTF_STATUS,
                           1, 1));
    /* a guest-owned VINTF: HYP_OWN reads 0 */
    g_assert_cmphex(cfg_readl(c, CMDQV_VINTF0_BASE + A_VINTF_CONFIG) &
                    R_VINTF_CONFIG_HYP_OWN_MASK, ==, 0);
    for (unsigned l = 0; l < c->nq; l++) {
        *qalloc = ROUND_UP(*qalloc, qsize);
        c->qpa[l] = *qalloc;
        *qalloc += qsize;
        vcmdq_setup(c, l);
        g_assert_true(poll_reg(c, lpage0(c, l, A_VCMDQ_STATUS), 1, 1));
    }
}

/* Write @n commands into queue @l, then PROD once; wait for CONS */
static uint32_t vcmdq_issue(Cmdqv *c, unsigned l, const VsmmuCmd *cmds,
                            unsigned n, bool wait)
{
    uint32_t mask = (1u << c->log2size) - 1;
    uint32_t wrap_mask = (2u << c->log2size) - 1;
    uint32_t cons;

    for (unsigned i = 0; i < n; i++) {
        uint64_t w[2] = { cpu_to_le64(cmds[i].word[0]),
                          cpu_to_le64(cmds[i].word[1]) };

        qtest_memwrite(c->qts, c->qpa[l] + 16 * (c->prod[l] & mask), w, 16);
        c->prod[l] = (c->prod[l] + 1) & wrap_mask;
    }
    qtest_writel(c->qts, lpage0(c, l, A_VCMDQ_PROD), c->prod[l]);
    if (!wait) {
        return 0;
    }
    for (int i = 0; i < 2000; i++) {
        cons = qtest_readl(c->qts, lpage0(c, l, A_VCMDQ_CONS));
        if ((cons & wrap_mask) == c->prod[l] ||
            FIELD_EX32(cons, VCMDQ_CONS, ERR)) {
            return cons;
        }
        if (c->sh) {
            simhost_vcmdq_poll(c->sh);
        }
    }
    g_assert_not_reached();
}

/* The ISR's ack: skip the bad command (a CMD_SYNC in its place), GERRORN */
static void vcmdq_skip_err(Cmdqv *c, unsigned l)
{
    uint32_t cons = qtest_readl(c->qts, lpage0(c, l, A_VCMDQ_CONS));
    uint32_t mask = (1u << c->log2size) - 1;
    uint64_t w[2] = { cpu_to_le64(CMD_SYNC), 0 };

    qtest_memwrite(c->qts, c->qpa[l] + 16 * (cons & mask), w, 16);
    qtest_writel(c->qts, lpage0(c, l, A_VCMDQ_GERRORN),
                 qtest_readl(c->qts, lpage0(c, l, A_VCMDQ_GERROR)));
}

static bool vcmdq_error(Cmdqv *c, unsigned l)
{
    return (qtest_readl(c->qts, lpage0(c, l, A_VCMDQ_GERROR)) ^
            qtest_readl(c->qts, lpage0(c, l, A_VCMDQ_GERRORN))) & 1;
}

/* ---- emulated ----------------------------------------------------------- */

typedef struct EmuFixture {
    VsmmuQtest *t;
    Cmdqv c;
    VsmmuPgtable pt;
    VsmmuCdTable cdt;
    uint64_t qalloc;
} EmuFixture;

static void emu_start(EmuFixture *f, const char *props)
{
    g_autofree char *args = g_strdup_printf(EMU_VSMMU "%s%s "
                                            VSMMU_QTEST_TESTDEV,
                                            props ? "," : "",
                                            props ? props : "");

    memset(f, 0, sizeof(*f));
    f->t = vsmmu_qtest_start(args);
    f->c.qts = f->t->qts;
    f->c.base = cmdqv_find(f->t->qts);
    f->c.log2size = 8;
    g_assert_cmphex(f->c.base, !=, 0);
}

/* SMMU up with a stage-1 domain for the test device, CMDQV initialised */
static void emu_s1_setup(EmuFixture *f)
{
    VsmmuQtest *t = f->t;
    uint64_t cd[VSMMU_CD_DWORDS], ste[VSMMU_STE_DWORDS];

    vsmmu_strtab_linear(t, 8);
    vsmmu_pt_init(t, &f->pt, 4096, 48);
    vsmmu_cd_table_linear(t, &f->cdt, 0);
    vsmmu_cd_for_pgtable(cd, &f->pt, TEST_ASID);
    vsmmu_cd_write(t, vsmmu_cd_addr(t, &f->cdt, 0), cd);
    vsmmu_ste_s1(ste, f->cdt.base, f->cdt.fmt, f->cdt.cdmax,
                 STE_S1DSS_TERMINATE);
    vsmmu_ste_write(t, t->sid, ste);
    vsmmu_bringup(t, 8, 4);
    vsmmu_enable(t);
    f->qalloc = vsmmu_alloc(t, 64 * 1024, 64 * 1024);
    cmdqv_linux_init(&f->c, &f->qalloc);
}

static void emu_end(EmuFixture *f)
{
    vsmmu_qtest_quit(f->t);
}

/* PARAM, properties; off and auto-without-accel have no window */
static void test_emu_param(void)
{
    EmuFixture f;
    QTestState *qts;
    uint32_t param;

    emu_start(&f, "cmdqv-vcmdqs=8,cmdqv-sids=4");
    param = cfg_readl(&f.c, A_CMDQV_PARAM);
    g_assert_cmpuint(FIELD_EX32(param, CMDQV_PARAM, VER), ==, 1);
    g_assert_cmpuint(FIELD_EX32(param, CMDQV_PARAM, NUM_VCMDQ_LOG2), ==, 3);
    g_assert_cmpuint(FIELD_EX32(param, CMDQV_PARAM, NUM_VINTF_LOG2), ==, 0);
    g_assert_cmpuint(FIELD_EX32(param, CMDQV_PARAM, NUM_SID_PER_VM_LOG2), ==,
                     2);
    g_assert_cmphex(cfg_readl(&f.c, A_CMDQV_STATUS), ==, 0);
    emu_end(&f);

    qts = qtest_init("-M virt -nodefaults "
                     "-device vsmmu,primary-bus=pcie.0,cmdqv=off");
    g_assert_cmphex(cmdqv_find(qts), ==, 0);
    qtest_quit(qts);
    qts = qtest_init("-M virt -nodefaults -device vsmmu,primary-bus=pcie.0");
    g_assert_cmphex(cmdqv_find(qts), ==, 0);
    qtest_quit(qts);
}

static void test_emu_bad_props(void)
{
    static const char *bad[] = { "cmdqv-vcmdqs=3", "cmdqv-vcmdqs=256",
                                 "cmdqv-sids=32", "cmdqv-sids=0" };

    for (int i = 0; i < ARRAY_SIZE(bad); i++) {
        g_autofree char *cmd = g_strdup_printf(
            "%s -M virt -nodefaults -display none "
            "-device vsmmu,primary-bus=pcie.0,cmdqv=on,%s",
            qtest_qemu_binary(NULL), bad[i]);
        g_autofree char *err = NULL;
        int status;

        g_assert_true(g_spawn_command_line_sync(cmd, NULL, &err, &status,
                                                NULL));
        g_assert_true(WIFEXITED(status) && WEXITSTATUS(status));
        g_assert_nonnull(strstr(err, "power of 2"));
    }
}

/* The driver's init sequence; every queue enabled and empty */
static void test_emu_init(void)
{
    EmuFixture f;

    emu_start(&f, NULL);
    emu_s1_setup(&f);
    g_assert_cmpuint(f.c.nq, ==, 2);
    for (unsigned l = 0; l < 2; l++) {
        g_assert_cmphex(qtest_readq(f.c.qts, lpage1(&f.c, l, A_VCMDQ_BASE)),
                        ==, f.c.qpa[l] | 8);
        /* the same queue through its global pages */
        g_assert_cmphex(qtest_readq(f.c.qts, f.c.base + CMDQV_VCMDQ_PAGE1 +
                                    CMDQV_VCMDQ_STRIDE * l), ==,
                        f.c.qpa[l] | 8);
        g_assert_cmphex(qtest_readl(f.c.qts, f.c.base + CMDQV_VCMDQ_PAGE0 +
                                    CMDQV_VCMDQ_STRIDE * l + A_VCMDQ_STATUS),
                        ==, 1);
        g_assert_cmphex(cfg_readl(&f.c, A_CMDQV_CMDQ_ALLOC + 4 * l), ==,
                        (l << 1) | 1);
    }
    g_assert_cmphex(cfg_readl(&f.c, A_CMDQV_VINTF_ERR_MAP), ==, 0);
    emu_end(&f);
}

static void fill(QTestState *qts, uint64_t pa, uint8_t v)
{
    g_autofree uint8_t *buf = g_malloc(4096);

    memset(buf, v, 4096);
    qtest_memwrite(qts, pa, buf, 4096);
}

static uint8_t first_byte(QTestState *qts, uint64_t pa)
{
    return qtest_readb(qts, pa);
}

/* A TLBI through a VCMDQ takes effect: the stale translation goes */
static void test_emu_commands(void)
{
    EmuFixture f;
    uint64_t pa1, pa2, dst;
    VsmmuCmd cmds[2];
    uint64_t traps;

    emu_start(&f, NULL);
    emu_s1_setup(&f);
    pa1 = vsmmu_alloc(f.t, 4096, 4096);
    pa2 = vsmmu_alloc(f.t, 4096, 4096);
    dst = vsmmu_alloc(f.t, 4096, 4096);
    fill(f.c.qts, pa1, 0x11);
    fill(f.c.qts, pa2, 0x22);
    vsmmu_pt_map(&f.pt, IOVA_A, pa1, 4096, VSMMU_PT_READ);
    vsmmu_pt_map(&f.pt, IOVA_B, dst, 4096, VSMMU_PT_WRITE);
    g_assert_cmpuint(vsmmu_testdev_status_code(
        vsmmu_testdev_copy(f.t, IOVA_A, IOVA_B, 4096)), ==,
        VSMMU_TESTDEV_STATUS_OK);
    g_assert_cmphex(first_byte(f.c.qts, dst), ==, 0x11);

    /* remapped without invalidation: the cached translation stays */
    vsmmu_pt_remap(&f.pt, IOVA_A, pa2);
    vsmmu_testdev_copy(f.t, IOVA_A, IOVA_B, 4096);
    g_assert_cmphex(first_byte(f.c.qts, dst), ==, 0x11);

    traps = qstat(f.c.qts, "x-stats-vcmdq-traps");
    cmds[0] = vsmmu_cmd_tlbi_nh_va(TEST_ASID, IOVA_A, true);
    cmds[1] = vsmmu_cmd_sync(CMD_SYNC_SIG_NONE, 0, 0);
    g_assert_cmphex(FIELD_EX32(vcmdq_issue(&f.c, 1, cmds, 2, true),
                               VCMDQ_CONS, ERR), ==, 0);
    g_assert_cmpuint(qstat(f.c.qts, "x-stats-vcmdq-commands"), ==, 2);
    /* emulated: the PROD write and the CONS read trap */
    g_assert_cmpuint(qstat(f.c.qts, "x-stats-vcmdq-traps"), ==, traps + 2);
    vsmmu_testdev_copy(f.t, IOVA_A, IOVA_B, 4096);
    g_assert_cmphex(first_byte(f.c.qts, dst), ==, 0x22);
    emu_end(&f);
}

/* Illegal command: CONS.ERR, GERROR, the three ERR_MAPs, the interrupt */
static void test_emu_illegal(void)
{
    EmuFixture f;
    VsmmuCmd cmds[3];
    uint32_t cons;

    emu_start(&f, NULL);
    emu_s1_setup(&f);
    cmds[0] = vsmmu_cmd_tlbi_nh_asid(TEST_ASID);
    cmds[1] = vsmmu_cmd_tlbi_nh_all();      /* main CMDQ only */
    cmds[2] = vsmmu_cmd_sync(CMD_SYNC_SIG_NONE, 0, 0);
    cons = vcmdq_issue(&f.c, 1, cmds, 3, true);
    g_assert_cmphex(FIELD_EX32(cons, VCMDQ_CONS, ERR), ==, CERROR_ILL);
    g_assert_cmphex(cons & 0xff, ==, 1);        /* stopped on command 1 */
    g_assert_true(vcmdq_error(&f.c, 1));
    g_assert_false(vcmdq_error(&f.c, 0));
    g_assert_cmphex(cfg_readl(&f.c, CMDQV_VINTF0_BASE +
                              A_VINTF_LVCMDQ_ERR_MAP), ==, 2);
    g_assert_cmphex(cfg_readl(&f.c, A_CMDQV_CMDQ_ERR_MAP), ==, 2);
    g_assert_cmphex(cfg_readl(&f.c, A_CMDQV_VINTF_ERR_MAP), ==, 1);
    g_assert_cmpuint(qstat(f.c.qts, "x-stats-vcmdq-irqs"), ==, 1);
    g_assert_cmpuint(qstat(f.c.qts, "x-stats-vcmdq-errors"), ==, 1);

    /* the driver skips the bad command (CMD_SYNC in its place), acks */
    vcmdq_skip_err(&f.c, 1);
    g_assert_false(vcmdq_error(&f.c, 1));
    g_assert_cmphex(qtest_readl(f.c.qts, lpage0(&f.c, 1, A_VCMDQ_CONS)) &
                    0xff, ==, 3);
    g_assert_cmphex(cfg_readl(&f.c, A_CMDQV_VINTF_ERR_MAP), ==, 0);
    emu_end(&f);
}

/*
 * A CMD_SYNC whose MSI write aborts (nothing at its address): the VCMDQ's
 * GERROR.MSI_CMDQ_ABT_ERR, as SMMU_GERROR has it for the main queue; the
 * queue goes on, shows in the error maps until acknowledged, and the
 * interrupt fires once however many aborts follow
 */
static void test_emu_sync_msi_abort(void)
{
    EmuFixture f;
    VsmmuCmd cmds[4];
    uint32_t cons, gerror, data = 0;
    uint64_t slot;

    emu_start(&f, NULL);
    emu_s1_setup(&f);
    cmds[0] = vsmmu_cmd_sync(CMD_SYNC_SIG_IRQ, 0x80000000ULL, 0x1234);
    cmds[1] = vsmmu_cmd_tlbi_nh_asid(TEST_ASID);
    cmds[2] = vsmmu_cmd_sync(CMD_SYNC_SIG_IRQ, 0x80000040ULL, 0x5678);
    cmds[3] = vsmmu_cmd_sync(CMD_SYNC_SIG_NONE, 0, 0);
    cons = vcmdq_issue(&f.c, 0, cmds, 4, true);
    g_assert_cmphex(FIELD_EX32(cons, VCMDQ_CONS, ERR), ==, 0);
    g_assert_cmphex(cons & 0xff, ==, 4);        /* it went on */
    g_assert_false(vcmdq_error(&f.c, 0));       /* no CMDQ_ERR */
    gerror = qtest_readl(f.c.qts, lpage0(&f.c, 0, A_VCMDQ_GERROR));
    g_assert_cmphex(gerror ^ qtest_readl(f.c.qts,
                                         lpage0(&f.c, 0, A_VCMDQ_GERRORN)),
                    ==, R_VCMDQ_GERROR_MSI_CMDQ_ABT_ERR_MASK);
    g_assert_cmphex(cfg_readl(&f.c, CMDQV_VINTF0_BASE +
                              A_VINTF_LVCMDQ_ERR_MAP), ==, 1);
    g_assert_cmphex(cfg_readl(&f.c, A_CMDQV_CMDQ_ERR_MAP), ==, 1);
    g_assert_cmphex(cfg_readl(&f.c, A_CMDQV_VINTF_ERR_MAP), ==, 1);
    g_assert_cmpuint(qstat(f.c.qts, "x-stats-vcmdq-irqs"), ==, 1);

    /* the handler's ack: the maps clear; an MSI into RAM is written */
    qtest_writel(f.c.qts, lpage0(&f.c, 0, A_VCMDQ_GERRORN), gerror);
    g_assert_cmphex(cfg_readl(&f.c, A_CMDQV_VINTF_ERR_MAP), ==, 0);
    g_assert_cmphex(cfg_readl(&f.c, A_CMDQV_CMDQ_ERR_MAP), ==, 0);
    slot = vsmmu_alloc(f.t, 64, 64);
    cmds[0] = vsmmu_cmd_sync(CMD_SYNC_SIG_IRQ, slot, 0xcafe);
    cons = vcmdq_issue(&f.c, 0, cmds, 1, true);
    g_assert_cmphex(FIELD_EX32(cons, VCMDQ_CONS, ERR), ==, 0);
    qtest_memread(f.c.qts, slot, &data, sizeof(data));
    g_assert_cmphex(le32_to_cpu(data), ==, 0xcafe);
    g_assert_cmphex(qtest_readl(f.c.qts, lpage0(&f.c, 0, A_VCMDQ_GERROR)) ^
                    qtest_readl(f.c.qts, lpage0(&f.c, 0, A_VCMDQ_GERRORN)),
                    ==, 0);
    g_assert_cmpuint(qstat(f.c.qts, "x-stats-vcmdq-irqs"), ==, 1);
    emu_end(&f);
}

/* A queue whose base is not memory: its first fetch aborts */
static void test_emu_bad_base(void)
{
    EmuFixture f;
    uint32_t cons;

    emu_start(&f, NULL);
    emu_s1_setup(&f);
    qtest_writel(f.c.qts, lpage0(&f.c, 0, A_VCMDQ_CONFIG), 0);
    qtest_writeq(f.c.qts, lpage1(&f.c, 0, A_VCMDQ_BASE),
                 VSMMU_QTEST_NO_RAM_PA | 8);
    qtest_writel(f.c.qts, lpage0(&f.c, 0, A_VCMDQ_CONFIG), 1);
    qtest_writel(f.c.qts, lpage0(&f.c, 0, A_VCMDQ_PROD), 1);
    cons = qtest_readl(f.c.qts, lpage0(&f.c, 0, A_VCMDQ_CONS));
    g_assert_cmphex(FIELD_EX32(cons, VCMDQ_CONS, ERR), ==, CERROR_ABT);
    g_assert_true(vcmdq_error(&f.c, 0));
    g_assert_cmphex(cfg_readl(&f.c, CMDQV_VINTF0_BASE +
                              A_VINTF_LVCMDQ_ERR_MAP), ==, 1);
    emu_end(&f);
}

/* VINTF disabled or queue not allocated: PROD is written, nothing runs */
static void test_emu_not_running(void)
{
    EmuFixture f;
    VsmmuCmd cmd = vsmmu_cmd_tlbi_nh_asid(1);

    emu_start(&f, NULL);
    emu_s1_setup(&f);
    cfg_writel(&f.c, CMDQV_VINTF0_BASE + A_VINTF_CONFIG, 0);
    vcmdq_issue(&f.c, 0, &cmd, 1, false);
    g_assert_cmphex(qtest_readl(f.c.qts, lpage0(&f.c, 0, A_VCMDQ_CONS)), ==,
                    0);
    /* enabled again: the pending command runs on the next PROD */
    cfg_writel(&f.c, CMDQV_VINTF0_BASE + A_VINTF_CONFIG, 1);
    qtest_writel(f.c.qts, lpage0(&f.c, 0, A_VCMDQ_PROD), 1);
    g_assert_cmphex(qtest_readl(f.c.qts, lpage0(&f.c, 0, A_VCMDQ_CONS)), ==,
                    1);
    emu_end(&f);
}

/* System reset: everything back to 0 */
static void test_emu_reset(void)
{
    EmuFixture f;

    emu_start(&f, NULL);
    emu_s1_setup(&f);
    qtest_system_reset(f.c.qts);
    g_assert_cmphex(cfg_readl(&f.c, A_CMDQV_CONFIG), ==, 0);
    g_assert_cmphex(cfg_readl(&f.c, A_CMDQV_STATUS), ==, 0);
    g_assert_cmphex(cfg_readl(&f.c, CMDQV_VINTF0_BASE + A_VINTF_CONFIG), ==,
                    0);
    g_assert_cmphex(cfg_readl(&f.c, A_CMDQV_CMDQ_ALLOC), ==, 0);
    g_assert_cmphex(qtest_readq(f.c.qts, f.c.base + CMDQV_VCMDQ_PAGE1), ==, 0);
    g_assert_cmphex(cfg_readl(&f.c, A_CMDQV_PARAM), !=, 0);
    emu_end(&f);
}

/* Migration of the emulated CMDQV: the queue state arrives */
static void test_emu_migration(void)
{
    EmuFixture f;
    QTestState *dst;
    g_autofree char *uri = g_strdup_printf("unix:%s/vsmmu-cmdqv-mig-%d",
                                           g_get_tmp_dir(), getpid());
    g_autofree char *args = g_strdup_printf("-M virt -cpu max -nodefaults "
                                            "-m 512M " EMU_VSMMU " "
                                            VSMMU_QTEST_TESTDEV
                                            "-incoming %s", uri);
    Cmdqv c2;
    VsmmuCmd cmds[2];
    QDict *rsp;

    emu_start(&f, NULL);
    emu_s1_setup(&f);
    cmds[0] = vsmmu_cmd_tlbi_nh_asid(TEST_ASID);
    cmds[1] = vsmmu_cmd_sync(CMD_SYNC_SIG_NONE, 0, 0);
    vcmdq_issue(&f.c, 1, cmds, 2, true);
    dst = qtest_init(args);
    rsp = qtest_qmp(f.c.qts, "{'execute': 'migrate', 'arguments': "
                    "{'uri': %s}}", uri);
    g_assert_false(qdict_haskey(rsp, "error"));
    qobject_unref(rsp);
    qtest_qmp_eventwait(dst, "RESUME");
    c2 = f.c;
    c2.qts = dst;
    g_assert_cmphex(cfg_readl(&c2, A_CMDQV_STATUS), ==, 1);
    g_assert_cmphex(qtest_readq(dst, lpage1(&c2, 1, A_VCMDQ_BASE)), ==,
                    f.c.qpa[1] | 8);
    g_assert_cmphex(qtest_readl(dst, lpage0(&c2, 1, A_VCMDQ_CONS)), ==, 2);
    /* and it runs there */
    g_assert_cmphex(FIELD_EX32(vcmdq_issue(&c2, 1, cmds, 2, true),
                               VCMDQ_CONS, ERR), ==, 0);
    g_assert_cmphex(qtest_readl(dst, lpage0(&c2, 1, A_VCMDQ_CONS)), ==, 4);
    qtest_quit(dst);
    emu_end(&f);
}

/* ---- guest description -------------------------------------------------- */

static void *dtb_of(const char *args)
{
    void *dtb = vsmmu_qtest_dtb(args, NULL);

    g_assert_cmpint(fdt_check_header(dtb), ==, 0);
    return dtb;
}

static void test_dt(void)
{
    g_autofree void *dtb = dtb_of("-device vsmmu,primary-bus=pcie.0,"
                                  "cmdqv=on");
    int smmu = fdt_node_offset_by_compatible(dtb, -1, "arm,smmu-v3");
    int cmdqv = fdt_node_offset_by_compatible(dtb, -1,
                                              "nvidia,tegra264-cmdqv");
    const fdt32_t *ph, *reg, *irq;
    int len;

    g_assert_cmpint(smmu, >=, 0);
    g_assert_cmpint(cmdqv, >=, 0);
    g_assert_cmpint(fdt_node_check_compatible(dtb, smmu,
                                              "nvidia,tegra264-smmu"), ==, 0);
    ph = fdt_getprop(dtb, smmu, "nvidia,cmdqv", &len);
    g_assert_nonnull(ph);
    g_assert_cmpuint(fdt32_to_cpu(*ph), ==, fdt_get_phandle(dtb, cmdqv));
    reg = fdt_getprop(dtb, cmdqv, "reg", &len);
    g_assert_cmpint(len, ==, 16);
    g_assert_cmphex(fdt32_to_cpu(reg[3]), ==, CMDQV_MMIO_SIZE);
    irq = fdt_getprop(dtb, cmdqv, "interrupts", &len);
    g_assert_cmpint(len, ==, 12);
    g_free(dtb);

    /* off: plain SMMU node */
    dtb = dtb_of("-device vsmmu,primary-bus=pcie.0,cmdqv=off");
    g_assert_cmpint(fdt_node_offset_by_compatible(dtb, -1,
                                                  "nvidia,tegra264-cmdqv"),
                    <, 0);
    smmu = fdt_node_offset_by_compatible(dtb, -1, "arm,smmu-v3");
    g_assert_null(fdt_getprop(dtb, smmu, "nvidia,cmdqv", &len));
    (void)irq;
}

/* ACPI: NVDA200C with _UID = the IORT SMMUv3 node identifier, _CRS */
static void test_acpi(void)
{
    QTestState *qts = qtest_init("-M virt -nodefaults "
                                 "-device vsmmu,primary-bus=pcie.0,cmdqv=on");
    size_t len;
    g_autofree uint8_t *buf = vsmmu_qtest_fw_cfg_file(qts, "etc/acpi/tables",
                                                      &len);
    uint64_t base = cmdqv_find(qts);
    const uint8_t *hid = memmem(buf, len, "NVDA200C", 8);
    const uint8_t *iort = memmem(buf, len, "IORT", 4);
    uint8_t uid_aml[] = { 0x08, '_', 'U', 'I', 'D', 0x00 };
    uint8_t mem32[] = { 0x86, 0x09, 0x00, 0x01 };
    uint32_t nnodes, off, id = UINT32_MAX;

    g_assert_cmpuint(len, >, 0);
    g_assert_nonnull(hid);
    g_assert_nonnull(iort);
    /* the SMMUv3 node's identifier */
    nnodes = ldl_le_p(iort + 36);
    off = ldl_le_p(iort + 40);
    for (uint32_t i = 0; i < nnodes; i++) {
        if (iort[off] == 4) {
            id = ldl_le_p(iort + off + 4);
        }
        off += lduw_le_p(iort + off + 1);
    }
    g_assert_cmpuint(id, <, 2);
    uid_aml[5] = id;                    /* ZeroOp or OneOp */
    g_assert_nonnull(memmem(hid, 64, uid_aml, sizeof(uid_aml)));
    g_assert_nonnull(memmem(hid, 96, mem32, sizeof(mem32)));
    {
        const uint8_t *m = memmem(hid, 96, mem32, sizeof(mem32));

        g_assert_cmphex(ldl_le_p(m + 4), ==, base);
        g_assert_cmphex(ldl_le_p(m + 8), ==, CMDQV_MMIO_SIZE);
    }
    qtest_quit(qts);
}

/* ---- accelerated, against the simulated host ---------------------------- */

typedef struct AccelFixture {
    Simhost *sh;
    VsmmuQtest *t;
    Cmdqv c;
    uint64_t qalloc;
} AccelFixture;

static bool have_simhost(void)
{
    return simhost_require();
}

static void accel_start_props(AccelFixture *f, SimhostOpts *o,
                              const char *props, const char *extra)
{
    g_autofree char *args = NULL;

    memset(f, 0, sizeof(*f));
    for (unsigned n = 0; n < o->num_devs; n++) {
        o->profile[o->dev_smmu[n]] = SIMHOST_PROFILE_SMMUV3_CMDQV;
        if (!o->dev_props[n]) {
            o->dev_props[n] = g_strdup_printf("addr=%x.0", 2 + n);
        }
    }
    f->sh = simhost_new(o);
    args = g_strdup_printf("%s%s %s", ACCEL_VSMMU, props ? props : "",
                           extra ? extra : "");
    simhost_qtest_start(f->sh, args);
    /* without cold-plugged devices, an emulated test device at 1d.0 */
    f->t = vsmmu_qtest_attach_devfn(f->sh->qts, o->cold_plug_mask & 1 ?
                                    DEV0_DEVFN : VSMMU_QTEST_TESTDEV_SID);
    f->c.qts = f->sh->qts;
    f->c.sh = f->sh;
    f->c.base = cmdqv_find(f->sh->qts);
    f->c.log2size = 8;
    f->qalloc = vsmmu_alloc(f->t, 64 * 1024, 64 * 1024);
}

static void accel_start(AccelFixture *f, SimhostOpts *o, const char *extra)
{
    accel_start_props(f, o, NULL, extra);
}

static void accel_end(AccelFixture *f)
{
    g_free(f->t->dev);
    f->t->dev = NULL;
    alloc_destroy(&f->t->alloc);
    g_free(f->t->smmu_name);
    g_free(f->t);
    simhost_qtest_quit(f->sh);
    g_assert_cmpuint(simhost_leaks(f->sh), ==, 0);
    simhost_free(f->sh);
}

static bool page_mapped(AccelFixture *f)
{
    g_autofree char *info = qtest_hmp(f->c.qts, "info vsmmu");

    return strstr(info, "mapped into the guest") != NULL;
}

/* auto with a host CMDQV: TEGRA241 vIOMMU, HW queues made ascending */
static void test_accel_init(void)
{
    AccelFixture f;
    SimhostOpts o = SIMHOST_OPTS_DEFAULT;
    uint64_t traps;

    if (!have_simhost()) {
        return;
    }
    accel_start(&f, &o, NULL);
    g_assert_cmphex(f.c.base, !=, 0);
    g_assert_cmpuint(simhost_calls(f.sh, SIMHOST_K_MMAP), ==, 1);
    g_assert_cmpuint(f.sh->ctl->vintf_mmaps, ==, 1);
    g_assert_false(page_mapped(&f));
    cmdqv_linux_init(&f.c, &f.qalloc);
    g_assert_true(page_mapped(&f));
    g_assert_cmpuint(simhost_calls(f.sh, SIMHOST_K_HW_QUEUE_ALLOC), ==, 2);
    g_assert_cmpuint(simhost_fails(f.sh, SIMHOST_K_HW_QUEUE_ALLOC), ==, 0);
    /* PROD, CONS, CONFIG, STATUS: the host page, no trap */
    traps = qstat(f.c.qts, "x-stats-vcmdq-traps");
    g_assert_cmphex(qtest_readl(f.c.qts, lpage0(&f.c, 1, A_VCMDQ_STATUS)), ==,
                    1);
    qtest_writel(f.c.qts, lpage0(&f.c, 1, A_VCMDQ_PROD), 0);
    g_assert_cmpuint(qstat(f.c.qts, "x-stats-vcmdq-traps"), ==, traps);

    /* re-initialisation: queues destroyed descending, made again */
    cmdqv_linux_init(&f.c, &f.qalloc);
    g_assert_cmpuint(simhost_calls(f.sh, SIMHOST_K_HW_QUEUE_ALLOC), >=, 4);
    g_assert_cmpuint(simhost_fails(f.sh, SIMHOST_K_HW_QUEUE_ALLOC), ==, 0);
    g_assert_true(page_mapped(&f));
    g_assert_cmpuint(simhost_fails(f.sh, SIMHOST_K_DESTROY), ==, 0);
    accel_end(&f);
}

/* Commands written to the mapped page: the host executes, QEMU sees none */
static void test_accel_commands(void)
{
    AccelFixture f;
    SimhostOpts o = SIMHOST_OPTS_DEFAULT;
    VsmmuCmd cmds[64];
    uint64_t traps, cmds_before, vcmds;

    if (!have_simhost()) {
        return;
    }
    accel_start(&f, &o, NULL);
    cmdqv_linux_init(&f.c, &f.qalloc);
    traps = qstat(f.c.qts, "x-stats-vcmdq-traps");
    cmds_before = qstat(f.c.qts, "x-stats-commands");
    vcmds = f.sh->ctl->vcmdq_cmds;
    for (int round = 0; round < 10; round++) {
        for (int i = 0; i < 63; i++) {
            cmds[i] = vsmmu_cmd_tlbi_nh_va(TEST_ASID, IOVA_A + 4096 * i,
                                           true);
        }
        cmds[63] = vsmmu_cmd_sync(CMD_SYNC_SIG_NONE, 0, 0);
        g_assert_cmphex(FIELD_EX32(vcmdq_issue(&f.c, round & 1, cmds, 64,
                                               true), VCMDQ_CONS, ERR),
                        ==, 0);
    }
    g_assert_cmpuint(f.sh->ctl->vcmdq_cmds - vcmds, ==, 640);
    g_assert_cmpuint(qstat(f.c.qts, "x-stats-vcmdq-traps"), ==, traps);
    g_assert_cmpuint(qstat(f.c.qts, "x-stats-commands"), ==, cmds_before);
    accel_end(&f);
}

/* HW_QUEUE_ALLOC fails: reported, the queue aborts, page 0 trapped */
static void test_accel_queue_failure(void)
{
    AccelFixture f;
    SimhostOpts o = SIMHOST_OPTS_DEFAULT;
    VsmmuCmd cmd = vsmmu_cmd_sync(CMD_SYNC_SIG_NONE, 0, 0);

    if (!have_simhost()) {
        return;
    }
    accel_start(&f, &o, NULL);
    simhost_inject(f.sh, SIMHOST_K_HW_QUEUE_ALLOC, 2, ENOMEM);
    f.c.log2size = 8;
    {
        /* the driver's init, without the STATUS wait of queue 1 */
        uint64_t qa = f.qalloc;

        cfg_writel(&f.c, A_CMDQV_CONFIG, 1);
        for (unsigned q = 0; q < 2; q++) {
            cfg_writel(&f.c, A_CMDQV_CMDQ_ALLOC + 4 * q, q << 1);
        }
        cfg_writel(&f.c, CMDQV_VINTF0_BASE + A_VINTF_CONFIG, 1);
        for (unsigned l = 0; l < 2; l++) {
            f.c.qpa[l] = qa + 4096 * l;
            vcmdq_setup(&f.c, l);
        }
    }
    g_assert_cmpuint(simhost_fails(f.sh, SIMHOST_K_HW_QUEUE_ALLOC), ==, 1);
    g_assert_false(page_mapped(&f));
    /* queue 0 is the host's, reached through the trap */
    g_assert_true(poll_reg(&f.c, lpage0(&f.c, 0, A_VCMDQ_STATUS), 1, 1));
    g_assert_cmphex(FIELD_EX32(vcmdq_issue(&f.c, 0, &cmd, 1, true),
                               VCMDQ_CONS, ERR), ==, 0);
    /* queue 1 aborted when enabled */
    g_assert_true(vcmdq_error(&f.c, 1));
    g_assert_cmphex(FIELD_EX32(qtest_readl(f.c.qts,
                                           lpage0(&f.c, 1, A_VCMDQ_CONS)),
                               VCMDQ_CONS, ERR), ==, CERROR_ABT);
    g_assert_cmphex(cfg_readl(&f.c, CMDQV_VINTF0_BASE +
                              A_VINTF_LVCMDQ_ERR_MAP), ==, 2);
    g_assert_cmpuint(qstat(f.c.qts, "x-stats-vcmdq-irqs"), ==, 1);

    /* the driver resets and retries: now the host backs both */
    cmdqv_linux_init(&f.c, &f.qalloc);
    g_assert_true(page_mapped(&f));
    accel_end(&f);
}

/* Misaligned base: the host cannot back it; reported, not sent */
static void test_accel_misaligned(void)
{
    AccelFixture f;
    SimhostOpts o = SIMHOST_OPTS_DEFAULT;

    if (!have_simhost()) {
        return;
    }
    accel_start(&f, &o, NULL);
    cmdqv_linux_init(&f.c, &f.qalloc);
    qtest_writel(f.c.qts, lpage0(&f.c, 1, A_VCMDQ_CONFIG), 0);
    qtest_writeq(f.c.qts, lpage1(&f.c, 1, A_VCMDQ_BASE),
                 (f.c.qpa[1] + 0x800) | 8);
    g_assert_cmpuint(simhost_calls(f.sh, SIMHOST_K_HW_QUEUE_ALLOC), ==, 2);
    g_assert_false(page_mapped(&f));
    qtest_writel(f.c.qts, lpage0(&f.c, 1, A_VCMDQ_CONFIG), 1);
    g_assert_true(vcmdq_error(&f.c, 1));
    accel_end(&f);
}

/* A TEGRA241 vEVENT: LVCMDQ_ERR_MAP, VINTF_ERR_MAP, the interrupt */
static void test_accel_error_map(void)
{
    AccelFixture f;
    SimhostOpts o = SIMHOST_OPTS_DEFAULT;
    VsmmuCmd cmd = vsmmu_cmd_tlbi_nh_all();     /* the host refuses it */
    uint32_t cons;

    if (!have_simhost()) {
        return;
    }
    accel_start(&f, &o, NULL);
    cmdqv_linux_init(&f.c, &f.qalloc);
    g_assert_cmpint(simhost_cmdqv_error(f.sh, 0, 1), ==, 0);
    for (int i = 0; i < 1000 && !qstat(f.c.qts, "x-stats-vcmdq-irqs"); i++) {
        g_usleep(1000);
    }
    g_assert_cmpuint(qstat(f.c.qts, "x-stats-vcmdq-irqs"), ==, 1);
    g_assert_cmphex(cfg_readl(&f.c, CMDQV_VINTF0_BASE +
                              A_VINTF_LVCMDQ_ERR_MAP), ==, 2);
    g_assert_cmphex(cfg_readl(&f.c, A_CMDQV_VINTF_ERR_MAP), ==, 1);
    g_assert_cmphex(cfg_readl(&f.c, A_CMDQV_CMDQ_ERR_MAP), ==, 2);
    /* a command the host's VCMDQ refuses: its own error, reported */
    g_assert_cmphex(FIELD_EX32(vcmdq_issue(&f.c, 0, &cmd, 1, true),
                               VCMDQ_CONS, ERR), ==, CERROR_ILL);
    for (int i = 0; i < 1000 && qstat(f.c.qts, "x-stats-vcmdq-irqs") < 2;
         i++) {
        g_usleep(1000);
    }
    g_assert_cmpuint(qstat(f.c.qts, "x-stats-vcmdq-irqs"), ==, 2);
    g_assert_cmphex(cfg_readl(&f.c, CMDQV_VINTF0_BASE +
                              A_VINTF_LVCMDQ_ERR_MAP), ==, 3);
    /*
     * The driver puts a CMD_SYNC in the bad command's place, then acks
     * through the mapped page: its bit clears. Left in place, the command
     * would run again once the host resumes the queue, and fail again.
     */
    vcmdq_skip_err(&f.c, 0);
    /* the simulated host sees the write when its queues are polled */
    for (int i = 0; i < 1000 && cfg_readl(&f.c, CMDQV_VINTF0_BASE +
                                          A_VINTF_LVCMDQ_ERR_MAP) != 2; i++) {
        simhost_vcmdq_poll(f.sh);
        g_usleep(1000);
    }
    g_assert_cmphex(cfg_readl(&f.c, CMDQV_VINTF0_BASE +
                              A_VINTF_LVCMDQ_ERR_MAP), ==, 2);
    /*
     * The host resumed the queue at the CMD_SYNC: it drains, no error.
     * (CONS.ERR keeps the old error until the host moves CONS on.)
     */
    for (int i = 0; i < 1000 &&
         (qtest_readl(f.c.qts, lpage0(&f.c, 0, A_VCMDQ_CONS)) &
          ((2u << f.c.log2size) - 1)) != f.c.prod[0]; i++) {
        simhost_vcmdq_poll(f.sh);
        g_usleep(1000);
    }
    cons = qtest_readl(f.c.qts, lpage0(&f.c, 0, A_VCMDQ_CONS));
    g_assert_cmphex(cons & ((2u << f.c.log2size) - 1), ==, f.c.prod[0]);
    g_assert_cmphex(FIELD_EX32(cons, VCMDQ_CONS, ERR), ==, 0);
    g_assert_cmphex(cfg_readl(&f.c, CMDQV_VINTF0_BASE +
                              A_VINTF_LVCMDQ_ERR_MAP), ==, 2);
    g_assert_cmpuint(qstat(f.c.qts, "x-stats-vcmdq-irqs"), ==, 2);
    accel_end(&f);
}

/*
 * Unplug the first device (the one the vIOMMU was made with): the host
 * queues stay; unplug the last: everything goes, the VCMDQs are emulated,
 * and a new device brings the host queues back.
 */
static void unplug(AccelFixture *f, const char *id)
{
    QDict *resp = qtest_qmp(f->c.qts, "{'execute': 'device_del', "
                            "'arguments': {'id': %s}}", id);

    g_assert_false(qdict_haskey(resp, "error"));
    qobject_unref(resp);
    qtest_qmp_eventwait(f->c.qts, "DEVICE_DELETED");
}

static void plug(AccelFixture *f, unsigned n, const char *bus)
{
    g_autofree char *fdname = g_strdup_printf("dev%u", n);
    g_autofree char *id = g_strdup_printf("simhost-dev%u", n);
    QDict *resp;

    resp = qtest_qmp_fds(f->c.qts, &f->sh->dev_fd[n], 1,
                         "{'execute': 'getfd', 'arguments': "
                         "{'fdname': %s}}", fdname);
    g_assert_false(qdict_haskey(resp, "error"));
    qobject_unref(resp);
    resp = qtest_qmp(f->c.qts, "{'execute': 'device_add', 'arguments': "
                     "{'driver': 'vfio-pci', 'id': %s, 'fd': %s, "
                     "'iommufd': 'simhost-iommufd', 'bus': %s}}", id, fdname,
                     bus);
    g_assert_false(qdict_haskey(resp, "error"));
    qobject_unref(resp);
}

static void test_accel_unplug(void)
{
    AccelFixture f;
    SimhostOpts o = SIMHOST_OPTS_DEFAULT;
    VsmmuCmd cmds[2] = { vsmmu_cmd_tlbi_nh_asid(TEST_ASID),
                         vsmmu_cmd_sync(CMD_SYNC_SIG_NONE, 0, 0) };
    uint64_t vcmds;

    if (!have_simhost()) {
        return;
    }
    o.num_devs = 2;
    o.cold_plug_mask = 0;
    accel_start_props(&f, &o, ",cmdqv=on,msi-window=off",
                      VSMMU_QTEST_TESTDEV
                      "-device pcie-root-port,id=rp0,chassis=1,addr=8.0 "
                      "-device pcie-root-port,id=rp1,chassis=2,addr=9.0");
    for (int i = 0; i < 2; i++) {
        QPCIDevice *rp = qpci_device_find(&f.t->pcibus.bus,
                                          QPCI_DEVFN(8 + i, 0));

        g_assert_nonnull(rp);
        qpci_config_writeb(rp, PCI_SECONDARY_BUS, 1 + i);
        qpci_config_writeb(rp, PCI_SUBORDINATE_BUS, 1 + i);
        g_free(rp);
    }
    plug(&f, 0, "rp0");
    plug(&f, 1, "rp1");
    g_assert_cmpuint(simhost_calls(f.sh, SIMHOST_K_VIOMMU_ALLOC), ==, 1);
    cmdqv_linux_init(&f.c, &f.qalloc);
    g_assert_true(page_mapped(&f));

    /* the device the vIOMMU was made with goes: nothing else changes */
    unplug(&f, "simhost-dev0");
    g_assert_true(page_mapped(&f));
    vcmds = f.sh->ctl->vcmdq_cmds;
    vcmdq_issue(&f.c, 1, cmds, 2, true);
    g_assert_cmpuint(f.sh->ctl->vcmdq_cmds, ==, vcmds + 2);

    /* the last one: host queues, page and vIOMMU go; emulated from now */
    unplug(&f, "simhost-dev1");
    g_assert_cmpuint(f.sh->ctl->vintf_mmaps, ==, 0);
    g_assert_false(page_mapped(&f));
    g_assert_cmphex(qtest_readl(f.c.qts, lpage0(&f.c, 1, A_VCMDQ_CONS)), ==,
                    f.c.prod[1]);
    g_assert_cmphex(FIELD_EX32(vcmdq_issue(&f.c, 1, cmds, 2, true),
                               VCMDQ_CONS, ERR), ==, 0);
    g_assert_cmpuint(qstat(f.c.qts, "x-stats-vcmdq-commands"), ==, 2);

    /* plugged again: the host backs the queues, state carried over */
    plug(&f, 1, "rp1");
    g_assert_true(page_mapped(&f));
    vcmds = f.sh->ctl->vcmdq_cmds;
    g_assert_cmphex(FIELD_EX32(vcmdq_issue(&f.c, 1, cmds, 2, true),
                               VCMDQ_CONS, ERR), ==, 0);
    g_assert_cmpuint(f.sh->ctl->vcmdq_cmds, ==, vcmds + 2);
    unplug(&f, "simhost-dev1");
    accel_end(&f);
}

/* Reset: the host queues are destroyed, the page unmapped from the guest */
static void test_accel_reset(void)
{
    AccelFixture f;
    SimhostOpts o = SIMHOST_OPTS_DEFAULT;
    unsigned live;

    if (!have_simhost()) {
        return;
    }
    accel_start(&f, &o, NULL);
    live = simhost_live_objects(f.sh);
    cmdqv_linux_init(&f.c, &f.qalloc);
    g_assert_cmpuint(simhost_live_objects(f.sh), ==, live + 2);
    qtest_system_reset(f.c.qts);
    g_assert_cmpuint(simhost_live_objects(f.sh), ==, live);
    g_assert_false(page_mapped(&f));
    accel_end(&f);
}

/* A host without a CMDQV: auto leaves it out; on emulates the VCMDQs */
static void test_accel_no_host_cmdqv(void)
{
    SimhostOpts o = SIMHOST_OPTS_DEFAULT;
    Simhost *sh;
    Cmdqv c = { .log2size = 8 };
    VsmmuCmd cmds[2] = { vsmmu_cmd_tlbi_nh_asid(TEST_ASID),
                         vsmmu_cmd_sync(CMD_SYNC_SIG_NONE, 0, 0) };
    uint64_t qa = 0x50000000;
    g_autofree char *info = NULL;

    if (!have_simhost()) {
        return;
    }
    o.dev_props[0] = "addr=2.0";
    sh = simhost_new(&o);
    simhost_qtest_start(sh, ACCEL_VSMMU);
    g_assert_cmphex(cmdqv_find(sh->qts), !=, 0);   /* the window exists */
    info = qtest_hmp(sh->qts, "info vsmmu");
    g_assert_null(strstr(info, "cmdqv:"));
    g_assert_cmpuint(simhost_calls(sh, SIMHOST_K_MMAP), ==, 0);
    simhost_qtest_quit(sh);
    simhost_free(sh);

    sh = simhost_new(&o);
    simhost_qtest_start(sh, ACCEL_VSMMU ",cmdqv=on");
    c.qts = sh->qts;
    c.base = cmdqv_find(sh->qts);
    cmdqv_linux_init(&c, &qa);
    g_assert_cmpuint(simhost_calls(sh, SIMHOST_K_HW_QUEUE_ALLOC), ==, 0);
    g_assert_cmphex(FIELD_EX32(vcmdq_issue(&c, 0, cmds, 2, true),
                               VCMDQ_CONS, ERR), ==, 0);
    /* through the host's invalidation ioctl */
    g_assert_cmpuint(simhost_calls(sh, SIMHOST_K_HWPT_INVALIDATE), ==, 1);
    simhost_qtest_quit(sh);
    g_assert_cmpuint(simhost_leaks(sh), ==, 0);
    simhost_free(sh);
}

static const struct {
    const char *path;
    GTestFunc fn;
} tests[] = {
    { "emu/param", test_emu_param },
    { "emu/bad-props", test_emu_bad_props },
    { "emu/init", test_emu_init },
    { "emu/commands", test_emu_commands },
    { "emu/illegal", test_emu_illegal },
    { "emu/sync-msi-abort", test_emu_sync_msi_abort },
    { "emu/bad-base", test_emu_bad_base },
    { "emu/not-running", test_emu_not_running },
    { "emu/reset", test_emu_reset },
    { "emu/migration", test_emu_migration },
    { "desc/dt", test_dt },
    { "desc/acpi", test_acpi },
    { "accel/init", test_accel_init },
    { "accel/commands", test_accel_commands },
    { "accel/queue-failure", test_accel_queue_failure },
    { "accel/misaligned", test_accel_misaligned },
    { "accel/error-map", test_accel_error_map },
    { "accel/unplug", test_accel_unplug },
    { "accel/reset", test_accel_reset },
    { "accel/no-host-cmdqv", test_accel_no_host_cmdqv },
};

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    for (int i = 0; i < ARRAY_SIZE(tests); i++) {
        g_autofree char *path = g_strdup_printf("/vsmmu-cmdqv/%s",
                                                tests[i].path);

        vsmmu_qtest_add_isolated_func(path, tests[i].fn, TEST_TIMEOUT_S);
    }
    return g_test_run();
}
