/*
 * vsmmu libFuzzer targets: the simulated host of vsmmu-accel (tests/simhost,
 * preloaded into this very process), its set-up and the operation that
 * injects host failures and raises host events
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include <sys/mman.h>
#include <sys/eventfd.h>

#include "qemu/atomic.h"
#include "tests/qtest/fuzz/fuzz.h"
#include "../simhost/simhost-ctl.h"
#include "vsmmu-fuzz.h"

/* The simulated host's descriptors and control block */
#define ENV_SIMHOST "VSMMU_FUZZ_SIMHOST"
static SimhostCtl *sh_ctl;
static int sh_fd_ctl = -1, sh_fd_iommufd = -1, sh_fd_vfio = -1;
static int sh_fd_kick = -1;

static int sh_mailbox(uint32_t op, const uint64_t *args, unsigned nargs)
{
    uint32_t seq = sh_ctl->req_seq + 1;
    uint64_t one = 1;

    sh_ctl->req_op = op;
    memcpy(sh_ctl->req_arg, args, nargs * sizeof(uint64_t));
    qatomic_store_release(&sh_ctl->req_seq, seq);
    if (write(sh_fd_kick, &one, sizeof(one)) != sizeof(one)) {
        return -EIO;
    }
    for (int i = 0; i < 2000; i++) {
        if (qatomic_load_acquire(&sh_ctl->ack_seq) == seq) {
            return sh_ctl->req_result;
        }
        g_usleep(50);
    }
    fprintf(stderr, "vsmmu-fuzz: the simulated host did not answer\n");
    abort();
}

/*
 * what % 4:
 *   0: fail the nth next call of a kind: u8 kind, u8 nth, u8 errno
 *   1: the host SMMU reports a raw event for the device: u64 evt[4]
 *   2: event allocation failures (LOST_EVENTS) / flood: u8 fail, u8 flood
 *   3: every injection cleared
 */
void vsmmu_fuzz_host_op(QTestState *s, Rd *r)
{
    static const int errnos[] = {
        EINVAL, ENOMEM, EBUSY, EIO, EOPNOTSUPP, ENODEV, ETIMEDOUT, EFAULT,
        E2BIG, EPERM, EADDRINUSE, ENOSPC, EAGAIN, EOVERFLOW, ENOENT, EEXIST,
    };
    unsigned what = rd(r, 1);

    if (!sh_ctl) {
        return;         /* not vsmmu-accel */
    }
    switch (what % 4) {
    case 0: {
        unsigned kind = rd(r, 1) % SIMHOST_K__MAX;
        unsigned nth = rd(r, 1) % 8;
        int err = errnos[rd(r, 1) % ARRAY_SIZE(errnos)];

        for (int i = 0; i < SIMHOST_MAX_INJECT; i++) {
            SimhostInject *j = &sh_ctl->inject[i];

            if (!qatomic_read(&j->count)) {
                j->kind = kind;
                j->skip = nth;
                j->err = err;
                j->fired = 0;
                qatomic_set(&j->count, 1);
                break;
            }
        }
        break;
    }
    case 1: {
        uint64_t a[5] = { 0, rd(r, 8), rd(r, 8), rd(r, 8), rd(r, 8) };

        sh_mailbox(SIMHOST_REQ_HOST_EVENT, a, 5);
        /* the vEVENTQ is read by the main loop */
        flush_events(s);
        break;
    }
    case 2:
        qatomic_set(&sh_ctl->event_alloc_fail, rd(r, 1) % 4);
        qatomic_set(&sh_ctl->event_flood, 1 + rd(r, 1) % 4);
        break;
    default:
        for (int i = 0; i < SIMHOST_MAX_INJECT; i++) {
            qatomic_set(&sh_ctl->inject[i].count, 0);
        }
        break;
    }
}

/*
 * OPX_HOST_CMDQV (vsmmu-cmdqv-accel; elsewhere the host refuses it): what
 * % 2 = 0, the host CMDQV flags the guest's LVCMDQ lvcmdq % 4 in error (a
 * TEGRA241_CMDQV vEVENT; the guest has 2, the others are not its own);
 * 1, the host's queue consumers run now (they also run by themselves)
 */
void vsmmu_fuzz_host_cmdqv_op(QTestState *s, Rd *r)
{
    unsigned what = rd(r, 1);
    uint64_t a[3] = { 0, 0, rd(r, 1) % 4 };

    if (!sh_ctl) {
        return;         /* not against the simulated host */
    }
    if (what % 2 == 0) {
        sh_mailbox(SIMHOST_REQ_CMDQV_ERROR, a, 3);
    } else {
        sh_mailbox(SIMHOST_REQ_VCMDQ_POLL, a, 0);
    }
    /* the vEVENTQ and the error map are read by the main loop */
    flush_events(s);
}

void vsmmu_fuzz_host_reset(void)
{
    if (!sh_ctl) {
        return;
    }
    for (int i = 0; i < SIMHOST_MAX_INJECT; i++) {
        qatomic_set(&sh_ctl->inject[i].count, 0);
    }
    qatomic_set(&sh_ctl->event_alloc_fail, 0);
    qatomic_set(&sh_ctl->event_flood, 0);
}

