/*
 * qtest support library: drive an Arm SMMUv3 the way a driver would
 *
 * Everything here is written from the architecture (Arm IHI 0070, SMMUv3,
 * and the VMSAv8-64 translation table format), never from a particular
 * implementation, so the same tests and benchmarks run against the vsmmu
 * and against QEMU's stock arm-smmuv3.
 *
 * A test starts QEMU with vsmmu_qtest_start(), which finds the SMMU's
 * register pages and the vsmmu-dma-testdev, then builds stream tables,
 * context descriptors and page tables in guest RAM with the builders
 * below, programs the queues, and makes the test device issue DMA.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef TESTS_QTEST_VSMMU_QTEST_LIB_H
#define TESTS_QTEST_VSMMU_QTEST_LIB_H

#include "libqtest.h"
#include "vsmmu-qtest-fw.h"
#include "libqos/pci.h"
#include "libqos/generic-pcihost.h"
#include "libqos/libqos-malloc.h"
#include "hw/registerfields.h"
#include "hw/arm/vsmmu/regs.h"
#include "hw/arm/vsmmu/dma-testdev.h"

/* ---------------------------------------------------------------------- */
/* Command lines                                                           */
/* ---------------------------------------------------------------------- */

/* The SMMU under test, in front of pcie.0 */
#define VSMMU_QTEST_VSMMU       "-device vsmmu,primary-bus=pcie.0 "
#define VSMMU_QTEST_ARM_SMMUV3  "-device arm-smmuv3,primary-bus=pcie.0 "
/*
 * The DMA test device at slot 0x1d: StreamID 0xe8 (bus 0, devfn 0xe8),
 * which lands in L1 entry 3, L2 index 0x28 of a 2-level stream table with
 * SPLIT 6, so index bugs cannot hide behind zeroes.
 */
#define VSMMU_QTEST_TESTDEV     "-device vsmmu-dma-testdev,addr=1d.0 "
#define VSMMU_QTEST_TESTDEV_SID 0xe8

/* ---------------------------------------------------------------------- */
/* Guest memory layout (virt: RAM at 0x40000000, 512 MiB with -m 512M)     */
/* ---------------------------------------------------------------------- */

#define VSMMU_QTEST_RAM_BASE    0x40000000ULL
#define VSMMU_QTEST_RAM_SIZE    (512ULL << 20)
/* Below this, libqos; from here on, the bump allocator */
#define VSMMU_QTEST_ALLOC_BASE  0x48000000ULL
/* A physical address with nothing behind it (past RAM, below 4 GiB+) */
#define VSMMU_QTEST_NO_RAM_PA   0x100000000ULL

/* ---------------------------------------------------------------------- */
/* Stream table entry (IHI 0070 §5.2), as eight 64-bit words               */
/* ---------------------------------------------------------------------- */

/*
 * The in-memory formats here repeat what the device's
 * include/hw/arm/vsmmu/formats.h defines, on purpose: a field the device
 * has wrong must make the tests fail, not agree with them. Pointer fields
 * are wider here (address bits up to 55) so that tests can set the bits
 * the architecture reserves.
 */

FIELD(STE0, V,             0, 1)    /* STE[0] */
FIELD(STE0, CONFIG,        1, 3)    /* STE[3:1] */
FIELD(STE0, S1FMT,         4, 2)    /* STE[5:4] */
FIELD(STE0, S1CTXPTR,      6, 50)   /* STE[55:6], address bits [55:6] */
FIELD(STE0, S1CDMAX,      59, 5)    /* STE[63:59] */
FIELD(STE1, S1DSS,         0, 2)    /* STE[65:64] */
FIELD(STE1, S1CIR,         2, 2)    /* STE[67:66] */
FIELD(STE1, S1COR,         4, 2)    /* STE[69:68] */
FIELD(STE1, S1CSH,         6, 2)    /* STE[71:70] */
FIELD(STE1, S1STALLD,     27, 1)    /* STE[91] */
FIELD(STE1, EATS,         28, 2)    /* STE[93:92] */
FIELD(STE1, STRW,         30, 2)    /* STE[95:94] */
FIELD(STE1, SHCFG,        44, 2)    /* STE[109:108] */
FIELD(STE1, S2FWB,        25, 1)    /* STE[89] */
FIELD(STE2, S2VMID,        0, 16)   /* STE[143:128] */
FIELD(STE2, S2T0SZ,       32, 6)    /* STE[165:160] */
FIELD(STE2, S2SL0,        38, 2)    /* STE[167:166] */
FIELD(STE2, S2IR0,        40, 2)
FIELD(STE2, S2OR0,        42, 2)
FIELD(STE2, S2SH0,        44, 2)
FIELD(STE2, S2TG,         46, 2)    /* STE[175:174]: 0 4K, 1 64K, 2 16K */
FIELD(STE2, S2PS,         48, 3)    /* STE[178:176] */
FIELD(STE2, S2AA64,       51, 1)    /* STE[179] */
FIELD(STE2, S2ENDI,       52, 1)
FIELD(STE2, S2AFFD,       53, 1)
FIELD(STE2, S2PTW,        54, 1)
FIELD(STE2, S2HD,         55, 1)
FIELD(STE2, S2HA,         56, 1)
FIELD(STE2, S2S,          57, 1)
FIELD(STE2, S2R,          58, 1)    /* STE[186] */
FIELD(STE3, S2TTB,         4, 48)   /* STE[243:196]: address bits [51:4] */

