/*
 * qtests of PCIe ATS behind the vsmmu:
 *   - the description: the IORT root complex node's ATS attribute (read
 *     from the ACPI tables over fw_cfg) and the PCIe host bridge's
 *     "ats-supported" (read from -machine dumpdtb), with ATS on and off;
 *   - the emulated flows, with vsmmu-ats-testdev (an endpoint with an ATS
 *     capability and an ATC): Translation Requests answered as STE.EATS
 *     says (IHI 0070 §3.9.1), ATC_INV reaching the endpoint's ATC before
 *     its CMD_SYNC completes, the mismatches (F_BAD_ATS_TREQ, C_BAD_STE).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/bswap.h"
#include "qobject/qdict.h"
#include "vsmmu-qtest-lib.h"
#include "vsmmu-qtest-check.h"
#include "hw/arm/vsmmu/ats-testdev.h"

#include <libfdt.h>

/* ---- ACPI: the IORT over fw_cfg ------------------------------------------ */

#define IORT_NODE_SMMUV3    4
#define IORT_NODE_RC        2
/* Root complex node: the ATS Attribute follows header and memory props */
#define IORT_RC_ATS_ATTR    24

/* The IORT of a virt machine with @args, in a buffer of its own */
static uint8_t *iort_of(const char *args, uint32_t *iort_len)
{
    QTestState *qts = qtest_init(args);
    size_t len, off = 0;
    g_autofree uint8_t *blob = vsmmu_qtest_fw_cfg_file(qts, "etc/acpi/tables",
                                                       &len);

    qtest_quit(qts);
    while (off + 36 <= len) {
        const uint8_t *p = blob + off;
        uint32_t l = ldl_le_p(p + 4);

        if (l < 36 || off + l > len) {
            off++;              /* padding between tables */
            continue;
        }
        if (!memcmp(p, "IORT", 4)) {
            *iort_len = l;
            return g_memdup2(p, l);
        }
        off += l;
    }
    g_assert_not_reached();
}

/* Offsets of the IORT nodes of type @type, the count returned */
static int iort_nodes(const uint8_t *iort, uint32_t len, uint8_t type,
                      uint32_t *offs, int max)
{
    uint32_t nodes = ldl_le_p(iort + 36), off = ldl_le_p(iort + 40);
    int n = 0;

    for (uint32_t i = 0; i < nodes; i++) {
        g_assert_cmpuint(off + 16, <=, len);
        if (iort[off] == type && n < max) {
            offs[n++] = off;
        }
        off += lduw_le_p(iort + off + 1);
    }
    g_assert_cmpuint(off, ==, len);
    return n;
}

/* The ATS Attribute of the (only) root complex node */
static uint32_t iort_rc_ats(const char *args, int want_smmus)
{
    uint32_t len, rc, smmu[4];
    g_autofree uint8_t *iort = iort_of(args, &len);

    g_assert_cmpint(iort_nodes(iort, len, IORT_NODE_SMMUV3, smmu, 4), ==,
                    want_smmus);
    g_assert_cmpint(iort_nodes(iort, len, IORT_NODE_RC, &rc, 1), ==, 1);
    return ldl_le_p(iort + rc + IORT_RC_ATS_ATTR);
}

#define DESC_ARGS   "-M virt -nodefaults "

static void test_acpi_on(void)
{
    g_assert_cmphex(iort_rc_ats(DESC_ARGS
                                "-device vsmmu,primary-bus=pcie.0,ats=on", 1),
                    ==, 1);
}

/* ats=off, and auto without accel (the default: off) */
static void test_acpi_off(void)
{
    g_assert_cmphex(iort_rc_ats(DESC_ARGS
                                "-device vsmmu,primary-bus=pcie.0,ats=off",
                                1), ==, 0);
    g_assert_cmphex(iort_rc_ats(DESC_ARGS
                                "-device vsmmu,primary-bus=pcie.0", 1),
                    ==, 0);
    /* QEMU's own SMMU has no ATS: unchanged */
    g_assert_cmphex(iort_rc_ats(DESC_ARGS
                                "-device arm-smmuv3,primary-bus=pcie.0", 1),
                    ==, 0);
}

