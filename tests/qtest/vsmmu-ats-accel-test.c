/*
 * qtests of PCIe ATS with the accelerated vsmmu, against the simulated
 * host (tests/simhost): the guest's ATC_INV reaches the host in the same
 * IOMMU_HWPT_INVALIDATE as the TLBIs around it, carrying the virtual
 * StreamID the host replaces with the physical one; STE.EATS reaches the
 * host (physical ATS on); a device the host does no ATS for is plugged
 * with ATS off: its ATC_INVs complete in the vsmmu and never reach the
 * host.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qobject/qdict.h"
#include "vsmmu-accel-fixture.h"

#define DEV1_SID        0x18        /* device 1 at 03.0 */
#define OP(cmd)         ((unsigned)((cmd)[0] & 0xff))
#define SID(cmd)        ((uint32_t)((cmd)[0] >> 32))

static uint64_t atc_invs(AccelFixture *f)
{
    QDict *rsp = qtest_qmp(f->sh->qts, "{ 'execute': 'qom-get', "
                           "'arguments': { 'path': "
                           "'/machine/peripheral/vsmmu0', "
                           "'property': 'x-stats-atc-invs' } }");
    uint64_t val;

    g_assert_true(qdict_haskey(rsp, "return"));
    val = qdict_get_int(rsp, "return");
    qobject_unref(rsp);
    return val;
}

/* Command @back from the end of what the host's "hardware" executed */
static const uint64_t *host_cmd(AccelFixture *f, unsigned back)
{
    SimhostCtl *c = f->sh->ctl;

    g_assert_cmpuint(back, <, SIMHOST_INVAL_LOG);
    g_assert_cmpuint(c->inval_log_head, >, back);
    return c->inval_log[(c->inval_log_head - 1 - back) % SIMHOST_INVAL_LOG];
}

/* The device's STE again with EATS = 0b01 (Linux: ATS enabled for it) */
static void install_eats(AccelFixture *f, uint32_t sid)
{
    f->ste[1] = FIELD_DP64(f->ste[1], STE1, EATS, 1);
    vsmmu_ste_write(f->t, sid, f->ste);
    g_assert_cmpuint(vsmmu_cmdq_issue_sync(f->t, vsmmu_cmd_cfgi_ste(sid,
                                                                    true)),
                     ==, CERROR_NONE);
}

/*
 * A Linux-like unmap of two pages: TLBI + ATC_INV per page, then
 * CMD_SYNC: one ioctl with the four commands, the ATC_INVs carrying the
 * vSID (0x10; the host knows it and puts its pSID 0x100 in their place),
 * their address and span untouched; physical ATS on from the STE.
 */
static void test_forward_batched(void)
{
    AccelFixture f;
    SimhostOpts o = SIMHOST_OPTS_DEFAULT;
    VsmmuCmd list[5];
    uint64_t inval, a0;

    if (!have_simhost()) {
        return;
    }
    o.dev_ats[0] = true;
    accel_start(&f, &o, ",ats=on");
    accel_s1_setup(&f);
    g_assert_cmpuint(f.sh->ctl->dev_ats_enabled[0], ==, 0);
    install_eats(&f, f.t->sid);
    g_assert_cmpuint(f.sh->ctl->dev_ats_enabled[0], ==, 1);
    g_assert_cmphex(f.t->sid, !=, f.sh->ctl->dev[0].sid);

    list[0] = vsmmu_cmd_tlbi_nh_va(TEST_ASID, IOVA_A, true);
    list[1] = vsmmu_cmd_atc_inv(f.t->sid, IOVA_A, 0);
    list[2] = vsmmu_cmd_tlbi_nh_va(TEST_ASID, IOVA_A + 0x1000, true);
    list[3] = vsmmu_cmd_atc_inv(f.t->sid, IOVA_A + 0x1000, 0);
    list[4] = vsmmu_cmd_sync(CMD_SYNC_SIG_NONE, 0, 0);
    inval = simhost_calls(f.sh, SIMHOST_K_HWPT_INVALIDATE);
    a0 = atc_invs(&f);
    vsmmu_cmdq_push_list(f.t, list, 5);
    g_assert_cmpuint(vsmmu_cmdq_wait(f.t), ==, CERROR_NONE);

    g_assert_cmpuint(simhost_calls(f.sh, SIMHOST_K_HWPT_INVALIDATE) - inval,
                     ==, 1);
    g_assert_cmpuint(simhost_fails(f.sh, SIMHOST_K_HWPT_INVALIDATE), ==, 0);
    g_assert_cmpuint(f.sh->ctl->inval_last_num, ==, 4);
    g_assert_cmphex(OP(host_cmd(&f, 3)), ==, CMD_TLBI_NH_VA);
    g_assert_cmphex(OP(host_cmd(&f, 2)), ==, CMD_ATC_INV);
    g_assert_cmphex(OP(host_cmd(&f, 1)), ==, CMD_TLBI_NH_VA);
    g_assert_cmphex(OP(host_cmd(&f, 0)), ==, CMD_ATC_INV);
    for (unsigned i = 0; i <= 2; i += 2) {
        const uint64_t *atc = host_cmd(&f, i);

        g_assert_cmphex(SID(atc), ==, f.sh->ctl->dev[0].sid);
        g_assert_cmphex(FIELD_EX64(atc[1], CMD1, ADDR) << 12, ==,
                        IOVA_A + (i ? 0 : 0x1000));
        g_assert_cmpuint(FIELD_EX64(atc[1], CMD1, ATC_SIZE), ==, 0);
    }
    g_assert_cmpuint(atc_invs(&f) - a0, ==, 2);
    accel_end(&f);
}

