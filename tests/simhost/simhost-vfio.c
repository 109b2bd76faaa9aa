/*
 * simhost: the VFIO cdev of a PCI function (vfio-pci as Linux 7.2 answers
 * it: bind, attach, regions, IRQs, reset) and the function itself, a DMA
 * engine whose transactions go through the host SMMU model.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "simhost-int.h"

#define REFUSE(err, ...) do { sh_log(__VA_ARGS__); return -(err); } while (0)

#define REGION_SHIFT    40
#define CFG_MSI         0x40


static void config_init(int n, ShDev *d)
{
    uint8_t *c = d->config;

    memset(c, 0, sizeof(d->config));
    c[0x00] = SIMHOST_PCI_VENDOR & 0xff;
    c[0x01] = SIMHOST_PCI_VENDOR >> 8;
    c[0x02] = SIMHOST_PCI_DEVICE & 0xff;
    c[0x03] = SIMHOST_PCI_DEVICE >> 8;
    c[0x06] = 0x10;                 /* status: capability list */
    c[0x08] = 0x01;                 /* revision */
    c[0x0a] = 0x80;                 /* class 0x0880: other system periph */
    c[0x0b] = 0x08;
    c[0x10] = 0x00;                 /* BAR0: 32-bit memory */
    c[0x2c] = SIMHOST_PCI_SUBSYS & 0xff;
    c[0x2d] = SIMHOST_PCI_SUBSYS >> 8;
    c[0x2e] = n & 0xff;
    c[0x2f] = 0;
    c[0x34] = CFG_MSI;
    c[0x3d] = 0;                    /* no INTx pin */
    c[CFG_MSI + 0] = 0x05;          /* MSI, 64-bit, 1 vector */
    c[CFG_MSI + 1] = 0x00;
    c[CFG_MSI + 2] = 0x80;
}

static void bar_reset(ShDev *d)
{
    d->src = d->dst = d->len = d->status = d->err_addr = 0;
    d->iter = 1;
    d->stride = 4096;
    d->pattern = 0;
}

/* ---------------------------------------------------------------------- */
/* DMA engine                                                              */
/* ---------------------------------------------------------------------- */

static void dma_fail(ShDev *d, uint64_t iova)
{
    uint32_t nfailed = d->status >> 32;

    if (!nfailed) {
        d->err_addr = iova;
    }
    if (nfailed < UINT32_MAX) {
        nfailed++;
    }
    d->status = (uint64_t)nfailed << 32 | SIMHOST_STATUS_DMA_ERROR;
}

/* Move @len bytes between @buf and IOVA space, stop at the first fault */
static bool dma_rw(int n, uint64_t iova, uint8_t *buf, uint64_t len,
                   bool write)
{
    ShDev *d = &sh_dev[n];
    uint64_t done = 0;

    while (done < len) {
        uint8_t *host;
        uint64_t avail;
        ShFault f;

        if (!(d->config[0x04] & 0x04)) {
            /* bus mastering off: the function issues nothing */
            dma_fail(d, iova + done);
            return false;
        }
        if (sh_translate(n, iova + done, write, &host, &avail, &f)) {
            sh_report_fault(n, &f, write);
            sh_ctl->dev_dma_fault[n]++;
            dma_fail(d, iova + done);
            return false;
        }
        if (avail > len - done) {
            avail = len - done;
        }
        if (write) {
            memcpy(host, buf + done, avail);
        } else {
            memcpy(buf + done, host, avail);
        }
        done += avail;
    }
    sh_ctl->dev_dma_ok[n]++;
    return true;
}

static void msi_fire(int n)
{
    ShDev *d = &sh_dev[n];
    uint64_t one = 1;

    /* the doorbell write goes through the SMMU like any DMA */
    if (sh_msi_translate(n) || d->irq_efd[VFIO_PCI_MSI_IRQ_INDEX] < 0) {
        d->msi_lost++;
        sh_ctl->dev_msi_lost[n]++;
        return;
    }
    sh_real_write(d->irq_efd[VFIO_PCI_MSI_IRQ_INDEX], &one, sizeof(one));
    d->msi_sent++;
    sh_ctl->dev_msi_sent[n]++;
}

