/*
 * vsmmu: the Tegra241 CMDQV model — registers, VCMDQs, errors
 *
 * The guest sees a CMDQV with one VINTF (VINTF0) whose CONFIG.HYP_OWN
 * always reads 0: a guest-owned VINTF, so a Linux guest restricts its
 * VCMDQs to TLBI_NH_ASID, TLBI_NH_VA, ATC_INV and CMD_SYNC. The register
 * window is the config page, the global VCMDQ pages 0 and 1 and VINTF0's
 * logical pages 0 and 1 (include/hw/arm/vsmmu/cmdqv-regs.h).
 *
 * With cmdqv-vintfs=N > 1 the guest is the host instead (it runs at EL2
 * and hands VINTFs to its own guests, as Linux's tegra241-cmdqv driver
 * does through iommufd): N VINTFs with their logical pages, HYP_OWN
 * writable, and a VINTF's VCMDQs obey its configuration — a HYP_OWN
 * VINTF issues the full command set; a guest-owned one only the four
 * above, with its VMID put into the TLBIs and ATC_INV's StreamID looked
 * up in its SID_MATCH and replaced by SID_REPLACE (no match: an error).
 * With N = 1 nothing of this exists and the model is the guest's view,
 * migration stream included.
 *
 * Emulated, a VCMDQ is one more queue of the vsmmu's command engine, with
 * its own runner (bounded slices, vsmmu_cmdq_kick) and the command set
 * its VINTF allows; its errors land in
 * its GERROR and CONS.ERR, in LVCMDQ_ERR_MAP, CMDQ_ERR_MAP and
 * VINTF_ERR_MAP, and raise the CMDQV interrupt. Accelerated on a host
 * with a CMDQV (vsmmu-cmdqv-accel.c), a VCMDQ the host backs has its
 * page 0 registers in the host VINTF page: this file forwards trapped
 * accesses there through the CMDQV host interface (cv->host_ops,
 * vsmmu-cmdqv.h), never touching the page itself, and the page is mapped
 * into the guest while VINTF0 is enabled, so PROD/CONS/CONFIG accesses
 * never trap.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "qemu/log.h"
#include "qemu/error-report.h"
#include "hw/sysbus.h"
#include "migration/vmstate.h"
#include "system/hostmem.h"
#include "system/runstate.h"
#include "vsmmu-internal.h"
#include "vsmmu-cmdqv.h"
#include "trace.h"

/* PARAM.VER of the model when no host says otherwise */
#define CMDQV_MODEL_VERSION     1

/* ---- queue lookup -------------------------------------------------------- */

/* Global VCMDQs */
static unsigned cmdqv_nq(VsmmuCmdqv *cv)
{
    return cv->num_vcmdqs * cv->num_vintfs;
}

/* Logical VCMDQs of one VINTF */
static unsigned cmdqv_nlq(VsmmuCmdqv *cv)
{
    return cv->num_vcmdqs;
}

/* Several VINTFs: the guest is the host (cmdqv-vintfs > 1) */
static bool cmdqv_host_side(VsmmuCmdqv *cv)
{
    return cv->num_vintfs > 1;
}

/*
 * The logical index of global queue @q, its VINTF in *@vintf; -1 if not
 * allocated. Writes keep VINTF and LVCMDQ in range when ALLOCATED is set.
 */
static int cmdqv_alloc_lidx(VsmmuCmdqv *cv, unsigned q, unsigned *vintf)
{
    uint32_t a = cv->vcmdq[q].alloc;

    if (!FIELD_EX32(a, CMDQV_CMDQ_ALLOC, ALLOCATED)) {
        return -1;
    }
    *vintf = FIELD_EX32(a, CMDQV_CMDQ_ALLOC, VINTF);
    return FIELD_EX32(a, CMDQV_CMDQ_ALLOC, LVCMDQ);
}

/* The global queue behind VINTF @vintf's logical queue @lidx, -1 if none */
static int cmdqv_global(VsmmuCmdqv *cv, unsigned vintf, unsigned lidx)
{
    for (unsigned q = 0; q < cmdqv_nq(cv); q++) {
        unsigned v;

        if (cmdqv_alloc_lidx(cv, q, &v) == (int)lidx && v == vintf) {
            return q;
        }
    }
    return -1;
}

/* The logical index of global queue @q in VINTF0, -1 if not allocated */
int vsmmu_cmdqv_lidx(VsmmuCmdqv *cv, unsigned q)
{
    unsigned v;
    int lidx = cmdqv_alloc_lidx(cv, q, &v);

    return lidx >= 0 && v == 0 ? lidx : -1;
}

/* The global queue behind VINTF0's logical queue @lidx, -1 if none */
int vsmmu_cmdqv_global(VsmmuCmdqv *cv, unsigned lidx)
{
    return cmdqv_global(cv, 0, lidx);
}

/* CMDQV_EN and VINTF @v's EN */
static bool cmdqv_vintf_on(VsmmuCmdqv *cv, unsigned v)
{
    return FIELD_EX32(cv->config, CMDQV_CONFIG, CMDQV_EN) &&
           FIELD_EX32(cv->vintf[v].config, VINTF_CONFIG, EN);
}

bool vsmmu_cmdqv_vintf_enabled(VsmmuCmdqv *cv)
{
    return cmdqv_vintf_on(cv, 0);
}

/* A hypervisor-owned VINTF (host side only: the guest's view keeps 0) */
static bool cmdqv_hyp_own(VsmmuCmdqv *cv, unsigned v)
{
    return FIELD_EX32(cv->vintf[v].config, VINTF_CONFIG, HYP_OWN);
}

/* Are the page 0 registers of VINTF @v's logical queue @lidx the host's? */
static bool cmdqv_host_backs(VsmmuCmdqv *cv, int v, int lidx)
{
    return v == 0 && lidx >= 0 && cv->host_ops &&
           cv->host_ops->backs(cv->host, lidx);
}

/* ---- errors and the interrupt -------------------------------------------- */

/* A command error stopped the queue until GERRORN acknowledges it */
static bool vcmdq_error_active(VsmmuVcmdq *vq)
{
    return FIELD_EX32(vq->gerror ^ vq->gerrorn, VCMDQ_GERROR, CMDQ_ERR);
}

/* Any GERROR bit active (the queue shows in the error maps) */
static bool vcmdq_gerror_active(VsmmuVcmdq *vq)
{
    return (vq->gerror ^ vq->gerrorn) & VCMDQ_GERROR_BITS;
}

/* Is VINTF @v's logical queue @lidx in error (LVCMDQ_ERR_MAP bit)? */
static bool cmdqv_lvcmdq_in_error(VsmmuCmdqv *cv, unsigned v, unsigned lidx)
{
    int q;

    if (cmdqv_host_backs(cv, v, lidx)) {
        /* reported by the host and not acknowledged since */
        return (cv->host_err_map[lidx / 64] >> (lidx % 64) & 1) &&
               cv->host_ops->read_page0(cv->host, lidx, A_VCMDQ_GERRORN) ==
               cv->host_err_gerrorn[lidx];
    }
    if (v == 0 && lidx < CMDQV_MAX_VCMDQS &&
        (cv->host_err_map[lidx / 64] >> (lidx % 64) & 1)) {
        return true;            /* reported for a queue no longer the host's */
    }
    q = cmdqv_global(cv, v, lidx);
    return q >= 0 && vcmdq_gerror_active(&cv->vcmdq[q]);
}