/* STE.Config */
#define STE_CONFIG_ABORT        0x0     /* 0b000: abort, no event */
#define STE_CONFIG_BYPASS       0x4     /* 0b100: S1 and S2 bypass */
#define STE_CONFIG_S1           0x5     /* 0b101: S1 translate, S2 bypass */
#define STE_CONFIG_S2           0x6     /* 0b110: S1 bypass, S2 translate */
#define STE_CONFIG_NESTED       0x7     /* 0b111: S1 over S2 */
/* STE.S2TG */
#define STE_S2TG_4K             0x0
#define STE_S2TG_64K            0x1
#define STE_S2TG_16K            0x2
/* STE.S1Fmt */
#define STE_S1FMT_LINEAR        0x0
#define STE_S1FMT_2LVL_4K       0x1     /* 4 KiB L2 tables of 64 CDs */
#define STE_S1FMT_2LVL_64K      0x2     /* 64 KiB L2 tables of 1024 CDs */
/* STE.S1DSS: transactions without a SubstreamID when S1CDMax != 0 */
#define STE_S1DSS_TERMINATE     0x0
#define STE_S1DSS_BYPASS        0x1
#define STE_S1DSS_SSID0         0x2
/* STE.SHCFG */
#define STE_SHCFG_INCOMING      0x1

#define VSMMU_STE_SIZE          64
#define VSMMU_STE_DWORDS        8

/* Level 1 stream table descriptor (§5.1) */
FIELD(L1STD, SPAN,         0, 5)    /* 2^(Span-1) STEs, 0 = invalid */
FIELD(L1STD, L2PTR,        6, 50)   /* address bits [55:6] */
#define VSMMU_L1STD_SIZE        8

/* STRTAB_BASE_CFG.FMT */
#define STRTAB_FMT_LINEAR       0x0
#define STRTAB_FMT_2LVL         0x1

/* ---------------------------------------------------------------------- */
/* Context descriptor (§5.4), as eight 64-bit words                        */
/* ---------------------------------------------------------------------- */

FIELD(CD0, T0SZ,           0, 6)    /* CD[5:0] */
FIELD(CD0, TG0,            6, 2)    /* CD[7:6]: 0 4K, 1 64K, 2 16K */
FIELD(CD0, IR0,            8, 2)
FIELD(CD0, OR0,           10, 2)
FIELD(CD0, SH0,           12, 2)
FIELD(CD0, EPD0,          14, 1)
FIELD(CD0, ENDI,          15, 1)
FIELD(CD0, T1SZ,          16, 6)
FIELD(CD0, TG1,           22, 2)    /* CD[23:22]: 1 16K, 2 4K, 3 64K */
FIELD(CD0, IR1,           24, 2)
FIELD(CD0, OR1,           26, 2)
FIELD(CD0, SH1,           28, 2)
FIELD(CD0, EPD1,          30, 1)
FIELD(CD0, V,             31, 1)
FIELD(CD0, IPS,           32, 3)    /* CD[34:32] */
FIELD(CD0, AFFD,          35, 1)
FIELD(CD0, WXN,           36, 1)
FIELD(CD0, UWXN,          37, 1)
FIELD(CD0, TBI0,          38, 1)
FIELD(CD0, TBI1,          39, 1)
FIELD(CD0, PAN,           40, 1)
FIELD(CD0, AA64,          41, 1)
FIELD(CD0, HD,            42, 1)
FIELD(CD0, HA,            43, 1)
FIELD(CD0, S,             44, 1)
FIELD(CD0, R,             45, 1)
FIELD(CD0, A,             46, 1)
FIELD(CD0, ASET,          47, 1)
FIELD(CD0, ASID,          48, 16)   /* CD[63:48] */
FIELD(CD1, TTB0,           4, 48)   /* CD[115:68]: address bits [51:4] */
FIELD(CD2, TTB1,           4, 48)   /* CD[179:132]: address bits [51:4] */
/* CD word 3 is MAIR (MAIR0 in [31:0], MAIR1 in [63:32]) */

#define CD_TG0_4K               0x0
#define CD_TG0_64K              0x1
#define CD_TG0_16K              0x2
#define CD_TG0_RESERVED         0x3
#define CD_TG1_16K              0x1
#define CD_TG1_4K               0x2
#define CD_TG1_64K              0x3

/* IPS/OAS encodings shared by the CD and IDR5 */
#define CD_IPS_32               0x0
#define CD_IPS_36               0x1
#define CD_IPS_40               0x2
#define CD_IPS_44               0x4
#define CD_IPS_48               0x5

