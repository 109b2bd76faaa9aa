/*
 * vsmmu: the Tegra241 CMDQV described to the guest (device tree, ACPI)
 *
 * What Linux's tegra241-cmdqv driver probes:
 *   - DT: the SMMU node's compatible is "nvidia,tegra264-smmu",
 *     "arm,smmu-v3" and its "nvidia,cmdqv" names a populated
 *     "nvidia,tegra264-cmdqv" node with reg and interrupts.
 *   - ACPI: a DSDT device _HID "NVDA200C" whose _UID is the identifier of
 *     the SMMU's IORT node (model generic), _CRS its MMIO window and its
 *     interrupt.
 * The CMDQV window is the vsmmu's second MMIO region and its interrupt the
 * vsmmu's fifth, both placed on the platform bus with the SMMU's own.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/error-report.h"
#include "hw/platform-bus.h"
#include "hw/arm/fdt.h"
#include "hw/acpi/aml-build.h"
#include "system/device_tree.h"
#include "vsmmu-internal.h"
#include "vsmmu-cmdqv.h"
#include <libfdt.h>

/*
 * The window: 0x50000 bytes for the guest's one VINTF, 128 KiB more per
 * VINTF on the host side (cmdqv-vintfs)
 */
static uint64_t cmdqv_window_size(Object *obj)
{
    return memory_region_size(&VSMMU(obj)->cmdqv.mmio);
}

/* ---- device tree ------------------------------------------------------ */

typedef struct CmdqvFdt {
    void *fdt;
    PlatformBusDevice *pbus;
    hwaddr pbus_base;
    int pbus_irq;
} CmdqvFdt;

static int cmdqv_fdt_one(Object *obj, void *opaque)
{
    static const char smmu_compat[] = "nvidia,tegra264-smmu\0arm,smmu-v3";
    static const char compat[] = "nvidia,tegra264-cmdqv";
    CmdqvFdt *d = opaque;
    SysBusDevice *sbd;
    g_autofree char *smmu_node = NULL;
    g_autofree char *node = NULL;
    hwaddr smmu_base, base;
    uint32_t phandle;
    int irq;

    if (!object_dynamic_cast(obj, TYPE_VSMMU) || !vsmmu_cmdqv_present(obj)) {
        return 0;
    }
    sbd = SYS_BUS_DEVICE(obj);
    smmu_base = platform_bus_get_mmio_addr(d->pbus, sbd, 0);
    base = platform_bus_get_mmio_addr(d->pbus, sbd, VSMMU_CMDQV_MMIO_INDEX);
    irq = platform_bus_get_irqn(d->pbus, sbd, VSMMU_CMDQV_IRQ_INDEX);
    if (smmu_base == (hwaddr)-1 || base == (hwaddr)-1 || irq < 0) {
        return 0;
    }
    /* The board describes only a vsmmu on pcie.0 in the device tree */
    smmu_node = g_strdup_printf("/smmuv3@%" PRIx64, d->pbus_base + smmu_base);
    if (fdt_path_offset(d->fdt, smmu_node) < 0) {
        return 0;
    }
    base += d->pbus_base;
    irq += d->pbus_irq;
    node = g_strdup_printf("/cmdqv@%" PRIx64, base);
    phandle = qemu_fdt_alloc_phandle(d->fdt);
    qemu_fdt_add_subnode(d->fdt, node);
    qemu_fdt_setprop(d->fdt, node, "compatible", compat, sizeof(compat));
    qemu_fdt_setprop_sized_cells(d->fdt, node, "reg", 2, base, 2,
                                 cmdqv_window_size(obj));
    qemu_fdt_setprop_cells(d->fdt, node, "interrupts", GIC_FDT_IRQ_TYPE_SPI,
                           irq, GIC_FDT_IRQ_FLAGS_EDGE_LO_HI);
    qemu_fdt_setprop_cell(d->fdt, node, "phandle", phandle);
    qemu_fdt_setprop(d->fdt, smmu_node, "compatible", smmu_compat,
                     sizeof(smmu_compat));
    qemu_fdt_setprop_cell(d->fdt, smmu_node, "nvidia,cmdqv", phandle);
    return 0;
}

void vsmmu_cmdqv_fdt_describe(void *fdt, PlatformBusDevice *pbus,
                              hwaddr pbus_base, int pbus_irq)
{
    CmdqvFdt d = {
        .fdt = fdt, .pbus = pbus, .pbus_base = pbus_base,
        .pbus_irq = pbus_irq,
    };

    object_child_foreach_recursive(object_get_root(), cmdqv_fdt_one, &d);
}

/* ---- ACPI --------------------------------------------------------------- */

void vsmmu_cmdqv_acpi_dsdt(Aml *scope, Object *obj, PlatformBusDevice *pbus,
                           hwaddr pbus_base, int gsi_base, uint32_t uid)
{
    SysBusDevice *sbd;
    hwaddr base;
    uint32_t irq;
    int n;
    Aml *dev, *crs;

    if (!object_dynamic_cast(obj, TYPE_VSMMU) || !vsmmu_cmdqv_present(obj)) {
        return;
    }
    sbd = SYS_BUS_DEVICE(obj);
    base = platform_bus_get_mmio_addr(pbus, sbd, VSMMU_CMDQV_MMIO_INDEX);
    n = platform_bus_get_irqn(pbus, sbd, VSMMU_CMDQV_IRQ_INDEX);
    if (base == (hwaddr)-1 || n < 0) {
        return;
    }
    base += pbus_base;
    irq = gsi_base + n;

    dev = aml_device("CQ%02X", uid & 0xff);
    aml_append(dev, aml_name_decl("_HID", aml_string("NVDA200C")));
    aml_append(dev, aml_name_decl("_UID", aml_int(uid)));
    aml_append(dev, aml_name_decl("_CCA", aml_int(1)));
    crs = aml_resource_template();
    aml_append(crs, aml_memory32_fixed(base, cmdqv_window_size(obj),
                                       AML_READ_WRITE));
    aml_append(crs, aml_interrupt(AML_CONSUMER, AML_EDGE, AML_ACTIVE_HIGH,
                                  AML_EXCLUSIVE, &irq, 1));
    aml_append(dev, aml_name_decl("_CRS", crs));
    aml_append(scope, dev);
}
