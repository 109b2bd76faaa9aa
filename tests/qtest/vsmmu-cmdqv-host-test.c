/*
 * qtests of the host side of the vsmmu's Tegra241 CMDQV (cmdqv=on,
 * cmdqv-vintfs=N > 1, emulated): the guest is the host and drives the
 * CMDQV as Linux 7.2's tegra241-cmdqv driver drives real hardware —
 * VINTF0 for itself (HYP_OWN), the other VINTFs handed to its guests
 * through iommufd (a vIOMMU: HYP_OWN = 0 and a VMID; a vDEVICE: a
 * SID_MATCH/SID_REPLACE pair; a HW queue: CMDQ_ALLOC and BASE in the
 * VINTF's logical page 1), whose commands then arrive on the VINTF's
 * logical page 0.
 *
 * Which VMID and StreamID a VINTF's commands carried is read from the
 * trace event vsmmu_cmdqv_vintf_cmd (QEMU's log backend, -D file).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qobject/qdict.h"
#include "qemu/bswap.h"
#include "hw/arm/vsmmu/cmdqv-regs.h"
#include "hw/arm/vsmmu/ats-testdev.h"
#include "vsmmu-qtest-lib.h"
#include <libfdt.h>

#define NVINTF          4
#define NLQ             2               /* cmdqv-vcmdqs: per VINTF */
#define NQ              (NVINTF * NLQ)
#define HOST_VSMMU      "-device vsmmu,primary-bus=pcie.0,id=vsmmu0," \
                        "cmdqv=on,cmdqv-vintfs=4"
#define TEST_ASID       VSMMU_QTEST_ASID
#define IOVA_A          VSMMU_QTEST_IOVA_A
#define IOVA_B          VSMMU_QTEST_IOVA_B
/* The ATS endpoint at 1e.0 on pcie.0 */
#define ATS_DEVFN       QPCI_DEVFN(0x1e, 0)
#define ATS_SID         0xf0
#define ATS_DEV         "-device vsmmu-ats-testdev,addr=1e.0 "
#define TEST_TIMEOUT_S  120

/* ---- the host driver ----------------------------------------------------- */

typedef struct Host {
    VsmmuQtest *t;
    QTestState *qts;
    uint64_t base;              /* CMDQV window */
    unsigned nvintf, nlq, nsid;
    unsigned log2size;
    uint64_t qpa[NVINTF][NLQ];
    uint32_t prod[NVINTF][NLQ];
    char *trace;                /* the trace log, NULL if not traced */
    VsmmuPgtable pt;
    VsmmuCdTable cdt;
} Host;

static uint32_t cfg_rd(Host *h, unsigned off)
{
    return qtest_readl(h->qts, h->base + off);
}

static void cfg_wr(Host *h, unsigned off, uint32_t v)
{
    qtest_writel(h->qts, h->base + off, v);
}

static unsigned vintf_reg(unsigned v, unsigned reg)
{
    return CMDQV_VINTF_BASE(v) + reg;
}

/* VINTF @v's logical queue @l, page 0 and page 1 */
static uint64_t lp0(Host *h, unsigned v, unsigned l, unsigned reg)
{
    return h->base + CMDQV_VINTF_PAGE0(v) + CMDQV_VCMDQ_STRIDE * l + reg;
}

static uint64_t lp1(Host *h, unsigned v, unsigned l, unsigned reg)
{
    return h->base + CMDQV_VINTF_PAGE1(v) + CMDQV_VCMDQ_STRIDE * l + reg;
}

/* Global queue @q, page 0 and page 1 */
static uint64_t gp0(Host *h, unsigned q, unsigned reg)
{
    return h->base + CMDQV_VCMDQ_PAGE0 + CMDQV_VCMDQ_STRIDE * q + reg;
}

static uint64_t gp1(Host *h, unsigned q, unsigned reg)
{
    return h->base + CMDQV_VCMDQ_PAGE1 + CMDQV_VCMDQ_STRIDE * q + reg;
}

/* The global queue the driver gives VINTF @v's logical queue @l */
static unsigned gq(unsigned v, unsigned l)
{
    return v * NLQ + l;
}

static bool poll_reg(Host *h, uint64_t addr, uint32_t mask, uint32_t want)
{
    for (int i = 0; i < 1000; i++) {
        if ((qtest_readl(h->qts, addr) & mask) == want) {
            return true;
        }
    }
    return false;
}

static uint64_t qstat(Host *h, const char *name)
{
    return vsmmu_qtest_qom_uint(h->qts, "/machine/peripheral/vsmmu0", name);
}

/* tegra241_vcmdq_hw_deinit: disabled, empty, no base, errors acked */
static void vcmdq_deinit(Host *h, unsigned v, unsigned l)
{
    uint32_t gerror, gerrorn;

    qtest_writel(h->qts, lp0(h, v, l, A_VCMDQ_CONFIG), 0);
    g_assert_true(poll_reg(h, lp0(h, v, l, A_VCMDQ_STATUS), 1, 0));
    qtest_writel(h->qts, lp0(h, v, l, A_VCMDQ_PROD), 0);
    qtest_writel(h->qts, lp0(h, v, l, A_VCMDQ_CONS), 0);
    qtest_writeq(h->qts, lp1(h, v, l, A_VCMDQ_BASE), 0);
    qtest_writeq(h->qts, lp1(h, v, l, A_VCMDQ_CONS_INDX_BASE), 0);
    gerrorn = qtest_readl(h->qts, lp0(h, v, l, A_VCMDQ_GERRORN));
    gerror = qtest_readl(h->qts, lp0(h, v, l, A_VCMDQ_GERROR));
    if (gerror != gerrorn) {
        qtest_writel(h->qts, lp0(h, v, l, A_VCMDQ_GERRORN), gerror);
    }
    h->prod[v][l] = 0;
}

static void vcmdq_map(Host *h, unsigned v, unsigned l, bool on)
{
    unsigned off = A_CMDQV_CMDQ_ALLOC + 4 * gq(v, l);

    cfg_wr(h, off, (cfg_rd(h, off) & ~1u) | on);
}

/* tegra241_vintf_hw_deinit: queues unmapped descending, VINTF off */
static void vintf_deinit(Host *h, unsigned v)
{
    for (int l = NLQ - 1; l >= 0; l--) {
        if (cfg_rd(h, A_CMDQV_CMDQ_ALLOC + 4 * gq(v, l)) & 1) {
            vcmdq_deinit(h, v, l);
            vcmdq_map(h, v, l, false);
        }
    }
    cfg_wr(h, vintf_reg(v, A_VINTF_CONFIG), 0);
    g_assert_true(poll_reg(h, h->base + vintf_reg(v, A_VINTF_STATUS), 1, 0));
    for (unsigned s = 0; s < h->nsid; s++) {
        cfg_wr(h, vintf_reg(v, A_VINTF_SID_MATCH + 4 * s), 0);
        cfg_wr(h, vintf_reg(v, A_VINTF_SID_REPLACE + 4 * s), 0);
    }
}

/*
 * tegra241_vintf_hw_init: CONFIG with HYP_OWN and VMID, then EN; returns
 * HYP_OWN as read back (how Linux learns whether it is the hypervisor)
 */
static bool vintf_init(Host *h, unsigned v, bool hyp_own, uint16_t vmid)
{
    uint32_t config = FIELD_DP32(0, VINTF_CONFIG, HYP_OWN, hyp_own);

    vintf_deinit(h, v);
    config = FIELD_DP32(config, VINTF_CONFIG, VMID, vmid);
    cfg_wr(h, vintf_reg(v, A_VINTF_CONFIG), config);
    cfg_wr(h, vintf_reg(v, A_VINTF_CONFIG), config | 1);
    g_assert_true(poll_reg(h, h->base + vintf_reg(v, A_VINTF_STATUS), 1, 1));
    return FIELD_EX32(cfg_rd(h, vintf_reg(v, A_VINTF_CONFIG)), VINTF_CONFIG,
                      HYP_OWN);
}

/*
 * A logical queue of VINTF @v: mapped, reset, BASE written through the
 * VINTF's logical page 1; enabled (as the kernel does for VINTF0, as
 * user space does through the mmapped page 0 for the others) if @enable
 */
static void vcmdq_init(Host *h, unsigned v, unsigned l, bool enable)
{
    uint64_t size = 16ULL << h->log2size;

    if (!h->qpa[v][l]) {
        h->qpa[v][l] = vsmmu_alloc(h->t, MAX(size, 4096), MAX(size, 4096));
    }
    vcmdq_map(h, v, l, true);
    vcmdq_deinit(h, v, l);
    qtest_writeq(h->qts, lp1(h, v, l, A_VCMDQ_BASE),
                 h->qpa[v][l] | h->log2size);
    if (enable) {
        qtest_writel(h->qts, lp0(h, v, l, A_VCMDQ_CONFIG), 1);
        g_assert_true(poll_reg(h, lp0(h, v, l, A_VCMDQ_STATUS), 1, 1));
    }
}