#define VSMMU_CD_SIZE           64
#define VSMMU_CD_DWORDS         8

/* Level 1 CD table descriptor (§5.3) */
FIELD(L1CD, V,             0, 1)
FIELD(L1CD, L2PTR,        12, 44)   /* address bits [55:12] */
#define VSMMU_L1CD_SIZE         8

/* ---------------------------------------------------------------------- */
/* VMSAv8-64 stage 1 descriptors                                           */
/* ---------------------------------------------------------------------- */

FIELD(PTE, VALID,          0, 1)
FIELD(PTE, TYPE,           1, 1)    /* 1 = table/page, 0 = block */
FIELD(PTE, ATTRINDX,       2, 3)
FIELD(PTE, NS,             5, 1)
FIELD(PTE, AP,             6, 2)    /* AP[2:1] */
FIELD(PTE, SH,             8, 2)
FIELD(PTE, AF,            10, 1)
FIELD(PTE, NG,            11, 1)
FIELD(PTE, DBM,           51, 1)
FIELD(PTE, CONT,          52, 1)
FIELD(PTE, PXN,           53, 1)
FIELD(PTE, UXN,           54, 1)
/* AP[2:1]: [1] = EL0 accessible, [2] = read-only */
#define PTE_AP_RW_ALL           0x1
#define PTE_AP_RO_ALL           0x3
/* MAIR used by the builders: Attr0 Normal WB RW-allocate, Attr1 Device */
#define VSMMU_QTEST_MAIR        0x00ffULL
#define PTE_ATTRINDX_NORMAL     0

/* ---------------------------------------------------------------------- */
/* Commands (§4), two 64-bit words                                          */
/* ---------------------------------------------------------------------- */

typedef struct VsmmuCmd {
    uint64_t word[2];
} VsmmuCmd;

#define CMD_PREFETCH_CONFIG     0x01
#define CMD_PREFETCH_ADDR       0x02
#define CMD_CFGI_STE            0x03
#define CMD_CFGI_STE_RANGE      0x04    /* CFGI_ALL: Range = 31 */
#define CMD_CFGI_CD             0x05
#define CMD_CFGI_CD_ALL         0x06
#define CMD_TLBI_NH_ALL         0x10
#define CMD_TLBI_NH_ASID        0x11
#define CMD_TLBI_NH_VA          0x12
#define CMD_TLBI_NH_VAA         0x13
#define CMD_TLBI_EL2_ALL        0x20
#define CMD_TLBI_S12_VMALL      0x28
#define CMD_TLBI_S2_IPA         0x2a
#define CMD_TLBI_NSNH_ALL       0x30
#define CMD_ATC_INV             0x40
#define CMD_SYNC                0x46

/* Word 0 (command bits [63:0]) */
FIELD(CMD0, OPCODE,        0, 8)
FIELD(CMD0, SSEC,         10, 1)    /* must be 0 on the Non-secure queue */
FIELD(CMD0, SSV,          11, 1)
FIELD(CMD0, SSID,         12, 20)   /* SubstreamID [31:12] */
FIELD(CMD0, NUM,          12, 5)    /* TLBI range: NUM [16:12] */
FIELD(CMD0, SCALE,        20, 5)    /* TLBI range: SCALE [24:20] */
FIELD(CMD0, SID,          32, 32)   /* StreamID [63:32] */
FIELD(CMD0, VMID,         32, 16)   /* TLBI: VMID [47:32] */
FIELD(CMD0, ASID,         48, 16)   /* TLBI: ASID [63:48] */
FIELD(CMD0, ATC_G,         9, 1)    /* ATC_INV: Global [9] */
FIELD(CMD0, SYNC_CS,      12, 2)    /* CMD_SYNC: CS [13:12] */
FIELD(CMD0, SYNC_MSH,     22, 2)    /* CMD_SYNC: MSH [23:22] */
FIELD(CMD0, SYNC_MSIATTR, 24, 4)    /* CMD_SYNC: MSIAttr [27:24] */
FIELD(CMD0, SYNC_MSIDATA, 32, 32)   /* CMD_SYNC: MSIData [63:32] */
/* Word 1 (command bits [127:64]) */
FIELD(CMD1, LEAF,          0, 1)    /* CFGI_STE, CFGI_CD, TLBI_*_VA(A) */
FIELD(CMD1, STE_RANGE,     0, 5)    /* CFGI_STE_RANGE: Range [68:64] */
FIELD(CMD1, TTL,           8, 2)    /* TLBI VA: TTL [73:72] */
FIELD(CMD1, TG,           10, 2)    /* TLBI VA: TG [75:74] */
FIELD(CMD1, ADDR,         12, 52)   /* VA [63:12] */
FIELD(CMD1, IPA,          12, 40)   /* TLBI_S2_IPA: IPA [51:12] */
FIELD(CMD1, PREFETCH_SIZE, 0, 5)    /* PREFETCH_ADDR: Size [68:64] */
FIELD(CMD1, ATC_SIZE,      0, 6)    /* ATC_INV: Size [69:64] */
FIELD(CMD1, MSIADDR,       2, 54)   /* CMD_SYNC: MSIAddr [55:2] */

