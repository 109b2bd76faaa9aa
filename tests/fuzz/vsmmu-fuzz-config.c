/*
 * vsmmu libFuzzer targets: the configurations the vsmmu refuses
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "qom/object.h"
#include "qom/qom-qobject.h"
#include "qobject/qobject.h"
#include "hw/qdev-core.h"
#include "hw/sysbus.h"
#include "hw/arm/vsmmu/vsmmu.h"
#include "vsmmu-fuzz.h"

/*
 * Not fuzzed, but code the coverage figures count (docs/testing.md): each
 * configuration the vsmmu refuses before it touches the machine, on a
 * vsmmu of its own that is never realized, and the forms its "auto"
 * properties take (a string, "auto", a number from QMP).
 */
void vsmmu_fuzz_config_checks(Object *vsmmu)
{
    static const struct {
        const char *prop, *val;
        bool bus;
    } bad[] = {
        { "oas", "33", true },          /* not an SMMUv3 output size */
        { "sidsize", "0", true },
        { "ssidsize", "21", true },
        { "accel", "on", true },        /* without iommufd= */
        { NULL, NULL, false },          /* no primary-bus */
        { NULL, NULL, true },           /* pcie.0 has an IOMMU: ours */
    };
    Object *bus = object_property_get_link(vsmmu, "primary-bus",
                                           &error_abort);
    DeviceState *d;
    Error *err = NULL;

    for (unsigned i = 0; i < ARRAY_SIZE(bad); i++) {
        d = qdev_new(TYPE_VSMMU);
        d->hotplugged = false;      /* as if on the command line */
        if (bad[i].prop) {
            object_property_parse(OBJECT(d), bad[i].prop, bad[i].val,
                                  &error_abort);
        }
        if (bad[i].bus) {
            object_property_set_link(OBJECT(d), "primary-bus", bus,
                                     &error_abort);
        }
        /* refused: off the bus again, as qdev_device_add() does */
        object_property_add_child(qdev_get_machine(), "vsmmu-fuzz-check",
                                  OBJECT(d));
        g_assert(!sysbus_realize(SYS_BUS_DEVICE(d), &err));
        error_free(err);
        err = NULL;
        object_unparent(OBJECT(d));
        object_unref(OBJECT(d));
    }

    d = qdev_new(TYPE_VSMMU);
    object_property_parse(OBJECT(d), "oas", "44", &error_abort);
    object_property_parse(OBJECT(d), "oas", "auto", &error_abort);
    g_assert(!object_property_parse(OBJECT(d), "oas", "x", &err));
    error_free(err);
    err = NULL;
    g_assert(!object_property_parse(OBJECT(d), "oas", "300", &err));
    error_free(err);
    object_property_set_uint(OBJECT(d), "oas", 48, &error_abort);
    qobject_unref(object_property_get_qobject(OBJECT(d), "oas",
                                              &error_abort));
    object_unref(OBJECT(d));
}
