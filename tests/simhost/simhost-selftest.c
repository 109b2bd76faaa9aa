/*
 * Direct tests of the simulated host, no QEMU: this program is run with
 * LD_PRELOAD=libsimhost.so and talks to the simulated /dev/iommu and VFIO
 * cdev exactly as a VMM would.
 *
 * One case per rule of docs/kernel-contract.md, named after it (a rule
 * with several facets has one case per facet). Each case runs in a
 * process of its own, started afresh from this program, so it gets a
 * fresh simulated host: nothing carries over from one case to the next,
 * and a case that crashes or hangs fails alone. A case builds what it
 * needs with the fixtures below (bound device, nesting set-up, stage-1
 * tables, VINTF page) and checks one rule with CHECK().
 *
 *   simhost-selftest                 every case, TAP on stdout
 *   simhost-selftest HWQ- INV-7      only the cases whose rule starts so
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/eventfd.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/iommufd.h>
#include <linux/vfio.h>
#include "simhost-ctl.h"

/* A case gets this long before it counts as hung */
#define CASE_TIMEOUT_S  30

static SimhostCtl *ctl;
static int kick_fd;

/* Report a failed check of the running case; the case returns false */
static bool failed_at(int line, const char *what)
{
    printf("# line %d: %s (errno: %s)\n", line, what, strerror(errno));
    fflush(stdout);
    return false;
}

#define CHECK(cond) do {                                    \
        if (!(cond)) {                                      \
            return failed_at(__LINE__, #cond);              \
        }                                                   \
    } while (0)

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
    uint64_t vintf[2];          /* TEGRA241: VINTF page offset, length */
    Guest g;
} Nest;

