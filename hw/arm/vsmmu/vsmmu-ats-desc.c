/*
 * vsmmu: PCIe ATS described to the guest (IORT root complex node, DT)
 *
 * Linux turns ATS on for an endpoint behind an SMMUv3 only if all of these
 * hold: the SMMU has IDR0.ATS, the endpoint has an ATS capability, and the
 * firmware says the root complex supports ATS (ACPI: the IORT root
 * complex node's ATS attribute; DT: "ats-supported" on the host bridge).
 * The vsmmu provides the last one here, for the board to call
 * (patches/0015). The tables are built under the BQL, which owns s->ats.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "system/device_tree.h"
#include "hw/arm/vsmmu/ats.h"
#include "vsmmu-internal.h"
#include "trace.h"

typedef struct VsmmuAtsFind {
    PCIBus *bus;                 /* this primary bus only, or any if NULL */
    bool ats;                    /* a matching vsmmu offers ATS */
} VsmmuAtsFind;

static int vsmmu_ats_find_one(Object *obj, void *opaque)
{
    VsmmuAtsFind *f = opaque;
    VsmmuState *s = (VsmmuState *)object_dynamic_cast(obj, TYPE_VSMMU);

    if (s && DEVICE(s)->realized && s->ats &&
        (!f->bus || s->smmu.primary_bus == f->bus)) {
        f->ats = true;
    }
    return 0;
}

static bool vsmmu_ats_offered(PCIBus *bus)
{
    VsmmuAtsFind f = { .bus = bus };

    object_child_foreach_recursive(object_get_root(), vsmmu_ats_find_one, &f);
    return f.ats;
}

uint32_t vsmmu_ats_iort_rc_attribute(void)
{
    uint32_t attr = vsmmu_ats_offered(NULL) ? VSMMU_IORT_RC_ATS_SUPPORTED : 0;

    trace_vsmmu_ats_iort_rc(attr);
    return attr;
}

void vsmmu_ats_fdt_describe(void *fdt, const char *pcie_node,
                            PCIBus *root_bus)
{
    bool ats = vsmmu_ats_offered(root_bus);

    trace_vsmmu_ats_fdt(root_bus->qbus.name, ats);
    if (ats) {
        qemu_fdt_setprop(fdt, pcie_node, "ats-supported", NULL, 0);
    }
}