static uint64_t cmdqv_lvcmdq_err_map(VsmmuCmdqv *cv, unsigned v, unsigned m)
{
    uint64_t map = 0;

    for (unsigned l = m * 64; l < MIN(cmdqv_nlq(cv), (m + 1) * 64); l++) {
        map |= (uint64_t)cmdqv_lvcmdq_in_error(cv, v, l) << (l % 64);
    }
    return map;
}

static uint32_t cmdqv_cmdq_err_map(VsmmuCmdqv *cv, unsigned m)
{
    uint32_t map = 0;

    for (unsigned q = m * 32; q < MIN(cmdqv_nq(cv), (m + 1) * 32); q++) {
        unsigned v;
        int lidx = cmdqv_alloc_lidx(cv, q, &v);
        bool err = lidx >= 0 ? cmdqv_lvcmdq_in_error(cv, v, lidx) :
                   vcmdq_gerror_active(&cv->vcmdq[q]);

        map |= (uint32_t)err << (q % 32);
    }
    return map;
}

/* One bit per VINTF with a logical queue in error */
static uint64_t cmdqv_vintf_err_map(VsmmuCmdqv *cv)
{
    uint64_t map = (cmdqv_lvcmdq_err_map(cv, 0, 0) |
                    cmdqv_lvcmdq_err_map(cv, 0, 1)) ? 1 : 0;

    /* the others have no host queues: their allocated queues' errors */
    for (unsigned q = 0; cmdqv_host_side(cv) && q < cmdqv_nq(cv); q++) {
        unsigned v;

        if (cmdqv_alloc_lidx(cv, q, &v) >= 0 && v &&
            vcmdq_gerror_active(&cv->vcmdq[q])) {
            map |= 1ULL << v;
        }
    }
    return map;
}

void vsmmu_cmdqv_irq(VsmmuState *s)
{
    trace_vsmmu_cmdqv_irq(cmdqv_lvcmdq_err_map(&s->cmdqv, 0, 0),
                          cmdqv_lvcmdq_err_map(&s->cmdqv, 0, 1));
    s->cmdqv.stats_irqs++;
    qemu_irq_pulse(s->cmdqv.irq);
}

/* Global queue @q has an error to report: the interrupt, unless masked */
static void vcmdq_signal(VsmmuState *s, unsigned q)
{
    VsmmuCmdqv *cv = &s->cmdqv;
    unsigned v = 0;
    int lidx = cmdqv_alloc_lidx(cv, q, &v);

    cv->stats_errors++;
    cv->vintf[v].stats_errors++;
    /* host side: VINTF_INT_MASK bit v keeps VINTF v's errors quiet */
    if (cmdqv_host_side(cv) && lidx >= 0 && (cv->vintf_int_mask >> v & 1)) {
        trace_vsmmu_cmdqv_irq_masked(v);
        return;
    }
    vsmmu_cmdqv_irq(s);
}

/* Global queue @q stops on a command error: GERROR, ERR_MAPs, interrupt */
static void vcmdq_raise(VsmmuState *s, unsigned q, VsmmuCmdError err)
{
    VsmmuCmdqv *cv = &s->cmdqv;
    VsmmuVcmdq *vq = &cv->vcmdq[q];
    unsigned v = 0;
    int lidx = cmdqv_alloc_lidx(cv, q, &v);

    vq->q.cons = FIELD_DP32(vq->q.cons, VCMDQ_CONS, ERR, err);
    if (!vcmdq_error_active(vq)) {
        vq->gerror ^= R_VCMDQ_GERROR_CMDQ_ERR_MASK;
    }
    trace_vsmmu_cmdqv_vcmdq_error(q, lidx >= 0 ? v : 0, lidx, err);
    vcmdq_signal(s, q);
}

/* ---- emulated VCMDQs: queues of the command engine ----------------------- */

static unsigned vcmdq_index(VsmmuState *s, VsmmuQueue *q)
{
    return container_of(q, VsmmuVcmdq, q) - s->cmdqv.vcmdq;
}

/*
 * Every opcode the engine decodes may reach vcmdq_command(), which knows
 * the queue's VINTF and decides there.
 */
static bool vcmdq_allowed(VsmmuState *s, uint8_t opcode)
{
    return true;
}

/* the engine left CONS, with ERR, on the failing command */
static void vcmdq_error(VsmmuState *s, VsmmuQueue *q, VsmmuCmdError err)
{
    vcmdq_raise(s, vcmdq_index(s, q), err);
}

/*
 * A CMD_SYNC's MSI write was refused: GERROR.MSI_CMDQ_ABT_ERR, as the
 * main queue's SMMU_GERROR has it (IHI 0070 §7.5). The CMD_SYNC has
 * completed and the queue goes on; the error maps show the queue until
 * GERRORN acknowledges it, and the interrupt fires once.
 */
static void vcmdq_msi_abort(VsmmuState *s, VsmmuQueue *q)
{
    unsigned index = vcmdq_index(s, q);
    VsmmuVcmdq *vq = &s->cmdqv.vcmdq[index];

    trace_vsmmu_cmdqv_vcmdq_msi_abort(index);
    /* signalled when it becomes active, as SMMU_GERROR's bits are */
    if (!FIELD_EX32(vq->gerror ^ vq->gerrorn, VCMDQ_GERROR,
                    MSI_CMDQ_ABT_ERR)) {
        vq->gerror ^= R_VCMDQ_GERROR_MSI_CMDQ_ABT_ERR_MASK;
        vcmdq_signal(s, index);
    }
}

static bool vcmdq_can_run(VsmmuState *s, VsmmuQueue *q)
{
    VsmmuCmdqv *cv = &s->cmdqv;
    unsigned index = vcmdq_index(s, q), v;
    VsmmuVcmdq *vq = &cv->vcmdq[index];

    return cmdqv_alloc_lidx(cv, index, &v) >= 0 && cmdqv_vintf_on(cv, v) &&
           FIELD_EX32(vq->config, VCMDQ_CONFIG, EN) && !vq->host_fault &&
           !vcmdq_error_active(vq);
}

/*
 * The VINTF's SID_MATCH/SID_REPLACE pairs turn a virtual StreamID into a
 * physical one: false when no enabled entry matches @c's
 */
static bool vintf_replace_sid(VsmmuCmdqv *cv, VsmmuVintf *vi, VsmmuCmd *c)
{
    for (unsigned i = 0; i < cv->num_sids; i++) {
        uint32_t m = vi->sid_match[i];

        if (FIELD_EX32(m, VINTF_SID_MATCH, ENABLE) &&
            FIELD_EX32(m, VINTF_SID_MATCH, VIRT_SID) == c->sid) {
            c->sid = FIELD_EX32(vi->sid_replace[i], VINTF_SID_REPLACE,
                                PHYS_SID);
            c->raw[0] = FIELD_DP64(c->raw[0], CMD0, SID, c->sid);
            return true;
        }
    }
    return false;
}

/*
 * Each command the engine decoded, before it takes effect: false makes it
 * CERROR_ILL. A guest-owned VINTF (HYP_OWN = 0, always in the guest's
 * view) issues what the hardware accepts from a guest — TLBI_NH_ASID,
 * TLBI_NH_VA, ATC_INV and CMD_SYNC — and the VINTF's configuration
 * applies to them:
 *   - ATC_INV: an enabled SID_MATCH entry naming its StreamID replaces it
 *     with its SID_REPLACE; without one the guest's view keeps the
 *     vsmmu's own StreamID, the host side refuses the command;
 *   - host side: TLBIs carry the VINTF's VMID whatever the guest wrote,
 *     and a CMD_SYNC signals through CONS only (its MSI address would be
 *     one of the guest's, not a host address).
 * A HYP_OWN VINTF (host side) issues the full command set, as written.
 * The engine decodes the rewritten command again.
 */
