/*
 * simhost: /dev/iommu as Linux 7.2 answers it, with the arm-smmu-v3 and
 * tegra241-cmdqv drivers behind it. Rule references ("KC:" and an ID)
 * name the rules of docs/kernel-contract.md.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include "simhost-int.h"

#define REFUSE(err, ...) do { sh_log(__VA_ARGS__); return -(err); } while (0)

/* ---------------------------------------------------------------------- */
/* Objects                                                                 */
/* ---------------------------------------------------------------------- */

ShObj *sh_obj_get(ShCtx *ctx, uint32_t id)
{
    return id && id < SH_MAX_IDS ? ctx->objs[id] : NULL;
}

static ShObj *obj_typed(ShCtx *ctx, uint32_t id, SimhostObjType type)
{
    ShObj *o = sh_obj_get(ctx, id);

    return o && o->type == type ? o : NULL;
}

static void live_update(void)
{
    uint32_t n = 0;

    for (int c = 0; c < SH_MAX_CTX; c++) {
        if (!sh_ctx[c].used) {
            continue;
        }
        for (int i = 1; i < SH_MAX_IDS; i++) {
            if (sh_ctx[c].objs[i] &&
                sh_ctx[c].objs[i]->type != SIMHOST_OBJ_DEVICE) {
                n++;
            }
        }
    }
    sh_ctl->live_objects = n;
}

/* IDs: the lowest free one from 1 (KC:GEN-4) */
static ShObj *obj_new(ShCtx *ctx, SimhostObjType type)
{
    for (uint32_t id = 1; id < SH_MAX_IDS; id++) {
        if (!ctx->objs[id]) {
            ShObj *o = calloc(1, sizeof(*o));

            o->id = id;
            o->type = type;
            o->ctx = ctx;
            o->smmu = -1;
            o->efd = -1;
            o->page_fd = -1;
            o->dev = -1;
            ctx->objs[id] = o;
            live_update();
            return o;
        }
    }
    return NULL;
}

static void resv_remove_owner(ShObj *ioas, void *owner)
{
    ShResv **pp = &ioas->resv;

    while (*pp) {
        if ((*pp)->owner == owner) {
            ShResv *r = *pp;

            *pp = r->next;
            free(r);
        } else {
            pp = &(*pp)->next;
        }
    }
}

static void area_free(ShArea *a)
{
    if (a->file_map) {
        munmap(a->file_map, a->file_map_len);
    }
    free(a);
}

static void veventq_flush(ShObj *q)
{
    while (q->head) {
        ShEvent *e = q->head;

        q->head = e->next;
        if (!e->lost) {
            free(e);
        }
    }
    q->tail = NULL;
    q->num_events = 0;
    q->lost_queued = false;
}

static void obj_free(ShObj *o)
{
    ShCtx *ctx = o->ctx;

    switch (o->type) {
    case SIMHOST_OBJ_IOAS:
        while (o->areas) {
            ShArea *a = o->areas;

            o->areas = a->next;
            area_free(a);
        }
        while (o->resv) {
            ShResv *r = o->resv;

            o->resv = r->next;
            free(r);
        }
        break;
    case SIMHOST_OBJ_HWPT_PAGING:
        resv_remove_owner(o->ioas, o);
        o->ioas->users--;
        if (o->vmid && o->smmu >= 0) {
            sh_tlb_flush_vmid(o->smmu, o->vmid);
            sh_smmu[o->smmu].vmid_used[o->vmid] = 0;
        }
        break;
    case SIMHOST_OBJ_HWPT_NESTED:
        o->viommu->users--;
        break;
    case SIMHOST_OBJ_VIOMMU:
        o->parent->users--;
        if (o->vintf) {
            sh_smmu[o->smmu].vintf_used[o->vintf] = false;
            munmap(o->page, SH_VINTF_PAGE);
            close(o->page_fd);
        }
        break;
    case SIMHOST_OBJ_VDEVICE:
        o->viommu->users--;
        if (o->sid_slot >= 0 && o->viommu->vintf) {
            o->viommu->sid_match[o->sid_slot] = 0;
            o->viommu->sid_replace[o->sid_slot] = 0;
        }
        if (o->dev >= 0 && sh_dev[o->dev].vdevice == o) {
            sh_dev[o->dev].vdevice = NULL;
            /* the vmaster goes with the vDEVICE: no more events */
            if (sh_dev[o->dev].vmaster_viommu == o->viommu) {
                sh_dev[o->dev].vmaster = false;
                sh_ctl->dev_vsid_valid[o->dev] = 0;
            }
        }
        break;
    case SIMHOST_OBJ_VEVENTQ:
        o->viommu->veventq[o->vtype] = NULL;
        o->viommu->users--;
        veventq_flush(o);
        break;
    case SIMHOST_OBJ_HW_QUEUE: {
        ShObj *v = o->viommu;
        uint8_t *r = v->page + 0x80 * o->index;

        memset(r, 0, 0x18);
        v->hwq[o->index] = NULL;
        if (o->index > 0 && v->hwq[o->index - 1]) {
            v->hwq[o->index - 1]->users--;
        }
        o->q_area->locks--;
        v->users--;
        break;
    }
    default:
        break;
    }
    ctx->objs[o->id] = NULL;
    free(o);
    live_update();
}

/* ---------------------------------------------------------------------- */
/* Argument copying: the size rules (KC:GEN-1, KC:GEN-2)                  */
/* ---------------------------------------------------------------------- */

/*
 * Copy the user struct (leading __u32 size) into @dst (@known bytes):
 * size < @min -> EINVAL; bytes past @known must be zero -> E2BIG.
 */
static int arg_in(void *dst, size_t known, const void *uarg, size_t min)
{
    uint32_t size;
    const uint8_t *u = uarg;

    if (!uarg) {
        return -EFAULT;
    }
    memcpy(&size, uarg, 4);
    if (size < min) {
        return -EINVAL;
    }
    memset(dst, 0, known);
    memcpy(dst, uarg, size < known ? size : known);
    for (size_t i = known; i < size; i++) {
        if (u[i]) {
            return -E2BIG;
        }
    }
    return 0;
}

static void arg_out(void *uarg, const void *src, size_t known)
{
    uint32_t size;

    memcpy(&size, uarg, 4);
    memcpy(uarg, src, size < known ? size : known);
}

#define ARG_IN(var, uarg, last) \
    arg_in(&(var), sizeof(var), (uarg), \
           offsetof(typeof(var), last) + sizeof((var).last))

/* ---------------------------------------------------------------------- */
/* IOAS                                                                    */
/* ---------------------------------------------------------------------- */

static ShResv *resv_find(ShObj *ioas, uint64_t start, uint64_t last)
{
    for (ShResv *r = ioas->resv; r; r = r->next) {
        if (r->start <= last && start <= r->last) {
            return r;
        }
    }
    return NULL;
}

static ShArea *area_find(ShObj *ioas, uint64_t start, uint64_t last)
{
    for (ShArea *a = ioas->areas; a; a = a->next) {
        if (a->iova <= last && start <= a->iova + a->len - 1) {
            return a;
        }
    }
    return NULL;
}

static void resv_add(ShObj *ioas, uint64_t start, uint64_t last, void *owner)
{
    ShResv *r = calloc(1, sizeof(*r));

    r->start = start;
    r->last = last;
    r->owner = owner;
    r->next = ioas->resv;
    ioas->resv = r;
}

/* Find an IOVA for a non-FIXED map: first fit, page aligned */
static bool iova_alloc(ShObj *ioas, uint64_t len, uint64_t *iova)
{
    uint64_t cand = SH_PAGE;

    for (int guard = 0; guard < 100000; guard++) {
        uint64_t last = cand + len - 1;
        ShResv *r;
        ShArea *a;

        if (last < cand) {
            return false;
        }
        r = resv_find(ioas, cand, last);
        if (r) {
            if (r->last == UINT64_MAX) {
                return false;
            }
            cand = (r->last + 1 + SH_PAGE - 1) & ~(SH_PAGE - 1);
            continue;
        }
        a = area_find(ioas, cand, last);
        if (a) {
            cand = a->iova + a->len;
            continue;
        }
        *iova = cand;
        return true;
    }
    return false;
}

/* The map ioctl's checks (KC:IOAS-2 to KC:IOAS-10, KC:ATT-3) */
static int ioas_insert(ShObj *ioas, uint32_t flags, uint64_t *iova,
                       uint64_t len, uint8_t *host, ShArea **out)
{
    ShArea *a;
    uint64_t last;

    if (!len) {
        REFUSE(EINVAL, "map: length 0");
    }
    if (flags & IOMMU_IOAS_MAP_FIXED_IOVA) {
        if (*iova & (SH_PAGE - 1)) {
            REFUSE(EINVAL, "map: iova 0x%llx not aligned",
                   (unsigned long long)*iova);
        }
        if (__builtin_add_overflow(*iova, len - 1, &last)) {
            REFUSE(EOVERFLOW, "map: iova + length overflows");
        }
        if (resv_find(ioas, *iova, last)) {
            REFUSE(EINVAL, "map: [0x%llx, 0x%llx] hits a reserved region",
                   (unsigned long long)*iova, (unsigned long long)last);
        }
        if (area_find(ioas, *iova, last)) {
            REFUSE(EEXIST, "map: [0x%llx, 0x%llx] already mapped",
                   (unsigned long long)*iova, (unsigned long long)last);
        }
    } else if (!iova_alloc(ioas, len, iova)) {
        REFUSE(ENOSPC, "map: no free IOVA for 0x%llx bytes",
               (unsigned long long)len);
    }
    a = calloc(1, sizeof(*a));
    a->iova = *iova;
    a->len = len;
    a->host = host;
    a->writeable = flags & IOMMU_IOAS_MAP_WRITEABLE;
    a->next = ioas->areas;
    ioas->areas = a;
    *out = a;
    return 0;
}

