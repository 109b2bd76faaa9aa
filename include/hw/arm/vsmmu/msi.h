/*
 * vsmmu: the host's MSI doorbell window, described to the guest
 *
 * Under nesting, Linux (up to at least 7.2) maps the ITS doorbell of a
 * passthrough device into the host stage 2 at a fixed IPA window and
 * programs the device's MSI address inside it. The device's MSI write then
 * goes through the guest's stage 1 first, so the guest must identity-map
 * that window for every stream behind the vsmmu. The board describes the
 * window with the functions below: IORT RMR nodes and the host bridge's
 * "preserve boot configuration" _DSM for ACPI guests, reserved-memory with
 * iommu-addresses for device-tree guests. See docs/msi.md.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef HW_ARM_VSMMU_MSI_H
#define HW_ARM_VSMMU_MSI_H

#include "hw/arm/vsmmu/vsmmu.h"

/* Linux's MSI_IOVA_BASE / MSI_IOVA_LENGTH (arm-smmu-v3): no uAPI moves it */
#define VSMMU_MSI_WINDOW_BASE   0x8000000ULL
#define VSMMU_MSI_WINDOW_SIZE   0x100000ULL

/* The resolved msi-window property: on, off, or auto (= accel) */
bool vsmmu_msi_window(VsmmuState *s);

/* Realize-time checks of msi-window against the other properties */
bool vsmmu_msi_realize(VsmmuState *s, Error **errp);

/* ---- ACPI (hw/arm/virt-acpi-build.c) ------------------------------------ */

/*
 * The IORT revision to declare when RMR nodes are present: 5 is ARM DEN
 * 0049E.d, the first revision whose RMR nodes Linux reads.
 */
#define VSMMU_MSI_IORT_REVISION 5

/* Number of RMR nodes vsmmu_msi_iort_build_rmr() will add to the IORT */
int vsmmu_msi_iort_rmr_count(void);

/*
 * Append the RMR node of @smmu (if it is a vsmmu describing its window) to
 * the IORT being built in @table_data. @smmu_node_offset is the offset of
 * its SMMUv3 node from the start of the IORT, @identifier the node's
 * unique IORT identifier. Returns the number of nodes appended (0 or 1).
 */
int vsmmu_msi_iort_build_rmr(GArray *table_data, Object *smmu,
                             uint32_t smmu_node_offset, uint32_t identifier);

/*
 * Whether the host bridge of @root_bus needs the PCI Firmware _DSM
 * function 5 ("preserve boot configuration" = 0): Linux applies RMRs to
 * PCI devices only under such a bridge.
 */
bool vsmmu_msi_acpi_preserve_config(PCIBus *root_bus);

/* ---- device tree (hw/arm/virt.c, before the DTB is loaded) ------------- */

/*
 * Describe the window of the vsmmu translating for @root_bus (if it asks
 * for one) in @fdt: a /reserved-memory node with iommu-addresses naming a
 * node created for every PCI function present now under @pcie_node.
 * Functions plugged later have no node: if the guest boots with this
 * device tree (@dt_boot; not when firmware hands it ACPI instead), a
 * warning says so when they are.
 */
void vsmmu_msi_fdt_describe(void *fdt, const char *pcie_node,
                            PCIBus *root_bus, bool dt_boot);

#endif /* HW_ARM_VSMMU_MSI_H */
