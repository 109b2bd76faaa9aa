/*
 * vsmmu: what the monitor shows — HMP "info vsmmu" and the x-info QOM
 * property (the same text, for QMP clients through qom-get)
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "qapi/visitor.h"
#include "monitor/monitor.h"
#include "hw/boards.h"
#include "hw/pci/pci_bus.h"
#include "hw/arm/vsmmu/monitor.h"
#include "vsmmu-internal.h"
#include "vsmmu-cmdqv.h"

/* Guest physical address of the register pages, wherever they are mapped */
static hwaddr vsmmu_regs_addr(VsmmuState *s)
{
    hwaddr addr = 0;

    for (MemoryRegion *mr = &s->smmu.iomem; mr; mr = mr->container) {
        addr += mr->addr;
    }
    return addr;
}

static const char *vsmmu_auto_note(VsmmuState *s, bool is_auto)
{
    return !is_auto ? "" : s->idr_from_host ? " (auto: host)" :
           " (auto: default)";
}

static void vsmmu_describe(VsmmuState *s, GString *buf)
{
    PCIBus *bus = s->smmu.primary_bus;
    VsmmuDevice *vdev;

    /* Under the BQL, which owns the model; no vsmmu lock (a leaf) */
    g_string_append_printf(buf, "%s: root bus %s, registers at 0x%"
                           HWADDR_PRIx ", SMMUEN %u\n",
                           object_get_canonical_path_component(OBJECT(s)),
                           bus ? bus->qbus.name : "?",
                           vsmmu_regs_addr(s),
                           (unsigned)vsmmu_enabled(s));
    g_string_append_printf(buf, "  oas %u%s, ssidsize %u%s, ril %s%s, "
                           "ats %s%s, sidsize %u\n",
                           s->oas, vsmmu_auto_note(s, s->oas_prop ==
                                                   VSMMU_PROP_AUTO),
                           s->ssidsize, vsmmu_auto_note(s, s->ssidsize_prop ==
                                                        VSMMU_PROP_AUTO),
                           s->ril ? "on" : "off",
                           vsmmu_auto_note(s, s->ril_prop == ON_OFF_AUTO_AUTO),
                           s->ats ? "on" : "off",
                           vsmmu_auto_note(s, s->ats_prop == ON_OFF_AUTO_AUTO),
                           s->sidsize);
    if (s->stages != VSMMU_STAGES_1) {
        g_string_append_printf(buf, "  stage %s\n",
                               vsmmu_stages_name(s->stages));
    }
    g_string_append_printf(buf, "  mode: %s\n", s->backend->mode);
    if (s->backend->info) {
        s->backend->info(s, buf);
    }
    vsmmu_cmdqv_info(s, buf);
    g_string_append(buf, "  devices:\n");
    QLIST_FOREACH(vdev, &s->devices, link) {
        uint32_t sid = smmu_get_sid(&vdev->sdev);

        if (!s->backend->info_dev || !s->backend->info_dev(s, vdev, buf)) {
            g_string_append_printf(buf, "    %02x:%02x.%x: emulated, "
                                   "software stage %s\n", PCI_BUS_NUM(sid),
                                   PCI_SLOT(sid & 0xff), PCI_FUNC(sid & 0xff),
                                   vsmmu_stages_name(s->stages));
        }
    }
    g_string_append_printf(buf, "  commands %" PRIu64 ", batches %" PRIu64
                           ", syncs %" PRIu64 ", events %" PRIu64
                           ", events lost %" PRIu64 ", atc invs %" PRIu64
                           "\n",
                           s->stats.commands, s->stats.batches,
                           s->stats.syncs, s->stats.events,
                           s->stats.events_lost, s->stats.atc_invs);
    if (s->backend->info_stats) {
        s->backend->info_stats(s, buf);
    }
}

static int vsmmu_describe_one(Object *obj, void *opaque)
{
    if (object_dynamic_cast(obj, TYPE_VSMMU)) {
        vsmmu_describe(VSMMU(obj), opaque);
    }
    return 0;
}

void hmp_info_vsmmu(Monitor *mon, const QDict *qdict)
{
    g_autoptr(GString) buf = g_string_new("");

    object_child_foreach_recursive(OBJECT(qdev_get_machine()),
                                   vsmmu_describe_one, buf);
    monitor_printf(mon, "%s", buf->len ? buf->str : "no vsmmu\n");
}

static char *vsmmu_get_info(Object *obj, Error **errp)
{
    GString *buf = g_string_new("");

    vsmmu_describe(VSMMU(obj), buf);
    return g_string_free(buf, false);
}

void vsmmu_monitor_init(Object *obj)
{
    object_property_add_str(obj, "x-info", vsmmu_get_info, NULL);
}