/* Pages must exist to be pinned (EFAULT like pin_user_pages) */
static bool user_range_mapped(uint64_t va, uint64_t len)
{
    uint64_t start = va & ~(SH_PAGE - 1);
    uint64_t end = (va + len + SH_PAGE - 1) & ~(SH_PAGE - 1);
    size_t pages = (end - start) / SH_PAGE;
    unsigned char *vec = malloc(pages ? pages : 1);
    bool ok = mincore((void *)(uintptr_t)start, end - start, vec) == 0;

    free(vec);
    return ok;
}

static int ioas_map(ShCtx *ctx, void *uarg)
{
    struct iommu_ioas_map m;
    ShObj *ioas;
    ShArea *a;
    int rc = ARG_IN(m, uarg, iova);

    if (rc) {
        return rc;
    }
    if ((m.flags & ~(IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_WRITEABLE |
                     IOMMU_IOAS_MAP_READABLE)) || m.__reserved) {
        REFUSE(EOPNOTSUPP, "map: flags 0x%x", m.flags);
    }
    if (!(m.flags & (IOMMU_IOAS_MAP_WRITEABLE | IOMMU_IOAS_MAP_READABLE))) {
        REFUSE(EINVAL, "map: neither readable nor writeable");
    }
    if (m.iova >= UINT64_MAX || m.length >= UINT64_MAX) {
        return -EOVERFLOW;
    }
    ioas = obj_typed(ctx, m.ioas_id, SIMHOST_OBJ_IOAS);
    if (!ioas) {
        REFUSE(ENOENT, "map: no IOAS %u", m.ioas_id);
    }
    if ((m.user_va ^ m.iova) & (SH_PAGE - 1) &&
        (m.flags & IOMMU_IOAS_MAP_FIXED_IOVA)) {
        REFUSE(EINVAL, "map: user_va and iova page offsets differ");
    }
    if (m.length && !user_range_mapped(m.user_va, m.length)) {
        REFUSE(EFAULT, "map: user_va 0x%llx not mapped",
               (unsigned long long)m.user_va);
    }
    rc = ioas_insert(ioas, m.flags, (uint64_t *)&m.iova, m.length,
                     (uint8_t *)(uintptr_t)m.user_va, &a);
    if (rc) {
        return rc;
    }
    arg_out(uarg, &m, sizeof(m));
    return 0;
}

static int ioas_map_file(ShCtx *ctx, void *uarg)
{
    struct iommu_ioas_map_file m;
    struct stat st;
    ShObj *ioas;
    ShArea *a;
    uint64_t off0, maplen;
    void *p;
    int rc = ARG_IN(m, uarg, iova);

    if (rc) {
        return rc;
    }
    if (m.flags & ~(IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_WRITEABLE |
                    IOMMU_IOAS_MAP_READABLE)) {
        REFUSE(EOPNOTSUPP, "map_file: flags 0x%x", m.flags);
    }
    if (!(m.flags & (IOMMU_IOAS_MAP_WRITEABLE | IOMMU_IOAS_MAP_READABLE))) {
        return -EINVAL;
    }
    if (m.iova >= UINT64_MAX || m.length >= UINT64_MAX) {
        return -EOVERFLOW;
    }
    ioas = obj_typed(ctx, m.ioas_id, SIMHOST_OBJ_IOAS);
    if (!ioas) {
        REFUSE(ENOENT, "map_file: no IOAS %u", m.ioas_id);
    }
    if (fstat(m.fd, &st) < 0) {
        REFUSE(EBADF, "map_file: fd %d", m.fd);
    }
    if (!m.length || m.start + m.length > (uint64_t)st.st_size ||
        m.start + m.length < m.start) {
        REFUSE(EINVAL, "map_file: [0x%llx +0x%llx) outside the file",
               (unsigned long long)m.start, (unsigned long long)m.length);
    }
    off0 = m.start & ~(SH_PAGE - 1);
    maplen = m.start + m.length - off0;
    p = mmap(NULL, maplen, PROT_READ | PROT_WRITE, MAP_SHARED, m.fd, off0);
    if (p == MAP_FAILED) {
        REFUSE(EINVAL, "map_file: cannot map the file");
    }
    rc = ioas_insert(ioas, m.flags, (uint64_t *)&m.iova, m.length,
                     (uint8_t *)p + (m.start - off0), &a);
    if (rc) {
        munmap(p, maplen);
        return rc;
    }
    a->file = true;
    a->file_map = p;
    a->file_map_len = maplen;
    arg_out(uarg, &m, sizeof(m));
    return 0;
}

/* Unmap: whole areas only (KC:IOAS-11 to KC:IOAS-16, KC:IOAS-24) */
static int ioas_unmap(ShCtx *ctx, void *uarg)
{
    struct iommu_ioas_unmap u;
    ShObj *ioas;
    uint64_t last, done = 0;
    bool all;
    int rc = ARG_IN(u, uarg, length);

    if (rc) {
        return rc;
    }
    ioas = obj_typed(ctx, u.ioas_id, SIMHOST_OBJ_IOAS);
    if (!ioas) {
        REFUSE(ENOENT, "unmap: no IOAS %u", u.ioas_id);
    }
    all = u.iova == 0 && u.length == UINT64_MAX;
    if (all) {
        last = UINT64_MAX;
    } else {
        if (!u.length) {
            REFUSE(EINVAL, "unmap: length 0");
        }
        if (__builtin_add_overflow(u.iova, u.length - 1, &last)) {
            return -EOVERFLOW;
        }
    }
    /* validate everything first: the kernel stops at the first bad area */
    for (ShArea *a = ioas->areas; a; a = a->next) {
        uint64_t alast = a->iova + a->len - 1;

        if (a->iova > last || alast < u.iova) {
            continue;
        }
        if (a->locks) {
            REFUSE(EBUSY, "unmap: area 0x%llx is pinned by a HW queue",
                   (unsigned long long)a->iova);
        }
        if (a->iova < u.iova || alast > last) {
            REFUSE(ENOENT, "unmap: range cuts area [0x%llx, 0x%llx]",
                   (unsigned long long)a->iova, (unsigned long long)alast);
        }
    }
    for (ShArea **pp = &ioas->areas; *pp;) {
        ShArea *a = *pp;

        if (a->iova >= u.iova && a->iova + a->len - 1 <= last) {
            *pp = a->next;
            done += a->len;
            area_free(a);
        } else {
            pp = &a->next;
        }
    }
    if (!done && !all) {
        REFUSE(ENOENT, "unmap: nothing mapped at 0x%llx",
               (unsigned long long)u.iova);
    }
    u.length = done;
    arg_out(uarg, &u, sizeof(u));
    return 0;
}

static int ioas_iova_ranges(ShCtx *ctx, void *uarg)
{
    struct iommu_ioas_iova_ranges r;
    struct iommu_iova_range out[64];
    ShObj *ioas;
    uint64_t cur = 0;
    uint32_t n = 0;
    bool done = false;
    int rc = ARG_IN(r, uarg, out_iova_alignment);

    if (rc) {
        return rc;
    }
    if (r.__reserved) {
        return -EOPNOTSUPP;
    }
    ioas = obj_typed(ctx, r.ioas_id, SIMHOST_OBJ_IOAS);
    if (!ioas) {
        REFUSE(ENOENT, "iova_ranges: no IOAS %u", r.ioas_id);
    }
    /* the complement of the reserved regions */
    while (!done && n < 64) {
        uint64_t next_start = UINT64_MAX, next_last = 0;
        bool found = false;

        for (ShResv *v = ioas->resv; v; v = v->next) {
            if (v->last >= cur && (!found || v->start < next_start)) {
                next_start = v->start < cur ? cur : v->start;
                next_last = v->last;
                found = true;
            }
        }
        /* merge overlapping reservations */
        for (bool grew = true; found && grew;) {
            grew = false;
            for (ShResv *v = ioas->resv; v; v = v->next) {
                if (v->start <= next_last + 1 && v->last > next_last &&
                    v->last >= next_start) {
                    next_last = v->last;
                    grew = true;
                }
            }
        }
        if (!found) {
            out[n].start = cur;
            out[n++].last = UINT64_MAX;
            done = true;
        } else {
            if (next_start > cur) {
                out[n].start = cur;
                out[n++].last = next_start - 1;
            }
            if (next_last == UINT64_MAX) {
                done = true;
            } else {
                cur = next_last + 1;
            }
        }
    }
    if (r.num_iovas < n) {
        r.num_iovas = n;
        arg_out(uarg, &r, sizeof(r));
        return -EMSGSIZE;
    }
    memcpy((void *)(uintptr_t)r.allowed_iovas, out, n * sizeof(out[0]));
    r.num_iovas = n;
    r.out_iova_alignment = SH_PAGE;
    arg_out(uarg, &r, sizeof(r));
    return 0;
}

static int ioas_alloc(ShCtx *ctx, void *uarg)
{
    struct iommu_ioas_alloc a;
    ShObj *o;
    int rc = ARG_IN(a, uarg, out_ioas_id);

    if (rc) {
        return rc;
    }
    if (a.flags) {
        return -EOPNOTSUPP;
    }
    o = obj_new(ctx, SIMHOST_OBJ_IOAS);
    if (!o) {
        return -ENOMEM;
    }
    a.out_ioas_id = o->id;
    arg_out(uarg, &a, sizeof(a));
    return 0;
}

