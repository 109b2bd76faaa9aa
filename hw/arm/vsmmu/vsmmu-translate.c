/*
 * vsmmu: DMA of emulated PCI devices through the per-device IOMMU regions
 *
 * Each device behind the vsmmu gets an IOMMU memory region whose
 * translate() answers, in order: SMMU disabled → GBPA; a small direct-mapped
 * per-device cache of recent translations (the hit path: no hashing, no
 * allocation); the stream's cached configuration (STE + CD decoded once,
 * until a CFGI or a register change); then smmu-common's IOTLB and
 * page-table walker. Faults become event records.
 *
 * translate() may run on any thread, without the BQL (iothreads). It
 * holds s->mutex only to read or publish translation state, never across
 * a table fetch or walk: those run unlocked and their result is cached
 * only if no invalidation happened meanwhile (s->tlb_gen unchanged).
 * Faults are posted to the event FIFO, never written from here
 * (docs/security.md, rules 3 and 4).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "system/memory.h"
#include "hw/pci/pci_bus.h"
#include "vsmmu-internal.h"
#include "trace.h"

/* Does the host translate for this device (backend.h)? */
static bool vsmmu_is_host_dev(VsmmuState *s, PCIBus *bus, int devfn)
{
    return s->backend->is_host_dev && s->backend->is_host_dev(s, bus, devfn);
}

static AddressSpace *vsmmu_find_add_as(PCIBus *bus, void *opaque, int devfn)
{
    VsmmuState *s = opaque;
    SMMUState *bs = &s->smmu;
    SMMUPciBus *sbus = g_hash_table_lookup(bs->smmu_pcibus_by_busptr, bus);
    VsmmuDevice *vdev;
    g_autofree char *name = NULL;

    if (!sbus) {
        sbus = g_malloc0(sizeof(SMMUPciBus) +
                         sizeof(SMMUDevice *) * SMMU_PCI_DEVFN_MAX);
        sbus->bus = bus;
        g_hash_table_insert(bs->smmu_pcibus_by_busptr, bus, sbus);
    }
    if (sbus->pbdev[devfn]) {
        vdev = container_of(sbus->pbdev[devfn], VsmmuDevice, sdev);
        goto out;
    }

    vdev = g_new0(VsmmuDevice, 1);
    vdev->s = s;
    vdev->sdev.smmu = s;
    vdev->sdev.bus = bus;
    vdev->sdev.devfn = devfn;
    name = g_strdup_printf("%s-%s-%02x.%x", TYPE_VSMMU_IOMMU_MEMORY_REGION,
                           bus->qbus.name, PCI_SLOT(devfn), PCI_FUNC(devfn));
    memory_region_init_iommu(&vdev->sdev.iommu, sizeof(vdev->sdev.iommu),
                             TYPE_VSMMU_IOMMU_MEMORY_REGION, OBJECT(s), name,
                             UINT64_MAX);
    address_space_init(&vdev->sdev.as, MEMORY_REGION(&vdev->sdev.iommu), name);
    QLIST_INSERT_HEAD(&s->devices, vdev, link);
    sbus->pbdev[devfn] = &vdev->sdev;
    trace_vsmmu_add_device(name);
out:
    /*
     * The host SMMU translates for assigned devices of an accel vsmmu: VFIO
     * maps guest RAM (system memory) into the stage 2 the guest's stage 1
     * nests over.
     */
    if (vsmmu_is_host_dev(s, bus, devfn)) {
        return &address_space_memory;
    }
    return &vdev->sdev.as;
}

static VsmmuDevice *vsmmu_find_dev(VsmmuState *s, PCIBus *bus, int devfn)
{
    SMMUPciBus *sbus = g_hash_table_lookup(s->smmu.smmu_pcibus_by_busptr,
                                           bus);

    return sbus && sbus->pbdev[devfn] ?
           container_of(sbus->pbdev[devfn], VsmmuDevice, sdev) : NULL;
}

static bool vsmmu_wants_nesting_parent(PCIBus *bus, void *opaque, int devfn)
{
    return vsmmu_is_host_dev(opaque, bus, devfn);
}

static bool vsmmu_set_iommu_device(PCIBus *bus, void *opaque, int devfn,
                                   HostIOMMUDevice *hiod, Error **errp)
{
    VsmmuState *s = opaque;
    VsmmuDevice *vdev;
    bool ok;

    /* BQL: the accelerated backend's state is the BQL's */
    if (!s->backend->attach) {
        error_setg(errp, "vsmmu: assigned device %s needs accel=on on its "
                   "vsmmu", hiod->name);
        return false;
    }
    vsmmu_find_add_as(bus, s, devfn);
    vdev = vsmmu_find_dev(s, bus, devfn);
    ok = s->backend->attach(s, vdev, hiod, errp);
    return ok;
}

