/*
 * vsmmu: the emulated backend — guest commands take effect on QEMU's own
 * translation caches (smmu-common's IOTLB, our per-device caches) and on
 * the IOMMU notifiers of emulated devices.
 *
 * The caches are translation state: changed under s->mutex, which is
 * dropped before the notifiers run (docs/security.md). ATC_INV reaches the
 * ATC of ATS-capable emulated endpoints through their device-IOTLB
 * notifiers, synchronously, so the CMD_SYNC that ends the batch completes
 * only after every endpoint dropped the entries.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "system/dma.h"
#include "vsmmu-internal.h"
#include "trace.h"

/*
 * A range that needs more aligned pieces than this is invalidated wider:
 * the whole ASID (TLBI_NH_VA), the stage-1 entries of the VMID (or
 * everything without stage 2, TLBI_NH_VAA), all entries of the VMID
 * (TLBI_S2_IPA). Each piece walks the whole IOTLB, so this bounds a
 * command's cost (security.md, rule 5).
 */
#define VSMMU_TLBI_MAX_PIECES   8

static unsigned vsmmu_emu_range_pieces(uint64_t addr, uint64_t end)
{
    unsigned n = 1;

    for (;;) {
        uint64_t mask = dma_aligned_pow2_mask(addr, end, 64);

        if (mask >= end - addr || n > VSMMU_TLBI_MAX_PIECES) {
            return n;
        }
        addr += mask + 1;
        n++;
    }
}

/*
 * smmu-common matches a range invalidation against its IOTLB with one
 * address mask, so it must be a naturally aligned power of two: split
 * the guest's range (RIL: (NUM + 1) << SCALE pages, any count) into such
 * pieces, or the entries a misaligned mask misses stay stale. s->mutex
 * held.
 */
static void vsmmu_emu_inv_range(SMMUState *bs, const VsmmuCmd *c,
                                uint8_t granule)
{
    uint64_t addr = c->addr & ~((1ULL << granule) - 1);
    uint64_t end = addr + (c->num_pages << granule) - 1;

    if (end < addr) {
        end = UINT64_MAX;       /* the range runs past the top */
    }
    if (vsmmu_emu_range_pieces(addr, end) > VSMMU_TLBI_MAX_PIECES) {
        trace_vsmmu_tlbi_widened(c->asid, c->vmid, addr, end);
        switch (c->opcode) {
        case VSMMU_CMD_TLBI_NH_VA:
            smmu_iotlb_inv_asid_vmid(bs, c->asid, c->vmid);
            break;
        case VSMMU_CMD_TLBI_S2_IPA:
            smmu_iotlb_inv_vmid(bs, c->vmid);
            break;
        default:
            if (c->vmid >= 0) {
                smmu_iotlb_inv_vmid_s1(bs, c->vmid);
            } else {
                smmu_iotlb_inv_all(bs);
            }
            break;
        }
        return;
    }
    for (;;) {
        uint64_t mask = dma_aligned_pow2_mask(addr, end, 64);

        if (c->opcode == VSMMU_CMD_TLBI_S2_IPA) {
            /* stage-2 entries only: combined ones need TLBI_NH_* too */
            smmu_iotlb_inv_ipa(bs, c->vmid, addr, c->tg,
                               (mask >> granule) + 1, c->ttl);
        } else {
            smmu_iotlb_inv_iova(bs, c->asid, c->vmid, addr, c->tg,
                                (mask >> granule) + 1, c->ttl);
        }
        if (mask >= end - addr) {
            break;
        }
        addr += mask + 1;
    }
}

