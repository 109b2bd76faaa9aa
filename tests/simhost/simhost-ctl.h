/*
 * simhost: a simulated Arm host (Linux 7.2 iommufd + VFIO cdev + SMMUv3 +
 * Tegra241 CMDQV) for tests. This header is the contract between the
 * LD_PRELOAD library (libsimhost.so, loaded into QEMU or into a direct test
 * program) and whoever drives it: the control block layout, the
 * descriptor names it recognises, the simulated PCI function's registers.
 *
 * How it is wired (see docs/testing.md):
 *   - The test creates memfds named SIMHOST_FD_IOMMUFD ("simhost-iommufd"),
 *     SIMHOST_FD_VFIO "<n>" ("simhost-vfio-0", ...) and SIMHOST_FD_CTL,
 *     plus an eventfd it passes as SIMHOST_KICK_ENV, all inherited by QEMU.
 *   - The library recognises those descriptors lazily (readlink of
 *     /proc/self/fd/N, so dup()s work too) and answers ioctl, read,
 *     pread/pwrite, mmap, munmap and close on them; everything else goes to
 *     libc untouched.
 *   - SIMHOST_FD_CTL is mmapped by both sides: it holds this SimhostCtl.
 *     The test writes the host description (SMMUs, devices) before QEMU
 *     starts and the fault injections at any time; the library writes the
 *     counters and, at exit, the leak report.
 *   - Requests that must run inside the simulated host (report an event,
 *     raise a CMDQV error) go through the mailbox: fill req_*, bump req_seq,
 *     write 1 to the kick eventfd, wait for ack_seq == req_seq.
 *
 * Test-only; never linked into QEMU.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef TESTS_SIMHOST_SIMHOST_CTL_H
#define TESTS_SIMHOST_SIMHOST_CTL_H

#include <stdint.h>

#define SIMHOST_FD_IOMMUFD      "simhost-iommufd"
#define SIMHOST_FD_VFIO         "simhost-vfio-"     /* + device index */
#define SIMHOST_FD_CTL          "simhost-ctl"
/* Environment variable holding the kick eventfd number */
#define SIMHOST_KICK_ENV        "SIMHOST_KICK_FD"
/* Set to 1 for a line on stderr for every refused call */
#define SIMHOST_DEBUG_ENV       "SIMHOST_DEBUG"

#define SIMHOST_CTL_MAGIC       0x54534f48534d4953ULL   /* "SIMSHOST" */
#define SIMHOST_CTL_VERSION     1

#define SIMHOST_MAX_SMMUS       4
#define SIMHOST_MAX_DEVS        8
#define SIMHOST_MAX_INJECT      8
#define SIMHOST_INVAL_LOG       64      /* last commands reaching "HW" */
#define SIMHOST_LEAK_LOG        32

/* The fixed host MSI window (IOMMU_RESV_SW_MSI) and the ITS doorbell */
#define SIMHOST_SW_MSI_BASE     0x8000000ULL
#define SIMHOST_SW_MSI_SIZE     0x100000ULL
#define SIMHOST_MSI_IOVA        0x08000040ULL

/* ---------------------------------------------------------------------- */
/* Host SMMU profiles                                                      */
/* ---------------------------------------------------------------------- */

typedef enum SimhostProfile {
    /* SMMUv3.2, S1P+S2P, FWB, RIL, 4K/16K/64K, OAS 48, 16-bit SIDs */
    SIMHOST_PROFILE_SMMUV3 = 0,
    /* The same plus a Tegra241 CMDQV (4 VINTFs, 2 LVCMDQs and 16 SIDs each) */
    SIMHOST_PROFILE_SMMUV3_CMDQV,
    /* Different IDRs: OAS 44, 4K only, no RIL, SSIDSIZE 0, linear ST, LE */
    SIMHOST_PROFILE_SMMUV3_ALT,
    /* S1P only (no nesting): NEST_PARENT and VIOMMU_ALLOC -> EOPNOTSUPP */
    SIMHOST_PROFILE_SMMUV3_NO_NESTING,
    /*
     * QEMU's own arm-smmuv3 (stage=nested, fwb=on), L1's host SMMU in
     * make e2e: no CD2L, SSIDSIZE 0, OAS 44, no MSI, 2-level ST, LE
     */
    SIMHOST_PROFILE_QEMU_SMMUV3,
    SIMHOST_PROFILE__MAX,
} SimhostProfile;

