/*
 * vsmmu: the register pages (IHI 0070 §6)
 *
 * ID registers are computed once from the properties; control registers are
 * decoded here and their side effects handed to the owning file.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/log.h"
#include "vsmmu-internal.h"
#include "trace.h"

/* IDR5.OAS encoding of an output address size in bits */
static uint32_t vsmmu_oas_encoding(uint8_t bits)
{
    switch (bits) {
    case 32: return VSMMU_OAS_32;
    case 36: return VSMMU_OAS_36;
    case 40: return VSMMU_OAS_40;
    case 42: return VSMMU_OAS_42;
    case 44: return VSMMU_OAS_44;
    case 48: return VSMMU_OAS_48;
    default: return VSMMU_OAS_52;
    }
}

void vsmmu_regs_init_idr(VsmmuState *s)
{
    uint32_t *idr = s->idr;

    memset(s->idr, 0, sizeof(s->idr));
    idr[0] = FIELD_DP32(idr[0], IDR0, S1P, 1);
    idr[0] = FIELD_DP32(idr[0], IDR0, TTF, 2);          /* AArch64 tables */
    idr[0] = FIELD_DP32(idr[0], IDR0, COHACC, 1);
    idr[0] = FIELD_DP32(idr[0], IDR0, ATS, s->ats);
    idr[0] = FIELD_DP32(idr[0], IDR0, ASID16, 1);
    idr[0] = FIELD_DP32(idr[0], IDR0, MSI, 1);
    idr[0] = FIELD_DP32(idr[0], IDR0, CD2L, 1);
    idr[0] = FIELD_DP32(idr[0], IDR0, TTENDIAN, 2);     /* little endian */
    idr[0] = FIELD_DP32(idr[0], IDR0, STALL_MODEL, 1);  /* no stalls */
    idr[0] = FIELD_DP32(idr[0], IDR0, TERM_MODEL, 1);   /* always abort */
    idr[0] = FIELD_DP32(idr[0], IDR0, ST_LEVEL, 1);     /* 2-level tables */

    idr[1] = FIELD_DP32(idr[1], IDR1, SIDSIZE, s->sidsize);
    idr[1] = FIELD_DP32(idr[1], IDR1, SSIDSIZE, s->ssidsize);
    idr[1] = FIELD_DP32(idr[1], IDR1, EVENTQS, VSMMU_EVENTQS_MAX);
    idr[1] = FIELD_DP32(idr[1], IDR1, CMDQS, VSMMU_CMDQS_MAX);

    idr[3] = FIELD_DP32(idr[3], IDR3, HAD, 1);
    idr[3] = FIELD_DP32(idr[3], IDR3, RIL, s->ril);
    idr[3] = FIELD_DP32(idr[3], IDR3, BBML, 2);

    idr[5] = FIELD_DP32(idr[5], IDR5, OAS, vsmmu_oas_encoding(s->oas));
    idr[5] = FIELD_DP32(idr[5], IDR5, GRAN4K, 1);
    idr[5] = FIELD_DP32(idr[5], IDR5, GRAN16K, 1);
    idr[5] = FIELD_DP32(idr[5], IDR5, GRAN64K, 1);

    s->iidr = 0;
    s->aidr = FIELD_DP32(0, AIDR, MINOR, 1);            /* SMMUv3.1 */
}

void vsmmu_regs_reset(VsmmuState *s)
{
    s->cr0 = 0;
    s->gbpa = VSMMU_GBPA_RESET;
}

/*
 * CoreSight identification registers (PIDR4..7, PIDR0..3, CIDR0..3):
 * an Arm-designed SMMU, as Linux does not look at them beyond presence.
 */
static uint32_t vsmmu_idreg(hwaddr offset)
{
    static const uint8_t ids[] = {
        0x04, 0, 0, 0, 0x84, 0xb4, 0xf0, 0x10, 0x0d, 0xf0, 0x05, 0xb1,
    };
    unsigned idx = (offset - VSMMU_IDREGS_BASE) / 4;

    return idx < ARRAY_SIZE(ids) ? ids[idx] : 0;
}

static MemTxResult vsmmu_read(void *opaque, hwaddr offset, uint64_t *data,
                              unsigned size, MemTxAttrs attrs)
{
    VsmmuState *s = opaque;

    switch (offset) {
    case A_IDR0 ... A_IDR5:
        *data = s->idr[(offset - A_IDR0) / 4];
        break;
    case A_IIDR:
        *data = s->iidr;
        break;
    case A_AIDR:
        *data = s->aidr;
        break;
    case A_CR0:
    case A_CR0ACK:
        *data = s->cr0;
        break;
    case A_GBPA:
        *data = s->gbpa;
        break;
    case VSMMU_IDREGS_BASE ... VSMMU_IDREGS_END - 1:
        *data = vsmmu_idreg(offset);
        break;
    default:
        qemu_log_mask(LOG_UNIMP, "%s: unimplemented register 0x%" HWADDR_PRIx
                      " (RAZ)\n", __func__, offset);
        *data = 0;
        break;
    }
    trace_vsmmu_reg_read(offset, size, *data);
    return MEMTX_OK;
}

static MemTxResult vsmmu_write(void *opaque, hwaddr offset, uint64_t data,
                               unsigned size, MemTxAttrs attrs)
{
    VsmmuState *s = opaque;

    trace_vsmmu_reg_write(offset, size, data);
    switch (offset) {
    case A_IDR0 ... A_AIDR:
    case A_CR0ACK:
        qemu_log_mask(LOG_GUEST_ERROR, "%s: write to read-only register 0x%"
                      HWADDR_PRIx "\n", __func__, offset);
        break;
    case A_CR0:
        s->cr0 = data & (R_CR0_SMMUEN_MASK | R_CR0_EVENTQEN_MASK |
                         R_CR0_CMDQEN_MASK);
        break;
    case A_GBPA:
        /* New attributes take effect only with UPDATE set (§6.3.14) */
        if (data & R_GBPA_UPDATE_MASK) {
            s->gbpa = data & ~R_GBPA_UPDATE_MASK;
        }
        break;
    default:
        qemu_log_mask(LOG_UNIMP, "%s: unimplemented register 0x%" HWADDR_PRIx
                      " (WI)\n", __func__, offset);
        break;
    }
    return MEMTX_OK;
}

const MemoryRegionOps vsmmu_mmio_ops = {
    .read_with_attrs = vsmmu_read,
    .write_with_attrs = vsmmu_write,
    .endianness = DEVICE_LITTLE_ENDIAN,
    .valid = {
        .min_access_size = 4,
        .max_access_size = 8,
    },
    .impl = {
        .min_access_size = 4,
        .max_access_size = 8,
    },
};