/*
 * A vsmmu with ATS on a pxb-pcie, one without on pcie.0: the one root
 * complex node (PCI segment 0 holds both root buses) says ATS supported,
 * and the pxb's vsmmu advertises IDR0.ATS while pcie.0's does not.
 */
static void test_acpi_pxb(void)
{
    const char *args = DESC_ARGS
        "-device pxb-pcie,id=pxb1,bus_nr=0x80,bus=pcie.0 "
        "-device vsmmu,primary-bus=pcie.0,ats=off "
        "-device vsmmu,primary-bus=pxb1,ats=on";

    g_assert_cmphex(iort_rc_ats(args, 2), ==, 1);
}

/* ---- device tree -------------------------------------------------------- */

#define DT_PCIE     "/pcie@10000000"

static bool dt_ats_supported(const char *args)
{
    g_autofree void *dtb = vsmmu_qtest_dtb(args, NULL);
    int node;

    node = fdt_path_offset(dtb, DT_PCIE);
    g_assert_cmpint(node, >=, 0);
    /* the host bridge this vsmmu translates for is described as such */
    g_assert_nonnull(fdt_getprop(dtb, node, "iommu-map", NULL));
    return fdt_getprop(dtb, node, "ats-supported", NULL) != NULL;
}

static void test_dt_on(void)
{
    g_assert_true(dt_ats_supported("-device vsmmu,primary-bus=pcie.0,"
                                   "ats=on"));
}

static void test_dt_off(void)
{
    g_assert_false(dt_ats_supported("-device vsmmu,primary-bus=pcie.0,"
                                    "ats=off"));
    g_assert_false(dt_ats_supported("-device vsmmu,primary-bus=pcie.0"));
}

/* ---- emulated ATS ------------------------------------------------------- */

/* The ATS endpoint at 1e.0 on pcie.0: StreamID 0xf0 */
#define ATS_DEVFN       QPCI_DEVFN(0x1e, 0)
#define ATS_SID         0xf0
#define ATS_DEV         "-device vsmmu-ats-testdev,addr=1e.0 "

#define IOVA_A          0x58000000ULL
#define IOVA_B          0x58400000ULL   /* read-only */
#define IOVA_C          0x58800000ULL   /* never mapped */
#define TEST_ASID       0x2a

typedef struct AtsTest {
    VsmmuQtest *t;
    QPCIDevice *dev;
    QPCIBar bar;
    VsmmuPgtable pt;
    VsmmuCdTable cdt;
    uint64_t pa_a, pa_b;        /* what IOVA_A and IOVA_B map to */
} AtsTest;

static uint64_t atstd_rd(AtsTest *a, uint64_t reg)
{
    return qpci_io_readq(a->dev, a->bar, reg);
}

static void atstd_wr(AtsTest *a, uint64_t reg, uint64_t val)
{
    qpci_io_writeq(a->dev, a->bar, reg, val);
}

/* The ATS capability's Control register, in the extended config space */
static void atstd_ats_enable(AtsTest *a, bool on)
{
    uint64_t ctrl = a->t->pcibus.ecam_alloc_ptr + (ATS_DEVFN << 12) +
                    VSMMU_ATS_TESTDEV_ATS_CAP + 6;

    g_assert_cmphex(qtest_readl(a->t->qts, ctrl - 6) & 0xffff, ==, 0x000f);
    qtest_writew(a->t->qts, ctrl, on ? 0x8000 : 0);
    g_assert_cmphex(qtest_readw(a->t->qts, ctrl) & 0x8000, ==,
                    on ? 0x8000 : 0);
}

static unsigned atstd_translate(AtsTest *a, uint64_t addr, uint64_t len,
                                bool no_write)
{
    atstd_wr(a, A_ATSTD_ADDR, addr);
    atstd_wr(a, A_ATSTD_LEN, len);
    atstd_wr(a, A_ATSTD_FLAGS, no_write);
    atstd_wr(a, A_ATSTD_CMD, VSMMU_ATSTD_CMD_TRANSLATE);
    return atstd_rd(a, A_ATSTD_STATUS);
}

