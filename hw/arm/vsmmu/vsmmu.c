/*
 * vsmmu: the QOM device — properties, realize, reset, migration
 *
 * The device is a per-root-bus SMMUv3 built on smmu-common (TYPE_ARM_SMMU),
 * which owns the primary-bus link, the per-device IOMMU regions and the
 * page-table walker. This file only ties the pieces together; the register
 * model, command engine, table decoding and backends are in their own files.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "qemu/log.h"
#include "qemu/error-report.h"
#include "qemu/module.h"
#include "qemu/cutils.h"
#include "qapi/visitor.h"
#include "hw/qdev-properties.h"
#include "hw/pci/pci_bus.h"
#include "hw/sysbus.h"
#include "migration/vmstate.h"
#include "system/runstate.h"
#include "system/iommufd.h"
#include "hw/arm/vsmmu/msi.h"
#include "vsmmu-internal.h"
#include "vsmmu-cmdqv.h"
#include "trace.h"

/*
 * A uint8 property that also takes "auto" (stored as VSMMU_PROP_AUTO).
 * Command line and -global give strings, QMP may give a number.
 */
static void vsmmu_get_u8_auto(Object *obj, Visitor *v, const char *name,
                              void *opaque, Error **errp)
{
    const Property *prop = opaque;
    uint8_t *ptr = object_field_prop_ptr(obj, prop);
    char *str = (char *)"auto";

    if (*ptr == VSMMU_PROP_AUTO) {
        visit_type_str(v, name, &str, errp);
    } else {
        visit_type_uint8(v, name, ptr, errp);
    }
}

static void vsmmu_set_u8_auto(Object *obj, Visitor *v, const char *name,
                              void *opaque, Error **errp)
{
    const Property *prop = opaque;
    uint8_t *ptr = object_field_prop_ptr(obj, prop);
    g_autofree char *str = NULL;
    uint64_t val;

    if (!visit_type_str(v, name, &str, NULL)) {
        visit_type_uint8(v, name, ptr, errp);
        return;
    }
    if (!strcmp(str, "auto")) {
        *ptr = VSMMU_PROP_AUTO;
        return;
    }
    if (qemu_strtou64(str, NULL, 0, &val) || val >= VSMMU_PROP_AUTO) {
        error_setg(errp, "vsmmu: %s=%s: expected 'auto' or a number", name,
                   str);
        return;
    }
    *ptr = val;
}

static void vsmmu_u8_auto_default(ObjectProperty *op, const Property *prop)
{
    object_property_set_default_str(op, "auto");
}

static const PropertyInfo vsmmu_prop_u8_auto = {
    .type = "str",
    .description = "'auto' or a number (auto: the host SMMU's value with "
                   "accel=on, else the default)",
    .get = vsmmu_get_u8_auto,
    .set = vsmmu_set_u8_auto,
    .set_default_value = vsmmu_u8_auto_default,
};

#define DEFINE_PROP_U8_AUTO(_n, _s, _f) \
    DEFINE_PROP(_n, _s, _f, vsmmu_prop_u8_auto, uint8_t, .set_default = true)

/* The "stage" property: "1", "2" or "nested", stored as VsmmuStages */
static void vsmmu_get_stages(Object *obj, Visitor *v, const char *name,
                             void *opaque, Error **errp)
{
    const Property *prop = opaque;
    uint8_t *ptr = object_field_prop_ptr(obj, prop);
    char *str = (char *)vsmmu_stages_name(*ptr);

    visit_type_str(v, name, &str, errp);
}

static void vsmmu_set_stages(Object *obj, Visitor *v, const char *name,
                             void *opaque, Error **errp)
{
    const Property *prop = opaque;
    uint8_t *ptr = object_field_prop_ptr(obj, prop);
    g_autofree char *str = NULL;

    if (!visit_type_str(v, name, &str, errp)) {
        return;
    }
    for (unsigned i = VSMMU_STAGES_1; i <= VSMMU_STAGES_NESTED; i++) {
        if (!strcmp(str, vsmmu_stages_name(i))) {
            *ptr = i;
            return;
        }
    }
    error_setg(errp, "vsmmu: %s=%s: expected 1, 2 or nested", name, str);
}

static void vsmmu_stages_default(ObjectProperty *op, const Property *prop)
{
    object_property_set_default_str(op, vsmmu_stages_name(prop->defval.u));
}

