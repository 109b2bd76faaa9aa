/*
 * vsmmu: the Tegra241 CMDQV on a host that has one — the guest's VCMDQs
 * consumed by the host's hardware (Linux 7.2 iommufd, docs/cmdqv.md)
 *
 * The vIOMMU is of type TEGRA241_CMDQV: the host gives it a VINTF whose
 * page 0 (the LVCMDQs' CONS, PROD, CONFIG, STATUS, GERROR, GERRORN) can
 * be mmapped from the iommufd. That page is mapped into the guest at
 * CMDQV base + 0x30000 (VINTF0 page 0) as a RAM-device region while
 * CMDQV_EN and VINTF0 EN are set and every queue the guest uses is the
 * host's, so PROD/CONS/CONFIG accesses never trap. The config page and
 * page 1 (BASE) stay trapped: a BASE write makes the host queue
 * (IOMMU_HW_QUEUE_ALLOC) before it returns, so the guest's following
 * CONFIG.EN, which goes straight to the hardware, finds it.
 *
 * Host rules (HW_QUEUE): queues are made in ascending logical index from
 * 0 and destroyed in descending order; a queue is a power of two of 32
 * bytes to 16 << host IDR1.CMDQS, aligned to its size, and physically
 * contiguous. What the host cannot back is reported to the user and the
 * queue is emulated in error (its page 0 trapped, its fetches abort).
 *
 * Without any assigned device there is no vIOMMU: the VCMDQs are then
 * emulated, their state moved out of and back into the host page as the
 * vIOMMU goes and comes, so any device may be unplugged.
 *
 * Lifetimes. The page's MemoryRegion may be referenced by FlatViews for
 * an RCU grace period after it is disabled (a vCPU that looked up the
 * old view may still access it), and a MemoryRegion may only be
 * finalized with its owner. So the region and the address range it
 * points to are made once, at the first vIOMMU with a VINTF, and live as
 * long as the vsmmu: the range is reserved with anonymous memory, the
 * host page is mmapped over it (MAP_FIXED) while there is a vIOMMU, and
 * when the vIOMMU goes the region is disabled and anonymous memory put
 * back over the range (MAP_FIXED again, atomically). A late access
 * through an old view then reads zeroes and writes nowhere that matters;
 * the host mapping, which holds a reference on the vIOMMU in the kernel,
 * is gone before the vIOMMU is destroyed. Nothing is ever munmapped, so
 * no RCU callback is needed and nothing else can be mapped there.
 *
 * Everything here runs under the BQL with no vsmmu lock held: MMIO
 * handlers, the vEVENTQ fd handler, attach/detach.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/atomic.h"
#include "qemu/error-report.h"
#include "qemu/log.h"
#include "qemu/main-loop.h"
#include "qapi/error.h"
#include "system/address-spaces.h"
#include "system/ramblock.h"
#include "system/iommufd.h"
#include "hw/vfio/vsmmu-iommufd.h"
#include "vsmmu-internal.h"
#include "vsmmu-cmdqv.h"
#include "trace.h"

/* The host VINTF page: LVCMDQ page 0 registers, 64 KiB on any page size */
#define CMDQV_HOST_PAGE_SIZE    0x10000
#define CMDQV_VEVENTQ_DEPTH     64
/* Smallest queue the host takes: 2 commands */
#define CMDQV_HOST_QUEUE_MIN    32
/* Host values: LVCMDQ_ERR_MAP has 128 bits; PARAM fields have 4 */
#define CMDQV_HOST_LOG2VCMDQS_MAX   7
#define CMDQV_HOST_LOG2VSIDS_MAX    15
#define CMDQV_HOST_VERSION_MAX      15