static unsigned atstd_read(AtsTest *a, uint64_t addr, uint64_t *data)
{
    atstd_wr(a, A_ATSTD_ADDR, addr);
    atstd_wr(a, A_ATSTD_CMD, VSMMU_ATSTD_CMD_READ);
    *data = atstd_rd(a, A_ATSTD_DATA);
    return atstd_rd(a, A_ATSTD_STATUS);
}

static uint64_t vsmmu_stat(AtsTest *a, const char *name)
{
    QDict *rsp = qtest_qmp(a->t->qts, "{ 'execute': 'qom-get', 'arguments':"
                           " { 'path': '/machine/peripheral/vsmmu0',"
                           " 'property': %s } }", name);
    uint64_t val;

    g_assert_true(qdict_haskey(rsp, "return"));
    val = qdict_get_int(rsp, "return");
    qobject_unref(rsp);
    return val;
}

/*
 * QEMU with a vsmmu (@props), the DMA test device (for the library) and
 * the ATS endpoint; stream table, queues, and for the endpoint a CD over
 * page tables mapping IOVA_A (RW) and IOVA_B (RO), an STE with @eats (or
 * no STE when @eats < 0); the SMMU enabled; ATS enabled in the endpoint.
 */
static void ats_start(AtsTest *a, const char *props, int eats)
{
    g_autofree char *args = g_strdup_printf(
        "-device vsmmu,primary-bus=pcie.0,id=vsmmu0%s "
        VSMMU_QTEST_TESTDEV ATS_DEV, props);
    uint64_t cd[VSMMU_CD_DWORDS], ste[VSMMU_STE_DWORDS];

    memset(a, 0, sizeof(*a));
    a->t = vsmmu_qtest_start(args);
    a->dev = qpci_device_find(&a->t->pcibus.bus, ATS_DEVFN);
    g_assert_nonnull(a->dev);
    qpci_device_enable(a->dev);
    a->bar = qpci_iomap(a->dev, 0, NULL);
    g_assert_cmphex(atstd_rd(a, A_ATSTD_ID), ==, VSMMU_ATS_TESTDEV_ID);

    vsmmu_strtab_linear(a->t, 8);
    vsmmu_pt_init(a->t, &a->pt, 4096, 48);
    a->pa_a = vsmmu_alloc(a->t, 0x2000, 0x1000);
    a->pa_b = vsmmu_alloc(a->t, 0x1000, 0x1000);
    vsmmu_pt_map(&a->pt, IOVA_A, a->pa_a, 0x2000, VSMMU_PT_WRITE);
    vsmmu_pt_map(&a->pt, IOVA_B, a->pa_b, 0x1000, VSMMU_PT_READ);
    vsmmu_cd_table_linear(a->t, &a->cdt, 0);
    vsmmu_cd_for_pgtable(cd, &a->pt, TEST_ASID);
    vsmmu_cd_write(a->t, vsmmu_cd_addr(a->t, &a->cdt, 0), cd);
    if (eats >= 0) {
        vsmmu_ste_s1(ste, a->cdt.base, a->cdt.fmt, a->cdt.cdmax,
                     STE_S1DSS_SSID0);
        ste[1] = FIELD_DP64(ste[1], STE1, EATS, eats);
        vsmmu_ste_write(a->t, ATS_SID, ste);
    }
    vsmmu_bringup(a->t, 8, 4);
    vsmmu_enable(a->t);
    atstd_ats_enable(a, true);
}

static void ats_end(AtsTest *a)
{
    g_free(a->dev);
    vsmmu_qtest_quit(a->t);
}

static void write_ste(AtsTest *a, const uint64_t *ste)
{
    vsmmu_ste_write(a->t, ATS_SID, ste);
    g_assert_cmpuint(vsmmu_cmdq_issue_sync(a->t,
                                           vsmmu_cmd_cfgi_ste(ATS_SID, true)),
                     ==, CERROR_NONE);
}

