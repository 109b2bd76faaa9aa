/*
 * vsmmu: accelerated mode in a QEMU built without iommufd
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "vsmmu-internal.h"

bool vsmmu_accel_realize(VsmmuState *s, Error **errp)
{
    error_setg(errp, "vsmmu: accel=on needs a QEMU built with VFIO and "
               "iommufd (Linux hosts)");
    return false;
}

bool vsmmu_accel_is_host_dev(VsmmuState *s, PCIBus *bus, int devfn)
{
    return false;
}

bool vsmmu_accel_attach(VsmmuState *s, VsmmuDevice *vdev,
                        HostIOMMUDevice *hiod, Error **errp)
{
    error_setg(errp, "vsmmu: assigned devices need accel=on");
    return false;
}

void vsmmu_accel_detach(VsmmuState *s, VsmmuDevice *vdev)
{
}

void vsmmu_accel_info(VsmmuState *s, GString *buf)
{
    g_string_append(buf, "  mode: emulated\n");
}

bool vsmmu_accel_msi_gpa(VsmmuState *s, PCIBus *bus, int devfn, hwaddr *gpa)
{
    return false;
}
