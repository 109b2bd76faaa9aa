/*
 * qtests of the accelerated vsmmu (accel=on) against the simulated Arm
 * host (tests/simhost): QEMU's own vfio-pci and iommufd code talk to a
 * simulated /dev/iommu and VFIO cdev that follow the Linux 7.2 contract,
 * and a simulated host SMMU walks the guest's stage 1 nested over the
 * IOAS. The guest side is driven as in vsmmu-emu-test.c (the simulated
 * PCI function is register-compatible with vsmmu-dma-testdev).
 *
 * Every test ends by checking that QEMU freed every iommufd object it
 * made (the simulated host's leak report). Each runs in a process of its
 * own with a time limit, so a hang or an abort fails that test alone.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qobject/qdict.h"
#include "hw/pci/pci_regs.h"
#include "vsmmu-accel-fixture.h"

/* ---------------------------------------------------------------------- */
/* Realize, attach, objects                                                */
/* ---------------------------------------------------------------------- */

/* Cold-plugged device: vIOMMU, vDEVICE with the guest's StreamID, GBPA */
static void test_attach_cold(void)
{
    AccelFixture f;
    unsigned kind;
    uint64_t ste[2];
    g_autofree char *info = NULL;

    if (!have_simhost()) {
        return;
    }
    accel_start_default(&f);
    g_assert_cmpuint(simhost_calls(f.sh, SIMHOST_K_VIOMMU_ALLOC), ==, 1);
    g_assert_cmpuint(simhost_calls(f.sh, SIMHOST_K_VDEVICE_ALLOC), ==, 1);
    g_assert_cmpuint(f.sh->ctl->dev_vsid[0], ==, DEV0_DEVFN);
    /* SMMUEN clear, GBPA resets to bypass: the bypass nested domain */
    g_assert_cmpuint(simhost_attached(f.sh, 0, &kind, ste), !=, 0);
    g_assert_cmpuint(kind, ==, SIMHOST_ATTACH_NESTED);
    g_assert_cmphex(ste[0] & 0xf, ==, 1 | (4 << 1));
    info = hmp_info(&f);
    g_assert_nonnull(strstr(info, "accel"));
    g_assert_nonnull(strstr(info, "vSID 0x10"));
    g_assert_nonnull(strstr(info, "(bypass)"));
    accel_end(&f);
}

/* DMA with the SMMU disabled and GBPA bypass: IOVA == IPA */
static void test_dma_gbpa_bypass(void)
{
    AccelFixture f;
    uint64_t src, dst;

    if (!have_simhost()) {
        return;
    }
    accel_start_default(&f);
    src = vsmmu_alloc(f.t, 4096, 4096);
    dst = vsmmu_alloc(f.t, 4096, 4096);
    fill_pattern(f.t, src, 4096, 3);
    g_assert_cmpuint(status_code(vsmmu_testdev_copy(f.t, src, dst, 4096)),
                     ==, VSMMU_TESTDEV_STATUS_OK);
    g_assert_true(check_pattern(f.t, dst, 4096, 3));

    /* GBPA.ABORT: the abort domain, DMA fails */
    g_assert_true(vsmmu_set_gbpa(f.t, R_GBPA_ABORT_MASK));
    g_assert_cmpuint(status_code(vsmmu_testdev_copy(f.t, src, dst, 4096)),
                     !=, VSMMU_TESTDEV_STATUS_OK);
    accel_end(&f);
}

/* Guest stage 1 walked by the host: the copy lands where S1 says */
static void test_s1_nested_dma(void)
{
    AccelFixture f;
    uint64_t src, dst, ste[2];
    unsigned kind;

    if (!have_simhost()) {
        return;
    }
    accel_start_default(&f);
    accel_s1_setup(&f);
    g_assert_cmpuint(simhost_attached(f.sh, 0, &kind, ste), !=, 0);
    g_assert_cmpuint(kind, ==, SIMHOST_ATTACH_NESTED);
    /* the vSTE is the guest's, as far as nesting allows */
    g_assert_cmphex(ste[0], ==, f.ste[0]);

    src = vsmmu_alloc(f.t, 4096, 4096);
    dst = vsmmu_alloc(f.t, 4096, 4096);
    vsmmu_pt_map(&f.pt, IOVA_A, src, 4096, VSMMU_PT_READ);
    vsmmu_pt_map(&f.pt, IOVA_B, dst, 4096, VSMMU_PT_WRITE);
    fill_pattern(f.t, src, 4096, 9);
    g_assert_cmpuint(status_code(vsmmu_testdev_copy(f.t, IOVA_A, IOVA_B,
                                                    4096)),
                     ==, VSMMU_TESTDEV_STATUS_OK);
    g_assert_true(check_pattern(f.t, dst, 4096, 9));
    accel_end(&f);
}

/*
 * A remapped page is stale in the host IOTLB until the guest's TLBI
 * reaches the host; 64 TLBIs + CMD_SYNC go in one ioctl.
 */
