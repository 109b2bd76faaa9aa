/*
 * qtests of QEMU's own, unmodified vfio-pci (iommufd mode) against the
 * simulated Arm host (tests/simhost): realize, guest RAM mapped into the
 * IOAS, DMA between guest buffers with stage 1 bypassed, MSI, hot-plug
 * with injected host failures, and no iommufd object leaked.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qobject/qdict.h"
#include "standard-headers/linux/pci_regs.h"
#include "simhost-qtest.h"
#include "vsmmu-qtest-lib.h"

#define BUF_A           0x44000000ULL   /* guest RAM, outside libqos' pool */
#define BUF_B           0x44100000ULL
#define MSI_ADDR        0x44200000ULL
#define NO_RAM          0x100000000ULL  /* nothing mapped there */

static bool skip_without_lib(void)
{
    if (!simhost_available()) {
        g_test_skip("libsimhost.so not built (set SIMHOST_LIB)");
        return true;
    }
    return false;
}

/* vfio-pci realizes: bind, auto domain on the IOAS, RAM mapped, hw_info */
static void test_realize(void)
{
    Simhost *sh;
    unsigned kind;

    if (skip_without_lib()) {
        return;
    }
    sh = simhost_new(NULL);
    simhost_qtest_start(sh, "");
    g_assert_cmpuint(sh->ctl->dev_bound[0], ==, 1);
    g_assert_cmpuint(simhost_calls(sh, SIMHOST_K_VFIO_BIND), ==, 1);
    g_assert_cmpuint(simhost_calls(sh, SIMHOST_K_IOAS_ALLOC), ==, 1);
    g_assert_cmpuint(simhost_attached(sh, 0, &kind, NULL), !=, 0);
    g_assert_cmpuint(kind, ==, SIMHOST_ATTACH_PAGING);
    /* RAM reaches the IOAS through IOAS_MAP (anonymous RAM) */
    g_assert_cmpuint(simhost_calls(sh, SIMHOST_K_IOAS_MAP) +
                     simhost_calls(sh, SIMHOST_K_IOAS_MAP_FILE), >, 0);
    g_assert_cmpuint(simhost_fails(sh, SIMHOST_K_IOAS_MAP), ==, 0);
    g_assert_cmpuint(simhost_calls(sh, SIMHOST_K_GET_HW_INFO), >=, 2);
    g_assert_cmpuint(simhost_fails(sh, SIMHOST_K_GET_HW_INFO), ==, 0);
    g_assert_cmpuint(simhost_calls(sh, SIMHOST_K_IOAS_IOVA_RANGES), >=, 1);
    /* BAR0 is not mmappable: no mmap of the device, ever */
    g_assert_cmpuint(simhost_calls(sh, SIMHOST_K_MMAP), ==, 0);
    /* the IOAS and its auto HWPT */
    g_assert_cmpuint(simhost_live_objects(sh), ==, 2);
    simhost_qtest_quit(sh);
    g_assert_cmpuint(sh->ctl->objects_at_exit, ==, 2);
    g_assert_cmpuint(simhost_leaks(sh), ==, 0);
    simhost_free(sh);
}

