/*
 * qtests of the accelerated vsmmu when the host says no: every iommufd
 * or VFIO call the vsmmu makes is failed once by the simulated host
 * (tests/simhost), and each test checks what the guest or the user sees
 * (an architected error, or a device_add error naming the device), that
 * QEMU keeps running and recovers, and that no iommufd object leaks.
 * Each test runs in a process of its own with a time limit.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qobject/qdict.h"
#include "vsmmu-accel-fixture.h"

/* Fail the next @count calls of @kind (simhost_inject fails one) */
static void inject_many(Simhost *sh, SimhostKind kind, unsigned count,
                        int err)
{
    for (int i = 0; i < SIMHOST_MAX_INJECT; i++) {
        SimhostInject *j = &sh->ctl->inject[i];

        if (!qatomic_read(&j->count)) {
            j->kind = kind;
            j->skip = 0;
            j->err = err;
            j->fired = 0;
            qatomic_set(&j->count, count);
            return;
        }
    }
    g_assert_not_reached();
}

static void assert_qemu_alive(Simhost *sh)
{
    QDict *resp = qtest_qmp(sh->qts, "{'execute': 'query-status'}");

    g_assert_true(qdict_haskey(resp, "return"));
    qobject_unref(resp);
}

/*
 * device_add of device @n behind rp0 with a fresh copy of its fd (QEMU
 * closes the fd of a device it gives up); returns the error description
 * or NULL on success.
 */
static char *try_device_add(Simhost *sh, unsigned n)
{
    g_autofree char *id = g_strdup_printf("simhost-dev%u", n);
    QDict *resp;
    char *desc = NULL;

    resp = qtest_qmp_fds(sh->qts, &sh->dev_fd[n], 1,
                         "{'execute': 'getfd', 'arguments': "
                         "{'fdname': 'devfd'}}");
    g_assert_false(qdict_haskey(resp, "error"));
    qobject_unref(resp);
    resp = qtest_qmp(sh->qts, "{'execute': 'device_add', 'arguments': "
                     "{'driver': 'vfio-pci', 'id': %s, "
                     "'fd': 'devfd', 'iommufd': 'simhost-iommufd', "
                     "'bus': 'rp0'}}", id);
    if (qdict_haskey(resp, "error")) {
        desc = g_strdup(qdict_get_str(qdict_get_qdict(resp, "error"),
                                      "desc"));
    }
    qobject_unref(resp);
    return desc;
}

/*
 * Hot-plug refused because of @kind (its @nth call fails): the error names
 * the device, QEMU runs on with no object left behind, and the next try
 * succeeds.
 */
static void hotplug_refused(SimhostKind kind, unsigned nth, int err,
                            const char *expect)
{
    AccelFixture f;
    SimhostOpts o = SIMHOST_OPTS_DEFAULT;
    g_autofree char *desc = NULL;
    g_autofree char *again = NULL;
    unsigned live;

    o.cold_plug_mask = 0;
    accel_start(&f, &o, ACCEL_ROOT_PORT);
    accel_number_root_port(&f);
    live = simhost_live_objects(f.sh);
    simhost_inject(f.sh, kind, nth, err);
    desc = try_device_add(f.sh, 0);
    g_assert_cmpuint(simhost_inject_fired(f.sh, kind), ==, 1);
    g_assert_nonnull(desc);
    if (!strstr(desc, expect) || !strstr(desc, "simhost-dev0")) {
        g_test_message("error: %s", desc);
        g_test_fail();
    }
    assert_qemu_alive(f.sh);
    g_assert_cmpuint(simhost_live_objects(f.sh), ==, live);
    g_assert_cmpuint(simhost_attached(f.sh, 0, NULL, NULL), ==, 0);

    again = try_device_add(f.sh, 0);
    g_assert_null(again);
    g_assert_cmpuint(simhost_calls(f.sh, SIMHOST_K_VDEVICE_ALLOC) -
                     simhost_fails(f.sh, SIMHOST_K_VDEVICE_ALLOC), ==, 1);
    g_assert_cmpuint(simhost_attached(f.sh, 0, NULL, NULL), !=, 0);
    accel_end(&f);
}

