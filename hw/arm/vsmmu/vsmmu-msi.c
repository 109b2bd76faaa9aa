/*
 * vsmmu: the host's MSI doorbell window, described to the guest
 *
 * The host kernel puts the ITS doorbell of a passthrough device at IOVA
 * VSMMU_MSI_WINDOW_BASE + offset in the nesting parent (stage 2); the
 * device's MSI write is translated by the guest's stage 1 first, so the
 * guest must map [BASE, BASE + SIZE) to itself for every stream behind an
 * accelerated vsmmu. Linux does that for reserved regions of type "direct",
 * which firmware declares with:
 *   - ACPI: an IORT Reserved Memory Range (RMR) node whose ID mappings name
 *     the vsmmu's StreamIDs; for PCI devices Linux also needs the host
 *     bridge to preserve the firmware's configuration (_DSM function 5);
 *   - device tree: a /reserved-memory node with "reg" = the window and
 *     "iommu-addresses" = the same window for each endpoint, which refers
 *     to it by "memory-region". Endpoints need nodes of their own, so only
 *     the PCI functions present when the tree is built are covered.
 * This file builds both; the board calls it (patches/0006-0008).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "qemu/error-report.h"
#include "hw/acpi/aml-build.h"
#include "hw/pci/pci_bridge.h"
#include "hw/pci/pci_bus.h"
#include "hw/qdev-core.h"
#include "system/device_tree.h"
#include "hw/arm/vsmmu/msi.h"
#include "trace.h"

#include <libfdt.h>

bool vsmmu_msi_window(VsmmuState *s)
{
    switch (s->msi_window) {
    case ON_OFF_AUTO_ON:
        return true;
    case ON_OFF_AUTO_OFF:
        return false;
    default:
        return s->accel.enabled;
    }
}

bool vsmmu_msi_realize(VsmmuState *s, Error **errp)
{
    if (s->accel.enabled && s->msi_window == ON_OFF_AUTO_OFF) {
        warn_report("vsmmu: msi-window=off with accel=on: MSIs of "
                    "passthrough devices reach the ITS only if the guest "
                    "identity-maps IOVA [0x%llx, 0x%llx) by itself",
                    VSMMU_MSI_WINDOW_BASE,
                    VSMMU_MSI_WINDOW_BASE + VSMMU_MSI_WINDOW_SIZE);
    }
    trace_vsmmu_msi_window(s->smmu.primary_bus->qbus.name,
                           vsmmu_msi_window(s));
    return true;
}

/* The vsmmu translating for @root_bus if it describes its window, or NULL */
typedef struct VsmmuMsiFind {
    PCIBus *bus;                 /* match this primary bus, or any if NULL */
    VsmmuState *found;
    int count;                   /* vsmmus describing their window */
} VsmmuMsiFind;

static int vsmmu_msi_find_one(Object *obj, void *opaque)
{
    VsmmuMsiFind *f = opaque;
    VsmmuState *s = (VsmmuState *)object_dynamic_cast(obj, TYPE_VSMMU);

    if (!s || !DEVICE(s)->realized || !vsmmu_msi_window(s)) {
        return 0;
    }
    if (!f->bus || s->smmu.primary_bus == f->bus) {
        f->found = s;
        f->count++;
    }
    return 0;
}

static VsmmuMsiFind vsmmu_msi_find(PCIBus *bus)
{
    VsmmuMsiFind f = { .bus = bus };

    object_child_foreach_recursive(object_get_root(), vsmmu_msi_find_one, &f);
    return f;
}

/* ---- ACPI ---------------------------------------------------------------- */

/*
 * IORT Reserved Memory Range node, ARM DEN 0049E.d (node revision 3):
 * the common node header, flags, then one ID mapping and one memory range
 * descriptor.
 */
#define IORT_NODE_RMR               6
#define IORT_RMR_REVISION           3
#define IORT_RMR_HEADER_SIZE        28
#define IORT_ID_MAPPING_SIZE        20
#define IORT_RMR_DESC_SIZE          20
/*
 * RMR flags: bit 0 "remapping permitted" clear (Linux: IOMMU_RESV_DIRECT,
 * never relaxed), bit 1 "access privileged" clear, bits [9:2] memory
 * access attributes = 0x00, Device-nGnRnE (Linux: IOMMU_MMIO): the window
 * holds a doorbell register, not memory.
 */
#define IORT_RMR_FLAGS_DOORBELL     0

int vsmmu_msi_iort_rmr_count(void)
{
    return vsmmu_msi_find(NULL).count;
}