static bool vcmdq_command(VsmmuState *s, VsmmuQueue *q, VsmmuCmd *c)
{
    VsmmuCmdqv *cv = &s->cmdqv;
    unsigned index = vcmdq_index(s, q), v = 0;
    int lidx = cmdqv_alloc_lidx(cv, index, &v);     /* can_run: allocated */
    bool host = cmdqv_host_side(cv);
    VsmmuVintf *vi = &cv->vintf[v];
    uint16_t vmid = FIELD_EX32(vi->config, VINTF_CONFIG, VMID);

    if (host && cmdqv_hyp_own(cv, v)) {
        goto accepted;
    }
    switch (c->opcode) {
    case VSMMU_CMD_TLBI_NH_ASID:
    case VSMMU_CMD_TLBI_NH_VA:
        if (host) {
            c->raw[0] = FIELD_DP64(c->raw[0], CMD0, VMID, vmid);
        }
        break;
    case VSMMU_CMD_ATC_INV:
        if (!vintf_replace_sid(cv, vi, c) && host) {
            qemu_log_mask(LOG_GUEST_ERROR, "vsmmu-cmdqv: VINTF%u VCMDQ %u: "
                          "ATC_INV StreamID 0x%x matches no SID_MATCH\n",
                          v, index, c->sid);
            return false;
        }
        break;
    case VSMMU_CMD_SYNC:
        if (host) {
            c->raw[0] = FIELD_DP64(c->raw[0], CMD0, SYNC_CS,
                                   VSMMU_SYNC_CS_NONE);
            c->raw[1] = FIELD_DP64(c->raw[1], CMD1, SYNC_MSIADDR, 0);
        }
        break;
    default:
        if (host) {
            qemu_log_mask(LOG_GUEST_ERROR, "vsmmu-cmdqv: VINTF%u VCMDQ %u: "
                          "%s is not for a guest-owned VINTF\n", v, index,
                          vsmmu_cmd_name(c->opcode));
        }
        return false;
    }

accepted:
    cv->stats_commands++;
    vi->stats_commands++;
    if (host) {
        /* TLBIs: the VMID they carry; ATC_INV: the StreamID */
        bool tlbi = c->opcode >= VSMMU_CMD_TLBI_NH_ALL &&
                    c->opcode <= VSMMU_CMD_TLBI_NSNH_ALL;

        trace_vsmmu_cmdqv_vintf_cmd(v, index, lidx,
                                    vsmmu_cmd_name(c->opcode),
                                    cmdqv_hyp_own(cv, v),
                                    tlbi ? FIELD_EX64(c->raw[0], CMD0, VMID) :
                                    0,
                                    c->opcode == VSMMU_CMD_ATC_INV ? c->sid :
                                    0);
    }
    return true;
}

static const VsmmuCmdQueueOps vsmmu_vcmdq_ops = {
    .name = "vcmdq",
    .allowed = vcmdq_allowed,
    .raise_error = vcmdq_error,
    .can_run = vcmdq_can_run,
    .command = vcmdq_command,
    .msi_abort = vcmdq_msi_abort,
};

/* Queue limits the engine applies: IDR1.CMDQS may change at reset */
static void vcmdq_prepare(VsmmuState *s, VsmmuVcmdq *vq)
{
    vq->q.entry_size = VSMMU_CMD_SIZE;
    vq->q.max_log2size = FIELD_EX32(s->idr[1], IDR1, CMDQS);
}

/*
 * Consume global queue @index from CONS towards PROD: one bounded slice
 * now, the rest from its runner's bottom half (docs/security.md, rule 5)
 */
static void vcmdq_kick(VsmmuState *s, unsigned index)
{
    vcmdq_prepare(s, &s->cmdqv.vcmdq[index]);
    vsmmu_cmdq_kick(&s->cmdqv.vcmdq_runner[index]);
}

/*
 * Host side: a VINTF (@v, or all for -1) or CMDQV_EN came on, or a queue
 * was allocated: its queues continue where they stopped, from their
 * bottom halves — no command runs inside this write
 */
static void cmdqv_resume(VsmmuState *s, int v)
{
    VsmmuCmdqv *cv = &s->cmdqv;

    for (unsigned q = 0; cmdqv_host_side(cv) && q < cmdqv_nq(cv); q++) {
        unsigned qv;

        if (cmdqv_alloc_lidx(cv, q, &qv) >= 0 && (v < 0 || (int)qv == v)) {
            vcmdq_prepare(s, &cv->vcmdq[q]);
            vsmmu_cmdq_resume(&cv->vcmdq_runner[q]);
        }
    }
}

/* ---- the host side (VsmmuCmdqvHostOps) ----------------------------------- */

static void cmdqv_host_sync(VsmmuState *s)
{
    if (s->cmdqv.host_ops) {
        s->cmdqv.host_ops->sync(s->cmdqv.host);
    }
}

/*
 * ---- page 0 and page 1 of one VCMDQ -------------------------------------
 *
 * @q is the global queue (-1: nothing behind the slot), @v and @lidx the
 * VINTF and logical index it is allocated to (-1: none)
 */

static uint32_t vcmdq_page0_read(VsmmuState *s, int q, int v, int lidx,
                                 hwaddr reg)
{
    VsmmuCmdqv *cv = &s->cmdqv;
    VsmmuVcmdq *vq;

    if (cmdqv_host_backs(cv, v, lidx)) {
        return reg < CMDQV_VCMDQ_PAGE0_REGS ?
               cv->host_ops->read_page0(cv->host, lidx, reg) : 0;
    }
    if (q < 0) {
        return 0;               /* a logical queue with nothing behind it */
    }
    vq = &cv->vcmdq[q];
    switch (reg) {
    case A_VCMDQ_CONS:
        return vq->q.cons;
    case A_VCMDQ_PROD:
        return vq->q.prod;
    case A_VCMDQ_CONFIG:
        return vq->config;
    case A_VCMDQ_STATUS:
        return FIELD_DP32(0, VCMDQ_STATUS, ENABLED,
                          FIELD_EX32(vq->config, VCMDQ_CONFIG, EN));
    case A_VCMDQ_GERROR:
        return vq->gerror;
    case A_VCMDQ_GERRORN:
        return vq->gerrorn;
    default:
        return 0;
    }
}

