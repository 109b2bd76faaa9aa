/*
 * vsmmu: a circular queue in guest memory, as the command engine and the
 * event queue work on it (the CMDQ, the EVENTQ, each Tegra241 VCMDQ)
 *
 * Its own header so that the CMDQV state (cmdqv.h, included by vsmmu.h)
 * can hold one per VCMDQ.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef HW_ARM_VSMMU_QUEUE_H
#define HW_ARM_VSMMU_QUEUE_H

typedef struct VsmmuQueue {
    uint64_t base;               /* *_BASE as written: ADDR, LOG2SIZE, RA */
    uint32_t prod;               /* index and wrap bit, flags above */
    uint32_t cons;               /* index and wrap bit, flags above */
    uint8_t entry_size;          /* bytes per entry */
    uint8_t max_log2size;        /* IDR1 limit the model enforces */
} VsmmuQueue;

#endif /* HW_ARM_VSMMU_QUEUE_H */