static const PropertyInfo vsmmu_prop_stages = {
    .type = "str",
    .description = "translation stages offered: 1, 2 or nested (stage 1, "
                   "stage 2 and both; 2 and nested need accel=off)",
    .get = vsmmu_get_stages,
    .set = vsmmu_set_stages,
    .set_default_value = vsmmu_stages_default,
};

/* Explicit values as given; "auto" ones take the defaults for now */
static void vsmmu_resolve_defaults(VsmmuState *s)
{
    s->oas = s->oas_prop == VSMMU_PROP_AUTO ? VSMMU_DEFAULT_OAS : s->oas_prop;
    s->ssidsize = s->ssidsize_prop == VSMMU_PROP_AUTO ?
                  VSMMU_DEFAULT_SSIDSIZE : s->ssidsize_prop;
    s->ril = s->ril_prop == ON_OFF_AUTO_AUTO ? VSMMU_DEFAULT_RIL :
             s->ril_prop == ON_OFF_AUTO_ON;
    s->ats = s->ats_prop == ON_OFF_AUTO_AUTO ? VSMMU_DEFAULT_ATS :
             s->ats_prop == ON_OFF_AUTO_ON;
    s->idr_from_host = false;
}

static bool vsmmu_check_properties(VsmmuState *s, Error **errp)
{
    if (s->oas_prop != VSMMU_PROP_AUTO &&
        vsmmu_oas_encoding(s->oas_prop) < 0) {
        error_setg(errp, "vsmmu: oas=%u is not an SMMUv3 output address size",
                   s->oas_prop);
        error_append_hint(errp, "Valid values: auto, 32, 36, 40, 42, 44, 48, "
                          "52\n");
        return false;
    }
    if (s->sidsize < 1 || s->sidsize > 32) {
        error_setg(errp, "vsmmu: sidsize=%u out of range [1, 32]", s->sidsize);
        return false;
    }
    if (s->ssidsize_prop != VSMMU_PROP_AUTO && s->ssidsize_prop > 20) {
        error_setg(errp, "vsmmu: ssidsize=%u out of range [0, 20]",
                   s->ssidsize_prop);
        return false;
    }
    if (s->accel.enabled && !vsmmu_backend_find("iommufd")) {
        error_setg(errp, "vsmmu: accel=on needs a QEMU built with VFIO and "
                   "iommufd (Linux hosts)");
        return false;
    }
    if (s->accel.enabled && !s->accel.iommufd) {
        error_setg(errp, "vsmmu: accel=on needs iommufd=<id of an iommufd "
                   "object>");
        return false;
    }
    if (!s->accel.enabled && s->accel.iommufd) {
        error_setg(errp, "vsmmu: iommufd= is only used with accel=on");
        return false;
    }
    if (s->accel.enabled && s->stages != VSMMU_STAGES_1) {
        error_setg(errp, "vsmmu: stage=%s needs accel=off: accelerated "
                   "mode offers stage 1 only (the host owns stage 2)",
                   vsmmu_stages_name(s->stages));
        return false;
    }
    return true;
}

/*
 * A root bus carries at most one IOMMU: refuse to stack a vsmmu over
 * another IOMMU (vsmmu, arm-smmuv3 or any other) on the same bus.
 */
static bool vsmmu_check_bus(VsmmuState *s, Error **errp)
{
    PCIBus *bus = s->smmu.primary_bus;

    if (!bus) {
        error_setg(errp, "vsmmu: property 'primary-bus' is required");
        error_append_hint(errp, "e.g. -device vsmmu,primary-bus=pcie.0\n");
        return false;
    }
    if (bus->iommu_ops) {
        Object *owner = bus->iommu_opaque;
        const char *what = owner && object_dynamic_cast(owner, TYPE_DEVICE) ?
                           object_get_typename(owner) : "IOMMU";

        error_setg(errp, "vsmmu: PCI bus '%s' already has an IOMMU (%s); "
                   "only one IOMMU per root bus is supported",
                   bus->qbus.name, what);
        return false;
    }
    return true;
}

/* ---- backends ------------------------------------------------------------ */

/* Backends a build may lack, registered at start-up (backend.h) */
static const VsmmuBackendOps *vsmmu_backends[4];

void vsmmu_backend_register(const VsmmuBackendOps *ops)
{
    for (int i = 0; i < ARRAY_SIZE(vsmmu_backends); i++) {
        if (!vsmmu_backends[i]) {
            vsmmu_backends[i] = ops;
            return;
        }
    }
    g_assert_not_reached();
}