/* The host's side of VINTF0, while the vsmmu has a vIOMMU (cv->host) */
struct VsmmuCmdqvHost {
    VsmmuState *s;
    IOMMUFDBackend *be;
    VsmmuIommufdReaper *reaper;  /* vsmmu-accel.c's, for its host objects */
    VsmmuReportLimit *limit;     /* ... and its rate limit of reports */
    uint32_t viommu_id;
    struct iommu_viommu_tegra241_cmdqv data;    /* VIOMMU_ALLOC output */
    struct iommu_hw_info_tegra241_cmdqv info;
    uint8_t host_cmdqs;          /* host IDR1.CMDQS */
    bool page;                   /* the VINTF page is mapped at the area */
    uint8_t *page0;              /* ... there, while mapped */
    bool mapped;                 /* ... and the region enabled in the guest */
    bool live[CMDQV_MAX_VCMDQS]; /* logical queue backed by the host */

    uint32_t hw_queue[CMDQV_MAX_VCMDQS];   /* HW queue id per lidx, 0 none */
    uint64_t made_from[CMDQV_MAX_VCMDQS];  /* BASE it (or its fault) is for */

    uint32_t veventq_id;
    int veventq_fd;
    uint32_t vevent_seq;         /* next expected vEVENT sequence number */
    bool vevent_seq_valid;
};

/*
 * Where the host VINTF page is mapped, and the RAM-device region that
 * overlays it on VINTF0 page 0: made at the first vIOMMU with a host
 * VINTF and kept for the device's life (cv->host_page; the region is
 * finalized only with its owner, the address range stays reserved)
 */
typedef struct VsmmuCmdqvHostPage {
    void *area;
    MemoryRegion mr;
} VsmmuCmdqvHostPage;

/*
 * The host VINTF page holds hardware registers that change behind QEMU's
 * back: one access each, never cached (@r: a queue's page 0 registers)
 */
static inline uint32_t cmdqv_hreg(uint32_t *r, unsigned idx)
{
    return qatomic_read(&r[idx]);
}

static inline void cmdqv_hreg_set(uint32_t *r, unsigned idx, uint32_t v)
{
    qatomic_set(&r[idx], v);
}

/* The host page 0 registers of logical queue @lidx */
static uint32_t *cmdqv_host_regs(VsmmuCmdqvHost *h, unsigned lidx)
{
    return (uint32_t *)(h->page0 + CMDQV_VCMDQ_STRIDE * lidx);
}

/* ---- vIOMMU type -------------------------------------------------------- */

