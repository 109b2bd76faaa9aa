/*
 * qtest side of the simulated Arm host: see simhost-qtest.h.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include <sys/mman.h>
#include <sys/eventfd.h>
#include "qobject/qdict.h"
#include "qobject/qjson.h"
#include "qapi/error.h"
#include "standard-headers/linux/pci_regs.h"
#include "simhost-qtest.h"
#include "vsmmu-qtest-lib.h"

static const char *const kind_names[SIMHOST_K__MAX] = {
    [SIMHOST_K_DESTROY] = "DESTROY",
    [SIMHOST_K_IOAS_ALLOC] = "IOAS_ALLOC",
    [SIMHOST_K_IOAS_ALLOW_IOVAS] = "IOAS_ALLOW_IOVAS",
    [SIMHOST_K_IOAS_COPY] = "IOAS_COPY",
    [SIMHOST_K_IOAS_IOVA_RANGES] = "IOAS_IOVA_RANGES",
    [SIMHOST_K_IOAS_MAP] = "IOAS_MAP",
    [SIMHOST_K_IOAS_UNMAP] = "IOAS_UNMAP",
    [SIMHOST_K_OPTION] = "OPTION",
    [SIMHOST_K_VFIO_IOAS] = "VFIO_IOAS",
    [SIMHOST_K_HWPT_ALLOC] = "HWPT_ALLOC",
    [SIMHOST_K_GET_HW_INFO] = "GET_HW_INFO",
    [SIMHOST_K_HWPT_SET_DIRTY] = "HWPT_SET_DIRTY_TRACKING",
    [SIMHOST_K_HWPT_GET_DIRTY] = "HWPT_GET_DIRTY_BITMAP",
    [SIMHOST_K_HWPT_INVALIDATE] = "HWPT_INVALIDATE",
    [SIMHOST_K_FAULT_QUEUE_ALLOC] = "FAULT_QUEUE_ALLOC",
    [SIMHOST_K_IOAS_MAP_FILE] = "IOAS_MAP_FILE",
    [SIMHOST_K_VIOMMU_ALLOC] = "VIOMMU_ALLOC",
    [SIMHOST_K_VDEVICE_ALLOC] = "VDEVICE_ALLOC",
    [SIMHOST_K_IOAS_CHANGE_PROCESS] = "IOAS_CHANGE_PROCESS",
    [SIMHOST_K_VEVENTQ_ALLOC] = "VEVENTQ_ALLOC",
    [SIMHOST_K_HW_QUEUE_ALLOC] = "HW_QUEUE_ALLOC",
    [SIMHOST_K_VFIO_GET_INFO] = "VFIO_DEVICE_GET_INFO",
    [SIMHOST_K_VFIO_REGION_INFO] = "VFIO_DEVICE_GET_REGION_INFO",
    [SIMHOST_K_VFIO_IRQ_INFO] = "VFIO_DEVICE_GET_IRQ_INFO",
    [SIMHOST_K_VFIO_SET_IRQS] = "VFIO_DEVICE_SET_IRQS",
    [SIMHOST_K_VFIO_RESET] = "VFIO_DEVICE_RESET",
    [SIMHOST_K_VFIO_HOT_RESET_INFO] = "VFIO_DEVICE_GET_PCI_HOT_RESET_INFO",
    [SIMHOST_K_VFIO_HOT_RESET] = "VFIO_DEVICE_PCI_HOT_RESET",
    [SIMHOST_K_VFIO_FEATURE] = "VFIO_DEVICE_FEATURE",
    [SIMHOST_K_VFIO_BIND] = "VFIO_DEVICE_BIND_IOMMUFD",
    [SIMHOST_K_VFIO_ATTACH] = "VFIO_DEVICE_ATTACH_IOMMUFD_PT",
    [SIMHOST_K_VFIO_DETACH] = "VFIO_DEVICE_DETACH_IOMMUFD_PT",
    [SIMHOST_K_MMAP] = "mmap",
    [SIMHOST_K_VEVENTQ_READ] = "vEVENTQ read",
    [SIMHOST_K_CONFIG_READ] = "config read",
    [SIMHOST_K_CONFIG_WRITE] = "config write",
    [SIMHOST_K_BAR_READ] = "BAR read",
    [SIMHOST_K_BAR_WRITE] = "BAR write",
    [SIMHOST_K_UNKNOWN_IOCTL] = "unknown ioctl",
    [SIMHOST_K_INVAL_SYNC] = "invalidation CMD_SYNC",
};

const char *simhost_kind_name(SimhostKind kind)
{
    return kind < SIMHOST_K__MAX ? kind_names[kind] : "?";
}

/* ---------------------------------------------------------------------- */
/* Set-up                                                                  */
/* ---------------------------------------------------------------------- */

