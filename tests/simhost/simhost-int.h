/*
 * simhost internals shared by the library's files (not for tests).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef TESTS_SIMHOST_SIMHOST_INT_H
#define TESTS_SIMHOST_SIMHOST_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <pthread.h>
#include <linux/iommufd.h>
#include <linux/vfio.h>
#include "simhost-ctl.h"

#ifndef offsetofend
#define offsetofend(t, f)       (offsetof(t, f) + sizeof(((t *)0)->f))
#endif
/* 7.2 uAPI value newer than QEMU 10.2's linux-headers (KC:INFO-2) */
#define SH_HW_CAP_PCI_ATS_NOT_SUPPORTED (1u << 3)

#define SH_PAGE                 4096ULL
#define SH_MAX_IDS              1024
#define SH_MAX_CTX              64
#define SH_TLB_SIZE             512
#define SH_CDC_SIZE             64
#define SH_MAX_VINTFS           16
#define SH_MAX_LVCMDQS          16
#define SH_MAX_VSIDS            64
#define SH_VINTF_PAGE           0x10000ULL
#define SH_HUGE                 (2ULL << 20)    /* physical contiguity unit */

/* SMMUv3 ID register fields the model uses */
#define IDR0_S2P                (1u << 0)
#define IDR0_S1P                (1u << 1)
#define IDR0_HTTU_SHIFT         6
#define IDR1_SSIDSIZE(v)        (((v) >> 6) & 0x1f)
#define IDR1_CMDQS(v)           (((v) >> 21) & 0x1f)
#define IDR3_FWB                (1u << 8)
#define IDR5_OAS(v)             ((v) & 7)

/* STE fields (dwords 0/1) accepted in a vSTE */
#define STE0_V                  (1ULL << 0)
#define STE0_CFG(v)             (((v) >> 1) & 7)
#define STE0_S1FMT(v)           (((v) >> 4) & 3)
#define STE0_S1CTXPTR_MASK      (((1ULL << 52) - 1) & ~0x3fULL)
#define STE0_S1CDMAX(v)         (((v) >> 59) & 0x1f)
#define STE0_NESTING_ALLOWED    (STE0_V | (7ULL << 1) | (3ULL << 4) | \
                                 STE0_S1CTXPTR_MASK | (0x1fULL << 59))
#define STE1_S1DSS(v)           ((v) & 3)
#define STE1_EATS_SHIFT         28
#define STE1_EATS_MASK          (3ULL << STE1_EATS_SHIFT)
#define STE1_NESTING_ALLOWED    (3ULL | (3ULL << 2) | (3ULL << 4) | \
                                 (3ULL << 6) | (1ULL << 27) | STE1_EATS_MASK)
#define STE_CFG_ABORT           0
#define STE_CFG_BYPASS          4
#define STE_CFG_S1              5

/* Event record */
#define EVT_C_BAD_STE           0x04
#define EVT_F_STREAM_DISABLED   0x06
#define EVT_C_BAD_SUBSTREAMID   0x08
#define EVT_C_BAD_CD            0x0a
#define EVT_F_TRANSLATION       0x10
#define EVT_F_ADDR_SIZE         0x11
#define EVT_F_ACCESS            0x12
#define EVT_F_PERMISSION        0x13
#define EVT1_RNW                (1ULL << 35)
#define EVT1_S2                 (1ULL << 39)
#define EVT1_CLASS_SHIFT        40

/* Commands */
#define CMD_CFGI_STE            0x03
#define CMD_CFGI_ALL            0x04
#define CMD_CFGI_CD             0x05
#define CMD_CFGI_CD_ALL         0x06
#define CMD_TLBI_NH_ALL         0x10
#define CMD_TLBI_NH_ASID        0x11
#define CMD_TLBI_NH_VA          0x12
#define CMD_TLBI_NH_VAA         0x13
#define CMD_TLBI_NSNH_ALL       0x30
#define CMD_ATC_INV             0x40
#define CMD_SYNC                0x46
#define CMDQ_BATCH              63

/* Tegra241 VINTF page0 registers of LVCMDQ q at 0x80 * q */
#define VCMDQ_CONS              0x00
#define VCMDQ_PROD              0x04
#define VCMDQ_CONFIG            0x08
#define VCMDQ_STATUS            0x0c
#define VCMDQ_GERROR            0x10
#define VCMDQ_GERRORN           0x14
#define VCMDQ_CONS_ERR_SHIFT    24
#define CERROR_ILL              1

typedef struct ShArea {
    uint64_t iova;
    uint64_t len;
    uint8_t *host;              /* QEMU's memory (user_va or our mmap) */
    bool writeable;
    bool file;                  /* MAP_FILE: host is our own mapping */
    uint64_t file_map_len;
    uint8_t *file_map;
    int locks;                  /* pinned by HW queues */
    struct ShArea *next;
} ShArea;

