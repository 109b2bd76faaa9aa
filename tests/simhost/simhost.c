/*
 * simhost: LD_PRELOAD entry points. Recognises the simulated host's
 * descriptors and routes ioctl/read/pread/pwrite/mmap/munmap/close on them
 * to the models; every other descriptor goes to libc untouched.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include "simhost-int.h"

pthread_mutex_t sh_lock = PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP;
SimhostCtl *sh_ctl;
ShDev sh_dev[SIMHOST_MAX_DEVS];
ShSmmu sh_smmu[SIMHOST_MAX_SMMUS];
ShCtx sh_ctx[SH_MAX_CTX];

static int (*real_ioctl)(int, unsigned long, ...);
static ssize_t (*real_read)(int, void *, size_t);
static ssize_t (*real_write)(int, const void *, size_t);
static ssize_t (*real_pread)(int, void *, size_t, off_t);
static ssize_t (*real_pwrite)(int, const void *, size_t, off_t);
static ssize_t (*real_pread64)(int, void *, size_t, off64_t);
static ssize_t (*real_pwrite64)(int, const void *, size_t, off64_t);
static void *(*real_mmap)(void *, size_t, int, int, int, off_t);
static void *(*real_mmap64)(void *, size_t, int, int, int, off64_t);
static int (*real_munmap)(void *, size_t);
static int (*real_close)(int);

static pthread_once_t sh_once = PTHREAD_ONCE_INIT;
static bool sh_debug;
static SimhostCtl sh_private_ctl;
static int sh_kick_fd = -1;
static int sh_wake_fd = -1;
static bool sh_active;          /* one of our descriptors was used */

/* Descriptor cache: what fd N is */
enum { FD_UNKNOWN = 0, FD_OTHER, FD_IOMMUFD, FD_VFIO, FD_VEVENTQ };
#define SH_FD_CACHE 4096
static struct {
    int kind;
    int dev;
    ShCtx *ctx;
    ShObj *q;
} sh_fd[SH_FD_CACHE];

