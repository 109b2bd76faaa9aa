/*
 * vsmmu: a circular queue in guest memory, as the command engine and the
 * event queue work on it (the CMDQ, the EVENTQ, each Tegra241 VCMDQ), and
 * the command engine's runner of one (vsmmu-cmdq.c). Their own header
 * so that the CMDQV state (cmdqv.h, included by vsmmu.h) can hold one of
 * each per VCMDQ.
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

/*
 * The command engine's handle on one command queue (the CMDQ or a
 * VCMDQ): a guest write runs one bounded slice, a bottom half the rest
 * (docs/security.md, rule 5). See vsmmu_cmdq_kick().
 */
typedef struct VsmmuCmdqRunner {
    struct VsmmuState *s;
    const struct VsmmuCmdQueueOps *ops;
    VsmmuQueue *q;
    QEMUBH *bh;                  /* runs the next slice */
    bool running;                /* a slice is running: re-entry defers */
} VsmmuCmdqRunner;

#endif /* HW_ARM_VSMMU_QUEUE_H */
