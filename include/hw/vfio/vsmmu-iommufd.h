/*
 * iommufd nesting helpers for the vsmmu: vIOMMU, vDEVICE, nested HWPT,
 * vIOMMU invalidation, vEVENTQ, HW queue, vIOMMU mmap, device attach.
 *
 * One thin function per ioctl, each traced; the policy (when to create,
 * replace, destroy) lives in the vsmmu's accel backend. Linux uAPI:
 * include/uapi/linux/iommufd.h (Linux 6.17+).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef HW_VFIO_VSMMU_IOMMUFD_H
#define HW_VFIO_VSMMU_IOMMUFD_H

#include "system/iommufd.h"

typedef struct PCIDevice PCIDevice;
typedef struct HostIOMMUDevice HostIOMMUDevice;

/* IOMMU_GET_HW_INFO for @type (IOMMU_HW_INFO_TYPE_*), into @data */
bool vsmmu_iommufd_hw_info(IOMMUFDBackend *be, uint32_t dev_id,
                           uint32_t type, void *data, uint32_t len,
                           uint64_t *caps, Error **errp);

/* IOMMU_VIOMMU_ALLOC over the nesting parent @parent_hwpt */
bool vsmmu_iommufd_viommu_alloc(IOMMUFDBackend *be, uint32_t dev_id,
                                uint32_t type, uint32_t parent_hwpt,
                                void *data, uint32_t len, uint32_t *out_id,
                                Error **errp);

/* IOMMU_VDEVICE_ALLOC: @dev_id is @virt_id (the vSID) in @viommu_id */
bool vsmmu_iommufd_vdevice_alloc(IOMMUFDBackend *be, uint32_t viommu_id,
                                 uint32_t dev_id, uint64_t virt_id,
                                 uint32_t *out_id, Error **errp);

/*
 * IOMMU_HWPT_ALLOC of an Arm SMMUv3 nested domain: @ste holds the guest
 * STE's first two double words (already masked to what nesting allows).
 * Returns 0 or -errno (-EIO: the host refuses the vSTE).
 */
int vsmmu_iommufd_nested_alloc(IOMMUFDBackend *be, uint32_t dev_id,
                               uint32_t viommu_id, const uint64_t ste[2],
                               uint32_t *out_id, Error **errp);

/*
 * IOMMU_HWPT_INVALIDATE on a vIOMMU with raw Arm SMMUv3 commands.
 * *num: in, how many; out, how many the host handled (also on failure),
 * never more than were sent whatever the host says.
 * Returns 0 or -errno.
 */
int vsmmu_iommufd_invalidate(IOMMUFDBackend *be, uint32_t viommu_id,
                             const uint64_t (*cmds)[2], uint32_t *num);

/* IOMMU_VEVENTQ_ALLOC: returns the queue's fd in *out_fd */
bool vsmmu_iommufd_veventq_alloc(IOMMUFDBackend *be, uint32_t viommu_id,
                                 uint32_t type, uint32_t depth,
                                 uint32_t *out_id, int *out_fd, Error **errp);

/* IOMMU_HW_QUEUE_ALLOC: queue @index at guest IPA @iova, @len bytes */
bool vsmmu_iommufd_hw_queue_alloc(IOMMUFDBackend *be, uint32_t viommu_id,
                                  uint32_t type, uint32_t index,
                                  uint64_t iova, uint64_t len,
                                  uint32_t *out_id, Error **errp);

/*
 * Regions the iommufd exposes (a Tegra241 VINTF page) are mapped over an
 * address range reserved once: vsmmu_iommufd_reserve() takes @len bytes
 * of anonymous memory, vsmmu_iommufd_mmap_at() maps the region at
 * @offset exactly there (MAP_FIXED), vsmmu_iommufd_unmap_at() puts
 * anonymous memory back. The range is never unmapped, so pointers to it
 * (a RAM-device MemoryRegion's, through FlatViews an RCU grace period
 * old) stay valid: they read zeroes once the host mapping is gone.
 */
void *vsmmu_iommufd_reserve(uint64_t len, Error **errp);
bool vsmmu_iommufd_mmap_at(IOMMUFDBackend *be, void *addr, uint64_t offset,
                           uint64_t len, Error **errp);
bool vsmmu_iommufd_unmap_at(void *addr, uint64_t len);

/* IOMMU_DESTROY; returns 0 or -errno (e.g. -EBUSY while still in use) */
int vsmmu_iommufd_destroy(IOMMUFDBackend *be, uint32_t id);

/*
 * Reports of host refusals a guest can provoke again and again: at most
 * a few per 10 s, then a count of those suppressed. Zero-initialise.
 */
typedef struct VsmmuReportLimit {
    int64_t window_start;
    unsigned in_window;
    unsigned suppressed;
} VsmmuReportLimit;

/* error_report_err() through @l; frees @err */
void vsmmu_report_limited(VsmmuReportLimit *l, Error *err);

/*
 * Deferred IOMMU_DESTROY. Linux answers EBUSY while an object is in use,
 * e.g. a vEVENTQ whose file another thread still holds in poll() (QEMU's
 * main loop, when the destroy comes from a vCPU thread). An object handed
 * to vsmmu_iommufd_destroy_later() is destroyed at once if possible,
 * else retried from a bottom half, then from a timer, in the main loop
 * (bounded; a final failure is reported through a rate limit). With
 * @after it waits until every object handed before it is gone: give a
 * parent (vIOMMU) after its children (vEVENTQs, HW queues). @hold, if
 * not NULL, is referenced until the object is gone (e.g. the device
 * whose finalize frees the stage 2 the vIOMMU holds); @done(@opaque), if
 * not NULL, is called then (also when destroyed at once). BQL only.
 */
typedef struct VsmmuIommufdReaper VsmmuIommufdReaper;

/* @owner names the objects' owner in reports; @ioctls counts IOMMU_DESTROYs */
VsmmuIommufdReaper *vsmmu_iommufd_reaper_new(IOMMUFDBackend *be,
                                             const char *owner,
                                             uint64_t *ioctls);
void vsmmu_iommufd_destroy_later(VsmmuIommufdReaper *r, uint32_t id,
                                 const char *what, bool after, Object *hold,
                                 void (*done)(void *opaque), void *opaque);
/* Objects still waiting to be destroyed */
unsigned vsmmu_iommufd_reaper_pending(VsmmuIommufdReaper *r);

/* Attach (replace) the device's domain: VFIO_DEVICE_ATTACH_IOMMUFD_PT */
bool vsmmu_iommufd_attach(HostIOMMUDevice *hiod, uint32_t hwpt_id,
                          Error **errp);

/* The device's iommufd: backend, dev_id, the domain VFIO attached it to */
bool vsmmu_iommufd_device(HostIOMMUDevice *hiod, IOMMUFDBackend **be,
                          uint32_t *dev_id, uint32_t *hwpt_id);

/* Is @pdev an assigned (VFIO) device? */
bool vsmmu_vfio_is_assigned(PCIDevice *pdev);

#endif /* HW_VFIO_VSMMU_IOMMUFD_H */