static void vcmdq_page0_write(VsmmuState *s, int q, int v, int lidx,
                              hwaddr reg, uint32_t val)
{
    VsmmuCmdqv *cv = &s->cmdqv;
    VsmmuVcmdq *vq;
    bool was_en;

    if (cmdqv_host_backs(cv, v, lidx)) {
        if (reg < CMDQV_VCMDQ_PAGE0_REGS) {
            cv->host_ops->write_page0(cv->host, lidx, reg, val);
        }
        return;
    }
    if (q < 0) {
        qemu_log_mask(LOG_GUEST_ERROR, "vsmmu-cmdqv: write to VINTF%d "
                      "logical VCMDQ %d, which no CMDQ_ALLOC maps\n", v, lidx);
        return;
    }
    vq = &cv->vcmdq[q];
    switch (reg) {
    case A_VCMDQ_CONS:
        if (FIELD_EX32(vq->config, VCMDQ_CONFIG, EN)) {
            qemu_log_mask(LOG_GUEST_ERROR, "vsmmu-cmdqv: VCMDQ %d CONS "
                          "written while enabled\n", q);
            return;
        }
        vq->q.cons = val;
        return;
    case A_VCMDQ_PROD:
        vq->q.prod = val;
        trace_vsmmu_cmdqv_vcmdq_prod(q, val);
        vcmdq_kick(s, q);
        return;
    case A_VCMDQ_CONFIG:
        was_en = FIELD_EX32(vq->config, VCMDQ_CONFIG, EN);
        vq->config = val & R_VCMDQ_CONFIG_EN_MASK;
        trace_vsmmu_cmdqv_vcmdq_config(q, vq->config);
        if (!was_en && FIELD_EX32(vq->config, VCMDQ_CONFIG, EN)) {
            if (vq->host_fault) {
                /* the host could not back it: its fetches abort */
                vcmdq_raise(s, q, VSMMU_CERROR_ABT);
                return;
            }
            vcmdq_kick(s, q);
        }
        return;
    case A_VCMDQ_GERRORN:
        vq->gerrorn = val & VCMDQ_GERROR_BITS;
        vcmdq_kick(s, q);       /* an acknowledged error resumes it */
        return;
    default:
        qemu_log_mask(LOG_GUEST_ERROR, "vsmmu-cmdqv: write to read-only VCMDQ "
                      "page 0 offset 0x%" HWADDR_PRIx "\n", reg);
        return;
    }
}

static uint64_t vcmdq_page1_read(VsmmuState *s, int q, hwaddr reg,
                                 unsigned size)
{
    VsmmuVcmdq *vq;
    uint64_t v;

    if (q < 0) {
        return 0;
    }
    vq = &s->cmdqv.vcmdq[q];
    switch (reg & ~7) {
    case A_VCMDQ_BASE:
        v = vq->q.base;
        break;
    case A_VCMDQ_CONS_INDX_BASE:
        v = vq->cons_indx_base;
        break;
    default:
        return 0;
    }
    return size == 8 ? v : extract64(v, (reg & 4) * 8, 32);
}

static void vcmdq_page1_write(VsmmuState *s, int q, int v, int lidx,
                              hwaddr reg, uint64_t val, unsigned size)
{
    VsmmuVcmdq *vq;
    uint64_t *r;

    if (q < 0) {
        qemu_log_mask(LOG_GUEST_ERROR, "vsmmu-cmdqv: page 1 write to VINTF%d "
                      "logical VCMDQ %d, which no CMDQ_ALLOC maps\n", v, lidx);
        return;
    }
    vq = &s->cmdqv.vcmdq[q];
    switch (reg & ~7) {
    case A_VCMDQ_BASE:
        r = &vq->q.base;
        break;
    case A_VCMDQ_CONS_INDX_BASE:
        r = &vq->cons_indx_base;
        break;
    default:
        return;
    }
    if (size == 8) {
        *r = val;
    } else {
        *r = deposit64(*r, (reg & 4) * 8, 32, val);
    }
    if (r == &vq->q.base) {
        vq->q.base &= R_VCMDQ_BASE_ADDR_MASK | R_VCMDQ_BASE_LOG2SIZE_MASK;
        trace_vsmmu_cmdqv_vcmdq_base(q, lidx, vq->q.base);
        /* accelerated: the host queue is made (or freed) right here */
        cmdqv_host_sync(s);
    }
}

/* ---- the config page ---------------------------------------------------- */

/* VINTF @v's register @reg */
static uint32_t vintf_read(VsmmuCmdqv *cv, unsigned v, hwaddr reg)
{
    VsmmuVintf *vi = &cv->vintf[v];

    switch (reg) {
    case A_VINTF_CONFIG:
        return vi->config;
    case A_VINTF_STATUS:
        return FIELD_DP32(0, VINTF_STATUS, ENABLED,
                          FIELD_EX32(vi->config, VINTF_CONFIG, EN));
    case A_VINTF_LVCMDQ_ERR_MAP ... A_VINTF_LVCMDQ_ERR_MAP + 0xc:
        return extract64(cmdqv_lvcmdq_err_map(cv, v, (reg >> 3) & 1),
                         (reg & 4) * 8, 32);
    }
    if (reg >= A_VINTF_SID_MATCH &&
        reg < A_VINTF_SID_MATCH + 4 * cv->num_sids) {
        return vi->sid_match[(reg - A_VINTF_SID_MATCH) / 4];
    }
    if (reg >= A_VINTF_SID_REPLACE &&
        reg < A_VINTF_SID_REPLACE + 4 * cv->num_sids) {
        return vi->sid_replace[(reg - A_VINTF_SID_REPLACE) / 4];
    }
    return 0;
}

static uint32_t cmdqv_config_read(VsmmuState *s, hwaddr off)
{
    VsmmuCmdqv *cv = &s->cmdqv;

    switch (off) {
    case A_CMDQV_CONFIG:
        return cv->config;
    case A_CMDQV_PARAM:
        return cv->param;
    case A_CMDQV_STATUS:
        return FIELD_DP32(0, CMDQV_STATUS, CMDQV_ENABLED,
                          FIELD_EX32(cv->config, CMDQV_CONFIG, CMDQV_EN));
    case A_CMDQV_VINTF_ERR_MAP:
    case A_CMDQV_VINTF_ERR_MAP + 4:
        return extract64(cmdqv_vintf_err_map(cv),
                         (off - A_CMDQV_VINTF_ERR_MAP) * 8, 32);
    case A_CMDQV_VINTF_INT_MASK:
    case A_CMDQV_VINTF_INT_MASK + 4:
        return extract64(cv->vintf_int_mask,
                         (off - A_CMDQV_VINTF_INT_MASK) * 8, 32);
    case A_CMDQV_CMDQ_ERR_MAP ... A_CMDQV_CMDQ_ERR_MAP + 0xc:
        return cmdqv_cmdq_err_map(cv, (off - A_CMDQV_CMDQ_ERR_MAP) / 4);
    }
    if (off >= A_CMDQV_CMDQ_ALLOC &&
        off < A_CMDQV_CMDQ_ALLOC + 4 * cmdqv_nq(cv)) {
        return cv->vcmdq[(off - A_CMDQV_CMDQ_ALLOC) / 4].alloc;
    }
    if (off >= CMDQV_VINTF0_BASE &&
        off < CMDQV_VINTF_BASE(cv->num_vintfs)) {
        return vintf_read(cv, (off - CMDQV_VINTF0_BASE) / CMDQV_VINTF_SIZE,
                          off % CMDQV_VINTF_SIZE);
    }
    return 0;                   /* other VINTFs, reserved: RAZ */
}

/*
 * CMDQ_ALLOC(@q) = @val: stored as written, but ALLOCATED only for a
 * VINTF and logical index that exist and, on the host side, that no other
 * global queue holds (the hardware's map is one to one)
 */