static void vsmmu_unset_iommu_device(PCIBus *bus, void *opaque, int devfn)
{
    VsmmuState *s = opaque;
    VsmmuDevice *vdev = vsmmu_find_dev(s, bus, devfn);

    if (vdev && s->backend->detach) {
        s->backend->detach(s, vdev);
    }
}

static bool vsmmu_get_msi_direct_gpa(PCIBus *bus, void *opaque, int devfn,
                                     hwaddr *gpa)
{
    VsmmuState *s = opaque;

    return s->backend->msi_gpa && s->backend->msi_gpa(s, bus, devfn, gpa);
}

const PCIIOMMUOps vsmmu_pci_iommu_ops = {
    .get_address_space = vsmmu_find_add_as,
    .set_iommu_device = vsmmu_set_iommu_device,
    .unset_iommu_device = vsmmu_unset_iommu_device,
    .wants_nesting_parent = vsmmu_wants_nesting_parent,
    .get_msi_direct_gpa = vsmmu_get_msi_direct_gpa,
};

void vsmmu_invalidate_configs(VsmmuState *s, uint32_t first, uint32_t last)
{
    VsmmuDevice *vdev;

    /* The list changes under the BQL only; cfg_valid is translation state */
    qemu_mutex_lock(&s->mutex);
    QLIST_FOREACH(vdev, &s->devices, link) {
        uint32_t sid = smmu_get_sid(&vdev->sdev);

        if (sid >= first && sid <= last) {
            vdev->cfg_valid = false;
        }
    }
    vsmmu_invalidate_utlbs_locked(s);
    qemu_mutex_unlock(&s->mutex);
    trace_vsmmu_invalidate_configs(first, last);
}

void vsmmu_invalidate_utlbs(VsmmuState *s)
{
    qemu_mutex_lock(&s->mutex);
    vsmmu_invalidate_utlbs_locked(s);
    qemu_mutex_unlock(&s->mutex);
}

/* Largest naturally aligned power-of-two block at @iova within @size */
static uint64_t vsmmu_unmap_chunk(uint64_t iova, uint64_t size)
{
    uint64_t chunk = iova ? iova & -iova : 1ULL << 63;

    while (chunk > size) {
        chunk >>= 1;
    }
    return chunk;
}

/*
 * Notifiers get at most this many aligned pieces of a range; a longer
 * one is notified as the whole address space (always allowed, and
 * bounded work for any guest range).
 */
#define VSMMU_NOTIFY_MAX_PIECES 16

static unsigned vsmmu_unmap_pieces(uint64_t iova, uint64_t size)
{
    unsigned n = 0;

    while (size && n <= VSMMU_NOTIFY_MAX_PIECES) {
        uint64_t chunk = vsmmu_unmap_chunk(iova, size);

        iova += chunk;
        size -= chunk;
        n++;
    }
    return n;
}

/* Called with no vsmmu lock held (notifiers leave the vsmmu) */
void vsmmu_notify_unmap(VsmmuState *s, int asid, uint64_t iova, uint64_t size)
{
    SMMUDevice *sdev;
    IOMMUNotifier *n;

    QLIST_FOREACH(sdev, &s->smmu.devices_with_notifiers, next) {
        VsmmuDevice *vdev = container_of(sdev, VsmmuDevice, sdev);

        if (asid >= 0 && vdev->cfg_valid &&
            vdev->cfg.kind == VSMMU_STREAM_S1 && vdev->cfg.tcfg.asid != asid) {
            continue;
        }
        IOMMU_NOTIFIER_FOREACH(n, &sdev->iommu) {
            uint64_t a = iova, left = size;

            if (size == UINT64_MAX ||
                vsmmu_unmap_pieces(iova, size) > VSMMU_NOTIFY_MAX_PIECES) {
                memory_region_unmap_iommu_notifier_range(n);
                continue;
            }
            while (left) {
                uint64_t chunk = vsmmu_unmap_chunk(a, left);
                IOMMUTLBEvent event = {
                    .type = IOMMU_NOTIFIER_UNMAP,
                    .entry = {
                        .target_as = &address_space_memory,
                        .iova = a,
                        .addr_mask = chunk - 1,
                        .perm = IOMMU_NONE,
                    },
                };

                memory_region_notify_iommu_one(n, &event);
                a += chunk;
                left -= chunk;
            }
        }
    }
}