/* The acceptance case: QEMU maps guest RAM, the device copies A -> B */
static void test_dma_copy_bypass(void)
{
    Simhost *sh;
    uint8_t src[8192], dst[8192];
    uint64_t status;

    if (skip_without_lib()) {
        return;
    }
    sh = simhost_new(NULL);
    simhost_qtest_start(sh, "");
    simhost_pci_init(sh);
    g_assert_nonnull(sh->pdev[0]);
    g_assert_cmphex(simhost_dma_readq(sh, 0, SIMHOST_R_ID), ==,
                    SIMHOST_DMA_ID);
    for (int i = 0; i < sizeof(src); i++) {
        src[i] = i * 7 + 3;
    }
    qtest_memwrite(sh->qts, BUF_A, src, sizeof(src));
    qtest_memset(sh->qts, BUF_B, 0, sizeof(src));

    status = simhost_dma_copy(sh, 0, BUF_A, BUF_B, sizeof(src), false);
    g_assert_cmphex(status, ==, SIMHOST_STATUS_OK);
    qtest_memread(sh->qts, BUF_B, dst, sizeof(dst));
    g_assert_cmpmem(src, sizeof(src), dst, sizeof(dst));
    g_assert_cmpuint(sh->ctl->dev_dma_ok[0], ==, 2);
    /* every access was a pwrite/pread of the cdev, none went to QEMU RAM */
    g_assert_cmpuint(simhost_calls(sh, SIMHOST_K_BAR_WRITE), >=, 4);

    /* FILL, then a fault at an IPA stage 2 does not map */
    status = simhost_dma_fill(sh, 0, BUF_B + 16, 32, 0xa5, false);
    g_assert_cmphex(status, ==, SIMHOST_STATUS_OK);
    g_assert_cmphex(qtest_readb(sh->qts, BUF_B + 47), ==, 0xa5);
    g_assert_cmphex(qtest_readb(sh->qts, BUF_B + 48), ==, src[48]);
    status = simhost_dma_copy(sh, 0, NO_RAM, BUF_B, 64, false);
    g_assert_cmphex(status & 0xffffffff, ==, SIMHOST_STATUS_DMA_ERROR);
    g_assert_cmphex(simhost_dma_readq(sh, 0, SIMHOST_R_ERR_ADDR), ==, NO_RAM);
    g_assert_cmpuint(sh->ctl->s2_faults, ==, 1);
    /* stage-2 faults never become events */
    g_assert_cmpuint(sh->ctl->events_reported, ==, 0);

    simhost_qtest_quit(sh);
    g_assert_cmpuint(simhost_leaks(sh), ==, 0);
    simhost_free(sh);
}

/* vsmmu-qtest-lib drives the simulated function as its test device */
static void test_vsmmu_lib_compat(void)
{
    Simhost *sh;
    VsmmuQtest *t;

    if (skip_without_lib()) {
        return;
    }
    sh = simhost_new(NULL);
    simhost_qtest_start(sh, "");
    t = vsmmu_qtest_attach(sh->qts);
    g_assert_cmpuint(t->base, ==, 0);       /* no vIOMMU */
    qtest_memset(sh->qts, BUF_A, 0x3c, 4096);
    g_assert_cmpuint(vsmmu_testdev_status_code(
                         vsmmu_testdev_copy(t, BUF_A, BUF_B, 4096)), ==,
                     VSMMU_TESTDEV_STATUS_OK);
    g_assert_cmphex(qtest_readl(sh->qts, BUF_B + 4092), ==, 0x3c3c3c3c);
    g_free(t->dev);
    g_free(t->smmu_name);
    g_free(t);
    simhost_qtest_quit(sh);
    simhost_free(sh);
}

/* MSI: SET_IRQS eventfd, doorbell at 0x08000040 inside the SW_MSI window */
static void test_msi(void)
{
    Simhost *sh;
    QPCIDevice *dev;
    uint8_t cap;
    int tries;

    if (skip_without_lib()) {
        return;
    }
    sh = simhost_new(NULL);
    simhost_qtest_start(sh, "");
    simhost_pci_init(sh);
    dev = sh->pdev[0];
    cap = qpci_find_capability(dev, PCI_CAP_ID_MSI, 0);
    g_assert_cmpuint(cap, !=, 0);
    qpci_config_writel(dev, cap + PCI_MSI_ADDRESS_LO, (uint32_t)MSI_ADDR);
    qpci_config_writel(dev, cap + PCI_MSI_ADDRESS_HI, MSI_ADDR >> 32);
    qpci_config_writew(dev, cap + PCI_MSI_DATA_64, 0x1234);
    qpci_config_writew(dev, cap + PCI_MSI_FLAGS,
                       qpci_config_readw(dev, cap + PCI_MSI_FLAGS) |
                       PCI_MSI_FLAGS_ENABLE);
    g_assert_cmpuint(simhost_calls(sh, SIMHOST_K_VFIO_SET_IRQS), >=, 1);
    qtest_writel(sh->qts, MSI_ADDR, 0);

    g_assert_cmphex(simhost_dma_fill(sh, 0, BUF_A, 64, 1, true), ==,
                    SIMHOST_STATUS_OK);
    g_assert_cmpuint(simhost_dma_readq(sh, 0, SIMHOST_R_MSI_SENT), ==, 1);
    /* QEMU's main loop picks up the eventfd and writes the message */
    for (tries = 0; tries < 1000; tries++) {
        if (qtest_readl(sh->qts, MSI_ADDR) == 0x1234) {
            break;
        }
        g_usleep(1000);
    }
    g_assert_cmphex(qtest_readl(sh->qts, MSI_ADDR), ==, 0x1234);
    simhost_qtest_quit(sh);
    simhost_free(sh);
}