static int option(ShCtx *ctx, void *uarg)
{
    struct iommu_option o;
    int rc = ARG_IN(o, uarg, val64);

    if (rc) {
        return rc;
    }
    if (o.__reserved) {
        return -EOPNOTSUPP;
    }
    if (o.op != IOMMU_OPTION_OP_SET && o.op != IOMMU_OPTION_OP_GET) {
        return -EOPNOTSUPP;
    }
    switch (o.option_id) {
    case IOMMU_OPTION_RLIMIT_MODE:
        if (o.object_id) {
            return -EINVAL;
        }
        break;
    case IOMMU_OPTION_HUGE_PAGES:
        if (!obj_typed(ctx, o.object_id, SIMHOST_OBJ_IOAS)) {
            return -ENOENT;
        }
        break;
    default:
        /* 7.2 has no other option (no SW_MSI window option) */
        REFUSE(EOPNOTSUPP, "option %u", o.option_id);
    }
    if (o.op == IOMMU_OPTION_OP_SET && o.val64 > 1) {
        return -EINVAL;
    }
    if (o.op == IOMMU_OPTION_OP_GET) {
        o.val64 = o.option_id == IOMMU_OPTION_HUGE_PAGES;
        arg_out(uarg, &o, sizeof(o));
    }
    return 0;
}

static int change_process(ShCtx *ctx, void *uarg)
{
    struct iommu_ioas_change_process c;
    int rc = ARG_IN(c, uarg, __reserved);

    if (rc) {
        return rc;
    }
    if (c.__reserved) {
        return -EOPNOTSUPP;
    }
    /* Only file mappings can move to another process */
    for (int i = 1; i < SH_MAX_IDS; i++) {
        ShObj *o = ctx->objs[i];

        if (o && o->type == SIMHOST_OBJ_IOAS) {
            for (ShArea *a = o->areas; a; a = a->next) {
                if (!a->file) {
                    return -EINVAL;
                }
            }
        }
    }
    return 0;
}

/* ---------------------------------------------------------------------- */
/* Host SMMU properties (A:, AI:)                                          */
/* ---------------------------------------------------------------------- */

static SimhostSmmuCfg *smmu_cfg(int smmu)
{
    return &sh_ctl->smmu[smmu];
}

static bool smmu_nesting(int smmu)
{
    SimhostSmmuCfg *c = smmu_cfg(smmu);
    uint32_t prod = c->iidr >> 20, var = (c->iidr >> 16) & 0xf;
    uint32_t rev = (c->iidr >> 12) & 0xf, impl = c->iidr & 0xfff;

    if (!(c->idr[0] & IDR0_S1P) || !(c->idr[0] & IDR0_S2P)) {
        return false;
    }
    /* errata: MMU-600 variant < 2, MMU-700 r0p0/r1 (KC:HWPT-8) */
    if (impl == 0x43b && prod == 0x483 && var < 2) {
        return false;
    }
    if (impl == 0x43b && prod == 0x487 && (var < 1 || rev < 1)) {
        return false;
    }
    return true;
}

static int dev_smmu(int n)
{
    return (int)sh_ctl->dev[n].smmu;
}

static uint64_t smmu_ias_last(int smmu)
{
    static const unsigned oas_bits[] = { 32, 36, 40, 42, 44, 48, 52, 52 };
    unsigned bits = oas_bits[IDR5_OAS(smmu_cfg(smmu)->idr[5])];

    return bits >= 64 ? UINT64_MAX : (1ULL << bits) - 1;
}

static ShObj *dev_obj(ShCtx *ctx, uint32_t id)
{
    return obj_typed(ctx, id, SIMHOST_OBJ_DEVICE);
}

/* ---------------------------------------------------------------------- */
/* GET_HW_INFO (KC:INFO)                                                   */
/* ---------------------------------------------------------------------- */

static int get_hw_info(ShCtx *ctx, void *uarg)
{
    struct iommu_hw_info h;
    struct iommu_hw_info_arm_smmuv3 arm = { 0 };
    struct iommu_hw_info_tegra241_cmdqv teg = { 0 };
    ShObj *d;
    SimhostSmmuCfg *c;
    uint32_t type;
    const void *data;
    uint32_t klen, ulen;
    int rc = ARG_IN(h, uarg, __reserved);

    if (rc) {
        return rc;
    }
    if (h.flags & ~IOMMU_HW_INFO_FLAG_INPUT_TYPE) {
        REFUSE(EOPNOTSUPP, "hw_info: flags 0x%x", h.flags);
    }
    if (h.__reserved[0] || h.__reserved[1] || h.__reserved[2]) {
        return -EOPNOTSUPP;
    }
    d = dev_obj(ctx, h.dev_id);
    if (!d) {
        REFUSE(ENOENT, "hw_info: no device %u", h.dev_id);
    }
    c = smmu_cfg(dev_smmu(d->dev));
    type = IOMMU_HW_INFO_TYPE_DEFAULT;
    if (h.flags & IOMMU_HW_INFO_FLAG_INPUT_TYPE) {
        type = h.in_data_type;
    }
    if (type == IOMMU_HW_INFO_TYPE_DEFAULT ||
        type == IOMMU_HW_INFO_TYPE_ARM_SMMUV3) {
        memcpy(arm.idr, c->idr, sizeof(arm.idr));
        arm.iidr = c->iidr;
        arm.aidr = c->aidr;
        data = &arm;
        klen = sizeof(arm);
        type = IOMMU_HW_INFO_TYPE_ARM_SMMUV3;
    } else if (type == IOMMU_HW_INFO_TYPE_TEGRA241_CMDQV && c->has_cmdqv) {
        teg.version = c->cmdqv_version;
        teg.log2vcmdqs = c->cmdqv_log2vcmdqs;
        teg.log2vsids = c->cmdqv_log2vsids;
        data = &teg;
        klen = sizeof(teg);
    } else {
        REFUSE(EOPNOTSUPP, "hw_info: type %u not provided", type);
    }
    ulen = h.data_len;
    if (ulen) {
        uint8_t *u = (uint8_t *)(uintptr_t)h.data_uptr;

        if (!u) {
            return -EFAULT;
        }
        memcpy(u, data, ulen < klen ? ulen : klen);
        if (ulen > klen) {
            memset(u + klen, 0, ulen - klen);
        }
    }
    h.data_len = klen;
    h.out_data_type = type;
    h.out_capabilities = 0;
    if (!sh_ctl->dev[d->dev].ats) {
        h.out_capabilities = SH_HW_CAP_PCI_ATS_NOT_SUPPORTED;
    }
    h.out_max_pasid_log2 = 0;
    arg_out(uarg, &h, sizeof(h));
    return 0;
}

/* ---------------------------------------------------------------------- */
/* HWPT_ALLOC (KC:HWPT, KC:VSTE)                                           */
/* ---------------------------------------------------------------------- */

static ShObj *paging_alloc(ShObj *ioas, int smmu, uint32_t flags)
{
    ShObj *o = obj_new(ioas->ctx, SIMHOST_OBJ_HWPT_PAGING);

    if (!o) {
        return NULL;
    }
    o->ioas = ioas;
    ioas->users++;
    o->smmu = smmu;
    o->flags = flags;
    o->nest_parent = flags & IOMMU_HWPT_ALLOC_NEST_PARENT;
    if (o->nest_parent) {
        for (int v = 1; v < 256; v++) {
            if (!sh_smmu[smmu].vmid_used[v]) {
                sh_smmu[smmu].vmid_used[v] = 1;
                o->vmid = v;
                break;
            }
        }
    }
    /* the aperture: IOVAs past the S2 input size are reserved */
    if (smmu_ias_last(smmu) != UINT64_MAX) {
        resv_add(ioas, smmu_ias_last(smmu) + 1, UINT64_MAX, o);
    }
    return o;
}

/*
 * The vSTE checks of arm_smmu_validate_vste(); *@enable_ats: the guest
 * asks for ATS (S1 translate with EATS TRANS)
 */
static int vste_validate(uint64_t ste[2], bool *enable_ats)
{
    unsigned cfg, eats;

    *enable_ats = false;
    if (!(ste[0] & STE0_V)) {
        ste[0] = ste[1] = 0;
        return 0;
    }
    if ((ste[0] & ~STE0_NESTING_ALLOWED) || (ste[1] & ~STE1_NESTING_ALLOWED)) {
        REFUSE(EIO, "vSTE: bits outside the nesting-allowed set");
    }
    cfg = STE0_CFG(ste[0]);
    if (cfg != STE_CFG_ABORT && cfg != STE_CFG_BYPASS && cfg != STE_CFG_S1) {
        REFUSE(EIO, "vSTE: Config %u", cfg);
    }
    eats = (ste[1] & STE1_EATS_MASK) >> STE1_EATS_SHIFT;
    if (eats > 1) {
        REFUSE(EIO, "vSTE: EATS %u", eats);
    }
    *enable_ats = cfg == STE_CFG_S1 && eats == 1;
    ste[1] &= ~STE1_EATS_MASK;
    return 0;
}