/*
 * The driver's probe and tegra241_cmdqv_hw_reset: PARAM read, CMDQV
 * toggled, every global queue pre-assigned (VINTF, LVCMDQ) without
 * ALLOCATED, VINTF0 made the host's with its queues
 */
static void host_probe(Host *h)
{
    uint32_t param = cfg_rd(h, A_CMDQV_PARAM);
    uint32_t config = cfg_rd(h, A_CMDQV_CONFIG);
    unsigned nq;

    h->nvintf = 1u << FIELD_EX32(param, CMDQV_PARAM, NUM_VINTF_LOG2);
    nq = 1u << FIELD_EX32(param, CMDQV_PARAM, NUM_VCMDQ_LOG2);
    h->nlq = nq / h->nvintf;
    h->nsid = 1u << FIELD_EX32(param, CMDQV_PARAM, NUM_SID_PER_VM_LOG2);
    g_assert_cmpuint(h->nvintf, ==, NVINTF);
    g_assert_cmpuint(h->nlq, ==, NLQ);
    cfg_wr(h, A_CMDQV_CONFIG, config & ~1u);
    g_assert_true(poll_reg(h, h->base + A_CMDQV_STATUS, 1, 0));
    cfg_wr(h, A_CMDQV_CONFIG, config | 1);
    g_assert_true(poll_reg(h, h->base + A_CMDQV_STATUS, 1, 1));
    for (unsigned v = 0; v < h->nvintf; v++) {
        for (unsigned l = 0; l < h->nlq; l++) {
            cfg_wr(h, A_CMDQV_CMDQ_ALLOC + 4 * gq(v, l), v << 15 | l << 1);
        }
    }
    g_assert_true(vintf_init(h, 0, true, 0));
    for (unsigned l = 0; l < h->nlq; l++) {
        vcmdq_init(h, 0, l, true);
    }
}

/* Write @n commands to VINTF @v's queue @l, PROD once; wait for CONS */
static uint32_t vcmdq_issue(Host *h, unsigned v, unsigned l,
                            const VsmmuCmd *cmds, unsigned n, bool wait)
{
    uint32_t mask = (1u << h->log2size) - 1;
    uint32_t wrap_mask = (2u << h->log2size) - 1;
    uint32_t cons;

    for (unsigned i = 0; i < n; i++) {
        uint64_t w[2] = { cpu_to_le64(cmds[i].word[0]),
                          cpu_to_le64(cmds[i].word[1]) };

        qtest_memwrite(h->qts, h->qpa[v][l] + 16 * (h->prod[v][l] & mask),
                       w, 16);
        h->prod[v][l] = (h->prod[v][l] + 1) & wrap_mask;
    }
    qtest_writel(h->qts, lp0(h, v, l, A_VCMDQ_PROD), h->prod[v][l]);
    if (!wait) {
        return 0;
    }
    for (int i = 0; i < 1000; i++) {
        cons = qtest_readl(h->qts, lp0(h, v, l, A_VCMDQ_CONS));
        if ((cons & wrap_mask) == h->prod[v][l] ||
            FIELD_EX32(cons, VCMDQ_CONS, ERR)) {
            return cons;
        }
    }
    g_assert_not_reached();
}

static unsigned issue_err(Host *h, unsigned v, unsigned l,
                          const VsmmuCmd *cmds, unsigned n)
{
    return FIELD_EX32(vcmdq_issue(h, v, l, cmds, n, true), VCMDQ_CONS, ERR);
}

static bool vcmdq_in_error(Host *h, unsigned v, unsigned l)
{
    return (qtest_readl(h->qts, lp0(h, v, l, A_VCMDQ_GERROR)) ^
            qtest_readl(h->qts, lp0(h, v, l, A_VCMDQ_GERRORN))) & 1;
}

/* The ISR's ack: skip the bad command (a CMD_SYNC in its place), GERRORN */
static void vcmdq_skip_err(Host *h, unsigned v, unsigned l)
{
    uint32_t cons = qtest_readl(h->qts, lp0(h, v, l, A_VCMDQ_CONS));
    uint32_t mask = (1u << h->log2size) - 1;
    uint64_t w[2] = { cpu_to_le64(CMD_SYNC), 0 };

    qtest_memwrite(h->qts, h->qpa[v][l] + 16 * (cons & mask), w, 16);
    qtest_writel(h->qts, lp0(h, v, l, A_VCMDQ_GERRORN),
                 qtest_readl(h->qts, lp0(h, v, l, A_VCMDQ_GERROR)));
}

/* iommufd's vDEVICE on a Tegra241 vIOMMU: SID_REPLACE, then SID_MATCH */
static void vintf_vsid(Host *h, unsigned v, unsigned slot, uint32_t vsid,
                       uint32_t psid)
{
    cfg_wr(h, vintf_reg(v, A_VINTF_SID_REPLACE + 4 * slot), psid);
    cfg_wr(h, vintf_reg(v, A_VINTF_SID_MATCH + 4 * slot),
           FIELD_DP32(1, VINTF_SID_MATCH, VIRT_SID, vsid));
}

/* ---- QEMU ---------------------------------------------------------------- */

/*
 * QEMU with the host-side vsmmu (@props appended), the DMA test device
 * and @extra; the trace of every VINTF command in a file of its own
 */
static void host_start(Host *h, const char *props, const char *extra)
{
    g_autofree char *args = NULL;
    int fd;

    memset(h, 0, sizeof(*h));
    fd = g_file_open_tmp("vsmmu-cmdqv-host-XXXXXX.trace", &h->trace, NULL);
    g_assert_cmpint(fd, >=, 0);
    close(fd);
    args = g_strdup_printf("-M virt -cpu max -nodefaults -m 512M "
                           HOST_VSMMU "%s " VSMMU_QTEST_TESTDEV "%s "
                           "-trace enable=vsmmu_cmdqv_vintf_cmd -D %s",
                           props ? props : "", extra ? extra : "", h->trace);
    h->qts = qtest_init(args);
    /* the test device at 1d.0 (@extra may add others) */
    h->t = vsmmu_qtest_attach_devfn(h->qts, VSMMU_QTEST_TESTDEV_SID);
    h->base = vsmmu_qtest_region_base(h->qts, "vsmmu-cmdqv");
    h->log2size = 8;
    g_assert_cmphex(h->base, !=, 0);
}

static void host_end(Host *h)
{
    vsmmu_qtest_quit(h->t);
    unlink(h->trace);
    g_free(h->trace);
}

/* SMMU up, the DMA test device in a stage-1 domain (ASID TEST_ASID) */
static void host_smmu_setup(Host *h)
{
    VsmmuQtest *t = h->t;
    uint64_t cd[VSMMU_CD_DWORDS], ste[VSMMU_STE_DWORDS];

    vsmmu_strtab_linear(t, 8);
    vsmmu_pt_init(t, &h->pt, 4096, 48);
    vsmmu_cd_table_linear(t, &h->cdt, 0);
    vsmmu_cd_for_pgtable(cd, &h->pt, TEST_ASID);
    vsmmu_cd_write(t, vsmmu_cd_addr(t, &h->cdt, 0), cd);
    vsmmu_ste_s1(ste, h->cdt.base, h->cdt.fmt, h->cdt.cdmax,
                 STE_S1DSS_TERMINATE);
    vsmmu_ste_write(t, t->sid, ste);
    vsmmu_bringup(t, 8, 4);
    vsmmu_enable(t);
}

/* One line of the trace event vsmmu_cmdqv_vintf_cmd */
typedef struct VintfCmd {
    unsigned vintf, q;
    int lidx;
    char cmd[32];
    int hyp_own;
    unsigned vmid;
    uint32_t sid;
} VintfCmd;

/* Every VINTF command traced so far (the log is flushed line by line) */
static GArray *trace_cmds(Host *h)
{
    GArray *a = g_array_new(false, true, sizeof(VintfCmd));
    g_autofree char *text = NULL;
    g_auto(GStrv) lines = NULL;

    g_assert_true(g_file_get_contents(h->trace, &text, NULL, NULL));
    lines = g_strsplit(text, "\n", -1);
    for (unsigned i = 0; lines[i]; i++) {
        const char *p = strstr(lines[i], "vsmmu_cmdqv_vintf_cmd");
        VintfCmd c;

        p = p ? strstr(p, "VINTF") : NULL;
        if (!p) {
            continue;
        }
        g_assert_cmpint(sscanf(p, "VINTF%u VCMDQ %u (logical %d) %31s "
                               "hyp_own=%d vmid=%u sid=0x%x", &c.vintf, &c.q,
                               &c.lidx, c.cmd, &c.hyp_own, &c.vmid, &c.sid),
                        ==, 7);
        g_array_append_val(a, c);
    }
    return a;
}

/* How many traced commands @cmd of VINTF @v carried VMID @vmid */
static unsigned trace_count(GArray *a, unsigned v, const char *cmd,
                            unsigned vmid)
{
    unsigned n = 0;

    for (unsigned i = 0; i < a->len; i++) {
        VintfCmd *c = &g_array_index(a, VintfCmd, i);

        n += c->vintf == v && !strcmp(c->cmd, cmd) && c->vmid == vmid;
    }
    return n;
}