int vsmmu_msi_iort_build_rmr(GArray *table_data, Object *smmu,
                             uint32_t smmu_node_offset, uint32_t identifier)
{
    VsmmuState *s = (VsmmuState *)object_dynamic_cast(smmu, TYPE_VSMMU);
    const uint32_t id_array = IORT_RMR_HEADER_SIZE;
    const uint32_t desc_array = id_array + IORT_ID_MAPPING_SIZE;
    int min_bus, max_bus;
    uint32_t sid_base, sid_count;

    if (!s || !vsmmu_msi_window(s)) {
        return 0;
    }
    /* The StreamIDs are the RIDs of the root complex (identity mapped) */
    pci_bus_range(s->smmu.primary_bus, &min_bus, &max_bus);
    sid_base = min_bus << 8;
    sid_count = (max_bus - min_bus + 1) << 8;

    build_append_int_noprefix(table_data, IORT_NODE_RMR, 1);    /* Type */
    build_append_int_noprefix(table_data,                       /* Length */
                              desc_array + IORT_RMR_DESC_SIZE, 2);
    build_append_int_noprefix(table_data, IORT_RMR_REVISION, 1);
    build_append_int_noprefix(table_data, identifier, 4);
    build_append_int_noprefix(table_data, 1, 4);   /* Number of ID mappings */
    build_append_int_noprefix(table_data, id_array, 4); /* Ref. to ID Array */
    build_append_int_noprefix(table_data, IORT_RMR_FLAGS_DOORBELL, 4);
    build_append_int_noprefix(table_data, 1, 4);   /* Number of ranges */
    build_append_int_noprefix(table_data, desc_array, 4); /* Ref. to ranges */

    /* ID mapping: the StreamIDs (output) of the vsmmu's SMMUv3 node */
    build_append_int_noprefix(table_data, sid_base, 4);      /* Input base */
    build_append_int_noprefix(table_data, sid_count - 1, 4); /* Number of IDs */
    build_append_int_noprefix(table_data, sid_base, 4);      /* Output base */
    build_append_int_noprefix(table_data, smmu_node_offset, 4);
    build_append_int_noprefix(table_data, 0, 4);             /* Flags */

    /* Memory range descriptor: the window, identity-mapped */
    build_append_int_noprefix(table_data, VSMMU_MSI_WINDOW_BASE, 8);
    build_append_int_noprefix(table_data, VSMMU_MSI_WINDOW_SIZE, 8);
    build_append_int_noprefix(table_data, 0, 4);             /* Reserved */

    trace_vsmmu_msi_iort_rmr(s->smmu.primary_bus->qbus.name, identifier,
                             sid_base, sid_count);
    return 1;
}

bool vsmmu_msi_acpi_preserve_config(PCIBus *root_bus)
{
    return vsmmu_msi_find(root_bus).found != NULL;
}

/* ---- device tree --------------------------------------------------------- */

/* What the device tree describes, for the warning on later hotplug */
static GHashTable *fdt_root_buses;     /* PCIBus * of described windows */
static GHashTable *fdt_functions;      /* "bus-name/devfn" with a node */

static char *fdt_function_key(PCIDevice *pdev)
{
    return g_strdup_printf("%s/%02x", pci_get_bus(pdev)->qbus.name,
                           pdev->devfn);
}

typedef struct VsmmuMsiFdt {
    void *fdt;
    uint32_t window_phandle;
    GArray *iommu_addresses;     /* uint32_t cells, big-endian */
} VsmmuMsiFdt;

static void fdt_append_cell(GArray *cells, uint32_t val)
{
    uint32_t be = cpu_to_be32(val);

    g_array_append_val(cells, be);
}

/*
 * A node for every function on @bus (and, through bridges, below it),
 * each with a phandle, the window as its memory-region, and an entry in
 * iommu-addresses. Linux matches a PCI function with its node by the
 * devfn in "reg" alone, so bus numbers the guest assigns later matter not.
 */
static void fdt_describe_bus(VsmmuMsiFdt *m, const char *parent, PCIBus *bus)
{
    for (int devfn = 0; devfn < ARRAY_SIZE(bus->devices); devfn++) {
        PCIDevice *pdev = bus->devices[devfn];
        g_autofree char *node = NULL;
        uint32_t phandle;

        if (!pdev) {
            continue;
        }
        node = PCI_FUNC(devfn) ?
            g_strdup_printf("%s/pci@%x,%x", parent, PCI_SLOT(devfn),
                            PCI_FUNC(devfn)) :
            g_strdup_printf("%s/pci@%x", parent, PCI_SLOT(devfn));
        qemu_fdt_add_subnode(m->fdt, node);
        /* PCI binding: config space address of the function, size 0 */
        qemu_fdt_setprop_cells(m->fdt, node, "reg",
                               (pci_dev_bus_num(pdev) << 16) | (devfn << 8),
                               0, 0, 0, 0);
        phandle = qemu_fdt_alloc_phandle(m->fdt);
        qemu_fdt_setprop_cell(m->fdt, node, "phandle", phandle);
        qemu_fdt_setprop_cell(m->fdt, node, "memory-region",
                              m->window_phandle);

        /* <&function  PCI address (32-bit memory space)  size> */
        fdt_append_cell(m->iommu_addresses, phandle);
        fdt_append_cell(m->iommu_addresses, 0x02000000);
        fdt_append_cell(m->iommu_addresses, VSMMU_MSI_WINDOW_BASE >> 32);
        fdt_append_cell(m->iommu_addresses, (uint32_t)VSMMU_MSI_WINDOW_BASE);
        fdt_append_cell(m->iommu_addresses, VSMMU_MSI_WINDOW_SIZE >> 32);
        fdt_append_cell(m->iommu_addresses, (uint32_t)VSMMU_MSI_WINDOW_SIZE);
        g_hash_table_add(fdt_functions, fdt_function_key(pdev));

        if (IS_PCI_BRIDGE(pdev)) {
            qemu_fdt_setprop_string(m->fdt, node, "device_type", "pci");
            qemu_fdt_setprop_cell(m->fdt, node, "#address-cells", 3);
            qemu_fdt_setprop_cell(m->fdt, node, "#size-cells", 2);
            qemu_fdt_setprop(m->fdt, node, "ranges", NULL, 0);
            fdt_describe_bus(m, node, pci_bridge_get_sec_bus(PCI_BRIDGE(pdev)));
        }
    }
}