/*
 * Two devices, the host doing ATS for the first only: both plug (with a
 * warning for the second), and of a batch with an ATC_INV for each, only
 * the first's reaches the host; the guest's CMD_SYNC completes.
 */
static void test_host_no_ats(void)
{
    AccelFixture f;
    SimhostOpts o = SIMHOST_OPTS_DEFAULT;
    VsmmuCmd list[4];
    uint64_t inval;

    if (!have_simhost()) {
        return;
    }
    o.num_devs = 2;
    o.dev_ats[0] = true;
    accel_start(&f, &o, ",ats=on");
    g_assert_cmpuint(simhost_calls(f.sh, SIMHOST_K_VDEVICE_ALLOC), ==, 2);
    g_assert_cmpuint(FIELD_EX32(vsmmu_readl(f.t, A_IDR0), IDR0, ATS), ==, 1);
    accel_s1_setup(&f);
    install_eats(&f, f.t->sid);
    install_eats(&f, DEV1_SID);
    g_assert_cmpuint(f.sh->ctl->dev_ats_enabled[0], ==, 1);
    g_assert_cmpuint(f.sh->ctl->dev_ats_enabled[1], ==, 0);

    list[0] = vsmmu_cmd_tlbi_nh_va(TEST_ASID, IOVA_A, true);
    list[1] = vsmmu_cmd_atc_inv(DEV1_SID, IOVA_A, 0);
    list[2] = vsmmu_cmd_atc_inv(f.t->sid, IOVA_A, 0);
    list[3] = vsmmu_cmd_sync(CMD_SYNC_SIG_NONE, 0, 0);
    inval = simhost_calls(f.sh, SIMHOST_K_HWPT_INVALIDATE);
    vsmmu_cmdq_push_list(f.t, list, 4);
    g_assert_cmpuint(vsmmu_cmdq_wait(f.t), ==, CERROR_NONE);
    g_assert_cmpuint(simhost_calls(f.sh, SIMHOST_K_HWPT_INVALIDATE) - inval,
                     ==, 1);
    g_assert_cmpuint(f.sh->ctl->inval_last_num, ==, 2);
    g_assert_cmphex(OP(host_cmd(&f, 0)), ==, CMD_ATC_INV);
    g_assert_cmphex(SID(host_cmd(&f, 0)), ==, f.sh->ctl->dev[0].sid);

    /* the second device's ATC_INV alone: no ioctl at all */
    inval = simhost_calls(f.sh, SIMHOST_K_HWPT_INVALIDATE);
    g_assert_cmpuint(vsmmu_cmdq_issue_sync(f.t, vsmmu_cmd_atc_inv(
                         DEV1_SID, 0, 52)), ==, CERROR_NONE);
    g_assert_cmpuint(simhost_calls(f.sh, SIMHOST_K_HWPT_INVALIDATE) - inval,
                     ==, 0);
    g_assert_cmpuint(simhost_fails(f.sh, SIMHOST_K_HWPT_INVALIDATE), ==, 0);
    accel_end(&f);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    /* each in a process of its own, with a time limit */
    vsmmu_qtest_add_isolated_func("/vsmmu-ats-accel/forward-batched",
                                  test_forward_batched, ACCEL_TIMEOUT_S);
    vsmmu_qtest_add_isolated_func("/vsmmu-ats-accel/host-no-ats",
                                  test_host_no_ats, ACCEL_TIMEOUT_S);
    return g_test_run();
}
