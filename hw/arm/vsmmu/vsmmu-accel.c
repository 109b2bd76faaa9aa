/*
 * vsmmu: the accelerated backend — guest stage 1 nested over a host stage 2
 * through iommufd (Linux 6.17+ uAPI, Arm SMMUv3 host)
 *
 * Assigned (vfio-pci, iommufd) devices behind an accel vsmmu get system
 * memory as their DMA address space, so VFIO maps all guest RAM into the
 * IOAS: that is the stage 2, allocated by VFIO as a nesting parent because
 * the vsmmu asks for one (PCIIOMMUOps.wants_nesting_parent). On the first
 * such device the vsmmu creates, on that parent, the host objects of its
 * host SMMU: the vIOMMU and two nested domains for abort and bypass. Every
 * device gets a vDEVICE (its virtual StreamID = the StreamID the guest sees)
 * when it attaches, and a nested domain built from its guest STE whenever
 * the guest installs one (CFGI_STE*, SMMUEN, GBPA), attached by replace.
 *
 * Invalidations between two CMD_SYNCs go to the host in one
 * IOMMU_HWPT_INVALIDATE on the vIOMMU; the guest's CMD_SYNC completes when
 * it returns. Host events (vEVENTQ) land in the guest's event queue, lost
 * ones as the architected overflow flag.
 *
 * Emulated devices may sit behind the same vsmmu: the emulated backend's
 * software stage 1 serves them (their stage 2 is the identity), and every
 * guest command also takes effect there.
 *
 * Everything here runs under the BQL (vCPU MMIO, bottom halves, the
 * vEVENTQ fd handler, device plug and unplug) and holds no vsmmu lock:
 * the host ioctls, DMA and interrupts it issues never run with one.
 * Host objects are destroyed through a reaper (hw/vfio/vsmmu-iommufd.c):
 * at once when the kernel lets us, else retried from the main loop, a
 * vIOMMU always after its vEVENTQs and HW queues. Host values (IDRs,
 * vEVENT sequence numbers and lengths, entry counts) are range-checked
 * before use, and host refusals a guest can provoke again and again are
 * reported through a rate limit.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/error-report.h"
#include "qemu/log.h"
#include "qemu/main-loop.h"
#include "qapi/error.h"
#include "hw/pci/pci_bus.h"
#include "hw/pci/msi.h"
#include "hw/sysbus.h"
#include "system/address-spaces.h"
#include "hw/arm/vsmmu/msi.h"
#include "migration/blocker.h"
#include "system/iommufd.h"
#include "hw/vfio/vsmmu-iommufd.h"
#include "vsmmu-internal.h"
#include "vsmmu-cmdqv.h"
#include "trace.h"

/* Records read from the vEVENTQ at once (header + Arm SMMUv3 event) */
#define VSMMU_VEVENT_BATCH      64
#define VSMMU_VEVENTQ_DEPTH_MIN 64

/* An out_capabilities bit of Linux 7.2 missing from QEMU 10.2 headers */
#ifndef IOMMU_HW_CAP_PCI_ATS_NOT_SUPPORTED
#define IOMMU_HW_CAP_PCI_ATS_NOT_SUPPORTED (1 << 3)
#endif

/* vSTE bits the host accepts for nesting (Linux arm-smmu-v3-iommufd) */
#define VSMMU_VSTE0_ALLOWED     (R_STE0_V_MASK | R_STE0_CONFIG_MASK | \
                                 R_STE0_S1FMT_MASK | \
                                 R_STE0_S1CONTEXTPTR_MASK | \
                                 R_STE0_S1CDMAX_MASK)
#define VSMMU_VSTE1_ALLOWED     (R_STE1_S1DSS_MASK | R_STE1_S1CIR_MASK | \
                                 R_STE1_S1COR_MASK | R_STE1_S1CSH_MASK | \
                                 R_STE1_S1STALLD_MASK | R_STE1_EATS_MASK)

/* The host SMMU's objects, shared by the devices behind this vsmmu */
typedef struct VsmmuAccel {
    IOMMUFDBackend *be;
    Error *migration_blocker;
    unsigned ndevs;              /* attached assigned devices */

    /* Valid while ndevs > 0 */
    char *first_dev;             /* the device the vIOMMU was made with */
    uint32_t parent_hwpt_id;     /* the stage 2 (nesting parent) */
    uint32_t viommu_id;
    uint32_t abort_hwpt_id;
    uint32_t bypass_hwpt_id;
    struct iommu_hw_info_arm_smmuv3 info;
    uint64_t caps;               /* the first device's IOMMU_HW_CAP_* */

    /* vEVENTQ, while the guest's event queue is enabled */
    uint32_t veventq_id;         /* 0: none */
    int veventq_fd;
    uint32_t vevent_seq;         /* next expected sequence number */
    bool vevent_seq_valid;
    /* the last one is still being destroyed: make the next after it */
    bool veventq_dying;

    VsmmuIommufdReaper *reaper;
    VsmmuReportLimit report_limit;
} VsmmuAccel;

/* An assigned device while attached (VsmmuDevice.accel) */
typedef struct VsmmuAccelDev {
    PCIDevice *pdev;             /* the assigned device */
    HostIOMMUDevice *hiod;
    uint32_t dev_id;             /* iommufd device */
    uint32_t parent_hwpt_id;     /* its stage-2 (nesting parent) domain */
    uint32_t vdevice_id;         /* 0: no vDEVICE */
    uint32_t vsid;               /* the vDEVICE's virtual StreamID */
    uint32_t hwpt_id;            /* domain it is attached to now */
    VsmmuStreamKind hwpt_kind;
    uint32_t s1_hwpt_id;         /* our nested S1 domain, 0 = none */
    uint64_t vste[2];            /* ... and the vSTE it was made from */
    MSITriggerFunc *msi_trigger; /* the device's own, put back on detach */
} VsmmuAccelDev;

static VsmmuAccel *vsmmu_accel(VsmmuState *s)
{
    return s->backend_opaque;
}

static const char *vsmmu_kind_name(VsmmuStreamKind kind)
{
    switch (kind) {
    case VSMMU_STREAM_ABORT:  return "abort";
    case VSMMU_STREAM_BYPASS: return "bypass";
    case VSMMU_STREAM_S1:     return "s1-nested";
    default:                  return "?";
    }
}

static const char *vsmmu_dev_name(VsmmuDevice *vdev)
{
    VsmmuAccelDev *d = vdev->accel;

    return d && d->hiod && d->hiod->name ? d->hiod->name :
           d && d->pdev ? d->pdev->name : "?";
}

/* Report a host refusal the guest can provoke again: rate-limited */
static void vsmmu_accel_report(VsmmuState *s, Error *err)
{
    vsmmu_report_limited(&vsmmu_accel(s)->report_limit, err);
}