static void test_viommu_alloc(void)
{
    if (have_simhost()) {
        hotplug_refused(SIMHOST_K_VIOMMU_ALLOC, 1, ENOMEM, "VIOMMU_ALLOC");
    }
}

/* HWPT_ALLOC 1 is VFIO's stage 2; 2 and 3 our abort and bypass domains */
static void test_abort_domain_alloc(void)
{
    if (have_simhost()) {
        hotplug_refused(SIMHOST_K_HWPT_ALLOC, 2, ENOMEM, "vsmmu");
    }
}

static void test_bypass_domain_alloc(void)
{
    if (have_simhost()) {
        hotplug_refused(SIMHOST_K_HWPT_ALLOC, 3, ENOMEM, "vsmmu");
    }
}

static void test_vdevice_alloc(void)
{
    if (have_simhost()) {
        hotplug_refused(SIMHOST_K_VDEVICE_ALLOC, 1, EBUSY, "VDEVICE_ALLOC");
    }
}

/*
 * A cold-plugged device the host refuses: QEMU stops with the reason (the
 * case must fail with the message, see main())
 */
static void test_viommu_alloc_cold(void)
{
    SimhostOpts o = SIMHOST_OPTS_DEFAULT;
    Simhost *sh;

    if (!have_simhost()) {
        return;
    }
    o.dev_props[0] = g_strdup("addr=2.0");
    sh = simhost_new(&o);
    simhost_inject(sh, SIMHOST_K_VIOMMU_ALLOC, 1, EOPNOTSUPP);
    simhost_qtest_start(sh, ACCEL_VSMMU);
}

/*
 * The host cannot switch the device to its new nested domain: C_BAD_STE
 * for the guest, the device aborts (never the old translation), the
 * domain is freed; the guest's next CFGI_STE works.
 */
static void test_attach_nested(void)
{
    AccelFixture f;
    VsmmuEvent ev;
    uint64_t vste[2], src, dst;
    unsigned live, kind;

    if (!have_simhost()) {
        return;
    }
    accel_start_default(&f);
    live = simhost_live_objects(f.sh);
    simhost_inject(f.sh, SIMHOST_K_VFIO_ATTACH, 1, EINVAL);
    accel_s1_setup(&f);
    g_assert_cmpuint(simhost_inject_fired(f.sh, SIMHOST_K_VFIO_ATTACH), ==,
                     1);
    vsmmu_evtq_expect(f.t, &ev);
    g_assert_cmphex(vsmmu_evt_id(&ev), ==, 0x04);       /* C_BAD_STE */
    g_assert_cmphex(vsmmu_evt_sid(&ev), ==, f.t->sid);
    g_assert_cmpuint(simhost_attached(f.sh, 0, &kind, vste), !=, 0);
    g_assert_cmphex((vste[0] >> 1) & 7, ==, 0);         /* abort */
    /* the refused nested domain is gone; the vEVENTQ is new */
    g_assert_cmpuint(simhost_live_objects(f.sh), ==, live + 1);

    src = vsmmu_alloc(f.t, 4096, 4096);
    dst = vsmmu_alloc(f.t, 4096, 4096);
    vsmmu_pt_map(&f.pt, IOVA_A, src, 4096, VSMMU_PT_READ);
    vsmmu_pt_map(&f.pt, IOVA_B, dst, 4096, VSMMU_PT_WRITE);
    fill_pattern(f.t, src, 4096, 4);
    g_assert_cmpuint(status_code(vsmmu_testdev_copy(f.t, IOVA_A, IOVA_B,
                                                    4096)), !=, 0);

    g_assert_cmpuint(vsmmu_cmdq_issue_sync(f.t,
                     vsmmu_cmd_cfgi_ste(f.t->sid, true)), ==, 0);
    g_assert_cmpuint(simhost_attached(f.sh, 0, &kind, vste), !=, 0);
    g_assert_cmphex(vste[0], ==, f.ste[0]);
    g_assert_cmpuint(status_code(vsmmu_testdev_copy(f.t, IOVA_A, IOVA_B,
                                                    4096)), ==, 0);
    g_assert_true(check_pattern(f.t, dst, 4096, 4));
    accel_end(&f);
}