bool vsmmu_cmdqv_accel_viommu_type(VsmmuState *s, IOMMUFDBackend *be,
                                   VsmmuIommufdReaper *reaper,
                                   VsmmuReportLimit *limit, uint32_t dev_id,
                                   const uint32_t host_idr[6], uint32_t *type,
                                   void **data, uint32_t *len, Error **errp)
{
    VsmmuCmdqv *cv = &s->cmdqv;
    struct iommu_hw_info_tegra241_cmdqv info = { 0 };
    uint8_t host_cmdqs = FIELD_EX32(host_idr[1], IDR1, CMDQS);
    uint8_t guest_cmdqs;
    VsmmuCmdqvHost *h;
    Error *local_err = NULL;

    *type = IOMMU_VIOMMU_TYPE_ARM_SMMUV3;
    *data = NULL;
    *len = 0;
    if (cv->decided ? !cv->present : !memory_region_size(&cv->mmio)) {
        return true;            /* no CMDQV for this guest */
    }
    s->stats.host_ioctls++;
    if (!vsmmu_iommufd_hw_info(be, dev_id,
                               IOMMU_HW_INFO_TYPE_TEGRA241_CMDQV, &info,
                               sizeof(info), NULL, &local_err)) {
        if (cv->mode == ON_OFF_AUTO_ON) {
            warn_report_err_once(local_err);
            warn_report_once("vsmmu: cmdqv=on but the host SMMU has no "
                             "Tegra241 CMDQV: the guest's VCMDQs are "
                             "emulated (every PROD write traps)");
        } else {
            error_free(local_err);
        }
        return true;
    }
    trace_vsmmu_cmdqv_accel_host(info.version, info.log2vcmdqs,
                                 info.log2vsids);
    /* Host values, before any use (shifts below) */
    if (info.log2vcmdqs > CMDQV_HOST_LOG2VCMDQS_MAX ||
        info.log2vsids > CMDQV_HOST_LOG2VSIDS_MAX ||
        info.version > CMDQV_HOST_VERSION_MAX) {
        error_setg(errp, "vsmmu: the host CMDQV reports log2vcmdqs=%u, "
                   "log2vsids=%u, version=%u; at most %u, %u and %u are "
                   "possible", info.log2vcmdqs, info.log2vsids, info.version,
                   CMDQV_HOST_LOG2VCMDQS_MAX, CMDQV_HOST_LOG2VSIDS_MAX,
                   CMDQV_HOST_VERSION_MAX);
        return false;
    }
    /* cmdqv=auto decided now (cold plug): the guest has not probed yet */
    vsmmu_cmdqv_cap_cmdqs(s);
    guest_cmdqs = FIELD_EX32(s->idr[1], IDR1, CMDQS);
    if (cv->num_vcmdqs > 1u << info.log2vcmdqs ||
        cv->num_sids > 1u << info.log2vsids) {
        error_setg(errp, "vsmmu: cmdqv-vcmdqs=%u cmdqv-sids=%u, but a VINTF "
                   "of the host CMDQV has %u VCMDQs and %u SIDs",
                   cv->num_vcmdqs, cv->num_sids, 1u << info.log2vcmdqs,
                   1u << info.log2vsids);
        return false;
    }
    if (host_cmdqs < guest_cmdqs) {
        error_setg(errp, "vsmmu: the guest may make VCMDQs of 2^%u entries "
                   "(IDR1.CMDQS), the host CMDQV only of 2^%u", guest_cmdqs,
                   host_cmdqs);
        return false;
    }
    cv->host_seen = true;
    vsmmu_cmdqv_set_param(cv, info.version);
    h = g_new0(VsmmuCmdqvHost, 1);
    h->s = s;
    h->be = be;
    h->reaper = reaper;
    h->limit = limit;
    h->info = info;
    h->host_cmdqs = host_cmdqs;
    h->veventq_fd = -1;
    cv->host = h;
    *type = IOMMU_VIOMMU_TYPE_TEGRA241_CMDQV;
    *data = &h->data;
    *len = sizeof(h->data);
    return true;
}

/* ---- the guest's queues on the host -------------------------------------- */

static void cmdqv_map_update(VsmmuState *s)
{
    VsmmuCmdqv *cv = &s->cmdqv;
    VsmmuCmdqvHost *h = cv->host;
    bool want;

    if (!h || !h->page) {
        return;
    }
    want = vsmmu_cmdqv_vintf_enabled(cv);
    for (unsigned q = 0; q < cv->num_vcmdqs && want; q++) {
        int lidx = vsmmu_cmdqv_lidx(cv, q);

        /* a queue in fault is emulated: keep page 0 trapped */
        if (lidx >= 0 && cv->vcmdq[q].host_fault) {
            want = false;
        }
    }
    if (want != h->mapped) {
        memory_region_set_enabled(&cv->host_page->mr, want);
        h->mapped = want;
        trace_vsmmu_cmdqv_accel_map(want);
    }
}

/* Descending: a HW queue holds a reference on the one below it */
static void cmdqv_queue_destroy(VsmmuState *s, unsigned lidx)
{
    VsmmuCmdqvHost *h = s->cmdqv.host;

    h->live[lidx] = false;
    trace_vsmmu_cmdqv_accel_queue_destroy(lidx, h->hw_queue[lidx]);
    vsmmu_iommufd_destroy_later(h->reaper, h->hw_queue[lidx],
                                "HW queue", false, NULL, NULL, NULL);
    h->hw_queue[lidx] = 0;
}

/*
 * Can the host back [ipa, ipa + len)? It must be guest RAM, aligned to
 * its size, and within one page of the RAM's backing (the only
 * physical contiguity a host guarantees).
 */