const VsmmuBackendOps *vsmmu_backend_find(const char *name)
{
    for (int i = 0; i < ARRAY_SIZE(vsmmu_backends) && vsmmu_backends[i];
         i++) {
        if (!strcmp(vsmmu_backends[i]->name, name)) {
            return vsmmu_backends[i];
        }
    }
    return NULL;
}

/* A queue left mid-way (a stop, a migration) continues when the VM runs */
static void vsmmu_vm_state_change(void *opaque, bool running, RunState state)
{
    VsmmuState *s = opaque;

    if (running) {
        vsmmu_cmdq_resume(&s->cmdq_runner);
    }
}

static void vsmmu_realize(DeviceState *dev, Error **errp)
{
    ERRP_GUARD();
    VsmmuState *s = VSMMU(dev);
    VsmmuClass *c = VSMMU_GET_CLASS(s);
    SysBusDevice *sbd = SYS_BUS_DEVICE(dev);

    if (!vsmmu_check_properties(s, errp) || !vsmmu_check_bus(s, errp) ||
        !vsmmu_msi_realize(s, errp)) {
        return;
    }

    vsmmu_resolve_defaults(s);
    s->cmdqs_max = VSMMU_CMDQS_MAX;

    /* A vsmmu translates only for its own root bus, never its parents' */
    s->smmu.smmu_per_bus = true;
    s->smmu.mrtypename = TYPE_VSMMU_IOMMU_MEMORY_REGION;
    c->parent_realize(dev, errp);
    if (*errp) {
        return;
    }

    /* Our own per-device regions replace smmu-common's (same tables) */
    pci_setup_iommu_per_bus(s->smmu.primary_bus, &vsmmu_pci_iommu_ops, s);
    qemu_mutex_init(&s->mutex);
    QLIST_INIT(&s->devices);
    vsmmu_evtq_init(s);
    vsmmu_cmdq_runner_init(&s->cmdq_runner, s, &vsmmu_main_cmdq_ops, &s->cmdq);
    qemu_add_vm_change_state_handler(vsmmu_vm_state_change, s);
    s->backend = s->accel.enabled ? vsmmu_backend_find("iommufd") :
                 &vsmmu_backend_emu;
    if (s->backend->realize && !s->backend->realize(s, errp)) {
        return;
    }

    vsmmu_regs_init_idr(s);
    if (!vsmmu_cmdqv_realize(s, errp)) {
        return;
    }
    vsmmu_regs_reset(s);
    memory_region_init_io(&s->smmu.iomem, OBJECT(s), &vsmmu_mmio_ops, s,
                          TYPE_VSMMU, VSMMU_MMIO_SIZE);
    sysbus_init_mmio(sbd, &s->smmu.iomem);
    for (int i = 0; i < VSMMU_NUM_IRQS; i++) {
        sysbus_init_irq(sbd, &s->irq[i]);
    }
    vsmmu_cmdqv_init_sysbus(s);
    trace_vsmmu_realize(s->smmu.primary_bus->qbus.name, s->oas, s->sidsize,
                        s->ssidsize, vsmmu_stages_name(s->stages));
}

static void vsmmu_reset_exit(Object *obj, ResetType type)
{
    VsmmuState *s = VSMMU(obj);
    VsmmuClass *c = VSMMU_GET_CLASS(s);

    if (c->parent_phases.exit) {
        c->parent_phases.exit(obj, type);
    }
    /* "auto" values are chosen again (the backend may take the host's) */
    s->idr_seen = false;
    qemu_mutex_lock(&s->mutex);
    vsmmu_resolve_defaults(s);
    qemu_mutex_unlock(&s->mutex);
    vsmmu_regs_init_idr(s);
    vsmmu_regs_reset(s);
    vsmmu_evtq_reset(s);
    s->backend->config_reset(s);
    vsmmu_cmdqv_reset(s);
}

/* Events found before the VM stopped reach the queue that is saved */
static int vsmmu_pre_save(void *opaque)
{
    vsmmu_evtq_flush(opaque);
    return 0;
}

/*
 * Bits each register keeps when the guest writes it (vsmmu-regs.c); an
 * incoming migration stream is held to the same rules.
 */
#define VSMMU_CR1_MASK      0xfffu
#define VSMMU_CR2_MASK      (R_CR2_E2H_MASK | R_CR2_RECINVSID_MASK | \
                             R_CR2_PTM_MASK)
