/*
 * vsmmu: DMA of emulated PCI devices through the per-device IOMMU regions
 *
 * Each device behind the vsmmu gets an IOMMU memory region whose
 * translate() answers, in order: SMMU disabled → GBPA; a small direct-mapped
 * per-device cache of recent translations (the hit path: no hashing, no
 * allocation); the stream's cached configuration (STE + CD decoded once,
 * until a CFGI or a register change); then smmu-common's IOTLB and
 * page-table walker: stage 1, stage 2 alone, or stage 1 nested over
 * stage 2 (every stage-1 table address, TTBx included, is then an IPA the
 * walk takes through stage 2). IOTLB entries are tagged with the ASID and,
 * with stage 2 offered, the VMID. Faults become event records: stage-2
 * ones with S2 = 1, the IPA, and the class of the access that faulted.
 *
 * translate() may run on any thread, without the BQL (iothreads). It
 * holds s->mutex only to read or publish translation state, never across
 * a table fetch or walk: those run unlocked and their result is cached
 * only if no invalidation happened meanwhile (s->tlb_gen unchanged).
 * Faults are posted to the event FIFO, never written from here
 * (docs/security.md, rules 3 and 4).
 *
 * With ATS offered (IDR0.ATS), emulated PCIe endpoints with an ATS
 * capability may also send ATS Translation Requests (QEMU's PCI ATS
 * interface, pci_ats_request_translation()) and keep the answers in
 * their own ATC; guest ATC_INV commands reach them through their
 * device-IOTLB notifiers (IOMMU_NOTIFIER_DEVIOTLB_UNMAP).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "qemu/error-report.h"
#include "qemu/log.h"
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

    /*
     * The bus table changes under the BQL and s->mutex both: an ATS
     * request from an iothread looks devices up with the mutex alone.
     */
    if (!sbus) {
        sbus = g_malloc0(sizeof(SMMUPciBus) +
                         sizeof(SMMUDevice *) * SMMU_PCI_DEVFN_MAX);
        sbus->bus = bus;
        qemu_mutex_lock(&s->mutex);
        g_hash_table_insert(bs->smmu_pcibus_by_busptr, bus, sbus);
        qemu_mutex_unlock(&s->mutex);
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
    qemu_mutex_lock(&s->mutex);
    sbus->pbdev[devfn] = &vdev->sdev;
    qemu_mutex_unlock(&s->mutex);
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

/* An invalidation of everything notifier @n watches */
static void vsmmu_notify_whole(IOMMUNotifier *n, IOMMUNotifierFlag type)
{
    IOMMUTLBEvent event = {
        .type = type,
        .entry = {
            .target_as = &address_space_memory,
            .iova = n->start,
            .addr_mask = n->end - n->start,
            .perm = IOMMU_NONE,
        },
    };

    memory_region_notify_iommu_one(n, &event);
}

/*
 * Could an invalidation of @scope, @asid, @vmid (-1: any) drop entries of
 * @vdev's stream? A stream whose configuration is not cached may hold
 * anything: yes. Stage-1 invalidations reach streams with a stage 1 of
 * that ASID and VMID; stage-2 ones (an IPA range) the streams whose input
 * is the IPA, stage 2 alone: a nested stream's combined entries go with
 * the stage-1 invalidation that must follow (TLBI_NH_*, TLBI_S12_VMALL).
 */
static bool vsmmu_notify_reaches(VsmmuDevice *vdev, VsmmuInvScope scope,
                                 int asid, int vmid)
{
    const SMMUTransCfg *t = &vdev->cfg.tcfg;
    VsmmuStreamKind kind;
    bool s1;

    /* not decoded (or gone): it may hold anything, tell it */
    if (!vdev->cfg_valid) {
        return true;
    }
    kind = vdev->cfg.kind;
    s1 = kind == VSMMU_STREAM_S1 || kind == VSMMU_STREAM_NESTED;
    if (vmid >= 0 && (s1 || kind == VSMMU_STREAM_S2) &&
        t->s2cfg.vmid != vmid) {
        return false;
    }
    switch (scope) {
    case VSMMU_INV_S1:
        return kind != VSMMU_STREAM_S2 &&
               !(asid >= 0 && s1 && t->asid != asid);
    case VSMMU_INV_S2:
        return kind == VSMMU_STREAM_S2;
    default:
        return true;
    }
}

/*
 * Called with no vsmmu lock held (notifiers leave the vsmmu). UNMAP
 * notifiers (vhost without ATS, …) hear of every TLBI. Device-IOTLB
 * notifiers stand for an ATC, which TLBIs do not reach when the SMMU has
 * ATS (the guest sends ATC_INV, vsmmu_notify_atc_inv()); without ATS
 * nothing else would ever invalidate such a cache, so they hear of TLBIs.
 */
void vsmmu_notify_unmap(VsmmuState *s, VsmmuInvScope scope, int asid,
                        int vmid, uint64_t iova, uint64_t size)
{
    SMMUDevice *sdev;
    IOMMUNotifier *n;
    IOMMUNotifierFlag devtlb = s->ats ? IOMMU_NOTIFIER_NONE :
                               IOMMU_NOTIFIER_DEVIOTLB_UNMAP;

    QLIST_FOREACH(sdev, &s->smmu.devices_with_notifiers, next) {
        VsmmuDevice *vdev = container_of(sdev, VsmmuDevice, sdev);

        if (!vsmmu_notify_reaches(vdev, scope, asid, vmid)) {
            continue;
        }
        IOMMU_NOTIFIER_FOREACH(n, &sdev->iommu) {
            IOMMUNotifierFlag type = n->notifier_flags & IOMMU_NOTIFIER_UNMAP ?
                                     IOMMU_NOTIFIER_UNMAP :
                                     n->notifier_flags & devtlb;
            uint64_t a = iova, left = size;

            if (!type) {
                continue;
            }
            if (size == UINT64_MAX ||
                vsmmu_unmap_pieces(iova, size) > VSMMU_NOTIFY_MAX_PIECES) {
                vsmmu_notify_whole(n, type);
                continue;
            }
            while (left) {
                uint64_t chunk = vsmmu_unmap_chunk(a, left);
                IOMMUTLBEvent event = {
                    .type = type,
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

/*
 * A fault of the walk of @addr. Stage-2 faults (S2 = 1) carry the IPA
 * and the class of the access: IN for the input's own IPA, TT for the
 * address of a stage-1 table (TTBx or a descriptor's next level); walk
 * aborts carry the descriptor address (CLASS TT for stage-1 descriptors).
 * CD.R decides whether stage-1 faults are recorded, STE.S2R stage-2 ones;
 * a stage-1 Address Size fault of a stream that bypasses stage 1 (input
 * beyond IAS), where no CD says, always is, as are walk aborts.
 */
static void vsmmu_translation_fault(VsmmuState *s, VsmmuDevice *vdev,
                                    const VsmmuStreamCfg *cfg,
                                    hwaddr addr, IOMMUAccessFlags flag,
                                    const SMMUPTWEventInfo *info)
{
    bool s2 = info->stage == SMMU_STAGE_2;
    VsmmuEvent ev = {
        .sid = smmu_get_sid(&vdev->sdev),
        .input_addr = addr,
        .rnw = !(flag & IOMMU_WO),
        .s2 = s2,
        .class = s2 && info->is_ipa_descriptor ? VSMMU_EVT_CLASS_TT :
                 VSMMU_EVT_CLASS_IN,
    };
    bool record = s2 ? cfg->tcfg.s2cfg.record_faults :
                  cfg->kind == VSMMU_STREAM_S2 || cfg->tcfg.record_faults;

    switch (info->type) {
    case SMMU_PTW_ERR_WALK_EABT:
        /* always recorded */
        ev.id = VSMMU_EVT_F_WALK_EABT;
        ev.fetch_addr = info->addr;
        if (!s2) {
            ev.class = VSMMU_EVT_CLASS_TT;
        }
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
    if (s2) {
        ev.fetch_addr = info->addr;         /* the IPA */
    }
    trace_vsmmu_translate_fault(ev.sid, addr, ev.id, s2);
    /* CD.R, STE.S2R: record translation-related faults or abort silently */
    if (record) {
        vsmmu_evtq_record(s, &ev);
    }
}

/*
 * The translation of @addr by a stream of kind S1, S2 or NESTED:
 * smmu-common's IOTLB under the mutex, else a walk without it (RAM only;
 * a nested walk takes stage-1 table addresses through stage 2 itself,
 * never through the IOTLB), cached only if @gen is still current.
 * Returns false with @info set on a fault.
 */
static bool vsmmu_translate_walk(VsmmuState *s, VsmmuStreamCfg *cfg,
                                 uint32_t gen, hwaddr addr,
                                 IOMMUAccessFlags flag, SMMUTLBEntry *out,
                                 SMMUPTWEventInfo *info)
{
    SMMUState *bs = &s->smmu;
    SMMUTransTableInfo key;
    SMMUTLBEntry *te;

    if (cfg->kind == VSMMU_STREAM_S2) {
        key.granule_sz = cfg->tcfg.s2cfg.granule_sz;
        key.tsz = cfg->tcfg.s2cfg.tsz;
    } else {
        SMMUTransTableInfo *tt = select_tt(&cfg->tcfg, addr);

        if (!tt || tt->disabled) {
            info->type = SMMU_PTW_ERR_TRANSLATION;
            info->stage = SMMU_STAGE_1;
            return false;
        }
        key.granule_sz = tt->granule_sz;
        key.tsz = tt->tsz;
    }

    qemu_mutex_lock(&s->mutex);
    te = smmu_iotlb_lookup(bs, &cfg->tcfg, &key, addr);
    if (te) {
        *out = *te;
    }
    qemu_mutex_unlock(&s->mutex);
    if (te) {
        IOMMUAccessFlags need = flag & IOMMU_RW;

        if ((out->entry.perm & out->parent_perm & need) == need) {
            return true;
        }
        if (cfg->kind == VSMMU_STREAM_S1) {
            info->type = SMMU_PTW_ERR_PERMISSION;
            info->stage = SMMU_STAGE_1;
            return false;
        }
        /*
         * Which stage refuses, and at which IPA, is the walk's to say:
         * walk again (permission faults are rare, the walk is bounded)
         */
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

/*
 * The configuration of @vdev's stream, entered with s->mutex held and
 * returning without it: the cached one, or decoded now (unlocked) and
 * cached unless an invalidation happened meanwhile. *@gen is the
 * generation the caller's own caching must check. False with @ev set on
 * a configuration fault.
 */
static bool vsmmu_dev_config_unlock(VsmmuState *s, VsmmuDevice *vdev,
                                    VsmmuStreamCfg *cfg, uint32_t *gen,
                                    VsmmuEvent *ev)
{
    bool cfg_valid;

    *gen = s->tlb_gen;
    cfg_valid = vdev->cfg_valid;
    if (cfg_valid) {
        *cfg = vdev->cfg;
    }
    qemu_mutex_unlock(&s->mutex);

    if (cfg_valid) {
        return true;
    }
    if (!vsmmu_stream_config(s, smmu_get_sid(&vdev->sdev), cfg, ev)) {
        return false;
    }
    qemu_mutex_lock(&s->mutex);
    if (s->tlb_gen == *gen) {
        vdev->cfg = *cfg;
        vdev->cfg_valid = true;
    }
    qemu_mutex_unlock(&s->mutex);
    return true;
}

/*
 * Bypass and abort answers cover half the address space around @addr, as
 * an identity map, never all of it: an entry with addr_mask ~0 at IOVA 0
 * gives the memory core a length of (0 | ~0) - 0 + 1 = 0, and its copy
 * loop then spins for good with the BQL held (a fuzz finding,
 * tests/qtest/vsmmu-fuzz-regress-test.c).
 */
#define VSMMU_IDENTITY_MASK     (((hwaddr)1 << 63) - 1)

IOMMUTLBEntry vsmmu_translate_dev(VsmmuDevice *vdev, hwaddr addr,
                                  IOMMUAccessFlags flag)
{
    VsmmuState *s = vdev->s;
    VsmmuUtlbEntry *u = &vdev->utlb[(addr >> 12) % VSMMU_UTLB_ENTRIES];
    IOMMUTLBEntry entry = {
        .target_as = &address_space_memory,
        .iova = addr & ~VSMMU_IDENTITY_MASK,
        .translated_addr = addr & ~VSMMU_IDENTITY_MASK,
        .addr_mask = VSMMU_IDENTITY_MASK,
        .perm = IOMMU_NONE,
    };
    SMMUPTWEventInfo info = {};
    /* written before read: no zeroing on the hot path */
    QEMU_UNINITIALIZED VsmmuStreamCfg cfg;
    QEMU_UNINITIALIZED SMMUTLBEntry te;
    QEMU_UNINITIALIZED VsmmuEvent ev;
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

    if (!vsmmu_dev_config_unlock(s, vdev, &cfg, &gen, &ev)) {
        ev.input_addr = addr;
        ev.rnw = !(flag & IOMMU_WO);
        if (ev.id) {
            vsmmu_evtq_record(s, &ev);
        }
        goto out;
    }

    switch (cfg.kind) {
    case VSMMU_STREAM_ABORT:
        break;
    case VSMMU_STREAM_BYPASS:
        entry.perm = IOMMU_RW;
        break;
    case VSMMU_STREAM_S1:
    case VSMMU_STREAM_S2:
    case VSMMU_STREAM_NESTED:
        if (!vsmmu_translate_walk(s, &cfg, gen, addr, flag, &te, &info)) {
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
    /* the StreamID walks the PCI bus: only when someone listens */
    if (trace_event_get_state_backends(TRACE_VSMMU_TRANSLATE)) {
        trace_vsmmu_translate(smmu_get_sid(&vdev->sdev), addr, entry.perm);
    }
    return entry;
}

static IOMMUTLBEntry vsmmu_translate(IOMMUMemoryRegion *mr, hwaddr addr,
                                     IOMMUAccessFlags flag, int iommu_idx)
{
    return vsmmu_translate_dev(container_of(mr, VsmmuDevice, sdev.iommu),
                               addr, flag);
}

/* ---- ATS of emulated endpoints ------------------------------------------ */

/* F_BAD_ATS_TREQ: the stream does not permit ATS (always recorded) */
static void vsmmu_ats_bad_treq(VsmmuState *s, uint32_t sid, hwaddr addr)
{
    VsmmuEvent ev = {
        .id = VSMMU_EVT_F_BAD_ATS_TREQ,
        .sid = sid,
        .input_addr = addr,
    };

    qemu_log_mask(LOG_GUEST_ERROR, "vsmmu: stream 0x%x: ATS Translation "
                  "Request for 0x%" HWADDR_PRIx " while its STE does not "
                  "permit ATS\n", sid, addr);
    vsmmu_evtq_record(s, &ev);
}

/*
 * One ATS Translation Request of [@addr, @addr + @length) from an
 * emulated endpoint, answered as the root complex would (IHI 0070 §3.9.1):
 *   - Unsupported Request (VSMMU_ATS_UR) when ATS is not permitted: the
 *     SMMU without ATS or disabled (no event); an STE that aborts (no
 *     event, as for any transaction); an STE that bypasses (STE.EATS is
 *     ignored there) or has STE.EATS = 0b00: F_BAD_ATS_TREQ;
 *   - Completer Abort (VSMMU_ATS_CA) on a configuration error (C_BAD_STE,
 *     C_BAD_CD, fetch aborts, ...) and on a walk abort, the event recorded;
 *   - otherwise one completion entry per page: the translation and its
 *     permissions (W dropped for a no-write request), a translation fault
 *     being an entry with R = W = 0 that counts in @err_count and records
 *     no event (the endpoint owns the fault). Entries stop at
 *     @result_length; -ENOMEM if the range did not fit.
 * Any thread, no vsmmu lock held; nothing is written to guest memory
 * here (events go through the FIFO).
 */
static ssize_t vsmmu_ats_translate(VsmmuDevice *vdev, hwaddr addr,
                                   size_t length, bool no_write,
                                   IOMMUTLBEntry *result, size_t result_len,
                                   uint32_t *err_count)
{
    VsmmuState *s = vdev->s;
    uint32_t sid = smmu_get_sid(&vdev->sdev);
    hwaddr start = addr, end = addr + length;
    QEMU_UNINITIALIZED VsmmuStreamCfg cfg;
    VsmmuEvent ev;
    uint32_t gen;
    size_t n = 0;

    *err_count = 0;
    if (end < addr) {
        end = UINT64_MAX;       /* up to the top of the address space */
    }
    qemu_mutex_lock(&s->mutex);
    s->stats.ats_requests++;
    if (!s->ats || !vsmmu_enabled(s)) {
        qemu_mutex_unlock(&s->mutex);
        trace_vsmmu_ats_request(sid, addr, length, VSMMU_ATS_UR);
        return VSMMU_ATS_UR;
    }
    if (!vsmmu_dev_config_unlock(s, vdev, &cfg, &gen, &ev)) {
        ev.input_addr = addr;
        if (ev.id) {
            vsmmu_evtq_record(s, &ev);
        }
        trace_vsmmu_ats_request(sid, addr, length, VSMMU_ATS_CA);
        return VSMMU_ATS_CA;
    }
    if (cfg.kind == VSMMU_STREAM_ABORT) {
        trace_vsmmu_ats_request(sid, addr, length, VSMMU_ATS_UR);
        return VSMMU_ATS_UR;
    }
    /*
     * STE.Config translating (S1, S2, S1 + S2) with EATS = 0b01; S1DSS
     * may bypass S1 (the answer is then the identity, or stage 2's)
     */
    if (FIELD_EX64(cfg.ste[0], STE0, CONFIG) < VSMMU_STE_CFG_S1 ||
        FIELD_EX64(cfg.ste[1], STE1, EATS) != VSMMU_EATS_TRANS) {
        vsmmu_ats_bad_treq(s, sid, addr);
        trace_vsmmu_ats_request(sid, addr, length, VSMMU_ATS_UR);
        return VSMMU_ATS_UR;
    }

    addr &= ~(hwaddr)(VSMMU_ATS_PAGE - 1);
    while (addr < end && n < result_len) {
        IOMMUTLBEntry *e = &result[n++];
        SMMUPTWEventInfo info = {};
        SMMUTLBEntry te;

        *e = (IOMMUTLBEntry) {
            .target_as = &address_space_memory,
            .iova = addr,
            .translated_addr = addr,
            .addr_mask = VSMMU_ATS_PAGE - 1,
            .perm = IOMMU_RW,
            .pasid = PCI_NO_PASID,
        };
        if (cfg.kind != VSMMU_STREAM_BYPASS) {
            if (vsmmu_translate_walk(s, &cfg, gen, addr, IOMMU_RO, &te,
                                     &info)) {
                e->iova = addr & ~te.entry.addr_mask;
                e->translated_addr = te.entry.translated_addr;
                e->addr_mask = te.entry.addr_mask;
                e->perm = te.entry.perm & te.parent_perm;
            } else if (info.type == SMMU_PTW_ERR_WALK_EABT) {
                vsmmu_translation_fault(s, vdev, &cfg, addr, IOMMU_RO, &info);
                trace_vsmmu_ats_request(sid, addr, length, VSMMU_ATS_CA);
                return VSMMU_ATS_CA;
            } else {
                e->perm = IOMMU_NONE;
            }
        }
        if (no_write) {
            e->perm &= ~IOMMU_WO;
        }
        if (!(e->perm & IOMMU_RO)) {
            (*err_count)++;
        }
        /* the next page after this entry; stop at the top */
        if (e->iova + e->addr_mask < e->iova ||
            e->iova + e->addr_mask == UINT64_MAX) {
            addr = end;
            break;
        }
        addr = e->iova + e->addr_mask + 1;
    }
    trace_vsmmu_ats_request(sid, start, length, n);
    return addr < end ? -ENOMEM : n;
}

/*
 * ATC_INV: the device-IOTLB notifiers of the devices with StreamID @sid
 * drop [@iova, @iova + @size) (@size 0: everything). QEMU's notifiers are
 * synchronous: when this returns, each device has dropped the entries, so
 * the CMD_SYNC that follows may complete. BQL held, no vsmmu lock.
 */
void vsmmu_notify_atc_inv(VsmmuState *s, uint32_t sid, uint64_t iova,
                          uint64_t size)
{
    SMMUDevice *sdev, *next;
    IOMMUTLBEvent event = {
        .type = IOMMU_NOTIFIER_DEVIOTLB_UNMAP,
        .entry = {
            .target_as = &address_space_memory,
            .iova = size ? iova : 0,
            .addr_mask = size ? size - 1 : UINT64_MAX,
            .perm = IOMMU_NONE,
            .pasid = PCI_NO_PASID,
        },
    };

    QLIST_FOREACH_SAFE(sdev, &s->smmu.devices_with_notifiers, next, next) {
        if (smmu_get_sid(sdev) == sid) {
            trace_vsmmu_atc_inv_notify(sid, event.entry.iova,
                                       event.entry.addr_mask);
            memory_region_notify_iommu(&sdev->iommu, 0, event);
        }
    }
}

static int vsmmu_notify_flag_changed(IOMMUMemoryRegion *iommu,
                                     IOMMUNotifierFlag old,
                                     IOMMUNotifierFlag new, Error **errp)
{
    VsmmuDevice *vdev = container_of(iommu, VsmmuDevice, sdev.iommu);
    SMMUState *bs = &vdev->s->smmu;

    /*
     * Device-IOTLB notifiers (an endpoint's ATC, vhost's IOTLB once the
     * guest enables ATS in the device) are always welcome: with IDR0.ATS
     * they hear ATC_INVs, without it TLBIs (vsmmu_notify_unmap()). Never
     * refused, as a guest's config write may bring one at any time.
     */
    if (new & IOMMU_NOTIFIER_MAP) {
        error_setg(errp, "vsmmu: device %02x:%02x.%x needs IOMMU MAP "
                   "notifications, which the emulated vsmmu does not send",
                   pci_bus_num(vdev->sdev.bus), PCI_SLOT(vdev->sdev.devfn),
                   PCI_FUNC(vdev->sdev.devfn));
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

/* ---- PCI ATS interface (pci_ats_*, pci_iommu_*_iotlb_*) -------------- */

/* The device at @bus/@devfn, looked up under the mutex (any thread) */
static VsmmuDevice *vsmmu_find_dev_locked(VsmmuState *s, PCIBus *bus,
                                          int devfn)
{
    VsmmuDevice *vdev;

    qemu_mutex_lock(&s->mutex);
    vdev = vsmmu_find_dev(s, bus, devfn);
    qemu_mutex_unlock(&s->mutex);
    return vdev;
}

/* Input addresses: 48 bits (IDR5.VAX = 0); the smallest granule, 4 KiB */
static void vsmmu_get_iotlb_info(void *opaque, uint8_t *addr_width,
                                 uint32_t *min_page_size)
{
    *addr_width = VSMMU_ATS_ADDR_BITS;
    *min_page_size = VSMMU_ATS_PAGE;
}

static void vsmmu_init_iotlb_notifier(PCIBus *bus, void *opaque, int devfn,
                                      IOMMUNotifier *n, IOMMUNotify fn,
                                      void *user_opaque)
{
    n->opaque = user_opaque;
    iommu_notifier_init(n, fn, IOMMU_NOTIFIER_DEVIOTLB_EVENTS, 0, HWADDR_MAX,
                        0);
}

/* BQL held (device code registering its ATC) */
static void vsmmu_register_iotlb_notifier(PCIBus *bus, void *opaque,
                                          int devfn, uint32_t pasid,
                                          IOMMUNotifier *n)
{
    VsmmuState *s = opaque;
    VsmmuDevice *vdev;
    Error *err = NULL;

    if (pasid != PCI_NO_PASID) {
        /* Emulated devices translate without substreams */
        qemu_log_mask(LOG_UNIMP, "vsmmu: device-IOTLB notifier for PASID %u "
                      "not supported\n", pasid);
        return;
    }
    vsmmu_find_add_as(bus, s, devfn);
    vdev = vsmmu_find_dev(s, bus, devfn);
    if (memory_region_register_iommu_notifier(MEMORY_REGION(&vdev->sdev.iommu),
                                              n, &err)) {
        error_report_err(err);
    }
}

static void vsmmu_unregister_iotlb_notifier(PCIBus *bus, void *opaque,
                                            int devfn, uint32_t pasid,
                                            IOMMUNotifier *n)
{
    VsmmuDevice *vdev = vsmmu_find_dev(opaque, bus, devfn);

    if (vdev && pasid == PCI_NO_PASID) {
        memory_region_unregister_iommu_notifier(
            MEMORY_REGION(&vdev->sdev.iommu), n);
    }
}

static ssize_t vsmmu_ats_request_translation(PCIBus *bus, void *opaque,
                                             int devfn, uint32_t pasid,
                                             bool priv_req, bool exec_req,
                                             hwaddr addr, size_t length,
                                             bool no_write,
                                             IOMMUTLBEntry *result,
                                             size_t result_length,
                                             uint32_t *err_count)
{
    VsmmuDevice *vdev = vsmmu_find_dev_locked(opaque, bus, devfn);

    *err_count = 0;
    if (!vdev) {
        return VSMMU_ATS_UR;
    }
    if (pasid != PCI_NO_PASID) {
        qemu_log_mask(LOG_UNIMP, "vsmmu: ATS Translation Request with PASID "
                      "%u: substreams of emulated devices not supported\n",
                      pasid);
        return VSMMU_ATS_UR;
    }
    return vsmmu_ats_translate(vdev, addr, length, no_write, result,
                               result_length, err_count);
}

const PCIIOMMUOps vsmmu_pci_iommu_ops = {
    .get_address_space = vsmmu_find_add_as,
    .set_iommu_device = vsmmu_set_iommu_device,
    .unset_iommu_device = vsmmu_unset_iommu_device,
    .wants_nesting_parent = vsmmu_wants_nesting_parent,
    .get_msi_direct_gpa = vsmmu_get_msi_direct_gpa,
    .get_iotlb_info = vsmmu_get_iotlb_info,
    .init_iotlb_notifier = vsmmu_init_iotlb_notifier,
    .register_iotlb_notifier = vsmmu_register_iotlb_notifier,
    .unregister_iotlb_notifier = vsmmu_unregister_iotlb_notifier,
    .ats_request_translation = vsmmu_ats_request_translation,
};
