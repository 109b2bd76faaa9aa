/*
 * Hostile cases of the accelerated vsmmu and its Tegra241 CMDQV, against
 * the simulated host (tests/simhost): a guest that renumbers buses onto
 * another device's StreamID, toggles EVENTQEN hundreds of times, unplugs
 * the last device with the VINTF page mapped, storms CFGI_STE or VCMDQ
 * PROD; a host that reports absurd parameters, sequence gaps, truncated
 * records, bogus entry counts, or answers EBUSY. docs/security.md.
 *
 * Each case runs its own QEMU in a subprocess with a time limit
 * (vsmmu_qtest_add_isolated: a hang fails the case and kills QEMU),
 * asserts that QEMU still answers QMP and that the guest saw the
 * architected result, and ends with the simulated host's leak check.
 * QEMU's stderr goes to a file: cases where a guest can repeat a host
 * refusal check that the log stays short without -d guest_errors.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qobject/qdict.h"
#include "qemu/bswap.h"
#include "hw/pci/pci_regs.h"
#include "hw/arm/vsmmu/cmdqv-regs.h"
#include "vsmmu-accel-fixture.h"

#define CASE_TIMEOUT_S      120
/* What a rate-limited report may print in a case (burst of 5, one window) */
#define QUIET_LINES         8

/* ---- harness ------------------------------------------------------------- */

typedef struct Hostile {
    AccelFixture f;
    char *err_path;             /* QEMU's stderr */
} Hostile;

static bool hostile_begin(Hostile *h)
{
    int fd;

    memset(h, 0, sizeof(*h));
    if (!have_simhost()) {
        return false;
    }
    fd = g_file_open_tmp("vsmmu-hostile-XXXXXX.err", &h->err_path, NULL);
    g_assert_cmpint(fd, >=, 0);
    close(fd);
    return true;
}

/* QEMU with the accel vsmmu (",props" first in @extra), stderr captured */
static void hostile_start(Hostile *h, SimhostOpts *o, const char *extra,
                          const SimhostSmmuCfg *smmu0)
{
    g_autofree char *args = g_strdup_printf("%s 2>%s", extra ? extra : "",
                                            h->err_path);

    accel_start_host(&h->f, o, args, smmu0);
}

static void assert_alive(Hostile *h)
{
    QDict *resp = qtest_qmp(h->f.sh->qts, "{'execute': 'query-status'}");

    g_assert_true(qdict_haskey(resp, "return"));
    qobject_unref(resp);
}

static char *hostile_stderr(Hostile *h)
{
    char *text = NULL;

    g_assert_true(g_file_get_contents(h->err_path, &text, NULL, NULL));
    return text;
}

/* What any hot-plug or assigned device prints, whatever the case does */
static bool benign(const char *line)
{
    static const char *const known[] = {
        "Could not enable error recovery",
        "was plugged after the device tree was built",
        "Cold-plug the device, or boot the guest with ACPI",
        /* AddressSanitizer (make check-sanitize), once per process */
        "ASan doesn't fully support makecontext/swapcontext",
    };

    for (int i = 0; i < ARRAY_SIZE(known); i++) {
        if (strstr(line, known[i])) {
            return true;
        }
    }
    return false;
}

/* Lines with @needle, or (NULL) all but the benign ones */
static unsigned count_lines(const char *text, const char *needle)
{
    unsigned n = 0;
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);

    for (int i = 0; lines[i]; i++) {
        n += lines[i][0] && (needle ? !!strstr(lines[i], needle) :
                             !benign(lines[i]));
    }
    return n;
}

/* Quit QEMU, check no leak; returns QEMU's stderr */
static char *hostile_end(Hostile *h)
{
    char *text;

    accel_end(&h->f);
    text = hostile_stderr(h);
    if (text[0]) {
        g_test_message("QEMU stderr: %s", text);
    }
    unlink(h->err_path);
    g_free(h->err_path);
    return text;
}

static uint64_t qts_stat(QTestState *qts, const char *name)
{
    QDict *resp = qtest_qmp(qts, "{'execute': 'qom-get', 'arguments': "
                            "{'path': '/machine/peripheral/vsmmu0', "
                            "'property': %s}}", name);
    uint64_t v;

    g_assert_true(qdict_haskey(resp, "return"));
    v = qdict_get_int(resp, "return");
    qobject_unref(resp);
    return v;
}

static uint64_t qstat(Hostile *h, const char *name)
{
    return qts_stat(h->f.sh->qts, name);
}

/*
 * The reaper works from the main loop: wait until it has nothing left
 * (info vsmmu), then compare the host's live objects
 */
static bool wait_live(Hostile *h, unsigned want)
{
    for (int i = 0; i < 3000; i++) {
        g_autofree char *info = hmp_info(&h->f);

        if (strstr(info, "objects being destroyed 0") ||
            !strstr(info, "objects being destroyed")) {
            break;
        }
        g_usleep(1000);
    }
    if (simhost_live_objects(h->f.sh) != want) {
        g_autofree char *info = hmp_info(&h->f);

        g_test_message("live objects %u, expected %u; %s",
                       simhost_live_objects(h->f.sh), want, info);
    }
    return simhost_live_objects(h->f.sh) == want;
}

/* device_add of device @n on @bus with a fresh copy of its fd */
static char *try_plug(Hostile *h, unsigned n, const char *bus)
{
    g_autofree char *id = g_strdup_printf("simhost-dev%u", n);
    Simhost *sh = h->f.sh;
    QDict *resp;
    char *desc = NULL;

    resp = qtest_qmp_fds(sh->qts, &sh->dev_fd[n], 1,
                         "{'execute': 'getfd', 'arguments': "
                         "{'fdname': 'devfd'}}");
    g_assert_false(qdict_haskey(resp, "error"));
    qobject_unref(resp);
    resp = qtest_qmp(sh->qts, "{'execute': 'device_add', 'arguments': "
                     "{'driver': 'vfio-pci', 'id': %s, 'fd': 'devfd', "
                     "'iommufd': 'simhost-iommufd', 'bus': %s}}", id, bus);
    if (qdict_haskey(resp, "error")) {
        desc = g_strdup(qdict_get_str(qdict_get_qdict(resp, "error"),
                                      "desc"));
    }
    qobject_unref(resp);
    return desc;
}

static void plug(Hostile *h, unsigned n, const char *bus)
{
    g_autofree char *err = try_plug(h, n, bus);

    if (err) {
        g_test_message("device_add: %s", err);
    }
    g_assert_null(err);
}

static void unplug_start(Hostile *h, unsigned n)
{
    g_autofree char *id = g_strdup_printf("simhost-dev%u", n);
    QDict *resp = qtest_qmp(h->f.sh->qts, "{'execute': 'device_del', "
                            "'arguments': {'id': %s}}", id);

    g_assert_false(qdict_haskey(resp, "error"));
    qobject_unref(resp);
}

/* DEVICE_DELETED comes once the device and its host objects are gone */
static void unplug(Hostile *h, unsigned n)
{
    unplug_start(h, n);
    qtest_qmp_eventwait(h->f.sh->qts, "DEVICE_DELETED");
}

