/*
 * Shared fixture of the accelerated-vsmmu qtests: QEMU with an accel vsmmu
 * in front of simulated-host vfio-pci devices (tests/simhost), a stage-1
 * set-up for device 0, DMA patterns, and the leak check at the end.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef TESTS_QTEST_VSMMU_ACCEL_FIXTURE_H
#define TESTS_QTEST_VSMMU_ACCEL_FIXTURE_H

#include "vsmmu-qtest-lib.h"
#include "simhost-qtest.h"

#define ACCEL_VSMMU     "-device vsmmu,primary-bus=pcie.0,id=vsmmu0," \
                        "accel=on,iommufd=simhost-iommufd"
/* A root port for hot-plug (pcie.0 itself takes none): bus 1, SID 0x100 */
#define ACCEL_ROOT_PORT "-device pcie-root-port,id=rp0,chassis=1,addr=8.0"
#define ROOT_PORT_SID   0x100
#define TEST_ASID       VSMMU_QTEST_ASID
#define IOVA_A          VSMMU_QTEST_IOVA_A
#define IOVA_B          VSMMU_QTEST_IOVA_B
#define DEV0_DEVFN      SIMHOST_QTEST_DEVFN(0)      /* 02.0 */
/* Time limit of one isolated case */
#define ACCEL_TIMEOUT_S 120

typedef struct AccelFixture {
    Simhost *sh;
    VsmmuQtest *t;              /* NULL when device 0 is not cold-plugged */
    uint64_t base;              /* vsmmu registers when t is NULL */
    VsmmuPgtable pt;
    VsmmuCdTable cdt;
    uint64_t ste[VSMMU_STE_DWORDS];
    uint64_t cd[VSMMU_CD_DWORDS];
} AccelFixture;

/*
 * The tests need the simulated host; without it they say so and skip
 * (simhost_require(), also from an isolated case)
 */
bool have_simhost(void);
/* QEMU with the accel vsmmu (plus @extra) and @o's devices at slot 2 + n */
void accel_start(AccelFixture *f, SimhostOpts *o, const char *extra);
/* The same with host SMMU 0 described by @smmu0 (NULL: o's profile) */
void accel_start_host(AccelFixture *f, SimhostOpts *o, const char *extra,
                      const SimhostSmmuCfg *smmu0);
void accel_start_default(AccelFixture *f);
/* Quit QEMU and check the host saw every object freed */
void accel_end(AccelFixture *f);
/* Linear stream table, one CD, 4K tables; queues up; SMMUEN set */
void accel_s1_setup(AccelFixture *f);
void fill_pattern(VsmmuQtest *t, uint64_t pa, uint64_t len, uint8_t seed);
bool check_pattern(VsmmuQtest *t, uint64_t pa, uint64_t len, uint8_t seed);
unsigned status_code(uint64_t status);
/* Number ACCEL_ROOT_PORT's secondary bus (1), as firmware would */
void accel_number_root_port(AccelFixture *f);
/* HMP "info vsmmu" */
char *hmp_info(AccelFixture *f);

#endif /* TESTS_QTEST_VSMMU_ACCEL_FIXTURE_H */
