/*
 * Doorbell benchmark, for scripts/bench.sh: the longest time one guest
 * write to a command queue's PROD may hold the BQL (docs/security.md,
 * rule 5), for the worst queue contents we can construct.
 *
 * Two queues, each at its largest size and completely full:
 *   - the main CMDQ (2^CMDQS entries): range TLBI_NH_VA of the largest
 *     range (NUM 31, SCALE 31, a misaligned start, so thousands of aligned
 *     pieces) for an ASID that matches nothing, so each one walks an IOTLB
 *     of ~200 live entries (filled by DMA first) without emptying it;
 *     every 16th a CFGI_ALL, every 8th a CMD_SYNC whose MSI goes to RAM;
 *   - an emulated Tegra241 VCMDQ (cmdqv=on) of the same size, with the
 *     same TLBIs and CMD_SYNCs (the commands a VCMDQ accepts).
 * One PROD write each, then the test waits for CONS to reach PROD.
 *
 * The figure is the vsmmu's own measure of its longest command-queue
 * slice (x-stats-slice-max-ns: the CPU time of every slice, the one run
 * by the PROD write and every one run later by the bottom half), so
 * neither the qtest protocol nor the host scheduler is in it. The wall
 * time of the same slices (x-stats-slice-max-wall-ns) goes to stderr: on
 * a loaded machine it measures mostly preemption.
 * With VSMMU_BENCH_SMOKE=1 in the environment the queues hold 2^8
 * commands (make check's smoke run).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/units.h"
#include "qobject/qdict.h"
#include "hw/arm/vsmmu/cmdqv-regs.h"
#include "vsmmu-qtest-lib.h"

#define ASID            1
#define OTHER_ASID      2
#define IOVA            0x40000000ULL
#define LIVE_PAGES      200
#define LOG2SIZE        VSMMU_CMDQS_MAX
#define SMOKE_LOG2SIZE  8

/* Queue size of this run: the largest, or small for a smoke run */
static unsigned log2size = LOG2SIZE;
#define WAIT_TRIES      2000000

static uint64_t qstat(QTestState *qts, const char *name)
{
    return vsmmu_qtest_qom_uint(qts, "/machine/peripheral/vsmmu0", name);
}

/* Stage 1 for the test device, SMMU on, ~LIVE_PAGES IOTLB entries live */
static VsmmuQtest *setup(const char *smmu)
{
    g_autofree char *args = g_strdup_printf("%s %s", smmu,
                                            VSMMU_QTEST_TESTDEV);
    VsmmuQtest *t = vsmmu_qtest_start(args);
    VsmmuPgtable pt;
    VsmmuCdTable cdt;
    uint64_t cd[VSMMU_CD_DWORDS], ste[VSMMU_STE_DWORDS];
    uint64_t pa, status;

    vsmmu_strtab_linear(t, 8);
    vsmmu_pt_init(t, &pt, 4096, 48);
    vsmmu_cd_table_linear(t, &cdt, 0);
    vsmmu_cd_for_pgtable(cd, &pt, ASID);
    vsmmu_cd_write(t, vsmmu_cd_addr(t, &cdt, 0), cd);
    vsmmu_ste_s1(ste, cdt.base, cdt.fmt, cdt.cdmax, STE_S1DSS_TERMINATE);
    vsmmu_ste_write(t, t->sid, ste);
    pa = vsmmu_alloc(t, 4096, 4096);
    for (uint64_t i = 0; i < LIVE_PAGES; i++) {
        vsmmu_pt_map(&pt, IOVA + i * 4096, pa, 4096, VSMMU_PT_READ);
    }
    vsmmu_bringup(t, log2size, 4);
    vsmmu_enable(t);
    status = vsmmu_testdev_read_sweep(t, IOVA, LIVE_PAGES * 4096, 4096, 1);
    g_assert_cmpuint(vsmmu_testdev_status_code(status), ==,
                     VSMMU_TESTDEV_STATUS_OK);
    return t;
}

/* The worst full queue of 2^log2size commands (@vcmdq: its command set) */
static void fill(VsmmuQtest *t, uint64_t base, bool vcmdq)
{
    uint32_t n = 1u << log2size;
    g_autofree uint64_t *buf = g_new(uint64_t, 2 * n);
    uint64_t msi = vsmmu_alloc(t, 4096, 4096);

    for (uint32_t i = 0; i < n; i++) {
        VsmmuCmd c;

        if (i % 8 == 7 || i == n - 1) {
            c = vsmmu_cmd_sync(CMD_SYNC_SIG_IRQ, msi, i);
        } else if (!vcmdq && i % 16 == 3) {
            c = vsmmu_cmd_cfgi_all();
        } else {
            c = vsmmu_cmd_tlbi_nh_va_range(OTHER_ASID, 0x1000, false, 1, 0,
                                           31, 31);
        }
        buf[2 * i] = cpu_to_le64(c.word[0]);
        buf[2 * i + 1] = cpu_to_le64(c.word[1]);
    }
    /* 64 KiB per qtest command: its line parser is quadratic */
    for (size_t off = 0; off < 16 * (size_t)n; off += 64 * KiB) {
        qtest_bufwrite(t->qts, base + off, (uint8_t *)buf + off,
                       MIN(64 * KiB, 16 * (size_t)n - off));
    }
}