static void test_tlbi_batched(void)
{
    AccelFixture f;
    uint64_t src[2], dst;
    uint64_t ioctls;
    VsmmuCmd list[65];

    if (!have_simhost()) {
        return;
    }
    accel_start_default(&f);
    accel_s1_setup(&f);
    src[0] = vsmmu_alloc(f.t, 4096, 4096);
    src[1] = vsmmu_alloc(f.t, 4096, 4096);
    dst = vsmmu_alloc(f.t, 4096, 4096);
    fill_pattern(f.t, src[0], 4096, 1);
    fill_pattern(f.t, src[1], 4096, 2);
    vsmmu_pt_map(&f.pt, IOVA_A, src[0], 4096, VSMMU_PT_READ);
    vsmmu_pt_map(&f.pt, IOVA_B, dst, 4096, VSMMU_PT_WRITE);
    g_assert_cmpuint(status_code(vsmmu_testdev_copy(f.t, IOVA_A, IOVA_B,
                                                    4096)), ==, 0);
    g_assert_true(check_pattern(f.t, dst, 4096, 1));

    /* Remap without invalidation: the host still uses the old page */
    vsmmu_pt_remap(&f.pt, IOVA_A, src[1]);
    g_assert_cmpuint(status_code(vsmmu_testdev_copy(f.t, IOVA_A, IOVA_B,
                                                    4096)), ==, 0);
    g_assert_true(check_pattern(f.t, dst, 4096, 1));

    ioctls = simhost_calls(f.sh, SIMHOST_K_HWPT_INVALIDATE);
    for (int i = 0; i < 64; i++) {
        list[i] = vsmmu_cmd_tlbi_nh_va(TEST_ASID, IOVA_A + i * 4096, true);
    }
    list[64] = vsmmu_cmd_sync(0, 0, 0);
    vsmmu_cmdq_push_list(f.t, list, 65);
    g_assert_cmpuint(vsmmu_cmdq_wait(f.t), ==, 0);
    g_assert_cmpuint(simhost_calls(f.sh, SIMHOST_K_HWPT_INVALIDATE), ==,
                     ioctls + 1);
    g_assert_cmpuint(f.sh->ctl->inval_last_num, ==, 64);
    g_assert_cmpuint(status_code(vsmmu_testdev_copy(f.t, IOVA_A, IOVA_B,
                                                    4096)), ==, 0);
    g_assert_true(check_pattern(f.t, dst, 4096, 2));
    accel_end(&f);
}

/* x-batch=off: one ioctl per command (the benchmark's baseline) */
static void test_tlbi_unbatched(void)
{
    AccelFixture f;
    SimhostOpts o = SIMHOST_OPTS_DEFAULT;
    uint64_t ioctls;
    VsmmuCmd list[17];

    if (!have_simhost()) {
        return;
    }
    accel_start(&f, &o, "-global vsmmu.x-batch=off");
    accel_s1_setup(&f);
    ioctls = simhost_calls(f.sh, SIMHOST_K_HWPT_INVALIDATE);
    for (int i = 0; i < 16; i++) {
        list[i] = vsmmu_cmd_tlbi_nh_va(TEST_ASID, IOVA_A + i * 4096, true);
    }
    list[16] = vsmmu_cmd_sync(0, 0, 0);
    vsmmu_cmdq_push_list(f.t, list, 17);
    g_assert_cmpuint(vsmmu_cmdq_wait(f.t), ==, 0);
    g_assert_cmpuint(simhost_calls(f.sh, SIMHOST_K_HWPT_INVALIDATE), ==,
                     ioctls + 16);
    accel_end(&f);
}

/*
 * The host fails the invalidation: CONS stops on the command the host
 * stopped at, CERROR_ILL, GERROR.CMDQ_ERR; QEMU lives on.
 */
static void test_inval_failure(void)
{
    AccelFixture f;
    uint32_t cons;
    VsmmuCmd list[5];

    if (!have_simhost()) {
        return;
    }
    accel_start_default(&f);
    accel_s1_setup(&f);
    simhost_inject(f.sh, SIMHOST_K_HWPT_INVALIDATE, 1, EIO);
    for (int i = 0; i < 4; i++) {
        list[i] = vsmmu_cmd_tlbi_nh_va(TEST_ASID, IOVA_A + i * 4096, true);
    }
    list[4] = vsmmu_cmd_sync(0, 0, 0);
    vsmmu_cmdq_push_list(f.t, list, 5);
    g_assert_cmpuint(vsmmu_cmdq_wait(f.t), ==, 1 /* CERROR_ILL */);
    g_assert_cmpuint(simhost_inject_fired(f.sh, SIMHOST_K_HWPT_INVALIDATE),
                     ==, 1);
    g_assert_true(vsmmu_gerror_active(f.t) & R_GERROR_CMDQ_ERR_MASK);
    cons = vsmmu_cmdq_cons(f.t);
    /* the failing command is one of the four TLBIs, not the CMD_SYNC */
    g_assert_cmpuint(cons & 0xff, <, 4 + 3);
    accel_end(&f);
}