/* EATS = 0b01: the completion carries the translation and permissions */
static void test_translate(void)
{
    AtsTest a;

    ats_start(&a, ",ats=on", 1);
    g_assert_cmpuint(atstd_translate(&a, IOVA_A, 0x2000, false), ==,
                     VSMMU_ATSTD_OK);
    g_assert_cmpuint(atstd_rd(&a, A_ATSTD_NRESULTS), ==, 2);
    g_assert_cmpuint(atstd_rd(&a, A_ATSTD_ERR_COUNT), ==, 0);
    g_assert_cmphex(atstd_rd(&a, A_ATSTD_RES_IOVA), ==, IOVA_A);
    g_assert_cmphex(atstd_rd(&a, A_ATSTD_RES_PA), ==, a.pa_a);
    g_assert_cmphex(atstd_rd(&a, A_ATSTD_RES_MASK), ==, 0xfff);
    g_assert_cmphex(atstd_rd(&a, A_ATSTD_RES_PERM), ==, 3);     /* R W */
    g_assert_cmpuint(atstd_rd(&a, A_ATSTD_ATC_VALID), ==, 2);
    /* a read-only page: R only; a no-write request: R only */
    g_assert_cmpuint(atstd_translate(&a, IOVA_B, 0x1000, false), ==,
                     VSMMU_ATSTD_OK);
    g_assert_cmphex(atstd_rd(&a, A_ATSTD_RES_PA), ==, a.pa_b);
    g_assert_cmphex(atstd_rd(&a, A_ATSTD_RES_PERM), ==, 1);
    g_assert_cmpuint(atstd_translate(&a, IOVA_A, 0x1000, true), ==,
                     VSMMU_ATSTD_OK);
    g_assert_cmphex(atstd_rd(&a, A_ATSTD_RES_PERM), ==, 1);
    g_assert_cmpuint(vsmmu_stat(&a, "x-stats-ats-requests"), ==, 3);
    vsmmu_expect_no_event(a.t);
    ats_end(&a);
}

/*
 * A translation fault is a successful completion without access
 * (R = W = 0), counted as an error, and records no event although the CD
 * asks for fault records (CD.R = 1): the endpoint owns the fault.
 */
static void test_translate_fault(void)
{
    AtsTest a;

    ats_start(&a, ",ats=on", 1);
    g_assert_cmpuint(atstd_translate(&a, IOVA_C, 0x1000, false), ==,
                     VSMMU_ATSTD_OK);
    g_assert_cmpuint(atstd_rd(&a, A_ATSTD_NRESULTS), ==, 1);
    g_assert_cmpuint(atstd_rd(&a, A_ATSTD_ERR_COUNT), ==, 1);
    g_assert_cmphex(atstd_rd(&a, A_ATSTD_RES_PERM), ==, 0);
    g_assert_cmpuint(atstd_rd(&a, A_ATSTD_ATC_VALID), ==, 0);
    vsmmu_expect_no_event(a.t);
    ats_end(&a);
}

/* STE.EATS = 0b00: Unsupported Request and F_BAD_ATS_TREQ */
static void test_eats_off(void)
{
    AtsTest a;
    VsmmuEvent ev;
    uint64_t data;

    ats_start(&a, ",ats=on", 0);
    g_assert_cmpuint(atstd_translate(&a, IOVA_A, 0x1000, false), ==,
                     VSMMU_ATSTD_UR);
    g_assert_cmpuint(atstd_rd(&a, A_ATSTD_ATC_VALID), ==, 0);
    vsmmu_expect_event_sid(a.t, ATS_SID, EVT_F_BAD_ATS_TREQ, &ev);
    g_assert_cmphex(vsmmu_evt_input_addr(&ev), ==, IOVA_A);
    g_assert_cmpuint(FIELD_EX64(ev.word[1], EVT1, RNW), ==, 0);
    g_assert_cmpuint(atstd_read(&a, IOVA_A, &data), ==, VSMMU_ATSTD_UR);
    vsmmu_expect_event_sid(a.t, ATS_SID, EVT_F_BAD_ATS_TREQ, &ev);
    ats_end(&a);
}