#define VSMMU_GERROR_MASK   0x1fdu
#define VSMMU_IRQ_CFG2_MASK 0x3fu
#define VSMMU_QUEUE_BASE_MASK (R_QUEUE_BASE_ADDR_MASK | R_QUEUE_BASE_RA_MASK | \
                               R_QUEUE_BASE_LOG2SIZE_MASK)

/* Keep @mask of *@v; remember the first field that had more */
static void vsmmu_load_mask32(uint32_t *v, uint32_t mask, const char *name,
                              const char **bad)
{
    if ((*v & ~mask) && !*bad) {
        *bad = name;
    }
    *v &= mask;
}

static void vsmmu_load_mask64(uint64_t *v, uint64_t mask, const char *name,
                              const char **bad)
{
    if ((*v & ~mask) && !*bad) {
        *bad = name;
    }
    *v &= mask;
}

/*
 * A queue as loaded: its base keeps ADDR, RA and LOG2SIZE (LOG2SIZE as
 * written, the model caps it at IDR1 when used), its indices only index
 * and wrap bit of the effective size plus the queue's flags.
 */
static void vsmmu_load_queue(VsmmuQueue *q, uint32_t prod_flags,
                             uint32_t cons_flags, const char *name,
                             const char **bad)
{
    uint32_t prod, cons;

    vsmmu_load_mask64(&q->base, VSMMU_QUEUE_BASE_MASK, name, bad);
    prod = (q->prod & prod_flags) | vsmmu_queue_wrap_idx(q, q->prod);
    cons = (q->cons & cons_flags) | vsmmu_queue_wrap_idx(q, q->cons);
    if ((prod != q->prod || cons != q->cons) && !*bad) {
        *bad = name;
    }
    q->prod = prod;
    q->cons = cons;
}

/*
 * The stream may come from a compromised source (docs/security.md):
 * every field is held to what a guest write could have produced, as the
 * register write path does. The translation registers ([T]) change with
 * the mutex held too. Cached configurations and translations are
 * derived: rebuilt on demand.
 */
static int vsmmu_post_load(void *opaque, int version_id)
{
    VsmmuState *s = opaque;
    uint32_t cr0_mask = R_CR0_SMMUEN_MASK | R_CR0_EVENTQEN_MASK |
                        R_CR0_CMDQEN_MASK | (s->ats ? R_CR0_ATSCHK_MASK : 0);
    const char *bad = NULL;

    qemu_mutex_lock(&s->mutex);
    vsmmu_load_mask32(&s->cr0, cr0_mask, "CR0", &bad);
    vsmmu_load_mask32(&s->cr1, VSMMU_CR1_MASK, "CR1", &bad);
    vsmmu_load_mask32(&s->cr2, VSMMU_CR2_MASK, "CR2", &bad);
    vsmmu_load_mask32(&s->gbpa, VSMMU_GBPA_WRITABLE, "GBPA", &bad);
    vsmmu_load_mask32(&s->irq_ctrl, R_IRQ_CTRL_GERROR_IRQEN_MASK |
                      R_IRQ_CTRL_EVENTQ_IRQEN_MASK, "IRQ_CTRL", &bad);
    vsmmu_load_mask32(&s->gerror, VSMMU_GERROR_MASK, "GERROR", &bad);
    vsmmu_load_mask32(&s->gerrorn, VSMMU_GERROR_MASK, "GERRORN", &bad);
    vsmmu_load_mask64(&s->gerror_irq_cfg0, R_IRQ_CFG0_ADDR_MASK,
                      "GERROR_IRQ_CFG0", &bad);
    vsmmu_load_mask32(&s->gerror_irq_cfg2, VSMMU_IRQ_CFG2_MASK,
                      "GERROR_IRQ_CFG2", &bad);
    vsmmu_load_mask64(&s->strtab_base, R_STRTAB_BASE_ADDR_MASK |
                      R_STRTAB_BASE_RA_MASK, "STRTAB_BASE", &bad);
    vsmmu_load_mask32(&s->strtab_base_cfg, R_STRTAB_BASE_CFG_LOG2SIZE_MASK |
                      R_STRTAB_BASE_CFG_SPLIT_MASK |
                      R_STRTAB_BASE_CFG_FMT_MASK, "STRTAB_BASE_CFG", &bad);
    qemu_mutex_unlock(&s->mutex);
    vsmmu_load_queue(&s->cmdq, 0, R_CMDQ_CONS_ERR_MASK, "CMDQ", &bad);
    vsmmu_load_queue(&s->eventq, R_QUEUE_INDEX_OVFLG_MASK,
                     R_QUEUE_INDEX_OVFLG_MASK, "EVENTQ", &bad);
    vsmmu_load_mask64(&s->eventq_irq_cfg0, R_IRQ_CFG0_ADDR_MASK,
                      "EVENTQ_IRQ_CFG0", &bad);
    vsmmu_load_mask32(&s->eventq_irq_cfg2, VSMMU_IRQ_CFG2_MASK,
                      "EVENTQ_IRQ_CFG2", &bad);
    if (bad) {
        warn_report("vsmmu: incoming migration: %s (and maybe more) held "
                    "values no guest write can produce; masked", bad);
    }
    trace_vsmmu_post_load(s->cr0, s->cmdq.prod, s->cmdq.cons, s->eventq.prod,
                          s->eventq.cons, !!bad);

    s->backend->config_reset(s);
    return 0;
}