static bool cmdqv_queue_backable(VsmmuState *s, unsigned lidx, hwaddr ipa,
                                 uint64_t len, Error **errp)
{
    MemoryRegionSection sec;
    uintptr_t host;
    size_t pagesize;
    bool ok;

    if (len < CMDQV_HOST_QUEUE_MIN ||
        len > 16ULL << s->cmdqv.host->host_cmdqs) {
        error_setg(errp, "queue of %" PRIu64 " bytes: the host takes %u to "
                   "%llu", len, CMDQV_HOST_QUEUE_MIN,
                   16ULL << s->cmdqv.host->host_cmdqs);
        return false;
    }
    if (ipa & (len - 1)) {
        error_setg(errp, "base 0x%" HWADDR_PRIx " is not aligned to the "
                   "queue size 0x%" PRIx64, ipa, len);
        return false;
    }
    sec = memory_region_find(get_system_memory(), ipa, len);
    if (!sec.mr) {
        error_setg(errp, "base 0x%" HWADDR_PRIx " is not guest memory", ipa);
        return false;
    }
    ok = memory_region_is_ram(sec.mr) && !memory_region_is_ram_device(sec.mr)
         && int128_get64(sec.size) == len;
    if (!ok) {
        error_setg(errp, "[0x%" HWADDR_PRIx ", +0x%" PRIx64 ") is not all "
                   "guest RAM", ipa, len);
    } else {
        host = (uintptr_t)memory_region_get_ram_ptr(sec.mr) +
               sec.offset_within_region;
        pagesize = qemu_ram_pagesize(sec.mr->ram_block);
        if ((host ^ (host + len - 1)) & ~(uintptr_t)(pagesize - 1)) {
            error_setg(errp, "[0x%" HWADDR_PRIx ", +0x%" PRIx64 ") spans "
                       "more than one %zu-byte page of the guest RAM's "
                       "backing: it may not be physically contiguous", ipa,
                       len, pagesize);
            ok = false;
        }
    }
    memory_region_unref(sec.mr);
    return ok;
}

/* Make the host queue of @lidx from the guest's BASE of global queue @q */
static void cmdqv_queue_make(VsmmuState *s, unsigned lidx, unsigned q)
{
    VsmmuCmdqv *cv = &s->cmdqv;
    VsmmuCmdqvHost *h = cv->host;
    VsmmuVcmdq *vq = &cv->vcmdq[q];
    unsigned log2size = MIN(FIELD_EX64(vq->q.base, VCMDQ_BASE, LOG2SIZE),
                            FIELD_EX32(s->idr[1], IDR1, CMDQS));
    uint64_t len = (uint64_t)VSMMU_CMD_SIZE << log2size;
    hwaddr ipa = FIELD_EX64(vq->q.base, VCMDQ_BASE, ADDR) <<
                 R_VCMDQ_BASE_ADDR_SHIFT;
    Error *err = NULL;

    if (lidx && !h->live[lidx - 1]) {
        /* made when the one below is (the host's order); not an error yet */
        qemu_log_mask(LOG_GUEST_ERROR, "vsmmu-cmdqv: logical VCMDQ %u has a "
                      "base before VCMDQ %u: the host queue waits for it\n",
                      lidx, lidx - 1);
        return;
    }
    h->made_from[lidx] = vq->q.base;
    if (cmdqv_queue_backable(s, lidx, ipa, len, &err)) {
        s->stats.host_ioctls++;
        if (vsmmu_iommufd_hw_queue_alloc(h->be, h->viommu_id,
                                         IOMMU_HW_QUEUE_TYPE_TEGRA241_CMDQV,
                                         lidx, ipa, len, &h->hw_queue[lidx],
                                         &err)) {
            h->live[lidx] = true;
            trace_vsmmu_cmdqv_accel_queue(lidx, ipa, len, h->hw_queue[lidx]);
            return;
        }
    }
    /*
     * The user learns why (rate-limited: the guest may write BASE again
     * and again); the guest sees the queue's fetches abort
     */
    error_prepend(&err, "vsmmu: cmdqv: the host cannot back logical VCMDQ "
                  "%u: ", lidx);
    vsmmu_report_limited(h->limit, err);
    qemu_log_mask(LOG_GUEST_ERROR, "vsmmu-cmdqv: VCMDQ %u BASE 0x%" PRIx64
                  " cannot be used; its commands abort\n", q, vq->q.base);
    vq->host_fault = true;
}