/* Secondary bus of the root port at 00:@slot.0 */
static void set_bus(Hostile *h, unsigned slot, uint8_t bus)
{
    QPCIDevice *rp = qpci_device_find(&h->f.t->pcibus.bus,
                                      QPCI_DEVFN(slot, 0));

    g_assert_nonnull(rp);
    qpci_config_writeb(rp, PCI_SECONDARY_BUS, bus);
    qpci_config_writeb(rp, PCI_SUBORDINATE_BUS, bus);
    g_free(rp);
}

/*
 * No assigned device on the command line: the emulated DMA test device
 * at 1d.0 is the guest's handle on the SMMU (tables, queues), @ports
 * root ports at 08.0, 09.0, ... take hot-plugged assigned devices
 */
static void start_with_ports(Hostile *h, SimhostOpts *o, const char *props,
                             unsigned ports, const SimhostSmmuCfg *smmu0)
{
    g_autoptr(GString) extra = g_string_new(props ? props : "");

    g_string_append(extra, " " VSMMU_QTEST_TESTDEV);
    for (unsigned i = 0; i < ports; i++) {
        g_string_append_printf(extra, " -device pcie-root-port,id=rp%u,"
                               "chassis=%u,addr=%x.0", i, i + 1, 8 + i);
    }
    o->cold_plug_mask = 0;
    hostile_start(h, o, extra->str, smmu0);
    h->f.t = vsmmu_qtest_attach_devfn(h->f.sh->qts, VSMMU_QTEST_TESTDEV_SID);
}

/* An S1 STE for @sid over a fresh one-CD table of @pt */
static void ste_s1(Hostile *h, uint32_t sid, VsmmuPgtable *pt, uint16_t asid)
{
    VsmmuCdTable cdt;
    uint64_t cd[VSMMU_CD_DWORDS];
    uint64_t ste[VSMMU_STE_DWORDS];

    vsmmu_cd_table_linear(h->f.t, &cdt, 0);
    vsmmu_cd_for_pgtable(cd, pt, asid);
    vsmmu_cd_write(h->f.t, vsmmu_cd_addr(h->f.t, &cdt, 0), cd);
    vsmmu_ste_s1(ste, cdt.base, cdt.fmt, cdt.cdmax, STE_S1DSS_TERMINATE);
    vsmmu_ste_write(h->f.t, sid, ste);
}

static bool ovflg_pending(VsmmuQtest *t)
{
    return FIELD_EX32(vsmmu_readl(t, VSMMU_PAGE1_EVENTQ_PROD), QUEUE_INDEX,
                      OVFLG) !=
           FIELD_EX32(vsmmu_readl(t, VSMMU_PAGE1_EVENTQ_CONS), QUEUE_INDEX,
                      OVFLG);
}

/* ---- the CMDQV, as the Linux driver drives it ---------------------------- */

typedef struct Cq {
    QTestState *qts;
    Simhost *sh;
    uint64_t base;
    unsigned log2size;
    uint64_t qpa[2];
    uint32_t prod[2];
} Cq;

static uint64_t cq_find(QTestState *qts)
{
    g_autofree char *mtree = qtest_hmp(qts, "info mtree");
    char *p = strstr(mtree, ": vsmmu-cmdqv\r\n");

    if (!p) {
        p = strstr(mtree, ": vsmmu-cmdqv\n");
    }
    g_assert_nonnull(p);
    while (p > mtree && p[-1] != '\n') {
        p--;
    }
    return g_ascii_strtoull(g_strstrip(p), NULL, 16);
}

static uint64_t lp0(Cq *c, unsigned l, unsigned reg)
{
    return c->base + CMDQV_VINTF0_PAGE0 + CMDQV_VCMDQ_STRIDE * l + reg;
}

static uint64_t lp1(Cq *c, unsigned l, unsigned reg)
{
    return c->base + CMDQV_VINTF0_PAGE1 + CMDQV_VCMDQ_STRIDE * l + reg;
}

static bool cq_poll(Cq *c, uint64_t addr, uint32_t mask, uint32_t want)
{
    for (int i = 0; i < 2000; i++) {
        if ((qtest_readl(c->qts, addr) & mask) == want) {
            return true;
        }
        if (c->sh) {
            simhost_vcmdq_poll(c->sh);
        }
    }
    return false;
}

static void cq_attach(Cq *c, Hostile *h)
{
    memset(c, 0, sizeof(*c));
    c->qts = h->f.sh->qts;
    c->sh = h->f.sh;
    c->base = cq_find(c->qts);
    c->log2size = 8;
    for (unsigned l = 0; l < 2; l++) {
        c->qpa[l] = vsmmu_alloc(h->f.t, 16 << c->log2size, 16 << c->log2size);
    }
}

/* CMDQV_EN, CMDQ_ALLOC q -> VINTF0 l = q, VINTF0 EN, both queues up */
static void cq_init(Cq *c)
{
    qtest_writel(c->qts, c->base + A_CMDQV_CONFIG, 1);
    for (unsigned q = 0; q < 2; q++) {
        qtest_writel(c->qts, c->base + A_CMDQV_CMDQ_ALLOC + 4 * q,
                     q << 1 | 1);
    }
    qtest_writel(c->qts, c->base + CMDQV_VINTF0_BASE + A_VINTF_CONFIG, 1);
    for (unsigned l = 0; l < 2; l++) {
        qtest_writel(c->qts, lp0(c, l, A_VCMDQ_CONFIG), 0);
        qtest_writel(c->qts, lp0(c, l, A_VCMDQ_PROD), 0);
        qtest_writel(c->qts, lp0(c, l, A_VCMDQ_CONS), 0);
        qtest_writeq(c->qts, lp1(c, l, A_VCMDQ_BASE),
                     c->qpa[l] | c->log2size);
        qtest_writel(c->qts, lp0(c, l, A_VCMDQ_CONFIG), 1);
        c->prod[l] = 0;
    }
}

/* @n commands into queue @l, PROD once, wait for CONS (or an error) */
static uint32_t cq_issue(Cq *c, unsigned l, const VsmmuCmd *cmds, unsigned n)
{
    uint32_t mask = (1u << c->log2size) - 1;
    uint32_t wrap = (2u << c->log2size) - 1;
    uint32_t cons = 0;

    for (unsigned i = 0; i < n; i++) {
        uint64_t w[2] = { cpu_to_le64(cmds[i].word[0]),
                          cpu_to_le64(cmds[i].word[1]) };

        qtest_memwrite(c->qts, c->qpa[l] + 16 * (c->prod[l] & mask), w, 16);
        c->prod[l] = (c->prod[l] + 1) & wrap;
    }
    qtest_writel(c->qts, lp0(c, l, A_VCMDQ_PROD), c->prod[l]);
    for (int i = 0; i < 2000; i++) {
        cons = qtest_readl(c->qts, lp0(c, l, A_VCMDQ_CONS));
        if ((cons & wrap) == c->prod[l] || FIELD_EX32(cons, VCMDQ_CONS, ERR)) {
            return cons;
        }
        if (c->sh) {
            simhost_vcmdq_poll(c->sh);
        }
    }
    g_assert_not_reached();
}

/* Lines naming @name in the memory tree, disabled regions included */
static unsigned mtree_count(Hostile *h, const char *name)
{
    g_autofree char *mtree = qtest_hmp(h->f.sh->qts, "info mtree -D");

    return count_lines(mtree, name);
}