static const VMStateDescription vmstate_vsmmu_queue = {
    .name = "vsmmu-queue",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT64(base, VsmmuQueue),
        VMSTATE_UINT32(prod, VsmmuQueue),
        VMSTATE_UINT32(cons, VsmmuQueue),
        VMSTATE_END_OF_LIST(),
    },
};

static const VMStateDescription vmstate_vsmmu = {
    .name = TYPE_VSMMU,
    .version_id = 1,
    .minimum_version_id = 1,
    .pre_save = vsmmu_pre_save,
    .post_load = vsmmu_post_load,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT32(cr0, VsmmuState),
        VMSTATE_UINT32(cr1, VsmmuState),
        VMSTATE_UINT32(cr2, VsmmuState),
        VMSTATE_UINT32(gbpa, VsmmuState),
        VMSTATE_UINT32(irq_ctrl, VsmmuState),
        VMSTATE_UINT32(gerror, VsmmuState),
        VMSTATE_UINT32(gerrorn, VsmmuState),
        VMSTATE_UINT64(gerror_irq_cfg0, VsmmuState),
        VMSTATE_UINT32(gerror_irq_cfg1, VsmmuState),
        VMSTATE_UINT32(gerror_irq_cfg2, VsmmuState),
        VMSTATE_UINT64(strtab_base, VsmmuState),
        VMSTATE_UINT32(strtab_base_cfg, VsmmuState),
        VMSTATE_STRUCT(cmdq, VsmmuState, 1, vmstate_vsmmu_queue, VsmmuQueue),
        VMSTATE_STRUCT(eventq, VsmmuState, 1, vmstate_vsmmu_queue,
                       VsmmuQueue),
        VMSTATE_UINT64(eventq_irq_cfg0, VsmmuState),
        VMSTATE_UINT32(eventq_irq_cfg1, VsmmuState),
        VMSTATE_UINT32(eventq_irq_cfg2, VsmmuState),
        VMSTATE_END_OF_LIST(),
    },
    .subsections = (const VMStateDescription * const []) {
        &vmstate_vsmmu_cmdqv,
        NULL
    },
};

/* Read-only counters for the demo and benchmarks (qom-get x-stats-*) */
static void vsmmu_instance_init(Object *obj)
{
    VsmmuState *s = VSMMU(obj);
    struct {
        const char *name;
        uint64_t *val;
    } stats[] = {
        { "x-stats-commands", &s->stats.commands },
        { "x-stats-batches", &s->stats.batches },
        { "x-stats-syncs", &s->stats.syncs },
        { "x-stats-events", &s->stats.events },
        { "x-stats-events-lost", &s->stats.events_lost },
        { "x-stats-evtq-signals", &s->stats.evtq_signals },
        { "x-stats-translations", &s->stats.translations },
        { "x-stats-utlb-hits", &s->stats.utlb_hits },
        { "x-stats-host-ioctls", &s->stats.host_ioctls },
        { "x-stats-host-inval-ioctls", &s->stats.host_inval_ioctls },
        { "x-stats-host-inval-cmds", &s->stats.host_inval_cmds },
        { "x-stats-host-events", &s->stats.host_events },
        { "x-stats-host-events-lost", &s->stats.host_events_lost },
        { "x-stats-slice-max-ns", &s->stats.slice_max_ns },
        { "x-stats-slice-max-wall-ns", &s->stats.slice_max_wall_ns },
        { "x-stats-slices-deferred", &s->stats.slices_deferred },
        { "x-stats-atc-invs", &s->stats.atc_invs },
        { "x-stats-ats-requests", &s->stats.ats_requests },
    };

    for (int i = 0; i < ARRAY_SIZE(stats); i++) {
        object_property_add_uint64_ptr(obj, stats[i].name, stats[i].val,
                                       OBJ_PROP_FLAG_READ);
    }
    vsmmu_cmdqv_instance_init(obj);
    vsmmu_monitor_init(obj);
}

