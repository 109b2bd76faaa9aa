/*
 * vsmmu: SMMUv3 programming interface, register layout (IHI 0070 §6.3)
 *
 * Only layouts live here: offsets and fields, never behaviour. AArch64
 * tables, no PRI queue.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef HW_ARM_VSMMU_REGS_H
#define HW_ARM_VSMMU_REGS_H

#include "hw/registerfields.h"

/* Two 64 KiB register pages: page 0 (control) and page 1 (queue pointers) */
#define VSMMU_PAGE_SIZE         0x10000
#define VSMMU_MMIO_SIZE         (2 * VSMMU_PAGE_SIZE)

REG32(IDR0, 0x0)
    FIELD(IDR0, S2P,          0, 1)
    FIELD(IDR0, S1P,          1, 1)
    FIELD(IDR0, TTF,          2, 2)
    FIELD(IDR0, COHACC,       4, 1)
    FIELD(IDR0, BTM,          5, 1)
    FIELD(IDR0, HTTU,         6, 2)
    FIELD(IDR0, DORMHINT,     8, 1)
    FIELD(IDR0, HYP,          9, 1)
    FIELD(IDR0, ATS,         10, 1)
    FIELD(IDR0, NS1ATS,      11, 1)
    FIELD(IDR0, ASID16,      12, 1)
    FIELD(IDR0, MSI,         13, 1)
    FIELD(IDR0, SEV,         14, 1)
    FIELD(IDR0, ATOS,        15, 1)
    FIELD(IDR0, PRI,         16, 1)
    FIELD(IDR0, VMW,         17, 1)
    FIELD(IDR0, VMID16,      18, 1)
    FIELD(IDR0, CD2L,        19, 1)
    FIELD(IDR0, VATOS,       20, 1)
    FIELD(IDR0, TTENDIAN,    21, 2)
    FIELD(IDR0, ATSRECERR,   23, 1)
    FIELD(IDR0, STALL_MODEL, 24, 2)
    FIELD(IDR0, TERM_MODEL,  26, 1)
    FIELD(IDR0, ST_LEVEL,    27, 2)
REG32(IDR1, 0x4)
    FIELD(IDR1, SIDSIZE,      0, 6)
    FIELD(IDR1, SSIDSIZE,     6, 5)
    FIELD(IDR1, PRIQS,       11, 5)
    FIELD(IDR1, EVENTQS,     16, 5)
    FIELD(IDR1, CMDQS,       21, 5)
    FIELD(IDR1, ATTR_PERMS_OVR, 26, 1)
    FIELD(IDR1, ATTR_TYPES_OVR, 27, 1)
    FIELD(IDR1, REL,         28, 1)
    FIELD(IDR1, QUEUES_PRESET, 29, 1)
    FIELD(IDR1, TABLES_PRESET, 30, 1)
    FIELD(IDR1, ECMDQ,       31, 1)
REG32(IDR2, 0x8)
REG32(IDR3, 0xc)
    FIELD(IDR3, HAD,          2, 1)
    FIELD(IDR3, PBHA,         3, 1)
    FIELD(IDR3, XNX,          4, 1)
    FIELD(IDR3, PPS,          5, 1)
    FIELD(IDR3, MPAM,         7, 1)
    FIELD(IDR3, FWB,          8, 1)
    FIELD(IDR3, STT,          9, 1)
    FIELD(IDR3, RIL,         10, 1)
    FIELD(IDR3, BBML,        11, 2)
REG32(IDR4, 0x10)
REG32(IDR5, 0x14)
    FIELD(IDR5, OAS,          0, 3)
    FIELD(IDR5, GRAN4K,       4, 1)
    FIELD(IDR5, GRAN16K,      5, 1)
    FIELD(IDR5, GRAN64K,      6, 1)
    FIELD(IDR5, VAX,         10, 2)
    FIELD(IDR5, STALL_MAX,   16, 16)
