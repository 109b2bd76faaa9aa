/*
 * Invalidation workload of the accelerated vsmmu, for scripts/bench.sh:
 * a Linux-like stream of batches of 64 TLBI_NH_VA + CMD_SYNC issued by the
 * guest's driver to an accel vsmmu in front of a simulated host.
 *
 *   vsmmu-accel-bench batched|unbatched BATCHES
 *
 * prints "inval: mode=M batches=B cmds=C ioctls=I", the ioctls being
 * the IOMMU_HWPT_INVALIDATE calls the simulated host saw during the stream.
 * scripts/bench.sh runs it under callgrind (collecting only inside the
 * command engine) to count QEMU's instructions per command.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "vsmmu-qtest-lib.h"
#include "simhost-qtest.h"

#define BENCH_ASID      7
#define BENCH_IOVA      0x50000000ULL
#define CMDS_PER_SYNC   64

int main(int argc, char **argv)
{
    SimhostOpts o = SIMHOST_OPTS_DEFAULT;
    Simhost *sh;
    VsmmuQtest *t;
    VsmmuPgtable pt;
    VsmmuCdTable cdt;
    uint64_t cd[VSMMU_CD_DWORDS], ste[VSMMU_STE_DWORDS];
    VsmmuCmd list[CMDS_PER_SYNC + 1];
    uint64_t ioctls;
    bool batched;
    unsigned batches;
    g_autofree char *args = NULL;

    if (argc != 3 || (strcmp(argv[1], "batched") &&
                      strcmp(argv[1], "unbatched"))) {
        fprintf(stderr, "usage: %s batched|unbatched BATCHES\n", argv[0]);
        return 2;
    }
    batched = !strcmp(argv[1], "batched");
    batches = atoi(argv[2]);
    if (!simhost_available()) {
        fprintf(stderr, "%s: libsimhost.so not found\n", argv[0]);
        return 77;
    }

    o.dev_props[0] = "addr=2.0";
    sh = simhost_new(&o);
    args = g_strdup_printf("-device vsmmu,primary-bus=pcie.0,accel=on,"
                           "iommufd=simhost-iommufd,x-batch=%s",
                           batched ? "on" : "off");
    simhost_qtest_start(sh, args);
    t = vsmmu_qtest_attach(sh->qts);

    vsmmu_strtab_linear(t, 8);
    vsmmu_pt_init(t, &pt, 4096, 48);
    vsmmu_cd_table_linear(t, &cdt, 0);
    vsmmu_cd_for_pgtable(cd, &pt, BENCH_ASID);
    vsmmu_cd_write(t, vsmmu_cd_addr(t, &cdt, 0), cd);
    vsmmu_ste_s1(ste, cdt.base, cdt.fmt, cdt.cdmax, STE_S1DSS_TERMINATE);
    vsmmu_ste_write(t, t->sid, ste);
    vsmmu_bringup(t, 10, 4);
    vsmmu_enable(t);

    ioctls = simhost_calls(sh, SIMHOST_K_HWPT_INVALIDATE);
    for (unsigned i = 0; i < CMDS_PER_SYNC; i++) {
        list[i] = vsmmu_cmd_tlbi_nh_va(BENCH_ASID, BENCH_IOVA + i * 4096,
                                       true);
    }
    list[CMDS_PER_SYNC] = vsmmu_cmd_sync(0, 0, 0);
    for (unsigned b = 0; b < batches; b++) {
        vsmmu_cmdq_push_list(t, list, CMDS_PER_SYNC + 1);
        g_assert_cmpuint(vsmmu_cmdq_wait(t), ==, 0);
    }
    ioctls = simhost_calls(sh, SIMHOST_K_HWPT_INVALIDATE) - ioctls;
    printf("inval: mode=%s batches=%u cmds=%u ioctls=%" PRIu64 "\n",
           argv[1], batches, batches * (CMDS_PER_SYNC + 1), ioctls);

    g_free(t->dev);
    alloc_destroy(&t->alloc);
    g_free(t->smmu_name);
    g_free(t);
    simhost_qtest_quit(sh);
    simhost_free(sh);
    return 0;
}
