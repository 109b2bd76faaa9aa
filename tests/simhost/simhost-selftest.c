/*
 * Direct tests of the simulated host, no QEMU: this program is run with
 * LD_PRELOAD=libsimhost.so and talks to the simulated /dev/iommu and VFIO
 * cdev exactly as a VMM would. One TAP test per kernel rule, named after
 * the rule and where the contract (shared/reference/kernel-7.2-iommufd.md)
 * takes it from.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include <linux/iommufd.h>
#include <linux/vfio.h>
#include "simhost-ctl.h"

static int ntests, nfailed;
static SimhostCtl *ctl;
static int kick_fd;

static void tap(bool ok, const char *name)
{
    printf("%s %d - %s\n", ok ? "ok" : "not ok", ++ntests, name);
    if (!ok) {
        nfailed++;
        printf("# errno now: %s\n", strerror(errno));
    }
    fflush(stdout);
}

/* call fails with errno e */
#define FAILS(call, e) ((call) == -1 && errno == (e))

/* ---------------------------------------------------------------------- */
/* The host: SMMU 0 plain, 1 with CMDQV, 2 without nesting                 */
/* ---------------------------------------------------------------------- */

enum { D0, D1, D_CMDQV, D_NONEST, D_MULTI, D_CMDQV2, NDEVS };