/* ---------------------------------------------------------------------- */
/* STEs                                                                    */
/* ---------------------------------------------------------------------- */

/* STE.V = 0 installed by CFGI_STE: C_BAD_STE, the device aborts */
static void test_bad_ste_event(void)
{
    AccelFixture f;
    VsmmuEvent ev;
    uint64_t ste[VSMMU_STE_DWORDS] = { 0 };
    unsigned kind;
    uint64_t vste[2];

    if (!have_simhost()) {
        return;
    }
    accel_start_default(&f);
    accel_s1_setup(&f);
    vsmmu_ste_write(f.t, f.t->sid, ste);
    g_assert_cmpuint(vsmmu_cmdq_issue_sync(f.t,
                     vsmmu_cmd_cfgi_ste(f.t->sid, true)), ==, 0);
    vsmmu_evtq_expect(f.t, &ev);
    g_assert_cmphex(vsmmu_evt_id(&ev), ==, 0x04);
    g_assert_cmphex(vsmmu_evt_sid(&ev), ==, f.t->sid);
    g_assert_cmpuint(simhost_attached(f.sh, 0, &kind, vste), !=, 0);
    g_assert_cmphex((vste[0] >> 1) & 7, ==, 0);   /* Config = abort */
    accel_end(&f);
}

/* The host refuses the vSTE (EIO): C_BAD_STE, abort, QEMU alive */
static void test_host_refuses_ste(void)
{
    AccelFixture f;
    VsmmuEvent ev;
    unsigned kind;
    uint64_t vste[2];

    if (!have_simhost()) {
        return;
    }
    accel_start_default(&f);
    accel_s1_setup(&f);
    simhost_inject(f.sh, SIMHOST_K_HWPT_ALLOC, 1, EIO);
    f.ste[0] ^= 1ULL << 6;      /* another S1ContextPtr: a new vSTE */
    vsmmu_ste_write(f.t, f.t->sid, f.ste);
    g_assert_cmpuint(vsmmu_cmdq_issue_sync(f.t,
                     vsmmu_cmd_cfgi_ste(f.t->sid, true)), ==, 0);
    vsmmu_evtq_expect(f.t, &ev);
    g_assert_cmphex(vsmmu_evt_id(&ev), ==, 0x04);
    g_assert_cmpuint(simhost_attached(f.sh, 0, &kind, vste), !=, 0);
    g_assert_cmphex((vste[0] >> 1) & 7, ==, 0);
    accel_end(&f);
}

/* ---------------------------------------------------------------------- */
/* vEVENTQ                                                                 */
/* ---------------------------------------------------------------------- */

static void test_vevent_forwarded(void)
{
    AccelFixture f;
    VsmmuEvent ev;
    uint64_t evt[4] = { 0x10 /* F_TRANSLATION */, 0, IOVA_A + 0x123, 0 };

    if (!have_simhost()) {
        return;
    }
    accel_start_default(&f);
    accel_s1_setup(&f);
    g_assert_cmpint(simhost_host_event(f.sh, 0, evt), ==, 0);
    vsmmu_evtq_expect(f.t, &ev);
    g_assert_cmphex(vsmmu_evt_id(&ev), ==, 0x10);
    g_assert_cmphex(vsmmu_evt_sid(&ev), ==, f.t->sid);   /* the vSID */
    g_assert_cmphex(vsmmu_evt_input_addr(&ev), ==, IOVA_A + 0x123);
    accel_end(&f);
}

/* Events the host lost show as the guest queue's overflow flag */
static void test_vevent_lost(void)
{
    AccelFixture f;
    VsmmuEvent ev;
    uint64_t evt[4] = { 0x10, 0, IOVA_A, 0 };
    uint32_t prod;

    if (!have_simhost()) {
        return;
    }
    accel_start_default(&f);
    accel_s1_setup(&f);
    simhost_event_alloc_fail(f.sh, 2);
    simhost_host_event(f.sh, 0, evt);
    simhost_host_event(f.sh, 0, evt);
    simhost_host_event(f.sh, 0, evt);
    vsmmu_evtq_expect(f.t, &ev);
    prod = vsmmu_readl(f.t, A_EVENTQ_PROD);
    g_assert_cmpuint(FIELD_EX32(prod, QUEUE_INDEX, OVFLG), !=,
                     FIELD_EX32(vsmmu_readl(f.t, 0x100ac), QUEUE_INDEX,
                                OVFLG));
    accel_end(&f);
}

/* ---------------------------------------------------------------------- */
/* MSIs through the fixed host window                                      */
/* ---------------------------------------------------------------------- */

#define MSI_IOVA        0x5a000000ULL   /* the guest's IOVA for its doorbell */

/*
 * The host programs the device's MSI address as IOVA 0x08000040, and the
 * write goes through the guest's stage 1: with the window identity-mapped
 * it reaches the (simulated) ITS, QEMU injects the guest's vector, and
 * under TCG QEMU translates the guest's MSI address (an IOVA) itself.
 * Without the identity map the MSI is lost and the host reports the
 * fault, which the guest sees through the vEVENTQ.
 */