static int hwpt_alloc(ShCtx *ctx, void *uarg)
{
    struct iommu_hwpt_alloc h;
    ShObj *d, *pt, *o;
    bool enable_ats;
    int rc = ARG_IN(h, uarg, __reserved);

    if (rc) {
        return rc;
    }
    if (h.__reserved || h.__reserved2) {
        return -EOPNOTSUPP;
    }
    if (h.flags & ~(IOMMU_HWPT_ALLOC_NEST_PARENT |
                    IOMMU_HWPT_ALLOC_DIRTY_TRACKING |
                    IOMMU_HWPT_FAULT_ID_VALID | IOMMU_HWPT_ALLOC_PASID)) {
        REFUSE(EOPNOTSUPP, "hwpt_alloc: flags 0x%x", h.flags);
    }
    if (h.data_type == IOMMU_HWPT_DATA_NONE ? h.data_len != 0
                                            : h.data_len == 0) {
        REFUSE(EINVAL, "hwpt_alloc: data_type %u with data_len %u",
               h.data_type, h.data_len);
    }
    d = dev_obj(ctx, h.dev_id);
    if (!d) {
        REFUSE(ENOENT, "hwpt_alloc: no device %u", h.dev_id);
    }
    pt = sh_obj_get(ctx, h.pt_id);
    if (!pt) {
        REFUSE(ENOENT, "hwpt_alloc: no object %u", h.pt_id);
    }
    if (pt->type == SIMHOST_OBJ_IOAS) {
        uint32_t f = h.flags;
        int smmu = dev_smmu(d->dev);

        if ((f & IOMMU_HWPT_FAULT_ID_VALID) &&
            (f & IOMMU_HWPT_ALLOC_NEST_PARENT)) {
            return -EOPNOTSUPP;
        }
        /* ARM: exactly one of 0, NEST_PARENT, DIRTY, DIRTY|PASID, PASID */
        if (f != 0 && f != IOMMU_HWPT_ALLOC_NEST_PARENT &&
            f != IOMMU_HWPT_ALLOC_DIRTY_TRACKING &&
            f != (IOMMU_HWPT_ALLOC_DIRTY_TRACKING | IOMMU_HWPT_ALLOC_PASID) &&
            f != IOMMU_HWPT_ALLOC_PASID) {
            REFUSE(EOPNOTSUPP, "hwpt_alloc: ARM refuses flags 0x%x", f);
        }
        if (h.data_type != IOMMU_HWPT_DATA_NONE) {
            REFUSE(EOPNOTSUPP, "hwpt_alloc: paging with user data");
        }
        if ((f & IOMMU_HWPT_ALLOC_NEST_PARENT) && !smmu_nesting(smmu)) {
            REFUSE(EOPNOTSUPP, "hwpt_alloc: SMMU %d has no nesting", smmu);
        }
        if ((f & IOMMU_HWPT_ALLOC_DIRTY_TRACKING) &&
            ((smmu_cfg(smmu)->idr[0] >> IDR0_HTTU_SHIFT) & 3) != 2) {
            REFUSE(EOPNOTSUPP, "hwpt_alloc: no dirty tracking");
        }
        o = paging_alloc(pt, smmu, f);
        if (!o) {
            return -ENOMEM;
        }
    } else if (pt->type == SIMHOST_OBJ_HWPT_PAGING) {
        /* ARM has no domain_alloc_nested: use the vIOMMU as pt_id */
        REFUSE(EOPNOTSUPP,
               "hwpt_alloc: nested on a HWPT (pt_id must be a vIOMMU)");
    } else if (pt->type == SIMHOST_OBJ_VIOMMU) {
        struct iommu_hwpt_arm_smmuv3 v;
        const uint8_t *u = (const uint8_t *)(uintptr_t)h.data_uptr;

        if (h.flags & ~(IOMMU_HWPT_FAULT_ID_VALID | IOMMU_HWPT_ALLOC_PASID)) {
            REFUSE(EOPNOTSUPP, "hwpt_alloc: nested flags 0x%x", h.flags);
        }
        if (h.flags) {
            REFUSE(EOPNOTSUPP, "hwpt_alloc: ARM nested refuses flags 0x%x",
                   h.flags);
        }
        if (pt->smmu != dev_smmu(d->dev)) {
            REFUSE(EINVAL, "hwpt_alloc: device on SMMU %d, vIOMMU on %d",
                   dev_smmu(d->dev), pt->smmu);
        }
        if (h.data_type != IOMMU_HWPT_DATA_ARM_SMMUV3) {
            REFUSE(EINVAL, "hwpt_alloc: nested data_type %u", h.data_type);
        }
        if (h.data_len < sizeof(v) || !u) {
            REFUSE(EINVAL, "hwpt_alloc: vSTE data_len %u", h.data_len);
        }
        for (uint32_t i = sizeof(v); i < h.data_len; i++) {
            if (u[i]) {
                return -E2BIG;
            }
        }
        memcpy(&v, u, sizeof(v));
        rc = vste_validate((uint64_t *)v.ste, &enable_ats);
        if (rc) {
            return rc;
        }
        o = obj_new(ctx, SIMHOST_OBJ_HWPT_NESTED);
        if (!o) {
            return -ENOMEM;
        }
        o->viommu = pt;
        pt->users++;
        o->smmu = pt->smmu;
        o->ste[0] = v.ste[0];
        o->ste[1] = v.ste[1];
        o->enable_ats = enable_ats;
    } else {
        REFUSE(EINVAL, "hwpt_alloc: pt_id %u is neither IOAS nor vIOMMU",
               h.pt_id);
    }
    h.out_hwpt_id = o->id;
    arg_out(uarg, &h, sizeof(h));
    return 0;
}

/* ---------------------------------------------------------------------- */
/* vIOMMU, vDEVICE (KC:VIOMMU, KC:VDEV, KC:CMDQV)                          */
/* ---------------------------------------------------------------------- */

static int viommu_alloc(ShCtx *ctx, void *uarg)
{
    struct iommu_viommu_alloc a;
    struct iommu_viommu_tegra241_cmdqv tdata;
    ShObj *d, *parent, *o;
    int smmu, vintf = 0;
    SimhostSmmuCfg *c;
    int rc = ARG_IN(a, uarg, out_viommu_id);

    if (rc) {
        return rc;
    }
    if (a.flags || a.type == IOMMU_VIOMMU_TYPE_DEFAULT || a.__reserved) {
        REFUSE(EOPNOTSUPP, "viommu_alloc: flags 0x%x type %u", a.flags,
               a.type);
    }
    d = dev_obj(ctx, a.dev_id);
    if (!d) {
        REFUSE(ENOENT, "viommu_alloc: no device %u", a.dev_id);
    }
    smmu = dev_smmu(d->dev);
    c = smmu_cfg(smmu);
    /* get_viommu_size() == 0 -> EOPNOTSUPP */
    if (a.type != IOMMU_VIOMMU_TYPE_ARM_SMMUV3 &&
        a.type != IOMMU_VIOMMU_TYPE_TEGRA241_CMDQV) {
        REFUSE(EOPNOTSUPP, "viommu_alloc: type %u", a.type);
    }
    if (!smmu_nesting(smmu) ||
        !(c->canwbs || (c->idr[3] & IDR3_FWB))) {
        REFUSE(EOPNOTSUPP,
               "viommu_alloc: SMMU %d: no nesting or no S2FWB/CANWBS", smmu);
    }
    if (a.type == IOMMU_VIOMMU_TYPE_TEGRA241_CMDQV && !c->has_cmdqv) {
        REFUSE(EOPNOTSUPP, "viommu_alloc: SMMU %d has no CMDQV", smmu);
    }
    parent = sh_obj_get(ctx, a.hwpt_id);
    if (!parent) {
        REFUSE(ENOENT, "viommu_alloc: no HWPT %u", a.hwpt_id);
    }
    if (parent->type != SIMHOST_OBJ_HWPT_PAGING || !parent->nest_parent) {
        REFUSE(EINVAL, "viommu_alloc: %u is not a NEST_PARENT HWPT",
               a.hwpt_id);
    }
    if (parent->smmu != smmu) {
        REFUSE(EINVAL, "viommu_alloc: parent of SMMU %d, device on %d",
               parent->smmu, smmu);
    }
    if (a.type == IOMMU_VIOMMU_TYPE_TEGRA241_CMDQV) {
        unsigned nv = sh_pow2(c->cmdqv_log2vintfs);

        if (a.data_len != sizeof(tdata) || !a.data_uptr) {
            REFUSE(EINVAL, "viommu_alloc: TEGRA241 data_len %u", a.data_len);
        }
        for (unsigned i = 1; i < nv && i < SH_MAX_VINTFS; i++) {
            if (!sh_smmu[smmu].vintf_used[i]) {
                vintf = i;
                break;
            }
        }
        if (!vintf) {
            REFUSE(ENOSPC, "viommu_alloc: no more available vintf");
        }
    }
    o = obj_new(ctx, SIMHOST_OBJ_VIOMMU);
    if (!o) {
        return -ENOMEM;
    }
    o->parent = parent;
    parent->users++;
    o->smmu = smmu;
    o->viommu_type = a.type;
    o->vmid = parent->vmid;
    if (vintf) {
        sh_smmu[smmu].vintf_used[vintf] = true;
        o->vintf = vintf;
        o->page_fd = memfd_create("simhost-vintf", MFD_CLOEXEC);
        if (ftruncate(o->page_fd, SH_VINTF_PAGE) < 0) {
            abort();
        }
        o->page = mmap(NULL, SH_VINTF_PAGE, PROT_READ | PROT_WRITE,
                       MAP_SHARED, o->page_fd, 0);
        o->mmap_off = ctx->next_mmap_off;
        ctx->next_mmap_off += SH_VINTF_PAGE;
        for (int s = 0; s < SH_MAX_VSIDS; s++) {
            o->sid_match[s] = o->sid_replace[s] = 0;
        }
        tdata.out_vintf_mmap_offset = o->mmap_off;
        tdata.out_vintf_mmap_length = sh_ctl->bad_vintf_mmap_length ?
                                      sh_ctl->bad_vintf_mmap_length :
                                      SH_VINTF_PAGE;
        memcpy((void *)(uintptr_t)a.data_uptr, &tdata, sizeof(tdata));
    }
    a.out_viommu_id = o->id;
    arg_out(uarg, &a, sizeof(a));
    return 0;
}