typedef struct SimhostSmmuCfg {
    uint32_t idr[6];            /* raw IDR0..5 as GET_HW_INFO returns them */
    uint32_t iidr;
    uint32_t aidr;
    uint32_t has_cmdqv;         /* Tegra241 CMDQV present */
    uint8_t cmdqv_version;      /* PARAM.VER */
    uint8_t cmdqv_log2vintfs;   /* VINTF0 is the kernel's */
    uint8_t cmdqv_log2vcmdqs;   /* LVCMDQs per VINTF */
    uint8_t cmdqv_log2vsids;    /* SID slots per VINTF */
    uint32_t canwbs;            /* root complex CANWBS (IORT) */
    uint32_t pad;
} SimhostSmmuCfg;

typedef struct SimhostDevCfg {
    uint32_t smmu;              /* host SMMU instance index */
    uint32_t sid;               /* physical StreamID */
    uint32_t ats;               /* 0: PCI_ATS_NOT_SUPPORTED in capabilities */
    uint32_t num_streams;       /* 1; >1 makes VDEVICE_ALLOC EOPNOTSUPP */
} SimhostDevCfg;

/* The IDRs and CMDQV parameters of a profile */
static inline void simhost_profile_fill(SimhostSmmuCfg *c, SimhostProfile p)
{
    *c = (SimhostSmmuCfg){ 0 };
    /*
     * IDR0: S2P S1P TTF=AArch64 COHACC ATS ASID16 MSI VMID16 CD2L
     * STALL_MODEL=1 (no stall) ST_LEVEL=2-level, TTENDIAN mixed
     */
    c->idr[0] = 0x3 | 2 << 2 | 1 << 4 | 1 << 10 | 1 << 12 | 1 << 13 |
                1 << 18 | 1 << 19 | 1 << 24 | 1 << 27;
    /* IDR1: SIDSIZE 16, SSIDSIZE 20, EVENTQS 19, CMDQS 19 */
    c->idr[1] = 16 | 20 << 6 | 19 << 16 | 19 << 21;
    /* IDR3: FWB, RIL, BBML2 */
    c->idr[3] = 1 << 8 | 1 << 10 | 2 << 11;
    /* IDR5: OAS 48, 4K 16K 64K */
    c->idr[5] = 5 | 7 << 4;
    /* MMU-700 r1p1 (no nesting errata), SMMUv3.2 */
    c->iidr = 0x487 << 20 | 1 << 16 | 1 << 12 | 0x43b;
    c->aidr = 0x2;
    switch (p) {
    case SIMHOST_PROFILE_SMMUV3_CMDQV:
        c->has_cmdqv = 1;
        c->cmdqv_version = 1;
        c->cmdqv_log2vintfs = 2;
        c->cmdqv_log2vcmdqs = 1;
        c->cmdqv_log2vsids = 4;
        break;
    case SIMHOST_PROFILE_SMMUV3_ALT:
        /* linear ST, LE only, 16-bit ASID off, SSIDSIZE 0, no RIL, OAS 44 */
        c->idr[0] = 0x3 | 2 << 2 | 1 << 4 | 1 << 13 | 1 << 18 | 2 << 21 |
                    1 << 24;
        c->idr[1] = 8 | 0 << 6 | 8 << 16 | 8 << 21;
        c->idr[3] = 1 << 8;
        c->idr[5] = 4 | 1 << 4;
        break;
    case SIMHOST_PROFILE_SMMUV3_NO_NESTING:
        c->idr[0] &= ~1u;           /* no S2P */
        break;
    case SIMHOST_PROFILE_QEMU_SMMUV3:
        /*
         * S2P S1P TTF COHACC ASID16 VMID16 TTENDIAN=LE STALL_MODEL=1
         * TERM_MODEL ST_LEVEL=2-level (hw/arm/smmuv3.c smmuv3_init_regs)
         */
        c->idr[0] = 0x3 | 2 << 2 | 1 << 4 | 1 << 12 | 1 << 18 | 2 << 21 |
                    1 << 24 | 1 << 26 | 1 << 27;
        c->idr[1] = 16 | 0 << 6 | 19 << 16 | 19 << 21;
        /* HAD XNX FWB RIL BBML2 */
        c->idr[3] = 1 << 2 | 1 << 4 | 1 << 8 | 1 << 10 | 2 << 11;
        c->idr[5] = 4 | 7 << 4;
        break;
    default:
        break;
    }
}


/* ---------------------------------------------------------------------- */
/* Kinds of calls (counters, fault injection)                              */
/* ---------------------------------------------------------------------- */