static void dma_run(int n, uint64_t cmd)
{
    ShDev *d = &sh_dev[n];
    unsigned op = cmd & 0xff;
    uint8_t *buf;

    d->status = 0;
    d->err_addr = 0;
    if ((op == SIMHOST_CMD_COPY || op == SIMHOST_CMD_FILL) &&
        d->len > SIMHOST_DMA_MAX_LEN) {
        d->status = SIMHOST_STATUS_BAD_CMD;
    } else if (op == SIMHOST_CMD_COPY) {
        buf = malloc(d->len ? d->len : 1);
        if (dma_rw(n, d->src, buf, d->len, false)) {
            dma_rw(n, d->dst, buf, d->len, true);
        }
        free(buf);
    } else if (op == SIMHOST_CMD_FILL) {
        buf = malloc(d->len ? d->len : 1);
        memset(buf, d->pattern & 0xff, d->len);
        dma_rw(n, d->dst, buf, d->len, true);
        free(buf);
    } else if (op == SIMHOST_CMD_READ_SWEEP && d->stride) {
        uint64_t v;

        for (uint64_t i = 0; i < d->iter; i++) {
            for (uint64_t off = 0; off < d->len;) {
                if (!dma_rw(n, d->src + off, (uint8_t *)&v, 8, false)) {
                    /* dma_rw recorded it */
                }
                if (d->stride > d->len - off) {
                    break;
                }
                off += d->stride;
            }
        }
    } else {
        d->status = SIMHOST_STATUS_BAD_CMD;
    }
    d->done++;
    if (cmd & SIMHOST_CMD_MSI) {
        msi_fire(n);
    }
}

static uint64_t *bar_reg(ShDev *d, uint64_t reg)
{
    switch (reg) {
    case SIMHOST_R_SRC: return &d->src;
    case SIMHOST_R_DST: return &d->dst;
    case SIMHOST_R_LEN: return &d->len;
    case SIMHOST_R_STATUS: return &d->status;
    case SIMHOST_R_ERR_ADDR: return &d->err_addr;
    case SIMHOST_R_ITER: return &d->iter;
    case SIMHOST_R_STRIDE: return &d->stride;
    case SIMHOST_R_PATTERN: return &d->pattern;
    case SIMHOST_R_DONE_COUNT: return &d->done;
    case SIMHOST_R_MSI_SENT: return &d->msi_sent;
    case SIMHOST_R_MSI_LOST: return &d->msi_lost;
    default: return NULL;
    }
}

static int bar_access(int n, uint8_t *buf, size_t len, uint64_t off,
                      bool write)
{
    ShDev *d = &sh_dev[n];
    uint64_t reg = off & ~7ULL, val, *p;
    unsigned shift = (off & 7) * 8;

    if ((len != 1 && len != 2 && len != 4 && len != 8) ||
        (off & 7) + len > 8 || off + len > SIMHOST_BAR0_SIZE) {
        return -EINVAL;
    }
    p = bar_reg(d, reg);
    if (!write) {
        val = reg == SIMHOST_R_ID ? SIMHOST_DMA_ID : p ? *p : 0;
        val >>= shift;
        memcpy(buf, &val, len);
        return len;
    }
    val = 0;
    memcpy(&val, buf, len);
    if (reg == SIMHOST_R_CMD) {
        if (!(off & 7)) {
            dma_run(n, val);
        }
    } else if (p && reg <= SIMHOST_R_PATTERN && reg != SIMHOST_R_STATUS &&
               reg != SIMHOST_R_ERR_ADDR) {
        uint64_t mask = len == 8 ? ~0ULL : ((1ULL << (len * 8)) - 1) << shift;

        *p = (*p & ~mask) | ((val << shift) & mask);
    }
    return len;
}

