/*
 * vsmmu libFuzzer targets: the same state before every input (the machine
 * reset, guest RAM restored from a snapshot)
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/main-loop.h"
#include "qom/object.h"
#include "system/memory.h"
#include "system/runstate.h"
#include "hw/boards.h"
#include "hw/resettable.h"
#include "vsmmu-fuzz.h"

/*
 * Every input starts from the same state, whatever ran before it (else
 * coverage and findings would depend on the order inputs run in). After
 * each input:
 *   - the harness's notifiers go, the simulated host's injections too;
 *   - the machine is reset: every device (the vsmmu, the test devices and
 *     their PCI configuration, the GIC the vsmmu's interrupts reach, any
 *     device a bypass DMA may have poked) and the CPUs;
 *   - guest RAM goes back to what it held after the reset before the
 *     first input: dirty logging on the RAM region records each page
 *     written since (DMA, event records, MSIs, the harness's own writes),
 *     and those pages are copied back from a snapshot taken then.
 * That makes the reset's ROM loader redundant (rom_reset copies the 1 MiB
 * DTB back into RAM at each reset, a tenth of an input's time): the
 * legacy reset handlers whose only work is writing RAM are found once
 * (each handler run on its own with RAM's dirty log clear; rom_reset is
 * the one that dirties it) and skipped. VSMMU_FUZZ_RESET=full keeps them.
 */
#define RAM_RESTORE_BLOCK       0x100000
/* copied in 4 KiB pieces: right whatever the dirty log's granularity */
#define RAM_RESTORE_PAGE        0x1000

static MemoryRegion *ram_mr;
static uint64_t ram_size;
static uint8_t *ram_snapshot;
static void (*legacy_hold)(Object *obj, ResetType type);
static GPtrArray *ram_loaders;      /* legacy reset handlers writing RAM */
static bool classifying;
static void (*after_reset)(QTestState *s);

/* Was RAM written since the last call? (clears the record) */
static bool ram_dirty(void)
{
    DirtyBitmapSnapshot *snap =
        memory_region_snapshot_and_clear_dirty(ram_mr, 0, ram_size,
                                               DIRTY_MEMORY_VGA);
    bool dirty = memory_region_snapshot_get_dirty(ram_mr, snap, 0, ram_size);

    g_free(snap);
    return dirty;
}

static void fuzz_legacy_hold(Object *obj, ResetType type)
{
    if (classifying) {
        ram_dirty();
        legacy_hold(obj, type);
        if (ram_dirty()) {
            g_ptr_array_add(ram_loaders, obj);
        }
        return;
    }
    if (!g_ptr_array_find(ram_loaders, obj, NULL)) {
        legacy_hold(obj, type);
    }
}

/* The pages written since the last restore, back from the snapshot */
void vsmmu_fuzz_ram_restore(void)
{
    uint8_t *host = memory_region_get_ram_ptr(ram_mr);
    DirtyBitmapSnapshot *snap =
        memory_region_snapshot_and_clear_dirty(ram_mr, 0, ram_size,
                                               DIRTY_MEMORY_VGA);

    for (uint64_t b = 0; b < ram_size; b += RAM_RESTORE_BLOCK) {
        uint64_t end = MIN(b + RAM_RESTORE_BLOCK, ram_size);

        if (!memory_region_snapshot_get_dirty(ram_mr, snap, b, end - b)) {
            continue;
        }
        for (uint64_t a = b; a < end; a += RAM_RESTORE_PAGE) {
            if (memory_region_snapshot_get_dirty(ram_mr, snap, a,
                                                 RAM_RESTORE_PAGE)) {
                memcpy(host + a, ram_snapshot + a, RAM_RESTORE_PAGE);
            }
        }
    }
    g_free(snap);
}

/*
 * A machine reset and the harness's re-enabling (the DMA function's BAR)
 * as one memory transaction: the reset unmaps every BAR and the re-enable
 * maps the function's again, and committed one by one each change was a
 * rebuild of every address space's topology (a fifth of the time of an
 * input). The cause SUBSYSTEM_RESET is a cold reset of every device, as
 * fuzz_reset()'s, but sends no QMP event nobody reads.
 */
void vsmmu_fuzz_machine_reset(QTestState *s)
{
    memory_region_transaction_begin();
    qemu_system_reset(SHUTDOWN_CAUSE_SUBSYSTEM_RESET);
    main_loop_wait(true);
    after_reset(s);
    memory_region_transaction_commit();
}

void vsmmu_fuzz_restore_init(QTestState *s, void (*enable)(QTestState *))
{
    ObjectClass *oc = object_class_by_name("legacy-reset");
    const char *mode = getenv("VSMMU_FUZZ_RESET");

    ram_mr = MACHINE(qdev_get_machine())->ram;
    ram_size = memory_region_size(ram_mr);
    memory_region_set_log(ram_mr, true, DIRTY_MEMORY_VGA);
    ram_loaders = g_ptr_array_new();
    if (oc && !(mode && !strcmp(mode, "full"))) {
        ResettableClass *rc = RESETTABLE_CLASS(oc);

        legacy_hold = rc->phases.hold;
        rc->phases.hold = fuzz_legacy_hold;
        classifying = true;
    }
    /* the reset before the first input, every handler run */
    after_reset = enable;
    vsmmu_fuzz_machine_reset(s);
    classifying = false;
    ram_snapshot = g_malloc(ram_size);
    memcpy(ram_snapshot, memory_region_get_ram_ptr(ram_mr), ram_size);
    ram_dirty();
}