typedef enum SimhostKind {
    /* iommufd ioctls: kind = nr - 0x80 */
    SIMHOST_K_DESTROY = 0,
    SIMHOST_K_IOAS_ALLOC,
    SIMHOST_K_IOAS_ALLOW_IOVAS,
    SIMHOST_K_IOAS_COPY,
    SIMHOST_K_IOAS_IOVA_RANGES,
    SIMHOST_K_IOAS_MAP,
    SIMHOST_K_IOAS_UNMAP,
    SIMHOST_K_OPTION,
    SIMHOST_K_VFIO_IOAS,
    SIMHOST_K_HWPT_ALLOC,
    SIMHOST_K_GET_HW_INFO,
    SIMHOST_K_HWPT_SET_DIRTY,
    SIMHOST_K_HWPT_GET_DIRTY,
    SIMHOST_K_HWPT_INVALIDATE,
    SIMHOST_K_FAULT_QUEUE_ALLOC,
    SIMHOST_K_IOAS_MAP_FILE,
    SIMHOST_K_VIOMMU_ALLOC,
    SIMHOST_K_VDEVICE_ALLOC,
    SIMHOST_K_IOAS_CHANGE_PROCESS,
    SIMHOST_K_VEVENTQ_ALLOC,
    SIMHOST_K_HW_QUEUE_ALLOC,
    /* VFIO cdev */
    SIMHOST_K_VFIO_GET_INFO,
    SIMHOST_K_VFIO_REGION_INFO,
    SIMHOST_K_VFIO_IRQ_INFO,
    SIMHOST_K_VFIO_SET_IRQS,
    SIMHOST_K_VFIO_RESET,
    SIMHOST_K_VFIO_HOT_RESET_INFO,
    SIMHOST_K_VFIO_HOT_RESET,
    SIMHOST_K_VFIO_FEATURE,
    SIMHOST_K_VFIO_BIND,
    SIMHOST_K_VFIO_ATTACH,
    SIMHOST_K_VFIO_DETACH,
    /* other entry points */
    SIMHOST_K_MMAP,             /* mmap of the iommufd (VINTF page) */
    SIMHOST_K_VEVENTQ_READ,
    SIMHOST_K_CONFIG_READ,
    SIMHOST_K_CONFIG_WRITE,
    SIMHOST_K_BAR_READ,
    SIMHOST_K_BAR_WRITE,
    SIMHOST_K_UNKNOWN_IOCTL,
    /*
     * Pseudo kind: the CMD_SYNC that the host kernel appends to each
     * invalidation batch times out (HWPT_INVALIDATE fails with the injected
     * errno, entry_num = last command of the failed batch).
     */
    SIMHOST_K_INVAL_SYNC,
    SIMHOST_K__MAX,
} SimhostKind;

typedef struct SimhostInject {
    uint32_t kind;              /* SimhostKind */
    uint32_t skip;              /* let this many calls pass first */
    uint32_t count;             /* then fail this many (0 = slot unused) */
    int32_t err;                /* errno to fail with */
    uint32_t fired;             /* out: failures injected so far */
    uint32_t pad;
} SimhostInject;

/* ---------------------------------------------------------------------- */
/* Mailbox requests                                                        */
/* ---------------------------------------------------------------------- */

typedef enum SimhostReq {
    SIMHOST_REQ_NONE = 0,
    /*
     * The host SMMU of device arg[0] reports the raw event arg[1..4]
     * (its StreamID field is replaced by the device's pSID first); the
     * kernel forwarding rules apply. result = 0 if queued to a vEVENTQ,
     * -errno otherwise (EOPNOTSUPP: no vDEVICE/vEVENTQ, EPERM: not a
     * forwarded ID or a stage-2 fault).
     */
    SIMHOST_REQ_HOST_EVENT,
    /*
     * The CMDQV of the vIOMMU with id arg[0] (in iommufd arg[1], 0 = the
     * first one) flags LVCMDQ arg[2] in error: a TEGRA241_CMDQV vEVENT.
     */
    SIMHOST_REQ_CMDQV_ERROR,
    /* Run the VCMDQ consumers once now (they also poll by themselves) */
    SIMHOST_REQ_VCMDQ_POLL,
} SimhostReq;

/* ---------------------------------------------------------------------- */
/* The control block                                                       */
/* ---------------------------------------------------------------------- */

