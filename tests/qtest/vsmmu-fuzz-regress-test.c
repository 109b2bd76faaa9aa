/*
 * qtests of what the vsmmu fuzz targets found (tests/fuzz, docs/testing.md)
 *
 * One case per finding, the minimised fuzz input written out as guest
 * accesses. Each runs in a subprocess with a time limit
 * (vsmmu_qtest_add_isolated_func): a QEMU that hangs is killed and the
 * case fails instead of blocking make check. Each asserts that QEMU still
 * answers afterwards and what the guest must see. (A finding that is no
 * crash or hang may be kept where its subject is tested instead: the
 * event queue's interrupt per lost event is vsmmu-emu-test's
 * evtq/overflow.)
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "vsmmu-qtest-lib.h"

#define CASE_TIMEOUT_S  30

static VsmmuQtest *start(const char *extra)
{
    g_autofree char *args = g_strdup_printf(VSMMU_QTEST_VSMMU
                                            VSMMU_QTEST_TESTDEV "%s",
                                            extra ? extra : "");

    return vsmmu_qtest_start(args);
}

/* QEMU still answers: a register read and a QMP round trip */
static void end(VsmmuQtest *t)
{
    g_assert_cmphex(vsmmu_readl(t, A_IDR0), !=, 0);
    qtest_qmp_assert_success(t->qts, "{'execute': 'query-status'}");
    vsmmu_qtest_quit(t);
}

/*
 * gbpa-bypass-iova0 (vsmmu-emu): with SMMUEN clear and GBPA.ABORT clear
 * (the reset state) the vsmmu answers every translation with one IOTLB
 * entry covering the whole address space (addr_mask ~0: fixed, entries now
 * cover half of it, VSMMU_IDENTITY_MASK). For IOVA 0 the
 * memory core computes the usable length as (addr | mask) - addr + 1,
 * which wraps to 0, and flatview_read_continue() then loops forever on a
 * zero-length step with the BQL held (UBSan reports memcpy from NULL in
 * flatview_read_continue_step first). Any DMA at IOVA 0 by any device
 * before the driver enables the SMMU freezes QEMU. The guest must see a
 * bypassed access (here: the virt flash at PA 0 reads as zeroes).
 */
static void gbpa_bypass_iova0(void)
{
    VsmmuQtest *t;
    uint64_t st;

    t = start(NULL);
    st = vsmmu_testdev_copy(t, 0, VSMMU_QTEST_ALLOC_BASE, 8);
    g_assert_cmpuint(vsmmu_testdev_status_code(st), ==,
                     VSMMU_TESTDEV_STATUS_OK);
    end(t);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    vsmmu_qtest_add_isolated_func("/vsmmu-fuzz-regress/gbpa-bypass-iova0",
                                  gbpa_bypass_iova0, CASE_TIMEOUT_S);
    return g_test_run();
}