REG32(IIDR, 0x18)
    FIELD(IIDR, IMPLEMENTER,  0, 12)
    FIELD(IIDR, REVISION,    12, 4)
    FIELD(IIDR, VARIANT,     16, 4)
    FIELD(IIDR, PRODUCTID,   20, 12)
REG32(AIDR, 0x1c)
    FIELD(AIDR, MINOR,        0, 4)
    FIELD(AIDR, MAJOR,        4, 4)

REG32(CR0, 0x20)
    FIELD(CR0, SMMUEN,        0, 1)
    FIELD(CR0, PRIQEN,        1, 1)
    FIELD(CR0, EVENTQEN,      2, 1)
    FIELD(CR0, CMDQEN,        3, 1)
    FIELD(CR0, ATSCHK,        4, 1)
    FIELD(CR0, VMW,           6, 3)
REG32(CR0ACK, 0x24)
REG32(CR1, 0x28)
    FIELD(CR1, QUEUE_IC,      0, 2)
    FIELD(CR1, QUEUE_OC,      2, 2)
    FIELD(CR1, QUEUE_SH,      4, 2)
    FIELD(CR1, TABLE_IC,      6, 2)
    FIELD(CR1, TABLE_OC,      8, 2)
    FIELD(CR1, TABLE_SH,     10, 2)
REG32(CR2, 0x2c)
    FIELD(CR2, E2H,           0, 1)
    FIELD(CR2, RECINVSID,     1, 1)
    FIELD(CR2, PTM,           2, 1)
REG32(STATUSR, 0x40)
REG32(GBPA, 0x44)
    FIELD(GBPA, MEMATTR,      0, 4)
    FIELD(GBPA, MTCFG,        4, 1)
    FIELD(GBPA, ALLOCCFG,     8, 4)
    FIELD(GBPA, SHCFG,       12, 2)
    FIELD(GBPA, PRIVCFG,     16, 2)
    FIELD(GBPA, INSTCFG,     18, 2)
    FIELD(GBPA, ABORT,       20, 1)
    FIELD(GBPA, UPDATE,      31, 1)
/* Architected reset value: SHCFG = "use incoming", no abort */
#define VSMMU_GBPA_RESET        0x1000
/* GBPA bits the guest may set (the rest are RES0, UPDATE is self-clearing) */
#define VSMMU_GBPA_WRITABLE     (R_GBPA_MEMATTR_MASK | R_GBPA_MTCFG_MASK | \
                                 R_GBPA_ALLOCCFG_MASK | R_GBPA_SHCFG_MASK | \
                                 R_GBPA_PRIVCFG_MASK | R_GBPA_INSTCFG_MASK | \
                                 R_GBPA_ABORT_MASK)
REG32(AGBPA, 0x48)
REG32(IRQ_CTRL, 0x50)
    FIELD(IRQ_CTRL, GERROR_IRQEN, 0, 1)
    FIELD(IRQ_CTRL, PRI_IRQEN,    1, 1)
    FIELD(IRQ_CTRL, EVENTQ_IRQEN, 2, 1)
REG32(IRQ_CTRLACK, 0x54)
REG32(GERROR, 0x60)
    FIELD(GERROR, CMDQ_ERR,       0, 1)
    FIELD(GERROR, EVENTQ_ABT_ERR, 2, 1)
    FIELD(GERROR, PRIQ_ABT_ERR,   3, 1)
    FIELD(GERROR, MSI_CMDQ_ABT_ERR,   4, 1)
    FIELD(GERROR, MSI_EVENTQ_ABT_ERR, 5, 1)
    FIELD(GERROR, MSI_PRIQ_ABT_ERR,   6, 1)
    FIELD(GERROR, MSI_GERROR_ABT_ERR, 7, 1)
    FIELD(GERROR, SFM_ERR,        8, 1)
REG32(GERRORN, 0x64)
REG64(GERROR_IRQ_CFG0, 0x68)
REG32(GERROR_IRQ_CFG1, 0x70)
REG32(GERROR_IRQ_CFG2, 0x74)
REG64(STRTAB_BASE, 0x80)
    FIELD(STRTAB_BASE, ADDR,      6, 46)
    FIELD(STRTAB_BASE, RA,       62, 1)