/* ---- registers ----------------------------------------------------------- */

/* PARAM, the window, HYP_OWN read back: host side vs the guest's view */
static void test_param_hyp_own(void)
{
    Host h;
    QTestState *qts;
    uint64_t base;
    uint32_t param;

    host_start(&h, NULL, NULL);
    param = cfg_rd(&h, A_CMDQV_PARAM);
    g_assert_cmpuint(FIELD_EX32(param, CMDQV_PARAM, NUM_VINTF_LOG2), ==, 2);
    g_assert_cmpuint(FIELD_EX32(param, CMDQV_PARAM, NUM_VCMDQ_LOG2), ==, 3);
    g_assert_cmpuint(FIELD_EX32(param, CMDQV_PARAM, NUM_SID_PER_VM_LOG2), ==,
                     4);
    host_probe(&h);
    /* the hypervisor's VINTF0 keeps HYP_OWN; a guest's VINTF does not */
    g_assert_cmphex(cfg_rd(&h, vintf_reg(0, A_VINTF_CONFIG)), ==,
                    R_VINTF_CONFIG_HYP_OWN_MASK | 1);
    g_assert_false(vintf_init(&h, 3, false, 0x1234));
    g_assert_cmphex(cfg_rd(&h, vintf_reg(3, A_VINTF_CONFIG)), ==,
                    0x1234 << 1 | 1);
    g_assert_true(vintf_init(&h, 2, true, 7));
    /* past the last VINTF: read as zero, writes ignored */
    cfg_wr(&h, vintf_reg(NVINTF, A_VINTF_CONFIG), 1);
    g_assert_cmphex(cfg_rd(&h, vintf_reg(NVINTF, A_VINTF_CONFIG)), ==, 0);
    /* the last VINTF's logical page 1 is the window's last page */
    vcmdq_init(&h, 3, 1, false);
    g_assert_cmphex(qtest_readq(h.qts, h.base + CMDQV_MMIO_SIZE_VINTFS(4) -
                                CMDQV_PAGE_SIZE + CMDQV_VCMDQ_STRIDE),
                    ==, h.qpa[3][1] | 8);
    host_end(&h);

    /* the guest's view: one VINTF, HYP_OWN reads 0 */
    qts = qtest_init("-M virt -nodefaults "
                     "-device vsmmu,primary-bus=pcie.0,cmdqv=on");
    base = vsmmu_qtest_region_base(qts, "vsmmu-cmdqv");
    g_assert_cmpuint(FIELD_EX32(qtest_readl(qts, base + A_CMDQV_PARAM),
                                CMDQV_PARAM, NUM_VINTF_LOG2), ==, 0);
    qtest_writel(qts, base + vintf_reg(0, A_VINTF_CONFIG),
                 R_VINTF_CONFIG_HYP_OWN_MASK | 1);
    g_assert_cmphex(qtest_readl(qts, base + vintf_reg(0, A_VINTF_CONFIG)), ==,
                    1);
    qtest_quit(qts);
}

static void test_bad_props(void)
{
    static const char *bad[][2] = {
        { "cmdqv=on,cmdqv-vintfs=3", "power of 2" },
        { "cmdqv=on,cmdqv-vintfs=128", "power of 2" },
        { "cmdqv=on,cmdqv-vintfs=0", "power of 2" },
        { "cmdqv-vintfs=4", "needs cmdqv=on" },
        { "cmdqv=off,cmdqv-vintfs=2", "needs cmdqv=on" },
        { "cmdqv=on,cmdqv-vintfs=4,cmdqv-vcmdqs=64", "more than 128" },
    };

    for (int i = 0; i < ARRAY_SIZE(bad); i++) {
        g_autofree char *cmd = g_strdup_printf(
            "%s -M virt -nodefaults -display none "
            "-device vsmmu,primary-bus=pcie.0,%s",
            qtest_qemu_binary(NULL), bad[i][0]);
        g_autofree char *err = NULL;
        int status;

        g_assert_true(g_spawn_command_line_sync(cmd, NULL, &err, &status,
                                                NULL));
        g_assert_true(WIFEXITED(status) && WEXITSTATUS(status));
        g_assert_nonnull(strstr(err, bad[i][1]));
    }
}

/*
 * CMDQ_ALLOC: each global queue reached through the logical pages of the
 * VINTF and index it names; what the host writes in a logical page 1 is
 * the global queue's BASE
 */
static void test_alloc(void)
{
    Host h;

    host_start(&h, NULL, NULL);
    host_probe(&h);
    /* VINTF0's queues, mapped by the probe */
    for (unsigned l = 0; l < NLQ; l++) {
        g_assert_cmphex(cfg_rd(&h, A_CMDQV_CMDQ_ALLOC + 4 * l), ==,
                        l << 1 | 1);
        g_assert_cmphex(qtest_readq(h.qts, gp1(&h, l, A_VCMDQ_BASE)), ==,
                        h.qpa[0][l] | 8);
        g_assert_cmphex(qtest_readl(h.qts, gp0(&h, l, A_VCMDQ_STATUS)), ==,
                        1);
    }
    /* a user VINTF's queues: nothing behind its pages until allocated */
    vintf_init(&h, 2, false, 3);
    g_assert_cmphex(qtest_readq(h.qts, lp1(&h, 2, 1, A_VCMDQ_BASE)), ==, 0);
    vcmdq_init(&h, 2, 0, false);
    vcmdq_init(&h, 2, 1, false);
    g_assert_cmphex(cfg_rd(&h, A_CMDQV_CMDQ_ALLOC + 4 * gq(2, 1)), ==,
                    2 << 15 | 1 << 1 | 1);
    g_assert_cmphex(qtest_readq(h.qts, gp1(&h, gq(2, 1), A_VCMDQ_BASE)), ==,
                    h.qpa[2][1] | 8);
    g_assert_cmphex(qtest_readq(h.qts, lp1(&h, 2, 1, A_VCMDQ_BASE)), ==,
                    h.qpa[2][1] | 8);
    /* logical page 0 is the global queue's page 0 */
    qtest_writel(h.qts, lp0(&h, 2, 1, A_VCMDQ_CONFIG), 1);
    g_assert_cmphex(qtest_readl(h.qts, gp0(&h, gq(2, 1), A_VCMDQ_STATUS)),
                    ==, 1);
    g_assert_cmphex(qtest_readl(h.qts, gp0(&h, gq(2, 0), A_VCMDQ_STATUS)),
                    ==, 0);

    /* another global queue behind VINTF1's logical queue 0 */
    cfg_wr(&h, A_CMDQV_CMDQ_ALLOC + 4 * 7, 1 << 15 | 0 << 1 | 1);
    qtest_writeq(h.qts, lp1(&h, 1, 0, A_VCMDQ_BASE), 0x48100000 | 5);
    g_assert_cmphex(qtest_readq(h.qts, gp1(&h, 7, A_VCMDQ_BASE)), ==,
                    0x48100000 | 5);
    g_assert_cmphex(qtest_readq(h.qts, lp1(&h, 1, 0, A_VCMDQ_BASE)), ==,
                    0x48100000 | 5);
    /* written in the global page 1: the logical one shows it */
    qtest_writeq(h.qts, gp1(&h, 7, A_VCMDQ_BASE), 0x48200000 | 6);
    g_assert_cmphex(qtest_readq(h.qts, lp1(&h, 1, 0, A_VCMDQ_BASE)), ==,
                    0x48200000 | 6);
    qtest_writel(h.qts, gp1(&h, 7, A_VCMDQ_BASE), 0x48100000 | 5);
    g_assert_cmphex(qtest_readq(h.qts, lp1(&h, 1, 0, A_VCMDQ_BASE)), ==,
                    0x48100000 | 5);
    /* unmapped: the logical page shows nothing, the global page keeps it */
    cfg_wr(&h, A_CMDQV_CMDQ_ALLOC + 4 * 7, 1 << 15);
    g_assert_cmphex(qtest_readq(h.qts, lp1(&h, 1, 0, A_VCMDQ_BASE)), ==, 0);
    g_assert_cmphex(qtest_readq(h.qts, gp1(&h, 7, A_VCMDQ_BASE)), ==,
                    0x48100000 | 5);
    host_end(&h);
}

/* ---- commands ------------------------------------------------------------ */

/*
 * Two guest VINTFs with VMIDs 5 and 9: whatever VMID their guests put in
 * a TLBI, the command carries the VINTF's; VINTF0 (HYP_OWN) issues the
 * full command set as written, and its TLBI_NH_ALL takes effect
 */