static bool page_mapped(Hostile *h)
{
    g_autofree char *info = hmp_info(&h->f);

    return strstr(info, "mapped into the guest") != NULL;
}

static SimhostOpts cmdqv_opts(void)
{
    SimhostOpts o = SIMHOST_OPTS_DEFAULT;

    o.profile[0] = SIMHOST_PROFILE_SMMUV3_CMDQV;
    return o;
}

/* ---- StreamIDs ----------------------------------------------------------- */

/*
 * Two assigned devices behind two root ports (buses 1 and 2); the guest
 * renumbers the second port's bus to 1, so both devices claim StreamID
 * 0x100. The host cannot have two vDEVICEs with one vSID: the second
 * device's STE install is refused as C_BAD_STREAMID and it aborts, the
 * first keeps translating. Numbered back, it recovers.
 */
static void test_dup_vsid(void)
{
    Hostile h;
    SimhostOpts o = SIMHOST_OPTS_DEFAULT;
    VsmmuPgtable pt;
    VsmmuEvent ev;
    unsigned kind;
    uint64_t vste[2];
    bool bad = false;
    g_autofree char *err = NULL;

    if (!hostile_begin(&h)) {
        return;
    }
    o.num_devs = 2;
    start_with_ports(&h, &o, NULL, 2, NULL);
    set_bus(&h, 8, 1);
    set_bus(&h, 9, 2);
    plug(&h, 0, "rp0");
    plug(&h, 1, "rp1");
    g_assert_cmphex(h.f.sh->ctl->dev_vsid[0], ==, 0x100);
    g_assert_cmphex(h.f.sh->ctl->dev_vsid[1], ==, 0x200);

    vsmmu_strtab_linear(h.f.t, 10);
    vsmmu_pt_init(h.f.t, &pt, 4096, 48);
    ste_s1(&h, 0x100, &pt, 1);
    ste_s1(&h, 0x200, &pt, 2);
    vsmmu_bringup(h.f.t, 8, 4);
    vsmmu_enable(h.f.t);
    g_assert_cmpuint(simhost_attached(h.f.sh, 1, &kind, vste), !=, 0);
    g_assert_cmpuint(kind, ==, SIMHOST_ATTACH_NESTED);
    g_assert_cmphex((vste[0] >> 1) & 7, ==, STE_CONFIG_S1);

    /* the collision, then the guest's CFGI_ALL */
    set_bus(&h, 9, 1);
    g_assert_cmpuint(vsmmu_cmdq_issue_sync(h.f.t, vsmmu_cmd_cfgi_all()), ==,
                     CERROR_NONE);
    assert_alive(&h);
    while (vsmmu_evtq_pop(h.f.t, &ev)) {
        bad |= vsmmu_evt_id(&ev) == 0x02 && vsmmu_evt_sid(&ev) == 0x100;
    }
    g_assert_true(bad);                 /* C_BAD_STREAMID */
    /* one of them keeps 0x100 and its S1, the other aborts */
    g_assert_cmphex(h.f.sh->ctl->dev_vsid[0], ==, 0x100);
    g_assert_cmpuint(simhost_attached(h.f.sh, 0, &kind, vste), !=, 0);
    g_assert_cmphex((vste[0] >> 1) & 7, ==, STE_CONFIG_S1);
    g_assert_cmpuint(simhost_attached(h.f.sh, 1, &kind, vste), !=, 0);
    g_assert_cmphex((vste[0] >> 1) & 7, ==, STE_CONFIG_ABORT);

    /* numbered back: a vDEVICE for 0x200 again, S1 again */
    set_bus(&h, 9, 2);
    g_assert_cmpuint(vsmmu_cmdq_issue_sync(h.f.t,
                     vsmmu_cmd_cfgi_ste(0x200, true)), ==, CERROR_NONE);
    g_assert_cmphex(h.f.sh->ctl->dev_vsid[1], ==, 0x200);
    g_assert_cmpuint(simhost_attached(h.f.sh, 1, &kind, vste), !=, 0);
    g_assert_cmphex((vste[0] >> 1) & 7, ==, STE_CONFIG_S1);
    unplug(&h, 1);
    unplug(&h, 0);
    err = hostile_end(&h);
    g_assert_cmpuint(count_lines(err, NULL), <=, QUIET_LINES);
}

/* ---- EVENTQEN storms and vEVENTQ destroys -------------------------------- */

static void set_eventqen(VsmmuQtest *t, bool on)
{
    uint32_t cr0 = vsmmu_readl(t, A_CR0);

    vsmmu_writel(t, A_CR0, on ? cr0 | R_CR0_EVENTQEN_MASK :
                                cr0 & ~R_CR0_EVENTQEN_MASK);
}

/* 300 toggles: one vEVENTQ at a time, all destroyed, events still flow */
static void test_eventqen_storm(void)
{
    Hostile h;
    SimhostOpts o = SIMHOST_OPTS_DEFAULT;
    uint64_t evt[4] = { 0x10, 0, IOVA_A, 0 };
    VsmmuEvent ev;
    unsigned live;

    if (!hostile_begin(&h)) {
        return;
    }
    hostile_start(&h, &o, NULL, NULL);
    accel_s1_setup(&h.f);
    live = simhost_live_objects(h.f.sh);
    for (int i = 0; i < 300; i++) {
        set_eventqen(h.f.t, false);
        set_eventqen(h.f.t, true);
    }
    assert_alive(&h);
    g_assert_true(wait_live(&h, live));
    g_assert_cmpuint(simhost_calls(h.f.sh, SIMHOST_K_VEVENTQ_ALLOC), ==, 301);
    g_assert_cmpuint(simhost_fails(h.f.sh, SIMHOST_K_DESTROY), ==, 0);
    g_assert_cmpint(simhost_host_event(h.f.sh, 0, evt), ==, 0);
    vsmmu_evtq_expect(h.f.t, &ev);
    g_assert_cmphex(vsmmu_evt_id(&ev), ==, 0x10);
    g_free(hostile_end(&h));
}

/*
 * The host answers EBUSY to vEVENTQ destroys (a poller holding the
 * file): no CR0 write waits for it (a busy-wait took up to 200 ms per
 * write); the reaper destroys them from the main loop, the next vEVENTQ
 * is made once the last is gone.
 */
static void test_eventqen_storm_busy(void)
{
    Hostile h;
    SimhostOpts o = SIMHOST_OPTS_DEFAULT;
    uint64_t evt[4] = { 0x10, 0, IOVA_A, 0 };
    VsmmuEvent ev;
    unsigned live, slow = 0;
    int64_t worst = 0;

    if (!hostile_begin(&h)) {
        return;
    }
    hostile_start(&h, &o, NULL, NULL);
    accel_s1_setup(&h.f);
    live = simhost_live_objects(h.f.sh);
    for (int phase = 0; phase < 2; phase++) {
        /* busy for good (released below, well within the retries), or 5 */
        qatomic_set(&h.f.sh->ctl->veventq_busy_count, phase ? 5 : 1000000);
        for (int i = 0; i < (phase ? 200 : 10); i++) {
            for (int on = 0; on < 2; on++) {
                int64_t t0 = g_get_monotonic_time();

                set_eventqen(h.f.t, on);
                t0 = g_get_monotonic_time() - t0;
                worst = MAX(worst, t0);
                slow += t0 >= 150 * 1000;
            }
        }
        if (!phase) {
            qatomic_set(&h.f.sh->ctl->veventq_busy_count, 0);
        }
        assert_alive(&h);
        g_assert_true(wait_live(&h, live));
    }
    /* a busy-wait took 200 ms in each of the first 10 disables */
    g_test_message("longest CR0 write: %" PRId64 " us", worst);
    g_assert_cmpuint(slow, <, 3);
    g_assert_cmpuint(simhost_fails(h.f.sh, SIMHOST_K_DESTROY), >=, 6);
    g_assert_cmpint(simhost_host_event(h.f.sh, 0, evt), ==, 0);
    vsmmu_evtq_expect(h.f.t, &ev);
    g_assert_cmphex(vsmmu_evt_id(&ev), ==, 0x10);
    g_free(hostile_end(&h));
}

