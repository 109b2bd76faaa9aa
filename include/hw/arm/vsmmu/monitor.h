/*
 * vsmmu: monitor commands (HMP "info vsmmu"; QMP: qom-get <id> x-info)
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef HW_ARM_VSMMU_MONITOR_H
#define HW_ARM_VSMMU_MONITOR_H

#include "monitor/monitor.h"
#include "qobject/qdict.h"

void hmp_info_vsmmu(Monitor *mon, const QDict *qdict);

#endif /* HW_ARM_VSMMU_MONITOR_H */