/*
 * Hot-plug into a root port with the host failing the Nth ioctl of a kind:
 * device_add fails cleanly, QEMU stays up, nothing leaks; a second device
 * then plugs fine.
 */
static void hotplug_failure(SimhostKind kind, unsigned nth, int err)
{
    SimhostOpts o = SIMHOST_OPTS_DEFAULT;
    Simhost *sh;
    QDict *resp;
    unsigned live;
    g_autofree char *fd = NULL;

    if (skip_without_lib()) {
        return;
    }
    o.num_devs = 2;
    o.cold_plug_mask = 0;
    sh = simhost_new(&o);
    simhost_qtest_start(sh, "-device pcie-root-port,id=rp0,chassis=1 "
                            "-device pcie-root-port,id=rp1,chassis=2");
    live = simhost_live_objects(sh);
    simhost_inject(sh, kind, nth, err);
    fd = g_strdup_printf("%d", sh->dev_fd[0]);
    resp = qtest_qmp(sh->qts, "{'execute': 'device_add', 'arguments': "
                     "{'driver': 'vfio-pci', 'id': 'simhost-dev0', "
                     "'fd': %s, 'iommufd': 'simhost-iommufd', "
                     "'bus': 'rp0'}}", fd);
    g_assert_true(qdict_haskey(resp, "error"));
    qobject_unref(resp);
    g_assert_cmpuint(simhost_inject_fired(sh, kind), ==, 1);
    g_assert_cmpuint(simhost_live_objects(sh), ==, live);
    g_assert_cmpuint(sh->ctl->dev_bound[0], ==, 0);

    simhost_device_add(sh, 1, "{'bus': 'rp1'}");
    g_assert_cmpuint(sh->ctl->dev_bound[1], ==, 1);
    g_assert_cmpuint(simhost_attached(sh, 1, NULL, NULL), !=, 0);
    simhost_qtest_quit(sh);
    g_assert_cmpuint(simhost_leaks(sh), ==, 0);
    simhost_free(sh);
}

static void test_hotplug_fail_hwpt_alloc(void)
{
    hotplug_failure(SIMHOST_K_HWPT_ALLOC, 1, ENOMEM);
}

static void test_hotplug_fail_attach(void)
{
    hotplug_failure(SIMHOST_K_VFIO_ATTACH, 1, EBUSY);
}

static void test_hotplug_fail_ioas_map(void)
{
    hotplug_failure(SIMHOST_K_IOAS_MAP, 1, ENOMEM);
}

static void test_hotplug_fail_bind(void)
{
    hotplug_failure(SIMHOST_K_VFIO_BIND, 1, EBUSY);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    qtest_add_func("/vsmmu-vfio/realize", test_realize);
    qtest_add_func("/vsmmu-vfio/dma-copy-s1-bypass", test_dma_copy_bypass);
    qtest_add_func("/vsmmu-vfio/vsmmu-qtest-lib-compat", test_vsmmu_lib_compat);
    qtest_add_func("/vsmmu-vfio/msi", test_msi);
    qtest_add_func("/vsmmu-vfio/hotplug/fail-bind", test_hotplug_fail_bind);
    qtest_add_func("/vsmmu-vfio/hotplug/fail-hwpt-alloc",
                   test_hotplug_fail_hwpt_alloc);
    qtest_add_func("/vsmmu-vfio/hotplug/fail-attach", test_hotplug_fail_attach);
    qtest_add_func("/vsmmu-vfio/hotplug/fail-ioas-map",
                   test_hotplug_fail_ioas_map);
    return g_test_run();
}
