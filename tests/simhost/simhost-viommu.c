/*
 * simhost: the vIOMMU objects of /dev/iommu as Linux 7.2's arm-smmu-v3
 * and tegra241-cmdqv drivers answer them: vIOMMU and vDEVICE, HWPT
 * invalidation through a vIOMMU, vEVENTQ, HW queue and the mmap of the
 * VINTF page. Rule references ("KC:" and an ID) name the rules of
 * docs/kernel-contract.md.
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

int sh_viommu_alloc(ShCtx *ctx, void *uarg)
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
    d = sh_dev_obj(ctx, a.dev_id);
    if (!d) {
        REFUSE(ENOENT, "viommu_alloc: no device %u", a.dev_id);
    }
    smmu = sh_dev_smmu(d->dev);
    c = sh_smmu_cfg(smmu);
    /* get_viommu_size() == 0 -> EOPNOTSUPP */
    if (a.type != IOMMU_VIOMMU_TYPE_ARM_SMMUV3 &&
        a.type != IOMMU_VIOMMU_TYPE_TEGRA241_CMDQV) {
        REFUSE(EOPNOTSUPP, "viommu_alloc: type %u", a.type);
    }
    if (!sh_smmu_nesting(smmu) ||
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
    o = sh_obj_new(ctx, SIMHOST_OBJ_VIOMMU);
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
    sh_arg_out(uarg, &a, sizeof(a));
    return 0;
}

int sh_vdevice_alloc(ShCtx *ctx, void *uarg)
{
    struct iommu_vdevice_alloc a;
    ShObj *v, *d, *o;
    int slot = -1;
    int rc = ARG_IN(a, uarg, virt_id);

    if (rc) {
        return rc;
    }
    v = sh_obj_typed(ctx, a.viommu_id, SIMHOST_OBJ_VIOMMU);
    if (!v) {
        REFUSE(ENOENT, "vdevice_alloc: no vIOMMU %u", a.viommu_id);
    }
    d = sh_dev_obj(ctx, a.dev_id);
    if (!d) {
        REFUSE(ENOENT, "vdevice_alloc: no device %u", a.dev_id);
    }
    if (sh_dev_smmu(d->dev) != v->smmu) {
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
        unsigned nsids = sh_pow2(sh_smmu_cfg(v->smmu)->cmdqv_log2vsids);

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
    o = sh_obj_new(ctx, SIMHOST_OBJ_VDEVICE);
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
    sh_arg_out(uarg, &a, sizeof(a));
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

int sh_hwpt_invalidate(ShCtx *ctx, void *uarg)
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
        sh_arg_out(uarg, &h, sizeof(h));
        REFUSE(EINVAL, "invalidate: data_type %u", h.data_type);
    }
    /* kzalloc(0) + copy of an empty array: EINVAL on ARM */
    if (h.entry_num == 0) {
        sh_arg_out(uarg, &h, sizeof(h));
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
                sh_arg_out(uarg, &h, sizeof(h));
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
    sh_arg_out(uarg, &h, sizeof(h));
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

int sh_veventq_alloc(ShCtx *ctx, void *uarg)
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
    v = sh_obj_typed(ctx, a.viommu_id, SIMHOST_OBJ_VIOMMU);
    if (!v) {
        REFUSE(ENOENT, "veventq_alloc: no vIOMMU %u", a.viommu_id);
    }
    if (v->veventq[a.type]) {
        REFUSE(EEXIST, "veventq_alloc: type %u exists on vIOMMU %u", a.type,
               a.viommu_id);
    }
    q = sh_obj_new(ctx, SIMHOST_OBJ_VEVENTQ);
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
    sh_arg_out(uarg, &a, sizeof(a));
    return 0;
}

/* ---------------------------------------------------------------------- */
/* HW queue (KC:HWQ)                                                       */
/* ---------------------------------------------------------------------- */

int sh_hw_queue_alloc(ShCtx *ctx, void *uarg)
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
    v = sh_obj_typed(ctx, a.viommu_id, SIMHOST_OBJ_VIOMMU);
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
    area = sh_area_find(ioas, start, start);
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
    nq = sh_pow2(sh_smmu_cfg(v->smmu)->cmdqv_log2vcmdqs);
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
    cmdqs = IDR1_CMDQS(sh_smmu_cfg(v->smmu)->idr[1]);
    if (a.length & (a.length - 1) || a.length < 32 ||
        a.length > (1ULL << (cmdqs + 4))) {
        REFUSE(EINVAL, "hw_queue_alloc: length 0x%llx",
               (unsigned long long)a.length);
    }
    if (host & (a.length - 1) || host >> 48) {
        REFUSE(EINVAL, "hw_queue_alloc: base not aligned to its length");
    }
    q = sh_obj_new(ctx, SIMHOST_OBJ_HW_QUEUE);
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
    sh_arg_out(uarg, &a, sizeof(a));
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
