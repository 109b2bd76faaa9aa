/*
 * vsmmu-ats-testdev: a PCIe endpoint with an ATS capability and a small
 * ATC, register layout shared by the device model and the qtests.
 *
 * It sends ATS Translation Requests through QEMU's PCI ATS interface
 * (pci_ats_request_translation()), keeps the completions in its ATC, reads
 * memory through them, and drops entries when its device-IOTLB notifier
 * hears of an invalidation (the guest's ATC_INV). The notifier is
 * registered while the guest has ATS enabled in the capability (Control.E),
 * as a real function caches translations only then.
 *
 * BAR0 is 4 KiB of 64-bit little-endian registers (4- and 8-byte accesses).
 * Commands run synchronously inside the write to CMD.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef HW_ARM_VSMMU_ATS_TESTDEV_H
#define HW_ARM_VSMMU_ATS_TESTDEV_H

#include "hw/registerfields.h"

#define TYPE_VSMMU_ATS_TESTDEV          "vsmmu-ats-testdev"

#define VSMMU_ATS_TESTDEV_VENDOR_ID     0x1234
#define VSMMU_ATS_TESTDEV_DEVICE_ID     0x5a5b
#define VSMMU_ATS_TESTDEV_BAR_SIZE      0x1000
/* 'VSAT' in little-endian ASCII */
#define VSMMU_ATS_TESTDEV_ID            0x54415356
/* Extended configuration space offset of the ATS capability */
#define VSMMU_ATS_TESTDEV_ATS_CAP       0x100
/* Entries of the ATC, and of one Translation Completion at most */
#define VSMMU_ATS_TESTDEV_ATC_SIZE      8

REG64(ATSTD_ID,         0x00)   /* RO */
REG64(ATSTD_ADDR,       0x08)   /* untranslated address */
REG64(ATSTD_LEN,        0x10)   /* TRANSLATE: bytes */
REG64(ATSTD_FLAGS,      0x18)
    FIELD(ATSTD_FLAGS, NO_WRITE, 0, 1)      /* ask for read-only */
REG64(ATSTD_CMD,        0x20)   /* WO: writing runs a command */
REG64(ATSTD_STATUS,     0x28)   /* RO: outcome of the last command */
REG64(ATSTD_NRESULTS,   0x30)   /* RO: entries of the last completion */
REG64(ATSTD_ERR_COUNT,  0x38)   /* RO: its entries without access */
REG64(ATSTD_RES_IOVA,   0x40)   /* RO: its first entry */
REG64(ATSTD_RES_PA,     0x48)
REG64(ATSTD_RES_MASK,   0x50)
REG64(ATSTD_RES_PERM,   0x58)   /* IOMMUAccessFlags: 1 R, 2 W */
REG64(ATSTD_ATC_VALID,  0x60)   /* RO: valid ATC entries */
REG64(ATSTD_INV_COUNT,  0x68)   /* RO: invalidations heard */
REG64(ATSTD_INV_IOVA,   0x70)   /* RO: the last one's range */
REG64(ATSTD_INV_MASK,   0x78)
REG64(ATSTD_DATA,       0x80)   /* RO: what READ read */
REG64(ATSTD_TR_COUNT,   0x88)   /* RO: Translation Requests sent */

/* ATSTD_CMD */
#define VSMMU_ATSTD_CMD_TRANSLATE   1   /* [ADDR, +LEN) into the ATC */
#define VSMMU_ATSTD_CMD_READ        2   /* 8 bytes at ADDR via the ATC */
#define VSMMU_ATSTD_CMD_FLUSH       3   /* drop the whole ATC */

/* ATSTD_STATUS */
#define VSMMU_ATSTD_OK              0
#define VSMMU_ATSTD_UR              1   /* Unsupported Request */
#define VSMMU_ATSTD_CA              2   /* Completer Abort */
#define VSMMU_ATSTD_NO_ACCESS       3   /* READ: the translation has no R */
#define VSMMU_ATSTD_ERROR           4   /* any other failure */
#define VSMMU_ATSTD_BAD_CMD         5

#endif /* HW_ARM_VSMMU_ATS_TESTDEV_H */