typedef struct ShResv {
    uint64_t start;
    uint64_t last;
    void *owner;                /* ShDev * (SW_MSI) or ShObj * (aperture) */
    struct ShResv *next;
} ShResv;

typedef struct ShEvent {
    struct iommufd_vevent_header hdr;
    uint32_t len;
    uint64_t data[4];
    bool lost;
    struct ShEvent *next;
} ShEvent;

typedef struct ShCtx ShCtx;
typedef struct ShObj ShObj;

struct ShObj {
    uint32_t id;
    SimhostObjType type;
    ShCtx *ctx;
    int users;

    /* IOAS */
    ShArea *areas;
    ShResv *resv;

    /* HWPT paging */
    ShObj *ioas;
    uint32_t flags;
    int smmu;
    uint16_t vmid;
    bool nest_parent;
    bool auto_domain;

    /* HWPT nested, vDEVICE, vEVENTQ, HW queue: the vIOMMU */
    ShObj *viommu;
    uint64_t ste[2];
    bool enable_ats;            /* nested: vSTE S1 with EATS TRANS */

    /* vIOMMU */
    ShObj *parent;
    uint32_t viommu_type;
    int vintf;                  /* Tegra: VINTF index, 0 = none */
    uint64_t mmap_off;
    int page_fd;
    uint8_t *page;              /* our mapping of the VINTF page0 */
    int mmaps;
    ShObj *veventq[4];          /* by vEVENTQ type */
    ShObj *hwq[SH_MAX_LVCMDQS];
    uint32_t sid_match[SH_MAX_VSIDS];
    uint32_t sid_replace[SH_MAX_VSIDS];
    uint64_t err_map[2];

    /* vDEVICE */
    int dev;
    uint64_t virt_id;
    int sid_slot;

    /* vEVENTQ */
    uint32_t vtype;
    int efd;
    bool fd_open;
    uint32_t depth;
    uint32_t num_events;
    uint32_t sequence;
    ShEvent *head;
    ShEvent *tail;
    ShEvent lost_hdr;
    bool lost_queued;

    /* HW queue */
    uint32_t index;
    uint64_t q_iova;
    uint64_t q_len;
    uint8_t *q_host;
    ShArea *q_area;
    uint32_t q_log2;
};

struct ShCtx {
    bool used;
    ino_t ino;
    ShObj *objs[SH_MAX_IDS];
    uint64_t next_mmap_off;
};

typedef struct ShDev {
    bool bound;
    ShCtx *ctx;
    ShObj *idev;
    ShObj *attached;            /* HWPT (paging or nested) */
    bool vmaster;
    uint32_t vsid;
    ShObj *vmaster_viommu;
    ShObj *vdevice;
    uint8_t config[256];
    /* BAR0 */
    uint64_t src, dst, len, status, err_addr, iter, stride, pattern, done;
    uint64_t msi_sent, msi_lost;
    int irq_efd[VFIO_PCI_NUM_IRQS];
} ShDev;

typedef struct ShTlb {
    bool valid;
    int smmu;
    uint16_t vmid;
    uint16_t asid;
    uint64_t va;                /* aligned to 1 << shift */
    unsigned shift;
    uint64_t ipa;
    bool writeable;
} ShTlb;

typedef struct ShCdCache {
    bool valid;
    int smmu;
    uint32_t sid;
    uint32_t ssid;
    uint64_t cd[4];
} ShCdCache;

typedef struct ShSmmu {
    uint8_t vmid_used[256];
    bool vintf_used[SH_MAX_VINTFS];
    ShTlb tlb[SH_TLB_SIZE];
    unsigned tlb_next;
    ShCdCache cdc[SH_CDC_SIZE];
    unsigned cdc_next;
} ShSmmu;

typedef struct ShFault {
    unsigned event;             /* 0: silent abort */
    bool s2;
    bool cd_class;
    uint64_t addr;
    uint64_t ipa;
} ShFault;

/* Global state (simhost.c) */
extern pthread_mutex_t sh_lock;
extern SimhostCtl *sh_ctl;
extern ShDev sh_dev[SIMHOST_MAX_DEVS];
extern ShSmmu sh_smmu[SIMHOST_MAX_SMMUS];
extern ShCtx sh_ctx[SH_MAX_CTX];

void sh_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* 1 << @log2 for a host parameter the test may set to anything */
static inline unsigned sh_pow2(unsigned log2)
{
    return log2 < 31 ? 1u << log2 : 1u << 31;
}
ssize_t sh_real_read(int fd, void *buf, size_t n);
ssize_t sh_real_write(int fd, const void *buf, size_t n);
ShCtx *sh_ctx_of_fd(int fd);
void sh_register_veventq_fd(int fd, ShObj *q);