/* Destroyed at once, or retried from the main loop (never lost) */
static void vsmmu_host_destroy(VsmmuState *s, uint32_t *id, const char *what)
{
    vsmmu_iommufd_destroy_later(vsmmu_accel(s)->reaper, *id, what, false, NULL,
                                NULL, NULL);
    *id = 0;
}

/* ---- host compatibility -------------------------------------------------- */

/*
 * What the vsmmu advertises must be something the host SMMU can do for the
 * guest: it walks the guest's CD tables and page tables and executes its
 * invalidations as they are.
 */
static bool vsmmu_accel_check_host(VsmmuState *s, const char *dev,
                                   const struct iommu_hw_info_arm_smmuv3 *h,
                                   uint64_t caps, Error **errp)
{
/* IDR<n>.<f> of regs.h; @at_least: guest value <= host value suffices */
#define HOST_CHECK(n, f, what, at_least) \
    { "IDR" #n "." #f what, n, R_IDR##n##_##f##_SHIFT, \
      R_IDR##n##_##f##_LENGTH, at_least }
    static const struct {
        const char *field;
        int idr, shift, len;
        bool at_least;
    } checks[] = {
        HOST_CHECK(0, TTF, " (AArch64 tables)", false),
        HOST_CHECK(0, ASID16, "", true),
        HOST_CHECK(0, CD2L, " (2-level CD tables)", true),
        HOST_CHECK(1, SSIDSIZE, "", true),
        HOST_CHECK(3, RIL, "", true),
        HOST_CHECK(5, GRAN4K, "", true),
        HOST_CHECK(5, GRAN16K, "", true),
        HOST_CHECK(5, GRAN64K, "", true),
    };
#undef HOST_CHECK
    unsigned host_oas, guest_oas, tt;

    for (int i = 0; i < ARRAY_SIZE(checks); i++) {
        uint32_t g = extract32(s->idr[checks[i].idr], checks[i].shift,
                               checks[i].len);
        uint32_t hv = extract32(h->idr[checks[i].idr], checks[i].shift,
                                checks[i].len);
        bool ok = checks[i].at_least ? g <= hv : (g & hv) == g;

        if (!ok) {
            error_setg(errp, "vsmmu: %s: the vsmmu advertises %u, the host "
                       "SMMU of device %s has %u", checks[i].field, g, dev,
                       hv);
            return false;
        }
    }
    /* TTENDIAN: 0 mixed, 2 little-endian only; 3 big-endian only won't do */
    tt = FIELD_EX32(h->idr[0], IDR0, TTENDIAN);
    if (tt == 3) {
        error_setg(errp, "vsmmu: the host SMMU of device %s walks big-endian "
                   "tables only (IDR0.TTENDIAN = 3); the guest's are "
                   "little-endian", dev);
        return false;
    }
    guest_oas = FIELD_EX32(s->idr[5], IDR5, OAS);
    host_oas = FIELD_EX32(h->idr[5], IDR5, OAS);
    if (guest_oas > host_oas) {
        error_setg(errp, "vsmmu: oas=%u is larger than the host SMMU of "
                   "device %s supports (IDR5.OAS encoding %u, vsmmu %u)",
                   s->oas, dev, host_oas, guest_oas);
        return false;
    }
    /*
     * ATS is per device on the host (out_capabilities): one without it is
     * welcome behind a vsmmu with ATS, as behind the host SMMU, and keeps
     * ATS off (vsmmu_accel_host_ats()).
     */
    if (s->ats && (caps & IOMMU_HW_CAP_PCI_ATS_NOT_SUPPORTED)) {
        warn_report("vsmmu: the host reports no ATS for device %s: ATS stays "
                    "off for it (EATS cleared in its vSTEs, its ATC_INVs "
                    "complete in the vsmmu)", dev);
    }
    return true;
}

/* Does the host do ATS for this device? */
static bool vsmmu_accel_host_ats(VsmmuDevice *vdev)
{
    VsmmuAccelDev *d = vdev->accel;

    return d && d->hiod &&
           !(d->hiod->caps.hw_caps & IOMMU_HW_CAP_PCI_ATS_NOT_SUPPORTED);
}

/*
 * "auto" properties follow the host SMMU, capped to what the vsmmu models.
 * Only while the guest has not read the ID registers: a driver keeps what
 * it read, so afterwards they change at the next reset.
 */
static void vsmmu_accel_resolve_auto(VsmmuState *s, const char *dev,
                                     const struct iommu_hw_info_arm_smmuv3 *h,
                                     uint64_t caps)
{
    if (s->idr_from_host || s->idr_seen) {
        return;
    }
    qemu_mutex_lock(&s->mutex);        /* [T] fields (vsmmu.h) */
    if (s->oas_prop == VSMMU_PROP_AUTO) {
        s->oas = vsmmu_oas_bits(FIELD_EX32(h->idr[5], IDR5, OAS));
    }
    if (s->ssidsize_prop == VSMMU_PROP_AUTO) {
        s->ssidsize = MIN(FIELD_EX32(h->idr[1], IDR1, SSIDSIZE), 20);
    }
    if (s->ril_prop == ON_OFF_AUTO_AUTO) {
        s->ril = FIELD_EX32(h->idr[3], IDR3, RIL);
    }
    if (s->ats_prop == ON_OFF_AUTO_AUTO) {
        s->ats = FIELD_EX32(h->idr[0], IDR0, ATS) &&
                 !(caps & IOMMU_HW_CAP_PCI_ATS_NOT_SUPPORTED);
    }
    qemu_mutex_unlock(&s->mutex);
    s->idr_from_host = true;
    vsmmu_regs_init_idr(s);
    trace_vsmmu_accel_auto(dev, s->oas, s->ssidsize, s->ril, s->ats);
}

static bool vsmmu_has_auto(VsmmuState *s)
{
    return s->oas_prop == VSMMU_PROP_AUTO ||
           s->ssidsize_prop == VSMMU_PROP_AUTO ||
           s->ril_prop == ON_OFF_AUTO_AUTO || s->ats_prop == ON_OFF_AUTO_AUTO;
}

/*
 * The host keeps its MSI window [0x8000000, +1 MiB) reserved in the IOAS
 * (the stage 2): guest RAM there could not be mapped for the device.
 */
static bool vsmmu_accel_check_msi_window(const char *dev, Error **errp)
{
    hwaddr addr = VSMMU_MSI_WINDOW_BASE;
    hwaddr end = VSMMU_MSI_WINDOW_BASE + VSMMU_MSI_WINDOW_SIZE;

    while (addr < end) {
        MemoryRegionSection sec = memory_region_find(get_system_memory(),
                                                     addr, end - addr);
        bool ram;

        if (!sec.mr) {
            break;
        }
        ram = memory_region_is_ram(sec.mr);
        addr = sec.offset_within_address_space + int128_get64(sec.size);
        memory_region_unref(sec.mr);
        if (ram) {
            error_setg(errp, "vsmmu: guest RAM overlaps the host's MSI window "
                       "[0x%" PRIx64 ", 0x%" PRIx64 "), which the host keeps "
                       "reserved for device %s",
                       (uint64_t)VSMMU_MSI_WINDOW_BASE, (uint64_t)end, dev);
            return false;
        }
    }
    return true;
}

/* ---- host objects of the host SMMU --------------------------------------- */

static int vsmmu_accel_nested(VsmmuState *s, uint32_t dev_id,
                              const uint64_t vste[2], uint32_t *id,
                              Error **errp)
{
    s->stats.host_ioctls++;
    return vsmmu_iommufd_nested_alloc(vsmmu_accel(s)->be, dev_id,
                                      vsmmu_accel(s)->viommu_id,
                                      vste, id, errp);
}

/*
 * The vIOMMU goes after everything made on it that is still being
 * destroyed (a vEVENTQ the main loop polls). Its stage 2 belongs to the
 * assigned device's VFIO container, freed when @dev finalizes: the
 * reaper holds @dev until the vIOMMU is gone.
 */
static void vsmmu_accel_viommu_destroy(VsmmuState *s, PCIDevice *dev)
{
    VsmmuAccel *h = vsmmu_accel(s);

    vsmmu_iommufd_destroy_later(h->reaper, h->viommu_id, "vIOMMU", true,
                                dev ? OBJECT(dev) : NULL, NULL, NULL);
    h->viommu_id = 0;
}

/* The first assigned device: vIOMMU and the abort/bypass domains */
static bool vsmmu_accel_host_up(VsmmuState *s, VsmmuDevice *vdev,
                                Error **errp)
{
    VsmmuAccelDev *d = vdev->accel;
    VsmmuAccel *h = vsmmu_accel(s);
    uint64_t abort_ste[2] = {
        R_STE0_V_MASK | FIELD_DP64(0, STE0, CONFIG, VSMMU_STE_CFG_ABORT), 0
    };
    uint64_t bypass_ste[2] = {
        R_STE0_V_MASK | FIELD_DP64(0, STE0, CONFIG, VSMMU_STE_CFG_BYPASS), 0
    };
    uint32_t type, len;
    void *data;

    /*
     * Without assigned devices the vsmmu is the emulated model and
     * migrates; with them the host SMMU holds state QEMU cannot move.
     */
    error_setg(&h->migration_blocker, "vsmmu %s: accel=on with assigned "
               "device %s: the host SMMU holds guest translation state that "
               "cannot be migrated",
               object_get_canonical_path_component(OBJECT(s)) ?: "",
               vsmmu_dev_name(vdev));
    if (migrate_add_blocker(&h->migration_blocker, errp) < 0) {
        return false;
    }
    /* TEGRA241_CMDQV when the guest's CMDQV is the host's (cmdqv-accel.c) */
    if (!vsmmu_cmdqv_accel_viommu_type(s, h->be, h->reaper, &h->report_limit,
                                       d->dev_id,
                                       d->hiod->caps.vendor_caps.
                                       smmuv3.idr,
                                       &type, &data, &len, errp)) {
        migrate_del_blocker(&h->migration_blocker);
        return false;
    }
    s->stats.host_ioctls++;
    if (!vsmmu_iommufd_viommu_alloc(h->be, d->dev_id, type,
                                    d->parent_hwpt_id, data, len,
                                    &h->viommu_id, errp)) {
        error_prepend(errp, "vsmmu: device %s: ", vsmmu_dev_name(vdev));
        vsmmu_cmdqv_accel_down(s);
        migrate_del_blocker(&h->migration_blocker);
        return false;
    }
    h->parent_hwpt_id = d->parent_hwpt_id;
    if (vsmmu_accel_nested(s, d->dev_id, abort_ste, &h->abort_hwpt_id,
                           errp) ||
        vsmmu_accel_nested(s, d->dev_id, bypass_ste, &h->bypass_hwpt_id,
                           errp)) {
        error_prepend(errp, "vsmmu: device %s: ", vsmmu_dev_name(vdev));
        vsmmu_host_destroy(s, &h->abort_hwpt_id, "abort HWPT");
        vsmmu_cmdqv_accel_down(s);
        vsmmu_accel_viommu_destroy(s, d->pdev);
        migrate_del_blocker(&h->migration_blocker);
        return false;
    }
    if (!vsmmu_cmdqv_accel_up(s, h->viommu_id, errp)) {
        vsmmu_host_destroy(s, &h->bypass_hwpt_id, "bypass HWPT");
        vsmmu_host_destroy(s, &h->abort_hwpt_id, "abort HWPT");
        vsmmu_accel_viommu_destroy(s, d->pdev);
        migrate_del_blocker(&h->migration_blocker);
        return false;
    }
    h->first_dev = g_strdup(vsmmu_dev_name(vdev));
    trace_vsmmu_accel_host_up(h->first_dev, h->viommu_id, h->parent_hwpt_id);
    return true;
}

static void vsmmu_accel_veventq_sync(VsmmuState *s);

/* After the last device (@dev) detached: its objects go, children first */
static void vsmmu_accel_host_down(VsmmuState *s, PCIDevice *dev)
{
    VsmmuAccel *h = vsmmu_accel(s);

    trace_vsmmu_accel_host_down(h->viommu_id);
    h->ndevs = 0;
    vsmmu_accel_veventq_sync(s);
    vsmmu_cmdqv_accel_down(s);
    vsmmu_host_destroy(s, &h->bypass_hwpt_id, "bypass HWPT");
    vsmmu_host_destroy(s, &h->abort_hwpt_id, "abort HWPT");
    vsmmu_accel_viommu_destroy(s, dev);
    h->parent_hwpt_id = 0;
    g_clear_pointer(&h->first_dev, g_free);
    migrate_del_blocker(&h->migration_blocker);
}

/* ---- vDEVICE ------------------------------------------------------------- */

/*
 * The vDEVICE carries the StreamID the guest uses for the device. It is
 * made at attach; behind a bridge whose bus number the guest has not
 * assigned yet, or after the guest renumbered, it is (re)made when the
 * guest next installs the device's STE.
 */
static bool vsmmu_accel_vdevice(VsmmuState *s, VsmmuDevice *vdev,
                                Error **errp)
{
    VsmmuAccelDev *d = vdev->accel;
    uint32_t sid = smmu_get_sid(&vdev->sdev);

    if (d->vdevice_id && d->vsid == sid) {
        return true;
    }
    if (!pci_bus_is_root(vdev->sdev.bus) && !pci_bus_num(vdev->sdev.bus)) {
        return true;             /* bus number not assigned yet */
    }
    vsmmu_host_destroy(s, &d->vdevice_id, "vDEVICE");
    s->stats.host_ioctls++;
    if (!vsmmu_iommufd_vdevice_alloc(vsmmu_accel(s)->be,
                                     vsmmu_accel(s)->viommu_id, d->dev_id,
                                     sid, &d->vdevice_id, errp)) {
        error_prepend(errp, "vsmmu: device %s: ", vsmmu_dev_name(vdev));
        return false;
    }
    d->vsid = sid;
    trace_vsmmu_accel_vdevice(vsmmu_dev_name(vdev), sid, d->vdevice_id);
    return true;
}

/* ---- STE -> host domain -------------------------------------------------- */

static bool vsmmu_accel_attach_hwpt(VsmmuState *s, VsmmuDevice *vdev,
                                    uint32_t hwpt_id, VsmmuStreamKind kind)
{
    VsmmuAccelDev *d = vdev->accel;
    Error *err = NULL;

    if (d->hwpt_id == hwpt_id) {
        return true;
    }
    s->stats.host_ioctls++;
    if (!vsmmu_iommufd_attach(d->hiod, hwpt_id, &err)) {
        error_prepend(&err, "vsmmu: device %s: ", vsmmu_dev_name(vdev));
        vsmmu_accel_report(s, err);
        return false;
    }
    d->hwpt_id = hwpt_id;
    d->hwpt_kind = kind;
    trace_vsmmu_accel_attach(vsmmu_dev_name(vdev), hwpt_id,
                             vsmmu_kind_name(kind));
    return true;
}

/* Abort without an event (STE.Config = abort, GBPA.ABORT, host failure) */
static void vsmmu_accel_install_abort(VsmmuState *s, VsmmuDevice *vdev)
{
    if (vsmmu_accel_attach_hwpt(s, vdev, vsmmu_accel(s)->abort_hwpt_id,
                                VSMMU_STREAM_ABORT)) {
        vsmmu_host_destroy(s, &vdev->accel->s1_hwpt_id, "nested HWPT");
    }
}

/* Bypass; if the host cannot switch, abort rather than keep stale S1 */
static void vsmmu_accel_install_bypass(VsmmuState *s, VsmmuDevice *vdev)
{
    if (vsmmu_accel_attach_hwpt(s, vdev, vsmmu_accel(s)->bypass_hwpt_id,
                                VSMMU_STREAM_BYPASS)) {
        vsmmu_host_destroy(s, &vdev->accel->s1_hwpt_id, "nested HWPT");
    } else {
        vsmmu_accel_install_abort(s, vdev);
    }
}

static void vsmmu_accel_bad_ste(VsmmuState *s, VsmmuDevice *vdev,
                                const VsmmuEvent *ev, bool report)
{
    vsmmu_accel_install_abort(s, vdev);
    if (report && ev->id) {
        vsmmu_evtq_record(s, ev);
    }
}

static void vsmmu_accel_msi_trigger(PCIDevice *pdev, MSIMessage msg);

/*
 * Route the device's MSIs (as QEMU delivers them without KVM) through our
 * stage-1 walk. PCI core sets the trigger at the end of realize, after the
 * device attached to us, so this is done (again) when STEs are installed;
 * before the guest enables the SMMU, the PCI core's direct write is right.
 */
static void vsmmu_accel_hook_msi(VsmmuDevice *vdev)
{
    VsmmuAccelDev *d = vdev->accel;
    PCIDevice *pdev = d->pdev;

    if (pdev && pdev->msi_trigger != vsmmu_accel_msi_trigger) {
        d->msi_trigger = pdev->msi_trigger;
        pdev->msi_trigger = vsmmu_accel_msi_trigger;
    }
}

/*
 * Make the host translate for @vdev as the guest now says. @report: the
 * guest asked for this STE explicitly (CFGI_STE*), so a bad one gets its
 * C_BAD_STE now; the host would only abort silently.
 */
static void vsmmu_accel_install(VsmmuState *s, VsmmuDevice *vdev, bool report)
{
    VsmmuAccelDev *d = vdev->accel;
    VsmmuStreamCfg cfg;
    VsmmuEvent ev;
    Error *err = NULL;
    uint64_t vste[2];
    uint32_t id;
    int ret;

    vsmmu_accel_hook_msi(vdev);
    if (!vsmmu_enabled(s)) {
        if (FIELD_EX32(s->gbpa, GBPA, ABORT)) {
            vsmmu_accel_install_abort(s, vdev);
        } else {
            vsmmu_accel_install_bypass(s, vdev);
        }
        return;
    }
    if (!vsmmu_accel_vdevice(s, vdev, &err)) {
        /*
         * Without a vDEVICE the host cannot take this StreamID (e.g. the
         * guest renumbered a bus onto another device's StreamID)
         */
        vsmmu_accel_report(s, err);
        memset(&ev, 0, sizeof(ev));
        ev.id = VSMMU_EVT_C_BAD_STREAMID;
        ev.sid = smmu_get_sid(&vdev->sdev);
        vsmmu_accel_bad_ste(s, vdev, &ev, report);
        return;
    }
    if (!vsmmu_stream_ste(s, smmu_get_sid(&vdev->sdev), &cfg, &ev)) {
        vsmmu_accel_bad_ste(s, vdev, &ev, report);
        return;
    }
    switch (cfg.kind) {
    case VSMMU_STREAM_ABORT:
        vsmmu_accel_install_abort(s, vdev);
        return;
    case VSMMU_STREAM_BYPASS:
        vsmmu_accel_install_bypass(s, vdev);
        return;
    case VSMMU_STREAM_S1:
        break;
    case VSMMU_STREAM_S2:
    case VSMMU_STREAM_NESTED:
        /* accel=on offers stage 1 only (realize): decoded as C_BAD_STE */
        g_assert_not_reached();
    }

    vste[0] = cfg.ste[0] & VSMMU_VSTE0_ALLOWED;
    vste[1] = cfg.ste[1] & VSMMU_VSTE1_ALLOWED;
    if (!s->ats || !vsmmu_accel_host_ats(vdev)) {
        vste[1] &= ~R_STE1_EATS_MASK;
    }
    if (d->s1_hwpt_id && d->hwpt_id == d->s1_hwpt_id &&
        !memcmp(vste, d->vste, sizeof(vste))) {
        return;                  /* unchanged: the host caches it already */
    }
    if (!d->vdevice_id) {
        /* The host needs a vDEVICE for S1; none before the bus number */
        ev.id = VSMMU_EVT_C_BAD_STREAMID;
        vsmmu_accel_bad_ste(s, vdev, &ev, report);
        return;
    }
    ret = vsmmu_accel_nested(s, d->dev_id, vste, &id, &err);
    if (ret) {
        /* -EIO: the host refuses this vSTE; the guest sees C_BAD_STE */
        if (ret != -EIO) {
            vsmmu_accel_report(s, err);
        } else {
            error_free(err);
        }
        ev.id = VSMMU_EVT_C_BAD_STE;
        vsmmu_accel_bad_ste(s, vdev, &ev, true);
        return;
    }
    if (!vsmmu_accel_attach_hwpt(s, vdev, id, VSMMU_STREAM_S1)) {
        vsmmu_host_destroy(s, &id, "nested HWPT");
        ev.id = VSMMU_EVT_C_BAD_STE;
        vsmmu_accel_bad_ste(s, vdev, &ev, true);
        return;
    }
    /* Replaced: the old nested domain is no longer in use */
    vsmmu_host_destroy(s, &d->s1_hwpt_id, "nested HWPT");
    d->s1_hwpt_id = id;
    memcpy(d->vste, vste, sizeof(vste));
}

static void vsmmu_accel_install_range(VsmmuState *s, uint32_t first,
                                      uint32_t last, bool report)
{
    VsmmuDevice *vdev;

    QLIST_FOREACH(vdev, &s->devices, link) {
        uint32_t sid = smmu_get_sid(&vdev->sdev);

        if (vdev->accel && sid >= first && sid <= last) {
            vsmmu_accel_install(s, vdev, report);
        }
    }
}

/* ---- vEVENTQ ------------------------------------------------------------- */

/*
 * One read of the vEVENTQ: at most VSMMU_VEVENT_BATCH records per call,
 * the main loop calls again while more are pending. The host's records
 * are checked before use: a sequence gap counts the records in it as
 * lost, a sequence number out of the uAPI's [0, INT_MAX] counts one lost
 * and starts the count again, a truncated record ends the read.
 */
static void vsmmu_accel_vevent_read(void *opaque)
{
    VsmmuState *s = opaque;
    VsmmuAccel *h = vsmmu_accel(s);
    struct {
        struct iommufd_vevent_header hdr;
        struct iommu_vevent_arm_smmuv3 evt;
    } QEMU_PACKED buf[VSMMU_VEVENT_BATCH];
    uint8_t *p = (uint8_t *)buf;
    ssize_t len = read(h->veventq_fd, buf, sizeof(buf));
    ssize_t off = 0;
    Error *err = NULL;

    if (len < 0) {
        if (errno != EAGAIN && errno != EINTR) {
            error_setg_errno(&err, errno, "vsmmu: vEVENTQ read failed");
            vsmmu_accel_report(s, err);
        }
        return;
    }
    len = MIN(len, (ssize_t)sizeof(buf));   /* a host that says more */
    while (off + (ssize_t)sizeof(struct iommufd_vevent_header) <= len) {
        struct iommufd_vevent_header hdr;
        uint64_t rec[4];

        memcpy(&hdr, p + off, sizeof(hdr));
        off += sizeof(hdr);
        if (hdr.sequence > INT32_MAX) {
            h->vevent_seq_valid = false;
            s->stats.host_events_lost++;
            vsmmu_evtq_lost(s, 1);
        } else {
            if (h->vevent_seq_valid && hdr.sequence != h->vevent_seq) {
                /* Sequence numbers run [0, INT_MAX] and wrap */
                uint32_t gap = (hdr.sequence - h->vevent_seq) & INT32_MAX;

                s->stats.host_events_lost += gap;
                vsmmu_evtq_lost(s, gap);
            }
            h->vevent_seq = (hdr.sequence + 1) & INT32_MAX;
            h->vevent_seq_valid = true;
        }
        if (hdr.flags & IOMMU_VEVENTQ_FLAG_LOST_EVENTS) {
            /* no payload; the gap before the next record counts them */
            trace_vsmmu_accel_vevent_lost(hdr.sequence);
            s->stats.host_events_lost++;
            vsmmu_evtq_lost(s, 1);
            continue;
        }
        if (off + (ssize_t)sizeof(rec) > len) {
            error_setg(&err, "vsmmu: truncated vEVENTQ record (%zd bytes of "
                       "%zu)", len - off, sizeof(rec));
            vsmmu_accel_report(s, err);
            s->stats.host_events_lost++;
            vsmmu_evtq_lost(s, 1);
            break;
        }
        memcpy(rec, p + off, sizeof(rec));
        off += sizeof(rec);
        for (int i = 0; i < 4; i++) {
            rec[i] = le64_to_cpu(rec[i]);
        }
        trace_vsmmu_accel_vevent(hdr.sequence, rec[0], rec[2]);
        s->stats.host_events++;
        vsmmu_evtq_record_raw(s, rec);
    }
}

/* A vEVENTQ destroy the reaper had to retry is done */
static void vsmmu_accel_veventq_reaped(void *opaque)
{
    VsmmuState *s = opaque;
    VsmmuAccel *h = vsmmu_accel(s);

    h->veventq_dying = false;
    vsmmu_accel_veventq_sync(s);
    if (h->veventq_id) {
        /*
         * The guest's queue was enabled again while no vEVENTQ could
         * take the host's events: some may have been lost
         */
        s->stats.host_events_lost++;
        vsmmu_evtq_lost(s, 1);
    }
}

/*
 * A vEVENTQ exists exactly while there is a vIOMMU and EVENTQEN is set.
 * Disabling hands it to the reaper: Linux refuses the destroy (EBUSY)
 * while its file is referenced, which the main loop does while asleep in
 * poll() on it, and a vCPU (a CR0 write, a hot-unplug) cannot wait for
 * that. A vIOMMU allows one vEVENTQ of a type: while the previous one is
 * still being destroyed, the next is made when it is gone.
 */
static void vsmmu_accel_veventq_sync(VsmmuState *s)
{
    VsmmuAccel *h = vsmmu_accel(s);
    bool want = h->ndevs && h->viommu_id &&
                FIELD_EX32(s->cr0, CR0, EVENTQEN);
    Error *err = NULL;
    uint32_t depth, id;

    if (want == !!h->veventq_id) {
        return;
    }
    if (!want) {
        qemu_set_fd_handler(h->veventq_fd, NULL, NULL, NULL);
        close(h->veventq_fd);
        h->veventq_fd = -1;
        id = h->veventq_id;
        h->veventq_id = 0;
        /* cleared by vsmmu_accel_veventq_reaped(), at once or later */
        h->veventq_dying = true;
        vsmmu_iommufd_destroy_later(h->reaper, id, "vEVENTQ", false, NULL,
                                    vsmmu_accel_veventq_reaped, s);
        return;
    }
    if (h->veventq_dying) {
        return;                 /* vsmmu_accel_veventq_reaped() makes it */
    }
    depth = MAX(1u << vsmmu_queue_log2size(&s->eventq),
                VSMMU_VEVENTQ_DEPTH_MIN);
    s->stats.host_ioctls++;
    if (!vsmmu_iommufd_veventq_alloc(h->be, h->viommu_id,
                                     IOMMU_VEVENTQ_TYPE_ARM_SMMUV3, depth,
                                     &h->veventq_id, &h->veventq_fd, &err)) {
        /*
         * Host faults cannot reach the guest until the next try (the guest
         * re-enabling its queue, a reset). Its queue says events were lost.
         */
        error_prepend(&err, "vsmmu: host events will not reach the guest: ");
        vsmmu_accel_report(s, err);
        h->veventq_id = 0;
        s->stats.host_events_lost++;
        vsmmu_evtq_lost(s, 1);
        return;
    }
    h->vevent_seq_valid = false;
    qemu_set_fd_handler(h->veventq_fd, vsmmu_accel_vevent_read, NULL, s);
}

/* ---- backend operations -------------------------------------------------- */

/* Which commands the host executes; the rest are ours alone */
static bool vsmmu_accel_forward(VsmmuState *s, const VsmmuCmd *c)
{
    VsmmuDevice *vdev;

    if (!vsmmu_accel(s)->ndevs) {
        return false;
    }
    switch (c->opcode) {
    case VSMMU_CMD_TLBI_NH_ALL:
    case VSMMU_CMD_TLBI_NH_ASID:
    case VSMMU_CMD_TLBI_NH_VA:
    case VSMMU_CMD_TLBI_NH_VAA:
    case VSMMU_CMD_TLBI_NSNH_ALL:
        return true;
    case VSMMU_CMD_ATC_INV:
    case VSMMU_CMD_CFGI_CD:
    case VSMMU_CMD_CFGI_CD_ALL:
        /*
         * by StreamID: only for devices the host knows (a vDEVICE); an
         * ATC_INV only for one the host does ATS for (no ATC otherwise)
         */
        QLIST_FOREACH(vdev, &s->devices, link) {
            VsmmuAccelDev *d = vdev->accel;

            if (d && d->vdevice_id && d->vsid == c->sid) {
                return c->opcode != VSMMU_CMD_ATC_INV ||
                       vsmmu_accel_host_ats(vdev);
            }
        }
        return false;
    default:
        return false;
    }
}

static int vsmmu_accel_send(VsmmuState *s, uint64_t (*cmds)[2], uint32_t *num)
{
    int ret;

    s->stats.host_ioctls++;
    s->stats.host_inval_ioctls++;
    ret = vsmmu_iommufd_invalidate(vsmmu_accel(s)->be,
                                   vsmmu_accel(s)->viommu_id,
                                   (const uint64_t (*)[2])cmds, num);
    s->stats.host_inval_cmds += *num;
    return ret;
}

/*
 * Send @n commands; returns how many the host completed. With batching,
 * one ioctl; if the host stops at entry k, the commands before k may not
 * have reached the hardware (the kernel converts a batch before issuing
 * it), so they are sent again — invalidations are idempotent.
 */
static uint32_t vsmmu_accel_send_all(VsmmuState *s, uint64_t (*cmds)[2],
                                     uint32_t n, int *err)
{
    uint32_t done = 0, num;

    *err = 0;
    if (!s->accel.batch) {
        for (done = 0; done < n; done++) {
            num = 1;
            *err = vsmmu_accel_send(s, &cmds[done], &num);
            if (*err) {
                break;
            }
        }
        return done;
    }
    num = n;
    *err = vsmmu_accel_send(s, cmds, &num);
    if (!*err) {
        return n;
    }
    done = MIN(num, n);
    /*
     * -ETIMEDOUT: the host's CMD_SYNC after a batch of its own did not
     * complete; what came before reached the hardware already
     */
    if (done && *err != -ETIMEDOUT) {
        uint32_t again = done;
        int err2 = vsmmu_accel_send(s, cmds, &again);

        if (err2) {
            done = MIN(again, done);
        }
    }
    return done;
}

/* The kernel issues a guest's commands in batches of this many */
#define VSMMU_HOST_INVAL_BATCH  63

static bool vsmmu_accel_has_atc_inv(const VsmmuCmd *cmds,
                                    const unsigned *where, uint32_t from,
                                    uint32_t to)
{
    for (uint32_t i = from; i <= to; i++) {
        if (cmds[where[i]].opcode == VSMMU_CMD_ATC_INV) {
            return true;
        }
    }
    return false;
}

static unsigned vsmmu_accel_process_batch(VsmmuState *s, const VsmmuCmd *cmds,
                                          unsigned n, VsmmuCmdError *err)
{
    /* filled before use: no zeroing on every batch */
    QEMU_UNINITIALIZED uint64_t host[VSMMU_BATCH_MAX][2];
    QEMU_UNINITIALIZED unsigned where[VSMMU_BATCH_MAX];
    uint32_t nhost = 0, sent;
    unsigned done = n;
    int ret;

    assert(n <= VSMMU_BATCH_MAX);
    /* Our own caches (emulated devices behind this vsmmu, MSI walks) */
    vsmmu_emu_process_batch(s, cmds, n, err);

    for (unsigned i = 0; i < n; i++) {
        if (vsmmu_accel_forward(s, &cmds[i])) {
            host[nhost][0] = cpu_to_le64(cmds[i].raw[0]);
            host[nhost][1] = cpu_to_le64(cmds[i].raw[1]);
            where[nhost++] = i;
        }
    }
    for (uint32_t first = 0; first < nhost; first += sent + 1) {
        const VsmmuCmd *bad;

        sent = vsmmu_accel_send_all(s, host + first, nhost - first, &ret);
        if (first + sent == nhost) {
            break;
        }
        bad = &cmds[where[first + sent]];
        if (ret == -ETIMEDOUT &&
            vsmmu_accel_has_atc_inv(cmds, where, first +
                                    sent / VSMMU_HOST_INVAL_BATCH *
                                    VSMMU_HOST_INVAL_BATCH, first + sent)) {
            /*
             * The host's CMD_SYNC after a batch with ATC invalidations
             * timed out, with the host's CONS on the batch's last command:
             * an ATC did not answer. The CMD_SYNC that ends the guest's
             * batch reports it (CONS on that CMD_SYNC); the commands
             * after the host's batch still execute.
             */
            *err = VSMMU_CERROR_ATC_INV_SYNC;
            qemu_log_mask(LOG_GUEST_ERROR, "vsmmu: ATC invalidation timed "
                          "out on the host\n");
            continue;
        }
        done = where[first + sent];
        *err = VSMMU_CERROR_ILL;
        qemu_log_mask(LOG_GUEST_ERROR, "vsmmu: the host refused command "
                      "0x%02x (%s), CONS stops on it\n", bad->opcode,
                      strerror(-ret));
        break;
    }

    /* Configuration changes that completed take effect on the host */
    for (unsigned i = 0; i < done; i++) {
        const VsmmuCmd *c = &cmds[i];

        if (c->opcode == VSMMU_CMD_CFGI_STE ||
            c->opcode == VSMMU_CMD_CFGI_STE_RANGE) {
            vsmmu_accel_install_range(s, c->sid_first, c->sid_last, true);
        }
    }
    return done;
}

/* SMMUEN, GBPA or the stream table moved: every device again */
static void vsmmu_accel_config_reset(VsmmuState *s)
{
    VsmmuAccel *h = vsmmu_accel(s);

    if (h->ndevs && !s->idr_seen) {
        /* After a reset: "auto" follows the host SMMU of today's devices */
        vsmmu_accel_resolve_auto(s, h->first_dev, &h->info, h->caps);
    }
    vsmmu_emu_config_reset(s);
    if (h->ndevs) {
        vsmmu_accel_install_range(s, 0, UINT32_MAX, false);
    }
    vsmmu_accel_veventq_sync(s);
}

static void vsmmu_accel_eventq_changed(VsmmuState *s)
{
    vsmmu_accel_veventq_sync(s);
}

/* ---- MSIs of assigned devices -------------------------------------------- */

/*
 * Without KVM's irqfd routes QEMU delivers an assigned device's MSIs
 * itself, to the address the guest programmed: an IOVA of the device's
 * stage 1. Translate it as the host SMMU would, then write.
 */
static void vsmmu_accel_msi_trigger(PCIDevice *pdev, MSIMessage msg)
{
    PCIBus *bus = pci_get_bus(pdev);
    SMMUState *bs = NULL;
    VsmmuDevice *vdev = NULL;
    MemTxAttrs attrs = { .requester_id = pci_requester_id(pdev) };
    IOMMUTLBEntry e;
    SMMUPciBus *sbus;
    PCIBus *iommu_bus = bus;

    while (iommu_bus && !iommu_bus->iommu_ops && iommu_bus->parent_dev) {
        iommu_bus = pci_get_bus(iommu_bus->parent_dev);
    }
    if (iommu_bus && iommu_bus->iommu_ops == &vsmmu_pci_iommu_ops) {
        bs = iommu_bus->iommu_opaque;
        sbus = g_hash_table_lookup(bs->smmu_pcibus_by_busptr, bus);
        vdev = sbus && sbus->pbdev[pdev->devfn] ?
               container_of(sbus->pbdev[pdev->devfn], VsmmuDevice, sdev) :
               NULL;
    }
    if (!vdev) {
        return;
    }
    e = vsmmu_translate_dev(vdev, msg.address, IOMMU_WO);
    if (!(e.perm & IOMMU_WO)) {
        trace_vsmmu_accel_msi_drop(vsmmu_dev_name(vdev), msg.address);
        return;
    }
    address_space_stl_le(&address_space_memory,
                         e.translated_addr | (msg.address & e.addr_mask),
                         msg.data, attrs, NULL);
}

/*
 * With KVM, the assigned device's MSI routes are set up from the address
 * the guest programmed, an IOVA of its stage 1 that QEMU does not walk.
 * The doorbell behind it is the vITS's GITS_TRANSLATER (the guest maps
 * nothing else for MSIs), at the msi-gpa property's address or found
 * from the board's ITS.
 */
#define VSMMU_GITS_TRANSLATER   0x10040

/* Does the host translate for this device (an assigned one)? */
static bool vsmmu_accel_is_host_dev(VsmmuState *s, PCIBus *bus, int devfn)
{
    PCIDevice *pdev = bus->devices[devfn];

    return pdev && vsmmu_vfio_is_assigned(pdev);
}

static bool vsmmu_accel_msi_gpa(VsmmuState *s, PCIBus *bus, int devfn,
                                hwaddr *gpa)
{
    Object *its;
    SysBusDevice *sbd;

    if (!vsmmu_accel_is_host_dev(s, bus, devfn)) {
        return false;
    }
    if (s->accel.msi_gpa) {
        *gpa = s->accel.msi_gpa;
        return true;
    }
    its = object_resolve_path_type("", "arm-gicv3-its-common", NULL);
    if (!its) {
        return false;
    }
    sbd = SYS_BUS_DEVICE(its);
    if (!sbd->num_mmio || sbd->mmio[0].addr == (hwaddr)-1) {
        return false;
    }
    *gpa = sbd->mmio[0].addr + VSMMU_GITS_TRANSLATER;
    return true;
}

/* ---- devices ------------------------------------------------------------- */

static bool vsmmu_accel_attach(VsmmuState *s, VsmmuDevice *vdev,
                        HostIOMMUDevice *hiod, Error **errp)
{
    VsmmuAccel *h = vsmmu_accel(s);
    PCIDevice *pdev = vdev->sdev.bus->devices[vdev->sdev.devfn];
    IOMMUFDBackend *be;
    uint32_t dev_id, hwpt_id;
    uint64_t caps = 0;

    if (!vsmmu_iommufd_device(hiod, &be, &dev_id, &hwpt_id)) {
        error_setg(errp, "vsmmu: device %s is not bound to iommufd; use "
                   "-device vfio-pci,iommufd=<id>", hiod->name);
        return false;
    }
    if (be != h->be) {
        error_setg(errp, "vsmmu: device %s uses another iommufd object than "
                   "its vsmmu (iommufd=%s)", hiod->name,
                   object_get_canonical_path_component(OBJECT(h->be)));
        return false;
    }
    if (hiod->caps.type != IOMMU_HW_INFO_TYPE_ARM_SMMUV3) {
        error_setg(errp, "vsmmu: device %s is not behind an Arm SMMUv3 "
                   "(host IOMMU info type %u)", hiod->name, hiod->caps.type);
        return false;
    }
    if (!vsmmu_accel_check_msi_window(hiod->name, errp)) {
        return false;
    }
    caps = hiod->caps.hw_caps;
    if (!h->ndevs) {
        vsmmu_accel_resolve_auto(s, hiod->name,
                                 &hiod->caps.vendor_caps.smmuv3, caps);
    }
    if (!vsmmu_accel_check_host(s, hiod->name,
                                &hiod->caps.vendor_caps.smmuv3, caps, errp)) {
        if (s->idr_seen && !s->idr_from_host && vsmmu_has_auto(s)) {
            error_append_hint(errp, "The guest has already read this vsmmu's "
                              "ID registers, so its 'auto' properties keep "
                              "their defaults until the next reset; set "
                              "them explicitly to hot-plug this device.\n");
        }
        return false;
    }
    if (h->ndevs && hwpt_id != h->parent_hwpt_id) {
        error_setg(errp, "vsmmu: device %s is behind a different host SMMU "
                   "than %s, the first device of this vsmmu", hiod->name,
                   h->first_dev);
        error_append_hint(errp, "Put devices of each host SMMU behind their "
                          "own vsmmu (e.g. on a pxb-pcie root bus each).\n");
        return false;
    }

    vdev->accel = g_new0(VsmmuAccelDev, 1);
    vdev->accel->pdev = pdev;
    vdev->accel->hiod = hiod;
    vdev->accel->dev_id = dev_id;
    vdev->accel->parent_hwpt_id = hwpt_id;
    vdev->accel->hwpt_id = hwpt_id;
    vdev->accel->hwpt_kind = VSMMU_STREAM_BYPASS;

    if (!h->ndevs) {
        if (!vsmmu_accel_host_up(s, vdev, errp)) {
            goto fail;
        }
        h->info = hiod->caps.vendor_caps.smmuv3;
        h->caps = caps;
    }
    h->ndevs++;
    if (!vsmmu_accel_vdevice(s, vdev, errp)) {
        h->ndevs--;
        if (!h->ndevs) {
            vsmmu_accel_host_down(s, pdev);
        }
        goto fail;
    }
    vsmmu_accel_install(s, vdev, false);
    vsmmu_accel_veventq_sync(s);

    trace_vsmmu_accel_dev_attach(hiod->name, dev_id, hwpt_id,
                                 smmu_get_sid(&vdev->sdev));
    return true;

fail:
    g_clear_pointer(&vdev->accel, g_free);
    return false;
}

/*
 * Before VFIO unbinds the device: back on its stage-2 domain, vDEVICE and
 * nested domain destroyed; the host SMMU's objects with the last device.
 */
static void vsmmu_accel_detach(VsmmuState *s, VsmmuDevice *vdev)
{
    VsmmuAccel *h = vsmmu_accel(s);
    PCIDevice *pdev;

    if (!vdev->accel) {
        return;
    }
    pdev = vdev->accel->pdev;
    trace_vsmmu_accel_dev_detach(vsmmu_dev_name(vdev));
    if (pdev && pdev->msi_trigger == vsmmu_accel_msi_trigger) {
        pdev->msi_trigger = vdev->accel->msi_trigger;
    }
    vsmmu_accel_attach_hwpt(s, vdev, vdev->accel->parent_hwpt_id,
                            VSMMU_STREAM_BYPASS);
    vsmmu_host_destroy(s, &vdev->accel->s1_hwpt_id, "nested HWPT");
    vsmmu_host_destroy(s, &vdev->accel->vdevice_id, "vDEVICE");
    g_clear_pointer(&vdev->accel, g_free);
    if (!--h->ndevs) {
        vsmmu_accel_host_down(s, pdev);
    }
}

/* ---- realize, info ------------------------------------------------------- */

static bool vsmmu_accel_realize(VsmmuState *s, Error **errp)
{
    VsmmuAccel *h = g_new0(VsmmuAccel, 1);
    const char *id = object_get_canonical_path_component(OBJECT(s));
    g_autofree char *owner = g_strdup_printf("vsmmu %s", id ?: "");

    h->be = s->accel.iommufd;
    h->veventq_fd = -1;
    h->reaper = vsmmu_iommufd_reaper_new(h->be, owner, &s->stats.host_ioctls);
    s->backend_opaque = h;
    return true;
}

static void vsmmu_accel_info(VsmmuState *s, GString *buf)
{
    VsmmuAccel *h = vsmmu_accel(s);

    g_string_append_printf(buf, "  iommufd: %s\n",
                           object_get_canonical_path_component(OBJECT(h->be)));
    g_string_append_printf(buf, "  migration: %s\n",
                           h->migration_blocker ?
                           error_get_pretty(h->migration_blocker) :
                           "possible (no assigned device)");
    if (h->ndevs) {
        g_string_append_printf(buf, "  host SMMU: via %s: IDR0 0x%08x "
                               "IDR1 0x%08x IDR3 0x%08x IDR5 0x%08x "
                               "IIDR 0x%08x AIDR 0x%08x\n"
                               "  vIOMMU %u on stage 2 HWPT %u, "
                               "vEVENTQ %u\n",
                               h->first_dev, h->info.idr[0],
                               h->info.idr[1], h->info.idr[3],
                               h->info.idr[5], h->info.iidr,
                               h->info.aidr, h->viommu_id,
                               h->parent_hwpt_id, h->veventq_id);
    } else {
        g_string_append(buf, "  host SMMU: none yet (no assigned "
                        "device)\n");
    }
}

static bool vsmmu_accel_info_dev(VsmmuState *s, VsmmuDevice *vdev,
                                 GString *buf)
{
    uint32_t sid = smmu_get_sid(&vdev->sdev);

    if (!vdev->accel) {
        return false;
    }
    g_string_append_printf(buf, "    %02x:%02x.%x %s: assigned, "
                           "vSID 0x%x (vDEVICE %u), HWPT %u (%s)\n",
                           PCI_BUS_NUM(sid), PCI_SLOT(sid & 0xff),
                           PCI_FUNC(sid & 0xff), vsmmu_dev_name(vdev),
                           vdev->accel->vsid, vdev->accel->vdevice_id,
                           vdev->accel->hwpt_id,
                           vsmmu_kind_name(vdev->accel->hwpt_kind));
    return true;
}

static void vsmmu_accel_info_stats(VsmmuState *s, GString *buf)
{
    g_string_append_printf(buf, "  host: ioctls %" PRIu64
                           ", invalidate ioctls %" PRIu64
                           " carrying %" PRIu64 " commands, "
                           "events %" PRIu64 ", lost %" PRIu64
                           ", objects being destroyed %u\n",
                           s->stats.host_ioctls,
                           s->stats.host_inval_ioctls,
                           s->stats.host_inval_cmds,
                           s->stats.host_events,
                           s->stats.host_events_lost,
                           vsmmu_iommufd_reaper_pending(
                               vsmmu_accel(s)->reaper));
}

static const VsmmuBackendOps vsmmu_backend_accel = {
    .name = "iommufd",
    .mode = "accel (iommufd nesting)",
    .realize = vsmmu_accel_realize,
    .process_batch = vsmmu_accel_process_batch,
    .config_reset = vsmmu_accel_config_reset,
    .eventq_changed = vsmmu_accel_eventq_changed,
    .is_host_dev = vsmmu_accel_is_host_dev,
    .attach = vsmmu_accel_attach,
    .detach = vsmmu_accel_detach,
    .msi_gpa = vsmmu_accel_msi_gpa,
    .info = vsmmu_accel_info,
    .info_dev = vsmmu_accel_info_dev,
    .info_stats = vsmmu_accel_info_stats,
};

/* Chosen at realize with accel=on (backend.h) */
static void vsmmu_accel_register(void)
{
    vsmmu_backend_register(&vsmmu_backend_accel);
}
type_init(vsmmu_accel_register)