static void test_vmid(void)
{
    Host h;
    g_autoptr(GArray) tr = NULL;
    VsmmuCmd cmds[4];
    uint64_t pa1, pa2, dst;

    host_start(&h, NULL, NULL);
    host_smmu_setup(&h);
    host_probe(&h);
    g_assert_false(vintf_init(&h, 1, false, 5));
    g_assert_false(vintf_init(&h, 2, false, 9));
    vcmdq_init(&h, 1, 0, true);
    vcmdq_init(&h, 2, 0, true);
    vcmdq_init(&h, 2, 1, true);

    cmds[0] = vsmmu_cmd_tlbi_nh_asid(TEST_ASID);
    cmds[0].word[0] = FIELD_DP64(cmds[0].word[0], CMD0, VMID, 0x77);
    cmds[1] = vsmmu_cmd_tlbi_nh_va(TEST_ASID, IOVA_A, true);
    cmds[2] = vsmmu_cmd_sync(CMD_SYNC_SIG_NONE, 0, 0);
    g_assert_cmpuint(issue_err(&h, 1, 0, cmds, 3), ==, CERROR_NONE);
    g_assert_cmpuint(issue_err(&h, 2, 1, cmds, 3), ==, CERROR_NONE);
    g_assert_cmpuint(issue_err(&h, 2, 0, cmds, 2), ==, CERROR_NONE);

    /* the hypervisor's own queue: anything, as written */
    pa1 = vsmmu_alloc(h.t, 4096, 4096);
    pa2 = vsmmu_alloc(h.t, 4096, 4096);
    dst = vsmmu_alloc(h.t, 4096, 4096);
    qtest_memset(h.qts, pa1, 0x11, 4096);
    qtest_memset(h.qts, pa2, 0x22, 4096);
    vsmmu_pt_map(&h.pt, IOVA_A, pa1, 4096, VSMMU_PT_READ);
    vsmmu_pt_map(&h.pt, IOVA_B, dst, 4096, VSMMU_PT_WRITE);
    vsmmu_testdev_copy(h.t, IOVA_A, IOVA_B, 4096);
    g_assert_cmphex(qtest_readb(h.qts, dst), ==, 0x11);
    vsmmu_pt_remap(&h.pt, IOVA_A, pa2);
    cmds[0] = vsmmu_cmd_tlbi_nh_all();
    cmds[1] = vsmmu_cmd_cfgi_ste(h.t->sid, true);
    cmds[2] = vsmmu_cmd_tlbi_nh_asid(TEST_ASID);
    cmds[2].word[0] = FIELD_DP64(cmds[2].word[0], CMD0, VMID, 0x77);
    cmds[3] = vsmmu_cmd_sync(CMD_SYNC_SIG_NONE, 0, 0);
    g_assert_cmpuint(issue_err(&h, 0, 1, cmds, 4), ==, CERROR_NONE);
    vsmmu_testdev_copy(h.t, IOVA_A, IOVA_B, 4096);
    g_assert_cmphex(qtest_readb(h.qts, dst), ==, 0x22);

    tr = trace_cmds(&h);
    g_assert_cmpuint(trace_count(tr, 1, "TLBI_NH_ASID", 5), ==, 1);
    g_assert_cmpuint(trace_count(tr, 1, "TLBI_NH_VA", 5), ==, 1);
    g_assert_cmpuint(trace_count(tr, 2, "TLBI_NH_ASID", 9), ==, 2);
    g_assert_cmpuint(trace_count(tr, 2, "TLBI_NH_VA", 9), ==, 2);
    g_assert_cmpuint(trace_count(tr, 0, "TLBI_NH_ASID", 0x77), ==, 1);
    g_assert_cmpuint(trace_count(tr, 0, "TLBI_NH_ALL", 0), ==, 1);
    g_assert_cmpuint(trace_count(tr, 1, "TLBI_NH_ASID", 0x77) +
                     trace_count(tr, 2, "TLBI_NH_ASID", 0x77), ==, 0);
    for (unsigned i = 0; i < tr->len; i++) {
        VintfCmd *c = &g_array_index(tr, VintfCmd, i);

        g_assert_cmpint(c->hyp_own, ==, c->vintf == 0);
        g_assert_cmpuint(c->q, ==, gq(c->vintf, c->lidx));
    }
    g_assert_cmpuint(qstat(&h, "x-stats-vcmdq-commands"), ==, 3 + 3 + 2 + 4);
    g_assert_cmpuint(qstat(&h, "x-stats-vcmdq-errors"), ==, 0);
    host_end(&h);
}

/*
 * VMID isolation between two VINTFs, which needs the vsmmu's stage 2
 * (issue 15, part A: stage=nested): two streams nested over stage 2 with
 * VMIDs 5 and 9 and the same ASID; a TLBI_NH_ASID from VINTF1 (VMID 5)
 * drops the first's cached translation and leaves the second's.
 */
#define S2_VMID_A       5
#define S2_VMID_B       9
#define DEV_B_DEVFN     QPCI_DEVFN(0x1c, 0)

/* STE2/STE3 fields and STE_CONFIG_NESTED: vsmmu-qtest-lib.h */

/* Does the vsmmu have a "stage" property (part A of issue 15)? */
static bool have_stage2(void)
{
    g_autofree char *cmd = g_strdup_printf("%s -device vsmmu,help",
                                           qtest_qemu_binary(NULL));
    g_autofree char *out = NULL;
    int status;

    g_assert_true(g_spawn_command_line_sync(cmd, &out, NULL, &status, NULL));
    g_assert_nonnull(strstr(out, "cmdqv-vintfs="));
    return strstr(out, "  stage=") != NULL;
}

/*
 * A stage-2 table mapping guest RAM to itself: 4 KiB granule, 39-bit
 * IPA, walk from level 1, one 1 GiB block (S2AP RW, Normal WB, AF)
 */
static uint64_t s2_identity(VsmmuQtest *t)
{
    uint64_t root = vsmmu_alloc(t, 4096, 4096);
    uint64_t block = VSMMU_QTEST_RAM_BASE | 1 | 0xfull << 2 | 3ull << 6 |
                     3ull << 8 | 1ull << 10;

    qtest_writeq(t->qts, root + 8 * (VSMMU_QTEST_RAM_BASE >> 30), block);
    return root;
}

static void ste_nested(uint64_t *ste, uint64_t s2ttb, uint16_t vmid)
{
    ste[0] = FIELD_DP64(ste[0], STE0, CONFIG, STE_CONFIG_NESTED);
    ste[2] = FIELD_DP64(0, STE2, S2VMID, vmid);
    ste[2] = FIELD_DP64(ste[2], STE2, S2T0SZ, 25);
    ste[2] = FIELD_DP64(ste[2], STE2, S2SL0, 1);
    ste[2] = FIELD_DP64(ste[2], STE2, S2IR0, 1);
    ste[2] = FIELD_DP64(ste[2], STE2, S2OR0, 1);
    ste[2] = FIELD_DP64(ste[2], STE2, S2SH0, 3);
    ste[2] = FIELD_DP64(ste[2], STE2, S2PS, 2);
    ste[2] = FIELD_DP64(ste[2], STE2, S2AA64, 1);
    ste[2] = FIELD_DP64(ste[2], STE2, S2R, 1);
    ste[3] = FIELD_DP64(0, STE3, S2TTB, s2ttb >> 4);
}