ssize_t sh_vfio_rw(int n, void *buf, size_t len, off_t off, bool write)
{
    ShDev *d = &sh_dev[n];
    unsigned index = (uint64_t)off >> REGION_SHIFT;
    uint64_t o = (uint64_t)off & ((1ULL << REGION_SHIFT) - 1);
    SimhostKind k;
    int rc;

    if (index == VFIO_PCI_CONFIG_REGION_INDEX) {
        k = write ? SIMHOST_K_CONFIG_WRITE : SIMHOST_K_CONFIG_READ;
    } else {
        k = write ? SIMHOST_K_BAR_WRITE : SIMHOST_K_BAR_READ;
    }
    sh_ctl->calls[k]++;
    rc = sh_inject_check(k);
    if (!rc && !d->bound) {
        rc = -EINVAL;
    }
    if (!rc && index == VFIO_PCI_CONFIG_REGION_INDEX) {
        if (o >= sizeof(d->config)) {
            rc = 0;
        } else {
            if (len > sizeof(d->config) - o) {
                len = sizeof(d->config) - o;
            }
            if (!write) {
                memcpy(buf, d->config + o, len);
            } else {
                /* the command register and BARs; the rest is read-only */
                for (size_t i = 0; i < len; i++) {
                    uint64_t a = o + i;

                    if (a == 0x04 || a == 0x05 || (a >= 0x10 && a < 0x14)) {
                        d->config[a] = ((uint8_t *)buf)[i];
                    }
                }
            }
            rc = len;
        }
    } else if (!rc && index == VFIO_PCI_BAR0_REGION_INDEX) {
        rc = bar_access(n, buf, len, o, write);
    } else if (!rc) {
        rc = -EINVAL;
    }
    if (rc < 0) {
        sh_ctl->fails[k]++;
    }
    return rc;
}

/* ---------------------------------------------------------------------- */
/* ioctls                                                                  */
/* ---------------------------------------------------------------------- */

static int vfio_kind(unsigned long req)
{
    switch (req) {
    case VFIO_DEVICE_GET_INFO: return SIMHOST_K_VFIO_GET_INFO;
    case VFIO_DEVICE_GET_REGION_INFO: return SIMHOST_K_VFIO_REGION_INFO;
    case VFIO_DEVICE_GET_IRQ_INFO: return SIMHOST_K_VFIO_IRQ_INFO;
    case VFIO_DEVICE_SET_IRQS: return SIMHOST_K_VFIO_SET_IRQS;
    case VFIO_DEVICE_RESET: return SIMHOST_K_VFIO_RESET;
    case VFIO_DEVICE_GET_PCI_HOT_RESET_INFO:
        return SIMHOST_K_VFIO_HOT_RESET_INFO;
    case VFIO_DEVICE_PCI_HOT_RESET: return SIMHOST_K_VFIO_HOT_RESET;
    case VFIO_DEVICE_FEATURE: return SIMHOST_K_VFIO_FEATURE;
    case VFIO_DEVICE_BIND_IOMMUFD: return SIMHOST_K_VFIO_BIND;
    case VFIO_DEVICE_ATTACH_IOMMUFD_PT: return SIMHOST_K_VFIO_ATTACH;
    case VFIO_DEVICE_DETACH_IOMMUFD_PT: return SIMHOST_K_VFIO_DETACH;
    default: return SIMHOST_K_UNKNOWN_IOCTL;
    }
}

static int irq_count(unsigned index)
{
    switch (index) {
    case VFIO_PCI_MSI_IRQ_INDEX:
    case VFIO_PCI_REQ_IRQ_INDEX:
        return 1;
    default:
        return 0;           /* no INTx pin, no MSI-X, not PCIe (no ERR) */
    }
}

static void irq_close(ShDev *d, unsigned index)
{
    if (d->irq_efd[index] >= 0) {
        close(d->irq_efd[index]);
        d->irq_efd[index] = -1;
    }
}

