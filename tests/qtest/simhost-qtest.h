/*
 * qtest side of the simulated Arm host (tests/simhost): start QEMU with
 * vfio-pci devices in iommufd mode whose /dev/iommu and VFIO cdev are
 * answered by libsimhost.so (LD_PRELOAD), read what the "host" saw, inject
 * faults, and check for leaked iommufd objects after QEMU exits.
 *
 * Usage:
 *
 *   SimhostOpts o = SIMHOST_OPTS_DEFAULT;       // 1 plain SMMUv3, 1 device
 *   o.num_smmus = 2;
 *   o.profile[1] = SIMHOST_PROFILE_SMMUV3_CMDQV;
 *   o.num_devs = 2;
 *   o.dev_smmu[1] = 1;                          // device 1 behind SMMU 1
 *   o.dev_props[0] = "addr=2.0";                // extra vfio-pci properties
 *   Simhost *sh = simhost_new(&o);
 *   simhost_qtest_start(sh, "-device vsmmu,primary-bus=pcie.0,accel=on");
 *       // QEMU runs as "-M virt -cpu max -nodefaults -m 512M
 *       //   -object iommufd,id=simhost-iommufd,fd=N
 *       //   -device vfio-pci,id=simhost-dev0,fd=M,iommufd=simhost-iommufd,…
 *       //   <your args>"; sh->qts is the QTestState.
 *   simhost_inject(sh, SIMHOST_K_HWPT_ALLOC, 1, ENOMEM); // next one fails
 *   ... drive the guest side (vsmmu-qtest-lib works: the simulated
 *       function is register-compatible with vsmmu-dma-testdev) ...
 *   g_assert_cmpuint(simhost_calls(sh, SIMHOST_K_HWPT_INVALIDATE), ==, 1);
 *   g_assert_cmpuint(sh->ctl->inval_last_num, ==, 64);
 *   simhost_qtest_quit(sh);                     // QEMU exits, library reports
 *   g_assert_cmpuint(simhost_leaks(sh), ==, 0);
 *   simhost_free(sh);
 *
 * The whole control block (tests/simhost/simhost-ctl.h: counters per call
 * kind, invalidation log as converted for the hardware, HWPT attached per
 * device, event counters, leak list) is sh->ctl, shared memory updated live.
 *
 * Device n is the vfio-pci with id "simhost-dev<n>"; in the guest it has
 * vendor:device 1234:5a5a (the vsmmu-dma-testdev's) and subsystem
 * 5348:<n>. With o.cold_plug_mask clear for n it is not on the command line:
 * hot-plug it with simhost_device_add(). Its physical StreamID is
 * o.dev_sid[n] (default 0x100 + n) on host SMMU o.dev_smmu[n].
 *
 * Leaks: at exit the library counts the iommufd objects still alive that
 * no bound device can reach (a device's attached HWPT, its parents, its
 * vIOMMU and what hangs off it count as reachable), so a test that
 * unplugs every device expects simhost_leaks() == 0.
 *
 * The library path comes from $SIMHOST_LIB, else
 * <dir of QTEST_QEMU_BINARY>/../simhost/libsimhost.so (what the Makefile
 * builds); simhost_available() is false when neither exists, so a test can
 * g_test_skip() instead of failing.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef TESTS_QTEST_SIMHOST_QTEST_H
#define TESTS_QTEST_SIMHOST_QTEST_H

#include "libqtest.h"
#include "libqos/pci.h"
#include "libqos/generic-pcihost.h"
#include "libqos/libqos-malloc.h"
#include "../simhost/simhost-ctl.h"

typedef struct SimhostOpts {
    unsigned num_smmus;
    SimhostProfile profile[SIMHOST_MAX_SMMUS];
    unsigned num_devs;
    unsigned dev_smmu[SIMHOST_MAX_DEVS];
    uint32_t dev_sid[SIMHOST_MAX_DEVS];         /* 0 = 0x100 + n */
    bool dev_ats[SIMHOST_MAX_DEVS];
    const char *dev_props[SIMHOST_MAX_DEVS];    /* appended to -device */
    uint32_t cold_plug_mask;                    /* bit n: on the cmdline */
} SimhostOpts;

#define SIMHOST_OPTS_DEFAULT \
    ((SimhostOpts){ .num_smmus = 1, .num_devs = 1, .cold_plug_mask = ~0u })