/* The host refuses every vEVENTQ: lost events flagged, the log stays short */
static void test_eventqen_storm_refused(void)
{
    Hostile h;
    SimhostOpts o = SIMHOST_OPTS_DEFAULT;
    g_autofree char *err = NULL;

    if (!hostile_begin(&h)) {
        return;
    }
    hostile_start(&h, &o, NULL, NULL);
    accel_s1_setup(&h.f);
    simhost_inject_n(h.f.sh, SIMHOST_K_VEVENTQ_ALLOC, 0, 100000, ENOMEM);
    for (int i = 0; i < 200; i++) {
        set_eventqen(h.f.t, false);
        set_eventqen(h.f.t, true);
    }
    assert_alive(&h);
    g_assert_cmpuint(simhost_fails(h.f.sh, SIMHOST_K_VEVENTQ_ALLOC), ==, 200);
    g_assert_true(ovflg_pending(h.f.t));
    simhost_inject_clear(h.f.sh);
    err = hostile_end(&h);
    g_assert_cmpuint(count_lines(err, "host events will not reach"), >=, 1);
    g_assert_cmpuint(count_lines(err, NULL), <=, QUIET_LINES);
}

/*
 * The last device goes while its vEVENTQ cannot be destroyed yet: the
 * vIOMMU waits for it, the device is finalized (VFIO frees its stage 2,
 * DEVICE_DELETED) only after the vIOMMU (no "Failed to free id"),
 * nothing leaks.
 */
static void test_unplug_veventq_busy(void)
{
    Hostile h;
    SimhostOpts o = SIMHOST_OPTS_DEFAULT;
    g_autofree char *err = NULL;
    unsigned live;

    if (!hostile_begin(&h)) {
        return;
    }
    start_with_ports(&h, &o, NULL, 1, NULL);
    set_bus(&h, 8, 1);
    vsmmu_strtab_linear(h.f.t, 9);
    vsmmu_bringup(h.f.t, 8, 4);        /* EVENTQEN */
    live = simhost_live_objects(h.f.sh);
    for (int round = 0; round < 3; round++) {
        plug(&h, 0, "rp0");             /* with EVENTQEN: a vEVENTQ */
        g_assert_cmpuint(simhost_calls(h.f.sh, SIMHOST_K_VEVENTQ_ALLOC), ==,
                         round + 1);
        /* busy for a while (a busy-wait gave up after 200 ms and leaked) */
        qatomic_set(&h.f.sh->ctl->veventq_busy_count, 1000000);
        unplug_start(&h, 0);
        g_usleep(20 * 1000);
        assert_alive(&h);
        g_assert_cmpuint(simhost_live_objects(h.f.sh), >, live);
        qatomic_set(&h.f.sh->ctl->veventq_busy_count, 0);
        qtest_qmp_eventwait(h.f.sh->qts, "DEVICE_DELETED");
        g_assert_cmpuint(simhost_live_objects(h.f.sh), ==, live);
    }
    err = hostile_end(&h);
    g_assert_null(strstr(err, "Failed to free"));
    g_assert_cmpuint(count_lines(err, NULL), ==, 0);
}

/* ---- a host with absurd values ------------------------------------------- */

/* A host CMDQV value out of range: the device is refused, naming it */
static void host_cmdqv_refused(uint8_t log2vcmdqs, uint8_t log2vsids,
                               const char *expect)
{
    Hostile h;
    SimhostOpts o = cmdqv_opts();
    SimhostSmmuCfg smmu;
    g_autofree char *desc = NULL;
    unsigned live;

    if (!hostile_begin(&h)) {
        return;
    }
    simhost_profile_fill(&smmu, SIMHOST_PROFILE_SMMUV3_CMDQV);
    smmu.cmdqv_log2vcmdqs = log2vcmdqs;
    smmu.cmdqv_log2vsids = log2vsids;
    start_with_ports(&h, &o, ",cmdqv=on", 1, &smmu);
    set_bus(&h, 8, 1);
    live = simhost_live_objects(h.f.sh);
    desc = try_plug(&h, 0, "rp0");
    g_assert_nonnull(desc);
    if (!strstr(desc, expect)) {
        g_test_message("error: %s", desc);
        g_test_fail();
    }
    assert_alive(&h);
    g_assert_cmpuint(simhost_calls(h.f.sh, SIMHOST_K_VIOMMU_ALLOC), ==, 0);
    g_assert_cmpuint(simhost_live_objects(h.f.sh), ==, live);
    g_free(hostile_end(&h));
}

static void test_host_log2vcmdqs_32(void)
{
    host_cmdqv_refused(32, 4, "log2vcmdqs=32");
}

static void test_host_log2vcmdqs_255(void)
{
    host_cmdqv_refused(255, 255, "log2vcmdqs=255, log2vsids=255");
}

static void test_host_log2vsids_16(void)
{
    host_cmdqv_refused(1, 16, "log2vsids=16");
}

/* A VINTF page of the wrong size: refused, nothing mapped or leaked */
static void test_host_vintf_length(void)
{
    Hostile h;
    SimhostOpts o = cmdqv_opts();
    g_autofree char *desc = NULL;
    unsigned live;

    if (!hostile_begin(&h)) {
        return;
    }
    start_with_ports(&h, &o, ",cmdqv=on", 1, NULL);
    set_bus(&h, 8, 1);
    live = simhost_live_objects(h.f.sh);
    h.f.sh->ctl->bad_vintf_mmap_length = 0x1000;
    desc = try_plug(&h, 0, "rp0");
    g_assert_nonnull(desc);
    g_assert_nonnull(strstr(desc, "0x1000 bytes"));
    assert_alive(&h);
    g_assert_cmpuint(h.f.sh->ctl->vintf_mmaps, ==, 0);
    g_assert_true(wait_live(&h, live));
    h.f.sh->ctl->bad_vintf_mmap_length = 0;
    plug(&h, 0, "rp0");
    unplug(&h, 0);
    g_free(hostile_end(&h));
}

/*
 * entry_num beyond what was sent: ignored on success; on a failure the
 * failing command is taken as one that was sent (CERROR_ILL on it).
 */