/* TLBI TG: granule of the entries to invalidate (0 = any, no range) */
#define CMD_TLBI_TG_4K          0x1
#define CMD_TLBI_TG_16K         0x2
#define CMD_TLBI_TG_64K         0x3

/* CMD_SYNC.CS */
#define CMD_SYNC_SIG_NONE       0x0
#define CMD_SYNC_SIG_IRQ        0x1
#define CMD_SYNC_SIG_SEV        0x2
/* CMD_SYNC.MSIAttr: Device-nGnRnE; CMD_SYNC.MSH: Inner Shareable */
#define CMD_SYNC_MSIATTR_DEVICE 0x1
#define CMD_SYNC_MSH_IS         0x3

/* CMDQ_CONS.ERR (§7.1) */
#define CERROR_NONE             0x00
#define CERROR_ILL              0x01
#define CERROR_ABT              0x02
#define CERROR_ATC_INV_SYNC     0x03
/* Returned by vsmmu_cmdq_wait() when the queue neither drains nor errs */
#define VSMMU_CMDQ_TIMEOUT      0x100

VsmmuCmd vsmmu_cmd_prefetch_config(uint32_t sid);
VsmmuCmd vsmmu_cmd_prefetch_addr(uint32_t sid, uint64_t addr);
VsmmuCmd vsmmu_cmd_cfgi_ste(uint32_t sid, bool leaf);
VsmmuCmd vsmmu_cmd_cfgi_ste_range(uint32_t sid, unsigned range);
VsmmuCmd vsmmu_cmd_cfgi_all(void);
VsmmuCmd vsmmu_cmd_cfgi_cd(uint32_t sid, uint32_t ssid, bool leaf);
VsmmuCmd vsmmu_cmd_cfgi_cd_all(uint32_t sid);
VsmmuCmd vsmmu_cmd_tlbi_nh_all(void);
VsmmuCmd vsmmu_cmd_tlbi_nh_asid(uint16_t asid);
VsmmuCmd vsmmu_cmd_tlbi_nh_va(uint16_t asid, uint64_t va, bool leaf);
VsmmuCmd vsmmu_cmd_tlbi_nh_vaa(uint64_t va, bool leaf);
/* Range form (IDR3.RIL): (num + 1) << scale granules of size @tg from va */
VsmmuCmd vsmmu_cmd_tlbi_nh_va_range(uint16_t asid, uint64_t va, bool leaf,
                                    unsigned tg, unsigned ttl, unsigned num,
                                    unsigned scale);
VsmmuCmd vsmmu_cmd_tlbi_nsnh_all(void);
/* Stage 2 (IDR0.S2P): IPA range as for TLBI_NH_VA, all of a VMID */
VsmmuCmd vsmmu_cmd_tlbi_s2_ipa_range(uint16_t vmid, uint64_t ipa, bool leaf,
                                     unsigned tg, unsigned ttl, unsigned num,
                                     unsigned scale);
VsmmuCmd vsmmu_cmd_tlbi_s2_ipa(uint16_t vmid, uint64_t ipa, bool leaf);
VsmmuCmd vsmmu_cmd_tlbi_s12_vmall(uint16_t vmid);
/* A TLBI_NH_* with its VMID field set (an SMMU with stage 2 matches it) */
VsmmuCmd vsmmu_cmd_with_vmid(VsmmuCmd c, uint16_t vmid);
VsmmuCmd vsmmu_cmd_atc_inv(uint32_t sid, uint64_t addr, unsigned size);
VsmmuCmd vsmmu_cmd_sync(unsigned cs, uint64_t msi_addr, uint32_t msi_data);
VsmmuCmd vsmmu_cmd_raw(uint64_t w0, uint64_t w1);

/* ---------------------------------------------------------------------- */
/* Event records (§7.3), four 64-bit words                                 */
/* ---------------------------------------------------------------------- */

typedef struct VsmmuEvent {
    uint64_t word[4];
} VsmmuEvent;

#define EVT_F_UUT               0x01
#define EVT_C_BAD_STREAMID      0x02
#define EVT_F_STE_FETCH         0x03
#define EVT_C_BAD_STE           0x04
#define EVT_F_BAD_ATS_TREQ      0x05
#define EVT_F_STREAM_DISABLED   0x06
#define EVT_F_TRANSL_FORBIDDEN  0x07
#define EVT_C_BAD_SUBSTREAMID   0x08
#define EVT_F_CD_FETCH          0x09
#define EVT_C_BAD_CD            0x0a
#define EVT_F_WALK_EABT         0x0b
#define EVT_F_TRANSLATION       0x10
#define EVT_F_ADDR_SIZE         0x11
#define EVT_F_ACCESS            0x12
#define EVT_F_PERMISSION        0x13