/*
 * Other STEs: bypass ignores EATS (UR + F_BAD_ATS_TREQ); abort aborts
 * silently (UR, no event); EATS = 0b10 without stage 2 and the reserved
 * 0b11 are ILLEGAL (C_BAD_STE, Completer Abort).
 */
static void test_ste_kinds(void)
{
    uint64_t ste[VSMMU_STE_DWORDS];
    AtsTest a;
    VsmmuEvent ev;

    ats_start(&a, ",ats=on", 1);
    vsmmu_ste_bypass(ste);
    ste[1] = FIELD_DP64(ste[1], STE1, EATS, 1);
    write_ste(&a, ste);
    g_assert_cmpuint(atstd_translate(&a, IOVA_A, 0x1000, false), ==,
                     VSMMU_ATSTD_UR);
    vsmmu_expect_event_sid(a.t, ATS_SID, EVT_F_BAD_ATS_TREQ, &ev);

    vsmmu_ste_abort(ste);
    write_ste(&a, ste);
    g_assert_cmpuint(atstd_translate(&a, IOVA_A, 0x1000, false), ==,
                     VSMMU_ATSTD_UR);
    vsmmu_expect_no_event(a.t);

    for (unsigned eats = 2; eats <= 3; eats++) {
        vsmmu_ste_s1(ste, a.cdt.base, a.cdt.fmt, a.cdt.cdmax,
                     STE_S1DSS_SSID0);
        ste[1] = FIELD_DP64(ste[1], STE1, EATS, eats);
        write_ste(&a, ste);
        g_assert_cmpuint(atstd_translate(&a, IOVA_A, 0x1000, false), ==,
                         VSMMU_ATSTD_CA);
        vsmmu_expect_event_sid(a.t, ATS_SID, EVT_C_BAD_STE, &ev);
    }

    /* S1DSS bypass with EATS = 0b01: the identity, with access */
    vsmmu_ste_s1(ste, a.cdt.base, a.cdt.fmt, 1, STE_S1DSS_BYPASS);
    ste[1] = FIELD_DP64(ste[1], STE1, EATS, 1);
    write_ste(&a, ste);
    g_assert_cmpuint(atstd_translate(&a, IOVA_C, 0x1000, false), ==,
                     VSMMU_ATSTD_OK);
    g_assert_cmphex(atstd_rd(&a, A_ATSTD_RES_PA), ==, IOVA_C);
    g_assert_cmphex(atstd_rd(&a, A_ATSTD_RES_PERM), ==, 3);
    vsmmu_expect_no_event(a.t);
    ats_end(&a);
}

/* The SMMU disabled, or without ATS: UR, nothing recorded */
static void test_no_ats(void)
{
    uint64_t ste[VSMMU_STE_DWORDS];
    AtsTest a;

    ats_start(&a, ",ats=on", 1);
    g_assert_true(vsmmu_set_cr0(a.t, R_CR0_CMDQEN_MASK |
                                     R_CR0_EVENTQEN_MASK));
    g_assert_cmpuint(atstd_translate(&a, IOVA_A, 0x1000, false), ==,
                     VSMMU_ATSTD_UR);
    ats_end(&a);

    /*
     * ats=off: UR; STE.EATS is ignored, so even the reserved 0b11 is no
     * C_BAD_STE: the DMA test device's ordinary DMA translates through
     * such an STE.
     */
    ats_start(&a, ",ats=off", 3);
    g_assert_cmpuint(atstd_translate(&a, IOVA_A, 0x1000, false), ==,
                     VSMMU_ATSTD_UR);
    vsmmu_ste_s1(ste, a.cdt.base, a.cdt.fmt, a.cdt.cdmax, STE_S1DSS_SSID0);
    ste[1] = FIELD_DP64(ste[1], STE1, EATS, 3);
    vsmmu_ste_write(a.t, a.t->sid, ste);
    g_assert_cmpuint(vsmmu_cmdq_issue_sync(a.t, vsmmu_cmd_cfgi_ste(a.t->sid,
                                                                   true)),
                     ==, CERROR_NONE);
    g_assert_cmpuint(vsmmu_testdev_status_code(vsmmu_testdev_copy(
                         a.t, IOVA_A, IOVA_A + 0x1000, 0x100)), ==,
                     VSMMU_TESTDEV_STATUS_OK);
    vsmmu_expect_no_event(a.t);
    ats_end(&a);
}

