/*
 * qtest support: the checks the vsmmu qtests share. What a DMA of the
 * test device returned, which events the SMMU recorded, what guest memory
 * holds, and whether QEMU still answers. Each asserts (g_assert) or
 * returns false with the first difference printed.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef TESTS_QTEST_VSMMU_QTEST_CHECK_H
#define TESTS_QTEST_VSMMU_QTEST_CHECK_H

#include "vsmmu-qtest-lib.h"

/* ---- guest memory ------------------------------------------------------ */

/* Byte @i of the test pattern @seed: no period a page or table hides */
uint8_t vsmmu_pattern_byte(uint64_t i, uint8_t seed);
/* [pa, pa + len) := the pattern of @seed from its byte @off */
void vsmmu_fill_pattern(VsmmuQtest *t, uint64_t pa, uint64_t len,
                        uint8_t seed, uint64_t off);
/* Does [pa, pa + len) hold the pattern of @seed from its byte @off? */
bool vsmmu_check_pattern(VsmmuQtest *t, uint64_t pa, uint64_t len,
                         uint8_t seed, uint64_t off);
/* Does every byte of [pa, pa + len) hold @val? */
bool vsmmu_check_byte(QTestState *qts, uint64_t pa, uint64_t len,
                      uint8_t val);

/* ---- the test device's DMA ---------------------------------------------- */

void vsmmu_assert_status_ok(uint64_t status);
/* The DMA failed at one access, at @iova */
void vsmmu_assert_status_fault(VsmmuQtest *t, uint64_t status,
                               uint64_t iova);

/* ---- commands and events ------------------------------------------------ */

/* A CMD_SYNC without signal, consumed without error */
void vsmmu_sync_none(VsmmuQtest *t);
/* @cmd then CMD_SYNC, both consumed without error */
void vsmmu_issue_sync(VsmmuQtest *t, VsmmuCmd cmd);
/*
 * After a CMD_SYNC (which makes the records of terminated transactions
 * visible), exactly one event: of type @id, for StreamID @sid, without a
 * SubstreamID. @ev (may be NULL) receives it.
 */
void vsmmu_expect_event_sid(VsmmuQtest *t, uint32_t sid, unsigned id,
                            VsmmuEvent *ev);
/* The same for the test's own StreamID */
void vsmmu_expect_event(VsmmuQtest *t, unsigned id, VsmmuEvent *ev);
/*
 * The same, a stage-1 translation-related fault (F_TRANSLATION…) of a
 * read (@read) or write at @iova, not stalled
 */
void vsmmu_expect_fault(VsmmuQtest *t, unsigned id, uint64_t iova,
                        bool read);
/* After a CMD_SYNC, no event */
void vsmmu_expect_no_event(VsmmuQtest *t);

/* ---- QEMU --------------------------------------------------------------- */

/* QEMU answers QMP and the SMMU's register page answers reads */
void vsmmu_assert_alive(VsmmuQtest *t);

#endif /* TESTS_QTEST_VSMMU_QTEST_CHECK_H */