static bool nest_setup(Nest *t, int n, uint32_t vtype, uint32_t vsid)
{
    uint64_t *tdata = t->vintf;

    memset(t, 0, sizeof(*t));
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


/* ---------------------------------------------------------------------- */
/* More fixtures                                                           */
/* ---------------------------------------------------------------------- */

static void *anon(size_t len)
{
    return mmap(NULL, len, PROT_READ | PROT_WRITE,
                MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
}

/* A device bound to a fresh iommufd, and an IOAS there */
typedef struct Bound {
    int ifd, dfd;
    uint32_t dev, ioas;
} Bound;

static bool bound(Bound *b, int n)
{
    b->ifd = new_iommufd();
    b->dfd = open_dev(n);
    return b->ifd >= 0 && b->dfd >= 0 && bind_dev(b->dfd, b->ifd, &b->dev) == 0
           && (b->ioas = ioas_alloc(b->ifd)) != 0;
}

/* A second device on the same iommufd */
static bool bind_more(int ifd, int n, int *dfd, uint32_t *dev)
{
    *dfd = open_dev(n);
    return *dfd >= 0 && bind_dev(*dfd, ifd, dev) == 0;
}

/* IOAS_IOVA_RANGES into @rg (up to @n); returns the ioctl's result */
static int iova_ranges(int ifd, uint32_t ioas, struct iommu_iova_range *rg,
                       uint32_t *n, uint64_t *align)
{
    struct iommu_ioas_iova_ranges r = { .size = sizeof(r), .ioas_id = ioas,
                                        .num_iovas = *n,
                                        .allowed_iovas = (uintptr_t)rg };
    int rc = ioctl(ifd, IOMMU_IOAS_IOVA_RANGES, &r);

    *n = r.num_iovas;
    if (align) {
        *align = r.out_iova_alignment;
    }
    return rc;
}

/*
 * A nested stage 1 for device D0 (vSID 0x42): 4K tables with IOVA
 * 0x10000000 -> a (0x11 bytes) and 0x20000000 -> b, CD with ASID 7, the
 * nested HWPT attached, and an ARM_SMMUV3 vEVENTQ of @depth.
 */
typedef struct Walk {
    Nest t;
    Pt p;
    uint64_t cd, a, a2, b;
    uint32_t nh, qid;
    int qfd;
} Walk;

#define W_SRC       0x10000000ULL
#define W_DST       0x20000000ULL
#define W_HOLE      0x30000000ULL       /* never mapped */
#define W_ASID      7
#define W_VSID      0x42

static bool walk_setup(Walk *w, uint32_t depth)
{
    if (!nest_setup(&w->t, D0, IOMMU_VIOMMU_TYPE_ARM_SMMUV3, W_VSID)) {
        return false;
    }
    w->p = pt_new(&w->t.g, 12, 48);
    w->cd = cd_build(&w->t.g, &w->p, W_ASID, true);
    w->a = galloc(&w->t.g, 4096, 4096);
    w->a2 = galloc(&w->t.g, 4096, 4096);
    w->b = galloc(&w->t.g, 4096, 4096);
    memset(gptr(&w->t.g, w->a), 0x11, 4096);
    memset(gptr(&w->t.g, w->a2), 0x22, 4096);
    pt_map(&w->p, W_SRC, w->a, 0);
    pt_map(&w->p, W_DST, w->b, 0);
    return nested_alloc(w->t.ifd, w->t.dev, w->t.viommu, ste_s1(w->cd), 0,
                        &w->nh) == 0 &&
           attach(w->t.dfd, &w->nh) == 0 &&
           veventq_alloc(w->t.ifd, w->t.viommu, IOMMU_VEVENTQ_TYPE_ARM_SMMUV3,
                         depth, &w->qid, &w->qfd) == 0;
}

/* 16 bytes from @src to @dst through the device; its status */
static uint64_t wcopy(Walk *w, uint64_t src, uint64_t dst)
{
    return dma_copy(w->t.dfd, src, dst, 16);
}

static uint8_t gbyte(Guest *g, uint64_t ipa)
{
    return *(uint8_t *)gptr(g, ipa);
}

/* One command through HWPT_INVALIDATE on the vIOMMU */
static int inval1(Nest *t, uint64_t w0, uint64_t w1)
{
    uint64_t c[1][2] = { { w0, w1 } };
    uint32_t done;

    return invalidate(t->ifd, t->viommu, c, 1, &done);
}

/* A fault by a DMA from the unmapped IOVA: one record in the vEVENTQ */
static ssize_t fault_and_read(Walk *w, uint64_t *evt, size_t len)
{
    wcopy(w, W_HOLE, W_DST);
    return read(w->qfd, evt, len);
}

/* ---------------------------------------------------------------------- */
/* GEN: every iommufd ioctl                                                */
/* ---------------------------------------------------------------------- */

static bool gen_size_short(void)
{
    int ifd = new_iommufd();
    struct iommu_ioas_alloc a = { .size = 8 };

    CHECK(FAILS(ioctl(ifd, IOMMU_IOAS_ALLOC, &a), EINVAL));
    return true;
}

static bool gen_size_tail_nonzero(void)
{
    int ifd = new_iommufd();
    uint8_t big[64] = { 0 };

    memcpy(big, &(uint32_t){ sizeof(big) }, 4);
    big[40] = 1;
    CHECK(FAILS(ioctl(ifd, IOMMU_IOAS_ALLOC, big), E2BIG));
    return true;
}

static bool gen_size_tail_zero(void)
{
    int ifd = new_iommufd();
    uint8_t big[64] = { 0 };

    memcpy(big, &(uint32_t){ sizeof(big) }, 4);
    CHECK(ioctl(ifd, IOMMU_IOAS_ALLOC, big) == 0);
    return true;
}

static bool gen_unknown_ioctl(void)
{
    int ifd = new_iommufd();
    struct iommu_ioas_alloc a = { .size = sizeof(a) };

    CHECK(FAILS(ioctl(ifd, 0x3bff, &a), ENOTTY));
    return true;
}

static bool gen_lowest_free_id(void)
{
    int ifd = new_iommufd();
    uint32_t ioas = ioas_alloc(ifd), ioas2 = ioas_alloc(ifd);

    CHECK(ioas && ioas2 == ioas + 1);
    CHECK(destroy(ifd, ioas) == 0);
    CHECK(ioas_alloc(ifd) == ioas);
    return true;
}

static bool gen_destroy_unknown(void)
{
    int ifd = new_iommufd();

    CHECK(FAILS(destroy(ifd, 999), ENOENT));
    return true;
}

/* ---------------------------------------------------------------------- */
/* IOAS                                                                    */
/* ---------------------------------------------------------------------- */

static bool ioas_alloc_flags(void)
{
    int ifd = new_iommufd();
    struct iommu_ioas_alloc a = { .size = sizeof(a), .flags = 1 };

    CHECK(FAILS(ioctl(ifd, IOMMU_IOAS_ALLOC, &a), EOPNOTSUPP));
    return true;
}

static int map_flags(int ifd, uint32_t ioas, uint32_t flags, void *buf)
{
    struct iommu_ioas_map m = { .size = sizeof(m), .ioas_id = ioas,
        .flags = flags, .user_va = (uintptr_t)buf, .length = 4096,
        .iova = 0x100000 };

    return ioctl(ifd, IOMMU_IOAS_MAP, &m);
}

static bool ioas_map_no_access(void)
{
    int ifd = new_iommufd();
    uint32_t ioas = ioas_alloc(ifd);

    CHECK(FAILS(map_flags(ifd, ioas, IOMMU_IOAS_MAP_FIXED_IOVA,
                          anon(4096)), EINVAL));
    return true;
}

static bool ioas_map_unknown_flag(void)
{
    int ifd = new_iommufd();
    uint32_t ioas = ioas_alloc(ifd);

    CHECK(FAILS(map_flags(ifd, ioas, IOMMU_IOAS_MAP_FIXED_IOVA |
                          IOMMU_IOAS_MAP_READABLE | 8, anon(4096)),
                EOPNOTSUPP));
    return true;
}

static bool ioas_map_unaligned(void)
{
    int ifd = new_iommufd();
    uint32_t ioas = ioas_alloc(ifd);

    CHECK(FAILS(map_fixed(ifd, ioas, 0x100800, anon(4096), 4096), EINVAL));
    return true;
}

static bool ioas_map_fixed(void)
{
    int ifd = new_iommufd();
    uint32_t ioas = ioas_alloc(ifd);

    CHECK(map_fixed(ifd, ioas, 0x100000, anon(0x10000), 0x10000) == 0);
    return true;
}

static bool ioas_map_overlap(void)
{
    int ifd = new_iommufd();
    uint32_t ioas = ioas_alloc(ifd);
    void *buf = anon(0x10000);

    CHECK(map_fixed(ifd, ioas, 0x100000, buf, 0x10000) == 0);
    CHECK(FAILS(map_fixed(ifd, ioas, 0x108000, buf, 0x10000), EEXIST));
    return true;
}

static bool ioas_map_overflow(void)
{
    int ifd = new_iommufd();
    uint32_t ioas = ioas_alloc(ifd);

    CHECK(FAILS(map_fixed(ifd, ioas, 0xfffffffffffff000ULL, anon(0x2000),
                          0x2000), EOVERFLOW));
    return true;
}

static bool ioas_map_unbacked(void)
{
    int ifd = new_iommufd();
    uint32_t ioas = ioas_alloc(ifd);

    CHECK(FAILS(map_fixed(ifd, ioas, 0x800000, (void *)0x1000, 4096),
                EFAULT));
    return true;
}

static bool ioas_map_unknown_ioas(void)
{
    int ifd = new_iommufd();

    CHECK(FAILS(map_fixed(ifd, 77, 0x800000, anon(4096), 4096), ENOENT));
    return true;
}

static bool ioas_map_any_iova(void)
{
    int ifd = new_iommufd();
    uint32_t ioas = ioas_alloc(ifd);
    void *buf = anon(0x10000);
    struct iommu_ioas_map m = { .size = sizeof(m), .ioas_id = ioas,
        .flags = IOMMU_IOAS_MAP_READABLE, .user_va = (uintptr_t)buf,
        .length = 0x1000 };

    CHECK(map_fixed(ifd, ioas, 0x100000, buf, 0x10000) == 0);
    CHECK(ioctl(ifd, IOMMU_IOAS_MAP, &m) == 0);
    CHECK(m.iova && !(m.iova & 0xfff));
    CHECK(m.iova + 0x1000 <= 0x100000 || m.iova >= 0x110000);
    return true;
}

/* An IOAS with 0x10000 bytes at 0x100000 */
static bool ioas_with_area(int *ifd, uint32_t *ioas)
{
    *ifd = new_iommufd();
    *ioas = ioas_alloc(*ifd);
    return *ioas && map_fixed(*ifd, *ioas, 0x100000, anon(0x10000),
                              0x10000) == 0;
}

static bool ioas_unmap_partial(void)
{
    int ifd;
    uint32_t ioas;

    CHECK(ioas_with_area(&ifd, &ioas));
    CHECK(FAILS(unmap(ifd, ioas, 0x104000, 0x1000, NULL), ENOENT));
    return true;
}

static bool ioas_unmap_nothing(void)
{
    int ifd;
    uint32_t ioas;

    CHECK(ioas_with_area(&ifd, &ioas));
    CHECK(FAILS(unmap(ifd, ioas, 0x900000, 0x1000, NULL), ENOENT));
    return true;
}

static bool ioas_unmap_zero(void)
{
    int ifd;
    uint32_t ioas;

    CHECK(ioas_with_area(&ifd, &ioas));
    CHECK(FAILS(unmap(ifd, ioas, 0x100000, 0, NULL), EINVAL));
    return true;
}

static bool ioas_unmap_length_out(void)
{
    int ifd;
    uint32_t ioas;
    uint64_t done = 0;

    CHECK(ioas_with_area(&ifd, &ioas));
    CHECK(unmap(ifd, ioas, 0x100000, 0x10000, &done) == 0);
    CHECK(done == 0x10000);
    return true;
}

static bool ioas_unmap_all(void)
{
    int ifd;
    uint32_t ioas;
    uint64_t done = 0;

    CHECK(ioas_with_area(&ifd, &ioas));
    CHECK(map_fixed(ifd, ioas, 0x400000, anon(0x1000), 0x1000) == 0);
    CHECK(unmap(ifd, ioas, 0, UINT64_MAX, &done) == 0);
    CHECK(done == 0x11000);
    CHECK(FAILS(unmap(ifd, ioas, 0x100000, 0x10000, NULL), ENOENT));
    return true;
}

static bool ioas_unmap_all_empty(void)
{
    int ifd = new_iommufd();
    uint32_t ioas = ioas_alloc(ifd);
    uint64_t done = 1;

    CHECK(unmap(ifd, ioas, 0, UINT64_MAX, &done) == 0);
    CHECK(done == 0);
    return true;
}

static bool ioas_ranges_unattached(void)
{
    int ifd = new_iommufd();
    uint32_t ioas = ioas_alloc(ifd), n = 2;
    struct iommu_iova_range rg[2];
    uint64_t align;

    CHECK(iova_ranges(ifd, ioas, rg, &n, &align) == 0);
    CHECK(n == 1 && rg[0].start == 0 && rg[0].last == UINT64_MAX);
    CHECK(align == 4096);
    return true;
}

static bool ioas_ranges_small_buffer(void)
{
    Bound b;
    uint32_t pt, n = 0;

    CHECK(bound(&b, D0));
    pt = b.ioas;
    CHECK(attach(b.dfd, &pt) == 0);
    CHECK(FAILS(iova_ranges(b.ifd, b.ioas, NULL, &n, NULL), EMSGSIZE));
    CHECK(n == 2);
    return true;
}

static bool ioas_ranges_attached(void)
{
    Bound b;
    uint32_t pt, n = 8;
    struct iommu_iova_range rg[8];

    CHECK(bound(&b, D0));
    pt = b.ioas;
    CHECK(attach(b.dfd, &pt) == 0);
    CHECK(iova_ranges(b.ifd, b.ioas, rg, &n, NULL) == 0);
    CHECK(n == 2);
    CHECK(rg[0].start == 0 && rg[0].last == SIMHOST_SW_MSI_BASE - 1);
    CHECK(rg[1].start == SIMHOST_SW_MSI_BASE + SIMHOST_SW_MSI_SIZE &&
          rg[1].last == (1ULL << 48) - 1);
    return true;
}

static int option_set(int ifd, uint32_t id, uint32_t obj, uint64_t val)
{
    struct iommu_option o = { .size = sizeof(o), .option_id = id,
                              .op = IOMMU_OPTION_OP_SET, .object_id = obj,
                              .val64 = val };

    return ioctl(ifd, IOMMU_OPTION, &o);
}

static bool ioas_option_unknown(void)
{
    int ifd = new_iommufd();
    uint32_t ioas = ioas_alloc(ifd);

    CHECK(FAILS(option_set(ifd, 2, ioas, 0), EOPNOTSUPP));
    return true;
}

static bool ioas_option_huge_pages(void)
{
    int ifd = new_iommufd();
    uint32_t ioas = ioas_alloc(ifd);

    CHECK(option_set(ifd, IOMMU_OPTION_HUGE_PAGES, ioas, 1) == 0);
    return true;
}

static bool ioas_change_process_empty(void)
{
    int ifd = new_iommufd();
    struct iommu_ioas_change_process c = { .size = sizeof(c) };

    CHECK(ioas_alloc(ifd));
    CHECK(ioctl(ifd, IOMMU_IOAS_CHANGE_PROCESS, &c) == 0);
    return true;
}

static bool ioas_change_process_user_va(void)
{
    int ifd;
    uint32_t ioas;
    struct iommu_ioas_change_process c = { .size = sizeof(c) };

    CHECK(ioas_with_area(&ifd, &ioas));
    CHECK(FAILS(ioctl(ifd, IOMMU_IOAS_CHANGE_PROCESS, &c), EINVAL));
    return true;
}

/* ---------------------------------------------------------------------- */
/* VFIO cdev and the simulated function                                    */
/* ---------------------------------------------------------------------- */

static bool vfio_ioctl_unbound(void)
{
    int dfd = open_dev(D0);
    struct vfio_device_info info = { .argsz = sizeof(info) };

    CHECK(FAILS(ioctl(dfd, VFIO_DEVICE_GET_INFO, &info), EINVAL));
    return true;
}

static bool vfio_region_unbound(void)
{
    int dfd = open_dev(D0);
    uint64_t v;

    CHECK(FAILS(pread(dfd, &v, 8, 0), EINVAL));
    return true;
}

static bool vfio_bind_not_iommufd(void)
{
    int dfd = open_dev(D0), other = open_dev(D1);
    uint32_t dev;

    CHECK(FAILS(bind_dev(dfd, other, &dev), EBADF));
    return true;
}

static bool vfio_bind(void)
{
    int ifd = new_iommufd(), dfd = open_dev(D0);
    uint32_t dev = 0;

    CHECK(bind_dev(dfd, ifd, &dev) == 0);
    CHECK(dev != 0 && ctl->dev_bound[D0]);
    return true;
}

static bool vfio_bind_twice(void)
{
    Bound b;
    uint32_t dev;

    CHECK(bound(&b, D0));
    CHECK(FAILS(bind_dev(b.dfd, b.ifd, &dev), EINVAL));
    return true;
}

static bool vfio_get_info(void)
{
    Bound b;
    struct vfio_device_info info = { .argsz = sizeof(info) };

    CHECK(bound(&b, D0));
    CHECK(ioctl(b.dfd, VFIO_DEVICE_GET_INFO, &info) == 0);
    CHECK(info.flags & VFIO_DEVICE_FLAGS_PCI);
    CHECK(info.flags & VFIO_DEVICE_FLAGS_RESET);
    CHECK(info.num_regions == VFIO_PCI_NUM_REGIONS);
    CHECK(info.num_irqs == VFIO_PCI_NUM_IRQS);
    return true;
}

static bool fn_bar0(void)
{
    Bound b;
    struct vfio_region_info ri = { .argsz = sizeof(ri),
                                   .index = VFIO_PCI_BAR0_REGION_INDEX };

    CHECK(bound(&b, D0));
    CHECK(ioctl(b.dfd, VFIO_DEVICE_GET_REGION_INFO, &ri) == 0);
    CHECK(ri.size == SIMHOST_BAR0_SIZE);
    CHECK(!(ri.flags & VFIO_REGION_INFO_FLAG_MMAP));
    return true;
}

static bool fn_id(void)
{
    Bound b;
    uint64_t v = 0;

    CHECK(bound(&b, D0));
    CHECK(pread(b.dfd, &v, 8, 0) == 8);
    CHECK(v == SIMHOST_DMA_ID);
    return true;
}

static bool vfio_region_index(void)
{
    Bound b;
    struct vfio_region_info ri = { .argsz = sizeof(ri), .index = 99 };

    CHECK(bound(&b, D0));
    CHECK(FAILS(ioctl(b.dfd, VFIO_DEVICE_GET_REGION_INFO, &ri), EINVAL));
    return true;
}

static bool vfio_irqs_missing(void)
{
    Bound b;
    struct {
        struct vfio_irq_set s;
        int32_t fd;
    } irq = { { .argsz = sizeof(irq), .index = VFIO_PCI_MSIX_IRQ_INDEX,
                .flags = VFIO_IRQ_SET_DATA_EVENTFD |
                         VFIO_IRQ_SET_ACTION_TRIGGER, .count = 1 }, -1 };

    CHECK(bound(&b, D0));
    CHECK(FAILS(ioctl(b.dfd, VFIO_DEVICE_SET_IRQS, &irq), EINVAL));
    return true;
}

static bool vfio_feature(void)
{
    Bound b;
    struct vfio_device_feature f = { .argsz = sizeof(f),
        .flags = VFIO_DEVICE_FEATURE_PROBE |
                 VFIO_DEVICE_FEATURE_MIGRATION };

    CHECK(bound(&b, D0));
    CHECK(FAILS(ioctl(b.dfd, VFIO_DEVICE_FEATURE, &f), ENOTTY));
    return true;
}

static bool vfio_close_unbinds(void)
{
    Bound b;
    uint32_t pt;

    CHECK(bound(&b, D0));
    pt = b.ioas;
    CHECK(attach(b.dfd, &pt) == 0);
    CHECK(ctl->dev_bound[D0] && ctl->dev_attached[D0]);
    close(b.dfd);
    CHECK(ctl->dev_bound[D0] == 0 && ctl->dev_attached[D0] == 0);
    return true;
}

/* D1 bound, with a vDEVICE in @t's vIOMMU, its cdev then closed */
static bool close_with_vdevice(Nest *t, uint32_t *vd)
{
    int dfd;
    uint32_t dev, pt;

    if (!nest_setup(t, D0, IOMMU_VIOMMU_TYPE_ARM_SMMUV3, 0x10) ||
        !bind_more(t->ifd, D1, &dfd, &dev)) {
        return false;
    }
    pt = t->ioas;
    if (vdevice_alloc(t->ifd, t->viommu, dev, 0x20, vd) ||
        attach(dfd, &pt)) {
        return false;
    }
    close(dfd);
    return true;
}

static bool vfio_close_vdevice_leaks(void)
{
    Nest t;
    uint32_t vd;

    CHECK(close_with_vdevice(&t, &vd));
    CHECK(ctl->vdev_leaked_on_close == 1);
    return true;
}

static bool vfio_close_vdevice_destroy(void)
{
    Nest t;
    uint32_t vd;

    CHECK(close_with_vdevice(&t, &vd));
    CHECK(destroy(t.ifd, vd) == 0);
    return true;
}

static bool vfio_irqs_msi(void)
{
    Bound b;
    struct {
        struct vfio_irq_set s;
        int32_t fd;
    } irq = { { .argsz = sizeof(irq), .index = VFIO_PCI_MSI_IRQ_INDEX,
                .flags = VFIO_IRQ_SET_DATA_EVENTFD |
                         VFIO_IRQ_SET_ACTION_TRIGGER, .count = 1 },
              eventfd(0, EFD_NONBLOCK) };

    CHECK(bound(&b, D0));
    CHECK(ioctl(b.dfd, VFIO_DEVICE_SET_IRQS, &irq) == 0);
    return true;
}

/* A nested S1 attached, then replaced by bypass, then by abort */
static bool vfio_replace(bool to_abort)
{
    Nest t;
    uint32_t s1, byp, ab, tmp;

    CHECK(nest_setup(&t, D0, IOMMU_VIOMMU_TYPE_ARM_SMMUV3, 0x10));
    CHECK(nested_alloc(t.ifd, t.dev, t.viommu, 1 | 5 << 1 | 0x40001000, 0,
                       &s1) == 0);
    CHECK(nested_alloc(t.ifd, t.dev, t.viommu, 1 | 4 << 1, 0, &byp) == 0);
    CHECK(nested_alloc(t.ifd, t.dev, t.viommu, 1, 0, &ab) == 0);
    tmp = s1;
    CHECK(attach(t.dfd, &tmp) == 0 && ctl->dev_attached[D0] == s1);
    tmp = byp;
    CHECK(attach(t.dfd, &tmp) == 0 && ctl->dev_attached[D0] == byp);
    if (to_abort) {
        tmp = ab;
        CHECK(attach(t.dfd, &tmp) == 0 && ctl->dev_attached[D0] == ab);
        CHECK(ctl->dev_attach_kind[D0] == SIMHOST_ATTACH_NESTED);
        CHECK(((ctl->dev_ste[D0][0] >> 1) & 7) == 0);
    } else {
        CHECK(((ctl->dev_ste[D0][0] >> 1) & 7) == 4);
    }
    return true;
}

static bool vfio_replace_bypass(void)
{
    return vfio_replace(false);
}

static bool vfio_replace_abort(void)
{
    return vfio_replace(true);
}

/* ---------------------------------------------------------------------- */
/* Attach and the SW_MSI reservation                                       */
/* ---------------------------------------------------------------------- */

static bool att_msi_window_free(void)
{
    Bound b;

    CHECK(bound(&b, D0));
    CHECK(map_fixed(b.ifd, b.ioas, SIMHOST_SW_MSI_BASE, anon(4096),
                    0x1000) == 0);
    return true;
}

static bool att_msi_window_in_use(void)
{
    Bound b;
    uint32_t pt;

    CHECK(bound(&b, D0));
    CHECK(map_fixed(b.ifd, b.ioas, SIMHOST_SW_MSI_BASE, anon(4096),
                    0x1000) == 0);
    pt = b.ioas;
    CHECK(FAILS(attach(b.dfd, &pt), EADDRINUSE));
    return true;
}

static bool att_auto_domain(void)
{
    Bound b;
    uint32_t pt;

    CHECK(bound(&b, D0));
    pt = b.ioas;
    CHECK(attach(b.dfd, &pt) == 0);
    CHECK(pt != b.ioas && ctl->dev_attached[D0] == pt);
    return true;
}

static bool att_map_reserved(void)
{
    Bound b;
    uint32_t pt;

    CHECK(bound(&b, D0));
    pt = b.ioas;
    CHECK(attach(b.dfd, &pt) == 0);
    CHECK(FAILS(map_fixed(b.ifd, b.ioas, 0x80ff000, anon(0x2000), 0x2000),
                EINVAL));
    return true;
}

static bool att_detach_unreserves(void)
{
    Bound b;
    uint32_t pt;

    CHECK(bound(&b, D0));
    pt = b.ioas;
    CHECK(attach(b.dfd, &pt) == 0);
    CHECK(detach(b.dfd) == 0 && ctl->dev_attached[D0] == 0);
    CHECK(map_fixed(b.ifd, b.ioas, SIMHOST_SW_MSI_BASE, anon(4096),
                    0x1000) == 0);
    return true;
}

static bool att_auto_domain_freed(void)
{
    Bound b;
    uint32_t pt, live0;

    CHECK(bound(&b, D0));
    live0 = ctl->live_objects;
    pt = b.ioas;
    CHECK(attach(b.dfd, &pt) == 0);
    CHECK(ctl->live_objects == live0 + 1);
    CHECK(detach(b.dfd) == 0);
    CHECK(ctl->live_objects == live0);
    return true;
}

static bool att_other_smmu(void)
{
    Bound b;
    int dfd3;
    uint32_t dev3, hw;

    CHECK(bound(&b, D0));
    CHECK(hwpt_alloc(b.ifd, b.dev, b.ioas, IOMMU_HWPT_ALLOC_NEST_PARENT, 0,
                     NULL, 0, &hw) == 0);
    CHECK(bind_more(b.ifd, D_NONEST, &dfd3, &dev3));
    CHECK(FAILS(attach(dfd3, &hw), EINVAL));
    return true;
}

static bool att_s1_needs_vdevice(void)
{
    Bound b;
    uint32_t s2, v, nh;

    CHECK(bound(&b, D0));
    CHECK(hwpt_alloc(b.ifd, b.dev, b.ioas, IOMMU_HWPT_ALLOC_NEST_PARENT, 0,
                     NULL, 0, &s2) == 0);
    CHECK(viommu_alloc(b.ifd, b.dev, s2, IOMMU_VIOMMU_TYPE_ARM_SMMUV3, NULL,
                       0, &v) == 0);
    CHECK(nested_alloc(b.ifd, b.dev, v, 1 | 5 << 1 | 0x40001000, 1ULL << 28,
                       &nh) == 0);
    CHECK(FAILS(attach(b.dfd, &nh), ENOENT));
    return true;
}

static bool att_captures_vsid(void)
{
    Nest t;
    uint32_t nh;

    CHECK(nest_setup(&t, D0, IOMMU_VIOMMU_TYPE_ARM_SMMUV3, 0x10));
    CHECK(nested_alloc(t.ifd, t.dev, t.viommu, 1 | 5 << 1 | 0x40001000,
                       1ULL << 28, &nh) == 0);
    CHECK(attach(t.dfd, &nh) == 0);
    CHECK(ctl->dev_attach_kind[D0] == SIMHOST_ATTACH_NESTED);
    CHECK(ctl->dev_vsid_valid[D0] && ctl->dev_vsid[D0] == 0x10);
    return true;
}

/* ---------------------------------------------------------------------- */
/* REF: what DESTROY refuses                                               */
/* ---------------------------------------------------------------------- */

static bool ref_ioas_with_hwpt(void)
{
    Bound b;
    uint32_t pt;

    CHECK(bound(&b, D0));
    pt = b.ioas;
    CHECK(attach(b.dfd, &pt) == 0);
    CHECK(FAILS(destroy(b.ifd, b.ioas), EBUSY));
    return true;
}

static bool ref_hwpt_attached(void)
{
    Bound b;
    uint32_t pt;

    CHECK(bound(&b, D0));
    pt = b.ioas;
    CHECK(attach(b.dfd, &pt) == 0);
    CHECK(FAILS(destroy(b.ifd, pt), EBUSY));
    return true;
}

static bool ref_bound_device(void)
{
    Bound b;

    CHECK(bound(&b, D0));
    CHECK(FAILS(destroy(b.ifd, b.dev), EBUSY));
    return true;
}

static bool ref_parent_under_viommu(void)
{
    Nest t;

    CHECK(nest_setup(&t, D0, IOMMU_VIOMMU_TYPE_ARM_SMMUV3, 0x10));
    CHECK(FAILS(destroy(t.ifd, t.s2), EBUSY));
    return true;
}

static bool ref_nested_attached(void)
{
    Nest t;
    uint32_t ab, tmp;

    CHECK(nest_setup(&t, D0, IOMMU_VIOMMU_TYPE_ARM_SMMUV3, 0x10));
    CHECK(nested_alloc(t.ifd, t.dev, t.viommu, 1, 0, &ab) == 0);
    tmp = ab;
    CHECK(attach(t.dfd, &tmp) == 0);
    CHECK(FAILS(destroy(t.ifd, ab), EBUSY));
    return true;
}

static bool ref_viommu_in_use(void)
{
    Nest t;
    uint32_t nh;

    CHECK(nest_setup(&t, D0, IOMMU_VIOMMU_TYPE_ARM_SMMUV3, 0x10));
    CHECK(nested_alloc(t.ifd, t.dev, t.viommu, 1 | 4 << 1, 0, &nh) == 0);
    CHECK(FAILS(destroy(t.ifd, t.viommu), EBUSY));
    return true;
}

/* ---------------------------------------------------------------------- */
/* HWPT_ALLOC                                                              */
/* ---------------------------------------------------------------------- */

static bool hwpt_none_with_data(void)
{
    Bound b;
    uint32_t hw;

    CHECK(bound(&b, D0));
    CHECK(FAILS(hwpt_alloc(b.ifd, b.dev, b.ioas, 0, 0, anon(4096), 16, &hw),
                EINVAL));
    return true;
}

static bool hwpt_type_without_data(void)
{
    Bound b;
    uint32_t hw;

    CHECK(bound(&b, D0));
    CHECK(FAILS(hwpt_alloc(b.ifd, b.dev, b.ioas, 0, IOMMU_HWPT_DATA_ARM_SMMUV3,
                           anon(4096), 0, &hw), EINVAL));
    return true;
}

static bool hwpt_arm_flags(void)
{
    Bound b;
    uint32_t hw;

    CHECK(bound(&b, D0));
    CHECK(FAILS(hwpt_alloc(b.ifd, b.dev, b.ioas, IOMMU_HWPT_ALLOC_NEST_PARENT |
                           IOMMU_HWPT_ALLOC_DIRTY_TRACKING, 0, NULL, 0, &hw),
                EOPNOTSUPP));
    return true;
}

static bool hwpt_dirty_without_httu(void)
{
    Bound b;
    uint32_t hw;

    CHECK(bound(&b, D0));
    CHECK(FAILS(hwpt_alloc(b.ifd, b.dev, b.ioas,
                           IOMMU_HWPT_ALLOC_DIRTY_TRACKING, 0, NULL, 0, &hw),
                EOPNOTSUPP));
    return true;
}

static bool hwpt_unknown_flag(void)
{
    Bound b;
    uint32_t hw;

    CHECK(bound(&b, D0));
    CHECK(FAILS(hwpt_alloc(b.ifd, b.dev, b.ioas, 1u << 7, 0, NULL, 0, &hw),
                EOPNOTSUPP));
    return true;
}

static bool hwpt_paging_with_data(void)
{
    Bound b;
    uint32_t hw;

    CHECK(bound(&b, D0));
    CHECK(FAILS(hwpt_alloc(b.ifd, b.dev, b.ioas, 0, IOMMU_HWPT_DATA_ARM_SMMUV3,
                           anon(4096), 16, &hw), EOPNOTSUPP));
    return true;
}

static bool hwpt_nest_parent(void)
{
    Bound b;
    uint32_t hw;

    CHECK(bound(&b, D0));
    CHECK(hwpt_alloc(b.ifd, b.dev, b.ioas, IOMMU_HWPT_ALLOC_NEST_PARENT, 0,
                     NULL, 0, &hw) == 0);
    CHECK(hw != 0);
    return true;
}

static bool hwpt_nest_parent_no_nesting(void)
{
    Bound b;
    uint32_t hw;

    CHECK(bound(&b, D_NONEST));
    CHECK(FAILS(hwpt_alloc(b.ifd, b.dev, b.ioas, IOMMU_HWPT_ALLOC_NEST_PARENT,
                           0, NULL, 0, &hw), EOPNOTSUPP));
    return true;
}

static bool hwpt_nested_on_paging(void)
{
    Bound b;
    uint32_t hw, nh;

    CHECK(bound(&b, D0));
    CHECK(hwpt_alloc(b.ifd, b.dev, b.ioas, IOMMU_HWPT_ALLOC_NEST_PARENT, 0,
                     NULL, 0, &hw) == 0);
    CHECK(FAILS(nested_alloc(b.ifd, b.dev, hw, 1, 0, &nh), EOPNOTSUPP));
    return true;
}

static bool hwpt_unknown_dev(void)
{
    Bound b;
    uint32_t hw;

    CHECK(bound(&b, D0));
    CHECK(FAILS(hwpt_alloc(b.ifd, 999, b.ioas, 0, 0, NULL, 0, &hw), ENOENT));
    return true;
}

/* A nested HWPT alloc on @t's vIOMMU with raw parameters */
static int nested_raw(Nest *t, uint32_t dev, uint32_t flags, uint32_t type,
                      uint32_t len)
{
    struct iommu_hwpt_arm_smmuv3 s = { .ste = { 1 | 5 << 1, 0 } };
    uint32_t nh;

    return hwpt_alloc(t->ifd, dev, t->viommu, flags, type, &s, len, &nh);
}

static bool hwpt_nested_short(void)
{
    Nest t;

    CHECK(nest_setup(&t, D0, IOMMU_VIOMMU_TYPE_ARM_SMMUV3, 0x10));
    CHECK(FAILS(nested_raw(&t, t.dev, 0, IOMMU_HWPT_DATA_ARM_SMMUV3, 8),
                EINVAL));
    return true;
}

static bool hwpt_nested_flags(void)
{
    Nest t;

    CHECK(nest_setup(&t, D0, IOMMU_VIOMMU_TYPE_ARM_SMMUV3, 0x10));
    CHECK(FAILS(nested_raw(&t, t.dev, IOMMU_HWPT_ALLOC_PASID,
                           IOMMU_HWPT_DATA_ARM_SMMUV3, 16), EOPNOTSUPP));
    return true;
}

static bool hwpt_nested_type(void)
{
    Nest t;

    CHECK(nest_setup(&t, D0, IOMMU_VIOMMU_TYPE_ARM_SMMUV3, 0x10));
    CHECK(FAILS(nested_raw(&t, t.dev, 0, IOMMU_HWPT_DATA_VTD_S1, 16),
                EINVAL));
    return true;
}

static bool hwpt_nested_other_smmu(void)
{
    Nest t;
    int dfdc;
    uint32_t devc;

    CHECK(nest_setup(&t, D0, IOMMU_VIOMMU_TYPE_ARM_SMMUV3, 0x10));
    CHECK(bind_more(t.ifd, D_CMDQV, &dfdc, &devc));
    CHECK(FAILS(nested_raw(&t, devc, 0, IOMMU_HWPT_DATA_ARM_SMMUV3, 16),
                EINVAL));
    return true;
}

/* ---------------------------------------------------------------------- */
/* GET_HW_INFO                                                             */
/* ---------------------------------------------------------------------- */

static int hw_info(int ifd, uint32_t dev, uint32_t flags, uint32_t type,
                   void *buf, uint32_t *len, uint32_t *out_type,
                   uint64_t *caps)
{
    struct iommu_hw_info h = { .size = sizeof(h), .dev_id = dev,
                               .flags = flags, .in_data_type = type,
                               .data_uptr = (uintptr_t)buf,
                               .data_len = *len };
    int rc = ioctl(ifd, IOMMU_GET_HW_INFO, &h);

    *len = h.data_len;
    if (out_type) {
        *out_type = h.out_data_type;
    }
    if (caps) {
        *caps = h.out_capabilities;
    }
    return rc;
}

static bool info_arm(void)
{
    Bound b;
    struct iommu_hw_info_arm_smmuv3 arm;
    uint32_t len = sizeof(arm), type = 0;

    CHECK(bound(&b, D0));
    memset(&arm, 0xff, sizeof(arm));
    CHECK(hw_info(b.ifd, b.dev, 0, 0, &arm, &len, &type, NULL) == 0);
    CHECK(type == IOMMU_HW_INFO_TYPE_ARM_SMMUV3);
    CHECK(!memcmp(arm.idr, ctl->smmu[0].idr, sizeof(arm.idr)));
    CHECK(arm.iidr == ctl->smmu[0].iidr && arm.aidr == ctl->smmu[0].aidr);
    CHECK(arm.flags == 0);
    return true;
}

static bool info_ats_caps(void)
{
    Bound b;
    int dfd1;
    uint32_t dev1, len = 0;
    uint64_t caps0 = 0, caps1 = ~0ULL;

    CHECK(bound(&b, D0));
    CHECK(bind_more(b.ifd, D1, &dfd1, &dev1));
    CHECK(hw_info(b.ifd, b.dev, 0, 0, NULL, &len, NULL, &caps0) == 0);
    len = 0;
    CHECK(hw_info(b.ifd, dev1, 0, 0, NULL, &len, NULL, &caps1) == 0);
    CHECK(caps0 & (1u << 3));           /* D0: no ATS */
    CHECK(!(caps1 & (1u << 3)));        /* D1: ATS */
    return true;
}

static bool info_tail_zeroed(void)
{
    Bound b;
    uint8_t big[64];
    uint32_t len = sizeof(big);

    CHECK(bound(&b, D0));
    memset(big, 0xff, sizeof(big));
    CHECK(hw_info(b.ifd, b.dev, 0, 0, big, &len, NULL, NULL) == 0);
    CHECK(len == 40 && big[40] == 0 && big[63] == 0);
    return true;
}

static bool info_len_zero(void)
{
    Bound b;
    uint32_t len = 0;

    CHECK(bound(&b, D0));
    CHECK(hw_info(b.ifd, b.dev, 0, 0, anon(4096), &len, NULL, NULL) == 0);
    CHECK(len == 40);
    return true;
}

static bool info_tegra_absent(void)
{
    Bound b;
    struct iommu_hw_info_tegra241_cmdqv teg;
    uint32_t len = sizeof(teg);

    CHECK(bound(&b, D0));
    CHECK(FAILS(hw_info(b.ifd, b.dev, IOMMU_HW_INFO_FLAG_INPUT_TYPE,
                        IOMMU_HW_INFO_TYPE_TEGRA241_CMDQV, &teg, &len, NULL,
                        NULL), EOPNOTSUPP));
    return true;
}

static bool info_tegra(void)
{
    Bound b;
    struct iommu_hw_info_tegra241_cmdqv teg;
    uint32_t len = sizeof(teg), type = 0;

    CHECK(bound(&b, D_CMDQV));
    CHECK(hw_info(b.ifd, b.dev, IOMMU_HW_INFO_FLAG_INPUT_TYPE,
                  IOMMU_HW_INFO_TYPE_TEGRA241_CMDQV, &teg, &len, &type,
                  NULL) == 0);
    CHECK(type == IOMMU_HW_INFO_TYPE_TEGRA241_CMDQV);
    CHECK(teg.version == 1 && teg.log2vcmdqs == 1 && teg.log2vsids == 4);
    return true;
}

static bool info_unknown_flag(void)
{
    Bound b;
    uint32_t len = 0;

    CHECK(bound(&b, D0));
    CHECK(FAILS(hw_info(b.ifd, b.dev, 2, 0, NULL, &len, NULL, NULL),
                EOPNOTSUPP));
    return true;
}

static bool info_reserved(void)
{
    Bound b;
    struct iommu_hw_info h = { .size = sizeof(h) };

    CHECK(bound(&b, D0));
    h.dev_id = b.dev;
    h.__reserved[1] = 1;
    CHECK(FAILS(ioctl(b.ifd, IOMMU_GET_HW_INFO, &h), EOPNOTSUPP));
    return true;
}

/* ---------------------------------------------------------------------- */
/* vIOMMU, vDEVICE, vSTE                                                   */
/* ---------------------------------------------------------------------- */

/* D0 bound with a nesting parent @s2 (and a plain paging HWPT @pg) */
static bool parent_setup(Bound *b, uint32_t *s2, uint32_t *pg)
{
    return bound(b, D0) &&
           hwpt_alloc(b->ifd, b->dev, b->ioas, IOMMU_HWPT_ALLOC_NEST_PARENT, 0,
                      NULL, 0, s2) == 0 &&
           hwpt_alloc(b->ifd, b->dev, b->ioas, 0, 0, NULL, 0, pg) == 0;
}

static bool viommu_default(void)
{
    Bound b;
    uint32_t s2, pg, v;

    CHECK(parent_setup(&b, &s2, &pg));
    CHECK(FAILS(viommu_alloc(b.ifd, b.dev, s2, IOMMU_VIOMMU_TYPE_DEFAULT,
                             NULL, 0, &v), EOPNOTSUPP));
    return true;
}

static bool viommu_flags(void)
{
    Bound b;
    uint32_t s2, pg;
    struct iommu_viommu_alloc a = { .size = sizeof(a), .flags = 1,
                                    .type = IOMMU_VIOMMU_TYPE_ARM_SMMUV3 };

    CHECK(parent_setup(&b, &s2, &pg));
    a.dev_id = b.dev;
    a.hwpt_id = s2;
    CHECK(FAILS(ioctl(b.ifd, IOMMU_VIOMMU_ALLOC, &a), EOPNOTSUPP));
    return true;
}

static bool viommu_not_parent(void)
{
    Bound b;
    uint32_t s2, pg, v;

    CHECK(parent_setup(&b, &s2, &pg));
    CHECK(FAILS(viommu_alloc(b.ifd, b.dev, pg, IOMMU_VIOMMU_TYPE_ARM_SMMUV3,
                             NULL, 0, &v), EINVAL));
    return true;
}

static bool viommu_other_smmu(void)
{
    Bound b;
    int dfdc;
    uint32_t s2, pg, devc, s2c, v;

    CHECK(parent_setup(&b, &s2, &pg));
    CHECK(bind_more(b.ifd, D_CMDQV, &dfdc, &devc));
    CHECK(hwpt_alloc(b.ifd, devc, b.ioas, IOMMU_HWPT_ALLOC_NEST_PARENT, 0,
                     NULL, 0, &s2c) == 0);
    CHECK(FAILS(viommu_alloc(b.ifd, b.dev, s2c, IOMMU_VIOMMU_TYPE_ARM_SMMUV3,
                             NULL, 0, &v), EINVAL));
    return true;
}

static bool viommu_tegra_absent(void)
{
    Bound b;
    uint32_t s2, pg, v;
    uint64_t tdata[2];

    CHECK(parent_setup(&b, &s2, &pg));
    CHECK(FAILS(viommu_alloc(b.ifd, b.dev, s2,
                             IOMMU_VIOMMU_TYPE_TEGRA241_CMDQV, tdata, 16, &v),
                EOPNOTSUPP));
    return true;
}

static bool viommu_arm(void)
{
    Bound b;
    uint32_t s2, pg, v = 0;

    CHECK(parent_setup(&b, &s2, &pg));
    CHECK(viommu_alloc(b.ifd, b.dev, s2, IOMMU_VIOMMU_TYPE_ARM_SMMUV3, NULL,
                       0, &v) == 0);
    CHECK(v != 0);
    return true;
}

/* vSTE words refused or taken by a nested HWPT alloc */
static int vste(uint64_t s0, uint64_t s1)
{
    Nest t;
    uint32_t nh;

    if (!nest_setup(&t, D0, IOMMU_VIOMMU_TYPE_ARM_SMMUV3, 0x10)) {
        errno = 0;
        return -2;
    }
    return nested_alloc(t.ifd, t.dev, t.viommu, s0, s1, &nh);
}

static bool vste_word0_bit(void)
{
    CHECK(FAILS(vste(1 | 5 << 1 | 1ULL << 56, 0), EIO));
    return true;
}

static bool vste_word1_bit(void)
{
    CHECK(FAILS(vste(1 | 5 << 1, 1ULL << 19), EIO));
    return true;
}

static bool vste_config_s2(void)
{
    CHECK(FAILS(vste(1 | 6 << 1, 0), EIO));
    return true;
}

static bool vste_config_nested(void)
{
    CHECK(FAILS(vste(1 | 7 << 1, 0), EIO));
    return true;
}

static bool vste_eats_s1chk(void)
{
    CHECK(FAILS(vste(1 | 5 << 1, 2ULL << 28), EIO));
    return true;
}

static bool vste_invalid_taken(void)
{
    Nest t;
    uint32_t nh;

    CHECK(nest_setup(&t, D0, IOMMU_VIOMMU_TYPE_ARM_SMMUV3, 0x10));
    CHECK(nested_alloc(t.ifd, t.dev, t.viommu, 0xdead0000ULL << 4, 0,
                       &nh) == 0);
    CHECK(attach(t.dfd, &nh) == 0);
    CHECK(ctl->dev_ste[D0][0] == 0 && ctl->dev_ste[D0][1] == 0);
    return true;
}

static bool vste_eats_trans(void)
{
    CHECK(vste(1 | 5 << 1 | 0x40001000, 1ULL << 28) == 0);
    return true;
}

static bool vste_eats_stripped(void)
{
    Nest t;
    uint32_t nh;

    CHECK(nest_setup(&t, D0, IOMMU_VIOMMU_TYPE_ARM_SMMUV3, 0x10));
    CHECK(nested_alloc(t.ifd, t.dev, t.viommu, 1 | 5 << 1 | 0x40001000,
                       1ULL << 28, &nh) == 0);
    CHECK(attach(t.dfd, &nh) == 0);
    CHECK(ctl->dev_ste[D0][0] == (1 | 5 << 1 | 0x40001000));
    CHECK(!(ctl->dev_ste[D0][1] & (3ULL << 28)));
    return true;
}

/* Device @n attached to a stage-1 vSTE with EATS = 1: physical ATS? */
static bool eats_trans_ats(int n, bool *ats)
{
    Nest t;
    uint32_t nh;

    if (!nest_setup(&t, n, IOMMU_VIOMMU_TYPE_ARM_SMMUV3, 0x10) ||
        nested_alloc(t.ifd, t.dev, t.viommu, 1 | 5 << 1 | 0x40001000,
                     1ULL << 28, &nh) || attach(t.dfd, &nh)) {
        return false;
    }
    *ats = ctl->dev_ats_enabled[n];
    return true;
}

static bool vste_ats_without(void)
{
    bool ats;

    CHECK(eats_trans_ats(D0, &ats));        /* D0: no ATS */
    CHECK(!ats);
    return true;
}

static bool vste_ats_with(void)
{
    bool ats;

    CHECK(eats_trans_ats(D1, &ats));        /* D1: ATS */
    CHECK(ats);
    return true;
}

/* D0 bound, a vIOMMU on its nesting parent, no vDEVICE yet */
static bool vdev_setup(Bound *b, uint32_t *v)
{
    uint32_t s2, pg;

    return parent_setup(b, &s2, &pg) &&
           viommu_alloc(b->ifd, b->dev, s2, IOMMU_VIOMMU_TYPE_ARM_SMMUV3,
                        NULL, 0, v) == 0;
}

static bool vdev_other_smmu(void)
{
    Bound b;
    int dfdc;
    uint32_t v, devc, vd;

    CHECK(vdev_setup(&b, &v));
    CHECK(bind_more(b.ifd, D_CMDQV, &dfdc, &devc));
    CHECK(FAILS(vdevice_alloc(b.ifd, v, devc, 0x10, &vd), EINVAL));
    return true;
}

static bool vdev_multi_stream(void)
{
    Bound b;
    int dfdm;
    uint32_t v, devm, vd;

    CHECK(vdev_setup(&b, &v));
    CHECK(bind_more(b.ifd, D_MULTI, &dfdm, &devm));
    CHECK(FAILS(vdevice_alloc(b.ifd, v, devm, 0x11, &vd), EOPNOTSUPP));
    return true;
}

static bool vdev_alloc(void)
{
    Bound b;
    uint32_t v, vd = 0;

    CHECK(vdev_setup(&b, &v));
    CHECK(vdevice_alloc(b.ifd, v, b.dev, 0x10, &vd) == 0);
    CHECK(vd != 0);
    return true;
}

static bool vdev_dup_vsid(void)
{
    Bound b;
    int dfd1;
    uint32_t v, dev1, vd;

    CHECK(vdev_setup(&b, &v));
    CHECK(bind_more(b.ifd, D1, &dfd1, &dev1));
    CHECK(vdevice_alloc(b.ifd, v, b.dev, 0x10, &vd) == 0);
    CHECK(FAILS(vdevice_alloc(b.ifd, v, dev1, 0x10, &vd), EEXIST));
    return true;
}

static bool vdev_second(void)
{
    Bound b;
    uint32_t v, vd;

    CHECK(vdev_setup(&b, &v));
    CHECK(vdevice_alloc(b.ifd, v, b.dev, 0x10, &vd) == 0);
    CHECK(FAILS(vdevice_alloc(b.ifd, v, b.dev, 0x12, &vd), EEXIST));
    return true;
}

/* ---------------------------------------------------------------------- */
/* HWPT_INVALIDATE on the vIOMMU                                           */
/* ---------------------------------------------------------------------- */

/* The last command the simulated hardware received */
static uint64_t *last_inval(void)
{
    return ctl->inval_log[(ctl->inval_log_head - 1) % SIMHOST_INVAL_LOG];
}

#define INV_VSID    0x42

static bool inv_setup(Nest *t)
{
    return nest_setup(t, D0, IOMMU_VIOMMU_TYPE_ARM_SMMUV3, INV_VSID);
}

/* @n TLBI_NH_ASID commands with ASIDs 0..n-1 */
static void tlbis(uint64_t (*c)[2], unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        c[i][0] = 0x11 | (uint64_t)i << 48;
        c[i][1] = 0;
    }
}

static bool inv_empty(void)
{
    Nest t;
    uint64_t c[1][2];
    uint32_t done;

    CHECK(inv_setup(&t));
    CHECK(FAILS(invalidate(t.ifd, t.viommu, c, 0, &done), EINVAL));
    return true;
}

static bool inv_nested_id(void)
{
    Nest t;
    uint64_t c[1][2] = { { 0x11, 0 } };
    uint32_t done, nh;

    CHECK(inv_setup(&t));
    CHECK(nested_alloc(t.ifd, t.dev, t.viommu, 1 | 4 << 1, 0, &nh) == 0);
    CHECK(FAILS(invalidate(t.ifd, nh, c, 1, &done), EOPNOTSUPP));
    return true;
}

static bool inv_paging_id(void)
{
    Nest t;
    uint64_t c[1][2] = { { 0x11, 0 } };
    uint32_t done;

    CHECK(inv_setup(&t));
    CHECK(FAILS(invalidate(t.ifd, t.s2, c, 1, &done), EINVAL));
    return true;
}

static bool inv_data_type(void)
{
    Nest t;
    uint64_t c[1][2] = { { 0x11, 0 } };
    struct iommu_hwpt_invalidate h = { .size = sizeof(h),
        .data_uptr = (uintptr_t)c, .data_type = 0, .entry_len = 16,
        .entry_num = 1 };

    CHECK(inv_setup(&t));
    h.hwpt_id = t.viommu;
    CHECK(FAILS(ioctl(t.ifd, IOMMU_HWPT_INVALIDATE, &h), EINVAL));
    return true;
}

static int inv_entry24(Nest *t, uint64_t tail)
{
    uint64_t e[2][3] = { { 0x11, 0, tail }, { 0x11, 0, 0 } };
    struct iommu_hwpt_invalidate h = { .size = sizeof(h),
        .hwpt_id = t->viommu, .data_uptr = (uintptr_t)e,
        .data_type = IOMMU_VIOMMU_INVALIDATE_DATA_ARM_SMMUV3,
        .entry_len = 24, .entry_num = 2 };
    int rc = ioctl(t->ifd, IOMMU_HWPT_INVALIDATE, &h);

    return rc ? rc : (int)h.entry_num;
}

static bool inv_entry_len_tail(void)
{
    Nest t;

    CHECK(inv_setup(&t));
    CHECK(FAILS(inv_entry24(&t, 1), E2BIG));
    return true;
}

static bool inv_entry_len_zero_tail(void)
{
    Nest t;

    CHECK(inv_setup(&t));
    CHECK(inv_entry24(&t, 0) == 2);
    return true;
}

/* Four TLBI_NH_VA with a CMD_SYNC at index 2 */
static void four_with_sync(uint64_t (*c)[2])
{
    for (unsigned i = 0; i < 4; i++) {
        c[i][0] = 0x12 | 0x7777ULL << 32 | 0x5ULL << 48;
        c[i][1] = 0x1000 * i;
    }
    c[2][0] = 0x46;
}

static bool inv_cmd_sync(void)
{
    Nest t;
    uint64_t c[4][2];
    uint32_t done = 0;

    CHECK(inv_setup(&t));
    four_with_sync(c);
    CHECK(FAILS(invalidate(t.ifd, t.viommu, c, 4, &done), EIO));
    CHECK(done == 2);
    return true;
}

static bool inv_quirk_unissued(void)
{
    Nest t;
    uint64_t c[4][2], before;
    uint32_t done;

    CHECK(inv_setup(&t));
    four_with_sync(c);
    before = ctl->inval_cmds_done;
    CHECK(FAILS(invalidate(t.ifd, t.viommu, c, 4, &done), EIO));
    CHECK(ctl->inval_cmds_done == before);
    return true;
}

static bool inv_refused(uint64_t opcode)
{
    Nest t;
    uint64_t c[1][2] = { { opcode, 0 } };
    uint32_t done = 1;

    CHECK(inv_setup(&t));
    CHECK(FAILS(invalidate(t.ifd, t.viommu, c, 1, &done), EIO));
    CHECK(done == 0);
    return true;
}

static bool inv_cfgi_ste(void)
{
    return inv_refused(0x03);
}

static bool inv_cfgi_all(void)
{
    return inv_refused(0x04);
}

static bool inv_tlbi_s2(void)
{
    return inv_refused(0x2a);
}

/* The VMID the host put into a TLBI_NH_ALL */
static bool host_vmid(Nest *t, uint32_t *vmid)
{
    if (inval1(t, 0x10, 0)) {
        return false;
    }
    *vmid = (last_inval()[0] >> 32) & 0xffff;
    return true;
}

static bool inv_nsnh_all(void)
{
    Nest t;
    uint64_t *l;
    uint32_t vmid;

    CHECK(inv_setup(&t));
    CHECK(inval1(&t, 0x30 | 0x1234ULL << 32, 0xffff) == 0);
    l = last_inval();
    vmid = (l[0] >> 32) & 0xffff;
    CHECK((l[0] & 0xff) == 0x10);
    CHECK(vmid != 0 && vmid != 0x1234);
    CHECK(l[1] == 0);
    return true;
}

static bool inv_vmid(void)
{
    Nest t;
    uint64_t *l;
    uint32_t vmid;

    CHECK(inv_setup(&t));
    CHECK(host_vmid(&t, &vmid) && vmid != 0x7777);
    CHECK(inval1(&t, 0x12 | 0x7777ULL << 32 | 0x5ULL << 48, 0x5000) == 0);
    l = last_inval();
    CHECK(((l[0] >> 32) & 0xffff) == vmid);
    CHECK((l[0] >> 48) == 5 && l[1] == 0x5000);
    return true;
}

static bool inv_vsid(void)
{
    Nest t;

    CHECK(inv_setup(&t));
    CHECK(inval1(&t, 0x40 | (uint64_t)INV_VSID << 32, 0) == 0);
    CHECK((last_inval()[0] >> 32) == ctl->dev[D0].sid);
    CHECK((last_inval()[0] & 0xff) == 0x40);
    return true;
}

static bool inv_vsid_unknown(void)
{
    Nest t;

    CHECK(inv_setup(&t));
    CHECK(FAILS(inval1(&t, 0x05 | 0x99ULL << 32, 0), EIO));
    return true;
}

static bool inv_batches(void)
{
    Nest t;
    uint64_t c[100][2], before;
    uint32_t done = 0;

    CHECK(inv_setup(&t));
    tlbis(c, 100);
    before = ctl->inval_hw_batches;
    CHECK(invalidate(t.ifd, t.viommu, c, 100, &done) == 0);
    CHECK(done == 100);
    CHECK(ctl->inval_hw_batches - before == 2);
    return true;
}

static bool inv_fail_second_batch(void)
{
    Nest t;
    uint64_t c[100][2], before;
    uint32_t done = 0;

    CHECK(inv_setup(&t));
    tlbis(c, 100);
    c[70][0] = 0x46;
    before = ctl->inval_cmds_done;
    CHECK(FAILS(invalidate(t.ifd, t.viommu, c, 100, &done), EIO));
    CHECK(done == 70);
    CHECK(ctl->inval_cmds_done - before == 63);
    return true;
}

static bool inv_sync_timeout(void)
{
    Nest t;
    uint64_t c[100][2];
    uint32_t done = 0;

    CHECK(inv_setup(&t));
    tlbis(c, 100);
    ctl->inject[0] = (SimhostInject){ .kind = SIMHOST_K_INVAL_SYNC,
                                      .count = 1, .err = ETIMEDOUT };
    CHECK(FAILS(invalidate(t.ifd, t.viommu, c, 100, &done), ETIMEDOUT));
    CHECK(done == 62);
    return true;
}

static bool sim_inject(void)
{
    Nest t;
    uint64_t c[1][2] = { { 0x11, 0 } };
    uint32_t done = 1;

    CHECK(inv_setup(&t));
    ctl->inject[0] = (SimhostInject){ .kind = SIMHOST_K_HWPT_INVALIDATE,
                                      .skip = 1, .count = 1, .err = ENOMEM };
    CHECK(invalidate(t.ifd, t.viommu, c, 1, &done) == 0);
    CHECK(FAILS(invalidate(t.ifd, t.viommu, c, 1, &done), ENOMEM));
    CHECK(done == 0 && ctl->inject[0].fired == 1);
    CHECK(invalidate(t.ifd, t.viommu, c, 1, &done) == 0);
    return true;
}

/* ---------------------------------------------------------------------- */
/* The simulated SMMU: walks, IOTLB, CD cache                              */
/* ---------------------------------------------------------------------- */

static bool walk_granule(unsigned gs, unsigned va_bits)
{
    Nest t;
    Pt p;
    uint64_t cd, a, b;
    uint32_t nh;

    CHECK(nest_setup(&t, D0, IOMMU_VIOMMU_TYPE_ARM_SMMUV3, 0x42));
    p = pt_new(&t.g, gs, va_bits);
    cd = cd_build(&t.g, &p, 7, true);
    a = galloc(&t.g, 1ULL << gs, 1ULL << gs);
    b = galloc(&t.g, 1ULL << gs, 1ULL << gs);
    memset(gptr(&t.g, a), 0x5a, 64);
    pt_map(&p, 0x10000000, a, 0);
    pt_map(&p, 0x20000000, b, 0);
    CHECK(nested_alloc(t.ifd, t.dev, t.viommu, ste_s1(cd), 0, &nh) == 0);
    CHECK(attach(t.dfd, &nh) == 0);
    CHECK(dma_copy(t.dfd, 0x10000000, 0x20000000 + 8, 64) == 0);
    CHECK(((uint8_t *)gptr(&t.g, b))[8 + 63] == 0x5a);
    CHECK(((uint8_t *)gptr(&t.g, b))[7] == 0);
    return true;
}

static bool smmu_walk_4k(void)
{
    return walk_granule(12, 48);
}

static bool smmu_walk_16k(void)
{
    return walk_granule(14, 47);
}

static bool smmu_walk_64k(void)
{
    return walk_granule(16, 42);
}

static bool smmu_nested_copy(void)
{
    Walk w;

    CHECK(walk_setup(&w, 4));
    CHECK(wcopy(&w, W_SRC, W_DST) == 0);
    CHECK(gbyte(&w.t.g, w.b) == 0x11);
    return true;
}

/* Copy once, then point W_SRC at a2 without telling the hardware */
static bool walk_remapped(Walk *w)
{
    if (!walk_setup(w, 4) || wcopy(w, W_SRC, W_DST) ||
        gbyte(&w->t.g, w->b) != 0x11) {
        return false;
    }
    pt_map(&w->p, W_SRC, w->a2, 0);
    return true;
}

static bool smmu_iotlb_stale(void)
{
    Walk w;

    CHECK(walk_remapped(&w));
    CHECK(wcopy(&w, W_SRC, W_DST) == 0);
    CHECK(gbyte(&w.t.g, w.b) == 0x11);
    return true;
}

static bool smmu_tlbi_other_asid(void)
{
    Walk w;

    CHECK(walk_remapped(&w));
    CHECK(inval1(&w.t, 0x12 | (uint64_t)(W_ASID - 1) << 48, W_SRC) == 0);
    CHECK(wcopy(&w, W_SRC, W_DST) == 0);
    CHECK(gbyte(&w.t.g, w.b) == 0x11);
    return true;
}

static bool smmu_tlbi_va(void)
{
    Walk w;

    CHECK(walk_remapped(&w));
    CHECK(inval1(&w.t, 0x12 | (uint64_t)W_ASID << 48, W_SRC) == 0);
    CHECK(wcopy(&w, W_SRC, W_DST) == 0);
    CHECK(gbyte(&w.t.g, w.b) == 0x22);
    return true;
}

static bool smmu_tlbi_nsnh_all(void)
{
    Walk w;

    CHECK(walk_remapped(&w));
    CHECK(inval1(&w.t, 0x30, 0) == 0);
    CHECK(wcopy(&w, W_SRC, W_DST) == 0);
    CHECK(gbyte(&w.t.g, w.b) == 0x22);
    return true;
}

static bool smmu_cd_cached(void)
{
    Walk w;

    CHECK(walk_setup(&w, 4));
    CHECK(wcopy(&w, W_SRC, W_DST) == 0);
    ((uint64_t *)gptr(&w.t.g, w.cd))[0] &= ~(1ULL << 31);
    CHECK(wcopy(&w, W_SRC, W_DST) == 0);
    return true;
}

/* Make the page at W_DST read-only, or clear its AF; TLBI the ASID */
static bool dst_pte(Walk *w, uint64_t set, uint64_t clear)
{
    *pt_leaf(&w->p, W_DST) = (*pt_leaf(&w->p, W_DST) | set) & ~clear;
    return inval1(&w->t, 0x11 | (uint64_t)W_ASID << 48, 0) == 0;
}

static bool smmu_permission(void)
{
    Walk w;
    uint64_t evt[8];

    CHECK(walk_setup(&w, 4));
    CHECK(dst_pte(&w, PTE_RO, 0));
    CHECK(wcopy(&w, W_SRC, W_DST) != 0);
    CHECK(read(w.qfd, evt, sizeof(evt)) == 40);
    CHECK((evt[1] & 0xff) == 0x13);
    CHECK(!(evt[2] & (1ULL << 35)));    /* RnW = 0: a write */
    return true;
}

static bool smmu_access_flag(void)
{
    Walk w;
    uint64_t evt[8];

    CHECK(walk_setup(&w, 4));
    CHECK(dst_pte(&w, 0, PTE_AF));
    CHECK(wcopy(&w, W_SRC, W_DST) != 0);
    CHECK(read(w.qfd, evt, sizeof(evt)) == 40);
    CHECK((evt[1] & 0xff) == 0x12);
    return true;
}

/* ---------------------------------------------------------------------- */
/* Events forwarded to the vEVENTQ                                         */
/* ---------------------------------------------------------------------- */

static bool evt_bad_cd(void)
{
    Walk w;
    uint64_t evt[8];

    CHECK(walk_setup(&w, 4));
    CHECK(wcopy(&w, W_SRC, W_DST) == 0);
    ((uint64_t *)gptr(&w.t.g, w.cd))[0] &= ~(1ULL << 31);
    CHECK(inval1(&w.t, 0x05 | (uint64_t)W_VSID << 32, 1) == 0);
    CHECK((wcopy(&w, W_SRC, W_DST) & 0xff) == SIMHOST_STATUS_DMA_ERROR);
    CHECK(read(w.qfd, evt, sizeof(evt)) == 40);
    CHECK((evt[1] & 0xff) == 0x0a && (evt[1] >> 32) == W_VSID);
    return true;
}

static bool evt_translation(void)
{
    Walk w;
    uint64_t evt[8];

    CHECK(walk_setup(&w, 4));
    CHECK((wcopy(&w, W_HOLE, W_DST) & 0xff) == SIMHOST_STATUS_DMA_ERROR);
    CHECK(read(w.qfd, evt, sizeof(evt)) == 40);
    CHECK((uint32_t)evt[0] == 0);                   /* header: no flags */
    CHECK((evt[1] & 0xff) == 0x10 && (evt[1] >> 32) == W_VSID);
    CHECK(evt[3] == W_HOLE);                        /* InputAddr */
    CHECK(evt[2] & (1ULL << 35));                   /* RnW: a read */
    return true;
}

static bool veq_sequence(void)
{
    Walk w;
    uint64_t evt[8];
    uint32_t s0;

    CHECK(walk_setup(&w, 4));
    CHECK(fault_and_read(&w, evt, sizeof(evt)) == 40);
    s0 = ((uint32_t *)evt)[1];
    CHECK(fault_and_read(&w, evt, sizeof(evt)) == 40);
    CHECK(((uint32_t *)evt)[1] == s0 + 1);
    return true;
}

static bool evt_s2_fault(void)
{
    Walk w;
    uint64_t evt[8], s2, q;

    CHECK(walk_setup(&w, 4));
    pt_map(&w.p, 0x40000000, 0x7000000000ULL, 0);  /* IPA not in the IOAS */
    s2 = ctl->s2_faults;
    q = ctl->events_queued;
    CHECK(wcopy(&w, 0x40000000, W_DST) != 0);
    CHECK(ctl->s2_faults == s2 + 1);
    CHECK(ctl->events_queued == q);
    CHECK(read(w.qfd, evt, sizeof(evt)) == 0);
    return true;
}

static bool evt_s2_host_event(void)
{
    Walk w;
    uint64_t e[4] = { 0x10, 1ULL << 39, 0x1000, 0 };

    CHECK(walk_setup(&w, 4));
    CHECK(host_event(D0, e) == -EPERM);
    return true;
}

static bool evt_not_forwarded_id(void)
{
    Walk w;
    uint64_t e[4] = { 0x03, 0, 0x1000, 0 };

    CHECK(walk_setup(&w, 4));
    CHECK(host_event(D0, e) == -EPERM);
    return true;
}

static bool evt_no_veventq(void)
{
    Walk w;
    uint64_t q;

    CHECK(walk_setup(&w, 4));
    close(w.qfd);
    CHECK(destroy(w.t.ifd, w.qid) == 0);
    q = ctl->events_unforwarded;
    CHECK(wcopy(&w, W_HOLE, W_DST) != 0);
    CHECK(ctl->events_unforwarded == q + 1);
    return true;
}

/* ---------------------------------------------------------------------- */
/* vSTE kinds as the hardware sees them                                    */
/* ---------------------------------------------------------------------- */

static bool vste_bypass(void)
{
    Walk w;
    uint32_t byp;

    CHECK(walk_setup(&w, 4));
    CHECK(nested_alloc(w.t.ifd, w.t.dev, w.t.viommu, 1 | 4 << 1, 0,
                       &byp) == 0);
    CHECK(attach(w.t.dfd, &byp) == 0);
    CHECK(dma_copy(w.t.dfd, w.a2, w.b, 16) == 0);
    CHECK(gbyte(&w.t.g, w.b) == 0x22);
    return true;
}

static bool vste_abort(void)
{
    Walk w;
    uint32_t ab;
    uint64_t evt[8];

    CHECK(walk_setup(&w, 4));
    CHECK(nested_alloc(w.t.ifd, w.t.dev, w.t.viommu, 1, 0, &ab) == 0);
    CHECK(attach(w.t.dfd, &ab) == 0);
    CHECK((dma_copy(w.t.dfd, w.a2, w.b, 16) & 0xff) ==
          SIMHOST_STATUS_DMA_ERROR);
    CHECK(read(w.qfd, evt, sizeof(evt)) == 0);
    return true;
}

static bool vste_no_value_checks(void)
{
    Walk w;
    uint32_t bad;
    uint64_t evt[8];

    CHECK(walk_setup(&w, 4));
    ctl->smmu[0].idr[1] &= ~(0x1fu << 6);   /* SSIDSIZE 0 */
    CHECK(nested_alloc(w.t.ifd, w.t.dev, w.t.viommu,
                       ste_s1(w.cd) | 31ULL << 59, 2, &bad) == 0);
    CHECK(attach(w.t.dfd, &bad) == 0);
    CHECK(wcopy(&w, W_SRC, W_DST) != 0);
    CHECK(read(w.qfd, evt, sizeof(evt)) == 40);
    CHECK((evt[1] & 0xff) == 0x04);
    return true;
}

/* ---------------------------------------------------------------------- */
/* vEVENTQ                                                                 */
/* ---------------------------------------------------------------------- */

static bool veq_empty(void)
{
    Walk w;
    struct pollfd pf = { .events = POLLIN };

    CHECK(walk_setup(&w, 4));
    pf.fd = w.qfd;
    CHECK(poll(&pf, 1, 0) == 0);
    return true;
}

static bool veq_pollin(void)
{
    Walk w;
    struct pollfd pf = { .events = POLLIN };

    CHECK(walk_setup(&w, 4));
    pf.fd = w.qfd;
    CHECK(wcopy(&w, W_HOLE, W_DST) != 0);
    CHECK(poll(&pf, 1, 0) == 1 && (pf.revents & POLLIN));
    return true;
}

static bool veq_read_short(void)
{
    Walk w;
    uint8_t small[16];

    CHECK(walk_setup(&w, 4));
    CHECK(wcopy(&w, W_HOLE, W_DST) != 0);
    CHECK(FAILS(read(w.qfd, small, 4), EINVAL));
    return true;
}

static bool veq_read_no_fit(void)
{
    Walk w;
    uint8_t small[16];
    uint64_t evt[16];

    CHECK(walk_setup(&w, 4));
    CHECK(wcopy(&w, W_HOLE, W_DST) != 0);
    CHECK(wcopy(&w, W_HOLE, W_DST) != 0);
    CHECK(FAILS(read(w.qfd, small, 16), EINVAL));
    /* a buffer of 1.5 records takes one whole record */
    CHECK(read(w.qfd, evt, 60) == 40);
    CHECK(read(w.qfd, evt, sizeof(evt)) == 40);
    return true;
}

static bool veq_pread(void)
{
    Walk w;
    uint64_t evt[8];

    CHECK(walk_setup(&w, 4));
    CHECK(wcopy(&w, W_HOLE, W_DST) != 0);
    CHECK(FAILS(pread(w.qfd, evt, sizeof(evt), 0), ESPIPE));
    return true;
}

/* depth 4, 6 faults: 4 records, then a LOST_EVENTS header */
static bool veq_overflowed(Walk *w, uint32_t *seq0, uint32_t *lost_seq)
{
    uint64_t big[64];
    uint8_t *p8 = (uint8_t *)big;

    if (!walk_setup(w, 4)) {
        return false;
    }
    for (int i = 0; i < 6; i++) {
        wcopy(w, W_HOLE, W_DST);
    }
    if (read(w->qfd, big, sizeof(big)) != 4 * 40 + 8 ||
        ((uint32_t *)(p8 + 4 * 40))[0] != IOMMU_VEVENTQ_FLAG_LOST_EVENTS) {
        return false;
    }
    *seq0 = ((uint32_t *)p8)[1];
    *lost_seq = ((uint32_t *)(p8 + 4 * 40))[1];
    return true;
}

static bool veq_lost(void)
{
    Walk w;
    uint32_t seq0, seq;

    CHECK(veq_overflowed(&w, &seq0, &seq));
    CHECK(seq == seq0 + 5);
    return true;
}

static bool veq_after_loss(void)
{
    Walk w;
    uint32_t seq0, seq;
    uint64_t evt[8];

    CHECK(veq_overflowed(&w, &seq0, &seq));
    CHECK(fault_and_read(&w, evt, sizeof(evt)) == 40);
    CHECK(((uint32_t *)evt)[1] == seq + 1);
    return true;
}

static bool veq_alloc_failure(void)
{
    Walk w;
    uint64_t big[8];

    CHECK(walk_setup(&w, 4));
    ctl->event_alloc_fail = 1;
    CHECK(fault_and_read(&w, big, sizeof(big)) == 8);
    CHECK((uint32_t)big[0] == IOMMU_VEVENTQ_FLAG_LOST_EVENTS);
    return true;
}

static bool veq_second(void)
{
    Walk w;
    uint32_t q2;
    int fd2;

    CHECK(walk_setup(&w, 4));
    CHECK(FAILS(veventq_alloc(w.t.ifd, w.t.viommu,
                              IOMMU_VEVENTQ_TYPE_ARM_SMMUV3, 4, &q2, &fd2),
                EEXIST));
    return true;
}

static bool veq_depth(uint32_t depth)
{
    Nest t;
    uint32_t q;
    int fd;

    CHECK(nest_setup(&t, D0, IOMMU_VIOMMU_TYPE_ARM_SMMUV3, 0x42));
    CHECK(FAILS(veventq_alloc(t.ifd, t.viommu, IOMMU_VEVENTQ_TYPE_ARM_SMMUV3,
                              depth, &q, &fd), EINVAL));
    CHECK(veventq_alloc(t.ifd, t.viommu, IOMMU_VEVENTQ_TYPE_ARM_SMMUV3,
                        1u << 19, &q, &fd) == 0);
    return true;
}

static bool veq_depth_zero(void)
{
    return veq_depth(0);
}

static bool veq_depth_big(void)
{
    return veq_depth((1u << 19) + 1);
}

static bool veq_default(void)
{
    Nest t;
    uint32_t q;
    int fd;

    CHECK(nest_setup(&t, D0, IOMMU_VIOMMU_TYPE_ARM_SMMUV3, 0x42));
    CHECK(FAILS(veventq_alloc(t.ifd, t.viommu, IOMMU_VEVENTQ_TYPE_DEFAULT, 4,
                              &q, &fd), EOPNOTSUPP));
    return true;
}

static bool veq_cloexec(void)
{
    Walk w;

    CHECK(walk_setup(&w, 4));
    CHECK(fcntl(w.qfd, F_GETFD) & FD_CLOEXEC);
    return true;
}

static bool ref_veventq_open(void)
{
    Walk w;

    CHECK(walk_setup(&w, 4));
    CHECK(FAILS(destroy(w.t.ifd, w.qid), EBUSY));
    return true;
}

static bool ref_veventq_closed(void)
{
    Walk w;

    CHECK(walk_setup(&w, 4));
    close(w.qfd);
    CHECK(destroy(w.t.ifd, w.qid) == 0);
    return true;
}

/* ---------------------------------------------------------------------- */
/* The MSI doorbell through the guest's stage 1                            */
/* ---------------------------------------------------------------------- */

/* Map the doorbell page at IOVA 0x8000000 to @ipa (0: not at all), MSI */
static bool msi_through_s1(Walk *w, uint64_t ipa, uint64_t *lost)
{
    if (!walk_setup(w, 4)) {
        return false;
    }
    if (ipa) {
        pt_map(&w->p, SIMHOST_SW_MSI_BASE, ipa, 0);
    }
    *lost = ctl->dev_msi_lost[D0];
    bar_write(w->t.dfd, SIMHOST_R_CMD, SIMHOST_CMD_FILL | SIMHOST_CMD_MSI);
    return true;
}

static bool msi_unmapped(void)
{
    Walk w;
    uint64_t lost;

    CHECK(msi_through_s1(&w, 0, &lost));
    CHECK(ctl->dev_msi_lost[D0] == lost + 1);
    CHECK(bar_read(w.t.dfd, SIMHOST_R_MSI_LOST) == 1);
    return true;
}

static bool msi_elsewhere(void)
{
    Walk w;
    uint64_t lost;

    CHECK(msi_through_s1(&w, 0x09000000, &lost));
    CHECK(ctl->dev_msi_lost[D0] == lost + 1);
    return true;
}

static bool msi_identity(void)
{
    Walk w;
    uint64_t lost, cnt = 0;
    struct {
        struct vfio_irq_set s;
        int32_t fd;
    } irq = { { .argsz = sizeof(irq), .index = VFIO_PCI_MSI_IRQ_INDEX,
                .flags = VFIO_IRQ_SET_DATA_EVENTFD |
                         VFIO_IRQ_SET_ACTION_TRIGGER, .count = 1 },
              eventfd(0, EFD_NONBLOCK) };

    CHECK(walk_setup(&w, 4));
    CHECK(ioctl(w.t.dfd, VFIO_DEVICE_SET_IRQS, &irq) == 0);
    pt_map(&w.p, SIMHOST_SW_MSI_BASE, SIMHOST_SW_MSI_BASE, 0);
    lost = ctl->dev_msi_lost[D0];
    bar_write(w.t.dfd, SIMHOST_R_CMD, SIMHOST_CMD_FILL | SIMHOST_CMD_MSI);
    CHECK(ctl->dev_msi_lost[D0] == lost);
    CHECK(bar_read(w.t.dfd, SIMHOST_R_MSI_LOST) == 0);
    CHECK(read(irq.fd, &cnt, 8) == 8 && cnt == 1);
    return true;
}

/* ---------------------------------------------------------------------- */
/* Tegra241 CMDQV: vIOMMU, vDEVICE, VINTF page                             */
/* ---------------------------------------------------------------------- */

#define CQ_VSID     0x33

static bool cq_setup(Nest *t)
{
    return nest_setup(t, D_CMDQV, IOMMU_VIOMMU_TYPE_TEGRA241_CMDQV, CQ_VSID);
}

/* Another TEGRA241 vIOMMU on @t's parent, with @len bytes of data */
static int cq_viommu(Nest *t, void *data, uint32_t len, uint32_t *id)
{
    struct iommu_viommu_alloc a = { .size = sizeof(a),
        .type = IOMMU_VIOMMU_TYPE_TEGRA241_CMDQV, .dev_id = t->dev,
        .hwpt_id = t->s2, .data_len = len, .data_uptr = (uintptr_t)data };
    int rc = ioctl(t->ifd, IOMMU_VIOMMU_ALLOC, &a);

    *id = a.out_viommu_id;
    return rc;
}

static bool cmdqv_no_data(void)
{
    Nest t;
    uint32_t v;

    CHECK(cq_setup(&t));
    CHECK(FAILS(cq_viommu(&t, NULL, 0, &v), EINVAL));
    return true;
}

static bool cmdqv_data_len(void)
{
    Nest t;
    uint64_t td[2];
    uint32_t v;

    CHECK(cq_setup(&t));
    CHECK(FAILS(cq_viommu(&t, td, 8, &v), EINVAL));
    return true;
}

static bool cmdqv_mmap_info(void)
{
    Nest t;

    CHECK(cq_setup(&t));
    CHECK(t.vintf[0] && !(t.vintf[0] & 4095));
    CHECK(t.vintf[1] == 0x10000);
    return true;
}

static bool cmdqv_vintfs(void)
{
    Nest t;
    uint64_t td[2] = { 0, 0 };
    uint32_t v2, v3;

    CHECK(cq_setup(&t));                    /* VINTF 1 */
    CHECK(cq_viommu(&t, td, 16, &v2) == 0);
    CHECK(td[0] && td[0] != t.vintf[0]);
    CHECK(cq_viommu(&t, td, 16, &v3) == 0);
    return true;
}

static bool cmdqv_vintfs_full(void)
{
    Nest t;
    uint64_t td[2];
    uint32_t v2, v3, v4;

    CHECK(cq_setup(&t));
    CHECK(cq_viommu(&t, td, 16, &v2) == 0 && cq_viommu(&t, td, 16, &v3) == 0);
    CHECK(FAILS(cq_viommu(&t, td, 16, &v4), ENOSPC));
    CHECK(destroy(t.ifd, v3) == 0);
    CHECK(cq_viommu(&t, td, 16, &v4) == 0);
    return true;
}

static bool cmdqv_vsid_bits(void)
{
    Nest t;
    int d2;
    uint32_t dev2, vd;

    CHECK(cq_setup(&t));
    CHECK(bind_more(t.ifd, D_CMDQV2, &d2, &dev2));
    CHECK(FAILS(vdevice_alloc(t.ifd, t.viommu, dev2, 0x100000, &vd), EINVAL));
    CHECK(vdevice_alloc(t.ifd, t.viommu, dev2, 0xfffff, &vd) == 0);
    return true;
}

static bool mmap_private(void)
{
    Nest t;
    void *p;

    CHECK(cq_setup(&t));
    p = mmap(NULL, 0x10000, PROT_READ | PROT_WRITE, MAP_PRIVATE, t.ifd,
             t.vintf[0]);
    CHECK(p == MAP_FAILED && errno == EINVAL);
    return true;
}

static bool mmap_exec(void)
{
    Nest t;
    void *p;

    CHECK(cq_setup(&t));
    p = mmap(NULL, 0x10000, PROT_READ | PROT_EXEC, MAP_SHARED, t.ifd,
             t.vintf[0]);
    CHECK(p == MAP_FAILED && errno == EPERM);
    return true;
}

static bool mmap_length(void)
{
    Nest t;
    void *p;

    CHECK(cq_setup(&t));
    p = mmap(NULL, 0x1000, PROT_READ | PROT_WRITE, MAP_SHARED, t.ifd,
             t.vintf[0]);
    CHECK(p == MAP_FAILED && errno == ENXIO);
    return true;
}

static bool mmap_offset(void)
{
    Nest t;
    void *p;

    CHECK(cq_setup(&t));
    p = mmap(NULL, 0x10000, PROT_READ | PROT_WRITE, MAP_SHARED, t.ifd,
             t.vintf[0] + 4096);
    CHECK(p == MAP_FAILED && errno == ENXIO);
    return true;
}

static void *vintf_map(Nest *t)
{
    return mmap(NULL, t->vintf[1], PROT_READ | PROT_WRITE, MAP_SHARED, t->ifd,
                t->vintf[0]);
}

static bool mmap_vintf(void)
{
    Nest t;
    void *p;

    CHECK(cq_setup(&t));
    p = vintf_map(&t);
    CHECK(p != MAP_FAILED);
    CHECK(ctl->vintf_mmaps == 1);
    return true;
}

static bool ref_viommu_mapped(void)
{
    Nest t;

    CHECK(cq_setup(&t));
    CHECK(vintf_map(&t) != MAP_FAILED);
    CHECK(destroy(t.ifd, t.vdev) == 0);
    CHECK(FAILS(destroy(t.ifd, t.viommu), EBUSY));
    return true;
}

static bool mmap_munmap(void)
{
    Nest t;
    void *p;

    CHECK(cq_setup(&t));
    p = vintf_map(&t);
    CHECK(p != MAP_FAILED && ctl->vintf_mmaps == 1);
    CHECK(munmap(p, t.vintf[1]) == 0);
    CHECK(ctl->vintf_mmaps == 0);
    return true;
}

/* ---------------------------------------------------------------------- */
/* HW queues                                                               */
/* ---------------------------------------------------------------------- */

static int hwq_alloc(Nest *t, uint32_t type, uint32_t index, uint64_t ipa,
                     uint64_t len, uint32_t *id)
{
    struct iommu_hw_queue_alloc h = { .size = sizeof(h),
        .viommu_id = t->viommu, .type = type, .index = index,
        .nesting_parent_iova = ipa, .length = len };
    int rc = ioctl(t->ifd, IOMMU_HW_QUEUE_ALLOC, &h);

    *id = h.out_hw_queue_id;
    return rc;
}

#define HWQ_T   IOMMU_HW_QUEUE_TYPE_TEGRA241_CMDQV

/* Two 4 KiB queue areas of guest memory */
typedef struct Cq {
    Nest t;
    uint64_t q0, q1;
    uint32_t hq0, hq1;
} Cq;

static bool cq_queues(Cq *c, unsigned n)
{
    if (!cq_setup(&c->t)) {
        return false;
    }
    c->q0 = galloc(&c->t.g, 0x1000, 0x1000);
    c->q1 = galloc(&c->t.g, 0x1000, 0x1000);
    return (n < 1 || hwq_alloc(&c->t, HWQ_T, 0, c->q0, 0x1000, &c->hq0) == 0)
        && (n < 2 || hwq_alloc(&c->t, HWQ_T, 1, c->q1, 0x1000, &c->hq1) == 0);
}

static bool hwq_order(void)
{
    Cq c;
    uint32_t id;

    CHECK(cq_queues(&c, 0));
    CHECK(FAILS(hwq_alloc(&c.t, HWQ_T, 1, c.q1, 0x1000, &id), EIO));
    return true;
}

static bool hwq_bad_len(uint64_t len, uint32_t cmdqs)
{
    Cq c;
    uint32_t id;

    CHECK(cq_queues(&c, 0));
    if (cmdqs) {
        ctl->smmu[1].idr[1] = (ctl->smmu[1].idr[1] & ~(0x1fu << 21)) |
                              cmdqs << 21;
    }
    CHECK(FAILS(hwq_alloc(&c.t, HWQ_T, 0, c.q0, len, &id), EINVAL));
    return true;
}

static bool hwq_len_pow2(void)
{
    return hwq_bad_len(0x1800, 0);
}

static bool hwq_len_min(void)
{
    return hwq_bad_len(16, 0);
}

static bool hwq_len_max(void)
{
    return hwq_bad_len(0x2000, 8);      /* 16 << 8 = 4 KiB */
}

static bool hwq_len_zero(void)
{
    return hwq_bad_len(0, 0);
}

static bool hwq_align(void)
{
    Cq c;
    uint32_t id;

    CHECK(cq_queues(&c, 0));
    CHECK(FAILS(hwq_alloc(&c.t, HWQ_T, 0, c.q0 + 0x800, 0x1000, &id),
                EINVAL));
    return true;
}

static bool hwq_unmapped(void)
{
    Cq c;
    uint32_t id;

    CHECK(cq_queues(&c, 0));
    CHECK(FAILS(hwq_alloc(&c.t, HWQ_T, 0, 0x7000000000ULL, 0x1000, &id),
                ENOENT));
    return true;
}

static bool hwq_contiguous(void)
{
    Cq c;
    uint32_t id;

    CHECK(cq_queues(&c, 0));
    /* the backing memory is contiguous within 2 MiB blocks only */
    CHECK(FAILS(hwq_alloc(&c.t, HWQ_T, 0, G_BASE + (2 << 20) - 0x800, 0x1000,
                          &id), EFAULT));
    return true;
}

static bool hwq_type(void)
{
    Cq c;
    uint32_t id;

    CHECK(cq_queues(&c, 0));
    CHECK(FAILS(hwq_alloc(&c.t, 0, 0, c.q0, 0x1000, &id), EOPNOTSUPP));
    return true;
}

static bool hwq_index(void)
{
    Cq c;
    uint32_t id;

    CHECK(cq_queues(&c, 0));
    CHECK(FAILS(hwq_alloc(&c.t, HWQ_T, 2, c.q0, 0x1000, &id), EINVAL));
    return true;
}

static bool hwq_first(void)
{
    Cq c;

    CHECK(cq_queues(&c, 1));
    CHECK(c.hq0 != 0);
    return true;
}

static bool hwq_again(void)
{
    Cq c;
    uint32_t id;

    CHECK(cq_queues(&c, 1));
    CHECK(FAILS(hwq_alloc(&c.t, HWQ_T, 0, c.q0, 0x1000, &id), EEXIST));
    return true;
}

static bool hwq_second(void)
{
    Cq c;

    CHECK(cq_queues(&c, 2));
    CHECK(c.hq1 != 0 && c.hq1 != c.hq0);
    return true;
}

static bool ioas_pinned(void)
{
    Cq c;

    CHECK(cq_queues(&c, 2));
    CHECK(FAILS(unmap(c.t.ifd, c.t.ioas, G_BASE, G_SIZE, NULL), EBUSY));
    return true;
}

static bool hwq_destroy_order(void)
{
    Cq c;

    CHECK(cq_queues(&c, 2));
    CHECK(FAILS(destroy(c.t.ifd, c.hq0), EBUSY));
    return true;
}

static bool ref_viommu_queues(void)
{
    Cq c;

    CHECK(cq_queues(&c, 1));
    CHECK(destroy(c.t.ifd, c.t.vdev) == 0);
    CHECK(FAILS(destroy(c.t.ifd, c.t.viommu), EBUSY));
    return true;
}

static bool hwq_destroy(void)
{
    Cq c;

    CHECK(cq_queues(&c, 2));
    CHECK(destroy(c.t.ifd, c.hq1) == 0);
    CHECK(destroy(c.t.ifd, c.hq0) == 0);
    return true;
}

static bool ioas_unpinned(void)
{
    Cq c;

    CHECK(cq_queues(&c, 2));
    CHECK(destroy(c.t.ifd, c.hq1) == 0 && destroy(c.t.ifd, c.hq0) == 0);
    CHECK(unmap(c.t.ifd, c.t.ioas, G_BASE, G_SIZE, NULL) == 0);
    CHECK(map_fixed(c.t.ifd, c.t.ioas, G_BASE, c.t.g.mem, G_SIZE) == 0);
    return true;
}

static bool ref_reverse_order(void)
{
    Cq c;
    void *p;
    uint32_t qid;
    int qfd;

    CHECK(cq_queues(&c, 2));
    CHECK(veventq_alloc(c.t.ifd, c.t.viommu, IOMMU_VEVENTQ_TYPE_TEGRA241_CMDQV,
                        8, &qid, &qfd) == 0);
    p = vintf_map(&c.t);
    CHECK(p != MAP_FAILED);
    close(qfd);
    CHECK(destroy(c.t.ifd, qid) == 0);
    CHECK(destroy(c.t.ifd, c.hq1) == 0 && destroy(c.t.ifd, c.hq0) == 0);
    CHECK(munmap(p, c.t.vintf[1]) == 0);
    close(c.t.dfd);
    CHECK(destroy(c.t.ifd, c.t.vdev) == 0);
    CHECK(destroy(c.t.ifd, c.t.viommu) == 0);
    CHECK(destroy(c.t.ifd, c.t.s2) == 0);
    CHECK(destroy(c.t.ifd, c.t.ioas) == 0);
    CHECK(ctl->live_objects == 0);
    return true;
}

/* ---------------------------------------------------------------------- */
/* The VCMDQ hardware                                                      */
/* ---------------------------------------------------------------------- */

/*
 * Queue 0 made and the VINTF page mapped; a nested S1 for the device
 * (ASID 9: 0x10000000 -> a, with a's bytes 1, then a2's bytes 2);
 * a TEGRA241 vEVENTQ.
 */
typedef struct Vq {
    Cq c;
    volatile uint32_t *page;    /* device memory shared with the HW thread */
    uint64_t *qm;               /* the queue in guest memory */
    uint64_t a, a2, b;
    Pt p;
    uint32_t qid;
    int qfd;
} Vq;

#define VQ_ASID     9

/* @reg: a register of the VINTF page, written by the HW thread */
static bool wait_for(volatile uint32_t *reg, uint32_t mask, uint32_t want)
{
    for (int i = 0; i < 2000; i++) {
        if ((*reg & mask) == want) {
            return true;
        }
        usleep(1000);
    }
    return false;
}

static bool vq_setup(Vq *v, bool enable)
{
    uint64_t cd;
    uint32_t nh;
    void *p;

    if (!cq_queues(&v->c, 1) ||
        veventq_alloc(v->c.t.ifd, v->c.t.viommu,
                      IOMMU_VEVENTQ_TYPE_TEGRA241_CMDQV, 8, &v->qid,
                      &v->qfd)) {
        return false;
    }
    p = vintf_map(&v->c.t);
    if (p == MAP_FAILED) {
        return false;
    }
    v->page = p;
    v->qm = gptr(&v->c.t.g, v->c.q0);
    v->p = pt_new(&v->c.t.g, 12, 48);
    cd = cd_build(&v->c.t.g, &v->p, VQ_ASID, true);
    v->a = galloc(&v->c.t.g, 4096, 4096);
    v->a2 = galloc(&v->c.t.g, 4096, 4096);
    v->b = galloc(&v->c.t.g, 4096, 4096);
    memset(gptr(&v->c.t.g, v->a), 1, 4096);
    memset(gptr(&v->c.t.g, v->a2), 2, 4096);
    pt_map(&v->p, 0x10000000, v->a, 0);
    pt_map(&v->p, 0x20000000, v->b, 0);
    if (nested_alloc(v->c.t.ifd, v->c.t.dev, v->c.t.viommu, ste_s1(cd), 0,
                     &nh) || attach(v->c.t.dfd, &nh)) {
        return false;
    }
    if (enable) {
        v->page[2] = 1;                         /* CONFIG.EN */
        return wait_for(&v->page[3], 1, 1);     /* STATUS.ENABLED */
    }
    return true;
}

/* Write @n commands at @at, move PROD past them, wait for CONS or ERR */
static void vq_submit(Vq *v, unsigned at, const uint64_t (*cmds)[2],
                      unsigned n)
{
    memcpy(&v->qm[2 * at], cmds, n * 16);
    __atomic_store_n(&v->page[1], at + n, __ATOMIC_RELEASE);
    for (int i = 0; i < 2000; i++) {
        if ((v->page[0] & 0xffff) == at + n || (v->page[4] ^ v->page[5])) {
            return;
        }
        usleep(1000);
    }
}

static const uint64_t vq_bad[2][2] = {
    { 0x40 | (uint64_t)CQ_VSID << 32, 0 },  /* ATC_INV, vSID: fine */
    { 0x30, 0 },                            /* TLBI_NSNH_ALL: refused */
};

static bool vcmdq_enable(void)
{
    Vq v;

    CHECK(vq_setup(&v, false));
    CHECK(!(v.page[3] & 1));
    v.page[2] = 1;
    CHECK(wait_for(&v.page[3], 1, 1));
    return true;
}

static bool vcmdq_consume(void)
{
    Vq v;
    const uint64_t cmds[2][2] = {
        { 0x12 | (uint64_t)VQ_ASID << 48, 0x10000000 }, { 0x46, 0 } };

    CHECK(vq_setup(&v, true));
    vq_submit(&v, 0, cmds, 2);
    CHECK((v.page[0] & 0xffff) == 2);
    CHECK(!((v.page[0] >> 24) & 0x7f));
    return true;
}

static bool vcmdq_tlbi(void)
{
    Vq v;
    const uint64_t cmds[2][2] = {
        { 0x12 | (uint64_t)VQ_ASID << 48, 0x10000000 }, { 0x46, 0 } };

    CHECK(vq_setup(&v, true));
    CHECK(dma_copy(v.c.t.dfd, 0x10000000, 0x20000000, 4) == 0);
    pt_map(&v.p, 0x10000000, v.a2, 0);
    CHECK(dma_copy(v.c.t.dfd, 0x10000000, 0x20000000, 4) == 0);
    CHECK(gbyte(&v.c.t.g, v.b) == 1);       /* stale until the TLBI */
    vq_submit(&v, 0, cmds, 2);
    CHECK((v.page[0] & 0xffff) == 2);
    CHECK(dma_copy(v.c.t.dfd, 0x10000000, 0x20000000, 4) == 0);
    CHECK(gbyte(&v.c.t.g, v.b) == 2);
    return true;
}

static bool vcmdq_illegal(void)
{
    Vq v;

    CHECK(vq_setup(&v, true));
    vq_submit(&v, 0, vq_bad, 2);
    CHECK((v.page[0] & 0xffff) == 1);               /* CONS on the bad one */
    CHECK(((v.page[0] >> 24) & 0x7f) == 1);         /* CERROR_ILL */
    CHECK((v.page[4] ^ v.page[5]) & 1);             /* GERROR.CMDQ_ERR */
    return true;
}

static bool vcmdq_error_event(void)
{
    Vq v;
    uint64_t evt[4];

    CHECK(vq_setup(&v, true));
    vq_submit(&v, 0, vq_bad, 2);
    CHECK(read(v.qfd, evt, sizeof(evt)) == 24);
    CHECK(evt[1] == 1 && evt[2] == 0);              /* LVCMDQ 0 */
    return true;
}

static bool vcmdq_resume(void)
{
    Vq v;

    CHECK(vq_setup(&v, true));
    vq_submit(&v, 0, vq_bad, 2);
    CHECK((v.page[0] & 0xffff) == 1);
    v.qm[2] = 0x46;                                 /* now a CMD_SYNC */
    v.qm[3] = 0;
    v.page[5] = v.page[4];                          /* GERRORN ack */
    CHECK(wait_for(&v.page[0], 0xffff, 2));
    return true;
}

static bool vcmdq_host_error(void)
{
    Vq v;
    uint64_t big[8];

    CHECK(vq_setup(&v, false));
    CHECK(cmdqv_error(v.c.t.viommu, 1) == 0);
    CHECK(read(v.qfd, big, sizeof(big)) == 24);
    CHECK(big[1] == 2 && big[2] == 0);              /* LVCMDQ 1 */
    return true;
}

/* ---------------------------------------------------------------------- */
/* The cases, by rule of docs/kernel-contract.md                           */
/* ---------------------------------------------------------------------- */

typedef struct Case {
    const char *rule;           /* its ID in docs/kernel-contract.md */
    const char *what;
    bool (*fn)(void);
} Case;

#define CASE(rule, what, fn)    { rule, what, fn }

static const Case cases[] = {
    CASE("GEN-1", "size below the last mandatory field -> EINVAL",
         gen_size_short),
    CASE("GEN-2", "non-zero bytes past the known struct -> E2BIG",
         gen_size_tail_nonzero),
    CASE("GEN-2", "a larger struct with a zero tail is accepted",
         gen_size_tail_zero),
    CASE("GEN-3", "unknown iommufd command -> ENOTTY", gen_unknown_ioctl),
    CASE("GEN-4", "the lowest free ID is reused after DESTROY",
         gen_lowest_free_id),
    CASE("GEN-5", "DESTROY of an unknown ID -> ENOENT", gen_destroy_unknown),

    CASE("IOAS-1", "IOAS_ALLOC flags != 0 -> EOPNOTSUPP", ioas_alloc_flags),
    CASE("IOAS-2", "IOAS_MAP neither READABLE nor WRITEABLE -> EINVAL",
         ioas_map_no_access),
    CASE("IOAS-3", "IOAS_MAP unknown flag -> EOPNOTSUPP",
         ioas_map_unknown_flag),
    CASE("IOAS-4", "unaligned FIXED_IOVA -> EINVAL", ioas_map_unaligned),
    CASE("IOAS-5", "FIXED_IOVA map of user memory succeeds", ioas_map_fixed),
    CASE("IOAS-6", "overlapping FIXED_IOVA -> EEXIST", ioas_map_overlap),
    CASE("IOAS-7", "iova + length wraps -> EOVERFLOW", ioas_map_overflow),
    CASE("IOAS-8", "user_va not backed -> EFAULT", ioas_map_unbacked),
    CASE("IOAS-9", "unknown IOAS ID -> ENOENT", ioas_map_unknown_ioas),
    CASE("IOAS-10", "without FIXED_IOVA a free IOVA comes back",
         ioas_map_any_iova),
    CASE("IOAS-11", "IOAS_UNMAP cutting through an area -> ENOENT",
         ioas_unmap_partial),
    CASE("IOAS-12", "IOAS_UNMAP of nothing mapped -> ENOENT",
         ioas_unmap_nothing),
    CASE("IOAS-13", "IOAS_UNMAP length 0 -> EINVAL", ioas_unmap_zero),
    CASE("IOAS-14", "IOAS_UNMAP writes back the bytes unmapped",
         ioas_unmap_length_out),
    CASE("IOAS-15", "IOAS_UNMAP 0..U64_MAX unmaps everything",
         ioas_unmap_all),
    CASE("IOAS-16", "unmap-all of an empty IOAS succeeds, 0 bytes",
         ioas_unmap_all_empty),
    CASE("IOAS-17", "IOVA_RANGES of an unattached IOAS: the whole space",
         ioas_ranges_unattached),
    CASE("IOAS-18", "IOVA_RANGES buffer too small -> EMSGSIZE, num_iovas",
         ioas_ranges_small_buffer),
    CASE("IOAS-19", "IOVA_RANGES after attach: MSI window and past the "
         "aperture excluded", ioas_ranges_attached),
    CASE("IOAS-20", "no option to move the MSI window -> EOPNOTSUPP",
         ioas_option_unknown),
    CASE("IOAS-21", "HUGE_PAGES per IOAS accepted", ioas_option_huge_pages),
    CASE("IOAS-22", "CHANGE_PROCESS without user_va mappings succeeds",
         ioas_change_process_empty),
    CASE("IOAS-23", "CHANGE_PROCESS with a user_va mapping -> EINVAL",
         ioas_change_process_user_va),
    CASE("IOAS-24", "IOAS_UNMAP of an area a HW queue pins -> EBUSY",
         ioas_pinned),
    CASE("IOAS-25", "unpinned once the HW queues are destroyed",
         ioas_unpinned),

    CASE("VFIO-1", "device ioctls before BIND_IOMMUFD -> EINVAL",
         vfio_ioctl_unbound),
    CASE("VFIO-2", "region access before BIND_IOMMUFD -> EINVAL",
         vfio_region_unbound),
    CASE("VFIO-3", "BIND to something not an iommufd -> EBADF",
         vfio_bind_not_iommufd),
    CASE("VFIO-4", "BIND_IOMMUFD returns a dev_id", vfio_bind),
    CASE("VFIO-5", "a second BIND -> EINVAL", vfio_bind_twice),
    CASE("VFIO-6", "GET_INFO: a PCI function with reset", vfio_get_info),
    CASE("VFIO-7", "region index out of range -> EINVAL", vfio_region_index),
    CASE("VFIO-8", "SET_IRQS on MSI-X of a function without -> EINVAL",
         vfio_irqs_missing),
    CASE("VFIO-9", "DEVICE_FEATURE migration -> ENOTTY", vfio_feature),
    CASE("VFIO-10", "SET_IRQS MSI with an eventfd", vfio_irqs_msi),
    CASE("VFIO-11", "closing the cdev detaches and unbinds",
         vfio_close_unbinds),
    CASE("VFIO-12", "cdev closed with its vDEVICE alive: the vDEVICE stays",
         vfio_close_vdevice_leaks),
    CASE("VFIO-13", "the left-over vDEVICE can be destroyed by ID",
         vfio_close_vdevice_destroy),
    CASE("VFIO-14", "replace nested S1 -> bypass in one ioctl",
         vfio_replace_bypass),
    CASE("VFIO-14", "replace bypass -> abort in one ioctl",
         vfio_replace_abort),
    CASE("FN-1", "BAR0 4 KiB, not mmappable", fn_bar0),
    CASE("FN-2", "BAR0 ID register of the test device", fn_id),

    CASE("ATT-1", "attach to an IOAS: an automatic HWPT, ID written back",
         att_auto_domain),
    CASE("ATT-2", "MSI window already mapped -> EADDRINUSE",
         att_msi_window_in_use),
    CASE("ATT-3", "IOAS_MAP into the reserved window -> EINVAL",
         att_map_reserved),
    CASE("ATT-4", "the reservation goes with the last attachment",
         att_detach_unreserves),
    CASE("ATT-5", "the automatic HWPT is freed with its last device",
         att_auto_domain_freed),
    CASE("ATT-6", "a paging HWPT of another SMMU -> EINVAL", att_other_smmu),
    CASE("ATT-7", "S1 vSTE without a vDEVICE -> ENOENT",
         att_s1_needs_vdevice),
    CASE("ATT-8", "attach with a vDEVICE records the vSID",
         att_captures_vsid),
    CASE("ATT-9", "before any attach the MSI window is ordinary IOVA space",
         att_msi_window_free),

    CASE("REF-1", "IOAS with a HWPT -> EBUSY", ref_ioas_with_hwpt),
    CASE("REF-2", "HWPT with an attached device -> EBUSY",
         ref_hwpt_attached),
    CASE("REF-3", "a bound device's ID -> EBUSY", ref_bound_device),
    CASE("REF-4", "nesting parent under a vIOMMU -> EBUSY",
         ref_parent_under_viommu),
    CASE("REF-5", "attached nested HWPT -> EBUSY", ref_nested_attached),
    CASE("REF-6", "vIOMMU with a vDEVICE and a nested HWPT -> EBUSY",
         ref_viommu_in_use),
    CASE("REF-7", "vIOMMU while its page is mmapped -> EBUSY",
         ref_viommu_mapped),
    CASE("REF-8", "vIOMMU with HW queues -> EBUSY", ref_viommu_queues),
    CASE("REF-9", "vEVENTQ while its fd is open -> EBUSY", ref_veventq_open),
    CASE("REF-9", "vEVENTQ after close is destroyed", ref_veventq_closed),
    CASE("REF-10", "everything destroyed in reverse order",
         ref_reverse_order),

    CASE("HWPT-1", "data_type NONE with data_len != 0 -> EINVAL",
         hwpt_none_with_data),
    CASE("HWPT-2", "data_type set with data_len 0 -> EINVAL",
         hwpt_type_without_data),
    CASE("HWPT-3", "Arm flags NEST_PARENT|DIRTY -> EOPNOTSUPP",
         hwpt_arm_flags),
    CASE("HWPT-4", "DIRTY_TRACKING without HTTU -> EOPNOTSUPP",
         hwpt_dirty_without_httu),
    CASE("HWPT-5", "unknown flag -> EOPNOTSUPP", hwpt_unknown_flag),
    CASE("HWPT-6", "paging HWPT with driver data -> EOPNOTSUPP",
         hwpt_paging_with_data),
    CASE("HWPT-7", "NEST_PARENT on a nesting SMMU succeeds",
         hwpt_nest_parent),
    CASE("HWPT-8", "NEST_PARENT without S1P && S2P -> EOPNOTSUPP",
         hwpt_nest_parent_no_nesting),
    CASE("HWPT-9", "nested with pt_id = a paging HWPT -> EOPNOTSUPP",
         hwpt_nested_on_paging),
    CASE("HWPT-10", "unknown dev_id -> ENOENT", hwpt_unknown_dev),
    CASE("HWPT-11", "nested data_len < 16 -> EINVAL", hwpt_nested_short),
    CASE("HWPT-12", "nested with flag PASID -> EOPNOTSUPP",
         hwpt_nested_flags),
    CASE("HWPT-13", "nested data_type not ARM_SMMUV3 -> EINVAL",
         hwpt_nested_type),
    CASE("HWPT-14", "device and vIOMMU on different SMMUs -> EINVAL",
         hwpt_nested_other_smmu),

    CASE("VSTE-1", "a word-0 bit outside the allowed set -> EIO",
         vste_word0_bit),
    CASE("VSTE-2", "a word-1 bit outside the allowed set -> EIO",
         vste_word1_bit),
    CASE("VSTE-3", "Config stage-2-only -> EIO", vste_config_s2),
    CASE("VSTE-4", "Config nested -> EIO", vste_config_nested),
    CASE("VSTE-5", "EATS S1CHK -> EIO", vste_eats_s1chk),
    CASE("VSTE-6", "V=0 accepted whatever the rest, kept as zero",
         vste_invalid_taken),
    CASE("VSTE-7", "S1 vSTE with EATS TRANS accepted", vste_eats_trans),
    CASE("VSTE-8", "EATS dropped from the kept vSTE", vste_eats_stripped),
    CASE("VSTE-8", "EATS TRANS, device without ATS: physical ATS off",
         vste_ats_without),
    CASE("VSTE-8", "EATS TRANS, device with ATS: physical ATS on",
         vste_ats_with),
    CASE("VSTE-9", "S1CDMax beyond SSIDSIZE: C_BAD_STE from the hardware",
         vste_no_value_checks),
    CASE("VSTE-10", "bypass vSTE: stage 2 only", vste_bypass),
    CASE("VSTE-11", "abort vSTE: aborted without an event", vste_abort),

    CASE("INFO-1", "DEFAULT type: the SMMU's IDR0-5, IIDR, AIDR", info_arm),
    CASE("INFO-2", "PCI_ATS_NOT_SUPPORTED for a device without ATS",
         info_ats_caps),
    CASE("INFO-3", "bytes past the kernel data zeroed, data_len 40",
         info_tail_zeroed),
    CASE("INFO-4", "data_len 0 reports the kernel length", info_len_zero),
    CASE("INFO-5", "TEGRA241_CMDQV without a CMDQV -> EOPNOTSUPP",
         info_tegra_absent),
    CASE("INFO-6", "TEGRA241_CMDQV version, log2vcmdqs, log2vsids",
         info_tegra),
    CASE("INFO-7", "unknown flag -> EOPNOTSUPP", info_unknown_flag),
    CASE("INFO-8", "__reserved non-zero -> EOPNOTSUPP", info_reserved),

    CASE("VIOMMU-1", "type DEFAULT -> EOPNOTSUPP", viommu_default),
    CASE("VIOMMU-1", "flags != 0 -> EOPNOTSUPP", viommu_flags),
    CASE("VIOMMU-2", "hwpt_id not a nesting parent -> EINVAL",
         viommu_not_parent),
    CASE("VIOMMU-3", "parent of another SMMU -> EINVAL", viommu_other_smmu),
    CASE("VIOMMU-4", "TEGRA241 on an SMMU without CMDQV -> EOPNOTSUPP",
         viommu_tegra_absent),
    CASE("VIOMMU-5", "ARM_SMMUV3 on a nesting parent", viommu_arm),

    CASE("VDEV-1", "device on another SMMU -> EINVAL", vdev_other_smmu),
    CASE("VDEV-2", "device with several StreamIDs -> EOPNOTSUPP",
         vdev_multi_stream),
    CASE("VDEV-3", "a vSID for a device", vdev_alloc),
    CASE("VDEV-4", "virt_id already used in the vIOMMU -> EEXIST",
         vdev_dup_vsid),
    CASE("VDEV-5", "a second vDEVICE for a device -> EEXIST", vdev_second),

    CASE("INV-1", "entry_num 0 -> EINVAL", inv_empty),
    CASE("INV-2", "a nested HWPT ID -> EOPNOTSUPP", inv_nested_id),
    CASE("INV-3", "a paging HWPT ID -> EINVAL", inv_paging_id),
    CASE("INV-4", "data_type not ARM_SMMUV3 -> EINVAL", inv_data_type),
    CASE("INV-5", "entry_len 24 with non-zero extra bytes -> E2BIG",
         inv_entry_len_tail),
    CASE("INV-6", "entry_len 24 with a zero tail accepted",
         inv_entry_len_zero_tail),
    CASE("INV-7", "CMD_SYNC -> EIO, entry_num = its index", inv_cmd_sync),
    CASE("INV-8", "commands before the refused one, same batch, not "
         "executed", inv_quirk_unissued),
    CASE("INV-9", "CFGI_STE -> EIO", inv_cfgi_ste),
    CASE("INV-10", "CFGI_ALL -> EIO", inv_cfgi_all),
    CASE("INV-11", "TLBI_S2_IPA -> EIO", inv_tlbi_s2),
    CASE("INV-12", "TLBI_NSNH_ALL -> TLBI_NH_ALL with the VMID",
         inv_nsnh_all),
    CASE("INV-13", "TLBI_NH_VA: VMID replaced, ASID and address kept",
         inv_vmid),
    CASE("INV-14", "ATC_INV: vSID replaced by the physical StreamID",
         inv_vsid),
    CASE("INV-15", "CFGI_CD of a vSID without vDEVICE -> EIO",
         inv_vsid_unknown),
    CASE("INV-16", "100 commands issued as batches of 63 + 37", inv_batches),
    CASE("INV-17", "refusal at 70: first batch executed, [63, 70) not",
         inv_fail_second_batch),
    CASE("INV-18", "CMD_SYNC timeout: entry_num = last of the failed batch",
         inv_sync_timeout),

    CASE("SMMU-1", "S1 4K granule, 4 levels, through S2", smmu_walk_4k),
    CASE("SMMU-2", "S1 16K granule", smmu_walk_16k),
    CASE("SMMU-3", "S1 64K granule, 2 levels", smmu_walk_64k),
    CASE("SMMU-4", "nested S1 copy through the guest's tables",
         smmu_nested_copy),
    CASE("SMMU-5", "without a TLBI the old translation is used",
         smmu_iotlb_stale),
    CASE("SMMU-6", "TLBI_NH_VA of another ASID leaves the entry",
         smmu_tlbi_other_asid),
    CASE("SMMU-7", "TLBI_NH_VA of the ASID removes it", smmu_tlbi_va),
    CASE("SMMU-8", "TLBI_NSNH_ALL removes everything", smmu_tlbi_nsnh_all),
    CASE("SMMU-9", "a CD made invalid in memory is still cached",
         smmu_cd_cached),
    CASE("SMMU-10", "write to a read-only page -> F_PERMISSION",
         smmu_permission),
    CASE("SMMU-11", "AF=0 with CD.AFFD=0 -> F_ACCESS", smmu_access_flag),

    CASE("EVT-1", "F_STE_FETCH is not forwarded", evt_not_forwarded_id),
    CASE("EVT-2", "stage-2 faults are not forwarded", evt_s2_fault),
    CASE("EVT-2", "a host event with the S2 bit stays in the host",
         evt_s2_host_event),
    CASE("EVT-4", "no vEVENTQ: the event is not delivered", evt_no_veventq),
    CASE("EVT-5", "after CFGI_CD, CD.V=0 -> C_BAD_CD with the vSID",
         evt_bad_cd),
    CASE("EVT-6", "F_TRANSLATION with vSID, InputAddr, RnW",
         evt_translation),

    CASE("VEQ-1", "the header sequence increments per record",
         veq_sequence),
    CASE("VEQ-2", "not readable when empty", veq_empty),
    CASE("VEQ-3", "POLLIN when non-empty", veq_pollin),
    CASE("VEQ-4", "read count < 8 -> EINVAL", veq_read_short),
    CASE("VEQ-5", "first record does not fit -> EINVAL; whole records only",
         veq_read_no_fit),
    CASE("VEQ-6", "pread -> ESPIPE", veq_pread),
    CASE("VEQ-7", "depth 4, 6 events: 4 records + LOST_EVENTS", veq_lost),
    CASE("VEQ-8", "the sequence continues after the loss", veq_after_loss),
    CASE("VEQ-9", "allocation failure -> LOST_EVENTS", veq_alloc_failure),
    CASE("VEQ-10", "a second queue of a type -> EEXIST", veq_second),
    CASE("VEQ-11", "depth 0 -> EINVAL", veq_depth_zero),
    CASE("VEQ-11", "depth above 1 << 19 -> EINVAL", veq_depth_big),
    CASE("VEQ-12", "type DEFAULT -> EOPNOTSUPP", veq_default),
    CASE("VEQ-13", "the vEVENTQ fd is close-on-exec", veq_cloexec),

    CASE("MSI-3", "stage 1 identity-maps the window: the MSI arrives",
         msi_identity),
    CASE("MSI-4", "doorbell IOVA unmapped in stage 1: MSI lost",
         msi_unmapped),
    CASE("MSI-4", "doorbell IOVA mapped elsewhere: MSI lost",
         msi_elsewhere),

    CASE("CMDQV-1", "TEGRA241 vIOMMU without data -> EINVAL", cmdqv_no_data),
    CASE("CMDQV-2", "data_len != 16 -> EINVAL", cmdqv_data_len),
    CASE("CMDQV-3", "mmap offset page-aligned, length 64 KiB",
         cmdqv_mmap_info),
    CASE("CMDQV-4", "a VINTF per vIOMMU", cmdqv_vintfs),
    CASE("CMDQV-5", "every VINTF taken -> ENOSPC", cmdqv_vintfs_full),
    CASE("CMDQV-6", "vSID above 20 bits -> EINVAL", cmdqv_vsid_bits),

    CASE("MMAP-1", "MAP_PRIVATE -> EINVAL", mmap_private),
    CASE("MMAP-2", "PROT_EXEC -> EPERM", mmap_exec),
    CASE("MMAP-3", "length not the reported one -> ENXIO", mmap_length),
    CASE("MMAP-4", "offset not the reported one -> ENXIO", mmap_offset),
    CASE("MMAP-5", "the VINTF page maps, MAP_SHARED, exact length",
         mmap_vintf),
    CASE("MMAP-6", "munmap drops the mapping's reference", mmap_munmap),

    CASE("HWQ-1", "index 1 before index 0 -> EIO", hwq_order),
    CASE("HWQ-2", "length not a power of 2 -> EINVAL", hwq_len_pow2),
    CASE("HWQ-3", "length below 32 -> EINVAL", hwq_len_min),
    CASE("HWQ-4", "length above 16 << IDR1.CMDQS -> EINVAL", hwq_len_max),
    CASE("HWQ-5", "base not aligned to the length -> EINVAL", hwq_align),
    CASE("HWQ-6", "IPA not mapped in the IOAS -> ENOENT", hwq_unmapped),
    CASE("HWQ-7", "pages not physically contiguous -> EFAULT",
         hwq_contiguous),
    CASE("HWQ-8", "length 0 -> EINVAL", hwq_len_zero),
    CASE("HWQ-9", "type DEFAULT -> EOPNOTSUPP", hwq_type),
    CASE("HWQ-10", "index beyond the VINTF's LVCMDQs -> EINVAL", hwq_index),
    CASE("HWQ-11", "index 0, 4 KiB, aligned, mapped", hwq_first),
    CASE("HWQ-12", "the same index again -> EEXIST", hwq_again),
    CASE("HWQ-13", "index 1 after index 0", hwq_second),
    CASE("HWQ-14", "destroy 0 while 1 exists -> EBUSY", hwq_destroy_order),
    CASE("HWQ-15", "destroy 1 then 0 succeeds", hwq_destroy),

    CASE("VCMDQ-1", "CONFIG.EN -> STATUS.ENABLED", vcmdq_enable),
    CASE("VCMDQ-2", "commands in the guest queue consumed, CONS = PROD",
         vcmdq_consume),
    CASE("VCMDQ-3", "TLBI_NH_VA with the VINTF's VMID cleans the IOTLB",
         vcmdq_tlbi),
    CASE("VCMDQ-4", "ATC_INV via SID_MATCH ok, TLBI_NSNH_ALL -> CERROR_ILL",
         vcmdq_illegal),
    CASE("VCMDQ-5", "the error as a TEGRA241_CMDQV vEVENT",
         vcmdq_error_event),
    CASE("VCMDQ-6", "after the GERRORN ack the queue resumes",
         vcmdq_resume),
    CASE("VCMDQ-7", "a host-raised LVCMDQ error as a vEVENT",
         vcmdq_host_error),

    CASE("SIM-1", "the 2nd HWPT_INVALIDATE fails with the errno, once",
         sim_inject),
};

/* In the case's own process: a fresh host, the case, its verdict */
static int run_here(const Case *c)
{
    char kick[16];

    kick_fd = eventfd(0, 0);
    snprintf(kick, sizeof(kick), "%d", kick_fd);
    setenv(SIMHOST_KICK_ENV, kick, 1);
    host_setup();
    alarm(CASE_TIMEOUT_S);
    return c->fn() ? 0 : 1;
}

static bool selected(const Case *c, int argc, char **argv)
{
    if (argc < 2) {
        return true;
    }
    for (int i = 1; i < argc; i++) {
        if (!strncmp(c->rule, argv[i], strlen(argv[i]))) {
            return true;
        }
    }
    return false;
}

int main(int argc, char **argv)
{
    int n = 0, nfailed = 0, status;

    if (!dlsym(RTLD_DEFAULT, "simhost_version")) {
        printf("1..0 # SKIP libsimhost.so is not preloaded\n");
        return 0;
    }
    if (argc == 3 && !strcmp(argv[1], "--case")) {
        return run_here(&cases[atoi(argv[2])]);
    }
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        n += selected(&cases[i], argc, argv);
    }
    printf("1..%d\n", n);
    n = 0;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const Case *c = &cases[i];
        char idx[16];
        pid_t pid;

        if (!selected(c, argc, argv)) {
            continue;
        }
        snprintf(idx, sizeof(idx), "%zu", i);
        fflush(stdout);
        pid = fork();
        if (pid == 0) {
            /* a new image: the library starts from nothing */
            execl("/proc/self/exe", argv[0], "--case", idx, (char *)NULL);
            _exit(127);
        }
        status = 0;
        if (pid < 0 || waitpid(pid, &status, 0) != pid) {
            status = -1;
        }
        if (status == 0) {
            printf("ok %d - %s %s\n", ++n, c->rule, c->what);
        } else {
            nfailed++;
            printf("not ok %d - %s %s\n", ++n, c->rule, c->what);
            if (WIFSIGNALED(status)) {
                printf("# killed by signal %d%s\n", WTERMSIG(status),
                       WTERMSIG(status) == SIGALRM ? " (timed out)" : "");
            }
        }
    }
    return nfailed ? 1 : 0;
}