static void fdt_hotplug_check(DeviceListener *listener, DeviceState *dev)
{
    PCIDevice *pdev;
    g_autofree char *key = NULL;

    if (!phase_check(PHASE_MACHINE_READY) ||
        !object_dynamic_cast(OBJECT(dev), TYPE_PCI_DEVICE)) {
        return;
    }
    pdev = PCI_DEVICE(dev);
    key = fdt_function_key(pdev);
    if (!g_hash_table_contains(fdt_root_buses, pci_device_root_bus(pdev)) ||
        g_hash_table_contains(fdt_functions, key)) {
        return;
    }
    warn_report("vsmmu: PCI function %s (%s) was plugged after the device "
                "tree was built and has no node in it: a guest booted with "
                "the device tree does not identity-map the MSI window "
                "[0x%llx, 0x%llx) for it, so with accel=on its MSIs do not "
                "reach the ITS",
                key, object_get_typename(OBJECT(dev)), VSMMU_MSI_WINDOW_BASE,
                VSMMU_MSI_WINDOW_BASE + VSMMU_MSI_WINDOW_SIZE);
    error_printf("Cold-plug the device, or boot the guest with ACPI (UEFI): "
                 "its IORT RMR covers hotplugged devices.\n");
}

static DeviceListener fdt_hotplug_listener = {
    .realize = fdt_hotplug_check,
};

void vsmmu_msi_fdt_describe(void *fdt, const char *pcie_node,
                            PCIBus *root_bus, bool dt_boot)
{
    VsmmuMsiFind f = vsmmu_msi_find(root_bus);
    g_autofree char *window = NULL;
    VsmmuMsiFdt m = { .fdt = fdt };

    if (!f.found) {
        return;
    }
    if (fdt_path_offset(fdt, "/reserved-memory") < 0) {
        qemu_fdt_add_subnode(fdt, "/reserved-memory");
        qemu_fdt_setprop_cell(fdt, "/reserved-memory", "#address-cells", 2);
        qemu_fdt_setprop_cell(fdt, "/reserved-memory", "#size-cells", 2);
        qemu_fdt_setprop(fdt, "/reserved-memory", "ranges", NULL, 0);
    }
    window = g_strdup_printf("/reserved-memory/vsmmu-msi@%llx",
                             VSMMU_MSI_WINDOW_BASE);
    if (fdt_path_offset(fdt, window) >= 0) {
        /* One window serves every root bus (a vsmmu on pcie.0 only, today) */
        warn_report("vsmmu: MSI window of %s not described: only one "
                    "root bus can have it in the device tree",
                    root_bus->qbus.name);
        return;
    }
    qemu_fdt_add_subnode(fdt, window);
    /* reg == iommu-addresses: Linux makes it a "direct" reserved region */
    qemu_fdt_setprop_sized_cells(fdt, window, "reg",
                                 2, VSMMU_MSI_WINDOW_BASE,
                                 2, VSMMU_MSI_WINDOW_SIZE);
    /* Not RAM (GIC registers in the CPU's view): never map it as memory */
    qemu_fdt_setprop(fdt, window, "no-map", NULL, 0);
    m.window_phandle = qemu_fdt_alloc_phandle(fdt);
    qemu_fdt_setprop_cell(fdt, window, "phandle", m.window_phandle);

    if (!fdt_root_buses) {
        fdt_root_buses = g_hash_table_new(NULL, NULL);
        fdt_functions = g_hash_table_new_full(g_str_hash, g_str_equal,
                                              g_free, NULL);
    }
    /* An ACPI guest has the IORT RMR, which covers hotplug */
    if (dt_boot) {
        if (!g_hash_table_size(fdt_root_buses)) {
            device_listener_register(&fdt_hotplug_listener);
        }
        g_hash_table_add(fdt_root_buses, root_bus);
    }

    m.iommu_addresses = g_array_new(false, false, sizeof(uint32_t));
    fdt_describe_bus(&m, pcie_node, root_bus);
    qemu_fdt_setprop(fdt, window, "iommu-addresses", m.iommu_addresses->data,
                     m.iommu_addresses->len * sizeof(uint32_t));
    trace_vsmmu_msi_fdt(root_bus->qbus.name, m.iommu_addresses->len / 6);
    g_array_free(m.iommu_addresses, true);
}