static void msi_run(bool identity)
{
    AccelFixture f;
    QPCIDevice *dev;
    uint64_t doorbell, buf;
    uint8_t cap;
    VsmmuEvent ev;
    int tries;

    if (!have_simhost()) {
        return;
    }
    accel_start_default(&f);
    accel_s1_setup(&f);
    dev = f.t->dev;
    doorbell = vsmmu_alloc(f.t, 4096, 4096);
    buf = vsmmu_alloc(f.t, 4096, 4096);
    vsmmu_pt_map(&f.pt, MSI_IOVA, doorbell, 4096, VSMMU_PT_WRITE);
    vsmmu_pt_map(&f.pt, IOVA_B, buf, 4096, VSMMU_PT_WRITE);
    if (identity) {
        vsmmu_pt_map(&f.pt, SIMHOST_SW_MSI_BASE, SIMHOST_SW_MSI_BASE,
                     SIMHOST_SW_MSI_SIZE, VSMMU_PT_WRITE);
    }

    cap = qpci_find_capability(dev, PCI_CAP_ID_MSI, 0);
    g_assert_cmpuint(cap, !=, 0);
    qpci_config_writel(dev, cap + PCI_MSI_ADDRESS_LO, (uint32_t)MSI_IOVA);
    qpci_config_writel(dev, cap + PCI_MSI_ADDRESS_HI, MSI_IOVA >> 32);
    qpci_config_writew(dev, cap + PCI_MSI_DATA_64, 0x1234);
    qpci_config_writew(dev, cap + PCI_MSI_FLAGS,
                       qpci_config_readw(dev, cap + PCI_MSI_FLAGS) |
                       PCI_MSI_FLAGS_ENABLE);

    vsmmu_testdev_writeq(f.t, SIMHOST_R_DST, IOVA_B);
    vsmmu_testdev_writeq(f.t, SIMHOST_R_LEN, 64);
    vsmmu_testdev_writeq(f.t, SIMHOST_R_PATTERN, 0x77);
    vsmmu_testdev_writeq(f.t, SIMHOST_R_CMD,
                         VSMMU_TESTDEV_CMD_FILL | SIMHOST_CMD_MSI);
    g_assert_cmpuint(status_code(vsmmu_testdev_readq(f.t, SIMHOST_R_STATUS)),
                     ==, 0);

    if (identity) {
        g_assert_cmpuint(vsmmu_testdev_readq(f.t, SIMHOST_R_MSI_SENT), ==, 1);
        for (tries = 0; tries < 1000; tries++) {
            if (qtest_readl(f.t->qts, doorbell) == 0x1234) {
                break;
            }
            g_usleep(1000);
        }
        g_assert_cmphex(qtest_readl(f.t->qts, doorbell), ==, 0x1234);
    } else {
        g_assert_cmpuint(vsmmu_testdev_readq(f.t, SIMHOST_R_MSI_LOST), ==, 1);
        vsmmu_evtq_expect(f.t, &ev);
        g_assert_cmphex(vsmmu_evt_id(&ev), ==, 0x10);
        g_assert_cmphex(vsmmu_evt_input_addr(&ev), ==, SIMHOST_MSI_IOVA);
        g_assert_cmphex(qtest_readl(f.t->qts, doorbell), ==, 0);
    }
    accel_end(&f);
}

static void test_msi_identity(void)
{
    msi_run(true);
}

static void test_msi_not_mapped(void)
{
    msi_run(false);
}

/* ---------------------------------------------------------------------- */
/* Compatibility, several devices, hotplug, reset, migration               */
/* ---------------------------------------------------------------------- */

/* The default simulated SMMU with SSIDSIZE 10 and no RIL */
static SimhostSmmuCfg host_ssid10_noril(void)
{
    SimhostSmmuCfg c;

    simhost_profile_fill(&c, SIMHOST_PROFILE_SMMUV3);
    c.idr[1] = deposit32(c.idr[1], 6, 5, 10);       /* SSIDSIZE */
    c.idr[3] &= ~(1u << 10);                        /* RIL */
    return c;
}

/*
 * A host without RIL while the vsmmu is told ril=on: refused, named (QEMU
 * does not start; the case must fail with the message, see main())
 */
static void test_host_mismatch(void)
{
    AccelFixture f;
    SimhostOpts o = SIMHOST_OPTS_DEFAULT;
    SimhostSmmuCfg c = host_ssid10_noril();

    if (!have_simhost()) {
        return;
    }
    accel_start_host(&f, &o, ",ril=on", &c);
}

/* So is a host with other IDRs entirely (granules, ASID size...) */
static void test_host_mismatch_alt(void)
{
    AccelFixture f;
    SimhostOpts o = SIMHOST_OPTS_DEFAULT;

    if (!have_simhost()) {
        return;
    }
    o.profile[0] = SIMHOST_PROFILE_SMMUV3_ALT;
    accel_start(&f, &o, NULL);
}