static void cmdqv_alloc_write(VsmmuState *s, unsigned q, uint32_t val)
{
    VsmmuCmdqv *cv = &s->cmdqv;
    unsigned v = FIELD_EX32(val, CMDQV_CMDQ_ALLOC, VINTF);
    unsigned lidx = FIELD_EX32(val, CMDQV_CMDQ_ALLOC, LVCMDQ);
    int other = -1;

    val &= R_CMDQV_CMDQ_ALLOC_ALLOCATED_MASK |
           R_CMDQV_CMDQ_ALLOC_LVCMDQ_MASK | R_CMDQV_CMDQ_ALLOC_VINTF_MASK;
    if (v >= cv->num_vintfs || lidx >= cmdqv_nlq(cv)) {
        qemu_log_mask(LOG_GUEST_ERROR, "vsmmu-cmdqv: CMDQ_ALLOC(%u) = "
                      "0x%x names a VINTF or LVCMDQ that does not exist\n",
                      q, val);
        val = FIELD_DP32(val, CMDQV_CMDQ_ALLOC, ALLOCATED, 0);
    } else if (cmdqv_host_side(cv) &&
               FIELD_EX32(val, CMDQV_CMDQ_ALLOC, ALLOCATED)) {
        other = cmdqv_global(cv, v, lidx);
    }
    if (other >= 0 && other != (int)q) {
        qemu_log_mask(LOG_GUEST_ERROR, "vsmmu-cmdqv: CMDQ_ALLOC(%u) = 0x%x: "
                      "VINTF%u LVCMDQ %u is VCMDQ %d's already\n", q, val, v,
                      lidx, other);
        val = FIELD_DP32(val, CMDQV_CMDQ_ALLOC, ALLOCATED, 0);
    }
    cv->vcmdq[q].alloc = val;
    trace_vsmmu_cmdqv_alloc(q, val);
    cmdqv_host_sync(s);
    if (FIELD_EX32(val, CMDQV_CMDQ_ALLOC, ALLOCATED)) {
        cmdqv_resume(s, v);
    }
}

static void vintf_write(VsmmuState *s, unsigned v, hwaddr reg, uint32_t val)
{
    VsmmuCmdqv *cv = &s->cmdqv;
    VsmmuVintf *vi = &cv->vintf[v];
    bool was_on;

    if (reg == A_VINTF_CONFIG) {
        /*
         * The guest's view: a guest-owned VINTF, HYP_OWN reads 0 whatever
         * the guest writes. The host side: HYP_OWN writable, as EL2
         * firmware leaves it for the hypervisor (Linux writes it and reads
         * it back to learn whether it owns VINTF0)
         */
        was_on = cmdqv_vintf_on(cv, v);
        vi->config = val & (R_VINTF_CONFIG_EN_MASK | R_VINTF_CONFIG_VMID_MASK |
                            (cmdqv_host_side(cv) ?
                             R_VINTF_CONFIG_HYP_OWN_MASK : 0));
        trace_vsmmu_cmdqv_vintf_config(v, val, vi->config);
        cmdqv_host_sync(s);
        if (!was_on && cmdqv_vintf_on(cv, v)) {
            cmdqv_resume(s, v);
        }
        return;
    }
    /* SID_MATCH/REPLACE: stored; accelerated, the host programs its own */
    if (reg >= A_VINTF_SID_MATCH &&
        reg < A_VINTF_SID_MATCH + 4 * cv->num_sids) {
        vi->sid_match[(reg - A_VINTF_SID_MATCH) / 4] = val &
            (R_VINTF_SID_MATCH_ENABLE_MASK | R_VINTF_SID_MATCH_VIRT_SID_MASK);
        return;
    }
    if (reg >= A_VINTF_SID_REPLACE &&
        reg < A_VINTF_SID_REPLACE + 4 * cv->num_sids) {
        vi->sid_replace[(reg - A_VINTF_SID_REPLACE) / 4] = val &
            R_VINTF_SID_REPLACE_PHYS_SID_MASK;
        return;
    }
    qemu_log_mask(LOG_GUEST_ERROR, "vsmmu-cmdqv: write to read-only or "
                  "reserved VINTF%u offset 0x%" HWADDR_PRIx "\n", v, reg);
}

static void cmdqv_config_write(VsmmuState *s, hwaddr off, uint32_t val)
{
    VsmmuCmdqv *cv = &s->cmdqv;
    bool was_en;

    switch (off) {
    case A_CMDQV_CONFIG:
        was_en = FIELD_EX32(cv->config, CMDQV_CONFIG, CMDQV_EN);
        cv->config = val;
        trace_vsmmu_cmdqv_config(val);
        cmdqv_host_sync(s);
        if (!was_en && FIELD_EX32(cv->config, CMDQV_CONFIG, CMDQV_EN)) {
            cmdqv_resume(s, -1);
        }
        return;
    case A_CMDQV_VINTF_INT_MASK:
    case A_CMDQV_VINTF_INT_MASK + 4:
        /* 0x1c holds bits [31:0] (VINTF 0..31), 0x20 bits [63:32] */
        cv->vintf_int_mask = deposit64(cv->vintf_int_mask,
                                       (off - A_CMDQV_VINTF_INT_MASK) * 8, 32,
                                       val);
        return;
    }
    if (off >= A_CMDQV_CMDQ_ALLOC &&
        off < A_CMDQV_CMDQ_ALLOC + 4 * cmdqv_nq(cv)) {
        cmdqv_alloc_write(s, (off - A_CMDQV_CMDQ_ALLOC) / 4, val);
        return;
    }
    if (off >= CMDQV_VINTF0_BASE &&
        off < CMDQV_VINTF_BASE(cv->num_vintfs)) {
        vintf_write(s, (off - CMDQV_VINTF0_BASE) / CMDQV_VINTF_SIZE,
                    off % CMDQV_VINTF_SIZE, val);
        return;
    }
    qemu_log_mask(LOG_GUEST_ERROR, "vsmmu-cmdqv: write to read-only or "
                  "reserved offset 0x%" HWADDR_PRIx "\n", off);
}

/* ---- the MMIO window ---------------------------------------------------- */

/*
 * Queue of @off in the VCMDQ pages: the global queue *@q, the VINTF *@v
 * and logical index *@lidx it is allocated to (each -1 if none), and the
 * register's offset *@reg
 */
static void cmdqv_decode(VsmmuCmdqv *cv, hwaddr off, int *q, int *v,
                         int *lidx, hwaddr *reg)
{
    unsigned slot = (off % CMDQV_PAGE_SIZE) / CMDQV_VCMDQ_STRIDE;
    unsigned qv;

    *reg = off % CMDQV_VCMDQ_STRIDE;
    if (off < CMDQV_VINTF0_PAGE0) {
        *q = slot < cmdqv_nq(cv) ? slot : -1;
        *lidx = *q >= 0 ? cmdqv_alloc_lidx(cv, *q, &qv) : -1;
        *v = *lidx >= 0 ? qv : -1;
    } else {
        *v = (off - CMDQV_VINTF0_PAGE0) / CMDQV_VINTF_PAGES;
        *lidx = slot < cmdqv_nlq(cv) ? slot : -1;
        *q = *lidx >= 0 ? cmdqv_global(cv, *v, *lidx) : -1;
    }
}

static bool cmdqv_is_page1(hwaddr off)
{
    if (off < CMDQV_VINTF0_PAGE0) {
        return off >= CMDQV_VCMDQ_PAGE1;
    }
    return (off - CMDQV_VINTF0_PAGE0) % CMDQV_VINTF_PAGES >= CMDQV_PAGE_SIZE;
}

/*
 * The handlers run under the BQL, which owns the whole guest model
 * (docs/security.md); they take no vsmmu lock, so what they call (the
 * command engine's DMA and MSIs, the interrupt, host ioctls, memory
 * region changes) never runs with one held.
 */