FIELD(EVT0, ID,            0, 8)    /* event type [7:0] */
FIELD(EVT0, SSV,          11, 1)
FIELD(EVT0, SSID,         12, 20)   /* SubstreamID [31:12] */
FIELD(EVT0, SID,          32, 32)   /* StreamID [63:32] */
FIELD(EVT1, STAG,          0, 16)   /* [79:64] */
FIELD(EVT1, STALL,        31, 1)    /* [95] */
FIELD(EVT1, PNU,          33, 1)    /* [97] */
FIELD(EVT1, IND,          34, 1)    /* [98] */
FIELD(EVT1, RNW,          35, 1)    /* [99]: 1 = read */
FIELD(EVT1, S2,           39, 1)    /* [103] */
FIELD(EVT1, CLASS,        40, 2)    /* [105:104] */
#define EVT_CLASS_CD            0x0
#define EVT_CLASS_TT            0x1
#define EVT_CLASS_IN            0x2
/* Word 2: InputAddr [191:128] of translation faults */
/*
 * Word 3: FetchAddr[55:3] in [247:195] (F_STE_FETCH, F_CD_FETCH,
 * F_WALK_EABT), the IPA of stage 2 faults otherwise
 */
FIELD(EVT3, FETCHADDR,     3, 53)   /* address bits [55:3] */
FIELD(EVT3, IPA,          12, 40)   /* stage 2 faults: IPA [51:12] */

#define VSMMU_EVT_SIZE          32
#define VSMMU_CMD_SIZE          16

static inline unsigned vsmmu_evt_id(const VsmmuEvent *e)
{
    return FIELD_EX64(e->word[0], EVT0, ID);
}

static inline uint32_t vsmmu_evt_sid(const VsmmuEvent *e)
{
    return FIELD_EX64(e->word[0], EVT0, SID);
}

static inline uint64_t vsmmu_evt_input_addr(const VsmmuEvent *e)
{
    return e->word[2];
}

static inline uint64_t vsmmu_evt_fetch_addr(const VsmmuEvent *e)
{
    return FIELD_EX64(e->word[3], EVT3, FETCHADDR) << 3;
}

/* The IPA of a stage 2 fault (EVT.S2 = 1), page-aligned */
static inline uint64_t vsmmu_evt_ipa(const VsmmuEvent *e)
{
    return FIELD_EX64(e->word[3], EVT3, IPA) << 12;
}

/* ---------------------------------------------------------------------- */
/* The test context                                                        */
/* ---------------------------------------------------------------------- */

typedef struct VsmmuQueue {
    uint64_t base;              /* guest physical address */
    unsigned log2size;
    uint32_t prod;              /* software's copy (CMDQ) */
    uint32_t cons;              /* software's copy (EVENTQ) */
} VsmmuQueue;

typedef struct VsmmuQtest {
    QTestState *qts;
    uint64_t base;              /* SMMU register pages, 0 = no SMMU found */
    char *smmu_name;            /* "vsmmu", "arm-smmuv3", ... */

    QGuestAllocator alloc;      /* libqos, below VSMMU_QTEST_ALLOC_BASE */
    QGenericPCIBus pcibus;
    QPCIDevice *dev;            /* the vsmmu-dma-testdev */
    QPCIBar bar;
    uint32_t sid;               /* its StreamID: RID on pcie.0 */
    int want_devfn;             /* which test device, -1: the only one */

    uint64_t ram_next;          /* bump allocator */
    uint64_t ram_end;

    /* Stream table, as programmed by vsmmu_strtab_*() */
    uint64_t strtab;
    unsigned strtab_fmt;
    unsigned strtab_log2size;
    unsigned strtab_split;

    VsmmuQueue cmdq;
    VsmmuQueue evtq;
} VsmmuQtest;

/*
 * Start QEMU as "-M virt -cpu max -nodefaults -m 512M @extra_args", which
 * must name the SMMU (if any) and a vsmmu-dma-testdev. Finds the SMMU
 * registers (an MMIO region called "vsmmu", "arm-smmuv3" or "smmuv3" in
 * "info mtree"), enables the test device and maps its BAR0.
 */
VsmmuQtest *vsmmu_qtest_start(const char *extra_args);
/* The same discovery on an already running QEMU (e.g. a migration target) */
VsmmuQtest *vsmmu_qtest_attach(QTestState *qts);
/* ... choosing the test device at @devfn on pcie.0 when there are several */
VsmmuQtest *vsmmu_qtest_attach_devfn(QTestState *qts, int devfn);
/* Enumerate and enable the test device again (after a system reset) */
void vsmmu_qtest_rediscover(VsmmuQtest *t);
void vsmmu_qtest_quit(VsmmuQtest *t);

/* Find the SMMU's register base in "info mtree", 0 if absent */
uint64_t vsmmu_qtest_find_smmu(QTestState *qts, char **name);
/*
 * Base of the @nth (from 0) MMIO region called @name in "info mtree"
 * (e.g. the second "vsmmu", or "vsmmu-cmdqv"), 0 if there is none
 */