/*
 * /dev/iommu: simhost-iommufd.c (objects, the ioctl dispatch, DESTROY,
 * GET_HW_INFO, HWPT_ALLOC, devices), simhost-ioas.c (IOAS, options),
 * simhost-viommu.c (vIOMMU, vDEVICE, invalidation, vEVENTQ, HW queue,
 * mmap). An ioctl handler takes the user's struct at @uarg and returns 0
 * or -errno; REFUSE() logs why and returns the error.
 */
#define REFUSE(err, ...) do { sh_log(__VA_ARGS__); return -(err); } while (0)

/* simhost-iommufd.c */
int sh_iommufd_ioctl(ShCtx *ctx, unsigned long req, void *arg);
ShObj *sh_obj_get(ShCtx *ctx, uint32_t id);
/* Object @id if it is of @type, else NULL */
ShObj *sh_obj_typed(ShCtx *ctx, uint32_t id, SimhostObjType type);
/* A new object with the lowest free ID (KC:GEN-4), NULL if none */
ShObj *sh_obj_new(ShCtx *ctx, SimhostObjType type);
void sh_area_free(ShArea *a);
/*
 * The user struct at @uarg (leading __u32 size) into @dst (@known bytes):
 * size < @min -> EINVAL; bytes past @known must be zero -> E2BIG
 * (KC:GEN-1, KC:GEN-2)
 */
int sh_arg_in(void *dst, size_t known, const void *uarg, size_t min);
/* @src back to the user, as many bytes as the user's size says */
void sh_arg_out(void *uarg, const void *src, size_t known);
#define ARG_IN(var, uarg, last) \
    sh_arg_in(&(var), sizeof(var), (uarg), \
              offsetof(typeof(var), last) + sizeof((var).last))
SimhostSmmuCfg *sh_smmu_cfg(int smmu);
bool sh_smmu_nesting(int smmu);
int sh_dev_smmu(int n);
/* The iommufd device object @id of this context, else NULL */
ShObj *sh_dev_obj(ShCtx *ctx, uint32_t id);
int sh_dev_attach(ShDev *d, int n, uint32_t *pt_id);
int sh_dev_detach(ShDev *d, int n);
void sh_dev_unbind(ShDev *d, int n);
bool sh_device_bind(ShCtx *ctx, int n, ShObj **out);
int sh_inject_check(SimhostKind kind);
unsigned sh_count_leaks(bool log);

/* simhost-ioas.c */
ShArea *sh_area_find(ShObj *ioas, uint64_t start, uint64_t last);
void sh_resv_add(ShObj *ioas, uint64_t start, uint64_t last, void *owner);
int sh_ioas_alloc(ShCtx *ctx, void *uarg);
int sh_ioas_map(ShCtx *ctx, void *uarg);
int sh_ioas_map_file(ShCtx *ctx, void *uarg);
int sh_ioas_unmap(ShCtx *ctx, void *uarg);
int sh_ioas_iova_ranges(ShCtx *ctx, void *uarg);
int sh_ioas_option(ShCtx *ctx, void *uarg);
int sh_ioas_change_process(ShCtx *ctx, void *uarg);

/* simhost-viommu.c */
int sh_viommu_alloc(ShCtx *ctx, void *uarg);
int sh_vdevice_alloc(ShCtx *ctx, void *uarg);
int sh_hwpt_invalidate(ShCtx *ctx, void *uarg);
int sh_veventq_alloc(ShCtx *ctx, void *uarg);
int sh_hw_queue_alloc(ShCtx *ctx, void *uarg);
int sh_iommufd_mmap(ShCtx *ctx, void *addr, size_t len, int prot, int flags,
                    off_t off, void **out);
void sh_iommufd_munmap(void *addr, size_t len);
ssize_t sh_veventq_read(ShObj *q, void *buf, size_t n);
void sh_veventq_close(ShObj *q);
void sh_viommu_report(ShObj *viommu, uint32_t vtype, const uint64_t *data,
                      unsigned len);

/* simhost-smmu.c */
int sh_translate(int n, uint64_t iova, bool write, uint8_t **host,
                 uint64_t *avail, ShFault *f);
void sh_report_fault(int n, const ShFault *f, bool write);
int sh_host_event(int n, const uint64_t *evt);
void sh_hw_exec(int smmu, const uint64_t *cmd);
void sh_cd_cache_flush_sid(int smmu, uint32_t sid);
void sh_tlb_flush_vmid(int smmu, uint16_t vmid);
void sh_vcmdq_poll_all(void);
int sh_msi_translate(int n);

/* simhost-vfio.c */
int sh_vfio_ioctl(int n, unsigned long req, void *arg);
ssize_t sh_vfio_rw(int n, void *buf, size_t len, off_t off, bool write);
void sh_vfio_close(int n);

#endif /* TESTS_SIMHOST_SIMHOST_INT_H */
