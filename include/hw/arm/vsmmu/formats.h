/*
 * vsmmu: in-memory structure layouts (IHI 0070 §5 STE/CD, §4 commands,
 * §7 events). Fields are defined per 64-bit dword: STE0 is dword 0 of a
 * stream table entry, CMD1 dword 1 of a command, and so on.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef HW_ARM_VSMMU_FORMATS_H
#define HW_ARM_VSMMU_FORMATS_H

#include "hw/registerfields.h"

/* ---- Stream table ------------------------------------------------------ */

#define VSMMU_STE_DWORDS        8               /* 64 bytes */
#define VSMMU_STE_SIZE          (VSMMU_STE_DWORDS * 8)

/* STRTAB_BASE_CFG.FMT */
#define VSMMU_STRTAB_FMT_LINEAR 0
#define VSMMU_STRTAB_FMT_2LVL   1

/* Level-1 stream table descriptor (8 bytes) */
FIELD(L1STD, SPAN,           0, 5)
FIELD(L1STD, L2PTR,          6, 46)             /* bits [51:6] */

FIELD(STE0, V,               0, 1)
FIELD(STE0, CONFIG,          1, 3)
FIELD(STE0, S1FMT,           4, 2)
FIELD(STE0, S1CONTEXTPTR,    6, 46)             /* bits [51:6] */
FIELD(STE0, S1CDMAX,        59, 5)
FIELD(STE1, S1DSS,           0, 2)
FIELD(STE1, S1CIR,           2, 2)
FIELD(STE1, S1COR,           4, 2)
FIELD(STE1, S1CSH,           6, 2)
FIELD(STE1, S2FWB,          25, 1)
FIELD(STE1, S1STALLD,       27, 1)
FIELD(STE1, EATS,           28, 2)
FIELD(STE1, STRW,           30, 2)
FIELD(STE2, S2VMID,          0, 16)
FIELD(STE2, S2T0SZ,         32, 6)
FIELD(STE2, S2SL0,          38, 2)
FIELD(STE2, S2IR0,          40, 2)
FIELD(STE2, S2OR0,          42, 2)
FIELD(STE2, S2SH0,          44, 2)
FIELD(STE2, S2TG,           46, 2)
FIELD(STE2, S2PS,           48, 3)
FIELD(STE2, S2AA64,         51, 1)
FIELD(STE2, S2ENDI,         52, 1)
FIELD(STE2, S2AFFD,         53, 1)
FIELD(STE2, S2PTW,          54, 1)
FIELD(STE2, S2HD,           55, 1)
FIELD(STE2, S2HA,           56, 1)
FIELD(STE2, S2S,            57, 1)
FIELD(STE2, S2R,            58, 1)
FIELD(STE3, S2TTB,           4, 48)             /* bits [51:4] */

/* STE.Config */
#define VSMMU_STE_CFG_ABORT     0               /* 0b0xx: abort */
#define VSMMU_STE_CFG_BYPASS    4
#define VSMMU_STE_CFG_S1        5
#define VSMMU_STE_CFG_S2        6
#define VSMMU_STE_CFG_NESTED    7

/* STE.S1Fmt */
#define VSMMU_S1FMT_LINEAR      0
#define VSMMU_S1FMT_2LVL_4K     1
#define VSMMU_S1FMT_2LVL_64K    2

/* STE.S1DSS: what a transaction without a substream uses */
#define VSMMU_S1DSS_TERMINATE   0
#define VSMMU_S1DSS_BYPASS      1
#define VSMMU_S1DSS_SSID0       2

/* STE.S2TG: stage 2 granule */
#define VSMMU_S2TG_4K           0
#define VSMMU_S2TG_64K          1
#define VSMMU_S2TG_16K          2
/* STE.S2SL0 = 0b11 needs IDR3.STT (4KB) or 52-bit addresses: reserved here */
#define VSMMU_S2SL0_RESERVED    3
/* A stage 2 walk starts with at most 16 concatenated tables */
#define VSMMU_S2_MAX_CONCAT_BITS 4

/* STE.EATS */
#define VSMMU_EATS_ABT          0
#define VSMMU_EATS_TRANS        1
#define VSMMU_EATS_S1CHK        2

/* ---- Context descriptors ----------------------------------------------- */

#define VSMMU_CD_DWORDS         8               /* 64 bytes */
#define VSMMU_CD_SIZE           (VSMMU_CD_DWORDS * 8)

/* Level-1 CD table descriptor (8 bytes) */
FIELD(L1CD, V,               0, 1)
FIELD(L1CD, L2PTR,          12, 40)             /* bits [51:12] */

