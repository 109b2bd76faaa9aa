/*
 * vsmmu: the interface between the guest-visible model and a backend
 *
 * The model decodes guest programming; a backend makes it take effect:
 * the emulated backend in QEMU's own translation structures, the iommufd
 * backend in the host SMMU. Each device behind a vsmmu has one backend.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef HW_ARM_VSMMU_BACKEND_H
#define HW_ARM_VSMMU_BACKEND_H

#include "hw/arm/vsmmu/formats.h"

typedef struct VsmmuState VsmmuState;
typedef struct VsmmuDevice VsmmuDevice;
typedef struct PCIBus PCIBus;
typedef struct HostIOMMUDevice HostIOMMUDevice;

/* One decoded guest command, as the command engine hands it on */
typedef struct VsmmuCmd {
    uint64_t raw[2];            /* the command as the guest wrote it */
    uint8_t opcode;
    uint32_t sid;               /* CFGI_*, ATC_INV */
    uint32_t ssid;              /* CFGI_CD, ATC_INV (if ssv) */
    bool ssv;
    bool leaf;
    int asid;                   /* TLBI_NH_ASID/VA, -1 = any */
    /*
     * TLBI_NH_*, TLBI_S2_IPA, TLBI_S12_VMALL with stage 2 offered; -1 =
     * any (no stage 2: stage-1 entries carry no VMID)
     */
    int vmid;
    /* TLBI_NH_VA/VAA, TLBI_S2_IPA (an IPA); ATC_INV: span-aligned */
    uint64_t addr;
    uint8_t tg;                 /* range TLBI granule, 0 = none */
    uint8_t ttl;
    /*
     * TLBI range size in pages of tg; ATC_INV: the span in 4 KiB pages,
     * 0 for the whole address space
     */
    uint64_t num_pages;
    uint32_t sid_first, sid_last;   /* CFGI_STE_RANGE */
} VsmmuCmd;

/* Commands handed to a backend in one call, at most */
#define VSMMU_BATCH_MAX     128

/*
 * The backend operations: the only way the guest-visible model reaches a
 * backend. A vsmmu has one backend, chosen at realize (emulated, or
 * iommufd with accel=on) and kept for its life; the backend keeps its own
 * state behind VsmmuState.backend_opaque and VsmmuDevice.accel.
 *
 * process_batch() receives the commands between two CMD_SYNCs (or a
 * bounded slice of them), in order; it returns how many completed. If
 * fewer than @n did, *err tells why the next one failed and the engine
 * stops CONS on it. All @n completing with *err set (CERROR_ATC_INV_SYNC)
 * is an error of the CMD_SYNC that follows.
 *
 * Everything here runs under the BQL with no vsmmu lock held
 * (docs/security.md).
 */
typedef struct VsmmuBackendOps {
    const char *name;
    /* `info vsmmu` "mode:" text */
    const char *mode;
    /* Make the backend's state (optional) */
    bool (*realize)(VsmmuState *s, Error **errp);
    unsigned (*process_batch)(VsmmuState *s, const VsmmuCmd *cmds,
                              unsigned n, VsmmuCmdError *err);
    /* SMMUEN, GBPA or the stream table base changed: drop what was cached */
    void (*config_reset)(VsmmuState *s);
    /* CR0.EVENTQEN changed (optional) */
    void (*eventq_changed)(VsmmuState *s);

    /*
     * Host devices (optional: a backend without them has none). A host
     * device is one the host IOMMU translates for (an assigned device of
     * an accel vsmmu): its DMA address space is system memory.
     */
    bool (*is_host_dev)(VsmmuState *s, PCIBus *bus, int devfn);
    /* PCIIOMMUOps.set_iommu_device / unset_iommu_device */
    bool (*attach)(VsmmuState *s, VsmmuDevice *vdev, HostIOMMUDevice *hiod,
                   Error **errp);
    void (*detach)(VsmmuState *s, VsmmuDevice *vdev);
    /* The MSI doorbell of a host device, for KVM routes */
    bool (*msi_gpa)(VsmmuState *s, PCIBus *bus, int devfn, hwaddr *gpa);

    /* `info vsmmu` (all optional): after the mode line */
    void (*info)(VsmmuState *s, GString *buf);
    /* ... one device's line, false to let the model print it */
    bool (*info_dev)(VsmmuState *s, VsmmuDevice *vdev, GString *buf);
    /* ... after the command counters */
    void (*info_stats)(VsmmuState *s, GString *buf);
} VsmmuBackendOps;

extern const VsmmuBackendOps vsmmu_backend_emu;

/*
 * Backends a build may lack (iommufd needs Linux and VFIO) register
 * themselves at start-up; realize looks them up by name and gives a
 * clear error when the build has none.
 */
void vsmmu_backend_register(const VsmmuBackendOps *ops);
const VsmmuBackendOps *vsmmu_backend_find(const char *name);

/* The emulated backend's work, which the accelerated one also does */
unsigned vsmmu_emu_process_batch(VsmmuState *s, const VsmmuCmd *cmds,
                                 unsigned n, VsmmuCmdError *err);
void vsmmu_emu_config_reset(VsmmuState *s);

#endif /* HW_ARM_VSMMU_BACKEND_H */