static void vsmmu_translation_fault(VsmmuState *s, VsmmuDevice *vdev,
                                    const VsmmuStreamCfg *cfg,
                                    hwaddr addr, IOMMUAccessFlags flag,
                                    const SMMUPTWEventInfo *info)
{
    VsmmuEvent ev = {
        .sid = smmu_get_sid(&vdev->sdev),
        .input_addr = addr,
        .rnw = !(flag & IOMMU_WO),
        .class = VSMMU_EVT_CLASS_IN,
    };

    switch (info->type) {
    case SMMU_PTW_ERR_WALK_EABT:
        /* always recorded */
        ev.id = VSMMU_EVT_F_WALK_EABT;
        ev.fetch_addr = info->addr;
        ev.class = VSMMU_EVT_CLASS_TT;
        vsmmu_evtq_record(s, &ev);
        return;
    case SMMU_PTW_ERR_TRANSLATION:
        ev.id = VSMMU_EVT_F_TRANSLATION;
        break;
    case SMMU_PTW_ERR_ADDR_SIZE:
        ev.id = VSMMU_EVT_F_ADDR_SIZE;
        break;
    case SMMU_PTW_ERR_ACCESS:
        ev.id = VSMMU_EVT_F_ACCESS;
        break;
    case SMMU_PTW_ERR_PERMISSION:
        ev.id = VSMMU_EVT_F_PERMISSION;
        break;
    default:
        return;
    }
    trace_vsmmu_translate_fault(ev.sid, addr, ev.id);
    /* CD.R: record translation-related faults or abort silently */
    if (cfg->tcfg.record_faults) {
        vsmmu_evtq_record(s, &ev);
    }
}

/*
 * Stage 1 of a stream: smmu-common's IOTLB under the mutex, else a walk
 * without it (RAM only), cached only if @gen is still current. Returns
 * false with @info set on a fault.
 */
static bool vsmmu_translate_s1(VsmmuState *s, VsmmuStreamCfg *cfg,
                               uint32_t gen, hwaddr addr,
                               IOMMUAccessFlags flag, SMMUTLBEntry *out,
                               SMMUPTWEventInfo *info)
{
    SMMUState *bs = &s->smmu;
    SMMUTransTableInfo *tt = select_tt(&cfg->tcfg, addr);
    SMMUTransTableInfo key;
    SMMUTLBEntry *te;

    if (!tt || tt->disabled) {
        info->type = SMMU_PTW_ERR_TRANSLATION;
        info->stage = SMMU_STAGE_1;
        return false;
    }
    key.granule_sz = tt->granule_sz;
    key.tsz = tt->tsz;

    qemu_mutex_lock(&s->mutex);
    te = smmu_iotlb_lookup(bs, &cfg->tcfg, &key, addr);
    if (te) {
        *out = *te;
    }
    qemu_mutex_unlock(&s->mutex);
    if (te) {
        if ((flag & IOMMU_WO) &&
            !(out->entry.perm & out->parent_perm & IOMMU_WO)) {
            info->type = SMMU_PTW_ERR_PERMISSION;
            info->stage = SMMU_STAGE_1;
            return false;
        }
        return true;
    }

    te = g_new0(SMMUTLBEntry, 1);
    if (smmu_ptw(bs, &cfg->tcfg, addr, flag, te, info)) {
        g_free(te);
        return false;
    }
    *out = *te;
    qemu_mutex_lock(&s->mutex);
    if (s->tlb_gen == gen) {
        smmu_iotlb_insert(bs, &cfg->tcfg, te);  /* the IOTLB owns it now */
        te = NULL;
    }
    qemu_mutex_unlock(&s->mutex);
    g_free(te);
    return true;
}