/*
 * The guest's programming changed (CMDQV/VINTF CONFIG, CMDQ_ALLOC, BASE,
 * reset): destroy the host queues that no longer match, highest first,
 * then make the missing ones, lowest first.
 */
static void cmdqv_host_sync(VsmmuState *s)
{
    VsmmuCmdqv *cv = &s->cmdqv;
    VsmmuCmdqvHost *h = cv->host;
    bool on = vsmmu_cmdqv_vintf_enabled(cv);
    unsigned n = cv->num_vcmdqs;
    int first_bad = n;

    for (unsigned l = 0; l < n; l++) {
        int q = vsmmu_cmdqv_global(cv, l);
        uint64_t base = q >= 0 ? cv->vcmdq[q].q.base : 0;
        bool want = on && q >= 0 && FIELD_EX64(base, VCMDQ_BASE, ADDR);

        if ((h->live[l] || h->made_from[l]) &&
            (!want || base != h->made_from[l])) {
            first_bad = l;
            break;
        }
    }
    for (int l = n - 1; l >= first_bad; l--) {
        int q = vsmmu_cmdqv_global(cv, l);

        if (h->live[l]) {
            cmdqv_queue_destroy(s, l);
        }
        h->made_from[l] = 0;
        if (q >= 0) {
            cv->vcmdq[q].host_fault = false;
        }
    }
    /* a queue in fault no longer allocated must not keep its flag */
    for (unsigned q = 0; q < n; q++) {
        if (vsmmu_cmdqv_lidx(cv, q) < 0) {
            cv->vcmdq[q].host_fault = false;
        }
    }
    for (unsigned l = 0; l < n && on; l++) {
        int q = vsmmu_cmdqv_global(cv, l);

        if (q >= 0 && !h->live[l] && !h->made_from[l] &&
            FIELD_EX64(cv->vcmdq[q].q.base, VCMDQ_BASE, ADDR)) {
            cmdqv_queue_make(s, l, q);
        }
    }
    cmdqv_map_update(s);
}

/* ---- errors: the TEGRA241 vEVENTQ ---------------------------------------- */

/* What a lost record would have said: every host queue in error */
static void cmdqv_vevent_rebuild(VsmmuCmdqv *cv, uint64_t map[2])
{
    VsmmuCmdqvHost *h = cv->host;

    map[0] = map[1] = 0;
    for (unsigned l = 0; l < cv->num_vcmdqs; l++) {
        uint32_t *r = cmdqv_host_regs(h, l);

        if (h->live[l] &&
            ((cmdqv_hreg(r, R_VCMDQ_GERROR) ^
              cmdqv_hreg(r, R_VCMDQ_GERRORN)) & 1)) {
            map[l / 64] |= 1ULL << (l % 64);
        }
    }
}

/*
 * One read of the vEVENTQ (bounded: a buffer of records per call). The
 * host's records are checked before use: a truncated one ends the read,
 * a sequence gap or a sequence number out of [0, INT_MAX] counts as lost
 * records, whose map is rebuilt from the host queues; bits beyond the
 * guest's queues are ignored.
 */
