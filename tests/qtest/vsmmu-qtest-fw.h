/*
 * What a virt machine tells its firmware: the device tree QEMU builds and
 * the fw_cfg files (ACPI tables), for the qtests that check how a vsmmu
 * is described. Needs no device header, so a test that includes the
 * device's own headers can use it too.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef TESTS_QTEST_VSMMU_QTEST_FW_H
#define TESTS_QTEST_VSMMU_QTEST_FW_H

#include "libqtest.h"

/*
 * The device tree of "-M virt" with @args (QEMU run once with
 * dumpdtb=), g_free() it; its size in *@len if @len
 */
void *vsmmu_qtest_dtb(const char *args, size_t *len);

/*
 * fw_cfg file @name (e.g. "etc/acpi/tables") of a running virt machine,
 * read with fw_cfg DMA through the first pages of RAM; g_free() it; its
 * size in *@len
 */
uint8_t *vsmmu_qtest_fw_cfg_file(QTestState *qts, const char *name,
                                 size_t *len);

#endif /* TESTS_QTEST_VSMMU_QTEST_FW_H */