static uint32_t guest_idr(AccelFixture *f, int n)
{
    uint64_t base = f->t ? f->t->base : f->base;

    g_assert_cmphex(base, !=, 0);
    return qtest_readl(f->sh->qts, base + n * 4);
}

#define IDR1_SSIDSIZE(v)    extract32(v, 6, 5)
#define IDR3_RIL(v)         extract32(v, 10, 1)
#define IDR5_OAS(v)         extract32(v, 0, 3)
#define IDR0_ATS(v)         extract32(v, 10, 1)

/* auto (the default): the cold-plugged device's host SMMU decides */
static void test_auto_cold(void)
{
    AccelFixture f;
    SimhostOpts o = SIMHOST_OPTS_DEFAULT;
    SimhostSmmuCfg c = host_ssid10_noril();
    g_autofree char *info = NULL;

    if (!have_simhost()) {
        return;
    }
    o.dev_ats[0] = true;
    accel_start_host(&f, &o, NULL, &c);
    g_assert_cmpuint(IDR1_SSIDSIZE(guest_idr(&f, 1)), ==, 10);
    g_assert_cmpuint(IDR3_RIL(guest_idr(&f, 3)), ==, 0);
    g_assert_cmpuint(IDR5_OAS(guest_idr(&f, 5)), ==, 5);   /* 48 bits */
    g_assert_cmpuint(IDR0_ATS(guest_idr(&f, 0)), ==, 1);
    info = hmp_info(&f);
    g_assert_nonnull(strstr(info, "oas 48 (auto: host), ssidsize 10 (auto: "
                            "host), ril off (auto: host), ats on (auto: "
                            "host)"));
    accel_end(&f);
}

/* Explicit values, no device at all: the guest sees them */
static void test_auto_explicit_no_device(void)
{
    AccelFixture f;
    SimhostOpts o = SIMHOST_OPTS_DEFAULT;

    if (!have_simhost()) {
        return;
    }
    o.cold_plug_mask = 0;
    accel_start(&f, &o, ",oas=40,ssidsize=8,ril=off,ats=off "
                ACCEL_ROOT_PORT);
    accel_number_root_port(&f);
    g_assert_cmpuint(IDR1_SSIDSIZE(guest_idr(&f, 1)), ==, 8);
    g_assert_cmpuint(IDR3_RIL(guest_idr(&f, 3)), ==, 0);
    g_assert_cmpuint(IDR5_OAS(guest_idr(&f, 5)), ==, 2);   /* 40 bits */
    /* a device on a host that can do more is welcome; nothing changes */
    simhost_device_add(f.sh, 0, "{'bus': 'rp0'}");
    g_assert_cmpuint(simhost_calls(f.sh, SIMHOST_K_VDEVICE_ALLOC), ==, 1);
    g_assert_cmpuint(IDR1_SSIDSIZE(guest_idr(&f, 1)), ==, 8);
    g_assert_cmpuint(IDR5_OAS(guest_idr(&f, 5)), ==, 2);
    accel_end(&f);
}

/* auto with the first device hot-plugged before the guest probed */
static void test_auto_hot_first(void)
{
    AccelFixture f;
    SimhostOpts o = SIMHOST_OPTS_DEFAULT;
    SimhostSmmuCfg c = host_ssid10_noril();

    if (!have_simhost()) {
        return;
    }
    o.cold_plug_mask = 0;
    accel_start_host(&f, &o, ACCEL_ROOT_PORT, &c);
    simhost_device_add(f.sh, 0, "{'bus': 'rp0'}");
    g_assert_cmpuint(IDR1_SSIDSIZE(guest_idr(&f, 1)), ==, 10);
    g_assert_cmpuint(IDR3_RIL(guest_idr(&f, 3)), ==, 0);
    g_assert_cmpuint(IDR5_OAS(guest_idr(&f, 5)), ==, 5);
    accel_end(&f);
}

/*
 * The guest read the IDRs (auto = defaults) before the first device:
 * a host that can do less is refused, naming the field and both values;
 * QEMU goes on, nothing leaks.
 */
static void test_auto_hot_after_probe_refused(void)
{
    AccelFixture f;
    SimhostOpts o = SIMHOST_OPTS_DEFAULT;
    SimhostSmmuCfg c = host_ssid10_noril();
    g_autofree char *fd = NULL;
    QDict *resp;
    const char *desc;

    if (!have_simhost()) {
        return;
    }
    o.cold_plug_mask = 0;
    accel_start_host(&f, &o, ACCEL_ROOT_PORT, &c);
    g_assert_cmpuint(IDR1_SSIDSIZE(guest_idr(&f, 1)), ==, 16);
    fd = g_strdup_printf("%d", f.sh->dev_fd[0]);
    resp = qtest_qmp(f.sh->qts, "{'execute': 'device_add', 'arguments': "
                     "{'driver': 'vfio-pci', 'id': 'simhost-dev0', "
                     "'fd': %s, 'iommufd': 'simhost-iommufd', "
                     "'bus': 'rp0'}}", fd);
    g_assert_true(qdict_haskey(resp, "error"));
    desc = qdict_get_str(qdict_get_qdict(resp, "error"), "desc");
    g_assert_nonnull(strstr(desc, "IDR1.SSIDSIZE: the vsmmu advertises 16, "
                            "the host SMMU of device simhost-dev0 has 10"));
    qobject_unref(resp);
    g_assert_cmpuint(simhost_calls(f.sh, SIMHOST_K_VIOMMU_ALLOC), ==, 0);
    g_assert_cmpuint(IDR1_SSIDSIZE(guest_idr(&f, 1)), ==, 16);
    accel_end(&f);
}