/* Wait until the 32-bit register at @addr reads @want under @mask */
static void wait_reg(VsmmuQtest *t, uint64_t addr, uint32_t mask,
                     uint32_t want)
{
    for (int i = 0; i < WAIT_TRIES; i++) {
        if ((qtest_readl(t->qts, addr) & mask) == want) {
            return;
        }
    }
    g_assert_not_reached();
}

static double wall_ms[2];

static double bench_cmdq(void)
{
    VsmmuQtest *t = setup("-device vsmmu,primary-bus=pcie.0,id=vsmmu0");
    uint32_t full = 1u << log2size;       /* index 0, wrap bit set */
    double ms;

    fill(t, t->cmdq.base, false);
    t->cmdq.prod = full;
    vsmmu_writel(t, A_CMDQ_PROD, full);
    g_assert_cmpuint(vsmmu_cmdq_wait(t), ==, CERROR_NONE);
    g_assert_cmpuint(qstat(t->qts, "x-stats-commands"), ==, full);
    if (log2size == LOG2SIZE) {
        g_assert_cmpuint(qstat(t->qts, "x-stats-slices-deferred"), >, 0);
    }
    ms = qstat(t->qts, "x-stats-slice-max-ns") / 1e6;
    wall_ms[0] = qstat(t->qts, "x-stats-slice-max-wall-ns") / 1e6;
    vsmmu_qtest_quit(t);
    return ms;
}

static uint64_t find_cmdqv(QTestState *qts)
{
    uint64_t base = vsmmu_qtest_region_base(qts, "vsmmu-cmdqv");

    g_assert_cmphex(base, !=, 0);
    return base;
}

static double bench_vcmdq(void)
{
    VsmmuQtest *t = setup("-device vsmmu,primary-bus=pcie.0,id=vsmmu0,"
                          "cmdqv=on");
    uint64_t cv = find_cmdqv(t->qts);
    uint64_t p0 = cv + CMDQV_VINTF0_PAGE0, p1 = cv + CMDQV_VINTF0_PAGE1;
    uint64_t qpa = vsmmu_alloc(t, 16ULL << log2size, 16ULL << log2size);
    uint32_t full = 1u << log2size, wrap = (2u << log2size) - 1;
    double ms;

    qtest_writel(t->qts, cv + A_CMDQV_CONFIG, 1);
    qtest_writel(t->qts, cv + CMDQV_VINTF0_BASE + A_VINTF_CONFIG, 1);
    qtest_writel(t->qts, cv + A_CMDQV_CMDQ_ALLOC, 1);   /* logical 0 */
    qtest_writeq(t->qts, p1 + A_VCMDQ_BASE, qpa | log2size);
    qtest_writel(t->qts, p0 + A_VCMDQ_CONFIG, 1);
    wait_reg(t, p0 + A_VCMDQ_STATUS, 1, 1);
    g_assert_cmphex(qtest_readq(t->qts, p1 + A_VCMDQ_BASE), ==,
                    qpa | log2size);
    fill(t, qpa, true);
    qtest_writel(t->qts, p0 + A_VCMDQ_PROD, full);
    wait_reg(t, p0 + A_VCMDQ_CONS, wrap, full);
    g_assert_cmpuint(qtest_readl(t->qts, p0 + A_VCMDQ_CONS) >> 24, ==, 0);
    ms = qstat(t->qts, "x-stats-slice-max-ns") / 1e6;
    wall_ms[1] = qstat(t->qts, "x-stats-slice-max-wall-ns") / 1e6;
    vsmmu_qtest_quit(t);
    return ms;
}

int main(int argc, char **argv)
{
    double cmdq, vcmdq;

    g_test_init(&argc, &argv, NULL);
    if (g_getenv("VSMMU_BENCH_SMOKE")) {
        log2size = SMOKE_LOG2SIZE;
    }
    cmdq = bench_cmdq();
    vcmdq = bench_vcmdq();
    g_printerr("doorbell: longest slice, CPU time: CMDQ %.3f ms, VCMDQ %.3f "
               "ms; wall time: %.3f ms, %.3f ms (2^%u commands each)\n",
               cmdq, vcmdq, wall_ms[0], wall_ms[1], log2size);
    printf("bench: doorbell-max-ms: %.3f\n", MAX(cmdq, vcmdq));
    return 0;
}
