/*
 * VCMDQ exits benchmark, for scripts/bench.sh: how many guest accesses to
 * the VCMDQ pages reach QEMU (MMIO exits on hardware) per 1000 commands a
 * guest issues through a Tegra241 VCMDQ, emulated and accelerated against
 * the simulated host, in one run.
 *
 * The guest side does what Linux's arm-smmu-v3 does on a VCMDQ: write the
 * entries into the queue in guest memory, write PROD once, poll CONS until
 * it passes the CMD_SYNC. Workload: 100 batches of TLBI_NH_VA + CMD_SYNC
 * (a strict-mode unmap) and 100 batches of 63 TLBI_NH_VA + CMD_SYNC (a
 * full Linux batch): 6600 commands.
 *
 * With VSMMU_BENCH_SMOKE=1 in the environment one batch of each kind runs
 * (make check's smoke run).
 *
 * Exits are the vsmmu's own count of trapped VCMDQ-page accesses
 * (x-stats-vcmdq-traps). Accelerated, page 0 is the host's page mapped as
 * a RAM-device region: accesses to it never reach the vsmmu, as they never
 * leave the guest on hardware (KVM maps it in stage 2).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qobject/qdict.h"
#include "hw/arm/vsmmu/cmdqv-regs.h"
#include "vsmmu-qtest-lib.h"
#include "simhost-qtest.h"

#define LOG2SIZE    8
#define ASID        7

/* Rounds of the workload: 100, or 1 for a smoke run */
static unsigned rounds = 100;

typedef struct Bench {
    QTestState *qts;
    Simhost *sh;
    uint64_t base;
    uint64_t qpa[2];
    uint32_t prod;
} Bench;

static uint64_t qstat(QTestState *qts, const char *name)
{
    return vsmmu_qtest_qom_uint(qts, "/machine/peripheral/vsmmu0", name);
}

static uint64_t find_cmdqv(QTestState *qts)
{
    uint64_t base = vsmmu_qtest_region_base(qts, "vsmmu-cmdqv");

    g_assert_cmphex(base, !=, 0);
    return base;
}

static void wait_reg(Bench *b, uint64_t addr, uint32_t mask, uint32_t want)
{
    for (int i = 0; i < 100000; i++) {
        if ((qtest_readl(b->qts, addr) & mask) == want) {
            return;
        }
        if (b->sh) {
            simhost_vcmdq_poll(b->sh);
        }
    }
    g_assert_not_reached();
}

/* The driver's bring-up, short: CMDQV, VINTF0, queues 0 and 1 */
static void init(Bench *b, uint64_t qmem)
{
    uint64_t p0 = b->base + CMDQV_VINTF0_PAGE0;
    uint64_t p1 = b->base + CMDQV_VINTF0_PAGE1;

    qtest_writel(b->qts, b->base + A_CMDQV_CONFIG, 1);
    qtest_writel(b->qts, b->base + CMDQV_VINTF0_BASE + A_VINTF_CONFIG, 1);
    for (unsigned l = 0; l < 2; l++) {
        b->qpa[l] = qmem + (16 << LOG2SIZE) * l;
        qtest_writel(b->qts, b->base + A_CMDQV_CMDQ_ALLOC + 4 * l,
                     l << 1 | 1);
        qtest_writeq(b->qts, p1 + 0x80 * l + A_VCMDQ_BASE,
                     b->qpa[l] | LOG2SIZE);
        qtest_writel(b->qts, p0 + 0x80 * l + A_VCMDQ_CONFIG, 1);
        wait_reg(b, p0 + 0x80 * l + A_VCMDQ_STATUS, 1, 1);
    }
}

static void batch(Bench *b, unsigned n)
{
    uint64_t p0 = b->base + CMDQV_VINTF0_PAGE0;
    uint32_t mask = (1u << LOG2SIZE) - 1, wrap = (2u << LOG2SIZE) - 1;
    uint64_t buf[64][2];

    for (unsigned i = 0; i < n; i++) {
        VsmmuCmd c = i + 1 < n ?
            vsmmu_cmd_tlbi_nh_va(ASID, 0x50000000ULL + 4096 * i, true) :
            vsmmu_cmd_sync(CMD_SYNC_SIG_NONE, 0, 0);

        buf[i][0] = cpu_to_le64(c.word[0]);
        buf[i][1] = cpu_to_le64(c.word[1]);
    }
    for (unsigned i = 0; i < n; i++) {
        qtest_memwrite(b->qts, b->qpa[0] + 16 * ((b->prod + i) & mask),
                       buf[i], 16);
    }
    b->prod = (b->prod + n) & wrap;
    qtest_writel(b->qts, p0 + A_VCMDQ_PROD, b->prod);
    wait_reg(b, p0 + A_VCMDQ_CONS, wrap, b->prod);
}

/* Runs the workload; returns exits per 1000 commands */
static double run(Bench *b, uint64_t (*executed)(Bench *b))
{
    uint64_t traps = qstat(b->qts, "x-stats-vcmdq-traps");
    uint64_t before = executed(b), cmds;

    for (unsigned i = 0; i < rounds; i++) {
        batch(b, 2);
        batch(b, 64);
    }
    cmds = executed(b) - before;
    g_assert_cmpuint(cmds, ==, rounds * 66);
    return 1000.0 * (qstat(b->qts, "x-stats-vcmdq-traps") - traps) / cmds;
}

static uint64_t emu_executed(Bench *b)
{
    return qstat(b->qts, "x-stats-vcmdq-commands");
}

static uint64_t host_executed(Bench *b)
{
    return b->sh->ctl->vcmdq_cmds;
}

int main(int argc, char **argv)
{
    Bench b = { 0 };
    SimhostOpts o = SIMHOST_OPTS_DEFAULT;
    double emu, accel;

    if (g_getenv("VSMMU_BENCH_SMOKE")) {
        rounds = 1;
    }
    b.qts = qtest_init("-M virt -cpu max -nodefaults -m 512M "
                       "-device vsmmu,primary-bus=pcie.0,id=vsmmu0,cmdqv=on");
    b.base = find_cmdqv(b.qts);
    init(&b, 0x50000000);
    emu = run(&b, emu_executed);
    qtest_quit(b.qts);
    printf("bench: vcmdq-exits-per-1000-cmds-emulated: %.1f\n", emu);

    if (!simhost_available()) {
        fprintf(stderr, "%s: libsimhost.so not found\n", argv[0]);
        return 77;
    }
    memset(&b, 0, sizeof(b));
    o.profile[0] = SIMHOST_PROFILE_SMMUV3_CMDQV;
    o.dev_props[0] = "addr=2.0";
    b.sh = simhost_new(&o);
    simhost_qtest_start(b.sh, "-device vsmmu,primary-bus=pcie.0,id=vsmmu0,"
                        "accel=on,iommufd=simhost-iommufd");
    b.qts = b.sh->qts;
    b.base = find_cmdqv(b.qts);
    init(&b, 0x50000000);
    accel = run(&b, host_executed);
    simhost_qtest_quit(b.sh);
    simhost_free(b.sh);
    printf("bench: vcmdq-exits-per-1000-cmds-accel: %.1f\n", accel);
    return 0;
}
