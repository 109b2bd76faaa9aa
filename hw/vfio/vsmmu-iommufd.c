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
#include "qemu/error-report.h"
#include "qemu/main-loop.h"
#include "qemu/queue.h"
#include "qemu/timer.h"
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
    /*
     * A host value: never more than were sent, and on a failure the entry
     * that failed is one of them
     */
    if (inv.entry_num > *num || (ret && inv.entry_num == *num)) {
        inv.entry_num = *num ? *num - !!ret : 0;
    }
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

void *vsmmu_iommufd_reserve(uint64_t len, Error **errp)
{
    void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

    if (p == MAP_FAILED) {
        error_setg_errno(errp, errno, "reserving %" PRIu64 " bytes of "
                         "address space failed", len);
        return NULL;
    }
    return p;
}

bool vsmmu_iommufd_mmap_at(IOMMUFDBackend *be, void *addr, uint64_t offset,
                           uint64_t len, Error **errp)
{
    void *p = mmap(addr, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED,
                   be->fd, offset);
    int err = p == MAP_FAILED ? errno : 0;

    trace_vsmmu_iommufd_mmap(be->fd, addr, offset, len, -err);
    if (p == MAP_FAILED) {
        /* a failed MAP_FIXED may have unmapped the range: take it back */
        vsmmu_iommufd_unmap_at(addr, len);
        error_setg_errno(errp, err, "mmap of iommufd offset 0x%" PRIx64
                         " (%" PRIu64 " bytes) failed", offset, len);
        return false;
    }
    return true;
}