static void test_host_entry_num(void)
{
    Hostile h;
    SimhostOpts o = SIMHOST_OPTS_DEFAULT;
    VsmmuCmd cmds[5];
    uint32_t cons, start;

    if (!hostile_begin(&h)) {
        return;
    }
    hostile_start(&h, &o, NULL, NULL);
    accel_s1_setup(&h.f);
    for (int i = 0; i < 4; i++) {
        cmds[i] = vsmmu_cmd_tlbi_nh_va(TEST_ASID, IOVA_A + 4096 * i, true);
    }
    cmds[4] = vsmmu_cmd_sync(CMD_SYNC_SIG_NONE, 0, 0);
    h.f.sh->ctl->bad_entry_num = 0xffffffff;
    h.f.sh->ctl->bad_entry_num_count = 1;
    vsmmu_cmdq_push_list(h.f.t, cmds, 5);
    g_assert_cmpuint(vsmmu_cmdq_wait(h.f.t), ==, CERROR_NONE);

    h.f.sh->ctl->bad_entry_num_count = 2;
    simhost_inject_n(h.f.sh, SIMHOST_K_HWPT_INVALIDATE, 0, 2, EINVAL);
    start = vsmmu_cmdq_cons(h.f.t);
    vsmmu_cmdq_push_list(h.f.t, cmds, 5);
    g_assert_cmpuint(vsmmu_cmdq_wait(h.f.t), ==, CERROR_ILL);
    assert_alive(&h);
    cons = vsmmu_cmdq_cons(h.f.t);
    /* CONS on one of the four TLBIs (a ring of 256: index + wrap bit) */
    g_assert_cmpuint((cons - start) & 0x1ff, <, 4);
    g_free(hostile_end(&h));
}

/* One host event through, to have a sequence number to compare with */
static void vevent_prime(Hostile *h, uint64_t *evt)
{
    VsmmuEvent ev;

    g_assert_cmpint(simhost_host_event(h->f.sh, 0, evt), ==, 0);
    vsmmu_evtq_expect(h->f.t, &ev);
}

/* A sequence gap of 1000: the overflow flag, the next event delivered */
static void test_vevent_seq_gap(void)
{
    Hostile h;
    SimhostOpts o = SIMHOST_OPTS_DEFAULT;
    uint64_t evt[4] = { 0x10, 0, IOVA_A, 0 };
    VsmmuEvent ev;

    if (!hostile_begin(&h)) {
        return;
    }
    hostile_start(&h, &o, NULL, NULL);
    accel_s1_setup(&h.f);
    vevent_prime(&h, evt);
    h.f.sh->ctl->vevent_seq_jump = 1000;
    h.f.sh->ctl->vevent_seq_jump_count = 1;
    g_assert_cmpint(simhost_host_event(h.f.sh, 0, evt), ==, 0);
    vsmmu_evtq_expect(h.f.t, &ev);
    g_assert_cmphex(vsmmu_evt_id(&ev), ==, 0x10);
    g_assert_true(ovflg_pending(h.f.t));
    g_assert_cmpuint(qstat(&h, "x-stats-host-events-lost"), ==, 1000);
    g_free(hostile_end(&h));
}

/* A sequence number outside [0, INT_MAX]: one lost, then in step again */
static void test_vevent_seq_out_of_range(void)
{
    Hostile h;
    SimhostOpts o = SIMHOST_OPTS_DEFAULT;
    uint64_t evt[4] = { 0x10, 0, IOVA_A, 0 };
    VsmmuEvent ev;

    if (!hostile_begin(&h)) {
        return;
    }
    hostile_start(&h, &o, NULL, NULL);
    accel_s1_setup(&h.f);
    vevent_prime(&h, evt);
    h.f.sh->ctl->vevent_seq_raw = 0xffffffff;
    h.f.sh->ctl->vevent_seq_raw_count = 1;
    g_assert_cmpint(simhost_host_event(h.f.sh, 0, evt), ==, 0);
    vsmmu_evtq_expect(h.f.t, &ev);
    g_assert_true(ovflg_pending(h.f.t));
    vsmmu_evtq_ack_overflow(h.f.t);
    g_assert_cmpint(simhost_host_event(h.f.sh, 0, evt), ==, 0);
    vsmmu_evtq_expect(h.f.t, &ev);
    g_assert_false(ovflg_pending(h.f.t));
    g_assert_cmpuint(qstat(&h, "x-stats-host-events-lost"), ==, 1);
    g_assert_cmpuint(qstat(&h, "x-stats-host-events"), ==, 3);
    g_free(hostile_end(&h));
}

/* A truncated record: reported, counted lost; the next one arrives */
static void test_vevent_truncated(void)
{
    Hostile h;
    SimhostOpts o = SIMHOST_OPTS_DEFAULT;
    uint64_t evt[4] = { 0x10, 0, IOVA_A, 0 };
    VsmmuEvent ev;
    g_autofree char *err = NULL;

    if (!hostile_begin(&h)) {
        return;
    }
    hostile_start(&h, &o, NULL, NULL);
    accel_s1_setup(&h.f);
    vevent_prime(&h, evt);
    h.f.sh->ctl->vevent_truncate = 8;
    h.f.sh->ctl->vevent_truncate_count = 1;
    g_assert_cmpint(simhost_host_event(h.f.sh, 0, evt), ==, 0);
    for (int i = 0; i < 1000 && !ovflg_pending(h.f.t); i++) {
        g_usleep(1000);
    }
    g_assert_true(ovflg_pending(h.f.t));
    g_assert_cmpuint(vsmmu_evtq_pending(h.f.t), ==, 0);
    g_assert_cmpint(simhost_host_event(h.f.sh, 0, evt), ==, 0);
    vsmmu_evtq_expect(h.f.t, &ev);
    g_assert_cmphex(vsmmu_evt_id(&ev), ==, 0x10);
    assert_alive(&h);
    err = hostile_end(&h);
    g_assert_cmpuint(count_lines(err, "truncated vEVENTQ record"), ==, 1);
}

/* ---- CMDQV --------------------------------------------------------------- */

/*
 * The last device goes with the VINTF page mapped into the guest (and
 * its vEVENTQ busy): the page is unmapped and the region stays; the
 * guest's accesses to the page range then reach the emulated model;
 * re-plugged, the host queues come back with the state.
 */