void sh_log(const char *fmt, ...)
{
    va_list ap;

    if (!sh_debug) {
        return;
    }
    va_start(ap, fmt);
    fprintf(stderr, "simhost: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
}

ssize_t sh_real_read(int fd, void *buf, size_t n)
{
    return real_read(fd, buf, n);
}

ssize_t sh_real_write(int fd, const void *buf, size_t n)
{
    return real_write(fd, buf, n);
}

static void *sym(const char *name)
{
    void *p = dlsym(RTLD_NEXT, name);

    if (!p) {
        fprintf(stderr, "simhost: no %s in libc\n", name);
        abort();
    }
    return p;
}

/* ---------------------------------------------------------------------- */
/* The "hardware" thread: mailbox requests and VCMDQ consumers             */
/* ---------------------------------------------------------------------- */

static void sh_mailbox(void)
{
    uint32_t seq = __atomic_load_n(&sh_ctl->req_seq, __ATOMIC_ACQUIRE);
    int rc = -EINVAL;

    if (seq == sh_ctl->ack_seq) {
        return;
    }
    switch (sh_ctl->req_op) {
    case SIMHOST_REQ_HOST_EVENT: {
        uint64_t evt[4];

        memcpy(evt, &sh_ctl->req_arg[1], sizeof(evt));
        rc = sh_host_event((int)sh_ctl->req_arg[0], evt);
        break;
    }
    case SIMHOST_REQ_CMDQV_ERROR: {
        ShObj *v = NULL;

        for (int c = 0; c < SH_MAX_CTX && !v; c++) {
            if (!sh_ctx[c].used) {
                continue;
            }
            for (int i = 1; i < SH_MAX_IDS; i++) {
                ShObj *o = sh_ctx[c].objs[i];

                if (o && o->type == SIMHOST_OBJ_VIOMMU && o->vintf &&
                    (!sh_ctl->req_arg[0] || o->id == sh_ctl->req_arg[0])) {
                    v = o;
                    break;
                }
            }
        }
        if (!v || sh_ctl->req_arg[2] >= 128) {
            rc = -ENOENT;
            break;
        }
        if (sh_ctl->req_arg[2] < SH_MAX_LVCMDQS &&
            v->hwq[sh_ctl->req_arg[2]]) {
            /*
             * What the hardware does before it reports: the queue's error
             * shows in its page (VCMDQ_GERROR.CMDQ_ERR toggled against
             * GERRORN), where a VMM that lost the report finds it
             */
            uint32_t *r = (uint32_t *)(v->page + 0x80 * sh_ctl->req_arg[2]);
            uint32_t gerror = __atomic_load_n(&r[4], __ATOMIC_RELAXED);
            uint32_t gerrorn = __atomic_load_n(&r[5], __ATOMIC_RELAXED);

            if (!((gerror ^ gerrorn) & 1)) {
                __atomic_store_n(&r[4], gerror ^ 1, __ATOMIC_RELEASE);
            }
        }
        v->err_map[sh_ctl->req_arg[2] / 64] |=
            1ULL << (sh_ctl->req_arg[2] % 64);
        sh_viommu_report(v, IOMMU_VEVENTQ_TYPE_TEGRA241_CMDQV, v->err_map, 16);
        rc = v->veventq[IOMMU_VEVENTQ_TYPE_TEGRA241_CMDQV] ? 0 : -EOPNOTSUPP;
        break;
    }
    case SIMHOST_REQ_VCMDQ_POLL:
        sh_vcmdq_poll_all();
        rc = 0;
        break;
    }
    sh_ctl->req_result = rc;
    __atomic_store_n(&sh_ctl->ack_seq, seq, __ATOMIC_RELEASE);
}

static bool sh_any_hwq(void)
{
    for (int c = 0; c < SH_MAX_CTX; c++) {
        if (!sh_ctx[c].used) {
            continue;
        }
        for (int i = 1; i < SH_MAX_IDS; i++) {
            if (sh_ctx[c].objs[i] &&
                sh_ctx[c].objs[i]->type == SIMHOST_OBJ_HW_QUEUE) {
                return true;
            }
        }
    }
    return false;
}

static void *sh_thread(void *opaque)
{
    for (;;) {
        struct pollfd p[2] = {
            { .fd = sh_kick_fd, .events = POLLIN },
            { .fd = sh_wake_fd, .events = POLLIN },
        };
        uint64_t v;
        bool busy;

        pthread_mutex_lock(&sh_lock);
        busy = sh_any_hwq();
        pthread_mutex_unlock(&sh_lock);
        poll(p, 2, busy ? 1 : 200);
        if (p[0].revents & POLLIN) {
            real_read(sh_kick_fd, &v, sizeof(v));
        }
        if (p[1].revents & POLLIN) {
            real_read(sh_wake_fd, &v, sizeof(v));
        }
        pthread_mutex_lock(&sh_lock);
        sh_vcmdq_poll_all();
        sh_mailbox();
        pthread_mutex_unlock(&sh_lock);
    }
    return opaque;
}

/* ---------------------------------------------------------------------- */
/* Initialisation                                                          */
/* ---------------------------------------------------------------------- */

static bool fd_name(int fd, char *buf, size_t len)
{
    char path[64];
    ssize_t n;

    snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
    n = readlink(path, buf, len - 1);
    if (n < 0) {
        return false;
    }
    buf[n] = 0;
    return true;
}

/* memfd names read back as "/memfd:NAME (deleted)" */
static const char *memfd_name(const char *link)
{
    return strncmp(link, "/memfd:", 7) ? NULL : link + 7;
}

static void sh_find_ctl(void)
{
    DIR *dir = opendir("/proc/self/fd");
    struct dirent *de;

    if (!dir) {
        return;
    }
    while ((de = readdir(dir))) {
        char link[256];
        const char *name;
        int fd = atoi(de->d_name);

        if (de->d_name[0] == '.' || !fd_name(fd, link, sizeof(link))) {
            continue;
        }
        name = memfd_name(link);
        if (name && !strncmp(name, SIMHOST_FD_CTL " ",
                             strlen(SIMHOST_FD_CTL) + 1)) {
            void *p = real_mmap(NULL, sizeof(SimhostCtl),
                                PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);

            if (p != MAP_FAILED) {
                sh_ctl = p;
            }
            break;
        }
    }
    closedir(dir);
}

static void sh_init(void)
{
    const char *kick;

    real_ioctl = sym("ioctl");
    real_read = sym("read");
    real_write = sym("write");
    real_pread = sym("pread");
    real_pwrite = sym("pwrite");
    real_pread64 = sym("pread64");
    real_pwrite64 = sym("pwrite64");
    real_mmap = sym("mmap");
    real_mmap64 = sym("mmap64");
    real_munmap = sym("munmap");
    real_close = sym("close");
    sh_debug = getenv(SIMHOST_DEBUG_ENV) && atoi(getenv(SIMHOST_DEBUG_ENV));

    /* the test may still be filling it in: the name is what counts */
    sh_find_ctl();
    if (!sh_ctl) {
        sh_ctl = &sh_private_ctl;
        sh_ctl->magic = SIMHOST_CTL_MAGIC;
        sh_ctl->num_smmus = 1;
        sh_ctl->num_devs = 1;
    }
    for (int i = 0; i < SIMHOST_MAX_DEVS; i++) {
        for (int j = 0; j < VFIO_PCI_NUM_IRQS; j++) {
            sh_dev[i].irq_efd[j] = -1;
        }
    }
    kick = getenv(SIMHOST_KICK_ENV);
    sh_kick_fd = kick ? atoi(kick) : -1;
}

static void sh_start_thread(void)
{
    static bool started;
    pthread_t th;
    pthread_attr_t a;

    if (started) {
        return;
    }
    started = true;
    sh_wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    pthread_attr_init(&a);
    pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
    pthread_create(&th, &a, sh_thread, NULL);
    pthread_attr_destroy(&a);
}

static inline void sh_ensure(void)
{
    pthread_once(&sh_once, sh_init);
}

static ShCtx *ctx_for(int fd)
{
    struct stat st;
    ShCtx *free_ctx = NULL;

    if (fstat(fd, &st) < 0) {
        return NULL;
    }
    for (int i = 0; i < SH_MAX_CTX; i++) {
        if (sh_ctx[i].used && sh_ctx[i].ino == st.st_ino) {
            return &sh_ctx[i];
        }
        if (!sh_ctx[i].used && !free_ctx) {
            free_ctx = &sh_ctx[i];
        }
    }
    if (free_ctx) {
        memset(free_ctx, 0, sizeof(*free_ctx));
        free_ctx->used = true;
        free_ctx->ino = st.st_ino;
        free_ctx->next_mmap_off = SH_PAGE;
    }
    return free_ctx;
}

/* What is fd? Called with sh_lock held. */
static int fd_kind(int fd)
{
    char link[256];
    const char *name;
    int kind = FD_OTHER;

    if (fd < 0) {
        return FD_OTHER;
    }
    if (fd < SH_FD_CACHE && sh_fd[fd].kind != FD_UNKNOWN) {
        return sh_fd[fd].kind;
    }
    name = fd_name(fd, link, sizeof(link)) ? memfd_name(link) : NULL;
    if (name) {
        size_t li = strlen(SIMHOST_FD_IOMMUFD), lv = strlen(SIMHOST_FD_VFIO);

        if (!strncmp(name, SIMHOST_FD_IOMMUFD, li) &&
            (name[li] == ' ' || name[li] == 0 || name[li] == '-')) {
            ShCtx *c = ctx_for(fd);

            if (c && fd < SH_FD_CACHE) {
                sh_fd[fd].ctx = c;
                kind = FD_IOMMUFD;
            }
        } else if (!strncmp(name, SIMHOST_FD_VFIO, lv)) {
            int n = atoi(name + lv);

            if (n >= 0 && n < SIMHOST_MAX_DEVS && fd < SH_FD_CACHE) {
                sh_fd[fd].dev = n;
                kind = FD_VFIO;
            }
        }
    }
    if (kind != FD_OTHER) {
        sh_active = true;
        if (sh_ctl != &sh_private_ctl || getenv(SIMHOST_KICK_ENV)) {
            sh_start_thread();
        }
    }
    if (fd < SH_FD_CACHE) {
        sh_fd[fd].kind = kind;
    }
    return kind;
}

void sh_register_veventq_fd(int fd, ShObj *q)
{
    if (fd >= 0 && fd < SH_FD_CACHE) {
        sh_fd[fd].kind = FD_VEVENTQ;
        sh_fd[fd].q = q;
    }
}

ShCtx *sh_ctx_of_fd(int fd)
{
    if (fd_kind(fd) != FD_IOMMUFD) {
        return NULL;
    }
    return sh_fd[fd].ctx;
}

/* ---------------------------------------------------------------------- */
/* Interposed entry points                                                 */
/* ---------------------------------------------------------------------- */

int ioctl(int fd, unsigned long req, ...)
{
    va_list ap;
    void *arg;
    int kind, rc;

    va_start(ap, req);
    arg = va_arg(ap, void *);
    va_end(ap);
    sh_ensure();

    pthread_mutex_lock(&sh_lock);
    kind = fd_kind(fd);
    if (kind == FD_IOMMUFD) {
        rc = sh_iommufd_ioctl(sh_fd[fd].ctx, req, arg);
    } else if (kind == FD_VFIO) {
        rc = sh_vfio_ioctl(sh_fd[fd].dev, req, arg);
    } else if (kind == FD_VEVENTQ) {
        rc = -ENOTTY;
    } else {
        pthread_mutex_unlock(&sh_lock);
        return real_ioctl(fd, req, arg);
    }
    pthread_mutex_unlock(&sh_lock);
    if (rc < 0) {
        errno = -rc;
        return -1;
    }
    return rc;
}

ssize_t read(int fd, void *buf, size_t n)
{
    ssize_t rc;

    sh_ensure();
    if (fd < 0 || fd >= SH_FD_CACHE ||
        __atomic_load_n(&sh_fd[fd].kind, __ATOMIC_RELAXED) != FD_VEVENTQ) {
        return real_read(fd, buf, n);
    }
    pthread_mutex_lock(&sh_lock);
    rc = sh_veventq_read(sh_fd[fd].q, buf, n);
    pthread_mutex_unlock(&sh_lock);
    if (rc < 0) {
        errno = -rc;
        return -1;
    }
    return rc;
}

static ssize_t sh_prw(int fd, void *buf, size_t n, off64_t off, bool write,
                      bool *handled)
{
    ssize_t rc;
    int kind;

    sh_ensure();
    pthread_mutex_lock(&sh_lock);
    kind = fd_kind(fd);
    *handled = kind != FD_OTHER;
    if (kind == FD_VFIO) {
        rc = sh_vfio_rw(sh_fd[fd].dev, buf, n, off, write);
    } else if (kind == FD_VEVENTQ) {
        rc = -ESPIPE;
    } else {
        rc = -EINVAL;
    }
    pthread_mutex_unlock(&sh_lock);
    if (*handled && rc < 0) {
        errno = -rc;
        return -1;
    }
    return rc;
}

ssize_t pread(int fd, void *buf, size_t n, off_t off)
{
    bool h;
    ssize_t rc = sh_prw(fd, buf, n, off, false, &h);

    return h ? rc : real_pread(fd, buf, n, off);
}

ssize_t pread64(int fd, void *buf, size_t n, off64_t off)
{
    bool h;
    ssize_t rc = sh_prw(fd, buf, n, off, false, &h);

    return h ? rc : real_pread64(fd, buf, n, off);
}

ssize_t pwrite(int fd, const void *buf, size_t n, off_t off)
{
    bool h;
    ssize_t rc = sh_prw(fd, (void *)buf, n, off, true, &h);

    return h ? rc : real_pwrite(fd, buf, n, off);
}

ssize_t pwrite64(int fd, const void *buf, size_t n, off64_t off)
{
    bool h;
    ssize_t rc = sh_prw(fd, (void *)buf, n, off, true, &h);

    return h ? rc : real_pwrite64(fd, buf, n, off);
}

static void *sh_mmap_common(void *addr, size_t len, int prot, int flags,
                            int fd, off64_t off, bool *handled)
{
    void *out = MAP_FAILED;
    int rc, kind;

    *handled = false;
    if (fd < 0) {
        return NULL;
    }
    sh_ensure();
    pthread_mutex_lock(&sh_lock);
    kind = fd_kind(fd);
    if (kind == FD_IOMMUFD) {
        *handled = true;
        rc = sh_iommufd_mmap(sh_fd[fd].ctx, addr, len, prot, flags, off,
                             &out);
        if (rc < 0) {
            errno = -rc;
            out = MAP_FAILED;
        }
    } else if (kind == FD_VFIO || kind == FD_VEVENTQ) {
        /* BARs are not mmappable (no VFIO_REGION_INFO_FLAG_MMAP) */
        *handled = true;
        errno = EINVAL;
    }
    pthread_mutex_unlock(&sh_lock);
    return out;
}

/*
 * Another mapping put over a VINTF page with MAP_FIXED replaces it: as
 * for munmap(), the kernel closes the old VMA, which drops its hold on
 * the vIOMMU
 */
static void sh_mmap_fixed_over(void *addr, size_t len, int flags)
{
    if ((flags & MAP_FIXED) && sh_active) {
        pthread_mutex_lock(&sh_lock);
        sh_iommufd_munmap(addr, len);
        pthread_mutex_unlock(&sh_lock);
    }
}

void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
    bool h;
    void *p = sh_mmap_common(addr, len, prot, flags, fd, off, &h);

    if (h) {
        return p;
    }
    p = real_mmap(addr, len, prot, flags, fd, off);
    if (p != MAP_FAILED) {
        sh_mmap_fixed_over(addr, len, flags);
    }
    return p;
}