bool vsmmu_iommufd_unmap_at(void *addr, uint64_t len)
{
    /*
     * MAP_FIXED replaces the iommufd mapping atomically: the kernel drops
     * it (and its reference on the vIOMMU), and the address range is
     * never free for another mmap() to take, so a late access through a
     * stale pointer lands in zeroes, not in someone else's memory. Should
     * even this fail (no memory for the VMA), the range is left as it is.
     */
    void *p = mmap(addr, len, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED,
                   -1, 0);

    trace_vsmmu_iommufd_unmap(addr, len, p == MAP_FAILED ? -errno : 0);
    return p != MAP_FAILED;
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

/* ---- deferred IOMMU_DESTROY ---------------------------------------------- */

/*
 * Tried at once, then from a bottom half (the main loop has then left
 * poll() and dropped its reference to a vEVENTQ's file), then from a
 * timer with a doubling delay: 1 ms, 2 ms, ... 128 ms; the 10th try comes
 * about 0.25 s after the first.
 */
#define VSMMU_REAP_MAX_TRIES    10
#define VSMMU_REAP_DELAY_MS     1

typedef struct VsmmuIommufdReap {
    uint32_t id;
    const char *what;            /* static: "vEVENTQ", "vIOMMU", ... */
    bool after;                  /* only once every entry before is gone */
    unsigned tries;
    Object *hold;                /* released once the object is gone */
    void (*done)(void *opaque);  /* called then */
    void *opaque;
    QTAILQ_ENTRY(VsmmuIommufdReap) link;
} VsmmuIommufdReap;

struct VsmmuIommufdReaper {
    IOMMUFDBackend *be;
    char *owner;
    uint64_t *ioctls;
    VsmmuReportLimit limit;
    QTAILQ_HEAD(, VsmmuIommufdReap) queue;
    unsigned pending;
    unsigned rounds;             /* retry rounds since the queue was empty */
    QEMUBH *bh;
    QEMUTimer *timer;
};

/* Try @e once; true when it is settled (destroyed, or given up) */
static bool vsmmu_reap_try(VsmmuIommufdReaper *r, VsmmuIommufdReap *e)
{
    Error *err = NULL;
    int ret;

    if (r->ioctls) {
        (*r->ioctls)++;
    }
    ret = vsmmu_iommufd_destroy(r->be, e->id);
    e->tries++;
    trace_vsmmu_iommufd_reap(e->what, e->id, e->tries, ret);
    if (ret == -EBUSY && e->tries < VSMMU_REAP_MAX_TRIES) {
        return false;
    }
    if (ret) {
        error_setg(&err, "%s: destroying %s %u failed%s: %s", r->owner,
                   e->what, e->id, ret == -EBUSY ? " after retries" : "",
                   strerror(-ret));
        vsmmu_report_limited(&r->limit, err);
    }
    QTAILQ_REMOVE(&r->queue, e, link);
    r->pending--;
    if (e->hold) {
        object_unref(e->hold);
    }
    if (e->done) {
        e->done(e->opaque);
    }
    g_free(e);
    return true;
}

/* One round over the queue; true when it is empty */
static bool vsmmu_reap_run(VsmmuIommufdReaper *r)
{
    VsmmuIommufdReap *e, *next;
    bool blocked = false;

    QTAILQ_FOREACH_SAFE(e, &r->queue, link, next) {
        if (e->after && blocked) {
            continue;
        }
        if (!vsmmu_reap_try(r, e)) {
            blocked = true;
        }
    }
    if (QTAILQ_EMPTY(&r->queue)) {
        r->rounds = 0;
        return true;
    }
    return false;
}

static void vsmmu_reap_retry(void *opaque)
{
    VsmmuIommufdReaper *r = opaque;

    if (!vsmmu_reap_run(r)) {
        timer_mod(r->timer, qemu_clock_get_ms(QEMU_CLOCK_REALTIME) +
                  (VSMMU_REAP_DELAY_MS << MIN(r->rounds, 8)));
        r->rounds++;
    }
}

VsmmuIommufdReaper *vsmmu_iommufd_reaper_new(IOMMUFDBackend *be,
                                             const char *owner,
                                             uint64_t *ioctls)
{
    VsmmuIommufdReaper *r = g_new0(VsmmuIommufdReaper, 1);

    r->be = be;
    r->owner = g_strdup(owner);
    r->ioctls = ioctls;
    QTAILQ_INIT(&r->queue);
    r->bh = qemu_bh_new(vsmmu_reap_retry, r);
    r->timer = timer_new_ms(QEMU_CLOCK_REALTIME, vsmmu_reap_retry, r);
    return r;
}

void vsmmu_iommufd_destroy_later(VsmmuIommufdReaper *r, uint32_t id,
                                 const char *what, bool after, Object *hold,
                                 void (*done)(void *opaque), void *opaque)
{
    VsmmuIommufdReap *e;

    if (!id) {
        return;
    }
    e = g_new0(VsmmuIommufdReap, 1);
    e->id = id;
    e->what = what;
    e->after = after;
    if (hold) {
        e->hold = object_ref(hold);
    }
    e->done = done;
    e->opaque = opaque;
    QTAILQ_INSERT_TAIL(&r->queue, e, link);
    /* At once unless it must wait for busy ones before it */
    if ((r->pending++ && after) || !vsmmu_reap_try(r, e)) {
        /* the queue is not empty: a retry is scheduled */
        if (!timer_pending(r->timer)) {
            qemu_bh_schedule(r->bh);
        }
    }
}

unsigned vsmmu_iommufd_reaper_pending(VsmmuIommufdReaper *r)
{
    return r ? r->pending : 0;
}

/* ---- reports of host refusals -------------------------------------------- */

#define VSMMU_REPORT_BURST      5
#define VSMMU_REPORT_WINDOW_MS  10000

void vsmmu_report_limited(VsmmuReportLimit *l, Error *err)
{
    int64_t now = qemu_clock_get_ms(QEMU_CLOCK_REALTIME);

    if (!l->window_start || now - l->window_start >= VSMMU_REPORT_WINDOW_MS) {
        if (l->suppressed) {
            warn_report("%u similar messages suppressed in the last %d s",
                        l->suppressed, VSMMU_REPORT_WINDOW_MS / 1000);
        }
        l->window_start = now;
        l->in_window = 0;
        l->suppressed = 0;
    }
    if (l->in_window < VSMMU_REPORT_BURST) {
        l->in_window++;
        error_report_err(err);
    } else {
        l->suppressed++;
        error_free(err);
    }
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