uint64_t vsmmu_qtest_find_region(QTestState *qts, const char *name, int nth);

/* Guest RAM: bump allocation, zeroed, aligned to @align (a power of 2) */
uint64_t vsmmu_alloc(VsmmuQtest *t, uint64_t size, uint64_t align);

/* Register access */
uint32_t vsmmu_readl(VsmmuQtest *t, uint64_t off);
void vsmmu_writel(VsmmuQtest *t, uint64_t off, uint32_t val);
uint64_t vsmmu_readq(VsmmuQtest *t, uint64_t off);
void vsmmu_writeq(VsmmuQtest *t, uint64_t off, uint64_t val);

/* GBPA: write with UPDATE and wait for UPDATE to clear */
bool vsmmu_set_gbpa(VsmmuQtest *t, uint32_t val);
/* CR0: write and wait for CR0ACK to match; false on timeout */
bool vsmmu_set_cr0(VsmmuQtest *t, uint32_t val);

/* GERROR bits whose error is active (GERROR != GERRORN) */
uint32_t vsmmu_gerror_active(VsmmuQtest *t);
/* Acknowledge the active errors in @mask by toggling GERRORN */
void vsmmu_gerror_ack(VsmmuQtest *t, uint32_t mask);

/* ---------------------------------------------------------------------- */
/* Stream tables                                                           */
/* ---------------------------------------------------------------------- */

/* Allocate a zeroed linear table and program STRTAB_BASE(_CFG) */
uint64_t vsmmu_strtab_linear(VsmmuQtest *t, unsigned log2size);
/* Allocate a zeroed L1 table and program STRTAB_BASE(_CFG) */
uint64_t vsmmu_strtab_2lvl(VsmmuQtest *t, unsigned log2size, unsigned split);
/*
 * Guest address of the STE of @sid, allocating the level 2 table (of
 * 2^split STEs) and writing its L1STD when it does not exist yet.
 */
uint64_t vsmmu_ste_addr(VsmmuQtest *t, uint32_t sid);

/* Build STEs into @ste (8 words) */
void vsmmu_ste_abort(uint64_t *ste);
void vsmmu_ste_bypass(uint64_t *ste);
void vsmmu_ste_s1(uint64_t *ste, uint64_t cd_ptr, unsigned s1fmt,
                  unsigned s1cdmax, unsigned s1dss);
/* Write 8 words as the STE of @sid (V last, as a driver would) */
void vsmmu_ste_write(VsmmuQtest *t, uint32_t sid, const uint64_t *ste);
/* Write raw words at an arbitrary address (for malformed tables) */
void vsmmu_write_words(VsmmuQtest *t, uint64_t addr, const uint64_t *w,
                       unsigned n);

/* ---------------------------------------------------------------------- */
/* Context descriptor tables                                               */
/* ---------------------------------------------------------------------- */

typedef struct VsmmuCdTable {
    uint64_t base;              /* physical address of the table */
    unsigned fmt;               /* STE_S1FMT_* */
    unsigned cdmax;             /* STE.S1CDMax */
    /*
     * Nested: the SMMU sees the table at IPA = PA + ipa_offset (a stage 2
     * maps it so); STE.S1ContextPtr and L1 descriptors hold IPAs
     */
    uint64_t ipa_offset;
} VsmmuCdTable;

/* One CD (cdmax 0) or a linear table of 2^cdmax */
void vsmmu_cd_table_linear(VsmmuQtest *t, VsmmuCdTable *tab, unsigned cdmax);
/* 2-level table, fmt STE_S1FMT_2LVL_4K or _64K */
void vsmmu_cd_table_2lvl(VsmmuQtest *t, VsmmuCdTable *tab, unsigned cdmax,
                         unsigned fmt);
/* Address of the CD of @ssid, allocating its L2 table if needed */
uint64_t vsmmu_cd_addr(VsmmuQtest *t, VsmmuCdTable *tab, uint32_t ssid);
void vsmmu_cd_write(VsmmuQtest *t, uint64_t addr, const uint64_t *cd);

/* ---------------------------------------------------------------------- */
/* Stage 1 page tables                                                     */
/* ---------------------------------------------------------------------- */

typedef struct VsmmuPgtable {
    VsmmuQtest *t;
    unsigned granule_shift;     /* 12, 14 or 16 */
    unsigned va_bits;           /* 64 - T0SZ (stage 2: 64 - S2T0SZ) */
    int start_level;
    uint64_t root;              /* physical address of the first table */
    bool stage2;                /* stage 2 descriptors (S2AP, MemAttr) */
    /*
     * Nested stage 1: the SMMU reads the tables at IPA = PA + this (a
     * stage 2 maps them so); TTB0 and table descriptors hold IPAs
     */
    uint64_t table_ipa_offset;
} VsmmuPgtable;

#define VSMMU_PT_READ           0       /* readable (stage 1: always) */
#define VSMMU_PT_WRITE          (1u << 0)
#define VSMMU_PT_NO_AF          (1u << 1)   /* leave AF clear */
#define VSMMU_PT_NO_READ        (1u << 2)   /* stage 2: S2AP without read */