/*
 * QEMU's own arm-smmuv3 as the host SMMU (L1 of make e2e): no 2-level CD
 * tables, no substreams; a vsmmu with ssidsize=0 fits it, and so does
 * one left at auto
 */
static void test_host_qemu_smmuv3(void)
{
    const char *props[] = { "-global vsmmu.ssidsize=0", NULL };

    if (!have_simhost()) {
        return;
    }
    for (int i = 0; i < ARRAY_SIZE(props); i++) {
        AccelFixture f;
        SimhostOpts o = SIMHOST_OPTS_DEFAULT;

        o.profile[0] = SIMHOST_PROFILE_QEMU_SMMUV3;
        accel_start(&f, &o, props[i]);
        g_assert_cmpuint(simhost_calls(f.sh, SIMHOST_K_VIOMMU_ALLOC), ==, 1);
        g_assert_cmpuint(simhost_calls(f.sh, SIMHOST_K_VDEVICE_ALLOC), ==, 1);
        g_assert_cmpuint(IDR1_SSIDSIZE(guest_idr(&f, 1)), ==, 0);
        accel_end(&f);
    }
}

/* Not frozen: with the device gone, the next reset has the defaults */
static void test_auto_not_frozen(void)
{
    AccelFixture f;
    SimhostOpts o = SIMHOST_OPTS_DEFAULT;

    if (!have_simhost()) {
        return;
    }
    o.cold_plug_mask = 0;
    accel_start(&f, &o, ACCEL_ROOT_PORT);
    accel_number_root_port(&f);
    simhost_device_add(f.sh, 0, "{'bus': 'rp0'}");
    g_assert_cmpuint(IDR5_OAS(guest_idr(&f, 5)), ==, 5);    /* host: 48 */
    qtest_qmp_device_del(f.sh->qts, "simhost-dev0");
    qtest_system_reset(f.sh->qts);
    g_assert_cmpuint(IDR5_OAS(guest_idr(&f, 5)), ==, 4);    /* default */
    g_assert_cmpuint(IDR1_SSIDSIZE(guest_idr(&f, 1)), ==, 16);
    accel_end(&f);
}

/* ...one that can do more is taken; its values apply from the next reset */
static void test_auto_hot_after_probe_reset(void)
{
    AccelFixture f;
    SimhostOpts o = SIMHOST_OPTS_DEFAULT;

    if (!have_simhost()) {
        return;
    }
    o.cold_plug_mask = 0;
    accel_start(&f, &o, ACCEL_ROOT_PORT);
    g_assert_cmpuint(IDR5_OAS(guest_idr(&f, 5)), ==, 4);    /* 44 bits */
    simhost_device_add(f.sh, 0, "{'bus': 'rp0'}");
    g_assert_cmpuint(IDR5_OAS(guest_idr(&f, 5)), ==, 4);
    g_assert_cmpuint(IDR1_SSIDSIZE(guest_idr(&f, 1)), ==, 16);
    qtest_system_reset(f.sh->qts);
    g_assert_cmpuint(IDR5_OAS(guest_idr(&f, 5)), ==, 5);    /* host: 48 */
    g_assert_cmpuint(IDR1_SSIDSIZE(guest_idr(&f, 1)), ==, 20);
    accel_end(&f);
}

/* The same vsmmu cannot drive two host SMMUs: the error names both */
static void test_two_host_smmus(void)
{
    AccelFixture f;
    SimhostOpts o = SIMHOST_OPTS_DEFAULT;

    if (!have_simhost()) {
        return;
    }
    o.num_smmus = 2;
    o.num_devs = 2;
    o.dev_smmu[1] = 1;
    accel_start(&f, &o, NULL);
}

/*
 * An emulated device shares the accel vsmmu and its stream table: the
 * software stage 1 serves it, the host serves the assigned one.
 */