const char *simhost_lib_path(void)
{
    static char *path;
    const char *env = getenv("SIMHOST_LIB");
    const char *qemu;

    if (env) {
        return access(env, R_OK) == 0 ? env : NULL;
    }
    if (!path) {
        qemu = getenv("QTEST_QEMU_BINARY");
        if (!qemu) {
            return NULL;
        }
        g_autofree char *dir = g_path_get_dirname(qemu);
        path = g_build_filename(dir, "..", "simhost", "libsimhost.so", NULL);
    }
    return access(path, R_OK) == 0 ? path : NULL;
}

bool simhost_available(void)
{
    return simhost_lib_path() != NULL;
}

bool simhost_require(void)
{
    if (!simhost_available()) {
        vsmmu_qtest_skip("the simulated host library (libsimhost.so) is not "
                         "built");
        return false;
    }
    return true;
}

static int memfd_named(const char *name, size_t size)
{
    int fd = memfd_create(name, 0);     /* inherited by QEMU */

    g_assert_cmpint(fd, >=, 0);
    if (size) {
        g_assert_cmpint(ftruncate(fd, size), ==, 0);
    }
    return fd;
}

Simhost *simhost_new(const SimhostOpts *opts)
{
    SimhostOpts def = SIMHOST_OPTS_DEFAULT;
    Simhost *sh = g_new0(Simhost, 1);
    SimhostCtl *c;

    if (!opts) {
        opts = &def;
    }
    g_assert_cmpuint(opts->num_smmus, >=, 1);
    g_assert_cmpuint(opts->num_smmus, <=, SIMHOST_MAX_SMMUS);
    g_assert_cmpuint(opts->num_devs, <=, SIMHOST_MAX_DEVS);

    sh->ctl_fd = memfd_named(SIMHOST_FD_CTL, sizeof(SimhostCtl));
    c = mmap(NULL, sizeof(*c), PROT_READ | PROT_WRITE, MAP_SHARED, sh->ctl_fd,
             0);
    g_assert(c != MAP_FAILED);
    sh->ctl = c;
    c->magic = SIMHOST_CTL_MAGIC;
    c->version = SIMHOST_CTL_VERSION;
    c->size = sizeof(*c);
    c->num_smmus = opts->num_smmus;
    c->num_devs = opts->num_devs;
    for (unsigned i = 0; i < opts->num_smmus; i++) {
        simhost_profile_fill(&c->smmu[i], opts->profile[i]);
    }
    sh->num_devs = opts->num_devs;
    sh->iommufd_fd = memfd_named(SIMHOST_FD_IOMMUFD, 0);
    for (unsigned n = 0; n < opts->num_devs; n++) {
        g_autofree char *name = g_strdup_printf(SIMHOST_FD_VFIO "%u", n);

        g_assert_cmpuint(opts->dev_smmu[n], <, opts->num_smmus);
        c->dev[n].smmu = opts->dev_smmu[n];
        c->dev[n].sid = opts->dev_sid[n] ? opts->dev_sid[n] : 0x100 + n;
        c->dev[n].ats = opts->dev_ats[n];
        c->dev[n].num_streams = 1;
        sh->dev_fd[n] = memfd_named(name, 0);
    }
    sh->kick_fd = eventfd(0, 0);
    g_assert_cmpint(sh->kick_fd, >=, 0);
    /* remember the cmdline properties for simhost_qtest_start() */
    for (unsigned n = 0; n < opts->num_devs; n++) {
        sh->plugged[n] = opts->cold_plug_mask & (1u << n);
    }
    sh->dev_props = g_new0(char *, SIMHOST_MAX_DEVS);
    for (unsigned n = 0; n < opts->num_devs; n++) {
        sh->dev_props[n] = g_strdup(opts->dev_props[n]);
    }
    return sh;
}