static void vsmmu_emu_tlbi(VsmmuState *s, const VsmmuCmd *c)
{
    SMMUState *bs = &s->smmu;
    uint8_t granule = c->tg ? c->tg * 2 + 10 : 12;

    qemu_mutex_lock(&s->mutex);
    /* any walk in flight will not cache what it read before this */
    vsmmu_invalidate_utlbs_locked(s);
    /*
     * Stage-1 entries carry the VMID of their stream when stage 2 is
     * offered (c->vmid >= 0), and none otherwise (-1 matches them)
     */
    if (g_hash_table_size(bs->iotlb)) {
        switch (c->opcode) {
        case VSMMU_CMD_TLBI_NH_ALL:
            if (c->vmid >= 0) {
                smmu_iotlb_inv_vmid_s1(bs, c->vmid);
            } else {
                smmu_iotlb_inv_all(bs);
            }
            break;
        case VSMMU_CMD_TLBI_NSNH_ALL:
            smmu_iotlb_inv_all(bs);
            break;
        case VSMMU_CMD_TLBI_NH_ASID:
            smmu_iotlb_inv_asid_vmid(bs, c->asid, c->vmid);
            break;
        case VSMMU_CMD_TLBI_S12_VMALL:
            smmu_iotlb_inv_vmid(bs, c->vmid);
            break;
        case VSMMU_CMD_TLBI_NH_VA:
        case VSMMU_CMD_TLBI_NH_VAA:
        case VSMMU_CMD_TLBI_S2_IPA:
            vsmmu_emu_inv_range(bs, c, granule);
            break;
        }
    }
    qemu_mutex_unlock(&s->mutex);

    /* Nobody to notify (e.g. only assigned devices): done */
    if (QLIST_EMPTY(&bs->devices_with_notifiers)) {
        return;
    }
    switch (c->opcode) {
    case VSMMU_CMD_TLBI_NH_ALL:
        vsmmu_notify_unmap(s, VSMMU_INV_S1, -1, c->vmid, 0, UINT64_MAX);
        break;
    case VSMMU_CMD_TLBI_NSNH_ALL:
        vsmmu_notify_unmap(s, VSMMU_INV_ALL, -1, -1, 0, UINT64_MAX);
        break;
    case VSMMU_CMD_TLBI_NH_ASID:
        vsmmu_notify_unmap(s, VSMMU_INV_S1, c->asid, c->vmid, 0, UINT64_MAX);
        break;
    case VSMMU_CMD_TLBI_NH_VA:
    case VSMMU_CMD_TLBI_NH_VAA:
        vsmmu_notify_unmap(s, VSMMU_INV_S1, c->asid, c->vmid, c->addr,
                           c->num_pages << granule);
        break;
    case VSMMU_CMD_TLBI_S2_IPA:
        vsmmu_notify_unmap(s, VSMMU_INV_S2, -1, c->vmid, c->addr,
                           c->num_pages << granule);
        break;
    case VSMMU_CMD_TLBI_S12_VMALL:
        vsmmu_notify_unmap(s, VSMMU_INV_ALL, -1, c->vmid, 0, UINT64_MAX);
        break;
    }
}

unsigned vsmmu_emu_process_batch(VsmmuState *s, const VsmmuCmd *cmds,
                                 unsigned n, VsmmuCmdError *err)
{
    for (unsigned i = 0; i < n; i++) {
        const VsmmuCmd *c = &cmds[i];

        switch (c->opcode) {
        case VSMMU_CMD_TLBI_NH_ALL:
        case VSMMU_CMD_TLBI_NSNH_ALL:
        case VSMMU_CMD_TLBI_NH_ASID:
        case VSMMU_CMD_TLBI_NH_VA:
        case VSMMU_CMD_TLBI_NH_VAA:
        case VSMMU_CMD_TLBI_S2_IPA:
        case VSMMU_CMD_TLBI_S12_VMALL:
            vsmmu_emu_tlbi(s, c);
            break;
        case VSMMU_CMD_CFGI_STE:
        case VSMMU_CMD_CFGI_STE_RANGE:
            vsmmu_invalidate_configs(s, c->sid_first, c->sid_last);
            break;
        case VSMMU_CMD_CFGI_CD:
        case VSMMU_CMD_CFGI_CD_ALL:
            /* the cached stream configuration includes its CD */
            vsmmu_invalidate_configs(s, c->sid, c->sid);
            break;
        case VSMMU_CMD_ATC_INV:
            /* every function with this StreamID; its SSID and G aside */
            vsmmu_notify_atc_inv(s, c->sid, c->addr,
                                 c->num_pages * VSMMU_ATS_PAGE);
            break;
        default:
            /* PREFETCH_*: a hint */
            break;
        }
    }
    return n;
}

void vsmmu_emu_config_reset(VsmmuState *s)
{
    vsmmu_invalidate_configs(s, 0, UINT32_MAX);
    qemu_mutex_lock(&s->mutex);
    smmu_iotlb_inv_all(&s->smmu);
    qemu_mutex_unlock(&s->mutex);
    vsmmu_notify_unmap(s, VSMMU_INV_ALL, -1, -1, 0, UINT64_MAX);
}

const VsmmuBackendOps vsmmu_backend_emu = {
    .name = "emulated",
    .mode = "emulated",
    .process_batch = vsmmu_emu_process_batch,
    .config_reset = vsmmu_emu_config_reset,
};