static void cmdqv_vevent_read(void *opaque)
{
    VsmmuState *s = opaque;
    VsmmuCmdqv *cv = &s->cmdqv;
    VsmmuCmdqvHost *h = cv->host;
    struct {
        struct iommufd_vevent_header hdr;
        struct iommu_vevent_tegra241_cmdqv evt;
    } QEMU_PACKED buf[8];
    uint8_t *p = (uint8_t *)buf;
    ssize_t len = read(h->veventq_fd, buf, sizeof(buf));
    ssize_t off = 0;
    bool raise = false;
    Error *err = NULL;

    if (len < 0) {
        if (errno != EAGAIN && errno != EINTR) {
            error_setg_errno(&err, errno, "vsmmu: cmdqv: vEVENTQ read "
                             "failed");
            vsmmu_report_limited(h->limit, err);
        }
        return;
    }
    if (len > (ssize_t)sizeof(buf)) {
        len = sizeof(buf);      /* a host that says it wrote more */
    }
    while (off + (ssize_t)sizeof(struct iommufd_vevent_header) <= len) {
        struct iommufd_vevent_header hdr;
        uint64_t map[2] = { 0, 0 }, now[2];
        bool lost;

        memcpy(&hdr, p + off, sizeof(hdr));
        off += sizeof(hdr);
        lost = hdr.flags & IOMMU_VEVENTQ_FLAG_LOST_EVENTS ||
               hdr.sequence > INT32_MAX ||
               (h->vevent_seq_valid && hdr.sequence != h->vevent_seq);
        h->vevent_seq_valid = hdr.sequence <= INT32_MAX;
        h->vevent_seq = (hdr.sequence + 1) & INT32_MAX;
        if (!(hdr.flags & IOMMU_VEVENTQ_FLAG_LOST_EVENTS)) {
            if (off + (ssize_t)sizeof(map) > len) {
                error_setg(&err, "vsmmu: cmdqv: truncated vEVENTQ record "
                           "(%zd bytes of %zu)", len - off, sizeof(map));
                vsmmu_report_limited(h->limit, err);
                lost = true;
                off = len;
            } else {
                memcpy(map, p + off, sizeof(map));
                off += sizeof(map);
                map[0] = le64_to_cpu(map[0]);
                map[1] = le64_to_cpu(map[1]);
            }
        }
        if (lost) {
            /* what was lost: the host queues still in error */
            cmdqv_vevent_rebuild(cv, now);
            map[0] |= now[0];
            map[1] |= now[1];
        }
        trace_vsmmu_cmdqv_accel_vevent(hdr.sequence, map[0], map[1]);
        s->stats.host_events++;
        for (unsigned l = 0; l < cv->num_vcmdqs; l++) {
            if (map[l / 64] >> (l % 64) & 1) {
                uint32_t *r = cmdqv_host_regs(h, l);

                cv->host_err_map[l / 64] |= 1ULL << (l % 64);
                cv->host_err_gerrorn[l] = h->live[l] ?
                                          cmdqv_hreg(r, R_VCMDQ_GERRORN) : 0;
                cv->stats_errors++;
                raise = true;
            }
        }
    }
    if (raise) {
        vsmmu_cmdqv_irq(s);
    }
}

/* ---- the queues' state and the host page ------------------------------- */

/* Emulated state of the queues the host now backs goes into its page */
static void cmdqv_state_to_host(VsmmuState *s)
{
    VsmmuCmdqv *cv = &s->cmdqv;
    VsmmuCmdqvHost *h = cv->host;

    for (unsigned l = 0; l < cv->num_vcmdqs; l++) {
        int q = vsmmu_cmdqv_global(cv, l);
        uint32_t *r;
        VsmmuVcmdq *vq;

        if (q < 0 || !h->live[l]) {
            continue;
        }
        vq = &cv->vcmdq[q];
        r = cmdqv_host_regs(h, l);
        cmdqv_hreg_set(r, R_VCMDQ_CONS, vq->q.cons);
        cmdqv_hreg_set(r, R_VCMDQ_PROD, vq->q.prod);
        /* an error the hardware did not raise cannot be carried over */
        cmdqv_hreg_set(r, R_VCMDQ_GERRORN, cmdqv_hreg(r, R_VCMDQ_GERROR));
        cmdqv_hreg_set(r, R_VCMDQ_CONFIG, vq->config);
    }
}

