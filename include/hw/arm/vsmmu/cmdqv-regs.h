/*
 * vsmmu: NVIDIA Tegra241 CMDQ-Virtualization (CMDQV) register layout
 *
 * Only layouts live here: offsets and fields, never behaviour. Offsets are
 * from the CMDQV MMIO base. The window is the config page, the two global
 * VCMDQ pages, then two logical pages per VINTF (VINTF i at 0x30000 +
 * 128 KiB i): 0x50000 bytes for the guest's one VINTF (VINTF0), more for
 * the host side with several (CMDQV_MMIO_SIZE_VINTFS).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef HW_ARM_VSMMU_CMDQV_REGS_H
#define HW_ARM_VSMMU_CMDQV_REGS_H

#include "hw/registerfields.h"

#define CMDQV_PAGE_SIZE         0x10000
#define CMDQV_CONFIG_PAGE       0x00000     /* global registers, VINTFs */
#define CMDQV_VCMDQ_PAGE0       0x10000     /* global VCMDQ q at 0x80 * q */
#define CMDQV_VCMDQ_PAGE1       0x20000
#define CMDQV_VINTF0_PAGE0      0x30000     /* VINTF0 LVCMDQ l at 0x80 * l */
#define CMDQV_VINTF0_PAGE1      0x40000
#define CMDQV_VINTF_PAGES       0x20000     /* page 0 and 1 of one VINTF */
#define CMDQV_VINTF_PAGE0(i)    (CMDQV_VINTF0_PAGE0 + CMDQV_VINTF_PAGES * (i))
#define CMDQV_VINTF_PAGE1(i)    (CMDQV_VINTF_PAGE0(i) + CMDQV_PAGE_SIZE)
/* The window with @n VINTFs; one VINTF (the guest's view): 0x50000 */
#define CMDQV_MMIO_SIZE_VINTFS(n) CMDQV_VINTF_PAGE0(n)
#define CMDQV_MMIO_SIZE         CMDQV_MMIO_SIZE_VINTFS(1)
#define CMDQV_VCMDQ_STRIDE      0x80

/* Limits of the register map: CMDQ_ERR_MAP and LVCMDQ_ERR_MAP are 128 bits */
#define CMDQV_MAX_VCMDQS        128
#define CMDQV_MAX_SIDS          16          /* SID_MATCH(s) 0x40..0x7c */
/* VINTF_ERR_MAP and VINTF_INT_MASK are 64 bits, CMDQ_ALLOC.VINTF 6 */
#define CMDQV_MAX_VINTFS        64

/* ---- config page ------------------------------------------------------- */

REG32(CMDQV_CONFIG, 0x0000)
    FIELD(CMDQV_CONFIG, CMDQV_EN,        0, 1)
REG32(CMDQV_PARAM, 0x0004)
    FIELD(CMDQV_PARAM, VER,              0, 4)
    FIELD(CMDQV_PARAM, NUM_VCMDQ_LOG2,   4, 4)
    FIELD(CMDQV_PARAM, NUM_VINTF_LOG2,   8, 4)
    FIELD(CMDQV_PARAM, NUM_SID_PER_VM_LOG2, 12, 4)
REG32(CMDQV_STATUS, 0x0008)
    FIELD(CMDQV_STATUS, CMDQV_ENABLED,   0, 1)
REG32(CMDQV_VINTF_ERR_MAP, 0x0014)          /* 64 bits, one per VINTF */
REG32(CMDQV_VINTF_INT_MASK, 0x001c)         /* 64 bits */
REG32(CMDQV_CMDQ_ERR_MAP, 0x0024)           /* (m) + 4 m, m = 0..3 */
REG32(CMDQV_CMDQ_ALLOC, 0x0200)             /* (q) + 4 q */
    FIELD(CMDQV_CMDQ_ALLOC, ALLOCATED,   0, 1)
    FIELD(CMDQV_CMDQ_ALLOC, LVCMDQ,      1, 7)
    FIELD(CMDQV_CMDQ_ALLOC, VINTF,      15, 6)

/* VINTF v at 0x1000 + 0x100 v; the guest has VINTF0 only */
#define CMDQV_VINTF0_BASE       0x1000
#define CMDQV_VINTF_SIZE        0x100
#define CMDQV_VINTF_BASE(v)     (CMDQV_VINTF0_BASE + CMDQV_VINTF_SIZE * (v))
REG32(VINTF_CONFIG, 0x00)
    FIELD(VINTF_CONFIG, EN,              0, 1)
    FIELD(VINTF_CONFIG, VMID,            1, 16)
    FIELD(VINTF_CONFIG, HYP_OWN,        17, 1)
REG32(VINTF_STATUS, 0x04)
    FIELD(VINTF_STATUS, ENABLED,         0, 1)
    FIELD(VINTF_STATUS, STATUS,          1, 3)
REG32(VINTF_SID_MATCH, 0x40)                /* (s) + 4 s */
    FIELD(VINTF_SID_MATCH, ENABLE,       0, 1)
    FIELD(VINTF_SID_MATCH, VIRT_SID,     1, 20)
REG32(VINTF_SID_REPLACE, 0x80)              /* (s) + 4 s */
    FIELD(VINTF_SID_REPLACE, PHYS_SID,   0, 20)
REG32(VINTF_LVCMDQ_ERR_MAP, 0xc0)           /* 64-bit (m) + 8 m, m = 0, 1 */

/* ---- VCMDQ page 0 (global q, or VINTF i logical l) ----------------------- */

REG32(VCMDQ_CONS, 0x00)
    FIELD(VCMDQ_CONS, ERR,              24, 7)
REG32(VCMDQ_PROD, 0x04)
REG32(VCMDQ_CONFIG, 0x08)
    FIELD(VCMDQ_CONFIG, EN,              0, 1)
REG32(VCMDQ_STATUS, 0x0c)
    FIELD(VCMDQ_STATUS, ENABLED,         0, 1)
REG32(VCMDQ_GERROR, 0x10)                   /* SMMU_GERROR's layout */
    FIELD(VCMDQ_GERROR, CMDQ_ERR,        0, 1)
    FIELD(VCMDQ_GERROR, MSI_CMDQ_ABT_ERR, 4, 1)
REG32(VCMDQ_GERRORN, 0x14)
/* The bits a VCMDQ's GERROR and GERRORN hold */
#define VCMDQ_GERROR_BITS       (R_VCMDQ_GERROR_CMDQ_ERR_MASK | \
                                 R_VCMDQ_GERROR_MSI_CMDQ_ABT_ERR_MASK)
#define CMDQV_VCMDQ_PAGE0_REGS  0x18

/* ---- VCMDQ page 1 -------------------------------------------------------- */

REG64(VCMDQ_BASE, 0x00)
    FIELD(VCMDQ_BASE, LOG2SIZE,          0, 5)
    FIELD(VCMDQ_BASE, ADDR,              5, 43)     /* bits [47:5] */
REG64(VCMDQ_CONS_INDX_BASE, 0x08)
#define CMDQV_VCMDQ_PAGE1_REGS  0x10

#endif /* HW_ARM_VSMMU_CMDQV_REGS_H */
