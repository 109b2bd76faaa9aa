/*
 * vsmmu-dma-testdev: a PCI device that issues DMA on request, register
 * layout shared by the device model and the qtests that drive it.
 *
 * BAR0 is 4 KiB of 64-bit little-endian registers (4- and 8-byte accesses).
 * Commands run synchronously inside the write to CMD; every access goes
 * through pci_dma_read/pci_dma_write, so whatever IOMMU sits in front of
 * the device translates (or faults) it.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef HW_ARM_VSMMU_DMA_TESTDEV_H
#define HW_ARM_VSMMU_DMA_TESTDEV_H

#include "hw/registerfields.h"

#define TYPE_VSMMU_DMA_TESTDEV          "vsmmu-dma-testdev"

#define VSMMU_DMA_TESTDEV_VENDOR_ID     0x1234
#define VSMMU_DMA_TESTDEV_DEVICE_ID     0x5a5a
#define VSMMU_DMA_TESTDEV_BAR_SIZE      0x1000

/* Value of the ID register: 'VSMD' in little-endian ASCII */
#define VSMMU_DMA_TESTDEV_ID            0x444d5356
/* Largest LEN accepted by COPY and FILL (the internal buffer) */
#define VSMMU_DMA_TESTDEV_MAX_LEN       (1024 * 1024)

REG64(TESTDEV_ID,         0x00)     /* RO */
REG64(TESTDEV_SRC,        0x08)     /* source IOVA */
REG64(TESTDEV_DST,        0x10)     /* destination IOVA */
REG64(TESTDEV_LEN,        0x18)     /* length in bytes */
REG64(TESTDEV_CMD,        0x20)     /* WO: writing runs a command */
    FIELD(TESTDEV_CMD, OP,         0, 8)
REG64(TESTDEV_STATUS,     0x28)     /* RO: outcome of the last command */
    FIELD(TESTDEV_STATUS, CODE,    0, 32)
    FIELD(TESTDEV_STATUS, NFAILED, 32, 32)
REG64(TESTDEV_ERR_ADDR,   0x30)     /* RO: first IOVA that failed */
REG64(TESTDEV_ITER,       0x38)     /* READ_SWEEP repetitions */
REG64(TESTDEV_STRIDE,     0x40)     /* READ_SWEEP step in bytes */
REG64(TESTDEV_PATTERN,    0x48)     /* FILL byte value (bits [7:0]) */
REG64(TESTDEV_DONE_COUNT, 0x50)     /* RO: commands completed */
REG64(TESTDEV_ELAPSED_NS, 0x58)     /* RO: host ns the last command took */

/* TESTDEV_CMD.OP */
#define VSMMU_TESTDEV_CMD_COPY          1
#define VSMMU_TESTDEV_CMD_READ_SWEEP    2
#define VSMMU_TESTDEV_CMD_FILL          3

/* TESTDEV_STATUS.CODE */
#define VSMMU_TESTDEV_STATUS_OK         0
#define VSMMU_TESTDEV_STATUS_DMA_ERROR  1
#define VSMMU_TESTDEV_STATUS_BAD_CMD    2   /* unknown op or bad LEN/STRIDE */

/* Reset values */
#define VSMMU_TESTDEV_ITER_RESET        1
#define VSMMU_TESTDEV_STRIDE_RESET      4096

#endif /* HW_ARM_VSMMU_DMA_TESTDEV_H */
