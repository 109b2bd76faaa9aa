/*
 * vsmmu translation benchmark: the vsmmu against QEMU's stock arm-smmuv3
 *
 * Both SMMUs run in the same QEMU binary, behind the same DMA test device,
 * with the same stream table, CD and 4 KiB page tables. The test device's
 * READ_SWEEP issues one 8-byte DMA read (one IOMMU translate() call) per
 * STRIDE bytes and reports the host nanoseconds the whole sweep took, so
 * the figure excludes the qtest protocol. Two patterns:
 *
 *   hit:  16 pages read over and over; after the first sweep every
 *         translation is in both SMMUs' caches.
 *   miss: one read per page over 8192 pages (32 MiB), more than either
 *         SMMU caches, so every translation walks the page tables.
 *
 * The two QEMU instances run side by side and the runs alternate, so a
 * busy machine slows both alike; each figure is the median of the runs.
 * Output: "bench: <name>: <value>" lines, ratios = arm-smmuv3 time / vsmmu
 * time (above 1: the vsmmu is faster). With VSMMU_BENCH_SMOKE=1 in the
 * environment every loop runs at its smallest (make check's smoke run:
 * the figures mean nothing, the code paths all run).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "vsmmu-qtest-lib.h"

#define BENCH_ASID      1
#define BENCH_IOVA      0x40000000ULL
#define HIT_PAGES       16
#define HIT_STRIDE      256
#define HIT_ITER        4000
#define MISS_PAGES      8192
#define MISS_ITER       8
#define RUNS            7

/* The sizes of this run: the above, or the smallest (smoke) */
static uint64_t hit_iter = HIT_ITER, miss_pages = MISS_PAGES;
static uint64_t miss_iter = MISS_ITER;
static int runs = RUNS;

typedef struct BenchSmmu {
    const char *name;
    VsmmuQtest *t;
    VsmmuPgtable pt;
    double hit_ns[RUNS];        /* ns per translation */
    double miss_ns[RUNS];
} BenchSmmu;

/* Stage-1 translation of BENCH_IOVA.. for the test device, SMMU enabled */
static void bench_setup(BenchSmmu *b, const char *smmu_args)
{
    g_autofree char *args = g_strdup_printf("%s %s", smmu_args,
                                            VSMMU_QTEST_TESTDEV);
    VsmmuQtest *t = vsmmu_qtest_start(args);
    VsmmuCdTable cdt;
    uint64_t cd[VSMMU_CD_DWORDS], ste[VSMMU_STE_DWORDS];
    uint64_t pa;

    g_assert_cmphex(t->base, !=, 0);
    b->t = t;
    vsmmu_strtab_linear(t, 8);
    vsmmu_pt_init(t, &b->pt, 4096, 48);
    vsmmu_cd_table_linear(t, &cdt, 0);
    vsmmu_cd_for_pgtable(cd, &b->pt, BENCH_ASID);
    vsmmu_cd_write(t, vsmmu_cd_addr(t, &cdt, 0), cd);
    vsmmu_ste_s1(ste, cdt.base, cdt.fmt, cdt.cdmax, STE_S1DSS_TERMINATE);
    vsmmu_ste_write(t, t->sid, ste);

    /* One physical page behind every IOVA page: the walk is what counts */
    pa = vsmmu_alloc(t, 4096, 4096);
    for (uint64_t i = 0; i < miss_pages; i++) {
        vsmmu_pt_map(&b->pt, BENCH_IOVA + i * 4096, pa, 4096, VSMMU_PT_READ);
    }
    vsmmu_bringup(t, 8, 4);
    vsmmu_enable(t);
}

/* One READ_SWEEP; returns host ns per translation */
static double bench_sweep(BenchSmmu *b, uint64_t pages, uint64_t stride,
                          uint64_t iter)
{
    VsmmuQtest *t = b->t;
    uint64_t status, ns;

    status = vsmmu_testdev_read_sweep(t, BENCH_IOVA, pages * 4096, stride,
                                      iter);
    g_assert_cmpuint(vsmmu_testdev_status_code(status), ==,
                     VSMMU_TESTDEV_STATUS_OK);
    ns = vsmmu_testdev_readq(t, A_TESTDEV_ELAPSED_NS);
    return (double)ns / (pages * 4096 / stride * iter);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

static double median(double *v)
{
    qsort(v, runs, sizeof(*v), cmp_double);
    return v[runs / 2];
}

int main(int argc, char **argv)
{
    BenchSmmu smmu[2] = {
        { .name = "vsmmu" },
        { .name = "arm-smmuv3" },
    };
    double hit[2], miss[2];

    g_test_init(&argc, &argv, NULL);
    if (g_getenv("VSMMU_BENCH_SMOKE")) {
        hit_iter = 1;
        miss_pages = 64;
        miss_iter = 1;
        runs = 1;
    }
    bench_setup(&smmu[0], VSMMU_QTEST_VSMMU);
    bench_setup(&smmu[1], VSMMU_QTEST_ARM_SMMUV3);

    /* Warm up: fill the caches, fault in the page tables */
    for (int i = 0; i < 2; i++) {
        bench_sweep(&smmu[i], HIT_PAGES, HIT_STRIDE, 10);
        bench_sweep(&smmu[i], miss_pages, 4096, 1);
    }
    for (int r = 0; r < runs; r++) {
        for (int i = 0; i < 2; i++) {
            smmu[i].hit_ns[r] = bench_sweep(&smmu[i], HIT_PAGES, HIT_STRIDE,
                                            hit_iter);
            smmu[i].miss_ns[r] = bench_sweep(&smmu[i], miss_pages, 4096,
                                             miss_iter);
        }
    }
    for (int i = 0; i < 2; i++) {
        hit[i] = median(smmu[i].hit_ns);
        miss[i] = median(smmu[i].miss_ns);
        printf("bench: translate-hit-ns-%s: %.1f\n", smmu[i].name, hit[i]);
        printf("bench: translate-miss-ns-%s: %.1f\n", smmu[i].name, miss[i]);
        vsmmu_qtest_quit(smmu[i].t);
    }
    printf("bench: translate-hit-speedup-vs-arm-smmuv3: %.2f\n",
           hit[1] / hit[0]);
    printf("bench: translate-miss-speedup-vs-arm-smmuv3: %.2f\n",
           miss[1] / miss[0]);
    return 0;
}