static int sh_memfd(const char *name, size_t size)
{
    int fd = memfd_create(name, 0);

    if (fd < 0 || (size && ftruncate(fd, size) < 0)) {
        perror("vsmmu-fuzz: memfd");
        exit(1);
    }
    return fd;
}

static char *simhost_lib(void)
{
    const char *env = getenv("SIMHOST_LIB");
    g_autofree char *exe = g_file_read_link("/proc/self/exe", NULL);
    g_autofree char *dir = exe ? g_path_get_dirname(exe) : NULL;

    if (env) {
        return g_strdup(env);
    }
    return dir ? g_build_filename(dir, "..", "simhost", "libsimhost.so",
                                  NULL) : NULL;
}

/*
 * The simulated host answers /dev/iommu and the VFIO cdev from inside this
 * process, so it must be preloaded before the process starts, and the
 * descriptors it recognises (memfds with its names) must exist when it
 * initialises. So: create them, then exec this binary again with
 * LD_PRELOAD, the same arguments, and the descriptors named in the
 * environment together with our pid (libFuzzer's child processes inherit
 * the environment but must make their own host).
 */
void vsmmu_fuzz_host_setup(bool cmdqv, int *fd_iommufd, int *fd_vfio)
{
    const char *env = getenv(ENV_SIMHOST);
    g_autofree char *lib = NULL;
    g_autofree char *val = NULL;
    g_autofree char *cmdline = NULL;
    g_autofree char *preload = NULL;
    g_autoptr(GPtrArray) argv = NULL;
    size_t len;
    int pid;

    if (env && sscanf(env, "%d,%d,%d,%d,%d", &pid, &sh_fd_ctl,
                      &sh_fd_iommufd, &sh_fd_vfio, &sh_fd_kick) == 5) {
        if (pid == getpid()) {
            /* after the exec: ours; children must not inherit them */
            sh_ctl = mmap(NULL, sizeof(*sh_ctl), PROT_READ | PROT_WRITE,
                          MAP_SHARED, sh_fd_ctl, 0);
            g_assert(sh_ctl != MAP_FAILED);
            fcntl(sh_fd_ctl, F_SETFD, FD_CLOEXEC);
            fcntl(sh_fd_iommufd, F_SETFD, FD_CLOEXEC);
            fcntl(sh_fd_vfio, F_SETFD, FD_CLOEXEC);
            fcntl(sh_fd_kick, F_SETFD, FD_CLOEXEC);
            *fd_iommufd = sh_fd_iommufd;
            *fd_vfio = sh_fd_vfio;
            return;
        }
    }

    lib = simhost_lib();
    if (!lib || access(lib, R_OK)) {
        fprintf(stderr, "vsmmu-fuzz: vsmmu-accel needs the simulated host "
                "library (libsimhost.so, $SIMHOST_LIB), not found: %s\n",
                lib ? lib : "?");
        exit(1);
    }

    sh_fd_ctl = sh_memfd(SIMHOST_FD_CTL, sizeof(SimhostCtl));
    sh_ctl = mmap(NULL, sizeof(*sh_ctl), PROT_READ | PROT_WRITE, MAP_SHARED,
                  sh_fd_ctl, 0);
    g_assert(sh_ctl != MAP_FAILED);
    sh_ctl->magic = SIMHOST_CTL_MAGIC;
    sh_ctl->version = SIMHOST_CTL_VERSION;
    sh_ctl->size = sizeof(*sh_ctl);
    sh_ctl->num_smmus = 1;
    sh_ctl->num_devs = 1;
    simhost_profile_fill(&sh_ctl->smmu[0], cmdqv ?
                         SIMHOST_PROFILE_SMMUV3_CMDQV :
                         SIMHOST_PROFILE_SMMUV3);
    sh_ctl->dev[0].smmu = 0;
    sh_ctl->dev[0].sid = 0x100;
    sh_ctl->dev[0].num_streams = 1;
    sh_fd_iommufd = sh_memfd(SIMHOST_FD_IOMMUFD, 0);
    sh_fd_vfio = sh_memfd(SIMHOST_FD_VFIO "0", 0);
    sh_fd_kick = eventfd(0, 0);
    g_assert(sh_fd_kick >= 0);

    val = g_strdup_printf("%d,%d,%d,%d,%d", getpid(), sh_fd_ctl,
                          sh_fd_iommufd, sh_fd_vfio, sh_fd_kick);
    g_setenv(ENV_SIMHOST, val, true);
    g_free(val);
    val = g_strdup_printf("%d", sh_fd_kick);
    g_setenv(SIMHOST_KICK_ENV, val, true);
    env = getenv("LD_PRELOAD");
    preload = env && !strstr(env, lib) ? g_strdup_printf("%s:%s", lib, env)
                                        : g_strdup(lib);
    g_setenv("LD_PRELOAD", preload, true);

    if (!g_file_get_contents("/proc/self/cmdline", &cmdline, &len, NULL)) {
        exit(1);
    }
    argv = g_ptr_array_new();
    for (size_t i = 0; i < len; i += strlen(cmdline + i) + 1) {
        g_ptr_array_add(argv, cmdline + i);
    }
    g_ptr_array_add(argv, NULL);
    execv("/proc/self/exe", (char **)argv->pdata);
    perror("vsmmu-fuzz: exec");
    exit(1);
}