FIELD(CD0, T0SZ,             0, 6)
FIELD(CD0, TG0,              6, 2)
FIELD(CD0, IR0,              8, 2)
FIELD(CD0, OR0,             10, 2)
FIELD(CD0, SH0,             12, 2)
FIELD(CD0, EPD0,            14, 1)
FIELD(CD0, ENDI,            15, 1)
FIELD(CD0, T1SZ,            16, 6)
FIELD(CD0, TG1,             22, 2)
FIELD(CD0, IR1,             24, 2)
FIELD(CD0, OR1,             26, 2)
FIELD(CD0, SH1,             28, 2)
FIELD(CD0, EPD1,            30, 1)
FIELD(CD0, V,               31, 1)
FIELD(CD0, IPS,             32, 3)
FIELD(CD0, AFFD,            35, 1)
FIELD(CD0, WXN,             36, 1)
FIELD(CD0, UWXN,            37, 1)
FIELD(CD0, TBI0,            38, 1)
FIELD(CD0, TBI1,            39, 1)
FIELD(CD0, PAN,             40, 1)
FIELD(CD0, AA64,            41, 1)
FIELD(CD0, HD,              42, 1)
FIELD(CD0, HA,              43, 1)
FIELD(CD0, S,               44, 1)
FIELD(CD0, R,               45, 1)
FIELD(CD0, A,               46, 1)
FIELD(CD0, ASET,            47, 1)
FIELD(CD0, ASID,            48, 16)
FIELD(CD1, NSCFG0,           0, 1)
FIELD(CD1, HAD0,             1, 1)
FIELD(CD1, TTB0,             4, 48)             /* bits [51:4] */
FIELD(CD2, NSCFG1,           0, 1)
FIELD(CD2, HAD1,             1, 1)
FIELD(CD2, TTB1,             4, 48)
/* dword 3: MAIR0 (ignored: memory attributes are not modelled) */

/* CD.TGx encodings differ between TG0 and TG1 (granule shift) */
#define VSMMU_TG0_4K            0
#define VSMMU_TG0_64K           1
#define VSMMU_TG0_16K           2
#define VSMMU_TG1_16K           1
#define VSMMU_TG1_4K            2
#define VSMMU_TG1_64K           3
/* Legal CD.TxSZ: 48-bit input at most (IDR5.VAX = 0), 25-bit at least */
#define VSMMU_TSZ_MIN           16
#define VSMMU_TSZ_MAX           39

/* ---- Commands ---------------------------------------------------------- */

#define VSMMU_CMD_SIZE          16

FIELD(CMD0, OPCODE,          0, 8)
FIELD(CMD0, SSEC,           10, 1)
FIELD(CMD0, SSV,            11, 1)
FIELD(CMD0, SSID,           12, 20)
FIELD(CMD0, SID,            32, 32)
FIELD(CMD0, NUM,            12, 5)              /* TLBI range: pages */
FIELD(CMD0, SCALE,          20, 5)
FIELD(CMD0, VMID,           32, 16)
FIELD(CMD0, ASID,           48, 16)
FIELD(CMD0, SYNC_CS,        12, 2)
FIELD(CMD0, SYNC_MSH,       22, 2)
FIELD(CMD0, SYNC_MSIATTR,   24, 4)
FIELD(CMD0, SYNC_MSIDATA,   32, 32)
FIELD(CMD0, ATC_GLOBAL,      9, 1)
FIELD(CMD1, LEAF,            0, 1)              /* CFGI_STE, CFGI_CD, TLBI */
FIELD(CMD1, RANGE,           0, 5)              /* CFGI_STE_RANGE */
FIELD(CMD1, TTL,             8, 2)
FIELD(CMD1, TG,             10, 2)
FIELD(CMD1, ADDR,           12, 52)             /* TLBI address [63:12] */
FIELD(CMD1, IPA,            12, 40)             /* TLBI_S2_IPA [51:12] */
FIELD(CMD1, SYNC_MSIADDR,    2, 50)             /* bits [51:2] */
FIELD(CMD1, ATC_SIZE,        0, 6)
FIELD(CMD1, PREFETCH_SIZE,   0, 5)