/*
 * The guest turns the SMMU off (GBPA bypass) and the host cannot move the
 * device to the bypass domain: it aborts rather than keep the guest's
 * stage 1 that the guest just dropped.
 */
static void test_attach_bypass(void)
{
    AccelFixture f;
    uint64_t vste[2];
    unsigned kind;

    if (!have_simhost()) {
        return;
    }
    accel_start_default(&f);
    accel_s1_setup(&f);
    simhost_inject(f.sh, SIMHOST_K_VFIO_ATTACH, 1, ENOMEM);
    vsmmu_writel(f.t, A_CR0, vsmmu_readl(f.t, A_CR0) & ~R_CR0_SMMUEN_MASK);
    g_assert_cmpuint(simhost_inject_fired(f.sh, SIMHOST_K_VFIO_ATTACH), ==,
                     1);
    g_assert_cmpuint(simhost_attached(f.sh, 0, &kind, vste), !=, 0);
    g_assert_cmphex((vste[0] >> 1) & 7, ==, 0);         /* abort */
    assert_qemu_alive(f.sh);
    accel_end(&f);
}

/*
 * No vEVENTQ (the host refuses it twice: EVENTQEN, then SMMUEN): the
 * guest's event queue shows the overflow flag, since host faults may be
 * lost; re-enabling the queue tries again and events flow.
 */
static void test_veventq_alloc(void)
{
    AccelFixture f;
    VsmmuEvent ev;
    uint64_t evt[4] = { 0x10, 0, IOVA_A, 0 };
    uint64_t unforwarded;
    uint32_t cr0;

    if (!have_simhost()) {
        return;
    }
    accel_start_default(&f);
    inject_many(f.sh, SIMHOST_K_VEVENTQ_ALLOC, 1000, ENOMEM);
    accel_s1_setup(&f);
    g_assert_cmpuint(simhost_inject_fired(f.sh, SIMHOST_K_VEVENTQ_ALLOC), >=,
                     2);
    g_assert_cmpuint(FIELD_EX32(vsmmu_readl(f.t, A_EVENTQ_PROD),
                                QUEUE_INDEX, OVFLG), !=,
                     FIELD_EX32(vsmmu_readl(f.t, A_EVENTQ_CONS),
                                QUEUE_INDEX, OVFLG));
    /* the host has no queue to put a fault in */
    unforwarded = f.sh->ctl->events_unforwarded;
    g_assert_cmpint(simhost_host_event(f.sh, 0, evt), ==, -EOPNOTSUPP);
    g_assert_cmpuint(f.sh->ctl->events_unforwarded, ==, unforwarded + 1);

    simhost_inject_clear(f.sh);
    vsmmu_evtq_ack_overflow(f.t);
    cr0 = vsmmu_readl(f.t, A_CR0);
    vsmmu_writel(f.t, A_CR0, cr0 & ~R_CR0_EVENTQEN_MASK);
    vsmmu_writel(f.t, A_CR0, cr0);
    g_assert_cmpint(simhost_host_event(f.sh, 0, evt), ==, 0);
    vsmmu_evtq_expect(f.t, &ev);
    g_assert_cmphex(vsmmu_evt_id(&ev), ==, 0x10);
    accel_end(&f);
}

/* The host's own CMD_SYNC after the guest's TLBIs times out: CERROR_ILL */
static void test_inval_sync_timeout(void)
{
    AccelFixture f;
    VsmmuCmd list[5];
    uint32_t cons;

    if (!have_simhost()) {
        return;
    }
    accel_start_default(&f);
    accel_s1_setup(&f);
    cons = vsmmu_cmdq_cons(f.t);
    for (int i = 0; i < 4; i++) {
        list[i] = vsmmu_cmd_tlbi_nh_va(TEST_ASID, IOVA_A + i * 4096, true);
    }
    list[4] = vsmmu_cmd_sync(0, 0, 0);
    simhost_inject(f.sh, SIMHOST_K_INVAL_SYNC, 1, ETIMEDOUT);
    vsmmu_cmdq_push_list(f.t, list, 5);
    g_assert_cmpuint(vsmmu_cmdq_wait(f.t), ==, 1);      /* CERROR_ILL */
    g_assert_true(vsmmu_gerror_active(f.t) & R_GERROR_CMDQ_ERR_MASK);
    /* CONS on the command the host reported (the batch's last) */
    g_assert_cmpuint((vsmmu_cmdq_cons(f.t) - cons) & 0xff, ==, 3);
    assert_qemu_alive(f.sh);
    accel_end(&f);
}