static int vdevice_alloc(ShCtx *ctx, void *uarg)
{
    struct iommu_vdevice_alloc a;
    ShObj *v, *d, *o;
    int slot = -1;
    int rc = ARG_IN(a, uarg, virt_id);

    if (rc) {
        return rc;
    }
    v = obj_typed(ctx, a.viommu_id, SIMHOST_OBJ_VIOMMU);
    if (!v) {
        REFUSE(ENOENT, "vdevice_alloc: no vIOMMU %u", a.viommu_id);
    }
    d = dev_obj(ctx, a.dev_id);
    if (!d) {
        REFUSE(ENOENT, "vdevice_alloc: no device %u", a.dev_id);
    }
    if (dev_smmu(d->dev) != v->smmu) {
        REFUSE(EINVAL, "vdevice_alloc: device and vIOMMU on different SMMUs");
    }
    if (sh_dev[d->dev].vdevice) {
        REFUSE(EEXIST, "vdevice_alloc: device %u already has a vDEVICE",
               a.dev_id);
    }
    for (int i = 1; i < SH_MAX_IDS; i++) {
        ShObj *x = ctx->objs[i];

        if (x && x->type == SIMHOST_OBJ_VDEVICE && x->viommu == v &&
            x->virt_id == a.virt_id) {
            REFUSE(EEXIST, "vdevice_alloc: virt_id 0x%llx in use",
                   (unsigned long long)a.virt_id);
        }
    }
    if (sh_ctl->dev[d->dev].num_streams > 1) {
        REFUSE(EOPNOTSUPP, "vdevice_alloc: device has several streams");
    }
    if (v->vintf) {
        unsigned nsids = sh_pow2(smmu_cfg(v->smmu)->cmdqv_log2vsids);

        if (a.virt_id > 0xfffff) {
            REFUSE(EINVAL, "vdevice_alloc: vSID 0x%llx exceeds 20 bits",
                   (unsigned long long)a.virt_id);
        }
        for (unsigned s = 0; s < nsids && s < SH_MAX_VSIDS; s++) {
            if (!(v->sid_match[s] & 1)) {
                slot = s;
                break;
            }
        }
        if (slot < 0) {
            REFUSE(ENOSPC, "vdevice_alloc: no free SID slot in the VINTF");
        }
        v->sid_replace[slot] = sh_ctl->dev[d->dev].sid;
        v->sid_match[slot] = (uint32_t)a.virt_id << 1 | 1;
    }
    o = obj_new(ctx, SIMHOST_OBJ_VDEVICE);
    if (!o) {
        return -ENOMEM;
    }
    o->viommu = v;
    v->users++;
    o->dev = d->dev;
    o->virt_id = a.virt_id;
    o->sid_slot = slot;
    sh_dev[d->dev].vdevice = o;
    a.out_vdevice_id = o->id;
    arg_out(uarg, &a, sizeof(a));
    return 0;
}

/* ---------------------------------------------------------------------- */
/* HWPT_INVALIDATE on a vIOMMU (KC:INV)                                    */
/* ---------------------------------------------------------------------- */

static ShObj *vdev_by_vsid(ShObj *v, uint64_t vsid)
{
    for (int i = 1; i < SH_MAX_IDS; i++) {
        ShObj *x = v->ctx->objs[i];

        if (x && x->type == SIMHOST_OBJ_VDEVICE && x->viommu == v &&
            x->virt_id == vsid) {
            return x;
        }
    }
    return NULL;
}

static int inval_convert(ShObj *v, uint64_t cmd[2])
{
    unsigned op = cmd[0] & 0xff;
    ShObj *vd;

    switch (op) {
    case CMD_TLBI_NSNH_ALL:
        cmd[0] = CMD_TLBI_NH_ALL | (uint64_t)v->vmid << 32;
        cmd[1] = 0;
        return 0;
    case CMD_TLBI_NH_ALL:
    case CMD_TLBI_NH_ASID:
    case CMD_TLBI_NH_VA:
    case CMD_TLBI_NH_VAA:
        cmd[0] = (cmd[0] & ~(0xffffULL << 32)) | (uint64_t)v->vmid << 32;
        return 0;
    case CMD_ATC_INV:
    case CMD_CFGI_CD:
    case CMD_CFGI_CD_ALL:
        vd = vdev_by_vsid(v, cmd[0] >> 32);
        if (!vd) {
            REFUSE(EIO, "invalidate: no vDEVICE for vSID 0x%llx",
                   (unsigned long long)(cmd[0] >> 32));
        }
        cmd[0] = (cmd[0] & 0xffffffffULL) |
                 (uint64_t)sh_ctl->dev[vd->dev].sid << 32;
        return 0;
    default:
        REFUSE(EIO, "invalidate: opcode 0x%x not accepted", op);
    }
}

static void inval_issue(ShObj *v, uint64_t (*batch)[2], unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        uint32_t slot = sh_ctl->inval_log_head++ % SIMHOST_INVAL_LOG;

        sh_ctl->inval_log[slot][0] = batch[i][0];
        sh_ctl->inval_log[slot][1] = batch[i][1];
        sh_hw_exec(v->smmu, batch[i]);
    }
    sh_ctl->inval_cmds_done += n;
    sh_ctl->inval_hw_batches++;
}

static int hwpt_invalidate(ShCtx *ctx, void *uarg)
{
    struct iommu_hwpt_invalidate h;
    ShObj *o, *v;
    uint64_t (*batch)[2];
    unsigned cur, last = 0, nb = 0, bucket;
    int rc = ARG_IN(h, uarg, __reserved);

    if (rc) {
        return rc;
    }
    if (h.__reserved) {
        return -EOPNOTSUPP;
    }
    if (h.entry_num > (1u << 19) || h.entry_len > SH_PAGE ||
        (h.entry_num && (!h.data_uptr || !h.entry_len))) {
        REFUSE(EINVAL, "invalidate: entry_num %u entry_len %u",
               h.entry_num, h.entry_len);
    }
    o = sh_obj_get(ctx, h.hwpt_id);
    if (!o) {
        REFUSE(ENOENT, "invalidate: no object %u", h.hwpt_id);
    }
    if (o->type == SIMHOST_OBJ_HWPT_NESTED) {
        REFUSE(EOPNOTSUPP, "invalidate: ARM nested HWPTs have no "
               "cache_invalidate_user, use the vIOMMU");
    }
    if (o->type != SIMHOST_OBJ_VIOMMU) {
        REFUSE(EINVAL, "invalidate: %u is not a nested HWPT or vIOMMU",
               h.hwpt_id);
    }
    v = o;
    sh_ctl->inval_ioctls++;
    sh_ctl->inval_last_num = h.entry_num;
    if (h.entry_num > sh_ctl->inval_max_num) {
        sh_ctl->inval_max_num = h.entry_num;
    }
    bucket = h.entry_num ? 31 - __builtin_clz(h.entry_num) : 0;
    sh_ctl->inval_hist[bucket > 7 ? 7 : bucket]++;
    sh_ctl->inval_cmds_in += h.entry_num;

    if (h.data_type != IOMMU_VIOMMU_INVALIDATE_DATA_ARM_SMMUV3) {
        h.entry_num = 0;
        arg_out(uarg, &h, sizeof(h));
        REFUSE(EINVAL, "invalidate: data_type %u", h.data_type);
    }
    /* kzalloc(0) + copy of an empty array: EINVAL on ARM */
    if (h.entry_num == 0) {
        arg_out(uarg, &h, sizeof(h));
        REFUSE(EINVAL, "invalidate: entry_num 0 (ARM has no empty probe)");
    }
    batch = calloc(h.entry_num, sizeof(*batch));
    /* copy: each entry zero-extended, bytes past 16 must be zero */
    for (cur = 0; cur < h.entry_num; cur++) {
        const uint8_t *e = (const uint8_t *)(uintptr_t)h.data_uptr +
                           (uint64_t)cur * h.entry_len;

        memcpy(batch[cur], e, h.entry_len < 16 ? h.entry_len : 16);
        for (uint32_t i = 16; i < h.entry_len; i++) {
            if (e[i]) {
                free(batch);
                h.entry_num = 0;
                arg_out(uarg, &h, sizeof(h));
                return -E2BIG;
            }
        }
    }
    /* arm_vsmmu_cache_invalidate(): convert, issue every 63 with a SYNC */
    rc = 0;
    for (cur = 0; cur < h.entry_num;) {
        rc = inval_convert(v, batch[cur]);
        if (rc) {
            break;          /* [last, cur) converted but never issued */
        }
        cur++;
        nb = cur - last;
        if (cur != h.entry_num && nb != CMDQ_BATCH) {
            continue;
        }
        inval_issue(v, &batch[last], nb);
        rc = sh_inject_check(SIMHOST_K_INVAL_SYNC);
        if (rc) {
            cur--;          /* the last command of the failed batch */
            break;
        }
        last = cur;
    }
    free(batch);
    h.entry_num = cur;
    arg_out(uarg, &h, sizeof(h));
    return rc;
}

/* ---------------------------------------------------------------------- */
/* vEVENTQ (KC:VEQ)                                                        */
/* ---------------------------------------------------------------------- */

static void veventq_signal(ShObj *q)
{
    uint64_t one = 1, v;

    if (q->efd < 0) {
        return;
    }
    if (q->head) {
        /* level: keep the counter at 1 while something is queued */
        if (sh_real_read(q->efd, &v, sizeof(v)) < 0) {
            v = 0;
        }
        sh_real_write(q->efd, &one, sizeof(one));
    } else {
        sh_real_read(q->efd, &v, sizeof(v));
    }
}