static const Property vsmmu_properties[] = {
    /* auto: the defaults, or the host SMMU's in accelerated mode */
    DEFINE_PROP_U8_AUTO("oas", VsmmuState, oas_prop),
    DEFINE_PROP_UINT8("sidsize", VsmmuState, sidsize, 16),
    DEFINE_PROP_U8_AUTO("ssidsize", VsmmuState, ssidsize_prop),
    DEFINE_PROP_ON_OFF_AUTO("ril", VsmmuState, ril_prop, ON_OFF_AUTO_AUTO),
    DEFINE_PROP_ON_OFF_AUTO("ats", VsmmuState, ats_prop, ON_OFF_AUTO_AUTO),
    DEFINE_PROP_BOOL("accel", VsmmuState, accel.enabled, false),
    /* 1 | 2 | nested: IDR0.S1P/S2P, the STE configs and TLBIs accepted */
    DEFINE_PROP("stage", VsmmuState, stages, vsmmu_prop_stages, uint8_t,
                .set_default = true, .defval.u = VSMMU_STAGES_1),
    DEFINE_PROP_ON_OFF_AUTO("msi-window", VsmmuState, msi_window,
                            ON_OFF_AUTO_AUTO),
    /* Tegra241 CMDQV: auto = on when accel and the host SMMU has one */
    DEFINE_PROP_ON_OFF_AUTO("cmdqv", VsmmuState, cmdqv.mode,
                            ON_OFF_AUTO_AUTO),
    DEFINE_PROP_UINT32("cmdqv-vcmdqs", VsmmuState, cmdqv.num_vcmdqs, 2),
    DEFINE_PROP_UINT32("cmdqv-sids", VsmmuState, cmdqv.num_sids, 16),
    /* > 1: the guest is the host, the CMDQV's VINTFs are its to give */
    DEFINE_PROP_UINT32("cmdqv-vintfs", VsmmuState, cmdqv.num_vintfs, 1),
    DEFINE_PROP_LINK("iommufd", VsmmuState, accel.iommufd, TYPE_IOMMUFD_BACKEND,
                     IOMMUFDBackend *),
    /* accel: off sends one invalidation ioctl per command (benchmarks) */
    DEFINE_PROP_BOOL("x-batch", VsmmuState, accel.batch, true),
    /* accel with KVM: where assigned devices' MSIs go (0: the vITS) */
    DEFINE_PROP_UINT64("msi-gpa", VsmmuState, accel.msi_gpa, 0),
};

static void vsmmu_class_init(ObjectClass *klass, const void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);
    ResettableClass *rc = RESETTABLE_CLASS(klass);
    VsmmuClass *c = VSMMU_CLASS(klass);

    dc->desc = "Virtual Arm SMMUv3: stage 1 emulated or iommufd-accelerated, "
               "stage 2 and nesting emulated";
    dc->vmsd = &vmstate_vsmmu;
    dc->hotpluggable = false;
    dc->user_creatable = true;
    device_class_set_props(dc, vsmmu_properties);
    device_class_set_parent_realize(dc, vsmmu_realize, &c->parent_realize);
    resettable_class_set_parent_phases(rc, NULL, NULL, vsmmu_reset_exit,
                                       &c->parent_phases);
}

static const TypeInfo vsmmu_types[] = {
    {
        .name          = TYPE_VSMMU,
        .parent        = TYPE_ARM_SMMU,
        .instance_size = sizeof(VsmmuState),
        .instance_init = vsmmu_instance_init,
        .class_size    = sizeof(VsmmuClass),
        .class_init    = vsmmu_class_init,
    }, {
        .name          = TYPE_VSMMU_IOMMU_MEMORY_REGION,
        .parent        = TYPE_IOMMU_MEMORY_REGION,
        .class_init    = vsmmu_iommu_memory_region_class_init,
    },
};

DEFINE_TYPES(vsmmu_types)
