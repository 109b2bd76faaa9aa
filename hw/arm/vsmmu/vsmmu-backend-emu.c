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
 * the whole ASID (or everything, for TLBI_NH_VAA). Each piece walks the
 * whole IOTLB, so this bounds a command's cost (security.md, rule 5).
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
        trace_vsmmu_tlbi_widened(c->asid, addr, end);
        if (c->opcode == VSMMU_CMD_TLBI_NH_VA) {
            smmu_iotlb_inv_asid_vmid(bs, c->asid, -1);
        } else {
            smmu_iotlb_inv_all(bs);
        }
        return;
    }
    for (;;) {
        uint64_t mask = dma_aligned_pow2_mask(addr, end, 64);

        smmu_iotlb_inv_iova(bs, c->asid, -1, addr, c->tg,
                            (mask >> granule) + 1, c->ttl);
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
    if (g_hash_table_size(bs->iotlb)) {
        switch (c->opcode) {
        case VSMMU_CMD_TLBI_NH_ALL:
        case VSMMU_CMD_TLBI_NSNH_ALL:
            smmu_iotlb_inv_all(bs);
            break;
        case VSMMU_CMD_TLBI_NH_ASID:
            smmu_iotlb_inv_asid_vmid(bs, c->asid, -1);
            break;
        case VSMMU_CMD_TLBI_NH_VA:
        case VSMMU_CMD_TLBI_NH_VAA:
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
    case VSMMU_CMD_TLBI_NSNH_ALL:
        vsmmu_notify_unmap(s, -1, 0, UINT64_MAX);
        break;
    case VSMMU_CMD_TLBI_NH_ASID:
        vsmmu_notify_unmap(s, c->asid, 0, UINT64_MAX);
        break;
    case VSMMU_CMD_TLBI_NH_VA:
    case VSMMU_CMD_TLBI_NH_VAA:
        vsmmu_notify_unmap(s, c->asid, c->addr, c->num_pages << granule);
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
    vsmmu_notify_unmap(s, -1, 0, UINT64_MAX);
}

const VsmmuBackendOps vsmmu_backend_emu = {
    .name = "emulated",
    .mode = "emulated",
    .process_batch = vsmmu_emu_process_batch,
    .config_reset = vsmmu_emu_config_reset,
};