enum {
    VSMMU_CMD_PREFETCH_CONFIG = 0x01,
    VSMMU_CMD_PREFETCH_ADDR   = 0x02,
    VSMMU_CMD_CFGI_STE        = 0x03,
    VSMMU_CMD_CFGI_STE_RANGE  = 0x04,           /* CFGI_ALL: Range = 31 */
    VSMMU_CMD_CFGI_CD         = 0x05,
    VSMMU_CMD_CFGI_CD_ALL     = 0x06,
    VSMMU_CMD_CFGI_VMS_PIDM   = 0x07,
    VSMMU_CMD_TLBI_NH_ALL     = 0x10,
    VSMMU_CMD_TLBI_NH_ASID    = 0x11,
    VSMMU_CMD_TLBI_NH_VA      = 0x12,
    VSMMU_CMD_TLBI_NH_VAA     = 0x13,
    VSMMU_CMD_TLBI_EL3_ALL    = 0x18,
    VSMMU_CMD_TLBI_EL3_VA     = 0x1a,
    VSMMU_CMD_TLBI_EL2_ALL    = 0x20,
    VSMMU_CMD_TLBI_EL2_ASID   = 0x21,
    VSMMU_CMD_TLBI_EL2_VA     = 0x22,
    VSMMU_CMD_TLBI_EL2_VAA    = 0x23,
    VSMMU_CMD_TLBI_S12_VMALL  = 0x28,
    VSMMU_CMD_TLBI_S2_IPA     = 0x2a,
    VSMMU_CMD_TLBI_NSNH_ALL   = 0x30,
    VSMMU_CMD_ATC_INV         = 0x40,
    VSMMU_CMD_PRI_RESP        = 0x41,
    VSMMU_CMD_RESUME          = 0x44,
    VSMMU_CMD_STALL_TERM      = 0x45,
    VSMMU_CMD_SYNC            = 0x46,
};

/* ATC_INV.Size: the span is 2^Size pages of 4 KiB; this and above: all */
#define VSMMU_ATC_INV_SIZE_ALL  52

/* CMD_SYNC.CS: completion signal */
#define VSMMU_SYNC_CS_NONE      0
#define VSMMU_SYNC_CS_IRQ       1
#define VSMMU_SYNC_CS_SEV       2

/* CMDQ_CONS.ERR: command errors */
typedef enum VsmmuCmdError {
    VSMMU_CERROR_NONE         = 0,
    VSMMU_CERROR_ILL          = 1,
    VSMMU_CERROR_ABT          = 2,
    VSMMU_CERROR_ATC_INV_SYNC = 3,
} VsmmuCmdError;

/* ---- Events ------------------------------------------------------------ */

#define VSMMU_EVT_SIZE          32

FIELD(EVT0, ID,              0, 8)
FIELD(EVT0, SSV,            11, 1)
FIELD(EVT0, SSID,           12, 20)
FIELD(EVT0, SID,            32, 32)
FIELD(EVT1, STAG,            0, 16)
FIELD(EVT1, STALL,          31, 1)
FIELD(EVT1, PNU,            33, 1)
FIELD(EVT1, IND,            34, 1)
FIELD(EVT1, RNW,            35, 1)
FIELD(EVT1, S2,             39, 1)
FIELD(EVT1, CLASS,          40, 2)
/* dword 2: InputAddr; dword 3: FetchAddr [51:3] or IPA [51:12] */
FIELD(EVT3, FETCH_ADDR,      3, 49)
FIELD(EVT3, IPA,            12, 40)

typedef enum VsmmuEventId {
    VSMMU_EVT_F_UUT             = 0x01,
    VSMMU_EVT_C_BAD_STREAMID    = 0x02,
    VSMMU_EVT_F_STE_FETCH       = 0x03,
    VSMMU_EVT_C_BAD_STE         = 0x04,
    VSMMU_EVT_F_BAD_ATS_TREQ    = 0x05,
    VSMMU_EVT_F_STREAM_DISABLED = 0x06,
    VSMMU_EVT_F_TRANSL_FORBIDDEN = 0x07,
    VSMMU_EVT_C_BAD_SUBSTREAMID = 0x08,
    VSMMU_EVT_F_CD_FETCH        = 0x09,
    VSMMU_EVT_C_BAD_CD          = 0x0a,
    VSMMU_EVT_F_WALK_EABT       = 0x0b,
    VSMMU_EVT_F_TRANSLATION     = 0x10,
    VSMMU_EVT_F_ADDR_SIZE       = 0x11,
    VSMMU_EVT_F_ACCESS          = 0x12,
    VSMMU_EVT_F_PERMISSION      = 0x13,
    VSMMU_EVT_F_TLB_CONFLICT    = 0x20,
    VSMMU_EVT_F_CFG_CONFLICT    = 0x21,
} VsmmuEventId;

/* EVT.CLASS: what the faulting access was doing */
#define VSMMU_EVT_CLASS_CD      0
#define VSMMU_EVT_CLASS_TT      1
#define VSMMU_EVT_CLASS_IN      2

#endif /* HW_ARM_VSMMU_FORMATS_H */
