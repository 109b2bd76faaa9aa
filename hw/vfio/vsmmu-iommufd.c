/*
 * iommufd nesting helpers for the vsmmu (see include/hw/vfio/vsmmu-iommufd.h)
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include <sys/ioctl.h>
#include <linux/iommufd.h>
#include "qapi/error.h"
#include "qom/object.h"
#include "hw/pci/pci_device.h"
#include "system/host_iommu_device.h"
#include "hw/vfio/vsmmu-iommufd.h"
#include "trace.h"

bool vsmmu_iommufd_hw_info(IOMMUFDBackend *be, uint32_t dev_id,
                           uint32_t type, void *data, uint32_t len,
                           uint64_t *caps, Error **errp)
{
    struct iommu_hw_info info = {
        .size = sizeof(info),
        .flags = IOMMU_HW_INFO_FLAG_INPUT_TYPE,
        .dev_id = dev_id,
        .data_len = len,
        .data_uptr = (uintptr_t)data,
        .in_data_type = type,
    };
    int ret = ioctl(be->fd, IOMMU_GET_HW_INFO, &info);

    trace_vsmmu_iommufd_hw_info(be->fd, dev_id, type, ret ? -errno : 0,
                                info.out_data_type);
    if (ret) {
        error_setg_errno(errp, errno, "IOMMU_GET_HW_INFO (type %u) failed "
                         "for device %u", type, dev_id);
        return false;
    }
    if (info.out_data_type != type) {
        error_setg(errp, "IOMMU_GET_HW_INFO: device %u reports type %u, "
                   "not %u", dev_id, info.out_data_type, type);
        return false;
    }
    if (caps) {
        *caps = info.out_capabilities;
    }
    return true;
}

bool vsmmu_iommufd_viommu_alloc(IOMMUFDBackend *be, uint32_t dev_id,
                                uint32_t type, uint32_t parent_hwpt,
                                void *data, uint32_t len, uint32_t *out_id,
                                Error **errp)
{
    struct iommu_viommu_alloc alloc = {
        .size = sizeof(alloc),
        .type = type,
        .dev_id = dev_id,
        .hwpt_id = parent_hwpt,
        .data_len = len,
        .data_uptr = (uintptr_t)data,
    };
    int ret = ioctl(be->fd, IOMMU_VIOMMU_ALLOC, &alloc);

    trace_vsmmu_iommufd_viommu_alloc(be->fd, dev_id, type, parent_hwpt,
                                     ret ? -errno : 0, alloc.out_viommu_id);
    if (ret) {
        error_setg_errno(errp, errno, "IOMMU_VIOMMU_ALLOC (type %u) failed",
                         type);
        return false;
    }
    *out_id = alloc.out_viommu_id;
    return true;
}

bool vsmmu_iommufd_vdevice_alloc(IOMMUFDBackend *be, uint32_t viommu_id,
                                 uint32_t dev_id, uint64_t virt_id,
                                 uint32_t *out_id, Error **errp)
{
    struct iommu_vdevice_alloc alloc = {
        .size = sizeof(alloc),
        .viommu_id = viommu_id,
        .dev_id = dev_id,
        .virt_id = virt_id,
    };
    int ret = ioctl(be->fd, IOMMU_VDEVICE_ALLOC, &alloc);

    trace_vsmmu_iommufd_vdevice_alloc(be->fd, viommu_id, dev_id, virt_id,
                                      ret ? -errno : 0, alloc.out_vdevice_id);
    if (ret) {
        error_setg_errno(errp, errno, "IOMMU_VDEVICE_ALLOC of virtual ID "
                         "0x%" PRIx64 " failed", virt_id);
        return false;
    }
    *out_id = alloc.out_vdevice_id;
    return true;
}

int vsmmu_iommufd_nested_alloc(IOMMUFDBackend *be, uint32_t dev_id,
                               uint32_t viommu_id, const uint64_t ste[2],
                               uint32_t *out_id, Error **errp)
{
    struct iommu_hwpt_arm_smmuv3 data = {
        .ste = { cpu_to_le64(ste[0]), cpu_to_le64(ste[1]) },
    };
    struct iommu_hwpt_alloc alloc = {
        .size = sizeof(alloc),
        .dev_id = dev_id,
        .pt_id = viommu_id,
        .data_type = IOMMU_HWPT_DATA_ARM_SMMUV3,
        .data_len = sizeof(data),
        .data_uptr = (uintptr_t)&data,
    };
    int ret = ioctl(be->fd, IOMMU_HWPT_ALLOC, &alloc);

    ret = ret ? -errno : 0;
    trace_vsmmu_iommufd_nested_alloc(be->fd, dev_id, viommu_id, ste[0],
                                     ste[1], ret, alloc.out_hwpt_id);
    if (ret) {
        error_setg_errno(errp, -ret, "IOMMU_HWPT_ALLOC of a nested domain "
                         "(STE 0x%016" PRIx64 " 0x%016" PRIx64 ") failed",
                         ste[0], ste[1]);
        return ret;
    }
    *out_id = alloc.out_hwpt_id;
    return 0;
}

int vsmmu_iommufd_invalidate(IOMMUFDBackend *be, uint32_t viommu_id,
                             const uint64_t (*cmds)[2], uint32_t *num)
{
    struct iommu_hwpt_invalidate inv = {
        .size = sizeof(inv),
        .hwpt_id = viommu_id,
        .data_uptr = (uintptr_t)cmds,
        .data_type = IOMMU_VIOMMU_INVALIDATE_DATA_ARM_SMMUV3,
        .entry_len = sizeof(struct iommu_viommu_arm_smmuv3_invalidate),
        .entry_num = *num,
    };
    int ret = ioctl(be->fd, IOMMU_HWPT_INVALIDATE, &inv);

    ret = ret ? -errno : 0;
    trace_vsmmu_iommufd_invalidate(be->fd, viommu_id, *num, inv.entry_num,
                                   ret);
    *num = inv.entry_num;
    return ret;
}

bool vsmmu_iommufd_veventq_alloc(IOMMUFDBackend *be, uint32_t viommu_id,
                                 uint32_t type, uint32_t depth,
                                 uint32_t *out_id, int *out_fd, Error **errp)
{
    struct iommu_veventq_alloc alloc = {
        .size = sizeof(alloc),
        .viommu_id = viommu_id,
        .type = type,
        .veventq_depth = depth,
    };
    int ret = ioctl(be->fd, IOMMU_VEVENTQ_ALLOC, &alloc);

    trace_vsmmu_iommufd_veventq_alloc(be->fd, viommu_id, type, depth,
                                      ret ? -errno : 0, alloc.out_veventq_id,
                                      alloc.out_veventq_fd);
    if (ret) {
        error_setg_errno(errp, errno, "IOMMU_VEVENTQ_ALLOC (type %u) failed",
                         type);
        return false;
    }
    *out_id = alloc.out_veventq_id;
    *out_fd = alloc.out_veventq_fd;
    return true;
}

bool vsmmu_iommufd_hw_queue_alloc(IOMMUFDBackend *be, uint32_t viommu_id,
                                  uint32_t type, uint32_t index,
                                  uint64_t iova, uint64_t len,
                                  uint32_t *out_id, Error **errp)
{
    struct iommu_hw_queue_alloc alloc = {
        .size = sizeof(alloc),
        .viommu_id = viommu_id,
        .type = type,
        .index = index,
        .nesting_parent_iova = iova,
        .length = len,
    };
    int ret = ioctl(be->fd, IOMMU_HW_QUEUE_ALLOC, &alloc);

    trace_vsmmu_iommufd_hw_queue_alloc(be->fd, viommu_id, type, index, iova,
                                       len, ret ? -errno : 0,
                                       alloc.out_hw_queue_id);
    if (ret) {
        error_setg_errno(errp, errno, "IOMMU_HW_QUEUE_ALLOC of queue %u "
                         "(IPA 0x%" PRIx64 ", %" PRIu64 " bytes) failed",
                         index, iova, len);
        return false;
    }
    *out_id = alloc.out_hw_queue_id;
    return true;
}

void *vsmmu_iommufd_mmap(IOMMUFDBackend *be, uint64_t offset, uint64_t len,
                         Error **errp)
{
    void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, be->fd,
                   offset);

    trace_vsmmu_iommufd_mmap(be->fd, offset, len,
                             p == MAP_FAILED ? -errno : 0);
    if (p == MAP_FAILED) {
        error_setg_errno(errp, errno, "mmap of iommufd offset 0x%" PRIx64
                         " (%" PRIu64 " bytes) failed", offset, len);
        return NULL;
    }
    return p;
}

void vsmmu_iommufd_munmap(void *addr, uint64_t len)
{
    int ret = munmap(addr, len);

    trace_vsmmu_iommufd_munmap(addr, len, ret ? -errno : 0);
}

int vsmmu_iommufd_destroy(IOMMUFDBackend *be, uint32_t id)
{
    struct iommu_destroy des = {
        .size = sizeof(des),
        .id = id,
    };
    int ret = ioctl(be->fd, IOMMU_DESTROY, &des);

    ret = ret ? -errno : 0;
    trace_vsmmu_iommufd_destroy(be->fd, id, ret);
    return ret;
}

bool vsmmu_iommufd_attach(HostIOMMUDevice *hiod, uint32_t hwpt_id,
                          Error **errp)
{
    HostIOMMUDeviceIOMMUFD *idev = HOST_IOMMU_DEVICE_IOMMUFD(hiod);
    bool ok = host_iommu_device_iommufd_attach_hwpt(idev, hwpt_id, errp);

    trace_vsmmu_iommufd_attach(hiod->name, idev->devid, hwpt_id, ok);
    return ok;
}

bool vsmmu_iommufd_device(HostIOMMUDevice *hiod, IOMMUFDBackend **be,
                          uint32_t *dev_id, uint32_t *hwpt_id)
{
    HostIOMMUDeviceIOMMUFD *idev = (HostIOMMUDeviceIOMMUFD *)
        object_dynamic_cast(OBJECT(hiod), TYPE_HOST_IOMMU_DEVICE_IOMMUFD);

    if (!idev) {
        return false;
    }
    *be = idev->iommufd;
    *dev_id = idev->devid;
    *hwpt_id = idev->hwpt_id;
    return true;
}

bool vsmmu_vfio_is_assigned(PCIDevice *pdev)
{
    return object_dynamic_cast(OBJECT(pdev), "vfio-pci") != NULL;
}