void vsmmu_pt_init(VsmmuQtest *t, VsmmuPgtable *pt, unsigned granule,
                   unsigned va_bits);
/*
 * A stage 2 table of @ias_bits input bits (S2T0SZ = 64 - ias_bits) whose
 * walk starts at @start_level: concatenated first tables (up to 16) when
 * the start level resolves more bits than one table does. Its tables are
 * at physical addresses (stage 2 is not translated).
 */
void vsmmu_s2pt_init(VsmmuQtest *t, VsmmuPgtable *pt, unsigned granule,
                     unsigned ias_bits, int start_level);
/* Map [iova, iova + size) to pa with pages, creating tables as needed */
void vsmmu_pt_map(VsmmuPgtable *pt, uint64_t iova, uint64_t pa,
                  uint64_t size, unsigned flags);
/* Map one block at @level (1 or 2, as the granule allows) */
void vsmmu_pt_map_block(VsmmuPgtable *pt, uint64_t iova, uint64_t pa,
                        int level, unsigned flags);
/* Invalidate the leaf descriptors of [iova, iova + size) */
void vsmmu_pt_unmap(VsmmuPgtable *pt, uint64_t iova, uint64_t size);
/* Address of the leaf descriptor mapping @iova, 0 if none */
uint64_t vsmmu_pt_leaf_addr(VsmmuPgtable *pt, uint64_t iova);
/* Change the output address of the page holding @iova in place */
void vsmmu_pt_remap(VsmmuPgtable *pt, uint64_t iova, uint64_t new_pa);

/*
 * A valid AArch64 CD for @pt: T0SZ/TG0/TTB0 from the table, TTB1 walks
 * disabled, IPS 48 bits, little-endian, A = R = 1 (terminate and record
 * faults), AFFD = 0, MAIR = VSMMU_QTEST_MAIR.
 */
void vsmmu_cd_for_pgtable(uint64_t *cd, const VsmmuPgtable *pt,
                          uint16_t asid);

/*
 * Stage 2 fields of an STE for table @s2 (S2T0SZ, S2SL0, S2TG, S2TTB),
 * VMID @vmid, S2PS 44 bits, AArch64, little-endian, S2PTW = S2R = 1,
 * AFFD = 0, write-back inner-shareable walks; words 0 and 1 untouched
 */
void vsmmu_ste_set_s2(uint64_t *ste, const VsmmuPgtable *s2, uint16_t vmid);
/* A stage-2-only STE (Config 0b110) */
void vsmmu_ste_s2(uint64_t *ste, const VsmmuPgtable *s2, uint16_t vmid);
/* A nested STE (Config 0b111): stage 1 from CD table @tab (at its IPA) */
void vsmmu_ste_nested(uint64_t *ste, const VsmmuCdTable *tab, unsigned s1dss,
                      const VsmmuPgtable *s2, uint16_t vmid);

/* ---------------------------------------------------------------------- */
/* Queues                                                                  */
/* ---------------------------------------------------------------------- */

/* Allocate and program a queue; the queue must be disabled */
void vsmmu_cmdq_init(VsmmuQtest *t, unsigned log2size);
void vsmmu_evtq_init(VsmmuQtest *t, unsigned log2size);

/* Append commands at PROD without waiting (no space check beyond full) */
void vsmmu_cmdq_push(VsmmuQtest *t, const VsmmuCmd *cmd);
/* Write @n commands, then PROD once (as a driver issues a batch) */
void vsmmu_cmdq_push_list(VsmmuQtest *t, const VsmmuCmd *cmds, unsigned n);
/*
 * Wait until CONS catches up with PROD or a command error is active.
 * Returns CERROR_NONE or the CMDQ_CONS.ERR code of the active error;
 * fails the test on timeout.
 */
unsigned vsmmu_cmdq_wait(VsmmuQtest *t);
/* The same with a bound of @tries polls instead of the default */
unsigned vsmmu_cmdq_wait_n(VsmmuQtest *t, unsigned tries);
/* push + wait, for one command and for a command followed by CMD_SYNC */
unsigned vsmmu_cmdq_issue(VsmmuQtest *t, VsmmuCmd cmd);
unsigned vsmmu_cmdq_issue_sync(VsmmuQtest *t, VsmmuCmd cmd);
/* CMDQ_CONS read index (wrap + index bits) */
uint32_t vsmmu_cmdq_cons(VsmmuQtest *t);
/* Guest address of CMDQ slot @index */
uint64_t vsmmu_cmdq_slot(VsmmuQtest *t, uint32_t index);

/* Pop one event record; false if the queue is empty */
bool vsmmu_evtq_pop(VsmmuQtest *t, VsmmuEvent *ev);
/* Acknowledge an event queue overflow: CONS.OVACKFLG = PROD.OVFLG */
void vsmmu_evtq_ack_overflow(VsmmuQtest *t);
/* Number of records between CONS and PROD */
unsigned vsmmu_evtq_pending(VsmmuQtest *t);
/*
 * Poll (bounded) for one event; fails the test if none arrives, returns
 * it in @ev.
 */