static void test_cmdqv_unplug_mapped(void)
{
    Hostile h;
    SimhostOpts o = cmdqv_opts();
    Cq c;
    VsmmuCmd cmds[2] = { vsmmu_cmd_tlbi_nh_asid(TEST_ASID),
                         vsmmu_cmd_sync(CMD_SYNC_SIG_NONE, 0, 0) };
    uint64_t vcmds;
    unsigned live, regions = 0;
    g_autofree char *err = NULL;

    if (!hostile_begin(&h)) {
        return;
    }
    start_with_ports(&h, &o, ",cmdqv=on,msi-window=off", 1, NULL);
    set_bus(&h, 8, 1);
    live = simhost_live_objects(h.f.sh);
    cq_attach(&c, &h);
    for (int round = 0; round < 3; round++) {
        plug(&h, 0, "rp0");
        if (!round) {
            cq_init(&c);
        }
        g_assert_true(page_mapped(&h));
        if (!round) {
            regions = mtree_count(&h, "vsmmu-cmdqv-vintf0-page0");
            g_assert_cmpuint(regions, >, 0);
        }
        vcmds = h.f.sh->ctl->vcmdq_cmds;
        g_assert_cmphex(FIELD_EX32(cq_issue(&c, 1, cmds, 2), VCMDQ_CONS, ERR),
                        ==, 0);
        g_assert_cmpuint(h.f.sh->ctl->vcmdq_cmds, ==, vcmds + 2);

        qatomic_set(&h.f.sh->ctl->veventq_busy_count, 2);
        unplug(&h, 0);
        g_assert_cmpuint(h.f.sh->ctl->vintf_mmaps, ==, 0);
        g_assert_false(page_mapped(&h));
        assert_alive(&h);
        /* every register of both queues' page 0, now the model's */
        for (unsigned l = 0; l < 2; l++) {
            for (unsigned r = 0; r < CMDQV_VCMDQ_PAGE0_REGS; r += 4) {
                qtest_readl(c.qts, lp0(&c, l, r));
            }
        }
        g_assert_cmphex(qtest_readl(c.qts, lp0(&c, 1, A_VCMDQ_CONS)), ==,
                        c.prod[1]);
        g_assert_cmphex(qtest_readl(c.qts, lp0(&c, 1, A_VCMDQ_STATUS)), ==,
                        1);
        /* emulated now: the vsmmu's engine consumes them */
        vcmds = qstat(&h, "x-stats-vcmdq-commands");
        g_assert_cmphex(FIELD_EX32(cq_issue(&c, 1, cmds, 2), VCMDQ_CONS, ERR),
                        ==, 0);
        g_assert_cmpuint(qstat(&h, "x-stats-vcmdq-commands"), ==, vcmds + 2);
        /* stray writes over the rest of the page range */
        for (unsigned off = 0x100; off < CMDQV_PAGE_SIZE; off += 0x1000) {
            qtest_writel(c.qts, c.base + CMDQV_VINTF0_PAGE0 + off, ~0u);
        }
        g_assert_true(wait_live(&h, live));
    }
    /* the page's region was made once and stays */
    g_assert_cmpuint(mtree_count(&h, "vsmmu-cmdqv-vintf0-page0"), ==,
                     regions);
    err = hostile_end(&h);
    g_assert_null(strstr(err, "Failed to free"));
}

/* HW_QUEUE_ALLOC always fails: every BASE write reported, rate-limited */
static void test_cmdqv_hw_queue_refused(void)
{
    Hostile h;
    SimhostOpts o = cmdqv_opts();
    Cq c;
    g_autofree char *err = NULL;

    if (!hostile_begin(&h)) {
        return;
    }
    hostile_start(&h, &o, NULL, NULL);
    cq_attach(&c, &h);
    simhost_inject_n(h.f.sh, SIMHOST_K_HW_QUEUE_ALLOC, 0, 100000, ENOMEM);
    cq_init(&c);
    for (int i = 0; i < 300; i++) {
        qtest_writeq(c.qts, lp1(&c, 0, A_VCMDQ_BASE),
                     (c.qpa[i & 1]) | c.log2size);
    }
    assert_alive(&h);
    g_assert_cmpuint(simhost_fails(h.f.sh, SIMHOST_K_HW_QUEUE_ALLOC), >=,
                     300);
    g_assert_false(page_mapped(&h));
    /* queue 0 cannot be backed: enabling it aborts its fetches */
    qtest_writel(c.qts, lp0(&c, 0, A_VCMDQ_CONFIG), 0);
    qtest_writel(c.qts, lp0(&c, 0, A_VCMDQ_CONFIG), 1);
    g_assert_cmphex(FIELD_EX32(qtest_readl(c.qts, lp0(&c, 0, A_VCMDQ_CONS)),
                               VCMDQ_CONS, ERR), ==, CERROR_ABT);
    simhost_inject_clear(h.f.sh);
    err = hostile_end(&h);
    g_assert_cmpuint(count_lines(err, "cannot back"), >=, 1);
    g_assert_cmpuint(count_lines(err, NULL), <=, QUIET_LINES);
}

/*
 * The CMDQV vEVENTQ sends a truncated record, then skips sequence
 * numbers: the error map is rebuilt from the host queues, the guest still
 * gets the interrupt for the queue reported after the gap.
 */
static void test_cmdqv_vevent_garbage(void)
{
    Hostile h;
    SimhostOpts o = cmdqv_opts();
    Cq c;
    uint64_t irqs;

    if (!hostile_begin(&h)) {
        return;
    }
    hostile_start(&h, &o, NULL, NULL);
    cq_attach(&c, &h);
    cq_init(&c);
    g_assert_true(cq_poll(&c, lp0(&c, 1, A_VCMDQ_STATUS), 1, 1));
    irqs = qstat(&h, "x-stats-vcmdq-irqs");
    h.f.sh->ctl->vevent_truncate = 4;
    h.f.sh->ctl->vevent_truncate_count = 1;
    g_assert_cmpint(simhost_cmdqv_error(h.f.sh, 0, 1), ==, 0);
    h.f.sh->ctl->vevent_seq_jump = 77;
    h.f.sh->ctl->vevent_seq_jump_count = 1;
    g_assert_cmpint(simhost_cmdqv_error(h.f.sh, 0, 0), ==, 0);
    /*
     * Both records are handled in later main-loop turns, in an order the
     * test does not know (the truncated one may bring the rebuild that
     * raises the interrupt first): wait for queue 0's bit itself
     */
    for (int i = 0; i < 2000 &&
         !(qtest_readl(c.qts, c.base + CMDQV_VINTF0_BASE +
                       A_VINTF_LVCMDQ_ERR_MAP) & 1); i++) {
        g_usleep(1000);
    }
    assert_alive(&h);
    g_assert_cmphex(qtest_readl(c.qts, c.base + CMDQV_VINTF0_BASE +
                                A_VINTF_LVCMDQ_ERR_MAP) & 1, ==, 1);
    g_assert_cmpuint(qstat(&h, "x-stats-vcmdq-irqs"), >, irqs);
    g_free(hostile_end(&h));
}

/*
 * Emulated VCMDQs (accel, host without a CMDQV): PROD storms with
 * arbitrary values, over-full rings and garbage commands; the queue
 * stops on the architected errors and, reset, works again.
 */