/*
 * An ATC that does not answer (the host's CMD_SYNC after a batch with an
 * ATC_INV times out): CERROR_ATC_INV_SYNC on the guest's CMD_SYNC (CONS
 * on it), as the architecture reports ATC timeouts; the guest's retry of
 * the CMD_SYNC completes.
 */
static void test_atc_inv_timeout(void)
{
    AccelFixture f;
    SimhostOpts o = SIMHOST_OPTS_DEFAULT;
    VsmmuCmd list[4];
    uint32_t cons;
    uint64_t inval;

    if (!have_simhost()) {
        return;
    }
    o.dev_ats[0] = true;
    accel_start(&f, &o, NULL);
    g_assert_cmpuint(extract32(vsmmu_readl(f.t, A_IDR0), 10, 1), ==, 1);
    accel_s1_setup(&f);
    cons = vsmmu_cmdq_cons(f.t);
    list[0] = vsmmu_cmd_atc_inv(f.t->sid, 0, 52);
    list[1] = vsmmu_cmd_tlbi_nh_va(TEST_ASID, IOVA_A, true);
    list[2] = vsmmu_cmd_tlbi_nh_va(TEST_ASID, IOVA_B, true);
    list[3] = vsmmu_cmd_sync(0, 0, 0);
    inval = simhost_calls(f.sh, SIMHOST_K_HWPT_INVALIDATE);
    simhost_inject(f.sh, SIMHOST_K_INVAL_SYNC, 1, ETIMEDOUT);
    vsmmu_cmdq_push_list(f.t, list, 4);
    g_assert_cmpuint(vsmmu_cmdq_wait(f.t), ==, 3);  /* CERROR_ATC_INV_SYNC */
    g_assert_cmpuint((vsmmu_cmdq_cons(f.t) - cons) & 0xff, ==, 3);
    /* the host ran the batch (its sync timed out): nothing sent again */
    g_assert_cmpuint(simhost_calls(f.sh, SIMHOST_K_HWPT_INVALIDATE) - inval,
                     ==, 1);
    g_assert_cmpuint(f.sh->ctl->inval_last_num, ==, 3);
    /* the guest acknowledges; the CMD_SYNC runs again and completes */
    vsmmu_gerror_ack(f.t, R_GERROR_CMDQ_ERR_MASK);
    g_assert_cmpuint(vsmmu_cmdq_wait(f.t), ==, 0);
    g_assert_cmpuint((vsmmu_cmdq_cons(f.t) - cons) & 0xff, ==, 4);
    accel_end(&f);
}

static const struct {
    const char *path;
    GTestFunc fn;
    const char *fails_with;     /* QEMU must refuse, saying this */
} tests[] = {
    { "hotplug/viommu-alloc", test_viommu_alloc },
    { "hotplug/abort-domain-alloc", test_abort_domain_alloc },
    { "hotplug/bypass-domain-alloc", test_bypass_domain_alloc },
    { "hotplug/vdevice-alloc", test_vdevice_alloc },
    { "cold/viommu-alloc", test_viommu_alloc_cold,
      "*vsmmu: device simhost-dev0: IOMMU_VIOMMU_ALLOC*"
      "Operation not supported*" },
    { "ste/attach-nested", test_attach_nested },
    { "ste/attach-bypass", test_attach_bypass },
    { "eventq/veventq-alloc", test_veventq_alloc },
    { "inval/sync-timeout", test_inval_sync_timeout },
    { "inval/atc-timeout", test_atc_inv_timeout },
};

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    for (int i = 0; i < ARRAY_SIZE(tests); i++) {
        g_autofree char *path = g_strdup_printf("/vsmmu-accel-fail/%s",
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
