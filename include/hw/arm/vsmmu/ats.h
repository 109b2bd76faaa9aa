/*
 * vsmmu: PCIe ATS offered to the guest, as firmware describes it
 *
 * An SMMU with IDR0.ATS is not enough for a guest to use ATS: Linux
 * enables it on an endpoint only when the firmware also says the root
 * complex supports it, through the IORT root complex node's ATS
 * attribute (ACPI) or the PCIe host bridge's "ats-supported" property
 * (device tree). The board calls these when it builds the tables
 * (patches/0015). See docs/design.md, "ATS".
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef HW_ARM_VSMMU_ATS_H
#define HW_ARM_VSMMU_ATS_H

#include "hw/pci/pci_bus.h"

/* IORT root complex node, ATS Attribute: bit 0, the root complex has ATS */
#define VSMMU_IORT_RC_ATS_SUPPORTED     1u

/*
 * The ATS Attribute of the IORT's root complex node. QEMU's virt board
 * has one such node for PCI segment 0, which holds pcie.0 and every
 * pxb-pcie: it says "ATS supported" when any vsmmu offers ATS (its ats
 * property on, or auto resolved to on). A vsmmu without ATS keeps
 * IDR0.ATS clear, which is enough for a guest to leave ATS off behind it.
 */
uint32_t vsmmu_ats_iort_rc_attribute(void);

/*
 * Device tree: "ats-supported" on the PCIe host bridge node @pcie_node of
 * @root_bus when the vsmmu translating for it offers ATS.
 */
void vsmmu_ats_fdt_describe(void *fdt, const char *pcie_node,
                            PCIBus *root_bus);

#endif /* HW_ARM_VSMMU_ATS_H */