static void test_cmdqv_emulated_prod_storm(void)
{
    Hostile h;
    SimhostOpts o = SIMHOST_OPTS_DEFAULT;
    Cq c;
    VsmmuCmd sync = vsmmu_cmd_sync(CMD_SYNC_SIG_NONE, 0, 0);
    GRand *rnd = g_rand_new_with_seed(13);
    uint32_t size;

    if (!hostile_begin(&h)) {
        return;
    }
    hostile_start(&h, &o, ",cmdqv=on", NULL);
    cq_attach(&c, &h);
    c.sh = NULL;                /* emulated: nothing to poll */
    cq_init(&c);
    size = 1u << c.log2size;
    /* a ring of mostly valid invalidations, some garbage */
    for (uint32_t i = 0; i < size; i++) {
        VsmmuCmd cmd = g_rand_int_range(rnd, 0, 8) ?
                       vsmmu_cmd_tlbi_nh_va(TEST_ASID, IOVA_A + 4096 * i,
                                            true) :
                       vsmmu_cmd_raw(g_rand_int(rnd), g_rand_int(rnd));
        uint64_t w[2] = { cpu_to_le64(cmd.word[0]),
                          cpu_to_le64(cmd.word[1]) };

        qtest_memwrite(c.qts, c.qpa[0] + 16 * i, w, 16);
    }
    for (int i = 0; i < 500; i++) {
        uint32_t cons = qtest_readl(c.qts, lp0(&c, 0, A_VCMDQ_CONS));
        uint32_t prod;

        switch (i % 4) {
        case 0:     /* over-full: CONS + 2 * size - 1 */
            prod = (cons + 2 * size - 1) & (2 * size - 1);
            break;
        case 1:     /* anything */
            prod = g_rand_int(rnd);
            break;
        default:    /* a few ahead */
            prod = (cons + g_rand_int_range(rnd, 1, 64)) & (2 * size - 1);
            break;
        }
        qtest_writel(c.qts, lp0(&c, 0, A_VCMDQ_PROD), prod);
        if (i % 3 == 0) {
            qtest_writel(c.qts, lp0(&c, 0, A_VCMDQ_GERRORN),
                         qtest_readl(c.qts, lp0(&c, 0, A_VCMDQ_GERROR)));
        }
    }
    assert_alive(&h);
    /*
     * Reset the queue as the driver does, then a clean command. Disabled
     * once STATUS says so: until then the host may still consume.
     */
    qtest_writel(c.qts, lp0(&c, 0, A_VCMDQ_CONFIG), 0);
    g_assert_true(cq_poll(&c, lp0(&c, 0, A_VCMDQ_STATUS), 1, 0));
    qtest_writel(c.qts, lp0(&c, 0, A_VCMDQ_PROD), 0);
    qtest_writel(c.qts, lp0(&c, 0, A_VCMDQ_CONS), 0);
    qtest_writel(c.qts, lp0(&c, 0, A_VCMDQ_GERRORN),
                 qtest_readl(c.qts, lp0(&c, 0, A_VCMDQ_GERROR)));
    qtest_writel(c.qts, lp0(&c, 0, A_VCMDQ_CONFIG), 1);
    c.prod[0] = 0;
    g_assert_cmphex(FIELD_EX32(cq_issue(&c, 0, &sync, 1), VCMDQ_CONS, ERR),
                    ==, 0);
    g_assert_cmpuint(qtest_readl(c.qts, lp0(&c, 0, A_VCMDQ_GERROR)) ^
                     qtest_readl(c.qts, lp0(&c, 0, A_VCMDQ_GERRORN)), ==, 0);
    g_assert_cmpuint(qstat(&h, "x-stats-vcmdq-errors"), >, 0);
    g_rand_free(rnd);
    g_free(hostile_end(&h));
}

/*
 * Emulated VCMDQ (no accel: IDR1.CMDQS is not capped) of 2^12 commands,
 * one PROD write: a bounded slice at once, the rest from the runner's
 * bottom half, CONS advancing as they complete.
 */
static void test_cmdqv_emulated_slices(void)
{
    QTestState *qts = qtest_init("-M virt -cpu max -nodefaults -m 512M "
                                 "-device vsmmu,primary-bus=pcie.0,"
                                 "id=vsmmu0,cmdqv=on " VSMMU_QTEST_TESTDEV);
    VsmmuQtest *t = vsmmu_qtest_attach(qts);
    Cq c = { .qts = qts, .base = cq_find(qts), .log2size = 12 };
    uint32_t n = 1u << c.log2size, wrap = 2 * n - 1, cons = 0;
    g_autofree uint64_t *ring = g_new(uint64_t, 2 * n);

    for (unsigned l = 0; l < 2; l++) {
        c.qpa[l] = vsmmu_alloc(t, 16 * n, 16 * n);
    }
    cq_init(&c);
    for (uint32_t i = 0; i < n; i++) {
        VsmmuCmd cmd = vsmmu_cmd_tlbi_nh_asid(i & 0xffff);

        ring[2 * i] = cpu_to_le64(cmd.word[0]);
        ring[2 * i + 1] = cpu_to_le64(cmd.word[1]);
    }
    qtest_memwrite(qts, c.qpa[0], ring, 16 * n);
    /* the n - 1 TLBIs, in one write */
    qtest_writel(qts, lp0(&c, 0, A_VCMDQ_PROD), n - 1);
    for (int i = 0; i < 5000 && (cons & wrap) != n - 1; i++) {
        cons = qtest_readl(qts, lp0(&c, 0, A_VCMDQ_CONS));
        g_assert_cmpuint(FIELD_EX32(cons, VCMDQ_CONS, ERR), ==, 0);
    }
    g_assert_cmphex(cons & wrap, ==, n - 1);
    g_assert_cmpuint(qts_stat(qts, "x-stats-vcmdq-commands"), ==, n - 1);
    g_assert_cmpuint(qts_stat(qts, "x-stats-slices-deferred"), >=,
                     (n - 1) / 256 - 1);
    g_test_message("longest slice: %" PRIu64 " us",
                   qts_stat(qts, "x-stats-slice-max-ns") / 1000);
    vsmmu_qtest_quit(t);
}

/*
 * System reset with host queues live, commands in flight, an error and a
 * host event pending: every host object made for the guest's queues
 * goes, the page is unmapped, and the driver's init works again.
 */
static void test_cmdqv_reset_live(void)
{
    Hostile h;
    SimhostOpts o = cmdqv_opts();
    Cq c;
    VsmmuCmd cmds[64];
    uint64_t evt[4] = { 0x10, 0, IOVA_A, 0 };
    unsigned live;

    if (!hostile_begin(&h)) {
        return;
    }
    hostile_start(&h, &o, NULL, NULL);
    live = simhost_live_objects(h.f.sh);
    accel_s1_setup(&h.f);
    cq_attach(&c, &h);
    cq_init(&c);
    g_assert_true(cq_poll(&c, lp0(&c, 1, A_VCMDQ_STATUS), 1, 1));
    g_assert_true(page_mapped(&h));
    for (int i = 0; i < 64; i++) {
        cmds[i] = vsmmu_cmd_tlbi_nh_va(TEST_ASID, IOVA_A + 4096 * i, true);
    }
    /* in flight: written and PROD moved, not waited for */
    for (unsigned i = 0; i < 64; i++) {
        uint64_t w[2] = { cpu_to_le64(cmds[i].word[0]),
                          cpu_to_le64(cmds[i].word[1]) };

        qtest_memwrite(c.qts, c.qpa[0] + 16 * i, w, 16);
    }
    qtest_writel(c.qts, lp0(&c, 0, A_VCMDQ_PROD), 64);
    g_assert_cmpint(simhost_cmdqv_error(h.f.sh, 0, 1), ==, 0);
    simhost_host_event(h.f.sh, 0, evt);
    qtest_system_reset(h.f.sh->qts);
    assert_alive(&h);
    g_assert_false(page_mapped(&h));
    g_assert_true(wait_live(&h, live));

    cq_init(&c);
    g_assert_true(page_mapped(&h));
    cmds[0] = vsmmu_cmd_sync(CMD_SYNC_SIG_NONE, 0, 0);
    g_assert_cmphex(FIELD_EX32(cq_issue(&c, 0, cmds, 1), VCMDQ_CONS, ERR),
                    ==, 0);
    g_free(hostile_end(&h));
}

