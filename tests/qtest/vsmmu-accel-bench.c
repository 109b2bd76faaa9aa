/*
 * Invalidation workload of the accelerated vsmmu, for scripts/bench.sh:
 * a Linux-like stream of batches of 64 TLBI_NH_VA + CMD_SYNC issued by the
 * guest's driver to an accel vsmmu in front of a simulated host.
 *
 *   vsmmu-accel-bench batched|unbatched|batched-atc BATCHES
 *
 * batched-atc: the same with ATS (vsmmu ats=on, the device's STE with
 * EATS, the host doing ATS for it): each batch unmaps 32 pages with a
 * TLBI_NH_VA and an ATC_INV per page, then CMD_SYNC.
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
    bool batched, atc;
    unsigned batches, n;
    g_autofree char *args = NULL;

    if (argc != 3 || (strcmp(argv[1], "batched") &&
                      strcmp(argv[1], "unbatched") &&
                      strcmp(argv[1], "batched-atc"))) {
        fprintf(stderr, "usage: %s batched|unbatched|batched-atc BATCHES\n",
                argv[0]);
        return 2;
    }
    atc = !strcmp(argv[1], "batched-atc");
    batched = strcmp(argv[1], "unbatched");
    batches = atoi(argv[2]);
    if (!simhost_available()) {
        fprintf(stderr, "%s: libsimhost.so not found\n", argv[0]);
        return 77;
    }

    o.dev_props[0] = "addr=2.0";
    o.dev_ats[0] = atc;
    sh = simhost_new(&o);
    args = g_strdup_printf("-device vsmmu,primary-bus=pcie.0,accel=on,"
                           "iommufd=simhost-iommufd,x-batch=%s%s",
                           batched ? "on" : "off", atc ? ",ats=on" : "");
    simhost_qtest_start(sh, args);
    t = vsmmu_qtest_attach(sh->qts);

    vsmmu_strtab_linear(t, 8);
    vsmmu_pt_init(t, &pt, 4096, 48);
    vsmmu_cd_table_linear(t, &cdt, 0);
    vsmmu_cd_for_pgtable(cd, &pt, BENCH_ASID);
    vsmmu_cd_write(t, vsmmu_cd_addr(t, &cdt, 0), cd);
    vsmmu_ste_s1(ste, cdt.base, cdt.fmt, cdt.cdmax, STE_S1DSS_TERMINATE);
    ste[1] = FIELD_DP64(ste[1], STE1, EATS, atc);
    vsmmu_ste_write(t, t->sid, ste);
    vsmmu_bringup(t, 10, 4);
    vsmmu_enable(t);

    ioctls = simhost_calls(sh, SIMHOST_K_HWPT_INVALIDATE);
    for (n = 0; n < CMDS_PER_SYNC; n++) {
        uint64_t iova = BENCH_IOVA + (atc ? n / 2 : n) * 4096;

        list[n] = atc && n % 2 ? vsmmu_cmd_atc_inv(t->sid, iova, 0) :
                  vsmmu_cmd_tlbi_nh_va(BENCH_ASID, iova, true);
    }
    list[n++] = vsmmu_cmd_sync(0, 0, 0);
    for (unsigned b = 0; b < batches; b++) {
        vsmmu_cmdq_push_list(t, list, n);
        g_assert_cmpuint(vsmmu_cmdq_wait(t), ==, 0);
    }
    ioctls = simhost_calls(sh, SIMHOST_K_HWPT_INVALIDATE) - ioctls;
    /* the host saw every command: ATC_INVs were forwarded, none refused */
    g_assert_cmpuint(simhost_fails(sh, SIMHOST_K_HWPT_INVALIDATE), ==, 0);
    g_assert_cmpuint(sh->ctl->inval_cmds_done, >=,
                     (uint64_t)batches * CMDS_PER_SYNC);
    printf("inval: mode=%s batches=%u cmds=%u ioctls=%" PRIu64 "\n",
           argv[1], batches, batches * n, ioctls);

    g_free(t->dev);
    alloc_destroy(&t->alloc);
    g_free(t->smmu_name);
    g_free(t);
    simhost_qtest_quit(sh);
    simhost_free(sh);
    return 0;
}