static void test_vmid_isolation(void)
{
    Host h;
    VsmmuQtest tb;
    VsmmuPgtable ptb;
    VsmmuCdTable cdtb;
    uint64_t cd[VSMMU_CD_DWORDS], ste[VSMMU_STE_DWORDS], s2;
    uint64_t pa1, pa2, dsta, dstb;
    VsmmuCmd cmds[2];

    if (!have_stage2()) {
        vsmmu_qtest_skip("needs the vsmmu's stage 2 and nesting (issue 15 "
                         "part A, stage=nested), which this build lacks");
        return;
    }
    host_start(&h, ",stage=nested",
               "-device vsmmu-dma-testdev,addr=1c.0");
    /* the second test device, on the same bus and allocators */
    tb = *h.t;
    tb.dev = qpci_device_find(&h.t->pcibus.bus, DEV_B_DEVFN);
    g_assert_nonnull(tb.dev);
    qpci_device_enable(tb.dev);
    tb.bar = qpci_iomap(tb.dev, 0, NULL);
    tb.sid = DEV_B_DEVFN;
    s2 = s2_identity(h.t);
    vsmmu_strtab_linear(h.t, 8);
    /* the same ASID, the same IOVA, in two VMs */
    vsmmu_pt_init(h.t, &h.pt, 4096, 48);
    vsmmu_cd_table_linear(h.t, &h.cdt, 0);
    vsmmu_cd_for_pgtable(cd, &h.pt, TEST_ASID);
    vsmmu_cd_write(h.t, vsmmu_cd_addr(h.t, &h.cdt, 0), cd);
    vsmmu_ste_s1(ste, h.cdt.base, h.cdt.fmt, h.cdt.cdmax,
                 STE_S1DSS_TERMINATE);
    ste_nested(ste, s2, S2_VMID_A);
    vsmmu_ste_write(h.t, h.t->sid, ste);
    vsmmu_pt_init(h.t, &ptb, 4096, 48);
    vsmmu_cd_table_linear(h.t, &cdtb, 0);
    vsmmu_cd_for_pgtable(cd, &ptb, TEST_ASID);
    vsmmu_cd_write(h.t, vsmmu_cd_addr(h.t, &cdtb, 0), cd);
    vsmmu_ste_s1(ste, cdtb.base, cdtb.fmt, cdtb.cdmax, STE_S1DSS_TERMINATE);
    ste_nested(ste, s2, S2_VMID_B);
    vsmmu_ste_write(h.t, tb.sid, ste);
    vsmmu_bringup(h.t, 8, 4);
    vsmmu_enable(h.t);

    pa1 = vsmmu_alloc(h.t, 4096, 4096);
    pa2 = vsmmu_alloc(h.t, 4096, 4096);
    dsta = vsmmu_alloc(h.t, 4096, 4096);
    dstb = vsmmu_alloc(h.t, 4096, 4096);
    qtest_memset(h.qts, pa1, 0x11, 4096);
    qtest_memset(h.qts, pa2, 0x22, 4096);
    vsmmu_pt_map(&h.pt, IOVA_A, pa1, 4096, VSMMU_PT_READ);
    vsmmu_pt_map(&h.pt, IOVA_B, dsta, 4096, VSMMU_PT_WRITE);
    vsmmu_pt_map(&ptb, IOVA_A, pa1, 4096, VSMMU_PT_READ);
    vsmmu_pt_map(&ptb, IOVA_B, dstb, 4096, VSMMU_PT_WRITE);
    g_assert_cmpuint(vsmmu_testdev_status_code(
        vsmmu_testdev_copy(h.t, IOVA_A, IOVA_B, 4096)), ==,
        VSMMU_TESTDEV_STATUS_OK);
    g_assert_cmpuint(vsmmu_testdev_status_code(
        vsmmu_testdev_copy(&tb, IOVA_A, IOVA_B, 4096)), ==,
        VSMMU_TESTDEV_STATUS_OK);
    g_assert_cmphex(qtest_readb(h.qts, dsta), ==, 0x11);
    g_assert_cmphex(qtest_readb(h.qts, dstb), ==, 0x11);

    /* both remapped; VINTF1 (VMID A) invalidates its ASID */
    vsmmu_pt_remap(&h.pt, IOVA_A, pa2);
    vsmmu_pt_remap(&ptb, IOVA_A, pa2);
    host_probe(&h);
    g_assert_false(vintf_init(&h, 1, false, S2_VMID_A));
    vcmdq_init(&h, 1, 0, true);
    cmds[0] = vsmmu_cmd_tlbi_nh_asid(TEST_ASID);
    cmds[1] = vsmmu_cmd_sync(CMD_SYNC_SIG_NONE, 0, 0);
    g_assert_cmpuint(issue_err(&h, 1, 0, cmds, 2), ==, CERROR_NONE);
    vsmmu_testdev_copy(h.t, IOVA_A, IOVA_B, 4096);
    vsmmu_testdev_copy(&tb, IOVA_A, IOVA_B, 4096);
    g_assert_cmphex(qtest_readb(h.qts, dsta), ==, 0x22);    /* dropped */
    g_assert_cmphex(qtest_readb(h.qts, dstb), ==, 0x11);    /* kept */
    g_free(tb.dev);
    host_end(&h);
}

/* The ATS endpoint's registers (BAR0) */
typedef struct Ats {
    QPCIDevice *dev;
    QPCIBar bar;
} Ats;

static uint64_t ats_rd(Ats *a, uint64_t reg)
{
    return qpci_io_readq(a->dev, a->bar, reg);
}

static void ats_start(Host *h, Ats *a)
{
    uint64_t ctrl;

    a->dev = qpci_device_find(&h->t->pcibus.bus, ATS_DEVFN);
    g_assert_nonnull(a->dev);
    qpci_device_enable(a->dev);
    a->bar = qpci_iomap(a->dev, 0, NULL);
    g_assert_cmphex(ats_rd(a, A_ATSTD_ID), ==, VSMMU_ATS_TESTDEV_ID);
    /* ATS enabled in its capability: its ATC listens to ATC_INV */
    ctrl = h->t->pcibus.ecam_alloc_ptr + (ATS_DEVFN << 12) +
           VSMMU_ATS_TESTDEV_ATS_CAP + 6;
    qtest_writew(h->qts, ctrl, 0x8000);
}

/*
 * ATC_INV from a guest VINTF: the virtual StreamID its guest knows is
 * replaced by the physical one of its SID_MATCH/SID_REPLACE pair, and the
 * invalidation reaches that endpoint; a StreamID no pair matches (the
 * physical one included) is refused
 */
static void test_atc_inv_sid(void)
{
    Host h;
    Ats a;
    g_autoptr(GArray) tr = NULL;
    VsmmuCmd cmds[2];
    uint32_t cons;

    host_start(&h, ",ats=on", ATS_DEV);
    ats_start(&h, &a);
    host_smmu_setup(&h);
    host_probe(&h);
    vintf_init(&h, 3, false, 4);
    vintf_vsid(&h, 3, 1, 0x5, ATS_SID);
    vcmdq_init(&h, 3, 0, true);
    g_assert_cmpuint(ats_rd(&a, A_ATSTD_INV_COUNT), ==, 0);

    cmds[0] = vsmmu_cmd_atc_inv(0x5, IOVA_A, 0);
    cmds[1] = vsmmu_cmd_sync(CMD_SYNC_SIG_NONE, 0, 0);
    g_assert_cmpuint(issue_err(&h, 3, 0, cmds, 2), ==, CERROR_NONE);
    g_assert_cmpuint(ats_rd(&a, A_ATSTD_INV_COUNT), ==, 1);
    g_assert_cmphex(ats_rd(&a, A_ATSTD_INV_IOVA), ==, IOVA_A);
    g_assert_cmphex(ats_rd(&a, A_ATSTD_INV_MASK), ==, 0xfff);

    /* the physical StreamID itself: no pair matches it */
    cmds[0] = vsmmu_cmd_atc_inv(ATS_SID, IOVA_A, 0);
    cons = vcmdq_issue(&h, 3, 0, cmds, 2, true);
    g_assert_cmpuint(FIELD_EX32(cons, VCMDQ_CONS, ERR), ==, CERROR_ILL);
    g_assert_cmpuint(cons & 0xff, ==, 2);
    g_assert_cmpuint(ats_rd(&a, A_ATSTD_INV_COUNT), ==, 1);
    g_assert_true(vcmdq_in_error(&h, 3, 0));
    vcmdq_skip_err(&h, 3, 0);
    g_assert_false(vcmdq_in_error(&h, 3, 0));

    /* the pair disabled: the virtual one is refused too */
    cfg_wr(&h, vintf_reg(3, A_VINTF_SID_MATCH + 4), 0x5 << 1);
    cmds[0] = vsmmu_cmd_atc_inv(0x5, IOVA_A, 0);
    g_assert_cmpuint(issue_err(&h, 3, 0, cmds, 2), ==, CERROR_ILL);
    g_assert_cmpuint(ats_rd(&a, A_ATSTD_INV_COUNT), ==, 1);

    /* the hypervisor's VINTF0 uses the physical StreamID as it is */
    cmds[0] = vsmmu_cmd_atc_inv(ATS_SID, IOVA_B, 0);
    g_assert_cmpuint(issue_err(&h, 0, 0, cmds, 2), ==, CERROR_NONE);
    g_assert_cmpuint(ats_rd(&a, A_ATSTD_INV_COUNT), ==, 2);
    g_assert_cmphex(ats_rd(&a, A_ATSTD_INV_IOVA), ==, IOVA_B);

    tr = trace_cmds(&h);
    /* accepted: ATC_INV + CMD_SYNC, the CMD_SYNCs after the skip, VINTF0 */
    g_assert_cmpuint(tr->len, ==, 6);
    g_assert_cmpstr(g_array_index(tr, VintfCmd, 0).cmd, ==, "ATC_INV");
    g_assert_cmphex(g_array_index(tr, VintfCmd, 0).sid, ==, ATS_SID);
    g_assert_cmpuint(qstat(&h, "x-stats-vcmdq-errors"), ==, 2);
    g_free(a.dev);
    host_end(&h);
}

/*
 * A command a guest VINTF may not issue: its queue stops (CONS.ERR on
 * it), its bit in the VINTF's LVCMDQ_ERR_MAP, the VINTF's in
 * VINTF_ERR_MAP, the global queue's in CMDQ_ERR_MAP, the interrupt; the
 * ack resumes it. VINTF_INT_MASK silences the VINTF's interrupt.
 */