IOMMUTLBEntry vsmmu_translate_dev(VsmmuDevice *vdev, hwaddr addr,
                                  IOMMUAccessFlags flag)
{
    VsmmuState *s = vdev->s;
    VsmmuUtlbEntry *u = &vdev->utlb[(addr >> 12) % VSMMU_UTLB_ENTRIES];
    uint32_t sid = smmu_get_sid(&vdev->sdev);
    IOMMUTLBEntry entry = {
        .target_as = &address_space_memory,
        .iova = 0,
        .translated_addr = 0,
        .addr_mask = ~(hwaddr)0,
        .perm = IOMMU_NONE,
    };
    SMMUPTWEventInfo info = {};
    QEMU_UNINITIALIZED VsmmuStreamCfg cfg;
    SMMUTLBEntry te;
    VsmmuEvent ev;
    bool cfg_valid;
    uint32_t gen;

    qemu_mutex_lock(&s->mutex);
    s->stats.translations++;

    /* Hit path: a recent translation of this device, still current */
    if (u->gen == s->tlb_gen && vdev->cfg_valid &&
        (addr & ~u->mask) == u->iova && (u->perm & flag) == flag) {
        s->stats.utlb_hits++;
        entry.iova = u->iova;
        entry.translated_addr = u->pa;
        entry.addr_mask = u->mask;
        entry.perm = u->perm;
        qemu_mutex_unlock(&s->mutex);
        goto out;
    }

    /* SMMUEN clear: GBPA decides, for the whole address space (§6.3.14) */
    if (!vsmmu_enabled(s)) {
        entry.perm = FIELD_EX32(s->gbpa, GBPA, ABORT) ? IOMMU_NONE : IOMMU_RW;
        qemu_mutex_unlock(&s->mutex);
        goto out;
    }

    gen = s->tlb_gen;
    cfg_valid = vdev->cfg_valid;
    if (cfg_valid) {
        cfg = vdev->cfg;
    }
    qemu_mutex_unlock(&s->mutex);

    if (!cfg_valid) {
        if (!vsmmu_stream_config(s, sid, &cfg, &ev)) {
            ev.input_addr = addr;
            ev.rnw = !(flag & IOMMU_WO);
            vsmmu_evtq_record(s, &ev);
            goto out;
        }
        qemu_mutex_lock(&s->mutex);
        if (s->tlb_gen == gen) {
            vdev->cfg = cfg;
            vdev->cfg_valid = true;
        }
        qemu_mutex_unlock(&s->mutex);
    }

    switch (cfg.kind) {
    case VSMMU_STREAM_ABORT:
        break;
    case VSMMU_STREAM_BYPASS:
        entry.perm = IOMMU_RW;
        break;
    case VSMMU_STREAM_S1:
        if (!vsmmu_translate_s1(s, &cfg, gen, addr, flag, &te, &info)) {
            vsmmu_translation_fault(s, vdev, &cfg, addr, flag, &info);
            break;
        }
        entry.iova = addr & ~te.entry.addr_mask;
        entry.translated_addr = te.entry.translated_addr;
        entry.addr_mask = te.entry.addr_mask;
        entry.perm = te.entry.perm & te.parent_perm;
        qemu_mutex_lock(&s->mutex);
        if (s->tlb_gen == gen) {
            *u = (VsmmuUtlbEntry) {
                .iova = entry.iova,
                .pa = entry.translated_addr,
                .mask = entry.addr_mask,
                .perm = entry.perm,
                .gen = gen,
            };
        }
        qemu_mutex_unlock(&s->mutex);
        break;
    }

out:
    trace_vsmmu_translate(sid, addr, entry.perm);
    return entry;
}

static IOMMUTLBEntry vsmmu_translate(IOMMUMemoryRegion *mr, hwaddr addr,
                                     IOMMUAccessFlags flag, int iommu_idx)
{
    return vsmmu_translate_dev(container_of(mr, VsmmuDevice, sdev.iommu),
                               addr, flag);
}

static int vsmmu_notify_flag_changed(IOMMUMemoryRegion *iommu,
                                     IOMMUNotifierFlag old,
                                     IOMMUNotifierFlag new, Error **errp)
{
    VsmmuDevice *vdev = container_of(iommu, VsmmuDevice, sdev.iommu);
    SMMUState *bs = &vdev->s->smmu;

    if (new & (IOMMU_NOTIFIER_MAP | IOMMU_NOTIFIER_DEVIOTLB_UNMAP)) {
        error_setg(errp, "vsmmu: device %02x:%02x.%x needs IOMMU %s "
                   "notifications, which the emulated vsmmu does not send",
                   pci_bus_num(vdev->sdev.bus), PCI_SLOT(vdev->sdev.devfn),
                   PCI_FUNC(vdev->sdev.devfn),
                   new & IOMMU_NOTIFIER_MAP ? "MAP" : "device-IOTLB");
        error_append_hint(errp, "Assigned devices need accel=on "
                          "(iommufd nesting).\n");
        return -EINVAL;
    }
    if (old == IOMMU_NOTIFIER_NONE) {
        QLIST_INSERT_HEAD(&bs->devices_with_notifiers, &vdev->sdev, next);
    } else if (new == IOMMU_NOTIFIER_NONE) {
        QLIST_REMOVE(&vdev->sdev, next);
    }
    return 0;
}

void vsmmu_iommu_memory_region_class_init(ObjectClass *klass,
                                          const void *data)
{
    IOMMUMemoryRegionClass *imrc = IOMMU_MEMORY_REGION_CLASS(klass);

    imrc->translate = vsmmu_translate;
    imrc->notify_flag_changed = vsmmu_notify_flag_changed;
}