static int set_irqs(ShDev *d, struct vfio_irq_set *s)
{
    unsigned type = s->flags & VFIO_IRQ_SET_DATA_TYPE_MASK;
    unsigned action = s->flags & VFIO_IRQ_SET_ACTION_TYPE_MASK;
    unsigned max;

    if (s->argsz < offsetof(struct vfio_irq_set, data)) {
        return -EINVAL;
    }
    if (s->index >= VFIO_PCI_NUM_IRQS || __builtin_popcount(type) != 1 ||
        __builtin_popcount(action) != 1 ||
        (s->flags & ~(VFIO_IRQ_SET_DATA_TYPE_MASK |
                      VFIO_IRQ_SET_ACTION_TYPE_MASK))) {
        REFUSE(EINVAL, "set_irqs: index %u flags 0x%x", s->index, s->flags);
    }
    max = irq_count(s->index);
    if (!max || s->start >= max || s->start + s->count > max) {
        if (!(type == VFIO_IRQ_SET_DATA_NONE &&
              action == VFIO_IRQ_SET_ACTION_TRIGGER && s->count == 0 && max)) {
            REFUSE(EINVAL, "set_irqs: index %u start %u count %u (max %u)",
                   s->index, s->start, s->count, max);
        }
    }
    if (type == VFIO_IRQ_SET_DATA_EVENTFD &&
        s->argsz < offsetof(struct vfio_irq_set, data) +
                   s->count * sizeof(int32_t)) {
        return -EINVAL;
    }
    if (action != VFIO_IRQ_SET_ACTION_TRIGGER) {
        return 0;           /* MSI is not maskable here: accepted, no-op */
    }
    if (type == VFIO_IRQ_SET_DATA_NONE && s->count == 0) {
        irq_close(d, s->index);
        return 0;
    }
    if (type == VFIO_IRQ_SET_DATA_EVENTFD) {
        int32_t fd;

        memcpy(&fd, s->data, sizeof(fd));
        irq_close(d, s->index);
        if (fd >= 0) {
            /* the kernel holds the eventfd context, not the number */
            d->irq_efd[s->index] = dup(fd);
            if (d->irq_efd[s->index] < 0) {
                return -EBADF;
            }
        }
        return 0;
    }
    if (type == VFIO_IRQ_SET_DATA_NONE && d->irq_efd[s->index] >= 0) {
        uint64_t one = 1;

        sh_real_write(d->irq_efd[s->index], &one, sizeof(one));
    }
    return 0;
}

