/*
 * qtest support: the checks the vsmmu qtests share
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qobject/qdict.h"
#include "vsmmu-qtest-check.h"

uint8_t vsmmu_pattern_byte(uint64_t i, uint8_t seed)
{
    return seed ^ (i * 7) ^ (i >> 9) ^ (i >> 17);
}

void vsmmu_fill_pattern(VsmmuQtest *t, uint64_t pa, uint64_t len,
                        uint8_t seed, uint64_t off)
{
    g_autofree uint8_t *buf = g_malloc(len);

    for (uint64_t i = 0; i < len; i++) {
        buf[i] = vsmmu_pattern_byte(off + i, seed);
    }
    qtest_memwrite(t->qts, pa, buf, len);
}

bool vsmmu_check_pattern(VsmmuQtest *t, uint64_t pa, uint64_t len,
                         uint8_t seed, uint64_t off)
{
    g_autofree uint8_t *buf = g_malloc(len);

    qtest_memread(t->qts, pa, buf, len);
    for (uint64_t i = 0; i < len; i++) {
        uint8_t want = vsmmu_pattern_byte(off + i, seed);

        if (buf[i] != want) {
            g_printerr("pattern 0x%x mismatch at PA 0x%" PRIx64 ": "
                       "0x%02x, expected 0x%02x\n", seed, pa + i, buf[i],
                       want);
            return false;
        }
    }
    return true;
}

bool vsmmu_check_byte(QTestState *qts, uint64_t pa, uint64_t len,
                      uint8_t val)
{
    g_autofree uint8_t *buf = g_malloc(len);

    qtest_memread(qts, pa, buf, len);
    for (uint64_t i = 0; i < len; i++) {
        if (buf[i] != val) {
            g_printerr("PA 0x%" PRIx64 " holds 0x%02x, expected 0x%02x\n",
                       pa + i, buf[i], val);
            return false;
        }
    }
    return true;
}

void vsmmu_assert_status_ok(uint64_t status)
{
    g_assert_cmphex(status, ==, VSMMU_TESTDEV_STATUS_OK);
}

void vsmmu_assert_status_fault(VsmmuQtest *t, uint64_t status, uint64_t iova)
{
    g_assert_cmpuint(vsmmu_testdev_status_code(status), ==,
                     VSMMU_TESTDEV_STATUS_DMA_ERROR);
    g_assert_cmpuint(vsmmu_testdev_status_nfailed(status), ==, 1);
    g_assert_cmphex(vsmmu_testdev_readq(t, A_TESTDEV_ERR_ADDR), ==, iova);
}

void vsmmu_sync_none(VsmmuQtest *t)
{
    g_assert_cmpuint(vsmmu_cmdq_issue(t, vsmmu_cmd_sync(CMD_SYNC_SIG_NONE,
                                                        0, 0)),
                     ==, CERROR_NONE);
}

void vsmmu_issue_sync(VsmmuQtest *t, VsmmuCmd cmd)
{
    g_assert_cmpuint(vsmmu_cmdq_issue_sync(t, cmd), ==, CERROR_NONE);
}

void vsmmu_expect_event_sid(VsmmuQtest *t, uint32_t sid, unsigned id,
                            VsmmuEvent *ev)
{
    VsmmuEvent local;

    ev = ev ? ev : &local;
    vsmmu_sync_none(t);
    vsmmu_evtq_expect(t, ev);
    g_assert_cmphex(vsmmu_evt_id(ev), ==, id);
    g_assert_cmphex(vsmmu_evt_sid(ev), ==, sid);
    g_assert_cmpuint(FIELD_EX64(ev->word[0], EVT0, SSV), ==, 0);
    vsmmu_evtq_expect_none(t);
}

void vsmmu_expect_event(VsmmuQtest *t, unsigned id, VsmmuEvent *ev)
{
    vsmmu_expect_event_sid(t, t->sid, id, ev);
}

void vsmmu_expect_fault(VsmmuQtest *t, unsigned id, uint64_t iova,
                        bool read)
{
    VsmmuEvent ev;

    vsmmu_expect_event(t, id, &ev);
    g_assert_cmphex(vsmmu_evt_input_addr(&ev), ==, iova);
    g_assert_cmpuint(FIELD_EX64(ev.word[1], EVT1, RNW), ==, read);
    g_assert_cmpuint(FIELD_EX64(ev.word[1], EVT1, S2), ==, 0);
    g_assert_cmpuint(FIELD_EX64(ev.word[1], EVT1, STALL), ==, 0);
}

void vsmmu_expect_no_event(VsmmuQtest *t)
{
    vsmmu_sync_none(t);
    vsmmu_evtq_expect_none(t);
}

void vsmmu_assert_alive(VsmmuQtest *t)
{
    QDict *rsp = qtest_qmp(t->qts, "{ 'execute': 'query-status' }");

    g_assert_true(qdict_haskey(rsp, "return"));
    qobject_unref(rsp);
    /* every SMMUv3 has IDR1 != 0 (the queue and StreamID sizes) */
    g_assert_cmphex(vsmmu_readl(t, A_IDR1), !=, 0);
}