static void veventq_append(ShObj *q, ShEvent *e)
{
    e->next = NULL;
    if (q->tail) {
        q->tail->next = e;
    } else {
        q->head = e;
    }
    q->tail = e;
}

static void veventq_unlink(ShObj *q, ShEvent *e)
{
    ShEvent **pp = &q->head, *prev = NULL;

    while (*pp && *pp != e) {
        prev = *pp;
        pp = &(*pp)->next;
    }
    if (*pp) {
        *pp = e->next;
        if (q->tail == e) {
            q->tail = prev;
        }
    }
}

static uint32_t veventq_next_seq(ShObj *q)
{
    uint32_t s;

    if (sh_ctl->vevent_seq_jump_count) {
        /* a broken host: records that never reach the queue */
        sh_ctl->vevent_seq_jump_count--;
        q->sequence = (q->sequence + sh_ctl->vevent_seq_jump) & INT32_MAX;
    }
    s = q->sequence;
    q->sequence = s == INT32_MAX ? 0 : s + 1;
    if (sh_ctl->vevent_seq_raw_count) {
        /* a broken host: a number outside the uAPI's [0, INT_MAX] */
        sh_ctl->vevent_seq_raw_count--;
        return sh_ctl->vevent_seq_raw;
    }
    return s;
}

/* iommufd_viommu_report_event(): one record or the LOST_EVENTS header */
void sh_viommu_report(ShObj *v, uint32_t vtype, const uint64_t *data,
                      unsigned len)
{
    ShObj *q = vtype < 4 ? v->veventq[vtype] : NULL;
    unsigned reps = sh_ctl->event_flood > 1 ? sh_ctl->event_flood : 1;

    for (unsigned r = 0; r < reps; r++) {
        ShEvent *e;

        sh_ctl->events_reported++;
        if (!q) {
            sh_ctl->events_unforwarded++;
            continue;
        }
        if (q->num_events == q->depth || sh_ctl->event_alloc_fail) {
            if (sh_ctl->event_alloc_fail && q->num_events != q->depth) {
                sh_ctl->event_alloc_fail--;
            }
            sh_ctl->events_lost++;
            /* a single LOST header, always at the tail */
            if (q->lost_queued) {
                veventq_unlink(q, &q->lost_hdr);
            }
            q->lost_hdr.lost = true;
            q->lost_hdr.hdr.flags = IOMMU_VEVENTQ_FLAG_LOST_EVENTS;
            q->lost_hdr.hdr.sequence = veventq_next_seq(q);
            q->lost_hdr.len = 0;
            veventq_append(q, &q->lost_hdr);
            q->lost_queued = true;
        } else {
            e = calloc(1, sizeof(*e));
            e->hdr.flags = 0;
            e->hdr.sequence = veventq_next_seq(q);
            e->len = len;
            memcpy(e->data, data, len);
            veventq_append(q, e);
            q->num_events++;
            sh_ctl->events_queued++;
        }
    }
    if (q) {
        veventq_signal(q);
    }
}

ssize_t sh_veventq_read(ShObj *q, void *buf, size_t n)
{
    size_t done = 0, last = 0;

    sh_ctl->calls[SIMHOST_K_VEVENTQ_READ]++;
    if (n < sizeof(struct iommufd_vevent_header)) {
        sh_ctl->fails[SIMHOST_K_VEVENTQ_READ]++;
        return -EINVAL;
    }
    while (q->head) {
        ShEvent *e = q->head;
        size_t rec = sizeof(e->hdr) + e->len;

        if (done + rec > n) {
            if (!done) {
                sh_ctl->fails[SIMHOST_K_VEVENTQ_READ]++;
                return -EINVAL;
            }
            break;
        }
        memcpy((uint8_t *)buf + done, &e->hdr, sizeof(e->hdr));
        memcpy((uint8_t *)buf + done + sizeof(e->hdr), e->data, e->len);
        last = rec;
        done += rec;
        q->head = e->next;
        if (!q->head) {
            q->tail = NULL;
        }
        if (e->lost) {
            q->lost_queued = false;
        } else {
            q->num_events--;
            sh_ctl->events_read++;
            free(e);
        }
    }
    if (last && sh_ctl->vevent_truncate_count) {
        /* a broken host: the last record comes out short */
        sh_ctl->vevent_truncate_count--;
        done -= sh_ctl->vevent_truncate < last ? sh_ctl->vevent_truncate
                                               : last;
    }
    veventq_signal(q);
    return done;
}

void sh_veventq_close(ShObj *q)
{
    if (q->fd_open) {
        q->fd_open = false;
        q->users--;
        q->efd = -1;
    }
}

static int veventq_alloc(ShCtx *ctx, void *uarg)
{
    struct iommu_veventq_alloc a;
    ShObj *v, *q;
    int rc = ARG_IN(a, uarg, __reserved);

    if (rc) {
        return rc;
    }
    if (a.flags || a.__reserved) {
        return -EOPNOTSUPP;
    }
    if (a.type == IOMMU_VEVENTQ_TYPE_DEFAULT || a.type > 3) {
        REFUSE(EOPNOTSUPP, "veventq_alloc: type %u", a.type);
    }
    if (!a.veventq_depth || a.veventq_depth > (1u << 19)) {
        REFUSE(EINVAL, "veventq_alloc: depth %u", a.veventq_depth);
    }
    v = obj_typed(ctx, a.viommu_id, SIMHOST_OBJ_VIOMMU);
    if (!v) {
        REFUSE(ENOENT, "veventq_alloc: no vIOMMU %u", a.viommu_id);
    }
    if (v->veventq[a.type]) {
        REFUSE(EEXIST, "veventq_alloc: type %u exists on vIOMMU %u", a.type,
               a.viommu_id);
    }
    q = obj_new(ctx, SIMHOST_OBJ_VEVENTQ);
    if (!q) {
        return -ENOMEM;
    }
    q->viommu = v;
    v->users++;
    q->vtype = a.type;
    q->depth = a.veventq_depth;
    q->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    q->fd_open = true;
    q->users++;             /* the file holds the object */
    v->veventq[a.type] = q;
    sh_register_veventq_fd(q->efd, q);
    a.out_veventq_id = q->id;
    a.out_veventq_fd = q->efd;
    arg_out(uarg, &a, sizeof(a));
    return 0;
}

/* ---------------------------------------------------------------------- */
/* HW queue (KC:HWQ)                                                       */
/* ---------------------------------------------------------------------- */

static int hw_queue_alloc(ShCtx *ctx, void *uarg)
{
    struct iommu_hw_queue_alloc a;
    ShObj *v, *q, *ioas;
    ShArea *area;
    uint64_t start, end, last, cmdqs, host;
    unsigned nq;
    uint8_t *r;
    int rc = ARG_IN(a, uarg, length);

    if (rc) {
        return rc;
    }
    if (a.flags || a.type == IOMMU_HW_QUEUE_TYPE_DEFAULT) {
        REFUSE(EOPNOTSUPP, "hw_queue_alloc: flags 0x%x type %u", a.flags,
               a.type);
    }
    v = obj_typed(ctx, a.viommu_id, SIMHOST_OBJ_VIOMMU);
    if (!v) {
        REFUSE(ENOENT, "hw_queue_alloc: no vIOMMU %u", a.viommu_id);
    }
    if (a.type != IOMMU_HW_QUEUE_TYPE_TEGRA241_CMDQV || !v->vintf) {
        REFUSE(EOPNOTSUPP, "hw_queue_alloc: type %u on this vIOMMU", a.type);
    }
    if (!a.length) {
        REFUSE(EINVAL, "hw_queue_alloc: length 0");
    }
    if (__builtin_add_overflow(a.nesting_parent_iova, a.length - 1, &last)) {
        return -EOVERFLOW;
    }
    /* core: pin [PAGE_ALIGN_DOWN(iova), PAGE_ALIGN(iova + len)) */
    ioas = v->parent->ioas;
    start = a.nesting_parent_iova & ~(SH_PAGE - 1);
    end = (last | (SH_PAGE - 1));
    area = area_find(ioas, start, start);
    if (!area || area->iova + area->len - 1 < end) {
        REFUSE(ENOENT, "hw_queue_alloc: IPA 0x%llx+0x%llx not mapped",
               (unsigned long long)a.nesting_parent_iova,
               (unsigned long long)a.length);
    }
    host = (uint64_t)(uintptr_t)area->host +
           (a.nesting_parent_iova - area->iova);
    /* physically contiguous only within one huge page of the backing */
    if ((host & ~(SH_HUGE - 1)) != ((host + a.length - 1) & ~(SH_HUGE - 1))) {
        REFUSE(EFAULT, "hw_queue_alloc: pages not physically contiguous");
    }
    /* tegra241_vintf_alloc_lvcmdq_user() */
    nq = sh_pow2(smmu_cfg(v->smmu)->cmdqv_log2vcmdqs);
    if (a.index >= nq || a.index >= SH_MAX_LVCMDQS) {
        REFUSE(EINVAL, "hw_queue_alloc: index %u >= %u", a.index, nq);
    }
    if (v->hwq[a.index]) {
        REFUSE(EEXIST, "hw_queue_alloc: index %u exists", a.index);
    }
    if (a.index > 0 && !v->hwq[a.index - 1]) {
        REFUSE(EIO, "hw_queue_alloc: index %u before %u", a.index,
               a.index - 1);
    }
    cmdqs = IDR1_CMDQS(smmu_cfg(v->smmu)->idr[1]);
    if (a.length & (a.length - 1) || a.length < 32 ||
        a.length > (1ULL << (cmdqs + 4))) {
        REFUSE(EINVAL, "hw_queue_alloc: length 0x%llx",
               (unsigned long long)a.length);
    }
    if (host & (a.length - 1) || host >> 48) {
        REFUSE(EINVAL, "hw_queue_alloc: base not aligned to its length");
    }
    q = obj_new(ctx, SIMHOST_OBJ_HW_QUEUE);
    if (!q) {
        return -ENOMEM;
    }
    q->viommu = v;
    v->users++;
    q->index = a.index;
    q->q_iova = a.nesting_parent_iova;
    q->q_len = a.length;
    q->q_host = (uint8_t *)(uintptr_t)host;
    q->q_area = area;
    q->q_log2 = __builtin_ctzll(a.length / 16);
    area->locks++;
    if (a.index > 0) {
        v->hwq[a.index - 1]->users++;
    }
    v->hwq[a.index] = q;
    /* hw_init_user: reset page0 registers, BASE programmed, not enabled */
    r = v->page + 0x80 * a.index;
    memset(r, 0, 0x18);
    a.out_hw_queue_id = q->id;
    arg_out(uarg, &a, sizeof(a));
    return 0;
}