static void test_forbidden(void)
{
    Host h;
    VsmmuCmd cmds[3];
    uint32_t cons;
    unsigned q = gq(2, 1);

    host_start(&h, NULL, NULL);
    host_probe(&h);
    vintf_init(&h, 2, false, 6);
    vcmdq_init(&h, 2, 0, true);
    vcmdq_init(&h, 2, 1, true);
    cmds[0] = vsmmu_cmd_tlbi_nh_asid(TEST_ASID);
    cmds[1] = vsmmu_cmd_tlbi_nh_all();      /* the hypervisor's only */
    cmds[2] = vsmmu_cmd_sync(CMD_SYNC_SIG_NONE, 0, 0);
    cons = vcmdq_issue(&h, 2, 1, cmds, 3, true);
    g_assert_cmphex(FIELD_EX32(cons, VCMDQ_CONS, ERR), ==, CERROR_ILL);
    g_assert_cmphex(cons & 0xff, ==, 1);
    g_assert_true(vcmdq_in_error(&h, 2, 1));
    g_assert_false(vcmdq_in_error(&h, 2, 0));
    g_assert_cmphex(cfg_rd(&h, vintf_reg(2, A_VINTF_LVCMDQ_ERR_MAP)), ==, 2);
    g_assert_cmphex(qtest_readq(h.qts, h.base +
                                vintf_reg(2, A_VINTF_LVCMDQ_ERR_MAP)), ==, 2);
    g_assert_cmphex(cfg_rd(&h, vintf_reg(0, A_VINTF_LVCMDQ_ERR_MAP)), ==, 0);
    g_assert_cmphex(cfg_rd(&h, A_CMDQV_VINTF_ERR_MAP), ==, 1u << 2);
    g_assert_cmphex(cfg_rd(&h, A_CMDQV_VINTF_ERR_MAP + 4), ==, 0);
    g_assert_cmphex(cfg_rd(&h, A_CMDQV_CMDQ_ERR_MAP), ==, 1u << q);
    g_assert_cmpuint(qstat(&h, "x-stats-vcmdq-irqs"), ==, 1);
    g_assert_cmpuint(qstat(&h, "x-stats-vcmdq-errors"), ==, 1);
    /* the global page shows the same queue in error */
    g_assert_cmphex(qtest_readl(h.qts, gp0(&h, q, A_VCMDQ_CONS)), ==, cons);

    /* the ack (what the guest's driver does): it resumes */
    vcmdq_skip_err(&h, 2, 1);
    g_assert_cmphex(qtest_readl(h.qts, lp0(&h, 2, 1, A_VCMDQ_CONS)) & 0xff,
                    ==, 3);
    g_assert_cmphex(cfg_rd(&h, A_CMDQV_VINTF_ERR_MAP), ==, 0);
    g_assert_cmphex(cfg_rd(&h, A_CMDQV_CMDQ_ERR_MAP), ==, 0);

    /* TLBI_EL2_ALL, CFGI: refused too; masked, no interrupt */
    cfg_wr(&h, A_CMDQV_VINTF_INT_MASK, 1u << 2);
    g_assert_cmphex(cfg_rd(&h, A_CMDQV_VINTF_INT_MASK), ==, 1u << 2);
    cmds[0] = vsmmu_cmd_cfgi_ste(VSMMU_QTEST_TESTDEV_SID, true);
    g_assert_cmpuint(issue_err(&h, 2, 0, cmds, 1), ==, CERROR_ILL);
    g_assert_cmphex(cfg_rd(&h, A_CMDQV_VINTF_ERR_MAP), ==, 1u << 2);
    g_assert_cmpuint(qstat(&h, "x-stats-vcmdq-errors"), ==, 2);
    g_assert_cmpuint(qstat(&h, "x-stats-vcmdq-irqs"), ==, 1);
    /* another VINTF's error still interrupts */
    vintf_init(&h, 1, false, 1);
    vcmdq_init(&h, 1, 0, true);
    g_assert_cmpuint(issue_err(&h, 1, 0, cmds, 1), ==, CERROR_ILL);
    g_assert_cmphex(cfg_rd(&h, A_CMDQV_VINTF_ERR_MAP), ==, 1u << 2 | 1u << 1);
    g_assert_cmpuint(qstat(&h, "x-stats-vcmdq-irqs"), ==, 2);

    /* the same commands from the hypervisor's VINTF0: accepted */
    cmds[1] = vsmmu_cmd_tlbi_nh_all();
    cmds[2] = vsmmu_cmd_sync(CMD_SYNC_SIG_NONE, 0, 0);
    g_assert_cmpuint(issue_err(&h, 0, 0, cmds, 3), ==, CERROR_NONE);
    g_assert_cmphex(cfg_rd(&h, vintf_reg(0, A_VINTF_LVCMDQ_ERR_MAP)), ==, 0);
    host_end(&h);
}

/*
 * A guest VINTF's CMD_SYNC completes through CONS only: the MSI address
 * its guest wrote is not a host address, and nothing is written there
 */
static void test_sync_msi(void)
{
    Host h;
    VsmmuCmd cmd;
    uint64_t msi;

    host_start(&h, NULL, NULL);
    host_probe(&h);
    vintf_init(&h, 1, false, 2);
    vcmdq_init(&h, 1, 0, true);
    msi = vsmmu_alloc(h.t, 4096, 4096);
    cmd = vsmmu_cmd_sync(CMD_SYNC_SIG_IRQ, msi, 0xabcd);
    g_assert_cmpuint(issue_err(&h, 1, 0, &cmd, 1), ==, CERROR_NONE);
    g_assert_cmphex(qtest_readl(h.qts, msi), ==, 0);
    /* the hypervisor's: written */
    g_assert_cmpuint(issue_err(&h, 0, 0, &cmd, 1), ==, CERROR_NONE);
    g_assert_cmphex(qtest_readl(h.qts, msi), ==, 0xabcd);
    host_end(&h);
}

/* ---- reset, migration ---------------------------------------------------- */

static void host_setup_guests(Host *h)
{
    host_probe(h);
    vintf_init(h, 1, false, 5);
    vintf_init(h, 3, false, 9);
    vintf_vsid(h, 3, 2, 0x7, 0x33);
    vcmdq_init(h, 1, 0, true);
    vcmdq_init(h, 3, 0, true);
    vcmdq_init(h, 3, 1, true);
    cfg_wr(h, A_CMDQV_VINTF_INT_MASK + 4, 0x10);
}

/* System reset: every VINTF and queue back to 0; PARAM stays */
static void test_reset(void)
{
    Host h;
    uint32_t param;

    host_start(&h, NULL, NULL);
    param = cfg_rd(&h, A_CMDQV_PARAM);
    host_setup_guests(&h);
    qtest_system_reset(h.qts);
    g_assert_cmphex(cfg_rd(&h, A_CMDQV_PARAM), ==, param);
    g_assert_cmphex(cfg_rd(&h, A_CMDQV_CONFIG), ==, 0);
    g_assert_cmphex(cfg_rd(&h, A_CMDQV_VINTF_INT_MASK + 4), ==, 0);
    for (unsigned v = 0; v < NVINTF; v++) {
        g_assert_cmphex(cfg_rd(&h, vintf_reg(v, A_VINTF_CONFIG)), ==, 0);
        g_assert_cmphex(cfg_rd(&h, vintf_reg(v, A_VINTF_SID_MATCH + 8)), ==,
                        0);
        g_assert_cmphex(cfg_rd(&h, vintf_reg(v, A_VINTF_SID_REPLACE + 8)), ==,
                        0);
    }
    for (unsigned q = 0; q < NQ; q++) {
        g_assert_cmphex(cfg_rd(&h, A_CMDQV_CMDQ_ALLOC + 4 * q), ==, 0);
        g_assert_cmphex(qtest_readq(h.qts, gp1(&h, q, A_VCMDQ_BASE)), ==, 0);
        g_assert_cmphex(qtest_readl(h.qts, gp0(&h, q, A_VCMDQ_CONFIG)), ==,
                        0);
    }
    /* and it comes up again */
    host_setup_guests(&h);
    host_end(&h);
}

/*
 * Migration: the VINTFs (HYP_OWN, VMIDs, SID pairs), the map and the
 * queues arrive, and the queues run there with their VINTF's rules; a
 * destination with the guest's view only refuses the stream
 */