static void host_setup(void)
{
    int fd = memfd_create(SIMHOST_FD_CTL, MFD_CLOEXEC);

    if (fd < 0 || ftruncate(fd, sizeof(SimhostCtl)) < 0) {
        abort();
    }
    ctl = mmap(NULL, sizeof(*ctl), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    ctl->magic = SIMHOST_CTL_MAGIC;
    ctl->version = SIMHOST_CTL_VERSION;
    ctl->size = sizeof(*ctl);
    ctl->num_smmus = 3;
    simhost_profile_fill(&ctl->smmu[0], SIMHOST_PROFILE_SMMUV3);
    simhost_profile_fill(&ctl->smmu[1], SIMHOST_PROFILE_SMMUV3_CMDQV);
    simhost_profile_fill(&ctl->smmu[2], SIMHOST_PROFILE_SMMUV3_NO_NESTING);
    ctl->num_devs = NDEVS;
    for (int n = 0; n < NDEVS; n++) {
        ctl->dev[n].sid = 0x100 + n;
        ctl->dev[n].num_streams = 1;
    }
    ctl->dev[D_CMDQV].smmu = 1;
    ctl->dev[D_CMDQV2].smmu = 1;
    ctl->dev[D_NONEST].smmu = 2;
    ctl->dev[D_MULTI].num_streams = 2;
    ctl->dev[D1].ats = 1;
}

static int new_iommufd(void)
{
    return memfd_create(SIMHOST_FD_IOMMUFD, MFD_CLOEXEC);
}

static int open_dev(int n)
{
    char name[32];

    snprintf(name, sizeof(name), SIMHOST_FD_VFIO "%d", n);
    return memfd_create(name, MFD_CLOEXEC);
}

static int bind_dev(int dfd, int ifd, uint32_t *devid)
{
    struct vfio_device_bind_iommufd b = { .argsz = sizeof(b), .iommufd = ifd };
    int rc = ioctl(dfd, VFIO_DEVICE_BIND_IOMMUFD, &b);

    *devid = b.out_devid;
    return rc;
}

static int attach(int dfd, uint32_t *pt)
{
    struct vfio_device_attach_iommufd_pt a = { .argsz = sizeof(a),
                                               .pt_id = *pt };
    int rc = ioctl(dfd, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &a);

    *pt = a.pt_id;
    return rc;
}

static int detach(int dfd)
{
    struct vfio_device_detach_iommufd_pt a = { .argsz = sizeof(a) };

    return ioctl(dfd, VFIO_DEVICE_DETACH_IOMMUFD_PT, &a);
}

static uint32_t ioas_alloc(int ifd)
{
    struct iommu_ioas_alloc a = { .size = sizeof(a) };

    return ioctl(ifd, IOMMU_IOAS_ALLOC, &a) ? 0 : a.out_ioas_id;
}

static int map_fixed(int ifd, uint32_t ioas, uint64_t iova, void *va,
                     uint64_t len)
{
    struct iommu_ioas_map m = {
        .size = sizeof(m), .ioas_id = ioas, .user_va = (uintptr_t)va,
        .length = len, .iova = iova,
        .flags = IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE |
                 IOMMU_IOAS_MAP_WRITEABLE,
    };

    return ioctl(ifd, IOMMU_IOAS_MAP, &m);
}

static int unmap(int ifd, uint32_t ioas, uint64_t iova, uint64_t len,
                 uint64_t *done)
{
    struct iommu_ioas_unmap u = { .size = sizeof(u), .ioas_id = ioas,
                                  .iova = iova, .length = len };
    int rc = ioctl(ifd, IOMMU_IOAS_UNMAP, &u);

    if (done) {
        *done = u.length;
    }
    return rc;
}

static int destroy(int ifd, uint32_t id)
{
    struct iommu_destroy d = { .size = sizeof(d), .id = id };

    return ioctl(ifd, IOMMU_DESTROY, &d);
}

static int hwpt_alloc(int ifd, uint32_t dev, uint32_t pt, uint32_t flags,
                      uint32_t type, void *data, uint32_t len, uint32_t *out)
{
    struct iommu_hwpt_alloc h = {
        .size = sizeof(h), .flags = flags, .dev_id = dev, .pt_id = pt,
        .data_type = type, .data_len = len, .data_uptr = (uintptr_t)data,
    };
    int rc = ioctl(ifd, IOMMU_HWPT_ALLOC, &h);

    *out = h.out_hwpt_id;
    return rc;
}

static int nested_alloc(int ifd, uint32_t dev, uint32_t viommu, uint64_t s0,
                        uint64_t s1, uint32_t *out)
{
    struct iommu_hwpt_arm_smmuv3 v = { .ste = { s0, s1 } };

    return hwpt_alloc(ifd, dev, viommu, 0, IOMMU_HWPT_DATA_ARM_SMMUV3, &v,
                      sizeof(v), out);
}

static int viommu_alloc(int ifd, uint32_t dev, uint32_t hwpt, uint32_t type,
                        void *data, uint32_t len, uint32_t *out)
{
    struct iommu_viommu_alloc a = {
        .size = sizeof(a), .type = type, .dev_id = dev, .hwpt_id = hwpt,
        .data_len = len, .data_uptr = (uintptr_t)data,
    };
    int rc = ioctl(ifd, IOMMU_VIOMMU_ALLOC, &a);

    *out = a.out_viommu_id;
    return rc;
}

static int vdevice_alloc(int ifd, uint32_t viommu, uint32_t dev,
                         uint64_t vsid, uint32_t *out)
{
    struct iommu_vdevice_alloc a = { .size = sizeof(a), .viommu_id = viommu,
                                     .dev_id = dev, .virt_id = vsid };
    int rc = ioctl(ifd, IOMMU_VDEVICE_ALLOC, &a);

    *out = a.out_vdevice_id;
    return rc;
}

static int invalidate(int ifd, uint32_t id, uint64_t (*cmds)[2], uint32_t n,
                      uint32_t *done)
{
    struct iommu_hwpt_invalidate h = {
        .size = sizeof(h), .hwpt_id = id, .data_uptr = (uintptr_t)cmds,
        .data_type = IOMMU_VIOMMU_INVALIDATE_DATA_ARM_SMMUV3,
        .entry_len = 16, .entry_num = n,
    };
    int rc = ioctl(ifd, IOMMU_HWPT_INVALIDATE, &h);

    *done = h.entry_num;
    return rc;
}

static int veventq_alloc(int ifd, uint32_t viommu, uint32_t type,
                         uint32_t depth, uint32_t *id, int *fd)
{
    struct iommu_veventq_alloc a = { .size = sizeof(a), .viommu_id = viommu,
                                     .type = type, .veventq_depth = depth };
    int rc = ioctl(ifd, IOMMU_VEVENTQ_ALLOC, &a);

    *id = a.out_veventq_id;
    *fd = a.out_veventq_fd;
    return rc;
}

/* Requests executed by the library's hardware thread */
static int mailbox(uint32_t op, const uint64_t *args, unsigned n)
{
    uint32_t seq = ctl->req_seq + 1;
    uint64_t one = 1;

    ctl->req_op = op;
    memcpy(ctl->req_arg, args, n * sizeof(uint64_t));
    __atomic_store_n(&ctl->req_seq, seq, __ATOMIC_RELEASE);
    if (write(kick_fd, &one, sizeof(one)) != sizeof(one)) {
        return -EIO;
    }
    for (int i = 0; i < 5000; i++) {
        if (__atomic_load_n(&ctl->ack_seq, __ATOMIC_ACQUIRE) == seq) {
            return ctl->req_result;
        }
        usleep(1000);
    }
    return -ETIMEDOUT;
}

static int host_event(int n, const uint64_t *e)
{
    uint64_t a[5] = { n, e[0], e[1], e[2], e[3] };

    return mailbox(SIMHOST_REQ_HOST_EVENT, a, 5);
}

static int cmdqv_error(uint32_t viommu, unsigned lvcmdq)
{
    uint64_t a[3] = { viommu, 0, lvcmdq };

    return mailbox(SIMHOST_REQ_CMDQV_ERROR, a, 3);
}

/* BAR0 of the simulated function */
static void bar_write(int dfd, uint64_t reg, uint64_t v)
{
    if (pwrite(dfd, &v, 8, reg) != 8) {
        printf("# bar write failed\n");
    }
}

static uint64_t bar_read(int dfd, uint64_t reg)
{
    uint64_t v = ~0ULL;

    if (pread(dfd, &v, 8, reg) != 8) {
        printf("# bar read failed\n");
    }
    return v;
}

static void enable_bm(int dfd)
{
    uint16_t cmd = 0x6;

    uint64_t off = ((uint64_t)VFIO_PCI_CONFIG_REGION_INDEX << 40) + 4;

    if (pwrite(dfd, &cmd, 2, off) != 2) {
        printf("# config write failed\n");
    }
}

static uint64_t dma_copy(int dfd, uint64_t src, uint64_t dst, uint64_t len)
{
    bar_write(dfd, SIMHOST_R_SRC, src);
    bar_write(dfd, SIMHOST_R_DST, dst);
    bar_write(dfd, SIMHOST_R_LEN, len);
    bar_write(dfd, SIMHOST_R_CMD, SIMHOST_CMD_COPY);
    return bar_read(dfd, SIMHOST_R_STATUS);
}

/* ---------------------------------------------------------------------- */
/* A guest: RAM at IPA 0x40000000 backed by our memory, stage-1 builders   */
/* ---------------------------------------------------------------------- */

#define G_BASE      0x40000000ULL
#define G_SIZE      (16ULL << 20)

typedef struct Guest {
    uint8_t *mem;
    uint64_t next;
} Guest;

static Guest guest_new(void)
{
    Guest g;

    /* 2 MiB aligned, so queue contiguity follows IPA alignment */
    uint8_t *m = mmap(NULL, G_SIZE + (2 << 20), PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    g.mem = (uint8_t *)(((uintptr_t)m + (2 << 20) - 1) & ~((2ULL << 20) - 1));
    g.next = G_BASE + (8 << 20);
    return g;
}

static void *gptr(Guest *g, uint64_t ipa)
{
    return g->mem + (ipa - G_BASE);
}

static uint64_t galloc(Guest *g, uint64_t size, uint64_t align)
{
    uint64_t a = (g->next + align - 1) & ~(align - 1);

    g->next = a + size;
    memset(gptr(g, a), 0, size);
    return a;
}

typedef struct Pt {
    Guest *g;
    unsigned gs;            /* granule shift */
    unsigned va_bits;
    uint64_t root;
} Pt;

static Pt pt_new(Guest *g, unsigned gs, unsigned va_bits)
{
    Pt p = { g, gs, va_bits, 0 };

    p.root = galloc(g, 1ULL << gs, 1ULL << gs);
    return p;
}

#define PTE_AF      (1ULL << 10)
#define PTE_RO      (1ULL << 7)

static uint64_t *pt_leaf(Pt *p, uint64_t iova)
{
    unsigned stride = p->gs - 3;
    int level = 4 - (p->va_bits - p->gs + stride - 1) / stride;
    uint64_t table = p->root;

    for (;; level++) {
        unsigned lsb = p->gs + stride * (3 - level);
        uint64_t *d = (uint64_t *)gptr(p->g, table) +
                      ((iova >> lsb) & ((1ULL << stride) - 1));

        if (level == 3) {
            return d;
        }
        if (!(*d & 1)) {
            *d = galloc(p->g, 1ULL << p->gs, 1ULL << p->gs) | 3;
        }
        table = *d & ~((1ULL << p->gs) - 1) & ((1ULL << 48) - 1);
    }
}

static void pt_map(Pt *p, uint64_t iova, uint64_t pa, uint64_t flags)
{
    *pt_leaf(p, iova) = pa | 3 | PTE_AF | flags;
}

static uint64_t cd_build(Guest *g, Pt *p, uint16_t asid, bool valid)
{
    uint64_t ipa = galloc(g, 64, 64), *cd = gptr(g, ipa);
    unsigned tg = p->gs == 12 ? 0 : p->gs == 16 ? 1 : 2;

    cd[0] = (64 - p->va_bits) | (uint64_t)tg << 6 | 1ULL << 30 |
            (uint64_t)valid << 31 | 5ULL << 32 | 1ULL << 41 | 1ULL << 45 |
            1ULL << 46 | (uint64_t)asid << 48;
    cd[1] = p->root;
    cd[3] = 0xff;
    return ipa;
}

#define STE_CFG_S1 5

static uint64_t ste_s1(uint64_t cd)
{
    return 1 | (uint64_t)STE_CFG_S1 << 1 | cd;
}

/*
 * A device bound to @ifd, attached to a NEST_PARENT HWPT on an IOAS with
 * guest RAM, with a vIOMMU and a vDEVICE
 */
typedef struct Nest {
    int ifd, dfd;
    uint32_t dev, ioas, s2, viommu, vdev;
    Guest g;
} Nest;

static bool nest_setup(Nest *t, int n, uint32_t vtype, uint32_t vsid)
{
    uint64_t tdata[2];

    t->ifd = new_iommufd();
    t->dfd = open_dev(n);
    t->g = guest_new();
    if (bind_dev(t->dfd, t->ifd, &t->dev)) {
        return false;
    }
    t->ioas = ioas_alloc(t->ifd);
    if (!t->ioas ||
        hwpt_alloc(t->ifd, t->dev, t->ioas, IOMMU_HWPT_ALLOC_NEST_PARENT,
                   0, NULL, 0, &t->s2) ||
        attach(t->dfd, &t->s2) ||
        map_fixed(t->ifd, t->ioas, G_BASE, t->g.mem, G_SIZE) ||
        viommu_alloc(t->ifd, t->dev, t->s2, vtype,
                     vtype == IOMMU_VIOMMU_TYPE_TEGRA241_CMDQV ? tdata : NULL,
                     vtype == IOMMU_VIOMMU_TYPE_TEGRA241_CMDQV ? 16 : 0,
                     &t->viommu) ||
        vdevice_alloc(t->ifd, t->viommu, t->dev, vsid, &t->vdev)) {
        return false;
    }
    enable_bm(t->dfd);
    return true;
}

static void nest_teardown(Nest *t)
{
    close(t->dfd);
    close(t->ifd);
}

/* ---------------------------------------------------------------------- */
/* iommufd core                                                            */
/* ---------------------------------------------------------------------- */

static void test_core(void)
{
    int ifd = new_iommufd();
    struct iommu_ioas_alloc a;
    uint8_t big[64] = { 0 };
    uint32_t ioas, ioas2;
    void *buf = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    struct iommu_ioas_map m;
    struct iommu_option o;
    uint64_t done;

    a = (struct iommu_ioas_alloc){ .size = 8 };
    tap(FAILS(ioctl(ifd, IOMMU_IOAS_ALLOC, &a), EINVAL),
        "size: size below the last required field -> EINVAL (IF/main.c:467)");
    memcpy(big, &(uint32_t){ sizeof(big) }, 4);
    big[40] = 1;
    tap(FAILS(ioctl(ifd, IOMMU_IOAS_ALLOC, big), E2BIG),
        "size: non-zero bytes past the known struct -> E2BIG (IF/main.c:467)");
    big[40] = 0;
    tap(ioctl(ifd, IOMMU_IOAS_ALLOC, big) == 0,
        "size: a larger struct with a zero tail is accepted (IF/main.c:467)");
    a = (struct iommu_ioas_alloc){ .size = sizeof(a), .flags = 1 };
    tap(FAILS(ioctl(ifd, IOMMU_IOAS_ALLOC, &a), EOPNOTSUPP),
        "ioas-alloc: flags != 0 -> EOPNOTSUPP (U:84)");
    tap(ioctl(ifd, 0x3bff, &a) == -1 && errno == ENOTTY,
        "ioctl: unknown iommufd command -> ENOTTY (U:21)");

    ioas = ioas_alloc(ifd);
    ioas2 = ioas_alloc(ifd);
    destroy(ifd, ioas);
    tap(ioas_alloc(ifd) == ioas && ioas2 == ioas + 1,
        "ids: the lowest free id is reused after DESTROY (xarray, IF/main.c)");
    tap(FAILS(destroy(ifd, 999), ENOENT), "destroy: unknown id -> ENOENT");

    m = (struct iommu_ioas_map){ .size = sizeof(m), .ioas_id = ioas,
        .flags = IOMMU_IOAS_MAP_FIXED_IOVA, .user_va = (uintptr_t)buf,
        .length = 4096, .iova = 0x100000 };
    tap(FAILS(ioctl(ifd, IOMMU_IOAS_MAP, &m), EINVAL),
        "ioas-map: neither READABLE nor WRITEABLE -> EINVAL (U:186)");
    m.flags |= IOMMU_IOAS_MAP_READABLE | 8;
    tap(FAILS(ioctl(ifd, IOMMU_IOAS_MAP, &m), EOPNOTSUPP),
        "ioas-map: unknown flag -> EOPNOTSUPP (U:186)");
    tap(FAILS(map_fixed(ifd, ioas, 0x100800, buf, 4096), EINVAL),
        "ioas-map: unaligned FIXED_IOVA -> EINVAL (IF/io_pagetable.c "
        "iopt_check_iova)");
    tap(map_fixed(ifd, ioas, 0x100000, buf, 0x10000) == 0,
        "ioas-map: FIXED_IOVA of user memory succeeds (U:186)");
    tap(FAILS(map_fixed(ifd, ioas, 0x108000, buf, 0x10000), EEXIST),
        "ioas-map: overlapping FIXED_IOVA -> EEXIST (IF/io_pagetable.c)");
    tap(FAILS(map_fixed(ifd, ioas, 0xfffffffffffff000ULL, buf, 0x2000),
              EOVERFLOW),
        "ioas-map: iova + length overflows -> EOVERFLOW (U:21)");
    tap(FAILS(map_fixed(ifd, ioas, 0x800000, (void *)0x1000, 4096), EFAULT),
        "ioas-map: user_va not mapped -> EFAULT (pin_user_pages)");
    tap(FAILS(map_fixed(ifd, 77, 0x800000, buf, 4096), ENOENT),
        "ioas-map: unknown IOAS id -> ENOENT (U:21)");
    m = (struct iommu_ioas_map){ .size = sizeof(m), .ioas_id = ioas,
        .flags = IOMMU_IOAS_MAP_READABLE, .user_va = (uintptr_t)buf,
        .length = 0x1000 };
    tap(ioctl(ifd, IOMMU_IOAS_MAP, &m) == 0 && m.iova &&
        (m.iova + 0x1000 <= 0x100000 || m.iova >= 0x110000),
        "ioas-map: without FIXED_IOVA an unused IOVA comes back (U:186)");
    tap(FAILS(unmap(ifd, ioas, 0x104000, 0x1000, NULL), ENOENT),
        "ioas-unmap: a range cutting through an area -> ENOENT "
        "(IF/io_pagetable.c)");
    tap(FAILS(unmap(ifd, ioas, 0x900000, 0x1000, NULL), ENOENT),
        "ioas-unmap: nothing mapped in the range -> ENOENT "
        "(IF/io_pagetable.c)");
    tap(FAILS(unmap(ifd, ioas, 0x100000, 0, NULL), EINVAL),
        "ioas-unmap: length 0 -> EINVAL");
    tap(unmap(ifd, ioas, 0x100000, 0x10000, &done) == 0 && done == 0x10000,
        "ioas-unmap: whole area unmapped, length out = bytes unmapped (U:293)");
    tap(unmap(ifd, ioas, 0, UINT64_MAX, &done) == 0 && done == 0x1000,
        "ioas-unmap: iova 0 length U64_MAX unmaps everything (U:293)");
    tap(unmap(ifd, ioas, 0, UINT64_MAX, &done) == 0 && done == 0,
        "ioas-unmap: unmap-all of an empty IOAS succeeds (U:293)");

    {
        struct iommu_ioas_iova_ranges r = { .size = sizeof(r),
                                            .ioas_id = ioas };
        struct iommu_iova_range rg[2];

        ioctl(ifd, IOMMU_IOAS_IOVA_RANGES, &r);
        r.allowed_iovas = (uintptr_t)rg;
        tap(ioctl(ifd, IOMMU_IOAS_IOVA_RANGES, &r) == 0 && r.num_iovas == 1 &&
            rg[0].start == 0 && rg[0].last == UINT64_MAX &&
            r.out_iova_alignment == 4096,
            "iova-ranges: an unattached IOAS allows the whole space (U:137)");
    }
    o = (struct iommu_option){ .size = sizeof(o), .option_id = 2,
                               .op = IOMMU_OPTION_OP_SET, .object_id = ioas };
    tap(FAILS(ioctl(ifd, IOMMU_OPTION, &o), EOPNOTSUPP),
        "option: no SW_MSI window option in 7.2 -> EOPNOTSUPP (U:314)");
    o.option_id = IOMMU_OPTION_HUGE_PAGES;
    o.val64 = 1;
    tap(ioctl(ifd, IOMMU_OPTION, &o) == 0,
        "option: HUGE_PAGES per IOAS accepted (U:314)");
    {
        struct iommu_ioas_change_process c = { .size = sizeof(c) };

        tap(ioctl(ifd, IOMMU_IOAS_CHANGE_PROCESS, &c) == 0,
            "change-process: no user_va mapping -> succeeds (U: "
            "CHANGE_PROCESS)");
        map_fixed(ifd, ioas, 0x100000, buf, 0x1000);
        tap(FAILS(ioctl(ifd, IOMMU_IOAS_CHANGE_PROCESS, &c), EINVAL),
            "change-process: a user_va mapping cannot move -> EINVAL");
    }
    close(ifd);
}

/* ---------------------------------------------------------------------- */
/* VFIO cdev, attach, SW_MSI                                               */
/* ---------------------------------------------------------------------- */

static void test_vfio_attach(void)
{
    int ifd = new_iommufd(), dfd = open_dev(D0), dfd2 = open_dev(D_CMDQV);
    struct vfio_device_info info = { .argsz = sizeof(info) };
    struct vfio_region_info ri = { .argsz = sizeof(ri) };
    uint32_t dev, dev2, ioas, pt, hw;
    void *buf = mmap(NULL, 2 << 20, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    struct iommu_ioas_iova_ranges r;
    struct iommu_iova_range rg[8];
    uint64_t v;
    uint32_t live0;
    bool hole = false;

    tap(FAILS(ioctl(dfd, VFIO_DEVICE_GET_INFO, &info), EINVAL),
        "vfio: ioctls before BIND_IOMMUFD -> EINVAL (vfio cdev "
        "access_granted)");
    tap(FAILS(pread(dfd, &v, 8, 0), EINVAL),
        "vfio: region access before BIND_IOMMUFD -> EINVAL");
    tap(FAILS(bind_dev(dfd, dfd2, &dev), EBADF),
        "bind: iommufd argument not an iommufd -> EBADF");
    tap(bind_dev(dfd, ifd, &dev) == 0 && dev,
        "bind: BIND_IOMMUFD returns a dev_id (vfio.h:931)");
    tap(FAILS(bind_dev(dfd, ifd, &live0), EINVAL), "bind: a second bind -> "
    "EINVAL");
    tap(ioctl(dfd, VFIO_DEVICE_GET_INFO, &info) == 0 &&
        (info.flags & VFIO_DEVICE_FLAGS_PCI) &&
        info.num_regions == VFIO_PCI_NUM_REGIONS &&
        info.num_irqs == VFIO_PCI_NUM_IRQS,
        "vfio: GET_INFO describes a PCI function with reset");
    ri.index = VFIO_PCI_BAR0_REGION_INDEX;
    tap(ioctl(dfd, VFIO_DEVICE_GET_REGION_INFO, &ri) == 0 &&
        ri.size == SIMHOST_BAR0_SIZE &&
        !(ri.flags & VFIO_REGION_INFO_FLAG_MMAP),
        "vfio: BAR0 4 KiB, not mmappable (accesses arrive as pread/pwrite)");
    tap(pread(dfd, &v, 8, 0) == 8 && v == SIMHOST_DMA_ID,
        "vfio: BAR0 ID register reads the test device's ID");
    ri.index = 99;
    tap(FAILS(ioctl(dfd, VFIO_DEVICE_GET_REGION_INFO, &ri), EINVAL),
        "vfio: region index out of range -> EINVAL");
    {
        struct {
            struct vfio_irq_set s;
            int32_t fd;
        } irq = { { .argsz = sizeof(irq), .index = VFIO_PCI_MSIX_IRQ_INDEX,
                    .flags = VFIO_IRQ_SET_DATA_EVENTFD |
                             VFIO_IRQ_SET_ACTION_TRIGGER, .count = 1 }, -1 };

        tap(FAILS(ioctl(dfd, VFIO_DEVICE_SET_IRQS, &irq), EINVAL),
            "vfio: SET_IRQS on MSI-X of a function without MSI-X -> EINVAL");
    }
    tap(FAILS(ioctl(dfd, VFIO_DEVICE_FEATURE, &info), ENOTTY),
        "vfio: DEVICE_FEATURE (migration) -> ENOTTY: QEMU adds a blocker");

    ioas = ioas_alloc(ifd);
    live0 = ctl->live_objects;
    tap(map_fixed(ifd, ioas, 0x8000000, buf, 0x1000) == 0,
        "sw-msi: before any attach the window is ordinary IOVA space");
    pt = ioas;
    tap(FAILS(attach(dfd, &pt), EADDRINUSE),
        "attach: SW_MSI window already mapped -> EADDRINUSE "
        "(IF/device.c:406, iopt_reserve_iova)");
    unmap(ifd, ioas, 0x8000000, 0x1000, NULL);
    pt = ioas;
    tap(attach(dfd, &pt) == 0 && pt != ioas && ctl->dev_attached[D0] == pt,
        "attach: an IOAS id gets an auto paging HWPT, its id written back");
    tap(FAILS(map_fixed(ifd, ioas, 0x80ff000, buf, 0x2000), EINVAL),
        "sw-msi: IOAS_MAP into the reserved window -> EINVAL "
        "(iopt_check_iova)");
    r = (struct iommu_ioas_iova_ranges){ .size = sizeof(r), .ioas_id = ioas };
    tap(FAILS(ioctl(ifd, IOMMU_IOAS_IOVA_RANGES, &r), EMSGSIZE) &&
        r.num_iovas == 2,
        "iova-ranges: buffer too small -> EMSGSIZE with num_iovas (U:137)");
    r.allowed_iovas = (uintptr_t)rg;
    r.num_iovas = 8;
    if (ioctl(ifd, IOMMU_IOAS_IOVA_RANGES, &r) == 0 && r.num_iovas == 2) {
        hole = rg[0].start == 0 && rg[0].last == 0x7ffffff &&
               rg[1].start == 0x8100000 && rg[1].last == (1ULL << 48) - 1;
    }
    tap(hole, "iova-ranges: [0x8000000, 0x80fffff] and past the 48-bit "
        "aperture excluded after attach (A:4270, IF/io_pagetable.c:1502)");
    tap(FAILS(destroy(ifd, ioas), EBUSY),
        "destroy: IOAS with a HWPT on it -> EBUSY");
    tap(FAILS(destroy(ifd, pt), EBUSY),
        "destroy: HWPT with an attached device -> EBUSY");
    tap(FAILS(destroy(ifd, dev), EBUSY),
        "destroy: a bound device's id -> EBUSY");
    tap(detach(dfd) == 0 && ctl->dev_attached[D0] == 0 &&
        map_fixed(ifd, ioas, 0x8000000, buf, 0x1000) == 0,
        "detach: the SW_MSI reservation goes with the last attachment");
    tap(ctl->live_objects == live0,
        "detach: the auto domain is freed with its last device");
    unmap(ifd, ioas, 0, UINT64_MAX, NULL);

    /* HWPT_ALLOC rules on the IOAS */
    tap(FAILS(hwpt_alloc(ifd, dev, ioas, 0, 0, buf, 16, &hw), EINVAL),
        "hwpt-alloc: data_type NONE with data_len != 0 -> EINVAL "
        "(IF/hw_pagetable.c:350)");
    tap(FAILS(hwpt_alloc(ifd, dev, ioas, 0, IOMMU_HWPT_DATA_ARM_SMMUV3, buf,
                         0, &hw), EINVAL),
        "hwpt-alloc: data_type set with data_len 0 -> EINVAL "
        "(IF/hw_pagetable.c:350)");
    tap(FAILS(hwpt_alloc(ifd, dev, ioas, IOMMU_HWPT_ALLOC_NEST_PARENT |
                         IOMMU_HWPT_ALLOC_DIRTY_TRACKING, 0, NULL, 0, &hw),
              EOPNOTSUPP),
        "hwpt-alloc: ARM flags NEST_PARENT|DIRTY -> EOPNOTSUPP (A:3858)");
    tap(FAILS(hwpt_alloc(ifd, dev, ioas, IOMMU_HWPT_ALLOC_DIRTY_TRACKING, 0,
                         NULL, 0, &hw), EOPNOTSUPP),
        "hwpt-alloc: DIRTY_TRACKING without HTTU -> EOPNOTSUPP");
    tap(FAILS(hwpt_alloc(ifd, dev, ioas, 1u << 7, 0, NULL, 0, &hw),
              EOPNOTSUPP),
        "hwpt-alloc: unknown flag -> EOPNOTSUPP (IF/hw_pagetable.c)");
    tap(FAILS(hwpt_alloc(ifd, dev, ioas, 0, IOMMU_HWPT_DATA_ARM_SMMUV3, buf, 16,
                         &hw), EOPNOTSUPP),
        "hwpt-alloc: paging HWPT with user data -> EOPNOTSUPP (A:3858)");
    tap(hwpt_alloc(ifd, dev, ioas, IOMMU_HWPT_ALLOC_NEST_PARENT, 0, NULL, 0,
                   &hw) == 0,
        "hwpt-alloc: NEST_PARENT on a nesting SMMU succeeds (A:2857)");
    {
        uint32_t nh;

        tap(FAILS(nested_alloc(ifd, dev, hw, 1, 0, &nh), EOPNOTSUPP),
            "hwpt-alloc: nested with pt_id = a paging HWPT -> EOPNOTSUPP; "
            "ARM needs the vIOMMU (IF/hw_pagetable.c:227)");
    }
    tap(FAILS(hwpt_alloc(ifd, 999, ioas, 0, 0, NULL, 0, &live0), ENOENT),
        "hwpt-alloc: unknown dev_id -> ENOENT");
    {
        int dfd3 = open_dev(D_NONEST);
        uint32_t dev3, h3, p;

        bind_dev(dfd3, ifd, &dev3);
        tap(FAILS(hwpt_alloc(ifd, dev3, ioas, IOMMU_HWPT_ALLOC_NEST_PARENT, 0,
                             NULL, 0, &h3), EOPNOTSUPP),
            "hwpt-alloc: NEST_PARENT without S1P&&S2P -> EOPNOTSUPP (A:5181)");
        p = hw;
        tap(FAILS(attach(dfd3, &p), EINVAL),
            "attach: a paging HWPT of another SMMU -> EINVAL (A:3567)");
        close(dfd3);
    }
    bind_dev(dfd2, ifd, &dev2);
    {
        struct iommu_hw_info h = { .size = sizeof(h), .dev_id = dev };
        struct iommu_hw_info_arm_smmuv3 arm;
        uint8_t big2[64];
        struct iommu_hw_info_tegra241_cmdqv teg;

        memset(&arm, 0xff, sizeof(arm));
        h.data_uptr = (uintptr_t)&arm;
        h.data_len = sizeof(arm);
        tap(ioctl(ifd, IOMMU_GET_HW_INFO, &h) == 0 &&
            h.out_data_type == IOMMU_HW_INFO_TYPE_ARM_SMMUV3 &&
            arm.idr[0] == ctl->smmu[0].idr[0] &&
            arm.idr[5] == ctl->smmu[0].idr[5] &&
            arm.iidr == ctl->smmu[0].iidr && arm.flags == 0,
            "hw-info: DEFAULT type returns the ARM SMMUv3 IDR0-5/IIDR/AIDR "
            "(AI:10)");
        tap((h.out_capabilities & (1u << 3)) != 0,
            "hw-info: PCI_ATS_NOT_SUPPORTED when the device has no ATS "
            "(U:706)");
        memset(big2, 0xff, sizeof(big2));
        h.data_uptr = (uintptr_t)big2;
        h.data_len = sizeof(big2);
        tap(ioctl(ifd, IOMMU_GET_HW_INFO, &h) == 0 && h.data_len == 40 &&
            big2[40] == 0 && big2[63] == 0,
            "hw-info: user bytes past the kernel data zeroed, data_len = 40 "
            "(IF/device.c:1545)");
        h.data_len = 0;
        tap(ioctl(ifd, IOMMU_GET_HW_INFO, &h) == 0 && h.data_len == 40,
            "hw-info: data_len 0 allowed, reports the kernel length");
        h.flags = IOMMU_HW_INFO_FLAG_INPUT_TYPE;
        h.in_data_type = IOMMU_HW_INFO_TYPE_TEGRA241_CMDQV;
        h.data_uptr = (uintptr_t)&teg;
        h.data_len = sizeof(teg);
        tap(FAILS(ioctl(ifd, IOMMU_GET_HW_INFO, &h), EOPNOTSUPP),
            "hw-info: TEGRA241_CMDQV on a host without CMDQV -> EOPNOTSUPP "
            "(AI:10)");
        h.dev_id = dev2;
        h.in_data_type = IOMMU_HW_INFO_TYPE_TEGRA241_CMDQV;
        tap(ioctl(ifd, IOMMU_GET_HW_INFO, &h) == 0 &&
            h.out_data_type == IOMMU_HW_INFO_TYPE_TEGRA241_CMDQV &&
            teg.version == 1 && teg.log2vcmdqs == 1 && teg.log2vsids == 4,
            "hw-info: TEGRA241_CMDQV version/log2vcmdqs/log2vsids (T:864)");
        h.flags = 2;
        tap(FAILS(ioctl(ifd, IOMMU_GET_HW_INFO, &h), EOPNOTSUPP),
            "hw-info: unknown flag -> EOPNOTSUPP (U:760)");
        h.flags = 0;
        h.__reserved[1] = 1;
        tap(FAILS(ioctl(ifd, IOMMU_GET_HW_INFO, &h), EOPNOTSUPP),
            "hw-info: __reserved non-zero -> EOPNOTSUPP (U:760)");
    }
    destroy(ifd, hw);
    close(dfd);
    close(dfd2);
    tap(ctl->dev_bound[D0] == 0, "close: closing the cdev unbinds the device");
    close(ifd);
}

/* ---------------------------------------------------------------------- */
/* vIOMMU, vDEVICE, nested HWPT                                            */
/* ---------------------------------------------------------------------- */

static void test_viommu(void)
{
    int ifd = new_iommufd(), dfd = open_dev(D0), dfd1 = open_dev(D1);
    int dfdm = open_dev(D_MULTI), dfdc = open_dev(D_CMDQV);
    uint32_t dev, dev1, devm, devc, ioas, s2, pg, v, vd, nh, s2c, tmp;
    uint64_t tdata[2];

    bind_dev(dfd, ifd, &dev);
    bind_dev(dfd1, ifd, &dev1);
    bind_dev(dfdm, ifd, &devm);
    bind_dev(dfdc, ifd, &devc);
    ioas = ioas_alloc(ifd);
    hwpt_alloc(ifd, dev, ioas, IOMMU_HWPT_ALLOC_NEST_PARENT, 0, NULL, 0, &s2);
    hwpt_alloc(ifd, dev, ioas, 0, 0, NULL, 0, &pg);
    hwpt_alloc(ifd, devc, ioas, IOMMU_HWPT_ALLOC_NEST_PARENT, 0, NULL, 0, &s2c);

    tap(FAILS(viommu_alloc(ifd, dev, s2, IOMMU_VIOMMU_TYPE_DEFAULT, NULL, 0,
                           &v), EOPNOTSUPP),
        "viommu-alloc: type DEFAULT -> EOPNOTSUPP (IF/viommu.c:17)");
    tap(FAILS(viommu_alloc(ifd, dev, pg, IOMMU_VIOMMU_TYPE_ARM_SMMUV3, NULL, 0,
                           &v), EINVAL),
        "viommu-alloc: hwpt_id not a NEST_PARENT HWPT -> EINVAL (IF/viommu.c)");
    tap(FAILS(viommu_alloc(ifd, dev, s2c, IOMMU_VIOMMU_TYPE_ARM_SMMUV3, NULL,
                           0, &v), EINVAL),
        "viommu-alloc: parent of another SMMU -> EINVAL (AI:469)");
    tap(FAILS(viommu_alloc(ifd, dev, s2, IOMMU_VIOMMU_TYPE_TEGRA241_CMDQV,
                           tdata, 16, &v), EOPNOTSUPP),
        "viommu-alloc: TEGRA241 on an SMMU without CMDQV -> EOPNOTSUPP "
        "(AI:423)");
    tap(viommu_alloc(ifd, dev, s2, IOMMU_VIOMMU_TYPE_ARM_SMMUV3, NULL, 0,
                     &v) == 0,
        "viommu-alloc: ARM_SMMUV3 on a NEST_PARENT HWPT (U:1111)");
    tap(FAILS(destroy(ifd, s2), EBUSY),
        "destroy: NEST_PARENT HWPT under a vIOMMU -> EBUSY");

    tap(FAILS(nested_alloc(ifd, dev, v, 1 | 5 << 1 | 1ULL << 56, 0, &nh), EIO),
        "vste: a bit outside STRTAB_STE_0_NESTING_ALLOWED -> EIO (AI:207)");
    tap(FAILS(nested_alloc(ifd, dev, v, 1 | 5 << 1, 1ULL << 19, &nh), EIO),
        "vste: a word-1 bit outside STRTAB_STE_1_NESTING_ALLOWED -> EIO "
        "(AI:207)");
    tap(FAILS(nested_alloc(ifd, dev, v, 1 | 6 << 1, 0, &nh), EIO),
        "vste: Config S2_TRANS -> EIO (AI:207)");
    tap(FAILS(nested_alloc(ifd, dev, v, 1 | 7 << 1, 0, &nh), EIO),
        "vste: Config NESTED -> EIO (AI:207)");
    tap(FAILS(nested_alloc(ifd, dev, v, 1 | 5 << 1, 2ULL << 28, &nh), EIO),
        "vste: EATS S1CHK -> EIO (AI:207)");
    tap(nested_alloc(ifd, dev, v, 0xdead0000ULL << 4, 0, &nh) == 0 &&
        destroy(ifd, nh) == 0,
        "vste: V=0 accepted whatever the other bits (zeroed) (AI:207)");
    {
        struct iommu_hwpt_arm_smmuv3 s = { .ste = { 1 | 5 << 1, 0 } };

        tap(FAILS(hwpt_alloc(ifd, dev, v, 0, IOMMU_HWPT_DATA_ARM_SMMUV3, &s, 8,
                             &nh), EINVAL),
            "nested: data_len < 16 -> EINVAL (iommu.h:466)");
        tap(FAILS(hwpt_alloc(ifd, dev, v, IOMMU_HWPT_ALLOC_PASID,
                             IOMMU_HWPT_DATA_ARM_SMMUV3, &s, 16, &nh),
                  EOPNOTSUPP),
            "nested: flags PASID -> EOPNOTSUPP (AI:252)");
        tap(FAILS(hwpt_alloc(ifd, dev, v, 0, IOMMU_HWPT_DATA_VTD_S1, &s, 16,
                             &nh), EINVAL),
            "nested: data_type not ARM_SMMUV3 -> EINVAL");
        tap(FAILS(hwpt_alloc(ifd, devc, v, 0, IOMMU_HWPT_DATA_ARM_SMMUV3, &s,
                             16, &nh), EINVAL),
            "nested: device and vIOMMU on different SMMUs -> EINVAL "
            "(IF/hw_pagetable.c:394)");
    }
    tap(nested_alloc(ifd, dev, v, 1 | 5 << 1 | 0x40001000, 1ULL << 28,
                     &nh) == 0,
        "nested: S1 vSTE with EATS TRANS accepted (AI:207)");
    tmp = nh;
    tap(FAILS(attach(dfd, &tmp), ENOENT),
        "attach: S1 vSTE without a vDEVICE -> ENOENT (AI:99)");
    tap(FAILS(vdevice_alloc(ifd, v, devc, 0x10, &vd), EINVAL),
        "vdevice-alloc: device on another SMMU -> EINVAL (IF/viommu.c:143)");
    tap(FAILS(vdevice_alloc(ifd, v, devm, 0x11, &vd), EOPNOTSUPP),
        "vdevice-alloc: a device with several streams -> EOPNOTSUPP (AI:300)");
    tap(vdevice_alloc(ifd, v, dev, 0x10, &vd) == 0,
        "vdevice-alloc: vSID for a device (U:1141)");
    tap(FAILS(vdevice_alloc(ifd, v, dev1, 0x10, &tmp), EEXIST),
        "vdevice-alloc: duplicate virt_id in a vIOMMU -> EEXIST "
        "(IF/viommu.c:143)");
    tap(FAILS(vdevice_alloc(ifd, v, dev, 0x12, &tmp), EEXIST),
        "vdevice-alloc: a second vDEVICE for a device -> EEXIST "
        "(IF/viommu.c:143)");
    tmp = nh;
    tap(attach(dfd, &tmp) == 0 &&
        ctl->dev_attach_kind[D0] == SIMHOST_ATTACH_NESTED &&
        ctl->dev_vsid_valid[D0] && ctl->dev_vsid[D0] == 0x10,
        "attach: nested HWPT with a vDEVICE captures the vSID (AI:99)");
    tap(!(ctl->dev_ste[D0][1] & (3ULL << 28)),
        "nested: EATS is stripped from the stored vSTE (AI:207)");
    tap(!ctl->dev_ats_enabled[D0],
        "attach: EATS TRANS on a device without ATS: physical ATS stays off "
        "(AI:180)");
    {
        uint32_t ab, byp;

        nested_alloc(ifd, dev, v, 1 | 4 << 1, 0, &byp);
        nested_alloc(ifd, dev, v, 1, 0, &ab);
        tmp = byp;
        tap(attach(dfd, &tmp) == 0 && ctl->dev_attached[D0] == byp,
            "attach: replace nested -> bypass nested in one ioctl "
            "(vfio.h:931)");
        tmp = ab;
        tap(attach(dfd, &tmp) == 0 && ctl->dev_attached[D0] == ab,
            "attach: replace bypass -> abort nested (vfio.h:931)");
        tap(FAILS(destroy(ifd, ab), EBUSY),
            "destroy: attached nested HWPT -> EBUSY");
        tmp = nh;
        attach(dfd, &tmp);
        destroy(ifd, ab);
        destroy(ifd, byp);
    }
    tap(FAILS(destroy(ifd, v), EBUSY),
        "destroy: vIOMMU with a vDEVICE and a nested HWPT -> EBUSY");
    {
        struct iommu_vdevice_alloc a = { .size = sizeof(a), .viommu_id = v,
                                         .dev_id = dev1, .virt_id = 0x20 };
        uint32_t pt = pg;

        ioctl(ifd, IOMMU_VDEVICE_ALLOC, &a);
        attach(dfd1, &pt);
        close(dfd1);
        tap(ctl->vdev_leaked_on_close == 1,
            "close: cdev closed with its vDEVICE alive -> the id leaks "
            "(U:1133)");
        tap(destroy(ifd, a.out_vdevice_id) == 0,
            "destroy: the leaked vDEVICE can still be destroyed by id");
    }
    close(dfd);
    close(dfdm);
    close(dfdc);
    close(ifd);
}

/* The last command the simulated hardware received */
static uint64_t *last_inval(void)
{
    return ctl->inval_log[(ctl->inval_log_head - 1) % SIMHOST_INVAL_LOG];
}

/* ---------------------------------------------------------------------- */
/* HWPT_INVALIDATE on the vIOMMU                                           */
/* ---------------------------------------------------------------------- */

static void test_invalidate(void)
{
    Nest t;
    uint64_t c[200][2];
    uint32_t done, nh, vmid;
    uint64_t before;
    struct iommu_hwpt_invalidate h;

    if (!nest_setup(&t, D0, IOMMU_VIOMMU_TYPE_ARM_SMMUV3, 0x42)) {
        tap(false, "invalidate: setup");
        return;
    }
    nested_alloc(t.ifd, t.dev, t.viommu, 1 | 4 << 1, 0, &nh);

    tap(FAILS(invalidate(t.ifd, t.viommu, c, 0, &done), EINVAL),
        "invalidate: entry_num 0 -> EINVAL on ARM, no empty probe (AI:314, "
        "iommu.h:569)");
    c[0][0] = 0x11;
    c[0][1] = 0;
    tap(FAILS(invalidate(t.ifd, nh, c, 1, &done), EOPNOTSUPP),
        "invalidate: a nested HWPT id -> EOPNOTSUPP, use the vIOMMU "
        "(IF/hw_pagetable.c:495)");
    tap(FAILS(invalidate(t.ifd, t.s2, c, 1, &done), EINVAL),
        "invalidate: a paging HWPT id -> EINVAL (IF/hw_pagetable.c:495)");
    h = (struct iommu_hwpt_invalidate){ .size = sizeof(h), .hwpt_id = t.viommu,
        .data_uptr = (uintptr_t)c, .data_type = 0, .entry_len = 16,
        .entry_num = 1 };
    tap(FAILS(ioctl(t.ifd, IOMMU_HWPT_INVALIDATE, &h), EINVAL),
        "invalidate: data_type VTD_S1 on an ARM vIOMMU -> EINVAL (AI:314)");
    {
        uint64_t e[2][3] = { { 0x11, 0, 1 }, { 0x11, 0, 0 } };

        h.data_type = IOMMU_VIOMMU_INVALIDATE_DATA_ARM_SMMUV3;
        h.entry_len = 24;
        h.data_uptr = (uintptr_t)e;
        h.entry_num = 2;
        tap(FAILS(ioctl(t.ifd, IOMMU_HWPT_INVALIDATE, &h), E2BIG),
            "invalidate: entry_len 24 with non-zero extra bytes -> E2BIG "
            "(AI:314)");
        e[0][2] = 0;
        h.entry_num = 2;
        tap(ioctl(t.ifd, IOMMU_HWPT_INVALIDATE, &h) == 0 && h.entry_num == 2,
            "invalidate: entry_len 24 with a zero tail accepted");
    }
    for (unsigned i = 0; i < 4; i++) {
        c[i][0] = 0x12 | 0x7777ULL << 32 | 0x5ULL << 48;
        c[i][1] = 0x1000 * i;
    }
    c[2][0] = 0x46;
    before = ctl->inval_cmds_done;
    tap(FAILS(invalidate(t.ifd, t.viommu, c, 4, &done), EIO) && done == 2,
        "invalidate: CMD_SYNC -> EIO, entry_num = its index (AI:314, U:896)");
    tap(ctl->inval_cmds_done == before,
        "invalidate: quirk (a) the converted commands before the failure were "
        "not issued (AI:314)");
    c[0][0] = 0x03;
    tap(FAILS(invalidate(t.ifd, t.viommu, c, 1, &done), EIO) && done == 0,
        "invalidate: CFGI_STE -> EIO (AI:314)");
    c[0][0] = 0x04;
    tap(FAILS(invalidate(t.ifd, t.viommu, c, 1, &done), EIO),
        "invalidate: CFGI_ALL -> EIO (AI:314)");
    c[0][0] = 0x2a;
    tap(FAILS(invalidate(t.ifd, t.viommu, c, 1, &done), EIO),
        "invalidate: TLBI_S2_IPA -> EIO (AI:314)");
    c[0][0] = 0x30 | 0x1234ULL << 32;
    c[0][1] = 0xffff;
    vmid = 0;
    if (invalidate(t.ifd, t.viommu, c, 1, &done) == 0) {
        uint64_t *l = last_inval();

        vmid = (l[0] >> 32) & 0xffff;
        tap((l[0] & 0xff) == 0x10 && vmid != 0 && vmid != 0x1234 && l[1] == 0,
            "invalidate: TLBI_NSNH_ALL -> TLBI_NH_ALL with the S2 VMID, "
            "data[1]=0 (AI:314)");
    } else {
        tap(false, "invalidate: TLBI_NSNH_ALL accepted");
    }
    c[0][0] = 0x12 | 0x7777ULL << 32 | 0x5ULL << 48;
    c[0][1] = 0x5000;
    if (invalidate(t.ifd, t.viommu, c, 1, &done) == 0) {
        uint64_t *l = last_inval();

        tap(((l[0] >> 32) & 0xffff) == vmid && (l[0] >> 48) == 5 &&
            l[1] == 0x5000,
            "invalidate: TLBI_NH_VA VMID overwritten, ASID/address kept "
            "(AI:314)");
    } else {
        tap(false, "invalidate: TLBI_NH_VA accepted");
    }
    c[0][0] = 0x40 | 0x42ULL << 32;
    c[0][1] = 0;
    if (invalidate(t.ifd, t.viommu, c, 1, &done) == 0) {
        uint64_t *l = last_inval();

        tap((l[0] >> 32) == ctl->dev[D0].sid,
            "invalidate: ATC_INV vSID replaced by the pSID (AI:278)");
    } else {
        tap(false, "invalidate: ATC_INV accepted");
    }
    c[0][0] = 0x05 | 0x99ULL << 32;
    tap(FAILS(invalidate(t.ifd, t.viommu, c, 1, &done), EIO),
        "invalidate: CFGI_CD of a vSID without vDEVICE -> EIO (AI:314)");
    for (unsigned i = 0; i < 100; i++) {
        c[i][0] = 0x11 | (uint64_t)i << 48;
        c[i][1] = 0;
    }
    before = ctl->inval_hw_batches;
    tap(invalidate(t.ifd, t.viommu, c, 100, &done) == 0 && done == 100 &&
        ctl->inval_hw_batches - before == 2,
        "invalidate: 100 commands issued as batches of 63 + 37 "
        "(CMDQ_BATCH_ENTRIES-1)");
    c[70][0] = 0x46;
    before = ctl->inval_cmds_done;
    tap(FAILS(invalidate(t.ifd, t.viommu, c, 100, &done), EIO) && done == 70 &&
        ctl->inval_cmds_done - before == 63,
        "invalidate: failure at 70 -> first batch issued, [63, 70) not "
        "(AI:314 quirk a)");
    c[70][0] = 0x11;
    ctl->inject[0] = (SimhostInject){ .kind = SIMHOST_K_INVAL_SYNC, .count = 1,
                                      .err = ETIMEDOUT };
    tap(FAILS(invalidate(t.ifd, t.viommu, c, 100, &done), ETIMEDOUT) &&
        done == 62,
        "invalidate: CMD_SYNC timeout -> entry_num = last command of the "
        "failed batch (AI:314 quirk b)");
    ctl->inject[0] = (SimhostInject){ .kind = SIMHOST_K_HWPT_INVALIDATE,
                                      .skip = 1, .count = 1, .err = ENOMEM };
    tap(invalidate(t.ifd, t.viommu, c, 1, &done) == 0 &&
        FAILS(invalidate(t.ifd, t.viommu, c, 1, &done), ENOMEM) &&
        done == 0 && ctl->inject[0].fired == 1 &&
        invalidate(t.ifd, t.viommu, c, 1, &done) == 0,
        "inject: the 2nd HWPT_INVALIDATE fails with the chosen errno, once");
    nest_teardown(&t);
}

/* ---------------------------------------------------------------------- */
/* Nested walk, IOTLB, CD cache, events                                    */
/* ---------------------------------------------------------------------- */

static bool walk_granule(unsigned gs, unsigned va_bits)
{
    Nest t;
    Pt p;
    uint64_t cd, a, b, st;
    uint32_t nh;
    bool ok;

    if (!nest_setup(&t, D0, IOMMU_VIOMMU_TYPE_ARM_SMMUV3, 0x42)) {
        return false;
    }
    p = pt_new(&t.g, gs, va_bits);
    cd = cd_build(&t.g, &p, 7, true);
    a = galloc(&t.g, 1ULL << gs, 1ULL << gs);
    b = galloc(&t.g, 1ULL << gs, 1ULL << gs);
    memset(gptr(&t.g, a), 0x5a, 64);
    pt_map(&p, 0x10000000, a, 0);
    pt_map(&p, 0x20000000, b, 0);
    nested_alloc(t.ifd, t.dev, t.viommu, ste_s1(cd), 0, &nh);
    attach(t.dfd, &nh);
    st = dma_copy(t.dfd, 0x10000000, 0x20000000 + 8, 64);
    ok = st == 0 && ((uint8_t *)gptr(&t.g, b))[8 + 63] == 0x5a;
    nest_teardown(&t);
    return ok;
}

static void test_walk(void)
{
    Nest t;
    Pt p;
    uint64_t cd, a, a2, b, st, evt[8];
    uint32_t nh, qid, done, nh_byp, nh_ab;
    int qfd;
    uint64_t c[1][2];
    ssize_t n;

    tap(walk_granule(12, 48), "walk: S1 4K granule, 4 levels, through S2 "
    "(AI:42)");
    tap(walk_granule(14, 47), "walk: S1 16K granule");
    tap(walk_granule(16, 42), "walk: S1 64K granule, 2 levels");

    if (!nest_setup(&t, D0, IOMMU_VIOMMU_TYPE_ARM_SMMUV3, 0x42)) {
        tap(false, "walk: setup");
        return;
    }
    p = pt_new(&t.g, 12, 48);
    cd = cd_build(&t.g, &p, 7, true);
    a = galloc(&t.g, 4096, 4096);
    a2 = galloc(&t.g, 4096, 4096);
    b = galloc(&t.g, 4096, 4096);
    memset(gptr(&t.g, a), 0x11, 4096);
    memset(gptr(&t.g, a2), 0x22, 4096);
    pt_map(&p, 0x10000000, a, 0);
    pt_map(&p, 0x20000000, b, 0);
    nested_alloc(t.ifd, t.dev, t.viommu, ste_s1(cd), 0, &nh);
    attach(t.dfd, &nh);
    veventq_alloc(t.ifd, t.viommu, IOMMU_VEVENTQ_TYPE_ARM_SMMUV3, 4, &qid,
                  &qfd);

    st = dma_copy(t.dfd, 0x10000000, 0x20000000, 16);
    tap(st == 0 && ((uint8_t *)gptr(&t.g, b))[0] == 0x11,
        "walk: nested S1 copy through the guest's tables");
    /* remap without invalidation: the IOTLB still has the old page */
    pt_map(&p, 0x10000000, a2, 0);
    dma_copy(t.dfd, 0x10000000, 0x20000000, 16);
    tap(((uint8_t *)gptr(&t.g, b))[0] == 0x11,
        "iotlb: without TLBI the old translation is used (stale data)");
    c[0][0] = 0x12 | 6ULL << 48;
    c[0][1] = 0x10000000;
    invalidate(t.ifd, t.viommu, c, 1, &done);
    dma_copy(t.dfd, 0x10000000, 0x20000000, 16);
    tap(((uint8_t *)gptr(&t.g, b))[0] == 0x11,
        "iotlb: TLBI_NH_VA of another ASID leaves the entry");
    c[0][0] = 0x12 | 7ULL << 48;
    invalidate(t.ifd, t.viommu, c, 1, &done);
    dma_copy(t.dfd, 0x10000000, 0x20000000, 16);
    tap(((uint8_t *)gptr(&t.g, b))[0] == 0x22,
        "iotlb: TLBI_NH_VA (VMID rewritten by the host) cleans it");
    pt_map(&p, 0x10000000, a, 0);
    c[0][0] = 0x30;
    invalidate(t.ifd, t.viommu, c, 1, &done);
    dma_copy(t.dfd, 0x10000000, 0x20000000, 16);
    tap(((uint8_t *)gptr(&t.g, b))[0] == 0x11,
        "iotlb: TLBI_NSNH_ALL (-> NH_ALL + VMID) cleans everything");

    /* CD cache: change the ASID in the CD, stale until CFGI_CD */
    ((uint64_t *)gptr(&t.g, cd))[0] &= ~(1ULL << 31);
    st = dma_copy(t.dfd, 0x10000000, 0x20000000, 16);
    tap(st == 0, "cd-cache: a CD made invalid in memory is still cached");
    c[0][0] = 0x05 | 0x42ULL << 32;
    c[0][1] = 1;
    invalidate(t.ifd, t.viommu, c, 1, &done);
    st = dma_copy(t.dfd, 0x10000000, 0x20000000, 16);
    n = read(qfd, evt, sizeof(evt));
    tap((st & 0xff) == SIMHOST_STATUS_DMA_ERROR && n == 40 &&
        (evt[1] & 0xff) == 0x0a && (evt[1] >> 32) == 0x42,
        "event: after CFGI_CD (vSID -> pSID) CD.V=0 gives C_BAD_CD with the "
        "vSID (A:2029)");
    ((uint64_t *)gptr(&t.g, cd))[0] |= 1ULL << 31;
    c[0][0] = 0x06 | 0x42ULL << 32;
    invalidate(t.ifd, t.viommu, c, 1, &done);

    st = dma_copy(t.dfd, 0x30000000, 0x20000000, 16);
    n = read(qfd, evt, sizeof(evt));
    tap((st & 0xff) == SIMHOST_STATUS_DMA_ERROR && n == 40 &&
        evt[0] == (uint64_t)1 << 32 && (evt[1] & 0xff) == 0x10 &&
        (evt[1] >> 32) == 0x42 && evt[3] == 0x30000000 &&
        (evt[2] & (1ULL << 35)),
        "event: S1 F_TRANSLATION forwarded, vSID, InputAddr, RnW (A:2029, "
        "U:1224)");
    tap(n == 40 && ((uint32_t *)evt)[1] == 1,
        "veventq: header sequence increments per record (U:1175)");
    *pt_leaf(&p, 0x20000000) |= PTE_RO;
    c[0][0] = 0x11 | 7ULL << 48;
    invalidate(t.ifd, t.viommu, c, 1, &done);
    dma_copy(t.dfd, 0x10000000, 0x20000000, 16);
    n = read(qfd, evt, sizeof(evt));
    tap(n == 40 && (evt[1] & 0xff) == 0x13 && !(evt[2] & (1ULL << 35)),
        "event: write to a read-only page -> F_PERMISSION, write (A:2029)");
    *pt_leaf(&p, 0x20000000) &= ~(PTE_RO | PTE_AF);
    invalidate(t.ifd, t.viommu, c, 1, &done);
    dma_copy(t.dfd, 0x10000000, 0x20000000, 16);
    n = read(qfd, evt, sizeof(evt));
    tap(n == 40 && (evt[1] & 0xff) == 0x12,
        "event: AF=0 with CD.AFFD=0 -> F_ACCESS");
    *pt_leaf(&p, 0x20000000) |= PTE_AF;
    invalidate(t.ifd, t.viommu, c, 1, &done);

    /* stage-2 fault: S1 maps to an IPA the IOAS lacks */
    pt_map(&p, 0x40000000, 0x7000000000ULL, 0);
    {
        uint64_t s2 = ctl->s2_faults, q = ctl->events_queued;

        dma_copy(t.dfd, 0x40000000, 0x20000000, 16);
        tap(ctl->s2_faults == s2 + 1 && ctl->events_queued == q &&
            read(qfd, evt, sizeof(evt)) == 0,
            "event: stage-2 faults are never forwarded (A:2029 !event->s2)");
    }
    /* host-injected events */
    {
        uint64_t e[4] = { 0x10, 1ULL << 39, 0x1000, 0 };

        tap(host_event(D0, e) == -EPERM,
            "event: a stage-2 (S2 bit) event from the host stays in the host");
        e[0] = 0x03;
        e[1] = 0;
        tap(host_event(D0, e) == -EPERM,
            "event: F_STE_FETCH (0x03) is not a forwarded ID (A:2029)");
    }
    /* bypass and abort vSTEs */
    nested_alloc(t.ifd, t.dev, t.viommu, 1 | 4 << 1, 0, &nh_byp);
    nested_alloc(t.ifd, t.dev, t.viommu, 1, 0, &nh_ab);
    attach(t.dfd, &nh_byp);
    st = dma_copy(t.dfd, a2, b, 16);
    tap(st == 0 && ((uint8_t *)gptr(&t.g, b))[0] == 0x22,
        "walk: BYPASS vSTE -> stage 2 only (AI:42)");
    attach(t.dfd, &nh_ab);
    st = dma_copy(t.dfd, a2, b, 16);
    tap((st & 0xff) == SIMHOST_STATUS_DMA_ERROR &&
        read(qfd, evt, sizeof(evt)) == 0,
        "walk: ABORT vSTE -> aborted without an event (AI:74)");
    {
        uint32_t bad;

        nested_alloc(t.ifd, t.dev, t.viommu, ste_s1(cd) | 31ULL << 59, 2, &bad);
        ctl->smmu[0].idr[1] &= ~(0x1fu << 6);   /* SSIDSIZE 0 */
        attach(t.dfd, &bad);
        dma_copy(t.dfd, 0x10000000, 0x20000000, 16);
        n = read(qfd, evt, sizeof(evt));
        tap(n == 40 && (evt[1] & 0xff) == 0x04,
            "event: S1CDMax beyond SSIDSIZE -> C_BAD_STE from the hardware "
            "(AI:207 no value checks)");
        simhost_profile_fill(&ctl->smmu[0], SIMHOST_PROFILE_SMMUV3);
        attach(t.dfd, &nh);
    }

    /* vEVENTQ read rules */
    {
        struct pollfd pf = { .fd = qfd, .events = POLLIN };
        uint8_t small[16];

        tap(poll(&pf, 1, 0) == 0, "veventq: not readable when empty (U:1175)");
        dma_copy(t.dfd, 0x30000000, 0x20000000, 16);
        tap(poll(&pf, 1, 0) == 1 && (pf.revents & POLLIN),
            "veventq: poll -> POLLIN when non-empty (IF/eventq.c)");
        tap(FAILS(read(qfd, small, 4), EINVAL),
            "veventq: read count < 8 -> EINVAL (IF/eventq.c)");
        tap(FAILS(read(qfd, small, 16), EINVAL),
            "veventq: first record does not fit -> EINVAL (IF/eventq.c)");
        tap(FAILS(pread(qfd, evt, sizeof(evt), 0), ESPIPE),
            "veventq: pread -> ESPIPE (IF/eventq.c)");
        read(qfd, evt, sizeof(evt));
    }
    {
        uint32_t seq0, seq, flags, q2;
        int fd2;
        uint64_t big[64];
        uint8_t *p8 = (uint8_t *)big;

        for (int i = 0; i < 6; i++) {
            dma_copy(t.dfd, 0x30000000, 0x20000000, 16);
        }
        n = read(qfd, big, sizeof(big));
        seq0 = ((uint32_t *)p8)[1];
        flags = ((uint32_t *)(p8 + 4 * 40))[0];
        seq = ((uint32_t *)(p8 + 4 * 40))[1];
        tap(n == 4 * 40 + 8 && flags == IOMMU_VEVENTQ_FLAG_LOST_EVENTS &&
            seq == seq0 + 5,
            "veventq: depth 4, 6 events -> 4 records + one LOST_EVENTS header "
            "with the last sequence (IF/eventq.c, U:1175)");
        dma_copy(t.dfd, 0x30000000, 0x20000000, 16);
        n = read(qfd, big, sizeof(big));
        tap(n == 40 && ((uint32_t *)p8)[1] == seq + 1,
            "veventq: sequence continues after the loss");
        ctl->event_alloc_fail = 1;
        dma_copy(t.dfd, 0x30000000, 0x20000000, 16);
        n = read(qfd, big, sizeof(big));
        tap(n == 8 && ((uint32_t *)p8)[0] == IOMMU_VEVENTQ_FLAG_LOST_EVENTS,
            "inject: event allocation failure -> LOST_EVENTS (IF/eventq.c "
            "GFP_NOWAIT)");
        tap(FAILS(veventq_alloc(t.ifd, t.viommu,
                                IOMMU_VEVENTQ_TYPE_ARM_SMMUV3, 4,
                                &q2, &fd2), EEXIST),
            "veventq-alloc: a second queue of a type -> EEXIST (U:1286)");
        tap(FAILS(veventq_alloc(t.ifd, t.viommu,
                                IOMMU_VEVENTQ_TYPE_TEGRA241_CMDQV,
                                0, &q2, &fd2), EINVAL),
            "veventq-alloc: depth 0 -> EINVAL (IF/eventq.c:502)");
        tap(FAILS(veventq_alloc(t.ifd, t.viommu, IOMMU_VEVENTQ_TYPE_DEFAULT, 4,
                                &q2, &fd2), EOPNOTSUPP),
            "veventq-alloc: type DEFAULT -> EOPNOTSUPP (U:1218)");
        tap(FAILS(destroy(t.ifd, qid), EBUSY),
            "destroy: vEVENTQ while its fd is open -> EBUSY");
        close(qfd);
        tap(destroy(t.ifd, qid) == 0, "destroy: vEVENTQ after close succeeds");
        {
            uint64_t q = ctl->events_unforwarded;

            dma_copy(t.dfd, 0x30000000, 0x20000000, 16);
            tap(ctl->events_unforwarded == q + 1,
                "event: no vEVENTQ -> not delivered (-EOPNOTSUPP, host log)");
        }
    }
    /* MSI doorbell through S1 */
    {
        uint64_t lost = ctl->dev_msi_lost[D0];

        bar_write(t.dfd, SIMHOST_R_CMD, SIMHOST_CMD_FILL | SIMHOST_CMD_MSI);
        tap(ctl->dev_msi_lost[D0] == lost + 1,
            "msi: doorbell IOVA 0x08000040 unmapped in S1 -> MSI lost "
            "(section 5)");
        pt_map(&p, 0x08000000, 0x09000000, 0);
        c[0][0] = 0x11 | 7ULL << 48;
        invalidate(t.ifd, t.viommu, c, 1, &done);
        bar_write(t.dfd, SIMHOST_R_CMD, SIMHOST_CMD_FILL | SIMHOST_CMD_MSI);
        tap(ctl->dev_msi_lost[D0] == lost + 2,
            "msi: S1 maps the doorbell to another IPA -> MSI lost (section 5)");
        struct {
            struct vfio_irq_set s;
            int32_t fd;
        } irq = { { .argsz = sizeof(irq), .index = VFIO_PCI_MSI_IRQ_INDEX,
                    .flags = VFIO_IRQ_SET_DATA_EVENTFD |
                             VFIO_IRQ_SET_ACTION_TRIGGER, .count = 1 },
                  eventfd(0, EFD_NONBLOCK) };
        uint64_t cnt = 0;

        tap(ioctl(t.dfd, VFIO_DEVICE_SET_IRQS, &irq) == 0,
            "vfio: SET_IRQS MSI with an eventfd");
        pt_map(&p, 0x08000000, 0x08000000, 0);
        invalidate(t.ifd, t.viommu, c, 1, &done);
        bar_write(t.dfd, SIMHOST_R_CMD, SIMHOST_CMD_FILL | SIMHOST_CMD_MSI);
        tap(ctl->dev_msi_lost[D0] == lost + 2 &&
            bar_read(t.dfd, SIMHOST_R_MSI_LOST) == 2 &&
            read(irq.fd, &cnt, 8) == 8 && cnt == 1,
            "msi: S1 identity-maps 0x08000000 -> reaches the SW_MSI window "
            "(section 5)");
    }
    nest_teardown(&t);
}

/* ---------------------------------------------------------------------- */
/* Tegra241 CMDQV                                                          */
/* ---------------------------------------------------------------------- */

static void test_cmdqv(void)
{
    Nest t;
    uint64_t td[2] = { 0, 0 }, q0, q1, qbad;
    uint32_t v2, v3, hq0, hq1, tmp, qid;
    uint64_t big[8];
    struct iommu_hw_queue_alloc h;
    volatile uint32_t *page;    /* device memory shared with the HW thread */
    void *p;
    int qfd;

    if (!nest_setup(&t, D_CMDQV, IOMMU_VIOMMU_TYPE_TEGRA241_CMDQV, 0x33)) {
        tap(false, "cmdqv: setup");
        return;
    }
    {
        struct iommu_viommu_alloc a = { .size = sizeof(a),
            .type = IOMMU_VIOMMU_TYPE_TEGRA241_CMDQV, .dev_id = t.dev,
            .hwpt_id = t.s2, .data_uptr = (uintptr_t)td };

        tap(FAILS(ioctl(t.ifd, IOMMU_VIOMMU_ALLOC, &a), EINVAL),
            "tegra-viommu: no driver data -> EINVAL (T:1297)");
        a.data_len = 8;
        tap(FAILS(ioctl(t.ifd, IOMMU_VIOMMU_ALLOC, &a), EINVAL),
            "tegra-viommu: data_len != 16 -> EINVAL (T:1297)");
        a.data_len = 16;
        tap(ioctl(t.ifd, IOMMU_VIOMMU_ALLOC, &a) == 0 && td[1] == 0x10000 &&
            td[0] && !(td[0] & 4095),
            "tegra-viommu: mmap offset page-aligned, length 64 KiB (U:1082, "
            "T:1297)");
        v2 = a.out_viommu_id;
        tap(ioctl(t.ifd, IOMMU_VIOMMU_ALLOC, &a) == 0, "tegra-viommu: third "
        "VINTF");
        v3 = a.out_viommu_id;
        tap(FAILS(ioctl(t.ifd, IOMMU_VIOMMU_ALLOC, &a), ENOSPC),
            "tegra-viommu: VINTFs 1..3 used -> ENOSPC (T:1297)");
        destroy(t.ifd, v3);
        destroy(t.ifd, v2);
    }
    {
        int d2 = open_dev(D_CMDQV2);
        uint32_t dev2;

        bind_dev(d2, t.ifd, &dev2);
        tap(FAILS(vdevice_alloc(t.ifd, t.viommu, dev2, 0x100000, &tmp), EINVAL),
            "tegra-vdevice: vSID above 20 bits -> EINVAL (T:1248)");
        close(d2);
    }
    /* mmap rules: find the first vIOMMU's region (offset 4096) */
    p = mmap(NULL, 0x10000, PROT_READ | PROT_WRITE, MAP_PRIVATE, t.ifd, 4096);
    tap(p == MAP_FAILED && errno == EINVAL,
        "mmap: MAP_PRIVATE -> EINVAL (IF/main.c:584)");
    p = mmap(NULL, 0x10000, PROT_READ | PROT_EXEC, MAP_SHARED, t.ifd, 4096);
    tap(p == MAP_FAILED && errno == EPERM, "mmap: PROT_EXEC -> EPERM "
    "(IF/main.c:584)");
    p = mmap(NULL, 0x1000, PROT_READ | PROT_WRITE, MAP_SHARED, t.ifd, 4096);
    tap(p == MAP_FAILED && errno == ENXIO,
        "mmap: length not the reported one -> ENXIO (IF/main.c:584)");
    p = mmap(NULL, 0x10000, PROT_READ | PROT_WRITE, MAP_SHARED, t.ifd, 8192);
    tap(p == MAP_FAILED && errno == ENXIO,
        "mmap: offset inside but not at the start -> ENXIO (IF/main.c:584)");
    p = mmap(NULL, 0x10000, PROT_READ | PROT_WRITE, MAP_SHARED, t.ifd, 4096);
    tap(p != MAP_FAILED, "mmap: the VINTF page, MAP_SHARED, exact length "
    "(T:1297)");
    page = p;
    tap(FAILS(destroy(t.ifd, t.viommu), EBUSY),
        "destroy: vIOMMU while its page is mmapped -> EBUSY (selftest "
        "iommufd.c:2986)");

    /* HW queues */
    q0 = galloc(&t.g, 0x1000, 0x1000);
    q1 = galloc(&t.g, 0x1000, 0x1000);
    h = (struct iommu_hw_queue_alloc){ .size = sizeof(h), .viommu_id = t.viommu,
        .type = IOMMU_HW_QUEUE_TYPE_TEGRA241_CMDQV, .index = 1,
        .nesting_parent_iova = q1, .length = 0x1000 };
    tap(FAILS(ioctl(t.ifd, IOMMU_HW_QUEUE_ALLOC, &h), EIO),
        "hw-queue: index 1 before index 0 -> EIO (T:1123)");
    h.index = 0;
    h.length = 0x1800;
    tap(FAILS(ioctl(t.ifd, IOMMU_HW_QUEUE_ALLOC, &h), EINVAL),
        "hw-queue: length not a power of 2 -> EINVAL (T:1123)");
    h.length = 16;
    tap(FAILS(ioctl(t.ifd, IOMMU_HW_QUEUE_ALLOC, &h), EINVAL),
        "hw-queue: length below 32 -> EINVAL (T:1123)");
    h.length = 0x2000;
    ctl->smmu[1].idr[1] = (ctl->smmu[1].idr[1] & ~(0x1fu << 21)) | 8u << 21;
    tap(FAILS(ioctl(t.ifd, IOMMU_HW_QUEUE_ALLOC, &h), EINVAL),
        "hw-queue: length above 2^IDR1.CMDQS * 16 -> EINVAL (T:1123)");
    simhost_profile_fill(&ctl->smmu[1], SIMHOST_PROFILE_SMMUV3_CMDQV);
    h.length = 0x1000;
    h.nesting_parent_iova = q0 + 0x800;
    tap(FAILS(ioctl(t.ifd, IOMMU_HW_QUEUE_ALLOC, &h), EINVAL),
        "hw-queue: base not aligned to the length -> EINVAL (T:1123)");
    h.nesting_parent_iova = 0x7000000000ULL;
    tap(FAILS(ioctl(t.ifd, IOMMU_HW_QUEUE_ALLOC, &h), ENOENT),
        "hw-queue: IPA not mapped in the IOAS -> ENOENT (IF/viommu.c:299)");
    qbad = G_BASE + (2 << 20) - 0x800;
    h.nesting_parent_iova = qbad;
    h.length = 0x1000;
    tap(FAILS(ioctl(t.ifd, IOMMU_HW_QUEUE_ALLOC, &h), EFAULT),
        "hw-queue: pages not physically contiguous -> EFAULT "
        "(IF/viommu.c:299)");
    h.length = 0;
    tap(FAILS(ioctl(t.ifd, IOMMU_HW_QUEUE_ALLOC, &h), EINVAL),
        "hw-queue: length 0 -> EINVAL (IF/viommu.c:262)");
    h.type = 0;
    h.length = 0x1000;
    tap(FAILS(ioctl(t.ifd, IOMMU_HW_QUEUE_ALLOC, &h), EOPNOTSUPP),
        "hw-queue: type DEFAULT -> EOPNOTSUPP (U:1304)");
    h.type = IOMMU_HW_QUEUE_TYPE_TEGRA241_CMDQV;
    h.nesting_parent_iova = q0;
    h.index = 2;
    tap(FAILS(ioctl(t.ifd, IOMMU_HW_QUEUE_ALLOC, &h), EINVAL),
        "hw-queue: index >= LVCMDQs per VINTF -> EINVAL (T:1123)");
    h.index = 0;
    tap(ioctl(t.ifd, IOMMU_HW_QUEUE_ALLOC, &h) == 0,
        "hw-queue: index 0, 4 KiB, aligned, mapped (T:1123)");
    hq0 = h.out_hw_queue_id;
    tap(FAILS(ioctl(t.ifd, IOMMU_HW_QUEUE_ALLOC, &h), EEXIST),
        "hw-queue: the same index again -> EEXIST (T:1123)");
    h.index = 1;
    h.nesting_parent_iova = q1;
    tap(ioctl(t.ifd, IOMMU_HW_QUEUE_ALLOC, &h) == 0,
        "hw-queue: index 1 after index 0 (T:1123)");
    hq1 = h.out_hw_queue_id;
    tap(FAILS(unmap(t.ifd, t.ioas, G_BASE, G_SIZE, NULL), EBUSY),
        "ioas-unmap: the area pinned by a HW queue -> EBUSY "
        "(IF/io_pagetable.c:769)");
    tap(FAILS(destroy(t.ifd, hq0), EBUSY),
        "hw-queue: destroy 0 while 1 exists -> EBUSY (descending order, "
        "T:1109)");
    tap(FAILS(destroy(t.ifd, t.viommu), EBUSY),
        "destroy: vIOMMU with HW queues -> EBUSY (IF/viommu.c:262)");

    /* the VCMDQ consumer: TLBI through the mapped page */
    veventq_alloc(t.ifd, t.viommu, IOMMU_VEVENTQ_TYPE_TEGRA241_CMDQV, 8, &qid,
                  &qfd);
    {
        Pt p4 = pt_new(&t.g, 12, 48);
        uint64_t cd = cd_build(&t.g, &p4, 9, true);
        uint64_t a = galloc(&t.g, 4096, 4096), a2 = galloc(&t.g, 4096, 4096);
        uint64_t b = galloc(&t.g, 4096, 4096), *qm = gptr(&t.g, q0);
        uint32_t nh;
        uint64_t evt[4];
        int i;

        memset(gptr(&t.g, a), 1, 4096);
        memset(gptr(&t.g, a2), 2, 4096);
        pt_map(&p4, 0x10000000, a, 0);
        pt_map(&p4, 0x20000000, b, 0);
        nested_alloc(t.ifd, t.dev, t.viommu, ste_s1(cd), 0, &nh);
        attach(t.dfd, &nh);
        dma_copy(t.dfd, 0x10000000, 0x20000000, 4);
        pt_map(&p4, 0x10000000, a2, 0);
        /* guest: enable the queue, wait STATUS, write TLBI + SYNC, PROD */
        page[2] = 1;
        for (i = 0; i < 2000 && !(page[3] & 1); i++) {
            usleep(1000);
        }
        tap(page[3] & 1, "vcmdq: CONFIG.EN -> STATUS.ENABLED by the hardware");
        qm[0] = 0x12 | 9ULL << 48;
        qm[1] = 0x10000000;
        qm[2] = 0x46;
        qm[3] = 0;
        __atomic_store_n(&page[1], 2, __ATOMIC_RELEASE);
        for (i = 0; i < 2000 && (page[0] & 0xffff) != 2; i++) {
            usleep(1000);
        }
        tap((page[0] & 0xffff) == 2,
            "vcmdq: commands written to the guest queue consumed (CONS = "
            "PROD)");
        dma_copy(t.dfd, 0x10000000, 0x20000000, 4);
        tap(((uint8_t *)gptr(&t.g, b))[0] == 2,
            "vcmdq: TLBI_NH_VA executed with the VINTF's VMID cleans the "
            "IOTLB");
        qm[4] = 0x40 | 0x33ULL << 32;
        qm[5] = 0;
        qm[6] = 0x30;       /* TLBI_NSNH_ALL: not for a guest-owned VCMDQ */
        qm[7] = 0;
        __atomic_store_n(&page[1], 4, __ATOMIC_RELEASE);
        for (i = 0; i < 2000 && !((page[4] ^ page[5]) & 1); i++) {
            usleep(1000);
        }
        tap((page[0] & 0xffff) == 3 && ((page[0] >> 24) & 0x7f) == 1 &&
            ((page[4] ^ page[5]) & 1),
            "vcmdq: ATC_INV via SID_MATCH ok, TLBI_NSNH_ALL -> CONS.ERR ILL "
            "+ GERROR (T:397)");
        tap(read(qfd, evt, sizeof(evt)) == 24 && evt[1] == 1,
            "vcmdq: error -> TEGRA241_CMDQV vEVENT with LVCMDQ_ERR_MAP bit 0 "
            "(T:298)");
        qm[6] = 0x46;
        page[5] = page[4];
        for (i = 0; i < 2000 && (page[0] & 0xffff) != 4; i++) {
            usleep(1000);
        }
        tap((page[0] & 0xffff) == 4,
            "vcmdq: after GERRORN ack the queue resumes at CONS");
        page[2] = 0;
        attach(t.dfd, &t.s2);
        destroy(t.ifd, nh);
    }
    tap(cmdqv_error(t.viommu, 1) == 0 &&
        read(qfd, big, sizeof(big)) == 24 && big[1] == 2,
        "cmdqv: host-raised LVCMDQ error reported as a TEGRA241 vEVENT");
    close(qfd);
    destroy(t.ifd, qid);
    tap(destroy(t.ifd, hq1) == 0 && destroy(t.ifd, hq0) == 0,
        "hw-queue: destroy 1 then 0 (descending) succeeds (T:1109)");
    tap(unmap(t.ifd, t.ioas, G_BASE, G_SIZE, NULL) == 0 &&
        map_fixed(t.ifd, t.ioas, G_BASE, t.g.mem, G_SIZE) == 0,
        "ioas-unmap: unpinned after the queues are gone");
    munmap(p, 0x10000);
    tap(ctl->vintf_mmaps == 0, "mmap: munmap drops the mapping's reference");
    close(t.dfd);
    tap(destroy(t.ifd, t.vdev) == 0 && destroy(t.ifd, t.viommu) == 0,
        "destroy: vIOMMU after munmap and vDEVICE (IF/driver.c:39)");
    close(t.ifd);
}

int main(void)
{
    char kick[16];

    if (!dlsym(RTLD_DEFAULT, "simhost_version")) {
        printf("1..0 # SKIP libsimhost.so is not preloaded\n");
        return 0;
    }
    kick_fd = eventfd(0, 0);
    snprintf(kick, sizeof(kick), "%d", kick_fd);
    setenv(SIMHOST_KICK_ENV, kick, 1);
    host_setup();
    test_core();
    test_vfio_attach();
    test_viommu();
    test_invalidate();
    test_walk();
    test_cmdqv();
    printf("1..%d\n", ntests);
    return nfailed ? 1 : 0;
}
