/*
 * simhost: the IOAS of /dev/iommu (KC:IOAS) and the iommufd options,
 * as Linux 7.2 answers them. Rule references ("KC:" and an ID) name the
 * rules of docs/kernel-contract.md.
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

static ShResv *resv_find(ShObj *ioas, uint64_t start, uint64_t last)
{
    for (ShResv *r = ioas->resv; r; r = r->next) {
        if (r->start <= last && start <= r->last) {
            return r;
        }
    }
    return NULL;
}

ShArea *sh_area_find(ShObj *ioas, uint64_t start, uint64_t last)
{
    for (ShArea *a = ioas->areas; a; a = a->next) {
        if (a->iova <= last && start <= a->iova + a->len - 1) {
            return a;
        }
    }
    return NULL;
}

void sh_resv_add(ShObj *ioas, uint64_t start, uint64_t last, void *owner)
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
        a = sh_area_find(ioas, cand, last);
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
        if (sh_area_find(ioas, *iova, last)) {
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

int sh_ioas_map(ShCtx *ctx, void *uarg)
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
    ioas = sh_obj_typed(ctx, m.ioas_id, SIMHOST_OBJ_IOAS);
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
    sh_arg_out(uarg, &m, sizeof(m));
    return 0;
}

int sh_ioas_map_file(ShCtx *ctx, void *uarg)
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
    ioas = sh_obj_typed(ctx, m.ioas_id, SIMHOST_OBJ_IOAS);
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
    sh_arg_out(uarg, &m, sizeof(m));
    return 0;
}

/* Unmap: whole areas only (KC:IOAS-11 to KC:IOAS-16, KC:IOAS-24) */
int sh_ioas_unmap(ShCtx *ctx, void *uarg)
{
    struct iommu_ioas_unmap u;
    ShObj *ioas;
    uint64_t last, done = 0;
    bool all;
    int rc = ARG_IN(u, uarg, length);

    if (rc) {
        return rc;
    }
    ioas = sh_obj_typed(ctx, u.ioas_id, SIMHOST_OBJ_IOAS);
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
            sh_area_free(a);
        } else {
            pp = &a->next;
        }
    }
    if (!done && !all) {
        REFUSE(ENOENT, "unmap: nothing mapped at 0x%llx",
               (unsigned long long)u.iova);
    }
    u.length = done;
    sh_arg_out(uarg, &u, sizeof(u));
    return 0;
}

int sh_ioas_iova_ranges(ShCtx *ctx, void *uarg)
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
    ioas = sh_obj_typed(ctx, r.ioas_id, SIMHOST_OBJ_IOAS);
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
        sh_arg_out(uarg, &r, sizeof(r));
        return -EMSGSIZE;
    }
    memcpy((void *)(uintptr_t)r.allowed_iovas, out, n * sizeof(out[0]));
    r.num_iovas = n;
    r.out_iova_alignment = SH_PAGE;
    sh_arg_out(uarg, &r, sizeof(r));
    return 0;
}

int sh_ioas_alloc(ShCtx *ctx, void *uarg)
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
    o = sh_obj_new(ctx, SIMHOST_OBJ_IOAS);
    if (!o) {
        return -ENOMEM;
    }
    a.out_ioas_id = o->id;
    sh_arg_out(uarg, &a, sizeof(a));
    return 0;
}

int sh_ioas_option(ShCtx *ctx, void *uarg)
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
        if (!sh_obj_typed(ctx, o.object_id, SIMHOST_OBJ_IOAS)) {
            return -ENOENT;
        }
        break;
    default:
        /* 7.2 has no other sh_ioas_option (no SW_MSI window option) */
        REFUSE(EOPNOTSUPP, "option %u", o.option_id);
    }
    if (o.op == IOMMU_OPTION_OP_SET && o.val64 > 1) {
        return -EINVAL;
    }
    if (o.op == IOMMU_OPTION_OP_GET) {
        o.val64 = o.option_id == IOMMU_OPTION_HUGE_PAGES;
        sh_arg_out(uarg, &o, sizeof(o));
    }
    return 0;
}

int sh_ioas_change_process(ShCtx *ctx, void *uarg)
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