int sh_vfio_ioctl(int n, unsigned long req, void *arg)
{
    ShDev *d = &sh_dev[n];
    SimhostKind k = vfio_kind(req);
    int rc;

    sh_ctl->calls[k]++;
    rc = sh_inject_check(k);
    if (rc) {
        goto out;
    }
    if (k == SIMHOST_K_UNKNOWN_IOCTL) {
        rc = -ENOTTY;
        goto out;
    }
    if (n >= (int)sh_ctl->num_devs) {
        rc = -ENODEV;
        goto out;
    }
    if (k == SIMHOST_K_VFIO_BIND) {
        struct vfio_device_bind_iommufd *b = arg;
        ShCtx *ctx;

        if (b->argsz <
            offsetofend(struct vfio_device_bind_iommufd, out_devid)) {
            rc = -EINVAL;
        } else if (b->flags & ~VFIO_DEVICE_BIND_FLAG_TOKEN) {
            rc = -EINVAL;
        } else if (d->bound) {
            sh_log("bind: device %d already bound", n);
            rc = -EINVAL;
        } else if (!sh_ctx_of_fd(b->iommufd)) {
            sh_log("bind: fd %d is not an iommufd", b->iommufd);
            rc = -EBADF;
        } else if (!sh_device_bind(sh_ctx_of_fd(b->iommufd), n, &d->idev)) {
            rc = -ENOMEM;
        } else {
            ctx = sh_ctx_of_fd(b->iommufd);
            d->bound = true;
            d->ctx = ctx;
            if (!d->config[0]) {
                config_init(n, d);
                bar_reset(d);
            }
            b->out_devid = d->idev->id;
            sh_ctl->dev_bound[n] = 1;
            sh_ctl->dev_id[n] = d->idev->id;
        }
        goto out;
    }
    /* everything else needs a bound device (access_granted) */
    if (!d->bound) {
        rc = -EINVAL;
        goto out;
    }
    switch (k) {
    case SIMHOST_K_VFIO_ATTACH: {
        struct vfio_device_attach_iommufd_pt *a = arg;

        if (a->argsz <
            offsetofend(struct vfio_device_attach_iommufd_pt, pt_id) ||
            (a->flags & ~VFIO_DEVICE_ATTACH_PASID)) {
            rc = -EINVAL;
        } else if (a->flags & VFIO_DEVICE_ATTACH_PASID) {
            rc = -EOPNOTSUPP;   /* no PASID capability */
        } else {
            rc = sh_dev_attach(d, n, &a->pt_id);
        }
        break;
    }
    case SIMHOST_K_VFIO_DETACH: {
        struct vfio_device_detach_iommufd_pt *a = arg;

        if (a->argsz <
            offsetofend(struct vfio_device_detach_iommufd_pt, flags) ||
            (a->flags & ~VFIO_DEVICE_DETACH_PASID)) {
            rc = -EINVAL;
        } else if (a->flags) {
            rc = -EOPNOTSUPP;
        } else {
            rc = sh_dev_detach(d, n);
        }
        break;
    }
    case SIMHOST_K_VFIO_GET_INFO: {
        struct vfio_device_info *i = arg;

        if (i->argsz < offsetofend(struct vfio_device_info, num_irqs)) {
            rc = -EINVAL;
            break;
        }
        i->flags = VFIO_DEVICE_FLAGS_PCI | VFIO_DEVICE_FLAGS_RESET;
        i->num_regions = VFIO_PCI_NUM_REGIONS;
        i->num_irqs = VFIO_PCI_NUM_IRQS;
        break;
    }
    case SIMHOST_K_VFIO_REGION_INFO: {
        struct vfio_region_info *r = arg;

        if (r->argsz < offsetofend(struct vfio_region_info, offset) ||
            r->index >= VFIO_PCI_NUM_REGIONS) {
            rc = -EINVAL;
            break;
        }
        r->cap_offset = 0;
        r->offset = (uint64_t)r->index << REGION_SHIFT;
        r->flags = 0;
        r->size = 0;
        if (r->index == VFIO_PCI_BAR0_REGION_INDEX) {
            /* no VFIO_REGION_INFO_FLAG_MMAP: accesses arrive as pread/pwrite */
            r->size = SIMHOST_BAR0_SIZE;
            r->flags = VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE;
        } else if (r->index == VFIO_PCI_CONFIG_REGION_INDEX) {
            r->size = sizeof(d->config);
            r->flags = VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE;
        }
        break;
    }
    case SIMHOST_K_VFIO_IRQ_INFO: {
        struct vfio_irq_info *i = arg;

        if (i->argsz < offsetofend(struct vfio_irq_info, count) ||
            i->index >= VFIO_PCI_NUM_IRQS) {
            rc = -EINVAL;
            break;
        }
        i->count = irq_count(i->index);
        i->flags = VFIO_IRQ_INFO_EVENTFD;
        if (i->index == VFIO_PCI_INTX_IRQ_INDEX) {
            i->flags |= VFIO_IRQ_INFO_MASKABLE | VFIO_IRQ_INFO_AUTOMASKED;
        } else if (i->index == VFIO_PCI_MSI_IRQ_INDEX ||
                   i->index == VFIO_PCI_MSIX_IRQ_INDEX) {
            i->flags |= VFIO_IRQ_INFO_NORESIZE;
        }
        break;
    }
    case SIMHOST_K_VFIO_SET_IRQS:
        rc = set_irqs(d, arg);
        break;
    case SIMHOST_K_VFIO_RESET:
        bar_reset(d);
        sh_ctl->dev_resets[n]++;
        break;
    case SIMHOST_K_VFIO_HOT_RESET_INFO:
    case SIMHOST_K_VFIO_HOT_RESET:
        rc = -ENODEV;       /* no slot or bus reset below this function */
        break;
    case SIMHOST_K_VFIO_FEATURE:
        rc = -ENOTTY;       /* no migration, no dirty tracking */
        break;
    default:
        rc = -ENOTTY;
        break;
    }
out:
    if (rc < 0) {
        sh_ctl->fails[k]++;
        sh_ctl->last_errno[k] = -rc;
    }
    return rc;
}

void sh_vfio_close(int n)
{
    ShDev *d = &sh_dev[n];

    if (d->bound) {
        sh_dev_unbind(d, n);
    }
    for (unsigned i = 0; i < VFIO_PCI_NUM_IRQS; i++) {
        irq_close(d, i);
    }
    d->config[0] = 0;
}