/* ---------------------------------------------------------------------- */
/* DESTROY                                                                 */
/* ---------------------------------------------------------------------- */

static int destroy(ShCtx *ctx, void *uarg)
{
    struct iommu_destroy d;
    ShObj *o;
    int rc = ARG_IN(d, uarg, id);

    if (rc) {
        return rc;
    }
    o = sh_obj_get(ctx, d.id);
    if (!o) {
        REFUSE(ENOENT, "destroy: no object %u", d.id);
    }
    if (o->type == SIMHOST_OBJ_DEVICE || o->users > 0) {
        REFUSE(EBUSY, "destroy: object %u (type %d) busy, %d users", d.id,
               o->type, o->users);
    }
    if (o->type == SIMHOST_OBJ_VEVENTQ && sh_ctl->veventq_busy_count) {
        /* a poller still holds the file (the main loop in ppoll()) */
        sh_ctl->veventq_busy_count--;
        REFUSE(EBUSY, "destroy: vEVENTQ %u file still polled", d.id);
    }
    obj_free(o);
    return 0;
}

/* ---------------------------------------------------------------------- */
/* mmap of the iommufd: the VINTF page (KC:MMAP)                           */
/* ---------------------------------------------------------------------- */

typedef struct ShVma {
    void *addr;
    size_t len;
    ShObj *owner;
} ShVma;
static ShVma sh_vma[64];

int sh_iommufd_mmap(ShCtx *ctx, void *addr, size_t len, int prot, int flags,
                    off_t off, void **out)
{
    ShObj *v = NULL;
    void *p;

    sh_ctl->calls[SIMHOST_K_MMAP]++;
    if (sh_inject_check(SIMHOST_K_MMAP)) {
        return -sh_ctl->last_errno[SIMHOST_K_MMAP];
    }
    if (!(flags & MAP_SHARED)) {
        sh_ctl->fails[SIMHOST_K_MMAP]++;
        REFUSE(EINVAL, "mmap: not MAP_SHARED");
    }
    if (prot & PROT_EXEC) {
        sh_ctl->fails[SIMHOST_K_MMAP]++;
        REFUSE(EPERM, "mmap: PROT_EXEC");
    }
    for (int i = 1; i < SH_MAX_IDS; i++) {
        ShObj *o = ctx->objs[i];

        if (o && o->type == SIMHOST_OBJ_VIOMMU && o->vintf &&
            (uint64_t)off >= o->mmap_off &&
            (uint64_t)off < o->mmap_off + SH_VINTF_PAGE) {
            v = o;
        }
    }
    if (!v || (uint64_t)off != v->mmap_off || len != SH_VINTF_PAGE) {
        sh_ctl->fails[SIMHOST_K_MMAP]++;
        REFUSE(ENXIO, "mmap: offset 0x%llx length 0x%zx match no region",
               (unsigned long long)off, len);
    }
    /* MAP_FIXED over a range the caller reserved is what QEMU does */
    p = mmap((flags & MAP_FIXED) ? addr : NULL, len, prot,
             MAP_SHARED | (flags & MAP_FIXED), v->page_fd, 0);
    if (p == MAP_FAILED) {
        return -errno;
    }
    for (int i = 0; i < 64; i++) {
        if (!sh_vma[i].addr) {
            sh_vma[i].addr = p;
            sh_vma[i].len = len;
            sh_vma[i].owner = v;
            v->mmaps++;
            v->users++;
            sh_ctl->vintf_mmaps++;
            *out = p;
            return 0;
        }
    }
    munmap(p, len);
    return -ENOMEM;
}

void sh_iommufd_munmap(void *addr, size_t len)
{
    for (int i = 0; i < 64; i++) {
        ShVma *m = &sh_vma[i];

        if (m->addr && (uint8_t *)addr <= (uint8_t *)m->addr &&
            (uint8_t *)m->addr < (uint8_t *)addr + len) {
            m->owner->mmaps--;
            m->owner->users--;
            sh_ctl->vintf_mmaps--;
            m->addr = NULL;
        }
    }
}

/* ---------------------------------------------------------------------- */
/* Devices: bind, attach, detach (KC:VFIO, KC:ATT)                         */
/* ---------------------------------------------------------------------- */

bool sh_device_bind(ShCtx *ctx, int n, ShObj **out)
{
    ShObj *o = obj_new(ctx, SIMHOST_OBJ_DEVICE);

    if (o) {
        o->dev = n;
        o->users = 1;
    }
    *out = o;
    return o != NULL;
}

static ShObj *hwpt_ioas(ShObj *hwpt)
{
    if (hwpt->type == SIMHOST_OBJ_HWPT_NESTED) {
        return hwpt->viommu->parent->ioas;
    }
    return hwpt->ioas;
}

static void release_attachment(ShDev *d, ShObj *old, ShObj *new_ioas)
{
    ShObj *ioas = hwpt_ioas(old);

    old->users--;
    if (ioas != new_ioas) {
        resv_remove_owner(ioas, d);
    }
    if (old->type == SIMHOST_OBJ_HWPT_PAGING && old->auto_domain &&
        !old->users) {
        obj_free(old);
    }
}

int sh_dev_attach(ShDev *d, int n, uint32_t *pt_id)
{
    ShCtx *ctx = d->ctx;
    ShObj *pt = sh_obj_get(ctx, *pt_id), *hwpt, *ioas;
    int smmu = dev_smmu(n);
    bool resv_held;

    if (!pt) {
        REFUSE(ENOENT, "attach: no object %u", *pt_id);
    }
    if (pt->type == SIMHOST_OBJ_IOAS) {
        /* auto domain: reuse a compatible one on this IOAS or allocate */
        hwpt = NULL;
        for (int i = 1; i < SH_MAX_IDS; i++) {
            ShObj *x = ctx->objs[i];

            if (x && x->type == SIMHOST_OBJ_HWPT_PAGING && x->auto_domain &&
                x->ioas == pt && x->smmu == smmu) {
                hwpt = x;
                break;
            }
        }
        if (!hwpt) {
            hwpt = paging_alloc(pt, smmu, 0);
            if (!hwpt) {
                return -ENOMEM;
            }
            hwpt->auto_domain = true;
        }
    } else if (pt->type == SIMHOST_OBJ_HWPT_PAGING) {
        if (pt->smmu != smmu) {
            REFUSE(EINVAL, "attach: HWPT %u belongs to SMMU %d, device to %d",
                   pt->id, pt->smmu, smmu);
        }
        hwpt = pt;
    } else if (pt->type == SIMHOST_OBJ_HWPT_NESTED) {
        if (pt->viommu->smmu != smmu) {
            REFUSE(EINVAL, "attach: nested HWPT of SMMU %d, device on %d",
                   pt->viommu->smmu, smmu);
        }
        if (STE0_CFG(pt->ste[0]) == STE_CFG_S1 && (pt->ste[0] & STE0_V) &&
            (!d->vdevice || d->vdevice->viommu != pt->viommu)) {
            REFUSE(ENOENT, "attach: S1 vSTE needs a vDEVICE first");
        }
        hwpt = pt;
    } else {
        REFUSE(EINVAL, "attach: %u is not an IOAS or HWPT", *pt_id);
    }
    ioas = hwpt_ioas(hwpt);
    /* the device's reserved regions go into the IOAS: SW_MSI */
    resv_held = false;
    for (ShResv *r = ioas->resv; r; r = r->next) {
        if (r->owner == d) {
            resv_held = true;
        }
    }
    if (!resv_held) {
        ShArea *a = area_find(ioas, SIMHOST_SW_MSI_BASE,
                              SIMHOST_SW_MSI_BASE + SIMHOST_SW_MSI_SIZE - 1);

        if (a) {
            if (hwpt->auto_domain && !hwpt->users) {
                obj_free(hwpt);
            }
            REFUSE(EADDRINUSE, "attach: SW_MSI window already mapped at "
                   "0x%llx", (unsigned long long)a->iova);
        }
        resv_add(ioas, SIMHOST_SW_MSI_BASE,
                 SIMHOST_SW_MSI_BASE + SIMHOST_SW_MSI_SIZE - 1, d);
    }
    hwpt->users++;
    if (d->attached) {
        release_attachment(d, d->attached, ioas);
    }
    d->attached = hwpt;
    /* the physical STE changes: CFGI_STE drops the cached CDs */
    sh_cd_cache_flush_sid(smmu, sh_ctl->dev[n].sid);
    if (hwpt->type == SIMHOST_OBJ_HWPT_NESTED && d->vdevice &&
        d->vdevice->viommu == hwpt->viommu) {
        d->vmaster = true;
        d->vsid = d->vdevice->virt_id;
        d->vmaster_viommu = hwpt->viommu;
    } else if (hwpt->type != SIMHOST_OBJ_HWPT_NESTED || !d->vdevice) {
        d->vmaster = false;
        d->vmaster_viommu = NULL;
    }
    sh_ctl->dev_attached[n] = hwpt->id;
    sh_ctl->dev_attach_kind[n] = hwpt->type == SIMHOST_OBJ_HWPT_NESTED ?
                                 SIMHOST_ATTACH_NESTED : SIMHOST_ATTACH_PAGING;
    sh_ctl->dev_ste[n][0] = hwpt->ste[0];   /* 0 for paging HWPTs */
    sh_ctl->dev_ste[n][1] = hwpt->ste[1];
    /* physical ATS: asked for by the vSTE, and the device has it (KC:VSTE-8) */
    sh_ctl->dev_ats_enabled[n] = hwpt->type == SIMHOST_OBJ_HWPT_NESTED &&
                                 hwpt->enable_ats && sh_ctl->dev[n].ats;
    sh_ctl->dev_vsid_valid[n] = d->vmaster;
    sh_ctl->dev_vsid[n] = d->vsid;
    sh_ctl->dev_attach_count[n]++;
    *pt_id = hwpt->id;
    return 0;
}

