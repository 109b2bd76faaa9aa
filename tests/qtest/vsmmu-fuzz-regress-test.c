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
#include "hw/arm/vsmmu/ats-testdev.h"

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

/*
 * ats-atc-after-reset (found by fuzz-coverage --check-order over
 * vsmmu-emu): the ATS endpoint's reset emptied its ATC but kept the slot
 * the next completion goes to, so after a reset the ATC did not behave as
 * a new one: with two entries for one page (the page remapped, a TLBI but
 * no ATC_INV), which one a read finds depended on how many completions
 * came before the reset. The same program must read the same data on a
 * fresh QEMU and after a reset that followed seven completions. (Not the
 * vsmmu's: the test device's, which the ATS qtests and the fuzz targets
 * rely on.)
 */
#define ATS_DEVFN       QPCI_DEVFN(0x1e, 0)
#define ATS_SID         0xf0
#define ATS_IOVA        0x58000000ULL

static void atstd_cmd(VsmmuQtest *t, QPCIDevice *d, QPCIBar bar,
                      uint64_t cmd, uint64_t addr, uint64_t len)
{
    qpci_io_writeq(d, bar, A_ATSTD_ADDR, addr);
    qpci_io_writeq(d, bar, A_ATSTD_LEN, len);
    qpci_io_writeq(d, bar, A_ATSTD_CMD, cmd);
    g_assert_cmpuint(qpci_io_readq(d, bar, A_ATSTD_STATUS), ==,
                     VSMMU_ATSTD_OK);
}

/*
 * The stream, the SMMU and ATS up (@pre pages mapped after the first and
 * translated); then, with @remap, what a read through the ATC gets after
 * the first page moved to another buffer with a TLBI but no ATC_INV
 */
static uint64_t ats_program(VsmmuQtest *t, unsigned pre, bool remap)
{
    QPCIDevice *d = qpci_device_find(&t->pcibus.bus, ATS_DEVFN);
    uint64_t cd[VSMMU_CD_DWORDS], ste[VSMMU_STE_DWORDS];
    uint64_t ctrl = t->pcibus.ecam_alloc_ptr + (ATS_DEVFN << 12) +
                    VSMMU_ATS_TESTDEV_ATS_CAP + 6;
    uint64_t pa1, pa2, one = 0x1111, two = 0x2222, data = 0;
    VsmmuPgtable pt;
    VsmmuCdTable cdt;
    QPCIBar bar;

    g_assert_nonnull(d);
    qpci_device_enable(d);
    bar = qpci_iomap(d, 0, NULL);
    vsmmu_strtab_linear(t, 8);
    vsmmu_pt_init(t, &pt, 4096, 48);
    pa1 = vsmmu_alloc(t, 0x1000, 0x1000);
    pa2 = vsmmu_alloc(t, 0x1000, 0x1000);
    qtest_memwrite(t->qts, pa1, &one, sizeof(one));
    qtest_memwrite(t->qts, pa2, &two, sizeof(two));
    for (unsigned i = 0; i <= pre; i++) {
        vsmmu_pt_map(&pt, ATS_IOVA + i * 0x1000, i ? pa2 : pa1, 0x1000,
                     VSMMU_PT_WRITE);
    }
    vsmmu_cd_table_linear(t, &cdt, 0);
    vsmmu_cd_for_pgtable(cd, &pt, 0x2a);
    vsmmu_cd_write(t, vsmmu_cd_addr(t, &cdt, 0), cd);
    vsmmu_ste_s1(ste, cdt.base, cdt.fmt, cdt.cdmax, STE_S1DSS_SSID0);
    ste[1] = FIELD_DP64(ste[1], STE1, EATS, 1);
    vsmmu_ste_write(t, ATS_SID, ste);
    vsmmu_bringup(t, 8, 4);
    vsmmu_enable(t);
    qtest_writew(t->qts, ctrl, 0x8000);         /* ATS on */

    for (unsigned i = 1; i <= pre; i++) {
        atstd_cmd(t, d, bar, VSMMU_ATSTD_CMD_TRANSLATE,
                  ATS_IOVA + i * 0x1000, 0x1000);
    }
    if (remap) {
        atstd_cmd(t, d, bar, VSMMU_ATSTD_CMD_TRANSLATE, ATS_IOVA, 0x1000);
        vsmmu_pt_map(&pt, ATS_IOVA, pa2, 0x1000, VSMMU_PT_WRITE);
        g_assert_cmpuint(vsmmu_cmdq_issue_sync(t, vsmmu_cmd_tlbi_nh_all()),
                         ==, CERROR_NONE);
        atstd_cmd(t, d, bar, VSMMU_ATSTD_CMD_TRANSLATE, ATS_IOVA, 0x1000);
        g_assert_cmpuint(qpci_io_readq(d, bar, A_ATSTD_ATC_VALID), ==, 2);
        atstd_cmd(t, d, bar, VSMMU_ATSTD_CMD_READ, ATS_IOVA, 8);
        data = qpci_io_readq(d, bar, A_ATSTD_DATA);
    }
    g_free(d);
    return data;
}

static void ats_atc_after_reset(void)
{
    const char *args = "-device vsmmu,primary-bus=pcie.0,ats=on "
                       VSMMU_QTEST_TESTDEV
                       "-device vsmmu-ats-testdev,addr=1e.0 ";
    VsmmuQtest *t = vsmmu_qtest_start(args);
    uint64_t fresh = ats_program(t, 0, true);

    vsmmu_qtest_quit(t);
    t = vsmmu_qtest_start(args);
    ats_program(t, 7, false);
    qtest_system_reset(t->qts);
    g_assert_cmphex(ats_program(t, 0, true), ==, fresh);
    end(t);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    vsmmu_qtest_add_isolated_func("/vsmmu-fuzz-regress/gbpa-bypass-iova0",
                                  gbpa_bypass_iova0, CASE_TIMEOUT_S);
    vsmmu_qtest_add_isolated_func("/vsmmu-fuzz-regress/ats-atc-after-reset",
                                  ats_atc_after_reset, CASE_TIMEOUT_S);
    return g_test_run();
}