/* What a device is attached to (dev_attach_kind) */
#define SIMHOST_ATTACH_NONE     0
#define SIMHOST_ATTACH_PAGING   1       /* S2 (or plain) paging HWPT */
#define SIMHOST_ATTACH_NESTED   2       /* nested HWPT: see dev_ste */

typedef struct SimhostCtl {
    uint64_t magic;
    uint32_t version;
    uint32_t size;

    /* --- host description, written by the test before QEMU starts --- */
    uint32_t num_smmus;
    uint32_t num_devs;
    SimhostSmmuCfg smmu[SIMHOST_MAX_SMMUS];
    SimhostDevCfg dev[SIMHOST_MAX_DEVS];

    /* --- fault injection, written by the test at any time --- */
    SimhostInject inject[SIMHOST_MAX_INJECT];
    uint32_t event_alloc_fail;  /* next N vEVENTs: allocation fails (LOST) */
    uint32_t event_flood;       /* each reported event is reported N times */

    /* --- mailbox --- */
    uint32_t req_seq;
    uint32_t ack_seq;
    uint32_t req_op;
    int32_t req_result;
    uint64_t req_arg[6];

    /* --- counters, written by the library --- */
    uint64_t calls[SIMHOST_K__MAX];     /* every call, failed or not */
    uint64_t fails[SIMHOST_K__MAX];     /* calls that returned an error */
    uint32_t last_errno[SIMHOST_K__MAX];
    uint32_t live_objects;              /* iommufd objects alive now */
    uint32_t pad0;

    /* per device */
    uint32_t dev_bound[SIMHOST_MAX_DEVS];
    uint32_t dev_id[SIMHOST_MAX_DEVS];          /* iommufd dev_id */
    uint32_t dev_attached[SIMHOST_MAX_DEVS];    /* HWPT/IOAS id, 0 = none */
    uint32_t dev_attach_kind[SIMHOST_MAX_DEVS];
    uint64_t dev_ste[SIMHOST_MAX_DEVS][2];      /* vSTE when NESTED */
    uint32_t dev_vsid_valid[SIMHOST_MAX_DEVS];  /* a vmaster was captured */
    uint32_t dev_vsid[SIMHOST_MAX_DEVS];
    uint64_t dev_attach_count[SIMHOST_MAX_DEVS];
    uint64_t dev_resets[SIMHOST_MAX_DEVS];
    uint64_t dev_dma_ok[SIMHOST_MAX_DEVS];
    uint64_t dev_dma_fault[SIMHOST_MAX_DEVS];
    uint64_t dev_msi_sent[SIMHOST_MAX_DEVS];
    uint64_t dev_msi_lost[SIMHOST_MAX_DEVS];

    /* host SMMU model */
    uint64_t tlb_hits;
    uint64_t tlb_misses;
    uint64_t s2_faults;                 /* never forwarded */
    uint64_t events_reported;           /* candidate events raised */
    uint64_t events_queued;             /* reached a vEVENTQ */
    uint64_t events_lost;               /* dropped into LOST_EVENTS */
    uint64_t events_unforwarded;        /* no vDEVICE / vEVENTQ / S2 */
    uint64_t events_read;               /* records returned by read() */

    /* invalidation (HWPT_INVALIDATE on a vIOMMU) */
    uint64_t inval_ioctls;
    uint64_t inval_cmds_in;             /* entries submitted */
    uint64_t inval_cmds_done;           /* entries that reached "HW" */
    uint64_t inval_hw_batches;          /* kernel batches (<= 63 + SYNC) */
    uint32_t inval_last_num;            /* entry_num of the last ioctl */
    uint32_t inval_max_num;
    uint64_t inval_hist[8];     /* ioctls by log2(entry_num), last >= 128 */
    uint32_t inval_log_head;            /* next slot in inval_log */
    uint32_t pad1;
    uint64_t inval_log[SIMHOST_INVAL_LOG][2];   /* as converted for HW */

    /* Tegra241 CMDQV */
    uint64_t vcmdq_cmds;                /* commands consumed from VCMDQs */
    uint64_t vcmdq_errors;
    uint64_t vintf_mmaps;               /* live mmaps of VINTF pages */

    /* --- at exit (destructor of the library) --- */
    uint32_t exited;
    uint32_t objects_at_exit;
    uint32_t leaked_at_exit;    /* alive and not reachable from a bound dev */
    uint32_t leak_count_logged;
    struct {
        uint32_t type;          /* SimhostObjType */
        uint32_t id;
    } leak[SIMHOST_LEAK_LOG];
    uint32_t vdev_leaked_on_close;  /* cdev closed with its vDEVICE alive */
    uint32_t pad2;

    /*
     * --- a misbehaving host, written by the test at any time (each a
     * count of how often it happens; decremented as it does) ---
     */
    /* VIOMMU_ALLOC (TEGRA241) reports this out_vintf_mmap_length, 0: no */
    uint32_t bad_vintf_mmap_length;
    /* next HWPT_INVALIDATEs report entry_num = bad_entry_num */
    uint32_t bad_entry_num_count;
    uint32_t bad_entry_num;
    /* next vEVENTs: sequence number jumps by vevent_seq_jump first */
    uint32_t vevent_seq_jump_count;
    uint32_t vevent_seq_jump;
    /* next vEVENTs: sequence number reported as vevent_seq_raw */
    uint32_t vevent_seq_raw_count;
    uint32_t vevent_seq_raw;
    /* next reads: the last record returned cut short by this many bytes */
    uint32_t vevent_truncate_count;
    uint32_t vevent_truncate;
    /*
     * next DESTROYs of a vEVENTQ: EBUSY, as when a poller still holds its
     * file (counted in fails[SIMHOST_K_DESTROY])
     */
    uint32_t veventq_busy_count;
    uint32_t pad3;

    /* per device: physical ATS on since the last attach (EATS and ats) */
    uint32_t dev_ats_enabled[SIMHOST_MAX_DEVS];
} SimhostCtl;