void vsmmu_evtq_expect(VsmmuQtest *t, VsmmuEvent *ev);
/* Assert that no event is pending, after a CMD_SYNC has drained them */
void vsmmu_evtq_expect_none(VsmmuQtest *t);

/*
 * Driver-style bring-up: SMMU off, CR1 (WB inner-shareable tables and
 * queues), CR2.RECINVSID, the command queue (2^cmdq_log2 entries) and
 * event queue (2^evtq_log2), both enabled, CMD_CFGI_ALL +
 * CMD_TLBI_NSNH_ALL + CMD_SYNC. The stream table must already be
 * programmed; SMMUEN is left clear (vsmmu_enable() sets it).
 */
void vsmmu_bringup(VsmmuQtest *t, unsigned cmdq_log2, unsigned evtq_log2);
/* Set SMMUEN (keeping the queues enabled) */
void vsmmu_enable(VsmmuQtest *t);

/* ---------------------------------------------------------------------- */
/* The DMA test device                                                     */
/* ---------------------------------------------------------------------- */

uint64_t vsmmu_testdev_readq(VsmmuQtest *t, uint64_t reg);
void vsmmu_testdev_writeq(VsmmuQtest *t, uint64_t reg, uint64_t val);
/* Run a command and return TESTDEV_STATUS */
uint64_t vsmmu_testdev_copy(VsmmuQtest *t, uint64_t src, uint64_t dst,
                            uint64_t len);
uint64_t vsmmu_testdev_fill(VsmmuQtest *t, uint64_t dst, uint64_t len,
                            uint8_t pattern);
uint64_t vsmmu_testdev_read_sweep(VsmmuQtest *t, uint64_t src, uint64_t len,
                                  uint64_t stride, uint64_t iter);

static inline unsigned vsmmu_testdev_status_code(uint64_t status)
{
    return FIELD_EX64(status, TESTDEV_STATUS, CODE);
}

static inline uint32_t vsmmu_testdev_status_nfailed(uint64_t status)
{
    return FIELD_EX64(status, TESTDEV_STATUS, NFAILED);
}

/* ---------------------------------------------------------------------- */
/* Values the DMA qtests share                                             */
/* ---------------------------------------------------------------------- */

/*
 * IOVAs that are also RAM physical addresses, so that a model which
 * wrongly bypasses translation writes somewhere the tests look
 */
#define VSMMU_QTEST_IOVA_A      0x58000000ULL
#define VSMMU_QTEST_IOVA_B      0x58400000ULL
/* The ASID of the tests' stage-1 context descriptor */
#define VSMMU_QTEST_ASID        0x2a

/* ---------------------------------------------------------------------- */
/* Running each test case in a process of its own                          */
/* ---------------------------------------------------------------------- */

/*
 * Register @fn(@data) as test @path (qtest_add_data_func), run in a
 * subprocess of its own with a limit of @timeout_s seconds: a hang, an
 * abort or a leak fails that case alone, and no case sees another's
 * QEMU or simulated host. At the limit the case and every QEMU it
 * started (its process group) are killed with SIGKILL, as a deadlocked
 * QEMU answers nothing else. The case's stdout goes to stderr. Inside
 * the case, skip with vsmmu_qtest_skip().
 */
void vsmmu_qtest_add_isolated(const char *path, GTestDataFunc fn,
                              const void *data, unsigned timeout_s);
/* The same for a test function without data */
void vsmmu_qtest_add_isolated_func(const char *path, GTestFunc fn,
                                   unsigned timeout_s);
/*
 * A case that must fail (QEMU refusing a configuration, say): it passes
 * when its subprocess fails and its stderr matches the glob @stderr_glob.
 */
void vsmmu_qtest_add_isolated_fail(const char *path, GTestFunc fn,
                                   unsigned timeout_s,
                                   const char *stderr_glob);
/*
 * Skip the running test with @reason, also from inside an isolated case
 * (where g_test_skip() alone would read as a failure to the parent). The
 * caller then returns from the test function.
 */
void vsmmu_qtest_skip(const char *reason);

/* ---------------------------------------------------------------------- */
/* Reading QEMU's state                                                    */
/* ---------------------------------------------------------------------- */

/* Guest address of the memory region called @name ("info mtree"), 0 if none */
uint64_t vsmmu_qtest_region_base(QTestState *qts, const char *name);
/* An integer QOM property, e.g. of /machine/peripheral/vsmmu0 */
uint64_t vsmmu_qtest_qom_uint(QTestState *qts, const char *path,
                              const char *prop);
/* QOM path of the (first) vsmmu, g_free() it; NULL if there is none */
char *vsmmu_qtest_vsmmu_path(QTestState *qts);

#endif /* TESTS_QTEST_VSMMU_QTEST_LIB_H */