QTestState *simhost_qtest_start(Simhost *sh, const char *extra_args)
{
    const char *lib = simhost_lib_path();
    g_autoptr(GString) args = g_string_new("-M virt -cpu max -nodefaults "
                                           "-m 512M ");
    g_autofree char *kick = g_strdup_printf("%d", sh->kick_fd);

    g_assert_nonnull(lib);
    g_string_append_printf(args, "-object iommufd,id=simhost-iommufd,fd=%d ",
                           sh->iommufd_fd);
    /*
     * The caller's devices first: an IOMMU (vsmmu) or a root port must
     * exist before the devices behind it are realized.
     */
    g_string_append(args, extra_args ? extra_args : "");
    g_string_append_c(args, ' ');
    for (unsigned n = 0; n < sh->num_devs; n++) {
        if (!sh->plugged[n]) {
            continue;
        }
        g_string_append_printf(args, "-device vfio-pci,id=simhost-dev%u,"
                               "fd=%d,iommufd=simhost-iommufd%s%s ", n,
                               sh->dev_fd[n], sh->dev_props[n] ? "," : "",
                               sh->dev_props[n] ? sh->dev_props[n] : "");
    }

    g_setenv("LD_PRELOAD", lib, true);
    g_setenv(SIMHOST_KICK_ENV, kick, true);
    sh->qts = qtest_init(args->str);
    g_unsetenv("LD_PRELOAD");
    g_unsetenv(SIMHOST_KICK_ENV);
    return sh->qts;
}

void simhost_device_add(Simhost *sh, unsigned n, const char *props)
{
    g_autofree char *id = g_strdup_printf("simhost-dev%u", n);
    g_autofree char *fd = g_strdup_printf("%d", sh->dev_fd[n]);
    QDict *args = props ? qobject_to(QDict, qobject_from_json(props,
                                                              &error_abort))
                        : qdict_new();

    g_assert_cmpuint(n, <, sh->num_devs);
    g_assert_nonnull(args);
    qdict_put_str(args, "id", id);
    qdict_put_str(args, "fd", fd);
    qdict_put_str(args, "iommufd", "simhost-iommufd");
    qtest_qmp_device_add_qdict(sh->qts, "vfio-pci", args);
    qobject_unref(args);
    sh->plugged[n] = true;
}

void simhost_qtest_quit(Simhost *sh)
{
    if (sh->qts) {
        qtest_quit(sh->qts);
        sh->qts = NULL;
    }
    for (unsigned n = 0; n < SIMHOST_MAX_DEVS; n++) {
        g_free(sh->pdev[n]);
        sh->pdev[n] = NULL;
    }
    if (sh->alloc_ready) {
        alloc_destroy(&sh->alloc);
        sh->alloc_ready = false;
    }
}

void simhost_free(Simhost *sh)
{
    if (!sh) {
        return;
    }
    simhost_qtest_quit(sh);
    for (unsigned n = 0; n < sh->num_devs; n++) {
        close(sh->dev_fd[n]);
        g_free(sh->dev_props[n]);
    }
    g_free(sh->dev_props);
    close(sh->iommufd_fd);
    close(sh->kick_fd);
    munmap(sh->ctl, sizeof(*sh->ctl));
    close(sh->ctl_fd);
    g_free(sh);
}

/* ---------------------------------------------------------------------- */
/* Counters and injection                                                  */
/* ---------------------------------------------------------------------- */

uint64_t simhost_calls(Simhost *sh, SimhostKind kind)
{
    return qatomic_read(&sh->ctl->calls[kind]);
}