static void test_migration(void)
{
    Host h, d;
    g_autofree char *uri = g_strdup_printf("unix:%s/vsmmu-cmdqv-host-mig-%d",
                                           g_get_tmp_dir(), getpid());
    g_autofree char *args = NULL;
    g_autoptr(GArray) tr = NULL;
    VsmmuCmd cmds[3];
    QTestState *dst;
    QDict *rsp;
    int fd;

    host_start(&h, NULL, NULL);
    host_setup_guests(&h);
    cmds[0] = vsmmu_cmd_tlbi_nh_asid(TEST_ASID);
    cmds[1] = vsmmu_cmd_sync(CMD_SYNC_SIG_NONE, 0, 0);
    g_assert_cmpuint(issue_err(&h, 3, 1, cmds, 2), ==, CERROR_NONE);

    d = h;
    fd = g_file_open_tmp("vsmmu-cmdqv-host-XXXXXX.trace", &d.trace, NULL);
    g_assert_cmpint(fd, >=, 0);
    close(fd);
    args = g_strdup_printf("-M virt -cpu max -nodefaults -m 512M " HOST_VSMMU
                           " " VSMMU_QTEST_TESTDEV "-incoming %s "
                           "-trace enable=vsmmu_cmdqv_vintf_cmd -D %s", uri,
                           d.trace);
    dst = qtest_init(args);
    rsp = qtest_qmp(h.qts, "{'execute': 'migrate', 'arguments': "
                    "{'uri': %s}}", uri);
    g_assert_false(qdict_haskey(rsp, "error"));
    qobject_unref(rsp);
    qtest_qmp_eventwait(dst, "RESUME");
    d.qts = dst;
    g_assert_cmphex(cfg_rd(&d, vintf_reg(0, A_VINTF_CONFIG)), ==,
                    R_VINTF_CONFIG_HYP_OWN_MASK | 1);
    g_assert_cmphex(cfg_rd(&d, vintf_reg(1, A_VINTF_CONFIG)), ==, 5 << 1 | 1);
    g_assert_cmphex(cfg_rd(&d, vintf_reg(3, A_VINTF_CONFIG)), ==, 9 << 1 | 1);
    g_assert_cmphex(cfg_rd(&d, vintf_reg(3, A_VINTF_SID_MATCH + 8)), ==,
                    0x7 << 1 | 1);
    g_assert_cmphex(cfg_rd(&d, vintf_reg(3, A_VINTF_SID_REPLACE + 8)), ==,
                    0x33);
    g_assert_cmphex(cfg_rd(&d, A_CMDQV_VINTF_INT_MASK + 4), ==, 0x10);
    g_assert_cmphex(cfg_rd(&d, A_CMDQV_CMDQ_ALLOC + 4 * gq(3, 1)), ==,
                    3 << 15 | 1 << 1 | 1);
    g_assert_cmphex(qtest_readq(dst, lp1(&d, 3, 1, A_VCMDQ_BASE)), ==,
                    h.qpa[3][1] | 8);
    g_assert_cmphex(qtest_readl(dst, lp0(&d, 3, 1, A_VCMDQ_CONS)), ==, 2);
    /* it runs there, with VINTF3's VMID */
    g_assert_cmpuint(issue_err(&d, 3, 1, cmds, 2), ==, CERROR_NONE);
    cmds[0] = vsmmu_cmd_tlbi_nh_all();
    g_assert_cmpuint(issue_err(&d, 3, 1, cmds, 1), ==, CERROR_ILL);
    tr = trace_cmds(&d);
    g_assert_cmpuint(trace_count(tr, 3, "TLBI_NH_ASID", 9), ==, 1);
    qtest_quit(dst);
    unlink(d.trace);
    g_free(d.trace);
    host_end(&h);

    /* the guest's view only: the host subsection is unknown there */
    host_start(&h, NULL, NULL);
    host_setup_guests(&h);
    g_free(args);
    args = g_strdup_printf("-M virt -cpu max -nodefaults -m 512M "
                           "-device vsmmu,primary-bus=pcie.0,id=vsmmu0,"
                           "cmdqv=on " VSMMU_QTEST_TESTDEV "-incoming %s",
                           uri);
    dst = qtest_init(args);
    qtest_set_expected_status(dst, 1);
    rsp = qtest_qmp(h.qts, "{'execute': 'migrate', 'arguments': "
                    "{'uri': %s}}", uri);
    g_assert_false(qdict_haskey(rsp, "error"));
    qobject_unref(rsp);
    /* the destination fails the load and exits with status 1 */
    for (int i = 0; i < 1000 && qtest_probe_child(dst); i++) {
        g_usleep(10000);
    }
    g_assert_false(qtest_probe_child(dst));
    qtest_quit(dst);
    host_end(&h);
}

/* ---- hostile ------------------------------------------------------------- */

/*
 * CMDQ_ALLOC naming a VINTF or logical index that does not exist, or a
 * logical queue another global queue holds: not allocated
 */
static void test_hostile_alloc(void)
{
    Host h;

    host_start(&h, NULL, NULL);
    host_probe(&h);
    vintf_init(&h, 1, false, 1);
    cfg_wr(&h, A_CMDQV_CMDQ_ALLOC + 4 * 4, NVINTF << 15 | 1);
    g_assert_cmphex(cfg_rd(&h, A_CMDQV_CMDQ_ALLOC + 4 * 4), ==, NVINTF << 15);
    cfg_wr(&h, A_CMDQV_CMDQ_ALLOC + 4 * 4, 63 << 15 | 0x7f << 1 | 1);
    g_assert_cmphex(cfg_rd(&h, A_CMDQV_CMDQ_ALLOC + 4 * 4) & 1, ==, 0);
    cfg_wr(&h, A_CMDQV_CMDQ_ALLOC + 4 * 4, 1 << 15 | NLQ << 1 | 1);
    g_assert_cmphex(cfg_rd(&h, A_CMDQV_CMDQ_ALLOC + 4 * 4) & 1, ==, 0);
    /* past the last global queue: nothing there */
    cfg_wr(&h, A_CMDQV_CMDQ_ALLOC + 4 * NQ, 1 << 15 | 1);
    g_assert_cmphex(cfg_rd(&h, A_CMDQV_CMDQ_ALLOC + 4 * NQ), ==, 0);

    /* VINTF1's logical queue 0 twice: the second is refused */
    vcmdq_init(&h, 1, 0, true);
    cfg_wr(&h, A_CMDQV_CMDQ_ALLOC + 4 * 6, 1 << 15 | 0 << 1 | 1);
    g_assert_cmphex(cfg_rd(&h, A_CMDQV_CMDQ_ALLOC + 4 * 6), ==, 1 << 15);
    g_assert_cmphex(qtest_readq(h.qts, lp1(&h, 1, 0, A_VCMDQ_BASE)), ==,
                    h.qpa[1][0] | 8);
    /* writing ALLOCATED again on the holder is fine */
    cfg_wr(&h, A_CMDQV_CMDQ_ALLOC + 4 * gq(1, 0), 1 << 15 | 0 << 1 | 1);
    g_assert_cmphex(cfg_rd(&h, A_CMDQV_CMDQ_ALLOC + 4 * gq(1, 0)), ==,
                    1 << 15 | 1);
    /* once released, another global queue may take it */
    vcmdq_map(&h, 1, 0, false);
    cfg_wr(&h, A_CMDQV_CMDQ_ALLOC + 4 * 6, 1 << 15 | 0 << 1 | 1);
    g_assert_cmphex(cfg_rd(&h, A_CMDQV_CMDQ_ALLOC + 4 * 6), ==, 1 << 15 | 1);
    g_assert_cmphex(qtest_readq(h.qts, lp1(&h, 1, 0, A_VCMDQ_BASE)), ==,
                    qtest_readq(h.qts, gp1(&h, 6, A_VCMDQ_BASE)));
    host_end(&h);
}

/* A guest's queue aimed at MMIO (the vsmmu's own pages): fetch abort */
static void test_hostile_base(void)
{
    Host h;
    VsmmuCmd cmd = vsmmu_cmd_sync(CMD_SYNC_SIG_NONE, 0, 0);

    host_start(&h, NULL, NULL);
    host_probe(&h);
    vintf_init(&h, 2, false, 2);
    vcmdq_init(&h, 2, 0, false);
    qtest_writeq(h.qts, lp1(&h, 2, 0, A_VCMDQ_BASE), h.t->base | 8);
    qtest_writel(h.qts, lp0(&h, 2, 0, A_VCMDQ_CONFIG), 1);
    h.qpa[2][0] = vsmmu_alloc(h.t, 4096, 4096);  /* where we write them */
    g_assert_cmpuint(issue_err(&h, 2, 0, &cmd, 1), ==, CERROR_ABT);
    g_assert_cmphex(cfg_rd(&h, vintf_reg(2, A_VINTF_LVCMDQ_ERR_MAP)), ==, 1);
    g_assert_cmphex(cfg_rd(&h, A_CMDQV_VINTF_ERR_MAP), ==, 1u << 2);
    /* the CMDQV window itself */
    vcmdq_deinit(&h, 2, 0);
    qtest_writeq(h.qts, lp1(&h, 2, 0, A_VCMDQ_BASE), h.base | 8);
    qtest_writel(h.qts, lp0(&h, 2, 0, A_VCMDQ_CONFIG), 1);
    g_assert_cmpuint(issue_err(&h, 2, 0, &cmd, 1), ==, CERROR_ABT);
    g_assert_cmphex(cfg_rd(&h, A_CMDQV_CONFIG) & 1, ==, 1);    /* alive */
    host_end(&h);
}

/*
 * The VINTF disabled while its queue runs (more than one slice): the
 * queue stops, stays still while the VINTF is off, and finishes once it
 * is on again
 */