static void test_emulated_beside(void)
{
    AccelFixture f;
    SimhostOpts o = SIMHOST_OPTS_DEFAULT;
    uint64_t src, dst[2];

    if (!have_simhost()) {
        return;
    }
    accel_start(&f, &o, VSMMU_QTEST_TESTDEV);
    accel_s1_setup(&f);
    src = vsmmu_alloc(f.t, 4096, 4096);
    dst[0] = vsmmu_alloc(f.t, 4096, 4096);
    dst[1] = vsmmu_alloc(f.t, 4096, 4096);
    fill_pattern(f.t, src, 4096, 5);
    vsmmu_pt_map(&f.pt, IOVA_A, src, 4096, VSMMU_PT_READ);
    vsmmu_pt_map(&f.pt, IOVA_B, dst[0], 4096, VSMMU_PT_WRITE);
    vsmmu_pt_map(&f.pt, IOVA_B + 4096, dst[1], 4096, VSMMU_PT_WRITE);

    /* The assigned device, through the host */
    g_assert_cmpuint(status_code(vsmmu_testdev_copy(f.t, IOVA_A, IOVA_B,
                                                    4096)), ==, 0);
    g_assert_true(check_pattern(f.t, dst[0], 4096, 5));

    /*
     * The emulated one, same CD and tables, through QEMU. Rediscovery maps
     * its BAR where the first device's was: stop that one decoding first.
     */
    qpci_config_writew(f.t->dev, PCI_COMMAND, 0);
    f.t->want_devfn = VSMMU_QTEST_TESTDEV_SID;
    vsmmu_qtest_rediscover(f.t);
    g_assert_cmphex(f.t->sid, ==, VSMMU_QTEST_TESTDEV_SID);
    vsmmu_ste_write(f.t, f.t->sid, f.ste);
    g_assert_cmpuint(vsmmu_cmdq_issue_sync(f.t,
                     vsmmu_cmd_cfgi_ste(f.t->sid, true)), ==, 0);
    g_assert_cmpuint(status_code(vsmmu_testdev_copy(f.t, IOVA_A,
                                                    IOVA_B + 4096, 4096)),
                     ==, 0);
    g_assert_true(check_pattern(f.t, dst[1], 4096, 5));
    g_assert_cmpuint(simhost_calls(f.sh, SIMHOST_K_VDEVICE_ALLOC), ==, 1);
    accel_end(&f);
}

/*
 * 100 hot-plug/unplug cycles behind a root port whose secondary bus the
 * "guest" numbered 1: a vDEVICE with vSID 01:00.0 each time, and every
 * object the plug made is gone after the unplug.
 */
static void test_hotplug_cycles(void)
{
    AccelFixture f;
    SimhostOpts o = SIMHOST_OPTS_DEFAULT;
    QPCIDevice *rp;
    unsigned live;

    if (!have_simhost()) {
        return;
    }
    o.num_devs = 2;
    o.cold_plug_mask = 1;
    accel_start(&f, &o, "-device pcie-root-port,id=rp0,chassis=1,addr=8.0");
    rp = qpci_device_find(&f.t->pcibus.bus, QPCI_DEVFN(8, 0));
    g_assert_nonnull(rp);
    qpci_config_writeb(rp, PCI_SECONDARY_BUS, 1);
    qpci_config_writeb(rp, PCI_SUBORDINATE_BUS, 1);
    live = simhost_live_objects(f.sh);

    for (int i = 0; i < 100; i++) {
        QDict *resp;

        /*
         * QEMU closes a device's fd when it finalizes it, so each plug
         * gets its own copy, passed over QMP as a management layer would
         */
        resp = qtest_qmp_fds(f.sh->qts, &f.sh->dev_fd[1], 1,
                             "{'execute': 'getfd', 'arguments': "
                             "{'fdname': 'dev1'}}");
        g_assert_false(qdict_haskey(resp, "error"));
        qobject_unref(resp);
        resp = qtest_qmp(f.sh->qts, "{'execute': 'device_add', 'arguments': "
                         "{'driver': 'vfio-pci', 'id': 'simhost-dev1', "
                         "'fd': 'dev1', 'iommufd': 'simhost-iommufd', "
                         "'bus': 'rp0'}}");
        g_assert_false(qdict_haskey(resp, "error"));
        qobject_unref(resp);
        g_assert_cmpuint(simhost_calls(f.sh, SIMHOST_K_VDEVICE_ALLOC), ==,
                         2 + i);
        g_assert_cmphex(f.sh->ctl->dev_vsid[1], ==, 0x100);
        g_assert_cmpuint(simhost_live_objects(f.sh), >, live);
        resp = qtest_qmp(f.sh->qts, "{'execute': 'device_del', 'arguments':"
                         " {'id': 'simhost-dev1'}}");
        g_assert_false(qdict_haskey(resp, "error"));
        qobject_unref(resp);
        qtest_qmp_eventwait(f.sh->qts, "DEVICE_DELETED");
        g_assert_cmpuint(simhost_live_objects(f.sh), ==, live);
    }
    g_free(rp);
    accel_end(&f);
}

static const char *migrate_status(QTestState *qts)
{
    static char status[32];
    QDict *resp = qtest_qmp(qts, "{'execute': 'query-migrate'}");
    QDict *ret = qdict_get_qdict(resp, "return");

    g_strlcpy(status, qdict_haskey(ret, "status") ?
              qdict_get_str(ret, "status") : "none", sizeof(status));
    qobject_unref(resp);
    return status;
}