/* ... and back into the model when the host's queues go */
static void cmdqv_state_from_host(VsmmuState *s)
{
    VsmmuCmdqv *cv = &s->cmdqv;
    VsmmuCmdqvHost *h = cv->host;

    for (unsigned l = 0; l < cv->num_vcmdqs; l++) {
        int q = vsmmu_cmdqv_global(cv, l);
        uint32_t *r;
        VsmmuVcmdq *vq;

        if (q < 0 || !h->live[l]) {
            continue;
        }
        vq = &cv->vcmdq[q];
        r = cmdqv_host_regs(h, l);
        vq->q.cons = cmdqv_hreg(r, R_VCMDQ_CONS);
        vq->q.prod = cmdqv_hreg(r, R_VCMDQ_PROD);
        vq->config = cmdqv_hreg(r, R_VCMDQ_CONFIG) & R_VCMDQ_CONFIG_EN_MASK;
        vq->gerror = cmdqv_hreg(r, R_VCMDQ_GERROR) & VCMDQ_GERROR_BITS;
        vq->gerrorn = cmdqv_hreg(r, R_VCMDQ_GERRORN) & VCMDQ_GERROR_BITS;
    }
}

/*
 * The address range and the region for the host page, once for the
 * device's life (see the top of this file)
 */
static bool cmdqv_host_area_init(VsmmuState *s, Error **errp)
{
    VsmmuCmdqv *cv = &s->cmdqv;

    void *area;

    if (cv->host_page) {
        return true;
    }
    area = vsmmu_iommufd_reserve(CMDQV_HOST_PAGE_SIZE, errp);
    if (!area) {
        return false;
    }
    /* never freed: the region lives as long as its owner, the vsmmu */
    cv->host_page = g_new0(VsmmuCmdqvHostPage, 1);
    cv->host_page->area = area;
    memory_region_init_ram_device_ptr(&cv->host_page->mr, OBJECT(s),
                                      "vsmmu-cmdqv-vintf0-page0",
                                      CMDQV_HOST_PAGE_SIZE, area);
    memory_region_set_enabled(&cv->host_page->mr, false);
    memory_region_add_subregion_overlap(&cv->mmio, CMDQV_VINTF0_PAGE0,
                                        &cv->host_page->mr, 1);
    return true;
}

/* The page out of the guest, then out of QEMU: anonymous memory back */
static void cmdqv_page_unmap(VsmmuState *s)
{
    VsmmuCmdqv *cv = &s->cmdqv;
    VsmmuCmdqvHost *h = cv->host;
    Error *err = NULL;

    if (h->mapped) {
        memory_region_set_enabled(&cv->host_page->mr, false);
        h->mapped = false;
        trace_vsmmu_cmdqv_accel_map(false);
    }
    h->page0 = NULL;
    s->stats.host_ioctls++;
    if (!vsmmu_iommufd_unmap_at(cv->host_page->area, CMDQV_HOST_PAGE_SIZE)) {
        error_setg_errno(&err, errno, "vsmmu: cmdqv: the host VINTF page "
                         "stays mapped (its vIOMMU cannot be destroyed)");
        vsmmu_report_limited(h->limit, err);
    }
}

/* ---- the host interface the guest model calls (vsmmu-cmdqv.h) ----------- */

static bool cmdqv_host_backs(VsmmuCmdqvHost *h, unsigned lidx)
{
    return h->page0 && lidx < CMDQV_MAX_VCMDQS && h->live[lidx];
}

static uint32_t cmdqv_host_read_page0(VsmmuCmdqvHost *h, unsigned lidx,
                                      hwaddr reg)
{
    return cmdqv_hreg(cmdqv_host_regs(h, lidx), reg / 4);
}

static void cmdqv_host_write_page0(VsmmuCmdqvHost *h, unsigned lidx,
                                   hwaddr reg, uint32_t val)
{
    cmdqv_hreg_set(cmdqv_host_regs(h, lidx), reg / 4, val);
}

static void cmdqv_host_ops_sync(VsmmuCmdqvHost *h)
{
    cmdqv_host_sync(h->s);
}

static void cmdqv_host_load(VsmmuCmdqvHost *h)
{
    cmdqv_state_to_host(h->s);
}

static void cmdqv_host_info(VsmmuCmdqvHost *h, GString *buf)
{
    VsmmuCmdqv *cv = &h->s->cmdqv;

    g_string_append_printf(buf, "    VINTF page 0 %s; HW queues:",
                           h->mapped ? "mapped into the guest" : "trapped");
    for (unsigned l = 0; l < cv->num_vcmdqs; l++) {
        if (h->live[l]) {
            g_string_append_printf(buf, " %u=%u", l, h->hw_queue[l]);
        }
    }
    g_string_append_c(buf, '\n');
}