typedef enum SimhostObjType {
    SIMHOST_OBJ_NONE = 0,
    SIMHOST_OBJ_IOAS,
    SIMHOST_OBJ_DEVICE,
    SIMHOST_OBJ_HWPT_PAGING,
    SIMHOST_OBJ_HWPT_NESTED,
    SIMHOST_OBJ_VIOMMU,
    SIMHOST_OBJ_VDEVICE,
    SIMHOST_OBJ_VEVENTQ,
    SIMHOST_OBJ_HW_QUEUE,
    SIMHOST_OBJ_FAULT,
} SimhostObjType;

/* ---------------------------------------------------------------------- */
/* The simulated PCI function                                              */
/* ---------------------------------------------------------------------- */

/*
 * Register-compatible with vsmmu-dma-testdev (include/hw/arm/vsmmu/
 * dma-testdev.h, same vendor/device ID and ID register), so the DMA helpers
 * of tests/qtest/vsmmu-qtest-lib.c drive it unchanged; its subsystem ID
 * tells them apart. BAR0 (4 KiB, 32-bit, not mmappable: every access is a
 * pread/pwrite of the VFIO cdev) holds 64-bit registers; the command runs
 * synchronously inside the write to CMD, its DMA through the host SMMU
 * model.
 */
#define SIMHOST_PCI_VENDOR      0x1234
#define SIMHOST_PCI_DEVICE      0x5a5a
#define SIMHOST_PCI_SUBSYS      0x5348      /* "SH" */
#define SIMHOST_BAR0_SIZE       0x1000
#define SIMHOST_DMA_ID          0x444d5356  /* "VSMD" */
#define SIMHOST_DMA_MAX_LEN     (1024 * 1024)

#define SIMHOST_R_ID            0x00
#define SIMHOST_R_SRC           0x08
#define SIMHOST_R_DST           0x10
#define SIMHOST_R_LEN           0x18
#define SIMHOST_R_CMD           0x20    /* OP [7:0], MSI on completion [8] */
#define SIMHOST_R_STATUS        0x28    /* CODE [31:0], NFAILED [63:32] */
#define SIMHOST_R_ERR_ADDR      0x30
#define SIMHOST_R_ITER          0x38
#define SIMHOST_R_STRIDE        0x40
#define SIMHOST_R_PATTERN       0x48
#define SIMHOST_R_DONE_COUNT    0x50
#define SIMHOST_R_MSI_SENT      0x58    /* RO: MSIs that reached the ITS */
#define SIMHOST_R_MSI_LOST      0x60    /* RO: MSIs lost (S1 not identity) */

#define SIMHOST_CMD_COPY        1
#define SIMHOST_CMD_READ_SWEEP  2
#define SIMHOST_CMD_FILL        3
#define SIMHOST_CMD_MSI         (1u << 8)

#define SIMHOST_STATUS_OK       0
#define SIMHOST_STATUS_DMA_ERROR 1
#define SIMHOST_STATUS_BAD_CMD  2

#endif /* TESTS_SIMHOST_SIMHOST_CTL_H */