REG32(STRTAB_BASE_CFG, 0x88)
    FIELD(STRTAB_BASE_CFG, LOG2SIZE, 0, 6)
    FIELD(STRTAB_BASE_CFG, SPLIT,    6, 5)
    FIELD(STRTAB_BASE_CFG, FMT,     16, 2)
REG64(CMDQ_BASE, 0x90)
REG32(CMDQ_PROD, 0x98)
REG32(CMDQ_CONS, 0x9c)
    FIELD(CMDQ_CONS, ERR,        24, 7)
REG64(EVENTQ_BASE, 0xa0)
REG32(EVENTQ_PROD, 0xa8)
REG32(EVENTQ_CONS, 0xac)
REG64(EVENTQ_IRQ_CFG0, 0xb0)
REG32(EVENTQ_IRQ_CFG1, 0xb8)
REG32(EVENTQ_IRQ_CFG2, 0xbc)
REG64(PRIQ_BASE, 0xc0)
REG32(PRIQ_PROD, 0xc8)
REG32(PRIQ_CONS, 0xcc)

/* Queue base registers (CMDQ_BASE, EVENTQ_BASE) share one layout */
FIELD(QUEUE_BASE, LOG2SIZE,  0, 5)
FIELD(QUEUE_BASE, ADDR,      5, 47)
FIELD(QUEUE_BASE, RA,       62, 1)
/* Queue index registers: index + wrap in the low bits, overflow at 31 */
FIELD(QUEUE_INDEX, OVFLG,   31, 1)

/* MSI configuration registers (…_IRQ_CFG0/1/2) share one layout */
FIELD(IRQ_CFG0, ADDR,        2, 50)

/* Page 1 aliases of the event queue pointers */
#define VSMMU_PAGE1_EVENTQ_PROD (VSMMU_PAGE_SIZE + A_EVENTQ_PROD)
#define VSMMU_PAGE1_EVENTQ_CONS (VSMMU_PAGE_SIZE + A_EVENTQ_CONS)

/* Identification registers at the top of page 0 (CoreSight layout) */
#define VSMMU_IDREGS_BASE       0xfd0
#define VSMMU_IDREGS_END        0x1000

/* IDR5.OAS encodings */
#define VSMMU_OAS_32            0
#define VSMMU_OAS_36            1
#define VSMMU_OAS_40            2
#define VSMMU_OAS_42            3
#define VSMMU_OAS_44            4
#define VSMMU_OAS_48            5
#define VSMMU_OAS_52            6

/*
 * Output address sizes: IDR5.OAS and CD.IPS share this encoding. The one
 * table of them, with its two directions.
 */
static inline uint8_t vsmmu_oas_bits(unsigned enc)
{
    static const uint8_t bits[] = {
        [VSMMU_OAS_32] = 32, [VSMMU_OAS_36] = 36, [VSMMU_OAS_40] = 40,
        [VSMMU_OAS_42] = 42, [VSMMU_OAS_44] = 44, [VSMMU_OAS_48] = 48,
        [VSMMU_OAS_52] = 52,
    };

    /* reserved encodings above 52 bits behave as 52 bits */
    return enc < ARRAY_SIZE(bits) ? bits[enc] : 52;
}

/* The encoding of an output address size in bits, -1 if none */
static inline int vsmmu_oas_encoding(unsigned bits)
{
    for (int enc = VSMMU_OAS_32; enc <= VSMMU_OAS_52; enc++) {
        if (vsmmu_oas_bits(enc) == bits) {
            return enc;
        }
    }
    return -1;
}

/* Default queue size limits advertised in IDR1 (log2 of entries) */
#define VSMMU_CMDQS_MAX         19
#define VSMMU_EVENTQS_MAX       19

#endif /* HW_ARM_VSMMU_REGS_H */