/*
 * ATC_INV reaches the endpoint's ATC: a read through the ATC keeps
 * using the cached translation after the page table changed and a TLBI
 * (TLBIs do not reach ATCs), and sees the new one once an ATC_INV and
 * its CMD_SYNC completed; the endpoint heard exactly the ATC_INV's span.
 */
static void test_atc_inv(void)
{
    AtsTest a;
    VsmmuCmd list[2];
    uint64_t data, pa_new, msi;

    ats_start(&a, ",ats=on", 1);
    qtest_writeq(a.t->qts, a.pa_a, 0x1111111111111111ULL);
    pa_new = vsmmu_alloc(a.t, 0x1000, 0x1000);
    qtest_writeq(a.t->qts, pa_new, 0x2222222222222222ULL);
    msi = vsmmu_alloc(a.t, 0x1000, 0x1000);

    g_assert_cmpuint(atstd_read(&a, IOVA_A, &data), ==, VSMMU_ATSTD_OK);
    g_assert_cmphex(data, ==, 0x1111111111111111ULL);
    g_assert_cmpuint(atstd_rd(&a, A_ATSTD_TR_COUNT), ==, 1);
    g_assert_cmpuint(atstd_rd(&a, A_ATSTD_ATC_VALID), ==, 1);

    vsmmu_pt_remap(&a.pt, IOVA_A, pa_new);
    g_assert_cmpuint(vsmmu_cmdq_issue_sync(a.t, vsmmu_cmd_tlbi_nh_va(
                         TEST_ASID, IOVA_A, true)), ==, CERROR_NONE);
    g_assert_cmpuint(atstd_read(&a, IOVA_A, &data), ==, VSMMU_ATSTD_OK);
    g_assert_cmphex(data, ==, 0x1111111111111111ULL);       /* the ATC's */
    g_assert_cmpuint(atstd_rd(&a, A_ATSTD_INV_COUNT), ==, 0);

    /* another stream's ATC_INV leaves this ATC alone */
    g_assert_cmpuint(vsmmu_cmdq_issue_sync(a.t, vsmmu_cmd_atc_inv(
                         ATS_SID + 1, IOVA_A, 0)), ==, CERROR_NONE);
    g_assert_cmpuint(atstd_rd(&a, A_ATSTD_INV_COUNT), ==, 0);

    /* ATC_INV of 2 pages (Size 1) + CMD_SYNC with an MSI */
    list[0] = vsmmu_cmd_atc_inv(ATS_SID, IOVA_A + 0x1000, 1);
    list[1] = vsmmu_cmd_sync(CMD_SYNC_SIG_IRQ, msi, 0xa75);
    vsmmu_cmdq_push_list(a.t, list, 2);
    g_assert_cmpuint(vsmmu_cmdq_wait(a.t), ==, CERROR_NONE);
    g_assert_cmphex(qtest_readl(a.t->qts, msi), ==, 0xa75);
    g_assert_cmpuint(atstd_rd(&a, A_ATSTD_INV_COUNT), ==, 1);
    g_assert_cmphex(atstd_rd(&a, A_ATSTD_INV_IOVA), ==, IOVA_A);
    g_assert_cmphex(atstd_rd(&a, A_ATSTD_INV_MASK), ==, 0x1fff);
    g_assert_cmpuint(atstd_rd(&a, A_ATSTD_ATC_VALID), ==, 0);
    g_assert_cmpuint(atstd_read(&a, IOVA_A, &data), ==, VSMMU_ATSTD_OK);
    g_assert_cmphex(data, ==, 0x2222222222222222ULL);       /* new */
    g_assert_cmpuint(atstd_rd(&a, A_ATSTD_TR_COUNT), ==, 2);

    /* Size 52: everything */
    g_assert_cmpuint(atstd_translate(&a, IOVA_B, 0x1000, false), ==,
                     VSMMU_ATSTD_OK);
    g_assert_cmpuint(atstd_rd(&a, A_ATSTD_ATC_VALID), ==, 2);
    g_assert_cmpuint(vsmmu_cmdq_issue_sync(a.t, vsmmu_cmd_atc_inv(
                         ATS_SID, 0, 52)), ==, CERROR_NONE);
    g_assert_cmpuint(atstd_rd(&a, A_ATSTD_ATC_VALID), ==, 0);
    g_assert_cmpuint(atstd_rd(&a, A_ATSTD_INV_COUNT), ==, 2);
    g_assert_cmphex(atstd_rd(&a, A_ATSTD_INV_IOVA), ==, 0);
    g_assert_cmphex(atstd_rd(&a, A_ATSTD_INV_MASK), ==, UINT64_MAX);
    g_assert_cmpuint(vsmmu_stat(&a, "x-stats-atc-invs"), ==, 3);

    /* ATS disabled in the endpoint: it no longer listens */
    atstd_ats_enable(&a, false);
    g_assert_cmpuint(vsmmu_cmdq_issue_sync(a.t, vsmmu_cmd_atc_inv(
                         ATS_SID, 0, 52)), ==, CERROR_NONE);
    g_assert_cmpuint(atstd_rd(&a, A_ATSTD_INV_COUNT), ==, 2);
    vsmmu_expect_no_event(a.t);
    ats_end(&a);
}