/*
 * Migration is blocked while an assigned device is attached, with the
 * reason; without one the accel vsmmu is the emulated model and migrates.
 */
static void test_migration_blocked(void)
{
    AccelFixture f;
    SimhostOpts o = SIMHOST_OPTS_DEFAULT;
    QDict *resp;
    char *info;

    if (!have_simhost()) {
        return;
    }
    o.cold_plug_mask = 0;
    accel_start(&f, &o, ACCEL_ROOT_PORT);
    accel_number_root_port(&f);
    simhost_device_add(f.sh, 0, "{'bus': 'rp0'}");
    resp = qtest_qmp(f.sh->qts, "{'execute': 'migrate', 'arguments': "
                     "{'uri': 'exec:cat > /dev/null'}}");
    /* VFIO's own blocker may be the one reported; ours is in the info */
    g_assert_true(qdict_haskey(resp, "error"));
    qobject_unref(resp);
    info = hmp_info(&f);
    g_assert_nonnull(strstr(info, "migration: vsmmu vsmmu0: accel=on with "
                            "assigned device simhost-dev0"));
    g_free(info);

    qtest_qmp_device_del(f.sh->qts, "simhost-dev0");
    resp = qtest_qmp(f.sh->qts, "{'execute': 'migrate', 'arguments': "
                     "{'uri': 'exec:cat > /dev/null'}}");
    g_assert_false(qdict_haskey(resp, "error"));
    qobject_unref(resp);
    info = hmp_info(&f);
    g_assert_nonnull(strstr(info, "migration: possible"));
    g_free(info);
    for (int i = 0; i < 3000 && strcmp(migrate_status(f.sh->qts),
                                       "completed"); i++) {
        g_assert_cmpstr(migrate_status(f.sh->qts), !=, "failed");
        g_usleep(10 * 1000);
    }
    g_assert_cmpstr(migrate_status(f.sh->qts), ==, "completed");
    accel_end(&f);
}

/* System reset: back to GBPA bypass, nothing leaks */
static void test_reset(void)
{
    AccelFixture f;
    unsigned kind;
    uint64_t vste[2];

    if (!have_simhost()) {
        return;
    }
    accel_start_default(&f);
    accel_s1_setup(&f);
    qtest_system_reset(f.sh->qts);
    g_assert_cmpuint(simhost_attached(f.sh, 0, &kind, vste), !=, 0);
    g_assert_cmphex((vste[0] >> 1) & 7, ==, 4);   /* Config = bypass */
    accel_end(&f);
}

static const struct {
    const char *path;
    GTestFunc fn;
    const char *fails_with;     /* QEMU must refuse, saying this */
} tests[] = {
    { "attach/cold", test_attach_cold },
    { "dma/gbpa", test_dma_gbpa_bypass },
    { "dma/s1-nested", test_s1_nested_dma },
    { "inval/batched", test_tlbi_batched },
    { "inval/unbatched", test_tlbi_unbatched },
    { "inval/host-failure", test_inval_failure },
    { "ste/bad-ste-event", test_bad_ste_event },
    { "ste/host-refuses", test_host_refuses_ste },
    { "vevent/forwarded", test_vevent_forwarded },
    { "vevent/lost", test_vevent_lost },
    { "msi/window-identity", test_msi_identity },
    { "msi/window-not-mapped", test_msi_not_mapped },
    { "host/mismatch", test_host_mismatch,
      "*IDR3.RIL: the vsmmu advertises 1, the host SMMU of device "
      "simhost-dev0 has 0*" },
    { "host/mismatch-alt", test_host_mismatch_alt,
      "*the vsmmu advertises*host SMMU*" },
    { "auto/cold", test_auto_cold },
    { "auto/explicit-no-device", test_auto_explicit_no_device },
    { "auto/hot-first", test_auto_hot_first },
    { "auto/hot-after-probe-refused", test_auto_hot_after_probe_refused },
    { "auto/hot-after-probe-reset", test_auto_hot_after_probe_reset },
    { "auto/not-frozen", test_auto_not_frozen },
    { "host/qemu-smmuv3", test_host_qemu_smmuv3 },
    { "host/two-smmus", test_two_host_smmus,
      "*simhost-dev1*different host SMMU*simhost-dev0*" },
    { "emulated-beside", test_emulated_beside },
    { "hotplug/100-cycles", test_hotplug_cycles },
    { "migration-blocked", test_migration_blocked },
    { "reset", test_reset },
};

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    for (int i = 0; i < ARRAY_SIZE(tests); i++) {
        g_autofree char *path = g_strdup_printf("/vsmmu-accel/%s",
                                                tests[i].path);

        if (tests[i].fails_with) {
            vsmmu_qtest_add_isolated_fail(path, tests[i].fn, ACCEL_TIMEOUT_S,
                                          tests[i].fails_with);
        } else {
            vsmmu_qtest_add_isolated_func(path, tests[i].fn,
                                          ACCEL_TIMEOUT_S);
        }
    }
    return g_test_run();
}