typedef struct Simhost {
    QTestState *qts;
    SimhostCtl *ctl;            /* shared with the library in QEMU */
    unsigned num_devs;
    int ctl_fd;
    int iommufd_fd;
    int kick_fd;
    int dev_fd[SIMHOST_MAX_DEVS];
    bool plugged[SIMHOST_MAX_DEVS];
    char **dev_props;

    /* filled by simhost_pci_init() */
    bool alloc_ready;
    QGuestAllocator alloc;
    QGenericPCIBus pcibus;
    QPCIDevice *pdev[SIMHOST_MAX_DEVS];
    QPCIBar bar[SIMHOST_MAX_DEVS];
} Simhost;

/* Path of libsimhost.so, or NULL if it cannot be found */
const char *simhost_lib_path(void);
bool simhost_available(void);
/*
 * For a test that needs the simulated host: true if it is there, else the
 * test is skipped with the reason (also from a case isolated with
 * vsmmu_qtest_add_isolated()) and false comes back
 */
bool simhost_require(void);

/* devfn of simulated device @n at the tests' usual slot (2 + n, fn 0) */
#define SIMHOST_QTEST_DEVFN(n)  ((2 + (n)) << 3)

/* Create the descriptors and the control block from @opts (NULL: default) */
Simhost *simhost_new(const SimhostOpts *opts);
/* The SMMU/device description may still be edited in sh->ctl until here */
QTestState *simhost_qtest_start(Simhost *sh, const char *extra_args);
/*
 * QMP device_add of device @n (vfio-pci, id=simhost-dev<n>, fd=, iommufd=);
 * @props: a JSON object of more properties, e.g. "{'bus': 'rp0'}", or NULL
 */
void simhost_device_add(Simhost *sh, unsigned n, const char *props);
/* qtest_quit(), then wait until the library has written its exit report */
void simhost_qtest_quit(Simhost *sh);
void simhost_free(Simhost *sh);

/* Counters */
uint64_t simhost_calls(Simhost *sh, SimhostKind kind);
uint64_t simhost_fails(Simhost *sh, SimhostKind kind);
const char *simhost_kind_name(SimhostKind kind);
/* Alive iommufd objects now; leaked ones after simhost_qtest_quit() */
unsigned simhost_live_objects(Simhost *sh);
unsigned simhost_leaks(Simhost *sh);
/* HWPT (or IOAS) id device @n is attached to, 0 if none; kind/vSTE out */
uint32_t simhost_attached(Simhost *sh, unsigned n, unsigned *kind,
                          uint64_t ste[2]);

/* Fault injection: fail the @nth next call (1 = the next) of @kind */
void simhost_inject(Simhost *sh, SimhostKind kind, unsigned nth, int err);
/* ... after letting @skip calls pass, fail the next @count */
void simhost_inject_n(Simhost *sh, SimhostKind kind, unsigned skip,
                      unsigned count, int err);
void simhost_inject_clear(Simhost *sh);
unsigned simhost_inject_fired(Simhost *sh, SimhostKind kind);
/* The next @n vEVENTs hit an allocation failure (LOST_EVENTS) */
void simhost_event_alloc_fail(Simhost *sh, unsigned n);
/* Every event is reported @n times from now on (1 = normal) */
void simhost_event_flood(Simhost *sh, unsigned n);

/* Mailbox: return the request's result (0 or -errno) */
int simhost_host_event(Simhost *sh, unsigned n, const uint64_t evt[4]);
int simhost_cmdqv_error(Simhost *sh, uint32_t viommu_id, unsigned lvcmdq);
int simhost_vcmdq_poll(Simhost *sh);

/*
 * Guest side: enumerate pcie.0 (libqos generic PCI host), enable every
 * simulated function and map its BAR0. pdev[n]/bar[n] follow the device
 * index (subsystem ID), NULL for devices not present.
 */
void simhost_pci_init(Simhost *sh);
uint64_t simhost_dma_readq(Simhost *sh, unsigned n, uint64_t reg);
void simhost_dma_writeq(Simhost *sh, unsigned n, uint64_t reg, uint64_t val);
/* Run a command; returns SIMHOST_R_STATUS */
uint64_t simhost_dma_copy(Simhost *sh, unsigned n, uint64_t src, uint64_t dst,
                          uint64_t len, bool msi);
uint64_t simhost_dma_fill(Simhost *sh, unsigned n, uint64_t dst, uint64_t len,
                          uint8_t pattern, bool msi);

#endif /* TESTS_QTEST_SIMHOST_QTEST_H */