static MemTxResult cmdqv_read(void *opaque, hwaddr off, uint64_t *data,
                              unsigned size, MemTxAttrs attrs)
{
    VsmmuState *s = opaque;
    VsmmuCmdqv *cv = &s->cmdqv;
    int q, v, lidx;
    hwaddr reg;

    if (off < CMDQV_VCMDQ_PAGE0) {
        *data = cmdqv_config_read(s, off);
        if (size == 8) {
            *data |= (uint64_t)cmdqv_config_read(s, off + 4) << 32;
        }
    } else {
        cv->stats_traps++;
        cmdqv_decode(cv, off, &q, &v, &lidx, &reg);
        if (cmdqv_is_page1(off)) {
            *data = vcmdq_page1_read(s, q, reg, size);
        } else {
            *data = vcmdq_page0_read(s, q, v, lidx, reg);
            if (size == 8) {
                *data |= (uint64_t)vcmdq_page0_read(s, q, v, lidx, reg + 4)
                         << 32;
            }
        }
    }
    trace_vsmmu_cmdqv_read(off, size, *data);
    return MEMTX_OK;
}

static MemTxResult cmdqv_write(void *opaque, hwaddr off, uint64_t data,
                               unsigned size, MemTxAttrs attrs)
{
    VsmmuState *s = opaque;
    VsmmuCmdqv *cv = &s->cmdqv;
    int q, v, lidx;
    hwaddr reg;

    trace_vsmmu_cmdqv_write(off, size, data);
    if (off < CMDQV_VCMDQ_PAGE0) {
        cmdqv_config_write(s, off, data);
        if (size == 8) {
            cmdqv_config_write(s, off + 4, data >> 32);
        }
    } else {
        cv->stats_traps++;
        cmdqv_decode(cv, off, &q, &v, &lidx, &reg);
        if (cmdqv_is_page1(off)) {
            vcmdq_page1_write(s, q, v, lidx, reg, data, size);
        } else {
            vcmdq_page0_write(s, q, v, lidx, reg, data);
            if (size == 8) {
                vcmdq_page0_write(s, q, v, lidx, reg + 4, data >> 32);
            }
        }
    }
    return MEMTX_OK;
}

static const MemoryRegionOps cmdqv_ops = {
    .read_with_attrs = cmdqv_read,
    .write_with_attrs = cmdqv_write,
    .endianness = DEVICE_LITTLE_ENDIAN,
    .valid = {
        .min_access_size = 4,
        .max_access_size = 8,
    },
    .impl = {
        .min_access_size = 4,
        .max_access_size = 8,
    },
};

/* ---- realize, reset, description ---------------------------------------- */

static bool cmdqv_check_count(const char *prop, uint32_t val, uint32_t max,
                              Error **errp)
{
    if (!val || val > max || (val & (val - 1))) {
        error_setg(errp, "vsmmu: %s=%u must be a power of 2 in [1, %u]",
                   prop, val, max);
        return false;
    }
    return true;
}

void vsmmu_cmdqv_set_param(VsmmuCmdqv *cv, uint8_t version)
{
    cv->param = FIELD_DP32(0, CMDQV_PARAM, VER, version);
    cv->param = FIELD_DP32(cv->param, CMDQV_PARAM, NUM_VCMDQ_LOG2,
                           ctz32(cmdqv_nq(cv)));
    cv->param = FIELD_DP32(cv->param, CMDQV_PARAM, NUM_VINTF_LOG2,
                           ctz32(cv->num_vintfs));
    cv->param = FIELD_DP32(cv->param, CMDQV_PARAM, NUM_SID_PER_VM_LOG2,
                           ctz32(cv->num_sids));
}

/*
 * Accelerated: a host VCMDQ must be physically contiguous, which the
 * guest's RAM guarantees only within one page of its backing. Advertise
 * no larger command queues (IDR1.CMDQS) than that; hugepage-backed guest
 * RAM allows larger ones.
 */
void vsmmu_cmdqv_cap_cmdqs(VsmmuState *s)
{
    long pagesize = qemu_minrampagesize();
    unsigned cap = ctz64(pagesize) - ctz32(VSMMU_CMD_SIZE);
    if (cap < s->cmdqs_max) {
        s->cmdqs_max = cap;
        s->idr[1] = FIELD_DP32(s->idr[1], IDR1, CMDQS, cap);
        trace_vsmmu_cmdqv_cap_cmdqs(pagesize, cap);
    }
}

/*
 * cmdqv-vintfs > 1, the host side: emulated only (a host's CMDQV gives
 * one VINTF to a VM), with cmdqv=on, at most 128 global VCMDQs
 */
static bool cmdqv_check_vintfs(VsmmuState *s, Error **errp)
{
    VsmmuCmdqv *cv = &s->cmdqv;

    if (!cmdqv_check_count("cmdqv-vintfs", cv->num_vintfs, CMDQV_MAX_VINTFS,
                           errp)) {
        return false;
    }
    if (!cmdqv_host_side(cv)) {
        return true;
    }
    if (cv->mode != ON_OFF_AUTO_ON) {
        error_setg(errp, "vsmmu: cmdqv-vintfs=%u (the host side of the "
                   "CMDQV) needs cmdqv=on", cv->num_vintfs);
        return false;
    }
    if (s->accel.enabled) {
        error_setg(errp, "vsmmu: cmdqv-vintfs=%u (the host side of the "
                   "CMDQV) is emulated only, not with accel=on",
                   cv->num_vintfs);
        return false;
    }
    if (cmdqv_nq(cv) > CMDQV_MAX_VCMDQS) {
        error_setg(errp, "vsmmu: cmdqv-vcmdqs=%u per VINTF times "
                   "cmdqv-vintfs=%u is more than %u VCMDQs",
                   cv->num_vcmdqs, cv->num_vintfs, CMDQV_MAX_VCMDQS);
        return false;
    }
    return true;
}

static void cmdqv_vm_state_change(void *opaque, bool running,
                                  RunState state);

bool vsmmu_cmdqv_realize(VsmmuState *s, Error **errp)
{
    VsmmuCmdqv *cv = &s->cmdqv;

    if (!cmdqv_check_vintfs(s, errp)) {
        return false;
    }
    if (cv->mode == ON_OFF_AUTO_OFF) {
        cv->decided = true;
        return true;
    }
    if (!cmdqv_check_count("cmdqv-vcmdqs", cv->num_vcmdqs, CMDQV_MAX_VCMDQS,
                           errp) ||
        !cmdqv_check_count("cmdqv-sids", cv->num_sids, CMDQV_MAX_SIDS,
                           errp)) {
        return false;
    }
    if (cv->mode == ON_OFF_AUTO_AUTO && !s->accel.enabled) {
        /* auto follows the host: without accel there is none */
        cv->decided = true;
        return true;
    }
    cv->present = cv->mode == ON_OFF_AUTO_ON;
    cv->decided = cv->present;
    vsmmu_cmdqv_set_param(cv, CMDQV_MODEL_VERSION);
    /* auto: capped only once a host CMDQV is seen (cmdqv-accel.c) */
    if (s->accel.enabled && cv->mode == ON_OFF_AUTO_ON) {
        vsmmu_cmdqv_cap_cmdqs(s);
    }
    memory_region_init(&cv->mmio, OBJECT(s), "vsmmu-cmdqv",
                       CMDQV_MMIO_SIZE_VINTFS(cv->num_vintfs));
    memory_region_init_io(&cv->regs, OBJECT(s), &cmdqv_ops, s,
                          "vsmmu-cmdqv-regs",
                          CMDQV_MMIO_SIZE_VINTFS(cv->num_vintfs));
    memory_region_add_subregion(&cv->mmio, 0, &cv->regs);
    for (unsigned q = 0; q < cmdqv_nq(cv); q++) {
        vsmmu_cmdq_runner_init(&cv->vcmdq_runner[q], s, &vsmmu_vcmdq_ops,
                               &cv->vcmdq[q].q);
    }
    qemu_add_vm_change_state_handler(cmdqv_vm_state_change, s);
    return true;
}