static void test_hostile_vintf_off(void)
{
    Host h;
    g_autofree VsmmuCmd *cmds = g_new(VsmmuCmd, 1000);
    uint32_t c1, c2, cons;

    host_start(&h, NULL, NULL);
    host_probe(&h);
    h.log2size = 10;
    vintf_init(&h, 1, false, 1);
    vcmdq_init(&h, 1, 1, true);
    for (int i = 0; i < 1000; i++) {
        cmds[i] = vsmmu_cmd_tlbi_nh_va(TEST_ASID, IOVA_A + 4096 * i, true);
    }
    /* stopped, only the PROD write's own slice runs; then VINTF off */
    qtest_qmp_assert_success(h.qts, "{'execute': 'stop'}");
    vcmdq_issue(&h, 1, 1, cmds, 1000, false);
    cfg_wr(&h, vintf_reg(1, A_VINTF_CONFIG), 1 << 1);
    c1 = qtest_readl(h.qts, lp0(&h, 1, 1, A_VCMDQ_CONS));
    g_assert_cmphex(c1, ==, 128);
    qtest_qmp_assert_success(h.qts, "{'execute': 'cont'}");
    for (int i = 0; i < 100; i++) {
        qtest_clock_step(h.qts, 1000000);
    }
    c2 = qtest_readl(h.qts, lp0(&h, 1, 1, A_VCMDQ_CONS));
    g_assert_cmphex(c1, ==, c2);
    /* the VINTF on again: it finishes */
    cfg_wr(&h, vintf_reg(1, A_VINTF_CONFIG), 1 << 1 | 1);
    for (int i = 0; i < 1000; i++) {
        cons = qtest_readl(h.qts, lp0(&h, 1, 1, A_VCMDQ_CONS));
        if (cons == 1000) {
            break;
        }
    }
    g_assert_cmphex(cons, ==, 1000);
    g_assert_false(vcmdq_in_error(&h, 1, 1));
    /* a queue enabled under a VINTF that is off: nothing runs */
    cfg_wr(&h, vintf_reg(1, A_VINTF_CONFIG), 1 << 1);
    vcmdq_issue(&h, 1, 1, cmds, 3, false);
    g_assert_cmphex(qtest_readl(h.qts, lp0(&h, 1, 1, A_VCMDQ_CONS)), ==,
                    1000);
    host_end(&h);
}

/*
 * Writes all over the window — registers with plausible values (the map,
 * VINTFs with or without HYP_OWN, SID pairs, queues on a ring of mixed
 * commands, PROD, acks) and random ones anywhere: QEMU stays up, the
 * queues ran, and a fresh probe works
 */
static void test_hostile_storm(void)
{
    Host h;
    g_autoptr(GRand) r = g_rand_new_with_seed(0x7e9241);
    uint64_t size = CMDQV_MMIO_SIZE_VINTFS(NVINTF);
    uint64_t ring;

    host_start(&h, ",ats=on", NULL);
    host_probe(&h);
    ring = vsmmu_alloc(h.t, 4096, 4096);
    for (int i = 0; i < 256; i++) {
        VsmmuCmd c;

        switch (g_rand_int_range(r, 0, 6)) {
        case 0:
            c = vsmmu_cmd_tlbi_nh_asid(g_rand_int(r));
            break;
        case 1:
            c = vsmmu_cmd_tlbi_nh_va(g_rand_int(r), g_rand_int(r) << 12,
                                     true);
            break;
        case 2:
            c = vsmmu_cmd_atc_inv(g_rand_int_range(r, 0, 8), 0, 52);
            break;
        case 3:
            c = vsmmu_cmd_sync(g_rand_int_range(r, 0, 3), ring, 1);
            break;
        case 4:
            c = vsmmu_cmd_tlbi_nh_all();
            break;
        default:
            c = vsmmu_cmd_raw((uint64_t)g_rand_int(r) << 32 | g_rand_int(r),
                              g_rand_int(r));
            break;
        }
        qtest_writeq(h.qts, ring + 16 * i, c.word[0]);
        qtest_writeq(h.qts, ring + 16 * i + 8, c.word[1]);
    }
    for (int i = 0; i < 20000; i++) {
        unsigned v = g_rand_int_range(r, 0, NVINTF + 1);
        unsigned l = g_rand_int_range(r, 0, NLQ + 1);
        unsigned q = g_rand_int_range(r, 0, NQ + 1);
        uint32_t val = g_rand_int(r);

        switch (g_rand_int_range(r, 0, 10)) {
        case 0:
            cfg_wr(&h, A_CMDQV_CMDQ_ALLOC + 4 * q,
                   v << 15 | l << 1 | g_rand_boolean(r));
            break;
        case 1:
            cfg_wr(&h, vintf_reg(v, A_VINTF_CONFIG), val & 0x3ffff);
            break;
        case 2:
            vintf_vsid(&h, v, val % 16, val % 8, ATS_SID);
            break;
        case 3:
            qtest_writeq(h.qts, lp1(&h, v, l, A_VCMDQ_BASE),
                         g_rand_boolean(r) ? ring | 8 : (uint64_t)val << 12);
            break;
        case 4:
            qtest_writel(h.qts, lp0(&h, v, l, A_VCMDQ_CONFIG), val & 1);
            break;
        case 5:
        case 6:
            qtest_writel(h.qts, lp0(&h, v, l, A_VCMDQ_PROD), val & 0x1ff);
            break;
        case 7: {
            /* the driver's ack: a CMD_SYNC over the bad command, GERRORN */
            uint32_t cons = qtest_readl(h.qts, gp0(&h, q, A_VCMDQ_CONS));

            if (FIELD_EX32(cons, VCMDQ_CONS, ERR)) {
                qtest_writeq(h.qts, ring + 16 * (cons & 0xff), CMD_SYNC);
                qtest_writeq(h.qts, ring + 16 * (cons & 0xff) + 8, 0);
            }
            qtest_writel(h.qts, gp0(&h, q, A_VCMDQ_GERRORN),
                         qtest_readl(h.qts, gp0(&h, q, A_VCMDQ_GERROR)));
            break;
        }
        case 8:
            cfg_wr(&h, A_CMDQV_VINTF_INT_MASK, val);
            break;
        default:
            qtest_writel(h.qts, h.base + g_rand_int_range(r, 0, size / 4) * 4,
                         val);
            break;
        }
    }
    g_assert_cmpuint(FIELD_EX32(cfg_rd(&h, A_CMDQV_PARAM), CMDQV_PARAM,
                                NUM_VINTF_LOG2), ==, 2);
    /* with this seed: about 13500 commands, 150 errors */
    g_assert_cmpuint(qstat(&h, "x-stats-vcmdq-commands"), >, 5000);
    g_assert_cmpuint(qstat(&h, "x-stats-vcmdq-errors"), >, 50);
    qtest_system_reset(h.qts);
    host_probe(&h);
    g_assert_true(vintf_init(&h, 1, true, 1));
    host_end(&h);
}

/* ---- guest description --------------------------------------------------- */

/* DT and ACPI describe the whole window: 0x30000 + 128 KiB per VINTF */
static void test_desc(void)
{
    g_autofree void *dtb = vsmmu_qtest_dtb("-device vsmmu,primary-bus=pcie.0,"
                                           "cmdqv=on,cmdqv-vintfs=4", NULL);
    int node = fdt_node_offset_by_compatible(dtb, -1,
                                             "nvidia,tegra264-cmdqv");
    const fdt32_t *reg;
    QTestState *qts;
    g_autofree uint8_t *acpi = NULL;
    const uint8_t *hid, *m;
    uint8_t mem32[] = { 0x86, 0x09, 0x00, 0x01 };
    size_t len;
    int plen;

    g_assert_cmpint(node, >=, 0);
    reg = fdt_getprop(dtb, node, "reg", &plen);
    g_assert_cmpint(plen, ==, 16);
    g_assert_cmphex(fdt32_to_cpu(reg[3]), ==, CMDQV_MMIO_SIZE_VINTFS(4));
    g_assert_cmphex(fdt32_to_cpu(reg[1]) % CMDQV_PAGE_SIZE, ==, 0);

    qts = qtest_init("-M virt -nodefaults -device vsmmu,primary-bus=pcie.0,"
                     "cmdqv=on,cmdqv-vintfs=4");
    acpi = vsmmu_qtest_fw_cfg_file(qts, "etc/acpi/tables", &len);
    hid = memmem(acpi, len, "NVDA200C", 8);
    g_assert_nonnull(hid);
    m = memmem(hid, 96, mem32, sizeof(mem32));
    g_assert_nonnull(m);
    g_assert_cmphex(ldl_le_p(m + 4), ==,
                    vsmmu_qtest_region_base(qts, "vsmmu-cmdqv"));
    g_assert_cmphex(ldl_le_p(m + 8), ==, CMDQV_MMIO_SIZE_VINTFS(4));
    qtest_quit(qts);
}

static const struct {
    const char *path;
    GTestFunc fn;
} tests[] = {
    { "param-hyp-own", test_param_hyp_own },
    { "bad-props", test_bad_props },
    { "alloc", test_alloc },
    { "vmid", test_vmid },
    { "vmid-isolation", test_vmid_isolation },
    { "atc-inv-sid", test_atc_inv_sid },
    { "forbidden", test_forbidden },
    { "sync-msi", test_sync_msi },
    { "reset", test_reset },
    { "migration", test_migration },
    { "hostile/alloc", test_hostile_alloc },
    { "hostile/base", test_hostile_base },
    { "hostile/vintf-off", test_hostile_vintf_off },
    { "hostile/storm", test_hostile_storm },
    { "desc", test_desc },
};

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    for (int i = 0; i < ARRAY_SIZE(tests); i++) {
        g_autofree char *path = g_strdup_printf("/vsmmu-cmdqv-host/%s",
                                                tests[i].path);

        vsmmu_qtest_add_isolated_func(path, tests[i].fn, TEST_TIMEOUT_S);
    }
    return g_test_run();
}