/*
 * Without ATS on the SMMU an endpoint's device-IOTLB notifier is still
 * accepted (a guest may enable ATS in any device), and TLBIs reach it:
 * nothing else could invalidate its cache. ATC_INV is CERROR_ILL there.
 */
static void test_no_ats_notifier(void)
{
    AtsTest a;

    ats_start(&a, ",ats=off", 1);
    g_assert_cmpuint(vsmmu_cmdq_issue_sync(a.t, vsmmu_cmd_tlbi_nh_va(
                         TEST_ASID, IOVA_A, true)), ==, CERROR_NONE);
    g_assert_cmpuint(atstd_rd(&a, A_ATSTD_INV_COUNT), ==, 1);
    g_assert_cmphex(atstd_rd(&a, A_ATSTD_INV_IOVA), ==, IOVA_A);
    g_assert_cmpuint(vsmmu_cmdq_issue_sync(a.t, vsmmu_cmd_tlbi_nh_all()), ==,
                     CERROR_NONE);
    g_assert_cmpuint(atstd_rd(&a, A_ATSTD_INV_COUNT), ==, 2);
    g_assert_cmpuint(vsmmu_cmdq_issue(a.t, vsmmu_cmd_atc_inv(ATS_SID, 0, 52)),
                     ==, CERROR_ILL);
    ats_end(&a);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    qtest_add_func("/vsmmu-ats/desc/acpi-on", test_acpi_on);
    qtest_add_func("/vsmmu-ats/desc/acpi-off", test_acpi_off);
    qtest_add_func("/vsmmu-ats/desc/acpi-pxb", test_acpi_pxb);
    qtest_add_func("/vsmmu-ats/desc/dt-on", test_dt_on);
    qtest_add_func("/vsmmu-ats/desc/dt-off", test_dt_off);
    qtest_add_func("/vsmmu-ats/emu/translate", test_translate);
    qtest_add_func("/vsmmu-ats/emu/translate-fault", test_translate_fault);
    qtest_add_func("/vsmmu-ats/emu/eats-off", test_eats_off);
    qtest_add_func("/vsmmu-ats/emu/ste-kinds", test_ste_kinds);
    qtest_add_func("/vsmmu-ats/emu/no-ats", test_no_ats);
    qtest_add_func("/vsmmu-ats/emu/atc-inv", test_atc_inv);
    qtest_add_func("/vsmmu-ats/emu/no-ats-notifier", test_no_ats_notifier);
    return g_test_run();
}