/* After the SMMU's own MMIO region and interrupts: index 1 and 4 */
void vsmmu_cmdqv_init_sysbus(VsmmuState *s)
{
    SysBusDevice *sbd = SYS_BUS_DEVICE(s);

    if (!memory_region_size(&s->cmdqv.mmio)) {
        return;
    }
    assert(sbd->num_mmio == VSMMU_CMDQV_MMIO_INDEX);
    sysbus_init_mmio(sbd, &s->cmdqv.mmio);
    sysbus_init_irq(sbd, &s->cmdqv.irq);
}

bool vsmmu_cmdqv_present(Object *obj)
{
    VsmmuState *s = (VsmmuState *)object_dynamic_cast(obj, TYPE_VSMMU);
    VsmmuCmdqv *cv;

    if (!s) {
        return false;
    }
    cv = &s->cmdqv;
    if (!cv->decided) {
        /* auto: on if a cold-plugged device's host SMMU has a CMDQV */
        cv->present = cv->host_seen && memory_region_size(&cv->mmio);
        cv->decided = true;
        trace_vsmmu_cmdqv_decided(cv->present);
    }
    return cv->present;
}

/* Reset: everything off, every VINTF; the host's queues go (descending) */
void vsmmu_cmdqv_reset(VsmmuState *s)
{
    VsmmuCmdqv *cv = &s->cmdqv;

    cv->config = 0;
    cv->vintf_int_mask = 0;
    for (unsigned v = 0; v < CMDQV_MAX_VINTFS; v++) {
        VsmmuVintf *vi = &cv->vintf[v];

        vi->config = 0;
        memset(vi->sid_match, 0, sizeof(vi->sid_match));
        memset(vi->sid_replace, 0, sizeof(vi->sid_replace));
    }
    memset(cv->vcmdq, 0, sizeof(cv->vcmdq));
    memset(cv->host_err_map, 0, sizeof(cv->host_err_map));
    cmdqv_host_sync(s);
}

/* ---- counters, info, migration ------------------------------------------ */

void vsmmu_cmdqv_info(VsmmuState *s, GString *buf)
{
    VsmmuCmdqv *cv = &s->cmdqv;

    if (!cv->present) {
        return;
    }
    g_string_append_printf(buf, "  cmdqv: %u VCMDQs, %u SIDs, %s\n",
                           cv->num_vcmdqs, cv->num_sids,
                           cv->host_ops ? "host VINTF" : "emulated");
    /* traps: the accesses to VCMDQ pages that reached QEMU */
    g_string_append_printf(buf, "    vcmdq traps %" PRIu64 ", emulated "
                           "commands %" PRIu64 ", errors %" PRIu64
                           ", irqs %" PRIu64 "\n", cv->stats_traps,
                           cv->stats_commands, cv->stats_errors,
                           cv->stats_irqs);
    if (cv->host_ops) {
        cv->host_ops->info(cv->host, buf);
    }
    if (!cmdqv_host_side(cv)) {
        return;
    }
    /* the host side: what each VINTF is and what its VCMDQs consumed */
    g_string_append_printf(buf, "  cmdqv host side: %u VINTFs, %u VCMDQs\n",
                           cv->num_vintfs, cmdqv_nq(cv));
    for (unsigned v = 0; v < cv->num_vintfs; v++) {
        VsmmuVintf *vi = &cv->vintf[v];
        unsigned nq = 0;

        for (unsigned q = 0; q < cmdqv_nq(cv); q++) {
            unsigned qv;

            nq += cmdqv_alloc_lidx(cv, q, &qv) >= 0 && qv == v;
        }
        g_string_append_printf(buf, "    VINTF%u: %s, %s, VMID %u, %u "
                               "VCMDQs, commands %" PRIu64 ", errors %"
                               PRIu64 "\n", v,
                               cmdqv_vintf_on(cv, v) ? "on" : "off",
                               cmdqv_hyp_own(cv, v) ? "HYP_OWN" :
                               "guest-owned",
                               (unsigned)FIELD_EX32(vi->config, VINTF_CONFIG,
                                                    VMID),
                               nq, vi->stats_commands, vi->stats_errors);
    }
}

void vsmmu_cmdqv_instance_init(Object *obj)
{
    VsmmuState *s = VSMMU(obj);

    object_property_add_uint64_ptr(obj, "x-stats-vcmdq-traps",
                                   &s->cmdqv.stats_traps, OBJ_PROP_FLAG_READ);
    object_property_add_uint64_ptr(obj, "x-stats-vcmdq-commands",
                                   &s->cmdqv.stats_commands,
                                   OBJ_PROP_FLAG_READ);
    object_property_add_uint64_ptr(obj, "x-stats-vcmdq-errors",
                                   &s->cmdqv.stats_errors, OBJ_PROP_FLAG_READ);
    object_property_add_uint64_ptr(obj, "x-stats-vcmdq-irqs",
                                   &s->cmdqv.stats_irqs, OBJ_PROP_FLAG_READ);
}

static bool vmstate_cmdqv_needed(void *opaque)
{
    VsmmuState *s = opaque;

    return s->cmdqv.present;
}

/* A VINTF's configuration as a guest could have written it */
static void cmdqv_vintf_validate(VsmmuCmdqv *cv, VsmmuVintf *vi)
{
    vi->config &= R_VINTF_CONFIG_EN_MASK | R_VINTF_CONFIG_VMID_MASK |
                  (cmdqv_host_side(cv) ? R_VINTF_CONFIG_HYP_OWN_MASK : 0);
    for (unsigned i = 0; i < CMDQV_MAX_SIDS; i++) {
        if (i >= cv->num_sids) {
            vi->sid_match[i] = vi->sid_replace[i] = 0;
        }
        vi->sid_match[i] &= R_VINTF_SID_MATCH_ENABLE_MASK |
                            R_VINTF_SID_MATCH_VIRT_SID_MASK;
        vi->sid_replace[i] &= R_VINTF_SID_REPLACE_PHYS_SID_MASK;
    }
}

/*
 * The stream may come from a compromised source: every field is brought
 * back to what a guest could have written, as if it had (reserved bits
 * clear, HYP_OWN only on the host side, ALLOC naming an existing VINTF
 * and logical queue, one global queue per logical queue on the host side,
 * nothing for VINTFs beyond cmdqv-vintfs and queues beyond their count).
 * Queue sizes and indices need nothing: the engine clamps LOG2SIZE to
 * IDR1.CMDQS and masks PROD and CONS. Runs after the host subsection.
 */