void *mmap64(void *addr, size_t len, int prot, int flags, int fd, off64_t off)
{
    bool h;
    void *p = sh_mmap_common(addr, len, prot, flags, fd, off, &h);

    if (h) {
        return p;
    }
    p = real_mmap64(addr, len, prot, flags, fd, off);
    if (p != MAP_FAILED) {
        sh_mmap_fixed_over(addr, len, flags);
    }
    return p;
}

int munmap(void *addr, size_t len)
{
    sh_ensure();
    if (sh_active) {
        pthread_mutex_lock(&sh_lock);
        sh_iommufd_munmap(addr, len);
        pthread_mutex_unlock(&sh_lock);
    }
    return real_munmap(addr, len);
}

int close(int fd)
{
    int kind;

    sh_ensure();
    if (fd < 0 || fd >= SH_FD_CACHE) {
        return real_close(fd);
    }
    kind = __atomic_load_n(&sh_fd[fd].kind, __ATOMIC_RELAXED);
    if (kind == FD_UNKNOWN || kind == FD_OTHER) {
        sh_fd[fd].kind = FD_UNKNOWN;
        return real_close(fd);
    }
    pthread_mutex_lock(&sh_lock);
    if (kind == FD_VFIO) {
        sh_vfio_close(sh_fd[fd].dev);
    } else if (kind == FD_VEVENTQ) {
        sh_veventq_close(sh_fd[fd].q);
    }
    /* closing the iommufd does not free the context: QEMU does not own it */
    memset(&sh_fd[fd], 0, sizeof(sh_fd[fd]));
    pthread_mutex_unlock(&sh_lock);
    return real_close(fd);
}

/* For direct tests: the library's own version (proves it is preloaded) */
const char *simhost_version(void);
const char *simhost_version(void)
{
    return "simhost 1";
}

static void __attribute__((destructor)) sh_fini(void)
{
    if (!sh_active || !sh_ctl) {
        return;
    }
    pthread_mutex_lock(&sh_lock);
    sh_ctl->leaked_at_exit = sh_count_leaks(true);
    __atomic_store_n(&sh_ctl->exited, 1, __ATOMIC_RELEASE);
    pthread_mutex_unlock(&sh_lock);
}