/* ---- STEs ---------------------------------------------------------------- */

/*
 * The host refuses the vDEVICE on every CFGI_STE (behind a bus the guest
 * numbered after the plug): C_BAD_STREAMID each time, the device aborts,
 * the log stays short.
 */
static void test_vdevice_refused_every_cfgi(void)
{
    Hostile h;
    SimhostOpts o = SIMHOST_OPTS_DEFAULT;
    VsmmuPgtable pt;
    VsmmuCmd cmds[101];
    VsmmuEvent ev;
    unsigned kind;
    uint64_t vste[2];
    g_autofree char *err = NULL;

    if (!hostile_begin(&h)) {
        return;
    }
    start_with_ports(&h, &o, NULL, 1, NULL);
    plug(&h, 0, "rp0");         /* bus 0: no vDEVICE yet */
    g_assert_cmpuint(simhost_calls(h.f.sh, SIMHOST_K_VDEVICE_ALLOC), ==, 0);
    set_bus(&h, 8, 1);
    vsmmu_strtab_linear(h.f.t, 9);
    vsmmu_pt_init(h.f.t, &pt, 4096, 48);
    ste_s1(&h, 0x100, &pt, 1);
    vsmmu_bringup(h.f.t, 8, 8);
    simhost_inject_n(h.f.sh, SIMHOST_K_VDEVICE_ALLOC, 0, 100000, ENOSPC);
    vsmmu_enable(h.f.t);
    for (int i = 0; i < 100; i++) {
        cmds[i] = vsmmu_cmd_cfgi_ste(0x100, true);
    }
    cmds[100] = vsmmu_cmd_sync(CMD_SYNC_SIG_NONE, 0, 0);
    for (int round = 0; round < 5; round++) {
        vsmmu_cmdq_push_list(h.f.t, cmds, 101);
        g_assert_cmpuint(vsmmu_cmdq_wait(h.f.t), ==, CERROR_NONE);
    }
    assert_alive(&h);
    g_assert_cmpuint(simhost_fails(h.f.sh, SIMHOST_K_VDEVICE_ALLOC), >=, 500);
    vsmmu_evtq_expect(h.f.t, &ev);
    g_assert_cmphex(vsmmu_evt_id(&ev), ==, 0x02);
    g_assert_cmphex(vsmmu_evt_sid(&ev), ==, 0x100);
    g_assert_cmpuint(simhost_attached(h.f.sh, 0, &kind, vste), !=, 0);
    g_assert_cmphex((vste[0] >> 1) & 7, ==, STE_CONFIG_ABORT);
    simhost_inject_clear(h.f.sh);
    unplug(&h, 0);
    err = hostile_end(&h);
    g_assert_cmpuint(count_lines(err, NULL), <=, QUIET_LINES);
}

/*
 * 1000 CFGI_STEs each installing a new vSTE (two CD tables in turn) or
 * everything (CFGI_ALL): one nested HWPT at a time, no object left over,
 * DMA translated by the last one.
 */
static void test_cfgi_ste_storm(void)
{
    Hostile h;
    SimhostOpts o = SIMHOST_OPTS_DEFAULT;
    VsmmuCdTable cdt2;
    uint64_t src, dst, ste2[VSMMU_STE_DWORDS];
    unsigned live;
    int64_t t0;

    if (!hostile_begin(&h)) {
        return;
    }
    hostile_start(&h, &o, NULL, NULL);
    accel_s1_setup(&h.f);
    vsmmu_cd_table_linear(h.f.t, &cdt2, 0);
    vsmmu_cd_write(h.f.t, vsmmu_cd_addr(h.f.t, &cdt2, 0), h.f.cd);
    vsmmu_ste_s1(ste2, cdt2.base, cdt2.fmt, cdt2.cdmax, STE_S1DSS_TERMINATE);
    live = simhost_live_objects(h.f.sh);
    t0 = g_get_monotonic_time();
    for (int i = 0; i < 1000; i++) {
        vsmmu_ste_write(h.f.t, h.f.t->sid, i & 1 ? ste2 : h.f.ste);
        g_assert_cmpuint(vsmmu_cmdq_issue_sync(h.f.t, i % 10 == 9 ?
                         vsmmu_cmd_cfgi_all() :
                         vsmmu_cmd_cfgi_ste(h.f.t->sid, true)), ==,
                         CERROR_NONE);
    }
    g_test_message("1000 CFGI_STE: %" PRId64 " ms",
                   (g_get_monotonic_time() - t0) / 1000);
    assert_alive(&h);
    g_assert_cmpuint(simhost_live_objects(h.f.sh), ==, live);
    src = vsmmu_alloc(h.f.t, 4096, 4096);
    dst = vsmmu_alloc(h.f.t, 4096, 4096);
    vsmmu_pt_map(&h.f.pt, IOVA_A, src, 4096, VSMMU_PT_READ);
    vsmmu_pt_map(&h.f.pt, IOVA_B, dst, 4096, VSMMU_PT_WRITE);
    fill_pattern(h.f.t, src, 4096, 4);
    g_assert_cmpuint(status_code(vsmmu_testdev_copy(h.f.t, IOVA_A, IOVA_B,
                                                    4096)), ==, 0);
    g_assert_true(check_pattern(h.f.t, dst, 4096, 4));
    g_free(hostile_end(&h));
}

static const struct {
    const char *path;
    GTestFunc fn;
} cases[] = {
    { "vsid/duplicate-after-renumber", test_dup_vsid },
    { "eventq/toggle-storm", test_eventqen_storm },
    { "eventq/toggle-storm-busy", test_eventqen_storm_busy },
    { "eventq/toggle-storm-refused", test_eventqen_storm_refused },
    { "eventq/unplug-busy", test_unplug_veventq_busy },
    { "host/log2vcmdqs-32", test_host_log2vcmdqs_32 },
    { "host/log2vcmdqs-255", test_host_log2vcmdqs_255 },
    { "host/log2vsids-16", test_host_log2vsids_16 },
    { "host/vintf-length", test_host_vintf_length },
    { "host/entry-num", test_host_entry_num },
    { "vevent/seq-gap", test_vevent_seq_gap },
    { "vevent/seq-out-of-range", test_vevent_seq_out_of_range },
    { "vevent/truncated", test_vevent_truncated },
    { "cmdqv/unplug-page-mapped", test_cmdqv_unplug_mapped },
    { "cmdqv/hw-queue-refused", test_cmdqv_hw_queue_refused },
    { "cmdqv/vevent-garbage", test_cmdqv_vevent_garbage },
    { "cmdqv/emulated-prod-storm", test_cmdqv_emulated_prod_storm },
    { "cmdqv/emulated-slices", test_cmdqv_emulated_slices },
    { "cmdqv/reset-live-queues", test_cmdqv_reset_live },
    { "ste/vdevice-refused-every-cfgi", test_vdevice_refused_every_cfgi },
    { "ste/cfgi-storm", test_cfgi_ste_storm },
};

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    for (int i = 0; i < ARRAY_SIZE(cases); i++) {
        g_autofree char *path = g_strdup_printf("/vsmmu-hostile-accel/%s",
                                                cases[i].path);

        vsmmu_qtest_add_isolated_func(path, cases[i].fn, CASE_TIMEOUT_S);
    }
    return g_test_run();
}