static int vmstate_cmdqv_post_load(void *opaque, int version_id)
{
    VsmmuState *s = opaque;
    VsmmuCmdqv *cv = &s->cmdqv;
    unsigned nq = cv->present ? cmdqv_nq(cv) : 0;
    unsigned nv = cv->present ? cv->num_vintfs : 0;

    for (unsigned v = 0; v < CMDQV_MAX_VINTFS; v++) {
        VsmmuVintf *vi = &cv->vintf[v];

        if (v >= MAX(nv, 1)) {
            vi->config = 0;
            memset(vi->sid_match, 0, sizeof(vi->sid_match));
            memset(vi->sid_replace, 0, sizeof(vi->sid_replace));
        }
        cmdqv_vintf_validate(cv, vi);
    }
    for (unsigned q = 0; q < CMDQV_MAX_VCMDQS; q++) {
        VsmmuVcmdq *vq = &cv->vcmdq[q];
        unsigned v, lidx;

        if (q >= nq) {
            memset(vq, 0, sizeof(*vq));
            continue;
        }
        vq->q.base &= R_VCMDQ_BASE_ADDR_MASK | R_VCMDQ_BASE_LOG2SIZE_MASK;
        vq->config &= R_VCMDQ_CONFIG_EN_MASK;
        vq->gerror &= VCMDQ_GERROR_BITS;
        vq->gerrorn &= VCMDQ_GERROR_BITS;
        vq->alloc &= R_CMDQV_CMDQ_ALLOC_ALLOCATED_MASK |
                     R_CMDQV_CMDQ_ALLOC_LVCMDQ_MASK |
                     R_CMDQV_CMDQ_ALLOC_VINTF_MASK;
        v = FIELD_EX32(vq->alloc, CMDQV_CMDQ_ALLOC, VINTF);
        lidx = FIELD_EX32(vq->alloc, CMDQV_CMDQ_ALLOC, LVCMDQ);
        /* queues below q are settled: a duplicate is the later one */
        if (v >= nv || lidx >= cmdqv_nlq(cv) ||
            (cmdqv_host_side(cv) && cmdqv_global(cv, v, lidx) < (int)q)) {
            vq->alloc = FIELD_DP32(vq->alloc, CMDQV_CMDQ_ALLOC, ALLOCATED, 0);
        }
        vq->host_fault = false;
        vcmdq_prepare(s, vq);
    }
    memset(cv->host_err_map, 0, sizeof(cv->host_err_map));
    /* a destination with a host VINTF: its queues follow what was loaded */
    cmdqv_host_sync(s);
    if (cv->host_ops) {
        cv->host_ops->load(cv->host);
    }
    /* queues loaded with commands continue when the VM runs (below) */
    trace_vsmmu_cmdqv_post_load(cv->config, cv->vintf[0].config);
    return 0;
}

/*
 * The VM runs again (after a stop, an incoming migration): queues left
 * mid-way continue from their runners' bottom halves
 */
static void cmdqv_vm_state_change(void *opaque, bool running, RunState state)
{
    VsmmuState *s = opaque;
    VsmmuCmdqv *cv = &s->cmdqv;

    if (!running) {
        return;
    }
    for (unsigned q = 0; q < cmdqv_nq(cv); q++) {
        vcmdq_prepare(s, &cv->vcmdq[q]);
        vsmmu_cmdq_resume(&cv->vcmdq_runner[q]);
    }
}

static const VMStateDescription vmstate_vsmmu_vcmdq = {
    .name = "vsmmu-vcmdq",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]) {
        /* the layout of version 1, when these were plain fields */
        VMSTATE_UINT64(q.base, VsmmuVcmdq),
        VMSTATE_UINT64(cons_indx_base, VsmmuVcmdq),
        VMSTATE_UINT32(q.prod, VsmmuVcmdq),
        VMSTATE_UINT32(q.cons, VsmmuVcmdq),
        VMSTATE_UINT32(config, VsmmuVcmdq),
        VMSTATE_UINT32(gerror, VsmmuVcmdq),
        VMSTATE_UINT32(gerrorn, VsmmuVcmdq),
        VMSTATE_UINT32(alloc, VsmmuVcmdq),
        VMSTATE_END_OF_LIST(),
    },
};

static const VMStateDescription vmstate_vsmmu_vintf = {
    .name = "vsmmu-vintf",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT32(config, VsmmuVintf),
        VMSTATE_UINT32_ARRAY(sid_match, VsmmuVintf, CMDQV_MAX_SIDS),
        VMSTATE_UINT32_ARRAY(sid_replace, VsmmuVintf, CMDQV_MAX_SIDS),
        VMSTATE_END_OF_LIST(),
    },
};

static bool vmstate_cmdqv_host_needed(void *opaque)
{
    VsmmuState *s = opaque;

    return s->cmdqv.present && cmdqv_host_side(&s->cmdqv);
}

/*
 * The host side: its VINTF count, VINTFs 1..63 (VINTF0 is in the guest
 * view's fields). A destination with another cmdqv-vintfs, the guest's
 * view included, refuses the stream; the guest view's stream is
 * unchanged.
 */
static const VMStateDescription vmstate_vsmmu_cmdqv_host = {
    .name = "vsmmu/cmdqv/host",
    .version_id = 1,
    .minimum_version_id = 1,
    .needed = vmstate_cmdqv_host_needed,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT32_EQUAL(cmdqv.num_vintfs, VsmmuState,
                             "the vsmmu's cmdqv-vintfs must match"),
        VMSTATE_STRUCT_SUB_ARRAY(cmdqv.vintf, VsmmuState, 1,
                                 CMDQV_MAX_VINTFS - 1, 1, vmstate_vsmmu_vintf,
                                 VsmmuVintf),
        VMSTATE_END_OF_LIST(),
    },
};

/*
 * VINTF0's fields under their version-1 names, from when they were
 * VsmmuCmdqv's own (vintf_config, sid_match, sid_replace)
 */
#define CMDQV_VMSTATE_VINTF0_U32(_name, _field) {                            \
    .name = (_name),                                                         \
    .size = sizeof(uint32_t),                                                \
    .info = &vmstate_info_uint32,                                            \
    .flags = VMS_SINGLE,                                                     \
    .offset = vmstate_offset_value(VsmmuState, cmdqv.vintf[0]._field,        \
                                   uint32_t),                                \
}
#define CMDQV_VMSTATE_VINTF0_SIDS(_name, _field) {                           \
    .name = (_name),                                                         \
    .num = CMDQV_MAX_SIDS,                                                   \
    .size = sizeof(uint32_t),                                                \
    .info = &vmstate_info_uint32,                                            \
    .flags = VMS_ARRAY,                                                      \
    .offset = vmstate_offset_array(VsmmuState, cmdqv.vintf[0]._field,        \
                                   uint32_t, CMDQV_MAX_SIDS),                \
}

const VMStateDescription vmstate_vsmmu_cmdqv = {
    .name = "vsmmu/cmdqv",
    .version_id = 1,
    .minimum_version_id = 1,
    .needed = vmstate_cmdqv_needed,
    .post_load = vmstate_cmdqv_post_load,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT32(cmdqv.config, VsmmuState),
        VMSTATE_UINT64(cmdqv.vintf_int_mask, VsmmuState),
        CMDQV_VMSTATE_VINTF0_U32("cmdqv.vintf_config", config),
        CMDQV_VMSTATE_VINTF0_SIDS("cmdqv.sid_match", sid_match),
        CMDQV_VMSTATE_VINTF0_SIDS("cmdqv.sid_replace", sid_replace),
        VMSTATE_STRUCT_ARRAY(cmdqv.vcmdq, VsmmuState, CMDQV_MAX_VCMDQS, 1,
                             vmstate_vsmmu_vcmdq, VsmmuVcmdq),
        VMSTATE_END_OF_LIST(),
    },
    .subsections = (const VMStateDescription * const []) {
        &vmstate_vsmmu_cmdqv_host,
        NULL
    },
};