uint64_t simhost_fails(Simhost *sh, SimhostKind kind)
{
    return qatomic_read(&sh->ctl->fails[kind]);
}

unsigned simhost_live_objects(Simhost *sh)
{
    return qatomic_read(&sh->ctl->live_objects);
}

unsigned simhost_leaks(Simhost *sh)
{
    g_assert_null(sh->qts);
    g_assert_cmpuint(qatomic_read(&sh->ctl->exited), ==, 1);
    for (unsigned i = 0; i < sh->ctl->leak_count_logged; i++) {
        g_test_message("simhost: leaked object id %u type %u",
                       sh->ctl->leak[i].id, sh->ctl->leak[i].type);
    }
    return sh->ctl->leaked_at_exit;
}

uint32_t simhost_attached(Simhost *sh, unsigned n, unsigned *kind,
                          uint64_t ste[2])
{
    if (kind) {
        *kind = sh->ctl->dev_attach_kind[n];
    }
    if (ste) {
        ste[0] = sh->ctl->dev_ste[n][0];
        ste[1] = sh->ctl->dev_ste[n][1];
    }
    return sh->ctl->dev_attached[n];
}

void simhost_inject(Simhost *sh, SimhostKind kind, unsigned nth, int err)
{
    g_assert_cmpuint(nth, >=, 1);
    for (int i = 0; i < SIMHOST_MAX_INJECT; i++) {
        SimhostInject *j = &sh->ctl->inject[i];

        if (!qatomic_read(&j->count)) {
            j->kind = kind;
            j->skip = nth - 1;
            j->err = err;
            j->fired = 0;
            qatomic_set(&j->count, 1);
            return;
        }
    }
    g_assert_not_reached();
}

void simhost_inject_n(Simhost *sh, SimhostKind kind, unsigned skip,
                      unsigned count, int err)
{
    g_assert_cmpuint(count, >=, 1);
    for (int i = 0; i < SIMHOST_MAX_INJECT; i++) {
        SimhostInject *j = &sh->ctl->inject[i];

        if (!qatomic_read(&j->count)) {
            j->kind = kind;
            j->skip = skip;
            j->err = err;
            j->fired = 0;
            qatomic_set(&j->count, count);
            return;
        }
    }
    g_assert_not_reached();
}

void simhost_inject_clear(Simhost *sh)
{
    for (int i = 0; i < SIMHOST_MAX_INJECT; i++) {
        qatomic_set(&sh->ctl->inject[i].count, 0);
    }
}

unsigned simhost_inject_fired(Simhost *sh, SimhostKind kind)
{
    unsigned n = 0;

    for (int i = 0; i < SIMHOST_MAX_INJECT; i++) {
        if (sh->ctl->inject[i].kind == (uint32_t)kind) {
            n += qatomic_read(&sh->ctl->inject[i].fired);
        }
    }
    return n;
}

void simhost_event_alloc_fail(Simhost *sh, unsigned n)
{
    qatomic_set(&sh->ctl->event_alloc_fail, n);
}

void simhost_event_flood(Simhost *sh, unsigned n)
{
    qatomic_set(&sh->ctl->event_flood, n);
}

static int mailbox(Simhost *sh, uint32_t op, const uint64_t *args,
                   unsigned nargs)
{
    SimhostCtl *c = sh->ctl;
    uint32_t seq = c->req_seq + 1;
    uint64_t one = 1;

    c->req_op = op;
    if (nargs) {
        /* (simhost_vcmdq_poll passes none: memcpy from NULL is undefined) */
        memcpy(c->req_arg, args, nargs * sizeof(uint64_t));
    }
    qatomic_store_release(&c->req_seq, seq);
    g_assert_cmpint(write(sh->kick_fd, &one, sizeof(one)), ==, sizeof(one));
    for (int i = 0; i < 5000; i++) {
        if (qatomic_load_acquire(&c->ack_seq) == seq) {
            return c->req_result;
        }
        g_usleep(1000);
    }
    g_assert_not_reached();
}