int sh_dev_detach(ShDev *d, int n)
{
    if (!d->attached) {
        REFUSE(EINVAL, "detach: not attached");
    }
    release_attachment(d, d->attached, NULL);
    d->attached = NULL;
    d->vmaster = false;
    d->vmaster_viommu = NULL;
    sh_ctl->dev_attached[n] = 0;
    sh_ctl->dev_attach_kind[n] = SIMHOST_ATTACH_NONE;
    sh_ctl->dev_vsid_valid[n] = 0;
    return 0;
}

void sh_dev_unbind(ShDev *d, int n)
{
    if (d->attached) {
        sh_dev_detach(d, n);
    }
    if (d->vdevice) {
        /* KC:VFIO-12: the vDEVICE id leaks until the iommufd closes */
        sh_ctl->vdev_leaked_on_close++;
        d->vdevice->dev = -1;
        d->vdevice = NULL;
    }
    if (d->idev) {
        d->idev->users = 0;
        obj_free(d->idev);
        d->idev = NULL;
    }
    d->bound = false;
    d->ctx = NULL;
    sh_ctl->dev_bound[n] = 0;
    sh_ctl->dev_id[n] = 0;
}

/* ---------------------------------------------------------------------- */
/* Leaks: alive objects that no bound device can reach                     */
/* ---------------------------------------------------------------------- */

static void mark(ShObj *o, bool *seen)
{
    if (!o) {
        return;
    }
    seen[o->id] = true;
    switch (o->type) {
    case SIMHOST_OBJ_HWPT_PAGING:
        seen[o->ioas->id] = true;
        break;
    case SIMHOST_OBJ_HWPT_NESTED:
        mark(o->viommu, seen);
        break;
    case SIMHOST_OBJ_VIOMMU:
        /*
         * What hangs off a vIOMMU in use is the VMM's working set: its
         * vDEVICEs, vEVENTQs, HW queues and nested domains (a VMM keeps
         * e.g. abort and bypass domains ready). Forgotten per-STE domains
         * show in the live object count, which tests compare instead.
         */
        mark(o->parent, seen);
        for (int i = 1; i < SH_MAX_IDS; i++) {
            ShObj *x = o->ctx->objs[i];

            if (x && x != o && x->viommu == o && !seen[x->id]) {
                seen[x->id] = true;
            }
        }
        break;
    default:
        break;
    }
}

unsigned sh_count_leaks(bool log)
{
    unsigned leaks = 0, alive = 0;

    for (int c = 0; c < SH_MAX_CTX; c++) {
        bool seen[SH_MAX_IDS] = { false };

        if (!sh_ctx[c].used) {
            continue;
        }
        for (int n = 0; n < SIMHOST_MAX_DEVS; n++) {
            if (sh_dev[n].bound && sh_dev[n].ctx == &sh_ctx[c]) {
                mark(sh_dev[n].attached, seen);
                mark(sh_dev[n].vdevice, seen);
                if (sh_dev[n].vdevice) {
                    mark(sh_dev[n].vdevice->viommu, seen);
                }
            }
        }
        for (int i = 1; i < SH_MAX_IDS; i++) {
            ShObj *o = sh_ctx[c].objs[i];

            if (!o || o->type == SIMHOST_OBJ_DEVICE) {
                continue;
            }
            alive++;
            if (!seen[i]) {
                if (log && leaks < SIMHOST_LEAK_LOG) {
                    sh_ctl->leak[leaks].type = o->type;
                    sh_ctl->leak[leaks].id = o->id;
                }
                leaks++;
            }
        }
    }
    if (log) {
        sh_ctl->objects_at_exit = alive;
        sh_ctl->leak_count_logged = leaks < SIMHOST_LEAK_LOG ? leaks
                                                             : SIMHOST_LEAK_LOG;
    }
    return leaks;
}

/* ---------------------------------------------------------------------- */
/* Dispatch                                                                */
/* ---------------------------------------------------------------------- */

int sh_inject_check(SimhostKind kind)
{
    for (int i = 0; i < SIMHOST_MAX_INJECT; i++) {
        SimhostInject *j = &sh_ctl->inject[i];

        if (j->count && j->kind == (uint32_t)kind) {
            if (j->skip) {
                j->skip--;
                continue;
            }
            j->count--;
            j->fired++;
            sh_ctl->last_errno[kind] = j->err;
            sh_log("injected %s failure of kind %d", strerror(j->err), kind);
            return -j->err;
        }
    }
    return 0;
}

int sh_iommufd_ioctl(ShCtx *ctx, unsigned long req, void *arg)
{
    unsigned nr = _IOC_NR(req);
    SimhostKind k;
    int rc;

    if (_IOC_TYPE(req) != IOMMUFD_TYPE || nr < IOMMUFD_CMD_BASE ||
        nr > IOMMUFD_CMD_BASE + SIMHOST_K_HW_QUEUE_ALLOC) {
        sh_ctl->calls[SIMHOST_K_UNKNOWN_IOCTL]++;
        sh_ctl->fails[SIMHOST_K_UNKNOWN_IOCTL]++;
        return -ENOTTY;
    }
    k = nr - IOMMUFD_CMD_BASE;
    sh_ctl->calls[k]++;
    rc = sh_inject_check(k);
    if (rc) {
        if (k == SIMHOST_K_HWPT_INVALIDATE && arg) {
            struct iommu_hwpt_invalidate *h = arg;

            h->entry_num = 0;
            if (sh_ctl->bad_entry_num_count) {
                sh_ctl->bad_entry_num_count--;
                h->entry_num = sh_ctl->bad_entry_num;
            }
        }
        sh_ctl->fails[k]++;
        return rc;
    }
    switch (k) {
    case SIMHOST_K_DESTROY:
        rc = destroy(ctx, arg);
        break;
    case SIMHOST_K_IOAS_ALLOC:
        rc = ioas_alloc(ctx, arg);
        break;
    case SIMHOST_K_IOAS_IOVA_RANGES:
        rc = ioas_iova_ranges(ctx, arg);
        break;
    case SIMHOST_K_IOAS_MAP:
        rc = ioas_map(ctx, arg);
        break;
    case SIMHOST_K_IOAS_MAP_FILE:
        rc = ioas_map_file(ctx, arg);
        break;
    case SIMHOST_K_IOAS_UNMAP:
        rc = ioas_unmap(ctx, arg);
        break;
    case SIMHOST_K_OPTION:
        rc = option(ctx, arg);
        break;
    case SIMHOST_K_HWPT_ALLOC:
        rc = hwpt_alloc(ctx, arg);
        break;
    case SIMHOST_K_GET_HW_INFO:
        rc = get_hw_info(ctx, arg);
        break;
    case SIMHOST_K_HWPT_INVALIDATE:
        rc = hwpt_invalidate(ctx, arg);
        break;
    case SIMHOST_K_IOAS_CHANGE_PROCESS:
        rc = change_process(ctx, arg);
        break;
    case SIMHOST_K_VIOMMU_ALLOC:
        rc = viommu_alloc(ctx, arg);
        break;
    case SIMHOST_K_VDEVICE_ALLOC:
        rc = vdevice_alloc(ctx, arg);
        break;
    case SIMHOST_K_VEVENTQ_ALLOC:
        rc = veventq_alloc(ctx, arg);
        break;
    case SIMHOST_K_HW_QUEUE_ALLOC:
        rc = hw_queue_alloc(ctx, arg);
        break;
    default:
        /* ALLOW_IOVAS, COPY, VFIO_IOAS, dirty tracking, fault queues */
        sh_log("ioctl 0x%x not simulated", nr);
        rc = -EOPNOTSUPP;
        break;
    }
    if (rc) {
        sh_ctl->fails[k]++;
        sh_ctl->last_errno[k] = -rc;
    }
    if (k == SIMHOST_K_HWPT_INVALIDATE && arg &&
        sh_ctl->bad_entry_num_count) {
        /* a broken host: entry_num says what it likes */
        sh_ctl->bad_entry_num_count--;
        ((struct iommu_hwpt_invalidate *)arg)->entry_num =
            sh_ctl->bad_entry_num;
    }
    return rc;
}