static const VsmmuCmdqvHostOps cmdqv_host_ops = {
    .backs = cmdqv_host_backs,
    .read_page0 = cmdqv_host_read_page0,
    .write_page0 = cmdqv_host_write_page0,
    .sync = cmdqv_host_ops_sync,
    .load = cmdqv_host_load,
    .info = cmdqv_host_info,
};

/* ---- vIOMMU up and down -------------------------------------------------- */

bool vsmmu_cmdqv_accel_up(VsmmuState *s, uint32_t viommu_id, Error **errp)
{
    VsmmuCmdqv *cv = &s->cmdqv;
    VsmmuCmdqvHost *h = cv->host;

    if (!h) {
        return true;
    }
    h->viommu_id = viommu_id;
    if (h->data.out_vintf_mmap_length != CMDQV_HOST_PAGE_SIZE) {
        error_setg(errp, "vsmmu: cmdqv: the host VINTF page is 0x%" PRIx64
                   " bytes, expected 0x%x",
                   (uint64_t)h->data.out_vintf_mmap_length,
                   CMDQV_HOST_PAGE_SIZE);
        goto fail;
    }
    if (!cmdqv_host_area_init(s, errp)) {
        goto fail;
    }
    s->stats.host_ioctls++;
    if (!vsmmu_iommufd_mmap_at(h->be, cv->host_page->area,
                               h->data.out_vintf_mmap_offset,
                               CMDQV_HOST_PAGE_SIZE, errp)) {
        goto fail;
    }
    trace_vsmmu_cmdqv_accel_up(viommu_id, h->data.out_vintf_mmap_offset,
                               h->data.out_vintf_mmap_length);
    h->page = true;
    h->page0 = cv->host_page->area;

    s->stats.host_ioctls++;
    if (!vsmmu_iommufd_veventq_alloc(h->be, viommu_id,
                                     IOMMU_VEVENTQ_TYPE_TEGRA241_CMDQV,
                                     CMDQV_VEVENTQ_DEPTH, &h->veventq_id,
                                     &h->veventq_fd, errp)) {
        cmdqv_page_unmap(s);
        goto fail;
    }
    h->vevent_seq_valid = false;
    qemu_set_fd_handler(h->veventq_fd, cmdqv_vevent_read, NULL, s);
    cv->host_ops = &cmdqv_host_ops;
    /* Queues the guest set up while there was no vIOMMU */
    cmdqv_host_sync(s);
    cmdqv_state_to_host(s);
    return true;

fail:
    cv->host = NULL;
    g_free(h);
    return false;
}

void vsmmu_cmdqv_accel_down(VsmmuState *s)
{
    VsmmuCmdqv *cv = &s->cmdqv;
    VsmmuCmdqvHost *h = cv->host;

    if (!h) {
        return;
    }
    trace_vsmmu_cmdqv_accel_down(h->viommu_id);
    if (h->page) {
        cmdqv_state_from_host(s);
        cmdqv_page_unmap(s);
        for (int l = cv->num_vcmdqs - 1; l >= 0; l--) {
            if (h->live[l]) {
                cmdqv_queue_destroy(s, l);
            }
        }
        /*
         * The main loop may still poll the file (unplug from a vCPU
         * thread): the reaper retries the destroy from the main loop,
         * and the vIOMMU waits for it there
         */
        qemu_set_fd_handler(h->veventq_fd, NULL, NULL, NULL);
        close(h->veventq_fd);
        vsmmu_iommufd_destroy_later(h->reaper, h->veventq_id,
                                    "CMDQV vEVENTQ", false, NULL, NULL,
                                    NULL);
    }
    for (unsigned q = 0; q < cv->num_vcmdqs; q++) {
        cv->vcmdq[q].host_fault = false;
    }
    memset(cv->host_err_map, 0, sizeof(cv->host_err_map));
    h->page0 = NULL;
    cv->host_ops = NULL;
    cv->host = NULL;
    g_free(h);
}