int simhost_host_event(Simhost *sh, unsigned n, const uint64_t evt[4])
{
    uint64_t a[5] = { n, evt[0], evt[1], evt[2], evt[3] };

    return mailbox(sh, SIMHOST_REQ_HOST_EVENT, a, 5);
}

int simhost_cmdqv_error(Simhost *sh, uint32_t viommu_id, unsigned lvcmdq)
{
    uint64_t a[3] = { viommu_id, 0, lvcmdq };

    return mailbox(sh, SIMHOST_REQ_CMDQV_ERROR, a, 3);
}

int simhost_vcmdq_poll(Simhost *sh)
{
    return mailbox(sh, SIMHOST_REQ_VCMDQ_POLL, NULL, 0);
}

/* ---------------------------------------------------------------------- */
/* Guest side                                                              */
/* ---------------------------------------------------------------------- */

static void found(QPCIDevice *dev, int devfn, void *data)
{
    Simhost *sh = data;
    unsigned n;

    if (qpci_config_readw(dev, PCI_SUBSYSTEM_VENDOR_ID) != SIMHOST_PCI_SUBSYS) {
        g_free(dev);
        return;
    }
    n = qpci_config_readw(dev, PCI_SUBSYSTEM_ID);
    g_assert_cmpuint(n, <, SIMHOST_MAX_DEVS);
    g_free(sh->pdev[n]);
    sh->pdev[n] = dev;
}

void simhost_pci_init(Simhost *sh)
{
    if (!sh->alloc_ready) {
        alloc_init(&sh->alloc, 0, 0x40000000, 0x48000000, 4096);
        sh->alloc_ready = true;
    }
    qpci_init_generic(&sh->pcibus, sh->qts, &sh->alloc, false);
    qpci_device_foreach(&sh->pcibus.bus, SIMHOST_PCI_VENDOR,
                        SIMHOST_PCI_DEVICE, found, sh);
    for (unsigned n = 0; n < SIMHOST_MAX_DEVS; n++) {
        if (sh->pdev[n]) {
            qpci_device_enable(sh->pdev[n]);
            sh->bar[n] = qpci_iomap(sh->pdev[n], 0, NULL);
        }
    }
}

uint64_t simhost_dma_readq(Simhost *sh, unsigned n, uint64_t reg)
{
    g_assert_nonnull(sh->pdev[n]);
    return qpci_io_readq(sh->pdev[n], sh->bar[n], reg);
}

void simhost_dma_writeq(Simhost *sh, unsigned n, uint64_t reg, uint64_t val)
{
    g_assert_nonnull(sh->pdev[n]);
    qpci_io_writeq(sh->pdev[n], sh->bar[n], reg, val);
}

uint64_t simhost_dma_copy(Simhost *sh, unsigned n, uint64_t src, uint64_t dst,
                          uint64_t len, bool msi)
{
    simhost_dma_writeq(sh, n, SIMHOST_R_SRC, src);
    simhost_dma_writeq(sh, n, SIMHOST_R_DST, dst);
    simhost_dma_writeq(sh, n, SIMHOST_R_LEN, len);
    simhost_dma_writeq(sh, n, SIMHOST_R_CMD,
                       SIMHOST_CMD_COPY | (msi ? SIMHOST_CMD_MSI : 0));
    return simhost_dma_readq(sh, n, SIMHOST_R_STATUS);
}

uint64_t simhost_dma_fill(Simhost *sh, unsigned n, uint64_t dst, uint64_t len,
                          uint8_t pattern, bool msi)
{
    simhost_dma_writeq(sh, n, SIMHOST_R_DST, dst);
    simhost_dma_writeq(sh, n, SIMHOST_R_LEN, len);
    simhost_dma_writeq(sh, n, SIMHOST_R_PATTERN, pattern);
    simhost_dma_writeq(sh, n, SIMHOST_R_CMD,
                       SIMHOST_CMD_FILL | (msi ? SIMHOST_CMD_MSI : 0));
    return simhost_dma_readq(sh, n, SIMHOST_R_STATUS);
}
